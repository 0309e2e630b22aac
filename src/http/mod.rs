//! The HTTP server of `memdir serve`: a JSON API under `/v1` (`api.rs`) described by OpenAPI
//! (`openapi.rs`), and server-rendered pages at `/` for a person to inspect what an agent
//! believes (`pages/`).
//!
//! An adapter only: every handler turns a request into one [`Memdir`] call (run on tokio's
//! blocking pool, as git and tantivy block) and its result into JSON or HTML. Rules live in
//! the library. This module owns what is HTTP's own: routes, the bearer token (`auth.rs`),
//! how a library error becomes a status and a JSON body (`error.rs`), and the body limit.
//!
//! The server takes a listener bound by the caller and a shutdown future, so tests bind
//! `127.0.0.1:0` in-process:
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use memdir::http::{ServeOptions, Token};
//!
//! let mem = Arc::new(memdir::Memdir::open(std::path::Path::new("/home/me/mem"))?);
//! let options = ServeOptions {
//!     token: Token::new("s3cret"),
//!     review_token: None,
//! };
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7878").await?;
//! memdir::http::serve(listener, mem, options, std::future::pending()).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

use crate::Memdir;

mod api;
mod auth;
mod error;
mod openapi;
mod pages;

pub use auth::Token;
pub use error::ApiError;

/// The largest request body accepted, in bytes (the size limit of a memory file); a larger
/// one is refused with 413.
pub const MAX_BODY_BYTES: usize = crate::parse::MAX_FILE_BYTES;

/// How the server runs.
#[derive(Debug, Clone, Default)]
pub struct ServeOptions {
    /// The bearer token. Without one, writes are refused (401) and the server only listens
    /// on loopback; with one, every request except `/v1/health` and `/v1/openapi.json`
    /// must carry it.
    pub token: Option<Token>,
    /// The reviewer's token: the only one that may approve or reject a quarantined memory
    /// (`POST /v1/quarantine/{id}/approve|reject`), so that an agent given the write token
    /// cannot let its own quarantined write in. It also passes wherever the write token
    /// does. Without one, approving and rejecting over HTTP are refused (403).
    pub review_token: Option<Token>,
}

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address was asked for without a token: anyone on the network could
    /// read every memory.
    #[error(
        "refusing to listen on {addr} without a token: anyone who can reach it could read every memory"
    )]
    Exposed {
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The socket failed.
    #[error("cannot serve on {addr}")]
    Io {
        /// The address.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// State every handler shares.
#[derive(Clone)]
struct AppState {
    mem: Arc<Memdir>,
    token: Option<Token>,
    review_token: Option<Token>,
}

impl AppState {
    /// Runs a library call on tokio's blocking pool (git and tantivy block) and maps its
    /// error.
    async fn run<T: Send + 'static>(
        &self,
        call: impl FnOnce(&Memdir) -> crate::Result<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let mem = self.mem.clone();
        match tokio::task::spawn_blocking(move || call(&mem)).await {
            Ok(result) => Ok(result?),
            Err(e) => Err(ApiError::internal(format!(
                "the request's task failed: {e}"
            ))),
        }
    }
}

/// Returns an error unless the server may listen on `addr` with `options`: loopback
/// addresses always, others only with a token.
///
/// ```
/// use memdir::http::{ServeOptions, Token, check_addr};
/// assert!(check_addr(&"127.0.0.1:7878".parse().unwrap(), &ServeOptions::default()).is_ok());
/// assert!(check_addr(&"0.0.0.0:7878".parse().unwrap(), &ServeOptions::default()).is_err());
/// let with_token = ServeOptions { token: Token::new("s3cret"), ..ServeOptions::default() };
/// assert!(check_addr(&"0.0.0.0:7878".parse().unwrap(), &with_token).is_ok());
/// ```
pub fn check_addr(addr: &SocketAddr, options: &ServeOptions) -> Result<(), ServeError> {
    if addr.ip().is_loopback() || options.token.is_some() {
        Ok(())
    } else {
        Err(ServeError::Exposed { addr: *addr })
    }
}

/// Returns the whole application: the API, its OpenAPI description and the pages, with
/// authentication and the body limit.
pub fn router(mem: Arc<Memdir>, options: ServeOptions) -> Router {
    let state = AppState {
        mem,
        token: options.token,
        review_token: options.review_token,
    };
    let (api, doc) = api::router().split_for_parts();
    Router::new()
        .merge(api)
        .merge(openapi::router(doc))
        .merge(pages::router())
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves [`router`] on `listener` until `shutdown` completes, then finishes the requests
/// in flight. Refuses a listener on a non-loopback address without a token
/// ([`check_addr`]).
pub async fn serve(
    listener: tokio::net::TcpListener,
    mem: Arc<Memdir>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = listener.local_addr().map_err(|source| ServeError::Io {
        addr: "the listener".into(),
        source,
    })?;
    check_addr(&addr, &options)?;
    tracing::info!(%addr, token = options.token.is_some(), "serving");
    axum::serve(listener, router(mem, options))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|source| ServeError::Io {
            addr: addr.to_string(),
            source,
        })
}
