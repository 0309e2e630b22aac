//! Fault-injection points for the crash tests: named places in a write where a test can stop
//! the process and kill it (`kill -9`), to check that the next command repairs whatever the
//! write left behind.
//!
//! Compiled only with the `fault-injection` cargo feature (the test suite enables it with
//! `cargo test --all-features`); without it [`point`] is an empty inline function and no
//! environment variable is read. With it, a process whose `MEMDIR_FAULT` names a point
//! announces `memdir-fault: <point>` on stderr when it gets there and then waits forever, so
//! the test can kill it exactly there. This is the one place the library reads the
//! environment and prints: it is a test harness, not behaviour.

/// Every point, in the order a write reaches them (a test kills a writer at each).
pub const POINTS: &[&str] = &[
    // The intent (`.git/memdir/pending`) is on disk; no memory file is touched yet.
    "after-intent",
    // A temp file holds the new content, fsynced, not yet renamed over the memory file.
    "temp-written",
    // The first file of the write was renamed into place (a batch may have more to go).
    "file-renamed",
    // Every file is in place; git knows nothing yet.
    "files-written",
    // git's index has the files staged; no commit.
    "staged",
    // The commit exists and HEAD points at it; the intent is still on disk.
    "committed",
    // The intent is gone; the search index is not updated yet.
    "before-index",
    // The search index has its new segments, its commit is not written.
    "index-prepared",
    // The index is committed; the command has not answered its caller yet.
    "indexed",
];

/// The points of a purge (`memdir forget --purge`), in the order it reaches them.
pub const PURGE_POINTS: &[&str] = &[
    // The new history is written and git's index and the working tree no longer hold the
    // memory; no ref has moved.
    "purge-swap",
    // Every ref points at the new history (tombstone included); reflogs and old objects
    // are still there, and memdir's own files are not scrubbed.
    "purge-rewritten",
];

/// The points of a sync's move of the working tree (`memdir sync`), in the order it reaches
/// them.
pub const SYNC_POINTS: &[&str] = &[
    // The merge commit exists and the move is announced (`.git/memdir/sync-pending`); no
    // file is touched yet.
    "sync-intent",
    // The files are in place; git's index and the branch are as before.
    "sync-files-written",
    // git's index holds the merged commit's files; the branch has not moved.
    "sync-staged",
    // The branch points at the merged commit; the announcement is still on disk.
    "sync-moved",
];

/// The points of a task step (`memdir task step`), in the order it reaches them.
pub const TASK_POINTS: &[&str] = &[
    // The step is checked and numbered; nothing is written.
    "task-step-before-write",
    // The step's line is written and fsync'd; the caller has no answer yet.
    "task-step-durable",
];

/// Stops here forever if the `fault-injection` feature is on and `MEMDIR_FAULT` is `name`.
#[cfg(feature = "fault-injection")]
pub(crate) fn point(name: &'static str) {
    debug_assert!(
        [POINTS, PURGE_POINTS, SYNC_POINTS, TASK_POINTS]
            .iter()
            .any(|points| points.contains(&name)),
        "unknown fault point {name}"
    );
    if std::env::var("MEMDIR_FAULT").is_ok_and(|v| v == name) {
        use std::io::Write as _;
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "memdir-fault: {name}");
        let _ = err.flush();
        drop(err);
        loop {
            std::thread::park();
        }
    }
}

/// Does nothing: fault injection is compiled out.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub(crate) fn point(_name: &'static str) {}
