//! How a memory becomes index documents, and how stored documents read back as a [`Hit`] or
//! a [`Summary`].

use tantivy::schema::{Field, Value};
use tantivy::{DateTime, TantivyDocument};

use super::schema::{KIND_MEMORY, KIND_PASSAGE};
use super::{Hit, Index, Summary};
use crate::memory::{Memory, Revision, Timestamp};
use crate::parse::Passage;
use crate::policy::{Facts, held_passages_of};

/// One memory prepared for indexing.
pub struct IndexedMemory<'a> {
    /// The memory.
    pub memory: &'a Memory,
    /// Its passages.
    pub passages: Vec<Passage>,
    /// In an index of versions: the version's key and the span of history it is valid in
    /// (`from..to` in first-parent positions; `u64::MAX` while it is HEAD's).
    pub valid: Option<Validity>,
}

/// The span of history one version of a memory is valid in (see [`Filter::at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    /// Names the version, so that it can be replaced when it stops being valid.
    pub key: String,
    /// The first commit (first-parent position) holding this version.
    pub from: u64,
    /// The first commit that no longer holds it; `u64::MAX` while HEAD holds it.
    pub to: u64,
}

impl Summary {
    /// Returns what the held-out policy looks at, of this memory.
    pub fn facts(&self) -> Facts {
        Facts {
            kind: self.kind.clone(),
            quarantined: self.quarantined,
            pinned: self.pinned,
            expires: self.expires,
            created: self.created,
        }
    }
}

impl Index {
    pub(super) fn documents(&self, m: &IndexedMemory<'_>) -> Vec<TantivyDocument> {
        let f = &self.fields;
        let front = &m.memory.front;
        // Only passage documents carry the searchable text fields, so a text query never
        // matches a memory document and needs no `kind` filter (which would double its cost).
        let base = |searchable: bool, quarantined: bool| {
            let mut d = TantivyDocument::default();
            d.add_text(f.id, front.id.as_str());
            d.add_u64(f.key, id_key(front.id.as_str()));
            d.add_text(f.path, &m.memory.path);
            if searchable {
                d.add_text(f.title, &front.title);
                d.add_text(f.tags, front.tags.join(" "));
            } else {
                d.add_text(f.label, &front.title);
            }
            for tag in &front.tags {
                d.add_text(f.tag, tag);
            }
            d.add_text(f.mtype, &front.kind);
            if let Some(scope) = &front.scope {
                d.add_text(f.scope, scope);
            }
            if let Some(t) = front.created {
                d.add_date(f.created, DateTime::from_timestamp_secs(t.unix()));
            }
            if let Some(t) = front.updated {
                d.add_date(f.updated, DateTime::from_timestamp_secs(t.unix()));
            }
            d.add_u64(f.pinned, front.pinned as u64);
            d.add_text(f.revision, &m.memory.revision.0);
            d.add_u64(f.quarantined, quarantined as u64);
            if let Some(t) = front.expires {
                d.add_date(f.expires, DateTime::from_timestamp_secs(t.unix()));
            }
            d.add_u64(f.has_expires, front.expires.is_some() as u64);
            if let Some(v) = &m.valid {
                d.add_text(f.version, &v.key);
                d.add_u64(f.valid_from, v.from);
                d.add_u64(f.valid_to, v.to);
            }
            if !searchable {
                let supersedes = m.memory.supersedes();
                for id in &supersedes {
                    d.add_text(f.supersedes, id);
                }
                d.add_u64(f.has_supersedes, !supersedes.is_empty() as u64);
                d.add_u64(f.stamped, m.memory.is_stamped() as u64);
                d.add_u64(f.derived, !m.memory.derived_from().is_empty() as u64);
            }
            d
        };
        let mut docs = Vec::with_capacity(m.passages.len() + 1);
        let mut meta = base(false, m.memory.is_quarantined());
        meta.add_text(f.kind, KIND_MEMORY);
        docs.push(meta);
        let header_only = [Passage {
            text: String::new(),
            heading: None,
            line_start: 1,
            line_end: m.memory.body_line.saturating_sub(1).max(1),
        }];
        let passages = if m.passages.is_empty() {
            &header_only[..]
        } else {
            &m.passages[..]
        };
        // A quarantine holds back the passages that hold what the guard flagged (see
        // `held_passages_of`); their text is not lent to their neighbours either.
        let held = held_passages_of(m.memory, passages, self.policy.hold());
        for (i, p) in passages.iter().enumerate() {
            let mut d = base(true, held[i]);
            d.add_text(f.kind, KIND_PASSAGE);
            d.add_text(f.body, &p.text);
            for near in [i.checked_sub(2), i.checked_sub(1), Some(i + 1), Some(i + 2)]
                .into_iter()
                .flatten()
            {
                if let Some(n) = passages.get(near).filter(|_| !held[near]) {
                    d.add_text(f.context, &n.text);
                }
            }
            if let Some(h) = &p.heading {
                d.add_text(f.heading, h);
            }
            d.add_u64(f.line_start, p.line_start as u64);
            d.add_u64(f.line_end, p.line_end as u64);
            docs.push(d);
        }
        docs
    }

    pub(super) fn hit(&self, doc: &TantivyDocument, id: String, score: f32) -> Hit {
        let f = &self.fields;
        let heading = first_str(doc, f.heading);
        let passage = first_str(doc, f.body);
        let line_start = first_u64(doc, f.line_start) as usize;
        Hit {
            id,
            path: first_str(doc, f.path),
            title: first_str(doc, f.title),
            score,
            snippet: super::snippet(&passage),
            passage,
            heading: (!heading.is_empty()).then_some(heading),
            line_start,
            line: line_start,
            line_end: first_u64(doc, f.line_end) as usize,
            revision: Revision(first_str(doc, f.revision)),
            kind: first_str(doc, f.mtype),
            tags: all_str(doc, f.tag),
            scope: Some(first_str(doc, f.scope)).filter(|s| !s.is_empty()),
            updated: first_date(doc, f.updated).or_else(|| first_date(doc, f.created)),
            held_out: Vec::new(),
            status: None,
        }
    }

    /// Returns what the held-out policy looks at, of the memory a stored document (memory or
    /// passage) belongs to.
    pub(super) fn facts(&self, doc: &TantivyDocument) -> Facts {
        let f = &self.fields;
        Facts {
            kind: first_str(doc, f.mtype),
            quarantined: first_u64(doc, f.quarantined) == 1,
            pinned: first_u64(doc, f.pinned) == 1,
            expires: first_time(doc, f.expires),
            created: first_time(doc, f.created),
        }
    }

    pub(super) fn summary(&self, doc: &TantivyDocument) -> Summary {
        let f = &self.fields;
        Summary {
            id: first_str(doc, f.id),
            path: first_str(doc, f.path),
            title: first_str(doc, f.label),
            kind: first_str(doc, f.mtype),
            tags: all_str(doc, f.tag),
            scope: Some(first_str(doc, f.scope)).filter(|s| !s.is_empty()),
            updated: first_date(doc, f.updated),
            pinned: first_u64(doc, f.pinned) == 1,
            revision: Revision(first_str(doc, f.revision)),
            quarantined: first_u64(doc, f.quarantined) == 1,
            expires: first_time(doc, f.expires),
            created: first_time(doc, f.created),
        }
    }
}

/// Returns the grouping key of a memory id: a stable 64-bit hash (FNV-1a).
pub(super) fn id_key(id: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = fnv::FnvHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

pub(super) fn first_date(doc: &TantivyDocument, field: Field) -> Option<Timestamp> {
    let secs = doc.get_first(field)?.as_datetime()?.into_timestamp_secs();
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .map(Timestamp)
}

pub(super) fn first_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

pub(super) fn all_str(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

pub(super) fn first_time(doc: &TantivyDocument, field: Field) -> Option<Timestamp> {
    doc.get_first(field)
        .and_then(|v| v.as_datetime())
        .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.into_timestamp_secs()).ok())
        .map(Timestamp)
}

pub(super) fn first_u64(doc: &TantivyDocument, field: Field) -> u64 {
    doc.get_first(field)
        .and_then(|v| v.as_u64())
        .unwrap_or_default()
}
