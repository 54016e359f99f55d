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
    /// List the stages of dvc.yaml.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// Stage name.
    #[arg(short = 'n', long)]
    name: String,
    /// Dependencies.
    #[arg(short = 'd', long = "deps")]
    deps: Vec<String>,
    /// Outputs (cached).
    #[arg(short = 'o', long = "outs")]
    outs: Vec<String>,
    /// Outputs not cached.
    #[arg(short = 'O', long = "outs-no-cache")]
    outs_no_cache: Vec<String>,
    /// Persistent outputs.
    #[arg(long = "outs-persist")]
    outs_persist: Vec<String>,
    /// Params dependencies: `k1,k2` (params.yaml) or `file:k1,k2`.
    #[arg(short = 'p', long = "params")]
    params: Vec<String>,
    /// Metrics files (cached).
    #[arg(short = 'm', long = "metrics")]
    metrics: Vec<String>,
    /// Metrics files not cached.
    #[arg(short = 'M', long = "metrics-no-cache")]
    metrics_no_cache: Vec<String>,
    /// Plots files (cached).
    #[arg(long = "plots")]
    plots: Vec<String>,
    /// Plots files not cached.
    #[arg(long = "plots-no-cache")]
    plots_no_cache: Vec<String>,
    /// Working directory of the command.
    #[arg(short = 'w', long)]
    wdir: Option<String>,
    /// Overwrite an existing stage.
    #[arg(short = 'f', long)]
    force: bool,
    /// Always consider the stage changed.
    #[arg(long)]
    always_changed: bool,
    /// Description.
    #[arg(long)]
    desc: Option<String>,
    /// Run the stage after adding it.
    #[arg(long)]
    run: bool,
    /// The command (remaining words are joined with spaces).
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    /// Only print names.
    #[arg(long)]
    name_only: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    match a.command {
        Sub::Add(a) => run_add(*a, p),
        Sub::List(a) => run_list(a, p),
    }
}

fn run_add(a: AddArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let opts = strix_pipeline::add::AddOptions {
        name: a.name.clone(),
        cmd: a.command.join(" "),
        deps: a.deps,
        outs: a.outs,
        outs_no_cache: a.outs_no_cache,
        outs_persist: a.outs_persist,
        params: a.params,
        metrics: a.metrics,
        metrics_no_cache: a.metrics_no_cache,
        plots: a.plots,
        plots_no_cache: a.plots_no_cache,
        wdir: a.wdir,
        force: a.force,
        always_changed: a.always_changed,
        desc: a.desc,
    };
    let added = {
        let _session = repo.lock()?;
        strix_pipeline::add::stage_add(&repo, &opts).map_err(failure)?
    };
    let mut files = vec![added.dvc_yaml.clone()];
    files.extend(added.gitignores);
    if a.run {
        let _session = repo.lock()?;
        strix_pipeline::repro::install_interrupt_handler();
        let ropts = strix_pipeline::repro::Options {
            force: true,
            single: true,
            jobs: 1,
            ..Default::default()
        };
        let report = strix_pipeline::repro::repro(
            &repo,
            std::slice::from_ref(&a.name),
            &ropts,
            &PrinterReporter(p),
        )
        .map_err(failure)?;
        if let Some(f) = report.failures.first() {
            return Err(Failure::new(anyhow::anyhow!("{f}"), 255));
        }
        files.push(repo.root().join("dvc.lock"));
        files.extend(report.gitignores);
    } else {
        p.out(format!("Added stage '{}' in 'dvc.yaml'", a.name));
    }
    for line in super::stage_or_hint(&repo, &cwd, &files)? {
        p.out(line);
    }
    Ok(0)
}

fn run_list(a: ListArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, _cwd) = super::open_repo()?;
    let stages = strix_pipeline::load_stages(repo.root()).map_err(failure)?;
    let width = stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in &stages {
        if a.name_only {
            p.out(&s.name);
            continue;
        }
        let desc = s.desc.clone().unwrap_or_else(|| {
            let pick = |k: OutKind| {
                s.outs
                    .iter()
                    .filter(|o| o.kind == k)
                    .map(|o| o.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut parts = Vec::new();
            let outs = pick(OutKind::Out);
            if !outs.is_empty() {
                parts.push(format!("Outputs {outs}"));
            }
            let mut reports: Vec<String> = Vec::new();
            for k in [OutKind::Metric, OutKind::Plot] {
                let r = pick(k);
                if !r.is_empty() {
                    reports.push(r);
                }
            }
            if !reports.is_empty() {
                parts.push(format!("Reports {}", reports.join(", ")));
            }
            parts.join("; ")
        });
        p.out(format!("{:<width$}  {desc}", s.name).trim_end());
    }
    Ok(0)
}
