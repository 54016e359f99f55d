//! `strix cache dir`, `strix cache migrate` and `strix cache check`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_config::{Config, ConfigPaths, Level};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: CacheCmd,
}

#[derive(Debug, clap::Subcommand)]
enum CacheCmd {
    /// Show or set the cache directory.
    Dir(DirArgs),
    /// Migrate existing DVC 2.x cache to DVC 3.0 format.
    Migrate(MigrateArgs),
    /// Re-hash every object in the cache and report the corrupted ones, with the paths that
    /// use them.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
struct CheckArgs {
    /// Move corrupted objects out of the cache (into `<cache>/strix-quarantine`), so that
    /// `pull` downloads them again and `checkout` reports them missing.
    #[arg(long)]
    quarantine: bool,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// Only print actions which would be taken without actually migrating
    /// any data.
    #[arg(long)]
    dry: bool,
    /// Migrate entries in all existing DVC files in the repository to the
    /// DVC 3.0 format.
    #[arg(long)]
    dvc_files: bool,
}

#[derive(Debug, clap::Args)]
struct DirArgs {
    /// New cache directory.
    value: Option<String>,
    /// Unset cache.dir.
    #[arg(short, long)]
    unset: bool,
    #[command(flatten)]
    level: super::config::LevelArgs,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let d = match a.cmd {
        CacheCmd::Dir(d) => d,
        CacheCmd::Migrate(m) => return migrate(m, p),
        CacheCmd::Check(c) => return check(c, p),
    };
    let (repo, cwd) = super::open_repo()?;
    if d.value.is_none() && !d.unset {
        // DVC prints the absolute path of the cache directory.
        p.out(repo.settings().cache_dir.display().to_string());
        return Ok(0);
    }
    let paths = ConfigPaths::from_env(Some(repo.dvc_dir()));
    let mut config = Config::load_unvalidated(paths, &cwd).map_err(cfg_err)?;
    let level = d.level.level().or(Some(Level::Repo));
    if d.unset {
        config.unset(level, "cache.dir").map_err(cfg_err)?;
    } else if let Some(v) = &d.value {
        config.set(level, "cache.dir", v).map_err(cfg_err)?;
    }
    Ok(0)
}

/// `cache check`: exit 0 when every object is sound, 1 when any is not
/// (moved aside or not).
fn check(a: CheckArgs, p: &Printer) -> Result<i32, Failure> {
    use strix_repo::cache_check;
    let (mut repo, cwd) = super::open_repo()?;
    // Only moving objects changes the cache: a plain check takes no lock.
    let _lock = if a.quarantine {
        Some(repo.lock()?)
    } else {
        None
    };
    let bars = crate::ui::progress::Bars::new(p.quiet || a.json);
    let r = cache_check::check(&repo, a.quarantine, &bars)?;
    repo.save_state();
    let show = |path: &std::path::Path| super::display_rel(&cwd, path);
    if a.json {
        let corrupted: Vec<serde_json::Value> = r
            .corrupted
            .iter()
            .map(|c| {
                serde_json::json!({
                    "path": show(&c.path),
                    "md5": c.oid.to_string(),
                    "problem": c.problem.to_string(),
                    "used_by": c.used_by,
                    "moved_to": c.moved_to.as_deref().map(show),
                })
            })
            .collect();
        p.json(&serde_json::json!({
            "checked": r.checked,
            "bytes": r.bytes,
            "corrupted": corrupted,
        }));
    } else {
        p.out(format!(
            "Checked {} object{} ({}): {} corrupted.",
            r.checked,
            if r.checked == 1 { "" } else { "s" },
            crate::ui::human_size(r.bytes),
            r.corrupted.len()
        ));
        for c in &r.corrupted {
            let mut line = format!("{}: {}", show(&c.path), c.problem);
            if !c.used_by.is_empty() {
                line.push_str(&format!(" (used by {})", c.used_by.join(", ")));
            }
            if let Some(to) = &c.moved_to {
                line.push_str(&format!("; moved to {}", show(to)));
            }
            p.out(line);
        }
    }
    if r.corrupted.is_empty() {
        return Ok(0);
    }
    let n = r.corrupted.len();
    let mut f = Failure::new(
        anyhow::anyhow!(
            "the cache holds {n} corrupted object{}",
            if n == 1 { "" } else { "s" }
        ),
        1,
    );
    f.hint = Some(if a.quarantine {
        "they are out of the cache now: `strix pull` downloads them again, or, if the \
         workspace still holds the data, `strix commit --force <target>` stores it again"
            .to_string()
    } else {
        "move them aside with `strix cache check --quarantine`, then run `strix pull` to \
         download them again"
            .to_string()
    });
    Err(f)
}

/// DVC's words: every 2.x object is rehashed; the count said after a real
/// run is of the objects the 3.0 layout did not have. With `--dvc-files`,
/// the metafiles' DVC 2 entries are then recorded again with DVC 3 hashes.
fn migrate(a: MigrateArgs, p: &Printer) -> Result<i32, Failure> {
    use strix_repo::migrate::{self, MigrateError};
    let fail = |e: MigrateError| Failure::new(anyhow::Error::new(e), 1);
    let (mut repo, cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    if a.dry {
        let n = migrate::legacy_objects(&repo).map_err(fail)?.len();
        p.out(format!(
            "{n} files will be re-hashed and migrated to the DVC 3.0 cache location."
        ));
    } else {
        let bars = crate::ui::progress::Bars::new(p.quiet);
        let n = migrate::migrate(&repo, &bars).map_err(fail)?;
        p.out(format!("Migrated {n} files to DVC 3.0 cache location."));
    }
    if !a.dvc_files {
        return Ok(0);
    }
    let result = migrate_dvc_files(&repo, &cwd, a.dry, p);
    repo.save_state();
    let written = result?;
    for line in super::stage_or_hint(&repo, &cwd, &written)? {
        p.out(line);
    }
    Ok(0)
}

/// `--dvc-files`: DVC's `commit_2_to_3`. Returns the metafiles written.
fn migrate_dvc_files(
    repo: &strix_repo::Repo,
    cwd: &std::path::Path,
    dry: bool,
    p: &Printer,
) -> Result<Vec<std::path::PathBuf>, Failure> {
    use strix_pipeline::stage::Origin;
    let fail = super::pipeline_common::failure;
    let show = |path: &std::path::Path| super::display_rel(cwd, path);
    let graph = strix_pipeline::Graph::of_repo(repo, cwd).map_err(fail)?;
    let stages = strix_pipeline::commit::legacy_stages(repo, &graph).map_err(fail)?;
    let files = strix_repo::commit::legacy_dvcfiles(repo)?;
    let mut listed: Vec<String> = files.iter().map(|f| show(&f.path)).collect();
    for &i in &stages {
        if let Origin::DvcYaml(yaml) = &graph.stages[i].origin {
            listed.push(format!(
                "{} ({})",
                show(yaml),
                show(&yaml.with_file_name("dvc.lock"))
            ));
        }
    }
    listed.sort();
    listed.dedup();
    if listed.is_empty() {
        p.out("No DVC files in the repo to migrate to the 3.0 format.");
        return Ok(Vec::new());
    }
    if dry {
        p.out("Entries in following DVC files will be migrated to the 3.0 format:");
        for l in listed {
            p.out(format!("\t{l}"));
        }
        return Ok(Vec::new());
    }
    let rep = super::pipeline_common::PrinterReporter(p);
    let done = strix_pipeline::commit::migrate(repo, cwd, &graph, &stages, &rep).map_err(fail)?;
    for name in &done.kept {
        p.warn(format!(
            "stage '{name}' changed since dvc.lock recorded it: its entry keeps its DVC 2 \
             hashes. Run `strix repro {name}` (or `strix commit -f {name}`), then migrate again."
        ));
    }
    let mut written = done.locks;
    let bars = crate::ui::progress::Bars::new(p.quiet);
    for f in files {
        let dvcfile = show(&f.path);
        let m = strix_repo::commit::migrate_dvcfile(repo, f, &bars)?;
        for (out, why) in &m.kept {
            let (why, hint) = match why {
                strix_repo::commit::Kept::Missing => (
                    "is missing",
                    format!("Restore it with `strix checkout {dvcfile}`"),
                ),
                strix_repo::commit::Kept::Changed => (
                    "changed since it was recorded",
                    format!("Record it with `strix commit -f {dvcfile}`"),
                ),
            };
            p.warn(format!(
                "'{}' {why}: its entry in '{dvcfile}' keeps its DVC 2 hash. {hint}, then \
                 migrate again.",
                show(out)
            ));
        }
        if m.committed.rewritten {
            p.out(format!("Updating DVC file '{dvcfile}'"));
            written.push(m.committed.dvcfile);
        }
    }
    Ok(written)
}

pub fn cfg_err(e: strix_config::ConfigError) -> Failure {
    Failure::new(anyhow::Error::new(e).context("configuration error"), 251)
}
