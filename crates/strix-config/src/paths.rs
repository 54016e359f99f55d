//! Where DVC's four config files live.
//!
//! | level | file (Linux) |
//! | --- | --- |
//! | system | `$DVC_SYSTEM_CONFIG_DIR/config`, else the first absolute entry of `$XDG_CONFIG_DIRS` + `/dvc/config`, else `/etc/xdg/dvc/config` |
//! | global | `$DVC_GLOBAL_CONFIG_DIR/config`, else `$XDG_CONFIG_HOME/dvc/config` (only if absolute), else `~/.config/dvc/config` |
//! | repo | `<dvc_dir>/config` |
//! | local | `<dvc_dir>/config.local` |
//!
//! These follow `dvc/dirs.py` and platformdirs' XDG rules: an empty
//! `DVC_*_CONFIG_DIR` counts as unset, and relative `XDG_*` entries are
//! ignored.

use std::ffi::OsString;
use std::fmt;
use std::path::{Path, PathBuf};

/// One config level, in the order the levels shadow each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Machine-wide config (`--system`).
    System,
    /// Per-user config (`--global`).
    Global,
    /// `.dvc/config`, tracked by git (`--project`, the default for edits).
    Repo,
    /// `.dvc/config.local`, git-ignored (`--local`).
    Local,
}

impl Level {
    /// All levels, lowest precedence first.
    pub const ALL: [Level; 4] = [Level::System, Level::Global, Level::Repo, Level::Local];

    /// DVC's name for the level (`system`, `global`, `repo`, `local`).
    pub fn as_str(self) -> &'static str {
        match self {
            Level::System => "system",
            Level::Global => "global",
            Level::Repo => "repo",
            Level::Local => "local",
        }
    }

    /// Whether the level lives inside a repository's `.dvc` directory.
    pub fn is_repo_level(self) -> bool {
        matches!(self, Level::Repo | Level::Local)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The files behind each level, plus the home directory used to expand `~`
/// in path options.
///
/// Build it with [`ConfigPaths::from_env`] in the binary, or with
/// [`ConfigPaths::new`] / [`ConfigPaths::from_vars`] in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigPaths {
    /// The system config file.
    pub system: PathBuf,
    /// The global (per-user) config file.
    pub global: PathBuf,
    /// The repository's `.dvc` directory, if inside a repository.
    pub dvc_dir: Option<PathBuf>,
    /// Home directory for `~` expansion in path options.
    pub home: Option<PathBuf>,
}

impl ConfigPaths {
    /// Explicit paths: `system_dir` and `global_dir` are the directories that
    /// hold the `config` files (like `DVC_SYSTEM_CONFIG_DIR`).
    pub fn new(
        system_dir: impl Into<PathBuf>,
        global_dir: impl Into<PathBuf>,
        dvc_dir: Option<PathBuf>,
    ) -> Self {
        ConfigPaths {
            system: system_dir.into().join("config"),
            global: global_dir.into().join("config"),
            dvc_dir,
            home: None,
        }
    }

    /// Reads `DVC_SYSTEM_CONFIG_DIR`, `DVC_GLOBAL_CONFIG_DIR`,
    /// `XDG_CONFIG_DIRS`, `XDG_CONFIG_HOME` and `HOME` from the process
    /// environment. This is the only place the crate looks at the
    /// environment.
    pub fn from_env(dvc_dir: Option<PathBuf>) -> Self {
        Self::from_vars(dvc_dir, |name| std::env::var_os(name), dirs::home_dir())
    }

    /// Like [`ConfigPaths::from_env`], with the variables supplied by `var`
    /// and `fallback_home` used when `HOME` is unset or relative.
    pub fn from_vars(
        dvc_dir: Option<PathBuf>,
        var: impl Fn(&str) -> Option<OsString>,
        fallback_home: Option<PathBuf>,
    ) -> Self {
        let nonempty = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        let absolute = |name: &str| nonempty(name).filter(|p| p.is_absolute());
        let home = absolute("HOME").or(fallback_home);

        let system_dir = nonempty("DVC_SYSTEM_CONFIG_DIR").unwrap_or_else(|| {
            let first_xdg = var("XDG_CONFIG_DIRS")
                .and_then(|dirs| std::env::split_paths(&dirs).find(|p| p.is_absolute()));
            first_xdg
                .unwrap_or_else(|| PathBuf::from("/etc/xdg"))
                .join("dvc")
        });
        let global_dir = nonempty("DVC_GLOBAL_CONFIG_DIR").unwrap_or_else(|| {
            absolute("XDG_CONFIG_HOME")
                .or_else(|| home.as_ref().map(|h| h.join(".config")))
                .unwrap_or_else(|| PathBuf::from("~/.config"))
                .join("dvc")
        });
        ConfigPaths {
            system: system_dir.join("config"),
            global: global_dir.join("config"),
            dvc_dir,
            home,
        }
    }

    /// Sets the home directory used for `~` expansion.
    pub fn with_home(mut self, home: Option<PathBuf>) -> Self {
        self.home = home;
        self
    }

    /// The file of `level`, or `None` for repo levels outside a repository.
    pub fn file(&self, level: Level) -> Option<PathBuf> {
        match level {
            Level::System => Some(self.system.clone()),
            Level::Global => Some(self.global.clone()),
            Level::Repo => self.dvc_dir.as_ref().map(|d| d.join("config")),
            Level::Local => self.dvc_dir.as_ref().map(|d| d.join("config.local")),
        }
    }

    /// The levels that have a file, lowest precedence first.
    pub fn levels(&self) -> Vec<Level> {
        Level::ALL
            .into_iter()
            .filter(|l| self.file(*l).is_some())
            .collect()
    }

    pub(crate) fn absolutize(mut self, cwd: &Path) -> Self {
        let abs = |p: PathBuf| {
            if p.is_absolute() {
                p
            } else {
                crate::pathutil::normalize(&cwd.join(p))
            }
        };
        self.system = abs(self.system);
        self.global = abs(self.global);
        self.dvc_dir = self.dvc_dir.map(abs);
        self
    }
}
