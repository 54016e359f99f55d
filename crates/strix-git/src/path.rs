//! Conversion of caller paths into git's repo-relative, `/`-separated form.

use std::path::{Component, Path, PathBuf};

/// Why a path cannot name an entry of the git work tree.
#[derive(Debug, thiserror::Error)]
pub enum PathError {
    /// An absolute path that does not lie below the work tree.
    #[error("path '{path}' is outside the git work tree '{workdir}'")]
    OutsideWorkTree {
        /// The offending path.
        path: PathBuf,
        /// The work tree root.
        workdir: PathBuf,
    },
    /// A relative path that climbs out with `..`.
    #[error("path '{0}' contains a '..' component; paths must be relative to the git work tree")]
    ParentComponent(PathBuf),
    /// A component that is not valid UTF-8 (git paths are handled as UTF-8 here).
    #[error("path '{0}' is not valid UTF-8")]
    NotUtf8(PathBuf),
}

/// Turns `path` (relative to `workdir`, or absolute below it) into git's
/// repo-relative form: components joined by `/`, `.` components dropped.
/// The work tree root itself becomes the empty string.
pub(crate) fn repo_relative(workdir: &Path, path: &Path) -> Result<String, PathError> {
    let rel = if path.is_absolute() {
        path.strip_prefix(workdir)
            .map_err(|_| PathError::OutsideWorkTree {
                path: path.to_path_buf(),
                workdir: workdir.to_path_buf(),
            })?
    } else {
        path
    };
    let mut out = String::with_capacity(rel.as_os_str().len());
    for component in rel.components() {
        match component {
            Component::CurDir => {}
            Component::Normal(name) => {
                let name = name
                    .to_str()
                    .ok_or_else(|| PathError::NotUtf8(path.to_path_buf()))?;
                if !out.is_empty() {
                    out.push('/');
                }
                out.push_str(name);
            }
            Component::ParentDir => return Err(PathError::ParentComponent(path.to_path_buf())),
            // Only reachable for absolute paths, which were stripped above.
            Component::RootDir | Component::Prefix(_) => {
                return Err(PathError::OutsideWorkTree {
                    path: path.to_path_buf(),
                    workdir: workdir.to_path_buf(),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_normalised() {
        let wd = Path::new("/w");
        assert_eq!(repo_relative(wd, Path::new("a/./b")).unwrap(), "a/b");
        assert_eq!(repo_relative(wd, Path::new(".")).unwrap(), "");
        assert_eq!(repo_relative(wd, Path::new("/w/x/y")).unwrap(), "x/y");
        assert!(matches!(
            repo_relative(wd, Path::new("/elsewhere/x")),
            Err(PathError::OutsideWorkTree { .. })
        ));
        assert!(matches!(
            repo_relative(wd, Path::new("a/../b")),
            Err(PathError::ParentComponent(_))
        ));
    }
}
