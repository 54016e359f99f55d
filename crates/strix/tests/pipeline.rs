//! Pipelines: `stage add`, `repro`, `status` and `dag` against real DVC.
//!
//! Tests that compare with DVC need `STRIX_TEST_DVC`; without it they are
//! skipped unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_failure, assert_success, have_dvc, stderr, stdout};
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
    let env = TestEnv::initialized();
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
    let env = TestEnv::initialized();
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

/// A `dvc.yaml` from `(name, deps, outs)` triples.
fn dvc_yaml(stages: &[(&str, &[&str], &[&str])]) -> String {
    let mut s = String::from("stages:\n");
    for (name, deps, outs) in stages {
        s.push_str(&format!("  {name}:\n    cmd: echo {name}\n"));
        if !deps.is_empty() {
            s.push_str(&format!("    deps: [{}]\n", deps.join(", ")));
        }
        if !outs.is_empty() {
            s.push_str(&format!("    outs: [{}]\n", outs.join(", ")));
        }
    }
    s
}

type Stages = &'static [(
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
)];

const CHAIN3: Stages = &[
    ("prepare", &["raw.txt"], &["prep.txt"]),
    ("train", &["prep.txt"], &["model.pkl"]),
    ("evaluate", &["model.pkl"], &["metrics.json"]),
];
const DIAMOND: Stages = &[
    ("split", &[], &["a", "b"]),
    ("left", &["a"], &["l"]),
    ("right_side", &["b"], &["r"]),
    ("join", &["l", "r"], &["j"]),
];
const FAN_OUT: Stages = &[
    ("source", &[], &["data"]),
    ("one", &["data"], &["o1"]),
    ("two", &["data"], &["o2"]),
    ("three", &["data"], &["o3"]),
    ("four", &["data"], &["o4"]),
];
const FAN_IN: Stages = &[
    ("zed", &[], &["z"]),
    ("alpha", &[], &["a"]),
    ("mid", &[], &["m"]),
    ("b", &[], &["b.txt"]),
    ("combine", &["z", "a", "m", "b.txt"], &["all"]),
];
/// Two pipelines of the same size (with a smaller one, DVC takes its nodes
/// in Python set order, which changes from run to run).
const TWO_PIPELINES: Stages = &[
    ("p1", &[], &["x1"]),
    ("q1", &[], &["y1"]),
    ("q2", &[], &["y2"]),
    ("p2", &["x1"], &["x2"]),
    ("p3", &["x2"], &["x3"]),
    ("q3", &["y1", "y2"], &["y3"]),
];
/// Long edges (through dummy vertices), nodes pushed down a layer, and
/// outputs in directories (the `--outs` graph orders them as a trie).
const MIX10: Stages = &[
    ("s1", &["raw"], &["data/d1"]),
    ("s2", &["data/d1"], &["d2"]),
    ("s3", &["data/d1"], &["data/d3"]),
    ("s4", &["d2", "data/d3"], &["d4"]),
    ("s5", &["d4", "data/d1"], &["d5"]),
    ("s6", &["data/d3"], &["data/d6", "extra"]),
    ("s7", &["d5", "data/d6"], &["d7"]),
    ("s8", &["d2"], &["d8"]),
    ("s9", &["d8", "d7"], &["d9"]),
    ("s10", &["d9"], &["model"]),
];

/// `dag` draws the same ASCII pictures as DVC, byte for byte (trailing
/// spaces included), for pipelines of several shapes, with `--outs`, with a
/// target and with `--full`.
#[test]
fn dag_ascii_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let cases: &[(&str, Stages, &[&[&str]])] = &[
        ("chain", CHAIN3, &[&["dag"], &["dag", "--outs"]]),
        (
            "diamond",
            DIAMOND,
            &[&["dag"], &["dag", "--outs"], &["dag", "left"]],
        ),
        ("fan-out", FAN_OUT, &[&["dag"], &["dag", "--full", "two"]]),
        ("fan-in", FAN_IN, &[&["dag"], &["dag", "--outs"]]),
        (
            "two pipelines",
            TWO_PIPELINES,
            &[&["dag"], &["dag", "--outs"]],
        ),
        (
            "mix of 10",
            MIX10,
            &[
                &["dag"],
                &["dag", "--outs"],
                &["dag", "s7"],
                &["dag", "--full", "s7"],
                &["dag", "--outs", "s9"],
            ],
        ),
    ];
    for (what, stages, runs) in cases {
        let env = TestEnv::initialized();
        env.write("dvc.yaml", dvc_yaml(stages));
        for args in *runs {
            let ours = env.strix(args);
            let theirs = env.dvc(args).unwrap();
            assert_success(&ours);
            assert_success(&theirs);
            let (ours, theirs) = (stdout(&ours), stdout(&theirs));
            assert!(theirs.contains("+-"), "{what} {args:?}: {theirs}");
            assert_eq!(
                ours, theirs,
                "{what} {args:?}\n--- strix\n{ours}\n--- dvc\n{theirs}"
            );
        }
    }
}

/// DVC orders its graph as its walk of the repository finds the metafiles
/// (directory listing order, not sorted), and the drawing follows that
/// order: data sources in the root and in a subdirectory around `dvc.yaml`.
/// Every format's output is compared whole.
#[test]
fn dag_node_order_follows_the_repository_walk() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    for f in ["zed", "alpha", "mid", "b", "sub/c", "sub/a"] {
        env.write(format!("{f}.txt"), format!("{f}\n"));
        assert_success(&env.strix(&["add", "-q", &format!("{f}.txt")]));
    }
    env.write(
        "dvc.yaml",
        dvc_yaml(&[
            ("s1", &["zed.txt", "alpha.txt", "mid.txt", "b.txt"], &["o1"]),
            ("s2", &["o1", "sub/c.txt", "sub/a.txt"], &["o2"]),
        ]),
    );
    for args in [
        &["dag"][..],
        &["dag", "--dot"],
        &["dag", "--mermaid"],
        &["dag", "--md"],
        &["dag", "--outs"],
        &["dag", "--outs", "s2"],
    ] {
        let ours = stdout(&env.strix(args));
        let theirs = stdout(&env.dvc(args).unwrap());
        assert!(theirs.contains("zed.txt"), "{args:?}: {theirs}");
        assert_eq!(
            ours, theirs,
            "{args:?}\n--- strix\n{ours}\n--- dvc\n{theirs}"
        );
    }
}

/// The label and row of every box (`| label |`) in a drawing.
fn box_rows(drawing: &str) -> Vec<(String, usize)> {
    let mut rows: Vec<(String, usize)> = Vec::new();
    for (row, line) in drawing.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find("| ") {
            let after = &rest[at + 2..];
            match after.find(' ') {
                Some(end) if after[end..].starts_with(" |") && end > 0 => {
                    rows.push((after[..end].to_owned(), row));
                    rest = &after[end + 2..];
                }
                _ => rest = after,
            }
        }
    }
    rows.sort();
    rows
}

/// When two long edges cross the same layer, DVC's drawing depends on the
/// memory addresses of grandalf's edge objects and changes from run to run
/// (this `--outs` graph draws one of two pictures). strix's drawing must be
/// one DVC's code can produce (`dag_drawings.py` runs it with the edge set
/// in many orders), with every box on the same line as in `dvc dag`'s.
#[test]
fn dag_ascii_ambiguous_layout_is_one_dvc_draws() {
    let Some(dvc) = common::dvc_bin() else {
        common::skip("DVC is not installed (set STRIX_TEST_DVC)");
        return;
    };
    let mut stages = MIX10.to_vec();
    stages[9] = ("s10", &["d9", "extra"], &["model"]);
    let env = TestEnv::initialized();
    env.write("dvc.yaml", dvc_yaml(&stages));
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dag_drawings.py");
    let python = dvc.parent().unwrap().join("python");
    let out = env
        .command(&python)
        .arg(&script)
        .arg("--outs")
        .output()
        .unwrap();
    assert_success(&out);
    let drawings: Vec<String> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(
        drawings.len() > 1,
        "DVC's drawing no longer varies: {drawings:?}"
    );
    let ours = env.strix_ok(&["dag", "--outs"]);
    let ours = ours.strip_suffix('\n').unwrap();
    assert!(
        drawings.iter().any(|d| d == ours),
        "strix:\n{ours}\nnot among DVC's drawings:\n{}",
        drawings.join("\n\n")
    );
    let theirs = stdout(&env.dvc(&["dag", "--outs"]).unwrap());
    assert_eq!(box_rows(ours), box_rows(&theirs));
    assert_eq!(box_rows(ours).len(), 11, "{ours}");
}

/// With pipelines of different sizes, DVC takes a small pipeline's nodes
/// in Python set order, so its drawing changes with the string hash seed.
/// strix takes them in graph order: its drawing is one of DVC's.
#[test]
fn dag_ascii_uneven_pipelines_is_one_dvc_draws() {
    let Some(dvc) = common::dvc_bin() else {
        common::skip("DVC is not installed (set STRIX_TEST_DVC)");
        return;
    };
    let env = TestEnv::initialized();
    env.write(
        "dvc.yaml",
        dvc_yaml(&[
            ("a1", &[], &["a1"]),
            ("a2", &["a1"], &["a2"]),
            ("a3", &["a2"], &["a3"]),
            ("a4", &["a3"], &["a4"]),
            ("a5", &["a4"], &["a5"]),
            ("q1", &[], &["y1"]),
            ("q2", &[], &["y2"]),
            ("q3", &["y1", "y2"], &["y3"]),
            ("q4", &["y1", "y2"], &["y4"]),
        ]),
    );
    let mut drawings: Vec<String> = Vec::new();
    for seed in 0..4 {
        let out = env
            .command(&dvc)
            .arg("dag")
            .env("PYTHONHASHSEED", seed.to_string())
            .output()
            .unwrap();
        assert_success(&out);
        let d = stdout(&out);
        if !drawings.contains(&d) {
            drawings.push(d);
        }
    }
    assert_eq!(drawings.len(), 2, "DVC's drawing no longer varies");
    let ours = env.strix_ok(&["dag"]);
    assert!(
        drawings.contains(&ours),
        "strix:\n{ours}\nnot among DVC's drawings:\n{}",
        drawings.join("\n")
    );
}

/// `commit` of a stage whose output was edited by hand: refused without
/// `-f`, then recorded in `dvc.lock`, the cache and the run-cache as DVC
/// records it, for every way of naming the stage.
#[test]
fn commit_records_a_changed_stage_as_dvc_does() {
    if !have_dvc() {
        return;
    }
    let envs: Vec<TestEnv> = (0..2).map(|_| TestEnv::new()).collect();
    for (k, env) in envs.iter().enumerate() {
        let run = |args: &[&str]| {
            if k == 0 {
                env.strix(args)
            } else {
                env.dvc(args).unwrap()
            }
        };
        env.git(&["init", "-q"]);
        assert_success(&run(&["init", "-q"]));
        env.write("in.txt", "a\n");
        assert_success(&run(&[
            "stage",
            "add",
            "-q",
            "-n",
            "s",
            "-d",
            "in.txt",
            "-o",
            "out.txt",
            "cp in.txt out.txt",
        ]));
        // Always changed, yet nothing to commit.
        assert_success(&run(&[
            "stage",
            "add",
            "-q",
            "--always-changed",
            "-n",
            "a",
            "-o",
            "a.txt",
            "echo a > a.txt",
        ]));
        assert_success(&run(&["repro", "-q"]));
        env.write("out.txt", "edited\n");
        let refused = run(&["commit"]);
        assert_failure(&refused);
        assert!(
            stderr(&refused)
                .contains("unable to commit changed stage: 's'. Use `-f|--force` to force."),
            "{}",
            stderr(&refused)
        );
        for (n, target) in [None, Some("s"), Some("out.txt"), Some("dvc.yaml:s")]
            .into_iter()
            .enumerate()
        {
            env.write("out.txt", format!("edited {n}\n"));
            let mut args = vec!["commit", "-f"];
            args.extend(target);
            let out = run(&args);
            assert_success(&out);
            assert_eq!(
                stdout(&out),
                "Updating lock file 'dvc.lock'\n",
                "{target:?}"
            );
        }
        let unknown = run(&["commit", "nosuch"]);
        assert_failure(&unknown);
        assert!(
            stderr(&unknown)
                .contains("'nosuch' does not exist as an output or a stage name in 'dvc.yaml'"),
            "{}",
            stderr(&unknown)
        );
        // Unchanged: nothing to say.
        let again = run(&["commit"]);
        assert_success(&again);
        assert_eq!(stdout(&again), "");
    }
    let [ours, theirs] = [&envs[0], &envs[1]];
    assert_eq!(ours.read_string("dvc.lock"), theirs.read_string("dvc.lock"));
    assert!(
        ours.read_string("dvc.lock")
            .contains(&common::md5_hex(b"edited 3\n"))
    );
    for sub in ["files", "runs"] {
        assert_eq!(
            common::tree_listing(ours.repo().join(".dvc/cache").join(sub)),
            common::tree_listing(theirs.repo().join(".dvc/cache").join(sub)),
            "{sub}"
        );
    }
    // Only the always-changed stage is left, for both tools.
    let st = ours.dvc(&["status"]).unwrap();
    assert_eq!(stdout(&st), "a:\n\talways changed\n");
    assert_eq!(ours.strix_ok(&["status"]), stdout(&st));
}

/// `stage list --all` lists every stage of the repository, `.dvc` files included, in DVC's
/// order and words (descriptions included); a file that cannot be read is left out unless
/// `--fail`. `--names-only` is DVC's other spelling of `--name-only`.
#[test]
fn stage_list_all_as_dvc_lists_it() {
    let env = TestEnv::initialized();
    env.write("x", "x\n");
    env.strix_ok(&["add", "-q", "x"]);
    env.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: echo a\n  b:\n    cmd: cat x > y\n    deps: [x]\n    outs: [y]\n  \
         c:\n    cmd: cat x\n    deps: [x]\n  m:\n    cmd: echo 1 > m.json\n    metrics: [m.json]\n",
    );
    env.write(
        "sub/dvc.yaml",
        format!(
            "stages:\n  d:\n    cmd: echo d\n    desc: |\n\n      the d\n      more\n  \
             long:\n    cmd: echo l\n    desc: {}\n",
            "word ".repeat(20)
        ),
    );
    env.write("sub/deeper/z.txt", "z\n");
    env.strix_ok(&["add", "-q", "sub/deeper/z.txt"]);
    // A `.dvc` file's desc is shown as a stage's is: its first non-empty line.
    let z = env.read_string("sub/deeper/z.txt.dvc");
    env.write(
        "sub/deeper/z.txt.dvc",
        format!("desc: |2\n\n  z first\n  z second\n{z}"),
    );
    let cases: &[&[&str]] = &[
        &["stage", "list", "--all"],
        &["stage", "list", "--all", "--names-only"],
        &["stage", "list", "--all", "--fail"],
    ];
    for args in cases {
        let ours = env.strix_ok(args);
        assert!(ours.contains("sub/dvc.yaml:d"), "{args:?}: {ours}");
        if let Some(theirs) = env.dvc(args) {
            assert_success(&theirs);
            assert_eq!(ours, stdout(&theirs), "{args:?}");
        }
    }
    // From a subdirectory, addressed from there.
    let sub = env.repo().join("sub");
    let ours = stdout(&env.strix_in(&sub, &["stage", "list", "--all", "--names-only"]));
    assert_eq!(
        ours,
        "../dvc.yaml:a\n../dvc.yaml:b\n../dvc.yaml:c\n../dvc.yaml:m\n../x.dvc\nd\nlong\n\
         deeper/z.txt.dvc\n"
    );
    // A broken dvc.yaml is left out, or fails the command with --fail.
    env.write("bad/dvc.yaml", "stages:\n  e: [\n");
    let ours = env.strix_ok(&["stage", "list", "--all", "--names-only"]);
    assert!(!ours.contains("bad/"), "{ours}");
    assert!(ours.contains("sub/dvc.yaml:d"), "{ours}");
    let out = env.strix(&["stage", "list", "--all", "--fail"]);
    assert_failure(&out);
    assert!(stderr(&out).contains("bad/dvc.yaml"), "{}", stderr(&out));
    if let Some(theirs) = env.dvc(&["stage", "list", "--all", "--names-only"]) {
        assert_eq!(ours, stdout(&theirs));
    }
}

/// `stage add --outs-persist-no-cache` writes `{cache: false, persist: true}` and no `.gitignore`
/// entry for that output, byte for byte as DVC 3.67.1 writes it.
#[test]
fn stage_add_outs_persist_no_cache_as_dvc_writes_it() {
    let args = [
        "stage",
        "add",
        "-n",
        "s",
        "--outs-persist-no-cache",
        "o.txt",
        "-o",
        "a.txt",
        "--outs-persist",
        "p.txt",
        "echo hi",
    ];
    let ours = TestEnv::initialized();
    assert_success(&ours.strix(&args));
    let yaml = ours.read_string("dvc.yaml");
    assert!(
        yaml.contains("- o.txt:\n        cache: false\n        persist: true\n"),
        "{yaml}"
    );
    assert!(!ours.read_string(".gitignore").contains("o.txt"));
    let theirs = TestEnv::initialized();
    if let Some(out) = theirs.dvc(&args) {
        assert_success(&out);
        assert_eq!(yaml, theirs.read_string("dvc.yaml"));
        let lines = |s: String| {
            let mut v: Vec<String> = s.lines().map(str::to_owned).collect();
            v.sort();
            v
        };
        assert_eq!(
            lines(ours.read_string(".gitignore")),
            lines(theirs.read_string(".gitignore"))
        );
    }
}

/// `remove <stage>` as DVC 3.67.1 does it: the stage leaves `dvc.yaml` (its comments kept) and
/// `dvc.lock`, its outputs leave `.gitignore`, and a file left without stages is deleted. With
/// `--outs` the outputs go too, only when their data is safely in the cache (DVC deletes
/// whatever they hold).
#[test]
fn remove_of_a_stage_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let ours = TestEnv::new();
    let theirs = TestEnv::new();
    for (env, dvc) in [(&ours, false), (&theirs, true)] {
        setup(env);
        add_stages(env, dvc);
        let yaml = env.read_string("dvc.yaml");
        env.write("dvc.yaml", format!("# the pipeline\n{yaml}"));
        let run = |args: &[&str]| {
            let out = if dvc {
                env.dvc(args).unwrap()
            } else {
                env.strix(args)
            };
            assert_success(&out);
            stdout(&out)
        };
        run(&["repro", "-q"]);
        assert_eq!(run(&["remove", "train"]), "", "dvc: {dvc}");
        assert!(env.repo().join("model/weights").is_file());
    }
    for f in ["dvc.yaml", "dvc.lock", ".gitignore"] {
        assert_eq!(ours.read_string(f), theirs.read_string(f), "{f}");
    }
    assert!(ours.read_string("dvc.yaml").starts_with("# the pipeline\n"));
    assert!(!ours.read_string("dvc.yaml").contains("train"));

    // Changed since it was recorded: strix keeps it (and the stage).
    ours.write("prep.txt", "edited\n");
    let out = ours.strix(&["remove", "prepare", "--outs"]);
    assert_failure(&out);
    assert!(
        stderr(&out).contains("cannot remove 'prep.txt'"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ours.read_string("prep.txt"), "edited\n");
    assert!(ours.read_string("dvc.yaml").contains("prepare"));
    assert_success(&ours.strix(&["checkout", "--force", "-q"]));

    for (env, dvc) in [(&ours, false), (&theirs, true)] {
        let out = if dvc {
            env.dvc(&["remove", "prepare", "--outs"]).unwrap()
        } else {
            env.strix(&["remove", "prepare", "--outs"])
        };
        assert_success(&out);
        for gone in ["dvc.yaml", "dvc.lock", "prep.txt"] {
            assert!(!env.repo().join(gone).exists(), "{gone} (dvc: {dvc})");
        }
    }
    assert_eq!(
        ours.repo().join(".gitignore").exists(),
        theirs.repo().join(".gitignore").exists()
    );
    if ours.repo().join(".gitignore").exists() {
        assert_eq!(
            ours.read_string(".gitignore"),
            theirs.read_string(".gitignore")
        );
    }
    let out = ours.strix(&["remove", "nope"]);
    assert_failure(&out);
}

/// `stage add` refuses what DVC 3.67.1 refuses, with its words and its exit code (255), and
/// leaves `dvc.yaml` as it was: a bad name, an output another stage has, an output inside
/// another's, and an existing stage without `--force`.
#[test]
fn stage_add_refusals_match_dvc() {
    if !have_dvc() {
        return;
    }
    let cases: &[(&[&str], &str)] = &[
        (
            &["stage", "add", "-n", "a/b", "echo"],
            "Stage name cannot contain punctuation characters.",
        ),
        (
            &["stage", "add", "-n", "s2", "-o", "x", "echo"],
            "output 'x' is already specified in stage: 's1'.\nUse `dvc remove s1` to stop tracking the overlapping output.",
        ),
        (
            &["stage", "add", "-n", "s3", "-o", "x/y", "echo"],
            "The output paths:\n'x'('s1')\n'x/y'('s3')\noverlap and are thus in the same tracked directory.",
        ),
        (
            &["stage", "add", "-n", "s4", "-o", "w", "echo"],
            "The output paths:\n'w'('s4')\n'w/v'('s1')\noverlap",
        ),
        (
            &["stage", "add", "-n", "s1", "-o", "z", "echo"],
            "Stage 's1' already exists in 'dvc.yaml'. Use '--force' to overwrite.",
        ),
    ];
    for dvc in [false, true] {
        let env = TestEnv::new();
        setup(&env);
        let run = |args: &[&str]| {
            if dvc {
                env.dvc(args).unwrap()
            } else {
                env.strix(args)
            }
        };
        assert_success(&run(&[
            "stage", "add", "-q", "-n", "s1", "-o", "x", "-o", "w/v", "echo",
        ]));
        let before = env.read_string("dvc.yaml");
        for (args, expected) in cases {
            let out = run(args);
            assert_eq!(out.status.code(), Some(255), "dvc: {dvc}, {args:?}");
            let err = stderr(&out).replace("strix remove", "dvc remove");
            assert!(err.contains(expected), "dvc: {dvc}, {args:?}: {err}");
            assert_eq!(env.read_string("dvc.yaml"), before, "dvc: {dvc}, {args:?}");
        }
    }
}
