//! Templated pipelines (`vars`, `${…}`, `foreach`, `matrix`) and params in
//! YAML, JSON, TOML and Python files, run through strix and real DVC on the
//! same files: identical `dvc.lock` bytes, and each tool sees the other's
//! result as up to date.
//!
//! Tests that compare with DVC need `STRIX_TEST_DVC`; without it they are
//! skipped unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_failure, assert_success, have_dvc, stderr, stdout};

const PARAMS_YAML: &str = "models:\n  us:\n    lr: 0.1\n    layers: [1, 2]\n  eu:\n    lr: 0.2\n    layers: [3]\nopts:\n  epochs: 3\n  verbose: true\n  quiet: false\n  name: a b\n  tags: [x, y z]\nseed: 7\n";

const TEMPLATED: &str = r#"vars:
- prefix: out
- extra.json:shared
stages:
  build:
    foreach: ${models}
    do:
      cmd: echo ${key} ${item.lr} ${item.layers[0]} > ${prefix}-${key}.txt
      deps:
      - input.txt
      params:
      - models.${key}.lr
      outs:
      - ${prefix}-${key}.txt
  simple:
    foreach: [a, b]
    do:
      cmd: cat out-us.txt > s-${item}.txt && echo ${item} >> s-${item}.txt
      deps:
      - out-us.txt
      outs:
      - s-${item}.txt
  comp:
    foreach:
    - {n: 1, w: x}
    - {n: 2, w: y}
    do:
      cmd: echo ${item.n} ${item.w} > c-${item.n}.txt
      outs:
      - c-${item.n}.txt
  train:
    matrix:
      lr: [0.1, 0.01]
      opt: [adam, sgd]
      cfg: [{a: 1}, [1, 2]]
    cmd: echo ${item.lr} ${item.opt} ${key} > m-${key}.txt
    outs:
    - m-${key}.txt
  unpack:
    vars:
    - local: here
    cmd: echo ${opts} ${shared.tag} ${local} \${literal} > unpack.txt
    params:
    - seed
    - extra.json:
      - shared.tag
    outs:
    - unpack.txt
"#;

fn setup(env: &TestEnv, dvc_yaml: &str) {
    env.git(&["init", "-q"]);
    assert_success(&env.strix(&["init", "-q"]));
    env.write("params.yaml", PARAMS_YAML);
    env.write(
        "extra.json",
        r#"{"shared": {"tag": "v1", "n": 2}, "unused": 1}"#,
    );
    env.write("input.txt", "input\n");
    env.write("dvc.yaml", dvc_yaml);
}

/// `strix status` and `dvc status` both report nothing to do.
fn both_clean(env: &TestEnv) {
    let st = env.strix(&["status"]);
    assert_success(&st);
    assert_eq!(
        stdout(&st).trim(),
        "Data and pipelines are up to date.",
        "strix status"
    );
    let st = env.dvc(&["status"]).unwrap();
    assert_success(&st);
    assert_eq!(
        stdout(&st).trim(),
        "Data and pipelines are up to date.",
        "dvc status"
    );
}

/// Runs `dvc repro` in one repo and `strix repro` in another with the same
/// files; returns both `dvc.lock` texts.
fn locks(dvc_yaml: &str, extra: &[(&str, &str)]) -> (String, String, TestEnv, TestEnv) {
    let a = TestEnv::new();
    setup(&a, dvc_yaml);
    let b = TestEnv::new();
    setup(&b, dvc_yaml);
    for (p, t) in extra {
        a.write(p, t);
        b.write(p, t);
    }
    let out = a.dvc(&["repro", "-q"]).unwrap();
    assert_success(&out);
    let out = b.strix(&["repro"]);
    assert_success(&out);
    (a.read_string("dvc.lock"), b.read_string("dvc.lock"), a, b)
}

#[test]
fn templated_pipeline_lock_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let (dvc_lock, strix_lock, dvc_env, strix_env) = locks(TEMPLATED, &[]);
    assert_eq!(strix_lock, dvc_lock);
    assert!(strix_lock.contains("  build@us:\n"), "{strix_lock}");
    assert!(
        strix_lock.contains("  train@0.01-sgd-cfg1:\n"),
        "{strix_lock}"
    );
    assert!(
        strix_lock.contains(
            "cmd: echo --epochs 3 --verbose --name 'a b' --tags x 'y z' v1 here \n      ${literal} > unpack.txt\n"
        ),
        "{strix_lock}"
    );
    // Outputs are the same bytes too.
    for f in [
        "out-us.txt",
        "s-b.txt",
        "c-2.txt",
        "m-0.1-adam-cfg0.txt",
        "unpack.txt",
    ] {
        assert_eq!(strix_env.read(f), dvc_env.read(f), "{f}");
    }
    // Each tool is clean on its own result and on the other's.
    both_clean(&strix_env);
    both_clean(&dvc_env);
    // Stages with deps are skipped (ones without deps always run, in DVC too).
    let again = dvc_env.strix(&["repro"]);
    assert_success(&again);
    let text = stdout(&again);
    assert!(
        text.contains("Stage 'build@us' didn't change, skipping"),
        "{text}"
    );
    assert!(!text.contains("Running stage 'build@"), "{text}");
    assert!(!text.contains("Running stage 'simple@"), "{text}");
    assert_eq!(dvc_env.read_string("dvc.lock"), dvc_lock);
}

#[test]
fn generated_stages_in_list_dag_and_targets() {
    let env = TestEnv::new();
    setup(&env, TEMPLATED);
    let list = env.strix_ok(&["stage", "list"]);
    for name in [
        "build@us",
        "build@eu",
        "simple@a",
        "comp@0",
        "comp@1",
        "train@0.1-adam-cfg0",
        "train@0.01-sgd-cfg1",
        "unpack",
    ] {
        assert!(
            list.lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name} missing in:\n{list}"
        );
    }
    // Repro of one generated stage runs it and its upstream only.
    let out = env.strix(&["repro", "simple@a"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("Running stage 'build@us'"), "{text}");
    assert!(text.contains("Running stage 'simple@a'"), "{text}");
    assert!(!text.contains("'simple@b'"), "{text}");
    assert_eq!(env.read_string("s-a.txt"), "us 0.1 1\na\n");
    let dag = env.strix_ok(&["dag", "--dot"]);
    assert!(dag.contains("\"build@us\" -> \"simple@a\""), "{dag}");
}

#[test]
fn changed_param_reruns_only_affected_generated_stage() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    setup(&env, TEMPLATED);
    assert_success(&env.strix(&["repro", "-q"]));
    env.write("params.yaml", PARAMS_YAML.replace("lr: 0.2", "lr: 0.25"));
    let st = env.strix(&["status"]);
    assert_success(&st);
    let text = stdout(&st);
    assert!(text.contains("build@eu:"), "{text}");
    assert!(text.contains("modified:           models.eu.lr"), "{text}");
    assert!(!text.contains("build@us:"), "{text}");
    let dvc_st = env.dvc(&["status"]).unwrap();
    assert_eq!(stdout(&dvc_st), text);
    let out = env.strix(&["repro"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("Running stage 'build@eu'"), "{text}");
    assert!(!text.contains("Running stage 'build@us'"), "{text}");
    both_clean(&env);
}

const PARAMS_PY: &str = "import os\nLR = 0.5\nEPOCHS: int = 4\nNAMES = ('a', 'b')\nDYN = os.getcwd()\nclass Train:\n    batch = 16\n    def __init__(self):\n        self.drop = 0.1\n";

const FORMATS: &str = r#"stages:
  all:
    cmd: echo run > all.txt
    params:
    - seed
    - p.toml:
      - section.rate
      - top
    - p.json:
      - a.b
      - list
    - p.py:
      - LR
      - Train.batch
      - Train.drop
      - NAMES
    - whole.yaml:
    - whole.toml: []
    outs:
    - all.txt
"#;

fn format_files() -> Vec<(&'static str, &'static str)> {
    vec![
        ("p.toml", "top = 1.5\n[section]\nrate = 3\nname = \"x\"\n"),
        (
            "p.json",
            r#"{"a": {"b": 1.0, "c": null}, "list": [1, "two", false]}"#,
        ),
        ("p.py", PARAMS_PY),
        ("whole.yaml", "zeta: 1\nalpha: {x: [1, 2]}\n"),
        ("whole.toml", "k = 'v'\n[t]\nz = 2\n"),
    ]
}

#[test]
fn params_formats_lock_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let (dvc_lock, strix_lock, dvc_env, strix_env) = locks(FORMATS, &format_files());
    assert_eq!(strix_lock, dvc_lock);
    assert!(strix_lock.contains("    p.py:\n"), "{strix_lock}");
    both_clean(&strix_env);
    both_clean(&dvc_env);
    // A change in each format is seen by both tools the same way.
    for env in [&strix_env, &dvc_env] {
        env.write("p.toml", "top = 1.5\n[section]\nrate = 4\nname = \"x\"\n");
        env.write("p.py", PARAMS_PY.replace("batch = 16", "batch = 32"));
        env.write(
            "p.json",
            r#"{"a": {"b": 1, "c": null}, "list": [1, "two", false]}"#,
        );
        env.write("whole.yaml", "zeta: 1\nalpha: {x: [1, 3]}\nnew: 0\n");
        let ours = env.strix(&["status"]);
        assert_success(&ours);
        let theirs = env.dvc(&["status"]).unwrap();
        assert_eq!(stdout(&ours), stdout(&theirs));
        let text = stdout(&ours);
        assert!(text.contains("p.toml"), "{text}");
        assert!(text.contains("p.py"), "{text}");
        assert!(text.contains("whole.yaml"), "{text}");
        // 1.0 == 1 in Python: the JSON change is not a change.
        assert!(!text.contains("p.json"), "{text}");
    }
    assert_success(&strix_env.strix(&["repro", "-q"]));
    assert_success(&dvc_env.dvc(&["repro", "-q"]).unwrap());
    assert_eq!(
        strix_env.read_string("dvc.lock"),
        dvc_env.read_string("dvc.lock")
    );
}

#[test]
fn bad_templates_fail_cleanly() {
    let cases: &[(&str, &str)] = &[
        (
            "stages:\n  s:\n    cmd: echo ${nope}\n",
            "dvc.yaml:3:10: failed to parse 'stages.s.cmd' in 'dvc.yaml': Could not find 'nope'",
        ),
        (
            "stages:\n  s:\n    cmd: echo ${seed.}\n",
            "failed to parse 'stages.s.cmd' in 'dvc.yaml':\n${seed.}\n      ^",
        ),
        (
            "stages:\n  s:\n    foreach: ${seed}\n    do:\n      cmd: echo ${item}\n",
            "dvc.yaml:3:14: failed to resolve 'stages.s.foreach' in 'dvc.yaml': expected list/dictionary, got int",
        ),
        (
            "stages:\n  s@a:\n    cmd: x\n  s:\n    foreach: [a]\n    do:\n      cmd: echo ${item}\n",
            "stage name 's@a' in 'dvc.yaml' is defined more than once",
        ),
        (
            "vars: [nothere.yaml]\nstages:\n  s:\n    cmd: echo\n",
            "failed to parse 'vars' in 'dvc.yaml': 'nothere.yaml' does not exist",
        ),
        (
            "vars: [extra.json:zz]\nstages:\n  s:\n    cmd: echo\n",
            "failed to parse 'vars' in 'dvc.yaml': could not find 'zz' in 'extra.json'",
        ),
    ];
    for (yaml, want) in cases {
        let env = TestEnv::new();
        setup(&env, yaml);
        for args in [&["repro"][..], &["status"], &["stage", "list"], &["dag"]] {
            let out = env.strix(args);
            assert_failure(&out);
            let err = stderr(&out);
            assert!(
                err.contains(want),
                "{args:?} on\n{yaml}\nwant {want}\ngot {err}"
            );
            assert!(!err.contains("panicked"), "{err}");
        }
        assert!(!env.repo().join("dvc.lock").exists());
    }
}

#[test]
fn missing_param_key_fails_and_writes_nothing() {
    let env = TestEnv::new();
    setup(
        &env,
        "stages:\n  s:\n    cmd: echo hi > o.txt\n    params:\n    - p.toml:\n      - nope\n    outs:\n    - o.txt\n",
    );
    env.write("p.toml", "a = 1\n");
    let out = env.strix(&["repro"]);
    assert_failure(&out);
    assert!(
        stderr(&out).contains("Parameters 'nope' are missing from 'p.toml'."),
        "{}",
        stderr(&out)
    );
    assert!(!env.repo().join("dvc.lock").exists());
    assert!(!env.repo().join("o.txt").exists());
    env.write("p.toml", "a = [1\n");
    let out = env.strix(&["status"]);
    assert_failure(&out);
    assert!(
        stderr(&out).contains("unable to read: 'p.toml', TOML file structure is corrupted"),
        "{}",
        stderr(&out)
    );
}

/// The top-level `params`, `metrics`, `plots`, `artifacts` and `datasets`
/// are interpolated with the global vars as DVC does: valid references
/// change nothing, a bad one fails `status`, `repro` and `dag` with DVC's
/// message (and not `stage list`, which does not read them in DVC either).
#[test]
fn top_level_sections_are_interpolated_like_dvc() {
    if !have_dvc() {
        return;
    }
    const TOP: &str = "vars:\n- dir: res\nparams:\n- ${dir}/p.yaml\nmetrics:\n- ${dir}/${opts.name}.json\nplots:\n- ${dir}/plot.csv:\n    x: ${opts.epochs}\nartifacts:\n  ${opts.tags[0]}-model:\n    path: ${dir}/m.pkl\nstages:\n  s:\n    cmd: echo ${seed} > s.txt\n    outs: [s.txt]\n";
    let (dvc_lock, strix_lock, a, b) = locks(TOP, &[]);
    assert_eq!(strix_lock, dvc_lock);
    both_clean(&a);
    both_clean(&b);
    let bad = TOP.replace("${opts.name}.json", "${opts.nope}.json");
    let want = "failed to parse 'metrics.0' in 'dvc.yaml': Could not find 'opts.nope'";
    for env in [&a, &b] {
        env.write("dvc.yaml", &bad);
        for args in [&["status"][..], &["repro"], &["dag"]] {
            for (tool, out) in [("dvc", env.dvc(args).unwrap()), ("strix", env.strix(args))] {
                assert_failure(&out);
                assert!(
                    stderr(&out).contains(want),
                    "{tool} {args:?}: {}",
                    stderr(&out)
                );
            }
        }
        for (tool, out) in [
            ("dvc", env.dvc(&["stage", "list"]).unwrap()),
            ("strix", env.strix(&["stage", "list"])),
        ] {
            assert_success(&out);
            assert_eq!(stdout(&out), "s  Outputs s.txt\n", "{tool}");
        }
    }
}

/// Repeated foreach items and matrix values that give the same name and the
/// same stage are one stage, as in DVC (same `dvc.lock`, each command run
/// once). Two different definitions under one name are refused: DVC keeps
/// only one of them and never runs the other (shown here).
#[test]
fn duplicate_generated_names_like_dvc() {
    if !have_dvc() {
        return;
    }
    const DUP: &str = "stages:\n  build:\n    foreach: [a, b, a]\n    do:\n      cmd: echo ${item} >> ../log-${item}.txt && echo ${item} > o-${item}.txt\n      outs:\n      - o-${item}.txt\n  m:\n    matrix:\n      x: [1, '1']\n    cmd: echo ${item.x} >> ../log-m.txt && echo m > m.txt\n    outs: [m.txt]\n";
    let (dvc_lock, strix_lock, a, b) = locks(DUP, &[]);
    assert_eq!(strix_lock, dvc_lock);
    for env in [&a, &b] {
        for (log, want) in [
            ("log-a.txt", "a\n"),
            ("log-b.txt", "b\n"),
            ("log-m.txt", "1\n"),
        ] {
            let got = std::fs::read_to_string(env.root().join(log)).unwrap();
            assert_eq!(got, want, "{log}");
        }
        assert_eq!(
            env.strix_ok(&["stage", "list"]),
            stdout(&env.dvc(&["stage", "list"]).unwrap())
        );
    }
    // An explicit `c@x` differing from the generated one. (With outputs,
    // DVC fails on the output "specified twice" instead.)
    let clash = "stages:\n  c:\n    foreach: [x]\n    do:\n      cmd: echo generated >> ../log-c.txt\n  c@x:\n    cmd: echo explicit >> ../log-c.txt\n";
    let env = TestEnv::new();
    setup(&env, clash);
    let out = env.strix(&["repro"]);
    assert_failure(&out);
    assert!(
        stderr(&out)
            .contains("stage name 'c@x' in 'dvc.yaml' is defined more than once, differently"),
        "{}",
        stderr(&out)
    );
    assert_success(&env.dvc(&["repro", "-q"]).unwrap());
    let log = std::fs::read_to_string(env.root().join("log-c.txt")).unwrap();
    assert_eq!(log, "generated\n", "DVC dropped the explicit stage");
}

const COLLAPSE_YAML: &str = "stages:\n  prep:\n    cmd: echo\n    outs: [p.txt]\n  tr:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n      deps: [p.txt]\n      outs: ['${item}.txt']\n  ev:\n    matrix:\n      x: [1, 2]\n    cmd: echo\n    deps: [a.txt, b.txt]\n    outs: ['e${item.x}.txt']\n  fin:\n    cmd: echo\n    deps: [e1.txt, e2.txt]\n";

/// `dag --collapse-foreach-matrix`: one node per foreach/matrix definition.
/// DVC orders the collapsed nodes as a Python set does (it varies between
/// runs), so the drawings are compared where the order cannot matter and
/// the node and edge sets otherwise.
#[test]
fn dag_collapses_foreach_and_matrix_like_dvc() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    env.write("dvc.yaml", COLLAPSE_YAML);
    let args = ["dag", "--collapse-foreach-matrix"];
    let ours = env.strix(&args);
    assert_success(&ours);
    assert_eq!(stdout(&ours), stdout(&env.dvc(&args).unwrap()));
    assert!(stdout(&ours).contains("| tr |"), "{}", stdout(&ours));
    assert!(!stdout(&ours).contains('@'), "{}", stdout(&ours));
    let sorted = |out: std::process::Output| {
        let mut lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };
    let dot = ["dag", "--collapse-foreach-matrix", "--dot"];
    let ours = sorted(env.strix(&dot));
    assert_eq!(ours, sorted(env.dvc(&dot).unwrap()));
    assert!(ours.contains(&"\"tr\" -> \"ev\";".to_owned()), "{ours:?}");
    // Only the target's upstream, then collapsed.
    let fin = ["dag", "--collapse-foreach-matrix", "--dot", "tr@a"];
    assert_eq!(sorted(env.strix(&fin)), sorted(env.dvc(&fin).unwrap()));
    let out = env.strix(&["dag", "-o", "--collapse-foreach-matrix"]);
    common::assert_exit_code(&out, 255);
    assert!(
        stderr(&out).contains("`--outs` and `--collapse-foreach-matrix` are mutually exclusive"),
        "{}",
        stderr(&out)
    );
}
