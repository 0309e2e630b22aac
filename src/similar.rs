//! What "near-duplicate" means, once: two texts whose sets of words (lower-cased runs of
//! letters and digits) overlap by at least [`NEAR_DUPLICATE`] (Jaccard: shared words over all
//! words). Context folding, extraction's "already remembered" check, a write's `similar`
//! list and `memdir consolidate` all ask this one question.
//!
//! Word sets ignore case, punctuation, order and repetition, so a copy with a changed
//! capital, a full stop or reordered clauses is a near-duplicate; a text that adds or changes
//! a fact adds words and falls below the line once the change is a fifth of the words.
//!
//! ```
//! use memdir::similar::{Words, is_near_duplicate};
//!
//! let a = Words::of("Alice prefers dark mode in every editor.");
//! assert!(is_near_duplicate(&a, &Words::of("alice prefers DARK mode in every editor!")));
//! assert!(!is_near_duplicate(&a, &Words::of("Bob deploys on Tuesdays.")));
//! assert_eq!(a.similarity(&Words::of("Alice prefers dark mode in every editor")), 1.0);
//! ```

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// Two texts whose word sets overlap this much (Jaccard) are near-duplicates.
pub const NEAR_DUPLICATE: f64 = 0.8;

/// The set of a text's words, lower-cased: what near-duplicate detection compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words(BTreeSet<String>);

/// Returns the words of `text` in order: its runs of letters and digits, lower-cased.
pub fn words_in(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

impl Words {
    /// Returns the words of `text`: its runs of letters and digits, lower-cased.
    pub fn of(text: &str) -> Words {
        Words(words_in(text).collect())
    }

    /// Returns the Jaccard similarity of two word sets, from 0 (no word shared) to 1 (the
    /// same words); two empty sets are the same.
    pub fn similarity(&self, other: &Words) -> f64 {
        if self.0.is_empty() && other.0.is_empty() {
            return 1.0;
        }
        let shared = self.0.intersection(&other.0).count();
        shared as f64 / (self.0.len() + other.0.len() - shared) as f64
    }

    /// Returns how many words both sets hold.
    pub fn shared(&self, other: &Words) -> usize {
        self.0.intersection(&other.0).count()
    }

    /// Returns true when the set holds `word` (lower-cased).
    pub fn contains(&self, word: &str) -> bool {
        self.0.contains(word)
    }

    /// Returns the words, sorted.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }

    /// Returns how many words the set holds.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true when every word of this set is in `other`.
    pub fn is_subset(&self, other: &Words) -> bool {
        self.0.is_subset(&other.0)
    }

    /// Returns true when the text had no word.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Returns true when `a` and `b` are near-duplicates (see the module documentation).
pub fn is_near_duplicate(a: &Words, b: &Words) -> bool {
    a.similarity(b) >= NEAR_DUPLICATE
}

/// An existing memory that a text is a near-duplicate of, with how similar they are: what a
/// write returns as `similar: [{id, score}]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Similar {
    /// The memory.
    pub id: String,
    /// Jaccard similarity of the two texts' words, rounded to three decimals.
    pub score: f64,
}

impl Similar {
    /// Returns the entry for memory `id` at `score`, rounded to three decimals.
    pub fn new(id: impl Into<String>, score: f64) -> Similar {
        Similar {
            id: id.into(),
            score: (score * 1000.0).round() / 1000.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_fact_in_a_short_text_is_not_a_near_duplicate() {
        let a = Words::of("The staging API listens on port 8443.");
        let b = Words::of("The staging API listens on port 9443.");
        assert!(!is_near_duplicate(&a, &b), "{}", a.similarity(&b));
    }

    #[test]
    fn order_case_and_punctuation_do_not_matter() {
        let a = Words::of("Deploys go out on Tuesdays; never on Fridays.");
        let b = Words::of("never on fridays, deploys go out on tuesdays");
        assert_eq!(a.similarity(&b), 1.0);
    }

    #[test]
    fn scores_are_rounded_to_three_decimals() {
        assert_eq!(Similar::new("a", 2.0 / 3.0).score, 0.667);
    }
}
