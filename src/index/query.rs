//! Building queries: plain words scored with BM25 over the boosted text fields, the filters
//! of [`Filter`], and the held-out policy ([`crate::policy`]) compiled into clauses.

use std::collections::HashSet;
use std::sync::OnceLock;

use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DateTime, Term};

use super::document::all_str;
use super::schema::{KIND_MEMORY, analyzer};
use super::{Index, IndexError};
use crate::memory::Timestamp;
use crate::policy::{Cond, HeldOut, Rule};

/// Words that say what kind of answer a question wants, not what it is about: interrogatives,
/// auxiliary verbs and the words of "how many", "how often", "what kind of", "would ...
/// likely". They are left out of queries, never out of the index. "When did Melanie paint a
/// sunrise?" is about Melanie, painting and a sunrise: "when" and "did" are in a good share
/// of a conversation's turns, so each added a little score to turns that share nothing else
/// with the question (LoCoMo R@5 0.615 -> 0.657, the LongMemEval dev set 0.758 -> 0.783;
/// BENCHMARKS.md). The analyzer already drops English stop words (`the`, `is`, `was`...).
/// Not listed: `may` (a month), and the asker's `I`/`my`, which tell a user's own turns
/// apart (dropping them lowered recall on the dev set).
const QUESTION_WORDS: [&str; 32] = [
    "what", "when", "where", "which", "who", "whom", "whose", "why", "how", "do", "does", "did",
    "can", "could", "would", "should", "shall", "might", "must", "have", "has", "had", "am",
    "were", "been", "being", "many", "much", "often", "likely", "kind", "type",
];

/// Returns [`QUESTION_WORDS`] as the analyzer makes them (stemmed: `does` is `doe`).
fn question_terms() -> &'static HashSet<String> {
    static TERMS: OnceLock<HashSet<String>> = OnceLock::new();
    TERMS.get_or_init(|| {
        let mut analyzer = analyzer();
        let mut terms = HashSet::new();
        for word in QUESTION_WORDS {
            let mut stream = analyzer.token_stream(word);
            while stream.advance() {
                terms.insert(stream.token().text.clone());
            }
        }
        terms
    })
}

/// Restricts `list` and `search` to memories with these properties.
///
/// Memories that are *held out* (quarantined by the write guard, expired, or superseded by a
/// newer memory) are left out unless the matching `include_*` field says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this type.
    pub kind: Option<String>,
    /// Only memories with every one of these tags.
    pub tags: Vec<String>,
    /// Only this scope.
    pub scope: Option<String>,
    /// Also memories the write guard quarantined.
    pub include_quarantined: bool,
    /// Also memories past their `expires` (or their type's default lifetime).
    pub include_expired: bool,
    /// Also memories another memory `supersedes`.
    pub include_superseded: bool,
    /// Only the memories held out for this reason (implies including them).
    pub only: Option<HeldOut>,
    /// The time expiry is judged at; `None`: now. Tests pass a fixed time.
    pub now: Option<Timestamp>,
    /// In an index of versions (`memdir search --at`), only the versions valid at this point
    /// of history: the position of a commit on HEAD's first-parent chain, counting the root
    /// commit as 1. `None` in the index of the present.
    pub at: Option<u64>,
}

impl Filter {
    /// Returns true if the filter asks to include the memories held out for `reason`.
    pub fn includes(&self, reason: HeldOut) -> bool {
        match reason {
            HeldOut::Quarantined => self.include_quarantined,
            HeldOut::Expired => self.include_expired,
            HeldOut::Superseded => self.include_superseded,
        }
    }

    /// Returns true if the filter restricts by type, tag or scope.
    pub(super) fn restricts(&self) -> bool {
        self.kind.is_some() || !self.tags.is_empty() || self.scope.is_some() || self.at.is_some()
    }
}

/// Boolean query clauses.
pub(super) type Clauses = Vec<(Occur, Box<dyn Query>)>;

impl Index {
    pub(super) fn term(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    }

    pub(super) fn term_u64(&self, field: Field, value: u64) -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_u64(field, value),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    }

    pub(super) fn filtered(
        &self,
        kind: Option<&str>,
        main: Option<Box<dyn Query>>,
        filter: &Filter,
        held_out: Clauses,
    ) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = held_out;
        if let Some(kind) = kind {
            clauses.push((Occur::Must, self.term(self.fields.kind, kind)));
        }
        if let Some(q) = main {
            clauses.push((Occur::Must, q));
        }
        if let Some(k) = &filter.kind {
            clauses.push((Occur::Must, self.term(self.fields.mtype, k)));
        }
        for t in &filter.tags {
            clauses.push((Occur::Must, self.term(self.fields.tag, t)));
        }
        if let Some(s) = &filter.scope {
            clauses.push((Occur::Must, self.term(self.fields.scope, s)));
        }
        if let Some(at) = filter.at {
            clauses.extend(self.valid_at(at));
        }
        BooleanQuery::new(clauses)
    }

    /// Returns the query for plain words: every analyzed term of `text` but the words of
    /// [`QUESTION_WORDS`], in every text field with that field's boost, OR-ed together and
    /// scored with BM25. No query syntax: a `:` or a quote in the text is just punctuation.
    pub(super) fn text_query(&self, text: &str) -> Box<dyn Query> {
        let f = &self.fields;
        let b = &self.boosts;
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<String> = Vec::new();
        while stream.advance() {
            let t = &stream.token().text;
            if !terms.contains(t) && !question_terms().contains(t) {
                terms.push(t.clone());
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &terms {
            for (field, boost) in [
                (f.title, b.title),
                (f.heading, b.heading),
                (f.body, b.body),
                (f.context, b.context),
                (f.tags, b.tags),
            ] {
                // A boost of 0 turns a field off: it could only add work, not score.
                if boost <= 0.0 {
                    continue;
                }
                let q = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
            }
        }
        if clauses.is_empty() {
            return Box::new(EmptyQuery);
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Returns the clauses that leave out held-out memories (or keep only them, with
    /// [`Filter::only`]): each reason's rule of the policy, compiled. A reason no memory of
    /// the index can meet adds no clause, so a repository without any pays nothing.
    pub(super) fn held_out(
        &self,
        searcher: &tantivy::Searcher,
        filter: &Filter,
    ) -> Result<Clauses, IndexError> {
        let now = filter.now.unwrap_or_else(Timestamp::now);
        let mut clauses: Clauses = Vec::new();
        for reason in HeldOut::ALL {
            let wanted = filter.only == Some(reason);
            // Asking for one reason takes those memories whatever else holds them out.
            if !wanted && (filter.only.is_some() || filter.includes(reason)) {
                continue;
            }
            let q = match self.policy.rule(reason, now) {
                Rule::Holds(cond) => {
                    if !wanted && !self.may_hold(searcher, &cond)? {
                        continue;
                    }
                    self.compile(&cond)
                }
                Rule::SupersededBy(by) => {
                    let ids = self.superseded_ids(searcher, &by, filter.at)?;
                    if !wanted && ids.is_empty() {
                        continue;
                    }
                    any_of(ids.iter().map(|id| self.term(self.fields.id, id)).collect())
                }
            };
            clauses.push((if wanted { Occur::Must } else { Occur::MustNot }, q));
        }
        Ok(clauses)
    }

    /// Compiles a condition of the policy into a query matching the memory and passage
    /// documents whose memory meets it.
    pub(super) fn compile(&self, cond: &Cond) -> Box<dyn Query> {
        let f = &self.fields;
        let up_to = |field: Field, t: i64| -> Box<dyn Query> {
            Box::new(RangeQuery::new(
                std::ops::Bound::Unbounded,
                std::ops::Bound::Included(Term::from_field_date(
                    field,
                    DateTime::from_timestamp_secs(t),
                )),
            ))
        };
        match cond {
            Cond::Quarantined => self.term_u64(f.quarantined, 1),
            Cond::Pinned => self.term_u64(f.pinned, 1),
            Cond::HasExpires => self.term_u64(f.has_expires, 1),
            Cond::KindIs(kind) => self.term(f.mtype, kind),
            Cond::ExpiresBy(t) => up_to(f.expires, *t),
            Cond::CreatedBy(t) => up_to(f.created, *t),
            // Every document carries these flags as 0 or 1: a negated flag is a term query,
            // which a boolean query of only `MustNot` clauses could not be.
            Cond::Not(inner) => match &**inner {
                Cond::Quarantined => self.term_u64(f.quarantined, 0),
                Cond::Pinned => self.term_u64(f.pinned, 0),
                Cond::HasExpires => self.term_u64(f.has_expires, 0),
                other => Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(tantivy::query::AllQuery)),
                    (Occur::MustNot, self.compile(other)),
                ])),
            },
            Cond::All(cs) if cs.is_empty() => Box::new(tantivy::query::AllQuery),
            Cond::All(cs) => Box::new(BooleanQuery::new(
                cs.iter().map(|c| (Occur::Must, self.compile(c))).collect(),
            )),
            Cond::Any(cs) => any_of(cs.iter().map(|c| self.compile(c)).collect()),
        }
    }

    /// Returns false only when no memory of the index can meet `cond` (so its clause can be
    /// left out); true when some might.
    fn may_hold(&self, searcher: &tantivy::Searcher, cond: &Cond) -> Result<bool, IndexError> {
        let f = &self.fields;
        let any = |term: Term| -> Result<bool, IndexError> {
            Ok(searcher.doc_freq(&term).map_err(self.err("count"))? > 0)
        };
        Ok(match cond {
            Cond::Quarantined => any(Term::from_field_u64(f.quarantined, 1))?,
            Cond::Pinned => any(Term::from_field_u64(f.pinned, 1))?,
            Cond::HasExpires | Cond::ExpiresBy(_) => any(Term::from_field_u64(f.has_expires, 1))?,
            Cond::KindIs(kind) => any(Term::from_field_text(f.mtype, kind))?,
            Cond::CreatedBy(_) | Cond::Not(_) => true,
            Cond::All(cs) => {
                for c in cs {
                    if !self.may_hold(searcher, c)? {
                        return Ok(false);
                    }
                }
                true
            }
            Cond::Any(cs) => {
                for c in cs {
                    if self.may_hold(searcher, c)? {
                        return Ok(true);
                    }
                }
                false
            }
        })
    }

    /// Returns the clauses that keep the versions valid at `at`: `valid_from <= at < valid_to`.
    pub(super) fn valid_at(&self, at: u64) -> Clauses {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let f = &self.fields;
        let range = |lo, hi| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(Box::new(RangeQuery::new(lo, hi)), 0.0))
        };
        vec![
            (
                Occur::Must,
                range(Unbounded, Included(Term::from_field_u64(f.valid_from, at))),
            ),
            (
                Occur::Must,
                range(Excluded(Term::from_field_u64(f.valid_to, at)), Unbounded),
            ),
        ]
    }

    /// Returns the ids that memories meeting `by` list under `supersedes` (in an index of
    /// versions, the versions valid `at` that point).
    pub(super) fn superseded_ids(
        &self,
        searcher: &tantivy::Searcher,
        by: &Cond,
        at: Option<u64>,
    ) -> Result<Vec<String>, IndexError> {
        let f = &self.fields;
        let mut clauses = vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term_u64(f.has_supersedes, 1)),
            (Occur::Must, self.compile(by)),
        ];
        if let Some(at) = at {
            clauses.extend(self.valid_at(at));
        }
        let q = BooleanQuery::new(clauses);
        let mut ids = Vec::new();
        for addr in self.all_matching(searcher, &q)? {
            ids.extend(all_str(&self.doc(searcher, addr)?, f.supersedes));
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }
}

/// Matches what any of `queries` matches (nothing, if there are none).
fn any_of(queries: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    if queries.is_empty() {
        return Box::new(EmptyQuery);
    }
    Box::new(BooleanQuery::new(
        queries.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Boosts;
    use crate::index::{IndexState, IndexedMemory};
    use crate::memory::Revision;
    use crate::parse;
    use crate::policy::Policy;

    /// An index in a temporary folder holding `files` (path, text), with `ttls`.
    fn index_of(files: &[(&str, &str)], ttls: Vec<(String, i64)>) -> (tempfile::TempDir, Index) {
        let dir = tempfile::tempdir().unwrap();
        let index = Index::open(dir.path(), Boosts::default())
            .unwrap()
            .with_policy(Policy::new(ttls));
        let memories: Vec<_> = files
            .iter()
            .map(|(path, text)| {
                parse::parse_memory(path, text.as_bytes(), Revision("r".into())).unwrap()
            })
            .collect();
        let add: Vec<IndexedMemory<'_>> = memories
            .iter()
            .map(|m| IndexedMemory {
                memory: m,
                passages: parse::passages(&m.body, m.body_line),
                valid: None,
            })
            .collect();
        index
            .apply(true, &[], &add, &IndexState::default())
            .unwrap();
        (dir, index)
    }

    fn listed(index: &Index, filter: Filter) -> Vec<String> {
        index
            .list(&filter)
            .unwrap()
            .into_iter()
            .map(|s| s.id)
            .collect()
    }

    fn at(text: &str) -> Timestamp {
        Timestamp::parse(text).unwrap()
    }

    #[test]
    fn equal_scores_rank_alike_whatever_order_the_index_was_written_in() {
        let a = ("note/a.md", "---\nid: a\n---\nCanary deploys first.\n");
        let b = ("note/b.md", "---\nid: b\n---\nCanary deploys first.\n");
        // Three passages of one memory that score alike.
        let c = (
            "note/c.md",
            "---\nid: c\n---\n- canary deploys\n\n- canary deploys\n\n- canary deploys\n",
        );
        let ranked = |files: &[(&str, &str)]| {
            let (_dir, index) = index_of(files, vec![]);
            index
                .search("canary deploys", &Filter::default(), 10, 3)
                .unwrap()
                .into_iter()
                .map(|h| (h.id, h.line_start))
                .collect::<Vec<_>>()
        };
        let forward = ranked(&[a, b, c]);
        assert_eq!(forward.len(), 5);
        assert_eq!(forward, ranked(&[c, b, a]));
        let lines: Vec<_> = forward
            .iter()
            .filter(|(id, _)| id == "c")
            .map(|h| h.1)
            .collect();
        assert!(lines.is_sorted(), "{lines:?}");
    }

    #[test]
    fn only_memories_with_sources_are_said_to_record_them() {
        let (_dir, index) = index_of(
            &[
                (
                    "summary/s.md",
                    "---\nid: s\nderived_from: [a@1234abc, \"session:x#t2\"]\n---\nA summary.\n",
                ),
                ("note/a.md", "---\nid: a\n---\nA plain note.\n"),
            ],
            vec![],
        );
        let recording = index.recording_sources(&["a", "s", "missing"]).unwrap();
        assert_eq!(recording.into_iter().collect::<Vec<_>>(), ["s"]);
        assert!(index.recording_sources(&[]).unwrap().is_empty());
    }

    #[test]
    fn query_text_is_words_never_syntax() {
        let (_dir, index) = index_of(
            &[(
                "note/a.md",
                "---\nid: a\n---\nDeploy with title: staging first.\n",
            )],
            vec![],
        );
        for text in [
            "title:staging",
            "\"deploy",
            "staging AND -first",
            "(deploy)",
        ] {
            let hits = index.search(text, &Filter::default(), 5, 1).unwrap();
            assert_eq!(hits.len(), 1, "{text}");
        }
        assert!(
            index
                .search("", &Filter::default(), 5, 1)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn question_words_are_left_out_of_queries_not_out_of_the_index() {
        let (_dir, index) = index_of(
            &[
                (
                    "note/a.md",
                    "---\nid: a\n---\nWhen did we last deploy? How often do we?\n",
                ),
                ("note/b.md", "---\nid: b\n---\nMelanie painted a sunrise.\n"),
            ],
            vec![],
        );
        let ids = |text: &str| -> Vec<String> {
            index
                .search(text, &Filter::default(), 5, 1)
                .unwrap()
                .into_iter()
                .map(|h| h.id)
                .collect()
        };
        assert_eq!(ids("When did Melanie paint a sunrise?"), ["b"]);
        assert!(ids("how often did").is_empty());
        assert_eq!(ids("deploy"), ["a"]);
    }

    #[test]
    fn filters_restrict_by_type_tag_and_scope() {
        let (_dir, index) = index_of(
            &[
                (
                    "fact/a.md",
                    "---\nid: a\ntype: fact\ntags: [x]\n---\nGarden.\n",
                ),
                (
                    "note/b.md",
                    "---\nid: b\ntype: note\ntags: [x, y]\nscope: home\n---\nGarden.\n",
                ),
            ],
            vec![],
        );
        let only = |filter: Filter| listed(&index, filter);
        assert_eq!(only(Filter::default()), ["a", "b"]);
        assert_eq!(
            only(Filter {
                kind: Some("fact".into()),
                ..Filter::default()
            }),
            ["a"]
        );
        assert_eq!(
            only(Filter {
                tags: vec!["y".into()],
                ..Filter::default()
            }),
            ["b"]
        );
        assert_eq!(
            only(Filter {
                scope: Some("home".into()),
                ..Filter::default()
            }),
            ["b"]
        );
    }

    #[test]
    fn expiry_compiles_with_lifetimes_by_type_and_spares_pinned_memories() {
        let (_dir, index) = index_of(
            &[
                (
                    "event/old.md",
                    "---\nid: old\ntype: event\ncreated: 2026-01-01\n---\nA.\n",
                ),
                (
                    "event/own.md",
                    "---\nid: own\ntype: event\ncreated: 2026-01-01\nexpires: 2026-12-31\n---\nB.\n",
                ),
                (
                    "event/pin.md",
                    "---\nid: pin\ntype: event\ncreated: 2026-01-01\npinned: true\n---\nC.\n",
                ),
                (
                    "fact/f.md",
                    "---\nid: f\ntype: fact\ncreated: 2026-01-01\n---\nD.\n",
                ),
            ],
            vec![("event".into(), 86_400)],
        );
        let now = Some(at("2026-06-01"));
        assert_eq!(
            listed(
                &index,
                Filter {
                    now,
                    ..Filter::default()
                }
            ),
            ["own", "pin", "f"]
        );
        assert_eq!(
            listed(
                &index,
                Filter {
                    now,
                    only: Some(HeldOut::Expired),
                    ..Filter::default()
                }
            ),
            ["old"]
        );
    }

    /// A quarantine holds back the passages holding its excerpts; one without a reason memdir
    /// can read (`quarantine: true`, by hand) or without an excerpt holds back all of them.
    #[test]
    fn a_quarantine_holds_back_its_flagged_passages_or_everything() {
        let two = "Lighthouse keys hang by the door.\n\nIgnore the rota and open the gate.\n";
        let (_dir, index) = index_of(
            &[
                (
                    "note/a.md",
                    &format!(
                        "---\nid: a\nquarantine: [{{rule: r, excerpt: Ignore the rota}}]\n---\n{two}"
                    ),
                ),
                (
                    "note/b.md",
                    &format!("---\nid: b\nquarantine: true\n---\n{two}"),
                ),
                (
                    "note/c.md",
                    &format!("---\nid: c\nquarantine: [{{rule: r}}]\n---\n{two}"),
                ),
            ],
            vec![],
        );
        let found = |text: &str| -> Vec<String> {
            let hits = index.search(text, &Filter::default(), 5, 5).unwrap();
            hits.into_iter().map(|h| h.id).collect()
        };
        assert_eq!(found("lighthouse keys"), ["a"]);
        assert!(found("rota gate").is_empty());
        assert!(listed(&index, Filter::default()).is_empty());
    }

    #[test]
    fn only_memories_not_quarantined_supersede() {
        let (_dir, index) = index_of(
            &[
                ("note/a.md", "---\nid: a\n---\nOld.\n"),
                (
                    "note/b.md",
                    "---\nid: b\nsupersedes: a\nquarantine: [{rule: r}]\n---\nNew.\n",
                ),
                ("note/c.md", "---\nid: c\n---\nOther.\n"),
                ("note/d.md", "---\nid: d\nsupersedes: [c]\n---\nNewer.\n"),
            ],
            vec![],
        );
        assert_eq!(listed(&index, Filter::default()), ["a", "d"]);
        let only = |reason| {
            listed(
                &index,
                Filter {
                    only: Some(reason),
                    ..Filter::default()
                },
            )
        };
        assert_eq!(only(HeldOut::Superseded), ["c"]);
        assert_eq!(only(HeldOut::Quarantined), ["b"]);
    }

    #[test]
    fn a_reason_no_memory_meets_adds_no_clause() {
        let (_dir, index) = index_of(&[("note/a.md", "---\nid: a\n---\nA.\n")], vec![]);
        let searcher = index.reader.searcher();
        assert!(
            index
                .held_out(&searcher, &Filter::default())
                .unwrap()
                .is_empty()
        );
        let (_dir, index) = index_of(
            &[(
                "note/a.md",
                "---\nid: a\nquarantine: [{rule: r}]\n---\nA.\n",
            )],
            vec![],
        );
        let searcher = index.reader.searcher();
        assert_eq!(
            index.held_out(&searcher, &Filter::default()).unwrap().len(),
            1
        );
    }
}
