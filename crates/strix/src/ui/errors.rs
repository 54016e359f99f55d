//! Error rendering in uv's style:
//!
//! ```text
//! error: <what failed>
//!   Caused by: <cause>
//! hint: <what to do>
//! ```

use crate::ui::Printer;

/// A command failure: the error chain, an optional hint and the exit code.
pub struct Failure {
    pub error: anyhow::Error,
    pub hint: Option<String>,
    pub code: i32,
}

impl Failure {
    pub fn new(error: impl Into<anyhow::Error>, code: i32) -> Self {
        Self {
            error: error.into(),
            hint: None,
            code,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl From<strix_repo::RepoError> for Failure {
    fn from(e: strix_repo::RepoError) -> Self {
        let code = e.exit_code();
        let hint = e.hint();
        Self {
            error: e.into(),
            hint,
            code,
        }
    }
}

impl From<strix_repo::revisions::RevError> for Failure {
    fn from(e: strix_repo::revisions::RevError) -> Self {
        match e {
            strix_repo::revisions::RevError::Repo(r) => r.into(),
            e => Self::new(anyhow::Error::new(e), 1),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::new(e, 1)
    }
}

/// Prints a failure to stderr (unless quiet) and returns its exit code.
#[allow(clippy::print_stderr)]
pub fn report(p: &Printer, f: &Failure) -> i32 {
    if p.quiet {
        return f.code;
    }
    eprintln!("{}: {}", p.paint("error", "31"), f.error);
    for cause in f.error.chain().skip(1) {
        let text = cause.to_string();
        let mut lines = text.lines();
        if let Some(first) = lines.next() {
            eprintln!("  {} {}", p.paint("Caused by:", "31"), first);
        }
        for l in lines {
            eprintln!("    {l}");
        }
    }
    if let Some(h) = &f.hint {
        eprintln!("{}: {}", p.paint("hint", "36"), h);
    }
    f.code
}
