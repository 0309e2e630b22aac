//! `/memories/{id}`: one memory, its front-matter, its body, why search may leave it out, and
//! its provenance timeline: each commit that changed it, who made it, when, in which session
//! and step.

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::layout::{Section, badge, page as frame, when};
use super::markdown;
use super::{AppState, PageError};
use crate::Change;
use crate::memory::{Memory, Timestamp};

pub(super) async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let (memory, held_out, changes, lines) = state
        .run(move |mem| {
            let crate::MemoryView { memory, held_out } = mem.view(&id, Timestamp::now())?;
            let (changes, lines) = match mem.provenance(&id) {
                Ok(lineage) => (lineage.changes, lineage.lines),
                // A file written by hand and not committed yet has no history.
                Err(crate::Error::NotFound { .. }) => (Vec::new(), Vec::new()),
                Err(e) => return Err(e),
            };
            Ok((memory, held_out, changes, lines))
        })
        .await?;
    let body = html! {
        p.badges {
            (badge("type", &memory.front.kind))
            @if memory.front.pinned { (badge("pinned", "pinned")) }
            @for h in &held_out { (badge(h.as_str(), h.as_str())) }
        }
        p.standing {
            @if held_out.is_empty() {
                "Used by search and context now."
            } @else {
                "Left out of search and context now: "
                (held_out.iter().map(|h| h.as_str()).collect::<Vec<_>>().join(", ")) "."
            }
        }
        @if memory.is_quarantined() { (quarantine_notice(&memory)) }
        (meta(&memory))
        h2 { "Text" }
        article.body { (markdown::render(&memory.body)) }
        p.muted { a href={ "/raw/" (memory.revision) } { "The file at revision " (memory.revision.short()) } " (as git stores it)." }
        h2 { "Who wrote each line" }
        (line_table(&lines))
        h2 { "History" }
        (timeline(&changes))
    };
    Ok(frame(Section::Memories, &memory.front.title, body))
}

fn quarantine_notice(memory: &Memory) -> Markup {
    html! {
        div.notice role="note" {
            strong { "Quarantined by the write guard." }
            " Search and context leave it out until a person runs "
            code { "memdir approve " (memory.front.id) }
            " (or "
            code { "memdir reject " (memory.front.id) }
            ")."
            ul {
                @for n in memory.quarantine() {
                    li { code { (n.rule) } ": " (n.why) @if !n.excerpt.is_empty() { " — “" (n.excerpt) "”" } }
                }
            }
        }
    }
}

fn meta(memory: &Memory) -> Markup {
    let f = &memory.front;
    let s = &f.source;
    html! {
        dl.meta {
            dt { "Id" } dd { code { (f.id) } }
            dt { "File" } dd { code { (memory.path) } }
            dt { "Revision" } dd { code title=(memory.revision) { (memory.revision.short()) } }
            dt { "Tags" } dd { @for t in &f.tags { (badge("tag", t)) } @if f.tags.is_empty() { span.muted { "none" } } }
            @if let Some(scope) = &f.scope { dt { "Scope" } dd { (scope) } }
            dt { "Created" } dd { (when(f.created.as_ref())) }
            dt { "Updated" } dd { (when(f.updated.as_ref())) }
            @if let Some(expires) = &f.expires { dt { "Expires" } dd { (when(Some(expires))) } }
            @if let Some(agent) = &s.agent { dt { "Agent" } dd { (agent) } }
            @if let Some(session) = &s.session { dt { "Session" } dd { code { (session) } } }
            @if let Some(step) = &s.step { dt { "Step" } dd { (step) } }
            @if let Some(reference) = &s.reference { dt { "Reference" } dd { (reference) } }
            @for id in memory.supersedes() { dt { "Replaces" } dd { a href=(super::layout::memory_href(&id)) { (id) } } }
        }
    }
}

/// Returns who wrote each line of the file: what `memdir why` shows.
fn line_table(lines: &[crate::BlameLine]) -> Markup {
    html! {
        @if lines.is_empty() {
            p.muted { "No committed line yet." }
        } @else {
            table.lines {
                thead { tr { th { "Line" } th { "Text" } th { "Written by" } th { "When" } th { "Commit" } } }
                tbody {
                    @for l in lines {
                        tr {
                            td.num { (l.line) }
                            td { code { (l.text) } }
                            td {
                                (l.agent.as_deref().or(l.author.as_deref()).unwrap_or("not committed"))
                                @if let Some(s) = &l.session { br; span.muted { "session " code { (s) } } }
                            }
                            td { (when(l.date.as_ref())) }
                            td { @if let Some(c) = &l.commit { a href=(super::commit::commit_href(c)) { code title=(c) { (c.get(..12).unwrap_or(c)) } } } }
                        }
                    }
                }
            }
        }
    }
}

/// `/raw/{revision}`: a file's bytes as git stores them at a revision (a blob id, as the
/// memory page and citations give it), as plain text.
pub(super) async fn raw(
    State(state): State<AppState>,
    Path(revision): Path<String>,
) -> Result<axum::response::Response, PageError> {
    use axum::response::IntoResponse as _;
    if revision.len() != 40 || !revision.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(crate::Error::invalid(format!(
            "`{revision}` is not a revision: 40 hex digits, as a memory's page links it"
        ))
        .into());
    }
    let bytes = state
        .run(move |mem| mem.blob(&crate::memory::Revision(revision)))
        .await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; charset=utf-8",
        )],
        bytes,
    )
        .into_response())
}

/// Returns the provenance timeline, newest first.
fn timeline(changes: &[Change]) -> Markup {
    html! {
        @if changes.is_empty() {
            p.muted { "Not committed yet: written by hand since the last commit." }
        } @else {
            ol.timeline {
                @for c in changes {
                    li.change {
                        div {
                            span.what { (c.change.unwrap_or("changed")) }
                            " "
                            (badge("op", &c.op))
                            " "
                            (when(Some(&c.date)))
                        }
                        div.who {
                            "by " strong { (c.agent.as_deref().unwrap_or(&c.author)) }
                            @if c.agent.is_some() { span.muted { " (" (c.author) ")" } }
                            @if let Some(session) = &c.session { ", session " code { (session) } }
                            @if let Some(step) = &c.step { ", step " (step) }
                        }
                        div.muted {
                            "commit " a href=(super::commit::commit_href(&c.commit)) { code title=(c.commit) { (c.commit.get(..12).unwrap_or(&c.commit)) } }
                            ": " (c.subject)
                            @if let Some(old) = &c.old_path { " (from " code { (old) } ")" }
                        }
                    }
                }
            }
        }
    }
}
