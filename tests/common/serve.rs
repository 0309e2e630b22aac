//! A real `memdir serve` server in-process, on 127.0.0.1 and a port the OS picks, and a real
//! HTTP client for it. The listener is bound before the server task starts, so requests
//! queue in the socket's backlog until it accepts them: no wait for readiness is needed.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use memdir::Memdir;
use memdir::http::{ServeOptions, Token};

/// The running server. Dropping it shuts it down.
pub struct TestServer {
    runtime: Option<tokio::runtime::Runtime>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Serves `mem`, with `token` if given.
    pub fn start(mem: Memdir, token: Option<&str>) -> TestServer {
        TestServer::start_with(
            mem,
            ServeOptions {
                token: token.and_then(Token::new),
                review_token: None,
            },
        )
    }

    /// Serves `mem` with `options`.
    pub fn start_with(mem: Memdir, options: ServeOptions) -> TestServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let shutdown = async {
                let _ = stopped.await;
            };
            memdir::http::serve(listener, Arc::new(mem), options, shutdown)
                .await
                .expect("server runs");
        });
        TestServer {
            runtime: Some(runtime),
            addr,
            stop: Some(stop),
        }
    }

    /// Returns the server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Returns the URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Returns a client for this server, sending `token` as a bearer token if given.
    pub fn client(&self, token: Option<&str>) -> Http {
        Http {
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            // Redirects are answers the tests look at, not followed. The timeout is far above
            // any answer's time; it only turns a hung server into a failure.
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(std::time::Duration::from_secs(120))
                .build()
                .unwrap(),
            base: self.url(""),
            token: token.map(str::to_owned),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

/// A blocking HTTP client (reqwest on its own runtime).
pub struct Http {
    runtime: tokio::runtime::Runtime,
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

/// An answer.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, names lower-case.
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

impl Reply {
    /// Parses the body as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {} {}", self.status, self.body))
    }

    /// Returns the status and the pretty JSON body, for snapshots.
    pub fn render(&self) -> String {
        format!(
            "{}\n{}",
            self.status,
            serde_json::to_string_pretty(&self.json()).unwrap()
        )
    }

    /// Returns a header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

impl Http {
    /// Sends a request built by `build` from a builder for `method` and `path`.
    pub fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        build: impl FnOnce(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        let request = build(request);
        self.runtime.block_on(async move {
            let response = request.send().await.expect("request is answered");
            let status = response.status().as_u16();
            let headers = response
                .headers()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
                .collect();
            let body = response.text().await.expect("body is read");
            Reply {
                status,
                headers,
                body,
            }
        })
    }

    /// GETs `path`.
    pub fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, |r| r)
    }

    /// POSTs `body` as JSON to `path`.
    pub fn post(&self, path: &str, body: serde_json::Value) -> Reply {
        self.send(reqwest::Method::POST, path, |r| r.json(&body))
    }

    /// PATCHes `path` with `body` as JSON.
    pub fn patch(&self, path: &str, body: serde_json::Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, |r| r.json(&body))
    }

    /// DELETEs `path`.
    pub fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, |r| r)
    }
}
