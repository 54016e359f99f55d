//! The config tree: ordered tables of values, shaped like DVC's dict
//! (`{"core": {...}, "remote": {"name": {...}}, ...}`).

use indexmap::IndexMap;
use std::fmt;

/// A config value as configobj reads it: a single string, or a list when the
/// file holds unquoted commas (`a = x, y`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A single value.
    String(String),
    /// A comma-separated list.
    List(Vec<String>),
}

impl Value {
    /// The single string, if this is not a list.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            Value::List(_) => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}

/// Shown the way DVC prints it: a string as is, a list as Python's repr
/// (`['reflink', 'copy']`).
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::String(s) => f.write_str(s),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    f.write_str(&py_repr(item))?;
                }
                f.write_str("]")
            }
        }
    }
}

/// A table entry: a value or a nested table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Value(Value),
    Table(Table),
}

/// An insertion-ordered map, like a Python dict.
pub(crate) type Table = IndexMap<String, Node>;

/// The sections every loaded level has, in DVC's schema order
/// (`load_one` adds the missing ones as empty sections).
pub(crate) const SCHEMA_SECTIONS: [&str; 13] = [
    "core", "cache", "remote", "state", "index", "machine", "feature", "plots", "exp", "parsing",
    "hydra", "studio", "db",
];

/// The section kinds that hold named subsections (`remote "name"`).
pub(crate) const NAMED_KINDS: [&str; 3] = ["remote", "machine", "db"];

pub(crate) fn sub_table<'a>(table: &'a Table, key: &str) -> Option<&'a Table> {
    match table.get(key) {
        Some(Node::Table(t)) => Some(t),
        _ => None,
    }
}

/// The table under `key`, replacing anything else there with an empty one.
pub(crate) fn sub_table_mut<'a>(table: &'a mut Table, key: &str) -> &'a mut Table {
    if !matches!(table.get(key), Some(Node::Table(_))) {
        table.insert(key.to_string(), Node::Table(Table::new()));
    }
    match table.get_mut(key) {
        Some(Node::Table(t)) => t,
        // Just inserted above; an empty placeholder is never reached.
        _ => unreachable_table(),
    }
}

fn unreachable_table() -> ! {
    unreachable!("sub_table_mut inserted a table")
}

/// Python's `merge(into, update)`: tables merge recursively, anything else
/// replaces.
pub(crate) fn merge(into: &mut Table, update: &Table) {
    for (key, val) in update {
        match (into.get_mut(key), val) {
            (Some(Node::Table(dst)), Node::Table(src)) => merge(dst, src),
            _ => {
                into.insert(key.clone(), val.clone());
            }
        }
    }
}

/// Python's `repr()` of a string.
pub(crate) fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_like_python() {
        assert_eq!(py_repr("core"), "'core'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            Value::List(vec!["reflink".into(), "copy".into()]).to_string(),
            "['reflink', 'copy']"
        );
    }
}
