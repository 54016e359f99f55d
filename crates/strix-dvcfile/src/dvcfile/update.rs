//! Rewriting an existing `.dvc` file in place, the way DVC does (spec 2.6).
//!
//! DVC re-parses the old text with ruamel's round-trip loader and applies the new
//! stage dict onto it (`dvc.utils.collections.apply_diff`): for each key of the
//! new mapping, containers of the same type are merged recursively, other values
//! are replaced when they differ, and missing keys are appended at the end of
//! their mapping; keys that disappeared are deleted. Sequences of equal length
//! are merged element by element, otherwise replaced whole. Comments, flow style
//! and key order of untouched parts survive. Here the same algorithm runs on a
//! lossless yaml-edit syntax tree, with new values rendered by strix's emitter.

use std::str::FromStr;

use yaml_edit::{AsYaml, Document};

use super::DvcFile;
use crate::yaml::{self, Mapping, Value, YamlError};

/// Errors from [`update_text`].
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The existing text is not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// The lossless editor could not parse the existing text.
    #[error("{name}:{line}:{column}: cannot edit the existing text in place: {message}")]
    Edit {
        /// Display name used for the original text.
        name: &'static str,
        /// 1-based line (0 if unknown).
        line: usize,
        /// 1-based column (0 if unknown).
        column: usize,
        /// The editor's description.
        message: String,
    },
    /// The lossless tree and the parsed document disagree at `path`.
    #[error("{name}: cannot edit the existing text in place: unexpected structure at {path}")]
    Structure {
        /// Display name used for the original text.
        name: &'static str,
        /// DVC-style path of the node.
        path: String,
    },
}

const NAME: &str = "<existing .dvc text>";

/// Rewrites `original` (the current text of a `.dvc` file) so that it holds `new`,
/// keeping comments, flow style and key order as DVC does. If `original` is empty
/// or not a mapping, returns a fresh [`DvcFile::to_yaml`].
pub fn update_text(original: &str, new: &DvcFile) -> Result<String, UpdateError> {
    update_value_text(original, &new.to_value(), &new.to_yaml())
}

/// Rewrites `original` (any YAML metafile, e.g. `dvc.yaml`) so that it holds
/// `src`, with DVC's apply-diff algorithm (see the module docs). `fresh` is the
/// text to use when `original` is empty or not a mapping.
pub fn update_value_text(original: &str, src: &Value, fresh: &str) -> Result<String, UpdateError> {
    let old = yaml::parse(original, NAME)?;
    let (Value::Map(old_map), Value::Map(src_map)) = (&old, src) else {
        return Ok(fresh.to_owned());
    };
    if old_map.is_empty() {
        return Ok(fresh.to_owned());
    }
    let doc = Document::from_str(original).map_err(edit_error)?;
    let Some(root) = doc.as_mapping() else {
        return Err(UpdateError::Structure {
            name: NAME,
            path: "(top level)".to_owned(),
        });
    };
    apply_map(&root, old_map, src_map, "")?;
    let mut text = doc.to_string();
    while text.ends_with("\n\n") {
        text.pop();
    }
    if !text.ends_with('\n') {
        text.push('\n');
    }
    Ok(text)
}

fn edit_error(e: yaml_edit::YamlError) -> UpdateError {
    match e {
        yaml_edit::YamlError::Parse {
            message,
            line,
            column,
        } => UpdateError::Edit {
            name: NAME,
            line: line.unwrap_or(0),
            column: column.unwrap_or(0),
            message,
        },
        other => UpdateError::Edit {
            name: NAME,
            line: 0,
            column: 0,
            message: other.to_string(),
        },
    }
}

fn sub(path: &str, seg: &str) -> String {
    if path.is_empty() {
        seg.to_owned()
    } else {
        format!("{path} -> {seg}")
    }
}

/// Python `==` for the values DVC compares (numbers compare across int/float).
fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(i), Value::Float(f)) | (Value::Float(f), Value::Int(i)) => (*i as f64) == *f,
        (Value::Seq(x), Value::Seq(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| py_eq(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len()
                && x.iter().all(|(k, v)| {
                    y.iter()
                        .find(|(k2, _)| py_eq(k, k2))
                        .is_some_and(|(_, v2)| py_eq(v, v2))
                })
        }
        _ => a == b,
    }
}

/// A parsed fragment that can be inserted into the tree.
enum Fragment {
    Map(yaml_edit::Mapping),
    Seq(yaml_edit::Sequence),
    Scalar(yaml_edit::Scalar),
}

impl Fragment {
    fn as_yaml(&self) -> &dyn AsYaml {
        match self {
            Fragment::Map(m) => m,
            Fragment::Seq(s) => s,
            Fragment::Scalar(s) => s,
        }
    }
}

/// Renders `v` with strix's emitter (flow style if `flow`) and parses it back as
/// a yaml-edit node.
fn fragment(v: &Value, flow: bool, path: &str) -> Result<Fragment, UpdateError> {
    let text = match v {
        Value::Null => "null".to_owned(),
        Value::Map(_) | Value::Seq(_) if flow => yaml::to_flow_string(v),
        _ => yaml::to_string(v),
    };
    let doc = Document::from_str(&text).map_err(edit_error)?;
    let frag = match v {
        Value::Map(m) if !m.is_empty() || flow => doc.as_mapping().map(Fragment::Map),
        Value::Seq(s) if !s.is_empty() || flow => doc.as_sequence().map(Fragment::Seq),
        _ => doc
            .as_scalar()
            .map(Fragment::Scalar)
            .or_else(|| doc.as_mapping().map(Fragment::Map))
            .or_else(|| doc.as_sequence().map(Fragment::Seq)),
    };
    frag.ok_or_else(|| UpdateError::Structure {
        name: NAME,
        path: path.to_owned(),
    })
}

fn same_container(a: &Value, b: &Value) -> bool {
    matches!(
        (a, b),
        (Value::Map(_), Value::Map(_)) | (Value::Seq(_), Value::Seq(_))
    )
}

fn apply_map(
    dest: &yaml_edit::Mapping,
    old: &Mapping,
    src: &Mapping,
    path: &str,
) -> Result<(), UpdateError> {
    let flow = dest.is_flow_style();
    for (k, v) in src {
        let Some(key) = k.as_str() else { continue };
        let here = sub(path, key);
        let old_v = old.get(key);
        match (v, old_v) {
            (Value::Map(sm), Some(ov @ Value::Map(om))) if same_container(v, ov) => {
                match dest.get_mapping(key) {
                    Some(dm) => apply_map(&dm, om, sm, &here)?,
                    None => dest.set(key, fragment(v, flow, &here)?.as_yaml()),
                }
            }
            (Value::Seq(ss), Some(Value::Seq(os))) => match dest.get_sequence(key) {
                Some(ds) if ss.len() == os.len() => apply_seq(&ds, os, ss, &here)?,
                Some(ds) => {
                    let f = fragment(v, flow || ds.is_flow_style(), &here)?;
                    dest.set(key, f.as_yaml());
                }
                None => dest.set(key, fragment(v, flow, &here)?.as_yaml()),
            },
            (_, Some(ov)) if py_eq(v, ov) => {}
            _ => dest.set(key, fragment(v, flow, &here)?.as_yaml()),
        }
    }
    for (k, _) in old {
        if let Some(key) = k.as_str()
            && !src.contains_key(key)
        {
            dest.remove(key);
        }
    }
    Ok(())
}

fn apply_seq(
    dest: &yaml_edit::Sequence,
    old: &[Value],
    src: &[Value],
    path: &str,
) -> Result<(), UpdateError> {
    let flow = dest.is_flow_style();
    for (i, (v, ov)) in src.iter().zip(old).enumerate() {
        let here = sub(path, &i.to_string());
        let node = dest.get(i);
        match (v, ov, node.as_ref()) {
            (Value::Map(sm), Value::Map(om), Some(n)) if n.as_mapping().is_some() => {
                if let Some(dm) = n.as_mapping() {
                    apply_map(dm, om, sm, &here)?;
                }
            }
            (Value::Seq(ss), Value::Seq(os), Some(n))
                if n.as_sequence().is_some() && ss.len() == os.len() =>
            {
                if let Some(ds) = n.as_sequence() {
                    apply_seq(ds, os, ss, &here)?;
                }
            }
            _ if py_eq(v, ov) => {}
            _ => {
                dest.set(i, fragment(v, flow, &here)?.as_yaml());
            }
        }
    }
    Ok(())
}
