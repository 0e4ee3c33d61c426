//! `iocmatch`: the command-line tool.

mod args;
mod commands;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let msg = e.to_string();
            eprintln!("iocmatch: error: {}", msg.lines().next().unwrap_or(""));
            ExitCode::FAILURE
        }
    }
}
