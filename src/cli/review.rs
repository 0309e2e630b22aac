//! `memdir review`, `memdir approve`, `memdir reject`: the human decision on what the write
//! guard held back.

use clap::Args;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// List the memories the write guard quarantined, with the reasons
///
/// A flagged write is committed but held out of search and context until a person decides:
/// `memdir approve ID` lets it in, `memdir reject ID --reason R` removes it (it stays in git
/// history). `memdir show ID` prints the whole file.
///
/// What is held back is the passages that hold the flagged text (`held back: lines ...`;
/// the memory's other passages are searched), or the whole memory when that text cannot be
/// placed in one passage or `[guard] hold = "memory"` is set.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReviewArgs {}

pub fn cmd_review(g: &Globals, _args: ReviewArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let held = mem.review()?;
    if g.json {
        return print_json(&held);
    }
    if held.is_empty() {
        eprintln!("Nothing to review.");
    }
    for q in &held {
        outln!("{}  {}  {}", q.id, q.path, q.title);
        if let Some(who) = q.source.agent.as_deref().or(q.source.session.as_deref()) {
            outln!("    from: {who}");
        }
        for f in &q.flags {
            outln!("    {}: {} ({:?})", f.rule, f.why, f.excerpt);
        }
        if q.whole {
            outln!("    held back: {}", q.held_back());
        } else {
            outln!("    held back: {} (the rest is searched)", q.held_back());
        }
        // The whole text being approved, each line behind a bar.
        for line in q.text.trim().lines() {
            outln!("    | {line}");
        }
    }
    Ok(())
}

/// Approve a quarantined memory so that search and context use it
///
/// Removes the `quarantine:` block from its front-matter as one commit (`Memdir-Op:
/// approve`, `Memdir-Guard` naming the rules), recording who approved it.
///
/// A conflict sibling (written by `memdir sync` when two machines changed a memory in ways
/// that contradict; its front-matter says `conflict_of: ID`) is settled instead: its version
/// replaces the memory ID, keeping that id, and the sibling goes. `memdir reject` drops it
/// and keeps the memory as it is.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ApproveArgs {
    /// The memory's id
    id: String,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_approve(g: &Globals, args: ApproveArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let written = mem.approve(&args.id, &args.provenance.provenance())?;
    if g.json {
        return print_json(&written);
    }
    outln!("Approved {}.", written.id);
    Ok(())
}

/// Reject a quarantined memory: remove it, recording why
///
/// Deletes the file as one commit (`Memdir-Op: reject`, `Memdir-Reason`, `Memdir-Guard`).
/// The memory stays in git history.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RejectArgs {
    /// The memory's id
    id: String,
    /// Why it is rejected (recorded as a `Memdir-Reason` trailer)
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_reject(g: &Globals, args: RejectArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let written = mem.reject(
        &args.id,
        args.reason.as_deref(),
        &args.provenance.provenance(),
    )?;
    if g.json {
        return print_json(&written);
    }
    outln!("Rejected {} ({}).", written.id, written.path);
    Ok(())
}
