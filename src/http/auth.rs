//! Who may do what: the bearer token and the middleware that checks it on every request.
//!
//! - No token configured: reads (`GET`) are open, as the server then only listens on
//!   loopback; every write gets 401.
//! - A token configured: every request must carry it, except `/v1/health` and
//!   `/v1/openapi.json`. Programs send `Authorization: Bearer TOKEN`; a browser, which cannot
//!   add that header to a link, is asked for HTTP Basic credentials, whose password is the
//!   token (any user name).
//!
//! Tokens are compared in constant time.

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

/// Lets a request through if it may pass (see the module's rules); answers 401 otherwise.
pub(super) async fn require_token(
    State(state): State<AppState>,
    request: Request,
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
    let page = !path.starts_with("/v1/");
    let Some(token) = &state.token else {
        if write {
            return ApiError::unauthorized(
                "this server accepts no writes: it was started without a token",
                "start `memdir serve` with MEMDIR_TOKEN (or the variable `[serve] token_env` names) set, then send `Authorization: Bearer TOKEN`",
            )
            .into_response();
        }
        return next.run(request).await;
    };
    match presented(request.headers()) {
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
