//! What `git status` reports, as far as `data status` needs it: whether the
//! work tree has changes of Git's own (staged, unstaged and, when asked,
//! untracked files), and the untracked files one by one (`-uall`).

use gix::bstr::ByteSlice;
use gix::status::UntrackedFiles;

use crate::repo::GitRepo;

/// Errors from computing the status.
#[derive(Debug, thiserror::Error)]
#[error("cannot compute the git status of '{workdir}'")]
pub struct StatusError {
    /// The work tree root.
    pub workdir: std::path::PathBuf,
    /// What gix reported.
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// The parts of `git status` that `data status` shows.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct GitStatus {
    /// Some change that Git sees: staged, unstaged or (when listed)
    /// untracked.
    pub dirty: bool,
    /// Untracked, not ignored files, repo-relative with `/`, each file
    /// listed (none unless asked for).
    pub untracked: Vec<String>,
}

impl GitRepo {
    /// The status of the work tree; untracked files are looked for (and
    /// count as changes) only with `untracked`.
    pub fn status(&self, untracked: bool) -> Result<GitStatus, StatusError> {
        let err = |e: Box<dyn std::error::Error + Send + Sync>| StatusError {
            workdir: self.workdir().to_path_buf(),
            source: e,
        };
        let repo = self.local();
        let mode = if untracked {
            UntrackedFiles::Files
        } else {
            UntrackedFiles::None
        };
        let iter = repo
            .status(gix::progress::Discard)
            .map_err(|e| err(Box::new(e)))?
            .untracked_files(mode)
            .into_iter(None)
            .map_err(|e| err(Box::new(e)))?;
        let mut status = GitStatus::default();
        for item in iter {
            let item = item.map_err(|e| err(Box::new(e)))?;
            match item {
                gix::status::Item::IndexWorktree(
                    gix::status::index_worktree::Item::DirectoryContents { entry, .. },
                ) => {
                    if entry.status == gix::dir::entry::Status::Untracked {
                        status
                            .untracked
                            .push(entry.rela_path.to_str_lossy().into_owned());
                        status.dirty = true;
                    }
                }
                _ => status.dirty = true,
            }
        }
        status.untracked.sort();
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::git;

    #[test]
    fn untracked_staged_and_unstaged_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        git(d, &["init", "-q", "-b", "main"]);
        std::fs::write(d.join(".gitignore"), "/ignored\n").unwrap();
        std::fs::write(d.join("a"), "1").unwrap();
        git(d, &["add", "a", ".gitignore"]);
        git(d, &["commit", "-q", "-m", "one"]);
        let repo = GitRepo::discover(d).unwrap().unwrap();
        assert_eq!(repo.status(true).unwrap(), GitStatus::default());

        std::fs::create_dir_all(d.join("new/deep")).unwrap();
        std::fs::write(d.join("new/deep/x"), "x").unwrap();
        std::fs::write(d.join("u"), "u").unwrap();
        std::fs::write(d.join("ignored"), "i").unwrap();
        let st = repo.status(true).unwrap();
        assert_eq!(st.untracked, vec!["new/deep/x", "u"]);
        assert!(st.dirty);
        // Without listing them, untracked files are no change.
        assert_eq!(repo.status(false).unwrap(), GitStatus::default());

        std::fs::write(d.join("a"), "2").unwrap();
        assert!(repo.status(false).unwrap().dirty, "unstaged change missed");
        git(d, &["add", "a"]);
        assert!(repo.status(false).unwrap().dirty, "staged change missed");
    }
}
