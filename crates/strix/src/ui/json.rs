//! `--json` output as DVC writes it: Python's `json.dumps` with its default
//! separators (`", "`, `": "`), ASCII only (`\uXXXX` escapes), keys in the
//! order they were inserted, and on a terminal indented by 2.

use serde_json::Value;

/// `v` as Python's `json.dumps(v, indent=indent)` writes it.
pub fn render(v: &Value, indent: Option<usize>) -> String {
    let mut out = String::new();
    write(&mut out, v, indent, 0);
    out
}

fn newline(out: &mut String, indent: Option<usize>, level: usize) {
    if let Some(n) = indent {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', n * level));
    }
}

fn write(out: &mut String, v: &Value, indent: Option<usize>, level: usize) {
    // Between items: ", " on one line; "," then a new line when indented.
    let sep = if indent.is_some() { "," } else { ", " };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => strix_data::pyjson::push_str(out, s),
        Value::Array(items) if items.is_empty() => out.push_str("[]"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                write(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Object(map) if map.is_empty() => out.push_str("{}"),
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                newline(out, indent, level + 1);
                strix_data::pyjson::push_str(out, k);
                out.push_str(": ");
                write(out, item, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn written_as_python_writes_it() {
        let v = json!({"b": [1, "é"], "a": {}, "c": [], "d": {"x": null, "y": true}});
        assert_eq!(
            render(&v, None),
            r#"{"b": [1, "\u00e9"], "a": {}, "c": [], "d": {"x": null, "y": true}}"#
        );
        assert_eq!(
            render(&v, Some(2)),
            "{\n  \"b\": [\n    1,\n    \"\\u00e9\"\n  ],\n  \"a\": {},\n  \"c\": [],\n  \"d\": {\n    \"x\": null,\n    \"y\": true\n  }\n}"
        );
        assert_eq!(render(&json!({}), None), "{}");
    }
}
