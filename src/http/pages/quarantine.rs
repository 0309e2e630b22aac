//! `/quarantine`: what the write guard holds back, with why, for a person to review.

use axum::extract::State;
use maud::{Markup, html};

use super::layout::{Section, badge, memory_href, page as frame, when};
use super::{AppState, PageError};

pub(super) async fn page(State(state): State<AppState>) -> Result<Markup, PageError> {
    let held = state.run(|mem| mem.review()).await?;
    let body = html! {
        p.muted.count {
            (held.len()) " held for review. Approve with " code { "memdir approve ID" }
            ", or remove with " code { "memdir reject ID" } "."
        }
        @if !held.is_empty() {
            table.quarantine {
                thead { tr { th { "Memory" } th { "Why" } th { "Written by" } th { "When" } } }
                tbody {
                    @for q in &held {
                        tr {
                            td { a href=(memory_href(&q.id)) { (q.title) } " " (badge("type", &q.kind)) }
                            td {
                                ul {
                                    @for n in &q.flags {
                                        li { code { (n.rule) } ": " (n.why)
                                            @if !n.excerpt.is_empty() { br; span.muted { "“" (n.excerpt) "”" } } }
                                    }
                                }
                            }
                            td {
                                (q.source.agent.as_deref().unwrap_or("—"))
                                @if let Some(s) = &q.source.session { br; span.muted { "session " code { (s) } } }
                            }
                            td { (when(q.created.as_ref())) }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(Section::Quarantine, "Quarantine", body))
}
