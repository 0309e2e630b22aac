//! Near-duplicates among the stored memories (the rule is [`crate::similar`]'s): what a write
//! reports as `similar`, what extraction refuses to add twice, what `consolidate` groups.

use super::Memdir;
use crate::similar::{Similar, Words, is_near_duplicate};
use crate::{Error, Result, SearchQuery};

/// How many search hits are compared with a text: near-duplicates share most words, so they
/// rank among the first.
const CANDIDATES: usize = 10;

impl Memdir {
    /// Returns the searchable memories whose text is a near-duplicate of `text`, most similar
    /// first (ties by id), leaving out memory `except` (the one `text` is, when it is stored).
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use memdir::{Memdir, NewMemory, Provenance};
    /// let mem = Memdir::init(dir.path())?;
    /// let w = mem.remember(NewMemory::new("Alice prefers dark mode in every editor."), &Provenance::agent("doc"))?;
    /// let found = mem.similar_to("alice prefers dark mode in every editor", None)?;
    /// assert_eq!((found[0].id.as_str(), found[0].score), (w.id.as_str(), 1.0));
    /// assert!(mem.similar_to("Bob deploys on Tuesdays.", None)?.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn similar_to(&self, text: &str, except: Option<&str>) -> Result<Vec<Similar>> {
        let words = Words::of(text);
        if words.is_empty() {
            return Ok(Vec::new());
        }
        let hits = self.search(&SearchQuery {
            limit: Some(CANDIDATES),
            ..SearchQuery::new(text)
        })?;
        let mut found = Vec::new();
        for hit in hits {
            if Some(hit.id.as_str()) == except {
                continue;
            }
            let memory = match self.get(&hit.id) {
                Ok(m) => m,
                Err(Error::NotFound { .. }) => continue, // removed since the search
                Err(e) => return Err(e),
            };
            let theirs = Words::of(&memory.body);
            if is_near_duplicate(&words, &theirs) {
                found.push(Similar::new(hit.id, words.similarity(&theirs)));
            }
        }
        found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
        Ok(found)
    }

    /// Returns what a write of `memory` reports as `similar`: its near-duplicates among the
    /// other searchable memories; none for a quarantined memory, which nothing searches.
    pub(super) fn similar_after_write(&self, memory: &crate::Memory) -> Result<Vec<Similar>> {
        if memory.is_quarantined() {
            return Ok(Vec::new());
        }
        self.similar_to(&memory.body, Some(memory.front.id.as_str()))
    }
}
