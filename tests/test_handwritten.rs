//! Hand-written memory is first class: any Markdown file is a memory, with or without
//! front-matter, with a stable id that memdir writes into it when it commits it; nothing
//! memdir shows carries text a memory no longer says; `commit` refuses what `check` refuses;
//! the repository's own files are protected.
//!
//! See: issue 14, "Hand-written memory is first class, and no part of a memory goes stale".

use crate::common::{TestEnv, is_id_for};

/// Returns the ids of the hits of `memdir search QUERY --json`.
fn search_ids(env: &TestEnv, query: &str) -> Vec<String> {
    env.search_ids(query)
}

/// Returns the ids `memdir list --json` lists.
fn list_ids(env: &TestEnv) -> Vec<String> {
    env.run(&["list", "--json"])
        .success()
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Commits everything with plain git, as a person would.
fn git_commit(env: &TestEnv, message: &str) {
    env.git(&["add", "-A"]);
    env.git(&["commit", "-q", "-m", message]);
}

const STYLE: &str =
    "# Coding style\n\n- Indent with tabs, never spaces.\n- Keep functions short.\n";

#[test]
fn a_note_without_front_matter_committed_with_plain_git_is_searched_listed_and_injected() {
    let env = TestEnv::init();
    env.write("note/coding-style.md", STYLE);
    git_commit(&env, "My coding style");

    let hits = env
        .run(&["search", "tabs indentation", "--json"])
        .success()
        .json();
    let hit = &hits[0];
    let id = hit["id"].as_str().unwrap().to_owned();
    assert!(is_id_for(&id, "note-coding-style"), "{id}");
    assert_eq!(hit["title"], "Coding style");
    assert_eq!(hit["path"], "note/coding-style.md");
    assert!(list_ids(&env).contains(&id));

    let context = env
        .run(&["context", "how should I indent code", "--json"])
        .success()
        .json();
    let text = context["text"].as_str().unwrap();
    assert!(text.contains("Indent with tabs"), "{text}");
    assert!(text.contains(&id), "the citation names the id: {text}");

    // The id resolves before anything was written into the file.
    let shown = env.run(&["show", &id, "--json"]).success().json();
    assert_eq!(shown["type"], "note");
    assert_eq!(env.read("note/coding-style.md"), STYLE);
    assert_eq!(env.run(&["check"]).success().stdout, "");
}

#[test]
fn a_title_only_note_takes_its_type_from_its_folder_and_its_id_from_its_path() {
    let env = TestEnv::init();
    env.write(
        "preference/editor.md",
        "---\ntitle: Editor\n---\nAlice edits code in helix.\n",
    );
    env.write("docs/misc.md", "Deploys happen on Fridays.\n");
    git_commit(&env, "Two notes");

    let editor = env.run(&["search", "helix", "--json"]).success().json();
    assert_eq!(editor[0]["title"], "Editor");
    assert_eq!(editor[0]["type"], "preference");
    assert!(is_id_for(
        editor[0]["id"].as_str().unwrap(),
        "preference-editor"
    ));
    // A folder that is not a type gives `note`; with no heading, the title is the first line.
    let misc = env
        .run(&["search", "deploys fridays", "--json"])
        .success()
        .json();
    assert_eq!(misc[0]["type"], "note");
    assert_eq!(misc[0]["title"], "Deploys happen on Fridays");
}

#[test]
fn memdir_commit_stamps_ids_into_hand_written_files_and_a_rename_keeps_them() {
    let env = TestEnv::init();
    env.write("note/coding-style.md", STYLE);
    git_commit(&env, "My coding style");
    let id = search_ids(&env, "tabs")[0].clone();

    let out = env.run(&["commit", "--json"]).success().json();
    assert_eq!(out["stamped"][0]["path"], "note/coding-style.md");
    assert_eq!(out["stamped"][0]["id"], id.as_str());
    assert_eq!(env.git_status(), "", "the stamp is committed");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["stamp"]);
    let text = env.read("note/coding-style.md");
    assert!(
        text.starts_with(&format!("---\nid: {id}\ncreated: ")),
        "{text}"
    );
    assert!(
        text.ends_with(STYLE),
        "the rest of the file is untouched: {text}"
    );

    env.git(&["mv", "note/coding-style.md", "note/style.md"]);
    git_commit(&env, "Shorter name");
    assert_eq!(search_ids(&env, "tabs"), std::slice::from_ref(&id));
    env.run(&["show", &id]).success();
    // Nothing left to stamp.
    env.run(&["commit"]).success();
    assert_eq!(env.git_status(), "");
}

#[test]
fn an_uncommitted_hand_written_file_is_stamped_in_the_same_commit() {
    let env = TestEnv::init();
    env.write("fact/office.md", "The office opens at nine.\n");
    let id = search_ids(&env, "office")[0].clone();
    env.run(&["commit", "-m", "Office hours"]).success();
    assert_eq!(env.git_status(), "");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), std::slice::from_ref(&id));
    assert!(
        env.read("fact/office.md")
            .starts_with(&format!("---\nid: {id}\n"))
    );
}

#[test]
fn with_stamping_off_files_stay_untouched() {
    let env = TestEnv::init();
    let config = env
        .read("memory.toml")
        .replace("stamp_ids = true", "stamp_ids = false");
    env.write("memory.toml", config);
    env.run(&["commit", "-m", "No stamps"]).success();
    env.write("note/coding-style.md", STYLE);
    env.run(&["commit"]).success();
    assert_eq!(env.read("note/coding-style.md"), STYLE);
    assert_eq!(env.git_status(), "");
    assert_eq!(search_ids(&env, "tabs").len(), 1);
}

#[test]
fn check_fix_stamps_and_commits() {
    let env = TestEnv::init();
    env.write("note/coding-style.md", STYLE);
    git_commit(&env, "Style");
    let out = env.run(&["check", "--fix", "--json"]).success().json();
    assert_eq!(out["problems"], serde_json::json!([]));
    assert_eq!(out["fixed"]["stamped"][0]["path"], "note/coding-style.md");
    assert_eq!(env.git_status(), "");
    assert!(
        env.read("note/coding-style.md")
            .starts_with("---\nid: note-coding-style-")
    );
}

#[test]
fn a_copied_file_gets_a_new_id_and_the_original_stays_reachable() {
    let env = TestEnv::init();
    let original = env.add("Staging listens on port 8443.", &["--type", "fact"]);
    let id = original["id"].as_str().unwrap().to_owned();
    let path = original["path"].as_str().unwrap().to_owned();
    env.write(
        "fact/copy.md",
        env.read(&path)
            .replace("port 8443", "port 9443 in production"),
    );

    // Before any commit: both are found, each under its own id.
    let hits = search_ids(&env, "port");
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.contains(&id));
    let shown = env.run(&["show", &id, "--json"]).success().json();
    assert!(shown["body"].as_str().unwrap().contains("8443"));
    env.run(&["why", &id]).success();
    env.run(&["check"]).success();

    let out = env.run(&["commit"]).success();
    assert!(
        out.stderr
            .contains(&format!("fact/copy.md: a copy of `{id}`, given the new id")),
        "{out}"
    );
    let copy_id = crate::common::words(&env.read("fact/copy.md"))[2].to_owned();
    assert_ne!(copy_id, id);
    assert!(is_id_for(&copy_id, "fact-copy"), "{copy_id}");
    assert!(env.read(&path).contains(&format!("id: {id}")));
    let shown = env.run(&["show", &copy_id, "--json"]).success().json();
    assert!(shown["body"].as_str().unwrap().contains("9443"));
    env.run(&["update", &id, "--add-tag", "ports"]).success();
    env.run(&["check"]).success();
}

#[test]
fn commit_refuses_what_check_refuses_with_the_same_messages() {
    let env = TestEnv::init();
    env.write("note/target.md", "The target.\n");
    env.run(&["commit"]).success();
    std::os::unix::fs::symlink(env.path("note/target.md"), env.path("note/link.md")).unwrap();
    env.write("note/broken.md", "---\ntitle: [unclosed\n---\nBody\n");
    env.write(
        "note/fields.md",
        "---\nid: fields-1\ntags: {a: 1}\npinned: maybe\n---\nBody\n",
    );
    let head = env.head();

    let check = env.run(&["check"]).code(1);
    let commit = env.run(&["commit"]).code(1);
    for line in check.stdout.lines() {
        assert!(
            commit.stderr.contains(line),
            "commit does not say {line:?}:\n{commit}"
        );
    }
    // Every problem of a file, not just its first.
    assert!(
        check.stdout.contains("note/fields.md:3: field `tags`"),
        "{check}"
    );
    assert!(
        check.stdout.contains("note/fields.md:4: field `pinned`"),
        "{check}"
    );
    assert!(
        check.stdout.contains("note/link.md: is a symbolic link"),
        "{check}"
    );
    assert!(check.stdout.contains("note/broken.md:"), "{check}");
    assert_eq!(env.head(), head, "nothing was committed");
}

#[test]
fn an_update_of_the_body_leaves_no_trace_of_the_old_text() {
    let env = TestEnv::init();
    let added = env.add(
        "The user lives in Berlin near the Spree.",
        &["--type", "fact"],
    );
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(!id.contains("berlin") && !id.contains("user"), "{id}");
    assert!(is_id_for(&id, "fact"), "{id}");

    env.run(&[
        "update",
        &id,
        "--body",
        "The user lives in Lisbon near the Tagus.",
    ])
    .success();
    assert!(search_ids(&env, "Berlin").is_empty());
    assert!(search_ids(&env, "Spree").is_empty());
    assert_eq!(search_ids(&env, "Lisbon"), std::slice::from_ref(&id));
    let shown = env.run(&["show", &id, "--json"]).success().json();
    assert_eq!(shown["title"], "The user lives in Lisbon near the Tagus");
    let context = env.run(&["context", "where does the user live"]).success();
    assert!(!context.stdout.contains("Berlin"), "{context}");
    assert!(context.stdout.contains("Lisbon"), "{context}");
    let subject = env.git(&["log", "-1", "--format=%s"]);
    assert!(
        subject.contains("Lisbon") && !subject.contains("Berlin"),
        "{subject}"
    );
    let path = added["path"].as_str().unwrap();
    assert!(!path.contains("berlin"), "{path}");
    assert!(!env.read(path).contains("Berlin"));
}

#[test]
fn a_title_once_cut_from_the_text_follows_the_new_text() {
    // Files written before titles followed the text carry a `title:` cut from the first line.
    let env = TestEnv::init();
    env.write(
        "fact/home.md",
        "---\nid: home-1a2b3c\ntitle: The user lives in Berlin\n---\n\nThe user lives in Berlin.\n",
    );
    env.run(&["commit"]).success();
    env.run(&[
        "update",
        "home-1a2b3c",
        "--body",
        "The user lives in Lisbon.",
    ])
    .success();
    assert!(!env.read("fact/home.md").contains("Berlin"));
    assert!(search_ids(&env, "Berlin").is_empty());
    // A title somebody chose stays.
    env.write(
        "fact/pet.md",
        "---\nid: pet-1a2b3c\ntitle: Pet\n---\n\nThe user has a cat.\n",
    );
    env.run(&["commit"]).success();
    env.run(&["update", "pet-1a2b3c", "--body", "The user has a dog."])
        .success();
    assert!(env.read("fact/pet.md").contains("title: Pet\n"));
}

#[test]
fn status_lists_every_invalid_file_and_reads_say_files_are_left_out() {
    let env = TestEnv::init();
    env.add("Port 8443 on staging.", &[]);
    env.write("note/bad.md", "---\nid: [unclosed\n---\nBody\n");

    let search = env.run(&["search", "port"]).success();
    assert!(
        search
            .stderr
            .contains("1 file is left out of search; `memdir check` lists it."),
        "{search}"
    );
    for _ in 0..2 {
        let status = env.run(&["status", "--json"]).success().json();
        let invalid = status["invalid"].as_array().unwrap();
        assert_eq!(invalid.len(), 1, "{status}");
        assert_eq!(invalid[0]["path"], "note/bad.md");
        assert!(invalid[0]["line"].is_u64(), "{status}");
        assert!(
            invalid[0]["message"]
                .as_str()
                .unwrap()
                .contains("invalid front-matter")
        );
    }
    let list = env.run(&["list"]).success();
    assert!(list.stderr.contains("left out of search"), "{list}");
    let context = env.run(&["context", "port"]).success();
    assert!(context.stderr.contains("left out of search"), "{context}");

    env.write("note/bad.md", "---\nid: good-1\n---\nBody\n");
    let status = env.run(&["status", "--json"]).success().json();
    assert_eq!(status["invalid"], serde_json::json!([]));
    let search = env.run(&["search", "port"]).success();
    assert!(!search.stderr.contains("left out"), "{search}");
}

#[test]
fn the_repositorys_own_files_cannot_be_deleted_or_broken() {
    let env = TestEnv::init();
    let init = env
        .git(&["rev-list", "--max-parents=0", "HEAD"])
        .trim()
        .to_owned();
    env.add("Port 8443 on staging.", &[]);
    let head = env.head();

    let out = env.run(&["revert", &init]).code(1);
    assert!(out.stderr.contains("memory.toml"), "{out}");
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
    env.run(&["status"]).success();

    std::fs::remove_file(env.path("MEMORY.md")).unwrap();
    let out = env.run(&["commit"]).code(1);
    assert!(out.stderr.contains("MEMORY.md: would be deleted"), "{out}");
    env.git(&["checkout", "HEAD", "--", "MEMORY.md"]);

    env.write("memory.toml", "[memory\n");
    env.run(&["commit"]).code(1);
    env.git(&["checkout", "HEAD", "--", "memory.toml"]);

    env.write("MEMORY.md", b"\xff\xfe binary".as_slice());
    let out = env.run(&["check"]).code(1);
    assert!(
        out.stdout.contains("MEMORY.md: line 1: not UTF-8 text"),
        "{out}"
    );
    env.run(&["commit"]).code(1);
    assert_eq!(env.head(), head);
}

#[test]
fn a_file_closed_with_yaml_dots_is_a_memory_like_any_other() {
    let env = TestEnv::init();
    env.write(
        "fact/dots.md",
        "---\nid: dots-1\ntitle: Dots\n...\nClosed the YAML way.\n\n---\n\nkey: after a rule\n",
    );
    env.run(&["commit"]).success();
    let shown = env.run(&["show", "dots-1", "--json"]).success().json();
    assert_eq!(shown["title"], "Dots");
    assert!(
        shown.get("key").is_none(),
        "a rule in the body is not YAML: {shown}"
    );
    env.run(&["update", "dots-1", "--add-tag", "yaml"])
        .success();
    let text = env.read("fact/dots.md");
    assert!(
        text.contains("tags: [yaml]\n") && text.contains("\n...\nClosed"),
        "{text}"
    );
    assert_eq!(search_ids(&env, "closed"), ["dots-1"]);
}

#[test]
fn a_hand_edit_committed_with_plain_git_counts_as_recent() {
    let env = TestEnv::init();
    env.write(
        "fact/old.md",
        "---\nid: old-1\nupdated: 2020-01-01\n---\nThe server room is on floor two.\n",
    );
    env.git_dated("2026-11-01T10:00:00Z", &["add", "-A"]);
    env.git_dated("2026-11-01T10:00:00Z", &["commit", "-q", "-m", "A note"]);
    let listed = env.run(&["list", "--json"]).success().json();
    assert_eq!(listed[0]["updated"], "2026-11-01T10:00:00Z", "{listed}");
    // A rebuild finds the same date in history.
    env.run(&["reindex"]).success();
    let listed = env.run(&["list", "--json"]).success().json();
    assert_eq!(listed[0]["updated"], "2026-11-01T10:00:00Z", "{listed}");
}
