//! `strix add`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;
use strix_repo::add::{AddOptions, add};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Files or directories to track.
    #[arg(required = true)]
    targets: Vec<PathBuf>,
    /// Write the .dvc file but do not put the data in the cache.
    #[arg(long)]
    no_commit: bool,
    /// Destination path inside the repository for the (external) target.
    #[arg(short, long, value_name = "OUT")]
    out: Option<PathBuf>,
    /// Expand the targets as glob patterns.
    #[arg(long)]
    glob: bool,
    /// Overwrite the destination of `-o` if it exists.
    #[arg(short, long)]
    force: bool,
    /// Do not recreate links from the cache to the workspace: the files stay as they are.
    #[arg(long)]
    no_relink: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    let targets = if a.glob {
        super::expand_globs(&cwd, &a.targets)?
    } else {
        a.targets.clone()
    };
    if a.out.is_some() && targets.len() != 1 {
        return Err(Failure::new(
            anyhow::anyhow!("-o/--out needs exactly one target"),
            1,
        ));
    }
    let _lock = repo.lock()?;
    let out = match &a.out {
        Some(o) => Some(repo.resolve_user_path(&cwd, o)?),
        None => None,
    };
    let targets: Vec<PathBuf> = if out.is_some() {
        targets
            .iter()
            .map(|t| {
                let abs = cwd.join(t);
                abs.canonicalize().unwrap_or(abs)
            })
            .collect()
    } else {
        targets
            .iter()
            .map(|t| repo.resolve_user_path(&cwd, t))
            .collect::<Result<_, _>>()?
    };
    let opts = AddOptions {
        no_commit: a.no_commit,
        out,
        force: a.force,
        no_relink: a.no_relink,
    };
    if a.no_relink {
        repo.keep_workspace_files();
    }
    let bars = Bars::new(p.quiet);
    let result = add(&repo, &targets, &opts, &bars);
    repo.save_state();
    let added = result?;
    let mut to_stage = Vec::new();
    for ad in &added {
        to_stage.push(ad.dvcfile.clone());
        to_stage.extend(ad.gitignores.iter().cloned());
    }
    for line in super::stage_or_hint(&repo, &cwd, &to_stage)? {
        p.out(line);
    }
    Ok(0)
}
