//! `strix gc`: remove cache (and remote) objects no selected revision uses.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use strix_repo::gc::{GcError, GcOptions, GcPlan};
use strix_repo::revisions::RevScope;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep data files used in the current workspace.
    #[arg(short, long)]
    workspace: bool,
    /// Keep data files used in the specified commit (repeatable).
    #[arg(long = "rev", value_name = "COMMIT")]
    rev: Vec<String>,
    /// Keep data files used in the last NUM commits from each --rev (or
    /// each branch with -a). Defaults to 1.
    #[arg(short = 'n', long = "num", value_name = "NUM")]
    num: Option<usize>,
    /// Keep data files for the tips of all Git branches.
    #[arg(short = 'a', long)]
    all_branches: bool,
    /// Keep data files for all Git tags.
    #[arg(short = 'T', long)]
    all_tags: bool,
    /// Keep data files for all Git commits.
    #[arg(short = 'A', long)]
    all_commits: bool,
    /// Keep data files used in the commits made on or after this date.
    #[arg(long = "date", value_name = "YYYY-MM-DD", value_parser = parse_date)]
    commit_date: Option<(String, i64)>,
    /// Keep data files used in DVC's experiments (`refs/exps/`).
    #[arg(long)]
    all_experiments: bool,
    /// Pass over revisions whose metafiles cannot be read, with a warning.
    #[arg(long)]
    skip_failed: bool,
    /// Keep data files used by these projects too (when they share this
    /// cache), with the same revision flags.
    #[arg(short = 'p', long = "projects", value_name = "PATHS", num_args = 0..)]
    projects: Option<Vec<std::path::PathBuf>>,
    /// Keep data files that are not present in the remote.
    #[arg(long)]
    not_in_remote: bool,
    /// Collect garbage in remote storage in addition to the local cache.
    #[arg(short, long)]
    cloud: bool,
    /// Remote storage to collect garbage in.
    #[arg(short, long, value_name = "NAME")]
    remote: Option<String>,
    /// Force garbage collection: automatically agree to all prompts.
    #[arg(short, long)]
    force: bool,
    /// Number of parallel remote operations.
    #[arg(short, long, value_parser = clap::value_parser!(u32).range(1..))]
    jobs: Option<u32>,
    /// Only print what would get removed, without removing anything.
    #[arg(long)]
    dry: bool,
}

/// `--date`: midnight of that day in local time, as DVC's
/// `datetime.strptime(date, "%Y-%m-%d").timestamp()` reads it.
fn parse_date(s: &str) -> Result<(String, i64), String> {
    let bad = || format!("'{s}' is not a date of the form YYYY-MM-DD");
    let mut parts = s.splitn(3, '-');
    let mut field = |len: std::ops::RangeInclusive<usize>| -> Result<i32, String> {
        let p = parts.next().ok_or_else(bad)?;
        if !len.contains(&p.len()) || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let (year, month, day) = (field(4..=4)?, field(1..=2)?, field(1..=2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    // SAFETY: an all-zero `tm` is a valid value; mktime only reads and
    // normalises it.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_isdst = -1;
    // SAFETY: `tm` is a valid, exclusively borrowed struct.
    let t = unsafe { libc::mktime(&mut tm) };
    if t == -1 || tm.tm_mday != day {
        return Err(bad());
    }
    Ok((s.to_string(), t))
}

fn invalid(msg: &str) -> Failure {
    Failure::new(anyhow::anyhow!("{msg}"), 255)
}

/// DVC's `_validate_args`.
fn validate(a: &Args) -> Result<(), Failure> {
    if a.not_in_remote && a.cloud {
        return Err(invalid(
            "`--not-in-remote` and `--cloud` are mutually exclusive",
        ));
    }
    let any = a.workspace
        || a.all_branches
        || a.all_tags
        || a.all_commits
        || a.all_experiments
        || a.commit_date.is_some()
        || !a.rev.is_empty();
    if !any {
        return Err(invalid(
            "Either of `-w|--workspace`, `-a|--all-branches`, `-T|--all-tags` `--all-experiments`, `--all-commits`, `--date` or `--rev` needs to be set.",
        ));
    }
    if a.num.is_some() && a.rev.is_empty() && !a.all_branches {
        return Err(invalid(
            "`--num` can only be used alongside `--rev` or `--all-branches`",
        ));
    }
    Ok(())
}

/// DVC's warning, word for word.
fn warning(a: &Args) -> String {
    let num = a.num.unwrap_or(1);
    let mut msg = String::from("This will remove all cache except items used in the workspace");
    if a.all_commits {
        msg.push_str(" and all git commits");
    } else {
        if a.all_branches && a.all_tags {
            if let Some(n) = a.num {
                msg.push_str(&format!(
                    " and last {n} commits from all git branches and all git tags"
                ));
            } else {
                msg.push_str(" and all git branches and tags");
            }
        } else if a.all_branches {
            if let Some(n) = a.num {
                msg.push_str(&format!(" and last {n} commits from all git branches"));
            } else {
                msg.push_str(" and all git branches");
            }
        } else if a.all_tags {
            msg.push_str(" and all git tags");
        }
        if let Some((date, _)) = &a.commit_date {
            msg.push_str(&format!(" and all git commits before date {date}"));
        }
        if !a.rev.is_empty() {
            msg.push_str(&format!(
                " and last {num} commits from {}",
                a.rev.join(", ")
            ));
        }
    }
    if a.all_experiments {
        msg.push_str(" and all experiments");
    }
    if a.not_in_remote {
        msg.push_str(" that are not present in the DVC remote");
    }
    match a.projects.as_deref() {
        Some(projects) if !projects.is_empty() => {
            msg.push_str(" of the current and the following repos:");
            for p in projects {
                let abs = std::path::absolute(p).unwrap_or_else(|_| p.clone());
                msg.push_str(&format!("\n  - {}", abs.display()));
            }
        }
        _ => msg.push_str(" of the current repo."),
    }
    msg
}

fn objects(n: usize) -> String {
    format!("{n} object{}", if n == 1 { "" } else { "s" })
}

fn gc_failure(e: GcError) -> Failure {
    let code = e.exit_code();
    let hint = match &e {
        GcError::UnreadableDirs(_) => Some(
            "fetch the missing directories first (`strix fetch` with the same revision flags), or remove the revisions that use them from the selection"
                .to_string(),
        ),
        GcError::Remote(_) => {
            Some("pass `-r <name>` or set a default remote with `strix remote default <name>`".into())
        }
        _ => None,
    };
    let mut f = Failure::new(
        anyhow::Error::new(e).context("unable to collect garbage"),
        code,
    );
    f.hint = hint;
    f
}

/// What will be removed, before the prompt (stderr).
fn announce(p: &Printer, plan: &GcPlan) {
    let (n, size) = plan.local_totals();
    p.warn(format!(
        "{} ({}) will be removed from the local cache ({} legacy); {} used object{} kept.",
        objects(n),
        crate::ui::human_size(size),
        plan.local_legacy.len(),
        plan.used,
        if plan.used == 1 { " is" } else { "s are" },
    ));
    if let Some(r) = &plan.remote {
        let m = r.v3.len() + r.legacy.len();
        p.warn(format!(
            "{} will be removed from remote '{}' ({} legacy).",
            objects(m),
            r.remote.name,
            r.legacy.len(),
        ));
    }
}

pub fn run(mut a: Args, p: &Printer) -> Result<i32, Failure> {
    validate(&a)?;
    // Never prompt during a dry run.
    if a.dry {
        a.force = true;
    }
    let (repo, _cwd) = super::open_repo_settled()?;
    let _lock = repo.lock()?;
    // The other projects are locked too while their data is counted.
    let mut others = Vec::new();
    let mut _locks = Vec::new();
    for path in a.projects.iter().flatten() {
        let other = strix_repo::Repo::open(path)?;
        _locks.push(other.lock()?);
        others.push(other);
    }
    let bars = Bars::new(p.quiet);
    let opts = GcOptions {
        scope: RevScope {
            all_branches: a.all_branches,
            all_tags: a.all_tags,
            all_commits: a.all_commits,
            revs: a.rev.clone(),
            num: a.num,
            since: a.commit_date.as_ref().map(|(_, t)| *t),
            all_experiments: a.all_experiments,
        },
        cloud: a.cloud,
        remote: a.remote.clone(),
        not_in_remote: a.not_in_remote,
        jobs: a.jobs.map(|j| j as usize),
        skip_failed: a.skip_failed,
    };
    let plan = strix_repo::gc::plan(&repo, &others, &opts, &bars).map_err(gc_failure)?;
    for s in &plan.skipped {
        let rev = match &s.project {
            Some(project) => format!("'{}' in '{}'", s.rev, project.display()),
            None => format!("'{}'", s.rev),
        };
        p.warn(format!("Failed to collect {rev}, skipping: {}", s.why));
    }
    p.warn(warning(&a));
    announce(p, &plan);
    if !a.force && !super::manage::confirm("Are you sure you want to proceed?") {
        return Err(Failure::new(
            anyhow::anyhow!("garbage collection cancelled: nothing was removed"),
            1,
        )
        .with_hint("confirm at the prompt, or pass `-f` to skip it"));
    }
    if a.dry {
        for o in plan.local_v3.iter().chain(&plan.local_legacy) {
            p.out(format!("Removing {}", o.path.display()));
        }
        if let Some(r) = &plan.remote {
            let base = r.remote.url.trim_end_matches('/');
            for k in r.v3.iter().chain(&r.legacy) {
                p.out(format!("Removing {base}/{k}"));
            }
        }
    }
    let report = strix_repo::gc::execute(&repo, &plan, a.dry, opts.jobs).map_err(gc_failure)?;
    for (n, scheme) in [(report.local_v3, "repo"), (report.local_legacy, "legacy")] {
        if n > 0 {
            p.out(format!("Removed {n} objects from {scheme} cache."));
        } else {
            p.out(format!("No unused '{scheme}' cache to remove."));
        }
    }
    if plan.remote.is_some() {
        for n in [report.remote_v3, report.remote_legacy] {
            if n > 0 {
                p.out(format!("Removed {n} objects from remote."));
            } else {
                p.out("No unused cache to remove from remote.");
            }
        }
    }
    Ok(0)
}
