//! Filesystem discipline for strix: atomic writes, links with fallback,
//! read-only protection, durable batches and kernel file locks.
//!
//! This crate knows nothing about DVC formats.

mod atomic;
mod dir;
mod flush;
pub mod lease;
pub mod link;
pub mod lock;

pub use atomic::{
    AtomicFile, TEMP_PREFIX, TEMP_SUFFIX, WriteNew, atomic_write, atomic_write_mode,
    create_unnamed, is_stale_temp, link_fd, replace, temp_owner_pid, temp_path_in, write_new,
};

pub use dir::Dir;
pub use flush::EarlyFlush;

use std::io;
use std::path::Path;

/// Whether a process with this pid exists.
pub fn process_alive(pid: u32) -> bool {
    if pid == 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let rc = unsafe { libc::kill(pid as libc::pid_t, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Entries of `dir` named after a process that no longer runs: markers and
/// scratch areas that a killed run left behind. A name that is not a pid
/// counts as dead; this process's own pid does not (an entry of a dead run
/// whose pid came back is the caller's to spot).
pub fn entries_of_dead_runs(dir: &Path) -> Vec<std::path::PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    rd.flatten()
        .filter(|e| {
            let pid: Option<u32> = e.file_name().to_str().and_then(|s| s.parse().ok());
            pid.is_none_or(|p| p != std::process::id() && !process_alive(p))
        })
        .map(|e| e.path())
        .collect()
}

/// Opens `path` for reading without updating its access time, where the
/// kernel lets us (`O_NOATIME` needs the file's owner or `CAP_FOWNER`;
/// anyone else gets a plain open).
///
/// Hashing a freshly written file would otherwise dirty its inode (under
/// `relatime` the first read after a write updates the access time), and
/// the `syncfs` that ends a batch would then write every source inode back
/// along with the new cache objects.
pub fn open_noatime(path: &Path) -> io::Result<std::fs::File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        match std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOATIME)
            .open(path)
        {
            Err(e) if e.raw_os_error() == Some(libc::EPERM) => {}
            other => return other,
        }
    }
    std::fs::File::open(path)
}

/// Flushes every dirty page of the filesystem holding `path` (one `syncfs`
/// for a whole batch of writes).
pub fn syncfs(path: &Path) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let f = std::fs::File::open(path)?;
    // SAFETY: the fd is valid for the lifetime of `f`.
    let rc = unsafe { libc::syncfs(f.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Copies the file `src` to `dst` (inside the kernel where it can) and makes
/// the copy durable (`fdatasync`). Large files are copied in steps, each
/// step's writeback started as soon as it is copied, so the final flush
/// finds little left to write: the copy and the disk work overlap.
/// Returns the number of bytes copied.
pub fn copy_durable(src: &mut std::fs::File, dst: &mut std::fs::File) -> io::Result<u64> {
    use std::io::Read;
    const STEP: u64 = 64 << 20;
    let mut total = 0u64;
    loop {
        let n = io::copy(&mut Read::by_ref(src).take(STEP), dst)?;
        if n == 0 {
            break;
        }
        start_writeback(dst, total, n);
        total += n;
        if n < STEP {
            break;
        }
    }
    dst.sync_data()?;
    Ok(total)
}

/// Copies the `len` bytes of `src` from its offset to `dst` at its offset,
/// inside the kernel where it can (`copy_file_range`), without first
/// asking both files what they are as `io::copy` does (two `fstat`s, and a
/// last call to find the end): for many small files those calls cost as
/// much as the copy. Returns the bytes copied, fewer if `src` ends sooner.
pub fn copy_len(src: &std::fs::File, dst: &std::fs::File, len: u64) -> io::Result<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let mut copied = 0u64;
        while copied < len {
            let want = usize::try_from(len - copied)
                .unwrap_or(usize::MAX)
                .min(1 << 30);
            // SAFETY: both descriptors are open for the call; null offsets
            // mean each file's own offset, which the kernel advances.
            let n = unsafe {
                libc::copy_file_range(
                    src.as_raw_fd(),
                    std::ptr::null_mut(),
                    dst.as_raw_fd(),
                    std::ptr::null_mut(),
                    want,
                    0,
                )
            };
            if n > 0 {
                copied += n as u64;
                continue;
            }
            if n == 0 {
                return Ok(copied);
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => continue,
                // Not between these files (another filesystem, a kernel
                // without it): copied through user space instead.
                Some(libc::EXDEV | libc::ENOSYS | libc::EOPNOTSUPP | libc::EINVAL)
                    if copied == 0 =>
                {
                    break;
                }
                _ => return Err(e),
            }
        }
        if copied == len {
            return Ok(copied);
        }
    }
    use std::io::Read;
    io::copy(&mut Read::take(src, len), &mut &*dst)
}

/// Starts writing the dirty pages of `len` bytes of `f` from `offset` to
/// disk (`len` 0: to the end) without waiting for them: a later
/// `fdatasync` then finds them written or under way. May block while the
/// device queue is full; does nothing off Linux.
#[cfg(target_os = "linux")]
pub fn start_writeback(f: &std::fs::File, offset: u64, len: u64) {
    use std::os::fd::AsRawFd;
    // SAFETY: a valid fd; the call only schedules writeback.
    unsafe {
        libc::sync_file_range(
            f.as_raw_fd(),
            offset as libc::off64_t,
            len as libc::off64_t,
            libc::SYNC_FILE_RANGE_WRITE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
pub fn start_writeback(_f: &std::fs::File, _offset: u64, _len: u64) {}

/// Raises the soft limit on open files to the hard limit (at most 65,536),
/// as many tools do at startup: a local push keeps a batch of unnamed files
/// open until the batch is durable. Errors are ignored: the limit stays.
pub fn raise_open_files_limit() {
    if let Some(mut lim) = nofile() {
        let want = lim.rlim_max.min(65_536);
        if want > lim.rlim_cur {
            lim.rlim_cur = want;
            // SAFETY: `lim` is a valid rlimit for the call to read.
            unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) };
        }
    }
}

/// The soft limit on open files, if known.
pub fn open_files_limit() -> Option<u64> {
    nofile().map(|lim| lim.rlim_cur)
}

/// The process's `RLIMIT_NOFILE`.
fn nofile() -> Option<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid rlimit for the call to fill.
    let rc = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    (rc == 0).then_some(lim)
}

/// The process umask (read without changing it for longer than one call).
pub fn umask() -> u32 {
    static UMASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *UMASK.get_or_init(|| {
        // SAFETY: umask is always safe; we restore the value at once.
        unsafe {
            let m = libc::umask(0o022);
            libc::umask(m);
            m as u32
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, Write};

    #[test]
    fn entries_of_dead_runs_are_those_of_no_live_process() {
        let d = tempfile::tempdir().unwrap();
        // pid 1 always runs; a pid above the kernel's maximum never does.
        let live = d.path().join("1");
        let dead = d.path().join("999999999");
        let own = d.path().join(std::process::id().to_string());
        let junk = d.path().join("not-a-pid");
        for p in [&live, &dead, &own, &junk] {
            std::fs::write(p, b"").unwrap();
        }
        let mut found = entries_of_dead_runs(d.path());
        found.sort();
        let mut expected = vec![dead, junk];
        expected.sort();
        assert_eq!(found, expected);
        assert!(entries_of_dead_runs(&d.path().join("missing")).is_empty());
    }

    /// Exactly `len` bytes from each file's offset, fewer when the source
    /// ends first, none for zero.
    #[test]
    fn copy_len_copies_what_it_is_told() {
        let d = tempfile::tempdir().unwrap();
        let src_path = d.path().join("src");
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&src_path, &data).unwrap();
        let out = |name: &str| {
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(d.path().join(name))
                .unwrap()
        };
        let src = std::fs::File::open(&src_path).unwrap();
        let all = out("all");
        assert_eq!(copy_len(&src, &all, data.len() as u64).unwrap(), 300_000);
        assert_eq!(std::fs::read(d.path().join("all")).unwrap(), data);

        let mut src = std::fs::File::open(&src_path).unwrap();
        src.seek(io::SeekFrom::Start(299_990)).unwrap();
        let mut tail = out("tail");
        tail.write_all(b"head").unwrap();
        assert_eq!(copy_len(&src, &tail, 50).unwrap(), 10);
        let mut want = b"head".to_vec();
        want.extend_from_slice(&data[299_990..]);
        assert_eq!(std::fs::read(d.path().join("tail")).unwrap(), want);

        let none = out("none");
        assert_eq!(copy_len(&src, &none, 0).unwrap(), 0);
        assert_eq!(std::fs::metadata(d.path().join("none")).unwrap().len(), 0);
    }
}
