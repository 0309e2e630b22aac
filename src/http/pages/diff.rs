//! `/diff?from=&to=`: what the agent's beliefs gained, changed and lost between two
//! snapshots (or commits, or dates), by memory and field.

use axum::extract::State;
use maud::{Markup, html};

use super::commit::commit_href;
use super::layout::{Section, badge, memory_href, page as frame, when};
use super::{AppState, PageError};
use crate::http::error::ApiQuery;
use crate::{BeliefDiff, FieldChange, MemoryDiff, TagInfo, Timestamp};

/// The form's fields; both empty shows the form and the snapshots alone.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Params {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<Params>,
) -> Result<Markup, PageError> {
    let from = params.from.clone().filter(|f| !f.trim().is_empty());
    let to = params.to.clone().filter(|t| !t.trim().is_empty());
    let (snapshots, diff, held) = state
        .run(move |mem| {
            let snapshots = mem.snapshots()?;
            let diff = match &from {
                Some(from) => Some(mem.diff(from, to.as_deref())?),
                None => None,
            };
            Ok((snapshots, diff, mem.held_out_all(Timestamp::now())?))
        })
        .await?;
    let body = html! {
        (form(&params, &snapshots))
        @match &diff {
            Some(diff) => (result(diff, &held)),
            None => (snapshot_list(&snapshots)),
        }
    };
    Ok(frame(Section::Diff, "Diff", body))
}

fn form(params: &Params, snapshots: &[TagInfo]) -> Markup {
    html! {
        form.filter method="get" action="/diff" {
            label { "From" input type="text" name="from" list="snapshots" required value=[params.from.as_deref()] placeholder="snapshot, commit or date"; }
            label { "To" input type="text" name="to" list="snapshots" value=[params.to.as_deref()] placeholder="now"; }
            datalist id="snapshots" {
                @for s in snapshots { option value=(s.name) { (s.name) } }
            }
            button type="submit" { "Compare" }
        }
    }
}

fn snapshot_list(snapshots: &[TagInfo]) -> Markup {
    html! {
        h2 { "Snapshots" }
        @if snapshots.is_empty() {
            p.muted { "No snapshot yet: " code { "memdir snapshot NAME" } " names the present. Commits and dates (2026-12-01) work too." }
        } @else {
            table.snapshots {
                thead { tr { th { "Name" } th { "When" } th { "Note" } th {} } }
                tbody {
                    @for s in snapshots {
                        tr {
                            td { code { (s.name) } }
                            td { (when(Some(&s.time))) }
                            td { (s.note.as_deref().unwrap_or_default()) }
                            td { a href={ "/diff?from=" (urlencode(&s.name)) } { "changes since" } }
                        }
                    }
                }
            }
        }
    }
}

/// Every memory held out now, with why (see [`crate::Memdir::held_out_all`]).
pub(super) type Held = std::collections::BTreeMap<String, Vec<crate::HeldOut>>;

/// Badges saying why a memory is held out now, if it is.
pub(super) fn held_badges(held: &Held, id: &str) -> Markup {
    html! {
        @for h in held.get(id).into_iter().flatten() { " " (badge(h.as_str(), h.as_str())) }
    }
}

fn result(diff: &BeliefDiff, held: &Held) -> Markup {
    let short = |c: &str| c.get(..12).unwrap_or(c).to_owned();
    html! {
        p.muted.count {
            "From commit " a href=(commit_href(&diff.from)) { code { (short(&diff.from)) } }
            " to " a href=(commit_href(&diff.to)) { code { (short(&diff.to)) } } ": "
            (diff.added.len()) " added, " (diff.changed.len()) " changed, " (diff.removed.len()) " removed."
        }
        (section("Added", "added", &diff.added, held))
        (section("Changed", "changed", &diff.changed, held))
        (section("Removed", "removed", &diff.removed, held))
    }
}

fn section(title: &str, class: &str, entries: &[MemoryDiff], held: &Held) -> Markup {
    html! {
        @if !entries.is_empty() {
            h2 { (title) }
            table class={ "diff " (class) } {
                tbody {
                    @for e in entries {
                        tr {
                            td {
                                (badge(class, class)) " "
                                @if class == "removed" { (e.title) } @else { a href=(memory_href(&e.id)) { (e.title) } }
                                (held_badges(held, &e.id))
                                br;
                                span.muted { code { (e.path) } @if let Some(old) = &e.old_path { " (was " code { (old) } ")" } }
                            }
                            td { @for f in &e.fields { (field(f)) } }
                        }
                    }
                }
            }
        }
    }
}

pub(super) fn field(f: &FieldChange) -> Markup {
    html! {
        div.field {
            strong { (f.field) } ": "
            @if !f.old.is_null() { del { (value(&f.old)) } " " }
            @if !f.new.is_null() { ins { (value(&f.new)) } }
        }
    }
}

/// Returns a field's value as text: strings as they are, anything else as JSON.
fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Percent-encodes a query value (snapshot names are plain, but may hold `/` or `+`).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
