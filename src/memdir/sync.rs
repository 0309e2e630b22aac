//! Keeping the index caught up with the files: after commits (memdir's own, plain git's, a
//! pull or a reset) and after hand edits in the working tree, re-reading only what changed.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::{Memdir, Refresh, is_memory_path};
use crate::index::{IndexState, IndexedMemory};
use crate::lock::WriteLock;
use crate::memory::{Memory, Revision};
use crate::parse;
use crate::store::{Author, CommitId, CommitMessage, FileWrite};
use crate::worktree::{self, Scan, StatCache};
use crate::{Error, Result};

/// How many commits back a rebuild looks for the last change to each file (see
/// [`Memdir::touch`]); files not changed since keep their own `updated:`.
const TOUCH_COMMITS: usize = 1000;

/// What [`Memdir::plan`] decided.
struct Plan {
    /// Paths to re-read.
    paths: Vec<String>,
    /// Whether the whole index must be rebuilt instead.
    rebuild: bool,
    /// The state the index will reflect afterwards.
    state: IndexState,
    /// Whether that state differs from the recorded one.
    state_changed: bool,
    /// The commit the index reflected before (`None` for none).
    from: Option<String>,
    /// Memory files changed by commits the index has not seen and memdir's caller did not
    /// just make (`arrivals.rs`).
    arrived: Vec<String>,
}

/// A stat scan of the working tree.
struct WorktreeScan {
    scan: Scan,
    /// There was no cache: every file is "changed", so ask git instead.
    full: bool,
    /// The cache differs from the previous one.
    changed: bool,
    /// No scan: a watcher vouched, and the index had moved on and was reloaded.
    reloaded: bool,
}

impl Memdir {
    /// Brings the index up to date with HEAD and with uncommitted hand edits, re-reading only
    /// the files that changed since the index was last updated.
    pub fn refresh(&self) -> Result<Refresh> {
        let done = self.catch_up(true, None, None)?;
        self.seen.mark_looked();
        Ok(done)
    }

    /// Catches the index up. With `scan`, also looks for hand edits in the working tree (a
    /// `stat` of every memory file against the cache of the last scan); without, trusts the
    /// recorded hand-edit set. `committed` lists paths the caller just committed: they are no
    /// longer hand edits, and when HEAD is that one commit on top of the indexed one, they are
    /// all that changed (no tree diff needed).
    ///
    /// Finding out what changed needs no lock. Changing the index does: a caller that holds
    /// the write lock passes it in; otherwise the lock is taken only when there is work, and
    /// the work is planned again under it (another process may have done it meanwhile).
    pub(super) fn catch_up(
        &self,
        scan: bool,
        committed: Option<&[String]>,
        lock: Option<&WriteLock>,
    ) -> Result<Refresh> {
        let worktree = if scan {
            Some(self.scan_worktree()?)
        } else {
            None
        };
        self.catch_up_from(worktree, committed, lock)
    }

    /// Like [`Memdir::refresh`], but looks for hand edits only in `paths` (relative to the
    /// root), at a cost proportional to them: what a file watcher saw change. The rest of the
    /// working tree keeps the state the last scan found.
    pub fn refresh_paths(&self, paths: &[String]) -> Result<Refresh> {
        let worktree = self.scan_some(paths)?;
        self.catch_up_from(Some(worktree), None, None)
    }

    /// [`Memdir::catch_up`] with the working tree already scanned (or not looked at).
    fn catch_up_from(
        &self,
        worktree: Option<WorktreeScan>,
        committed: Option<&[String]>,
        lock: Option<&WriteLock>,
    ) -> Result<Refresh> {
        let reloaded = worktree.as_ref().is_some_and(|w| w.reloaded);
        let mut plan = self.plan(worktree.as_ref(), committed)?;
        if !plan.rebuild && plan.paths.is_empty() && !plan.state_changed {
            self.keep_stats(worktree, lock)?;
            self.seen.record(plan.state);
            return Ok(Refresh {
                reloaded,
                ..Refresh::default()
            });
        }
        let mut taken = None;
        if lock.is_none() {
            taken = Some(self.lock()?);
            self.index.reload()?;
            plan = self.plan(worktree.as_ref(), committed)?;
        }
        let held = lock.or(taken.as_ref());
        if let Some(held) = held
            && !plan.rebuild
            && !plan.arrived.is_empty()
        {
            let dirty: BTreeSet<&String> = plan.state.dirty.keys().collect();
            if self.guard_arrivals(held, plan.from.as_deref(), &plan.arrived, &dirty)? {
                // The quarantine is a commit of memdir's own: plan again to include it.
                plan = self.plan(worktree.as_ref(), committed)?;
            }
        }
        let done = if plan.rebuild {
            self.rebuild(plan.state, &mut |_, _| {})?
        } else {
            self.index_paths(&plan.paths, false, plan.state, &mut |_, _| {})?
        };
        // Only now that the index holds what the scan found may the stat cache say it was
        // seen: saved earlier, a failure in between would hide those edits for good.
        self.keep_stats(worktree, held)?;
        if let Some(paths) = committed {
            self.record_stats(paths)?;
        }
        Ok(done)
    }

    /// Writes and commits `writes` (see [`Memdir::commit_files`]) and brings the index up to
    /// the new commit. The index's share of the work (its new segment) is done by tantivy's
    /// thread while git commits on this one, and committed once git's commit exists, so the
    /// index can lag git but never holds what git does not. When what the index must re-read
    /// turns out to be more than the written files, the staged write is dropped and the index
    /// catches up as usual. The caller holds `lock` and has caught the index up under it.
    pub(super) fn commit_indexed(
        &self,
        lock: &WriteLock,
        writes: &[FileWrite],
        message: &CommitMessage,
        author: Option<&Author>,
    ) -> Result<Option<CommitId>> {
        self.check_protected(
            &format!("commit `{}`", message.subject),
            writes
                .iter()
                .map(|w| (w.path.as_str(), w.content.as_deref())),
        )?;
        let paths: Vec<String> = writes.iter().map(|w| w.path.clone()).collect();
        // What the files will hold, parsed now (deleted files have nothing to index); other
        // files, and a file memdir cannot index, are left to the usual catch-up, which
        // reports it.
        let memories: Option<Vec<Memory>> = if paths.iter().all(|p| is_memory_path(p)) {
            writes
                .iter()
                .filter_map(|w| Some(self.parse_file(&w.path, w.content.as_deref()?).ok()))
                .collect()
        } else {
            None
        };
        let staged = memories
            .as_ref()
            .map(|m| self.index.stage(&paths, &indexed(m)))
            .transpose()?;
        let commit_and_plan = || {
            let commit = self.commit_files(lock, writes, message, author)?;
            let plan = self.plan(None, Some(&paths))?;
            let planned: BTreeSet<&String> = plan.paths.iter().collect();
            let fits = !plan.rebuild && planned == paths.iter().collect();
            Ok::<_, Error>((commit, fits.then_some(plan.state)))
        };
        let (commit, index_state) = match staged {
            Some(staged) => staged.commit_after(commit_and_plan)?,
            None => (commit_and_plan()?.0, None),
        };
        if let Some(mut state) = index_state {
            // What was just written parsed: none of it is invalid any more.
            for p in &paths {
                state.invalid.remove(p);
            }
            crate::fault::point("indexed");
            self.seen.record(state);
            self.record_stats(&paths)?;
        } else {
            self.catch_up(false, Some(&paths), Some(lock))?;
        }
        Ok(commit)
    }

    /// Works out what the index must re-read to reflect HEAD and the working tree.
    fn plan(&self, worktree: Option<&WorktreeScan>, committed: Option<&[String]>) -> Result<Plan> {
        // An index written under another `[guard] hold` has other documents: rebuild it.
        let stored = self.index.state().filter(|s| s.hold == self.index.hold());
        let store = self.store();
        let head = store.head()?;
        let mut arrived = false;
        let changed = match &stored {
            None => None,
            Some(s) if s.head == head => Some(Vec::new()),
            Some(s) => match (committed, &head) {
                (Some(paths), Some(h)) if store.parent_of(h)? == s.head => Some(paths.to_vec()),
                _ => {
                    arrived = true;
                    store.changed_since(s.head.as_deref())?
                }
            },
        };
        let changed: Option<Vec<String>> =
            changed.map(|c| c.into_iter().filter(|p| is_memory_path(p)).collect());
        let arrived = match &changed {
            Some(c) if arrived => c.clone(),
            _ => Vec::new(),
        };
        let old_dirty = stored.as_ref().map(|s| s.dirty.clone()).unwrap_or_default();
        let head_moved = stored.as_ref().is_none_or(|s| s.head != head);
        // Revisions read while deciding what is dirty, so they are not read twice.
        let mut hashed: BTreeMap<String, Option<String>> = BTreeMap::new();
        let dirty_paths: BTreeSet<String> = match worktree {
            None => {
                let done: BTreeSet<&String> = committed.unwrap_or_default().iter().collect();
                old_dirty
                    .keys()
                    .filter(|p| !done.contains(p))
                    .cloned()
                    .collect()
            }
            // No stat cache to trust, or a rebuild ahead: ask git for the full picture.
            Some(w) if w.full || changed.is_none() => store
                .dirty_paths()?
                .into_iter()
                .filter(|p| is_memory_path(p))
                .collect(),
            Some(w) => {
                // Files whose stat is unchanged keep their state, unless HEAD moved under them.
                let mut check: BTreeSet<String> = w.scan.changed.iter().cloned().collect();
                check.extend(w.scan.deleted.iter().cloned());
                if head_moved {
                    check.extend(old_dirty.keys().cloned());
                    check.extend(changed.iter().flatten().cloned());
                }
                let mut dirty: BTreeSet<String> = old_dirty
                    .keys()
                    .filter(|p| !check.contains(*p))
                    .cloned()
                    .collect();
                let check: Vec<String> = check.into_iter().collect();
                let at_head = store.head_revisions(&check)?;
                // Usually a handful; after a bulk write, every racy file: hash on every core.
                let now: Vec<Option<Revision>> = check
                    .par_iter()
                    .map(|p| self.revision(p))
                    .collect::<Result<_>>()?;
                for ((p, head_rev), now) in check.into_iter().zip(at_head).zip(now) {
                    let differs = now != head_rev;
                    if differs && !(head_rev.is_none() && store.is_ignored(&p)) {
                        hashed.insert(p.clone(), now.map(|r| r.0));
                        dirty.insert(p);
                    }
                }
                dirty
            }
        };
        drop(store);
        let mut dirty_now = BTreeMap::new();
        for p in dirty_paths {
            let rev = match hashed.remove(&p) {
                Some(rev) => rev,
                None => self.revision(&p)?.map(|r| r.0),
            };
            dirty_now.insert(p, rev);
        }
        let (paths, rebuild) = match changed {
            None => (Vec::new(), true),
            Some(changed) => {
                let mut paths: BTreeSet<String> = changed.into_iter().collect();
                for (p, rev) in &old_dirty {
                    if dirty_now.get(p) != Some(rev) {
                        paths.insert(p.clone());
                    }
                }
                for (p, rev) in &dirty_now {
                    if old_dirty.get(p) != Some(rev) {
                        paths.insert(p.clone());
                    }
                }
                (paths.into_iter().collect::<Vec<_>>(), false)
            }
        };
        let state = IndexState {
            version: stored.as_ref().map_or(0, |s| s.version),
            head,
            dirty: dirty_now,
            invalid: stored
                .as_ref()
                .map(|s| s.invalid.clone())
                .unwrap_or_default(),
            hold: self.index.hold(),
        };
        Ok(Plan {
            state_changed: stored.as_ref() != Some(&state),
            from: stored.and_then(|s| s.head),
            arrived,
            paths,
            rebuild,
            state,
        })
    }

    /// Returns the stat cache, loaded from disk on first use (still `None` when there is no
    /// usable saved cache).
    fn stats_loaded(&self) -> std::sync::MutexGuard<'_, Option<StatCache>> {
        let mut stats = self.seen.stats();
        if stats.is_none() {
            *stats = StatCache::load(&self.memdir_dir());
        }
        stats
    }

    /// Stats the working tree against the cache of the last scan (loading it on first use),
    /// unless a running watcher vouches that every change before now is indexed
    /// ([`crate::watch::vouch`]): then nothing is new since the index's own record.
    fn scan_worktree(&self) -> Result<WorktreeScan> {
        if !self.seen.watching() && crate::watch::vouch::ask(&self.memdir_dir()) {
            tracing::debug!("the watcher vouched for the working tree: no scan");
            // The watcher may have indexed hand edits since this handle's reader opened.
            let reloaded = self.index.reload_moved()?;
            return Ok(WorktreeScan {
                scan: Scan::default(),
                full: false,
                changed: false,
                reloaded,
            });
        }
        // The cache's lock is not held while rayon stats the tree (see `Memdir`'s fields).
        let first = self.seen.stats().is_none();
        let (loaded, tree) = if first {
            // First use: the saved cache is read while the tree is stat'ed.
            rayon::join(
                || StatCache::load(&self.memdir_dir()),
                || worktree::stat_tree(&self.root, &is_memory_path),
            )
        } else {
            (None, worktree::stat_tree(&self.root, &is_memory_path))
        };
        let tree = tree.map_err(|e| Error::io(&self.root, e))?;
        let mut stats = self.seen.stats();
        if stats.is_none() {
            *stats = loaded;
        }
        let full = stats.is_none();
        let empty = StatCache::default();
        let scan = worktree::compare(stats.as_ref().unwrap_or(&empty), tree);
        // A first scan is always worth saving, even of an empty tree: from then on writers
        // journal what they write, and no one needs `git status` again.
        let changed = full || scan.cache_changed();
        Ok(WorktreeScan {
            scan,
            full,
            changed,
            reloaded: false,
        })
    }

    /// Stats only `paths` against the cache; a full scan when there is no cache yet (then
    /// nothing is known about the other files).
    fn scan_some(&self, paths: &[String]) -> Result<WorktreeScan> {
        let stats = self.stats_loaded();
        let Some(cache) = stats.as_ref() else {
            drop(stats);
            return self.scan_worktree();
        };
        let paths: Vec<String> = paths
            .iter()
            .filter(|p| is_memory_path(p))
            .cloned()
            .collect();
        let scan = worktree::scan_paths(&self.root, cache, &paths)
            .map_err(|e| Error::io(&self.root, e))?;
        let changed = scan.cache_changed();
        Ok(WorktreeScan {
            scan,
            full: false,
            changed,
            reloaded: false,
        })
    }

    /// Applies what `worktree` found to the stat cache, and persists it when the write lock
    /// is held or free (a reader never waits for a writer just to save a cache): the few
    /// changes are journaled, a first scan saves the whole cache.
    fn keep_stats(&self, worktree: Option<WorktreeScan>, lock: Option<&WriteLock>) -> Result<()> {
        let Some(w) = worktree else { return Ok(()) };
        if !w.changed {
            return Ok(());
        }
        let mut stats = self.seen.stats();
        let cache = stats.get_or_insert_with(StatCache::default);
        cache.apply_all(w.scan.updates.iter().cloned());
        let taken = match lock {
            Some(_) => None,
            None => self.try_lock()?,
        };
        if lock.is_some() || taken.is_some() {
            let dir = self.memdir_dir();
            let saved = if w.full {
                cache.save(&dir)
            } else {
                cache.journal(&dir, &w.scan.updates)
            };
            if let Err(e) = saved {
                tracing::debug!("cannot save the stat cache: {e}");
            }
        }
        Ok(())
    }

    /// Records the `stat` of files memdir just wrote, in memory and in the journal every
    /// process reads, so that a later deletion by hand is noticed. The write lock is held.
    fn record_stats(&self, paths: &[String]) -> Result<()> {
        let mut stats = self.stats_loaded();
        if let Some(cache) = stats.as_mut() {
            cache
                .record(&self.root, &self.memdir_dir(), paths)
                .map_err(|e| Error::io(self.memdir_dir(), e))?;
        }
        Ok(())
    }

    /// Rebuilds the index from every file in the working tree. `progress` is called with
    /// `(done, total)` as files are read.
    pub fn reindex(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<Refresh> {
        let lock = self.lock()?;
        self.reindex_locked(&lock, progress)
    }

    /// [`Memdir::reindex`] for a caller that holds the write lock.
    pub(super) fn reindex_locked(
        &self,
        _lock: &WriteLock,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Refresh> {
        let head = self.store().head()?;
        let dirty = self
            .store()
            .dirty_paths()?
            .into_iter()
            .filter(|p| is_memory_path(p))
            .map(|p| {
                let rev = self.revision(&p)?.map(|r| r.0);
                Ok((p, rev))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        self.rebuild(
            IndexState {
                version: 0,
                head,
                dirty,
                invalid: BTreeMap::new(),
                hold: self.index.hold(),
            },
            progress,
        )
    }

    pub(super) fn rebuild(
        &self,
        state: IndexState,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Refresh> {
        let files = self.memory_files()?;
        self.index_paths(&files, true, state, progress)
    }

    /// Reads and parses `paths` and replaces what the index holds for them (with `clear`,
    /// the whole index), recording `state`. Files that cannot be parsed are left out of the
    /// index and reported, as warnings and in the returned [`Refresh`].
    fn index_paths(
        &self,
        paths: &[String],
        clear: bool,
        mut state: IndexState,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Refresh> {
        let mut memories = Vec::with_capacity(paths.len());
        let mut problems = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            match self.read(p)? {
                Some(bytes) => match self.parse_file(p, &bytes) {
                    Ok(m) => memories.push(m),
                    Err(problem) => problems.push(problem),
                },
                None => problems.extend(self.unreadable(p)),
            }
            if i % 256 == 0 || i + 1 == paths.len() {
                progress(i + 1, paths.len());
            }
        }
        // A copy of a memory file carries the original's id: it is indexed under an id of
        // its own, and when the original is not among `paths`, the index must hold it too.
        let more = self.settle_ids(&mut memories, (!clear).then_some(paths))?;
        if !more.is_empty() {
            let mut all: Vec<String> = paths.to_vec();
            all.extend(more);
            all.sort();
            all.dedup();
            return self.index_paths(&all, clear, state, progress);
        }
        self.touch(&mut memories, &state, clear)?;
        let docs = indexed(&memories);
        let removed: &[String] = if clear { &[] } else { paths };
        if clear {
            state.invalid.clear();
        }
        for p in paths {
            state.invalid.remove(p);
        }
        for p in &problems {
            state
                .invalid
                .entry(p.path.clone())
                .or_insert_with(|| (p.line, p.message.clone()));
        }
        self.index.apply(clear, removed, &docs, &state)?;
        crate::fault::point("indexed");
        for p in &problems {
            tracing::debug!("cannot index {p}");
        }
        self.seen.add_problems(&problems);
        self.seen.record(state);
        Ok(Refresh {
            reindexed: paths.len(),
            rebuilt: clear,
            problems,
            reloaded: false,
        })
    }

    /// Makes each memory's `updated` (as the index holds it, for recency and displays) no
    /// older than the last hand edit of its file, so that an edit made by hand counts whether
    /// or not its author bumped `updated:`: an uncommitted file's modification time, else the
    /// last commit that touched it when that commit is not one of memdir's own writes (which
    /// keep `updated:` themselves): a plain git commit or `memdir commit`. A catch-up looks at
    /// the commit it catches up to; a rebuild at the last [`TOUCH_COMMITS`] commits.
    fn touch(&self, memories: &mut [Memory], state: &IndexState, clear: bool) -> Result<()> {
        if memories.is_empty() {
            return Ok(());
        }
        let committed: Vec<String> = memories
            .iter()
            .filter(|m| !state.dirty.contains_key(&m.path))
            .map(|m| m.path.clone())
            .collect();
        let by_hand = |info: &crate::store::CommitInfo| {
            matches!(info.trailer("Memdir-Op"), None | Some("hand-edit"))
        };
        let mut times: BTreeMap<String, crate::memory::Timestamp> = BTreeMap::new();
        if !committed.is_empty()
            && let Some(head) = &state.head
        {
            let store = self.store();
            if clear {
                for (path, info) in store.last_touched(&committed, TOUCH_COMMITS)? {
                    if by_hand(&info) {
                        times.insert(path, info.committed);
                    }
                }
            } else {
                let info = store.commit_info(head)?;
                if by_hand(&info) {
                    times.extend(committed.into_iter().map(|p| (p, info.committed)));
                }
            }
        }
        for m in memories.iter_mut() {
            let time = times.get(&m.path).copied().or_else(|| {
                if !state.dirty.contains_key(&m.path) {
                    return None;
                }
                let modified = std::fs::symlink_metadata(self.root.join(&m.path))
                    .and_then(|meta| meta.modified())
                    .ok()?;
                let t = time::OffsetDateTime::from(modified);
                Some(crate::memory::Timestamp(
                    t.replace_nanosecond(0).unwrap_or(t),
                ))
            });
            if let Some(t) = time
                && m.front.updated.is_none_or(|u| u < t)
            {
                m.front.updated = Some(t);
            }
        }
        Ok(())
    }

    /// Returns every memory file in the working tree (not following symlinks, skipping hidden
    /// folders), sorted.
    pub(super) fn memory_files(&self) -> Result<Vec<String>> {
        worktree::files(&self.root, is_memory_path).map_err(|e| Error::io(&self.root, e))
    }
}

/// The documents the index holds for `memories`: each one and its passages.
fn indexed(memories: &[Memory]) -> Vec<IndexedMemory<'_>> {
    memories
        .iter()
        .map(|m| IndexedMemory {
            memory: m,
            passages: parse::passages(&m.body, m.body_line),
            valid: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::{Memdir, NewMemory, Provenance};

    /// The index's own view, read from disk: what it reflects and what it holds.
    fn on_disk(mem: &Memdir) -> (Option<crate::index::IndexState>, (usize, usize)) {
        mem.index.reload().unwrap();
        (mem.index.state(), mem.index.counts().unwrap())
    }

    #[test]
    fn a_write_whose_git_commit_fails_leaves_the_index_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Memdir::init(dir.path()).unwrap();
        let prov = Provenance::default();
        mem.remember(NewMemory::new("Port 8443 on staging."), &prov)
            .unwrap();
        let before = on_disk(&mem);
        assert_eq!(before.1, (1, 1));
        // Another git holds git's index: the commit fails after the index write was staged.
        std::fs::write(dir.path().join(".git/index.lock"), b"").unwrap();
        let failed = mem.remember(NewMemory::new("Port 9443 on production."), &prov);
        assert!(failed.is_err(), "{failed:?}");
        assert_eq!(on_disk(&mem), before);
    }

    #[test]
    fn a_write_is_indexed_with_the_commit_that_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let mem = Memdir::init(dir.path()).unwrap();
        let prov = Provenance::default();
        let w = mem
            .remember(NewMemory::new("Port 8443 on staging."), &prov)
            .unwrap();
        let (state, counts) = on_disk(&mem);
        assert_eq!(counts, (1, 1));
        let state = state.unwrap();
        assert_eq!(state.head.as_deref(), w.commit.as_deref());
        assert!(state.dirty.is_empty(), "{state:?}");
    }
}
