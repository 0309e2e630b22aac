//! What re-injecting context costs: the injection log (see [`crate::context::log`]) summed
//! up, request by request and day by day, and what the pinned memories take.
//!
//! Every context built with logging on (`--log`, or `[context] log = true`) is one line of
//! `.git/memdir/injections.jsonl`. [`Memdir::cost`] reads it and reports the requests, the
//! tokens they injected (in all, and per request: median and 95th percentile, overall and per
//! day), the share of those tokens that went to pinned memories, how the pinned set grew day
//! by day, and, given a price per million tokens, the money. [`Memdir::pinned_load`] measures
//! the pinned memories as they are now against the default budget, which `memdir status`
//! warns about. The arithmetic is pure ([`CostReport::from_log`]) and reads no clock.
//!
//! Percentiles are nearest-rank: the p-th percentile of n requests is the size of the
//! request ranked `ceil(p/100 * n)` from the smallest, so a figure is always a size some
//! request had (the median of 4 requests is the second smallest).
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::context::ContextRequest;
//! use memdir::cost::CostRequest;
//! use memdir::{Memdir, NewMemory, Provenance};
//!
//! let mem = Memdir::init(dir.path())?;
//! mem.remember(NewMemory::new("Deploys go out on Tuesdays."), &Provenance::agent("doc"))?;
//! let ctx = mem.context(&ContextRequest { log: Some(true), ..ContextRequest::new("deploy", 500) })?;
//!
//! let cost = mem.cost(&CostRequest { price_per_mtok: Some(3.0), ..CostRequest::default() })?;
//! assert_eq!(cost.requests, 1);
//! assert_eq!(cost.tokens_total, ctx.tokens as u64);
//! assert_eq!(cost.usd, Some(ctx.tokens as f64 * 3.0 / 1e6));
//! # Ok(()) }
//! ```

mod pinned;

use std::collections::BTreeMap;

use serde::Serialize;

pub use pinned::{PinnedFile, PinnedLoad};

use crate::context::log::{self, Injection, LogLines};
use crate::memory::Timestamp;
use crate::{Memdir, Result};

/// What to report on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostRequest {
    /// Only requests at or after this time.
    pub since: Option<Timestamp>,
    /// The price of a million input tokens, in US dollars: the report then says what the
    /// injected tokens cost.
    pub price_per_mtok: Option<f64>,
}

/// Tokens per request: the median and the 95th percentile (nearest rank).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Spread {
    /// Half of the requests injected this many tokens or fewer.
    pub median: u64,
    /// 95% of the requests injected this many tokens or fewer.
    pub p95: u64,
}

impl Spread {
    /// Returns the spread of `sizes` (0 and 0 when there are none).
    pub fn of(sizes: &[u64]) -> Self {
        let mut sorted = sizes.to_vec();
        sorted.sort_unstable();
        Spread {
            median: nearest_rank(&sorted, 50),
            p95: nearest_rank(&sorted, 95),
        }
    }
}

/// Returns the `percent`-th percentile of `sorted` by nearest rank.
fn nearest_rank(sorted: &[u64], percent: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (percent * sorted.len())
        .div_ceil(100)
        .clamp(1, sorted.len());
    sorted[rank - 1]
}

/// One day (UTC) of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct DayCost {
    /// The date, `YYYY-MM-DD`.
    pub day: String,
    /// Contexts built that day.
    pub requests: usize,
    /// Tokens they injected.
    pub tokens_total: u64,
    /// Tokens per request that day.
    pub tokens_per_request: Spread,
    /// The share of that day's tokens spent on pinned memories, from 0 to 1; `None` when no
    /// request of the day recorded it (lines of an older memdir).
    pub pinned_share: Option<f64>,
    /// Tokens of the pinned memories in the day's last request that recorded them: the
    /// pinned set as it stood that day.
    pub pinned_tokens: Option<u64>,
    /// How many pinned memories that request carried.
    pub pinned_items: Option<usize>,
}

/// What the logged injections cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct CostReport {
    /// The injection log read.
    #[cfg_attr(feature = "http", schema(value_type = String))]
    pub log: std::path::PathBuf,
    /// The start of the period, when one was asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// Contexts built (log lines in the period).
    pub requests: usize,
    /// Tokens they injected, in all.
    pub tokens_total: u64,
    /// Tokens per request.
    pub tokens_per_request: Spread,
    /// The share of the tokens spent on pinned memories, from 0 to 1, over the requests
    /// that recorded it; `None` when none did.
    pub pinned_share: Option<f64>,
    /// Tokens spent on pinned memories, over the requests that recorded it.
    pub pinned_tokens_total: u64,
    /// Requests logged by an older memdir, which did not record the pinned memories' tokens:
    /// they count everywhere but in the pinned figures.
    pub pinned_unrecorded: usize,
    /// Day by day, oldest first; days without requests are left out.
    pub by_day: Vec<DayCost>,
    /// The price asked for, in US dollars per million tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_per_mtok: Option<f64>,
    /// What the injected tokens cost at that price, in US dollars.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usd: Option<f64>,
    /// The 1-based numbers of log lines that could not be read, left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<usize>,
}

/// The figures one group of requests (all, or one day's) adds up to.
#[derive(Default)]
struct Totals {
    sizes: Vec<u64>,
    pinned_tokens: u64,
    pinned_of: u64,
    unrecorded: usize,
    last_pinned: Option<(u64, usize)>,
}

impl Totals {
    fn add(&mut self, entry: &Injection) {
        let tokens = entry.tokens as u64;
        self.sizes.push(tokens);
        match entry.pinned_tokens {
            Some(p) => {
                self.pinned_tokens += p as u64;
                self.pinned_of += tokens;
                self.last_pinned = Some((p as u64, entry.pinned.unwrap_or(0)));
            }
            None => self.unrecorded += 1,
        }
    }

    fn total(&self) -> u64 {
        self.sizes.iter().sum()
    }

    fn pinned_share(&self) -> Option<f64> {
        (self.unrecorded < self.sizes.len()).then(|| {
            if self.pinned_of == 0 {
                0.0
            } else {
                self.pinned_tokens as f64 / self.pinned_of as f64
            }
        })
    }
}

impl CostReport {
    /// Returns the report of the lines of `log` that `request` asks about. Pure: the same
    /// lines give the same report.
    pub fn from_log(log: &LogLines, request: &CostRequest) -> Self {
        let mut entries: Vec<&(Timestamp, Injection)> = log
            .entries
            .iter()
            .filter(|(t, _)| request.since.is_none_or(|s| *t >= s))
            .collect();
        // Lines are appended in time order, but clocks of processes may disagree a little.
        entries.sort_by_key(|(t, _)| *t);
        let mut all = Totals::default();
        let mut days: BTreeMap<String, Totals> = BTreeMap::new();
        for (time, entry) in entries {
            all.add(entry);
            days.entry(time.0.date().to_string())
                .or_default()
                .add(entry);
        }
        let by_day = days
            .into_iter()
            .map(|(day, t)| DayCost {
                day,
                requests: t.sizes.len(),
                tokens_total: t.total(),
                tokens_per_request: Spread::of(&t.sizes),
                pinned_share: t.pinned_share(),
                pinned_tokens: t.last_pinned.map(|(p, _)| p),
                pinned_items: t.last_pinned.map(|(_, n)| n),
            })
            .collect();
        let tokens_total = all.total();
        CostReport {
            log: log.path.clone(),
            since: request.since,
            requests: all.sizes.len(),
            tokens_total,
            tokens_per_request: Spread::of(&all.sizes),
            pinned_share: all.pinned_share(),
            pinned_tokens_total: all.pinned_tokens,
            pinned_unrecorded: all.unrecorded,
            by_day,
            price_per_mtok: request.price_per_mtok,
            usd: request
                .price_per_mtok
                .map(|price| tokens_total as f64 * price / 1e6),
            unreadable: log.unreadable.clone(),
        }
    }
}

impl Memdir {
    /// Reports what the contexts in the injection log cost (see [`crate::cost`]). A missing
    /// log reports no requests: logging is off unless `--log` or `[context] log = true`.
    /// Fails if the price is negative or not a number, or the log cannot be read.
    pub fn cost(&self, request: &CostRequest) -> Result<CostReport> {
        if let Some(price) = request.price_per_mtok
            && !(price.is_finite() && price >= 0.0)
        {
            return Err(crate::Error::invalid(format!(
                "price per million tokens: `{price}` is not a price in US dollars, such as 2.5"
            )));
        }
        let lines = log::read(&self.memdir_dir())?;
        Ok(CostReport::from_log(&lines, request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time: &str, tokens: usize, pinned: Option<usize>) -> (Timestamp, Injection) {
        (
            Timestamp::parse(time).unwrap(),
            Injection {
                time: time.into(),
                query: "q".into(),
                session: None,
                prompt: "p".into(),
                tokens,
                budget: 2000,
                items: Vec::new(),
                pinned: pinned.map(|_| 1),
                pinned_tokens: pinned,
                explore: None,
                withheld: Vec::new(),
            },
        )
    }

    #[test]
    fn percentiles_are_sizes_some_request_had() {
        assert_eq!(Spread::of(&[]), Spread { median: 0, p95: 0 });
        assert_eq!(Spread::of(&[7]), Spread { median: 7, p95: 7 });
        assert_eq!(
            Spread::of(&[400, 100, 300, 200]),
            Spread {
                median: 200,
                p95: 400
            }
        );
        let twenty: Vec<u64> = (1..=20).collect();
        assert_eq!(
            Spread::of(&twenty),
            Spread {
                median: 10,
                p95: 19
            }
        );
    }

    #[test]
    fn days_share_and_money_add_up() {
        let log = LogLines {
            entries: vec![
                line("2026-11-02T10:00:00Z", 1000, Some(500)),
                line("2026-11-01T09:00:00Z", 600, None),
                line("2026-11-02T09:00:00Z", 400, Some(100)),
            ],
            ..LogLines::default()
        };
        let report = CostReport::from_log(
            &log,
            &CostRequest {
                since: None,
                price_per_mtok: Some(2.0),
            },
        );
        assert_eq!(report.requests, 3);
        assert_eq!(report.tokens_total, 2000);
        assert_eq!(report.pinned_share, Some(600.0 / 1400.0));
        assert_eq!(report.pinned_unrecorded, 1);
        assert_eq!(report.usd, Some(0.004));
        let days: Vec<_> = report
            .by_day
            .iter()
            .map(|d| (d.day.as_str(), d.requests, d.pinned_tokens))
            .collect();
        assert_eq!(
            days,
            [("2026-11-01", 1, None), ("2026-11-02", 2, Some(500))]
        );
        let later = CostReport::from_log(
            &log,
            &CostRequest {
                since: Timestamp::parse("2026-11-02"),
                price_per_mtok: None,
            },
        );
        assert_eq!((later.requests, later.usd), (2, None));
    }
}
