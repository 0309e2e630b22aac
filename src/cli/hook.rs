//! `memdir hook`: answers a coding agent's hook events with the memories that matter.

use clap::{Args, Subcommand};
use memdir::context::{Context, ContextRequest};
use serde::Serialize;

use super::context::read_prompt;
use super::{CliError, Globals, print_json};

/// Serve a coding agent's hook: read its event on stdin, print what it expects
///
/// Claude Code sends each hook event as JSON on stdin, named by its `hook_event_name`;
/// `memdir hook claude-code` answers two of them with `additionalContext`:
///
///   UserPromptSubmit  before each prompt: the memories that matter for the prompt
///   SessionStart      when a session starts, resumes or is cleared: the pinned memories
///                     and the most recently changed ones (there is no prompt yet); in a
///                     repository of [watch] background_from memories or more (5,000),
///                     it also starts `memdir watch --background` unless a watcher runs
///
/// The context never exceeds --budget. Pinned memories that do not fit are left out, the
/// first ones (MEMORY.md, then by path) kept, and a warning that names the rest goes to the
/// user (`systemMessage`) and to the model (in the context): an agent is never left with
/// nothing. A failure never blocks the prompt: it is reported on stderr with exit code 1,
/// which Claude Code shows and moves on from.
///
/// In .claude/settings.json:
///
///   {"hooks": {
///     "SessionStart": [{"hooks": [
///       {"type": "command", "command": "memdir -C ~/mem hook claude-code --budget 1500"}]}],
///     "UserPromptSubmit": [{"hooks": [
///       {"type": "command", "command": "memdir -C ~/mem hook claude-code --budget 1500"}]}]}}
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct HookArgs {
    #[command(subcommand)]
    agent: Agent,
}

#[derive(Debug, Subcommand)]
enum Agent {
    /// Claude Code's `UserPromptSubmit` and `SessionStart` hooks
    ///
    /// Prints {"hookSpecificOutput": {"hookEventName": EVENT, "additionalContext": ...}},
    /// and "systemMessage" when pinned memories were left out.
    #[command(verbatim_doc_comment)]
    ClaudeCode(ClaudeCodeArgs),
}

#[derive(Debug, Args)]
struct ClaudeCodeArgs {
    /// Most tokens the injected memories may take; pinned ones beyond it are left out, with a
    /// warning [default: [context] budget in memory.toml, 2000]
    #[arg(long, value_name = "TOKENS")]
    budget: Option<usize>,
    /// Only retrieve memories of this scope; pinned ones always come
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// A task (`memdir task start`) whose state goes first [env: MEMDIR_TASK]
    #[arg(long, value_name = "ID", env = "MEMDIR_TASK", hide_env = true)]
    task: Option<String>,
    /// Append which memories went into each prompt to .git/memdir/injections.jsonl
    #[arg(long)]
    log: bool,
}

/// The hook events answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    UserPromptSubmit,
    SessionStart,
}

impl Event {
    /// Returns the event `hook_event_name` names; none is a prompt (as sent by hand).
    fn named(name: Option<&str>) -> Result<Event, CliError> {
        match name {
            None | Some("UserPromptSubmit") => Ok(Event::UserPromptSubmit),
            Some("SessionStart") => Ok(Event::SessionStart),
            Some(other) => Err(CliError::user(format!(
                "the hook event `{other}` is not one memdir answers: it answers UserPromptSubmit and SessionStart"
            ))
            .hint("register `memdir hook claude-code` under one of those in .claude/settings.json")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Event::UserPromptSubmit => "UserPromptSubmit",
            Event::SessionStart => "SessionStart",
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HookOutput {
    /// Shown to the user by Claude Code.
    #[serde(skip_serializing_if = "Option::is_none")]
    system_message: Option<String>,
    hook_specific_output: HookSpecific,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HookSpecific {
    hook_event_name: &'static str,
    additional_context: String,
}

pub fn cmd_hook(g: &Globals, args: HookArgs) -> Result<(), CliError> {
    let Agent::ClaudeCode(a) = args.agent;
    // Exit code 2 would make Claude Code discard the user's prompt: every failure is 1.
    claude_code(g, a).map_err(CliError::non_blocking)
}

fn claude_code(g: &Globals, args: ClaudeCodeArgs) -> Result<(), CliError> {
    let input = read_prompt()?;
    let event = Event::named(input.hook_event_name.as_deref())?;
    let query = match event {
        Event::UserPromptSubmit => input
            .prompt
            .ok_or_else(|| CliError::user("the hook input has no `prompt`"))?,
        // No prompt yet: the library fills the budget with the most recent memories.
        Event::SessionStart => String::new(),
    };
    let mem = g.open()?;
    let context = mem.context_trimmed(&ContextRequest {
        query,
        budget: args.budget.unwrap_or(mem.config().context.budget),
        scope: args.scope,
        format: Default::default(),
        log: args.log.then_some(true),
        session: input.session_id,
        task: args.task,
        explore: None,
    })?;
    print_json(&HookOutput {
        system_message: warning(&context),
        hook_specific_output: HookSpecific {
            hook_event_name: event.name(),
            additional_context: context.text,
        },
    })?;
    if event == Event::SessionStart {
        start_watcher(&mem);
    }
    Ok(())
}

/// At a session's start in a large repository (`[watch] background_from` memories or more),
/// starts a background watcher unless one serves, so that the session's calls skip their look
/// at every file. Never fails the hook: a watcher is only a speed-up.
fn start_watcher(mem: &memdir::Memdir) {
    let from = mem.config().watch.background_from;
    let Ok(count) = mem.memory_count() else {
        return;
    };
    if from == 0 || count < from {
        return;
    }
    let root = mem.root();
    let idle = super::watch::BACKGROUND_IDLE;
    match super::watch::background::start_without_waiting(root, &mem.memdir_dir(), idle) {
        Ok(Some(pid)) => tracing::debug!("started a background watcher (pid {pid})"),
        Ok(None) => tracing::debug!("a watcher serves already"),
        Err(e) => tracing::debug!("cannot start a background watcher: {e}"),
    }
}

/// Returns the warning for the user when pinned memories were left out.
fn warning(context: &Context) -> Option<String> {
    if context.left_out.is_empty() {
        return None;
    }
    let names: Vec<String> = context
        .left_out
        .iter()
        .map(|l| format!("{} ({} tokens)", l.path, l.tokens))
        .collect();
    Some(format!(
        "memdir: {} pinned {} left out, over the hook's budget of {} tokens: {}. Raise --budget in the hook's command, or unpin some.",
        names.len(),
        if names.len() == 1 {
            "memory"
        } else {
            "memories"
        },
        context.budget,
        names.join(", ")
    ))
}
