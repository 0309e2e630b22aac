//! `memdir forget`: remove a memory, or with `--purge`, erase it from history too.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use memdir::Purged;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// What every clone must do after a purge; printed before asking and after purging.
const CLONES: &str = "every clone and fork made before still holds the memory: re-clone it, or fetch and `git reset --hard` each branch to its new tip; pushing from an old clone brings the memory back";

/// Forget a memory; with --purge, erase it from all history
///
/// Without --purge, the same as `memdir rm`: the file is deleted in one commit and stays in
/// git history.
///
/// With --purge (the right to be forgotten), memdir rewrites history so that no commit,
/// object, reflog entry, tag, git index entry or search-index file still holds the memory,
/// wherever it lay (renamed, moved, copied, quarantined). Every other memory keeps its
/// history: the same messages, authors, dates and trailers, under new commit ids from the
/// first commit that held it on. A tombstone commit (`Memdir-Op: purge`) records that a purge
/// happened, not what. This cannot be undone, and clones and forks must re-sync. Needs the
/// `git` command. Without --yes, it shows what will happen and asks on a terminal; when stdin
/// is not a terminal, it refuses.
///
/// Examples:
///   memdir forget alice-ssn-3f9c2a --reason "asked to be forgotten"
///   memdir forget alice-ssn-3f9c2a --purge
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ForgetArgs {
    /// The memory's id
    id: String,
    /// Why it is removed (a `Memdir-Reason` trailer; not recorded with --purge)
    #[arg(long)]
    reason: Option<String>,
    /// Erase it from all history, not only from the current files
    #[arg(long)]
    purge: bool,
    /// Purge without asking
    #[arg(long, requires = "purge")]
    yes: bool,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_forget(g: &Globals, args: ForgetArgs) -> Result<(), CliError> {
    if !args.purge {
        return super::write::remove(g, &args.id, args.reason.as_deref(), &args.provenance);
    }
    let mem = g.open()?;
    if !args.yes {
        let plan = mem.purge_plan(&args.id)?;
        eprint!("{}", describe(&plan));
        if !std::io::stdin().is_terminal() {
            return Err(CliError::usage(
                "`forget --purge` rewrites history and cannot be undone; stdin is not a terminal to ask on",
            )
            .hint(format!("pass --yes to purge: memdir forget {} --purge --yes", args.id)));
        }
        eprint!("Type the id to purge it, anything else to cancel: ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != plan.id {
            eprintln!("Cancelled; nothing was changed.");
            return Err(CliError::silent());
        }
    }
    let purged = mem.purge(&args.id, &args.provenance.provenance())?;
    if g.json {
        print_json(&purged)?;
    } else {
        outln!(
            "Purged {}: {} version(s) at {} removed from {} commit(s) on {} ref(s); {} objects deleted.",
            purged.id,
            purged.versions,
            purged.purged_paths.join(", "),
            purged.commits_rewritten,
            purged.refs_rewritten.len(),
            purged.objects_removed
        );
        if let Some(t) = &purged.tombstone {
            outln!(
                "The tombstone commit {} records that a purge happened.",
                &t[..t.len().min(12)]
            );
        }
    }
    eprintln!("warning: history was rewritten; {CLONES}.");
    for path in &purged.leftovers {
        eprintln!("warning: {path} still quotes the memory; delete it by hand");
    }
    Ok(())
}

/// Says what a purge will do.
fn describe(plan: &Purged) -> String {
    let list = |items: &[String]| {
        if items.is_empty() {
            "none".to_owned()
        } else {
            items.join(", ")
        }
    };
    format!(
        "This purge erases memory {} from the whole repository:\n\
         - paths it had: {}\n\
         - versions found: {}\n\
         - commits rewritten (new ids; messages, authors and dates kept): {}\n\
         - refs moved: {}\n\
         - files deleted from the working tree: {}\n\
         - then every reflog is emptied and `git gc --prune=now` deletes the old objects.\n\
         A tombstone commit records that a purge happened, not what. This cannot be undone, and {CLONES}.\n",
        plan.id,
        list(&plan.purged_paths),
        plan.versions,
        plan.commits_rewritten,
        list(&plan.refs_rewritten),
        list(&plan.worktree_files),
    )
}
