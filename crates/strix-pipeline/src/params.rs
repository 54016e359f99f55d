//! Params files: reading values (YAML, JSON, TOML, Python) and comparing
//! them like Python does.

mod formats;
pub mod python;

use crate::stage::{DEFAULT_PARAMS, ParamsDep};
use crate::{Result, msg};
use std::path::Path;
use strix_dvcfile::yaml::{self, Mapping, Value};

/// Why a params (or vars) file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ParamsError {
    /// The file could not be read.
    #[error("failed to read '{path}': {source}")]
    Io {
        /// Display path.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The text does not parse in the file's format.
    #[error("unable to read: '{path}', {kind} file structure is corrupted: {why}")]
    Corrupted {
        /// Display path.
        path: String,
        /// `YAML`, `JSON`, `TOML`, `Python`.
        kind: &'static str,
        /// The parser's message.
        why: String,
    },
    /// A Python literal strix cannot record.
    #[error("unable to read: '{path}', {source}")]
    Python {
        /// Display path.
        path: String,
        /// The cause.
        source: python::PyError,
    },
}

/// Reads a params file by its extension: `.json`, `.toml`, `.py`, anything
/// else as YAML (as DVC does). An empty or false-y document reads as `{}`.
pub fn load(abs: &Path, display: &str) -> std::result::Result<Value, ParamsError> {
    let text = std::fs::read_to_string(abs).map_err(|source| ParamsError::Io {
        path: display.to_owned(),
        source,
    })?;
    let ext = abs
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let corrupted = |kind, why: String| ParamsError::Corrupted {
        path: display.to_owned(),
        kind,
        why,
    };
    let v = match ext.as_str() {
        "json" => {
            let j: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| corrupted("JSON", e.to_string()))?;
            formats::from_json(j)
        }
        "toml" => {
            let t: toml::Table = text
                .parse()
                .map_err(|e: toml::de::Error| corrupted("TOML", e.message().to_owned()))?;
            formats::from_toml(toml::Value::Table(t))
        }
        "py" => python::parse(&text).map_err(|source| ParamsError::Python {
            path: display.to_owned(),
            source,
        })?,
        _ => yaml::parse(&text, display).map_err(|e| corrupted("YAML", e.to_string()))?,
    };
    Ok(if formats::falsy(&v) {
        Value::Map(Mapping::new())
    } else {
        v
    })
}

/// Reads a params file; `Ok(None)` if it does not exist.
pub fn read_file(abs: &Path, display: &str) -> Result<Option<Value>> {
    match load(abs, display) {
        Ok(v) => Ok(Some(v)),
        Err(ParamsError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            Ok(None)
        }
        Err(e) => Err(msg(e.to_string())),
    }
}

/// Python's type name of a value, for messages.
pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Float(_) => "float",
        Value::String(_) => "str",
        Value::Seq(_) => "list",
        Value::Map(_) => "dict",
    }
}

/// Looks up a dotted key (`train.epochs`, `layers.0`, `layers.-1`) as DVC's
/// dpath does: a key with a dot in it is never matched whole, and integer
/// dict keys match their decimal text.
pub fn lookup<'a>(root: &'a Value, key: &str) -> Option<&'a Value> {
    let mut cur = root;
    for part in key.split('.') {
        cur = match cur {
            Value::Map(m) => m.get(part).or_else(|| {
                m.iter()
                    .find(|(k, _)| matches!(k, Value::Int(i) if i.to_string() == part))
                    .map(|(_, v)| v)
            })?,
            Value::Seq(s) => {
                let i: i64 = part.parse().ok()?;
                let i = if i < 0 { s.len() as i64 + i } else { i };
                s.get(usize::try_from(i).ok()?)?
            }
            _ => return None,
        };
    }
    Some(cur)
}

/// Python `==` (numbers compare across int/float/bool).
pub fn py_eq(a: &Value, b: &Value) -> bool {
    fn num(v: &Value) -> Option<f64> {
        match v {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| py_eq(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| py_eq(k, k2))
                        .is_some_and(|(_, v2)| py_eq(v, v2))
                })
        }
        _ => match (num(a), num(b)) {
            (Some(x), Some(y)) => x == y,
            _ => a == b,
        },
    }
}

/// Current values of one params dependency: key -> value (keys sorted for
/// the lock; whole-file dependencies list every top-level key, sorted).
/// `None` if the file does not exist.
pub fn current(wdir: &Path, dep: &ParamsDep) -> Result<Option<KeyValues>> {
    let Some(root) = read_file(&wdir.join(&dep.file), &dep.file)? else {
        return Ok(None);
    };
    let mut keys: Vec<String> = match &dep.keys {
        Some(k) => k.clone(),
        None => root
            .as_map()
            .map(|m| {
                m.iter()
                    .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    keys.sort();
    keys.dedup();
    Ok(Some(
        keys.into_iter()
            .map(|k| {
                let v = lookup(&root, &k).cloned();
                (k, v)
            })
            .collect(),
    ))
}

/// Keys and their values (`None`: the key is missing).
pub type KeyValues = Vec<(String, Option<Value>)>;

/// Params of a stage as recorded in the lock: file -> sorted (key, value).
pub type LockParams = Vec<(String, Vec<(String, Value)>)>;

/// Orders params files as DVC writes them: `params.yaml` first, then sorted.
pub fn file_order(a: &str, b: &str) -> std::cmp::Ordering {
    (a != DEFAULT_PARAMS, a).cmp(&(b != DEFAULT_PARAMS, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_equality() {
        assert!(py_eq(&Value::Int(1), &Value::Float(1.0)));
        assert!(py_eq(&Value::Bool(true), &Value::Int(1)));
        assert!(!py_eq(&Value::Int(1), &Value::String("1".into())));
        assert!(py_eq(
            &Value::Seq(vec![Value::Int(1)]),
            &Value::Seq(vec![Value::Float(1.0)])
        ));
    }

    #[test]
    fn dotted_lookup() {
        let v = yaml::parse("train:\n  epochs: 10\n  layers: [1, 2]\n", "p").unwrap();
        assert_eq!(lookup(&v, "train.epochs"), Some(&Value::Int(10)));
        assert_eq!(lookup(&v, "train.layers.1"), Some(&Value::Int(2)));
        assert_eq!(lookup(&v, "train.nope"), None);
    }
}
