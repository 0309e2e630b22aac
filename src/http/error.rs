//! Every failure as one JSON shape, mapped in one place:
//!
//! ```json
//! {"error": {"code": "not_found", "message": "no memory with id `x`", "hint": "..."}}
//! ```
//!
//! `code` is stable (a client matches on it); `message` says what went wrong and where; `hint`
//! says what to do. Library errors map through [`crate::Error::code`]; bodies and query
//! strings that do not parse, unknown routes and wrong methods get the same shape.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;

use crate::ErrorKind;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// An error answer: a status and the JSON body `{"error": {code, message, hint}}`.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    body: ErrorDetail,
}

/// The body of every error answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ErrorBody {
    error: ErrorDetail,
}

/// What went wrong.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(super) struct ErrorDetail {
    /// Stable, machine-readable: `invalid`, `invalid_id`, `unauthorized`, `not_found`,
    /// `method_not_allowed`, `conflict`, `duplicate_id`, `too_large`,
    /// `unsupported_media_type`, `config`, `internal`.
    code: &'static str,
    /// What went wrong and where.
    message: String,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            body: ErrorDetail {
                code,
                message: message.into(),
                hint: None,
            },
        }
    }

    fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.body.hint = Some(hint.into());
        self
    }

    /// Returns a 400 `invalid` error.
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// Returns a 500 `internal` error.
    pub(super) fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// Returns a 401 `unauthorized` error.
    pub(super) fn forbidden(message: &str, hint: &str) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message).with_hint(hint)
    }

    pub(super) fn unauthorized(message: &str, hint: &str) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message).with_hint(hint)
    }

    /// Returns the status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// Returns the stable code, such as `not_found`.
    pub fn code(&self) -> &'static str {
        self.body.code
    }

    /// Returns what went wrong.
    pub fn message(&self) -> &str {
        &self.body.message
    }

    /// Returns what to do about it, if there is advice.
    pub fn hint(&self) -> Option<&str> {
        self.body.hint.as_deref()
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        let kind = e.kind();
        let code = kind.code();
        let (status, hint) = match kind {
            ErrorKind::InvalidId => (
                StatusCode::BAD_REQUEST,
                "ids are lower-case letters, digits, `-`, `_` and `.`; GET /v1/memories lists them",
            ),
            ErrorKind::NotFound => (
                StatusCode::NOT_FOUND,
                "GET /v1/memories lists every id; GET /v1/search?query=WORDS finds one",
            ),
            ErrorKind::Conflict => (
                StatusCode::CONFLICT,
                "GET the memory for its current revision, check the change still applies, and send that revision as expected_revision",
            ),
            ErrorKind::DuplicateId => (
                StatusCode::CONFLICT,
                "`memdir check` lists duplicate ids; give one of the files a new id",
            ),
            ErrorKind::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "another git process holds the branch; nothing was changed: retry the request",
            ),
            ErrorKind::Config => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "fix memory.toml (`memdir check` names the problem)",
            ),
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, ""),
            ErrorKind::Upstream => (
                StatusCode::BAD_GATEWAY,
                "the model server of [llm] failed; the message says what it answered",
            ),
            ErrorKind::NotARepository | ErrorKind::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "the server's log has the details (run it with MEMDIR_LOG=debug)",
            ),
        };
        if status.is_server_error() {
            tracing::error!(error = %e.chain(), "request failed");
        }
        let error = ApiError::new(status, code, e.chain());
        if hint.is_empty() {
            error
        } else {
            error.with_hint(hint)
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(ErrorBody { error: self.body })).into_response()
    }
}

/// Answers a path no route serves.
pub(super) async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("nothing is served at {}", uri.path()),
    )
    .with_hint("GET /v1/openapi.json lists the API's paths; / is the inspection pages")
}

/// Answers a method a route does not take.
pub(super) async fn method_not_allowed(
    method: axum::http::Method,
    uri: axum::http::Uri,
) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{} does not take {method}", uri.path()),
    )
    .with_hint("GET /v1/openapi.json lists each path's methods")
}

/// A JSON body whose failures answer in the API's error shape: 413 over the size limit, 415
/// without `Content-Type: application/json`, 400 when it does not parse or fit.
pub(super) struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(&rejection)),
        }
    }
}

fn json_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "the request body is over the limit of {} MiB",
                super::MAX_BODY_BYTES / (1024 * 1024)
            ),
        )
        .with_hint("a memory file has the same limit: split the text into several memories"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "the request body must be JSON",
        )
        .with_hint("send `Content-Type: application/json`"),
        _ => ApiError::invalid(format!("request body: {}", rejection.body_text()))
            .with_hint("GET /v1/openapi.json describes each request body"),
    }
}

/// A query string whose failures answer 400 in the API's error shape.
pub(super) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_rejection(&rejection)),
        }
    }
}

fn query_rejection(rejection: &QueryRejection) -> ApiError {
    ApiError::invalid(format!("query string: {}", rejection.body_text()))
        .with_hint("GET /v1/openapi.json lists each path's parameters")
}
