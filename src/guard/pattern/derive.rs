//! Derives each built-in pattern's clauses from its syntax, and keeps `literals.rs` equal to
//! the derivation (run `MEMDIR_BLESS=1 cargo test --lib guard::pattern` after changing a
//! pattern to rewrite it).
//!
//! The pattern is parsed with `regex-syntax`, as the `regex` crate parses it, into its
//! high-level form (`Hir`), where `(?i)` has already turned letters into classes such as
//! `[Kk\u{212A}]`. Two functions walk it:
//!
//! - [`exact`] returns, when small, the set of every string a node can match, folded
//!   ([`super::fold`]): a literal is its folded characters; a class of at most
//!   [`MAX_CLASS`] characters is the set of their folded forms (so `[Ii]` is `{"i"}`); a
//!   concatenation is the product of its parts, an alternation their union, a bounded
//!   repetition the union of its counts; a capture group is its content; `\b` is the
//!   [`BOUNDARY`] mark (it matches no character); other assertions and the empty expression
//!   are the empty string. Anything larger or unbounded has no exact set.
//! - [`clauses`] returns clauses: sets such that every match contains (folded) a string of
//!   each. A node with an exact set without the empty string is its own clause. Each part
//!   of a concatenation is inside every match, so the clauses of every part hold, and so do
//!   the exact products of adjacent parts. A repetition of at least one holds its content's
//!   clauses, a capture group its content's. For an alternation, a match is a match of one
//!   branch: picking one clause per branch and taking their union gives a clause that holds
//!   whichever branch matched, and several such picks give several clauses.
//!
//! A string marked with [`BOUNDARY`] at an end keeps the mark only next to an ASCII letter,
//! digit or `_` (a word character for `\b`, so `\b` there means the neighbouring text
//! character is not one; see `is_word` in `pattern.rs`); marks elsewhere are dropped, which
//! only weakens a clause. Which clauses to keep is a matter of speed, not soundness: the
//! [`MAX_CLAUSES`] that common English is least likely to meet ([`cost`]).

use regex_syntax::hir::{Class, Hir, HirKind, Look};

use super::{BOUNDARY, fold, pattern_hash};

/// The largest exact set kept.
const MAX_SET: usize = 64;
/// The largest class turned into a set of characters.
const MAX_CLASS: u32 = 16;
/// The largest repetition count expanded into an exact set.
const MAX_REPEAT: u32 = 3;
/// Clauses kept per pattern.
const MAX_CLAUSES: usize = 4;
/// The most alternatives a pattern is split into (each is checked on every text).
const MAX_ALTERNATIVES: usize = 12;

/// Words so common in ordinary text that a clause holding one says little.
const COMMON: &[&str] = &[
    "the", "be", "to", "of", "and", "a", "in", "that", "have", "i", "it", "for", "not", "on",
    "with", "he", "as", "you", "do", "at", "this", "but", "his", "by", "from", "they", "we", "say",
    "her", "she", "or", "an", "will", "my", "one", "all", "would", "there", "their", "what", "so",
    "up", "out", "if", "about", "who", "get", "which", "go", "me", "when", "make", "can", "like",
    "time", "no", "just", "him", "know", "take", "people", "into", "year", "your", "good", "some",
    "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over",
    "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way",
    "even", "new", "want", "because", "any", "these", "give", "day", "most", "us", "is", "are",
    "was", "were", "been", "has", "had", "always", "never", "every", "really", "too", "much",
    "very", "here", "thanks", "great", "love", "sounds", "yeah", "lot", "feel", "what's", "i'm",
    "it's", "that's", "don't",
];

type Clause = Vec<String>;

/// Returns the clauses of the pattern `source`, the least likely to be met first.
pub(crate) fn derive(source: &str) -> Vec<Clause> {
    let hir = regex_syntax::parse(source).expect("built-in patterns parse");
    best(clauses(&hir))
}

/// Returns the pattern `source`'s alternatives, each with its clauses: every match is a
/// match of one alternative, and meets all its clauses. A pattern with an alternation at its
/// root, or in the sequence at its root (`\b(?:approve all ...|always approve ...)`), has one
/// per branch: a branch's own clauses say far more than the unions of [`clauses`], which
/// the words of any of eight branches can meet. Any other pattern, or one with a branch
/// that promises nothing, has one alternative, the clauses of [`derive`].
pub(crate) fn derive_alternatives(source: &str) -> Vec<Vec<Clause>> {
    let hir = regex_syntax::parse(source).expect("built-in patterns parse");
    if let Some(branches) = branches(&hir).filter(|b| b.len() <= MAX_ALTERNATIVES) {
        let own: Vec<Vec<Clause>> = branches.iter().map(|b| best(clauses(b))).collect();
        if own.iter().all(|c| !c.is_empty()) {
            return own;
        }
    }
    // One alternative even without clauses: it is met by every text.
    vec![best(clauses(&hir))]
}

/// Returns expressions whose matches together are the matches of `hir`, one per branch of
/// its root alternation (or of the first alternation in its root sequence with at most
/// [`MAX_ALTERNATIVES`] branches, the rest of the sequence kept around each branch); `None`
/// when there is none. Capture groups are
/// dropped: they change no match.
fn branches(hir: &Hir) -> Option<Vec<Hir>> {
    match hir.kind() {
        HirKind::Capture(cap) => branches(&cap.sub),
        HirKind::Alternation(branches) => Some(branches.clone()),
        HirKind::Concat(parts) => parts.iter().enumerate().find_map(|(i, part)| {
            let inner = match part.kind() {
                HirKind::Alternation(_) | HirKind::Capture(_) => {
                    branches(part).filter(|b| b.len() <= MAX_ALTERNATIVES)?
                }
                _ => return None,
            };
            Some(
                inner
                    .into_iter()
                    .map(|branch| {
                        let mut seq = parts.clone();
                        seq[i] = branch;
                        Hir::concat(seq)
                    })
                    .collect(),
            )
        }),
        _ => None,
    }
}

/// Returns the [`MAX_CLAUSES`] of `all` least likely to be met, those first.
fn best(mut all: Vec<Clause>) -> Vec<Clause> {
    all.sort_by(|a, b| cost(a).total_cmp(&cost(b)).then_with(|| a.cmp(b)));
    all.dedup();
    all.truncate(MAX_CLAUSES);
    all
}

/// Returns how likely ordinary text is to meet a clause: the sum over its strings of 1 for a
/// common word, else 26 to the minus its length.
fn cost(clause: &Clause) -> f64 {
    clause
        .iter()
        .map(|s| {
            let core = s.trim_matches(BOUNDARY);
            if COMMON.contains(&core) {
                1.0
            } else {
                26f64.powi(-(s.chars().count() as i32))
            }
        })
        .sum()
}

fn class_set(class: &Class) -> Option<Vec<String>> {
    let Class::Unicode(u) = class else {
        return None;
    };
    let mut size = 0u32;
    for r in u.ranges() {
        size += r.end() as u32 - r.start() as u32 + 1;
        if size > MAX_CLASS {
            return None;
        }
    }
    let mut out = Vec::new();
    for r in u.ranges() {
        for c in r.start()..=r.end() {
            push_new(&mut out, fold(c).to_string());
        }
    }
    Some(out)
}

fn push_new(set: &mut Vec<String>, s: String) {
    if !set.contains(&s) {
        set.push(s);
    }
}

/// Returns every concatenation of a string of `a` and one of `b`, if there are few.
fn product(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() * b.len() > MAX_SET {
        return None;
    }
    let mut out = Vec::new();
    let two = format!("{BOUNDARY}{BOUNDARY}");
    for x in a {
        for y in b {
            push_new(
                &mut out,
                format!("{x}{y}").replace(&two, &BOUNDARY.to_string()),
            );
        }
    }
    Some(out)
}

/// Returns every string `hir` can match, folded, if there are few.
fn exact(hir: &Hir) -> Option<Vec<String>> {
    match hir.kind() {
        HirKind::Look(Look::WordUnicode | Look::WordAscii) => Some(vec![BOUNDARY.to_string()]),
        HirKind::Empty | HirKind::Look(_) => Some(vec![String::new()]),
        HirKind::Literal(lit) => std::str::from_utf8(&lit.0)
            .ok()
            .map(|s| vec![s.chars().map(fold).collect()]),
        HirKind::Class(class) => class_set(class),
        HirKind::Capture(cap) => exact(&cap.sub),
        HirKind::Concat(parts) => {
            let mut acc = vec![String::new()];
            for part in parts {
                acc = product(&acc, &exact(part)?)?;
            }
            Some(acc)
        }
        HirKind::Alternation(branches) => {
            let mut acc = Vec::new();
            for branch in branches {
                for s in exact(branch)? {
                    push_new(&mut acc, s);
                }
            }
            (acc.len() <= MAX_SET).then_some(acc)
        }
        HirKind::Repetition(rep) => {
            let max = rep.max.filter(|&m| m <= MAX_REPEAT)?;
            let sub = exact(&rep.sub)?;
            let mut acc = Vec::new();
            let mut power = vec![String::new()];
            for count in 0..=max {
                if count >= rep.min {
                    for s in &power {
                        push_new(&mut acc, s.clone());
                    }
                }
                if count < max {
                    power = product(&power, &sub)?;
                }
            }
            (acc.len() <= MAX_SET).then_some(acc)
        }
    }
}

/// Returns the clause a set of strings makes: boundary marks kept only at the ends and next
/// to a word character; `None` if a string is empty (the node can match without a
/// character, so it promises none).
fn clause(set: Vec<String>) -> Option<Clause> {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut out = Vec::with_capacity(set.len());
    for s in set {
        let core: String = s.chars().filter(|&c| c != BOUNDARY).collect();
        let (Some(first), Some(last)) = (core.chars().next(), core.chars().next_back()) else {
            return None;
        };
        let mut kept = String::new();
        if s.starts_with(BOUNDARY) && word(first) {
            kept.push(BOUNDARY);
        }
        kept.push_str(&core);
        if s.ends_with(BOUNDARY) && word(last) {
            kept.push(BOUNDARY);
        }
        push_new(&mut out, kept);
    }
    out.sort();
    Some(out)
}

/// Returns clauses that every match of `hir` meets.
fn clauses(hir: &Hir) -> Vec<Clause> {
    if let Some(set) = exact(hir) {
        return clause(set).into_iter().collect();
    }
    match hir.kind() {
        HirKind::Capture(cap) => clauses(&cap.sub),
        HirKind::Repetition(rep) if rep.min >= 1 => clauses(&rep.sub),
        HirKind::Alternation(branches) => {
            let mut per_branch = Vec::with_capacity(branches.len());
            for branch in branches {
                let mut own = clauses(branch);
                if own.is_empty() {
                    return Vec::new();
                }
                own.sort_by(|a, b| cost(a).total_cmp(&cost(b)).then_with(|| a.cmp(b)));
                per_branch.push(own);
            }
            let picks = per_branch.iter().map(Vec::len).max().unwrap_or(0);
            (0..picks.min(MAX_CLAUSES))
                .filter_map(|k| {
                    let union = per_branch
                        .iter()
                        .flat_map(|own| own[k.min(own.len() - 1)].iter().cloned())
                        .collect();
                    clause(union)
                })
                .collect()
        }
        HirKind::Concat(parts) => {
            let mut out = Vec::new();
            let mut run: Option<Vec<String>> = None;
            for part in parts {
                match exact(part) {
                    Some(set) => {
                        run = Some(match run.take() {
                            None => set,
                            Some(prev) => product(&prev, &set).unwrap_or_else(|| {
                                out.extend(clause(prev));
                                set
                            }),
                        });
                    }
                    None => {
                        out.extend(run.take().and_then(clause));
                        out.extend(clauses(part));
                    }
                }
            }
            out.extend(run.and_then(clause));
            out
        }
        _ => Vec::new(),
    }
}

/// Returns the text of `literals.rs` for every built-in pattern.
fn generate() -> String {
    let mut patterns = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (rule, source) in crate::guard::all_patterns() {
        let hash = pattern_hash(source);
        if seen.insert(hash) {
            patterns.push((rule, hash, derive_alternatives(source)));
        }
    }
    // Every string once, those of one core (the string without its boundary marks) together.
    let mut strings: Vec<&str> = patterns
        .iter()
        .flat_map(|(_, _, alternatives)| alternatives.iter().flatten().flatten())
        .map(String::as_str)
        .collect();
    strings.sort_by_key(|s| (s.trim_matches(BOUNDARY), *s));
    strings.dedup();
    let index = |s: &str| strings.iter().position(|x| *x == s).expect("listed");
    let mut out = String::from(
        "//! Generated by `derive.rs` from the guard's patterns: every clause string, and each\n\
         //! pattern's hash (FNV-1a of its source) and its alternatives, each a list of clauses of\n\
         //! indexes into the strings (see `pattern.rs`). Do not edit: after changing a pattern, run\n\
         //! `MEMDIR_BLESS=1 cargo test --lib guard::pattern` to rewrite it.\n\n\
         #[rustfmt::skip]\n\
         pub(super) const ENTRIES: &[&str] = &[\n",
    );
    for line in strings.chunks(8) {
        let quoted: Vec<String> = line.iter().map(|s| format!("{s:?}")).collect();
        out.push_str(&format!("    {},\n", quoted.join(", ")));
    }
    out.push_str("];\n\n#[rustfmt::skip]\npub(super) const TABLE: &[(u64, &[&[&[u16]]])] = &[\n");
    for (rule, hash, alternatives) in &patterns {
        out.push_str(&format!("    // {rule}\n    ({hash:#018x}, &[\n"));
        for alternative in alternatives {
            out.push_str("        &[\n");
            for clause in alternative {
                let ids: Vec<String> = clause.iter().map(|s| index(s).to_string()).collect();
                out.push_str(&format!("            &[{}],\n", ids.join(", ")));
            }
            out.push_str("        ],\n");
        }
        out.push_str("    ]),\n");
    }
    out.push_str("];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_rs_is_the_derivation_of_the_patterns() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/guard/pattern/literals.rs");
        let expected = generate();
        let actual = std::fs::read_to_string(path).unwrap_or_default();
        if actual != expected {
            if std::env::var_os("MEMDIR_BLESS").is_some() {
                std::fs::write(path, &expected).unwrap();
            } else {
                panic!(
                    "{path} is out of date: run `MEMDIR_BLESS=1 cargo test --lib guard::pattern`"
                );
            }
        }
    }

    #[test]
    fn a_clause_is_found_only_where_every_match_has_it() {
        let c = derive(r"(?i)\b(?:ignore|disregard)\s+previous\b");
        // `\s+` comes before `previous`: no boundary mark there.
        assert!(c.contains(&vec![format!("previous{BOUNDARY}")]), "{c:?}");
        assert!(
            c.contains(&vec![
                format!("{BOUNDARY}disregard"),
                format!("{BOUNDARY}ignore")
            ]),
            "{c:?}"
        );
        // An optional part promises nothing; a repeated class is no literal.
        assert!(derive(r"(?:admin)?\w+").is_empty());
        // A case-insensitive `k` matches the Kelvin sign, which folds to `k`.
        assert_eq!(derive(r"(?i)kit"), vec![vec!["kit".to_owned()]]);
        // A boundary next to a non-word character is dropped.
        assert_eq!(derive(r"\b-x\b"), vec![vec![format!("-x{BOUNDARY}")]]);
    }

    #[test]
    fn a_root_alternation_has_an_alternative_per_branch() {
        let alternatives = derive_alternatives(r"(?i)\bpay\s+every\b|\bobey\s+blindly\b");
        assert_eq!(
            alternatives,
            vec![
                vec![
                    vec![format!("{BOUNDARY}pay")],
                    vec![format!("every{BOUNDARY}")]
                ],
                vec![
                    vec![format!("blindly{BOUNDARY}")],
                    vec![format!("{BOUNDARY}obey")]
                ],
            ]
        );
        // A branch that promises nothing makes the whole pattern one alternative, here one
        // that every text meets.
        assert_eq!(
            derive_alternatives(r"\bpay\b|\w+"),
            vec![Vec::<Clause>::new()]
        );
        assert_eq!(derive_alternatives(r"(?:pay|obey)\s+now").len(), 2);
    }
}
