//! Bad input: broken or foreign files, ids that try to leave the repository, duplicate ids.
//! Each gets a clear `path:line: message`, the other memories stay searchable, and nothing is
//! overwritten.

use memdir::{Memdir, NewMemory, SearchQuery};

use crate::common::{TestEnv, prov, settings};

/// Files a person (or a broken tool) might leave in the repository, as `(path, bytes)`.
const BAD_FILES: &[(&str, &[u8])] = &[
    (
        "fact/malformed.md",
        b"---\nid: malformed-1\ntitle: [unclosed\n---\nBody.\n",
    ),
    ("fact/no-id.md", b"---\ntitle: No id here\n---\nBody.\n"),
    (
        "fact/wrong-pinned.md",
        b"---\nid: wrong-pinned\ntitle: Pinned?\npinned: maybe\n---\nBody.\n",
    ),
    (
        "fact/wrong-tags.md",
        b"---\nid: wrong-tags\ntitle: Tags\ntags: {a: b}\n---\nBody.\n",
    ),
    (
        "fact/wrong-date.md",
        b"---\nid: wrong-date\ntitle: Date\ncreated: last tuesday\n---\nBody.\n",
    ),
    (
        "fact/latin1.md",
        b"---\nid: latin1\ntitle: Caf\xe9\n---\nBody.\n",
    ),
    (
        "fact/nul.md",
        b"---\nid: nul\ntitle: Nul\n---\nBefore\0after.\n",
    ),
    (
        "fact/escape.md",
        b"---\nid: ../../etc/passwd\ntitle: Escape\n---\nBody.\n",
    ),
    (
        "fact/alias.md",
        b"---\nid: alias\na: &x [1, 2]\nb: *x\n---\nBody.\n",
    ),
    ("notes/plain.md", b"# Just notes\n\nNo front-matter here.\n"),
    (
        "fact/dup-a.md",
        b"---\nid: shared-id\ntitle: First claim\n---\nAardvarks first.\n",
    ),
    (
        "fact/dup-b.md",
        b"---\nid: shared-id\ntitle: Second claim\n---\nAardvarks second.\n",
    ),
];

/// Returns a repository with one good memory (id returned) and every bad file, committed
/// with plain git when `commit` is set, else left as hand edits.
fn repo_with_bad_files(commit: bool) -> (TestEnv, Memdir, String) {
    let (env, mem) = TestEnv::init_lib();
    let good = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443.").kind("fact"),
            &prov(),
        )
        .unwrap();
    for (path, bytes) in BAD_FILES {
        env.write(path, bytes);
    }
    if commit {
        env.git(&["add", "-A"]);
        env.git(&["commit", "-q", "-m", "bad files from elsewhere"]);
    }
    (env, mem, good.id)
}

fn assert_bad_files_unchanged(env: &TestEnv) {
    for (path, bytes) in BAD_FILES {
        assert_eq!(&env.read_bytes(path), bytes, "{path} was changed");
    }
}

#[test]
fn check_prints_path_line_message_and_exits_1() {
    let (env, _mem, _) = repo_with_bad_files(true);
    let out = env.run(&["check"]);
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out.stdout, @r"
    fact/alias.md:4: invalid front-matter: YAML aliases (`*name`) are not allowed in memory front-matter
    fact/escape.md:2: field `id`: invalid id `../../etc/passwd`: ids are lower-case letters, digits, `-`, `_` and `.`, start with a letter or digit, and are at most 96 characters
    fact/latin1.md:3: not UTF-8 text (binary file?)
    fact/malformed.md:4: invalid front-matter: while parsing a flow sequence, expected ',' or ']'
    fact/nul.md:5: not UTF-8 text (binary file?)
    fact/wrong-date.md:4: field `created`: expected a time like [TIME] or a date like 2026-11-25, found `last tuesday`
    fact/wrong-pinned.md:4: field `pinned`: expected true or false, found a string
    fact/wrong-tags.md:4: field `tags`: expected a list of strings, found a mapping
    ");
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.ends_with("8 problem(s) found.\n"), "{out}");
    assert_bad_files_unchanged(&env);
}

#[test]
fn check_json_lists_each_problem_with_path_and_line() {
    let (env, _mem, _) = repo_with_bad_files(false);
    let out = env.run(&["check", "--json"]).code(1);
    let problems = out.json();
    let problems = problems.as_array().unwrap();
    assert_eq!(problems.len(), 8, "{out}");
    for p in problems {
        assert_eq!(crate::common::keys(p), ["line", "message", "path"], "{p}");
    }
    let nul = problems
        .iter()
        .find(|p| p["path"] == "fact/nul.md")
        .unwrap();
    assert_eq!(nul["line"], 5);
    let pinned = problems
        .iter()
        .find(|p| p["path"] == "fact/wrong-pinned.md")
        .unwrap();
    assert_eq!(pinned["line"], 4);
    assert!(
        pinned["message"].as_str().unwrap().contains("pinned"),
        "{pinned}"
    );
}

#[test]
fn a_clean_repository_passes_check() {
    let env = TestEnv::init();
    env.add("The staging API listens on port 8443.", &[]);
    let out = env.run(&["check"]).success();
    insta::assert_snapshot!(out, @r"
    ------- stderr -------
    All memory files are valid.
    ");
    let json = env.run(&["check", "--json"]).success().json();
    assert_eq!(json, serde_json::json!([]));
}

#[test]
fn other_memories_stay_searchable_beside_bad_files() {
    for commit in [true, false] {
        let (env, mem, good) = repo_with_bad_files(commit);
        for mem in [mem, env.open()] {
            let hits = mem.search(&SearchQuery::new("staging port")).unwrap();
            assert_eq!(hits.len(), 1, "commit={commit}: {hits:?}");
            assert_eq!(hits[0].id, good);
            assert_eq!(mem.get(&good).unwrap().front.kind, "fact");
        }
        let out = env.run(&["search", "staging", "--json"]).success().json();
        assert_eq!(out[0]["id"], good.as_str(), "commit={commit}");
        env.run(&["show", &good]).success();
        assert_bad_files_unchanged(&env);
    }
}

#[test]
fn reindex_reports_bad_files_and_indexes_the_rest() {
    let (env, mem, good) = repo_with_bad_files(true);
    let refresh = mem.reindex(&mut |_, _| {}).unwrap();
    let mut bad: Vec<(String, Option<usize>)> = refresh
        .problems
        .iter()
        .map(|p| (p.path.clone(), p.line))
        .collect();
    bad.sort();
    assert_eq!(bad.len(), 8, "{bad:?}");
    assert!(
        bad.contains(&("fact/malformed.md".into(), Some(4))),
        "{bad:?}"
    );
    // A file without front-matter or without an id is a memory like any other.
    assert!(
        !bad.iter()
            .any(|(p, _)| p == "notes/plain.md" || p == "fact/no-id.md"),
        "{bad:?}"
    );
    assert_eq!(
        mem.search(&SearchQuery::new("staging")).unwrap()[0].id,
        good
    );

    let out = env.run(&["reindex"]).success();
    assert!(
        out.stderr
            .contains("warning: fact/wrong-pinned.md:4: field `pinned`"),
        "{out}"
    );
    assert_eq!(
        out.stdout,
        "Indexed 5 file(s); 8 could not be read (see above).\n"
    );
    assert_bad_files_unchanged(&env);
}

/// Two files that claim one id (a copy, say) never make it unreachable: the first keeps it,
/// the other is found under its path's id until `memdir commit` writes that id into it.
/// See: issue 14 (before, `show`, `update` and `why` of the id failed for both).
#[test]
fn a_duplicated_id_stays_reachable_and_the_other_file_gets_its_own() {
    let (env, mem, _) = repo_with_bad_files(true);
    let first = mem.get("shared-id").unwrap();
    assert_eq!(first.path, "fact/dup-a.md");
    let other = memdir::parse::path_id("fact/dup-b.md");
    let second = mem.get(other.as_str()).unwrap();
    assert_eq!(second.path, "fact/dup-b.md");
    assert!(second.body.contains("Aardvarks second"));
    let hits = mem.search(&SearchQuery::new("aardvarks")).unwrap();
    let mut ids: Vec<&str> = hits.iter().map(|h| h.id.as_str()).collect();
    ids.sort();
    let mut expected = vec!["shared-id", other.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    env.run(&["show", "shared-id"]).success();
    env.run(&["why", "shared-id"]).success();
    assert_bad_files_unchanged(&env);
}

#[test]
fn ids_that_leave_the_repository_are_refused() {
    let (env, mem, _) = repo_with_bad_files(true);
    let head = env.head();
    for bad in [
        "../x",
        "a/b",
        "../../etc/passwd",
        "/etc/passwd",
        "fact/dup-a",
    ] {
        assert!(
            matches!(
                mem.get(bad),
                Err(memdir::Error::Parse(
                    memdir::parse::ParseError::InvalidId { .. }
                ))
            ),
            "{bad}"
        );
        for verb in ["show", "rm"] {
            let out = env.run(&[verb, bad]).code(1);
            assert!(
                out.stderr.contains(&format!("error: invalid id `{bad}`")),
                "{verb} {bad}: {out}"
            );
        }
        env.run(&["update", bad, "--title", "x"]).code(1);
    }
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
    assert_bad_files_unchanged(&env);
}

#[test]
fn a_symlink_is_never_followed() {
    let (env, mem) = TestEnv::init_lib();
    let outside = env.root().join("secret.md");
    std::fs::write(
        &outside,
        "---\nid: secret\ntitle: Secret\n---\nThe launch code is swordfish.\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(&outside, env.path("fact/link.md")).unwrap();
    mem.refresh().unwrap();
    assert!(
        mem.search(&SearchQuery::new("swordfish"))
            .unwrap()
            .is_empty()
    );
    let problems = mem.check().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "fact/link.md");
    assert!(
        problems[0].message.contains("symbolic link"),
        "{problems:?}"
    );
}

#[test]
fn add_never_overwrites_a_file_at_its_path() {
    let (env, mem, _) = repo_with_bad_files(true);
    // `fact/malformed.md` is where a memory titled "Malformed" would go.
    let w = mem
        .remember(
            NewMemory::new("Text.").title("Malformed").kind("fact"),
            &prov(),
        )
        .unwrap();
    assert_ne!(w.path, "fact/malformed.md");
    assert!(w.path.starts_with("fact/"), "{}", w.path);
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_bad_files_unchanged(&env);
}

#[test]
fn a_memory_broken_by_hand_is_reported_and_left_alone() {
    let env = TestEnv::init();
    let added = env.add("The office opens at eight.", &["--type", "fact"]);
    let id = added["id"].as_str().unwrap();
    let path = added["path"].as_str().unwrap();
    let broken = env.read(path).replace("type: fact", "type: fact: x");
    env.write(path, &broken);

    let out = env.run(&["check"]).code(1);
    assert!(
        out.stdout
            .starts_with(&format!("{path}:3: invalid front-matter")),
        "{out}"
    );
    // Writes through memdir refuse to touch it; the text is kept.
    let out = env.run(&["update", id, "--title", "Office hours"]);
    assert_eq!(out.status, 1, "{out}");
    let out = env.run(&["rm", id]);
    assert_eq!(out.status, 1, "{out}");
    assert_eq!(env.read(path), broken);
}

#[test]
fn an_unknown_type_is_a_problem() {
    let (env, mem) = TestEnv::init_lib();
    env.write(
        "fact/odd.md",
        "---\nid: odd-type\ntitle: Odd\ntype: gossip\n---\nBody.\n",
    );
    let problems = mem.check().unwrap();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].path, "fact/odd.md");
    assert!(problems[0].message.contains("type"), "{problems:?}");
    // A new memory of an unknown type is refused before anything is written.
    let err = mem
        .remember(NewMemory::new("x").kind("gossip"), &prov())
        .unwrap_err();
    assert!(matches!(err, memdir::Error::Invalid { .. }), "{err:?}");
    assert_eq!(env.commit_count(), 1);
}
