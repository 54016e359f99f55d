//! Helpers shared by the tests of remotes on real servers (`remote_*.rs`): finding the servers
//! `scripts/test` started, starting private ones, and repositories to push and pull.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{TestEnv, assert_success, md5_hex, skip, stdout, tree_listing};

/// The value of `name`, exported by `scripts/test` for a server; `None` (the test skips) when
/// it is unset, a panic when `STRIX_REQUIRE_SERVERS=1`: CI must never skip these tests.
pub fn server_var(name: &str, what: &str) -> Option<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            if std::env::var("STRIX_REQUIRE_SERVERS").is_ok_and(|v| v == "1") {
                panic!("STRIX_REQUIRE_SERVERS=1 but {name} is not set: no {what} to test against");
            }
            skip(&format!("{name} is not set (no {what}; run scripts/test)"));
            None
        }
    }
}

/// A name no other test (or earlier run against the same server) uses.
pub fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{prefix}-{}-{:x}", std::process::id(), nanos & 0xffff_ffff)
}

/// A TCP port on 127.0.0.1 where nothing listens (yet).
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    port
}

/// Waits until something accepts connections on 127.0.0.1:`port`.
#[track_caller]
pub fn wait_for_port(port: u16, child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(30) {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!("server on port {port} exited early: {status}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after 30 s");
}

/// A server process this test started; killed (SIGKILL) when dropped.
pub struct Server {
    pub child: Child,
    pub port: u16,
    start: Box<dyn Fn(u16) -> Child + Send>,
}

impl Server {
    /// Starts `start(port)` on a free port and waits until it listens.
    pub fn start(start: impl Fn(u16) -> Child + Send + 'static) -> Self {
        let port = free_port();
        let mut child = start(port);
        wait_for_port(port, &mut child);
        Server {
            child,
            port,
            start: Box::new(start),
        }
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port (same data directory, if it has one).
    pub fn restart(&mut self) {
        self.kill();
        let mut child = (self.start)(self.port);
        wait_for_port(self.port, &mut child);
        self.child = child;
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `PUT /<bucket>` on an S3 server (moto accepts unsigned requests unless it checks auth).
pub fn create_bucket(endpoint: &str, bucket: &str) {
    use std::io::{Read, Write};
    let addr = endpoint
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut s = TcpStream::connect(&addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(
        s,
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "create bucket {bucket}: {response}"
    );
}

/// A moto_server of our own on a free port (in memory: a restart forgets everything).
pub fn start_moto(moto: &str, log: &Path, extra_env: &[(&str, &str)]) -> Server {
    let moto = moto.to_string();
    let log = log.to_path_buf();
    let extra: Vec<(String, String)> = extra_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Server::start(move |port| {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        Command::new(&moto)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .envs(extra.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {moto}: {e}"))
    })
}

/// A wsgidav of our own serving `dir` to user `strix` with `password` (same YAML as
/// `wsgidav_config` in scripts/test).
pub fn start_wsgidav(wsgidav: &str, dir: &Path, password: &str) -> Server {
    let wsgidav = wsgidav.to_string();
    let dir = dir.to_path_buf();
    let password = password.to_string();
    std::fs::create_dir_all(dir.join("data")).unwrap();
    Server::start(move |port| {
        let config = dir.join("wsgidav.yaml");
        std::fs::write(
            &config,
            format!(
                "host: 127.0.0.1\nport: {port}\nserver: cheroot\nverbose: 1\n\
                 logging:\n  enable_loggers: []\n\
                 provider_mapping:\n  \"/\": \"{}\"\n\
                 http_authenticator:\n  accept_basic: true\n  accept_digest: false\n  \
                 default_to_digest: false\n\
                 simple_dc:\n  user_mapping:\n    \"*\":\n      \"strix\":\n        \
                 password: \"{password}\"\n",
                dir.join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("wsgidav.log"))
            .unwrap();
        Command::new(&wsgidav)
            .arg("--config")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {wsgidav}: {e}"))
    })
}

// ---------------------------------------------------------------------------------------------
// Repositories

/// A git + DVC repository with a directory `data` (3 files in 2 levels; one above the 8 MiB
/// multipart chunk when `big`) and a file `model.bin`, tracked; no remote, not committed.
pub fn setup_repo(env: &TestEnv, big: bool) {
    env.git(&["init", "--quiet"]);
    env.strix_ok(&["init", "-q"]);
    env.write("data/a.txt", "alpha\n");
    env.write("data/sub/b.txt", "bravo\n");
    env.write("data/sub/c.bin", vec![7u8; 100_000]);
    if big {
        let big: Vec<u8> = (0..(17u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
        env.write("data/big.bin", big);
    }
    env.write("model.bin", "weights\n");
    env.strix_ok(&["add", "-q", "data", "model.bin"]);
}

pub fn commit(env: &TestEnv) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "--quiet", "-m", "track"]);
}

/// Adds the default remote `storage` with `options` (`--local` for the secret ones).
pub fn add_remote(env: &TestEnv, url: &str, options: &[(&str, &str)], local: &[(&str, &str)]) {
    add_remote_in(env, env.repo(), url, options, local);
}

/// [`add_remote`] in the repository at `dir`.
pub fn add_remote_in(
    env: &TestEnv,
    dir: &Path,
    url: &str,
    options: &[(&str, &str)],
    local: &[(&str, &str)],
) {
    let ok = |args: &[&str]| assert_success(&env.strix_in(dir, args));
    ok(&["remote", "add", "-d", "-f", "storage", url]);
    for (k, v) in options {
        ok(&["remote", "modify", "storage", k, v]);
    }
    for (k, v) in local {
        ok(&["remote", "modify", "--local", "storage", k, v]);
    }
}

/// A git clone of the repository in `<root>/<name>`, with its current DVC config.
pub fn clone_as(env: &TestEnv, name: &str) -> PathBuf {
    let c = env.root().join(name);
    if c.exists() {
        make_writable(&c);
        std::fs::remove_dir_all(&c).unwrap();
    }
    env.git_in(
        env.root(),
        &["clone", "--quiet", env.repo().to_str().unwrap(), name],
    );
    // The repository's remote as it is now (committed or not), credentials included.
    for name in ["config", "config.local"] {
        let f = env.repo().join(".dvc").join(name);
        if f.exists() {
            std::fs::copy(&f, c.join(".dvc").join(name)).unwrap();
        }
    }
    c
}

pub fn clone(env: &TestEnv) -> PathBuf {
    clone_as(env, "clone")
}

/// Cache objects are read-only: make a tree deletable.
pub fn make_writable(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for (rel, _) in tree_listing(dir) {
        let p = dir.join(rel);
        if let Ok(m) = std::fs::symlink_metadata(&p)
            && m.is_file()
        {
            let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644));
        }
    }
}

/// The tracked data of a workspace: path → md5.
pub fn workspace(dir: &Path) -> BTreeMap<String, String> {
    tree_listing(dir)
        .into_iter()
        .filter(|(k, _)| k.starts_with("data/") || k == "model.bin")
        .map(|(k, (_, md5))| (k, md5))
        .collect()
}

/// Checks that every object in a cache (or a local remote) in DVC 3's layout holds what its
/// name says; returns their ids (`.dir` objects end in `.dir`). Temporary files are not
/// objects and are skipped.
#[track_caller]
pub fn verify_objects(root: &Path) -> Vec<String> {
    let base = root.join("files/md5");
    if !base.exists() {
        return Vec::new();
    }
    let mut ids = Vec::new();
    for (rel, _) in tree_listing(&base) {
        let file_name = rel.rsplit('/').next().unwrap();
        if file_name.ends_with(".tmp") {
            continue; // a temporary file (a killed writer's), not an object
        }
        let name = rel.replacen('/', "", 1);
        assert!(
            rel.len() == 33 || (rel.len() == 37 && rel.ends_with(".dir")),
            "odd object path {rel} in {}",
            base.display()
        );
        let content = std::fs::read(base.join(&rel)).unwrap();
        let md5 = md5_hex(&content);
        assert_eq!(
            md5,
            name.trim_end_matches(".dir"),
            "object {rel} in {} holds other data (partial or corrupt)",
            base.display()
        );
        ids.push(name);
    }
    ids.sort();
    ids
}

pub fn cloud_json(out: &std::process::Output) -> serde_json::Value {
    assert_success(out);
    serde_json::from_str(&stdout(out)).unwrap_or_else(|e| panic!("{e}: {}", stdout(out)))
}

/// Runs strix in `dir`, panics unless it succeeds, returns its stdout.
#[track_caller]
pub fn strix_ok_in(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.strix_in(dir, args);
    assert_success(&out);
    stdout(&out)
}
