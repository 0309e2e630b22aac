//! `/quarantine`: what the write guard holds back, with why, for a person to review; and,
//! when the server has a reviewer's token, the forms that approve or reject each memory.
//!
//! The forms post to `/quarantine/{id}/approve` and `/quarantine/{id}/reject`. Only the
//! reviewer's token lets them through: a browser that does not send it is answered 401 with
//! a Basic challenge, so it asks the person for it (any user name, the token as password)
//! and sends the form again. A form posted from another site is refused before it gets here
//! (`auth.rs`), so the credentials a browser remembers cannot be borrowed by another page.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Section, badge, memory_href, page as frame, when};
use super::{AppState, PageError};
use crate::Provenance;
use crate::http::auth::Reviewer;

pub(super) async fn page(State(state): State<AppState>) -> Result<Markup, PageError> {
    let held = state.run(|mem| mem.review()).await?;
    let review_here = state.review_token.is_some();
    let body = html! {
        p.muted.count {
            (held.len()) " held for review. "
            @if review_here {
                "Approve or reject each below (your browser asks for the reviewer's token), or use "
                code { "memdir approve ID" } " and " code { "memdir reject ID" } "."
            } @else {
                "Approve with " code { "memdir approve ID" } ", or remove with "
                code { "memdir reject ID" } ". To review here, start " code { "memdir serve" }
                " with " code { "MEMDIR_REVIEW_TOKEN" } " set."
            }
        }
        @if !held.is_empty() {
            table.quarantine {
                thead { tr {
                    th { "Memory" } th { "Text" } th { "Why" } th { "Written by" } th { "When" }
                    @if review_here { th { "Review" } }
                } }
                tbody {
                    @for q in &held {
                        tr {
                            td { a href=(memory_href(&q.id)) { (q.title) } " " (badge("type", &q.kind)) }
                            // The whole text, as written (escaped, never rendered): what is
                            // being approved.
                            td { pre.held { (q.text) } }
                            td {
                                ul {
                                    @for n in &q.flags {
                                        li { code { (n.rule) } ": " (n.why)
                                            @if !n.excerpt.is_empty() { br; span.muted { "“" (n.excerpt) "”" } } }
                                    }
                                }
                                p.muted { (held_back(q)) }
                            }
                            td {
                                (q.source.agent.as_deref().unwrap_or("—"))
                                @if let Some(s) = &q.source.session { br; span.muted { "session " code { (s) } } }
                            }
                            td { (when(q.created.as_ref())) }
                            @if review_here { td { (review_forms(&q.id)) } }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(Section::Quarantine, "Quarantine", body))
}

/// Says what search and context leave out of a quarantined memory until it is reviewed.
fn held_back(q: &crate::Quarantined) -> String {
    match q.whole {
        true => format!("Held back: {}.", q.held_back()),
        false => format!("Held back: {}; the rest is searched.", q.held_back()),
    }
}

/// The approve and reject forms of one quarantined memory.
fn review_forms(id: &str) -> Markup {
    html! {
        form.review method="post" action={ "/quarantine/" (id) "/approve" } {
            input type="text" name="reviewer" placeholder="your name" aria-label="Your name";
            button type="submit" { "Approve" }
        }
        form.review method="post" action={ "/quarantine/" (id) "/reject" } {
            input type="text" name="reviewer" placeholder="your name" aria-label="Your name";
            input type="text" name="reason" placeholder="why" aria-label="Why it is rejected";
            button.reject type="submit" { "Reject" }
        }
    }
}

/// What a review form sends; blank fields count as not given.
#[derive(Debug, Default, Deserialize)]
pub(super) struct ReviewForm {
    reviewer: Option<String>,
    reason: Option<String>,
}

impl ReviewForm {
    /// The decision's provenance: the reviewer named, else `pages-review`.
    fn provenance(&self) -> Provenance {
        Provenance::agent(given(&self.reviewer).unwrap_or("pages-review"))
    }
}

fn given(field: &Option<String>) -> Option<&str> {
    field.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Lets a quarantined memory in, then shows it.
pub(super) async fn approve(
    State(state): State<AppState>,
    reviewer: Option<Extension<Reviewer>>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ReviewForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = not_a_reviewer(&state, reviewer) {
        return Ok(refused);
    }
    let prov = form.provenance();
    let shown = memory_href(&id);
    state.run(move |mem| mem.approve(&id, &prov)).await?;
    Ok(Redirect::to(&shown).into_response())
}

/// Removes a quarantined memory (it stays in git history), then shows the quarantine.
pub(super) async fn reject(
    State(state): State<AppState>,
    reviewer: Option<Extension<Reviewer>>,
    Path(id): Path<String>,
    axum::Form(form): axum::Form<ReviewForm>,
) -> Result<Response, PageError> {
    if let Some(refused) = not_a_reviewer(&state, reviewer) {
        return Ok(refused);
    }
    let prov = form.provenance();
    let reason = given(&form.reason).map(str::to_owned);
    state
        .run(move |mem| mem.reject(&id, reason.as_deref(), &prov))
        .await?;
    Ok(Redirect::to("/quarantine").into_response())
}

/// Returns the answer to a form sent without the reviewer's token: ask for it, or, when the
/// server has none, say how to review instead.
fn not_a_reviewer(state: &AppState, reviewer: Option<Extension<Reviewer>>) -> Option<Response> {
    if reviewer.is_some() {
        return None;
    }
    if state.review_token.is_some() {
        return Some(ask_for_reviewer());
    }
    let body = html! {
        div.notice {
            p { "This server reviews nothing: it was started without a reviewer's token." }
            p.muted { "Use " code { "memdir approve ID" } " or " code { "memdir reject ID" }
                ", or start " code { "memdir serve" } " with " code { "MEMDIR_REVIEW_TOKEN" } " set." }
        }
        p { a href="/quarantine" { "Back to the quarantine" } }
    };
    let page = frame(Section::Quarantine, "Reviewing is off", body);
    Some((StatusCode::FORBIDDEN, page).into_response())
}

/// Answers a review form sent without the reviewer's token: 401 with a Basic challenge, so
/// the browser asks for it and sends the form again; a page says what happened otherwise.
pub(in crate::http) fn ask_for_reviewer() -> Response {
    let body = html! {
        div.notice {
            p { "Approving or rejecting a quarantined memory needs the reviewer's token." }
            p.muted { "Your browser asks for it: any user name, the token as password. Without it, use "
                code { "memdir approve ID" } " or " code { "memdir reject ID" } "." }
        }
        p { a href="/quarantine" { "Back to the quarantine" } }
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        frame(Section::Quarantine, "The reviewer's token is needed", body),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(r#"Basic realm="memdir review", charset="UTF-8""#),
    );
    response
}
