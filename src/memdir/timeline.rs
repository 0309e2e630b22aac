//! Time travel: an index of every version of every memory, each with the span of history it
//! is valid in, so that `--at` is a filter on one index rather than a rebuild per query.
//!
//! History is read along HEAD's first-parent chain; a commit's *position* on it (the root
//! commit is 1) orders versions. A version of a memory is the content of one file at one path
//! from the commit that wrote it (`from`) to the commit that changed, moved or removed it (`to`,
//! `u64::MAX` while HEAD holds it), like Graphiti's valid_at / invalid_at but derived from git.
//! The index lives in `.git/memdir/versions/` beside `chain.bin`, which remembers the chain's
//! commits and the versions HEAD holds, so catching up costs only the commits made since.
//! Rewritten history (a reset, a purge) is noticed and rebuilt from scratch.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Memdir, is_memory_path};
use crate::index::{Index, IndexState, IndexedMemory, Validity};
use crate::lock::WriteLock;
use crate::memory::{Memory, Revision, Timestamp};
use crate::parse;
use crate::{Error, Result};

/// Versions written to the index per commit of the index: bounds memory in a rebuild.
const BATCH: usize = 20_000;

/// What one handle holds of the timeline: the versions index, opened by the first `--at`
/// read, and the chain it reflects as this handle last read it.
///
/// Invariants: `chain`, when set, is the chain saved beside `versions` at the time it was
/// read, and the versions index holds exactly its versions; a handle that finds HEAD moved
/// catches the index up (under the write lock) before setting it again. A purge empties
/// both (`drop_versions`). Lock order: the store's mutex is taken and released before
/// `chain`; `chain` is never held while waiting for the write lock.
#[derive(Default)]
pub(super) struct Timeline {
    /// The index of every version in history, opened on first use.
    versions: std::sync::OnceLock<Index>,
    /// The history the versions index reflects, as this handle last read it.
    chain: std::sync::Mutex<Option<Arc<Chain>>>,
}

impl Timeline {
    /// The chain as last read, if it ends at `head`.
    fn chain_at(&self, head: &Option<String>) -> Option<Arc<Chain>> {
        let chain = self.chain.lock().unwrap_or_else(|e| e.into_inner());
        chain.as_ref().filter(|c| &c.head() == head).cloned()
    }

    /// Records the chain just read (or, with `None`, forgets it).
    fn set_chain(&self, chain: Option<Arc<Chain>>) {
        *self.chain.lock().unwrap_or_else(|e| e.into_inner()) = chain;
    }
}

/// A point in history that `--at` names: a commit on HEAD's first-parent chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Point {
    /// The commit.
    pub commit: String,
    /// Its position on the chain (the root commit is 1).
    pub position: u64,
    /// When it was committed.
    pub committed: Timestamp,
}

/// A file version HEAD holds, as the chain remembers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Open {
    blob: String,
    from: u64,
}

/// What the versions index reflects: the chain's commits (sha, commit time) and the versions
/// open at its last commit, by path.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Chain {
    commits: Vec<(String, i64)>,
    open: BTreeMap<String, Open>,
}

/// One version of one memory as the versions index holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Version {
    /// Path of the file then.
    pub path: String,
    /// Content hash (git blob id).
    pub revision: Revision,
    /// The first commit holding it.
    pub from: Point,
    /// The first commit that no longer holds it; `None` while HEAD holds it.
    pub to: Option<Point>,
}

/// Reads `HEAD`, `HEAD~N`, `HEAD^` (and chains of them) as a number of first parents back
/// from HEAD; `None` for anything else, which git resolves.
fn first_parents_back(spec: &str) -> Option<usize> {
    let mut rest = spec.strip_prefix("HEAD")?;
    let mut back = 0usize;
    while !rest.is_empty() {
        let (op, tail) = rest.split_at(1);
        let digits = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let n = match (op, &tail[..digits]) {
            ("~", "") => 1,
            ("~", d) => d.parse().ok()?,
            ("^", "" | "1") => 1,
            _ => return None, // `^2` and the like name other parents
        };
        back = back.checked_add(n)?;
        rest = &tail[digits..];
    }
    Some(back)
}

fn key(from: u64, path: &str) -> String {
    format!("{from}:{path}")
}

impl Chain {
    /// The chain's last commit: what the versions index reflects.
    fn head(&self) -> Option<String> {
        self.commits.last().map(|(sha, _)| sha.clone())
    }

    fn point(&self, position: u64) -> Point {
        let (commit, time) = &self.commits[position as usize - 1];
        Point {
            commit: commit.clone(),
            position,
            committed: time::OffsetDateTime::from_unix_timestamp(*time)
                .map(Timestamp)
                .unwrap_or_else(|_| Timestamp::now()),
        }
    }
}

impl Memdir {
    fn versions_dir(&self) -> PathBuf {
        self.memdir_dir().join("versions")
    }

    /// Returns the versions index, opened on first use.
    fn versions_index(&self) -> Result<&Index> {
        let versions = &self.timeline.versions;
        if let Some(index) = versions.get() {
            return Ok(index);
        }
        let index = Index::open(&self.versions_dir(), self.config.search.boost.clone())?
            .with_policy(self.config.policy());
        let _ = versions.set(index);
        Ok(versions.get().expect("just set"))
    }

    fn load_chain(&self) -> Chain {
        std::fs::read(self.versions_dir().join("chain.bin"))
            .ok()
            .and_then(|b| postcard::from_bytes(&b).ok())
            .unwrap_or_default()
    }

    fn save_chain(&self, chain: &Chain) -> Result<()> {
        let path = self.versions_dir().join("chain.bin");
        let bytes = postcard::to_allocvec(chain).expect("chain serializes");
        crate::store::atomic_write(&path, &bytes)?;
        Ok(())
    }

    /// Brings the versions index up to HEAD and returns it with the chain it reflects. Cheap
    /// when HEAD has not moved since this handle last looked: a HEAD read.
    fn timeline(&self) -> Result<(&Index, Arc<Chain>)> {
        let index = self.versions_index()?;
        let head = self.store().head()?;
        if let Some(chain) = self.timeline.chain_at(&head) {
            return Ok((index, chain));
        }
        let chain = Arc::new(self.catch_up_versions(index, head)?);
        self.timeline.set_chain(Some(chain.clone()));
        Ok((index, chain))
    }

    /// Indexes the versions written by the commits made since the versions index last looked
    /// (all of them, when history was rewritten under it) and returns the chain up to HEAD.
    fn catch_up_versions(&self, index: &Index, head: Option<String>) -> Result<Chain> {
        index.reload()?;
        let chain = self.load_chain();
        if chain.head() == head && index.state().and_then(|s| s.head) == head {
            return Ok(chain);
        }
        let _lock = self.lock()?;
        index.reload()?;
        let mut chain = self.load_chain();
        let mut clear = index.state().and_then(|s| s.head) != chain.head();
        let (mut new, met) = self.store().first_parents_since(chain.head().as_deref())?;
        if clear || !met {
            // History was rewritten under the index (or the index is new): start again.
            chain = Chain::default();
            clear = true;
            new = self.store().first_parents_since(None)?.0;
        }
        let mut pending: BTreeMap<String, (Memory, u64, u64)> = BTreeMap::new();
        let mut remove: Vec<String> = Vec::new();
        for sha in new.iter().rev() {
            let info = self.store().commit_info(sha)?;
            let parent = chain.commits.last().map(|(c, _)| c.clone());
            chain.commits.push((sha.clone(), info.committed.unix()));
            let at = chain.commits.len() as u64;
            let changes = self.store().changes(parent.as_deref(), sha)?;
            for change in changes.into_iter().filter(|c| is_memory_path(&c.path)) {
                if change.old.is_some()
                    && let Some(open) = chain.open.remove(&change.path)
                {
                    let k = key(open.from, &change.path);
                    match pending.get_mut(&k) {
                        Some(v) => v.2 = at,
                        None => {
                            let bytes = self.store().blob(&open.blob)?;
                            if let Ok(m) =
                                parse::parse_memory(&change.path, &bytes, Revision(open.blob))
                            {
                                pending.insert(k.clone(), (m, open.from, at));
                            }
                            remove.push(k);
                        }
                    }
                }
                if let Some(blob) = change.new {
                    let bytes = self.store().blob(&blob)?;
                    // A file that is not a valid memory (committed with plain git) is no version.
                    if let Ok(m) = parse::parse_memory(&change.path, &bytes, Revision(blob.clone()))
                    {
                        pending.insert(key(at, &change.path), (m, at, u64::MAX));
                        chain.open.insert(change.path, Open { blob, from: at });
                    }
                }
            }
            if pending.len() >= BATCH || Some(sha) == new.first() {
                self.write_versions(index, clear, &remove, &pending, &chain)?;
                clear = false;
                pending.clear();
                remove.clear();
            }
        }
        if clear {
            // Nothing to add, but the old index must go (an empty repository, say).
            self.write_versions(index, true, &[], &pending, &chain)?;
        }
        Ok(chain)
    }

    fn write_versions(
        &self,
        index: &Index,
        clear: bool,
        remove: &[String],
        pending: &BTreeMap<String, (Memory, u64, u64)>,
        chain: &Chain,
    ) -> Result<()> {
        let docs = |open: bool| -> Vec<IndexedMemory<'_>> {
            pending
                .iter()
                .filter(|(_, (_, _, to))| (*to == u64::MAX) == open)
                .map(|(k, (m, from, to))| IndexedMemory {
                    memory: m,
                    passages: parse::passages(&m.body, m.body_line),
                    valid: Some(Validity {
                        key: k.clone(),
                        from: *from,
                        to: *to,
                    }),
                })
                .collect()
        };
        let state = IndexState {
            head: chain.head(),
            ..IndexState::default()
        };
        index.apply_versions(clear, remove, &docs(false), &docs(true), &state)?;
        self.save_chain(chain)
    }

    /// Empties the versions index (deleting every segment file that held a version) and its
    /// chain, for a purge: what they held of the old history must not outlive it. The next
    /// `--at` read rebuilds them from the new history. The caller holds the write lock.
    pub(super) fn drop_versions(&self, _lock: &WriteLock) -> Result<()> {
        if self.timeline.versions.get().is_none() && !self.versions_dir().exists() {
            return Ok(()); // never built
        }
        let index = self.versions_index()?;
        index.apply_versions(true, &[], &[], &[], &IndexState::default())?;
        index.vacuum()?;
        let chain = self.versions_dir().join("chain.bin");
        match std::fs::remove_file(&chain) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(Error::io(chain, e)),
            _ => {}
        }
        self.timeline.set_chain(None);
        Ok(())
    }

    /// Resolves what `--at` names: a commit (`HEAD~3`, an id or prefix), a snapshot or other
    /// tag, a branch, or a time (`YYYY-MM-DD`, midnight UTC, RFC 3339, or relative to now as
    /// [`crate::when::parse_time`] reads it: `yesterday`, `3 days ago`): the last commit made
    /// at or before it.
    pub fn point(&self, spec: &str) -> Result<Point> {
        let (_, chain) = self.timeline()?;
        self.point_in(&chain, spec)
    }

    fn point_in(&self, chain: &Chain, spec: &str) -> Result<Point> {
        // HEAD and full commit ids of the chain need no git lookup (reading a commit object
        // costs ~0.25 ms in a large repository of loose objects).
        if let Some(back) = first_parents_back(spec)
            && back < chain.commits.len()
        {
            return Ok(chain.point((chain.commits.len() - back) as u64));
        }
        if spec.len() == 40
            && let Some(i) = chain.commits.iter().rposition(|(c, _)| c == spec)
        {
            return Ok(chain.point(i as u64 + 1));
        }
        let resolved = self.store().resolve(spec)?;
        if let Some(sha) = resolved {
            return match chain.commits.iter().rposition(|(c, _)| *c == sha) {
                Some(i) => Ok(chain.point(i as u64 + 1)),
                None => Err(Error::invalid(format!(
                    "`{spec}` ({}) is not on the main line of history (HEAD's first parents): --at takes its commits, snapshots and dates",
                    &sha[..12]
                ))),
            };
        }
        let Some(when) = crate::when::parse_time(spec, Timestamp::now()) else {
            return Err(Error::invalid(format!(
                "`{spec}` names no commit, snapshot, branch or date: give a revision (HEAD~2, a commit id), a snapshot name (`memdir snapshots`), or {}",
                crate::when::TIME_FORMS
            )));
        };
        let at = chain
            .commits
            .iter()
            .rposition(|(_, t)| *t <= when.unix())
            .ok_or_else(|| {
                let first = chain.commits.first().map(|_| chain.point(1).committed);
                Error::invalid(match first {
                    Some(t) => {
                        format!("no commit at or before {when}: the first commit was made at {t}")
                    }
                    None => "the repository has no commits yet".to_owned(),
                })
            })?;
        Ok(chain.point(at as u64 + 1))
    }

    /// Returns every version of memory `id` in HEAD's history, oldest first (empty if the id
    /// never existed).
    pub fn versions(&self, id: &str) -> Result<Vec<Version>> {
        let (index, chain) = self.timeline()?;
        let found = index.versions_of(id)?;
        Ok(found
            .into_iter()
            .map(|(summary, from, to)| Version {
                path: summary.path,
                revision: summary.revision,
                from: chain.point(from),
                to: (to != u64::MAX).then(|| chain.point(to)),
            })
            .collect())
    }

    /// Returns the point `spec` names and a filter-ready position, for `--at` reads.
    pub(super) fn at(&self, spec: &str) -> Result<(&Index, Point)> {
        let (index, chain) = self.timeline()?;
        let point = self.point_in(&chain, spec)?;
        Ok((index, point))
    }
}

#[cfg(test)]
mod tests {
    use super::first_parents_back;

    #[test]
    fn head_relative_names_count_first_parents() {
        assert_eq!(first_parents_back("HEAD"), Some(0));
        assert_eq!(first_parents_back("HEAD~"), Some(1));
        assert_eq!(first_parents_back("HEAD~3"), Some(3));
        assert_eq!(first_parents_back("HEAD^^"), Some(2));
        assert_eq!(first_parents_back("HEAD~2^1~10"), Some(13));
        assert_eq!(first_parents_back("HEAD^2"), None);
        assert_eq!(first_parents_back("main~2"), None);
        assert_eq!(first_parents_back("HEAD@{1}"), None);
    }
}
