//! Reading the index: search, and the lists of memories (`list`, pinned, by id, versions).

use std::collections::{BTreeSet, HashMap, HashSet};

use tantivy::collector::{Count, DocSetCollector, TopDocs};
use tantivy::query::{AllQuery, BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, TantivyDocument, Term};

use super::document::{first_str, first_u64};
use super::query::Filter;
use super::schema::{KIND_MEMORY, KIND_PASSAGE};
use super::{HeldOut, Hit, Index, IndexError, Summary, valid_at};
use crate::memory::Timestamp;
use crate::policy::Rule;

/// What a search that asks for held-out memories needs to mark each hit with why it is
/// held out: the policy at the filter's time, and the ids superseded.
struct Marks<'a> {
    policy: &'a crate::policy::Policy,
    now: Timestamp,
    superseded: HashSet<String>,
}

impl Marks<'_> {
    /// Why the memory with these facts and this id is held out.
    fn of(&self, facts: &crate::policy::Facts, id: &str) -> Vec<HeldOut> {
        self.policy
            .held_out_by(facts, |_| self.superseded.contains(id), self.now)
    }
}

impl Index {
    /// Returns how to mark hits as held out, when `filter` lets held-out memories in (`None`
    /// otherwise: every hit is then one search uses).
    fn held_out_marks(
        &self,
        searcher: &tantivy::Searcher,
        filter: &Filter,
    ) -> Result<Option<Marks<'_>>, IndexError> {
        if filter.only.is_none() && !HeldOut::ALL.iter().any(|r| filter.includes(*r)) {
            return Ok(None);
        }
        let now = filter.now.unwrap_or_else(Timestamp::now);
        let superseded = match self.policy.rule(HeldOut::Superseded, now) {
            Rule::SupersededBy(by) => self.superseded_ids(searcher, &by, filter.at)?,
            Rule::Holds(_) => Vec::new(),
        };
        Ok(Some(Marks {
            policy: &self.policy,
            now,
            superseded: superseded.into_iter().collect(),
        }))
    }

    /// Returns the best-matching passages for `query`, at most `per_memory` of any one memory.
    pub fn search(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
        per_memory: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        let mut text_query = self.text_query(query);
        let searcher = self.reader.searcher();
        let held_out = self.held_out(&searcher, filter)?;
        let marks = self.held_out_marks(&searcher, filter)?;
        // `--at` wraps the text query itself, which keeps block-WAND (see `valid_at.rs`).
        if let Some(at) = filter.at {
            text_query = Box::new(valid_at::ValidAt {
                inner: text_query,
                at,
            });
        }
        let filter = &Filter {
            at: None,
            ..filter.clone()
        };
        let q: Box<dyn Query> = if !filter.restricts() && held_out.is_empty() {
            text_query
        } else {
            Box::new(self.filtered(None, Some(text_query), filter, held_out))
        };
        // Most memories have few passages, so twice the limit usually holds `limit` distinct
        // memories; a small top-k also lets block-WAND skip more. Ask again for more if not.
        let mut want = limit.saturating_mul(2).max(10);
        loop {
            let top = searcher
                .search(&q, &TopDocs::with_limit(want).order_by_score())
                .map_err(self.err("search"))?;
            let exhausted = top.len() < want;
            let mut columns = HashMap::new();
            let mut keyed = Vec::with_capacity(top.len());
            for (score, addr) in top {
                let (key, line) = match columns.entry(addr.segment_ord) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        let fast = searcher.segment_reader(addr.segment_ord).fast_fields();
                        let column = |name| fast.u64(name).map_err(self.err("read"));
                        e.insert((column("key")?, column("line_start")?))
                    }
                };
                let at = |c: &tantivy::columnar::Column<u64>| c.first(addr.doc_id).unwrap_or(0);
                keyed.push((score, at(key), at(line), addr));
            }
            // Equal scores come in index order, which a rebuild reshuffles (documents reach
            // segments through several indexing threads): order them by memory (its key),
            // then by line, so that every copy of a repository ranks alike.
            keyed.sort_by(|a, b| {
                b.0.total_cmp(&a.0)
                    .then(a.1.cmp(&b.1))
                    .then(a.2.cmp(&b.2))
                    .then(a.3.cmp(&b.3))
            });
            let mut seen: HashMap<u64, usize> = HashMap::new();
            let mut hits = Vec::new();
            for (score, key, _, addr) in &keyed {
                let taken = seen.entry(*key).or_default();
                if *taken < per_memory {
                    *taken += 1;
                    let doc = self.doc(&searcher, *addr)?;
                    let id = first_str(&doc, f.id);
                    let mut hit = self.hit(&doc, id, *score);
                    if let Some(marks) = &marks {
                        hit.held_out = marks.of(&self.facts(&doc), &hit.id);
                        hit.status = hit.held_out.first().copied();
                    }
                    hits.push(hit);
                    if hits.len() == limit {
                        return Ok(hits);
                    }
                }
            }
            if exhausted {
                return Ok(hits);
            }
            want *= 4;
        }
    }

    pub(super) fn doc(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Result<TantivyDocument, IndexError> {
        searcher.doc(addr).map_err(self.err("read"))
    }

    /// Returns the memories that list `id` under `supersedes`, sorted by path.
    pub fn superseders(&self, id: &str) -> Result<Vec<Summary>, IndexError> {
        let f = &self.fields;
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term(f.supersedes, id)),
        ]);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Returns the memories indexed under `id` (more than one means a duplicate id).
    pub fn find_id(&self, id: &str) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, self.term(self.fields.id, id)),
        ]);
        self.collect_summaries(&q)
    }

    /// Returns those of `ids` under which a memory is indexed that records sources
    /// (`derived_from:`), so that they may have drifted; one query for all of them.
    pub fn recording_sources<'a>(&self, ids: &[&'a str]) -> Result<BTreeSet<&'a str>, IndexError> {
        let mut recording = BTreeSet::new();
        if ids.is_empty() {
            return Ok(recording);
        }
        let any_id = ids
            .iter()
            .map(|id| (Occur::Should, self.term(self.fields.id, id)))
            .collect();
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, Box::new(BooleanQuery::new(any_id))),
        ]);
        let searcher = self.reader.searcher();
        for addr in self.all_matching(&searcher, &q)? {
            let derived = searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("derived")
                .map_err(self.err("read"))?;
            // A memory document without the value was not written by this schema: say yes,
            // so the caller reads the file.
            if derived.first(addr.doc_id).unwrap_or(1) != 0 {
                let id = first_str(&self.doc(&searcher, addr)?, self.fields.id);
                recording.extend(ids.iter().copied().filter(|i| *i == id));
            }
        }
        Ok(recording)
    }

    /// In an index of versions: returns every version of memory `id` with its validity span,
    /// oldest first.
    pub fn versions_of(&self, id: &str) -> Result<Vec<(Summary, u64, u64)>, IndexError> {
        let f = &self.fields;
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term(f.id, id)),
        ]);
        let searcher = self.reader.searcher();
        let all = self.all_matching(&searcher, &q)?;
        let mut out = Vec::with_capacity(all.len());
        for addr in all {
            let doc = self.doc(&searcher, addr)?;
            let from = first_u64(&doc, f.valid_from);
            let to = doc
                .get_first(f.valid_to)
                .and_then(|v| v.as_u64())
                .unwrap_or(u64::MAX);
            out.push((self.summary(&doc), from, to));
        }
        out.sort_by_key(|(s, from, _)| (*from, s.path.clone()));
        Ok(out)
    }

    /// Returns every memory marked `pinned: true`, sorted by path.
    pub fn pinned(&self) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, self.term_u64(self.fields.pinned, 1)),
        ]);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Returns every memory whose file has no id of its own yet (see
    /// [`crate::Derived::id`]), sorted by path.
    pub fn unstamped(&self) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, self.term_u64(self.fields.stamped, 0)),
        ]);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Returns every indexed memory that passes `filter`, sorted by path.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Summary>, IndexError> {
        let held_out = self.held_out(&self.reader.searcher(), filter)?;
        let q = self.filtered(Some(KIND_MEMORY), None, filter, held_out);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    pub(super) fn collect_summaries(&self, q: &dyn Query) -> Result<Vec<Summary>, IndexError> {
        let searcher = self.reader.searcher();
        self.all_matching(&searcher, q)?
            .into_iter()
            .map(|addr| Ok(self.summary(&self.doc(&searcher, addr)?)))
            .collect()
    }

    /// Returns every document `q` matches, however many, in index order: one pass that
    /// scores nothing (a look-up by id or a listing has no use for BM25, whose statistics
    /// cost every `memdir context` a read of each segment's postings per candidate).
    pub(super) fn all_matching(
        &self,
        searcher: &tantivy::Searcher,
        q: &dyn Query,
    ) -> Result<Vec<DocAddress>, IndexError> {
        let mut all: Vec<DocAddress> = searcher
            .search(q, &DocSetCollector)
            .map_err(self.err("list"))?
            .into_iter()
            .collect();
        all.sort_unstable();
        Ok(all)
    }

    /// Returns `(memories, passages)` in the index.
    pub fn counts(&self) -> Result<(usize, usize), IndexError> {
        let searcher = self.reader.searcher();
        let count = |kind| {
            searcher
                .search(
                    &TermQuery::new(
                        Term::from_field_text(self.fields.kind, kind),
                        IndexRecordOption::Basic,
                    ),
                    &Count,
                )
                .map_err(self.err("count"))
        };
        Ok((count(KIND_MEMORY)?, count(KIND_PASSAGE)?))
    }

    pub(super) fn count_all(&self) -> Result<usize, IndexError> {
        self.reader
            .searcher()
            .search(&AllQuery, &Count)
            .map_err(self.err("count"))
    }
}
