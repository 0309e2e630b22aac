//! What time or how long a person means: the one reader of durations (`90m`, `3 days`) and of
//! times given absolutely (`2026-11-20`, RFC 3339) or relative to now (`yesterday`,
//! `3 days ago`, `in 2 weeks`).
//!
//! Everything here is pure: "now" is an argument, so the callers (the CLI's `--at` and
//! `--expires`, `[memory.ttl]` in `memory.toml`, `watch --quiet`) decide which clock counts and
//! the tests pass a fixed one. What a time is used for (a point in history, an expiry) is left
//! to them.
//!
//! ```
//! use memdir::Timestamp;
//! use memdir::when::{parse_duration, parse_time};
//!
//! let now = Timestamp::parse("2026-11-25T12:00:00Z").unwrap();
//! assert_eq!(parse_duration("90m"), Some(std::time::Duration::from_secs(90 * 60)));
//! assert_eq!(parse_time("yesterday", now), Timestamp::parse("2026-11-24T12:00:00Z"));
//! assert_eq!(parse_time("3 days ago", now), Timestamp::parse("2026-11-22T12:00:00Z"));
//! assert_eq!(parse_time("2026-11-20", now), Timestamp::parse("2026-11-20T00:00:00Z"));
//! ```

use std::time::Duration;

use crate::memory::Timestamp;

/// The forms [`parse_time`] reads, for error messages.
pub const TIME_FORMS: &str = "a date (2026-11-20, midnight UTC), an RFC 3339 time (2026-11-20T09:30:00Z), `now`, `yesterday`, `tomorrow`, `3 days ago` or `in 2 hours`";

/// The forms [`parse_duration`] reads, for error messages.
pub const DURATION_FORMS: &str =
    "a number and a unit: ms, s, m (minutes), h, d or w, like 500ms, 90m, 30d, or `3 days`";

/// Parses a duration: a whole number and a unit, with or without a space between.
///
/// Units: `ms`; `s`, `sec`, `second`; `m`, `min`, `minute`; `h`, `hr`, `hour`; `d`, `day`;
/// `w`, `week` (the words also in the plural). `m` is minutes: months and years have no
/// fixed length, so they are not read. Returns `None` for anything else, and on overflow.
///
/// ```
/// use std::time::Duration;
/// use memdir::when::parse_duration;
///
/// assert_eq!(parse_duration("24h"), Some(Duration::from_secs(86_400)));
/// assert_eq!(parse_duration("3 days"), Some(Duration::from_secs(3 * 86_400)));
/// assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
/// assert_eq!(parse_duration("soon"), None);
/// ```
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: u64 = n.parse().ok()?;
    let unit = unit.trim_start().to_ascii_lowercase();
    if unit == "ms" {
        return Some(Duration::from_millis(n));
    }
    let singular = unit
        .strip_suffix('s')
        .filter(|u| u.len() > 1)
        .unwrap_or(&unit);
    let secs: u64 = match singular {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hr" | "hour" => 3600,
        "d" | "day" => 86_400,
        "w" | "week" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(secs).map(Duration::from_secs)
}

/// Parses a time, absolute or relative to `now`.
///
/// Absolute: `YYYY-MM-DD` (midnight UTC) or RFC 3339. Relative, as git reads them:
/// `now`; `yesterday` and `tomorrow` (24 hours before or after `now`); `<duration> ago` and
/// `in <duration>`, with a duration as [`parse_duration`] reads it (`3 days ago`, `90m ago`,
/// `in 2 weeks`). Case and surrounding spaces do not matter. Returns `None` for anything
/// else, and for a time out of range.
pub fn parse_time(text: &str, now: Timestamp) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse(text) {
        return Some(t);
    }
    let text = text.trim().to_ascii_lowercase();
    let day = Duration::from_secs(86_400);
    let (back, by) = match text.as_str() {
        "now" => return Some(now),
        "yesterday" => (true, day),
        "tomorrow" => (false, day),
        _ => match (text.strip_suffix(" ago"), text.strip_prefix("in ")) {
            (Some(d), _) => (true, parse_duration(d)?),
            (None, Some(d)) => (false, parse_duration(d)?),
            (None, None) => return None,
        },
    };
    let by = time::Duration::try_from(by).ok()?;
    let t = if back {
        now.0.checked_sub(by)
    } else {
        now.0.checked_add(by)
    };
    t.map(Timestamp)
}

/// Parses when something should end: a time as [`parse_time`] reads it, or a bare duration
/// counted from `now` (`90m`, `30d`: "for 30 days").
///
/// ```
/// use memdir::Timestamp;
/// use memdir::when::parse_deadline;
///
/// let now = Timestamp::parse("2026-11-25T12:00:00Z").unwrap();
/// assert_eq!(parse_deadline("30d", now), Timestamp::parse("2026-12-25T12:00:00Z"));
/// assert_eq!(parse_deadline("in 30 days", now), parse_deadline("30d", now));
/// assert_eq!(parse_deadline("2027-01-01", now), Timestamp::parse("2027-01-01"));
/// ```
pub fn parse_deadline(text: &str, now: Timestamp) -> Option<Timestamp> {
    parse_time(text, now).or_else(|| parse_time(&format!("in {}", text.trim()), now))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    const NOW: &str = "2026-11-25T12:34:56Z";

    #[test]
    fn durations_take_short_units_words_and_plurals() {
        let secs = |t: &str| parse_duration(t).map(|d| d.as_secs());
        for (text, want) in [
            ("90m", 5400),
            ("90 m", 5400),
            ("90min", 5400),
            ("1 minute", 60),
            ("2 minutes", 120),
            ("30s", 30),
            ("45 secs", 45),
            ("24h", 86_400),
            ("2 hours", 7200),
            ("3hrs", 10_800),
            ("180d", 180 * 86_400),
            ("1 day", 86_400),
            ("3 Days", 3 * 86_400),
            ("8w", 8 * 7 * 86_400),
            ("2 weeks", 14 * 86_400),
            (" 0s ", 0),
        ] {
            assert_eq!(secs(text), Some(want), "{text}");
        }
        assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    }

    #[test]
    fn durations_refuse_what_has_no_fixed_length_or_no_number() {
        for text in [
            "",
            "soon",
            "d",
            "3",
            "3 months",
            "1y",
            "-3d",
            "1.5h",
            "3 dayz",
            "3 ss",
            "99999999999999999999d",
            "18446744073709551615w",
        ] {
            assert_eq!(parse_duration(text), None, "{text}");
        }
    }

    #[test]
    fn absolute_times_do_not_depend_on_now() {
        let now = at(NOW);
        assert_eq!(
            parse_time("2026-11-20", now),
            Some(at("2026-11-20T00:00:00Z"))
        );
        assert_eq!(
            parse_time("2026-11-20T09:30:00+02:00", now),
            Some(at("2026-11-20T07:30:00Z"))
        );
    }

    #[test]
    fn relative_times_count_from_the_given_now() {
        let now = at(NOW);
        for (text, want) in [
            ("now", NOW),
            ("Now", NOW),
            ("yesterday", "2026-11-24T12:34:56Z"),
            (" YESTERDAY ", "2026-11-24T12:34:56Z"),
            ("tomorrow", "2026-11-26T12:34:56Z"),
            ("3 days ago", "2026-11-22T12:34:56Z"),
            ("1 day ago", "2026-11-24T12:34:56Z"),
            ("90m ago", "2026-11-25T11:04:56Z"),
            ("2 weeks ago", "2026-11-11T12:34:56Z"),
            ("in 3 days", "2026-11-28T12:34:56Z"),
            ("in 90m", "2026-11-25T14:04:56Z"),
        ] {
            assert_eq!(parse_time(text, now), Some(at(want)), "{text}");
        }
        // Another now, another answer: nothing reads the wall clock.
        assert_eq!(
            parse_time("yesterday", at("2000-03-01T00:00:00Z")),
            Some(at("2000-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn what_is_not_a_time_is_refused() {
        let now = at(NOW);
        for text in [
            "",
            "3 days",
            "30d",
            "ago",
            "3 days from now",
            "in",
            "in soon",
            "last week",
            "2026-13-01",
            "HEAD~2",
            "before-migration",
            "99999999999999w ago",
        ] {
            assert_eq!(parse_time(text, now), None, "{text}");
        }
    }

    #[test]
    fn a_deadline_is_a_time_or_a_duration_from_now() {
        let now = at(NOW);
        assert_eq!(parse_deadline("90m", now), Some(at("2026-11-25T14:04:56Z")));
        assert_eq!(
            parse_deadline("3 days", now),
            Some(at("2026-11-28T12:34:56Z"))
        );
        assert_eq!(
            parse_deadline("in 3 days", now),
            Some(at("2026-11-28T12:34:56Z"))
        );
        assert_eq!(
            parse_deadline("tomorrow", now),
            Some(at("2026-11-26T12:34:56Z"))
        );
        // A past time stays a past time: refusing it is the caller's call.
        assert_eq!(
            parse_deadline("yesterday", now),
            Some(at("2026-11-24T12:34:56Z"))
        );
        assert_eq!(parse_deadline("someday", now), None);
    }
}
