//! `strix push`.

use super::fetch::{SyncArgs, summary, sync_failure, warn_missing, warn_no_remote};
use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sync: SyncArgs,
    /// Expand the targets as glob patterns.
    #[arg(long)]
    glob: bool,
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo_settled()?;
    let _lock = repo.lock()?;
    let bars = Bars::new(p.quiet);
    if a.glob {
        a.sync.targets = super::expand_globs(&cwd, &a.sync.targets)?;
    }
    a.sync.widen(&repo, &cwd)?;
    let s = &a.sync;
    let runs = if s.run_cache {
        super::fetch::push_run_cache(&repo, s, p)
            .map_err(|e| sync_failure(e, "failed to push data to the cloud"))?
    } else {
        0
    };
    let r = super::fetch::scoped_outs(&repo, &cwd, s, true)
        .and_then(|outs| {
            strix_repo::transfer::push_outs(&repo, outs, s.remote.as_deref(), s.jobs(), &bars)
        })
        .map_err(|e| sync_failure(e, "failed to push data to the cloud"))?;
    warn_missing(p, &cwd, &r.missing);
    warn_no_remote(p, &repo, s);
    let line = summary(&[("pushed", runs + r.pushed)]);
    p.out(if line.is_empty() {
        "Everything is up to date.".to_string()
    } else {
        line
    });
    Ok(0)
}
