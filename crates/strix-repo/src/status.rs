//! `status` for `.dvc` files: which outputs differ from what their
//! metafile records.

use crate::error::Result;
use crate::index::resolve_targets;
use crate::outputs::{in_cache, kind_of, recorded_oid, summarize};
use crate::repo::Repo;
use std::path::{Path, PathBuf};
use strix_data::{Layout, Progress};

/// The state of one output, as DVC names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutStatus {
    Modified,
    Deleted,
    New,
    NotInCache,
}

impl OutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutStatus::Modified => "modified",
            OutStatus::Deleted => "deleted",
            OutStatus::New => "new",
            OutStatus::NotInCache => "not in cache",
        }
    }
}

/// Changes of one `.dvc` file.
#[derive(Debug, Clone)]
pub struct FileStatus {
    /// The `.dvc` file (absolute).
    pub dvcfile: PathBuf,
    /// Output paths (absolute) and their states.
    pub outs: Vec<(PathBuf, OutStatus)>,
}

/// Status of the targeted `.dvc` files; only changed ones are returned.
pub fn status(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    progress: &dyn Progress,
) -> Result<Vec<FileStatus>> {
    let files = resolve_targets(repo, cwd, targets)?;
    let mut result = Vec::new();
    for f in &files {
        let mut outs = Vec::new();
        for out in &f.file.outs {
            let abs = f.out_path(repo, out)?;
            let kind = kind_of(out);
            let layout = Layout::for_kind(kind);
            let st = match summarize(repo, &abs, kind, progress)? {
                None => Some(OutStatus::Deleted),
                Some(m) => match recorded_oid(out) {
                    None => Some(OutStatus::New),
                    Some(rec) if rec != m.oid => Some(OutStatus::Modified),
                    Some(rec) => {
                        if !out.cache || in_cache(repo, &rec, layout, true).0 {
                            None
                        } else {
                            Some(OutStatus::NotInCache)
                        }
                    }
                },
            };
            if let Some(st) = st {
                outs.push((abs, st));
            }
        }
        if !outs.is_empty() {
            result.push(FileStatus {
                dvcfile: f.path.clone(),
                outs,
            });
        }
    }
    Ok(result)
}
