//! `/commit/{sha}`: one commit as an auditor reads it: who made it, from which session and
//! step, every trailer, and per memory the change by field, with a line diff of the body.

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::diff::field;
use super::layout::{Section, badge, memory_href, page as frame, when};
use super::{AppState, PageError};
use crate::MemoryDiff;

pub(super) async fn page(
    State(state): State<AppState>,
    Path(sha): Path<String>,
) -> Result<Markup, PageError> {
    let view = state.run(move |mem| mem.commit_view(&sha)).await?;
    let c = &view.change;
    let diff = &view.diff;
    let body = html! {
        p.badges { (badge("op", &c.op)) }
        dl.meta {
            dt { "Commit" } dd { code { (c.commit) } }
            @if let Some(parent) = &view.parent { dt { "Parent" } dd { a href=(commit_href(parent)) { code { (short(parent)) } } } }
            dt { "Author" } dd { (c.author) " " span.muted { "<" (c.email) ">" } }
            dt { "Date" } dd { (when(Some(&c.date))) }
            @if let Some(agent) = &c.agent { dt { "Agent" } dd { (agent) } }
            @if let Some(session) = &c.session { dt { "Session" } dd { code { (session) } } }
            @if let Some(step) = &c.step { dt { "Step" } dd { (step) } }
        }
        h2 { "Message" }
        pre.message { (view.message.trim_end()) }
        @if !view.trailers.is_empty() {
            h2 { "Trailers" }
            table.trailers {
                tbody { @for (k, v) in &view.trailers { tr { td { code { (k) } } td { (v) } } } }
            }
        }
        h2 { "What it changed" }
        p.muted.count {
            (diff.added.len()) " added, " (diff.changed.len()) " changed, " (diff.removed.len()) " removed."
        }
        (entries("added", &diff.added))
        (entries("changed", &diff.changed))
        (entries("removed", &diff.removed))
    };
    Ok(frame(Section::Diff, &c.subject, body))
}

/// Returns the link to a commit's page.
pub(super) fn commit_href(sha: &str) -> String {
    format!("/commit/{sha}")
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

fn entries(class: &str, entries: &[MemoryDiff]) -> Markup {
    html! {
        @for e in entries {
            section class={ "memory-change " (class) } {
                h3 {
                    (badge(class, class)) " "
                    @if class == "removed" { (e.title) } @else { a href=(memory_href(&e.id)) { (e.title) } }
                    " " span.muted { code { (e.path) } @if let Some(old) = &e.old_path { " (was " code { (old) } ")" } }
                }
                @for f in &e.fields {
                    @if f.field == "body" {
                        div.field { strong { "body" } (line_diff(text(&f.old), text(&f.new))) }
                    } @else {
                        (field(f))
                    }
                }
            }
        }
    }
}

/// A line diff of two texts: removed lines struck, added ones marked, unchanged ones for
/// context (diffy's hunks, three lines around each change).
fn line_diff(old: &str, new: &str) -> Markup {
    let patch = diffy::create_patch(old, new);
    html! {
        pre.linediff {
            @for hunk in patch.hunks() {
                @for line in hunk.lines() {
                    @match line {
                        diffy::Line::Context(l) => { span.same { "  " (l.trim_end_matches('\n')) } "\n" }
                        diffy::Line::Delete(l) => { del { "- " (l.trim_end_matches('\n')) } "\n" }
                        diffy::Line::Insert(l) => { ins { "+ " (l.trim_end_matches('\n')) } "\n" }
                    }
                }
            }
        }
    }
}

fn text(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_diff_marks_removed_and_added_lines_and_escapes_them() {
        let html = line_diff("a\nb <x>\nc\n", "a\nB\nc\n").into_string();
        assert!(html.contains("<del>- b &lt;x&gt;</del>"), "{html}");
        assert!(html.contains("<ins>+ B</ins>"), "{html}");
        assert!(html.contains("<span class=\"same\">  a</span>"), "{html}");
    }
}
