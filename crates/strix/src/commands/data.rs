//! `strix data status`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use serde_json::{Map, Value, json};
use strix_repo::data_status::{DataStatusError, Options, by_state, data_status};
use strix_repo::diff::Changes;

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

fn section(c: &Changes) -> Map<String, Value> {
    by_state(c)
        .into_iter()
        .map(|(state, keys)| (state.to_string(), json!(keys)))
        .collect()
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let DataCmd::Status(s) = a.cmd;
    let (mut repo, cwd) = super::open_repo_settled()?;
    let bars = Bars::new(p.quiet || s.json);
    let targets: Vec<String> = s
        .targets
        .iter()
        .map(|t| {
            repo.resolve_user_path(&cwd, t)
                .map(|abs| repo.rel(&abs).trim_end_matches('/').to_string())
        })
        .collect::<Result<_, _>>()?;
    let opts = Options {
        targets,
        granular: s.granular,
        unchanged: s.unchanged,
        untracked: s.untracked_files == Untracked::All,
        not_in_remote: s.not_in_remote,
        remote: s.remote.clone(),
    };
    let result = data_status(&repo, &opts, &bars);
    repo.save_state();
    let st = result.map_err(|e| match e {
        DataStatusError::Revisions(e) => Failure::from(e),
        DataStatusError::Remote(e) => super::fetch::sync_failure(e, "failed to check the remote"),
        e @ DataStatusError::Git(_) => Failure::new(anyhow::Error::new(e), 1),
    })?;
    // Untracked files are shown from the current directory, as DVC shows them.
    let untracked: Vec<String> = st
        .untracked
        .iter()
        .map(|abs| super::display_rel(&cwd, abs))
        .collect();
    if s.json {
        let mut out = Map::new();
        if !st.not_in_cache.is_empty() {
            out.insert("not_in_cache".into(), json!(st.not_in_cache));
        }
        if !st.not_in_remote.is_empty() {
            out.insert("not_in_remote".into(), json!(st.not_in_remote));
        }
        let c = section(&st.committed);
        if !c.is_empty() {
            out.insert("committed".into(), Value::Object(c));
        }
        let u = section(&st.uncommitted);
        if !u.is_empty() {
            out.insert("uncommitted".into(), Value::Object(u));
        }
        if !untracked.is_empty() {
            out.insert("untracked".into(), json!(untracked));
        }
        if !st.unchanged.is_empty() {
            out.insert("unchanged".into(), json!(st.unchanged));
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
        st.not_in_cache,
    );
    block(
        "Not in remote:",
        &["use \"strix push <file>...\" to upload files"],
        st.not_in_remote,
    );
    block(
        "DVC committed changes:",
        &["git commit the corresponding dvc files to update the repo"],
        changes(&st.committed),
    );
    block(
        "DVC uncommitted changes:",
        &[
            "use \"strix commit <file>...\" to track changes",
            "use \"strix checkout <file>...\" to discard changes",
        ],
        changes(&st.uncommitted),
    );
    block(
        "Untracked files:",
        &["use \"git add <file> ...\" or \"strix add <file>...\" to commit to git or to dvc"],
        untracked,
    );
    block("DVC unchanged files:", &[], st.unchanged);
    if !printed {
        p.out(if st.empty_git {
            "No changes in an empty git repo."
        } else {
            "No changes."
        });
    }
    if st.git_dirty {
        p.out(format!(
            "(there are {}changes not tracked by dvc, use \"git status\" to see)",
            if printed { "other " } else { "" }
        ));
    }
    Ok(0)
}
