//! `strix data status`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use serde_json::{Map, Value, json};
use strix_repo::diff::{Changes, compare, view_at_rev, view_recorded, view_workspace};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: DataCmd,
}

#[derive(Debug, clap::Subcommand)]
enum DataCmd {
    /// Show changes of tracked data between HEAD, the metafiles and the workspace.
    Status(StatusArgs),
}

#[derive(Debug, clap::Args)]
struct StatusArgs {
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Show changes inside tracked directories.
    #[arg(long)]
    granular: bool,
    /// Also list unchanged outputs.
    #[arg(long)]
    unchanged: bool,
}

fn section(c: &Changes) -> Map<String, Value> {
    let mut m = Map::new();
    let list = |v: Vec<String>| Value::Array(v.into_iter().map(Value::String).collect());
    if !c.added.is_empty() {
        m.insert(
            "added".into(),
            list(c.added.iter().map(|x| x.0.clone()).collect()),
        );
    }
    if !c.deleted.is_empty() {
        m.insert(
            "deleted".into(),
            list(c.deleted.iter().map(|x| x.0.clone()).collect()),
        );
    }
    if !c.modified.is_empty() {
        m.insert(
            "modified".into(),
            list(c.modified.iter().map(|x| x.0.clone()).collect()),
        );
    }
    m
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let DataCmd::Status(s) = a.cmd;
    let (mut repo, _cwd) = super::open_repo()?;
    let bars = Bars::new(p.quiet || s.json);
    let recorded = view_recorded(&repo, s.granular)?;
    let head = if repo.git().is_some_and(|g| g.head_exists()) {
        view_at_rev(&repo, "HEAD", s.granular)?
    } else {
        Default::default()
    };
    let work = view_workspace(&repo, s.granular, &bars);
    repo.save_state();
    let work = work?;
    let committed = compare(&head, &recorded);
    let uncommitted = compare(&recorded, &work);
    let mut not_in_cache = Vec::new();
    for (path, oid) in &recorded {
        if path.ends_with('/')
            || !recorded
                .keys()
                .any(|k| k.ends_with('/') && path.starts_with(k.as_str()))
        {
            let layout = strix_data::Layout::V3;
            if !strix_repo::outputs::in_cache(&repo, oid, layout, true).0
                && !strix_repo::outputs::in_cache(&repo, oid, strix_data::Layout::Legacy, true).0
            {
                not_in_cache.push(path.clone());
            }
        }
    }
    let mut unchanged: Vec<String> = recorded
        .iter()
        .filter(|(k, v)| work.get(*k) == Some(*v) && head.get(*k) == Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    unchanged.sort();
    if s.json {
        let mut out = Map::new();
        if !not_in_cache.is_empty() {
            out.insert("not_in_cache".into(), json!(not_in_cache));
        }
        let c = section(&committed);
        if !c.is_empty() {
            out.insert("committed".into(), Value::Object(c));
        }
        let u = section(&uncommitted);
        if !u.is_empty() {
            out.insert("uncommitted".into(), Value::Object(u));
        }
        if s.unchanged && !unchanged.is_empty() {
            out.insert("unchanged".into(), json!(unchanged));
        }
        p.json(&Value::Object(out));
        return Ok(0);
    }
    let mut printed = false;
    let block = |title: &str, hints: &[&str], c: &Changes, printed: &mut bool| {
        if c.is_empty() {
            return;
        }
        if *printed {
            p.out("");
        }
        *printed = true;
        p.out(title);
        for h in hints {
            p.out(format!("  ({h})"));
        }
        for (path, _) in &c.added {
            p.out(format!("        added: {path}"));
        }
        for (path, _) in &c.deleted {
            p.out(format!("        deleted: {path}"));
        }
        for (path, _, _) in &c.modified {
            p.out(format!("        modified: {path}"));
        }
    };
    if !not_in_cache.is_empty() {
        printed = true;
        p.out("Not in cache:");
        p.out("  (use \"strix fetch <file>...\" to download files)");
        for path in &not_in_cache {
            p.out(format!("        {path}"));
        }
    }
    block(
        "DVC committed changes:",
        &["git commit the corresponding dvc files to update the repo"],
        &committed,
        &mut printed,
    );
    block(
        "DVC uncommitted changes:",
        &[
            "use \"strix commit <file>...\" to track changes",
            "use \"strix checkout <file>...\" to discard changes",
        ],
        &uncommitted,
        &mut printed,
    );
    if !printed {
        p.out("No changes.");
    }
    Ok(0)
}
