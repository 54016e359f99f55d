//! strix's data layer: streaming MD5, `.dir` manifests, the stat→hash state
//! database, the object database (cache), directory walks, and building and
//! checking out trees.
//!
//! Knows nothing about stages, Git or remotes.

pub mod checkout;
pub mod complete;
pub mod digest;
pub mod hash;
pub mod listing;
pub mod manifest;
pub mod odb;
pub mod oid;
pub mod progress;
pub mod pyjson;
pub mod state;
pub mod tree;
pub mod walk;

pub use digest::Md5Hasher;
pub use hash::HashKind;
pub use manifest::{Entry, Manifest};
pub use odb::{Adoption, Layout, Odb};
pub use oid::{Md5, Oid};
pub use progress::{NoProgress, Progress};
pub use state::{FileStat, StateDb};
