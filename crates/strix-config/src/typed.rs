//! Typed accessors on the merged configuration.
//!
//! Each accessor checks its value the way DVC's schema does, so a config
//! loaded with [`Config::load_unvalidated`] still yields DVC's error text.

use crate::config::Config;
use crate::error::ConfigError;
use crate::paths::Level;
use crate::schema;
use crate::value::Value;
use std::path::PathBuf;
use strix_fs::link::LinkType;

/// A resolved value and the level that set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sourced<T> {
    /// The value.
    pub value: T,
    /// The level whose file set it.
    pub level: Level,
}

impl Config {
    fn checked(&self, section: &str, key: &str) -> Result<Option<(&Value, Level)>, ConfigError> {
        let Some((value, level)) = self.value(&[section, key]) else {
            return Ok(None);
        };
        if let Some(check) = schema::plain_check(section, key) {
            schema::check_value(check, Some(value)).map_err(|m| ConfigError::Invalid {
                message: format!("{m} for dictionary value @ data['{section}']['{key}']"),
                key: vec![section.to_string(), key.to_string()],
                file: self.file(level),
            })?;
        }
        Ok(Some((value, level)))
    }

    fn bool_opt(&self, section: &str, key: &str, default: bool) -> Result<bool, ConfigError> {
        Ok(self
            .checked(section, key)?
            .and_then(|(v, _)| v.as_str().and_then(schema::parse_bool))
            .unwrap_or(default))
    }

    fn str_opt(&self, section: &str, key: &str) -> Result<Option<String>, ConfigError> {
        Ok(self.checked(section, key)?.map(|(v, _)| v.to_string()))
    }

    /// `core.remote`: the default remote's name, lowercased (schema `Lower`).
    pub fn core_remote(&self) -> Result<Option<String>, ConfigError> {
        Ok(self.str_opt("core", "remote")?.map(|s| s.to_lowercase()))
    }

    /// `core.autostage` (default false).
    pub fn core_autostage(&self) -> Result<bool, ConfigError> {
        self.bool_opt("core", "autostage", false)
    }

    /// `core.interactive` (default false): `repro` asks before each stage.
    pub fn core_interactive(&self) -> Result<bool, ConfigError> {
        self.bool_opt("core", "interactive", false)
    }

    /// `core.no_scm` (default false).
    pub fn core_no_scm(&self) -> Result<bool, ConfigError> {
        self.bool_opt("core", "no_scm", false)
    }

    /// `core.hardlink_lock` (default false).
    pub fn core_hardlink_lock(&self) -> Result<bool, ConfigError> {
        self.bool_opt("core", "hardlink_lock", false)
    }

    /// `core.site_cache_dir`, as written (DVC does not resolve it).
    pub fn core_site_cache_dir(&self) -> Result<Option<PathBuf>, ConfigError> {
        Ok(self.str_opt("core", "site_cache_dir")?.map(PathBuf::from))
    }

    /// `core.checksum_jobs` (at least 1).
    pub fn core_checksum_jobs(&self) -> Result<Option<u32>, ConfigError> {
        Ok(self.checked("core", "checksum_jobs")?.and_then(|(v, _)| {
            v.as_str()
                .and_then(|s| s.trim().replace('_', "").parse().ok())
        }))
    }

    /// `cache.dir`, resolved against the directory of the file that set it.
    pub fn cache_dir(&self) -> Result<Option<Sourced<PathBuf>>, ConfigError> {
        Ok(self.checked("cache", "dir")?.and_then(|(v, level)| {
            v.as_str().map(|s| Sourced {
                value: PathBuf::from(s),
                level,
            })
        }))
    }

    /// `cache.type`: the link types in order (a string is split on commas).
    /// Unknown types fail with DVC's `Unsupported cache type(s): …`.
    pub fn cache_types(&self) -> Result<Option<Vec<LinkType>>, ConfigError> {
        let Some((value, _)) = self.checked("cache", "type")? else {
            return Ok(None);
        };
        let names = schema::cache_types(value).unwrap_or_default();
        Ok(Some(
            names.iter().filter_map(|n| LinkType::parse(n)).collect(),
        ))
    }

    /// `cache.shared`: true for `group` (the only accepted value).
    pub fn cache_shared_group(&self) -> Result<bool, ConfigError> {
        Ok(self.checked("cache", "shared")?.is_some())
    }
}
