//! Crash safety: a write announces what it is about to do (the *intent*) before touching any
//! file, and the next process that takes the write lock finishes or cleans up a write whose
//! process died (`kill -9`, power loss) on the way.
//!
//! The intent, `.git/memdir/pending`, names each file the write will change with the revision
//! it will have (or none for a deletion), plus the commit message. It is written atomically
//! (temp file, fsync, rename) while the write lock is held, and removed once the commit is
//! made, or when the write fails with an error its caller sees. An intent found by someone
//! who holds the write lock therefore belongs to a dead writer. Recovery then:
//! - commits, as `Memdir-Op: recover`, every file of the intent whose working-tree revision is
//!   the intended one and differs from HEAD (written, never committed);
//! - leaves a file that someone changed since as a hand edit, with a warning naming it;
//! - removes memdir's temp files (`.memdir-tmp-*`) from the folders the write touched, and git's
//!   lock files the dead writer may have left (only those no older than the intent);
//! - removes the intent; the caller's catch-up then brings the index up to date.
//!
//! A write that was acknowledged to its caller had its commit made before it returned, so
//! recovery never needs to (and never does) touch one.
//!
//! This module owns the journal: the intent (`pending`) and, for a purge, its marker
//! (`purge.rs` writes it through [`write_durably`]; recovery here names an unfinished purge and
//! how to finish it). Both are only written, read and removed under the write lock, so the
//! journal needs no lock of its own.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Memdir;
use crate::lock::WriteLock;
use crate::store::{Author, CommitId, CommitMessage, FileWrite, Store, TEMP_PREFIX};
use crate::{Error, Result};

/// The file holding the intent of the write in progress, in `.git/memdir/`.
const INTENT_FILE: &str = "pending";
/// The prefix of the intent's own temp file.
const INTENT_TEMP_PREFIX: &str = ".pending-";

/// What a write is about to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Intent {
    /// Each file and the revision it will have (`None`: deleted).
    files: Vec<(String, Option<String>)>,
    /// The commit's subject.
    subject: String,
    /// The commit's trailers.
    trailers: Vec<(String, String)>,
    /// The commit's author, when given explicitly (else git config, as for any commit).
    author: Option<(String, String)>,
}

/// What recovery did, for tests and logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Recovered {
    /// The `Memdir-Op: recover` commit, if one was made.
    pub commit: Option<String>,
    /// Files of the interrupted write that someone changed since: left as hand edits.
    pub left: Vec<String>,
}

/// Removes the intent when dropped: after the commit, on an error, on a panic. Only a process
/// that dies leaves it behind.
struct Pending {
    path: PathBuf,
}

impl Drop for Pending {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(
                "cannot remove {}: {e}; the next write will find the write already committed",
                self.path.display()
            );
        }
    }
}

impl Memdir {
    fn intent_path(&self) -> PathBuf {
        self.memdir_dir().join(INTENT_FILE)
    }

    /// Writes `writes` and commits them as one commit, announcing them in the intent file
    /// first so that a crash on the way is repaired by the next process. The caller holds
    /// the write lock (and has recovered any earlier intent by taking it).
    pub(super) fn commit_files(
        &self,
        _lock: &WriteLock,
        writes: &[FileWrite],
        message: &CommitMessage,
        author: Option<&Author>,
    ) -> Result<Option<CommitId>> {
        for w in writes {
            if let Some(link) = self.linked_folder(&w.path) {
                return Err(Error::invalid(format!(
                    "cannot write {}: the folder `{link}` is a symbolic link, and memdir never writes through links (it could lead out of the repository); replace it with a real folder",
                    w.path
                )));
            }
        }
        let intent = Intent {
            files: writes
                .iter()
                .map(|w| {
                    let rev = w.content.as_deref().map(|b| Store::revision_of(b).0);
                    (w.path.clone(), rev)
                })
                .collect(),
            subject: message.subject.clone(),
            trailers: message.trailers.clone(),
            author: author.map(|a| (a.name.clone(), a.email.clone())),
        };
        let path = self.intent_path();
        write_durably(
            &path,
            &serde_json::to_vec(&intent).expect("intent serializes"),
        )?;
        let pending = Pending { path };
        crate::fault::point("after-intent");
        let commit = self.store().commit(writes, message, author)?;
        crate::fault::point("committed");
        drop(pending);
        crate::fault::point("before-index");
        Ok(commit)
    }

    /// Recovers an interrupted write, if some process died in the middle of one. Call with
    /// the write lock held: an intent on disk then belongs to a dead writer.
    pub(super) fn recover(&self, lock: &WriteLock) -> Result<Recovered> {
        self.recover_sync(lock)?;
        let path = self.intent_path();
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Recovered::default()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let intent_time = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let intent: Intent = match serde_json::from_slice(&bytes) {
            Ok(i) => i,
            Err(e) => {
                // Written atomically, so this is not a torn write: some other tool's file.
                tracing::warn!(
                    "ignoring unreadable {} ({e}); uncommitted files show in `memdir status`",
                    path.display()
                );
                std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                return Ok(Recovered::default());
            }
        };
        self.remove_stale_git_locks(intent_time)?;
        let paths: Vec<String> = intent.files.iter().map(|(p, _)| p.clone()).collect();
        let at_head = self.store().head_revisions(&paths)?;
        let mut commit_paths = Vec::new();
        let mut left = Vec::new();
        for ((p, intended), head) in intent.files.iter().zip(at_head) {
            let now = self.revision(p)?.map(|r| r.0);
            let head = head.map(|r| r.0);
            if now == head {
                continue; // never written, or already committed
            }
            if now == *intended {
                commit_paths.push(p.clone());
            } else {
                tracing::warn!(
                    "{p}: an interrupted memdir write was changed by hand before it could be recovered; left uncommitted (`memdir commit` records it)"
                );
                left.push(p.clone());
            }
        }
        for dir in paths
            .iter()
            .map(|p| self.root.join(p).parent().map(Path::to_owned))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .flatten()
        {
            remove_temp_files(&dir, TEMP_PREFIX)?;
        }
        remove_temp_files(&self.memdir_dir(), INTENT_TEMP_PREFIX)?;
        let mut commit = None;
        if !commit_paths.is_empty() {
            let trailers = intent
                .trailers
                .iter()
                .map(|(k, v)| match k.as_str() {
                    "Memdir-Op" => (k.clone(), "recover".to_owned()),
                    _ => (k.clone(), v.clone()),
                })
                .collect();
            let message = CommitMessage {
                subject: format!("recover: {}", intent.subject),
                body: Some(
                    "The write was interrupted before its commit; memdir committed the files it had written when the repository was next used.".into(),
                ),
                trailers,
            };
            let author = intent.author.map(|(name, email)| Author { name, email });
            let made = self.store().commit_paths(
                commit_paths.iter().map(String::as_str),
                &message,
                author.as_ref(),
            )?;
            tracing::warn!(
                "recovered an interrupted write: committed {} as `{}`",
                commit_paths.join(", "),
                message.subject
            );
            commit = made.map(|c| c.0);
            self.catch_up(false, Some(&commit_paths), Some(lock))?;
        }
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        Ok(Recovered { commit, left })
    }

    /// Recovers an interrupted write when opening a repository, if the write lock is free (a
    /// writer holding it recovers before writing anyway).
    pub(super) fn recover_at_open(&self) -> Result<()> {
        if let Ok(id) = std::fs::read_to_string(self.memdir_dir().join(super::purge::MARKER)) {
            tracing::warn!(
                "a purge of `{}` was interrupted: run `memdir forget {} --purge --yes` again to finish it",
                id.trim(),
                id.trim()
            );
        }
        if !self.intent_path().exists() && !self.sync_interrupted() {
            return Ok(());
        }
        if let Some(lock) = self.try_lock()? {
            self.recover(&lock)?;
        }
        Ok(())
    }

    /// Removes git's lock files (`index.lock`, the branch's and HEAD's) that are no older than
    /// the intent of a dead memdir writer: that writer was inside libgit2 when it died, and git
    /// refuses to work while they exist. A plain git command running at this very moment could
    /// own one too; it then fails cleanly and can be rerun.
    fn remove_stale_git_locks(&self, intent_time: Option<std::time::SystemTime>) -> Result<()> {
        let git_dir = self.store().git_dir().to_owned();
        let mut candidates = vec![git_dir.join("index.lock"), git_dir.join("HEAD.lock")];
        if let Ok(head) = std::fs::read_to_string(git_dir.join("HEAD"))
            && let Some(branch) = head.trim().strip_prefix("ref: ")
        {
            candidates.push(git_dir.join(format!("{branch}.lock")));
        }
        for lock in candidates {
            let Ok(meta) = std::fs::metadata(&lock) else {
                continue;
            };
            let fresh = match (meta.modified().ok(), intent_time) {
                (Some(m), Some(i)) => m >= i,
                _ => false,
            };
            if fresh {
                tracing::warn!(
                    "removing {} left by an interrupted memdir write",
                    lock.display()
                );
                std::fs::remove_file(&lock).map_err(|e| Error::io(&lock, e))?;
            }
        }
        Ok(())
    }
}

/// Removes memdir's temp files (names starting with `prefix`) from `dir`: a writer that died between writing one and renaming
/// it into place left it behind. The write lock is held, so none is in use.
fn remove_temp_files(dir: &Path, prefix: &str) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if entry.file_name().to_string_lossy().starts_with(prefix) {
            tracing::debug!("removing {}", entry.path().display());
            std::fs::remove_file(entry.path()).map_err(|e| Error::io(entry.path(), e))?;
        }
    }
    Ok(())
}

/// Writes a file of the journal atomically and durably, its temp file named so that
/// [`Memdir::recover_at_open`] removes a leftover one.
pub(super) fn write_durably(path: &Path, bytes: &[u8]) -> Result<()> {
    Ok(crate::store::atomic_write_own(
        path,
        bytes,
        INTENT_TEMP_PREFIX,
    )?)
}
