//! `commit` of pipeline stages: the workspace state of a stage's deps and
//! outputs recorded in `dvc.lock` (or its legacy stage file), the outputs
//! saved to the cache and the run recorded in the run-cache, as after a
//! run. As in DVC, a stage whose recorded state differs needs `--force`;
//! an unchanged one is left as it is.

use crate::lockfile::{recorded_kind, recorded_md5};
use crate::record::{Ctx, Written};
use crate::repro::Options;
use crate::stage::{Origin, Stage};
use crate::status::{Change, Item, dep_state, recorded, stage_status};
use crate::targets::Split;
use crate::{Graph, Reporter, Result, msg};
use std::path::{Path, PathBuf};
use strix_data::HashKind;
use strix_dvcfile::yaml::Mapping;
use strix_repo::Repo;

/// Commits the stages of `split` (every `dvc.yaml` stage when `all`; the
/// legacy stage files are `.dvc` files, committed as such), upstream first.
/// Returns the names of the stages that changed and were committed.
pub fn commit(
    repo: &Repo,
    cwd: &Path,
    graph: &Graph,
    split: &Split,
    all: bool,
    force: bool,
    rep: &dyn Reporter,
) -> Result<Vec<String>> {
    let order: Vec<usize> = graph
        .topo_order()
        .into_iter()
        .filter(|&i| {
            split.stages.contains(&i)
                || (all && matches!(graph.stages[i].origin, Origin::DvcYaml(_)))
        })
        .collect();
    // An unchanged stage keeps its entry as it is (DVC 2 hashes included);
    // a changed one needs --force, checked before anything is saved.
    let mut changed = Vec::new();
    for i in order {
        let s = &graph.stages[i];
        // Being always changed is not a change to commit (DVC's
        // `changed_entries` leaves it out).
        let items = stage_status(repo, s, recorded(s)?.as_ref())?;
        if items.iter().all(|it| matches!(it, Item::Always)) {
            continue;
        }
        if !force {
            return Err(msg(format!(
                "unable to commit changed stage: '{}'. Use `-f|--force` to force.",
                s.name
            )));
        }
        changed.push(i);
    }
    commit_stages(repo, cwd, graph, &changed, rep)?;
    Ok(changed
        .into_iter()
        .map(|i| graph.stages[i].name.clone())
        .collect())
}

/// Records `stages` (in this order) as after a run; returns the `dvc.lock`
/// files written.
fn commit_stages(
    repo: &Repo,
    cwd: &Path,
    graph: &Graph,
    stages: &[usize],
    rep: &dyn Reporter,
) -> Result<Vec<PathBuf>> {
    let opts = Options::default();
    let mut ctx = Ctx {
        repo,
        cwd,
        opts: &opts,
        rep,
        report: Default::default(),
        order: Written::new(stages.iter().map(|&i| graph.stages[i].name.as_str())),
    };
    for &i in stages {
        ctx.commit(&graph.stages[i])?;
    }
    Ok(ctx.report.locks)
}

/// The `dvc.yaml` stages whose `dvc.lock` entry records an output, or a
/// dependency inside the repository, with DVC 2's hash (an `md5` without
/// `hash: md5`): those `cache migrate --dvc-files` rewrites, in pipeline
/// order.
pub fn legacy_stages(repo: &Repo, graph: &Graph) -> Result<Vec<usize>> {
    let mut found = Vec::new();
    for i in graph.topo_order() {
        let s = &graph.stages[i];
        if !matches!(s.origin, Origin::DvcYaml(_)) {
            continue;
        }
        let Some(lock) = recorded(s)? else { continue };
        let legacy = |list: &str, path: &str| {
            recorded_kind(Some(&lock), list, path, HashKind::Md5) == HashKind::Md5Dos2Unix
        };
        let outs = s.outs.iter().any(|o| legacy("outs", &o.path));
        let deps = s
            .deps
            .iter()
            .any(|d| d.abs.starts_with(repo.root()) && legacy("deps", &d.path));
        if outs || deps {
            found.push(i);
        }
    }
    Ok(found)
}

/// What [`migrate`] did.
#[derive(Debug, Default)]
pub struct Migrated {
    /// The `dvc.lock` files rewritten.
    pub locks: Vec<PathBuf>,
    /// Stages left as they were, because the workspace is not what their
    /// entry records.
    pub kept: Vec<String>,
}

/// Records `stages` (from [`legacy_stages`]) again with DVC 3 hashes, their
/// outputs saved to the cache, as `dvc cache migrate --dvc-files` does.
/// Unlike DVC, only a stage whose workspace is exactly what its entry
/// records is rewritten (an output that is merely missing from the cache
/// counts as unchanged: it is saved now). DVC commits a changed stage's new
/// state as if it had run, and writes a missing file's old dos2unix hash
/// under `hash: md5`.
pub fn migrate(
    repo: &Repo,
    cwd: &Path,
    graph: &Graph,
    stages: &[usize],
    rep: &dyn Reporter,
) -> Result<Migrated> {
    let mut ready = Vec::new();
    let mut done = Migrated::default();
    for &i in stages {
        let s = &graph.stages[i];
        let lock = recorded(s)?;
        if unchanged_for_migration(repo, s, lock.as_ref())? {
            ready.push(i);
        } else {
            done.kept.push(s.name.clone());
        }
    }
    done.locks = commit_stages(repo, cwd, graph, &ready, rep)?;
    Ok(done)
}

/// Whether the workspace holds what `stage`'s entry records: its status is
/// clean apart from "always changed" and outputs that are not in the cache
/// but unchanged in the workspace.
fn unchanged_for_migration(repo: &Repo, stage: &Stage, lock: Option<&Mapping>) -> Result<bool> {
    for item in stage_status(repo, stage, lock)? {
        match item {
            Item::Always => {}
            Item::Outs(changes) => {
                for c in changes {
                    let Change::Path(abs, "not in cache") = c else {
                        return Ok(false);
                    };
                    let Some(o) = stage.outs.iter().find(|o| o.abs == abs) else {
                        return Ok(false);
                    };
                    let rec = recorded_md5(lock, "outs", &o.path).and_then(|m| m.parse().ok());
                    let kind = recorded_kind(lock, "outs", &o.path, stage.hash_kind());
                    if dep_state(repo, &abs, rec, kind)?.is_some() {
                        return Ok(false);
                    }
                }
            }
            _ => return Ok(false),
        }
    }
    Ok(true)
}
