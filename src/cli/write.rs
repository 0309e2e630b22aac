//! `memdir add`, `memdir update`, `memdir rm`: the writes that take their input from flags.

use clap::Args;
use memdir::{Memdir, NewMemory, Update, Written};

use super::{CliError, Globals, ProvenanceArgs, input, parse_when, print_json};
use crate::outln;

/// Add a memory
///
/// Writes `<type>/<title>.md` (without --title, `<type>/<id>.md`, and the title follows the
/// text) and commits it (`Memdir-Op: add`). Prints the new id: the type, or three words of the
/// title, and six hex digits.
///
/// With --json, `similar` lists the searchable memories the text is a near-duplicate of
/// (`[{id, score}]`, most similar first); the memory is written all the same, and `memdir
/// consolidate` can merge them.
///
/// When a watcher runs in the repository (`memdir watch`, `serve`, `mcp`), it makes the
/// write for this process, with what it has open: the same file, commit and output, in about
/// half the time in a large repository.
///
/// Examples:
///   memdir add "Alice prefers dark mode" --type preference --tag ui --scope user:alice
///   echo "Deploys go out on the release train" | memdir add --title "Releases" --type procedure
///   memdir add "The team ships weekly" --type summary --derived-from deploy-days-3f9c2a
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AddArgs {
    /// The memory text (Markdown) [default: read from stdin]
    text: Option<String>,
    /// One-line title, written into the file [default: none; the title shown is the text's
    /// first heading, else its first line, as the text is now]
    #[arg(long)]
    title: Option<String>,
    /// Memory type: fact, preference, event, procedure, note, summary (see memory.toml) [default: note]
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Tag (can be repeated)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Whose memory this is, e.g. user:alice or agent:support
    #[arg(long)]
    scope: Option<String>,
    /// Always include in context
    #[arg(long)]
    pin: bool,
    /// Stop believing it after this: a date, an RFC 3339 time, `tomorrow`, `in 3 days`, or a
    /// duration from now (90m, 30d, 8w); not a time already past
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<memdir::Timestamp>,
    /// Id of a memory this one replaces; it drops out of search but stays in the repository
    /// and its history (can be repeated)
    #[arg(long, value_name = "ID")]
    supersedes: Vec<String>,
    /// A source this memory was derived from (can be repeated): a memory as ID (recorded at
    /// its revision now) or ID@REV (a context citation), or a session as session:ID or
    /// session:ID#tN. `memdir drift` tells when a source changes after
    #[arg(long, value_name = "ID[@REV]", value_parser = parse_source)]
    derived_from: Vec<memdir::SourceRef>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

/// Reads a `--derived-from` value.
fn parse_source(text: &str) -> Result<memdir::SourceRef, String> {
    memdir::SourceRef::parse(text).map_err(|e| e.to_string())
}

pub fn cmd_add(g: &Globals, args: AddArgs) -> Result<(), CliError> {
    let now = memdir::Timestamp::now();
    if let Some(expires) = args.expires
        && expires <= now
    {
        // A memory born expired would be held out of search and context from its first
        // moment: surely not what was meant.
        return Err(CliError::user(format!(
            "--expires {expires} is already past (it is {now} now): the memory would never be believed"
        ))
        .hint("give a later time (2030-01-01, `in 3 days`, 30d), or leave --expires out"));
    }
    let text = input::text_or_stdin(args.text, "memory text")?;
    let supersedes = args
        .supersedes
        .iter()
        .map(|id| memdir::MemoryId::parse(id))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CliError::user(e.to_string()))?;
    let new = NewMemory {
        text,
        supersedes,
        derived_from: args.derived_from,
        title: args.title,
        kind: args.kind,
        tags: args.tags,
        scope: args.scope,
        pinned: args.pin,
        expires: args.expires,
        ..NewMemory::default()
    };
    let prov = args.provenance.provenance();
    // A running watcher writes it with what it has open; else this process does.
    let written = match Memdir::remember_handed_over(&g.start_dir(), &new, &prov)? {
        Some(written) => written,
        None => g.open()?.remember(new, &prov)?,
    };
    if g.json {
        print_json(&with_status(&written))?;
    } else {
        outln!("{}", written.id);
        report_flags(&written);
        report_similar(&written);
    }
    Ok(())
}

/// Tells on stderr which memories a write is a near-duplicate of.
fn report_similar(w: &Written) {
    for s in &w.similar {
        eprintln!(
            "note: {} is a near-duplicate of {} (similarity {:.2}); `memdir consolidate` can merge them",
            w.id, s.id, s.score
        );
    }
}

/// Returns the write as `--json` prints it: `status` is `quarantined` when the memory is
/// held back for review, and then the guard's `flags` are there even when this write added
/// none.
pub fn with_status(w: &Written) -> serde_json::Value {
    let mut v = serde_json::to_value(w).expect("Written serializes");
    if w.quarantined && v.get("flags").is_none() {
        v["flags"] = serde_json::json!([]);
    }
    v
}

/// Tells on stderr why a write was quarantined.
pub fn report_flags(w: &Written) {
    if !w.quarantined {
        return;
    }
    for f in &w.flags {
        eprintln!("flagged: {}: {} ({:?})", f.rule, f.why, f.excerpt);
    }
    eprintln!(
        "Quarantined {}: held out of search until reviewed (`memdir review`, `memdir approve {}`).",
        w.id, w.id
    );
}

/// Change a memory's fields or body
///
/// Rewrites only the lines of the fields that change (comments, key order and unknown keys
/// stay) and commits (`Memdir-Op: update`). With --expect, refuses (exit code 3) if the memory
/// changed since that revision. A running watcher makes the write, as for `memdir add`.
///
/// Example:
///   memdir update prefers-dark-mode-3f9c2a --add-tag editor --expect 3f9c2a1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct UpdateArgs {
    /// The memory's id
    id: String,
    /// New title
    #[arg(long)]
    title: Option<String>,
    /// New body (Markdown); `-` reads it from stdin
    #[arg(long)]
    body: Option<String>,
    /// Tag to add (can be repeated)
    #[arg(long, value_name = "TAG")]
    add_tag: Vec<String>,
    /// Tag to remove (can be repeated)
    #[arg(long, value_name = "TAG")]
    remove_tag: Vec<String>,
    /// New scope
    #[arg(long)]
    scope: Option<String>,
    /// Pin (true) or unpin (false)
    #[arg(long, value_name = "BOOL")]
    pin: Option<bool>,
    /// New expiry: a date, an RFC 3339 time, `tomorrow`, `in 3 days`, or a duration from now
    /// (90m, 30d, 8w); a time already past retires the memory now
    #[arg(long, value_name = "WHEN", value_parser = parse_when)]
    expires: Option<memdir::Timestamp>,
    /// Only update if the memory is still at this revision (from `show --json`; 4+ hex digits)
    #[arg(long, value_name = "REV")]
    expect: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_update(g: &Globals, args: UpdateArgs) -> Result<(), CliError> {
    let body = match args.body.as_deref() {
        Some("-") => Some(input::stdin("body", None)?),
        other => other.map(str::to_owned),
    };
    let update = Update {
        title: args.title,
        body,
        tags: None,
        add_tags: args.add_tag,
        remove_tags: args.remove_tag,
        scope: args.scope,
        pinned: args.pin,
        expires: args.expires,
        expect: args.expect,
    };
    let prov = args.provenance.provenance();
    let written = match Memdir::update_handed_over(&g.start_dir(), &args.id, &update, &prov)? {
        Some(written) => written,
        None => g.open()?.update(&args.id, update, &prov)?,
    };
    if g.json {
        print_json(&with_status(&written))?;
    } else if written.commit.is_some() {
        let rev = written.revision.as_ref().map_or("", |r| r.short());
        outln!("Updated {} (revision {rev}).", written.id);
        report_flags(&written);
    } else {
        outln!("No change to {}.", written.id);
    }
    Ok(())
}

/// Remove a memory
///
/// Deletes the file and commits (`Memdir-Op: rm`). The memory stays in git history. A running
/// watcher makes the write, as for `memdir add`.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RmArgs {
    /// The memory's id
    id: String,
    /// Why it is removed (recorded as a `Memdir-Reason` trailer)
    #[arg(long)]
    reason: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_rm(g: &Globals, args: RmArgs) -> Result<(), CliError> {
    remove(g, &args.id, args.reason.as_deref(), &args.provenance)
}

/// Removes a memory as one commit and says so: `memdir rm`, and `memdir forget` without
/// `--purge`.
pub fn remove(
    g: &Globals,
    id: &str,
    reason: Option<&str>,
    provenance: &ProvenanceArgs,
) -> Result<(), CliError> {
    let prov = provenance.provenance();
    let written = match Memdir::forget_handed_over(&g.start_dir(), id, reason, &prov)? {
        Some(written) => written,
        None => g.open()?.forget(id, reason, &prov)?,
    };
    if g.json {
        print_json(&with_status(&written))?;
    } else {
        outln!("Removed {} ({}).", written.id, written.path);
    }
    Ok(())
}
