//! Consolidation that loses nothing: one memory for a group of near-duplicates, made either
//! mechanically ([`merge`]: every distinct sentence of the group, in order, no rewording) or
//! by a model, whose proposal must keep every fact of the originals ([`missing_facts`]).
//! [`crate::Memdir::consolidate`] finds the groups and writes the results.
//!
//! ```
//! use memdir::consolidate::{merge, missing_facts};
//! let texts = ["Alice prefers dark mode. She uses Vim.", "alice prefers dark mode!"];
//! assert_eq!(merge(&texts), "Alice prefers dark mode. She uses Vim.");
//! assert_eq!(missing_facts(&texts, "Alice prefers a dark mode."), vec!["She uses Vim.".to_owned()]);
//! assert!(missing_facts(&texts, "Alice prefers dark mode and uses Vim.").is_empty());
//! ```

use crate::similar::Words;

/// Returns the sentences of `text`, line by line: a sentence ends at `.`, `!` or `?` before
/// a space, or at the end of a line. Blank lines have none.
pub fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        out.extend(line_sentences(line).into_iter().map(str::to_owned));
    }
    out
}

/// Returns the sentences of one line, trimmed, without empty ones.
fn line_sentences(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = line.as_bytes();
    for (i, c) in line.char_indices() {
        let end = i + c.len_utf8();
        if matches!(c, '.' | '!' | '?') && bytes.get(end).is_some_and(|b| *b == b' ') {
            out.push(line[start..end].trim());
            start = end;
        }
    }
    out.push(line[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// Returns the mechanical merge of `texts`: each line of each text, in order, keeping only
/// the sentences that say something no other sentence of the group says, that is, whose set
/// of words (ignoring case and punctuation) is neither one said before nor a part of another
/// sentence's; a line left with none is dropped. Nothing is reworded, and every word of the
/// group is in the result, so every fact is.
pub fn merge<S: AsRef<str>>(texts: &[S]) -> String {
    // Every sentence, with its line (across all texts) and its words.
    let mut all: Vec<(usize, &str, Words)> = Vec::new();
    let mut line_no = 0;
    for text in texts {
        for line in text.as_ref().lines() {
            for sentence in line_sentences(line) {
                let words = Words::of(sentence);
                if !words.is_empty() {
                    all.push((line_no, sentence, words));
                }
            }
            line_no += 1;
        }
    }
    let says_more = |i: usize| {
        let words = &all[i].2;
        !all.iter().enumerate().any(|(j, (_, _, other))| {
            j != i
                && (other == words && j < i || other.len() > words.len() && words.is_subset(other))
        })
    };
    let mut lines: Vec<(usize, Vec<&str>)> = Vec::new();
    for i in (0..all.len()).filter(|&i| says_more(i)) {
        let (line, sentence, _) = &all[i];
        match lines.last_mut() {
            Some((l, kept)) if l == line => kept.push(sentence),
            _ => lines.push((*line, vec![sentence])),
        }
    }
    lines
        .iter()
        .map(|(_, kept)| kept.join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Returns the sentences of `originals` whose fact `proposal` does not keep, in order, each
/// once. A sentence's fact is kept when every number and every name (a capitalised word
/// that does not open the sentence) it holds is in the proposal, and at least two thirds of
/// its other content words are, a word counting when the proposal has one that starts with
/// its first five letters (`deploys` / `deployed`).
pub fn missing_facts<S: AsRef<str>>(originals: &[S], proposal: &str) -> Vec<String> {
    let have = Words::of(proposal);
    let has = |w: &str| {
        have.contains(w) || {
            let stem: String = w.chars().take(5).collect();
            stem.chars().count() == 5 && have.iter().any(|h| h.starts_with(&stem))
        }
    };
    let mut missing: Vec<String> = Vec::new();
    let mut seen: Vec<Words> = Vec::new();
    for text in originals {
        for sentence in sentences(text.as_ref()) {
            let words = Words::of(&sentence);
            if words.is_empty() || seen.contains(&words) {
                continue;
            }
            seen.push(words);
            let (key, content) = fact_words(&sentence);
            let kept = content.iter().filter(|w| has(w)).count();
            let keys_kept = key.iter().all(|w| has(w));
            if !keys_kept || kept * 3 < content.len() * 2 {
                missing.push(sentence);
            }
        }
    }
    missing
}

/// Returns a sentence's key words (numbers and names, lower-cased) and its other content
/// words (not a stop word, at least three letters).
fn fact_words(sentence: &str) -> (Vec<String>, Vec<String>) {
    let mut key = Vec::new();
    let mut content = Vec::new();
    let tokens = sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty());
    for (i, token) in tokens.enumerate() {
        let lower = token.to_lowercase();
        let is_number = token.chars().any(|c| c.is_ascii_digit());
        let is_name = i > 0 && token.chars().next().is_some_and(char::is_uppercase);
        if is_number || (is_name && !STOP_WORDS.contains(&lower.as_str())) {
            key.push(lower);
        } else if lower.chars().count() >= 3 && !STOP_WORDS.contains(&lower.as_str()) {
            content.push(lower);
        }
    }
    (key, content)
}

/// Words that carry no fact of their own.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "are", "but", "not", "you", "all", "any", "can", "had", "her", "was",
    "one", "our", "out", "has", "him", "his", "how", "its", "may", "she", "too", "use", "who",
    "why", "they", "them", "their", "there", "this", "that", "these", "those", "with", "from",
    "into", "onto", "than", "then", "also", "very", "just", "been", "being", "have", "does", "did",
    "doing", "will", "would", "should", "could", "what", "when", "where", "which", "while",
    "about", "over", "under", "again", "each", "every", "some", "such", "only", "own", "same",
    "both", "more", "most", "other", "because", "until", "were", "is", "it", "an", "a",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_keeps_every_distinct_sentence_in_order() {
        let merged = merge(&[
            "Deploys go out on Tuesdays.\n- Never on Fridays.",
            "deploys go out on tuesdays. The train leaves at 10:00.",
        ]);
        assert_eq!(
            merged,
            "Deploys go out on Tuesdays.\n- Never on Fridays.\nThe train leaves at 10:00."
        );
    }

    #[test]
    fn a_sentence_whose_words_another_holds_adds_nothing() {
        let merged = merge(&[
            "Alice prefers dark mode.",
            "alice prefers dark mode in every editor she uses. She uses Vim.",
        ]);
        assert_eq!(
            merged,
            "alice prefers dark mode in every editor she uses. She uses Vim."
        );
    }

    #[test]
    fn a_changed_number_or_name_is_a_missing_fact() {
        let originals = [
            "The staging API listens on port 8443.",
            "Alice owns the API.",
        ];
        assert_eq!(
            missing_facts(
                &originals,
                "The staging API listens on port 9443. Alice owns it."
            ),
            vec!["The staging API listens on port 8443.".to_owned()]
        );
        assert_eq!(
            missing_facts(&originals, "Bob owns the staging API on port 8443."),
            vec!["Alice owns the API.".to_owned()]
        );
    }

    #[test]
    fn rewording_that_keeps_the_words_keeps_the_fact() {
        let originals = ["Alice prefers dark mode in every editor."];
        assert!(
            missing_facts(&originals, "In every editor, Alice prefers a dark mode.").is_empty()
        );
    }

    #[test]
    fn sentences_end_at_stops_before_a_space_and_at_line_ends() {
        assert_eq!(
            sentences("v1.2 ships. Is it done? Yes!\nNext line"),
            vec!["v1.2 ships.", "Is it done?", "Yes!", "Next line"]
        );
    }
}
