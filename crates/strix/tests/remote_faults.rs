//! Remotes failing under strix: servers that die in the middle of a transfer, strix killed at
//! random points of a push or a pull, wrong credentials and unreachable hosts. After any of
//! these, nothing on the remote or in the cache may be corrupt, `status -c` must tell the
//! truth, and a rerun must finish the job.
//!
//! Servers: tests that kill a server start their own (`STRIX_TEST_MOTO_SERVER` and
//! `STRIX_TEST_WSGIDAV` name the executables `scripts/test` installed); the others use the
//! shared S3 server (`STRIX_TEST_S3_ENDPOINT`). Missing servers skip the test, or fail it when
//! `STRIX_REQUIRE_SERVERS=1`.

mod common;
mod remote_common;

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{TestEnv, assert_failure, assert_success, md5_hex, stderr, stdout, strix_bin};
use remote_common::{
    Server, add_remote, add_remote_in, clone_as, commit, create_bucket, free_port, make_writable,
    server_var, start_moto, start_wsgidav, strix_ok_in, unique, verify_objects, workspace,
};

const S3_KEY: &str = "strixtestkey";
const S3_SECRET: &str = "strix-test-secret-value";

// ---------------------------------------------------------------------------------------------
// Helpers

/// A small deterministic PRNG (xorshift64*), seeded per test; the seed is in failure messages.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64;
        Rng(nanos | 1)
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in `[0, max)`.
    fn below(&mut self, max: Duration) -> Duration {
        let ms = max.as_millis().max(1) as u64;
        Duration::from_millis(self.next() % ms)
    }
}

/// A repository with `files` small files under `data/` (plus one of `big` bytes when non-zero)
/// and `model.bin`, tracked and committed.
fn many_files_repo(env: &TestEnv, files: usize, big: usize) {
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    for i in 0..files {
        env.write(
            format!("data/d{:02}/f{i:05}.txt", i % 16),
            format!("file {i}\n{}\n", "x".repeat(i % 512)),
        );
    }
    if big > 0 {
        let data: Vec<u8> = (0..big).map(|i| (i * 13 % 251) as u8).collect();
        env.write("data/big.bin", data);
    }
    env.write("model.bin", "weights\n");
    env.strix_ok(&["add", "-q", "data", "model.bin"]);
    commit(env);
}

/// The object ids (`<md5>` or `<md5>.dir`) the repository's cache holds (all of them used).
fn cache_ids(dir: &Path) -> BTreeSet<String> {
    verify_objects(&dir.join(".dvc/cache"))
        .into_iter()
        .collect()
}

fn spawn_strix(env: &TestEnv, dir: &Path, args: &[&str]) -> Child {
    env.command_in(dir, strix_bin())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start strix")
}

/// Waits for `child` at most `limit`; panics (after killing it) when it takes longer.
#[track_caller]
fn wait_limited(mut child: Child, limit: Duration) -> (Output, Duration) {
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return (child.wait_with_output().unwrap(), start.elapsed());
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "strix did not finish within {limit:?}\nstdout: {}\nstderr: {}",
                stdout(&out),
                stderr(&out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `cond` every 10 ms for at most 60 s.
#[track_caller]
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// What `push` prints after uploading `n` objects.
fn pushed_line(n: usize) -> String {
    match n {
        0 => "Everything is up to date.\n".to_string(),
        1 => "1 file pushed\n".to_string(),
        n => format!("{n} files pushed\n"),
    }
}

/// Number of files below `dir` (0 if it does not exist).
fn count_files(dir: &Path) -> usize {
    let mut n = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            match e.file_type() {
                Ok(t) if t.is_dir() => stack.push(e.path()),
                Ok(_) => n += 1,
                Err(_) => {}
            }
        }
    }
    n
}

/// Whether `status -c` says cache and remote are in sync (it must succeed either way).
#[track_caller]
fn claims_in_sync(env: &TestEnv, dir: &Path) -> bool {
    let out = env.strix_in(dir, &["status", "-c"]);
    assert_success(&out);
    stdout(&out).contains("are in sync")
}

/// Keys and ETags of `bucket/prefix` on an S3 server that accepts unsigned requests (moto).
fn s3_list(endpoint: &str, bucket: &str, prefix: &str) -> Vec<(String, String)> {
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/{bucket}?list-type=2&prefix={prefix}");
        if let Some(t) = &token {
            path.push_str("&continuation-token=");
            for b in t.bytes() {
                if b.is_ascii_alphanumeric() {
                    path.push(b as char);
                } else {
                    path.push_str(&format!("%{b:02X}"));
                }
            }
        }
        let mut s = TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        s.read_to_string(&mut response).unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        let tag = |text: &str, name: &str| -> Vec<String> {
            text.split(&format!("<{name}>"))
                .skip(1)
                .map(|p| p.split(&format!("</{name}>")).next().unwrap().to_string())
                .collect()
        };
        for c in tag(&response, "Contents") {
            let key = tag(&c, "Key").remove(0);
            let etag = tag(&c, "ETag")
                .remove(0)
                .replace("&#34;", "")
                .replace("&quot;", "")
                .replace('"', "");
            out.push((key, etag));
        }
        token = tag(&response, "NextContinuationToken").into_iter().next();
        if token.is_none() {
            return out;
        }
    }
}

/// Object ids on an S3 prefix in DVC 3's layout; checks that each object's ETag (the md5 of a
/// single-part upload) matches its name: no partial or wrong object under a final name.
#[track_caller]
fn s3_objects(endpoint: &str, bucket: &str, prefix: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (key, etag) in s3_list(endpoint, bucket, &format!("{prefix}/files/md5/")) {
        let rel = key.strip_prefix(&format!("{prefix}/files/md5/")).unwrap();
        let id = rel.replacen('/', "", 1);
        assert_eq!(
            etag,
            id.trim_end_matches(".dir"),
            "S3 object {key} holds other data"
        );
        ids.insert(id);
    }
    ids
}

// ---------------------------------------------------------------------------------------------
// (a) The server dies in the middle of a transfer

/// How the messages of a transfer cut off by a dead server must look.
#[track_caller]
fn assert_clear_network_failure(out: &Output, took: Duration, what: &str) {
    assert_failure(out);
    let err = stderr(out);
    assert!(took < Duration::from_secs(30), "took {took:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(what), "{err}");
    assert!(
        err.to_lowercase().contains("connect"),
        "the message does not name the connection problem: {err}"
    );
    assert!(
        err.lines().count() < 60,
        "one line per failed object is noise:\n{err}"
    );
    assert!(!err.contains(S3_SECRET), "{err}");
}

#[test]
fn s3_server_killed_during_push_then_rerun_completes() {
    let Some(moto) = server_var("STRIX_TEST_MOTO_SERVER", "moto_server executable") else {
        return;
    };
    let env = TestEnv::new();
    let log = env.root().join("moto.log");
    let mut server = start_moto(&moto, &log, &[]);
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    create_bucket(&endpoint, "faults");
    many_files_repo(&env, 1500, 0);
    add_remote(
        &env,
        "s3://faults/store",
        &[("endpointurl", &endpoint)],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    let total = cache_ids(env.repo()).len();
    let puts = || {
        std::fs::read_to_string(&log)
            .unwrap_or_default()
            .matches("\"PUT /faults/store/files/md5/")
            .count()
    };
    let child = spawn_strix(&env, env.repo(), &["push", "-j", "8"]);
    wait_until("the first uploads", || puts() >= 100);
    server.kill();
    let (out, took) = wait_limited(child, Duration::from_secs(60));
    assert!(
        puts() < total,
        "the push was not interrupted ({total} objects)"
    );
    assert_clear_network_failure(&out, took, "failed to push data to the cloud");

    // moto keeps objects in memory: the restarted server is empty.
    server.restart();
    create_bucket(&endpoint, "faults");
    assert!(!claims_in_sync(&env, env.repo()));
    assert_eq!(env.strix_ok(&["push"]), format!("{total} files pushed\n"));
    assert!(claims_in_sync(&env, env.repo()));
    let c = clone_as(&env, "clone");
    strix_ok_in(&env, &c, &["pull"]);
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(cache_ids(&c), cache_ids(env.repo()));
}

/// A WebDAV server of our own and a repository of `files` files with it as the remote.
fn webdav_setup(env: &TestEnv, files: usize) -> Option<(Server, PathBuf)> {
    let wsgidav = server_var("STRIX_TEST_WSGIDAV", "wsgidav executable")?;
    let password = "webdav-test-password-1234";
    let dir = env.root().join("webdav");
    let server = start_wsgidav(&wsgidav, &dir, password);
    many_files_repo(env, files, 0);
    add_remote(
        env,
        &format!("webdav://127.0.0.1:{}/store", server.port),
        &[("user", "strix")],
        &[("password", password)],
    );
    Some((server, dir.join("data/store")))
}

#[test]
fn webdav_server_killed_during_push_then_rerun_completes() {
    let env = TestEnv::new();
    let Some((mut server, store)) = webdav_setup(&env, 800) else {
        return;
    };
    let total = cache_ids(env.repo()).len();
    let child = spawn_strix(&env, env.repo(), &["push", "-j", "4"]);
    wait_until("the first uploads", || count_files(&store) >= 50);
    server.kill();
    let (out, took) = wait_limited(child, Duration::from_secs(60));
    let partial = verify_objects(&store).len();
    assert!(partial < total, "the push was not interrupted");
    assert_clear_network_failure(&out, took, "failed to push data to the cloud");
    assert!(!stderr(&out).contains("webdav-test-password"));

    server.restart();
    assert!(!claims_in_sync(&env, env.repo()));
    assert_eq!(env.strix_ok(&["push"]), pushed_line(total - partial));
    assert!(claims_in_sync(&env, env.repo()));
    assert_eq!(
        verify_objects(&store).into_iter().collect::<BTreeSet<_>>(),
        cache_ids(env.repo())
    );
    let c = clone_as(&env, "clone");
    strix_ok_in(&env, &c, &["pull"]);
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(cache_ids(&c), cache_ids(env.repo()));
}

#[test]
fn webdav_server_killed_during_pull_then_rerun_completes() {
    let env = TestEnv::new();
    let Some((mut server, _store)) = webdav_setup(&env, 800) else {
        return;
    };
    env.strix_ok(&["push"]);
    let total = cache_ids(env.repo()).len();
    let c = clone_as(&env, "clone");
    let cache = c.join(".dvc/cache/files/md5");
    let child = spawn_strix(&env, &c, &["pull", "-j", "4"]);
    wait_until("the first downloads", || count_files(&cache) >= 50);
    server.kill();
    let (out, took) = wait_limited(child, Duration::from_secs(60));
    assert!(cache_ids(&c).len() < total, "the pull was not interrupted");
    assert_clear_network_failure(&out, took, "failed to pull data from the cloud");

    server.restart();
    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(cache_ids(&c), cache_ids(env.repo()));
    assert!(claims_in_sync(&env, &c));
}

// ---------------------------------------------------------------------------------------------
// (b) strix killed at random points

/// Where the kill rounds push to.
enum Target {
    Local,
    S3 { endpoint: String, bucket: String },
}

impl Target {
    fn url(&self, env: &TestEnv, round: usize) -> String {
        match self {
            Target::Local => env
                .root()
                .join(format!("remote-{round}"))
                .display()
                .to_string(),
            Target::S3 { bucket, .. } => format!("s3://{bucket}/round-{round}"),
        }
    }

    /// The objects on the round's remote, each checked against its name.
    fn objects(&self, env: &TestEnv, round: usize) -> BTreeSet<String> {
        match self {
            Target::Local => verify_objects(&env.root().join(format!("remote-{round}")))
                .into_iter()
                .collect(),
            Target::S3 { endpoint, bucket } => {
                s3_objects(endpoint, bucket, &format!("round-{round}"))
            }
        }
    }

    /// The objects once the server has finished the requests a killed client left in flight:
    /// a PUT whose body was fully sent completes on the server after the client died, so the
    /// listing is read until two reads 300 ms apart agree.
    fn settled_objects(&self, env: &TestEnv, round: usize) -> BTreeSet<String> {
        let mut last = self.objects(env, round);
        for _ in 0..50 {
            std::thread::sleep(Duration::from_millis(300));
            let now = self.objects(env, round);
            if now == last {
                return now;
            }
            last = now;
        }
        panic!("the remote listing of round {round} never settled")
    }

    fn setup(&self, env: &TestEnv) {
        if let Target::S3 { endpoint, .. } = self {
            add_remote(
                env,
                &self.url(env, 0),
                &[("endpointurl", endpoint)],
                &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
            );
        } else {
            add_remote(env, &self.url(env, 0), &[], &[]);
        }
    }
}

fn s3_target() -> Option<Target> {
    let endpoint = server_var("STRIX_TEST_S3_ENDPOINT", "S3 server")?;
    let bucket = unique("kills");
    create_bucket(&endpoint, &bucket);
    Some(Target::S3 { endpoint, bucket })
}

/// Kill rounds against a local remote, and against S3 (slower per round).
const ROUNDS: usize = 15;
const S3_ROUNDS: usize = 10;

/// Kills that must land mid-transfer in a test of killed pushes or pulls.
const MID_TRANSFER_KILLS: usize = 3;

/// The remote (by index) the warm-up push of [`killed_pushes`] fills; rounds use 1, 2, ….
const WARM_REMOTE: usize = 1000;

/// When to kill a transfer: at a random time up to 1.2 × the duration of an uninterrupted
/// one. On a loaded machine that duration varies from run to run, and kills timed by a slow
/// measurement land after the transfer ended; each such kill shortens the window by a quarter,
/// and rounds go on (up to three times as many) until enough kills have landed mid-transfer.
struct KillTimes {
    window: Duration,
}

impl KillTimes {
    fn new(full: Duration) -> Self {
        Self {
            window: full.mul_f32(1.2),
        }
    }

    fn next(&self, rng: &mut Rng) -> Duration {
        rng.below(self.window)
    }

    fn landed_late(&mut self) {
        self.window = self.window.mul_f32(0.75);
    }

    /// Whether to play another round after `done` of at least `rounds`.
    fn more(&self, done: usize, rounds: usize, interrupted: usize) -> bool {
        done < rounds || (interrupted < MID_TRANSFER_KILLS && done < 3 * rounds)
    }
}

/// Kills `strix push` at random points, once per round, each round against a fresh remote;
/// after each kill, `status -c` must be truthful and nothing partial may be on the remote;
/// then a push completes the remote. Every fifth round also pulls into a fresh clone.
fn killed_pushes(env: &TestEnv, target: &Target, rounds: usize) {
    target.setup(env);
    let all = cache_ids(env.repo());
    env.strix_ok(&["push"]);
    assert_eq!(target.objects(env, 0), all);
    // How long an uninterrupted push takes once caches are warm, as they are for the killed
    // pushes below (the first push can take several times as long, and kills timed by it
    // would mostly land after the push ended).
    let warm = target.url(env, WARM_REMOTE);
    env.strix_ok(&["remote", "modify", "storage", "url", &warm]);
    let start = Instant::now();
    env.strix_ok(&["push"]);
    let full = start.elapsed();
    let mut rng = Rng::new();
    let seed = rng.0;
    let mut interrupted = 0;
    let mut kills = KillTimes::new(full);
    let mut round = 0;
    while kills.more(round, rounds, interrupted) {
        round += 1;
        let url = target.url(env, round);
        env.strix_ok(&["remote", "modify", "storage", "url", &url]);
        let mut child = spawn_strix(env, env.repo(), &["push"]);
        std::thread::sleep(kills.next(&mut rng));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let ctx = format!("seed {seed}, round {round}, push {status}");
        let on_remote = target.settled_objects(env, round);
        assert!(on_remote.is_subset(&all), "{ctx}: foreign objects");
        if on_remote != all {
            interrupted += 1;
        } else {
            kills.landed_late();
        }
        assert_eq!(
            claims_in_sync(env, env.repo()),
            on_remote == all,
            "{ctx}: status -c does not tell the truth ({} of {} objects on the remote)",
            on_remote.len(),
            all.len()
        );
        // The next push sends exactly what is missing.
        assert_eq!(
            env.strix_ok(&["push"]),
            pushed_line(all.len() - on_remote.len()),
            "{ctx}"
        );
        assert_eq!(target.objects(env, round), all, "{ctx}");
        assert!(claims_in_sync(env, env.repo()), "{ctx}");
        if round % 5 == 0 {
            let c = clone_as(env, "clone");
            let out = env.strix_in(&c, &["pull"]);
            assert_success(&out);
            assert_eq!(workspace(&c), workspace(env.repo()), "{ctx}");
            assert_eq!(cache_ids(&c), all, "{ctx}");
        }
    }
    assert!(
        interrupted >= MID_TRANSFER_KILLS,
        "seed {seed}: only {interrupted} of {round} kills landed mid-push (full push {full:?})"
    );
}

/// Kills `strix pull` at random points in a fresh clone; after each kill the cache holds only
/// sound objects, and the next pull restores everything.
fn killed_pulls(env: &TestEnv, target: &Target, rounds: usize) {
    target.setup(env);
    env.strix_ok(&["push"]);
    let all = cache_ids(env.repo());
    let c = clone_as(env, "clone");
    let start = Instant::now();
    strix_ok_in(env, &c, &["pull"]);
    let full = start.elapsed();
    let mut rng = Rng::new();
    let seed = rng.0;
    let mut interrupted = 0;
    let mut kills = KillTimes::new(full);
    let mut round = 0;
    while kills.more(round, rounds, interrupted) {
        round += 1;
        // Back to a fresh clone's state: no cache, no data.
        for p in [c.join(".dvc/cache"), c.join("data")] {
            if p.exists() {
                make_writable(&p);
                std::fs::remove_dir_all(&p).unwrap();
            }
        }
        let _ = std::fs::remove_file(c.join("model.bin"));
        let mut child = spawn_strix(env, &c, &["pull"]);
        std::thread::sleep(kills.next(&mut rng));
        let _ = child.kill();
        let status = child.wait().unwrap();
        let ctx = format!("seed {seed}, round {round}, pull {status}");
        let cached = cache_ids(&c);
        assert!(cached.is_subset(&all), "{ctx}");
        if cached != all || workspace(&c) != workspace(env.repo()) {
            interrupted += 1;
        } else {
            kills.landed_late();
        }
        let out = env.strix_in(&c, &["pull"]);
        assert_success(&out);
        assert_eq!(workspace(&c), workspace(env.repo()), "{ctx}");
        assert_eq!(cache_ids(&c), all, "{ctx}");
        let st = env.strix_in(&c, &["status"]);
        assert_success(&st);
        assert!(stdout(&st).contains("up to date"), "{ctx}: {}", stdout(&st));
    }
    assert!(
        interrupted >= MID_TRANSFER_KILLS,
        "seed {seed}: only {interrupted} of {round} kills landed mid-pull (full pull {full:?})"
    );
}

#[test]
fn local_remote_survives_killed_pushes() {
    let env = TestEnv::new();
    many_files_repo(&env, 400, 6 << 20);
    killed_pushes(&env, &Target::Local, ROUNDS);
}

#[test]
fn local_remote_survives_killed_pulls() {
    let env = TestEnv::new();
    many_files_repo(&env, 400, 6 << 20);
    killed_pulls(&env, &Target::Local, ROUNDS);
}

#[test]
fn s3_remote_survives_killed_pushes() {
    let Some(target) = s3_target() else { return };
    let env = TestEnv::new();
    many_files_repo(&env, 120, 3 << 20);
    killed_pushes(&env, &target, S3_ROUNDS);
}

#[test]
fn s3_remote_survives_killed_pulls() {
    let Some(target) = s3_target() else { return };
    let env = TestEnv::new();
    many_files_repo(&env, 120, 3 << 20);
    killed_pulls(&env, &target, S3_ROUNDS);
}

// ---------------------------------------------------------------------------------------------
// (c) Objects cut short on the remote

/// `PUT /<bucket>/<key>` of `body` on moto (which checks no signature, but refuses anonymous
/// writes over an owned object): what a server that stores the part it received of a killed
/// upload leaves behind.
fn s3_put(endpoint: &str, bucket: &str, key: &str, body: &[u8]) {
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = format!(
        "AWS4-HMAC-SHA256 Credential={S3_KEY}/20260101/us-east-1/s3/aws4_request, \
         SignedHeaders=host, Signature=00"
    );
    write!(
        s,
        "PUT /{bucket}/{key} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {auth}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

/// The remote key of an object id in DVC 3's layout.
fn object_key(id: &str) -> String {
    format!("files/md5/{}/{}", &id[..2], &id[2..])
}

/// Objects cut short under their final names on the remote (`model.bin` emptied, the `.dir`
/// and one of its files halved) count as not on the remote: `status -c` says so, the next
/// push sends exactly those again, and a fresh clone pulls everything. The directory has
/// enough files that its members are asked about by listing; `model.bin` and the `.dir` are
/// asked about one by one.
fn truncated_objects_heal(env: &TestEnv, target: &Target) {
    many_files_repo(env, 1100, 0);
    target.setup(env);
    env.strix_ok(&["push"]);
    let all = cache_ids(env.repo());
    let model = md5_hex(b"weights\n");
    let dir = all.iter().find(|id| id.ends_with(".dir")).unwrap().clone();
    let member = md5_hex(&env.read("data/d03/f00003.txt"));
    assert!(all.contains(&member));
    let cut = |id: &str, len: usize| {
        let cached = env.repo().join(".dvc/cache").join(object_key(id));
        let data = std::fs::read(cached).unwrap();
        match target {
            Target::Local => {
                let p = env.root().join("remote-0").join(object_key(id));
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
                std::fs::write(&p, &data[..len]).unwrap();
            }
            Target::S3 { endpoint, bucket } => s3_put(
                endpoint,
                bucket,
                &format!("round-0/{}", object_key(id)),
                &data[..len],
            ),
        }
    };
    cut(&model, 0);
    let dir_len = std::fs::metadata(env.repo().join(".dvc/cache").join(object_key(&dir)))
        .unwrap()
        .len() as usize;
    cut(&dir, dir_len / 2);
    cut(&member, 4);
    let st = env.strix(&["status", "-c"]);
    assert_success(&st);
    let text = stdout(&st);
    assert!(!text.contains("are in sync"), "{text}");
    assert!(text.contains("model.bin"), "{text}");
    assert_eq!(env.strix_ok(&["push"]), pushed_line(3));
    // Every object on the remote is whole again (each is checked against its name).
    assert_eq!(target.objects(env, 0), all);
    assert!(claims_in_sync(env, env.repo()));
    assert_eq!(env.strix_ok(&["push"]), pushed_line(0));
    let c = clone_as(env, "clone");
    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(cache_ids(&c), all);
}

#[test]
fn local_remote_truncated_objects_heal_on_push() {
    let env = TestEnv::new();
    truncated_objects_heal(&env, &Target::Local);
}

#[test]
fn s3_remote_truncated_objects_heal_on_push() {
    let Some(target) = s3_target() else { return };
    let env = TestEnv::new();
    truncated_objects_heal(&env, &target);
}

/// A pull killed in the middle of a large download keeps the part it has received beside the
/// object (never under the object's name); the next pull continues from there, verifies the
/// whole object and leaves no partial file.
#[test]
fn s3_killed_pull_keeps_and_resumes_a_large_download() {
    let Some(target) = s3_target() else { return };
    let env = TestEnv::new();
    let size = 160 << 20;
    many_files_repo(&env, 0, size);
    let data = std::fs::read(env.repo().join("data/big.bin")).unwrap();
    target.setup(&env);
    env.strix_ok(&["push"]);
    let all = cache_ids(env.repo());
    let big = all
        .iter()
        .find(|id| *id == &md5_hex(&data))
        .expect("the big object is cached")
        .clone();
    let c = clone_as(&env, "clone");
    let dest = c
        .join(".dvc/cache/files/md5")
        .join(&big[..2])
        .join(&big[2..]);
    let partial = dest.with_file_name(format!("{}.partial.tmp", &big[2..]));
    let mut child = spawn_strix(&env, &c, &["pull"]);
    // Kill once some of it (past what is held in memory) has arrived.
    let start = Instant::now();
    loop {
        let have = std::fs::metadata(&partial).map_or(0, |m| m.len());
        if have >= 4 << 20 {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the pull ended before it could be killed"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "no partial download appeared at {}",
            partial.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    let _ = child.kill();
    child.wait().unwrap();
    assert!(!dest.exists(), "a killed download has its final name");
    let kept = std::fs::read(&partial).unwrap();
    assert!(kept.len() >= 4 << 20 && kept.len() < size, "{}", kept.len());
    assert!(
        data.starts_with(&kept),
        "the partial file is not a prefix of the object"
    );
    assert!(cache_ids(&c).is_subset(&all));

    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(cache_ids(&c), all);
    assert!(!partial.exists());
}

// ---------------------------------------------------------------------------------------------
// (c) Wrong credentials, unreachable servers

/// A small repository whose push must fail: within 30 s, with `error: …` naming the problem
/// and a hint, never printing `secret`.
#[track_caller]
fn assert_push_fails_clearly(env: &TestEnv, expect: &[&str], secret: &str) -> String {
    let start = Instant::now();
    let out = env.strix(&["push"]);
    let took = start.elapsed();
    assert_failure(&out);
    let err = stderr(&out);
    assert!(took < Duration::from_secs(30), "took {took:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for e in expect {
        assert!(err.to_lowercase().contains(e), "no '{e}' in: {err}");
    }
    assert!(err.contains("hint: "), "no hint: {err}");
    assert!(
        !err.contains(secret) && !stdout(&out).contains(secret),
        "{err}"
    );
    assert!(err.lines().count() < 30, "too noisy:\n{err}");
    err
}

#[test]
fn s3_wrong_credentials_fail_fast_and_clearly() {
    let Some(moto) = server_var("STRIX_TEST_MOTO_SERVER", "moto_server executable") else {
        return;
    };
    let env = TestEnv::new();
    let log = env.root().join("moto.log");
    // With authentication on and no IAM users, every key is unknown.
    let server = start_moto(&moto, &log, &[("INITIAL_NO_AUTH_ACTION_COUNT", "0")]);
    many_files_repo(&env, 50, 0);
    add_remote(
        &env,
        "s3://bucket/store",
        &[("endpointurl", &format!("http://127.0.0.1:{}", server.port))],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    assert_push_fails_clearly(&env, &["credentials"], S3_SECRET);
    let requests = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .matches("HTTP/1.1\"")
        .count();
    assert!(requests <= 60, "{requests} requests: a retry storm");
}

#[test]
fn s3_unreachable_endpoint_fails_fast_and_clearly() {
    let env = TestEnv::new();
    many_files_repo(&env, 300, 0);
    add_remote(
        &env,
        "s3://bucket/store",
        &[("endpointurl", &format!("http://127.0.0.1:{}", free_port()))],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    assert_push_fails_clearly(&env, &["connect"], S3_SECRET);
}

#[test]
fn webdav_wrong_password_fails_fast_and_clearly() {
    let Some(wsgidav) = server_var("STRIX_TEST_WSGIDAV", "wsgidav executable") else {
        return;
    };
    let env = TestEnv::new();
    let server = start_wsgidav(&wsgidav, &env.root().join("webdav"), "the-right-password");
    many_files_repo(&env, 50, 0);
    add_remote(
        &env,
        &format!("webdav://127.0.0.1:{}/store", server.port),
        &[("user", "strix")],
        &[("password", "a-wrong-password")],
    );
    assert_push_fails_clearly(&env, &["credentials"], "a-wrong-password");
}

#[test]
fn webdav_unreachable_server_fails_fast_and_clearly() {
    let env = TestEnv::new();
    many_files_repo(&env, 300, 0);
    add_remote(
        &env,
        &format!("webdav://127.0.0.1:{}/store", free_port()),
        &[("user", "strix")],
        &[("password", "some-password")],
    );
    assert_push_fails_clearly(&env, &["connect"], "some-password");
    // fetch too
    let c = clone_as(&env, "clone");
    add_remote_in(
        &env,
        &c,
        &format!("webdav://127.0.0.1:{}/store", free_port()),
        &[("user", "strix")],
        &[("password", "some-password")],
    );
    let start = Instant::now();
    let out = env.strix_in(&c, &["pull"]);
    assert_failure(&out);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        stderr(&out).to_lowercase().contains("connect"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------------
// Scale

/// Requests a moto_server logged so far.
fn moto_requests(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .matches(" HTTP/1.1\"")
        .count()
}

#[test]
fn noop_push_of_many_objects_lists_the_remote() {
    let Some(moto) = server_var("STRIX_TEST_MOTO_SERVER", "moto_server executable") else {
        return;
    };
    let env = TestEnv::new();
    let log = env.root().join("moto.log");
    let server = start_moto(&moto, &log, &[]);
    let endpoint = format!("http://127.0.0.1:{}", server.port);
    create_bucket(&endpoint, "many");
    many_files_repo(&env, 1200, 0);
    add_remote(
        &env,
        "s3://many/store",
        &[("endpointurl", &endpoint)],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    let total = cache_ids(env.repo()).len();
    assert_eq!(env.strix_ok(&["push"]), pushed_line(total));
    assert_eq!(s3_objects(&endpoint, "many", "store").len(), total);
    // 1203 objects in 256 directories: one listing each beats one check each.
    let before = moto_requests(&log);
    assert_eq!(env.strix_ok(&["push"]), pushed_line(0));
    let used = moto_requests(&log) - before;
    assert!(
        used <= 300,
        "a no-op push of {total} objects took {used} requests"
    );
    let before = moto_requests(&log);
    assert!(claims_in_sync(&env, env.repo()));
    let used = moto_requests(&log) - before;
    assert!(
        used <= 300,
        "status -c of {total} objects took {used} requests"
    );
    // One new object: both notice.
    env.write("data/new.txt", "new\n");
    env.strix_ok(&["add", "-q", "data"]);
    assert!(!claims_in_sync(&env, env.repo()));
    assert_eq!(env.strix_ok(&["push"]), pushed_line(2));
    assert!(claims_in_sync(&env, env.repo()));
}
