//! `strix stage add` and `strix stage list`.

use super::pipeline_common::{PrinterReporter, failure};
use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_dvcfile::OutKind;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, clap::Subcommand)]
enum Sub {
    /// Add a stage to dvc.yaml.
    Add(Box<AddArgs>),
    /// List the stages of dvc.yaml (of the current directory by default).
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct AddArgs {
    /// Stage name.
    #[arg(short = 'n', long)]
    pub(crate) name: String,
    /// Dependencies.
    #[arg(short = 'd', long = "deps")]
    pub(crate) deps: Vec<String>,
    /// Outputs (cached).
    #[arg(short = 'o', long = "outs")]
    pub(crate) outs: Vec<String>,
    /// Outputs not cached.
    #[arg(short = 'O', long = "outs-no-cache")]
    pub(crate) outs_no_cache: Vec<String>,
    /// Persistent outputs.
    #[arg(long = "outs-persist")]
    pub(crate) outs_persist: Vec<String>,
    /// Persistent outputs, not cached.
    #[arg(long = "outs-persist-no-cache")]
    pub(crate) outs_persist_no_cache: Vec<String>,
    /// Params dependencies: `k1,k2` (params.yaml) or `file:k1,k2`.
    #[arg(short = 'p', long = "params")]
    pub(crate) params: Vec<String>,
    /// Metrics files (cached).
    #[arg(short = 'm', long = "metrics")]
    pub(crate) metrics: Vec<String>,
    /// Metrics files not cached.
    #[arg(short = 'M', long = "metrics-no-cache")]
    pub(crate) metrics_no_cache: Vec<String>,
    /// Plots files (cached).
    #[arg(long = "plots")]
    pub(crate) plots: Vec<String>,
    /// Plots files not cached.
    #[arg(long = "plots-no-cache")]
    pub(crate) plots_no_cache: Vec<String>,
    /// Working directory of the command.
    #[arg(short = 'w', long)]
    pub(crate) wdir: Option<String>,
    /// Overwrite an existing stage.
    #[arg(short = 'f', long)]
    pub(crate) force: bool,
    /// Always consider the stage changed.
    #[arg(long)]
    pub(crate) always_changed: bool,
    /// Description.
    #[arg(long)]
    pub(crate) desc: Option<String>,
    /// Run the stage after adding it.
    #[arg(long)]
    pub(crate) run: bool,
    /// The command (remaining words are joined with spaces).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    pub(crate) command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Stages to list (`dvc.yaml` files, `file:name`, names; directories
    /// with `-R`); default: the `dvc.yaml` of the current directory.
    targets: Vec<String>,
    /// Targets are directories: every stage of every `dvc.yaml` inside.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Only print names.
    #[arg(long, alias = "names-only")]
    name_only: bool,
    /// Every stage of the repository, `.dvc` files included.
    #[arg(long)]
    all: bool,
    /// With --all: fail on a file that cannot be read, instead of leaving it out.
    #[arg(long)]
    fail: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    match a.command {
        Sub::Add(a) => run_add(*a, p),
        Sub::List(a) => run_list(a, p),
    }
}

impl AddArgs {
    /// The library's options for these arguments.
    pub(crate) fn options(&self) -> strix_pipeline::add::AddOptions {
        strix_pipeline::add::AddOptions {
            name: self.name.clone(),
            cmd: self.command.join(" "),
            deps: self.deps.clone(),
            outs: self.outs.clone(),
            outs_no_cache: self.outs_no_cache.clone(),
            outs_persist: self.outs_persist.clone(),
            outs_persist_no_cache: self.outs_persist_no_cache.clone(),
            params: self.params.clone(),
            metrics: self.metrics.clone(),
            metrics_no_cache: self.metrics_no_cache.clone(),
            plots: self.plots.clone(),
            plots_no_cache: self.plots_no_cache.clone(),
            wdir: self.wdir.clone(),
            force: self.force,
            always_changed: self.always_changed,
            desc: self.desc.clone(),
        }
    }
}

/// Runs the just-added stage `name` as DVC's `stage.run()` does: always,
/// but restored from the run-cache when possible.
pub(crate) fn run_added(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    name: &str,
    no_commit: bool,
    no_run_cache: bool,
    p: &Printer,
) -> Result<strix_pipeline::repro::Report, Failure> {
    strix_pipeline::repro::install_interrupt_handler();
    let ropts = strix_pipeline::repro::Options {
        single: true,
        run_always: true,
        jobs: 1,
        no_commit,
        no_run_cache,
        ..Default::default()
    };
    let report = strix_pipeline::repro::repro(
        repo,
        cwd,
        &[format!("{}:{name}", cwd.join("dvc.yaml").display())],
        &ropts,
        &PrinterReporter(p),
    )
    .map_err(failure)?;
    if let Some((n, why)) = report.failures.first() {
        return Err(Failure::new(
            anyhow::anyhow!(
                "{}: {why}",
                strix_pipeline::repro::failure_message(&[n.as_str()])
            ),
            255,
        ));
    }
    Ok(report)
}

fn run_add(a: AddArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let opts = a.options();
    let added = {
        let _session = repo.lock()?;
        // DVC's `stage add` lets its errors reach the top level: exit 255.
        strix_pipeline::add::stage_add(&repo, &cwd, &opts).map_err(|e| match e {
            strix_pipeline::Error::Msg(_) => {
                let mut f = failure(e);
                f.code = 255;
                f
            }
            other => failure(other),
        })?
    };
    let mut files = vec![added.dvc_yaml.clone()];
    files.extend(added.gitignores);
    for g in &added.gitignores_later {
        p.warn(format!(
            "Could not create .gitignore entry in {}. strix will attempt to create .gitignore entry again when the stage is run.",
            g.display()
        ));
    }
    p.out(format!("Added stage '{}' in 'dvc.yaml'", a.name));
    if a.run {
        let report = run_added(&repo, &cwd, &a.name, false, false, p)?;
        files.extend(report.locks.iter().cloned());
        files.extend(report.gitignores);
    }
    for line in super::stage_or_hint(&repo, &cwd, &files)? {
        p.out(line);
    }
    Ok(0)
}

fn run_list(a: ListArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo_settled()?;
    // Errors are DVC's uncaught ones (exit 255).
    let fail = |e| {
        let mut f = failure(e);
        if f.code == 1 {
            f.code = 255;
        }
        f
    };
    if a.all {
        let rows = all_rows(&repo, &cwd, a.fail).map_err(fail)?;
        print_rows(p, &rows, a.name_only);
        return Ok(0);
    }
    let stages = if a.targets.is_empty() {
        strix_pipeline::stage::load_pipeline(&repo, &cwd, &cwd.join("dvc.yaml")).map_err(fail)?
    } else {
        let all = strix_pipeline::all_stages(&repo, &cwd).map_err(fail)?;
        let graph = strix_pipeline::Graph::build(all, repo.root()).map_err(fail)?;
        let picked =
            strix_pipeline::repro::resolve_targets_in(&graph, &cwd, &a.targets, a.recursive)
                .map_err(fail)?;
        let mut seen = Vec::new();
        for i in picked {
            if !seen.contains(&i) && !graph.stages[i].is_legacy() {
                seen.push(i);
            }
        }
        seen.into_iter().map(|i| graph.stages[i].clone()).collect()
    };
    let rows: Vec<(String, String)> = stages
        .iter()
        .map(|s| (s.name.clone(), describe(s)))
        .collect();
    print_rows(p, &rows, a.name_only);
    Ok(0)
}

/// DVC's description of a stage.
fn describe(s: &strix_pipeline::Stage) -> String {
    let outs: Vec<(&str, OutKind)> = s.outs.iter().map(|o| (o.path.as_str(), o.kind)).collect();
    let deps: Vec<&str> = s
        .deps
        .iter()
        .map(|d| d.path.as_str())
        .chain(s.params.iter().map(|p| p.file.as_str()))
        .collect();
    description(s.desc.as_deref(), &outs, &deps)
}

/// DVC's description of a stage or `.dvc` file: the first non-empty line
/// of its `desc`, else what it outputs (or depends on), cut at 80
/// characters.
fn description(desc: Option<&str>, outs: &[(&str, OutKind)], deps: &[&str]) -> String {
    let first_line = desc.and_then(|d| d.lines().map(str::trim).find(|l| !l.is_empty()));
    let pick = |kinds: &[OutKind]| {
        outs.iter()
            .filter(|(_, k)| kinds.contains(k))
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = match first_line {
        Some(line) => line.to_string(),
        None if outs.is_empty() && deps.is_empty() => "No outputs or dependencies".to_string(),
        None if outs.is_empty() => format!("Depends on {}", deps.join(", ")),
        None => {
            let mut parts = Vec::new();
            let plain = pick(&[OutKind::Out]);
            if !plain.is_empty() {
                parts.push(format!("Outputs {plain}"));
            }
            let reports = pick(&[OutKind::Metric, OutKind::Plot]);
            if !reports.is_empty() {
                parts.push(format!("Reports {reports}"));
            }
            parts.join("; ")
        }
    };
    truncate(&text, 80)
}

/// DVC's `truncate_text`: at most `max` characters, the last one `…` when
/// cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let mut t: String = text.chars().take(max - 1).collect();
        t.push('…');
        t
    } else {
        text.to_string()
    }
}

/// DVC's table of stages: names, then descriptions in a column.
fn print_rows(p: &Printer, rows: &[(String, String)], name_only: bool) {
    let width = rows.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
    for (name, desc) in rows {
        if name_only {
            p.out(name);
        } else {
            p.out(format!("{name:<width$}  {desc}").trim_end());
        }
    }
}

/// `stage list --all`: the stages of every `dvc.yaml` and every `.dvc`
/// file, in DVC's walk order (a directory's files by name, then its
/// subdirectories). A file that cannot be read is left out, as DVC does,
/// unless `fail`.
fn all_rows(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    fail: bool,
) -> Result<Vec<(String, String)>, strix_pipeline::Error> {
    use std::path::PathBuf;
    let mut rows: Vec<(PathBuf, String, String)> = Vec::new();
    for path in strix_repo::index::find_pipeline_files(repo) {
        match strix_pipeline::stage::load_pipeline(repo, cwd, &path) {
            Ok(stages) => rows.extend(
                stages
                    .iter()
                    .map(|s| (path.clone(), s.name.clone(), describe(s))),
            ),
            Err(e) if fail => return Err(e),
            Err(_) => {}
        }
    }
    let legacy = match strix_pipeline::legacy::load(repo) {
        Ok(stages) => stages,
        Err(e) if fail => return Err(e),
        Err(_) => Vec::new(),
    };
    for path in strix_repo::index::find_dvcfiles(repo) {
        let name = strix_pipeline::stage::relpath(&path, cwd);
        if let Some(s) = legacy
            .iter()
            .find(|s| matches!(&s.origin, strix_pipeline::stage::Origin::Legacy(p) if *p == path))
        {
            rows.push((path.clone(), name, describe(s)));
            continue;
        }
        match strix_repo::index::load_dvcfile(repo, &path) {
            Ok(f) => {
                let outs: Vec<(&str, OutKind)> = f
                    .file
                    .outs
                    .iter()
                    .map(|o| (o.path.as_str(), OutKind::Out))
                    .collect();
                let deps: Vec<&str> = f.file.deps.iter().map(|d| d.path.as_str()).collect();
                rows.push((
                    path.clone(),
                    name,
                    description(f.file.desc.as_deref(), &outs, &deps),
                ));
            }
            Err(e) if fail => return Err(strix_pipeline::Error::Msg(e.to_string())),
            Err(_) => {}
        }
    }
    rows.sort_by(|a, b| {
        let key = |p: &PathBuf| {
            (
                p.parent().map(|d| d.to_path_buf()),
                p.file_name().map(|n| n.to_os_string()),
            )
        };
        key(&a.0).cmp(&key(&b.0))
    });
    Ok(rows.into_iter().map(|(_, n, d)| (n, d)).collect())
}
