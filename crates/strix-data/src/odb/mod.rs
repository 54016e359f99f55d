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

mod adopt;

use crate::hash::HashKind;
use crate::oid::{Md5, Oid};
use crate::state::FileStat;
use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, Read, Seek};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

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

/// How [`Odb::put_file`] treats a large workspace file whose inode nobody
/// else can reach (one name, no writer): see [`Odb::adopt`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adoption {
    /// Never: the object is a copy written by strix.
    No,
    /// The inode becomes the object and a fresh copy takes its place in
    /// the workspace (link type `copy`, or `reflink` falling back to it),
    /// so nothing waits for gigabytes of copy to reach the disk.
    Copy,
    /// The inode becomes the object and stays in the workspace, read-only,
    /// until the caller replaces it by a link (link types `hardlink` and
    /// `symlink`): no byte is copied, as DVC's "move to cache".
    Link,
}

/// Objects written since the last [`Odb::sync`], while there are few.
#[derive(Debug, Default)]
struct Pending {
    objects: Vec<PathBuf>,
    /// More than [`Odb::FSYNC_MAX`]: `objects` is dropped, and the next
    /// sync flushes the filesystem.
    overflow: bool,
}

impl Pending {
    /// Nothing written since the last sync.
    fn is_empty(&self) -> bool {
        !self.overflow && self.objects.is_empty()
    }
}

/// The cache of one repository.
#[derive(Debug, Clone)]
pub struct Odb {
    root: PathBuf,
    /// `cache.shared = group`: directories 2775, temporaries 0664.
    shared_group: bool,
    /// Whether and how large workspace files are adopted (see
    /// [`Odb::adopt`]).
    adopt: Adoption,
    /// The objects written and not yet known to be durable (see
    /// [`Odb::sync`]); shared by clones.
    pending: Arc<std::sync::Mutex<Pending>>,
    /// Starts writing a large batch to disk while it is still being
    /// written, so that [`Odb::sync`] finds little left to do.
    early: Arc<strix_fs::EarlyFlush>,
    /// DVC 3 file objects this process stored from bytes it had verified
    /// ([`Odb::put_verified`]: downloads): a checkout in the same run need not
    /// hash them again. Shared by clones.
    fresh: Arc<std::sync::Mutex<HashSet<Md5>>>,
    /// The layout roots (V3, legacy) held open once they exist: objects
    /// are looked up ([`Odb::exists`]) and created relative to them.
    /// Shared by clones.
    roots: Arc<[std::sync::OnceLock<strix_fs::Dir>; 2]>,
    /// Lookups before a small object's write that found nothing, in a row
    /// (see [`Odb::worth_looking`]). Shared by clones.
    misses: Arc<std::sync::atomic::AtomicU32>,
}

impl Odb {
    pub fn new(root: impl Into<PathBuf>, shared_group: bool) -> Self {
        let root = root.into();
        Self {
            early: Arc::new(strix_fs::EarlyFlush::new(root.clone())),
            root,
            shared_group,
            adopt: Adoption::No,
            pending: Arc::default(),
            fresh: Arc::default(),
            roots: Arc::default(),
            misses: Arc::default(),
        }
    }

    /// Lets [`Odb::put_file`] adopt large workspace files: their inode
    /// becomes the object (see [`Adoption`]).
    pub fn adopting(mut self, how: Adoption) -> Self {
        self.adopt = how;
        self
    }

    /// Makes the objects written through this handle since the last call
    /// durable. A few objects (up to [`Odb::FSYNC_MAX`]: a `.dir` manifest,
    /// one changed file) are flushed one by one with their directories,
    /// which leaves alone whatever else is waiting for the disk (the fresh
    /// workspace copy of an adopted file, other programs' writes). A larger
    /// batch is flushed by one `syncfs`. Adopted files are made durable as
    /// they are adopted and are not part of either. Returns whether the
    /// whole filesystem was flushed.
    pub fn sync(&self) -> io::Result<bool> {
        self.early.stop();
        let pending = self
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or(Pending {
                objects: Vec::new(),
                overflow: true,
            });
        if pending.is_empty() {
            return Ok(false);
        }
        let r = if pending.overflow {
            strix_fs::syncfs(&self.root).map(|()| true)
        } else {
            self.sync_each(&pending.objects).map(|()| false)
        };
        // Still owed: the next call flushes the filesystem.
        if r.is_err()
            && let Ok(mut p) = self.pending.lock()
        {
            p.overflow = true;
        }
        r
    }

    /// Objects that [`Odb::sync`] flushes one by one; from one more on, it
    /// flushes the filesystem.
    pub const FSYNC_MAX: usize = 16;

    /// Flushes each object, then each directory on the way from the
    /// cache's parent to it (any of them may have been created for it).
    fn sync_each(&self, objects: &[PathBuf]) -> io::Result<()> {
        let mut dirs = std::collections::BTreeSet::new();
        for path in objects {
            File::open(path)?.sync_all()?;
            let top = self.root.parent().unwrap_or(&self.root);
            for dir in path.ancestors().skip(1) {
                dirs.insert(dir.to_path_buf());
                if dir == top || !dir.starts_with(top) {
                    break;
                }
            }
        }
        // Deepest first: a directory's new entries before its own name.
        for dir in dirs.iter().rev() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    }

    /// Notes the object `path` written but not yet durable.
    fn wrote(&self, path: &Path, bytes: u64) {
        self.early.wrote(bytes);
        if let Ok(mut p) = self.pending.lock()
            && !p.overflow
        {
            if p.objects.len() < Self::FSYNC_MAX {
                p.objects.push(path.to_path_buf());
            } else {
                p.objects = Vec::new();
                p.overflow = true;
            }
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

    /// Whether the object exists (without checking its content). Looked up
    /// from the open layout root: commit and add ask once per file.
    pub fn exists(&self, oid: &Oid, layout: Layout) -> bool {
        let name = RelName::of(oid);
        match self.root_dir(layout).map(|d| d.exists(name.path())) {
            Some(Ok(found)) => found,
            // No root yet, or a lookup error: ask by full path.
            _ => fs::symlink_metadata(self.path(oid, layout)).is_ok(),
        }
    }

    /// The open layout root, once it exists.
    fn root_dir(&self, layout: Layout) -> Option<&strix_fs::Dir> {
        let slot = &self.roots[match layout {
            Layout::V3 => 0,
            Layout::Legacy => 1,
        }];
        if slot.get().is_none() {
            let dir = strix_fs::Dir::open(&self.layout_root(layout)).ok()?;
            let _ = slot.set(dir);
        }
        slot.get()
    }

    /// Which of `objs` exist (by name, as [`Odb::exists`]; see
    /// [`Odb::present`]).
    pub fn existing(&self, objs: &[(Oid, Layout)]) -> HashSet<(Oid, Layout)> {
        self.present(objs)
            .into_iter()
            .zip(objs)
            .filter_map(|(found, o)| found.then_some(*o))
            .collect()
    }

    /// Per object of `objs`, whether it exists (by name, as
    /// [`Odb::exists`]). From [`LIST_MIN`] objects on, the directories they
    /// live in are read instead (at most 512, in parallel), and the names
    /// found are matched against the objects sorted the same way: no path
    /// and no hash per object.
    pub fn present(&self, objs: &[(Oid, Layout)]) -> Vec<bool> {
        use rayon::prelude::*;
        if objs.len() < LIST_MIN {
            return objs.iter().map(|(o, l)| self.exists(o, *l)).collect();
        }
        let group = |i: &u32| {
            let (o, l) = &objs[*i as usize];
            (*l == Layout::Legacy, o.md5.0[0])
        };
        let mut order: Vec<u32> = (0..objs.len() as u32).collect();
        order.par_sort_unstable_by_key(|i| (group(i), oid_key(&objs[*i as usize].0)));
        let found: Vec<std::sync::atomic::AtomicBool> =
            objs.iter().map(|_| Default::default()).collect();
        let mark = |i: u32| found[i as usize].store(true, std::sync::atomic::Ordering::Relaxed);
        order
            .chunk_by(|a, b| group(a) == group(b))
            .collect::<Vec<_>>()
            .into_par_iter()
            .for_each(|members| {
                let (oid, layout) = objs[members[0] as usize];
                let first = oid.md5.0[0];
                let dir = self.layout_root(layout).join(format!("{first:02x}"));
                match fs::read_dir(&dir) {
                    Ok(rd) => {
                        let mut names: Vec<NameKey> = rd
                            .flatten()
                            .filter_map(|e| name_key(e.file_name().as_encoded_bytes()))
                            .collect();
                        names.sort_unstable();
                        for &i in members {
                            if names.binary_search(&oid_key(&objs[i as usize].0)).is_ok() {
                                mark(i);
                            }
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    // Unreadable directory: ask object by object.
                    Err(_) => {
                        for &i in members {
                            if self.exists(&objs[i as usize].0, layout) {
                                mark(i);
                            }
                        }
                    }
                }
            });
        found.into_iter().map(|f| f.into_inner()).collect()
    }

    /// Creates `dir` and its missing parents; with `cache.shared = group`
    /// every directory created inside the cache gets mode 2775, as DVC's.
    fn ensure_dir(&self, dir: &Path) -> io::Result<()> {
        if dir.is_dir() {
            return Ok(());
        }
        if !self.shared_group {
            return fs::create_dir_all(dir);
        }
        let mut missing = Vec::new();
        let mut cur = Some(dir);
        while let Some(d) = cur {
            if d.is_dir() {
                break;
            }
            missing.push(d);
            cur = d.parent();
        }
        for d in missing.into_iter().rev() {
            match fs::create_dir(d) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
            if d.starts_with(&self.root) {
                fs::set_permissions(d, fs::Permissions::from_mode(0o2775))?;
            }
        }
        Ok(())
    }

    /// Stores the file `src`, whose bytes hash to `oid`, as that object in
    /// `layout` by a hard link to the same inode (`dvc cache migrate` links
    /// DVC 2.x objects into the DVC 3 layout so). Where the filesystem
    /// refuses the link, the bytes are copied and checked against `oid`
    /// on the way. Returns whether the object was new; an existing one is
    /// left alone. The object is read-only either way.
    pub fn link_object(&self, src: &Path, oid: &Oid, layout: Layout) -> Result<bool, OdbError> {
        if self.exists(oid, layout) {
            return Ok(false);
        }
        let dest = self.path(oid, layout);
        let werr = |source| OdbError::Write {
            path: dest.clone(),
            source,
        };
        self.ensure_dir(dest.parent().expect("object has a parent"))
            .map_err(werr)?;
        match fs::hard_link(src, &dest) {
            Ok(()) => {
                let meta = fs::metadata(&dest).map_err(werr)?;
                if meta.permissions().mode() & 0o222 != 0 {
                    fs::set_permissions(&dest, fs::Permissions::from_mode(0o444)).map_err(werr)?;
                }
                self.wrote(&dest, 0);
                Ok(true)
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            // Another filesystem, or no links allowed: a verified copy,
            // streamed for files.
            Err(_) if !oid.is_dir => self.put_file(src, Some(oid.md5), layout).map(|_| true),
            Err(_) => {
                let data = fs::read(src).map_err(|source| OdbError::Read {
                    path: src.to_path_buf(),
                    source,
                })?;
                check_expected(src, Some(oid.md5), crate::hash::md5_bytes(&data))?;
                self.write_object(&dest, &data)
            }
        }
    }

    /// Stores bytes whose hash is `oid` (a `.dir` manifest) under `oid`,
    /// atomically; nothing is written if the object exists.
    pub fn put_bytes(&self, oid: &Oid, layout: Layout, data: &[u8]) -> Result<(), OdbError> {
        let dest = self.path(oid, layout);
        if dest.exists() {
            return Ok(());
        }
        self.write_object(&dest, data).map(drop)
    }

    /// [`Odb::put_bytes`] for bytes just verified against `oid` (a
    /// download) and most likely not in the cache: no lookup first (an
    /// existing object is left alone all the same), and a checkout in this
    /// run trusts the object without hashing it again ([`Odb::is_fresh`]).
    pub fn put_verified(&self, oid: &Oid, layout: Layout, data: &[u8]) -> Result<(), OdbError> {
        let created = self.write_object_as(oid, layout, data)?;
        if created
            && layout == Layout::V3
            && !oid.is_dir
            && let Ok(mut fresh) = self.fresh.lock()
        {
            fresh.insert(oid.md5);
        }
        Ok(())
    }

    /// Whether this process wrote the DVC 3 file object `md5` from bytes
    /// that hashed to it (see [`Odb::put_verified`]).
    pub fn is_fresh(&self, md5: &Md5) -> bool {
        self.fresh.lock().is_ok_and(|f| f.contains(md5))
    }

    /// Saves a workspace file into the cache, hashing the bytes as they are
    /// read. The object only gets its final name if those bytes hash to
    /// `expected` (when given), so a file that changes under us never
    /// produces a wrong object. Does nothing if the object exists.
    ///
    /// Small files are read whole and written as a new object. Large files
    /// are copied while hashed; with [`Odb::adopting`] set, the copy goes
    /// the other way when it is safe (see [`Odb::adopt`]): the file's own
    /// inode becomes the object and the fresh copy replaces it in the
    /// workspace, so nothing waits for gigabytes to reach the disk.
    pub fn put_file(
        &self,
        src: &Path,
        expected: Option<Md5>,
        layout: Layout,
    ) -> Result<Stored, OdbError> {
        self.put_file_sized(src, expected, layout, None)
    }

    /// [`Odb::put_file`] for a file whose size a stat just gave: a small
    /// file is then read with one `read` of one byte more than that size,
    /// which ends at the end of the file (no second `read` to find it). A
    /// file that turns out to have another length is read to its end as
    /// usual.
    pub fn put_file_sized(
        &self,
        src: &Path,
        expected: Option<Md5>,
        layout: Layout,
        size: Option<u64>,
    ) -> Result<Stored, OdbError> {
        let rerr = |source| OdbError::Read {
            path: src.to_path_buf(),
            source,
        };
        if let Some(md5) = expected
            && self.exists(&Oid::file(md5), layout)
        {
            let size = fs::metadata(src).map_err(rerr)?.len();
            return Ok(Stored::kept(md5, size));
        }
        let mut input = strix_fs::open_noatime(src).map_err(rerr)?;
        // Small files: read, hash, then write straight into the final
        // directory (no cross-directory rename, nothing written for content
        // the cache already has). Reading at most SMALL_FILE + 1 bytes tells
        // small from large without a stat.
        let small = SMALL_BUF.with(|buf| -> Result<Option<Stored>, OdbError> {
            let mut buf = buf.borrow_mut();
            buf.clear();
            let mut whole = false;
            if let Some(n) = size.filter(|&n| n <= SMALL_FILE) {
                buf.resize(n as usize + 1, 0);
                let got = loop {
                    match input.read(&mut buf[..]) {
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                        r => break r.map_err(rerr)?,
                    }
                };
                buf.truncate(got);
                whole = got as u64 == n;
            }
            if !whole {
                // `take` avoids File::read_to_end's extra fstat and lseek.
                let left = (SMALL_FILE + 1).saturating_sub(buf.len() as u64);
                (&mut input)
                    .take(left)
                    .read_to_end(&mut buf)
                    .map_err(rerr)?;
            }
            if buf.len() as u64 > SMALL_FILE {
                return Ok(None);
            }
            let md5 = crate::hash::md5_bytes(&buf);
            check_expected(src, expected, md5)?;
            let oid = Oid::file(md5);
            if self.worth_looking() && self.exists(&oid, layout) {
                self.found(true);
            } else {
                let created = self.write_object_as(&oid, layout, &buf)?;
                self.found(!created);
            }
            Ok(Some(Stored::kept(md5, buf.len() as u64)))
        })?;
        if let Some(stored) = small {
            return Ok(stored);
        }
        input.seek(io::SeekFrom::Start(0)).map_err(rerr)?;
        if self.adopt != Adoption::No
            && let Some(stored) = self.adopt(src, &input, expected, layout)?
        {
            return Ok(stored);
        }
        input.seek(io::SeekFrom::Start(0)).map_err(rerr)?;
        self.copy_large(src, &mut input, expected, layout)
    }

    /// Lookups that must miss in a row before small objects are written
    /// without one.
    const MISSES_BEFORE_WRITING_BLIND: u32 = 64;

    /// Whether to look for an existing object before writing a small one.
    /// While lookups keep finding nothing (a cold add), writing straight
    /// away is cheaper: the object's name is taken atomically and never
    /// replaced ([`strix_fs::write_new`]), so an existing object is left
    /// as it is either way, and finding one turns lookups back on.
    fn worth_looking(&self) -> bool {
        self.misses.load(std::sync::atomic::Ordering::Relaxed) < Self::MISSES_BEFORE_WRITING_BLIND
    }

    /// Notes whether a small object was already there.
    fn found(&self, found: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        if found {
            self.misses.store(0, Relaxed);
        } else {
            let _ = self
                .misses
                .fetch_update(Relaxed, Relaxed, |n| n.checked_add(1));
        }
    }

    /// The large-file path of [`Odb::put_file`]: a streamed copy into a
    /// temporary in the layout root, renamed to its final name once hashed.
    fn copy_large(
        &self,
        src: &Path,
        input: &mut File,
        expected: Option<Md5>,
        layout: Layout,
    ) -> Result<Stored, OdbError> {
        // The temp file lives in the layout root until we know the md5.
        let staging = self.layout_root(layout);
        let werr = |source| OdbError::Write {
            path: staging.clone(),
            source,
        };
        self.ensure_dir(&staging).map_err(werr)?;
        let tmp = strix_fs::temp_path_in(&staging);
        let mut guard = TempGuard(Some(tmp.clone()));
        // Read back while it is written: the object's hash is that of the
        // bytes it holds, whatever happens to the workspace file meanwhile.
        let out = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(self.temp_mode())
            .open(&tmp)
            .map_err(werr)?;
        let (md5, size) = crate::hash::md5_copy_file(input, &out).map_err(|e| {
            if e.kind() == io::ErrorKind::StorageFull || e.raw_os_error() == Some(libc::EFBIG) {
                werr(e)
            } else {
                OdbError::Write {
                    path: src.to_path_buf(),
                    source: e,
                }
            }
        })?;
        check_expected(src, expected, md5)?;
        out.set_permissions(fs::Permissions::from_mode(0o444))
            .map_err(werr)?;
        drop(out);
        let dest = self.path(&Oid::file(md5), layout);
        self.ensure_dir(dest.parent().expect("object has a parent"))
            .map_err(werr)?;
        fs::rename(&tmp, &dest).map_err(werr)?;
        guard.0 = None;
        self.wrote(&dest, size);
        Ok(Stored::kept(md5, size))
    }

    /// Mode of a temporary while it is written (0444 at the end).
    fn temp_mode(&self) -> u32 {
        if self.shared_group { 0o664 } else { 0o644 }
    }

    /// Writes the whole object `oid` so that it appears complete or not at
    /// all; an existing object is left alone. Created from the open layout
    /// root where possible (a million objects otherwise spend much of their
    /// kernel time walking absolute paths), else as [`Odb::write_object`]
    /// does, which also reports the errors.
    fn write_object_as(&self, oid: &Oid, layout: Layout, data: &[u8]) -> Result<bool, OdbError> {
        let dest = self.path(oid, layout);
        #[cfg(target_os = "linux")]
        if let Some(root) = self.root_dir(layout) {
            let name = RelName::of(oid);
            let mut r = root.write_new(name.parent(), name.path(), data, 0o444);
            if matches!(&r, Err(e) if e.kind() == io::ErrorKind::NotFound)
                && self
                    .ensure_dir(dest.parent().expect("object has a parent"))
                    .is_ok()
            {
                r = root.write_new(name.parent(), name.path(), data, 0o444);
            }
            match r {
                Ok(strix_fs::WriteNew::Created) => {
                    self.wrote(&dest, data.len() as u64);
                    return Ok(true);
                }
                Ok(strix_fs::WriteNew::Existed) => return Ok(false),
                Err(_) => {}
            }
        }
        self.write_object(&dest, data)
    }

    /// Writes a whole object so that it appears complete or not at all
    /// (see [`strix_fs::write_new`]); an existing object is left alone.
    fn write_object(&self, dest: &Path, data: &[u8]) -> Result<bool, OdbError> {
        let werr = |source| OdbError::Write {
            path: dest.to_path_buf(),
            source,
        };
        let r = match strix_fs::write_new(dest, data, 0o444) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                self.ensure_dir(dest.parent().expect("object has a parent"))
                    .map_err(werr)?;
                strix_fs::write_new(dest, data, 0o444)
            }
            other => other,
        };
        if let strix_fs::WriteNew::Created = r.map_err(werr)? {
            self.wrote(dest, data.len() as u64);
            return Ok(true);
        }
        Ok(false)
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
        // Hash and parse side by side; the parse is only kept if the hash
        // is right.
        let (actual, parsed) = rayon::join(
            || crate::hash::md5_bytes(&bytes),
            || crate::manifest::Manifest::parse_verified(&bytes, *oid),
        );
        if actual != oid.md5 {
            return Err(ManifestReadError::Corrupted { oid: *oid, actual });
        }
        parsed.map_err(|source| ManifestReadError::Invalid { oid: *oid, source })
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

/// What [`Odb::put_file`] stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stored {
    pub md5: Md5,
    pub size: u64,
    /// Set when the workspace file was replaced by a fresh copy of the same
    /// bytes (its old inode became the object): the copy's stat.
    pub replaced: Option<FileStat>,
}

impl Stored {
    fn kept(md5: Md5, size: u64) -> Self {
        Self {
            md5,
            size,
            replaced: None,
        }
    }
}

fn check_expected(src: &Path, expected: Option<Md5>, actual: Md5) -> Result<(), OdbError> {
    match expected {
        Some(exp) if exp != actual => Err(OdbError::Changed {
            path: src.to_path_buf(),
            expected: exp,
            actual,
        }),
        _ => Ok(()),
    }
}

/// An object's path relative to its layout root, `ab/cdef…[.dir]`, and its
/// parent `ab`, as C strings on the stack (for calls from the open root).
struct RelName {
    /// "ab/" + 30 digits + ".dir" + NUL.
    buf: [u8; 38],
    /// Index of the final NUL.
    end: usize,
    /// "ab" + NUL.
    parent: [u8; 3],
}

impl RelName {
    fn of(oid: &Oid) -> Self {
        let mut buf = [0u8; 38];
        let mut hex = [0u8; 32];
        oid.md5.hex_str(&mut hex);
        buf[..2].copy_from_slice(&hex[..2]);
        buf[2] = b'/';
        buf[3..33].copy_from_slice(&hex[2..]);
        let end = if oid.is_dir {
            buf[33..37].copy_from_slice(b".dir");
            37
        } else {
            33
        };
        Self {
            buf,
            end,
            parent: [hex[0], hex[1], 0],
        }
    }

    /// `ab/cdef…`.
    fn path(&self) -> &std::ffi::CStr {
        std::ffi::CStr::from_bytes_with_nul(&self.buf[..=self.end]).expect("one NUL, at the end")
    }

    /// `ab`.
    fn parent(&self) -> &std::ffi::CStr {
        std::ffi::CStr::from_bytes_with_nul(&self.parent).expect("one NUL, at the end")
    }
}

/// From this many objects on, [`Odb::existing`] reads directories.
pub(crate) const LIST_MIN: usize = 1024;

/// An object's file name inside its `xx/` directory, as bytes: the last 15
/// bytes of the md5 and whether it is a `.dir`.
type NameKey = ([u8; 15], bool);

fn oid_key(o: &Oid) -> NameKey {
    let mut tail = [0u8; 15];
    tail.copy_from_slice(&o.md5.0[1..]);
    (tail, o.is_dir)
}

/// The key of a file name that is an object name (30 lowercase hex digits,
/// then `.dir` for a manifest); `None` for anything else.
fn name_key(name: &[u8]) -> Option<NameKey> {
    let (hex, is_dir) = match name.len() {
        30 => (name, false),
        34 if name.ends_with(b".dir") => (&name[..30], true),
        _ => return None,
    };
    if !hex.iter().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut tail = [0u8; 15];
    hex::decode_to_slice(hex, &mut tail).ok()?;
    Some((tail, is_dir))
}

/// Files up to this size are read whole before they are written.
const SMALL_FILE: u64 = 4 << 20;

thread_local! {
    static SMALL_BUF: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
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
    fn only_verified_downloads_are_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let a = crate::hash::md5_bytes(b"a");
        let b = crate::hash::md5_bytes(b"b");
        odb.put_bytes(&Oid::file(a), Layout::V3, b"a").unwrap();
        assert!(!odb.is_fresh(&a), "put_bytes vouches for nothing");
        odb.put_verified(&Oid::file(b), Layout::V3, b"b").unwrap();
        assert!(odb.is_fresh(&b));
        assert!(odb.clone().is_fresh(&b), "clones share the set");
        // An existing object is left alone, and vouched for by nobody.
        odb.put_verified(&Oid::file(a), Layout::V3, b"a").unwrap();
        assert!(!odb.is_fresh(&a));
    }

    #[test]
    fn a_few_objects_are_flushed_alone_and_a_batch_by_syncfs() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let put = |i: usize| {
            let data = format!("object {i}");
            let oid = Oid::file(crate::hash::md5_bytes(data.as_bytes()));
            odb.put_bytes(&oid, Layout::V3, data.as_bytes()).unwrap();
        };
        assert!(!odb.sync().unwrap(), "nothing written, nothing flushed");
        put(0);
        put(1);
        assert!(!odb.sync().unwrap(), "two objects: flushed one by one");
        assert!(!odb.pending.lock().unwrap().overflow);
        assert!(odb.pending.lock().unwrap().objects.is_empty());
        // A clone shares the pending list: a batch written through clones
        // counts as one.
        let other = odb.clone();
        for i in 0..Odb::FSYNC_MAX {
            put(10 + i);
        }
        other
            .put_bytes(&Oid::file(crate::hash::md5_bytes(b"x")), Layout::V3, b"x")
            .unwrap();
        assert!(odb.sync().unwrap(), "a batch: one syncfs");
        assert!(!other.sync().unwrap(), "flushed already");
        // An object that vanished before its flush fails the sync, which
        // then stays owed.
        put(100);
        let gone = odb.path(
            &Oid::file(crate::hash::md5_bytes(b"object 100")),
            Layout::V3,
        );
        fs::remove_file(&gone).unwrap();
        assert!(odb.sync().is_err());
        assert!(odb.sync().unwrap(), "the retry flushes the filesystem");
    }

    #[test]
    fn put_file_writes_readonly_object_and_dedupes() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let src = dir.path().join("hello.txt");
        fs::write(&src, b"hello\n").unwrap();
        let Stored { md5, size, .. } = odb.put_file(&src, None, Layout::V3).unwrap();
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

    /// A size hint that is wrong (the file changed after its stat) costs
    /// the single read, never bytes: the object holds the whole file.
    #[test]
    fn a_wrong_size_hint_still_stores_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let content: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        let big: Vec<u8> = (0..(SMALL_FILE as u32 + 10))
            .map(|i| (i % 13) as u8)
            .collect();
        for (i, (bytes, hint)) in [
            (&content, 5000),
            (&content, 4999),
            (&content, 5001),
            (&content, 0),
            (&big, 100),
        ]
        .into_iter()
        .enumerate()
        {
            let src = dir.path().join(format!("f{i}"));
            fs::write(&src, bytes).unwrap();
            let stored = odb
                .put_file_sized(&src, None, Layout::V3, Some(hint))
                .unwrap();
            assert_eq!(stored.size, bytes.len() as u64, "hint {hint}");
            assert_eq!(stored.md5, crate::hash::md5_bytes(bytes), "hint {hint}");
            let obj = odb.path(&Oid::file(stored.md5), Layout::V3);
            assert_eq!(&fs::read(obj).unwrap(), bytes, "hint {hint}");
        }
    }

    /// After a run of new small objects, they are written without a lookup;
    /// an object that is already there is still left as it is (same inode,
    /// even when its bytes were damaged), and lookups come back.
    #[test]
    fn cold_writes_skip_lookups_and_never_replace_an_object() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let put = |name: &str, data: &[u8]| {
            let src = dir.path().join(name);
            fs::write(&src, data).unwrap();
            odb.put_file(&src, None, Layout::V3).unwrap()
        };
        let first = put("f0", b"0");
        let first_obj = odb.path(&Oid::file(first.md5), Layout::V3);
        for i in 1..Odb::MISSES_BEFORE_WRITING_BLIND {
            assert!(odb.worth_looking(), "after {i} misses");
            put(&format!("f{i}"), i.to_string().as_bytes());
        }
        assert!(!odb.worth_looking());
        // Damage the first object: a blind write must not repair it by
        // replacing it (only a verified path may), nor fail.
        fs::set_permissions(&first_obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&first_obj, b"X").unwrap();
        let ino = fs::metadata(&first_obj).unwrap().ino();
        let again = put("again", b"0");
        assert_eq!(again.md5, first.md5);
        assert_eq!(fs::metadata(&first_obj).unwrap().ino(), ino);
        assert_eq!(fs::read(&first_obj).unwrap(), b"X");
        assert!(
            odb.worth_looking(),
            "finding an object turns lookups back on"
        );
        let objects = walk_count(&dir.path().join("cache/files/md5"));
        assert_eq!(objects, Odb::MISSES_BEFORE_WRITING_BLIND as usize);
    }

    fn walk_count(dir: &Path) -> usize {
        fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    walk_count(&e.path())
                } else {
                    1
                }
            })
            .sum()
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
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(n, 0);
        // The same for a large (streamed) file.
        let big = dir.path().join("big");
        fs::write(&big, vec![7u8; (SMALL_FILE + 10) as usize]).unwrap();
        let err = odb
            .put_file(&big, Some(Md5::EMPTY), Layout::V3)
            .unwrap_err();
        assert!(matches!(err, OdbError::Changed { .. }));
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("cache/files/md5"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.path().is_file())
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn existing_by_lookup_and_by_listing_agree() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let mut objs = Vec::new();
        for i in 0..1500u32 {
            let data = i.to_le_bytes();
            let oid = Oid::file(crate::hash::md5_bytes(&data));
            // Every third one is stored; the legacy layout is asked about too.
            if i % 3 == 0 {
                odb.put_bytes(&oid, Layout::V3, &data).unwrap();
            }
            objs.push((
                oid,
                if i % 5 == 0 {
                    Layout::Legacy
                } else {
                    Layout::V3
                },
            ));
            // Manifests share the file objects' directories; every other
            // one is stored, and a stored file's id is asked as a `.dir`.
            if i % 7 == 0 {
                let d = Oid::dir(oid.md5);
                if i % 2 == 0 {
                    odb.put_bytes(&d, Layout::V3, b"[]").unwrap();
                }
                objs.push((d, Layout::V3));
            }
        }
        // Names that are not objects never count: a temporary, upper case.
        let (o, _) = *objs
            .iter()
            .find(|(o, l)| *l == Layout::V3 && !o.is_dir && !odb.exists(o, *l))
            .unwrap();
        let hex = o.md5.to_hex();
        let d = odb.layout_root(Layout::V3).join(&hex[..2]);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("{}.tmp", &hex[2..])), b"x").unwrap();
        fs::write(d.join(hex[2..].to_uppercase()), b"x").unwrap();
        let want: HashSet<(Oid, Layout)> = objs
            .iter()
            .filter(|(o, l)| odb.exists(o, *l))
            .copied()
            .collect();
        assert!(want.len() > 300);
        assert!(!want.contains(&(o, Layout::V3)));
        // Asked twice (one absent legacy object, one stored manifest):
        // answered twice.
        objs.push(objs[0]);
        objs.push(objs[1]);
        assert_eq!(odb.existing(&objs), want);
        let one_by_one: Vec<bool> = objs.iter().map(|(o, l)| odb.exists(o, *l)).collect();
        assert_eq!(odb.present(&objs), one_by_one);
        assert!(!one_by_one[0] && one_by_one[1]);
        assert_eq!(
            odb.existing(&objs[..10]),
            want.iter()
                .filter(|o| objs[..10].contains(o))
                .copied()
                .collect()
        );
    }

    #[test]
    fn corrupted_object_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let odb = Odb::new(dir.path().join("cache"), false);
        let src = dir.path().join("f");
        fs::write(&src, b"data").unwrap();
        let md5 = odb.put_file(&src, None, Layout::V3).unwrap().md5;
        let obj = odb.path(&Oid::file(md5), Layout::V3);
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"dat4").unwrap();
        assert!(matches!(
            odb.verify(&Oid::file(md5), Layout::V3),
            Err(OdbError::Corrupted { .. })
        ));
    }
}
