//! Hashing a workspace path into an object id, optionally saving its content
//! into the cache in the same pass (each file is read once: hashed as it is
//! copied).

use crate::hash::{HashKind, hash_file};
use crate::manifest::{Entry, Manifest};
use crate::odb::{Layout, Odb, OdbError};
use crate::oid::{Md5, Oid};
use crate::progress::Progress;
use crate::state::{DirFingerprint, FileStat, StateDb};
use crate::walk::{Visit, WalkError, WalkedFile, walk_dir, walk_with};
use rayon::prelude::*;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What to do with the bytes while hashing.
#[derive(Clone, Copy)]
pub enum Save<'a> {
    /// Only compute hashes.
    HashOnly,
    /// Also store every file (and the `.dir` manifest) in this cache.
    ToCache(&'a Odb),
}

/// Why a path could not be hashed or saved.
#[derive(Debug, thiserror::Error)]
pub enum TreeError {
    #[error(transparent)]
    Walk(#[from] WalkError),
    #[error("failed to hash '{path}'")]
    Hash {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Odb(#[from] OdbError),
}

/// A hashed directory. Kept small: for a million files only the manifest
/// (relpath + md5 per file) stays in memory.
#[derive(Debug, Clone)]
pub struct Tree {
    pub manifest: Manifest,
    /// Sum of file sizes.
    pub size: u64,
    /// Relpaths of entries that are symlinks in the workspace.
    pub symlinks: Vec<String>,
}

impl Tree {
    pub fn oid(&self) -> Oid {
        self.manifest.oid()
    }

    pub fn nfiles(&self) -> usize {
        self.manifest.len()
    }
}

/// Hash of one file through the state database, saving it to the cache if
/// asked. Records the result in the state database.
pub fn hash_one(
    path: &Path,
    stat: &FileStat,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
) -> Result<Md5, TreeError> {
    hash_one_noting(path, stat, kind, state, save, &AtomicBool::new(false))
}

/// [`hash_one`], setting `replaced` when the workspace file was replaced by
/// a copy (its inode adopted into the cache).
fn hash_one_noting(
    path: &Path,
    stat: &FileStat,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
    replaced: &AtomicBool,
) -> Result<Md5, TreeError> {
    let known = state.get(stat, kind);
    let md5 = match save {
        Save::ToCache(odb) => {
            debug_assert_eq!(kind, HashKind::Md5, "new objects are always DVC 3 objects");
            if let Some(md5) = known
                && odb.exists(&Oid::file(md5), Layout::V3)
            {
                md5
            } else {
                // Objects are not recorded in the state database: a copy
                // checkout verifies them as it reads them, and keeping the
                // state small keeps status fast on millions of files.
                let stored = odb.put_file_sized(path, known, Layout::V3, Some(stat.size))?;
                if let Some(copy) = stored.replaced {
                    replaced.store(true, Ordering::Relaxed);
                    // The workspace now holds a copy we wrote ourselves, or
                    // the object's own inode: known at once, so a relink in
                    // this run does not hash it again.
                    state.insert_verified(&copy, kind, stored.md5);
                    return Ok(stored.md5);
                }
                stored.md5
            }
        }
        Save::HashOnly => match known {
            Some(m) => m,
            None => {
                hash_file(path, kind)
                    .map_err(|source| TreeError::Hash {
                        path: path.to_path_buf(),
                        source,
                    })?
                    .0
            }
        },
    };
    if known != Some(md5) {
        state.insert(stat, kind, md5);
    }
    Ok(md5)
}

/// Hashes already-listed files in parallel, consuming the listing.
/// Returns the manifest entries (unsorted), the total size and the
/// symlinks.
pub fn hash_files(
    dir: &Path,
    files: Vec<WalkedFile>,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
    progress: &dyn Progress,
) -> Result<(Vec<Entry>, u64, Vec<String>), TreeError> {
    hash_files_noting(
        dir,
        files,
        kind,
        state,
        save,
        progress,
        &AtomicBool::new(false),
    )
}

fn hash_files_noting(
    dir: &Path,
    files: Vec<WalkedFile>,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
    progress: &dyn Progress,
    replaced: &AtomicBool,
) -> Result<(Vec<Entry>, u64, Vec<String>), TreeError> {
    progress.start("Computing hashes", Some(files.len() as u64));
    let size = files.iter().map(|f| f.stat.size).sum();
    let symlinks = files
        .iter()
        .filter(|f| f.is_symlink)
        .map(|f| f.relpath.clone())
        .collect();
    // Hash in place: one output vector, no intermediate collections.
    let stats: Vec<FileStat> = files.iter().map(|f| f.stat).collect();
    let mut entries: Vec<Entry> = files
        .into_iter()
        .map(|f| Entry {
            relpath: f.relpath,
            md5: Md5::default(),
        })
        .collect();
    let saved = already_saved(&stats, kind, state, save);
    let first_error: std::sync::Mutex<Option<TreeError>> = std::sync::Mutex::new(None);
    entries
        .par_iter_mut()
        .zip(stats.par_iter())
        .enumerate()
        .for_each(|(i, (e, st))| {
            if first_error.lock().map(|g| g.is_some()).unwrap_or(true) {
                return;
            }
            if let Some(Some(md5)) = saved.get(i) {
                e.md5 = *md5;
                progress.inc(1);
                return;
            }
            match hash_one_noting(&dir.join(&e.relpath), st, kind, state, save, replaced) {
                Ok(md5) => e.md5 = md5,
                Err(err) => {
                    if let Ok(mut g) = first_error.lock()
                        && g.is_none()
                    {
                        *g = Some(err);
                    }
                }
            }
            progress.inc(1);
        });
    drop(stats);
    let out = match first_error.into_inner().ok().flatten() {
        Some(e) => Err(e),
        None => Ok(entries),
    };
    progress.finish();
    Ok((out?, size, symlinks))
}

/// When many files are saved to the cache: per file, its hash if the state
/// database knows it and the cache holds that object (what
/// [`hash_one`] would find file by file), with the cache's directories
/// read once ([`Odb::present`]). Empty when there are few files or nothing
/// is saved.
fn already_saved(
    stats: &[FileStat],
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
) -> Vec<Option<Md5>> {
    let Save::ToCache(odb) = save else {
        return Vec::new();
    };
    if stats.len() < crate::odb::LIST_MIN {
        return Vec::new();
    }
    let mut known: Vec<Option<Md5>> = stats.par_iter().map(|st| state.get(st, kind)).collect();
    let (at, objs): (Vec<usize>, Vec<(Oid, Layout)>) = known
        .iter()
        .enumerate()
        .filter_map(|(i, k)| k.map(|m| (i, (Oid::file(m), Layout::V3))))
        .unzip();
    for (i, present) in at.into_iter().zip(odb.present(&objs)) {
        if !present {
            known[i] = None;
        }
    }
    known
}

/// Walks, hashes (and optionally saves) a directory.
pub fn hash_dir(
    dir: &Path,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
    progress: &dyn Progress,
) -> Result<Tree, TreeError> {
    let dir_stat = dir_stat(dir)?;
    let files = walk_dir(dir, rayon::current_num_threads())?;
    hash_listing(dir, dir_stat, files, kind, state, save, progress)
}

/// [`hash_dir`] of a directory already listed: `files` as a walk found them,
/// `dir_stat` taken before that walk.
fn hash_listing(
    dir: &Path,
    dir_stat: FileStat,
    files: Vec<WalkedFile>,
    kind: HashKind,
    state: &StateDb,
    save: Save<'_>,
    progress: &dyn Progress,
) -> Result<Tree, TreeError> {
    let mut seen = Fingerprinted::default();
    for f in &files {
        seen.file(&f.relpath, f.stat, f.is_symlink, f.is_exec);
    }
    let replaced = AtomicBool::new(false);
    let (entries, size, symlinks) =
        hash_files_noting(dir, files, kind, state, save, progress, &replaced)?;
    let manifest = Manifest::from_entries(entries);
    if let Save::ToCache(odb) = save {
        let (bytes, oid) = manifest.to_bytes_with_oid();
        odb.put_bytes(&oid, Layout::V3, &bytes)?;
    }
    // The listing is known for `status`, unless files were replaced by
    // copies (new inodes: the listing is no longer what is on disk).
    if !replaced.load(Ordering::Relaxed) {
        state.insert_dir(&dir_stat, kind, &seen.fp, manifest.oid().md5);
    }
    Ok(Tree {
        manifest,
        size,
        symlinks,
    })
}

fn dir_stat(dir: &Path) -> Result<FileStat, TreeError> {
    std::fs::metadata(dir)
        .map(|m| FileStat::from_metadata(&m))
        .map_err(|source| {
            TreeError::Walk(WalkError::Io {
                path: dir.to_path_buf(),
                source,
            })
        })
}

/// What `status` needs of a directory: its `.dir` hash, size and count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirSummary {
    pub oid: Oid,
    pub size: u64,
    pub nfiles: u64,
}

/// Walks a directory and finds its `.dir` hash without building the
/// manifest when the state database knows the listing: every file's
/// (path, inode, mtime, size) fingerprinted against the record for the
/// directory. Otherwise hashes it as [`hash_dir`] does (nothing is saved to
/// the cache) and records the listing for next time.
pub fn summarize_dir(
    dir: &Path,
    kind: HashKind,
    state: &StateDb,
    progress: &dyn Progress,
) -> Result<DirSummary, TreeError> {
    let dir_stat = dir_stat(dir)?;
    // One walk for the fingerprint, which also keeps the listing up to a
    // bound (flat memory for any number of files).
    let listed = walk_with(dir, &Listed::new(KEEP_LISTING_MAX))?;
    let seen = &listed.seen;
    if let Some(md5) = state.get_dir(&dir_stat, kind, &seen.fp) {
        return Ok(DirSummary {
            oid: Oid::dir(md5),
            size: seen.size,
            nfiles: seen.nfiles,
        });
    }
    // Unknown listing: hash it (a directory too large to keep its listing
    // is listed again) and record the listing hashed.
    let tree = match listed.files {
        Some(files) => hash_listing(dir, dir_stat, files, kind, state, Save::HashOnly, progress)?,
        None => hash_dir(dir, kind, state, Save::HashOnly, progress)?,
    };
    Ok(DirSummary {
        oid: tree.oid(),
        size: tree.size,
        nfiles: tree.nfiles() as u64,
    })
}

/// A walk's fingerprint, total size and count.
#[derive(Default)]
struct Fingerprinted {
    fp: DirFingerprint,
    size: u64,
    nfiles: u64,
}

impl Visit for Fingerprinted {
    fn fork(&self) -> Self {
        Self::default()
    }

    fn file(&mut self, relpath: &str, stat: FileStat, _: bool, _: bool) {
        self.fp.add(relpath, &stat);
        self.size += stat.size;
        self.nfiles += 1;
    }

    fn merge(&mut self, other: Self) {
        self.fp.merge(&other.fp);
        self.size += other.size;
        self.nfiles += other.nfiles;
    }
}

/// How many files a `status` walk keeps beside the fingerprint, so that a
/// changed directory is hashed without a second walk; a larger one drops its
/// list (about 100 bytes a file) and is walked again.
const KEEP_LISTING_MAX: usize = 100_000;

/// A walk's fingerprint, and its files while there are at most `max` of
/// them in the whole walk (`None` past that). The count is shared by every
/// directory's fork, so no fork keeps (allocates) anything once it is over.
struct Listed {
    seen: Fingerprinted,
    files: Option<Vec<WalkedFile>>,
    kept: Arc<AtomicUsize>,
    max: usize,
}

impl Listed {
    fn new(max: usize) -> Self {
        Self {
            seen: Fingerprinted::default(),
            files: Some(Vec::new()),
            kept: Arc::default(),
            max,
        }
    }
}

impl Visit for Listed {
    fn fork(&self) -> Self {
        let over = self.kept.load(Ordering::Relaxed) > self.max;
        Self {
            seen: Fingerprinted::default(),
            files: (!over).then(Vec::new),
            kept: Arc::clone(&self.kept),
            max: self.max,
        }
    }

    fn file(&mut self, relpath: &str, stat: FileStat, is_symlink: bool, is_exec: bool) {
        self.seen.file(relpath, stat, is_symlink, is_exec);
        if let Some(files) = &mut self.files {
            if self.kept.fetch_add(1, Ordering::Relaxed) < self.max {
                files.file(relpath, stat, is_symlink, is_exec);
            } else {
                self.files = None;
            }
        }
    }

    fn merge(&mut self, other: Self) {
        self.seen.merge(other.seen);
        match (&mut self.files, other.files) {
            (Some(files), Some(more)) => files.merge(more),
            _ => self.files = None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::progress::NoProgress;
    use std::fs;

    const VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../testdata/dvc-vectors");

    /// The fingerprint of `dir`'s listing as a walk finds it now.
    fn walked_listing(dir: &Path) -> DirFingerprint {
        let mut fp = DirFingerprint::default();
        for f in walk_dir(dir, 1).unwrap() {
            fp.add(&f.relpath, &f.stat);
        }
        fp
    }

    /// The md5 `state` records for `dir`'s current listing, if any.
    pub(crate) fn recorded_listing(state: &StateDb, dir: &Path) -> Option<Md5> {
        let dir_stat = FileStat::from_metadata(&fs::metadata(dir).unwrap());
        state.get_dir(&dir_stat, HashKind::Md5, &walked_listing(dir))
    }

    #[test]
    fn vector_workspace_dir_hash_matches_dvc() {
        let data = Path::new(VECTORS).join("workspace/data");
        let tree = hash_dir(
            &data,
            HashKind::Md5,
            &StateDb::in_memory(),
            Save::HashOnly,
            &NoProgress,
        )
        .unwrap();
        assert_eq!(
            tree.oid().to_string(),
            "bf8385e2b15aea0801b306267fe382bc.dir"
        );
        assert_eq!(tree.nfiles(), 13);
        assert_eq!(tree.size, 57);
    }

    #[test]
    fn save_to_cache_stores_files_and_manifest_and_state_skips_rehash() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        fs::write(data.join("sub/b"), b"bbb").unwrap();
        let odb = Odb::new(d.path().join("cache"), false);
        let mut state = StateDb::open(&d.path().join("state"));
        let t = hash_dir(
            &data,
            HashKind::Md5,
            &state,
            Save::ToCache(&odb),
            &NoProgress,
        )
        .unwrap();
        assert!(odb.exists(&t.oid(), Layout::V3));
        for e in t.manifest.entries() {
            assert!(odb.exists(&Oid::file(e.md5), Layout::V3));
        }
        let m = odb.read_manifest(&t.oid(), Layout::V3).unwrap();
        assert_eq!(m, t.manifest);
        state.save().unwrap();
        // Parallel hashing equals a serial rehash of every file.
        for e in t.manifest.entries() {
            assert_eq!(
                crate::hash::md5_file(&data.join(&e.relpath)).unwrap().0,
                e.md5
            );
        }
    }

    /// Sets every file under `dir` to an mtime an hour ago (not racy).
    fn age(dir: &Path) {
        let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        for f in walk_dir(dir, 1).unwrap() {
            fs::File::options()
                .append(true)
                .open(f.path(dir))
                .unwrap()
                .set_modified(past)
                .unwrap();
        }
    }

    fn full(dir: &Path) -> Tree {
        hash_dir(
            dir,
            HashKind::Md5,
            &StateDb::in_memory(),
            Save::HashOnly,
            &NoProgress,
        )
        .unwrap()
    }

    #[test]
    fn summary_uses_the_listing_record_and_notices_every_change() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        fs::write(data.join("sub/b"), b"bbb").unwrap();
        age(&data);
        let path = d.path().join("state");
        let summary =
            |state: &StateDb| summarize_dir(&data, HashKind::Md5, state, &NoProgress).unwrap();
        let mut state = StateDb::open(&path);
        let first = summary(&state);
        let t = full(&data);
        assert_eq!((first.oid, first.size, first.nfiles), (t.oid(), 6, 2));
        state.save().unwrap();

        // Reloaded: the directory's record is there and answers.
        let state = StateDb::open(&path);
        assert_eq!(recorded_listing(&state, &data), Some(first.oid.md5));
        let dir_stat = FileStat::from_metadata(&fs::metadata(&data).unwrap());
        let fp = walked_listing(&data);
        assert_eq!(state.get_dir(&dir_stat, HashKind::Md5Dos2Unix, &fp), None);
        assert_eq!(summary(&state), first);

        // Every kind of change gives the full hash again, never the record.
        let changes: Vec<Box<dyn Fn()>> = vec![
            Box::new(|| fs::write(data.join("a"), b"AAA").unwrap()),
            Box::new(|| fs::write(data.join("sub/c"), b"c").unwrap()),
            Box::new(|| fs::rename(data.join("sub/c"), data.join("c")).unwrap()),
            Box::new(|| fs::remove_file(data.join("c")).unwrap()),
            Box::new(|| {
                // Same name, size and mtime, another inode.
                let st = fs::metadata(data.join("a")).unwrap();
                fs::remove_file(data.join("a")).unwrap();
                fs::write(data.join("a"), b"xyz").unwrap();
                fs::File::options()
                    .append(true)
                    .open(data.join("a"))
                    .unwrap()
                    .set_modified(st.modified().unwrap())
                    .unwrap();
            }),
        ];
        let mut state = StateDb::open(&path);
        for change in changes {
            change();
            age(&data);
            let got = summary(&state);
            let t = full(&data);
            assert_eq!((got.oid, got.nfiles), (t.oid(), t.nfiles() as u64));
            state.save().unwrap();
            state = StateDb::open(&path);
            assert_eq!(summary(&state).oid, t.oid());
        }
    }

    #[test]
    fn a_status_walk_keeps_the_listing_only_up_to_its_bound() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        for sub in ["x", "y", "y/z"] {
            fs::create_dir_all(data.join(sub)).unwrap();
        }
        for (i, f) in ["a", "x/b", "x/c", "y/d", "y/z/e"].iter().enumerate() {
            fs::write(data.join(f), vec![b'q'; i + 1]).unwrap();
        }
        let sorted = |mut v: Vec<WalkedFile>| {
            v.sort_by(|a, b| a.relpath.cmp(&b.relpath));
            v.into_iter()
                .map(|f| (f.relpath, f.stat))
                .collect::<Vec<_>>()
        };
        let all = sorted(walk_dir(&data, 1).unwrap());
        let kept = walk_with(&data, &Listed::new(5)).unwrap();
        assert_eq!(kept.seen.nfiles, 5);
        assert_eq!(kept.seen.fp, walked_listing(&data));
        assert_eq!(sorted(kept.files.expect("5 files fit a bound of 5")), all);
        for max in [0, 1, 2, 4] {
            let over = walk_with(&data, &Listed::new(max)).unwrap();
            assert!(over.files.is_none(), "5 files kept under a bound of {max}");
            assert_eq!((over.seen.nfiles, over.seen.size), (5, 15));
            assert_eq!(over.seen.fp, walked_listing(&data));
        }
    }

    #[test]
    fn racy_listings_are_not_recorded() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        let state = StateDb::open(&d.path().join("state"));
        // Written after the state was opened: within the racy window.
        let got = summarize_dir(&data, HashKind::Md5, &state, &NoProgress).unwrap();
        assert_eq!(got.oid, full(&data).oid());
        assert!(!state.is_dirty());
    }

    #[test]
    fn saving_records_the_listing_for_status() {
        let d = tempfile::tempdir().unwrap();
        let data = d.path().join("data");
        fs::create_dir_all(&data).unwrap();
        fs::write(data.join("a"), b"aaa").unwrap();
        age(&data);
        let odb = Odb::new(d.path().join("cache"), false);
        let path = d.path().join("state");
        let mut state = StateDb::open(&path);
        let t = hash_dir(
            &data,
            HashKind::Md5,
            &state,
            Save::ToCache(&odb),
            &NoProgress,
        )
        .unwrap();
        state.save().unwrap();
        let state = StateDb::open(&path);
        assert_eq!(recorded_listing(&state, &data), Some(t.oid().md5));
    }
}
