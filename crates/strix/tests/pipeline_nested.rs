//! Pipelines of nested `dvc.yaml` files: `freeze`/`unfreeze` targets
//! (`sub/dvc.yaml:name`, `../dvc.yaml:name`, a bare name for the file of the
//! current directory), `stage add` and `run` from a subdirectory (they write
//! that directory's `dvc.yaml`), checked against DVC 3.67.1 and DVC 2.58.2.
//!
//! Tests that compare with DVC need `STRIX_TEST_DVC` (`STRIX_TEST_DVC2` for
//! `run`); without them they are skipped unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_exit_code, assert_success, stderr, stdout};
use std::process::Output;

fn have(bin: Option<std::path::PathBuf>, what: &str) -> bool {
    if bin.is_none() {
        common::skip(&format!("{what} is not installed"));
    }
    bin.is_some()
}

const ROOT_YAML: &str = "stages:\n  r1:\n    cmd: echo r\n";
const SUB_YAML: &str = "stages:\n  s1:\n    cmd: echo hi > o.txt\n    outs:\n    - o.txt\n";

/// A repository with a root `dvc.yaml` and `sub/dvc.yaml`, committed.
fn nested_repo() -> TestEnv {
    let env = TestEnv::initialized();
    env.write("dvc.yaml", ROOT_YAML);
    env.write("sub/dvc.yaml", SUB_YAML);
    std::fs::create_dir_all(env.repo().join("other")).unwrap();
    env
}

/// Runs strix (`dvc` false) or DVC 3 in `dir` (relative to the repo).
fn tool_in(env: &TestEnv, dvc: bool, dir: &str, args: &[&str]) -> Output {
    let dir = env.repo().join(dir);
    if dvc {
        env.dvc_in(&dir, args).expect("dvc")
    } else {
        env.strix_in(&dir, args)
    }
}

/// The text of the `ERROR:`/`error:` line, without its prefix.
fn error_text(out: &Output) -> String {
    let e = stderr(out);
    let line = e.lines().find(|l| l.to_lowercase().starts_with("error: "));
    line.map(|l| l[7..].to_owned()).unwrap_or(e)
}

#[test]
fn freeze_targets_nested_files_like_dvc() {
    if !have(common::dvc_bin(), "DVC") {
        return;
    }
    // (directory, command, target, exit code)
    let steps: &[(&str, &str, &str, i32)] = &[
        (".", "freeze", "sub/dvc.yaml:s1", 0),
        (".", "unfreeze", "s1", 1),
        ("sub", "unfreeze", "s1", 0),
        ("sub", "freeze", "s1", 0),
        ("sub", "freeze", "r1", 1),
        ("sub", "freeze", "../dvc.yaml:r1", 0),
        ("sub", "freeze", "../dvc.yaml:nope", 1),
        (".", "freeze", "sub/dvc.yaml", 1),
        ("other", "freeze", "r1", 1),
        ("other", "unfreeze", "../sub/dvc.yaml:s1", 0),
    ];
    let mut seen = Vec::new();
    for dvc in [false, true] {
        let env = nested_repo();
        let mut log = Vec::new();
        for (dir, cmd, target, code) in steps {
            let out = tool_in(&env, dvc, dir, &[cmd, target]);
            assert_exit_code(&out, *code);
            let msg = if *code == 0 {
                stdout(&out)
            } else {
                error_text(&out)
            };
            log.push((
                msg,
                env.read_string("dvc.yaml"),
                env.read_string("sub/dvc.yaml"),
            ));
        }
        seen.push(log);
    }
    assert_eq!(seen[0], seen[1]);
    let strix = &seen[0];
    assert_eq!(strix[0].0, "Modifying stage 's1' in 'sub/dvc.yaml'\n");
    assert_eq!(strix[0].2, format!("{SUB_YAML}    frozen: true\n"));
    assert_eq!(
        strix[1].0.trim(),
        "failed to unfreeze 's1' - Stage 's1' not found inside 'dvc.yaml' file"
    );
    assert_eq!(strix[5].0, "Modifying stage 'r1' in '../dvc.yaml'\n");
    assert_eq!(strix[5].1, format!("{ROOT_YAML}    frozen: true\n"));
    assert!(
        strix[7].0.contains("`sub/dvc.yaml:stage_name`"),
        "{}",
        strix[7].0
    );
    assert!(
        strix[8].0.contains("'dvc.yaml' does not exist"),
        "{}",
        strix[8].0
    );
    assert_eq!(strix[9].2, SUB_YAML);
}

#[test]
fn stage_add_in_a_subdirectory_writes_its_dvc_yaml_like_dvc() {
    if !have(common::dvc_bin(), "DVC") {
        return;
    }
    let mut seen = Vec::new();
    for dvc in [false, true] {
        let env = nested_repo();
        env.write("sub/o.txt", "hi\n");
        let out = tool_in(
            &env,
            dvc,
            "sub",
            &[
                "stage",
                "add",
                "-n",
                "s2",
                "-d",
                "o.txt",
                "-o",
                "p.txt",
                "cp o.txt p.txt",
            ],
        );
        assert_success(&out);
        let added = stdout(&out).lines().next().unwrap_or("").to_owned();
        // A directory without a dvc.yaml gets one; `--run` runs the stage
        // there and writes the dvc.lock beside it.
        let out = tool_in(
            &env,
            dvc,
            "other",
            &[
                "stage",
                "add",
                "--run",
                "-n",
                "q",
                "-w",
                "..",
                "-o",
                "q.txt",
                "echo q > q.txt",
            ],
        );
        assert_success(&out);
        seen.push((
            added,
            env.read_string("dvc.yaml"),
            env.read_string("sub/dvc.yaml"),
            env.read_string("sub/.gitignore"),
            env.read_string("other/dvc.yaml"),
            env.read_string("other/dvc.lock"),
            env.read_string(".gitignore"),
        ));
        if !dvc {
            // DVC agrees the stage strix ran is up to date; the added one
            // runs from the root.
            let st = env.dvc(&["status", "other/dvc.yaml:q"]).expect("dvc");
            assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
            let out = env.strix(&["repro", "sub/dvc.yaml:s2"]);
            assert_success(&out);
            assert_eq!(env.read_string("sub/p.txt"), "hi\n");
        }
    }
    assert_eq!(seen[0], seen[1]);
    let s = &seen[0];
    assert_eq!(s.0, "Added stage 's2' in 'dvc.yaml'");
    assert_eq!(s.1, ROOT_YAML);
    assert!(
        s.2.ends_with(
            "  s2:\n    cmd: cp o.txt p.txt\n    deps:\n    - o.txt\n    outs:\n    - p.txt\n"
        ),
        "{}",
        s.2
    );
    assert_eq!(s.3, "/p.txt\n");
    assert_eq!(
        s.4,
        "stages:\n  q:\n    cmd: echo q > q.txt\n    wdir: ..\n    outs:\n    - q.txt\n"
    );
    assert!(
        s.5.contains("  q:\n    cmd: echo q > q.txt\n    outs:\n    - path: q.txt\n"),
        "{}",
        s.5
    );
    assert_eq!(s.6, "/q.txt\n");
}

/// `run` (DVC 2) from a subdirectory: its `dvc.yaml` and `dvc.lock`.
#[test]
fn run_in_a_subdirectory_matches_dvc2() {
    let Some(dvc2) = common::dvc2_bin() else {
        have(None, "DVC 2");
        return;
    };
    let mut seen = Vec::new();
    for with_dvc2 in [false, true] {
        let env = nested_repo();
        env.write("sub/in.txt", "in\n");
        let args = [
            "run",
            "-n",
            "copy",
            "-d",
            "in.txt",
            "-o",
            "out.txt",
            "cp in.txt out.txt",
        ];
        let sub = env.repo().join("sub");
        let out = if with_dvc2 {
            env.command_in(&sub, &dvc2).args(args).output().unwrap()
        } else {
            env.strix_in(&sub, &args)
        };
        assert_success(&out);
        seen.push((
            env.read_string("dvc.yaml"),
            env.read_string("sub/dvc.yaml"),
            // strix writes DVC 3's lock entries (with `hash: md5`).
            env.read_string("sub/dvc.lock")
                .replace("      hash: md5\n", ""),
            env.read_string("sub/out.txt"),
            env.repo().join("dvc.lock").exists(),
        ));
        if !with_dvc2 {
            let out = env.strix(&["status"]);
            assert!(!stdout(&out).contains("copy"), "{}", stdout(&out));
        }
    }
    assert_eq!(seen[0], seen[1]);
    assert_eq!(seen[0].0, ROOT_YAML);
    assert!(
        seen[0].1.contains("  copy:\n    cmd: cp in.txt out.txt\n"),
        "{}",
        seen[0].1
    );
    assert_eq!(seen[0].3, "in\n");
    assert!(!seen[0].4, "a dvc.lock was written at the root");
}
