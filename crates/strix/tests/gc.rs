//! `strix gc`: what it keeps (workspace, branches, tags, commits), what it removes from the cache
//! and from a local remote, its prompt and `--dry`, checked against real DVC where practical.
//! Also push/fetch/status -c with revision flags, which share the revision collection.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use common::{TestEnv, assert_exit_code, assert_success, have_dvc, md5_hex, stderr, stdout};

fn strix_ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.strix_in(dir, args);
    assert_success(&out);
    stdout(&out)
}

fn dvc_ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.dvc_in(dir, args).expect("dvc");
    assert_success(&out);
    stdout(&out)
}

/// Every file under `<dir>/.dvc/cache`, relative to it.
fn cache(dir: &Path) -> BTreeSet<String> {
    files_under(&dir.join(".dvc/cache"))
}

fn files_under(root: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let e = e.unwrap();
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out
}

/// The cache path of a DVC 3 file object with this content.
fn obj(content: &str) -> String {
    let h = md5_hex(content.as_bytes());
    format!("files/md5/{}/{}", &h[..2], &h[2..])
}

fn copy_repo(env: &TestEnv, name: &str) -> PathBuf {
    let dest = env.root().join(name);
    let out = env
        .command_in(env.root(), "cp")
        .args(["-a", env.repo().to_str().unwrap(), dest.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    dest
}

fn commit(env: &TestEnv, msg: &str) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", msg]);
}

/// A repository with history: `f` goes v1 → v2 (branch `feature`) and v1 → v3 (tag `t3`) → v4
/// (main, workspace). `data/` has a.txt and b.txt; b.txt changes with v4. Every version of every
/// output is in the cache.
fn setup_history(env: &TestEnv) {
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("data/a.txt", "alpha\n");
    env.write("data/b.txt", "bravo-1\n");
    env.write("f", "v1\n");
    env.strix_ok(&["add", "-q", "data", "f"]);
    commit(env, "v1");
    env.git(&["checkout", "--quiet", "-b", "feature"]);
    env.write("f", "v2\n");
    env.strix_ok(&["add", "-q", "f"]);
    commit(env, "v2");
    env.git(&["checkout", "--quiet", "main"]);
    env.strix_ok(&["checkout", "-q"]);
    env.write("f", "v3\n");
    env.strix_ok(&["add", "-q", "f"]);
    commit(env, "v3");
    env.git(&["tag", "t3"]);
    env.write("f", "v4\n");
    env.write("data/b.txt", "bravo-4\n");
    env.strix_ok(&["add", "-q", "f", "data"]);
    commit(env, "v4");
}

const NO_LEGACY: &str = "No unused 'legacy' cache to remove.";

#[test]
fn without_a_scope_it_fails_like_dvc() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    let out = env.strix(&["gc"]);
    assert_exit_code(&out, 255);
    assert!(
        stderr(&out).contains("Either of `-w|--workspace`, `-a|--all-branches`"),
        "{}",
        stderr(&out)
    );
    let out = env.strix(&["gc", "-w", "-n", "2"]);
    assert_exit_code(&out, 255);
    assert!(stderr(&out).contains("`--num` can only be used"));
    let out = env.strix(&["gc", "-w", "-c", "--not-in-remote"]);
    assert_exit_code(&out, 255);
    if let Some(d) = env.dvc(&["gc"]) {
        assert_exit_code(&d, 255);
    }
}

#[test]
fn workspace_gc_removes_only_unused_objects_and_matches_dvc() {
    let env = TestEnv::new();
    setup_history(&env);
    let twin = copy_repo(&env, "twin");
    let before = cache(env.repo());
    // v1, v2, v3, the old data/ .dir and bravo-1 are unused by the workspace.
    let out = env.strix_ok(&["gc", "-w", "-f"]);
    assert_eq!(
        out,
        format!("Removed 5 objects from repo cache.\n{NO_LEGACY}\n")
    );
    let after = cache(env.repo());
    assert_eq!(before.len() - after.len(), 5);
    for gone in ["v1\n", "v2\n", "v3\n", "bravo-1\n"] {
        assert!(!after.contains(&obj(gone)), "{gone:?} kept");
    }
    for kept in ["v4\n", "alpha\n", "bravo-4\n"] {
        assert!(after.contains(&obj(kept)), "{kept:?} removed");
    }
    // The workspace still checks out from what is left.
    fs::remove_dir_all(env.repo().join("data")).unwrap();
    fs::remove_file(env.repo().join("f")).unwrap();
    env.strix_ok(&["checkout", "-q"]);
    assert_eq!(env.read_string("f"), "v4\n");
    assert_eq!(env.read_string("data/b.txt"), "bravo-4\n");
    assert_eq!(
        env.strix_ok(&["gc", "-w", "-f"]),
        format!("No unused 'repo' cache to remove.\n{NO_LEGACY}\n")
    );

    if !have_dvc() {
        return;
    }
    let dvc_out = dvc_ok_in(&env, &twin, &["gc", "-w", "-f"]);
    assert_eq!(
        dvc_out,
        format!("Removed 5 objects from repo cache.\n{NO_LEGACY}\n")
    );
    assert_eq!(cache(&twin), after, "strix and dvc kept different objects");
    let st = dvc_ok_in(&env, env.repo(), &["status"]);
    assert!(st.contains("up to date"), "{st}");
}

#[test]
fn all_branches_and_all_tags_keep_other_revisions_and_match_dvc() {
    let env = TestEnv::new();
    setup_history(&env);
    let dvc = have_dvc();
    for (flag, kept, gone) in [
        ("-a", vec!["v2\n", "v4\n"], vec!["v1\n", "v3\n"]),
        ("-T", vec!["v3\n", "v4\n"], vec!["v1\n", "v2\n"]),
        ("-A", vec!["v1\n", "v2\n", "v3\n", "v4\n"], vec![]),
    ] {
        let ours = copy_repo(&env, &format!("ours{flag}"));
        let theirs = copy_repo(&env, &format!("theirs{flag}"));
        let out = strix_ok_in(&env, &ours, &["gc", flag, "-f"]);
        let after = cache(&ours);
        for k in &kept {
            assert!(after.contains(&obj(k)), "{flag}: {k:?} removed");
        }
        for g in &gone {
            assert!(!after.contains(&obj(g)), "{flag}: {g:?} kept");
        }
        if !dvc {
            continue;
        }
        let dvc_out = dvc_ok_in(&env, &theirs, &["gc", flag, "-f"]);
        assert_eq!(out, dvc_out, "{flag}: output differs from dvc");
        assert_eq!(
            after,
            cache(&theirs),
            "{flag}: kept objects differ from dvc"
        );
        // DVC agrees that every kept revision is intact.
        let revs: &[&str] = match flag {
            "-a" => &["feature", "main"],
            "-T" => &["t3", "main"],
            _ => &["main~2", "feature", "t3", "main"],
        };
        for rev in revs {
            env.git_in(&ours, &["checkout", "--quiet", rev]);
            let co = env.dvc_in(&ours, &["checkout", "--force"]).unwrap();
            assert_success(&co);
            let st = dvc_ok_in(&env, &ours, &["status"]);
            assert!(st.contains("up to date"), "{flag} {rev}: {st}");
        }
    }
}

#[test]
fn rev_and_num_keep_the_last_commits() {
    let env = TestEnv::new();
    setup_history(&env);
    // main, main~1 (v3) kept; v1 (main~2) and v2 (feature) removed.
    let out = env.strix_ok(&["gc", "--rev", "main", "-n", "2", "-f"]);
    assert!(
        out.starts_with("Removed 2 objects from repo cache."),
        "{out}"
    );
    let after = cache(env.repo());
    assert!(after.contains(&obj("v3\n")) && after.contains(&obj("v4\n")));
    assert!(!after.contains(&obj("v1\n")) && !after.contains(&obj("v2\n")));
}

#[test]
fn prompt_without_tty_fails_and_dry_run_removes_nothing() {
    let env = TestEnv::new();
    setup_history(&env);
    let before = cache(env.repo());
    let out = env.strix(&["gc", "-w"]);
    assert_exit_code(&out, 1);
    assert!(stderr(&out).contains("will be removed"), "{}", stderr(&out));
    assert_eq!(cache(env.repo()), before);

    let out = env.strix_ok(&["gc", "-w", "--dry"]);
    assert_eq!(out.matches("Removing ").count(), 5, "{out}");
    assert!(out.contains("Removed 5 objects from repo cache."), "{out}");
    assert_eq!(cache(env.repo()), before);

    if have_dvc() {
        let d = env.dvc(&["gc", "-w"]).unwrap();
        assert_exit_code(&d, 1);
        assert_eq!(cache(env.repo()), before);
    }
}

#[test]
fn run_cache_temporaries_and_stray_files_are_left_alone() {
    let env = TestEnv::new();
    setup_history(&env);
    let c = env.repo().join(".dvc/cache");
    let extra = [
        "runs/ab/abcdef/0123456789",
        "files/md5/ab/0123456789abcdef0123456789abcd.tmp",
        "files/md5/ab/README",
        "files/md5/zz/0123456789abcdef0123456789abcd",
    ];
    for e in extra {
        let p = c.join(e);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, "x").unwrap();
    }
    env.strix_ok(&["gc", "-A", "-f"]);
    let after = cache(env.repo());
    for e in extra {
        assert!(after.contains(e), "{e} removed");
    }
}

#[test]
fn a_used_directory_without_manifest_stops_gc() {
    let env = TestEnv::new();
    setup_history(&env);
    let dvcfile = env.read_string("data.dvc");
    let md5 = dvcfile
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("- md5: ")
                .or(l.trim().strip_prefix("md5: "))
        })
        .unwrap()
        .to_string();
    assert!(md5.ends_with(".dir"), "{dvcfile}");
    let path = env
        .repo()
        .join(".dvc/cache/files/md5")
        .join(&md5[..2])
        .join(&md5[2..]);
    fs::remove_file(&path).unwrap();
    let before = cache(env.repo());
    let out = env.strix(&["gc", "-w", "-f"]);
    assert_exit_code(&out, 1);
    assert!(stderr(&out).contains(&md5), "{}", stderr(&out));
    assert_eq!(cache(env.repo()), before, "something was removed");
}

/// The remote's objects, as cache-relative paths.
fn remote_objs(env: &TestEnv) -> BTreeSet<String> {
    files_under(&env.root().join("remote"))
}

#[test]
fn cloud_gc_removes_unused_remote_objects_but_never_other_branches_data() {
    let env = TestEnv::new();
    setup_history(&env);
    env.strix_ok(&["remote", "add", "-d", "storage", "../remote"]);
    commit(&env, "remote");
    // Everything, every revision.
    let out = env.strix_ok(&["push", "-A"]);
    assert!(out.contains("files pushed"), "{out}");
    assert_eq!(env.strix_ok(&["push", "-A"]), "Everything is up to date.\n");
    let st = env.strix_ok(&["status", "-c", "-A"]);
    assert!(st.contains("in sync"), "{st}");
    let remote_before = remote_objs(&env);
    for v in ["v1\n", "v2\n", "v3\n", "v4\n", "bravo-1\n"] {
        assert!(
            remote_before.contains(&obj(v)),
            "{v:?} not pushed by push -A"
        );
    }
    let twin = copy_repo(&env, "twin");
    let out = env
        .command_in(env.root(), "cp")
        .args(["-a", "remote", "twin-remote"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");

    // Keep the branches: v1 and v3 go, v2 (feature) and v4 (main) stay, everywhere.
    let out = env.strix_ok(&["gc", "-a", "-c", "-f"]);
    let remote_after = remote_objs(&env);
    let local_after = cache(env.repo());
    for kept in ["v2\n", "v4\n", "alpha\n", "bravo-4\n"] {
        assert!(remote_after.contains(&obj(kept)), "remote lost {kept:?}");
        assert!(local_after.contains(&obj(kept)), "cache lost {kept:?}");
    }
    for gone in ["v1\n", "v3\n"] {
        assert!(!remote_after.contains(&obj(gone)), "remote kept {gone:?}");
    }
    // The old data/ .dir and bravo-1 were only used by v1..v3 (feature has them too!).
    assert!(
        remote_after.contains(&obj("bravo-1\n")),
        "feature's bravo-1 removed"
    );
    assert_eq!(
        out,
        format!(
            "Removed 2 objects from repo cache.\n{NO_LEGACY}\nRemoved 2 objects from remote.\nNo unused cache to remove from remote.\n"
        )
    );

    // A fresh clone on `feature` pulls everything it needs from the remote.
    let clone = env.root().join("clone");
    env.git_in(
        env.root(),
        &[
            "clone",
            "--quiet",
            "-b",
            "feature",
            env.repo().to_str().unwrap(),
            "clone",
        ],
    );
    // The remote was configured on main only.
    strix_ok_in(
        &env,
        &clone,
        &["remote", "add", "-d", "storage", "../remote"],
    );
    let pulled = strix_ok_in(&env, &clone, &["pull"]);
    assert!(pulled.contains("added"), "{pulled}");
    assert_eq!(fs::read_to_string(clone.join("f")).unwrap(), "v2\n");
    assert_eq!(
        fs::read_to_string(clone.join("data/b.txt")).unwrap(),
        "bravo-1\n"
    );

    if !have_dvc() {
        return;
    }
    // DVC on an identical repository and remote removes the same.
    let twin_remote = env.root().join("twin-remote");
    dvc_ok_in(
        &env,
        &twin,
        &[
            "remote",
            "modify",
            "storage",
            "url",
            twin_remote.to_str().unwrap(),
        ],
    );
    assert_eq!(files_under(&twin_remote), remote_before);
    let dvc_out = dvc_ok_in(&env, &twin, &["gc", "-a", "-c", "-f"]);
    assert_eq!(dvc_out, out, "output differs from dvc's");
    assert_eq!(
        files_under(&twin_remote),
        remote_after,
        "remote differs from dvc's"
    );
    assert_eq!(cache(&twin), local_after, "cache differs from dvc's");
    let st = dvc_ok_in(&env, &clone, &["status", "-c"]);
    assert!(st.contains("in sync"), "{st}");
}

#[test]
fn not_in_remote_drops_local_copies_of_pushed_objects() {
    let env = TestEnv::new();
    setup_history(&env);
    env.strix_ok(&["remote", "add", "-d", "storage", "../remote"]);
    commit(&env, "remote");
    // Only main's data goes to the remote.
    env.strix_ok(&["push", "-q"]);
    let out = env.strix_ok(&["gc", "-a", "--not-in-remote", "-f"]);
    assert!(out.starts_with("Removed"), "{out}");
    let after = cache(env.repo());
    // v4 is on the remote: dropped. v2 (feature) is not: kept. v1/v3 are unused: dropped.
    assert!(!after.contains(&obj("v4\n")));
    assert!(after.contains(&obj("v2\n")));
    assert!(!after.contains(&obj("v1\n")) && !after.contains(&obj("v3\n")));
    // The workspace can be restored from the remote.
    fs::remove_file(env.repo().join("f")).unwrap();
    env.strix_ok(&["pull", "-q"]);
    assert_eq!(env.read_string("f"), "v4\n");
}

#[test]
fn fetch_all_branches_gets_every_branch_and_tag() {
    let env = TestEnv::new();
    setup_history(&env);
    env.strix_ok(&["remote", "add", "-d", "storage", "../remote"]);
    commit(&env, "remote");
    env.strix_ok(&["push", "-a", "-T", "-q"]);
    let clone = env.root().join("clone");
    env.git_in(
        env.root(),
        &["clone", "--quiet", env.repo().to_str().unwrap(), "clone"],
    );
    // Only main is a local branch of the clone; the tag comes along.
    let out = strix_ok_in(&env, &clone, &["fetch", "-T", "--rev", "origin/feature"]);
    assert!(out.contains("fetched"), "{out}");
    let c = cache(&clone);
    for v in ["v2\n", "v3\n", "v4\n"] {
        assert!(c.contains(&obj(v)), "{v:?} not fetched");
    }
    assert!(
        !c.contains(&obj("v1\n")),
        "v1 belongs to no selected revision"
    );
    let st = strix_ok_in(
        &env,
        &clone,
        &["status", "-c", "-T", "--rev", "origin/feature"],
    );
    assert!(st.contains("in sync"), "{st}");
}

fn commit_dated(env: &TestEnv, msg: &str, date: &str) {
    env.git(&["add", "-A"]);
    let out = env
        .command("git")
        .args(["commit", "--quiet", "-m", msg])
        .env("GIT_COMMITTER_DATE", date)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

fn head(env: &TestEnv) -> String {
    stdout(&env.git(&["rev-parse", "HEAD"])).trim().to_string()
}

/// `f` is v1 (committed in 2020), v2 (2024), then v3 in the workspace; an experiment on top of
/// v2 (f = e1) is reachable only through its `refs/exps/` reference, as `dvc exp run` leaves it.
fn setup_dated_history_with_an_experiment(env: &TestEnv) {
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("f", "v1\n");
    env.strix_ok(&["add", "-q", "f"]);
    commit_dated(env, "v1", "2020-01-01T12:00:00Z");
    env.write("f", "v2\n");
    env.strix_ok(&["add", "-q", "f"]);
    commit_dated(env, "v2", "2024-06-01T12:00:00Z");
    let base = head(env);
    env.git(&["checkout", "--quiet", "-b", "exp"]);
    env.write("f", "e1\n");
    env.strix_ok(&["add", "-q", "f"]);
    commit_dated(env, "e1", "2024-06-02T12:00:00Z");
    let e1 = head(env);
    env.git(&["checkout", "--quiet", "main"]);
    env.git(&["branch", "--quiet", "-D", "exp"]);
    let exp_ref = format!("refs/exps/{}/{}/exp-one", &base[..2], &base[2..]);
    env.git(&["update-ref", &exp_ref, &e1]);
    env.write("f", "v3\n");
    env.strix_ok(&["add", "-q", "f"]);
}

#[test]
fn date_and_all_experiments_keep_what_dvc_keeps() {
    let env = TestEnv::new();
    setup_dated_history_with_an_experiment(&env);
    let dvc = have_dvc();
    for (args, kept, gone) in [
        (
            &["--date", "2023-01-01"][..],
            vec!["v2\n", "v3\n"],
            vec!["v1\n", "e1\n"],
        ),
        (
            &["--all-experiments"],
            vec!["e1\n", "v3\n"],
            vec!["v1\n", "v2\n"],
        ),
        (
            &["-w", "--all-experiments", "--date", "2019-12-31"],
            vec!["v1\n", "v2\n", "e1\n", "v3\n"],
            vec![],
        ),
    ] {
        let name = args.join("");
        let ours = copy_repo(&env, &format!("ours{name}"));
        let theirs = copy_repo(&env, &format!("theirs{name}"));
        let gc: Vec<&str> = ["gc", "-f"]
            .into_iter()
            .chain(args.iter().copied())
            .collect();
        let out = env.strix_in(&ours, &gc);
        assert_success(&out);
        let after = cache(&ours);
        for k in &kept {
            assert!(after.contains(&obj(k)), "{args:?}: {k:?} removed");
        }
        for g in &gone {
            assert!(!after.contains(&obj(g)), "{args:?}: {g:?} kept");
        }
        if !dvc {
            continue;
        }
        let dvc_out = env.dvc_in(&theirs, &gc).unwrap();
        assert_success(&dvc_out);
        assert_eq!(
            stdout(&out),
            stdout(&dvc_out),
            "{args:?}: output differs from dvc"
        );
        let warning = stderr(&dvc_out).replace("WARNING: ", "warning: ");
        assert!(
            stderr(&out).starts_with(&warning),
            "{args:?}: warning differs from dvc's {warning:?}: {}",
            stderr(&out)
        );
        assert_eq!(
            after,
            cache(&theirs),
            "{args:?}: kept objects differ from dvc"
        );
    }
    let out = env.strix(&["gc", "-f", "--date", "2023-13-01"]);
    assert_exit_code(&out, 254);
    assert!(
        stderr(&out).contains("not a date of the form YYYY-MM-DD"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn skip_failed_passes_over_an_unreadable_revision() {
    let env = TestEnv::new();
    setup_history(&env);
    // A tag whose .dvc file is not YAML.
    env.write("broken.dvc", "outs: [\n");
    commit(&env, "broken");
    env.git(&["tag", "broken"]);
    env.git(&["rm", "--quiet", "broken.dvc"]);
    commit(&env, "fixed");
    let before = cache(env.repo());
    let out = env.strix(&["gc", "-T", "-f"]);
    assert_exit_code(&out, 1);
    assert!(stderr(&out).contains("broken.dvc"), "{}", stderr(&out));
    assert_eq!(cache(env.repo()), before, "a failed gc removed objects");

    let out = env.strix(&["gc", "-T", "-f", "--skip-failed"]);
    assert_success(&out);
    assert!(
        stderr(&out).contains("Failed to collect 'broken', skipping"),
        "{}",
        stderr(&out)
    );
    let after = cache(env.repo());
    assert!(after.contains(&obj("v3\n")) && after.contains(&obj("v4\n")));
    assert!(!after.contains(&obj("v1\n")) && !after.contains(&obj("v2\n")));
}

/// Two repositories `a` and `b` sharing the cache `cache` (all under `tag`), each with one file
/// of its own.
fn shared_cache_pair(env: &TestEnv, tag: &str) -> (PathBuf, PathBuf, PathBuf) {
    let shared = env.root().join(format!("{tag}-cache"));
    let mut dirs = Vec::new();
    for name in ["a", "b"] {
        let dir = env.root().join(format!("{tag}-{name}"));
        fs::create_dir_all(&dir).unwrap();
        env.git_in(&dir, &["init", "--quiet"]);
        strix_ok_in(env, &dir, &["init", "-q"]);
        strix_ok_in(
            env,
            &dir,
            &["config", "cache.dir", shared.to_str().unwrap()],
        );
        fs::write(dir.join(format!("{name}.txt")), format!("{name}-data\n")).unwrap();
        strix_ok_in(env, &dir, &["add", "-q", &format!("{name}.txt")]);
        dirs.push(dir);
    }
    let b = dirs.pop().unwrap();
    (dirs.pop().unwrap(), b, shared)
}

#[test]
fn projects_keep_the_data_of_repositories_sharing_the_cache() {
    let env = TestEnv::new();
    let both = |shared: &Path| {
        let objs = files_under(shared);
        (
            objs.contains(&obj("a-data\n")),
            objs.contains(&obj("b-data\n")),
        )
    };
    let (a, b, shared) = shared_cache_pair(&env, "ours");
    let out = env.strix_in(&a, &["gc", "-w", "-f", "-p", b.to_str().unwrap()]);
    assert_success(&out);
    assert_eq!(
        both(&shared),
        (true, true),
        "-p lost the other project's data"
    );
    let msg = format!(
        "of the current and the following repos:\n  - {}",
        b.display()
    );
    assert!(stderr(&out).contains(&msg), "{}", stderr(&out));
    let kept_out = stdout(&out);
    // Without -p, the other project's object goes, as in DVC.
    strix_ok_in(&env, &a, &["gc", "-w", "-f"]);
    assert_eq!(both(&shared), (true, false));

    if !have_dvc() {
        return;
    }
    let (a, b, shared) = shared_cache_pair(&env, "theirs");
    let dvc_out = env
        .dvc_in(&a, &["gc", "-w", "-f", "-p", b.to_str().unwrap()])
        .unwrap();
    assert_success(&dvc_out);
    assert_eq!(stdout(&dvc_out), kept_out);
    assert!(stderr(&dvc_out).contains(&msg.replace("ours", "theirs")));
    assert_eq!(both(&shared), (true, true));
}
