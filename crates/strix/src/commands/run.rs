//! `strix run`: DVC 2's `run` (add a stage to dvc.yaml and run it).

use super::pipeline_common::{PrinterReporter, failure};
use crate::ui::Printer;
use crate::ui::errors::Failure;
use std::sync::Mutex;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    def: super::stage::AddArgs,
    /// Only write the stage to dvc.yaml; do not run it.
    #[arg(long)]
    no_exec: bool,
    /// Do not save outputs to the cache.
    #[arg(long)]
    no_commit: bool,
    /// Neither restore from nor save to the run-cache.
    #[arg(long)]
    no_run_cache: bool,
}

/// Prints DVC 2's "Adding stage" lines just before the first lock-file line,
/// where `dvc run` prints them (it writes dvc.yaml after the command ran).
struct Deferred<'a> {
    inner: PrinterReporter<'a>,
    pending: Mutex<Vec<String>>,
}

impl Deferred<'_> {
    fn flush(&self) {
        let lines = self.pending.lock().map(|mut p| std::mem::take(&mut *p));
        for l in lines.unwrap_or_default() {
            self.inner.0.out(l);
        }
    }
}

impl strix_pipeline::Reporter for Deferred<'_> {
    fn line(&self, s: &str) {
        if s.starts_with("Generating lock file") || s.starts_with("Updating lock file") {
            self.flush();
        }
        self.inner.line(s);
    }
    fn warn(&self, s: &str) {
        self.inner.warn(s);
    }
    fn err_line(&self, s: &str) {
        self.inner.err_line(s);
    }
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    let (mut repo, cwd) = super::open_repo()?;
    let yaml = cwd.join("dvc.yaml");
    let old_text = std::fs::read(&yaml).ok();
    let existed_stage = strix_pipeline::stage::load_pipeline(&repo, &cwd, &yaml)
        .map(|s| s.iter().any(|s| s.key == a.def.name))
        .unwrap_or(false);
    let added = {
        let _session = repo.lock()?;
        strix_pipeline::add::stage_add(&repo, &cwd, &a.def.options()).map_err(failure)?
    };
    let mut notes = Vec::new();
    if old_text.is_none() {
        notes.push("Creating 'dvc.yaml'".to_owned());
    }
    let verb = if existed_stage { "Modifying" } else { "Adding" };
    notes.push(format!("{verb} stage '{}' in 'dvc.yaml'", a.def.name));
    let mut files = vec![added.dvc_yaml.clone()];
    files.extend(added.gitignores);
    if a.no_exec {
        for n in notes {
            p.out(n);
        }
    } else {
        let rep = Deferred {
            inner: PrinterReporter(p),
            pending: Mutex::new(notes),
        };
        strix_pipeline::repro::install_interrupt_handler();
        let ropts = strix_pipeline::repro::Options {
            single: true,
            run_always: true,
            jobs: 1,
            no_commit: a.no_commit,
            no_run_cache: a.no_run_cache,
            ..Default::default()
        };
        let result = strix_pipeline::repro::repro(
            &repo,
            &cwd,
            &[format!("{}:{}", yaml.display(), a.def.name)],
            &ropts,
            &rep,
        );
        repo.save_state();
        let failed = match &result {
            Ok(r) => r.failures.first().map(|(n, why)| {
                format!(
                    "{}: {why}",
                    strix_pipeline::repro::failure_message(&[n.as_str()])
                )
            }),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failed {
            // DVC writes dvc.yaml only after a successful run: undo.
            let _session = repo.lock()?;
            let undo = match &old_text {
                Some(t) => strix_fs::atomic_write(&yaml, t),
                None => std::fs::remove_file(&yaml),
            };
            if let Err(e) = undo {
                p.warn(format!("could not restore 'dvc.yaml': {e}"));
            }
            let code = match result {
                Err(e) => failure(e).code,
                Ok(_) => 255,
            };
            return Err(Failure::new(anyhow::anyhow!("{why}"), code));
        }
        rep.flush();
        let report = result.map_err(failure)?;
        files.extend(report.locks.iter().cloned());
        files.extend(report.gitignores);
    }
    for line in super::stage_or_hint(&repo, &cwd, &files)? {
        p.out(line);
    }
    Ok(0)
}
