//! `memdir watch`, and the same watch behind the servers (`memdir serve`, `memdir mcp`).

use std::io::Write as _;
use std::ops::ControlFlow;
use std::time::Duration;

use clap::Args;
use memdir::watch::Timing;
use memdir::{WatchOptions, WatchReport};

use super::{CliError, Globals, ProvenanceArgs};

/// Keep the search index up to date with hand edits as they are saved
///
/// Watches the repository and refreshes the index shortly after each save, so every search
/// sees the edit. With --commit, also commits hand edits as `Memdir-Op: hand-edit` once no
/// file changed for the quiet period. Invalid files are reported (and never committed); the
/// watch goes on until interrupted (Ctrl-C). With --json, prints one JSON object per line:
/// `{"event": "ready" | "indexed" | "committed" | "commit-refused" | "failed", ...}`.
///
/// While it runs, every other memdir call in the repository asks it whether anything changed
/// instead of checking each memory file (.git/memdir/watch.sock), which makes each call in a
/// large repository faster (search at 100,000 memories: about 0.3 s -> 12 ms), and `memdir
/// add`, `update` and `rm` hand it their writes, which it makes with the repository, index
/// and guard it has open (the same file, commit and output as their own writes). Stopping or killing it at any
/// moment is safe: the next call checks the files, and writes, itself.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    /// Commit hand edits after a quiet period
    #[arg(long)]
    commit: bool,
    /// How long no file must change before committing, e.g. 500ms, 2s, 1m [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "commit")]
    quiet: Option<Duration>,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_watch(g: &Globals, args: WatchArgs) -> Result<(), CliError> {
    let mem = g.open_quiet()?;
    let mut timing = Timing::default();
    if let Some(quiet) = args.quiet {
        timing.quiet = quiet;
    }
    let options = WatchOptions {
        commit: args.commit,
        timing,
        provenance: args.provenance.provenance(),
    };
    let mut out_err = None;
    mem.watch(&options, &mut |report| match print(g.json, &report) {
        Ok(()) => ControlFlow::Continue(()),
        Err(e) => {
            out_err = Some(e);
            ControlFlow::Break(())
        }
    })?;
    match out_err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// Prints one report: a JSON line, or sentences (problems on stderr as warnings).
fn print(json: bool, report: &WatchReport) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let line = serde_json::to_string(report).map_err(std::io::Error::other)?;
        writeln!(out, "{line}")?;
        return out.flush();
    }
    match report {
        WatchReport::Ready => writeln!(out, "Watching for changes (Ctrl-C stops).")?,
        WatchReport::Indexed { paths, problems } => {
            if !paths.is_empty() {
                writeln!(out, "Indexed {}.", paths.join(", "))?;
            }
            for p in problems {
                eprintln!("warning: {p}");
            }
        }
        WatchReport::Committed { commit } => {
            writeln!(out, "Committed hand edits as {}.", &commit[..7])?
        }
        WatchReport::CommitRefused { problems } => {
            eprintln!("warning: hand edits not committed; fix these files first:");
            for p in problems {
                eprintln!("warning: {p}");
            }
        }
        WatchReport::Failed { message } => eprintln!("error: {message}"),
    }
    out.flush()
}

/// Parses `500ms`, `2s`, `1m`, as [`memdir::when::parse_duration`] reads them.
fn parse_duration(text: &str) -> Result<Duration, String> {
    memdir::when::parse_duration(text).ok_or_else(|| {
        format!(
            "invalid duration `{text}`: use {}",
            memdir::when::DURATION_FORMS
        )
    })
}
