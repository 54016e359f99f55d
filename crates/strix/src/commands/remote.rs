//! `strix remote`: add, modify, default, list, remove, rename.

use super::cache::cfg_err;
use super::config::LevelArgs;
use crate::ui::Printer;
use crate::ui::errors::Failure;
use strix_config::{Config, ConfigPaths, Level};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    cmd: RemoteCmd,
}

#[derive(Debug, clap::Subcommand)]
enum RemoteCmd {
    /// Add a remote.
    Add(AddArgs),
    /// Set or unset an option of a remote.
    Modify(ModifyArgs),
    /// Show, set or unset the default remote.
    Default(DefaultArgs),
    /// List the remotes.
    List(ListArgs),
    /// Remove a remote.
    Remove(NameArgs),
    /// Rename a remote.
    Rename(RenameArgs),
}

#[derive(Debug, clap::Args)]
struct AddArgs {
    /// Name of the remote.
    name: String,
    /// URL or path of the remote storage.
    url: String,
    /// Make it the default remote.
    #[arg(short, long)]
    default: bool,
    /// Overwrite an existing remote of that name.
    #[arg(short, long)]
    force: bool,
    #[command(flatten)]
    level: LevelArgs,
}

#[derive(Debug, clap::Args)]
struct ModifyArgs {
    /// Name of the remote.
    name: String,
    /// The option.
    option: String,
    /// Its value.
    value: Option<String>,
    /// Unset the option.
    #[arg(short, long)]
    unset: bool,
    #[command(flatten)]
    level: LevelArgs,
}

#[derive(Debug, clap::Args)]
struct DefaultArgs {
    /// Name of the remote to make the default.
    name: Option<String>,
    /// Unset the default remote.
    #[arg(short, long)]
    unset: bool,
    #[command(flatten)]
    level: LevelArgs,
}

#[derive(Debug, clap::Args)]
struct ListArgs {
    #[command(flatten)]
    level: LevelArgs,
}

#[derive(Debug, clap::Args)]
struct NameArgs {
    /// Name of the remote.
    name: String,
    #[command(flatten)]
    level: LevelArgs,
}

#[derive(Debug, clap::Args)]
struct RenameArgs {
    /// Current name.
    name: String,
    /// New name.
    new: String,
    #[command(flatten)]
    level: LevelArgs,
}

fn load(level: Option<Level>) -> Result<(Config, bool), Failure> {
    let cwd = super::cwd()?;
    let repo = strix_repo::Repo::discover(&cwd).ok();
    if repo.is_none() && level.is_some_and(|l| l.is_repo_level()) {
        return Err(strix_repo::RepoError::NotARepo.into());
    }
    let dvc_dir = repo.as_ref().map(|r| r.dvc_dir());
    let config = Config::load_unvalidated(ConfigPaths::from_env(dvc_dir), &cwd).map_err(cfg_err)?;
    Ok((config, repo.is_some()))
}

/// The level a write goes to: the one asked for, else the repo config
/// (the global one outside a repository).
fn write_level(level: Option<Level>, in_repo: bool) -> Option<Level> {
    level.or(Some(if in_repo { Level::Repo } else { Level::Global }))
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    match a.cmd {
        RemoteCmd::Add(a) => {
            let (mut c, in_repo) = load(a.level.level())?;
            let lvl = write_level(a.level.level(), in_repo);
            c.remote_add(lvl, &a.name, &a.url, a.default, a.force)
                .map_err(cfg_err)?;
            if a.default {
                p.out(format!(
                    "Setting '{}' as a default remote.",
                    a.name.to_lowercase()
                ));
            }
        }
        RemoteCmd::Modify(a) => {
            if a.unset == a.value.is_some() {
                return Err(Failure::new(
                    anyhow::anyhow!(if a.unset {
                        "--unset takes no value"
                    } else {
                        "the following arguments are required: value"
                    }),
                    254,
                ));
            }
            let (mut c, in_repo) = load(a.level.level())?;
            let lvl = write_level(a.level.level(), in_repo);
            c.remote_modify(lvl, &a.name, &a.option, a.value.as_deref())
                .map_err(cfg_err)?;
        }
        RemoteCmd::Default(a) => {
            let (mut c, in_repo) = load(a.level.level())?;
            if a.unset {
                c.remote_unset_default(write_level(a.level.level(), in_repo))
                    .map_err(cfg_err)?;
            } else if let Some(name) = &a.name {
                c.remote_set_default(write_level(a.level.level(), in_repo), name)
                    .map_err(cfg_err)?;
            } else {
                match c.remote_default(a.level.level()).map_err(cfg_err)? {
                    Some(name) => p.out(name),
                    None => {
                        p.out("No default remote set");
                        return Ok(1);
                    }
                }
            }
        }
        RemoteCmd::List(a) => {
            let (c, _) = load(a.level.level())?;
            for e in c.remote_list(a.level.level()).map_err(cfg_err)? {
                p.out(e.to_line());
            }
        }
        RemoteCmd::Remove(a) => {
            let (mut c, in_repo) = load(a.level.level())?;
            c.remote_remove(write_level(a.level.level(), in_repo), &a.name)
                .map_err(cfg_err)?;
        }
        RemoteCmd::Rename(a) => {
            let (mut c, in_repo) = load(a.level.level())?;
            c.remote_rename(write_level(a.level.level(), in_repo), &a.name, &a.new)
                .map_err(cfg_err)?;
        }
    }
    Ok(0)
}
