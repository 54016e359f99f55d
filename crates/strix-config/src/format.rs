//! Reading and writing one config file.
//!
//! Reading follows `Config.load_file`: parse with configobj, lowercase every
//! key, then move `remote "x"`, `machine "x"` and `db "x"` sections under
//! `remote` / `machine` / `db` (names matched with
//! `^\s*(remote|machine|db)\s*"(.*)"\s*$`).
//!
//! Writing follows `Config._save_config`, which regenerates the file from
//! the dict: plain sections in dict order with empty ones dropped, then the
//! named sections (`remote`, then `machine`, then `db`), each written as
//! `['remote "name"']`, keys indented by four spaces, values quoted the way
//! configobj 5.0.9 quotes them. Comments are not kept.

use crate::error::ConfigError;
use crate::value::{NAMED_KINDS, Node, SCHEMA_SECTIONS, Table, Value, sub_table, sub_table_mut};
use std::path::Path;

const INDENT: &str = "    ";
/// configobj's `wspace_plus`: a value starting or ending with one of these
/// must be quoted.
const WSPACE_PLUS: &[char] = &[' ', '\r', '\n', '\u{b}', '\t', '\'', '"'];

/// Parses config file bytes into DVC's dict shape, without the empty
/// schema sections.
pub(crate) fn parse(bytes: &[u8], path: &Path) -> Result<Table, ConfigError> {
    let conf = configobj::Builder::new()
        .from_bytes(bytes)
        .map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            line: e.line_number(),
            message: e.to_string(),
        })?;
    let lowered = lower_section(conf.root());
    Ok(parse_named(lowered))
}

/// Like [`parse`], then adds the schema's sections that are missing, in
/// schema order, as DVC's `load_one` does.
pub(crate) fn parse_level(bytes: &[u8], path: &Path) -> Result<Table, ConfigError> {
    let mut table = parse(bytes, path)?;
    add_schema_sections(&mut table);
    Ok(table)
}

pub(crate) fn add_schema_sections(table: &mut Table) {
    for name in SCHEMA_SECTIONS {
        if !table.contains_key(name) {
            table.insert(name.to_string(), Node::Table(Table::new()));
        }
    }
}

/// An empty level as DVC sees a missing file.
pub(crate) fn empty_level() -> Table {
    let mut table = parse_named(Table::new());
    add_schema_sections(&mut table);
    table
}

fn lower_section(section: &configobj::Section) -> Table {
    let mut out = Table::new();
    for key in section.keys() {
        let node = if let Some(sub) = section.section(key) {
            Node::Table(lower_section(sub))
        } else if let Some(value) = section.get(key) {
            Node::Value(match value {
                configobj::Value::String(s) => Value::String(s.clone()),
                configobj::Value::List(items) => Value::List(items.clone()),
            })
        } else {
            continue;
        };
        out.insert(key.to_lowercase(), node);
    }
    out
}

/// Splits `kind "name"` into its parts.
pub(crate) fn split_named(section: &str) -> Option<(&'static str, &str)> {
    let rest = section.trim_start();
    let kind = NAMED_KINDS.into_iter().find(|k| rest.starts_with(k))?;
    let rest = rest[kind.len()..].trim_start().strip_prefix('"')?;
    let name = rest.trim_end().strip_suffix('"')?;
    Some((kind, name))
}

fn parse_named(conf: Table) -> Table {
    let mut result = Table::new();
    for kind in NAMED_KINDS {
        result.insert(kind.to_string(), Node::Table(Table::new()));
    }
    for (section, val) in conf {
        match split_named(&section) {
            Some((kind, name)) => {
                sub_table_mut(&mut result, kind).insert(name.to_string(), val);
            }
            None => {
                result.insert(section, val);
            }
        }
    }
    result
}

fn truthy(node: &Node) -> bool {
    match node {
        Node::Table(t) => !t.is_empty(),
        Node::Value(Value::String(s)) => !s.is_empty(),
        Node::Value(Value::List(l)) => !l.is_empty(),
    }
}

/// DVC's `_pack_named`: drop empty top-level entries and turn
/// `remote.name` back into a `remote "name"` section, placed last.
fn pack_named(conf: &Table) -> Table {
    let mut result: Table = conf
        .iter()
        .filter(|(k, v)| truthy(v) && !NAMED_KINDS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for kind in NAMED_KINDS {
        if let Some(named) = sub_table(conf, kind) {
            for (name, val) in named {
                result.insert(format!("{kind} \"{name}\""), val.clone());
            }
        }
    }
    result
}

/// Renders a level's dict as DVC writes it.
pub(crate) fn serialize(conf: &Table, path: &Path) -> Result<String, ConfigError> {
    let packed = pack_named(conf);
    let mut lines = Vec::new();
    write_table(&packed, 0, &mut lines).map_err(|value| ConfigError::Unwritable {
        path: path.to_path_buf(),
        value,
    })?;
    let mut text = lines.join("\n");
    text.push('\n');
    // Never write what we could not read back identically.
    let reread = parse(text.as_bytes(), path)?;
    if reread != parse_named(lower_keys(&packed)) {
        return Err(ConfigError::Unwritable {
            path: path.to_path_buf(),
            value: text,
        });
    }
    Ok(text)
}

fn lower_keys(table: &Table) -> Table {
    table
        .iter()
        .map(|(k, v)| {
            let v = match v {
                Node::Table(t) => Node::Table(lower_keys(t)),
                other => other.clone(),
            };
            (k.to_lowercase(), v)
        })
        .collect()
}

fn write_table(table: &Table, depth: usize, out: &mut Vec<String>) -> Result<(), String> {
    let indent = INDENT.repeat(depth);
    for (key, node) in table {
        if let Node::Value(value) = node {
            out.push(format!(
                "{indent}{} = {}",
                quote(key, false)?,
                quote_value(value)?
            ));
        }
    }
    for (key, node) in table {
        if let Node::Table(sub) = node {
            let open = "[".repeat(depth + 1);
            let close = "]".repeat(depth + 1);
            out.push(format!("{indent}{open}{}{close}", quote(key, false)?));
            write_table(sub, depth + 1, out)?;
        }
    }
    Ok(())
}

fn quote_value(value: &Value) -> Result<String, String> {
    match value {
        Value::String(s) => quote(s, true),
        Value::List(items) => match items.as_slice() {
            [] => Ok(",".to_string()),
            [one] => Ok(format!("{},", quote(one, false)?)),
            many => {
                let parts: Result<Vec<_>, _> = many.iter().map(|i| quote(i, false)).collect();
                Ok(parts?.join(", "))
            }
        },
    }
}

/// configobj's `_quote` with `list_values=True`. Errors carry the value that
/// cannot be written.
pub(crate) fn quote(value: &str, multiline: bool) -> Result<String, String> {
    if value.is_empty() {
        return Ok("\"\"".to_string());
    }
    let has_single = value.contains('\'');
    let has_double = value.contains('"');
    let need_triple = multiline && ((has_single && has_double) || value.contains('\n'));
    if need_triple {
        return triple_quote(value);
    }
    if value.contains('\n') {
        return Err(value.to_string());
    }
    let bare = !value.starts_with(WSPACE_PLUS)
        && !value.ends_with(WSPACE_PLUS)
        && !value.contains(',')
        && !value.contains('#');
    if bare {
        return Ok(value.to_string());
    }
    match (has_single, has_double) {
        (true, true) => Err(value.to_string()),
        (false, true) => Ok(format!("'{value}'")),
        _ => Ok(format!("\"{value}\"")),
    }
}

/// configobj 5.0.9 writes `'''…'''` unless the value holds `"""`, else
/// `"""…"""`. A quote that the value contains or starts or ends with is
/// skipped so the result always reads back.
fn triple_quote(value: &str) -> Result<String, String> {
    for (quote, mark) in [("'''", '\''), ("\"\"\"", '"')] {
        if !value.contains(quote) && !value.starts_with(mark) && !value.ends_with(mark) {
            return Ok(format!("{quote}{value}{quote}"));
        }
    }
    Err(value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_matches_configobj() {
        assert_eq!(quote("plain", true).unwrap(), "plain");
        assert_eq!(quote("reflink,copy", true).unwrap(), "\"reflink,copy\"");
        assert_eq!(quote("x#y", true).unwrap(), "\"x#y\"");
        assert_eq!(quote(" lead", true).unwrap(), "\" lead\"");
        assert_eq!(quote("", true).unwrap(), "\"\"");
        assert_eq!(quote("it's", true).unwrap(), "it's");
        assert_eq!(quote("a'b\"c", true).unwrap(), "'''a'b\"c'''");
        assert_eq!(quote("x\ny", true).unwrap(), "'''x\ny'''");
        assert_eq!(quote("remote \"x\"", false).unwrap(), "'remote \"x\"'");
        assert!(quote("x\ny", false).is_err());
    }

    #[test]
    fn named_sections() {
        assert_eq!(split_named("remote \"x\""), Some(("remote", "x")));
        assert_eq!(split_named("  db\"a b\"  "), Some(("db", "a b")));
        assert_eq!(split_named("remotes \"x\""), None);
        assert_eq!(split_named("core"), None);
    }
}
