//! Summaries pinned to their sources: a memory's `derived_from:` list records the memories
//! (at the revision read) and sessions it came from. A source that changed, was superseded
//! or was removed since makes the derived memory *drifted*: what it says was checked against
//! something that no longer says it. `memdir drift` lists them with what changed, field by
//! field; the context marks them; `memdir why` follows the chain down to the sessions.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::memory::SourceRef;
//! use memdir::{Memdir, NewMemory, Provenance, Timestamp, Update};
//! let mem = Memdir::init(dir.path())?;
//! let prov = Provenance::agent("doc");
//! let fact = mem.remember(NewMemory::new("Deploys go out on Tuesdays."), &prov)?;
//! let summary = NewMemory::new("The team ships weekly, on Tuesdays.")
//!     .kind("summary")
//!     .derived_from(SourceRef::parse(&fact.id)?);
//! let summary = mem.remember(summary, &prov)?;
//! assert!(mem.drift(Timestamp::now())?.is_empty());
//!
//! mem.update(&fact.id, Update { body: Some("Deploys go out on Thursdays.".into()), ..Update::default() }, &prov)?;
//! let drifted = mem.drift(Timestamp::now())?;
//! assert_eq!(drifted[0].id, summary.id);
//! assert_eq!(drifted[0].sources[0].fields[0].field, "body");
//! # Ok(()) }
//! ```

use std::collections::BTreeSet;

use serde::Serialize;

use super::Memdir;
use super::history::{FieldChange, field_changes};
use crate::index::{Filter, HeldOut};
use crate::memory::{Memory, SourceRef, Timestamp};
use crate::{Error, Result};

/// How one source of a derived memory stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SourceState {
    /// As it was when read (or, recorded without a revision, still there).
    Current,
    /// Its file changed since the recorded revision.
    Changed,
    /// A newer memory replaces it.
    Superseded,
    /// It is gone: the memory was removed, or the session turn no longer exists.
    Removed,
}

impl SourceState {
    /// Returns the name used in text and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceState::Current => "current",
            SourceState::Changed => "changed",
            SourceState::Superseded => "superseded",
            SourceState::Removed => "removed",
        }
    }
}

/// One source of a derived memory and how it stands now.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct SourceStanding {
    /// The entry as `derived_from:` records it (`id@revision`, `session:ID#tN`).
    pub source: String,
    /// How it stands.
    pub state: SourceState,
    /// The memory's revision now, when it still exists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now: Option<String>,
    /// The memories that replace it, when superseded.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub superseded_by: Vec<String>,
    /// What changed since the recorded revision, field by field (as `memdir diff` shows it);
    /// empty when that revision is not in git.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldChange>,
}

/// A derived memory whose sources changed since it was written.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Drifted {
    /// The derived memory.
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its title.
    pub title: String,
    /// Its revision.
    pub revision: String,
    /// Its sources that are no longer current (at least one).
    pub sources: Vec<SourceStanding>,
}

/// One step of a memory's derivation, as `memdir why` shows it: a source, how it stands, who
/// wrote the version that was read, and what that version was itself derived from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Derivation {
    /// The entry as `derived_from:` records it.
    pub source: String,
    /// How it stands now.
    pub state: SourceState,
    /// The session that wrote the version read (for a session entry, the session itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The agent that wrote the version read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// What the version read was derived from, in turn.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub from: Vec<Derivation>,
}

/// How deep `why` follows a chain of derivations.
const MAX_DEPTH: usize = 8;

impl Memdir {
    /// Returns every searchable memory with a `derived_from:` source that is no longer
    /// current at `now` (changed, superseded or removed), sorted by path.
    pub fn drift(&self, now: Timestamp) -> Result<Vec<Drifted>> {
        let mut drifted = Vec::new();
        for summary in self.list(&Filter {
            now: Some(now),
            ..Filter::default()
        })? {
            let memory = match self.get(&summary.id) {
                Ok(m) => m,
                Err(Error::NotFound { .. }) => continue, // removed since the list was read
                Err(e) => return Err(e),
            };
            let sources: Vec<SourceStanding> = self
                .sources_of(&memory, now)?
                .into_iter()
                .filter(|s| s.state != SourceState::Current)
                .collect();
            if !sources.is_empty() {
                drifted.push(Drifted {
                    id: memory.front.id.to_string(),
                    path: memory.path.clone(),
                    title: memory.front.title.clone(),
                    revision: memory.revision.0.clone(),
                    sources,
                });
            }
        }
        Ok(drifted)
    }

    /// Returns how each source of `memory` stands at `now`, in `derived_from:` order.
    pub fn sources_of(&self, memory: &Memory, now: Timestamp) -> Result<Vec<SourceStanding>> {
        memory
            .derived_from()
            .iter()
            .map(|source| self.standing(source, now))
            .collect()
    }

    /// Returns the entries of `memory`'s sources that are no longer current at `now`: what
    /// the context marks a drifted memory with. Empty when it records no source.
    pub(crate) fn drifted_sources(&self, memory: &Memory, now: Timestamp) -> Result<Vec<String>> {
        Ok(self
            .sources_of(memory, now)?
            .into_iter()
            .filter(|s| s.state != SourceState::Current)
            .map(|s| s.source)
            .collect())
    }

    /// Returns those of `ids` whose memory records sources (`derived_from:`): for the
    /// others [`Memdir::drifted_sources`] would find none, so a context skips reading their
    /// files.
    pub(crate) fn recording_sources<'a>(&self, ids: &[&'a str]) -> Result<BTreeSet<&'a str>> {
        Ok(self.index.recording_sources(ids)?)
    }

    /// Returns how `source` stands at `now`.
    fn standing(&self, source: &SourceRef, now: Timestamp) -> Result<SourceStanding> {
        let mut standing = SourceStanding {
            source: source.to_string(),
            state: SourceState::Current,
            now: None,
            superseded_by: Vec::new(),
            fields: Vec::new(),
        };
        match source {
            SourceRef::Session { id, turn } => {
                // A session outside `sessions/` (an imported transcript's) cannot be checked:
                // it counts as current. One that is here must still hold the turn.
                match self.session(id) {
                    Ok(s) if turn.as_ref().is_some_and(|t| !s.has_turn(t)) => {
                        standing.state = SourceState::Removed;
                    }
                    Ok(_) | Err(Error::NotFound { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            SourceRef::Memory { id, revision } => {
                let current = match self.get(id.as_str()) {
                    Ok(m) => m,
                    Err(Error::NotFound { .. }) => {
                        standing.state = SourceState::Removed;
                        return Ok(standing);
                    }
                    Err(e) => return Err(e),
                };
                standing.now = Some(current.revision.short().to_owned());
                if self.held_out(&current, now)?.contains(&HeldOut::Superseded) {
                    standing.state = SourceState::Superseded;
                    standing.superseded_by = self
                        .index
                        .superseders(id.as_str())?
                        .into_iter()
                        .map(|s| s.id)
                        .collect();
                } else if let Some(rev) = revision
                    && !current.revision.matches(rev)
                {
                    standing.state = SourceState::Changed;
                    if let Some(old) = self.version(&current.path, rev)? {
                        standing.fields = field_changes(&old, &current);
                    }
                }
            }
        }
        Ok(standing)
    }

    /// Returns the version of a memory git holds under revision `rev` (a prefix), read as if
    /// at `path`; `None` when git holds none or it does not parse.
    fn version(&self, path: &str, rev: &str) -> Result<Option<Memory>> {
        let Some(bytes) = self.store().blob_by_prefix(rev)? else {
            return Ok(None);
        };
        let revision = crate::store::Store::revision_of(&bytes);
        Ok(crate::parse::parse_memory(path, &bytes, revision).ok())
    }

    /// Returns what memory `id` was derived from, and what those were derived from, down to
    /// the sessions (at most eight steps deep; a cycle is followed once): what `memdir why`
    /// shows. Each memory source is read at the recorded revision when git holds it.
    pub fn derivation(&self, id: &str, now: Timestamp) -> Result<Vec<Derivation>> {
        let memory = self.get(id)?;
        let mut seen = BTreeSet::from([memory.front.id.to_string()]);
        self.derivation_of(&memory, now, 0, &mut seen)
    }

    fn derivation_of(
        &self,
        memory: &Memory,
        now: Timestamp,
        depth: usize,
        seen: &mut BTreeSet<String>,
    ) -> Result<Vec<Derivation>> {
        let mut steps = Vec::new();
        for source in memory.derived_from() {
            let standing = self.standing(&source, now)?;
            let mut step = Derivation {
                source: standing.source,
                state: standing.state,
                session: None,
                agent: None,
                from: Vec::new(),
            };
            match &source {
                SourceRef::Session { id, .. } => step.session = Some(id.clone()),
                SourceRef::Memory { id, revision } => {
                    let read = match (self.get(id.as_str()), revision) {
                        (Ok(now_m), Some(rev)) if !now_m.revision.matches(rev) => {
                            self.version(&now_m.path, rev)?.or(Some(now_m))
                        }
                        (Ok(now_m), _) => Some(now_m),
                        (Err(Error::NotFound { .. }), Some(rev)) => {
                            self.version(&format!("{id}.md"), rev)?
                        }
                        (Err(Error::NotFound { .. }), None) => None,
                        (Err(e), _) => return Err(e),
                    };
                    if let Some(read) = read {
                        step.session = read.front.source.session.clone();
                        step.agent = read.front.source.agent.clone();
                        if depth + 1 < MAX_DEPTH && seen.insert(id.to_string()) {
                            step.from = self.derivation_of(&read, now, depth + 1, seen)?;
                        }
                    }
                }
            }
            steps.push(step);
        }
        Ok(steps)
    }
}
