//! An ordered YAML value model, a reader, and an emitter for DVC's YAML profile.
//!
//! DVC reads its metafiles with ruamel.yaml (YAML 1.2) and writes them with ruamel's
//! round-trip dumper configured with `default_flow_style=False`. The emitted profile
//! (spec section 14) is:
//!
//! * block style everywhere; mappings indented by 2; sequence items are **not**
//!   indented relative to their parent key (`outs:\n- md5: …\n  size: 6`); nested
//!   sequences are written `- - 1`;
//! * `[]` and `{}` for empty collections, an empty value for null (`key:` in a
//!   mapping, `- ` with a trailing space in a sequence), `true`/`false`;
//! * integers in decimal, floats as Python `repr` (`1e-05`, `100.0`, `.inf`, `.nan`);
//! * strings plain when possible, single-quoted when a plain scalar would read back
//!   as something else (`'123'`, `'null'`, `'2024-01-01'`, indicators, `: `, ` #`,
//!   leading/trailing spaces), double-quoted with escapes when they contain control
//!   characters, tabs, line breaks, or need quoting and contain a `'`;
//! * unicode written raw, no `---`/`...`, exactly one trailing newline.
//!
//! Not implemented: ruamel's folding of scalars longer than 80 columns. Readers
//! (including DVC) treat folded and unfolded scalars identically.

mod emit;
mod locate;
mod read;
mod resolve;

pub use emit::{to_flow_string, to_string, to_string_wrapped};
pub use locate::{PathSeg, locate};
pub use read::parse;
pub use resolve::{format_float, resolves_as_non_string};

use std::fmt;

/// A YAML value with insertion-ordered mappings.
///
/// Integers and floats are distinct (YAML 1.2 core schema). Integers are kept as
/// `i128`, which covers every all-digit 32-character checksum; larger integers are
/// read as floats.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null`, or an empty value.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
    /// A sequence.
    Seq(Vec<Value>),
    /// A mapping.
    Map(Mapping),
}

impl Value {
    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The mapping, if this is a mapping.
    pub fn as_map(&self) -> Option<&Mapping> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The sequence, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// True for `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// A short name of the value's type, for error messages.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::String(_) => "str",
            Value::Seq(_) => "list",
            Value::Map(_) => "dict",
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Self {
        Value::Int(i128::from(n))
    }
}

impl From<Mapping> for Value {
    fn from(m: Mapping) -> Self {
        Value::Map(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(v: Vec<Value>) -> Self {
        Value::Seq(v)
    }
}

/// An insertion-ordered mapping. Keys are usually strings but may be any scalar.
///
/// Lookups are linear; DVC metafiles have small mappings.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Mapping {
    entries: Vec<(Value, Value)>,
}

impl Mapping {
    /// An empty mapping.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value stored under the string key `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Whether the string key `key` is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// Sets `key` to `value`: replaces in place if present, else appends.
    pub fn insert(&mut self, key: impl Into<Value>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Removes the string key `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Value> {
        let idx = self
            .entries
            .iter()
            .position(|(k, _)| k.as_str() == Some(key))?;
        Some(self.entries.remove(idx).1)
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&Value, &Value)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the mapping is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub(crate) fn push_unchecked(&mut self, key: Value, value: Value) {
        self.entries.push((key, value));
    }
}

impl<'a> IntoIterator for &'a Mapping {
    type Item = (&'a Value, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (Value, Value)>,
        fn(&'a (Value, Value)) -> (&'a Value, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

/// A 1-based line and column in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A file's display name plus an optional position in it; displays as
/// `name:line:col` or just `name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePos {
    /// Display name of the file (as given by the caller).
    pub name: String,
    /// Position, when known.
    pub location: Option<Location>,
}

impl fmt::Display for SourcePos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location {
            Some(loc) => write!(f, "{}:{}", self.name, loc),
            None => f.write_str(&self.name),
        }
    }
}

/// Errors from reading YAML text.
#[derive(Debug, thiserror::Error)]
pub enum YamlError {
    /// The text is not valid YAML (or uses a feature strix does not read, such as
    /// custom tags or several documents).
    #[error("{at}: invalid YAML: {message}")]
    Syntax {
        /// Where the parser stopped.
        at: SourcePos,
        /// The parser's description of the problem.
        message: String,
    },
}

#[cfg(test)]
mod tests;
