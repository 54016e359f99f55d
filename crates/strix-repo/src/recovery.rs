//! Cleaning up after killed or failed runs.
//!
//! Every command that writes takes the repository lock and registers itself
//! in `.dvc/tmp/strix/runs/<pid>`; the file is removed when the command ends
//! normally. A file left by a process that no longer exists means that run
//! was killed: the next writer removes the temporaries it may have left
//! (`.strix-<pid>-*.tmp` in the cache and next to outputs) before going on.
//! DVC's own temporaries (`*.tmp`) in the cache, which it leaves behind after
//! a full disk, are removed too once they are older than an hour.

use crate::repo::Repo;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use strix_fs::lock::RepoLock;

/// A running write command: holds the lock and its run marker.
#[derive(Debug)]
pub struct WriteSession {
    _lock: RepoLock,
    marker: PathBuf,
    /// Stale temporaries removed when the session started.
    pub cleaned: usize,
}

impl Drop for WriteSession {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.marker);
    }
}

fn runs_dir(repo: &Repo) -> PathBuf {
    repo.root().join(".dvc/tmp/strix/runs")
}

/// Registers this process as a writer, cleaning up after dead ones first.
pub fn begin(repo: &Repo, lock: RepoLock) -> WriteSession {
    let dir = runs_dir(repo);
    let _ = fs::create_dir_all(&dir);
    let dead = strix_fs::entries_of_dead_runs(&dir);
    for m in &dead {
        let _ = fs::remove_file(m);
    }
    // A marker under this process's pid was left by a dead run whose pid
    // came back.
    let marker = dir.join(std::process::id().to_string());
    let stale = !dead.is_empty() || fs::remove_file(&marker).is_ok();
    let cleaned = if stale { clean_temporaries(repo) } else { 0 };
    let _ = fs::write(&marker, b"");
    WriteSession {
        _lock: lock,
        marker,
        cleaned,
    }
}

fn is_dead_strix_temp(name: &str) -> bool {
    strix_fs::is_stale_temp(name)
}

fn is_old_dvc_temp(path: &Path, name: &str) -> bool {
    if !name.ends_with(".tmp") || name.starts_with(strix_fs::TEMP_PREFIX) {
        return false;
    }
    fs::symlink_metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| SystemTime::now().duration_since(t).ok())
        .is_some_and(|age| age > Duration::from_secs(3600))
}

fn clean_dir(dir: &Path, dvc_too: bool) -> usize {
    let mut n = 0;
    let Ok(rd) = fs::read_dir(dir) else {
        return 0;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = e.path();
        if (is_dead_strix_temp(name) || (dvc_too && is_old_dvc_temp(&path, name)))
            && fs::remove_file(&path).is_ok()
        {
            n += 1;
        }
    }
    n
}

/// Removes temporaries of dead runs from the cache and the workspace.
pub fn clean_temporaries(repo: &Repo) -> usize {
    let mut n = 0;
    let cache = repo.odb().root().to_path_buf();
    for root in [cache.join("files/md5"), cache.clone()] {
        n += clean_dir(&root, true);
        if let Ok(rd) = fs::read_dir(&root) {
            for e in rd.flatten() {
                let name = e.file_name();
                if name.len() == 2 && e.path().is_dir() {
                    n += clean_dir(&e.path(), true);
                }
            }
        }
    }
    // Next to and inside outputs.
    if let Ok(files) = crate::index::load_all(repo) {
        for f in files {
            for out in &f.file.outs {
                let Ok(abs) = f.out_path(repo, out) else {
                    continue;
                };
                if let Some(parent) = abs.parent() {
                    n += clean_dir(parent, false);
                }
                if abs.is_dir() {
                    for e in walk_all_dirs(&abs) {
                        n += clean_dir(&e, false);
                    }
                }
            }
        }
    }
    n += clean_dir(repo.root(), false);
    n + crate::scratch::remove_stale(repo)
}

fn walk_all_dirs(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    let mut i = 0;
    while i < out.len() {
        if let Ok(rd) = fs::read_dir(&out[i]) {
            for e in rd.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    out.push(e.path());
                }
            }
        }
        i += 1;
    }
    out
}
