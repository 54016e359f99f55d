//! A directory held open for lookups relative to it.

use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// An open directory (`O_PATH`): names below it are looked up from it, not
/// from `/`, so a path deep in a tree costs a lookup of its last components
/// only. A million lookups in a cache at `/a/b/repo/.dvc/cache/files/md5`
/// spend most of their time walking those leading components otherwise.
#[derive(Debug)]
pub struct Dir(File);

impl Dir {
    /// Opens `path`, which must be a directory.
    pub fn open(path: &Path) -> io::Result<Self> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(path)
            .map(Self)
    }

    /// Whether `rel` (relative to this directory) names something, without
    /// following a final symlink, like [`std::fs::symlink_metadata`].
    pub fn exists(&self, rel: &CStr) -> io::Result<bool> {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: a valid fd for the lifetime of `self`, a NUL-terminated
        // path, and a buffer of the right type that is only written.
        let rc = unsafe {
            libc::fstatat(
                self.0.as_raw_fd(),
                rel.as_ptr(),
                st.as_mut_ptr(),
                libc::AT_SYMLINK_NOFOLLOW,
            )
        };
        if rc == 0 {
            return Ok(true);
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            Some(libc::ENOENT | libc::ENOTDIR) => Ok(false),
            _ => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_up_relative_names_without_following_symlinks() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("ab")).unwrap();
        std::fs::write(d.path().join("ab/cd"), b"x").unwrap();
        std::os::unix::fs::symlink("nowhere", d.path().join("ab/link")).unwrap();
        std::fs::write(d.path().join("file"), b"x").unwrap();
        let dir = Dir::open(d.path()).unwrap();
        assert!(dir.exists(c"ab/cd").unwrap());
        assert!(
            dir.exists(c"ab/link").unwrap(),
            "a dangling symlink is a name"
        );
        assert!(!dir.exists(c"ab/ef").unwrap());
        assert!(!dir.exists(c"zz/cd").unwrap());
        assert!(!dir.exists(c"file/cd").unwrap(), "ENOTDIR is absence");
        assert!(Dir::open(&d.path().join("file")).is_err());
    }
}
