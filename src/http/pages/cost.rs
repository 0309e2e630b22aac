//! `/cost`: what re-injecting context costs, from the injection log ([`crate::cost`]): the
//! figures of `memdir cost`, two pictures drawn on the server (SVG, no script), tokens per
//! request day by day (median and p95) and the share of them pinned memories took, and the
//! days as a table. `?since=` and `?price=` narrow and price it, as `--since` and
//! `--price-per-mtok` do.

use axum::extract::{Query, State};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Section, page as frame};
use super::{AppState, PageError};
use crate::cost::{CostReport, DayCost};
use crate::http::api::CostParams;

/// The colours of the pictures: medians, 95th percentiles, pinned share.
const MEDIAN: &str = "#3566c8";
const P95: &str = "#c8553d";
const PINNED: &str = "#2a9d8f";
/// Plot height, bar width, gap between bars and room for the axis label, in pixels.
const HEIGHT: f64 = 120.0;
const BAR: f64 = 14.0;
const GAP: f64 = 4.0;
const AXIS: f64 = 44.0;

/// The form's fields; empty ones narrow nothing.
#[derive(Debug, Default, Deserialize)]
pub(super) struct Params {
    /// A date (`2026-11-20`) or any time `--since` reads.
    since: Option<String>,
    /// US dollars per million tokens.
    price: Option<String>,
}

pub(super) async fn page(
    State(state): State<AppState>,
    Query(params): Query<Params>,
) -> Result<Markup, PageError> {
    let price = match params.price.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(p) => Some(p.trim_start_matches('$').parse::<f64>().map_err(|_| {
            PageError::from(crate::Error::invalid(format!(
                "price: `{p}` is not a price: give US dollars per million tokens, such as 2.50"
            )))
        })?),
    };
    let request = CostParams {
        since: params.since.clone(),
        price_per_mtok: price,
    }
    .request()?;
    let report = state.run(move |mem| mem.cost(&request)).await?;
    let body = html! {
        (form(&params))
        @if report.requests == 0 {
            div.notice {
                p { "No injections logged" @if params.since.as_deref().is_some_and(|s| !s.trim().is_empty()) { " since then" } "." }
                p.muted { "Log them with " code { "memdir context --log" } " (or " code { "memdir hook … --log" } "), or set " code { "log = true" } " under " code { "[context]" } " in memory.toml." }
            }
        } @else {
            (summary(&report))
            (tokens_chart(&report.by_day))
            (pinned_chart(&report.by_day))
            (table(&report.by_day))
        }
    };
    Ok(frame(Section::Cost, "Cost", body))
}

fn form(params: &Params) -> Markup {
    html! {
        form.filters method="get" action="/cost" {
            label { "Since " input type="date" name="since" value=[params.since.as_deref()]; }
            label { "Price per million tokens (USD) " input type="text" name="price" inputmode="decimal" value=[params.price.as_deref()] placeholder="2.50"; }
            button type="submit" { "Show" }
        }
    }
}

fn percent(share: Option<f64>) -> String {
    share.map_or("—".to_owned(), |s| format!("{:.1}%", s * 100.0))
}

fn summary(r: &CostReport) -> Markup {
    html! {
        p.muted.count { (r.requests) " requests, " (r.tokens_total) " tokens injected." }
        dl.meta.cost {
            dt { "Per request" }
            dd { "median " (r.tokens_per_request.median) ", p95 " (r.tokens_per_request.p95) " tokens" }
            dt { "Pinned share" }
            dd {
                (percent(r.pinned_share))
                @if r.pinned_unrecorded > 0 {
                    span.muted { " (" (r.pinned_unrecorded) " older request" @if r.pinned_unrecorded > 1 { "s" } " did not record it)" }
                }
            }
            @if let (Some(usd), Some(price)) = (r.usd, r.price_per_mtok) {
                dt { "Cost" }
                dd { "$" (format!("{usd:.4}")) " at $" (price) " per million tokens" }
            }
        }
    }
}

/// Returns the x of day `i`'s bar.
fn x(i: usize) -> f64 {
    AXIS + i as f64 * (BAR + GAP)
}

fn width(days: usize) -> f64 {
    x(days.max(1))
}

/// Returns a small legend swatch.
fn swatch(colour: &str, label: &str) -> Markup {
    html! {
        span.legend {
            svg xmlns="http://www.w3.org/2000/svg" width="10" height="10" viewBox="0 0 10 10" {
                rect width="10" height="10" fill=(colour) {}
            }
            " " (label)
        }
        " "
    }
}

/// Tokens per request, one bar per day with requests: its height the day's median, a mark
/// at its 95th percentile; the scale goes up to the largest p95.
fn tokens_chart(days: &[DayCost]) -> Markup {
    let most = days
        .iter()
        .map(|d| d.tokens_per_request.p95)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let h = |v: u64| v as f64 / most * HEIGHT;
    let w = width(days.len());
    html! {
        figure.cost.tokens {
            svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(HEIGHT + 2.0)
                viewBox={ "0 0 " (w) " " (HEIGHT + 2.0) } role="img"
                aria-label="Tokens per request, per day: median and 95th percentile" {
                text x="0" y="10" font-size="10" fill="#6b7280" { (most) }
                text x="0" y=(HEIGHT) font-size="10" fill="#6b7280" { "0" }
                @for (i, d) in days.iter().enumerate() {
                    @let s = d.tokens_per_request;
                    rect.median x=(x(i)) y=(HEIGHT - h(s.median)) width=(BAR) height=(h(s.median)) fill=(MEDIAN) {
                        title { (d.day) ": median " (s.median) " tokens per request (" (d.requests) " requests)" }
                    }
                    rect.p95 x=(x(i)) y=(HEIGHT - h(s.p95)) width=(BAR) height="2" fill=(P95) {
                        title { (d.day) ": p95 " (s.p95) " tokens per request" }
                    }
                }
            }
            figcaption {
                "Tokens per request on each day with requests, " (days.first().map_or("", |d| d.day.as_str())) " to "
                (days.last().map_or("", |d| d.day.as_str())) ": "
                (swatch(MEDIAN, "median")) (swatch(P95, "95th percentile"))
            }
        }
    }
}

/// The share of each day's tokens that pinned memories took (0 to 100%), one bar per day that
/// recorded it, with the pinned set's size that day in each bar's title.
fn pinned_chart(days: &[DayCost]) -> Markup {
    let w = width(days.len());
    let first = days
        .iter()
        .find_map(|d| d.pinned_tokens.map(|t| (&d.day, t)));
    let last = days
        .iter()
        .rev()
        .find_map(|d| d.pinned_tokens.map(|t| (&d.day, t)));
    html! {
        figure.cost.pinned {
            svg xmlns="http://www.w3.org/2000/svg" width=(w) height=(HEIGHT + 2.0)
                viewBox={ "0 0 " (w) " " (HEIGHT + 2.0) } role="img"
                aria-label="Share of the tokens pinned memories took, per day" {
                text x="0" y="10" font-size="10" fill="#6b7280" { "100%" }
                text x="0" y=(HEIGHT) font-size="10" fill="#6b7280" { "0" }
                @for (i, d) in days.iter().enumerate() {
                    @if let Some(share) = d.pinned_share {
                        @let h = share.clamp(0.0, 1.0) * HEIGHT;
                        rect x=(x(i)) y=(HEIGHT - h) width=(BAR) height=(h) fill=(PINNED) {
                            title {
                                (d.day) ": pinned memories took " (percent(Some(share))) " of the tokens"
                                @if let (Some(t), Some(n)) = (d.pinned_tokens, d.pinned_items) { "; pinned set " (t) " tokens, " (n) " memories" }
                            }
                        }
                    }
                }
            }
            figcaption {
                (swatch(PINNED, "share of the tokens spent on pinned memories"))
                @if let (Some((d1, t1)), Some((d2, t2))) = (first, last) {
                    "The pinned set went from " (t1) " tokens (" (d1) ") to " (t2) " (" (d2) ")."
                }
            }
        }
    }
}

fn table(days: &[DayCost]) -> Markup {
    html! {
        table.cost {
            thead { tr { th { "Day" } th { "Requests" } th { "Tokens" } th { "Median" } th { "p95" } th { "Pinned share" } th { "Pinned set" } } }
            tbody {
                @for d in days.iter().rev() {
                    tr {
                        td { (d.day) }
                        td { (d.requests) }
                        td { (d.tokens_total) }
                        td { (d.tokens_per_request.median) }
                        td { (d.tokens_per_request.p95) }
                        td { (percent(d.pinned_share)) }
                        td {
                            @if let (Some(t), Some(n)) = (d.pinned_tokens, d.pinned_items) { (t) " tokens, " (n) " memories" }
                            @else { span.muted { "—" } }
                        }
                    }
                }
            }
        }
    }
}
