//! `repro`: run changed stages in dependency order, serially or in parallel.
//!
//! The repository lock is released while stage commands run (a command may
//! call strix or DVC itself, as DVC allows) and taken again to record the
//! results; `dvc.lock` is re-read before each update.

use crate::exec::{Pids, interrupted, run_commands, terminate_all};
use crate::graph::Graph;
use crate::record::{Ctx, Written, remove_path};
use crate::stage::Origin;
use crate::status::{Change, Item, needs_run, params_for_lock, recorded, stage_status};
use crate::{Error, Reporter, Result, msg};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use strix_data::NoProgress;
use strix_repo::Repo;

pub use crate::exec::{install_interrupt_handler, shell_argv};

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
    /// `-i`: ask before running each stage (through [`Reporter::confirm`]);
    /// a no aborts the stage as a failure.
    pub interactive: bool,
    /// `--ignore-errors`: a failed stage is warned about and counts as
    /// done; its dependents run, and the run succeeds.
    pub ignore_errors: bool,
    /// `--no-commit`: do not save outputs to the cache.
    pub no_commit: bool,
    /// `--no-run-cache`: neither restore from nor save to the run-cache.
    pub no_run_cache: bool,
    /// `-p`: the whole pipelines the targets belong to.
    pub pipeline: bool,
    /// `-P`: every stage of every pipeline.
    pub all_pipelines: bool,
    /// `-R`: targets are directories; take every stage inside them.
    pub recursive: bool,
    /// `--downstream`: the targets and the stages that depend on them.
    pub downstream: bool,
    /// `--force-downstream`: a stage that ran forces its dependents.
    pub force_downstream: bool,
    /// `--allow-missing`: missing data does not make a stage changed.
    pub allow_missing: bool,
    /// Run the stages without checking whether they changed, but restore
    /// them from the run-cache when possible (`stage add --run`, `run`).
    pub run_always: bool,
    /// `--pull`: fetch missing data of unchanged stages from the remote.
    pub pull: bool,
}

/// What `repro` did.
#[derive(Debug, Default)]
pub struct Report {
    /// Stages that ran (or were restored).
    pub ran: Vec<String>,
    /// The `dvc.lock` files written.
    pub locks: Vec<PathBuf>,
    /// Legacy `.dvc` files written.
    pub written: Vec<PathBuf>,
    /// `.gitignore` files touched.
    pub gitignores: Vec<PathBuf>,
    /// Failed stages and why (with `--keep-going` several).
    pub failures: Vec<(String, String)>,
}

/// DVC's `humanize.join` of quoted names: `'a'`, `'a' and 'b'`,
/// `'a', 'b' and 'c'`.
pub fn join_names(names: &[&str]) -> String {
    let q: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

/// The error DVC raises when stages failed.
pub fn failure_message(failed: &[&str]) -> String {
    let segment = if failed.len() > 1 { " stages:" } else { "" };
    format!("failed to reproduce{segment} {}", join_names(failed))
}

/// Resolves `repro`/`status` targets to stage indices: stage names,
/// `dvc.yaml:name`, `dvc.yaml` (all its stages), a legacy `.dvc` stage file,
/// or with `recursive` a directory (every stage defined inside it).
/// Relative paths are taken from `cwd`.
pub fn resolve_targets_in(
    graph: &Graph,
    cwd: &Path,
    targets: &[String],
    recursive: bool,
) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    let abs_of = |t: &str| strix_repo::repo::normalize(&cwd.join(t));
    for t in targets {
        if recursive {
            // DVC's `collect_inside_path`: the stages whose file is inside.
            let dir = abs_of(t);
            if !dir.is_dir() {
                return Err(msg(format!("'{t}' is not a directory")));
            }
            out.extend(
                (0..graph.stages.len()).filter(|&i| graph.stages[i].file().starts_with(&dir)),
            );
            continue;
        }
        let (file, name) = match t.rsplit_once(':') {
            Some((f, n)) if f.ends_with("dvc.yaml") => (Some(f), Some(n)),
            _ if t.ends_with("dvc.yaml") || t.ends_with(".dvc") => (Some(t.as_str()), None),
            _ => (None, Some(t.as_str())),
        };
        let file_abs = file.map(abs_of);
        if let Some(f) = &file_abs
            && !f.exists()
        {
            return Err(msg(format!("'{}' does not exist", f.display())));
        }
        match (file_abs, name) {
            (Some(f), None) => {
                let found: Vec<usize> = (0..graph.stages.len())
                    .filter(|&i| graph.stages[i].file() == f)
                    .collect();
                if found.is_empty() && f.extension().is_some_and(|e| e == "dvc") {
                    // A data-source `.dvc` file: nothing to run.
                    continue;
                }
                out.extend(found);
            }
            (f, Some(name)) => {
                // A bare name is a stage of the `dvc.yaml` in `cwd`.
                let f = match f {
                    Some(f) => f,
                    None => {
                        let f = cwd.join("dvc.yaml");
                        if !f.exists() {
                            return Err(msg("'dvc.yaml' does not exist"));
                        }
                        f
                    }
                };
                let found = graph.stages.iter().position(|s| {
                    matches!(&s.origin, Origin::DvcYaml(p) if *p == f) && s.key == name
                });
                match found {
                    Some(i) => out.push(i),
                    None => {
                        return Err(msg(format!(
                            "Stage '{name}' not found inside '{}' file",
                            crate::stage::relpath(&f, cwd)
                        )));
                    }
                }
            }
            (None, None) => {}
        }
    }
    Ok(out)
}

/// The stages `repro` visits, upstream first (DVC's `plan_repro` on the
/// "active" graph, where a frozen stage is cut off from its upstream).
pub fn plan(graph: &Graph, targets: &[usize], opts: &Options) -> Vec<usize> {
    let n = graph.stages.len();
    let up = |i: usize| -> Vec<usize> {
        if graph.stages[i].frozen {
            Vec::new()
        } else {
            graph.upstream[i].iter().copied().collect()
        }
    };
    let down = |i: usize| -> Vec<usize> { (0..n).filter(|&j| up(j).contains(&i)).collect() };
    let mut want = vec![false; n];
    let mut todo: Vec<usize> = targets.to_vec();
    let both = opts.pipeline;
    while let Some(i) = todo.pop() {
        if want[i] {
            continue;
        }
        want[i] = true;
        if opts.single && !opts.pipeline {
            continue;
        }
        if both || !opts.downstream {
            todo.extend(up(i));
        }
        if both || opts.downstream {
            todo.extend(down(i));
        }
    }
    graph
        .topo_order()
        .into_iter()
        .filter(|&i| want[i])
        .collect()
}

/// Prints DVC's line for each unchanged `.dvc` file whose outputs feed the
/// selected stages (they are data sources of the pipeline). One whose data
/// is only missing counts as unchanged with `--allow-missing`, and with
/// `--pull` its data is pulled, as DVC does.
fn data_sources(
    repo: &Repo,
    graph: &Graph,
    order: &[usize],
    opts: &Options,
    rep: &dyn Reporter,
) -> Result<()> {
    use strix_repo::status::OutStatus;
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
        let name = repo.rel(&f.path);
        let only_missing = st
            .iter()
            .flat_map(|s| &s.outs)
            .all(|(_, o)| matches!(o, OutStatus::Deleted | OutStatus::NotInCache));
        if st.is_empty() || (opts.allow_missing && only_missing) {
            rep.line(&format!("'{name}' didn't change, skipping"));
        } else if opts.pull && only_missing && !opts.dry {
            rep.line(&format!("Pulling data for stage: '{name}'"));
            let outs: Vec<_> = f
                .file
                .outs
                .iter()
                .filter(|o| o.cache)
                .filter_map(|o| Some((f.out_path(repo, o).ok()?, o.clone())))
                .collect();
            if crate::pull::fetch_and_link(repo, &outs).is_err() {
                rep.line(&format!("Unable to pull data for stage: '{name}'"));
            }
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
    Skipped,
}

/// Drops the status items `--allow-missing` ignores: deleted deps (unless an
/// upstream stage now records different data there) and deleted or uncached
/// outs.
fn allow_missing(items: Vec<Item>, upstream_changed: &dyn Fn(&Path) -> bool) -> Vec<Item> {
    items
        .into_iter()
        .filter_map(|item| match item {
            Item::Deps(c) => {
                let c: Vec<Change> = c
                    .into_iter()
                    .filter(|c| !matches!(c, Change::Path(p, "deleted") if !upstream_changed(p)))
                    .collect();
                (!c.is_empty()).then_some(Item::Deps(c))
            }
            Item::Outs(c) => {
                let c: Vec<Change> = c
                    .into_iter()
                    .filter(|c| !matches!(c, Change::Path(_, "deleted" | "not in cache")))
                    .collect();
                (!c.is_empty()).then_some(Item::Outs(c))
            }
            other => Some(other),
        })
        .collect()
}

/// Reproduces `targets` (the stages of `dvc.yaml` when empty). Takes the
/// repository lock itself and releases it while commands run.
pub fn repro(
    repo: &Repo,
    cwd: &Path,
    targets: &[String],
    opts: &Options,
    rep: &dyn Reporter,
) -> Result<Report> {
    let mut session = Some(repo.lock()?);
    let graph = Graph::of_repo(repo, cwd)?;
    let wanted = if opts.all_pipelines {
        (0..graph.stages.len()).collect()
    } else if targets.is_empty() {
        // DVC's default target: the `dvc.yaml` of the current directory.
        let yaml = cwd.join("dvc.yaml");
        if !yaml.exists() {
            return Err(msg(format!("'{}' does not exist", yaml.display())));
        }
        (0..graph.stages.len())
            .filter(|&i| graph.stages[i].file() == yaml)
            .collect()
    } else {
        resolve_targets_in(&graph, cwd, targets, opts.recursive)?
    };
    if opts.pull && !opts.no_run_cache {
        pull_run_cache(repo, rep);
    }
    let order = plan(&graph, &wanted, opts);
    let jobs = opts.jobs.max(1);
    let mut ctx = Ctx {
        repo,
        cwd,
        opts,
        rep,
        report: Report::default(),
        order: Written::new(order.iter().map(|&i| graph.stages[i].name.as_str())),
    };
    let n = graph.stages.len();
    let mut state = vec![St::Pending; n];
    let mut force = vec![opts.force; n];
    let mut in_sel = vec![false; n];
    for &i in &order {
        in_sel[i] = true;
    }
    let active_up = |i: usize| -> BTreeSet<usize> {
        if graph.stages[i].frozen || opts.single {
            BTreeSet::new()
        } else {
            graph.upstream[i].clone()
        }
    };
    let pids: Pids = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel::<(usize, std::result::Result<(), String>)>();
    data_sources(repo, &graph, &order, opts, rep)?;
    let mut running = 0usize;
    let mut stop = false;
    // DVC prints an empty line before a stage when the previous one was
    // reproduced (serial runs only).
    let mut last_ret = false;
    let result = std::thread::scope(|scope| -> Result<()> {
        loop {
            if interrupted() {
                stop = true;
            }
            while !stop && running < jobs {
                let next = order.iter().copied().find(|&i| {
                    state[i] == St::Pending
                        && active_up(i).iter().all(|&u| {
                            !in_sel[u]
                                || state[u] == St::Done
                                || (opts.ignore_errors && state[u] == St::Failed)
                        })
                });
                let Some(i) = next else { break };
                let stage = &graph.stages[i];
                if session.is_none() {
                    session = Some(repo.lock()?);
                }
                if last_ret && jobs == 1 {
                    rep.line("");
                }
                match start_stage(&mut ctx, &graph, i, force[i])? {
                    Start::Skip => {
                        state[i] = St::Done;
                        last_ret = false;
                        if force[i] && opts.force_downstream {
                            mark_downstream(&graph, i, &mut force);
                        }
                        continue;
                    }
                    Start::Done(ran) => {
                        state[i] = St::Done;
                        last_ret = ran;
                        if ran && !ctx.report.ran.contains(&stage.name) {
                            ctx.report.ran.push(stage.name.clone());
                        }
                        if (ran || force[i]) && opts.force_downstream {
                            mark_downstream(&graph, i, &mut force);
                        }
                        continue;
                    }
                    Start::Failed(m) => {
                        fail(&mut ctx, &graph, &order, &mut state, i, m, &in_sel);
                        stop |= !opts.keep_going && !opts.ignore_errors;
                        continue;
                    }
                    Start::Run => {}
                }
                state[i] = St::Running;
                running += 1;
                let prefix = if jobs == 1 {
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
            // Commands may call strix or DVC themselves: let them lock.
            session = None;
            let (i, r) = match rx.recv_timeout(Duration::from_millis(100)) {
                Ok(x) => x,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if interrupted() {
                        stop = true;
                        terminate_all(&pids);
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            running -= 1;
            let stage = &graph.stages[i];
            match r {
                Ok(()) if !interrupted() => {
                    if session.is_none() {
                        session = Some(repo.lock()?);
                    }
                    match ctx.commit(stage) {
                        Ok(()) => {
                            state[i] = St::Done;
                            last_ret = true;
                            ctx.report.ran.push(stage.name.clone());
                            if opts.force_downstream {
                                mark_downstream(&graph, i, &mut force);
                            }
                        }
                        Err(e) => {
                            fail(
                                &mut ctx,
                                &graph,
                                &order,
                                &mut state,
                                i,
                                e.to_string(),
                                &in_sel,
                            );
                            stop |= !opts.keep_going && !opts.ignore_errors;
                        }
                    }
                }
                Ok(()) => state[i] = St::Failed,
                Err(m) => {
                    fail(&mut ctx, &graph, &order, &mut state, i, m, &in_sel);
                    stop |= !opts.keep_going && !opts.ignore_errors;
                }
            }
        }
        Ok(())
    });
    drop(session);
    result?;
    if interrupted() {
        return Err(Error::Interrupted);
    }
    Ok(ctx.report)
}

/// `repro --pull` first fetches the run-cache from the default remote, as
/// DVC does; a remote without one (or no remote) is a warning.
fn pull_run_cache(repo: &Repo, rep: &dyn Reporter) {
    use crate::runcache::remote;
    let r = remote::open(repo, None)
        .map_err(|e| e.to_string())
        .and_then(|r| remote::fetch(repo, &r, None).map_err(|e| e.to_string()));
    match r {
        Ok(fetched) => {
            for line in &fetched.failed {
                rep.warn(&format!("failed to transfer {line}"));
            }
        }
        Err(e) => rep.warn(&format!("Failed to pull run cache: {e}")),
    }
}

fn mark_downstream(graph: &Graph, i: usize, force: &mut [bool]) {
    for j in graph.downstream(i) {
        if !graph.stages[j].frozen {
            force[j] = true;
        }
    }
}

/// Records a failed stage; with `--keep-going` warns and skips its
/// dependents as DVC does.
fn fail(
    ctx: &mut Ctx<'_>,
    graph: &Graph,
    order: &[usize],
    state: &mut [St],
    i: usize,
    why: String,
    in_sel: &[bool],
) {
    state[i] = St::Failed;
    let name = graph.stages[i].name.clone();
    if ctx.opts.ignore_errors {
        ctx.rep.warn(&format!("{why} (ignored)"));
        return;
    }
    if ctx.opts.keep_going {
        ctx.rep.warn(&why);
        let mut skipped = Vec::new();
        let mut todo = vec![i];
        while let Some(k) = todo.pop() {
            for j in graph.downstream(k) {
                if in_sel[j] && state[j] == St::Pending && !graph.stages[j].frozen {
                    state[j] = St::Skipped;
                    skipped.push(j);
                    todo.push(j);
                }
            }
        }
        let names: Vec<&str> = order
            .iter()
            .filter(|j| skipped.contains(j))
            .map(|&j| graph.stages[j].name.as_str())
            .collect();
        if !names.is_empty() {
            ctx.rep.warn(&format!(
                "{} {} will be skipped due to this failure",
                if names.len() > 1 { "Stages" } else { "Stage" },
                join_names(&names)
            ));
        }
    }
    ctx.report.failures.push((name, why));
}

enum Start {
    /// Unchanged.
    Skip,
    /// Handled without running a command (restored, verified, pulled, dry);
    /// `true` when something was reproduced.
    Done(bool),
    /// Spawn its commands.
    Run,
    /// Failed before running.
    Failed(String),
}

/// Decides what to do with stage `i` and does everything up to spawning its
/// commands (DVC's `Stage.reproduce` up to `run_stage`).
fn start_stage(ctx: &mut Ctx<'_>, graph: &Graph, i: usize, force: bool) -> Result<Start> {
    let stage = &graph.stages[i];
    let (repo, opts, rep) = (ctx.repo, ctx.opts, ctx.rep);
    if stage.frozen {
        rep.warn(&format!(
            "stage: '{}' is frozen. Its dependencies are not going to be reproduced.",
            stage.name
        ));
    }
    let recorded = recorded(stage)?;
    let items = stage_status(repo, stage, recorded.as_ref())?;
    if !force && !opts.run_always {
        // As DVC: unchanged (missing data allowed with --allow-missing) is
        // skipped; with --pull, a stage that only misses data pulls it.
        let upstream_changed = |p: &Path| upstream_records_other(graph, i, p);
        let lenient = (opts.allow_missing || opts.pull)
            .then(|| !needs_run(stage, &allow_missing(items.clone(), &upstream_changed)));
        let unchanged = if opts.allow_missing {
            lenient == Some(true)
        } else {
            !needs_run(stage, &items)
        };
        if unchanged {
            rep.line(&format!("Stage '{}' didn't change, skipping", stage.name));
            return Ok(Start::Skip);
        }
        if opts.pull && lenient == Some(true) {
            rep.line(&format!("Pulling data for stage: '{}'", stage.name));
            match crate::pull::pull_stage(repo, stage, recorded.as_ref()) {
                Ok(()) => return Ok(Start::Skip),
                Err(_) => rep.line(&format!("Unable to pull data for stage: '{}'", stage.name)),
            }
        }
    }
    if opts.interactive
        && !rep.confirm(&format!(
            "Going to reproduce stage: '{}'. Are you sure you want to continue?",
            stage.name
        ))
    {
        return Ok(Start::Failed("reproduction aborted by the user".into()));
    }
    if stage.frozen {
        if opts.dry {
            return Ok(Start::Done(true));
        }
        rep.line(&format!(
            "Verifying outputs in frozen stage: '{}'",
            stage.name
        ));
        let missing: Vec<String> = stage
            .outs
            .iter()
            .filter(|o| std::fs::symlink_metadata(&o.abs).is_err())
            .map(|o| o.path.clone())
            .collect();
        if !missing.is_empty() {
            let s = if missing.len() > 1 {
                "sources"
            } else {
                "source"
            };
            return Ok(Start::Failed(format!(
                "missing data '{s}': {}",
                missing.join(", ")
            )));
        }
        return match ctx.commit(stage) {
            Ok(()) => Ok(Start::Done(true)),
            Err(Error::Failed(m)) => Ok(Start::Failed(m)),
            Err(e) => Err(e),
        };
    }
    if opts.pull && !opts.dry && !force {
        crate::pull::pull_missing_deps(repo, graph, stage);
    }
    // Missing deps or params are an error before anything runs (also with
    // --dry, as in DVC).
    if let Err(e) = ctx.measure_deps(stage).and_then(|_| params_for_lock(stage)) {
        return match e {
            Error::Failed(m) | Error::Msg(m) => Ok(Start::Failed(m)),
            e => Err(e),
        };
    }
    if !force || opts.run_always {
        match ctx.restore(stage) {
            Ok(true) => {
                ctx.report.ran.push(stage.name.clone());
                return Ok(Start::Done(true));
            }
            Ok(false) => {}
            Err(Error::Failed(m)) => return Ok(Start::Failed(m)),
            Err(e) => return Err(e),
        }
    }
    rep.line(&format!("Running stage '{}':", stage.name));
    if opts.jobs.max(1) == 1 || opts.dry {
        for c in stage.commands() {
            rep.line(&format!("> {c}"));
        }
    }
    if opts.dry {
        return Ok(Start::Done(true));
    }
    for o in stage.outs.iter().filter(|o| !o.persist) {
        remove_path(&o.abs)
            .map_err(|e| msg(format!("failed to remove '{}': {e}", repo.rel(&o.abs))))?;
    }
    Ok(Start::Run)
}

/// `--allow-missing`: whether an upstream stage's recorded output at `dep`
/// differs from what `graph.stages[i]` recorded for it (then the missing dep
/// still counts as modified).
fn upstream_records_other(graph: &Graph, i: usize, dep: &Path) -> bool {
    let stage = &graph.stages[i];
    let Ok(mine) = recorded(stage) else {
        return true;
    };
    let Some(d) = stage.deps.iter().find(|d| d.abs == dep) else {
        return false;
    };
    let my_md5 = crate::lockfile::recorded_md5(mine.as_ref(), "deps", &d.path).map(str::to_owned);
    graph.upstream[i].iter().any(|&u| {
        let up = &graph.stages[u];
        let theirs = recorded(up).ok().flatten();
        up.outs.iter().any(|o| {
            o.abs == dep
                && crate::lockfile::recorded_md5(theirs.as_ref(), "outs", &o.path)
                    .map(str::to_owned)
                    != my_md5
        })
    })
}
