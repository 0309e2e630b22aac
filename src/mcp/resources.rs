//! Memories as MCP resources: `memdir://ID`, one per memory that search would show, read as
//! the Markdown file (front-matter and body).

use rmcp::ErrorData;
use rmcp::model::{
    ListResourceTemplatesResult, ListResourcesResult, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate,
};

use super::MemdirServer;
use crate::index::Filter;

/// The scheme of memory resources.
pub(super) const SCHEME: &str = "memdir://";

const MIME: &str = "text/markdown";

/// Returns the resource URI of a memory.
pub(super) fn uri(id: &str) -> String {
    format!("{SCHEME}{id}")
}

/// Lists every memory that search would show (not held out), sorted by path.
pub(super) async fn list(server: &MemdirServer) -> Result<ListResourcesResult, ErrorData> {
    let memories = server
        .call(|mem| mem.list(&Filter::default()))
        .await
        .map_err(|f| f.protocol_error())?;
    let resources = memories
        .into_iter()
        .map(|m| {
            let mut about = format!("A {} memory", m.kind);
            if !m.tags.is_empty() {
                about.push_str(&format!(" tagged {}", m.tags.join(", ")));
            }
            if let Some(scope) = &m.scope {
                about.push_str(&format!(" (scope {scope})"));
            }
            // Named by title, as a person would pick one from a list; the URI carries the id.
            Resource::new(uri(&m.id), m.title.clone())
                .with_title(m.title)
                .with_description(about)
                .with_mime_type(MIME)
        })
        .collect();
    Ok(ListResourcesResult::with_all_items(resources))
}

/// Returns the one template: any memory by id.
pub(super) fn templates() -> ListResourceTemplatesResult {
    ListResourceTemplatesResult::with_all_items(vec![
        ResourceTemplate::new(format!("{SCHEME}{{id}}"), "memory")
            .with_title("A memory by id")
            .with_description("The memory's Markdown file: front-matter (type, tags, source, revision...) and body")
            .with_mime_type(MIME),
    ])
}

/// Reads `memdir://ID`.
pub(super) async fn read(
    server: &MemdirServer,
    uri: &str,
) -> Result<ReadResourceResult, ErrorData> {
    let Some(id) = uri.strip_prefix(SCHEME) else {
        return Err(ErrorData::invalid_params(
            format!("`{uri}` is not a memory: memory resources are {SCHEME}ID"),
            None,
        ));
    };
    let id = id.to_owned();
    let (_, text) = server
        .call(move |mem| mem.get_text(&id))
        .await
        .map_err(|f| f.protocol_error())?;
    Ok(ReadResourceResult::new(vec![
        ResourceContents::text(text, uri).with_mime_type(MIME),
    ]))
}
