//! `strix add`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::{Path, PathBuf};
use strix_repo::add::{AddOptions, add};
use strix_repo::url_target::{is_url, url_name};

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

/// The URL of a URL target (`s3://…`, `remote://…`), if it is one.
fn url_of(target: &Path) -> Option<&str> {
    if is_url(target) {
        target.to_str()
    } else {
        None
    }
}

/// `add --to-remote`: the output is `-o` (into it if it is a folder), else
/// the target's name in the current directory.
fn to_remote(
    a: &Args,
    repo: &mut strix_repo::Repo,
    cwd: &Path,
    p: &Printer,
) -> Result<i32, Failure> {
    let target = &a.targets[0];
    let url = url_of(target);
    let src = {
        let abs = cwd.join(target);
        abs.canonicalize().unwrap_or(abs)
    };
    let name = match url {
        Some(u) => url_name(u).map(std::ffi::OsStr::new),
        None => src.file_name(),
    };
    let dest = match (&a.out, name) {
        (Some(o), _) => {
            let out = repo.resolve_user_path(cwd, o)?;
            strix_repo::add::out_path(repo, name, &out, a.force)?
        }
        (None, Some(name)) => repo.resolve_user_path(cwd, Path::new(name))?,
        (None, None) => {
            return Err(Failure::new(
                anyhow::anyhow!("'{}' names no file or directory", target.display()),
                1,
            ));
        }
    };
    let bars = Bars::new(p.quiet);
    let jobs = a.remote_jobs.map(|j| j as usize);
    let remote = a.remote.as_deref();
    let added = match url {
        Some(u) => strix_repo::to_remote::add_url_to_remote(repo, u, &dest, remote, jobs, &bars),
        None => strix_repo::to_remote::add_to_remote(repo, &src, &dest, remote, jobs, &bars),
    }
    .map_err(|e| super::fetch::sync_failure(e, "failed to add data to the remote"));
    repo.save_state();
    let added = added?;
    for line in super::stage_or_hint(repo, cwd, &[added.dvcfile])? {
        p.out(line);
    }
    Ok(0)
}

/// `add URL -o OUT`: DVC refuses a URL target without `-o` (it would be
/// an output outside the repository).
fn add_url(
    a: &Args,
    url: &str,
    repo: &mut strix_repo::Repo,
    cwd: &Path,
    p: &Printer,
) -> Result<i32, Failure> {
    let Some(out) = &a.out else {
        let mut f = Failure::new(
            anyhow::anyhow!("Cached output(s) outside of DVC project: {url}"),
            1,
        );
        f.hint = Some(format!(
            "copy it into the repository with `strix add {url} -o <path>`, or send it straight to a remote with `--to-remote`"
        ));
        return Err(f);
    };
    let _lock = repo.lock()?;
    let out = repo.resolve_user_path(cwd, out)?;
    let opts = AddOptions {
        no_commit: a.no_commit,
        out: Some(out.clone()),
        force: a.force,
        no_relink: a.no_relink,
    };
    let bars = Bars::new(p.quiet);
    let result = strix_repo::add::add_url(repo, url, &out, &opts, None, &bars);
    repo.save_state();
    let added =
        result.map_err(|e| super::fetch::sync_failure(e, &format!("failed to add '{url}'")))?;
    report(repo, cwd, &added, p)
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    validate(&a)?;
    let (mut repo, cwd) = super::open_repo()?;
    if a.to_remote {
        let _lock = repo.lock()?;
        return to_remote(&a, &mut repo, &cwd, p);
    }
    if let Some(url) = url_of(&a.targets[0]) {
        return add_url(&a, url, &mut repo, &cwd, p);
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
    report(&repo, &cwd, &result?, p)
}

/// Stages (or says how to stage) the metafiles `add` wrote.
fn report(
    repo: &strix_repo::Repo,
    cwd: &Path,
    added: &[strix_repo::add::Added],
    p: &Printer,
) -> Result<i32, Failure> {
    let mut to_stage = Vec::new();
    for ad in added {
        to_stage.push(ad.dvcfile.clone());
        to_stage.extend(ad.gitignores.iter().cloned());
    }
    for line in super::stage_or_hint(repo, cwd, &to_stage)? {
        p.out(line);
    }
    Ok(0)
}
