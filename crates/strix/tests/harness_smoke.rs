//! Checks the integration-test harness itself (tests/common): isolation, git, DVC, listings.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;

use common::{TestEnv, assert_success, md5_hex, stdout, tree_listing, tree_listing_except};

/// Child processes see only the isolated HOME and config dirs, whatever the outer environment has.
#[test]
fn environment_is_isolated() {
    let env = TestEnv::new();
    let out = env
        .command("env")
        .env("STRIX_LEAK_CHECK", "set-on-the-command")
        .output()
        .expect("run env");
    assert_success(&out);
    let vars: BTreeMap<String, String> = stdout(&out)
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let root = env.root().to_str().unwrap();
    for key in [
        "HOME",
        "XDG_CONFIG_HOME",
        "DVC_GLOBAL_CONFIG_DIR",
        "DVC_SYSTEM_CONFIG_DIR",
        "DVC_SITE_CACHE_DIR",
        "GIT_CONFIG_GLOBAL",
    ] {
        let value = vars.get(key).unwrap_or_else(|| panic!("{key} is not set"));
        assert!(
            value.starts_with(root),
            "{key}={value} is outside the test root {root}"
        );
    }
    assert_eq!(vars["DVC_NO_ANALYTICS"], "1");
    assert_eq!(vars["GIT_CONFIG_NOSYSTEM"], "1");
    assert_eq!(vars["HOME"], env.home().to_str().unwrap());
    // Outer DVC_/GIT_/STRIX_ variables are scrubbed (scripts/test exports STRIX_TEST_DVC and
    // STRIX_REQUIRE_DVC), but a variable set on the command itself still reaches the child.
    assert!(!vars.contains_key("STRIX_TEST_DVC"));
    assert!(!vars.contains_key("STRIX_REQUIRE_DVC"));
    assert_eq!(vars["STRIX_LEAK_CHECK"], "set-on-the-command");
    assert_eq!(env.repo(), env.root().join("repo"));
}

/// git works in the repo directory and takes its identity from the test's global config only.
#[test]
fn git_uses_the_test_identity() {
    let env = TestEnv::new();
    env.git(&["init", "--quiet"]);
    assert!(env.repo().join(".git").is_dir());
    let name = env.git(&["config", "--show-origin", "user.name"]);
    let name = stdout(&name);
    assert!(
        name.contains(env.root().join("gitconfig").to_str().unwrap()),
        "{name}"
    );
    assert!(name.trim_end().ends_with(common::GIT_USER_NAME), "{name}");

    env.write("a.txt", "hello");
    env.git(&["add", "a.txt"]);
    env.git(&["commit", "--quiet", "-m", "first"]);
    let log = stdout(&env.git(&["log", "--format=%an <%ae> %s"]));
    assert_eq!(
        log.trim(),
        format!(
            "{} <{}> first",
            common::GIT_USER_NAME,
            common::GIT_USER_EMAIL
        )
    );
    let branch = stdout(&env.git(&["branch", "--show-current"]));
    assert_eq!(branch.trim(), "main");
}

/// The binary under test is the one cargo built for this run.
#[test]
fn strix_binary_is_built() {
    let bin = common::strix_bin();
    assert!(bin.is_file(), "{} is missing", bin.display());
    assert_eq!(bin.file_name().unwrap(), "strix");
    // Runs (whatever the CLI does with --version today): spawning it must work.
    let env = TestEnv::new();
    let _ = env.strix(&["--version"]);
}

/// write/read round-trip and tree_listing's modes, hashes, symlinks and skips.
#[test]
fn write_read_and_tree_listing() {
    let env = TestEnv::new();
    env.write("data/a.txt", "hello");
    env.write("data/sub/b.bin", [0u8, 1, 2, 255]);
    env.write(".dvc/tmp/ignored", "x");
    fs::set_permissions(
        env.repo().join("data/sub/b.bin"),
        fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    std::os::unix::fs::symlink("a.txt", env.repo().join("data/link")).unwrap();
    assert_eq!(env.read("data/a.txt"), b"hello");
    assert_eq!(env.read_string("data/a.txt"), "hello");

    let listing = tree_listing(env.repo().join("data"));
    let keys: Vec<&str> = listing.keys().map(String::as_str).collect();
    assert_eq!(keys, ["a.txt", "link", "sub/b.bin"]);
    // Known md5 values: `printf hello | md5sum`.
    assert_eq!(listing["a.txt"].1, "5d41402abc4b2a76b9719d911017c592");
    assert_eq!(listing["sub/b.bin"].1, md5_hex(&[0, 1, 2, 255]));
    assert_eq!(listing["sub/b.bin"].0 & 0o7777, 0o444);
    assert_eq!(listing["sub/b.bin"].0 & 0o170000, 0o100000);
    assert_eq!(listing["link"].1, "-> a.txt");

    let all = tree_listing_except(env.repo(), &[".dvc/tmp"]);
    assert!(all.contains_key("data/a.txt"));
    assert!(!all.keys().any(|k| k.starts_with(".dvc/tmp")));
    assert_eq!(md5_hex(b""), "d41d8cd98f00b204e9800998ecf8427e");
}

/// The DVC oracle is the expected release and writes its config inside the test root.
#[test]
fn dvc_is_the_expected_version_and_isolated() {
    let env = TestEnv::new();
    let Some(out) = env.dvc(&["--version"]) else {
        common::skip("dvc not installed (set STRIX_TEST_DVC, or run scripts/test)");
        return;
    };
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), common::DVC_VERSION);

    let out = env
        .dvc(&["config", "--global", "core.autostage", "true"])
        .unwrap();
    assert_success(&out);
    let global = fs::read_to_string(env.root().join("dvc-global/config")).unwrap();
    assert!(global.contains("autostage = true"), "{global}");

    env.git(&["init", "--quiet"]);
    assert_success(&env.dvc(&["init", "--quiet"]).unwrap());
    env.write("data/x.txt", "x");
    assert_success(&env.dvc(&["add", "--quiet", "data"]).unwrap());
    // DVC's state db went to the test's site cache dir.
    let site_cache = tree_listing(env.root().join("dvc-site-cache"));
    assert!(
        !site_cache.is_empty(),
        "DVC wrote nothing to DVC_SITE_CACHE_DIR"
    );
    // And the data is in the repo's cache under its md5.
    let cache = tree_listing(env.repo().join(".dvc/cache"));
    assert!(
        cache.contains_key(&format!("files/md5/9d/{}", &md5_hex(b"x")[2..])),
        "{cache:?}"
    );
}
