//! Which Git revisions a command looks at (`-a`, `-T`, `-A`, `--rev`,
//! `-n`), and the outputs recorded by the `.dvc` files and `dvc.lock` files
//! of the workspace and of those revisions: what `gc` keeps and what
//! `push`/`fetch`/`pull`/`status -c` transfer with a revision scope.
//!
//! The selection follows DVC's `iter_revs`: `--rev R -n N` gives `R`,
//! `R~1` … `R~(N-1)`; `-a` gives every local branch (with `-n`, the last
//! `N` commits of each); `-T` every tag; `-A` every commit reachable from
//! `HEAD`, the branches, remote-tracking branches and tags. The workspace
//! is always included too, as DVC's brancher does.

use crate::error::RepoError;
use crate::index::load_all;
use crate::outputs::{kind_of, recorded_oid};
use crate::repo::{Repo, normalize};
use crate::transfer::UsedOut;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use strix_data::{Layout, Oid};
use strix_dvcfile::{DvcFile, LockFile, OutKind, Pipeline};
use strix_remote::ObjectRef;

/// The revisions selected on the command line.
#[derive(Debug, Clone, Default)]
pub struct RevScope {
    /// `-a`: the tips of all local branches.
    pub all_branches: bool,
    /// `-T`: all tags.
    pub all_tags: bool,
    /// `-A`: all commits.
    pub all_commits: bool,
    /// `--rev`: these revisions.
    pub revs: Vec<String>,
    /// `-n`: how many commits to take from each `--rev` (and each branch
    /// with `-a`), walking first parents; `None` means 1.
    pub num: Option<usize>,
    /// `--date`: every commit made at this time (Unix seconds) or later.
    pub since: Option<i64>,
    /// `--all-experiments`: the commits of DVC's experiments.
    pub all_experiments: bool,
}

impl RevScope {
    /// Whether no revision is selected (only the workspace).
    pub fn is_empty(&self) -> bool {
        !self.all_branches
            && !self.all_tags
            && !self.all_commits
            && self.revs.is_empty()
            && self.since.is_none()
            && !self.all_experiments
    }
}

/// Why revisions or their metafiles could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RevError {
    /// Revisions were asked for outside a Git repository.
    #[error("selecting Git revisions (-a, -T, -A, --rev) needs a Git repository")]
    NoGit,
    /// Listing branches, tags or commits failed.
    #[error(transparent)]
    Refs(#[from] strix_git::RefsError),
    /// Resolving a revision or reading its tree failed.
    #[error(transparent)]
    Revision(#[from] strix_git::RevisionError),
    /// A `.dvc` file or `dvc.lock` of a revision is invalid.
    #[error("'{path}' is invalid")]
    Metafile {
        /// `<rev>:<path>`.
        path: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A workspace metafile could not be read.
    #[error(transparent)]
    Repo(#[from] RepoError),
}

/// One selected commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// Full hex id.
    pub sha: String,
    /// The names it was selected by (branch, tag, `--rev` argument, id).
    pub names: Vec<String>,
}

/// Resolves a scope to distinct commits, in the order DVC lists them.
pub fn select(repo: &Repo, scope: &RevScope) -> Result<Vec<Revision>, RevError> {
    if scope.is_empty() {
        return Ok(Vec::new());
    }
    let git = repo.git().ok_or(RevError::NoGit)?;
    let num = scope.num.unwrap_or(1);
    let mut names: Vec<String> = Vec::new();
    let n_commits = |revs: &[String], names: &mut Vec<String>| -> Result<(), RevError> {
        for rev in revs {
            if num == 0 {
                continue;
            }
            // The revision itself must exist; older commits may run out.
            git.resolve_rev(rev)?;
            names.push(rev.clone());
            for n in 1..num {
                match git.resolve_rev(&format!("{rev}~{n}")) {
                    Ok(sha) => names.push(sha),
                    Err(_) => break,
                }
            }
        }
        Ok(())
    };
    n_commits(&scope.revs, &mut names)?;
    if scope.all_commits {
        names.extend(git.all_commits()?);
    } else {
        if scope.all_branches {
            n_commits(&git.list_branches()?, &mut names)?;
        }
        if scope.all_tags {
            names.extend(git.list_tags()?);
        }
    }
    if let Some(since) = scope.since {
        names.extend(git.commits_since(since)?);
    }
    if scope.all_experiments {
        names.extend(git.exp_commits()?);
    }
    let mut out: Vec<Revision> = Vec::new();
    for name in names {
        let sha = git.resolve_rev(&name)?;
        match out.iter_mut().find(|r| r.sha == sha) {
            Some(r) => {
                if !r.names.contains(&name) {
                    r.names.push(name);
                }
            }
            None => out.push(Revision {
                sha,
                names: vec![name],
            }),
        }
    }
    Ok(out)
}

/// An output recorded by a `.dvc` file or a `dvc.lock`, with cached data.
#[derive(Debug, Clone)]
pub struct RecordedOut {
    /// The revision it was read at (`None`: the workspace).
    pub rev: Option<String>,
    /// Repo-relative path of the metafile that records it.
    pub metafile: String,
    /// Repo-relative path of the output.
    pub path: String,
    /// Its object.
    pub obj: ObjectRef,
    /// `cache:` (from the `.dvc` file, or the stage in `dvc.yaml`).
    pub cache: bool,
    /// `push:` (from the `.dvc` file, or the stage in `dvc.yaml`).
    pub push: bool,
    /// `remote:` (from the `.dvc` file, or the stage in `dvc.yaml`).
    pub remote: Option<String>,
    /// Its recorded size.
    pub size: Option<u64>,
    /// Where the stage declares it (`.dvc` outputs: [`OutKind::Out`]).
    pub kind: OutKind,
    /// Whether the file has an exec bit recorded.
    pub isexec: bool,
    /// The stage that records it (`dvc.lock` outputs only).
    pub stage: Option<String>,
}

impl RecordedOut {
    /// The output as a `.dvc`-style entry (what checkout links).
    pub fn output(&self) -> strix_dvcfile::Output {
        let mut o = strix_dvcfile::Output::new(self.path.clone());
        o.md5 = Some(self.obj.oid.to_string());
        if self.obj.layout == Layout::Legacy {
            o.hash = None;
        }
        o.isexec = self.isexec;
        o.cache = self.cache;
        o.push = self.push;
        o.remote = self.remote.clone();
        o
    }

    /// `path` at `rev`, for messages.
    pub fn describe(&self) -> String {
        match &self.rev {
            Some(r) => format!("{} (at {})", self.path, short(r)),
            None => self.path.clone(),
        }
    }
}

fn short(rev: &str) -> &str {
    if rev.len() == 40 && rev.bytes().all(|b| b.is_ascii_hexdigit()) {
        &rev[..7]
    } else {
        rev
    }
}

fn rel_string(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn dvc_outs(rev: Option<&str>, rel: &str, file: &DvcFile, out: &mut Vec<RecordedOut>) {
    let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
    let base = match file.wdir.as_deref() {
        Some(w) if w != "." => normalize(&dir.join(w)),
        _ => dir.to_path_buf(),
    };
    for o in &file.outs {
        let Some(oid) = recorded_oid(o) else { continue };
        out.push(RecordedOut {
            rev: rev.map(str::to_owned),
            metafile: rel.to_owned(),
            path: rel_string(&normalize(&base.join(&o.path))),
            obj: ObjectRef {
                oid,
                layout: Layout::for_kind(kind_of(o)),
            },
            cache: o.cache,
            push: o.push,
            remote: o.remote.clone(),
            size: o.size,
            kind: OutKind::Out,
            isexec: o.isexec,
            stage: None,
        });
    }
}

/// The outputs of one `dvc.lock` (at `rel`), with `dvc.yaml`'s text (same
/// directory) for the stages' `wdir` and `cache` flags.
fn lock_outs(
    rev: Option<&str>,
    rel: &str,
    lock: &LockFile,
    yaml: Option<&str>,
    out: &mut Vec<RecordedOut>,
) {
    let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
    let pipeline = yaml.and_then(|t| Pipeline::parse(t, "dvc.yaml").ok());
    for stage in &lock.stages {
        let base_name = stage.name.split('@').next().unwrap_or(&stage.name);
        let def = pipeline.as_ref().and_then(|p| {
            p.stages
                .iter()
                .find(|s| s.name == stage.name)
                .or_else(|| p.stages.iter().find(|s| s.name == base_name))
        });
        let base = match def.and_then(|d| d.wdir.as_deref()) {
            Some(w) if w != "." => normalize(&dir.join(w)),
            _ => dir.to_path_buf(),
        };
        for e in &stage.outs {
            let Some(oid) = e.md5.as_deref().and_then(|s| s.parse::<Oid>().ok()) else {
                continue;
            };
            let declared = def.and_then(|d| d.outs.iter().find(|o| o.path == e.path));
            let cache = declared.is_none_or(|o| o.cache);
            out.push(RecordedOut {
                rev: rev.map(str::to_owned),
                metafile: rel.to_owned(),
                path: rel_string(&normalize(&base.join(&e.path))),
                obj: ObjectRef {
                    oid,
                    layout: if e.is_legacy() {
                        Layout::Legacy
                    } else {
                        Layout::V3
                    },
                },
                cache,
                push: declared.is_none_or(|o| o.push),
                remote: declared.and_then(|o| o.remote.clone()),
                size: e.size,
                kind: declared.map_or(OutKind::Out, |o| o.kind),
                isexec: e.isexec,
                stage: Some(stage.name.clone()),
            });
        }
    }
}

fn is_metafile(p: &str) -> bool {
    let name = p.rsplit('/').next().unwrap_or(p);
    (name.ends_with(".dvc") && name != ".dvc") || name == "dvc.lock" || name == "dvc.yaml"
}

/// The outputs recorded at a Git revision by its `.dvc` files and
/// `dvc.lock` files (paths relative to the DVC root).
pub fn outs_at_rev(repo: &Repo, rev: &str) -> Result<Vec<RecordedOut>, RevError> {
    let git = repo.git().ok_or(RevError::NoGit)?;
    let prefix = repo
        .root()
        .strip_prefix(git.workdir())
        .unwrap_or(Path::new(""))
        .to_path_buf();
    let files = git.walk_files_at(rev, &prefix, is_metafile)?;
    let files: Vec<(String, Vec<u8>)> = files
        .into_iter()
        .map(|(p, b)| {
            let rel = Path::new(&p)
                .strip_prefix(&prefix)
                .map(rel_string)
                .unwrap_or(p);
            (rel, b)
        })
        .collect();
    let mut out = Vec::new();
    for (rel, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        let name = format!("{}:{rel}", short(rev));
        if rel.ends_with(".dvc") {
            let file = DvcFile::parse(&text, &name).map_err(|e| RevError::Metafile {
                path: name.clone(),
                source: Box::new(e),
            })?;
            dvc_outs(Some(rev), rel, &file, &mut out);
        } else if rel == "dvc.lock" || rel.ends_with("/dvc.lock") {
            let lock = LockFile::parse(&text, &name).map_err(|e| RevError::Metafile {
                path: name.clone(),
                source: Box::new(e),
            })?;
            let yaml_rel = format!("{}dvc.yaml", &rel[..rel.len() - "dvc.lock".len()]);
            let yaml = files
                .iter()
                .find(|(p, _)| *p == yaml_rel)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned());
            lock_outs(Some(rev), rel, &lock, yaml.as_deref(), &mut out);
        }
    }
    Ok(out)
}

/// The outputs recorded by the workspace's `.dvc` files and `dvc.lock`
/// files.
pub fn outs_in_workspace(repo: &Repo) -> Result<Vec<RecordedOut>, RevError> {
    let mut out = Vec::new();
    for f in load_all(repo)? {
        let rel = repo.rel(&f.path);
        dvc_outs(None, &rel, &f.file, &mut out);
    }
    out.extend(lock_outs_in_workspace(repo)?);
    Ok(out)
}

/// The outputs recorded by the workspace's `dvc.lock` files (the pipeline
/// stages' outputs).
pub fn lock_outs_in_workspace(repo: &Repo) -> Result<Vec<RecordedOut>, RevError> {
    let mut out = Vec::new();
    for lock_path in crate::index::find_lockfiles(repo) {
        let rel = repo.rel(&lock_path);
        let text = std::fs::read_to_string(&lock_path).map_err(|source| RepoError::Read {
            path: lock_path.clone(),
            source,
        })?;
        let lock = LockFile::parse(&text, &rel).map_err(|e| RevError::Metafile {
            path: rel.clone(),
            source: Box::new(e),
        })?;
        let yaml = std::fs::read_to_string(lock_path.with_file_name("dvc.yaml")).ok();
        lock_outs(None, &rel, &lock, yaml.as_deref(), &mut out);
    }
    Ok(out)
}

/// The outputs of the workspace and of every revision in `scope`.
pub fn outs_in_scope(repo: &Repo, scope: &RevScope) -> Result<Vec<RecordedOut>, RevError> {
    let mut out = outs_in_workspace(repo)?;
    for rev in select(repo, scope)? {
        out.extend(outs_at_rev(repo, &rev.sha)?);
    }
    Ok(out)
}

/// The user's targets as repo-relative paths (for [`matches_target`]).
pub fn repo_rel_targets(repo: &Repo, cwd: &Path, targets: &[PathBuf]) -> Vec<String> {
    targets
        .iter()
        .map(|t| {
            let abs = normalize(&if t.is_absolute() {
                t.clone()
            } else {
                cwd.join(t)
            });
            repo.rel(&abs)
        })
        .collect()
}

/// Whether a recorded output matches one of the user's targets (given as
/// repo-relative paths): the output, a path inside it, a directory around
/// it, or its metafile; for a stage's output also the stage, as DVC names
/// it (`dir/name`, `dir/dvc.yaml:name`, a `foreach` group's `name` for
/// all its `name@key` stages, or the `dvc.yaml` for all its stages).
pub fn matches_target(o: &RecordedOut, targets: &[String]) -> bool {
    if targets.is_empty() {
        return true;
    }
    let under = |a: &str, b: &str| b.is_empty() || a == b || a.starts_with(&format!("{b}/"));
    targets.iter().any(|t| {
        under(&o.path, t)
            || under(t, &o.path)
            || under(&o.metafile, t)
            || o.metafile == format!("{t}.dvc")
            || names_stage(o, t)
    })
}

/// Whether the target `t` names the stage that records `o`.
fn names_stage(o: &RecordedOut, t: &str) -> bool {
    let Some(stage) = &o.stage else {
        return false;
    };
    let lock_of = |yaml: &str| -> Option<String> {
        let dir = yaml.strip_suffix("dvc.yaml")?;
        (dir.is_empty() || dir.ends_with('/')).then(|| format!("{dir}dvc.lock"))
    };
    let (lock, name) = match t.rsplit_once(':') {
        Some((file, name)) => (lock_of(file), Some(name)),
        None if lock_of(t).is_some() => (lock_of(t), None),
        None => match t.rsplit_once('/') {
            Some((dir, name)) => (Some(format!("{dir}/dvc.lock")), Some(name)),
            None => (Some("dvc.lock".to_string()), Some(t)),
        },
    };
    if lock.as_deref() != Some(o.metafile.as_str()) {
        return false;
    }
    name.is_none_or(|n| stage == n || stage.split_once('@').is_some_and(|(group, _)| group == n))
}

/// The `.dvc` files the targets name (all of them without targets). A
/// target that names no `.dvc` file must match one of `recorded` (the
/// stages' outputs, see [`matches_target`]), or it is not tracked.
pub fn resolve_with_stages(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    recorded: &[RecordedOut],
) -> Result<Vec<crate::index::DvcFileRef>, RepoError> {
    if targets.is_empty() {
        return crate::index::resolve_targets(repo, cwd, targets);
    }
    let mut files: Vec<crate::index::DvcFileRef> = Vec::new();
    for t in targets {
        let one = std::slice::from_ref(t);
        match crate::index::resolve_targets(repo, cwd, one) {
            Ok(found) => {
                for f in found {
                    if !files.iter().any(|g| g.path == f.path) {
                        files.push(f);
                    }
                }
            }
            Err(RepoError::NotTracked(name)) => {
                let rel = repo_rel_targets(repo, cwd, one);
                if !recorded.iter().any(|o| matches_target(o, &rel)) {
                    return Err(RepoError::NotTracked(name));
                }
            }
            Err(e) => return Err(e),
        }
    }
    Ok(files)
}

/// The outputs a transfer concerns with a revision scope: the workspace's
/// (`.dvc` files, honouring `targets` as [`crate::transfer::used_outs`]
/// does) plus the `dvc.lock` outputs of the workspace and the outputs of
/// every selected revision matching `targets`. Outputs without cache (and,
/// with `for_push`, those with `push: false`) are left out; each object
/// appears once.
pub fn used_outs_in_scope(
    repo: &Repo,
    cwd: &Path,
    targets: &[PathBuf],
    for_push: bool,
    scope: &RevScope,
) -> Result<Vec<UsedOut>, RevError> {
    let mut extra: Vec<RecordedOut> = lock_outs_in_workspace(repo)?;
    for rev in select(repo, scope)? {
        extra.extend(outs_at_rev(repo, &rev.sha)?);
    }
    let files = resolve_with_stages(repo, cwd, targets, &extra)?;
    let mut result = crate::transfer::outs_of(repo, &files, for_push)?;
    let mut seen: HashSet<ObjectRef> = result.iter().map(|o| o.obj).collect();
    let rel_targets = repo_rel_targets(repo, cwd, targets);
    for o in extra {
        if !o.cache || (for_push && !o.push) || !matches_target(&o, &rel_targets) {
            continue;
        }
        if seen.insert(o.obj) {
            result.push(UsedOut {
                path: repo.root().join(&o.path),
                obj: o.obj,
                remote: o.remote,
                size: o.size,
                kind: o.kind,
            });
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(path: &str, metafile: &str) -> RecordedOut {
        RecordedOut {
            rev: None,
            metafile: metafile.into(),
            path: path.into(),
            obj: ObjectRef::v3(Oid::file(strix_data::Md5([0; 16]))),
            cache: true,
            push: true,
            remote: None,
            size: None,
            kind: OutKind::Out,
            isexec: false,
            stage: None,
        }
    }

    #[test]
    fn targets_match_outputs_inside_and_around() {
        let o = rec("data/raw", "data/raw.dvc");
        assert!(matches_target(&o, &[]));
        assert!(matches_target(&o, &["data/raw".into()]));
        assert!(matches_target(&o, &["data".into()]));
        assert!(matches_target(&o, &["data/raw/x.csv".into()]));
        assert!(matches_target(&o, &["data/raw.dvc".into()]));
        assert!(!matches_target(&o, &["data/rawer".into()]));
        assert!(!matches_target(&o, &["model".into()]));
    }

    #[test]
    fn metafile_names() {
        assert!(is_metafile("a.dvc"));
        assert!(is_metafile("sub/dvc.lock"));
        assert!(is_metafile("dvc.yaml"));
        assert!(!is_metafile(".dvc"));
        assert!(!is_metafile(".dvcignore"));
        assert!(!is_metafile("x/mydvc.lock"));
    }

    #[test]
    fn targets_match_the_stages_that_record_outputs() {
        let mut o = rec("sub/model.pkl", "sub/dvc.lock");
        o.stage = Some("train@1".into());
        for t in [
            "sub/train@1",
            "sub/train",
            "sub/dvc.yaml:train@1",
            "sub/dvc.yaml",
            "sub/model.pkl",
        ] {
            assert!(matches_target(&o, &[t.into()]), "{t}");
        }
        for t in [
            "train",
            "dvc.yaml:train",
            "sub/tr",
            "sub/dvc.yaml:other",
            "sub/other",
            "dvc.yaml",
            "sub/xdvc.yaml",
        ] {
            assert!(!matches_target(&o, &[t.into()]), "{t}");
        }
        // A `.dvc` output has no stage.
        assert!(!matches_target(
            &rec("model.pkl", "model.pkl.dvc"),
            &["train".into()]
        ));
    }

    #[test]
    fn lock_outputs_use_wdir_and_cache_flags() {
        let lock = LockFile::parse(
            "schema: '2.0'\nstages:\n  train:\n    cmd: t\n    outs:\n    - path: model\n      hash: md5\n      md5: 574ce59dadc4777328d343a68af68b97.dir\n      size: 9\n      nfiles: 1\n    - path: m.json\n      hash: md5\n      md5: 574ce59dadc4777328d343a68af68b97\n      size: 9\n",
            "dvc.lock",
        )
        .unwrap();
        let yaml = "stages:\n  train:\n    cmd: t\n    wdir: sub\n    outs:\n    - model\n    metrics:\n    - m.json:\n        cache: false\n";
        let mut out = Vec::new();
        lock_outs(None, "p/dvc.lock", &lock, Some(yaml), &mut out);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].path, "p/sub/model");
        assert!(out[0].obj.oid.is_dir && out[0].cache);
        assert_eq!(out[1].path, "p/sub/m.json");
        assert!(!out[1].cache);
    }
}
