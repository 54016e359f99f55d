//! `${…}` expressions: finding them in strings, parsing their key paths, and
//! turning values into the text DVC substitutes.
//!
//! * A match is `${` not preceded by `\`, then everything up to the first `}`
//!   on the same line. `\${` stays literal and loses its backslash.
//! * The inside is a key path: a name (any characters but `.`, `[`, `]`),
//!   then `.name` or `[name]` steps. `a.b[0]` selects `a → b → 0`;
//!   whitespace is part of names and is trimmed when looking up.
//! * Values become text like Python's `str()`, with booleans as
//!   `true`/`false`; a dict in `cmd` is unpacked to `--key value` arguments.

use strix_dvcfile::yaml::{Value, format_float};

/// One `${…}` in a string: byte range of the whole match and of its inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    /// Start of `${`.
    pub start: usize,
    /// One past the closing `}`.
    pub end: usize,
}

impl Match {
    /// The text between the braces.
    pub fn inner<'a>(&self, s: &'a str) -> &'a str {
        &s[self.start + 2..self.end - 1]
    }
}

/// All `${…}` occurrences of `s`, left to right.
pub fn find(s: &str) -> Vec<Match> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < b.len() {
        if b[i] == b'$' && b[i + 1] == b'{' && (i == 0 || b[i - 1] != b'\\') {
            let rest = &s[i + 2..];
            let close = rest.find('}');
            let newline = rest.find('\n');
            match close {
                Some(c) if newline.is_none_or(|n| n > c) => {
                    let end = i + 2 + c + 1;
                    out.push(Match { start: i, end });
                    i = end;
                    continue;
                }
                None => break,
                Some(_) => {}
            }
        }
        i += 1;
    }
    out
}

/// Whether `s` contains a `${…}`.
pub fn is_interpolated(s: &str) -> bool {
    !find(s).is_empty()
}

/// A malformed `${…}`, with a caret under the offending character.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("${{{expr}}}\n{caret}^\n{what}")]
pub struct ParseError {
    /// The expression as written (without braces).
    pub expr: String,
    /// Spaces up to the offending character.
    pub caret: String,
    /// What went wrong.
    pub what: String,
}

/// Parses the inside of `${…}` into a dotted key (`a[0].b` → `a.0.b`).
pub fn parse(expr: &str) -> Result<String, ParseError> {
    let chars: Vec<char> = expr.chars().collect();
    let is_word = |c: char| !matches!(c, '.' | '[' | ']');
    let word = |from: usize| -> usize {
        let mut j = from;
        while j < chars.len() && is_word(chars[j]) {
            j += 1;
        }
        j
    };
    let fail = |at: usize, what: String| ParseError {
        expr: expr.to_owned(),
        caret: " ".repeat(at + 2),
        what,
    };
    let found = |at: usize| match chars.get(at) {
        Some(c) => format!("'{c}'"),
        None => "'}'".to_owned(),
    };
    let first = word(0);
    if first == 0 {
        return Err(fail(0, format!("expected a name, found {}", found(0))));
    }
    let mut parts = vec![chars[..first].iter().collect::<String>()];
    let mut i = first;
    while i < chars.len() {
        let step = match chars[i] {
            '.' => {
                let e = word(i + 1);
                (e > i + 1).then(|| (chars[i + 1..e].iter().collect::<String>(), e))
            }
            '[' => {
                let e = word(i + 1);
                (e > i + 1 && chars.get(e) == Some(&']'))
                    .then(|| (chars[i + 1..e].iter().collect::<String>(), e + 1))
            }
            _ => None,
        };
        match step {
            Some((part, next)) => {
                parts.push(part);
                i = next;
            }
            None => {
                return Err(fail(
                    i,
                    format!("expected end of expression, found {}", found(i)),
                ));
            }
        }
    }
    Ok(parts.join("."))
}

/// How `cmd` unpacks dicts (the `parsing` section of DVC's config).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Unpack {
    /// `parsing.bool = boolean_optional`: false gives `--no-key`.
    pub boolean_optional: bool,
    /// `parsing.list = append`: `--key a --key b` instead of `--key a b`.
    pub append: bool,
}

/// A value that cannot become text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Cannot interpolate nested iterable in '{0}'")]
pub struct NestedIterable(pub String);

/// Python's `str()` of a float.
pub fn py_float(f: f64) -> String {
    if f.is_nan() {
        "nan".into()
    } else if f.is_infinite() {
        if f > 0.0 { "inf" } else { "-inf" }.into()
    } else {
        format_float(f)
    }
}

/// Python's `str()` of a value (`True`, `None`, `[1, 'a']`, …).
fn py_str(v: &Value) -> String {
    fn repr(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                let q = if s.contains('\'') && !s.contains('"') {
                    '"'
                } else {
                    '\''
                };
                out.push(q);
                for c in s.chars() {
                    match c {
                        '\\' => out.push_str("\\\\"),
                        '\n' => out.push_str("\\n"),
                        '\t' => out.push_str("\\t"),
                        '\r' => out.push_str("\\r"),
                        c if c == q => {
                            out.push('\\');
                            out.push(c);
                        }
                        c => out.push(c),
                    }
                }
                out.push(q);
            }
            other => out.push_str(&py_str(other)),
        }
    }
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => if *b { "True" } else { "False" }.into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => py_float(*f),
        Value::String(s) => s.clone(),
        Value::Seq(items) => {
            let mut out = String::from("[");
            for (n, i) in items.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                repr(i, &mut out);
            }
            out.push(']');
            out
        }
        Value::Map(m) => {
            let mut out = String::from("{");
            for (n, (k, v)) in m.iter().enumerate() {
                if n > 0 {
                    out.push_str(", ");
                }
                repr(k, &mut out);
                out.push_str(": ");
                repr(v, &mut out);
            }
            out.push('}');
            out
        }
    }
}

/// The text of a value substituted into a string: booleans as
/// `true`/`false`, dicts unpacked as command-line arguments.
pub fn to_str(v: &Value, unpack: Unpack) -> Result<String, NestedIterable> {
    match v {
        Value::Bool(b) => Ok(if *b { "true" } else { "false" }.into()),
        Value::Map(_) => unpack_dict(v, unpack),
        other => Ok(py_str(other)),
    }
}

/// A key as DVC names generated stages: `to_str` of scalars.
pub fn key_str(v: &Value) -> String {
    to_str(v, Unpack::default()).unwrap_or_else(|_| py_str(v))
}

/// Flattens nested dicts into dotted keys; empty dicts vanish.
fn flatten<'a>(prefix: &str, v: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    if let Value::Map(m) = v {
        for (k, val) in m.iter() {
            let k = py_str(k);
            let key = if prefix.is_empty() {
                k
            } else {
                format!("{prefix}.{k}")
            };
            match val {
                Value::Map(_) => flatten(&key, val, out),
                _ => out.push((key, val)),
            }
        }
    }
}

/// `${dict}` in `cmd`: `--key value` per flattened key; true booleans give a
/// bare `--key`; lists give `--key a b`; strings are shell-quoted.
fn unpack_dict(v: &Value, unpack: Unpack) -> Result<String, NestedIterable> {
    let mut flat = Vec::new();
    flatten("", v, &mut flat);
    let mut out = String::new();
    for (k, v) in flat {
        match v {
            Value::Bool(true) => out.push_str(&format!("--{k} ")),
            Value::Bool(false) => {
                if unpack.boolean_optional {
                    out.push_str(&format!("--no-{k} "));
                }
            }
            Value::String(s) => out.push_str(&format!("--{k} {} ", shell_quote(s))),
            Value::Seq(items) => {
                for (n, i) in items.iter().enumerate() {
                    let text = match i {
                        Value::String(s) => shell_quote(s),
                        Value::Seq(_) | Value::Map(_) => return Err(NestedIterable(k)),
                        other => py_str(other),
                    };
                    if unpack.append || n == 0 {
                        out.push_str(&format!("--{k} {text} "));
                    } else {
                        out.push_str(&format!("{text} "));
                    }
                }
            }
            other => out.push_str(&format!("--{k} {} ", py_str(other))),
        }
    }
    Ok(out.trim_end().to_owned())
}

/// POSIX shell quoting as Python's `shlex.quote`.
pub fn shell_quote(s: &str) -> String {
    if s.is_empty() {
        return "''".into();
    }
    let safe = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_@%+=:,./-".contains(c));
    if safe {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\"'\"'"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_dvcfile::yaml;

    fn inners(s: &str) -> Vec<&str> {
        find(s).iter().map(|m| m.inner(s)).collect()
    }

    #[test]
    fn finds_like_dvcs_regex() {
        assert_eq!(inners("${a}${b}"), ["a", "b"]);
        assert_eq!(inners(r"\${a} ${b}"), ["b"]);
        assert!(inners("${a").is_empty());
        assert_eq!(inners("$${a}"), ["a"]);
        assert_eq!(inners("${a}}"), ["a"]);
        assert_eq!(inners("${{a}}"), ["{a"]);
        assert_eq!(inners("${a\n} ${b}"), ["b"]);
    }

    #[test]
    fn parses_key_paths() {
        assert_eq!(parse("a").unwrap(), "a");
        assert_eq!(parse("a[0].b").unwrap(), "a.0.b");
        assert_eq!(parse("a[0][1]").unwrap(), "a.0.1");
        assert_eq!(parse(" a ").unwrap(), " a ");
        assert_eq!(parse("a[-1]").unwrap(), "a.-1");
        let e = parse("a.").unwrap_err();
        assert_eq!(
            e.to_string(),
            "${a.}\n   ^\nexpected end of expression, found '.'"
        );
        assert!(parse("").is_err());
        assert!(parse("a..b").is_err());
        assert!(parse("a[]").is_err());
        assert!(parse("a.b[c.d]").is_err());
    }

    #[test]
    fn values_as_text() {
        let u = Unpack::default();
        assert_eq!(to_str(&Value::Bool(true), u).unwrap(), "true");
        assert_eq!(to_str(&Value::Float(1e-5), u).unwrap(), "1e-05");
        assert_eq!(to_str(&Value::Float(2.0), u).unwrap(), "2.0");
        assert_eq!(to_str(&Value::Null, u).unwrap(), "None");
        let d = yaml::parse(
            "epochs: 3\nverbose: true\nquiet: false\nname: a b\ntags: [x, y z]\nnested: {deep: 1, e: {}}\n",
            "p",
        )
        .unwrap();
        assert_eq!(
            to_str(&d, u).unwrap(),
            "--epochs 3 --verbose --name 'a b' --tags x 'y z' --nested.deep 1"
        );
        let opt = Unpack {
            boolean_optional: true,
            append: true,
        };
        assert_eq!(
            to_str(&d, opt).unwrap(),
            "--epochs 3 --verbose --no-quiet --name 'a b' --tags x --tags 'y z' --nested.deep 1"
        );
        let bad = yaml::parse("l: [[1]]\n", "p").unwrap();
        assert_eq!(
            to_str(&bad, u).unwrap_err().to_string(),
            "Cannot interpolate nested iterable in 'l'"
        );
        assert_eq!(shell_quote("it's"), r#"'it'"'"'s'"#);
    }
}
