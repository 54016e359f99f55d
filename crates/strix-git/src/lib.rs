//! Git access for strix, through gix (reads) and the `git` executable
//! (staging).
//!
//! * [`GitRepo`]: discovery, index and ignore queries, files at revisions,
//!   `git add`.
//! * [`gitignore`]: the `.gitignore` entries DVC writes for outputs.
//!
//! Paths handed in are relative to the git work tree (absolute paths below
//! it are accepted too); paths handed out are repo-relative with `/`. The
//! DVC root may be a subdirectory of the work tree (`dvc init --subdir`), so
//! tree walks take a prefix.
//!
//! This crate knows no DVC metafile formats; the only DVC convention it
//! carries is the shape of `.gitignore` entries.

pub mod gitignore;
mod path;
mod refs;
mod repo;
mod revision;
mod stage;
mod status;
#[cfg(test)]
mod testutil;

pub use path::PathError;
pub use refs::RefsError;
pub use repo::{GitRepo, RepoError};
pub use revision::RevisionError;
pub use stage::StageError;
pub use status::{GitStatus, StatusError};
