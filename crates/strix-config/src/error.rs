//! The crate's error type.
//!
//! Every variant that DVC reports as a `ConfigError` displays with DVC's
//! `config file error: ` prefix, so the binary can print
//! `ERROR: configuration error - {err}` and exit 251.

use crate::paths::Level;
use std::io;
use std::path::PathBuf;

/// Why reading, validating or editing the configuration failed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A config file exists but could not be read.
    #[error("config file error: cannot read '{}': {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A config file is not valid configobj syntax.
    #[error("config file error: {message} in '{}'", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first problem, if known.
        line: Option<usize>,
        /// configobj's description.
        message: String,
    },
    /// The merged configuration breaks DVC's schema. `message` is
    /// voluptuous's text, e.g. `extra keys not allowed @ data['core']['bogus']`.
    #[error("config file error: {message}")]
    Invalid {
        /// voluptuous's message.
        message: String,
        /// The key path of the offending entry.
        key: Vec<String>,
        /// The file that set the offending entry, when it can be told.
        file: Option<PathBuf>,
    },
    /// A value cannot be written so that it reads back unchanged (for
    /// example a list item holding a newline).
    #[error("config file error: value {value:?} cannot be safely quoted in '{}'", path.display())]
    Unwritable {
        /// The file being written.
        path: PathBuf,
        /// The offending value.
        value: String,
    },
    /// Writing a config file failed.
    #[error("config file error: cannot write '{}': {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A repo-level file was asked for outside a repository.
    #[error("config file error: Not inside a DVC repo")]
    NotInRepo {
        /// The level asked for.
        level: Level,
    },
    /// An option name is not `section.option`, `remote.name.option` or
    /// `db.name.option`.
    #[error(
        "name argument should look like remote.name.option or db.name.option or section.option"
    )]
    BadName {
        /// The name as given.
        name: String,
    },
    /// `dvc config` on a section that does not exist. `kind` is `section`,
    /// `remote` or `db`.
    #[error("config file error: {kind} '{name}' doesn't exist")]
    NoSuchSection {
        /// `section`, `remote` or `db`.
        kind: String,
        /// The section name.
        name: String,
    },
    /// `dvc config` on an option that does not exist.
    #[error("config file error: option '{option}' doesn't exist in {kind} '{name}'")]
    NoSuchOption {
        /// `section`, `remote` or `db`.
        kind: String,
        /// The section name.
        name: String,
        /// The option name.
        option: String,
    },
    /// `remote add` of a name that exists, without `--force`.
    #[error("config file error: remote '{name}' already exists. Use `-f|--force` to overwrite it.")]
    RemoteExists {
        /// The remote name.
        name: String,
    },
    /// `remote modify/remove/rename` of a remote missing at the level.
    #[error("config file error: remote '{name}' doesn't exist.")]
    RemoteMissing {
        /// The remote name.
        name: String,
    },
    /// A remote named for use (`-r name`, `core.remote`) is not configured.
    #[error("config file error: remote '{name}' doesn't exist")]
    RemoteNotFound {
        /// The remote name as given.
        name: String,
    },
    /// `remote rename` to a name already in use at any level.
    #[error("config file error: Rename failed. Remote name {} already exists.", crate::value::py_repr(.name))]
    RenameTargetExists {
        /// The new name.
        name: String,
    },
    /// `remote default <name>` for a remote that is not configured.
    #[error("config file error: default remote must be present in remote list.")]
    DefaultNotListed {
        /// The remote name.
        name: String,
    },
    /// `remote://` references loop or nest too deeply.
    #[error("config file error: remote '{name}' refers to itself through remote:// URLs")]
    RemoteCycle {
        /// The remote where resolution gave up.
        name: String,
    },
}
