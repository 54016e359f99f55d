//! strix-dvcfile: DVC's YAML metafiles.
//!
//! * [`yaml`]: an ordered YAML value, a reader with positions for errors, and an
//!   emitter for the exact profile DVC (ruamel.yaml) writes.
//! * [`dvcfile`]: `.dvc` files: model, parser with validation, fresh writing and
//!   in-place updating that keeps comments and formatting.
//! * [`lock`]: `dvc.lock` reader (schema 2.0).
//! * [`pipeline`]: `dvc.yaml` reader: stages, cmd, deps, outs, templated groups.
//! * [`path`]: safety checks for paths read from untrusted metafiles.
//! * [`schema`]: the shared schema-validation error.
//!
//! The library never prints; all failures are typed errors carrying the file name
//! and, where possible, `line:column`.

pub mod dvcfile;
pub mod lock;
pub mod path;
pub mod pipeline;
pub mod schema;
pub mod yaml;

pub use dvcfile::{
    Dependency, DvcFile, DvcFileError, LegacyStage, Output, UpdateError, update_text,
    update_value_text,
};
pub use lock::{LockEntry, LockError, LockFile, LockStage};
pub use path::{PathProblem, check_relative_path};
pub use pipeline::{
    OutKind, Pipeline, PipelineError, StageDef, StageOut, Template, parse_expanded,
};
pub use schema::SchemaError;
