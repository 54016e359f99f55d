//! `strix commit`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// .dvc files or outputs to commit (all by default).
    targets: Vec<PathBuf>,
    /// Commit even if outputs changed.
    #[arg(short, long)]
    force: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    let bars = Bars::new(p.quiet);
    let result = strix_repo::commit::commit(&repo, &cwd, &a.targets, a.force, &bars);
    repo.save_state();
    let done = result?;
    let changed: Vec<PathBuf> = done
        .iter()
        .filter(|c| c.rewritten)
        .map(|c| c.dvcfile.clone())
        .collect();
    for line in super::stage_or_hint(&repo, &cwd, &changed)? {
        p.out(line);
    }
    Ok(0)
}
