//! `memdir mcp`

use std::sync::Arc;

use clap::Args;
use memdir::mcp::{MemdirServer, serve_stdio};

use super::{CliError, Globals, ProvenanceArgs};

/// Serve the repository to an AI agent over MCP (stdio)
///
/// Speaks the Model Context Protocol on stdin and stdout until the client closes stdin, so a
/// coding agent can search, read and write memories. Tools: memory_search, memory_context,
/// memory_get, memory_write, memory_update, memory_forget, memory_history; every memory is
/// also a resource, memdir://ID. Writes are commits whose agent is the MCP client's name
/// (else --agent), and pass the write guard like `memdir add`. Hand edits are seen as they
/// are saved, as with `memdir watch`, and the client is told that the memories changed
/// (notifications/resources/list_changed). Logs go to stderr (MEMDIR_LOG=debug for more).
///
/// Claude Code:
///   claude mcp add memdir -- memdir -C ~/mem mcp
///
/// Any client that starts a command (Cursor's .cursor/mcp.json, Claude Desktop...):
///   {"mcpServers": {"memdir": {"command": "memdir", "args": ["-C", "/home/me/mem", "mcp"]}}}
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct McpArgs {
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_mcp(g: &Globals, args: McpArgs) -> Result<(), CliError> {
    let mem = Arc::new(g.open()?);
    let server = MemdirServer::new(mem, args.provenance.provenance());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve_stdio(server)).map_err(|e| {
        CliError::user_error(e)
            .hint("an MCP client starts `memdir mcp` and speaks MCP on its stdin and stdout")
    })
}
