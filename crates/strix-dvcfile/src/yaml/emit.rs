//! The block-style emitter for DVC's YAML profile (see the module docs of
//! [`crate::yaml`]).

use super::resolve::{Style, choose_style, double_quoted, format_float};
use super::{Mapping, Value};

/// Serialises `value` as a YAML document in DVC's profile, ending with exactly one
/// newline. A scalar document is written on its own line.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Map(m) if !m.is_empty() => write_map(&mut out, m, 0, false),
        Value::Seq(s) if !s.is_empty() => write_seq(&mut out, s, 0, false),
        other => {
            write_scalar_or_empty(&mut out, other, false, false);
            out.push('\n');
        }
    }
    out
}

/// Serialises `value` in flow style on one line (`[a, b]`, `{k: v}`), without a
/// trailing newline.
pub fn to_flow_string(value: &Value) -> String {
    let mut out = String::new();
    write_flow(&mut out, value);
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_string(out: &mut String, s: &str, flow: bool, key: bool) {
    match choose_style(s, flow, key) {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Style::Double => double_quoted(s, out),
    }
}

/// Scalars and empty collections: everything written on the current line.
fn write_scalar_or_empty(out: &mut String, v: &Value, flow: bool, key: bool) {
    match v {
        Value::Null => {}
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&format_float(*f)),
        Value::String(s) => write_string(out, s, flow, key),
        Value::Seq(_) | Value::Map(_) => write_flow(out, v),
    }
}

fn is_block_collection(v: &Value) -> bool {
    match v {
        Value::Map(m) => !m.is_empty(),
        Value::Seq(s) => !s.is_empty(),
        _ => false,
    }
}

fn write_key(out: &mut String, k: &Value) {
    match k {
        Value::Null => out.push_str("null"),
        _ => write_scalar_or_empty(out, k, false, true),
    }
}

/// Writes a non-empty mapping whose keys sit at column `ind`. If `inline`, the
/// cursor is already at that column (after `- `), so the first key is not indented.
fn write_map(out: &mut String, m: &Mapping, ind: usize, inline: bool) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        write_key(out, k);
        out.push(':');
        match v {
            Value::Map(child) if !child.is_empty() => {
                out.push('\n');
                write_map(out, child, ind + 2, false);
            }
            Value::Seq(child) if !child.is_empty() => {
                out.push('\n');
                write_seq(out, child, ind, false);
            }
            Value::Null => out.push('\n'),
            _ => {
                out.push(' ');
                write_scalar_or_empty(out, v, false, false);
                out.push('\n');
            }
        }
    }
}

/// Writes a non-empty sequence whose dashes sit at column `ind`.
fn write_seq(out: &mut String, s: &[Value], ind: usize, inline: bool) {
    for (i, v) in s.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            Value::Map(child) if is_block_collection(v) => write_map(out, child, ind + 2, true),
            Value::Seq(child) if is_block_collection(v) => write_seq(out, child, ind + 2, true),
            _ => {
                write_scalar_or_empty(out, v, false, false);
                out.push('\n');
            }
        }
    }
}

fn write_flow(out: &mut String, v: &Value) {
    match v {
        Value::Seq(s) => {
            out.push('[');
            for (i, item) in s.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_flow(out, item);
            }
            out.push(']');
        }
        Value::Map(m) => {
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                match k {
                    Value::Null => out.push_str("null"),
                    _ => write_flow(out, k),
                }
                out.push(':');
                if !item.is_null() {
                    out.push(' ');
                    write_flow(out, item);
                }
            }
            out.push('}');
        }
        Value::String(s) => write_string(out, s, true, false),
        other => write_scalar_or_empty(out, other, true, false),
    }
}
