//! `move`, `remove`, `unprotect` and `destroy`.

use crate::add::ensure_gitignore;
use crate::error::{RepoError, Result};
use crate::index::{load_all, load_dvcfile, resolve_targets};
use crate::outputs::{in_cache, kind_of, measure, recorded_oid};
use crate::repo::Repo;
use std::fs;
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{Layout, NoProgress};
use strix_dvcfile::Output;

fn dvcfile_for(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".dvc");
    PathBuf::from(s)
}

fn name_of(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn remove_gitignore_entry(repo: &Repo, out: &Path) -> Result<Option<PathBuf>> {
    if repo.git().is_none() {
        return Ok(None);
    }
    let dir = out.parent().unwrap_or(repo.root());
    let changed = strix_git::gitignore::remove_entry(dir, &name_of(out))
        .map_err(crate::error::GitError::from)?;
    Ok(changed.then(|| dir.join(".gitignore")))
}

/// What a metafile operation touched, for staging in Git.
#[derive(Debug, Default)]
pub struct Touched {
    /// Files written or created.
    pub written: Vec<PathBuf>,
    /// Files deleted.
    pub removed: Vec<PathBuf>,
}

/// `move SRC DST`: renames a tracked output and its `.dvc` file. `src` and
/// `dst` are absolute paths inside the repository.
pub fn move_output(repo: &Repo, src: &Path, dst: &Path) -> Result<Touched> {
    let (src_s, dst_s) = (repo.rel(src), repo.rel(dst));
    let mv_err = |reason| RepoError::Move {
        from: src_s.clone(),
        to: dst_s.clone(),
        reason,
    };
    let dst = if dst.is_dir() {
        dst.join(name_of(src))
    } else {
        dst.to_path_buf()
    };
    let old_dvc = dvcfile_for(src);
    if !old_dvc.is_file() {
        return Err(mv_err("the source is not an output of a .dvc file"));
    }
    if fs::symlink_metadata(&dst).is_ok() {
        return Err(mv_err("the destination already exists"));
    }
    let f = load_dvcfile(repo, &old_dvc)?;
    if f.file.outs.len() != 1 || f.file.outs[0].path != name_of(src) {
        return Err(mv_err("the .dvc file does not track exactly this output"));
    }
    let mut file = f.file.clone();
    file.outs[0].path = name_of(&dst);
    let new_dvc = dvcfile_for(&dst);
    let text = if new_dvc.parent() == old_dvc.parent() {
        strix_dvcfile::update_text(&f.text, &file)
    } else {
        // A different directory: paths are relative to the .dvc file.
        Ok(file.to_yaml())
    }
    .map_err(|source| RepoError::MetafileUpdate {
        path: old_dvc.clone(),
        source: Box::new(source),
    })?;
    if let Some(parent) = dst.parent() {
        fs::create_dir_all(parent).map_err(|source| RepoError::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    if src.exists() {
        fs::rename(src, &dst).map_err(|source| RepoError::Write {
            path: dst.clone(),
            source,
        })?;
    }
    strix_fs::atomic_write(&new_dvc, text.as_bytes()).map_err(|source| RepoError::Write {
        path: new_dvc.clone(),
        source,
    })?;
    fs::remove_file(&old_dvc).map_err(|source| RepoError::Write {
        path: old_dvc.clone(),
        source,
    })?;
    let mut t = Touched {
        written: vec![new_dvc],
        removed: vec![old_dvc],
    };
    if let Some(g) = remove_gitignore_entry(repo, src)? {
        t.written.push(g);
    }
    let is_dir = dst.is_dir();
    t.written.extend(ensure_gitignore(repo, &dst, is_dir)?);
    Ok(t)
}

/// `remove TARGETS [--outs]`: deletes `.dvc` files and their `.gitignore`
/// entries; with `outs`, also the data — but only when the data is safely
/// in the cache (unchanged since it was recorded), so nothing is lost.
pub fn remove(repo: &Repo, cwd: &Path, targets: &[PathBuf], outs: bool) -> Result<Touched> {
    if targets.is_empty() {
        return Err(RepoError::BadTarget(
            String::new(),
            "remove needs at least one target",
        ));
    }
    let files = resolve_targets(repo, cwd, targets)?;
    let mut all = Vec::new();
    for f in &files {
        for out in &f.file.outs {
            all.push((f.out_path(repo, out)?, out.clone()));
        }
    }
    let mut t = release_outputs(repo, &all, outs)?;
    for f in &files {
        fs::remove_file(&f.path).map_err(|source| RepoError::Write {
            path: f.path.clone(),
            source,
        })?;
        t.removed.push(f.path.clone());
    }
    Ok(t)
}

/// Stops tracking outputs (absolute paths with their recorded entries):
/// removes their `.gitignore` entries and, with `delete`, their data. Data
/// is deleted only when every output's is safely in the cache (what was
/// recorded, and cached): that is checked for all of them before anything
/// changes.
pub fn release_outputs(repo: &Repo, outs: &[(PathBuf, Output)], delete: bool) -> Result<Touched> {
    if delete {
        for (abs, out) in outs {
            let kind = kind_of(out);
            let Some(m) = measure(repo, abs, kind, Save::HashOnly, &NoProgress)? else {
                continue;
            };
            let saved = out.cache
                && recorded_oid(out) == Some(m.oid)
                && in_cache(repo, &m.oid, Layout::for_kind(kind), false).0;
            if !saved {
                return Err(RepoError::UnsavedRemoval(repo.rel(abs)));
            }
        }
    }
    let mut t = Touched::default();
    for (abs, _) in outs {
        if let Some(g) = remove_gitignore_entry(repo, abs)? {
            t.written.push(g);
        }
        if delete && fs::symlink_metadata(abs).is_ok() {
            let r = if abs.is_dir() {
                fs::remove_dir_all(abs)
            } else {
                fs::remove_file(abs)
            };
            r.map_err(|source| RepoError::Write {
                path: abs.clone(),
                source,
            })?;
        }
    }
    Ok(t)
}

/// `unprotect TARGETS`: turns linked outputs (or files inside them) into
/// private writable copies.
pub fn unprotect(repo: &Repo, cwd: &Path, targets: &[PathBuf]) -> Result<usize> {
    let mut n = 0;
    for t in targets {
        let abs = repo.resolve_user_path(cwd, t)?;
        if !abs.exists() {
            return Err(RepoError::NotFound(abs));
        }
        let files: Vec<PathBuf> = if abs.is_dir() {
            strix_data::walk::walk_dir(&abs, rayon::current_num_threads())
                .map_err(|e| RepoError::Tree {
                    path: abs.clone(),
                    source: e.into(),
                })?
                .into_iter()
                .map(|f| f.path(&abs))
                .collect()
        } else {
            vec![abs.clone()]
        };
        for f in files {
            strix_fs::link::unprotect(&f).map_err(|source| RepoError::Write {
                path: f.clone(),
                source,
            })?;
            n += 1;
        }
    }
    Ok(n)
}

/// `destroy`: unprotects every output, then removes `.dvc` files, their
/// `.gitignore` entries, `dvc.yaml`/`dvc.lock` and the `.dvc` directory.
/// Workspace data stays, as private copies.
pub fn destroy(repo: &Repo) -> Result<Touched> {
    let files = load_all(repo)?;
    let mut t = Touched::default();
    for f in &files {
        for out in &f.file.outs {
            let abs = f.out_path(repo, out)?;
            if abs.exists() {
                unprotect(repo, repo.root(), std::slice::from_ref(&abs))?;
            }
            if let Some(g) = remove_gitignore_entry(repo, &abs)? {
                t.written.push(g);
            }
        }
        fs::remove_file(&f.path).map_err(|source| RepoError::Write {
            path: f.path.clone(),
            source,
        })?;
        t.removed.push(f.path.clone());
    }
    for name in ["dvc.yaml", "dvc.lock", ".dvcignore"] {
        let p = repo.root().join(name);
        if p.exists() {
            fs::remove_file(&p).map_err(|source| RepoError::Write {
                path: p.clone(),
                source,
            })?;
            t.removed.push(p);
        }
    }
    let dvc = repo.dvc_dir();
    fs::remove_dir_all(&dvc).map_err(|source| RepoError::Write { path: dvc, source })?;
    Ok(t)
}
