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
    /// Send the target's data straight to the remote: neither the cache nor the workspace
    /// keeps a copy (`pull` brings it back).
    #[arg(long)]
    to_remote: bool,
    /// With --to-remote: the remote to send the data to (default: core.remote).
    #[arg(short, long, value_name = "NAME")]
    remote: Option<String>,
    /// With --to-remote: number of parallel uploads.
    #[arg(long, value_name = "NUMBER", value_parser = clap::value_parser!(u32).range(1..))]
    remote_jobs: Option<u32>,
}

/// DVC's `CmdAdd.validate_args`, message for message.
fn validate(a: &Args) -> Result<(), Failure> {
    let invalid = |option: &str, with: &str| {
        Err(Failure::new(
            anyhow::anyhow!("{option} can't be used {with}"),
            1,
        ))
    };
    if a.to_remote || a.out.is_some() {
        let with = if a.to_remote {
            "with --to-remote"
        } else {
            "with --out"
        };
        if a.targets.len() != 1 {
            return invalid("multiple targets", with);
        }
        if a.glob {
            return invalid("--glob option", with);
        }
        if a.no_commit {
            return invalid("--no-commit option", with);
        }
    } else if a.remote.is_some() {
        return invalid("--remote", "without --to-remote");
    } else if a.remote_jobs.is_some() {
        return invalid("--remote-jobs", "without --to-remote");
    }
    Ok(())
}

/// `add --to-remote`: the output is `-o`, else the target's name in the
/// current directory.
fn to_remote(
    a: &Args,
    repo: &mut strix_repo::Repo,
    cwd: &std::path::Path,
    p: &Printer,
) -> Result<i32, Failure> {
    let target = &a.targets[0];
    let src = {
        let abs = cwd.join(target);
        abs.canonicalize().unwrap_or(abs)
    };
    let dest = match &a.out {
        Some(o) => repo.resolve_user_path(cwd, o)?,
        None => {
            let name = src.file_name().ok_or_else(|| {
                Failure::new(
                    anyhow::anyhow!("'{}' names no file or directory", target.display()),
                    1,
                )
            })?;
            repo.resolve_user_path(cwd, std::path::Path::new(name))?
        }
    };
    let bars = Bars::new(p.quiet);
    let jobs = a.remote_jobs.map(|j| j as usize);
    let added =
        strix_repo::to_remote::add_to_remote(repo, &src, &dest, a.remote.as_deref(), jobs, &bars)
            .map_err(|e| super::fetch::sync_failure(e, "failed to add data to the remote"));
    repo.save_state();
    let added = added?;
    for line in super::stage_or_hint(repo, cwd, &[added.dvcfile])? {
        p.out(line);
    }
    Ok(0)
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    validate(&a)?;
    let (mut repo, cwd) = super::open_repo()?;
    if a.to_remote {
        let _lock = repo.lock()?;
        return to_remote(&a, &mut repo, &cwd, p);
    }
    let targets = if a.glob {
        super::expand_globs(&cwd, &a.targets)?
    } else {
        a.targets.clone()
    };
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
