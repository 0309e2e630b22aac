//! `memdir cost`

use clap::Args;
use memdir::Timestamp;
use memdir::cost::{CostReport, CostRequest};

use super::{CliError, Globals, print_json};
use crate::outln;

/// Report what re-injecting context costs, from the injection log
///
/// Every context built with logging on (`memdir context --log`, `memdir hook --log`, or
/// `[context] log = true` in memory.toml) is one line of .git/memdir/injections.jsonl. This
/// sums them up: the requests, the tokens injected (in all, and per request: the median and
/// the 95th percentile, by nearest rank), the share spent on pinned memories (MEMORY.md and
/// `pinned: true`, which go into every context), and, day by day (UTC), the same figures with
/// the pinned set's size that day, so an always-loaded set that keeps growing shows. With
/// --price-per-mtok, also what the injected tokens cost.
///
/// Lines logged by an older memdir did not record the pinned memories' tokens: they count
/// everywhere but in the pinned figures.
///
/// With --json, prints `requests`, `tokens_total`, `tokens_per_request` (`median`, `p95`),
/// `pinned_share` (0 to 1, null when unknown), `by_day` (each with `day`, `requests`,
/// `tokens_total`, `tokens_per_request`, `pinned_share`, `pinned_tokens`, `pinned_items`),
/// and `usd` when a price is given.
///
/// Examples:
///   memdir cost
///   memdir cost --since "7 days ago" --price-per-mtok 2.50
///   memdir cost --since 2026-11-01 --json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CostArgs {
    /// Only requests from this time on: a date (2026-11-20, midnight UTC), an RFC 3339 time,
    /// `yesterday` or `3 days ago` [default: the whole log]
    #[arg(long, value_name = "DATE", value_parser = parse_since)]
    since: Option<Timestamp>,
    /// The price of a million input tokens in US dollars, such as 2.50: adds what the tokens
    /// cost
    #[arg(long, value_name = "USD", value_parser = parse_price)]
    price_per_mtok: Option<f64>,
}

fn parse_since(text: &str) -> Result<Timestamp, String> {
    memdir::when::parse_time(text, Timestamp::now())
        .ok_or_else(|| format!("`{text}` is not a time: use {}", memdir::when::TIME_FORMS))
}

fn parse_price(text: &str) -> Result<f64, String> {
    let text = text.trim().trim_start_matches('$');
    match text.parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!(
            "`{text}` is not a price: give US dollars per million tokens, such as 2.50"
        )),
    }
}

pub fn cmd_cost(g: &Globals, args: CostArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let report = mem.cost(&CostRequest {
        since: args.since,
        price_per_mtok: args.price_per_mtok,
    })?;
    if !report.unreadable.is_empty() {
        eprintln!(
            "warning: {} line{} of {} could not be read and {} left out (line {}).",
            report.unreadable.len(),
            if report.unreadable.len() == 1 {
                ""
            } else {
                "s"
            },
            report.log.display(),
            if report.unreadable.len() == 1 {
                "is"
            } else {
                "are"
            },
            report
                .unreadable
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if g.json {
        return print_json(&report);
    }
    print_report(&report)
}

fn print_report(r: &CostReport) -> Result<(), CliError> {
    if r.requests == 0 {
        outln!(
            "No injections logged{}.",
            r.since.map(|s| format!(" since {s}")).unwrap_or_default()
        );
        outln!(
            "hint: log them with `memdir context --log` (or `memdir hook ... --log`), or set `log = true` under [context] in memory.toml."
        );
        return Ok(());
    }
    let share = |s: Option<f64>| s.map_or("—".to_owned(), |s| format!("{:.1}%", s * 100.0));
    outln!(
        "Requests:          {}{}",
        r.requests,
        r.since.map(|s| format!(" since {s}")).unwrap_or_default()
    );
    outln!(
        "Tokens injected:   {} (per request: median {}, p95 {})",
        r.tokens_total,
        r.tokens_per_request.median,
        r.tokens_per_request.p95
    );
    outln!(
        "Pinned share:      {}{}",
        share(r.pinned_share),
        if r.pinned_unrecorded > 0 {
            format!(
                " ({} older request{} did not record it)",
                r.pinned_unrecorded,
                if r.pinned_unrecorded == 1 { "" } else { "s" }
            )
        } else {
            String::new()
        }
    );
    if let (Some(usd), Some(price)) = (r.usd, r.price_per_mtok) {
        outln!("Cost:              ${usd:.4} at ${price} per million tokens");
    }
    outln!();
    outln!(
        "{:<10}  {:>8}  {:>9}  {:>8}  {:>8}  {:>6}  pinned set",
        "day",
        "requests",
        "tokens",
        "median",
        "p95",
        "pinned"
    );
    for d in &r.by_day {
        let set = match (d.pinned_tokens, d.pinned_items) {
            (Some(t), Some(n)) => {
                format!("{t} tokens, {n} memor{}", if n == 1 { "y" } else { "ies" })
            }
            _ => "—".to_owned(),
        };
        outln!(
            "{:<10}  {:>8}  {:>9}  {:>8}  {:>8}  {:>6}  {}",
            d.day,
            d.requests,
            d.tokens_total,
            d.tokens_per_request.median,
            d.tokens_per_request.p95,
            share(d.pinned_share),
            set
        );
    }
    Ok(())
}
