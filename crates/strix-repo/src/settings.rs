//! The configuration values repository operations need, read once from
//! every config level when the repository is opened.

use crate::error::{RepoError, Result};
use std::path::{Path, PathBuf};
use strix_config::{Config, ConfigPaths};
use strix_fs::link::{DEFAULT_LINK_TYPES, LinkType};

/// Resolved settings of one repository.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `cache.dir`, absolute (default `.dvc/cache`).
    pub cache_dir: PathBuf,
    /// `cache.type` in preference order (default reflink, copy).
    pub link_types: Vec<LinkType>,
    /// `cache.shared = group`.
    pub shared_group: bool,
    /// `core.autostage`.
    pub autostage: bool,
    /// `core.no_scm`.
    pub no_scm: bool,
    /// `core.interactive`.
    pub interactive: bool,
    /// `core.remote`.
    pub default_remote: Option<String>,
}

/// Loads the merged configuration of the repository at `root`, honouring
/// DVC's environment overrides for the global and system levels.
pub fn load_config(root: &Path) -> Result<Config> {
    let paths = ConfigPaths::from_env(Some(root.join(".dvc")));
    Config::load(paths, root).map_err(RepoError::config)
}

impl Settings {
    pub fn load(root: &Path) -> Result<Self> {
        let config = load_config(root)?;
        Self::from_config(root, &config)
    }

    pub fn from_config(root: &Path, config: &Config) -> Result<Self> {
        let cache_dir = match config.cache_dir().map_err(RepoError::config)? {
            Some(s) if s.value.is_absolute() => s.value,
            Some(s) => root.join(".dvc").join(s.value),
            None => root.join(".dvc/cache"),
        };
        let link_types = match config.cache_types().map_err(RepoError::config)? {
            Some(v) if !v.is_empty() => v,
            _ => DEFAULT_LINK_TYPES.to_vec(),
        };
        Ok(Self {
            cache_dir: crate::repo::normalize(&cache_dir),
            link_types,
            shared_group: config.cache_shared_group().map_err(RepoError::config)?,
            autostage: config.core_autostage().map_err(RepoError::config)?,
            no_scm: config.core_no_scm().map_err(RepoError::config)?,
            interactive: config.core_interactive().map_err(RepoError::config)?,
            default_remote: config.core_remote().map_err(RepoError::config)?,
        })
    }
}
