//! One module per command: its clap arguments and its `run` function.

pub mod add;
pub mod cache;
pub mod check_ignore;
pub mod checkout;
pub mod commit;
pub mod config;
pub mod dag;
pub mod data;
pub mod diff;
pub mod fetch;
pub mod freeze;
pub mod gc;
pub mod init;
pub mod manage;
pub mod pipeline_common;
pub mod pull;
pub mod push;
pub mod remote;
pub mod repro;
pub mod root;
pub mod run;
pub mod stage;
pub mod status;
pub mod version;

use crate::ui::errors::Failure;
use std::path::{Path, PathBuf};
use strix_repo::Repo;

/// The current directory.
pub fn cwd() -> Result<PathBuf, Failure> {
    std::env::current_dir()
        .map_err(|e| Failure::new(anyhow::anyhow!("cannot read the current directory: {e}"), 1))
}

/// Opens the repository containing the current directory.
pub fn open_repo() -> Result<(Repo, PathBuf), Failure> {
    let cwd = cwd()?;
    let repo = Repo::discover(&cwd)?;
    let cwd = cwd.canonicalize().unwrap_or(cwd);
    Ok((repo, cwd))
}

/// [`open_repo`] for a command that creates, moves and removes no `.dvc`,
/// `dvc.yaml` or `dvc.lock` file: the workspace is walked for them once
/// ([`Repo::settle_metafiles`]).
pub fn open_repo_settled() -> Result<(Repo, PathBuf), Failure> {
    let (mut repo, cwd) = open_repo()?;
    repo.settle_metafiles();
    Ok((repo, cwd))
}

/// `path` relative to `base` for display (POSIX separators), falling back
/// to the absolute path.
pub fn display_rel(base: &Path, path: &Path) -> String {
    if let Ok(r) = path.strip_prefix(base) {
        let s = r.to_string_lossy().into_owned();
        return if s.is_empty() { ".".into() } else { s };
    }
    // Walk up from base.
    let mut up = String::new();
    let mut cur = base;
    while let Some(parent) = cur.parent() {
        up.push_str("../");
        if let Ok(r) = path.strip_prefix(parent) {
            let r = r.to_string_lossy();
            return if r.is_empty() {
                up.trim_end_matches('/').to_string()
            } else {
                format!("{up}{r}")
            };
        }
        cur = parent;
    }
    path.to_string_lossy().into_owned()
}

/// Stages files in Git when `core.autostage` is on; otherwise returns the
/// lines DVC prints to tell the user how to stage them.
pub fn stage_or_hint(repo: &Repo, cwd: &Path, files: &[PathBuf]) -> Result<Vec<String>, Failure> {
    let Some(git) = repo.git() else {
        return Ok(Vec::new());
    };
    if files.is_empty() {
        return Ok(Vec::new());
    }
    if repo.settings().autostage {
        git.add(files).map_err(|e| {
            Failure::new(
                anyhow::Error::new(e).context("failed to stage metafiles in git"),
                1,
            )
        })?;
        return Ok(Vec::new());
    }
    let mut names: Vec<String> = files.iter().map(|f| display_rel(cwd, f)).collect();
    names.sort();
    names.dedup();
    Ok(vec![
        "".into(),
        "To track the changes with git, run:".into(),
        "".into(),
        format!("\tgit add {}", names.join(" ")),
        "".into(),
        "To enable auto staging, run:".into(),
        "".into(),
        "\tstrix config core.autostage true".into(),
    ])
}

/// `--glob`: each target is a pattern (relative to `cwd`) for the paths it
/// matches; one that matches nothing is an error.
pub fn expand_globs(
    cwd: &std::path::Path,
    targets: &[std::path::PathBuf],
) -> Result<Vec<PathBuf>, Failure> {
    let mut out = Vec::new();
    for t in targets {
        let pattern = cwd.join(t);
        let pattern = pattern.to_string_lossy();
        // As Python's glob: `*`, `?` and `[…]` do not match a leading dot.
        let opts = glob::MatchOptions {
            require_literal_leading_dot: true,
            ..Default::default()
        };
        let paths = glob::glob_with(&pattern, opts).map_err(|e| {
            Failure::new(
                anyhow::anyhow!("invalid glob pattern '{}': {e}", t.display()),
                1,
            )
        })?;
        let mut any = false;
        for p in paths.flatten() {
            any = true;
            out.push(p);
        }
        if !any {
            return Err(Failure::new(
                anyhow::anyhow!("glob pattern '{}' matched nothing", t.display()),
                1,
            ));
        }
    }
    Ok(out)
}
