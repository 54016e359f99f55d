//! `freeze` / `unfreeze`: set or clear a stage's `frozen: true` in `dvc.yaml`.
//!
//! DVC re-serializes the stage and applies it onto the file with its
//! apply-diff algorithm, so `frozen: true` is appended as the stage's last key
//! and removed again by `unfreeze`; comments, flow style and the order of
//! everything else survive. Here only the `frozen` key changes (DVC would also
//! re-sort hand-written `deps` lists; strix leaves them as written).

use crate::stage::{Stage, dvc_yaml, load_stages};
use crate::{Result, msg};
use std::path::PathBuf;
use strix_dvcfile::yaml::{self, Value};
use strix_repo::Repo;

/// Finds the stage a `freeze` target names: `name` or `dvc.yaml:name`.
fn find<'a>(stages: &'a [Stage], target: &str) -> Result<&'a Stage> {
    let name = target
        .strip_prefix("dvc.yaml:")
        .or_else(|| target.strip_prefix("./dvc.yaml:"))
        .unwrap_or(target);
    stages
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| msg(format!("Stage '{name}' not found inside 'dvc.yaml' file")))
}

/// Sets `frozen` of the stage named by `target` and rewrites `dvc.yaml` in
/// place. Returns the path written and the stage name.
pub fn set_frozen(repo: &Repo, target: &str, frozen: bool) -> Result<(PathBuf, String)> {
    let stages = load_stages(repo.root())?;
    let stage = find(&stages, target)?;
    let name = stage.name.clone();
    let path = dvc_yaml(repo.root());
    let text = std::fs::read_to_string(&path)
        .map_err(|e| msg(format!("failed to read 'dvc.yaml': {e}")))?;
    let doc = yaml::parse(&text, "dvc.yaml").map_err(|e| msg(e.to_string()))?;
    let mut top = doc.as_map().cloned().unwrap_or_default();
    let mut all = top
        .get("stages")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let Some(mut def) = all.get(&name).and_then(Value::as_map).cloned() else {
        return Err(msg(format!(
            "Stage '{name}' not found inside 'dvc.yaml' file"
        )));
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
        .map_err(|e| msg(format!("failed to update 'dvc.yaml': {e}")))?;
    if new != text {
        strix_fs::atomic_write(&path, new.as_bytes())
            .map_err(|e| msg(format!("failed to write 'dvc.yaml': {e}")))?;
    }
    Ok((path, name))
}
