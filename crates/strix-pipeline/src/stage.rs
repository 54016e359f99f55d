//! Stages of the repository's `dvc.yaml` files, with everything change
//! detection needs.
//!
//! A `dvc.yaml` in a subdirectory works as the root one does, relative to
//! its own directory: stages run there by default, `params.yaml` and
//! `vars` files are looked up there, and they are recorded in the
//! `dvc.lock` beside it. Stages are addressed as DVC does, by the path of
//! their file from the current directory: `name` for the `dvc.yaml` there,
//! `sub/dvc.yaml:name` or `../dvc.yaml:name` for others.

use crate::template::Resolver;
use crate::template::expr::Unpack;
use crate::{Result, msg};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use strix_dvcfile::yaml::{self, PathSeg, Value};
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
    /// `remote:` the remote its data goes to and comes from.
    pub remote: Option<String>,
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
#[derive(Debug, Clone, PartialEq)]
pub enum Origin {
    /// A stage of a `dvc.yaml` (absolute path), recorded in the `dvc.lock`
    /// beside it.
    DvcYaml(PathBuf),
    /// A legacy single-stage `.dvc` file with a `cmd` (DVC 1.x/2.x), which
    /// records its own hashes (see [`crate::legacy`]).
    Legacy(std::path::PathBuf),
}

/// A pipeline stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    /// How DVC addresses it: its name for the `dvc.yaml` of the current
    /// directory, `sub/dvc.yaml:name` for another one (paths from the
    /// current directory), the file for a legacy stage. Unique in the
    /// repository.
    pub name: String,
    /// Its name inside its file (the `dvc.lock` key).
    pub key: String,
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
    pub at: At,
    /// `dvc.yaml` or a legacy `.dvc` file.
    pub origin: Origin,
}

/// Where a stage is defined, shown as `file:line` (or just the file). The
/// line is found when shown: finding it reads the text again, which only
/// messages need (finding every stage's line up front cost a pipeline of n
/// stages n parses of its file).
#[derive(Debug, Clone, PartialEq)]
pub struct At {
    /// The file as named in messages.
    label: String,
    /// Its text and the path of the stage definition in it.
    source: Option<(Arc<str>, Vec<PathSeg>)>,
}

impl At {
    /// A whole file (no line).
    pub fn file(label: impl Into<String>) -> Self {
        At {
            label: label.into(),
            source: None,
        }
    }

    /// The node at `path` of the document `text` of the file `label`.
    pub fn node(label: impl Into<String>, text: Arc<str>, path: Vec<PathSeg>) -> Self {
        At {
            label: label.into(),
            source: Some((text, path)),
        }
    }
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self
            .source
            .as_ref()
            .and_then(|(text, path)| yaml::locate(text, path))
        {
            Some(loc) => write!(f, "{}:{}", self.label, loc.line),
            None => f.write_str(&self.label),
        }
    }
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
            Origin::DvcYaml(_) => strix_data::HashKind::Md5,
            Origin::Legacy(_) => strix_data::HashKind::Md5Dos2Unix,
        }
    }

    /// The file that defines it (a `dvc.yaml` or a legacy `.dvc` file).
    pub fn file(&self) -> &Path {
        match &self.origin {
            Origin::DvcYaml(p) | Origin::Legacy(p) => p,
        }
    }

    /// The directory of its `dvc.lock` (`None` for a legacy stage).
    pub fn lock_dir(&self) -> Option<&Path> {
        match &self.origin {
            Origin::DvcYaml(p) => p.parent(),
            Origin::Legacy(_) => None,
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
    match read_pipeline(&dvc_yaml(root), "dvc.yaml")? {
        Some(text) => parse_stages(root, &text),
        None => Ok(Vec::new()),
    }
}

/// Loads the stages of every `dvc.yaml` of the repository at `root`, the
/// root one first, each followed by its top-level sections' check (DVC
/// resolves them whenever it loads a file).
pub fn load_all_pipelines(repo: &strix_repo::Repo, cwd: &Path) -> Result<Vec<Stage>> {
    let root = repo.root();
    let mut out = Vec::new();
    for path in strix_repo::index::find_pipeline_files(repo) {
        let label = relpath(&path, cwd);
        let Some(text) = read_pipeline(&path, &label)? else {
            continue;
        };
        let file = PipelineFile::new(root, &path, label);
        let doc = file.parse(&text)?;
        out.extend(file.stages(&doc)?);
        file.top_level(&doc)?;
    }
    Ok(out)
}

/// The stages of one `dvc.yaml` of the repository (`path` absolute), without
/// checking its top-level sections (`stage list` does not, in DVC either).
pub fn load_pipeline(repo: &strix_repo::Repo, cwd: &Path, path: &Path) -> Result<Vec<Stage>> {
    let label = relpath(path, cwd);
    match read_pipeline(path, &label)? {
        Some(text) => {
            let file = PipelineFile::new(repo.root(), path, label);
            file.stages(&file.parse(&text)?)
        }
        None => Err(msg(format!("'{}' does not exist", path.display()))),
    }
}

/// `path` from `base` as Python's `os.path.relpath` gives it (both absolute
/// and normalized), `/`-separated.
pub fn relpath(path: &Path, base: &Path) -> String {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".into(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The text of a `dvc.yaml`, `None` when there is none.
fn read_pipeline(path: &Path, label: &str) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(msg(format!("failed to read '{label}': {e}"))),
    }
}

/// A parsed `dvc.yaml`: its text, document and resolver.
struct Doc<'t> {
    text: &'t str,
    raw: Value,
    resolver: Resolver<'t>,
}

/// One `dvc.yaml` of the repository at `root`.
struct PipelineFile<'a> {
    /// The repository root.
    root: &'a Path,
    /// The absolute path of the file.
    path: PathBuf,
    /// Its directory: the default `wdir`, where `vars` and `params.yaml`
    /// are looked up.
    dir: PathBuf,
    /// Its path from the current directory, for names and messages
    /// (`dvc.yaml`, `sub/dvc.yaml`, `../dvc.yaml`).
    label: String,
}

impl<'a> PipelineFile<'a> {
    fn new(root: &'a Path, path: &Path, label: String) -> Self {
        PipelineFile {
            root,
            path: path.to_path_buf(),
            dir: path.parent().unwrap_or(root).to_path_buf(),
            label,
        }
    }

    /// Parses the text (once), validates it as written and loads its global
    /// `vars`.
    fn parse<'t>(&'t self, text: &'t str) -> Result<Doc<'t>> {
        let name = self.label.as_str();
        let invalid = |e: &dyn std::fmt::Display| msg(format!("'{name}' validation failed: {e}"));
        let raw = yaml::parse(text, name).map_err(|e| invalid(&e))?;
        Pipeline::from_value(text, name, &raw).map_err(|e| invalid(&e))?;
        let resolver = Resolver::new(&self.dir, text, name, &raw, unpack_config(self.root))
            .map_err(|e| msg(e.to_string()))?;
        Ok(Doc {
            text,
            raw,
            resolver,
        })
    }

    /// The top-level sections, interpolated.
    fn top_level(&self, doc: &Doc<'_>) -> Result<crate::template::TopLevel> {
        doc.resolver
            .resolve_top(&doc.raw)
            .map_err(|e| msg(e.to_string()))
    }

    /// Expands templates, then reads each (expanded) stage.
    fn stages(&self, doc: &Doc<'_>) -> Result<Vec<Stage>> {
        let (name, root, text) = (self.label.as_str(), self.root, doc.text);
        let expanded = doc
            .resolver
            .expand(&doc.raw)
            .map_err(|e| msg(e.to_string()))?;
        let shared: Arc<str> = Arc::from(text);
        let mut out = Vec::new();
        for ex in expanded {
            let body = Value::Map(ex.body);
            let def = parse_expanded(text, name, ex.name, &body, &ex.src)
                .map_err(|e| msg(format!("'{name}' validation failed: {e}")))?;
            let at = At::node(name, shared.clone(), ex.src[..2.min(ex.src.len())].to_vec());
            let wdir = match &def.wdir {
                Some(w) => normalize(&self.dir.join(w)),
                None => self.dir.clone(),
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
                    remote: o.remote.clone(),
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
            let addressing = if name == "dvc.yaml" {
                def.name.clone()
            } else {
                format!("{name}:{}", def.name)
            };
            out.push(Stage {
                name: addressing,
                key: def.name.clone(),
                cmd: def.cmd.clone().unwrap_or(Value::Null),
                wdir,
                deps,
                params,
                outs,
                frozen: def.frozen,
                always_changed,
                desc,
                at,
                origin: Origin::DvcYaml(self.path.clone()),
            });
        }
        Ok(out)
    }
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
    let path = dvc_yaml(root);
    let Some(text) = read_pipeline(&path, "dvc.yaml")? else {
        return Ok(Default::default());
    };
    let file = PipelineFile::new(root, &path, "dvc.yaml".into());
    file.top_level(&file.parse(&text)?)
}

/// Parses `dvc.yaml` text of the repository at `root`: validates it as
/// written, expands templates, then reads each (expanded) stage.
pub fn parse_stages(root: &Path, text: &str) -> Result<Vec<Stage>> {
    parse_file_stages(root, &dvc_yaml(root), "dvc.yaml", text)
}

/// [`parse_stages`] for the `dvc.yaml` at `path` (absolute), named `label`
/// in stage names and messages.
pub fn parse_file_stages(root: &Path, path: &Path, label: &str, text: &str) -> Result<Vec<Stage>> {
    let file = PipelineFile::new(root, path, label.to_owned());
    file.stages(&file.parse(text)?)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relpath_is_pythons() {
        let p = |a: &str, b: &str| relpath(Path::new(a), Path::new(b));
        assert_eq!(p("/r/dvc.yaml", "/r"), "dvc.yaml");
        assert_eq!(p("/r/sub/dvc.yaml", "/r"), "sub/dvc.yaml");
        assert_eq!(p("/r/dvc.yaml", "/r/sub/deep"), "../../dvc.yaml");
        assert_eq!(p("/r/a/dvc.yaml", "/r/b"), "../a/dvc.yaml");
        assert_eq!(p("/r", "/r"), ".");
    }

    /// A `dvc.yaml` in a subdirectory: stages named from the current
    /// directory, run there, their params and vars looked up there.
    #[test]
    fn nested_file_stages_live_in_their_directory() {
        let t = tempfile::tempdir().unwrap();
        let root = t.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(root.join("sub/params.yaml"), "out: o.txt\n").unwrap();
        let text = "stages:\n  s:\n    cmd: x\n    deps: [../in.txt]\n    params: [out]\n    outs: ['${out}']\n";
        let path = root.join("sub/dvc.yaml");
        for (cwd, name) in [
            (root.to_path_buf(), "sub/dvc.yaml:s"),
            (root.join("sub"), "s"),
        ] {
            let file = PipelineFile::new(root, &path, relpath(&path, &cwd));
            let s = file.stages(&file.parse(text).unwrap()).unwrap().remove(0);
            assert_eq!((s.name.as_str(), s.key.as_str()), (name, "s"));
            assert_eq!(s.wdir, root.join("sub"));
            assert_eq!(s.deps[0].abs, root.join("in.txt"));
            assert_eq!(s.outs[0].abs, root.join("sub/o.txt"));
            assert_eq!(s.lock_dir(), Some(root.join("sub").as_path()));
        }
    }
}
