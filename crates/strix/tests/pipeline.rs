//! Pipelines: `stage add`, `repro`, `status` and `dag` against real DVC.
//!
//! Tests that compare with DVC need `STRIX_TEST_DVC`; without it they are
//! skipped unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_failure, assert_success, stderr, stdout};
use std::path::Path;
use std::time::{Duration, Instant};

const TRAIN_CMD: &str =
    "mkdir -p model && cp prep.txt model/weights && printf '{\"acc\": 0.5}' > metrics.json";

fn vector(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/dvc-vectors/expected/pipeline")
            .join(name),
    )
    .unwrap()
}

fn have_dvc() -> bool {
    let have = common::dvc_bin().is_some();
    if !have {
        common::skip("DVC is not installed (set STRIX_TEST_DVC)");
    }
    have
}

/// A repo with raw.txt tracked and params.yaml, like make-vectors.sh.
fn setup(env: &TestEnv) {
    env.git(&["init", "-q"]);
    assert_success(&env.strix(&["init", "-q"]));
    env.write("raw.txt", "raw data\n");
    env.write(
        "params.yaml",
        "lr: 0.001\ntrain:\n  epochs: 10\n  layers: [1, 2]\nseed: 42\n",
    );
    assert_success(&env.strix(&["add", "-q", "raw.txt"]));
}

/// Adds the vector's two stages with `tool` ("strix" or "dvc").
fn add_stages(env: &TestEnv, dvc: bool) {
    let a: &[&str] = &[
        "stage",
        "add",
        "-q",
        "-n",
        "prepare",
        "-d",
        "raw.txt",
        "-o",
        "prep.txt",
        "cp raw.txt prep.txt",
    ];
    let b: &[&str] = &[
        "stage",
        "add",
        "-q",
        "-n",
        "train",
        "-d",
        "prep.txt",
        "-p",
        "lr,train",
        "-o",
        "model",
        "-M",
        "metrics.json",
        TRAIN_CMD,
    ];
    for args in [a, b] {
        let out = if dvc {
            env.dvc(args).unwrap()
        } else {
            env.strix(args)
        };
        assert_success(&out);
    }
}

#[test]
fn stage_add_writes_vector_dvc_yaml() {
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, false);
    assert_eq!(env.read_string("dvc.yaml"), vector("dvc.yaml"));
    assert_eq!(
        env.read_string(".gitignore"),
        "/raw.txt\n/prep.txt\n/model\n"
    );
    // Adding again needs -f.
    let out = env.strix(&[
        "stage",
        "add",
        "-n",
        "prepare",
        "-d",
        "raw.txt",
        "cat raw.txt",
    ]);
    assert_failure(&out);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    let list = env.strix_ok(&["stage", "list"]);
    assert!(
        list.contains("prepare") && list.contains("Outputs prep.txt"),
        "{list}"
    );
}

#[test]
fn stage_add_keeps_comments() {
    let env = TestEnv::new();
    setup(&env);
    env.write(
        "dvc.yaml",
        "# my pipeline\nstages:\n  first:  # the first\n    cmd: echo hi\n",
    );
    assert_success(&env.strix(&[
        "stage",
        "add",
        "-n",
        "second",
        "-d",
        "raw.txt",
        "cat raw.txt",
    ]));
    let text = env.read_string("dvc.yaml");
    assert!(
        text.starts_with("# my pipeline\nstages:\n  first:  # the first\n"),
        "{text}"
    );
    assert!(text.contains("  second:\n"), "{text}");
}

#[test]
fn strix_repro_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, true);
    assert_eq!(env.read_string("dvc.yaml"), vector("dvc.yaml"));
    let out = env.strix(&["repro"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains("Running stage 'prepare':\n> cp raw.txt prep.txt\n"),
        "{text}"
    );
    assert!(text.contains("Generating lock file 'dvc.lock'"), "{text}");
    assert_eq!(env.read_string("dvc.lock"), vector("dvc.lock"));
    assert_eq!(env.read_string(".gitignore"), vector("gitignore"));
    // DVC agrees that nothing changed.
    let st = env.dvc(&["status"]).unwrap();
    assert_success(&st);
    assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
    let rp = env.dvc(&["repro"]).unwrap();
    assert_success(&rp);
    assert!(!stdout(&rp).contains("Running stage"), "{}", stdout(&rp));
    assert_eq!(env.read_string("dvc.lock"), vector("dvc.lock"));
    // The run-cache entries have DVC's names.
    let runs = env.repo().join(".dvc/cache/runs");
    for prefix in ["6d/6dc1dc78", "ce/cee7deee"] {
        let (dir, key) = prefix.split_once('/').unwrap();
        let found = std::fs::read_dir(runs.join(dir))
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(key));
        assert!(found, "run-cache key {prefix} missing");
    }
}

#[test]
fn dvc_repro_then_strix_is_clean() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, false);
    assert_success(&env.dvc(&["repro", "-q"]).unwrap());
    let lock = env.read_string("dvc.lock");
    assert_eq!(lock, vector("dvc.lock"));
    let st = env.strix(&["status"]);
    assert_success(&st);
    assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
    let out = env.strix(&["repro"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(!text.contains("Running stage"), "{text}");
    assert!(
        text.starts_with(
            "'raw.txt.dvc' didn't change, skipping\nStage 'prepare' didn't change, skipping\nStage 'train' didn't change, skipping\n"
        ),
        "{text}"
    );
    assert_eq!(env.read_string("dvc.lock"), lock);
    // A param change shows up like DVC shows it.
    env.write(
        "params.yaml",
        "lr: 0.01\ntrain:\n  epochs: 10\n  layers: [1, 2]\nseed: 42\n",
    );
    let ours = env.strix(&["status", "--json"]);
    let theirs = env.dvc(&["status", "--json"]).unwrap();
    let a: serde_json::Value = serde_json::from_str(&stdout(&ours)).unwrap();
    let b: serde_json::Value = serde_json::from_str(&stdout(&theirs)).unwrap();
    assert_eq!(a, b);
    let ours = env.strix(&["status"]);
    let theirs = env.dvc(&["status"]).unwrap();
    assert_eq!(stdout(&ours), stdout(&theirs));
}

#[test]
fn restore_from_run_cache() {
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, false);
    assert_success(&env.strix(&["repro", "-q"]));
    std::fs::remove_file(env.repo().join("dvc.lock")).unwrap();
    std::fs::remove_file(env.repo().join("prep.txt")).unwrap();
    let out = env.strix(&["repro"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains("Stage 'prepare' is cached - skipping run"),
        "{text}"
    );
    assert_eq!(env.read_string("prep.txt"), "raw data\n");
    assert_eq!(env.read_string("dvc.lock"), vector("dvc.lock"));
}

#[test]
fn failing_command_keeps_lock() {
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, false);
    assert_success(&env.strix(&["repro", "-q"]));
    let lock = env.read_string("dvc.lock");
    env.write(
        "dvc.yaml",
        vector("dvc.yaml").replace("cp raw.txt prep.txt", "exit 3"),
    );
    let out = env.strix(&["repro"]);
    assert_eq!(out.status.code(), Some(255), "{}", stderr(&out));
    assert!(stderr(&out).contains("exited with 3"), "{}", stderr(&out));
    assert_eq!(env.read_string("dvc.lock"), lock);
    env.write(
        "dvc.yaml",
        vector("dvc.yaml").replace("cp raw.txt prep.txt", "kill -9 $$"),
    );
    let out = env.strix(&["repro"]);
    assert_failure(&out);
    assert!(
        stderr(&out).contains("killed by signal 9"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.read_string("dvc.lock"), lock);
}

#[test]
fn parallel_independent_stages() {
    let env = TestEnv::new();
    env.git(&["init", "-q"]);
    assert_success(&env.strix(&["init", "-q"]));
    let mut yaml = String::from("stages:\n");
    for i in 0..8 {
        yaml.push_str(&format!(
            "  s{i}:\n    cmd: sleep 1 && echo {i} > o{i}.txt\n    outs:\n    - o{i}.txt\n"
        ));
    }
    env.write("dvc.yaml", yaml);
    let t = Instant::now();
    let out = env.strix(&["repro", "-j", "2"]);
    assert_success(&out);
    assert!(
        t.elapsed() < Duration::from_secs(6),
        "took {:?}",
        t.elapsed()
    );
    for i in 0..8 {
        assert_eq!(env.read_string(format!("o{i}.txt")), format!("{i}\n"));
    }
    let lock = env.read_string("dvc.lock");
    let entries = lock
        .lines()
        .filter(|l| l.starts_with("  s") && l.ends_with(':'))
        .count();
    assert_eq!(entries, 8, "{lock}");
    // Output lines are prefixed with the stage name when -j > 1.
    assert!(stdout(&out).contains("[s3] > sleep 1"), "{}", stdout(&out));
}

#[test]
fn graph_errors() {
    let env = TestEnv::new();
    env.git(&["init", "-q"]);
    assert_success(&env.strix(&["init", "-q"]));
    env.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n",
    );
    let out = env.strix(&["repro"]);
    assert_failure(&out);
    assert!(stderr(&out).contains("cycle"), "{}", stderr(&out));
    env.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: x\n    outs: [o]\n  b:\n    cmd: y\n    outs: [o]\n",
    );
    let out = env.strix(&["repro"]);
    assert_failure(&out);
    assert!(
        stderr(&out).contains("output 'o' is specified in"),
        "{}",
        stderr(&out)
    );
    let out = env.strix(&["dag"]);
    assert_failure(&out);
}

#[test]
fn dag_dot() {
    let env = TestEnv::new();
    setup(&env);
    add_stages(&env, false);
    let dot = env.strix_ok(&["dag", "--dot"]);
    assert!(dot.contains("\"prepare\" -> \"train\";"), "{dot}");
    let md = env.strix_ok(&["dag", "--md"]);
    assert!(md.starts_with("```mermaid\nflowchart TD\n"), "{md}");
}
