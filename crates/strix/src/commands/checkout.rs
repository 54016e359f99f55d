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
    // DVC lists modified outputs, then added ones.
    for want in [OutChange::Modified, OutChange::Added] {
        for (path, is_dir, ch) in &report.changes {
            if *ch != want || a.summary {
                continue;
            }
            let mut name = super::display_rel(&cwd, path);
            if *is_dir {
                name.push('/');
            }
            let letter = if want == OutChange::Added { "A" } else { "M" };
            p.out(format!("{letter}\t{name}"));
        }
    }
    if a.summary {
        p.out(summary(&report.files));
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

/// DVC's `get_summary`: the files (not outputs) modified, added and
/// deleted, as "1 file modified, 2 files added and 3 files deleted".
fn summary(f: &strix_repo::checkout::FileCounts) -> String {
    let parts: Vec<String> = [
        (f.modified, "modified"),
        (f.added, "added"),
        (f.deleted, "deleted"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, w)| format!("{n} file{} {w}", if n > 1 { "s" } else { "" }))
    .collect();
    match parts.as_slice() {
        [] => "No changes.".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
