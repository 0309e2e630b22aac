//! A query that keeps only the documents valid at one point of history, checked on the
//! `valid_from` / `valid_to` fast columns of the documents a query would return: the filter of
//! `--at` searches.
//!
//! Unlike range clauses in a boolean query, it keeps tantivy's block-WAND: the wrapped query
//! still skips the blocks that cannot beat the k-th best score, and only documents that would
//! enter the top k are checked (and dropped when they are another point's version). The
//! threshold only rises with documents that pass, so the top k is exact.

use std::sync::Arc;

use tantivy::columnar::{Cardinality, ColumnValues};
use tantivy::query::{EnableScoring, Explanation, Query, Scorer, Weight};
use tantivy::{DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Matches the documents of `inner` whose span holds `at`: `valid_from <= at < valid_to`.
#[derive(Debug)]
pub(super) struct ValidAt {
    pub inner: Box<dyn Query>,
    pub at: u64,
}

impl Clone for ValidAt {
    fn clone(&self) -> Self {
        ValidAt {
            inner: self.inner.box_clone(),
            at: self.at,
        }
    }
}

impl Query for ValidAt {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(ValidAtWeight {
            inner: self.inner.weight(scoring)?,
            at: self.at,
        }))
    }

    fn query_terms<'a>(&'a self, visitor: &mut dyn FnMut(&'a Term, bool)) {
        self.inner.query_terms(visitor);
    }
}

struct ValidAtWeight {
    inner: Box<dyn Weight>,
    at: u64,
}

/// The validity columns of one segment.
struct Span {
    from: Arc<dyn ColumnValues<u64>>,
    to: Arc<dyn ColumnValues<u64>>,
    at: u64,
    /// What the segment's columns say of all its documents at once.
    whole: Whole,
}

#[derive(PartialEq)]
enum Whole {
    /// No document is valid at `at`: the segment is skipped.
    None,
    /// Every document is valid at `at`: no check per document.
    All,
    /// Check each document.
    Some,
}

impl Span {
    fn of(reader: &SegmentReader, at: u64) -> tantivy::Result<Span> {
        let fast = reader.fast_fields();
        let (from, to) = (fast.u64("valid_from")?, fast.u64("valid_to")?);
        let full = from.get_cardinality() == Cardinality::Full;
        let whole = if from.num_docs() == 0 || from.min_value() > at || to.max_value() <= at {
            Whole::None
        } else if full && from.max_value() <= at && to.min_value() > at {
            Whole::All
        } else {
            Whole::Some
        };
        Ok(Span {
            // A document without a span (not a version) is never valid.
            from: from.first_or_default_col(u64::MAX),
            to: to.first_or_default_col(0),
            at,
            whole,
        })
    }

    fn holds(&self, doc: DocId) -> bool {
        match self.whole {
            Whole::None => false,
            Whole::All => true,
            Whole::Some => self.from.get_val(doc) <= self.at && self.at < self.to.get_val(doc),
        }
    }
}

impl Weight for ValidAtWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let span = Span::of(reader, self.at)?;
        if span.whole == Whole::None {
            return Ok(Box::new(tantivy::query::EmptyScorer));
        }
        if span.whole == Whole::All {
            return self.inner.scorer(reader, boost);
        }
        let mut scorer = ValidScorer {
            inner: self.inner.scorer(reader, boost)?,
            span,
        };
        scorer.skip_invalid();
        Ok(Box::new(scorer))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !Span::of(reader, self.at)?.holds(doc) {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} is not valid at {}",
                self.at
            )));
        }
        self.inner.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        let span = Span::of(reader, self.at)?;
        match span.whole {
            Whole::None => return Ok(()),
            Whole::All => return self.inner.for_each_pruning(threshold, reader, callback),
            Whole::Some => {}
        }
        let mut threshold = threshold;
        self.inner
            .for_each_pruning(threshold, reader, &mut |doc, score| {
                if span.holds(doc) {
                    threshold = callback(doc, score);
                }
                threshold
            })
    }
}

struct ValidScorer {
    inner: Box<dyn Scorer>,
    span: Span,
}

impl ValidScorer {
    fn skip_invalid(&mut self) -> DocId {
        let mut doc = self.inner.doc();
        while doc != TERMINATED && !self.span.holds(doc) {
            doc = self.inner.advance();
        }
        doc
    }
}

impl DocSet for ValidScorer {
    fn advance(&mut self) -> DocId {
        self.inner.advance();
        self.skip_invalid()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        self.inner.seek(target);
        self.skip_invalid()
    }

    fn doc(&self) -> DocId {
        self.inner.doc()
    }

    fn size_hint(&self) -> u32 {
        self.inner.size_hint()
    }
}

impl Scorer for ValidScorer {
    fn score(&mut self) -> Score {
        self.inner.score()
    }
}
