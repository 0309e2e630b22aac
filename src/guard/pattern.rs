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
//! A pattern that is an alternation at its root ("approve all ... automatically", or
//! "always approve", or ...) has its clauses per branch, its *alternatives*: a text passes
//! when it meets every clause of one of them.
//!
//! The clauses are derived from the patterns by `derive.rs` (a test) and kept in
//! `literals.rs`, generated, keyed by a hash of each pattern: a pattern edited without
//! regenerating the table finds no entry and is simply always searched, never wrongly
//! skipped. The derivation's rules and why they are sound are in `derive.rs`; this module
//! only applies them. Verdicts are the same as running every expression on every text,
//! which the tests check on the labelled corpus.
//!
//! A text that passes is searched with the pattern's ASCII form when it is ASCII
//! (`ascii.rs`): the same matches, for a fraction of the compile time. Before that form is
//! compiled, a cheaper one must match the lower-cased text: the ASCII form with every
//! literal and class lower-cased, whose matches include every match of the pattern
//! ([`Pattern::searcher`]).

use std::sync::{LazyLock, OnceLock};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind};
use regex::Regex;

mod ascii;
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

/// A pattern's alternatives, each a list of clauses, each clause a list of indexes into
/// [`literals::ENTRIES`]: a text may match when it meets every clause of some alternative.
type Alternatives = &'static [&'static [&'static [u16]]];

/// A regular expression, compiled on first use, with the clauses any of its matches meets.
pub(crate) struct Pattern {
    source: String,
    re: OnceLock<Regex>,
    /// The ASCII form (`ascii.rs`), compiled on first use; `None` if it could not be.
    ascii: OnceLock<Option<Regex>>,
    /// The gate before the ASCII form is compiled (`ascii::Gate`); `None` if it could not
    /// be built.
    gate: OnceLock<Option<ascii::Gate>>,
    /// `None`: no clauses known, so every text is searched.
    clauses: Option<Alternatives>,
}

impl Pattern {
    /// Returns the pattern for `source`, not yet compiled.
    pub(crate) fn new(source: String) -> Pattern {
        let hash = pattern_hash(&source);
        let clauses = literals::TABLE
            .iter()
            .find(|(h, _)| *h == hash)
            .map(|&(_, alternatives)| alternatives);
        Pattern {
            source,
            re: OnceLock::new(),
            ascii: OnceLock::new(),
            gate: OnceLock::new(),
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

    /// Returns the expression to search `text` with: the ASCII form when `text` is ASCII
    /// (it finds the same matches there), else the pattern itself.
    pub(crate) fn regex_for(&self, text: &str) -> &Regex {
        if text.is_ascii()
            && let Some(re) = self.ascii.get_or_init(|| ascii::compile(&self.source))
        {
            return re;
        }
        self.regex()
    }

    /// Returns the expression to search `text` with ([`Pattern::regex_for`]), or `None` when
    /// `text`, whose clause strings are `present`, cannot match.
    ///
    /// Two gates, each passed by every text that matches: the clauses ([`Pattern::may_match`]),
    /// then, for an ASCII text while the pattern's ASCII form is not compiled yet, its
    /// lower-case form (`ascii::Gate`), which matches the lower-cased text wherever the
    /// pattern matches the text and builds in a third of the time. So a text that holds a
    /// large rule's words but not as the rule needs them ("skipped", "auth" and "test" in a
    /// note about a flaky test) costs no compile of the rule.
    pub(crate) fn searcher(&self, text: &str, present: &Present) -> Option<&Regex> {
        if !self.may_match(present) {
            return None;
        }
        if !present.all
            && text.is_ascii()
            && self.ascii.get().is_none()
            && let Some(gate) = self.gate.get_or_init(|| ascii::Gate::new(&self.source))
            && !gate.may_match(text)
        {
            return None;
        }
        Some(self.regex_for(text))
    }

    /// Returns the gate of [`Pattern::searcher`], when the pattern has one.
    #[cfg(test)]
    pub(crate) fn gate(&self) -> Option<&ascii::Gate> {
        self.gate
            .get_or_init(|| ascii::Gate::new(&self.source))
            .as_ref()
    }

    /// Returns false when the text whose [`Present`] this is cannot match.
    pub(crate) fn may_match(&self, present: &Present) -> bool {
        present.all
            || self.clauses.is_none_or(|alternatives| {
                alternatives.iter().any(|clauses| {
                    clauses
                        .iter()
                        .all(|clause| clause.iter().any(|&e| present.entries[usize::from(e)]))
                })
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
    by_core: Vec<std::ops::Range<usize>>,
    searcher: Option<AhoCorasick>,
}

static LITERALS: LazyLock<Literals> = LazyLock::new(|| Literals::new(literals::ENTRIES));

impl Literals {
    /// Returns the literals of `strings`, sorted so that the strings of one core are together.
    fn new(strings: &[&'static str]) -> Literals {
        let entries: Vec<Entry> = strings
            .iter()
            .map(|s| Entry {
                core: s.trim_matches(BOUNDARY),
                start_boundary: s.starts_with(BOUNDARY),
                end_boundary: s.ends_with(BOUNDARY),
            })
            .collect();
        let mut cores: Vec<&'static str> = Vec::new();
        let mut by_core: Vec<std::ops::Range<usize>> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match (cores.last(), by_core.last_mut()) {
                (Some(&core), Some(range)) if core == entry.core => range.end = i + 1,
                _ => {
                    cores.push(entry.core);
                    by_core.push(i..i + 1);
                }
            }
        }
        // Built again by every process that checks a text: the noncontiguous NFA is the one
        // that builds fastest for these ~1,500 strings (about 1.3 ms; a contiguous one is
        // made from it, a DFA takes 6 ms), and a check's text is short. Overlapping search
        // (so every string is seen) needs the standard match kind.
        let searcher = AhoCorasickBuilder::new()
            .kind(Some(AhoCorasickKind::NoncontiguousNFA))
            .match_kind(MatchKind::Standard)
            .build(&cores)
            .ok();
        Literals {
            entries,
            by_core,
            searcher,
        }
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
            for e in self.by_core[m.pattern().as_usize()].clone() {
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
