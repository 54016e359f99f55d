//! Materialising cache objects in the workspace.
//!
//! Safety rules: a workspace file is only replaced or removed when its
//! current content is in the cache (or `force` is given); a cache object is
//! verified against its id before it is linked (through the state database,
//! or by rehashing it); every new file is created under a temporary name in
//! its final directory and renamed over the old one, so a killed checkout
//! leaves either the old file or the new one, never a partial file.

use crate::hash::{HashKind, md5_file};
use crate::manifest::Manifest;
use crate::odb::{Layout, Odb};
use crate::oid::{Md5, Oid};
use crate::progress::Progress;
use crate::state::{FileStat, StateDb};
use crate::walk::{WalkError, walk_dir};
use rayon::prelude::*;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use strix_fs::link::{LinkType, link_with_fallback};

/// Options shared by file and directory checkouts.
pub struct CheckoutOptions<'a> {
    pub odb: &'a Odb,
    pub layout: Layout,
    pub kind: HashKind,
    pub state: &'a StateDb,
    pub link_types: &'a [LinkType],
    /// Replace or remove workspace content that is not in the cache.
    pub force: bool,
    /// Re-create links even for unchanged files.
    pub relink: bool,
}

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("cache object {oid} for '{}' is missing", .path.display())]
    Missing { oid: Oid, path: PathBuf },
    #[error("cache object {oid} for '{}' is corrupted (its content hashes to {actual}); it was not linked", .path.display())]
    Corrupted {
        oid: Oid,
        path: PathBuf,
        actual: Md5,
    },
    #[error("Can't remove the following unsaved files without confirmation")]
    Unsaved(Vec<PathBuf>),
    #[error("failed to check out '{}'", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// Some files were checked out, others failed.
    #[error("{} file(s) could not be checked out", .failures.len())]
    Partial {
        changes: Box<DirChanges>,
        failures: Vec<CheckoutError>,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CheckoutError + '_ {
    move |source| CheckoutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Added,
    Modified,
}

/// What happened inside a directory (relpaths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirChanges {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

impl DirChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }
}

/// The current hash of a workspace file (via the state database).
fn current_md5(path: &Path, stat: &FileStat, opts: &CheckoutOptions<'_>) -> io::Result<Md5> {
    if let Some(m) = opts.state.get(stat, opts.kind) {
        return Ok(m);
    }
    let (m, _) = crate::hash::hash_file(path, opts.kind)?;
    opts.state.insert(stat, opts.kind, m);
    Ok(m)
}

/// Checks a cache object against its id, trusting the state database for
/// objects already verified with the same stat.
pub fn verify_object(
    opts: &CheckoutOptions<'_>,
    md5: Md5,
    for_path: &Path,
) -> Result<PathBuf, CheckoutError> {
    let oid = Oid::file(md5);
    let obj = opts.odb.path(&oid, opts.layout);
    let meta = match fs::metadata(&obj) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CheckoutError::Missing {
                oid,
                path: for_path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(&obj)(e)),
    };
    let stat = FileStat::from_metadata(&meta);
    // Objects are stored under their plain md5 in both layouts' own kind.
    let kind = match opts.layout {
        Layout::V3 => HashKind::Md5,
        Layout::Legacy => HashKind::Md5Dos2Unix,
    };
    if opts.state.get(&stat, kind) == Some(md5) {
        return Ok(obj);
    }
    let (actual, _) = crate::hash::hash_file(&obj, kind).map_err(io_err(&obj))?;
    if actual != md5 {
        return Err(CheckoutError::Corrupted {
            oid,
            path: for_path.to_path_buf(),
            actual,
        });
    }
    opts.state.insert_trusted(&stat, kind, md5);
    Ok(obj)
}

/// Links a verified object to `dest` through a temporary name.
fn place(
    obj: &Path,
    dest: &Path,
    exec: bool,
    opts: &CheckoutOptions<'_>,
) -> Result<(), CheckoutError> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let tmp = strix_fs::temp_path_in(parent);
    match link_with_fallback(obj, &tmp, opts.link_types, exec) {
        Ok(_) => {}
        Err(e) => {
            let _ = fs::remove_file(&tmp);
            return Err(io_err(dest)(e));
        }
    }
    if let Ok(m) = fs::symlink_metadata(dest)
        && m.is_dir()
    {
        fs::remove_dir_all(dest).map_err(io_err(dest))?;
    }
    if let Err(e) = fs::rename(&tmp, dest) {
        let _ = fs::remove_file(&tmp);
        return Err(io_err(dest)(e));
    }
    Ok(())
}

/// Checks out one file output.
pub fn checkout_file(
    path: &Path,
    md5: Md5,
    exec: bool,
    opts: &CheckoutOptions<'_>,
) -> Result<Change, CheckoutError> {
    let change = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Change::Added,
        Err(e) => return Err(io_err(path)(e)),
        Ok(m) if m.is_dir() => {
            if !opts.force {
                return Err(CheckoutError::Unsaved(vec![path.to_path_buf()]));
            }
            Change::Modified
        }
        Ok(_) => {
            let meta = fs::metadata(path).map_err(io_err(path))?;
            let stat = FileStat::from_metadata(&meta);
            let cur = current_md5(path, &stat, opts).map_err(io_err(path))?;
            if cur == md5 && !opts.relink {
                return Ok(Change::Unchanged);
            }
            if cur != md5 && !opts.force && !opts.odb.exists(&Oid::file(cur), opts.layout) {
                return Err(CheckoutError::Unsaved(vec![path.to_path_buf()]));
            }
            if cur == md5 {
                Change::Unchanged
            } else {
                Change::Modified
            }
        }
    };
    let obj = verify_object(opts, md5, path)?;
    place(&obj, path, exec, opts)?;
    record_placed(path, md5, opts);
    Ok(change)
}

fn record_placed(path: &Path, md5: Md5, opts: &CheckoutOptions<'_>) {
    if let Ok(m) = fs::metadata(path) {
        opts.state
            .insert(&FileStat::from_metadata(&m), opts.kind, md5);
    }
}

/// Checks out a directory output so that it holds exactly `manifest`.
pub fn checkout_dir(
    dir: &Path,
    manifest: &Manifest,
    opts: &CheckoutOptions<'_>,
    progress: &dyn Progress,
) -> Result<DirChanges, CheckoutError> {
    // A file where the directory should be.
    if let Ok(m) = fs::symlink_metadata(dir)
        && !m.is_dir()
    {
        let saved = fs::metadata(dir)
            .ok()
            .and_then(|m| current_md5(dir, &FileStat::from_metadata(&m), opts).ok())
            .is_some_and(|cur| opts.odb.exists(&Oid::file(cur), opts.layout));
        if !saved && !opts.force {
            return Err(CheckoutError::Unsaved(vec![dir.to_path_buf()]));
        }
        fs::remove_file(dir).map_err(io_err(dir))?;
    }
    let existing = if dir.is_dir() {
        walk_dir(dir, rayon::current_num_threads())?
    } else {
        Vec::new()
    };
    let mut current: HashMap<String, crate::walk::WalkedFile> = existing
        .into_iter()
        .map(|f| (f.relpath.clone(), f))
        .collect();

    // Classify every manifest entry.
    enum Todo {
        Add,
        Modify,
    }
    let plan: Vec<(usize, Option<Todo>, Option<Md5>)> = manifest
        .entries()
        .par_iter()
        .enumerate()
        .map(|(i, e)| match current.get(&e.relpath) {
            None => Ok((i, Some(Todo::Add), None)),
            Some(f) => {
                let cur = current_md5(&f.path, &f.stat, opts).map_err(io_err(&f.path))?;
                let unchanged = cur == e.md5 && !opts.relink && !f.is_symlink;
                Ok((i, (!unchanged).then_some(Todo::Modify), Some(cur)))
            }
        })
        .collect::<Result<_, CheckoutError>>()?;

    // Files that would be overwritten or removed must be saved somewhere.
    let mut unsaved = Vec::new();
    for (i, todo, cur) in &plan {
        if let (Some(Todo::Modify), Some(cur)) = (todo, cur) {
            let e = &manifest.entries()[*i];
            if *cur != e.md5 && !opts.force && !opts.odb.exists(&Oid::file(*cur), opts.layout) {
                unsaved.push(dir.join(&e.relpath));
            }
        }
    }
    for e in manifest.entries() {
        current.remove(&e.relpath);
    }
    let extras: Vec<crate::walk::WalkedFile> = current.into_values().collect();
    let extra_hashes: Vec<Md5> = extras
        .par_iter()
        .map(|f| current_md5(&f.path, &f.stat, opts).map_err(io_err(&f.path)))
        .collect::<Result<_, _>>()?;
    for (f, m) in extras.iter().zip(&extra_hashes) {
        if !opts.force && !opts.odb.exists(&Oid::file(*m), opts.layout) {
            unsaved.push(f.path.clone());
        }
    }
    if !unsaved.is_empty() {
        unsaved.sort();
        return Err(CheckoutError::Unsaved(unsaved));
    }

    let work: Vec<(usize, bool)> = plan
        .iter()
        .filter_map(|(i, todo, _)| match todo {
            Some(Todo::Add) => Some((*i, true)),
            Some(Todo::Modify) => Some((*i, false)),
            None => None,
        })
        .collect();
    progress.start("Checking out", Some(work.len() as u64));
    let results: Vec<(usize, bool, Result<(), CheckoutError>)> = work
        .par_iter()
        .map(|&(i, added)| {
            let e = &manifest.entries()[i];
            let dest = dir.join(&e.relpath);
            let r = verify_object(opts, e.md5, &dest).and_then(|obj| {
                place(&obj, &dest, false, opts)?;
                record_placed(&dest, e.md5, opts);
                Ok(())
            });
            progress.inc(1);
            (i, added, r)
        })
        .collect();
    progress.finish();

    let mut changes = DirChanges::default();
    let mut failures = Vec::new();
    for (i, added, r) in results {
        let rel = manifest.entries()[i].relpath.clone();
        match r {
            Ok(()) if added => changes.added.push(rel),
            Ok(()) => changes.modified.push(rel),
            Err(e) => failures.push(e),
        }
    }
    for f in &extras {
        fs::remove_file(&f.path).map_err(io_err(&f.path))?;
        changes.deleted.push(f.relpath.clone());
        remove_empty_parents(f.path.parent(), dir);
    }
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    changes.added.sort();
    changes.modified.sort();
    changes.deleted.sort();
    if failures.is_empty() {
        Ok(changes)
    } else {
        Err(CheckoutError::Partial {
            changes: Box::new(changes),
            failures,
        })
    }
}

fn remove_empty_parents(mut cur: Option<&Path>, stop: &Path) {
    while let Some(p) = cur {
        if p == stop || !p.starts_with(stop) {
            break;
        }
        if fs::remove_dir(p).is_err() {
            break;
        }
        cur = p.parent();
    }
}

/// Hash of a workspace file for callers that only need the plain md5.
pub fn plain_md5(path: &Path) -> io::Result<Md5> {
    md5_file(path).map(|(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::tree::{Save, hash_dir};
    use strix_fs::link::DEFAULT_LINK_TYPES;

    fn setup() -> (tempfile::TempDir, Odb, StateDb, Manifest) {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        fs::write(data.join("sub/b"), b"bbb").unwrap();
        let odb = Odb::new(d.path().join("cache"), false);
        let state = StateDb::in_memory();
        let t = hash_dir(
            &data,
            HashKind::Md5,
            &state,
            Save::ToCache(&odb),
            &NoProgress,
        )
        .unwrap();
        (d, odb, state, t.manifest)
    }

    fn opts<'a>(odb: &'a Odb, state: &'a StateDb, force: bool) -> CheckoutOptions<'a> {
        CheckoutOptions {
            odb,
            layout: Layout::V3,
            kind: HashKind::Md5,
            state,
            link_types: &DEFAULT_LINK_TYPES,
            force,
            relink: false,
        }
    }

    #[test]
    fn restores_deleted_and_modified_and_removes_saved_extras() {
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        fs::remove_file(data.join("a")).unwrap();
        fs::write(data.join("sub/b"), b"changed").unwrap();
        // "changed" must be in the cache or checkout refuses.
        let err = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap_err();
        assert!(matches!(err, CheckoutError::Unsaved(ref v) if v.len() == 1));
        assert_eq!(fs::read(data.join("sub/b")).unwrap(), b"changed");
        let ch = checkout_dir(&data, &m, &opts(&odb, &state, true), &NoProgress).unwrap();
        assert_eq!(ch.added, vec!["a".to_string()]);
        assert_eq!(ch.modified, vec!["sub/b".to_string()]);
        assert_eq!(fs::read(data.join("a")).unwrap(), b"aaa");
        assert_eq!(fs::read(data.join("sub/b")).unwrap(), b"bbb");
        let ch = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap();
        assert!(ch.is_empty());
    }

    #[test]
    fn corrupted_object_is_never_linked() {
        use std::os::unix::fs::PermissionsExt;
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        let e = m.get("a").unwrap();
        let obj = odb.path(&Oid::file(e.md5), Layout::V3);
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"bad").unwrap();
        fs::remove_file(data.join("a")).unwrap();
        let fresh = StateDb::in_memory();
        let err = checkout_dir(&data, &m, &opts(&odb, &fresh, false), &NoProgress).unwrap_err();
        match err {
            CheckoutError::Partial { failures, .. } => {
                assert!(matches!(failures[0], CheckoutError::Corrupted { .. }))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!data.join("a").exists());
        drop(state);
    }

    #[test]
    fn missing_object_is_reported_with_its_path() {
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        let e = m.get("sub/b").unwrap();
        let obj = odb.path(&Oid::file(e.md5), Layout::V3);
        fs::remove_file(obj).unwrap();
        fs::remove_file(data.join("sub/b")).unwrap();
        let err = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap_err();
        let CheckoutError::Partial { failures, .. } = err else {
            panic!()
        };
        assert!(
            matches!(&failures[0], CheckoutError::Missing { path, .. } if path.ends_with("sub/b"))
        );
    }
}
