//! Scalar resolution (which plain strings read back as non-strings), scalar style
//! choice, and Python-compatible float formatting.
//!
//! The resolver mirrors ruamel.yaml's YAML 1.2 implicit resolvers, which DVC uses:
//! bool `true|True|TRUE|false|False|FALSE`; null `~|null|Null|NULL|` (empty);
//! ints `[-+]?0b[01_]+`, `[-+]?0o?[0-7_]+`, `[-+]?[0-9_]+`, `[-+]?0x[0-9a-fA-F_]+`;
//! floats `[-+]?D[D_]*\.[D_]*(e[-+]?D+)?`, `[-+]?D[D_]*e[-+]?D+`,
//! `[-+]?\.[D_]+(e[-+]D+)?`, `[-+]?\.inf`, `\.nan`; timestamps
//! `YYYY-MM-DD[ T]hh:mm:ss…`; merge `<<`; value `=`. Resolvers are selected by the
//! first character, as in ruamel (so `_1` stays a string).

/// Whether `s`, written as a plain scalar, would be read by ruamel as something
/// other than a string (and therefore must be quoted).
pub fn resolves_as_non_string(s: &str) -> bool {
    let first = s.chars().next();
    match first {
        None => true,
        Some('t' | 'T' | 'f' | 'F') => {
            matches!(s, "true" | "True" | "TRUE" | "false" | "False" | "FALSE")
        }
        Some('~' | 'n' | 'N') => matches!(s, "~" | "null" | "Null" | "NULL"),
        Some('<') => s == "<<",
        Some('=') => s == "=",
        Some(c) if c.is_ascii_digit() || matches!(c, '-' | '+' | '.') => {
            is_float(s) || is_int(s) || (c.is_ascii_digit() && is_timestamp(s))
        }
        _ => false,
    }
}

fn all_in(s: &str, ok: impl Fn(u8) -> bool) -> bool {
    !s.is_empty() && s.bytes().all(ok)
}

fn strip_sign(s: &str) -> &str {
    s.strip_prefix(['-', '+']).unwrap_or(s)
}

fn is_int(s: &str) -> bool {
    let u = strip_sign(s);
    if let Some(r) = u.strip_prefix("0b")
        && all_in(r, |b| b == b'0' || b == b'1' || b == b'_')
    {
        return true;
    }
    if let Some(r) = u.strip_prefix("0x")
        && all_in(r, |b| b.is_ascii_hexdigit() || b == b'_')
    {
        return true;
    }
    if let Some(r) = u.strip_prefix("0o")
        && all_in(r, |b| (b'0'..=b'7').contains(&b) || b == b'_')
    {
        return true;
    }
    all_in(u, |b| b.is_ascii_digit() || b == b'_')
}

/// `e[-+]?D+` (sign optional unless `sign_required`).
fn is_exponent(s: &str, sign_required: bool) -> bool {
    let Some(r) = s.strip_prefix(['e', 'E']) else {
        return false;
    };
    let digits = match r.strip_prefix(['-', '+']) {
        Some(d) => d,
        None if sign_required => return false,
        None => r,
    };
    all_in(digits, |b| b.is_ascii_digit())
}

fn is_float(s: &str) -> bool {
    if matches!(s, ".nan" | ".NaN" | ".NAN") {
        return true;
    }
    let u = strip_sign(s);
    if matches!(u, ".inf" | ".Inf" | ".INF") {
        return true;
    }
    if let Some(r) = u.strip_prefix('.') {
        // [-+]?\.[0-9_]+([eE][-+][0-9]+)?
        let end = r
            .find(|c: char| !(c.is_ascii_digit() || c == '_'))
            .unwrap_or(r.len());
        return end > 0 && (end == r.len() || is_exponent(&r[end..], true));
    }
    // [0-9][0-9_]* then either \.[0-9_]*(exp)? or exp
    if !u.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    let end = u
        .find(|c: char| !(c.is_ascii_digit() || c == '_'))
        .unwrap_or(u.len());
    let rest = &u[end..];
    if let Some(frac) = rest.strip_prefix('.') {
        let fend = frac
            .find(|c: char| !(c.is_ascii_digit() || c == '_'))
            .unwrap_or(frac.len());
        return fend == frac.len() || is_exponent(&frac[fend..], false);
    }
    is_exponent(rest, false)
}

fn digits(s: &str, min: usize, max: usize) -> Option<&str> {
    let n = s.bytes().take_while(u8::is_ascii_digit).count();
    (n >= min && n <= max).then(|| &s[n.min(max)..])
}

fn is_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit())
    {
        return true;
    }
    // YYYY-M?M-D?D([Tt]|[ \t]+)h?h:mm:ss(\.d*)?([ \t]*(Z|[-+]h?h(:mm)?))?
    let parse = || -> Option<()> {
        let r = digits(s, 4, 4)?.strip_prefix('-')?;
        let r = digits(r, 1, 2)?.strip_prefix('-')?;
        let r = digits(r, 1, 2)?;
        let r = if let Some(r) = r.strip_prefix(['T', 't']) {
            r
        } else {
            let t = r.trim_start_matches([' ', '\t']);
            if t.len() == r.len() {
                return None;
            }
            t
        };
        let r = digits(r, 1, 2)?.strip_prefix(':')?;
        let r = digits(r, 2, 2)?.strip_prefix(':')?;
        let mut r = digits(r, 2, 2)?;
        if let Some(f) = r.strip_prefix('.') {
            r = f.trim_start_matches(|c: char| c.is_ascii_digit());
        }
        let r = r.trim_start_matches([' ', '\t']);
        if r.is_empty() || r == "Z" {
            return Some(());
        }
        let r = r.strip_prefix(['-', '+'])?;
        let r = digits(r, 1, 2)?;
        if r.is_empty() {
            return Some(());
        }
        let r = digits(r.strip_prefix(':')?, 2, 2)?;
        r.is_empty().then_some(())
    };
    parse().is_some()
}

/// The quoting style chosen for a string scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
}

const WS: [char; 7] = ['\0', ' ', '\t', '\r', '\n', '\u{85}', '\u{2028}'];

fn is_ws(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => WS.contains(&c) || c == '\u{2029}',
    }
}

fn is_break(c: char) -> bool {
    matches!(c, '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_printable_unicode(c: char) -> bool {
    c == '\u{85}'
        || ('\u{A0}'..='\u{D7FF}').contains(&c)
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}'
}

/// Picks ruamel's style for string `s` (ruamel `analyze_scalar` +
/// `choose_scalar_style`, with `allow_unicode`).
pub(crate) fn choose_style(s: &str, flow: bool, simple_key: bool) -> Style {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    if n == 0 {
        return Style::Single;
    }
    let mut block_ind = false;
    let mut flow_ind = false;
    let mut line_breaks = false;
    let mut special = false;
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    if s.starts_with("---") || s.starts_with("...") {
        block_ind = true;
        flow_ind = true;
    }
    let mut preceded_ws = true;
    let (mut prev_space, mut prev_break) = (false, false);
    for (i, &ch) in chars.iter().enumerate() {
        let followed_ws = is_ws(chars.get(i + 1).copied());
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(ch) {
                flow_ind = true;
                block_ind = true;
            }
            if ch == '?' || ch == ':' {
                if n == 1 {
                    flow_ind = true;
                }
                if followed_ws {
                    block_ind = true;
                }
            }
            if ch == '-' && followed_ws {
                flow_ind = true;
                block_ind = true;
            }
        } else {
            if ",[]{}".contains(ch) {
                flow_ind = true;
            }
            if ch == ':' && followed_ws {
                flow_ind = true;
                block_ind = true;
            }
            if ch == '#' && preceded_ws {
                flow_ind = true;
                block_ind = true;
            }
        }
        if is_break(ch) {
            line_breaks = true;
        }
        let printable = ch == '\n'
            || (' '..='~').contains(&ch)
            || (is_printable_unicode(ch) && ch != '\u{FEFF}');
        if !printable {
            special = true;
        }
        if ch == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == n - 1;
            break_space |= prev_break;
            prev_space = true;
            prev_break = false;
        } else if is_break(ch) {
            leading_break |= i == 0;
            trailing_break |= i == n - 1;
            space_break |= prev_space;
            prev_space = false;
            prev_break = true;
        } else {
            prev_space = false;
            prev_break = false;
        }
        preceded_ws = is_ws(Some(ch));
    }
    let mut flow_plain = true;
    let mut block_plain = true;
    let mut single = true;
    if leading_space || leading_break || trailing_space || trailing_break {
        flow_plain = false;
        block_plain = false;
    }
    if break_space || special || space_break {
        flow_plain = false;
        block_plain = false;
        single = false;
    }
    if line_breaks {
        flow_plain = false;
        block_plain = false;
    }
    if flow_ind {
        flow_plain = false;
    }
    if block_ind {
        block_plain = false;
    }
    let plain_ok = if flow { flow_plain } else { block_plain };
    if plain_ok && !(simple_key && line_breaks) && !resolves_as_non_string(s) {
        return Style::Plain;
    }
    // Strings with a break other than '\n' would be single-quoted with folded
    // breaks by ruamel; strix writes them double-quoted (same value).
    if s.contains('\'') || line_breaks {
        return Style::Double;
    }
    if single && !(simple_key && line_breaks) {
        return Style::Single;
    }
    Style::Double
}

/// Writes `s` as a double-quoted YAML scalar with ruamel's escapes.
pub(crate) fn double_quoted(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        let needs_escape = matches!(
            ch,
            '"' | '\\' | '\u{85}' | '\u{2028}' | '\u{2029}' | '\u{FEFF}'
        ) || !((' '..='~').contains(&ch) || is_printable_unicode(ch));
        if !needs_escape {
            out.push(ch);
            continue;
        }
        let short = match ch {
            '\0' => Some('0'),
            '\u{7}' => Some('a'),
            '\u{8}' => Some('b'),
            '\t' => Some('t'),
            '\n' => Some('n'),
            '\u{B}' => Some('v'),
            '\u{C}' => Some('f'),
            '\r' => Some('r'),
            '\u{1B}' => Some('e'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            '\u{85}' => Some('N'),
            '\u{A0}' => Some('_'),
            '\u{2028}' => Some('L'),
            '\u{2029}' => Some('P'),
            _ => None,
        };
        let code = u32::from(ch);
        match short {
            Some(c) => {
                out.push('\\');
                out.push(c);
            }
            None if code <= 0xFF => out.push_str(&format!("\\x{code:02X}")),
            None if code <= 0xFFFF => out.push_str(&format!("\\u{code:04X}")),
            None => out.push_str(&format!("\\U{code:08X}")),
        }
    }
    out.push('"');
}

/// Formats a float like Python's `repr`, with YAML spellings for non-finite
/// values: `0.001`, `1e-05`, `1e+16`, `100.0`, `-0.0`, `.inf`, `-.inf`, `.nan`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return ".nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.to_owned();
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, like Python's repr.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if f.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (a, b) = digits.split_at(point as usize);
            format!("{a}.{b}")
        };
        format!("{sign}{body}")
    } else {
        let m = if digits.len() > 1 {
            format!("{}.{}", &digits[..1], &digits[1..])
        } else {
            digits
        };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{m}e{esign}{:02}", exp.unsigned_abs())
    }
}
