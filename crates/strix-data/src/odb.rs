//! The content-addressed object database (the cache), in DVC 3's layout.
//!
//! ```text
//! <cache dir>/files/md5/<oid[0:2]>/<oid[2:]>   DVC 3 objects (`hash: md5`), `.dir` manifests included
//! <cache dir>/<oid[0:2]>/<oid[2:]>             legacy 2.x objects (md5-dos2unix ids)
//! <cache dir>/runs/<key[0:2]>/<key>/<value>    run-cache entries
//! ```
//!
//! Every object is written under a temporary name in its final directory,
//! made mode 0444, and renamed into place, so no partial object ever has a
//! final name. DVC trusts 0444 objects without rehashing, so nothing else
//! may carry that mode. Names ending in `.tmp` are temporaries and are never
//! objects.

use crate::hash::{HashKind, md5_stream};
use crate::oid::{Md5, Oid};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Errors of the object database.
#[derive(Debug, thiserror::Error)]
pub enum OdbError {
    #[error("failed to read '{path}'")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("failed to write cache object '{path}'")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("'{path}' changed while it was being saved (expected md5 {expected}, read {actual})")]
    Changed {
        path: PathBuf,
        expected: Md5,
        actual: Md5,
    },
    #[error("cache object {oid} is corrupted: its content hashes to {actual}")]
    Corrupted { oid: Oid, actual: Md5 },
}

/// Which on-disk layout an object lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// `files/md5/xx/…` (DVC 3).
    V3,
    /// `xx/…` directly under the cache dir (DVC 2.x).
    Legacy,
}

impl Layout {
    pub fn for_kind(kind: HashKind) -> Self {
        match kind {
            HashKind::Md5 => Layout::V3,
            HashKind::Md5Dos2Unix => Layout::Legacy,
        }
    }
}

/// The cache of one repository.
#[derive(Debug, Clone)]
pub struct Odb {
    root: PathBuf,
    /// `cache.shared = group`: directories 2775, temporaries 0664.
    shared_group: bool,
}

impl Odb {
    pub fn new(root: impl Into<PathBuf>, shared_group: bool) -> Self {
        Self {
            root: root.into(),
            shared_group,
        }
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The directory holding objects of one layout.
    pub fn layout_root(&self, layout: Layout) -> PathBuf {
        match layout {
            Layout::V3 => self.root.join("files").join("md5"),
            Layout::Legacy => self.root.clone(),
        }
    }

    /// Where an object lives.
    pub fn path(&self, oid: &Oid, layout: Layout) -> PathBuf {
        let hex = oid.to_string();
        self.layout_root(layout).join(&hex[..2]).join(&hex[2..])
    }

    /// Whether the object exists (without checking its content).
    pub fn exists(&self, oid: &Oid, layout: Layout) -> bool {
        fs::symlink_metadata(self.path(oid, layout)).is_ok()
    }

    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        fs::create_dir_all(dir)?;
        if self.shared_group {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o2775))?;
        }
        Ok(())
    }

    /// Stores bytes (a `.dir` manifest) under `oid`, atomically.
    pub fn put_bytes(&self, oid: &Oid, layout: Layout, data: &[u8]) -> Result<(), OdbError> {
        let dest = self.path(oid, layout);
        if dest.exists() {
            return Ok(());
        }
        let werr = |source| OdbError::Write {
            path: dest.clone(),
            source,
        };
        self.ensure_dir(dest.parent().expect("object has a parent"))
            .map_err(werr)?;
        let mut f = strix_fs::AtomicFile::create(&dest, 0o444, false).map_err(werr)?;
        f.write_all(data).map_err(werr)?;
        f.commit().map_err(werr)
    }

    /// Copies a workspace file into the cache, hashing the bytes as they are
    /// copied. The object is only renamed into place if the copied bytes hash
    /// to `expected` (when given), so a file that changes under us never
    /// produces a wrong object. Returns the md5 and size of what was stored.
    /// Does nothing (but still verifies nothing) if the object exists.
    pub fn put_file(
        &self,
        src: &Path,
        expected: Option<Md5>,
        layout: Layout,
    ) -> Result<(Md5, u64), OdbError> {
        if let Some(md5) = expected {
            let dest = self.path(&Oid::file(md5), layout);
            if fs::symlink_metadata(&dest).is_ok() {
                let size = fs::metadata(src)
                    .map_err(|source| OdbError::Read {
                        path: src.to_path_buf(),
                        source,
                    })?
                    .len();
                return Ok((md5, size));
            }
        }
        let rerr = |source| OdbError::Read {
            path: src.to_path_buf(),
            source,
        };
        let mut input = File::open(src).map_err(rerr)?;
        // The temp file lives in the layout root until we know the md5.
        let staging = self.layout_root(layout);
        let werr = |source| OdbError::Write {
            path: staging.clone(),
            source,
        };
        self.ensure_dir(&staging).map_err(werr)?;
        let tmp = strix_fs::temp_path_in(&staging);
        let mut guard = TempGuard(Some(tmp.clone()));
        let mut out = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(werr)?;
        let (md5, size) = md5_stream(&mut input, Some(&mut out)).map_err(|e| {
            if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc_efbig()) {
                werr(e)
            } else {
                // Could be either side; name the source as DVC users expect.
                OdbError::Write {
                    path: src.to_path_buf(),
                    source: e,
                }
            }
        })?;
        if let Some(exp) = expected
            && exp != md5
        {
            return Err(OdbError::Changed {
                path: src.to_path_buf(),
                expected: exp,
                actual: md5,
            });
        }
        out.set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(werr)?;
        drop(out);
        let dest = self.path(&Oid::file(md5), layout);
        self.ensure_dir(dest.parent().expect("object has a parent"))
            .map_err(werr)?;
        fs::rename(&tmp, &dest).map_err(werr)?;
        guard.0 = None;
        Ok((md5, size))
    }

    /// Re-hashes an object and compares it with its id.
    pub fn verify(&self, oid: &Oid, layout: Layout) -> Result<(), OdbError> {
        let path = self.path(oid, layout);
        let (actual, _) = crate::hash::md5_file(&path).map_err(|source| OdbError::Read {
            path: path.clone(),
            source,
        })?;
        if actual != oid.md5 {
            return Err(OdbError::Corrupted { oid: *oid, actual });
        }
        Ok(())
    }

    /// Reads a `.dir` manifest object, verifying its hash.
    pub fn read_manifest(
        &self,
        oid: &Oid,
        layout: Layout,
    ) -> Result<crate::manifest::Manifest, ManifestReadError> {
        let path = self.path(oid, layout);
        let bytes = fs::read(&path).map_err(|source| ManifestReadError::Missing {
            oid: *oid,
            path: path.clone(),
            source,
        })?;
        let actual = crate::hash::md5_bytes(&bytes);
        if actual != oid.md5 {
            return Err(ManifestReadError::Corrupted { oid: *oid, actual });
        }
        crate::manifest::Manifest::parse(&bytes)
            .map_err(|source| ManifestReadError::Invalid { oid: *oid, source })
    }
}

/// Why a `.dir` object could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ManifestReadError {
    #[error("directory manifest {oid} is not in the cache ('{path}')")]
    Missing {
        oid: Oid,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("directory manifest {oid} is corrupted: its content hashes to {actual}")]
    Corrupted { oid: Oid, actual: Md5 },
    #[error("directory manifest {oid} is invalid")]
    Invalid {
        oid: Oid,
        #[source]
        source: crate::manifest::ManifestError,
    },
}

fn libc_efbig() -> i32 {
    libc::EFBIG
}

struct TempGuard(Option<PathBuf>);

impl Drop for TempGuard {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_file_writes_readonly_object_and_dedupes() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let src = dir.path().join("hello.txt");
        fs::write(&src, b"hello\n").unwrap();
        let (md5, size) = odb.put_file(&src, None, Layout::V3).unwrap();
        assert_eq!(md5.to_hex(), "b1946ac92492d2347c6235b4d2611184");
        assert_eq!(size, 6);
        let obj = dir
            .path()
            .join("cache/files/md5/b1/946ac92492d2347c6235b4d2611184");
        assert_eq!(fs::read(&obj).unwrap(), b"hello\n");
        assert_eq!(
            fs::metadata(&obj).unwrap().permissions().mode() & 0o777,
            0o444
        );
        odb.put_file(&src, Some(md5), Layout::V3).unwrap();
        odb.verify(&Oid::file(md5), Layout::V3).unwrap();
        // No temporaries left behind.
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("cache/files/md5"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn changed_source_leaves_no_object() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let src = dir.path().join("f");
        fs::write(&src, b"new content").unwrap();
        let err = odb
            .put_file(&src, Some(Md5::EMPTY), Layout::V3)
            .unwrap_err();
        assert!(matches!(err, OdbError::Changed { .. }));
        let n = fs::read_dir(dir.path().join("cache/files/md5"))
            .unwrap()
            .count();
        assert_eq!(n, 0);
    }

    #[test]
    fn corrupted_object_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let src = dir.path().join("f");
        fs::write(&src, b"data").unwrap();
        let (md5, _) = odb.put_file(&src, None, Layout::V3).unwrap();
        let obj = odb.path(&Oid::file(md5), Layout::V3);
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"dat4").unwrap();
        assert!(matches!(
            odb.verify(&Oid::file(md5), Layout::V3),
            Err(OdbError::Corrupted { .. })
        ));
    }
}
