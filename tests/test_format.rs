//! The file format: front-matter fields, paths and ids, and surgical updates of hand-written
//! files.

use memdir::{NewMemory, Provenance, Timestamp, Update};
use serde_json::json;

use crate::common::{TestEnv, is_id_for, prov};

/// A hand-written memory with comments, unusual key order, unknown keys, a block list and
/// formatted Markdown.
const HAND_WRITTEN: &str = "\
---
# Written by hand; memdir must keep this comment.
title: Deploy checklist
id: deploy-checklist-abc123
owner: ops-team   # an unknown key with a trailing comment
type: procedure
tags:
  - deploy
  - ops
updated: 2026-01-02T03:04:05Z
custom:
  nested: [1, 2]
---

Steps, in order:

1. Freeze   the branch.
2.  Run *all* tests.
";

fn commit_by_hand(env: &TestEnv, path: &str, text: &str) {
    env.write(path, text);
    env.git(&["add", path]);
    env.git(&["commit", "-q", "-m", "add by hand"]);
}

/// Returns the `-` and `+` lines of `git diff -U0 HEAD~1 HEAD`.
fn last_commit_diff(env: &TestEnv) -> (Vec<String>, Vec<String>) {
    let diff = env.git(&["diff", "-U0", "HEAD~1", "HEAD"]);
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for line in diff.lines() {
        if line.starts_with("---") || line.starts_with("+++") {
            continue;
        }
        if let Some(l) = line.strip_prefix('-') {
            removed.push(l.to_owned());
        } else if let Some(l) = line.strip_prefix('+') {
            added.push(l.to_owned());
        }
    }
    (removed, added)
}

#[test]
fn every_field_of_a_new_memory_round_trips() {
    let (env, mem) = TestEnv::init_lib();
    let expires = Timestamp::parse("2030-01-01").unwrap();
    let provenance = Provenance {
        reference: Some("https://tickets.example/42".into()),
        ..prov()
    };
    let new = NewMemory {
        expires: Some(expires),
        ..NewMemory::new("Alice prefers dark mode in every editor.")
            .title("Prefers dark mode")
            .kind("preference")
            .tag("ui")
            .tag("editor")
            .scope("user:alice")
            .pinned(true)
    };
    let w = mem.remember(new, &provenance).unwrap();

    let m = mem.get(&w.id).unwrap();
    assert_eq!(m.front.id.as_str(), w.id);
    assert_eq!(m.front.title, "Prefers dark mode");
    assert_eq!(m.front.kind, "preference");
    assert_eq!(m.front.tags, ["ui", "editor"]);
    assert_eq!(m.front.scope.as_deref(), Some("user:alice"));
    assert!(m.front.pinned);
    assert_eq!(m.front.expires, Some(expires));
    assert!(m.front.created.is_some());
    assert_eq!(m.front.created, m.front.updated);
    assert_eq!(m.front.source.session.as_deref(), Some("s-1"));
    assert_eq!(m.front.source.agent.as_deref(), Some("tester"));
    assert_eq!(m.front.source.step.as_deref(), Some("7"));
    assert_eq!(
        m.front.source.reference.as_deref(),
        Some("https://tickets.example/42")
    );
    assert!(m.front.extra.is_empty());
    assert_eq!(m.body.trim(), "Alice prefers dark mode in every editor.");
    assert_eq!(m.path, w.path);
    assert_eq!(Some(&m.revision), w.revision.as_ref());

    // The file on disk says the same, readable without memdir.
    let text = env.read(&w.path);
    assert!(text.starts_with(&format!("---\nid: {}\n", w.id)), "{text}");
    for line in [
        "title: Prefers dark mode",
        "type: preference",
        "tags: [ui, editor]",
        "scope: user:alice",
        "pinned: true",
        "expires: 2030-01-01T00:00:00Z",
        "source:",
        "  session: s-1",
        "  agent: tester",
        "  ref: https://tickets.example/42",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn a_hand_written_file_keeps_every_field_and_unknown_key() {
    let (env, mem) = TestEnv::init_lib();
    commit_by_hand(&env, "procedure/deploy-checklist.md", HAND_WRITTEN);

    let m = mem.get("deploy-checklist-abc123").unwrap();
    assert_eq!(m.front.title, "Deploy checklist");
    assert_eq!(m.front.kind, "procedure");
    assert_eq!(m.front.tags, ["deploy", "ops"]);
    assert_eq!(m.front.updated, Timestamp::parse("2026-01-02T03:04:05Z"));
    assert_eq!(m.front.extra["owner"], json!("ops-team"));
    assert_eq!(m.front.extra["custom"], json!({"nested": [1, 2]}));
    assert_eq!(m.path, "procedure/deploy-checklist.md");
    assert_eq!(
        m.body,
        "\nSteps, in order:\n\n1. Freeze   the branch.\n2.  Run *all* tests.\n"
    );
}

#[test]
fn update_rewrites_only_the_touched_lines() {
    let (env, mem) = TestEnv::init_lib();
    commit_by_hand(&env, "procedure/deploy-checklist.md", HAND_WRITTEN);

    let update = Update {
        title: Some("Release checklist".into()),
        add_tags: vec!["release".into()],
        ..Update::default()
    };
    mem.update("deploy-checklist-abc123", update, &prov())
        .unwrap();

    let (removed, added) = last_commit_diff(&env);
    assert_eq!(
        removed,
        ["title: Deploy checklist", "updated: 2026-01-02T03:04:05Z"]
    );
    assert_eq!(added.len(), 3, "{added:?}");
    assert_eq!(added[0], "title: Release checklist");
    assert_eq!(added[1], "  - release");
    assert!(added[2].starts_with("updated: "), "{added:?}");

    // Comments, key order, unknown keys and body formatting survive.
    let text = env.read("procedure/deploy-checklist.md");
    let expected = HAND_WRITTEN
        .replace("title: Deploy checklist", "title: Release checklist")
        .replace("  - ops\n", "  - ops\n  - release\n")
        .replace("updated: 2026-01-02T03:04:05Z", added[2].as_str());
    assert_eq!(text, expected);
}

#[test]
fn update_of_the_body_leaves_the_front_matter_alone() {
    let (env, mem) = TestEnv::init_lib();
    commit_by_hand(&env, "procedure/deploy-checklist.md", HAND_WRITTEN);

    let update = Update {
        body: Some("Steps, in order:\n\n1. Freeze   the branch.\n2. Ship it.\n".into()),
        ..Update::default()
    };
    mem.update("deploy-checklist-abc123", update, &prov())
        .unwrap();

    let (removed, added) = last_commit_diff(&env);
    assert_eq!(
        removed,
        ["updated: 2026-01-02T03:04:05Z", "2.  Run *all* tests."]
    );
    assert_eq!(added.len(), 2, "{added:?}");
    assert!(added[0].starts_with("updated: "));
    assert_eq!(added[1], "2. Ship it.");
}

#[test]
fn update_keeps_a_flow_list_a_flow_list() {
    let (env, mem) = TestEnv::init_lib();
    let text = "\
---
id: tea-1a2b3c
title: Likes tea
type: preference
tags: [drinks]
---
Green, no sugar.
";
    commit_by_hand(&env, "preference/tea.md", text);

    let update = Update {
        add_tags: vec!["morning".into()],
        ..Update::default()
    };
    mem.update("tea-1a2b3c", update, &prov()).unwrap();

    let (removed, added) = last_commit_diff(&env);
    assert_eq!(removed, ["tags: [drinks]"]);
    assert_eq!(added[0], "tags: [drinks, morning]");
    assert!(added[1].starts_with("updated: "), "{added:?}");
}

#[test]
fn paths_and_ids_name_a_given_title_else_the_type() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(
            NewMemory::new("Dark mode everywhere.")
                .title("Prefers Dark Mode!")
                .kind("preference"),
            &prov(),
        )
        .unwrap();
    assert_eq!(w.path, "preference/prefers-dark-mode.md");
    assert!(is_id_for(&w.id, "prefers-dark-mode"), "{}", w.id);
    assert!(env.path(&w.path).is_file());

    // Without a title or a type: the id and the file are named by the default type, not by
    // the text (which may change); the title follows the text.
    let w = mem
        .remember(
            NewMemory::new("# Standup at nine\n\nEvery weekday."),
            &prov(),
        )
        .unwrap();
    assert!(is_id_for(&w.id, "note"), "{}", w.id);
    assert_eq!(w.path, format!("note/{}.md", w.id));
    assert_eq!(mem.get(&w.id).unwrap().front.title, "Standup at nine");
    assert!(!env.read(&w.path).contains("title:"));
    // A long title gives its first three words.
    let w = mem
        .remember(
            NewMemory::new("Port 8443.").title("The staging API port"),
            &prov(),
        )
        .unwrap();
    assert!(is_id_for(&w.id, "the-staging-api"), "{}", w.id);
    assert_eq!(w.path, "note/the-staging-api-port.md");
}

#[test]
fn a_second_memory_with_the_same_title_gets_another_path_and_id() {
    let (env, mem) = TestEnv::init_lib();
    let new = || {
        NewMemory::new("Port 8443.")
            .title("Staging port")
            .kind("fact")
    };
    let a = mem.remember(new(), &prov()).unwrap();
    let b = mem.remember(new(), &prov()).unwrap();
    assert_ne!(a.id, b.id);
    assert_ne!(a.path, b.path);
    assert!(is_id_for(&b.id, "staging-port"), "{}", b.id);
    assert!(b.path.starts_with("fact/"), "{}", b.path);
    // The first file is untouched.
    assert_eq!(mem.get(&a.id).unwrap().path, a.path);
    assert!(env.read(&a.path).contains(&format!("id: {}", a.id)));

    // The same holds inside one batch.
    let batch = mem.remember_batch(vec![new(), new()], &prov()).unwrap();
    let mut paths: Vec<&str> = [&a, &b, &batch[0], &batch[1]]
        .iter()
        .map(|w| w.path.as_str())
        .collect();
    paths.sort();
    paths.dedup();
    assert_eq!(paths.len(), 4);
}

#[test]
fn yaml_special_titles_and_tags_are_kept_as_written() {
    let (_env, mem) = TestEnv::init_lib();
    for (title, tag) in [
        ("yes", "no"),
        ("- x", "a: b"),
        ("#c", "[d]"),
        ("null", "~"),
        ("0x1F", ".inf"),
    ] {
        let w = mem
            .remember(NewMemory::new("Body.").title(title).tag(tag), &prov())
            .unwrap();
        let m = mem.get(&w.id).unwrap();
        assert_eq!(
            (m.front.title.as_str(), m.front.tags.as_slice()),
            (title, &[tag.to_owned()][..]),
            "{title:?} / {tag:?}"
        );
    }
}

#[test]
fn update_keeps_the_permissions_of_a_hand_written_file() {
    use std::os::unix::fs::PermissionsExt as _;
    let (env, mem) = TestEnv::init_lib();
    commit_by_hand(&env, "procedure/deploy-checklist.md", HAND_WRITTEN);
    let path = env.path("procedure/deploy-checklist.md");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

    let update = Update {
        title: Some("Release checklist".into()),
        ..Update::default()
    };
    mem.update("deploy-checklist-abc123", update, &prov())
        .unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "mode is {mode:o}");
}

#[test]
fn titles_without_ascii_or_too_long_still_give_short_readable_paths() {
    let (_env, mem) = TestEnv::init_lib();
    for title in ["日本語のメモ", "!!!", &"very long title ".repeat(20)] {
        let w = mem
            .remember(NewMemory::new("Body.").title(title), &prov())
            .unwrap();
        let stem = w
            .path
            .strip_prefix("note/")
            .and_then(|p| p.strip_suffix(".md"))
            .unwrap_or_else(|| panic!("{title:?}: {}", w.path));
        assert!(
            !stem.is_empty() && stem.len() <= 48,
            "{title:?}: {}",
            w.path
        );
        assert!(
            stem.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
            "{title:?}: {}",
            w.path
        );
        assert!(w.id.len() <= memdir::MemoryId::MAX_LEN, "{}", w.id);
        assert_eq!(mem.get(&w.id).unwrap().front.title, title.trim());
    }
}
