//! Data at a URL that is not an object store: the URL targets of
//! `add -o` and `add --to-remote` (`s3://bucket/raw/images`,
//! `https://host/data.csv`).
//!
//! A URL names one key of the storage under it (the URL's last path
//! component under its parent): a file if that key exists, else, where the
//! storage can list, a folder of every key below `<key>/`. [`download`]
//! copies it to a local path with the same shape, so that the local add
//! code takes it from there.
//!
//! A listing is untrusted: a key whose path below the folder would escape
//! it (`..`, an empty or `.` component) is refused before anything is
//! written.

use crate::backend::{Backend, BackendError};
use rayon::prelude::*;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use strix_data::Progress;

/// Why a URL target could not be downloaded.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// Neither a file nor a non-empty folder at the URL.
    #[error("'{url}' does not exist")]
    NotFound {
        /// The URL, password masked.
        url: String,
    },
    /// A listed key that would land outside the download.
    #[error("'{url}' lists the unsafe path '{key}', which would escape the target")]
    UnsafeKey {
        /// The URL, password masked.
        url: String,
        /// The key as listed.
        key: String,
    },
    /// The storage failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// Writing the local copy failed.
    #[error("failed to write '{path}'")]
    Write {
        /// The local file.
        path: PathBuf,
        /// The error.
        #[source]
        source: io::Error,
    },
}

/// What [`download`] fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Downloaded {
    /// Files written (1 for a file).
    pub files: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Whether the URL named a folder.
    pub is_dir: bool,
}

/// The path of `key` below the folder `name` (`name/a/b` → `a/b`), if it
/// is a safe relative path.
fn below<'k>(name: &str, key: &'k str) -> Option<&'k str> {
    let rel = key.strip_prefix(name)?.strip_prefix('/')?;
    let safe = !rel.is_empty()
        && rel
            .split('/')
            .all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\0'));
    safe.then_some(rel)
}

/// Downloads the key `name` of `backend` (a file, or a folder of keys
/// below `name/`) to `dest`, which must not exist yet, with up to `jobs`
/// transfers at once.
pub fn download(
    backend: &dyn Backend,
    name: &str,
    dest: &Path,
    jobs: usize,
    progress: &dyn Progress,
) -> Result<Downloaded, SourceError> {
    let url = crate::opendal_backend::mask_url(backend.url());
    let name = name.trim_matches('/');
    if name.is_empty() {
        return Err(SourceError::NotFound { url });
    }
    // A folder lists its keys; a file, or a storage that cannot list
    // (HTTP), lists nothing and is asked about as one key.
    let listed = backend.list_all(name).unwrap_or_default();
    if listed.is_empty() {
        if backend.stat(name)?.is_none() {
            return Err(SourceError::NotFound {
                url: format!("{url}/{name}"),
            });
        }
        progress.start("Downloading", Some(1));
        let bytes = fetch_one(backend, name, dest)?;
        progress.inc(1);
        progress.finish();
        return Ok(Downloaded {
            files: 1,
            bytes,
            is_dir: false,
        });
    }
    let mut files = Vec::with_capacity(listed.len());
    for (key, _) in &listed {
        let rel = below(name, key).ok_or_else(|| SourceError::UnsafeKey {
            url: url.clone(),
            key: key.clone(),
        })?;
        files.push((key.as_str(), dest.join(rel)));
    }
    fs::create_dir_all(dest).map_err(|source| SourceError::Write {
        path: dest.to_path_buf(),
        source,
    })?;
    progress.start("Downloading", Some(files.len() as u64));
    let failed = AtomicBool::new(false);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.max(1))
        .thread_name(|i| format!("strix-download-{i}"))
        .build()
        .map_err(|e| SourceError::Write {
            path: dest.to_path_buf(),
            source: io::Error::other(e),
        })?;
    let results: Vec<Result<u64, SourceError>> = pool.install(|| {
        files
            .par_iter()
            .map(|(key, path)| {
                if failed.load(Ordering::Relaxed) {
                    return Ok(0);
                }
                let r = fetch_one(backend, key, path);
                if r.is_err() {
                    failed.store(true, Ordering::Relaxed);
                }
                progress.inc(1);
                r
            })
            .collect()
    });
    progress.finish();
    let mut bytes = 0;
    for r in results {
        bytes += r?;
    }
    Ok(Downloaded {
        files: files.len() as u64,
        bytes,
        is_dir: true,
    })
}

/// Streams one key into the new file `path` (its folders created).
fn fetch_one(backend: &dyn Backend, key: &str, path: &Path) -> Result<u64, SourceError> {
    let werr = |source| SourceError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).map_err(werr)?;
    }
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(werr)?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let done = backend
        .download(key, &mut out)
        .map_err(SourceError::from)
        .and_then(|n| out.flush().map(|()| n).map_err(werr));
    if done.is_err() {
        drop(out);
        let _ = fs::remove_file(path);
    }
    done
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalBackend;
    use strix_data::NoProgress;

    fn backend(root: &Path) -> LocalBackend {
        LocalBackend::new(root.to_str().unwrap())
    }

    #[test]
    fn a_file_and_a_folder_come_down_with_their_shape() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        fs::create_dir_all(src.join("dir/sub")).unwrap();
        fs::write(src.join("one.csv"), b"a,b\n").unwrap();
        fs::write(src.join("dir/x"), b"x").unwrap();
        fs::write(src.join("dir/sub/y.tmp"), b"yy").unwrap();
        let b = backend(&src);

        let got = download(&b, "one.csv", &d.path().join("f"), 2, &NoProgress).unwrap();
        assert_eq!(
            got,
            Downloaded {
                files: 1,
                bytes: 4,
                is_dir: false
            }
        );
        assert_eq!(fs::read(d.path().join("f")).unwrap(), b"a,b\n");

        let got = download(&b, "dir/", &d.path().join("d"), 2, &NoProgress).unwrap();
        assert_eq!((got.files, got.bytes, got.is_dir), (2, 3, true));
        assert_eq!(fs::read(d.path().join("d/x")).unwrap(), b"x");
        // A user's file named *.tmp is data, not an interrupted upload.
        assert_eq!(fs::read(d.path().join("d/sub/y.tmp")).unwrap(), b"yy");
    }

    #[test]
    fn missing_targets_and_existing_destinations_are_errors() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("src");
        fs::create_dir_all(&src).unwrap();
        fs::write(src.join("f"), b"f").unwrap();
        let b = backend(&src);
        for name in ["nope", "", "/"] {
            let e = download(&b, name, &d.path().join("out"), 1, &NoProgress).unwrap_err();
            assert!(matches!(e, SourceError::NotFound { .. }), "{name}: {e:?}");
        }
        assert!(!d.path().join("out").exists());
        fs::write(d.path().join("taken"), b"mine").unwrap();
        let e = download(&b, "f", &d.path().join("taken"), 1, &NoProgress).unwrap_err();
        assert!(matches!(e, SourceError::Write { .. }), "{e:?}");
        assert_eq!(fs::read(d.path().join("taken")).unwrap(), b"mine");
    }

    #[test]
    fn listed_keys_must_stay_below_the_folder() {
        for (key, ok) in [
            ("dir/a/b", Some("a/b")),
            ("dir/../x", None),
            ("dir/a/../../x", None),
            ("dir//x", None),
            ("dir/./x", None),
            ("dir/", None),
            ("dirx/y", None),
            ("other/y", None),
        ] {
            assert_eq!(below("dir", key), ok, "{key}");
        }
    }
}
