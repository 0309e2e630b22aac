//! A pattern's ASCII form: the same expression with every class cut down to its ASCII
//! characters, which matches an ASCII text exactly as the pattern does and compiles several
//! times faster.
//!
//! Most of the cost of a first check is compiling the few patterns its text does not rule
//! out, and most of that is the Unicode classes (`\w` under `(?i)` is hundreds of ranges,
//! repeated in every bounded repetition). The detectors read the normalized text
//! (`text.rs`), which for English is ASCII. Over an ASCII text every character a match
//! consumes is ASCII, so a class matches a character of it exactly when the class's ASCII
//! part does; a Unicode word boundary looks at ASCII neighbours, where it is the ASCII
//! boundary; a literal with a non-ASCII character matches nowhere in either. Alternation
//! order and capture groups are untouched, so leftmost-first matches and their groups are
//! the same. The form is built from the pattern's syntax tree (`regex-syntax`, the parser of
//! `regex`) and printed back, which `regex-syntax` documents to parse to the same tree.

use regex::Regex;
use regex_syntax::hir::{
    Class, ClassBytes, ClassBytesRange, ClassUnicode, ClassUnicodeRange, Hir, HirKind, Look,
};

/// Returns the ASCII form of the pattern `source` compiled, or `None` when it does not
/// parse (the caller then uses the pattern itself).
pub(super) fn compile(source: &str) -> Option<Regex> {
    let hir = regex_syntax::parse(source).ok()?;
    Regex::new(&restrict(&hir).to_string()).ok()
}

/// A cheap test that a pattern cannot match an ASCII text: its ASCII form with every literal
/// and class lower-cased, run as a forward lazy DFA over the lower-cased text.
///
/// Wherever the pattern matches a text, the gate matches the lower-cased text at the same
/// place: a class holding a character holds its lower case once lower-cased, lower-casing
/// ASCII keeps every byte where it was, and a word character stays one (so `\b` holds where
/// it held). For a pattern that is case-insensitive throughout, as most rules are, the gate
/// matches exactly where the pattern does; for one that is not, it may match more, never
/// less. What makes it cheap: under `(?i)` each word of a rule is a chain of classes
/// (`[Ss][Kk][Ii][Pp]`); lower-cased they are literals again, which compile into a trie,
/// and a forward lazy DFA with no capture groups builds in about a third of the time of the
/// full expression (`weakening.disabled`: 1.1 ms against 3.4 ms).
pub(crate) struct Gate {
    dfa: regex_automata::hybrid::dfa::DFA,
}

impl Gate {
    /// Returns the gate of the pattern `source`, or `None` when it does not parse or build.
    pub(crate) fn new(source: &str) -> Option<Gate> {
        use regex_automata::nfa::thompson;
        let hir = lower(&restrict(&regex_syntax::parse(source).ok()?));
        let nfa = thompson::Compiler::new()
            .configure(thompson::Config::new().which_captures(thompson::WhichCaptures::None))
            .build_from_hir(&hir)
            .ok()?;
        let dfa = regex_automata::hybrid::dfa::Builder::new()
            .build_from_nfa(nfa)
            .ok()?;
        Some(Gate { dfa })
    }

    /// Returns false when the pattern cannot match the ASCII `text`; true when it may (also
    /// when the lazy DFA gives up, which it may on a long text).
    pub(crate) fn may_match(&self, text: &str) -> bool {
        let lower = text.to_ascii_lowercase();
        let input = regex_automata::Input::new(&lower).earliest(true);
        let mut cache = self.dfa.create_cache();
        self.dfa
            .try_search_fwd(&mut cache, &input)
            .map_or(true, |m| m.is_some())
    }
}

/// Returns `hir` with every literal and class lower-cased (ASCII letters only: it is applied
/// to ASCII forms) and every capture group a plain group.
fn lower(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let mut out = ClassUnicode::empty();
            for r in c.ranges() {
                for ch in r.start()..=r.end() {
                    let l = ch.to_ascii_lowercase();
                    out.push(ClassUnicodeRange::new(l, l));
                }
            }
            // A class of one character is made a literal, so words become literals again.
            Hir::class(Class::Unicode(out))
        }
        HirKind::Class(Class::Bytes(c)) => {
            let mut out = ClassBytes::empty();
            for r in c.ranges() {
                for b in r.start()..=r.end() {
                    let l = b.to_ascii_lowercase();
                    out.push(ClassBytesRange::new(l, l));
                }
            }
            Hir::class(Class::Bytes(out))
        }
        HirKind::Literal(l) => Hir::literal(l.0.to_ascii_lowercase()),
        HirKind::Repetition(r) => {
            let mut r = r.clone();
            r.sub = Box::new(lower(&r.sub));
            Hir::repetition(r)
        }
        HirKind::Capture(c) => lower(&c.sub),
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(lower).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(lower).collect()),
        HirKind::Empty | HirKind::Look(_) => hir.clone(),
    }
}

/// Returns `hir` with each class cut down to ASCII and each Unicode word assertion made the
/// ASCII one.
fn restrict(hir: &Hir) -> Hir {
    match hir.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let mut c = c.clone();
            c.intersect(&ClassUnicode::new([ClassUnicodeRange::new('\0', '\x7f')]));
            Hir::class(Class::Unicode(c))
        }
        HirKind::Class(Class::Bytes(c)) => {
            let mut c = c.clone();
            c.intersect(&ClassBytes::new([ClassBytesRange::new(0, 0x7f)]));
            Hir::class(Class::Bytes(c))
        }
        HirKind::Look(look) => Hir::look(match look {
            Look::WordUnicode => Look::WordAscii,
            Look::WordUnicodeNegate => Look::WordAsciiNegate,
            Look::WordStartUnicode => Look::WordStartAscii,
            Look::WordEndUnicode => Look::WordEndAscii,
            Look::WordStartHalfUnicode => Look::WordStartHalfAscii,
            Look::WordEndHalfUnicode => Look::WordEndHalfAscii,
            other => *other,
        }),
        HirKind::Repetition(r) => {
            let mut r = r.clone();
            r.sub = Box::new(restrict(&r.sub));
            Hir::repetition(r)
        }
        HirKind::Capture(c) => {
            let mut c = c.clone();
            c.sub = Box::new(restrict(&c.sub));
            Hir::capture(c)
        }
        HirKind::Concat(parts) => Hir::concat(parts.iter().map(restrict).collect()),
        HirKind::Alternation(parts) => Hir::alternation(parts.iter().map(restrict).collect()),
        HirKind::Empty | HirKind::Literal(_) => hir.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::compile;

    #[test]
    fn the_ascii_form_keeps_ascii_matches_and_groups() {
        let re = compile(r"(?i)\b(ignore)\s+\w+\s+instructions\b").unwrap();
        let caps = re.captures("Please IGNORE all instructions.").unwrap();
        assert_eq!(&caps[0], "IGNORE all instructions");
        assert_eq!(&caps[1], "IGNORE");
        // The Kelvin sign is what `(?i)k` also matches; it is not ASCII, so it is cut.
        assert_eq!(compile(r"(?i)k").unwrap().as_str(), "[Kk]");
    }

    #[test]
    fn the_gate_lets_through_every_match_of_the_pattern() {
        let gate = super::Gate::new(r"(?i)\b(skip(?:s|ped)?)\b[^.]{0,20}?\b(review)\b").unwrap();
        assert!(gate.may_match("Please SKIP the Review"));
        assert!(gate.may_match("it skipped a review"));
        assert!(!gate.may_match("the review was skipped"));
        assert!(!gate.may_match("skip it. The review stays"));
        // A case-sensitive pattern: the gate may let more through, never less.
        let gate = super::Gate::new(r"\bAKIA[0-9A-Z]{16}\b").unwrap();
        assert!(gate.may_match("key AKIAIOSFODNN7EXAMPLE here"));
        assert!(gate.may_match("key akiaiosfodnn7example here"));
        assert!(!gate.may_match("key AKIA123 here"));
    }

    #[test]
    fn a_class_with_no_ascii_character_matches_nothing() {
        let re = compile(r"a\p{Greek}|b").unwrap();
        assert_eq!(re.find("ab").map(|m| m.as_str()), Some("b"));
    }
}
