//! The `strix` command line: a thin layer over the strix libraries.

mod cli;
mod commands;
mod ui;

fn main() {
    // A file-size limit (`ulimit -f`) must fail a write with EFBIG, which
    // strix reports and cleans up after, instead of killing the process.
    // SAFETY: setting a signal disposition to SIG_IGN at startup, before
    // any thread exists.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
    strix_fs::raise_open_files_limit();
    std::process::exit(cli::run());
}
