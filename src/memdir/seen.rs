//! What one `Memdir` handle remembers of the index between calls: the state it last saw the
//! index at, the files a catch-up could not index, the working tree's `stat`s as last scanned,
//! and whether it has looked for hand edits yet. `sync.rs` keeps it true; nothing else writes
//! it.
//!
//! Invariants:
//! - `state` is the state of the last index commit this handle made or read (`None` before
//!   the first catch-up). A read that finds HEAD equal to `state.head` needs no catch-up
//!   for commits.
//! - `problems` holds each file a catch-up left out since the last [`Seen::take_problems`],
//!   once per catch-up that met it.
//! - `stats` is the stat cache as the last scan (or this handle's own writes) left it: a
//!   path's entry matches what the index holds for it. A purge drops it ([`Seen::forget_stats`]),
//!   so the next scan compares against git.
//! - `looked` turns true once and stays: after it, reads trust `stats` and the recorded
//!   hand-edit set until [`crate::Memdir::refresh`].
//! - `watching` turns true once, when the handle starts watching, and stays.
//!
//! Lock order: each method takes one of these mutexes at a time and releases it before
//! returning, except [`Seen::stats`], whose guard the caller holds while it compares or
//! records a scan. Under that guard the write lock may be *tried* (never waited for), and
//! no other mutex of `Memdir` is taken. None is held inside a job of rayon's pool (see
//! [`crate::Memdir`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::Problem;
use crate::index::IndexState;
use crate::worktree::StatCache;

/// A handle's memory of the index (module docs).
#[derive(Default)]
pub(super) struct Seen {
    state: Mutex<Option<IndexState>>,
    problems: Mutex<Vec<Problem>>,
    stats: Mutex<Option<StatCache>>,
    looked: AtomicBool,
    watching: AtomicBool,
}

/// Locks `m`, taking over a poisoned lock: every value here is rebuilt from the files when
/// in doubt, so a panic elsewhere leaves nothing unsafe behind.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Seen {
    /// The state the index was last seen at.
    pub(super) fn state(&self) -> Option<IndexState> {
        lock(&self.state).clone()
    }

    /// True if the index was last seen at commit `head`.
    pub(super) fn is_at(&self, head: &Option<String>) -> bool {
        lock(&self.state).as_ref().is_some_and(|s| &s.head == head)
    }

    /// Records that the index is now at `state`.
    pub(super) fn record(&self, state: IndexState) {
        *lock(&self.state) = Some(state);
    }

    /// Adds files a catch-up could not index.
    pub(super) fn add_problems(&self, problems: &[Problem]) {
        lock(&self.problems).extend(problems.iter().cloned());
    }

    /// Returns, and forgets, the files not indexed since the last call.
    pub(super) fn take_problems(&self) -> Vec<Problem> {
        std::mem::take(&mut *lock(&self.problems))
    }

    /// The stat cache, held while the caller compares or records a scan.
    pub(super) fn stats(&self) -> MutexGuard<'_, Option<StatCache>> {
        lock(&self.stats)
    }

    /// Forgets the stat cache (a purge removed its file).
    pub(super) fn forget_stats(&self) {
        *lock(&self.stats) = None;
    }

    /// True once this handle has looked for hand edits.
    pub(super) fn looked(&self) -> bool {
        self.looked.load(Ordering::Acquire)
    }

    /// Records that this handle has looked for hand edits.
    pub(super) fn mark_looked(&self) {
        self.looked.store(true, Ordering::Release);
    }

    /// True once this handle runs a watcher: it then never asks a watcher to vouch for the
    /// tree (it would be asking itself), it scans.
    pub(super) fn watching(&self) -> bool {
        self.watching.load(Ordering::Acquire)
    }

    /// Records that this handle runs a watcher.
    pub(super) fn mark_watching(&self) {
        self.watching.store(true, Ordering::Release);
    }
}
