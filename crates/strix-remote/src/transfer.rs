//! Moving objects between the local cache and a [`Backend`].
//!
//! * [`Transfer::remote_has`] asks which objects the remote holds: one
//!   existence check per object, in parallel, or for many objects a listing
//!   of the directories they live in when that takes fewer requests.
//! * [`Transfer::push`] uploads what the remote lacks; a `.dir` object is
//!   uploaded only after every one of its files is on the remote, so a
//!   `.dir` on a remote implies a complete directory (spec 11.2).
//! * [`Transfer::fetch`] downloads what the cache lacks. Each object is
//!   written to a temporary file next to its final place, hashed as it is
//!   written, and renamed (mode 0444) only when the hash matches its id.
//!
//! When the remote itself fails (after the backend's own retries: a server
//! that went away, refused credentials…), the transfers still running end
//! and no new one starts: the rest is counted as skipped rather than tried
//! and failed object by object. A rerun picks up where this one stopped.

use crate::backend::{Backend, BackendError};
use md5::{Digest, Md5 as Md5Hasher};
use rayon::prelude::*;
use std::collections::{BTreeMap, HashSet};
use std::fs;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use strix_data::{HashKind, Layout, Md5, Odb, Oid, Progress};
use strix_fs::AtomicFile;

/// From this many objects on, [`Transfer::remote_has`] considers listing
/// the remote instead of checking each object.
const LIST_MIN_OBJECTS: usize = 1024;

/// One object and the layout it lives in (on both sides).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectRef {
    /// The object id.
    pub oid: Oid,
    /// DVC 3 (`files/md5/…`) or legacy (`xx/…`).
    pub layout: Layout,
}

impl PartialOrd for ObjectRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let legacy = |o: &Self| o.layout == Layout::Legacy;
        (self.oid, legacy(self)).cmp(&(other.oid, legacy(other)))
    }
}

impl ObjectRef {
    /// A DVC 3 object.
    pub fn v3(oid: Oid) -> Self {
        Self {
            oid,
            layout: Layout::V3,
        }
    }
}

/// The key of an object on a remote: `files/md5/ab/cdef…` or `ab/cdef…`.
pub fn object_key(obj: &ObjectRef) -> String {
    let hex = obj.oid.to_string();
    match obj.layout {
        Layout::V3 => format!("files/md5/{}/{}", &hex[..2], &hex[2..]),
        Layout::Legacy => format!("{}/{}", &hex[..2], &hex[2..]),
    }
}

/// A `.dir` object with the file objects it lists.
#[derive(Debug, Clone)]
pub struct DirObject {
    /// The `.dir` object.
    pub obj: ObjectRef,
    /// Its files.
    pub members: Vec<ObjectRef>,
}

/// Why transferring one object failed.
#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    /// The remote failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// An object to upload is not in the local cache.
    #[error("object {oid} is not in the local cache")]
    NotInCache {
        /// The object.
        oid: Oid,
    },
    /// A downloaded object does not hash to its id; it was not stored.
    #[error("object {oid} on the remote is corrupted: its content hashes to {actual}")]
    Corrupted {
        /// The object.
        oid: Oid,
        /// What its content hashes to.
        actual: Md5,
    },
    /// Writing into the local cache failed.
    #[error("failed to write cache object '{}'", path.display())]
    Write {
        /// The object path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A `.dir` was not uploaded because some of its files were not.
    #[error("directory {oid} was not uploaded: {failed} of its files could not be uploaded")]
    DirIncomplete {
        /// The `.dir` object.
        oid: Oid,
        /// How many of its files are missing on the remote.
        failed: usize,
    },
    /// The worker pool could not be started.
    #[error("failed to start transfer threads")]
    Pool(#[source] rayon::ThreadPoolBuildError),
}

impl TransferError {
    /// Whether the remote itself failed (as opposed to one object being
    /// missing or corrupt, or the local cache failing): the transfer stops.
    pub fn is_remote_failure(&self) -> bool {
        matches!(self, TransferError::Backend(BackendError::Io { op, .. }) if *op != "read")
    }

    /// The kind of the underlying I/O error, if there is one.
    pub fn io_kind(&self) -> Option<io::ErrorKind> {
        match self {
            TransferError::Backend(BackendError::Io { source, .. })
            | TransferError::Write { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

/// What [`Transfer::push`] did.
#[derive(Debug, Default)]
pub struct PushReport {
    /// Objects uploaded (`.dir` objects included).
    pub uploaded: usize,
    /// Objects that could not be uploaded, with the cause.
    pub failed: Vec<(ObjectRef, TransferError)>,
    /// Objects not tried because the remote failed first.
    pub skipped: usize,
}

/// What [`Transfer::fetch`] did.
#[derive(Debug, Default)]
pub struct FetchReport {
    /// Objects downloaded into the cache.
    pub downloaded: usize,
    /// Objects neither in the cache nor on the remote.
    pub missing: Vec<ObjectRef>,
    /// Objects that could not be downloaded, with the cause.
    pub failed: Vec<(ObjectRef, TransferError)>,
    /// Objects not tried because the remote failed first.
    pub skipped: usize,
}

/// The transfer engine between one cache and one remote.
pub struct Transfer<'a> {
    backend: &'a dyn Backend,
    odb: &'a Odb,
    jobs: usize,
}

impl<'a> Transfer<'a> {
    /// An engine running up to `jobs` transfers at once (`None`: the
    /// backend's default).
    pub fn new(backend: &'a dyn Backend, odb: &'a Odb, jobs: Option<usize>) -> Self {
        let jobs = jobs.unwrap_or_else(|| backend.default_jobs()).max(1);
        Self { backend, odb, jobs }
    }

    /// The number of parallel transfers.
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    fn pool(&self) -> Result<rayon::ThreadPool, TransferError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.jobs)
            .thread_name(|i| format!("strix-transfer-{i}"))
            .build()
            .map_err(TransferError::Pool)
    }

    /// Which of `objs` exist on the remote.
    pub fn remote_has(
        &self,
        objs: &[ObjectRef],
        progress: &dyn Progress,
    ) -> Result<HashSet<ObjectRef>, TransferError> {
        let unique: Vec<ObjectRef> = {
            let mut seen = HashSet::new();
            objs.iter().copied().filter(|o| seen.insert(*o)).collect()
        };
        if unique.len() >= LIST_MIN_OBJECTS
            && let Some(found) = self.remote_has_by_listing(&unique, progress)?
        {
            return Ok(found);
        }
        progress.start("Querying remote", Some(unique.len() as u64));
        let stop = AtomicBool::new(false);
        let result: Result<Vec<Option<ObjectRef>>, BackendError> = self.pool()?.install(|| {
            unique
                .par_iter()
                .map(|o| {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(None); // the result is an error anyway
                    }
                    let r = self.backend.exists(&object_key(o));
                    if r.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.inc(1);
                    r.map(|has| has.then_some(*o))
                })
                .collect()
        });
        progress.finish();
        Ok(result?.into_iter().flatten().collect())
    }

    /// [`Self::remote_has`] by listing the directories (`files/md5/ab/`…)
    /// the objects live in, when that takes fewer requests than one check
    /// per object. The first directory's listing estimates the remote's
    /// size (×256 directories; a listing page holds about 1000 keys).
    /// `None` when checking object by object is cheaper, or the remote
    /// cannot list (plain HTTP).
    fn remote_has_by_listing(
        &self,
        objs: &[ObjectRef],
        progress: &dyn Progress,
    ) -> Result<Option<HashSet<ObjectRef>>, TransferError> {
        let mut dirs: BTreeMap<String, Vec<ObjectRef>> = BTreeMap::new();
        for o in objs {
            let key = object_key(o);
            let dir = key.rsplit_once('/').map_or("", |(d, _)| d).to_string();
            dirs.entry(dir).or_default().push(*o);
        }
        let Some(first) = dirs.keys().next().cloned() else {
            return Ok(Some(HashSet::new()));
        };
        let Ok(sample) = self.backend.list(&first) else {
            return Ok(None);
        };
        let estimated_pages = sample.len() * 256 / 1000;
        if (dirs.len() + estimated_pages) * 2 >= objs.len() {
            return Ok(None);
        }
        progress.start("Querying remote", Some(dirs.len() as u64));
        progress.inc(1);
        let rest: Vec<&String> = dirs.keys().skip(1).collect();
        let stop = AtomicBool::new(false);
        let listed: Result<Vec<Vec<String>>, BackendError> = self.pool()?.install(|| {
            rest.par_iter()
                .map(|d| {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(Vec::new()); // the result is an error anyway
                    }
                    let r = self.backend.list(d);
                    if r.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.inc(1);
                    r
                })
                .collect()
        });
        progress.finish();
        let keys: HashSet<String> = listed?.into_iter().flatten().chain(sample).collect();
        Ok(Some(
            objs.iter()
                .copied()
                .filter(|o| keys.contains(&object_key(o)))
                .collect(),
        ))
    }

    /// Uploads the objects of `files` and `dirs` (with their members) that
    /// the remote lacks. Each `.dir` goes last, and only if all its files
    /// are on the remote by then.
    pub fn push(
        &self,
        files: &[ObjectRef],
        dirs: &[DirObject],
        progress: &dyn Progress,
    ) -> Result<PushReport, TransferError> {
        let mut all: Vec<ObjectRef> = files.to_vec();
        for d in dirs {
            all.extend(d.members.iter().copied());
            all.push(d.obj);
        }
        let on_remote = self.remote_has(&all, progress)?;
        let mut seen = HashSet::new();
        let to_send: Vec<ObjectRef> = all
            .iter()
            .copied()
            .filter(|o| !o.oid.is_dir && !on_remote.contains(o) && seen.insert(*o))
            .collect();
        let dirs_to_send: Vec<&DirObject> = {
            let mut seen = HashSet::new();
            dirs.iter()
                .filter(|d| !on_remote.contains(&d.obj) && seen.insert(d.obj))
                .collect()
        };
        let total = to_send.len() + dirs_to_send.len();
        let mut report = PushReport::default();
        if total == 0 {
            return Ok(report);
        }
        progress.start("Pushing", Some(total as u64));
        let pool = self.pool()?;
        let failed = Mutex::new(Vec::new());
        let stop = AtomicBool::new(false);
        let skipped = std::sync::atomic::AtomicUsize::new(0);
        let uploaded: usize = pool.install(|| {
            to_send
                .par_iter()
                .map(|o| {
                    if stop.load(Ordering::Relaxed) {
                        skipped.fetch_add(1, Ordering::Relaxed);
                        return 0;
                    }
                    let r = self.upload_one(o);
                    progress.inc(1);
                    match r {
                        Ok(()) => 1,
                        Err(e) => {
                            if e.is_remote_failure() {
                                stop.store(true, Ordering::Relaxed);
                            }
                            failed.lock().expect("lock").push((*o, e));
                            0
                        }
                    }
                })
                .sum()
        });
        report.uploaded = uploaded;
        let mut failed = failed.into_inner().expect("lock");
        if stop.load(Ordering::Relaxed) {
            // No `.dir` goes up after the remote failed.
            report.skipped = skipped.into_inner() + dirs_to_send.len();
            failed.sort_by_key(|(o, _)| *o);
            report.failed = failed;
            progress.finish();
            return Ok(report);
        }
        let failed_set: HashSet<ObjectRef> = failed.iter().map(|(o, _)| *o).collect();
        let dir_results: Vec<(ObjectRef, Result<(), TransferError>)> = pool.install(|| {
            dirs_to_send
                .par_iter()
                .map(|d| {
                    let bad = d.members.iter().filter(|m| failed_set.contains(m)).count();
                    let r = if bad > 0 {
                        Err(TransferError::DirIncomplete {
                            oid: d.obj.oid,
                            failed: bad,
                        })
                    } else {
                        self.upload_one(&d.obj)
                    };
                    progress.inc(1);
                    (d.obj, r)
                })
                .collect()
        });
        for (o, r) in dir_results {
            match r {
                Ok(()) => report.uploaded += 1,
                Err(e) => failed.push((o, e)),
            }
        }
        failed.sort_by_key(|(o, _)| *o);
        report.failed = failed;
        progress.finish();
        Ok(report)
    }

    fn upload_one(&self, o: &ObjectRef) -> Result<(), TransferError> {
        let src = self.odb.path(&o.oid, o.layout);
        if fs::symlink_metadata(&src).is_err() {
            return Err(TransferError::NotInCache { oid: o.oid });
        }
        self.backend.upload(&src, &object_key(o))?;
        Ok(())
    }

    /// Downloads the objects of `objs` that the cache lacks. Objects the
    /// remote does not have are listed as missing; corrupted ones are
    /// refused and listed as failed.
    pub fn fetch(
        &self,
        objs: &[ObjectRef],
        progress: &dyn Progress,
    ) -> Result<FetchReport, TransferError> {
        let mut seen = HashSet::new();
        let wanted: Vec<ObjectRef> = objs
            .iter()
            .copied()
            .filter(|o| seen.insert(*o) && !self.odb.exists(&o.oid, o.layout))
            .collect();
        let mut report = FetchReport::default();
        if wanted.is_empty() {
            return Ok(report);
        }
        progress.start("Fetching", Some(wanted.len() as u64));
        let stop = AtomicBool::new(false);
        let results: Vec<(ObjectRef, Option<Result<(), TransferError>>)> =
            self.pool()?.install(|| {
                wanted
                    .par_iter()
                    .map(|o| {
                        if stop.load(Ordering::Relaxed) {
                            return (*o, None);
                        }
                        let r = self.download_one(o);
                        if r.as_ref().is_err_and(TransferError::is_remote_failure) {
                            stop.store(true, Ordering::Relaxed);
                        }
                        progress.inc(1);
                        (*o, Some(r))
                    })
                    .collect()
            });
        progress.finish();
        for (o, r) in results {
            let Some(r) = r else {
                report.skipped += 1;
                continue;
            };
            match r {
                Ok(()) => report.downloaded += 1,
                Err(TransferError::Backend(BackendError::NotFound { .. })) => {
                    report.missing.push(o)
                }
                Err(e) => report.failed.push((o, e)),
            }
        }
        report.missing.sort();
        report.failed.sort_by_key(|(o, _)| *o);
        Ok(report)
    }

    /// Downloads one object into the cache, verifying it before it gets its
    /// final name.
    pub fn download_one(&self, o: &ObjectRef) -> Result<(), TransferError> {
        let dest = self.odb.path(&o.oid, o.layout);
        let werr = |source| TransferError::Write {
            path: dest.clone(),
            source,
        };
        fs::create_dir_all(dest.parent().expect("object has a parent")).map_err(werr)?;
        let mut tmp = AtomicFile::create(&dest, 0o444, false).map_err(werr)?;
        let mut hw = HashingWriter {
            inner: tmp.file(),
            hasher: Md5Hasher::new(),
        };
        self.backend.download(&object_key(o), &mut hw)?;
        let mut actual = Md5(hw.hasher.finalize().into());
        if o.layout == Layout::Legacy && !o.oid.is_dir && actual != o.oid.md5 {
            // Legacy ids hash text files with CRLF turned into LF.
            tmp.file().flush().map_err(werr)?;
            let (m, _) = strix_data::hash::hash_file(tmp.temp_path(), HashKind::Md5Dos2Unix)
                .map_err(werr)?;
            actual = m;
        }
        if actual != o.oid.md5 {
            // Dropping `tmp` removes the temporary file.
            return Err(TransferError::Corrupted { oid: o.oid, actual });
        }
        tmp.commit().map_err(werr)
    }

    /// Reads one object from the remote into memory, verified (for `.dir`
    /// manifests that are not in the cache).
    pub fn read_remote(&self, o: &ObjectRef) -> Result<Vec<u8>, TransferError> {
        let mut buf = Vec::new();
        self.backend.download(&object_key(o), &mut buf)?;
        let actual = strix_data::hash::md5_bytes(&buf);
        if actual != o.oid.md5 {
            return Err(TransferError::Corrupted { oid: o.oid, actual });
        }
        Ok(buf)
    }
}

struct HashingWriter<'w> {
    inner: &'w mut fs::File,
    hasher: Md5Hasher,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
