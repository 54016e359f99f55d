//! Where a download from a remote lands in the cache until it is verified.
//!
//! * Small objects (up to [`IN_MEMORY`]) are held in memory, hashed as they
//!   arrive and written as new cache objects once their hash matches.
//! * Larger ones go to a file next to the object's final place. With a
//!   remote that serves byte ranges ([`Backend::resumes`]) that file is named
//!   after the object, `<object>.partial.tmp`, and kept when the transfer
//!   breaks off (a network failure, or strix killed): the next download of
//!   the object continues from its end. The whole object, the bytes already
//!   there included, is hashed before it gets its final name; a partial file
//!   that turns out not to be a prefix of the object is thrown away and the
//!   object downloaded again from the start. A lock on the partial file keeps
//!   two processes from writing it at once (the second uses a temporary
//!   file of its own).
//! * Otherwise a temporary file, removed unless the object is complete.
//!
//! From a remote in a local folder ([`copy_local`]) nothing is resumed:
//! small objects are read whole, large ones copied by the kernel while the
//! copy is read back and hashed.
//!
//! Names ending in `.tmp` are never objects (for strix and DVC), and the
//! cache's cleanup removes such files once they are an hour old.

use crate::backend::{Backend, BackendError};
use crate::transfer::{ObjectRef, TransferError};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use strix_data::odb::OdbError;
use strix_data::{FileStat, HashKind, Layout, Md5, Md5Hasher, Odb};

/// Objects up to this size are downloaded into memory.
pub const IN_MEMORY: usize = 1 << 20;

/// The name of the partial download of the object at `dest`.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    name.push(strix_fs::TEMP_SUFFIX);
    dest.with_file_name(name)
}

enum Sink {
    Memory(Vec<u8>),
    File {
        file: File,
        path: PathBuf,
        /// A partial download kept for a later resume (else a temporary).
        partial: bool,
    },
}

/// The bytes of one download so far, and their running hash.
struct Landing<'a> {
    sink: Sink,
    hasher: Md5Hasher,
    dest: &'a Path,
    /// Whether a file sink may be the resumable partial file.
    resumable: bool,
}

impl Landing<'_> {
    /// Moves the bytes from memory into a file (the partial file if it can
    /// be had, else a temporary).
    fn spill(&mut self) -> io::Result<()> {
        let Sink::Memory(data) = &self.sink else {
            return Ok(());
        };
        let (mut file, path, partial) = open_sink_file(self.dest, self.resumable)?;
        file.write_all(data)?;
        self.sink = Sink::File {
            file,
            path,
            partial,
        };
        Ok(())
    }

    /// Removes whatever file holds the bytes.
    fn discard(&mut self) {
        if let Sink::File { path, .. } = &mut self.sink {
            let _ = fs::remove_file(&*path);
            *path = PathBuf::new();
        }
    }

    /// The hash of the bytes, and for legacy objects the dos2unix hash
    /// when the plain one does not match.
    fn hash(&mut self, o: &ObjectRef) -> io::Result<Md5> {
        let actual = self.hasher.clone().finish();
        if o.layout == Layout::Legacy && !o.oid.is_dir && actual != o.oid.md5 {
            // Legacy ids hash text files with CRLF turned into LF.
            self.spill()?;
            if let Sink::File { file, path, .. } = &mut self.sink {
                file.flush()?;
                return Ok(strix_data::hash::hash_file(path, HashKind::Md5Dos2Unix)?.0);
            }
        }
        Ok(actual)
    }

    /// Stores the verified bytes as the object; the file's stat, if any.
    fn finish(mut self, o: &ObjectRef, odb: &Odb) -> io::Result<Option<FileStat>> {
        match std::mem::replace(&mut self.sink, Sink::Memory(Vec::new())) {
            Sink::Memory(data) => match odb.put_verified(&o.oid, o.layout, &data) {
                Ok(()) => Ok(None),
                Err(OdbError::Write { source, .. }) => Err(source),
                Err(e) => Err(io::Error::other(e)),
            },
            Sink::File { file, path, .. } => {
                let r = (|| {
                    file.set_permissions(fs::Permissions::from_mode(0o444))?;
                    // Renaming and the chmod keep inode, size and mtime.
                    let stat = FileStat::from_metadata(&file.metadata()?);
                    fs::rename(&path, self.dest)?;
                    Ok(Some(stat))
                })();
                if r.is_err() {
                    let _ = fs::remove_file(&path);
                }
                r
            }
        }
    }
}

impl Write for Landing<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Sink::Memory(data) = &self.sink
            && data.len() + buf.len() > IN_MEMORY
        {
            self.spill()?;
        }
        match &mut self.sink {
            Sink::Memory(data) => data.extend_from_slice(buf),
            Sink::File { file, .. } => file.write_all(buf)?,
        }
        self.hasher.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.sink {
            Sink::Memory(_) => Ok(()),
            Sink::File { file, .. } => file.flush(),
        }
    }
}

impl Drop for Landing<'_> {
    fn drop(&mut self) {
        // A temporary goes; a partial download stays for a later resume
        // (callers discard it when it is of no use).
        if let Sink::File {
            path,
            partial: false,
            ..
        } = &self.sink
            && !path.as_os_str().is_empty()
        {
            let _ = fs::remove_file(path);
        }
    }
}

/// Creates the file a download spills into: the object's partial file
/// (emptied) when `resumable` and no other process holds it, else a fresh
/// temporary. Creates the object's directory when missing.
fn open_sink_file(dest: &Path, resumable: bool) -> io::Result<(File, PathBuf, bool)> {
    let dir = dest.parent().expect("an object has a parent");
    let with_dir = |open: &dyn Fn() -> io::Result<File>| match open() {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir)?;
            open()
        }
        other => other,
    };
    if resumable {
        let path = partial_path(dest);
        let file = with_dir(&|| {
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .open(&path)
        })?;
        if file.try_lock().is_ok() {
            file.set_len(0)?;
            return Ok((file, path, true));
        }
    }
    let path = strix_fs::temp_path_in(dir);
    let file = with_dir(&|| {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
    })?;
    Ok((file, path, false))
}

/// An existing partial download of the object at `dest` that no other
/// process is writing: the file (positioned at its end), its length and
/// the hash state of its bytes.
fn open_partial(dest: &Path) -> Option<(File, PathBuf, u64, Md5Hasher)> {
    let path = partial_path(dest);
    let mut file = OpenOptions::new().read(true).write(true).open(&path).ok()?;
    file.try_lock().ok()?;
    let mut hasher = Md5Hasher::new();
    let mut buf = vec![0u8; strix_data::hash::CHUNK];
    let mut have = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                have += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    file.seek(io::SeekFrom::End(0)).ok()?;
    Some((file, path, have, hasher))
}

/// Whether a failed transfer is worth resuming later: the connection broke
/// or timed out (not: the object is missing, the disk is full…).
fn worth_resuming(e: &BackendError) -> bool {
    use io::ErrorKind as K;
    matches!(e, BackendError::Io { source, .. } if matches!(
        source.kind(),
        K::ConnectionReset
            | K::ConnectionAborted
            | K::ConnectionRefused
            | K::NotConnected
            | K::BrokenPipe
            | K::TimedOut
            | K::UnexpectedEof
            | K::Interrupted
    ))
}

/// Objects up to this size are copied from a local remote through memory.
const SMALL_LOCAL: u64 = 4 << 20;

/// [`download`] from a remote in a local folder, the object being the file
/// `src`. The bytes hashed are the bytes of the cache file (or buffer)
/// that becomes the object.
pub fn copy_local(
    odb: &Odb,
    o: &ObjectRef,
    key: &str,
    src: &Path,
    dest: &Path,
) -> Result<Option<FileStat>, TransferError> {
    let werr = |source| TransferError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let rerr = |e| TransferError::Backend(BackendError::io("download", key, e));
    let mut input = strix_fs::open_noatime(src).map_err(rerr)?;
    // Room for a typical object up front: `read_to_end` then reads it in
    // one call (plus the one that sees the end) instead of growing a
    // buffer from nothing in small steps.
    let mut buf = Vec::with_capacity(64 << 10);
    (&mut input)
        .take(SMALL_LOCAL + 1)
        .read_to_end(&mut buf)
        .map_err(rerr)?;
    if buf.len() as u64 <= SMALL_LOCAL {
        let mut hasher = Md5Hasher::new();
        hasher.update(&buf);
        let landing = Landing {
            hasher,
            sink: Sink::Memory(buf),
            dest,
            resumable: false,
        };
        return verify_and_finish(landing, o, odb);
    }
    drop(buf);
    input.seek(io::SeekFrom::Start(0)).map_err(rerr)?;
    let (file, path, partial) = open_sink_file(dest, false).map_err(werr)?;
    let mut landing = Landing {
        sink: Sink::File {
            file,
            path,
            partial,
        },
        hasher: Md5Hasher::new(),
        dest,
        resumable: false,
    };
    let Sink::File { file, .. } = &landing.sink else {
        unreachable!("a file sink")
    };
    let (actual, _) = strix_data::hash::md5_copy_file(&input, file).map_err(|e| {
        if matches!(
            e.kind(),
            io::ErrorKind::StorageFull | io::ErrorKind::FileTooLarge
        ) {
            werr(e)
        } else {
            rerr(e)
        }
    })?;
    if actual != o.oid.md5 {
        landing.discard();
        return Err(TransferError::Corrupted { oid: o.oid, actual });
    }
    landing.finish(o, odb).map_err(werr)
}

/// Checks the hash of what landed and stores it as the object.
fn verify_and_finish(
    mut landing: Landing<'_>,
    o: &ObjectRef,
    odb: &Odb,
) -> Result<Option<FileStat>, TransferError> {
    let werr = |source| TransferError::Write {
        path: landing.dest.to_path_buf(),
        source,
    };
    let actual = landing.hash(o).map_err(werr)?;
    if actual != o.oid.md5 {
        landing.discard();
        return Err(TransferError::Corrupted { oid: o.oid, actual });
    }
    landing.finish(o, odb).map_err(werr)
}

/// Downloads the object `o` (remote key `key`) into the cache at `dest`,
/// verifying it before it gets its name; resumes a partial download left
/// by an earlier attempt when the remote allows. The stat of the object
/// file when it was written through one (large objects).
pub fn download(
    backend: &dyn Backend,
    odb: &Odb,
    o: &ObjectRef,
    key: &str,
    dest: &Path,
) -> Result<Option<FileStat>, TransferError> {
    let werr = |source| TransferError::Write {
        path: dest.to_path_buf(),
        source,
    };
    let resumable = backend.resumes();
    if resumable && let Some((file, path, have, hasher)) = open_partial(dest) {
        let mut landing = Landing {
            sink: Sink::File {
                file,
                path,
                partial: true,
            },
            hasher,
            dest,
            resumable,
        };
        match backend.download_from(key, have, &mut landing) {
            Ok(_) => {
                if landing.hash(o).map_err(werr)? == o.oid.md5 {
                    return landing.finish(o, odb).map_err(werr);
                }
                // Not a prefix of the object after all: start again.
                landing.discard();
            }
            Err(e) if worth_resuming(&e) => return Err(e.into()),
            Err(_) => landing.discard(),
        }
    }
    let sink = if o.layout == Layout::Legacy {
        let (file, path, partial) = open_sink_file(dest, resumable).map_err(werr)?;
        Sink::File {
            file,
            path,
            partial,
        }
    } else {
        Sink::Memory(Vec::new())
    };
    let mut landing = Landing {
        sink,
        hasher: Md5Hasher::new(),
        dest,
        resumable,
    };
    if let Err(e) = backend.download(key, &mut landing) {
        if !worth_resuming(&e) {
            landing.discard();
        }
        return Err(e.into());
    }
    verify_and_finish(landing, o, odb)
}
