//! [`DvcFile`] to the document DVC would dump (key order of spec 2.3/2.4).

use super::{Dependency, DvcFile, Output};
use crate::yaml::{Mapping, Value};

pub(super) fn to_value(f: &DvcFile) -> Value {
    let mut m = Mapping::new();
    if let Some(d) = &f.desc {
        m.insert("desc", d.as_str());
    }
    if let Some(md5) = &f.md5 {
        m.insert("md5", md5.as_str());
    }
    if let Some(w) = f.wdir.as_deref().filter(|w| *w != ".") {
        m.insert("wdir", w);
    }
    if f.frozen {
        m.insert("frozen", true);
    }
    if !f.deps.is_empty() {
        m.insert("deps", Value::Seq(f.deps.iter().map(dep_value).collect()));
    }
    if !f.outs.is_empty() {
        m.insert("outs", Value::Seq(f.outs.iter().map(out_value).collect()));
    }
    if f.always_changed {
        m.insert("always_changed", true);
    }
    if let Some(meta) = f.meta.as_ref().filter(|v| is_truthy(v)) {
        m.insert("meta", meta.clone());
    }
    Value::Map(m)
}

/// Python truthiness, as DVC drops falsy values when dumping.
fn is_truthy(v: &Value) -> bool {
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

fn copy_extra(m: &mut Mapping, extra: &Mapping, key: &str) {
    if let Some(v) = extra.get(key) {
        m.insert(key, v.clone());
    }
}

fn hash_part(
    m: &mut Mapping,
    md5: &Option<String>,
    size: Option<u64>,
    nfiles: Option<u64>,
    isexec: bool,
    extra: &Mapping,
) {
    if let Some(md5) = md5 {
        m.insert("md5", md5.as_str());
    }
    copy_extra(m, extra, "etag");
    copy_extra(m, extra, "checksum");
    if let Some(s) = size {
        m.insert("size", s);
    }
    if let Some(n) = nfiles {
        m.insert("nfiles", n);
    }
    if isexec {
        m.insert("isexec", true);
    }
    copy_extra(m, extra, "version_id");
    copy_extra(m, extra, "cloud");
}

pub(super) fn out_value(o: &Output) -> Value {
    let mut m = Mapping::new();
    hash_part(&mut m, &o.md5, o.size, o.nfiles, o.isexec, &o.extra);
    if let Some(h) = &o.hash {
        m.insert("hash", h.as_str());
    }
    m.insert("path", o.path.as_str());
    copy_extra(&mut m, &o.extra, "fs_config");
    for (k, v) in [
        ("desc", &o.desc),
        ("type", &o.type_),
        ("labels", &o.labels),
        ("meta", &o.meta),
    ] {
        if let Some(v) = v.as_ref().filter(|v| is_truthy(v)) {
            m.insert(k, v.clone());
        }
    }
    if !o.cache {
        m.insert("cache", false);
    }
    copy_extra(&mut m, &o.extra, "metric");
    copy_extra(&mut m, &o.extra, "plot");
    if o.persist {
        m.insert("persist", true);
    }
    if let Some(r) = &o.remote {
        m.insert("remote", r.as_str());
    }
    if !o.push {
        m.insert("push", false);
    }
    copy_extra(&mut m, &o.extra, "files");
    Value::Map(m)
}

pub(super) fn dep_value(d: &Dependency) -> Value {
    let mut m = Mapping::new();
    hash_part(&mut m, &d.md5, d.size, d.nfiles, d.isexec, &d.extra);
    if let Some(h) = &d.hash {
        m.insert("hash", h.as_str());
    }
    m.insert("path", d.path.as_str());
    if let Some(r) = &d.repo {
        m.insert("repo", r.clone());
    }
    for k in ["fs_config", "persist", "db", "dataset", "files"] {
        copy_extra(&mut m, &d.extra, k);
    }
    Value::Map(m)
}
