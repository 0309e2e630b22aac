//! `/`: the memories, filtered by type, tag and scope, or searched.

use axum::extract::State;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Section, badge, memory_href, page as frame, when};
use super::{AppState, PageError};
use crate::SearchQuery;
use crate::http::api::FilterParams;
use crate::http::error::ApiQuery;
use crate::index::{Hit, Summary};

/// The form's fields.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    /// Words to search for; empty lists instead.
    #[serde(default)]
    q: Option<String>,
    #[serde(flatten)]
    filter: FilterParams,
}

/// What the page shows.
enum Found {
    Listed(Vec<Summary>),
    Searched(Vec<Hit>),
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> Result<Markup, PageError> {
    let filter = params.filter.filter()?;
    let query = params.q.clone().unwrap_or_default();
    let types = state.mem.config().memory.types.clone();
    let found = state
        .run(move |mem| {
            Ok(if query.trim().is_empty() {
                Found::Listed(mem.list(&filter)?)
            } else {
                Found::Searched(mem.search(&SearchQuery {
                    filter,
                    ..SearchQuery::new(query)
                })?)
            })
        })
        .await?;
    let body = html! {
        (form(&params, &types))
        @match &found {
            Found::Listed(memories) => (listed(memories)),
            Found::Searched(hits) => (searched(hits)),
        }
    };
    Ok(frame(Section::Memories, "Memories", body))
}

fn form(params: &Params, types: &[String]) -> Markup {
    let f = &params.filter;
    let kind = f.kind.as_deref().unwrap_or_default();
    html! {
        form.filter method="get" action="/" role="search" {
            label { "Search" input type="search" name="q" value=[params.q.as_deref()] placeholder="words to look for"; }
            label { "Type"
                select name="type" {
                    option value="" { "any" }
                    @for t in types {
                        option value=(t) selected[t == kind] { (t) }
                    }
                }
            }
            label { "Tags" input type="text" name="tag" value=[f.tag.as_deref()] placeholder="a,b"; }
            label { "Scope" input type="text" name="scope" value=[f.scope.as_deref()] placeholder="user:alice"; }
            label.check { input type="checkbox" name="include" value="all" checked[f.include.is_some()]; "held out too" }
            button type="submit" { "Show" }
        }
    }
}

fn listed(memories: &[Summary]) -> Markup {
    html! {
        p.muted.count { (memories.len()) " memories" }
        @if !memories.is_empty() {
            table.memories {
                thead { tr { th { "Title" } th { "Type" } th { "Tags" } th { "Scope" } th { "Updated" } } }
                tbody {
                    @for m in memories {
                        tr {
                            td {
                                a href=(memory_href(&m.id)) { (m.title) }
                                " "
                                @if m.pinned { (badge("pinned", "pinned")) }
                                @if m.quarantined { (badge("quarantined", "quarantined")) }
                            }
                            td { (badge("type", &m.kind)) }
                            td { @for t in &m.tags { (badge("tag", t)) } }
                            td { (m.scope.as_deref().unwrap_or_default()) }
                            td { (when(m.updated.as_ref().or(m.created.as_ref()))) }
                        }
                    }
                }
            }
        }
    }
}

fn searched(hits: &[Hit]) -> Markup {
    html! {
        p.muted.count { (hits.len()) " found" }
        table.hits {
            thead { tr { th { "Memory" } th { "Type" } th { "Lines" } } }
            tbody {
                @for h in hits {
                    tr {
                        td {
                            a href=(memory_href(&h.id)) { (h.title) }
                            p.snippet { (snippet(&h.passage)) }
                        }
                        td { (badge("type", &h.kind)) }
                        td { (h.line_start) "–" (h.line_end) }
                    }
                }
            }
        }
    }
}

/// Returns about the first 300 characters of a passage, cut at a character boundary.
fn snippet(passage: &str) -> String {
    match passage.char_indices().nth(300) {
        Some((end, _)) => format!("{}…", passage[..end].trim_end()),
        None => passage.to_owned(),
    }
}
