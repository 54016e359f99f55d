//! A hermetic environment for integration tests that run the real `strix` binary, and real DVC
//! (the oracle for interop tests) and git next to it.
//!
//! Each [`TestEnv`] owns a temporary directory:
//!
//! ```text
//! <root>/home/              HOME
//! <root>/config/            XDG_CONFIG_HOME
//! <root>/gitconfig          GIT_CONFIG_GLOBAL (user.name/email, init.defaultBranch=main)
//! <root>/dvc-global/        DVC_GLOBAL_CONFIG_DIR (empty)
//! <root>/dvc-system/config  DVC_SYSTEM_CONFIG_DIR (core.check_update=false, core.analytics=false)
//! <root>/dvc-site-cache/    DVC_SITE_CACHE_DIR (DVC's state and index databases)
//! <root>/repo/              working directory of `strix`, `dvc` and `git` calls (see `*_in`)
//! ```
//!
//! Variables from the outer environment that would change what DVC, git or strix do (`DVC_*`,
//! `GIT_*`, `STRIX_*`, `AWS_*`, `XDG_*`) are removed from child processes, so a developer's own
//! configuration cannot leak into a test. `NO_COLOR=1` keeps output free of colour codes.
//!
//! DVC comes from `STRIX_TEST_DVC` (a path to the `dvc` executable; `scripts/test` installs it).
//! When it is unset, [`TestEnv::dvc`] returns `None` and the test should call [`skip`] and return,
//! unless `STRIX_REQUIRE_DVC=1`, in which case it panics: CI must never skip interop tests.

// Each test binary compiles this module and uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use md5::{Digest, Md5};
use tempfile::TempDir;

/// The DVC release the interop tests are written against.
pub const DVC_VERSION: &str = "3.67.1";

/// Name of git's author and committer in tests.
pub const GIT_USER_NAME: &str = "Strix Test";
/// Email of git's author and committer in tests.
pub const GIT_USER_EMAIL: &str = "strix-test@example.com";

/// Prefixes of outer environment variables that are never passed to child processes.
const SCRUBBED_PREFIXES: &[&str] = &["DVC_", "GIT_", "STRIX_", "AWS_", "XDG_"];

/// A temporary, isolated HOME + configuration + repository directory. Dropping it deletes it.
pub struct TestEnv {
    // Held for its Drop, which deletes the directory.
    _tmp: TempDir,
    root: PathBuf,
    home: PathBuf,
    repo: PathBuf,
    vars: Vec<(OsString, OsString)>,
}

impl TestEnv {
    /// A [`TestEnv`] whose `repo/` is a Git repository with `strix init` run in it.
    pub fn initialized() -> Self {
        let env = Self::new();
        assert_success(&env.git(&["init", "-q"]));
        assert_success(&env.strix(&["init", "-q"]));
        env
    }

    /// Like [`TestEnv::initialized`], but the repository is made by `dvc init`; `None` when DVC
    /// is not installed (see [`dvc_bin`]).
    pub fn initialized_with_dvc() -> Option<Self> {
        dvc_bin()?;
        let env = Self::new();
        assert_success(&env.git(&["init", "-q"]));
        assert_success(&env.dvc(&["init", "-q"])?);
        Some(env)
    }

    /// Creates the directory layout described in the module docs. `repo/` is created empty
    /// ([`TestEnv::initialized`] makes it a repository).
    pub fn new() -> Self {
        let tmp = tempfile::Builder::new()
            .prefix("strix-test-")
            .tempdir()
            .expect("create temporary directory");
        // Canonical, so paths printed by the tools match the ones tests build.
        let root = tmp.path().canonicalize().expect("canonicalize temp dir");
        let dir = |name: &str| {
            let path = root.join(name);
            fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
            path
        };
        let home = dir("home");
        let config = dir("config");
        let dvc_global = dir("dvc-global");
        let dvc_system = dir("dvc-system");
        let dvc_site_cache = dir("dvc-site-cache");
        let repo = dir("repo");

        let gitconfig = root.join("gitconfig");
        write_file(
            &gitconfig,
            format!(
                "[user]\n\tname = {GIT_USER_NAME}\n\temail = {GIT_USER_EMAIL}\n\
                 [init]\n\tdefaultBranch = main\n\
                 [commit]\n\tgpgsign = false\n\
                 [tag]\n\tgpgsign = false\n\
                 [core]\n\tautocrlf = false\n\
                 [advice]\n\tdetachedHead = false\n"
            ),
        );
        // Keeps DVC from spawning a daemon that asks the network for a newer version.
        write_file(
            dvc_system.join("config"),
            "[core]\n    check_update = false\n    analytics = false\n",
        );

        let mut vars: Vec<(OsString, OsString)> = Vec::new();
        let mut set = |k: &str, v: &OsStr| vars.push((k.into(), v.to_owned()));
        set("HOME", home.as_os_str());
        set("XDG_CONFIG_HOME", config.as_os_str());
        set("DVC_GLOBAL_CONFIG_DIR", dvc_global.as_os_str());
        set("DVC_SYSTEM_CONFIG_DIR", dvc_system.as_os_str());
        set("DVC_SITE_CACHE_DIR", dvc_site_cache.as_os_str());
        set("DVC_NO_ANALYTICS", OsStr::new("1"));
        set("GIT_CONFIG_GLOBAL", gitconfig.as_os_str());
        set("GIT_CONFIG_NOSYSTEM", OsStr::new("1"));
        set("NO_COLOR", OsStr::new("1"));
        set("LC_ALL", OsStr::new("C.UTF-8"));
        set("TZ", OsStr::new("UTC"));

        TestEnv {
            _tmp: tmp,
            root,
            home,
            repo,
            vars,
        }
    }

    /// The temporary directory holding everything.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The default working directory, `<root>/repo`.
    pub fn repo(&self) -> &Path {
        &self.repo
    }

    /// The isolated HOME.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Creates (if needed) and returns `<root>/<name>`, e.g. a second clone or a local remote.
    pub fn mkdir(&self, name: &str) -> PathBuf {
        let path = self.root.join(name);
        fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        path
    }

    /// Sets (or overrides) a variable for every later child process, e.g. a server's endpoint.
    pub fn set_env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) {
        let key = key.into();
        self.vars.retain(|(k, _)| *k != key);
        self.vars.push((key, value.into()));
    }

    /// The variables this environment sets in child processes.
    pub fn vars(&self) -> &[(OsString, OsString)] {
        &self.vars
    }

    /// A command for `program` running in `dir` with this environment. stdin is empty.
    pub fn command_in(&self, dir: &Path, program: impl AsRef<OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(dir).stdin(Stdio::null());
        for (key, _) in std::env::vars_os() {
            let scrub = key
                .to_str()
                .is_some_and(|k| SCRUBBED_PREFIXES.iter().any(|p| k.starts_with(p)));
            if scrub {
                cmd.env_remove(&key);
            }
        }
        cmd.envs(self.vars.iter().map(|(k, v)| (k, v)));
        cmd
    }

    /// [`Self::command_in`] the repo directory.
    pub fn command(&self, program: impl AsRef<OsStr>) -> Command {
        self.command_in(&self.repo, program)
    }

    /// Runs `strix ARGS` in the repo directory. Does not check the exit status.
    pub fn strix(&self, args: &[&str]) -> Output {
        self.strix_in(&self.repo, args)
    }

    /// Runs `strix ARGS` in `dir`. Does not check the exit status.
    pub fn strix_in(&self, dir: &Path, args: &[&str]) -> Output {
        run(self.command_in(dir, strix_bin()).args(args))
    }

    /// Runs `strix ARGS` in the repo directory, panics unless it succeeds, returns its stdout.
    #[track_caller]
    pub fn strix_ok(&self, args: &[&str]) -> String {
        let out = self.strix(args);
        assert_success(&out);
        stdout(&out)
    }

    /// Runs `git ARGS` in the repo directory and panics unless it succeeds: git is setup, not the
    /// thing under test.
    #[track_caller]
    pub fn git(&self, args: &[&str]) -> Output {
        self.git_in(&self.repo, args)
    }

    /// Runs `git ARGS` in `dir`, panics unless it succeeds.
    #[track_caller]
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> Output {
        let out = run(self.command_in(dir, "git").args(args));
        assert_success(&out);
        out
    }

    /// Runs `dvc ARGS` in the repo directory; `None` when DVC is not installed (see [`dvc_bin`]).
    /// Does not check the exit status.
    pub fn dvc(&self, args: &[&str]) -> Option<Output> {
        self.dvc_in(&self.repo, args)
    }

    /// Runs DVC 2 (`dvc2_bin`) with ARGS in the repo directory; `None` when it
    /// is not installed. Does not check the exit status.
    pub fn dvc2(&self, args: &[&str]) -> Option<Output> {
        let dvc = dvc2_bin()?;
        Some(run(self.command_in(&self.repo, dvc).args(args)))
    }

    /// Runs `dvc ARGS` in `dir`; `None` when DVC is not installed.
    pub fn dvc_in(&self, dir: &Path, args: &[&str]) -> Option<Output> {
        let dvc = dvc_bin()?;
        Some(run(self.command_in(dir, dvc).args(args)))
    }

    /// Writes `contents` to `path` (relative to the repo directory, or absolute), creating parent
    /// directories.
    pub fn write(&self, path: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
        write_file(self.repo.join(path), contents);
    }

    /// Reads `path` (relative to the repo directory, or absolute).
    #[track_caller]
    pub fn read(&self, path: impl AsRef<Path>) -> Vec<u8> {
        let path = self.repo.join(path);
        fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Reads `path` as UTF-8 text.
    #[track_caller]
    pub fn read_string(&self, path: impl AsRef<Path>) -> String {
        String::from_utf8(self.read(path)).expect("file is UTF-8")
    }

    /// Replaces every occurrence of the temporary root in `text` with `$ROOT`, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&*self.root.to_string_lossy(), "$ROOT")
    }
}

impl Default for TestEnv {
    fn default() -> Self {
        Self::new()
    }
}

/// Path of the `strix` binary built by cargo for this test run.
pub fn strix_bin() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_strix"))
}

/// Path of the real `dvc` from `STRIX_TEST_DVC`, or `None` when it is unset or empty.
///
/// Panics when `STRIX_REQUIRE_DVC=1` and DVC is missing, and when `STRIX_TEST_DVC` names a file
/// that does not exist (a broken setup, never a reason to skip).
pub fn dvc_bin() -> Option<PathBuf> {
    let required = std::env::var_os("STRIX_REQUIRE_DVC").is_some_and(|v| v == "1");
    match std::env::var_os("STRIX_TEST_DVC").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "STRIX_TEST_DVC={} does not exist; run scripts/test to install DVC {DVC_VERSION}",
                path.display()
            );
            Some(path)
        }
        None if required => panic!(
            "STRIX_REQUIRE_DVC=1 but STRIX_TEST_DVC is not set: interop tests need DVC \
             {DVC_VERSION}; run scripts/test, or set STRIX_TEST_DVC=/path/to/venv/bin/dvc"
        ),
        None => None,
    }
}

/// The DVC 2 release that is the oracle for legacy `.dvc` stages and `run`.
pub const DVC2_VERSION: &str = "2.58.2";

/// Path of DVC 2 from `STRIX_TEST_DVC2` (`scripts/test` installs it with
/// `install_dvc2`), or `None` when unset. Required like [`dvc_bin`] when
/// `STRIX_REQUIRE_DVC=1`.
pub fn dvc2_bin() -> Option<PathBuf> {
    let required = std::env::var_os("STRIX_REQUIRE_DVC").is_some_and(|v| v == "1");
    match std::env::var_os("STRIX_TEST_DVC2").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.is_file(),
                "STRIX_TEST_DVC2={} does not exist; run scripts/test to install DVC {DVC2_VERSION}",
                path.display()
            );
            Some(path)
        }
        None if required => panic!(
            "STRIX_REQUIRE_DVC=1 but STRIX_TEST_DVC2 is not set: legacy-stage tests need DVC \
             {DVC2_VERSION}; run scripts/test, or set STRIX_TEST_DVC2=/path/to/venv/bin/dvc"
        ),
        None => None,
    }
}

/// Whether real DVC is installed ([`dvc_bin`]); says the test is skipped when it is not.
pub fn have_dvc() -> bool {
    let have = dvc_bin().is_some();
    if !have {
        skip("DVC is not installed (set STRIX_TEST_DVC)");
    }
    have
}

/// Whether DVC 2 is installed ([`dvc2_bin`]); says the test is skipped when it is not.
pub fn have_dvc2() -> bool {
    let have = dvc2_bin().is_some();
    if !have {
        skip("DVC 2 is not installed (set STRIX_TEST_DVC2)");
    }
    have
}

/// Says on stderr that a test is skipped and why; the caller then returns.
#[allow(clippy::print_stderr)]
pub fn skip(reason: &str) {
    eprintln!("skipping: {reason}");
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("failed to start {:?}: {e}", cmd.get_program()))
}

fn write_file(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) {
    let path = path.as_ref();
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    }
    fs::write(path, contents).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// The stdout of `out` as (lossy) UTF-8.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The stderr of `out` as (lossy) UTF-8.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn describe(out: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        stdout(out),
        stderr(out)
    )
}

/// Panics, showing the exit status, stdout and stderr, unless the command succeeded.
#[track_caller]
pub fn assert_success(out: &Output) {
    assert!(out.status.success(), "command failed\n{}", describe(out));
}

/// Panics, showing the exit status, stdout and stderr, unless the command failed.
#[track_caller]
pub fn assert_failure(out: &Output) {
    assert!(
        !out.status.success(),
        "command succeeded but should have failed\n{}",
        describe(out)
    );
}

/// Panics, showing the output, unless the command exited with `code`.
#[track_caller]
pub fn assert_exit_code(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "unexpected exit status\n{}",
        describe(out)
    );
}

/// One entry of a [`tree_listing`]: the full `st_mode` (file type and permission bits) and, for a
/// regular file, the lowercase hex md5 of its content; for a symlink, `-> <target>`.
pub type Entry = (u32, String);

/// Every regular file and symlink under `dir` (not following symlinks), keyed by its path
/// relative to `dir` with `/` separators. Directories themselves are not listed. Compare two
/// workspaces or caches with `assert_eq!(tree_listing(a), tree_listing(b))`.
pub fn tree_listing(dir: impl AsRef<Path>) -> BTreeMap<String, Entry> {
    tree_listing_except(dir, &[])
}

/// [`tree_listing`] without the paths equal to or below any of `skip` (relative, `/`-separated),
/// e.g. `&[".git", ".dvc/tmp"]`.
pub fn tree_listing_except(dir: impl AsRef<Path>, skip: &[&str]) -> BTreeMap<String, Entry> {
    let dir = dir.as_ref();
    let mut out = BTreeMap::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let abs = dir.join(&rel);
        let entries = fs::read_dir(&abs).unwrap_or_else(|e| panic!("read {}: {e}", abs.display()));
        for entry in entries {
            let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", abs.display()));
            let rel = rel.join(entry.file_name());
            let key = rel
                .to_str()
                .unwrap_or_else(|| panic!("non-UTF-8 path {}", rel.display()))
                .to_owned();
            if skip
                .iter()
                .any(|s| key == *s || key.strip_prefix(s).is_some_and(|r| r.starts_with('/')))
            {
                continue;
            }
            let path = entry.path();
            let meta = fs::symlink_metadata(&path)
                .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
            if meta.is_dir() {
                stack.push(rel);
            } else if meta.file_type().is_symlink() {
                let target = fs::read_link(&path)
                    .unwrap_or_else(|e| panic!("readlink {}: {e}", path.display()));
                out.insert(key, (meta.mode(), format!("-> {}", target.display())));
            } else {
                out.insert(
                    key,
                    (
                        meta.mode(),
                        md5_hex(
                            &fs::read(&path)
                                .unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
                        ),
                    ),
                );
            }
        }
    }
    out
}

/// Lowercase hex md5 of `bytes`, as DVC writes it.
pub fn md5_hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The words of each line of `text`: DVC's console pads the tabs of some listings with spaces
/// where strix keeps the tab, so such listings are compared word by word.
pub fn words(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .map(|l| l.split_whitespace().map(str::to_string).collect())
        .collect()
}
