//! Hand edits: `memdir commit` records them, `memdir edit` runs $EDITOR, and neither writes
//! anything invalid.

use memdir::{NewMemory, Provenance};

use crate::common::{TestEnv, author, prov, settings};

/// Adds a memory with the CLI and returns its id and path.
fn add(env: &TestEnv, text: &str) -> (String, String) {
    let out = env.add(text, &["--type", "fact"]);
    (
        out["id"].as_str().unwrap().to_owned(),
        out["path"].as_str().unwrap().to_owned(),
    )
}

/// Runs `memdir edit ID` with `$EDITOR` set to `editor`.
fn edit(env: &TestEnv, id: &str, editor: &str) -> crate::common::CommandOutput {
    let mut cmd = env.memdir_command(&env.repo());
    cmd.env("EDITOR", editor).args(["edit", id]);
    env.run_command(cmd, None)
}

#[test]
fn commit_records_a_hand_edit_with_its_memdir_id() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The office opens at eight.");
    env.write(&path, env.read(&path).replace("at eight.", "at nine."));
    let before = env.commit_count();

    let out = env.run(&["commit"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @"Committed hand edits as [SHORT].");
    assert_eq!(env.commit_count(), before + 1);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), std::slice::from_ref(&id));
    // The subject names the memory by its current title.
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]).trim(),
        format!("hand-edit: The office opens at nine ({id})")
    );
    assert_eq!(env.changed_files("HEAD"), [path]);
    assert_eq!(env.git_status(), "");

    let again = env.run(&["commit"]).success();
    insta::assert_snapshot!(again, @"Nothing to commit.");
}

#[test]
fn commit_takes_a_message_and_provenance() {
    let env = TestEnv::init();
    let (_, path) = add(&env, "The office opens at eight.");
    env.write(&path, env.read(&path).replace("at eight.", "at nine."));
    env.write("MEMORY.md", "# Overview\n\nOffice hours changed.\n");
    env.run(&[
        "commit",
        "-m",
        "Office hours moved",
        "--session",
        "s-9",
        "--agent",
        "person",
    ])
    .success();
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]).trim(),
        "Office hours moved"
    );
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-9"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["person"]);
    let mut changed = env.changed_files("HEAD");
    changed.sort();
    assert_eq!(changed, ["MEMORY.md".to_owned(), path]);
}

#[test]
fn commit_of_a_hand_deletion_names_the_removed_memory() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    std::fs::remove_file(env.path(&w.path)).unwrap();
    let p = Provenance {
        author: Some(author()),
        ..Provenance::default()
    };
    let commit = mem.commit_hand_edits(None, &p).unwrap();
    assert_eq!(commit.as_deref(), Some(env.head().as_str()));
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), [w.id]);
    assert_eq!(env.git_status(), "");
}

#[test]
fn commit_refuses_an_invalid_edit_and_changes_nothing() {
    let env = TestEnv::init();
    let (_, path) = add(&env, "The office opens at eight.");
    let broken = env.read(&path).replace("type: fact", "type: fact: x");
    env.write(&path, &broken);
    let head = env.head();
    let status = env.git_status();

    let out = env.run(&["commit"]).code(1);
    assert!(
        out.stderr
            .contains(&format!("{path}:3: invalid front-matter")),
        "{out}"
    );
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), status);
    assert_eq!(env.read(&path), broken);
    assert_eq!(env.git(&["diff", "--cached", "--name-only"]), "");
}

#[test]
fn commit_refuses_an_invalid_memory_toml() {
    let env = TestEnv::init();
    let toml = env.read("memory.toml");
    env.write("memory.toml", format!("{toml}\n[memory\n"));
    let head = env.head();
    let out = env.run(&["commit"]);
    assert_ne!(out.status, 0, "{out}");
    assert!(out.stderr.contains("memory.toml"), "{out}");
    assert_eq!(env.head(), head);
}

#[test]
fn edit_runs_the_editor_and_commits_an_edit() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The staging API listens on port 8443.");
    let before = env.commit_count();

    let out = edit(&env, &id, "sed -i -e 's/port 8443\\./port 9443./'").success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @"Edited fact-[ID].");
    assert!(env.read(&path).contains("port 9443."));
    assert_eq!(env.commit_count(), before + 1);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["edit"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), [id.as_str()]);
    assert_eq!(env.changed_files("HEAD"), [path]);
    assert_eq!(env.git_status(), "");
    // The scratch copy is gone and the index knows the new text.
    let scratch = env.path(".git/memdir/edit");
    assert_eq!(std::fs::read_dir(scratch).map_or(0, |d| d.count()), 0);
    let hits = env.run(&["search", "9443", "--json"]).success().json();
    assert_eq!(hits[0]["id"], id.as_str());
}

#[test]
fn edit_without_changes_commits_nothing() {
    let env = TestEnv::init();
    let (id, _) = add(&env, "The office opens at eight.");
    let before = env.commit_count();
    let out = edit(&env, &id, "true").success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @"No change to fact-[ID].");
    assert_eq!(env.commit_count(), before);
}

#[test]
fn edit_that_changes_the_id_is_refused_and_the_copy_kept() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The office opens at eight.");
    let original = env.read(&path);
    let head = env.head();

    let out = edit(&env, &id, "sed -i -e 's/^id: .*/id: another-id/'").code(1);
    assert!(out.stderr.contains("the id cannot change"), "{out}");
    let kept = out
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("hint: your edited copy is kept at "))
        .unwrap_or_else(|| panic!("no kept-copy hint in\n{out}"))
        .replace("$TEST_ENV", env.root().to_str().unwrap());
    let copy = std::fs::read_to_string(&kept).unwrap();
    assert!(copy.contains("id: another-id"), "{copy}");
    assert_eq!(env.read(&path), original);
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
}

#[test]
fn edit_that_breaks_the_file_is_refused() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The office opens at eight.");
    let original = env.read(&path);
    let head = env.head();
    let out = edit(&env, &id, "sed -i -e 's/^type: .*/type: [oops/'").code(1);
    assert!(out.stderr.contains("invalid front-matter"), "{out}");
    assert!(out.stderr.contains("your edited copy is kept at"), "{out}");
    assert_eq!(env.read(&path), original);
    assert_eq!(env.head(), head);
}

#[test]
fn edit_whose_editor_fails_changes_nothing() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The office opens at eight.");
    let original = env.read(&path);
    let head = env.head();
    let out = edit(&env, &id, "sed -i -e s/eight/nine/ \"$1\"; false").code(1);
    assert!(out.stderr.contains("nothing was changed"), "{out}");
    assert_eq!(env.read(&path), original);
    assert_eq!(env.head(), head);
}

#[test]
fn edit_of_a_memory_changed_meanwhile_exits_3_and_keeps_the_copy() {
    let env = TestEnv::init();
    let (id, path) = add(&env, "The office opens at eight.");
    let real = env.path(&path);
    // The "editor" changes the real file behind memdir's back, then edits its copy.
    let editor = format!(
        "sed -i -e 's/at eight\\./at ten./' '{}' && sed -i -e 's/at eight\\./at nine./'",
        real.display()
    );
    let head = env.head();
    let out = edit(&env, &id, &editor).code(3);
    assert!(out.stderr.contains("your edited copy is kept at"), "{out}");
    assert!(env.read(&path).contains("at ten."));
    assert_eq!(env.head(), head);
    let copy = std::fs::read_dir(env.path(".git/memdir/edit"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .next()
        .unwrap();
    assert!(copy.contains("at nine."), "{copy}");
}

#[test]
fn refresh_paths_looks_only_at_the_named_files() {
    let (env, mem) = TestEnv::init_lib();
    let a = mem
        .remember(NewMemory::new("Lunch is at noon.").title("Lunch"), &prov())
        .unwrap();
    let b = mem
        .remember(NewMemory::new("Tea is at four.").title("Tea"), &prov())
        .unwrap();
    mem.refresh().unwrap();
    let search = |q: &str| -> Vec<String> {
        let hits = mem.search(&memdir::SearchQuery::new(q)).unwrap();
        hits.into_iter().map(|h| h.id).collect()
    };
    env.write(&a.path, env.read(&a.path).replace("noon", "one"));
    env.write(&b.path, env.read(&b.path).replace("four", "five"));
    mem.refresh_paths(std::slice::from_ref(&a.path)).unwrap();
    assert_eq!(
        search("one"),
        std::slice::from_ref(&a.id),
        "the named edit is indexed"
    );
    assert!(
        search("five").is_empty(),
        "the other waits for its own event or a refresh"
    );
    mem.refresh().unwrap();
    assert_eq!(search("five"), [b.id]);
    // A named file that is gone leaves search.
    std::fs::remove_file(env.path(&a.path)).unwrap();
    mem.refresh_paths(std::slice::from_ref(&a.path)).unwrap();
    assert!(search("lunch").is_empty());
}
