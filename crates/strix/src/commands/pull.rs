//! `strix pull`: fetch, then checkout.

use super::fetch::{SyncArgs, summary, sync_failure, warn_missing, warn_no_remote};
use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use strix_repo::checkout::{LinkMode, OutChange};
use strix_repo::transfer::UsedOut;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sync: SyncArgs,
    /// Overwrite workspace changes that are not in the cache.
    #[arg(short, long)]
    force: bool,
    /// Data missing from both the cache and the remote is not an error
    /// (it is still named in a warning).
    #[arg(long)]
    allow_missing: bool,
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo_settled()?;
    let _lock = repo.lock()?;
    let bars = Bars::new(p.quiet);
    a.sync.widen(&repo, &cwd)?;
    let s = &a.sync;
    let fetched = super::fetch::fetch_scoped(&repo, &cwd, s, &|_| true, &bars, p);
    let fetched = match fetched {
        Ok(f) => f,
        Err(e) => {
            repo.save_state();
            return Err(sync_failure(e, "failed to pull data from the cloud"));
        }
    };
    warn_missing(p, &cwd, &fetched.missing);
    let mode = if a.force {
        LinkMode::Force
    } else {
        LinkMode::Normal
    };
    let result = strix_repo::checkout::checkout(&repo, &cwd, &s.targets, mode, &bars);
    repo.save_state();
    let outs = super::fetch::scoped_outs(&repo, &cwd, s, false).unwrap_or_default();
    let mut report =
        result.map_err(|e| sync_failure(e.into(), "failed to pull data from the cloud"))?;
    if a.allow_missing {
        // Warned about above, as missing from the cache and the remote.
        report.failed.retain(|(_, e)| !e.only_missing());
    }
    // DVC prints M, then A lines, and counts files (a directory's files).
    let mut added = 0;
    let mut modified = 0;
    for want in [OutChange::Modified, OutChange::Added] {
        for (path, is_dir, ch) in &report.changes {
            if *ch != want {
                continue;
            }
            let mut name = super::display_rel(&cwd, path);
            let mut files = 1;
            if *is_dir {
                name.push('/');
                if want == OutChange::Added {
                    files = dir_files(&repo, &outs, path).unwrap_or(1);
                }
            }
            if want == OutChange::Added {
                added += files;
                p.out(format!("A\t{name}"));
            } else {
                modified += files;
                p.out(format!("M\t{name}"));
            }
        }
    }
    let line = summary(&[
        ("fetched", fetched.fetched),
        ("modified", modified),
        ("added", added),
    ]);
    if !report.failed.is_empty() {
        if !line.is_empty() {
            p.out(line);
        }
        let mut names: Vec<String> = Vec::new();
        for (path, _) in &report.failed {
            let n = super::display_rel(&cwd, path);
            if !names.contains(&n) {
                names.push(n);
            }
        }
        return Err(sync_failure(
            strix_repo::RepoError::CheckoutFailed(names).into(),
            "failed to pull data from the cloud",
        ));
    }
    warn_no_remote(p, &repo, s);
    p.out(if line.is_empty() {
        "Everything is up to date.".to_string()
    } else {
        line
    });
    Ok(0)
}

/// The number of files of a directory output, from its manifest.
fn dir_files(repo: &strix_repo::Repo, outs: &[UsedOut], abs: &std::path::Path) -> Option<usize> {
    let o = outs.iter().find(|o| o.path == abs)?;
    repo.odb()
        .read_manifest(&o.obj.oid, o.obj.layout)
        .ok()
        .map(|m| m.len())
}
