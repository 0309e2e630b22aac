//! `memdir context`

use clap::{Args, ValueEnum};
use memdir::context::{Context, ContextFormat, ContextRequest};
use serde::Deserialize;

use super::{CliError, Globals, input, print_json, report_left_out};
use crate::outln;

/// Print the memories that matter for a prompt, within a token budget
///
/// Pinned memories come first, always (`MEMORY.md`, then every memory with `pinned: true`); if
/// they alone exceed the budget the command fails and says by how much. The rest of the budget
/// goes to the memories that best match QUERY (search score, type weight and recency, set in
/// `[context]` of memory.toml), near-duplicates folded together. Each memory carries a citation,
/// `[id@revision]`, that names its file and content in git. Tokens are counted with tiktoken
/// (`[context] tokenizer`, o200k_base by default); the output never exceeds --budget.
///
/// With --explore --agent NAME, for an agent sent to explore rather than execute: memories
/// another agent wrote (`source.agent` in their front-matter) are withheld, so NAME does not
/// inherit other agents' conclusions, unless a memory says `shared: true` or its scope is in
/// `[context] shared_scopes`. Memories people wrote (no `source.agent`, or one named `user:...`
/// or `person:...`), NAME's own and pinned memories stay.
///
/// With --json, prints `tokens`, `budget`, `items` (each with `id`, `revision`, `tokens`,
/// `reason`: pinned | retrieved | recent | session | task, `score`, and `drifted` for a
/// memory whose `derived_from:` sources changed since it was written: its text says it is
/// unverified) and `text`, the rendered context; with --explore also `withheld` (how many
/// memories were left out) and `withheld_memories` (each with `id`, `path`, `agent` and
/// `why`).
///
/// Examples:
///   memdir context "fix the flaky deploy test" --budget 1500
///   memdir context "what does Alice prefer" --budget 800 --format xml --log
///   echo '{"prompt": "deploy staging"}' | memdir context --stdin --json
///   memdir context "run the migrations" --task release-42
///   memdir context "why is checkout slow" --explore --agent scout --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ContextArgs {
    /// The task or question the prompt is about (omit with --stdin)
    #[arg(required_unless_present = "stdin", conflicts_with = "stdin")]
    query: Option<String>,
    /// Most tokens the context may take [default: [context] budget in memory.toml, 2000]
    #[arg(long, value_name = "TOKENS")]
    budget: Option<usize>,
    /// Only retrieve memories of this scope (e.g. user:alice); pinned ones always come
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// The session the prompt belongs to: its last turns verbatim and a summary of older ones
    /// go in after the pinned memories (up to half the budget they leave), and it is recorded
    /// in the injection log
    #[arg(long, value_name = "ID", env = "MEMDIR_SESSION", hide_env = true)]
    session: Option<String>,
    /// A task (`memdir task start`) whose state goes first: its goal, the steps done (the
    /// latest that fit in half of what the pinned memories leave), what is next and its
    /// artifacts [env: MEMDIR_TASK]
    #[arg(long, value_name = "ID", env = "MEMDIR_TASK", hide_env = true)]
    task: Option<String>,
    /// How to render the context
    #[arg(long, value_enum, default_value_t = Format::Markdown)]
    format: Format,
    /// Append which memories went into this prompt to .git/memdir/injections.jsonl
    /// [default: [context] log in memory.toml]
    #[arg(long)]
    log: bool,
    /// Read the query from stdin: plain text, or a JSON object with `prompt` (or `query`) and
    /// optionally `session_id` (or `session`), as agent hooks send
    #[arg(long)]
    stdin: bool,
    /// Leave out what other agents concluded: memories whose `source.agent` names an agent
    /// other than --agent, unless shared (needs --agent)
    #[arg(long, requires = "agent")]
    explore: bool,
    /// The agent asking, whose own memories --explore keeps [env: MEMDIR_AGENT]
    #[arg(long, value_name = "NAME", env = "MEMDIR_AGENT", hide_env = true)]
    agent: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Markdown,
    Xml,
    Json,
}

impl From<Format> for ContextFormat {
    fn from(f: Format) -> Self {
        match f {
            Format::Markdown => ContextFormat::Markdown,
            Format::Xml => ContextFormat::Xml,
            Format::Json => ContextFormat::Json,
        }
    }
}

/// What an agent may send on stdin.
#[derive(Debug, Default, Deserialize)]
pub struct PromptInput {
    #[serde(alias = "query")]
    pub prompt: Option<String>,
    #[serde(alias = "session")]
    pub session_id: Option<String>,
    /// The event a Claude Code hook input is for (`UserPromptSubmit`, `SessionStart`).
    pub hook_event_name: Option<String>,
}

/// Reads stdin as a JSON prompt object, or else as plain text.
pub fn read_prompt() -> Result<PromptInput, CliError> {
    let text = input::stdin("prompt", None)?;
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(&text).map_err(|e| {
            CliError::user(format!("stdin is not a valid JSON prompt object: {e}"))
                .hint("send {\"prompt\": \"...\"} or plain text")
        });
    }
    Ok(PromptInput {
        prompt: Some(text.trim().to_owned()),
        ..PromptInput::default()
    })
}

pub fn cmd_context(g: &Globals, args: ContextArgs) -> Result<(), CliError> {
    let (query, session) = if args.stdin {
        let input = read_prompt()?;
        let query = input
            .prompt
            .ok_or_else(|| CliError::user("the JSON on stdin has no `prompt` (or `query`)"))?;
        (query, input.session_id.or(args.session))
    } else {
        (args.query.unwrap_or_default(), args.session)
    };
    let mem = g.open()?;
    let request = ContextRequest {
        query,
        budget: args.budget.unwrap_or(mem.config().context.budget),
        scope: args.scope,
        format: args.format.into(),
        log: args.log.then_some(true),
        session,
        task: args.task,
        explore: args.explore.then_some(args.agent).flatten(),
    };
    let context = mem.context(&request)?;
    report_left_out(&mem);
    if let Some(n @ 1..) = context.withheld
        && !g.json
    {
        eprintln!(
            "note: {n} memor{} other agents wrote {} withheld (--explore); --json lists {}.",
            if n == 1 { "y" } else { "ies" },
            if n == 1 { "is" } else { "are" },
            if n == 1 { "it" } else { "them" }
        );
    }
    print_context(g, &context)
}

/// Prints a context: its JSON report with --json, else its text.
pub fn print_context(g: &Globals, context: &Context) -> Result<(), CliError> {
    if g.json {
        return print_json(context);
    }
    outln!("{}", context.text.trim_end());
    Ok(())
}
