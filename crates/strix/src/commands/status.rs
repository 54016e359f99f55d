//! `strix status`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Limit to these .dvc files or outputs.
    targets: Vec<PathBuf>,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    /// Compare the cache with a remote.
    #[arg(short, long)]
    cloud: bool,
    /// The remote to compare with (implies --cloud; default: core.remote).
    #[arg(short, long)]
    remote: Option<String>,
    /// Number of parallel remote queries.
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    #[command(flatten)]
    revs: super::fetch::RevArgs,
    /// Also the stages upstream of the stages named as targets.
    #[arg(short = 'd', long)]
    with_deps: bool,
    /// Targets may be directories: everything tracked under them (strix
    /// takes a directory this way with or without this flag).
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Accepted for DVC's sake: strix has no imports to check for updates.
    #[arg(long)]
    no_updates: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    if a.cloud || a.remote.is_some() {
        return run_cloud(a, p);
    }
    let (mut repo, cwd) = super::open_repo_settled()?;
    let bars = Bars::new(p.quiet || a.json);
    // Stages named by the targets (all without targets), then the `.dvc`
    // files the other targets name (all without targets).
    let pipeline =
        strix_pipeline::status::pipeline_status_for(&repo, &cwd, &a.targets, a.with_deps);
    let result = match &pipeline {
        Ok((_, rest)) if !a.targets.is_empty() && rest.is_empty() => Ok(Vec::new()),
        Ok((_, rest)) if !a.targets.is_empty() => {
            strix_repo::status::status(&repo, &cwd, rest, &bars)
        }
        _ => strix_repo::status::status(&repo, &cwd, &a.targets, &bars),
    };
    repo.save_state();
    let (pipeline, _) = pipeline.map_err(super::pipeline_common::failure)?;
    let changed = result?;
    for name in &pipeline.frozen {
        p.warn(strix_pipeline::status::frozen_warning(name));
    }
    let (stages, nstages) = (pipeline.changed, pipeline.total);
    let show = |path: &std::path::Path| super::display_rel(&cwd, path);
    if a.json {
        let mut obj = serde_json::Map::new();
        for (name, v) in strix_pipeline::status::json_entries(&stages, &show) {
            obj.insert(name, v);
        }
        for f in &changed {
            let mut outs = serde_json::Map::new();
            for (path, st) in &f.outs {
                outs.insert(
                    super::display_rel(&cwd, path),
                    serde_json::Value::String(st.as_str().into()),
                );
            }
            let mut entry = serde_json::Map::new();
            entry.insert("changed outs".into(), serde_json::Value::Object(outs));
            obj.insert(
                super::display_rel(&cwd, &f.dvcfile),
                serde_json::Value::Array(vec![serde_json::Value::Object(entry)]),
            );
        }
        p.json(&serde_json::Value::Object(obj));
    } else if changed.is_empty() && stages.is_empty() {
        let any = nstages > 0 || !strix_repo::index::find_dvcfiles(&repo).is_empty();
        if any {
            p.out("Data and pipelines are up to date.");
        } else {
            p.out("There are no data or pipelines tracked in this project yet.");
            p.out("See <https://dvc.org/doc/start> to get started!");
        }
    } else {
        for line in strix_pipeline::status::text_lines(&stages, &show) {
            p.out(line);
        }
        for f in &changed {
            p.out(format!("{}:", super::display_rel(&cwd, &f.dvcfile)));
            p.out("\tchanged outs:");
            for (path, st) in &f.outs {
                p.out(format!(
                    "\t\t{:<20}{}",
                    format!("{}:", st.as_str()),
                    super::display_rel(&cwd, path)
                ));
            }
        }
    }
    let clean = changed.is_empty() && stages.is_empty();
    Ok(if clean || !p.quiet { 0 } else { 1 })
}

/// `status --cloud`: the cache compared with a remote.
fn run_cloud(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo_settled()?;
    let bars = Bars::new(p.quiet || a.json);
    let scope = a.revs.scope();
    let jobs = a.jobs.map(|j| j as usize);
    let targets = if a.with_deps {
        super::fetch::with_deps(&repo, &cwd, &a.targets)?
    } else {
        a.targets.clone()
    };
    // The `.dvc` files' and the pipelines' outputs, and the revisions'.
    // What a push would send: `push: false` outputs are left out, as DVC
    // leaves them out.
    let result = strix_repo::revisions::used_outs_in_scope(&repo, &cwd, &targets, true, &scope)
        .map_err(strix_repo::transfer::SyncError::from)
        .and_then(|outs| {
            strix_repo::transfer::cloud_status_outs(&repo, outs, a.remote.as_deref(), jobs, &bars)
        });
    repo.save_state();
    let st = result.map_err(|e| {
        let code = e.exit_code();
        Failure::new(anyhow::Error::new(e), code)
    })?;
    super::fetch::warn_missing(p, &cwd, &st.missing_dirs);
    let mut lines: Vec<(String, &'static str)> = st
        .entries
        .iter()
        .map(|e| {
            let mut name = super::display_rel(&cwd, &e.path);
            if let Some(m) = &e.member {
                name.push('/');
                name.push_str(m);
            }
            (name, e.state.as_str())
        })
        .collect();
    lines.sort();
    lines.dedup();
    if a.json {
        let mut obj = serde_json::Map::new();
        for (name, state) in &lines {
            obj.insert(name.clone(), serde_json::Value::String((*state).into()));
        }
        p.json(&serde_json::Value::Object(obj));
    } else if lines.is_empty() {
        p.out(format!("Cache and remote '{}' are in sync.", st.remote));
    } else {
        for (name, state) in &lines {
            p.out(format!("\t{:<20}{name}", format!("{state}:")));
        }
    }
    Ok(if lines.is_empty() || !p.quiet { 0 } else { 1 })
}
