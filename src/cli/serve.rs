//! `memdir serve`

use std::net::SocketAddr;
use std::sync::Arc;

use clap::Args;
use memdir::http::{ServeOptions, Token, check_addr, serve};

use super::{CliError, Globals};

/// Serve the HTTP API and the inspection pages
///
/// JSON endpoints under /v1 (memories, search, context, history, diff, quarantine; the
/// OpenAPI description at /v1/openapi.json) and pages at / for a person to browse memories,
/// their history and the quarantine. Hand edits are seen as they are saved, as with
/// `memdir watch`. Stops on Ctrl-C after the requests in flight.
///
/// Authentication: the token is read from $MEMDIR_TOKEN (or the variable `[serve] token_env`
/// in memory.toml names). Without one, the server only listens on loopback and refuses
/// every write (401). With one, every request except /v1/health and /v1/openapi.json must
/// carry `Authorization: Bearer TOKEN` (a browser asks for it: any user name, the token as
/// password), and other addresses are allowed. Approving or rejecting a quarantined memory
/// (POST /v1/quarantine/ID/approve, /reject) needs a second token, from
/// $MEMDIR_REVIEW_TOKEN, held only by the people who review: an agent given the write
/// token cannot let its own quarantined write in. With it, the /quarantine page has a form
/// to approve or reject each memory. A change a browser sends from another site's page is
/// refused (403), whatever credentials it carries.
///
/// Examples:
///   memdir -C ~/mem serve
///   MEMDIR_TOKEN=$(openssl rand -hex 32) memdir -C ~/mem serve --addr 0.0.0.0:7878
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ServeArgs {
    /// Address and port to listen on [default: `[serve] addr` in memory.toml, 127.0.0.1:7878]
    #[arg(long, value_name = "IP:PORT")]
    addr: Option<SocketAddr>,
}

/// The variable holding the reviewer's token.
const REVIEW_TOKEN_ENV: &str = "MEMDIR_REVIEW_TOKEN";

pub fn cmd_serve(g: &Globals, args: ServeArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let config = &mem.config().serve;
    let addr = match args.addr {
        Some(addr) => addr,
        None => config.addr.parse().map_err(|_| {
            CliError::user(format!("`[serve] addr` is not an address: {}", config.addr))
        })?,
    };
    let token = std::env::var(&config.token_env).ok().and_then(Token::new);
    let review_token = std::env::var(REVIEW_TOKEN_ENV).ok().and_then(Token::new);
    let options = ServeOptions {
        token,
        review_token,
    };
    check_addr(&addr, &options).map_err(|e| {
        CliError::user_error(e).hint(format!(
            "set {} to a long random token (e.g. `export {}=$(openssl rand -hex 32)`), or listen on 127.0.0.1",
            config.token_env, config.token_env
        ))
    })?;
    let token_note = if options.token.is_some() {
        format!("token from ${}", config.token_env)
    } else {
        format!(
            "no token: reads only; set ${} to accept writes",
            config.token_env
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| {
            CliError::user(format!("cannot listen on {addr}: {e}"))
                .hint("pick another port with --addr, or stop what uses this one")
        })?;
        let bound = listener.local_addr()?;
        let mem = Arc::new(mem);
        // Reports go to the log (stderr).
        mem.watch_in_background(|_| {});
        eprintln!(
            "Serving {} on http://{bound}/ ({token_note}). Ctrl-C stops.",
            mem.root().display()
        );
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        serve(listener, mem, options, shutdown)
            .await
            .map_err(CliError::user_error)
    })
}
