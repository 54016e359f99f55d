//! Atomic file creation: write to a temporary file in the destination
//! directory, make it durable, then rename it over the final name.
//!
//! Temporary names have the shape `.strix-<pid>-<counter>-<nanos>.tmp`, so a
//! later run can tell which ones belong to a process that is gone
//! ([`is_stale_temp`]). Readers of the cache skip every name ending in `.tmp`,
//! as DVC does.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Prefix of every temporary file strix creates.
pub const TEMP_PREFIX: &str = ".strix-";
/// Suffix of every temporary file (strix's and DVC's).
pub const TEMP_SUFFIX: &str = ".tmp";

/// A fresh temporary path in `dir` for this process.
pub fn temp_path_in(dir: &Path) -> PathBuf {
    static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    let pid = *PID.get_or_init(std::process::id);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!("{TEMP_PREFIX}{pid}-{n}-{nanos:08x}{TEMP_SUFFIX}"))
}

/// The pid encoded in a strix temporary file name, if `name` is one.
pub fn temp_owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)?;
    rest.split('-').next()?.parse().ok()
}

/// Whether `name` is a strix temporary file whose process no longer runs.
pub fn is_stale_temp(name: &str) -> bool {
    match temp_owner_pid(name) {
        Some(pid) => !crate::process_alive(pid),
        None => false,
    }
}

/// A file being written under a temporary name. Dropping it without
/// [`AtomicFile::commit`] removes the temporary file.
pub struct AtomicFile {
    file: Option<File>,
    temp: PathBuf,
    dest: PathBuf,
    mode: u32,
    sync: bool,
}

impl AtomicFile {
    /// Starts writing `dest`. The final file gets `mode` (e.g. 0o444 for cache
    /// objects, 0o644 for metafiles). With `sync`, the data is fsynced before
    /// the rename.
    pub fn create(dest: &Path, mode: u32, sync: bool) -> io::Result<Self> {
        let dir = dest.parent().unwrap_or(Path::new("."));
        let temp = temp_path_in(dir);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)?;
        Ok(Self {
            file: Some(file),
            temp,
            dest: dest.to_path_buf(),
            mode,
            sync,
        })
    }

    /// The open temporary file.
    pub fn file(&mut self) -> &mut File {
        self.file.as_mut().expect("file is open until commit")
    }

    /// The temporary path.
    pub fn temp_path(&self) -> &Path {
        &self.temp
    }

    /// Sets the mode, makes the data durable if asked, and renames the
    /// temporary file onto the destination. Unflushed data takes the old
    /// file's place through [`replace`], which does not make the
    /// filesystem start writing it out first.
    pub fn commit(mut self) -> io::Result<()> {
        let file = self.file.take().expect("file is open until commit");
        file.set_permissions(fs::Permissions::from_mode(self.mode))?;
        if self.sync {
            file.sync_all()?;
        }
        drop(file);
        if self.sync {
            fs::rename(&self.temp, &self.dest)?;
        } else {
            replace(&self.temp, &self.dest)?;
        }
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// Puts the file `tmp` in place of the existing file `dest`, atomically
/// (`dest` always names a complete file), like `rename(tmp, dest)`.
///
/// On Linux the two names are exchanged (`renameat2` with
/// `RENAME_EXCHANGE`) and the old file's remaining name is then removed.
/// A plain rename over an existing file makes ext4 start writing out all of
/// `tmp`'s pending data before it returns ("auto_da_alloc"), which for a
/// fresh multi-gigabyte copy costs most of a second; an exchange does not.
/// Where exchanging is not possible (no such file to replace, or a
/// filesystem without it), a plain rename.
pub fn replace(tmp: &Path, dest: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let c = |p: &Path| {
            std::ffi::CString::new(p.as_os_str().as_bytes())
                .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
        };
        let (from, to) = (c(tmp)?, c(dest)?);
        // SAFETY: both arguments are valid NUL-terminated paths.
        let rc = unsafe {
            libc::renameat2(
                libc::AT_FDCWD,
                from.as_ptr(),
                libc::AT_FDCWD,
                to.as_ptr(),
                libc::RENAME_EXCHANGE,
            )
        };
        if rc == 0 {
            // `tmp` now names the replaced file. A failure to remove it
            // leaves a temporary that the next run's cleanup removes.
            let _ = fs::remove_file(tmp);
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if !matches!(
            e.raw_os_error(),
            Some(libc::ENOENT | libc::EINVAL | libc::ENOSYS | libc::EOPNOTSUPP)
        ) {
            return Err(e);
        }
    }
    fs::rename(tmp, dest)
}

/// Writes `data` to `path` atomically and durably with mode 0644 (less the
/// umask is not applied: metafiles are always 0644 like DVC's under umask 022).
pub fn atomic_write(path: &Path, data: &[u8]) -> io::Result<()> {
    atomic_write_mode(path, data, 0o644)
}

/// [`atomic_write`] with an explicit final mode.
pub fn atomic_write_mode(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    let mut f = AtomicFile::create(path, mode, true)?;
    f.write_all(data)?;
    f.commit()
}

/// What [`write_new`] did.
#[derive(Debug)]
pub enum WriteNew {
    /// The file was created.
    Created,
    /// A file of that name already existed and was left alone.
    Existed,
}

/// Creates `dest` holding exactly `data` with `mode`, or leaves an existing
/// `dest` alone. The file appears complete or not at all:
///
/// * on Linux the bytes go into an anonymous `O_TMPFILE` inode in the
///   destination directory, which is then linked under its name, so no
///   temporary name exists and a killed process leaves nothing behind;
/// * elsewhere, or where the filesystem lacks `O_TMPFILE`, a named
///   temporary is written and hard-linked to the name (no clobbering), then
///   removed.
///
/// `mode` is applied exactly (not masked by the umask).
pub fn write_new(dest: &Path, data: &[u8], mode: u32) -> io::Result<WriteNew> {
    let dir = dest.parent().unwrap_or(Path::new("."));
    #[cfg(target_os = "linux")]
    if let Some(f) = create_unnamed(dir, mode)? {
        match fill_and_link(f, data, mode, |f| link_fd(f, dest)) {
            // No /proc mounted, or a filesystem that refuses the link: a
            // named temporary instead.
            Err(e)
                if e.kind() == io::ErrorKind::Unsupported
                    || matches!(
                        e.raw_os_error(),
                        Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)
                    ) => {}
            r => return r,
        }
    }
    let tmp = temp_path_in(dir);
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.set_permissions(fs::Permissions::from_mode(mode))?;
        drop(f);
        match fs::hard_link(&tmp, dest) {
            Ok(()) => Ok(WriteNew::Created),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(WriteNew::Existed),
            Err(e) => Err(e),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result
}

/// Writes `data` into `f`, a fresh `O_TMPFILE` inode created with `mode`,
/// and names it with `link`: `Existed` when the name is taken.
#[cfg(target_os = "linux")]
pub(crate) fn fill_and_link(
    mut f: fs::File,
    data: &[u8],
    mode: u32,
    link: impl FnOnce(&fs::File) -> io::Result<()>,
) -> io::Result<WriteNew> {
    f.write_all(data)?;
    // Created with its final mode; a chmod is only needed when the umask
    // would clear some of the requested bits.
    if mode & crate::umask() != 0 {
        f.set_permissions(fs::Permissions::from_mode(mode))?;
    }
    match link(&f) {
        Ok(()) => Ok(WriteNew::Created),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(WriteNew::Existed),
        Err(e) => Err(e),
    }
}

/// `linkat` of the inode behind `file` to `dest`, relative to the directory
/// `dir` (or `AT_FDCWD`); the system's error.
///
/// Linked through the descriptor itself (`AT_EMPTY_PATH`) where the kernel
/// allows it (Linux 6.10 on, for a file its caller opened; earlier kernels
/// only with `CAP_DAC_READ_SEARCH`), else through `/proc/self/fd`, whose
/// lookup costs about as much as the link itself. The first refusal is
/// remembered, so an older kernel pays for it once.
#[cfg(target_os = "linux")]
pub(crate) fn link_fd_at(
    file: &fs::File,
    dir: std::os::fd::RawFd,
    dest: &std::ffi::CStr,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::AtomicBool;
    static EMPTY_PATH_REFUSED: AtomicBool = AtomicBool::new(false);
    if !EMPTY_PATH_REFUSED.load(Ordering::Relaxed) {
        match linkat(file.as_raw_fd(), c"", dir, dest, libc::AT_EMPTY_PATH) {
            // Refused for want of the capability: ENOENT before Linux 6.10
            // (EPERM from some security modules).
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::EPERM)) => {
                // ENOENT may also be `dest`'s missing directory, or an inode
                // with no links that is not O_TMPFILE; the /proc path below
                // then fails the same way, so only its success proves that
                // the kernel refused the empty path.
                let r = link_via_proc(file, dir, dest);
                if r.is_ok() {
                    EMPTY_PATH_REFUSED.store(true, Ordering::Relaxed);
                }
                return r;
            }
            r => return r,
        }
    }
    link_via_proc(file, dir, dest)
}

/// [`link_fd_at`] through `/proc/self/fd`.
#[cfg(target_os = "linux")]
fn link_via_proc(
    file: &fs::File,
    dir: std::os::fd::RawFd,
    dest: &std::ffi::CStr,
) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let proc_path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
        .expect("no NUL in a proc path");
    linkat(
        libc::AT_FDCWD,
        &proc_path,
        dir,
        dest,
        libc::AT_SYMLINK_FOLLOW,
    )
}

/// `linkat(2)`; the system's error.
#[cfg(target_os = "linux")]
fn linkat(
    from_dir: std::os::fd::RawFd,
    from: &std::ffi::CStr,
    dir: std::os::fd::RawFd,
    dest: &std::ffi::CStr,
    flags: libc::c_int,
) -> io::Result<()> {
    // SAFETY: both paths are NUL-terminated; the callers pass descriptors
    // they hold open, or AT_FDCWD.
    let rc = unsafe { libc::linkat(from_dir, from.as_ptr(), dir, dest.as_ptr(), flags) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// An unnamed file (`O_TMPFILE`) in the directory `dir`, created with
/// `mode`, for bytes that get their name later ([`link_fd`]); a process
/// killed before that leaves nothing behind. `Ok(None)` where the
/// filesystem has no unnamed files or no descriptor is left: the caller
/// then writes under a temporary name.
pub fn create_unnamed(dir: &Path, mode: u32) -> io::Result<Option<fs::File>> {
    #[cfg(target_os = "linux")]
    {
        let r = OpenOptions::new()
            .write(true)
            .mode(mode)
            .custom_flags(libc::O_TMPFILE)
            .open(dir);
        match r {
            Ok(f) => Ok(Some(f)),
            Err(e)
                if matches!(
                    e.raw_os_error(),
                    Some(
                        libc::EOPNOTSUPP
                            | libc::EISDIR
                            | libc::EINVAL
                            | libc::EMFILE
                            | libc::ENFILE
                    )
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (dir, mode);
        Ok(None)
    }
}

/// Gives the inode behind an open file one more name, `dest` (which must
/// not exist: `AlreadyExists` otherwise). Works for `O_TMPFILE` inodes and
/// for files whose other names may have changed since they were opened: the
/// link goes through the descriptor, never through a path lookup.
/// `Unsupported` where that cannot be done (no `/proc`, not Linux).
pub fn link_fd(file: &fs::File, dest: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::ffi::OsStrExt;
        let dest_c = std::ffi::CString::new(dest.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        let Err(e) = link_fd_at(file, libc::AT_FDCWD, &dest_c) else {
            return Ok(());
        };
        if e.raw_os_error() == Some(libc::ENOENT)
            && dest.parent().is_some_and(|d| d.is_dir())
            && !Path::new("/proc/self/fd").is_dir()
        {
            return Err(io::Error::from(io::ErrorKind::Unsupported));
        }
        Err(e)
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, dest);
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_swaps_in_the_new_file_and_leaves_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        let (tmp, dest) = (d.path().join("tmp"), d.path().join("dest"));
        fs::write(&tmp, b"new").unwrap();
        fs::write(&dest, b"old").unwrap();
        replace(&tmp, &dest).unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"new");
        assert!(!tmp.exists());
        // Nothing to replace: a plain rename.
        fs::write(&tmp, b"newer").unwrap();
        replace(&tmp, &d.path().join("fresh")).unwrap();
        assert_eq!(fs::read(d.path().join("fresh")).unwrap(), b"newer");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
    }

    #[test]
    fn write_new_creates_once_with_exact_mode() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("obj");
        assert!(matches!(
            write_new(&p, b"abc", 0o444).unwrap(),
            WriteNew::Created
        ));
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        assert_eq!(
            fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o444
        );
        assert!(matches!(
            write_new(&p, b"xyz", 0o444).unwrap(),
            WriteNew::Existed
        ));
        assert_eq!(fs::read(&p).unwrap(), b"abc");
        // Nothing else was left in the directory.
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 1);
    }

    /// Both ways of naming an O_TMPFILE inode give it the name once, and
    /// refuse a taken name.
    #[cfg(target_os = "linux")]
    #[test]
    fn tmpfile_is_linked_by_descriptor_and_through_proc() {
        use std::os::fd::AsRawFd;
        let d = tempfile::tempdir().unwrap();
        let tmpfile = |data: &[u8]| {
            let mut f = OpenOptions::new()
                .write(true)
                .mode(0o444)
                .custom_flags(libc::O_TMPFILE)
                .open(d.path())
                .unwrap();
            f.write_all(data).unwrap();
            f
        };
        let dir = fs::File::open(d.path()).unwrap();
        let a = tmpfile(b"a");
        link_fd_at(&a, dir.as_raw_fd(), c"a").unwrap();
        let b = tmpfile(b"b");
        link_via_proc(&b, dir.as_raw_fd(), c"b").unwrap();
        assert_eq!(fs::read(d.path().join("a")).unwrap(), b"a");
        assert_eq!(fs::read(d.path().join("b")).unwrap(), b"b");
        let taken = link_fd_at(&tmpfile(b"c"), dir.as_raw_fd(), c"a").unwrap_err();
        assert_eq!(taken.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(d.path().join("a")).unwrap(), b"a");
        assert_eq!(fs::read_dir(d.path()).unwrap().count(), 2);
    }
}
