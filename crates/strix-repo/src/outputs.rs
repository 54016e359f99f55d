//! Measuring an output in the workspace: its hash, size and file count,
//! optionally saving it to the cache in the same pass.

use crate::error::{RepoError, Result};
use crate::repo::Repo;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use strix_data::tree::{Save, Tree, hash_dir, hash_one, summarize_dir};
use strix_data::{FileStat, HashKind, Layout, Manifest, Oid, Progress};
use strix_dvcfile::Output;

/// An output as found in the workspace.
#[derive(Debug)]
pub struct Measured {
    pub oid: Oid,
    pub size: u64,
    /// File count, for directories.
    pub nfiles: Option<u64>,
    /// Any exec bit set (single files only).
    pub isexec: bool,
    /// Whether the path itself is a symlink (DVC replaces it by a link or copy).
    pub is_symlink: bool,
    pub tree: Option<Tree>,
}

/// The hash kind of an existing entry: `hash: md5` means DVC 3, a missing
/// `hash` with an `md5` means a legacy 2.x entry.
pub fn kind_of(out: &Output) -> HashKind {
    if out.hash.is_none() && out.md5.is_some() {
        HashKind::Md5Dos2Unix
    } else {
        HashKind::Md5
    }
}

/// The recorded oid of an output, if any.
pub fn recorded_oid(out: &Output) -> Option<Oid> {
    out.md5.as_deref().and_then(|s| s.parse().ok())
}

/// Hashes the output at `abs`; `None` if it does not exist.
pub fn measure(
    repo: &Repo,
    abs: &Path,
    kind: HashKind,
    save: Save<'_>,
    progress: &dyn Progress,
) -> Result<Option<Measured>> {
    measure_as(repo, abs, kind, Some(save), progress)
}

/// [`measure`] without saving and without the manifest (`tree` is `None`;
/// a directory has `nfiles`): an unchanged directory's hash comes from the
/// state database's record of its listing, as `status` needs.
pub fn summarize(
    repo: &Repo,
    abs: &Path,
    kind: HashKind,
    progress: &dyn Progress,
) -> Result<Option<Measured>> {
    measure_as(repo, abs, kind, None, progress)
}

/// `save: None` summarizes directories (see [`summarize`]).
fn measure_as(
    repo: &Repo,
    abs: &Path,
    kind: HashKind,
    save: Option<Save<'_>>,
    progress: &dyn Progress,
) -> Result<Option<Measured>> {
    let lmeta = match fs::symlink_metadata(abs) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(RepoError::Read {
                path: abs.to_path_buf(),
                source,
            });
        }
    };
    let is_symlink = lmeta.file_type().is_symlink();
    let meta = fs::metadata(abs).map_err(|source| RepoError::Read {
        path: abs.to_path_buf(),
        source,
    })?;
    let tree_err = |source| RepoError::Tree {
        path: abs.to_path_buf(),
        source,
    };
    if meta.is_dir() {
        let Some(save) = save else {
            let sum = summarize_dir(abs, kind, repo.state(), progress).map_err(tree_err)?;
            return Ok(Some(Measured {
                oid: sum.oid,
                size: sum.size,
                nfiles: Some(sum.nfiles),
                isexec: false,
                is_symlink,
                tree: None,
            }));
        };
        let tree = hash_dir(abs, kind, repo.state(), save, progress).map_err(tree_err)?;
        // Only the repository's cache has completeness hints (not the
        // staging area of `add --to-remote`).
        if let Save::ToCache(odb) = save
            && odb.root() == repo.odb().root()
        {
            repo.complete_dirs().insert(tree.oid());
        }
        Ok(Some(Measured {
            oid: tree.oid(),
            size: tree.size,
            nfiles: Some(tree.nfiles() as u64),
            isexec: false,
            is_symlink,
            tree: Some(tree),
        }))
    } else {
        let stat = FileStat::from_metadata(&meta);
        let md5 = hash_one(
            abs,
            &stat,
            kind,
            repo.state(),
            save.unwrap_or(Save::HashOnly),
        )
        .map_err(tree_err)?;
        Ok(Some(Measured {
            oid: Oid::file(md5),
            size: meta.len(),
            nfiles: None,
            isexec: meta.permissions().mode() & 0o111 != 0,
            is_symlink,
            tree: None,
        }))
    }
}

/// Whether an object (and, for a directory, every file it lists) is in the
/// cache. For directories the manifest is returned when present.
/// With `trust_hint`, a directory recorded as complete is not re-checked
/// file by file (fine for reporting; callers about to delete data pass
/// `false`).
pub fn in_cache(
    repo: &Repo,
    oid: &Oid,
    layout: Layout,
    trust_hint: bool,
) -> (bool, Option<Manifest>) {
    if !oid.is_dir {
        return (repo.odb().exists(oid, layout), None);
    }
    if trust_hint && repo.complete_dirs().contains(oid) && repo.odb().exists(oid, layout) {
        return (true, None);
    }
    match repo.odb().read_manifest(oid, layout) {
        Ok(m) => {
            use rayon::prelude::*;
            let odb = repo.odb();
            let all = m
                .entries()
                .par_iter()
                .all(|e| odb.exists(&Oid::file(e.md5), layout));
            if all {
                repo.complete_dirs().insert(*oid);
            }
            (all, Some(m))
        }
        Err(_) => (false, None),
    }
}
