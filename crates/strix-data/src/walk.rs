//! Listing the files of a directory output, in parallel, with `.dvcignore`
//! rules applied the way DVC applies them: gitignore syntax, patterns relative
//! to the `.dvcignore` holding them, and `.git`, `.hg`, `.dvc` always ignored.
//! Git's own ignore files play no part.

use crate::state::FileStat;
use ignore::{WalkBuilder, WalkState};
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A regular file found in a directory.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// POSIX path relative to the walked directory.
    pub relpath: String,
    /// Full path.
    pub path: PathBuf,
    /// Stat of the file (of its target, for a symlink).
    pub stat: FileStat,
    /// Whether the entry itself is a symlink (DVC replaces these by copies).
    pub is_symlink: bool,
    pub is_exec: bool,
}

/// Why a directory could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("failed to read '{path}'")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("file name is not valid UTF-8: '{}'", .0.display())]
    NonUtf8(PathBuf),
    #[error(".dvcignore file should not be in collected dir path: '{}'", .0.display())]
    DvcignoreInside(PathBuf),
    #[error("broken symlink '{}'", .0.display())]
    BrokenSymlink(PathBuf),
    #[error("failed to apply ignore rules under '{path}': {message}")]
    Ignore { path: PathBuf, message: String },
}

const ALWAYS_IGNORED: [&str; 3] = [".git", ".hg", ".dvc"];

/// Lists every file under `dir` (recursively), skipping ignored ones.
/// The result is in no particular order.
pub fn walk_dir(dir: &Path, threads: usize) -> Result<Vec<WalkedFile>, WalkError> {
    let results: Mutex<Vec<WalkedFile>> = Mutex::new(Vec::new());
    let first_error: Mutex<Option<WalkError>> = Mutex::new(None);
    let walker = WalkBuilder::new(dir)
        .standard_filters(false)
        .hidden(false)
        .parents(true)
        .follow_links(false)
        .add_custom_ignore_filename(".dvcignore")
        .filter_entry(|e| {
            !e.file_name()
                .to_str()
                .is_some_and(|n| ALWAYS_IGNORED.contains(&n))
        })
        .threads(threads.max(1))
        .build_parallel();
    walker.run(|| {
        let results = &results;
        let first_error = &first_error;
        let mut flush = Flush {
            local: Vec::new(),
            sink: results,
        };
        Box::new(move |entry| {
            let fail = |e: WalkError| {
                let mut slot = first_error.lock().expect("walk error lock");
                if slot.is_none() {
                    *slot = Some(e);
                }
                WalkState::Quit
            };
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    if let Some(ioe) = e.io_error() {
                        let kind = ioe.kind();
                        return fail(WalkError::Io {
                            path: dir.to_path_buf(),
                            source: io::Error::new(kind, e.to_string()),
                        });
                    }
                    return fail(WalkError::Ignore {
                        path: dir.to_path_buf(),
                        message: e.to_string(),
                    });
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if ft.is_dir() {
                return WalkState::Continue;
            }
            let path = entry.path();
            if entry.file_name().to_str().is_some_and(|n| {
                n.starts_with(strix_fs::TEMP_PREFIX) && n.ends_with(strix_fs::TEMP_SUFFIX)
            }) {
                // strix's own temporaries are never data.
                return WalkState::Continue;
            }
            if entry.depth() > 0 && entry.file_name() == ".dvcignore" {
                return fail(WalkError::DvcignoreInside(dir.to_path_buf()));
            }
            let rel = match path.strip_prefix(dir) {
                Ok(r) => r,
                Err(_) => return WalkState::Continue,
            };
            let Some(relpath) = rel.to_str() else {
                return fail(WalkError::NonUtf8(path.to_path_buf()));
            };
            let is_symlink = ft.is_symlink();
            let meta = if is_symlink {
                match fs::metadata(path) {
                    Ok(m) => m,
                    Err(_) => return fail(WalkError::BrokenSymlink(path.to_path_buf())),
                }
            } else {
                match entry.metadata() {
                    Ok(m) => m,
                    Err(e) => {
                        return fail(WalkError::Io {
                            path: path.to_path_buf(),
                            source: io::Error::other(e.to_string()),
                        });
                    }
                }
            };
            if meta.is_dir() {
                // A symlink to a directory: DVC does not descend into it.
                return WalkState::Continue;
            }
            if !meta.is_file() {
                return WalkState::Continue;
            }
            flush.local.push(WalkedFile {
                relpath: relpath.to_string(),
                path: path.to_path_buf(),
                stat: FileStat::from_metadata(&meta),
                is_symlink,
                is_exec: meta.permissions().mode() & 0o111 != 0,
            });
            if flush.local.len() >= 4096 {
                flush.flush();
            }
            WalkState::Continue
        })
    });
    if let Some(e) = first_error.into_inner().expect("walk error lock") {
        return Err(e);
    }
    Ok(results.into_inner().expect("walk results lock"))
}

/// Moves a worker's batch into the shared list, also when the worker ends.
struct Flush<'a> {
    local: Vec<WalkedFile>,
    sink: &'a Mutex<Vec<WalkedFile>>,
}

impl Flush<'_> {
    fn flush(&mut self) {
        let mut sink = self.sink.lock().expect("walk results lock");
        sink.append(&mut self.local);
    }
}

impl Drop for Flush<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_files_and_applies_dvcignore() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        fs::write(root.join(".dvcignore"), "*.tmp\ndata/sub/skip/\n").unwrap();
        let data = root.join("data");
        fs::create_dir_all(data.join("sub/skip")).unwrap();
        fs::create_dir_all(data.join("sub/keep")).unwrap();
        fs::create_dir_all(data.join(".git")).unwrap();
        fs::write(data.join("a.txt"), b"a").unwrap();
        fs::write(data.join("x.tmp"), b"x").unwrap();
        fs::write(data.join(".gitignore"), b"a.txt\n").unwrap();
        fs::write(data.join(".git/HEAD"), b"x").unwrap();
        fs::write(data.join("sub/skip/s"), b"s").unwrap();
        fs::write(data.join("sub/keep/k"), b"k").unwrap();
        std::os::unix::fs::symlink(data.join("a.txt"), data.join("link")).unwrap();
        let mut got: Vec<_> = walk_dir(&data, 2)
            .unwrap()
            .into_iter()
            .map(|f| (f.relpath, f.is_symlink))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (".gitignore".into(), false),
                ("a.txt".into(), false),
                ("link".into(), true),
                ("sub/keep/k".into(), false),
            ]
        );
    }

    #[test]
    fn non_utf8_names_are_refused() {
        use std::os::unix::ffi::OsStrExt;
        let d = tempfile::tempdir().unwrap();
        let name = std::ffi::OsStr::from_bytes(b"bad\xffname");
        fs::write(d.path().join(name), b"x").unwrap();
        assert!(matches!(walk_dir(d.path(), 1), Err(WalkError::NonUtf8(_))));
    }

    #[test]
    fn dvcignore_inside_is_refused() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir(d.path().join("data")).unwrap();
        fs::write(d.path().join("data/.dvcignore"), b"").unwrap();
        assert!(matches!(
            walk_dir(&d.path().join("data"), 1),
            Err(WalkError::DvcignoreInside(_))
        ));
    }
}
