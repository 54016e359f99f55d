//! Remotes on real servers (S3 on moto_server, SFTP on OpenSSH sshd), checked against real DVC
//! with its `dvc-s3` and `dvc-ssh` plugins.
//!
//! `scripts/test` starts the servers and exports where they listen:
//!
//! * `STRIX_TEST_S3_ENDPOINT`: `http://127.0.0.1:PORT` of a moto_server (any credentials work;
//!   each test creates its own bucket);
//! * `STRIX_TEST_SSH_HOST`, `STRIX_TEST_SSH_PORT`, `STRIX_TEST_SSH_USER`, `STRIX_TEST_SSH_KEY`:
//!   an sshd accepting that user with that private key.
//!
//! A test whose server is missing skips with a message, or fails when `STRIX_REQUIRE_SERVERS=1`
//! (set by `scripts/test`: CI must never skip these).

mod common;
mod remote_common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    TestEnv, assert_failure, assert_success, have_dvc, md5_hex, stderr, stdout, tree_listing,
};
use remote_common::{
    add_remote, clone, cloud_json, commit, create_bucket, free_port as closed_port, server_var,
    setup_repo, unique, workspace,
};

// ---------------------------------------------------------------------------------------------
// Repositories

fn dvc_ok(env: &TestEnv, dir: &Path, args: &[&str]) -> String {
    let out = env.dvc_in(dir, args).expect("dvc");
    assert_success(&out);
    stdout(&out)
}

const S3_KEY: &str = "strixtestkey";
const S3_SECRET: &str = "strix-test-secret-value";

/// The repository with an S3 remote in a fresh bucket; `None` when there is no server.
fn s3_repo(env: &TestEnv, big: bool) -> Option<String> {
    let endpoint = server_var("STRIX_TEST_S3_ENDPOINT", "S3 server")?;
    if !have_dvc() {
        return None;
    }
    let bucket = unique("strix");
    create_bucket(&endpoint, &bucket);
    setup_repo(env, big);
    add_remote(
        env,
        &format!("s3://{bucket}/store"),
        &[("endpointurl", &endpoint), ("region", "us-east-1")],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    commit(env);
    Some(bucket)
}

struct Ssh {
    host: String,
    port: String,
    user: String,
    key: String,
}

fn ssh_server() -> Option<Ssh> {
    Some(Ssh {
        host: server_var("STRIX_TEST_SSH_HOST", "SSH server")?,
        port: server_var("STRIX_TEST_SSH_PORT", "SSH server")?,
        user: server_var("STRIX_TEST_SSH_USER", "SSH server")?,
        key: server_var("STRIX_TEST_SSH_KEY", "SSH server")?,
    })
}

/// The repository with an SFTP remote in `<root>/sftp-remote` (same machine), key from
/// `keyfile` (the server's when `None`).
fn sftp_repo(env: &TestEnv, keyfile: Option<&str>) -> Option<PathBuf> {
    let ssh = ssh_server()?;
    if !have_dvc() {
        return None;
    }
    setup_repo(env, false);
    let dir = env.root().join("sftp-remote");
    add_remote(
        env,
        &format!("ssh://{}{}", ssh.host, dir.display()),
        &[("port", &ssh.port), ("user", &ssh.user)],
        &[("keyfile", keyfile.unwrap_or(&ssh.key))],
    );
    commit(env);
    Some(dir)
}

fn assert_pushed_layout(remote: &Path, expected: usize) {
    let files = tree_listing(remote);
    assert_eq!(files.len(), expected, "{:?}", files.keys());
    for k in files.keys() {
        assert!(k.starts_with("files/md5/"), "{k}");
        assert!(!k.ends_with(".tmp"), "temporary file left: {k}");
    }
}

// ---------------------------------------------------------------------------------------------
// S3

#[test]
fn s3_strix_push_then_dvc_pull() {
    let env = TestEnv::new();
    let Some(_) = s3_repo(&env, true) else { return };
    assert_eq!(env.strix_ok(&["push"]), "6 files pushed\n");
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    // DVC sees everything on the remote, and restores it in a clone.
    let out = dvc_ok(&env, env.repo(), &["status", "-c"]);
    assert!(out.contains("in sync"), "{out}");
    let c = clone(&env);
    let out = dvc_ok(&env, &c, &["pull"]);
    assert!(out.contains("6 files fetched"), "{out}");
    assert_eq!(workspace(&c), workspace(env.repo()));
}

#[test]
fn s3_dvc_push_then_strix_pull() {
    let env = TestEnv::new();
    let Some(_) = s3_repo(&env, true) else { return };
    dvc_ok(&env, env.repo(), &["push"]);
    let c = clone(&env);
    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    assert!(stdout(&out).contains("6 files fetched"), "{}", stdout(&out));
    assert_eq!(workspace(&c), workspace(env.repo()));
    let out = dvc_ok(&env, &c, &["status"]);
    assert!(out.contains("up to date"), "{out}");
    // fetch into an emptied cache, with explicit jobs
    std::fs::remove_dir_all(c.join(".dvc/cache")).unwrap();
    let out = env.strix_in(&c, &["fetch", "-j", "3"]);
    assert_success(&out);
    assert_eq!(stdout(&out), "6 files fetched\n");
}

#[test]
fn s3_status_cloud_agrees_with_dvc() {
    let env = TestEnv::new();
    let Some(_) = s3_repo(&env, false) else {
        return;
    };
    let compare = |label: &str| {
        let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
        let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
        assert_eq!(s, d, "{label}");
        s
    };
    assert_eq!(compare("before push")["data"], "new");
    env.strix_ok(&["push", "data"]);
    assert_eq!(
        compare("after pushing data"),
        serde_json::json!({"model.bin": "new"})
    );
    env.strix_ok(&["push"]);
    compare("after push");
    assert_eq!(
        env.strix_ok(&["status", "-c"]),
        "Cache and remote 'storage' are in sync.\n"
    );
    std::fs::remove_dir_all(env.repo().join(".dvc/cache")).unwrap();
    let s = compare("objects only on the remote");
    assert_eq!(s["model.bin"], "deleted");
}

/// `add remote://storage/<folder> -o OUT`: a folder of an S3 bucket, listed and downloaded with
/// the remote's endpoint and credentials, is added as DVC 3.67.1 adds it (same `.dvc` file and
/// cache); a key that does not exist is a clear error that leaves nothing behind.
#[test]
fn s3_url_target_is_added_as_dvc_adds_it() {
    let env = TestEnv::new();
    let Some(_) = s3_repo(&env, false) else {
        return;
    };
    env.strix_ok(&["push"]);
    let ours = remote_common::clone_as(&env, "ours");
    let theirs = remote_common::clone_as(&env, "theirs");
    let target = "remote://storage/files/md5";
    let out = env.strix_in(&ours, &["add", "-q", target, "-o", "objects"]);
    assert_success(&out);
    dvc_ok(&env, &theirs, &["add", "-q", target, "-o", "objects"]);
    let read = |dir: &Path, f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    assert_eq!(read(&ours, "objects.dvc"), read(&theirs, "objects.dvc"));
    assert!(read(&ours, "objects.dvc").contains("nfiles: 5"));
    let objects = |dir: &Path| -> std::collections::BTreeMap<_, _> {
        tree_listing(dir.join(".dvc/cache"))
            .into_iter()
            .filter(|(k, _)| !k.ends_with(".tmp"))
            .collect()
    };
    assert_eq!(objects(&ours), objects(&theirs));
    assert_eq!(
        tree_listing(ours.join("objects")),
        tree_listing(env.root().join("theirs/objects"))
    );
    assert!(dvc_ok(&env, &ours, &["status", "objects.dvc"]).contains("up to date"));

    let out = env.strix_in(&ours, &["add", "remote://storage/nope", "-o", "nope"]);
    assert_failure(&out);
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!ours.join("nope").exists() && !ours.join("nope.dvc").exists());
}

#[test]
fn s3_credentials_never_printed() {
    let env = TestEnv::new();
    let Some(_) = s3_repo(&env, false) else {
        return;
    };
    // Point the remote at a port where nothing listens: the failure mentions neither key.
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    env.strix_ok(&["remote", "modify", "storage", "endpointurl", &endpoint]);
    let start = Instant::now();
    let out = env.strix(&["push", "-v"]);
    let took = start.elapsed();
    assert_failure(&out);
    let err = stderr(&out);
    assert!(took < Duration::from_secs(60), "took {took:?}: {err}");
    assert!(!err.contains(S3_SECRET), "{err}");
    assert!(!stdout(&out).contains(S3_SECRET));
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn s3_missing_bucket_is_a_clear_error() {
    let Some(endpoint) = server_var("STRIX_TEST_S3_ENDPOINT", "S3 server") else {
        return;
    };
    let env = TestEnv::new();
    setup_repo(&env, false);
    let bucket = unique("nosuch");
    add_remote(
        &env,
        &format!("s3://{bucket}/store"),
        &[("endpointurl", &endpoint)],
        &[("access_key_id", S3_KEY), ("secret_access_key", S3_SECRET)],
    );
    let start = Instant::now();
    let out = env.strix(&["push"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(start.elapsed() < Duration::from_secs(60), "{err}");
    assert!(
        err.contains("NoSuchBucket") || err.contains(&bucket),
        "{err}"
    );
    assert!(!err.contains(S3_SECRET), "{err}");
}

// ---------------------------------------------------------------------------------------------
// SFTP

#[test]
fn sftp_strix_push_then_dvc_pull() {
    let env = TestEnv::new();
    let Some(remote) = sftp_repo(&env, None) else {
        return;
    };
    assert_eq!(env.strix_ok(&["push"]), "5 files pushed\n");
    assert_pushed_layout(&remote, 5);
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    let c = clone(&env);
    let out = dvc_ok(&env, &c, &["pull"]);
    assert!(out.contains("5 files fetched"), "{out}");
    assert_eq!(workspace(&c), workspace(env.repo()));
}

#[test]
fn sftp_dvc_push_then_strix_pull_and_status() {
    let env = TestEnv::new();
    let Some(remote) = sftp_repo(&env, None) else {
        return;
    };
    let compare = |label: &str| {
        let s = cloud_json(&env.strix(&["status", "-c", "--json"]));
        let d = cloud_json(&env.dvc(&["status", "-c", "--json"]).unwrap());
        assert_eq!(s, d, "{label}");
    };
    compare("before push");
    dvc_ok(&env, env.repo(), &["push", "data"]);
    compare("after dvc pushed data");
    dvc_ok(&env, env.repo(), &["push"]);
    compare("after dvc push");
    assert_pushed_layout(&remote, 5);
    let c = clone(&env);
    let out = env.strix_in(&c, &["pull"]);
    assert_success(&out);
    assert!(stdout(&out).contains("5 files fetched"), "{}", stdout(&out));
    assert_eq!(workspace(&c), workspace(env.repo()));
}

/// An object cut short on the SFTP remote (what a server keeps of an upload broken off) counts
/// as absent: `status -c` says the remote is not in sync, the next push sends exactly that
/// object again (replacing the short one), and DVC pulls everything whole.
#[test]
fn sftp_truncated_object_heals_on_push() {
    let env = TestEnv::new();
    let Some(remote) = sftp_repo(&env, None) else {
        return;
    };
    assert_eq!(env.strix_ok(&["push"]), "5 files pushed\n");
    // `model.bin` (a `.dir`'s members count as present while their `.dir` is, as in DVC).
    let bytes = b"weights\n".to_vec();
    let id = md5_hex(&bytes);
    let obj = remote.join(format!("files/md5/{}/{}", &id[..2], &id[2..]));
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&obj, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    std::fs::write(&obj, &bytes[..3]).unwrap();
    let st = env.strix(&["status", "-c"]);
    assert_success(&st);
    assert!(!stdout(&st).contains("in sync"), "{}", stdout(&st));
    assert_eq!(env.strix_ok(&["push"]), "1 file pushed\n");
    assert_eq!(std::fs::read(&obj).unwrap(), bytes);
    assert_pushed_layout(&remote, 5);
    assert_eq!(env.strix_ok(&["push"]), "Everything is up to date.\n");
    let c = clone(&env);
    let out = dvc_ok(&env, &c, &["pull"]);
    assert!(out.contains("5 files fetched"), "{out}");
    assert_eq!(workspace(&c), workspace(env.repo()));
}

#[test]
fn sftp_wrong_key_fails_fast_and_clearly() {
    let env = TestEnv::new();
    let wrong = env.root().join("wrongkey");
    let gen_key = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&wrong)
        .output();
    if !gen_key.is_ok_and(|o| o.status.success()) {
        if ssh_server().is_some() {
            panic!("ssh-keygen is missing but an SSH server is configured");
        }
        return;
    }
    let Some(_) = sftp_repo(&env, Some(wrong.to_str().unwrap())) else {
        return;
    };
    let start = Instant::now();
    let out = env.strix(&["push"]);
    let took = start.elapsed();
    assert_failure(&out);
    let err = stderr(&out);
    assert!(took < Duration::from_secs(60), "took {took:?}: {err}");
    assert!(err.starts_with("error: "), "{err}");
}

#[test]
fn sftp_password_is_refused_without_leaking_it() {
    let Some(ssh) = ssh_server() else { return };
    let env = TestEnv::new();
    setup_repo(&env, false);
    add_remote(
        &env,
        &format!("ssh://{}:{}/tmp/x", ssh.host, ssh.port),
        &[],
        &[("password", "hunter2-secret")],
    );
    let out = env.strix(&["push"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(err.contains("password authentication"), "{err}");
    assert!(!err.contains("hunter2-secret"), "{err}");
}
