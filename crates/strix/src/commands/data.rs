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
    /// Limit the report to these tracked files and directories.
    targets: Vec<std::path::PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
    /// Show changes inside tracked directories.
    #[arg(long)]
    granular: bool,
    /// Also list unchanged outputs.
    #[arg(long)]
    unchanged: bool,
    /// Show the files Git does not track (`all`, the value when none is given) or not (`no`).
    #[arg(long, value_name = "MODE", num_args = 0..=1, default_value = "no", default_missing_value = "all")]
    untracked_files: Untracked,
    /// List the tracked data that the remote lacks.
    #[arg(long)]
    not_in_remote: bool,
    /// The remote --not-in-remote looks at (default: core.remote).
    #[arg(short, long, value_name = "NAME")]
    remote: Option<String>,
    /// Accepted for DVC's sake: strix keeps no remote index, it always asks the remote.
    #[arg(long)]
    no_remote_refresh: bool,
}

/// `--untracked-files`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Untracked {
    No,
    All,
}

/// The changes of `c` grouped by state, as DVC groups them: every change
/// in the order of its path (compared component by component), each state
/// listed where its first path comes.
fn by_state(c: &Changes) -> Vec<(&'static str, Vec<String>)> {
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

fn section(c: &Changes) -> Map<String, Value> {
    by_state(c)
        .into_iter()
        .map(|(state, keys)| (state.to_string(), json!(keys)))
        .collect()
}

/// Whether the key `k` (repo-relative, `dir/` for a directory) falls under
/// one of `targets` (repo-relative, no trailing `/`); all do without
/// targets.
fn under(targets: &[String], k: &str) -> bool {
    targets.is_empty()
        || targets.iter().any(|t| {
            k == t
                || k.strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with('/'))
        })
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let DataCmd::Status(s) = a.cmd;
    let (mut repo, cwd) = super::open_repo()?;
    let bars = Bars::new(p.quiet || s.json);
    let targets: Vec<String> = s
        .targets
        .iter()
        .map(|t| {
            repo.resolve_user_path(&cwd, t)
                .map(|abs| repo.rel(&abs).trim_end_matches('/').to_string())
        })
        .collect::<Result<_, _>>()?;
    let keep = |k: &str| under(&targets, k);
    let filter = |v: strix_repo::diff::View| -> strix_repo::diff::View {
        v.into_iter().filter(|(k, _)| keep(k)).collect()
    };
    let recorded = filter(view_recorded(&repo, s.granular)?);
    let head = if repo.git().is_some_and(|g| g.head_exists()) {
        filter(view_at_rev(&repo, "HEAD", s.granular)?)
    } else {
        Default::default()
    };
    let work = view_workspace(&repo, s.granular, &bars);
    repo.save_state();
    let work = filter(work?);
    let committed = compare(&head, &recorded);
    let uncommitted = compare(&recorded, &work);
    let mut not_in_cache = Vec::new();
    // A file inside a directory output stands with its directory.
    let dirs: Vec<&String> = recorded.keys().filter(|k| k.ends_with('/')).collect();
    for (path, oid) in &recorded {
        if path.ends_with('/') || !dirs.iter().any(|d| path.starts_with(d.as_str())) {
            let layout = strix_data::Layout::V3;
            if !strix_repo::outputs::in_cache(&repo, oid, layout, true).0
                && !strix_repo::outputs::in_cache(&repo, oid, strix_data::Layout::Legacy, true).0
            {
                not_in_cache.push(path.clone());
            }
        }
    }
    let not_in_remote = if s.not_in_remote {
        strix_repo::transfer::not_in_remote(
            &repo,
            s.granular,
            &keep,
            s.remote.as_deref(),
            None,
            &bars,
        )
        .map_err(|e| super::fetch::sync_failure(e, "failed to check the remote"))?
    } else {
        Vec::new()
    };
    let git = match repo.git() {
        Some(g) => Some(
            g.status(s.untracked_files == Untracked::All)
                .map_err(|e| Failure::new(anyhow::Error::new(e), 1))?,
        ),
        None => None,
    };
    // Untracked files relative to the current directory, those under the
    // targets only, as DVC shows them.
    let untracked: Vec<String> = match (&git, repo.git()) {
        (Some(st), Some(g)) => st
            .untracked
            .iter()
            .map(|rel| g.workdir().join(rel))
            .filter(|abs| abs.starts_with(repo.root()) && keep(&repo.rel(abs)))
            .map(|abs| super::display_rel(&cwd, &abs))
            .collect(),
        _ => Vec::new(),
    };
    let mut unchanged: Vec<String> = recorded
        .iter()
        .filter(|(k, v)| work.get(*k) == Some(*v) && head.get(*k) == Some(*v))
        .map(|(k, _)| k.clone())
        .collect();
    unchanged.sort();
    if !s.unchanged {
        unchanged.clear();
    }
    if s.json {
        let mut out = Map::new();
        if !not_in_cache.is_empty() {
            out.insert("not_in_cache".into(), json!(not_in_cache));
        }
        if !not_in_remote.is_empty() {
            out.insert("not_in_remote".into(), json!(not_in_remote));
        }
        let c = section(&committed);
        if !c.is_empty() {
            out.insert("committed".into(), Value::Object(c));
        }
        let u = section(&uncommitted);
        if !u.is_empty() {
            out.insert("uncommitted".into(), Value::Object(u));
        }
        if !untracked.is_empty() {
            out.insert("untracked".into(), json!(untracked));
        }
        if !unchanged.is_empty() {
            out.insert("unchanged".into(), json!(unchanged));
        }
        p.json(&Value::Object(out));
        return Ok(0);
    }
    let mut printed = false;
    let mut block = |title: &str, hints: &[&str], items: Vec<String>| {
        if items.is_empty() {
            return;
        }
        if printed {
            p.out("");
        }
        printed = true;
        p.out(title);
        for h in hints {
            p.out(format!("  ({h})"));
        }
        for item in items {
            p.out(format!("        {item}"));
        }
    };
    let changes = |c: &Changes| -> Vec<String> {
        by_state(c)
            .into_iter()
            .flat_map(|(state, keys)| keys.into_iter().map(move |k| format!("{state}: {k}")))
            .collect()
    };
    block(
        "Not in cache:",
        &["use \"strix fetch <file>...\" to download files"],
        not_in_cache,
    );
    block(
        "Not in remote:",
        &["use \"strix push <file>...\" to upload files"],
        not_in_remote,
    );
    block(
        "DVC committed changes:",
        &["git commit the corresponding dvc files to update the repo"],
        changes(&committed),
    );
    block(
        "DVC uncommitted changes:",
        &[
            "use \"strix commit <file>...\" to track changes",
            "use \"strix checkout <file>...\" to discard changes",
        ],
        changes(&uncommitted),
    );
    block(
        "Untracked files:",
        &["use \"git add <file> ...\" or \"strix add <file>...\" to commit to git or to dvc"],
        untracked,
    );
    block("DVC unchanged files:", &[], unchanged);
    let empty_git = repo.git().is_some_and(|g| !g.head_exists());
    if !printed {
        p.out(if empty_git {
            "No changes in an empty git repo."
        } else {
            "No changes."
        });
    }
    if git.is_some_and(|g| g.dirty) {
        p.out(format!(
            "(there are {}changes not tracked by dvc, use \"git status\" to see)",
            if printed { "other " } else { "" }
        ));
    }
    Ok(0)
}
