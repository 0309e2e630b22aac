//! The right to be forgotten (issue 4, item 7): `memdir forget ID --purge` rewrites history so
//! that no object, commit, tag, reflog entry or file under `.git` still holds the memory, while
//! every other memory keeps its history (messages, authors, dates, trailers) and a tombstone
//! commit records that a purge happened. The repository is built with the binary and with
//! plain git: several sessions and agents, versions, a hand rename, hand edits, annotated and
//! lightweight tags, another branch, a stash, a version left only in the reflog.

use std::path::Path;

use crate::common::{TestEnv, kill_at};

/// In every version of the purged memory, and nowhere else.
const SECRET: &str = "PurpleOtterZanzibar";
/// Its title.
const TITLE: &str = "Alice childhood nickname";

/// A memory's id and path, from `memdir add --json`.
fn added(env: &TestEnv, text: &str, extra: &[&str]) -> (String, String) {
    let v = env.add(text, extra);
    (
        v["id"].as_str().unwrap().to_owned(),
        v["path"].as_str().unwrap().to_owned(),
    )
}

/// Appends a line to a repository file, as a person editing it would.
fn append(env: &TestEnv, rel: &str, line: &str) {
    let text = env.read(rel);
    env.write(rel, format!("{text}{line}\n"));
}

/// Every object in the repository, printed whole (`git cat-file --batch-all-objects --batch`:
/// loose and packed, reachable or not).
fn all_objects(env: &TestEnv) -> String {
    env.git(&["cat-file", "--batch-all-objects", "--batch"])
}

/// The files under `dir` (recursively) whose bytes contain any of `needles`.
fn files_containing(dir: &Path, needles: &[&str]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                if needles
                    .iter()
                    .any(|n| bytes.windows(n.len()).any(|w| w == n.as_bytes()))
                {
                    found.push(path.strip_prefix(dir).unwrap().display().to_string());
                }
            }
        }
    }
    found.sort();
    found
}

/// The segment files of a search index, `index` (the present) or `versions` (behind `--at`):
/// what tantivy writes per commit, each holding the text it was written with until deleted.
fn index_segments(env: &TestEnv, index: &str) -> Vec<String> {
    std::fs::read_dir(env.path(&format!(".git/memdir/{index}")))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && n != "meta.json")
        .collect()
}

/// Each commit that touched `path` on `rev`: author, committer, both dates and the message,
/// with full commit ids (a revert's `Memdir-Reverts`) written `<commit>`: a purge gives the
/// commits after the memory appeared new ids, and messages name the new ones.
fn history(env: &TestEnv, rev: &str, path: &str) -> Vec<String> {
    let commit_id = regex::Regex::new(r"\b[0-9a-f]{40}\b").unwrap();
    env.git(&[
        "log",
        "--format=%an <%ae> %ad | %cn <%ce> %cd%n%B%x00",
        rev,
        "--",
        path,
    ])
    .split('\0')
    .map(|s| commit_id.replace_all(s.trim(), "<commit>").into_owned())
    .filter(|s| !s.is_empty())
    .collect()
}

struct Fixture {
    env: TestEnv,
    /// The memory to purge.
    id: String,
    /// Its paths: where `memdir add` put it, and where a hand `git mv` moved it.
    paths: [String; 2],
    /// Other memories on main (id, path), and the one added on branch `side`.
    tea: (String, String),
    deploy: (String, String),
    dana: (String, String),
    carol: (String, String),
}

fn fixture() -> Fixture {
    let env = TestEnv::init();
    let planner = ["--session", "s-1", "--agent", "planner"];
    let tea = added(
        &env,
        "Bob likes green tea with no sugar.",
        &[&["--type", "preference"][..], &planner].concat(),
    );
    let deploy = added(
        &env,
        "Deploys go through the release train on Tuesdays.",
        &[&["--type", "procedure"][..], &planner].concat(),
    );
    let (id, first_path) = added(
        &env,
        &format!("Alice's childhood nickname was {SECRET}."),
        &[
            "--title",
            TITLE,
            "--type",
            "fact",
            "--session",
            "s-2",
            "--agent",
            "listener",
        ],
    );
    let editor = ["--session", "s-3", "--agent", "editor"];
    let body = format!("Alice's childhood nickname was {SECRET}; only her sister uses it.");
    env.run(&[&["update", &id, "--body", &body][..], &editor].concat())
        .success();
    env.run(&[&["update", &tea.0, "--add-tag", "drinks"][..], &editor].concat())
        .success();

    // A hand rename, committed by memdir; then tags on it.
    let moved = "fact/alice-nickname.md".to_owned();
    env.git(&["mv", &first_path, &moved]);
    env.run(&["commit"]).success();
    env.git(&["tag", "-a", "v1", "-m", "snapshot after the move"]);
    env.git(&["tag", "light"]);

    // One hand edit of the memory and another one, committed together.
    append(
        &env,
        &moved,
        &format!("She chose {SECRET} herself at camp."),
    );
    append(&env, &tea.1, "Oolong on weekends.");
    env.run(&["commit"]).success();

    // Another branch: a plain git commit of a hand edit, and a memory of its own.
    env.git(&["checkout", "-q", "-b", "side"]);
    append(&env, &moved, &format!("Side note: {SECRET} again."));
    env.git(&["commit", "-q", "-am", "side: remember the camp"]);
    let carol = added(
        &env,
        "Carol runs the Thursday book club.",
        &[
            "--type",
            "fact",
            "--session",
            "s-4",
            "--agent",
            "side-agent",
        ],
    );
    env.git(&["checkout", "-q", "main"]);

    // The injection log names what went into a prompt.
    env.run(&["context", "childhood nickname", "--budget", "500", "--log"])
        .success();
    // A plain git commit of another memory; a change of another one, reverted.
    append(&env, &deploy.1, "Since March: Wednesdays.");
    env.git(&["commit", "-q", "-am", "procedure: deploy day moved"]);
    env.run(&["update", &tea.0, "--add-tag", "hot"]).success();
    env.run(&["revert", &env.head()]).success();
    // A version left only in the reflog, and one only in a stash.
    env.run(&["update", &id, "--body", &format!("Reflog-only {SECRET}.")])
        .success();
    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    append(&env, &moved, &format!("Stashed {SECRET}."));
    env.git(&["stash", "-q"]);
    let dana = added(
        &env,
        "Dana prefers morning meetings.",
        &[
            "--type",
            "preference",
            "--session",
            "s-5",
            "--agent",
            "planner",
        ],
    );
    Fixture {
        env,
        id,
        paths: [first_path, moved],
        tea,
        deploy,
        dana,
        carol,
    }
}

#[test]
fn a_purge_leaves_no_trace_and_every_other_history_intact() {
    let f = fixture();
    let env = &f.env;
    let needles = [SECRET, f.id.as_str(), TITLE];
    let git_dir = env.path(".git");
    // What the checks below look for is there to begin with.
    assert!(all_objects(env).contains(SECRET));
    assert!(
        files_containing(&git_dir, &needles).contains(&"memdir/injections.jsonl".to_owned()),
        "{:?}",
        files_containing(&git_dir, &needles)
    );
    let others = [
        ("main", &f.deploy.1),
        ("main", &f.dana.1),
        ("side", &f.carol.1),
    ];
    let before: Vec<Vec<String>> = others
        .iter()
        .map(|(rev, path)| history(env, rev, path))
        .collect();
    let tea_before = history(env, "main", &f.tea.1);
    let v1_message = env.git(&["tag", "-l", "--format=%(contents)", "v1"]);
    // `--at` reads build the index of every version.
    let at = |q: &str| {
        env.run(&["search", q, "--at", "HEAD~3", "--json"])
            .success()
            .json()
    };
    assert_eq!(at("childhood nickname")[0]["id"], f.id.as_str());
    let old_segments = index_segments(env, "index");
    let old_versions = index_segments(env, "versions");
    assert!(!old_segments.is_empty() && !old_versions.is_empty());

    let out = env
        .run(&["forget", &f.id, "--purge", "--yes", "--json"])
        .success();
    let report = out.json();
    assert!(out.stderr.contains("every clone and fork"), "{out}");

    // The report.
    assert_eq!(report["id"], f.id.as_str());
    let paths: Vec<&str> = report["purged_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(paths, [f.paths[0].as_str(), f.paths[1].as_str()]);
    assert!(
        report["commits_rewritten"].as_u64().unwrap() >= 6,
        "{report}"
    );
    for r in [
        "refs/heads/main",
        "refs/heads/side",
        "refs/stash",
        "refs/tags/light",
        "refs/tags/v1",
    ] {
        assert!(
            report["refs_rewritten"]
                .as_array()
                .unwrap()
                .contains(&r.into()),
            "{r}: {report}"
        );
    }
    assert!(report["objects_removed"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["leftovers"], serde_json::json!([]));
    assert_eq!(report["tombstone"], env.head().as_str());

    // No object, and no file under .git or in the working tree, holds any of it.
    let objects = all_objects(env);
    for needle in needles {
        assert!(
            !objects.contains(needle),
            "an object still holds {needle:?}"
        );
    }
    assert_eq!(files_containing(&git_dir, &needles), Vec::<String>::new());
    assert_eq!(
        files_containing(&env.repo(), &needles),
        Vec::<String>::new()
    );
    assert!(!env.path(&f.paths[1]).exists());
    // The search indexes were rebuilt: no segment written while they held the memory is left.
    let segments = index_segments(env, "index");
    assert!(
        segments.iter().all(|s| !old_segments.contains(s)),
        "{segments:?}"
    );
    let versions = index_segments(env, "versions");
    assert!(
        versions.iter().all(|s| !old_versions.contains(s)),
        "{versions:?}"
    );
    assert_eq!(env.git_status(), "");
    let fsck = env.git_output(&["fsck", "--full", "--strict"]).success();
    assert!(
        !fsck.stderr.contains("error") && !fsck.stderr.contains("missing"),
        "{fsck}"
    );

    // Every other memory's history is as it was...
    for ((rev, path), before) in others.iter().zip(&before) {
        assert_eq!(&history(env, rev, path), before, "history of {path}");
    }
    // ...but for the commit that also changed the purged memory: it lost the lines naming it.
    let tea_after = history(env, "main", &f.tea.1);
    assert_eq!(tea_after.len(), tea_before.len());
    let mut changed = 0;
    for (after, before) in tea_after.iter().zip(&tea_before) {
        if after != before {
            changed += 1;
            let expected: Vec<&str> = before
                .lines()
                .filter(|l| !l.contains(&f.id) && !l.contains(&f.paths[1]))
                .collect();
            assert_eq!(after, &expected.join("\n"));
        }
    }
    assert_eq!(changed, 1, "{tea_before:#?}\n{tea_after:#?}");

    // The purged memory's own commits are still there, saying only that they were purged.
    let subjects = env.git(&["log", "--all", "--format=%s"]);
    assert!(subjects.contains("update: a purged memory"), "{subjects}");
    assert!(subjects.contains("a purged change"), "{subjects}");
    let side = env.git(&["log", "side", "--format=%s", "-2"]);
    assert!(
        side.starts_with("add: Carol runs the Thursday book club"),
        "{side}"
    );
    assert_eq!(side.lines().nth(1), Some("a purged change"));

    // Tags, branches and the stash survive, pointing into the new history.
    assert_eq!(env.git(&["cat-file", "-t", "v1"]).trim(), "tag");
    assert_eq!(
        env.git(&["tag", "-l", "--format=%(contents)", "v1"]),
        v1_message
    );
    assert_eq!(env.git(&["tag", "-l"]), "light\nv1\n");
    assert_eq!(env.git(&["stash", "list"]).lines().count(), 1);
    assert_eq!(env.git(&["stash", "show", "--name-only"]), "");

    // The tombstone records that a purge happened, not what.
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["purge"]);
    let tombstone = env.git(&["log", "-1", "--format=%B"]);
    assert!(
        tombstone.starts_with("purge: a memory was removed from history"),
        "{tombstone}"
    );
    assert!(env.changed_files("HEAD").is_empty());

    // Search finds the others and not the purged memory; the repository checks clean.
    let hits = |q: &str| env.run(&["search", q, "--json"]).success().json();
    assert_eq!(hits("green tea")[0]["id"], f.tea.0.as_str());
    assert_eq!(hits("morning meetings")[0]["id"], f.dana.0.as_str());
    assert_eq!(hits("childhood nickname"), serde_json::json!([]));
    assert_eq!(hits(SECRET), serde_json::json!([]));
    env.run(&["check"]).success();
    env.run(&["show", &f.id]).code(1);
    // Time travel works on the new history and finds nothing of the memory.
    assert_eq!(at("childhood nickname"), serde_json::json!([]));
    assert_eq!(at("green tea")[0]["id"], f.tea.0.as_str());
    // A revert still names the commit it reverted, by its new id.
    let revert = env.git(&["log", "--format=%H", "--grep=Memdir-Op: revert", "main"]);
    let reverted = env.trailer(revert.trim(), "Memdir-Reverts");
    let subject = env.git(&["log", "-1", "--format=%s", &reverted[0]]);
    assert!(
        subject.starts_with("update: Bob likes green tea"),
        "{subject}"
    );
}

#[test]
fn a_purge_asks_first_and_refuses_without_a_terminal() {
    let env = TestEnv::init();
    let (id, path) = added(&env, &format!("Nickname {SECRET}."), &["--type", "fact"]);
    let head = env.head();
    let out = env.run(&["forget", &id, "--purge"]).code(2);
    assert!(out.stderr.contains("This purge erases memory"), "{out}");
    assert!(out.stderr.contains(&path), "{out}");
    assert!(out.stderr.contains("every clone and fork"), "{out}");
    assert!(out.stderr.contains("pass --yes"), "{out}");
    assert_eq!(env.head(), head);
    assert!(env.path(&path).exists());
    assert!(all_objects(&env).contains(SECRET));
}

#[test]
fn an_unknown_id_changes_nothing() {
    let env = TestEnv::init();
    added(&env, "Bob likes green tea.", &[]);
    let head = env.head();
    let objects = all_objects(&env);
    for args in [&["--purge", "--yes"][..], &["--purge"]] {
        let out = env
            .run(&[&["forget", "nobody-123456"][..], args].concat())
            .code(1);
        assert!(
            out.stderr.contains("no memory with id `nobody-123456`"),
            "{out}"
        );
    }
    assert_eq!(env.head(), head);
    assert_eq!(all_objects(&env), objects);
    assert_eq!(env.git_status(), "");
}

#[test]
fn forget_without_purge_is_rm_and_a_removed_memory_can_still_be_purged() {
    let env = TestEnv::init();
    let (id, path) = added(&env, &format!("Nickname {SECRET}."), &["--type", "fact"]);
    env.run(&["forget", &id, "--reason", "asked"]).success();
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["rm"]);
    assert!(!env.path(&path).exists());
    assert!(all_objects(&env).contains(SECRET));

    let report = env
        .run(&["forget", &id, "--purge", "--yes", "--json"])
        .success()
        .json();
    assert_eq!(report["purged_paths"], serde_json::json!([path]));
    assert!(!all_objects(&env).contains(SECRET));
    let subjects = env.git(&["log", "--format=%s"]);
    assert!(subjects.contains("rm: a purged memory"), "{subjects}");
    assert!(!subjects.contains(&id), "{subjects}");
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn a_purge_killed_at_any_point_loses_nothing_and_finishes_when_run_again() {
    for point in memdir::fault::PURGE_POINTS {
        let env = TestEnv::init();
        let (tea, _) = added(&env, "Bob likes green tea.", &["--type", "preference"]);
        let (id, _) = added(&env, &format!("Nickname {SECRET}."), &["--type", "fact"]);
        env.run(&["update", &id, "--body", &format!("Nickname {SECRET}, v2.")])
            .success();
        kill_at(&env, point, &["forget", &id, "--purge", "--yes"]);

        // The other memory is there and searchable, whatever the purge had done.
        let hits = env.run(&["search", "green tea", "--json"]).success().json();
        assert_eq!(hits[0]["id"], tea.as_str(), "{point}");
        let again = env.run(&["forget", &id, "--purge", "--yes"]).success();
        assert!(
            again.stderr.contains("a purge of"),
            "{point}: the interrupted purge is reported\n{again}"
        );
        assert!(!all_objects(&env).contains(SECRET), "{point}");
        assert_eq!(
            files_containing(&env.path(".git"), &[SECRET, &id]),
            Vec::<String>::new(),
            "{point}"
        );
        assert_eq!(env.git_status(), "", "{point}");
        env.git_output(&["fsck", "--full"]).success();
        assert_eq!(
            env.git(&["log", "--format=%s"])
                .matches("purge: a memory was removed")
                .count(),
            1,
            "{point}"
        );
        let hits = env.run(&["search", "green tea", "--json"]).success().json();
        assert_eq!(hits[0]["id"], tea.as_str(), "{point}");
    }
}
