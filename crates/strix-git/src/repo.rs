//! Opening a git work tree and asking about its index and ignore rules.

use std::path::{Path, PathBuf};

use gix::bstr::BStr;

use crate::path::{PathError, repo_relative};

/// Errors from discovering a repository and querying its index or ignore rules.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    /// The start directory could not be made absolute.
    #[error("cannot make '{path}' absolute")]
    Absolute {
        /// The directory discovery started from.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Searching upwards for a `.git` failed for a reason other than "none found".
    #[error("cannot search for a git repository from '{start}'")]
    Search {
        /// The directory discovery started from.
        start: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// A `.git` was found but could not be opened.
    #[error("cannot open the git repository found from '{start}'")]
    Open {
        /// The directory discovery started from.
        start: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The path given by the caller does not name a work-tree entry.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The index (`.git/index`) could not be read.
    #[error("cannot read the git index of '{workdir}'")]
    Index {
        /// The work tree root.
        workdir: PathBuf,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The ignore rules (`.gitignore`, `info/exclude`, `core.excludesFile`) could not be loaded.
    #[error("cannot load git ignore rules for '{path}'")]
    Ignore {
        /// The repo-relative path being checked.
        path: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
}

/// A git repository that has a work tree.
///
/// Holds gix's thread-safe handle, so a `GitRepo` is `Send + Sync`; every
/// query makes a cheap thread-local handle of its own.
pub struct GitRepo {
    pub(crate) inner: gix::ThreadSafeRepository,
    workdir: PathBuf,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("workdir", &self.workdir)
            .finish_non_exhaustive()
    }
}

impl GitRepo {
    /// Finds the git work tree containing `start` (searching its parents).
    ///
    /// Returns `Ok(None)` when `start` is not inside any git repository, or
    /// only inside a bare one (no work tree). `GIT_DIR` and other git
    /// environment variables are not consulted, matching DVC.
    pub fn discover(start: &Path) -> Result<Option<GitRepo>, RepoError> {
        let start = std::path::absolute(start).map_err(|source| RepoError::Absolute {
            path: start.to_path_buf(),
            source,
        })?;
        if let Err(source) = gix::discover::upwards(&start) {
            use gix::discover::upwards::Error as Upwards;
            return match source.downcast_any_ref::<Upwards>() {
                Some(
                    Upwards::NoGitRepository { .. }
                    | Upwards::NoGitRepositoryWithinCeiling { .. }
                    | Upwards::NoGitRepositoryWithinFs { .. },
                ) => Ok(None),
                _ => Err(RepoError::Search { start, source }),
            };
        }
        let inner = gix::ThreadSafeRepository::discover(&start)
            .map_err(|source| RepoError::Open { start, source })?;
        let Some(workdir) = inner.work_dir().map(Path::to_path_buf) else {
            return Ok(None);
        };
        Ok(Some(GitRepo { inner, workdir }))
    }

    /// The root of the work tree (absolute).
    pub fn workdir(&self) -> &Path {
        &self.workdir
    }

    /// A thread-local gix handle.
    pub(crate) fn local(&self) -> gix::Repository {
        self.inner.to_thread_local()
    }

    /// Converts a caller path (relative to the work tree, or absolute below
    /// it) into git's `/`-separated repo-relative form.
    pub fn relative(&self, path: &Path) -> Result<String, PathError> {
        repo_relative(&self.workdir, path)
    }

    /// Whether `HEAD` points to a commit. A fresh repository (unborn
    /// `HEAD`) and an unreadable `HEAD` both give `false`.
    pub fn head_exists(&self) -> bool {
        self.local().head_id().is_ok()
    }

    /// Whether git tracks `rel`: it is in the index as a file (any merge
    /// stage), or some index entry lies below it as a directory. The work
    /// tree root counts as tracked when the index is not empty.
    ///
    /// A missing index (fresh repository) means nothing is tracked.
    pub fn is_tracked(&self, rel: &Path) -> Result<bool, RepoError> {
        let rel = self.relative(rel)?;
        let repo = self.local();
        let index = repo.index_or_empty().map_err(|source| RepoError::Index {
            workdir: self.workdir.clone(),
            source,
        })?;
        if rel.is_empty() {
            return Ok(!index.entries().is_empty());
        }
        if index.entry_range(BStr::new(&rel)).is_some() {
            return Ok(true);
        }
        let dir_prefix = format!("{rel}/");
        Ok(index.prefixed_entries(BStr::new(&dir_prefix)).is_some())
    }

    /// Whether git ignores `rel` (a file, or a directory when `is_dir`).
    ///
    /// Honours `.gitignore` files in the work tree (including those of parent
    /// directories, and excluded parent directories), `$GIT_DIR/info/exclude`
    /// and `core.excludesFile` (or its XDG default). Whether the path is
    /// tracked is not considered: ask [`GitRepo::is_tracked`] for that.
    /// The rules are read afresh on every call, so edits made in between are
    /// seen.
    pub fn is_ignored(&self, rel: &Path, is_dir: bool) -> Result<bool, RepoError> {
        let rel = self.relative(rel)?;
        if rel.is_empty() {
            return Ok(false);
        }
        let repo = self.local();
        let index = repo.index_or_empty().map_err(|source| RepoError::Index {
            workdir: self.workdir.clone(),
            source,
        })?;
        let ignore_err = |source| RepoError::Ignore {
            path: rel.clone(),
            source,
        };
        let mut stack = repo
            .excludes(
                &index,
                None,
                gix::worktree::stack::state::ignore::Source::WorktreeThenIdMappingIfNotSkipped,
            )
            .map_err(ignore_err)?;
        let mode = if is_dir {
            gix::index::entry::Mode::DIR
        } else {
            gix::index::entry::Mode::FILE
        };
        let platform = stack
            .at_entry(BStr::new(&rel), Some(mode))
            .map_err(ignore_err)?;
        Ok(platform.is_excluded())
    }
}
