//! `memdir watch`: hand edits are indexed as they are saved, whatever the editor's way of
//! saving, invalid files are reported without stopping the watch, and `--commit` commits
//! after a quiet period. The routing and debounce rules have unit tests without sleeps in
//! src/watch/route.rs; these run the real OS watcher.
//!
//! Nothing here sleeps to synchronise: each step waits for what the watcher reports (and for
//! the index on disk to show the edit), with a generous deadline that only bounds a failure.

use std::io::{BufRead as _, BufReader};
use std::ops::ControlFlow;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use memdir::config::Boosts;
use memdir::index::Index;
use memdir::{Filter, SearchQuery, WatchOptions, WatchReport};
use serde_json::Value;

use crate::common::{TestEnv, prov};

/// How long a step may take before the test fails; never waited out when things work.
const DEADLINE: Duration = Duration::from_secs(60);

const VALID: &str = "---\nid: watched\ntitle: Watched\ntype: fact\n---\n";

/// A `memdir watch --json` process and the JSON lines it prints.
struct Watch {
    child: Child,
    lines: Receiver<Value>,
    seen: Vec<Value>,
}

impl Watch {
    /// Starts `memdir watch --json ARGS` and waits until it is ready.
    fn start(env: &TestEnv, args: &[&str]) -> Watch {
        let mut cmd = env.memdir_command(&env.repo());
        cmd.args(["watch", "--json"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn memdir watch");
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in stdout.lines().map_while(Result::ok) {
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let mut watch = Watch {
            child,
            lines,
            seen: Vec::new(),
        };
        watch.wait_event(|e| e["event"] == "ready");
        watch
    }

    /// Waits for the next report; `None` once the deadline passed.
    fn next(&mut self, until: Instant) -> Option<Value> {
        let left = until.saturating_duration_since(Instant::now());
        let event = self.lines.recv_timeout(left).ok()?;
        self.seen.push(event.clone());
        Some(event)
    }

    /// Waits for a report that satisfies `want` and returns it.
    #[track_caller]
    fn wait_event(&mut self, want: impl Fn(&Value) -> bool) -> Value {
        let until = Instant::now() + DEADLINE;
        while let Some(event) = self.next(until) {
            if want(&event) {
                return event;
            }
        }
        panic!("no such report within {DEADLINE:?}; saw {:#?}", self.seen)
    }

    /// Waits, report by report, until `done` holds (checked first, then after each report).
    #[track_caller]
    fn wait_until(&mut self, what: &str, done: impl Fn() -> bool) {
        let until = Instant::now() + DEADLINE;
        while !done() {
            if self.next(until).is_none() {
                panic!("{what}: not within {DEADLINE:?}; saw {:#?}", self.seen);
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the paths whose memories the index *on disk* finds for `word`, as any process
/// opening it would, without catching it up first.
fn indexed(env: &TestEnv, word: &str) -> Vec<String> {
    let index = Index::open(&env.path(".git/memdir/index"), Boosts::default()).unwrap();
    index
        .search(word, &Filter::default(), 10, 1)
        .unwrap()
        .into_iter()
        .map(|h| h.path)
        .collect()
}

#[test]
fn saves_are_indexed_whatever_the_editor_does() {
    let env = TestEnv::init();
    let mut watch = Watch::start(&env, &[]);
    let file = |word: &str| format!("{VALID}The {word} is here.\n");

    // Written in place.
    env.write("fact/watched.md", file("alphaword"));
    watch.wait_until("in-place write", || {
        indexed(&env, "alphaword") == ["fact/watched.md"]
    });

    // Written to a temp file, then renamed over the memory (vim's and many editors' way).
    env.write("fact/.watched.md.tmp", file("betaword"));
    std::fs::rename(
        env.path("fact/.watched.md.tmp"),
        env.path("fact/watched.md"),
    )
    .unwrap();
    watch.wait_until("write then rename", || {
        indexed(&env, "betaword") == ["fact/watched.md"] && indexed(&env, "alphaword").is_empty()
    });

    // A swap file next to it while editing, a backup left behind.
    env.write("fact/.watched.md.swp", b"\0swap\0");
    env.write("fact/watched.md", file("gammaword"));
    env.write("fact/watched.md~", file("betaword"));
    std::fs::remove_file(env.path("fact/.watched.md.swp")).unwrap();
    watch.wait_until("swap file", || {
        indexed(&env, "gammaword") == ["fact/watched.md"]
    });
    assert!(indexed(&env, "swap").is_empty());

    // Deleted, then created again.
    std::fs::remove_file(env.path("fact/watched.md")).unwrap();
    watch.wait_until("delete", || indexed(&env, "gammaword").is_empty());
    env.write("fact/watched.md", file("deltaword"));
    watch.wait_until("recreate", || {
        indexed(&env, "deltaword") == ["fact/watched.md"]
    });

    // Moved to another folder.
    std::fs::rename(env.path("fact/watched.md"), env.path("note/moved.md")).unwrap();
    watch.wait_until("move", || indexed(&env, "deltaword") == ["note/moved.md"]);

    // A folder moved in from outside, with a memory no event names.
    let outside = env.root().join("incoming");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("a.md"),
        "---\nid: incoming-a\n---\nThe epsilonword arrived.\n",
    )
    .unwrap();
    std::fs::rename(&outside, env.path("incoming")).unwrap();
    watch.wait_until("folder moved in", || {
        indexed(&env, "epsilonword") == ["incoming/a.md"]
    });

    // Broken: reported by name, left out of search, and the watch goes on.
    env.write(
        "note/moved.md",
        "---\nid: watched\ntitle: [unclosed\n---\nzetaword\n",
    );
    let report = watch.wait_event(|e| {
        e["event"] == "indexed"
            && e["problems"]
                .as_array()
                .is_some_and(|p| p.iter().any(|p| p["path"] == "note/moved.md"))
    });
    assert_eq!(report["problems"][0]["line"], 4, "{report}");
    assert!(indexed(&env, "deltaword").is_empty());
    env.write("note/moved.md", file("etaword"));
    watch.wait_until("fixed", || indexed(&env, "etaword") == ["note/moved.md"]);
    // Nothing was committed without --commit.
    assert_eq!(env.commit_count(), 1);
}

#[test]
fn with_commit_hand_edits_are_committed_after_a_quiet_period() {
    let env = TestEnv::init();
    let mut watch = Watch::start(
        &env,
        &["--commit", "--quiet", "200ms", "--agent", "watcher"],
    );
    env.write("fact/watched.md", format!("{VALID}First thetaword.\n"));
    let report = watch.wait_event(|e| e["event"] == "committed");
    let commit = report["commit"].as_str().unwrap();
    assert_eq!(env.head(), commit);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), ["watched"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["watcher"]);
    assert_eq!(env.changed_files("HEAD"), ["fact/watched.md"]);
    assert_eq!(env.git_status(), "");

    // An invalid edit is reported and never committed; fixing it gets it committed.
    env.write("fact/watched.md", "---\nid: watched\npinned: maybe\n---\n");
    let report = watch.wait_event(|e| e["event"] == "commit-refused");
    assert_eq!(report["problems"][0]["path"], "fact/watched.md", "{report}");
    assert_eq!(env.head(), commit);
    env.write("fact/watched.md", format!("{VALID}Second iotaword.\n"));
    let report = watch.wait_event(|e| e["event"] == "committed");
    assert_eq!(env.head(), report["commit"].as_str().unwrap());
    assert_eq!(env.git_status(), "");
    assert_eq!(indexed(&env, "iotaword"), ["fact/watched.md"]);
}

#[test]
fn a_long_lived_handle_searches_edits_its_watch_indexed() {
    let (env, mem) = TestEnv::init_lib();
    let (tx, reports) = channel();
    let options = WatchOptions {
        provenance: prov(),
        ..WatchOptions::default()
    };
    std::thread::scope(|s| {
        let mem = &mem;
        s.spawn(move || {
            mem.watch(&options, &mut |report| {
                let stop = matches!(&report, WatchReport::Indexed { paths, .. } if paths.iter().any(|p| p == "fact/stop.md"));
                let _ = tx.send(report);
                if stop {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
        });
        let until = Instant::now() + DEADLINE;
        let next = || {
            reports
                .recv_timeout(until - Instant::now())
                .expect("a report")
        };
        assert_eq!(next(), WatchReport::Ready);
        env.write("fact/watched.md", format!("{VALID}The kappaword.\n"));
        loop {
            if let WatchReport::Indexed { paths, problems } = next()
                && paths == ["fact/watched.md"]
            {
                assert!(problems.is_empty());
                break;
            }
        }
        // The same handle, with no refresh: the watch kept its index current.
        let hits = mem.search(&SearchQuery::new("kappaword")).unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].path, "fact/watched.md");
        env.write("fact/stop.md", format!("{VALID}Stop.\n"));
    });
}

/// Runs `memdir search WORD --json` with memdir's debug log on; returns the hits' paths and
/// the log.
fn search_logged(env: &TestEnv, word: &str) -> (Vec<String>, String) {
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["search", word, "--json"])
        .env("MEMDIR_LOG", "memdir=debug");
    let out = env.run_command(cmd, None);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let hits: Vec<Value> = serde_json::from_str(&out.stdout).unwrap();
    let paths = hits
        .iter()
        .map(|h| h["path"].as_str().unwrap().to_owned())
        .collect();
    (paths, out.stderr)
}

/// Saves a memory file holding `word` and searches it at once as a new process (logging at
/// debug); asserts the file is found and returns the log.
fn saved_then_found(env: &TestEnv, word: &str) -> String {
    env.write("fact/watched.md", format!("{VALID}The {word} is here.\n"));
    let (hits, log) = search_logged(env, word);
    assert_eq!(hits, ["fact/watched.md"], "{log}");
    log
}

/// Issue 16: a running watcher vouches for the working tree, so a new process skips its
/// `stat` of every memory file, and still sees a hand edit saved just before it started; a
/// watcher killed at any moment leaves a socket no one answers, and the next call scans.
#[test]
fn a_running_watcher_spares_the_next_call_its_scan_and_a_killed_one_costs_nothing() {
    let env = TestEnv::init();
    let mut watch = Watch::start(&env, &[]);
    assert!(env.path(".git/memdir/watch.sock").exists());

    // Saved, and searched at once: no wait for the watcher's own refresh.
    let log = saved_then_found(&env, "vouchword");
    assert!(log.contains("the watcher vouched"), "{log}");
    // The cookie the question made is gone again.
    let cookies: Vec<String> = std::fs::read_dir(env.repo())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".memdir-cookie-"))
        .collect();
    assert_eq!(cookies, Vec::<String>::new());

    // Killed (no clean-up): the socket file stays, and the next call scans instead.
    watch.child.kill().unwrap();
    watch.child.wait().unwrap();
    assert!(env.path(".git/memdir/watch.sock").exists());
    let log = saved_then_found(&env, "killword");
    assert!(!log.contains("the watcher vouched"), "{log}");
    assert!(log.contains("no watcher"), "{log}");

    // A new watcher takes over the stale socket and vouches again.
    let _watch = Watch::start(&env, &[]);
    let log = saved_then_found(&env, "againword");
    assert!(log.contains("the watcher vouched"), "{log}");
}

/// Runs `memdir ARGS` in the repository, logging at debug, with `vars` set; returns the output.
fn run_logged(env: &TestEnv, args: &[&str], vars: &[(&str, &str)]) -> crate::common::CommandOutput {
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(args).env("MEMDIR_LOG", "memdir=debug");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    env.run_command(cmd, None)
}

/// Returns `text` without the lines of the debug log (`DEBUG ...`, `TRACE ...`).
fn without_log(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with("DEBUG") && !l.starts_with("TRACE"))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Issue 16: with a watcher running, `memdir add` hands its write to it (the repository, the
/// index and the guard are open there already) and gets what its own write would have
/// given: the same file, commit and output. What the watcher cannot do as the caller would
/// (another environment, input it refuses) the caller does itself, with its own words; a
/// watcher killed before it takes a write leaves the write to the caller.
#[test]
fn a_running_watcher_writes_for_the_next_add_as_the_add_would_have() {
    let env = TestEnv::init();
    let watcher = || env.run(&["status", "--json"]).success().json()["watcher"].clone();
    assert_eq!(watcher(), false);
    let mut watch = Watch::start(&env, &[]);
    assert_eq!(watcher(), true);
    let args = [
        "add",
        "--json",
        "--type",
        "fact",
        "--tag",
        "birds",
        "--title",
        "Herons",
        "--agent",
        "scout",
        "--session",
        "s1",
        "--step",
        "4",
        "--expires",
        "2099-01-01",
        "The herons nest by the old mill.",
    ];

    // Handed over: the watcher wrote it.
    let out = run_logged(&env, &args, &[]).success();
    assert!(out.stderr.contains("the watcher wrote"), "{out}");
    let handed = out.json();
    assert_eq!(handed["status"], "ok");
    assert_eq!(handed["commit"].as_str().unwrap(), env.head());
    assert_eq!(
        env.changed_files("HEAD"),
        [handed["path"].as_str().unwrap()]
    );
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["scout"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Step"), ["4"]);
    assert_eq!(env.git_status(), "");
    // Searched at once by a new process, as any write is.
    assert_eq!(env.search_ids("herons"), [handed["id"].as_str().unwrap()]);

    // The same add in a repository without a watcher, by a process writing itself, gives
    // the same file but for the id and times, and the same output but for the id, path,
    // revision and commit.
    let alone = TestEnv::init();
    let out = run_logged(&alone, &args, &[]).success();
    assert!(!out.stderr.contains("the watcher wrote"), "{out}");
    let own = out.json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&handed), keys(&own));
    assert_eq!(
        (&handed["similar"], &handed["status"]),
        (&own["similar"], &own["status"])
    );
    let masked = |env: &TestEnv, written: &Value| {
        env.read(written["path"].as_str().unwrap())
            .replace(written["id"].as_str().unwrap(), "ID")
            .lines()
            .filter(|l| !l.starts_with("created:") && !l.starts_with("updated:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(masked(&env, &handed), masked(&alone, &own));

    // Killed, the watcher leaves its socket behind, and the next add writes itself.
    watch.child.kill().unwrap();
    watch.child.wait().unwrap();
    assert!(env.path(".git/memdir/watch.sock").exists());
    assert_eq!(watcher(), false);
    let out = run_logged(&env, &["add", "Egrets visit in May."], &[]).success();
    assert!(out.stderr.contains("no watcher"), "{out}");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["add"]);

    // A new watcher takes over. Input it refuses is refused by the caller itself, word for
    // word and with the same exit code as without a watcher; nothing is written.
    let refused_alone = run_logged(&env, &["add", "--supersedes", "gone-123456", "x"], &[]);
    let _watch = Watch::start(&env, &[]);
    let before = env.head();
    let refused = run_logged(&env, &["add", "--supersedes", "gone-123456", "x"], &[]).code(1);
    assert!(refused.stderr.contains("the watcher declined"), "{refused}");
    assert_eq!(
        without_log(&refused.stderr),
        without_log(&refused_alone.stderr)
    );
    assert_eq!(env.head(), before);

    // A caller whose commits are dated otherwise (the watcher has no such variable) writes
    // itself, and its date is the one it asked for.
    let dated = run_logged(
        &env,
        &["add", "A dated note."],
        &[
            ("GIT_AUTHOR_DATE", "2020-02-02T10:00:00Z"),
            ("GIT_COMMITTER_DATE", "2020-02-02T10:00:00Z"),
        ],
    )
    .success();
    assert!(dated.stderr.contains("the watcher declined"), "{dated}");
    assert_eq!(
        env.git(&["log", "-1", "--format=%aI"]).trim(),
        "2020-02-02T10:00:00Z"
    );

    // And the next plain add is the watcher's again.
    let out = run_logged(&env, &["add", "Kingfishers too."], &[]).success();
    assert!(out.stderr.contains("the watcher wrote"), "{out}");
}

/// Issue 16: `memdir update` and `memdir rm` hand their writes to a running watcher too; a
/// conflict (`--expect` an old revision) is the caller's own, with its exit code.
#[test]
fn a_running_watcher_updates_and_removes_for_the_caller() {
    let env = TestEnv::init();
    let added = env.add("Swifts nest under the eaves.", &["--type", "fact"]);
    let id = added["id"].as_str().unwrap();
    let _watch = Watch::start(&env, &[]);

    let out = run_logged(&env, &["update", id, "--add-tag", "birds", "--json"], &[]).success();
    assert!(out.stderr.contains("the watcher wrote"), "{out}");
    assert_eq!(out.json()["commit"].as_str().unwrap(), env.head());
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["update"]);
    assert!(env.read(added["path"].as_str().unwrap()).contains("birds"));

    let stale = added["revision"].as_str().unwrap();
    let conflict = run_logged(
        &env,
        &["update", id, "--pin", "true", "--expect", stale],
        &[],
    );
    let conflict = conflict.code(3);
    assert!(
        conflict.stderr.contains("the watcher declined"),
        "{conflict}"
    );
    assert!(
        without_log(&conflict.stderr).contains(&format!("memory `{id}` changed")),
        "{conflict}"
    );

    let out = run_logged(&env, &["rm", id, "--reason", "moved south"], &[]).success();
    assert!(out.stderr.contains("the watcher wrote"), "{out}");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["rm"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Reason"), ["moved south"]);
    assert!(!env.path(added["path"].as_str().unwrap()).exists());
}

/// Issue 16: agents adding at once through one watcher each get their memory written, once:
/// the watcher's loop runs the writes one at a time (a write its loop did not take within
/// 5 s, on a very busy machine, is written by its caller instead).
#[test]
fn adds_handed_over_at_once_are_all_written() {
    let env = TestEnv::init();
    let _watch = Watch::start(&env, &[]);
    let commits = env.commit_count();
    let adds: Vec<_> = (0..8)
        .map(|k| {
            let mut cmd = env.memdir_command(&env.repo());
            cmd.args(["add", &format!("Parallel memory number pword{k}.")])
                .env("MEMDIR_LOG", "memdir=debug")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            cmd.spawn().expect("spawn memdir add")
        })
        .collect();
    let mut handed = 0;
    for add in adds {
        let out = add.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        handed += usize::from(stderr.contains("the watcher wrote"));
    }
    assert!(handed >= 1, "no add was handed over");
    assert_eq!(env.commit_count(), commits + 8);
    for k in 0..8 {
        assert_eq!(env.search_ids(&format!("pword{k}")).len(), 1, "pword{k}");
    }
    assert_eq!(env.git_status(), "");
}

/// Ends the process `pid` (a background watcher, which no test owns as a child).
fn kill(pid: u64) {
    let _ = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status();
}

/// Kills the background watcher `pid` when dropped, so a failing test leaves none behind.
struct Background(u64);

impl Drop for Background {
    fn drop(&mut self) {
        kill(self.0);
    }
}

/// `memdir watch --background` returns once a detached watcher serves, and says its pid;
/// the next call is vouched for by it, and another `--background` finds it instead of
/// starting a second one.
#[test]
fn a_background_watcher_serves_the_next_calls_and_is_started_once() {
    let env = TestEnv::init();
    env.add("The deploy train leaves on Tuesdays.", &[]);
    let first = env
        .run(&["watch", "--background", "--json"])
        .success()
        .json();
    assert_eq!(first["started"], true, "{first}");
    assert_eq!(first["idle_secs"], 1800);
    let pid = first["pid"].as_u64().unwrap();
    let _background = Background(pid);

    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["search", "deploy train"])
        .env("MEMDIR_LOG", "memdir=debug");
    let out = env.run_command(cmd, None).success();
    assert!(out.stdout.contains("deploy train"), "{out}");
    assert!(out.stderr.contains("the watcher vouched"), "{out}");

    let status = env.run(&["status", "--json"]).success().json();
    assert_eq!(status["watcher_pid"], pid, "{status}");
    let again = env
        .run(&["watch", "--background", "--json"])
        .success()
        .json();
    assert_eq!(again["started"], false, "{again}");
    assert_eq!(again["pid"], pid);
    let text = env.run(&["watch", "--background"]).success();
    assert!(
        text.stdout
            .contains(&format!("already serves this repository (pid {pid})")),
        "{text}"
    );
}

/// `--idle`: a watcher that no other call asks anything stops by itself, and says why.
#[test]
fn a_watcher_with_nothing_to_answer_stops_after_its_idle_time() {
    let env = TestEnv::init();
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["watch", "--idle", "300ms"]);
    let out = env.run_command(cmd, None).success();
    assert!(out.stdout.contains("Watching for changes"), "{out}");
    assert!(
        out.stdout.contains("Stopped: no memdir call for 300ms."),
        "{out}"
    );
}

/// At a session's start in a repository of `[watch] background_from` memories or more, the
/// hook starts a background watcher (and still answers the hook at once: the watcher holds
/// none of its output open); below that size it starts none.
#[test]
fn the_session_start_hook_starts_a_watcher_in_a_large_repository() {
    let env = TestEnv::init();
    env.add("The deploy train leaves on Tuesdays.", &[]);
    env.add("Releases are cut on Thursdays.", &[]);
    let event = r#"{"hook_event_name": "SessionStart", "session_id": "s1"}"#;
    let hook = |env: &TestEnv| {
        let mut cmd = env.memdir_command(&env.repo());
        cmd.args(["hook", "claude-code"])
            .env("MEMDIR_LOG", "memdir=debug");
        env.run_command(cmd, Some(event)).success()
    };
    // Two memories, below the default of 5,000: no watcher.
    let out = hook(&env);
    assert!(!out.stderr.contains("background watcher"), "{out}");

    let config = env
        .read("memory.toml")
        .replace("background_from = 5000", "background_from = 2");
    env.write("memory.toml", config);
    env.run(&["commit", "-m", "a watcher from two memories"])
        .success();
    let out = hook(&env);
    let answer: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        answer["hookSpecificOutput"]["hookEventName"],
        "SessionStart"
    );
    let started = out
        .stderr
        .split("started a background watcher (pid ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .and_then(|pid| pid.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("no watcher started: {out}"));
    let _started = Background(started);
    // The watcher it started serves (or, had it lost the race to this call's own, that one).
    let serving = env
        .run(&["watch", "--background", "--json"])
        .success()
        .json();
    let _serving = Background(serving["pid"].as_u64().unwrap());
    assert!(
        serving["pid"] == started || serving["started"] == true,
        "{serving}"
    );
}

/// `--stop`: the serving watcher (here one in the background) stops when asked, and the
/// command returns once it no longer serves; with none serving, it says so and succeeds.
#[test]
fn a_watcher_stops_when_asked_and_then_none_serves() {
    let env = TestEnv::init();
    env.add("The deploy train leaves on Tuesdays.", &[]);
    let started = env
        .run(&["watch", "--background", "--json"])
        .success()
        .json();
    let pid = started["pid"].as_u64().unwrap();
    let _background = Background(pid);

    let stopped = env.run(&["watch", "--stop", "--json"]).success().json();
    assert_eq!(stopped["stopped"], true, "{stopped}");
    assert_eq!(stopped["pid"], pid);
    // Returned once it no longer serves: nothing is left of it to find.
    let status = env.run(&["status", "--json"]).success().json();
    assert!(status["watcher_pid"].is_null(), "{status}");
    assert!(!env.path(".git/memdir/watch.sock").exists());
    assert!(!env.path(".git/memdir/watch.pid").exists());

    let again = env.run(&["watch", "--stop"]).success();
    assert!(
        again.stdout.contains("No watcher serves this repository."),
        "{again}"
    );
    let again = env.run(&["watch", "--stop", "--json"]).success().json();
    assert_eq!(again["stopped"], false, "{again}");
}

/// A watcher asked to stop first does what waits: a hand edit saved just before is indexed
/// and, with `--commit`, committed at once rather than after the quiet period; then it says
/// why it stopped, as its last report.
#[test]
fn a_watcher_asked_to_stop_commits_what_waits_first() {
    let env = TestEnv::init();
    let mut watch = Watch::start(&env, &["--commit", "--quiet", "1h"]);
    env.write("fact/watched.md", format!("{VALID}The lambdaword.\n"));
    let stopped = env.run(&["watch", "--stop"]).success();
    assert!(
        stopped.stdout.contains("Stopped the watcher (pid "),
        "{stopped}"
    );

    let report = watch.wait_event(|e| e["event"] == "committed");
    assert_eq!(env.head(), report["commit"].as_str().unwrap());
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["hand-edit"]);
    assert_eq!(env.git_status(), "");
    let last = watch.wait_event(|e| e["event"] == "stopped");
    assert_eq!(last["reason"], "requested", "{last}");
    assert!(watch.child.wait().unwrap().success());
    assert_eq!(env.search_ids("lambdaword"), ["watched"]);
}

/// The watcher inside a server (`memdir mcp`, `memdir serve`: `Memdir::watch_in_background`)
/// keeps the server's index current, so it says no to `--stop`, which fails and says what
/// to stop instead.
#[test]
fn a_servers_watcher_refuses_to_stop() {
    let (env, mem) = TestEnv::init_lib();
    let mem = std::sync::Arc::new(mem);
    let (tx, reports) = channel();
    mem.watch_in_background(move |report| {
        let _ = tx.send(report.clone());
    });
    assert_eq!(
        reports.recv_timeout(DEADLINE).expect("a report"),
        WatchReport::Ready
    );
    let out = env.run(&["watch", "--stop"]).code(1);
    assert!(
        out.stderr
            .contains("is part of `memdir mcp` or `memdir serve`"),
        "{out}"
    );
    // Still serving: the next call is vouched for.
    let mut cmd = env.memdir_command(&env.repo());
    cmd.args(["search", "anything"])
        .env("MEMDIR_LOG", "memdir=debug");
    let out = env.run_command(cmd, None).success();
    assert!(out.stderr.contains("the watcher vouched"), "{out}");
}
