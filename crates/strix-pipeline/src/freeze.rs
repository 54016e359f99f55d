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
use strix_dvcfile::yaml::{self, Mapping, Value};
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
fn target_of(cwd: &Path, target: &str) -> Result<(PathBuf, String)> {
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

/// One stage of a `dvc.yaml`, read for an edit of the file's `stages`
/// mapping (`freeze`, `remove`); [`StageEdit::save`] writes the edit back
/// with only what changed, comments and order kept.
pub(crate) struct StageEdit {
    /// The `dvc.yaml` (absolute).
    pub path: PathBuf,
    /// The file from the current directory (`dvc.yaml`, `sub/dvc.yaml`).
    pub label: String,
    /// The stage's name in that file.
    pub name: String,
    /// The file's stages as loaded (templates expanded).
    pub loaded: Vec<crate::stage::Stage>,
    /// The `stages` mapping as written, to edit.
    pub stages: Mapping,
    text: String,
    top: Mapping,
}

impl StageEdit {
    /// Reads the file of the stage named by `target` (from `cwd`); the
    /// stage must exist.
    pub(crate) fn open(repo: &Repo, cwd: &Path, target: &str) -> Result<Self> {
        let (path, name) = target_of(cwd, target)?;
        let label = relpath(&path, cwd);
        let loaded = load_pipeline(repo, cwd, &path)?;
        let text = std::fs::read_to_string(&path)
            .map_err(|e| msg(format!("failed to read '{label}': {e}")))?;
        let doc = yaml::parse(&text, &label).map_err(|e| msg(e.to_string()))?;
        let top = doc.as_map().cloned().unwrap_or_default();
        let stages = top
            .get("stages")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        let edit = Self {
            path,
            label,
            name,
            loaded,
            stages,
            text,
            top,
        };
        if !edit.loaded.iter().any(|s| s.key == edit.name) {
            return Err(edit.not_found());
        }
        Ok(edit)
    }

    /// DVC's error for a stage the file does not define.
    pub(crate) fn not_found(&self) -> crate::Error {
        msg(format!(
            "Stage '{}' not found inside '{}' file",
            self.name, self.label
        ))
    }

    /// Writes the file with the edited `stages`, if that changes it.
    pub(crate) fn save(mut self) -> Result<()> {
        let label = &self.label;
        self.top.insert("stages", self.stages);
        let doc = Value::Map(self.top);
        let fresh = yaml::to_string_wrapped(&doc);
        let new = strix_dvcfile::update_value_text(&self.text, &doc, &fresh)
            .map_err(|e| msg(format!("failed to update '{label}': {e}")))?;
        if new != self.text {
            strix_fs::atomic_write(&self.path, new.as_bytes())
                .map_err(|e| msg(format!("failed to write '{label}': {e}")))?;
        }
        Ok(())
    }
}

/// Sets `frozen` of the stage named by `target` (from `cwd`) and rewrites
/// its `dvc.yaml` in place.
pub fn set_frozen(repo: &Repo, cwd: &Path, target: &str, frozen: bool) -> Result<Frozen> {
    let mut edit = StageEdit::open(repo, cwd, target)?;
    let name = edit.name.clone();
    let Some(mut def) = edit.stages.get(&name).and_then(Value::as_map).cloned() else {
        return Err(edit.not_found());
    };
    if frozen {
        def.insert("frozen", true);
    } else {
        def.remove("frozen");
    }
    edit.stages.insert(name.as_str(), def);
    let (path, label) = (edit.path.clone(), edit.label.clone());
    edit.save()?;
    Ok(Frozen { path, label, name })
}
