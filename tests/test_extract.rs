//! Extraction: a model's operations (or the rules') checked and written with provenance;
//! `memdir extract`.

use memdir::config::LlmProvider;
use memdir::extract::{Extractor, OpKind};
use memdir::transcript::Turn;
use memdir::{Memdir, NewMemory};

use crate::common::llm_server::{LlmServer, Reply, block_on, openai_client};
use crate::common::{TestEnv, prov, settings};
use crate::test_llm::configure;

fn turn(speaker: &str, text: &str) -> Turn {
    Turn {
        speaker: speaker.into(),
        text: text.into(),
        ..Turn::default()
    }
}

/// A repository with a fact and a preference the model can update and supersede.
fn stocked() -> (TestEnv, Memdir, String, String) {
    let (env, mem) = TestEnv::init_lib();
    let port = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443.").kind("fact"),
            &prov(),
        )
        .unwrap()
        .id;
    let editor = mem
        .remember(
            NewMemory::new("Alice uses Vim for everything.").kind("preference"),
            &prov(),
        )
        .unwrap()
        .id;
    (env, mem, port, editor)
}

#[test]
fn model_operations_are_checked_then_written_with_provenance() {
    let (env, mem, port, editor) = stocked();
    let before = env.commit_count();
    let server = LlmServer::start();
    server.reply([Reply::text(format!(
        r#"Here is what I would remember:
```json
{{"operations": [
  {{"op": "add", "type": "preference", "text": "Alice wants answers under five lines.", "tags": ["style"]}},
  {{"op": "update", "id": "{port}@1234567", "text": "The staging API listens on port 9443 since the move.", "tags": ["moved"]}},
  {{"op": "supersede", "id": "{editor}", "text": "Alice switched from Vim to Helix."}},
  {{"op": "update", "id": "no-such-memory-123456", "text": "x"}},
  {{"op": "add", "type": "person", "text": "Alice is a person."}},
  {{"op": "add", "text": "The staging API listens on port 8443."}},
  {{"op": "delete", "id": "{port}"}},
  {{"op": "none"}}
]}}
```"#
    ))]);
    let turns = [
        turn(
            "user",
            "Keep answers under five lines please. I moved to Helix, by the way.",
        ),
        turn("assistant", "Noted."),
        turn("user", "Staging moved to port 9443."),
    ];
    let report = block_on(mem.extract(
        &turns,
        "s-9",
        Extractor::Llm(&openai_client(&server)),
        &prov(),
    ))
    .unwrap();

    // What the model was shown: the conversation and the memories that matter, with ids.
    let [request] = server.requests().try_into().unwrap();
    assert!(request.system().contains("Answer with JSON only"));
    assert!(
        request
            .system()
            .contains("fact, preference, event, procedure, note, summary")
    );
    assert!(
        request.system().contains(&format!("id=\"{port}\"")),
        "{}",
        request.system()
    );
    assert!(
        request
            .user()
            .contains("user: Staging moved to port 9443.\n")
    );

    assert_eq!(report.session, "s-9");
    assert_eq!(report.extractor, "openai:test-model");
    let applied: Vec<(OpKind, Option<&str>)> = report
        .applied
        .iter()
        .map(|a| (a.op, a.supersedes.as_deref()))
        .collect();
    assert_eq!(
        applied,
        [
            (OpKind::Add, None),
            (OpKind::Supersede, Some(editor.as_str())),
            (OpKind::Update, None)
        ]
    );
    let reasons: Vec<(&str, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.op.as_str(), r.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "delete",
                "not an operation: unknown variant `delete`, expected one of `add`, `update`, `supersede`, `none`"
            ),
            (
                "update",
                "no memory has id `no-such-memory-123456`, so there is nothing to update; `memdir list` shows the ids"
            ),
            (
                "add",
                "unknown type `person`: use one of fact, preference, event, procedure, note, summary (or add it to [memory] types in memory.toml)"
            ),
            ("add", &*format!("already remembered as `{port}`")),
        ]
    );

    // New memories: one commit; the update: one more. Nothing rejected reached the files.
    assert_eq!(env.commit_count(), before + 2);
    let added = mem.get(&report.applied[0].id).unwrap();
    assert_eq!(added.front.kind, "preference");
    assert_eq!(added.front.tags, ["style"]);
    assert_eq!(added.front.source.session.as_deref(), Some("s-9"));
    assert_eq!(added.front.source.step.as_deref(), Some("extract"));
    assert_eq!(added.front.source.agent.as_deref(), Some("tester"));
    assert_eq!(added.front.extra["extractor"], "openai:test-model");
    let new_editor = mem.get(&report.applied[1].id).unwrap();
    assert_eq!(new_editor.front.kind, "preference", "the old memory's type");
    assert_eq!(
        new_editor.front.extra["supersedes"],
        serde_json::json!([editor])
    );
    assert_eq!(
        mem.get(&editor).unwrap().body.trim(),
        "Alice uses Vim for everything."
    );
    let updated = mem.get(&port).unwrap();
    assert_eq!(
        updated.body.trim(),
        "The staging API listens on port 9443 since the move."
    );
    assert_eq!(updated.front.tags, ["moved"]);

    let adds = report.applied[0].commit.clone().unwrap();
    assert_eq!(report.applied[1].commit.as_deref(), Some(adds.as_str()));
    let update = report.applied[2].commit.clone().unwrap();
    for (commit, op) in [(&adds, "add"), (&update, "update")] {
        assert_eq!(env.trailer(commit, "Memdir-Op"), [op]);
        assert_eq!(env.trailer(commit, "Memdir-Step"), ["extract"]);
        assert_eq!(env.trailer(commit, "Memdir-Session"), ["s-9"]);
        assert_eq!(env.trailer(commit, "Memdir-Agent"), ["tester"]);
    }
    assert_eq!(env.trailer(&update, "Memdir-Id"), [port]);
    assert_eq!(env.git_status(), "");
}

#[test]
fn the_model_sees_pinned_memories_past_the_budget_and_cannot_touch_the_overview() {
    let (env, mem) = TestEnv::init_lib();
    let long: String = (0..400)
        .map(|i| format!("Rule {i} of the house style. "))
        .collect();
    mem.remember(
        NewMemory::new(long)
            .title("House style")
            .kind("procedure")
            .pinned(true),
        &prov(),
    )
    .unwrap();
    let before = env.commit_count();
    let server = LlmServer::start();
    server.reply([Reply::text(
        r#"{"operations": [{"op": "update", "id": "MEMORY.md", "text": "x"}, {"op": "supersede", "text": "y"}]}"#,
    )]);
    let report = block_on(mem.extract(
        &[turn("user", "hello")],
        "s",
        Extractor::Llm(&openai_client(&server)),
        &prov(),
    ))
    .unwrap();
    assert!(
        server.requests()[0]
            .system()
            .contains("Rule 399 of the house style.")
    );
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "no memory has id `MEMORY.md`, so there is nothing to update; `memdir list` shows the ids",
            "`supersede` needs the `id` of an existing memory",
        ]
    );
    assert_eq!(env.commit_count(), before);
}

#[test]
fn an_answer_that_is_not_operations_writes_nothing() {
    let (env, mem, _, _) = stocked();
    let before = env.commit_count();
    let server = LlmServer::start();
    server.reply([Reply::text("I'd remember that Alice likes Helix.")]);
    let err = block_on(mem.extract(
        &[turn("user", "hi")],
        "s",
        Extractor::Llm(&openai_client(&server)),
        &prov(),
    ))
    .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the model's answer is not the JSON asked for ("),
        "{err}"
    );
    assert_eq!(env.commit_count(), before);
}

#[test]
fn the_rules_need_no_model_and_do_not_add_a_memory_twice() {
    let (env, mem) = TestEnv::init_lib();
    let turns = [
        turn(
            "user",
            "Remember that the VPN drops at midnight. My name is Ada.",
        ),
        turn("assistant", "I prefer to be brief."),
        turn("user", "I prefer tabs!"),
    ];
    let first = block_on(mem.extract(&turns, "s-1", Extractor::Rules, &prov())).unwrap();
    assert_eq!(first.extractor, "rules");
    let texts: Vec<&str> = first.applied.iter().map(|a| a.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "The VPN drops at midnight.",
            "The user's name is Ada.",
            "The user prefers tabs."
        ]
    );
    let head = env.head();
    assert_eq!(env.trailer(&head, "Memdir-Step"), ["extract"]);
    assert_eq!(env.trailer(&head, "Memdir-Id").len(), 3);
    assert_eq!(
        mem.get(&first.applied[1].id).unwrap().front.extra["extractor"],
        "rules"
    );

    let again = block_on(mem.extract(&turns, "s-2", Extractor::Rules, &prov())).unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(again.rejected.len(), 3);
    assert!(
        again.rejected[0]
            .reason
            .starts_with("already remembered as `")
    );
    assert_eq!(env.head(), head, "nothing written the second time");
}

#[test]
fn memdir_extract_uses_the_rules_without_a_model_and_says_so() {
    let env = TestEnv::init();
    let transcript = "user: Remember that deploys need a green canary.\n\
                      assistant: Will do.\n\
                      user: I prefer short answers.\n\
                      Really short.\n";
    let _guard = settings().bind_to_scope();
    let out = env.run_stdin(
        &["extract", "--session", "chat-7", "--agent", "hook"],
        transcript,
    );
    insta::assert_snapshot!(out, @r#"
    Using the rule-based extractor (no [llm] in memory.toml): only "remember that ...", "I prefer ..." and "my X is ..." are taken.
    add fact-[ID]  fact/fact-[ID].md  Deploys need a green canary.
    add preference-[ID]  preference/preference-[ID].md  The user prefers short answers.
    Session chat-7: 2 operations applied, 0 rejected (rules).
    "#);
    let trailers = env.trailers("HEAD");
    let pick = |key: &str| -> Vec<&str> {
        trailers
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    };
    assert_eq!(pick("Memdir-Op"), ["add"]);
    assert_eq!(pick("Memdir-Step"), ["extract"]);
    assert_eq!(pick("Memdir-Session"), ["chat-7"]);
    assert_eq!(pick("Memdir-Agent"), ["hook"]);
    assert_eq!(pick("Memdir-Id").len(), 2);
    let preference = env
        .run(&["list", "--type", "preference", "--json"])
        .success()
        .json();
    let file = env.read(preference[0]["path"].as_str().unwrap());
    assert!(
        file.contains("  session: chat-7\n  agent: hook\n  step: extract\n"),
        "{file}"
    );
    assert!(file.contains("extractor: \"rules\"\n"), "{file}");
}

#[test]
fn memdir_extract_with_a_model_lists_what_it_applied_and_rejected() {
    let env = TestEnv::init();
    let server = LlmServer::start();
    configure(&env, &server, LlmProvider::Anthropic, None);
    server.reply([Reply::text(
        r#"{"operations": [{"op": "add", "type": "fact", "text": "Bo's team ships on Fridays."}, {"op": "update", "id": "gone-abcdef", "text": "x"}]}"#,
    )]);
    std::fs::write(
        env.root().join("standup.jsonl"),
        r#"{"role": "user", "content": "We ship on Fridays."}"#,
    )
    .unwrap();
    let out = env
        .run(&["extract", "../standup.jsonl", "--json"])
        .success();
    assert!(
        out.stderr
            .contains("warning: rejected update `gone-abcdef`: no memory has id `gone-abcdef`"),
        "{out}"
    );
    let json = out.json();
    let report = &json[0];
    assert_eq!(report["session"], "standup", "the transcript's session");
    assert_eq!(report["extractor"], "anthropic:test-model");
    let applied = report["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["op"], "add");
    let id = applied[0]["id"].as_str().unwrap();
    assert_eq!(
        crate::common::keys(&applied[0]),
        ["commit", "id", "op", "path", "revision", "text"]
    );
    assert_eq!(report["rejected"][0]["id"], "gone-abcdef");
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["standup"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Step"), ["extract"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), [id]);
    let [request] = server.requests().try_into().unwrap();
    assert_eq!(request.path, "/v1/messages");
    assert!(request.user().contains("user: We ship on Fridays."));

    // --rules skips the model even when one is configured.
    let out = env
        .run_stdin(&["extract", "--rules"], "user: my badge number is 42\n")
        .success();
    assert!(
        out.stdout
            .starts_with("Using the rule-based extractor (as --rules asks)"),
        "{out}"
    );
    assert_eq!(server.requests().len(), 1);
}
