//! `strix checkout`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;
use strix_repo::checkout::{LinkMode, OutChange};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// .dvc files or outputs to restore (all by default).
    targets: Vec<PathBuf>,
    /// Overwrite workspace changes that are not in the cache.
    #[arg(short, long)]
    force: bool,
    /// Re-create every link with the current cache.type.
    #[arg(long)]
    relink: bool,
    /// Print a summary instead of each change.
    #[arg(long)]
    summary: bool,
    /// Accepted for compatibility: checkout always descends into directories.
    #[arg(short = 'R', long)]
    recursive: bool,
    /// Also the outputs of every stage upstream of the stages named as
    /// targets.
    #[arg(short = 'd', long)]
    with_deps: bool,
    /// Data missing from the cache is not an error (it is still named in a
    /// warning).
    #[arg(long)]
    allow_missing: bool,
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo_settled()?;
    let _lock = repo.lock()?;
    if a.with_deps {
        a.targets = super::fetch::with_deps(&repo, &cwd, &a.targets)?;
    }
    let mode = match (a.force, a.relink) {
        (true, true) => LinkMode::ForceRelink,
        (true, false) => LinkMode::Force,
        (false, true) => LinkMode::Relink,
        (false, false) => LinkMode::Normal,
    };
    let bars = Bars::new(p.quiet);
    let result = strix_repo::checkout::checkout(&repo, &cwd, &a.targets, mode, &bars);
    repo.save_state();
    let report = result.map_err(|e| {
        // DVC: an unknown checkout target is an uncaught CheckoutErrorSuggestGit (exit 255).
        let not_tracked = matches!(e, strix_repo::RepoError::NotTracked(_));
        let mut f = Failure::from(e);
        if not_tracked {
            f.code = 255;
        }
        f
    })?;
    let mut added = 0;
    let mut modified = 0;
    for (path, is_dir, ch) in &report.changes {
        let mut name = super::display_rel(&cwd, path);
        if *is_dir {
            name.push('/');
        }
        let letter = match ch {
            OutChange::Added => {
                added += 1;
                "A"
            }
            OutChange::Modified => {
                modified += 1;
                "M"
            }
            OutChange::Unchanged => continue,
        };
        if !a.summary {
            p.out(format!("{letter}\t{name}"));
        }
    }
    if a.summary {
        let mut parts = Vec::new();
        let plural = |n: usize, w: &str| format!("{n} file{} {w}", if n == 1 { "" } else { "s" });
        if added > 0 {
            parts.push(plural(added, "added"));
        }
        if modified > 0 {
            parts.push(plural(modified, "modified"));
        }
        p.out(if parts.is_empty() {
            "No changes.".to_string()
        } else {
            parts.join(", ")
        });
    } else if a.relink && report.failed.is_empty() {
        p.out("Relinked successfully");
    }
    if !report.failed.is_empty() {
        let mut names: Vec<String> = Vec::new();
        for (path, err) in &report.failed {
            p.debug(format!("{}: {err}", path.display()));
            if a.allow_missing && err.only_missing() {
                continue;
            }
            let n = super::display_rel(&cwd, path);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        for (_, err) in &report.failed {
            if let strix_data::checkout::CheckoutError::Corrupted { .. } = err {
                p.warn(err.to_string());
            } else if let strix_data::checkout::CheckoutError::Missing { oid, path } = err {
                p.warn(format!(
                    "missing cache file for '{}' (md5: {oid})",
                    super::display_rel(&cwd, path)
                ));
            } else {
                // Anything else (an unsafe manifest, an I/O error) with its causes, so the
                // user learns why and not only which output failed.
                let mut text = err.to_string();
                let mut cause = std::error::Error::source(err);
                while let Some(c) = cause {
                    text.push_str(": ");
                    text.push_str(&c.to_string());
                    cause = c.source();
                }
                p.warn(text);
            }
        }
        if !names.is_empty() {
            return Err(strix_repo::RepoError::CheckoutFailed(names).into());
        }
    }
    Ok(0)
}
