//! Materialising cache objects in the workspace.
//!
//! Safety rules: a workspace file is only replaced or removed when its
//! current content is in the cache (or `force` is given); a cache object is
//! verified against its id before it is linked (through the state database,
//! or by rehashing it); every new file is created under a temporary name in
//! its final directory and renamed over the old one, so a killed checkout
//! leaves either the old file or the new one, never a partial file.

use crate::hash::HashKind;
use crate::manifest::Manifest;
use crate::odb::{Layout, Odb};
use crate::oid::{Md5, Oid};
use crate::progress::Progress;
use crate::state::{DirFingerprint, FileStat, StateDb};
use crate::walk::{Visit, WalkError, walk_with};
use rayon::prelude::*;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use strix_fs::link::{LinkType, link_once};

/// Options shared by file and directory checkouts.
pub struct CheckoutOptions<'a> {
    pub odb: &'a Odb,
    pub layout: Layout,
    pub kind: HashKind,
    pub state: &'a StateDb,
    pub link_types: &'a [LinkType],
    /// Replace or remove workspace content that is not in the cache.
    pub force: bool,
    /// Re-create links even for unchanged files.
    pub relink: bool,
}

/// How many unsaved files [`CheckoutError::Unsaved`] names; the rest are
/// counted.
const UNSAVED_SHOWN: usize = 20;

/// The paths of an error message, one per line (the first
/// [`UNSAVED_SHOWN`], then how many more).
fn list_paths(paths: &[PathBuf]) -> String {
    crate::listing::bounded_lines(
        paths.iter().map(|p| p.to_string_lossy()),
        UNSAVED_SHOWN,
        "\t",
    )
}

/// Why a checkout failed.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("cache object {oid} for '{}' is missing", .path.display())]
    Missing { oid: Oid, path: PathBuf },
    #[error("cache object {oid} for '{}' is corrupted (its content hashes to {actual}); it was not linked", .path.display())]
    Corrupted {
        oid: Oid,
        path: PathBuf,
        actual: Md5,
    },
    #[error("Can't remove the following unsaved files without confirmation:{}", list_paths(.0))]
    Unsaved(Vec<PathBuf>),
    #[error("failed to check out '{}'", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// Some files were checked out, others failed.
    #[error("{} file(s) could not be checked out", .failures.len())]
    Partial {
        changes: Box<DirChanges>,
        failures: Vec<CheckoutError>,
    },
}

impl CheckoutError {
    /// Whether the only trouble is cache objects that are not there (for a
    /// directory: every file that failed).
    pub fn only_missing(&self) -> bool {
        match self {
            CheckoutError::Missing { .. } => true,
            CheckoutError::Partial { failures, .. } => failures.iter().all(Self::only_missing),
            _ => false,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CheckoutError + '_ {
    move |source| CheckoutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// What happened to one path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Unchanged,
    Added,
    Modified,
}

/// What happened inside a directory (relpaths).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirChanges {
    pub added: Vec<String>,
    pub modified: Vec<String>,
    pub deleted: Vec<String>,
}

impl DirChanges {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.modified.is_empty() && self.deleted.is_empty()
    }
}

/// The current hash of a workspace file (via the state database).
fn current_md5(path: &Path, stat: &FileStat, opts: &CheckoutOptions<'_>) -> io::Result<Md5> {
    match opts.state.get(stat, opts.kind) {
        Some(m) => Ok(m),
        None => hash_and_record(path, stat, opts),
    }
}

/// Hashes a workspace file the state database does not know, and records it.
fn hash_and_record(path: &Path, stat: &FileStat, opts: &CheckoutOptions<'_>) -> io::Result<Md5> {
    let (m, _) = crate::hash::hash_file(path, opts.kind)?;
    opts.state.insert(stat, opts.kind, m);
    Ok(m)
}

/// Checks a cache object against its id, trusting the state database for
/// objects already verified with the same stat.
pub fn verify_object(
    opts: &CheckoutOptions<'_>,
    md5: Md5,
    for_path: &Path,
) -> Result<PathBuf, CheckoutError> {
    let oid = Oid::file(md5);
    let obj = opts.odb.path(&oid, opts.layout);
    let meta = match fs::metadata(&obj) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CheckoutError::Missing {
                oid,
                path: for_path.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(&obj)(e)),
    };
    let stat = FileStat::from_metadata(&meta);
    // Objects are stored under their plain md5 in both layouts' own kind.
    let kind = match opts.layout {
        Layout::V3 => HashKind::Md5,
        Layout::Legacy => HashKind::Md5Dos2Unix,
    };
    if opts.state.get(&stat, kind) == Some(md5) {
        return Ok(obj);
    }
    let (actual, _) = crate::hash::hash_file(&obj, kind).map_err(io_err(&obj))?;
    if actual != md5 {
        return Err(CheckoutError::Corrupted {
            oid,
            path: for_path.to_path_buf(),
            actual,
        });
    }
    opts.state.insert_trusted(&stat, kind, md5);
    Ok(obj)
}

/// Set once reflink failed with "unsupported": later files skip it.
static REFLINK_UNSUPPORTED: AtomicBool = AtomicBool::new(false);

/// Files up to this size are copied through memory (read, verify, write).
const SMALL_COPY: u64 = 4 << 20;

/// Puts cache object `md5` at `dest`, verifying it on the way. `is_new`
/// says `dest` did not exist (so it can be created without a rename);
/// `dest`'s directory must exist. The new file appears complete or not at
/// all: through `O_TMPFILE`+link, or a temporary name renamed over the old
/// file.
fn place(
    md5: Md5,
    dest: &Path,
    exec: bool,
    is_new: bool,
    opts: &CheckoutOptions<'_>,
) -> Result<(), CheckoutError> {
    let obj = opts.odb.path(&Oid::file(md5), opts.layout);
    let mut last_err = None;
    for &kind in opts.link_types {
        let r = match kind {
            LinkType::Reflink if REFLINK_UNSUPPORTED.load(Ordering::Relaxed) => continue,
            LinkType::Copy => return place_copy(&obj, md5, dest, exec, is_new, opts),
            _ => {
                verify_object(opts, md5, dest)?;
                link_via_temp(&obj, dest, kind, exec)
            }
        };
        match r {
            Ok(()) => return Ok(()),
            Err(e) if strix_fs::link::is_fallback_error(&e) => {
                if kind == LinkType::Reflink {
                    REFLINK_UNSUPPORTED.store(true, Ordering::Relaxed);
                }
                last_err = Some(e);
            }
            Err(e) => return Err(io_err(dest)(e)),
        }
    }
    Err(io_err(dest)(last_err.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::Unsupported, "no usable cache.type")
    })))
}

fn link_via_temp(obj: &Path, dest: &Path, kind: LinkType, exec: bool) -> io::Result<()> {
    let parent = dest.parent().unwrap_or(Path::new("."));
    let tmp = strix_fs::temp_path_in(parent);
    if let Err(e) = link_once(obj, &tmp, kind, exec) {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    replace_with(&tmp, dest)
}

/// Renames `tmp` over `dest` (removing a directory in the way). When both
/// are names of one inode (a hard link being re-made over itself, e.g.
/// after an adoption in place) `rename` does nothing, and `tmp` goes.
fn replace_with(tmp: &Path, dest: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    if let Ok(m) = fs::symlink_metadata(dest) {
        if m.is_dir()
            && let Err(e) = fs::remove_dir_all(dest)
        {
            let _ = fs::remove_file(tmp);
            return Err(e);
        }
        if m.is_file()
            && let Ok(t) = fs::symlink_metadata(tmp)
            && (t.dev(), t.ino()) == (m.dev(), m.ino())
        {
            return fs::remove_file(tmp);
        }
    }
    fs::rename(tmp, dest).inspect_err(|_| {
        let _ = fs::remove_file(tmp);
    })
}

/// Copies an object, hashing the bytes as they are read: a corrupted object
/// is refused before anything reaches the workspace.
fn place_copy(
    obj: &Path,
    md5: Md5,
    dest: &Path,
    exec: bool,
    is_new: bool,
    opts: &CheckoutOptions<'_>,
) -> Result<(), CheckoutError> {
    let oid = Oid::file(md5);
    let mut src = match strix_fs::open_noatime(obj) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(CheckoutError::Missing {
                oid,
                path: dest.to_path_buf(),
            });
        }
        Err(e) => return Err(io_err(obj)(e)),
    };
    let meta = src.metadata().map_err(io_err(obj))?;
    let size = meta.len();
    let mode = strix_fs::link::workspace_mode(exec);
    let kind = match opts.layout {
        Layout::V3 => HashKind::Md5,
        Layout::Legacy => HashKind::Md5Dos2Unix,
    };
    // Verified with this very stat, or written by this process from
    // verified bytes (just downloaded): not hashed again.
    let verified = kind == HashKind::Md5
        && (opts.odb.is_fresh(&md5)
            || opts.state.get(&FileStat::from_metadata(&meta), kind) == Some(md5));
    if size <= SMALL_COPY && kind == HashKind::Md5 {
        // Exactly the bytes the stat counted (a full first read needs no
        // second one to find the end); fewer if the file is shorter, which
        // the hash then refuses.
        let mut data = vec![0u8; size as usize];
        let mut filled = 0;
        while filled < data.len() {
            match io::Read::read(&mut src, &mut data[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(io_err(obj)(e)),
            }
        }
        data.truncate(filled);
        let actual = if verified && data.len() as u64 == size {
            md5
        } else {
            crate::hash::md5_bytes(&data)
        };
        if actual != md5 {
            return Err(CheckoutError::Corrupted {
                oid,
                path: dest.to_path_buf(),
                actual,
            });
        }
        if is_new {
            match strix_fs::write_new(dest, &data, mode).map_err(io_err(dest))? {
                strix_fs::WriteNew::Created => return Ok(()),
                strix_fs::WriteNew::Existed => {}
            }
        }
        let mut f = strix_fs::AtomicFile::create(dest, mode, false).map_err(io_err(dest))?;
        io::Write::write_all(&mut f, &data).map_err(io_err(dest))?;
        return commit_replacing(f, dest);
    }
    if kind != HashKind::Md5 {
        // Legacy objects are checked with their own hash first.
        verify_object(opts, md5, dest)?;
    }
    let mut f = strix_fs::AtomicFile::create(dest, mode, false).map_err(io_err(dest))?;
    if verified {
        // A kernel copy.
        io::copy(&mut src, f.file()).map_err(io_err(dest))?;
        return commit_replacing(f, dest);
    }
    let (actual, _) = crate::hash::md5_stream(&mut src, Some(&mut f)).map_err(io_err(dest))?;
    if kind == HashKind::Md5 && actual != md5 {
        return Err(CheckoutError::Corrupted {
            oid,
            path: dest.to_path_buf(),
            actual,
        });
    }
    commit_replacing(f, dest)
}

fn commit_replacing(f: strix_fs::AtomicFile, dest: &Path) -> Result<(), CheckoutError> {
    if let Ok(m) = fs::symlink_metadata(dest)
        && m.is_dir()
    {
        fs::remove_dir_all(dest).map_err(io_err(dest))?;
    }
    f.commit().map_err(io_err(dest))
}

/// Checks out one file output.
pub fn checkout_file(
    path: &Path,
    md5: Md5,
    exec: bool,
    opts: &CheckoutOptions<'_>,
) -> Result<Change, CheckoutError> {
    let change = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Change::Added,
        Err(e) => return Err(io_err(path)(e)),
        Ok(m) if m.is_dir() => {
            if !opts.force {
                return Err(CheckoutError::Unsaved(vec![path.to_path_buf()]));
            }
            Change::Modified
        }
        Ok(_) => {
            let meta = fs::metadata(path).map_err(io_err(path))?;
            let stat = FileStat::from_metadata(&meta);
            let cur = current_md5(path, &stat, opts).map_err(io_err(path))?;
            if cur == md5 && !opts.relink {
                return Ok(Change::Unchanged);
            }
            if cur != md5 && !opts.force && !opts.odb.exists(&Oid::file(cur), opts.layout) {
                return Err(CheckoutError::Unsaved(vec![path.to_path_buf()]));
            }
            if cur == md5 {
                Change::Unchanged
            } else {
                Change::Modified
            }
        }
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    place(md5, path, exec, change == Change::Added, opts)?;
    let _ = record_placed(path, md5, opts);
    Ok(change)
}

/// Records the hash of a file checkout just wrote. The racy-window rule is
/// skipped: strix wrote these bytes itself a moment ago. (Only a concurrent
/// writer changing the file within the same timestamp tick, keeping its
/// size, could make the record stale; DVC records the same way.)
fn record_placed(path: &Path, md5: Md5, opts: &CheckoutOptions<'_>) -> Option<FileStat> {
    let st = FileStat::from_metadata(&fs::metadata(path).ok()?);
    opts.state.insert_trusted(&st, opts.kind, md5);
    Some(st)
}

/// What to do with one manifest entry.
enum Todo {
    Add,
    Modify,
}

/// The walk's visitor for [`checkout_dir`]: ticks off manifest entries the
/// workspace already holds unchanged and keeps only the differences.
struct Compare<'a> {
    dir: &'a Path,
    entries: &'a [crate::manifest::Entry],
    opts: &'a CheckoutOptions<'a>,
    /// One flag per manifest entry: present in the workspace.
    seen: &'a [AtomicBool],
    /// The manifest entries under the directory being walked
    /// (`entries[range]` all start with `prefix`).
    range: std::ops::Range<usize>,
    prefix_len: usize,
    wanted_symlink: bool,
    /// Manifest entries present with other content (index, current md5).
    changed: Vec<(usize, Md5)>,
    /// Workspace files the manifest does not list (relpath, current md5).
    extras: Vec<(String, Md5)>,
    /// The listing of the files kept as they are.
    kept: DirFingerprint,
    error: Option<CheckoutError>,
}

impl Visit for Compare<'_> {
    fn fork(&self) -> Self {
        Self {
            changed: Vec::new(),
            extras: Vec::new(),
            kept: DirFingerprint::default(),
            error: None,
            range: 0..self.entries.len(),
            ..*self
        }
    }

    fn enter(&mut self, prefix: &str) {
        // Sorted relpaths: those starting with `prefix` are contiguous.
        let p = prefix.as_bytes();
        let lo = self.entries.partition_point(|e| e.relpath.as_bytes() < p);
        let len = self.entries[lo..].partition_point(|e| e.relpath.as_bytes().starts_with(p));
        self.range = lo..lo + len;
        self.prefix_len = p.len();
    }

    fn file(&mut self, relpath: &str, stat: FileStat, is_symlink: bool, _: bool) {
        if self.error.is_some() {
            return;
        }
        // The path is only built for a file the state database does not know.
        let cur = match self.opts.state.get(&stat, self.opts.kind) {
            Some(c) => c,
            None => {
                let path = self.dir.join(relpath);
                match hash_and_record(&path, &stat, self.opts) {
                    Ok(c) => c,
                    Err(e) => {
                        self.error = Some(io_err(&path)(e));
                        return;
                    }
                }
            }
        };
        let name = &relpath.as_bytes()[self.prefix_len..];
        let here = &self.entries[self.range.clone()];
        match here.binary_search_by(|e| e.relpath.as_bytes()[self.prefix_len..].cmp(name)) {
            Ok(k) => {
                let i = self.range.start + k;
                self.seen[i].store(true, Ordering::Relaxed);
                // A symlink in the workspace is replaced by a copy, unless
                // symlinks are what cache.type asks for.
                let unchanged = cur == self.entries[i].md5
                    && !self.opts.relink
                    && (!is_symlink || self.wanted_symlink);
                if unchanged {
                    self.kept.add(relpath, &stat);
                } else {
                    self.changed.push((i, cur));
                }
            }
            Err(_) => self.extras.push((relpath.to_owned(), cur)),
        }
    }

    fn merge(&mut self, mut other: Self) {
        self.changed.append(&mut other.changed);
        self.extras.append(&mut other.extras);
        self.kept.merge(&other.kept);
        if self.error.is_none() {
            self.error = other.error;
        }
    }
}

/// Checks out a directory output so that it holds exactly `manifest`.
pub fn checkout_dir(
    dir: &Path,
    manifest: &Manifest,
    opts: &CheckoutOptions<'_>,
    progress: &dyn Progress,
) -> Result<DirChanges, CheckoutError> {
    // A file where the directory should be.
    if let Ok(m) = fs::symlink_metadata(dir)
        && !m.is_dir()
    {
        let saved = fs::metadata(dir)
            .ok()
            .and_then(|m| current_md5(dir, &FileStat::from_metadata(&m), opts).ok())
            .is_some_and(|cur| opts.odb.exists(&Oid::file(cur), opts.layout));
        if !saved && !opts.force {
            return Err(CheckoutError::Unsaved(vec![dir.to_path_buf()]));
        }
        fs::remove_file(dir).map_err(io_err(dir))?;
    }
    // One parallel walk compares the workspace with the manifest as it
    // goes: unchanged files are only ticked off, so memory holds the
    // manifest and the differences, never the whole workspace listing.
    let entries = manifest.entries();
    let seen: Vec<AtomicBool> = entries.iter().map(|_| AtomicBool::new(false)).collect();
    let compare = Compare {
        dir,
        entries,
        opts,
        seen: &seen,
        wanted_symlink: opts.link_types.first() == Some(&LinkType::Symlink),
        range: 0..entries.len(),
        prefix_len: 0,
        changed: Vec::new(),
        extras: Vec::new(),
        kept: DirFingerprint::default(),
        error: None,
    };
    let found = if dir.is_dir() {
        walk_with(dir, &compare)?
    } else {
        compare.fork()
    };
    if let Some(e) = found.error {
        return Err(e);
    }
    let Compare {
        changed,
        extras,
        kept,
        ..
    } = found;
    // Entries first (to add, or modified), then no more than the work.
    let mut plan: Vec<(usize, Option<Todo>, Option<Md5>)> = seen
        .iter()
        .enumerate()
        .filter(|(_, s)| !s.load(Ordering::Relaxed))
        .map(|(i, _)| (i, Some(Todo::Add), None))
        .collect();
    drop(seen);
    plan.extend(
        changed
            .into_iter()
            .map(|(i, cur)| (i, Some(Todo::Modify), Some(cur))),
    );

    // Files that would be overwritten or removed must be saved somewhere.
    let mut unsaved = Vec::new();
    for (i, todo, cur) in &plan {
        if let (Some(Todo::Modify), Some(cur)) = (todo, cur) {
            let e = &entries[*i];
            if *cur != e.md5 && !opts.force && !opts.odb.exists(&Oid::file(*cur), opts.layout) {
                unsaved.push(dir.join(&e.relpath));
            }
        }
    }
    for (rel, m) in &extras {
        if !opts.force && !opts.odb.exists(&Oid::file(*m), opts.layout) {
            unsaved.push(dir.join(rel));
        }
    }
    if !unsaved.is_empty() {
        unsaved.sort();
        return Err(CheckoutError::Unsaved(unsaved));
    }
    let extras: Vec<String> = extras.into_iter().map(|(rel, _)| rel).collect();

    let work: Vec<(usize, bool, bool)> = plan
        .iter()
        .filter_map(|(i, todo, cur)| match todo {
            Some(Todo::Add) => Some((*i, true, true)),
            Some(Todo::Modify) => Some((*i, false, *cur != Some(manifest.entries()[*i].md5))),
            None => None,
        })
        .collect();
    // Directories first, once each, so workers only create files.
    let mut dirs: Vec<PathBuf> = work
        .iter()
        .filter_map(|(i, _, _)| {
            dir.join(&manifest.entries()[*i].relpath)
                .parent()
                .map(Path::to_path_buf)
        })
        .collect();
    dirs.sort();
    dirs.dedup();
    for d in &dirs {
        fs::create_dir_all(d).map_err(io_err(d))?;
    }
    progress.start("Checking out", Some(work.len() as u64));
    type Placed = Result<Option<FileStat>, CheckoutError>;
    let results: Vec<(usize, bool, bool, Placed)> = work
        .par_iter()
        .map(|&(i, added, changed)| {
            let e = &manifest.entries()[i];
            let dest = dir.join(&e.relpath);
            let r =
                place(e.md5, &dest, false, added, opts).map(|()| record_placed(&dest, e.md5, opts));
            progress.inc(1);
            (i, added, changed, r)
        })
        .collect();
    progress.finish();

    let mut changes = DirChanges::default();
    let mut failures = Vec::new();
    // The listing checkout leaves behind, known only if every placed file
    // could be stat'ed.
    let mut listing = Some(kept);
    for (i, added, changed, r) in results {
        let rel = manifest.entries()[i].relpath.clone();
        let placed = match r {
            Ok(placed) => placed,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        match (placed, &mut listing) {
            (Some(st), Some(fp)) => fp.add_written(&rel, &st),
            (None, l) => *l = None,
            (Some(_), None) => {}
        }
        if added {
            changes.added.push(rel);
        } else if changed {
            changes.modified.push(rel);
        }
    }
    for rel in &extras {
        let path = dir.join(rel);
        fs::remove_file(&path).map_err(io_err(&path))?;
        changes.deleted.push(rel.clone());
        remove_empty_parents(path.parent(), dir);
    }
    if !dir.exists() {
        fs::create_dir_all(dir).map_err(io_err(dir))?;
    }
    // Record the listing for `status`, as hashing would have: the next
    // status then needs one walk, not a rebuilt manifest.
    if failures.is_empty()
        && let Some(fp) = listing
        && let Ok(m) = fs::metadata(dir)
    {
        opts.state.insert_dir(
            &FileStat::from_metadata(&m),
            opts.kind,
            &fp,
            manifest.oid().md5,
        );
    }
    changes.added.sort();
    changes.modified.sort();
    changes.deleted.sort();
    if failures.is_empty() {
        Ok(changes)
    } else {
        Err(CheckoutError::Partial {
            changes: Box::new(changes),
            failures,
        })
    }
}

fn remove_empty_parents(mut cur: Option<&Path>, stop: &Path) {
    while let Some(p) = cur {
        if p == stop || !p.starts_with(stop) {
            break;
        }
        if fs::remove_dir(p).is_err() {
            break;
        }
        cur = p.parent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use crate::tree::tests::recorded_listing;
    use crate::tree::{Save, hash_dir};
    use strix_fs::link::DEFAULT_LINK_TYPES;

    fn setup() -> (tempfile::TempDir, Odb, StateDb, Manifest) {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        fs::write(data.join("sub/b"), b"bbb").unwrap();
        let odb = Odb::new(d.path().join("cache"), false);
        let state = StateDb::in_memory();
        let t = hash_dir(
            &data,
            HashKind::Md5,
            &state,
            Save::ToCache(&odb),
            &NoProgress,
        )
        .unwrap();
        (d, odb, state, t.manifest)
    }

    fn opts<'a>(odb: &'a Odb, state: &'a StateDb, force: bool) -> CheckoutOptions<'a> {
        CheckoutOptions {
            odb,
            layout: Layout::V3,
            kind: HashKind::Md5,
            state,
            link_types: &DEFAULT_LINK_TYPES,
            force,
            relink: false,
        }
    }

    #[test]
    fn the_listing_left_behind_is_recorded_for_status() {
        let (d, odb, _, m) = setup();
        let data = d.path().join("data");
        // `a` is kept as it is (old enough not to be racy), `sub/b` goes,
        // and a saved extra file is removed.
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let a = fs::File::options()
            .append(true)
            .open(data.join("a"))
            .unwrap();
        a.set_modified(hour_ago).unwrap();
        fs::remove_file(data.join("sub/b")).unwrap();
        fs::write(data.join("extra"), b"aaa").unwrap();
        let path = d.path().join("state");
        let mut state = StateDb::open(&path);
        let ch = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap();
        assert_eq!((ch.added.len(), ch.deleted.len()), (1, 1));
        state.save().unwrap();

        // Reloaded, the record answers for exactly the listing on disk now.
        let state = StateDb::open(&path);
        assert_eq!(recorded_listing(&state, &data), Some(m.oid().md5));
        let summary =
            crate::tree::summarize_dir(&data, HashKind::Md5, &state, &NoProgress).unwrap();
        assert_eq!((summary.oid, summary.nfiles), (m.oid(), 2));

        // Any change afterwards misses the record.
        fs::write(data.join("sub/b"), b"other").unwrap();
        let changed =
            crate::tree::summarize_dir(&data, HashKind::Md5, &state, &NoProgress).unwrap();
        assert_ne!(changed.oid, m.oid());
    }

    #[test]
    fn a_racy_kept_file_keeps_the_listing_unrecorded() {
        let (d, odb, _, m) = setup();
        let data = d.path().join("data");
        fs::remove_file(data.join("sub/b")).unwrap();
        // `a` was written after the state opened: within the racy window.
        let path = d.path().join("state");
        let mut state = StateDb::open(&path);
        fs::write(data.join("a"), b"aaa").unwrap();
        checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap();
        state.save().unwrap();
        let state = StateDb::open(&path);
        assert_eq!(recorded_listing(&state, &data), None);
    }

    #[test]
    fn unsaved_files_are_named_up_to_a_bound() {
        let many: Vec<PathBuf> = (0..UNSAVED_SHOWN + 3)
            .map(|i| PathBuf::from(format!("d/f{i}")))
            .collect();
        let msg = CheckoutError::Unsaved(many).to_string();
        assert_eq!(msg.matches("\n\td/f").count(), UNSAVED_SHOWN);
        assert!(msg.contains("\td/f0\n") && !msg.contains(&format!("d/f{UNSAVED_SHOWN}")));
        assert!(msg.ends_with("\n\t… and 3 more"), "{msg}");
    }

    #[test]
    fn restores_deleted_and_modified_and_removes_saved_extras() {
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        fs::remove_file(data.join("a")).unwrap();
        fs::write(data.join("sub/b"), b"changed").unwrap();
        // "changed" must be in the cache or checkout refuses.
        let err = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap_err();
        assert!(matches!(err, CheckoutError::Unsaved(ref v) if v.len() == 1));
        assert!(
            err.to_string()
                .ends_with(&format!(":\n\t{}", data.join("sub/b").display())),
            "the message names the file: {err}"
        );
        assert_eq!(fs::read(data.join("sub/b")).unwrap(), b"changed");
        let ch = checkout_dir(&data, &m, &opts(&odb, &state, true), &NoProgress).unwrap();
        assert_eq!(ch.added, vec!["a".to_string()]);
        assert_eq!(ch.modified, vec!["sub/b".to_string()]);
        assert_eq!(fs::read(data.join("a")).unwrap(), b"aaa");
        assert_eq!(fs::read(data.join("sub/b")).unwrap(), b"bbb");
        let ch = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap();
        assert!(ch.is_empty());
    }

    #[test]
    fn relinking_a_hard_link_over_itself_leaves_no_temporary() {
        use std::os::unix::fs::MetadataExt;
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        let md5 = m.get("a").unwrap().md5;
        let obj = odb.path(&Oid::file(md5), Layout::V3);
        // The workspace file already is a hard link to the object.
        fs::remove_file(data.join("a")).unwrap();
        fs::hard_link(&obj, data.join("a")).unwrap();
        let kinds = [LinkType::Hardlink];
        let o = CheckoutOptions {
            link_types: &kinds,
            relink: true,
            ..opts(&odb, &state, false)
        };
        checkout_file(&data.join("a"), md5, false, &o).unwrap();
        assert_eq!(fs::metadata(&obj).unwrap().nlink(), 2);
        let names: Vec<String> = fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".tmp")),
            "temporary left: {names:?}"
        );
    }

    #[test]
    fn corrupted_object_is_never_linked() {
        use std::os::unix::fs::PermissionsExt;
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        let e = m.get("a").unwrap();
        let obj = odb.path(&Oid::file(e.md5), Layout::V3);
        fs::set_permissions(&obj, fs::Permissions::from_mode(0o644)).unwrap();
        fs::write(&obj, b"bad").unwrap();
        fs::remove_file(data.join("a")).unwrap();
        let fresh = StateDb::in_memory();
        let err = checkout_dir(&data, &m, &opts(&odb, &fresh, false), &NoProgress).unwrap_err();
        match err {
            CheckoutError::Partial { failures, .. } => {
                assert!(matches!(failures[0], CheckoutError::Corrupted { .. }))
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!data.join("a").exists());
        drop(state);
    }

    #[test]
    fn missing_object_is_reported_with_its_path() {
        let (d, odb, state, m) = setup();
        let data = d.path().join("data");
        let e = m.get("sub/b").unwrap();
        let obj = odb.path(&Oid::file(e.md5), Layout::V3);
        fs::remove_file(obj).unwrap();
        fs::remove_file(data.join("sub/b")).unwrap();
        let err = checkout_dir(&data, &m, &opts(&odb, &state, false), &NoProgress).unwrap_err();
        let CheckoutError::Partial { failures, .. } = err else {
            panic!()
        };
        assert!(
            matches!(&failures[0], CheckoutError::Missing { path, .. } if path.ends_with("sub/b"))
        );
    }
}
