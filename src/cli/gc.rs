//! `memdir gc`

use clap::Args;
use memdir::Timestamp;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Remove expired memories in one commit
///
/// Deletes every memory past its `expires` (or its type's lifetime in `[memory.ttl]`) as one
/// commit (`Memdir-Op: expire`, a `Memdir-Id` each). Pinned memories never expire. The files
/// stay in git history. `memdir list --expired` shows what would go.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GcArgs {
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_gc(g: &Globals, args: GcArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let removed = mem.gc(Timestamp::now(), &args.provenance.provenance())?;
    if g.json {
        return print_json(&removed);
    }
    if removed.is_empty() {
        outln!("Nothing has expired.");
    }
    for w in &removed {
        outln!("Removed {} ({}).", w.id, w.path);
    }
    Ok(())
}
