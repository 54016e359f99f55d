//! `add`: hash a file or directory, save it to the cache, write its `.dvc`
//! file and `.gitignore` entry.
//!
//! Order of effects, so that a failure or a kill at any point loses nothing:
//! 1. every check (inside the repo, not ignored, not tracked by Git, not a
//!    pipeline output, no overlap) runs before anything is written;
//! 2. content goes to the cache (hashed as it is copied; objects appear
//!    atomically) and the cache is made durable with one `syncfs` (large
//!    files adopted into the cache are made durable one by one instead;
//!    background flushes start the disk writes of a large batch early, see
//!    [`strix_fs::EarlyFlush`]);
//! 3. only then is the `.dvc` file written (atomically), and workspace files
//!    are replaced by links (protected link types) or symlinks by copies;
//! 4. `.gitignore` is updated last.

use crate::checkout::{LinkMode, link_output};
use crate::error::{RepoError, Result};
use crate::index::{DvcFileRef, load_all, load_dvcfile, pipeline_outputs};
use crate::outputs::{kind_of, measure, recorded_oid};
use crate::repo::Repo;
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{Adoption, HashKind, Layout, Progress};
use strix_dvcfile::Output;

/// Options of `add`.
#[derive(Debug, Default, Clone)]
pub struct AddOptions {
    /// Write the `.dvc` file but put nothing in the cache.
    pub no_commit: bool,
    /// `-o`: copy the (possibly external) target to this path in the repo.
    pub out: Option<PathBuf>,
    /// `--force`: with `-o`, overwrite an existing destination.
    pub force: bool,
    /// `--no-relink`: leave the workspace files as they are: copied into
    /// the cache, never adopted, and not replaced by links.
    pub no_relink: bool,
}

/// What `add` did for one target.
#[derive(Debug)]
pub struct Added {
    pub dvcfile: PathBuf,
    pub out: PathBuf,
    /// Whether the `.dvc` file changed.
    pub changed: bool,
    /// `.gitignore` files that were modified.
    pub gitignores: Vec<PathBuf>,
}

fn dvcfile_for(out: &Path) -> PathBuf {
    let mut s = out.as_os_str().to_os_string();
    s.push(".dvc");
    PathBuf::from(s)
}

/// What new targets are checked against: every `.dvc` file and every
/// pipeline stage's outputs, read once per command (not once per target:
/// `add` of a thousand files would read them all a thousand times).
pub(crate) struct Tracked {
    dvcfiles: Vec<DvcFileRef>,
    /// (output, stage name, `dvc.yaml`)
    pipeline_outs: Vec<(PathBuf, String, PathBuf)>,
}

impl Tracked {
    pub(crate) fn load(repo: &Repo) -> Result<Self> {
        Ok(Self {
            dvcfiles: load_all(repo)?,
            pipeline_outs: pipeline_outputs(repo)?,
        })
    }
}

/// Refuses targets DVC refuses. `abs` must already be inside the repo.
pub(crate) fn check_target(repo: &Repo, abs: &Path, tracked: &Tracked) -> Result<()> {
    check_target_name(repo, abs)?;
    let rel = repo.rel(abs);
    if let Some(git) = repo.git() {
        let git_rel = abs.strip_prefix(git.workdir()).unwrap_or(abs);
        if git
            .is_tracked(git_rel)
            .map_err(crate::error::GitError::from)?
        {
            return Err(RepoError::TrackedByGit(rel));
        }
    }
    for (p, stage, dvcfile) in &tracked.pipeline_outs {
        if p == abs || abs.starts_with(p) || p.starts_with(abs) {
            return Err(RepoError::PipelineOutput {
                path: rel,
                stage: stage.clone(),
                dvcfile: repo.rel(dvcfile),
            });
        }
    }
    let own = dvcfile_for(abs);
    for d in &tracked.dvcfiles {
        if d.path == own {
            continue;
        }
        for o in &d.file.outs {
            let p = d.out_path(repo, o)?;
            if p == abs || abs.starts_with(&p) || p.starts_with(abs) {
                return Err(RepoError::Overlap {
                    path: rel,
                    other: repo.rel(&p),
                    dvcfile: repo.rel(&d.path),
                });
            }
        }
    }
    Ok(())
}

/// Adds each target. Targets are absolute paths inside the repository
/// (already resolved by the caller), or with `opts.out` one external path.
pub fn add(
    repo: &Repo,
    targets: &[PathBuf],
    opts: &AddOptions,
    progress: &dyn Progress,
) -> Result<Vec<Added>> {
    let tracked = Tracked::load(repo)?;
    // All checks first: nothing is written if any target is refused.
    let mut plan = Vec::new();
    let mut inside = Vec::new();
    for t in targets {
        if std::fs::symlink_metadata(t).is_err() {
            return Err(RepoError::NotFound(t.clone()));
        }
        let dest = match &opts.out {
            Some(o) => out_path(repo, t.file_name(), o, opts.force)?,
            None => t.clone(),
        };
        // A path inside a tracked directory updates that directory (DVC 3).
        if opts.out.is_none()
            && !opts.no_commit
            && let Some((owner, out, _)) =
                crate::index::output_containing(repo, &tracked.dvcfiles, &dest)?
        {
            check_target_name(repo, &dest)?;
            inside.push((dest, owner, out.clone()));
            continue;
        }
        check_target(repo, &dest, &tracked)?;
        plan.push((t.clone(), dest));
    }
    // Targets that overlap each other are refused, as DVC refuses them.
    for (i, (_, a)) in plan.iter().enumerate() {
        for (_, b) in &plan[i + 1..] {
            let (outer, inner) = if b.starts_with(a) { (a, b) } else { (b, a) };
            if inner.starts_with(outer) {
                return Err(RepoError::Overlap {
                    path: repo.rel(outer),
                    other: repo.rel(inner),
                    dvcfile: repo.rel(&dvcfile_for(inner)),
                });
            }
        }
    }
    // Targets inside the same directory output update it together.
    let mut added = Vec::new();
    let mut groups: Vec<(&DvcFileRef, Output, Vec<PathBuf>)> = Vec::new();
    for (dest, owner, out) in inside {
        match groups
            .iter_mut()
            .find(|(o, prev, _)| o.path == owner.path && prev.path == out.path)
        {
            Some((_, _, targets)) => targets.push(dest),
            None => groups.push((owner, out, vec![dest])),
        }
    }
    for (owner, out, targets) in groups {
        added.push(add_inside(repo, &targets, owner, &out, progress)?);
    }
    added.extend(add_planned(repo, &plan, opts, progress)?);
    Ok(added)
}

/// `add URL -o OUT`: the data at a URL (see [`crate::url_target`]),
/// downloaded and added as `OUT` (into it if it is a folder), with up to
/// `jobs` downloads at once.
pub fn add_url(
    repo: &Repo,
    url: &str,
    out: &Path,
    opts: &AddOptions,
    jobs: Option<usize>,
    progress: &dyn Progress,
) -> Result<Vec<Added>, crate::transfer::SyncError> {
    let name = crate::url_target::url_name(url).map(std::ffi::OsStr::new);
    let dest = out_path(repo, name, out, opts.force)?;
    check_target(repo, &dest, &Tracked::load(repo)?)?;
    let fetched = crate::url_target::fetch(repo, url, jobs, progress)?;
    // The download is a source outside the workspace, as `-o` reads.
    let opts = AddOptions {
        out: Some(dest.clone()),
        ..opts.clone()
    };
    let plan = [(fetched.path().to_path_buf(), dest)];
    Ok(add_planned(repo, &plan, &opts, progress)?)
}

/// Adds each `(source, output)` pair, checked already.
fn add_planned(
    repo: &Repo,
    plan: &[(PathBuf, PathBuf)],
    opts: &AddOptions,
    progress: &dyn Progress,
) -> Result<Vec<Added>> {
    // The metafiles will point at the saved objects: one flush for all
    // targets makes them durable first.
    repo.save_then_record(
        plan,
        !opts.no_commit,
        |(src, dest)| save_one(repo, src, dest, opts, progress),
        |s| record_one(repo, s, opts, progress),
    )
}

/// Where `-o out` puts the target `src`, as DVC's `resolve_output`: into
/// `out` if that is an existing folder, else at `out`; an existing
/// destination needs `force`.
pub fn out_path(
    repo: &Repo,
    name: Option<&std::ffi::OsStr>,
    out: &Path,
    force: bool,
) -> Result<PathBuf> {
    let dest = match name {
        Some(name) if out.is_dir() => out.join(name),
        _ => out.to_path_buf(),
    };
    if !force && std::fs::symlink_metadata(&dest).is_ok() {
        return Err(RepoError::ExistsLocally {
            path: repo.rel(&dest),
            is_dir: dest.is_dir(),
        });
    }
    Ok(dest)
}

/// The `.dvc` file of the output `dest` and what it records now.
pub(crate) struct Entry {
    pub dvcpath: PathBuf,
    /// The file as it is, if it exists.
    pub existing: Option<DvcFileRef>,
    /// The output's name (its path in the file).
    pub name: String,
    /// Its current entry, if any.
    pub prev: Option<Output>,
}

impl Entry {
    pub(crate) fn of(repo: &Repo, dest: &Path) -> Result<Self> {
        let dvcpath = dvcfile_for(dest);
        let existing = if dvcpath.is_file() {
            Some(load_dvcfile(repo, &dvcpath)?)
        } else {
            None
        };
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let prev = existing
            .as_ref()
            .and_then(|e| e.file.outs.iter().find(|o| o.path == name).cloned());
        Ok(Self {
            dvcpath,
            existing,
            name,
            prev,
        })
    }
}

/// Records `m` as the output `name` of the `.dvc` file `dvcpath` (whose
/// current content is `existing`; `prev` is its entry for `name`), keeping
/// its other entries, comments and order. Returns the entry and whether
/// the file changed.
pub(crate) fn record(
    dvcpath: &Path,
    existing: Option<&DvcFileRef>,
    prev: Option<Output>,
    name: &str,
    m: &crate::outputs::Measured,
) -> Result<(Output, bool)> {
    let mut out = prev.unwrap_or_else(|| Output::new(name.to_string()));
    out.md5 = Some(m.oid.to_string());
    out.size = Some(m.size);
    out.nfiles = m.nfiles;
    out.isexec = m.tree.is_none() && m.isexec;
    out.hash = Some("md5".to_string());
    let changed = write_output(dvcpath, existing, name, &out)?;
    Ok((out, changed))
}

/// Writes `out` as the entry `name` of the `.dvc` file `dvcpath` (whose
/// current content is `existing`), keeping its other entries, comments and
/// order; returns whether the file changed.
fn write_output(
    dvcpath: &Path,
    existing: Option<&DvcFileRef>,
    name: &str,
    out: &Output,
) -> Result<bool> {
    let mut file = existing.map(|e| e.file.clone()).unwrap_or_default();
    match file.outs.iter_mut().find(|o| o.path == name) {
        Some(slot) => *slot = out.clone(),
        None => file.outs.push(out.clone()),
    }
    let text = match existing {
        Some(e) => strix_dvcfile::update_text(&e.text, &file).map_err(|source| {
            RepoError::MetafileUpdate {
                path: dvcpath.to_path_buf(),
                source: Box::new(source),
            }
        })?,
        None => file.to_yaml(),
    };
    let changed = existing.is_none_or(|e| e.text != text);
    if changed {
        strix_fs::atomic_write(dvcpath, text.as_bytes()).map_err(|source| RepoError::Write {
            path: dvcpath.to_path_buf(),
            source,
        })?;
    }
    Ok(changed)
}

/// One target of [`add`] after its data went to the cache.
enum Saved {
    /// Nothing to record (an unchanged legacy entry, kept as it is).
    Done(Added),
    Measured(Box<Measured>),
}

/// A target whose data is in the cache, and what its `.dvc` file is now.
struct Measured {
    dest: PathBuf,
    entry: Entry,
    m: crate::outputs::Measured,
}

/// Hashes one target and saves its data to the cache (not flushed yet).
fn save_one(
    repo: &Repo,
    src: &Path,
    dest: &Path,
    opts: &AddOptions,
    progress: &dyn Progress,
) -> Result<Saved> {
    let entry = Entry::of(repo, dest)?;

    // DVC keeps an unchanged legacy entry as it is.
    if let Some(prev) = &entry.prev
        && kind_of(prev) == HashKind::Md5Dos2Unix
        && let Some(m) = measure(repo, src, HashKind::Md5Dos2Unix, Save::HashOnly, progress)?
        && Some(m.oid) == recorded_oid(prev)
    {
        return Ok(Saved::Done(Added {
            dvcfile: entry.dvcpath,
            out: dest.to_path_buf(),
            changed: false,
            gitignores: ensure_gitignore(repo, dest, m.tree.is_some())?,
        }));
    }

    // `-o` reads a source outside the workspace: never adopt its inode (a
    // copy is all DVC promises there); `--no-relink` leaves every workspace
    // file the inode it is. Clones share the pending-sync flag.
    let copying_odb = repo.odb().clone().adopting(Adoption::No);
    let save = if opts.no_commit {
        Save::HashOnly
    } else if opts.out.is_some() || opts.no_relink {
        Save::ToCache(&copying_odb)
    } else {
        Save::ToCache(repo.odb())
    };
    let m = measure(repo, src, HashKind::Md5, save, progress)?
        .ok_or_else(|| RepoError::NotFound(src.to_path_buf()))?;
    Ok(Saved::Measured(Box::new(Measured {
        dest: dest.to_path_buf(),
        entry,
        m,
    })))
}

/// Writes one target's `.dvc` file, links its workspace copy and ignores
/// it in Git; its data is durable in the cache by now.
fn record_one(
    repo: &Repo,
    saved: Saved,
    opts: &AddOptions,
    progress: &dyn Progress,
) -> Result<Added> {
    let Measured { dest, entry, m } = match saved {
        Saved::Done(added) => return Ok(added),
        Saved::Measured(measured) => *measured,
    };
    let Entry {
        dvcpath,
        existing,
        name,
        prev: prev_out,
    } = entry;
    let dest = dest.as_path();

    let (out, changed) = record(&dvcpath, existing.as_ref(), prev_out, &name, &m)?;

    // Workspace links: data for `-o`, protected links, symlinks → copies.
    if !opts.no_commit && (!opts.no_relink || opts.out.is_some()) {
        let needs_symlink_fix =
            m.is_symlink || m.tree.as_ref().is_some_and(|t| !t.symlinks.is_empty());
        let protected = repo
            .settings()
            .link_types
            .first()
            .is_some_and(|l| l.is_protected());
        if opts.out.is_some() || protected || needs_symlink_fix {
            let mode = if opts.out.is_some() {
                LinkMode::ForceRelink
            } else {
                LinkMode::Relink
            };
            link_output(repo, dest, &out, mode, progress)?;
        }
    }
    let gitignores = if out.cache {
        ensure_gitignore(repo, dest, m.tree.is_some())?
    } else {
        Vec::new()
    };
    Ok(Added {
        dvcfile: dvcpath,
        out: dest.to_path_buf(),
        changed,
        gitignores,
    })
}

/// Adds `/name` to the `.gitignore` beside `out`, unless Git already ignores
/// it or there is no Git.
pub fn ensure_gitignore(repo: &Repo, out: &Path, is_dir: bool) -> Result<Vec<PathBuf>> {
    ensure_gitignore_before(repo, out, is_dir, &[])
}

/// [`ensure_gitignore`], writing the line before the lines of `before`
/// (names in the same directory) when the file has them: `repro -j` keeps
/// the order of a serial run this way.
pub fn ensure_gitignore_before(
    repo: &Repo,
    out: &Path,
    is_dir: bool,
    before: &[String],
) -> Result<Vec<PathBuf>> {
    let Some(git) = repo.git() else {
        return Ok(Vec::new());
    };
    let rel = out.strip_prefix(git.workdir()).unwrap_or(out);
    if git
        .is_ignored(rel, is_dir)
        .map_err(crate::error::GitError::from)?
    {
        return Ok(Vec::new());
    }
    let dir = out.parent().unwrap_or(repo.root());
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    strix_git::gitignore::add_entry_before(dir, &name, before)
        .map_err(crate::error::GitError::from)?;
    Ok(vec![dir.join(".gitignore")])
}

/// The checks of [`check_target`] that need only the path: nothing inside
/// `.dvc`, `.git` or `.hg`, and no metafile as an output.
fn check_target_name(repo: &Repo, abs: &Path) -> Result<()> {
    let rel = repo.rel(abs);
    for comp in rel.split('/') {
        if matches!(comp, ".dvc" | ".git" | ".hg") {
            // DVC's default ignore patterns, as its message names them.
            let rule = if comp == ".git" {
                ":.git".to_string()
            } else {
                format!(":{comp}/")
            };
            return Err(RepoError::Ignored {
                path: abs.to_path_buf(),
                rule,
            });
        }
    }
    // A metafile tracking itself (what `add 'dir/*' --glob` would do).
    let name = abs.file_name().map(|n| n.to_string_lossy().into_owned());
    if let Some(name) = name.filter(|n| n.ends_with(".dvc") || n == "dvc.yaml") {
        return Err(RepoError::OutputIsDvcFile(name));
    }
    Ok(())
}

/// `add dir/file` where `dir` is a tracked directory: as DVC 3, only those
/// files (or folders) change in the directory's manifest; the rest stays as
/// recorded. The entry loses its `size` (DVC drops it: the manifest does
/// not tell the other files' sizes) and gets the new `nfiles`.
fn add_inside(
    repo: &Repo,
    targets: &[PathBuf],
    owner: &DvcFileRef,
    out: &Output,
    progress: &dyn Progress,
) -> Result<Added> {
    let dir = owner.out_path(repo, out)?;
    let overlap = || RepoError::Overlap {
        path: repo.rel(&targets[0]),
        other: repo.rel(&dir),
        dvcfile: repo.rel(&owner.path),
    };
    let Some(oid) = recorded_oid(out).filter(|o| o.is_dir) else {
        return Err(overlap());
    };
    if kind_of(out) != HashKind::Md5 {
        // A DVC 2 entry: its manifest hashes are not DVC 3's.
        return Err(overlap());
    }
    let manifest = repo
        .odb()
        .read_manifest(&oid, Layout::V3)
        .map_err(|source| RepoError::Manifest {
            path: dir.clone(),
            source,
        })?;
    let mut entries: Vec<strix_data::Entry> = manifest.entries().to_vec();
    for target in targets {
        let rel = target
            .strip_prefix(&dir)
            .ok()
            .and_then(|r| r.to_str())
            .map(str::to_owned)
            .ok_or_else(|| {
                RepoError::BadTarget(repo.rel(target), "not a UTF-8 path inside its output")
            })?;
        let m = measure(
            repo,
            target,
            HashKind::Md5,
            Save::ToCache(repo.odb()),
            progress,
        )?
        .ok_or_else(|| RepoError::NotFound(target.to_path_buf()))?;
        let below = format!("{rel}/");
        entries.retain(|e| e.relpath != rel && !e.relpath.starts_with(&below));
        match &m.tree {
            Some(t) => entries.extend(t.manifest.entries().iter().map(|e| strix_data::Entry {
                relpath: format!("{below}{}", e.relpath),
                md5: e.md5,
            })),
            None => entries.push(strix_data::Entry {
                relpath: rel,
                md5: m.oid.md5,
            }),
        }
    }
    let updated = strix_data::Manifest::from_entries(entries);
    let (bytes, dir_oid) = updated.to_bytes_with_oid();
    repo.odb()
        .put_bytes(&dir_oid, Layout::V3, &bytes)
        .map_err(|e| RepoError::Write {
            path: repo.odb().path(&dir_oid, Layout::V3),
            source: std::io::Error::other(e),
        })?;
    // The new objects are durable before the `.dvc` file names them.
    repo.odb().sync().map_err(|source| RepoError::Write {
        path: repo.odb().root().to_path_buf(),
        source,
    })?;
    let mut new_out = out.clone();
    new_out.md5 = Some(dir_oid.to_string());
    new_out.size = None;
    new_out.nfiles = Some(updated.len() as u64);
    let changed = write_output(&owner.path, Some(owner), &out.path, &new_out)?;
    Ok(Added {
        dvcfile: owner.path.clone(),
        out: dir,
        changed,
        gitignores: Vec::new(),
    })
}
