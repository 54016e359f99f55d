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
        Ok(self
            .all_commit_ids()?
            .iter()
            .map(|id| id.to_hex().to_string())
            .collect())
    }

    /// The ids behind [`GitRepo::all_commits`], each once, sorted (hex
    /// order is id order).
    fn all_commit_ids(&self) -> Result<Vec<gix::ObjectId>, RefsError> {
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
            out.push(info.id);
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// [`GitRepo::all_commits`] whose committer time is at `since` (Unix
    /// seconds) or later, as DVC's `--date` selects them. Sorted by id.
    pub fn commits_since(&self, since: i64) -> Result<Vec<String>, RefsError> {
        let repo = self.local();
        let mut out = Vec::new();
        for id in self.all_commit_ids()? {
            let time = repo
                .find_commit(id)
                .map_err(|e| RefsError::Walk { source: e })?
                .time()
                .map_err(|e| RefsError::Walk { source: e })?;
            if time.seconds >= since {
                out.push(id.to_hex().to_string());
            }
        }
        Ok(out)
    }

    /// The commits of DVC's experiments: for each experiment reference
    /// `refs/exps/<2 hex>/<38 hex>/<name>` (the two parts are the
    /// baseline commit), its commit and its first parents down to, not
    /// including, the baseline; as scmrepo's `branch_revs` walks them.
    /// Stashes and other references under `refs/exps/` are not
    /// experiments. Sorted by id.
    pub fn exp_commits(&self) -> Result<Vec<String>, RefsError> {
        let repo = self.local();
        let platform = repo.references().map_err(list_err)?;
        let mut out = Vec::new();
        for r in platform.prefixed("refs/exps/").map_err(list_err)? {
            let mut r = r.map_err(|e| RefsError::List { source: e })?;
            let name = r.name().as_bstr().to_str_lossy().into_owned();
            let Some(baseline) = exp_baseline(&name) else {
                continue;
            };
            let commit = r.peel_to_commit().map_err(|e| RefsError::Peel {
                name: name.clone(),
                source: e,
            })?;
            let mut id = commit.id;
            loop {
                out.push(id.to_hex().to_string());
                let c = repo
                    .find_commit(id)
                    .map_err(|e| RefsError::Walk { source: e })?;
                match c.parent_ids().next() {
                    Some(p) if p != baseline => id = p.detach(),
                    _ => break,
                }
            }
        }
        out.sort();
        out.dedup();
        Ok(out)
    }
}

/// The baseline commit named by an experiment reference
/// (`refs/exps/ab/cdef…(38)/name`), or `None` for any other reference.
fn exp_baseline(name: &str) -> Option<gix::ObjectId> {
    let rest = name.strip_prefix("refs/exps/")?;
    let mut parts = rest.splitn(3, '/');
    let (a, b, exp) = (parts.next()?, parts.next()?, parts.next()?);
    if a.len() != 2 || b.len() != 38 || exp.is_empty() || exp.contains('/') {
        return None;
    }
    gix::ObjectId::from_hex(format!("{a}{b}").as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    use crate::testutil::{git, git_at};

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

    fn commit_at(d: &Path, content: &str, date: &str) {
        std::fs::write(d.join("a"), content).unwrap();
        git(d, &["add", "a"]);
        git_at(d, &["commit", "-q", "-m", content], Some(date));
    }

    #[test]
    fn commits_by_date_and_experiment_commits() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path();
        git(d, &["init", "-q", "-b", "main"]);
        let repo = GitRepo::discover(d).unwrap().unwrap();
        commit_at(d, "old", "2020-01-01T12:00:00Z");
        let old = repo.resolve_rev("HEAD").unwrap();
        commit_at(d, "new", "2024-06-01T12:00:00Z");
        let base = repo.resolve_rev("HEAD").unwrap();
        // 2024-01-01T00:00:00Z
        assert_eq!(
            repo.commits_since(1_704_067_200).unwrap(),
            vec![base.clone()]
        );
        assert_eq!(repo.commits_since(0).unwrap().len(), 2);

        // Two experiment commits on top of `base`, kept only by their reference.
        git(d, &["checkout", "-q", "-b", "exp"]);
        commit_at(d, "e1", "2024-07-01T12:00:00Z");
        let e1 = repo.resolve_rev("HEAD").unwrap();
        commit_at(d, "e2", "2024-07-02T12:00:00Z");
        let e2 = repo.resolve_rev("HEAD").unwrap();
        git(d, &["checkout", "-q", "main"]);
        git(d, &["branch", "-q", "-D", "exp"]);
        let exp_ref = format!("refs/exps/{}/{}/my-exp", &base[..2], &base[2..]);
        git(d, &["update-ref", &exp_ref, &e2]);
        // Not experiments: a stash and a reference that names no baseline.
        git(d, &["update-ref", "refs/exps/stash", &old]);
        git(d, &["update-ref", "refs/exps/celery/failed", &old]);
        let mut want = vec![e1, e2];
        want.sort();
        assert_eq!(repo.exp_commits().unwrap(), want);
        assert_eq!(exp_baseline("refs/exps/ab/cd/x"), None);
    }
}
