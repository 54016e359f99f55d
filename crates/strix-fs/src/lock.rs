//! The repository lock, `.dvc/tmp/lock`, shared with DVC.
//!
//! DVC (zc.lockfile) takes `flock(LOCK_EX|LOCK_NB)` on the file and writes
//! `" <pid>\n"` into it. A kernel flock dies with its process, so a lock
//! left by a killed process never blocks anyone: the file may remain, but
//! the lock on it does not.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("unable to acquire lock '{path}': another process holds it{}", holder_note(.holder))]
    Busy { path: PathBuf, holder: Option<u32> },
    #[error("unable to open lock file '{path}'")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn holder_note(pid: &Option<u32>) -> String {
    match pid {
        Some(pid) => format!(" (pid {pid})"),
        None => String::new(),
    }
}

/// A held repository lock. Released on drop (and by the kernel if the
/// process dies).
#[derive(Debug)]
pub struct RepoLock {
    file: File,
    path: PathBuf,
}

impl RepoLock {
    /// Takes the lock, retrying `retries` times `delay` apart like DVC
    /// (6 × 0.5 s).
    pub fn acquire(path: &Path, retries: u32, delay: Duration) -> Result<Self, LockError> {
        let io_err = |source| LockError::Io {
            path: path.to_path_buf(),
            source,
        };
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_err)?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(io_err)?;
        let mut attempt = 0;
        loop {
            // SAFETY: valid fd owned by `file`.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                break;
            }
            let err = io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io_err(err));
            }
            if attempt >= retries {
                let holder = std::fs::read_to_string(path)
                    .ok()
                    .and_then(|s| s.trim().parse().ok());
                return Err(LockError::Busy {
                    path: path.to_path_buf(),
                    holder,
                });
            }
            attempt += 1;
            std::thread::sleep(delay);
        }
        file.set_len(0).map_err(io_err)?;
        writeln!(file, " {}", std::process::id()).map_err(io_err)?;
        Ok(Self {
            file,
            path: path.to_path_buf(),
        })
    }

    /// The lock file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        // SAFETY: valid fd owned by `self.file`.
        unsafe {
            libc::flock(self.file.as_raw_fd(), libc::LOCK_UN);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_and_released_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("tmp/lock");
        let a = RepoLock::acquire(&p, 0, Duration::ZERO).unwrap();
        let b = RepoLock::acquire(&p, 1, Duration::from_millis(10));
        assert!(
            matches!(b, Err(LockError::Busy { holder: Some(pid), .. }) if pid == std::process::id())
        );
        drop(a);
        RepoLock::acquire(&p, 0, Duration::ZERO).unwrap();
    }
}
