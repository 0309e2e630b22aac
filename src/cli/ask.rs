//! `memdir ask`

use clap::Args;
use memdir::context::ContextRequest;

use super::llm_util::{block_on, client};
use super::{CliError, Globals, print_json};
use crate::outln;

/// Answer a question from memory with the configured model
///
/// Builds the context for QUESTION as `memdir context` does (pinned memories first, then the
/// best matches, within --budget tokens), sends it with the question to the model of `[llm]`
/// in memory.toml as one stateless request, and prints the answer, then the citations
/// (`[id@revision]`) of the memories the model was given.
///
/// The API key is read from the environment variable that `[llm] api_key_env` names. A 429 or
/// 5xx answer is retried (`[llm] max_retries`, with backoff); a request fails after `[llm]
/// timeout_secs`.
///
/// With --json, prints `answer`, `citations` (`id@revision`, in context order) and `model`.
///
/// Examples:
///   memdir ask "which port does staging listen on?"
///   memdir ask "what does Alice prefer?" --budget 800 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AskArgs {
    /// The question
    question: String,
    /// Most tokens the memories sent with the question may take
    /// [default: [context] budget in memory.toml, 2000]
    #[arg(long, value_name = "TOKENS")]
    budget: Option<usize>,
    /// Only retrieve memories of this scope (e.g. user:alice); pinned ones always come
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// The session the question belongs to (recorded in the injection log)
    #[arg(long, value_name = "ID", env = "MEMDIR_SESSION", hide_env = true)]
    session: Option<String>,
    /// Append which memories went into the request to .git/memdir/injections.jsonl
    /// [default: [context] log in memory.toml]
    #[arg(long)]
    log: bool,
}

#[tracing::instrument(skip_all)]
pub fn cmd_ask(g: &Globals, args: AskArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let Some(llm) = client(&mem)? else {
        return Err(CliError::user(
            "no model is configured: `memdir ask` needs an [llm] table in memory.toml",
        )
        .hint("memory.toml has a commented example at its end; `memdir context QUESTION` prints what would be sent"));
    };
    let request = ContextRequest {
        scope: args.scope,
        log: args.log.then_some(true),
        session: args.session,
        ..ContextRequest::new(
            args.question,
            args.budget.unwrap_or(mem.config().context.budget),
        )
    };
    let answer = block_on(mem.ask(&llm, &request))??;
    if g.json {
        return print_json(&answer);
    }
    outln!("{}", answer.answer);
    outln!();
    match answer.citations.as_slice() {
        [] => outln!("No memories were given to the model (none matched)."),
        cited => {
            outln!("Memories given to {} ({}):", answer.model, cited.len());
            for c in cited {
                outln!("  [{c}]");
            }
        }
    }
    Ok(())
}
