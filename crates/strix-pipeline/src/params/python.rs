//! Python params files, read the way DVC reads them (through `ast`, never by
//! running them):
//!
//! ```python
//! lr = 0.001                 # module-level `name = literal` → lr
//! layers: list = [1, 2]      # annotated assignments too
//! class Train:               # a class → a dict of its attributes …
//!     epochs = 10
//!     def __init__(self):    # … and the `self.x = literal` of __init__
//!         self.seed = 42
//! ```
//!
//! Values are Python literals (numbers, strings, `True`/`False`/`None`,
//! lists, tuples, dicts). Anything else — calls, names, f-strings, several
//! targets, tuple unpacking, augmented assignment, other statements — is
//! skipped, as DVC skips it. Literal sets, bytes and complex numbers are
//! refused with an error since they have no YAML form in `dvc.lock`.
//!
//! This is a tokenizer plus a small parser for that subset; it finds
//! statement boundaries (indentation, brackets, continuation lines, strings)
//! but is not a full Python parser, so some invalid files read without error.

use strix_dvcfile::yaml::{Mapping, Value};

/// Why a Python params file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PyError {
    /// Unbalanced brackets, unterminated strings, bad indentation.
    #[error("line {line}: Python file structure is corrupted ({what})")]
    Corrupt {
        /// 1-based line.
        line: usize,
        /// What was wrong.
        what: &'static str,
    },
    /// A literal strix cannot record in `dvc.lock`.
    #[error(
        "line {line}: '{name}' is a {kind} literal, which strix does not support in params files"
    )]
    Unsupported {
        /// 1-based line.
        line: usize,
        /// The assigned name.
        name: String,
        /// `set`, `bytes`, `complex`, …
        kind: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    Num(String),
    /// A string literal: text, and its kind (`b` bytes, `f` f-string, ` ` plain).
    Str(String, char),
    Op(String),
    Newline,
    Indent,
    Dedent,
}

struct Lexer<'a> {
    s: &'a [u8],
    text: &'a str,
    i: usize,
    line: usize,
    toks: Vec<(Tok, usize)>,
}

fn corrupt(line: usize, what: &'static str) -> PyError {
    PyError::Corrupt { line, what }
}

fn tokenize(text: &str) -> Result<Vec<(Tok, usize)>, PyError> {
    let mut lx = Lexer {
        s: text.as_bytes(),
        text,
        i: 0,
        line: 1,
        toks: Vec::new(),
    };
    let mut indents = vec![0usize];
    let mut depth = 0usize;
    let mut at_line_start = true;
    while lx.i < lx.s.len() {
        if at_line_start && depth == 0 {
            let mut col = 0;
            while lx.i < lx.s.len() {
                match lx.s[lx.i] {
                    b' ' => col += 1,
                    b'\t' => col = (col / 8 + 1) * 8,
                    b'\x0c' => col = 0,
                    _ => break,
                }
                lx.i += 1;
            }
            at_line_start = false;
            match lx.s.get(lx.i) {
                None | Some(b'\n' | b'#' | b'\r') => {}
                Some(_) => {
                    let cur = *indents.last().unwrap_or(&0);
                    if col > cur {
                        indents.push(col);
                        lx.toks.push((Tok::Indent, lx.line));
                    } else {
                        while col < *indents.last().unwrap_or(&0) {
                            indents.pop();
                            lx.toks.push((Tok::Dedent, lx.line));
                        }
                        if col != *indents.last().unwrap_or(&0) {
                            return Err(corrupt(lx.line, "inconsistent indentation"));
                        }
                    }
                }
            }
            continue;
        }
        let c = lx.s[lx.i];
        match c {
            b'\n' => {
                if depth == 0
                    && !matches!(lx.toks.last(), None | Some((Tok::Newline, _)))
                    && !matches!(lx.toks.last(), Some((Tok::Indent | Tok::Dedent, _)))
                {
                    lx.toks.push((Tok::Newline, lx.line));
                }
                lx.i += 1;
                lx.line += 1;
                at_line_start = true;
            }
            b' ' | b'\t' | b'\r' | b'\x0c' => lx.i += 1,
            b'#' => {
                while lx.i < lx.s.len() && lx.s[lx.i] != b'\n' {
                    lx.i += 1;
                }
            }
            b'\\' => {
                let next = lx.s.get(lx.i + 1).copied();
                let next = if next == Some(b'\r') {
                    lx.i += 1;
                    lx.s.get(lx.i + 1).copied()
                } else {
                    next
                };
                if next != Some(b'\n') {
                    return Err(corrupt(lx.line, "unexpected '\\'"));
                }
                lx.i += 2;
                lx.line += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                lx.op(1);
            }
            b')' | b']' | b'}' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| corrupt(lx.line, "unbalanced brackets"))?;
                lx.op(1);
            }
            b'0'..=b'9' => lx.number(),
            b'.' if lx.s.get(lx.i + 1).is_some_and(u8::is_ascii_digit) => lx.number(),
            b'"' | b'\'' => lx.string(String::new())?,
            c if c == b'_' || c.is_ascii_alphabetic() || c >= 0x80 => {
                let start = lx.i;
                while lx.i < lx.s.len()
                    && (lx.s[lx.i] == b'_'
                        || lx.s[lx.i].is_ascii_alphanumeric()
                        || lx.s[lx.i] >= 0x80)
                {
                    lx.i += 1;
                }
                let word = &lx.text[start..lx.i];
                let lower = word.to_ascii_lowercase();
                let is_prefix = matches!(
                    lower.as_str(),
                    "r" | "u" | "b" | "f" | "br" | "rb" | "fr" | "rf" | "t" | "tr" | "rt"
                );
                if is_prefix && matches!(lx.s.get(lx.i), Some(b'"' | b'\'')) {
                    lx.string(lower)?;
                } else {
                    lx.toks.push((Tok::Name(word.to_owned()), lx.line));
                }
            }
            _ => {
                let three = lx.text.get(lx.i..lx.i + 3).unwrap_or("");
                let two = lx.text.get(lx.i..lx.i + 2).unwrap_or("");
                let n = if matches!(three, "**=" | "//=" | ">>=" | "<<=" | "...") {
                    3
                } else if matches!(
                    two,
                    "==" | "!="
                        | "<="
                        | ">="
                        | "->"
                        | ":="
                        | "**"
                        | "//"
                        | "<<"
                        | ">>"
                        | "+="
                        | "-="
                        | "*="
                        | "/="
                        | "%="
                        | "&="
                        | "|="
                        | "^="
                        | "@="
                ) {
                    2
                } else {
                    lx.text[lx.i..].chars().next().map_or(1, char::len_utf8)
                };
                lx.op(n);
            }
        }
    }
    if depth != 0 {
        return Err(corrupt(lx.line, "unbalanced brackets"));
    }
    if !matches!(lx.toks.last(), None | Some((Tok::Newline | Tok::Dedent, _))) {
        lx.toks.push((Tok::Newline, lx.line));
    }
    for _ in 1..indents.len() {
        lx.toks.push((Tok::Dedent, lx.line));
    }
    Ok(lx.toks)
}

impl Lexer<'_> {
    fn op(&mut self, n: usize) {
        let s = self.text[self.i..self.i + n].to_owned();
        self.toks.push((Tok::Op(s), self.line));
        self.i += n;
    }

    fn number(&mut self) {
        let start = self.i;
        while self.i < self.s.len() {
            let c = self.s[self.i];
            let prev = self.s[self.i - 1];
            let hex = self.text[start..].starts_with("0x") || self.text[start..].starts_with("0X");
            let sign_ok = matches!(c, b'+' | b'-') && matches!(prev, b'e' | b'E') && !hex;
            if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || sign_ok {
                self.i += 1;
            } else {
                break;
            }
        }
        let t = self.text[start..self.i].to_owned();
        self.toks.push((Tok::Num(t), self.line));
    }

    /// A string literal at `self.i` (the quote), with its lowercased prefix.
    fn string(&mut self, prefix: String) -> Result<(), PyError> {
        let line = self.line;
        let q = self.s[self.i];
        let triple = self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..]);
        let qlen = if triple { 3 } else { 1 };
        self.i += qlen;
        let raw = prefix.contains('r');
        let start = self.i;
        loop {
            let Some(&c) = self.s.get(self.i) else {
                return Err(corrupt(line, "unterminated string"));
            };
            if c == b'\\' {
                if self.s.get(self.i + 1) == Some(&b'\n') {
                    self.line += 1;
                }
                self.i += 2;
                continue;
            }
            if c == b'\n' {
                if !triple {
                    return Err(corrupt(line, "unterminated string"));
                }
                self.line += 1;
            }
            if c == q && (!triple || self.s.get(self.i..self.i + 3) == Some(&[q, q, q][..])) {
                break;
            }
            self.i += 1;
        }
        let body = &self.text[start..self.i];
        self.i += qlen;
        let kind = if prefix.contains('b') {
            'b'
        } else if prefix.contains('f') || prefix.contains('t') {
            'f'
        } else {
            ' '
        };
        let value = if raw {
            Some(body.to_owned())
        } else {
            unescape(body)
        };
        // An escape strix does not decode (`\N{…}`) makes the string unusable,
        // like a non-literal: mark it as an f-string so it is skipped.
        let (value, kind) = match value {
            Some(v) => (v, kind),
            None => (String::new(), 'f'),
        };
        self.toks.push((Tok::Str(value, kind), line));
        Ok(())
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        let hex = |it: &mut std::iter::Peekable<std::str::Chars<'_>>, n: usize| {
            let h: String = (0..n).filter_map(|_| it.next()).collect();
            u32::from_str_radix(&h, 16).ok().and_then(char::from_u32)
        };
        match e {
            '\n' => {}
            '\\' => out.push('\\'),
            '\'' => out.push('\''),
            '"' => out.push('"'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            'x' => out.push(hex(&mut it, 2)?),
            'u' => out.push(hex(&mut it, 4)?),
            'U' => out.push(hex(&mut it, 8)?),
            '0'..='7' => {
                let mut n = e.to_digit(8)?;
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            n = n * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(n)?);
            }
            'N' => return None,
            other => {
                out.push('\\');
                out.push(other);
            }
        }
    }
    Some(out)
}

/// Not a literal (DVC's `ValueError`): the assignment is skipped.
struct Skip;

/// A literal value, before conversion (sets and the like kept apart).
enum Lit {
    V(Value),
    Bad(&'static str),
}

struct Parser<'a> {
    toks: &'a [(Tok, usize)],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|(t, _)| t)
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Some(Tok::Op(o)) if o == op)
    }

    fn bump(&mut self) -> Option<&Tok> {
        let t = self.toks.get(self.pos).map(|(t, _)| t);
        self.pos += 1;
        t
    }

    /// A comma-separated sequence up to `close`; returns items and whether a
    /// comma was seen.
    fn items(&mut self, close: &str) -> Result<(Vec<Lit>, bool), Skip> {
        let mut out = Vec::new();
        let mut comma = false;
        while !self.is_op(close) {
            out.push(self.literal()?);
            if self.is_op(",") {
                self.bump();
                comma = true;
            } else if !self.is_op(close) {
                return Err(Skip);
            }
        }
        self.bump();
        Ok((out, comma))
    }

    fn literal(&mut self) -> Result<Lit, Skip> {
        let tok = self.bump().cloned().ok_or(Skip)?;
        Ok(match tok {
            Tok::Name(n) => match n.as_str() {
                "True" => Lit::V(Value::Bool(true)),
                "False" => Lit::V(Value::Bool(false)),
                "None" => Lit::V(Value::Null),
                _ => return Err(Skip),
            },
            Tok::Num(t) => number(&t, false)?,
            Tok::Op(o) if o == "-" || o == "+" => match self.bump().cloned() {
                Some(Tok::Num(t)) => number(&t, o == "-")?,
                _ => return Err(Skip),
            },
            Tok::Str(s, kind) => {
                let mut s = s;
                let mut kinds = vec![kind];
                while let Some(Tok::Str(more, k)) = self.peek().cloned() {
                    s.push_str(&more);
                    kinds.push(k);
                    self.bump();
                }
                if kinds.contains(&'f') {
                    return Err(Skip);
                }
                if kinds.contains(&'b') {
                    Lit::Bad("bytes")
                } else {
                    Lit::V(Value::String(s))
                }
            }
            Tok::Op(o) if o == "(" => {
                let (items, comma) = self.items(")")?;
                if items.len() == 1 && !comma {
                    items.into_iter().next().ok_or(Skip)?
                } else {
                    seq(items)
                }
            }
            Tok::Op(o) if o == "[" => seq(self.items("]")?.0),
            Tok::Op(o) if o == "{" => self.brace()?,
            _ => return Err(Skip),
        })
    }

    fn brace(&mut self) -> Result<Lit, Skip> {
        if self.is_op("}") {
            self.bump();
            return Ok(Lit::V(Value::Map(Mapping::new())));
        }
        let first = self.literal()?;
        if !self.is_op(":") {
            // A set display.
            let mut rest = vec![first];
            if self.is_op(",") {
                self.bump();
                rest.extend(self.items("}")?.0);
            } else if self.is_op("}") {
                self.bump();
            } else {
                return Err(Skip);
            }
            return Ok(Lit::Bad("set"));
        }
        let mut m = Mapping::new();
        let mut bad = None;
        let mut key = first;
        loop {
            if !self.is_op(":") {
                return Err(Skip);
            }
            self.bump();
            let v = self.literal()?;
            match (key, v) {
                (Lit::V(k @ (Value::Seq(_) | Value::Map(_))), _) => {
                    let _ = k;
                    bad = Some("tuple key");
                }
                (Lit::V(k), Lit::V(v)) => m.insert(k, v),
                (Lit::Bad(b), _) | (_, Lit::Bad(b)) => bad = Some(b),
            }
            if self.is_op(",") {
                self.bump();
            }
            if self.is_op("}") {
                self.bump();
                break;
            }
            key = self.literal()?;
        }
        Ok(match bad {
            Some(b) => Lit::Bad(b),
            None => Lit::V(Value::Map(m)),
        })
    }
}

fn seq(items: Vec<Lit>) -> Lit {
    let mut out = Vec::new();
    for i in items {
        match i {
            Lit::V(v) => out.push(v),
            Lit::Bad(b) => return Lit::Bad(b),
        }
    }
    Lit::V(Value::Seq(out))
}

fn number(t: &str, neg: bool) -> Result<Lit, Skip> {
    let clean = t.replace('_', "");
    let lower = clean.to_ascii_lowercase();
    if lower.ends_with('j') {
        return Ok(Lit::Bad("complex"));
    }
    let radix = |p: &str, r: u32| i128::from_str_radix(&lower[p.len()..], r).map_err(|_| Skip);
    let int = if lower.starts_with("0x") {
        Some(radix("0x", 16)?)
    } else if lower.starts_with("0o") {
        Some(radix("0o", 8)?)
    } else if lower.starts_with("0b") {
        Some(radix("0b", 2)?)
    } else if lower.bytes().all(|b| b.is_ascii_digit()) {
        Some(lower.parse::<i128>().map_err(|_| Skip)?)
    } else {
        None
    };
    Ok(Lit::V(match int {
        Some(i) => Value::Int(if neg { -i } else { i }),
        None => {
            let f: f64 = lower.parse().map_err(|_| Skip)?;
            Value::Float(if neg { -f } else { f })
        }
    }))
}

/// Reads a Python params file into a dict.
pub fn parse(text: &str) -> Result<Value, PyError> {
    let toks = tokenize(text)?;
    let mut out = Mapping::new();
    let mut pos = 0;
    body(&toks, &mut pos, false, &mut out)?;
    Ok(Value::Map(out))
}

/// Reads statements until a Dedent (or the end), adding params to `out`.
fn body(
    toks: &[(Tok, usize)],
    pos: &mut usize,
    only_self: bool,
    out: &mut Mapping,
) -> Result<(), PyError> {
    while *pos < toks.len() {
        if toks[*pos].0 == Tok::Dedent {
            *pos += 1;
            return Ok(());
        }
        let start = *pos;
        while *pos < toks.len() && toks[*pos].0 != Tok::Newline {
            *pos += 1;
        }
        let line = &toks[start..*pos];
        *pos += 1;
        let has_block = toks.get(*pos).is_some_and(|t| t.0 == Tok::Indent);
        if has_block {
            *pos += 1;
        }
        let first = line.first().map(|t| &t.0);
        let name_at = |i: usize| match line.get(i).map(|t| &t.0) {
            Some(Tok::Name(n)) => Some(n.as_str()),
            _ => None,
        };
        let kind = match first {
            Some(Tok::Name(k)) if k == "class" => Some("class"),
            Some(Tok::Name(k)) if k == "def" && name_at(1) == Some("__init__") => Some("init"),
            _ => None,
        };
        match kind {
            Some(k) => {
                // The header ends at the first top-level `:`; anything after it
                // is an inline body of simple statements.
                let colon = header_end(line);
                let inline = colon.map_or(&line[line.len()..], |c| &line[c + 1..]);
                let mut sub = Mapping::new();
                let self_only = k == "init";
                for stmt in split_semicolons(inline) {
                    assign(stmt, self_only, &mut sub)?;
                }
                if has_block {
                    body(toks, pos, self_only, &mut sub)?;
                }
                if k == "class" {
                    if let Some(n) = name_at(1) {
                        out.insert(n, Value::Map(sub));
                    }
                } else {
                    for (k, v) in sub.iter() {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            None => {
                if has_block {
                    skip_block(toks, pos);
                } else {
                    for stmt in split_semicolons(line) {
                        assign(stmt, only_self, out)?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn skip_block(toks: &[(Tok, usize)], pos: &mut usize) {
    let mut depth = 1;
    while *pos < toks.len() && depth > 0 {
        match toks[*pos].0 {
            Tok::Indent => depth += 1,
            Tok::Dedent => depth -= 1,
            _ => {}
        }
        *pos += 1;
    }
}

fn header_end(line: &[(Tok, usize)]) -> Option<usize> {
    let mut depth = 0i32;
    for (i, (t, _)) in line.iter().enumerate() {
        if let Tok::Op(o) = t {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                ":" if depth == 0 => return Some(i),
                _ => {}
            }
        }
    }
    None
}

fn split_semicolons(line: &[(Tok, usize)]) -> Vec<&[(Tok, usize)]> {
    line.split(|(t, _)| matches!(t, Tok::Op(o) if o == ";"))
        .filter(|s| !s.is_empty())
        .collect()
}

/// `name = literal`, `name: T = literal`, `self.name = literal`.
fn assign(stmt: &[(Tok, usize)], only_self: bool, out: &mut Mapping) -> Result<(), PyError> {
    let line = stmt.first().map_or(0, |t| t.1);
    let mut depth = 0i32;
    let mut eqs = Vec::new();
    let mut colon = None;
    for (i, (t, _)) in stmt.iter().enumerate() {
        if let Tok::Op(o) = t {
            match o.as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" | "}" => depth -= 1,
                "=" if depth == 0 => eqs.push(i),
                ":" if depth == 0 && colon.is_none() && eqs.is_empty() => colon = Some(i),
                _ => {}
            }
        }
    }
    let Some(&eq) = eqs.first() else {
        return Ok(());
    };
    if eqs.len() > 1 && colon.is_none() {
        return Ok(());
    }
    let target = &stmt[..colon.unwrap_or(eq)];
    let name = match target {
        [(Tok::Name(n), _)] if !only_self => n.clone(),
        [(Tok::Name(s), _), (Tok::Op(dot), _), (Tok::Name(n), _)] if s == "self" && dot == "." => {
            n.clone()
        }
        _ => return Ok(()),
    };
    let value = &stmt[eq + 1..];
    let mut p = Parser {
        toks: value,
        pos: 0,
    };
    // A bare tuple: `x = 1, 2`.
    let lit = (|| {
        let first = p.literal()?;
        if p.pos == value.len() {
            return Ok(first);
        }
        if !p.is_op(",") {
            return Err(Skip);
        }
        let mut items = vec![first];
        while p.is_op(",") {
            p.bump();
            if p.pos == value.len() {
                break;
            }
            items.push(p.literal()?);
        }
        if p.pos != value.len() {
            return Err(Skip);
        }
        Ok(seq(items))
    })();
    match lit {
        Ok(Lit::V(v)) => out.insert(name, v),
        Ok(Lit::Bad(kind)) => return Err(PyError::Unsupported { line, name, kind }),
        Err(Skip) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_dvcfile::yaml;

    fn flow(text: &str) -> String {
        yaml::to_flow_string(&parse(text).unwrap())
    }

    #[test]
    fn module_assignments_and_classes() {
        let text = r#"
import os
lr = 0.001  # comment
epochs: int = 10
name = "a" 'b'
neg = -3
big = 1_000
hexa = 0x1F
flags = [True, False, None]
tup = (1, 2)
bare = 1, 2
nested = {"a": {"b": [1, 2.5]}, 1: "x"}
skipped = os.getcwd()
a = b = 3
fs = f"x{lr}"
x += 1
if lr > 0:
    inside = 1
def helper():
    y = 2
class Train:
    """Doc."""
    batch = 32
    def __init__(self, z):
        self.seed = 42
        local = 1
        self.dyn = z
    def other(self):
        self.no = 1
    class Inner: depth = 2
raw = r"\d+\n"
esc = "tab\there\u00e9"
multi = """line1
line2"""
cont = [1,
        2]
lr = 0.01
"#;
        assert_eq!(
            flow(text),
            r#"{lr: 0.01, epochs: 10, name: ab, neg: -3, big: 1000, hexa: 31, flags: [true, false, ], tup: [1, 2], bare: [1, 2], nested: {a: {b: [1, 2.5]}, 1: x}, Train: {batch: 32, seed: 42, Inner: {depth: 2}}, raw: \d+\n, esc: "tab\thereé", multi: "line1\nline2", cont: [1, 2]}"#
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(parse("x = [1,\n"), Err(PyError::Corrupt { .. })));
        assert!(matches!(parse("x = 'abc\n"), Err(PyError::Corrupt { .. })));
        assert_eq!(
            parse("s = {1, 2}\n").unwrap_err().to_string(),
            "line 1: 's' is a set literal, which strix does not support in params files"
        );
    }
}
