//! Reading YAML text into [`Value`] with serde_yaml_ng (libyaml underneath).

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

use super::{Location, Mapping, SourcePos, Value, YamlError};

/// Parses one YAML document. `name` is used in error messages (`name:line:col`).
///
/// An empty document reads as [`Value::Null`]. Duplicate mapping keys, custom tags
/// and multiple documents are errors.
pub fn parse(text: &str, name: &str) -> Result<Value, YamlError> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    ValueSeed
        .deserialize(de)
        .map_err(|err| syntax_error(&err, name))
}

pub(crate) fn syntax_error(err: &serde_yaml_ng::Error, name: &str) -> YamlError {
    let location = err.location().map(|l| Location {
        line: l.line(),
        column: l.column(),
    });
    let mut message = err.to_string();
    if let Some(loc) = location {
        let suffix = format!(" at line {} column {}", loc.line, loc.column);
        if let Some(stripped) = message.strip_suffix(&suffix) {
            message = stripped.to_owned();
        }
    }
    YamlError::Syntax {
        at: SourcePos {
            name: name.to_owned(),
            location,
        },
        message,
    }
}

struct ValueSeed;

impl<'de> DeserializeSeed<'de> for ValueSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a YAML value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Int(i128::from(v)))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Int(v))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(match i128::try_from(v) {
            Ok(i) => Value::Int(i),
            // Beyond i128: approximate, as documented on `Value`.
            Err(_) => Value::Float(v as f64),
        })
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(ValueSeed)? {
            out.push(v);
        }
        Ok(Value::Seq(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Mapping::new();
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key_seed(KeySeed { seen: &mut seen })? {
            let value = map.next_value_seed(ValueSeed)?;
            out.push_unchecked(key, value);
        }
        Ok(Value::Map(out))
    }
}

/// Deserializes a mapping key and rejects duplicates. The error is raised while the
/// key scalar is current, so serde_yaml_ng attaches the key's position to it.
struct KeySeed<'a> {
    seen: &'a mut HashSet<String>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(KeyVisitor { seen: self.seen })
    }
}

struct KeyVisitor<'a> {
    seen: &'a mut HashSet<String>,
}

impl KeyVisitor<'_> {
    fn check<E: de::Error>(self, v: Value) -> Result<Value, E> {
        // Strings (nearly every key) identify themselves; `s` marks them
        // apart from the Debug form of other scalars.
        let ident = match &v {
            Value::String(s) => format!("s{s}"),
            other => format!("{other:?}"),
        };
        if !self.seen.insert(ident) {
            return Err(E::custom(format_args!(
                "duplicate mapping key {}",
                super::to_flow_string(&v)
            )));
        }
        Ok(v)
    }
}

impl<'de> Visitor<'de> for KeyVisitor<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a mapping key")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.check(Value::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.check(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.check(Value::Int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.check(Value::Int(i128::from(v)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.check(Value::Int(v))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        let v = ValueVisitor.visit_u128::<E>(v)?;
        self.check(v)
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.check(Value::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.check(Value::String(v.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Value, A::Error> {
        let v = ValueVisitor.visit_seq(seq)?;
        self.check(v)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Value, A::Error> {
        let v = ValueVisitor.visit_map(map)?;
        self.check(v)
    }
}
