//! `dvc.yaml`: pipeline definitions (spec section 6), read far enough to list
//! stages, their commands, dependencies and outputs.
//!
//! ```yaml
//! stages:
//!   train:
//!     cmd: python train.py          # str or list of str
//!     wdir: sub                     # optional
//!     deps:
//!     - prep.txt
//!     outs:                         # str or {path: {cache, persist, remote, push, …}}
//!     - model
//!     metrics:
//!     - metrics.json:
//!         cache: false
//!   group:
//!     foreach: [a, b]               # or a dict or a `${…}` string
//!     do:
//!       cmd: echo ${item}
//! ```
//!
//! [`Pipeline::parse`] validates the file as written: templated stages
//! (`foreach`/`do`, `matrix`) are reported with their raw, unexpanded body.
//! Expansion (`vars`, `${…}`, generated `name@key` stages) belongs to
//! `strix-pipeline`'s `template` module, which hands each expanded body to
//! [`parse_expanded`]. Only the keys read here are validated; other stage keys
//! (`params`, `plots` flags, `vars`, …) are accepted without checks. Top-level
//! `vars`, `params`, `metrics`, `plots`, `artifacts`, `datasets` are ignored.

use crate::schema::{Ctx, SchemaError, join};
use crate::yaml::{self, PathSeg, SourcePos, Value, YamlError};

/// A parsed `dvc.yaml`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Pipeline {
    /// Stages in file order (templated groups unexpanded).
    pub stages: Vec<StageDef>,
}

/// How a stage definition is templated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Template {
    /// A plain stage.
    None,
    /// A `foreach`/`do` group; the fields describe the `do` body.
    Foreach,
    /// A `matrix` stage.
    Matrix,
}

/// Where an output is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutKind {
    /// `outs`.
    Out,
    /// `metrics`.
    Metric,
    /// `plots`.
    Plot,
}

/// An output declared by a stage.
#[derive(Debug, Clone, PartialEq)]
pub struct StageOut {
    /// Path relative to the stage's wdir (may contain `${…}` in templated stages).
    pub path: String,
    /// Which list declared it.
    pub kind: OutKind,
    /// `cache` flag (default true).
    pub cache: bool,
    /// `persist` flag (default false).
    pub persist: bool,
    /// `push` flag (default true): `push: false` keeps it out of pushes
    /// and of `status -c`.
    pub push: bool,
    /// `remote:` the remote its data goes to and comes from, instead of
    /// the default one.
    pub remote: Option<String>,
}

/// One stage (or templated group) of `dvc.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct StageDef {
    /// Stage name (for groups, the prefix before `@`).
    pub name: String,
    /// Templating.
    pub template: Template,
    /// `cmd`: a string or a list of strings (may be absent in a malformed group).
    pub cmd: Option<Value>,
    /// `wdir`, if given.
    pub wdir: Option<String>,
    /// Dependency paths as written.
    pub deps: Vec<String>,
    /// Outputs from `outs`, `metrics` and `plots`.
    pub outs: Vec<StageOut>,
    /// `frozen: true`.
    pub frozen: bool,
}

/// Errors from reading `dvc.yaml`.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Valid YAML that does not match the schema.
    #[error(transparent)]
    Invalid(#[from] SchemaError),
    /// The top level is not a mapping.
    #[error("{at}: expected a mapping at the top level")]
    NotAMapping {
        /// The file.
        at: SourcePos,
    },
}

impl Pipeline {
    /// The stage or group named `name`.
    pub fn stage(&self, name: &str) -> Option<&StageDef> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Parses `dvc.yaml` text; `name` appears in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self, PipelineError> {
        Self::from_value(text, name, &yaml::parse(text, name)?)
    }

    /// Validates `root`, the document parsed from `text`, without parsing
    /// the text again (`text` only locates errors).
    pub fn from_value(text: &str, name: &str, root: &Value) -> Result<Self, PipelineError> {
        let ctx = Ctx { text, name };
        let top = match root {
            Value::Null => return Ok(Pipeline::default()),
            Value::Map(m) => m,
            _ => {
                return Err(PipelineError::NotAMapping {
                    at: SourcePos {
                        name: name.to_owned(),
                        location: yaml::locate(text, &[]),
                    },
                });
            }
        };
        ctx.only_keys(
            top,
            &[
                "stages",
                "vars",
                "params",
                "metrics",
                "plots",
                "artifacts",
                "datasets",
            ],
            &[],
        )?;
        let mut out = Pipeline::default();
        let sp = [PathSeg::Key("stages".into())];
        let stages = match top.get("stages") {
            None | Some(Value::Null) => return Ok(out),
            Some(v) => ctx.map(v, &sp)?,
        };
        for (k, v) in stages {
            let name = ctx.string(k, &sp)?;
            let p = join(&sp, PathSeg::Key(name.clone()));
            out.stages.push(parse_stage(&ctx, name, v, &p)?);
        }
        Ok(out)
    }
}

/// Reads one stage body produced by template expansion. `text`/`file` are
/// the `dvc.yaml` it came from and `src` the path of its template there, so
/// that errors point at the template.
pub fn parse_expanded(
    text: &str,
    file: &str,
    name: String,
    body: &Value,
    src: &[PathSeg],
) -> Result<StageDef, PipelineError> {
    let ctx = Ctx { text, name: file };
    Ok(parse_stage(&ctx, name, body, src)?)
}

/// The keys DVC's schema allows in a stage definition (`STAGE_DEFINITION`).
const STAGE_KEYS: &[&str] = &[
    "cmd",
    "wdir",
    "deps",
    "params",
    "outs",
    "metrics",
    "plots",
    "frozen",
    "meta",
    "desc",
    "always_changed",
    "vars",
    "matrix",
];

fn parse_stage(
    ctx: &Ctx<'_>,
    name: String,
    v: &Value,
    p: &[PathSeg],
) -> Result<StageDef, SchemaError> {
    let m = ctx.map(v, p)?;
    if m.contains_key("foreach") {
        ctx.only_keys(m, &["foreach", "do"], p)?;
        let dp = join(p, PathSeg::Key("do".into()));
        let body = ctx.require(m, "do", p)?;
        let mut s = parse_stage(ctx, name, body, &dp)?;
        s.template = Template::Foreach;
        return Ok(s);
    }
    ctx.only_keys(m, STAGE_KEYS, p)?;
    let key = |k: &str| join(p, PathSeg::Key(k.to_owned()));
    let mut s = StageDef {
        name,
        template: if m.contains_key("matrix") {
            Template::Matrix
        } else {
            Template::None
        },
        cmd: None,
        wdir: None,
        deps: Vec::new(),
        outs: Vec::new(),
        frozen: false,
    };
    if let Some(cmd) = m.get("cmd") {
        match cmd {
            Value::String(_) | Value::Seq(_) => s.cmd = Some(cmd.clone()),
            other => return Err(ctx.invalid(&key("cmd"), "a str or list", other)),
        }
    } else {
        ctx.require(m, "cmd", p)?;
    }
    if let Some(w) = m.get("wdir") {
        s.wdir = ctx.opt_string(w, &key("wdir"))?;
    }
    if let Some(f) = m.get("frozen") {
        s.frozen = ctx.boolean(f, &key("frozen"))?;
    }
    if let Some(d) = m.get("deps") {
        let dp = key("deps");
        for (i, item) in ctx.list(d, &dp)?.iter().enumerate() {
            s.deps
                .push(ctx.string(item, &join(&dp, PathSeg::Index(i)))?);
        }
    }
    for (k, kind) in [
        ("outs", OutKind::Out),
        ("metrics", OutKind::Metric),
        ("plots", OutKind::Plot),
    ] {
        if let Some(list) = m.get(k) {
            let lp = key(k);
            for (i, item) in ctx.list(list, &lp)?.iter().enumerate() {
                s.outs
                    .push(parse_out(ctx, item, kind, &join(&lp, PathSeg::Index(i)))?);
            }
        }
    }
    Ok(s)
}

fn parse_out(
    ctx: &Ctx<'_>,
    v: &Value,
    kind: OutKind,
    p: &[PathSeg],
) -> Result<StageOut, SchemaError> {
    let mut out = StageOut {
        path: String::new(),
        kind,
        cache: true,
        persist: false,
        push: true,
        remote: None,
    };
    match v {
        Value::String(s) => out.path = s.clone(),
        Value::Map(m) if m.len() == 1 => {
            let Some((k, flags)) = m.iter().next() else {
                return Err(ctx.invalid(p, "a str or {path: flags}", v));
            };
            out.path = ctx.string(k, p)?;
            let fp = join(p, PathSeg::Key(out.path.clone()));
            if let Value::Map(f) = flags {
                if let Some(c) = f.get("cache") {
                    out.cache = ctx.boolean(c, &join(&fp, PathSeg::Key("cache".into())))?;
                }
                if let Some(c) = f.get("persist") {
                    out.persist = ctx.boolean(c, &join(&fp, PathSeg::Key("persist".into())))?;
                }
                if let Some(c) = f.get("push") {
                    out.push = ctx.boolean(c, &join(&fp, PathSeg::Key("push".into())))?;
                }
                if let Some(r) = f.get("remote") {
                    out.remote = Some(ctx.string(r, &join(&fp, PathSeg::Key("remote".into())))?);
                }
            } else if !flags.is_null() {
                return Err(ctx.invalid(&fp, "a dict of flags", flags));
            }
        }
        other => return Err(ctx.invalid(p, "a str or {path: flags}", other)),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_pipeline_vector() {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dvc-vectors/expected/pipeline/dvc.yaml"
        ))
        .unwrap();
        let p = Pipeline::parse(&text, "dvc.yaml").unwrap();
        assert_eq!(p.stages.len(), 2);
        let train = p.stage("train").unwrap();
        assert_eq!(train.deps, ["prep.txt"]);
        assert_eq!(
            train.cmd.as_ref().and_then(Value::as_str),
            Some(
                "mkdir -p model && cp prep.txt model/weights && printf '{\"acc\": 0.5}' > metrics.json"
            )
        );
        let outs: Vec<_> = train
            .outs
            .iter()
            .map(|o| (o.path.as_str(), o.kind, o.cache))
            .collect();
        assert_eq!(
            outs,
            [
                ("model", OutKind::Out, true),
                ("metrics.json", OutKind::Metric, false)
            ]
        );
    }

    #[test]
    fn templated_groups_are_recognised() {
        let text = "stages:\n  g:\n    foreach: [a, b]\n    do:\n      cmd: echo ${item}\n      outs:\n      - ${item}.txt\n  m:\n    matrix:\n      x: [1, 2]\n    cmd: echo ${item.x}\n    wdir: sub\n";
        let p = Pipeline::parse(text, "dvc.yaml").unwrap();
        assert_eq!(p.stages[0].template, Template::Foreach);
        assert_eq!(p.stages[0].outs[0].path, "${item}.txt");
        assert_eq!(p.stages[1].template, Template::Matrix);
        assert_eq!(p.stages[1].wdir.as_deref(), Some("sub"));
    }

    #[test]
    fn missing_cmd_and_bad_outs_are_errors() {
        let e = Pipeline::parse("stages:\n  s:\n    deps: [a]\n", "dvc.yaml").unwrap_err();
        assert_eq!(
            e.to_string(),
            "dvc.yaml:3:5: required key not provided, in stages -> s -> cmd"
        );
        let e = Pipeline::parse(
            "stages:\n  s:\n    cmd: x\n    outs:\n    - 3\n",
            "dvc.yaml",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("dvc.yaml:5:7:"), "{e}");
    }

    #[test]
    fn unknown_stage_keys_are_errors_like_dvcs() {
        // dvc 3.67.1: "extra keys not allowed, in stages -> a -> outz, line 5, column 5"
        let e = Pipeline::parse(
            "stages:\n  a:\n    cmd: echo hi\n    outz:\n    - x\n",
            "dvc.yaml",
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "dvc.yaml:4:5: extra keys not allowed, in stages -> a -> outz"
        );
        // Every key DVC allows is accepted.
        let ok = "stages:\n  a:\n    cmd: x\n    wdir: .\n    deps: [d]\n    params: [p]\n    \
                  outs: [o]\n    metrics: [m.json]\n    plots: [p.csv]\n    frozen: false\n    \
                  meta: {a: 1}\n    desc: d\n    always_changed: false\n    vars: [{x: 1}]\n";
        Pipeline::parse(ok, "dvc.yaml").unwrap();
    }
}
