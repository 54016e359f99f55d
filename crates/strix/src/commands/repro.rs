//! `strix repro`.

use super::pipeline_common::{PrinterReporter, failure};
use crate::ui::Printer;
use crate::ui::errors::Failure;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stages to reproduce (names, `dvc.yaml:name`); default: all.
    targets: Vec<String>,
    /// Reproduce even if dependencies did not change.
    #[arg(short, long)]
    force: bool,
    /// Only the targets, not their upstream stages.
    #[arg(short = 's', long)]
    single_item: bool,
    /// Print the commands without running them.
    #[arg(long)]
    dry: bool,
    /// Number of stages to run at once.
    #[arg(short, long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: u32,
    /// Continue with independent stages after a failure.
    #[arg(short = 'k', long)]
    keep_going: bool,
    /// Do not save outputs to the cache.
    #[arg(long)]
    no_commit: bool,
    /// Neither restore from nor save to the run-cache.
    #[arg(long)]
    no_run_cache: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    strix_pipeline::repro::install_interrupt_handler();
    let opts = strix_pipeline::repro::Options {
        force: a.force,
        single: a.single_item,
        dry: a.dry,
        jobs: a.jobs as usize,
        keep_going: a.keep_going,
        no_commit: a.no_commit,
        no_run_cache: a.no_run_cache,
    };
    let result = {
        let _session = repo.lock()?;
        strix_pipeline::repro::repro(&repo, &a.targets, &opts, &PrinterReporter(p))
    };
    repo.save_state();
    let report = result.map_err(failure)?;
    let mut files = Vec::new();
    if report.lock_written {
        files.push(repo.root().join("dvc.lock"));
    }
    files.extend(report.gitignores.iter().cloned());
    if !report.failures.is_empty() {
        let last = report.failures.len() - 1;
        for f in &report.failures[..last] {
            crate::ui::errors::report(p, &Failure::new(anyhow::anyhow!("{f}"), 255));
        }
        return Err(Failure::new(
            anyhow::anyhow!("{}", report.failures[last]),
            255,
        ));
    }
    if !files.is_empty() {
        for line in super::stage_or_hint(&repo, &cwd, &files)? {
            p.out(line);
        }
    }
    if !report.ran.is_empty() && !a.dry {
        p.out("Use `strix push` to send your updates to remote storage.");
    }
    Ok(0)
}
