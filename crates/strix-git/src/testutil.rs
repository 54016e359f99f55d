//! Running `git` in unit tests.

use std::path::Path;
use std::process::Command;

/// `git ARGS` in `dir`, isolated from the user's configuration, with the
/// committer date `date` when given; panics unless it succeeds.
pub fn git_at(dir: &Path, args: &[&str], date: Option<&str>) {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com");
    if let Some(date) = date {
        cmd.env("GIT_COMMITTER_DATE", date);
    }
    let out = cmd.output().expect("git runs");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// [`git_at`] with the current date.
pub fn git(dir: &Path, args: &[&str]) {
    git_at(dir, args, None);
}
