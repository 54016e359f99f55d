//! Reading files from the tree of a commit: resolving revisions, single
//! files, and collecting metafiles from a whole (sub)tree.

use std::path::Path;

use gix::objs::tree::EntryKind;

use crate::path::PathError;
use crate::repo::GitRepo;

/// Errors from resolving revisions and reading trees and blobs.
#[derive(Debug, thiserror::Error)]
pub enum RevisionError {
    /// The path given by the caller does not name a work-tree entry.
    #[error(transparent)]
    Path(#[from] PathError),
    /// The revision does not name an object.
    #[error("unknown git revision '{rev}'")]
    Resolve {
        /// The revision as given.
        rev: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// The revision names an object that is not a commit (or a tag of one).
    #[error("git revision '{rev}' does not name a commit")]
    NotACommit {
        /// The revision as given.
        rev: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// An object of the tree could not be read or decoded.
    #[error("cannot read '{path}' at git revision '{rev}'")]
    Read {
        /// The revision as given.
        rev: String,
        /// The repo-relative path being read ("" for the root tree).
        path: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
}

impl GitRepo {
    /// Resolves `rev` (anything `git rev-parse` understands: `HEAD~1`, a
    /// branch, a tag, a short hash) to the full hex id of its commit. Tags
    /// are peeled to the commit they point to.
    pub fn resolve_rev(&self, rev: &str) -> Result<String, RevisionError> {
        let repo = self.local();
        let commit = commit_at(&repo, rev)?;
        Ok(commit.id.to_hex().to_string())
    }

    /// The content of the file `rel` (relative to the work tree) in the
    /// commit named by `rev`, or `None` when no regular file is there: the
    /// path is missing, a directory, a symlink or a submodule.
    ///
    /// `rev == "HEAD"` in a repository without commits reads an empty tree.
    pub fn read_file_at(&self, rev: &str, rel: &Path) -> Result<Option<Vec<u8>>, RevisionError> {
        let rel = self.relative(rel)?;
        if rel.is_empty() {
            return Ok(None);
        }
        let repo = self.local();
        let Some(tree) = tree_at(&repo, rev)? else {
            return Ok(None);
        };
        let read_err = |source| RevisionError::Read {
            rev: rev.to_owned(),
            path: rel.clone(),
            source,
        };
        let Some(entry) = tree.lookup_entry_by_path(&rel).map_err(read_err)? else {
            return Ok(None);
        };
        match entry.mode().kind() {
            EntryKind::Blob | EntryKind::BlobExecutable => {
                let mut blob = repo.find_blob(entry.object_id()).map_err(read_err)?;
                Ok(Some(blob.take_data()))
            }
            EntryKind::Tree | EntryKind::Link | EntryKind::Commit => Ok(None),
        }
    }

    /// Collects every regular file below `prefix` (relative to the work
    /// tree; empty or `.` for the whole tree) in the commit named by `rev`
    /// whose repo-relative, `/`-separated path passes `filter`. Returns
    /// `(path, content)` pairs sorted by path; paths include the prefix.
    ///
    /// Only blobs that pass `filter` are read, so collecting `*.dvc`,
    /// `dvc.yaml` and `dvc.lock` files costs one read per tree plus one per
    /// match. Symlinks, submodules and names that are not valid UTF-8 are
    /// skipped. A missing prefix, a prefix naming a file, and `HEAD` in a
    /// repository without commits all give an empty list.
    pub fn walk_files_at(
        &self,
        rev: &str,
        prefix: &Path,
        filter: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, Vec<u8>)>, RevisionError> {
        let prefix = self.relative(prefix)?;
        let repo = self.local();
        let Some(root) = tree_at(&repo, rev)? else {
            return Ok(Vec::new());
        };
        let read_err = |path: &str, source| RevisionError::Read {
            rev: rev.to_owned(),
            path: path.to_owned(),
            source,
        };
        let start_id = if prefix.is_empty() {
            root.id
        } else {
            match root
                .lookup_entry_by_path(&prefix)
                .map_err(|e| read_err(&prefix, e))?
            {
                Some(entry) if entry.mode().is_tree() => entry.object_id(),
                _ => return Ok(Vec::new()),
            }
        };

        let mut out = Vec::new();
        let mut pending = vec![(prefix, start_id)];
        while let Some((dir, id)) = pending.pop() {
            let tree = repo.find_tree(id).map_err(|e| read_err(&dir, e))?;
            let decoded = tree.decode().map_err(|e| read_err(&dir, e))?;
            for entry in &decoded.entries {
                let Ok(name) = std::str::from_utf8(entry.filename) else {
                    continue;
                };
                let path = if dir.is_empty() {
                    name.to_owned()
                } else {
                    format!("{dir}/{name}")
                };
                match entry.mode.kind() {
                    EntryKind::Tree => pending.push((path, entry.oid.to_owned())),
                    EntryKind::Blob | EntryKind::BlobExecutable => {
                        if filter(&path) {
                            let mut blob = repo
                                .find_blob(entry.oid.to_owned())
                                .map_err(|e| read_err(&path, e))?;
                            out.push((path, blob.take_data()));
                        }
                    }
                    EntryKind::Link | EntryKind::Commit => {}
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

/// The commit named by `rev`.
fn commit_at<'r>(repo: &'r gix::Repository, rev: &str) -> Result<gix::Commit<'r>, RevisionError> {
    let id = repo
        .rev_parse_single(rev)
        .map_err(|source| RevisionError::Resolve {
            rev: rev.to_owned(),
            source,
        })?;
    let object = id.object().map_err(|source| RevisionError::Read {
        rev: rev.to_owned(),
        path: String::new(),
        source,
    })?;
    object
        .peel_to_commit()
        .map_err(|source| RevisionError::NotACommit {
            rev: rev.to_owned(),
            source,
        })
}

/// The root tree of the commit named by `rev`; `None` for `HEAD` when it is
/// unborn (a fresh repository), which callers treat as an empty tree.
fn tree_at<'r>(
    repo: &'r gix::Repository,
    rev: &str,
) -> Result<Option<gix::Tree<'r>>, RevisionError> {
    if rev == "HEAD" && repo.head().is_ok_and(|head| head.is_unborn()) {
        return Ok(None);
    }
    let commit = commit_at(repo, rev)?;
    commit
        .tree()
        .map(Some)
        .map_err(|source| RevisionError::Read {
            rev: rev.to_owned(),
            path: String::new(),
            source,
        })
}
