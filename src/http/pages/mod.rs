//! The inspection pages at `/`: server-rendered HTML (maud escapes every value), readable
//! without JavaScript, for a person to see what an agent believes and why. One file per
//! page: the memories (`list.rs`), one memory with its provenance timeline (`memory.rs`),
//! the quarantine with its review forms (`quarantine.rs`), the diff between two snapshots
//! (`diff.rs`) and what re-injecting context costs (`cost.rs`);
//! `layout.rs` is the frame and `markdown.rs` renders bodies safely.
//!
//! Every page is sent with a Content-Security-Policy that allows no script at all, so even a
//! memory that slipped markup past the renderer could not run code.

use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::html;

use super::AppState;
use super::error::ApiError;

mod activity;
mod commit;
mod cost;
mod diff;
mod layout;
mod list;
mod markdown;
mod memory;
mod quarantine;

pub(super) use quarantine::ask_for_reviewer;

/// No scripts, no plugins, no framing; styles and images from this server (images in
/// memories may also come over https).
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self' https:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// Returns the pages' routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(list::page))
        .route("/memories/{id}", get(memory::page))
        .route("/raw/{revision}", get(memory::raw))
        .route("/quarantine", get(quarantine::page))
        .route("/quarantine/{id}/approve", post(quarantine::approve))
        .route("/quarantine/{id}/reject", post(quarantine::reject))
        .route("/diff", get(diff::page))
        .route("/commit/{sha}", get(commit::page))
        .route("/activity", get(activity::page))
        .route("/cost", get(cost::page))
        .route(
            "/style.css",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
                    layout::STYLE,
                )
            }),
        )
        .layer(axum::middleware::map_response(secure))
}

async fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // Not `no-referrer`: under it a browser sends `Origin: null` with the pages' own
        // forms, which then look like another site's (see `auth.rs`).
        HeaderValue::from_static("same-origin"),
    );
    response
}

/// A failure shown as a page: the same message and hint as the API's, in HTML.
pub(super) struct PageError(ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl From<crate::Error> for PageError {
    fn from(e: crate::Error) -> Self {
        PageError(e.into())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status: StatusCode = e.status();
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::BAD_REQUEST => "Bad request",
            _ => "Something went wrong",
        };
        let body = html! {
            div.notice {
                p { (e.message()) }
                @if let Some(hint) = e.hint() { p.muted { (hint) } }
            }
            p { a href="/" { "Back to the memories" } }
        };
        (status, layout::page(layout::Section::Memories, title, body)).into_response()
    }
}
