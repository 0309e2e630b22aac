//! The right to be forgotten: [`Memdir::purge`] removes one memory from the whole repository,
//! history included, so that nothing under `.git` still holds its text.
//!
//! This module decides *what* belongs to the memory; `store/purge.rs` does the git work.
//! - **Its files**: every blob, in any commit reachable from a ref, HEAD or a reflog entry,
//!   or staged in git's index, whose front-matter `id:` is the memory's (read leniently, so a
//!   version broken by a hand edit still counts), wherever it lay: a type-folder change, a
//!   hand `git mv`, a copy. A blob with no readable id at a path the memory had is its too.
//!   Each blob is read once, however many commits hold it.
//! - **Its words**, to scrub from commit and tag messages: the id (as a whole word) and every
//!   line of its text of 12 characters or more, in any message; its titles and paths too, in
//!   the messages of commits that changed it. A commit that only changed the memory keeps its
//!   author, dates and provenance trailers (`Memdir-Op`, `-Session`, `-Agent`, `-Step`) and
//!   gets the subject `<op>: a purged memory` (`a purged change` for a plain git commit);
//!   any other commit loses only the lines that name the memory (a batch commit's `- Title
//!   (path)` line, its `Memdir-Id` trailer). The id is scrubbed because memdir derives it
//!   from the title. Commits that never touched it keep their id, message and everything else.
//! - **memdir's own files** (`.git/memdir/`): the search index is rebuilt and the versions
//!   index behind `--at` emptied (rebuilt by the next `--at` read), and every file of theirs
//!   that no longer serves is deleted; the stat cache is dropped (it names paths); a
//!   JSONL log (`injections.jsonl`) loses the lines that name the memory; any other file that
//!   quotes it (a `memdir edit` copy, a dead writer's intent) is deleted.
//!
//! Then a tombstone commit (`Memdir-Op: purge`) says that a purge happened, not what, and
//! `git gc --prune=now` deletes the old objects. Every step is taken under the write lock; a
//! marker file (`.git/memdir/purging`, holding the id) lives from before history is swapped
//! until the end, so an interrupted purge is reported and finished by running it again.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use regex::bytes::Regex;
use serde::Serialize;

use super::{Memdir, Provenance};
use crate::memory::{MemoryId, Revision, Timestamp};
use crate::parse;
use crate::store::{CommitMessage, Purge, Rewritten, Store, Touch};
use crate::{Error, Result};

/// The marker of a purge in progress, in `.git/memdir/`: it holds the memory's id.
pub(super) const MARKER: &str = "purging";

/// The trailers a commit that only changed the purged memory keeps: who wrote it, not what.
const PROVENANCE: &[&str] = &[
    "Memdir-Op: ",
    "Memdir-Session: ",
    "Memdir-Agent: ",
    "Memdir-Step: ",
];

/// Lines of a memory's text shorter than this are too common to scrub from other messages.
const MIN_LINE: usize = 12;

/// What [`Memdir::purge`] did, or what [`Memdir::purge_plan`] would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// The memory's id.
    pub id: String,
    /// Every path the memory had, in history, in git's index or in the working tree.
    pub purged_paths: Vec<String>,
    /// How many distinct versions (blobs) of it were found.
    pub versions: usize,
    /// Commits given a new id (the tombstone not counted).
    pub commits_rewritten: usize,
    /// Refs moved to the new history (branches, tags, `refs/stash`...).
    pub refs_rewritten: Vec<String>,
    /// Its files deleted from the working tree.
    pub worktree_files: Vec<String>,
    /// The tombstone commit (`None` in a plan, or when no commit had to change).
    pub tombstone: Option<String>,
    /// Objects `git gc` deleted.
    pub objects_removed: usize,
    /// Files under `.git` (outside `objects/`) that still quote the memory after the purge;
    /// empty unless something memdir does not know about copied it there.
    pub leftovers: Vec<String>,
}

/// What belongs to the memory being purged.
struct Target {
    /// Its blobs, with every path each was found at.
    blobs: BTreeSet<(String, Revision)>,
    /// Its files in the working tree.
    worktree: Vec<String>,
    /// The words that name it.
    words: Words,
}

/// Patterns that find the memory's words in a message or a file.
struct Words {
    /// The id as a whole word and its longer lines: searched everywhere.
    strong: Regex,
    /// Its titles and paths: searched where the memory is known to be involved.
    weak: Option<Regex>,
}

impl Words {
    fn new(
        id: &MemoryId,
        lines: &BTreeSet<String>,
        titles: &BTreeSet<String>,
        paths: &BTreeSet<String>,
    ) -> Words {
        // The id as a whole word: not inside a longer id (ids hold `a-z0-9_.-`), though a
        // sentence may end right after it.
        let mut strong = vec![format!(
            r"(?:^|[^a-z0-9_.-]){}(?:$|[^a-z0-9_.-]|\.(?:$|[^a-z0-9_-]))",
            regex::escape(id.as_str())
        )];
        strong.extend(lines.iter().map(|l| regex::escape(l)));
        let weak: Vec<String> = titles
            .iter()
            .chain(paths)
            .map(|t| regex::escape(t))
            .collect();
        let build = |parts: &[String]| {
            Regex::new(&format!("(?m){}", parts.join("|"))).expect("escaped literals compile")
        };
        Words {
            strong: build(&strong),
            weak: (!weak.is_empty()).then(|| build(&weak)),
        }
    }

    /// Returns true if `text` names the memory; its titles and paths count only when
    /// `involved` (the text belongs to a change of the memory).
    fn in_text(&self, text: &[u8], involved: bool) -> bool {
        self.strong.is_match(text)
            || (involved && self.weak.as_ref().is_some_and(|w| w.is_match(text)))
    }

    /// Returns the new message of a commit (or tag) as the module docs say, or `None` when it
    /// does not name the memory.
    fn scrub(&self, message: &str, touch: Touch) -> Option<String> {
        let names = |line: &str| self.in_text(line.as_bytes(), touch.touched);
        let trailers = message
            .trim_end()
            .rsplit_once("\n\n")
            .map_or("", |(_, last)| last);
        let subject = match trailers.lines().find_map(|l| l.strip_prefix("Memdir-Op: ")) {
            Some(op) => format!("{}: a purged memory", op.trim()),
            None => "a purged change".to_owned(),
        };
        if touch.only {
            let kept: Vec<&str> = trailers
                .lines()
                .filter(|l| PROVENANCE.iter().any(|k| l.starts_with(k)) && !names(l))
                .collect();
            let mut out = format!("{subject}\n");
            if !kept.is_empty() {
                out.push('\n');
                out.push_str(&kept.join("\n"));
                out.push('\n');
            }
            return (out != message).then_some(out);
        }
        if !message.lines().any(names) {
            return None;
        }
        let mut out = String::with_capacity(message.len());
        let mut blank = false;
        for (i, line) in message.lines().enumerate() {
            let line = match (i, names(line)) {
                (0, true) => subject.as_str(),
                (_, true) => continue,
                _ => line,
            };
            // Dropping lines may leave two blank lines in a row: keep paragraphs single.
            let is_blank = line.trim().is_empty();
            if !(is_blank && blank) {
                out.push_str(line);
                out.push('\n');
            }
            blank = is_blank;
        }
        Some(format!("{}\n", out.trim_end()))
    }
}

impl Target {
    fn is_empty(&self) -> bool {
        self.blobs.is_empty() && self.worktree.is_empty()
    }
}

/// Collects the titles and longer lines of one version of the memory.
fn collect_words(bytes: &[u8], titles: &mut BTreeSet<String>, lines: &mut BTreeSet<String>) {
    let text = String::from_utf8_lossy(bytes);
    let Ok(layout) = parse::layout("", &text) else {
        return;
    };
    let yaml = &text[layout.yaml.0..layout.yaml.1];
    if let Some(title) = yaml.lines().find_map(|l| l.strip_prefix("title:")) {
        let title = title.trim().trim_matches(['"', '\'']).trim();
        if !title.is_empty() {
            titles.insert(title.to_owned());
        }
    }
    for line in text[layout.body_start..].lines() {
        let line = line
            .trim()
            .trim_start_matches(['-', '*', '>', '#', ' '])
            .trim();
        if line.chars().count() >= MIN_LINE {
            lines.insert(line.to_owned());
        }
    }
}

impl Memdir {
    /// Returns what [`Memdir::purge`] would do, changing nothing: the paths the memory had,
    /// how many commits would get a new id and which refs would move.
    pub fn purge_plan(&self, id: &str) -> Result<Purged> {
        let id = MemoryId::parse(id)?;
        self.refuse_in_project("memdir forget --purge")?;
        let target = self.purge_target(&id)?;
        if target.is_empty() {
            return Err(Error::NotFound { id: id.to_string() });
        }
        let rewritten = self.rewrite_history(&target, &Provenance::default(), true)?;
        Ok(report(&id, &target, rewritten))
    }

    /// Removes memory `id` from the repository and from its whole history, so that no
    /// commit, tag, reflog entry, object, git index entry or memdir file still holds its text
    /// (module docs say how it is found). Every other memory keeps its history: the same
    /// commits with the same messages, authors, dates and trailers, under new ids from the
    /// first commit that held the memory on. A tombstone commit (`Memdir-Op: purge`) records
    /// that a purge happened, not what was purged.
    ///
    /// This cannot be undone, and every clone or fork made before still holds the memory: each
    /// must re-clone, or fetch and reset every branch hard. Needs the `git` command (for
    /// `git gc`). Fails with [`Error::NotFound`] when no version of the memory exists anywhere,
    /// changing nothing. An interrupted purge (the process killed) leaves every memory's
    /// history intact, and is finished by running it again.
    pub fn purge(&self, id: &str, prov: &Provenance) -> Result<Purged> {
        let id = MemoryId::parse(id)?;
        self.refuse_in_project("memdir forget --purge")?;
        let lock = self.lock()?;
        self.store().check_rewritable()?;
        let marker = self.memdir_dir().join(MARKER);
        let resuming = std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() == id.as_str());
        // We hold the write lock, so a marker on disk belongs to a purge that died, perhaps
        // with refs locked.
        if let Ok(since) = std::fs::metadata(&marker).and_then(|m| m.modified()) {
            for lock in self.store().remove_stale_ref_locks(since)? {
                tracing::warn!("removed {} left by an interrupted purge", lock.display());
            }
        }
        let target = self.purge_target(&id)?;
        if target.is_empty() && !resuming {
            return Err(Error::NotFound { id: id.to_string() });
        }
        super::recover::write_durably(&marker, id.as_str().as_bytes())?;
        let rewritten = self.rewrite_history(&target, prov, false)?;
        crate::fault::point("purge-rewritten");
        let objects_removed = self
            .store()
            .collect_garbage(&|bytes| target.words.in_text(bytes, true), &rewritten)?;
        // libgit2 keeps the packs it had open; git gc replaced them.
        *self.store() = Store::open(&self.root)?;
        self.scrub_memdir_files(&target.words)?;
        self.reindex_locked(&lock, &mut |_, _| {})?;
        self.index.vacuum()?;
        self.drop_versions(&lock)?;
        std::fs::remove_file(&marker).map_err(|e| Error::io(&marker, e))?;
        let mut purged = report(&id, &target, rewritten);
        purged.objects_removed = objects_removed;
        purged.leftovers = self.leftovers(&target.words)?;
        Ok(purged)
    }

    /// Finds the memory's blobs in history and its files in the working tree.
    fn purge_target(&self, id: &MemoryId) -> Result<Target> {
        let mut ids: HashMap<Revision, Option<String>> = HashMap::new();
        let mut matched: Vec<(String, Revision)> = Vec::new();
        let mut unreadable: Vec<(String, Revision)> = Vec::new();
        let (mut titles, mut lines) = (BTreeSet::new(), BTreeSet::new());
        self.store().history_blobs(&mut |blob| {
            let rev = blob.revision();
            let found = ids.entry(rev.clone()).or_insert_with(|| {
                let bytes = blob.bytes(parse::MAX_FILE_BYTES)?;
                let found = parse::front_matter_id(&bytes);
                if found.as_deref() == Some(id.as_str()) {
                    collect_words(&bytes, &mut titles, &mut lines);
                }
                found
            });
            match found {
                Some(f) if f == id.as_str() => matched.push((blob.path.to_owned(), rev)),
                Some(_) => {}
                None => unreadable.push((blob.path.to_owned(), rev)),
            }
            Ok(())
        })?;
        let mut paths: BTreeSet<String> = matched.iter().map(|(p, _)| p.clone()).collect();
        let mut blobs: BTreeSet<(String, Revision)> = matched.into_iter().collect();
        let broken: BTreeSet<Revision> = unreadable
            .iter()
            .filter(|(p, _)| paths.contains(p))
            .map(|(_, r)| r.clone())
            .collect();
        blobs.extend(unreadable.into_iter().filter(|(_, r)| broken.contains(r)));
        let mut worktree = Vec::new();
        let mut candidates: BTreeSet<String> = self.memory_files()?.into_iter().collect();
        candidates.extend(paths.iter().cloned());
        for path in candidates {
            let Some(bytes) = self.read(&path)? else {
                continue;
            };
            let found = parse::front_matter_id(&bytes);
            if found.as_deref() == Some(id.as_str()) || (found.is_none() && paths.contains(&path)) {
                collect_words(&bytes, &mut titles, &mut lines);
                worktree.push(path);
            }
        }
        paths.extend(blobs.iter().map(|(p, _)| p.clone()));
        paths.extend(worktree.iter().cloned());
        let words = Words::new(id, &lines, &titles, &paths);
        Ok(Target {
            blobs,
            worktree,
            words,
        })
    }

    /// Rewrites history without the target (or, with `dry_run`, counts what would change).
    fn rewrite_history(
        &self,
        target: &Target,
        prov: &Provenance,
        dry_run: bool,
    ) -> Result<Rewritten> {
        let date: String = Timestamp::now().to_string().chars().take(10).collect();
        let tombstone = CommitMessage {
            subject: "purge: a memory was removed from history".into(),
            body: Some(format!(
                "On {date} memdir rewrote this repository's history to remove one memory from \
                 every commit, tag and reflog, and deleted the objects that held it. Commits \
                 before this one have new ids.\n\n\
                 Every clone and fork made before still holds the memory: re-clone it, or fetch \
                 and `git reset --hard` each branch to its new tip. Pushing from an old clone \
                 would bring the memory back."
            )),
            trailers: {
                // The blob ids (hashes of each version's bytes, not its text) let `memdir
                // sync` recognise the memory if a stale clone brings it back.
                let mut t = prov.trailers("purge", &[]);
                let blobs: BTreeSet<&String> = target.blobs.iter().map(|(_, b)| &b.0).collect();
                t.extend(
                    blobs
                        .into_iter()
                        .map(|b| (crate::store::PURGED_BLOB_TRAILER.to_owned(), b.clone())),
                );
                t
            },
        };
        let scrub = |message: &str, touch: Touch| target.words.scrub(message, touch);
        let purge = Purge {
            blobs: &target.blobs,
            message: &scrub,
            worktree: &target.worktree,
            tombstone: &tombstone,
            author: prov.author.as_ref(),
        };
        Ok(self.store().rewrite_without(&purge, dry_run)?)
    }

    /// Deletes what memdir's own files under `.git/memdir` keep of the memory (module docs).
    fn scrub_memdir_files(&self, words: &Words) -> Result<()> {
        let dir = self.memdir_dir();
        crate::worktree::StatCache::remove(&dir).map_err(|e| Error::io(&dir, e))?;
        self.seen.forget_stats();
        // The search indexes are rebuilt (tantivy's files are not ours to cut); the marker
        // goes last.
        let skip = [Path::new("index"), Path::new("versions"), Path::new(MARKER)];
        for path in files_under(&dir, &skip)? {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            if !words.in_text(&bytes, true) {
                continue;
            }
            if path.extension().is_some_and(|e| e == "jsonl") {
                let kept: Vec<u8> = bytes
                    .split_inclusive(|b| *b == b'\n')
                    .filter(|line| !words.in_text(line, true))
                    .flatten()
                    .copied()
                    .collect();
                crate::store::atomic_write(&path, &kept)?;
            } else {
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
            }
        }
        Ok(())
    }

    /// Returns the files under `.git` (outside `objects/`, whose files are compressed and
    /// checked through git) that still hold the memory's id or a line of its text.
    fn leftovers(&self, words: &Words) -> Result<Vec<String>> {
        let git_dir = self.store().git_dir().to_owned();
        let mut out = Vec::new();
        for path in files_under(&git_dir, &[Path::new("objects")])? {
            let bytes = std::fs::read(&path).map_err(|e| Error::io(&path, e))?;
            if words.in_text(&bytes, false) {
                let rel = path.strip_prefix(&self.root).unwrap_or(&path);
                out.push(rel.to_string_lossy().into_owned());
            }
        }
        Ok(out)
    }
}

/// Returns every regular file under `dir`, recursively, except the `skip` files and folders
/// (relative to `dir`); symbolic links are not followed.
fn files_under(dir: &Path, skip: &[&Path]) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        let entries = match std::fs::read_dir(&folder) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(Error::io(&folder, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&folder, e))?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
            if skip.iter().any(|s| dir.join(s) == path) {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn report(id: &MemoryId, target: &Target, rewritten: Rewritten) -> Purged {
    let mut paths: BTreeSet<String> = target.blobs.iter().map(|(p, _)| p.clone()).collect();
    paths.extend(target.worktree.iter().cloned());
    let versions: BTreeSet<&Revision> = target.blobs.iter().map(|(_, r)| r).collect();
    Purged {
        id: id.to_string(),
        purged_paths: paths.into_iter().collect(),
        versions: versions.len(),
        commits_rewritten: rewritten.commits,
        refs_rewritten: rewritten.refs,
        worktree_files: target.worktree.clone(),
        tombstone: rewritten.tombstone.map(|c| c.0),
        objects_removed: 0,
        leftovers: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Words {
        let id = MemoryId::parse("alice-ssn-1a2b3c").unwrap();
        let lines = BTreeSet::from(["Alice's SSN is 078-05-1120".to_owned()]);
        let titles = BTreeSet::from(["Alice SSN".to_owned()]);
        let paths = BTreeSet::from(["fact/alice-ssn.md".to_owned()]);
        Words::new(&id, &lines, &titles, &paths)
    }

    const TOUCHED: Touch = Touch {
        touched: true,
        only: false,
    };
    const ONLY: Touch = Touch {
        touched: true,
        only: true,
    };

    #[test]
    fn a_commit_that_only_changed_the_memory_keeps_provenance_alone() {
        let message = "update: Alice SSN (alice-ssn-1a2b3c): body\n\nMemdir-Op: update\nMemdir-Id: alice-ssn-1a2b3c\nMemdir-Session: s-1\nMemdir-Agent: bot\nMemdir-Reason: typo\n";
        assert_eq!(
            words().scrub(message, ONLY).unwrap(),
            "update: a purged memory\n\nMemdir-Op: update\nMemdir-Session: s-1\nMemdir-Agent: bot\n"
        );
        assert_eq!(
            words().scrub("fix Alice SSN\n", ONLY).unwrap(),
            "a purged change\n"
        );
    }

    #[test]
    fn a_batch_commit_loses_only_the_lines_naming_the_memory() {
        let message = "add: 2 memories\n\n- Alice SSN (fact/alice-ssn.md)\n- Bob likes tea (preference/tea.md)\n\nMemdir-Op: add\nMemdir-Id: alice-ssn-1a2b3c\nMemdir-Id: tea-4d5e6f\n";
        assert_eq!(
            words().scrub(message, TOUCHED).unwrap(),
            "add: 2 memories\n\n- Bob likes tea (preference/tea.md)\n\nMemdir-Op: add\nMemdir-Id: tea-4d5e6f\n"
        );
    }

    #[test]
    fn other_commits_are_scrubbed_only_for_the_id_or_a_quoted_line() {
        let w = words();
        // Titles and paths are common words: they count only in commits that changed it.
        assert_eq!(
            w.scrub("notes on Alice SSN policy\n", Touch::default()),
            None
        );
        assert_eq!(w.scrub("add: Tea (tea-4d5e6f)\n", Touch::default()), None);
        // A longer id that starts with this one is another memory.
        assert_eq!(w.scrub("see alice-ssn-1a2b3c-2\n", Touch::default()), None);
        assert_eq!(
            w.scrub(
                "hand-edit: x\n\nquoted: Alice's SSN is 078-05-1120 here\n",
                Touch::default()
            ),
            Some("hand-edit: x\n".into())
        );
        assert_eq!(
            w.scrub("see alice-ssn-1a2b3c.\n", Touch::default()),
            Some("a purged change\n".into())
        );
    }

    #[test]
    fn words_are_collected_from_every_version() {
        let (mut titles, mut lines) = (BTreeSet::new(), BTreeSet::new());
        collect_words(
            b"---\nid: a-1\ntitle: 'Alice SSN'\n---\n- Alice's SSN is 078-05-1120\n- short\n",
            &mut titles,
            &mut lines,
        );
        assert_eq!(titles, BTreeSet::from(["Alice SSN".to_owned()]));
        assert_eq!(
            lines,
            BTreeSet::from(["Alice's SSN is 078-05-1120".to_owned()])
        );
    }
}
