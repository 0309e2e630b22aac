//! Importing conversation transcripts: one memory per session in one commit, stable ids so a
//! second import skips what is there, and search hits that point at single turns.

use memdir::transcript::{Format, Session, Transcript, Turn, turn_id};
use memdir::{
    Error, ImportOptions, ImportStatus, Imported, Memdir, MemoryId, NewMemory, SearchQuery,
    Timestamp,
};
use serde_json::json;

use crate::common::{TestEnv, prov, settings};

const JSONL: &str = r#"{"session": "mon", "role": "user", "content": "Where does the staging API listen?", "time": "2026-11-23T09:00:00Z"}
{"session": "mon", "role": "assistant", "content": "On port 8443, behind the proxy."}
{"session": "tue", "role": "user", "content": "Book the **blue** room\n\n- for Friday\n- at ten", "time": "2026-11-24"}
{"session": "tue", "role": "assistant", "content": [{"type": "text", "text": "Booked the blue room."}], "caption": "a floor plan"}
"#;

fn parse(file: &str, text: &str) -> Transcript {
    Transcript::parse(file, text, Format::Auto, "chat").unwrap()
}

fn import(mem: &Memdir, t: &Transcript) -> Vec<Imported> {
    mem.import(t, &ImportOptions::default(), &prov()).unwrap()
}

#[test]
fn each_session_becomes_one_memory_in_one_commit() {
    let (env, mem) = TestEnv::init_lib();
    let report = import(&mem, &parse("chat.jsonl", JSONL));
    assert_eq!(env.commit_count(), 2);
    assert_eq!(env.git_status(), "");
    let _guard = settings().bind_to_scope();
    insta::assert_json_snapshot!(report, @r#"
    [
      {
        "id": "mon-[ID]",
        "path": "event/user-and-assistant-23-november-2026.md",
        "session": "mon",
        "turns": 2,
        "status": "added"
      },
      {
        "id": "tue-[ID]",
        "path": "event/user-and-assistant-24-november-2026.md",
        "session": "tue",
        "turns": 2,
        "status": "added"
      }
    ]
    "#);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["import"]);
    let ids: Vec<String> = report.iter().map(|r| r.id.clone()).collect();
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), ids);
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-1"]);
    let mut changed = env.changed_files("HEAD");
    changed.sort();
    assert_eq!(changed, [report[0].path.clone(), report[1].path.clone()]);
    insta::assert_snapshot!(env.read(&report[1].path), @r#"
    ---
    id: tue-[ID]
    title: user and assistant, 24 November 2026
    type: event
    tags: [transcript]
    created: [TIME]
    updated: [TIME]
    source:
      session: tue
      agent: tester
      step: "7"
    date: "2026-11-24"
    speakers: ["user","assistant"]
    ---

    - [t1] **user:** Book the **blue** room

      - for Friday
      - at ten
    - [t2] **assistant:** Booked the blue room. (shared an image: a floor plan)
    "#);
    let m = mem.get(&report[1].id).unwrap();
    assert_eq!(m.front.created, Timestamp::parse("2026-11-24"));
    assert_eq!(m.front.updated, m.front.created);
    assert_eq!(m.front.source.session.as_deref(), Some("tue"));
    assert_eq!(m.front.extra["speakers"], json!(["user", "assistant"]));
    assert!(!m.front.extra.contains_key("conversation"));
}

#[test]
fn options_set_type_tags_and_scope() {
    let (_env, mem) = TestEnv::init_lib();
    let options = ImportOptions {
        kind: Some("note".into()),
        tags: vec!["chat".into(), "transcript".into()],
        scope: Some("user:alice".into()),
    };
    let report = mem
        .import(&parse("chat.jsonl", JSONL), &options, &prov())
        .unwrap();
    let m = mem.get(&report[0].id).unwrap();
    assert_eq!(m.front.kind, "note");
    assert_eq!(m.front.tags, ["transcript", "chat"]);
    assert_eq!(m.front.scope.as_deref(), Some("user:alice"));
    assert!(m.path.starts_with("note/"));
}

#[test]
fn json_and_locomo_keep_conversation_speakers_and_date() {
    let (env, mem) = TestEnv::init_lib();
    let locomo = r#"[{"sample_id": "conv-26", "qa": [{"question": "never imported", "evidence": ["D1:1"]}],
        "conversation": {"speaker_a": "Caroline", "speaker_b": "Melanie",
          "session_2_date_time": "1:56 pm on 8 May, 2023",
          "session_2": [{"speaker": "Caroline", "dia_id": "D2:1", "text": "Hey Mel!"},
                        {"speaker": "Melanie", "dia_id": "D2:2", "text": "Hi!", "blip_caption": "a dog"}]}}]"#;
    let report = import(&mem, &parse("locomo.json", locomo));
    assert_eq!(report.len(), 1);
    assert!(report[0].id.starts_with("conv-26-session-2-"));
    let m = mem.get(&report[0].id).unwrap();
    assert_eq!(m.front.title, "Caroline and Melanie, 8 May 2023");
    assert_eq!(m.front.created.unwrap().to_string(), "2023-05-08T13:56:00Z");
    assert_eq!(m.front.source.session.as_deref(), Some("conv-26/session_2"));
    assert_eq!(m.front.extra["conversation"], "conv-26");
    assert_eq!(m.front.extra["date"], "1:56 pm on 8 May, 2023");
    assert_eq!(m.front.extra["speakers"], json!(["Caroline", "Melanie"]));
    assert!(!env.read(&m.path).contains("never imported"));

    let sessions = r#"{"id": "standups", "sessions": [
        {"id": "w47", "date": "2026-11-20", "turns": [{"speaker": "Ana", "text": "Shipped."}]},
        {"turns": [{"speaker": "Ana", "text": "Planning."}, {"speaker": "Bo", "text": "Ok."}]}]}"#;
    let report = import(&mem, &parse("standups.json", sessions));
    let sessions: Vec<&str> = report.iter().map(|r| r.session.as_str()).collect();
    assert_eq!(sessions, ["w47", "standups/session_2"]);
    let second = mem.get(&report[1].id).unwrap();
    assert_eq!(second.front.title, "Ana and Bo (standups/session_2)");
    assert_eq!(second.front.extra["conversation"], "standups");
    assert!(!second.front.extra.contains_key("date"));
    assert_eq!(env.commit_count(), 3);
}

#[test]
fn importing_again_skips_the_sessions_already_there() {
    let (env, mem) = TestEnv::init_lib();
    let first = import(&mem, &parse("chat.jsonl", JSONL));
    let head = env.head();
    let again = import(&mem, &parse("chat.jsonl", JSONL));
    assert_eq!(env.head(), head, "nothing new, no commit");
    assert!(again.iter().all(|r| r.status == ImportStatus::Skipped));
    for (a, b) in first.iter().zip(&again) {
        assert_eq!((&a.id, &a.path, a.turns), (&b.id, &b.path, b.turns));
    }
    // A longer transcript adds only its new session, even from a fresh handle.
    let more = format!(
        "{JSONL}{}\n",
        r#"{"session": "wed", "role": "user", "content": "Hi"}"#
    );
    let report = import(&env.open(), &parse("chat.jsonl", &more));
    let status: Vec<ImportStatus> = report.iter().map(|r| r.status).collect();
    use ImportStatus::{Added, Skipped};
    assert_eq!(status, [Skipped, Skipped, Added]);
    assert_eq!(env.commit_count(), 3);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), [report[2].id.clone()]);
    assert_eq!(env.open().list(&Default::default()).unwrap().len(), 3);
}

#[test]
fn every_hit_points_at_the_line_of_one_turn() {
    let (env, mem) = TestEnv::init_lib();
    let words = [
        "aardvark",
        "bassoon",
        "cormorant",
        "dulcimer",
        "echidna",
        "flugelhorn",
        "gazelle",
        "harpsichord",
    ];
    // Two sessions whose turns hold one rare word each, some across several lines.
    let mut text = String::new();
    for (i, w) in words.iter().enumerate() {
        let body = if i % 3 == 0 {
            format!("First line.\\n\\n```\\ncode {w}\\n```\\n> quoted")
        } else {
            format!("Talking about the {w} today.")
        };
        text.push_str(&format!(
            "{{\"session\": \"s{}\", \"speaker\": \"P{}\", \"text\": \"{body}\", \"id\": \"turn-{w}\"}}\n",
            i % 2,
            i % 3
        ));
    }
    import(&mem, &parse("words.jsonl", &text));
    for w in words {
        let hits = mem
            .search(&SearchQuery {
                limit: Some(5),
                per_memory: Some(usize::MAX),
                ..SearchQuery::new(w)
            })
            .unwrap();
        assert!(!hits.is_empty(), "{w}");
        let file = env.read(&hits[0].path);
        let line = file.lines().nth(hits[0].line_start - 1).unwrap();
        assert_eq!(turn_id(line), Some(format!("turn-{w}").as_str()), "{w}");
    }
    // Every passage of every session memory is one turn.
    let all = mem
        .search(&SearchQuery {
            limit: Some(100),
            per_memory: Some(usize::MAX),
            ..SearchQuery::new(words.join(" "))
        })
        .unwrap();
    assert_eq!(all.len(), words.len());
}

#[test]
fn bad_input_leaves_the_repository_untouched() {
    let (env, mem) = TestEnv::init_lib();
    let transcript = parse("chat.jsonl", JSONL);
    let head = env.head();
    let unknown_type = ImportOptions {
        kind: Some("no-such-type".into()),
        ..ImportOptions::default()
    };
    assert!(mem.import(&transcript, &unknown_type, &prov()).is_err());
    let bad_tag = ImportOptions {
        tags: vec!["two\nlines".into()],
        ..ImportOptions::default()
    };
    assert!(mem.import(&transcript, &bad_tag, &prov()).is_err());
    // Two sessions with the same id (a transcript built by hand) would share a memory id.
    let twice = Transcript {
        sessions: vec![
            transcript.sessions[0].clone(),
            transcript.sessions[0].clone(),
        ],
    };
    let err = mem.import(&twice, &ImportOptions::default(), &prov());
    assert!(matches!(err, Err(Error::DuplicateId { .. })), "{err:?}");
    // A file that is not a transcript never reaches the repository.
    let err = Transcript::parse("chat.jsonl", "{\"role\": \"user\"\n", Format::Auto, "chat");
    assert!(err.is_err());
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
    assert!(mem.list(&Default::default()).unwrap().is_empty());
    // A session without turns is nothing to import.
    let empty = Transcript {
        sessions: vec![Session {
            id: "x".into(),
            turns: Vec::<Turn>::new(),
            ..Session::default()
        }],
    };
    assert!(
        mem.import(&empty, &ImportOptions::default(), &prov())
            .is_err()
    );
    assert_eq!(env.head(), head);
}

#[test]
fn new_memories_take_an_id_a_creation_time_a_session_and_extra_keys() {
    let (env, mem) = TestEnv::init_lib();
    let id = MemoryId::parse("launch-2026").unwrap();
    let created = Timestamp::parse("2026-01-02T03:04:05Z").unwrap();
    let new = NewMemory::new("The launch is on 2 March.")
        .id(id.clone())
        .created(created)
        .session("planning-call")
        .extra("attendees", json!(["Ana", "Bo"]))
        .extra("room", "blue")
        .extra("floor", 3);
    let w = mem.remember(new, &prov()).unwrap();
    assert_eq!(w.id, "launch-2026");
    let m = mem.get(&w.id).unwrap();
    assert_eq!(
        (m.front.created, m.front.updated),
        (Some(created), Some(created))
    );
    assert_eq!(m.front.source.session.as_deref(), Some("planning-call"));
    assert_eq!(m.front.source.agent.as_deref(), Some("tester"));
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-1"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["add"]);
    assert_eq!(
        serde_json::to_value(&m.front.extra).unwrap(),
        json!({"attendees": ["Ana", "Bo"], "floor": 3, "room": "blue"})
    );

    // The id is taken now: refused, naming both files, and nothing is written.
    let head = env.head();
    let err = mem
        .remember(NewMemory::new("Another.").id(id.clone()), &prov())
        .unwrap_err();
    assert!(matches!(err, Error::DuplicateId { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "id `launch-2026` is used by more than one file: note/launch-2026.md, note/launch-2026-2.md"
    );
    let batch = vec![
        NewMemory::new("One.").id(MemoryId::parse("same").unwrap()),
        NewMemory::new("Two.").id(MemoryId::parse("same").unwrap()),
    ];
    assert!(matches!(
        mem.remember_batch(batch, &prov()),
        Err(Error::DuplicateId { .. })
    ));
    for key in ["id", "source", "two words", "", "-x"] {
        let err = mem.remember(NewMemory::new("x").extra(key, 1), &prov());
        assert!(
            matches!(err, Err(Error::Invalid { .. })),
            "{key:?}: {err:?}"
        );
    }
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
}

#[test]
fn an_import_of_more_sessions_than_a_process_may_open_files_succeeds() {
    // A batch shares its syncs, so it writes every temp file before renaming any: it must not
    // keep them open meanwhile. 300 sessions under a limit of 64 open files.
    let env = TestEnv::init();
    let lines: String = (0..300)
        .map(|k| format!("{}\n", json!({"session": format!("s{k}"), "role": "user", "content": format!("Session {k} limitword.")})))
        .collect();
    env.write("chat.jsonl", lines);
    let out = env
        .shell(r#"ulimit -n 64 && exec "$MEMDIR" import chat.jsonl --json"#)
        .success();
    assert_eq!(out.json().as_array().unwrap().len(), 300, "{out}");
    assert_eq!(env.git_status(), "?? chat.jsonl\n");
    let listed = env.run(&["list", "--json"]).success().json();
    assert_eq!(listed.as_array().unwrap().len(), 300);
}
