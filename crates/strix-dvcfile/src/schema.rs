//! Validation helpers shared by the metafile readers: typed access to
//! [`Value`]s with errors that carry the file name, the DVC-style key path
//! (`outs -> 0 -> bad`) and the line:column of the offending node.

use crate::path::{PathProblem, check_relative_path};
use crate::yaml::{Mapping, PathSeg, SourcePos, Value, locate};

/// A metafile that parsed as YAML but does not match DVC's schema.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    /// A key that DVC does not allow at this place.
    #[error("{at}: extra keys not allowed, in {path}")]
    UnknownKey {
        /// Where the key is.
        at: SourcePos,
        /// The key as written.
        key: String,
        /// DVC-style path of the key, e.g. `outs -> 0 -> bad`.
        path: String,
    },
    /// A required key is missing.
    #[error("{at}: required key not provided, in {path}")]
    MissingKey {
        /// The mapping that lacks the key.
        at: SourcePos,
        /// DVC-style path of the missing key.
        path: String,
    },
    /// A value of the wrong type or form.
    #[error("{at}: expected {expected}, found {found}, in {path}")]
    InvalidValue {
        /// Where the value is.
        at: SourcePos,
        /// DVC-style path of the value.
        path: String,
        /// What was expected.
        expected: &'static str,
        /// What was found (type name or short description).
        found: String,
    },
    /// A path that is not a safe relative path.
    #[error("{at}: refusing path {value:?} in {path}: {problem}")]
    UnsafePath {
        /// Where the path is.
        at: SourcePos,
        /// DVC-style path of the field.
        path: String,
        /// The path as written.
        value: String,
        /// What is wrong with it.
        problem: PathProblem,
    },
}

/// Source text and display name, used to locate nodes for error messages.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub text: &'a str,
    pub name: &'a str,
}

pub(crate) fn path_string(path: &[PathSeg]) -> String {
    let parts: Vec<String> = path.iter().map(ToString::to_string).collect();
    parts.join(" -> ")
}

pub(crate) fn join(path: &[PathSeg], seg: PathSeg) -> Vec<PathSeg> {
    let mut p = path.to_vec();
    p.push(seg);
    p
}

impl Ctx<'_> {
    pub fn at(&self, path: &[PathSeg]) -> SourcePos {
        SourcePos {
            name: self.name.to_owned(),
            location: locate(self.text, path),
        }
    }

    pub fn invalid(&self, path: &[PathSeg], expected: &'static str, v: &Value) -> SchemaError {
        SchemaError::InvalidValue {
            at: self.at(path),
            path: path_string(path),
            expected,
            found: v.type_name().to_owned(),
        }
    }

    /// Rejects keys of `map` not in `allowed` (or any non-string key).
    pub fn only_keys(
        &self,
        map: &Mapping,
        allowed: &[&str],
        path: &[PathSeg],
    ) -> Result<(), SchemaError> {
        for (k, _) in map {
            let ok = k.as_str().is_some_and(|k| allowed.contains(&k));
            if !ok {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => crate::yaml::to_flow_string(other),
                };
                let p = join(path, PathSeg::Key(key.clone()));
                let mut key_path = p.clone();
                if let Some(last) = key_path.last_mut() {
                    *last = PathSeg::KeyItself(key.clone());
                }
                let at = if k.as_str().is_some() {
                    self.at(&key_path)
                } else {
                    self.at(path)
                };
                return Err(SchemaError::UnknownKey {
                    at,
                    key,
                    path: path_string(&p),
                });
            }
        }
        Ok(())
    }

    pub fn require<'v>(
        &self,
        map: &'v Mapping,
        key: &str,
        path: &[PathSeg],
    ) -> Result<&'v Value, SchemaError> {
        map.get(key).ok_or_else(|| SchemaError::MissingKey {
            at: self.at(path),
            path: path_string(&join(path, PathSeg::Key(key.to_owned()))),
        })
    }

    pub fn map<'v>(&self, v: &'v Value, path: &[PathSeg]) -> Result<&'v Mapping, SchemaError> {
        v.as_map().ok_or_else(|| self.invalid(path, "a dict", v))
    }

    pub fn string(&self, v: &Value, path: &[PathSeg]) -> Result<String, SchemaError> {
        v.as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.invalid(path, "a str", v))
    }

    pub fn opt_string(&self, v: &Value, path: &[PathSeg]) -> Result<Option<String>, SchemaError> {
        match v {
            Value::Null => Ok(None),
            _ => self.string(v, path).map(Some),
        }
    }

    pub fn boolean(&self, v: &Value, path: &[PathSeg]) -> Result<bool, SchemaError> {
        v.as_bool().ok_or_else(|| self.invalid(path, "a bool", v))
    }

    pub fn uint(&self, v: &Value, path: &[PathSeg]) -> Result<u64, SchemaError> {
        match v {
            Value::Int(i) => u64::try_from(*i).map_err(|_| self.invalid(path, "an int >= 0", v)),
            _ => Err(self.invalid(path, "an int", v)),
        }
    }

    /// A list, with `null` read as empty.
    pub fn list<'v>(&self, v: &'v Value, path: &[PathSeg]) -> Result<&'v [Value], SchemaError> {
        match v {
            Value::Null => Ok(&[]),
            Value::Seq(s) => Ok(s),
            _ => Err(self.invalid(path, "a list", v)),
        }
    }

    /// DVC's checksum rule: null or `""` mean none; a str or int of length >= 3,
    /// lowercased (`lower = false` keeps case, as for `etag`).
    pub fn checksum(
        &self,
        v: &Value,
        path: &[PathSeg],
        lower: bool,
    ) -> Result<Option<String>, SchemaError> {
        let s = match v {
            Value::Null => return Ok(None),
            Value::String(s) if s.is_empty() => return Ok(None),
            Value::String(s) => s.clone(),
            Value::Int(i) => i.to_string(),
            _ => return Err(self.invalid(path, "a checksum (str)", v)),
        };
        if s.chars().count() < 3 {
            return Err(SchemaError::InvalidValue {
                at: self.at(path),
                path: path_string(path),
                expected: "a checksum of at least 3 characters",
                found: format!("{s:?}"),
            });
        }
        Ok(Some(if lower { s.to_lowercase() } else { s }))
    }

    pub fn safe_path(&self, v: &Value, path: &[PathSeg]) -> Result<String, SchemaError> {
        let s = self.string(v, path)?;
        check_relative_path(&s).map_err(|problem| SchemaError::UnsafePath {
            at: self.at(path),
            path: path_string(path),
            value: s.clone(),
            problem,
        })?;
        Ok(s)
    }
}
