//! Keeping the index caught up with the files: after commits (memdir's own, plain git's, a
//! pull or a reset) and after hand edits in the working tree, re-reading only what changed.

use std::collections::{BTreeMap, BTreeSet};

use super::{Memdir, Refresh, is_memory_path};
use crate::index::{IndexState, IndexedMemory};
use crate::lock::WriteLock;
use crate::parse;
use crate::store::Store;
use crate::{Error, Result};

impl Memdir {
    /// Brings the index up to date with HEAD and with uncommitted hand edits, re-reading only
    /// the files that changed since the index was last updated.
    pub fn refresh(&self) -> Result<Refresh> {
        self.catch_up(true, None, None)
    }

    /// Catches the index up. With `scan`, also looks for hand edits in the working tree (a
    /// `git status`); without, trusts the recorded hand-edit set. `committed` lists paths the
    /// caller just committed: they are no longer hand edits.
    ///
    /// Finding out what changed needs no lock. Changing the index does: a caller that holds
    /// the write lock passes it in; otherwise the lock is taken only when there is work, and
    /// the work is computed again under it (another process may have done it meanwhile).
    pub(super) fn catch_up(
        &self,
        scan: bool,
        committed: Option<&[String]>,
        lock: Option<&WriteLock>,
    ) -> Result<Refresh> {
        let stored = self.index.state();
        let head = self.store().head()?;
        let (paths, dirty_now, rebuild) = {
            let store = self.store();
            let changed = match &stored {
                None => None,
                Some(s) if s.head == head => Some(Vec::new()),
                Some(s) => store.changed_since(s.head.as_deref())?,
            };
            let old_dirty = stored.as_ref().map(|s| s.dirty.clone()).unwrap_or_default();
            let dirty_paths: Vec<String> = if scan {
                store
                    .dirty_paths()?
                    .into_iter()
                    .filter(|p| is_memory_path(p))
                    .collect()
            } else {
                let done: BTreeSet<&String> = committed.unwrap_or_default().iter().collect();
                old_dirty
                    .keys()
                    .filter(|p| !done.contains(p))
                    .cloned()
                    .collect()
            };
            drop(store);
            let mut dirty_now = BTreeMap::new();
            for p in &dirty_paths {
                let rev = self.read(p)?.map(|b| Store::revision_of(&b).0);
                dirty_now.insert(p.clone(), rev);
            }
            match changed {
                None => (Vec::new(), dirty_now, true),
                Some(changed) => {
                    let mut paths: BTreeSet<String> =
                        changed.into_iter().filter(|p| is_memory_path(p)).collect();
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
                    (paths.into_iter().collect::<Vec<_>>(), dirty_now, false)
                }
            }
        };
        let new_state = IndexState {
            version: stored.as_ref().map_or(0, |s| s.version),
            head,
            dirty: dirty_now,
        };
        if !rebuild && paths.is_empty() && stored.as_ref() == Some(&new_state) {
            *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(new_state);
            return Ok(Refresh::default());
        }
        let Some(_held) = lock else {
            let lock = self.lock()?;
            self.index.reload()?;
            return self.catch_up(scan, committed, Some(&lock));
        };
        if rebuild {
            return self.rebuild(new_state, &mut |_, _| {});
        }
        self.index_paths(&paths, false, new_state, &mut |_, _| {})
    }

    /// Rebuilds the index from every file in the working tree. `progress` is called with
    /// `(done, total)` as files are read.
    pub fn reindex(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<Refresh> {
        let _lock = self.lock()?;
        let head = self.store().head()?;
        let dirty = self
            .store()
            .dirty_paths()?
            .into_iter()
            .filter(|p| is_memory_path(p))
            .map(|p| {
                let rev = self.read(&p)?.map(|b| Store::revision_of(&b).0);
                Ok((p, rev))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        self.rebuild(
            IndexState {
                version: 0,
                head,
                dirty,
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
        state: IndexState,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<Refresh> {
        let mut memories = Vec::with_capacity(paths.len());
        let mut problems = Vec::new();
        for (i, p) in paths.iter().enumerate() {
            if let Some(bytes) = self.read(p)? {
                match self.parse_file(p, &bytes) {
                    Ok(m) => memories.push(m),
                    Err(problem) => problems.push(problem),
                }
            }
            if i % 256 == 0 || i + 1 == paths.len() {
                progress(i + 1, paths.len());
            }
        }
        let docs: Vec<IndexedMemory<'_>> = memories
            .iter()
            .map(|m| IndexedMemory {
                memory: m,
                passages: parse::passages(&m.body, m.body_line),
            })
            .collect();
        let removed: &[String] = if clear { &[] } else { paths };
        self.index.apply(clear, removed, &docs, &state)?;
        for p in &problems {
            tracing::debug!("cannot index {p}");
        }
        self.problems
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend(problems.iter().cloned());
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        Ok(Refresh {
            reindexed: paths.len(),
            rebuilt: clear,
            problems,
        })
    }

    /// Returns every memory file in the working tree (not following symlinks, skipping hidden
    /// folders), sorted.
    pub(super) fn memory_files(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let dir = if rel.is_empty() {
                self.root.clone()
            } else {
                self.root.join(&rel)
            };
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let path = if rel.is_empty() {
                    name
                } else {
                    format!("{rel}/{name}")
                };
                let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
                if ft.is_dir() {
                    stack.push(path);
                } else if (ft.is_file() || ft.is_symlink()) && is_memory_path(&path) {
                    out.push(path);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}
