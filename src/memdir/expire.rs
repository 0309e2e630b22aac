//! Memories that are held out of search and context without being deleted: expired ones
//! (past `expires`, or their type's default lifetime in `[memory.ttl]`), superseded ones
//! (a newer memory lists them under `supersedes:`) and quarantined ones (see `guarded.rs`).
//! Expiry is judged at query time against the clock the caller passes, so a memory drops out
//! the moment it expires; `gc` removes expired files in one commit, recoverable from history.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Memdir, Provenance, Written};
use crate::index::{Filter, HeldOut, Summary};
use crate::memory::{Memory, QuarantineNote, Timestamp};
use crate::policy::Facts;
use crate::store::{CommitMessage, FileWrite};
use crate::{MemoryId, Result};

/// Why a memory is (or is not) in search results, as `memdir why` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Why {
    /// The memory.
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its title.
    pub title: String,
    /// Every reason it is held out of search and context (empty: it is searched).
    pub held_out: Vec<HeldOut>,
    /// When it expires (its own `expires`, or `created` plus its type's lifetime).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// The memories it replaces.
    pub supersedes: Vec<String>,
    /// The memories that replace it.
    pub superseded_by: Vec<String>,
    /// Why the guard holds it back, if it does.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quarantine: Vec<QuarantineNote>,
    /// Who wrote it.
    #[serde(skip_serializing_if = "crate::memory::Source::is_empty")]
    pub source: crate::memory::Source,
}

/// A memory read from its file now, with why search and context leave it out (if they do):
/// what GET memory, `memory_get` and a memory's page show.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct MemoryView {
    /// The memory.
    #[serde(flatten)]
    pub memory: Memory,
    /// Why search and context leave it out (empty: they do not).
    pub held_out: Vec<HeldOut>,
}

impl Memdir {
    /// Reads memory `id` from its file now, with why it is held out at `now` (see
    /// [`Memdir::held_out`]).
    pub fn view(&self, id: &str, now: Timestamp) -> Result<MemoryView> {
        let memory = self.get(id)?;
        let held_out = self.held_out(&memory, now)?;
        Ok(MemoryView { memory, held_out })
    }

    /// Returns why `memory` is held out of search and context at `now`, if it is: what
    /// `Memdir::search` and `Memdir::list` leave out by default (the rule is
    /// [`crate::policy`]'s). For code that reads memories another way (such as building a
    /// context).
    pub fn held_out(&self, memory: &Memory, now: Timestamp) -> Result<Vec<HeldOut>> {
        let superseders: Vec<Facts> = self
            .index
            .superseders(memory.front.id.as_str())?
            .iter()
            .map(Summary::facts)
            .collect();
        Ok(self
            .config
            .policy()
            .held_out(&Facts::of(memory), &superseders, now))
    }

    /// Returns every memory held out at `now`, with why: what the pages mark wherever they
    /// name a memory (three index queries, whatever the repository's size).
    pub fn held_out_all(&self, now: Timestamp) -> Result<BTreeMap<String, Vec<HeldOut>>> {
        let mut held: BTreeMap<String, Vec<HeldOut>> = BTreeMap::new();
        for reason in HeldOut::ALL {
            let filter = Filter {
                only: Some(reason),
                now: Some(now),
                ..Filter::default()
            };
            for s in self.list(&filter)? {
                held.entry(s.id).or_default().push(reason);
            }
        }
        Ok(held)
    }

    /// Returns true if `memory` is held out of search and context at `now` (see
    /// [`Memdir::held_out`]).
    pub fn is_held_out(&self, memory: &Memory, now: Timestamp) -> Result<bool> {
        Ok(!self.held_out(memory, now)?.is_empty())
    }

    /// Explains a memory's standing: held out or not and why, what it supersedes and what
    /// supersedes it, when it expires, and the guard's reasons.
    pub fn why(&self, id: &str, now: Timestamp) -> Result<Why> {
        let memory = self.get(id)?;
        let held_out = self.held_out(&memory, now)?;
        Ok(Why {
            id: memory.front.id.to_string(),
            path: memory.path.clone(),
            title: memory.front.title.clone(),
            held_out,
            expires: self.config.policy().expires_at(&Facts::of(&memory)),
            supersedes: memory.supersedes(),
            superseded_by: self
                .index
                .superseders(memory.front.id.as_str())?
                .into_iter()
                .map(|s| s.id)
                .collect(),
            quarantine: memory.quarantine(),
            source: memory.front.source.clone(),
        })
    }

    /// Lists the memories expired at `now`, sorted by path.
    pub fn expired(&self, now: Timestamp) -> Result<Vec<Summary>> {
        self.list(&Filter {
            only: Some(HeldOut::Expired),
            include_quarantined: true,
            include_superseded: true,
            now: Some(now),
            ..Filter::default()
        })
    }

    /// Removes every memory expired at `now` in one commit (`Memdir-Op: expire`, one
    /// `Memdir-Id` each); they stay in git history. Returns what was removed.
    pub fn gc(&self, now: Timestamp, prov: &Provenance) -> Result<Vec<Written>> {
        let lock = self.lock()?;
        self.catch_up(true, None, Some(&lock))?;
        let expired = self.expired(now)?;
        if expired.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<MemoryId> = expired
            .iter()
            .filter_map(|s| MemoryId::parse(&s.id).ok())
            .collect();
        let id_refs: Vec<&MemoryId> = ids.iter().collect();
        let writes: Vec<FileWrite> = expired
            .iter()
            .map(|s| FileWrite {
                path: s.path.clone(),
                content: None,
            })
            .collect();
        let message = CommitMessage {
            subject: format!("expire: {} memories", expired.len()),
            body: Some(
                expired
                    .iter()
                    .map(|s| format!("- {} ({})", s.title, s.path))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            trailers: prov.trailers("expire", &id_refs),
        };
        let commit = self
            .store()
            .commit(&writes, &message, prov.author.as_ref())?;
        let paths: Vec<String> = writes.into_iter().map(|w| w.path).collect();
        self.catch_up(false, Some(&paths), Some(&lock))?;
        Ok(expired
            .into_iter()
            .map(|s| Written {
                id: s.id,
                path: s.path,
                revision: None,
                commit: commit.as_ref().map(|c| c.0.clone()),
                ..Written::default()
            })
            .collect())
    }
}
