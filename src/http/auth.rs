//! Who may do what: the bearer token and the middleware that checks it on every request.
//!
//! - No token configured: reads (`GET`) are open, as the server then only listens on
//!   loopback; every write gets 401.
//! - A token configured: every request must carry it, except `/v1/health` and
//!   `/v1/openapi.json`. Programs send `Authorization: Bearer TOKEN`; a browser, which cannot
//!   add that header to a link, is asked for HTTP Basic credentials, whose password is the
//!   token (any user name).
//!
//! - A reviewer's token configured (`MEMDIR_REVIEW_TOKEN`): it passes wherever the token
//!   does, and only it may approve or reject a quarantined memory (the request carries
//!   [`Reviewer`]).
//!
//! Tokens are compared in constant time. Without a token, a request must also name a loopback
//! host (`Host: localhost:7878`, `127.0.0.1`, `[::1]`): a web page whose domain re-resolves to
//! 127.0.0.1 (DNS rebinding) sends its own name, and is refused with 403.
//!
//! A request that would change something and that a browser says comes from another site
//! (its `Origin` names another host, or `Sec-Fetch-Site` says so) is refused with 403,
//! whatever it carries: a browser adds the credentials it remembers to a form posted from
//! any page, so without this check a page elsewhere could approve a quarantined memory in
//! the name of a reviewer who had signed in to memdir's pages. Programs send no `Origin`.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

use super::AppState;
use super::error::ApiError;

/// Paths anyone may read, token or not: liveness and the API's description.
const OPEN_PATHS: &[&str] = &["/v1/health", "/v1/openapi.json"];

/// A bearer token. Its `Debug` never shows it.
///
/// ```
/// use memdir::http::Token;
/// assert!(Token::new("  ").is_none());
/// let token = Token::new("s3cret").unwrap();
/// assert!(token.matches("s3cret") && !token.matches("s3cre"));
/// assert_eq!(format!("{token:?}"), "Token(..)");
/// ```
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Returns the token, or `None` when `text` is blank (no token).
    pub fn new(text: impl Into<String>) -> Option<Token> {
        let text = text.into();
        let text = text.trim();
        (!text.is_empty()).then(|| Token(text.to_owned()))
    }

    /// Returns true if `presented` is this token, comparing in constant time.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(..)")
    }
}

/// Returns the token a request carries: a bearer token, or the password of Basic
/// credentials.
fn presented(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(rest.trim().to_owned());
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()?;
        let text = String::from_utf8(bytes).ok()?;
        return text
            .split_once(':')
            .map(|(_, password)| password.to_owned());
    }
    None
}

/// Returns true unless the request's `Host` names something other than this machine's
/// loopback interface (a request without `Host` is allowed: only HTTP/1.0 omits it).
fn loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else {
        return true;
    };
    let Ok(host) = host.to_str() else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Returns true when a browser says the request comes from another site than this server.
/// `Sec-Fetch-Site`, which browsers set and pages cannot, decides when present: anything
/// but `same-origin` (or `none`, typed in the address bar) is another site. Otherwise
/// `Origin` does: `null` or another host and port than `Host` is another site. Requests with
/// neither header (programs) are not cross-site.
fn cross_site(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return site != "same-origin" && site != "none";
    }
    let Some(origin) = text(header::ORIGIN.as_str()) else {
        return false;
    };
    let origin_host = origin.split_once("://").map(|(_, host)| host);
    match (origin_host, text(header::HOST.as_str())) {
        (Some(from), Some(host)) => !from.eq_ignore_ascii_case(host),
        _ => true,
    }
}

/// Marks a request that carries the reviewer's token.
#[derive(Debug, Clone, Copy)]
pub(super) struct Reviewer;

/// Lets a request through if it may pass (see the module's rules); answers 401 otherwise.
pub(super) async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if OPEN_PATHS.contains(&path) {
        return next.run(request).await;
    }
    let write = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if write && cross_site(request.headers()) {
        return ApiError::forbidden(
            "a web page from another site may not change memories",
            "send changes from a program (which sends no Origin header) or from memdir's own pages",
        )
        .into_response();
    }
    let sent = presented(request.headers());
    if let (Some(review), Some(sent)) = (&state.review_token, &sent)
        && review.matches(sent)
    {
        request.extensions_mut().insert(Reviewer);
        return next.run(request).await;
    }
    let page = !request.uri().path().starts_with("/v1/");
    let Some(token) = &state.token else {
        if !loopback_host(request.headers()) {
            return ApiError::forbidden(
                "this server has no token, so it answers only requests addressed to a loopback name",
                "use http://127.0.0.1:PORT or http://localhost:PORT, or start `memdir serve` with MEMDIR_TOKEN set",
            )
            .into_response();
        }
        if write && page && state.review_token.is_some() {
            // A reviewer's form on the pages: the browser asks for the reviewer's token.
            return super::pages::ask_for_reviewer();
        }
        if write {
            return ApiError::unauthorized(
                "this server accepts no writes: it was started without a token",
                "start `memdir serve` with MEMDIR_TOKEN (or the variable `[serve] token_env` names) set, then send `Authorization: Bearer TOKEN`",
            )
            .into_response();
        }
        return next.run(request).await;
    };
    match sent {
        Some(p) if token.matches(&p) => next.run(request).await,
        sent => {
            let message = if sent.is_some() {
                "the token sent is not this server's token"
            } else {
                "this server needs a token"
            };
            let mut response = ApiError::unauthorized(
                message,
                "send `Authorization: Bearer TOKEN`, with the token the server was started with (in a browser: any user name, the token as password)",
            )
            .into_response();
            let challenge = if page {
                r#"Basic realm="memdir", charset="UTF-8""#
            } else {
                r#"Bearer realm="memdir""#
            };
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(challenge),
            );
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_names_pass_as_hosts() {
        let host = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, value.parse().unwrap());
            loopback_host(&h)
        };
        for ok in [
            "localhost",
            "localhost:7878",
            "127.0.0.1:7878",
            "127.9.9.9",
            "[::1]:80",
            "LOCALHOST",
        ] {
            assert!(host(ok), "{ok}");
        }
        for bad in [
            "evil.example",
            "evil.example:7878",
            "10.0.0.1:7878",
            "localhost.evil.example",
            "[2001:db8::1]:80",
        ] {
            assert!(!host(bad), "{bad}");
        }
        assert!(loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn tokens_are_read_from_bearer_and_basic_credentials() {
        let mut h = HeaderMap::new();
        assert_eq!(presented(&h), None);
        h.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(presented(&h).as_deref(), Some("abc"));
        // "me:s3:cret", as a browser sends it: the password may hold a colon.
        h.insert(
            header::AUTHORIZATION,
            "Basic bWU6czM6Y3JldA==".parse().unwrap(),
        );
        assert_eq!(presented(&h).as_deref(), Some("s3:cret"));
        h.insert(header::AUTHORIZATION, "Basic !!".parse().unwrap());
        assert_eq!(presented(&h), None);
        h.insert(header::AUTHORIZATION, "Digest abc".parse().unwrap());
        assert_eq!(presented(&h), None);
    }
}
