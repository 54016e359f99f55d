//! The `strix` command line: a thin layer over the strix libraries.

mod cli;
mod commands;
mod ui;

fn main() {
    std::process::exit(cli::run());
}
