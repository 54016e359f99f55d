//! Shared glue between the pipeline commands and `strix-pipeline`.

use crate::ui::Printer;
use crate::ui::errors::Failure;

/// Prints pipeline progress through the [`Printer`].
pub struct PrinterReporter<'a>(pub &'a Printer);

impl strix_pipeline::Reporter for PrinterReporter<'_> {
    fn line(&self, s: &str) {
        self.0.out(s);
    }
    fn warn(&self, s: &str) {
        self.0.warn(s);
    }
    fn confirm(&self, question: &str) -> bool {
        super::manage::confirm(question)
    }
    #[allow(clippy::print_stderr)]
    fn err_line(&self, s: &str) {
        if !self.0.quiet {
            eprintln!("{s}");
        }
    }
}

/// Converts a pipeline error into a command failure with DVC's exit code.
pub fn failure(e: strix_pipeline::Error) -> Failure {
    match e {
        strix_pipeline::Error::Repo(r) => Failure::from(r),
        other => {
            let code = other.exit_code();
            Failure::new(anyhow::Error::new(other), code)
        }
    }
}
