//! `dvc remote` operations, with DVC's semantics and messages.

use crate::config::Config;
use crate::error::ConfigError;
use crate::paths::Level;
use crate::schema;
use crate::value::{Node, Table, Value, sub_table, sub_table_mut};

/// A configured remote, with `remote://` references resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Remote {
    /// The (lowercase) name.
    pub name: String,
    /// The URL; a local path is absolute, resolved against the directory of
    /// the config file that set it.
    pub url: String,
    /// Every other option, in file order.
    pub options: Vec<(String, Value)>,
    /// The level that set `url`.
    pub url_level: Level,
}

impl Remote {
    /// One option's value.
    pub fn option(&self, key: &str) -> Option<&Value> {
        self.options.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
}

/// One line of `dvc remote list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteListEntry {
    /// The name.
    pub name: String,
    /// The URL, resolved; empty if the remote has none.
    pub url: String,
    /// Whether `core.remote` names it.
    pub is_default: bool,
}

impl RemoteListEntry {
    /// DVC's line: `name\turl`, plus `\t(default)` for the default.
    pub fn to_line(&self) -> String {
        if self.is_default {
            format!("{}\t{}\t(default)", self.name, self.url)
        } else {
            format!("{}\t{}", self.name, self.url)
        }
    }
}

const MAX_REMOTE_REFS: usize = 32;

fn remotes(conf: &Table) -> Option<&Table> {
    sub_table(conf, "remote")
}

fn core_remote(conf: &Table) -> Option<&str> {
    match sub_table(conf, "core")?.get("remote")? {
        Node::Value(v) => v.as_str(),
        Node::Table(_) => None,
    }
}

impl Config {
    /// Names of all configured remotes (merged), in order.
    pub fn remote_names(&self) -> Vec<String> {
        remotes(self.merged_table())
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The remote `name` (case-insensitive), as DVC's `get_fs_config`
    /// resolves it, following `remote://other/path` URLs.
    pub fn remote(&self, name: &str) -> Result<Remote, ConfigError> {
        self.remote_depth(name, 0)
    }

    fn remote_depth(&self, name: &str, depth: usize) -> Result<Remote, ConfigError> {
        let lower = name.to_lowercase();
        let table = remotes(self.merged_table())
            .and_then(|r| sub_table(r, &lower))
            .ok_or_else(|| ConfigError::RemoteNotFound {
                name: name.to_string(),
            })?;
        let (url_value, url_level) =
            self.value(&["remote", &lower, "url"])
                .ok_or_else(|| ConfigError::Invalid {
                    message: format!(
                        "expected 'url' for dictionary value @ data['remote'][{}]",
                        crate::value::py_repr(&lower)
                    ),
                    key: vec!["remote".to_string(), lower.clone()],
                    file: None,
                })?;
        let url = url_value.to_string();
        let options: Vec<(String, Value)> = table
            .iter()
            .filter(|(k, _)| k.as_str() != "url")
            .filter_map(|(k, n)| match n {
                Node::Value(v) => Some((k.clone(), v.clone())),
                Node::Table(_) => None,
            })
            .collect();
        let (scheme, netloc) = schema::url_scheme(&url);
        if scheme != "remote" {
            return Ok(Remote {
                name: lower,
                url,
                options,
                url_level,
            });
        }
        if depth >= MAX_REMOTE_REFS {
            return Err(ConfigError::RemoteCycle { name: lower });
        }
        let rest = url.split_once("://").map_or("", |(_, r)| r);
        let (base_name, path) = if netloc {
            rest.split_once('/').unwrap_or((rest, ""))
        } else {
            ("", rest)
        };
        let base = self.remote_depth(base_name, depth + 1)?;
        let mut merged = base.options.clone();
        for (k, v) in options {
            match merged.iter_mut().find(|(mk, _)| *mk == k) {
                Some(slot) => slot.1 = v,
                None => merged.push((k, v)),
            }
        }
        Ok(Remote {
            name: lower,
            url: format!("{}/{}", base.url, path.trim_start_matches('/')),
            options: merged,
            url_level,
        })
    }

    /// `dvc remote list [--level]`.
    pub fn remote_list(&self, level: Option<Level>) -> Result<Vec<RemoteListEntry>, ConfigError> {
        let conf = self.resolved_level(level)?;
        let default = core_remote(&conf);
        let Some(remotes) = remotes(&conf) else {
            return Ok(Vec::new());
        };
        Ok(remotes
            .iter()
            .map(|(name, node)| {
                let url = match node {
                    Node::Table(t) => match t.get("url") {
                        Some(Node::Value(v)) => v.to_string(),
                        _ => String::new(),
                    },
                    Node::Value(_) => String::new(),
                };
                RemoteListEntry {
                    name: name.clone(),
                    url,
                    is_default: Some(name.as_str()) == default,
                }
            })
            .collect())
    }

    /// `dvc remote add [--level] [-d] [-f] <name> <url>`. The name is
    /// lowercased. A relative path URL is taken relative to the cwd.
    pub fn remote_add(
        &mut self,
        level: Option<Level>,
        name: &str,
        url: &str,
        default: bool,
        force: bool,
    ) -> Result<(), ConfigError> {
        let name = name.to_lowercase();
        self.edit(level, |conf, ctx| {
            let remotes = sub_table_mut(conf, "remote");
            if remotes.contains_key(&name) && !force {
                return Err(ConfigError::RemoteExists { name: name.clone() });
            }
            let url = ctx.user_value(&["remote", &name], "url", url);
            let mut t = Table::new();
            t.insert("url".to_string(), Node::Value(Value::String(url)));
            remotes.insert(name.clone(), Node::Table(t));
            if default {
                sub_table_mut(conf, "core").insert(
                    "remote".to_string(),
                    Node::Value(Value::from(name.as_str())),
                );
            }
            Ok(())
        })
    }

    /// `dvc remote modify [--level] <name> <option> <value>`, or with
    /// `value = None`, `--unset <option>`. The remote must exist in the
    /// levels up to this one. The option name is used as given.
    pub fn remote_modify(
        &mut self,
        level: Option<Level>,
        name: &str,
        option: &str,
        value: Option<&str>,
    ) -> Result<(), ConfigError> {
        let name = name.to_lowercase();
        let below = self.merged_below_level(level);
        self.edit(level, |conf, ctx| {
            let exists = |t: &Table| remotes(t).is_some_and(|r| r.contains_key(&name));
            if !exists(&below) && !exists(conf) {
                return Err(ConfigError::RemoteMissing { name: name.clone() });
            }
            let section = sub_table_mut(sub_table_mut(conf, "remote"), &name);
            match value {
                None => {
                    section.shift_remove(option);
                }
                Some(v) => {
                    let stored = ctx.user_value(&["remote", &name], option, v);
                    section.insert(option.to_string(), Node::Value(Value::String(stored)));
                }
            }
            Ok(())
        })
    }

    /// `dvc remote remove [--level] <name>`. Also drops `core.remote` where
    /// it names this remote, in every level from local down to the edited
    /// one (each of those files is rewritten, as DVC does).
    pub fn remote_remove(&mut self, level: Option<Level>, name: &str) -> Result<(), ConfigError> {
        let name = name.to_lowercase();
        self.edit(level, |conf, _| {
            if !remotes(conf).is_some_and(|r| r.contains_key(&name)) {
                return Err(ConfigError::RemoteMissing { name: name.clone() });
            }
            sub_table_mut(conf, "remote").shift_remove(&name);
            Ok(())
        })?;
        let up_to = level.unwrap_or(Level::Repo);
        for l in Level::ALL.into_iter().rev() {
            self.edit(Some(l), |conf, _| {
                if core_remote(conf) == Some(name.as_str()) {
                    sub_table_mut(conf, "core").shift_remove("remote");
                }
                Ok(())
            })?;
            if l == up_to {
                break;
            }
        }
        Ok(())
    }

    /// `dvc remote rename [--level] <name> <new>`. `new` is used as given
    /// (DVC does not lowercase it); `core.remote` is renamed too at this
    /// level and the levels above it.
    pub fn remote_rename(
        &mut self,
        level: Option<Level>,
        name: &str,
        new: &str,
    ) -> Result<(), ConfigError> {
        let name = name.to_lowercase();
        if remotes(self.merged_table()).is_some_and(|r| r.contains_key(new)) {
            return Err(ConfigError::RenameTargetExists {
                name: new.to_string(),
            });
        }
        let rename_default = |conf: &mut Table| {
            if core_remote(conf) == Some(name.as_str()) {
                sub_table_mut(conf, "core")
                    .insert("remote".to_string(), Node::Value(Value::from(new)));
            }
        };
        self.edit(level, |conf, _| {
            let remotes = sub_table_mut(conf, "remote");
            let Some(entry) = remotes.shift_remove(&name) else {
                return Err(ConfigError::RemoteMissing { name: name.clone() });
            };
            remotes.insert(new.to_string(), entry);
            rename_default(conf);
            Ok(())
        })?;
        let up_to = level.unwrap_or(Level::Repo);
        for l in Level::ALL.into_iter().rev() {
            if l == up_to {
                break;
            }
            self.edit(Some(l), |conf, _| {
                rename_default(conf);
                Ok(())
            })?;
        }
        Ok(())
    }

    /// `dvc remote default [--level]`: `core.remote` as written, or `None`
    /// (DVC prints `No default remote set` and exits 1).
    pub fn remote_default(&self, level: Option<Level>) -> Result<Option<String>, ConfigError> {
        let conf = self.resolved_level(level)?;
        Ok(core_remote(&conf).map(str::to_string))
    }

    /// `dvc remote default [--level] <name>`: the remote must exist at this
    /// level or below.
    pub fn remote_set_default(
        &mut self,
        level: Option<Level>,
        name: &str,
    ) -> Result<(), ConfigError> {
        let name = name.to_lowercase();
        let below = self.merged_below_level(level);
        self.edit(level, |conf, _| {
            let exists = |t: &Table| remotes(t).is_some_and(|r| r.contains_key(&name));
            if !exists(conf) && !exists(&below) {
                return Err(ConfigError::DefaultNotListed { name: name.clone() });
            }
            sub_table_mut(conf, "core").insert(
                "remote".to_string(),
                Node::Value(Value::from(name.as_str())),
            );
            Ok(())
        })
    }

    /// `dvc remote default [--level] --unset`.
    pub fn remote_unset_default(&mut self, level: Option<Level>) -> Result<(), ConfigError> {
        self.edit(level, |conf, _| {
            sub_table_mut(conf, "core").shift_remove("remote");
            Ok(())
        })
    }
}
