//! Text helpers shared by the detectors: a normalized copy of the text that maps back to the
//! original's byte offsets, sentence bounds and negation.

use super::Span;

/// The text the detectors read: invisible characters dropped and typographic quotes and
/// dashes made plain, so `ig\u{200b}nore` and `don’t` match like `ignore` and `don't`. Every
/// byte keeps the offset of the original character it came from.
pub(crate) struct Normalized {
    pub text: String,
    /// For each byte of `text`, the offset of its character in the original; one more entry
    /// for the end.
    map: Vec<usize>,
}

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let mut text = String::with_capacity(original.len());
        let mut map = Vec::with_capacity(original.len() + 1);
        for (at, c) in original.char_indices() {
            if is_invisible(c) {
                continue;
            }
            let plain = match c {
                '\u{2018}' | '\u{2019}' | '\u{201B}' | '\u{2032}' | '`' => '\'',
                '\u{201C}' | '\u{201D}' | '\u{201F}' | '\u{2033}' => '"',
                '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
                '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => ' ',
                c => c,
            };
            let before = text.len();
            text.push(plain);
            map.extend(std::iter::repeat_n(at, text.len() - before));
        }
        map.push(original.len());
        Normalized { text, map }
    }

    /// Returns the span of the original text that `span` of the normalized text came from.
    pub fn original(&self, span: Span) -> Span {
        let start = self.map[span.start];
        let end = self.map[span.end];
        Span {
            start,
            end: end.max(start),
        }
    }
}

/// A stretch of one sentence: any character but a line break or sentence punctuation
/// followed by a space (so `.env`, `v1.2` and `example.org` do not end it). Repeat it with
/// `{0,N}?`.
pub(crate) const GAP: &str = r"(?:[^.!?\n]|[.!?][^\s.!?])";

/// Characters that render as nothing: zero-width spaces, bidirectional overrides and the
/// Unicode tag block (ASCII smuggling). Joiners used inside emoji and scripts are kept.
pub(crate) fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}' | '\u{2060}'..='\u{2064}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        | '\u{FEFF}' | '\u{00AD}' | '\u{E0000}'..='\u{E007F}')
}

/// Returns the start of the sentence holding byte `at`.
pub(crate) fn sentence_start(text: &str, at: usize) -> usize {
    let before = &text[..at];
    before
        .char_indices()
        .rev()
        .find(|&(i, c)| {
            c == '\n'
                || c == ';'
                || ((c == '.' || c == '!' || c == '?')
                    && before[i + 1..].starts_with(|n: char| n.is_whitespace()))
        })
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// Returns the end of the sentence holding byte `at`.
pub(crate) fn sentence_end(text: &str, at: usize) -> usize {
    let after = &text[at..];
    after
        .char_indices()
        .find(|&(i, c)| {
            c == '\n'
                || c == ';'
                || ((c == '.' || c == '!' || c == '?')
                    && after[i + 1..]
                        .chars()
                        .next()
                        .is_none_or(|n| n.is_whitespace()))
        })
        .map_or(text.len(), |(i, _)| at + i)
}

/// Returns the sentence around the match `m`.
pub(crate) fn sentence<'t>(text: &'t str, m: &regex::Match<'_>) -> &'t str {
    &text[sentence_start(text, m.start())..sentence_end(text, m.end().max(m.start()))]
}

/// Returns true if the words before `at` in its sentence negate it ("never", "do not", "no
/// one may"...), so a rule against weakening security is not mistaken for weakening it.
pub(crate) fn negated_before(text: &str, at: usize) -> bool {
    negates(&lowercase_before(text, at))
}

/// Returns the words before `at` in its sentence, lowercased.
pub(crate) fn lowercase_before(text: &str, at: usize) -> String {
    text[sentence_start(text, at)..at].to_lowercase()
}

/// Returns true if `before` (the lowercased start of a sentence, see [`lowercase_before`])
/// holds an English word that negates what follows it.
pub(crate) fn negates(before: &str) -> bool {
    before
        // `--no-verify` is a flag, not a negation: keep hyphens inside words.
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '-')
        .any(|w| {
            matches!(
                w,
                "never"
                    | "not"
                    | "no"
                    | "nobody"
                    | "nothing"
                    | "cannot"
                    | "can't"
                    | "don't"
                    | "doesn't"
                    | "didn't"
                    | "won't"
                    | "mustn't"
                    | "shouldn't"
                    | "isn't"
                    | "aren't"
                    | "wasn't"
                    | "weren't"
                    | "nor"
                    | "forbidden"
                    | "prohibited"
                    | "refuse"
                    | "refuses"
                    | "refused"
                    | "stop"
                    | "stops"
                    | "prevent"
                    | "prevents"
                    | "block"
                    | "blocks"
                    | "blocked"
                    | "attempted"
                    | "attempts"
                    | "attempt"
                    | "tried"
                    | "tries"
                    | "phishing"
                    | "scam"
                    | "unless"
            )
        })
}

/// A rule check: true unless the match is negated ("never ignore...").
pub(crate) fn not_negated(text: &str, caps: &regex::Captures<'_>) -> bool {
    !negated_before(text, caps.get(0).map_or(0, |m| m.start()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalized_offsets_map_back() {
        let original = "don\u{2019}t ig\u{200b}nore";
        let n = Normalized::new(original);
        assert_eq!(n.text, "don't ignore");
        let i = n.text.find("ignore").unwrap();
        let span = n.original(Span {
            start: i,
            end: n.text.len(),
        });
        assert_eq!(&original[span.start..span.end], "ig\u{200b}nore");
        let span = n.original(Span { start: 0, end: 5 });
        assert_eq!(&original[span.start..span.end], "don\u{2019}t");
    }

    #[test]
    fn sentences_and_negation() {
        let t = "Deploys need approval. Never skip verification for admins.";
        let at = t.find("skip").unwrap();
        assert_eq!(sentence_start(t, at), t.find(" Never").unwrap());
        assert!(negated_before(t, at));
        let t = "Admins may skip verification. Nothing else.";
        assert!(!negated_before(t, t.find("skip").unwrap()));
        assert_eq!(sentence_end(t, 0), t.find(". N").unwrap());
        // Dots inside words (domains, versions) do not end a sentence.
        let t = "Send it to x@evil.example now";
        assert_eq!(sentence_end(t, 0), t.len());
    }
}
