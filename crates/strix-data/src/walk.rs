//! Listing the files of a directory output, in parallel, with `.dvcignore`
//! rules applied the way DVC applies them: gitignore syntax, patterns relative
//! to the `.dvcignore` holding them, and `.git`, `.hg`, `.dvc` always ignored.
//! Git's own ignore files play no part.

use crate::state::FileStat;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A regular file found in a directory.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// POSIX path relative to the walked directory.
    pub relpath: String,
    /// Stat of the file (of its target, for a symlink).
    pub stat: FileStat,
    /// Whether the entry itself is a symlink (DVC replaces these by copies).
    pub is_symlink: bool,
    pub is_exec: bool,
}

impl WalkedFile {
    /// Full path of the file, given the walked directory.
    pub fn path(&self, dir: &Path) -> PathBuf {
        dir.join(&self.relpath)
    }
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

/// The `.dvcignore` files of the walked directory's ancestors, up to the
/// repository root (the nearest ancestor holding `.dvc/`). A `.dvcignore`
/// inside the walked tree is an error, as in DVC, so these are all the
/// rules that can apply.
struct Rules {
    matchers: Vec<Gitignore>,
}

impl Rules {
    fn for_dir(dir: &Path) -> Result<Self, WalkError> {
        let mut chain = Vec::new();
        let mut cur = dir.parent();
        while let Some(d) = cur {
            chain.push(d.to_path_buf());
            if d.join(".dvc").is_dir() {
                break;
            }
            cur = d.parent();
        }
        if !chain.last().is_some_and(|d| d.join(".dvc").is_dir()) {
            // Not inside a repository: only the directory's own parent.
            chain.truncate(1);
        }
        let mut matchers = Vec::new();
        for d in chain.iter().rev() {
            let file = d.join(".dvcignore");
            if !file.is_file() {
                continue;
            }
            let mut b = GitignoreBuilder::new(d);
            if let Some(e) = b.add(&file) {
                return Err(WalkError::Ignore {
                    path: file,
                    message: e.to_string(),
                });
            }
            let g = b.build().map_err(|e| WalkError::Ignore {
                path: file.clone(),
                message: e.to_string(),
            })?;
            if g.num_ignores() + g.num_whitelists() > 0 {
                matchers.push(g);
            }
        }
        Ok(Self { matchers })
    }

    fn ignored(&self, path: &Path, is_dir: bool) -> bool {
        ignored_by(self.matchers.iter(), path, is_dir)
    }
}

/// Whether the `.dvcignore` matchers `chain` (the shallowest first) ignore
/// `path`: deeper files override shallower ones, and within a file the last
/// matching pattern decides (a `!pattern` takes a path back).
pub fn ignored_by<'a>(
    chain: impl DoubleEndedIterator<Item = &'a Gitignore>,
    path: &Path,
    is_dir: bool,
) -> bool {
    for m in chain.rev() {
        match m.matched(path, is_dir) {
            ignore::Match::Ignore(_) => return true,
            ignore::Match::Whitelist(_) => return false,
            ignore::Match::None => {}
        }
    }
    false
}

fn is_temp(name: &str) -> bool {
    name.starts_with(strix_fs::TEMP_PREFIX) && name.ends_with(strix_fs::TEMP_SUFFIX)
}

/// What a walk does with each file it finds. A walk runs one visitor per
/// directory (in parallel) and merges them, so a visitor must not depend on
/// the order files arrive in.
pub trait Visit: Send + Sync + Sized {
    /// An empty visitor of the same kind, for another directory.
    fn fork(&self) -> Self;
    /// Called on a fresh fork before the files of the directory whose
    /// relative paths start with `prefix` ("" for the top, else ending in
    /// "/"). Files of subdirectories go to other forks.
    fn enter(&mut self, _prefix: &str) {}
    /// One regular file: its path relative to the walked directory, its stat
    /// (of the target, for a symlink), whether the entry is a symlink, and
    /// whether an exec bit is set.
    fn file(&mut self, relpath: &str, stat: FileStat, is_symlink: bool, is_exec: bool);
    /// Takes in what another visitor saw.
    fn merge(&mut self, other: Self);
}

impl Visit for Vec<WalkedFile> {
    fn fork(&self) -> Self {
        Vec::new()
    }

    fn file(&mut self, relpath: &str, stat: FileStat, is_symlink: bool, is_exec: bool) {
        self.push(WalkedFile {
            relpath: relpath.to_owned(),
            stat,
            is_symlink,
            is_exec,
        });
    }

    fn merge(&mut self, mut other: Self) {
        if self.len() < other.len() {
            std::mem::swap(self, &mut other);
        }
        self.append(&mut other);
    }
}

/// Lists every file under `dir` (recursively), skipping ignored ones. The
/// result is in no particular order. Directories are read in parallel and
/// each entry is stat'ed relative to its directory (no full path lookups).
pub fn walk_dir(dir: &Path, _threads: usize) -> Result<Vec<WalkedFile>, WalkError> {
    walk_with(dir, &Vec::new())
}

/// Walks `dir` as [`walk_dir`] does, handing each file to a visitor (forked
/// from `proto` for each directory) instead of collecting them.
pub fn walk_with<V: Visit>(dir: &Path, proto: &V) -> Result<V, WalkError> {
    let rules = Rules::for_dir(dir)?;
    walk_rec(dir, dir, "", &rules, proto)
}

fn walk_rec<V: Visit>(
    top: &Path,
    abs: &Path,
    prefix: &str,
    rules: &Rules,
    proto: &V,
) -> Result<V, WalkError> {
    let io_err = |source| WalkError::Io {
        path: abs.to_path_buf(),
        source,
    };
    let mut seen = proto.fork();
    seen.enter(prefix);
    let mut subdirs: Vec<(PathBuf, String)> = Vec::new();
    // The relative path of the current entry, reusing one buffer.
    let mut rel = String::with_capacity(prefix.len() + 64);
    for entry in fs::read_dir(abs).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let os_name = entry.file_name();
        let Some(name) = os_name.to_str() else {
            return Err(WalkError::NonUtf8(entry.path()));
        };
        if ALWAYS_IGNORED.contains(&name) || is_temp(name) {
            continue;
        }
        if name == ".dvcignore" {
            return Err(WalkError::DvcignoreInside(top.to_path_buf()));
        }
        let ft = entry.file_type().map_err(io_err)?;
        let is_symlink = ft.is_symlink();
        let meta = if is_symlink {
            match fs::metadata(entry.path()) {
                Ok(m) => m,
                Err(_) => return Err(WalkError::BrokenSymlink(entry.path())),
            }
        } else if ft.is_dir() {
            if !rules.matchers.is_empty() && rules.ignored(&entry.path(), true) {
                continue;
            }
            subdirs.push((entry.path(), format!("{prefix}{name}/")));
            continue;
        } else {
            entry.metadata().map_err(|source| WalkError::Io {
                path: entry.path(),
                source,
            })?
        };
        if meta.is_dir() {
            // A symlink to a directory: DVC does not descend into it.
            continue;
        }
        if !meta.is_file() {
            continue;
        }
        if !rules.matchers.is_empty() && rules.ignored(&entry.path(), false) {
            continue;
        }
        rel.clear();
        rel.push_str(prefix);
        rel.push_str(name);
        seen.file(
            &rel,
            FileStat::from_metadata(&meta),
            is_symlink,
            meta.permissions().mode() & 0o111 != 0,
        );
    }
    if subdirs.is_empty() {
        return Ok(seen);
    }
    let nested = subdirs
        .par_iter()
        .map(|(p, pre)| walk_rec(top, p, pre, rules, proto))
        .try_reduce(
            || proto.fork(),
            |mut a, b| {
                a.merge(b);
                Ok(a)
            },
        )?;
    seen.merge(nested);
    Ok(seen)
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
