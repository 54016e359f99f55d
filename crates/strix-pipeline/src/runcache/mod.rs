//! The run-cache (`<cache>/runs/<key[0:2]>/<key>/<value>`, spec 4.5).
//!
//! [`remote`] copies the entries to and from a remote (`--run-cache`).

pub mod remote;

use crate::stage::Stage;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use strix_dvcfile::yaml::{self, Mapping, Value};

/// Appends `v` as Python `json.dumps(v, sort_keys=True)` would, dropping
/// `size` and `nfiles` keys at any depth.
pub fn push_json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&yaml::format_float(*f));
            }
        }
        Value::String(s) => strix_data::pyjson::push_str(out, s),
        Value::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                push_json(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            let mut entries: Vec<(String, &Value)> = m
                .iter()
                .filter_map(|(k, v)| {
                    let k = match k {
                        Value::String(s) => s.clone(),
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".into(),
                        Value::Float(f) => yaml::format_float(*f),
                        _ => return None,
                    };
                    (k != "size" && k != "nfiles").then_some((k, v))
                })
                .collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            out.push('{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                strix_data::pyjson::push_str(out, k);
                out.push_str(": ");
                push_json(out, v);
            }
            out.push('}');
        }
    }
}

fn sha256_json(v: &Value) -> String {
    let mut s = String::new();
    push_json(&mut s, v);
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// The run-cache key of a lock entry (outs replaced by their paths).
pub fn key(entry: &Value) -> String {
    let mut e = entry.as_map().cloned().unwrap_or_default();
    if let Some(Value::Seq(outs)) = e.get("outs").cloned() {
        let paths: Vec<Value> = outs
            .iter()
            .filter_map(|o| o.as_map()?.get("path").cloned())
            .collect();
        e.insert("outs", paths);
    }
    sha256_json(&Value::Map(e))
}

/// The run-cache value name of a lock entry.
pub fn value(entry: &Value) -> String {
    sha256_json(entry)
}

/// Whether DVC would keep a run-cache entry for this stage.
pub fn eligible(stage: &Stage) -> bool {
    !stage.deps.is_empty()
        && !stage.outs.is_empty()
        && !stage.always_changed
        && !stage.outs.iter().any(|o| o.persist)
}

/// `<cache>/runs`.
pub fn runs_dir(cache_root: &Path) -> PathBuf {
    cache_root.join("runs")
}

/// Writes the entry; returns its path.
pub fn save(cache_root: &Path, entry: &Value) -> std::io::Result<PathBuf> {
    let k = key(entry);
    let dir = runs_dir(cache_root).join(&k[..2]).join(&k);
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(value(entry));
    if !path.exists() {
        strix_fs::atomic_write_mode(&path, yaml::to_string_wrapped(entry).as_bytes(), 0o644)?;
    }
    Ok(path)
}

/// The newest entry stored under the key of `probe` (whose outs only need
/// paths), if any.
pub fn lookup(cache_root: &Path, probe: &Value) -> Option<Mapping> {
    let k = key(probe);
    let dir = runs_dir(cache_root).join(&k[..2]).join(&k);
    let mut best: Option<(std::time::SystemTime, PathBuf)> = None;
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().ends_with(".tmp") {
            continue;
        }
        let t = e.metadata().and_then(|m| m.modified()).ok()?;
        if best.as_ref().is_none_or(|(bt, _)| t > *bt) {
            best = Some((t, e.path()));
        }
    }
    let text = std::fs::read_to_string(best?.1).ok()?;
    yaml::parse(&text, "run-cache").ok()?.as_map().cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_values_match_vector() {
        let dir = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dvc-vectors/expected/pipeline/runs"
        );
        let mut n = 0;
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(e.path()).unwrap();
            let v = yaml::parse(&text, &name).unwrap();
            let (k, val) = name.trim_end_matches(".yaml").split_once('-').unwrap();
            assert!(key(&v).starts_with(k), "{name}: {}", key(&v));
            assert!(value(&v).starts_with(val), "{name}: {}", value(&v));
            assert_eq!(yaml::to_string_wrapped(&v), text);
            n += 1;
        }
        assert_eq!(n, 2);
    }

    #[test]
    fn key_json_matches_spec() {
        let v = yaml::parse(
            "cmd: cp raw.txt prep.txt\ndeps:\n- path: raw.txt\n  hash: md5\n  md5: 8a9d9e624359c683c8d4e08139b7eac0\n  size: 9\nouts:\n- prep.txt\n",
            "x",
        )
        .unwrap();
        let mut s = String::new();
        push_json(&mut s, &v);
        assert_eq!(
            s,
            r#"{"cmd": "cp raw.txt prep.txt", "deps": [{"hash": "md5", "md5": "8a9d9e624359c683c8d4e08139b7eac0", "path": "raw.txt"}], "outs": ["prep.txt"]}"#
        );
    }
}
