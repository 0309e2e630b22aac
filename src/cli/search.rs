//! `memdir search`

use clap::Args;
use memdir::SearchQuery;

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
        // The library's hit, the shape MCP and HTTP give too (README, "The hit").
        return print_json(&hits);
    }
    if hits.is_empty() {
        eprintln!("No memory matches.");
    }
    for h in &hits {
        // A memory search would leave out says why, where a filter let it in.
        let status = h
            .status
            .map(|s| format!(" [{}]", s.as_str()))
            .unwrap_or_default();
        outln!(
            "{:6.2}  {}{status}  {}:{}  {}",
            h.score,
            h.id,
            h.path,
            h.line_start,
            h.title
        );
        for line in h.snippet.lines().take(4) {
            outln!("        {line}");
        }
    }
    Ok(())
}
