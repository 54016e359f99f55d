//! Read leases (Linux `F_SETLEASE`): proof that nobody has a file open for
//! writing, and notice when somebody tries to open it for writing (or
//! truncate it) while the lease is held.
//!
//! strix uses one to adopt a large workspace file's inode as a cache object
//! (see `strix_data::odb`): the lease shows that no process holds a writable
//! descriptor that could later change the object behind the cache's back.

use std::fs::File;
use std::os::fd::AsRawFd;

/// `F_SETSIG` (fcntl.h; not exported by the libc crate).
#[cfg(target_os = "linux")]
const F_SETSIG: libc::c_int = 10;

/// A read lease on an open (read-only) file; released on drop.
#[derive(Debug)]
pub struct ReadLease<'a> {
    file: &'a File,
}

impl<'a> ReadLease<'a> {
    /// Takes a read lease on `file`, which must be open read-only. `None`
    /// when the file is open for writing somewhere, or leases are not
    /// available (another owner without `CAP_LEASE`, a filesystem without
    /// leases, not Linux).
    pub fn take(file: &'a File) -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            let fd = file.as_raw_fd();
            // A lease break is announced by a signal, SIGIO by default,
            // which would kill the process. SIGURG is ignored by default:
            // breaks are detected by polling `intact` instead.
            // SAFETY: fcntl on a valid descriptor with integer arguments.
            unsafe {
                if libc::fcntl(fd, F_SETSIG, libc::SIGURG) != 0 {
                    return None;
                }
                if libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) != 0 {
                    return None;
                }
            }
            Some(Self { file })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = file;
            None
        }
    }

    /// Whether nobody has tried to open the file for writing or truncate it
    /// since the lease was taken (such an opener is blocked until the lease
    /// is released, so it cannot have written yet).
    pub fn intact(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: fcntl on a valid descriptor.
            let t = unsafe { libc::fcntl(self.file.as_raw_fd(), libc::F_GETLEASE) };
            t == libc::F_RDLCK
        }
        #[cfg(not(target_os = "linux"))]
        false
    }
}

impl Drop for ReadLease<'_> {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        // SAFETY: fcntl on a valid descriptor.
        unsafe {
            libc::fcntl(self.file.as_raw_fd(), libc::F_SETLEASE, libc::F_UNLCK);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::OpenOptions;

    #[test]
    fn lease_refused_while_open_for_writing_and_broken_by_a_writer() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        std::fs::write(&p, b"x").unwrap();
        {
            let _w = OpenOptions::new().append(true).open(&p).unwrap();
            let r = File::open(&p).unwrap();
            assert!(ReadLease::take(&r).is_none(), "a writer is open");
        }
        let r = File::open(&p).unwrap();
        let Some(lease) = ReadLease::take(&r) else {
            // Leases can be unavailable (e.g. some container filesystems);
            // callers then never adopt, which the odb tests cover.
            return;
        };
        assert!(lease.intact());
        // A reader does not break it.
        let _r2 = File::open(&p).unwrap();
        assert!(lease.intact());
        // A writer does: its open blocks until the lease is released, so
        // open it on another thread and watch the lease break.
        let p2 = p.clone();
        let t = std::thread::spawn(move || OpenOptions::new().append(true).open(p2).is_ok());
        let mut broken = false;
        for _ in 0..200 {
            if !lease.intact() {
                broken = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        drop(lease);
        assert!(t.join().unwrap());
        assert!(broken, "opening for writing breaks the lease");
    }
}
