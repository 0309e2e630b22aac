//! Event routing and debouncing, with no OS watcher and no clock of its own: the caller feeds
//! changed paths with the time they were seen and asks what is due at a given time. So every
//! rule here is tested with made-up instants, without sleeping.
//!
//! Two timers run over the same events:
//! - *refresh*: a short delay ([`Timing::settle`]) after the last relevant change, so one
//!   editor save (a temp file written, renamed over the target, a backup made) becomes one
//!   refresh of the index;
//! - *commit*: a longer quiet period ([`Timing::quiet`]) with no change at all before hand
//!   edits are committed, so a person typing and saving often makes one commit.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// How long to wait before acting on changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// Since the last change, before the index is refreshed.
    pub settle: Duration,
    /// Since the last change, before hand edits are committed (when committing).
    pub quiet: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            settle: Duration::from_millis(50),
            quiet: Duration::from_secs(2),
        }
    }
}

/// What a changed path means for memdir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// A memory file: refresh, and name it in the report.
    Memory(String),
    /// Anything else a person may change (a folder, `MEMORY.md`, `memory.toml`, a file of
    /// another kind): refresh and commit, naming nothing. A folder moved in brings files that
    /// no event names; the refresh's scan finds them.
    Other,
    /// Git's data, memdir's index, editors' swap, backup and temp files: nothing to do.
    Ignore,
}

/// Classifies a path relative to the repository root (`/`-separated); `is_memory` is the
/// facade's rule for memory files.
pub fn route(rel: &str, is_memory: impl Fn(&str) -> bool) -> Route {
    // Hidden entries: `.git/` (commits arrive as index catch-up, not as file events), swap
    // files (`.x.md.swp`), editors' temp files (`.#x.md`), memdir's own temp files.
    if rel.split('/').any(|c| c.starts_with('.')) {
        return Route::Ignore;
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    // Backups and scratch files: `x.md~`, `#x.md#`, `x.md.tmp`, `x.md.swp`, vim's `4913`.
    let scratch = [".tmp", ".swp", ".swo", ".swx", ".bak"];
    if name.ends_with('~')
        || name.starts_with('#')
        || name == "4913"
        || scratch.iter().any(|s| name.ends_with(s))
    {
        return Route::Ignore;
    }
    if is_memory(rel) {
        Route::Memory(rel.to_owned())
    } else {
        Route::Other
    }
}

/// What is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Refresh the index; only these memory files changed since the last refresh (sorted).
    Refresh(Vec<String>),
    /// Refresh the index after a scan of the whole tree: besides these memory files (sorted),
    /// something else changed (a folder moved in, the OS dropped events) that may bring files
    /// no event named.
    Rescan(Vec<String>),
    /// Commit hand edits: nothing has changed for the quiet period.
    Commit,
}

/// Collects routed changes and says when to refresh and when to commit.
#[derive(Debug, Clone)]
pub struct Debouncer {
    timing: Timing,
    commit: bool,
    /// Memory files changed since the last refresh.
    changed: BTreeSet<String>,
    /// Something other than a memory file changed since the last refresh.
    other: bool,
    /// A change waits for a refresh.
    refresh_due: bool,
    /// A change waits for a commit.
    commit_due: bool,
    last_change: Option<Instant>,
}

impl Debouncer {
    /// Returns a debouncer; with `commit`, it also schedules commits.
    pub fn new(timing: Timing, commit: bool) -> Debouncer {
        Debouncer {
            timing,
            commit,
            changed: BTreeSet::new(),
            other: false,
            refresh_due: false,
            commit_due: false,
            last_change: None,
        }
    }

    /// Records a routed change seen at `now`.
    pub fn push(&mut self, route: Route, now: Instant) {
        match route {
            Route::Ignore => return,
            Route::Memory(path) => {
                self.changed.insert(path);
            }
            Route::Other => self.other = true,
        }
        self.refresh_due = true;
        self.commit_due = self.commit;
        self.last_change = Some(now);
    }

    /// Returns the next instant at which [`Debouncer::poll`] may have something to do.
    pub fn deadline(&self) -> Option<Instant> {
        let last = self.last_change?;
        if self.refresh_due {
            Some(last + self.timing.settle)
        } else if self.commit_due {
            Some(last + self.timing.quiet)
        } else {
            None
        }
    }

    /// Returns what is due at `now`, in order: a refresh always comes before the commit that
    /// the same changes lead to.
    pub fn poll(&mut self, now: Instant) -> Vec<Action> {
        let Some(last) = self.last_change else {
            return Vec::new();
        };
        let mut due = Vec::new();
        if now >= last + self.timing.settle {
            due.extend(self.refresh_now());
        }
        if !self.refresh_due && self.commit_due && now >= last + self.timing.quiet {
            self.commit_due = false;
            due.push(Action::Commit);
        }
        due
    }

    /// Returns everything the changes recorded so far wait for, now, without waiting for them
    /// to settle or for the quiet period: what a watcher does before it stops on request.
    pub fn finish(&mut self) -> Vec<Action> {
        let mut due: Vec<Action> = self.refresh_now().into_iter().collect();
        if std::mem::take(&mut self.commit_due) {
            due.push(Action::Commit);
        }
        self.last_change = None;
        due
    }

    /// Returns the refresh that changes recorded so far wait for, now, without waiting for
    /// them to settle (`None` when none waits): what a process asking the watcher to vouch
    /// for the tree needs (`vouch.rs`). The commit's quiet period is not cut short.
    pub fn refresh_now(&mut self) -> Option<Action> {
        if !self.refresh_due {
            return None;
        }
        self.refresh_due = false;
        let paths = std::mem::take(&mut self.changed).into_iter().collect();
        Some(if std::mem::take(&mut self.other) {
            Action::Rescan(paths)
        } else {
            Action::Refresh(paths)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Memory files for these tests: `.md` files inside a folder.
    fn memory(p: &str) -> bool {
        p.ends_with(".md") && p.contains('/')
    }

    fn r(rel: &str) -> Route {
        route(rel, memory)
    }

    const MS: Duration = Duration::from_millis(1);

    fn timing() -> Timing {
        Timing {
            settle: 50 * MS,
            quiet: 1000 * MS,
        }
    }

    #[test]
    fn a_refresh_can_be_had_now_and_the_commit_still_waits() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), true);
        assert_eq!(d.refresh_now(), None);
        d.push(r("fact/a.md"), t0);
        assert_eq!(
            d.refresh_now(),
            Some(Action::Refresh(vec!["fact/a.md".into()]))
        );
        // Nothing left to refresh when it settles; the commit comes after the quiet period.
        assert_eq!(d.poll(t0 + 60 * MS), vec![]);
        assert_eq!(d.deadline(), Some(t0 + 1000 * MS));
        assert_eq!(d.poll(t0 + 1000 * MS), vec![Action::Commit]);
    }

    #[test]
    fn finishing_refreshes_and_commits_what_waits_at_once() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), true);
        assert_eq!(d.finish(), vec![]);
        d.push(r("fact/a.md"), t0);
        d.push(r("notes.txt"), t0);
        assert_eq!(
            d.finish(),
            vec![Action::Rescan(vec!["fact/a.md".into()]), Action::Commit]
        );
        assert_eq!(d.deadline(), None);
        assert_eq!(d.finish(), vec![]);
        // Without commits, only the refresh.
        let mut d = Debouncer::new(timing(), false);
        d.push(r("fact/b.md"), t0);
        assert_eq!(d.finish(), vec![Action::Refresh(vec!["fact/b.md".into()])]);
    }

    #[test]
    fn editor_droppings_and_git_are_ignored() {
        for p in [
            ".git/index",
            ".git/memdir/index/meta.json",
            "fact/.x.md.swp",
            "fact/.x.md.swx",
            "fact/.#x.md",
            "fact/.memdir-tmp-abc123",
            "fact/x.md~",
            "fact/#x.md#",
            "fact/4913",
            "fact/x.md.tmp",
            ".hidden",
        ] {
            assert_eq!(r(p), Route::Ignore, "{p}");
        }
        assert_eq!(r("fact/x.md"), Route::Memory("fact/x.md".into()));
        for p in ["fact", "MEMORY.md", "memory.toml", "fact/notes.txt"] {
            assert_eq!(r(p), Route::Other, "{p}");
        }
    }

    #[test]
    fn a_burst_of_events_is_one_refresh_after_it_settles() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), false);
        assert_eq!(d.deadline(), None);
        // Write-then-rename: temp file, rename over the target, backup.
        d.push(r("fact/.x.md.tmp"), t0);
        d.push(r("fact/x.md"), t0 + MS);
        d.push(r("fact/x.md~"), t0 + 2 * MS);
        d.push(r("fact/x.md"), t0 + 10 * MS);
        assert_eq!(d.deadline(), Some(t0 + 60 * MS));
        assert_eq!(d.poll(t0 + 59 * MS), []);
        assert_eq!(
            d.poll(t0 + 60 * MS),
            [Action::Refresh(vec!["fact/x.md".into()])]
        );
        assert_eq!(d.poll(t0 + 5000 * MS), []);
        assert_eq!(d.deadline(), None);
    }

    #[test]
    fn ignored_events_change_nothing() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), true);
        d.push(r(".git/HEAD"), t0);
        d.push(r("fact/.x.md.swp"), t0);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.poll(t0 + 10_000 * MS), []);
    }

    #[test]
    fn delete_and_recreate_and_moves_name_every_path_once() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), false);
        d.push(r("fact/a.md"), t0); // removed
        d.push(r("fact/a.md"), t0 + MS); // created again
        d.push(r("fact/b.md"), t0 + 2 * MS); // moved from
        d.push(r("note/b.md"), t0 + 2 * MS); // moved to
        assert_eq!(
            d.clone().poll(t0 + 100 * MS),
            [Action::Refresh(vec![
                "fact/a.md".into(),
                "fact/b.md".into(),
                "note/b.md".into()
            ])]
        );
        // A folder moved in may bring files no event names: the whole tree is scanned.
        d.push(r("newtype"), t0 + 3 * MS);
        assert_eq!(
            d.poll(t0 + 100 * MS),
            [Action::Rescan(vec![
                "fact/a.md".into(),
                "fact/b.md".into(),
                "note/b.md".into()
            ])]
        );
    }

    #[test]
    fn commits_wait_for_a_quiet_period_after_the_last_change() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), true);
        d.push(r("fact/a.md"), t0);
        assert_eq!(
            d.poll(t0 + 50 * MS),
            [Action::Refresh(vec!["fact/a.md".into()])]
        );
        assert_eq!(d.deadline(), Some(t0 + 1000 * MS));
        // Another save before the quiet period ends: refresh again, and the commit waits.
        d.push(r("fact/a.md"), t0 + 900 * MS);
        assert_eq!(
            d.poll(t0 + 1000 * MS),
            [Action::Refresh(vec!["fact/a.md".into()])]
        );
        assert_eq!(d.poll(t0 + 1899 * MS), []);
        assert_eq!(d.poll(t0 + 1900 * MS), [Action::Commit]);
        assert_eq!(d.deadline(), None);
    }

    #[test]
    fn a_late_poll_refreshes_before_it_commits() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), true);
        d.push(r("fact/a.md"), t0);
        assert_eq!(
            d.poll(t0 + 10_000 * MS),
            [Action::Refresh(vec!["fact/a.md".into()]), Action::Commit]
        );
    }

    #[test]
    fn without_commit_no_commit_is_scheduled() {
        let t0 = Instant::now();
        let mut d = Debouncer::new(timing(), false);
        d.push(r("fact/a.md"), t0);
        assert_eq!(d.poll(t0 + 60 * MS).len(), 1);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.poll(t0 + 10_000 * MS), []);
    }
}
