//! Errors of repository operations. Each variant knows its DVC exit code
//! and, where one helps, a hint for the user.

use std::path::PathBuf;

/// Everything a repository operation can fail with.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("you are not inside of a DVC repository (checked up to mount point '/')")]
    NotARepo,
    #[error("failed to initiate DVC - '.dvc' exists. Use `-f` to force.")]
    AlreadyInitialized,
    #[error(
        "failed to initiate DVC - {} is not tracked by any supported SCM tool (e.g. Git). Use `--no-scm` if you don't want to use any SCM or `--subdir` if initializing inside a subdirectory of a parent SCM repository.",
        .0.display()
    )]
    NoScm(PathBuf),
    #[error("cannot use `--no-scm` together with `--subdir`")]
    NoScmWithSubdir,
    #[error("path '{}' is outside of the repository '{}'", .path.display(), .root.display())]
    OutsideRepo { path: PathBuf, root: PathBuf },
    #[error("'{}' does not exist", .0.display())]
    NotFound(PathBuf),
    #[error("Path '{}' is ignored by {rule}", .path.display())]
    Ignored { path: PathBuf, rule: String },
    #[error("output '{0}' is already tracked by SCM (e.g. Git)")]
    TrackedByGit(String),
    #[error("cannot add '{path}': it is an output of stage '{stage}' in '{dvcfile}'")]
    PipelineOutput {
        path: String,
        stage: String,
        dvcfile: String,
    },
    #[error("cannot add '{path}': it overlaps with output '{other}' of '{dvcfile}'")]
    Overlap {
        path: String,
        other: String,
        dvcfile: String,
    },
    #[error("'{0}' is not tracked by DVC: no .dvc file or stage output matches it")]
    NotTracked(String),
    #[error("unable to commit changed stage: '{0}'. Use `-f|--force` to force.")]
    CommitChanged(String),
    #[error("'{}' validation failed", .path.display())]
    Metafile {
        path: PathBuf,
        #[source]
        source: Box<strix_dvcfile::DvcFileError>,
    },
    #[error("'{}' is invalid", .path.display())]
    Pipeline {
        path: PathBuf,
        #[source]
        source: Box<strix_dvcfile::PipelineError>,
    },
    /// A `dvc.lock` that cannot be read as one.
    #[error("'{path}' is invalid")]
    Lockfile {
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("failed to update '{}'", .path.display())]
    MetafileUpdate {
        path: PathBuf,
        #[source]
        source: Box<strix_dvcfile::UpdateError>,
    },
    #[error("'{path}' in '{}' points outside of the repository", .dvcfile.display())]
    EscapingOut { dvcfile: PathBuf, path: String },
    #[error("failed to read '{}'", .path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write '{}'", .path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "Unable to acquire lock. Most likely another DVC process is running or was terminated abruptly."
    )]
    Lock(#[source] strix_fs::lock::LockError),
    #[error("configuration error - config file error")]
    Config(#[source] Box<strix_config::ConfigError>),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("failed to hash or save '{}'", .path.display())]
    Tree {
        path: PathBuf,
        #[source]
        source: strix_data::tree::TreeError,
    },
    #[error("checkout of '{}' failed", .path.display())]
    Checkout {
        path: PathBuf,
        #[source]
        source: Box<strix_data::checkout::CheckoutError>,
    },
    #[error("failed to load the directory manifest of '{}'", .path.display())]
    Manifest {
        path: PathBuf,
        #[source]
        source: strix_data::odb::ManifestReadError,
    },
    #[error("Checkout failed for following targets:\n{}", .0.join("\n"))]
    CheckoutFailed(Vec<String>),
    #[error("'{0}' is not a valid target: {1}")]
    BadTarget(String, &'static str),
    /// `add -o` onto something that exists, without `--force` (DVC's
    /// `FileExistsLocallyError`).
    #[error("the {} '{path}' already exists locally", if *.is_dir { "directory" } else { "file" })]
    ExistsLocally { path: String, is_dir: bool },
    /// A `.dvc` file or `dvc.yaml` given as an output.
    #[error("DVC file '{0}' cannot be an output.")]
    OutputIsDvcFile(String),
    /// `remove --outs` of an output whose content is not in the cache.
    #[error(
        "cannot remove '{0}': its current content is not in the cache, so removing it would lose it"
    )]
    UnsavedRemoval(String),
    #[error("cannot move '{from}' to '{to}': {reason}")]
    Move {
        from: String,
        to: String,
        reason: &'static str,
    },
}

/// Git failures, wrapped.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("git repository error")]
    Repo(#[from] strix_git::RepoError),
    #[error("git revision error")]
    Revision(#[from] strix_git::RevisionError),
    #[error("git staging failed")]
    Stage(#[from] strix_git::StageError),
    #[error("failed to update .gitignore")]
    Gitignore(#[from] strix_git::gitignore::GitignoreError),
}

impl RepoError {
    /// Wraps a configuration error.
    pub fn config(e: strix_config::ConfigError) -> Self {
        RepoError::Config(Box::new(e))
    }

    /// DVC's exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            RepoError::NotARepo => 253,
            RepoError::Config(_) => 251,
            RepoError::Checkout { .. } | RepoError::BadTarget(..) => 255,
            _ => 1,
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        use strix_data::checkout::CheckoutError as C;
        if let RepoError::Checkout { source, .. } = self {
            return match source.as_ref() {
                C::Missing { .. } | C::Partial { .. } => {
                    Some("the data is not in the cache: run `strix pull` to download it".into())
                }
                C::Unsaved(_) => Some(
                    "save those files with `strix add`/`strix commit` first, or use `--force` to discard them".into(),
                ),
                C::Corrupted { .. } => Some(
                    "delete the corrupted cache object and run `strix pull`, or `strix add` the data again if you still have it".into(),
                ),
                _ => None,
            };
        }
        match self {
            RepoError::NotARepo => Some("run `strix init` to create a repository here".into()),
            RepoError::TrackedByGit(p) => Some(format!(
                "stop tracking it in Git first: `git rm -r --cached '{p}'` and `git commit -m \"stop tracking {p}\"`"
            )),
            RepoError::Lock(_) => Some(
                "wait for the other strix/dvc process to finish; a lock held by a process that died is released automatically".into(),
            ),
            RepoError::CheckoutFailed(_) => Some(
                "data missing from (or damaged in) the cache can be downloaded again with `strix pull` (or `strix fetch`)".into(),
            ),
            RepoError::Metafile { .. } => Some("fix the file by hand, or restore it from Git".into()),
            RepoError::ExistsLocally { .. } => Some("to overwrite it, re-run with `--force`".into()),
            RepoError::UnsavedRemoval(p) => Some(format!(
                "save it first with `strix commit` (or `strix add {p}`), or remove it yourself if you mean to discard it"
            )),
            RepoError::EscapingOut { .. } => Some("output paths must stay inside the repository".into()),
            RepoError::OutsideRepo { .. } => Some(
                "to copy external data into the repository, use `strix add <path> -o <inside-repo-path>`".into(),
            ),
            RepoError::Tree {
                source: strix_data::tree::TreeError::Walk(strix_data::walk::WalkError::NonUtf8(_)),
                ..
            } => Some(
                "rename the file to a UTF-8 name; DVC's formats can only store UTF-8 paths".into(),
            ),
            _ => None,
        }
    }
}

/// Shorthand.
pub type Result<T, E = RepoError> = std::result::Result<T, E>;
