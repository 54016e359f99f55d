//! `strix commit`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stages (`dvc.yaml`, `dvc.yaml:name`, a stage name), .dvc files or
    /// outputs to commit (all by default).
    targets: Vec<PathBuf>,
    /// Commit even if outputs changed.
    #[arg(short, long)]
    force: bool,
    /// Also every stage upstream of the stages named as targets.
    #[arg(short = 'd', long)]
    with_deps: bool,
    /// Targets may be directories: everything tracked under them (strix
    /// takes a directory this way with or without this flag).
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Do not recreate links from the cache to the workspace: the files stay as they are.
    #[arg(long)]
    no_relink: bool,
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    if a.no_relink {
        repo.keep_workspace_files();
    }
    let _lock = repo.lock()?;
    let bars = Bars::new(p.quiet);
    // Stages of `dvc.yaml` files first, then `.dvc` files (all of both
    // without targets).
    let result = (|| -> Result<Vec<strix_repo::commit::Committed>, Failure> {
        let fail = super::pipeline_common::failure;
        let graph = strix_pipeline::Graph::of_repo(&repo, &cwd).map_err(fail)?;
        if a.with_deps {
            a.targets = strix_pipeline::targets::with_deps(&repo, &cwd, &graph, &a.targets)
                .map_err(fail)?;
        }
        let split =
            strix_pipeline::targets::split_targets(&graph, &cwd, &a.targets).map_err(fail)?;
        let all = a.targets.is_empty();
        let rep = super::pipeline_common::PrinterReporter(p);
        strix_pipeline::commit::commit(&repo, &cwd, &graph, &split, all, a.force, &rep)
            .map_err(fail)?;
        if !all && split.rest.is_empty() {
            return Ok(Vec::new());
        }
        Ok(strix_repo::commit::commit(
            &repo,
            &cwd,
            &split.rest,
            a.force,
            &bars,
        )?)
    })();
    repo.save_state();
    // As DVC's `commit`: the metafiles it rewrote are neither staged in
    // Git (whatever `core.autostage` says) nor named in a hint.
    result?;
    Ok(0)
}
