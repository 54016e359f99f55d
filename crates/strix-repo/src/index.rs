//! Finding what the repository tracks: every `.dvc` file (and, for
//! overlap checks, the outputs declared in `dvc.yaml`), and mapping user
//! targets to them.

use crate::error::{RepoError, Result};
use crate::repo::{Repo, normalize};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rayon::prelude::*;
use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strix_dvcfile::{DvcFile, Output};

/// A loaded `.dvc` file.
#[derive(Debug, Clone)]
pub struct DvcFileRef {
    /// Absolute path of the `.dvc` file.
    pub path: PathBuf,
    /// Its text as read (kept so rewrites preserve comments).
    pub text: String,
    pub file: DvcFile,
}

impl DvcFileRef {
    /// Directory the outputs' paths are relative to (the file's directory
    /// joined with `wdir`).
    pub fn base_dir(&self) -> PathBuf {
        let dir = self.path.parent().unwrap_or(Path::new("/"));
        match self.file.wdir.as_deref() {
            Some(w) if w != "." => normalize(&dir.join(w)),
            _ => dir.to_path_buf(),
        }
    }

    /// Absolute path of an output, refusing paths that leave the repository.
    pub fn out_path(&self, repo: &Repo, out: &Output) -> Result<PathBuf> {
        let p = normalize(&self.base_dir().join(&out.path));
        if !p.starts_with(repo.root()) || p == repo.root() {
            return Err(RepoError::EscapingOut {
                dvcfile: self.path.clone(),
                path: out.path.clone(),
            });
        }
        Ok(p)
    }
}

/// Reads and validates one `.dvc` file.
pub fn load_dvcfile(repo: &Repo, path: &Path) -> Result<DvcFileRef> {
    let text = fs::read_to_string(path).map_err(|source| RepoError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = repo.rel(path);
    let file = DvcFile::parse(&text, &name).map_err(|source| RepoError::Metafile {
        path: PathBuf::from(&name),
        source: Box::new(source),
    })?;
    let r = DvcFileRef {
        path: path.to_path_buf(),
        text,
        file,
    };
    for out in &r.file.outs {
        r.out_path(repo, out)?;
    }
    Ok(r)
}

/// The metafiles of the workspace, as one walk finds them (outside `.git`,
/// `.dvc`, `.dvcignore`d paths and directories tracked by a `<dir>.dvc`).
#[derive(Debug, Default)]
pub struct Metafiles {
    /// Every `.dvc` file, sorted by path.
    pub dvcfiles: Vec<PathBuf>,
    /// Every `dvc.yaml`, a directory's own before its subdirectories'
    /// (DVC's top-down walk, with sorted names).
    pub pipelines: Vec<PathBuf>,
    /// Every `dvc.lock`, sorted by path.
    pub locks: Vec<PathBuf>,
}

impl Metafiles {
    /// Walks the workspace once for all three kinds.
    fn scan(repo: &Repo) -> Self {
        let mut found = Self::default();
        scan_dir(repo.root(), &[], &mut found);
        found.dvcfiles.sort();
        found.pipelines.sort_by(|a, b| a.parent().cmp(&b.parent()));
        found.locks.sort();
        found
    }

    /// Files the list of `name`'s kind, if it is a metafile.
    fn take(&mut self, name: &OsStr, path: PathBuf) {
        if name == "dvc.yaml" {
            self.pipelines.push(path);
        } else if name == "dvc.lock" {
            self.locks.push(path);
        } else if Path::new(name).extension().is_some_and(|x| x == "dvc") {
            self.dvcfiles.push(path);
        }
    }

    fn extend(&mut self, other: Self) {
        self.dvcfiles.extend(other.dvcfiles);
        self.pipelines.extend(other.pipelines);
        self.locks.extend(other.locks);
    }
}

/// The workspace's metafiles: walked for again on each call, or once per
/// run when the repository was told none will be created or removed
/// ([`Repo::settle_metafiles`]).
pub fn metafiles(repo: &Repo) -> Arc<Metafiles> {
    match repo.settled_metafiles() {
        Some(once) => once.get_or_init(|| Arc::new(Metafiles::scan(repo))).clone(),
        None => Arc::new(Metafiles::scan(repo)),
    }
}

/// Every `.dvc` file in the repository (outside ignored paths and outside
/// tracked directories), sorted by path.
pub fn find_dvcfiles(repo: &Repo) -> Vec<PathBuf> {
    metafiles(repo).dvcfiles.clone()
}

/// Every `dvc.yaml` in the repository (outside ignored paths and outside
/// tracked directories), a directory's own before its subdirectories'
/// (DVC's top-down walk, with sorted names).
pub fn find_pipeline_files(repo: &Repo) -> Vec<PathBuf> {
    metafiles(repo).pipelines.clone()
}

/// Every `dvc.lock` of the workspace, walked as `dvc.yaml` files are,
/// sorted.
pub fn find_lockfiles(repo: &Repo) -> Vec<PathBuf> {
    metafiles(repo).locks.clone()
}

/// One directory of the metafile walk, which leaves out `.git`, `.dvc`,
/// `.dvcignore`d paths and directories tracked by a `<dir>.dvc`. `rules`
/// are the `.dvcignore` matchers of the directory's ancestors, the root's
/// first.
///
/// Subdirectories are read in parallel, and each listing answers the two
/// questions a walker would otherwise ask the filesystem once per
/// directory: whether it holds a `.dvcignore`, and whether a subdirectory
/// has a `<name>.dvc` beside it. Only regular files are picked and only
/// real directories entered (symlinks are neither), as DVC's walk does.
fn scan_dir(dir: &Path, rules: &[Arc<Gitignore>], found: &mut Metafiles) {
    // An unreadable directory is passed over, as a walker's error entries were.
    let Ok(listing) = fs::read_dir(dir) else {
        return;
    };
    let entries: Vec<(OsString, fs::FileType)> = listing
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.file_name(), e.file_type().ok()?)))
        .collect();
    let mut chain;
    let mut rules = rules;
    if entries
        .iter()
        .any(|(name, t)| name == ".dvcignore" && !t.is_dir())
    {
        let mut b = GitignoreBuilder::new(dir);
        // A pattern that does not parse is skipped, the others still apply.
        let _ = b.add(dir.join(".dvcignore"));
        if let Ok(g) = b.build() {
            chain = rules.to_vec();
            chain.push(Arc::new(g));
            rules = &chain;
        }
    }
    let ignored = |path: &Path, is_dir: bool| {
        strix_data::walk::ignored_by(rules.iter().map(|g| &**g), path, is_dir)
    };
    // The `.dvc` files of this listing: a subdirectory with its
    // `<name>.dvc` among them is a data directory, not walked.
    let markers: HashSet<&OsStr> = entries
        .iter()
        .filter(|(n, t)| {
            Path::new(n).extension().is_some_and(|x| x == "dvc")
                && (t.is_file() || (t.is_symlink() && dir.join(n).is_file()))
        })
        .map(|(n, _)| n.as_os_str())
        .collect();
    let tracked = |name: &OsStr| {
        let mut marker = name.to_os_string();
        marker.push(".dvc");
        markers.contains(marker.as_os_str())
    };
    let mut subdirs = Vec::new();
    for (name, t) in &entries {
        if name == ".git" || name == ".dvc" || name == ".hg" {
            continue;
        }
        let path = dir.join(name);
        if t.is_dir() {
            if !ignored(&path, true) && !tracked(name) {
                subdirs.push(path);
            }
        } else if t.is_file() && !ignored(&path, false) {
            found.take(name, path);
        }
    }
    let nested: Vec<Metafiles> = subdirs
        .par_iter()
        .map(|sub| {
            let mut f = Metafiles::default();
            scan_dir(sub, rules, &mut f);
            f
        })
        .collect();
    for f in nested {
        found.extend(f);
    }
}

/// Loads every `.dvc` file.
///
/// Legacy single-stage files with a `cmd` (DVC 1.x/2.x pipeline stages) are
/// left out: strix-pipeline owns them.
/// The output of one of `files` that `abs` lies strictly inside (outputs
/// never overlap, so there is at most one), with the output's path.
pub(crate) fn output_containing<'f>(
    repo: &Repo,
    files: &'f [DvcFileRef],
    abs: &Path,
) -> Result<Option<(&'f DvcFileRef, &'f strix_dvcfile::Output, PathBuf)>> {
    for f in files {
        for o in &f.file.outs {
            let p = f.out_path(repo, o)?;
            if abs != p && abs.starts_with(&p) {
                return Ok(Some((f, o, p)));
            }
        }
    }
    Ok(None)
}

pub fn load_all(repo: &Repo) -> Result<Vec<DvcFileRef>> {
    let mut out = Vec::new();
    for p in find_dvcfiles(repo) {
        match load_dvcfile(repo, &p) {
            Ok(f) => out.push(f),
            Err(e) if is_legacy_stage(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Whether `e` is the error for a legacy single-stage `.dvc` file (`cmd`).
pub fn is_legacy_stage(e: &RepoError) -> bool {
    matches!(
        e,
        RepoError::Metafile { source, .. }
            if matches!(**source, strix_dvcfile::DvcFileError::LegacyStage { .. })
    )
}

/// Maps user targets to `.dvc` files. Empty targets mean all of them.
/// A target may be a `.dvc` file, an output path, a path inside a tracked
/// directory, or a directory containing `.dvc` files.
pub fn resolve_targets(repo: &Repo, cwd: &Path, targets: &[PathBuf]) -> Result<Vec<DvcFileRef>> {
    if targets.is_empty() {
        return load_all(repo);
    }
    let mut out: Vec<DvcFileRef> = Vec::new();
    let mut all: Option<Vec<DvcFileRef>> = None;
    for t in targets {
        let abs = normalize(&if t.is_absolute() {
            t.clone()
        } else {
            cwd.join(t)
        });
        let abs = abs.canonicalize().unwrap_or(abs);
        let as_dvc = {
            let mut s = abs.as_os_str().to_os_string();
            s.push(".dvc");
            PathBuf::from(s)
        };
        let found = if abs.extension().is_some_and(|e| e == "dvc") && abs.is_file() {
            vec![load_dvcfile(repo, &abs)?]
        } else if as_dvc.is_file() {
            vec![load_dvcfile(repo, &as_dvc)?]
        } else {
            let all = match &mut all {
                Some(a) => a,
                None => all.insert(load_all(repo)?),
            };
            let mut hits = Vec::new();
            for d in all.iter() {
                for o in &d.file.outs {
                    let p = d.out_path(repo, o)?;
                    if abs.starts_with(&p) || p.starts_with(&abs) || d.path.starts_with(&abs) {
                        hits.push(d.clone());
                        break;
                    }
                }
            }
            if hits.is_empty() {
                return Err(RepoError::NotTracked(t.display().to_string()));
            }
            hits
        };
        for f in found {
            if !out.iter().any(|o| o.path == f.path) {
                out.push(f);
            }
        }
    }
    Ok(out)
}

/// Outputs declared by pipeline stages in the repository's `dvc.yaml` files
/// (as written, templates not expanded): (absolute path, stage name,
/// dvc.yaml path).
pub fn pipeline_outputs(repo: &Repo) -> Result<Vec<(PathBuf, String, PathBuf)>> {
    let mut result = Vec::new();
    for path in find_pipeline_files(repo) {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let label = repo.rel(&path);
        let pipeline = strix_dvcfile::Pipeline::parse(&text, &label).map_err(|source| {
            RepoError::Pipeline {
                path: path.clone(),
                source: Box::new(source),
            }
        })?;
        let dir = path.parent().unwrap_or(repo.root());
        for stage in &pipeline.stages {
            let base = match &stage.wdir {
                Some(w) => normalize(&dir.join(w)),
                None => dir.to_path_buf(),
            };
            for out in &stage.outs {
                result.push((
                    normalize(&base.join(&out.path)),
                    stage.name.clone(),
                    path.clone(),
                ));
            }
        }
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_with(files: &[&str]) -> (tempfile::TempDir, Repo) {
        let (dir, repo) = crate::testutil::scratch_repo();
        for f in files {
            let p = dir.path().join(f);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(p, "").unwrap();
        }
        (dir, repo)
    }

    #[test]
    fn one_walk_sorts_each_kind_of_metafile() {
        let (dir, repo) = repo_with(&[
            "b/dvc.yaml",
            "dvc.yaml",
            "z.dvc",
            "a/x.dvc",
            "a/dvc.lock",
            "dvc.lock",
            "tracked.dvc",
            "tracked/inner.dvc",
            "src/code.py",
        ]);
        let m = metafiles(&repo);
        let rel = |v: &[PathBuf]| -> Vec<String> { v.iter().map(|p| repo.rel(p)).collect() };
        assert_eq!(rel(&m.dvcfiles), ["a/x.dvc", "tracked.dvc", "z.dvc"]);
        assert_eq!(rel(&m.pipelines), ["dvc.yaml", "b/dvc.yaml"]);
        assert_eq!(rel(&m.locks), ["a/dvc.lock", "dvc.lock"]);
        drop(dir);
    }

    #[test]
    fn the_walk_applies_nested_dvcignore_files_and_skips_links() {
        let (dir, repo) = repo_with(&[
            "a.dvc",
            "x.skip.dvc",
            "sub/keep.skip.dvc",
            "sub/y.skip.dvc",
            "sub/deeper/dvc.yaml",
            "ignored/z.dvc",
            ".git/q.dvc",
            "tracked.dvc",
            "tracked/inner.dvc",
        ]);
        let root = dir.path();
        fs::write(root.join(".dvcignore"), "ignored/\n*.skip.dvc\n").unwrap();
        fs::write(root.join("sub/.dvcignore"), "!keep.skip.dvc\n").unwrap();
        std::os::unix::fs::symlink(root.join("a.dvc"), root.join("link.dvc")).unwrap();
        std::os::unix::fs::symlink(root.join("sub"), root.join("sublink")).unwrap();
        let m = metafiles(&repo);
        let rel = |v: &[PathBuf]| -> Vec<String> { v.iter().map(|p| repo.rel(p)).collect() };
        assert_eq!(
            rel(&m.dvcfiles),
            ["a.dvc", "sub/keep.skip.dvc", "tracked.dvc"]
        );
        assert_eq!(rel(&m.pipelines), ["sub/deeper/dvc.yaml"]);
    }

    #[test]
    fn a_settled_repository_walks_once() {
        let (dir, mut repo) = repo_with(&["a.dvc"]);
        assert_eq!(find_dvcfiles(&repo).len(), 1);
        fs::write(dir.path().join("b.dvc"), "").unwrap();
        // Unsettled: every call walks again.
        assert_eq!(find_dvcfiles(&repo).len(), 2);
        repo.settle_metafiles();
        assert_eq!(find_dvcfiles(&repo).len(), 2);
        fs::write(dir.path().join("c.dvc"), "").unwrap();
        // Settled: the first walk's list stands for the rest of the run.
        assert_eq!(find_dvcfiles(&repo).len(), 2);
        assert!(Arc::ptr_eq(&metafiles(&repo), &metafiles(&repo)));
    }
}
