//! `strix init`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_repo::{InitOptions, Repo};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Initiate DVC in a directory that is not tracked by any SCM tool.
    #[arg(long)]
    no_scm: bool,
    /// Overwrite an existing .dvc directory.
    #[arg(short, long)]
    force: bool,
    /// Initiate DVC in a subdirectory of a Git repository.
    #[arg(long)]
    subdir: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let cwd = super::cwd()?;
    let report = Repo::init(
        &cwd,
        InitOptions {
            no_scm: a.no_scm,
            subdir: a.subdir,
            force: a.force,
        },
    )?;
    p.out("Initialized DVC repository.");
    if report.scm {
        p.out("");
        p.out("You can now commit the changes to git.");
    }
    Ok(0)
}
