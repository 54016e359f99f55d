//! `commit`: record the workspace state of outputs in their `.dvc` files
//! and save the data to the cache.

use crate::error::{RepoError, Result};
use crate::index::{DvcFileRef, resolve_targets};
use crate::outputs::{kind_of, measure, recorded_oid};
use crate::repo::Repo;
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{HashKind, Progress};

/// What `commit` did to one `.dvc` file.
#[derive(Debug)]
pub struct Committed {
    pub dvcfile: PathBuf,
    /// Whether the metafile was rewritten.
    pub rewritten: bool,
}

/// Commits the targeted `.dvc` files. A changed output needs `force`, as in
/// DVC; unchanged outputs are (re)saved to the cache.
pub fn commit(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    force: bool,
    progress: &dyn Progress,
) -> Result<Vec<Committed>> {
    let files = resolve_targets(repo, cwd, targets)?;
    // Refuse before saving anything if a change needs --force.
    if !force {
        for f in &files {
            for out in &f.file.outs {
                let abs = f.out_path(repo, out)?;
                let kind = kind_of(out);
                let m = measure(repo, &abs, kind, Save::HashOnly, progress)?
                    .ok_or_else(|| RepoError::NotFound(abs.clone()))?;
                if recorded_oid(out).is_some_and(|r| r != m.oid) {
                    return Err(RepoError::CommitChanged(repo.rel(&f.path)));
                }
            }
        }
    }
    // The `.dvc` files will point at the saved objects: one flush for all
    // of them makes them durable first.
    repo.save_then_record(
        files,
        true,
        |f| save_outputs(repo, f, Mode::Commit, progress),
        |s| write_dvcfile(s.f, &s.file),
    )
}

/// The `.dvc` files with an output recorded with DVC 2's hash (no
/// `hash: md5`), which `cache migrate --dvc-files` rewrites.
pub fn legacy_dvcfiles(repo: &Repo) -> Result<Vec<DvcFileRef>> {
    let mut files = crate::index::load_all(repo)?;
    files.retain(|f| {
        f.file
            .outs
            .iter()
            .any(|o| kind_of(o) == HashKind::Md5Dos2Unix)
    });
    Ok(files)
}

/// Why `cache migrate --dvc-files` left an output's DVC 2 entry as it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// The output is not in the workspace.
    Missing,
    /// Its workspace data is not what the entry records.
    Changed,
}

/// What `cache migrate --dvc-files` did to one `.dvc` file.
#[derive(Debug)]
pub struct Migrated {
    pub committed: Committed,
    /// Outputs whose DVC 2 entry stays, and why.
    pub kept: Vec<(PathBuf, Kept)>,
}

/// Rewrites the DVC 2 entries of `f` with DVC 3 hashes (plain MD5, saved to
/// the cache), as `dvc cache migrate --dvc-files` does. Unlike DVC, only an
/// output whose workspace data is exactly what the entry records is
/// migrated: a missing or changed one keeps its entry (DVC writes the old
/// dos2unix hash under `hash: md5` for a missing output, and silently
/// commits a changed one).
pub fn migrate_dvcfile(repo: &Repo, f: DvcFileRef, progress: &dyn Progress) -> Result<Migrated> {
    let s = save_outputs(repo, f, Mode::Migrate, progress)?;
    repo.sync_cache()?;
    let committed = write_dvcfile(s.f, &s.file)?;
    Ok(Migrated {
        committed,
        kept: s.kept,
    })
}

/// How [`save_outputs`] treats a DVC 2 entry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// An unchanged one stays as it is; every other output is recorded.
    Commit,
    /// Only an unchanged one is recorded again, with DVC 3's hash.
    Migrate,
}

/// A `.dvc` file whose outputs' data is in the cache (not flushed yet).
struct Saved {
    f: DvcFileRef,
    /// The file with its new entries.
    file: strix_dvcfile::DvcFile,
    /// DVC 2 entries left as they were, and why.
    kept: Vec<(PathBuf, Kept)>,
}

/// Hashes the outputs of `f` and saves their data to the cache.
fn save_outputs(repo: &Repo, f: DvcFileRef, mode: Mode, progress: &dyn Progress) -> Result<Saved> {
    let mut file = f.file.clone();
    let mut kept = Vec::new();
    for out in file.outs.iter_mut() {
        let legacy = kind_of(out) == HashKind::Md5Dos2Unix;
        if (!out.cache && mode == Mode::Commit) || (!legacy && mode == Mode::Migrate) {
            continue;
        }
        let abs = f.out_path(repo, out)?;
        if legacy {
            let now = measure(repo, &abs, HashKind::Md5Dos2Unix, Save::HashOnly, progress)?;
            let unchanged = now
                .as_ref()
                .is_some_and(|m| recorded_oid(out) == Some(m.oid));
            match mode {
                // An unchanged legacy entry stays as it is.
                Mode::Commit if unchanged => continue,
                Mode::Migrate if !unchanged => {
                    let why = if now.is_none() {
                        Kept::Missing
                    } else {
                        Kept::Changed
                    };
                    kept.push((abs, why));
                    continue;
                }
                _ => {}
            }
        }
        let save = if out.cache {
            Save::ToCache(repo.odb())
        } else {
            Save::HashOnly
        };
        let m = measure(repo, &abs, HashKind::Md5, save, progress)?
            .ok_or_else(|| RepoError::NotFound(abs.clone()))?;
        out.md5 = Some(m.oid.to_string());
        out.size = Some(m.size);
        out.nfiles = m.nfiles;
        out.isexec = m.tree.is_none() && m.isexec;
        out.hash = Some("md5".into());
    }
    Ok(Saved { f, file, kept })
}

/// Writes `f` with the entries of `file` (keeping its comments and order),
/// if that changes it. The data it records must be durable by now.
fn write_dvcfile(f: DvcFileRef, file: &strix_dvcfile::DvcFile) -> Result<Committed> {
    let text =
        strix_dvcfile::update_text(&f.text, file).map_err(|source| RepoError::MetafileUpdate {
            path: f.path.clone(),
            source: Box::new(source),
        })?;
    let rewritten = text != f.text;
    if rewritten {
        strix_fs::atomic_write(&f.path, text.as_bytes()).map_err(|source| RepoError::Write {
            path: f.path.clone(),
            source,
        })?;
    }
    Ok(Committed {
        dvcfile: f.path,
        rewritten,
    })
}
