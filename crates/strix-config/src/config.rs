//! The configuration of one repository (or of no repository): the four
//! levels, their merge, and `dvc config`-style reads and edits.

use crate::error::ConfigError;
use crate::format;
use crate::paths::{ConfigPaths, Level};
use crate::pathutil;
use crate::schema::{self, Warning};
use crate::value::{Node, Table, Value, merge, sub_table, sub_table_mut};
use std::io;
use std::path::{Path, PathBuf};

/// One config entry and where it came from, as `dvc config --list
/// --show-origin` prints it (`<file>\t<key>=<value>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The level that set it.
    pub level: Level,
    /// The file that set it.
    pub file: PathBuf,
    /// Dotted name: `core.remote`, `remote.storage.url`.
    pub key: String,
    /// The value, with path options resolved (absolute) as DVC shows them.
    pub value: Value,
}

/// A parsed `dvc config` name: `section.option`, `remote.name.option` or
/// `db.name.option`. Section and option are lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigName {
    /// `remote` or `db` for named sections.
    pub top: Option<String>,
    /// The section (or remote/db name).
    pub section: String,
    /// The option.
    pub option: String,
}

impl ConfigName {
    /// Parses like DVC's
    /// `^(?P<top>(remote|db)\.)?(?P<section>[^\.]*)\.(?P<option>[^\.]*)$`.
    pub fn parse(name: &str) -> Result<Self, ConfigError> {
        let parts: Vec<&str> = name.split('.').collect();
        let (top, section, option) = match parts.as_slice() {
            [top @ ("remote" | "db"), section, option] => (Some(*top), *section, *option),
            [section, option] => (None, *section, *option),
            _ => {
                return Err(ConfigError::BadName {
                    name: name.to_string(),
                });
            }
        };
        Ok(ConfigName {
            top: top.map(str::to_string),
            section: section.to_lowercase(),
            option: option.to_lowercase(),
        })
    }

    fn kind(&self) -> &str {
        self.top.as_deref().unwrap_or("section")
    }
}

/// All config levels of a repository, loaded.
///
/// Paths in files are stored as the file holds them; reads resolve
/// `cache.dir`, remote `url` and the other path options against the
/// directory of the file that set them. Edits rewrite one level's file
/// completely, the way DVC does.
#[derive(Debug, Clone)]
pub struct Config {
    paths: ConfigPaths,
    cwd: PathBuf,
    /// Per level, the dict as stored (unresolved), with schema sections.
    raw: [Option<Table>; 4],
    /// Per level, with path options resolved.
    resolved: [Option<Table>; 4],
    merged: Table,
    warnings: Vec<Warning>,
}

fn read_level(file: &Path) -> Result<Table, ConfigError> {
    match std::fs::read(file) {
        Ok(bytes) => format::parse_level(&bytes, file),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(format::empty_level()),
        Err(source) => Err(ConfigError::Read {
            path: file.to_path_buf(),
            source,
        }),
    }
}

/// Applies `f(section path, key, value)` to every string path option.
fn map_paths(conf: &mut Table, f: &dyn Fn(&str) -> String) {
    if let Some(Node::Table(cache)) = conf.get_mut("cache") {
        map_keys(cache, &["cache"], f);
    }
    for kind in ["remote", "machine"] {
        if let Some(Node::Table(named)) = conf.get_mut(kind) {
            for (name, node) in named.iter_mut() {
                if let Node::Table(t) = node {
                    map_keys(t, &[kind, name.as_str()], f);
                }
            }
        }
    }
}

fn map_keys(table: &mut Table, section: &[&str], f: &dyn Fn(&str) -> String) {
    for (key, node) in table.iter_mut() {
        if let Node::Value(Value::String(s)) = node
            && pathutil::is_path_key(section, key)
        {
            *s = f(s);
        }
    }
}

fn flatten(prefix: &str, table: &Table, out: &mut Vec<(String, Value)>) {
    for (key, node) in table {
        let name = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match node {
            Node::Value(v) => out.push((name, v.clone())),
            Node::Table(t) => flatten(&name, t, out),
        }
    }
}

impl Config {
    /// Reads every level and validates the merge (DVC's `Config(validate=True)`).
    /// `cwd` is the directory relative paths given to edits are relative to.
    pub fn load(paths: ConfigPaths, cwd: impl Into<PathBuf>) -> Result<Self, ConfigError> {
        let mut config = Self::load_unvalidated(paths, cwd)?;
        config.warnings = config.validate()?;
        Ok(config)
    }

    /// Reads every level without validating, as `dvc config` and
    /// `dvc remote` do.
    pub fn load_unvalidated(
        paths: ConfigPaths,
        cwd: impl Into<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let cwd = cwd.into();
        let paths = paths.absolutize(&cwd);
        let mut raw: [Option<Table>; 4] = Default::default();
        for level in Level::ALL {
            if let Some(file) = paths.file(level) {
                raw[level.index()] = Some(read_level(&file)?);
            }
        }
        let mut config = Config {
            paths,
            cwd,
            raw,
            resolved: Default::default(),
            merged: Table::new(),
            warnings: Vec::new(),
        };
        config.refresh();
        Ok(config)
    }

    /// The paths this config was loaded from (made absolute).
    pub fn paths(&self) -> &ConfigPaths {
        &self.paths
    }

    /// The file of `level`, if the level exists here.
    pub fn file(&self, level: Level) -> Option<PathBuf> {
        self.paths.file(level)
    }

    /// Warnings from the last validation (DVC logs them and carries on).
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }

    /// Validates the merged configuration.
    pub fn validate(&self) -> Result<Vec<Warning>, ConfigError> {
        schema::validate(&self.merged).map_err(|v| {
            let tables: Vec<(Level, &Table)> = Level::ALL
                .into_iter()
                .filter_map(|l| self.resolved[l.index()].as_ref().map(|t| (l, t)))
                .collect();
            self.invalid(v, &tables)
        })
    }

    fn invalid(&self, v: schema::Violation, tables: &[(Level, &Table)]) -> ConfigError {
        let keys: Vec<&str> = v.path.iter().map(String::as_str).collect();
        let file = tables
            .iter()
            .rev()
            .find(|(_, t)| lookup(t, &keys).is_some())
            .and_then(|(l, _)| self.file(*l));
        ConfigError::Invalid {
            message: v.message,
            key: v.path,
            file,
        }
    }

    fn conf_dir(&self, level: Level) -> Option<PathBuf> {
        self.file(level)
            .and_then(|f| f.parent().map(Path::to_path_buf))
    }

    fn resolve_table(&self, level: Level, raw: &Table) -> Table {
        let mut t = raw.clone();
        if let Some(dir) = self.conf_dir(level) {
            let home = self.paths.home.clone();
            map_paths(&mut t, &|s| pathutil::resolve(&dir, s, home.as_deref()));
        }
        t
    }

    fn refresh(&mut self) {
        let mut merged = Table::new();
        for level in Level::ALL {
            let resolved = self.raw[level.index()]
                .as_ref()
                .map(|raw| self.resolve_table(level, raw));
            if let Some(t) = &resolved {
                merge(&mut merged, t);
            }
            self.resolved[level.index()] = resolved;
        }
        self.merged = merged;
    }

    /// DVC's `load_config_to_level(level)`: the merge of the levels below
    /// `level` (all levels for `None`), resolved.
    fn merged_below(&self, level: Option<Level>) -> Table {
        let mut merged = Table::new();
        for l in Level::ALL {
            if Some(l) == level {
                break;
            }
            if let Some(t) = &self.resolved[l.index()] {
                merge(&mut merged, t);
            }
        }
        merged
    }

    /// The levels `dvc config` looks at: the one asked for, else all levels
    /// that exist here.
    fn levels_for(&self, level: Option<Level>) -> Result<Vec<Level>, ConfigError> {
        match level {
            Some(l) if self.file(l).is_none() => Err(ConfigError::NotInRepo { level: l }),
            Some(l) => Ok(vec![l]),
            None => Ok(self.paths.levels()),
        }
    }

    /// The merged, resolved value at `path` (e.g. `["core", "remote"]`) and
    /// the level that set it.
    pub fn value(&self, path: &[&str]) -> Option<(&Value, Level)> {
        let value = match lookup(&self.merged, path)? {
            Node::Value(v) => v,
            Node::Table(_) => return None,
        };
        let level = Level::ALL.into_iter().rev().find(|l| {
            self.resolved[l.index()]
                .as_ref()
                .is_some_and(|t| lookup(t, path).is_some())
        })?;
        Some((value, level))
    }

    /// `dvc config -l [--level]`: every entry of each level, in file order
    /// (named sections first, as DVC lists them), path options resolved.
    pub fn list(&self, level: Option<Level>) -> Result<Vec<Setting>, ConfigError> {
        let mut out = Vec::new();
        for l in self.levels_for(level)? {
            let (Some(table), Some(file)) = (&self.resolved[l.index()], self.file(l)) else {
                continue;
            };
            let mut flat = Vec::new();
            flatten("", table, &mut flat);
            out.extend(flat.into_iter().map(|(key, value)| Setting {
                level: l,
                file: file.clone(),
                key,
                value,
            }));
        }
        Ok(out)
    }

    /// `dvc config [--level] <name>`. With no level, the highest level that
    /// has the option wins and a missing option is `Ok(None)`; with a level,
    /// a missing section or option is an error, as in DVC.
    pub fn get(&self, level: Option<Level>, name: &str) -> Result<Option<Setting>, ConfigError> {
        let name = ConfigName::parse(name)?;
        let mut levels = self.levels_for(level)?;
        levels.reverse();
        for l in levels {
            let Some(table) = &self.resolved[l.index()] else {
                continue;
            };
            match check(table, &name) {
                Ok(value) => {
                    return Ok(Some(Setting {
                        level: l,
                        file: self.file(l).unwrap_or_default(),
                        key: dotted(&name),
                        value: value.clone(),
                    }));
                }
                Err(e) if level.is_some() => return Err(e),
                Err(_) => {}
            }
        }
        Ok(None)
    }

    /// `dvc config [--level] <name> <value>`; the level defaults to repo.
    /// A relative `cache.dir` or remote path option is taken relative to
    /// the cwd and stored relative to the config file's directory.
    pub fn set(
        &mut self,
        level: Option<Level>,
        name: &str,
        value: &str,
    ) -> Result<(), ConfigError> {
        let name = ConfigName::parse(name)?;
        self.edit(level, |conf, ctx| {
            let target = match &name.top {
                Some(top) => sub_table_mut(conf, top),
                None => conf,
            };
            let section = sub_table_mut(target, &name.section);
            let mut sec_path = vec![name.section.as_str()];
            if let Some(top) = &name.top {
                sec_path.insert(0, top.as_str());
            }
            let stored = ctx.user_value(&sec_path, &name.option, value);
            section.insert(name.option.clone(), Node::Value(Value::String(stored)));
            Ok(())
        })
    }

    /// `dvc config [--level] --unset <name>`; the level defaults to repo.
    pub fn unset(&mut self, level: Option<Level>, name: &str) -> Result<(), ConfigError> {
        let name = ConfigName::parse(name)?;
        self.edit(level, |conf, _| {
            check(conf, &name)?;
            let target = match &name.top {
                Some(top) => sub_table_mut(conf, top),
                None => conf,
            };
            sub_table_mut(target, &name.section).shift_remove(&name.option);
            Ok(())
        })
    }

    /// DVC's `Config.edit(level)`: hands the level's stored dict to `f`,
    /// then re-bases path options, validates the merge of the levels up to
    /// this one, and rewrites the file atomically.
    pub(crate) fn edit<T>(
        &mut self,
        level: Option<Level>,
        f: impl FnOnce(&mut Table, &EditContext) -> Result<T, ConfigError>,
    ) -> Result<T, ConfigError> {
        let level = level.unwrap_or(Level::Repo);
        let (Some(file), Some(conf_dir)) = (self.file(level), self.conf_dir(level)) else {
            return Err(ConfigError::NotInRepo { level });
        };
        let mut conf = self.raw[level.index()]
            .clone()
            .unwrap_or_else(format::empty_level);
        let ctx = EditContext {
            conf_dir: conf_dir.clone(),
            cwd: self.cwd.clone(),
        };
        let out = f(&mut conf, &ctx)?;

        map_paths(&mut conf, &|s| pathutil::to_stored(&conf_dir, &conf_dir, s));
        let mut merged = self.merged_below(Some(level));
        merge(&mut merged, &self.resolve_table(level, &conf));
        if let Err(v) = schema::validate(&merged) {
            let candidate = self.resolve_table(level, &conf);
            let mut tables: Vec<(Level, &Table)> = Level::ALL
                .into_iter()
                .filter(|l| *l < level)
                .filter_map(|l| self.resolved[l.index()].as_ref().map(|t| (l, t)))
                .collect();
            tables.push((level, &candidate));
            return Err(self.invalid(v, &tables));
        }

        let text = format::serialize(&conf, &file)?;
        let write_err = |source| ConfigError::Write {
            path: file.clone(),
            source,
        };
        std::fs::create_dir_all(&conf_dir).map_err(write_err)?;
        strix_fs::atomic_write(&file, text.as_bytes()).map_err(write_err)?;
        // Later edits start from the file as written, exactly as DVC re-reads it.
        self.raw[level.index()] = Some(format::parse_level(text.as_bytes(), &file)?);
        self.refresh();
        Ok(out)
    }

    /// DVC's `read(level)`: one level's dict (or the merge for `None`),
    /// with path options resolved.
    pub(crate) fn resolved_level(&self, level: Option<Level>) -> Result<Table, ConfigError> {
        match level {
            None => Ok(self.merged.clone()),
            Some(l) => self.resolved[l.index()]
                .clone()
                .ok_or(ConfigError::NotInRepo { level: l }),
        }
    }

    pub(crate) fn merged_table(&self) -> &Table {
        &self.merged
    }

    pub(crate) fn merged_below_level(&self, level: Option<Level>) -> Table {
        self.merged_below(level)
    }
}

/// What an edit needs to store user-supplied values.
pub(crate) struct EditContext {
    conf_dir: PathBuf,
    cwd: PathBuf,
}

impl EditContext {
    /// A value from the command line: path options given relative to the
    /// cwd are re-based on the config file's directory.
    pub(crate) fn user_value(&self, section: &[&str], key: &str, value: &str) -> String {
        if pathutil::is_path_key(section, key) {
            pathutil::to_stored(&self.conf_dir, &self.cwd, value)
        } else {
            value.to_string()
        }
    }
}

fn dotted(name: &ConfigName) -> String {
    match &name.top {
        Some(top) => format!("{top}.{}.{}", name.section, name.option),
        None => format!("{}.{}", name.section, name.option),
    }
}

/// DVC's `CmdConfig._check`: the value at `name`, or why it is missing.
fn check<'a>(conf: &'a Table, name: &ConfigName) -> Result<&'a Value, ConfigError> {
    let target = match &name.top {
        Some(top) => sub_table(conf, top),
        None => Some(conf),
    };
    let no_section = || ConfigError::NoSuchSection {
        kind: name.kind().to_string(),
        name: name.section.clone(),
    };
    let section = target
        .and_then(|t| t.get(&name.section))
        .ok_or_else(no_section)?;
    let no_option = || ConfigError::NoSuchOption {
        kind: name.kind().to_string(),
        name: name.section.clone(),
        option: name.option.clone(),
    };
    match section {
        Node::Table(t) => match t.get(&name.option) {
            Some(Node::Value(v)) => Ok(v),
            _ => Err(no_option()),
        },
        Node::Value(_) => Err(no_option()),
    }
}

pub(crate) fn lookup<'a>(table: &'a Table, path: &[&str]) -> Option<&'a Node> {
    let (last, parents) = path.split_last()?;
    let mut t = table;
    for p in parents {
        t = sub_table(t, p)?;
    }
    t.get(*last)
}
