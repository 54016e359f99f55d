//! `strix cache dir` and `strix cache migrate`.

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
}

#[derive(Debug, clap::Args)]
struct MigrateArgs {
    /// Only print actions which would be taken without actually migrating
    /// any data.
    #[arg(long)]
    dry: bool,
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

/// DVC's words: every 2.x object is rehashed; the count said after a real
/// run is of the objects the 3.0 layout did not have.
fn migrate(a: MigrateArgs, p: &Printer) -> Result<i32, Failure> {
    use strix_repo::migrate::{self, MigrateError};
    let fail = |e: MigrateError| Failure::new(anyhow::Error::new(e), 1);
    let (repo, _cwd) = super::open_repo()?;
    let _lock = repo.lock()?;
    if a.dry {
        let n = migrate::legacy_objects(&repo).map_err(fail)?.len();
        p.out(format!(
            "{n} files will be re-hashed and migrated to the DVC 3.0 cache location."
        ));
        return Ok(0);
    }
    let bars = crate::ui::progress::Bars::new(p.quiet);
    let n = migrate::migrate(&repo, &bars).map_err(fail)?;
    p.out(format!("Migrated {n} files to DVC 3.0 cache location."));
    Ok(0)
}

pub fn cfg_err(e: strix_config::ConfigError) -> Failure {
    Failure::new(anyhow::Error::new(e).context("configuration error"), 251)
}
