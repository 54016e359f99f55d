//! Staging files with the `git` executable (`git add`), as DVC does for
//! `core.autostage` and `dvc init`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::repo::GitRepo;

/// Paths passed to one `git add` invocation, to stay well below the
/// kernel's argument-size limit.
const PATHS_PER_INVOCATION: usize = 500;

/// Errors from running `git add`.
#[derive(Debug, thiserror::Error)]
pub enum StageError {
    /// The `git` executable could not be started.
    #[error("cannot run 'git add' in '{workdir}': is git installed and on PATH?")]
    Spawn {
        /// The work tree root the command was run in.
        workdir: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// `git add` exited unsuccessfully.
    #[error("'git add' failed in '{workdir}' ({status}): {stderr}")]
    Failed {
        /// The work tree root the command was run in.
        workdir: PathBuf,
        /// How git exited.
        status: std::process::ExitStatus,
        /// git's standard error, trimmed.
        stderr: String,
    },
}

impl GitRepo {
    /// Stages `paths` (relative to the work tree, or absolute) by running
    /// `git add -- <paths>` in the work tree. Nothing happens for an empty
    /// list. Git's standard error is part of the error on failure.
    pub fn add(&self, paths: &[PathBuf]) -> Result<(), StageError> {
        for chunk in paths.chunks(PATHS_PER_INVOCATION) {
            run_git_add(self.workdir(), chunk)?;
        }
        Ok(())
    }
}

fn run_git_add(workdir: &Path, paths: &[PathBuf]) -> Result<(), StageError> {
    let output = Command::new("git")
        .arg("add")
        .arg("--")
        .args(paths)
        .current_dir(workdir)
        .output()
        .map_err(|source| StageError::Spawn {
            workdir: workdir.to_path_buf(),
            source,
        })?;
    if output.status.success() {
        return Ok(());
    }
    Err(StageError::Failed {
        workdir: workdir.to_path_buf(),
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}
