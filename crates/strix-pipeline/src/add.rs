//! `stage add`: writes a stage into `dvc.yaml` the way DVC does.

use crate::graph::Graph;
use crate::stage::{DEFAULT_PARAMS, dvc_yaml, parse_file_stages};
use crate::{Result, msg};
use std::path::{Path, PathBuf};
use strix_dvcfile::yaml::{self, Mapping, Value};
use strix_repo::Repo;

/// `stage add` arguments.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// `-n`.
    pub name: String,
    /// The command.
    pub cmd: String,
    /// `-d`.
    pub deps: Vec<String>,
    /// `-o`.
    pub outs: Vec<String>,
    /// `-O`.
    pub outs_no_cache: Vec<String>,
    /// `--outs-persist`.
    pub outs_persist: Vec<String>,
    /// `--outs-persist-no-cache`.
    pub outs_persist_no_cache: Vec<String>,
    /// `-p` values (`k1,k2`, `file:k1,k2`, `file:`).
    pub params: Vec<String>,
    /// `-m`.
    pub metrics: Vec<String>,
    /// `-M`.
    pub metrics_no_cache: Vec<String>,
    /// `--plots`.
    pub plots: Vec<String>,
    /// `--plots-no-cache`.
    pub plots_no_cache: Vec<String>,
    /// `-w`.
    pub wdir: Option<String>,
    /// `-f`.
    pub force: bool,
    /// `--always-changed`.
    pub always_changed: bool,
    /// `--desc`.
    pub desc: Option<String>,
}

/// What `stage add` wrote.
#[derive(Debug)]
pub struct Added {
    /// The `dvc.yaml` written.
    pub dvc_yaml: PathBuf,
    /// `.gitignore` files touched.
    pub gitignores: Vec<PathBuf>,
    /// `.gitignore` files that could not be written because their folder
    /// does not exist yet (`repro` adds the entries once the stage ran).
    pub gitignores_later: Vec<PathBuf>,
}

fn flagged(path: &str, flag: &str) -> Value {
    let mut f = Mapping::new();
    f.insert(flag, flag != "cache");
    let mut m = Mapping::new();
    m.insert(path, f);
    Value::Map(m)
}

fn out_list(items: Vec<(String, Value)>) -> Option<Value> {
    if items.is_empty() {
        return None;
    }
    let mut items = items;
    items.sort_by(|a, b| a.0.cmp(&b.0));
    Some(Value::Seq(items.into_iter().map(|(_, v)| v).collect()))
}

/// The params list as DVC writes it: `params.yaml` keys first as strings,
/// then other files sorted as `{file: [keys]}` (or `{file: null}`).
pub fn params_value(specs: &[String]) -> Option<Value> {
    let mut files: Vec<(String, Option<Vec<String>>)> = Vec::new();
    for spec in specs {
        let (file, keys) = match spec.rsplit_once(':') {
            Some((f, k)) => (f.to_owned(), k),
            None => (DEFAULT_PARAMS.to_owned(), spec.as_str()),
        };
        let keys: Vec<String> = keys
            .split(',')
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        let slot = match files.iter_mut().position(|(f, _)| *f == file) {
            Some(i) => &mut files[i].1,
            None => {
                files.push((file, Some(Vec::new())));
                &mut files.last_mut().expect("pushed").1
            }
        };
        if keys.is_empty() {
            *slot = None;
        } else if let Some(have) = slot {
            for k in keys {
                if !have.contains(&k) {
                    have.push(k);
                }
            }
        }
    }
    if files.is_empty() {
        return None;
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<Value> = Vec::new();
    let mut default_keys: Vec<Value> = Vec::new();
    for (file, keys) in files {
        match keys {
            Some(k) if file == DEFAULT_PARAMS && !k.is_empty() => {
                default_keys = k.into_iter().map(Value::from).collect();
            }
            Some(k) if !k.is_empty() => {
                let mut m = Mapping::new();
                m.insert(
                    file.as_str(),
                    Value::Seq(k.into_iter().map(Value::from).collect()),
                );
                out.push(Value::Map(m));
            }
            _ => {
                let mut m = Mapping::new();
                m.insert(file.as_str(), Value::Null);
                out.push(Value::Map(m));
            }
        }
    }
    default_keys.extend(out);
    Some(Value::Seq(default_keys))
}

/// The stage mapping in DVC's key order.
pub fn stage_value(o: &AddOptions) -> Value {
    let mut m = Mapping::new();
    if let Some(d) = &o.desc {
        m.insert("desc", d.as_str());
    }
    m.insert("cmd", o.cmd.as_str());
    if let Some(w) = &o.wdir
        && !w.is_empty()
        && w != "."
    {
        m.insert("wdir", w.as_str());
    }
    if !o.deps.is_empty() {
        let mut d = o.deps.clone();
        d.sort();
        d.dedup();
        m.insert("deps", Value::Seq(d.into_iter().map(Value::from).collect()));
    }
    if let Some(p) = params_value(&o.params) {
        m.insert("params", p);
    }
    let plain = |v: &[String]| {
        v.iter()
            .map(|p| (p.clone(), Value::from(p.as_str())))
            .collect::<Vec<_>>()
    };
    let flag = |v: &[String], f: &str| {
        v.iter()
            .map(|p| (p.clone(), flagged(p, f)))
            .collect::<Vec<_>>()
    };
    let mut outs = plain(&o.outs);
    outs.extend(flag(&o.outs_no_cache, "cache"));
    outs.extend(flag(&o.outs_persist, "persist"));
    outs.extend(o.outs_persist_no_cache.iter().map(|p| {
        let mut f = Mapping::new();
        f.insert("cache", false);
        f.insert("persist", true);
        let mut m = Mapping::new();
        m.insert(p.as_str(), f);
        (p.clone(), Value::Map(m))
    }));
    if let Some(v) = out_list(outs) {
        m.insert("outs", v);
    }
    let mut metrics = plain(&o.metrics);
    metrics.extend(flag(&o.metrics_no_cache, "cache"));
    if let Some(v) = out_list(metrics) {
        m.insert("metrics", v);
    }
    let mut plots = plain(&o.plots);
    plots.extend(flag(&o.plots_no_cache, "cache"));
    if let Some(v) = out_list(plots) {
        m.insert("plots", v);
    }
    if o.always_changed {
        m.insert("always_changed", true);
    }
    Value::Map(m)
}

/// Adds (or with `force` replaces) the stage in the `dvc.yaml` of `cwd`, as
/// DVC does: its paths and `wdir` are taken from `cwd`.
/// The new stage's outputs against those of the other stages of its
/// `dvc.yaml`, with DVC's messages for `stage add`: the same path is
/// "already specified", a path inside another "overlaps".
fn check_new_outs(cwd: &Path, o: &AddOptions, existing: &[crate::stage::Stage]) -> Result<()> {
    let wdir = match &o.wdir {
        Some(w) => strix_repo::repo::normalize(&cwd.join(w)),
        None => cwd.to_path_buf(),
    };
    let new_outs = o
        .outs
        .iter()
        .chain(&o.outs_no_cache)
        .chain(&o.outs_persist)
        .chain(&o.outs_persist_no_cache)
        .chain(&o.metrics)
        .chain(&o.metrics_no_cache)
        .chain(&o.plots)
        .chain(&o.plots_no_cache);
    for p in new_outs {
        let abs = strix_repo::repo::normalize(&wdir.join(p));
        for s in existing.iter().filter(|s| s.key != o.name) {
            for e in &s.outs {
                let (parent, child) = if e.abs == abs {
                    return Err(msg(format!(
                        "output '{p}' is already specified in stage: '{}'.\nUse `strix remove {}` to stop tracking the overlapping output.",
                        s.name, s.name
                    )));
                } else if abs.starts_with(&e.abs) {
                    ((&e.path, &s.name), (p, &o.name))
                } else if e.abs.starts_with(&abs) {
                    ((p, &o.name), (&e.path, &s.name))
                } else {
                    continue;
                };
                return Err(msg(format!(
                    "The output paths:\n'{}'('{}')\n'{}'('{}')\noverlap and are thus in the same tracked directory.\nTo keep reproducibility, outputs should be in separate tracked directories or tracked individually.",
                    parent.0, parent.1, child.0, child.1
                )));
            }
        }
    }
    Ok(())
}

pub fn stage_add(repo: &Repo, cwd: &Path, o: &AddOptions) -> Result<Added> {
    let name = &o.name;
    if name.is_empty()
        || name.contains(['/', '\\', ':', '@', '$', '{', '}'])
        || name.starts_with('.')
    {
        return Err(msg(
            "Stage name cannot contain punctuation characters.".to_string()
        ));
    }
    let path = dvc_yaml(cwd);
    let old_text = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(msg(format!("failed to read 'dvc.yaml': {e}"))),
    };
    let old = match &old_text {
        Some(t) => yaml::parse(t, "dvc.yaml").map_err(|e| msg(e.to_string()))?,
        None => Value::Null,
    };
    let mut top = old.as_map().cloned().unwrap_or_default();
    let mut stages = top
        .get("stages")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    if stages.contains_key(name) && !o.force {
        return Err(msg(format!(
            "Stage '{name}' already exists in 'dvc.yaml'. Use '--force' to overwrite."
        )));
    }
    stages.insert(name.as_str(), stage_value(o));
    top.insert("stages", stages);
    let new = Value::Map(top);
    let fresh = yaml::to_string_wrapped(&new);
    let text = match &old_text {
        Some(t) if yaml::to_string_wrapped(&old) != *t && !t.trim().is_empty() => {
            strix_dvcfile::update_value_text(t, &new, &fresh)
                .map_err(|e| msg(format!("failed to update 'dvc.yaml': {e}")))?
        }
        _ => fresh,
    };
    if let Some(old_text) = &old_text {
        let existing = parse_file_stages(repo.root(), &path, "dvc.yaml", old_text)?;
        check_new_outs(cwd, o, &existing)?;
    }
    // Validate the result as a whole before writing it.
    Graph::build(
        parse_file_stages(repo.root(), &path, "dvc.yaml", &text)?,
        repo.root(),
    )?;
    strix_fs::atomic_write(&path, text.as_bytes())
        .map_err(|e| msg(format!("failed to write 'dvc.yaml': {e}")))?;
    let wdir = match &o.wdir {
        Some(w) => strix_repo::repo::normalize(&cwd.join(w)),
        None => cwd.to_path_buf(),
    };
    let mut gitignores = Vec::new();
    let mut gitignores_later = Vec::new();
    for p in o
        .outs
        .iter()
        .chain(&o.outs_persist)
        .chain(&o.metrics)
        .chain(&o.plots)
    {
        let abs = strix_repo::repo::normalize(&wdir.join(p));
        match abs.parent() {
            Some(dir) if !dir.is_dir() => gitignores_later.push(dir.join(".gitignore")),
            _ => gitignores.extend(strix_repo::add::ensure_gitignore(repo, &abs, abs.is_dir())?),
        }
    }
    Ok(Added {
        dvc_yaml: path,
        gitignores,
        gitignores_later,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vector_dvc_yaml() {
        let a = AddOptions {
            name: "prepare".into(),
            cmd: "cp raw.txt prep.txt".into(),
            deps: vec!["raw.txt".into()],
            outs: vec!["prep.txt".into()],
            ..Default::default()
        };
        let b = AddOptions {
            name: "train".into(),
            cmd: "mkdir -p model && cp prep.txt model/weights && printf '{\"acc\": 0.5}' > metrics.json".into(),
            deps: vec!["prep.txt".into()],
            params: vec!["lr,train".into()],
            outs: vec!["model".into()],
            metrics_no_cache: vec!["metrics.json".into()],
            ..Default::default()
        };
        let mut stages = Mapping::new();
        stages.insert("prepare", stage_value(&a));
        stages.insert("train", stage_value(&b));
        let mut top = Mapping::new();
        top.insert("stages", stages);
        let expected = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dvc-vectors/expected/pipeline/dvc.yaml"
        ))
        .unwrap();
        assert_eq!(yaml::to_string_wrapped(&Value::Map(top)), expected);
    }

    #[test]
    fn params_rules() {
        let v = params_value(&["p.json:".into(), "b,a".into(), "x.yaml:k".into()]).unwrap();
        assert_eq!(
            yaml::to_string(&v),
            "- b\n- a\n- p.json:\n- x.yaml:\n  - k\n"
        );
    }
}
