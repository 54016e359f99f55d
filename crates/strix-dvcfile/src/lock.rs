//! `dvc.lock`: the recorded state of pipeline stages (spec section 7).
//!
//! ```yaml
//! schema: '2.0'
//! stages:
//!   train:
//!     cmd: python train.py        # str or list, exactly as resolved
//!     deps:                       # sorted by path; omitted when empty
//!     - path: prep.txt
//!       hash: md5                 # absent for legacy 2.x entries
//!       md5: 8a9d9e624359c683c8d4e08139b7eac0
//!       size: 9
//!     params:                     # file -> {key -> value}
//!       params.yaml:
//!         lr: 0.001
//!     outs:                       # sorted by path
//!     - path: model
//!       hash: md5
//!       md5: 574ce59dadc4777328d343a68af68b97.dir
//!       size: 9
//!       nfiles: 1
//! ```
//!
//! `schema: '2.0'` is required (1.x lockfiles are rejected). Entry keys are
//! emitted as `path`, `hash`, `md5`, `size`, `nfiles`, `isexec`. Entry paths are
//! relative to the stage's `wdir` and are kept as written (they may contain `..`
//! when `wdir` is a subdirectory); callers must check the joined path with
//! [`crate::check_relative_path`] against the repository root.

use crate::schema::{Ctx, SchemaError, join};
use crate::yaml::{self, Mapping, PathSeg, SourcePos, Value, YamlError};

/// A parsed `dvc.lock`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LockFile {
    /// Stages in file order.
    pub stages: Vec<LockStage>,
}

/// One stage entry of `dvc.lock`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockStage {
    /// Expanded stage name (e.g. `train@0.1-sgd`).
    pub name: String,
    /// `cmd`: a string or a list of strings.
    pub cmd: Value,
    /// Dependencies.
    pub deps: Vec<LockEntry>,
    /// Params: file -> {key -> value}.
    pub params: Mapping,
    /// Outputs.
    pub outs: Vec<LockEntry>,
}

/// A dep or out entry of a lock stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LockEntry {
    /// Path relative to the stage's wdir, as written.
    pub path: String,
    /// `Some("md5")` for DVC 3 entries, `None` for legacy ones.
    pub hash: Option<String>,
    /// Lowercased checksum.
    pub md5: Option<String>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Number of files (directories).
    pub nfiles: Option<u64>,
    /// Exec bit.
    pub isexec: bool,
    /// Other allowed keys (`etag`, `checksum`, `version_id`, `cloud`, `files`,
    /// `dataset`), verbatim.
    pub extra: Mapping,
}

impl LockEntry {
    /// True for a legacy 2.x entry (no `hash` key).
    pub fn is_legacy(&self) -> bool {
        self.hash.is_none()
    }
}

impl LockFile {
    /// The stage entry named `name`.
    pub fn stage(&self, name: &str) -> Option<&LockStage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Parses `dvc.lock` text; `name` appears in errors.
    pub fn parse(text: &str, name: &str) -> Result<Self, LockError> {
        Self::from_value(text, name, &yaml::parse(text, name)?)
    }

    /// Validates `root`, the document parsed from `text`, without parsing
    /// the text again (`text` only locates errors).
    pub fn from_value(text: &str, name: &str, root: &Value) -> Result<Self, LockError> {
        let ctx = Ctx { text, name };
        let Value::Map(top) = root else {
            return Err(LockError::NotAMapping {
                at: SourcePos {
                    name: name.to_owned(),
                    location: yaml::locate(text, &[]),
                },
            });
        };
        ctx.only_keys(top, &["schema", "datasets", "stages"], &[])?;
        match top.get("schema") {
            Some(Value::String(s)) if s == "2.0" => {}
            Some(_) => {
                return Err(LockError::Schema {
                    at: ctx.at(&[PathSeg::Key("schema".into())]),
                });
            }
            None => {
                return Err(SchemaError::MissingKey {
                    at: ctx.at(&[]),
                    path: "schema".into(),
                }
                .into());
            }
        }
        let mut out = LockFile::default();
        let Some(stages) = top.get("stages") else {
            return Ok(out);
        };
        let sp = [PathSeg::Key("stages".into())];
        let stages = match stages {
            Value::Null => return Ok(out),
            other => ctx.map(other, &sp)?,
        };
        for (k, v) in stages {
            let name = ctx.string(k, &sp)?;
            let p = join(&sp, PathSeg::Key(name.clone()));
            out.stages.push(parse_stage(&ctx, name, v, &p)?);
        }
        Ok(out)
    }
}

fn parse_stage(
    ctx: &Ctx<'_>,
    name: String,
    v: &Value,
    p: &[PathSeg],
) -> Result<LockStage, SchemaError> {
    let m = ctx.map(v, p)?;
    ctx.only_keys(m, &["cmd", "deps", "params", "outs"], p)?;
    let cmd = ctx.require(m, "cmd", p)?;
    let cp = join(p, PathSeg::Key("cmd".into()));
    match cmd {
        Value::String(_) => {}
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                ctx.string(item, &join(&cp, PathSeg::Index(i)))?;
            }
        }
        other => return Err(ctx.invalid(&cp, "a str or list", other)),
    }
    let mut stage = LockStage {
        name,
        cmd: cmd.clone(),
        deps: Vec::new(),
        params: Mapping::new(),
        outs: Vec::new(),
    };
    for (key, slot) in [("deps", &mut stage.deps), ("outs", &mut stage.outs)] {
        if let Some(v) = m.get(key) {
            let lp = join(p, PathSeg::Key(key.into()));
            for (i, item) in ctx.list(v, &lp)?.iter().enumerate() {
                slot.push(parse_entry(ctx, item, &join(&lp, PathSeg::Index(i)))?);
            }
        }
    }
    if let Some(v) = m.get("params") {
        let pp = join(p, PathSeg::Key("params".into()));
        let pm = ctx.map(v, &pp)?;
        for (file, keys) in pm {
            let fp = join(&pp, PathSeg::Key(ctx.string(file, &pp)?));
            ctx.map(keys, &fp)?;
        }
        stage.params = pm.clone();
    }
    Ok(stage)
}

const ENTRY_KEYS: &[&str] = &[
    "path",
    "hash",
    "md5",
    "etag",
    "checksum",
    "size",
    "nfiles",
    "isexec",
    "version_id",
    "cloud",
    "files",
    "dataset",
];

fn parse_entry(ctx: &Ctx<'_>, v: &Value, p: &[PathSeg]) -> Result<LockEntry, SchemaError> {
    let m = ctx.map(v, p)?;
    ctx.only_keys(m, ENTRY_KEYS, p)?;
    let key = |k: &str| join(p, PathSeg::Key(k.to_owned()));
    let path = ctx.string(ctx.require(m, "path", p)?, &key("path"))?;
    let mut e = LockEntry {
        path,
        hash: None,
        md5: None,
        size: None,
        nfiles: None,
        isexec: false,
        extra: Mapping::new(),
    };
    for (k, v) in m {
        let Some(k) = k.as_str() else { continue };
        match k {
            "hash" => e.hash = Some(ctx.string(v, &key(k))?),
            "md5" => e.md5 = ctx.checksum(v, &key(k), true)?,
            "size" => e.size = Some(ctx.uint(v, &key(k))?),
            "nfiles" => e.nfiles = Some(ctx.uint(v, &key(k))?),
            "isexec" => e.isexec = ctx.boolean(v, &key(k))?,
            "path" => {}
            other => e.extra.insert(other, v.clone()),
        }
    }
    Ok(e)
}

/// Errors from reading `dvc.lock`.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Not valid YAML.
    #[error(transparent)]
    Yaml(#[from] YamlError),
    /// Valid YAML that does not match the lockfile schema.
    #[error(transparent)]
    Invalid(#[from] SchemaError),
    /// The top level is not a mapping.
    #[error("{at}: expected a mapping at the top level")]
    NotAMapping {
        /// The file.
        at: SourcePos,
    },
    /// `schema` is not the string `'2.0'`.
    #[error("{at}: invalid schema version, expected '2.0' (DVC 1.x lockfiles are not supported)")]
    Schema {
        /// Position of the `schema` value.
        at: SourcePos,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    const VECTOR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/dvc-vectors/expected/pipeline/dvc.lock"
    );

    #[test]
    fn reads_pipeline_vector() {
        let text = std::fs::read_to_string(VECTOR).unwrap();
        let lock = LockFile::parse(&text, "dvc.lock").unwrap();
        let names: Vec<_> = lock.stages.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["prepare", "train"]);
        let train = lock.stage("train").unwrap();
        assert_eq!(
            train.cmd.as_str(),
            Some(
                "mkdir -p model && cp prep.txt model/weights && printf '{\"acc\": 0.5}' > metrics.json"
            )
        );
        assert_eq!(train.outs[1].path, "model");
        assert_eq!(
            train.outs[1].md5.as_deref(),
            Some("574ce59dadc4777328d343a68af68b97.dir")
        );
        assert_eq!(train.outs[1].nfiles, Some(1));
        assert!(!train.outs[1].is_legacy());
        let lr = train
            .params
            .get("params.yaml")
            .and_then(|p| p.as_map())
            .and_then(|p| p.get("lr"));
        assert_eq!(lr, Some(&Value::Float(0.001)));
        // The emitter reproduces the unwrapped parts of the vector.
        let runs = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/dvc-vectors/expected/pipeline/runs/cee7deee-bfa7c3a7.yaml"
        ))
        .unwrap();
        assert_eq!(yaml::to_string(&yaml::parse(&runs, "run").unwrap()), runs);
    }

    #[test]
    fn schema_is_required_and_must_be_quoted_2_0() {
        assert!(matches!(
            LockFile::parse("stages: {}\n", "dvc.lock"),
            Err(LockError::Invalid(SchemaError::MissingKey { .. }))
        ));
        let e = LockFile::parse("schema: 2.0\nstages: {}\n", "dvc.lock").unwrap_err();
        assert!(matches!(e, LockError::Schema { .. }));
        assert!(e.to_string().starts_with("dvc.lock:1:9:"), "{e}");
    }

    #[test]
    fn bad_entry_keys_are_reported_with_position() {
        let text =
            "schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: a\n      bogus: 1\n";
        let e = LockFile::parse(text, "dvc.lock").unwrap_err();
        assert_eq!(
            e.to_string(),
            "dvc.lock:7:7: extra keys not allowed, in stages -> s -> outs -> 0 -> bogus"
        );
    }
}
