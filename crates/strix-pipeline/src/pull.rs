//! `repro --pull`: fetching the recorded data of stages from the remote
//! (through strix-repo's transfer engine) instead of running them.

use crate::graph::Graph;
use crate::stage::Stage;
use crate::{Reporter, Result, msg};
use std::path::Path;
use strix_data::{Layout, NoProgress, Oid};
use strix_dvcfile::yaml::Mapping;
use strix_dvcfile::{Output, yaml::Value};
use strix_remote::ObjectRef;
use strix_repo::Repo;
use strix_repo::checkout::{LinkMode, link_output};
use strix_repo::transfer::{FetchSummary, UsedOut, fetch_outs};

/// The recorded entry (`md5`, `size`, `nfiles`) of `path` in `list`.
fn recorded(entry: Option<&Mapping>, list: &str, path: &str) -> Option<Output> {
    let e = entry?
        .get(list)?
        .as_seq()?
        .iter()
        .filter_map(Value::as_map)
        .find(|e| e.get("path").and_then(Value::as_str) == Some(path))?;
    let mut out = Output::new(path);
    out.md5 = Some(e.get("md5")?.as_str()?.to_owned());
    if e.get("hash").is_none() {
        out.hash = None;
    }
    let num = |k: &str| match e.get(k) {
        Some(Value::Int(i)) => u64::try_from(*i).ok(),
        _ => None,
    };
    out.size = num("size");
    out.nfiles = num("nfiles");
    Some(out)
}

/// Fetches the objects of `outs` (absolute path, recorded output) from
/// the remote each names (`remote:`), else the default one.
fn fetch(repo: &Repo, outs: &[(std::path::PathBuf, Output)]) -> Result<FetchSummary> {
    let used: Vec<UsedOut> = outs
        .iter()
        .filter_map(|(abs, o)| {
            let oid: Oid = o.md5.as_deref()?.parse().ok()?;
            Some(UsedOut {
                path: abs.clone(),
                obj: ObjectRef {
                    oid,
                    layout: if o.is_legacy() {
                        Layout::Legacy
                    } else {
                        Layout::V3
                    },
                },
                remote: o.remote.clone(),
                size: o.size,
                kind: strix_dvcfile::OutKind::Out,
            })
        })
        .collect();
    if used.is_empty() {
        return Ok(FetchSummary::default());
    }
    fetch_outs(repo, used, None, None, &NoProgress).map_err(|e| msg(format!("failed to pull: {e}")))
}

/// Fetches `outs` and checks them out.
pub(crate) fn fetch_and_link(repo: &Repo, outs: &[(std::path::PathBuf, Output)]) -> Result<()> {
    if !fetch(repo, outs)?.missing.is_empty() {
        return Err(msg("some data is missing from the remote"));
    }
    for (abs, o) in outs {
        link_output(repo, abs, o, LinkMode::ForceRelink, &NoProgress)?;
    }
    Ok(())
}

/// `repro --pull` restoring a stage from a run-cache entry: fetches the
/// entry's objects (`outs`: absolute path, recorded output) from the
/// default remote. Objects the remote lacks are warned about as DVC does
/// (the stage then runs); other failures are warnings too.
pub fn fetch_for_restore(repo: &Repo, outs: &[(std::path::PathBuf, Output)], rep: &dyn Reporter) {
    match fetch(repo, outs) {
        Ok(s) if !s.missing.is_empty() => {
            let mut text = String::from(
                "Some of the cache files do not exist neither locally nor on remote. Missing cache files:",
            );
            for m in &s.missing {
                text.push_str(&format!("\nname: {}, md5: {}", repo.rel(&m.path), m.oid));
            }
            rep.warn(&text);
        }
        Ok(_) => {}
        Err(e) => rep.warn(&e.to_string()),
    }
}

/// Pulls the recorded outputs of an otherwise unchanged `stage`.
pub fn pull_stage(repo: &Repo, stage: &Stage, entry: Option<&Mapping>) -> Result<()> {
    let mut outs = Vec::new();
    for o in stage.outs.iter().filter(|o| o.cache) {
        let Some(mut rec) = recorded(entry, "outs", &o.path) else {
            return Err(msg(format!("'{}' has no recorded data", o.path)));
        };
        rec.remote = o.remote.clone();
        outs.push((o.abs.clone(), rec));
    }
    fetch_and_link(repo, &outs)
}

/// Pulls the missing deps of `stage` that a `.dvc` file or an upstream
/// stage records (DVC's `_pull_missing_deps`); failures are left for the
/// stage run to report.
pub fn pull_missing_deps(repo: &Repo, graph: &Graph, stage: &Stage) {
    let missing: Vec<&Path> = stage
        .deps
        .iter()
        .map(|d| d.abs.as_path())
        .filter(|p| std::fs::symlink_metadata(p).is_err())
        .collect();
    if missing.is_empty() {
        return;
    }
    let mut outs = Vec::new();
    if let Ok(files) = strix_repo::index::load_all(repo) {
        for f in &files {
            for o in &f.file.outs {
                if let Ok(abs) = f.out_path(repo, o)
                    && missing.contains(&abs.as_path())
                {
                    outs.push((abs, o.clone()));
                }
            }
        }
    }
    for up in &graph.stages {
        let entry = crate::status::recorded(up).ok().flatten();
        for o in &up.outs {
            if missing.contains(&o.abs.as_path())
                && let Some(mut rec) = recorded(entry.as_ref(), "outs", &o.path)
            {
                rec.remote = o.remote.clone();
                outs.push((o.abs.clone(), rec));
            }
        }
    }
    let _ = fetch_and_link(repo, &outs);
}
