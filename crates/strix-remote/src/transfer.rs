//! Moving objects between the local cache and a [`Backend`].
//!
//! * [`Transfer::remote_has`] asks which objects the remote holds: one
//!   existence check per object, in parallel, or for many objects a listing
//!   of the directories they live in when that takes fewer requests.
//!   [`Transfer::remote_has_tree`] does the same for directories, asking
//!   about a directory's files only when its `.dir` is not on the remote.
//! * [`Transfer::push`] uploads what the remote lacks; a `.dir` object is
//!   uploaded only after every one of its files is on the remote, so a
//!   `.dir` on a remote implies a complete directory (spec 11.2), which is
//!   what DVC assumes too when it asks a remote what it has.
//! * [`Transfer::fetch`] downloads what the cache lacks. Each object is
//!   written to a temporary file next to its final place, hashed as it is
//!   written, and renamed (mode 0444) only when the hash matches its id.
//!
//! When the remote itself fails (after the backend's own retries: a server
//! that went away, refused credentials…), the transfers still running end
//! and no new one starts: the rest is counted as skipped rather than tried
//! and failed object by object. A rerun picks up where this one stopped.

use crate::backend::{Backend, BackendError, SizedKeys};
use crate::local::Staged;
use rayon::prelude::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use strix_data::{FileStat, Layout, Md5, Odb, Oid, Progress};

/// Uploads to a local folder are flushed once per this many objects.
const STAGE_BATCH: usize = 2048;

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
    /// The DVC 3 objects downloaded, with the stat of their cache file
    /// when they were verified (for the state database: a checkout right
    /// after need not hash them again).
    pub verified: Vec<(ObjectRef, FileStat)>,
}

/// An upload error, with a source missing from the cache told apart.
fn upload_error(o: &ObjectRef, e: BackendError) -> TransferError {
    match e {
        BackendError::Io {
            op: "read", source, ..
        } if source.kind() == io::ErrorKind::NotFound => TransferError::NotInCache { oid: o.oid },
        e => TransferError::Backend(e),
    }
}

/// The outcome of one download: the verified file's stat, if worth keeping.
type Downloaded = Result<Option<FileStat>, TransferError>;

/// The shared state of one parallel transfer.
struct Run<'a> {
    pool: &'a rayon::ThreadPool,
    progress: &'a dyn Progress,
    failed: Mutex<Vec<(ObjectRef, TransferError)>>,
    stop: AtomicBool,
    skipped: AtomicUsize,
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

    /// Which of `files`, `dirs` and their members exist on the remote. The
    /// `.dir` objects are asked about first: a `.dir` on the remote implies
    /// all its files are there (it is uploaded last), so the members of
    /// those are not queried, as in DVC. The rest is asked about with
    /// [`Self::remote_has`].
    pub fn remote_has_tree(
        &self,
        files: &[ObjectRef],
        dirs: &[DirObject],
        progress: &dyn Progress,
    ) -> Result<HashSet<ObjectRef>, TransferError> {
        let dir_objs: Vec<ObjectRef> = dirs.iter().map(|d| d.obj).collect();
        let mut found = self.remote_has(&dir_objs, progress)?;
        let mut rest: Vec<ObjectRef> = files.to_vec();
        for d in dirs {
            if found.contains(&d.obj) {
                found.extend(d.members.iter().copied());
            } else {
                rest.extend(d.members.iter().copied());
            }
        }
        rest.retain(|o| !found.contains(o));
        found.extend(self.remote_has(&rest, progress)?);
        Ok(found)
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
        if unique.is_empty() {
            return Ok(HashSet::new());
        }
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
                    let r = self.backend.stat(&object_key(o));
                    if r.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.inc(1);
                    r.map(|stat| stat.is_some_and(|size| self.whole(o, size)).then_some(*o))
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
        let Ok(sample) = self.backend.list_sized(&first) else {
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
        let pool = self.pool()?;
        let listed: Result<Vec<SizedKeys>, BackendError> = pool.install(|| {
            rest.par_iter()
                .map(|d| {
                    if stop.load(Ordering::Relaxed) {
                        return Ok(Vec::new()); // the result is an error anyway
                    }
                    let r = self.backend.list_sized(d);
                    if r.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    progress.inc(1);
                    r
                })
                .collect()
        });
        progress.finish();
        let keys: HashMap<String, Option<u64>> =
            listed?.into_iter().flatten().chain(sample).collect();
        Ok(Some(pool.install(|| {
            objs.par_iter()
                .copied()
                .filter(|o| {
                    keys.get(&object_key(o))
                        .is_some_and(|size| self.whole(o, *size))
                })
                .collect()
        })))
    }

    /// Whether an object the remote holds with `size` (if it tells) can be
    /// whole: a size other than the cached copy's means an upload that was
    /// cut short (some servers store what they received of a killed
    /// upload), so the object counts as absent and a push sends it again.
    /// Objects not in the cache are taken as whole.
    fn whole(&self, o: &ObjectRef, size: Option<u64>) -> bool {
        let Some(size) = size else {
            return true;
        };
        std::fs::metadata(self.odb.path(&o.oid, o.layout)).map_or(true, |m| m.len() == size)
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
        let on_remote = self.remote_has_tree(files, dirs, progress)?;
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
        let run = Run {
            pool: &pool,
            progress,
            failed: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            skipped: AtomicUsize::new(0),
        };
        report.uploaded = self.upload_all(&to_send, &run);
        if run.stop.load(Ordering::Relaxed) {
            // No `.dir` goes up after the remote failed.
            report.skipped = run.skipped.into_inner() + dirs_to_send.len();
            let mut failed = run.failed.into_inner().expect("lock");
            failed.sort_by_key(|(o, _)| *o);
            report.failed = failed;
            progress.finish();
            return Ok(report);
        }
        let failed_set: HashSet<ObjectRef> = run
            .failed
            .lock()
            .expect("lock")
            .iter()
            .map(|(o, _)| *o)
            .collect();
        let mut ready = Vec::new();
        for d in dirs_to_send {
            let bad = d.members.iter().filter(|m| failed_set.contains(m)).count();
            if bad > 0 {
                let e = TransferError::DirIncomplete {
                    oid: d.obj.oid,
                    failed: bad,
                };
                run.failed.lock().expect("lock").push((d.obj, e));
                progress.inc(1);
            } else {
                ready.push(d.obj);
            }
        }
        report.uploaded += self.upload_all(&ready, &run);
        // Each batch's bytes were durable before it was named; the last
        // names are made durable too before the push counts as done.
        if report.uploaded > 0
            && let Some(local) = self.backend.as_local()
            && let Err(e) = local.sync()
        {
            return Err(TransferError::Backend(e));
        }
        report.skipped = run.skipped.into_inner();
        let mut failed = run.failed.into_inner().expect("lock");
        failed.sort_by_key(|(o, _)| *o);
        report.failed = failed;
        progress.finish();
        Ok(report)
    }

    /// Uploads `objs` in parallel; returns how many went up. Failures go
    /// to `run.failed`; a failing remote stops the rest (counted as
    /// skipped). A local-folder remote gets its uploads in batches (see
    /// [`crate::local`]): staged, flushed once, then named.
    fn upload_all(&self, objs: &[ObjectRef], run: &Run<'_>) -> usize {
        let fail = |o: &ObjectRef, e: TransferError| {
            if e.is_remote_failure() {
                run.stop.store(true, Ordering::Relaxed);
            }
            run.failed.lock().expect("lock").push((*o, e));
        };
        let stopped = || {
            let s = run.stop.load(Ordering::Relaxed);
            if s {
                run.skipped.fetch_add(1, Ordering::Relaxed);
            }
            s
        };
        let Some(local) = self.backend.as_local() else {
            return run.pool.install(|| {
                objs.par_iter()
                    .map(|o| {
                        if stopped() {
                            return 0;
                        }
                        let r = self
                            .backend
                            .upload(&self.odb.path(&o.oid, o.layout), &object_key(o));
                        run.progress.inc(1);
                        match r {
                            Ok(()) => 1,
                            Err(e) => {
                                fail(o, upload_error(o, e));
                                0
                            }
                        }
                    })
                    .sum()
            });
        };
        // While one batch is flushed on its own thread, the pool stages the
        // next one (the flush costs disk time, not CPU); the flushed batch is
        // then named by the pool too.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(ObjectRef, Staged)>>(1);
        std::thread::scope(|scope| {
            let namer = scope.spawn(|| {
                let mut uploaded = 0;
                for staged in rx {
                    let flushed = staged.iter().all(|(_, s)| s.is_durable());
                    if let Err(e) = if flushed { Ok(()) } else { local.sync() } {
                        // Nothing of this batch gets a name; dropping
                        // `staged` removes its temporaries.
                        run.skipped.fetch_add(staged.len() - 1, Ordering::Relaxed);
                        fail(&staged[0].0, TransferError::Backend(e));
                        continue;
                    }
                    // Renames in different directories run in parallel.
                    uploaded += run.pool.install(|| {
                        staged
                            .into_par_iter()
                            .map(|(o, s)| match local.publish(s) {
                                Ok(()) => 1,
                                Err(e) => {
                                    fail(&o, TransferError::Backend(e));
                                    0
                                }
                            })
                            .sum::<usize>()
                    });
                }
                uploaded
            });
            for batch in objs.chunks(STAGE_BATCH) {
                let staged: Vec<(ObjectRef, Staged)> = run.pool.install(|| {
                    batch
                        .par_iter()
                        .filter_map(|o| {
                            if stopped() {
                                return None;
                            }
                            let r = local.stage(&self.odb.path(&o.oid, o.layout), &object_key(o));
                            run.progress.inc(1);
                            match r {
                                Ok(s) => Some((*o, s)),
                                Err(e) => {
                                    fail(o, upload_error(o, e));
                                    None
                                }
                            }
                        })
                        .collect()
                });
                if !staged.is_empty() && tx.send(staged).is_err() {
                    break;
                }
            }
            drop(tx);
            namer.join().expect("the naming thread does not panic")
        })
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
        let unique: Vec<(Oid, Layout)> = objs
            .iter()
            .filter(|o| seen.insert(**o))
            .map(|o| (o.oid, o.layout))
            .collect();
        let cached = self.odb.existing(&unique);
        let wanted: Vec<ObjectRef> = unique
            .into_iter()
            .filter(|o| !cached.contains(o))
            .map(|(oid, layout)| ObjectRef { oid, layout })
            .collect();
        let mut report = FetchReport::default();
        if wanted.is_empty() {
            return Ok(report);
        }
        progress.start("Fetching", Some(wanted.len() as u64));
        let stop = AtomicBool::new(false);
        let results: Vec<(ObjectRef, Option<Downloaded>)> = self.pool()?.install(|| {
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
                Ok(stat) => {
                    report.downloaded += 1;
                    if let Some(stat) = stat
                        && o.layout == Layout::V3
                    {
                        report.verified.push((o, stat));
                    }
                }
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
    /// final name. Returns the stat of the verified file when it is large
    /// enough for a later hash to matter.
    pub fn download_one(&self, o: &ObjectRef) -> Result<Option<FileStat>, TransferError> {
        let dest = self.odb.path(&o.oid, o.layout);
        let key = object_key(o);
        if o.layout == Layout::V3
            && let Some(local) = self.backend.as_local()
        {
            return crate::landing::copy_local(self.odb, o, &key, &local.path(&key), &dest);
        }
        crate::landing::download(self.backend, self.odb, o, &key, &dest)
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
