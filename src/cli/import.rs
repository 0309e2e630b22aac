//! `memdir import`: a conversation transcript in, one memory per session.

use clap::Args;
use memdir::transcript::{Format, Transcript};
use memdir::{ImportOptions, ImportStatus};

use super::{CliError, Globals, ProvenanceArgs, input, print_json};
use crate::outln;

/// Import a conversation transcript, one memory per session
///
/// Reads a transcript and writes each session as one memory whose body lists the turns,
/// one `- [ID] **Speaker:** text` item per turn (so a search hit's line names one turn),
/// all in one commit (`Memdir-Op: import`). Importing the same file again skips the
/// sessions already there.
///
/// Formats (--format auto tells them apart):
///   jsonl   one turn object per line, with the fields
///             speaker|role|author|name|from       who spoke (required)
///             text|content|message|body           what was said (or a list of text parts)
///             time|timestamp|date|created_at      when (optional)
///             id|turn_id|dia_id                   the turn id [default: t1, t2, ...]
///             session|session_id|conversation_id|thread
///                                                 the session [default: the file stem,
///                                                 or `stdin` for -]
///             caption|blip_caption|image_caption  a shared image (optional)
///   json    an array of such turns, {"turns": [...], "id"?, "date"?}, or
///           {"sessions": [{"id"?, "date"?, "turns": [...]}], "id"?}
///   locomo  LoCoMo's {"sample_id", "conversation": {"session_N": [...], ...}};
///           only the turns are imported
///   lines   plain text, one `speaker: text` line per turn; a line without a
///           speaker continues the turn before it (never guessed: name it)
///
/// Each memory has type event (--type), the tag `transcript` (plus --tag), the speakers
/// and date in its title, the session's time as `created`, and the session id in
/// `source.session` (--session, --agent and --step go in the commit's trailers).
///
/// Examples:
///   memdir import chat.jsonl --tag support --scope user:alice
///   memdir import locomo10.json --format locomo --json
///   my-agent --dump-session | memdir import - --session s-42 --agent my-agent
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// The transcript file; `-` reads stdin
    file: String,
    /// File format: auto, json, jsonl, locomo or lines
    #[arg(long, value_name = "FORMAT", default_value = "auto", value_parser = parse_format)]
    format: Format,
    /// Memory type of the sessions (see memory.toml) [default: event]
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Tag to add to every session, after `transcript` (can be repeated)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Whose memory the sessions are, e.g. user:alice
    #[arg(long)]
    scope: Option<String>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

pub fn cmd_import(g: &Globals, args: ImportArgs) -> Result<(), CliError> {
    let input::Named {
        name,
        stem: default_session,
        text,
    } = input::file_or_stdin(
        &args.file,
        "transcript",
        "give the path of a JSON or JSONL transcript, or `-` for stdin",
    )?;
    let transcript =
        Transcript::parse(&name, &text, args.format, &default_session).map_err(|e| {
            let hint = match args.format {
                Format::Auto => {
                    "if the format was guessed wrong, name it with --format json, jsonl, locomo or lines"
                }
                _ => "`memdir import --help` describes the formats",
            };
            CliError::from(memdir::Error::from(e)).hint(hint)
        })?;
    let mem = g.open()?;
    let options = ImportOptions {
        kind: args.kind,
        tags: args.tags,
        scope: args.scope,
    };
    let report = mem.import(&transcript, &options, &args.provenance.provenance())?;
    if g.json {
        return print_json(&report);
    }
    for r in &report {
        outln!(
            "{} {}  {}  ({} turn{})",
            r.status,
            r.id,
            r.path,
            r.turns,
            plural(r.turns)
        );
    }
    let count = |status| report.iter().filter(move |r| r.status == status);
    let added = count(ImportStatus::Added).count();
    let turns: usize = count(ImportStatus::Added).map(|r| r.turns).sum();
    let skipped = count(ImportStatus::Skipped).count();
    let mut summary = format!(
        "Imported {added} session{} ({turns} turn{}) from {name}",
        plural(added),
        plural(turns)
    );
    if skipped > 0 {
        summary.push_str(&format!("; skipped {skipped} already imported",));
    }
    outln!("{summary}.");
    Ok(())
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
