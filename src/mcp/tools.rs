//! The memory tools. Argument names are the contract agents are configured against:
//! `memory_search {query, limit?, type?, tag?, scope?}`, `memory_context {query, budget?,
//! session?, task?, explore?}`, `memory_get {id}`, `memory_write {text, title?, type?, tags?,
//! scope?, derived_from?}`,
//! `memory_update {id, text?, title?, tags?, expected_revision?}`, `memory_forget {id,
//! reason?}`, `memory_history {id}`, `memory_sync {remote?}`. Each argument's doc comment is its description in the
//! tool's JSON schema.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolResult, ContentBlock as Content};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{MemdirServer, json};
use crate::context::ContextRequest;
use crate::index::Filter;
use crate::memory::{MemoryId, Timestamp};
use crate::{NewMemory, SearchQuery, Update, Written};

/// The most hits one search returns.
const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SearchArgs {
    /// What to look for, in plain words (not a regular expression).
    query: String,
    /// Most memories to return, 1 to 100 (default: the repository's setting, 10).
    #[schemars(range(min = 1, max = 100))]
    limit: Option<usize>,
    /// Only memories of this type: fact, preference, event, procedure, note or summary
    /// (unless the repository configures others).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Only memories carrying this tag.
    tag: Option<String>,
    /// Only memories of this scope, such as `user:alice` or `project:api`.
    scope: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ContextArgs {
    /// The task or question you are about to work on, in plain words.
    query: String,
    /// Most tokens the context may take (default: the repository's setting, 2000).
    #[schemars(range(min = 1))]
    budget: Option<usize>,
    /// The current session's id, if the host records sessions with `memdir session`: its
    /// last turns are added.
    session: Option<String>,
    /// The task you are working on, if you record it with task_start: its goal, the steps
    /// done and what is next come first.
    task: Option<String>,
    /// True when you are exploring (looking for ideas or causes afresh) rather than
    /// executing: memories other agents wrote are left out, so you do not inherit their
    /// conclusions, unless shared. Facts people wrote, your own memories and pinned ones stay.
    explore: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IdArgs {
    /// The memory's id, as search results and citations (`[id@revision]`) give it.
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GetArgs {
    /// What to read: a memory's id as search results give it, or any citation that
    /// memory_context renders (`[id@revision]`, `MEMORY.md`, `session:ID`).
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WriteArgs {
    /// The memory: one self-contained statement in Markdown, understandable without this
    /// conversation (name who and what it is about).
    text: String,
    /// A one-line title (default: the text's first line).
    title: Option<String>,
    /// fact, preference, event, procedure, note or summary (default: note).
    #[serde(rename = "type")]
    kind: Option<String>,
    /// Tags, such as the project or topic.
    #[serde(default)]
    tags: Vec<String>,
    /// Whose memory this is, such as `user:alice` or `project:api`.
    scope: Option<String>,
    /// For a summary or conclusion: the memories it rests on, as the citations of
    /// memory_context give them (`id@revision`), or sessions (`session:ID`). If a source
    /// changes later, the memory is marked unverified in context.
    #[serde(default)]
    derived_from: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct UpdateArgs {
    /// The memory's id.
    id: String,
    /// The new text, replacing the old body entirely.
    text: Option<String>,
    /// The new title.
    title: Option<String>,
    /// The new tags, replacing the old ones entirely.
    tags: Option<Vec<String>>,
    /// The revision you read (from memory_get or a search hit): the update is refused if
    /// the memory changed since. Strongly recommended.
    expected_revision: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ForgetArgs {
    /// The memory's id.
    id: String,
    /// Why it is no longer true or useful (kept in the history).
    reason: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SyncArgs {
    /// The git remote to sync with (default: the branch's upstream, else `origin`).
    remote: Option<String>,
}

/// Returns the answer to a call: `ok` made into a result, or the failure's error answer.
fn answer<T>(
    outcome: Result<T, CallToolResult>,
    ok: impl FnOnce(T) -> CallToolResult,
) -> CallToolResult {
    outcome.map_or_else(|failure| failure, ok)
}

/// Returns a write's answer: the write as JSON, and, when the guard quarantined it, a
/// sentence saying so.
fn written(w: &Written) -> CallToolResult {
    let mut result = json(w);
    if w.quarantined {
        let rules: Vec<&str> = w.flags.iter().map(|f| f.rule.as_str()).collect();
        result.content.push(Content::text(format!(
            "QUARANTINED: the write guard held this memory back ({}). It is stored, but search and context leave it out until a person approves it (`memdir approve {}`). Do not retry the write; if it was a legitimate memory, tell the user it awaits review.",
            if rules.is_empty() {
                "flagged earlier".to_owned()
            } else {
                rules.join(", ")
            },
            w.id
        )));
    }
    result
}

#[tool_router(router = tool_router, vis = "pub(super)")]
impl MemdirServer {
    /// Search long-term memory for facts, preferences, procedures and past events. Returns
    /// the best-matching passage of each memory (JSON: id, title, type, tags, passage, the
    /// file's lines, revision, score), best first. Use it for specific questions; use
    /// memory_context to prepare for a whole task.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn memory_search(
        &self,
        Parameters(args): Parameters<SearchArgs>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        if args.limit.is_some_and(|l| !(1..=MAX_LIMIT).contains(&l)) {
            return Ok(CallToolResult::error(vec![Content::text(format!(
                "invalid: limit must be between 1 and {MAX_LIMIT}"
            ))]));
        }
        let query = SearchQuery {
            text: args.query,
            limit: args.limit,
            filter: Filter {
                kind: args.kind,
                tags: args.tag.into_iter().collect(),
                scope: args.scope,
                ..Filter::default()
            },
            per_memory: None,
        };
        Ok(answer(
            self.run(move |mem| Ok((mem.search(&query)?, mem.left_out().len())))
                .await,
            |(hits, left_out)| {
                let mut result = json(&hits);
                result.structured_content =
                    Some(serde_json::json!({ "hits": hits, "left_out": left_out }));
                if left_out > 0 {
                    result.content.push(Content::text(format!(
                        "{left_out} file(s) are left out of search because they are invalid; `memdir check` lists them."
                    )));
                }
                result
            },
        ))
    }

    /// Get what you should know before working on a task: pinned memories, then the memories
    /// most relevant to `query`, within a token budget, as Markdown with a citation
    /// `[id@revision]` on each. Call it at the start of a task.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn memory_context(
        &self,
        Parameters(args): Parameters<ContextArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let budget = args.budget.unwrap_or(self.mem.config().context.budget);
        if budget == 0 {
            return Ok(CallToolResult::error(vec![Content::text(
                "invalid: budget must be at least 1 token",
            )]));
        }
        let request = ContextRequest {
            session: args.session,
            task: args.task,
            // The agent exploring is the client, as for its writes.
            explore: if args.explore == Some(true) {
                self.provenance(&ctx).agent
            } else {
                None
            },
            ..ContextRequest::new(args.query, budget)
        };
        Ok(answer(
            self.run(move |mem| mem.context(&request)).await,
            |context| {
                let text = if context.items.is_empty() {
                    "No memory is relevant to this query yet.".to_owned()
                } else {
                    context.text.clone()
                };
                let mut result = CallToolResult::success(vec![Content::text(text)]);
                result.structured_content = serde_json::to_value(&context).ok();
                result
            },
        ))
    }

    /// Read one memory in full: front-matter (type, tags, scope, source, created, updated),
    /// body, path and revision (pass the revision to memory_update as expected_revision), and
    /// `held_out`: why search leaves it out, if it does (quarantined, expired, superseded).
    /// Also reads whatever a memory_context citation names: `MEMORY.md` (its text and
    /// revision) and `session:ID` (the session's turns).
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn memory_get(
        &self,
        Parameters(args): Parameters<GetArgs>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let found = self
            .run(move |mem| crate::context::resolve(mem, &args.id, Timestamp::now()))
            .await;
        Ok(answer(found, |cited| json(&cited)))
    }

    /// Remember something durable: a user preference, a fact about the project, a procedure
    /// that worked, a decision. One self-contained statement per memory. The write is
    /// committed to git with you as its author; secrets are redacted, and text that looks
    /// like an instruction override is quarantined (status "quarantined") until a person
    /// reviews it. Returns the new id and revision.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        open_world_hint = false
    ))]
    async fn memory_write(
        &self,
        Parameters(args): Parameters<WriteArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        let write = move |mem: &crate::Memdir| {
            let derived_from = args
                .derived_from
                .iter()
                .map(|s| crate::memory::SourceRef::parse(s))
                .collect::<Result<Vec<_>, _>>()?;
            let new = NewMemory {
                text: args.text,
                title: args.title,
                kind: args.kind,
                tags: args.tags,
                scope: args.scope,
                derived_from,
                ..NewMemory::default()
            };
            mem.remember(new, &prov)
        };
        Ok(answer(self.run(write).await, |w| written(&w)))
    }

    /// Correct a memory: replace its text, title or tags (fields left out stay). Pass the
    /// revision you read as expected_revision, so a change made since is not overwritten.
    /// Checked by the write guard like memory_write.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn memory_update(
        &self,
        Parameters(args): Parameters<UpdateArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let update = Update {
            body: args.text,
            title: args.title,
            tags: args.tags,
            expect: args.expected_revision,
            ..Update::default()
        };
        let prov = self.provenance(&ctx);
        let id = args.id;
        Ok(answer(
            self.run(move |mem| mem.update(&id, update, &prov)).await,
            |w| written(&w),
        ))
    }

    /// See how a memory got here: every change to it, newest first (JSON: commit, op, the
    /// change to it — added, modified, renamed, removed —, author, date, and the session,
    /// agent and step that made it). Use it to judge whether to trust a memory, or to find
    /// who taught you something.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn memory_history(
        &self,
        Parameters(args): Parameters<IdArgs>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let changes = self
            .run(move |mem| {
                MemoryId::parse(&args.id)?;
                mem.log_of(&args.id)
            })
            .await;
        Ok(answer(changes, |changes| {
            let mut result = json(&changes);
            result.structured_content = Some(serde_json::json!({ "changes": changes }));
            result
        }))
    }

    /// Remove a memory that is wrong or no longer useful. It leaves search and context but
    /// stays in the git history, with the reason.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn memory_forget(
        &self,
        Parameters(args): Parameters<ForgetArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        let forgotten = self
            .run(move |mem| mem.forget(&args.id, args.reason.as_deref(), &prov))
            .await;
        Ok(answer(forgotten, |w| written(&w)))
    }

    /// Share memory with the other machines and agents that sync through the same git
    /// remote: fetch, merge memory by memory, push (never forced; retried when the remote
    /// moved). Returns what was received, sent, merged, in conflict (both versions kept, one
    /// quarantined for a person to settle) and quarantined on arrival. Call it at the start
    /// and end of a session.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = true
    ))]
    async fn memory_sync(
        &self,
        Parameters(args): Parameters<SyncArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        let synced = self
            .run(move |mem| mem.sync(args.remote.as_deref(), &prov))
            .await;
        Ok(answer(synced, |synced| json(&synced)))
    }
}
