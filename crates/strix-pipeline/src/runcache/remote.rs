//! `push --run-cache` and `fetch`/`pull --run-cache`: the run-cache entries
//! copied between `<cache>/runs/` and `<remote>/runs/` under the same
//! relative paths (spec 4.5 and 11.1).
//!
//! As in DVC 3, only the entry files travel: the objects an entry names go
//! to the remote only when an ordinary push sends them (they are in the
//! workspace's `dvc.lock`), and `repro --pull` fetches them when it restores
//! a stage from a pulled entry. DVC sends every local entry on each push;
//! strix sends those the remote lacks but counts all of them, so the
//! summary line is DVC's. A fetch skips entries the cache already has (an
//! entry's name is the hash of its content). HTTP remotes hold no run-cache
//! (DVC refuses them too): see [`Unsupported`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use strix_remote::{Backend, BackendError, TransferError};
use strix_repo::Repo;
use strix_repo::transfer::{Failure, Failures, OpenedRemote, SyncError, open_remote};

/// The remote key prefix (and cache folder) of the run-cache.
const RUNS: &str = "runs";

/// Why a remote cannot hold a run-cache; DVC skips the run-cache there
/// (`push`/`fetch` silently, `repro --pull` with a warning).
#[derive(Debug, thiserror::Error)]
pub enum Unsupported {
    /// HTTP remotes are read-only and cannot be listed.
    #[error("run-cache is not supported for http filesystem: {0}")]
    Http(String),
    /// No remote could be opened (none configured, unknown name…).
    #[error(transparent)]
    Remote(SyncError),
}

/// Opens the remote for a run-cache transfer, or says why there is none.
pub fn open(repo: &Repo, remote: Option<&str>) -> Result<OpenedRemote, Unsupported> {
    let r = open_remote(repo, remote).map_err(Unsupported::Remote)?;
    let scheme = r.url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    if matches!(scheme.as_deref(), Some("http" | "https")) {
        return Err(Unsupported::Http(r.url));
    }
    Ok(r)
}

/// Whether `name` is a temporary file (strix's or DVC's), never an entry.
fn is_temp(name: &str) -> bool {
    name.ends_with(strix_fs::TEMP_SUFFIX) || name.starts_with(strix_fs::TEMP_PREFIX)
}

/// The entries under `<cache>/runs` as keys relative to the cache root
/// (`runs/ab/abcd…/ef01…`), sorted.
pub fn local_entries(cache_root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stack = vec![RUNS.to_string()];
    while let Some(rel) = stack.pop() {
        let entries = match std::fs::read_dir(cache_root.join(&rel)) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        for e in entries {
            let e = e?;
            let name = e.file_name().to_string_lossy().into_owned();
            let key = format!("{rel}/{name}");
            if e.file_type()?.is_dir() {
                stack.push(key);
            } else if !is_temp(&name) {
                out.push(key);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The cache path of a remote key, if the key is a plain relative path
/// under `runs/` (a remote listing is not trusted to stay inside the cache).
pub fn cache_path(cache_root: &Path, key: &str) -> Option<PathBuf> {
    let mut parts = key.split('/');
    if parts.next() != Some(RUNS) {
        return None;
    }
    let mut p = cache_root.join(RUNS);
    let mut n = 0;
    for part in parts {
        if part.is_empty() || part == "." || part == ".." || part.contains('\\') {
            return None;
        }
        p.push(part);
        n += 1;
    }
    let name = key.rsplit('/').next().unwrap_or("");
    (n > 0 && !is_temp(name)).then_some(p)
}

/// Runs `work` on every item with up to `jobs` threads; returns the
/// failures (item, error) in item order.
fn parallel<T: Sync, E: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> Result<(), E> + Sync,
) -> Vec<(usize, E)> {
    let next = AtomicUsize::new(0);
    let failed = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    if let Err(e) = work(item) {
                        failed
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((i, e));
                    }
                }
            });
        }
    });
    let mut failed = failed.into_inner().unwrap_or_else(|p| p.into_inner());
    failed.sort_by_key(|(i, _)| *i);
    failed
}

/// The failed entries as a transfer failure (the first remote error
/// decides the hint).
fn failed_entries(failed: &[(usize, BackendError)], key: impl Fn(usize) -> String) -> Failures {
    Failures {
        items: failed
            .iter()
            .map(|(i, e)| Failure::new(format!("run-cache entry '{}'", key(*i)), e))
            .collect(),
        kind: failed.iter().find_map(|(_, e)| match e {
            BackendError::Io { source, .. } => Some(source.kind()),
            BackendError::NotFound { .. } => None,
        }),
        ..Default::default()
    }
}

fn lines(f: Failures) -> Vec<String> {
    f.items.iter().map(Failure::line).collect()
}

/// What [`push`] did.
#[derive(Debug, Default)]
pub struct Pushed {
    /// The number of local entries (DVC's count of pushed run-cache files,
    /// failed ones included).
    pub entries: usize,
    /// One line per entry that could not be sent: DVC logs these and goes
    /// on with the push.
    pub failed: Vec<String>,
}

/// Sends every local run-cache entry the remote lacks (mode 0644 on a
/// local-folder remote, as DVC writes them). An entry that cannot be sent
/// is reported in [`Pushed::failed`], not as an error.
pub fn push(repo: &Repo, r: &OpenedRemote, jobs: Option<usize>) -> Result<Pushed, SyncError> {
    let root = repo.odb().root();
    let local = local_entries(root).map_err(|source| {
        SyncError::Repo(strix_repo::RepoError::Read {
            path: root.join(RUNS),
            source,
        })
    })?;
    if local.is_empty() {
        return Ok(Pushed::default());
    }
    // A remote that cannot be listed gets every entry again, as DVC sends.
    let have: std::collections::HashSet<String> = r
        .backend
        .list(RUNS)
        .map(|l| l.into_iter().collect())
        .unwrap_or_default();
    let todo: Vec<&String> = local.iter().filter(|k| !have.contains(*k)).collect();
    let jobs = jobs.unwrap_or_else(|| r.backend.default_jobs());
    let failed = parallel(&todo, jobs, |key| {
        let src = root.join(key.as_str());
        match r.backend.as_local() {
            Some(local) => local.upload_with_mode(&src, key, 0o644),
            None => r.backend.upload(&src, key),
        }
    });
    Ok(Pushed {
        entries: local.len(),
        failed: lines(failed_entries(&failed, |i| todo[i].clone())),
    })
}

/// What [`fetch`] did.
#[derive(Debug, Default)]
pub struct Fetched {
    /// Entries copied into the cache.
    pub entries: usize,
    /// One line per entry that could not be copied: DVC logs these and goes
    /// on, as for a push.
    pub failed: Vec<String>,
}

/// Copies every remote run-cache entry the cache lacks into the cache. An
/// entry that cannot be copied is reported in [`Fetched::failed`]; only a
/// remote that cannot be listed is an error.
pub fn fetch(repo: &Repo, r: &OpenedRemote, jobs: Option<usize>) -> Result<Fetched, SyncError> {
    let root = repo.odb().root();
    let keys = r.backend.list(RUNS).map_err(|source| SyncError::Query {
        remote: r.name.clone(),
        source: TransferError::Backend(source),
    })?;
    let mut todo: Vec<(String, PathBuf)> = keys
        .into_iter()
        .filter_map(|k| {
            let p = cache_path(root, &k)?;
            (!p.exists()).then_some((k, p))
        })
        .collect();
    todo.sort();
    let jobs = jobs.unwrap_or_else(|| r.backend.default_jobs());
    let failed = parallel(&todo, jobs, |(key, dest)| {
        download(r.backend.as_ref(), key, dest)
    });
    if !todo.is_empty() {
        // One flush for all the small files instead of an fsync each.
        let _ = strix_fs::syncfs(&root.join(RUNS));
    }
    Ok(Fetched {
        entries: todo.len() - failed.len(),
        failed: lines(failed_entries(&failed, |i| todo[i].0.clone())),
    })
}

/// Downloads `key` into `dest` (mode 0644 as DVC writes entries) under a
/// temporary name first.
fn download(b: &dyn Backend, key: &str, dest: &Path) -> Result<(), BackendError> {
    let werr = |e| BackendError::Io {
        op: "write",
        key: dest.to_string_lossy().into_owned(),
        source: e,
    };
    if let Some(parent) = dest.parent() {
        std::fs::create_dir_all(parent).map_err(werr)?;
    }
    let mut f = strix_fs::AtomicFile::create(dest, 0o644, false).map_err(werr)?;
    b.download(key, f.file())?;
    f.flush().map_err(werr)?;
    f.commit().map_err(werr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_paths_stay_under_runs() {
        let root = Path::new("/c");
        assert_eq!(
            cache_path(root, "runs/ab/abcd/ef"),
            Some(PathBuf::from("/c/runs/ab/abcd/ef"))
        );
        for bad in [
            "runs",
            "runs/",
            "files/md5/ab/cd",
            "runs/../x",
            "runs/ab/./x",
            "runs/ab//x",
            "runs/ab/abcd/x.tmp",
            "runs/ab\\..\\x",
        ] {
            assert_eq!(cache_path(root, bad), None, "{bad}");
        }
    }

    #[test]
    fn local_entries_skip_temporaries() {
        let d = tempfile::tempdir().unwrap();
        let k = d.path().join("runs/ab/abcd");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(k.join("ef01"), "cmd: x\n").unwrap();
        std::fs::write(k.join("ef02.8f3a.tmp"), "").unwrap();
        std::fs::write(k.join(".strix-1-2"), "").unwrap();
        assert_eq!(local_entries(d.path()).unwrap(), vec!["runs/ab/abcd/ef01"]);
        assert!(local_entries(&d.path().join("none")).unwrap().is_empty());
    }

    #[test]
    fn push_then_fetch_round_trips_through_a_folder_remote() {
        let src = tempfile::tempdir().unwrap();
        let k = src.path().join("runs/ab/abcd");
        std::fs::create_dir_all(&k).unwrap();
        std::fs::write(k.join("ef01"), "cmd: x\n").unwrap();
        let remote = tempfile::tempdir().unwrap();
        let b = strix_remote::LocalBackend::new(remote.path());
        let keys = local_entries(src.path()).unwrap();
        assert!(parallel(&keys, 4, |key| b.upload(&src.path().join(key), key)).is_empty());
        let dst = tempfile::tempdir().unwrap();
        for key in b.list(RUNS).unwrap() {
            let p = cache_path(dst.path(), &key).unwrap();
            download(&b, &key, &p).unwrap();
        }
        let got = dst.path().join("runs/ab/abcd/ef01");
        assert_eq!(std::fs::read_to_string(&got).unwrap(), "cmd: x\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&got).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o644);
    }
}
