//! `memdir commit`

use clap::Args;
use serde_json::json;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Commit hand edits
///
/// Records every uncommitted change in the repository as one commit with `Memdir-Op:
/// hand-edit` and a `Memdir-Id` trailer per memory touched. Refuses, changing nothing, if an
/// edited memory file or memory.toml is invalid.
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
    let commit = mem.commit_hand_edits(args.message.as_deref(), &args.provenance.provenance())?;
    if g.json {
        return print_json(&json!({ "commit": commit }));
    }
    match commit {
        Some(c) => outln!("Committed hand edits as {}.", &c[..7]),
        None => outln!("Nothing to commit."),
    }
    Ok(())
}
