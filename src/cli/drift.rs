//! `memdir drift`

use clap::Args;
use memdir::Timestamp;

use super::{CliError, Globals, print_json};
use crate::outln;

/// List derived memories whose sources changed since they were written
///
/// A memory records what it was derived from in `derived_from:` (`memdir add
/// --derived-from`, extraction, `memdir consolidate`): other memories at the revision read,
/// and sessions. This lists every searchable memory with a source that changed, was
/// superseded or was removed since, and what changed in each source, field by field (as
/// `memdir diff` shows it). The context marks such a memory as unverified; `memdir why ID`
/// shows its whole chain of sources.
///
/// To settle one: check it against its sources, then rewrite it with `memdir update`, or add
/// the corrected one with `memdir add --supersedes ID --derived-from SOURCE ...`.
///
/// Examples:
///   memdir drift
///   memdir drift --json | jq '.[].id'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DriftArgs {}

pub fn cmd_drift(g: &Globals, _args: DriftArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let drifted = mem.drift(Timestamp::now())?;
    if g.json {
        return print_json(&drifted);
    }
    if drifted.is_empty() {
        outln!("No derived memory has a source that changed.");
        return Ok(());
    }
    for d in &drifted {
        outln!("{}  {}  {}", d.id, d.path, d.title);
        for s in &d.sources {
            let now = s
                .now
                .as_deref()
                .map(|n| format!(", now at {n}"))
                .unwrap_or_default();
            let by = if s.superseded_by.is_empty() {
                String::new()
            } else {
                format!(" by {}", s.superseded_by.join(", "))
            };
            outln!("  {}  {}{by}{now}", s.source, s.state.as_str());
            for f in &s.fields {
                outln!("    {}: {} -> {}", f.field, f.old, f.new);
            }
        }
    }
    outln!(
        "{} derived memor{} to check against {} sources.",
        drifted.len(),
        if drifted.len() == 1 { "y" } else { "ies" },
        if drifted.len() == 1 { "its" } else { "their" }
    );
    Ok(())
}
