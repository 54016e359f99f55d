//! What the user's targets name among pipeline stages: the split
//! between stages and `.dvc` targets (`commit`, `status`), and the stages
//! upstream of them (`--with-deps`).

use crate::repro::resolve_targets_in;
use crate::stage::Origin;
use crate::{Graph, Result, msg};
use std::path::{Path, PathBuf};
use strix_repo::Repo;

/// Targets split between pipeline stages and the rest (`.dvc` files and
/// their outputs).
#[derive(Debug, Default)]
pub struct Split {
    /// Stage indices in the graph.
    pub(crate) stages: Vec<usize>,
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

/// `--with-deps`: the targets, plus, for those that name pipeline stages
/// (`dvc.yaml`, `dvc.yaml:name`, a stage name), every stage upstream of
/// them that has recorded outputs (as `<dvc.yaml>:<name>` targets), and
/// the `.dvc` files whose outputs those stages depend on. As in DVC, a
/// target naming an output or a `.dvc` file is not widened.
pub fn with_deps(
    repo: &Repo,
    cwd: &Path,
    graph: &Graph,
    targets: &[PathBuf],
) -> Result<Vec<PathBuf>> {
    let mut named = Vec::new();
    for t in targets {
        let text = t.to_string_lossy().into_owned();
        let is_yaml = text.contains("dvc.yaml");
        if (is_yaml || !cwd.join(t).exists())
            && let Ok(found) = resolve_targets_in(graph, cwd, &[text], false)
        {
            named.extend(found);
        }
    }
    let mut out = targets.to_vec();
    if named.is_empty() {
        return Ok(out);
    }
    let dvcfiles = strix_repo::index::load_all(repo)?;
    for i in graph.selection(&named, false) {
        let s = &graph.stages[i];
        if let Origin::DvcYaml(yaml) = &s.origin
            && !s.outs.is_empty()
            && crate::status::recorded(s)?.is_some()
        {
            out.push(PathBuf::from(format!("{}:{}", yaml.display(), s.key)));
        }
        for d in &s.deps {
            for f in &dvcfiles {
                for o in &f.file.outs {
                    let p = f.out_path(repo, o)?;
                    if (d.abs.starts_with(&p) || p.starts_with(&d.abs)) && !out.contains(&f.path) {
                        out.push(f.path.clone());
                    }
                }
            }
        }
    }
    Ok(out)
}
