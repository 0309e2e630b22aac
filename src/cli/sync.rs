//! `memdir sync`, `memdir clone` and `memdir merge-file`: memory that travels between clones.

use std::path::PathBuf;

use clap::Args;
use memdir::{FileMerged, Memdir};

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Fetch, merge and push memories through a git remote
///
/// Fetches REMOTE's branch, merges it with memdir's memory-aware merge, and pushes the result
/// (never with force). When another clone pushed meanwhile, it fetches and merges again.
/// Safe to run as often as wanted, also from agents running unattended.
///
/// How memories merge:
///   - changed on one side: that side's version
///   - changed on both: front-matter key by key (tags and supersedes as sets, updated the
///     later), the body line by line
///   - changes that contradict: ours stays, theirs is kept beside it as a quarantined
///     conflict sibling (`conflict_of: ID`) for `memdir review`, then `approve` or `reject`
///   - edited on one side, removed on the other: the edit wins
///   - the same id added on both: both kept, theirs renamed
///   - every memory that arrives passes the write guard, as a local write does
///
/// The merge is one commit with `Memdir-Op: sync` and `Memdir-Remote: REMOTE`. Fetch and
/// push run your `git`, so its URLs, ssh config and credential helpers apply; git never
/// prompts (GIT_TERMINAL_PROMPT=0).
///
/// Examples:
///   memdir sync
///   memdir sync backup --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SyncArgs {
    /// The remote to sync with [default: the branch's upstream, else origin]
    remote: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_sync(g: &Globals, args: SyncArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let synced = mem.sync(args.remote.as_deref(), &args.provenance.provenance())?;
    if g.json {
        return print_json(&synced);
    }
    let plural = |n: usize| if n == 1 { "memory" } else { "memories" };
    outln!(
        "Synced with {}/{}: {} {} received, {} sent, {} merged, {} in conflict.",
        synced.remote,
        synced.branch,
        synced.received.len(),
        plural(synced.received.len()),
        synced.sent.len(),
        synced.merged.len(),
        synced.conflicts.len()
    );
    for c in &synced.conflicts {
        match (&c.sibling, &c.id) {
            (Some(sibling), Some(id)) => outln!(
                "  conflict: {id} ({}): the other version is {sibling}; `memdir approve {sibling}` takes it, `memdir reject {sibling}` drops it",
                c.what.join(", ")
            ),
            _ => outln!("  conflict: {}: this side's version was kept", c.path),
        }
    }
    for p in &synced.quarantined {
        outln!("  quarantined on arrival: {p} (see `memdir review`)");
    }
    for p in &synced.kept_edits {
        outln!("  edited on one side, removed on the other: {p} kept");
    }
    for r in &synced.renamed {
        outln!(
            "  added on both sides as {}: theirs is now {}",
            r.from,
            r.id
        );
    }
    Ok(())
}

/// Clone a memory repository and make it ready to use
///
/// Runs `git clone URL DIR`, registers memdir's merge driver in the clone's `.git/config` (so
/// plain `git pull` merges memories too) and builds the search index. DIR defaults to the
/// last part of URL without `.git`. An empty remote gets a new memory repository, which the
/// first `memdir sync` pushes.
///
/// Examples:
///   memdir clone git@github.com:me/memory.git ~/memory
///   memdir clone /srv/git/memory.git
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CloneArgs {
    /// Any URL or path `git clone` takes
    url: String,
    /// The folder to clone into (must not exist, or be empty)
    dir: Option<PathBuf>,
}

pub fn cmd_clone(g: &Globals, args: CloneArgs) -> Result<(), CliError> {
    let dir = match args.dir {
        Some(d) => d,
        None => {
            let name = args
                .url
                .trim_end_matches('/')
                .rsplit(['/', ':'])
                .next()
                .unwrap_or("memory");
            PathBuf::from(name.strip_suffix(".git").unwrap_or(name))
        }
    };
    let mem = Memdir::clone_from(&args.url, &dir)?;
    super::report_problems(&mem);
    let status = mem.status()?;
    if g.json {
        return print_json(&serde_json::json!({
            "root": mem.root(),
            "memories": status.memories,
            "head": status.head,
        }));
    }
    outln!(
        "Cloned {} into {} ({} memories indexed).",
        args.url,
        mem.root().display(),
        status.memories
    );
    Ok(())
}

/// Merge one memory file for git (the merge driver; git runs it, not people)
///
/// `memdir init` and `memdir clone` register it in .git/config as
/// `memdir merge-file %O %A %B %P`, and `.gitattributes` routes `*.md` files to it, so
/// `git pull` and `git merge` merge memories as `memdir sync` does. The result goes to OURS.
/// When a memory's changes contradict, OURS is kept and THEIRS is written beside it as a
/// quarantined conflict sibling (untracked: `memdir commit` commits it). Exits 1, leaving
/// conflict markers, only for a file that is not a memory.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct MergeFileArgs {
    /// The common version (git's %O)
    base: PathBuf,
    /// Our version, where the result goes (git's %A)
    ours: PathBuf,
    /// Their version (git's %B)
    theirs: PathBuf,
    /// The file's path in the repository (git's %P)
    path: String,
}

pub fn cmd_merge_file(_g: &Globals, args: MergeFileArgs) -> Result<(), CliError> {
    // git runs merge drivers at the top of the working tree.
    let root = std::env::current_dir()?;
    match memdir::merge_file(&args.base, &args.ours, &args.theirs, &args.path, &root)? {
        FileMerged::Clean => Ok(()),
        FileMerged::Sibling(c) => {
            eprintln!(
                "memdir: {} changed on both sides in ways that contradict; the other version is kept as {} (quarantined: see `memdir review`, then commit it with `memdir commit`).",
                c.path,
                c.sibling_path.unwrap_or_default()
            );
            Ok(())
        }
        FileMerged::Unresolved => Err(CliError::user(format!(
            "{}: both sides changed the same lines; resolve the conflict markers, then `git add` it",
            args.path
        ))),
    }
}
