//! Comparing tracked data between Git revisions, the recorded metafiles and
//! the workspace: the engine of `diff` and `data status`.
//!
//! A *view* maps repo-relative paths to object ids. A directory output
//! appears as `dir/` with its `.dir` id and, when expanded, each file below
//! it as `dir/file`.

use crate::error::{GitError, RepoError, Result};
use crate::index::load_all;
use crate::outputs::{kind_of, measure, recorded_oid};
use crate::repo::Repo;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{Layout, Manifest, Oid, Progress};
use strix_dvcfile::DvcFile;

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
    pub not_in_cache: Vec<String>,
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

fn layout_of(out: &strix_dvcfile::Output) -> Layout {
    Layout::for_kind(kind_of(out))
}

/// Adds the outputs of one parsed `.dvc` file (at `dvc_rel`, repo-relative)
/// to a view, expanding directories from the cache when asked.
fn add_recorded(repo: &Repo, view: &mut View, dvc_rel: &str, file: &DvcFile, granular: bool) {
    let dir = Path::new(dvc_rel).parent().unwrap_or(Path::new(""));
    for out in &file.outs {
        let Some(oid) = recorded_oid(out) else {
            continue;
        };
        let base = match file.wdir.as_deref() {
            Some(w) if w != "." => crate::repo::normalize(&dir.join(w)),
            _ => dir.to_path_buf(),
        };
        let p = crate::repo::normalize(&base.join(&out.path));
        let mut key = p.to_string_lossy().into_owned();
        if oid.is_dir {
            key.push('/');
            if granular && let Ok(m) = repo.odb().read_manifest(&oid, layout_of(out)) {
                expand(view, &key, &m);
            }
        }
        view.insert(key, oid);
    }
}

/// The data recorded by the `.dvc` files of a Git revision.
pub fn view_at_rev(repo: &Repo, rev: &str, granular: bool) -> Result<View> {
    let git = repo
        .git()
        .ok_or_else(|| RepoError::BadTarget(rev.to_string(), "revisions need a Git repository"))?;
    let prefix = repo
        .root()
        .strip_prefix(git.workdir())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let files = git
        .walk_files_at(rev, &prefix, |p| p.ends_with(".dvc"))
        .map_err(GitError::from)?;
    let mut view = View::new();
    for (path, bytes) in files {
        let rel = Path::new(&path)
            .strip_prefix(&prefix)
            .unwrap_or(Path::new(&path))
            .to_string_lossy()
            .into_owned();
        let text = String::from_utf8_lossy(&bytes);
        let file = DvcFile::parse(&text, &format!("{rev}:{rel}")).map_err(|source| {
            RepoError::Metafile {
                path: PathBuf::from(format!("{rev}:{rel}")),
                source: Box::new(source),
            }
        })?;
        add_recorded(repo, &mut view, &rel, &file, granular);
    }
    Ok(view)
}

/// The data recorded by the workspace's `.dvc` files.
pub fn view_recorded(repo: &Repo, granular: bool) -> Result<View> {
    let mut view = View::new();
    for f in load_all(repo)? {
        let rel = repo.rel(&f.path);
        add_recorded(repo, &mut view, &rel, &f.file, granular);
    }
    Ok(view)
}

/// The data actually in the workspace, for every tracked output.
pub fn view_workspace(repo: &Repo, granular: bool, progress: &dyn Progress) -> Result<View> {
    let mut view = View::new();
    for f in load_all(repo)? {
        for out in &f.file.outs {
            let abs = f.out_path(repo, out)?;
            let kind = kind_of(out);
            let Some(m) = measure(repo, &abs, kind, Save::HashOnly, progress)? else {
                continue;
            };
            let mut key = repo.rel(&abs);
            if let Some(tree) = &m.tree {
                key.push('/');
                if granular {
                    expand(&mut view, &key, &tree.manifest);
                }
            }
            view.insert(key, m.oid);
        }
    }
    Ok(view)
}

/// `diff [a_rev] [b_rev]`: `a` defaults to HEAD; `b = None` means the
/// workspace. Directories are always expanded, as in `dvc diff`.
pub fn diff(repo: &Repo, a: &str, b: Option<&str>, progress: &dyn Progress) -> Result<Changes> {
    let old = view_at_rev(repo, a, true)?;
    let new = match b {
        Some(rev) => view_at_rev(repo, rev, true)?,
        None => view_workspace(repo, true, progress)?,
    };
    let mut c = compare(&old, &new);
    // Old directories whose manifest is not in the cache could not be
    // expanded: report them.
    for (p, o) in &old {
        if o.is_dir && !repo.odb().exists(o, Layout::V3) && !repo.odb().exists(o, Layout::Legacy) {
            c.not_in_cache.push(p.clone());
        }
    }
    Ok(c)
}
