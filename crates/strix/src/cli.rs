//! Top-level arguments and dispatch.

use crate::commands;
use crate::ui::Printer;
use crate::ui::errors::{Failure, report};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Data version control, compatible with DVC 3 — and fast.
#[derive(Debug, Parser)]
#[command(name = "strix", version, about, propagate_version = true)]
pub struct Cli {
    /// Be quiet: print nothing, report through the exit code.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Be verbose (repeat for more).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Change to this directory before doing anything.
    #[arg(long = "cd", global = true, value_name = "PATH")]
    pub cd: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Initialize a repository in the current directory.
    Init(commands::init::Args),
    /// Track data files or directories.
    Add(commands::add::Args),
    /// Show changed outputs.
    Status(commands::status::Args),
    /// Record changes of tracked data in their .dvc files.
    Commit(commands::commit::Args),
    /// Restore tracked data from the cache.
    Checkout(commands::checkout::Args),
    /// Rename a tracked output and its .dvc file.
    #[command(name = "move", alias = "mv")]
    Move(commands::manage::MoveArgs),
    /// Stop tracking outputs (remove their .dvc files).
    #[command(alias = "rm")]
    Remove(commands::manage::RemoveArgs),
    /// Make linked outputs writable copies.
    Unprotect(commands::manage::UnprotectArgs),
    /// Remove all DVC files and directories from the project.
    Destroy(commands::manage::DestroyArgs),
    /// Print the repository root relative to the current directory.
    Root,
    /// Check whether paths are ignored by .dvcignore.
    CheckIgnore(commands::check_ignore::Args),
    /// Manage the cache.
    Cache(commands::cache::Args),
    /// Get, set or unset configuration options.
    Config(commands::config::Args),
    /// Data commands (`data status`).
    Data(commands::data::Args),
    /// Show changes between revisions or the workspace.
    Diff(commands::diff::Args),
    /// Manage remotes.
    Remote(commands::remote::Args),
    /// Upload tracked data to a remote.
    Push(commands::push::Args),
    /// Download tracked data from a remote into the cache.
    Fetch(commands::fetch::Args),
    /// Download tracked data from a remote and check it out.
    Pull(commands::pull::Args),
    /// Garbage collect unused objects from the cache or remote storage.
    Gc(commands::gc::Args),
    /// Manage pipeline stages (`stage add`, `stage list`).
    Stage(commands::stage::Args),
    /// Reproduce pipeline stages whose dependencies changed.
    Repro(commands::repro::Args),
    /// Show the pipeline graph.
    Dag(commands::dag::Args),
    /// Add a stage to dvc.yaml and run it (DVC 2's `run`).
    Run(Box<commands::run::Args>),
    /// Freeze stages: repro leaves them alone.
    Freeze(commands::freeze::Args),
    /// Unfreeze stages.
    Unfreeze(commands::freeze::Args),
    /// Show version and environment information.
    #[command(alias = "doctor")]
    Version,
}

/// Parses arguments, runs the command and returns the exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 254,
            };
            let _ = e.print();
            return code;
        }
    };
    let printer = Printer {
        quiet: cli.quiet,
        verbose: cli.verbose,
    };
    if let Some(dir) = &cli.cd
        && let Err(e) = std::env::set_current_dir(dir)
    {
        return report(
            &printer,
            &Failure::new(
                anyhow::anyhow!("cannot change directory to '{}': {e}", dir.display()),
                1,
            ),
        );
    }
    match dispatch(cli.command, &printer) {
        Ok(code) => code,
        Err(f) => report(&printer, &f),
    }
}

fn dispatch(cmd: Command, p: &Printer) -> Result<i32, Failure> {
    match cmd {
        Command::Init(a) => commands::init::run(a, p),
        Command::Add(a) => commands::add::run(a, p),
        Command::Status(a) => commands::status::run(a, p),
        Command::Commit(a) => commands::commit::run(a, p),
        Command::Checkout(a) => commands::checkout::run(a, p),
        Command::Move(a) => commands::manage::run_move(a, p),
        Command::Remove(a) => commands::manage::run_remove(a, p),
        Command::Unprotect(a) => commands::manage::run_unprotect(a, p),
        Command::Destroy(a) => commands::manage::run_destroy(a, p),
        Command::Root => commands::root::run(p),
        Command::CheckIgnore(a) => commands::check_ignore::run(a, p),
        Command::Cache(a) => commands::cache::run(a, p),
        Command::Config(a) => commands::config::run(a, p),
        Command::Data(a) => commands::data::run(a, p),
        Command::Diff(a) => commands::diff::run(a, p),
        Command::Remote(a) => commands::remote::run(a, p),
        Command::Push(a) => commands::push::run(a, p),
        Command::Fetch(a) => commands::fetch::run(a, p),
        Command::Pull(a) => commands::pull::run(a, p),
        Command::Gc(a) => commands::gc::run(a, p),
        Command::Stage(a) => commands::stage::run(a, p),
        Command::Repro(a) => commands::repro::run(a, p),
        Command::Dag(a) => commands::dag::run(a, p),
        Command::Run(a) => commands::run::run(*a, p),
        Command::Freeze(a) => commands::freeze::run(a, true, p),
        Command::Unfreeze(a) => commands::freeze::run(a, false, p),
        Command::Version => commands::version::run(p),
    }
}
