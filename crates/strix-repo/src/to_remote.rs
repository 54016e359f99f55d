//! `add --to-remote`: track data that goes straight to a remote, without
//! keeping it in the cache or the workspace, as DVC does.
//!
//! The target is hashed while it is copied into a staging object database
//! of this run (`.dvc/tmp/strix/to-remote/<pid>`): an object there only
//! gets its name once its bytes hash to it, so a file that changes while it
//! is read never reaches the remote under a wrong name. The staged objects
//! are pushed like cache objects (temporary names, then the final one),
//! then the `.dvc` file is written and the staging area removed. The next
//! `to-remote` run removes the staging area of a run that was killed.
//!
//! Unlike DVC, which streams the data, this needs room for one copy of the
//! target on the repository's disk while it runs.

use crate::add::{Entry, Tracked, check_target, record};
use crate::error::RepoError;
use crate::outputs::measure;
use crate::repo::Repo;
use crate::transfer::{SyncError, UsedOut, push_to};
use std::fs;
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{Adoption, HashKind, Layout, Odb, Progress};
use strix_remote::ObjectRef;

/// What [`add_to_remote`] did.
#[derive(Debug)]
pub struct AddedToRemote {
    /// The `.dvc` file written.
    pub dvcfile: PathBuf,
    /// The remote's name.
    pub remote: String,
    /// Objects uploaded (the others were there already).
    pub pushed: usize,
}

/// The staging areas of this repository's runs.
fn staging_root(repo: &Repo) -> PathBuf {
    repo.root().join(".dvc/tmp/strix/to-remote")
}

/// Removes the staging areas of runs that no longer exist (see
/// [`crate::recovery`]); returns how many.
pub(crate) fn remove_stale(repo: &Repo) -> usize {
    let Ok(rd) = fs::read_dir(staging_root(repo)) else {
        return 0;
    };
    let mut n = 0;
    for e in rd.flatten() {
        let pid: Option<u32> = e.file_name().to_str().and_then(|s| s.parse().ok());
        if pid.is_none_or(|p| !strix_fs::process_alive(p)) && fs::remove_dir_all(e.path()).is_ok() {
            n += 1;
        }
    }
    n
}

/// Removes this run's staging area when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// Tracks `src` (a file or directory, inside the repository or not) as the
/// output `dest` (an absolute path inside the repository) whose data is
/// only on the remote `remote` (default: `core.remote`).
pub fn add_to_remote(
    repo: &Repo,
    src: &Path,
    dest: &Path,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<AddedToRemote, SyncError> {
    let tracked = Tracked::load(repo)?;
    if fs::symlink_metadata(src).is_err() {
        return Err(RepoError::NotFound(src.to_path_buf()).into());
    }
    check_target(repo, dest, &tracked)?;
    // The remote must exist before anything is read.
    let r = crate::transfer::open_remote(repo, remote)?;

    remove_stale(repo);
    let dir = staging_root(repo).join(std::process::id().to_string());
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|source| RepoError::Write {
        path: dir.clone(),
        source,
    })?;
    let staging = Staging(dir);
    let odb = Odb::new(staging.0.clone(), false).adopting(Adoption::No);
    let m = measure(repo, src, HashKind::Md5, Save::ToCache(&odb), progress)?
        .ok_or_else(|| RepoError::NotFound(src.to_path_buf()))?;
    let used = UsedOut {
        path: dest.to_path_buf(),
        obj: ObjectRef {
            oid: m.oid,
            layout: Layout::V3,
        },
        remote: None,
        size: Some(m.size),
        kind: strix_dvcfile::OutKind::Out,
    };
    let pushed = push_to(repo, &odb, &r, vec![used], jobs, progress)?;

    // The data is on the remote: only now does a `.dvc` file point at it.
    let e = Entry::of(repo, dest)?;
    record(&e.dvcpath, e.existing.as_ref(), e.prev, &e.name, &m)?;
    drop(staging);
    Ok(AddedToRemote {
        dvcfile: e.dvcpath,
        remote: pushed.remote,
        pushed: pushed.pushed,
    })
}
