//! strix-pipeline: `dvc.yaml` stages as a graph, change detection against
//! `dvc.lock`, `repro`, the run-cache and `stage add`.
//!
//! * [`stage`]: the stage model loaded from `dvc.yaml` (params included).
//! * [`params`]: reading params files (YAML, JSON, TOML, Python) and
//!   Python-equality comparison.
//! * [`template`]: `vars`, `${…}`, `foreach` and `matrix` expansion.
//! * [`graph`]: the DAG (edges from outs to deps), validation, ordering.
//! * [`status`]: per-stage changes in DVC's `status` shape.
//! * [`lockfile`]: building and writing `dvc.lock` entries.
//! * [`runcache`]: `.dvc/cache/runs` keys, values, save and restore.
//! * [`repro`]: running stages (serially or in parallel).
//! * [`add`]: `stage add`.
//! * [`commit`]: `commit` of pipeline stages.
//! * [`freeze`]: `freeze` / `unfreeze`.
//! * [`render`]: `dag` output.
//!
//! The library does not print: progress lines go through [`Reporter`].

pub mod add;
pub mod commit;
mod exec;
pub mod freeze;
pub mod graph;
pub mod legacy;
pub mod lockfile;
pub mod params;
mod pull;
mod record;
pub mod remove;
pub mod render;
pub mod repro;
pub mod runcache;
pub mod stage;
pub mod status;
pub mod targets;
pub mod template;

pub use graph::Graph;
pub use stage::{Stage, load_stages};

/// Pipeline errors. Messages follow DVC's wording where there is one.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user-facing problem (exit code 1 unless stated).
    #[error("{0}")]
    Msg(String),
    /// Errors from the repository layer.
    #[error(transparent)]
    Repo(#[from] strix_repo::RepoError),
    /// A stage command failed; carries DVC's exit code 255.
    #[error("{0}")]
    Failed(String),
    /// Interrupted by Ctrl-C.
    #[error("interrupted by the user")]
    Interrupted,
}

impl Error {
    /// The process exit code DVC uses for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Msg(_) => 1,
            Error::Repo(e) => e.exit_code(),
            Error::Failed(_) => 255,
            Error::Interrupted => 252,
        }
    }
}

/// The stages of every `dvc.yaml` (the root one first) followed by the
/// legacy `.dvc` stages. As DVC's index, this also resolves the top-level
/// sections of each `dvc.yaml` (after its stages), so a bad `${…}` there
/// fails `status`, `repro` and `dag`, but not `stage list`.
/// Stage names are relative to `cwd`, as DVC's.
pub fn all_stages(repo: &strix_repo::Repo, cwd: &std::path::Path) -> Result<Vec<Stage>> {
    let mut stages = stage::load_all_pipelines(repo, cwd)?;
    stages.extend(legacy::load(repo)?);
    Ok(stages)
}

pub(crate) fn msg(s: impl Into<String>) -> Error {
    Error::Msg(s.into())
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Receives progress lines (stdout) and warnings (stderr) from long operations.
pub trait Reporter: Sync {
    /// A normal output line.
    fn line(&self, s: &str);
    /// A warning line (without the `WARNING: ` prefix).
    fn warn(&self, s: &str);
    /// Asks a yes/no question (`repro -i`); without a way to ask, no.
    fn confirm(&self, _question: &str) -> bool {
        false
    }
    /// A line of a command's stderr (defaults to [`Reporter::line`]).
    fn err_line(&self, s: &str) {
        self.line(s);
    }
}
