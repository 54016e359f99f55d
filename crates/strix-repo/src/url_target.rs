//! URL targets of `add -o` and `add --to-remote` (`s3://bucket/raw`,
//! `https://host/data.csv`, `remote://storage/raw`), resolved as DVC's
//! `get_cloud_fs` resolves them:
//!
//! - `remote://name/path` is `path` under the URL of the configured remote
//!   `name`, opened with that remote's options (endpoint, credentials…);
//! - any other URL is opened with no options: credentials come from the
//!   environment, as the storage's own tools find them;
//! - a `file://` URL is the local path it names.
//!
//! Data that is not local is downloaded first into this run's scratch area
//! on the repository's disk ([`crate::scratch`]); the local add code then
//! takes it from there, and the download is removed when the command ends.

use crate::error::RepoError;
use crate::repo::Repo;
use crate::scratch::{Kind, Scratch};
use crate::transfer::SyncError;
use std::path::{Path, PathBuf};
use strix_data::Progress;

/// Whether a target names a URL (`scheme://…`) rather than a path.
pub fn is_url(target: &Path) -> bool {
    target
        .to_str()
        .is_some_and(|s| strix_remote::split_scheme(s).is_some())
}

/// A URL's parent and last path component (`s3://b/raw/images` →
/// `s3://b/raw`, `images`), `.` and empty components left out; `None` if
/// the URL names no file or folder (a bucket, a host) or goes up (`..`).
fn split_url(url: &str) -> Option<(String, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    let rest = rest.split(['?', '#']).next().unwrap_or("");
    // The first component is the host (or bucket, or remote name).
    let (host, path) = rest.split_once('/')?;
    let parts: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    if parts.contains(&"..") {
        return None;
    }
    let (name, dirs) = parts.split_last()?;
    let mut parent = format!("{scheme}://{host}");
    for d in dirs {
        parent.push('/');
        parent.push_str(d);
    }
    Some((parent, name))
}

/// The name DVC gives the output of a URL target: the URL's last path
/// component (`basename(normpath(urlparse(url).path))`).
pub fn url_name(url: &str) -> Option<&str> {
    split_url(url).map(|(_, name)| name)
}

/// A URL target, ready to be read as a local path.
#[derive(Debug)]
pub struct Fetched {
    path: PathBuf,
    /// The download's scratch area (none for a local target).
    _scratch: Option<Scratch>,
}

impl Fetched {
    /// The local file or folder holding the target's data.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The URL and options to open `url` with.
fn resolve(repo: &Repo, url: &str) -> Result<(String, Vec<(String, String)>), SyncError> {
    let Some(rest) = url
        .split_once("://")
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("remote"))
        .map(|(_, rest)| rest)
    else {
        return Ok((url.to_string(), Vec::new()));
    };
    let (name, path) = rest.split_once('/').unwrap_or((rest, ""));
    let config = crate::settings::load_config(repo.root())?;
    let (remote, options) = crate::transfer::configured_remote(&config, name)?;
    let url = format!(
        "{}/{}",
        remote.url.trim_end_matches('/'),
        path.trim_start_matches('/')
    );
    Ok((url, options))
}

/// A local path, from a `file://` URL or a plain path (what a local
/// remote's URL is).
fn local_path(url: &str) -> Option<PathBuf> {
    match strix_remote::split_scheme(url) {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("file") => Some(PathBuf::from(rest)),
        Some(_) => None,
        None => Some(PathBuf::from(url)),
    }
}

/// Makes the data at `url` readable as a local path: a local target as it
/// is, anything else downloaded with up to `jobs` transfers at once.
pub fn fetch(
    repo: &Repo,
    url: &str,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<Fetched, SyncError> {
    let (resolved, options) = resolve(repo, url)?;
    if let Some(path) = local_path(&resolved) {
        if std::fs::symlink_metadata(&path).is_err() {
            return Err(RepoError::NotFound(path).into());
        }
        return Ok(Fetched {
            path,
            _scratch: None,
        });
    }
    // The storage opens at the target's parent; the target is one key.
    let (parent, name) = split_url(&resolved)
        .ok_or_else(|| RepoError::BadTarget(url.to_string(), "the URL names no file or folder"))?;
    let backend = strix_remote::open_with_options("", &parent, &options)?;
    let scratch = Scratch::create(repo, Kind::Download)?;
    let path = scratch.path().join(name);
    let jobs = jobs.unwrap_or_else(|| backend.default_jobs());
    strix_remote::source::download(backend.as_ref(), name, &path, jobs, progress)?;
    Ok(Fetched {
        path,
        _scratch: Some(scratch),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_their_names() {
        for (t, url) in [
            ("s3://bucket/data", true),
            ("remote://r/x", true),
            ("https://h/f.csv", true),
            ("file:///tmp/x", true),
            ("data", false),
            ("dir/a://b", false),
            ("x:/y", false),
            ("s://y", false),
        ] {
            assert_eq!(is_url(Path::new(t)), url, "{t}");
        }
        for (url, name) in [
            ("s3://bucket/raw/images", Some("images")),
            ("s3://bucket/raw/images/", Some("images")),
            ("https://host/a/f.csv?v=2", Some("f.csv")),
            ("remote://store/x/./", Some("x")),
            ("s3://bucket", None),
            ("s3://bucket/", None),
            ("s3://bucket/a/..", None),
        ] {
            assert_eq!(url_name(url), name, "{url}");
        }
        assert_eq!(
            split_url("ssh://u@h:22/srv/./data//raw/"),
            Some(("ssh://u@h:22/srv/data".to_string(), "raw"))
        );
    }
}
