//! `add --to-remote`: track data that goes straight to a remote, without
//! keeping it in the cache or the workspace, as DVC does.
//!
//! The target is hashed while it is copied into a staging object database
//! of this run (`.dvc/tmp/strix/to-remote/<pid>`): an object there only
//! gets its name once its bytes hash to it, so a file that changes while it
//! is read never reaches the remote under a wrong name. The staged objects
//! are pushed like cache objects (temporary names, then the final one),
//! then the `.dvc` file is written and the staging area removed. A killed
//! run's staging area is removed by the next run (see [`crate::scratch`]).
//!
//! Unlike DVC, which streams the data, this needs room for one copy of the
//! target on the repository's disk while it runs.

use crate::add::{Entry, Tracked, check_target, record};
use crate::error::RepoError;
use crate::outputs::measure;
use crate::repo::Repo;
use crate::scratch::{Kind, Scratch};
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

/// `add URL --to-remote`: [`add_to_remote`] of the data at a URL (see
/// [`crate::url_target`]), downloaded first with up to `jobs` transfers.
pub fn add_url_to_remote(
    repo: &Repo,
    url: &str,
    dest: &Path,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<AddedToRemote, SyncError> {
    // Refuse a bad destination or remote before downloading anything.
    let r = destination(repo, dest, remote)?;
    let fetched = crate::url_target::fetch(repo, url, jobs, progress)?;
    send(repo, fetched.path(), dest, &r, jobs, progress)
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
    if fs::symlink_metadata(src).is_err() {
        return Err(RepoError::NotFound(src.to_path_buf()).into());
    }
    let r = destination(repo, dest, remote)?;
    send(repo, src, dest, &r, jobs, progress)
}

/// Checks that `dest` may be added and opens the remote: both before
/// anything is read.
fn destination(
    repo: &Repo,
    dest: &Path,
    remote: Option<&str>,
) -> Result<crate::transfer::OpenedRemote, SyncError> {
    check_target(repo, dest, &Tracked::load(repo)?)?;
    crate::transfer::open_remote(repo, remote)
}

/// Stages `src`, pushes it to `r` and records it as `dest` (checked by
/// [`destination`]).
fn send(
    repo: &Repo,
    src: &Path,
    dest: &Path,
    r: &crate::transfer::OpenedRemote,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<AddedToRemote, SyncError> {
    let staging = Scratch::create(repo, Kind::ToRemote)?;
    let odb = Odb::new(staging.path(), false).adopting(Adoption::No);
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
    let pushed = push_to(repo, &odb, r, vec![used], jobs, progress)?;

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
