//! When to try a request again, and how long to wait first. Pure: the client does the waiting.

use std::time::Duration;

/// How a request answered with 429 (rate limited) or 5xx (server trouble) is retried.
///
/// The wait before retry `n` (from 0) is the server's `Retry-After` seconds when it sends
/// them, else `base_delay * 2^n`; either way at most `max_delay`. Other failures (401, 404,
/// a timeout, a refused connection) are never retried: trying again would not change them.
///
/// ```
/// use std::time::Duration;
/// use memdir::llm::RetryPolicy;
/// let p = RetryPolicy::default();
/// assert_eq!(p.delay(0, None), Duration::from_millis(500));
/// assert_eq!(p.delay(2, None), Duration::from_secs(2));
/// assert_eq!(p.delay(0, Some(Duration::from_secs(600))), p.max_delay);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// How many times to try again after the first attempt.
    pub max_retries: u32,
    /// The wait before the first retry; it doubles for each one after.
    pub base_delay: Duration,
    /// The longest wait, whatever the server asks for.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// Returns a policy that retries `max_retries` times without waiting (for tests, and for
    /// callers that pace requests themselves).
    pub fn immediate(max_retries: u32) -> Self {
        RetryPolicy {
            max_retries,
            base_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
        }
    }

    /// Returns the wait before retry `retry` (0 for the first), given the server's
    /// `Retry-After`, if any.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        let backoff = || {
            self.base_delay
                .checked_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
                .unwrap_or(Duration::MAX)
        };
        retry_after.unwrap_or_else(backoff).min(self.max_delay)
    }
}

/// Returns true for the statuses worth trying again: 429 and every 5xx (Anthropic's 529
/// "overloaded" included).
pub(super) fn is_retryable(status: u16) -> bool {
    status == 429 || (500..600).contains(&status)
}

/// Reads a `Retry-After` header given in seconds. The HTTP-date form is ignored (backoff
/// applies): no server of these APIs sends it.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let p = RetryPolicy {
            max_retries: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        let delays: Vec<u128> = (0..6).map(|n| p.delay(n, None).as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 800, 1000, 1000]);
        assert_eq!(p.delay(40, None), Duration::from_secs(1), "no overflow");
    }

    #[test]
    fn retry_after_is_honoured_but_capped() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(0, parse_retry_after("2")), Duration::from_secs(2));
        assert_eq!(p.delay(0, parse_retry_after("3600")), p.max_delay);
        assert_eq!(
            RetryPolicy::immediate(3).delay(0, parse_retry_after("5")),
            Duration::ZERO
        );
    }

    #[test]
    fn only_seconds_are_read_from_retry_after() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("NaN"), None);
    }

    #[test]
    fn rate_limits_and_server_errors_are_retried_and_nothing_else() {
        for s in [429, 500, 502, 503, 504, 529] {
            assert!(is_retryable(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 408, 422] {
            assert!(!is_retryable(s), "{s}");
        }
    }
}
