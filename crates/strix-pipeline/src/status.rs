//! Change detection for pipeline stages, in the shape of `dvc status`.

use crate::graph::Graph;
use crate::lockfile::{LockDoc, measure_kind, recorded_kind, recorded_md5};
use crate::params;
use crate::stage::Stage;
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{HashKind, Layout, Oid};
use strix_dvcfile::yaml::Mapping;
use strix_repo::Repo;

/// One changed path or params file.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// A dep or out path and its state (`modified`, `deleted`, `new`,
    /// `not in cache`).
    Path(PathBuf, &'static str),
    /// A whole params file's state (`deleted`, `new`).
    ParamsFile(PathBuf, &'static str),
    /// Changed keys of a params file.
    ParamsKeys(PathBuf, Vec<(String, &'static str)>),
}

/// An entry of a stage's status list.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// `changed deps`.
    Deps(Vec<Change>),
    /// `changed outs`.
    Outs(Vec<Change>),
    /// `always changed`.
    Always,
    /// `changed command`.
    Command,
    /// `changed checksum` (legacy `.dvc` stages).
    Checksum,
}

/// The status of one changed stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageStatus {
    /// Stage name.
    pub name: String,
    /// Its changes, in DVC's order.
    pub items: Vec<Item>,
}

fn out_state(
    repo: &Repo,
    abs: &Path,
    recorded: Option<&str>,
    cache: bool,
    kind: HashKind,
) -> Result<Option<&'static str>> {
    let rec: Option<Oid> = recorded.and_then(|s| s.parse().ok());
    if let Some(oid) = &rec
        && cache
        && !strix_repo::outputs::in_cache(repo, oid, Layout::for_kind(kind), true).0
    {
        return Ok(Some("not in cache"));
    }
    dep_state(repo, abs, rec, kind)
}

pub(crate) fn dep_state(
    repo: &Repo,
    abs: &Path,
    rec: Option<Oid>,
    kind: HashKind,
) -> Result<Option<&'static str>> {
    Ok(match measure_kind(repo, abs, kind, Save::HashOnly)? {
        None => Some("deleted"),
        Some(m) if Some(m.oid) != rec => Some("modified"),
        Some(_) => None,
    })
}

/// The params part of a stage's lock entry for `file`.
fn locked_params<'a>(lock: Option<&'a Mapping>, file: &str) -> Option<&'a Mapping> {
    lock?.get("params")?.as_map()?.get(file)?.as_map()
}

/// Changes of `stage` against its lock entry (empty: unchanged, apart from
/// callback stages which [`needs_run`] treats as always changed).
pub fn stage_status(repo: &Repo, stage: &Stage, lock: Option<&Mapping>) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    if !stage.frozen {
        let mut deps = Vec::new();
        for d in &stage.deps {
            let rec = recorded_md5(lock, "deps", &d.path).and_then(|s| s.parse().ok());
            let kind = recorded_kind(lock, "deps", &d.path, stage.hash_kind());
            if let Some(st) = dep_state(repo, &d.abs, rec, kind)? {
                deps.push(Change::Path(d.abs.clone(), st));
            }
        }
        for p in &stage.params {
            let abs = stage.wdir.join(&p.file);
            let Some(actual) = params::current(&stage.wdir, p)? else {
                deps.push(Change::ParamsFile(abs, "deleted"));
                continue;
            };
            let Some(info) = locked_params(lock, &p.file) else {
                deps.push(Change::ParamsFile(abs, "new"));
                continue;
            };
            let mut keys: Vec<String> = actual.iter().map(|(k, _)| k.clone()).collect();
            if p.keys.is_none() {
                for (k, _) in info {
                    if let Some(k) = k.as_str()
                        && !keys.iter().any(|x| x == k)
                    {
                        keys.push(k.to_owned());
                    }
                }
            } else if let Some(order) = &p.keys {
                keys = order.clone();
            }
            let mut changed = Vec::new();
            for k in keys {
                let cur = actual
                    .iter()
                    .find(|(x, _)| *x == k)
                    .and_then(|(_, v)| v.as_ref());
                let st = match (cur, info.get(&k)) {
                    (None, _) => "deleted",
                    (Some(_), None) => "new",
                    (Some(a), Some(b)) if !params::py_eq(a, b) => "modified",
                    _ => continue,
                };
                changed.push((k, st));
            }
            if !changed.is_empty() {
                deps.push(Change::ParamsKeys(abs, changed));
            }
        }
        if !deps.is_empty() {
            items.push(Item::Deps(deps));
        }
    }
    let mut outs = Vec::new();
    for o in &stage.outs {
        let rec = recorded_md5(lock, "outs", &o.path);
        let kind = recorded_kind(lock, "outs", &o.path, stage.hash_kind());
        if let Some(st) = out_state(repo, &o.abs, rec, o.cache, kind)? {
            outs.push(Change::Path(o.abs.clone(), st));
        }
    }
    if !outs.is_empty() {
        items.push(Item::Outs(outs));
    }
    // Shown even for frozen stages (DVC's `_status_always_changed`).
    if stage.always_changed || stage.is_callback() {
        items.push(Item::Always);
    }
    if stage.is_legacy() {
        let recorded = lock.and_then(|l| l.get("md5")).and_then(|v| v.as_str());
        if lock.is_none_or(|l| recorded != Some(crate::legacy::compute_md5(l).as_str())) {
            items.push(Item::Checksum);
        }
    } else if let Some(l) = lock
        && l.get("cmd") != Some(&stage.cmd)
    {
        items.push(Item::Command);
    }
    Ok(items)
}

/// What `stage`'s recorded state is compared with: its entry in the
/// `dvc.lock` beside its `dvc.yaml`, or for a legacy stage its own `.dvc`
/// file.
pub fn recorded(stage: &Stage) -> Result<Option<Mapping>> {
    match &stage.origin {
        crate::stage::Origin::DvcYaml(file) => {
            let dir = file.parent().unwrap_or(Path::new("."));
            Ok(LockDoc::load_shared(dir)?.stage(&stage.key).cloned())
        }
        crate::stage::Origin::Legacy(path) => {
            Ok(crate::legacy::read_doc(path, &stage.name)?.map(|(_, doc)| doc))
        }
    }
}

/// Whether repro must run the stage, given its status items: DVC's
/// `Stage.changed()`, where a frozen stage's deps (and "always changed")
/// do not count.
pub fn needs_run(stage: &Stage, items: &[Item]) -> bool {
    items
        .iter()
        .any(|i| !(stage.frozen && matches!(i, Item::Always)))
}

/// The warning DVC prints for a frozen stage in `status`.
pub fn frozen_warning(name: &str) -> String {
    format!(
        "stage: '{name}' is frozen. Its dependencies are not going to be shown in the status output."
    )
}

/// The status of every pipeline of the repository.
#[derive(Debug, Default)]
pub struct PipelineStatus {
    /// Changed stages only, upstream first.
    pub changed: Vec<StageStatus>,
    /// Number of stages.
    pub total: usize,
    /// Names of frozen stages (DVC warns about each).
    pub frozen: Vec<String>,
}

/// Status of every stage of every `dvc.yaml` (and legacy stage file).
/// Names are relative to `cwd`.
pub fn pipeline_status(repo: &Repo, cwd: &Path) -> Result<PipelineStatus> {
    Ok(pipeline_status_for(repo, cwd, &[], false)?.0)
}

/// Status of the stages that `targets` name (`dvc.yaml`, `dvc.yaml:name`,
/// a stage name, a stage's output; every stage without targets), with
/// `with_deps` also of the stages upstream of them, upstream first. Returns
/// it with the targets that name no stage (`.dvc` files and their outputs).
pub fn pipeline_status_for(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    with_deps: bool,
) -> Result<(PipelineStatus, Vec<PathBuf>)> {
    let graph = Graph::of_repo(repo, cwd)?;
    let (selected, rest) = if targets.is_empty() {
        (vec![true; graph.stages.len()], Vec::new())
    } else {
        let split = crate::targets::split_targets(&graph, cwd, targets)?;
        let mut selected = vec![false; graph.stages.len()];
        if !split.stages.is_empty() {
            let chosen = if with_deps {
                graph.selection(&split.stages, false)
            } else {
                split.stages.clone()
            };
            for i in chosen {
                selected[i] = true;
            }
        }
        (selected, split.rest)
    };
    let mut result = PipelineStatus::default();
    for i in graph.topo_order() {
        if !selected[i] {
            continue;
        }
        result.total += 1;
        let s = &graph.stages[i];
        if s.frozen {
            result.frozen.push(s.name.clone());
        }
        let items = stage_status(repo, s, recorded(s)?.as_ref())?;
        if !items.is_empty() {
            result.changed.push(StageStatus {
                name: s.name.clone(),
                items,
            });
        }
    }
    Ok((result, rest))
}

fn fmt_state(state: &str, path: &str) -> String {
    format!("{:<20}{path}", format!("{state}:"))
}

/// `dvc status` text lines for `st`; `show` renders a path.
pub fn text_lines(st: &[StageStatus], show: &dyn Fn(&Path) -> String) -> Vec<String> {
    let mut lines = Vec::new();
    for s in st {
        lines.push(format!("{}:", s.name));
        for item in &s.items {
            let (title, changes) = match item {
                Item::Deps(c) => ("changed deps", c),
                Item::Outs(c) => ("changed outs", c),
                Item::Always => {
                    lines.push("\talways changed".into());
                    continue;
                }
                Item::Command => {
                    lines.push("\tchanged command".into());
                    continue;
                }
                Item::Checksum => {
                    lines.push("\tchanged checksum".into());
                    continue;
                }
            };
            lines.push(format!("\t{title}:"));
            for c in changes {
                match c {
                    Change::Path(p, st) | Change::ParamsFile(p, st) => {
                        lines.push(format!("\t\t{}", fmt_state(st, &show(p))));
                    }
                    Change::ParamsKeys(p, keys) => {
                        lines.push(format!("\t\t{}:", show(p)));
                        for (k, st) in keys {
                            lines.push(format!("\t\t\t{}", fmt_state(st, k)));
                        }
                    }
                }
            }
        }
    }
    lines
}

/// `dvc status --json` entries for `st`.
pub fn json_entries(
    st: &[StageStatus],
    show: &dyn Fn(&Path) -> String,
) -> Vec<(String, serde_json::Value)> {
    use serde_json::{Map, Value as J};
    st.iter()
        .map(|s| {
            let list = s
                .items
                .iter()
                .map(|item| {
                    let (title, changes) = match item {
                        Item::Deps(c) => ("changed deps", c),
                        Item::Outs(c) => ("changed outs", c),
                        Item::Always => return J::String("always changed".into()),
                        Item::Command => return J::String("changed command".into()),
                        Item::Checksum => return J::String("changed checksum".into()),
                    };
                    let mut m = Map::new();
                    for c in changes {
                        match c {
                            Change::Path(p, st) | Change::ParamsFile(p, st) => {
                                m.insert(show(p), J::String((*st).into()));
                            }
                            Change::ParamsKeys(p, keys) => {
                                let mut km = Map::new();
                                for (k, st) in keys {
                                    km.insert(k.clone(), J::String((*st).into()));
                                }
                                m.insert(show(p), J::Object(km));
                            }
                        }
                    }
                    let mut o = Map::new();
                    o.insert(title.into(), J::Object(m));
                    J::Object(o)
                })
                .collect();
            (s.name.clone(), J::Array(list))
        })
        .collect()
}

/// Current values of a params dependency as lock data; a missing key or file
/// is an error (DVC refuses to run such a stage).
pub fn params_for_lock(stage: &Stage) -> Result<params::LockParams> {
    let mut out = Vec::new();
    for p in &stage.params {
        let Some(actual) = params::current(&stage.wdir, p)? else {
            return Err(Error::Msg(format!(
                "Parameters file '{}' does not exist (stage '{}')",
                p.file, stage.name
            )));
        };
        let mut kv = Vec::new();
        let mut missing = Vec::new();
        for (k, v) in actual {
            match v {
                Some(v) => kv.push((k, v)),
                None => missing.push(k),
            }
        }
        if !missing.is_empty() {
            return Err(Error::Msg(format!(
                "Parameters '{}' are missing from '{}'.",
                missing.join(", "),
                p.file
            )));
        }
        out.push((p.file.clone(), kv));
    }
    Ok(out)
}
