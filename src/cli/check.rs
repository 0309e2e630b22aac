//! `memdir check`

use clap::Args;
use serde_json::json;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Validate every memory file
///
/// Parses every memory file, memory.toml and MEMORY.md, and prints `path:line: message` for
/// each problem, every problem of a file (bad front-matter, wrong field types, unknown types,
/// links, binary files). `memdir commit` refuses exactly these problems. Exits with 1 if there
/// is any problem, 0 otherwise.
///
/// A Markdown file without an `id:` is not a problem: its id follows from its path until
/// memdir writes it into the file (`memdir commit` does, and `--fix` here).
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Write an id (and `created:`) into every memory file that has none of its own (new
    /// files, files committed with plain git, copies of another memory's file) and commit
    /// those files (`Memdir-Op: stamp`); then check
    #[arg(long)]
    fix: bool,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_check(g: &Globals, args: CheckArgs) -> Result<(), CliError> {
    let mem = g.open_quiet()?;
    let fixed = if args.fix {
        Some(mem.stamp_ids(&args.provenance.provenance())?)
    } else {
        None
    };
    let problems = mem.check()?;
    if g.json {
        match &fixed {
            Some(f) => print_json(&json!({ "problems": problems, "fixed": f }))?,
            None => print_json(&problems)?,
        }
    } else {
        if let Some(f) = &fixed {
            for s in &f.stamped {
                eprintln!("Stamped {s}.");
            }
            if let Some(c) = &f.commit {
                eprintln!("Committed as {}.", &c[..7]);
            }
        }
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
