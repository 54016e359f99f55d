//! Repository operations of strix: discovery and `init`, settings from
//! config, the index of `.dvc` files, and the commands that change data:
//! add, status, commit, checkout, move, remove, unprotect, destroy, diff.
//!
//! Libraries never print: every operation returns a typed report that the
//! binary renders.

pub mod add;
pub mod cache_check;
pub mod checkout;
pub mod commit;
pub mod data_status;
pub mod diff;
pub mod error;
pub mod gc;
pub mod ignore_rules;
pub mod index;
pub mod manage;
pub mod migrate;
pub mod outputs;
pub mod recovery;
pub mod repo;
pub mod revisions;
mod scratch;
pub mod settings;
pub mod status;
#[cfg(test)]
mod testutil;
pub mod to_remote;
pub mod transfer;
pub mod url_target;

pub use error::{RepoError, Result};
pub use repo::{InitOptions, Repo};
