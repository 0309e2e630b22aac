//! `memdir log`, `diff`, `snapshot`, `snapshots`, `revert` and `restore`: history from git.

use clap::Args;
use memdir::{Change, MemoryDiff};

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Show the history of the memories, or of one memory
///
/// One line per change, newest first: commit, date, op, who (author, agent, session, step)
/// and subject, read from the commit's `Memdir-*` trailers (`op` is `commit` for a plain git
/// commit). With an ID: every change to that memory, found by its content, so hand edits
/// committed with plain git and renames of its file are in it too.
///
/// Examples:
///   memdir log -n 20
///   memdir log api-port-3f2a1c --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LogArgs {
    /// Only the changes to this memory
    id: Option<String>,
    /// At most this many changes (the whole history of a memory is always shown)
    #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = 100)]
    limit: usize,
}

pub fn cmd_log(g: &Globals, args: LogArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let changes = match &args.id {
        Some(id) => mem.log_of(id)?,
        None => mem.log(args.limit)?,
    };
    if g.json {
        return print_json(&changes);
    }
    for c in &changes {
        print_change(c)?;
    }
    Ok(())
}

/// Returns who made a change: the author, then the agent, session and step it names.
pub fn who(c: &Change) -> String {
    let mut who = vec![c.author.clone()];
    for (label, value) in [
        ("agent", &c.agent),
        ("session", &c.session),
        ("step", &c.step),
    ] {
        if let Some(v) = value {
            who.push(format!("{label} {v}"));
        }
    }
    who.join(", ")
}

/// Prints one change on one line (two with a path).
pub fn print_change(c: &Change) -> Result<(), CliError> {
    outln!(
        "{}  {}  {:9}  {}  ({})",
        &c.commit[..12],
        c.date,
        c.op,
        c.subject,
        who(c)
    );
    if let (Some(change), Some(path)) = (c.change, &c.path) {
        match &c.old_path {
            Some(old) => outln!("              {change}: {old} -> {path}"),
            None => outln!("              {change}: {path}"),
        }
    }
    Ok(())
}

/// Show beliefs added, changed and removed between two points
///
/// Compares memories by id and field, not files by line: a memory moved to another file is
/// one change, and each changed front-matter field and the body is named. Points are
/// commits (ids, HEAD~3), snapshots or tags, or dates (the last commit at or before it).
///
/// Examples:
///   memdir diff HEAD~5
///   memdir diff before-migration after-migration --json
///   memdir diff 2026-11-01 2026-11-20
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// The earlier point
    #[arg(value_name = "REV1")]
    from: String,
    /// The later point [default: HEAD]
    #[arg(value_name = "REV2")]
    to: Option<String>,
}

pub fn cmd_diff(g: &Globals, args: DiffArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let diff = mem.diff(&args.from, args.to.as_deref())?;
    if g.json {
        return print_json(&diff);
    }
    outln!("{}..{}", &diff.from[..12], &diff.to[..12]);
    let line = |sign: &str, d: &MemoryDiff| -> Result<(), CliError> {
        match &d.old_path {
            Some(old) => outln!("{sign} {}  {}  ({old} -> {})", d.id, d.title, d.path),
            None => outln!("{sign} {}  {}  ({})", d.id, d.title, d.path),
        }
        Ok(())
    };
    for d in &diff.added {
        line("+", d)?;
    }
    for d in &diff.removed {
        line("-", d)?;
    }
    for d in &diff.changed {
        line("~", d)?;
        for f in &d.fields {
            let show = |v: &serde_json::Value| match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "(none)".into(),
                other => other.to_string(),
            };
            if f.field == "body" {
                outln!("    body:");
                for l in show(&f.old).lines() {
                    outln!("      - {l}");
                }
                for l in show(&f.new).lines() {
                    outln!("      + {l}");
                }
            } else {
                outln!("    {}: {} -> {}", f.field, show(&f.old), show(&f.new));
            }
        }
    }
    if diff.added.is_empty() && diff.removed.is_empty() && diff.changed.is_empty() {
        eprintln!("No belief changed.");
    }
    Ok(())
}

/// Name this point in history
///
/// Makes an annotated git tag on HEAD, so `--at NAME` (show, list, search), `memdir diff NAME`
/// and `memdir restore ID --at NAME` can return to it. Plain `git tag` sees it too.
///
/// Example:
///   memdir snapshot before-migration -m "before moving staging to the new cluster"
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SnapshotArgs {
    /// The name (a git tag name: letters, digits, - _ . /)
    name: String,
    /// A note kept with the snapshot
    #[arg(short = 'm', long = "message")]
    message: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_snapshot(g: &Globals, args: SnapshotArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let tag = mem.snapshot(
        &args.name,
        args.message.as_deref(),
        &args.provenance.provenance(),
    )?;
    if g.json {
        return print_json(&tag);
    }
    outln!("Snapshot {} at commit {}.", tag.name, &tag.commit[..12]);
    Ok(())
}

/// List snapshots (git tags)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SnapshotsArgs {}

pub fn cmd_snapshots(g: &Globals, _args: SnapshotsArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let tags = mem.snapshots()?;
    if g.json {
        return print_json(&tags);
    }
    for t in &tags {
        let note = t.note.as_deref().unwrap_or_default().replace('\n', " ");
        outln!("{}  {}  {}  {}", t.name, &t.commit[..12], t.time, note);
    }
    if tags.is_empty() {
        eprintln!("No snapshots yet: `memdir snapshot NAME` makes one.");
    }
    Ok(())
}

/// Undo a change as a new commit
///
/// Puts every file the commit changed back as it was before it, in one new commit with
/// `Memdir-Op: revert` and `Memdir-Reverts: <full sha>`: nothing is rewritten, and the revert
/// can itself be reverted. Refuses (exit code 3, nothing changed) if those files changed
/// since; then `memdir restore ID --at REV` brings one memory back instead.
///
/// Example (undo a poisoned write):
///   memdir log -n 5
///   memdir revert 1a2b3c4d5e6f
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RevertArgs {
    /// The commit to undo (an id, a prefix, HEAD~2)
    commit: String,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_revert(g: &Globals, args: RevertArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let done = mem.revert(&args.commit, &args.provenance.provenance())?;
    if g.json {
        return print_json(&done);
    }
    outln!(
        "Reverted {} as {}: {}.",
        &done.reverted[..12],
        &done.commit[..12],
        done.paths.join(", ")
    );
    Ok(())
}

/// Bring one memory back as it was
///
/// Writes the memory's file byte for byte as it was at the point given, as one commit with
/// `Memdir-Op: restore` and `Memdir-Restores: <sha>`, at its present path (or where it was,
/// if it has been removed since).
///
/// Example:
///   memdir restore api-port-3f2a1c --at 2026-11-20
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RestoreArgs {
    /// The memory's id
    id: String,
    /// The point to restore from: a commit, a snapshot or tag, or a date
    #[arg(long, value_name = "REV|DATE")]
    at: String,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_restore(g: &Globals, args: RestoreArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let written = mem.restore(&args.id, &args.at, &args.provenance.provenance())?;
    if g.json {
        return print_json(&super::write::with_status(&written));
    }
    match &written.commit {
        Some(c) => outln!(
            "Restored {} ({}) in {}.",
            written.id,
            written.path,
            &c[..12]
        ),
        None => outln!("{} is already as it was at {}.", written.id, args.at),
    }
    Ok(())
}
