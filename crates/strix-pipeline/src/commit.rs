//! `commit` of pipeline stages: the workspace state of a stage's deps and
//! outputs recorded in `dvc.lock` (or its legacy stage file), the outputs
//! saved to the cache and the run recorded in the run-cache, as after a
//! run. As in DVC, a stage whose recorded state differs needs `--force`;
//! an unchanged one is left as it is.

use crate::record::{Ctx, Written};
use crate::repro::{Options, resolve_targets_in};
use crate::stage::Origin;
use crate::status::{Item, recorded, stage_status};
use crate::{Graph, Reporter, Result, msg};
use std::path::{Path, PathBuf};
use strix_repo::Repo;

/// The targets of a `commit`, split between pipeline stages and the rest
/// (`.dvc` files and their outputs).
#[derive(Debug, Default)]
pub struct Split {
    /// Stage indices in the graph.
    stages: Vec<usize>,
    /// Targets that name no stage.
    pub rest: Vec<PathBuf>,
}

/// Which `targets` name pipeline stages: a `dvc.yaml` (all its stages),
/// `dvc.yaml:name`, a stage name of the `dvc.yaml` in `cwd` (when no such
/// path exists), or an output of a stage.
pub fn split_targets(graph: &Graph, cwd: &Path, targets: &[PathBuf]) -> Result<Split> {
    let mut split = Split::default();
    for t in targets {
        let text = t.to_string_lossy();
        let abs = strix_repo::repo::normalize(&cwd.join(t));
        let named = text.contains("dvc.yaml:") || t.file_name().is_some_and(|n| n == "dvc.yaml");
        if named {
            split
                .stages
                .extend(resolve_targets_in(graph, cwd, &[text.into_owned()], false)?);
            continue;
        }
        if !abs.exists() && cwd.join("dvc.yaml").exists() && !text.contains('/') {
            let found =
                resolve_targets_in(graph, cwd, &[text.to_string()], false).map_err(|e| {
                    msg(format!(
                        "'{text}' does not exist as an output or a stage name in 'dvc.yaml': {e}"
                    ))
                })?;
            split.stages.extend(found);
            continue;
        }
        match graph.stages.iter().position(|s| {
            matches!(s.origin, Origin::DvcYaml(_)) && s.outs.iter().any(|o| o.abs == abs)
        }) {
            Some(i) => split.stages.push(i),
            None => split.rest.push(t.clone()),
        }
    }
    split.stages.sort_unstable();
    split.stages.dedup();
    Ok(split)
}

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
    let opts = Options::default();
    let mut ctx = Ctx {
        repo,
        cwd,
        opts: &opts,
        rep,
        report: Default::default(),
        order: Written::new(changed.iter().map(|&i| graph.stages[i].name.as_str())),
    };
    let mut done = Vec::new();
    for i in changed {
        let s = &graph.stages[i];
        ctx.commit(s)?;
        done.push(s.name.clone());
    }
    Ok(done)
}
