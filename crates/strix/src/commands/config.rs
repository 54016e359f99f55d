//! `strix config`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_config::{Config, ConfigPaths, Level};

/// `--system`, `--global`, `--project`, `--local`.
#[derive(Debug, Default, clap::Args)]
pub struct LevelArgs {
    /// Use the system config file.
    #[arg(long, group = "level")]
    system: bool,
    /// Use the global (per-user) config file.
    #[arg(long, group = "level")]
    global: bool,
    /// Use the project config file (.dvc/config).
    #[arg(long, group = "level")]
    project: bool,
    /// Use the local config file (.dvc/config.local).
    #[arg(long, group = "level")]
    local: bool,
}

impl LevelArgs {
    pub fn level(&self) -> Option<Level> {
        if self.system {
            Some(Level::System)
        } else if self.global {
            Some(Level::Global)
        } else if self.project {
            Some(Level::Repo)
        } else if self.local {
            Some(Level::Local)
        } else {
            None
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Option name (section.key).
    name: Option<String>,
    /// Option value.
    value: Option<String>,
    /// Unset the option.
    #[arg(short, long)]
    unset: bool,
    /// List all options.
    #[arg(short, long)]
    list: bool,
    /// Show the file each option comes from.
    #[arg(long)]
    show_origin: bool,
    #[command(flatten)]
    level: LevelArgs,
}

use super::cache::cfg_err;

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let cwd = super::cwd()?;
    let repo = strix_repo::Repo::discover(&cwd).ok();
    let level = a.level.level();
    if repo.is_none() && level.is_some_and(|l| l.is_repo_level()) {
        return Err(strix_repo::RepoError::NotARepo.into());
    }
    let dvc_dir = repo.as_ref().map(|r| r.dvc_dir());
    let mut config =
        Config::load_unvalidated(ConfigPaths::from_env(dvc_dir), &cwd).map_err(cfg_err)?;
    if a.list {
        if a.name.is_some() {
            return Err(Failure::new(
                anyhow::anyhow!("-l/--list can't be used together with a name"),
                254,
            ));
        }
        for s in config.list(level).map_err(cfg_err)? {
            if a.show_origin {
                p.out(format!(
                    "{}\t{}={}",
                    super::display_rel(&cwd, &s.file),
                    s.key,
                    s.value
                ));
            } else {
                p.out(format!("{}={}", s.key, s.value));
            }
        }
        return Ok(0);
    }
    let Some(name) = a.name else {
        // DVC's words and exit code for `config` without a name or `--list`.
        return Err(Failure::new(
            anyhow::anyhow!("name argument is required"),
            1,
        ));
    };
    // Setting at the default level writes the repo config, or the global
    // one outside a repository.
    let write_level = level.or(if repo.is_some() {
        Some(Level::Repo)
    } else {
        Some(Level::Global)
    });
    if a.unset {
        config.unset(write_level, &name).map_err(cfg_err)?;
        return Ok(0);
    }
    match a.value {
        Some(v) => {
            config.set(write_level, &name, &v).map_err(cfg_err)?;
        }
        None => match config.get(level, &name).map_err(cfg_err)? {
            Some(s) => {
                if a.show_origin {
                    p.out(format!(
                        "{}\t{}",
                        super::display_rel(&cwd, &s.file),
                        s.value
                    ));
                } else {
                    p.out(s.value.to_string());
                }
            }
            // DVC looks through every level and says nothing when none
            // sets it; with a level given, `get` has said what is missing.
            None if level.is_none() => {}
            None => {
                return Err(Failure::new(
                    anyhow::anyhow!("config file error: option '{name}' doesn't exist"),
                    251,
                ));
            }
        },
    }
    Ok(0)
}
