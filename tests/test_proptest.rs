//! Properties of the file format over arbitrary text: what memdir renders it reads back
//! unchanged, rendering what it read gives the same bytes again, and an edit that changes
//! nothing returns the file byte-for-byte.

use std::collections::BTreeMap;

use memdir::parse::{self, Edit, FieldValue};
use memdir::{FrontMatter, MemoryId, Revision, Source, Timestamp};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

/// Strings YAML likes to read as something else, mixed with arbitrary printable text.
fn text() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        "yes",
        "no",
        "No",
        "on",
        "Off",
        "y",
        "n",
        "true",
        "FALSE",
        "null",
        "NULL",
        "~",
        "- x",
        "-",
        "a: b",
        "a:b",
        "x:",
        "#c",
        "a #b",
        "[d]",
        "{e}",
        "d, e",
        "'q'",
        "\"dq\"",
        "!tag",
        "&anchor",
        "*alias",
        "%x",
        "@x",
        "`x",
        "|",
        ">",
        "? k",
        "?",
        ",",
        "---",
        "...",
        "=",
        "<<",
        "\\",
        "a\\b",
        " lead",
        "trail ",
        "tab\tin",
        "0x1F",
        "0o17",
        "0b101",
        ".inf",
        "-.inf",
        ".NaN",
        "1.0",
        "1e3",
        "+1",
        "-1",
        "12:30",
        "1_000",
        "2026-01-01",
        "0",
        "Ωmega",
        "日本語",
        "emoji 🦀",
        "a\u{2028}b",
    ])
    .prop_map(str::to_owned);
    prop_oneof![tricky, "\\PC{1,24}"]
}

/// Non-blank text, for titles (a blank title is derived from the body instead).
fn title() -> impl Strategy<Value = String> {
    text().prop_filter("titles are not blank", |t| !t.trim().is_empty())
}

fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..4_102_444_800)
        .prop_map(|s| Timestamp(time::OffsetDateTime::from_unix_timestamp(s).unwrap()))
}

fn body() -> impl Strategy<Value = String> {
    prop::collection::vec(prop_oneof!["\\PC{0,40}", text()], 0..6)
        .prop_map(|lines| lines.join("\n"))
}

prop_compose! {
    fn front_matter()(
        title in title(),
        kind in prop::sample::select(vec!["fact", "preference", "event", "procedure", "note", "summary"]),
        tags in prop::collection::vec(title(), 0..4),
        scope in prop::option::of(text()),
        created in prop::option::of(timestamp()),
        updated in prop::option::of(timestamp()),
        pinned in any::<bool>(),
        expires in prop::option::of(timestamp()),
        session in prop::option::of(text()),
        agent in prop::option::of(text()),
        step in prop::option::of(text()),
        reference in prop::option::of(text()),
        extra in prop::collection::btree_map("x_[a-z0-9_]{1,8}", prop_oneof![
            text().prop_map(serde_json::Value::from),
            any::<i32>().prop_map(serde_json::Value::from),
            any::<bool>().prop_map(serde_json::Value::from),
        ], 0..3),
    ) -> FrontMatter {
        FrontMatter {
            id: MemoryId::parse("prop-test-1a2b3c").unwrap(),
            title,
            kind: kind.to_owned(),
            tags,
            scope,
            created,
            updated,
            pinned,
            expires,
            source: Source { session, agent, step, reference },
            extra: extra.into_iter().collect::<BTreeMap<_, _>>(),
        }
    }
}

fn parse(text: &str) -> memdir::Memory {
    parse::parse_memory("note/prop.md", text.as_bytes(), Revision("0".repeat(40)))
        .unwrap_or_else(|e| panic!("{e}\n--- file ---\n{text}"))
}

proptest! {
    // A fixed seed keeps the suite deterministic; failures print their minimal input and
    // nothing is written into the source tree.
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6d656d646972),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_rendered_memory_parses_back_to_the_same_fields(
        front in front_matter(),
        body in body(),
        dots in any::<bool>(),
    ) {
        let mut text = parse::render_new(&front, &body);
        if dots {
            // YAML's end-of-document line closes a front-matter block as well as `---`.
            let close = text[3..].find("\n---\n").expect("a closing line") + 3;
            text.replace_range(close..close + 5, "\n...\n");
        }
        let memory = parse(&text);
        prop_assert_eq!(&memory.front, &front, "file:\n{}", text);
        let expected_body = if body.is_empty() {
            String::new()
        } else if body.ends_with('\n') {
            format!("\n{body}")
        } else {
            format!("\n{body}\n")
        };
        prop_assert_eq!(memory.body, expected_body);
    }

    #[test]
    fn parse_then_render_of_an_unchanged_memory_is_byte_identical(front in front_matter(), body in body()) {
        let text = parse::render_new(&front, &body);
        let memory = parse(&text);
        // The parsed body keeps the blank line after the front-matter; rendering adds it.
        let body = memory.body.strip_prefix('\n').unwrap_or(&memory.body);
        prop_assert_eq!(parse::render_new(&memory.front, body), text);
    }

    #[test]
    fn an_edit_that_changes_nothing_returns_the_input_byte_for_byte(front in front_matter(), body in body()) {
        let text = parse::render_new(&front, &body);
        prop_assert_eq!(parse::edit("note/prop.md", &text, &Edit::default()).unwrap(), text);
    }

    #[test]
    fn an_empty_edit_of_any_hand_written_file_is_the_identity(
        lines in prop::collection::vec("\\PC{0,30}", 0..8),
        body in body(),
        crlf in any::<bool>(),
    ) {
        let nl = if crlf { "\r\n" } else { "\n" };
        let lines: Vec<String> = lines.into_iter().filter(|l| !matches!(l.trim_end(), "---" | "...")).collect();
        let text = format!("---{nl}{}{nl}---{nl}{body}", lines.join(nl));
        prop_assert_eq!(parse::edit("note/prop.md", &text, &Edit::default()).unwrap(), text);
    }

    #[test]
    fn an_edited_field_reads_back_as_written_and_the_others_stay(
        front in front_matter(),
        body in body(),
        new_title in title(),
        new_tags in prop::collection::vec(title(), 0..4),
        new_scope in text(),
    ) {
        let text = parse::render_new(&front, &body);
        let edit = Edit {
            fields: vec![
                ("title".into(), FieldValue::Text(new_title.clone())),
                ("tags".into(), FieldValue::List(new_tags.clone())),
                ("scope".into(), FieldValue::Text(new_scope.clone())),
            ],
            body: None,
        };
        let edited = parse::edit("note/prop.md", &text, &edit).unwrap();
        let memory = parse(&edited);
        let mut expected = front.clone();
        expected.title = new_title;
        expected.tags = new_tags;
        expected.scope = Some(new_scope);
        prop_assert_eq!(&memory.front, &expected, "file:\n{}", edited);
        prop_assert_eq!(memory.body, parse(&text).body);
    }
}

/// Strings a YAML 1.2 reader takes for numbers, booleans or null when written plain.
const LOOK_ALIKES: &[&str] = &[
    "yes",
    "No",
    "on",
    "Off",
    "y",
    "n",
    "true",
    "FALSE",
    "null",
    "Null",
    "~",
    "0",
    "-1",
    "+1",
    "1.0",
    ".5",
    "1.",
    "1e3",
    "1E3",
    "1_000",
    "12:30",
    "2026-01-01",
    "0x1F",
    "0X1F",
    "0o17",
    "0b101",
    ".inf",
    ".Inf",
    "+.inf",
    "-.inf",
    ".nan",
    ".NaN",
];

#[test]
fn strings_that_look_like_other_yaml_values_round_trip_as_strings() {
    let mut wrong = Vec::new();
    for s in LOOK_ALIKES {
        let front = FrontMatter {
            id: MemoryId::parse("look-alike-1a2b3c").unwrap(),
            title: (*s).to_owned(),
            kind: "note".into(),
            tags: vec![(*s).to_owned()],
            scope: Some((*s).to_owned()),
            created: None,
            updated: None,
            pinned: false,
            expires: None,
            source: Source::default(),
            extra: BTreeMap::new(),
        };
        let text = parse::render_new(&front, "");
        let back = parse(&text).front;
        if back != front {
            wrong.push(format!(
                "{s:?} was read back as title {:?}, tags {:?}, scope {:?}",
                back.title, back.tags, back.scope
            ));
        }
    }
    assert!(wrong.is_empty(), "\n{}", wrong.join("\n"));
}
