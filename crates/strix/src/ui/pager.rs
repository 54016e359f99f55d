//! Paging output on a terminal, as DVC pages `dag`: the pager is
//! `DVC_PAGER`, else `PAGER`, else `less`. Plain `less` gets
//! `--quit-if-one-screen --RAW-CONTROL-CHARS --chop-long-lines --no-init`
//! (only the middle two when `LESS` is set), so a drawing wider than the
//! terminal scrolls sideways instead of wrapping.

use std::io::Write;
use std::process::{Command, Stdio};

const LESS: &str = "less";

/// The pager command line DVC would run, from the values of `DVC_PAGER`,
/// `PAGER` and whether `LESS` is set.
pub fn command(dvc_pager: Option<&str>, pager: Option<&str>, less_set: bool) -> String {
    let chosen = [dvc_pager, pager]
        .into_iter()
        .flatten()
        .find(|p| !p.is_empty())
        .unwrap_or(LESS);
    if chosen != LESS {
        return chosen.to_owned();
    }
    let mut args = vec![LESS];
    if !less_set {
        args.push("--quit-if-one-screen");
    }
    args.extend(["--RAW-CONTROL-CHARS", "--chop-long-lines"]);
    if !less_set {
        args.push("--no-init");
    }
    args.join(" ")
}

/// Runs `cmd` through `sh -c` and writes `text` to it. `Err` when the pager
/// could not start (nothing was shown).
pub fn show(cmd: &str, text: &str) -> std::io::Result<()> {
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .spawn()?;
    // The pager owns the terminal now: Ctrl-C is for it, and strix waits
    // for it to quit instead of dying under it.
    // SAFETY: only the disposition of SIGINT changes, restored below.
    let old = unsafe { libc::signal(libc::SIGINT, libc::SIG_IGN) };
    if let Some(mut stdin) = child.stdin.take() {
        // A pager quit before reading everything closes the pipe: fine.
        let _ = stdin.write_all(text.as_bytes());
    }
    let status = child.wait();
    // SAFETY: restores the disposition saved above.
    unsafe { libc::signal(libc::SIGINT, old) };
    match status {
        // `sh` exits 127 when the pager command does not exist.
        Ok(s) if s.code() == Some(127) => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("pager '{cmd}' not found"),
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pager_choice_like_dvc() {
        let less = "less --quit-if-one-screen --RAW-CONTROL-CHARS --chop-long-lines --no-init";
        assert_eq!(command(None, None, false), less);
        assert_eq!(command(Some(""), Some(""), false), less);
        assert_eq!(command(None, Some("less"), false), less);
        assert_eq!(
            command(None, None, true),
            "less --RAW-CONTROL-CHARS --chop-long-lines"
        );
        assert_eq!(command(Some("most"), Some("more"), false), "most");
        assert_eq!(command(None, Some("more -s"), true), "more -s");
    }

    #[test]
    fn show_pipes_the_text_and_reports_a_missing_pager() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("paged");
        let cmd = format!("cat > '{}'", out.display());
        show(&cmd, "a\n b \n").unwrap();
        assert_eq!(std::fs::read_to_string(&out).unwrap(), "a\n b \n");
        let err = show("strix-no-such-pager-xyz", "x").unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
