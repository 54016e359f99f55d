//! Outputs that name their own remote (`remote:` in a `.dvc` file or on a `dvc.yaml` output):
//! push, fetch, pull and `status -c` send each output's data to that remote and the rest to the
//! default one, and `-r NAME` leaves out outputs that belong to another remote, as DVC 3.67.1
//! does. DVC pulls what strix placed, and strix pulls what DVC placed.
//!
//! Needs `STRIX_TEST_DVC`; skipped without it unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_success, have_dvc, md5_hex, stdout};
use std::path::Path;

/// Whether the local remote at `root` holds the object of `content`.
fn holds(root: &Path, content: &str) -> bool {
    let md5 = md5_hex(content.as_bytes());
    root.join("files/md5")
        .join(&md5[..2])
        .join(&md5[2..])
        .is_file()
}

/// Gives the only output of the `.dvc` file `name` the remote `remote`.
fn send_to(env: &TestEnv, name: &str, remote: &str) {
    let mut text = env.read_string(name);
    text.push_str(&format!("  remote: {remote}\n"));
    env.write(name, text);
}

#[test]
fn each_output_travels_through_its_own_remote() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    let main = env.mkdir("main-remote");
    let other = env.mkdir("other-remote");
    assert_success(&env.strix(&["remote", "add", "-d", "main", main.to_str().unwrap()]));
    assert_success(&env.strix(&["remote", "add", "other", other.to_str().unwrap()]));
    env.write("a.txt", "a\n");
    env.write("b.txt", "b\n");
    assert_success(&env.strix(&["add", "-q", "a.txt", "b.txt"]));
    send_to(&env, "b.txt.dvc", "other");
    env.write(
        "dvc.yaml",
        "stages:\n  s:\n    cmd: cat a.txt a.txt > s.txt\n    deps: [a.txt]\n    outs:\n    \
         - s.txt:\n        remote: other\n",
    );
    assert_success(&env.strix(&["repro", "-q"]));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "data"]));

    // `-r main` leaves out what belongs to `other`.
    assert_eq!(env.strix_ok(&["push", "-r", "main"]), "1 file pushed\n");
    assert!(holds(&main, "a\n"));
    assert!(!holds(&main, "b\n") && !holds(&other, "b\n"));
    // Without `-r`, each output goes where it says.
    assert_eq!(env.strix_ok(&["push"]), "2 files pushed\n");
    assert!(holds(&other, "b\n") && holds(&other, "a\na\n"));
    assert!(!holds(&main, "b\n") && !holds(&main, "a\na\n") && !holds(&other, "a\n"));
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "Cache and remote 'main' are in sync.\n"
    );

    // DVC pulls all three from where strix put them.
    let theirs = env.root().join("dvc-clone");
    assert_success(&env.git(&[
        "clone",
        "-q",
        env.repo().to_str().unwrap(),
        theirs.to_str().unwrap(),
    ]));
    let out = env.dvc_in(&theirs, &["pull"]).unwrap();
    assert_success(&out);
    for (f, content) in [("a.txt", "a\n"), ("b.txt", "b\n"), ("s.txt", "a\na\n")] {
        assert_eq!(env.read_string(theirs.join(f)), content, "dvc pull of {f}");
    }

    // DVC pushes a new output that names `other`; strix pulls it in a fresh clone, from there.
    env.write("c.txt", "c\n");
    assert_success(&env.dvc(&["add", "-q", "c.txt"]).unwrap());
    send_to(&env, "c.txt.dvc", "other");
    assert_success(&env.dvc(&["push"]).unwrap());
    assert!(holds(&other, "c\n") && !holds(&main, "c\n"));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "c"]));
    let ours = env.root().join("strix-clone");
    assert_success(&env.git(&[
        "clone",
        "-q",
        env.repo().to_str().unwrap(),
        ours.to_str().unwrap(),
    ]));
    let out = env.strix_in(&ours, &["pull"]);
    assert_success(&out);
    assert_eq!(
        stdout(&out),
        "A\ta.txt\nA\tb.txt\nA\tc.txt\nA\ts.txt\n4 files fetched and 4 files added\n"
    );
    for (f, content) in [
        ("a.txt", "a\n"),
        ("b.txt", "b\n"),
        ("c.txt", "c\n"),
        ("s.txt", "a\na\n"),
    ] {
        assert_eq!(env.read_string(ours.join(f)), content, "strix pull of {f}");
    }

    // `repro --pull` fetches an unchanged stage's output from its own remote too.
    let pulled = env.root().join("repro-clone");
    assert_success(&env.git(&[
        "clone",
        "-q",
        env.repo().to_str().unwrap(),
        pulled.to_str().unwrap(),
    ]));
    assert_success(&env.strix_in(&pulled, &["pull", "-q", "a.txt.dvc"]));
    let out = env.strix_in(&pulled, &["repro", "--pull"]);
    assert_success(&out);
    assert!(
        stdout(&out).contains("Pulling data for stage: 's'"),
        "{}",
        stdout(&out)
    );
    assert!(!stdout(&out).contains("Running stage"), "{}", stdout(&out));
    assert_eq!(env.read_string(pulled.join("s.txt")), "a\na\n");

    // `status -c` compares each output with its own remote.
    let md5 = md5_hex(b"b\n");
    std::fs::remove_file(other.join("files/md5").join(&md5[..2]).join(&md5[2..])).unwrap();
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "\tnew:                b.txt\n"
    );
    assert_eq!(
        env.strix_ok(&["status", "-c", "-r", "main"]),
        "Cache and remote 'main' are in sync.\n"
    );
}
