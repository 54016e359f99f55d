//! JSON and TOML documents as YAML values.

use strix_dvcfile::yaml::{Mapping, Value};

/// A JSON document (object order kept).
pub fn from_json(j: serde_json::Value) -> Value {
    use serde_json::Value as J;
    match j {
        J::Null => Value::Null,
        J::Bool(b) => Value::Bool(b),
        J::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Value::Int(i128::from(i)),
            (_, Some(u)) => Value::Int(i128::from(u)),
            _ => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => Value::String(s),
        J::Array(a) => Value::Seq(a.into_iter().map(from_json).collect()),
        J::Object(o) => {
            let mut m = Mapping::new();
            for (k, v) in o {
                m.insert(k, from_json(v));
            }
            Value::Map(m)
        }
    }
}

/// A TOML document (table order kept). Dates and times become their TOML
/// text.
pub fn from_toml(t: toml::Value) -> Value {
    use toml::Value as T;
    match t {
        T::String(s) => Value::String(s),
        T::Integer(i) => Value::Int(i128::from(i)),
        T::Float(f) => Value::Float(f),
        T::Boolean(b) => Value::Bool(b),
        T::Datetime(d) => Value::String(d.to_string()),
        T::Array(a) => Value::Seq(a.into_iter().map(from_toml).collect()),
        T::Table(t) => {
            let mut m = Mapping::new();
            for (k, v) in t {
                m.insert(k, from_toml(v));
            }
            Value::Map(m)
        }
    }
}

/// Python's falsiness of a whole document (`None`, `{}`, `[]`, `0`, `""`):
/// DVC reads such a file as an empty dict.
pub fn falsy(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Int(i) => *i == 0,
        Value::Float(f) => *f == 0.0,
        Value::String(s) => s.is_empty(),
        Value::Seq(s) => s.is_empty(),
        Value::Map(m) => m.is_empty(),
    }
}
