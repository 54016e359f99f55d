//! `dvc.lock` entries: building them from measurements and writing the file
//! (stage entries keep their position; new ones are appended).

use crate::stage::Stage;
use crate::{Result, msg};
use std::path::{Path, PathBuf};
use strix_data::tree::Save;
use strix_data::{HashKind, NoProgress, Oid};
use strix_dvcfile::yaml::{self, Mapping, Value};
use strix_repo::Repo;

/// File name of the lock file.
pub const LOCK_NAME: &str = "dvc.lock";

/// A dep or out as found in the workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Object id (`.dir` for directories).
    pub oid: Oid,
    /// Size in bytes.
    pub size: u64,
    /// File count (directories).
    pub nfiles: Option<u64>,
    /// Exec bit (files).
    pub isexec: bool,
}

/// Hashes `abs` (saving it to the cache with `save`); `None` if absent.
pub fn measure(repo: &Repo, abs: &Path, save: Save<'_>) -> Result<Option<Measured>> {
    measure_kind(repo, abs, HashKind::Md5, save)
}

/// [`measure`] with a given hash (legacy stages use DVC 2's dos2unix MD5).
pub fn measure_kind(
    repo: &Repo,
    abs: &Path,
    kind: HashKind,
    save: Save<'_>,
) -> Result<Option<Measured>> {
    // Only the hash, size and count are kept: a directory that is not saved
    // is summarized (its hash from the state's record of its listing).
    let m = match save {
        Save::HashOnly => strix_repo::outputs::summarize(repo, abs, kind, &NoProgress)?,
        save => strix_repo::outputs::measure(repo, abs, kind, save, &NoProgress)?,
    };
    Ok(m.map(|m| Measured {
        oid: m.oid,
        size: m.size,
        nfiles: m.nfiles,
        isexec: m.isexec,
    }))
}

/// One `{path, hash, md5, size, nfiles, isexec}` entry.
pub fn entry_value(path: &str, m: &Measured) -> Value {
    let mut e = Mapping::new();
    e.insert("path", path);
    e.insert("hash", "md5");
    insert_measured(&mut e, m);
    Value::Map(e)
}

/// Appends a measurement to an entry as DVC dumps it: `md5`, `size`, then
/// `nfiles` (directories) and `isexec` (only when set).
pub(crate) fn insert_measured(e: &mut Mapping, m: &Measured) {
    e.insert("md5", m.oid.to_string());
    e.insert("size", m.size);
    if let Some(n) = m.nfiles {
        e.insert("nfiles", n);
    }
    if m.isexec {
        e.insert("isexec", true);
    }
}

/// The lock entry of a stage: `cmd`, sorted `deps`, `params` (params.yaml
/// first, other files sorted), sorted `outs`; empty parts left out.
pub fn stage_entry(
    stage: &Stage,
    deps: &[(String, Measured)],
    params: &[(String, Vec<(String, Value)>)],
    outs: &[(String, Measured)],
) -> Value {
    let mut m = Mapping::new();
    m.insert("cmd", stage.cmd.clone());
    let list = |items: &[(String, Measured)]| {
        let mut v: Vec<&(String, Measured)> = items.iter().collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        Value::Seq(v.into_iter().map(|(p, m)| entry_value(p, m)).collect())
    };
    if !deps.is_empty() {
        m.insert("deps", list(deps));
    }
    if !params.is_empty() {
        let mut files: Vec<&(String, Vec<(String, Value)>)> = params.iter().collect();
        files.sort_by(|a, b| crate::params::file_order(&a.0, &b.0));
        let mut pm = Mapping::new();
        for (file, kv) in files {
            let mut keys = Mapping::new();
            let mut kv: Vec<&(String, Value)> = kv.iter().collect();
            kv.sort_by(|a, b| a.0.cmp(&b.0));
            for (k, v) in kv {
                keys.insert(k.as_str(), v.clone());
            }
            pm.insert(file.as_str(), keys);
        }
        m.insert("params", pm);
    }
    if !outs.is_empty() {
        m.insert("outs", list(outs));
    }
    Value::Map(m)
}

/// The loaded (or new) `dvc.lock`.
#[derive(Debug, Clone)]
pub struct LockDoc {
    path: PathBuf,
    top: Mapping,
    /// Whether the file existed when loaded (or has been written since).
    pub exists: bool,
}

impl LockDoc {
    /// Loads `<root>/dvc.lock`.
    pub fn load(root: &Path) -> Result<Self> {
        let path = root.join(LOCK_NAME);
        let (top, exists) = match std::fs::read_to_string(&path) {
            Ok(text) => {
                // Validate like DVC (schema 2.0 required).
                let invalid = |e: &dyn std::fmt::Display| {
                    msg(format!("'{LOCK_NAME}' validation failed: {e}"))
                };
                let doc = yaml::parse(&text, LOCK_NAME).map_err(|e| invalid(&e))?;
                strix_dvcfile::LockFile::from_value(&text, LOCK_NAME, &doc)
                    .map_err(|e| invalid(&e))?;
                match doc {
                    Value::Map(m) => (m, true),
                    _ => (Mapping::new(), true),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Mapping::new(), false),
            Err(e) => return Err(msg(format!("failed to read '{LOCK_NAME}': {e}"))),
        };
        Ok(LockDoc { path, top, exists })
    }

    /// [`Self::load`], reusing the document read earlier in this process
    /// while the file keeps its inode, size and mtime (strix replaces it by
    /// rename, so every rewrite is a new inode). `status` looks up one stage
    /// at a time; without this a pipeline of n stages parsed its lock n times.
    pub fn load_shared(root: &Path) -> Result<std::sync::Arc<Self>> {
        use std::collections::HashMap;
        use std::os::unix::fs::MetadataExt;
        use std::sync::{Arc, Mutex, OnceLock};
        type Seen = HashMap<PathBuf, ((u64, u64, i64, i64, u64), Arc<LockDoc>)>;
        static CACHE: OnceLock<Mutex<Seen>> = OnceLock::new();
        let path = root.join(LOCK_NAME);
        let key = std::fs::metadata(&path)
            .map(|m| (m.dev(), m.ino(), m.mtime(), m.mtime_nsec(), m.size()))
            .unwrap_or_default();
        let cache = CACHE.get_or_init(Default::default);
        if let Some((k, doc)) = cache.lock().ok().and_then(|c| c.get(&path).cloned())
            && k == key
        {
            return Ok(doc);
        }
        let doc = Arc::new(Self::load(root)?);
        if let Ok(mut c) = cache.lock() {
            c.insert(path, (key, doc.clone()));
        }
        Ok(doc)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry of stage `name`.
    pub fn stage(&self, name: &str) -> Option<&Mapping> {
        self.top
            .get("stages")
            .and_then(Value::as_map)
            .and_then(|m| m.get(name))
            .and_then(Value::as_map)
    }

    /// Sets the entry of stage `name`; returns whether anything changed. A
    /// new stage is appended.
    pub fn set_stage(&mut self, name: &str, entry: Value) -> bool {
        self.set_stage_before(name, entry, |_| false)
    }

    /// [`LockDoc::set_stage`], but a new stage goes before the first stage
    /// for which `before` holds (appended when none does). An existing
    /// stage keeps its place.
    pub fn set_stage_before(
        &mut self,
        name: &str,
        entry: Value,
        before: impl Fn(&str) -> bool,
    ) -> bool {
        if self.stage(name).map(|m| Value::Map(m.clone())).as_ref() == Some(&entry) {
            return false;
        }
        if !self.top.contains_key("schema") {
            let mut t = Mapping::new();
            t.insert("schema", "2.0");
            for (k, v) in self.top.iter() {
                t.insert(k.clone(), v.clone());
            }
            self.top = t;
        }
        let old = match self.top.get("stages") {
            Some(Value::Map(m)) => m.clone(),
            _ => Mapping::new(),
        };
        let stages = if old.contains_key(name) {
            let mut m = old;
            m.insert(name, entry);
            m
        } else {
            let mut m = Mapping::new();
            let mut entry = Some(entry);
            for (k, v) in old.iter() {
                if entry.is_some() && k.as_str().is_some_and(&before) {
                    m.insert(name, entry.take().unwrap_or(Value::Null));
                }
                m.insert(k.clone(), v.clone());
            }
            if let Some(e) = entry {
                m.insert(name, e);
            }
            m
        };
        self.top.insert("stages", stages);
        true
    }

    /// Drops the entry of stage `name`; returns whether there was one.
    pub fn remove_stage(&mut self, name: &str) -> bool {
        let Some(Value::Map(stages)) = self.top.get("stages") else {
            return false;
        };
        let mut stages = stages.clone();
        if stages.remove(name).is_none() {
            return false;
        }
        self.top.insert("stages", stages);
        true
    }

    /// Whether no stage has an entry.
    pub fn is_empty(&self) -> bool {
        self.top
            .get("stages")
            .and_then(Value::as_map)
            .is_none_or(|m| m.is_empty())
    }

    /// The text DVC would write.
    pub fn to_text(&self) -> String {
        yaml::to_string_wrapped(&Value::Map(self.top.clone()))
    }

    /// Writes the file atomically.
    pub fn save(&mut self) -> Result<()> {
        strix_fs::atomic_write(&self.path, self.to_text().as_bytes())
            .map_err(|e| msg(format!("failed to write '{LOCK_NAME}': {e}")))?;
        self.exists = true;
        Ok(())
    }
}

/// The lock entry (deps or outs) for `path`.
fn recorded<'a>(entry: Option<&'a Mapping>, list: &str, path: &str) -> Option<&'a Mapping> {
    entry?
        .get(list)?
        .as_seq()?
        .iter()
        .filter_map(Value::as_map)
        .find(|e| e.get("path").and_then(Value::as_str) == Some(path))
}

/// `md5` of the lock entry (deps or outs) for `path`.
pub fn recorded_md5<'a>(entry: Option<&'a Mapping>, list: &str, path: &str) -> Option<&'a str> {
    recorded(entry, list, path)?.get("md5")?.as_str()
}

/// The hash the lock entry for `path` was recorded with: an entry that
/// DVC 2 wrote (an `md5` without `hash: md5`) holds DVC 2's dos2unix MD5,
/// as DVC 3 reads it; `default` (the stage's) otherwise.
pub fn recorded_kind(
    entry: Option<&Mapping>,
    list: &str,
    path: &str,
    default: HashKind,
) -> HashKind {
    match recorded(entry, list, path) {
        Some(e) if e.get("md5").is_some() && e.get("hash").is_none() => HashKind::Md5Dos2Unix,
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::parse_stages;

    fn vector(name: &str) -> String {
        std::fs::read_to_string(format!(
            "{}/../../testdata/dvc-vectors/expected/pipeline/{name}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
    }

    fn measured(oid: &str, size: u64, nfiles: Option<u64>) -> Measured {
        Measured {
            oid: oid.parse().unwrap(),
            size,
            nfiles,
            isexec: false,
        }
    }

    /// Rebuilds the vector's dvc.lock from its dvc.yaml plus the recorded
    /// measurements, and compares bytes.
    #[test]
    fn lock_emission_matches_vector() {
        let root = Path::new("/r");
        let stages = parse_stages(root, &vector("dvc.yaml")).unwrap();
        let data = measured("8a9d9e624359c683c8d4e08139b7eac0", 9, None);
        let p = tempfile::tempdir().unwrap();
        let mut doc = LockDoc::load(p.path()).unwrap();
        let e1 = stage_entry(
            &stages[0],
            &[("raw.txt".into(), data.clone())],
            &[],
            &[("prep.txt".into(), data.clone())],
        );
        assert!(doc.set_stage("prepare", e1.clone()));
        let params = yaml::parse(&vector("params.yaml"), "params.yaml").unwrap();
        let kv = ["lr", "train"]
            .iter()
            .map(|k| {
                (
                    k.to_string(),
                    crate::params::lookup(&params, k).unwrap().clone(),
                )
            })
            .collect();
        let e2 = stage_entry(
            &stages[1],
            &[("prep.txt".into(), data.clone())],
            &[("params.yaml".into(), kv)],
            &[
                (
                    "model".into(),
                    measured("574ce59dadc4777328d343a68af68b97.dir", 9, Some(1)),
                ),
                (
                    "metrics.json".into(),
                    measured("dc926bee53673c8ee852d87143691bae", 12, None),
                ),
            ],
        );
        assert!(doc.set_stage("train", e2.clone()));
        assert_eq!(doc.to_text(), vector("dvc.lock"));
        // Replacing in place keeps the order and reports no change.
        assert!(!doc.set_stage("prepare", e1.clone()));
        // A new stage goes before the first one `before` picks.
        let names = |d: &LockDoc| -> Vec<String> {
            d.top
                .get("stages")
                .and_then(Value::as_map)
                .map(|m| {
                    m.iter()
                        .filter_map(|(k, _)| k.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        assert!(doc.set_stage_before("mid", e1.clone(), |n| n == "train"));
        assert_eq!(names(&doc), ["prepare", "mid", "train"]);
        assert!(doc.set_stage_before("last", e1.clone(), |_| false));
        assert!(doc.set_stage_before("first", e1.clone(), |_| true));
        assert_eq!(names(&doc), ["first", "prepare", "mid", "train", "last"]);
        // An existing stage stays where it is whatever `before` says.
        assert!(doc.set_stage_before("last", e2.clone(), |_| true));
        assert_eq!(names(&doc), ["first", "prepare", "mid", "train", "last"]);
        // Run-cache file bytes too.
        assert_eq!(
            yaml::to_string_wrapped(&e2),
            vector("runs/cee7deee-bfa7c3a7.yaml")
        );
    }
}
