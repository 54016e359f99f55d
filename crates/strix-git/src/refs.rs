//! Enumerating references and commits: branches, tags and every commit
//! reachable from any of them (what `-a`, `-T` and `-A` select in DVC).

use gix::bstr::ByteSlice;

use crate::repo::GitRepo;

/// Errors from listing references or walking history.
#[derive(Debug, thiserror::Error)]
pub enum RefsError {
    /// The reference store could not be read.
    #[error("cannot list git references")]
    List {
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// A reference could not be read or peeled to an object.
    #[error("cannot read git reference '{name}'")]
    Peel {
        /// The full reference name.
        name: String,
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
    /// Walking the commit graph failed.
    #[error("cannot walk git history")]
    Walk {
        /// What gix reported.
        #[source]
        source: gix::Error,
    },
}

fn list_err(source: impl Into<gix::Error>) -> RefsError {
    RefsError::List {
        source: source.into(),
    }
}

impl GitRepo {
    /// The short names of the local branches (`refs/heads/*`), sorted.
    pub fn list_branches(&self) -> Result<Vec<String>, RefsError> {
        self.short_names("refs/heads/")
    }

    /// The short names of the tags (`refs/tags/*`), sorted.
    pub fn list_tags(&self) -> Result<Vec<String>, RefsError> {
        self.short_names("refs/tags/")
    }

    fn short_names(&self, prefix: &str) -> Result<Vec<String>, RefsError> {
        let repo = self.local();
        let platform = repo.references().map_err(list_err)?;
        let iter = if prefix == "refs/tags/" {
            platform.tags()
        } else {
            platform.local_branches()
        }
        .map_err(list_err)?;
        let mut names = Vec::new();
        for r in iter {
            let r = r.map_err(|e| RefsError::List { source: e })?;
            let full = r.name().as_bstr().to_str_lossy().into_owned();
            if let Some(short) = full.strip_prefix(prefix) {
                names.push(short.to_owned());
            }
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The full hex ids of every commit reachable from `HEAD`, the local
    /// and remote-tracking branches and the tags (peeled), like
    /// scmrepo's `list_all_commits`. Sorted by id; empty without commits.
    pub fn all_commits(&self) -> Result<Vec<String>, RefsError> {
        let repo = self.local();
        let mut tips: Vec<gix::ObjectId> = Vec::new();
        if let Ok(id) = repo.head_id() {
            tips.push(id.detach());
        }
        let platform = repo.references().map_err(list_err)?;
        for r in platform.all().map_err(list_err)? {
            let mut r = r.map_err(|e| RefsError::List { source: e })?;
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            if !(name.starts_with("refs/heads/")
                || name.starts_with("refs/remotes/")
                || name.starts_with("refs/tags/"))
            {
                continue;
            }
            // Symbolic refs such as `refs/remotes/origin/HEAD` peel to the
            // same commit as their target; tags pointing at non-commits are
            // skipped.
            let commit = match r.peel_to_commit() {
                Ok(c) => c,
                Err(_) if name.starts_with("refs/tags/") => continue,
                Err(e) => {
                    return Err(RefsError::Peel { name, source: e });
                }
            };
            tips.push(commit.id);
        }
        if tips.is_empty() {
            return Ok(Vec::new());
        }
        tips.sort();
        tips.dedup();
        let walk = repo
            .rev_walk(tips)
            .all()
            .map_err(|e| RefsError::Walk { source: e })?;
        let mut out = Vec::new();
        for info in walk {
            let info = info.map_err(|e| RefsError::Walk { source: e })?;
            out.push(info.id.to_hex().to_string());
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com")
            .output()
            .expect("git runs");
        assert!(out.status.success(), "git {args:?}: {out:?}");
    }

    #[test]
    fn branches_tags_and_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        git(d, &["init", "-q", "-b", "main"]);
        let repo = GitRepo::discover(d).unwrap().unwrap();
        assert!(repo.list_branches().unwrap().is_empty());
        assert!(repo.all_commits().unwrap().is_empty());
        std::fs::write(d.join("a"), "1").unwrap();
        git(d, &["add", "a"]);
        git(d, &["commit", "-q", "-m", "one"]);
        git(d, &["tag", "-a", "v1", "-m", "v1"]);
        git(d, &["checkout", "-q", "-b", "feature"]);
        std::fs::write(d.join("a"), "2").unwrap();
        git(d, &["commit", "-q", "-am", "two"]);
        git(d, &["tag", "light"]);
        git(d, &["checkout", "-q", "main"]);
        std::fs::write(d.join("a"), "3").unwrap();
        git(d, &["commit", "-q", "-am", "three"]);
        git(d, &["checkout", "-q", "-b", "gone"]);
        std::fs::write(d.join("a"), "4").unwrap();
        git(d, &["commit", "-q", "-am", "four"]);
        git(d, &["tag", "keep"]);
        git(d, &["checkout", "-q", "main"]);
        git(d, &["branch", "-q", "-D", "gone"]);

        assert_eq!(repo.list_branches().unwrap(), vec!["feature", "main"]);
        assert_eq!(repo.list_tags().unwrap(), vec!["keep", "light", "v1"]);
        let all = repo.all_commits().unwrap();
        assert_eq!(all.len(), 4, "{all:?}");
        for rev in ["main", "feature", "keep", "v1"] {
            assert!(all.contains(&repo.resolve_rev(rev).unwrap()), "{rev}");
        }
    }
}
