//! `memdir session`

use clap::{Args, Subcommand, ValueEnum};
use memdir::extract::Extractor;
use memdir::session::Role;

use super::extract::print_applied;
use super::llm_util::{block_on, client};
use super::{CliError, Globals, ProvenanceArgs, input, print_json};
use crate::outln;

/// Record the turns of a conversation: the short-term tier
///
/// A session is `sessions/<ID>.jsonl`, one turn a line. Appending is cheap (no commit); `end`
/// commits the file. `memdir context --session ID` then gives the last turns verbatim and a
/// summary of older ones, within the budget. Sessions older than `[session] ttl_hours` (24 by
/// default) after their last turn are left out of context.
///
/// Examples:
///   memdir session append s-42 --role user "Book the usual room for Friday"
///   echo "Booked 4B." | memdir session append s-42 --role assistant
///   memdir session show s-42 --json
///   memdir session end s-42
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct SessionArgs {
    #[command(subcommand)]
    command: SessionCommand,
}

#[derive(Debug, Subcommand)]
enum SessionCommand {
    /// Append a turn (from TEXT, or stdin when TEXT is omitted)
    Append(AppendArgs),
    /// Print a session's turns
    Show(ShowArgs),
    /// End a session and commit its file (`Memdir-Op: session-end`)
    End(EndArgs),
}

#[derive(Debug, Args)]
struct AppendArgs {
    /// Session id (letters, digits, `-`, `_`, `.`)
    id: String,
    /// Who said it
    #[arg(long, value_enum)]
    role: RoleArg,
    /// What was said [default: read from stdin]
    text: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum RoleArg {
    User,
    Assistant,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// Session id
    id: String,
}

#[derive(Debug, Args)]
struct EndArgs {
    /// Session id
    id: String,
    /// Also extract memories from the session's turns, as `memdir extract` does (the model of
    /// `[llm]`, else the rule-based extractor), written with `Memdir-Step: extract`
    #[arg(long)]
    extract: bool,
    /// With --extract, use the rule-based extractor even when `[llm]` is configured
    #[arg(long, requires = "extract")]
    rules: bool,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_session(g: &Globals, args: SessionArgs) -> Result<(), CliError> {
    match args.command {
        SessionCommand::Append(a) => append(g, a),
        SessionCommand::Show(a) => show(g, a),
        SessionCommand::End(a) => end(g, a),
    }
}

fn append(g: &Globals, args: AppendArgs) -> Result<(), CliError> {
    let text = match args.text {
        Some(t) => t,
        None => input::stdin("turn", None)?.trim_end().to_owned(),
    };
    let role = match args.role {
        RoleArg::User => Role::User,
        RoleArg::Assistant => Role::Assistant,
    };
    let mem = g.open()?;
    let turn = mem.session_append(&args.id, role, &text)?;
    if g.json {
        return print_json(&turn);
    }
    outln!("{}", turn.turn);
    Ok(())
}

fn show(g: &Globals, args: ShowArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let session = mem.session(&args.id)?;
    if g.json {
        return print_json(&session);
    }
    for t in &session.turns {
        outln!("[{}] {} ({}): {}", t.turn, t.role.as_str(), t.time, t.text);
    }
    if let Some(ended) = &session.ended {
        outln!("(ended {ended})");
    }
    Ok(())
}

fn end(g: &Globals, args: EndArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let prov = args.provenance.provenance();
    let commit = mem.session_end(&args.id, &prov)?;
    let extraction = if args.extract {
        let llm = if args.rules { None } else { client(&mem)? };
        let extractor = match &llm {
            Some(c) => Extractor::Llm(c),
            None => Extractor::Rules,
        };
        if matches!(extractor, Extractor::Rules) && !g.json {
            eprintln!("Using the rule-based extractor: only explicit statements are taken.");
        }
        Some(block_on(mem.extract_session(&args.id, extractor, &prov))??)
    } else {
        None
    };
    if g.json {
        return print_json(&serde_json::json!({
            "id": args.id,
            "commit": commit,
            "extraction": extraction,
        }));
    }
    match commit {
        Some(c) => outln!("Ended session {} in commit {}.", args.id, &c[..7]),
        None => outln!("Session {} was already ended and committed.", args.id),
    }
    if let Some(report) = &extraction {
        print_applied(report)?;
    }
    Ok(())
}
