//! Near-duplicates among the stored memories (the rule is [`crate::similar`]'s): what a write
//! reports as `similar`, what extraction refuses to add twice, what `consolidate` groups.

use super::Memdir;
use crate::Result;
use crate::index::Filter;
use crate::similar::{Similar, Words, is_near_duplicate};

/// How many search hits are compared with a text: near-duplicates share most words, so they
/// rank among the first.
const CANDIDATES: usize = 10;

impl Memdir {
    /// Returns the searchable memories whose text is a near-duplicate of `text`, most similar
    /// first (ties by id), leaving out memory `except` (the one `text` is, when it is stored).
    /// Reads the index as it is, without first looking for hand edits.
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
        // The index as it is: a write has just caught it up with its own files, and a look
        // at the whole working tree (a `stat` of every file) would cost a write more than
        // the rest of this.
        let hits = self.index.search(text, &Filter::default(), CANDIDATES, 1)?;
        let mut found = Vec::new();
        for hit in hits {
            if Some(hit.id.as_str()) == except {
                continue;
            }
            let Some(bytes) = self.read(&hit.path)? else {
                continue; // removed since it was indexed
            };
            let Ok(memory) = self.parse_read(&hit.path, &bytes) else {
                continue; // broken since: `check` reports it
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
