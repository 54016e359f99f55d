//! Interop with real DVC 3.x: strix and DVC read and write the same repository, cache, lock and
//! config files, and produce the same bytes for the same data.
//!
//! Every test needs DVC (`STRIX_TEST_DVC`); without it the test is skipped, unless
//! `STRIX_REQUIRE_DVC=1`, in which case it fails.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{
    TestEnv, assert_failure, assert_success, have_dvc, md5_hex, stderr, stdout, tree_listing,
    tree_listing_except,
};
use serde_json::Value;

/// The files and directory of the sample workspace that `make-vectors.sh` adds.
const TARGETS: &[&str] = &[
    "hello.txt",
    "empty.txt",
    "crlf.txt",
    "binary.bin",
    "run.sh",
    "data",
];

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dvc-vectors")
}

/// Copies `src` into `dst` recursively, keeping the permission bits (run.sh is executable).
fn copy_tree(src: &Path, dst: &Path) {
    fs::create_dir_all(dst).unwrap_or_else(|e| panic!("create {}: {e}", dst.display()));
    for entry in fs::read_dir(src).unwrap_or_else(|e| panic!("read {}: {e}", src.display())) {
        let entry = entry.unwrap();
        let to = dst.join(entry.file_name());
        let meta = fs::symlink_metadata(entry.path()).unwrap();
        if meta.is_dir() {
            copy_tree(&entry.path(), &to);
        } else {
            fs::copy(entry.path(), &to).unwrap_or_else(|e| panic!("copy {}: {e}", to.display()));
            fs::set_permissions(&to, meta.permissions()).unwrap();
        }
    }
}

/// Whether DVC is available; reports a skip when it is not (panics if it is required).
/// Runs DVC in `dir`, or returns `None` after reporting a skip.
fn dvc_in(env: &TestEnv, dir: &Path, args: &[&str]) -> Option<Output> {
    let out = env.dvc_in(dir, args);
    if out.is_none() {
        common::skip("DVC is not installed (set STRIX_TEST_DVC)");
    }
    out
}

/// Runs DVC in `dir` and panics unless it succeeds. Only call after a DVC presence check.
#[track_caller]
fn dvc_ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.dvc_in(dir, args).expect("dvc is installed");
    assert_success(&out);
    stdout(&out)
}

#[track_caller]
fn dvc_ok(env: &TestEnv, args: &[&str]) -> String {
    dvc_ok_in(env, env.repo(), args)
}

#[track_caller]
fn strix_ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.strix_in(dir, args);
    assert_success(&out);
    stdout(&out)
}

/// Asserts that `dvc status` in `dir` reports a clean repository.
#[track_caller]
fn assert_dvc_clean(env: &TestEnv, dir: &Path) {
    let json = dvc_ok_in(env, dir, &["status", "--json"]);
    assert_eq!(
        parse(&json),
        serde_json::json!({}),
        "dvc status is not clean"
    );
}

/// Asserts that `strix status` in `dir` reports a clean repository, in all three forms.
#[track_caller]
fn assert_strix_clean(env: &TestEnv, dir: &Path) {
    let text = strix_ok_in(env, dir, &["status"]);
    assert!(
        text.contains("Data and pipelines are up to date."),
        "strix status: {text}"
    );
    let json = strix_ok_in(env, dir, &["status", "--json"]);
    assert_eq!(parse(&json), serde_json::json!({}), "strix status --json");
    let out = env.strix_in(dir, &["status", "-q"]);
    assert_eq!(out.status.code(), Some(0), "strix status -q");
}

#[track_caller]
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("invalid JSON ({e}): {text}"))
}

/// Turns every JSON list into a sorted list (recursively), so outputs whose list order is not
/// stable (DVC iterates sets) compare as sets, like `norm_json` in make-vectors.sh.
fn normalize(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            // Sorted keys, so that the sort key of a list item does not depend on key order.
            let sorted: BTreeMap<String, Value> =
                map.into_iter().map(|(k, v)| (k, normalize(v))).collect();
            Value::Object(sorted.into_iter().collect())
        }
        Value::Array(items) => {
            let mut items: Vec<Value> = items.into_iter().map(normalize).collect();
            items.sort_by_key(|v| v.to_string());
            Value::Array(items)
        }
        other => other,
    }
}

fn vector_json(name: &str) -> Value {
    let path = vectors().join("expected/json").join(name);
    parse(&fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())))
}

/// A git + DVC repo at `dir` holding a copy of the sample workspace; initialized by `tool`.
fn sample_repo(env: &TestEnv, dir: &Path, init_with_dvc: bool) {
    env.git_in(dir, &["init", "--quiet"]);
    copy_tree(&vectors().join("workspace"), dir);
    if init_with_dvc {
        dvc_ok_in(env, dir, &["init", "-q"]);
    } else {
        strix_ok_in(env, dir, &["init", "-q"]);
    }
}

/// The metafiles `add` writes for [`TARGETS`]: every `<target>.dvc` and `.gitignore`.
fn metafiles(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut names: Vec<String> = TARGETS.iter().map(|t| format!("{t}.dvc")).collect();
    names.push(".gitignore".into());
    names
        .into_iter()
        .map(|n| {
            let bytes = fs::read(dir.join(&n)).unwrap_or_else(|e| panic!("read {n}: {e}"));
            (n, bytes)
        })
        .collect()
}

fn mode(path: &Path) -> u32 {
    fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Deletes the tracked data of the sample workspace (files and the whole `data/` dir).
fn delete_sample_data(dir: &Path) {
    for t in TARGETS {
        let p = dir.join(t);
        if p.is_dir() {
            fs::remove_dir_all(&p).unwrap();
        } else {
            fs::remove_file(&p).unwrap();
        }
        assert!(!p.exists());
    }
}

/// The sample workspace as it is in the vectors, for comparing restored data (content and exec
/// bit; other mode bits depend on the link type and umask).
fn assert_workspace_matches_vectors(dir: &Path) {
    let want = tree_listing(vectors().join("workspace"));
    let got = tree_listing_except(dir, &[".git", ".dvc", ".dvcignore", ".gitignore"]);
    let got: BTreeMap<_, _> = got
        .into_iter()
        .filter(|(k, _)| !k.ends_with(".dvc"))
        .collect();
    let strip = |m: &BTreeMap<String, common::Entry>| -> BTreeMap<String, (bool, String)> {
        m.iter()
            .map(|(k, (mode, md5))| (k.clone(), (mode & 0o100 != 0, md5.clone())))
            .collect()
    };
    assert_eq!(
        strip(&got),
        strip(&want),
        "workspace differs from the vectors"
    );
}

// ---------------------------------------------------------------------------------------------
// add: byte-identical output
// ---------------------------------------------------------------------------------------------

/// `strix add` and `dvc add` of the same data write the same .dvc files, .gitignore, .dir
/// object and cache objects (paths, bytes, mode 0444); DVC then accepts strix's repo.
#[test]
fn add_matches_dvc_byte_for_byte() {
    let env = TestEnv::new();
    let with_strix = env.mkdir("with-strix");
    let with_dvc = env.mkdir("with-dvc");
    if !have_dvc() {
        return;
    }
    sample_repo(&env, &with_strix, false);
    sample_repo(&env, &with_dvc, true);

    let mut args = vec!["add", "-q"];
    args.extend_from_slice(TARGETS);
    strix_ok_in(&env, &with_strix, &args);
    dvc_ok_in(&env, &with_dvc, &args);

    // Cache: same paths, same bytes, same (0444) modes.
    let strix_cache = tree_listing(with_strix.join(".dvc/cache"));
    let dvc_cache = tree_listing(with_dvc.join(".dvc/cache"));
    assert_eq!(strix_cache, dvc_cache, "cache differs from DVC's");
    assert_eq!(strix_cache.len(), 18);
    for (path, (m, _)) in &strix_cache {
        assert_eq!(m & 0o7777, 0o444, "mode of cache object {path}");
    }
    // ... and the same as the vectors' listing.
    let listing = fs::read_to_string(vectors().join("expected/dvc3/cache-listing.txt")).unwrap();
    let want: BTreeSet<String> = listing
        .lines()
        .map(|l| l.splitn(3, ' ').nth(2).unwrap().to_owned())
        .collect();
    let got: BTreeSet<String> = strix_cache.keys().cloned().collect();
    assert_eq!(got, want);
    let dir_obj = "files/md5/bf/8385e2b15aea0801b306267fe382bc.dir";
    assert_eq!(
        strix_cache[dir_obj].1,
        md5_hex(
            &fs::read(vectors().join("expected/dvc3/dir/bf8385e2b15aea0801b306267fe382bc.dir"))
                .unwrap()
        )
    );

    // Metafiles: byte-identical to DVC's and to the vectors.
    let strix_meta = metafiles(&with_strix);
    assert_eq!(strix_meta, metafiles(&with_dvc));
    for t in TARGETS {
        let want = fs::read(vectors().join(format!("expected/dvc3/dvcfiles/{t}.dvc"))).unwrap();
        assert_eq!(
            String::from_utf8_lossy(&strix_meta[&format!("{t}.dvc")]),
            String::from_utf8_lossy(&want),
            "{t}.dvc"
        );
    }
    assert_eq!(
        strix_meta[".gitignore"],
        fs::read(vectors().join("expected/dvc3/gitignore")).unwrap()
    );

    // DVC sees a clean repo, and restores deleted data from strix's cache byte for byte.
    assert_dvc_clean(&env, &with_strix);
    delete_sample_data(&with_strix);
    let status = parse(&dvc_ok_in(&env, &with_strix, &["status", "--json"]));
    assert_eq!(
        status["hello.txt.dvc"][0]["changed outs"]["hello.txt"],
        "deleted"
    );
    dvc_ok_in(&env, &with_strix, &["checkout", "-q"]);
    assert_workspace_matches_vectors(&with_strix);
    assert_dvc_clean(&env, &with_strix);
    assert_strix_clean(&env, &with_strix);
    // The cache was not touched by the checkout.
    assert_eq!(tree_listing(with_strix.join(".dvc/cache")), dvc_cache);
}

/// `add` of a few hundred targets at once (their data flushed once for all of them) writes what
/// `dvc add` of the same targets writes: every `.dvc` file, the `.gitignore` in DVC's order, and
/// the same cache; DVC then finds strix's repository clean. The same for `commit --force` of all
/// of them after each one changed.
#[test]
fn add_of_many_targets_matches_dvc() {
    let env = TestEnv::new();
    let with_strix = env.mkdir("with-strix");
    let with_dvc = env.mkdir("with-dvc");
    if !have_dvc() {
        return;
    }
    let names: Vec<String> = (0..200).map(|i| format!("d/f{i:03}.txt")).collect();
    for (dir, tool) in [(&with_strix, "strix"), (&with_dvc, "dvc")] {
        env.git_in(dir, &["init", "--quiet"]);
        fs::create_dir_all(dir.join("d")).unwrap();
        for (i, n) in names.iter().enumerate() {
            fs::write(dir.join(n), format!("line {i}\n")).unwrap();
        }
        let mut args = vec!["add", "-q"];
        args.extend(names.iter().map(String::as_str));
        if tool == "strix" {
            strix_ok_in(&env, dir, &["init", "-q"]);
            strix_ok_in(&env, dir, &args);
        } else {
            dvc_ok_in(&env, dir, &["init", "-q"]);
            dvc_ok_in(&env, dir, &args);
        }
    }
    for n in &names {
        let dvcfile = format!("{n}.dvc");
        assert_eq!(
            fs::read_to_string(with_strix.join(&dvcfile)).unwrap(),
            fs::read_to_string(with_dvc.join(&dvcfile)).unwrap(),
            "{dvcfile}"
        );
    }
    assert_eq!(
        fs::read_to_string(with_strix.join("d/.gitignore")).unwrap(),
        fs::read_to_string(with_dvc.join("d/.gitignore")).unwrap()
    );
    let cache = tree_listing(with_strix.join(".dvc/cache"));
    assert_eq!(cache.len(), names.len());
    assert_eq!(cache, tree_listing(with_dvc.join(".dvc/cache")));
    assert_dvc_clean(&env, &with_strix);

    // Every file changed, then `commit --force` of all of them (one flush as well).
    for dir in [&with_strix, &with_dvc] {
        for (i, n) in names.iter().enumerate() {
            fs::write(dir.join(n), format!("line {i}, changed\n")).unwrap();
        }
    }
    strix_ok_in(&env, &with_strix, &["commit", "-q", "--force"]);
    dvc_ok_in(&env, &with_dvc, &["commit", "-q", "--force"]);
    for n in &names {
        let dvcfile = format!("{n}.dvc");
        assert_eq!(
            fs::read_to_string(with_strix.join(&dvcfile)).unwrap(),
            fs::read_to_string(with_dvc.join(&dvcfile)).unwrap(),
            "{dvcfile} after commit"
        );
    }
    let cache = tree_listing(with_strix.join(".dvc/cache"));
    assert_eq!(cache.len(), 2 * names.len());
    assert_eq!(cache, tree_listing(with_dvc.join(".dvc/cache")));
    assert_dvc_clean(&env, &with_strix);
}

/// After `dvc add`, strix reads DVC's .dvc files and cache: status is clean, checkout restores
/// deleted data, and `checkout --force` restores a modified file.
#[test]
fn strix_reads_what_dvc_added() {
    let env = TestEnv::new();
    let repo = env.repo().to_path_buf();
    if !have_dvc() {
        return;
    }
    sample_repo(&env, &repo, true);
    let mut args = vec!["add", "-q"];
    args.extend_from_slice(TARGETS);
    dvc_ok(&env, &args);
    let cache_before = tree_listing(repo.join(".dvc/cache"));

    assert_strix_clean(&env, &repo);

    delete_sample_data(&repo);
    let status = parse(&env.strix_ok(&["status", "--json"]));
    assert_eq!(
        status["data.dvc"][0]["changed outs"]["data"], "deleted",
        "{status}"
    );
    assert_eq!(
        status["run.sh.dvc"][0]["changed outs"]["run.sh"], "deleted",
        "{status}"
    );
    env.strix_ok(&["checkout"]);
    assert_workspace_matches_vectors(&repo);
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);

    // A modified file: checkout without --force must not silently lose data that is not in
    // the cache; with --force the cached version comes back.
    env.write("hello.txt", "local edit\n");
    env.write("data/nested/b.txt", "edited\n");
    let status = parse(&env.strix_ok(&["status", "--json"]));
    assert_eq!(
        status["hello.txt.dvc"][0]["changed outs"]["hello.txt"],
        "modified"
    );
    assert_eq!(status["data.dvc"][0]["changed outs"]["data"], "modified");
    let out = env.strix(&["checkout"]);
    assert_failure(&out);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hello.txt") || err.contains("nested/b.txt"),
        "the error names an unsaved file: {err}"
    );
    assert_eq!(env.read("hello.txt"), b"local edit\n");
    env.strix_ok(&["checkout", "--force"]);
    assert_eq!(env.read("hello.txt"), b"hello\n");
    assert_eq!(env.read("data/nested/b.txt"), b"b\n");
    assert_workspace_matches_vectors(&repo);
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);
    assert_eq!(tree_listing(repo.join(".dvc/cache")), cache_before);
}

// ---------------------------------------------------------------------------------------------
// the repo lock
// ---------------------------------------------------------------------------------------------

/// A child process holding `.dvc/tmp/lock` with flock, killed on drop.
struct LockHolder(Child);

impl LockHolder {
    fn hold(env: &TestEnv) -> Self {
        let mut child = env
            .command("python3")
            .args([
                "-c",
                "import fcntl,time\nf=open('.dvc/tmp/lock','a')\n\
                 fcntl.flock(f, fcntl.LOCK_EX|fcntl.LOCK_NB)\nprint('locked', flush=True)\n\
                 time.sleep(30)",
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("start python3");
        let mut line = String::new();
        BufReader::new(child.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(
            line.trim(),
            "locked",
            "the lock holder did not get the lock"
        );
        LockHolder(child)
    }
}

impl Drop for LockHolder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// strix takes DVC's repo lock: while another process holds a flock on `.dvc/tmp/lock`, strix
/// add gives up with DVC's lock error after a few seconds (and DVC does too). Once the holder
/// is gone, both work.
#[test]
fn both_tools_respect_the_repo_lock() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("a.txt", "a\n");
    env.write("b.txt", "b\n");

    let holder = LockHolder::hold(&env);
    let start = Instant::now();
    let out = env.strix(&["add", "a.txt"]);
    let took = start.elapsed();
    assert_failure(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("Unable to acquire lock"),
        "stderr: {}",
        stderr(&out)
    );
    assert!(
        took >= Duration::from_secs(2),
        "gave up too early: {took:?}"
    );
    assert!(took < Duration::from_secs(15), "took too long: {took:?}");
    assert!(!env.repo().join("a.txt.dvc").exists());
    assert!(!env.repo().join(".dvc/cache").exists());
    // DVC is blocked by the same lock.
    let out = env.dvc(&["add", "-q", "b.txt"]).unwrap();
    assert_failure(&out);
    assert!(!env.repo().join("b.txt.dvc").exists());
    drop(holder);

    env.strix_ok(&["add", "-q", "a.txt"]);
    dvc_ok(&env, &["add", "-q", "b.txt"]);
    assert!(env.repo().join("a.txt.dvc").exists());
    assert!(env.repo().join("b.txt.dvc").exists());
    assert_strix_clean(&env, env.repo());
    assert_dvc_clean(&env, env.repo());
}

/// A lock file left behind by a killed process (pid inside, no flock held) blocks neither tool.
#[test]
fn stale_lock_file_does_not_block() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write(".dvc/tmp/lock", " 99999\n");
    env.write("a.txt", "a\n");
    let start = Instant::now();
    env.strix_ok(&["add", "-q", "a.txt"]);
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "strix waited for a stale lock"
    );
    assert!(env.repo().join("a.txt.dvc").exists());
    env.write(".dvc/tmp/lock", " 99999\n");
    assert_dvc_clean(&env, env.repo());
    assert_strix_clean(&env, env.repo());
}

// ---------------------------------------------------------------------------------------------
// config
// ---------------------------------------------------------------------------------------------

/// Global config written by one tool is read by the other.
#[test]
fn global_config_is_shared() {
    let env = TestEnv::new();
    let Some(out) = dvc_in(&env, env.repo(), &["config", "--global", "core.autostage"]) else {
        return;
    };
    // Nothing set yet.
    assert_failure(&out);

    env.strix_ok(&["config", "--global", "core.autostage", "true"]);
    let global = env.root().join("dvc-global/config");
    assert!(global.is_file(), "strix did not write {}", global.display());
    assert_eq!(
        dvc_ok(&env, &["config", "--global", "core.autostage"]).trim(),
        "true"
    );

    dvc_ok(&env, &["remote", "add", "--global", "-d", "myremote", "/x"]);
    assert_eq!(
        env.strix_ok(&["config", "--global", "core.remote"]).trim(),
        "myremote"
    );
    let list = env.strix_ok(&["config", "--list", "--global"]);
    let lines: BTreeSet<&str> = list.lines().collect();
    for want in [
        "core.autostage=true",
        "core.remote=myremote",
        "remote.myremote.url=/x",
    ] {
        assert!(lines.contains(want), "missing {want} in:\n{list}");
    }
    // strix's own edit keeps DVC's keys, and DVC still parses the file.
    env.strix_ok(&["config", "--global", "--unset", "core.autostage"]);
    let dvc_list = dvc_ok(&env, &["config", "--list", "--global"]);
    assert!(!dvc_list.contains("core.autostage"), "{dvc_list}");
    assert!(dvc_list.contains("core.remote=myremote"), "{dvc_list}");
    assert!(dvc_list.contains("remote.myremote.url=/x"), "{dvc_list}");
}

/// `.dvc/config` written by strix parses in DVC, with the same values, and the other way round.
#[test]
fn repo_config_written_by_strix_parses_in_dvc() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.strix_ok(&["config", "cache.type", "reflink,copy"]);
    env.strix_ok(&["config", "cache.shared", "group"]);
    env.strix_ok(&["config", "core.autostage", "true"]);
    env.strix_ok(&["config", "--local", "core.remote", "myremote"]);
    env.strix_ok(&["config", "remote.storage.url", "/srv/dvc-storage"]);

    let list = dvc_ok(&env, &["config", "-l"]);
    let lines: BTreeSet<&str> = list.lines().collect();
    for want in [
        "cache.type=reflink,copy",
        "cache.shared=group",
        "core.autostage=true",
        "core.remote=myremote",
        "remote.storage.url=/srv/dvc-storage",
    ] {
        assert!(lines.contains(want), "dvc config -l lacks {want}:\n{list}");
    }
    assert_eq!(
        dvc_ok(&env, &["config", "cache.type"]).trim(),
        "reflink,copy"
    );
    assert_eq!(
        dvc_ok(&env, &["config", "--local", "core.remote"]).trim(),
        "myremote"
    );
    let text = env.read_string(".dvc/config");
    assert!(text.contains("    type = \"reflink,copy\"\n"), "{text}");

    // And strix reads what DVC writes.
    dvc_ok(&env, &["remote", "add", "s3remote", "s3://bucket/path"]);
    dvc_ok(
        &env,
        &["remote", "modify", "s3remote", "region", "us-east-1"],
    );
    assert_eq!(
        env.strix_ok(&["config", "remote.s3remote.region"]).trim(),
        "us-east-1"
    );
    let strix_list: BTreeSet<String> = env
        .strix_ok(&["config", "-l", "--project"])
        .lines()
        .map(str::to_owned)
        .collect();
    let dvc_list: BTreeSet<String> = dvc_ok(&env, &["config", "-l", "--project"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(strix_list, dvc_list);
}

// ---------------------------------------------------------------------------------------------
// legacy 2.x repositories
// ---------------------------------------------------------------------------------------------

/// Builds a repo as DVC 2.58 left it: legacy .dvc files and objects at .dvc/cache/<2>/<rest>.
fn legacy_repo(env: &TestEnv) {
    let repo = env.repo();
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    let ws = vectors().join("workspace");
    copy_tree(&ws, repo);
    let legacy = vectors().join("expected/legacy-2.x");
    for t in TARGETS {
        fs::copy(
            legacy.join(format!("dvcfiles/{t}.dvc")),
            repo.join(format!("{t}.dvc")),
        )
        .unwrap();
    }
    fs::copy(
        vectors().join("expected/dvc3/gitignore"),
        repo.join(".gitignore"),
    )
    .unwrap();
    // Legacy cache: every workspace file under its dos2unix md5, plus the .dir object.
    let listing = fs::read_to_string(legacy.join("cache-listing.txt")).unwrap();
    let wanted: BTreeSet<String> = listing
        .lines()
        .map(|l| l.splitn(3, ' ').nth(2).unwrap().replace('/', ""))
        .collect();
    let cache = repo.join(".dvc/cache");
    let store = |oid: &str, bytes: &[u8]| {
        let path = cache.join(&oid[..2]).join(&oid[2..]);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, bytes).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o444)).unwrap();
    };
    let dir_name = "62831cd5e600ac9ab10b3eb83cf6fcdc.dir";
    store(
        dir_name,
        &fs::read(legacy.join("dir").join(dir_name)).unwrap(),
    );
    let manifest: Value = parse(&fs::read_to_string(legacy.join("dir").join(dir_name)).unwrap());
    let mut files: Vec<(String, PathBuf)> = manifest
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["md5"].as_str().unwrap().to_owned(),
                ws.join("data").join(e["relpath"].as_str().unwrap()),
            )
        })
        .collect();
    for t in TARGETS.iter().filter(|t| **t != "data") {
        let dvcfile = fs::read_to_string(legacy.join(format!("dvcfiles/{t}.dvc"))).unwrap();
        let md5 = dvcfile
            .lines()
            .find_map(|l| l.strip_prefix("- md5: "))
            .unwrap()
            .to_owned();
        files.push((md5, ws.join(t)));
    }
    for (md5, path) in files {
        store(&md5, &fs::read(&path).unwrap());
    }
    let got: BTreeSet<String> = tree_listing(&cache)
        .keys()
        .map(|k| k.replace('/', ""))
        .collect();
    assert_eq!(
        got, wanted,
        "the legacy cache was not rebuilt as DVC 2.58 wrote it"
    );
}

/// strix works on a DVC 2.x repo like DVC 3 does: status clean, checkout from the legacy cache,
/// legacy entries kept while unchanged, rewritten with `hash: md5` once the data changes.
#[test]
fn legacy_2x_repo() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    legacy_repo(&env);
    let repo = env.repo().to_path_buf();
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);

    // Checkout from the legacy cache.
    delete_sample_data(&repo);
    let status = parse(&env.strix_ok(&["status", "--json"]));
    assert_eq!(
        status["crlf.txt.dvc"][0]["changed outs"]["crlf.txt"],
        "deleted"
    );
    env.strix_ok(&["checkout", "-q"]);
    assert_workspace_matches_vectors(&repo);
    assert!(
        !repo.join(".dvc/cache/files").exists(),
        "checkout wrote to files/md5"
    );
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);

    // add of unchanged legacy data keeps the legacy .dvc files as they are.
    let before: BTreeMap<String, Vec<u8>> = metafiles(&repo);
    env.strix_ok(&["add", "-q", "crlf.txt", "hello.txt", "data"]);
    assert_eq!(
        metafiles(&repo),
        before,
        "add rewrote an unchanged legacy .dvc"
    );
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);

    // Changed data: the entry becomes a DVC 3 one, `hash: md5` appended after `path:`.
    env.write("crlf.txt", "changed\r\n");
    let status = parse(&dvc_ok(&env, &["status", "--json"]));
    assert_eq!(
        status["crlf.txt.dvc"][0]["changed outs"]["crlf.txt"],
        "modified"
    );
    env.strix_ok(&["add", "-q", "crlf.txt"]);
    let md5 = md5_hex(b"changed\r\n");
    assert_eq!(
        env.read_string("crlf.txt.dvc"),
        format!("outs:\n- md5: {md5}\n  size: 9\n  path: crlf.txt\n  hash: md5\n")
    );
    let object = repo.join(format!(".dvc/cache/files/md5/{}/{}", &md5[..2], &md5[2..]));
    assert_eq!(fs::read(&object).unwrap(), b"changed\r\n");
    assert_eq!(mode(&object), 0o444);
    // The other legacy files are untouched.
    for t in ["hello.txt", "data", "run.sh"] {
        assert_eq!(
            fs::read(repo.join(format!("{t}.dvc"))).unwrap(),
            before[&format!("{t}.dvc")]
        );
    }
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);

    // A changed legacy directory: new .dir in files/md5, hash after path.
    env.write("data/new.txt", "new\n");
    env.strix_ok(&["add", "-q", "data"]);
    let text = env.read_string("data.dvc");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    assert_eq!(lines[4], "  path: data", "{text}");
    assert_eq!(lines[5], "  hash: md5", "{text}");
    assert!(lines[3] == "  nfiles: 14", "{text}");
    let oid = lines[1].strip_prefix("- md5: ").unwrap();
    assert!(oid.ends_with(".dir"), "{text}");
    assert!(
        repo.join(format!(".dvc/cache/files/md5/{}/{}", &oid[..2], &oid[2..]))
            .is_file()
    );
    assert_strix_clean(&env, &repo);
    assert_dvc_clean(&env, &repo);
    // DVC computes the same directory hash for the same data.
    let out = dvc_ok(&env, &["data", "status", "--json"]);
    assert_eq!(parse(&out).get("uncommitted"), None, "{out}");
}

// ---------------------------------------------------------------------------------------------
// diff and data status JSON against the vectors
// ---------------------------------------------------------------------------------------------

/// The edits make-vectors.sh makes after committing the added sample workspace.
fn vector_edits(env: &TestEnv) {
    env.write("hello.txt", "hello, world\n");
    fs::remove_file(env.repo().join("data/a.txt")).unwrap();
    env.write("data/new.txt", "new\n");
    env.write("data/nested/b.txt", "B\n");
}

#[track_caller]
fn assert_json_matches(got: &str, vector: &str, what: &str) {
    assert_eq!(
        normalize(parse(got)),
        normalize(vector_json(vector)),
        "{what} differs from {vector}; got {got}"
    );
}

/// `status --json`, `data status --json`, `diff --json` agree with the normalized DVC vectors
/// and with DVC's own output on the same repo, before and after `add`.
#[test]
fn json_outputs_match_vectors_and_dvc() {
    let env = TestEnv::new();
    let repo = env.repo().to_path_buf();
    if !have_dvc() {
        return;
    }
    sample_repo(&env, &repo, false);
    let mut args = vec!["add", "-q"];
    args.extend_from_slice(TARGETS);
    env.strix_ok(&args);
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "base"]);
    vector_edits(&env);

    let cmds: &[(&[&str], &str)] = &[
        (&["status", "--json"], "status.json"),
        (
            &["data", "status", "--granular", "--json"],
            "data-status-granular.json",
        ),
        (&["diff", "--json"], "diff.json"),
    ];
    for (cmd, vector) in cmds {
        let got = env.strix_ok(cmd);
        assert_json_matches(&got, vector, &format!("strix {cmd:?}"));
        let dvc = dvc_ok(&env, cmd);
        assert_eq!(
            normalize(parse(&got)),
            normalize(parse(&dvc)),
            "strix {cmd:?} vs dvc"
        );
    }

    env.strix_ok(&["add", "-q", "hello.txt", "data"]);
    let cmds: &[(&[&str], &str)] = &[
        (
            &["diff", "--show-hash", "--json"],
            "diff-show-hash-after-add.json",
        ),
        (&["data", "status", "--json"], "data-status-after-add.json"),
    ];
    for (cmd, vector) in cmds {
        let got = env.strix_ok(cmd);
        assert_json_matches(&got, vector, &format!("strix {cmd:?}"));
        let dvc = dvc_ok(&env, cmd);
        assert_eq!(
            normalize(parse(&got)),
            normalize(parse(&dvc)),
            "strix {cmd:?} vs dvc"
        );
    }
    // Once committed, both report nothing.
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "edits"]);
    for cmd in [&["diff", "--json"][..], &["data", "status", "--json"][..]] {
        let got = env.strix_ok(cmd);
        let dvc = dvc_ok(&env, cmd);
        assert_eq!(
            normalize(parse(&got)),
            normalize(parse(&dvc)),
            "strix {cmd:?} vs dvc"
        );
    }
    assert_eq!(
        parse(&env.strix_ok(&["diff", "--json"])),
        serde_json::json!({})
    );
    // Between two revisions.
    // Between two revisions: the same changes, but DVC leaves out "not in cache".
    let got = env.strix_ok(&["diff", "--json", "HEAD~1", "HEAD"]);
    let mut want = vector_json("diff.json");
    assert!(
        want.as_object_mut()
            .unwrap()
            .remove("not in cache")
            .is_some()
    );
    assert_eq!(
        normalize(parse(&got)),
        normalize(want),
        "strix diff HEAD~1 HEAD: {got}"
    );
    let dvc = dvc_ok(&env, &["diff", "--json", "HEAD~1", "HEAD"]);
    assert_eq!(normalize(parse(&got)), normalize(parse(&dvc)));
}

/// The same repo state, data added by DVC, inspected by strix: same JSON as DVC.
#[test]
fn json_outputs_on_a_dvc_made_repo() {
    let env = TestEnv::new();
    let repo = env.repo().to_path_buf();
    if !have_dvc() {
        return;
    }
    sample_repo(&env, &repo, true);
    let mut args = vec!["add", "-q"];
    args.extend_from_slice(TARGETS);
    dvc_ok(&env, &args);
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "base"]);
    vector_edits(&env);
    let got = env.strix_ok(&["data", "status", "--granular", "--json"]);
    assert_json_matches(
        &got,
        "data-status-granular.json",
        "strix data status --granular",
    );
    let got = env.strix_ok(&["diff", "--json", "--targets", "hello.txt"]);
    let dvc = dvc_ok(&env, &["diff", "--json", "--targets", "hello.txt"]);
    assert_eq!(normalize(parse(&got)), normalize(parse(&dvc)));
    assert_eq!(
        parse(&got)["modified"],
        serde_json::json!([{"path": "hello.txt"}])
    );
    dvc_ok(&env, &["add", "-q", "hello.txt", "data"]);
    let got = env.strix_ok(&["diff", "--show-hash", "--json"]);
    assert_json_matches(
        &got,
        "diff-show-hash-after-add.json",
        "strix diff --show-hash",
    );
}

// ---------------------------------------------------------------------------------------------
// editing existing .dvc files
// ---------------------------------------------------------------------------------------------

/// Re-adding changed data edits the existing .dvc in place like DVC's ruamel round trip:
/// comments, flow style, unknown-but-valid keys and their order survive (spec 2.6).
#[test]
fn readd_keeps_comments_and_key_order() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("exe.sh", "old\n");
    fs::set_permissions(env.repo().join("exe.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    env.strix_ok(&["add", "-q", "exe.sh"]);
    let old = md5_hex(b"old\n");
    let hand_edited = |md5: &str, size: u32| {
        format!(
            "# top comment\nouts:\n- md5: {md5}   # inline\n  size: {size}\n  isexec: true\n  \
             hash: md5\n  path: exe.sh\n  desc: my exe\n  type: script\n  labels: [a, b]\n  \
             meta: {{owner: me}}\n  push: false\nmeta:\n  author: x\ndesc: top-level desc\n"
        )
    };
    env.write("exe.sh.dvc", hand_edited(&old, 4));
    assert_strix_clean(&env, env.repo());
    assert_dvc_clean(&env, env.repo());

    env.write("exe.sh", "new!\n");
    env.strix_ok(&["add", "-q", "exe.sh"]);
    let new = md5_hex(b"new!\n");
    assert_eq!(env.read_string("exe.sh.dvc"), hand_edited(&new, 5));
    assert_strix_clean(&env, env.repo());
    assert_dvc_clean(&env, env.repo());

    // DVC's own rewrite of the same file gives the same bytes.
    env.write("exe.sh.dvc", hand_edited(&old, 4));
    dvc_ok(&env, &["add", "-q", "exe.sh"]);
    assert_eq!(env.read_string("exe.sh.dvc"), hand_edited(&new, 5));
}

/// `checkout` reports like DVC 3.67.1: the list names outputs (modified ones first, then added
/// ones; tab-separated where DVC's console pads with spaces), while `--summary` counts the files inside them that were added, modified and
/// deleted ("1 file modified, 2 files added and 1 file deleted").
#[test]
fn checkout_reports_and_summaries_match_dvc() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    let ours = env.mkdir("ours");
    let theirs = env.mkdir("theirs");
    let both = |f: &dyn Fn(&Path)| {
        f(&ours);
        f(&theirs);
    };
    both(&|d: &Path| {
        env.git_in(d, &["init", "--quiet"]);
        fs::create_dir_all(d.join("d/sub")).unwrap();
        for (p, text) in [
            ("d/a", "a\n"),
            ("d/sub/b", "b\n"),
            ("d/c", "c\n"),
            ("m.txt", "m\n"),
        ] {
            fs::write(d.join(p), text).unwrap();
        }
    });
    strix_ok_in(&env, &ours, &["init", "-q"]);
    dvc_ok_in(&env, &theirs, &["init", "-q"]);
    strix_ok_in(&env, &ours, &["add", "-q", "d", "m.txt"]);
    dvc_ok_in(&env, &theirs, &["add", "-q", "d", "m.txt"]);
    let write = |d: &Path, p: &str, text: &str| {
        let path = d.join(p);
        if path.exists() {
            let _ = fs::set_permissions(&path, fs::Permissions::from_mode(0o644));
        }
        fs::write(path, text).unwrap();
    };
    type Step<'a> = (Box<dyn Fn(&Path) + 'a>, Vec<&'a str>);
    let steps: Vec<Step> = vec![
        (
            Box::new(|d: &Path| {
                fs::remove_file(d.join("d/a")).unwrap();
                fs::remove_file(d.join("m.txt")).unwrap();
            }),
            vec!["checkout", "--summary"],
        ),
        (Box::new(|_: &Path| {}), vec!["checkout", "--summary"]),
        (
            Box::new(|d: &Path| {
                write(d, "d/c", "changed\n");
                write(d, "d/new", "extra\n");
                fs::remove_file(d.join("d/sub/b")).unwrap();
            }),
            vec!["checkout", "--force", "--summary"],
        ),
        (
            Box::new(|d: &Path| {
                write(d, "d/c", "changed again\n");
                fs::remove_file(d.join("m.txt")).unwrap();
            }),
            vec!["checkout", "--force"],
        ),
        (
            Box::new(|d: &Path| {
                fs::remove_dir_all(d.join("d")).unwrap();
            }),
            vec!["checkout"],
        ),
    ];
    for (change, args) in &steps {
        both(&|d: &Path| change(d));
        // DVC's console expands the list's tabs to spaces; strix keeps the tab.
        let s = strix_ok_in(&env, &ours, args);
        let d = dvc_ok_in(&env, &theirs, args);
        assert_eq!(common::words(&s), common::words(&d), "{args:?}");
    }
    assert_eq!(
        fs::read_to_string(ours.join("d/c")).unwrap(),
        fs::read_to_string(theirs.join("d/c")).unwrap()
    );
}

/// `add dir/file` where `dir` is tracked updates only that entry of the directory, as DVC 3.67.1
/// does (the same `.dir` object and `.dvc` file: `size` dropped, `nfiles` updated); other
/// changes in the directory stay unrecorded. Targets that overlap each other in one `add` are
/// refused, as DVC refuses them, and nothing is written.
#[test]
fn add_inside_a_tracked_directory_matches_dvc() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    let ours = env.mkdir("ours");
    let theirs = env.mkdir("theirs");
    for (dir, dvc) in [(&ours, false), (&theirs, true)] {
        let run = |args: &[&str]| {
            let out = if dvc {
                dvc_in(&env, dir, args).unwrap()
            } else {
                env.strix_in(dir, args)
            };
            assert_success(&out);
        };
        env.git_in(dir, &["init", "--quiet"]);
        fs::create_dir_all(dir.join("data/sub")).unwrap();
        fs::write(dir.join("data/a"), "a\n").unwrap();
        fs::write(dir.join("data/sub/b"), "b\n").unwrap();
        run(&["init", "-q"]);
        run(&["add", "-q", "data"]);
        fs::write(dir.join("data/a"), "changed\n").unwrap();
        fs::write(dir.join("data/sub/b"), "bbbbbb\n").unwrap();
        fs::write(dir.join("data/sub/new"), "n\n").unwrap();
        fs::create_dir_all(dir.join("data/sub/deeper")).unwrap();
        fs::write(dir.join("data/sub/deeper/c"), "c\n").unwrap();
        run(&["add", "-q", "data/sub/b"]);
        run(&["add", "-q", "data/sub/new", "data/sub/deeper"]);

        fs::create_dir_all(dir.join("d2")).unwrap();
        fs::write(dir.join("d2/x"), "x\n").unwrap();
        let out = if dvc {
            dvc_in(&env, dir, &["add", "d2", "d2/x"]).unwrap()
        } else {
            env.strix_in(dir, &["add", "d2", "d2/x"])
        };
        assert_eq!(out.status.code(), Some(1), "dvc: {dvc}");
        assert!(!dir.join("d2.dvc").exists() && !dir.join("d2/x.dvc").exists());
    }
    let dvcfile = |d: &Path| fs::read_to_string(d.join("data.dvc")).unwrap();
    assert_eq!(dvcfile(&ours), dvcfile(&theirs));
    assert!(!dvcfile(&ours).contains("size:"), "{}", dvcfile(&ours));
    assert!(dvcfile(&ours).contains("nfiles: 4"), "{}", dvcfile(&ours));
    let objects = |d: &Path| -> BTreeMap<_, _> {
        tree_listing(d.join(".dvc/cache"))
            .into_iter()
            .filter(|(k, _)| !k.ends_with(".tmp"))
            .collect()
    };
    // DVC also leaves the manifest of each intermediate step (one per target); strix writes
    // only the final one.
    let (o, t) = (objects(&ours), objects(&theirs));
    assert!(o.iter().all(|(k, v)| t.get(k) == Some(v)), "{o:?}\n{t:?}");
    assert!(
        t.keys().all(|k| o.contains_key(k) || k.ends_with(".dir")),
        "{t:?}"
    );
    // Both see `data/a` as the one change left; DVC restores what strix recorded.
    let st = dvc_ok_in(&env, &ours, &["status"]);
    assert_eq!(st, strix_ok_in(&env, &ours, &["status"]));
    assert!(st.contains("modified:           data"), "{st}");
    fs::remove_dir_all(ours.join("data")).unwrap();
    dvc_ok_in(&env, &ours, &["checkout"]);
    assert_eq!(fs::read_to_string(ours.join("data/a")).unwrap(), "a\n");
    assert_eq!(
        fs::read_to_string(ours.join("data/sub/b")).unwrap(),
        "bbbbbb\n"
    );
    assert_eq!(
        fs::read_to_string(ours.join("data/sub/deeper/c")).unwrap(),
        "c\n"
    );
    assert_strix_clean(&env, &ours);
}

/// `checkout PATH` inside a tracked directory restores only that file or folder, as DVC 3.67.1
/// does: `--force` there never discards changes elsewhere in the directory.
#[test]
fn checkout_inside_a_tracked_directory_touches_only_that_part() {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    let ours = env.mkdir("ours");
    let theirs = env.mkdir("theirs");
    let mut outputs = Vec::new();
    for (dir, dvc) in [(&ours, false), (&theirs, true)] {
        let run = |args: &[&str]| {
            if dvc {
                dvc_in(&env, dir, args).unwrap()
            } else {
                env.strix_in(dir, args)
            }
        };
        env.git_in(dir, &["init", "--quiet"]);
        fs::create_dir_all(dir.join("data/sub")).unwrap();
        fs::write(dir.join("data/a"), "a\n").unwrap();
        fs::write(dir.join("data/sub/b"), "b\n").unwrap();
        assert_success(&run(&["init", "-q"]));
        assert_success(&run(&["add", "-q", "data"]));
        fs::write(dir.join("data/a"), "a2\n").unwrap();
        fs::write(dir.join("data/sub/c"), "c\n").unwrap();
        fs::remove_file(dir.join("data/sub/b")).unwrap();

        // Unsaved files in the part: refused, nothing changes.
        let out = run(&["checkout", "data/sub"]);
        assert_eq!(out.status.code(), Some(255), "dvc: {dvc}");
        assert!(
            stderr(&out).contains("data/sub/c"),
            "dvc: {dvc}: {}",
            stderr(&out)
        );
        assert!(
            !stderr(&out).contains("data/a"),
            "dvc: {dvc}: {}",
            stderr(&out)
        );
        assert!(dir.join("data/sub/c").exists());

        let out = run(&["checkout", "--force", "data/sub"]);
        assert_success(&out);
        outputs.push(stdout(&out));
        assert_eq!(fs::read_to_string(dir.join("data/sub/b")).unwrap(), "b\n");
        assert!(!dir.join("data/sub/c").exists(), "dvc: {dvc}");
        assert_eq!(
            fs::read_to_string(dir.join("data/a")).unwrap(),
            "a2\n",
            "dvc: {dvc}"
        );

        fs::remove_file(dir.join("data/sub/b")).unwrap();
        let out = run(&["checkout", "--summary", "data/sub/b"]);
        assert_success(&out);
        outputs.push(stdout(&out));
        assert_eq!(
            fs::read_to_string(dir.join("data/a")).unwrap(),
            "a2\n",
            "dvc: {dvc}"
        );
    }
    assert_eq!(common::words(&outputs[0]), common::words(&outputs[2]));
    assert_eq!(outputs[1], outputs[3]);

    // A path the directory does not record is refused and kept (DVC deletes it).
    fs::write(ours.join("data/untracked"), "mine\n").unwrap();
    let out = env.strix_in(&ours, &["checkout", "--force", "data/untracked"]);
    assert_eq!(out.status.code(), Some(255));
    assert!(
        stderr(&out).contains("'data/untracked' is not tracked"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        fs::read_to_string(ours.join("data/untracked")).unwrap(),
        "mine\n"
    );
}
