//! `memdir forget`: remove a memory, or with `--purge`, erase it from history too.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;
use memdir::Purged;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// What every clone must do after a purge; printed before asking and after purging.
const CLONES: &str = "every clone and fork made before still holds the memory: re-clone it, or fetch and `git reset --hard` each branch to its new tip; pushing from an old clone brings the memory back";

/// What a git host may still hold after a purged history is pushed.
const HOST: &str = "a git host may keep the old commits as unreachable objects (and in forks and pull requests) until it collects them; ask the host to run its garbage collection, or to purge the cache, when the memory must be gone there too";

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
/// With --push (on a repository that syncs with a remote), the purged history then replaces
/// the remote branch, under a lease: memdir fetches first and refuses, purging nothing, if
/// the remote holds commits this clone has not merged (run `memdir sync` first); and it
/// pushes only if the remote branch is still where that fetch saw it, so a push made there
/// meanwhile is never overwritten (exit code 3: fetch and run it again). Without --push on a
/// repository with a remote, the remote keeps the memory and memdir prints the command that
/// would replace it. Either way other clones must re-clone (a sync from them is refused, as
/// it would bring the memory back), and a git host may keep the old objects for a while.
///
/// Examples:
///   memdir forget alice-ssn-3f9c2a --reason "asked to be forgotten"
///   memdir forget alice-ssn-3f9c2a --purge
///   memdir forget alice-ssn-3f9c2a --purge --push --yes
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
    /// Then replace the remote branch (the one `memdir sync` uses) with the purged history,
    /// under a lease
    #[arg(long, requires = "purge")]
    push: bool,
    /// With --push, the remote to push to [default: the branch's upstream, else origin]
    #[arg(long, requires = "push", value_name = "REMOTE")]
    remote: Option<String>,
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
    let prov = args.provenance.provenance();
    // Asked before purging: the purge rewrites the remote-tracking ref the lease names.
    let push_command = if args.push {
        None
    } else {
        mem.purge_push_command()?
    };
    let (purged, pushed) = if args.push {
        let (purged, pushed) = mem.purge_and_push(&args.id, args.remote.as_deref(), &prov)?;
        (purged, Some(pushed))
    } else {
        (mem.purge(&args.id, &prov)?, None)
    };
    if g.json {
        #[derive(serde::Serialize)]
        struct Report<'a> {
            #[serde(flatten)]
            purged: &'a Purged,
            #[serde(skip_serializing_if = "Option::is_none")]
            pushed: Option<&'a memdir::PurgePushed>,
        }
        print_json(&Report {
            purged: &purged,
            pushed: pushed.as_ref(),
        })?;
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
    match &pushed {
        Some(p) => {
            if !g.json {
                outln!(
                    "Pushed the purged history to {} (branch {}, now {}).",
                    p.remote,
                    p.branch,
                    &p.commit[..12]
                );
            }
            eprintln!("warning: {HOST}.");
        }
        None => {
            if let Some(command) = push_command {
                eprintln!(
                    "warning: the remote still holds the memory; to replace its history with this one (or purge with --push): {command}"
                );
            }
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
