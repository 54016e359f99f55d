//! `strix cache dir`.

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
    let CacheCmd::Dir(d) = a.cmd;
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

pub fn cfg_err(e: strix_config::ConfigError) -> Failure {
    Failure::new(anyhow::Error::new(e).context("configuration error"), 251)
}
