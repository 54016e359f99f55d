//! Remotes on a local folder: push/fetch/pull/status -c and `remote` config commands, checked
//! against real DVC.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{
    TestEnv, assert_exit_code, assert_failure, assert_success, have_dvc, stderr, stdout,
    tree_listing,
};

/// A git + DVC repository with a directory and a file tracked, committed, and a default remote
/// `storage` at `<root>/remote` (written by `strix remote add -d`).
fn setup(env: &TestEnv) {
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("data/a.txt", "alpha\n");
    env.write("data/sub/b.txt", "bravo\n");
    env.write("data/sub/c.bin", vec![7u8; 100_000]);
    env.write("model.bin", "weights\n");
    env.strix_ok(&["add", "-q", "data", "model.bin"]);
    env.strix_ok(&["remote", "add", "-d", "storage", "../remote"]);
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "track"]);
}

fn dvc_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.dvc_in(dir, args).expect("dvc");
    assert_success(&out);
    stdout(&out)
}

fn clone(env: &TestEnv) -> std::path::PathBuf {
    let dest = env.root().join("clone");
    env.git_in(
        env.root(),
        &["clone", "--quiet", env.repo().to_str().unwrap(), "clone"],
    );
    dest
}

fn workspace(dir: &Path) -> std::collections::BTreeMap<String, (u32, String)> {
    tree_listing(dir)
        .into_iter()
        .filter(|(k, _)| k.starts_with("data/") || k == "model.bin")
        .map(|(k, (_, md5))| (k, (0, md5)))
        .collect()
}

#[test]
fn strix_push_then_dvc_pull_in_a_clone() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    setup(&env);
    let out = env.strix_ok(&["push"]);
    assert_eq!(out, "5 files pushed\n");
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    let c = clone(&env);
    let out = dvc_ok(&env, &c, &["pull"]);
    assert!(out.contains("5 files fetched"), "{out}");
    assert_eq!(workspace(&c), workspace(env.repo()));
}

#[test]
fn dvc_push_then_strix_pull_in_a_clone() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    setup(&env);
    dvc_ok(&env, env.repo(), &["push"]);
    let c = clone(&env);
    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    let text = stdout(&out);
    assert_eq!(
        text, "A\tdata/\nA\tmodel.bin\n5 files fetched and 4 files added\n",
        "{text}"
    );
    assert_eq!(workspace(&c), workspace(env.repo()));
    // The fetched objects are read-only and complete; DVC agrees the workspace is clean.
    let out = dvc_ok(&env, &c, &["status"]);
    assert!(out.contains("up to date"), "{out}");
    for (k, (mode, _)) in tree_listing(c.join(".dvc/cache/files")) {
        assert_eq!(mode & 0o777, 0o444, "{k}");
    }
    assert_eq!(env.strix_in(&c, &["pull"]).status.code(), Some(0));
    assert_eq!(
        stdout(&env.strix_in(&c, &["pull"])),
        "Everything is up to date.\n"
    );
    // fetch into an emptied cache
    fs::remove_dir_all(c.join(".dvc/cache")).unwrap();
    let out = env.strix_in(&c, &["fetch", "-j", "2"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "5 files fetched\n");
}

fn cloud_json(out: &std::process::Output) -> serde_json::Value {
    assert_success(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

#[test]
fn status_cloud_agrees_with_dvc() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    setup(&env);
    let compare = |label: &str| {
        let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
        let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
        assert_eq!(s, d, "{label}");
        s
    };
    let before = compare("before push");
    assert_eq!(before["data/sub/b.txt"], "new");
    assert_eq!(before["data"], "new");
    let text = env.strix_ok(&["status", "-c"]);
    assert!(text.contains("\tnew:                model.bin\n"), "{text}");
    env.strix_ok(&["push", "data"]);
    let partial = compare("after pushing data");
    assert_eq!(
        partial,
        serde_json::json!({"model.bin": "new"}),
        "only model.bin is left"
    );
    env.strix_ok(&["push"]);
    compare("after push");
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "Cache and remote 'storage' are in sync.\n"
    );
    // Objects only on the remote.
    fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
    fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
    assert_eq!(s, d);
    assert_eq!(s["model.bin"], "deleted");
}

/// A `.dir` on the remote stands for all its files (DVC uploads it last, and so does strix):
/// with a file of the directory removed from the remote behind both tools' backs, DVC and strix
/// still call the cache and the remote in sync, and neither push sends anything. Without the
/// `.dir`, both see the missing file again.
#[test]
fn a_dir_on_the_remote_stands_for_its_files_as_in_dvc() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    setup(&env);
    env.strix_ok(&["push"]);
    let remote = env.root().join("remote/files/md5");
    let object = |content: &[u8]| {
        let md5 = common::md5_hex(content);
        remote.join(&md5[..2]).join(&md5[2..])
    };
    fs::remove_file(object(b"bravo\n")).unwrap();
    let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
    let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
    assert_eq!(s, d);
    assert_eq!(s, serde_json::json!({}));
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    assert_eq!(
        dvc_ok(&env, env.repo(), &["push"]),
        "Everything is up to date.\n"
    );
    // The `.dir` gone too: both notice the file.
    let dir_md5 = fs::read_to_string(env.repo().join("data.dvc"))
        .unwrap()
        .lines()
        .find_map(|l| l.trim().strip_prefix("- md5: ").map(str::to_string))
        .expect("data.dvc records an md5");
    let dir_md5 = dir_md5.trim_end_matches(".dir");
    fs::remove_file(
        remote
            .join(&dir_md5[..2])
            .join(format!("{}.dir", &dir_md5[2..])),
    )
    .unwrap();
    let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
    let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
    assert_eq!(s, d);
    assert_eq!(s["data/sub/b.txt"], "new");
    assert_eq!(env.strix_ok(&["push"]), "2 files pushed\n");
    assert!(object(b"bravo\n").exists());
}

#[test]
fn remote_layout_is_identical_to_dvcs() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    setup(&env);
    env.strix_ok(&["push"]);
    let dvc_remote = env.mkdir("dvc-remote");
    dvc_ok(
        &env,
        env.repo(),
        &["remote", "add", "other", dvc_remote.to_str().unwrap()],
    );
    dvc_ok(&env, env.repo(), &["push", "-r", "other"]);
    let ours = tree_listing(env.root().join("remote"));
    let theirs = tree_listing(&dvc_remote);
    assert_eq!(ours, theirs);
    assert!(
        ours.keys()
            .any(|k| k.starts_with("files/md5/") && k.ends_with(".dir"))
    );
    for (k, (mode, _)) in &ours {
        assert_eq!(mode & 0o777, 0o444, "{k}");
    }
}

#[test]
fn remote_commands_write_what_dvc_writes() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    let ours = env.mkdir("ours");
    let theirs = env.mkdir("theirs");
    for d in [&ours, &theirs] {
        env.git_in(d, &["init", "--quiet"]);
    }
    env.strix_in(&ours, &["init", "-q"]);
    dvc_ok(&env, &theirs, &["init", "-q"]);
    let steps: &[&[&str]] = &[
        &["remote", "add", "-d", "MyRemote", "../rel-storage"],
        &["remote", "add", "s3r", "s3://bucket/path"],
        &["remote", "add", "--local", "loc", "/srv/abs"],
        &["remote", "modify", "s3r", "region", "us-east-1"],
        &["remote", "modify", "--local", "loc", "jobs", "2"],
        &["remote", "modify", "myremote", "jobs", "4"],
        &["remote", "modify", "myremote", "--unset", "jobs"],
        &["remote", "default", "s3r"],
        &["remote", "list"],
        &["remote", "default"],
        &["remote", "rename", "s3r", "cloud"],
        &["remote", "add", "-f", "myremote", "/other/place"],
        &["remote", "list"],
        &["remote", "remove", "cloud"],
        &["remote", "default"],
        &["remote", "remove", "nope"],
        &["remote", "add", "myremote", "/x"],
        &["remote", "default", "--unset"],
        &["remote", "list"],
    ];
    for step in steps {
        let s = env.strix_in(&ours, step);
        let d = env.dvc_in(&theirs, step).unwrap();
        assert_eq!(s.status.code(), d.status.code(), "{step:?}\n{}", stderr(&s));
        // DVC's console expands the tab of `remote list` to spaces; strix keeps the tab.
        assert_eq!(
            common::words(&stdout(&s)),
            common::words(&stdout(&d)),
            "{step:?}"
        );
        for f in [".dvc/config", ".dvc/config.local"] {
            assert_eq!(
                fs::read(ours.join(f)).ok(),
                fs::read(theirs.join(f)).ok(),
                "{f} after {step:?}"
            );
        }
    }
}

#[test]
fn corrupted_remote_object_is_refused_and_named() {
    let env = TestEnv::new();
    setup(&env);
    env.strix_ok(&["push"]);
    let key = format!("files/md5/{}", {
        let h = common::md5_hex(b"weights\n");
        format!("{}/{}", &h[..2], &h[2..])
    });
    let obj = env.root().join("remote").join(&key);
    fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&obj, "tampered\n").unwrap();
    let c = clone(&env);
    let out = env.strix_in(&c, &["pull"]);
    assert_exit_code(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("'model.bin'"), "{err}");
    assert!(err.contains(&common::md5_hex(b"weights\n")), "{err}");
    assert!(err.contains("corrupted"), "{err}");
    // Nothing under the object's final name in the cache, and no data file.
    let cached = c.join(".dvc/cache").join(&key);
    assert!(!cached.exists());
    assert!(!c.join("model.bin").exists());
    let leftovers: Vec<String> = tree_listing(c.join(".dvc/cache"))
        .into_keys()
        .filter(|k| k.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn missing_or_unknown_remote_fails_like_dvc() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("f", "f\n");
    env.strix_ok(&["add", "-q", "f"]);
    let out = env.strix(&["push"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("no remote specified in"),
        "{}",
        stderr(&out)
    );
    env.strix_ok(&["remote", "add", "r1", "../r1"]);
    let out = env.strix(&["push"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("Setup default remote with"),
        "{}",
        stderr(&out)
    );
    let out = env.strix(&["push", "-r", "nope"]);
    assert_exit_code(&out, 1);
    assert!(stderr(&out).contains("remote 'nope' doesn't exist"));
    let out = env.strix(&["status", "-c"]);
    assert_failure(&out);
    // Everything cached and no remote: fetch and pull have nothing to do.
    let out = env.strix(&["fetch"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "Everything is up to date.\n");
    assert!(stderr(&out).contains("No remote provided and no default remote set."));
    // But a remote named with `-r` must exist, even with nothing to fetch (as in DVC).
    for cmd in ["fetch", "pull"] {
        let out = env.strix(&[cmd, "-r", "nope"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("remote 'nope' doesn't exist"),
            "{cmd}"
        );
        if let Some(d) = env.dvc(&[cmd, "-r", "nope"]) {
            assert_exit_code(&d, 1);
            assert!(
                stderr(&d).contains("remote 'nope' doesn't exist"),
                "dvc {cmd}"
            );
        }
    }
}

/// A push of more objects than the process may hold open files (here `ulimit -n 128`, soft and
/// hard) completes: objects beyond the budget of unnamed files wait under temporary names,
/// and none is left behind.
#[test]
fn local_push_of_many_objects_under_a_low_open_files_limit() {
    let env = common::TestEnv::initialized();
    for i in 0..600 {
        env.write(format!("data/f{i}"), format!("{i}\n"));
    }
    common::assert_success(&env.strix(&["add", "-q", "data"]));
    let remote = env.mkdir("remote");
    common::assert_success(&env.strix(&["remote", "add", "-d", "r", remote.to_str().unwrap()]));
    let out = env
        .command("sh")
        .arg("-c")
        .arg("ulimit -Sn 128 && ulimit -Hn 128 && exec \"$0\" push")
        .arg(common::strix_bin())
        .output()
        .unwrap();
    common::assert_success(&out);
    assert_eq!(common::stdout(&out), "601 files pushed\n");
    let listing = common::tree_listing(&remote);
    assert_eq!(listing.len(), 601);
    assert!(!listing.keys().any(|k| k.ends_with(".tmp")), "{listing:?}");
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "Cache and remote 'r' are in sync.\n"
    );
}

/// `add --to-remote` sends an external file and (with `-o`) an external directory straight to
/// the remote: the same `.dvc` files and remote objects as DVC 3.67.1 writes, no cache and no
/// workspace copy, then `dvc pull` restores both. The remote holds no temporaries (DVC leaves
/// some).
#[test]
fn add_to_remote_writes_what_dvc_writes() {
    let env = TestEnv::new();
    let ext = env.mkdir("external");
    fs::write(ext.join("h.txt"), "hello\n").unwrap();
    fs::create_dir_all(ext.join("d/sub")).unwrap();
    fs::write(ext.join("d/a"), "a\n").unwrap();
    fs::write(ext.join("d/sub/b"), vec![3u8; 300_000]).unwrap();
    let h = ext.join("h.txt");
    let d = ext.join("d");
    let (h, d) = (h.to_str().unwrap(), d.to_str().unwrap());

    let theirs = env.mkdir("theirs");
    let mut repos = vec![(env.repo().to_path_buf(), "ours-remote", false)];
    if have_dvc() {
        repos.push((theirs.clone(), "theirs-remote", true));
    }
    for (dir, remote, dvc) in &repos {
        env.git_in(dir, &["init", "--quiet"]);
        let url = env.root().join(remote);
        let run = |args: &[&str]| {
            let out = if *dvc {
                env.dvc_in(dir, args).unwrap()
            } else {
                env.strix_in(dir, args)
            };
            assert_success(&out);
            stdout(&out)
        };
        run(&["init", "-q"]);
        run(&["remote", "add", "-d", "r", url.to_str().unwrap()]);
        let hint = run(&["add", "--to-remote", h]);
        assert!(hint.contains("git add h.txt.dvc\n"), "{hint}");
        run(&["add", "--to-remote", d, "-o", "data", "--remote-jobs", "2"]);
        assert!(!dir.join(".dvc/cache").exists(), "a cache was written");
        assert!(!dir.join("h.txt").exists() && !dir.join("data").exists());
        assert!(!dir.join(".gitignore").exists());
    }
    let objects = |remote: &str| tree_listing(env.root().join(remote).join("files"));
    let ours = objects("ours-remote");
    assert_eq!(ours.len(), 4, "{ours:?}");
    if have_dvc() {
        for f in ["h.txt.dvc", "data.dvc"] {
            assert_eq!(env.read_string(f), env.read_string(theirs.join(f)), "{f}");
        }
        let theirs_objects: std::collections::BTreeMap<_, _> = objects("theirs-remote")
            .into_iter()
            .filter(|(k, _)| !k.ends_with(".tmp"))
            .collect();
        assert_eq!(ours, theirs_objects);
        let pulled = env.dvc(&["pull"]).unwrap();
        assert_success(&pulled);
        assert_eq!(env.read_string("h.txt"), "hello\n");
        assert_eq!(env.read("data/sub/b"), vec![3u8; 300_000]);
    }
}

/// URL targets of `add -o` and `add --to-remote` (`remote://name/path`, `file://`), as DVC
/// 3.67.1 adds them: the same `.dvc` files, caches and remotes. `-o` onto an existing folder
/// puts the target inside it; onto anything else that exists it needs `--force`; a URL without
/// `-o` or `--to-remote` is refused. A source file named `*.tmp` is data like any other. A
/// `file://` URL (which DVC does not take) is the path it names.
#[test]
fn add_of_url_targets_writes_what_dvc_writes() {
    let env = TestEnv::new();
    let store = env.mkdir("store");
    fs::create_dir_all(store.join("raw/sub")).unwrap();
    fs::write(store.join("raw/a.csv"), "a,b\n1,2\n").unwrap();
    fs::write(store.join("raw/sub/part.tmp"), vec![5u8; 70_000]).unwrap();
    fs::write(store.join("one.txt"), "one\n").unwrap();
    let file_url = format!("file://{}", store.join("one.txt").display());

    let theirs = env.mkdir("theirs");
    let mut repos = vec![(env.repo().to_path_buf(), "../remote", false)];
    if have_dvc() {
        repos.push((theirs.clone(), "../remote-dvc", true));
    }
    for (dir, remote, dvc) in &repos {
        let run = |args: &[&str]| {
            if *dvc {
                env.dvc_in(dir, args).unwrap()
            } else {
                env.strix_in(dir, args)
            }
        };
        env.git_in(dir, &["init", "--quiet"]);
        for args in [
            &["init", "-q"][..],
            &["remote", "add", "store", store.to_str().unwrap()],
            &["remote", "add", "-d", "r", remote],
            &["add", "-q", "remote://store/raw", "-o", "raw"],
            &[
                "add",
                "-q",
                "remote://store/raw",
                "--to-remote",
                "-o",
                "far",
            ],
        ] {
            assert_success(&run(args));
        }
        fs::create_dir(dir.join("into")).unwrap();
        assert_success(&run(&["add", "-q", "remote://store/one.txt", "-o", "into"]));

        // An existing destination needs --force, and stays as it was without it.
        fs::write(dir.join("taken.txt"), "mine\n").unwrap();
        let out = run(&["add", "remote://store/one.txt", "-o", "taken.txt"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out).contains("'taken.txt' already exists locally"),
            "{}",
            stderr(&out)
        );
        assert_eq!(fs::read_to_string(dir.join("taken.txt")).unwrap(), "mine\n");
        assert!(!dir.join("taken.txt.dvc").exists());
        assert_success(&run(&[
            "add",
            "-q",
            "-f",
            "remote://store/one.txt",
            "-o",
            "taken.txt",
        ]));

        let out = run(&["add", "remote://store/one.txt"]);
        assert_exit_code(&out, 1);
        assert!(
            stderr(&out)
                .contains("Cached output(s) outside of DVC project: remote://store/one.txt"),
            "{}",
            stderr(&out)
        );
    }
    let ours = env.repo();
    assert_eq!(
        fs::read(ours.join("raw/sub/part.tmp")).unwrap(),
        vec![5u8; 70_000]
    );
    assert_eq!(env.read_string("into/one.txt"), "one\n");
    assert_eq!(env.read_string("taken.txt"), "one\n");
    // A `file://` URL is its local path (DVC takes it for a relative path, and fails).
    env.strix_ok(&["add", "-q", &file_url, "-o", "copy.txt"]);
    assert_eq!(
        env.read_string("copy.txt.dvc"),
        env.read_string("into/one.txt.dvc")
            .replace("path: one.txt", "path: copy.txt")
    );
    assert!(!ours.join("far").exists());
    assert!(
        !ours.join(".dvc/tmp/strix/download").exists()
            || fs::read_dir(ours.join(".dvc/tmp/strix/download"))
                .unwrap()
                .count()
                == 0,
        "a download was left behind"
    );
    // Only the output sent to the remote is missing here.
    let status = "far.dvc:\n\tchanged outs:\n\t\tdeleted:            far\n";
    assert_eq!(env.strix_ok(&["status"]), status);
    if have_dvc() {
        for f in ["raw.dvc", "far.dvc", "into/one.txt.dvc", "taken.txt.dvc"] {
            assert_eq!(env.read_string(f), env.read_string(theirs.join(f)), "{f}");
        }
        // DVC leaves temporaries (`*.tmp`) in its cache and remote; strix leaves none.
        let objects = |dir: &Path| -> std::collections::BTreeMap<_, _> {
            tree_listing(dir)
                .into_iter()
                .filter(|(k, _)| !k.ends_with(".tmp"))
                .collect()
        };
        let cache = ours.join(".dvc/cache");
        assert_eq!(tree_listing(&cache), objects(&cache));
        assert_eq!(tree_listing(&cache), objects(&theirs.join(".dvc/cache")));
        let remote = ours.join("../remote");
        assert_eq!(tree_listing(&remote), objects(&remote));
        assert_eq!(
            tree_listing(&remote),
            objects(&theirs.join("../remote-dvc"))
        );
        assert_eq!(dvc_ok(&env, ours, &["status"]), status);
    }
}

#[test]
fn add_to_remote_checks_its_arguments_and_leaves_nothing_behind() {
    let env = TestEnv::new();
    setup(&env);
    env.write("new.txt", "new\n");
    for (args, msg) in [
        (
            &["add", "--to-remote", "a", "b"][..],
            "multiple targets can't be used with --to-remote",
        ),
        (
            &["add", "--to-remote", "--glob", "a*"],
            "--glob option can't be used with --to-remote",
        ),
        (
            &["add", "--to-remote", "--no-commit", "a"],
            "--no-commit option can't be used with --to-remote",
        ),
        (
            &["add", "-r", "storage", "new.txt"],
            "--remote can't be used without --to-remote",
        ),
        (
            &["add", "--remote-jobs", "2", "new.txt"],
            "--remote-jobs can't be used without --to-remote",
        ),
        (
            &["add", "-o", "x", "a", "b"],
            "multiple targets can't be used with --out",
        ),
    ] {
        let out = env.strix(args);
        assert_exit_code(&out, 1);
        assert!(stderr(&out).contains(msg), "{args:?}: {}", stderr(&out));
        if let Some(d) = env.dvc(args) {
            assert_exit_code(&d, 1);
            assert!(stderr(&d).contains(msg), "dvc {args:?}: {}", stderr(&d));
        }
    }
    // An unknown remote fails before anything is read or written.
    let out = env.strix(&["add", "--to-remote", "-r", "nope", "new.txt"]);
    assert_exit_code(&out, 1);
    assert!(
        stderr(&out).contains("remote 'nope' doesn't exist"),
        "{}",
        stderr(&out)
    );
    assert!(!env.repo().join("new.txt.dvc").exists());
    // A staging area left by a killed run goes with the next run.
    let stale = env.repo().join(".dvc/tmp/strix/to-remote/999999999");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("partial"), "x").unwrap();
    env.strix_ok(&["add", "-q", "--to-remote", "new.txt"]);
    let staging = env.repo().join(".dvc/tmp/strix/to-remote");
    assert_eq!(
        fs::read_dir(&staging).unwrap().count(),
        0,
        "staging left behind"
    );
    assert!(env.read_string("new.txt.dvc").contains("path: new.txt"));
    // On the remote only, as DVC sees it too.
    let status = env.strix_ok(&["status", "-c", "new.txt.dvc"]);
    assert_eq!(status, "\tdeleted:            new.txt\n");
    if have_dvc() {
        assert_eq!(
            dvc_ok(&env, env.repo(), &["status", "-c", "new.txt.dvc"]),
            status
        );
    }
}
