//! `memdir check`

use clap::Args;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Validate every memory file
///
/// Parses every memory file and memory.toml and prints `path:line: message` for each problem
/// (bad front-matter, wrong field types, unknown types, duplicate ids, links, binary files).
/// Exits with 1 if there is any problem, 0 otherwise.
#[derive(Debug, Args)]
pub struct CheckArgs {}

pub fn cmd_check(g: &Globals, _args: CheckArgs) -> Result<(), CliError> {
    let mem = g.open_quiet()?;
    let problems = mem.check()?;
    if g.json {
        print_json(&problems)?;
    } else {
        for p in &problems {
            outln!("{p}");
        }
        if problems.is_empty() {
            eprintln!("All memory files are valid.");
        } else {
            eprintln!("{} problem(s) found.", problems.len());
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::silent())
    }
}
