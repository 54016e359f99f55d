//! `gc`: removing cache (and, with `--cloud`, remote) objects that no
//! selected revision uses (spec 11.2, DVC's `dvc/repo/gc.py`).
//!
//! Work is split in two so the binary can show what will go and ask first:
//! [`plan`] collects the used objects — the workspace's `.dvc` files and
//! `dvc.lock` outputs plus those of every selected Git revision, with the
//! members of every used `.dir` — and lists the unused objects of the cache
//! and the remote; [`execute`] deletes them.
//!
//! Safety rules:
//! * a used `.dir` whose manifest cannot be read (from the cache, or from
//!   the remote when one is involved) stops the whole command: its files
//!   cannot be told apart from garbage;
//! * only names shaped like objects (`xx/` + 30 hex digits, optionally
//!   `.dir`) are ever deleted: the run-cache (`runs/`), temporaries
//!   (`*.tmp`) and anything else are left alone;
//! * `.dir` objects are deleted before files, so an interrupted gc never
//!   leaves a `.dir` whose files are gone while it stays.

use crate::error::RepoError;
use crate::repo::Repo;
use crate::revisions::{RecordedOut, RevError, RevScope, outs_at_rev, outs_in_workspace, select};
use crate::transfer::{OpenedRemote, SyncError, open_remote};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::io;
use std::path::PathBuf;
use strix_data::{Layout, Manifest, Oid, Progress};
use strix_remote::{BackendError, ObjectRef, Transfer, TransferError, object_key};

/// What `gc` keeps and where it collects.
#[derive(Debug, Clone, Default)]
pub struct GcOptions {
    /// The Git revisions whose data is kept (the workspace always is).
    pub scope: RevScope,
    /// `-c`: also collect garbage on the remote.
    pub cloud: bool,
    /// `-r`: the remote (default: `core.remote`).
    pub remote: Option<String>,
    /// `--not-in-remote`: keep only used objects the remote lacks.
    pub not_in_remote: bool,
    /// `-j`: parallel remote operations.
    pub jobs: Option<usize>,
    /// `--skip-failed`: a revision whose metafiles cannot be read is
    /// passed over (listed in [`GcPlan::skipped`]) instead of failing.
    pub skip_failed: bool,
}

/// Why `gc` failed.
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// Revisions or metafiles could not be read.
    #[error(transparent)]
    Revisions(#[from] RevError),
    /// The remote could not be opened.
    #[error(transparent)]
    Remote(#[from] SyncError),
    /// Used directories whose manifests are unreadable: nothing is removed.
    #[error(
        "refusing to collect garbage: the manifest of {} used director{} could not be read, so {} files cannot be told apart from unused ones:\n{}",
        .0.len(),
        if .0.len() == 1 { "y" } else { "ies" },
        if .0.len() == 1 { "its" } else { "their" },
        .0.join("\n")
    )]
    UnreadableDirs(Vec<String>),
    /// Listing the cache failed.
    #[error("failed to list the cache directory '{}'", .path.display())]
    ListCache {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Listing or querying the remote failed.
    #[error("failed to list remote '{remote}'")]
    ListRemote {
        remote: String,
        #[source]
        source: BackendError,
    },
    /// Querying the remote for used objects failed.
    #[error("failed to query remote '{remote}'")]
    QueryRemote {
        remote: String,
        #[source]
        source: TransferError,
    },
    /// Some objects could not be removed (the others were).
    #[error("failed to remove {} objects:\n{}", .0.len(), .0.join("\n"))]
    Delete(Vec<String>),
    /// A repository error.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl GcError {
    /// DVC's exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            GcError::Remote(e) => e.exit_code(),
            GcError::Repo(e) => e.exit_code(),
            GcError::Revisions(RevError::Repo(e)) => e.exit_code(),
            _ => 1,
        }
    }
}

/// An object in the local cache that will be removed.
#[derive(Debug, Clone)]
pub struct LocalObject {
    /// Its path.
    pub path: PathBuf,
    /// Its id.
    pub oid: Oid,
    /// Its size in bytes.
    pub size: u64,
}

/// Objects of the remote that will be removed.
#[derive(Debug)]
pub struct RemotePlan {
    /// The remote.
    pub remote: OpenedRemote,
    /// DVC 3 keys (`files/md5/…`).
    pub v3: Vec<String>,
    /// Legacy keys (`xx/…`).
    pub legacy: Vec<String>,
}

/// What [`execute`] will remove.
#[derive(Debug)]
pub struct GcPlan {
    /// Distinct used objects (`.dir` members included).
    pub used: usize,
    /// Revisions looked at, besides the workspace.
    pub revisions: usize,
    /// Unused DVC 3 objects of the cache.
    pub local_v3: Vec<LocalObject>,
    /// Unused legacy objects of the cache.
    pub local_legacy: Vec<LocalObject>,
    /// With `--cloud`: unused objects of the remote.
    pub remote: Option<RemotePlan>,
    /// With `--skip-failed`: the revisions passed over.
    pub skipped: Vec<Skipped>,
}

/// A revision `gc --skip-failed` passed over.
#[derive(Debug)]
pub struct Skipped {
    /// The revision as DVC names it (`workspace`, a branch, a commit).
    pub rev: String,
    /// The project it belongs to, when it is another one (`-p`).
    pub project: Option<PathBuf>,
    /// Why it could not be read.
    pub why: String,
}

impl GcPlan {
    /// Objects of the cache to remove and their total size.
    pub fn local_totals(&self) -> (usize, u64) {
        let all = self.local_v3.iter().chain(&self.local_legacy);
        (
            self.local_v3.len() + self.local_legacy.len(),
            all.map(|o| o.size).sum(),
        )
    }
}

/// What [`execute`] removed (or, dry, would remove).
#[derive(Debug, Default)]
pub struct GcReport {
    /// DVC 3 objects removed from the cache.
    pub local_v3: usize,
    /// Legacy objects removed from the cache.
    pub local_legacy: usize,
    /// DVC 3 objects removed from the remote.
    pub remote_v3: usize,
    /// Legacy objects removed from the remote.
    pub remote_legacy: usize,
}

/// The used objects of a set of outputs, `.dir` members included.
#[derive(Debug, Default)]
pub struct UsedObjects {
    /// Every used object.
    pub objects: HashSet<ObjectRef>,
    /// Used `.dir` objects whose manifest could not be read, described.
    pub unreadable: Vec<String>,
}

/// Collects the objects `outs` use. A `.dir` manifest is read from the
/// cache, else from `remote` when given.
pub fn used_objects(
    repo: &Repo,
    outs: &[RecordedOut],
    remote: Option<&Transfer<'_>>,
) -> UsedObjects {
    let mut used = UsedObjects::default();
    let mut where_: HashMap<ObjectRef, Vec<String>> = HashMap::new();
    let mut dirs: Vec<ObjectRef> = Vec::new();
    for o in outs {
        if used.objects.insert(o.obj) && o.obj.oid.is_dir {
            dirs.push(o.obj);
        }
        if o.obj.oid.is_dir {
            where_.entry(o.obj).or_default().push(o.describe());
        }
    }
    let odb = repo.odb();
    let manifests: Vec<(ObjectRef, Option<Manifest>)> = dirs
        .par_iter()
        .map(|d| {
            let m = odb.read_manifest(&d.oid, d.layout).ok().or_else(|| {
                let bytes = remote?.read_remote(d).ok()?;
                Manifest::parse(&bytes).ok()
            });
            (*d, m)
        })
        .collect();
    for (d, m) in manifests {
        match m {
            Some(m) => used.objects.extend(m.entries().iter().map(|e| ObjectRef {
                oid: Oid::file(e.md5),
                layout: d.layout,
            })),
            None => {
                let mut places = where_.remove(&d).unwrap_or_default();
                places.dedup();
                let shown: Vec<String> = places.iter().take(3).cloned().collect();
                let more = places.len().saturating_sub(3);
                used.unreadable.push(format!(
                    "md5: {} ({}{})",
                    d.oid,
                    shown.join(", "),
                    if more > 0 {
                        format!(", and {more} more")
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    used.unreadable.sort();
    used
}

/// `xx` + a file name shaped like an object (30 hex digits, optionally
/// `.dir`) to its id; anything else (temporaries, run-cache, stray files)
/// is not an object.
pub(crate) fn object_id(prefix: &str, name: &str) -> Option<Oid> {
    let hex2 = |s: &str| s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if prefix.len() != 2 || !hex2(prefix) {
        return None;
    }
    let body = name.strip_suffix(".dir").unwrap_or(name);
    if body.len() != 30 || !hex2(body) {
        return None;
    }
    format!("{prefix}{name}").parse().ok()
}

/// Every object of one layout in the cache.
pub(crate) fn list_cache(repo: &Repo, layout: Layout) -> Result<Vec<LocalObject>, GcError> {
    let root = repo.odb().layout_root(layout);
    let lerr = |path: &PathBuf, source| GcError::ListCache {
        path: path.clone(),
        source,
    };
    let entries = match fs::read_dir(&root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(lerr(&root, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| lerr(&root, e))?;
        let prefix = entry.file_name().to_string_lossy().into_owned();
        let dir = entry.path();
        if prefix.len() != 2 || !entry.file_type().map_err(|e| lerr(&dir, e))?.is_dir() {
            continue;
        }
        for obj in fs::read_dir(&dir).map_err(|e| lerr(&dir, e))? {
            let obj = obj.map_err(|e| lerr(&dir, e))?;
            let name = obj.file_name().to_string_lossy().into_owned();
            let Some(oid) = object_id(&prefix, &name) else {
                continue;
            };
            let path = obj.path();
            let meta = match fs::symlink_metadata(&path) {
                Ok(m) => m,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(lerr(&path, e)),
            };
            if meta.is_dir() {
                continue;
            }
            out.push(LocalObject {
                path,
                oid,
                size: meta.len(),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Classifies a remote key: DVC 3 object, legacy object, or neither.
fn remote_object(key: &str) -> Option<ObjectRef> {
    let parts: Vec<&str> = key.split('/').collect();
    match parts.as_slice() {
        ["files", "md5", p, n] => object_id(p, n).map(|oid| ObjectRef {
            oid,
            layout: Layout::V3,
        }),
        [p, n] => object_id(p, n).map(|oid| ObjectRef {
            oid,
            layout: Layout::Legacy,
        }),
        _ => None,
    }
}

/// Collects what `gc` would remove. Nothing is changed. `others` are the
/// projects of `-p`, sharing the cache: the data their selected revisions
/// use is kept too (lock them first, as this repository).
pub fn plan(
    repo: &Repo,
    others: &[Repo],
    opts: &GcOptions,
    progress: &dyn Progress,
) -> Result<GcPlan, GcError> {
    let remote = if opts.cloud || opts.not_in_remote {
        Some(open_remote(repo, opts.remote.as_deref())?)
    } else {
        None
    };
    let transfer = remote
        .as_ref()
        .map(|r| Transfer::new(r.backend.as_ref(), repo.odb(), opts.jobs));
    let mut used = UsedObjects::default();
    let mut revisions = 0;
    let mut skipped = Vec::new();
    for (i, project) in std::iter::once(repo).chain(others).enumerate() {
        let (outs, n) = project_outs(project, opts, &mut skipped, i > 0)?;
        revisions += n;
        let mut found = used_objects(project, &outs, transfer.as_ref());
        if !found.unreadable.is_empty()
            && transfer.is_none()
            && let Ok(r) = open_remote(project, opts.remote.as_deref())
        {
            // As DVC does, look for missing `.dir` objects on the default remote.
            let t = Transfer::new(r.backend.as_ref(), project.odb(), opts.jobs);
            found = used_objects(project, &outs, Some(&t));
        }
        used.objects.extend(found.objects);
        used.unreadable.extend(found.unreadable);
    }
    if !used.unreadable.is_empty() {
        return Err(GcError::UnreadableDirs(used.unreadable));
    }
    // What the local cache keeps.
    let keep_local: HashSet<ObjectRef> = match (&transfer, opts.not_in_remote) {
        (Some(t), true) => {
            let objs: Vec<ObjectRef> = used.objects.iter().copied().collect();
            let on_remote =
                t.remote_has(&objs, progress)
                    .map_err(|source| GcError::QueryRemote {
                        remote: remote.as_ref().map(|r| r.name.clone()).unwrap_or_default(),
                        source,
                    })?;
            used.objects
                .iter()
                .filter(|o| !on_remote.contains(o))
                .copied()
                .collect()
        }
        _ => used.objects.clone(),
    };
    let unused = |layout: Layout| -> Result<Vec<LocalObject>, GcError> {
        Ok(list_cache(repo, layout)?
            .into_iter()
            .filter(|o| !keep_local.contains(&ObjectRef { oid: o.oid, layout }))
            .collect())
    };
    let local_v3 = unused(Layout::V3)?;
    let local_legacy = unused(Layout::Legacy)?;
    let remote = match remote {
        Some(r) if opts.cloud => {
            let keys = r.backend.list("").map_err(|source| GcError::ListRemote {
                remote: r.name.clone(),
                source,
            })?;
            let mut v3 = Vec::new();
            let mut legacy = Vec::new();
            for key in keys {
                let Some(obj) = remote_object(&key) else {
                    continue;
                };
                if used.objects.contains(&obj) {
                    continue;
                }
                match obj.layout {
                    Layout::V3 => v3.push(key),
                    Layout::Legacy => legacy.push(key),
                }
            }
            v3.sort();
            legacy.sort();
            Some(RemotePlan {
                remote: r,
                v3,
                legacy,
            })
        }
        _ => None,
    };
    Ok(GcPlan {
        used: used.objects.len(),
        revisions,
        local_v3,
        local_legacy,
        remote,
        skipped,
    })
}

/// The outputs of `project`'s workspace and selected revisions, and how
/// many revisions were selected. With `--skip-failed`, what cannot be read
/// is noted in `skipped` and passed over.
fn project_outs(
    project: &Repo,
    opts: &GcOptions,
    skipped: &mut Vec<Skipped>,
    other: bool,
) -> Result<(Vec<RecordedOut>, usize), GcError> {
    let mut skip = |name: &str, e: RevError| -> Result<(), GcError> {
        if !opts.skip_failed {
            return Err(e.into());
        }
        skipped.push(Skipped {
            rev: name.to_string(),
            project: other.then(|| project.root().to_path_buf()),
            why: crate::transfer::error_chain(&e),
        });
        Ok(())
    };
    let revisions = select(project, &opts.scope)?;
    let mut outs = match outs_in_workspace(project) {
        Ok(outs) => outs,
        Err(e) => {
            skip("workspace", e)?;
            Vec::new()
        }
    };
    for rev in &revisions {
        match outs_at_rev(project, &rev.sha) {
            Ok(o) => outs.extend(o),
            Err(e) => skip(rev.names.first().unwrap_or(&rev.sha), e)?,
        }
    }
    Ok((outs, revisions.len()))
}

/// `.dir` objects first, then files.
fn dirs_first<T>(items: &[T], is_dir: impl Fn(&T) -> bool) -> Vec<&T> {
    let mut v: Vec<&T> = items.iter().filter(|i| is_dir(i)).collect();
    v.extend(items.iter().filter(|i| !is_dir(i)));
    v
}

/// Removes what `plan` listed. With `dry`, removes nothing and reports the
/// counts that would be removed. The complete-directory hints are cleared
/// whenever a cache object is removed.
pub fn execute(
    repo: &Repo,
    plan: &GcPlan,
    dry: bool,
    jobs: Option<usize>,
) -> Result<GcReport, GcError> {
    let mut report = GcReport {
        local_v3: plan.local_v3.len(),
        local_legacy: plan.local_legacy.len(),
        ..Default::default()
    };
    if let Some(r) = &plan.remote {
        report.remote_v3 = r.v3.len();
        report.remote_legacy = r.legacy.len();
    }
    if dry {
        return Ok(report);
    }
    let mut failed = Vec::new();
    let local: Vec<&LocalObject> = plan.local_v3.iter().chain(&plan.local_legacy).collect();
    if !local.is_empty() {
        // Hints first: a crash after some removals must not leave a
        // directory marked complete.
        repo.complete_dirs().clear();
        for o in dirs_first(&local, |o| o.oid.is_dir) {
            match fs::remove_file(&o.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => failed.push(format!("{}: {e}", o.path.display())),
            }
        }
        repo.complete_dirs().clear();
    }
    if let Some(r) = &plan.remote {
        let backend = r.remote.backend.as_ref();
        let threads = jobs.unwrap_or_else(|| backend.default_jobs()).max(1);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .ok();
        for keys in [&r.v3, &r.legacy] {
            let is_dir = |k: &&String| k.ends_with(".dir");
            let dirs: Vec<&String> = keys.iter().filter(is_dir).collect();
            let files: Vec<&String> = keys.iter().filter(|k| !is_dir(k)).collect();
            for batch in [dirs, files] {
                let run = || -> Vec<String> {
                    batch
                        .par_iter()
                        .filter_map(|k| backend.delete(k).err().map(|e| format!("{k}: {e}")))
                        .collect()
                };
                failed.extend(match &pool {
                    Some(p) => p.install(run),
                    None => run(),
                });
            }
        }
    }
    if !failed.is_empty() {
        failed.sort();
        return Err(GcError::Delete(failed));
    }
    Ok(report)
}

/// The remote key of an object (for messages).
pub fn remote_key(obj: &ObjectRef) -> String {
    object_key(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_object_shaped_names_count() {
        let hex30 = "0123456789abcdef0123456789abcd";
        assert!(object_id("ab", hex30).is_some());
        assert!(object_id("ab", &format!("{hex30}.dir")).unwrap().is_dir);
        assert!(object_id("ab", &format!("{hex30}.tmp")).is_none());
        assert!(object_id("ab", &format!(".{hex30}")).is_none());
        assert!(object_id("AB", hex30).is_none());
        assert!(object_id("runs", hex30).is_none());
        assert!(object_id("ab", &hex30[..29]).is_none());
    }

    #[test]
    fn remote_keys_are_classified_by_layout() {
        let hex30 = "0123456789abcdef0123456789abcd";
        let v3 = remote_object(&format!("files/md5/ab/{hex30}")).unwrap();
        assert_eq!(v3.layout, Layout::V3);
        let legacy = remote_object(&format!("ab/{hex30}.dir")).unwrap();
        assert_eq!(legacy.layout, Layout::Legacy);
        assert!(legacy.oid.is_dir);
        assert!(remote_object(&format!("runs/ab/{hex30}")).is_none());
        assert!(remote_object(&format!("files/md5/ab/{hex30}.tmp")).is_none());
        assert!(remote_object("files/md5/ab").is_none());
        assert_eq!(remote_key(&v3), format!("files/md5/ab/{hex30}"));
    }

    #[test]
    fn dirs_go_first() {
        let v = vec![(1, false), (2, true), (3, false), (4, true)];
        let order: Vec<i32> = dirs_first(&v, |x| x.1).iter().map(|x| x.0).collect();
        assert_eq!(order, vec![2, 4, 1, 3]);
    }
}
