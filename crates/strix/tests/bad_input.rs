//! Bad input through the real `strix` binary: broken or hostile metafiles and cache objects,
//! refused `add` targets, file names DVC cannot store, symlinks, and command-line mistakes.
//!
//! Every refusal must be a clear error (the cause on stderr, never a panic), a non-zero exit code
//! and an untouched workspace.

mod common;

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{
    Entry, TestEnv, assert_exit_code, assert_failure, assert_success, md5_hex, skip, stderr,
    stdout, tree_listing, tree_listing_except,
};

/// What may change even when a command fails: Git's and strix's private files.
const VOLATILE: &[&str] = &[".git", ".dvc/tmp"];

/// The repository's files, without [`VOLATILE`] ones.
fn snapshot(env: &TestEnv) -> BTreeMap<String, Entry> {
    tree_listing_except(env.repo(), VOLATILE)
}

/// Runs `strix ARGS`, which must fail cleanly: non-zero exit (`code` when given), no panic,
/// every string of `mentions` on stderr, and nothing in the repository changed. Returns stderr.
#[track_caller]
fn refused(env: &TestEnv, args: &[&str], code: Option<i32>, mentions: &[&str]) -> String {
    let before = snapshot(env);
    let out = env.strix(args);
    assert_failure(&out);
    if let Some(code) = code {
        assert_exit_code(&out, code);
    }
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "strix {args:?} panicked:\n{err}");
    assert!(
        err.starts_with("error") || err.contains("\nerror"),
        "strix {args:?}: no error line:\n{err}"
    );
    for m in mentions {
        assert!(
            err.contains(m),
            "strix {args:?}: stderr does not mention {m:?}:\n{err}"
        );
    }
    assert_eq!(
        snapshot(env),
        before,
        "strix {args:?} changed the repository although it failed"
    );
    err
}

/// Path of a DVC 3 cache object.
fn object_path(env: &TestEnv, md5: &str) -> PathBuf {
    env.repo()
        .join(".dvc/cache/files/md5")
        .join(&md5[..2])
        .join(&md5[2..])
}

/// Stores `bytes` in the cache under `name` (an md5, optionally with `.dir`), mode 0444.
fn put_object(env: &TestEnv, name: &str, bytes: &[u8]) {
    let p = object_path(env, name);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, bytes).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
}

/// The first `md5:` value of a `.dvc` file.
fn dvc_md5(env: &TestEnv, dvcfile: &str) -> String {
    env.read_string(dvcfile)
        .lines()
        .find_map(|l| {
            l.trim_start_matches(['-', ' '])
                .strip_prefix("md5: ")
                .map(|s| s.trim().to_owned())
        })
        .expect("an md5 line")
}

// ---------------------------------------------------------------------------------------------
// Broken metafiles

#[test]
fn malformed_yaml_in_a_dvcfile_names_file_and_line() {
    let env = TestEnv::initialized();
    env.write("data.txt", "data\n");
    env.write(
        "data.txt.dvc",
        "outs:\n- md5: 6137cde4893c59f76f005a8123d8e8e6\n  path: data.txt\n   size: [5\n",
    );
    for cmd in [
        &["status"][..],
        &["checkout"],
        &["commit", "-f"],
        &["add", "data.txt"],
    ] {
        refused(&env, cmd, Some(1), &["data.txt.dvc:4", "YAML"]);
    }
    // A tab where YAML wants spaces, on line 2.
    env.write("data.txt.dvc", "outs:\n\t- path: data.txt\n");
    refused(&env, &["status"], Some(1), &["data.txt.dvc:2"]);
}

#[test]
fn unknown_keys_in_a_dvcfile_are_named() {
    let env = TestEnv::initialized();
    env.write("data.txt", "data\n");
    let out = "- md5: 6137cde4893c59f76f005a8123d8e8e6\n  size: 5\n  hash: md5\n  path: data.txt\n";
    env.write("data.txt.dvc", format!("outs:\n{out}colour: blue\n"));
    refused(&env, &["status"], Some(1), &["data.txt.dvc:6", "colour"]);
    refused(&env, &["checkout"], Some(1), &["data.txt.dvc", "colour"]);

    env.write("data.txt.dvc", format!("outs:\n{out}  flavour: sour\n"));
    refused(
        &env,
        &["status"],
        Some(1),
        &["data.txt.dvc:6", "flavour", "outs"],
    );
    refused(&env, &["add", "data.txt"], Some(1), &["flavour"]);
}

#[test]
fn legacy_single_stage_dvcfile_with_cmd_is_read_as_a_stage() {
    // DVC 3 refuses these ("extra keys not allowed"); strix keeps them
    // working (pipeline_repro.rs checks them against dvc 2.58.2).
    let env = TestEnv::initialized();
    env.write("out.txt", "out\n");
    env.write(
        "out.txt.dvc",
        "md5: 0123456789abcdef0123456789abcdef\ncmd: echo out > out.txt\nouts:\n\
         - md5: 2a2f3f3d1bd2e5cb69e7b2df0d2cdd64\n  path: out.txt\n",
    );
    let out = env.strix(&["status"]);
    assert_success(&out);
    let text = stdout(&out);
    assert!(text.contains("out.txt.dvc"), "{text}");
    assert!(
        !text.contains("up to date"),
        "a stale stage is reported: {text}"
    );
}

// ---------------------------------------------------------------------------------------------
// Refused add targets

#[test]
fn add_outside_the_repository_is_refused() {
    let env = TestEnv::initialized();
    let outside = env.mkdir("elsewhere").join("file.txt");
    fs::write(&outside, "outside\n").unwrap();
    let before = fs::read(&outside).unwrap();
    refused(
        &env,
        &["add", outside.to_str().unwrap()],
        Some(1),
        &["outside of the repository"],
    );
    refused(
        &env,
        &["add", "../elsewhere/file.txt"],
        Some(1),
        &["outside of the repository", "-o"],
    );
    assert_eq!(fs::read(&outside).unwrap(), before);
    assert!(!env.root().join("elsewhere/file.txt.dvc").exists());
}

#[test]
fn add_of_a_file_tracked_by_git_is_refused() {
    let env = TestEnv::initialized();
    env.write("code.py", "print('hi')\n");
    env.git(&["add", "code.py"]);
    let err = refused(
        &env,
        &["add", "code.py"],
        Some(1),
        &["code.py", "already tracked by SCM"],
    );
    assert!(err.contains("git rm"), "no hint:\n{err}");
}

#[test]
fn add_of_a_pipeline_output_is_refused() {
    let env = TestEnv::initialized();
    env.write(
        "dvc.yaml",
        "stages:\n  train:\n    cmd: python train.py\n    outs:\n    - model.pkl\n    - plots\n",
    );
    env.write("model.pkl", "weights\n");
    env.write("plots/a.png", "png\n");
    refused(
        &env,
        &["add", "model.pkl"],
        Some(1),
        &["model.pkl", "train", "dvc.yaml"],
    );
    refused(&env, &["add", "plots/a.png"], Some(1), &["plots", "train"]);
}

/// A directory above an output tracked on its own is refused (`add` inside a tracked directory
/// updates that directory instead: see `interop::add_inside_a_tracked_directory_matches_dvc`).
#[test]
fn add_over_an_already_tracked_output_is_refused() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "a\n");
    env.write("data/sub/b.txt", "b\n");
    env.strix_ok(&["add", "-q", "data/a.txt"]);
    refused(
        &env,
        &["add", "data"],
        Some(1),
        &["data", "overlaps", "data/a.txt.dvc"],
    );
    assert!(!env.repo().join("data.dvc").exists());
    env.strix_ok(&["add", "-q", "data/sub"]);
    assert!(!env.repo().join("data/sub/b.txt.dvc").exists());
}

#[test]
fn add_of_dvc_config_is_refused_as_ignored() {
    let env = TestEnv::initialized();
    refused(
        &env,
        &["add", ".dvc/config"],
        Some(1),
        &[".dvc/config", "ignored"],
    );
    assert!(!env.repo().join(".dvc/config.dvc").exists());
}

// ---------------------------------------------------------------------------------------------
// Hostile paths

#[test]
fn dvcfile_with_an_escaping_out_path_is_refused() {
    let env = TestEnv::initialized();
    // An object whose content is in the cache, so only the path stops a checkout.
    put_object(&env, &md5_hex(b"pwned\n"), b"pwned\n");
    let md5 = md5_hex(b"pwned\n");
    let victim = env.mkdir("victim").join("file");
    fs::write(&victim, "precious\n").unwrap();

    env.write(
        "up.dvc",
        format!("outs:\n- md5: {md5}\n  size: 6\n  hash: md5\n  path: ../victim/file\n"),
    );
    for cmd in [&["status"][..], &["checkout"], &["checkout", "--force"]] {
        refused(&env, cmd, Some(1), &["up.dvc", "../victim/file"]);
    }
    fs::remove_file(env.repo().join("up.dvc")).unwrap();

    // An absolute path (inside the test directory, so a bug cannot hurt the machine).
    env.write(
        "abs.dvc",
        format!(
            "outs:\n- md5: {md5}\n  size: 6\n  hash: md5\n  path: {}\n",
            victim.display()
        ),
    );
    for cmd in [&["status"][..], &["checkout", "--force"]] {
        refused(&env, cmd, Some(1), &["abs.dvc", "relative"]);
    }
    fs::remove_file(env.repo().join("abs.dvc")).unwrap();
    // With a system file, only commands that could not overwrite it even if the path were
    // accepted: `status` reads, and `checkout` without --force keeps content not in the cache.
    let passwd = fs::read("/etc/passwd").ok();
    env.write(
        "passwd.dvc",
        format!("outs:\n- md5: {md5}\n  size: 6\n  hash: md5\n  path: /etc/passwd\n"),
    );
    for cmd in [&["status"][..], &["checkout"]] {
        refused(&env, cmd, Some(1), &["passwd.dvc", "/etc/passwd"]);
    }
    assert_eq!(fs::read("/etc/passwd").ok(), passwd);

    assert_eq!(fs::read(&victim).unwrap(), b"precious\n");
}

#[test]
fn dir_manifest_with_an_escaping_relpath_writes_nothing_outside() {
    let env = TestEnv::initialized();
    put_object(&env, &md5_hex(b"pwned\n"), b"pwned\n");
    let file_md5 = md5_hex(b"pwned\n");
    let manifest = format!(
        "[{{\"md5\": \"{file_md5}\", \"relpath\": \"../../evil\"}}, \
         {{\"md5\": \"{file_md5}\", \"relpath\": \"ok.txt\"}}]"
    );
    let dir_md5 = format!("{}.dir", md5_hex(manifest.as_bytes()));
    put_object(&env, &dir_md5, manifest.as_bytes());
    env.write(
        "out/data.dvc",
        format!("outs:\n- md5: {dir_md5}\n  size: 12\n  nfiles: 2\n  hash: md5\n  path: data\n"),
    );
    let outside_before = tree_listing(env.root());

    let err = refused(
        &env,
        &["checkout"],
        None,
        &["../../evil", "unsafe", "out/data"],
    );
    assert!(
        !err.contains("missing cache file"),
        "an unsafe manifest is not a missing one:\n{err}"
    );
    let mut outside_after = tree_listing(env.root());
    outside_after.retain(|k, _| !k.starts_with("repo/.git/") && !k.starts_with("repo/.dvc/tmp/"));
    let mut outside_before = outside_before;
    outside_before.retain(|k, _| !k.starts_with("repo/.git/") && !k.starts_with("repo/.dvc/tmp/"));
    assert_eq!(outside_after, outside_before, "checkout wrote files");
    assert!(!env.repo().join("evil").exists());
    assert!(!env.repo().join("out/data").exists());
}

// ---------------------------------------------------------------------------------------------
// Damaged cache

#[test]
fn missing_dir_manifest_on_checkout_names_the_output_and_hints_pull() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "a\n");
    env.write("data/b.txt", "b\n");
    env.write("keep.txt", "keep\n");
    env.strix_ok(&["add", "-q", "data", "keep.txt"]);
    let dir_md5 = dvc_md5(&env, "data.dvc");
    fs::remove_file(object_path(&env, &dir_md5)).unwrap();
    fs::remove_dir_all(env.repo().join("data")).unwrap();
    fs::remove_file(env.repo().join("keep.txt")).unwrap();

    let out = env.strix(&["checkout"]);
    assert_failure(&out);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("data"), "output not named:\n{err}");
    assert!(err.contains("pull"), "no hint to pull:\n{err}");
    assert!(!env.repo().join("data").exists());
    // The other output is still restored.
    assert_eq!(env.read("keep.txt"), b"keep\n");
}

#[test]
fn missing_file_object_on_checkout_names_the_file_and_hints_pull() {
    let env = TestEnv::initialized();
    env.write("model.bin", "model\n");
    env.strix_ok(&["add", "-q", "model.bin"]);
    fs::remove_file(object_path(&env, &md5_hex(b"model\n"))).unwrap();
    fs::remove_file(env.repo().join("model.bin")).unwrap();
    refused(&env, &["checkout"], Some(1), &["model.bin", "pull"]);
    refused(
        &env,
        &["checkout", "model.bin.dvc"],
        Some(1),
        &["model.bin"],
    );
}

#[test]
fn corrupted_objects_are_never_linked() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "aaaa\n");
    env.write("data/b.txt", "bbbb\n");
    env.write("solo.txt", "solo\n");
    env.strix_ok(&["add", "-q", "data", "solo.txt"]);

    // A corrupted .dir manifest: same length, one byte changed.
    let dir_md5 = dvc_md5(&env, "data.dvc");
    let dir_obj = object_path(&env, &dir_md5);
    let mut bytes = fs::read(&dir_obj).unwrap();
    let pos = bytes.iter().position(|&b| b == b'a').unwrap();
    bytes[pos] = b'c';
    fs::set_permissions(&dir_obj, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&dir_obj, &bytes).unwrap();
    // A corrupted file object.
    let solo = object_path(&env, &md5_hex(b"solo\n"));
    fs::set_permissions(&solo, fs::Permissions::from_mode(0o644)).unwrap();
    fs::write(&solo, "SOLO\n").unwrap();

    fs::remove_dir_all(env.repo().join("data")).unwrap();
    fs::remove_file(env.repo().join("solo.txt")).unwrap();
    let err = refused(
        &env,
        &["checkout"],
        None,
        &["solo.txt", "corrupted", "data"],
    );
    assert!(
        !err.contains("missing cache file for 'data'"),
        "a corrupted manifest is reported as missing:\n{err}"
    );
    assert!(!env.repo().join("solo.txt").exists());
    assert!(!env.repo().join("data").exists());
}

/// Silent corruption: an object that rots in the cache leaves `status` (strix's and DVC's)
/// clean. `cache check` finds it and names the paths that use it; `--quarantine` moves it out
/// of the cache, bytes kept, without bothering DVC; `pull` then heals the cache.
#[test]
fn cache_check_finds_silent_corruption_and_pull_heals_it() {
    let env = TestEnv::initialized();
    env.write("data/a.txt", "aaaa\n");
    env.write("data/b.txt", "bbbb\n");
    env.write("solo.txt", "solo\n");
    env.strix_ok(&["add", "-q", "data", "solo.txt"]);
    env.strix_ok(&["remote", "add", "-q", "-d", "r", "../remote"]);
    env.strix_ok(&["push", "-q"]);
    let rot = |md5: &str, bytes: &str| {
        let p = object_path(&env, md5);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&p, bytes).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o444)).unwrap();
        p
    };
    let b_obj = rot(&md5_hex(b"bbbb\n"), "bbbB\n");
    let solo_obj = rot(&md5_hex(b"solo\n"), "SOLO\n");
    let clean = "Data and pipelines are up to date.\n";
    assert_eq!(env.strix_ok(&["status"]), clean);
    if let Some(d) = env.dvc(&["status"]) {
        assert_eq!(stdout(&d), clean, "DVC does not see it either");
    }

    let out = env.strix(&["cache", "check"]);
    assert_exit_code(&out, 1);
    let text = stdout(&out);
    assert!(text.starts_with("Checked 4 objects ("), "{text}");
    assert!(text.contains("): 2 corrupted.\n"), "{text}");
    assert!(
        text.contains(&format!(
            "its content hashes to {} (used by data/b.txt)",
            md5_hex(b"bbbB\n")
        )),
        "{text}"
    );
    assert!(text.contains("(used by solo.txt)"), "{text}");
    assert!(stderr(&out).contains("--quarantine"), "{}", stderr(&out));
    let out = env.strix(&["cache", "check", "--json"]);
    assert_exit_code(&out, 1);
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["checked"], 4);
    assert_eq!(v["corrupted"].as_array().unwrap().len(), 2);
    assert!(v["corrupted"][0]["moved_to"].is_null());
    assert!(
        b_obj.exists() && solo_obj.exists(),
        "a plain check moved something"
    );

    let out = env.strix(&["cache", "check", "--quarantine"]);
    assert_exit_code(&out, 1);
    assert!(stderr(&out).contains("strix pull"), "{}", stderr(&out));
    assert!(!b_obj.exists() && !solo_obj.exists());
    let quarantine = tree_listing(env.repo().join(".dvc/cache/strix-quarantine"));
    assert_eq!(quarantine.len(), 2, "{quarantine:?}");
    if let Some(d) = env.dvc(&["status", "-c"]) {
        assert_success(&d);
    }

    let out = env.strix_ok(&["pull"]);
    assert!(out.contains("2 files fetched"), "{out}");
    let out = env.strix_ok(&["cache", "check"]);
    assert!(out.starts_with("Checked 4 objects ("), "{out}");
    assert!(out.ends_with("): 0 corrupted.\n"), "{out}");
    assert_eq!(env.strix_ok(&["status"]), clean);
}

// ---------------------------------------------------------------------------------------------
// Names and links

#[test]
fn non_utf8_file_name_in_an_added_directory_is_refused() {
    let env = TestEnv::initialized();
    env.write("data/fine.txt", "fine\n");
    let bad = env
        .repo()
        .join("data")
        .join(OsStr::from_bytes(b"caf\xe9.txt"));
    fs::write(&bad, "latin-1 name\n").unwrap();
    let listing = |env: &TestEnv| {
        // tree_listing panics on non-UTF-8 names: list the data dir by raw bytes.
        let mut v: Vec<(Vec<u8>, Vec<u8>)> = fs::read_dir(env.repo().join("data"))
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                (
                    e.file_name().as_bytes().to_vec(),
                    fs::read(e.path()).unwrap(),
                )
            })
            .collect();
        v.sort();
        (
            v,
            tree_listing_except(env.repo(), &[".git", ".dvc/tmp", "data"]),
        )
    };
    let before = listing(&env);
    let out = env.strix(&["add", "data"]);
    assert_exit_code(&out, 1);
    let err = stderr(&out);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains("UTF-8"), "cause not given:\n{err}");
    assert!(err.contains("caf\u{fffd}.txt"), "file not named:\n{err}");
    assert!(err.contains("rename"), "no hint to rename:\n{err}");
    assert_eq!(listing(&env), before, "workspace changed");
    assert!(!env.repo().join("data.dvc").exists());
}

/// Lays out a directory with symlinks to a file outside it and to a file inside it.
fn symlink_layout(repo: &Path) {
    fs::create_dir_all(repo.join("data/sub")).unwrap();
    fs::write(repo.join("target.txt"), "link target\n").unwrap();
    fs::write(repo.join("data/real.txt"), "real\n").unwrap();
    std::os::unix::fs::symlink("../target.txt", repo.join("data/out_link")).unwrap();
    std::os::unix::fs::symlink("../real.txt", repo.join("data/sub/in_link")).unwrap();
}

#[test]
fn symlinks_in_an_added_directory_become_files_like_dvc() {
    let env = TestEnv::initialized();
    symlink_layout(env.repo());
    env.strix_ok(&["add", "-q", "data"]);
    let data = env.repo().join("data");
    for (link, content) in [
        ("out_link", &b"link target\n"[..]),
        ("sub/in_link", b"real\n"),
    ] {
        let meta = fs::symlink_metadata(data.join(link)).unwrap();
        assert!(meta.is_file(), "{link} is still a symlink");
        assert_eq!(fs::read(data.join(link)).unwrap(), content, "{link}");
    }
    // The targets are untouched.
    assert_eq!(env.read("target.txt"), b"link target\n");
    assert_eq!(env.read("data/real.txt"), b"real\n");
    let dir_md5 = dvc_md5(&env, "data.dvc");
    let manifest = fs::read_to_string(object_path(&env, &dir_md5)).unwrap();
    assert!(manifest.contains(&md5_hex(b"link target\n")), "{manifest}");
    let out = env.strix_ok(&["status"]);
    assert!(out.contains("up to date"), "{out}");

    // Real DVC on the same layout gives the same .dvc file and workspace.
    let dvc_env = TestEnv::new();
    dvc_env.git(&["init", "--quiet"]);
    let Some(init) = dvc_env.dvc(&["init", "-q"]) else {
        skip("STRIX_TEST_DVC is not set: no comparison with DVC");
        return;
    };
    assert_success(&init);
    symlink_layout(dvc_env.repo());
    assert_success(&dvc_env.dvc(&["add", "-q", "data"]).unwrap());
    assert_eq!(dvc_env.read_string("data.dvc"), env.read_string("data.dvc"));
    let content = |dir: &Path| -> BTreeMap<String, String> {
        tree_listing(dir)
            .into_iter()
            .map(|(k, (mode, md5))| (format!("{k} {:o}", mode & 0o170000), md5))
            .collect()
    };
    assert_eq!(content(&dvc_env.repo().join("data")), content(&data));
}

// ---------------------------------------------------------------------------------------------
// Command line

#[test]
fn status_outside_a_repository_exits_253() {
    let env = TestEnv::new();
    let out = env.strix(&["status"]);
    assert_exit_code(&out, 253);
    let err = stderr(&out);
    assert!(err.contains("not inside of a DVC repository"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(tree_listing(env.repo()).is_empty());
    assert!(!env.repo().join(".dvc").exists());
}

#[test]
fn unknown_flag_exits_254_with_usage() {
    let env = TestEnv::initialized();
    for args in [
        &["status", "--no-such-flag"][..],
        &["add", "--bogus", "x"],
        &["checkout", "-Z"],
    ] {
        let err = refused(
            &env,
            args,
            Some(254),
            &["Usage:", &format!("strix {}", args[0])],
        );
        assert!(err.contains(args[1]), "flag not named:\n{err}");
    }
    let out = env.strix(&["--definitely-not-a-flag"]);
    assert_exit_code(&out, 254);
    assert!(stderr(&out).contains("Usage:"), "{}", stderr(&out));
    assert!(stdout(&out).is_empty());
}
