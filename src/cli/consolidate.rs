//! `memdir consolidate`

use clap::Args;
use memdir::Consolidation;

use super::llm_util::{block_on, client};
use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Merge groups of near-duplicate memories into one each, losing no fact
///
/// Finds groups of searchable memories of one scope whose texts are near-duplicates (their
/// words overlap by 80% or more, directly or through a chain; the same rule that folds
/// passages in a context and keeps extraction from adding a memory twice), and proposes for
/// each one memory that keeps every fact the group holds. Pinned and quarantined memories
/// are never grouped.
///
/// With no `[llm]` in memory.toml (or with --mechanical) the proposal is mechanical: every
/// distinct sentence of the group in order, every tag, nothing reworded. With a model, its
/// text is checked: if a fact of the originals (a sentence whose numbers, names or most
/// words it lacks) is missing, the proposal is refused, reported, and the mechanical merge
/// stands instead.
///
/// Without --apply, only shows the proposals. With --apply, writes each as one commit
/// (`Memdir-Op: consolidate`) through the write guard, with `derived_from:` naming every
/// original and `supersedes:` replacing them: they leave search and context, and stay in
/// the repository and its history (`memdir revert` undoes a consolidation).
///
/// With --json, prints `groups` (each with `originals` as id@revision, `text`, `type`,
/// `tags`, `scope`, `method` (`mechanical` or `provider:model`), `refused` when a model's
/// text was refused, with the `missing` sentences, and `written` once applied) and
/// `applied`.
///
/// Examples:
///   memdir consolidate
///   memdir consolidate --apply --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ConsolidateArgs {
    /// Write the proposals (default: only show them)
    #[arg(long)]
    apply: bool,
    /// Merge mechanically even when [llm] is configured
    #[arg(long)]
    mechanical: bool,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_consolidate(g: &Globals, args: ConsolidateArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let prov = args.provenance.provenance();
    let llm = if args.mechanical { None } else { client(&mem)? };
    let done = match &llm {
        Some(llm) => block_on(mem.consolidate_with(llm, args.apply, &prov))??,
        None => mem.consolidate(args.apply, &prov)?,
    };
    if g.json {
        return print_json(&done);
    }
    print(&done, llm.is_none() && !args.mechanical)
}

/// Prints the groups and what became of each.
fn print(done: &Consolidation, no_model: bool) -> Result<(), CliError> {
    if done.groups.is_empty() {
        outln!("No near-duplicates to consolidate.");
        return Ok(());
    }
    if no_model {
        outln!(
            "No [llm] in memory.toml: merging mechanically (every distinct sentence kept, nothing reworded)."
        );
    }
    for (i, group) in done.groups.iter().enumerate() {
        outln!(
            "\nGroup {}: {} memories -> one {} ({})",
            i + 1,
            group.originals.len(),
            group.kind,
            group.method
        );
        for original in &group.originals {
            outln!("  {original}");
        }
        if let Some(refused) = &group.refused {
            outln!(
                "  {}'s proposal refused: it drops {} fact{} of the originals:",
                refused.model,
                refused.missing.len(),
                if refused.missing.len() == 1 { "" } else { "s" }
            );
            for m in &refused.missing {
                outln!("    - {m}");
            }
        }
        outln!("  Proposed text:");
        for line in group.text.lines() {
            outln!("    {line}");
        }
        if let Some(skipped) = &group.skipped {
            outln!("  Not written: {skipped}");
        }
        if let Some(w) = &group.written {
            let commit = w.commit.as_deref().map_or("", |c| &c[..c.len().min(7)]);
            outln!(
                "  Wrote {} in {commit}{}, superseding {}.",
                w.id,
                if w.quarantined {
                    " [quarantined: the write guard holds it for review; the originals stay searchable]"
                } else {
                    ""
                },
                group.originals.len()
            );
        }
    }
    if !done.applied {
        outln!(
            "\n{} group{} to consolidate; run `memdir consolidate --apply` to write {}.",
            done.groups.len(),
            if done.groups.len() == 1 { "" } else { "s" },
            if done.groups.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}
