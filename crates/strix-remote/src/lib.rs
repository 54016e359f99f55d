//! Remote storage for strix, in DVC's layout (spec 11.1):
//!
//! ```text
//! <remote>/files/md5/<oid[0:2]>/<oid[2:]>   DVC 3 objects, `.dir` manifests included
//! <remote>/<oid[0:2]>/<oid[2:]>             legacy 2.x objects
//! ```
//!
//! * [`Backend`]: the storage primitives (exists, list, upload, download,
//!   delete) over `/`-separated keys relative to the remote's root. A
//!   backend per scheme; this crate has [`LocalBackend`] (a local folder)
//!   and [`OpendalBackend`] (S3, SFTP, HTTP, WebDAV, Azure, GCS through
//!   Apache OpenDAL), and [`open_with_options`] picks the backend for a URL.
//! * [`transfer`]: the engine that pushes, fetches and compares sets of
//!   objects between the cache ([`strix_data::Odb`]) and a backend, in
//!   parallel, uploading a `.dir` only after all its files, and verifying
//!   every downloaded object before it gets its final name.
//!
//! Library code never prints: progress goes through [`strix_data::Progress`].

pub mod backend;
pub mod landing;
pub mod local;
pub mod opendal_backend;
pub mod source;
pub mod transfer;

pub use crate::opendal_backend::{OpendalBackend, Service};
pub use backend::{
    Backend, BackendError, OpenError, SizedKeys, open, open_with_options, split_scheme,
};
pub use local::{LocalBackend, Staged};
pub use transfer::{
    DirObject, FetchReport, ObjectRef, PushReport, Transfer, TransferError, object_key,
};
