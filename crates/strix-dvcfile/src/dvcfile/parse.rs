//! Reading `.dvc` text into [`DvcFile`].

use super::{Dependency, DvcFile, DvcFileError, LegacyStage, Output};
use crate::schema::{Ctx, SchemaError, join};
use crate::yaml::{self, Mapping, PathSeg, SourcePos, Value};

const TOP_KEYS: &[&str] = &[
    "md5",
    "wdir",
    "deps",
    "outs",
    "locked",
    "frozen",
    "meta",
    "always_changed",
    "desc",
];

const OUT_KEYS: &[&str] = &[
    "md5",
    "etag",
    "checksum",
    "size",
    "nfiles",
    "isexec",
    "version_id",
    "path",
    "persist",
    "cloud",
    "hash",
    "desc",
    "type",
    "labels",
    "meta",
    "cache",
    "remote",
    "push",
    "files",
    "fs_config",
    "metric",
    "plot",
];

/// Output keys stored verbatim in `Output::extra`.
pub(super) const OUT_EXTRA: &[&str] = &[
    "etag",
    "checksum",
    "version_id",
    "cloud",
    "files",
    "fs_config",
    "metric",
    "plot",
];

const DEP_KEYS: &[&str] = &[
    "md5",
    "etag",
    "checksum",
    "size",
    "nfiles",
    "isexec",
    "version_id",
    "path",
    "persist",
    "cloud",
    "hash",
    "repo",
    "db",
    "dataset",
    "files",
    "fs_config",
];

pub(super) const DEP_EXTRA: &[&str] = &[
    "etag",
    "checksum",
    "version_id",
    "cloud",
    "files",
    "fs_config",
    "persist",
    "db",
    "dataset",
];

pub(super) fn parse(text: &str, name: &str) -> Result<DvcFile, DvcFileError> {
    let root = yaml::parse(text, name)?;
    let ctx = Ctx { text, name };
    let top = match root {
        Value::Null => Mapping::new(),
        Value::Map(m) => m,
        other => {
            return Err(DvcFileError::NotAMapping {
                at: SourcePos {
                    name: name.to_owned(),
                    location: yaml::locate(text, &[]),
                },
                found: other.type_name(),
            });
        }
    };
    if let Some(cmd) = top.get("cmd") {
        return Err(DvcFileError::LegacyStage {
            at: ctx.at(&[PathSeg::KeyItself("cmd".to_owned())]),
            stage: Box::new(LegacyStage {
                cmd: cmd.clone(),
                document: top.clone(),
            }),
        });
    }
    ctx.only_keys(&top, TOP_KEYS, &[])?;
    let mut file = DvcFile::default();
    for (k, v) in &top {
        let Some(k) = k.as_str() else { continue };
        let p = [PathSeg::Key(k.to_owned())];
        match k {
            "desc" => file.desc = Some(ctx.string(v, &p)?),
            "md5" => file.md5 = ctx.checksum(v, &p, true)?,
            "wdir" => {
                file.wdir = match v {
                    Value::Null => None,
                    _ => Some(ctx.safe_path(v, &p)?),
                }
            }
            "frozen" | "locked" => file.frozen |= ctx.boolean(v, &p)?,
            "always_changed" => file.always_changed = ctx.boolean(v, &p)?,
            "meta" => file.meta = Some(v.clone()),
            "outs" => {
                for (i, item) in ctx.list(v, &p)?.iter().enumerate() {
                    file.outs
                        .push(parse_out(&ctx, item, &join(&p, PathSeg::Index(i)))?);
                }
            }
            "deps" => {
                for (i, item) in ctx.list(v, &p)?.iter().enumerate() {
                    file.deps
                        .push(parse_dep(&ctx, item, &join(&p, PathSeg::Index(i)))?);
                }
            }
            _ => {}
        }
    }
    Ok(file)
}

/// Fields shared by outputs and dependencies.
struct Common {
    md5: Option<String>,
    size: Option<u64>,
    nfiles: Option<u64>,
    isexec: bool,
    hash: Option<String>,
}

fn parse_common(ctx: &Ctx<'_>, m: &Mapping, path: &[PathSeg]) -> Result<Common, SchemaError> {
    let key = |k: &str| join(path, PathSeg::Key(k.to_owned()));
    let mut c = Common {
        md5: None,
        size: None,
        nfiles: None,
        isexec: false,
        hash: None,
    };
    if let Some(v) = m.get("md5") {
        c.md5 = ctx.checksum(v, &key("md5"), true)?;
    }
    if let Some(v) = m.get("size") {
        c.size = Some(ctx.uint(v, &key("size"))?);
    }
    if let Some(v) = m.get("nfiles") {
        c.nfiles = Some(ctx.uint(v, &key("nfiles"))?);
    }
    if let Some(v) = m.get("isexec") {
        c.isexec = ctx.boolean(v, &key("isexec"))?;
    }
    if let Some(v) = m.get("hash") {
        c.hash = Some(ctx.string(v, &key("hash"))?);
    }
    if let Some(v) = m.get("etag") {
        ctx.checksum(v, &key("etag"), false)?;
    }
    if let Some(v) = m.get("checksum") {
        ctx.checksum(v, &key("checksum"), true)?;
    }
    Ok(c)
}

fn extra(m: &Mapping, keys: &[&str]) -> Mapping {
    let mut out = Mapping::new();
    for (k, v) in m {
        if k.as_str().is_some_and(|k| keys.contains(&k)) {
            out.insert(k.clone(), v.clone());
        }
    }
    out
}

fn parse_out(ctx: &Ctx<'_>, v: &Value, path: &[PathSeg]) -> Result<Output, SchemaError> {
    let m = ctx.map(v, path)?;
    ctx.only_keys(m, OUT_KEYS, path)?;
    let key = |k: &str| join(path, PathSeg::Key(k.to_owned()));
    let p = ctx.require(m, "path", path)?;
    let mut out = Output::new(ctx.safe_path(p, &key("path"))?);
    let c = parse_common(ctx, m, path)?;
    out.md5 = c.md5;
    out.size = c.size;
    out.nfiles = c.nfiles;
    out.isexec = c.isexec;
    out.hash = c.hash;
    if let Some(v) = m.get("cache") {
        out.cache = ctx.boolean(v, &key("cache"))?;
    }
    if let Some(v) = m.get("persist") {
        out.persist = ctx.boolean(v, &key("persist"))?;
    }
    if let Some(v) = m.get("push") {
        out.push = ctx.boolean(v, &key("push"))?;
    }
    if let Some(v) = m.get("remote") {
        out.remote = Some(ctx.string(v, &key("remote"))?);
    }
    for (name, slot) in [("desc", &mut out.desc), ("type", &mut out.type_)] {
        if let Some(v) = m.get(name) {
            ctx.string(v, &key(name))?;
            *slot = Some(v.clone());
        }
    }
    if let Some(v) = m.get("labels") {
        let lp = key("labels");
        let items = v
            .as_seq()
            .ok_or_else(|| ctx.invalid(&lp, "a list of str", v))?;
        for (i, item) in items.iter().enumerate() {
            ctx.string(item, &join(&lp, PathSeg::Index(i)))?;
        }
        out.labels = Some(v.clone());
    }
    out.meta = m.get("meta").cloned();
    out.extra = extra(m, OUT_EXTRA);
    Ok(out)
}

fn parse_dep(ctx: &Ctx<'_>, v: &Value, path: &[PathSeg]) -> Result<Dependency, SchemaError> {
    let m = ctx.map(v, path)?;
    ctx.only_keys(m, DEP_KEYS, path)?;
    let key = |k: &str| join(path, PathSeg::Key(k.to_owned()));
    let p = ctx.require(m, "path", path)?;
    let mut dep = Dependency::new(ctx.string(p, &key("path"))?);
    let c = parse_common(ctx, m, path)?;
    dep.md5 = c.md5;
    dep.size = c.size;
    dep.nfiles = c.nfiles;
    dep.isexec = c.isexec;
    dep.hash = c.hash;
    if let Some(v) = m.get("repo") {
        let rp = key("repo");
        let rm = ctx.map(v, &rp)?;
        ctx.only_keys(rm, &["url", "rev", "rev_lock", "config", "remote"], &rp)?;
        ctx.string(
            ctx.require(rm, "url", &rp)?,
            &join(&rp, PathSeg::Key("url".into())),
        )?;
        dep.repo = Some(v.clone());
    }
    dep.extra = extra(m, DEP_EXTRA);
    Ok(dep)
}
