//! `.dvcignore` queries for single paths (`check-ignore`): gitignore syntax,
//! each file's patterns relative to its own directory, deeper files
//! overriding shallower ones, plus the built-in `.git/`, `.hg/`, `.dvc/`.

use crate::repo::Repo;
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::path::{Path, PathBuf};

/// The pattern that decided a path.
#[derive(Debug, Clone)]
pub struct IgnoreHit {
    /// The `.dvcignore` file (absolute), or the repo root for built-ins.
    pub file: PathBuf,
    /// 1-based line number (0 for built-ins).
    pub line: usize,
    pub pattern: String,
    /// A `!pattern` that re-includes the path.
    pub negated: bool,
}

/// Lazily loaded matchers.
pub struct IgnoreRules {
    root: PathBuf,
}

impl IgnoreRules {
    pub fn load(repo: &Repo) -> Self {
        Self {
            root: repo.root().to_path_buf(),
        }
    }

    fn matcher(dir: &Path) -> Option<(Gitignore, PathBuf)> {
        let file = dir.join(".dvcignore");
        if !file.is_file() {
            return None;
        }
        let mut b = GitignoreBuilder::new(dir);
        b.add(&file);
        b.build().ok().map(|g| (g, file))
    }

    /// The last pattern matching `abs` (or one of its parents), if any.
    pub fn check(&self, _repo: &Repo, abs: &Path) -> Option<IgnoreHit> {
        let rel = abs.strip_prefix(&self.root).ok()?;
        for comp in rel.components() {
            let c = comp.as_os_str().to_string_lossy();
            if matches!(c.as_ref(), ".git" | ".hg" | ".dvc") {
                return Some(IgnoreHit {
                    file: self.root.clone(),
                    line: 0,
                    pattern: format!("{c}/"),
                    negated: false,
                });
            }
        }
        let is_dir = abs.is_dir();
        let mut hit = None;
        let mut dir = self.root.clone();
        let mut dirs = vec![dir.clone()];
        for comp in rel.parent().map(|p| p.components()).into_iter().flatten() {
            dir.push(comp);
            dirs.push(dir.clone());
        }
        for d in dirs {
            let Some((g, file)) = Self::matcher(&d) else {
                continue;
            };
            let m = g.matched_path_or_any_parents(abs, is_dir);
            let glob = match &m {
                ignore::Match::Ignore(g) | ignore::Match::Whitelist(g) => *g,
                ignore::Match::None => continue,
            };
            let original = glob.original().to_string();
            let line = std::fs::read_to_string(&file)
                .ok()
                .and_then(|t| t.lines().position(|l| l.trim_end() == original))
                .map(|i| i + 1)
                .unwrap_or(0);
            hit = Some(IgnoreHit {
                file,
                line,
                pattern: original,
                negated: m.is_whitelist(),
            });
        }
        hit
    }
}
