//! What `ask` and `extract` share: the model client built from `[llm]`, with the key read
//! from the environment here (the library never reads it), and a runtime to wait on it.

use std::future::Future;

use memdir::Memdir;
use memdir::config::LlmConfig;
use memdir::llm::{ApiKey, LlmClient};

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
    let key = match &config.api_key_env {
        None => None,
        Some(name) => match std::env::var(name) {
            Ok(value) if !value.trim().is_empty() => {
                Some(ApiKey::new(format!("${name}"), value.trim()))
            }
            _ => {
                return Err(CliError::user(format!(
                    "${name} is not set: [llm] api_key_env in memory.toml names it as the variable that holds the API key"
                ))
                .hint(format!(
                    "export {name}=YOUR_KEY, or leave api_key_env out for a local server that needs no key"
                )));
            }
        },
    };
    Ok(Some(
        LlmClient::new(config, key).map_err(memdir::Error::from)?,
    ))
}

/// Runs `future` to completion on a current-thread runtime.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, CliError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    Ok(runtime.block_on(future))
}
