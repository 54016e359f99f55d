//! `repro`: run changed stages in dependency order, serially or in parallel.

use crate::graph::Graph;
use crate::lockfile::{LockDoc, Measured, measure, stage_entry};
use crate::stage::{Stage, load_stages};
use crate::status::{needs_run, params_for_lock, stage_status};
use crate::{Error, Reporter, Result, msg, runcache};
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strix_data::tree::Save;
use strix_data::{HashKind, Layout, NoProgress};
use strix_dvcfile::yaml::{Mapping, Value};
use strix_repo::Repo;

/// `repro` options.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `-f`: run even unchanged stages.
    pub force: bool,
    /// `-s`: only the targets, not their upstream stages.
    pub single: bool,
    /// `--dry`: print, do not run.
    pub dry: bool,
    /// `-j`: stages run at once (at least 1).
    pub jobs: usize,
    /// `--keep-going`: continue with independent stages after a failure.
    pub keep_going: bool,
    /// `--no-commit`: do not save outputs to the cache.
    pub no_commit: bool,
    /// `--no-run-cache`: neither restore from nor save to the run-cache.
    pub no_run_cache: bool,
}

/// What `repro` did.
#[derive(Debug, Default)]
pub struct Report {
    /// Stages that ran (or were restored).
    pub ran: Vec<String>,
    /// Whether dvc.lock was written.
    pub lock_written: bool,
    /// `.gitignore` files touched.
    pub gitignores: Vec<PathBuf>,
    /// Errors of failed stages (with `--keep-going` several).
    pub failures: Vec<String>,
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs a SIGINT handler that makes `repro` stop: running commands (each
/// in its own process group) are terminated and dvc.lock stays consistent.
pub fn install_interrupt_handler() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The argv DVC uses to run `cmd`: `$SHELL -c cmd` (bash with `--noprofile
/// --norc`, zsh with `--no-rcs`), `/bin/sh` when `SHELL` is unset.
pub fn shell_argv(cmd: &str) -> Vec<String> {
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let name = Path::new(&shell)
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut argv = vec![shell];
    match name.as_str() {
        "bash" => argv.extend(["--noprofile".into(), "--norc".into()]),
        "zsh" => argv.push("--no-rcs".into()),
        _ => {}
    }
    argv.extend(["-c".into(), cmd.to_owned()]);
    argv
}

type Pids = Arc<Mutex<Vec<i32>>>;

/// Runs the commands of one stage; `prefix` set means capture and prefix
/// output lines. Returns an error message on failure.
fn run_commands(
    root: &Path,
    stage: &Stage,
    prefix: Option<String>,
    pids: &Pids,
    rep: &dyn Reporter,
) -> std::result::Result<(), String> {
    for cmd in stage.commands() {
        if prefix.is_some() {
            rep.line(&format!("[{}] > {cmd}", stage.name));
        }
        let argv = shell_argv(&cmd);
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .current_dir(&stage.wdir)
            .env("DVC_ROOT", root)
            .env("DVC_STAGE", &stage.name)
            .process_group(0);
        if prefix.is_some() {
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = c
            .spawn()
            .map_err(|e| format!("failed to run: {cmd}, cannot start '{}': {e}", argv[0]))?;
        let pid = child.id() as i32;
        pids.lock().map(|mut p| p.push(pid)).ok();
        let status = std::thread::scope(|s| {
            if let Some(px) = &prefix {
                if let Some(out) = child.stdout.take() {
                    s.spawn(move || {
                        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                            rep.line(&format!("[{px}] {line}"));
                        }
                    });
                }
                if let Some(err) = child.stderr.take() {
                    s.spawn(move || {
                        for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                            rep.err_line(&format!("[{px}] {line}"));
                        }
                    });
                }
            }
            child.wait()
        });
        pids.lock().map(|mut p| p.retain(|&x| x != pid)).ok();
        let status = status.map_err(|e| format!("failed to run: {cmd}, {e}"))?;
        if let Some(sig) = status.signal() {
            return Err(format!("failed to run: {cmd}, killed by signal {sig}"));
        }
        match status.code() {
            Some(0) => {}
            Some(code) => return Err(format!("failed to run: {cmd}, exited with {code}")),
            None => return Err(format!("failed to run: {cmd}, terminated")),
        }
    }
    Ok(())
}

fn remove_path(p: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(p),
        Ok(_) => std::fs::remove_file(p),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Resolves `repro`/`status` targets to stage indices: stage names,
/// `dvc.yaml:name`, or `dvc.yaml` (all stages).
pub fn resolve_targets(graph: &Graph, targets: &[String]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for t in targets {
        let name = t.strip_prefix("dvc.yaml:").unwrap_or(t);
        if name == "dvc.yaml" || name == "./dvc.yaml" {
            out.extend(0..graph.stages.len());
            continue;
        }
        match graph.find(name) {
            Some(i) => out.push(i),
            None => {
                return Err(msg(format!(
                    "Stage '{name}' not found inside 'dvc.yaml' file"
                )));
            }
        }
    }
    Ok(out)
}

struct Ctx<'a> {
    repo: &'a Repo,
    opts: &'a Options,
    rep: &'a dyn Reporter,
    lock: LockDoc,
    report: Report,
}

impl Ctx<'_> {
    fn measure_deps(&self, stage: &Stage) -> Result<Vec<(String, Measured)>> {
        let mut deps = Vec::new();
        for d in &stage.deps {
            match measure(self.repo, &d.abs, Save::HashOnly)? {
                Some(m) => deps.push((d.path.clone(), m)),
                None => {
                    return Err(Error::Failed(format!(
                        "failed to reproduce '{}': missing data 'source': {}",
                        stage.name,
                        self.repo.rel(&d.abs)
                    )));
                }
            }
        }
        Ok(deps)
    }

    fn write_lock(&mut self, name: &str, entry: Value) -> Result<()> {
        if !self.lock.exists {
            self.rep.line("Generating lock file 'dvc.lock'");
        }
        if self.lock.set_stage(name, entry) || !self.lock.exists {
            self.lock.save()?;
            self.rep.line("Updating lock file 'dvc.lock'");
            self.report.lock_written = true;
        }
        Ok(())
    }

    /// Tries to restore a stage's outputs from the run-cache.
    fn restore(&mut self, stage: &Stage) -> Result<bool> {
        if self.opts.no_run_cache || self.opts.force || !runcache::eligible(stage) {
            return Ok(false);
        }
        let deps = self.measure_deps(stage)?;
        let params = params_for_lock(stage)?;
        let mut probe = stage_entry(stage, &deps, &params, &[]);
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
        let layout = Layout::for_kind(HashKind::Md5);
        let mut outs = Vec::new();
        for o in entry.get("outs").and_then(Value::as_seq).unwrap_or(&[]) {
            let Some(o) = o.as_map() else {
                return Ok(false);
            };
            let path = o.get("path").and_then(Value::as_str).unwrap_or("");
            let Some(oid) = o
                .get("md5")
                .and_then(Value::as_str)
                .and_then(|s| s.parse().ok())
            else {
                return Ok(false);
            };
            if !strix_repo::outputs::in_cache(self.repo, &oid, layout, false).0 {
                return Ok(false);
            }
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
        if outs.len() != stage.outs.len() {
            return Ok(false);
        }
        self.rep.line(&format!(
            "Stage '{}' is cached - skipping run, checking out outputs",
            stage.name
        ));
        for (path, m) in &outs {
            let abs = stage.wdir.join(path);
            remove_path(&abs).map_err(|e| msg(format!("failed to remove '{path}': {e}")))?;
            let mut out = strix_dvcfile::Output::new(path.clone());
            out.md5 = Some(m.oid.to_string());
            out.size = Some(m.size);
            out.nfiles = m.nfiles;
            strix_repo::checkout::link_output(
                self.repo,
                &abs,
                &out,
                strix_repo::checkout::LinkMode::Force,
                &NoProgress,
            )?;
        }
        let entry = stage_entry(stage, &deps, &params, &outs);
        self.write_lock(&stage.name, entry)?;
        Ok(true)
    }

    /// Hashes and saves the outputs after a successful run and records the
    /// stage in dvc.lock (and the run-cache).
    fn commit(&mut self, stage: &Stage) -> Result<()> {
        let deps = self.measure_deps(stage)?;
        let params = params_for_lock(stage)?;
        let to_run_cache =
            !self.opts.no_commit && !self.opts.no_run_cache && runcache::eligible(stage);
        let mut outs = Vec::new();
        for o in &stage.outs {
            let save = if !self.opts.no_commit && (o.cache || to_run_cache) {
                Save::ToCache(self.repo.odb())
            } else {
                Save::HashOnly
            };
            match measure(self.repo, &o.abs, save)? {
                Some(m) => outs.push((o.path.clone(), m)),
                None => {
                    return Err(Error::Failed(format!(
                        "failed to reproduce '{}': output '{}' does not exist",
                        stage.name,
                        self.repo.rel(&o.abs)
                    )));
                }
            }
            if o.cache {
                let is_dir = o.abs.is_dir();
                self.report
                    .gitignores
                    .extend(strix_repo::add::ensure_gitignore(
                        self.repo, &o.abs, is_dir,
                    )?);
            }
        }
        let entry = stage_entry(stage, &deps, &params, &outs);
        if to_run_cache {
            // A run-cache failure only costs a rerun later.
            let _ = runcache::save(self.repo.odb().root(), &entry);
        }
        self.write_lock(&stage.name, entry)
    }
}

/// Prints DVC's line for each unchanged `.dvc` file whose outputs feed the
/// selected stages (they are data sources of the pipeline).
fn data_sources(repo: &Repo, graph: &Graph, order: &[usize], rep: &dyn Reporter) -> Result<()> {
    let files = strix_repo::index::load_all(repo)?;
    for f in &files {
        let feeds = f.file.outs.iter().any(|o| {
            f.out_path(repo, o).is_ok_and(|abs| {
                order.iter().any(|&i| {
                    graph.stages[i]
                        .deps
                        .iter()
                        .any(|d| d.abs.starts_with(&abs) || abs.starts_with(&d.abs))
                })
            })
        });
        if !feeds {
            continue;
        }
        let st = strix_repo::status::status(
            repo,
            repo.root(),
            std::slice::from_ref(&f.path),
            &NoProgress,
        )?;
        if st.is_empty() {
            rep.line(&format!("'{}' didn't change, skipping", repo.rel(&f.path)));
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum St {
    Pending,
    Running,
    Done,
    Failed,
}

/// Reproduces `targets` (all stages when empty).
pub fn repro(
    repo: &Repo,
    targets: &[String],
    opts: &Options,
    rep: &dyn Reporter,
) -> Result<Report> {
    let graph = Graph::build(load_stages(repo.root())?, repo.root())?;
    let wanted = resolve_targets(&graph, targets)?;
    let order = graph.selection(&wanted, opts.single);
    let jobs = opts.jobs.max(1);
    let mut ctx = Ctx {
        repo,
        opts,
        rep,
        lock: LockDoc::load(repo.root())?,
        report: Report::default(),
    };
    let mut state = vec![St::Pending; graph.stages.len()];
    let in_sel = {
        let mut v = vec![false; graph.stages.len()];
        for &i in &order {
            v[i] = true;
        }
        v
    };
    let pids: Pids = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel::<(usize, std::result::Result<(), String>)>();
    data_sources(repo, &graph, &order, rep)?;
    let mut running = 0usize;
    let mut stop = false;
    let mut first_run = true;
    let result = std::thread::scope(|scope| -> Result<()> {
        loop {
            if interrupted() {
                stop = true;
            }
            // Launch what is ready.
            while !stop && running < jobs {
                let next = order.iter().copied().find(|&i| {
                    state[i] == St::Pending
                        && graph.upstream[i]
                            .iter()
                            .all(|&u| !in_sel[u] || state[u] == St::Done)
                });
                let Some(i) = next else { break };
                let stage = &graph.stages[i];
                let items = stage_status(repo, stage, ctx.lock.stage(&stage.name))?;
                if !opts.force && !needs_run(stage, &items) {
                    rep.line(&format!("Stage '{}' didn't change, skipping", stage.name));
                    state[i] = St::Done;
                    continue;
                }
                if !first_run && jobs == 1 {
                    rep.line("");
                }
                first_run = false;
                if !opts.dry && ctx.restore(stage)? {
                    ctx.report.ran.push(stage.name.clone());
                    state[i] = St::Done;
                    continue;
                }
                rep.line(&format!("Running stage '{}':", stage.name));
                if opts.dry {
                    for c in stage.commands() {
                        rep.line(&format!("> {c}"));
                    }
                    state[i] = St::Done;
                    continue;
                }
                // Missing deps are an error before anything runs.
                ctx.measure_deps(stage)?;
                params_for_lock(stage)?;
                for o in stage.outs.iter().filter(|o| !o.persist) {
                    remove_path(&o.abs).map_err(|e| {
                        msg(format!("failed to remove '{}': {e}", repo.rel(&o.abs)))
                    })?;
                }
                state[i] = St::Running;
                running += 1;
                let prefix = if jobs == 1 {
                    for c in stage.commands() {
                        rep.line(&format!("> {c}"));
                    }
                    None
                } else {
                    Some(stage.name.clone())
                };
                let tx = tx.clone();
                let pids = pids.clone();
                let root = repo.root();
                scope.spawn(move || {
                    let r = run_commands(root, stage, prefix, &pids, rep);
                    let _ = tx.send((i, r));
                });
            }
            if running == 0 {
                break;
            }
            let (i, r) = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(x) => x,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupted() && !stop {
                        stop = true;
                    }
                    if interrupted() {
                        for &pid in pids.lock().map(|p| p.clone()).unwrap_or_default().iter() {
                            // SAFETY: plain kill(2) of a process group we started.
                            unsafe {
                                libc::kill(-pid, libc::SIGTERM);
                            }
                        }
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            running -= 1;
            let stage = &graph.stages[i];
            match r {
                Ok(()) if !interrupted() => match ctx.commit(stage) {
                    Ok(()) => {
                        state[i] = St::Done;
                        ctx.report.ran.push(stage.name.clone());
                    }
                    Err(e) => {
                        state[i] = St::Failed;
                        ctx.report.failures.push(e.to_string());
                        stop |= !opts.keep_going;
                    }
                },
                Ok(()) => state[i] = St::Failed,
                Err(m) => {
                    state[i] = St::Failed;
                    ctx.report
                        .failures
                        .push(format!("failed to reproduce '{}': {m}", stage.name));
                    stop |= !opts.keep_going;
                }
            }
        }
        Ok(())
    });
    result?;
    if interrupted() {
        return Err(Error::Interrupted);
    }
    Ok(ctx.report)
}
