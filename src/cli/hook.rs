//! `memdir hook`

use clap::{Args, Subcommand};
use memdir::context::ContextRequest;
use serde::Serialize;

use super::context::read_prompt;
use super::{CliError, Globals, print_json};

/// Serve a coding agent's hook: read its event on stdin, print what it expects
///
/// Claude Code, in `.claude/settings.json`:
///
///   {"hooks": {"UserPromptSubmit": [{"hooks": [
///     {"type": "command", "command": "memdir -C ~/mem hook claude-code --budget 1500"}]}]}}
///
/// Before each prompt, Claude Code sends the prompt as JSON on stdin; memdir answers with the
/// memories that matter for it as `additionalContext`. A failure never blocks the prompt: it
/// is reported on stderr with exit code 1, which Claude Code shows and moves on from.
#[derive(Debug, Args)]
pub struct HookArgs {
    #[command(subcommand)]
    agent: Agent,
}

#[derive(Debug, Subcommand)]
enum Agent {
    /// Claude Code's `UserPromptSubmit` hook: prints
    /// `{"hookSpecificOutput": {"hookEventName": "UserPromptSubmit", "additionalContext": ...}}`
    ClaudeCode(ClaudeCodeArgs),
}

#[derive(Debug, Args)]
struct ClaudeCodeArgs {
    /// Most tokens the injected memories may take
    #[arg(long, value_name = "TOKENS", default_value_t = 2000)]
    budget: usize,
    /// Only retrieve memories of this scope; pinned ones always come
    #[arg(long, value_name = "SCOPE")]
    scope: Option<String>,
    /// Append which memories went into each prompt to .git/memdir/injections.jsonl
    #[arg(long)]
    log: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HookOutput {
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
    let prompt = input
        .prompt
        .ok_or_else(|| CliError::user("the hook input has no `prompt`"))?;
    let mem = g.open()?;
    let context = mem.context(&ContextRequest {
        query: prompt,
        budget: args.budget,
        scope: args.scope,
        format: Default::default(),
        log: args.log.then_some(true),
        session: input.session_id,
    })?;
    print_json(&HookOutput {
        hook_specific_output: HookSpecific {
            hook_event_name: "UserPromptSubmit",
            additional_context: context.text,
        },
    })
}
