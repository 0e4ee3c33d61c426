//! `iocmatch`: the command-line tool.

mod args;
mod commands;
mod html;
mod output;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    restore_sigpipe();
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

/// Die quietly of SIGPIPE when the reader of stdout goes away (`iocmatch export … | head`),
/// as command-line tools do, instead of failing every later write (Rust ignores SIGPIPE).
fn restore_sigpipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any thread exists; SIG_DFL is a valid handler.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
