//! The block-style emitter for DVC's YAML profile (see the module docs of
//! [`crate::yaml`]).

use super::resolve::{Style, choose_style, double_quoted, format_float};
use super::{Mapping, Value};

/// Serialises `value` as a YAML document in DVC's profile, ending with exactly one
/// newline. A scalar document is written on its own line.
pub fn to_string(value: &Value) -> String {
    emit(value, false)
}

/// Like [`to_string`], but folds long scalars at 80 columns exactly as
/// ruamel.yaml 0.17+ does (plain and double-quoted scalars in block context),
/// which is what DVC writes for `dvc.yaml`, `dvc.lock` and run-cache entries.
pub fn to_string_wrapped(value: &Value) -> String {
    emit(value, true)
}

fn emit(value: &Value, wrap: bool) -> String {
    let mut out = String::new();
    let w = Wrap(wrap);
    match value {
        Value::Map(m) if !m.is_empty() => write_map(&mut out, m, 0, false, w),
        Value::Seq(s) if !s.is_empty() => write_seq(&mut out, s, 0, false, w),
        other => {
            write_scalar_or_empty(&mut out, other, false, false);
            out.push('\n');
        }
    }
    out
}

#[derive(Clone, Copy)]
struct Wrap(bool);

const BEST_WIDTH: isize = 80;

fn column(out: &str) -> isize {
    let line = match out.rfind('\n') {
        Some(i) => &out[i + 1..],
        None => out,
    };
    line.chars().count() as isize
}

fn newline_indent(out: &mut String, indent: isize) {
    out.push('\n');
    indent_to(out, indent);
}

fn indent_to(out: &mut String, indent: isize) {
    out.extend(std::iter::repeat_n(' ', indent.max(0) as usize));
}

/// A block-context scalar value whose continuation lines are indented by `ind`.
fn write_value(out: &mut String, v: &Value, ind: usize, w: Wrap) {
    if let (true, Value::String(s)) = (w.0, v) {
        match choose_style(s, false, false) {
            Style::Plain => return plain_wrapped(out, s, ind as isize),
            Style::Double => return double_wrapped(out, s, ind as isize),
            Style::Single => {}
        }
    }
    write_scalar_or_empty(out, v, false, false);
}

/// ruamel's `write_plain` (no line breaks occur in plain scalars).
fn plain_wrapped(out: &mut String, text: &str, indent: isize) {
    let t: Vec<char> = text.chars().collect();
    let n = t.len();
    let mut col = column(out);
    let mut spaces = false;
    let (mut start, mut end) = (0usize, 0usize);
    while end <= n {
        let ch = t.get(end).copied();
        if spaces {
            if ch != Some(' ') {
                if start + 1 == end && col >= BEST_WIDTH {
                    newline_indent(out, indent);
                    col = indent;
                } else {
                    out.extend(&t[start..end]);
                    col += (end - start) as isize;
                }
                start = end;
            }
        } else if ch.is_none() || ch == Some(' ') {
            let len = (end - start) as isize;
            if len + col > BEST_WIDTH && col > indent {
                newline_indent(out, indent);
                col = indent;
            }
            out.extend(&t[start..end]);
            col += len;
            start = end;
        }
        if let Some(c) = ch {
            spaces = c == ' ';
        }
        end += 1;
    }
}

fn escaped(c: char) -> Option<String> {
    let mut s = String::new();
    double_quoted(&c.to_string(), &mut s);
    let inner = &s[1..s.len() - 1];
    if inner.chars().count() == 1 && inner.starts_with(c) {
        None
    } else {
        Some(inner.to_owned())
    }
}

/// ruamel's `write_double_quoted` with splitting.
fn double_wrapped(out: &mut String, text: &str, indent: isize) {
    let t: Vec<char> = text.chars().collect();
    let n = t.len();
    out.push('"');
    let mut col = column(out);
    let (mut start, mut end) = (0usize, 0usize);
    while end <= n {
        let ch = t.get(end).copied();
        let esc = ch.and_then(escaped);
        if ch.is_none() || esc.is_some() {
            if start < end {
                out.extend(&t[start..end]);
                col += (end - start) as isize;
                start = end;
            }
            if let Some(e) = esc {
                col += e.chars().count() as isize;
                out.push_str(&e);
                start = end + 1;
            }
        }
        if 0 < end
            && end + 1 < n
            && (ch == Some(' ') || start >= end)
            && col + (end as isize - start as isize) > BEST_WIDTH
        {
            let mut need_bs = true;
            if let Some(sp) = (end..n).find(|&i| t[i] == ' ') {
                let sp = (end..sp).find(|&i| t[i] == '\n').unwrap_or(sp);
                // A line break before the next space always needs the
                // backslash (ruamel checks the character after it).
                let seg = &t[end..sp];
                if t[sp] != '\n'
                    && !seg.contains(&'"')
                    && !seg.contains(&'\'')
                    && matches!(t.get(sp + 1), Some(&c) if c != ' ' && c != '\n')
                    && (t[end - 1], t[end]) != (' ', ' ')
                    && start != end
                {
                    need_bs = false;
                }
            }
            if start < end {
                out.extend(&t[start..end]);
                start = end;
            }
            if need_bs {
                out.push('\\');
            }
            newline_indent(out, indent);
            col = indent;
            if t[start] == ' ' {
                if !need_bs {
                    start += 1;
                } else {
                    out.push('\\');
                    col += 1;
                }
            }
        }
        end += 1;
    }
    out.push('"');
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
fn write_map(out: &mut String, m: &Mapping, ind: usize, inline: bool, w: Wrap) {
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        write_key(out, k);
        out.push(':');
        match v {
            Value::Map(child) if !child.is_empty() => {
                out.push('\n');
                write_map(out, child, ind + 2, false, w);
            }
            Value::Seq(child) if !child.is_empty() => {
                out.push('\n');
                write_seq(out, child, ind, false, w);
            }
            Value::Null => out.push('\n'),
            _ => {
                out.push(' ');
                write_value(out, v, ind + 2, w);
                out.push('\n');
            }
        }
    }
}

/// Writes a non-empty sequence whose dashes sit at column `ind`.
fn write_seq(out: &mut String, s: &[Value], ind: usize, inline: bool, w: Wrap) {
    for (i, v) in s.iter().enumerate() {
        if i > 0 || !inline {
            indent(out, ind);
        }
        out.push_str("- ");
        match v {
            Value::Map(child) if is_block_collection(v) => write_map(out, child, ind + 2, true, w),
            Value::Seq(child) if is_block_collection(v) => write_seq(out, child, ind + 2, true, w),
            _ => {
                write_value(out, v, ind + 2, w);
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
