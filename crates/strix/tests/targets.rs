//! Targets as DVC takes them in `status`, `diff`, `data status`, `push`, `fetch` and `pull`:
//! stage names and stage outputs, `-d/--with-deps`, `-R`, `--glob`, `pull --allow-missing`,
//! and pipeline (`dvc.lock`) outputs in `diff` and `data status`. Checked against DVC 3.67.1
//! on the same repository, where its output does not depend on the order it walks things in.
//!
//! Needs `STRIX_TEST_DVC`; skipped without it unless `STRIX_REQUIRE_DVC=1`.

mod common;

use common::{TestEnv, assert_exit_code, assert_success, have_dvc, stderr, stdout};

/// A repository with `c.txt` tracked by a `.dvc` file and two stages, `s1` (c.txt → d.txt)
/// and `s2` (d.txt → e.txt), run and committed; a local remote `r` is the default.
fn pipeline_repo() -> TestEnv {
    let env = TestEnv::initialized();
    env.write("c.txt", "c\n");
    env.write(
        "dvc.yaml",
        "stages:\n  s1:\n    cmd: cat c.txt c.txt > d.txt\n    deps: [c.txt]\n    outs: [d.txt]\n  \
         s2:\n    cmd: cat d.txt d.txt > e.txt\n    deps: [d.txt]\n    outs: [e.txt]\n",
    );
    assert_success(&env.strix(&["add", "-q", "c.txt"]));
    assert_success(&env.strix(&["repro", "-q"]));
    let remote = env.mkdir("remote");
    assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "pipeline"]));
    env
}

/// Both tools' stdout and exit code for the same arguments.
fn both(env: &TestEnv, args: &[&str]) -> ((String, Option<i32>), (String, Option<i32>)) {
    let ours = env.strix(args);
    let theirs = env.dvc(args).unwrap();
    (
        (stdout(&ours).replace("strix", "dvc"), ours.status.code()),
        (stdout(&theirs), theirs.status.code()),
    )
}

#[test]
fn status_takes_stages_and_their_outputs_as_dvc_does() {
    if !have_dvc() {
        return;
    }
    let env = pipeline_repo();
    let clean = "Data and pipelines are up to date.\n";
    for t in ["s2", "e.txt", "dvc.yaml", "dvc.yaml:s1", "c.txt.dvc"] {
        let (ours, theirs) = both(&env, &["status", t]);
        assert_eq!(ours, theirs, "status {t}");
        assert_eq!(ours.0, clean, "status {t}");
    }
    env.write("d.txt", "changed\n");
    for args in [
        &["status", "s2"][..],
        &["status", "e.txt"],
        &["status", "dvc.yaml:s1"],
        &["status", "s1", "c.txt.dvc"],
        &["status", "--json", "s2"],
        &["status", "--json"],
    ] {
        let (ours, theirs) = both(&env, args);
        assert_eq!(ours, theirs, "{args:?}");
    }
    // With its upstream stage (DVC lists the two in no fixed order).
    let out = env.strix_ok(&["status", "-d", "s2"]);
    assert_eq!(
        out,
        "s1:\n\tchanged outs:\n\t\tmodified:           d.txt\n\
         s2:\n\tchanged deps:\n\t\tmodified:           d.txt\n"
    );
    let mut theirs: Vec<String> = stdout(&env.dvc(&["status", "-d", "s2"]).unwrap())
        .lines()
        .map(str::to_owned)
        .collect();
    let mut ours: Vec<String> = out.lines().map(str::to_owned).collect();
    theirs.sort();
    ours.sort();
    assert_eq!(ours, theirs);
    // Not a stage, not an output.
    let bad = env.strix(&["status", "nope"]);
    assert_exit_code(&bad, 1);
    assert!(
        stderr(&bad).contains("'nope' does not exist as an output or a stage name"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn diff_and_data_status_see_pipeline_outputs() {
    if !have_dvc() {
        return;
    }
    let env = pipeline_repo();
    env.write("d.txt", "changed\n");
    env.write("c.txt", "c2\n");
    for args in [
        &["diff"][..],
        &["diff", "--json"],
        &["diff", "--show-hash"],
        &["diff", "--json", "--show-hash"],
    ] {
        let (ours, theirs) = both(&env, args);
        assert_eq!(ours, theirs, "{args:?}");
    }
    assert_eq!(
        env.strix_ok(&["diff"]),
        "Modified:\n    c.txt\n    d.txt\n\nfiles summary: 2 modified\n"
    );
    let sorted = |s: String| {
        let mut l: Vec<String> = s.lines().map(str::to_owned).collect();
        l.sort();
        l
    };
    let (ours, theirs) = both(&env, &["data", "status"]);
    assert_eq!((sorted(ours.0), ours.1), (sorted(theirs.0), theirs.1));
    assert_eq!(
        env.strix_ok(&["data", "status", "--json"]),
        "{\"uncommitted\": {\"modified\": [\"c.txt\", \"d.txt\"]}}\n"
    );
    // An output gone from the workspace and the cache: deleted, and not in cache.
    let e = common::md5_hex(b"c\nc\nc\nc\n");
    std::fs::remove_file(
        env.repo()
            .join(format!(".dvc/cache/files/md5/{}/{}", &e[..2], &e[2..])),
    )
    .unwrap();
    std::fs::remove_file(env.repo().join("e.txt")).unwrap();
    for args in [
        &["diff"][..],
        &["diff", "--md"],
        &["diff", "--md", "--show-hash"],
        &["diff", "--json", "--show-hash"],
        &["diff", "--hide-missing"],
    ] {
        let (ours, theirs) = both(&env, args);
        assert_eq!(ours, theirs, "{args:?}");
    }
    assert_eq!(
        env.strix_ok(&["diff", "--md"]),
        "| Status       | Path   |\n|--------------|--------|\n| deleted      | e.txt  |\n\
         | modified     | c.txt  |\n| modified     | d.txt  |\n| not in cache | e.txt  |\n\n"
    );
}

#[test]
fn transfers_take_stages_with_deps_globs_and_missing_data() {
    if !have_dvc() {
        return;
    }
    let env = pipeline_repo();
    let remote = env.root().join("remote");
    let objects = || common::tree_listing(&remote).len();
    // A stage alone: its output only; with -d, its upstream stage's and the `.dvc` file's too.
    assert_eq!(env.strix_ok(&["push", "s2"]), "1 file pushed\n");
    assert_eq!(env.strix_ok(&["push", "-d", "s2"]), "2 files pushed\n");
    assert_eq!(objects(), 3);
    assert_eq!(
        stdout(&env.dvc(&["status", "-c"]).unwrap()),
        "Cache and remote 'r' are in sync.\n"
    );

    // --glob, and -R over a directory.
    env.write("sub/a.txt", "a\n");
    env.write("sub/inner/b.txt", "b\n");
    assert_success(&env.strix(&["add", "-q", "sub/a.txt", "sub/inner/b.txt"]));
    let nomatch = env.strix(&["push", "--glob", "nomatch*"]);
    assert_exit_code(&nomatch, 1);
    assert_eq!(
        env.strix_ok(&["push", "--glob", "sub/*.dvc"]),
        "1 file pushed\n"
    );
    assert_eq!(env.strix_ok(&["push", "-R", "sub"]), "1 file pushed\n");
    assert_eq!(objects(), 5);

    // Data gone from the cache, the workspace and the remote: an error, unless allowed.
    let b = common::md5_hex(b"b\n");
    std::fs::remove_file(remote.join(format!("files/md5/{}/{}", &b[..2], &b[2..]))).unwrap();
    std::fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    for f in ["c.txt", "d.txt", "e.txt", "sub/a.txt", "sub/inner/b.txt"] {
        std::fs::remove_file(env.repo().join(f)).unwrap();
    }
    let failed = env.strix(&["pull"]);
    assert_exit_code(&failed, 1);
    assert!(
        stderr(&failed).contains("sub/inner/b.txt"),
        "{}",
        stderr(&failed)
    );
    std::fs::remove_file(env.repo().join("c.txt")).ok();
    let allowed = env.strix(&["pull", "--allow-missing"]);
    assert_success(&allowed);
    assert!(
        stderr(&allowed).contains("Missing cache files"),
        "{}",
        stderr(&allowed)
    );
    assert_eq!(env.read("e.txt"), b"c\nc\nc\nc\n");
    assert!(!env.repo().join("sub/inner/b.txt").exists());

    // -d on fetch: the stage and what it depends on.
    std::fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    assert_eq!(env.strix_ok(&["fetch", "-d", "s2"]), "3 files fetched\n");
}

#[test]
fn checkout_and_commit_take_with_deps_and_missing_data() {
    let env = pipeline_repo();
    for f in ["c.txt", "d.txt", "e.txt"] {
        std::fs::remove_file(env.repo().join(f)).unwrap();
    }
    // The stage alone, then with what it depends on.
    assert_eq!(env.strix_ok(&["checkout", "s2"]), "A\te.txt\n");
    assert_eq!(
        env.strix_ok(&["checkout", "-d", "s2"]),
        "A\tc.txt\nA\td.txt\n"
    );
    // `commit -d` records the upstream stage too.
    env.write("d.txt", "d2\n");
    env.write("e.txt", "e2\n");
    let one = env.strix(&["commit", "-f", "s2"]);
    assert_success(&one);
    assert!(env.strix_ok(&["status", "s1"]).contains("modified"));
    assert_success(&env.strix(&["commit", "-f", "-d", "s2"]));
    assert_eq!(
        env.strix_ok(&["status"]),
        "Data and pipelines are up to date.\n"
    );
    // An object gone from the cache: an error, unless allowed (still warned about).
    let e = common::md5_hex(b"e2\n");
    std::fs::remove_file(
        env.repo()
            .join(format!(".dvc/cache/files/md5/{}/{}", &e[..2], &e[2..])),
    )
    .unwrap();
    std::fs::remove_file(env.repo().join("e.txt")).unwrap();
    assert_exit_code(&env.strix(&["checkout"]), 1);
    let allowed = env.strix(&["checkout", "--allow-missing"]);
    assert_success(&allowed);
    assert!(
        stderr(&allowed).contains("missing cache file for 'e.txt'"),
        "{}",
        stderr(&allowed)
    );
}

/// `push: false` on a stage's output (and in a `.dvc` file) keeps it out of `push` and of
/// `status -c`, as DVC does; `dvc status -c` agrees after `strix push`.
#[test]
fn push_false_outputs_stay_local() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    env.write(
        "dvc.yaml",
        "stages:\n  s:\n    cmd: echo hi > o.txt; echo m > m.txt\n    outs:\n    - o.txt:\n        \
         push: false\n    - m.txt\n",
    );
    assert_success(&env.strix(&["repro", "-q"]));
    env.write("q.txt", "q\n");
    assert_success(&env.strix(&["add", "-q", "q.txt"]));
    let dvcfile = env.read_string("q.txt.dvc");
    env.write("q.txt.dvc", format!("{dvcfile}  push: false\n"));
    let remote = env.mkdir("remote");
    assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));
    let in_sync = "Cache and remote 'r' are in sync.\n";
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "\tnew:                m.txt\n"
    );
    assert_eq!(env.strix_ok(&["push"]), "1 file pushed\n");
    let m = common::md5_hex(b"m\n");
    assert_eq!(
        common::tree_listing(&remote).keys().collect::<Vec<_>>(),
        [&format!("files/md5/{}/{}", &m[..2], &m[2..])]
    );
    assert_eq!(env.strix_ok(&["status", "-c"]), in_sync);
    assert_eq!(stdout(&env.dvc(&["status", "-c"]).unwrap()), in_sync);
    assert_eq!(
        stdout(&env.dvc(&["push"]).unwrap()),
        "Everything is up to date.\n"
    );
}

/// The objects in a repository's cache, as sorted relative paths.
fn cached(dir: &std::path::Path) -> Vec<String> {
    let root = dir.join(".dvc/cache");
    let mut found = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("runs") {
                    stack.push(p);
                }
            } else {
                found.push(
                    p.strip_prefix(&root)
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    found.sort();
    found
}

#[test]
fn fetch_takes_max_size_and_type_as_dvc_does() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    env.write("small.txt", "s\n");
    env.write("big.txt", "b".repeat(100));
    env.write("dir/x", "x".repeat(30));
    env.write("dir/y", "y".repeat(30));
    env.write(
        "dvc.yaml",
        "stages:\n  s:\n    cmd: echo '{\"m\":1}' > m.json && printf 'x,y\\n1,2\\n' > p.csv && \
         printf out > o.txt\n    outs: [o.txt]\n    metrics: [m.json]\n    plots: [p.csv]\n",
    );
    assert_success(&env.strix(&["add", "-q", "small.txt", "big.txt", "dir"]));
    assert_success(&env.strix(&["repro", "-q"]));
    let remote = env.mkdir("remote");
    assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));
    assert_success(&env.strix(&["push", "-q"]));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "data"]));
    for (i, args) in [
        &["--max-size", "50"][..],
        &["--max-size", "61"],
        &["--type", "metrics"],
        &["--type", "plots"],
        &["--type", "metrics", "--type", "plots"],
        &["--max-size", "9", "--type", "metrics"],
    ]
    .into_iter()
    .enumerate()
    {
        let ours = env.root().join(format!("ours-{i}"));
        let theirs = env.root().join(format!("theirs-{i}"));
        for clone in [&ours, &theirs] {
            let repo = env.repo().to_str().unwrap();
            assert_success(&env.git(&["clone", "-q", repo, clone.to_str().unwrap()]));
        }
        let fetch: Vec<&str> = ["fetch"].into_iter().chain(args.iter().copied()).collect();
        let out = env.strix_in(&ours, &fetch);
        assert_success(&out);
        let dvc_out = env.dvc_in(&theirs, &fetch).unwrap();
        assert_success(&dvc_out);
        assert_eq!(cached(&ours), cached(&theirs), "fetch {args:?}");
        assert_eq!(stdout(&out), stdout(&dvc_out), "fetch {args:?}");
        assert!(!cached(&ours).is_empty(), "fetch {args:?} fetched nothing");
    }
}

/// `data status` with targets, `--not-in-remote` (`-r`), `--untracked-files`, `--unchanged` and
/// Git's own changes: the same text and JSON as DVC 3.67.1, except that DVC lists untracked
/// files in no fixed order (strix sorts them).
#[test]
fn data_status_flags_as_dvc_prints_them() {
    if !have_dvc() {
        return;
    }
    let env = TestEnv::initialized();
    let remote = env.mkdir("remote");
    let other = env.mkdir("other");
    assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));
    assert_success(&env.strix(&["remote", "add", "o", other.to_str().unwrap()]));
    env.write("data/a", "a\n");
    env.write("data/b", "b\n");
    env.write("f.txt", "f\n");
    assert_success(&env.strix(&["add", "-q", "data", "f.txt"]));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "init"]));
    assert_success(&env.strix(&["push", "-q", "data"]));
    assert_success(&env.strix(&["push", "-q", "-r", "o", "f.txt"]));
    env.write("data/c", "c\n");
    env.write("untracked.txt", "u\n");
    env.write("g.txt", "g\n");
    assert_success(&env.strix(&["add", "-q", "g.txt"]));
    let cases: &[&[&str]] = &[
        &[],
        &["--not-in-remote"],
        &["--not-in-remote", "-r", "o"],
        &["--not-in-remote", "--granular", "--json"],
        &["--granular"],
        &["data"],
        &["data", "--granular", "--json"],
        &["f.txt", "--not-in-remote"],
        &["--unchanged"],
        &["--unchanged", "--json"],
        &["--untracked-files=no", "--json"],
    ];
    for args in cases {
        let cmd: Vec<&str> = ["data", "status"]
            .iter()
            .chain(args.iter())
            .copied()
            .collect();
        let (ours, theirs) = both(&env, &cmd);
        assert_eq!(ours, theirs, "{cmd:?}");
    }
    // Untracked files: the same set.
    let lines = |s: &str| {
        let mut v: Vec<String> = s.lines().map(str::to_owned).collect();
        v.sort();
        v
    };
    let (ours, theirs) = both(&env, &["data", "status", "--untracked-files"]);
    assert_eq!(lines(&ours.0), lines(&theirs.0));
    assert!(ours.0.contains("Untracked files:\n"), "{}", ours.0);
    assert!(ours.0.contains("        untracked.txt\n"), "{}", ours.0);
    // Everything committed: only Git's own state is left to report.
    assert_success(&env.strix(&["commit", "-q", "-f"]));
    assert_success(&env.strix(&["push", "-q"]));
    assert_success(&env.git(&["add", "-A"]));
    assert_success(&env.git(&["commit", "-qm", "all"]));
    let (ours, theirs) = both(&env, &["data", "status"]);
    assert_eq!(ours, theirs);
    assert_eq!(ours.0, "No changes.\n");
    env.write("notes.md", "n\n");
    assert_success(&env.git(&["add", "notes.md"]));
    let (ours, theirs) = both(&env, &["data", "status"]);
    assert_eq!(ours, theirs);
    assert_eq!(
        ours.0,
        "No changes.\n(there are changes not tracked by dvc, use \"git status\" to see)\n"
    );
}
