//! `cache migrate` on a DVC 2.x cache written by DVC 2.58.2, against DVC 3.67.1's own migration
//! of a copy of the same repository: the same messages and the same objects in the DVC 3.0
//! layout, hard-linked to the 2.x objects, which stay.
//!
//! Needs `STRIX_TEST_DVC` and `STRIX_TEST_DVC2`; skipped without them unless
//! `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_success, stdout, tree_listing};
use std::os::unix::fs::MetadataExt;
use std::process::Command;

#[test]
fn cache_migrate_matches_dvc() {
    if !common::have_dvc() || !common::have_dvc2() {
        return;
    }
    let env = TestEnv::new();
    env.git(&["init", "-q"]);
    // `dvc init` of DVC 2 fails on its own scm step here; the layout strix writes is the same.
    assert_success(&env.strix(&["init", "-q"]));
    // Text with CRLF (its 2.x and 3.0 hashes differ), binary (they agree), and a directory.
    env.write("data/t.txt", "x\r\ny\r\n");
    env.write("data/b.bin", b"\x00\x01bin");
    env.write("one.txt", "hello\r\n");
    assert_success(&env.dvc2(&["add", "-q", "data", "one.txt"]).unwrap());
    let legacy = tree_listing(env.repo().join(".dvc/cache"));
    assert_eq!(legacy.len(), 4, "{legacy:?}");

    let copy = env.root().join("copy");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(env.repo())
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());

    let dry = env.strix(&["cache", "migrate", "--dry"]);
    assert_success(&dry);
    assert_eq!(
        stdout(&dry),
        stdout(&env.dvc_in(&copy, &["cache", "migrate", "--dry"]).unwrap())
    );
    assert_eq!(
        stdout(&dry),
        "4 files will be re-hashed and migrated to the DVC 3.0 cache location.\n"
    );
    assert_eq!(
        tree_listing(env.repo().join(".dvc/cache")),
        legacy,
        "--dry changes nothing"
    );

    let ours = env.strix(&["cache", "migrate"]);
    assert_success(&ours);
    let theirs = env.dvc_in(&copy, &["cache", "migrate"]).unwrap();
    assert_success(&theirs);
    assert_eq!(stdout(&ours), stdout(&theirs));
    assert_eq!(
        stdout(&ours),
        "Migrated 4 files to DVC 3.0 cache location.\n"
    );
    let migrated = tree_listing(env.repo().join(".dvc/cache"));
    assert_eq!(migrated, tree_listing(copy.join(".dvc/cache")));
    assert_eq!(migrated.len(), 8, "{migrated:?}");
    for (path, entry) in &legacy {
        assert_eq!(
            migrated.get(path),
            Some(entry),
            "the 2.x object {path} stays"
        );
    }
    let text_v3 = format!(".dvc/cache/files/md5/{}", {
        let h = common::md5_hex(b"x\r\ny\r\n");
        format!("{}/{}", &h[..2], &h[2..])
    });
    assert_eq!(
        std::fs::metadata(env.repo().join(&text_v3))
            .unwrap()
            .nlink(),
        2,
        "linked to its 2.x object, not copied"
    );

    // Nothing is left to migrate.
    assert_eq!(
        env.strix_ok(&["cache", "migrate"]),
        "Migrated 0 files to DVC 3.0 cache location.\n"
    );
}
