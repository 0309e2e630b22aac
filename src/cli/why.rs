//! `memdir why`

use clap::Args;
use memdir::Timestamp;
use serde::Serialize;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Explain a memory: whether it is used, and how it got here
///
/// Shows whether search and context use the memory or hold it out (quarantined, expired,
/// superseded), what it supersedes and what supersedes it, when it expires; then its
/// provenance from git: the session, agent, step and commit that first wrote it, every later
/// change, and who wrote each line of its body (like `git blame`, but following the memory
/// across renames of its file). A memory derived from others (`derived_from:`) shows the
/// chain of its sources down to the sessions, each marked current, changed, superseded or
/// removed.
///
/// Example:
///   memdir why api-port-3f2a1c --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WhyArgs {
    /// The memory's id
    id: String,
    /// Leave out the line-by-line provenance
    #[arg(long)]
    no_lines: bool,
}

#[derive(Serialize)]
struct JsonWhy {
    #[serde(flatten)]
    why: memdir::Why,
    #[serde(flatten)]
    lineage: memdir::Lineage,
    derived_from: Vec<memdir::Derivation>,
}

pub fn cmd_why(g: &Globals, args: WhyArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let why = mem.why(&args.id, Timestamp::now())?;
    let mut lineage = mem.provenance(&args.id)?;
    if args.no_lines {
        lineage.lines.clear();
    }
    let derived_from = mem.derivation(&args.id, Timestamp::now())?;
    if g.json {
        return print_json(&JsonWhy {
            why,
            lineage,
            derived_from,
        });
    }
    outln!("{}  {}  {}", why.id, why.path, why.title);
    if why.held_out.is_empty() {
        outln!("  used by search and context");
    }
    for h in &why.held_out {
        outln!("  held out: {}", h.as_str());
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
    if let Some(o) = &lineage.origin {
        outln!(
            "  first written: {} in {} (by {})",
            o.date,
            &o.commit[..12],
            super::history::who(o)
        );
    }
    if !derived_from.is_empty() {
        outln!("\nDerived from:");
        print_derivation(&derived_from, 1)?;
    }
    if !lineage.changes.is_empty() {
        outln!("\nChanges, newest first:");
        for c in &lineage.changes {
            super::history::print_change(c)?;
        }
    }
    if !lineage.lines.is_empty() {
        outln!("\nWho wrote each line of the body:");
        for l in &lineage.lines {
            let commit = l.commit.as_deref().map_or("(uncommitted)", |c| &c[..12]);
            let who = match (&l.agent, &l.session) {
                (Some(a), Some(s)) => format!("{a}/{s}"),
                (Some(a), None) => a.clone(),
                (None, Some(s)) => s.clone(),
                (None, None) => l.author.clone().unwrap_or_default(),
            };
            outln!("{commit:12}  {who:20.20}  {:4}  {}", l.line, l.text);
        }
    }
    Ok(())
}

/// Prints a chain of sources as an indented tree, one source a line: the entry, how it
/// stands, and who wrote the version read.
fn print_derivation(steps: &[memdir::Derivation], depth: usize) -> Result<(), CliError> {
    for step in steps {
        let who: Vec<String> = step
            .agent
            .iter()
            .map(|a| format!("by {a}"))
            .chain(step.session.iter().map(|s| format!("in session {s}")))
            .collect();
        let who = if who.is_empty() || step.source.starts_with("session:") {
            String::new()
        } else {
            format!(", {}", who.join(" "))
        };
        outln!(
            "{}{}  ({}{who})",
            "  ".repeat(depth),
            step.source,
            step.state.as_str()
        );
        print_derivation(&step.from, depth + 1)?;
    }
    Ok(())
}
