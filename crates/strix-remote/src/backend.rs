//! The storage primitives a remote must offer.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Keys with their sizes, where the remote tells them.
pub type SizedKeys = Vec<(String, Option<u64>)>;

/// Why a backend operation failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The key does not exist on the remote.
    #[error("'{key}' does not exist on the remote")]
    NotFound {
        /// The key asked for.
        key: String,
    },
    /// An I/O error on the remote (or on the local file being transferred).
    #[error("failed to {op} '{key}'")]
    Io {
        /// What was being done: `check`, `list`, `upload`, `download`, `delete`.
        op: &'static str,
        /// The key (or local path) involved.
        key: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

impl BackendError {
    /// Wraps an I/O error, mapping "not found" to [`BackendError::NotFound`].
    pub fn io(op: &'static str, key: &str, source: io::Error) -> Self {
        if source.kind() == io::ErrorKind::NotFound && op != "upload" {
            BackendError::NotFound {
                key: key.to_string(),
            }
        } else {
            BackendError::Io {
                op,
                key: key.to_string(),
                source,
            }
        }
    }
}

/// A remote store of objects addressed by `/`-separated keys relative to
/// its root (`files/md5/ab/cdef…`). Implementations must be usable from
/// many threads at once.
pub trait Backend: Send + Sync {
    /// The remote's location, for messages.
    fn url(&self) -> &str;

    /// Whether `key` exists.
    fn exists(&self, key: &str) -> Result<bool, BackendError>;

    /// The size of `key` in bytes if it exists: `Some(None)` when the
    /// remote does not tell sizes, `None` when the key does not exist.
    fn stat(&self, key: &str) -> Result<Option<Option<u64>>, BackendError> {
        Ok(self.exists(key)?.then_some(None))
    }

    /// Every key under `prefix` (recursively), relative to the root, in no
    /// particular order. A missing prefix lists as empty.
    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError>;

    /// [`Backend::list`] with the size of each key when the listing tells
    /// it (a truncated object on the remote then shows).
    fn list_sized(&self, prefix: &str) -> Result<SizedKeys, BackendError> {
        Ok(self.list(prefix)?.into_iter().map(|k| (k, None)).collect())
    }

    /// Every key under `prefix` with its size where told, like
    /// [`Backend::list_sized`] but keeping names that end in `.tmp`: for a
    /// folder of user data (a URL target), where such a name is a file like
    /// any other and not an interrupted upload.
    fn list_all(&self, prefix: &str) -> Result<SizedKeys, BackendError>;

    /// Stores the local file `src` as `key`. The object appears complete
    /// under its final name or not at all; an existing object is replaced.
    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError>;

    /// Streams the object `key` into `out`; returns the number of bytes.
    /// A missing object is [`BackendError::NotFound`].
    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError>;

    /// Whether [`Backend::download_from`] can start past the beginning of
    /// an object (the remote serves byte ranges): interrupted downloads are
    /// then resumed.
    fn resumes(&self) -> bool {
        false
    }

    /// Streams the object `key` from byte `offset` on into `out`; returns
    /// the number of bytes. Only remotes that [`Backend::resumes`] take an
    /// offset other than 0.
    fn download_from(
        &self,
        key: &str,
        offset: u64,
        out: &mut dyn Write,
    ) -> Result<u64, BackendError> {
        if offset == 0 {
            return self.download(key, out);
        }
        Err(BackendError::Io {
            op: "download",
            key: key.to_string(),
            source: io::Error::new(
                io::ErrorKind::Unsupported,
                "this remote cannot resume downloads",
            ),
        })
    }

    /// Deletes `key`; a missing key is not an error.
    fn delete(&self, key: &str) -> Result<(), BackendError>;

    /// The remote as a local folder, if it is one: transfers then copy
    /// files directly and batch their flushes.
    fn as_local(&self) -> Option<&crate::LocalBackend> {
        None
    }

    /// How many transfers to run at once when the user does not say.
    fn default_jobs(&self) -> usize {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (4 * cores).clamp(1, 64)
    }
}

/// Why a remote URL could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// A scheme strix has no backend for yet.
    #[error("remote '{name}': URL scheme '{scheme}' is not supported yet ('{url}')")]
    UnsupportedScheme {
        /// The remote's name.
        name: String,
        /// The scheme (`s3`, `ssh`, …).
        scheme: String,
        /// The URL.
        url: String,
    },
    /// A remote URL or option that cannot be used (the message never holds
    /// a credential).
    #[error("remote '{name}' ('{url}'): {message}")]
    Invalid {
        /// The remote's name.
        name: String,
        /// The URL, password masked.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// A local path that is not absolute (callers resolve relative paths
    /// against the config file first).
    #[error("remote '{name}': local path '{url}' is not absolute")]
    RelativePath {
        /// The remote's name.
        name: String,
        /// The URL.
        url: String,
    },
}

/// A URL's scheme and the rest (`s3://b/k` → `s3`, `b/k`); `None` for a
/// path. A one-letter scheme is no scheme (`c://` is a path).
pub fn split_scheme(url: &str) -> Option<(&str, &str)> {
    url.split_once("://")
        .filter(|(scheme, _)| scheme.len() > 1 && scheme.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Opens the backend for a remote URL with no options. See
/// [`open_with_options`].
pub fn open(name: &str, url: &str) -> Result<Box<dyn Backend>, OpenError> {
    open_with_options(name, url, &[])
}

/// Opens the backend for a remote URL and its config options (DVC's keys:
/// `endpointurl`, `keyfile`, `user`, …; lists joined with `,`). Local paths
/// and `file://` URLs give a [`crate::LocalBackend`]; `s3`, `ssh`, `http(s)`,
/// `webdav(s)`, `azure` and `gs` an [`crate::OpendalBackend`]; other schemes
/// are refused.
pub fn open_with_options(
    name: &str,
    url: &str,
    options: &[(String, String)],
) -> Result<Box<dyn Backend>, OpenError> {
    let path = match split_scheme(url) {
        Some((scheme, rest)) => {
            if scheme.eq_ignore_ascii_case("file") {
                PathBuf::from(rest)
            } else if crate::opendal_backend::Service::from_scheme(scheme).is_some() {
                return Ok(Box::new(crate::OpendalBackend::open(name, url, options)?));
            } else {
                return Err(OpenError::UnsupportedScheme {
                    name: name.to_string(),
                    scheme: scheme.to_lowercase(),
                    url: url.to_string(),
                });
            }
        }
        _ => PathBuf::from(url),
    };
    if !path.is_absolute() {
        return Err(OpenError::RelativePath {
            name: name.to_string(),
            url: url.to_string(),
        });
    }
    Ok(Box::new(crate::LocalBackend::new(path)))
}
