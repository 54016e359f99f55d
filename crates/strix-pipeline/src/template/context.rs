//! The variables `${…}` reads: a tree of values that remembers where each
//! came from (a params file, `vars[0]`, `train.vars[1]`), so that a second
//! definition of the same leaf can be reported with both sources.
//!
//! Merging follows DVC: dicts merge key by key, any other clash is an error;
//! non-string keys are dropped; `item` and `key` are reserved while a
//! `foreach`/`matrix` stage is resolved.

use crate::params;
use indexmap::IndexMap;
use std::path::{Component, Path, PathBuf};
use strix_dvcfile::yaml::{Mapping, Value};

/// Where a variable was defined.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Meta {
    /// File or `vars[i]`; none for `item`/`key`.
    pub source: Option<String>,
    /// Keys from the source's root.
    pub path: Vec<String>,
}

impl Meta {
    fn child(&self, key: String) -> Meta {
        let mut path = self.path.clone();
        path.push(key);
        Meta {
            source: self.source.clone(),
            path,
        }
    }

    fn source_str(&self) -> &str {
        self.source.as_deref().unwrap_or("None")
    }
}

/// A variable: a dict, a list or a scalar, with its origin.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// A dict (string keys only).
    Dict(IndexMap<String, Node>, Meta),
    /// A list.
    List(Vec<Node>, Meta),
    /// Anything else.
    Leaf(Value, Meta),
}

impl Node {
    /// Wraps a value; dict keys that are not strings are dropped.
    pub fn new(v: &Value, meta: Meta) -> Node {
        match v {
            Value::Map(m) => Node::Dict(dict(m, &meta), meta),
            Value::Seq(s) => Node::List(
                s.iter()
                    .enumerate()
                    .map(|(i, v)| Node::new(v, meta.child(i.to_string())))
                    .collect(),
                meta,
            ),
            other => Node::Leaf(other.clone(), meta),
        }
    }

    fn meta(&self) -> &Meta {
        match self {
            Node::Dict(_, m) | Node::List(_, m) | Node::Leaf(_, m) => m,
        }
    }

    /// The plain value.
    pub fn value(&self) -> Value {
        match self {
            Node::Dict(d, _) => {
                let mut m = Mapping::new();
                for (k, v) in d {
                    m.insert(k.as_str(), v.value());
                }
                Value::Map(m)
            }
            Node::List(l, _) => Value::Seq(l.iter().map(Node::value).collect()),
            Node::Leaf(v, _) => v.clone(),
        }
    }
}

fn dict(m: &Mapping, meta: &Meta) -> IndexMap<String, Node> {
    m.iter()
        .filter_map(|(k, v)| {
            let k = k.as_str()?;
            Some((k.to_owned(), Node::new(v, meta.child(k.to_owned()))))
        })
        .collect()
}

/// Why variables could not be loaded or looked up.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ContextError {
    /// `${…}` names nothing.
    #[error("Could not find '{0}'")]
    NotFound(String),
    /// The same leaf defined twice.
    #[error("cannot redefine '{path}' from '{new}' as it already exists in '{old}'")]
    Redefined {
        /// Dotted key.
        path: String,
        /// The new definition's source.
        new: String,
        /// The existing definition's source.
        old: String,
    },
    /// `vars` sets `item` or `key` in a generated stage.
    #[error("attempted to modify reserved key{} {}{}", if .keys.len() > 1 { "s" } else { "" }, quoted(.keys), .item.as_ref().map(|i| format!(" in '{i}'")).unwrap_or_default())]
    Reserved {
        /// The keys.
        keys: Vec<String>,
        /// The `vars` entry.
        item: Option<String>,
    },
    /// A vars file was already loaded (whole or partly).
    #[error("{0}")]
    AlreadyLoaded(String),
    /// A vars file is missing, unreadable, not a dict, or lacks a key.
    #[error("{0}")]
    Load(String),
}

fn quoted(keys: &[String]) -> String {
    let q: Vec<String> = keys.iter().map(|k| format!("'{k}'")).collect();
    match q.len() {
        0 => String::new(),
        1 => q[0].clone(),
        n => format!("{} and {}", q[..n - 1].join(", "), q[n - 1]),
    }
}

impl ContextError {
    /// DVC puts these on a line of their own after the preamble.
    pub fn multiline(&self) -> bool {
        matches!(
            self,
            ContextError::Redefined { .. } | ContextError::AlreadyLoaded(_)
        )
    }
}

/// The variables visible to a stage.
#[derive(Debug, Clone, Default)]
pub struct Context {
    root: IndexMap<String, Node>,
    /// Loaded files (repo-relative) and the keys taken (None: all).
    imports: IndexMap<String, Option<Vec<String>>>,
    reserved: Vec<String>,
}

/// `a/./b/../c` → `a/c`, like `os.path.normpath` on a relative path.
pub fn normpath(p: &Path) -> String {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != "..") {
                    out.pop();
                } else {
                    out.push("..".into());
                }
            }
            Component::RootDir => out.push(String::new()),
            other => out.push(other.as_os_str().to_string_lossy().into_owned()),
        }
    }
    if out.is_empty() {
        ".".into()
    } else if out == [""] {
        "/".into()
    } else {
        out.join("/")
    }
}

impl Context {
    /// Looks up a dotted key (`a.0.b`; list indexes may be negative).
    pub fn select(&self, key: &str) -> Result<&Node, ContextError> {
        let not_found = || ContextError::NotFound(key.to_owned());
        let mut parts = key.split('.');
        let first = parts.next().unwrap_or("").trim();
        let mut cur = self.root.get(first).ok_or_else(not_found)?;
        for part in parts {
            let part = part.trim();
            cur = match cur {
                Node::Dict(d, _) => d.get(part).ok_or_else(not_found)?,
                Node::List(l, _) => {
                    let i: i64 = part.replace('_', "").parse().map_err(|_| not_found())?;
                    let idx = if i < 0 { l.len() as i64 + i } else { i };
                    usize::try_from(idx)
                        .ok()
                        .and_then(|i| l.get(i))
                        .ok_or_else(not_found)?
                }
                Node::Leaf(..) => return Err(not_found()),
            };
        }
        Ok(cur)
    }

    /// Whether a top-level name is defined.
    pub fn contains(&self, key: &str) -> bool {
        self.root.contains_key(key)
    }

    /// Sets top-level names for one generated stage (`item`, `key`),
    /// replacing any global of the same name, and reserves them.
    pub fn set_reserved(&mut self, vars: Vec<(&str, Value)>) {
        for (k, v) in vars {
            self.root
                .insert(k.to_owned(), Node::new(&v, Meta::default()));
            self.reserved.push(k.to_owned());
        }
    }

    /// Merges `other` in (dicts recursively; other clashes are errors).
    fn merge(&mut self, other: IndexMap<String, Node>) -> Result<(), ContextError> {
        let clash: Vec<String> = self
            .reserved
            .iter()
            .filter(|k| other.contains_key(*k))
            .cloned()
            .collect();
        if !clash.is_empty() {
            return Err(ContextError::Reserved {
                keys: clash,
                item: None,
            });
        }
        merge_into(&mut self.root, other)
    }

    /// Loads `vars` entries relative to `wdir` (repo-relative, `""` for the
    /// root): files (`f.yaml`, `f.yaml:a,b`) and inline dicts. With
    /// `default`, that file is loaded first if it exists.
    pub fn load_vars(
        &mut self,
        root: &Path,
        vars: &[Value],
        wdir: &str,
        stage: Option<&str>,
        default: Option<&str>,
    ) -> Result<(), ContextError> {
        if let Some(d) = default
            && root.join(wdir).join(d).exists()
        {
            self.merge_file(root, d, wdir)?;
        }
        for (i, item) in vars.iter().enumerate() {
            match item {
                Value::String(s) => self.merge_file(root, s, wdir)?,
                Value::Map(m) => {
                    let source = match stage {
                        Some(s) => format!("{s}.vars[{i}]"),
                        None => format!("vars[{i}]"),
                    };
                    let meta = Meta {
                        source: Some(source),
                        path: Vec::new(),
                    };
                    self.merge(dict(m, &meta))?;
                }
                other => {
                    return Err(ContextError::Load(format!(
                        "expected a file name or a dict in 'vars', got '{}'",
                        params::py_type(other)
                    )));
                }
            }
        }
        Ok(())
    }

    fn merge_file(&mut self, root: &Path, item: &str, wdir: &str) -> Result<(), ContextError> {
        let (file, keys) = match item.split_once(':') {
            Some((f, k)) => (f, Some(k)),
            None => (item, None),
        };
        let path = normpath(&Path::new(wdir).join(file));
        let select: Option<Vec<String>> = keys.filter(|k| !k.is_empty()).map(|k| {
            k.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        });
        if let Some(imported) = self.imports.get(&path) {
            let partial = select.as_ref().is_some_and(|s| !s.is_empty());
            match (imported, partial) {
                (None, false) => return Ok(()),
                (None, true) => {
                    return Err(ContextError::AlreadyLoaded(format!(
                        "cannot partially load '{item}' as it's already loaded."
                    )));
                }
                (Some(_), false) => {
                    return Err(ContextError::AlreadyLoaded(format!(
                        "cannot load '{item}' as it's partially loaded already"
                    )));
                }
                (Some(have), true) => {
                    if select.iter().flatten().any(|k| have.iter().any(|h| h == k)) {
                        return Err(ContextError::AlreadyLoaded(format!(
                            "cannot load '{item}' as it's partially loaded already"
                        )));
                    }
                }
            }
        }
        let abs: PathBuf = root.join(&path);
        if !abs.exists() {
            return Err(ContextError::Load(format!("'{path}' does not exist")));
        }
        if abs.is_dir() {
            return Err(ContextError::Load(format!("'{path}' is a directory")));
        }
        let data = params::load(&abs, &path).map_err(|e| ContextError::Load(e.to_string()))?;
        let Value::Map(mut m) = data else {
            return Err(ContextError::Load(format!(
                "expected a dictionary, got '{}' in file '{path}'",
                params::py_type(&data)
            )));
        };
        if let Some(keys) = select.as_ref().filter(|k| !k.is_empty()) {
            let mut picked = Mapping::new();
            for k in keys {
                let Some(v) = m.get(k) else {
                    return Err(ContextError::Load(format!(
                        "could not find '{k}' in '{path}'"
                    )));
                };
                picked.insert(k.as_str(), v.clone());
            }
            m = picked;
        }
        let meta = Meta {
            source: Some(path.clone()),
            path: Vec::new(),
        };
        self.merge(dict(&m, &meta)).map_err(|e| match e {
            ContextError::Reserved { keys, .. } => ContextError::Reserved {
                keys,
                item: Some(item.to_owned()),
            },
            e => e,
        })?;
        match self.imports.get_mut(&path) {
            None => {
                self.imports.insert(path, select);
            }
            Some(Some(have)) => have.extend(select.into_iter().flatten()),
            Some(None) => {}
        }
        Ok(())
    }
}

fn merge_into(
    into: &mut IndexMap<String, Node>,
    update: IndexMap<String, Node>,
) -> Result<(), ContextError> {
    for (k, new) in update {
        match (into.get_mut(&k), new) {
            (Some(Node::Dict(old, _)), Node::Dict(add, _)) => merge_into(old, add)?,
            (Some(old), new) => {
                return Err(ContextError::Redefined {
                    path: new.meta().path.join("."),
                    new: new.meta().source_str().to_owned(),
                    old: old.meta().source_str().to_owned(),
                });
            }
            (None, new) => {
                into.insert(k, new);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use strix_dvcfile::yaml;

    fn ctx_with(root: &Path, vars: &str) -> Result<Context, ContextError> {
        let v = yaml::parse(vars, "v").unwrap();
        let mut c = Context::default();
        c.load_vars(root, v.as_seq().unwrap(), "", None, Some("params.yaml"))?;
        Ok(c)
    }

    #[test]
    fn select_and_merge() {
        let t = tempfile::tempdir().unwrap();
        std::fs::write(t.path().join("params.yaml"), "a: 1\nd: {x: 1, l: [1, 2]}\n").unwrap();
        let c = ctx_with(t.path(), "- d: {y: 2}\n- b: x\n").unwrap();
        assert_eq!(c.select("d.y").unwrap().value(), Value::Int(2));
        assert_eq!(c.select("d.l.-1").unwrap().value(), Value::Int(2));
        assert_eq!(c.select(" a ").unwrap().value(), Value::Int(1));
        assert_eq!(
            c.select("a.b").unwrap_err().to_string(),
            "Could not find 'a.b'"
        );
        let e = ctx_with(t.path(), "- d: {x: 3}\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot redefine 'd.x' from 'vars[0]' as it already exists in 'params.yaml'"
        );
        let e = ctx_with(t.path(), "- params.yaml:a\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot partially load 'params.yaml:a' as it's already loaded."
        );
        assert!(ctx_with(t.path(), "- params.yaml\n").is_ok());
        let e = ctx_with(t.path(), "- nope.yaml\n").unwrap_err();
        assert_eq!(e.to_string(), "'nope.yaml' does not exist");
        std::fs::write(t.path().join("o.json"), r#"{"k": 1, "j": [1]}"#).unwrap();
        let e = ctx_with(t.path(), "- o.json:zz\n").unwrap_err();
        assert_eq!(e.to_string(), "could not find 'zz' in 'o.json'");
        let c = ctx_with(t.path(), "- o.json:k\n- o.json:j\n").unwrap();
        assert_eq!(c.select("j.0").unwrap().value(), Value::Int(1));
        let e = ctx_with(t.path(), "- o.json:k\n- o.json\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "cannot load 'o.json' as it's partially loaded already"
        );
    }

    #[test]
    fn reserved_keys() {
        let mut c = Context::default();
        c.set_reserved(vec![("item", Value::Int(1))]);
        let v = yaml::parse("- item: 2\n", "v").unwrap();
        let e = c
            .load_vars(
                Path::new("/nonexistent"),
                v.as_seq().unwrap(),
                "",
                Some("s@1"),
                None,
            )
            .unwrap_err();
        assert_eq!(e.to_string(), "attempted to modify reserved key 'item'");
    }

    #[test]
    fn normalizes_paths() {
        assert_eq!(normpath(Path::new("a/./b/../c.yaml")), "a/c.yaml");
        assert_eq!(normpath(Path::new("../x")), "../x");
        assert_eq!(normpath(&Path::new("").join("p.yaml")), "p.yaml");
    }
}
