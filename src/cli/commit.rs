//! `memdir commit`

use clap::Args;
use serde_json::json;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Commit hand edits
///
/// Records every uncommitted change in the repository as one commit with `Memdir-Op:
/// hand-edit` and a `Memdir-Id` trailer per memory touched.
///
/// Memory files without an id of their own (written by hand, with or without front-matter,
/// also ones committed earlier with plain git) get one written in first, the id they already
/// had from their path, so it survives renames; a copy of a memory file gets a new id, and
/// the original keeps its own. `stamp_ids = false` in memory.toml turns this off.
///
/// Refuses, changing nothing, if a file has a problem `memdir check` reports (invalid
/// front-matter, a symbolic link, a binary file...), or if the change would delete or break
/// memory.toml, MEMORY.md or .gitattributes.
#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Commit subject [default: "hand-edit: <file>" or "hand-edit: N files"]
    #[arg(short, long)]
    message: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_commit(g: &Globals, args: CommitArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let done = mem.commit_all(args.message.as_deref(), &args.provenance.provenance())?;
    if g.json {
        return print_json(&json!({ "commit": done.commit, "stamped": done.stamped }));
    }
    for s in &done.stamped {
        eprintln!("Stamped {s}.");
    }
    match done.commit {
        Some(c) => outln!("Committed hand edits as {}.", &c[..7]),
        None => outln!("Nothing to commit."),
    }
    Ok(())
}
