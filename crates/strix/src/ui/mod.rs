//! Terminal output: the printer, progress bars and error rendering.

pub mod errors;
pub mod json;
pub mod pager;
pub mod progress;

use std::io::{IsTerminal, Write};

/// Where command output goes. Data goes to stdout, everything else to
/// stderr; `-q` silences both (only the exit code remains, as in DVC).
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub quiet: bool,
    pub verbose: u8,
}

#[allow(clippy::print_stdout, clippy::print_stderr)]
impl Printer {
    /// A line of results on stdout.
    pub fn out(&self, line: impl AsRef<str>) {
        if !self.quiet {
            let mut o = std::io::stdout().lock();
            let _ = writeln!(o, "{}", line.as_ref());
        }
    }

    /// A `--json` result on stdout, as DVC writes it (indented on a
    /// terminal).
    pub fn json(&self, v: &serde_json::Value) {
        let indent = std::io::stdout().is_terminal().then_some(2);
        self.out(json::render(v, indent));
    }

    /// Text on stdout, through a pager when stdout is a terminal (as DVC
    /// shows `dag`); directly when it is not or no pager could start.
    pub fn page(&self, text: &str) {
        if self.quiet {
            return;
        }
        if std::io::stdout().is_terminal() {
            let var = |k: &str| std::env::var(k).ok();
            let cmd = pager::command(
                var("DVC_PAGER").as_deref(),
                var("PAGER").as_deref(),
                std::env::var_os("LESS").is_some(),
            );
            match pager::show(&cmd, &format!("{text}\n")) {
                Ok(()) => return,
                Err(e) => self.warn(format!("{e}; printing without a pager")),
            }
        }
        self.out(text);
    }

    /// A warning on stderr.
    pub fn warn(&self, line: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}: {}", self.paint("warning", "33"), line.as_ref());
        }
    }

    /// Debug output for `-v`.
    pub fn debug(&self, line: impl AsRef<str>) {
        if self.verbose > 0 && !self.quiet {
            eprintln!("debug: {}", line.as_ref());
        }
    }

    /// Wraps `text` in an ANSI colour when stderr is a terminal and
    /// `NO_COLOR` is unset.
    pub fn paint(&self, text: &str, code: &str) -> String {
        if color_enabled() {
            format!("\x1b[1;{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// Colour only on a terminal, and never with `NO_COLOR` set.
pub fn color_enabled() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stderr().is_terminal()
}

/// A size for people: `512 B`, `1.5 MiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", UNITS[i])
}

#[cfg(test)]
mod size_tests {
    use super::human_size;

    #[test]
    fn sizes_are_human() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(3 * 1024 * 1024), "3.0 MiB");
    }
}
