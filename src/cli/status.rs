//! `memdir status`

use clap::Args;
use memdir::Status;
use memdir::cost::PinnedLoad;
use serde::Serialize;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Show index freshness, invalid files, uncommitted hand edits and counts
///
/// Lists every memory file left out of search because it is invalid, each time (`--json`:
/// `"invalid": [{"path", "line", "message"}]`).
///
/// Also how many git objects are loose and packed: memdir writes objects loose, and runs
/// `git gc --auto` before a write once they outnumber git's `gc.auto` (6,700 by default).
///
/// Whether a watcher serves the repository (`memdir watch`, `serve` or `mcp`; `--json`:
/// `"watcher": true`, `"watcher_pid": N`): while one does, calls skip their look at every memory file and
/// `memdir add`, `update` and `rm` hand it their writes.
///
/// And what the pinned memories (MEMORY.md and `pinned: true`), which go into every context,
/// take of the default budget (`[context] budget`, 2000 tokens), with a warning on stderr when
/// that is more than `[context] pinned_warn_share` (0.5) of it (`--json`: `"pinned": {"tokens",
/// "budget", "share", "warn_share", "warn", "files"}`).
#[derive(Debug, Args)]
pub struct StatusArgs {}

/// The status, with the pinned memories' load beside it.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    status: &'a Status,
    pinned: &'a PinnedLoad,
}

pub fn cmd_status(g: &Globals, _args: StatusArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let s = mem.status()?;
    let pinned = mem.pinned_load()?;
    if let Some(warning) = pinned.warning() {
        eprintln!("warning: {warning}");
    }
    if g.json {
        return print_json(&Report {
            status: &s,
            pinned: &pinned,
        });
    }
    let short = |c: &Option<String>| {
        c.as_deref()
            .map_or("(none)".to_owned(), |c| c[..c.len().min(7)].to_owned())
    };
    if s.project {
        outln!("Repository: {} (project memory)", s.root.display());
    } else {
        outln!("Repository: {}", s.root.display());
    }
    outln!("HEAD:       {}", short(&s.head));
    outln!(
        "Index:      {} ({} memor{}, {} passage{}, at {})",
        if s.index_fresh { "up to date" } else { "stale" },
        s.memories,
        if s.memories == 1 { "y" } else { "ies" },
        s.passages,
        if s.passages == 1 { "" } else { "s" },
        short(&s.indexed_head)
    );
    let o = &s.git_objects;
    outln!(
        "Git objects: {} loose, {} pack{}{}",
        o.loose,
        o.packs,
        if o.packs == 1 { "" } else { "s" },
        if o.packing_due {
            " (packing is due: the next write starts `git gc --auto`)"
        } else {
            ""
        }
    );
    if s.watcher {
        let pid = s
            .watcher_pid
            .map(|p| format!(", pid {p}"))
            .unwrap_or_default();
        outln!(
            "Watcher:    running{pid} (calls skip their look at every file; add, update and rm hand it their writes; `memdir watch --stop` stops it)"
        );
    } else {
        outln!(
            "Watcher:    none (`memdir watch --background` makes each call in a large repository faster)"
        );
    }
    if pinned.files.is_empty() {
        outln!("Pinned:     none");
    } else {
        outln!(
            "Pinned:     {} tokens in every context, {:.0}% of the default budget of {}",
            pinned.tokens,
            pinned.share * 100.0,
            pinned.budget
        );
    }
    if !s.invalid.is_empty() {
        outln!(
            "Left out of search ({} invalid file{}; `memdir check` says more):",
            s.invalid.len(),
            if s.invalid.len() == 1 { "" } else { "s" }
        );
        for p in &s.invalid {
            outln!("  {p}");
        }
    }
    if s.uncommitted.is_empty() {
        outln!("Working tree clean.");
    } else {
        outln!("Uncommitted hand edits (`memdir commit` records them):");
        for p in &s.uncommitted {
            outln!("  {p}");
        }
    }
    Ok(())
}
