//! `cache check`: finds silent corruption in the cache.
//!
//! Every object of the cache (`files/md5/xx/…` and DVC 2's `xx/…`) is read
//! again and hashed the way its layout names it (plain MD5, or DVC 2's
//! dos2unix MD5); a `.dir` manifest must also parse. Nothing trusts the
//! state database here: a file that rotted in place keeps its stat.
//!
//! A corrupted object is named with the workspace paths that use it. With
//! `quarantine`, it is moved (never deleted) to
//! `<cache>/strix-quarantine/<xx><rest>`: the cache then lacks it, so
//! `pull` downloads it again and `status` and `checkout` report it missing
//! instead of trusting it. DVC's listings skip that folder (its names are
//! not object ids).
//!
//! The cache is walked one two-letter folder at a time, folders in
//! parallel, so memory stays flat however many objects there are.

use crate::error::{RepoError, Result};
use crate::gc::object_id;
use crate::repo::Repo;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use strix_data::hash::{HashKind, hash_file};
use strix_data::{Layout, Md5, Oid, Progress};
use strix_remote::ObjectRef;

/// The folder (in the cache) that corrupted objects are moved to.
pub const QUARANTINE: &str = "strix-quarantine";

/// What is wrong with an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// Its content hashes to another id.
    Hash { actual: Md5 },
    /// A `.dir` manifest whose bytes match its id but do not parse.
    Manifest(String),
    /// It could not be read.
    Unreadable(String),
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::Hash { actual } => write!(f, "its content hashes to {actual}"),
            Problem::Manifest(e) => write!(f, "not a valid directory manifest: {e}"),
            Problem::Unreadable(e) => write!(f, "unreadable: {e}"),
        }
    }
}

/// One corrupted object.
#[derive(Debug, Clone)]
pub struct Corrupted {
    /// Where it is (or was, if moved).
    pub path: PathBuf,
    /// The id its name claims.
    pub oid: Oid,
    pub layout: Layout,
    pub problem: Problem,
    /// Repo-relative workspace paths whose recorded data it is.
    pub used_by: Vec<String>,
    /// Where it was moved to, with `quarantine`.
    pub moved_to: Option<PathBuf>,
}

/// What [`check`] found.
#[derive(Debug, Default)]
pub struct Report {
    /// Objects read.
    pub checked: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The corrupted ones, sorted by path.
    pub corrupted: Vec<Corrupted>,
}

/// The two-letter folders of one layout's root.
fn prefix_dirs(root: &Path, layout: Layout) -> Result<Vec<(PathBuf, String, Layout)>> {
    let entries = match fs::read_dir(root) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(RepoError::Read {
                path: root.to_path_buf(),
                source,
            });
        }
    };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.len() == 2 && e.file_type().is_ok_and(|t| t.is_dir()) {
            out.push((e.path(), name, layout));
        }
    }
    Ok(out)
}

/// Checks one object: `None` if it is sound.
fn check_one(path: &Path, oid: &Oid, layout: Layout) -> (u64, Option<Problem>) {
    if oid.is_dir {
        return match fs::read(path) {
            Err(e) => (0, Some(Problem::Unreadable(e.to_string()))),
            Ok(bytes) => {
                let size = bytes.len() as u64;
                let actual = strix_data::hash::md5_bytes(&bytes);
                if actual != oid.md5 {
                    return (size, Some(Problem::Hash { actual }));
                }
                // The bytes just read and hashed are parsed as they are.
                match strix_data::Manifest::parse(&bytes) {
                    Ok(_) => (size, None),
                    Err(e) => (size, Some(Problem::Manifest(e.to_string()))),
                }
            }
        };
    }
    let kind = match layout {
        Layout::V3 => HashKind::Md5,
        Layout::Legacy => HashKind::Md5Dos2Unix,
    };
    match hash_file(path, kind) {
        Err(e) => (0, Some(Problem::Unreadable(e.to_string()))),
        Ok((actual, size)) if actual != oid.md5 => (size, Some(Problem::Hash { actual })),
        Ok((_, size)) => (size, None),
    }
}

/// Re-hashes every object of the cache; with `quarantine`, moves the
/// corrupted ones out of it (the caller holds the repository lock).
pub fn check(repo: &Repo, quarantine: bool, progress: &dyn Progress) -> Result<Report> {
    let odb = repo.odb();
    let mut dirs = prefix_dirs(&odb.layout_root(Layout::V3), Layout::V3)?;
    dirs.extend(prefix_dirs(
        &odb.layout_root(Layout::Legacy),
        Layout::Legacy,
    )?);
    let checked = AtomicU64::new(0);
    let bytes = AtomicU64::new(0);
    let corrupted = Mutex::new(Vec::new());
    progress.start("Checking cache", None);
    dirs.par_iter().for_each(|(dir, prefix, layout)| {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let Some(oid) = object_id(prefix, &name) else {
                continue;
            };
            if !e.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            let path = e.path();
            let (size, problem) = check_one(&path, &oid, *layout);
            checked.fetch_add(1, Ordering::Relaxed);
            bytes.fetch_add(size, Ordering::Relaxed);
            progress.inc(1);
            if let Some(problem) = problem {
                corrupted.lock().expect("lock").push(Corrupted {
                    path,
                    oid,
                    layout: *layout,
                    problem,
                    used_by: Vec::new(),
                    moved_to: None,
                });
            }
        }
    });
    progress.finish();
    let mut corrupted = corrupted.into_inner().expect("lock");
    corrupted.sort_by(|a, b| a.path.cmp(&b.path));
    if !corrupted.is_empty() {
        name_users(repo, &mut corrupted);
    }
    if quarantine && !corrupted.is_empty() {
        // Directories recorded as complete may miss these objects now.
        repo.complete_dirs().clear();
        let into = odb.root().join(QUARANTINE);
        for c in &mut corrupted {
            c.moved_to = Some(move_aside(&c.path, &into, &c.oid)?);
        }
    }
    Ok(Report {
        checked: checked.into_inner(),
        bytes: bytes.into_inner(),
        corrupted,
    })
}

/// Moves `path` into `into` under its id (`.1`, `.2`… if that name is
/// taken: nothing there is ever overwritten).
fn move_aside(path: &Path, into: &Path, oid: &Oid) -> Result<PathBuf> {
    let werr = |p: &Path, source| RepoError::Write {
        path: p.to_path_buf(),
        source,
    };
    fs::create_dir_all(into).map_err(|e| werr(into, e))?;
    let base = oid.to_string();
    for n in 0u32.. {
        let dest = if n == 0 {
            into.join(&base)
        } else {
            into.join(format!("{base}.{n}"))
        };
        if fs::symlink_metadata(&dest).is_ok() {
            continue;
        }
        // A hard link then an unlink: the name in the quarantine is never
        // replaced, even by a concurrent run.
        match fs::hard_link(path, &dest) {
            Ok(()) => {
                fs::remove_file(path).map_err(|e| werr(path, e))?;
                return Ok(dest);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(_) => {
                // No hard links here (or another filesystem): a rename
                // that could only replace a name that appeared just now.
                fs::rename(path, &dest).map_err(|e| werr(path, e))?;
                return Ok(dest);
            }
        }
    }
    unreachable!("u32 names run out")
}

/// Fills in which workspace paths use each corrupted object, from the
/// workspace's `.dvc` and `dvc.lock` files (manifests that cannot be read
/// are skipped).
fn name_users(repo: &Repo, corrupted: &mut [Corrupted]) {
    let Ok(outs) = crate::revisions::outs_in_workspace(repo) else {
        return;
    };
    let mut users: HashMap<ObjectRef, Vec<String>> = corrupted
        .iter()
        .map(|c| {
            let key = ObjectRef {
                oid: c.oid,
                layout: c.layout,
            };
            (key, Vec::new())
        })
        .collect();
    for o in &outs {
        if let Some(u) = users.get_mut(&o.obj) {
            u.push(o.path.clone());
        }
        if !o.obj.oid.is_dir {
            continue;
        }
        let Ok(m) = repo.odb().read_manifest(&o.obj.oid, o.obj.layout) else {
            continue;
        };
        for e in m.entries() {
            let key = ObjectRef {
                oid: Oid::file(e.md5),
                layout: o.obj.layout,
            };
            if let Some(u) = users.get_mut(&key) {
                u.push(format!("{}/{}", o.path, e.relpath));
            }
        }
    }
    for c in corrupted {
        let key = ObjectRef {
            oid: c.oid,
            layout: c.layout,
        };
        if let Some(mut u) = users.remove(&key) {
            u.sort();
            u.dedup();
            c.used_by = u;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_data::NoProgress;
    use strix_data::hash::md5_bytes;

    /// Stores `data` under `oid` as it is, sound or not.
    fn put(repo: &Repo, oid: Oid, layout: Layout, data: &[u8]) -> PathBuf {
        crate::testutil::put_raw(&repo.odb().path(&oid, layout), data)
    }

    #[test]
    fn finds_each_kind_of_corruption_and_moves_it_aside() {
        let (dir, repo) = crate::testutil::scratch_repo();
        let good = put(
            &repo,
            Oid::file(md5_bytes(b"good\n")),
            Layout::V3,
            b"good\n",
        );
        // Bit rot: the bytes changed, the name did not.
        let rotten_oid = Oid::file(md5_bytes(b"model weights\n"));
        let rotten = put(&repo, rotten_oid, Layout::V3, b"model weighs\n");
        // A DVC 2 object is named by its dos2unix hash: sound.
        let crlf = b"a\r\nb\r\n";
        let legacy_oid = Oid::file(md5_bytes(b"a\nb\n"));
        put(&repo, legacy_oid, Layout::Legacy, crlf);
        // A manifest whose bytes match its name but are no manifest.
        let junk = b"{not json";
        let bad_dir = Oid::dir(md5_bytes(junk));
        put(&repo, bad_dir, Layout::V3, junk);
        // A sound manifest that lists the rotten file, used by `data`.
        let listing = format!(
            r#"[{{"md5": "{}", "relpath": "sub/w.bin"}}]"#,
            rotten_oid.md5
        );
        let dir_oid = Oid::dir(md5_bytes(listing.as_bytes()));
        put(&repo, dir_oid, Layout::V3, listing.as_bytes());
        fs::write(
            dir.path().join("data.dvc"),
            format!("outs:\n- md5: {dir_oid}\n  hash: md5\n  path: data\n"),
        )
        .unwrap();
        // Not objects: left alone.
        fs::write(repo.odb().layout_root(Layout::V3).join("README"), "x").unwrap();

        let r = check(&repo, false, &NoProgress).unwrap();
        assert_eq!(r.checked, 5);
        let found: Vec<(&Path, &Problem)> = r
            .corrupted
            .iter()
            .map(|c| (c.path.as_path(), &c.problem))
            .collect();
        assert_eq!(found.len(), 2, "{found:?}");
        let rot = r.corrupted.iter().find(|c| c.path == rotten).unwrap();
        assert_eq!(
            rot.problem,
            Problem::Hash {
                actual: md5_bytes(b"model weighs\n")
            }
        );
        assert_eq!(rot.used_by, vec!["data/sub/w.bin".to_string()]);
        let manifest = r.corrupted.iter().find(|c| c.oid == bad_dir).unwrap();
        assert!(matches!(manifest.problem, Problem::Manifest(_)));
        assert!(r.corrupted.iter().all(|c| c.moved_to.is_none()));
        assert!(rotten.exists(), "a plain check moved something");

        let r = check(&repo, true, &NoProgress).unwrap();
        assert_eq!(r.corrupted.len(), 2);
        let moved = r.corrupted.iter().find(|c| c.path == rotten).unwrap();
        let to = moved.moved_to.as_ref().unwrap();
        assert!(!rotten.exists());
        assert_eq!(
            fs::read(to).unwrap(),
            b"model weighs\n",
            "quarantine keeps bytes"
        );
        assert!(to.starts_with(repo.odb().root().join(QUARANTINE)));
        assert!(good.exists());

        let r = check(&repo, false, &NoProgress).unwrap();
        assert_eq!((r.checked, r.corrupted.len()), (3, 0));
    }

    #[test]
    fn a_name_in_the_quarantine_is_never_replaced() {
        let d = tempfile::tempdir().unwrap();
        let into = d.path().join("q");
        let oid = Oid::file(md5_bytes(b"x"));
        let mut moved = Vec::new();
        for content in ["first", "second", "third"] {
            let p = d.path().join(content);
            fs::write(&p, content).unwrap();
            moved.push(move_aside(&p, &into, &oid).unwrap());
            assert!(!p.exists());
        }
        assert_eq!(moved[0], into.join(oid.to_string()));
        assert_eq!(moved[2], into.join(format!("{oid}.2")));
        let kept: Vec<String> = moved
            .iter()
            .map(|p| fs::read_to_string(p).unwrap())
            .collect();
        assert_eq!(kept, ["first", "second", "third"]);
    }
}
