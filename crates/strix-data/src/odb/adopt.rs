//! Adopting a large workspace file as a cache object.
//!
//! Copying a large file into the cache means waiting for every byte of the
//! copy to reach the disk before the `.dvc` file may point at it. Adoption
//! turns that around, as DVC's own "move to cache" does, but safely:
//!
//! 1. the file is opened read-only and a read lease proves that nobody has
//!    it open for writing (else: no adoption, the caller copies);
//! 2. it is hashed while a copy is written to a temporary in the cache
//!    directory (same filesystem), with the file's mode and owner;
//! 3. its data is made durable (`fdatasync`: nearly free for a file that is
//!    already on disk) and its inode is linked, by descriptor, under the
//!    object's name, still with the workspace mode (an object that is not
//!    0444 is not trusted: DVC and strix verify it before use);
//! 4. the object's directory entries are flushed (the original bytes keep a
//!    durable name), then the copy takes the workspace path's place
//!    ([`strix_fs::replace`]: an exchange, which does not make ext4 write
//!    out the whole copy first as a rename over the file would);
//! 5. the lease must still be intact: nobody tried to open the file for
//!    writing meanwhile (such an opener is blocked by the lease, so it has
//!    written nothing yet). If somebody did, the original inode is renamed
//!    back to the workspace path, where the opener expects it, and the
//!    caller copies instead;
//! 6. only then does the object become read-only (0444, trusted).
//!
//! At every point the workspace path holds the complete original bytes
//! with their mode (the original inode until step 4, then an identical
//! copy), and the object name, once it exists, holds exactly the hashed
//! bytes. A kill leaves at most a temporary in the cache, removed by the
//! next run. The workspace copy is not forced to disk: the cache holds the
//! durable bytes.
//!
//! With [`Adoption::Link`] (link types `hardlink` and `symlink`) there is no
//! copy: the file is hashed in place (steps 2 and 4 vanish), its inode is
//! linked under the object's name, and after the lease check it becomes
//! read-only and its name is made durable. The workspace path then is a hard link to the object until the
//! caller replaces it by the configured link, as DVC's "move to cache" and
//! link back leave it. If a writer turned up, the object's name is removed
//! again and the caller copies.

use super::{Adoption, Layout, Odb, OdbError, Stored, TempGuard, check_expected};
use crate::oid::{Md5, Oid};
use crate::state::FileStat;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strix_fs::lease::ReadLease;

impl Odb {
    /// Adopts the large file `src` (open as `input`, at offset 0) as the
    /// object for its content. `Ok(None)` when adoption is not safe or not
    /// possible here; the caller then copies.
    pub(super) fn adopt(
        &self,
        src: &Path,
        input: &File,
        expected: Option<Md5>,
        layout: Layout,
    ) -> Result<Option<Stored>, OdbError> {
        let rerr = |source| OdbError::Read {
            path: src.to_path_buf(),
            source,
        };
        let meta = input.metadata().map_err(rerr)?;
        // Another name (a hard link elsewhere) could change the object.
        if !meta.is_file() || meta.nlink() != 1 {
            return Ok(None);
        }
        let staging = self.layout_root(layout);
        if self.ensure_dir(&staging).is_err() {
            return Ok(None);
        }
        match fs::metadata(&staging) {
            Ok(m) if m.dev() == meta.dev() => {}
            _ => return Ok(None),
        }
        let Some(lease) = ReadLease::take(input) else {
            return Ok(None);
        };

        if self.adopt == Adoption::Link {
            return self.adopt_in_place(src, input, expected, layout, lease);
        }
        let werr = |source| OdbError::Write {
            path: staging.clone(),
            source,
        };
        let mode = meta.permissions().mode() & 0o7777;
        let tmp = strix_fs::temp_path_in(&staging);
        let mut guard = TempGuard(Some(tmp.clone()));
        let copy = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(werr)?;
        let (md5, size) = std::thread::scope(|s| {
            // The original's pending writes (a file just written) go to
            // disk while it is hashed, so that its `fdatasync` below finds
            // little left to do.
            s.spawn(|| strix_fs::start_writeback(input, 0, 0));
            // The lease keeps writers out: the copy holds the hashed bytes.
            crate::hash::md5_beside_copy(input, &copy)
        })
        .map_err(|e| {
            if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc::EFBIG) {
                werr(e)
            } else {
                rerr(e)
            }
        })?;
        check_expected(src, expected, md5)?;
        copy.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(werr)?;
        // Keep the owner when we can (root adding another user's file).
        let _ = std::os::unix::fs::fchown(&copy, Some(meta.uid()), Some(meta.gid()));
        if !lease.intact() {
            return Ok(None);
        }

        let dest = match self.name_as_object(src, input, md5, layout)? {
            Named::Object(dest) => dest,
            // The cache has it already: the workspace stays as it was.
            Named::Exists => return Ok(Some(Stored::kept(md5, size))),
            Named::Not => return Ok(None),
        };
        let oerr = |source| OdbError::Write {
            path: dest.clone(),
            source,
        };
        // The object's name reaches the disk before the workspace name
        // moves to the copy: whatever a crash leaves of the copy, the
        // original bytes keep a name.
        if let Err(e) = self.sync_each(std::slice::from_ref(&dest)) {
            let _ = fs::remove_file(&dest);
            return Err(oerr(e));
        }
        if let Err(e) = strix_fs::replace(&tmp, src) {
            let _ = fs::remove_file(&dest);
            return Err(OdbError::Write {
                path: src.to_path_buf(),
                source: e,
            });
        }
        guard.0 = None;
        if !lease.intact() {
            // Somebody is opening the original for writing: give it back
            // its name (the copy it replaces holds the same bytes).
            return match fs::rename(&dest, src) {
                Ok(()) => Ok(None),
                Err(e) => Err(OdbError::Write {
                    path: src.to_path_buf(),
                    source: e,
                }),
            };
        }
        input
            .set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(oerr)?;
        drop(lease);
        let stat = copy.metadata().map_err(werr)?;
        Ok(Some(Stored {
            md5,
            size,
            replaced: Some(FileStat::from_metadata(&stat)),
        }))
    }

    /// [`Adoption::Link`]: the file's inode, hashed where it is, gets the
    /// object's name as a second one and becomes read-only.
    fn adopt_in_place(
        &self,
        src: &Path,
        input: &File,
        expected: Option<Md5>,
        layout: Layout,
        lease: ReadLease,
    ) -> Result<Option<Stored>, OdbError> {
        let rerr = |source| OdbError::Read {
            path: src.to_path_buf(),
            source,
        };
        let (md5, size) = std::thread::scope(|s| {
            s.spawn(|| strix_fs::start_writeback(input, 0, 0));
            crate::hash::md5_stream(&mut &*input, None)
        })
        .map_err(rerr)?;
        check_expected(src, expected, md5)?;
        if !lease.intact() {
            return Ok(None);
        }
        let dest = match self.name_as_object(src, input, md5, layout)? {
            Named::Object(dest) => dest,
            // The cache has it already: the workspace stays as it was.
            Named::Exists => return Ok(Some(Stored::kept(md5, size))),
            Named::Not => return Ok(None),
        };
        let oerr = |source| OdbError::Write {
            path: dest.clone(),
            source,
        };
        if !lease.intact() {
            // Somebody is opening the file for writing: the object's name
            // goes (the workspace name never moved) and the caller copies.
            fs::remove_file(&dest).map_err(oerr)?;
            return Ok(None);
        }
        input
            .set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(oerr)?;
        // The object's name is durable before a `.dvc` file points at it
        // (adopted objects are not part of the batch `Odb::sync` flushes).
        self.sync_each(std::slice::from_ref(&dest)).map_err(oerr)?;
        drop(lease);
        let stat = input.metadata().map_err(rerr)?;
        Ok(Some(Stored {
            md5,
            size,
            replaced: Some(FileStat::from_metadata(&stat)),
        }))
    }
}

/// What [`Odb::name_as_object`] did.
enum Named {
    /// The inode has the object's name too, at this path.
    Object(PathBuf),
    /// The cache holds the object already.
    Exists,
    /// The inode could not be linked (a filesystem without `linkat` from
    /// a descriptor): the caller copies.
    Not,
}

impl Odb {
    /// Makes the adopted inode's data durable and links it, by descriptor,
    /// under the name of the object `md5`.
    fn name_as_object(
        &self,
        src: &Path,
        input: &File,
        md5: Md5,
        layout: Layout,
    ) -> Result<Named, OdbError> {
        let dest = self.path(&Oid::file(md5), layout);
        input.sync_data().map_err(|source| OdbError::Read {
            path: src.to_path_buf(),
            source,
        })?;
        self.ensure_dir(dest.parent().expect("object has a parent"))
            .map_err(|source| OdbError::Write {
                path: dest.clone(),
                source,
            })?;
        Ok(match strix_fs::link_fd(input, &dest) {
            Ok(()) => Named::Object(dest),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Named::Exists,
            Err(_) => Named::Not,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::odb::SMALL_FILE;
    use std::os::unix::fs::MetadataExt;

    fn big(path: &Path, mode: u32) -> Vec<u8> {
        let data: Vec<u8> = (0..SMALL_FILE as usize + 4096)
            .map(|i| (i * 7 % 251) as u8)
            .collect();
        fs::write(path, &data).unwrap();
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
        data
    }

    fn no_temps(dir: &Path) {
        for e in fs::read_dir(dir).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!n.ends_with(".tmp"), "temporary left: {n}");
        }
    }

    #[test]
    fn adopted_inode_becomes_the_object_and_a_copy_replaces_it() {
        let d = tempfile::tempdir().unwrap();
        let odb = Odb::new(d.path().join("cache"), false).adopting(Adoption::Copy);
        let src = d.path().join("model.bin");
        let data = big(&src, 0o750);
        let before = fs::metadata(&src).unwrap();
        let stored = odb.put_file(&src, None, Layout::V3).unwrap();
        let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
        let after = fs::metadata(&src).unwrap();
        let objm = fs::metadata(&obj).unwrap();
        assert_eq!(fs::read(&src).unwrap(), data);
        assert_eq!(fs::read(&obj).unwrap(), data);
        assert_eq!(objm.permissions().mode() & 0o777, 0o444);
        assert_eq!(after.permissions().mode() & 0o777, 0o750, "mode kept");
        assert_eq!(after.nlink(), 1);
        assert_eq!(objm.nlink(), 1);
        if let Some(st) = stored.replaced {
            // Adopted: the old inode is the object, the workspace a copy.
            assert_eq!(objm.ino(), before.ino());
            assert_ne!(after.ino(), before.ino());
            assert_eq!(st, FileStat::from_metadata(&after));
        } else {
            // Leases unavailable here: a plain copy, workspace untouched.
            assert_eq!(after.ino(), before.ino());
        }
        odb.verify(&Oid::file(stored.md5), Layout::V3).unwrap();
        no_temps(d.path());
    }

    #[test]
    fn link_adoption_names_the_inode_without_copying() {
        let d = tempfile::tempdir().unwrap();
        let odb = Odb::new(d.path().join("cache"), false).adopting(Adoption::Link);
        let src = d.path().join("model.bin");
        let data = big(&src, 0o640);
        let before = fs::metadata(&src).unwrap();
        let stored = odb.put_file(&src, None, Layout::V3).unwrap();
        let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
        let after = fs::metadata(&src).unwrap();
        let objm = fs::metadata(&obj).unwrap();
        assert_eq!(fs::read(&obj).unwrap(), data);
        odb.verify(&Oid::file(stored.md5), Layout::V3).unwrap();
        if let Some(st) = stored.replaced {
            // Adopted: one inode under both names, read-only.
            assert_eq!(after.ino(), before.ino());
            assert_eq!(objm.ino(), before.ino());
            assert_eq!(objm.nlink(), 2);
            assert_eq!(objm.permissions().mode() & 0o777, 0o444);
            assert_eq!(st, FileStat::from_metadata(&after));
        } else {
            // Leases unavailable here: a copy, the workspace untouched.
            assert_ne!(objm.ino(), before.ino());
            assert_eq!(after.permissions().mode() & 0o777, 0o640);
        }
        no_temps(d.path());

        // A writer holding the file open: no adoption, no object name on it.
        let src = d.path().join("open.bin");
        let mut data = big(&src, 0o644);
        data[1] ^= 1;
        fs::write(&src, &data).unwrap();
        let writer = fs::OpenOptions::new().append(true).open(&src).unwrap();
        let ino = fs::metadata(&src).unwrap().ino();
        let stored = odb.put_file(&src, None, Layout::V3).unwrap();
        assert_eq!(stored.replaced, None);
        let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
        assert_ne!(fs::metadata(&obj).unwrap().ino(), ino);
        assert_eq!(fs::metadata(&src).unwrap().nlink(), 1);
        assert_eq!(
            fs::metadata(&src).unwrap().permissions().mode() & 0o777,
            0o644
        );
        drop(writer);
        no_temps(d.path());
    }

    #[test]
    fn no_adoption_of_files_with_other_names_or_open_writers() {
        let d = tempfile::tempdir().unwrap();
        let odb = Odb::new(d.path().join("cache"), false).adopting(Adoption::Copy);
        // A second hard link elsewhere.
        let src = d.path().join("a.bin");
        big(&src, 0o644);
        fs::hard_link(&src, d.path().join("other-name")).unwrap();
        let ino = fs::metadata(&src).unwrap().ino();
        let stored = odb.put_file(&src, None, Layout::V3).unwrap();
        assert_eq!(stored.replaced, None);
        assert_eq!(fs::metadata(&src).unwrap().ino(), ino);
        let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
        assert_ne!(fs::metadata(&obj).unwrap().ino(), ino);
        assert_eq!(
            fs::metadata(&src).unwrap().permissions().mode() & 0o777,
            0o644
        );

        // A file somebody holds open for writing.
        let src = d.path().join("b.bin");
        let mut data = big(&src, 0o644);
        data[0] ^= 1;
        fs::write(&src, &data).unwrap();
        let writer = fs::OpenOptions::new().append(true).open(&src).unwrap();
        let ino = fs::metadata(&src).unwrap().ino();
        let stored = odb.put_file(&src, None, Layout::V3).unwrap();
        assert_eq!(stored.replaced, None);
        let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
        assert_ne!(fs::metadata(&obj).unwrap().ino(), ino);
        drop(writer);
        no_temps(d.path());
    }

    #[test]
    fn wrong_expected_hash_adopts_nothing() {
        let d = tempfile::tempdir().unwrap();
        let odb = Odb::new(d.path().join("cache"), false).adopting(Adoption::Copy);
        let src = d.path().join("c.bin");
        let data = big(&src, 0o644);
        let ino = fs::metadata(&src).unwrap().ino();
        let err = odb
            .put_file(&src, Some(Md5::EMPTY), Layout::V3)
            .unwrap_err();
        assert!(matches!(err, OdbError::Changed { .. }));
        assert_eq!(fs::metadata(&src).unwrap().ino(), ino);
        assert_eq!(fs::read(&src).unwrap(), data);
        assert_eq!(
            fs::metadata(&src).unwrap().permissions().mode() & 0o777,
            0o644
        );
        no_temps(d.path());
        let objs = walk_files(&d.path().join("cache"));
        assert!(objs.is_empty(), "no object: {objs:?}");
    }

    fn walk_files(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        if let Ok(rd) = fs::read_dir(dir) {
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    out.extend(walk_files(&p));
                } else {
                    out.push(p);
                }
            }
        }
        out
    }
}
