//! Recording what a stage run produced: outputs saved to the cache, the
//! `dvc.lock` entry (or a legacy `.dvc` file), the run-cache; and restoring
//! a stage from the run-cache.

use crate::lockfile::{LockDoc, Measured, measure_kind, stage_entry};
use crate::repro::{Options, Report};
use crate::stage::{Origin, Stage};
use crate::status::params_for_lock;
use crate::{Error, Reporter, Result, msg, runcache};
use std::path::Path;
use strix_data::tree::Save;
use strix_data::{HashKind, Layout, NoProgress};
use strix_dvcfile::yaml::{Mapping, Value};
use strix_repo::Repo;

/// Removes a file or directory; absent is fine.
pub(crate) fn remove_path(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

pub(crate) struct Ctx<'a> {
    pub repo: &'a Repo,
    /// Where messages' paths start from.
    pub cwd: &'a Path,
    pub opts: &'a Options,
    pub rep: &'a dyn Reporter,
    pub report: Report,
    /// Where an entry goes in the files: stages (by name) in the order a
    /// serial run records them. With `-j`, stages finish in any order; new
    /// `dvc.lock` entries and `.gitignore` lines are put where a serial
    /// run would have written them.
    pub order: Written,
}

/// What this run added to `dvc.lock` and `.gitignore` files, with each
/// stage's place in the serial order.
#[derive(Debug, Default)]
pub(crate) struct Written {
    /// Stage name → position in the serial order.
    pos: std::collections::HashMap<String, usize>,
    /// Entries this run added to `dvc.lock` files: (directory, key, stage).
    lock: Vec<(std::path::PathBuf, String, String)>,
    /// `.gitignore` lines this run added: (directory, output name, stage).
    ignores: Vec<(std::path::PathBuf, String, String)>,
}

impl Written {
    /// Nothing written yet; `serial` names the stages in serial order.
    pub fn new<'a>(serial: impl IntoIterator<Item = &'a str>) -> Self {
        Written {
            pos: serial
                .into_iter()
                .enumerate()
                .map(|(k, n)| (n.to_owned(), k))
                .collect(),
            ..Default::default()
        }
    }

    fn after(&self, stage: &str, other: &str) -> bool {
        let p = |n: &str| self.pos.get(n).copied().unwrap_or(usize::MAX);
        p(other) > p(stage)
    }
}

/// The outputs a run-cache entry records (`None` if it is malformed).
fn entry_outs(entry: &Mapping) -> Option<Vec<(String, Measured)>> {
    let mut outs = Vec::new();
    for o in entry.get("outs").and_then(Value::as_seq).unwrap_or(&[]) {
        let o = o.as_map()?;
        let path = o.get("path").and_then(Value::as_str).unwrap_or("");
        let oid = o.get("md5").and_then(Value::as_str)?.parse().ok()?;
        let num = |k: &str| match o.get(k) {
            Some(Value::Int(i)) => u64::try_from(*i).ok(),
            _ => None,
        };
        let m = Measured {
            oid,
            size: num("size").unwrap_or(0),
            nfiles: num("nfiles"),
            isexec: o.get("isexec").and_then(Value::as_bool) == Some(true),
        };
        outs.push((path.to_owned(), m));
    }
    Some(outs)
}

/// A measured output as the `Output` checkout links (a DVC 2 one, found in
/// the old cache layout, for `kind` [`HashKind::Md5Dos2Unix`]).
fn recorded_output(path: &str, m: &Measured, kind: HashKind) -> strix_dvcfile::Output {
    let mut out = strix_dvcfile::Output::new(path);
    if kind == HashKind::Md5Dos2Unix {
        out.hash = None;
    }
    out.md5 = Some(m.oid.to_string());
    out.size = Some(m.size);
    out.nfiles = m.nfiles;
    out
}

impl Ctx<'_> {
    /// Hashes the deps; a missing one fails the stage with DVC's message.
    pub fn measure_deps(&self, stage: &Stage) -> Result<Vec<(String, Measured)>> {
        let mut deps = Vec::new();
        for d in &stage.deps {
            match measure_kind(self.repo, &d.abs, stage.hash_kind(), Save::HashOnly)? {
                Some(m) => deps.push((d.path.clone(), m)),
                None => {
                    return Err(Error::Failed(format!(
                        "[Errno 2] No such file or directory: '{}'",
                        d.abs.display()
                    )));
                }
            }
        }
        Ok(deps)
    }

    /// Records a stage: its `dvc.lock` entry (re-read first: a stage's
    /// command may have changed the file while the lock was released), or
    /// for a legacy stage its `.dvc` file.
    fn write_lock(&mut self, stage: &Stage, entry: Value) -> Result<()> {
        let Some(dir) = stage.lock_dir() else {
            return Ok(());
        };
        let mut lock = LockDoc::load(dir)?;
        let label = crate::stage::relpath(lock.path(), self.cwd);
        if !lock.exists {
            self.rep.line(&format!("Generating lock file '{label}'"));
        }
        let order = &self.order;
        let added = lock.stage(&stage.key).is_none();
        // New entries this run made in this file that a serial run writes
        // after this one.
        let later = |n: &str| {
            order
                .lock
                .iter()
                .any(|(d, k, s)| d == dir && k == n && order.after(&stage.name, s))
        };
        if lock.set_stage_before(&stage.key, entry, later) || !lock.exists {
            if added {
                self.order
                    .lock
                    .push((dir.to_path_buf(), stage.key.clone(), stage.name.clone()));
            }
            lock.save()?;
            self.rep.line(&format!("Updating lock file '{label}'"));
            if !self.report.locks.iter().any(|p| p == lock.path()) {
                self.report.locks.push(lock.path().to_path_buf());
            }
        }
        Ok(())
    }

    /// Records the measured deps and outs of `stage`.
    pub fn record(
        &mut self,
        stage: &Stage,
        deps: &[(String, Measured)],
        params: &crate::params::LockParams,
        outs: &[(String, Measured)],
    ) -> Result<()> {
        if let Origin::Legacy(path) = &stage.origin {
            if crate::legacy::record(stage, deps, outs)? {
                self.report.written.push(path.clone());
            }
            return Ok(());
        }
        let entry = stage_entry(stage, deps, params, outs);
        self.write_lock(stage, entry)
    }

    /// Whether runs of `stage` go to the run-cache: as in DVC, and for a
    /// legacy stage (DVC 2 entries) only when all its outputs are cached.
    fn uses_run_cache(&self, stage: &Stage) -> bool {
        !self.opts.no_run_cache
            && runcache::eligible(stage)
            && (!stage.is_legacy() || stage.outs.iter().all(|o| o.cache))
    }

    /// Tries to restore a stage's outputs from the run-cache.
    pub fn restore(&mut self, stage: &Stage) -> Result<bool> {
        if !self.uses_run_cache(stage) {
            return Ok(false);
        }
        let legacy = stage.is_legacy();
        let deps = self.measure_deps(stage)?;
        let params = params_for_lock(stage)?;
        let mut probe = if legacy {
            crate::legacy::run_cache_entry(stage, &deps, &[])
        } else {
            stage_entry(stage, &deps, &params, &[])
        };
        if self.opts.dry
            && !legacy
            && let Some(recorded) = crate::status::recorded(stage)?
        {
            // DVC does not hash the deps in a dry run: it looks the run-cache
            // up with the hashes dvc.lock records.
            probe = Value::Map(recorded);
        }
        let mut paths: Vec<&str> = stage.outs.iter().map(|o| o.path.as_str()).collect();
        paths.sort();
        if let Value::Map(m) = &mut probe {
            let outs: Vec<Value> = paths
                .iter()
                .map(|p| {
                    let mut e = Mapping::new();
                    e.insert("path", *p);
                    Value::Map(e)
                })
                .collect();
            m.insert("outs", outs);
        }
        let Some(entry) = runcache::lookup(self.repo.odb().root(), &probe) else {
            return Ok(false);
        };
        let Some(outs) = entry_outs(&entry).filter(|o| o.len() == stage.outs.len()) else {
            return Ok(false);
        };
        let kind = stage.hash_kind();
        let layout = Layout::for_kind(kind);
        let cached =
            |m: &Measured| strix_repo::outputs::in_cache(self.repo, &m.oid, layout, false).0;
        if !outs.iter().all(|(_, m)| cached(m)) {
            if !self.opts.pull || self.opts.dry || legacy {
                return Ok(false);
            }
            // `repro --pull`: the entry's objects may be on the remote.
            let want: Vec<_> = outs
                .iter()
                .filter(|(_, m)| !cached(m))
                .map(|(p, m)| (stage.wdir.join(p), recorded_output(p, m, kind)))
                .collect();
            crate::pull::fetch_for_restore(self.repo, &want, self.rep);
            if !outs.iter().all(|(_, m)| cached(m)) {
                return Ok(false);
            }
        }
        self.rep.line(&format!(
            "Stage '{}' is cached - skipping run, checking out outputs",
            stage.name
        ));
        if self.opts.dry {
            // DVC says so and then goes on to print the dry run.
            return Ok(false);
        }
        for (path, m) in &outs {
            let abs = stage.wdir.join(path);
            remove_path(&abs).map_err(|e| msg(format!("failed to remove '{path}': {e}")))?;
            strix_repo::checkout::link_output(
                self.repo,
                &abs,
                &recorded_output(path, m, kind),
                strix_repo::checkout::LinkMode::ForceRelink,
                &NoProgress,
            )?;
        }
        // DVC saves the restored outputs, which adds them to .gitignore.
        self.ignore_outs(stage)?;
        self.record(stage, &deps, &params, &outs)?;
        Ok(true)
    }

    /// Adds the cached outputs of `stage` to `.gitignore`, in the order
    /// `dvc.yaml` lists them.
    fn ignore_outs(&mut self, stage: &Stage) -> Result<()> {
        for o in &stage.outs {
            self.ignore_out(stage, o)?;
        }
        Ok(())
    }

    /// Adds a cached output to `.gitignore` (DVC's `Output.ignore`).
    fn ignore_out(&mut self, stage: &Stage, o: &crate::stage::Out) -> Result<()> {
        if !o.cache {
            return Ok(());
        }
        let dir = o.abs.parent().unwrap_or(self.repo.root()).to_path_buf();
        let name = o
            .abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let before: Vec<String> = self
            .order
            .ignores
            .iter()
            .filter(|(d, _, s)| *d == dir && self.order.after(&stage.name, s))
            .map(|(_, n, _)| n.clone())
            .collect();
        let is_dir = o.abs.is_dir();
        let written = strix_repo::add::ensure_gitignore_before(self.repo, &o.abs, is_dir, &before)?;
        if !written.is_empty() {
            self.order.ignores.push((dir, name, stage.name.clone()));
        }
        self.report.gitignores.extend(written);
        Ok(())
    }

    /// Saves a legacy stage's output into the old `xx/…` cache layout under
    /// dos2unix MD5s, the bytes stored as they are, as DVC 2 does: a file,
    /// or a directory's files and its `.dir` listing.
    fn save_legacy(&self, abs: &Path, m: &Measured) -> Result<()> {
        let odb = self.repo.odb();
        let put = |oid: &strix_data::Oid, file: &Path| -> Result<()> {
            let rel = || self.repo.rel(file);
            let data =
                std::fs::read(file).map_err(|e| msg(format!("failed to read '{}': {e}", rel())))?;
            odb.put_bytes(oid, Layout::Legacy, &data)
                .map_err(|e| msg(format!("failed to save '{}': {e}", rel())))
        };
        if m.nfiles.is_none() {
            return if abs.is_file() {
                put(&m.oid, abs)
            } else {
                Ok(())
            };
        }
        // The listing, with each file's dos2unix MD5.
        let Some(tree) = strix_repo::outputs::measure(
            self.repo,
            abs,
            HashKind::Md5Dos2Unix,
            Save::HashOnly,
            &NoProgress,
        )?
        .and_then(|full| full.tree) else {
            return Ok(());
        };
        for e in tree.manifest.entries() {
            let oid = strix_data::Oid::file(e.md5);
            if !odb.exists(&oid, Layout::Legacy) {
                put(&oid, &abs.join(&e.relpath))?;
            }
        }
        let listing = tree.manifest.oid();
        odb.put_bytes(&listing, Layout::Legacy, &tree.manifest.to_bytes())
            .map_err(|e| msg(format!("failed to save '{}': {e}", self.repo.rel(abs))))
    }

    /// Hashes and saves the outputs after a successful run and records the
    /// stage in dvc.lock (and the run-cache).
    pub fn commit(&mut self, stage: &Stage) -> Result<()> {
        let deps = self.measure_deps(stage)?;
        let params = params_for_lock(stage)?;
        let to_run_cache = !self.opts.no_commit && self.uses_run_cache(stage);
        let mut outs = Vec::new();
        for o in &stage.outs {
            let save = if !self.opts.no_commit && (o.cache || to_run_cache) && !stage.is_legacy() {
                Save::ToCache(self.repo.odb())
            } else {
                Save::HashOnly
            };
            match measure_kind(self.repo, &o.abs, stage.hash_kind(), save)? {
                Some(m) => {
                    if stage.is_legacy() && o.cache && !self.opts.no_commit {
                        self.save_legacy(&o.abs, &m)?;
                    }
                    outs.push((o.path.clone(), m))
                }
                None => {
                    return Err(Error::Failed(format!(
                        "output '{}' does not exist",
                        self.repo.rel(&o.abs)
                    )));
                }
            }
            self.ignore_out(stage, o)?;
        }
        // The objects are durable before the lock entry or the run-cache
        // names them.
        self.repo.sync_cache()?;
        if to_run_cache {
            // A run-cache failure only costs a rerun later.
            let entry = if stage.is_legacy() {
                crate::legacy::run_cache_entry(stage, &deps, &outs)
            } else {
                stage_entry(stage, &deps, &params, &outs)
            };
            let _ = runcache::save(self.repo.odb().root(), &entry);
        }
        self.record(stage, &deps, &params, &outs)
    }
}
