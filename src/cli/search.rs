//! `memdir search`

use clap::Args;
use memdir::SearchQuery;
use serde::Serialize;

use super::list::FilterArgs;
use super::{CliError, Globals, print_json, report_left_out};
use crate::outln;

/// Search memories
///
/// Full-text search (BM25 with English stemming; title and tags weigh more) over passages:
/// each hit is the best paragraph, list item or section of one memory, with the line where it
/// starts. Hand edits are seen at once, committed or not.
///
/// Examples:
///   memdir search "which port does staging use"
///   memdir search deploy -n 3 --type procedure --json
///   memdir search "staging port" --at 2026-11-20      (what was believed then)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SearchArgs {
    /// What to look for, in plain words
    query: String,
    /// How many memories to return [default: [search] limit in memory.toml, 10]
    #[arg(short = 'n', long = "limit", value_name = "K")]
    limit: Option<usize>,
    /// Passages to return from any one memory, each as its own hit (for long memories such
    /// as imported transcripts, where each turn is a passage)
    #[arg(long, value_name = "N", default_value_t = 1)]
    per_memory: usize,
    #[command(flatten)]
    filter: FilterArgs,
    /// Search what was believed at this point: a commit, a snapshot or tag, or a date (the
    /// last commit at or before it). A filter on the index of every version, not a rebuild
    #[arg(long, value_name = "REV|DATE")]
    at: Option<String>,
}

/// A search hit as `--json` prints it.
#[derive(Serialize)]
struct JsonHit<'a> {
    id: &'a str,
    path: &'a str,
    title: &'a str,
    score: f32,
    snippet: String,
    line: usize,
    line_end: usize,
    #[serde(rename = "type")]
    kind: &'a str,
    tags: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    scope: Option<&'a str>,
    revision: &'a str,
}

/// Returns the passage cut to about 300 characters at a character boundary.
fn snippet(passage: &str) -> String {
    const MAX: usize = 300;
    if passage.len() <= MAX {
        return passage.to_owned();
    }
    let mut end = MAX;
    while !passage.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", passage[..end].trim_end())
}

pub fn cmd_search(g: &Globals, args: SearchArgs) -> Result<(), CliError> {
    if args.limit == Some(0) {
        return Err(CliError::usage("-n must be at least 1"));
    }
    if args.per_memory == 0 {
        return Err(CliError::usage("--per-memory must be at least 1"));
    }
    let mem = g.open()?;
    let query = SearchQuery {
        text: args.query,
        limit: args.limit,
        filter: args.filter.filter(),
        per_memory: Some(args.per_memory),
    };
    let hits = match &args.at {
        Some(at) => {
            let (point, hits) = mem.search_at(&query, at)?;
            if !g.json {
                eprintln!("as of commit {} ({})", &point.commit[..12], point.committed);
            }
            hits
        }
        None => mem.search(&query)?,
    };
    if args.at.is_none() {
        report_left_out(&mem);
    }
    if g.json {
        let out: Vec<JsonHit<'_>> = hits
            .iter()
            .map(|h| JsonHit {
                id: &h.id,
                path: &h.path,
                title: &h.title,
                score: h.score,
                snippet: snippet(&h.passage),
                line: h.line_start,
                line_end: h.line_end,
                kind: &h.kind,
                tags: &h.tags,
                scope: h.scope.as_deref(),
                revision: &h.revision.0,
            })
            .collect();
        return print_json(&out);
    }
    if hits.is_empty() {
        eprintln!("No memory matches.");
    }
    for h in &hits {
        outln!(
            "{:6.2}  {}  {}:{}  {}",
            h.score,
            h.id,
            h.path,
            h.line_start,
            h.title
        );
        for line in snippet(&h.passage).lines().take(4) {
            outln!("        {line}");
        }
    }
    Ok(())
}
