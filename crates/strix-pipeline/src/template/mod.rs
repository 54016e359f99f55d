//! `dvc.yaml` templating: `vars`, `${…}` interpolation, `foreach`/`do` and
//! `matrix`, expanded into plain stage definitions the way DVC 3 does.
//!
//! ```yaml
//! vars:                        # params.yaml is always loaded first if present
//! - config.json:train,data     # files (yaml/json/toml/py), whole or some keys
//! - {prefix: out}              # inline dicts
//! stages:
//!   build:                     # → build@us, build@eu (dict keys)
//!     foreach: ${models}       # or a list (→ build@<value>, or build@<index>
//!     do:                      #   when an item is a list or dict)
//!       cmd: train ${key} ${item.lr} ${opts}   # a dict in cmd → --k v …
//!       outs: [${prefix}-${key}.txt]
//!   train:                     # → train@0.1-adam, …: per key the value,
//!     matrix:                  #   or `<name><index>` for list/dict values
//!       lr: [0.1, 0.01]
//!       opt: [adam, sgd]
//!     cmd: train ${item.lr} ${item.opt} ${key}
//! ```
//!
//! A string that is exactly one `${…}` takes the value with its type; other
//! strings get text (`true`/`false` for booleans). Lists and dicts may only be
//! substituted whole into `foreach`/`matrix`, and dicts into `cmd`. Stage-level
//! `vars` are loaded relative to the stage's `wdir`. Generated names are
//! `<group>@<key>`. Two definitions producing the same name are kept
//! once when they resolve to the same body (as DVC does), and are an error
//! otherwise (DVC silently keeps one of them, so the other never runs). The top-level `params`, `metrics`,
//! `plots`, `artifacts` (names too) and `datasets` are interpolated with
//! the global vars ([`Resolver::resolve_top`]).

pub mod context;
pub mod expr;

use context::{Context, ContextError};
use expr::Unpack;
use std::path::Path;
use strix_dvcfile::yaml::{self, Mapping, PathSeg, Value};

/// A stage after expansion: its name, its resolved body (without `vars`,
/// `foreach`, `do`, `matrix`), and where its template is in `dvc.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct Expanded {
    /// `train`, `build@us`, `train@0.1-adam`.
    pub name: String,
    /// The resolved definition.
    pub body: Mapping,
    /// Path of the template body in the file (for error positions).
    pub src: Vec<PathSeg>,
}

/// A templating error; `at` is `file:line:col: ` where known.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// DVC's "failed to parse <what> in '<file>'".
    #[error("{at}failed to parse {what} in '{file}':{}{reason}", if .reason.multiline() { "\n" } else { " " })]
    Parse {
        /// Position prefix.
        at: String,
        /// `'stages.s.cmd'`, `'vars'`, `stage 's@1'`.
        what: String,
        /// The pipeline file.
        file: String,
        /// Why (boxed: errors stay small on the happy path).
        reason: Box<Reason>,
    },
    /// `foreach` over something that is not a list or dict.
    #[error("{at}failed to resolve '{what}' in '{file}': expected list/dictionary, got {found}")]
    NotIterable {
        /// Position prefix.
        at: String,
        /// `stages.s.foreach`.
        what: String,
        /// The pipeline file.
        file: String,
        /// Python type name.
        found: String,
    },
    /// An artifact name that does not interpolate to a string.
    #[error("{at}failed to resolve '{what}' in '{file}': expected str, got {found}")]
    NotStr {
        /// Position prefix.
        at: String,
        /// `artifacts.<name>`.
        what: String,
        /// The pipeline file.
        file: String,
        /// Python type name.
        found: String,
    },
    /// Two different definitions produce the same stage name (DVC would
    /// silently drop one of them).
    #[error(
        "{at}stage name '{name}' in '{file}' is defined more than once, differently (by '{first}' and '{second}'): DVC would run only one of them"
    )]
    Duplicate {
        /// Position prefix.
        at: String,
        /// The generated name.
        name: String,
        /// The pipeline file.
        file: String,
        /// The first definition.
        first: String,
        /// The second definition.
        second: String,
    },
}

/// The top-level sections of a `dvc.yaml` after interpolation with the
/// global `vars`. DVC evaluates them whenever it loads the file (after
/// the stages, in this field order), so a bad `${…}` there fails `status`,
/// `repro`, `dag`… as one in a stage does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopLevel {
    /// `metrics`: files.
    pub metrics: Vec<Value>,
    /// `plots`: files or `{name: definition}` dicts.
    pub plots: Vec<Value>,
    /// `params`: files.
    pub params: Vec<Value>,
    /// `artifacts`: name → definition (names are interpolated too).
    pub artifacts: Mapping,
    /// `datasets`: definitions.
    pub datasets: Vec<Value>,
}

/// The cause inside [`TemplateError::Parse`].
#[derive(Debug, thiserror::Error)]
pub enum Reason {
    /// A lookup or vars problem.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// Malformed `${…}`.
    #[error(transparent)]
    Syntax(#[from] expr::ParseError),
    /// A list or dict where text is needed.
    #[error("Cannot interpolate data of type '{0}'")]
    Type(&'static str),
    /// A nested list in a dict unpacked into `cmd`.
    #[error(transparent)]
    Nested(#[from] expr::NestedIterable),
    /// `${…}` inside `vars`.
    #[error("interpolating is not allowed")]
    InVars,
}

impl Reason {
    fn multiline(&self) -> bool {
        match self {
            Reason::Context(c) => c.multiline(),
            Reason::Syntax(_) | Reason::Type(_) | Reason::Nested(_) => true,
            Reason::InVars => false,
        }
    }
}

type Res<T> = Result<T, Reason>;

/// Expands the stages of a parsed `dvc.yaml` at the repository root.
pub struct Resolver<'a> {
    root: &'a Path,
    text: &'a str,
    file: &'a str,
    unpack: Unpack,
    ctx: Context,
}

impl<'a> Resolver<'a> {
    /// Loads the global `vars` (and `params.yaml`) of `doc`, the YAML of
    /// `text`, the `dvc.yaml` named `file` in `root`.
    pub fn new(
        root: &'a Path,
        text: &'a str,
        file: &'a str,
        doc: &Value,
        unpack: Unpack,
    ) -> Result<Self, TemplateError> {
        let mut r = Resolver {
            root,
            text,
            file,
            unpack,
            ctx: Context::default(),
        };
        let vars = doc.as_map().and_then(|m| m.get("vars"));
        let vars_path = [PathSeg::Key("vars".into())];
        let items: &[Value] = match vars {
            Some(Value::Seq(s)) => s,
            _ => &[],
        };
        if has_interpolation(&Value::Seq(items.to_vec())) {
            return Err(r.fail(&vars_path, "'vars'".into(), Reason::InVars));
        }
        let mut ctx = Context::default();
        ctx.load_vars(root, items, "", None, Some(crate::stage::DEFAULT_PARAMS))
            .map_err(|e| r.fail(&vars_path, "'vars'".into(), e.into()))?;
        r.ctx = ctx;
        Ok(r)
    }

    fn at(&self, path: &[PathSeg]) -> String {
        match yaml::locate(self.text, path) {
            Some(l) => format!("{}:{}:{}: ", self.file, l.line, l.column),
            None => format!("{}: ", self.file),
        }
    }

    fn fail(&self, path: &[PathSeg], what: String, reason: Reason) -> TemplateError {
        TemplateError::Parse {
            at: self.at(path),
            what,
            file: self.file.to_owned(),
            reason: Box::new(reason),
        }
    }

    /// Expands every stage of `doc`, in file order.
    pub fn expand(&self, doc: &Value) -> Result<Vec<Expanded>, TemplateError> {
        let stages = doc
            .as_map()
            .and_then(|m| m.get("stages"))
            .and_then(Value::as_map);
        let mut out: Vec<Expanded> = Vec::new();
        let mut owner: Vec<String> = Vec::new();
        for (k, def) in stages.into_iter().flat_map(Mapping::iter) {
            let (Some(name), Some(def)) = (k.as_str(), def.as_map()) else {
                continue;
            };
            let base = vec![PathSeg::Key("stages".into()), PathSeg::Key(name.into())];
            let generated = if def.contains_key("matrix") {
                self.matrix(name, def, &base)?
            } else if def.contains_key("foreach") {
                self.foreach(name, def, &base)?
            } else {
                check_syntax(self, def, name, &base)?;
                vec![self.stage(&self.ctx, name, def, &base)?]
            };
            for g in generated {
                if let Some(i) = out.iter().position(|o| o.name == g.name) {
                    if out[i].body == g.body {
                        // DVC keeps one of them; both say the same.
                        continue;
                    }
                    return Err(TemplateError::Duplicate {
                        at: self.at(&base),
                        name: g.name,
                        file: self.file.to_owned(),
                        first: owner[i].clone(),
                        second: name.to_owned(),
                    });
                }
                owner.push(name.to_owned());
                out.push(g);
            }
        }
        Ok(out)
    }

    /// Resolves the top-level `metrics`, `plots`, `params`, `artifacts`
    /// and `datasets` of `doc` as DVC does: each item whole (a string that
    /// is exactly one `${…}` keeps the value's type; keys are interpolated
    /// too), malformed `${…}` reported first.
    pub fn resolve_top(&self, doc: &Value) -> Result<TopLevel, TemplateError> {
        let section = |key: &str| -> &[Value] {
            doc.as_map()
                .and_then(|m| m.get(key))
                .and_then(Value::as_seq)
                .unwrap_or(&[])
        };
        let item = |key: &str, name: &str, v: &Value, path: Vec<PathSeg>| {
            let what = format!("'{key}.{name}'");
            walk_syntax(v, &mut path.clone())
                .map_err(|(e, p)| self.fail(&p, what.clone(), e.into()))?;
            self.resolve(&self.ctx, v, None, &path)
                .map_err(|(r, p)| self.fail(&p, what, r))
        };
        let list = |key: &str| -> Result<Vec<Value>, TemplateError> {
            section(key)
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let path = vec![PathSeg::Key(key.into()), PathSeg::Index(i)];
                    item(key, &i.to_string(), v, path)
                })
                .collect()
        };
        let mut top = TopLevel {
            metrics: list("metrics")?,
            plots: list("plots")?,
            params: list("params")?,
            ..Default::default()
        };
        let artifacts = doc
            .as_map()
            .and_then(|m| m.get("artifacts"))
            .and_then(Value::as_map);
        for (k, v) in artifacts.into_iter().flat_map(Mapping::iter) {
            let name = expr::key_str(k);
            let path = vec![PathSeg::Key("artifacts".into()), PathSeg::Key(name.clone())];
            let key = item("artifacts", &name, k, path.clone())?;
            let Value::String(key) = key else {
                return Err(TemplateError::NotStr {
                    at: self.at(&path),
                    what: format!("artifacts.{name}"),
                    file: self.file.to_owned(),
                    found: crate::params::py_type(&key).to_owned(),
                });
            };
            top.artifacts
                .insert(key, item("artifacts", &name, v, path)?);
        }
        top.datasets = list("datasets")?;
        Ok(top)
    }

    fn foreach(
        &self,
        name: &str,
        def: &Mapping,
        base: &[PathSeg],
    ) -> Result<Vec<Expanded>, TemplateError> {
        let fpath = join(base, "foreach");
        let what = format!("'stages.{name}.foreach'");
        let data = def.get("foreach").cloned().unwrap_or(Value::Null);
        let data = self
            .resolve(&self.ctx, &data, None, &fpath)
            .map_err(|(r, p)| self.fail(&p, what.clone(), r))?;
        let members: Vec<(String, Value)> = match &data {
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (expr::key_str(k), v.clone()))
                .collect(),
            Value::Seq(items) => {
                let composite = items
                    .iter()
                    .any(|v| matches!(v, Value::Map(_) | Value::Seq(_)));
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let k = if composite {
                            i.to_string()
                        } else {
                            expr::key_str(v)
                        };
                        (k, v.clone())
                    })
                    .collect()
            }
            other => {
                return Err(TemplateError::NotIterable {
                    at: self.at(&fpath),
                    what: format!("stages.{name}.foreach"),
                    file: self.file.to_owned(),
                    found: crate::params::py_type(other).to_owned(),
                });
            }
        };
        let is_dict = matches!(data, Value::Map(_));
        let dpath = join(base, "do");
        let body = def
            .get("do")
            .and_then(Value::as_map)
            .cloned()
            .unwrap_or_default();
        check_syntax(self, &body, name, &dpath)?;
        self.generate(name, &body, &dpath, members, |key, item| {
            let mut v = vec![("item", item)];
            if is_dict {
                v.push(("key", Value::String(key.to_owned())));
            }
            v
        })
    }

    fn matrix(
        &self,
        name: &str,
        def: &Mapping,
        base: &[PathSeg],
    ) -> Result<Vec<Expanded>, TemplateError> {
        let mpath = join(base, "matrix");
        let what = format!("'stages.{name}.matrix'");
        let data = def.get("matrix").cloned().unwrap_or(Value::Null);
        let data = self
            .resolve(&self.ctx, &data, None, &mpath)
            .map_err(|(r, p)| self.fail(&p, what.clone(), r))?;
        let mut axes: Vec<(String, Vec<Value>)> = Vec::new();
        for (k, v) in data.as_map().into_iter().flat_map(Mapping::iter) {
            let values = match v {
                Value::Seq(s) => s.clone(),
                Value::String(s) => s.chars().map(|c| Value::String(c.into())).collect(),
                Value::Map(m) => m.iter().map(|(k, _)| k.clone()).collect(),
                other => {
                    return Err(TemplateError::NotIterable {
                        at: self.at(&join(&mpath, &expr::key_str(k))),
                        what: format!("stages.{name}.matrix.{}", expr::key_str(k)),
                        file: self.file.to_owned(),
                        found: crate::params::py_type(other).to_owned(),
                    });
                }
            };
            axes.push((expr::key_str(k), values));
        }
        // The product, first axis slowest.
        let mut combos: Vec<Vec<(usize, Value)>> = vec![Vec::new()];
        for (_, values) in &axes {
            let mut next = Vec::new();
            for c in &combos {
                for (i, v) in values.iter().enumerate() {
                    let mut c = c.clone();
                    c.push((i, v.clone()));
                    next.push(c);
                }
            }
            combos = next;
        }
        let members = combos
            .into_iter()
            .map(|c| {
                let mut item = Mapping::new();
                let mut frags = Vec::new();
                for ((k, _), (i, v)) in axes.iter().zip(c) {
                    frags.push(match v {
                        Value::Map(_) | Value::Seq(_) => format!("{k}{i}"),
                        ref s => expr::key_str(s),
                    });
                    item.insert(k.as_str(), v);
                }
                (frags.join("-"), Value::Map(item))
            })
            .collect();
        let mut body = def.clone();
        body.remove("matrix");
        check_syntax(self, &body, name, base)?;
        self.generate(name, &body, base, members, |key, item| {
            vec![("key", Value::String(key.to_owned())), ("item", item)]
        })
    }

    fn generate(
        &self,
        group: &str,
        body: &Mapping,
        src: &[PathSeg],
        members: Vec<(String, Value)>,
        vars: impl Fn(&str, Value) -> Vec<(&'static str, Value)>,
    ) -> Result<Vec<Expanded>, TemplateError> {
        let mut out: Vec<Expanded> = Vec::new();
        for (key, item) in members {
            let name = format!("{group}@{key}");
            let mut ctx = self.ctx.clone();
            ctx.set_reserved(vars(&key, item));
            let stage = self.stage(&ctx, &name, body, src)?;
            match out.iter().find(|e| e.name == name) {
                // Equal items (`[a, b, a]`, `[1, "1"]`): DVC keeps one.
                Some(e) if e.body == stage.body => {}
                Some(_) => {
                    return Err(TemplateError::Duplicate {
                        at: self.at(src),
                        name,
                        file: self.file.to_owned(),
                        first: group.to_owned(),
                        second: group.to_owned(),
                    });
                }
                None => out.push(stage),
            }
        }
        Ok(out)
    }

    /// Resolves one stage body: its `wdir`, its `vars`, then every field.
    fn stage(
        &self,
        ctx: &Context,
        name: &str,
        def: &Mapping,
        src: &[PathSeg],
    ) -> Result<Expanded, TemplateError> {
        let field = |k: &str| format!("'stages.{name}.{k}'");
        let mut wdir = String::new();
        if let Some(w) = def.get("wdir").filter(|w| truthy(w)) {
            let p = join(src, "wdir");
            let v = self
                .resolve(ctx, w, None, &p)
                .map_err(|(r, p)| self.fail(&p, field("wdir"), r))?;
            let text = expr::to_str(&v, self.unpack)
                .map_err(|e| self.fail(&p, field("wdir"), e.into()))?;
            wdir = context::normpath(Path::new(&text));
            if wdir == "." {
                wdir.clear();
            }
        }
        let mut ctx = ctx.clone();
        if let Some(vars) = def.get("vars") {
            let vp = join(src, "vars");
            if has_interpolation(vars) {
                return Err(self.fail(&vp, field("vars"), Reason::InVars));
            }
            let items: &[Value] = vars.as_seq().unwrap_or(&[]);
            ctx.load_vars(self.root, items, &wdir, Some(name), None)
                .map_err(|e| {
                    let what = match e {
                        ContextError::AlreadyLoaded(_) => field("vars"),
                        _ => format!("stage '{name}'"),
                    };
                    self.fail(&vp, what, e.into())
                })?;
        }
        let mut body = Mapping::new();
        for (k, v) in def.iter() {
            let Some(key) = k.as_str() else {
                body.insert(k.clone(), v.clone());
                continue;
            };
            if key == "vars" {
                continue;
            }
            let p = join(src, key);
            let v = self
                .resolve(&ctx, v, Some(key), &p)
                .map_err(|(r, p)| self.fail(&p, field(key), r))?;
            body.insert(key, v);
        }
        Ok(Expanded {
            name: name.to_owned(),
            body,
            src: src.to_vec(),
        })
    }

    /// Resolves every string in `v` (keys included); `key` is the stage
    /// field being resolved (None for `foreach`/`matrix`/`wdir` data).
    fn resolve(
        &self,
        ctx: &Context,
        v: &Value,
        key: Option<&str>,
        path: &[PathSeg],
    ) -> Result<Value, (Reason, Vec<PathSeg>)> {
        Ok(match v {
            Value::String(s) => self
                .resolve_str(ctx, s, key)
                .map_err(|r| (r, path.to_vec()))?,
            Value::Seq(items) => Value::Seq(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        let mut p = path.to_vec();
                        p.push(PathSeg::Index(i));
                        self.resolve(ctx, v, key, &p)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Value::Map(m) => {
                let mut out = Mapping::new();
                for (k, v) in m.iter() {
                    let mut p = path.to_vec();
                    if let Some(ks) = k.as_str() {
                        p.push(PathSeg::Key(ks.to_owned()));
                    }
                    let k = self.resolve(ctx, k, key, &p)?;
                    out.insert(k, self.resolve(ctx, v, key, &p)?);
                }
                Value::Map(out)
            }
            other => other.clone(),
        })
    }

    fn resolve_str(&self, ctx: &Context, s: &str, key: Option<&str>) -> Res<Value> {
        let matches = expr::find(s);
        if let [m] = matches.as_slice()
            && m.start == 0
            && m.end == s.len()
        {
            let k = expr::parse(m.inner(s))?;
            let v = ctx.select(&k)?.value();
            check_type(&v, key)?;
            return Ok(v);
        }
        let mut out = String::new();
        let mut last = 0;
        for m in &matches {
            let k = expr::parse(m.inner(s))?;
            let v = ctx.select(&k)?.value();
            check_type(&v, key)?;
            out.push_str(&s[last..m.start]);
            out.push_str(&expr::to_str(&v, self.unpack)?);
            last = m.end;
        }
        out.push_str(&s[last..]);
        Ok(Value::String(out.replace("\\${", "${")))
    }
}

/// Lists and dicts may not be substituted, except into `foreach`/`matrix`
/// data (no key) and dicts into `cmd`.
fn check_type(v: &Value, key: Option<&str>) -> Res<()> {
    let composite = matches!(v, Value::Seq(_) | Value::Map(_));
    match key {
        Some(k) if composite && !k.contains("foreach") => {
            if k == "cmd" && matches!(v, Value::Map(_)) {
                return Ok(());
            }
            Err(Reason::Type(crate::params::py_type(v)))
        }
        _ => Ok(()),
    }
}

/// Reports the first malformed `${…}` of a stage body.
fn check_syntax(
    r: &Resolver<'_>,
    def: &Mapping,
    name: &str,
    src: &[PathSeg],
) -> Result<(), TemplateError> {
    for (k, v) in def.iter() {
        let key = k.as_str().unwrap_or_default();
        let mut p = join(src, key);
        walk_syntax(v, &mut p)
            .map_err(|(e, p)| r.fail(&p, format!("'stages.{name}.{key}'"), e.into()))?;
    }
    Ok(())
}

/// The first malformed `${…}` in `v` (keys included) and where it is.
fn walk_syntax(v: &Value, path: &mut Vec<PathSeg>) -> Result<(), (expr::ParseError, Vec<PathSeg>)> {
    match v {
        Value::String(s) => {
            for m in expr::find(s) {
                expr::parse(m.inner(s)).map_err(|e| (e, path.clone()))?;
            }
        }
        Value::Seq(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(PathSeg::Index(i));
                walk_syntax(v, path)?;
                path.pop();
            }
        }
        Value::Map(m) => {
            for (k, v) in m.iter() {
                let seg = PathSeg::Key(k.as_str().unwrap_or_default().to_owned());
                path.push(seg);
                walk_syntax(k, path)?;
                walk_syntax(v, path)?;
                path.pop();
            }
        }
        _ => {}
    }
    Ok(())
}

fn has_interpolation(v: &Value) -> bool {
    match v {
        Value::String(s) => expr::is_interpolated(s),
        Value::Seq(items) => items.iter().any(has_interpolation),
        Value::Map(m) => m
            .iter()
            .any(|(k, v)| has_interpolation(k) || has_interpolation(v)),
        _ => false,
    }
}

fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Int(i) => *i != 0,
        Value::Float(f) => *f != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::Seq(s) => !s.is_empty(),
        Value::Map(m) => !m.is_empty(),
    }
}

fn join(path: &[PathSeg], key: &str) -> Vec<PathSeg> {
    let mut p = path.to_vec();
    p.push(PathSeg::Key(key.to_owned()));
    p
}

#[cfg(test)]
mod tests;
