//! Running stage commands: the shell DVC uses, one process group per
//! command, output prefixed with the stage name when stages run in parallel,
//! and Ctrl-C handling.

use crate::Reporter;
use crate::stage::Stage;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Installs a SIGINT handler that makes `repro` stop: running commands (each
/// in its own process group) are terminated and dvc.lock stays consistent.
pub fn install_interrupt_handler() {
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        libc::signal(
            libc::SIGINT,
            on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
        );
    }
}

pub(crate) fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// The argv DVC uses to run `cmd`: `$SHELL -c cmd` (bash with `--noprofile
/// --norc`, zsh with `--no-rcs`), `/bin/sh` when `SHELL` is unset.
pub fn shell_argv(cmd: &str) -> Vec<String> {
    let shell = std::env::var("SHELL")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "/bin/sh".into());
    let name = Path::new(&shell)
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut argv = vec![shell];
    match name.as_str() {
        "bash" => argv.extend(["--noprofile".into(), "--norc".into()]),
        "zsh" => argv.push("--no-rcs".into()),
        _ => {}
    }
    argv.extend(["-c".into(), cmd.to_owned()]);
    argv
}

pub(crate) type Pids = Arc<Mutex<Vec<i32>>>;

/// Runs the commands of one stage; `prefix` set means capture and prefix
/// output lines. Returns an error message on failure.
pub(crate) fn run_commands(
    root: &Path,
    stage: &Stage,
    prefix: Option<String>,
    pids: &Pids,
    rep: &dyn Reporter,
) -> std::result::Result<(), String> {
    for cmd in stage.commands() {
        if prefix.is_some() {
            rep.line(&format!("[{}] > {cmd}", stage.name));
        }
        let argv = shell_argv(&cmd);
        let mut c = Command::new(&argv[0]);
        c.args(&argv[1..])
            .current_dir(&stage.wdir)
            .env("DVC_ROOT", root)
            .env("DVC_STAGE", &stage.name)
            .process_group(0);
        if prefix.is_some() {
            c.stdout(Stdio::piped()).stderr(Stdio::piped());
        }
        let mut child = c
            .spawn()
            .map_err(|e| format!("failed to run: {cmd}, cannot start '{}': {e}", argv[0]))?;
        let pid = child.id() as i32;
        pids.lock().map(|mut p| p.push(pid)).ok();
        let status = std::thread::scope(|s| {
            if let Some(px) = &prefix {
                if let Some(out) = child.stdout.take() {
                    s.spawn(move || {
                        for line in BufReader::new(out).lines().map_while(|l| l.ok()) {
                            rep.line(&format!("[{px}] {line}"));
                        }
                    });
                }
                if let Some(err) = child.stderr.take() {
                    s.spawn(move || {
                        for line in BufReader::new(err).lines().map_while(|l| l.ok()) {
                            rep.err_line(&format!("[{px}] {line}"));
                        }
                    });
                }
            }
            child.wait()
        });
        pids.lock().map(|mut p| p.retain(|&x| x != pid)).ok();
        let status = status.map_err(|e| format!("failed to run: {cmd}, {e}"))?;
        if let Some(sig) = status.signal() {
            return Err(format!("failed to run: {cmd}, killed by signal {sig}"));
        }
        match status.code() {
            Some(0) => {}
            Some(code) => return Err(format!("failed to run: {cmd}, exited with {code}")),
            None => return Err(format!("failed to run: {cmd}, terminated")),
        }
    }
    Ok(())
}

/// Sends SIGTERM to every running command's process group.
pub(crate) fn terminate_all(pids: &Pids) {
    for &pid in pids.lock().map(|p| p.clone()).unwrap_or_default().iter() {
        // SAFETY: plain kill(2) of a process group this process started.
        unsafe {
            libc::kill(-pid, libc::SIGTERM);
        }
    }
}
