//! Pipelines, continued: `freeze`/`unfreeze`, the `repro` selection flags,
//! legacy single-stage `.dvc` files (against DVC 2.58.2), `run`, `dag`, and
//! robustness (lock released during commands, Ctrl-C, bad input).
//!
//! Tests that compare with DVC need `STRIX_TEST_DVC` (and `STRIX_TEST_DVC2`
//! for the DVC 2 ones); without them they are skipped unless
//! `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{
    TestEnv, assert_exit_code, assert_failure, assert_success, have_dvc, have_dvc2, stderr, stdout,
};
use std::process::Output;
use std::time::{Duration, Instant};

fn init(env: &TestEnv) {
    env.git(&["init", "-q"]);
    assert_success(&env.strix(&["init", "-q"]));
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tool {
    Strix,
    Dvc,
}

fn tool(env: &TestEnv, t: Tool, args: &[&str]) -> Output {
    match t {
        Tool::Strix => env.strix(args),
        Tool::Dvc => env.dvc(args).expect("dvc"),
    }
}

/// Names of the stages a repro output says it ran.
fn ran(out: &Output) -> Vec<String> {
    stdout(out)
        .lines()
        .filter_map(|l| l.strip_prefix("Running stage '"))
        .map(|l| l.trim_end_matches("':").to_owned())
        .collect()
}

/// Progress lines of a repro output, without the git and push hints.
fn progress(out: &Output) -> String {
    let text = stdout(out);
    let end = text
        .find("\nTo track the changes with git")
        .or_else(|| text.find("Use `"))
        .unwrap_or(text.len());
    text[..end].trim_end().to_owned()
}

const CHAIN: &str = "stages:\n  a:\n    cmd: head -c 1 x.txt > a.txt\n    deps: [x.txt]\n    outs: [a.txt]\n  b:\n    cmd: cp a.txt b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n  c:\n    cmd: cp b.txt c.txt\n    deps: [b.txt]\n    outs: [c.txt]\n  z:\n    cmd: cp x.txt z.txt\n    deps: [x.txt]\n    outs: [z.txt]\n";

/// Runs the same sequence of repro calls with strix and with DVC and
/// compares what ran, the progress text and the lock file at each step.
#[test]
fn repro_selection_flags_match_dvc() {
    if !have_dvc() {
        return;
    }
    type Step = (&'static str, &'static [&'static str]);
    let steps: &[Step] = &[
        ("abc\n", &["repro"]),
        ("axx\n", &["repro", "--downstream", "b"]),
        ("axx\n", &["repro", "--force-downstream", "a"]),
        ("ayy\n", &["repro", "-p", "b"]),
        ("ayy\n", &["repro", "-f", "-s", "b"]),
        (
            "azz\n",
            &["repro", "--force-downstream", "--downstream", "a"],
        ),
        ("bzz\n", &["repro", "--dry"]),
        ("bzz\n", &["repro", "-P"]),
        ("bzz\n", &["repro", "--no-commit", "-f", "c"]),
        ("bzz\n", &["repro", "--no-run-cache", "-f", "-s", "a"]),
        ("czz\n", &["repro", "--glob", "[bz]"]),
        ("dzz\n", &["repro", "--glob", "dvc.yaml:?", "-s"]),
    ];
    let mut results: Vec<Vec<(Vec<String>, String, String)>> = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        init(&env);
        env.write("dvc.yaml", CHAIN);
        let mut r = Vec::new();
        for (x, args) in steps {
            env.write("x.txt", x);
            let out = tool(&env, t, args);
            assert_success(&out);
            let lock = std::fs::read_to_string(env.repo().join("dvc.lock")).unwrap_or_default();
            r.push((ran(&out), progress(&out), lock));
        }
        results.push(r);
    }
    for (n, (s, d)) in results[0].iter().zip(&results[1]).enumerate() {
        assert_eq!(s.0, d.0, "step {n} {:?}: stages run", steps[n].1);
        assert_eq!(s.1, d.1, "step {n} {:?}: output", steps[n].1);
        assert_eq!(s.2, d.2, "step {n} {:?}: dvc.lock", steps[n].1);
    }
}

/// DVC reproduces every stage when a `--glob` pattern matches none; strix refuses.
#[test]
fn repro_glob_that_matches_nothing_is_an_error() {
    let env = TestEnv::new();
    init(&env);
    env.write("dvc.yaml", CHAIN);
    env.write("x.txt", "abc\n");
    let out = env.strix(&["repro", "--glob", "nomatch*"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("no stage matches 'nomatch*'"),
        "{}",
        stderr(&out)
    );
    assert!(!env.repo().join("dvc.lock").exists(), "a stage ran");
}

#[test]
fn allow_missing_and_keep_going_match_dvc() {
    if !have_dvc() {
        return;
    }
    let mut outs = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        init(&env);
        env.write("dvc.yaml", CHAIN);
        env.write("x.txt", "abc\n");
        assert_success(&tool(&env, t, &["repro", "-q"]));
        std::fs::remove_file(env.repo().join("a.txt")).unwrap();
        std::fs::remove_file(env.repo().join("b.txt")).unwrap();
        env.write("x.txt", "abd\n");
        let am = tool(&env, t, &["repro", "--allow-missing"]);
        assert_success(&am);
        // A failing stage: its dependents are skipped, others go on.
        env.write(
            "dvc.yaml",
            CHAIN.replace("head -c 1 x.txt > a.txt", "exit 3"),
        );
        env.write("x.txt", "xyz\n");
        let kg = tool(&env, t, &["repro", "-k"]);
        assert_exit_code(&kg, 255);
        let fail = tool(&env, t, &["repro"]);
        assert_exit_code(&fail, 255);
        let lock = env.read_string("dvc.lock");
        outs.push((progress(&am), ran(&kg), stderr(&kg), stderr(&fail), lock));
    }
    let (s, d) = (&outs[0], &outs[1]);
    assert_eq!(s.0, d.0, "--allow-missing");
    assert_eq!(s.1, d.1, "-k: stages run");
    assert_eq!(s.4, d.4, "dvc.lock");
    // strix says `warning:`/`error:` where DVC says `WARNING:`/`ERROR:`.
    let norm = |t: &str| {
        t.lines()
            .map(|l| {
                l.replace("WARNING: ", "warning: ")
                    .replace("ERROR: ", "error: ")
            })
            .filter(|l| l.starts_with("warning: ") || l.starts_with("error: "))
            // DVC lists skipped stages from a Python set: any order.
            .filter(|l| !l.contains("will be skipped"))
            .collect::<Vec<_>>()
    };
    assert_eq!(norm(&s.2), norm(&d.2), "-k: messages");
    assert_eq!(norm(&s.3), norm(&d.3), "failure message");
    assert!(
        s.2.contains("Stages 'b' and 'c' will be skipped due to this failure"),
        "{}",
        s.2
    );
}

/// `--ignore-errors`: a failed stage is warned about with "(ignored)", its dependents still run
/// (and fail on the missing input), independent stages run, and the run succeeds, as in DVC.
#[test]
fn ignore_errors_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let mut outs = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        init(&env);
        env.write(
            "dvc.yaml",
            CHAIN.replace("head -c 1 x.txt > a.txt", "exit 3"),
        );
        env.write("x.txt", "xyz\n");
        let out = tool(&env, t, &["repro", "--ignore-errors"]);
        assert_success(&out);
        let warnings: Vec<String> = stderr(&out)
            .lines()
            .map(|l| l.replace("WARNING: ", "warning: "))
            .map(|l| l.replace(env.repo().to_str().unwrap(), "REPO"))
            .collect();
        outs.push((progress(&out), warnings, env.read_string("dvc.lock")));
    }
    assert_eq!(outs[0], outs[1]);
    assert!(outs[0].0.contains("Running stage 'z'"), "{}", outs[0].0);
    assert!(
        outs[0]
            .1
            .iter()
            .any(|l| l.ends_with("exited with 3 (ignored)")),
        "{:?}",
        outs[0].1
    );
    let out = TestEnv::new().strix(&["repro", "--ignore-errors", "-k"]);
    assert_exit_code(&out, 254);
}

/// Runs `program ARGS` in `dir` on a pseudo-terminal (util-linux `script`), typing `input`.
fn on_a_terminal(env: &TestEnv, program: &std::path::Path, args: &str, input: &str) -> Output {
    use std::io::Write;
    let mut child = env
        .command("script")
        .args([
            "-qec",
            &format!("{} {args}", program.display()),
            "/dev/null",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("script (util-linux) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// `repro -i` (and `core.interactive`) asks before each stage: a yes runs it, a no fails it
/// with DVC's message; without a terminal nothing runs. As DVC 3.67.1 does.
#[test]
fn interactive_repro_asks_before_each_stage() {
    let two = "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n  \
               b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n";
    let mut seen = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        if t == Tool::Dvc && !have_dvc() {
            continue;
        }
        let env = TestEnv::new();
        init(&env);
        env.write("dvc.yaml", two);
        // No terminal: no answer, nothing runs.
        let out = tool(&env, t, &["repro", "-i"]);
        assert_exit_code(&out, 255);
        assert!(!env.repo().join("dvc.lock").exists());
        let program = match t {
            Tool::Strix => common::strix_bin().to_path_buf(),
            Tool::Dvc => common::dvc_bin().unwrap(),
        };
        let out = on_a_terminal(&env, &program, "repro -i", "y\nn\n");
        let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        assert!(
            text.contains(
                "Going to reproduce stage: 'a'. Are you sure you want to continue? [y/n]"
            ),
            "{text}"
        );
        assert!(
            text.contains("failed to reproduce 'b': reproduction aborted by the user"),
            "{text}"
        );
        assert!(env.repo().join("a.txt").exists() && !env.repo().join("b.txt").exists());
        let lock = env.read_string("dvc.lock");
        // `core.interactive` asks as `-i` does.
        tool(&env, t, &["config", "core.interactive", "true"]);
        let out = on_a_terminal(&env, &program, "repro b", "y\n");
        let text = String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n");
        assert!(text.contains("Going to reproduce stage: 'b'."), "{text}");
        assert!(env.repo().join("b.txt").exists(), "{text}");
        seen.push(lock);
    }
    if seen.len() == 2 {
        assert_eq!(seen[0], seen[1], "dvc.lock after the answers");
    }
}

const FROZEN_YAML: &str = "# top comment\nstages:\n  a:  # stage a\n    desc: hello\n    cmd: echo a > a.txt   # the cmd\n    outs:\n    - a.txt\n    always_changed: true\n  b:\n    cmd: cat a.txt > b.txt\n    deps: [a.txt]\n    outs: [b.txt]\n    meta: {x: 1}\n";

#[test]
fn freeze_writes_dvc_yaml_like_dvc() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    init(&env);
    let mut texts = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        env.write("dvc.yaml", FROZEN_YAML);
        let out = tool(&env, t, &["freeze", "a", "dvc.yaml:b"]);
        assert_success(&out);
        assert_eq!(
            stdout(&out),
            "Modifying stage 'a' in 'dvc.yaml'\nModifying stage 'b' in 'dvc.yaml'\n"
        );
        let frozen = env.read_string("dvc.yaml");
        assert_success(&tool(&env, t, &["unfreeze", "b"]));
        texts.push((frozen, env.read_string("dvc.yaml")));
    }
    assert_eq!(texts[0], texts[1]);
    assert!(
        texts[0]
            .0
            .contains("    always_changed: true\n    frozen: true\n")
    );
    assert_eq!(
        texts[0].1,
        FROZEN_YAML.replace(
            "    always_changed: true\n",
            "    always_changed: true\n    frozen: true\n"
        )
    );
    // Unknown stages fail; the others are still done.
    env.write("dvc.yaml", FROZEN_YAML);
    let out = env.strix(&["freeze", "nope", "a"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("failed to freeze 'nope' - Stage 'nope' not found"),
        "{}",
        stderr(&out)
    );
    assert!(env.read_string("dvc.yaml").contains("frozen: true"));
    assert_exit_code(&env.strix(&["freeze"]), 254);
}

#[test]
fn frozen_stages_in_repro_and_status_match_dvc() {
    if !have_dvc() {
        return;
    }
    let mut results = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        init(&env);
        env.write("dvc.yaml", CHAIN);
        env.write("x.txt", "abc\n");
        assert_success(&tool(&env, t, &["repro", "-q"]));
        assert_success(&tool(&env, t, &["freeze", "b"]));
        // A frozen stage ignores its deps and cuts off its upstream.
        env.write("x.txt", "bbc\n");
        let st = tool(&env, t, &["status"]);
        let r1 = tool(&env, t, &["repro", "c"]);
        assert_success(&r1);
        // A frozen stage whose output changed is verified and recorded.
        env.write("b.txt", "changed\n");
        let r2 = tool(&env, t, &["repro"]);
        assert_success(&r2);
        // ... and fails when the output is missing.
        std::fs::remove_file(env.repo().join("b.txt")).unwrap();
        let r3 = tool(&env, t, &["repro", "b"]);
        assert_exit_code(&r3, 255);
        results.push((
            stdout(&st),
            progress(&r1),
            progress(&r2),
            env.read_string("dvc.lock"),
            stderr(&r3).to_lowercase(),
            stderr(&st).to_lowercase(),
        ));
    }
    let (s, d) = (&results[0], &results[1]);
    assert_eq!(s.0, d.0, "status");
    assert_eq!(s.1, d.1, "repro c");
    assert_eq!(s.2, d.2, "repro after changing a frozen output");
    assert_eq!(s.3, d.3, "dvc.lock");
    assert!(s.4.contains("missing data 'source': b.txt"), "{}", s.4);
    assert!(
        s.5.contains("stage: 'b' is frozen. its dependencies are not going to be shown"),
        "{}",
        s.5
    );
}

/// The classic DVC 1.x example: `download.dvc` writes joke.txt, and
/// `duplicate.dvc` copies it.
fn legacy_files(env: &TestEnv) {
    env.write(
        "download.dvc",
        "cmd: echo \"a joke\" > joke.txt\nouts:\n- path: joke.txt\n",
    );
    env.write(
        "duplicate.dvc",
        "# copies the joke\ncmd: cp joke.txt joke_copy.txt\ndeps:\n- path: joke.txt\nouts:\n- path: joke_copy.txt\n",
    );
}

#[test]
fn legacy_stage_files_match_dvc2() {
    if !have_dvc2() {
        return;
    }
    let mut written = Vec::new();
    for dvc2 in [false, true] {
        let env = TestEnv::new();
        // `dvc init` of DVC 2 fails on its own scm step here; the layout
        // strix writes is the same.
        init(&env);
        legacy_files(&env);
        let out = if dvc2 {
            env.dvc2(&["repro", "duplicate.dvc"]).unwrap()
        } else {
            env.strix(&["repro", "duplicate.dvc"])
        };
        assert_success(&out);
        assert_eq!(ran(&out), ["download.dvc", "duplicate.dvc"]);
        written.push((
            env.read_string("download.dvc"),
            env.read_string("duplicate.dvc"),
            env.read_string(".gitignore"),
        ));
        if !dvc2 {
            // DVC 2 agrees nothing changed, and so does strix.
            let st = env.dvc2(&["status"]).unwrap();
            assert_success(&st);
            assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
            let st = env.strix(&["status"]);
            assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
            let again = env.strix(&["repro", "duplicate.dvc"]);
            assert_success(&again);
            assert_eq!(
                progress(&again),
                "Stage 'download.dvc' didn't change, skipping\nStage 'duplicate.dvc' didn't change, skipping\nData and pipelines are up to date."
            );
            // An edited command shows as a changed checksum, as in DVC 2.
            let text = env
                .read_string("duplicate.dvc")
                .replace("cp joke.txt", "cp  joke.txt");
            env.write("duplicate.dvc", text);
            let ours = env.strix(&["status"]);
            let theirs = env.dvc2(&["status"]).unwrap();
            assert_eq!(stdout(&ours), stdout(&theirs));
            assert!(
                stdout(&ours).contains("changed checksum"),
                "{}",
                stdout(&ours)
            );
            // The dag shows them, and a legacy stage can feed dvc.yaml.
            let dag = env.strix_ok(&["dag", "--dot"]);
            assert!(
                dag.contains("\"download.dvc\" -> \"duplicate.dvc\";"),
                "{dag}"
            );
        }
    }
    assert_eq!(written[0], written[1]);
    assert!(
        written[0]
            .1
            .ends_with("md5: 734fea132301d449b9332a8dc5094f23\n"),
        "{}",
        written[0].1
    );
    assert!(written[0].1.starts_with("# copies the joke\n"));
}

#[test]
fn legacy_stages_after_dvc2_repro_are_clean_for_strix() {
    if !have_dvc2() {
        return;
    }
    let env = TestEnv::new();
    init(&env);
    legacy_files(&env);
    assert_success(&env.dvc2(&["repro", "-q", "duplicate.dvc"]).unwrap());
    let st = env.strix(&["status"]);
    assert_success(&st);
    assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
    env.write("joke.txt", "another joke\n");
    let st = env.strix(&["status", "--json"]);
    let theirs = env.dvc2(&["status", "--json"]).unwrap();
    let a: serde_json::Value = serde_json::from_str(&stdout(&st)).unwrap();
    let b: serde_json::Value = serde_json::from_str(&stdout(&theirs)).unwrap();
    assert_eq!(a, b);
    // download.dvc's output changed: it runs again and restores the joke,
    // so duplicate.dvc is unchanged.
    let out = env.strix(&["repro", "duplicate.dvc"]);
    assert_success(&out);
    assert_eq!(ran(&out), ["download.dvc"]);
    let st = env.dvc2(&["status"]).unwrap();
    assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
}

#[test]
fn run_matches_dvc2() {
    if !have_dvc2() || !have_dvc() {
        return;
    }
    let mut yamls = Vec::new();
    for dvc2 in [false, true] {
        let env = TestEnv::new();
        init(&env);
        env.write("in.txt", "hi\n");
        let args: &[&str] = &[
            "run",
            "-n",
            "copy",
            "-d",
            "in.txt",
            "-o",
            "out.txt",
            "cp in.txt out.txt",
        ];
        let out = if dvc2 {
            env.dvc2(args).unwrap()
        } else {
            env.strix(args)
        };
        assert_success(&out);
        let first = progress(&out);
        let args: &[&str] = &[
            "run",
            "-n",
            "copy2",
            "-d",
            "out.txt",
            "-O",
            "out2.txt",
            "--no-exec",
            "cp out.txt out2.txt",
        ];
        let out = if dvc2 {
            env.dvc2(args).unwrap()
        } else {
            env.strix(args)
        };
        assert_success(&out);
        assert!(!env.repo().join("out2.txt").exists());
        let again = if dvc2 {
            env.dvc2(&["run", "-n", "copy", "-d", "in.txt", "cp in.txt x"])
                .unwrap()
        } else {
            env.strix(&["run", "-n", "copy", "-d", "in.txt", "cp in.txt x"])
        };
        assert_failure(&again);
        assert!(
            stderr(&again).contains("already exists"),
            "{}",
            stderr(&again)
        );
        yamls.push((first, progress(&out), env.read_string("dvc.yaml")));
        if !dvc2 {
            // DVC 3 is happy with the lock strix wrote.
            let st = env.dvc(&["status", "copy"]).unwrap();
            assert_success(&st);
            assert_eq!(stdout(&st).trim(), "Data and pipelines are up to date.");
            // A failing command leaves dvc.yaml as it was.
            let before = env.read_string("dvc.yaml");
            let out = env.strix(&["run", "-n", "bad", "-o", "bad.txt", "exit 4"]);
            assert_exit_code(&out, 255);
            assert_eq!(env.read_string("dvc.yaml"), before);
        }
    }
    assert_eq!(yamls[0], yamls[1]);
}

#[test]
fn stage_add_run_and_flags() {
    let env = TestEnv::new();
    init(&env);
    env.write("in.txt", "x\n");
    env.write("params.yaml", "lr: 1\n");
    let out = env.strix(&[
        "stage",
        "add",
        "-n",
        "s",
        "-d",
        "in.txt",
        "-p",
        "lr",
        "-o",
        "o.txt",
        "-M",
        "m.json",
        "--plots",
        "p.csv",
        "-w",
        ".",
        "--always-changed",
        "--desc",
        "a stage",
        "--run",
        "cp in.txt o.txt && echo 1 > m.json && echo a > p.csv",
    ]);
    assert_success(&out);
    assert!(
        stdout(&out).starts_with("Added stage 's' in 'dvc.yaml'\nRunning stage 's':\n"),
        "{}",
        stdout(&out)
    );
    let yaml = env.read_string("dvc.yaml");
    assert!(yaml.contains("    desc: a stage\n"), "{yaml}");
    assert!(yaml.contains("    always_changed: true\n"), "{yaml}");
    assert!(env.read_string("dvc.lock").contains("path: o.txt"));
    assert_eq!(env.read_string("o.txt"), "x\n");
}

#[test]
fn dag_formats_match_dvc() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    init(&env);
    env.write("raw.txt", "raw\n");
    assert_success(&env.strix(&["add", "-q", "raw.txt"]));
    env.write(
        "dvc.yaml",
        "stages:\n  prepare:\n    cmd: cp raw.txt prep.txt\n    deps: [raw.txt]\n    outs: [prep.txt]\n  train:\n    cmd: mkdir model\n    deps: [prep.txt]\n    outs: [model]\n  eval:\n    cmd: x\n    deps: [model, prep.txt]\n    metrics: [{m.json: {cache: false}}]\n  other:\n    cmd: y\n    outs: [o.txt]\n",
    );
    for args in [
        &["dag", "--dot"][..],
        &["dag", "--mermaid"],
        &["dag", "--md"],
        &["dag", "--dot", "--outs"],
        &["dag", "--dot", "train"],
        &["dag", "--dot", "--full", "train"],
        &["dag", "--mermaid", "--outs", "train"],
    ] {
        let ours = env.strix(args);
        let theirs = env.dvc(args).unwrap();
        assert_success(&ours);
        assert_eq!(
            stdout(&ours).trim_end(),
            stdout(&theirs).trim_end(),
            "{args:?}"
        );
    }
}

#[test]
fn lock_is_released_while_commands_run() {
    let env = TestEnv::new();
    init(&env);
    env.write("extra.txt", "extra\n");
    let strix = common::strix_bin().display().to_string();
    env.write(
        "dvc.yaml",
        format!(
            "stages:\n  nested:\n    cmd: {strix} add -q extra.txt && echo ok > o.txt\n    outs: [o.txt]\n"
        ),
    );
    let out = env.strix(&["repro"]);
    assert_success(&out);
    assert!(env.repo().join("extra.txt.dvc").is_file());
    assert!(env.read_string("dvc.lock").contains("path: o.txt"));
}

#[test]
fn sigint_stops_running_stages() {
    let env = TestEnv::new();
    init(&env);
    env.write(
        "dvc.yaml",
        "stages:\n  quick:\n    cmd: echo q > q.txt\n    outs: [q.txt]\n  slow:\n    cmd: echo $$ > pid.txt; sleep 30; echo s > s.txt\n    deps: [q.txt]\n    outs: [s.txt]\n  slow2:\n    cmd: sleep 30 & echo $! > pid2.txt; wait; echo t > t.txt\n    outs: [t.txt]\n",
    );
    let mut child = env
        .command(common::strix_bin())
        .args(["repro", "-j", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let t = Instant::now();
    while !(env.repo().join("pid.txt").exists() && env.repo().join("pid2.txt").exists()) {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "stages did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    // SAFETY: kill(2) of the child we started.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(15),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(status.code(), Some(252));
    let alive = |f: &str| {
        let pid: i32 = env.read_string(f).trim().parse().unwrap();
        // A zombie (killed, not yet reaped by init) counts as dead.
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
            s.rsplit(')')
                .next()
                .is_some_and(|r| !r.trim_start().starts_with('Z'))
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    assert!(!alive("pid.txt"), "the stage's shell survived");
    assert!(!alive("pid2.txt"), "a background child of a stage survived");
    assert!(!env.repo().join("s.txt").exists());
    let lock = env.read_string("dvc.lock");
    assert!(lock.contains("quick:") && !lock.contains("slow"), "{lock}");
    // The next repro picks up where it stopped.
    assert!(stdout(&env.strix(&["status"])).contains("slow"));
}

#[test]
fn failing_stage_commits_nothing() {
    let env = TestEnv::new();
    init(&env);
    env.write(
        "dvc.yaml",
        "stages:\n  half:\n    cmd: echo part > out.txt && exit 7\n    outs: [out.txt]\n",
    );
    let out = env.strix(&["repro"]);
    assert_exit_code(&out, 255);
    assert!(
        stderr(&out).contains("failed to reproduce 'half': failed to run: echo part > out.txt && exit 7, exited with 7"),
        "{}",
        stderr(&out)
    );
    assert!(!env.repo().join("dvc.lock").exists());
    let cache = env.repo().join(".dvc/cache/files/md5");
    assert!(
        !cache.exists() || std::fs::read_dir(&cache).unwrap().next().is_none(),
        "partial output was cached"
    );
}

#[test]
fn bad_pipelines_are_reported() {
    let env = TestEnv::new();
    init(&env);
    let cases: &[(&str, &str)] = &[
        (
            "stages:\n  a:\n    cmd: x\n    outs: [d]\n  b:\n    cmd: y\n    outs: [d/f]\n",
            "overlap. To avoid unpredictable behaviour",
        ),
        (
            "stages:\n  a:\n    cmd: cp missing.txt a.txt\n    deps: [missing.txt]\n    outs: [a.txt]\n",
            "failed to reproduce 'a': [Errno 2] No such file or directory:",
        ),
        (
            "stages:\n  a:\n    cmd: x\n    deps: [b.txt]\n    outs: [a.txt]\n  b:\n    cmd: y\n    deps: [a.txt]\n    outs: [b.txt]\n",
            "Pipeline has a cycle involving:",
        ),
    ];
    for (yaml, want) in cases {
        env.write("dvc.yaml", yaml);
        let out = env.strix(&["repro"]);
        // DVC 3.67.1 exits 255 on each of these.
        assert_exit_code(&out, 255);
        assert!(stderr(&out).contains(want), "{yaml}\n{}", stderr(&out));
        assert!(!stderr(&out).contains("panicked"), "{}", stderr(&out));
    }
    std::fs::remove_file(env.repo().join("dvc.yaml")).unwrap();
    let out = env.strix(&["repro"]);
    assert_exit_code(&out, 255);
    assert!(
        stderr(&out).contains("dvc.yaml' does not exist"),
        "{}",
        stderr(&out)
    );
}

/// Stages that finish in the reverse of their serial order (`a` sleeps
/// longest): `repro -j 4` still writes dvc.lock and the `.gitignore` files
/// byte for byte as `-j 1` and DVC do. A stage added to `dvc.yaml`
/// afterwards (`e`, defined before `c`) is appended to the existing lock.
#[test]
fn parallel_repro_writes_files_in_serial_order() {
    if !have_dvc() {
        return;
    }
    const SLOW: &str = "stages:\n  a:\n    cmd: sleep 1.2 && cp x.txt a.txt\n    deps: [x.txt]\n    outs: [a.txt]\n  b:\n    cmd: sleep 0.6 && cp x.txt sub/b.txt\n    deps: [x.txt]\n    outs: [sub/b.txt]\n  c:\n    cmd: cp x.txt c.txt && cp x.txt sub/c2.txt\n    deps: [x.txt]\n    outs: [c.txt, sub/c2.txt]\n  d:\n    cmd: cp c.txt sub/d.txt\n    deps: [c.txt]\n    outs: [sub/d.txt]\n";
    let with_e = SLOW.replace(
        "  c:\n",
        "  e:\n    cmd: cp x.txt e.txt\n    deps: [x.txt]\n    outs: [e.txt]\n  c:\n",
    );
    let mut results = Vec::new();
    for (t, jobs) in [
        (Tool::Dvc, None),
        (Tool::Strix, Some("1")),
        (Tool::Strix, Some("4")),
    ] {
        let env = TestEnv::new();
        init(&env);
        env.write("x.txt", "x\n");
        env.write(".gitignore", "*.log\n");
        env.write("sub/keep", "");
        let mut files = Vec::new();
        for yaml in [SLOW, with_e.as_str()] {
            env.write("dvc.yaml", yaml);
            let mut args = vec!["repro"];
            if let Some(j) = jobs {
                args.extend(["-j", j]);
            }
            assert_success(&tool(&env, t, &args));
            files.push(
                ["dvc.lock", ".gitignore", "sub/.gitignore"]
                    .map(|f| env.read_string(f))
                    .join("\n---\n"),
            );
        }
        results.push(files);
    }
    let names = |lock: &str| -> Vec<String> {
        lock.lines()
            .filter(|l| l.len() == 4 && l.starts_with("  ") && l.ends_with(':'))
            .map(|l| l.trim().to_owned())
            .collect()
    };
    assert_eq!(names(&results[0][0]), ["a:", "b:", "c:", "d:"]);
    assert_eq!(names(&results[0][1]), ["a:", "b:", "c:", "d:", "e:"]);
    assert!(
        results[0][0].contains("---\n*.log\n/a.txt\n/c.txt\n\n---\n/b.txt\n/c2.txt\n/d.txt\n"),
        "{}",
        results[0][0]
    );
    assert_eq!(results[1], results[0], "-j 1 against DVC");
    assert_eq!(results[2], results[0], "-j 4 against DVC");
}

/// `dvc.yaml` files in subdirectories: each with its `dvc.lock`, stages run
/// in their file's directory and named from the current directory
/// (`sub/dvc.yaml:b`, `../dvc.yaml:a`); `repro -R DIR` takes the stages of
/// every `dvc.yaml` inside DIR, plus their upstream in other files. The
/// same commands from different directories print what DVC prints and
/// write the same files.
#[test]
fn nested_pipelines_and_recursive_repro_match_dvc() {
    if !have_dvc() {
        return;
    }
    type Step = (&'static str, &'static str, &'static [&'static str]);
    let steps: &[Step] = &[
        ("x\n", ".", &["status"]),
        ("x\n", ".", &["repro", "-R", "sub"]),
        ("x\n", "sub", &["status"]),
        ("y\n", "sub", &["repro"]),
        ("y\n", "sub/deep", &["status"]),
        ("y\n", "sub/deep", &["repro"]),
        ("y\n", ".", &["stage", "list", "-R", "."]),
        ("y\n", "sub", &["stage", "list"]),
        ("z\n", "sub", &["repro", "-s", "a"]),
        ("z\n", ".", &["repro", "-P"]),
        ("z\n", "sub", &["repro", "nosuch"]),
        ("z\n", "sub/deep", &["repro", "../dvc.yaml:b"]),
    ];
    let mut results = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        init(&env);
        env.write(".gitignore", "");
        env.write(
            "dvc.yaml",
            "stages:\n  a:\n    cmd: cp x.txt a.txt\n    deps: [x.txt]\n    outs: [a.txt]\n",
        );
        env.write(
            "sub/dvc.yaml",
            "stages:\n  b:\n    cmd: cp ../a.txt b.txt\n    deps: [../a.txt]\n    outs: [b.txt]\n  a:\n    cmd: echo sub-a > sa.txt\n    outs: [sa.txt]\n",
        );
        env.write("sub/deep/params.yaml", "p: 1\n");
        env.write(
            "sub/deep/dvc.yaml",
            "vars: [{n: c}]\nstages:\n  c:\n    cmd: cp ../b.txt ${n}.txt\n    deps: [../b.txt]\n    params: [p]\n    outs: [c.txt]\n",
        );
        let mut r = Vec::new();
        for (x, dir, args) in steps {
            env.write("x.txt", x);
            let dir = env.repo().join(dir);
            let out = match t {
                Tool::Strix => env.strix_in(&dir, args),
                Tool::Dvc => env.dvc_in(&dir, args).expect("dvc"),
            };
            let err = stderr(&out);
            let err = err.lines().find(|l| l.contains("not found")).map(|l| {
                l.trim_start_matches("error: ")
                    .trim_start_matches("ERROR: ")
                    .to_owned()
            });
            r.push((out.status.success(), progress(&out), err));
        }
        let files = [
            "dvc.lock",
            "sub/dvc.lock",
            "sub/deep/dvc.lock",
            ".gitignore",
            "sub/.gitignore",
            "sub/deep/.gitignore",
        ]
        .map(|f| env.read_string(f));
        results.push((r, files));
    }
    let (strix, dvc) = (&results[0], &results[1]);
    for (n, (s, d)) in strix.0.iter().zip(&dvc.0).enumerate() {
        assert_eq!(s, d, "step {n} {:?}", steps[n]);
    }
    assert_eq!(strix.1, dvc.1);
    assert!(
        dvc.0[1].1.contains("Running stage 'sub/deep/dvc.yaml:c'"),
        "{}",
        dvc.0[1].1
    );
    assert!(
        dvc.0[3].1.contains("Running stage '../dvc.yaml:a'"),
        "{}",
        dvc.0[3].1
    );
}
