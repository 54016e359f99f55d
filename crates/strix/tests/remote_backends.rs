//! Push and pull through every network backend on a real server: WebDAV (wsgidav, basic auth),
//! Azure blob (Azurite), Google Cloud Storage (fake-gcs-server) and plain HTTP (read-only,
//! python's http.server over a folder holding a pushed remote). S3 and SFTP are in
//! `remote_servers.rs`.
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

use common::{TestEnv, assert_failure, assert_success, skip, stderr, stdout};
use remote_common::{
    add_remote, add_remote_in, clone, clone_as, commit, server_var, setup_repo, strix_ok_in,
    unique, verify_objects, workspace,
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
    assert_eq!(workspace(&c), workspace(env.repo()));
    let objects = verify_objects(&c.join(".dvc/cache"));
    assert_eq!(objects.len(), 6, "{objects:?}");
    assert!(objects.contains(&dir_id(env)), "{objects:?}");
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
// WebDAV

#[test]
fn webdav_push_then_pull_restores_everything() {
    let Some(url) = server_var("STRIX_TEST_WEBDAV_URL", "WebDAV server") else {
        return;
    };
    let user = server_var("STRIX_TEST_WEBDAV_USER", "WebDAV server").unwrap();
    let password = server_var("STRIX_TEST_WEBDAV_PASSWORD", "WebDAV server").unwrap();
    let env = TestEnv::new();
    setup_repo(&env, true);
    add_remote(
        &env,
        &format!("{url}/{}", unique("strix")),
        &[("user", &user)],
        &[("password", &password)],
    );
    commit(&env);
    push_then_pull(&env, Some(&password));
}

// ---------------------------------------------------------------------------------------------
// Azure

#[test]
fn azure_push_then_pull_restores_everything() {
    let Some(cs) = server_var("STRIX_TEST_AZURE_CONNECTION_STRING", "Azure blob server") else {
        return;
    };
    let container = server_var("STRIX_TEST_AZURE_CONTAINER", "Azure blob server").unwrap();
    let key = cs
        .split(';')
        .find_map(|kv| kv.strip_prefix("AccountKey="))
        .expect("AccountKey in the connection string")
        .to_string();
    let env = TestEnv::new();
    setup_repo(&env, true);
    add_remote(
        &env,
        &format!("azure://{container}/{}", unique("strix")),
        &[],
        &[("connection_string", &cs)],
    );
    commit(&env);
    push_then_pull(&env, Some(&key));
}

// ---------------------------------------------------------------------------------------------
// Google Cloud Storage

#[test]
fn gcs_push_then_pull_restores_everything() {
    let Some(endpoint) = server_var("STRIX_TEST_GCS_ENDPOINT", "GCS server") else {
        return;
    };
    let bucket = server_var("STRIX_TEST_GCS_BUCKET", "GCS server").unwrap();
    let env = TestEnv::new();
    setup_repo(&env, true);
    add_remote(
        &env,
        &format!("gs://{bucket}/{}", unique("strix")),
        &[("endpointurl", &endpoint)],
        &[],
    );
    commit(&env);
    push_then_pull(&env, None);
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
    if env.dvc(&["version"]).is_none() {
        skip("DVC is not installed (STRIX_TEST_DVC)");
        return;
    }
    let d = clone_as(&env, "dvc-clone");
    add_remote_in(&env, &d, &url, &[], &[]);
    let out = env.dvc_in(&d, &["pull"]).unwrap();
    assert_success(&out);
    assert_eq!(workspace(&d), workspace(env.repo()));
}
