//! `memdir extract`

use clap::Args;
use memdir::extract::{Extraction, Extractor};
use memdir::transcript::{Format, Transcript};
use memdir::{Author, Provenance};

use super::llm_util::{block_on, client};
use super::{CliError, Globals, input, parse_author, print_json};
use crate::outln;

/// Extract memories from a conversation transcript
///
/// Reads a transcript: `speaker: text` lines (a line without a speaker continues the turn
/// before it), or JSON or JSONL turns as `memdir import` reads them. For each session, the
/// model of `[llm]` in memory.toml is shown the conversation and the memories that matter for
/// it, and answers with operations: add a memory, update one, supersede one, or nothing.
/// Each operation is checked (an update or supersede must name an existing memory, a type
/// must be in memory.toml, a memory already there is not added twice) and only those that
/// pass are written: new memories in one commit, each update in its own, all with
/// `Memdir-Step: extract` and the session in their trailers and, for new memories, in
/// `source:` (with `extractor:` naming the model, and `supersedes:` the memory replaced).
///
/// With no `[llm]` (or with --rules), the rule-based extractor takes only what the person
/// says explicitly: "remember that ...", "I prefer ...", "my X is ...".
///
/// With --json, prints one object per session: `session`, `extractor` (`rules` or
/// `provider:model`), `applied` (each with `op`, `id`, `path`, `revision`, `commit`,
/// `supersedes`, `text`) and `rejected` (each with `op`, `id`, `text`, `reason`).
///
/// Examples:
///   memdir extract chat.txt --session s-42
///   my-agent --dump-session | memdir extract - --json
///   memdir extract chat.jsonl --rules
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExtractArgs {
    /// The transcript file; `-` (or nothing) reads stdin
    file: Option<String>,
    /// File format: auto, json, jsonl, locomo or lines [default: json or jsonl when the text
    /// starts with `{` or `[`, else lines]
    #[arg(long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<Format>,
    /// Use the rule-based extractor even when [llm] is configured
    #[arg(long)]
    rules: bool,
    /// Session id to record [default: the transcript's session ids, else the file stem or
    /// `stdin`; env: MEMDIR_SESSION]
    #[arg(long, value_name = "ID", env = "MEMDIR_SESSION", hide_env = true)]
    session: Option<String>,
    /// Agent name to record [env: MEMDIR_AGENT]
    #[arg(long, env = "MEMDIR_AGENT", hide_env = true)]
    agent: Option<String>,
    /// Commit author as "Name <email>" [default: git config user.name and user.email]
    #[arg(long, value_name = "NAME <EMAIL>", value_parser = parse_author)]
    author: Option<Author>,
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

#[tracing::instrument(skip_all)]
pub fn cmd_extract(g: &Globals, args: ExtractArgs) -> Result<(), CliError> {
    let file = args.file.as_deref().unwrap_or("-");
    let input::Named { name, stem, text } = input::file_or_stdin(
        file,
        "transcript",
        "give the path of a transcript file, or pipe one on stdin",
    )?;
    let format = args.format.unwrap_or_else(|| {
        if text.trim_start().starts_with(['{', '[']) {
            Format::Auto
        } else {
            Format::Lines
        }
    });
    let transcript = Transcript::parse(&name, &text, format, &stem).map_err(|e| {
        CliError::from(memdir::Error::from(e))
            .hint("`memdir extract --help` describes the formats; name one with --format")
    })?;
    let mem = g.open()?;
    let llm = if args.rules { None } else { client(&mem)? };
    let extractor = match &llm {
        Some(client) => Extractor::Llm(client),
        None => Extractor::Rules,
    };
    if matches!(extractor, Extractor::Rules) && !g.json {
        let why = if args.rules {
            "as --rules asks"
        } else {
            "no [llm] in memory.toml"
        };
        outln!(
            "Using the rule-based extractor ({why}): only \"remember that ...\", \"I prefer ...\" and \"my X is ...\" are taken."
        );
    }
    let prov = Provenance {
        agent: args.agent,
        author: args.author,
        ..Provenance::default()
    };
    let mut reports: Vec<Extraction> = Vec::new();
    for session in &transcript.sessions {
        let id = args.session.as_deref().unwrap_or(&session.id);
        let report = block_on(mem.extract(&session.turns, id, extractor, &prov))??;
        if !g.json {
            print_applied(&report)?;
        }
        for x in &report.rejected {
            let about =
                x.id.as_deref()
                    .map(|id| format!(" `{id}`"))
                    .or_else(|| x.text.as_deref().map(|t| format!(" {:?}", first_line(t))))
                    .unwrap_or_default();
            eprintln!("warning: rejected {}{about}: {}", x.op, x.reason);
        }
        if !g.json {
            let n = report.applied.len();
            outln!(
                "Session {}: {n} operation{} applied, {} rejected ({}).",
                report.session,
                if n == 1 { "" } else { "s" },
                report.rejected.len(),
                report.extractor
            );
        }
        reports.push(report);
    }
    if g.json {
        return print_json(&reports);
    }
    Ok(())
}

pub(super) fn print_applied(r: &Extraction) -> Result<(), CliError> {
    for a in &r.applied {
        let what = match &a.supersedes {
            Some(old) => format!("supersede {old} ->"),
            None => a.op.as_str().to_owned(),
        };
        outln!("{what} {}  {}  {}", a.id, a.path, first_line(&a.text));
    }
    Ok(())
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or_default()
}
