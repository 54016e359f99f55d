//! Per-run scratch areas: `.dvc/tmp/strix/<kind>/<pid>`.
//!
//! A command that needs room beside the repository (a staging object
//! database for `add --to-remote`, the download of a URL target) takes a
//! directory named after its own pid, on the repository's filesystem, and
//! removes it when it ends. A run that was killed leaves its directory
//! behind: the next run of any kind removes the directories of processes
//! that no longer exist (see [`crate::recovery`]).

use crate::error::RepoError;
use crate::repo::Repo;
use std::fs;
use std::path::{Path, PathBuf};

/// What a scratch area holds; each kind has its own folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The staging object database of `add --to-remote`.
    ToRemote,
    /// A URL target downloaded before it is added.
    Download,
}

impl Kind {
    const ALL: [Kind; 2] = [Kind::ToRemote, Kind::Download];

    fn folder(self) -> &'static str {
        match self {
            Kind::ToRemote => "to-remote",
            Kind::Download => "download",
        }
    }
}

fn kind_root(repo: &Repo, kind: Kind) -> PathBuf {
    repo.root().join(".dvc/tmp/strix").join(kind.folder())
}

/// Removes the scratch areas of runs that no longer exist; returns how
/// many.
pub(crate) fn remove_stale(repo: &Repo) -> usize {
    Kind::ALL
        .iter()
        .flat_map(|k| strix_fs::entries_of_dead_runs(&kind_root(repo, *k)))
        .filter(|dir| fs::remove_dir_all(dir).is_ok())
        .count()
}

/// This run's scratch area of one kind, removed when dropped.
#[derive(Debug)]
pub(crate) struct Scratch(PathBuf);

impl Scratch {
    /// Creates this run's (empty) area of `kind`, after removing those of
    /// dead runs.
    pub(crate) fn create(repo: &Repo, kind: Kind) -> Result<Self, RepoError> {
        remove_stale(repo);
        let dir = kind_root(repo, kind).join(std::process::id().to_string());
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|source| RepoError::Write {
            path: dir.clone(),
            source,
        })?;
        Ok(Self(dir))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_area_clears_dead_runs_but_not_this_runs_other_areas() {
        let (_dir, repo) = crate::testutil::scratch_repo();
        // A pid above the kernel's maximum never runs.
        let dead: Vec<PathBuf> = Kind::ALL
            .iter()
            .map(|k| kind_root(&repo, *k).join("999999999"))
            .collect();
        for d in &dead {
            fs::create_dir_all(d.join("sub")).unwrap();
            fs::write(d.join("sub/partial"), b"x").unwrap();
        }
        let download = Scratch::create(&repo, Kind::Download).unwrap();
        fs::write(download.path().join("got"), b"data").unwrap();
        assert!(dead.iter().all(|d| !d.exists()), "dead runs' areas stay");

        let staging = Scratch::create(&repo, Kind::ToRemote).unwrap();
        assert!(staging.path().is_dir());
        assert_eq!(fs::read(download.path().join("got")).unwrap(), b"data");
        let paths = [download.path().to_path_buf(), staging.path().to_path_buf()];
        drop((download, staging));
        assert!(paths.iter().all(|p| !p.exists()), "areas outlive the run");
    }
}
