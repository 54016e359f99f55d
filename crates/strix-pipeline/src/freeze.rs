//! `freeze` / `unfreeze`: set or clear a stage's `frozen: true` in `dvc.yaml`.
//!
//! DVC re-serializes the stage and applies it onto the file with its
//! apply-diff algorithm, so `frozen: true` is appended as the stage's last key
//! and removed again by `unfreeze`; comments, flow style and the order of
//! everything else survive. Here only the `frozen` key changes (DVC would also
//! re-sort hand-written `deps` lists; strix leaves them as written).
//!
//! Targets are read as DVC reads them: `name` is a stage of the `dvc.yaml`
//! of the current directory, `path/to/dvc.yaml:name` one of another file
//! (paths from the current directory).

use crate::stage::{load_pipeline, relpath};
use crate::{Result, msg};
use std::path::{Path, PathBuf};
use strix_dvcfile::yaml::{self, Value};
use strix_repo::Repo;
use strix_repo::repo::normalize;

/// A stage `freeze` changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Frozen {
    /// The `dvc.yaml` written (absolute).
    pub path: PathBuf,
    /// The file from the current directory (`dvc.yaml`, `sub/dvc.yaml`).
    pub label: String,
    /// The stage's name in that file.
    pub name: String,
}

/// The file and stage name a target names, the file absolute.
pub(crate) fn target_of(cwd: &Path, target: &str) -> Result<(PathBuf, String)> {
    let (file, name) = match target.rsplit_once(':') {
        Some((f, n)) if f.ends_with("dvc.yaml") => (f, n),
        _ if target.ends_with("dvc.yaml") => {
            return Err(msg(format!(
                "Stage name not provided.Please specify the name as: `{target}:stage_name`"
            )));
        }
        _ => ("dvc.yaml", target),
    };
    let path = normalize(&cwd.join(file));
    if !path.is_file() {
        return Err(msg(if file == "dvc.yaml" && name == target {
            "'dvc.yaml' does not exist".to_owned()
        } else {
            format!("'{}' does not exist", path.display())
        }));
    }
    Ok((path, name.to_owned()))
}

/// Sets `frozen` of the stage named by `target` (from `cwd`) and rewrites
/// its `dvc.yaml` in place.
pub fn set_frozen(repo: &Repo, cwd: &Path, target: &str, frozen: bool) -> Result<Frozen> {
    let (path, name) = target_of(cwd, target)?;
    let label = relpath(&path, cwd);
    let not_found = || msg(format!("Stage '{name}' not found inside '{label}' file"));
    let stages = load_pipeline(repo, cwd, &path)?;
    if !stages.iter().any(|s| s.key == name) {
        return Err(not_found());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| msg(format!("failed to read '{label}': {e}")))?;
    let doc = yaml::parse(&text, &label).map_err(|e| msg(e.to_string()))?;
    let mut top = doc.as_map().cloned().unwrap_or_default();
    let mut all = top
        .get("stages")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let Some(mut def) = all.get(&name).and_then(Value::as_map).cloned() else {
        return Err(not_found());
    };
    if frozen {
        def.insert("frozen", true);
    } else {
        def.remove("frozen");
    }
    all.insert(name.as_str(), def);
    top.insert("stages", all);
    let doc = Value::Map(top);
    let fresh = yaml::to_string_wrapped(&doc);
    let new = strix_dvcfile::update_value_text(&text, &doc, &fresh)
        .map_err(|e| msg(format!("failed to update '{label}': {e}")))?;
    if new != text {
        strix_fs::atomic_write(&path, new.as_bytes())
            .map_err(|e| msg(format!("failed to write '{label}': {e}")))?;
    }
    Ok(Frozen { path, label, name })
}
