//! `memdir why`

use clap::Args;
use memdir::Timestamp;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Explain whether a memory is used, and why not
///
/// Shows whether search and context use the memory or hold it out (quarantined, expired,
/// superseded), what it supersedes and what supersedes it, when it expires, and who wrote it.
#[derive(Debug, Args)]
pub struct WhyArgs {
    /// The memory's id
    id: String,
}

pub fn cmd_why(g: &Globals, args: WhyArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let why = mem.why(&args.id, Timestamp::now())?;
    if g.json {
        return print_json(&why);
    }
    outln!("{}  {}  {}", why.id, why.path, why.title);
    if why.held_out.is_empty() {
        outln!("  used by search and context");
    }
    for h in &why.held_out {
        let h = serde_json::to_value(h).unwrap_or_default();
        outln!("  held out: {}", h.as_str().unwrap_or_default());
    }
    if let Some(t) = why.expires {
        outln!("  expires: {t}");
    }
    for id in &why.supersedes {
        outln!("  supersedes: {id}");
    }
    for id in &why.superseded_by {
        outln!("  superseded by: {id}");
    }
    for f in &why.quarantine {
        outln!("  quarantined: {}: {} ({:?})", f.rule, f.why, f.excerpt);
    }
    if let Some(who) = why.source.agent.as_deref() {
        outln!("  written by: {who}");
    }
    if let Some(s) = why.source.session.as_deref() {
        outln!("  session: {s}");
    }
    Ok(())
}
