//! A remote in a local folder (or a mounted network filesystem).
//!
//! Besides the [`Backend`] primitives, uploads can be batched
//! ([`LocalBackend::stage`], [`LocalBackend::sync`],
//! [`LocalBackend::publish`]): every object of a batch is written under a
//! temporary name, one `syncfs` makes the whole batch durable, and only
//! then do the objects get their final names (files of 8 MiB and more are
//! flushed one by one instead: a whole-filesystem flush also waits for every
//! other writer's data). No object ever has its final name before its bytes
//! are on disk, at the cost of one flush per batch instead of one per
//! object.

use crate::backend::{Backend, BackendError, SizedKeys};
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strix_fs::AtomicFile;

/// Objects are files under a root directory, mode 0444 like DVC's.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
    url: String,
    sync: bool,
}

impl LocalBackend {
    /// A backend rooted at `root` (created on the first upload).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            url: root.to_string_lossy().into_owned(),
            root,
            sync: true,
        }
    }

    /// Whether uploads are fsynced before they are renamed (default on).
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a key.
    pub fn path(&self, key: &str) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(key.split('/').filter(|s| !s.is_empty()));
        p
    }
}

/// An object written by [`LocalBackend::stage`] but not named yet: neither
/// durable nor visible. Dropping it without [`LocalBackend::publish`]
/// leaves nothing behind.
#[derive(Debug)]
pub struct Staged {
    temp: Temp,
    dest: PathBuf,
    key: String,
    /// Already flushed on its own (a large file).
    durable: bool,
}

/// Where a staged object's bytes wait for their name.
#[derive(Debug)]
enum Temp {
    /// An unnamed inode (`O_TMPFILE`), held open: it vanishes with the
    /// descriptor, even when the process is killed.
    Unnamed(Held),
    /// A temporary name in the object's directory, where the filesystem
    /// has no unnamed files (or no descriptor was left); the next run
    /// removes it if this one dies.
    Named(PathBuf),
    /// Published.
    Gone,
}

/// An open unnamed file, counted against [`unnamed_budget`] while held.
#[derive(Debug)]
struct Held(fs::File);

/// Unnamed files held open by staged objects, in the whole process.
static HELD: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// How many unnamed files staged objects may hold open at once: half the
/// limit on open files, so that a batch never starves the rest of the
/// process (sources, connections) of descriptors. Beyond it, objects wait
/// under temporary names, which need no descriptor.
fn unnamed_budget() -> usize {
    static BUDGET: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *BUDGET.get_or_init(|| {
        let limit = strix_fs::open_files_limit().unwrap_or(1024);
        usize::try_from(limit / 2).unwrap_or(usize::MAX)
    })
}

impl Held {
    /// Takes one place of the budget, if one is free.
    fn reserve() -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        HELD.fetch_update(Relaxed, Relaxed, |n| {
            (n < unnamed_budget()).then_some(n + 1)
        })
        .is_ok()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        HELD.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Staged {
    /// Whether the object was flushed on its own (large files are: a
    /// whole-filesystem flush would wait for every other writer too).
    pub fn is_durable(&self) -> bool {
        self.durable
    }
}

/// Staged files from this size on are flushed one by one.
const FLUSH_ALONE: u64 = 8 << 20;

impl Drop for Staged {
    fn drop(&mut self) {
        if let Temp::Named(path) = &self.temp {
            let _ = fs::remove_file(path);
        }
    }
}

impl LocalBackend {
    /// Writes the local file `src` as `key`'s object, unnamed (or under a
    /// temporary name) in its final directory, mode 0444, without flushing
    /// it. A missing `src` is a `read` error of kind `NotFound`.
    pub fn stage(&self, src: &Path, key: &str) -> Result<Staged, BackendError> {
        let dest = self.path(key);
        let werr = |e| BackendError::io("upload", key, e);
        let rerr = |e| BackendError::Io {
            op: "read",
            key: src.to_string_lossy().into_owned(),
            source: e,
        };
        let input = strix_fs::open_noatime(src).map_err(rerr)?;
        let len = input.metadata().map_err(rerr)?.len();
        let dir = dest.parent().expect("a key has a parent");
        // The directory exists for all but the first object in it.
        let fresh = match create_temp(dir) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(dir).map_err(werr)?;
                create_temp(dir)
            }
            other => other,
        }
        .map_err(werr)?;
        // From here on, a failure drops `staged`: a named temporary is
        // removed, an unnamed one vanishes with its descriptor.
        let (temp, mut named_file) = match fresh {
            Fresh::Unnamed(held) => (Temp::Unnamed(held), None),
            Fresh::Named(path, f) => (Temp::Named(path), Some(f)),
        };
        let mut staged = Staged {
            temp,
            dest,
            key: key.to_string(),
            durable: false,
        };
        let out = match (&mut staged.temp, &mut named_file) {
            (Temp::Unnamed(Held(f)), _) => f,
            (_, Some(f)) => f,
            _ => unreachable!("a fresh object is unnamed or has a name"),
        };
        if strix_fs::umask() & 0o444 != 0 {
            out.set_permissions(fs::Permissions::from_mode(0o444))
                .map_err(werr)?;
        }
        // Small files: one flush per batch (see `sync`); large ones flush
        // their own writes as they are copied.
        let mut input = input;
        if len >= FLUSH_ALONE {
            strix_fs::copy_durable(&mut input, out).map_err(werr)?;
            staged.durable = true;
        } else {
            strix_fs::copy_len(&input, out, len).map_err(werr)?;
        }
        Ok(staged)
    }

    /// Makes everything staged so far durable: one `syncfs` of the
    /// filesystem holding the remote (needed only for objects that are
    /// not [`Staged::is_durable`]).
    pub fn sync(&self) -> Result<(), BackendError> {
        strix_fs::syncfs(&self.root).map_err(|e| BackendError::io("upload", &self.url, e))
    }

    /// Gives a staged object its final name (replacing an existing one).
    /// Only after [`LocalBackend::sync`].
    pub fn publish(&self, mut staged: Staged) -> Result<(), BackendError> {
        let err = |e| BackendError::io("upload", &staged.key, e);
        match std::mem::replace(&mut staged.temp, Temp::Gone) {
            Temp::Unnamed(Held(ref f)) => match strix_fs::link_fd(f, &staged.dest) {
                Ok(()) => Ok(()),
                // Somebody else's copy has the name already: replaced, as
                // a rename would, through a temporary name.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    let dir = staged.dest.parent().expect("a key has a parent");
                    let temp = strix_fs::temp_path_in(dir);
                    strix_fs::link_fd(f, &temp).map_err(err)?;
                    staged.temp = Temp::Named(temp.clone());
                    fs::rename(&temp, &staged.dest).map_err(err)?;
                    staged.temp = Temp::Gone;
                    Ok(())
                }
                Err(e) => Err(err(e)),
            },
            Temp::Named(temp) => {
                staged.temp = Temp::Named(temp.clone());
                fs::rename(&temp, &staged.dest).map_err(err)?;
                staged.temp = Temp::Gone;
                Ok(())
            }
            Temp::Gone => Ok(()),
        }
    }
}

/// A new file for an object's bytes, not named yet.
enum Fresh {
    Unnamed(Held),
    Named(PathBuf, fs::File),
}

/// A file for an object's bytes in `dir`, mode 0444: unnamed where the
/// filesystem allows it and [`unnamed_budget`] has room (it stays open
/// until it is published), else under a temporary name.
fn create_temp(dir: &Path) -> io::Result<Fresh> {
    if Held::reserve() {
        match strix_fs::create_unnamed(dir, 0o444) {
            Ok(Some(f)) => return Ok(Fresh::Unnamed(Held(f))),
            other => {
                // The place was not used after all.
                HELD.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                other?;
            }
        }
    }
    let temp = strix_fs::temp_path_in(dir);
    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(&temp)?;
    Ok(Fresh::Named(temp, f))
}

impl LocalBackend {
    /// [`Backend::upload`] with the file mode of the object (run-cache
    /// entries are 0644 as DVC writes them; data objects 0444).
    pub fn upload_with_mode(&self, src: &Path, key: &str, mode: u32) -> Result<(), BackendError> {
        let dest = self.path(key);
        let werr = |e| BackendError::io("upload", key, e);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(werr)?;
        }
        let mut input = strix_fs::open_noatime(src).map_err(|e| BackendError::Io {
            op: "read",
            key: src.to_string_lossy().into_owned(),
            source: e,
        })?;
        let mut tmp = AtomicFile::create(&dest, mode, self.sync).map_err(werr)?;
        io::copy(&mut input, tmp.file()).map_err(werr)?;
        // A read-only destination (a previous upload) is replaced by rename.
        tmp.commit().map_err(werr)
    }

    /// Every file under `prefix`, with its size if `sized` (one more
    /// `stat` per file); temporaries (`*.tmp`) only if `temps`.
    fn walk(&self, prefix: &str, sized: bool, temps: bool) -> Result<SizedKeys, BackendError> {
        let mut out = Vec::new();
        let base = prefix.trim_end_matches('/').to_string();
        let mut stack = vec![base];
        while let Some(rel) = stack.pop() {
            let dir = self.path(&rel);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(BackendError::io("list", &rel, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| BackendError::io("list", &rel, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let key = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let ft = entry
                    .file_type()
                    .map_err(|e| BackendError::io("list", &key, e))?;
                if ft.is_dir() {
                    stack.push(key);
                } else if temps || !name.ends_with(strix_fs::TEMP_SUFFIX) {
                    // A file removed since it was listed has no size.
                    let size = if sized {
                        fs::metadata(entry.path()).ok().map(|m| m.len())
                    } else {
                        None
                    };
                    out.push((key, size));
                }
            }
        }
        Ok(out)
    }
}

impl Backend for LocalBackend {
    fn url(&self) -> &str {
        &self.url
    }

    fn exists(&self, key: &str) -> Result<bool, BackendError> {
        match fs::symlink_metadata(self.path(key)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BackendError::io("check", key, e)),
        }
    }

    fn stat(&self, key: &str) -> Result<Option<Option<u64>>, BackendError> {
        match fs::metadata(self.path(key)) {
            Ok(m) => Ok(Some(Some(m.len()))),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(BackendError::io("check", key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        Ok(self
            .walk(prefix, false, false)?
            .into_iter()
            .map(|(k, _)| k)
            .collect())
    }

    fn list_sized(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.walk(prefix, true, false)
    }

    fn list_all(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        self.walk(prefix, true, true)
    }

    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        self.upload_with_mode(src, key, 0o444)
    }

    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError> {
        let mut f = strix_fs::open_noatime(&self.path(key))
            .map_err(|e| BackendError::io("download", key, e))?;
        io::copy(&mut f, out).map_err(|e| BackendError::Io {
            op: "download",
            key: key.to_string(),
            source: e,
        })
    }

    fn delete(&self, key: &str) -> Result<(), BackendError> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackendError::io("delete", key, e)),
        }
    }

    fn as_local(&self) -> Option<&LocalBackend> {
        Some(self)
    }

    fn default_jobs(&self) -> usize {
        // Local disks gain little from many parallel copies.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (4 * cores).clamp(4, 32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    fn files(dir: &Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(files(&p));
            } else {
                out.push(p);
            }
        }
        out.sort();
        out
    }

    /// A staged object has no name until it is published, then exactly its
    /// bytes with mode 0444; one dropped unpublished leaves nothing; a name
    /// taken meanwhile is replaced, as a rename would.
    #[test]
    fn staged_objects_appear_only_when_published() {
        let d = tempfile::tempdir().unwrap();
        let remote = LocalBackend::new(d.path().join("remote"));
        let src = d.path().join("src");
        fs::write(&src, b"first").unwrap();
        let a = remote.stage(&src, "files/md5/ab/cdef").unwrap();
        let dropped = remote.stage(&src, "files/md5/ab/other").unwrap();
        assert!(files(&d.path().join("remote")).is_empty());
        drop(dropped);
        remote.sync().unwrap();
        remote.publish(a).unwrap();
        let dest = remote.path("files/md5/ab/cdef");
        assert_eq!(files(&d.path().join("remote")), std::slice::from_ref(&dest));
        assert_eq!(fs::read(&dest).unwrap(), b"first");
        assert_eq!(fs::metadata(&dest).unwrap().mode() & 0o777, 0o444);

        fs::write(&src, b"second").unwrap();
        let b = remote.stage(&src, "files/md5/ab/cdef").unwrap();
        remote.publish(b).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"second");
        assert_eq!(files(&d.path().join("remote")), [dest]);
    }

    /// A missing source is a read error and leaves nothing in the remote.
    #[test]
    fn a_missing_source_stages_nothing() {
        let d = tempfile::tempdir().unwrap();
        let remote = LocalBackend::new(d.path().join("remote"));
        fs::create_dir_all(remote.path("files/md5/ab")).unwrap();
        let e = remote
            .stage(&d.path().join("nope"), "files/md5/ab/cdef")
            .unwrap_err();
        assert!(matches!(e, BackendError::Io { op: "read", .. }), "{e:?}");
        assert!(files(&d.path().join("remote")).is_empty());
    }
}
