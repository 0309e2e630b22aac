//! `Memdir::watch`: keeps the index caught up with hand edits as they are saved and, when
//! asked, commits them after a quiet period. The OS watcher and the routing rules are in
//! [`crate::watch`]; this loop only acts on what they say is due.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::{Memdir, Problem, Provenance, is_memory_path};
use crate::watch::route::route;
use crate::watch::vouch::{self, Pending, Voucher};
use crate::watch::{Action, Debouncer, FsWatcher, Timing};
use crate::{Error, Result};

/// How [`Memdir::watch`] behaves.
#[derive(Debug, Clone, Default)]
pub struct WatchOptions {
    /// Commit hand edits (`Memdir-Op: hand-edit`) once nothing changed for `timing.quiet`.
    pub commit: bool,
    /// How long to wait after changes before refreshing and before committing.
    pub timing: Timing,
    /// Provenance of the commits.
    pub provenance: Provenance,
    /// Stop once no other process has called (asked or handed a write over) for this long,
    /// and nothing is waiting to be refreshed or committed. `None`: watch until stopped.
    pub idle: Option<Duration>,
    /// Stop at once, before [`WatchReport::Ready`], when another watcher already serves the
    /// repository: a watcher started only to serve other processes has nothing to do then.
    pub serve_only: bool,
    /// Stop when another process asks (`memdir watch --stop`, [`vouch::stop`]), after
    /// indexing and committing what waits. A server's watcher leaves this off and says no:
    /// stopping it would leave the server searching a stale index.
    pub stop_on_request: bool,
}

/// Why a watcher stopped ([`WatchReport::Stopped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopReason {
    /// No other process called for [`WatchOptions::idle`].
    Idle,
    /// Another process asked it to stop ([`WatchOptions::stop_on_request`]).
    Requested,
}

/// What the watcher did, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum WatchReport {
    /// The watcher runs and the index is caught up with everything changed before it started.
    Ready,
    /// The index was refreshed after these memory files changed; `problems` lists those that
    /// could not be indexed (they stay out of search until fixed).
    Indexed {
        /// Memory files named by the changes (empty when only folders or other files changed).
        paths: Vec<String>,
        /// Files that could not be read or parsed.
        problems: Vec<Problem>,
    },
    /// Hand edits were committed.
    Committed {
        /// The commit.
        commit: String,
    },
    /// Hand edits were not committed because some edited files are invalid; the next quiet
    /// period after a change tries again.
    CommitRefused {
        /// What is wrong.
        problems: Vec<Problem>,
    },
    /// A refresh or commit failed; the watcher goes on.
    Failed {
        /// The error, with its causes.
        message: String,
    },
    /// The watcher stops: the last report.
    Stopped {
        /// Why.
        reason: StopReason,
    },
}

impl Memdir {
    /// Watches the working tree until `on` returns [`ControlFlow::Break`] or the OS watcher
    /// fails: refreshes the index shortly after each save (so a long-lived handle, and every
    /// process, searches the edit) and, with [`WatchOptions::commit`], commits hand edits
    /// once nothing changed for the quiet period. Invalid files are reported through `on`,
    /// never committed, and do not stop the watch.
    pub fn watch(
        &self,
        options: &WatchOptions,
        on: &mut dyn FnMut(WatchReport) -> ControlFlow<()>,
    ) -> Result<()> {
        let watcher = FsWatcher::new(&self.root)?;
        // Changes made before the watcher started are caught up here, after it started, so
        // none falls between the two.
        let refresh = self.refresh()?;
        self.take_problems();
        if !refresh.problems.is_empty()
            && on(WatchReport::Indexed {
                paths: Vec::new(),
                problems: refresh.problems,
            })
            .is_break()
        {
            return Ok(());
        }
        // Other processes may now skip their scan of the tree and ask instead (`vouch.rs`):
        // by the time `Ready` is reported, the socket answers.
        self.seen.mark_watching();
        let pending = Pending::default();
        let voucher = Voucher::serve(&self.memdir_dir(), &self.root, pending.clone());
        if voucher.is_none() && options.serve_only {
            tracing::debug!("another watcher serves this repository: stopping");
            return Ok(());
        }
        if on(WatchReport::Ready).is_break() {
            return Ok(());
        }
        let mut debouncer = Debouncer::new(options.timing, options.commit);
        let mut last_call = Instant::now();
        loop {
            let idle_until = options.idle.map(|idle| last_call + idle);
            let deadline = match (debouncer.deadline(), idle_until) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let paths = watcher.next(deadline)?;
            let now = Instant::now();
            let mut cookies = Vec::new();
            let mut stops = Vec::new();
            for path in paths {
                match vouch::cookie(&path) {
                    Some(n) => cookies.push(n),
                    None => debouncer.push(route(&path, is_memory_path), now),
                }
            }
            let mut due = Vec::new();
            let mut indexed = true;
            if !cookies.is_empty() {
                last_call = now;
                // Asked to vouch: every change before the cookie is recorded; index it now.
                if let Some(action) = debouncer.refresh_now() {
                    let report = self.act(action, options);
                    indexed = !matches!(report, Some(WatchReport::Failed { .. }));
                    due.extend(report);
                }
                // Writes handed over are all taken at once (their writers then wait for
                // them however long the ones before take), then run one at a time now that
                // the index holds every change made before them, as the writers' own
                // catch-up would have.
                let mut jobs = Vec::new();
                for n in cookies {
                    if let Some(stop) = pending.take_stop(n) {
                        stops.push(stop);
                    } else if let Some(job) = pending.take_job(n) {
                        jobs.push(job);
                    } else {
                        pending.answer(n, indexed);
                    }
                }
                for job in jobs {
                    let answer = self.run_handed_over(&job.request);
                    let _ = job.answer.send(answer);
                }
            }
            for action in debouncer.poll(now) {
                due.extend(self.act(action, options));
            }
            let stopping = !stops.is_empty() && options.stop_on_request;
            if stopping {
                // What waits is done now: a hand edit saved just before is committed, not
                // left for the next watcher.
                for action in debouncer.finish() {
                    due.extend(self.act(action, options));
                }
            }
            for stop in stops {
                stop.answer(options.stop_on_request);
            }
            for report in due {
                if on(report).is_break() {
                    return Ok(());
                }
            }
            let idle =
                idle_until.is_some_and(|until| now >= until) && debouncer.deadline().is_none();
            if stopping || idle {
                let reason = if stopping {
                    StopReason::Requested
                } else {
                    StopReason::Idle
                };
                tracing::debug!("stopping: {reason:?}");
                let _ = on(WatchReport::Stopped { reason });
                return Ok(());
            }
        }
    }

    /// Does what the debouncer says is due and returns the report (`None`: nothing to say).
    fn act(&self, action: Action, options: &WatchOptions) -> Option<WatchReport> {
        Some(match action {
            // Only memory files changed: look at them alone, not at the whole tree.
            Action::Refresh(paths) => {
                let done = self.refresh_paths(&paths);
                self.refreshed(paths, done)
            }
            Action::Rescan(paths) => {
                let done = self.refresh();
                self.refreshed(paths, done)
            }
            Action::Commit => match self.commit_hand_edits(None, &options.provenance) {
                Ok(Some(commit)) => WatchReport::Committed { commit },
                Ok(None) => return None,
                Err(Error::InvalidEdits { problems }) => WatchReport::CommitRefused { problems },
                Err(e) => failed(&e),
            },
        })
    }

    /// Returns the report of a refresh of `paths` that gave `done`.
    fn refreshed(&self, paths: Vec<String>, done: Result<super::Refresh>) -> WatchReport {
        match done {
            Ok(r) => {
                self.take_problems();
                WatchReport::Indexed {
                    paths,
                    problems: r.problems,
                }
            }
            Err(e) => failed(&e),
        }
    }
}

impl Memdir {
    /// Keeps this handle's index caught up with hand edits for as long as the process runs,
    /// on a thread of its own: what [`Memdir::watch`] does without committing, so that a
    /// server's searches see a file a person just saved. Problems and failures go to the log;
    /// `on` hears every report too (a server tells its clients). Fails to start only on
    /// platforms without a file watcher, which the log then says.
    pub fn watch_in_background(
        self: &std::sync::Arc<Self>,
        mut on: impl FnMut(&WatchReport) + Send + 'static,
    ) {
        let mem = self.clone();
        let spawned = std::thread::Builder::new()
            .name("memdir-watch".into())
            .spawn(move || {
                let watched = mem.watch(&WatchOptions::default(), &mut |report| {
                    match &report {
                        WatchReport::Indexed { problems, .. }
                        | WatchReport::CommitRefused { problems } => {
                            for p in problems {
                                tracing::warn!("{p}");
                            }
                        }
                        WatchReport::Failed { message } => {
                            tracing::warn!("watching for hand edits: {message}")
                        }
                        WatchReport::Ready
                        | WatchReport::Committed { .. }
                        | WatchReport::Stopped { .. } => {}
                    }
                    on(&report);
                    ControlFlow::Continue(())
                });
                if let Err(e) = watched {
                    tracing::warn!("not watching for hand edits (a restart sees them): {e}");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("not watching for hand edits (a restart sees them): {e}");
        }
    }
}

fn failed(e: &Error) -> WatchReport {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    WatchReport::Failed { message }
}
