//! `strix move`, `remove`, `unprotect`, `destroy`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct MoveArgs {
    /// Tracked output to move.
    src: PathBuf,
    /// Destination path (or existing directory).
    dst: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// .dvc files, outputs or pipeline stages (`name`, `path/dvc.yaml:name`) to stop
    /// tracking.
    #[arg(required = true)]
    targets: Vec<PathBuf>,
    /// Also remove the outputs from the workspace (only if they are safely cached).
    #[arg(long)]
    outs: bool,
}

#[derive(Debug, clap::Args)]
pub struct UnprotectArgs {
    /// Outputs (or files inside them) to make writable.
    #[arg(required = true)]
    targets: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct DestroyArgs {
    /// Do not ask for confirmation.
    #[arg(short, long)]
    force: bool,
}

fn stage_touched(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    t: &strix_repo::manage::Touched,
    p: &Printer,
) -> Result<(), Failure> {
    let mut files = t.written.clone();
    files.extend(t.removed.iter().cloned());
    for line in super::stage_or_hint(repo, cwd, &files)? {
        p.out(line);
    }
    Ok(())
}

pub fn run_move(a: MoveArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    let src = repo.resolve_user_path(&cwd, &a.src)?;
    let dst = repo.resolve_user_path(&cwd, &a.dst)?;
    let t = strix_repo::manage::move_output(&repo, &src, &dst)?;
    stage_touched(&repo, &cwd, &t, p)?;
    Ok(0)
}

/// Whether a `remove` target names a pipeline stage (`name` of the
/// current directory's `dvc.yaml`, or `path/dvc.yaml:name`) rather than a
/// `.dvc` file or an output: it is no existing path and no `.dvc` file.
fn is_stage_target(cwd: &std::path::Path, t: &std::path::Path) -> bool {
    let s = t.to_string_lossy();
    if s.ends_with(".dvc") || std::fs::symlink_metadata(cwd.join(t)).is_ok() {
        return false;
    }
    match s.rsplit_once(':') {
        Some((file, _)) => file.ends_with("dvc.yaml"),
        None => !s.contains('/') && cwd.join("dvc.yaml").is_file(),
    }
}

/// Prints nothing, as DVC (whose `remove` neither stages the files it
/// touched nor says how to).
pub fn run_remove(a: RemoveArgs, _p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    let (stages, files): (Vec<PathBuf>, Vec<PathBuf>) = a
        .targets
        .iter()
        .cloned()
        .partition(|t| is_stage_target(&cwd, t));
    if !files.is_empty() {
        strix_repo::manage::remove(&repo, &cwd, &files, a.outs)?;
    }
    for s in &stages {
        strix_pipeline::remove::remove_stage(&repo, &cwd, &s.to_string_lossy(), a.outs)
            .map_err(super::pipeline_common::failure)?;
    }
    Ok(0)
}

pub fn run_unprotect(a: UnprotectArgs, _p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    strix_repo::manage::unprotect(&repo, &cwd, &a.targets)?;
    Ok(0)
}

/// Asks a yes/no question on the terminal; without one, the answer is no.
#[allow(clippy::print_stderr)]
pub fn confirm(question: &str) -> bool {
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question} [y/n] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    if std::io::stdin().lock().read_line(&mut line).is_err() {
        return false;
    }
    matches!(line.trim().to_lowercase().as_str(), "y" | "yes")
}

pub fn run_destroy(a: DestroyArgs, p: &Printer) -> Result<i32, Failure> {
    let (repo, _cwd) = super::open_repo()?;
    if !a.force
        && !confirm(
            "This will destroy all information about your pipelines, all data files, as well as cache in .dvc/cache.\nAre you sure you want to continue?",
        )
    {
        return Err(Failure::new(
            anyhow::anyhow!("cannot destroy without a confirmation from the user"),
            1,
        )
        .with_hint("use `-f` to force"));
    }
    let lock = repo.lock()?;
    drop(lock);
    strix_repo::manage::destroy(&repo)?;
    p.debug("destroyed");
    Ok(0)
}
