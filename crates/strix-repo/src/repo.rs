//! A DVC repository: its root, `.dvc` directory, settings, cache and state.
//!
//! Layout owned here (spec §1):
//!
//! ```text
//! .dvc/config            repo config (configobj)
//! .dvc/config.local      local config (git-ignored)
//! .dvc/.gitignore        "/config.local\n/tmp\n/cache\n"
//! .dvc/tmp/lock          repository lock, flock'ed (shared with DVC)
//! .dvc/tmp/btime         marker file
//! .dvc/tmp/strix/        strix's private state (state db, run journals)
//! .dvcignore             ignore rules for DVC walks
//! ```

use crate::error::{RepoError, Result};
use crate::index::Metafiles;
use crate::settings::Settings;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use strix_data::complete::CompleteDirs;
use strix_data::{Adoption, Odb, StateDb};
use strix_fs::lock::RepoLock;
use strix_git::GitRepo;

/// `.dvcignore` as `dvc init` writes it.
pub const DVCIGNORE_TEMPLATE: &str = "# Add patterns of files dvc should ignore, which could improve\n# the performance. Learn more at\n# https://dvc.org/doc/user-guide/dvcignore\n";
/// `.dvc/.gitignore` as `dvc init` writes it.
pub const DVC_GITIGNORE: &str = "/config.local\n/tmp\n/cache\n";

/// An open repository.
pub struct Repo {
    root: PathBuf,
    git: Option<GitRepo>,
    settings: Settings,
    odb: Odb,
    state: StateDb,
    complete: CompleteDirs,
    /// Set by [`Repo::settle_metafiles`]: the metafiles found by the first
    /// walk for them, reused for the rest of the run.
    metafiles: Option<OnceLock<Arc<Metafiles>>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("root", &self.root).finish()
    }
}

/// Options of `init`.
#[derive(Debug, Default, Clone, Copy)]
pub struct InitOptions {
    pub no_scm: bool,
    pub subdir: bool,
    pub force: bool,
}

/// What `init` did.
#[derive(Debug)]
pub struct InitReport {
    pub root: PathBuf,
    pub scm: bool,
}

impl Repo {
    /// Finds the repository containing `start` (walking up to the first
    /// directory holding `.dvc/`).
    pub fn discover(start: &Path) -> Result<Self> {
        let start = start
            .canonicalize()
            .map_err(|_| RepoError::NotFound(start.to_path_buf()))?;
        let mut cur = Some(start.as_path());
        while let Some(dir) = cur {
            if dir.join(".dvc").is_dir() {
                return Self::open(dir);
            }
            cur = dir.parent();
        }
        Err(RepoError::NotARepo)
    }

    /// Opens the repository rooted at `root`.
    pub fn open(root: &Path) -> Result<Self> {
        let root = root.to_path_buf();
        let settings = Settings::load(&root)?;
        let git = if settings.no_scm {
            None
        } else {
            GitRepo::discover(&root).map_err(crate::error::GitError::from)?
        };
        // Large files are adopted into the cache: with protected link types
        // the inode itself stays in the workspace until it is replaced by a
        // link; otherwise a fresh copy takes its place.
        let adoption = if settings
            .link_types
            .first()
            .is_some_and(|l| l.is_protected())
        {
            Adoption::Link
        } else {
            Adoption::Copy
        };
        let odb = Odb::new(settings.cache_dir.clone(), settings.shared_group).adopting(adoption);
        let state = StateDb::open(&root.join(".dvc/tmp/strix/state-v3"));
        let complete = CompleteDirs::open(&root.join(".dvc/tmp/strix/complete-v1"));
        Ok(Self {
            root,
            git,
            settings,
            odb,
            state,
            complete,
            metafiles: None,
        })
    }

    /// Creates a repository in `dir` (`dvc init`).
    pub fn init(dir: &Path, opts: InitOptions) -> Result<InitReport> {
        if opts.no_scm && opts.subdir {
            return Err(RepoError::NoScmWithSubdir);
        }
        let dir = dir
            .canonicalize()
            .map_err(|_| RepoError::NotFound(dir.to_path_buf()))?;
        let dvc = dir.join(".dvc");
        let git = if opts.no_scm {
            None
        } else {
            match GitRepo::discover(&dir).map_err(crate::error::GitError::from)? {
                Some(g) if g.workdir() == dir || opts.subdir => Some(g),
                _ => return Err(RepoError::NoScm(dir)),
            }
        };
        if dvc.exists() {
            if !opts.force {
                return Err(RepoError::AlreadyInitialized);
            }
            fs::remove_dir_all(&dvc).map_err(|source| RepoError::Write {
                path: dvc.clone(),
                source,
            })?;
        }
        let w = |path: &Path, data: &str| {
            strix_fs::atomic_write(path, data.as_bytes()).map_err(|source| RepoError::Write {
                path: path.to_path_buf(),
                source,
            })
        };
        fs::create_dir_all(dvc.join("tmp")).map_err(|source| RepoError::Write {
            path: dvc.clone(),
            source,
        })?;
        w(
            &dvc.join("config"),
            if opts.no_scm {
                "[core]\n    no_scm = True\n"
            } else {
                ""
            },
        )?;
        if !opts.no_scm {
            w(&dvc.join(".gitignore"), DVC_GITIGNORE)?;
        }
        w(&dvc.join("tmp/btime"), "")?;
        let ignore = dir.join(".dvcignore");
        if !ignore.exists() {
            w(&ignore, DVCIGNORE_TEMPLATE)?;
        }
        if let Some(g) = &git {
            g.add(&[dvc.join(".gitignore"), dvc.join("config"), ignore])
                .map_err(crate::error::GitError::from)?;
        }
        Ok(InitReport {
            root: dir,
            scm: git.is_some(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn dvc_dir(&self) -> PathBuf {
        self.root.join(".dvc")
    }

    pub fn git(&self) -> Option<&GitRepo> {
        self.git.as_ref()
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn odb(&self) -> &Odb {
        &self.odb
    }

    /// `--no-relink`: files saved to the cache are copied there, never
    /// adopted, so every workspace file stays the inode it was (writable,
    /// not linked to the cache), as DVC leaves it.
    pub fn keep_workspace_files(&mut self) {
        self.odb = self.odb.clone().adopting(Adoption::No);
    }

    /// Says that this run creates, moves and removes no `.dvc`, `dvc.yaml`
    /// or `dvc.lock` file (a read-only command: `status`, `push`...), so the
    /// workspace is walked for them once and not again by each step that
    /// needs them. In a repository with a large source tree, each walk
    /// costs as much as the rest of a no-op `status`.
    pub fn settle_metafiles(&mut self) {
        self.metafiles.get_or_insert_with(OnceLock::new);
    }

    /// The list shared by this run, if [`Repo::settle_metafiles`] was called.
    pub(crate) fn settled_metafiles(&self) -> Option<&OnceLock<Arc<Metafiles>>> {
        self.metafiles.as_ref()
    }

    pub fn state(&self) -> &StateDb {
        &self.state
    }

    /// Makes the objects written to the cache durable ([`Odb::sync`]). When
    /// that flushed the filesystem the workspace is on too, everything
    /// strix wrote before is on disk, and the state database says so.
    pub fn sync_cache(&self) -> Result<()> {
        let flushed = self.odb.sync().map_err(|source| RepoError::Write {
            path: self.odb.root().to_path_buf(),
            source,
        })?;
        if flushed {
            use std::os::unix::fs::MetadataExt;
            let dev = |p: &Path| std::fs::metadata(p).map(|m| m.dev()).ok();
            if dev(&self.root).is_some() && dev(&self.root) == dev(self.odb.root()) {
                self.state.mark_durable();
            }
        }
        Ok(())
    }

    /// Saves each item's data to the cache, makes all of it durable with one
    /// flush (when `flush`), then records each item (writes its metafile):
    /// a thousand small items cost one flush, not a thousand. An item that
    /// fails to save stops the rest; the items before it are still flushed
    /// and recorded, as one at a time would leave them, and then the error
    /// is returned.
    pub(crate) fn save_then_record<I, S, R>(
        &self,
        items: impl IntoIterator<Item = I>,
        flush: bool,
        mut save: impl FnMut(I) -> Result<S>,
        mut record: impl FnMut(S) -> Result<R>,
    ) -> Result<Vec<R>> {
        let mut saved = Vec::new();
        let mut failure = None;
        for item in items {
            match save(item) {
                Ok(s) => saved.push(s),
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        if flush && !saved.is_empty() {
            self.sync_cache()?;
        }
        let done = saved
            .into_iter()
            .map(&mut record)
            .collect::<Result<Vec<R>>>()?;
        match failure {
            Some(e) => Err(e),
            None => Ok(done),
        }
    }

    /// Directory outputs known to be complete in the cache.
    pub fn complete_dirs(&self) -> &CompleteDirs {
        &self.complete
    }

    /// Saves the state database; failures only cost a rehash next time.
    pub fn save_state(&mut self) {
        if self.state.is_dirty() {
            // Earlier formats' files are never read again.
            for old in ["state-v1", "state-v2"] {
                let _ = std::fs::remove_file(self.root.join(".dvc/tmp/strix").join(old));
            }
        }
        let _ = self.state.save();
        let _ = self.complete.save();
    }

    /// Takes the repository lock (`.dvc/tmp/lock`) like DVC: 6 tries 0.5 s
    /// apart; then cleans up after killed runs (see [`crate::recovery`]).
    pub fn lock(&self) -> Result<crate::recovery::WriteSession> {
        let lock = RepoLock::acquire(
            &self.root.join(".dvc/tmp/lock"),
            6,
            Duration::from_millis(500),
        )
        .map_err(RepoError::Lock)?;
        Ok(crate::recovery::begin(self, lock))
    }

    /// Repo-relative POSIX path of an absolute path inside the repo.
    pub fn rel(&self, abs: &Path) -> String {
        abs.strip_prefix(&self.root)
            .unwrap_or(abs)
            .to_string_lossy()
            .replace('\\', "/")
    }

    /// Resolves a user-given path (relative to `cwd`) to an absolute path
    /// inside the repository, without following a final symlink.
    pub fn resolve_user_path(&self, cwd: &Path, p: &Path) -> Result<PathBuf> {
        let joined = if p.is_absolute() {
            p.to_path_buf()
        } else {
            cwd.join(p)
        };
        let norm = normalize(&joined);
        // Resolve symlinks in the parent so /tmp vs /private/tmp style
        // differences do not matter.
        let norm = match (norm.parent(), norm.file_name()) {
            (Some(parent), Some(name)) => match parent.canonicalize() {
                Ok(p) => p.join(name),
                Err(_) => norm,
            },
            _ => norm,
        };
        if !norm.starts_with(&self.root) || norm == self.root {
            return Err(RepoError::OutsideRepo {
                path: p.to_path_buf(),
                root: self.root.clone(),
            });
        }
        Ok(norm)
    }
}

/// Lexically normalises `.` and `..` components.
pub fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}
