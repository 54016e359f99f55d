//! `strix status`.

use crate::ui::Printer;
use crate::ui::errors::Failure;
use crate::ui::progress::Bars;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Limit to these .dvc files or outputs.
    targets: Vec<PathBuf>,
    /// Print the status as JSON.
    #[arg(long)]
    json: bool,
    /// Compare the cache with a remote (not available yet).
    #[arg(short, long)]
    cloud: bool,
}

pub fn run(a: Args, p: &Printer) -> Result<i32, Failure> {
    if a.cloud {
        return Err(Failure::new(
            anyhow::anyhow!(
                "`status --cloud` needs remote support, which this build does not have yet"
            ),
            1,
        ));
    }
    let (mut repo, cwd) = super::open_repo()?;
    let bars = Bars::new(p.quiet || a.json);
    let result = strix_repo::status::status(&repo, &cwd, &a.targets, &bars);
    repo.save_state();
    let changed = result?;
    if a.json {
        let mut obj = serde_json::Map::new();
        for f in &changed {
            let mut outs = serde_json::Map::new();
            for (path, st) in &f.outs {
                outs.insert(
                    super::display_rel(&cwd, path),
                    serde_json::Value::String(st.as_str().into()),
                );
            }
            let mut entry = serde_json::Map::new();
            entry.insert("changed outs".into(), serde_json::Value::Object(outs));
            obj.insert(
                super::display_rel(&cwd, &f.dvcfile),
                serde_json::Value::Array(vec![serde_json::Value::Object(entry)]),
            );
        }
        p.out(serde_json::Value::Object(obj).to_string());
    } else if changed.is_empty() {
        let any = !strix_repo::index::find_dvcfiles(&repo).is_empty();
        if any {
            p.out("Data and pipelines are up to date.");
        } else {
            p.out("There are no data or pipelines tracked in this project yet.");
        }
    } else {
        for f in &changed {
            p.out(format!("{}:", super::display_rel(&cwd, &f.dvcfile)));
            p.out("\tchanged outs:");
            for (path, st) in &f.outs {
                p.out(format!(
                    "\t\t{:<20}{}",
                    format!("{}:", st.as_str()),
                    super::display_rel(&cwd, path)
                ));
            }
        }
    }
    Ok(if changed.is_empty() || !p.quiet { 0 } else { 1 })
}
