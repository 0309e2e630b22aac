//! The MCP server of `memdir mcp`: memory tools and resources for coding agents, over stdio,
//! with the official Rust SDK (rmcp).
//!
//! An adapter only: each tool is one [`Memdir`] call (run on tokio's blocking pool, as git
//! and tantivy block) whose result goes back as JSON text. Writes go through the same guarded
//! write paths as `memdir add` and `memdir update`, carrying the MCP client's name (from its
//! `initialize` request) as the agent in their provenance; a write the guard quarantines is
//! answered with `"status": "quarantined"` and a sentence saying what that means. Tools are
//! in `tools.rs`, resources (`memdir://ID`) in `resources.rs`.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let mem = std::sync::Arc::new(memdir::Memdir::open(std::path::Path::new("/home/me/mem"))?);
//! // Serves until the client closes stdin.
//! memdir::mcp::serve_stdio(memdir::mcp::MemdirServer::new(mem, memdir::Provenance::default())).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;

use rmcp::ServiceExt as _;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, ContentBlock as Content};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler, tool_handler};

use crate::{ErrorKind, Memdir, Provenance, WatchReport};

mod resources;
mod tasks;
mod tools;

/// The MCP server: the repository and the provenance its writes carry.
#[derive(Clone)]
pub struct MemdirServer {
    mem: Arc<Memdir>,
    provenance: Provenance,
    tool_router: ToolRouter<MemdirServer>,
}

impl std::fmt::Debug for MemdirServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemdirServer")
            .field("mem", &self.mem)
            .finish_non_exhaustive()
    }
}

/// Why the MCP server stopped.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The client did not complete the MCP handshake.
    #[error("the MCP client did not complete the handshake")]
    Handshake(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The server's task failed.
    #[error("the MCP server stopped on an error")]
    Stopped(#[source] tokio::task::JoinError),
}

impl MemdirServer {
    /// Returns a server for `mem`. Its writes record `provenance` (session, step, author);
    /// the agent is the connected client's name, or `provenance.agent` if the client gives
    /// none.
    pub fn new(mem: Arc<Memdir>, provenance: Provenance) -> Self {
        MemdirServer {
            mem,
            provenance,
            tool_router: Self::tool_router() + Self::task_router(),
        }
    }

    /// Returns the provenance of a write made in `ctx`'s request.
    fn provenance(&self, ctx: &RequestContext<RoleServer>) -> Provenance {
        let mut prov = self.provenance.clone();
        if let Some(client) = ctx.client_info().filter(|c| !c.name.trim().is_empty()) {
            prov.agent = Some(client.name);
        }
        if prov.agent.is_none() {
            prov.agent = Some("mcp".into());
        }
        prov
    }

    /// Runs a library call on tokio's blocking pool (git and tantivy block).
    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Memdir) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, Failure> {
        let mem = self.mem.clone();
        match tokio::task::spawn_blocking(move || call(&mem)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(Failure::Library(e)),
            Err(e) => Err(Failure::Task(e)),
        }
    }

    /// Like [`MemdirServer::call`], with a failure as the tool's error answer.
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Memdir) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, CallToolResult> {
        self.call(call).await.map_err(|f| f.tool_result())
    }
}

/// A library call that failed.
enum Failure {
    /// The library said why.
    Library(crate::Error),
    /// The call panicked or was cancelled.
    Task(tokio::task::JoinError),
}

impl Failure {
    /// Returns the failure as an error answer the agent reads: `code: message`, then what to
    /// do. (MCP clients show a tool's own error answers to the model; protocol errors they
    /// often hide.)
    fn tool_result(&self) -> CallToolResult {
        CallToolResult::error(vec![Content::text(self.to_string())])
    }

    /// Returns the failure as a protocol error, for requests that are not tool calls.
    fn protocol_error(&self) -> rmcp::ErrorData {
        match self {
            Failure::Library(e) => match e.kind() {
                ErrorKind::NotFound | ErrorKind::InvalidId => {
                    rmcp::ErrorData::resource_not_found(self.to_string(), None)
                }
                ErrorKind::Invalid | ErrorKind::DuplicateId | ErrorKind::Conflict => {
                    rmcp::ErrorData::invalid_params(self.to_string(), None)
                }
                ErrorKind::Busy
                | ErrorKind::Config
                | ErrorKind::NotARepository
                | ErrorKind::Upstream
                | ErrorKind::Internal => rmcp::ErrorData::internal_error(self.to_string(), None),
            },
            Failure::Task(_) => rmcp::ErrorData::internal_error(self.to_string(), None),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = match self {
            Failure::Library(e) => e,
            Failure::Task(e) => return write!(f, "internal: the call's task failed: {e}"),
        };
        write!(f, "{}: {}", e.code(), e.chain())?;
        if let crate::Error::Context(crate::context::ContextError::PinnedOverBudget { .. }) = e {
            return write!(
                f,
                "\nWhat to do: call memory_context again with a larger `budget`, or tell the user the pinned memories outgrew it."
            );
        }
        let hint = match e.kind() {
            ErrorKind::NotFound => {
                "memory_search finds memories by their words; ids come from its results"
            }
            ErrorKind::InvalidId => {
                "ids are lower-case letters, digits, `-`, `_` and `.`, as memory_search returns them"
            }
            ErrorKind::Conflict => {
                "the memory changed since you read it: memory_get it again, check your change still applies, and retry with its revision as expected_revision"
            }
            ErrorKind::DuplicateId => {
                "two files claim this id; a person must fix it (`memdir check`)"
            }
            ErrorKind::Config => "memory.toml is invalid; a person must fix it (`memdir check`)",
            ErrorKind::Busy => {
                "another git process holds the memory's branch; nothing was changed: call the tool again"
            }
            ErrorKind::Upstream => "the model server failed; the message says what it answered",
            ErrorKind::Invalid | ErrorKind::NotARepository | ErrorKind::Internal => {
                return Ok(());
            }
        };
        write!(f, "\nWhat to do: {hint}.")
    }
}

/// Returns a value as a successful tool answer: its JSON as text, and, when it is a JSON
/// object, the same as `structuredContent` (a list is wrapped in an object by its caller).
fn json<T: serde::Serialize>(value: &T) -> CallToolResult {
    match (
        serde_json::to_string_pretty(value),
        serde_json::to_value(value),
    ) {
        (Ok(text), Ok(value)) => {
            let mut result = CallToolResult::success(vec![Content::text(text)]);
            result.structured_content = value.is_object().then_some(value);
            result
        }
        (Err(e), _) | (_, Err(e)) => {
            CallToolResult::error(vec![Content::text(format!("internal: {e}"))])
        }
    }
}

/// What the server tells the client about itself.
const INSTRUCTIONS: &str = "Long-term memory kept as Markdown files in git. Before a task, call memory_context with the task to get what you should know (or memory_search for specific facts). When you learn something durable (a preference, a fact about the project, a procedure that worked), call memory_write with one self-contained statement per memory; correct a memory with memory_update (pass the revision you read as expected_revision) or remove it with memory_forget. Every memory is also a resource, memdir://ID. Writes are checked: a write that looks like an instruction override or contains secrets is quarantined (kept, but out of search) until a person approves it.";

#[tool_handler(router = self.tool_router)]
impl ServerHandler for MemdirServer {
    fn get_info(&self) -> rmcp::model::ServerConfig {
        rmcp::model::ServerConfig::new(
            rmcp::model::ServerCapabilities::builder()
                .enable_tools()
                .enable_resources()
                .enable_resources_list_changed()
                .build(),
        )
        .with_server_info(rmcp::model::Implementation::new(
            "memdir",
            env!("CARGO_PKG_VERSION"),
        ))
        .with_instructions(INSTRUCTIONS)
    }

    async fn list_resources(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        resources::list(self).await
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(resources::templates())
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _ctx: RequestContext<RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        resources::read(self, &request.uri).await.map(Into::into)
    }
}

/// Serves `server` over stdin and stdout until the client closes stdin. Meanwhile the
/// working tree is watched: a hand edit is indexed as it is saved, and the client is sent
/// `notifications/resources/list_changed` each time the memories may have changed (hand
/// edits indexed, and once when the watcher starts, as it catches up with edits made
/// before). The watcher's thread ends with the process.
pub async fn serve_stdio(server: MemdirServer) -> Result<(), McpError> {
    let mem = server.mem.clone();
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Handshake(Box::new(e)))?;
    let peer = running.peer().clone();
    let runtime = tokio::runtime::Handle::current();
    mem.watch_in_background(move |report| {
        let changed = match report {
            WatchReport::Ready | WatchReport::Committed { .. } => true,
            WatchReport::Indexed { paths, .. } => !paths.is_empty(),
            WatchReport::CommitRefused { .. }
            | WatchReport::Failed { .. }
            | WatchReport::Stopped { .. } => false,
        };
        if changed {
            let peer = peer.clone();
            runtime.spawn(async move {
                if let Err(e) = peer.notify_resource_list_changed().await {
                    tracing::debug!("cannot tell the MCP client that memories changed: {e}");
                }
            });
        }
    });
    running.waiting().await.map_err(McpError::Stopped)?;
    Ok(())
}
