//! `memdir quickstart`: the library's tour (`memdir::quickstart`), printed, then `git log`.

use std::path::PathBuf;

use clap::Args;
use memdir::quickstart::tour;

use super::{CliError, Globals};
use crate::outln;

/// Take the tour: create a repository, remember, edit by hand, search, build a context
///
/// Creates a memory repository in DIR, writes a few memories as an agent would, makes a hand
/// edit as a person would, searches, refuses a stale write, builds the token-budgeted context
/// a stateless model call would get (with `[id@revision]` citations), and prints the git
/// history. No server, no API key.
///
/// Examples:
///   memdir quickstart
///   memdir quickstart /tmp/tour && cd /tmp/tour && git log
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct QuickstartArgs {
    /// Where to create the repository [default: a new temporary folder, removed at the end]
    dir: Option<PathBuf>,
}

pub fn cmd_quickstart(_g: &Globals, args: QuickstartArgs) -> Result<(), CliError> {
    let temp = tempfile::tempdir()
        .map_err(|e| CliError::user(format!("cannot create a temporary folder: {e}")))?;
    let dir = args.dir.unwrap_or_else(|| temp.path().join("memory"));
    let tour = tour(&dir)?;
    outln!("{tour}");

    // git tells the story, no memdir needed.
    outln!(
        "# git log --format='%h %s' (run it in {}):",
        tour.root.display()
    );
    let log = std::process::Command::new("git")
        .args([
            "log",
            "--format=%h %s%n%(trailers:key=Memdir-Op,key=Memdir-Agent,separator=%x2C )",
        ])
        .current_dir(&tour.root)
        .output();
    match log {
        Ok(out) => outln!("{}", String::from_utf8_lossy(&out.stdout).trim_end()),
        Err(_) => outln!("  (git is not installed; the history is there all the same)"),
    }
    Ok(())
}
