//! Memories that arrive by git rather than through memdir's write path pass the write guard
//! too: a `git pull` (the only way into project memory), a merge, a person's `git commit`.
//!
//! memdir's own writes bring the index up to their commit at once, so a commit the index
//! has not seen when it catches up was made outside memdir's write path (or by a memdir
//! process that died before indexing: judging its files again changes nothing). Under the
//! write lock, before the index reads them, each memory file such commits changed is judged
//! as `memdir sync` judges an arrival ([`Memdir::guard_arrived`]): only what is new against
//! the version the index last saw. The flagged ones get their `quarantine:` block in one
//! commit (`Memdir-Op: guard`), so they never reach a search or a prompt, and `memdir
//! review` lists them.
//!
//! The commit is made only when git is at rest: on a branch, with no merge, rebase,
//! cherry-pick or revert in progress, and never over a file with uncommitted edits (those
//! are judged when `memdir commit` commits them). Otherwise the index catches up without it,
//! as before, and the log says why.

use std::collections::BTreeSet;

use super::Memdir;
use crate::Result;
use crate::guard::Flag;
use crate::lock::WriteLock;
use crate::memory::Memory;
use crate::parse;
use crate::store::{CommitMessage, FileWrite, Store};

impl Memdir {
    /// Passes memory `path`, arriving as `bytes`, through the write guard as a local write
    /// would, judging only what is new against `old` (the version here before it arrived).
    /// Returns the text to keep instead (with its `quarantine:` block) and the flags, or
    /// `None` when the guard lets it through as it is. An invalid file is let through: it is
    /// never indexed, so never injected, and `memdir check` reports it.
    ///
    /// A quarantine is lifted only by `memdir approve`, here as on the machine where it was
    /// written: an arrival that drops the `quarantine:` block of the version here is let
    /// through when an `approve` commit among the arriving ones (`range`: commits reachable
    /// from its second commit and not from its first) changed this file; otherwise (a hand
    /// edit elsewhere) the block is put back, as for a hand edit here.
    pub(super) fn guard_arrived(
        &self,
        path: &str,
        bytes: &[u8],
        old: Option<&[u8]>,
        range: (Option<&str>, &str),
    ) -> Result<Option<(Vec<u8>, Vec<Flag>)>> {
        let Ok(mut text) = String::from_utf8(bytes.to_vec()) else {
            return Ok(None);
        };
        if !matches!(parse::find_layout(path, &text), Ok(Some(_))) {
            // Plain Markdown: a quarantine needs a front-matter block to live in.
            text = format!("---\n---\n{text}");
        }
        let Ok(arrived) = parse::parse_memory(path, bytes, Store::revision_of(bytes)) else {
            return Ok(None);
        };
        let old: Option<Memory> =
            old.and_then(|o| parse::parse_memory(path, o, Store::revision_of(o)).ok());
        // The arrival drops the `quarantine:` block of the version here.
        let lifted = old.as_ref().is_some_and(Memory::is_quarantined) && !arrived.is_quarantined();
        if lifted
            && self
                .store()
                .written_by_op(range.0, range.1, "approve", path)?
        {
            return Ok(None);
        }
        let (guarded, mut flags) =
            self.guard_file(path, &text, &arrived, old.as_ref(), Vec::new())?;
        if guarded == text {
            return Ok(None);
        }
        if flags.is_empty() {
            // Nothing new was flagged: what the arrival dropped of the block here is put back.
            let notes = old.as_ref().map(Memory::quarantine).unwrap_or_default();
            flags = notes.iter().map(super::guarded::note_flag).collect();
        }
        Ok(Some((guarded.into_bytes(), flags)))
    }

    /// Judges the memory files that commits the index has not seen changed (`arrived`,
    /// since the index's commit `from`), skipping files with uncommitted edits (`dirty`),
    /// and commits the quarantine of the flagged ones. Returns true when it committed.
    pub(super) fn guard_arrivals(
        &self,
        lock: &WriteLock,
        from: Option<&str>,
        arrived: &[String],
        dirty: &BTreeSet<&String>,
    ) -> Result<bool> {
        let Some(head) = self.store().head()? else {
            return Ok(false);
        };
        let mut writes = Vec::new();
        let mut rules = BTreeSet::new();
        for path in arrived.iter().filter(|p| !dirty.contains(p)) {
            let Some(bytes) = self.read(path)? else {
                continue; // removed
            };
            // One `store()` guard at a time: the lock is not reentrant.
            let blob = match from {
                Some(commit) => self.store().blob_at(commit, path)?,
                None => None,
            };
            let old = match blob {
                Some(blob) => Some(self.store().blob(&blob)?),
                None => None,
            };
            let range = (from, head.as_str());
            if let Some((guarded, flags)) =
                self.guard_arrived(path, &bytes, old.as_deref(), range)?
            {
                rules.extend(flags.into_iter().map(|f| f.rule));
                writes.push(FileWrite {
                    path: path.clone(),
                    content: Some(guarded),
                });
            }
        }
        if writes.is_empty() {
            return Ok(false);
        }
        if let Some(busy) = self.store().busy() {
            tracing::warn!(
                "{} memories that arrived by git are flagged by the write guard, but {busy}: they are not held back now; run a memdir command again once git is done",
                writes.len()
            );
            return Ok(false);
        }
        let paths: Vec<&str> = writes.iter().map(|w| w.path.as_str()).collect();
        let mut trailers = vec![("Memdir-Op".to_owned(), "guard".to_owned())];
        trailers.extend(super::guarded::guard_trailer(
            rules.iter().map(String::as_str),
        ));
        let message = CommitMessage {
            subject: format!(
                "guard: held back {} memor{} that arrived by git",
                writes.len(),
                if writes.len() == 1 { "y" } else { "ies" }
            ),
            body: Some(format!(
                "The write guard flagged what these memories brought, which came by git (a pull, a merge or a commit made without memdir), not through memdir's write path. They are quarantined: out of search and context until a person approves or rejects them (`memdir review`).\n\n{}",
                paths.join("\n")
            )),
            trailers,
        };
        tracing::warn!(
            "held back by the write guard on arrival: {}",
            paths.join(", ")
        );
        self.commit_files(lock, &writes, &message, None)?;
        Ok(true)
    }
}
