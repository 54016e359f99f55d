//! Placing cache objects into the workspace: reflink, hardlink, symlink or
//! copy, tried in the configured order with DVC's fallback rules.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// One way to make a workspace file from a cache object (`cache.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    Reflink,
    Hardlink,
    Symlink,
    Copy,
}

impl LinkType {
    /// Parses one `cache.type` item.
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "reflink" => Some(Self::Reflink),
            "hardlink" => Some(Self::Hardlink),
            "symlink" => Some(Self::Symlink),
            "copy" => Some(Self::Copy),
            _ => None,
        }
    }

    /// The `cache.type` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reflink => "reflink",
            Self::Hardlink => "hardlink",
            Self::Symlink => "symlink",
            Self::Copy => "copy",
        }
    }

    /// Whether the workspace file shares its bytes with the cache object, so
    /// it must stay read-only (DVC's "protected" outputs).
    pub fn is_protected(self) -> bool {
        matches!(self, Self::Hardlink | Self::Symlink)
    }
}

/// DVC's default `cache.type`.
pub const DEFAULT_LINK_TYPES: [LinkType; 2] = [LinkType::Reflink, LinkType::Copy];

/// Errors after which DVC moves on to the next link type.
pub fn is_fallback_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::EPERM)
            | Some(libc::ENOTSUP)
            | Some(libc::EXDEV)
            | Some(libc::ENOTTY)
            | Some(libc::ENOSYS)
            | Some(libc::EINVAL)
            | Some(libc::EAGAIN)
    ) || e.kind() == io::ErrorKind::Unsupported
}

/// Creates `dst` (which must not exist) from `src` with one link type.
/// Copies and reflinks get mode `0666 & ~umask` (plus u+x when `exec`).
pub fn link_once(src: &Path, dst: &Path, kind: LinkType, exec: bool) -> io::Result<()> {
    match kind {
        LinkType::Reflink => {
            reflink_copy::reflink(src, dst)?;
            set_workspace_mode(dst, exec)
        }
        LinkType::Copy => {
            copy_file(src, dst)?;
            set_workspace_mode(dst, exec)
        }
        LinkType::Hardlink => fs::hard_link(src, dst),
        LinkType::Symlink => {
            let abs = if src.is_absolute() {
                src.to_path_buf()
            } else {
                std::env::current_dir()?.join(src)
            };
            std::os::unix::fs::symlink(abs, dst)
        }
    }
}

/// Tries each link type in order, falling back as DVC does. Returns the
/// type that worked.
pub fn link_with_fallback(
    src: &Path,
    dst: &Path,
    kinds: &[LinkType],
    exec: bool,
) -> io::Result<LinkType> {
    let mut last = None;
    for &kind in kinds {
        match link_once(src, dst, kind, exec) {
            Ok(()) => return Ok(kind),
            Err(e) if is_fallback_error(&e) => {
                let _ = fs::remove_file(dst);
                last = Some(e);
            }
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::Unsupported, "no link type")))
}

/// Copies bytes with the kernel's copy_file_range where possible.
pub fn copy_file(src: &Path, dst: &Path) -> io::Result<u64> {
    let mut from = fs::File::open(src)?;
    let mut to = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(dst)?;
    io::copy(&mut from, &mut to)
}

/// `0666 & ~umask`, plus u+x for executables (DVC sets only u+x).
pub fn workspace_mode(exec: bool) -> u32 {
    let mut mode = 0o666 & !crate::umask();
    if exec {
        mode |= 0o100;
    }
    mode
}

fn set_workspace_mode(path: &Path, exec: bool) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(workspace_mode(exec)))
}

/// Makes a file read-only (0444), as cache objects and protected links are.
pub fn protect(path: &Path) -> io::Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o444))
}

/// Replaces a hardlink or symlink with a private writable copy; for a plain
/// copy only restores the writable mode. Mirrors `dvc unprotect`.
pub fn unprotect(path: &Path) -> io::Result<()> {
    let meta = fs::symlink_metadata(path)?;
    let shared = meta.file_type().is_symlink() || {
        use std::os::unix::fs::MetadataExt;
        meta.nlink() > 1
    };
    let exec = {
        let m = fs::metadata(path)?;
        m.permissions().mode() & 0o100 != 0 && !shared
    };
    if shared {
        let dir = path.parent().unwrap_or(Path::new("."));
        let tmp = crate::temp_path_in(dir);
        copy_file(path, &tmp)?;
        set_workspace_mode(&tmp, exec)?;
        fs::rename(&tmp, path)?;
        Ok(())
    } else {
        set_workspace_mode(path, exec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_reaches_copy_and_modes_are_right() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"abc").unwrap();
        protect(&src).unwrap();
        let dst = dir.path().join("dst");
        let kind = link_with_fallback(&src, &dst, &DEFAULT_LINK_TYPES, false).unwrap();
        assert!(matches!(kind, LinkType::Reflink | LinkType::Copy));
        assert_eq!(fs::read(&dst).unwrap(), b"abc");
        let mode = fs::metadata(&dst).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, workspace_mode(false));
    }

    #[test]
    fn unprotect_breaks_hardlink() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        fs::write(&src, b"abc").unwrap();
        protect(&src).unwrap();
        let dst = dir.path().join("dst");
        link_once(&src, &dst, LinkType::Hardlink, false).unwrap();
        assert_eq!(fs::metadata(&dst).unwrap().nlink(), 2);
        unprotect(&dst).unwrap();
        assert_eq!(fs::metadata(&dst).unwrap().nlink(), 1);
        assert_eq!(fs::metadata(&src).unwrap().nlink(), 1);
        assert_eq!(fs::read(&dst).unwrap(), b"abc");
        assert_eq!(
            fs::metadata(&src).unwrap().permissions().mode() & 0o777,
            0o444
        );
    }
}
