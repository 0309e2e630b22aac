//! The OpenAPI description, served at `/v1/openapi.json`. The paths come from the handlers'
//! own `#[utoipa::path]` attributes as `api.rs` registers them; this file adds what is not
//! per route: the title, the tags and the bearer token scheme.

use std::sync::Arc;

use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "memdir",
        description = "An agent's memory as Markdown files in git. Reads are open on a server started without a token (which then only listens on loopback); with a token, every request but /v1/health and /v1/openapi.json carries `Authorization: Bearer TOKEN`. Writes always need the token. Errors are `{\"error\": {\"code\", \"message\", \"hint\"}}`."
    ),
    tags(
        (name = "memories", description = "Read and write memories"),
        (name = "search", description = "Find memories and build prompt contexts"),
        (name = "history", description = "Who changed what, when, and what changed between two points"),
        (name = "tasks", description = "Checkpoints of an agent's multi-step work, durable step by step"),
        (name = "server", description = "The server itself")
    ),
    modifiers(&BearerScheme)
)]
struct ApiDoc;

/// Declares the `bearer` security scheme the write routes name.
struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, doc: &mut Document) {
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
    }
}

/// Returns the description without paths, for the router to fill in.
pub(super) fn base() -> Document {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").into();
    doc
}

/// Returns the route serving `doc`.
pub(super) fn router(doc: Document) -> Router<AppState> {
    let doc = Arc::new(doc);
    Router::new().route(
        "/v1/openapi.json",
        get(move || async move { Json(doc.as_ref().clone()) }),
    )
}
