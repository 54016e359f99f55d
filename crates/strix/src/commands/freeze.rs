//! `strix freeze` and `strix unfreeze`.

use super::pipeline_common::failure;
use crate::ui::Printer;
use crate::ui::errors::{Failure, report};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Stages to freeze or unfreeze: names (of the `dvc.yaml` of the current
    /// directory) or `path/to/dvc.yaml:name`.
    #[arg(required = true)]
    targets: Vec<String>,
}

/// Runs `freeze` (`frozen = true`) or `unfreeze`: every target is tried; a
/// failing one is reported and makes the exit code 1, as in DVC.
pub fn run(a: Args, frozen: bool, p: &Printer) -> Result<i32, Failure> {
    let (repo, cwd) = super::open_repo()?;
    let action = if frozen { "freeze" } else { "unfreeze" };
    let _session = repo.lock()?;
    let mut code = 0;
    let mut written = Vec::new();
    for t in &a.targets {
        match strix_pipeline::freeze::set_frozen(&repo, &cwd, t, frozen) {
            Ok(f) => {
                p.out(format!("Modifying stage '{}' in '{}'", f.name, f.label));
                written.push(f.path);
            }
            Err(e) => {
                let f = failure(e);
                report(
                    p,
                    &Failure::new(anyhow::anyhow!("failed to {action} '{t}' - {}", f.error), 1),
                );
                code = 1;
            }
        }
    }
    // Like DVC: staged with core.autostage, no hint otherwise.
    if repo.settings().autostage && !written.is_empty() {
        super::stage_or_hint(&repo, &cwd, &written)?;
    }
    Ok(code)
}
