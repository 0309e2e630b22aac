//! A real HTTP server on 127.0.0.1 that plays the OpenAI chat completions API
//! (`POST /v1/chat/completions`) and Anthropic's Messages API (`POST /v1/messages`), so the
//! real client (library or `memdir` binary) is tested without the network.
//!
//! Tests script the replies in order (an answer, an error status with `Retry-After`, a request
//! left hanging, a raw body) and read back every request the server received: path, headers
//! and JSON body. With [`LlmServer::require_key`], a request without that key is refused with
//! 401 as the real services do, before any scripted reply is used.

use std::collections::{BTreeMap, VecDeque};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One scripted reply.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with the provider's answer carrying this text.
    Text(String),
    /// This status with the provider's error body carrying `message`, and a `Retry-After`
    /// header when given.
    Error {
        /// The HTTP status.
        status: u16,
        /// The error message.
        message: String,
        /// The `Retry-After` header's value.
        retry_after: Option<String>,
    },
    /// Never answer (the client's timeout must end the request).
    Hang,
    /// This status and body, as they are.
    Raw(u16, String),
}

impl Reply {
    /// Returns a 200 answer with `text`.
    pub fn text(text: impl Into<String>) -> Reply {
        Reply::Text(text.into())
    }

    /// Returns an error reply without `Retry-After`.
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Error {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The path, such as `/v1/messages`.
    pub path: String,
    /// Headers, names lower-case.
    pub headers: BTreeMap<String, String>,
    /// The JSON body.
    pub body: Value,
}

impl Recorded {
    /// Returns the system prompt: Anthropic's `system`, or OpenAI's first `system` message.
    pub fn system(&self) -> String {
        if let Some(s) = self.body["system"].as_str() {
            return s.to_owned();
        }
        self.messages()
            .into_iter()
            .find(|(role, _)| role == "system")
            .map(|(_, c)| c)
            .unwrap_or_default()
    }

    /// Returns the messages as (role, content).
    pub fn messages(&self) -> Vec<(String, String)> {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| {
                (
                    m["role"].as_str().unwrap_or_default().to_owned(),
                    m["content"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    /// Returns the last user message.
    pub fn user(&self) -> String {
        self.messages()
            .into_iter()
            .rev()
            .find(|(role, _)| role == "user")
            .map(|(_, c)| c)
            .unwrap_or_default()
    }
}

#[derive(Clone, Copy)]
enum Api {
    OpenAi,
    Anthropic,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<Recorded>>,
    key: Mutex<Option<String>>,
}

/// The running server. Dropping it stops it (and any request left hanging).
pub struct LlmServer {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl LlmServer {
    /// Starts a server on 127.0.0.1 and a free port, in its own runtime thread.
    pub fn start() -> LlmServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route(
                "/v1/chat/completions",
                post(|s: State<Arc<Shared>>, h: HeaderMap, b: Bytes| handle(s, Api::OpenAi, h, b)),
            )
            .route(
                "/v1/messages",
                post(|s: State<Arc<Shared>>, h: HeaderMap, b: Bytes| {
                    handle(s, Api::Anthropic, h, b)
                }),
            )
            .with_state(shared.clone());
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
        LlmServer {
            runtime: Some(runtime),
            addr,
            shared,
        }
    }

    /// Queues replies, used one per request in order.
    pub fn reply(&self, replies: impl IntoIterator<Item = Reply>) {
        self.shared.script.lock().unwrap().extend(replies);
    }

    /// Refuses with 401 every request that does not carry `key` (as a bearer token for
    /// OpenAI, as `x-api-key` for Anthropic).
    pub fn require_key(&self, key: &str) {
        *self.shared.key.lock().unwrap() = Some(key.to_owned());
    }

    /// Returns every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    /// Returns the base URL an OpenAI-style client is configured with (`.../v1`).
    pub fn openai_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Returns the base URL an Anthropic client is configured with.
    pub fn anthropic_base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LlmServer {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// Returns an address where nothing listens: a port that was just free.
pub fn dead_address() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    format!("http://{addr}")
}

/// Runs `future` on a current-thread runtime (the client's side of a test).
pub fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    api: Api,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let model = body["model"].as_str().unwrap_or("unknown").to_owned();
    let headers: BTreeMap<String, String> = headers
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
        .collect();
    let path = match api {
        Api::OpenAi => "/v1/chat/completions",
        Api::Anthropic => "/v1/messages",
    };
    shared.requests.lock().unwrap().push(Recorded {
        path: path.into(),
        headers: headers.clone(),
        body,
    });
    let required = shared.key.lock().unwrap().clone();
    if let Some(key) = required {
        let sent = match api {
            Api::OpenAi => headers
                .get("authorization")
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_owned),
            Api::Anthropic => headers.get("x-api-key").cloned(),
        };
        if sent.as_deref() != Some(key.as_str()) {
            let message = match api {
                Api::OpenAi => "Incorrect API key provided",
                Api::Anthropic => "invalid x-api-key",
            };
            return error(api, 401, message, None);
        }
    }
    let next = shared.script.lock().unwrap().pop_front();
    match next {
        Some(Reply::Text(text)) => {
            let answer = match api {
                Api::OpenAi => json!({
                    "id": "chatcmpl-test", "object": "chat.completion", "model": model,
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": text}}],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }),
                Api::Anthropic => json!({
                    "id": "msg_test", "type": "message", "role": "assistant", "model": model,
                    "content": [{"type": "text", "text": text}],
                    "stop_reason": "end_turn",
                    "usage": {"input_tokens": 10, "output_tokens": 5},
                }),
            };
            (StatusCode::OK, axum::Json(answer)).into_response()
        }
        Some(Reply::Error {
            status,
            message,
            retry_after,
        }) => error(api, status, &message, retry_after),
        Some(Reply::Hang) => std::future::pending().await,
        Some(Reply::Raw(status, body)) => {
            (StatusCode::from_u16(status).unwrap(), body).into_response()
        }
        None => error(
            api,
            400,
            "the test scripted no reply for this request",
            None,
        ),
    }
}

fn error(api: Api, status: u16, message: &str, retry_after: Option<String>) -> Response {
    let body = match api {
        Api::OpenAi => json!({"error": {"message": message, "type": "test_error", "code": null}}),
        Api::Anthropic => {
            json!({"type": "error", "error": {"type": "test_error", "message": message}})
        }
    };
    let mut response = (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response();
    if let Some(after) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", after.parse().unwrap());
    }
    response
}

/// Returns the real client for `server` as an OpenAI-style provider (`test-model`, a key,
/// no retries): what library tests call the model through.
pub fn openai_client(server: &LlmServer) -> memdir::llm::LlmClient {
    use memdir::config::{LlmConfig, LlmProvider};
    use memdir::llm::{ApiKey, LlmClient, RetryPolicy};
    let config = LlmConfig {
        base_url: Some(server.openai_base()),
        ..LlmConfig::new(LlmProvider::Openai, "test-model")
    };
    LlmClient::new(&config, Some(ApiKey::new("$K", "k")))
        .unwrap()
        .with_retry(RetryPolicy::immediate(0))
}
