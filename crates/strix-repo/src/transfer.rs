//! `push`, `fetch` and `status --cloud`: the objects the workspace's `.dvc`
//! files use, moved between the cache and a remote (spec 11.2).
//!
//! `pull` is [`fetch`] followed by [`crate::checkout::checkout`].

use crate::error::RepoError;
use crate::index::resolve_targets;
use crate::outputs::{kind_of, recorded_oid};
use crate::repo::Repo;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use strix_data::{Layout, Manifest, Oid, Progress};
use strix_remote::{Backend, DirObject, ObjectRef, Transfer, TransferError};

/// Why a transfer command failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// No `-r` and no `core.remote`, and no remote configured at all.
    #[error(
        "config file error: no remote specified in {}. Create a default remote with\n    dvc remote add -d <remote name> <remote url>",
        .root.display()
    )]
    NoRemotes { root: PathBuf },
    /// No `-r` and no `core.remote`, but some remotes exist.
    #[error(
        "config file error: no remote specified in {}. Setup default remote with\n    dvc remote default <remote name>\nor use:\n    dvc <command> -r <remote name>",
        .root.display()
    )]
    NoDefault { root: PathBuf },
    /// `-r NAME` (or `core.remote`) names no remote.
    #[error("config file error: remote '{0}' doesn't exist")]
    UnknownRemote(String),
    /// The remote's configuration is invalid.
    #[error("configuration error")]
    Config(#[source] Box<strix_config::ConfigError>),
    /// The remote's URL has no backend.
    #[error(transparent)]
    Open(#[from] strix_remote::OpenError),
    /// Querying the remote failed as a whole.
    #[error("failed to query remote '{remote}'")]
    Query {
        remote: String,
        #[source]
        source: TransferError,
    },
    /// Some objects could not be uploaded.
    #[error("{}", failure_text(.0, "upload"))]
    UploadFailed(Failures),
    /// Some objects could not be downloaded (corrupted ones included).
    #[error("{}", failure_text(.0, "download"))]
    DownloadFailed(Failures),
    /// A URL target could not be downloaded.
    #[error("failed to download the target")]
    Source(#[from] strix_remote::source::SourceError),
    /// A repository error (targets, metafiles…).
    #[error(transparent)]
    Repo(#[from] RepoError),
    /// Selecting revisions (`-a`, `-T`, `-A`, `--rev`) or reading their
    /// metafiles failed.
    #[error(transparent)]
    Revisions(#[from] crate::revisions::RevError),
}

/// The objects a transfer failed on.
#[derive(Debug, Default)]
pub struct Failures {
    /// One per object: the output and the object, then the error.
    pub items: Vec<Failure>,
    /// Objects not tried because the remote failed first.
    pub skipped: usize,
    /// The kind of the first failure that came from the remote (or the
    /// disk), if any: what went wrong overall (no connection, credentials…).
    pub kind: Option<std::io::ErrorKind>,
    /// Some object on the remote is corrupt.
    pub corrupted: bool,
}

/// One object a transfer failed on.
#[derive(Debug)]
pub struct Failure {
    /// The output and the object: `'data' (md5: …)`.
    pub object: String,
    /// The whole error: `failed to upload 'files/md5/…': <cause>`.
    pub error: String,
    /// The innermost cause alone (what the remote or the disk said).
    pub cause: String,
}

/// At most this many failed objects are listed one by one.
const MAX_LINES: usize = 10;

/// The failures, one line each; when they all have the same cause (a
/// missing bucket, a full disk), that cause is said once, before them.
fn failure_text(f: &Failures, verb: &str) -> String {
    let mut s = format!("{} files failed to {verb}", f.items.len());
    if f.skipped > 0 {
        s.push_str(&format!(
            " ({} more not tried: the remote failed)",
            f.skipped
        ));
    }
    let shared = match f.items.as_slice() {
        [first, _, ..] if f.items.iter().all(|i| i.cause == first.cause) => Some(&first.cause),
        _ => None,
    };
    s.push(':');
    if let Some(cause) = shared {
        s.push(' ');
        s.push_str(cause);
    }
    let lines = f.items.iter().map(|i| match shared {
        Some(_) => i.object.clone(),
        None => format!("{}: {}", i.object, i.error),
    });
    s.push_str(&strix_data::listing::bounded_lines(lines, MAX_LINES, ""));
    s
}

impl Failures {
    fn add(&mut self, object: String, e: &TransferError) {
        if self.kind.is_none()
            && (e.is_remote_failure() || matches!(e, TransferError::Write { .. }))
        {
            self.kind = e.io_kind();
        }
        self.corrupted |= matches!(e, TransferError::Corrupted { .. });
        self.items.push(Failure::new(object, e));
    }
}

impl Failure {
    pub fn new(object: String, e: &dyn std::error::Error) -> Self {
        let mut cause = e;
        while let Some(inner) = cause.source() {
            cause = inner;
        }
        Failure {
            object,
            error: error_chain(e),
            cause: cause.to_string(),
        }
    }

    /// The object and its error on one line.
    pub fn line(&self) -> String {
        format!("{}: {}", self.object, self.error)
    }
}

impl SyncError {
    /// What kind of I/O failure stopped the transfer, if one did: callers
    /// pick hints by it.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            SyncError::UploadFailed(f) | SyncError::DownloadFailed(f) => f.kind,
            SyncError::Query { source, .. } => source.io_kind(),
            SyncError::Source(strix_remote::source::SourceError::Backend(
                strix_remote::BackendError::Io { source, .. },
            )) => Some(source.kind()),
            _ => None,
        }
    }

    /// Whether a remote object was found corrupt.
    pub fn corrupted(&self) -> bool {
        matches!(self, SyncError::DownloadFailed(f) if f.corrupted)
    }

    /// DVC's exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            SyncError::Repo(e) => e.exit_code(),
            SyncError::Revisions(crate::revisions::RevError::Repo(e)) => e.exit_code(),
            SyncError::Config(_) => 251,
            _ => 1,
        }
    }
}

/// A remote opened for transfers.
pub struct OpenedRemote {
    /// Its (lowercase) name.
    pub name: String,
    /// Its resolved URL.
    pub url: String,
    /// The storage.
    pub backend: Box<dyn Backend>,
}

impl std::fmt::Debug for OpenedRemote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedRemote")
            .field("name", &self.name)
            .field("url", &self.url)
            .finish()
    }
}

/// The remote `name` of `config` and its options as a backend takes them
/// (lists joined with `,`).
pub(crate) fn configured_remote(
    config: &strix_config::Config,
    name: &str,
) -> Result<(strix_config::Remote, Vec<(String, String)>), SyncError> {
    let remote = config.remote(name).map_err(|e| match e {
        strix_config::ConfigError::RemoteNotFound { name } => SyncError::UnknownRemote(name),
        other => SyncError::Config(Box::new(other)),
    })?;
    let options = remote
        .options
        .iter()
        .map(|(k, v)| {
            let v = match v {
                strix_config::Value::String(s) => s.clone(),
                strix_config::Value::List(items) => items.join(","),
            };
            (k.clone(), v)
        })
        .collect();
    Ok((remote, options))
}

/// Resolves `-r NAME`, else `core.remote`, and opens its backend.
pub fn open_remote(repo: &Repo, name: Option<&str>) -> Result<OpenedRemote, SyncError> {
    let config = crate::settings::load_config(repo.root())?;
    let name = match name {
        Some(n) => n.to_string(),
        None => match config
            .core_remote()
            .map_err(|e| SyncError::Config(Box::new(e)))?
        {
            Some(n) => n,
            None if config.remote_names().is_empty() => {
                return Err(SyncError::NoRemotes {
                    root: repo.root().to_path_buf(),
                });
            }
            None => {
                return Err(SyncError::NoDefault {
                    root: repo.root().to_path_buf(),
                });
            }
        },
    };
    let (remote, options) = configured_remote(&config, &name)?;
    let backend = strix_remote::open_with_options(&remote.name, &remote.url, &options)?;
    Ok(OpenedRemote {
        name: remote.name,
        url: remote.url,
        backend,
    })
}

/// One output whose data a transfer concerns.
#[derive(Debug, Clone)]
pub struct UsedOut {
    /// Absolute path of the output.
    pub path: PathBuf,
    /// Its object (a file or a `.dir`).
    pub obj: ObjectRef,
    /// The remote named by its `remote:` field, if any.
    pub remote: Option<String>,
    /// Its recorded size (for a directory: of all its files).
    pub size: Option<u64>,
    /// Where it is declared (`outs`, `metrics` or `plots` of a stage; a
    /// `.dvc` file's outputs are plain outputs).
    pub kind: strix_dvcfile::OutKind,
}

impl UsedOut {
    /// Whether `fetch --max-size MAX` takes it: DVC leaves out an output
    /// whose recorded size is at least MAX (0: no limit; an unknown or zero
    /// size passes).
    pub fn within(&self, max: u64) -> bool {
        !matches!(self.size, Some(size) if max > 0 && size > 0 && size >= max)
    }
}

/// Runs `one` on each remote's outputs (see [`by_remote`]) and merges the
/// results into the first with `merge`.
fn each_remote<T>(
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    mut one: impl FnMut(Vec<UsedOut>, Option<&str>) -> Result<T, SyncError>,
    merge: impl Fn(&mut T, T),
) -> Result<T, SyncError> {
    let mut total: Option<T> = None;
    for (name, group) in by_remote(outs, remote) {
        let s = one(group, name.as_deref())?;
        match &mut total {
            None => total = Some(s),
            Some(t) => merge(t, s),
        }
    }
    Ok(total.expect("by_remote returns a group"))
}

/// Outputs grouped by the remote that holds their data, as DVC groups
/// them. With `-r NAME` every output goes to NAME, except those whose
/// `remote:` names another remote: they are left out. Without it, each
/// output goes to its own `remote:`, the others to the default remote
/// (`None`, first). There is always at least one group, so that a
/// transfer of nothing still checks that its remote exists.
fn by_remote(outs: Vec<UsedOut>, flag: Option<&str>) -> Vec<(Option<String>, Vec<UsedOut>)> {
    let mut groups: Vec<(Option<String>, Vec<UsedOut>)> =
        vec![(flag.map(str::to_owned), Vec::new())];
    for o in outs {
        let key = match (flag, &o.remote) {
            (Some(f), Some(own)) if own != f => continue,
            (Some(f), _) => Some(f.to_string()),
            (None, own) => own.clone(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(o),
            None => groups.push((key, vec![o])),
        }
    }
    // The default remote is only needed when some output uses it.
    if groups.len() > 1 && groups[0].0.is_none() && groups[0].1.is_empty() {
        groups.remove(0);
    }
    groups
}

/// The outputs of the targeted `.dvc` files that have cached data.
/// With `for_push`, outputs marked `push: false` are left out.
pub fn used_outs(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    for_push: bool,
) -> Result<Vec<UsedOut>, RepoError> {
    outs_of(repo, &resolve_targets(repo, cwd, targets)?, for_push)
}

/// The outputs of `files` that a transfer concerns (see [`used_outs`]).
pub fn outs_of(
    repo: &Repo,
    files: &[crate::index::DvcFileRef],
    for_push: bool,
) -> Result<Vec<UsedOut>, RepoError> {
    let mut out = Vec::new();
    for f in files {
        for o in &f.file.outs {
            if !o.cache || (for_push && !o.push) {
                continue;
            }
            let Some(oid) = recorded_oid(o) else { continue };
            out.push(UsedOut {
                path: f.out_path(repo, o)?,
                obj: ObjectRef {
                    oid,
                    layout: Layout::for_kind(kind_of(o)),
                },
                remote: o.remote.clone(),
                size: o.size,
                kind: strix_dvcfile::OutKind::Out,
            });
        }
    }
    Ok(out)
}

/// The objects of a directory's files.
pub(crate) fn members(m: &Manifest, layout: Layout) -> Vec<ObjectRef> {
    m.entries()
        .iter()
        .map(|e| ObjectRef {
            oid: Oid::file(e.md5),
            layout,
        })
        .collect()
}

/// An object missing from both the cache and the remote.
#[derive(Debug, Clone)]
pub struct Missing {
    /// The output it belongs to.
    pub path: PathBuf,
    /// The object.
    pub oid: Oid,
}

/// What [`push`] did.
#[derive(Debug)]
pub struct PushSummary {
    /// The remote's name.
    pub remote: String,
    /// Objects uploaded, `.dir` objects included.
    pub pushed: usize,
    /// Objects in neither the cache nor the remote (not pushed).
    pub missing: Vec<Missing>,
}

fn owner_of<'a>(outs: &'a [UsedOut], manifests: &[(usize, Manifest)], obj: &ObjectRef) -> &'a Path {
    if let Some(o) = outs.iter().find(|o| o.obj == *obj) {
        return &o.path;
    }
    for (i, m) in manifests {
        if m.entries().iter().any(|e| e.md5 == obj.oid.md5) {
            return &outs[*i].path;
        }
    }
    Path::new("")
}

/// `push`: uploads the used objects the remote lacks.
pub fn push(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<PushSummary, SyncError> {
    let outs = used_outs(repo, cwd, targets, true)?;
    push_outs(repo, outs, remote, jobs, progress)
}

/// [`push`] for a given set of outputs (e.g. from
/// [`crate::revisions::used_outs_in_scope`]), each to its remote (see
/// [`by_remote`]).
pub fn push_outs(
    repo: &Repo,
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<PushSummary, SyncError> {
    each_remote(
        outs,
        remote,
        |group, name| {
            let r = open_remote(repo, name)?;
            push_to(repo, repo.odb(), &r, group, jobs, progress)
        },
        |t, s| {
            t.pushed += s.pushed;
            t.missing.extend(s.missing);
        },
    )
}

/// [`push_outs`] to the opened remote `r`, from the object database `odb`
/// (the cache, or the staging area of `add --to-remote`).
pub(crate) fn push_to(
    repo: &Repo,
    odb: &strix_data::Odb,
    r: &OpenedRemote,
    outs: Vec<UsedOut>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<PushSummary, SyncError> {
    let t = Transfer::new(r.backend.as_ref(), odb, jobs);
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut manifests = Vec::new();
    let mut missing = Vec::new();
    for (i, o) in outs.iter().enumerate() {
        if !o.obj.oid.is_dir {
            files.push(o.obj);
            continue;
        }
        match odb.read_manifest(&o.obj.oid, o.obj.layout) {
            Ok(m) => {
                dirs.push(DirObject {
                    obj: o.obj,
                    members: members(&m, o.obj.layout),
                });
                manifests.push((i, m));
            }
            Err(_) => missing.push(Missing {
                path: o.path.clone(),
                oid: o.obj.oid,
            }),
        }
    }
    let report = t
        .push(&files, &dirs, progress)
        .map_err(|source| SyncError::Query {
            remote: r.name.clone(),
            source,
        })?;
    let mut failed = Failures {
        skipped: report.skipped,
        ..Default::default()
    };
    for (obj, e) in &report.failed {
        let path = owner_of(&outs, &manifests, obj).to_path_buf();
        match e {
            TransferError::NotInCache { .. } | TransferError::DirIncomplete { .. } => {
                missing.push(Missing { path, oid: obj.oid })
            }
            other => failed.add(format!("'{}' (md5: {})", repo.rel(&path), obj.oid), other),
        }
    }
    if !failed.items.is_empty() {
        return Err(SyncError::UploadFailed(failed));
    }
    Ok(PushSummary {
        remote: r.name.clone(),
        pushed: report.uploaded,
        missing,
    })
}

/// An error and its causes on one line, `: `-separated.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

/// What [`fetch`] did.
#[derive(Debug, Default)]
pub struct FetchSummary {
    /// The remote's name, if one was needed.
    pub remote: Option<String>,
    /// Objects downloaded, `.dir` objects included.
    pub fetched: usize,
    /// Objects in neither the cache nor the remote.
    pub missing: Vec<Missing>,
}

/// `fetch`: downloads the used objects the cache lacks. `.dir` objects come
/// first, then the files they list. Every object is verified before it
/// enters the cache, and they are all made durable before this returns; a
/// corrupted one fails the command, naming the output and the object. Without a remote, succeeds only if nothing is missing.
pub fn fetch(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<FetchSummary, SyncError> {
    let outs = used_outs(repo, cwd, targets, false)?;
    fetch_outs(repo, outs, remote, jobs, progress)
}

/// [`fetch`] for a given set of outputs, each from its remote (see
/// [`by_remote`]).
pub fn fetch_outs(
    repo: &Repo,
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<FetchSummary, SyncError> {
    // As DVC: `-r NAME` must name a remote even when nothing is missing.
    if let Some(name) = remote {
        let config = crate::settings::load_config(repo.root())?;
        configured_remote(&config, name)?;
    }
    each_remote(
        outs,
        remote,
        |group, name| fetch_from(repo, group, name, jobs, progress),
        |t, s| {
            t.remote = t.remote.take().or(s.remote);
            t.fetched += s.fetched;
            t.missing.extend(s.missing);
        },
    )
}

/// [`fetch_outs`] from one remote.
fn fetch_from(
    repo: &Repo,
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<FetchSummary, SyncError> {
    // Not trusting the "complete directory" hints: they go stale when cache
    // files are removed behind strix's back (or a killed pull fetched a
    // `.dir` again without its files), and then nothing would be fetched.
    let complete = outs
        .iter()
        .all(|o| crate::outputs::in_cache(repo, &o.obj.oid, o.obj.layout, false).0);
    if complete {
        return Ok(FetchSummary::default());
    }
    let r = open_remote(repo, remote)?;
    let t = Transfer::new(r.backend.as_ref(), repo.odb(), jobs);
    let mut summary = FetchSummary {
        remote: Some(r.name.clone()),
        ..Default::default()
    };
    let mut failed = Failures::default();
    let mut record = |report: strix_remote::FetchReport,
                      owner: &dyn Fn(&ObjectRef) -> PathBuf,
                      summary: &mut FetchSummary| {
        summary.fetched += report.downloaded;
        failed.skipped += report.skipped;
        for (obj, stat) in &report.verified {
            repo.state()
                .insert_verified(stat, strix_data::HashKind::Md5, obj.oid.md5);
        }
        for m in report.missing {
            summary.missing.push(Missing {
                path: owner(&m),
                oid: m.oid,
            });
        }
        for (obj, e) in report.failed {
            failed.add(
                format!("'{}' (md5: {})", repo.rel(&owner(&obj)), obj.oid),
                &e,
            );
        }
    };
    // 1. The `.dir` objects.
    let dir_objs: Vec<ObjectRef> = outs
        .iter()
        .filter(|o| o.obj.oid.is_dir)
        .map(|o| o.obj)
        .collect();
    let report = t
        .fetch(&dir_objs, progress)
        .map_err(|source| SyncError::Query {
            remote: r.name.clone(),
            source,
        })?;
    let out_owner = |obj: &ObjectRef| {
        outs.iter()
            .find(|o| o.obj == *obj)
            .map(|o| o.path.clone())
            .unwrap_or_default()
    };
    record(report, &out_owner, &mut summary);
    // 2. Single files and the members of every known directory.
    let mut wanted: Vec<ObjectRef> = Vec::new();
    let mut owners: Vec<(ObjectRef, PathBuf)> = Vec::new();
    let mut seen = HashSet::new();
    for o in &outs {
        if !o.obj.oid.is_dir {
            if seen.insert(o.obj) {
                wanted.push(o.obj);
                owners.push((o.obj, o.path.clone()));
            }
            continue;
        }
        if let Ok(m) = repo.odb().read_manifest(&o.obj.oid, o.obj.layout) {
            for mo in members(&m, o.obj.layout) {
                if seen.insert(mo) {
                    wanted.push(mo);
                    owners.push((mo, o.path.clone()));
                }
            }
        }
    }
    let report = t
        .fetch(&wanted, progress)
        .map_err(|source| SyncError::Query {
            remote: r.name.clone(),
            source,
        })?;
    let member_owner = |obj: &ObjectRef| {
        owners
            .iter()
            .find(|(o, _)| o == obj)
            .map(|(_, p)| p.clone())
            .unwrap_or_default()
    };
    record(report, &member_owner, &mut summary);
    // What landed reaches the disk before anything relies on it (a linked
    // checkout, a later push): a crash must not leave a trusted, read-only
    // object that holds zeros.
    let synced = repo.sync_cache();
    if !failed.items.is_empty() {
        return Err(SyncError::DownloadFailed(failed));
    }
    synced?;
    Ok(summary)
}

/// Where an object is, for `status --cloud`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloudState {
    /// Only in the cache.
    New,
    /// Only on the remote.
    Deleted,
    /// In neither.
    Missing,
}

impl CloudState {
    /// DVC's word.
    pub fn as_str(self) -> &'static str {
        match self {
            CloudState::New => "new",
            CloudState::Deleted => "deleted",
            CloudState::Missing => "missing",
        }
    }
}

/// One line of `status --cloud`.
#[derive(Debug, Clone)]
pub struct CloudEntry {
    /// The output's absolute path.
    pub path: PathBuf,
    /// For a file inside a directory output, its path in the directory.
    pub member: Option<String>,
    /// The state.
    pub state: CloudState,
}

/// The result of `status --cloud`.
#[derive(Debug)]
pub struct CloudStatus {
    /// The remote's name.
    pub remote: String,
    /// Objects that are not in both places.
    pub entries: Vec<CloudEntry>,
    /// `.dir` objects in neither place (their files cannot be listed).
    pub missing_dirs: Vec<Missing>,
}

/// `status --cloud`: compares the cache with the remote for the used
/// objects. A `.dir` missing from the cache is fetched from the remote
/// first, as DVC does.
pub fn cloud_status(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<CloudStatus, SyncError> {
    let outs = used_outs(repo, cwd, targets, false)?;
    cloud_status_outs(repo, outs, remote, jobs, progress)
}

/// [`cloud_status`] for a given set of outputs, each against its remote
/// (see [`by_remote`]). DVC 3.67.1 leaves outputs with their own
/// `remote:` out of `status -c`; strix compares them with that remote, as
/// `push` would send them there.
pub fn cloud_status_outs(
    repo: &Repo,
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<CloudStatus, SyncError> {
    each_remote(
        outs,
        remote,
        |group, name| cloud_status_of(repo, group, name, jobs, progress),
        |t, s| {
            t.entries.extend(s.entries);
            t.missing_dirs.extend(s.missing_dirs);
        },
    )
}

/// [`cloud_status_outs`] against one remote.
fn cloud_status_of(
    repo: &Repo,
    outs: Vec<UsedOut>,
    remote: Option<&str>,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<CloudStatus, SyncError> {
    let r = open_remote(repo, remote)?;
    let t = Transfer::new(r.backend.as_ref(), repo.odb(), jobs);
    let qerr = |source| SyncError::Query {
        remote: r.name.clone(),
        source,
    };
    let dir_objs: Vec<ObjectRef> = outs
        .iter()
        .filter(|o| o.obj.oid.is_dir)
        .map(|o| o.obj)
        .collect();
    let fetched = t.fetch(&dir_objs, progress).map_err(qerr)?;
    if let Some((obj, e)) = fetched.failed.into_iter().next() {
        let path = outs
            .iter()
            .find(|o| o.obj == obj)
            .map(|o| o.path.clone())
            .unwrap_or_default();
        let mut f = Failures::default();
        f.add(format!("'{}' (md5: {})", repo.rel(&path), obj.oid), &e);
        return Err(SyncError::DownloadFailed(f));
    }
    // (output index, member relpath, object)
    let mut items: Vec<(usize, Option<String>, ObjectRef)> = Vec::new();
    let mut missing_dirs = Vec::new();
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    for (i, o) in outs.iter().enumerate() {
        if !o.obj.oid.is_dir {
            items.push((i, None, o.obj));
            files.push(o.obj);
            continue;
        }
        match repo.odb().read_manifest(&o.obj.oid, o.obj.layout) {
            Ok(m) => {
                items.push((i, None, o.obj));
                dirs.push(DirObject {
                    obj: o.obj,
                    members: members(&m, o.obj.layout),
                });
                for e in m.entries() {
                    items.push((
                        i,
                        Some(e.relpath.clone()),
                        ObjectRef {
                            oid: Oid::file(e.md5),
                            layout: o.obj.layout,
                        },
                    ));
                }
            }
            Err(_) => missing_dirs.push(Missing {
                path: o.path.clone(),
                oid: o.obj.oid,
            }),
        }
    }
    let on_remote = t.remote_has_tree(&files, &dirs, progress).map_err(qerr)?;
    let asked: Vec<(Oid, Layout)> = items.iter().map(|(_, _, o)| (o.oid, o.layout)).collect();
    let in_cache = repo.odb().existing(&asked);
    let mut entries = Vec::new();
    for (i, member, obj) in items {
        let local = in_cache.contains(&(obj.oid, obj.layout));
        let remote = on_remote.contains(&obj);
        let state = match (local, remote) {
            (true, true) => continue,
            (true, false) => CloudState::New,
            (false, true) => CloudState::Deleted,
            (false, false) => CloudState::Missing,
        };
        entries.push(CloudEntry {
            path: outs[i].path.clone(),
            member,
            state,
        });
    }
    Ok(CloudStatus {
        remote: r.name,
        entries,
        missing_dirs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_remote::BackendError;

    fn failure(object: &str, key: &str, cause: &str) -> Failure {
        let e = BackendError::Io {
            op: "upload",
            key: key.to_string(),
            source: std::io::Error::other(cause.to_string()),
        };
        Failure::new(object.to_string(), &e)
    }

    #[test]
    fn a_cause_shared_by_every_failure_is_said_once() {
        let bucket = "the bucket does not exist on s3://b/x";
        let f = Failures {
            items: vec![
                failure("'data' (md5: aa)", "files/md5/aa", bucket),
                failure("'data' (md5: bb)", "files/md5/bb", bucket),
            ],
            skipped: 3,
            ..Default::default()
        };
        assert_eq!(
            failure_text(&f, "upload"),
            format!(
                "2 files failed to upload (3 more not tried: the remote failed): {bucket}\n\
                 'data' (md5: aa)\n'data' (md5: bb)"
            )
        );
        let f = Failures {
            items: vec![
                failure("'a' (md5: aa)", "files/md5/aa", "disk full"),
                failure("'b' (md5: bb)", "files/md5/bb", "access denied"),
            ],
            ..Default::default()
        };
        assert_eq!(
            failure_text(&f, "download"),
            "2 files failed to download:\n\
             'a' (md5: aa): failed to upload 'files/md5/aa': disk full\n\
             'b' (md5: bb): failed to upload 'files/md5/bb': access denied"
        );
    }
}
