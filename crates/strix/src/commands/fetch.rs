//! `strix fetch`, and what `push` and `pull` share with it.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::{Path, PathBuf};
use strix_repo::transfer::{Missing, SyncError};

/// Arguments of `push`, `fetch` and `pull`.
#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// Limit to these .dvc files or outputs.
    pub targets: Vec<PathBuf>,
    /// The remote to use (default: core.remote).
    #[arg(short, long)]
    pub remote: Option<String>,
    /// Number of parallel transfers (default: 4 × CPU cores).
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    pub jobs: Option<u32>,
    #[command(flatten)]
    pub revs: RevArgs,
    /// Also transfer the run history of all stages (the run-cache).
    #[arg(long, overrides_with = "no_run_cache")]
    pub run_cache: bool,
    /// Do not transfer the run-cache (the default).
    #[arg(long, overrides_with = "run_cache", hide = true)]
    pub no_run_cache: bool,
    /// Also the data of every stage upstream of the stages named as targets.
    #[arg(short = 'd', long)]
    pub with_deps: bool,
    /// Targets may be directories: everything tracked under them (strix
    /// takes a directory this way with or without this flag).
    #[arg(short = 'R', long)]
    pub recursive: bool,
}

impl SyncArgs {
    pub fn jobs(&self) -> Option<usize> {
        self.jobs.map(|j| j as usize)
    }

    /// Widens the targets as `--with-deps` asks (see [`with_deps`]).
    pub fn widen(&mut self, repo: &strix_repo::Repo, cwd: &Path) -> Result<(), Failure> {
        if self.with_deps {
            self.targets = with_deps(repo, cwd, &self.targets)?;
        }
        Ok(())
    }
}

/// `--with-deps` (see [`strix_pipeline::targets::with_deps`]).
pub fn with_deps(
    repo: &strix_repo::Repo,
    cwd: &Path,
    targets: &[PathBuf],
) -> Result<Vec<PathBuf>, Failure> {
    let fail = super::pipeline_common::failure;
    let graph = strix_pipeline::Graph::of_repo(repo, cwd).map_err(fail)?;
    strix_pipeline::targets::with_deps(repo, cwd, &graph, targets).map_err(fail)
}

/// The Git revisions whose data a command also concerns (besides the
/// workspace).
#[derive(Debug, Default, clap::Args)]
pub struct RevArgs {
    /// Also the data of the tips of all Git branches.
    #[arg(short = 'a', long)]
    pub all_branches: bool,
    /// Also the data of all Git tags.
    #[arg(short = 'T', long)]
    pub all_tags: bool,
    /// Also the data of all Git commits.
    #[arg(short = 'A', long)]
    pub all_commits: bool,
    /// Also the data of this Git revision (repeatable).
    #[arg(long = "rev", value_name = "REV")]
    pub rev: Vec<String>,
}

impl RevArgs {
    /// The selection as the library takes it.
    pub fn scope(&self) -> strix_repo::revisions::RevScope {
        strix_repo::revisions::RevScope {
            all_branches: self.all_branches,
            all_tags: self.all_tags,
            all_commits: self.all_commits,
            revs: self.rev.clone(),
            num: None,
            ..Default::default()
        }
    }
}

/// Fetches what `s` selects (targets, revisions, the run-cache):
/// the part `fetch` and `pull` share.
pub fn fetch_scoped(
    repo: &strix_repo::Repo,
    cwd: &Path,
    s: &SyncArgs,
    takes: &dyn Fn(&strix_repo::transfer::UsedOut) -> bool,
    bars: &Bars,
    p: &crate::ui::Printer,
) -> Result<strix_repo::transfer::FetchSummary, SyncError> {
    if s.run_cache {
        // DVC fetches the run-cache first and does not count its files.
        fetch_run_cache(repo, s, p)?;
    }
    let mut outs = scoped_outs(repo, cwd, s, false)?;
    outs.retain(|o| takes(o));
    strix_repo::transfer::fetch_outs(repo, outs, s.remote.as_deref(), s.jobs(), bars)
}

/// `fetch --run-cache`: copies the remote's run-cache entries into the
/// cache; returns how many. A remote that holds no run-cache (HTTP), or
/// none at all, is skipped here as DVC does: the data transfer that follows
/// reports a missing remote. An entry that cannot be copied is reported and
/// the fetch goes on, as in DVC.
pub fn fetch_run_cache(
    repo: &strix_repo::Repo,
    s: &SyncArgs,
    p: &crate::ui::Printer,
) -> Result<usize, SyncError> {
    use strix_pipeline::runcache::remote;
    let Ok(r) = remote::open(repo, s.remote.as_deref()) else {
        return Ok(0);
    };
    let fetched = remote::fetch(repo, &r, s.jobs())?;
    for line in &fetched.failed {
        p.warn(format!("failed to transfer {line}"));
    }
    Ok(fetched.entries)
}

/// `push --run-cache`: sends the run-cache entries; returns DVC's count of
/// them. An entry that cannot be sent is reported and the push goes on, as
/// in DVC.
pub fn push_run_cache(
    repo: &strix_repo::Repo,
    s: &SyncArgs,
    p: &crate::ui::Printer,
) -> Result<usize, SyncError> {
    use strix_pipeline::runcache::remote;
    let Ok(r) = remote::open(repo, s.remote.as_deref()) else {
        return Ok(0);
    };
    let pushed = remote::push(repo, &r, s.jobs())?;
    for line in &pushed.failed {
        p.warn(format!("failed to transfer {line}"));
    }
    Ok(pushed.entries)
}

/// The outputs of the workspace (`.dvc` files and the pipelines'
/// `dvc.lock` files) and of the selected revisions.
pub fn scoped_outs(
    repo: &strix_repo::Repo,
    cwd: &Path,
    s: &SyncArgs,
    for_push: bool,
) -> Result<Vec<strix_repo::transfer::UsedOut>, SyncError> {
    let scope = s.revs.scope();
    strix_repo::revisions::used_outs_in_scope(repo, cwd, &s.targets, for_push, &scope)
        .map_err(SyncError::from)
}

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub sync: SyncArgs,
    /// Only outputs each smaller than this many bytes.
    #[arg(long, value_name = "MAX_SIZE")]
    max_size: Option<u64>,
    /// Only outputs a stage declares as metrics or plots (repeatable).
    #[arg(long = "type", value_enum)]
    types: Vec<OutType>,
}

/// `fetch --type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OutType {
    Metrics,
    Plots,
}

impl Args {
    /// Whether `--max-size` and `--type` keep `o`, as DVC's index filter
    /// decides.
    fn takes(&self, o: &strix_repo::transfer::UsedOut) -> bool {
        use strix_dvcfile::OutKind;
        let kind_ok = self.types.is_empty()
            || self.types.iter().any(|t| {
                matches!(
                    (t, o.kind),
                    (OutType::Metrics, OutKind::Metric) | (OutType::Plots, OutKind::Plot)
                )
            });
        kind_ok && self.max_size.is_none_or(|max| o.within(max))
    }
}

/// Wraps a transfer error as `failed to <what> data …`.
pub fn sync_failure(e: SyncError, what: &str) -> Failure {
    let code = e.exit_code();
    let hint = match &e {
        SyncError::Repo(r) => r.hint(),
        SyncError::NoRemotes { .. } => {
            Some("add one with `strix remote add -d <name> <url>`".to_string())
        }
        SyncError::NoDefault { .. } => {
            Some("set one with `strix remote default <name>`, or pass `-r <name>`".to_string())
        }
        _ => remote_hint(&e),
    };
    let mut f = Failure::new(anyhow::Error::new(e).context(what.to_string()), code);
    f.hint = hint;
    f
}

/// A hint for a transfer stopped by the remote: what to check, and that a
/// rerun continues where this one stopped.
fn remote_hint(e: &SyncError) -> Option<String> {
    use std::io::ErrorKind as K;
    const RERUN: &str = "nothing is lost: run the command again to continue where it stopped";
    if e.corrupted() {
        return Some(
            "the remote's copy is damaged or unreadable; push the data again from a repository that has it"
                .to_string(),
        );
    }
    let what = match e.io_kind()? {
        K::PermissionDenied => {
            return Some(
                "check the remote's credentials, e.g. `strix remote modify --local <name> <option> <value>`"
                    .to_string(),
            );
        }
        K::ConnectionRefused | K::NotConnected | K::AddrNotAvailable => {
            "check that the server is running and that the remote's URL (or `endpointurl`) is right"
        }
        K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof => {
            "the connection to the remote broke"
        }
        K::InvalidInput => {
            return Some(
                "check the remote's URL and options (`strix remote list`, `strix config --list`); a bucket must exist before the first push"
                    .to_string(),
            );
        }
        K::TimedOut => "the remote did not answer in time",
        K::StorageFull | K::QuotaExceeded => "the disk is full",
        _ => return None,
    };
    Some(format!("{what}; {RERUN}"))
}

/// DVC's warning when no remote is given and none is the default.
pub fn warn_no_remote(p: &Printer, repo: &strix_repo::Repo, args: &SyncArgs) {
    if args.remote.is_none() && repo.settings().default_remote.is_none() {
        p.warn("No remote provided and no default remote set.");
    }
}

/// Warns about objects in neither the cache nor the remote.
pub fn warn_missing(p: &Printer, cwd: &Path, missing: &[Missing]) {
    if missing.is_empty() {
        return;
    }
    let mut text = String::from(
        "Some of the cache files do not exist neither locally nor on remote. Missing cache files:",
    );
    for m in missing {
        text.push_str(&format!(
            "\nname: {}, md5: {}",
            super::display_rel(cwd, &m.path),
            m.oid
        ));
    }
    p.warn(text);
}

/// DVC's `get_summary`: `3 files fetched and 1 file added`.
pub fn summary(stats: &[(&str, usize)]) -> String {
    let words: Vec<String> = stats
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(w, n)| format!("{n} file{} {w}", if *n > 1 { "s" } else { "" }))
        .collect();
    match words.len() {
        0 => String::new(),
        1 => words[0].clone(),
        n => format!("{} and {}", words[..n - 1].join(", "), words[n - 1]),
    }
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo_settled()?;
    let _lock = repo.lock()?;
    let bars = Bars::new(p.quiet);
    a.sync.widen(&repo, &cwd)?;
    let s = &a.sync;
    let result = fetch_scoped(&repo, &cwd, s, &|o| a.takes(o), &bars, p);
    repo.save_state();
    let r = result.map_err(|e| sync_failure(e, "failed to fetch data from the cloud"))?;
    warn_missing(p, &cwd, &r.missing);
    warn_no_remote(p, &repo, s);
    let line = summary(&[("fetched", r.fetched)]);
    p.out(if line.is_empty() {
        "Everything is up to date.".to_string()
    } else {
        line
    });
    Ok(if r.missing.is_empty() { 0 } else { 1 })
}
