//! History as snapshots and provenance: `log`, `why`, `--at`, `diff`, snapshots, `revert` and
//! `restore`, on real repositories written by several sessions and agents, with a rename of a
//! memory's file and hand edits committed with plain git in between. Plain git must tell the
//! same story (`git log`, `git blame`, `git interpret-trailers`).

use serde_json::Value;

use crate::common::TestEnv;

/// The repository every test starts from, with its commits dated a month apart:
///
/// | date       | commit                                                        |
/// |------------|---------------------------------------------------------------|
/// | 2026-02-01 | add `port` (session s-1, agent planner, step 1)               |
/// | 2026-03-01 | add `dark` (session s-2, agent coder)                         |
/// | 2026-04-01 | update `port`'s body (session s-3, agent ops, step 4)         |
/// |            | snapshot `after-move`                                         |
/// | 2026-05-01 | `git mv` of `port`'s file to fact/, committed by `memdir commit` |
/// | 2026-06-01 | a hand edit of `port` committed with plain git                |
/// | 2026-07-01 | rm `dark` (session s-4)                                       |
struct Story {
    env: TestEnv,
    port: String,
    dark: String,
}

const PORT_PATH: &str = "fact/staging-port.md";

fn story() -> Story {
    let env = TestEnv::init();
    let add = |date: &str, text: &str, args: &[&str]| -> String {
        let mut all = vec!["add", text, "--json"];
        all.extend_from_slice(args);
        env.run_dated(date, &all).success().json()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let port = add(
        "2026-02-01T00:00:00Z",
        "The staging API listens on port 8443.",
        &[
            "--title",
            "Staging port",
            "--session",
            "s-1",
            "--agent",
            "planner",
            "--step",
            "1",
        ],
    );
    let dark = add(
        "2026-03-01T00:00:00Z",
        "Alice prefers dark mode in every editor.",
        &[
            "--title",
            "Dark mode",
            "--type",
            "preference",
            "--session",
            "s-2",
            "--agent",
            "coder",
        ],
    );
    env.run_dated(
        "2026-04-01T00:00:00Z",
        &[
            "update",
            &port,
            "--body",
            "The staging API listens on port 9443 since the move.\nAsk ops before changing it.",
            "--session",
            "s-3",
            "--agent",
            "ops",
            "--step",
            "4",
        ],
    )
    .success();
    env.run(&["snapshot", "after-move", "-m", "staging moved"])
        .success();
    env.git(&["mv", "note/staging-port.md", PORT_PATH]);
    let moved = env.read(PORT_PATH).replace("type: note", "type: fact");
    env.write(PORT_PATH, moved);
    env.run_dated(
        "2026-05-01T00:00:00Z",
        &["commit", "-m", "file the staging port under facts"],
    )
    .success();
    let edited = env.read(PORT_PATH) + "The old port 8443 is closed.\n";
    env.write(PORT_PATH, edited);
    env.git_dated(
        "2026-06-01T00:00:00Z",
        &["commit", "-qam", "note that the old port is closed"],
    );
    env.run_dated(
        "2026-07-01T00:00:00Z",
        &[
            "rm",
            &dark,
            "--reason",
            "asked to forget",
            "--session",
            "s-4",
        ],
    )
    .success();
    Story { env, port, dark }
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|c| c[key].as_str().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn log_lists_every_change_with_what_its_trailers_say() {
    let s = story();
    let log = s.env.run(&["log", "--json"]).success().json();
    assert_eq!(
        strings(&log, "op"),
        ["rm", "commit", "hand-edit", "update", "add", "add", "init"]
    );
    assert_eq!(strings(&log, "session")[..5], ["s-4", "", "", "s-3", "s-2"]);
    assert_eq!(strings(&log, "agent")[3..5], ["ops", "coder"]);
    assert_eq!(strings(&log, "step")[3], "4");
    assert_eq!(log[0]["ids"][0], s.dark.as_str());
    assert_eq!(log[3]["date"], "2026-04-01T00:00:00Z");
    assert_eq!(log[3]["author"], crate::common::AUTHOR_NAME);
    // Plain git agrees: the same commits in the same order, the same trailers.
    let shas: Vec<String> = s
        .env
        .git(&["log", "--format=%H"])
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(strings(&log, "commit"), shas);
    for (i, sha) in shas.iter().enumerate() {
        let ops = s.env.trailer(sha, "Memdir-Op");
        let expected = ops.first().map_or("commit", String::as_str);
        assert_eq!(log[i]["op"], expected, "commit {sha}");
        let sessions = s.env.trailer(sha, "Memdir-Session");
        assert_eq!(
            log[i]["session"].as_str(),
            sessions.first().map(String::as_str)
        );
    }
    // -n limits; git log --grep finds the same memory's commits.
    let two = s.env.run(&["log", "-n", "2", "--json"]).success().json();
    assert_eq!(two.as_array().unwrap().len(), 2);
    let grep = s.env.git(&[
        "log",
        "--format=%H",
        &format!("--grep=Memdir-Id: {}", s.port),
    ]);
    let port_log = s.env.run(&["log", &s.port, "--json"]).success().json();
    for sha in grep.lines() {
        assert!(
            strings(&port_log, "commit").contains(&sha.to_owned()),
            "{sha}"
        );
    }
}

#[test]
fn the_log_of_one_memory_follows_it_across_a_rename_and_hand_edits() {
    let s = story();
    let log = s.env.run(&["log", &s.port, "--json"]).success().json();
    assert_eq!(
        strings(&log, "change"),
        ["modified", "modified", "modified", "added"]
    );
    assert_eq!(
        strings(&log, "op"),
        ["commit", "hand-edit", "update", "add"]
    );
    assert_eq!(
        strings(&log, "path"),
        [
            PORT_PATH,
            PORT_PATH,
            "note/staging-port.md",
            "note/staging-port.md"
        ]
    );
    assert_eq!(log[1]["old_path"], "note/staging-port.md");
    assert_eq!(log[0]["revision"].as_str().unwrap().len(), 40);
    // A removed memory's log ends with its removal.
    let dark = s.env.run(&["log", &s.dark, "--json"]).success().json();
    assert_eq!(strings(&dark, "change"), ["removed", "added"]);
    assert_eq!(dark[0]["session"], "s-4");
    // A copy of the file under another name (two files claiming one id) is a version too.
    let copy = s.env.read(PORT_PATH);
    s.env.write("fact/copy-of-port.md", copy);
    s.env.git(&["add", "fact/copy-of-port.md"]);
    s.env.git(&["commit", "-qm", "copy by hand"]);
    let log = s.env.run(&["log", &s.port, "--json"]).success().json();
    assert_eq!(log[0]["change"], "added");
    assert_eq!(log[0]["path"], "fact/copy-of-port.md");
    // An id that never existed is a clear error.
    let out = s.env.run(&["log", "no-such-id"]).code(1);
    assert!(
        out.stderr.contains("no memory with id `no-such-id`"),
        "{out}"
    );
}

#[test]
fn why_names_the_origin_and_who_wrote_each_line_as_git_blame_does() {
    let s = story();
    let why = s.env.run(&["why", &s.port, "--json"]).success().json();
    let origin = &why["origin"];
    assert_eq!(origin["op"], "add");
    assert_eq!(origin["session"], "s-1");
    assert_eq!(origin["agent"], "planner");
    assert_eq!(origin["step"], "1");
    assert_eq!(why["changes"].as_array().unwrap().len(), 4);
    let lines = why["lines"].as_array().unwrap();
    let text: Vec<&str> = lines.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert_eq!(
        text,
        [
            "The staging API listens on port 9443 since the move.",
            "Ask ops before changing it.",
            "The old port 8443 is closed."
        ]
    );
    assert_eq!(lines[0]["session"], "s-3");
    assert_eq!(lines[0]["agent"], "ops");
    assert_eq!(lines[2]["agent"], Value::Null); // written by hand, with plain git
    // git blame (which follows the rename too) gives each line the same commit.
    let blame = s.env.git(&["blame", "--line-porcelain", PORT_PATH]);
    let blamed: Vec<(String, usize)> = blame
        .lines()
        .filter(|l| {
            l.len() > 40
                && l.as_bytes()[40] == b' '
                && l[..40].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|l| {
            let mut parts = l.split(' ');
            let sha = parts.next().unwrap().to_owned();
            let line = parts.nth(1).unwrap().parse().unwrap();
            (sha, line)
        })
        .collect();
    for l in lines {
        let n = l["line"].as_u64().unwrap() as usize;
        let (sha, _) = blamed.iter().find(|(_, line)| *line == n).unwrap();
        assert_eq!(l["commit"].as_str().unwrap(), sha, "line {n}");
    }
    // An uncommitted hand edit shows as such.
    let edited = s.env.read(PORT_PATH) + "Not committed yet.\n";
    s.env.write(PORT_PATH, edited);
    let why = s.env.run(&["why", &s.port, "--json"]).success().json();
    let last = why["lines"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["text"], "Not committed yet.");
    assert_eq!(last["commit"], Value::Null);
}

#[test]
fn at_a_date_between_commits_reads_what_was_believed_then() {
    let s = story();
    let search = |at: &str| -> Value {
        s.env
            .run(&["search", "staging port", "--at", at, "--json"])
            .success()
            .json()
    };
    let march = search("2026-03-15");
    assert_eq!(march[0]["id"], s.port.as_str());
    assert!(
        march[0]["snippet"].as_str().unwrap().contains("8443"),
        "{march}"
    );
    assert_eq!(march[0]["path"], "note/staging-port.md");
    let april = search("2026-04-15");
    assert!(
        april[0]["snippet"].as_str().unwrap().contains("9443"),
        "{april}"
    );
    // Before the memory was written (at the first commit), it is not found; the present is
    // untouched by --at.
    assert_eq!(search("HEAD~6"), Value::Array(vec![]));
    let now = s
        .env
        .run(&["search", "old port closed", "--json"])
        .success()
        .json();
    assert_eq!(now[0]["id"], s.port.as_str());
    assert_eq!(now[0]["path"], PORT_PATH);

    let list = |at: &str| {
        strings(
            &s.env.run(&["list", "--at", at, "--json"]).success().json(),
            "id",
        )
    };
    assert_eq!(list("2026-03-15").len(), 2);
    assert!(list("2026-03-15").contains(&s.dark));
    assert_eq!(list("2026-07-15"), [s.port.as_str()]);

    let show = s
        .env
        .run(&["show", &s.port, "--at", "2026-02-15", "--json"])
        .success()
        .json();
    assert_eq!(
        show["body"].as_str().unwrap().trim(),
        "The staging API listens on port 8443."
    );
    let raw = s.env.run(&["show", &s.port, "--at", "HEAD~3"]).success();
    let committed = s.env.git(&["show", "HEAD~3:note/staging-port.md"]);
    assert_eq!(raw.stdout, committed);
    assert!(raw.stderr.contains("as of commit"), "{raw}");

    let out = s.env.run(&["show", &s.dark, "--at", "2026-02-15"]).code(1);
    assert!(out.stderr.contains("did not exist at 2026-02-15"), "{out}");
    let out = s.env.run(&["search", "port", "--at", "2020-01-01"]).code(1);
    assert!(
        out.stderr
            .contains("no commit at or before 2020-01-01T00:00:00Z"),
        "{out}"
    );
    let out = s
        .env
        .run(&["search", "port", "--at", "last tuesday"])
        .code(1);
    assert!(
        out.stderr
            .contains("names no commit, snapshot, branch or date"),
        "{out}"
    );
}

/// `--at` takes times relative to now (`yesterday`, `3 days ago`) wherever it takes a date;
/// the commits here are dated against the wall clock, days and hours apart, so the real
/// "now" memdir reads is far from every boundary.
#[test]
fn at_takes_times_relative_to_now() {
    let env = TestEnv::init();
    let ago = |d: time::Duration| memdir::Timestamp(memdir::Timestamp::now().0 - d).to_string();
    let day = time::Duration::days(1);
    let id = env
        .run_dated(
            &ago(5 * day),
            &["add", "The staging API listens on port 8443.", "--json"],
        )
        .success()
        .json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.run_dated(
        &ago(time::Duration::hours(2)),
        &[
            "update",
            &id,
            "--body",
            "The staging API listens on port 9443.",
        ],
    )
    .success();
    let body_at = |at: &str| -> String {
        let shown = env
            .run(&["show", &id, "--at", at, "--json"])
            .success()
            .json();
        shown["body"].as_str().unwrap().trim().to_owned()
    };
    for at in [
        "3 days ago",
        "yesterday",
        "1 day ago",
        "3 hours ago",
        &ago(4 * day),
    ] {
        assert_eq!(
            body_at(at),
            "The staging API listens on port 8443.",
            "--at {at}"
        );
    }
    for at in ["1 hour ago", "now", &ago(time::Duration::hours(1))] {
        assert_eq!(
            body_at(at),
            "The staging API listens on port 9443.",
            "--at {at}"
        );
    }
    let found = env
        .run(&["search", "staging port", "--at", "yesterday", "--json"])
        .success()
        .json();
    assert!(
        found[0]["snippet"].as_str().unwrap().contains("8443"),
        "{found}"
    );
    let diff = env.run(&["diff", "yesterday", "--json"]).success().json();
    assert_eq!(diff["changed"][0]["id"], id.as_str(), "{diff}");
    let out = env.run(&["show", &id, "--at", "10 days ago"]).code(1);
    assert!(
        out.stderr.contains("did not exist") || out.stderr.contains("no commit at or before"),
        "{out}"
    );
}

#[test]
fn snapshots_name_points_that_at_and_diff_take() {
    let s = story();
    let snaps = s.env.run(&["snapshots", "--json"]).success().json();
    assert_eq!(strings(&snaps, "name"), ["after-move"]);
    assert_eq!(s.env.git(&["tag", "--list"]).trim(), "after-move");
    let hits = s
        .env
        .run(&["search", "staging port", "--at", "after-move", "--json"])
        .success()
        .json();
    assert!(hits[0]["snippet"].as_str().unwrap().contains("9443"));

    let out = s.env.run(&["snapshot", "after-move"]).code(1);
    assert!(
        out.stderr.contains("named `after-move` exists already"),
        "{out}"
    );
    let out = s.env.run(&["snapshot", "bad name"]).code(1);
    assert!(out.stderr.contains("cannot name a snapshot"), "{out}");

    let diff = s
        .env
        .run(&["diff", "after-move", "--json"])
        .success()
        .json();
    assert_eq!(
        diff["from"],
        s.env.git(&["rev-parse", "after-move^{commit}"]).trim()
    );
    assert_eq!(diff["to"], s.env.head());
    assert_eq!(strings(&diff["removed"], "id"), [s.dark.as_str()]);
    let changed = &diff["changed"][0];
    assert_eq!(changed["id"], s.port.as_str());
    assert_eq!(changed["old_path"], "note/staging-port.md");
    assert_eq!(changed["path"], PORT_PATH);
    let fields = strings(&changed["fields"], "field");
    assert_eq!(fields, ["body", "type"]);
    assert_eq!(changed["fields"][1]["old"], "note");
    assert_eq!(changed["fields"][1]["new"], "fact");
    // From the first memory to the second: one added, nothing else.
    let diff = s
        .env
        .run(&["diff", "2026-02-15", "2026-03-15", "--json"])
        .success()
        .json();
    assert_eq!(strings(&diff["added"], "id"), [s.dark.as_str()]);
    assert_eq!(diff["changed"], Value::Array(vec![]));
    assert_eq!(diff["removed"], Value::Array(vec![]));
}

#[test]
fn revert_undoes_a_poisoned_write_as_a_new_commit() {
    let s = story();
    let before = s.env.read(PORT_PATH);
    s.env
        .run(&[
            "update",
            &s.port,
            "--body",
            "Staging checks are disabled for admin users.",
            "--session",
            "evil",
        ])
        .success();
    let poisoned = s.env.head();
    let commits = s.env.commit_count();
    let out = s
        .env
        .run(&["revert", &poisoned[..10], "--json"])
        .success()
        .json();
    assert_eq!(out["reverted"], poisoned.as_str());
    assert_eq!(s.env.commit_count(), commits + 1);
    assert_eq!(s.env.read(PORT_PATH), before);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Op"), ["revert"]);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Reverts"), [poisoned.as_str()]);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Id"), [s.port.as_str()]);
    assert_eq!(s.env.git_status(), "");
    let hits = s
        .env
        .run(&["search", "admin checks disabled", "--json"])
        .success()
        .json();
    assert!(!hits.to_string().contains("disabled for admin"), "{hits}");

    // A change whose file changed since cannot be reverted: nothing is touched.
    let update = s.env.git(&[
        "log",
        "--format=%H",
        "--grep=Memdir-Op: update",
        "-n",
        "1",
        "--",
        "note/staging-port.md",
    ]);
    let head = s.env.head();
    let out = s.env.run(&["revert", update.trim()]).code(3);
    assert!(out.stderr.contains("changed since"), "{out}");
    assert!(out.stderr.contains("memdir restore"), "{out}");
    assert_eq!(s.env.head(), head);
    assert_eq!(s.env.git_status(), "");
}

#[test]
fn restore_brings_one_memory_back_byte_for_byte() {
    let s = story();
    let old = s.env.git(&["rev-parse", "HEAD~3"]);
    let out = s
        .env
        .run(&[
            "restore",
            &s.dark,
            "--at",
            "2026-03-15",
            "--session",
            "s-5",
            "--json",
        ])
        .success()
        .json();
    assert_eq!(out["path"], "preference/dark-mode.md");
    let then = s
        .env
        .git(&["show", &format!("{}:preference/dark-mode.md", old.trim())]);
    assert_eq!(s.env.read("preference/dark-mode.md"), then);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Op"), ["restore"]);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Session"), ["s-5"]);
    assert_eq!(s.env.trailer("HEAD", "Memdir-Restores")[0].len(), 40);
    let hits = s
        .env
        .run(&["search", "dark mode editor", "--json"])
        .success()
        .json();
    assert_eq!(hits[0]["id"], s.dark.as_str());
    // Restoring the port to March writes its present path, with March's content.
    s.env
        .run(&["restore", &s.port, "--at", "2026-03-15"])
        .success();
    assert!(s.env.read(PORT_PATH).contains("port 8443."));
    // Already as it was: nothing to commit.
    let commits = s.env.commit_count();
    let out = s.env.run(&["restore", &s.port, "--at", "HEAD"]).success();
    assert!(out.stdout.contains("already as it was"), "{out}");
    assert_eq!(s.env.commit_count(), commits);
}

#[test]
fn the_index_of_versions_rebuilds_when_history_is_rewritten() {
    let s = story();
    let hits = s
        .env
        .run(&["search", "dark mode", "--at", "HEAD~1", "--json"])
        .success()
        .json();
    assert_eq!(hits[0]["id"], s.dark.as_str());
    // Throw the last two commits away with plain git, then write something new.
    s.env.git(&["reset", "-q", "--hard", "HEAD~2"]);
    let new = s.env.add("The build cache lives in /var/cache/build.", &[])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let at_head = s
        .env
        .run(&["list", "--at", "HEAD", "--json"])
        .success()
        .json();
    let mut ids = strings(&at_head, "id");
    ids.sort();
    let mut expected = vec![s.port.clone(), s.dark.clone(), new];
    expected.sort();
    assert_eq!(ids, expected);
    // The hand edit that was thrown away is in no version any more.
    let hits = s
        .env
        .run(&["search", "old port closed", "--at", "HEAD", "--json"])
        .success()
        .json();
    assert!(!hits.to_string().contains("8443 is closed"), "{hits}");
}

#[test]
fn every_version_has_a_validity_span_that_meets_the_next() {
    let s = story();
    let mem = s.env.open();
    let versions = mem.versions(&s.port).unwrap();
    assert_eq!(versions.len(), 4);
    for pair in versions.windows(2) {
        assert_eq!(pair[0].to.as_ref(), Some(&pair[1].from));
    }
    assert!(versions.last().unwrap().to.is_none());
    assert_eq!(
        versions[0].from.committed.to_string(),
        "2026-02-01T00:00:00Z"
    );
    let dark = mem.versions(&s.dark).unwrap();
    assert_eq!(dark.len(), 1);
    assert_eq!(
        dark[0].to.as_ref().unwrap().committed.to_string(),
        "2026-07-01T00:00:00Z"
    );
}
