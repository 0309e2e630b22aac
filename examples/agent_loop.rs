//! One turn of an agent loop with memory: read what is known, build the context, call the
//! model, write back what the turn taught.
//!
//! Run it with `cargo run --example agent_loop`. With no model configured it shows the prompt
//! it would send and writes back with the rule-based extractor, so it runs anywhere, offline.
//! To call a real model, name it in the environment (the example reads these; the library
//! never reads the environment):
//!
//! ```console
//! # Ollama on this machine, no key:
//! LLM_PROVIDER=openai LLM_BASE_URL=http://localhost:11434/v1 LLM_MODEL=llama3.2 cargo run --example agent_loop
//! # Anthropic, key in $ANTHROPIC_API_KEY:
//! LLM_PROVIDER=anthropic LLM_MODEL=claude-sonnet-4-5 LLM_API_KEY_ENV=ANTHROPIC_API_KEY cargo run --example agent_loop
//! ```

use memdir::config::{LlmConfig, LlmProvider};
use memdir::context::{ContextFormat, ContextRequest};
use memdir::extract::Extractor;
use memdir::llm::{ApiKey, ChatRequest, LlmClient};
use memdir::transcript::Turn;
use memdir::{Memdir, NewMemory, Provenance};

fn main() -> memdir::Result<()> {
    // # Step 1: a memory repository, as earlier sessions left it.
    let temp = tempfile::tempdir().map_err(|source| memdir::Error::Io {
        path: "tmp".into(),
        source,
    })?;
    let mem = Memdir::init(&temp.path().join("memory"))?;
    let earlier = Provenance {
        session: Some("s-earlier".into()),
        agent: Some("agent-loop".into()),
        ..Provenance::default()
    };
    mem.remember(
        NewMemory::new("The staging API listens on port 9443 since the November move.")
            .kind("fact")
            .tag("staging"),
        &earlier,
    )?;
    mem.remember(
        NewMemory::new("Deploys to staging need a green canary; retry once, then page on-call.")
            .kind("procedure")
            .tag("deploy"),
        &earlier,
    )?;

    // # Step 2: the user's message arrives.
    let session = "s-now";
    let message = "I prefer answers as bullet points. How do I deploy to staging?";
    println!("user: {message}\n");

    // # Step 3: build the context: pinned memories, then what matters for this message,
    // within a token budget, each with an [id@revision] citation.
    let context = mem.context(&ContextRequest {
        format: ContextFormat::Xml,
        session: Some(session.into()),
        ..ContextRequest::new(message, 1500)
    })?;
    let cited: Vec<String> = context.items.iter().map(|i| i.citation()).collect();
    println!(
        "# Context: {} tokens, {}\n",
        context.tokens,
        cited.join(", ")
    );

    // # Step 4: call the model: one stateless request, the context in the system prompt.
    let llm = client_from_env()?;
    let system = format!(
        "You are a helpful engineer. Cite the memories you use as [id@revision].\n\n{}",
        context.text
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| memdir::Error::Io {
            path: "tokio runtime".into(),
            source,
        })?;
    let reply = match &llm {
        Some(client) => {
            let answer = runtime.block_on(client.complete(&ChatRequest::new(system, message)))?;
            println!("assistant ({}): {}\n", answer.model, answer.text.trim());
            answer.text
        }
        None => {
            println!("# No model configured (LLM_MODEL is not set); the request would be:");
            println!("# system:\n{system}\n");
            "(no model was called)".to_owned()
        }
    };

    // # Step 5: write back what the turn taught. A model proposes add/update/supersede
    // operations; without one, the rules take explicit statements ("I prefer ...").
    // Every write records the session and `Memdir-Step: extract`.
    let turns = [
        Turn {
            id: "t1".into(),
            speaker: "user".into(),
            text: message.into(),
            ..Turn::default()
        },
        Turn {
            id: "t2".into(),
            speaker: "assistant".into(),
            text: reply,
            ..Turn::default()
        },
    ];
    let extractor = match &llm {
        Some(client) => Extractor::Llm(client),
        None => Extractor::Rules,
    };
    let agent = Provenance::agent("agent-loop");
    let report = runtime.block_on(mem.extract(&turns, session, extractor, &agent))?;
    println!("# Written back by the {} extractor:", report.extractor);
    for a in &report.applied {
        println!("  {} {} ({}): {}", a.op.as_str(), a.id, a.path, a.text);
    }
    for r in &report.rejected {
        println!("  rejected {}: {}", r.op, r.reason);
    }

    // # Step 6: the next turn sees it.
    let next = mem.context(&ContextRequest::new("how should answers be formatted", 500))?;
    println!("\n# Next turn's context:\n{}", next.text.trim_end());
    Ok(())
}

/// Returns a client for the model named by `LLM_PROVIDER` (`openai` or `anthropic`),
/// `LLM_BASE_URL`, `LLM_MODEL` and `LLM_API_KEY_ENV`, or `None` when `LLM_MODEL` is not set.
fn client_from_env() -> memdir::Result<Option<LlmClient>> {
    let Ok(model) = std::env::var("LLM_MODEL") else {
        return Ok(None);
    };
    let provider = match std::env::var("LLM_PROVIDER").as_deref() {
        Ok("anthropic") => LlmProvider::Anthropic,
        _ => LlmProvider::Openai,
    };
    let config = LlmConfig {
        base_url: std::env::var("LLM_BASE_URL").ok(),
        ..LlmConfig::new(provider, model)
    };
    let key = match std::env::var("LLM_API_KEY_ENV") {
        Ok(name) => {
            let value = std::env::var(&name).map_err(|_| memdir::Error::Invalid {
                message: format!("${name} is not set"),
            })?;
            Some(ApiKey::new(format!("${name}"), value))
        }
        Err(_) => None,
    };
    Ok(Some(LlmClient::new(&config, key)?))
}
