//! Python `json.dumps(..., sort_keys=True)` string encoding: `ensure_ascii`
//! with lowercase `\uXXXX` escapes and UTF-16 surrogate pairs. Everything
//! DVC hashes (`.dir` manifests, stage md5s, run-cache keys) goes through it.

/// Whether Python writes the byte `b` of a string as it is (printable
/// ASCII other than `"` and `\\`), not as an escape.
pub fn is_plain(b: u8) -> bool {
    (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\'
}

/// Appends `s` as a JSON string literal, exactly as Python writes it.
pub fn push_str(out: &mut String, s: &str) {
    use std::fmt::Write;
    out.push('"');
    // Most names need no escape: copied whole.
    if s.bytes().all(is_plain) {
        out.push_str(s);
        out.push('"');
        return;
    }
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            ' '..='~' => out.push(c),
            _ => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{:04x}", u);
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_python() {
        let mut s = String::new();
        push_str(&mut s, "ü😀\u{7f}\"\\\n\u{01} x");
        assert_eq!(s, r#""\u00fc\ud83d\ude00\u007f\"\\\n\u0001 x""#);
        // ASCII: copied whole, unless it holds a character to escape.
        for (name, json) in [
            ("d0001/f 01.bin", r#""d0001/f 01.bin""#),
            ("a\"b\\c~", r#""a\"b\\c~""#),
            ("tab\tend", r#""tab\tend""#),
        ] {
            let mut s = String::new();
            push_str(&mut s, name);
            assert_eq!(s, json);
        }
    }
}
