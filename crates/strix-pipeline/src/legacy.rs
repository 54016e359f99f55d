//! Legacy single-stage `.dvc` files with a `cmd` (DVC 1.x / 2.x pipelines).
//!
//! # Format
//!
//! ```yaml
//! cmd: cp joke.txt joke_copy.txt
//! deps:
//! - path: joke.txt
//!   md5: 1733f858fe075c9ebfc2e611f08142f1
//!   size: 7
//! outs:
//! - path: joke_copy.txt
//!   md5: 1733f858fe075c9ebfc2e611f08142f1
//!   size: 7
//! md5: 734fea132301d449b9332a8dc5094f23
//! ```
//!
//! Top-level keys (DVC 2's `Stage.dumpd` order for a fresh file): `desc`,
//! `md5` (the stage checksum), `cmd`, `wdir` (relative to the file's
//! directory, left out when `.`), `frozen` (`locked` in 1.x), `deps`, `outs`,
//! `always_changed`, `meta`. Entries carry `md5` (DVC 2's dos2unix MD5, no
//! `hash:` key; objects in the old `xx/…` cache layout), `size`, `nfiles`,
//! `isexec` and `path`; outs also `cache: false`, `persist`, `metric`, `plot`
//! and annotations. DVC 3 refuses these files; strix runs them as stages
//! named by their path (`duplicate.dvc`) and, after a run, writes the hashes
//! back the way DVC 2 does: the new dump is applied onto the old text with
//! DVC's apply-diff, so a file without `md5` gets it appended at the end.
//!
//! The stage checksum is the MD5 of Python's `json.dumps(d, sort_keys=True)`
//! of that dump without `md5`, `meta`, `desc` (and `wdir` when `.`), with the
//! keys `desc`, `type`, `labels`, `meta`, `locked`, `frozen`, `metric`,
//! `persist`, `checkpoint`, `isexec`, `size` and `nfiles` removed at every
//! level. Legacy stages never use the run-cache.

use crate::lockfile::{Measured, insert_measured};
use crate::stage::{Dep, Origin, Out, Stage};
use crate::{Result, msg};
use std::path::Path;
use strix_dvcfile::yaml::{self, Mapping, Value};
use strix_dvcfile::{DvcFileError, OutKind};
use strix_repo::Repo;
use strix_repo::repo::normalize;

/// Keys DVC 2 leaves out of the stage checksum, at any depth.
const EXCLUDED: &[&str] = &[
    "desc",
    "type",
    "labels",
    "meta",
    "locked",
    "frozen",
    "metric",
    "persist",
    "checkpoint",
    "isexec",
    "size",
    "nfiles",
];

/// Reads the document of a legacy `.dvc` file (`None` if it is a plain one).
pub fn read_doc(path: &Path, name: &str) -> Result<Option<(String, Mapping)>> {
    let text =
        std::fs::read_to_string(path).map_err(|e| msg(format!("failed to read '{name}': {e}")))?;
    match strix_dvcfile::DvcFile::parse(&text, name) {
        Err(DvcFileError::LegacyStage { stage, .. }) => Ok(Some((text, stage.document))),
        _ => Ok(None),
    }
}

fn flag(m: &Mapping, k: &str) -> bool {
    m.get(k).and_then(Value::as_bool) == Some(true)
}

/// The stage of a legacy `.dvc` file at `path` (absolute).
pub fn stage_of(repo: &Repo, path: &Path, doc: &Mapping) -> Result<Stage> {
    let name = repo.rel(path);
    let dir = path.parent().unwrap_or(repo.root());
    let wdir = match doc.get("wdir").and_then(Value::as_str) {
        Some(w) => normalize(&dir.join(w)),
        None => dir.to_path_buf(),
    };
    let inside = |p: &str| -> Result<std::path::PathBuf> {
        let abs = normalize(&wdir.join(p));
        if !abs.starts_with(repo.root()) {
            return Err(msg(format!("{name}: path '{p}' is outside the repository")));
        }
        Ok(abs)
    };
    let entries = |key: &str| -> Result<Vec<&Mapping>> {
        match doc.get(key) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Seq(items)) => items
                .iter()
                .map(|v| {
                    v.as_map()
                        .filter(|m| m.get("path").and_then(Value::as_str).is_some())
                        .ok_or_else(|| msg(format!("{name}: each '{key}' entry needs a 'path'")))
                })
                .collect(),
            Some(_) => Err(msg(format!("{name}: '{key}' must be a list"))),
        }
    };
    let path_of = |m: &Mapping| {
        m.get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut deps = Vec::new();
    for d in entries("deps")? {
        let p = path_of(d);
        deps.push(Dep {
            abs: inside(&p)?,
            path: p,
        });
    }
    let mut outs = Vec::new();
    for o in entries("outs")? {
        let p = path_of(o);
        let kind = if o.get("metric").is_some_and(|v| v != &Value::Bool(false)) {
            OutKind::Metric
        } else if o.get("plot").is_some_and(|v| v != &Value::Bool(false)) {
            OutKind::Plot
        } else {
            OutKind::Out
        };
        outs.push(Out {
            abs: inside(&p)?,
            path: p,
            kind,
            cache: o.get("cache").and_then(Value::as_bool) != Some(false),
            persist: flag(o, "persist"),
            remote: o.get("remote").and_then(Value::as_str).map(str::to_owned),
        });
    }
    Ok(Stage {
        cmd: doc.get("cmd").cloned().unwrap_or(Value::Null),
        wdir,
        deps,
        params: Vec::new(),
        outs,
        frozen: flag(doc, "frozen") || flag(doc, "locked"),
        always_changed: flag(doc, "always_changed"),
        desc: doc.get("desc").and_then(Value::as_str).map(str::to_owned),
        at: crate::stage::At::file(name.clone()),
        key: name.clone(),
        name,
        origin: Origin::Legacy(path.to_path_buf()),
    })
}

/// Every legacy `.dvc` stage of the repository, sorted by path.
pub fn load(repo: &Repo) -> Result<Vec<Stage>> {
    let mut out = Vec::new();
    for p in strix_repo::index::find_dvcfiles(repo) {
        let name = repo.rel(&p);
        if let Some((_, doc)) = read_doc(&p, &name)? {
            out.push(stage_of(repo, &p, &doc)?);
        }
    }
    Ok(out)
}

fn filtered(v: &Value) -> Value {
    match v {
        Value::Map(m) => {
            let mut out = Mapping::new();
            for (k, v) in m {
                if k.as_str().is_some_and(|k| EXCLUDED.contains(&k)) {
                    continue;
                }
                out.insert(k.clone(), filtered(v));
            }
            Value::Map(out)
        }
        Value::Seq(items) => Value::Seq(items.iter().map(filtered).collect()),
        other => other.clone(),
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Seq(s) => !s.is_empty(),
        Value::Map(m) => !m.is_empty(),
    }
}

/// DVC 2's stage checksum of a legacy stage document (see the module docs).
pub fn compute_md5(doc: &Mapping) -> String {
    let mut d = Mapping::new();
    for key in ["cmd", "wdir", "deps", "outs", "always_changed"] {
        if let Some(v) = doc.get(key).filter(|v| truthy(v)) {
            if key == "wdir" && v.as_str() == Some(".") {
                continue;
            }
            d.insert(key, v.clone());
        }
    }
    let mut s = String::new();
    crate::runcache::push_json(&mut s, &filtered(&Value::Map(d)));
    // Reading a byte slice cannot fail.
    strix_data::hash::md5_stream(&mut s.as_bytes(), None)
        .map(|(md5, _)| md5.to_hex())
        .unwrap_or_default()
}

/// One dep/out entry as DVC 2 dumps it: `md5`, `size`, `nfiles`, `isexec`,
/// `path`, then an out's flags, kept from `old` (annotations, `cache: false`,
/// `persist`, `metric`, `plot`).
fn entry(path: &str, m: &Measured, old: Option<&Mapping>) -> Value {
    let mut e = Mapping::new();
    insert_measured(&mut e, m);
    e.insert("path", path);
    if let Some(old) = old {
        for k in ["desc", "type", "labels", "meta"] {
            if let Some(v) = old.get(k) {
                e.insert(k, v.clone());
            }
        }
        if old.get("cache").and_then(Value::as_bool) == Some(false) {
            e.insert("cache", false);
        }
        for k in ["metric", "plot", "persist"] {
            if let Some(v) = old.get(k).filter(|v| truthy(v)) {
                e.insert(k, v.clone());
            }
        }
    }
    Value::Map(e)
}

/// The run-cache entry DVC 2 keeps for a legacy stage (its single-stage
/// lock form): `cmd`, then `deps` and `outs` sorted by path, each entry
/// `path`, `md5`, `size`, `nfiles`, `isexec` (no `hash` key, unlike DVC 3's).
pub fn run_cache_entry(
    stage: &Stage,
    deps: &[(String, Measured)],
    outs: &[(String, Measured)],
) -> Value {
    let list = |items: &[(String, Measured)]| {
        let mut items: Vec<&(String, Measured)> = items.iter().collect();
        items.sort_by(|a, b| a.0.cmp(&b.0));
        let entries = items.iter().map(|(path, m)| {
            let mut e = Mapping::new();
            e.insert("path", path.as_str());
            insert_measured(&mut e, m);
            Value::Map(e)
        });
        Value::Seq(entries.collect())
    };
    let mut e = Mapping::new();
    e.insert("cmd", stage.cmd.clone());
    if !deps.is_empty() {
        e.insert("deps", list(deps));
    }
    if !outs.is_empty() {
        e.insert("outs", list(outs));
    }
    Value::Map(e)
}

fn old_entry<'a>(doc: &'a Mapping, list: &str, path: &str) -> Option<&'a Mapping> {
    doc.get(list)?
        .as_seq()?
        .iter()
        .filter_map(Value::as_map)
        .find(|e| e.get("path").and_then(Value::as_str) == Some(path))
}

/// Records a run of a legacy stage in its `.dvc` file, keeping comments and
/// key order (DVC 2's apply-diff). Returns whether the file changed.
pub fn record(
    stage: &Stage,
    deps: &[(String, Measured)],
    outs: &[(String, Measured)],
) -> Result<bool> {
    let Origin::Legacy(path) = &stage.origin else {
        return Ok(false);
    };
    let name = &stage.name;
    let Some((text, old)) = read_doc(path, name)? else {
        return Err(msg(format!("'{name}' is no longer a stage file")));
    };
    let mut d = Mapping::new();
    if let Some(v) = old.get("desc") {
        d.insert("desc", v.clone());
    }
    d.insert("md5", "");
    d.insert("cmd", stage.cmd.clone());
    if let Some(w) = old.get("wdir").filter(|w| w.as_str() != Some(".")) {
        d.insert("wdir", w.clone());
    }
    if stage.frozen {
        d.insert("frozen", true);
    }
    // Entries in the file's order (DVC keeps the declared order).
    let list = |key: &str, measured: &[(String, Measured)]| -> Vec<Value> {
        let mut v = Vec::new();
        for (p, m) in measured {
            v.push(entry(p, m, old_entry(&old, key, p)));
        }
        v
    };
    if !deps.is_empty() {
        d.insert("deps", Value::Seq(list("deps", deps)));
    }
    if !outs.is_empty() {
        d.insert("outs", Value::Seq(list("outs", outs)));
    }
    if stage.always_changed {
        d.insert("always_changed", true);
    }
    if let Some(m) = old.get("meta") {
        d.insert("meta", m.clone());
    }
    let md5 = compute_md5(&d);
    d.insert("md5", md5);
    let new = Value::Map(d);
    let fresh = yaml::to_string_wrapped(&new);
    let updated = strix_dvcfile::update_value_text(&text, &new, &fresh)
        .map_err(|e| msg(format!("failed to update '{name}': {e}")))?;
    if updated == text {
        return Ok(false);
    }
    strix_fs::atomic_write(path, updated.as_bytes())
        .map_err(|e| msg(format!("failed to write '{name}': {e}")))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_md5_matches_dvc2() {
        let doc = |t: &str| yaml::parse(t, "x.dvc").unwrap().as_map().unwrap().clone();
        // Values written by dvc 2.58.2 for the classic joke example.
        let download = doc(
            "cmd: echo \"a joke\" > joke.txt\nouts:\n- path: joke.txt\n  md5: 1733f858fe075c9ebfc2e611f08142f1\n  size: 7\n",
        );
        assert_eq!(compute_md5(&download), "3ab42b56ae04d49c0f7d8b29a71f0b50");
        let duplicate = doc(
            "cmd: cp joke.txt joke_copy.txt\ndeps:\n- path: joke.txt\n  md5: 1733f858fe075c9ebfc2e611f08142f1\n  size: 7\nouts:\n- path: joke_copy.txt\n  md5: 1733f858fe075c9ebfc2e611f08142f1\n  size: 7\nmd5: 0\nmeta: {a: 1}\nwdir: .\n",
        );
        assert_eq!(compute_md5(&duplicate), "734fea132301d449b9332a8dc5094f23");
    }
}
