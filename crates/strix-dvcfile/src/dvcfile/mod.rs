//! `.dvc` files: the single-stage metafiles written by `dvc add` and `dvc import*`.
//!
//! # Format (spec sections 2.1–2.7)
//!
//! A `.dvc` file sits next to the data it tracks and is a YAML mapping:
//!
//! ```yaml
//! outs:
//! - md5: bf8385e2b15aea0801b306267fe382bc.dir
//!   size: 57
//!   nfiles: 13
//!   hash: md5
//!   path: data
//! ```
//!
//! Top-level keys, in the order DVC writes them: `desc` (str), `md5` (stage
//! checksum, imports only), `wdir` (written only if not `.`), `frozen` (bool),
//! `deps` (list, imports only), `outs` (list), `always_changed` (bool), `meta`
//! (anything). `locked` is read as a 1.x alias of `frozen`. Any other key is an
//! error; `cmd` marks a legacy single-stage file ([`DvcFileError::LegacyStage`]).
//!
//! Each `outs` entry: `md5` (`<32 hex>` or `<32 hex>.dir`, lowercased when read; an
//! int is turned into a string; `""` means none), `size`, `nfiles` (directories),
//! `isexec` (written only when true), `hash` (`md5` for DVC 3 entries; **absent
//! for legacy 2.x entries**, whose `md5` is the dos2unix hash and whose objects
//! live in the old cache layout), `path` (POSIX, relative to the file's directory
//! joined with `wdir`), then the annotations `desc`, `type`, `labels`, `meta`,
//! and `cache` (written only when false), `persist` (only when true), `remote`,
//! `push` (only when false). Cloud/versioning keys (`etag`, `checksum`,
//! `version_id`, `cloud`, `files`, `fs_config`, `metric`, `plot`) are kept
//! verbatim in [`Output::extra`].
//!
//! `deps` entries (imports) have the same hash keys plus `repo` (for
//! `dvc import`), `db`, `dataset`; their path may be absolute or a URL.

mod dump;
mod parse;
mod update;

pub use update::{UpdateError, update_text, update_value_text};

use crate::schema::SchemaError;
use crate::yaml::{Mapping, SourcePos, Value, YamlError};

/// A parsed `.dvc` file. See the [module docs](self) for the format.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DvcFile {
    /// User description (`desc`).
    pub desc: Option<String>,
    /// Stage checksum (`md5`), written for imports only.
    pub md5: Option<String>,
    /// Working directory of the stage (`wdir`), relative; `None` means `.`.
    pub wdir: Option<String>,
    /// `frozen: true` (or the 1.x alias `locked`).
    pub frozen: bool,
    /// Dependencies (imports only).
    pub deps: Vec<Dependency>,
    /// Outputs.
    pub outs: Vec<Output>,
    /// `always_changed: true`.
    pub always_changed: bool,
    /// Free-form user data (`meta`).
    pub meta: Option<Value>,
}

/// One `outs` entry of a `.dvc` file.
#[derive(Debug, Clone, PartialEq)]
pub struct Output {
    /// Relative POSIX path (checked: non-empty, relative, no escape via `..`).
    pub path: String,
    /// Lowercased checksum; ends in `.dir` for directories.
    pub md5: Option<String>,
    /// Size in bytes (for directories: the sum of the file sizes).
    pub size: Option<u64>,
    /// Number of files (directories only).
    pub nfiles: Option<u64>,
    /// Whether the file has an exec bit set.
    pub isexec: bool,
    /// Hash name: `Some("md5")` for DVC 3 entries, `None` for legacy 2.x entries.
    pub hash: Option<String>,
    /// `cache` (default true).
    pub cache: bool,
    /// `persist` (default false).
    pub persist: bool,
    /// `push` (default true).
    pub push: bool,
    /// Per-output remote name.
    pub remote: Option<String>,
    /// Annotation `desc` (a str), kept as written.
    pub desc: Option<Value>,
    /// Annotation `type` (a str), kept as written.
    pub type_: Option<Value>,
    /// Annotation `labels` (a list of str), kept as written.
    pub labels: Option<Value>,
    /// Annotation `meta` (anything), kept as written.
    pub meta: Option<Value>,
    /// Other allowed keys (`etag`, `checksum`, `version_id`, `cloud`, `files`,
    /// `fs_config`, `metric`, `plot`), kept verbatim.
    pub extra: Mapping,
}

/// One `deps` entry of a `.dvc` file (imports).
#[derive(Debug, Clone, PartialEq)]
pub struct Dependency {
    /// Path as written: relative, absolute, or a URL.
    pub path: String,
    /// Lowercased checksum.
    pub md5: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Number of files.
    pub nfiles: Option<u64>,
    /// Exec bit.
    pub isexec: bool,
    /// `Some("md5")` for DVC 3 entries, `None` for legacy ones.
    pub hash: Option<String>,
    /// `repo: {url, rev, rev_lock, …}` of `dvc import`.
    pub repo: Option<Value>,
    /// Other allowed keys (`etag`, `checksum`, `version_id`, `cloud`, `files`,
    /// `fs_config`, `persist`, `db`, `dataset`), kept verbatim.
    pub extra: Mapping,
}

/// The contents of a legacy single-stage `.dvc` file (one with `cmd:`), kept so a
/// later version can support it.
#[derive(Debug, Clone, PartialEq)]
pub struct LegacyStage {
    /// The `cmd` value.
    pub cmd: Value,
    /// The whole top-level mapping.
    pub document: Mapping,
}

/// Errors from reading a `.dvc` file.
#[derive(Debug, thiserror::Error)]
pub enum DvcFileError {
    /// Not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Valid YAML that does not match the `.dvc` schema.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// The top level is not a mapping.
    #[error("{at}: expected a mapping at the top level, found {found}")]
    NotAMapping {
        /// The file.
        at: SourcePos,
        /// The type found.
        found: &'static str,
    },
    /// A legacy single-stage file (top-level `cmd`), not supported yet.
    #[error("{at}: legacy single-stage file with `cmd` is not supported")]
    LegacyStage {
        /// Position of the `cmd` key.
        at: SourcePos,
        /// What was parsed.
        stage: Box<LegacyStage>,
    },
}

impl Output {
    /// A DVC 3 output with only a path (`hash: md5`, defaults elsewhere).
    pub fn new(path: impl Into<String>) -> Self {
        Output {
            path: path.into(),
            md5: None,
            size: None,
            nfiles: None,
            isexec: false,
            hash: Some("md5".to_owned()),
            cache: true,
            persist: false,
            push: true,
            remote: None,
            desc: None,
            type_: None,
            labels: None,
            meta: None,
            extra: Mapping::new(),
        }
    }

    /// True for a legacy 2.x entry (no `hash` key): its `md5` is the dos2unix
    /// hash and its objects use the old cache layout.
    pub fn is_legacy(&self) -> bool {
        self.hash.is_none()
    }

    /// True if the checksum names a directory object (`….dir`).
    pub fn is_dir_hash(&self) -> bool {
        self.md5.as_deref().is_some_and(|m| m.ends_with(".dir"))
    }
}

impl Dependency {
    /// A DVC 3 dependency with only a path.
    pub fn new(path: impl Into<String>) -> Self {
        Dependency {
            path: path.into(),
            md5: None,
            size: None,
            nfiles: None,
            isexec: false,
            hash: Some("md5".to_owned()),
            repo: None,
            extra: Mapping::new(),
        }
    }

    /// True for a legacy 2.x entry (no `hash` key).
    pub fn is_legacy(&self) -> bool {
        self.hash.is_none()
    }

    /// True if the checksum names a directory object.
    pub fn is_dir_hash(&self) -> bool {
        self.md5.as_deref().is_some_and(|m| m.ends_with(".dir"))
    }
}

impl DvcFile {
    /// Parses `.dvc` text. `name` (usually the file's path) appears in errors as
    /// `name:line:col`.
    pub fn parse(text: &str, name: &str) -> Result<Self, DvcFileError> {
        parse::parse(text, name)
    }

    /// The document as DVC would dump it for a fresh file (keys in DVC's order,
    /// defaults omitted).
    pub fn to_value(&self) -> Value {
        dump::to_value(self)
    }

    /// The text of a freshly written file, byte-identical to DVC's.
    pub fn to_yaml(&self) -> String {
        crate::yaml::to_string(&self.to_value())
    }
}

#[cfg(test)]
mod tests;
