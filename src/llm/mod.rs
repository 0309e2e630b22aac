//! Calling a model: one stateless chat request to an OpenAI-style server (OpenAI, Ollama,
//! llama.cpp, vLLM, ...) or to Anthropic's Messages API, with a timeout and retries.
//!
//! [`LlmClient`] owns the HTTP side: it builds the provider's request (`openai.rs`,
//! `anthropic.rs`), retries 429 and 5xx answers with backoff (`retry.rs`), and turns every
//! failure into an [`LlmError`] that says what to do. It never reads the environment: the
//! caller resolves `[llm] api_key_env` to an [`ApiKey`] ([`key_from_env`] reads it from this
//! process's environment). What is asked is left to the
//! features: [`Memdir::ask`](crate::Memdir::ask) (`ask.rs`) and [`crate::extract`].
//!
//! The client is async (reqwest on tokio); a command-line caller runs it on a current-thread
//! runtime.
//!
//! ```no_run
//! # async fn run() -> Result<(), memdir::llm::LlmError> {
//! use memdir::config::{LlmConfig, LlmProvider};
//! use memdir::llm::{ApiKey, ChatMessage, ChatRequest, LlmClient};
//!
//! let config = LlmConfig::new(LlmProvider::Anthropic, "claude-sonnet-4-5");
//! let key = ApiKey::new("$ANTHROPIC_API_KEY", std::env::var("ANTHROPIC_API_KEY").unwrap());
//! let client = LlmClient::new(&config, Some(key))?;
//! let answer = client.complete(&ChatRequest::new("Answer in one word.", "Capital of France?")).await?;
//! println!("{} says {}", answer.model, answer.text);
//! # Ok(()) }
//! ```

mod anthropic;
mod ask;
mod openai;
mod retry;

use std::time::Duration;

use serde::Serialize;

pub use ask::{ASK_SYSTEM_PROMPT, Answer};
pub use retry::RetryPolicy;

use crate::config::{LlmConfig, LlmProvider};

/// The longest the client waits for a connection, within the request's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a server's error body goes into a message.
const MESSAGE_CHARS: usize = 300;

/// Why a model call failed. Each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The server refused the key (401 or 403), or wants one and none was sent.
    #[error("{}", unauthorized(*status, key.as_deref(), url, message))]
    Unauthorized {
        /// 401 or 403.
        status: u16,
        /// Where the key came from (`$OPENAI_API_KEY`), or `None` when none was sent.
        key: Option<String>,
        /// The endpoint.
        url: String,
        /// What the server said.
        message: String,
    },
    /// The server answered with an error status (after the retries, for 429 and 5xx).
    #[error("{}", status_message(*status, url, message, *retries))]
    Status {
        /// The HTTP status.
        status: u16,
        /// The endpoint.
        url: String,
        /// What the server said.
        message: String,
        /// How many times the request was retried.
        retries: u32,
    },
    /// No complete answer within the timeout.
    #[error(
        "no answer from {url} within {} s: the model may be slow to answer or the server stuck; raise [llm] timeout_secs in memory.toml if it is just slow",
        after.as_secs_f64()
    )]
    Timeout {
        /// The endpoint.
        url: String,
        /// The timeout that ran out.
        after: Duration,
    },
    /// No connection could be made.
    #[error(
        "cannot reach {url}: is the server running, and is [llm] base_url in memory.toml right?"
    )]
    Unreachable {
        /// The endpoint.
        url: String,
        /// What the connection attempt ran into.
        #[source]
        source: reqwest::Error,
    },
    /// The connection broke or another transport failure happened.
    #[error("the request to {url} failed")]
    Http {
        /// The endpoint.
        url: String,
        /// The transport error.
        #[source]
        source: reqwest::Error,
    },
    /// A success status, but a body that is not the provider's answer.
    #[error(
        "the answer from {url} is not a {provider} response ({message}); is [llm] provider right for this server?"
    )]
    BadResponse {
        /// The endpoint.
        url: String,
        /// The provider the answer was read as.
        provider: LlmProvider,
        /// What is missing or malformed.
        message: String,
    },
    /// The base URL does not make a usable endpoint.
    #[error("`{url}` is not a usable endpoint ({message}); check [llm] base_url in memory.toml")]
    InvalidUrl {
        /// The endpoint as built from the base URL.
        url: String,
        /// What the URL parser said.
        message: String,
    },
    /// The HTTP client could not be set up.
    #[error("cannot set up the HTTP client")]
    Client(#[source] reqwest::Error),
}

fn unauthorized(status: u16, key: Option<&str>, url: &str, message: &str) -> String {
    match key {
        Some(key) => format!(
            "the server refused the key in {key} ({status}: {message}); check the key, and that it is meant for {url}"
        ),
        None => format!(
            "the server at {url} wants an API key ({status}: {message}); set [llm] api_key_env in memory.toml to the name of the environment variable that holds it"
        ),
    }
}

fn status_message(status: u16, url: &str, message: &str, retries: u32) -> String {
    let after = match retries {
        0 => String::new(),
        1 => " after 1 retry".into(),
        n => format!(" after {n} retries"),
    };
    let what_to_do = match status {
        404 => "check [llm] base_url (OpenAI-style servers usually end in /v1) and model",
        429 => "the server is rate-limiting; wait and try again, or raise [llm] max_retries",
        400 | 422 => "the server rejected the request; check [llm] model and provider",
        s if s >= 500 => "the server is in trouble; try again later",
        _ => "check [llm] in memory.toml",
    };
    format!("{url} answered {status}{after}: {message}; {what_to_do}")
}

/// `[llm] api_key_env` names a variable that is not set, or is empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "${var} is not set: [llm] api_key_env in memory.toml names it as the variable that holds the API key"
)]
pub struct KeyNotSet {
    /// The variable's name.
    pub var: String,
}

/// Reads the key that `config.api_key_env` names from this process's environment: `None`
/// when it names no variable (local servers want no key).
///
/// ```
/// use memdir::config::{LlmConfig, LlmProvider};
/// use memdir::llm::key_from_env;
///
/// let local = LlmConfig::new(LlmProvider::Openai, "llama3.2");
/// assert!(key_from_env(&local).unwrap().is_none());
/// let hosted = LlmConfig {
///     api_key_env: Some("MEMDIR_DOC_NO_SUCH_KEY".into()),
///     ..local
/// };
/// assert_eq!(key_from_env(&hosted).unwrap_err().var, "MEMDIR_DOC_NO_SUCH_KEY");
/// ```
pub fn key_from_env(config: &LlmConfig) -> Result<Option<ApiKey>, KeyNotSet> {
    let Some(name) = &config.api_key_env else {
        return Ok(None);
    };
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => {
            Ok(Some(ApiKey::new(format!("${name}"), value.trim())))
        }
        _ => Err(KeyNotSet { var: name.clone() }),
    }
}

/// An API key and where it came from (named in messages, the key itself never).
#[derive(Clone)]
pub struct ApiKey {
    source: String,
    value: String,
}

impl ApiKey {
    /// Returns a key; `source` says where it came from, such as `$OPENAI_API_KEY`.
    pub fn new(source: impl Into<String>, value: impl Into<String>) -> Self {
        ApiKey {
            source: source.into(),
            value: value.into(),
        }
    }

    /// Returns where the key came from.
    pub fn source(&self) -> &str {
        &self.source
    }
}

/// Shows where the key came from, never the key.
impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({})", self.source)
    }
}

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person (or the program) asking.
    User,
    /// The model.
    Assistant,
}

/// One message of a chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatMessage {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl ChatMessage {
    /// Returns a user message.
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::User,
            content: content.into(),
        }
    }
}

/// A whole, stateless request: a system prompt and the messages so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatRequest {
    /// Instructions that frame the conversation.
    pub system: Option<String>,
    /// The messages, starting with the user's.
    pub messages: Vec<ChatMessage>,
}

impl ChatRequest {
    /// Returns a request of one user message under a system prompt.
    pub fn new(system: impl Into<String>, user: impl Into<String>) -> Self {
        ChatRequest {
            system: Some(system.into()),
            messages: vec![ChatMessage::user(user)],
        }
    }
}

/// The model's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completion {
    /// The text of the answer.
    pub text: String,
    /// The model that answered, as the server names it (else as configured).
    pub model: String,
    /// Prompt tokens, when the server says.
    pub input_tokens: Option<u64>,
    /// Answer tokens, when the server says.
    pub output_tokens: Option<u64>,
}

/// A configured model endpoint. Cheap to share: requests take `&self`.
#[derive(Debug, Clone)]
pub struct LlmClient {
    http: reqwest::Client,
    provider: LlmProvider,
    url: reqwest::Url,
    model: String,
    key: Option<ApiKey>,
    timeout: Duration,
    retry: RetryPolicy,
    max_tokens: u32,
}

impl LlmClient {
    /// Returns a client for `[llm]` settings, with the key the caller read from
    /// `api_key_env` (or `None` to send no key). Retries wait as [`RetryPolicy::default`]
    /// says, up to `config.max_retries` times.
    pub fn new(config: &LlmConfig, key: Option<ApiKey>) -> Result<LlmClient, LlmError> {
        let endpoint = match config.provider {
            LlmProvider::Openai => openai::endpoint(config.base_url()),
            LlmProvider::Anthropic => anthropic::endpoint(config.base_url()),
        };
        let url = reqwest::Url::parse(&endpoint).map_err(|e| LlmError::InvalidUrl {
            url: endpoint.clone(),
            message: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(LlmError::InvalidUrl {
                url: endpoint,
                message: "use http:// or https://".into(),
            });
        }
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("memdir/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(LlmError::Client)?;
        Ok(LlmClient {
            http,
            provider: config.provider,
            url,
            model: config.model.clone(),
            key,
            timeout: Duration::from_secs(config.timeout_secs),
            retry: RetryPolicy {
                max_retries: config.max_retries,
                ..RetryPolicy::default()
            },
            max_tokens: config.max_tokens,
        })
    }

    /// Sets how long one request may take, from connecting to the last byte.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how 429 and 5xx answers are retried.
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// Returns the configured model name.
    pub fn model(&self) -> &str {
        &self.model
    }

    /// Returns the provider the client speaks.
    pub fn provider(&self) -> LlmProvider {
        self.provider
    }

    /// Returns the endpoint requests go to.
    pub fn url(&self) -> &str {
        self.url.as_str()
    }

    /// Sends `request` and returns the model's answer. A 429 or 5xx answer is retried as the
    /// [`RetryPolicy`] says (honouring `Retry-After`); nothing else is.
    #[tracing::instrument(skip_all, fields(provider = %self.provider, model = %self.model))]
    pub async fn complete(&self, request: &ChatRequest) -> Result<Completion, LlmError> {
        let (body, headers) = match self.provider {
            LlmProvider::Openai => (
                openai::body(&self.model, request),
                openai::auth_headers(self.key.as_ref()),
            ),
            LlmProvider::Anthropic => (
                anthropic::body(&self.model, self.max_tokens, request),
                anthropic::auth_headers(self.key.as_ref()),
            ),
        };
        let mut retries = 0;
        loop {
            let mut builder = self
                .http
                .post(self.url.clone())
                .timeout(self.timeout)
                .json(&body);
            for (name, value) in &headers {
                builder = builder.header(*name, value);
            }
            let response = builder.send().await.map_err(|e| self.transport(e))?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(retry::parse_retry_after);
            let bytes = response.bytes().await.map_err(|e| self.transport(e))?;
            if (200..300).contains(&status) {
                let parsed = match self.provider {
                    LlmProvider::Openai => openai::parse(&bytes, &self.model),
                    LlmProvider::Anthropic => anthropic::parse(&bytes, &self.model),
                };
                let completion = parsed.map_err(|message| LlmError::BadResponse {
                    url: self.url.to_string(),
                    provider: self.provider,
                    message,
                })?;
                tracing::debug!(
                    input_tokens = completion.input_tokens,
                    output_tokens = completion.output_tokens,
                    "model answered"
                );
                return Ok(completion);
            }
            let message = server_message(&bytes);
            if retry::is_retryable(status) && retries < self.retry.max_retries {
                let delay = self.retry.delay(retries, retry_after);
                tracing::warn!(
                    "{} answered {status} ({message}); retrying in {:.1} s",
                    self.url,
                    delay.as_secs_f64()
                );
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                retries += 1;
                continue;
            }
            let url = self.url.to_string();
            return Err(match status {
                401 | 403 => LlmError::Unauthorized {
                    status,
                    key: self.key.as_ref().map(|k| k.source.clone()),
                    url,
                    message,
                },
                _ => LlmError::Status {
                    status,
                    url,
                    message,
                    retries,
                },
            });
        }
    }

    /// Classifies a transport failure.
    fn transport(&self, e: reqwest::Error) -> LlmError {
        let url = self.url.to_string();
        if e.is_connect() {
            LlmError::Unreachable { url, source: e }
        } else if e.is_timeout() {
            LlmError::Timeout {
                url,
                after: self.timeout,
            }
        } else {
            LlmError::Http { url, source: e }
        }
    }
}

/// Returns what an error body says: `error.message` (OpenAI, Anthropic), `error` as a string
/// (Ollama), else the start of the body.
fn server_message(body: &[u8]) -> String {
    let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let said = json.as_ref().and_then(|v| {
        let e = v.get("error")?;
        e.get("message")
            .and_then(|m| m.as_str())
            .or_else(|| e.as_str())
            .map(str::to_owned)
    });
    let text = said.unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return "no message".into();
    }
    match text.char_indices().nth(MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_are_read_from_each_error_shape() {
        for (body, want) in [
            (
                &br#"{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}"#[..],
                "Incorrect API key provided",
            ),
            (
                br#"{"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}"#,
                "invalid x-api-key",
            ),
            (br#"{"error": "model 'llama9' not found"}"#, "model 'llama9' not found"),
            (b"<html>\n  Bad Gateway\n</html>", "<html> Bad Gateway </html>"),
            (b"", "no message"),
        ] {
            assert_eq!(server_message(body), want);
        }
        assert!(server_message(&[b'x'; 1000]).ends_with("x..."));
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = LlmError::Unauthorized {
            status: 401,
            key: Some("$OPENAI_API_KEY".into()),
            url: "https://api.openai.com/v1/chat/completions".into(),
            message: "Incorrect API key provided".into(),
        };
        assert_eq!(
            e.to_string(),
            "the server refused the key in $OPENAI_API_KEY (401: Incorrect API key provided); check the key, and that it is meant for https://api.openai.com/v1/chat/completions"
        );
        let e = LlmError::Status {
            status: 429,
            url: "http://h/v1/messages".into(),
            message: "slow down".into(),
            retries: 3,
        };
        assert_eq!(
            e.to_string(),
            "http://h/v1/messages answered 429 after 3 retries: slow down; the server is rate-limiting; wait and try again, or raise [llm] max_retries"
        );
    }

    #[test]
    fn the_key_never_shows_in_debug_output() {
        let key = ApiKey::new("$K", "sk-secret");
        let client =
            LlmClient::new(&LlmConfig::new(LlmProvider::Openai, "m"), Some(key.clone())).unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey($K)");
        assert!(!format!("{client:?}").contains("sk-secret"));
    }

    #[test]
    fn endpoints_follow_each_provider_convention() {
        let mut config = LlmConfig::new(LlmProvider::Openai, "m");
        let client = LlmClient::new(&config, None).unwrap();
        assert_eq!(client.url(), "https://api.openai.com/v1/chat/completions");
        config.base_url = Some("http://127.0.0.1:8080/v1/".into());
        let client = LlmClient::new(&config, None).unwrap();
        assert_eq!(client.url(), "http://127.0.0.1:8080/v1/chat/completions");
        let client = LlmClient::new(&LlmConfig::new(LlmProvider::Anthropic, "m"), None).unwrap();
        assert_eq!(client.url(), "https://api.anthropic.com/v1/messages");
    }
}
