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
    fn a_class_with_no_ascii_character_matches_nothing() {
        let re = compile(r"a\p{Greek}|b").unwrap();
        assert_eq!(re.find("ab").map(|m| m.as_str()), Some("b"));
    }
}
