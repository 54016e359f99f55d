//! Stages of the root `dvc.yaml`, with everything change detection needs.

use crate::template::Resolver;
use crate::template::expr::Unpack;
use crate::{Result, msg};
use std::path::{Path, PathBuf};
use strix_dvcfile::yaml::{self, Value};
use strix_dvcfile::{OutKind, Pipeline, parse_expanded};
use strix_repo::repo::normalize;

/// The default params file.
pub const DEFAULT_PARAMS: &str = "params.yaml";

/// A params dependency: a file and the keys used (None: the whole file).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamsDep {
    /// File path relative to the stage's wdir.
    pub file: String,
    /// Keys, dotted; `None` for a whole-file dependency.
    pub keys: Option<Vec<String>>,
}

/// An output of a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Out {
    /// Path as written (relative to wdir).
    pub path: String,
    /// Absolute path.
    pub abs: PathBuf,
    /// Where it is declared.
    pub kind: OutKind,
    /// `cache` flag.
    pub cache: bool,
    /// `persist` flag.
    pub persist: bool,
}

/// A dependency of a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Dep {
    /// Path as written (relative to wdir).
    pub path: String,
    /// Absolute path.
    pub abs: PathBuf,
}

/// Where a stage is defined.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Origin {
    /// A stage of the root `dvc.yaml`, recorded in `dvc.lock`.
    #[default]
    DvcYaml,
    /// A legacy single-stage `.dvc` file with a `cmd` (DVC 1.x/2.x), which
    /// records its own hashes (see [`crate::legacy`]).
    Legacy(std::path::PathBuf),
}

/// A pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// Name in `dvc.yaml`.
    pub name: String,
    /// `cmd` (string or list).
    pub cmd: Value,
    /// Absolute working directory.
    pub wdir: PathBuf,
    /// Dependencies.
    pub deps: Vec<Dep>,
    /// Params dependencies.
    pub params: Vec<ParamsDep>,
    /// Outputs (outs, metrics, plots).
    pub outs: Vec<Out>,
    /// `frozen: true`.
    pub frozen: bool,
    /// `always_changed: true`.
    pub always_changed: bool,
    /// `desc`.
    pub desc: Option<String>,
    /// `file:line` of the stage definition.
    pub at: String,
    /// `dvc.yaml` or a legacy `.dvc` file.
    pub origin: Origin,
}

impl Stage {
    /// The command lines (a list cmd gives several).
    pub fn commands(&self) -> Vec<String> {
        match &self.cmd {
            Value::Seq(items) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    }

    /// The hash its deps and outs are recorded with: DVC 2's dos2unix MD5
    /// for legacy `.dvc` stages.
    pub fn hash_kind(&self) -> strix_data::HashKind {
        match self.origin {
            Origin::DvcYaml => strix_data::HashKind::Md5,
            Origin::Legacy(_) => strix_data::HashKind::Md5Dos2Unix,
        }
    }

    /// Whether this is a legacy `.dvc` stage.
    pub fn is_legacy(&self) -> bool {
        matches!(self.origin, Origin::Legacy(_))
    }

    /// A stage with a command and neither dependencies nor outputs is always
    /// run (DVC's "callback" stage).
    pub fn is_callback(&self) -> bool {
        self.deps.is_empty() && self.params.is_empty() && self.outs.is_empty()
    }
}

/// The root `dvc.yaml` of `root`.
pub fn dvc_yaml(root: &Path) -> PathBuf {
    root.join("dvc.yaml")
}

/// Loads the stages of `<root>/dvc.yaml`, templates expanded; an absent
/// file gives no stages.
pub fn load_stages(root: &Path) -> Result<Vec<Stage>> {
    match read_dvc_yaml(root)? {
        Some(text) => parse_stages(root, &text),
        None => Ok(Vec::new()),
    }
}

/// The text of `<root>/dvc.yaml`, `None` when there is none.
fn read_dvc_yaml(root: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(dvc_yaml(root)) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(msg(format!("failed to read 'dvc.yaml': {e}"))),
    }
}

/// Validates `dvc.yaml` text as written and loads its global `vars`: the
/// parsed document and its resolver.
fn resolver<'a>(root: &'a Path, text: &'a str) -> Result<(Value, Resolver<'a>)> {
    let name = "dvc.yaml";
    Pipeline::parse(text, name).map_err(|e| msg(format!("'dvc.yaml' validation failed: {e}")))?;
    let raw = yaml::parse(text, name).map_err(|e| msg(e.to_string()))?;
    let resolver = Resolver::new(root, text, name, &raw, unpack_config(root))
        .map_err(|e| msg(e.to_string()))?;
    Ok((raw, resolver))
}

/// How `${dict}` unpacks in `cmd`: the `parsing` section of the merged
/// configuration (defaults when it cannot be read).
fn unpack_config(root: &Path) -> Unpack {
    let Ok(config) = strix_repo::settings::load_config(root) else {
        return Unpack::default();
    };
    let get = |k: &str| {
        config
            .value(&["parsing", k])
            .and_then(|(v, _)| v.as_str().map(str::to_ascii_lowercase))
    };
    Unpack {
        boolean_optional: get("bool").as_deref() == Some("boolean_optional"),
        append: get("list").as_deref() == Some("append"),
    }
}

/// The top-level `metrics`, `plots`, `params`, `artifacts` and `datasets`
/// of `<root>/dvc.yaml`, interpolated (empty without the file).
pub fn load_top_level(root: &Path) -> Result<crate::template::TopLevel> {
    let Some(text) = read_dvc_yaml(root)? else {
        return Ok(Default::default());
    };
    let (raw, resolver) = resolver(root, &text)?;
    resolver.resolve_top(&raw).map_err(|e| msg(e.to_string()))
}

/// Parses `dvc.yaml` text of the repository at `root`: validates it as
/// written, expands templates, then reads each (expanded) stage.
pub fn parse_stages(root: &Path, text: &str) -> Result<Vec<Stage>> {
    let name = "dvc.yaml";
    let (raw, resolver) = resolver(root, text)?;
    let expanded = resolver.expand(&raw).map_err(|e| msg(e.to_string()))?;
    let mut out = Vec::new();
    for ex in expanded {
        let body = Value::Map(ex.body);
        let def = parse_expanded(text, name, ex.name, &body, &ex.src)
            .map_err(|e| msg(format!("'dvc.yaml' validation failed: {e}")))?;
        let at = match yaml::locate(text, &ex.src[..2.min(ex.src.len())]) {
            Some(loc) => format!("{name}:{}", loc.line),
            None => name.to_owned(),
        };
        let wdir = match &def.wdir {
            Some(w) => normalize(&root.join(w)),
            None => root.to_path_buf(),
        };
        let inside = |p: &str| -> Result<PathBuf> {
            let abs = normalize(&wdir.join(p));
            if !abs.starts_with(root) {
                return Err(msg(format!(
                    "{at}: path '{p}' of stage '{}' is outside the repository",
                    def.name
                )));
            }
            Ok(abs)
        };
        let mut deps = Vec::new();
        for d in &def.deps {
            deps.push(Dep {
                path: d.clone(),
                abs: inside(d)?,
            });
        }
        let mut outs = Vec::new();
        for o in &def.outs {
            outs.push(Out {
                path: o.path.clone(),
                abs: inside(&o.path)?,
                kind: o.kind,
                cache: o.cache,
                persist: o.persist,
            });
        }
        let mut params = Vec::new();
        let mut always_changed = false;
        let mut desc = None;
        if let Some(m) = body.as_map() {
            if let Some(p) = m.get("params") {
                params = parse_params(p).map_err(|e| msg(format!("{at}: {e}")))?;
            }
            always_changed = m.get("always_changed").and_then(Value::as_bool) == Some(true);
            desc = m.get("desc").and_then(Value::as_str).map(str::to_owned);
        }
        out.push(Stage {
            name: def.name.clone(),
            cmd: def.cmd.clone().unwrap_or(Value::Null),
            wdir,
            deps,
            params,
            outs,
            frozen: def.frozen,
            always_changed,
            desc,
            at,
            origin: Origin::DvcYaml,
        });
    }
    Ok(out)
}

/// Parses a stage's `params` list: bare strings are keys of `params.yaml`,
/// `{file: [keys]}` or `{file: null}` (whole file) name other files.
pub fn parse_params(v: &Value) -> std::result::Result<Vec<ParamsDep>, String> {
    let Some(items) = v.as_seq() else {
        return Err("'params' must be a list".into());
    };
    let mut out: Vec<ParamsDep> = Vec::new();
    let mut push = |file: &str, keys: Option<Vec<String>>| {
        if let Some(e) = out.iter_mut().find(|e| e.file == file) {
            match (&mut e.keys, keys) {
                (Some(have), Some(new)) => {
                    for k in new {
                        if !have.contains(&k) {
                            have.push(k);
                        }
                    }
                }
                (slot, _) => *slot = None,
            }
        } else {
            out.push(ParamsDep {
                file: file.to_owned(),
                keys,
            });
        }
    };
    for item in items {
        match item {
            Value::String(k) => push(DEFAULT_PARAMS, Some(vec![k.clone()])),
            Value::Map(m) => {
                for (k, v) in m {
                    let Some(file) = k.as_str() else {
                        return Err("params file names must be strings".into());
                    };
                    match v {
                        Value::Null => push(file, None),
                        Value::Seq(keys) if keys.is_empty() => push(file, None),
                        Value::Seq(keys) => {
                            let keys: Option<Vec<String>> =
                                keys.iter().map(|k| k.as_str().map(str::to_owned)).collect();
                            let Some(keys) = keys else {
                                return Err(format!("params keys of '{file}' must be strings"));
                            };
                            push(file, Some(keys));
                        }
                        _ => return Err(format!("params of '{file}' must be a list or empty")),
                    }
                }
            }
            _ => return Err("a params entry must be a key or {file: [keys]}".into()),
        }
    }
    Ok(out)
}
