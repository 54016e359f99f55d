//! `checkout`: make the workspace match the `.dvc` files, from the cache.

use crate::error::{RepoError, Result};
use crate::outputs::{kind_of, recorded_oid};
use crate::repo::Repo;
use std::path::{Path, PathBuf};
use strix_data::checkout::{
    Change, CheckoutError, CheckoutOptions, DirChanges, checkout_dir, checkout_file,
};
use strix_data::odb::ManifestReadError;
use strix_data::{Layout, Progress};
use strix_dvcfile::Output;

/// How hard to push changes into the workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkMode {
    /// Only touch what differs; refuse to drop unsaved data.
    Normal,
    /// Re-create every link (`--relink`).
    Relink,
    /// Overwrite unsaved data (`--force`); unchanged files stay as they are,
    /// as with DVC.
    Force,
    /// Both: overwrite unsaved data and re-create every link.
    ForceRelink,
}

/// What happened to one output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutChange {
    Added,
    Modified,
    Unchanged,
}

/// Files (not directories) a checkout added, changed or removed, inside
/// outputs as well as whole file outputs: what `checkout --summary` counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct FileCounts {
    pub added: usize,
    pub modified: usize,
    pub deleted: usize,
}

impl FileCounts {
    fn of_dir(ch: &DirChanges) -> Self {
        Self {
            added: ch.added.len(),
            modified: ch.modified.len(),
            deleted: ch.deleted.len(),
        }
    }

    fn of_file(ch: Change) -> Self {
        Self {
            added: usize::from(ch == Change::Added),
            modified: usize::from(ch == Change::Modified),
            deleted: 0,
        }
    }

    fn any(&self) -> bool {
        self.added + self.modified + self.deleted > 0
    }

    fn add(&mut self, other: Self) {
        self.added += other.added;
        self.modified += other.modified;
        self.deleted += other.deleted;
    }
}

/// Result of a checkout run.
#[derive(Debug, Default)]
pub struct CheckoutReport {
    /// (absolute output path, is_dir, change) for changed outputs.
    pub changes: Vec<(PathBuf, bool, OutChange)>,
    /// The files of the outputs that were restored (failed outputs are
    /// not counted).
    pub files: FileCounts,
    /// Outputs that could not be restored (absolute paths), with the cause.
    pub failed: Vec<(PathBuf, CheckoutError)>,
}

/// Materialises one output from the cache.
pub fn link_output(
    repo: &Repo,
    abs: &Path,
    out: &Output,
    mode: LinkMode,
    progress: &dyn Progress,
) -> Result<OutChange> {
    link_output_counted(repo, abs, out, None, mode, progress).map(|(ch, _)| ch)
}

/// [`link_output`], with the files it added, changed and removed. With
/// `inside` (a relpath in a directory output), only that file or folder
/// of the directory is checked out, as DVC's granular checkout does; the
/// change is still the output's.
fn link_output_counted(
    repo: &Repo,
    abs: &Path,
    out: &Output,
    inside: Option<&str>,
    mode: LinkMode,
    progress: &dyn Progress,
) -> Result<(OutChange, FileCounts)> {
    let Some(oid) = recorded_oid(out) else {
        return Ok((OutChange::Unchanged, FileCounts::default()));
    };
    let kind = kind_of(out);
    let layout = Layout::for_kind(kind);
    let opts = CheckoutOptions {
        odb: repo.odb(),
        layout,
        kind,
        state: repo.state(),
        link_types: &repo.settings().link_types,
        force: matches!(mode, LinkMode::Force | LinkMode::ForceRelink),
        relink: matches!(mode, LinkMode::Relink | LinkMode::ForceRelink),
    };
    let cerr = |source| RepoError::Checkout {
        path: abs.to_path_buf(),
        source: Box::new(source),
    };
    if oid.is_dir {
        let existed = abs.is_dir();
        let manifest =
            repo.odb()
                .read_manifest(&oid, layout)
                .map_err(|source| RepoError::Manifest {
                    path: abs.to_path_buf(),
                    source,
                })?;
        if let Some(rel) = inside {
            // A path the directory does not record is no target (and must
            // never be emptied as if it were a recorded folder).
            return checkout_part(abs, &manifest, rel, &opts, progress)
                .map_err(cerr)?
                .ok_or_else(|| RepoError::NotTracked(repo.rel(&abs.join(rel))));
        }
        let ch = checkout_dir(abs, &manifest, &opts, progress).map_err(cerr)?;
        repo.complete_dirs().insert(oid);
        let counts = FileCounts::of_dir(&ch);
        let change = if ch.is_empty() {
            OutChange::Unchanged
        } else if existed {
            OutChange::Modified
        } else {
            OutChange::Added
        };
        Ok((change, counts))
    } else {
        let ch = checkout_file(abs, oid.md5, out.isexec, &opts).map_err(cerr)?;
        let change = match ch {
            Change::Added => OutChange::Added,
            Change::Modified => OutChange::Modified,
            Change::Unchanged => OutChange::Unchanged,
        };
        Ok((change, FileCounts::of_file(ch)))
    }
}

/// Checks out the file or folder `rel` of the directory output `abs`
/// (recorded as `manifest`), leaving the rest of the directory alone;
/// `None` when the directory records nothing at `rel`.
fn checkout_part(
    abs: &Path,
    manifest: &strix_data::Manifest,
    rel: &str,
    opts: &CheckoutOptions<'_>,
    progress: &dyn Progress,
) -> std::result::Result<Option<(OutChange, FileCounts)>, CheckoutError> {
    let counts = if let Some(e) = manifest.get(rel) {
        FileCounts::of_file(checkout_file(&abs.join(rel), e.md5, false, opts)?)
    } else {
        let below = format!("{rel}/");
        let part: Vec<strix_data::Entry> = manifest
            .entries()
            .iter()
            .filter_map(|e| {
                let r = e.relpath.strip_prefix(&below)?;
                Some(strix_data::Entry {
                    relpath: r.to_string(),
                    md5: e.md5,
                })
            })
            .collect();
        if part.is_empty() {
            return Ok(None);
        }
        let part = strix_data::Manifest::from_entries(part);
        FileCounts::of_dir(&checkout_dir(&abs.join(rel), &part, opts, progress)?)
    };
    let change = if counts.any() {
        OutChange::Modified
    } else {
        OutChange::Unchanged
    };
    Ok(Some((change, counts)))
}

/// A target inside a directory output: the output's path, its entry and
/// the relpath inside it.
type Part = (PathBuf, Output, String);

/// Targets strictly inside a directory output of a `.dvc` file; the other
/// targets are returned as they are.
fn split_inside(repo: &Repo, cwd: &Path, targets: &[PathBuf]) -> Result<(Vec<Part>, Vec<PathBuf>)> {
    let mut inside = Vec::new();
    let mut rest = Vec::new();
    let files = if targets.is_empty() {
        Vec::new()
    } else {
        crate::index::load_all(repo)?
    };
    for t in targets {
        let Ok(abs) = repo.resolve_user_path(cwd, t) else {
            rest.push(t.clone());
            continue;
        };
        match crate::index::output_containing(repo, &files, &abs)? {
            Some((_, o, p)) if o.cache && recorded_oid(o).is_some_and(|oid| oid.is_dir) => {
                let rel = abs.strip_prefix(&p).ok().and_then(|r| r.to_str());
                match rel {
                    Some(rel) => inside.push((p.clone(), o.clone(), rel.to_string())),
                    None => rest.push(t.clone()),
                }
            }
            _ => rest.push(t.clone()),
        }
    }
    Ok((inside, rest))
}

/// Checks out the targeted outputs. Missing or corrupted cache objects do
/// not stop the others; they are listed in the report.
pub fn checkout(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    mode: LinkMode,
    progress: &dyn Progress,
) -> Result<CheckoutReport> {
    let locked = lock_outs(repo)?;
    let (inside, targets) = split_inside(repo, cwd, targets)?;
    let mut report = CheckoutReport::default();
    for (abs, out, rel) in &inside {
        checkout_one(repo, abs, out, Some(rel), mode, progress, &mut report)?;
    }
    // Every target was inside an output: nothing else is checked out.
    let only_inside = targets.is_empty() && !inside.is_empty();
    let files = if only_inside {
        Vec::new()
    } else {
        crate::revisions::resolve_with_stages(repo, cwd, &targets, &locked)?
    };
    for f in &files {
        for out in &f.file.outs {
            if !out.cache {
                continue;
            }
            let abs = f.out_path(repo, out)?;
            checkout_one(repo, &abs, out, None, mode, progress, &mut report)?;
        }
    }
    // The pipeline stages' outputs that `dvc.lock` files record.
    let rel_targets = crate::revisions::repo_rel_targets(repo, cwd, &targets);
    for o in locked {
        if !only_inside && o.cache && crate::revisions::matches_target(&o, &rel_targets) {
            let abs = repo.root().join(&o.path);
            checkout_one(repo, &abs, &o.output(), None, mode, progress, &mut report)?;
        }
    }
    // As DVC lists them: directories first, then files, each by path.
    report.changes.sort_by_cached_key(|(path, is_dir, _)| {
        let mut key = path.as_os_str().to_os_string();
        if *is_dir {
            key.push("/");
        }
        (!*is_dir, key)
    });
    Ok(report)
}

/// The outputs the workspace's `dvc.lock` files record.
fn lock_outs(repo: &Repo) -> Result<Vec<crate::revisions::RecordedOut>> {
    use crate::revisions::RevError;
    crate::revisions::lock_outs_in_workspace(repo).map_err(|e| match e {
        RevError::Repo(e) => e,
        RevError::Metafile { path, source } => RepoError::Lockfile { path, source },
        other => RepoError::Lockfile {
            path: "dvc.lock".into(),
            source: Box::new(other),
        },
    })
}

/// Checks out one output into `report`; only an unsaved-data refusal and
/// unexpected errors stop the checkout.
fn checkout_one(
    repo: &Repo,
    abs: &Path,
    out: &Output,
    inside: Option<&str>,
    mode: LinkMode,
    progress: &dyn Progress,
    report: &mut CheckoutReport,
) -> Result<()> {
    let is_dir = recorded_oid(out).is_some_and(|o| o.is_dir);
    match link_output_counted(repo, abs, out, inside, mode, progress) {
        Ok((ch, counts)) => {
            report.files.add(counts);
            if ch != OutChange::Unchanged {
                report.changes.push((abs.to_path_buf(), is_dir, ch));
            }
        }
        Err(RepoError::Checkout { source, .. }) => match *source {
            CheckoutError::Unsaved(v) => {
                return Err(RepoError::Checkout {
                    path: abs.to_path_buf(),
                    source: Box::new(CheckoutError::Unsaved(v)),
                });
            }
            CheckoutError::Partial { changes, failures } => {
                if !changes.is_empty() {
                    report
                        .changes
                        .push((abs.to_path_buf(), is_dir, OutChange::Modified));
                }
                for fl in failures {
                    report.failed.push((abs.to_path_buf(), fl));
                }
            }
            other => report.failed.push((abs.to_path_buf(), other)),
        },
        Err(RepoError::Manifest { path, source }) => {
            // Only a manifest that is not there is "missing"; a corrupted or
            // unsafe one must say so (it is never used either way).
            let failure = match source {
                ManifestReadError::Missing { oid, .. } => CheckoutError::Missing {
                    oid,
                    path: path.clone(),
                },
                ManifestReadError::Corrupted { oid, actual } => CheckoutError::Corrupted {
                    oid,
                    path: path.clone(),
                    actual,
                },
                invalid @ ManifestReadError::Invalid { .. } => CheckoutError::Io {
                    path: path.clone(),
                    source: std::io::Error::new(std::io::ErrorKind::InvalidData, invalid),
                },
            };
            report.failed.push((path, failure));
        }
        Err(e) => return Err(e),
    }
    Ok(())
}
