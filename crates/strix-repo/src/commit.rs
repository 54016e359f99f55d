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
    let mut done = Vec::new();
    for f in files {
        done.push(commit_one(repo, f, progress)?);
    }
    Ok(done)
}

fn commit_one(repo: &Repo, f: DvcFileRef, progress: &dyn Progress) -> Result<Committed> {
    let mut file = f.file.clone();
    for out in file.outs.iter_mut() {
        if !out.cache {
            continue;
        }
        let abs = f.out_path(repo, out)?;
        if kind_of(out) == HashKind::Md5Dos2Unix
            && let Some(m) = measure(repo, &abs, HashKind::Md5Dos2Unix, Save::HashOnly, progress)?
            && recorded_oid(out) == Some(m.oid)
        {
            // An unchanged legacy entry stays as it is.
            continue;
        }
        let m = measure(
            repo,
            &abs,
            HashKind::Md5,
            Save::ToCache(repo.odb()),
            progress,
        )?
        .ok_or_else(|| RepoError::NotFound(abs.clone()))?;
        out.md5 = Some(m.oid.to_string());
        out.size = Some(m.size);
        out.nfiles = m.nfiles;
        out.isexec = m.tree.is_none() && m.isexec;
        out.hash = Some("md5".into());
    }
    repo.sync_cache()?;
    let text =
        strix_dvcfile::update_text(&f.text, &file).map_err(|source| RepoError::MetafileUpdate {
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
