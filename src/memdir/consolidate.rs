//! `memdir consolidate`: groups of near-duplicate memories (the rule is
//! [`crate::similar`]'s), each replaced by one memory that keeps every fact of the group.
//!
//! A group joins searchable memories of one scope that are near-duplicates of each other,
//! directly or through a chain; pinned memories are a person's choice and stay as they are,
//! and quarantined ones never join (search leaves them out), so consolidation cannot launder
//! a held-back text into an accepted one. For each group the proposal is the mechanical
//! merge ([`crate::consolidate::merge`]), or a model's text when one is asked and its text
//! keeps every fact ([`crate::consolidate::missing_facts`]); a proposal that drops one is
//! refused, reported, and the mechanical merge stands instead. Applying writes each group's
//! memory as one commit (`Memdir-Op: consolidate`) through the write guard, with
//! `derived_from:` naming every original at the revision read and `supersedes:` naming them
//! all: they leave search and context and stay in the repository and its history.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::{Memdir, NewMemory, Provenance, SearchQuery};
//! let mem = Memdir::init(dir.path())?;
//! let prov = Provenance::agent("doc");
//! mem.remember(NewMemory::new("Alice prefers dark mode in every editor and terminal."), &prov)?;
//! let w = mem.remember(NewMemory::new("Alice prefers dark mode in every editor and terminal she uses."), &prov)?;
//! assert_eq!(w.similar.len(), 1); // 9 of 11 words shared: a near-duplicate
//! let done = mem.consolidate(true, &prov)?;
//! assert_eq!(done.groups[0].text, "Alice prefers dark mode in every editor and terminal she uses.");
//! let hits = mem.search(&SearchQuery::new("dark mode"))?;
//! assert_eq!(hits.len(), 1); // the originals are superseded
//! assert_eq!(hits[0].id, done.groups[0].written.as_ref().unwrap().id);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Memdir, NewMemory, Provenance, Written};
use crate::consolidate::{merge, missing_facts};
use crate::index::Filter;
use crate::llm::{ChatRequest, LlmClient};
use crate::memory::{Memory, SourceRef};
use crate::{Error, Result};

/// What `consolidate` found, and with `apply`, what it wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Consolidation {
    /// Each group of near-duplicates, with its proposal.
    pub groups: Vec<ConsolidationGroup>,
    /// Whether the proposals were written.
    pub applied: bool,
}

/// One group of near-duplicates and the memory proposed to replace it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConsolidationGroup {
    /// The originals, as `id@revision`, oldest first.
    pub originals: Vec<String>,
    /// The proposed memory's text.
    pub text: String,
    /// Its type: the one most of the originals have (the oldest's, on a tie).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its tags: every tag of the originals.
    pub tags: Vec<String>,
    /// Its scope: the originals'.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `mechanical`, or the model (`provider:model`) whose text was taken.
    pub method: String,
    /// A model's proposal that dropped a fact of the originals, refused.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refused: Option<RefusedProposal>,
    /// The write, once applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub written: Option<Written>,
    /// Why the group was not written though asked to be (an original changed meanwhile).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// A model's proposal that consolidation refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RefusedProposal {
    /// The model, as `provider:model`.
    pub model: String,
    /// What it proposed.
    pub text: String,
    /// The sentences of the originals whose fact the proposal lacks.
    pub missing: Vec<String>,
}

/// What the model is asked to do with a group.
const SYSTEM_PROMPT: &str = r#"You merge near-duplicate notes of an assistant's long-term memory into one note. Keep every fact of every note: each name, number, date, place, condition and exception, in plain sentences. Drop only repetition. Add nothing that the notes do not say. Answer with JSON only: {"text": "the merged note"}"#;

impl Memdir {
    /// Finds the groups of near-duplicates and proposes, for each, the mechanical merge; with
    /// `apply`, writes each as one commit (see the module documentation).
    pub fn consolidate(&self, apply: bool, prov: &Provenance) -> Result<Consolidation> {
        let groups = self.near_duplicate_groups()?;
        let planned = groups
            .iter()
            .map(|g| mechanical(g))
            .collect::<Vec<ConsolidationGroup>>();
        self.finish(groups, planned, apply, prov)
    }

    /// Like [`Memdir::consolidate`], with `llm` asked for each group's text; a text that
    /// drops a fact of the originals is refused and the mechanical merge stands.
    pub async fn consolidate_with(
        &self,
        llm: &LlmClient,
        apply: bool,
        prov: &Provenance,
    ) -> Result<Consolidation> {
        let groups = self.near_duplicate_groups()?;
        let model = format!("{}:{}", llm.provider().as_str(), llm.model());
        let mut planned = Vec::with_capacity(groups.len());
        for group in &groups {
            let mut plan = mechanical(group);
            let listed: String = group
                .iter()
                .enumerate()
                .map(|(i, m)| format!("[{}] {}\n", i + 1, m.body.trim()))
                .collect();
            let answer = llm
                .complete(&ChatRequest::new(
                    SYSTEM_PROMPT,
                    format!("The notes:\n\n{listed}"),
                ))
                .await?;
            let text = proposed_text(&answer.text);
            let bodies: Vec<&str> = group.iter().map(|m| m.body.as_str()).collect();
            let missing = match &text {
                Some(t) => missing_facts(&bodies, t),
                None => vec!["(the answer holds no {\"text\": ...} JSON)".to_owned()],
            };
            if missing.is_empty() {
                plan.text = text.unwrap_or_default();
                plan.method = model.clone();
            } else {
                plan.refused = Some(RefusedProposal {
                    model: model.clone(),
                    text: text.unwrap_or_else(|| answer.text.trim().to_owned()),
                    missing,
                });
            }
            planned.push(plan);
        }
        self.finish(groups, planned, apply, prov)
    }

    /// Returns the groups of near-duplicates among the searchable, unpinned memories, each
    /// of one scope, oldest first within a group; groups in order of their oldest member.
    pub fn near_duplicate_groups(&self) -> Result<Vec<Vec<Memory>>> {
        let mut memories: BTreeMap<String, Memory> = BTreeMap::new();
        for summary in self.list(&Filter::default())? {
            match self.get(&summary.id) {
                Ok(m) if !m.front.pinned => {
                    memories.insert(summary.id, m);
                }
                Ok(_) | Err(Error::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let mut parent: BTreeMap<String, String> =
            memories.keys().map(|id| (id.clone(), id.clone())).collect();
        fn root(parent: &BTreeMap<String, String>, id: &str) -> String {
            let mut at = id.to_owned();
            while parent[&at] != at {
                at = parent[&at].clone();
            }
            at
        }
        for (id, memory) in &memories {
            for similar in self.similar_to(&memory.body, Some(id))? {
                let Some(other) = memories.get(&similar.id) else {
                    continue; // pinned, or not searchable
                };
                if other.front.scope != memory.front.scope {
                    continue;
                }
                let (a, b) = (root(&parent, id), root(&parent, &similar.id));
                if a != b {
                    let (low, high) = if a < b { (a, b) } else { (b, a) };
                    parent.insert(high, low);
                }
            }
        }
        let mut groups: BTreeMap<String, Vec<Memory>> = BTreeMap::new();
        for (id, memory) in memories {
            groups.entry(root(&parent, &id)).or_default().push(memory);
        }
        let mut groups: Vec<Vec<Memory>> = groups.into_values().filter(|g| g.len() > 1).collect();
        let age = |m: &Memory| (m.front.created, m.front.id.clone());
        for g in &mut groups {
            g.sort_by_key(age);
        }
        groups.sort_by_key(|g| age(&g[0]));
        Ok(groups)
    }

    /// Writes the planned groups when `apply` says so: each as one commit, under the write
    /// lock, if every original is still at the revision planned.
    fn finish(
        &self,
        groups: Vec<Vec<Memory>>,
        mut planned: Vec<ConsolidationGroup>,
        apply: bool,
        prov: &Provenance,
    ) -> Result<Consolidation> {
        if apply && !planned.is_empty() {
            let lock = self.lock()?;
            self.catch_up(false, None, Some(&lock))?;
            for (group, plan) in groups.iter().zip(&mut planned) {
                let changed: Vec<String> = group
                    .iter()
                    .filter(|m| {
                        !self
                            .get(m.front.id.as_str())
                            .is_ok_and(|now| now.revision == m.revision)
                    })
                    .map(|m| m.front.id.to_string())
                    .collect();
                if !changed.is_empty() {
                    plan.skipped = Some(format!(
                        "changed since it was read: {}; run consolidate again",
                        changed.join(", ")
                    ));
                    continue;
                }
                let new = NewMemory {
                    text: plan.text.clone(),
                    kind: Some(plan.kind.clone()),
                    tags: plan.tags.clone(),
                    scope: plan.scope.clone(),
                    supersedes: group.iter().map(|m| m.front.id.clone()).collect(),
                    derived_from: group
                        .iter()
                        .map(|m| SourceRef::Memory {
                            id: m.front.id.clone(),
                            revision: Some(m.revision.short().to_owned()),
                        })
                        .collect(),
                    ..NewMemory::default()
                };
                let mut written = self.write_new(&lock, vec![new], prov, "consolidate")?;
                plan.written = written.pop();
            }
        }
        Ok(Consolidation {
            groups: planned,
            applied: apply,
        })
    }
}

/// Returns the mechanical proposal for a group: every distinct sentence, the majority type,
/// every tag, the scope.
fn mechanical(group: &[Memory]) -> ConsolidationGroup {
    let bodies: Vec<&str> = group.iter().map(|m| m.body.as_str()).collect();
    let mut counts: Vec<(&str, usize)> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for m in group {
        match counts.iter_mut().find(|(k, _)| *k == m.front.kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((&m.front.kind, 1)),
        }
        for t in &m.front.tags {
            if !tags.contains(t) {
                tags.push(t.clone());
            }
        }
    }
    // The first of the most common: `max_by_key` keeps the last of equals, so reversed.
    let kind = counts
        .iter()
        .rev()
        .max_by_key(|(_, n)| *n)
        .map_or("note", |(k, _)| k)
        .to_owned();
    ConsolidationGroup {
        originals: group
            .iter()
            .map(|m| format!("{}@{}", m.front.id, m.revision.short()))
            .collect(),
        text: merge(&bodies),
        kind,
        tags,
        scope: group[0].front.scope.clone(),
        method: "mechanical".into(),
        refused: None,
        written: None,
        skipped: None,
    }
}

/// Returns the `text` of a model's `{"text": ...}` answer, if it holds one that is not blank.
fn proposed_text(answer: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(crate::extract::json_part(answer)).ok()?;
    value["text"]
        .as_str()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
}
