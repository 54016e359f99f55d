//! Params files: reading values and comparing them like Python does.

use crate::stage::{DEFAULT_PARAMS, ParamsDep};
use crate::{Result, msg};
use std::path::Path;
use strix_dvcfile::yaml::{self, Mapping, Value};

/// Reads a params file (YAML or JSON; TOML and Python files are not supported
/// yet). `Ok(None)` if it does not exist.
pub fn read_file(abs: &Path, display: &str) -> Result<Option<Value>> {
    let text = match std::fs::read_to_string(abs) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(msg(format!("failed to read '{display}': {e}"))),
    };
    let ext = abs.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext == "toml" || ext == "py" {
        return Err(msg(format!(
            "params file '{display}': .{ext} params files are not supported yet"
        )));
    }
    let v = yaml::parse(&text, display).map_err(|e| msg(e.to_string()))?;
    Ok(Some(match v {
        Value::Null => Value::Map(Mapping::new()),
        v => v,
    }))
}

/// Looks up a dotted key (`train.epochs`).
pub fn lookup<'a>(root: &'a Value, key: &str) -> Option<&'a Value> {
    if let Some(v) = root.as_map().and_then(|m| m.get(key)) {
        return Some(v);
    }
    let mut cur = root;
    for part in key.split('.') {
        cur = match cur {
            Value::Map(m) => m.get(part)?,
            Value::Seq(s) => s.get(part.parse::<usize>().ok()?)?,
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
