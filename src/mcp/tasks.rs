//! The task tools, for agents on multi-step work (see [`crate::task`]): `task_start {id,
//! goal}`, `task_step {id, done, next?, artifacts?}`, `task_show {id}`, `task_end {id,
//! outcome?}`. A step is durable before its call returns; after a crash, `task_show` gives
//! exactly what was acknowledged and what is next.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{RoleServer, tool, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;

use super::{MemdirServer, json};
use crate::task::StepInput;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartArgs {
    /// A new id for the task: 1 to 128 letters, digits, `-`, `_` or `.`.
    id: String,
    /// What the task is for, in one sentence.
    goal: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StepArgs {
    /// The task's id.
    id: String,
    /// What this step did, in one sentence.
    done: String,
    /// What comes next.
    next: Option<String>,
    /// What the step made: files, URLs, ids.
    #[serde(default)]
    artifacts: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ShowArgs {
    /// The task's id.
    id: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EndArgs {
    /// The task's id.
    id: String,
    /// How it ended.
    outcome: Option<String>,
}

#[tool_router(router = task_router, vis = "pub(super)")]
impl MemdirServer {
    /// Start a multi-step task, so that its progress survives a crash or a restart: call
    /// task_step after each step, task_show to resume. Returns the task (JSON: id, goal,
    /// steps, next, artifacts).
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn task_start(
        &self,
        Parameters(args): Parameters<StartArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        Ok(self
            .run(move |mem| mem.task_start(&args.id, &args.goal, &prov))
            .await
            .map_or_else(|failure| failure, |task| json(&task)))
    }

    /// Record a step of a task once it is done: what it did, what comes next, what it made.
    /// The step is on disk when this returns; record each step once.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    async fn task_step(
        &self,
        Parameters(args): Parameters<StepArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        let step = StepInput {
            done: args.done,
            next: args.next,
            artifacts: args.artifacts,
        };
        Ok(self
            .run(move |mem| mem.task_step(&args.id, &step, &prov))
            .await
            .map_or_else(|failure| failure, |step| json(&step)))
    }

    /// Read a task's state: its goal, every step acknowledged, what is next and the
    /// artifacts. Call it when resuming work, so no step is done twice.
    #[tool(annotations(read_only_hint = true, open_world_hint = false))]
    async fn task_show(
        &self,
        Parameters(args): Parameters<ShowArgs>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        Ok(self
            .run(move |mem| mem.task(&args.id))
            .await
            .map_or_else(|failure| failure, |task| json(&task)))
    }

    /// End a task when its work is done or given up, with its outcome; its record (goal,
    /// steps, artifacts) is committed to the memory's history.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    async fn task_end(
        &self,
        Parameters(args): Parameters<EndArgs>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, rmcp::ErrorData> {
        let prov = self.provenance(&ctx);
        Ok(self
            .run(move |mem| {
                mem.task_end(&args.id, args.outcome.as_deref(), &prov)?;
                mem.task(&args.id)
            })
            .await
            .map_or_else(|failure| failure, |task| json(&task)))
    }
}
