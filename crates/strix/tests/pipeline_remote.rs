//! Pipelines and remotes against real DVC 3.67.1, with a local-folder
//! remote: `push`/`fetch`/`pull --run-cache` in both directions (the
//! run-cache restores a stage in a clone without running it), and
//! `repro --pull`.
//!
//! The stage command appends to a counter file outside the repository, so
//! a test sees whether a command really ran.
//!
//! Needs `STRIX_TEST_DVC`; skipped without it unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_success, have_dvc, stderr, stdout, tree_listing};
use std::path::{Path, PathBuf};
use std::process::Output;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Tool {
    Strix,
    Dvc,
}

fn run(env: &TestEnv, t: Tool, dir: &Path, args: &[&str]) -> Output {
    match t {
        Tool::Strix => env.strix_in(dir, args),
        Tool::Dvc => env.dvc_in(dir, args).expect("dvc"),
    }
}

#[track_caller]
fn ok(env: &TestEnv, t: Tool, dir: &Path, args: &[&str]) -> String {
    let out = run(env, t, dir, args);
    assert_success(&out);
    stdout(&out)
}

/// The stage: copies `data.txt` and counts its runs in `<root>/counter`.
const PIPELINE: &str = "stages:\n  gen:\n    cmd: echo run >> ../counter && cp data.txt out.txt\n    deps:\n    - data.txt\n    outs:\n    - out.txt\n";

/// How many times the stage command ran.
fn runs(env: &TestEnv) -> usize {
    std::fs::read_to_string(env.root().join("counter"))
        .unwrap_or_default()
        .lines()
        .count()
}

fn remote(env: &TestEnv) -> PathBuf {
    env.root().join("remote")
}

/// A git and `t` repository with the local remote (returned) as default.
fn init_with_remote(env: &TestEnv, t: Tool) -> PathBuf {
    let repo = env.repo();
    env.git(&["init", "-q"]);
    ok(env, t, repo, &["init", "-q"]);
    let url = remote(env);
    ok(
        env,
        t,
        repo,
        &["remote", "add", "-d", "store", url.to_str().unwrap()],
    );
    url
}

/// Builds the history with `t`: the stage run on `v1`, then on `v2`, each
/// pushed with `--run-cache`; then back to `v1` (restored from the
/// run-cache) and committed. Returns the three push outputs.
fn build(env: &TestEnv, t: Tool) -> Vec<String> {
    let repo = env.repo();
    init_with_remote(env, t);
    env.write("dvc.yaml", PIPELINE);
    let mut pushes = Vec::new();
    for v in ["v1\n", "v2\n"] {
        env.write("data.txt", v);
        ok(env, t, repo, &["repro"]);
        pushes.push(ok(env, t, repo, &["push", "--run-cache"]));
    }
    assert_eq!(runs(env), 2);
    env.write("data.txt", "v1\n");
    let out = ok(env, t, repo, &["repro"]);
    assert!(
        out.contains("Stage 'gen' is cached - skipping run"),
        "{out}"
    );
    assert_eq!(runs(env), 2, "restored from the local run-cache");
    // Nothing new: every entry again (DVC's count), no object.
    pushes.push(ok(env, t, repo, &["push", "--run-cache"]));
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "pipeline"]);
    pushes
}

fn clone(env: &TestEnv) -> PathBuf {
    let dir = env.root().join("clone");
    let _ = std::fs::remove_dir_all(&dir);
    env.git(&[
        "clone",
        "-q",
        env.repo().to_str().unwrap(),
        dir.to_str().unwrap(),
    ]);
    dir
}

/// In a fresh clone, `u` pulls with `--run-cache` and reproduces: the
/// stage is restored from the run-cache each time, never run.
fn restore_in_clone(env: &TestEnv, u: Tool) {
    let before = runs(env);
    let dir = clone(env);
    let out = ok(env, u, &dir, &["pull", "--run-cache"]);
    // DVC's console expands the tab to spaces; strix keeps the tab.
    assert_eq!(
        out.replace("A       ", "A\t"),
        "A\tout.txt\n1 file fetched and 1 file added\n"
    );
    let entries = |d: &Path| -> Vec<String> {
        tree_listing(d.join("runs"))
            .into_iter()
            .map(|(k, v)| format!("{k} {}", v.1))
            .collect()
    };
    assert_eq!(
        entries(&dir.join(".dvc/cache")),
        entries(&remote(env)),
        "{u:?} pulled every run-cache entry"
    );
    // Without dvc.lock the stage counts as changed: the run-cache answers.
    std::fs::remove_file(dir.join("dvc.lock")).unwrap();
    let out = ok(env, u, &dir, &["repro"]);
    assert!(
        out.contains("Stage 'gen' is cached - skipping run, checking out outputs"),
        "{u:?}: {out}"
    );
    assert_eq!(runs(env), before, "{u:?} ran the command");
    // v2's output is only on the remote: `repro --pull` fetches it.
    std::fs::write(dir.join("data.txt"), "v2\n").unwrap();
    let out = ok(env, u, &dir, &["repro", "--pull"]);
    assert!(out.contains("Stage 'gen' is cached"), "{u:?}: {out}");
    assert_eq!(runs(env), before, "{u:?} ran the command");
    assert_eq!(
        std::fs::read_to_string(dir.join("out.txt")).unwrap(),
        "v2\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join(".gitignore")).unwrap(),
        "/out.txt\n"
    );
}

/// Paths, modes and contents on the remote (objects 0444, run-cache
/// entries 0644, as DVC writes them).
fn remote_files(env: &TestEnv) -> Vec<(String, u32, String)> {
    tree_listing(remote(env))
        .into_iter()
        .map(|(k, v)| (k, v.0 & 0o777, v.1))
        .collect()
}

#[test]
fn run_cache_travels_both_ways_with_dvc() {
    if !have_dvc() {
        return;
    }
    let mut pushes = Vec::new();
    let mut layouts = Vec::new();
    for (t, u) in [(Tool::Strix, Tool::Dvc), (Tool::Dvc, Tool::Strix)] {
        let env = TestEnv::new();
        pushes.push(build(&env, t));
        layouts.push(remote_files(&env));
        restore_in_clone(&env, u);
    }
    // DVC counts every run-cache entry as pushed each time, plus the
    // objects of the workspace's dvc.lock.
    assert_eq!(
        pushes[0],
        ["2 files pushed\n", "3 files pushed\n", "2 files pushed\n"]
    );
    assert_eq!(pushes[0], pushes[1]);
    assert_eq!(layouts[0], layouts[1]);
    let runs: Vec<&String> = layouts[0]
        .iter()
        .filter(|(k, _, _)| k.starts_with("runs/"))
        .map(|(k, mode, _)| {
            assert_eq!(*mode, 0o644, "{k}");
            k
        })
        .collect();
    assert_eq!(runs.len(), 2, "{:?}", layouts[0]);
    for k in runs {
        let parts: Vec<&str> = k.split('/').collect();
        assert_eq!(parts.len(), 4, "{k}");
        assert_eq!(parts[1], &parts[2][..2], "{k}");
        assert_eq!(parts[2].len(), 64, "{k}");
        assert_eq!(parts[3].len(), 64, "{k}");
    }
}

/// A repository of `t` with the stage reproduced on `v1` and a local
/// remote (returned) as default.
fn reproduced(env: &TestEnv, t: Tool) -> PathBuf {
    let repo = env.repo();
    let url = init_with_remote(env, t);
    env.write("dvc.yaml", PIPELINE);
    env.write("data.txt", "v1\n");
    ok(env, t, repo, &["repro"]);
    url
}

/// A run-cache entry that cannot be sent is reported and the push goes on
/// (DVC logs `failed to transfer` and exits 0, counting the entry).
#[test]
fn push_run_cache_goes_on_past_a_failed_entry_like_dvc() {
    if !have_dvc() {
        return;
    }
    let mut outs = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        let repo = env.repo();
        let url = reproduced(&env, t);
        // The entry's folder on the remote is a file: the entry cannot land.
        let runs = repo.join(".dvc/cache/runs");
        let (rel, _) = tree_listing(&runs).into_iter().next().unwrap();
        let key_dir = rel.rsplit_once('/').unwrap().0;
        let blocker = url.join("runs").join(key_dir);
        std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
        std::fs::write(&blocker, "not a folder").unwrap();
        let out = run(&env, t, repo, &["push", "--run-cache"]);
        assert_success(&out);
        let err = stderr(&out);
        assert!(err.contains("failed to transfer"), "{t:?}: {err}");
        // The objects went up all the same.
        assert!(url.join("files/md5").exists(), "{t:?}");
        outs.push(stdout(&out));
    }
    assert_eq!(outs[0], outs[1]);
}

/// A run-cache entry that cannot land in the cache is reported and the
/// fetch goes on with the others and the data, as in DVC.
#[test]
fn fetch_run_cache_goes_on_past_a_failed_entry_like_dvc() {
    if !have_dvc() {
        return;
    }
    let mut outs = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        build(&env, Tool::Strix);
        let dir = clone(&env);
        // The first entry's prefix folder in the clone's cache is a file.
        let remote_runs = tree_listing(remote(&env).join("runs"));
        let first = remote_runs.keys().next().unwrap().clone();
        let prefix = first.split('/').next().unwrap();
        let blocker = dir.join(".dvc/cache/runs").join(prefix);
        std::fs::create_dir_all(blocker.parent().unwrap()).unwrap();
        std::fs::write(&blocker, "not a folder").unwrap();
        let out = run(&env, t, &dir, &["fetch", "--run-cache"]);
        assert_success(&out);
        let err = stderr(&out);
        assert!(err.contains("failed to transfer"), "{t:?}: {err}");
        let landed: Vec<String> = tree_listing(dir.join(".dvc/cache/runs"))
            .into_keys()
            .filter(|rel| rel != prefix)
            .collect();
        let expected: Vec<String> = remote_runs
            .into_keys()
            .filter(|rel| !rel.starts_with(&format!("{prefix}/")))
            .collect();
        assert_eq!(landed, expected, "{t:?}: the other entries landed");
        outs.push((stdout(&out), landed));
    }
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn fetch_run_cache_counts_only_objects_like_dvc() {
    if !have_dvc() {
        return;
    }
    let mut outs = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        build(&env, Tool::Strix);
        let dir = clone(&env);
        let first = ok(&env, t, &dir, &["fetch", "--run-cache"]);
        let again = ok(&env, t, &dir, &["fetch", "--run-cache"]);
        let entries = tree_listing(dir.join(".dvc/cache/runs")).len();
        outs.push((first, again, entries));
    }
    assert_eq!(
        outs[0],
        (
            "1 file fetched\n".into(),
            "Everything is up to date.\n".into(),
            2
        )
    );
    assert_eq!(outs[0], outs[1]);
}

#[test]
fn repro_pull_warns_without_a_remote_like_dvc() {
    if !have_dvc() {
        return;
    }
    let mut results = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        env.git(&["init", "-q"]);
        ok(&env, t, env.repo(), &["init", "-q"]);
        env.write("dvc.yaml", PIPELINE);
        env.write("data.txt", "v1\n");
        let out = run(&env, t, env.repo(), &["repro", "--pull"]);
        assert_success(&out);
        let warning = stderr(&out)
            .lines()
            .find(|l| l.contains("Failed to pull run cache"))
            .map(|l| env.redact(l.split_once(": ").map_or("", |x| x.1)));
        results.push((warning, runs(&env)));
    }
    assert_eq!(results[0].1, 1);
    assert_eq!(results[0], results[1]);
}

/// Stage outputs recorded in `dvc.lock` take part in `status -c`,
/// `checkout` and `push` as in DVC.
#[test]
fn pipeline_outputs_in_checkout_status_and_push_like_dvc() {
    if !have_dvc() {
        return;
    }
    let mut results = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        let repo = env.repo();
        reproduced(&env, t);
        let status = ok(&env, t, repo, &["status", "-c"]);
        std::fs::remove_file(repo.join("out.txt")).unwrap();
        let checkout = ok(&env, t, repo, &["checkout"]).replace("A       ", "A\t");
        let push = ok(&env, t, repo, &["push"]);
        results.push((status, checkout, push, remote_files(&env)));
    }
    assert!(results[0].0.contains("new:"), "{}", results[0].0);
    assert_eq!(results[0].1, "A\tout.txt\n");
    assert_eq!(results[0].2, "1 file pushed\n");
    assert_eq!(results[0], results[1]);
}

/// A pipeline fed by a `.dvc`-tracked directory, whose three stages count
/// their runs.
const PULLED: &str = "stages:\n  prep:\n    cmd: echo prep >> ../counter && cat raw/a.txt raw/b.txt > prep.txt\n    deps: [raw]\n    outs: [prep.txt]\n  train:\n    cmd: echo train >> ../counter && mkdir -p model && cp prep.txt model/m.txt && echo lr >> model/m.txt\n    deps: [prep.txt]\n    params: [lr]\n    outs: [model]\n  eval:\n    cmd: echo eval >> ../counter && wc -l model/m.txt > metrics.txt\n    deps: [model]\n    outs: [metrics.txt]\n";

/// Everything in a clone's workspace but Git's and DVC's own folders.
fn workspace(dir: &Path) -> Vec<(String, String)> {
    common::tree_listing_except(dir, &[".git", ".dvc"])
        .into_iter()
        .map(|(k, v)| (k, v.1))
        .collect()
}

/// strix pushes a pipeline's data; in fresh clones `repro --pull` by
/// strix and by DVC pull what the unchanged stages recorded instead of
/// running them. Then, with a changed param and an empty cache, only the
/// changed stage runs; its unchanged upstream and downstream are pulled.
#[test]
fn repro_pull_in_a_fresh_clone_matches_dvc() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::new();
    let repo = env.repo();
    env.git(&["init", "-q"]);
    env.strix_ok(&["init", "-q"]);
    let url = remote(&env);
    env.strix_ok(&["remote", "add", "-d", "s", url.to_str().unwrap()]);
    env.write("raw/a.txt", "a\n");
    env.write("raw/b.txt", "b\n");
    env.strix_ok(&["add", "-q", "raw"]);
    env.write("params.yaml", "lr: 1\n");
    env.write("dvc.yaml", PULLED);
    env.strix_ok(&["repro"]);
    env.strix_ok(&["push"]);
    env.git(&["add", "-A"]);
    env.git(&["commit", "-qm", "pipeline"]);
    let built = workspace(repo);
    let mut results = Vec::new();
    for t in [Tool::Dvc, Tool::Strix] {
        let dir = env.root().join(format!("clone-{t:?}"));
        env.git(&["clone", "-q", repo.to_str().unwrap(), dir.to_str().unwrap()]);
        std::fs::write(env.root().join("counter"), "").unwrap();
        let first = ok(&env, t, &dir, &["repro", "--pull"]);
        let ran_first = std::fs::read_to_string(env.root().join("counter")).unwrap();
        let ws = workspace(&dir);
        // A changed param, no cache and no outputs: only `train` runs.
        std::fs::write(dir.join("params.yaml"), "lr: 2\n").unwrap();
        std::fs::remove_dir_all(dir.join(".dvc/cache")).unwrap();
        for p in ["raw", "model"] {
            std::fs::remove_dir_all(dir.join(p)).unwrap();
        }
        for p in ["prep.txt", "metrics.txt"] {
            std::fs::remove_file(dir.join(p)).unwrap();
        }
        let second = ok(&env, t, &dir, &["repro", "--pull"])
            .replace("strix config", "dvc config")
            .replace("`strix push`", "`dvc push`");
        let ran_second = std::fs::read_to_string(env.root().join("counter")).unwrap();
        // Everything there: nothing to pull, every stage unchanged.
        let third = ok(&env, t, &dir, &["repro", "--pull"]);
        assert!(!third.contains("Pulling data"), "{t:?}: {third}");
        assert!(
            third.contains("Stage 'train' didn't change, skipping"),
            "{t:?}: {third}"
        );
        let lock = std::fs::read_to_string(dir.join("dvc.lock")).unwrap();
        results.push((
            first,
            ran_first,
            ws,
            second,
            ran_second,
            workspace(&dir),
            lock,
        ));
    }
    let dvc = &results[0];
    assert_eq!(
        dvc.0,
        "Pulling data for stage: 'raw.dvc'\nPulling data for stage: 'prep'\nPulling data for stage: 'train'\nPulling data for stage: 'eval'\nData and pipelines are up to date.\n"
    );
    assert_eq!(dvc.1, "", "nothing ran");
    assert_eq!(dvc.2, built);
    assert!(dvc.3.contains("Running stage 'train'"), "{}", dvc.3);
    assert_eq!(dvc.4, "train\n");
    assert_eq!(results[1], results[0]);
}

/// `push`, `fetch` and `pull` take a stage (`train`, `dvc.yaml:train`, a
/// `foreach` group), a `dvc.yaml`, or a stage's output path as target, as
/// DVC does; a target that is none of these fails.
#[test]
fn transfers_take_stages_and_their_outputs_as_targets_like_dvc() {
    if !have_dvc() {
        return;
    }
    const STAGES: &str = "stages:\n  train:\n    cmd: cp data.txt model.txt\n    deps:\n    - data.txt\n    outs:\n    - model.txt\n  other:\n    cmd: echo other > other.txt\n    outs:\n    - other.txt\n  gen:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item} > gen-${item}.txt\n      outs:\n      - gen-${item}.txt\n";
    let mut results = Vec::new();
    for t in [Tool::Strix, Tool::Dvc] {
        let env = TestEnv::new();
        let repo = env.repo();
        let url = init_with_remote(&env, t);
        env.write("dvc.yaml", STAGES);
        env.write("data.txt", "data\n");
        ok(&env, t, repo, &["repro"]);
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "pipeline"]);
        let mut seen = Vec::new();
        for target in ["train", "dvc.yaml:train", "model.txt", "gen", "dvc.yaml"] {
            let _ = std::fs::remove_dir_all(&url);
            let push = ok(&env, t, repo, &["push", target]);
            let dir = clone(&env);
            let fetch = ok(&env, t, &dir, &["fetch", target]);
            let pull = ok(&env, t, &dir, &["pull", target]).replace("A       ", "A\t");
            seen.push((target, push, fetch, pull, workspace(&dir)));
        }
        let bad = run(&env, t, repo, &["push", "nosuch"]);
        assert!(!bad.status.success(), "{t:?}");
        results.push(seen);
    }
    assert_eq!(results[0], results[1]);
    // Only the named stage's output came down.
    let train = &results[0][0].4;
    assert!(train.iter().any(|(p, _)| p == "model.txt"), "{train:?}");
    assert!(!train.iter().any(|(p, _)| p == "other.txt"), "{train:?}");
}
