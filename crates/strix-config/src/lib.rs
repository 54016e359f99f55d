//! strix-config: DVC's configuration at every level.
//!
//! * [`ConfigPaths`] says where the system, global, repo (`.dvc/config`) and
//!   local (`.dvc/config.local`) files are; [`ConfigPaths::from_env`] is the
//!   only place the environment is read.
//! * [`Config`] loads the four levels (missing files are empty), merges them
//!   system → global → repo → local, validates the merge with DVC's schema,
//!   and offers typed accessors, `dvc config` reads and edits, and
//!   `dvc remote` operations.
//! * Files are configobj INI (spec §9.2). Section and key names are
//!   lowercased on read; `remote "x"`, `machine "x"` and `db "x"` sections
//!   become named entries. Every edit rewrites the whole file the way DVC
//!   does (comments dropped, named sections last, four-space indent,
//!   configobj quoting) and replaces it atomically.
//!
//! All errors are [`ConfigError`]; their text starts with
//! `config file error: ` like DVC's, which the binary reports as
//! `ERROR: configuration error - …` with exit code 251.

mod config;
mod error;
mod format;
mod paths;
mod pathutil;
mod remote;
mod schema;
mod typed;
mod value;

pub use config::{Config, ConfigName, Setting};
pub use error::ConfigError;
pub use paths::{ConfigPaths, Level};
pub use remote::{Remote, RemoteListEntry};
pub use schema::{Violation, Warning};
pub use typed::Sourced;
pub use value::Value;
