//! `data status`: the tracked data compared between Git's `HEAD`, the
//! metafiles and the workspace, with what the cache or the remote lacks and
//! what Git itself sees, as DVC's `data status` reports it.
//!
//! Entries are keyed as in [`crate::diff`]: repo-relative paths, `dir/` for
//! a directory output and, with `granular`, `dir/file` for each file in it.

use crate::diff::{Changes, View, compare, view_at_rev, view_recorded, view_workspace};
use crate::outputs::in_cache;
use crate::repo::Repo;
use crate::revisions::RevError;
use crate::transfer::{SyncError, open_remote};
use std::path::PathBuf;
use strix_data::{Layout, Progress};
use strix_remote::{ObjectRef, Transfer};

/// What `data status` is asked for.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// Repo-relative targets (no trailing `/`); none means everything.
    pub targets: Vec<String>,
    /// `--granular`: the files inside directory outputs too.
    pub granular: bool,
    /// `--unchanged`.
    pub unchanged: bool,
    /// `--untracked-files all`.
    pub untracked: bool,
    /// `--not-in-remote`, with `-r` (default: `core.remote`).
    pub not_in_remote: bool,
    pub remote: Option<String>,
}

/// The report, section by section, in DVC's order.
#[derive(Debug, Default)]
pub struct DataStatus {
    /// Recorded entries whose data the cache lacks (a file inside a
    /// directory output stands with its directory).
    pub not_in_cache: Vec<String>,
    /// Recorded entries whose data the remote lacks (`--not-in-remote`).
    pub not_in_remote: Vec<String>,
    /// `HEAD` against the metafiles.
    pub committed: Changes,
    /// The metafiles against the workspace.
    pub uncommitted: Changes,
    /// Files Git does not track nor ignore, absolute (`--untracked-files`).
    pub untracked: Vec<PathBuf>,
    /// Entries the same in `HEAD`, the metafiles and the workspace
    /// (`--unchanged`), sorted.
    pub unchanged: Vec<String>,
    /// Git has changes of its own (staged, unstaged, or listed untracked).
    pub git_dirty: bool,
    /// The Git repository has no commit yet.
    pub empty_git: bool,
}

/// Why `data status` failed.
#[derive(Debug, thiserror::Error)]
pub enum DataStatusError {
    /// Metafiles or revisions could not be read.
    #[error(transparent)]
    Revisions(#[from] RevError),
    /// The remote could not be asked (`--not-in-remote`).
    #[error(transparent)]
    Remote(#[from] SyncError),
    /// Git's own status could not be computed.
    #[error(transparent)]
    Git(#[from] strix_git::StatusError),
}

/// Whether the key `k` falls under one of `targets` (all keys do without
/// targets).
pub fn under(targets: &[String], k: &str) -> bool {
    targets.is_empty()
        || targets.iter().any(|t| {
            k == t
                || k.strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

/// Computes the report. The workspace is hashed through the state database
/// (save it afterwards).
pub fn data_status(
    repo: &Repo,
    opts: &Options,
    progress: &dyn Progress,
) -> Result<DataStatus, DataStatusError> {
    let keep = |k: &str| under(&opts.targets, k);
    let filter = |v: View| -> View { v.into_iter().filter(|(k, _)| keep(k)).collect() };
    let recorded = filter(view_recorded(repo, opts.granular)?);
    let empty_git = repo.git().is_some_and(|g| !g.head_exists());
    let head = if repo.git().is_some() && !empty_git {
        filter(view_at_rev(repo, "HEAD", opts.granular)?)
    } else {
        View::new()
    };
    let work = filter(view_workspace(repo, opts.granular, progress)?);

    let dirs: Vec<&String> = recorded.keys().filter(|k| k.ends_with('/')).collect();
    let not_in_cache = recorded
        .iter()
        .filter(|(path, _)| {
            path.ends_with('/') || !dirs.iter().any(|d| path.starts_with(d.as_str()))
        })
        .filter(|(_, oid)| {
            !in_cache(repo, oid, Layout::V3, true).0 && !in_cache(repo, oid, Layout::Legacy, true).0
        })
        .map(|(path, _)| path.clone())
        .collect();
    let not_in_remote = if opts.not_in_remote {
        not_in_remote(
            repo,
            opts.granular,
            &keep,
            opts.remote.as_deref(),
            None,
            progress,
        )?
    } else {
        Vec::new()
    };
    let (git_dirty, untracked) = match repo.git() {
        Some(g) => {
            let st = g.status(opts.untracked)?;
            let untracked = st
                .untracked
                .iter()
                .map(|rel| g.workdir().join(rel))
                .filter(|abs| abs.starts_with(repo.root()) && keep(&repo.rel(abs)))
                .collect();
            (st.dirty, untracked)
        }
        None => (false, Vec::new()),
    };
    let unchanged = if opts.unchanged {
        recorded
            .iter()
            .filter(|(k, v)| work.get(*k) == Some(*v) && head.get(*k) == Some(*v))
            .map(|(k, _)| k.clone())
            .collect()
    } else {
        Vec::new()
    };
    Ok(DataStatus {
        not_in_cache,
        not_in_remote,
        committed: compare(&head, &recorded),
        uncommitted: compare(&recorded, &work),
        untracked,
        unchanged,
        git_dirty,
        empty_git,
    })
}

/// `data status --not-in-remote`: the workspace's recorded outputs (those
/// that are pushed) whose object the remote lacks, keyed as `data status`
/// keys them (`dir/` for a directory, which counts as missing when its
/// `.dir` object is; with `granular` also each file below it), sorted.
/// `keep` filters the keys (the command's targets). An output with its own
/// `remote:` is looked for there, the others on `remote` (default:
/// `core.remote`), as DVC does.
fn not_in_remote(
    repo: &Repo,
    granular: bool,
    keep: &dyn Fn(&str) -> bool,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<Vec<String>, SyncError> {
    // Per remote: (data status key, object).
    type Keyed = Vec<(String, ObjectRef)>;
    let mut groups: Vec<(Option<String>, Keyed)> = Vec::new();
    for o in crate::revisions::outs_in_workspace(repo)? {
        if !o.cache || !o.push {
            continue;
        }
        let mut items = Vec::new();
        let mut key = o.path.clone();
        if o.obj.oid.is_dir {
            key.push('/');
            if granular && let Ok(m) = repo.odb().read_manifest(&o.obj.oid, o.obj.layout) {
                for (member, obj) in m
                    .entries()
                    .iter()
                    .zip(crate::transfer::members(&m, o.obj.layout))
                {
                    items.push((format!("{key}{}", member.relpath), obj));
                }
            }
        }
        items.push((key, o.obj));
        items.retain(|(k, _)| keep(k));
        let own = o.remote.clone().or_else(|| remote.map(str::to_owned));
        match groups.iter_mut().find(|(r, _)| *r == own) {
            Some((_, g)) => g.extend(items),
            None => groups.push((own, items)),
        }
    }
    let mut missing = Vec::new();
    for (name, items) in groups {
        if items.is_empty() {
            continue;
        }
        let r = open_remote(repo, name.as_deref())?;
        let t = Transfer::new(r.backend.as_ref(), repo.odb(), jobs);
        let objs: Vec<ObjectRef> = items.iter().map(|(_, o)| *o).collect();
        let there = t
            .remote_has(&objs, progress)
            .map_err(|source| SyncError::Query {
                remote: r.name.clone(),
                source,
            })?;
        missing.extend(
            items
                .into_iter()
                .filter(|(_, o)| !there.contains(o))
                .map(|(k, _)| k),
        );
    }
    missing.sort();
    missing.dedup();
    Ok(missing)
}

/// The changes of `c` grouped by state, as DVC groups them: every change
/// in the order of its path (compared component by component), each state
/// listed where its first path comes.
pub fn by_state(c: &Changes) -> Vec<(&'static str, Vec<String>)> {
    let mut all: Vec<(&'static str, &str)> = Vec::new();
    all.extend(c.added.iter().map(|(k, _)| ("added", k.as_str())));
    all.extend(c.deleted.iter().map(|(k, _)| ("deleted", k.as_str())));
    all.extend(c.modified.iter().map(|(k, _, _)| ("modified", k.as_str())));
    all.sort_by(|a, b| a.1.split('/').cmp(b.1.split('/')));
    let mut out: Vec<(&'static str, Vec<String>)> = Vec::new();
    for (state, key) in all {
        match out.iter_mut().find(|(s, _)| *s == state) {
            Some((_, keys)) => keys.push(key.to_string()),
            None => out.push((state, vec![key.to_string()])),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_data::Oid;

    #[test]
    fn targets_take_their_own_paths_and_what_is_below() {
        let t = vec!["data".to_string(), "f.txt".to_string()];
        for k in ["data/", "data/a", "data", "f.txt"] {
            assert!(under(&t, k), "{k}");
        }
        for k in ["database/", "f.txt2", "other/data"] {
            assert!(!under(&t, k), "{k}");
        }
        assert!(under(&[], "anything"));
    }

    #[test]
    fn states_come_in_the_order_of_their_first_path() {
        let o = Oid::file(strix_data::oid::Md5::EMPTY);
        let c = Changes {
            added: vec![("data/c".into(), o), ("a-b".into(), o)],
            modified: vec![("data/".into(), o, o)],
            deleted: vec![("a/x".into(), o)],
            not_in_cache: vec![],
        };
        // Component order: "a" < "a-b" < "data" ("a/x" before "a-b", unlike plain strings).
        assert_eq!(
            by_state(&c),
            vec![
                ("deleted", vec!["a/x".to_string()]),
                ("added", vec!["a-b".to_string(), "data/c".to_string()]),
                ("modified", vec!["data/".to_string()]),
            ]
        );
    }
}
