//! A built-in detector's regular expression, compiled on first need, behind a literal
//! prefilter that says cheaply when it cannot match.
//!
//! Compiling the guard's ~90 expressions (Unicode classes, `(?i)`, bounded repetitions) takes
//! a few hundred milliseconds, which every `memdir add` and `memdir guard` paid again as a new
//! process. Most texts cannot match most rules: an instruction override needs a word like
//! "ignore" or "disregard", an AWS key needs `AKIA`. So each pattern carries *clauses* derived
//! from its syntax: every clause lists strings, and every match of the pattern contains at
//! least one string of each clause (compared after [`fold`]). A text that lacks every string
//! of some clause is not searched, and the pattern is compiled only when a text passes.
//!
//! The clauses are derived from the patterns by `derive.rs` (a test) and kept in
//! `literals.rs`, generated, keyed by a hash of each pattern: a pattern edited without
//! regenerating the table finds no entry and is simply always searched, never wrongly
//! skipped. The derivation's rules and why they are sound are in `derive.rs`; this module
//! only applies them. Verdicts are the same as running every expression on every text,
//! which the tests check on the labelled corpus.

use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;

#[cfg(test)]
mod derive;
mod literals;

/// In a clause string, marks a word boundary (`\b`) at its start or end: the string counts
/// only where the character before (or after) it is not an ASCII letter, digit or `_`.
pub(crate) const BOUNDARY: char = '\u{1}';

/// Returns the character that texts and clause strings are compared by: ASCII letters in
/// lower case, the Kelvin sign as `k` and the long s as `s` (the two non-ASCII characters
/// that `(?i)` matches with an ASCII letter), every other character as itself.
pub(crate) fn fold(c: char) -> char {
    match c {
        '\u{212A}' => 'k',
        '\u{017F}' => 's',
        c => c.to_ascii_lowercase(),
    }
}

/// Returns `text` with every character folded.
pub(crate) fn folded(text: &str) -> String {
    text.chars().map(fold).collect()
}

/// A regular expression, compiled on first use, with the clauses any of its matches meets.
pub(crate) struct Pattern {
    source: String,
    re: OnceLock<Regex>,
    /// Indexes into [`Literals::entries`], one list per clause; `None`: no clauses known, so
    /// every text is searched.
    clauses: Option<Vec<Vec<usize>>>,
}

impl Pattern {
    /// Returns the pattern for `source`, not yet compiled.
    pub(crate) fn new(source: String) -> Pattern {
        let clauses = LITERALS.clauses_of(&source);
        Pattern {
            source,
            re: OnceLock::new(),
            clauses,
        }
    }

    /// Returns the compiled expression, compiling it now if this is its first use.
    pub(crate) fn regex(&self) -> &Regex {
        self.re.get_or_init(|| {
            // Every built-in pattern is compiled by the unit tests.
            Regex::new(&self.source)
                .unwrap_or_else(|e| panic!("guard pattern {:?}: {e}", self.source))
        })
    }

    /// Returns false when the text whose [`Present`] this is cannot match.
    pub(crate) fn may_match(&self, present: &Present) -> bool {
        present.all
            || self.clauses.as_ref().is_none_or(|clauses| {
                clauses
                    .iter()
                    .all(|clause| clause.iter().any(|&e| present.entries[e]))
            })
    }

    /// Returns the pattern's source text.
    #[cfg(test)]
    pub(crate) fn source(&self) -> &str {
        &self.source
    }
}

/// Which clause strings a text holds.
pub(crate) struct Present {
    entries: Vec<bool>,
    /// Every pattern may match (the prefilter is off).
    all: bool,
}

impl Present {
    /// Returns which clause strings `text` holds.
    pub(crate) fn of(text: &str) -> Present {
        LITERALS.present(&folded(text))
    }

    /// Returns a set that lets every pattern be searched, as if no prefilter existed.
    #[cfg(test)]
    pub(crate) fn everything() -> Present {
        Present {
            entries: Vec::new(),
            all: true,
        }
    }
}

/// One clause string: its characters and whether a word boundary must hold at either end.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Entry {
    core: &'static str,
    start_boundary: bool,
    end_boundary: bool,
}

/// Every clause string of the generated table, and an automaton that finds them all in one
/// pass over a text.
struct Literals {
    entries: Vec<Entry>,
    /// For each pattern of [`Literals::searcher`] (a distinct `core`), its entries.
    by_core: Vec<Vec<usize>>,
    searcher: Option<AhoCorasick>,
    /// For each pattern hash of the table, its clauses as entry indexes.
    patterns: Vec<(u64, Vec<Vec<usize>>)>,
}

static LITERALS: LazyLock<Literals> = LazyLock::new(|| Literals::new(literals::TABLE));

impl Literals {
    fn new(table: &[(u64, &[&[&'static str]])]) -> Literals {
        let mut entries: Vec<Entry> = Vec::new();
        let mut index = std::collections::HashMap::new();
        let mut cores: Vec<&'static str> = Vec::new();
        let mut core_index = std::collections::HashMap::new();
        let mut by_core: Vec<Vec<usize>> = Vec::new();
        let mut patterns = Vec::with_capacity(table.len());
        for (hash, clauses) in table {
            let clauses = clauses
                .iter()
                .map(|clause| {
                    clause
                        .iter()
                        .map(|s| {
                            let entry = Entry {
                                core: s.trim_matches(BOUNDARY),
                                start_boundary: s.starts_with(BOUNDARY),
                                end_boundary: s.ends_with(BOUNDARY),
                            };
                            *index.entry(entry.clone()).or_insert_with(|| {
                                let c = *core_index.entry(entry.core).or_insert_with(|| {
                                    cores.push(entry.core);
                                    by_core.push(Vec::new());
                                    cores.len() - 1
                                });
                                by_core[c].push(entries.len());
                                entries.push(entry);
                                entries.len() - 1
                            })
                        })
                        .collect()
                })
                .collect();
            patterns.push((*hash, clauses));
        }
        // A contiguous NFA builds in well under a millisecond for these few hundred strings;
        // overlapping search (so every string is seen) needs the standard match kind.
        let searcher = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::ContiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(&cores)
            .ok();
        Literals {
            entries,
            by_core,
            searcher,
            patterns,
        }
    }

    /// Returns the clauses of the pattern `source`, if the table has them.
    fn clauses_of(&self, source: &str) -> Option<Vec<Vec<usize>>> {
        let hash = pattern_hash(source);
        self.patterns
            .iter()
            .find(|(h, _)| *h == hash)
            .map(|(_, clauses)| clauses.clone())
    }

    /// Returns which entries the folded text holds, boundaries checked.
    fn present(&self, folded: &str) -> Present {
        let Some(searcher) = &self.searcher else {
            return Present {
                entries: Vec::new(),
                all: true,
            };
        };
        let mut entries = vec![false; self.entries.len()];
        for m in searcher.find_overlapping_iter(folded) {
            for &e in &self.by_core[m.pattern().as_usize()] {
                let entry = &self.entries[e];
                if entries[e] {
                    continue;
                }
                let start_ok = !entry.start_boundary
                    || !folded[..m.start()].chars().next_back().is_some_and(is_word);
                let end_ok =
                    !entry.end_boundary || !folded[m.end()..].chars().next().is_some_and(is_word);
                entries[e] = start_ok && end_ok;
            }
        }
        Present {
            entries,
            all: false,
        }
    }
}

/// An ASCII word character: every one of them is a word character for `\b` too, so a
/// boundary that this test denies, `\b` denies as well.
fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The table's key for a pattern: 64-bit FNV-1a of its source.
pub(crate) fn pattern_hash(source: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = fnv::FnvHasher::default();
    h.write(source.as_bytes());
    h.finish()
}
