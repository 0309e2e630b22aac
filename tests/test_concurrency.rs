//! Many processes at once: writers through the real `memdir` binary, serialized by the
//! repository's write lock, while readers search. Every acknowledged write is committed once
//! and searchable; no reader ever fails.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use memdir::{Filter, SearchQuery};

use crate::common::TestEnv;

const WRITERS: usize = 8;
const PER_WRITER: usize = 200;
const READERS: usize = 2;
/// Searches per reader, at most: enough to overlap many writes, few enough not to slow them.
const SEARCHES: usize = 40;

/// A word no other memory holds, so a search for it must find exactly memory `i` of writer `w`.
fn token(w: usize, i: usize) -> String {
    format!("wrt{w}mem{i}q")
}

#[test]
fn eight_processes_writing_two_hundred_memories_each_lose_nothing() {
    let env = Arc::new(TestEnv::init());
    // git packs the loose objects several times while they write (about every 250 writes;
    // in the foreground of the write that starts it, so the last one is done before the
    // checks below).
    env.git(&["config", "gc.auto", "1000"]);
    env.git(&["config", "gc.autoDetach", "false"]);
    let start = Arc::new(Barrier::new(WRITERS + READERS));
    let writing = Arc::new(AtomicBool::new(true));

    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let (env, start) = (env.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                let mut ids = Vec::with_capacity(PER_WRITER);
                for i in 0..PER_WRITER {
                    let text = format!("Concurrent note {i} of writer {w}: {}.", token(w, i));
                    let agent = format!("writer-{w}");
                    let out = env.run(&["add", &text, "--type", "fact", "--agent", &agent]);
                    assert_eq!(out.status, 0, "writer {w}, memory {i}:\n{out}");
                    assert_eq!(out.stderr, "", "writer {w}, memory {i}:\n{out}");
                    ids.push(out.stdout.trim().to_owned());
                }
                ids
            })
        })
        .collect();

    // Readers search while the writers write: every search succeeds, and each reader sees the
    // number of memories only grow (each search is a snapshot of some committed state).
    let readers: Vec<_> = (0..READERS)
        .map(|r| {
            let (env, start, writing) = (env.clone(), start.clone(), writing.clone());
            std::thread::spawn(move || {
                start.wait();
                let (mut searches, mut seen) = (0usize, 0usize);
                while writing.load(Ordering::Acquire) && searches < SEARCHES {
                    let out = env.run(&["search", "concurrent note", "-n", "5000", "--json"]);
                    assert_eq!(out.status, 0, "reader {r}, search {searches}:\n{out}");
                    assert_eq!(out.stderr, "", "reader {r}, search {searches}:\n{out}");
                    let hits = out.json().as_array().unwrap().len();
                    assert!(hits >= seen, "reader {r}: {hits} hits after {seen}");
                    seen = hits;
                    searches += 1;
                }
                searches
            })
        })
        .collect();

    let ids: Vec<Vec<String>> = writers.into_iter().map(|t| t.join().unwrap()).collect();
    writing.store(false, Ordering::Release);
    for r in readers {
        assert!(r.join().unwrap() > 0, "a reader never got to search");
    }

    let mut all: Vec<&String> = ids.iter().flatten().collect();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), WRITERS * PER_WRITER, "ids must be distinct");

    // One commit per memory on top of `init`, each adding exactly one file.
    assert_eq!(env.commit_count(), WRITERS * PER_WRITER + 1);
    let adds = env.git(&[
        "log",
        "--format=%(trailers:key=Memdir-Op,valueonly)",
        "HEAD",
    ]);
    assert_eq!(
        adds.lines().filter(|l| *l == "add").count(),
        WRITERS * PER_WRITER
    );
    assert_eq!(env.git_status(), "");
    env.git(&["fsck", "--strict", "--no-dangling"]);
    env.run(&["check"]).success();
    let packs = env.git(&["count-objects", "-v"]);
    assert!(
        !packs.contains("\npacks: 0\n"),
        "git never packed while they wrote:\n{packs}"
    );

    // Every memory is listed and found by its own word, as the writer that wrote it said.
    let mem = env.open();
    assert_eq!(
        mem.list(&Filter::default()).unwrap().len(),
        WRITERS * PER_WRITER
    );
    for (w, writer_ids) in ids.iter().enumerate() {
        for (i, id) in writer_ids.iter().enumerate() {
            let hits = mem.search(&SearchQuery::new(token(w, i))).unwrap();
            assert_eq!(hits.len(), 1, "{}: {hits:?}", token(w, i));
            assert_eq!(&hits[0].id, id);
        }
    }
}

#[test]
fn searches_during_reindex_always_see_the_whole_index() {
    const MEMORIES: usize = 300;
    const REINDEXES: usize = 5;
    let env = Arc::new(TestEnv::init());
    let transcript: String = (0..MEMORIES)
        .map(|i| format!("{{\"session\": \"s{i}\", \"role\": \"user\", \"content\": \"Reindexed note {i}.\"}}\n"))
        .collect();
    env.run_stdin(&["import", "-"], &transcript).success();
    let reindexing = Arc::new(AtomicBool::new(true));
    let reader = {
        let (env, reindexing) = (env.clone(), reindexing.clone());
        std::thread::spawn(move || {
            let mut searches = 0;
            // At least a few searches, however fast the reindexing goes.
            while reindexing.load(Ordering::Acquire) || searches < 5 {
                let out = env.run(&["search", "reindexed note", "-n", "1000", "--json"]);
                assert_eq!(out.status, 0, "search {searches}:\n{out}");
                assert_eq!(out.stderr, "", "search {searches}:\n{out}");
                assert_eq!(
                    out.json().as_array().unwrap().len(),
                    MEMORIES,
                    "search {searches}"
                );
                searches += 1;
            }
        })
    };
    for _ in 0..REINDEXES {
        env.run(&["reindex"]).success();
    }
    reindexing.store(false, Ordering::Release);
    reader.join().unwrap();
}

#[test]
fn of_eight_processes_updating_from_the_same_revision_exactly_one_wins() {
    const RACERS: usize = 8;
    let env = Arc::new(TestEnv::init());
    let added = env.add("The staging API listens on port 8443.", &[]);
    let id = added["id"].as_str().unwrap().to_owned();
    let rev = added["revision"].as_str().unwrap().to_owned();
    let commits = env.commit_count();
    let start = Arc::new(Barrier::new(RACERS));
    let racers: Vec<_> = (0..RACERS)
        .map(|n| {
            let (env, start, id, rev) = (env.clone(), start.clone(), id.clone(), rev.clone());
            std::thread::spawn(move || {
                start.wait();
                let title = format!("Title from racer {n}");
                env.run(&["update", &id, "--title", &title, "--expect", &rev])
            })
        })
        .collect();
    let outs: Vec<_> = racers.into_iter().map(|t| t.join().unwrap()).collect();
    let winners: Vec<_> = outs.iter().filter(|o| o.status == 0).collect();
    assert_eq!(winners.len(), 1, "{outs:#?}");
    for out in outs.iter().filter(|o| o.status != 0) {
        assert_eq!(out.status, 3, "{out}");
        assert!(out.stderr.contains(&rev), "{out}");
    }
    // The winner's title is the one on disk, in one commit; no loser wrote anything.
    assert_eq!(env.commit_count(), commits + 1);
    let shown = env.run(&["show", &id, "--json"]).success().json();
    let winner = winners[0].stdout.trim();
    assert!(winner.starts_with(&format!("Updated {id}")), "{winner}");
    let title = shown["title"].as_str().unwrap();
    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]).trim(),
        format!("update: {title} ({id}): title")
    );
    assert_eq!(env.git_status(), "");
}
