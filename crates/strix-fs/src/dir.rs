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

impl Dir {
    /// Creates `name` (relative to this directory; its parent is `parent`,
    /// also relative) holding exactly `data` with `mode`, or leaves an
    /// existing `name` alone, as [`crate::write_new`] does: the bytes go
    /// into an anonymous `O_TMPFILE` inode in `parent`, which is then
    /// linked under `name`. Errors as the system calls give them (`NotFound`
    /// when `parent` is missing); the caller may fall back to
    /// [`crate::write_new`] on others, e.g. where `O_TMPFILE` or `/proc` is
    /// not available.
    #[cfg(target_os = "linux")]
    pub fn write_new(
        &self,
        parent: &CStr,
        name: &CStr,
        data: &[u8],
        mode: u32,
    ) -> io::Result<crate::WriteNew> {
        use std::os::fd::FromRawFd;
        // SAFETY: a valid directory fd and a NUL-terminated path.
        let fd = unsafe {
            libc::openat(
                self.0.as_raw_fd(),
                parent.as_ptr(),
                libc::O_TMPFILE | libc::O_WRONLY | libc::O_CLOEXEC,
                mode as libc::c_uint,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened and is owned by nobody else.
        let f = unsafe { File::from_raw_fd(fd) };
        crate::atomic::fill_and_link(f, data, mode, |f| {
            crate::atomic::link_fd_at(f, self.0.as_raw_fd(), name)
        })
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

    #[cfg(target_os = "linux")]
    #[test]
    fn write_new_creates_once_with_exact_mode_and_leaves_nothing_else() {
        use std::os::unix::fs::PermissionsExt;
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir(d.path().join("ab")).unwrap();
        let dir = Dir::open(d.path()).unwrap();
        let created = dir.write_new(c"ab", c"ab/cd", b"abc", 0o444).unwrap();
        assert!(matches!(created, crate::WriteNew::Created));
        let p = d.path().join("ab/cd");
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o444);
        let again = dir.write_new(c"ab", c"ab/cd", b"xyz", 0o444).unwrap();
        assert!(matches!(again, crate::WriteNew::Existed));
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        assert_eq!(std::fs::read_dir(d.path().join("ab")).unwrap().count(), 1);
        // A missing parent is NotFound, and creates nothing.
        let err = dir.write_new(c"zz", c"zz/cd", b"abc", 0o444).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!d.path().join("zz").exists());
    }
}
