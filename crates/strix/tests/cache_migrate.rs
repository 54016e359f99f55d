//! `cache migrate` on a DVC 2.x cache written by DVC 2.58.2, against DVC 3.67.1's own migration
//! of a copy of the same repository: the same messages and the same objects in the DVC 3.0
//! layout, hard-linked to the 2.x objects, which stay.
//!
//! Repositories are made by `strix init`: `dvc init` of DVC 2 fails on its own scm step here,
//! and the layout strix writes is the same.
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
    let env = TestEnv::initialized();
    // Text with CRLF (its 2.x and 3.0 hashes differ), binary (they agree), and a directory.
    env.write("data/t.txt", "x\r\ny\r\n");
    env.write("data/b.bin", b"\x00\x01bin");
    env.write("one.txt", "hello\r\n");
    assert_success(&env.dvc2(&["add", "-q", "data", "one.txt"]).unwrap());
    let legacy = tree_listing(env.repo().join(".dvc/cache"));
    assert_eq!(legacy.len(), 4, "{legacy:?}");

    let copy = copy_repo(&env);

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

/// `stage copy` of the `dvc.yaml` both `--dvc-files` tests run with DVC 2.
const COPY_STAGE: &str = "stages:\n  copy:\n    cmd: cp in.txt out.txt\n    deps:\n    - in.txt\n    outs:\n    - out.txt\n";

/// A copy of the repository (`cp -a`) for DVC to work on.
fn copy_repo(env: &TestEnv) -> std::path::PathBuf {
    let copy = env.root().join("copy");
    let cp = Command::new("cp")
        .arg("-a")
        .arg(env.repo())
        .arg(&copy)
        .status()
        .unwrap();
    assert!(cp.success());
    copy
}

/// The lines of a command's stdout before the "To track the changes with git" hint (whose
/// wording names the tool), sorted: DVC prints its updates in the order it walks the repository.
fn updates(out: &std::process::Output) -> Vec<String> {
    let mut lines: Vec<String> = stdout(out)
        .lines()
        .take_while(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    lines.sort();
    lines
}

/// `cache migrate --dvc-files` on a repository that DVC 2.58.2 wrote (`.dvc` files and a
/// `dvc.yaml` pipeline it ran), against DVC 3.67.1 on a copy: the same listing with `--dry`,
/// the same updates, byte-identical metafiles and the same cache (run-cache included).
#[test]
fn cache_migrate_dvc_files_matches_dvc() {
    if !common::have_dvc() || !common::have_dvc2() {
        return;
    }
    let env = TestEnv::initialized();
    env.write("text.txt", "a\r\nb\r\n");
    env.write("dir/x", "x\n");
    env.write("dir/y", "y\r\n");
    env.write("in.txt", "in\r\n");
    env.write(
        "dvc.yaml",
        format!("{COPY_STAGE}  nodeps:\n    cmd: echo hi > hi.txt\n    outs:\n    - hi.txt\n"),
    );
    assert_success(&env.dvc2(&["add", "-q", "text.txt", "dir"]).unwrap());
    assert_success(&env.dvc2(&["repro", "-q"]).unwrap());
    let before = std::fs::read_to_string(env.repo().join("dvc.lock")).unwrap();
    assert!(!before.contains("hash: md5"), "DVC 2 wrote it: {before}");

    let copy = copy_repo(&env);

    let dry = env.strix(&["cache", "migrate", "--dvc-files", "--dry"]);
    assert_success(&dry);
    assert_eq!(
        stdout(&dry),
        stdout(
            &env.dvc_in(&copy, &["cache", "migrate", "--dvc-files", "--dry"])
                .unwrap()
        )
    );
    assert!(
        stdout(&dry).ends_with(
            "Entries in following DVC files will be migrated to the 3.0 format:\n\
             \tdir.dvc\n\tdvc.yaml (dvc.lock)\n\ttext.txt.dvc\n"
        ),
        "{}",
        stdout(&dry)
    );
    assert_eq!(env.read_string("dvc.lock"), before, "--dry changes nothing");

    let ours = env.strix(&["cache", "migrate", "--dvc-files"]);
    assert_success(&ours);
    let theirs = env
        .dvc_in(&copy, &["cache", "migrate", "--dvc-files"])
        .unwrap();
    assert_success(&theirs);
    assert_eq!(updates(&ours), updates(&theirs));
    assert!(
        stdout(&ours).contains("\tgit add dir.dvc dvc.lock text.txt.dvc\n"),
        "{}",
        stdout(&ours)
    );
    for f in ["text.txt.dvc", "dir.dvc", "dvc.lock"] {
        let mine = env.read_string(f);
        assert_eq!(mine, std::fs::read_to_string(copy.join(f)).unwrap(), "{f}");
        assert!(mine.contains("hash: md5"), "{f}: {mine}");
    }
    assert_eq!(
        tree_listing(env.repo().join(".dvc/cache")),
        tree_listing(copy.join(".dvc/cache"))
    );
    // Each tool finds the other's result clean, and nothing is left to migrate.
    assert_eq!(
        stdout(&env.dvc(&["status"]).unwrap()),
        "Data and pipelines are up to date.\n"
    );
    assert_eq!(
        env.strix_ok(&["status"]),
        "Data and pipelines are up to date.\n"
    );
    assert_eq!(
        env.strix_ok(&["cache", "migrate", "--dvc-files"]),
        "Migrated 0 files to DVC 3.0 cache location.\n\
         No DVC files in the repo to migrate to the 3.0 format.\n"
    );
}

/// A DVC 2 entry whose data is missing or changed keeps its entry (DVC writes the old
/// dos2unix hash under `hash: md5`, or commits the change): strix warns, names the path and
/// says what to do, and migrates the rest.
#[test]
fn cache_migrate_dvc_files_keeps_entries_it_cannot_vouch_for() {
    if !common::have_dvc2() {
        return;
    }
    let env = TestEnv::initialized();
    env.write("gone.txt", "gone\r\n");
    env.write("edited.txt", "old\r\n");
    env.write("kept.txt", "kept\r\n");
    env.write("in.txt", "in\r\n");
    env.write("dvc.yaml", COPY_STAGE);
    assert_success(
        &env.dvc2(&["add", "-q", "gone.txt", "edited.txt", "kept.txt"])
            .unwrap(),
    );
    assert_success(&env.dvc2(&["repro", "-q"]).unwrap());
    let lock = env.read_string("dvc.lock");
    let gone = env.read_string("gone.txt.dvc");
    let edited = env.read_string("edited.txt.dvc");
    std::fs::remove_file(env.repo().join("gone.txt")).unwrap();
    std::fs::remove_file(env.repo().join("out.txt")).unwrap();
    env.write("edited.txt", "new\r\n");

    let out = env.strix(&["cache", "migrate", "--dvc-files"]);
    assert_success(&out);
    let err = common::stderr(&out);
    assert!(
        err.contains("'gone.txt' is missing: its entry in 'gone.txt.dvc' keeps its DVC 2 hash")
            && err.contains("strix checkout gone.txt.dvc"),
        "{err}"
    );
    assert!(
        err.contains("'edited.txt' changed since it was recorded")
            && err.contains("strix commit -f edited.txt.dvc"),
        "{err}"
    );
    assert!(
        err.contains("stage 'copy' changed since dvc.lock recorded it"),
        "{err}"
    );
    assert_eq!(env.read_string("gone.txt.dvc"), gone);
    assert_eq!(env.read_string("edited.txt.dvc"), edited);
    assert_eq!(env.read_string("dvc.lock"), lock);
    assert_eq!(updates(&out)[1..], ["Updating DVC file 'kept.txt.dvc'"]);
    assert!(env.read_string("kept.txt.dvc").contains("hash: md5"));

    // Once restored, the rest migrates.
    assert_success(&env.strix(&["checkout", "-q", "gone.txt.dvc", "out.txt"]));
    let again = env.strix(&["cache", "migrate", "--dvc-files"]);
    assert_success(&again);
    assert!(env.read_string("gone.txt.dvc").contains("hash: md5"));
    assert!(env.read_string("dvc.lock").contains("hash: md5"));
    assert_eq!(env.read_string("edited.txt.dvc"), edited);
}
