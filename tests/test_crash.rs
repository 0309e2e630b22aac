//! Crash safety: a writer killed with SIGKILL at each fault point of a write (src/fault.rs)
//! leaves a repository that the next command repairs. Afterwards every acknowledged write is
//! there and searchable, the interrupted one is either committed (`Memdir-Op: recover` when
//! memdir had to finish it) or absent, no temp file or intent is left, the index is fresh,
//! `git status` is clean and `git fsck` and `memdir check` find nothing.
//!
//! The points exist only with the `fault-injection` feature (`cargo test --all-features`, as the
//! README and .ci/run run the suite); without it these tests are reported as ignored.

use memdir::fault::POINTS;

use crate::common::{CommandOutput, TestEnv, kill_at, wait_for_fault};

/// Whether a write killed at `point` had made its change durable (file in place) by then.
fn written_by(point: &str) -> bool {
    !matches!(point, "after-intent" | "temp-written")
}

/// Whether memdir must finish the commit of a write killed at `point`.
fn needs_recover_commit(point: &str) -> bool {
    matches!(point, "file-renamed" | "files-written" | "staged")
}

/// A repository with three acknowledged memories; returns their ids (word `ackN` in each).
fn repo_with_acknowledged_writes() -> (TestEnv, Vec<String>) {
    let env = TestEnv::init();
    let ids = (0..3)
        .map(|k| {
            env.run(&[
                "add",
                &format!("Acknowledged memory ack{k}."),
                "--type",
                "fact",
            ])
            .success()
            .stdout
            .trim()
            .to_owned()
        })
        .collect();
    (env, ids)
}

/// Asserts what must hold after any crash once a command has run: the repository is clean,
/// consistent and holds every acknowledged write.
#[track_caller]
fn assert_repaired(env: &TestEnv, acknowledged: &[String]) {
    assert_eq!(env.git_status(), "", "working tree not clean");
    assert!(
        !env.path(".git/memdir/pending").exists(),
        "the intent is still there"
    );
    assert!(!env.path(".git/index.lock").exists());
    let fsck = env.git_output(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.status, 0, "git fsck:\n{fsck}");
    assert_eq!(fsck.stderr, "", "git fsck:\n{fsck}");
    env.run(&["check"]).success();
    let status = env.run(&["status", "--json"]).success().json();
    assert_eq!(status["index_fresh"], true, "{status}");
    for (k, id) in acknowledged.iter().enumerate() {
        env.run(&["show", id]).success();
        let hits = env
            .run(&["search", &format!("ack{k}"), "--json"])
            .success()
            .json();
        assert_eq!(hits[0]["id"], id.as_str(), "acknowledged {id} not found");
    }
}

/// Returns the hits of `memdir search WORD --json` (asserting it succeeds quietly but for
/// recovery warnings).
fn search(env: &TestEnv, word: &str) -> (Vec<serde_json::Value>, CommandOutput) {
    let out = env.run(&["search", word, "--json"]).success();
    (out.json().as_array().unwrap().clone(), out)
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn an_add_killed_at_any_point_is_repaired_by_the_next_read() {
    for point in POINTS {
        let (env, acknowledged) = repo_with_acknowledged_writes();
        let commits = env.commit_count();
        kill_at(
            &env,
            point,
            &["add", "Interrupted memory crashword.", "--type", "fact"],
        );

        // The very next command is a search: it repairs, and sees the repaired state.
        let (hits, out) = search(&env, "crashword");
        assert_eq!(hits.len(), written_by(point) as usize, "{point}: {out}");
        if needs_recover_commit(point) {
            assert!(
                out.stderr.contains("recovered an interrupted write"),
                "{point}: {out}"
            );
        }
        assert_repaired(&env, &acknowledged);
        assert_eq!(
            env.commit_count(),
            commits + written_by(point) as usize,
            "{point}"
        );
        if written_by(point) {
            let op = if needs_recover_commit(point) {
                "recover"
            } else {
                "add"
            };
            assert_eq!(env.trailer("HEAD", "Memdir-Op"), [op], "{point}");
            assert_eq!(
                env.trailer("HEAD", "Memdir-Id"),
                [hits[0]["id"].as_str().unwrap()],
                "{point}"
            );
        }
        // Writing goes on: the dead writer's lock is gone.
        env.run(&["add", "After the crash afterword."]).success();
        assert_eq!(search(&env, "afterword").0.len(), 1, "{point}");
    }
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn the_next_writer_recovers_before_writing_its_own() {
    let (env, acknowledged) = repo_with_acknowledged_writes();
    kill_at(&env, "staged", &["add", "Interrupted memory crashword."]);
    let commits = env.commit_count();
    let out = env.run(&["add", "Next writer nextword."]).success();
    assert!(
        out.stderr.contains("recovered an interrupted write"),
        "{out}"
    );
    assert_eq!(env.commit_count(), commits + 2);
    assert_eq!(env.trailer("HEAD~1", "Memdir-Op"), ["recover"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["add"]);
    assert_eq!(env.changed_files("HEAD").len(), 1);
    assert_eq!(search(&env, "crashword").0.len(), 1);
    assert_repaired(&env, &acknowledged);
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn an_interrupted_update_and_rm_are_finished_or_not_started() {
    for (point, done) in [("temp-written", false), ("file-renamed", true)] {
        let (env, acknowledged) = repo_with_acknowledged_writes();
        let id = &acknowledged[0];
        kill_at(
            &env,
            point,
            &[
                "update",
                id,
                "--body",
                "Acknowledged memory ack0, rewritten newword.",
            ],
        );
        let (hits, out) = search(&env, "newword");
        assert_eq!(hits.len(), done as usize, "{point}: {out}");
        assert_repaired(&env, &acknowledged);
        if done {
            assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["recover"]);
            assert!(
                env.git(&["log", "-1", "--format=%s"])
                    .starts_with("recover: update: ")
            );
        }
    }

    let (env, acknowledged) = repo_with_acknowledged_writes();
    let path = env
        .run(&["show", &acknowledged[2], "--json"])
        .success()
        .json()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    kill_at(&env, "staged", &["rm", &acknowledged[2]]);
    assert!(search(&env, "ack2").0.is_empty());
    assert_repaired(&env, &acknowledged[..2]);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["recover"]);
    assert_eq!(env.changed_files("HEAD"), [path]);
    env.run(&["show", &acknowledged[2]]).code(1);
}

/// Asserts that no temp file of memdir's is left anywhere in the working tree.
#[track_caller]
fn assert_no_temp_files(env: &TestEnv) {
    fn walk(dir: &std::path::Path, left: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.file_type().unwrap().is_dir() && name != ".git" {
                walk(&entry.path(), left);
            } else if name.starts_with(".memdir-tmp-") {
                left.push(entry.path());
            }
        }
    }
    let mut left = Vec::new();
    walk(env.root(), &mut left);
    assert!(left.is_empty(), "temp files left: {left:?}");
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn an_interrupted_batch_keeps_what_it_wrote() {
    // Two sessions are written file by file; a batch of more than BATCH_SYNC_MIN files writes
    // every temp file first and shares its syncs, so a kill can leave many temp files.
    for sessions in [2, memdir::store::BATCH_SYNC_MIN + 4] {
        for (point, kept) in [("temp-written", 0), ("file-renamed", 1)] {
            let (env, acknowledged) = repo_with_acknowledged_writes();
            let transcript = env.root().join("chat.jsonl");
            let lines: String = (0..sessions)
                .map(|k| {
                    format!(
                        "{{\"session\": \"s{k}\", \"role\": \"user\", \"content\": \"Session {k} batchword.\"}}\n"
                    )
                })
                .collect();
            std::fs::write(&transcript, lines).unwrap();
            let commits = env.commit_count();
            kill_at(&env, point, &["import", transcript.to_str().unwrap()]);

            let (hits, out) = search(&env, "batchword");
            assert_eq!(hits.len(), kept, "{sessions} sessions, {point}: {out}");
            assert_repaired(&env, &acknowledged);
            assert_no_temp_files(&env);
            assert_eq!(env.commit_count(), commits + kept, "{sessions}, {point}");
            if kept > 0 {
                assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["recover"]);
                assert_eq!(env.changed_files("HEAD").len(), kept);
            }
            // Importing again adds the sessions that never got written, and only those.
            env.run(&["import", transcript.to_str().unwrap()]).success();
            let all = env
                .run(&["search", "batchword", "-n", "100", "--json"])
                .success()
                .json();
            assert_eq!(
                all.as_array().unwrap().len(),
                sessions,
                "{sessions}, {point}"
            );
            assert_repaired(&env, &acknowledged);
        }
    }
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn a_file_changed_by_hand_after_the_crash_is_reported_not_committed() {
    let (env, acknowledged) = repo_with_acknowledged_writes();
    kill_at(
        &env,
        "files-written",
        &["add", "Interrupted memory crashword.", "--type", "fact"],
    );
    let untracked = env.git_status();
    let path = untracked
        .trim()
        .strip_prefix("?? ")
        .unwrap_or_else(|| panic!("{untracked}"))
        .to_owned();
    env.write(&path, env.read(&path).replace("crashword", "handword"));
    let commits = env.commit_count();

    let (hits, out) = search(&env, "handword");
    assert_eq!(hits.len(), 1, "{out}");
    assert!(
        out.stderr.contains(&path) && out.stderr.contains("changed by hand"),
        "{out}"
    );
    assert_eq!(env.commit_count(), commits);
    assert_eq!(env.git_status(), format!("?? {path}\n"));
    assert!(!env.path(".git/memdir/pending").exists());
    // The person records it when ready.
    env.run(&["commit", "-m", "keep my edit"]).success();
    assert_repaired(&env, &acknowledged);
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn git_lock_files_left_by_a_dead_writer_are_removed() {
    let (env, acknowledged) = repo_with_acknowledged_writes();
    kill_at(
        &env,
        "files-written",
        &["add", "Interrupted memory crashword."],
    );
    // libgit2 holds `index.lock` while it writes git's index: a writer killed inside it
    // leaves the file behind, and git refuses to stage anything while it exists.
    std::fs::write(env.path(".git/index.lock"), b"partial").unwrap();
    let (hits, out) = search(&env, "crashword");
    assert_eq!(hits.len(), 1, "{out}");
    assert_repaired(&env, &acknowledged);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["recover"]);
}

#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn a_killed_commit_of_hand_edits_loses_no_edit() {
    let (env, acknowledged) = repo_with_acknowledged_writes();
    env.write(
        "fact/by-hand.md",
        "---\nid: by-hand\ntitle: By hand\n---\nWritten by handword.\n",
    );
    kill_at(&env, "staged", &["commit", "-m", "my edits"]);
    // The edit is still in the working tree, found by search, and committed by a rerun.
    assert_eq!(search(&env, "handword").0.len(), 1);
    env.run(&["commit", "-m", "my edits"]).success();
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.changed_files("HEAD"), ["fact/by-hand.md"]);
    assert_repaired(&env, &acknowledged);
}

/// Issue 16: a watcher killed in the middle of a write it took for `memdir add` leaves the
/// add with an error that says so (exit code 4), not a second copy of the memory; the next
/// command repairs the repository as after any killed writer, and the memory is there.
#[test]
#[cfg_attr(not(feature = "fault-injection"), ignore = "needs --all-features")]
fn a_watcher_killed_in_a_write_it_took_leaves_the_add_an_error_and_the_next_read_a_repair() {
    use std::io::{BufRead as _, BufReader};
    use std::process::Stdio;

    let (env, acknowledged) = repo_with_acknowledged_writes();
    let commits = env.commit_count();
    let point = "files-written";
    // A watcher that stops, for good, at the point of the first write it makes.
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["watch", "--json"])
        .env("MEMDIR_FAULT", point)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut watcher = cmd.spawn().expect("spawn memdir watch");
    let mut ready = String::new();
    BufReader::new(watcher.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim_end(), r#"{"event":"ready"}"#);

    // The add's environment is the watcher's (fault point included), so the watcher takes it.
    let mut add = env.memdir_command(&env.repo());
    add.args(["add", "Handed over handword."])
        .env("MEMDIR_FAULT", point)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let add = add.spawn().expect("spawn memdir add");
    wait_for_fault(&mut watcher, point);
    watcher.kill().unwrap();
    watcher.wait().unwrap();

    let out = add.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("whether the memory was written is not known"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());

    // The next read finishes the write the watcher had begun, once.
    let (hits, out) = search(&env, "handword");
    assert_eq!(hits.len(), 1, "{out}");
    assert!(
        out.stderr.contains("recovered an interrupted write"),
        "{out}"
    );
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["recover"]);
    assert_eq!(env.commit_count(), commits + 1);
    assert_repaired(&env, &acknowledged);
}
