//! Crash and failure safety of the real `strix` binary: a full disk, SIGKILL in the middle of
//! `add` and `checkout`, locks left by dead processes, corrupted or missing cache objects and a
//! corrupt state database. After each of them the workspace must be intact, the cache must hold
//! only complete objects, and the next run must finish the job.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::{
    TestEnv, assert_failure, assert_success, md5_hex, stderr, stdout, strix_bin, tree_listing,
};

// ---------------------------------------------------------------------------------------------
// Helpers

/// Prints a line to stderr (shown by the test runner for failing tests, or with --nocapture).
#[allow(clippy::print_stderr)]
fn note(msg: impl AsRef<str>) {
    eprintln!("{}", msg.as_ref());
}

/// A small deterministic PRNG (xorshift64*), seeded from the clock unless `STRIX_SAFETY_SEED` is
/// set in the test's own environment; the seed is printed so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn from_env_or_clock(what: &str) -> Self {
        let seed = std::env::var("STRIX_SAFETY_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
            });
        note(format!(
            "{what}: random seed {seed} (replay with STRIX_SAFETY_SEED={seed})"
        ));
        Rng(seed | 1)
    }

    fn seeded(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next() % n }
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len + 8);
        while out.len() < len {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(len);
        out
    }
}

/// Creates `n_small` small files (spread over subdirectories) and one file per entry of
/// `big_sizes` under `dir`.
fn make_dataset(dir: &Path, n_small: usize, big_sizes: &[usize], seed: u64) {
    let mut rng = Rng::seeded(seed);
    for i in 0..n_small {
        let sub = dir.join(format!("s{:02}", i % 40));
        if i < 40 {
            fs::create_dir_all(&sub).unwrap();
        }
        fs::write(
            sub.join(format!("f{i:05}.txt")),
            format!("small file {i} of seed {seed}\n"),
        )
        .unwrap();
    }
    fs::create_dir_all(dir).unwrap();
    for (i, size) in big_sizes.iter().enumerate() {
        fs::write(dir.join(format!("big{i}.bin")), rng.bytes(*size)).unwrap();
    }
}

/// Every file under `root` (recursively, not following symlinks), skipping `.git`.
fn all_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(rd) = fs::read_dir(&dir) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(p);
                }
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// strix's temporaries (`.strix-<pid>-<n>-<x>.tmp`) anywhere under `root` (outside `.git`).
fn strix_temps(root: &Path) -> Vec<PathBuf> {
    all_files(root)
        .into_iter()
        .filter(|p| is_strix_temp(p))
        .collect()
}

fn is_strix_temp(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(".strix-") && n.ends_with(".tmp"))
}

/// Asserts the cache holds only complete objects: no `*.tmp` anywhere, and every file under
/// `files/md5/xx/` hashes to its own name (`.dir` suffix stripped). Returns the number of objects.
#[track_caller]
fn assert_cache_sound(cache: &Path) -> usize {
    assert_cache_sound_allowing_temps(cache, false)
}

/// [`assert_cache_sound`], optionally skipping strix's own temporaries.
#[track_caller]
fn assert_cache_sound_allowing_temps(cache: &Path, allow_strix_temps: bool) -> usize {
    if !cache.exists() {
        return 0;
    }
    let mut n = 0;
    let objects = cache.join("files/md5");
    for p in all_files(cache) {
        if allow_strix_temps && is_strix_temp(&p) {
            continue;
        }
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            !name.ends_with(".tmp"),
            "temporary left in the cache: {}",
            p.display()
        );
        let Ok(rel) = p.strip_prefix(&objects) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('/', "");
        let want = rel.strip_suffix(".dir").unwrap_or(&rel);
        let got = md5_hex(&fs::read(&p).unwrap());
        assert_eq!(
            got,
            want,
            "cache object {} does not hash to its name",
            p.display()
        );
        n += 1;
    }
    n
}

/// Path of a DVC 3 cache object.
fn object_path(cache: &Path, md5: &str) -> PathBuf {
    cache.join("files/md5").join(&md5[..2]).join(&md5[2..])
}

/// The `md5:` values of the outs of a `.dvc` file (simple line parsing of what strix writes).
fn dvc_md5s(dvcfile: &Path) -> Vec<String> {
    fs::read_to_string(dvcfile)
        .unwrap()
        .lines()
        .filter_map(|l| {
            l.trim_start_matches(['-', ' '])
                .strip_prefix("md5: ")
                .map(|s| s.trim().to_owned())
        })
        .collect()
}

/// The (relpath → md5) entries of the `.dir` manifest `md5` (with its `.dir` suffix).
fn read_manifest(cache: &Path, md5: &str) -> BTreeMap<String, String> {
    let bytes = fs::read(object_path(cache, md5)).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["relpath"].as_str().unwrap().to_owned(),
                e["md5"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Asserts every object a `.dvc` file points to (the `.dir` and every file it lists) is in the
/// cache with the right content.
#[track_caller]
fn assert_dvcfile_objects_present(cache: &Path, dvcfile: &Path) {
    for md5 in dvc_md5s(dvcfile) {
        let obj = object_path(cache, &md5);
        assert!(
            obj.is_file(),
            "{} points to {md5}, which is not in the cache",
            dvcfile.display()
        );
        if md5.ends_with(".dir") {
            for (rel, m) in read_manifest(cache, &md5) {
                let p = object_path(cache, &m);
                assert!(
                    p.is_file(),
                    "{} lists {rel} ({m}), which is not in the cache",
                    dvcfile.display()
                );
                assert_eq!(md5_hex(&fs::read(&p).unwrap()), m, "object of {rel}");
            }
        }
    }
}

/// (relpath → md5) of every file under `dir`, ignoring modes.
fn contents(dir: &Path) -> BTreeMap<String, String> {
    tree_listing(dir)
        .into_iter()
        .map(|(k, (_, md5))| (k, md5))
        .collect()
}

fn spawn_strix(env: &TestEnv, args: &[&str]) -> Child {
    env.command(strix_bin())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn strix")
}

/// SIGKILLs `child` (if it is still running) and reaps it. Returns whether it was killed, as
/// opposed to having exited by itself first.
fn kill(child: &mut Child) -> bool {
    let _ = child.kill();
    let status = child.wait().unwrap();
    status.signal() == Some(libc_sigkill())
}

fn libc_sigkill() -> i32 {
    9
}

#[track_caller]
fn assert_status_clean(env: &TestEnv) {
    let out = env.strix(&["status"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(
        text.contains("Data and pipelines are up to date."),
        "status is not clean:\n{text}\n{}",
        stderr(&out)
    );
}

/// A [`TestEnv`] whose repository directory is a tmpfs when one can be mounted (tests run as
/// root), so the heavy tests measure strix rather than a shared disk's writeback; otherwise the
/// usual directory. Fields drop in order: unmount first, then delete the directory.
struct FastRepo {
    _mount: Option<Mount>,
    env: TestEnv,
}

impl std::ops::Deref for FastRepo {
    type Target = TestEnv;
    fn deref(&self) -> &TestEnv {
        &self.env
    }
}

fn fast_repo(what: &str) -> FastRepo {
    let env = TestEnv::new();
    let mount = mount_tmpfs(env.repo(), "1g");
    note(if mount.is_some() {
        format!("{what}: repository on a tmpfs")
    } else {
        format!("{what}: cannot mount a tmpfs; repository on the test directory's filesystem")
    });
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    FastRepo { _mount: mount, env }
}

// ---------------------------------------------------------------------------------------------
// Disk full

/// Unmounts a tmpfs when dropped, even if the test panicked.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let ok = Command::new("umount")
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
}

/// Mounts a tmpfs of `size` on `dir`; `None` when that is not possible (not root, no mount).
/// `STRIX_SAFETY_NO_TMPFS=1` (in the test's own environment) forces the fallbacks.
fn mount_tmpfs(dir: &Path, size: &str) -> Option<Mount> {
    if std::env::var_os("STRIX_SAFETY_NO_TMPFS").is_some_and(|v| v == "1") {
        return None;
    }
    Command::new("mount")
        .args(["-t", "tmpfs", "-o"])
        .arg(format!("size={size}"))
        .arg("tmpfs")
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        .then(|| Mount(dir.to_path_buf()))
}

fn available_bytes(path: &Path) -> u64 {
    let out = Command::new("df")
        .args(["-B1", "--output=avail"])
        .arg(path)
        .output()
        .expect("run df");
    stdout(&out)
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .expect("df output")
}

#[test]
fn disk_full_during_add_loses_nothing_and_rerun_completes() {
    let env = TestEnv::new();
    let mnt = env.mkdir("mnt");
    // Declared after `env`, so it is dropped (unmounted) before the directory is deleted.
    let guard = mount_tmpfs(&mnt, "16m");
    let mounted = guard.is_some();
    let repo = if mounted {
        note("disk full: using a 16 MiB tmpfs holding the repository");
        mnt.join("repo")
    } else {
        note(
            "disk full: no tmpfs (mount failed, or STRIX_SAFETY_NO_TMPFS=1); falling back to `ulimit -f` (EFBIG)",
        );
        env.repo().to_path_buf()
    };
    fs::create_dir_all(&repo).unwrap();
    env.git_in(&repo, &["init", "--quiet"]);
    assert_success(&env.strix_in(&repo, &["init", "-q"]));

    let data = repo.join("data");
    make_dataset(&data, 60, &[1 << 20, 1 << 20, 1 << 20], 7);
    fs::write(repo.join("big.bin"), Rng::seeded(8).bytes(2 << 20)).unwrap();
    let before = tree_listing(&data);
    let big_md5 = md5_hex(&fs::read(repo.join("big.bin")).unwrap());

    let mut filler = None;
    if mounted {
        // Leave about 1.5 MiB free: less than the 3 MiB (data) or 2 MiB (big.bin) the cache needs.
        let avail = available_bytes(&mnt);
        let keep = 1536 * 1024;
        assert!(avail > keep, "tmpfs too small: {avail} bytes free");
        let f = mnt.join("filler");
        fs::write(&f, vec![0u8; (avail - keep) as usize]).unwrap();
        note(format!(
            "disk full: {} bytes free before add",
            available_bytes(&mnt)
        ));
        filler = Some(f);
    }
    let add_limited = |target: &str| {
        if mounted {
            env.strix_in(&repo, &["add", target])
        } else {
            // 600 blocks (of 512 or 1024 bytes, depending on the shell) < 1 MiB per big file.
            let mut cmd = env.command_in(&repo, "sh");
            cmd.arg("-c")
                .arg("ulimit -f 600; exec \"$0\" \"$@\"")
                .arg(strix_bin())
                .args(["add", target]);
            cmd.output().unwrap()
        }
    };
    for target in ["data", "big.bin"] {
        let out = add_limited(target);
        assert_failure(&out);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "strix panicked:\n{err}");
        assert!(
            err.contains("error") && (err.contains("No space left") || err.contains("too large")),
            "the error does not say the disk is full:\n{err}"
        );
        assert!(
            err.contains(target),
            "the error does not name the target:\n{err}"
        );
        assert!(
            !repo.join(format!("{target}.dvc")).exists(),
            "{target}.dvc written although add failed"
        );
    }
    assert_eq!(
        md5_hex(&fs::read(repo.join("big.bin")).unwrap()),
        big_md5,
        "big.bin changed by a failed add"
    );
    // Nothing lost, nothing half-written.
    assert_eq!(
        tree_listing(&data),
        before,
        "workspace changed by a failed add"
    );
    let cache = repo.join(".dvc/cache");
    let n = assert_cache_sound(&cache);
    note(format!(
        "disk full: {n} complete object(s) in the cache after the failure"
    ));
    assert!(
        strix_temps(&repo).is_empty(),
        "temporaries left: {:?}",
        strix_temps(&repo)
    );

    // Free the space (or lift the limit) and try again.
    if let Some(f) = filler {
        fs::remove_file(f).unwrap();
    }
    assert_success(&env.strix_in(&repo, &["add", "-q", "data", "big.bin"]));
    assert_eq!(tree_listing(&data), before);
    assert!(assert_cache_sound(&cache) >= 65);
    assert_dvcfile_objects_present(&cache, &repo.join("data.dvc"));
    assert_dvcfile_objects_present(&cache, &repo.join("big.bin.dvc"));
    let st = env.strix_in(&repo, &["status"]);
    assert_success(&st);
    assert!(
        stdout(&st).contains("Data and pipelines are up to date."),
        "{}",
        stdout(&st)
    );
    assert!(strix_temps(&repo).is_empty());
}

// ---------------------------------------------------------------------------------------------
// SIGKILL

#[test]
fn sigkill_during_add_leaves_a_consistent_repo() {
    let env = fast_repo("sigkill/add");
    let data = env.repo().join("data");
    make_dataset(
        &data,
        3000,
        &[
            1 << 20,
            2 << 20,
            3 << 20,
            4 << 20,
            4 << 20,
            4 << 20,
            3 << 20,
            1536 << 10,
            // Above the small-file limit: adopted into the cache, with a
            // fresh copy put back in the workspace.
            6 << 20,
            9 << 20,
        ],
        11,
    );
    let before = tree_listing(&data);
    let cache = env.repo().join(".dvc/cache");
    let dvcfile = env.repo().join("data.dvc");

    // Undo an add completely, so the next add starts from scratch (hash and copy everything).
    let reset = || {
        let _ = fs::remove_dir_all(&cache);
        let _ = fs::remove_file(&dvcfile);
        let _ = fs::remove_file(env.repo().join(".gitignore"));
        let _ = fs::remove_file(env.repo().join(".dvc/tmp/strix/state-v3"));
    };

    // A full run: its duration bounds the kill delays, its .dvc file is the reference.
    let t = Instant::now();
    env.strix_ok(&["add", "-q", "data"]);
    let full = t.elapsed();
    let reference = fs::read_to_string(&dvcfile).unwrap();
    note(format!("sigkill/add: a full add takes {full:?}"));

    let mut rng = Rng::from_env_or_clock("sigkill/add");
    let mut budget_ms = full.as_millis() as u64;
    let mut killed_midway = 0;
    for iter in 0..8 {
        reset();
        // From the very start to just past the (estimated) end, so some kills land after
        // data.dvc is written (while .gitignore is updated). The estimate shrinks whenever a run
        // finishes before the kill: timings vary with the machine's load.
        let delay = Duration::from_millis(rng.below(budget_ms * 21 / 20 + 1));
        let mut child = spawn_strix(&env, &["add", "-q", "data"]);
        std::thread::sleep(delay);
        let killed = kill(&mut child);
        killed_midway += usize::from(killed);
        if !killed {
            budget_ms = budget_ms * 3 / 4;
        }

        // Right after the kill.
        assert_eq!(
            tree_listing(&data),
            before,
            "iteration {iter}: workspace changed"
        );
        let temps = strix_temps(env.repo());
        let dvc_exists = dvcfile.exists();
        // Temporaries of the killed run may remain until the next run; they are never objects.
        let objects = assert_cache_sound_allowing_temps(&cache, true);
        if dvc_exists {
            assert_dvcfile_objects_present(&cache, &dvcfile);
        }
        note(format!(
            "sigkill/add iteration {iter}: delay {delay:?}, killed={killed}, \
             {objects} object(s), {} temporary file(s), data.dvc exists={dvc_exists}",
            temps.len()
        ));

        // The next run cleans up and completes.
        env.strix_ok(&["add", "-q", "data"]);
        assert_eq!(tree_listing(&data), before);
        assert!(
            strix_temps(env.repo()).is_empty(),
            "iteration {iter}: temporaries of the killed run survive the next run: {:?}",
            strix_temps(env.repo())
        );
        assert_cache_sound(&cache);
        assert_eq!(fs::read_to_string(&dvcfile).unwrap(), reference);
        assert_dvcfile_objects_present(&cache, &dvcfile);
        let st = env.strix(&["status"]);
        assert_success(&st);
        assert!(
            !stdout(&st).contains("not in cache"),
            "iteration {iter}: {}",
            stdout(&st)
        );
        assert!(
            stdout(&st).contains("Data and pipelines are up to date."),
            "iteration {iter}: {}",
            stdout(&st)
        );
    }
    note(format!(
        "sigkill/add: {killed_midway} of 8 runs were killed before they finished"
    ));
}

#[test]
fn sigkill_during_checkout_leaves_no_partial_files() {
    let env = fast_repo("sigkill/checkout");
    let data = env.repo().join("data");
    make_dataset(&data, 2000, &[2 << 20, 3 << 20, 4 << 20, 4 << 20], 23);
    let expected = contents(&data);
    env.strix_ok(&["add", "-q", "data"]);

    fs::remove_dir_all(&data).unwrap();
    let t = Instant::now();
    env.strix_ok(&["checkout", "-q"]);
    let full = t.elapsed();
    assert_eq!(contents(&data), expected);
    note(format!("sigkill/checkout: a full checkout takes {full:?}"));

    let mut rng = Rng::from_env_or_clock("sigkill/checkout");
    let mut budget_ms = full.as_millis() as u64;
    for iter in 0..6 {
        fs::remove_dir_all(&data).unwrap();
        // Within the first 90% of a full run, so the kill usually lands mid-checkout; the
        // estimate shrinks whenever a run finishes before the kill.
        let delay = Duration::from_millis(rng.below(budget_ms * 9 / 10 + 1));
        let mut child = spawn_strix(&env, &["checkout", "-q"]);
        let pid = child.id();
        std::thread::sleep(delay);
        let killed = kill(&mut child);
        if !killed {
            budget_ms = budget_ms * 3 / 4;
        }

        let mut present = 0;
        let mut temps = 0;
        for p in all_files(&data) {
            let rel = p
                .strip_prefix(&data)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if is_strix_temp(&p) {
                let name = p.file_name().unwrap().to_string_lossy().into_owned();
                assert!(
                    name.starts_with(&format!(".strix-{pid}-")),
                    "iteration {iter}: temporary {rel} is not from the killed run (pid {pid})"
                );
                temps += 1;
                continue;
            }
            let want = expected
                .get(&rel)
                .unwrap_or_else(|| panic!("iteration {iter}: unexpected file {rel}"));
            assert!(
                fs::symlink_metadata(&p).unwrap().is_file(),
                "iteration {iter}: {rel} is not a regular file"
            );
            assert_eq!(
                &md5_hex(&fs::read(&p).unwrap()),
                want,
                "iteration {iter}: {rel} has partial or wrong content"
            );
            present += 1;
        }
        note(format!(
            "sigkill/checkout iteration {iter}: delay {delay:?}, killed={killed}, \
             {present}/{} files present, {temps} temporary file(s)",
            expected.len()
        ));

        env.strix_ok(&["checkout", "-q"]);
        assert_eq!(contents(&data), expected, "iteration {iter}: not restored");
        assert!(
            strix_temps(env.repo()).is_empty(),
            "iteration {iter}: temporaries survive the next run: {:?}",
            strix_temps(env.repo())
        );
        assert_status_clean(&env);
    }
}

#[test]
fn lock_of_a_killed_process_never_blocks() {
    let env = TestEnv::initialized();
    let data = env.repo().join("data");
    make_dataset(&data, 1000, &[4 << 20, 4 << 20, 4 << 20, 4 << 20], 31);
    env.write("other.txt", "other\n");

    let mut child = spawn_strix(&env, &["add", "-q", "data"]);
    let pid = child.id();
    // The run marker is written right after the lock is taken.
    let marker = env.repo().join(format!(".dvc/tmp/strix/runs/{pid}"));
    let t = Instant::now();
    while !marker.exists() && t.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(1));
    }
    assert!(marker.exists(), "strix add never took the lock");
    assert!(
        kill(&mut child),
        "strix add finished before it could be killed"
    );
    let lock = fs::read_to_string(env.repo().join(".dvc/tmp/lock")).unwrap();
    assert_eq!(
        lock.trim(),
        pid.to_string(),
        "the lock file should name the dead holder"
    );

    let t = Instant::now();
    let out = env.strix(&["add", "-q", "other.txt"]);
    let took = t.elapsed();
    assert_success(&out);
    // Retrying a held lock takes 3 s before failing; a free lock is taken at once. (A lock that
    // outlived its process, e.g. through an inherited descriptor, would show up as a wait.)
    assert!(
        took < Duration::from_millis(2900),
        "add waited {took:?}: was the lock of the dead process honoured?"
    );
    assert!(env.repo().join("other.txt.dvc").is_file());
    assert!(!marker.exists(), "the dead run's marker was not cleaned up");
    assert!(strix_temps(env.repo()).is_empty());
    assert_cache_sound(&env.repo().join(".dvc/cache"));
    env.strix_ok(&["status"]);
}

// ---------------------------------------------------------------------------------------------
// Damaged cache

/// Overwrites a cache object with the same number of different bytes.
fn corrupt_object(path: &Path) {
    let mut perm = fs::metadata(path).unwrap().permissions();
    perm.set_mode(0o644);
    fs::set_permissions(path, perm).unwrap();
    let mut bytes = fs::read(path).unwrap();
    for b in &mut bytes {
        *b = b.wrapping_add(1);
    }
    let mut f = fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .unwrap();
    f.write_all(&bytes).unwrap();
}

#[test]
fn corrupted_cache_object_is_never_linked() {
    let env = TestEnv::initialized();
    env.write("data/good.txt", "good\n");
    env.write("data/sub/bad.txt", "bad content\n");
    env.write("single.txt", "single file\n");
    env.write("ok.txt", "ok\n");
    env.strix_ok(&["add", "-q", "data", "single.txt", "ok.txt"]);
    let cache = env.repo().join(".dvc/cache");
    corrupt_object(&object_path(&cache, &md5_hex(b"bad content\n")));
    corrupt_object(&object_path(&cache, &md5_hex(b"single file\n")));

    fs::remove_dir_all(env.repo().join("data")).unwrap();
    fs::remove_file(env.repo().join("single.txt")).unwrap();
    fs::remove_file(env.repo().join("ok.txt")).unwrap();
    let out = env.strix(&["checkout"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.contains("corrupted"),
        "no mention of corruption:\n{err}"
    );
    assert!(
        err.contains("bad.txt"),
        "the corrupted file is not named:\n{err}"
    );
    assert!(
        err.contains("single.txt"),
        "the corrupted file is not named:\n{err}"
    );
    // Corrupted objects are not linked; the others are restored.
    assert!(!env.repo().join("data/sub/bad.txt").exists());
    assert!(!env.repo().join("single.txt").exists());
    assert_eq!(env.read("data/good.txt"), b"good\n");
    assert_eq!(env.read("ok.txt"), b"ok\n");
    assert!(strix_temps(env.repo()).is_empty());
}

#[test]
fn missing_cache_object_names_the_file_and_hints_pull() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "aaa\n");
    env.write("data/b.txt", "bbb\n");
    env.write("model.bin", "model\n");
    env.strix_ok(&["add", "-q", "data", "model.bin"]);
    let cache = env.repo().join(".dvc/cache");
    fs::remove_file(object_path(&cache, &md5_hex(b"bbb\n"))).unwrap();
    fs::remove_file(object_path(&cache, &md5_hex(b"model\n"))).unwrap();
    fs::remove_dir_all(env.repo().join("data")).unwrap();
    fs::remove_file(env.repo().join("model.bin")).unwrap();

    let out = env.strix(&["checkout"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("model.bin"), "missing file not named:\n{err}");
    assert!(err.contains("b.txt"), "missing file not named:\n{err}");
    assert!(err.contains("pull"), "no hint to pull:\n{err}");
    assert!(!env.repo().join("model.bin").exists());
    assert!(!env.repo().join("data/b.txt").exists());
    assert_eq!(env.read("data/a.txt"), b"aaa\n");
}

// ---------------------------------------------------------------------------------------------
// State database

#[test]
fn corrupt_state_db_is_ignored() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "aaa\n");
    env.write("data/b.txt", "bbb\n");
    env.write("f.txt", "f\n");
    std::thread::sleep(Duration::from_millis(300));
    env.strix_ok(&["add", "-q", "data", "f.txt"]);
    assert_status_clean(&env);
    let state = env.repo().join(".dvc/tmp/strix/state-v3");
    assert!(state.is_file(), "no state db was written");

    let mut rng = Rng::seeded(99);
    fs::write(&state, rng.bytes(4096)).unwrap();
    assert_status_clean(&env);

    fs::write(&state, rng.bytes(100)).unwrap();
    env.write("data/b.txt", "changed\n");
    let out = env.strix_ok(&["status"]);
    assert!(
        out.contains("modified:") && out.contains("data") && !out.contains("f.txt"),
        "{out}"
    );
    // Keeps the magic but garbles the records: still only a hint.
    let mut bytes = fs::read(&state).unwrap_or_default();
    if bytes.len() > 40 {
        for b in &mut bytes[20..40] {
            *b ^= 0x5a;
        }
        fs::write(&state, bytes).unwrap();
    }
    env.write("data/b.txt", "bbb\n");
    assert_status_clean(&env);
}

#[test]
fn unchanged_files_are_not_rehashed() {
    const N: usize = 20_000;
    let env = fast_repo("state db");
    let data = env.repo().join("data");
    for d in 0..100 {
        fs::create_dir_all(data.join(format!("d{d:02}"))).unwrap();
    }
    let rel = |i: usize| format!("d{:02}/f{i:05}", i % 100);
    for i in 0..N {
        fs::write(data.join(rel(i)), format!("content {i:05}\n")).unwrap();
    }
    // Older than the state db's racy window, so add records every file.
    std::thread::sleep(Duration::from_millis(300));
    env.strix_ok(&["add", "-q", "data"]);
    let old = {
        let md5 = &dvc_md5s(&env.repo().join("data.dvc"))[0];
        read_manifest(&env.repo().join(".dvc/cache"), md5)
    };
    assert_eq!(old.len(), N);

    // Same length, different bytes, same inode and mtime: only a rehash could notice.
    for i in 1..N {
        let p = data.join(rel(i));
        let mtime = fs::metadata(&p).unwrap().modified().unwrap();
        let f = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&p)
            .unwrap();
        (&f).write_all(format!("CONTENT {i:05}\n").as_bytes())
            .unwrap();
        f.set_modified(mtime).unwrap();
    }
    let changed = rel(0);
    fs::write(data.join(&changed), "really changed\n").unwrap();

    let st = env.strix_ok(&["status"]);
    assert!(st.contains("modified:") && st.contains("data"), "{st}");
    env.strix_ok(&["commit", "-f", "-q"]);
    let md5 = &dvc_md5s(&env.repo().join("data.dvc"))[0];
    let new = read_manifest(&env.repo().join(".dvc/cache"), md5);
    assert_eq!(new.len(), N);
    let mut rehashed = Vec::new();
    for i in 0..N {
        let r = rel(i);
        if r == changed {
            assert_eq!(new[&r], md5_hex(b"really changed\n"), "the changed file");
        } else if new[&r] != old[&r] {
            rehashed.push(r);
        }
    }
    assert!(
        rehashed.is_empty(),
        "{} unchanged file(s) were rehashed, e.g. {:?}",
        rehashed.len(),
        &rehashed[..rehashed.len().min(5)]
    );

    // Control: without the state db the new bytes are seen, so the check above could fail.
    fs::remove_file(env.repo().join(".dvc/tmp/strix/state-v3")).unwrap();
    let st = env.strix_ok(&["status"]);
    assert!(
        st.contains("modified:") && st.contains("data"),
        "without a state db, status must see the rewritten files:\n{st}"
    );
}
