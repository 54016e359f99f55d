//! Comparing tracked data between Git revisions, the recorded metafiles and
//! the workspace: the engine of `diff` and `data status`.
//!
//! A *view* maps repo-relative paths to object ids. A directory output
//! appears as `dir/` with its `.dir` id and, when expanded, each file below
//! it as `dir/file`.

use crate::error::RepoError;
use crate::outputs::measure;
use crate::repo::Repo;
use crate::revisions::{RecordedOut, RevError, outs_at_rev, outs_in_workspace};
use std::collections::BTreeMap;
use strix_data::tree::Save;
use strix_data::{HashKind, Layout, Manifest, Oid, Progress};

/// Path → object id.
pub type View = BTreeMap<String, Oid>;

/// Differences between two views.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<(String, Oid)>,
    pub deleted: Vec<(String, Oid)>,
    /// (path, old, new)
    pub modified: Vec<(String, Oid, Oid)>,
    /// Paths of the old side whose data is not in the cache.
    pub not_in_cache: Vec<(String, Oid)>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.deleted.is_empty() && self.modified.is_empty()
    }
}

/// Compares two views.
pub fn compare(old: &View, new: &View) -> Changes {
    let mut c = Changes::default();
    for (p, o) in old {
        match new.get(p) {
            None => c.deleted.push((p.clone(), *o)),
            Some(n) if n != o => c.modified.push((p.clone(), *o, *n)),
            Some(_) => {}
        }
    }
    for (p, n) in new {
        if !old.contains_key(p) {
            c.added.push((p.clone(), *n));
        }
    }
    c
}

fn expand(view: &mut View, prefix: &str, manifest: &Manifest) {
    for e in manifest.entries() {
        view.insert(format!("{prefix}{}", e.relpath), Oid::file(e.md5));
    }
}

/// Adds recorded outputs (`.dvc` files' and `dvc.lock` files') to a view,
/// expanding directories from the cache when asked.
fn add_recorded(repo: &Repo, view: &mut View, outs: &[RecordedOut], granular: bool) {
    for o in outs {
        let mut key = o.path.clone();
        if o.obj.oid.is_dir {
            key.push('/');
            if granular && let Ok(m) = repo.odb().read_manifest(&o.obj.oid, o.obj.layout) {
                expand(view, &key, &m);
            }
        }
        view.insert(key, o.obj.oid);
    }
}

/// The data recorded by the `.dvc` files and `dvc.lock` files of a Git
/// revision.
pub fn view_at_rev(repo: &Repo, rev: &str, granular: bool) -> Result<View, RevError> {
    if repo.git().is_none() {
        return Err(
            RepoError::BadTarget(rev.to_string(), "revisions need a Git repository").into(),
        );
    }
    let mut view = View::new();
    add_recorded(repo, &mut view, &outs_at_rev(repo, rev)?, granular);
    Ok(view)
}

/// The data recorded by the workspace's `.dvc` files and `dvc.lock` files.
pub fn view_recorded(repo: &Repo, granular: bool) -> Result<View, RevError> {
    let mut view = View::new();
    add_recorded(repo, &mut view, &outs_in_workspace(repo)?, granular);
    Ok(view)
}

/// The data actually in the workspace, for every recorded output.
pub fn view_workspace(
    repo: &Repo,
    granular: bool,
    progress: &dyn Progress,
) -> Result<View, RevError> {
    let mut view = View::new();
    for o in outs_in_workspace(repo)? {
        let abs = repo.root().join(&o.path);
        let kind = match o.obj.layout {
            Layout::V3 => HashKind::Md5,
            Layout::Legacy => HashKind::Md5Dos2Unix,
        };
        let Some(m) = measure(repo, &abs, kind, Save::HashOnly, progress)? else {
            continue;
        };
        let mut key = o.path.clone();
        if let Some(tree) = &m.tree {
            key.push('/');
            if granular {
                expand(&mut view, &key, &tree.manifest);
            }
        }
        view.insert(key, m.oid);
    }
    Ok(view)
}

/// `diff [a_rev] [b_rev]`: `a` defaults to HEAD; `b = None` means the
/// workspace. Directories are always expanded, as in `dvc diff`.
pub fn diff(
    repo: &Repo,
    a: &str,
    b: Option<&str>,
    progress: &dyn Progress,
) -> Result<Changes, RevError> {
    // DVC's answer in a Git repository without commits: no changes.
    if repo.git().is_some_and(|g| !g.head_exists()) {
        return Ok(Changes::default());
    }
    let old = view_at_rev(repo, a, true)?;
    let new = match b {
        Some(rev) => view_at_rev(repo, rev, true)?,
        None => view_workspace(repo, true, progress)?,
    };
    let mut c = compare(&old, &new);
    // Against the workspace, as DVC does: every recorded entry of the old
    // side (changed or not, files and directories) whose object the cache
    // lacks. A directory whose manifest is missing could not be expanded,
    // so it stands for its files.
    if b.is_none() {
        for (p, o) in &old {
            if !repo.odb().exists(o, Layout::V3) && !repo.odb().exists(o, Layout::Legacy) {
                c.not_in_cache.push((p.clone(), *o));
            }
        }
    }
    Ok(c)
}
