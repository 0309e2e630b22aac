//! The LLM client against a local server playing each provider's API: success, 401, 429 then
//! success, timeouts, an unreachable server; `Memdir::ask` and `memdir ask`.

use std::time::Duration;

use memdir::config::{LlmConfig, LlmProvider};
use memdir::context::ContextRequest;
use memdir::llm::{ApiKey, ChatRequest, LlmClient, LlmError, RetryPolicy};
use memdir::{Error, NewMemory};

use crate::common::llm_server::{LlmServer, Reply, block_on, dead_address};
use crate::common::{TestEnv, prov, settings};

const PROVIDERS: [LlmProvider; 2] = [LlmProvider::Openai, LlmProvider::Anthropic];

fn base_url(server: &LlmServer, provider: LlmProvider) -> String {
    match provider {
        LlmProvider::Openai => server.openai_base(),
        LlmProvider::Anthropic => server.anthropic_base(),
    }
}

/// A client for `server` speaking `provider`, with key `sk-test` from `$TEST_KEY` and
/// retries that do not wait.
fn client(server: &LlmServer, provider: LlmProvider) -> LlmClient {
    let config = LlmConfig {
        base_url: Some(base_url(server, provider)),
        max_tokens: 321,
        ..LlmConfig::new(provider, "test-model")
    };
    LlmClient::new(&config, Some(ApiKey::new("$TEST_KEY", "sk-test")))
        .unwrap()
        .with_retry(RetryPolicy::immediate(3))
}

fn ask(client: &LlmClient) -> Result<memdir::llm::Completion, LlmError> {
    block_on(client.complete(&ChatRequest::new("Answer briefly.", "What is 6 x 7?")))
}

#[test]
fn a_success_sends_the_model_prompt_and_key_as_each_provider_expects() {
    for provider in PROVIDERS {
        let server = LlmServer::start();
        server.require_key("sk-test");
        server.reply([Reply::text("42")]);
        let answer = ask(&client(&server, provider)).unwrap();
        assert_eq!(answer.text, "42");
        assert_eq!(answer.model, "test-model");
        assert_eq!(
            (answer.input_tokens, answer.output_tokens),
            (Some(10), Some(5))
        );
        let [request] = server.requests().try_into().unwrap();
        assert_eq!(request.body["model"], "test-model");
        assert_eq!(request.system(), "Answer briefly.");
        assert_eq!(request.user(), "What is 6 x 7?");
        assert_eq!(request.headers["content-type"], "application/json");
        match provider {
            LlmProvider::Openai => {
                assert_eq!(request.path, "/v1/chat/completions");
                assert_eq!(request.headers["authorization"], "Bearer sk-test");
                assert_eq!(request.messages()[0].0, "system");
            }
            LlmProvider::Anthropic => {
                assert_eq!(request.path, "/v1/messages");
                assert_eq!(request.headers["x-api-key"], "sk-test");
                assert_eq!(request.headers["anthropic-version"], "2023-06-01");
                assert_eq!(request.body["max_tokens"], 321);
                assert_eq!(request.messages().len(), 1, "the system prompt is a field");
            }
        }
    }
}

#[test]
fn a_refused_key_is_a_clear_error_and_is_not_retried() {
    for provider in PROVIDERS {
        let server = LlmServer::start();
        server.require_key("sk-the-right-one");
        let err = ask(&client(&server, provider)).unwrap_err();
        assert!(
            matches!(err, LlmError::Unauthorized { status: 401, .. }),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with("the server refused the key in $TEST_KEY (401: "),
            "{message}"
        );
        assert!(message.contains("check the key"), "{message}");
        assert_eq!(server.requests().len(), 1, "401 is never retried");
    }
    // With no key configured, the message says how to give one.
    let server = LlmServer::start();
    server.require_key("sk-test");
    let config = LlmConfig {
        base_url: Some(server.openai_base()),
        ..LlmConfig::new(LlmProvider::Openai, "m")
    };
    let err = ask(&LlmClient::new(&config, None).unwrap()).unwrap_err();
    let _guard = settings().bind_to_scope();
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d+", "[ADDR]");
    s.bind(|| {
        insta::assert_snapshot!(err, @"the server at http://[ADDR]/v1/chat/completions wants an API key (401: Incorrect API key provided); set [llm] api_key_env in memory.toml to the name of the environment variable that holds it");
    });
    assert!(!server.requests()[0].headers.contains_key("authorization"));
}

#[test]
fn rate_limits_and_server_errors_are_retried_until_success() {
    for provider in PROVIDERS {
        let server = LlmServer::start();
        server.reply([
            Reply::Error {
                status: 429,
                message: "slow down".into(),
                retry_after: Some("1".into()),
            },
            Reply::error(503, "overloaded"),
            Reply::text("finally"),
        ]);
        let answer = ask(&client(&server, provider)).unwrap();
        assert_eq!(answer.text, "finally");
        let requests = server.requests();
        assert_eq!(requests.len(), 3);
        assert!(
            requests.iter().all(|r| r.body == requests[0].body),
            "every retry sends the same request"
        );
    }
}

#[test]
fn retries_stop_at_the_policy_limit_and_other_errors_are_not_retried() {
    let server = LlmServer::start();
    server.reply((0..5).map(|_| Reply::error(429, "slow down")));
    let c = client(&server, LlmProvider::Anthropic).with_retry(RetryPolicy::immediate(2));
    let err = ask(&c).unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Status {
                status: 429,
                retries: 2,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains("answered 429 after 2 retries: slow down")
    );
    assert_eq!(server.requests().len(), 3);

    let server = LlmServer::start();
    server.reply([
        Reply::error(404, "model 'nope' not found"),
        Reply::text("x"),
    ]);
    let err = ask(&client(&server, LlmProvider::Openai)).unwrap_err();
    assert!(
        matches!(
            err,
            LlmError::Status {
                status: 404,
                retries: 0,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().ends_with(
            "answered 404: model 'nope' not found; check [llm] base_url (OpenAI-style servers usually end in /v1) and model"
        ),
        "{err}"
    );
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_server_that_never_answers_is_a_timeout() {
    for provider in PROVIDERS {
        let server = LlmServer::start();
        server.reply([Reply::Hang]);
        let c = client(&server, provider).with_timeout(Duration::from_millis(200));
        let err = ask(&c).unwrap_err();
        assert!(matches!(err, LlmError::Timeout { .. }), "{err:?}");
        assert!(err.to_string().contains("within 0.2 s"), "{err}");
        assert!(err.to_string().contains("[llm] timeout_secs"), "{err}");
        assert_eq!(server.requests().len(), 1, "a timeout is not retried");
    }
}

#[test]
fn an_unreachable_server_is_named_with_what_to_check() {
    let config = LlmConfig {
        base_url: Some(format!("{}/v1", dead_address())),
        ..LlmConfig::new(LlmProvider::Openai, "m")
    };
    let err = ask(&LlmClient::new(&config, None).unwrap()).unwrap_err();
    assert!(matches!(err, LlmError::Unreachable { .. }), "{err:?}");
    assert!(
        err.to_string()
            .ends_with("is the server running, and is [llm] base_url in memory.toml right?"),
        "{err}"
    );
}

#[test]
fn an_answer_in_the_wrong_shape_names_the_provider() {
    let server = LlmServer::start();
    // An Anthropic-shaped answer where an OpenAI one was expected.
    server.reply([Reply::Raw(
        200,
        r#"{"content": [{"type": "text", "text": "hi"}]}"#.into(),
    )]);
    let err = ask(&client(&server, LlmProvider::Openai)).unwrap_err();
    assert!(matches!(err, LlmError::BadResponse { .. }), "{err:?}");
    assert!(
        err.to_string()
            .contains("is not a openai response (missing field `choices`"),
        "{err}"
    );
}

#[test]
fn ask_sends_the_context_and_returns_the_citations_it_gave() {
    let (env, mem) = TestEnv::init_lib();
    env.write("MEMORY.md", "# Team\n\nWe are the platform team.\n");
    let port = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443.").kind("fact"),
            &prov(),
        )
        .unwrap();
    mem.remember(
        NewMemory::new("Alice prefers dark mode.").kind("preference"),
        &prov(),
    )
    .unwrap();
    let server = LlmServer::start();
    server.reply([Reply::text(format!(
        "  Port 8443 [{}@{}].\n",
        port.id,
        &port.revision.as_ref().unwrap().0[..7]
    ))]);
    let c = client(&server, LlmProvider::Anthropic);
    let answer = block_on(mem.ask(
        &c,
        &ContextRequest::new("which port does the staging API use", 500),
    ))
    .unwrap();
    assert!(answer.answer.starts_with("Port 8443 ["), "trimmed");
    assert_eq!(answer.model, "test-model");
    let cited: Vec<String> = answer.context.items.iter().map(|i| i.citation()).collect();
    assert_eq!(answer.citations, cited);
    assert_eq!(
        answer.citations[0],
        format!("MEMORY.md@{}", &answer.context.items[0].revision[..7])
    );
    assert!(answer.citations[1].starts_with(&format!("{}@", port.id)));
    let [request] = server.requests().try_into().unwrap();
    assert!(request.system().starts_with(memdir::llm::ASK_SYSTEM_PROMPT));
    assert!(request.system().contains(answer.context.text.trim_end()));
    assert!(request.system().contains("listens on port 8443"));
    assert_eq!(request.user(), "which port does the staging API use");

    // A failed call is a typed error of the crate.
    server.require_key("another");
    let err = block_on(mem.ask(&c, &ContextRequest::new("port", 500))).unwrap_err();
    assert!(
        matches!(err, Error::Llm(LlmError::Unauthorized { .. })),
        "{err:?}"
    );
}

/// Appends an `[llm]` table for `server` to the repository's memory.toml.
pub fn configure(env: &TestEnv, server: &LlmServer, provider: LlmProvider, key_env: Option<&str>) {
    let mut config = env.read("memory.toml");
    config.push_str(&format!(
        "\n[llm]\nprovider = \"{provider}\"\nbase_url = \"{}\"\nmodel = \"test-model\"\nmax_retries = 0\n",
        base_url(server, provider)
    ));
    if let Some(name) = key_env {
        config.push_str(&format!("api_key_env = \"{name}\"\n"));
    }
    env.write("memory.toml", config);
}

#[test]
fn memdir_ask_prints_the_answer_and_the_citations() {
    let env = TestEnv::init();
    let added = env.add("Deploys need a green canary.", &["--type", "procedure"]);
    let server = LlmServer::start();
    server.require_key("sk-from-env");
    configure(&env, &server, LlmProvider::Openai, Some("TEST_LLM_KEY"));
    server.reply([
        Reply::text("Wait for a green canary."),
        Reply::text("Same again."),
    ]);

    let run = |args: &[&str]| {
        let mut cmd = env.memdir_command(&env.repo());
        cmd.args(args).env("TEST_LLM_KEY", "sk-from-env");
        env.run_command(cmd, None)
    };
    let _guard = settings().bind_to_scope();
    let out = run(&["ask", "how do deploys work", "--budget", "300"]);
    insta::assert_snapshot!(out, @r"
    Wait for a green canary.

    Memories given to test-model (1):
      [procedure-[ID]@[SHORT]]
    ");
    let json = run(&["ask", "how do deploys work", "--json"])
        .success()
        .json();
    assert_eq!(crate::common::keys(&json), ["answer", "citations", "model"]);
    assert_eq!(json["answer"], "Same again.");
    assert_eq!(json["model"], "test-model");
    let citation = json["citations"][0].as_str().unwrap();
    assert!(citation.starts_with(&format!("{}@", added["id"].as_str().unwrap())));
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].headers["authorization"], "Bearer sk-from-env");
    assert!(
        requests[0]
            .system()
            .contains("Deploys need a green canary.")
    );

    // A wrong key: exit 1 and what to do.
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["ask", "x"]).env("TEST_LLM_KEY", "sk-wrong");
    let out = env.run_command(cmd, None);
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"127\.0\.0\.1:\d+", "[ADDR]");
    s.bind(|| {
        insta::assert_snapshot!(out, @r"
        ------- stderr -------
        error: the server refused the key in $TEST_LLM_KEY (401: Incorrect API key provided); check the key, and that it is meant for http://[ADDR]/v1/chat/completions
        [exit status: 1]
        ");
    });
}

#[test]
fn memdir_ask_without_a_model_or_a_key_says_what_to_set() {
    let env = TestEnv::init();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(env.run(&["ask", "anything"]), @r"
    ------- stderr -------
    error: no model is configured: `memdir ask` needs an [llm] table in memory.toml
    hint: memory.toml has a commented example at its end; `memdir context QUESTION` prints what would be sent
    [exit status: 1]
    ");
    let server = LlmServer::start();
    configure(
        &env,
        &server,
        LlmProvider::Anthropic,
        Some("UNSET_TEST_KEY"),
    );
    insta::assert_snapshot!(env.run(&["ask", "anything"]), @r"
    ------- stderr -------
    error: $UNSET_TEST_KEY is not set: [llm] api_key_env in memory.toml names it as the variable that holds the API key
    hint: export UNSET_TEST_KEY=YOUR_KEY, or leave api_key_env out for a local server that needs no key
    [exit status: 1]
    ");
    assert!(server.requests().is_empty());
    // And the server down: exit 1, naming what to check.
    let mut config = env.read("memory.toml");
    config = config.replace(&server.anthropic_base(), &dead_address());
    config = config.replace("api_key_env = \"UNSET_TEST_KEY\"\n", "");
    env.write("memory.toml", config);
    let out = env.run(&["ask", "anything"]).code(1);
    assert!(
        out.stderr
            .contains("is the server running, and is [llm] base_url in memory.toml right?"),
        "{out}"
    );
}
