//! What `ask` and `extract` share: the model client built from `[llm]`, with the key read
//! from the environment here (the library never reads it), and a runtime to wait on it.

use std::future::Future;

use memdir::Memdir;
use memdir::config::LlmConfig;
use memdir::llm::{ApiKey, LlmClient, key_from_env};

use super::CliError;

/// Returns the client for the repository's `[llm]`, or `None` when it has none. Fails when
/// `api_key_env` names a variable that is not set.
pub fn client(mem: &Memdir) -> Result<Option<LlmClient>, CliError> {
    client_for(mem.config().llm.as_ref())
}

/// Returns the client for an `[llm]` table, or `None` when there is none. Fails when
/// `api_key_env` names a variable that is not set.
pub fn client_for(config: Option<&LlmConfig>) -> Result<Option<LlmClient>, CliError> {
    let Some(config) = config else {
        return Ok(None);
    };
    let key = key_for(config)?;
    Ok(Some(
        LlmClient::new(config, key).map_err(memdir::Error::from)?,
    ))
}

/// Returns the key `[llm] api_key_env` names, read from the environment (`None` when it names
/// none). Fails when the variable is not set.
pub fn key_for(config: &LlmConfig) -> Result<Option<ApiKey>, CliError> {
    key_from_env(config).map_err(|e| {
        CliError::user(e.to_string()).hint(format!(
            "export {}=YOUR_KEY, or leave api_key_env out for a local server that needs no key",
            e.var
        ))
    })
}

/// Runs `future` to completion on a current-thread runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}
