//! The `memdir` command: parses arguments, starts logging, runs the command and turns its
//! error into a message and an exit code. Everything else is in `cli/` and the library.

use std::io::IsTerminal;
use std::process::ExitCode;

mod cli;

fn main() -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MEMDIR_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => err.report(),
    }
}
