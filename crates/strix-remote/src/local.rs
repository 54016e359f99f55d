//! A remote in a local folder (or a mounted network filesystem).

use crate::backend::{Backend, BackendError};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use strix_fs::AtomicFile;

/// Objects are files under a root directory, mode 0444 like DVC's.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    root: PathBuf,
    url: String,
    sync: bool,
}

impl LocalBackend {
    /// A backend rooted at `root` (created on the first upload).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Self {
            url: root.to_string_lossy().into_owned(),
            root,
            sync: true,
        }
    }

    /// Whether uploads are fsynced before they are renamed (default on).
    pub fn with_sync(mut self, sync: bool) -> Self {
        self.sync = sync;
        self
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The path of a key.
    pub fn path(&self, key: &str) -> PathBuf {
        let mut p = self.root.clone();
        p.extend(key.split('/').filter(|s| !s.is_empty()));
        p
    }
}

impl Backend for LocalBackend {
    fn url(&self) -> &str {
        &self.url
    }

    fn exists(&self, key: &str) -> Result<bool, BackendError> {
        match fs::symlink_metadata(self.path(key)) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(BackendError::io("check", key, e)),
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, BackendError> {
        let mut out = Vec::new();
        let base = prefix.trim_end_matches('/').to_string();
        let mut stack = vec![base];
        while let Some(rel) = stack.pop() {
            let dir = self.path(&rel);
            let entries = match fs::read_dir(&dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(BackendError::io("list", &rel, e)),
            };
            for entry in entries {
                let entry = entry.map_err(|e| BackendError::io("list", &rel, e))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                let key = if rel.is_empty() {
                    name.clone()
                } else {
                    format!("{rel}/{name}")
                };
                let ft = entry
                    .file_type()
                    .map_err(|e| BackendError::io("list", &key, e))?;
                if ft.is_dir() {
                    stack.push(key);
                } else if !name.ends_with(strix_fs::TEMP_SUFFIX) {
                    out.push(key);
                }
            }
        }
        Ok(out)
    }

    fn upload(&self, src: &Path, key: &str) -> Result<(), BackendError> {
        let dest = self.path(key);
        let werr = |e| BackendError::io("upload", key, e);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(werr)?;
        }
        let mut input = File::open(src).map_err(|e| BackendError::Io {
            op: "read",
            key: src.to_string_lossy().into_owned(),
            source: e,
        })?;
        let mut tmp = AtomicFile::create(&dest, 0o444, self.sync).map_err(werr)?;
        io::copy(&mut input, tmp.file()).map_err(werr)?;
        // A read-only destination (a previous upload) is replaced by rename.
        tmp.commit().map_err(werr)
    }

    fn download(&self, key: &str, out: &mut dyn Write) -> Result<u64, BackendError> {
        let mut f = File::open(self.path(key)).map_err(|e| BackendError::io("download", key, e))?;
        io::copy(&mut f, out).map_err(|e| BackendError::Io {
            op: "download",
            key: key.to_string(),
            source: e,
        })
    }

    fn delete(&self, key: &str) -> Result<(), BackendError> {
        match fs::remove_file(self.path(key)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackendError::io("delete", key, e)),
        }
    }

    fn default_jobs(&self) -> usize {
        // Local disks gain little from many parallel copies.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        (4 * cores).clamp(4, 32)
    }
}
