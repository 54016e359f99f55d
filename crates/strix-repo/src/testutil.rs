//! Helpers for this crate's unit tests.

use crate::repo::{InitOptions, Repo};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A fresh repository without Git in a temporary folder.
pub(crate) fn scratch_repo() -> (tempfile::TempDir, Repo) {
    let dir = tempfile::tempdir().unwrap();
    let opts = InitOptions {
        no_scm: true,
        ..Default::default()
    };
    Repo::init(dir.path(), opts).unwrap();
    let repo = Repo::open(dir.path()).unwrap();
    (dir, repo)
}

/// Writes `data` at `path` as a cache object (mode 0444), whatever its
/// name says.
pub(crate) fn put_raw(path: &Path, data: &[u8]) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, data).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o444)).unwrap();
    path.to_path_buf()
}
