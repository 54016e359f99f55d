//! Push and pull through every network backend on a real server: WebDAV (wsgidav, basic auth),
//! Azure blob (Azurite), Google Cloud Storage (fake-gcs-server) and plain HTTP (read-only,
//! python's http.server over a folder holding a pushed remote). S3 and SFTP are in
//! `remote_servers.rs`.
//!
//! For WebDAV, Azure and GCS, real DVC (with its `dvc-webdav`, `dvc-azure` and `dvc-gs` plugins,
//! pinned in `scripts/lib.sh`) shares the remote, configured once in `.dvc/config` and
//! `.dvc/config.local`: what strix pushes, `dvc status -c` finds in sync and `dvc pull` restores;
//! what `dvc push` stored, `strix pull` restores; and `strix status -c --json` equals
//! `dvc status -c --json` before, between and after DVC's pushes. HTTP is checked against DVC's
//! built-in HTTP remote (pull only). Two things DVC needs and strix does not: a WebDAV remote's
//! folder must exist before `dvc push` (created with `MKCOL`, see [`Backend::webdav_root`]), and
//! gcsfs must not probe an emulator over gRPC (`GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false` for the
//! `dvc` process only, see [`gcs`]).
//!
//! `scripts/test` starts the servers and exports where they are:
//!
//! * `STRIX_TEST_WEBDAV_URL` (`webdav://127.0.0.1:PORT`), `STRIX_TEST_WEBDAV_USER`,
//!   `STRIX_TEST_WEBDAV_PASSWORD`;
//! * `STRIX_TEST_AZURE_CONNECTION_STRING`, `STRIX_TEST_AZURE_CONTAINER`;
//! * `STRIX_TEST_GCS_ENDPOINT` (`http://127.0.0.1:PORT`), `STRIX_TEST_GCS_BUCKET`;
//! * `STRIX_TEST_HTTP_URL` (`http://127.0.0.1:PORT`) serving the folder `STRIX_TEST_HTTP_ROOT`.
//!
//! A test whose server is missing skips, or fails when `STRIX_REQUIRE_SERVERS=1`.

mod common;
mod remote_common;

use std::net::TcpStream;
use std::path::Path;
use std::process::Output;

use common::{TestEnv, assert_failure, assert_success, dvc_bin, have_dvc, stderr, stdout};
use remote_common::{
    add_remote, add_remote_in, clone, clone_as, cloud_json, commit, server_var, setup_repo,
    strix_ok_in, unique, verify_objects, workspace,
};

/// Every line strix printed in a list of runs, for secret checks.
fn all_output(outs: &[&std::process::Output]) -> String {
    outs.iter()
        .map(|o| format!("{}{}", stdout(o), stderr(o)))
        .collect()
}

/// The `.dir` object id recorded in `data.dvc`.
fn dir_id(env: &TestEnv) -> String {
    let dvc = env.read_string("data.dvc");
    let md5 = dvc
        .lines()
        .find_map(|l| l.trim().strip_prefix("- md5: "))
        .unwrap_or_else(|| panic!("no md5 in data.dvc:\n{dvc}"));
    md5.to_string()
}

/// The clone `c` holds the workspace of `env`'s repository, and its cache the 6 objects behind
/// it, the `.dir` object included, each with the content its name says.
#[track_caller]
fn assert_restored(env: &TestEnv, c: &Path) {
    assert_eq!(workspace(c), workspace(env.repo()));
    let objects = verify_objects(&c.join(".dvc/cache"));
    assert_eq!(objects.len(), 6, "{objects:?}");
    assert!(objects.contains(&dir_id(env)), "{objects:?}");
}

/// Pushes the repository (a directory of 4 files, one of 17 MiB, and a file) to its default
/// remote, checks `status -c` before and after, then pulls into a fresh clone and checks the
/// data, the cache (the `.dir` object included) and status there. `secret` must never be
/// printed.
fn push_then_pull(env: &TestEnv, secret: Option<&str>) {
    let before = env.strix(&["status", "-c"]);
    assert_success(&before);
    assert!(stdout(&before).contains("new:"), "{}", stdout(&before));
    let push = env.strix(&["push", "-v"]);
    assert_success(&push);
    assert_eq!(stdout(&push), "6 files pushed\n");
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    let status = env.strix(&["status", "-c"]);
    assert_success(&status);
    assert_eq!(stdout(&status), "Cache and remote 'storage' are in sync.\n");

    let c = clone(env);
    let pull = env.strix_in(&c, &["pull", "-v"]);
    assert_success(&pull);
    assert!(
        stdout(&pull).contains("6 files fetched"),
        "{}",
        stdout(&pull)
    );
    assert_restored(env, &c);
    let status = env.strix_in(&c, &["status", "-c"]);
    assert_success(&status);
    assert_eq!(stdout(&status), "Cache and remote 'storage' are in sync.\n");
    let local = env.strix_in(&c, &["status"]);
    assert_success(&local);
    assert!(stdout(&local).contains("up to date"), "{}", stdout(&local));

    if let Some(secret) = secret {
        let text = all_output(&[&before, &push, &status, &pull]);
        assert!(!text.contains(secret), "a credential was printed:\n{text}");
    }
}

// ---------------------------------------------------------------------------------------------
// Interop with real DVC

/// A fresh remote on one of the servers: the URL and `strix remote modify` options that
/// [`add_remote`] writes to `.dvc/config` (and `.dvc/config.local` for `local`). These are DVC's
/// own keys, so real DVC with its plugin reads the same configuration.
struct Backend {
    url: String,
    options: Vec<(&'static str, String)>,
    local: Vec<(&'static str, String)>,
    /// What must never be printed (a password or an account key).
    secret: Option<String>,
    /// Variables set for the `dvc` process only (strix never sees them).
    dvc_env: &'static [(&'static str, &'static str)],
    /// WebDAV: the remote's folder as `(http URL, user, password)`. DVC's WebDAV filesystem
    /// (webdav4) creates the folders below its URL but not the URL's own folder: `dvc push` to a
    /// missing one fails with `FileNotFoundError: [Errno 2] No such file or directory: ''`, so a
    /// DVC user creates it first (strix creates it on push).
    webdav_root: Option<(String, String, String)>,
}

impl Backend {
    /// `setup_repo` (big), this remote as the default, committed.
    fn setup(&self, env: &TestEnv) {
        fn pairs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
            v.iter().map(|(k, v)| (*k, v.as_str())).collect()
        }
        setup_repo(env, true);
        add_remote(env, &self.url, &pairs(&self.options), &pairs(&self.local));
        commit(env);
    }

    /// Runs real DVC in `dir` with [`Self::dvc_env`]; panics unless it succeeds, returns stdout.
    #[track_caller]
    fn dvc_ok(&self, env: &TestEnv, dir: &Path, args: &[&str]) -> String {
        let out = self.dvc(env, dir, args);
        assert_success(&out);
        stdout(&out)
    }

    fn dvc(&self, env: &TestEnv, dir: &Path, args: &[&str]) -> Output {
        let dvc = dvc_bin().expect("have_dvc was checked");
        env.command_in(dir, dvc)
            .envs(self.dvc_env.iter().copied())
            .args(args)
            .output()
            .expect("start dvc")
    }

    /// What a DVC user does before the first `dvc push` to a fresh remote.
    fn prepare_for_dvc_push(&self) {
        if let Some((url, user, password)) = &self.webdav_root {
            mkcol(url, user, password);
        }
    }
}

/// `Basic` credentials for an `Authorization` header (base64 of `user:password`).
fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
}

/// Creates the WebDAV collection at `url` (`http://HOST:PORT/PATH`) with a `MKCOL`.
fn mkcol(url: &str, user: &str, password: &str) {
    use std::io::{Read, Write};
    let (addr, path) = url
        .strip_prefix("http://")
        .and_then(|rest| rest.split_once('/'))
        .unwrap_or_else(|| panic!("not http://HOST:PORT/PATH: {url}"));
    let mut s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    write!(
        s,
        "MKCOL /{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Basic {}\r\n\
         Content-Length: 0\r\nConnection: close\r\n\r\n",
        basic_auth(user, password)
    )
    .unwrap();
    let mut response = String::new();
    s.read_to_string(&mut response).unwrap();
    assert!(
        response.starts_with("HTTP/1.1 201") || response.starts_with("HTTP/1.0 201"),
        "MKCOL {url}: {response}"
    );
}

/// strix pushes; real DVC finds its cache and the remote in sync and `dvc pull` restores the
/// same workspace in a fresh clone.
fn strix_push_then_dvc_pull(backend: &Backend) {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    backend.setup(&env);
    assert_eq!(env.strix_ok(&["push"]), "6 files pushed\n");
    let out = backend.dvc_ok(&env, env.repo(), &["status", "-c"]);
    assert_eq!(out, "Cache and remote 'storage' are in sync.\n");
    let out = backend.dvc(&env, env.repo(), &["status", "-c", "--json"]);
    assert_eq!(cloud_json(&out), serde_json::json!({}));

    let c = clone(&env);
    let out = backend.dvc_ok(&env, &c, &["pull"]);
    assert!(out.contains("6 files fetched"), "{out}");
    assert_restored(&env, &c);
}

/// `dvc push` (the directory, then the rest); `strix status -c --json` says what
/// `dvc status -c --json` says before, between and after, and `strix pull` restores the same
/// workspace in a fresh clone.
fn dvc_push_then_strix_pull(backend: &Backend) {
    let env = TestEnv::new();
    if !have_dvc() {
        return;
    }
    backend.setup(&env);
    let compare = |label: &str| {
        let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
        let d = cloud_json(&backend.dvc(&env, env.repo(), &["status", "-c", "--json"]));
        assert_eq!(s, d, "{label}");
        s
    };
    let new = serde_json::json!({
        "data": "new",
        "data/a.txt": "new",
        "data/big.bin": "new",
        "data/sub/b.txt": "new",
        "data/sub/c.bin": "new",
        "model.bin": "new",
    });
    assert_eq!(compare("before push"), new);
    backend.prepare_for_dvc_push();
    let out = backend.dvc_ok(&env, env.repo(), &["push", "data"]);
    assert!(out.contains("5 files pushed"), "{out}");
    assert_eq!(
        compare("after dvc pushed data"),
        serde_json::json!({"model.bin": "new"})
    );
    let out = backend.dvc_ok(&env, env.repo(), &["push"]);
    assert!(out.contains("1 file pushed"), "{out}");
    assert_eq!(compare("after dvc push"), serde_json::json!({}));
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "Cache and remote 'storage' are in sync.\n"
    );

    let c = clone(&env);
    let pull = env.strix_in(&c, &["pull"]);
    assert_success(&pull);
    assert!(
        stdout(&pull).contains("6 files fetched"),
        "{}",
        stdout(&pull)
    );
    assert_restored(&env, &c);
    assert_eq!(
        strix_ok_in(&env, &c, &["status", "-c"]),
        "Cache and remote 'storage' are in sync.\n"
    );
}

// ---------------------------------------------------------------------------------------------
// WebDAV

/// A fresh folder on the WebDAV server, basic auth (`user` in the config, `password` local).
fn webdav() -> Option<Backend> {
    let url = server_var("STRIX_TEST_WEBDAV_URL", "WebDAV server")?;
    let user = server_var("STRIX_TEST_WEBDAV_USER", "WebDAV server").unwrap();
    let password = server_var("STRIX_TEST_WEBDAV_PASSWORD", "WebDAV server").unwrap();
    let url = format!("{url}/{}", unique("strix"));
    let http = format!("http://{}", url.strip_prefix("webdav://").unwrap());
    Some(Backend {
        url,
        options: vec![("user", user.clone())],
        local: vec![("password", password.clone())],
        secret: Some(password.clone()),
        dvc_env: &[],
        webdav_root: Some((http, user, password)),
    })
}

#[test]
fn webdav_push_then_pull_restores_everything() {
    let Some(backend) = webdav() else { return };
    let env = TestEnv::new();
    backend.setup(&env);
    push_then_pull(&env, backend.secret.as_deref());
}

#[test]
fn webdav_strix_push_then_dvc_pull() {
    let Some(backend) = webdav() else { return };
    strix_push_then_dvc_pull(&backend);
}

#[test]
fn webdav_dvc_push_then_strix_pull_and_status() {
    let Some(backend) = webdav() else { return };
    dvc_push_then_strix_pull(&backend);
}

// ---------------------------------------------------------------------------------------------
// Azure

/// A fresh prefix in the Azurite container; the connection string (holding the account key) is
/// local.
fn azure() -> Option<Backend> {
    let cs = server_var("STRIX_TEST_AZURE_CONNECTION_STRING", "Azure blob server")?;
    let container = server_var("STRIX_TEST_AZURE_CONTAINER", "Azure blob server").unwrap();
    let key = cs
        .split(';')
        .find_map(|kv| kv.strip_prefix("AccountKey="))
        .expect("AccountKey in the connection string")
        .to_string();
    Some(Backend {
        url: format!("azure://{container}/{}", unique("strix")),
        options: vec![],
        local: vec![("connection_string", cs)],
        secret: Some(key),
        dvc_env: &[],
        webdav_root: None,
    })
}

#[test]
fn azure_push_then_pull_restores_everything() {
    let Some(backend) = azure() else { return };
    let env = TestEnv::new();
    backend.setup(&env);
    push_then_pull(&env, backend.secret.as_deref());
}

#[test]
fn azure_strix_push_then_dvc_pull() {
    let Some(backend) = azure() else { return };
    strix_push_then_dvc_pull(&backend);
}

#[test]
fn azure_dvc_push_then_strix_pull_and_status() {
    let Some(backend) = azure() else { return };
    dvc_push_then_strix_pull(&backend);
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Storage

/// A fresh prefix in the fake-gcs-server bucket. `endpointurl` makes strix talk to an emulator
/// (no OAuth); `allow_anonymous_login` tells DVC the same (gcsfs `token="anon"`).
///
/// gcsfs (2025.x and later) by default is its `ExtendedGcsFileSystem`, which first asks the
/// Storage Control gRPC API on the endpoint's host for the bucket's layout, over TLS. The
/// emulator speaks plain HTTP, so with anonymous credentials every call waits out a 60 s gRPC
/// timeout ("Could not determine bucket type for bucket name strix: Timeout of 60.0s exceeded,
/// ... Ssl handshake failed ... WRONG_VERSION_NUMBER ..., falling back to GCSFileSystem") and a
/// `dvc push` takes many minutes. `GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT=false`, for DVC only,
/// selects gcsfs's plain `GCSFileSystem` (the fallback it would reach anyway).
fn gcs() -> Option<Backend> {
    let endpoint = server_var("STRIX_TEST_GCS_ENDPOINT", "GCS server")?;
    let bucket = server_var("STRIX_TEST_GCS_BUCKET", "GCS server").unwrap();
    Some(Backend {
        url: format!("gs://{bucket}/{}", unique("strix")),
        options: vec![
            ("endpointurl", endpoint),
            ("allow_anonymous_login", "true".to_string()),
        ],
        local: vec![],
        secret: None,
        dvc_env: &[("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")],
        webdav_root: None,
    })
}

#[test]
fn gcs_push_then_pull_restores_everything() {
    let Some(backend) = gcs() else { return };
    let env = TestEnv::new();
    backend.setup(&env);
    push_then_pull(&env, backend.secret.as_deref());
}

#[test]
fn gcs_strix_push_then_dvc_pull() {
    let Some(backend) = gcs() else { return };
    strix_push_then_dvc_pull(&backend);
}

#[test]
fn gcs_dvc_push_then_strix_pull_and_status() {
    let Some(backend) = gcs() else { return };
    dvc_push_then_strix_pull(&backend);
}

// ---------------------------------------------------------------------------------------------
// HTTP (read-only)

#[test]
fn http_pull_from_a_static_server() {
    let Some(base) = server_var("STRIX_TEST_HTTP_URL", "HTTP server") else {
        return;
    };
    let root = server_var("STRIX_TEST_HTTP_ROOT", "HTTP server").unwrap();
    let name = unique("strix");
    let env = TestEnv::new();
    setup_repo(&env, true);
    // Push into the folder the server serves, through a local remote.
    add_remote(&env, &format!("{root}/{name}"), &[], &[]);
    commit(&env);
    assert_eq!(env.strix_ok(&["push"]), "6 files pushed\n");

    let url = format!("{base}/{name}");
    let c = clone(&env);
    add_remote_in(&env, &c, &url, &[], &[]);
    let pull = env.strix_in(&c, &["pull"]);
    assert_success(&pull);
    assert!(
        stdout(&pull).contains("6 files fetched"),
        "{}",
        stdout(&pull)
    );
    assert_eq!(workspace(&c), workspace(env.repo()));
    assert_eq!(verify_objects(&c.join(".dvc/cache")).len(), 6);
    assert_eq!(
        strix_ok_in(&env, &c, &["status", "-c"]),
        "Cache and remote 'storage' are in sync.\n"
    );

    // Pushing to a plain HTTP server is refused clearly.
    env.write(c.join("extra.txt"), "extra\n");
    assert_success(&env.strix_in(&c, &["add", "-q", "extra.txt"]));
    let out = env.strix_in(&c, &["push", "extra.txt"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("not supported"), "{err}");

    // Real DVC reads the same server (its HTTP remote is built in).
    if !have_dvc() {
        return;
    }
    let d = clone_as(&env, "dvc-clone");
    add_remote_in(&env, &d, &url, &[], &[]);
    let out = env.dvc_in(&d, &["pull"]).unwrap();
    assert_success(&out);
    assert_eq!(workspace(&d), workspace(env.repo()));
}

/// `add http://…/file -o OUT`: one file from a static HTTP server, as DVC 3.67.1 adds it (the
/// same `.dvc` file and cache object); a URL the server does not have is a clear error that
/// leaves nothing behind.
#[test]
fn http_url_target_is_added_as_dvc_adds_it() {
    let Some(base) = server_var("STRIX_TEST_HTTP_URL", "HTTP server") else {
        return;
    };
    let root = server_var("STRIX_TEST_HTTP_ROOT", "HTTP server").unwrap();
    let name = unique("plain");
    std::fs::create_dir_all(Path::new(&root).join(&name)).unwrap();
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(Path::new(&root).join(&name).join("table.csv"), &data).unwrap();
    let url = format!("{base}/{name}/table.csv");

    let env = TestEnv::new();
    setup_repo(&env, false);
    commit(&env);
    let out = env.strix(&["add", "-q", &url, "-o", "table.csv"]);
    assert_success(&out);
    assert_eq!(env.read("table.csv"), data);
    assert_eq!(
        env.strix_ok(&["status"]),
        "Data and pipelines are up to date.\n"
    );
    assert_eq!(verify_objects(&env.repo().join(".dvc/cache")).len(), 6);

    let missing = format!("{base}/{name}/nope.csv");
    let out = env.strix(&["add", &missing, "-o", "nope.csv"]);
    assert_failure(&out);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!env.repo().join("nope.csv").exists());
    assert!(!env.repo().join("nope.csv.dvc").exists());

    if !have_dvc() {
        return;
    }
    let d = clone_as(&env, "dvc-clone");
    let out = env
        .dvc_in(&d, &["add", "-q", &url, "-o", "table.csv"])
        .unwrap();
    assert_success(&out);
    assert_eq!(
        env.read_string("table.csv.dvc"),
        env.read_string(d.join("table.csv.dvc"))
    );
}
