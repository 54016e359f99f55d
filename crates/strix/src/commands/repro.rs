//! `strix repro`.

use super::pipeline_common::{PrinterReporter, failure};
use crate::ui::Printer;
use crate::ui::errors::Failure;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stages to reproduce (names, `dvc.yaml:name`, legacy `.dvc` stage
    /// files; directories with `-R`); default: the stages of dvc.yaml.
    targets: Vec<String>,
    /// Reproduce even if dependencies did not change.
    #[arg(short, long)]
    force: bool,
    /// Only the targets, not their upstream stages.
    #[arg(short = 's', long)]
    single_item: bool,
    /// The whole pipelines the targets belong to.
    #[arg(short = 'p', long)]
    pipeline: bool,
    /// Reproduce every stage of every pipeline.
    #[arg(short = 'P', long)]
    all_pipelines: bool,
    /// Targets are directories: every stage found inside them.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// The targets and the stages that depend on them.
    #[arg(long)]
    downstream: bool,
    /// Reproduce the stages downstream of a reproduced stage even if they
    /// did not change.
    #[arg(long)]
    force_downstream: bool,
    /// Fetch missing data from the remote instead of running stages.
    #[arg(long)]
    pull: bool,
    /// Missing data does not make a stage changed.
    #[arg(long)]
    allow_missing: bool,
    /// Print the commands without running them.
    #[arg(long)]
    dry: bool,
    /// Number of stages to run at once.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
    /// Continue with independent stages after a failure.
    #[arg(short = 'k', long)]
    keep_going: bool,
    /// Warn about a failed stage and go on, its dependents included; the run succeeds.
    #[arg(long, conflicts_with = "keep_going")]
    ignore_errors: bool,
    /// Do not save outputs to the cache.
    #[arg(long)]
    no_commit: bool,
    /// Neither restore from nor save to the run-cache.
    #[arg(long)]
    no_run_cache: bool,
    /// Targets are shell-style patterns of stage names (`train-*`, `dvc.yaml:tr*`).
    #[arg(long)]
    glob: bool,
    /// Ask before reproducing each stage (also `core.interactive`); stages run one at a time.
    #[arg(short, long)]
    interactive: bool,
}

/// `--glob`: each target becomes the stages whose names it matches (a
/// stage of the current directory's `dvc.yaml` also as `dvc.yaml:name`).
/// Unlike DVC, which then reproduces every stage, a pattern that matches
/// nothing is an error.
fn expand_stage_globs(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    targets: &[String],
) -> Result<Vec<String>, Failure> {
    let graph = strix_pipeline::Graph::of_repo(repo, cwd).map_err(failure)?;
    let mut out = Vec::new();
    for t in targets {
        let pattern = glob::Pattern::new(t)
            .map_err(|e| Failure::new(anyhow::anyhow!("invalid pattern '{t}': {e}"), 1))?;
        let before = out.len();
        for s in &graph.stages {
            let local = format!("dvc.yaml:{}", s.name);
            if (pattern.matches(&s.name) || (!s.name.contains(':') && pattern.matches(&local)))
                && !out.contains(&s.name)
            {
                out.push(s.name.clone());
            }
        }
        if out.len() == before {
            return Err(Failure::new(anyhow::anyhow!("no stage matches '{t}'"), 1)
                .with_hint("`strix stage list --all` lists the stages"));
        }
    }
    Ok(out)
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    if a.glob {
        a.targets = expand_stage_globs(&repo, &cwd, &a.targets)?;
    }
    strix_pipeline::repro::install_interrupt_handler();
    // `-p`/`-P` take whole pipelines: `-s` and `--downstream` do not apply.
    let whole = a.pipeline || a.all_pipelines;
    let interactive = a.interactive || repo.settings().interactive;
    let opts = strix_pipeline::repro::Options {
        force: a.force,
        single: a.single_item && !whole,
        dry: a.dry,
        jobs: if interactive { 1 } else { a.jobs as usize },
        keep_going: a.keep_going,
        ignore_errors: a.ignore_errors,
        interactive,
        no_commit: a.no_commit,
        no_run_cache: a.no_run_cache,
        pipeline: a.pipeline,
        all_pipelines: a.all_pipelines,
        run_always: false,
        recursive: a.recursive,
        downstream: a.downstream && !whole,
        force_downstream: a.force_downstream,
        allow_missing: a.allow_missing,
        pull: a.pull,
    };
    let result = strix_pipeline::repro::repro(&repo, &cwd, &a.targets, &opts, &PrinterReporter(p));
    repo.save_state();
    // DVC's `repro` lets its errors through to the top: exit 255 where
    // other commands exit 1.
    let report = result.map_err(|e| {
        let mut f = failure(e);
        if f.code == 1 {
            f.code = 255;
        }
        f
    })?;
    finish(&repo, &cwd, &report, a.keep_going, p)
}

/// Reports failures like DVC and prints the git hint and the push hint.
pub fn finish(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    report: &strix_pipeline::repro::Report,
    keep_going: bool,
    p: &Printer,
) -> Result<i32, Failure> {
    let mut files = Vec::new();
    files.extend(report.locks.iter().cloned());
    files.extend(report.written.iter().cloned());
    files.extend(report.gitignores.iter().cloned());
    if !report.failures.is_empty() {
        let msg = if keep_going {
            let names: Vec<&str> = report.failures.iter().map(|(n, _)| n.as_str()).collect();
            strix_pipeline::repro::failure_message(&names)
        } else {
            let (name, why) = &report.failures[0];
            format!(
                "{}: {why}",
                strix_pipeline::repro::failure_message(&[name.as_str()])
            )
        };
        return Err(Failure::new(anyhow::anyhow!("{msg}"), 255));
    }
    if !files.is_empty() {
        for line in super::stage_or_hint(repo, cwd, &files)? {
            p.out(line);
        }
    }
    // As in DVC, stages "reproduced" by --dry count.
    if report.ran.is_empty() {
        p.out("Data and pipelines are up to date.");
    } else {
        p.out("Use `strix push` to send your updates to remote storage.");
    }
    Ok(0)
}
