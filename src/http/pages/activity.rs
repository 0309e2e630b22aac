//! `/activity`: what was written, by which agent, session and person, day by day, newest
//! first, filterable by agent, session, op and date range; each entry links to its commit.
//! On top, a picture drawn on the server (SVG, no script): writes per day, per agent.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::commit::commit_href;
use super::diff::held_badges;
use super::layout::{Section, badge, page as frame, when};
use super::{AppState, PageError};
use crate::memory::Timestamp;
use crate::{ActivityFilter, Change};

/// Most entries one page lists.
const LIMIT: usize = 500;
/// The colours of the agents in the picture, in order of first appearance.
const COLOURS: [&str; 6] = [
    "#3566c8", "#c8553d", "#2a9d8f", "#8d5fc8", "#e0a030", "#6b7280",
];

/// The form's fields; empty ones filter nothing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    agent: Option<String>,
    session: Option<String>,
    op: Option<String>,
    /// A date (`2026-12-01`): changes from its start on.
    from: Option<String>,
    /// A date: changes up to its end.
    to: Option<String>,
}

fn given(field: &Option<String>) -> Option<String> {
    field
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

fn date(field: &str, value: Option<String>) -> Result<Option<Timestamp>, PageError> {
    value
        .map(|v| {
            Timestamp::parse(&v).ok_or_else(|| {
                PageError::from(crate::Error::invalid(format!(
                    "{field}: `{v}` is not a date (2026-12-01) or an RFC 3339 time"
                )))
            })
        })
        .transpose()
}

pub(super) async fn page(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Markup, PageError> {
    let until = date("to", given(&params.to))?.map(|t| Timestamp(t.0 + time::Duration::days(1)));
    let filter = ActivityFilter {
        agent: given(&params.agent),
        session: given(&params.session),
        op: given(&params.op),
        since: date("from", given(&params.from))?,
        until,
    };
    let (changes, held) = state
        .run(move |mem| {
            Ok((
                mem.activity(&filter, LIMIT)?,
                mem.held_out_all(Timestamp::now())?,
            ))
        })
        .await?;
    let mut by_day: BTreeMap<String, Vec<&Change>> = BTreeMap::new();
    for c in &changes {
        by_day.entry(day(&c.date)).or_default().push(c);
    }
    let body = html! {
        (form(&params))
        p.muted.count { (changes.len()) " changes" @if changes.len() == LIMIT { " (the newest " (LIMIT) ")" } "." }
        (chart(&by_day))
        @for (d, changes) in by_day.iter().rev() {
            h2 { (d) }
            table.activity {
                tbody {
                    @for c in changes {
                        tr {
                            td { (when(Some(&c.date))) }
                            td { (badge("op", &c.op)) }
                            td {
                                strong { (c.agent.as_deref().unwrap_or(&c.author)) }
                                @if c.agent.is_some() { span.muted { " (" (c.author) ")" } }
                                @if let Some(s) = &c.session { br; span.muted { "session " code { (s) } } }
                            }
                            td {
                                a href=(commit_href(&c.commit)) { code { (c.commit.get(..12).unwrap_or(&c.commit)) } } " " (c.subject)
                                @for id in &c.ids { (held_badges(&held, id)) }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(frame(Section::Activity, "Activity", body))
}

fn day(t: &Timestamp) -> String {
    t.0.date().to_string()
}

fn form(params: &Params) -> Markup {
    html! {
        form.filters method="get" action="/activity" {
            label { "Agent " input type="text" name="agent" value=[params.agent.as_deref()]; }
            label { "Session " input type="text" name="session" value=[params.session.as_deref()]; }
            label { "Op " input type="text" name="op" value=[params.op.as_deref()] placeholder="add, update, hand-edit…"; }
            label { "From " input type="date" name="from" value=[params.from.as_deref()]; }
            label { "To " input type="date" name="to" value=[params.to.as_deref()]; }
            button type="submit" { "Filter" }
        }
    }
}

/// Writes per day, one stacked bar for each day with any (days without writes take no
/// room), a colour per agent (or author, for writes that name no agent), oldest on the left.
fn chart(by_day: &BTreeMap<String, Vec<&Change>>) -> Markup {
    let mut agents: Vec<String> = Vec::new();
    for changes in by_day.values() {
        for c in changes {
            let who = who_of(c);
            if !agents.contains(&who) {
                agents.push(who);
            }
        }
    }
    let colour = |who: &str| {
        let i = agents.iter().position(|a| a == who).unwrap_or(0);
        COLOURS[i.min(COLOURS.len() - 1)]
    };
    let most = by_day.values().map(Vec::len).max().unwrap_or(0).max(1);
    let (height, bar, gap) = (120.0, 14.0, 4.0);
    let width = (by_day.len() as f64 * (bar + gap)).max(bar + gap);
    html! {
        @if !by_day.is_empty() {
            figure.activity {
                svg xmlns="http://www.w3.org/2000/svg" width=(width) height=(height + 2.0)
                    viewBox={ "0 0 " (width) " " (height + 2.0) } role="img"
                    aria-label="Writes per day, per agent" {
                    @for (i, (d, changes)) in by_day.iter().enumerate() {
                        @let x = i as f64 * (bar + gap);
                        @let mut y = height;
                        @for who in &agents {
                            @let n = changes.iter().filter(|c| &who_of(c) == who).count();
                            @if n > 0 {
                                @let h = n as f64 / most as f64 * height;
                                @let top = { y -= h; y };
                                rect x=(x) y=(top) width=(bar) height=(h) fill=(colour(who)) {
                                    title { (d) ": " (n) " by " (who) }
                                }
                            }
                        }
                    }
                }
                figcaption {
                    "Writes on each day with any, " (by_day.keys().next().map(String::as_str).unwrap_or("")) " to "
                    (by_day.keys().last().map(String::as_str).unwrap_or("")) " (at most " (most) " a day): "
                    // Presentation attributes, not inline styles: the pages' CSP allows no
                    // `style` attribute.
                    @for who in &agents {
                        span.legend {
                            svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10" {
                                rect width="10" height="10" fill=(colour(who)) {}
                            }
                            " " (who)
                        }
                        " "
                    }
                }
            }
        }
    }
}

fn who_of(c: &Change) -> String {
    c.agent.clone().unwrap_or_else(|| c.author.clone())
}
