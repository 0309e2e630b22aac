//! The session tier: `memdir session append|show|end` and `context --session`.

use memdir::context::{ContextRequest, Reason};
use memdir::session::Role;

use crate::common::{TestEnv, prov, settings};

#[test]
fn appending_is_one_line_a_turn_and_no_commit_until_the_end() {
    let env = TestEnv::init();
    let before = env.commit_count();
    let out = env
        .run(&[
            "session",
            "append",
            "s-1",
            "--role",
            "user",
            "Book the usual room.",
        ])
        .success();
    assert_eq!(out.stdout, "1\n");
    env.run_stdin(
        &["session", "append", "s-1", "--role", "assistant"],
        "Booked 4B.\n",
    )
    .success();
    assert_eq!(env.commit_count(), before, "no commit per turn");
    let file = env.read("sessions/s-1.jsonl");
    assert_eq!(file.lines().count(), 2);

    let shown = env
        .run(&["session", "show", "s-1", "--json"])
        .success()
        .json();
    let turns = shown["turns"].as_array().unwrap();
    assert_eq!(turns[1]["turn"], 2);
    assert_eq!(turns[1]["role"], "assistant");
    assert_eq!(turns[1]["text"], "Booked 4B.");

    let end = env
        .run(&["session", "end", "s-1", "--agent", "desk"])
        .success();
    assert!(
        end.stdout.starts_with("Ended session s-1 in commit "),
        "{end}"
    );
    assert_eq!(env.commit_count(), before + 1);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["session-end"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-1"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["desk"]);
    assert_eq!(env.changed_files("HEAD"), ["sessions/s-1.jsonl"]);
    assert_eq!(env.git_status(), "");

    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(env.run(&["session", "append", "s-1", "--role", "user", "More?"]), @r"
    ------- stderr -------
    error: session `s-1` has ended; start a new one (a new id)
    [exit status: 1]
    ");
}

#[test]
fn a_session_id_cannot_leave_the_sessions_folder() {
    let env = TestEnv::init();
    let out = env.run(&["session", "append", "../escape", "--role", "user", "hi"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("not a usable session id"), "{out}");
    assert!(!env.root().join("escape.jsonl").exists());
    assert!(!env.path("sessions").exists());
}

#[test]
fn concurrent_appenders_never_share_a_turn_number() {
    let (env, mem) = TestEnv::init_lib();
    std::thread::scope(|s| {
        for t in 0..4 {
            let mem = &mem;
            s.spawn(move || {
                for i in 0..25 {
                    mem.session_append("busy", Role::User, &format!("thread {t} turn {i}"))
                        .unwrap();
                }
            });
        }
    });
    let session = mem.session("busy").unwrap();
    let numbers: Vec<usize> = session.turns.iter().map(|t| t.turn).collect();
    assert_eq!(numbers, (1..=100).collect::<Vec<_>>());
    assert_eq!(env.read("sessions/busy.jsonl").lines().count(), 100);
}

#[test]
fn a_torn_last_line_is_skipped_and_a_bad_line_is_named() {
    let (env, mem) = TestEnv::init_lib();
    mem.session_append("t", Role::User, "first").unwrap();
    let mut text = env.read("sessions/t.jsonl");
    text.push_str("{\"turn\": 2, \"role\": \"us");
    env.write("sessions/t.jsonl", &text);
    assert_eq!(mem.session("t").unwrap().turns.len(), 1);
    env.write("sessions/t.jsonl", format!("garbage\n{text}\n"));
    let err = mem.session("t").unwrap_err().to_string();
    assert!(
        err.contains("sessions/t.jsonl:1: not a session turn"),
        "{err}"
    );
}

#[test]
fn commit_every_commits_on_a_cadence() {
    let (env, mem) = TestEnv::init_lib();
    drop(mem);
    let config = env
        .read("memory.toml")
        .replace("commit_every = 0", "commit_every = 2");
    env.write("memory.toml", &config);
    env.git(&["commit", "-qam", "cadence"]);
    let mem = env.open();
    let before = env.commit_count();
    for i in 0..5 {
        mem.session_append("c", Role::User, &format!("turn {i}"))
            .unwrap();
    }
    assert_eq!(env.commit_count(), before + 2, "after turns 2 and 4");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["session"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["c"]);
}

#[test]
fn context_gives_the_last_turns_verbatim_and_older_ones_in_brief() {
    let (_env, mem) = TestEnv::init_lib();
    mem.remember(
        memdir::NewMemory::new("Room 4B has a projector.").kind("fact"),
        &prov(),
    )
    .unwrap();
    for i in 1..=10 {
        let role = if i % 2 == 1 {
            Role::User
        } else {
            Role::Assistant
        };
        let text = format!(
            "Turn {i} talks about the projector booking. It goes on with detail number {i} that only matters verbatim."
        );
        mem.session_append("s-7", role, &text).unwrap();
    }
    let request = ContextRequest {
        session: Some("s-7".into()),
        ..ContextRequest::new("projector", 3000)
    };
    let ctx = mem.context(&request).unwrap();
    let session: Vec<_> = ctx
        .items
        .iter()
        .filter(|i| i.reason == Reason::Session)
        .collect();
    assert_eq!(session.len(), 2, "{:#?}", ctx.items);
    let (summary, recent) = (session[0], session[1]);
    assert_eq!((summary.line_start, summary.line_end), (1, 4));
    assert_eq!((recent.line_start, recent.line_end), (5, 10));
    assert!(recent.text.ends_with("assistant: Turn 10 talks about the projector booking. It goes on with detail number 10 that only matters verbatim."));
    assert!(
        summary
            .text
            .contains("- user: Turn 1 talks about the projector booking.")
    );
    assert!(
        !summary.text.contains("detail number 1 "),
        "older turns keep their first sentence"
    );
    assert_eq!(summary.id, "session:s-7");
    assert!(
        ctx.items.iter().any(|i| i.reason == Reason::Retrieved),
        "memories still come"
    );
    assert!(ctx.tokens <= 3000);

    // A tight budget keeps the newest turns and drops the oldest first.
    let tight = mem
        .context(&ContextRequest {
            budget: 160,
            ..request.clone()
        })
        .unwrap();
    assert!(tight.tokens <= 160, "{}", tight.tokens);
    let recent = tight
        .items
        .iter()
        .find(|i| i.title.contains("last"))
        .unwrap();
    assert_eq!(recent.line_end, 10);
    assert!(recent.line_start > 5, "{recent:?}");
}

#[test]
fn an_expired_or_unknown_session_adds_nothing() {
    let (env, mem) = TestEnv::init_lib();
    env.write(
        "sessions/old.jsonl",
        "{\"turn\":1,\"role\":\"user\",\"time\":\"2020-01-01T00:00:00Z\",\"text\":\"ancient history\"}\n",
    );
    for id in ["old", "never-seen"] {
        let ctx = mem
            .context(&ContextRequest {
                session: Some(id.into()),
                ..ContextRequest::new("history", 1000)
            })
            .unwrap();
        assert!(
            ctx.items.iter().all(|i| i.reason != Reason::Session),
            "{id}"
        );
    }
}

#[test]
fn ending_with_extract_writes_what_the_person_asked_to_remember() {
    let env = TestEnv::init();
    env.run(&[
        "session",
        "append",
        "s-5",
        "--role",
        "user",
        "Remember that the wifi password rotates on Mondays.",
    ])
    .success();
    env.run(&["session", "append", "s-5", "--role", "assistant", "Noted."])
        .success();
    let out = env
        .run(&[
            "session",
            "end",
            "s-5",
            "--extract",
            "--agent",
            "desk",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(out["extraction"]["extractor"], "rules");
    let applied = out["extraction"]["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1, "{out}");
    // The session file is committed first, then the extracted memory with its provenance.
    assert_eq!(env.trailer("HEAD~1", "Memdir-Op"), ["session-end"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Step"), ["extract"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-5"]);
    let hits = env
        .run(&["search", "wifi password", "--json"])
        .success()
        .json();
    assert!(
        hits[0]["snippet"].as_str().unwrap().contains("Mondays"),
        "{hits}"
    );
    assert_eq!(env.git_status(), "");
}
