//! Memory that travels: `memdir sync` and `memdir clone`.
//!
//! A sync fetches the remote branch, merges it with memdir's own merge (front-matter key by
//! key, bodies with diff3, [`crate::merge`]), moves the working tree to the merged commit and
//! pushes it, without force: when the remote moved meanwhile the push is refused, and the
//! sync fetches and merges again. What it never does: write a conflict marker into a file,
//! drop a memory, or overwrite the remote.
//!
//! - Changed on one side only: that side's version. Changed alike: kept.
//! - Changed differently on both sides: merged; when the changes truly contradict, our
//!   version stays the memory and theirs is written beside it as a *conflict sibling*
//!   (`conflict_of: ID`, quarantined, so never injected) that `memdir review` lists and
//!   `approve` (theirs replaces ours) or `reject` (theirs goes) settle.
//! - Edited on one side, removed on the other: the edit wins, and the merge commit says so.
//! - Added on both sides under one id (or one path): both kept, theirs renamed.
//! - Every memory that arrives passes the write guard: a poisoned one is quarantined here, in
//!   the merge commit, which the push then carries back to the remote.
//!
//! Only moving the working tree holds the write lock: fetching, merging and pushing do not,
//! so writers and searches carry on. Moving is announced first in `.git/memdir/sync-pending`
//! (old commit, new commit, paths), and repeated from there by the next process that takes the
//! lock if this one dies (`kill -9`) on the way; see [`crate::store::Store::move_to`].
//!
//! Files that are not memories (`MEMORY.md`, `memory.toml`, READMEs) merge with diff3 too;
//! when their changes contradict, ours is kept and the sync reports it (theirs stays in the
//! merge commit's second parent).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Memdir, Provenance, is_memory_path};
use crate::lock::WriteLock;
use crate::memory::{Memory, Revision};
use crate::merge::{self, CONFLICT_OF_KEY, Merged};
use crate::parse::{self, Edit, FieldValue};
use crate::store::{CommitMessage, PathVersions, Pushed, Store, Upstream};
use crate::{Error, Result};

/// How many times a sync fetches and merges again when the remote moved before its push.
pub const MAX_ATTEMPTS: usize = 10;

/// The file announcing a sync's move of the working tree, in `.git/memdir/`.
const SYNC_INTENT_FILE: &str = "sync-pending";

/// Why a sync could not finish.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// Files the merge must change have uncommitted edits.
    #[error("cannot sync: {} ha{} uncommitted changes and the remote changed {} too; commit them first with `memdir commit` (or undo them), then sync again", paths.join(", "), if paths.len() == 1 { "s" } else { "ve" }, if paths.len() == 1 { "it" } else { "them" })]
    Unsynced {
        /// The edited files.
        paths: Vec<String>,
    },
    /// The remote branch moved before every push, attempt after attempt.
    #[error(
        "the branch `{branch}` of `{remote}` moved before each of {attempts} pushes; nothing is lost (the merges are committed here), run `memdir sync` again"
    )]
    KeptMoving {
        /// The remote.
        remote: String,
        /// Its branch.
        branch: String,
        /// How many times the sync tried.
        attempts: usize,
    },
    /// The remote's new commits hold a version of a memory purged here.
    #[error(
        "`{remote}` holds a memory that was purged here with `memdir forget --purge` ({path}, in its commit {commit}); nothing was merged. A clone made before the purge pushed it back: re-clone that clone, then push this repository's history to `{remote}` with `git push --force-with-lease`"
    )]
    Purged {
        /// The remote.
        remote: String,
        /// Where the purged version lies in the remote's commit.
        path: String,
        /// The remote's commit holding it.
        commit: String,
    },
    /// The remote's new commits carry a purge of a memory this clone still holds: merging
    /// and pushing would bring it back there.
    #[error(
        "`{remote}` purged a memory this clone still holds ({path}); nothing was merged or pushed. Make this clone like the remote: copy out anything written here since the last sync, then re-clone, or run `git fetch {remote} && git reset --hard {remote}/{branch}`"
    )]
    PurgedThere {
        /// The remote.
        remote: String,
        /// Its branch.
        branch: String,
        /// Where this clone holds the purged memory.
        path: String,
    },
    /// `forget --purge --push` on a clone that has not merged what the remote holds: pushing
    /// its rewritten history would drop those commits. Nothing was purged.
    #[error(
        "`{remote}` has commits this clone has not merged; pushing a purged history now would drop them. Nothing was purged: run `memdir sync`, then `memdir forget ID --purge --push` again"
    )]
    PurgeBehind {
        /// The remote.
        remote: String,
    },
    /// The remote branch moved between the check and the push of a purged history: the
    /// purge is done here, the remote still holds the memory.
    #[error(
        "purged here, but the branch `{branch}` of `{remote}` moved since it was checked, so nothing was pushed (the lease held). `{remote}` still holds the memory: run `git fetch {remote}`, then `memdir forget ID --purge --push` again, which purges what arrived and pushes"
    )]
    LeaseBroken {
        /// The remote.
        remote: String,
        /// Its branch.
        branch: String,
    },
    /// `memdir clone` into a folder that is not empty.
    #[error("cannot clone into {}: the folder exists and is not empty; name a new folder", path.display())]
    NotEmpty {
        /// The folder.
        path: PathBuf,
    },
}

/// Where `forget --purge --push` pushed the purged history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct PurgePushed {
    /// The remote.
    pub remote: String,
    /// Its branch, now at `commit`.
    pub branch: String,
    /// The purged history's tip.
    pub commit: String,
    /// What the remote branch held before (the lease), if it existed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replaced: Option<String>,
}

/// A memory that both sides changed in ways that contradict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct SyncConflict {
    /// The memory's path; our version stays there.
    pub path: String,
    /// The memory's id (none for files that are not memories).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The id of the sibling memory holding their version, quarantined for review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sibling: Option<String>,
    /// The sibling's path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sibling_path: Option<String>,
    /// What contradicted: front-matter keys, or `body`.
    pub what: Vec<String>,
}

/// A memory both sides added under one id or path: theirs was renamed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Renamed {
    /// The id (or path) both claimed.
    pub from: String,
    /// Their memory's new id.
    pub id: String,
    /// Their memory's path.
    pub path: String,
}

/// What a sync did. The four counts a program watches are the lengths of `received`, `sent`,
/// `merged` and `conflicts`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Synced {
    /// The remote synced with.
    pub remote: String,
    /// Its branch.
    pub branch: String,
    /// Memory files that came from the remote (added, changed or removed there), by path.
    pub received: Vec<String>,
    /// Memory files this repository had changed that the remote did not have yet, by path.
    pub sent: Vec<String>,
    /// Memory files both sides changed, merged into one, by path.
    pub merged: Vec<String>,
    /// Memories both sides changed in ways that contradict (each kept twice, see
    /// [`SyncConflict`]), and other files whose version here was kept.
    pub conflicts: Vec<SyncConflict>,
    /// Arrived memories the write guard quarantined, by path.
    pub quarantined: Vec<String>,
    /// Memories edited on one side and removed on the other: the edit was kept. By path.
    pub kept_edits: Vec<String>,
    /// Memories both sides added under one id: theirs renamed.
    pub renamed: Vec<Renamed>,
    /// HEAD after the sync.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub head: Option<String>,
    /// The merge commit, when one was made (not for a fast-forward or nothing to do).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_commit: Option<String>,
    /// Whether commits were pushed.
    pub pushed: bool,
    /// How many fetch-merge-push rounds it took (more than 1 when the remote moved).
    pub attempts: usize,
}

/// A sync's announced move of the working tree.
#[derive(Debug, Serialize, Deserialize)]
struct SyncIntent {
    old: String,
    new: String,
    paths: Vec<String>,
}

/// A merge worked out, not yet applied.
#[derive(Default)]
struct MergePlan {
    /// Every path whose content differs from our commit, and its new content.
    changes: BTreeMap<String, Option<Vec<u8>>>,
    /// Whether the result differs from their commit (else it is a fast-forward).
    differs_from_theirs: bool,
    /// Guard rules that flagged arrivals.
    rules: BTreeSet<String>,
    /// Lines for the merge commit's body.
    log: Vec<String>,
    /// Our commit and theirs: what arrives is reachable from theirs and not from ours.
    sides: (String, String),
}

impl Memdir {
    /// Fetches `remote` (default: the branch's upstream, else `origin`), merges what it has
    /// with memdir's memory-aware merge, and pushes the result, fetching and merging again
    /// when the remote moved meanwhile (up to [`MAX_ATTEMPTS`] times).
    ///
    /// Fetch and push run the `git` command, so every URL, ssh setting and credential helper
    /// that works for `git pull` works here (see `store/remote.rs`).
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let tmp = tempfile::tempdir().unwrap();
    /// # let git = |args: &[&str]| assert!(std::process::Command::new("git").args(args).current_dir(tmp.path()).output().unwrap().status.success());
    /// use memdir::{Memdir, NewMemory, Provenance};
    /// git(&["init", "--quiet", "--bare", "hub.git"]);
    /// let a = Memdir::init(&tmp.path().join("a"))?;
    /// git(&["-C", "a", "remote", "add", "origin", "../hub.git"]);
    /// let w = a.remember(NewMemory::new("The build needs Rust 1.89."), &Provenance::agent("doc"))?;
    /// let sent = a.sync(None, &Provenance::agent("doc"))?;
    /// assert!(sent.pushed && sent.sent.len() == 1);
    ///
    /// let b = Memdir::clone_from(tmp.path().join("hub.git").to_str().unwrap(), &tmp.path().join("b"))?;
    /// assert_eq!(b.get(&w.id)?.body.trim(), "The build needs Rust 1.89.");
    /// # Ok(()) }
    /// ```
    #[tracing::instrument(skip_all)]
    pub fn sync(&self, remote: Option<&str>, prov: &Provenance) -> Result<Synced> {
        self.refuse_in_project("memdir sync")?;
        // A store of its own for the transfers, so that this handle's other threads (a
        // server's searches) never wait on the network for the shared one.
        let net = Store::open(&self.root)?;
        let up = net.upstream(remote)?;
        let mut report = Synced {
            remote: up.remote.clone(),
            branch: up.branch.clone(),
            ..Synced::default()
        };
        for attempt in 1..=MAX_ATTEMPTS {
            report.attempts = attempt;
            let theirs = net.fetch(&up)?;
            let Some(ours) = self.store().head()? else {
                return Err(Error::invalid(
                    "this repository has no commit yet: run `memdir init` first",
                ));
            };
            let Some(theirs) = theirs else {
                // An empty remote: everything here is new there.
                if self.push(&net, &up, &ours, None, &mut report)? {
                    return Ok(report);
                }
                continue;
            };
            if self.store().is_ancestor(&theirs, &ours)? {
                if theirs != ours && !self.push(&net, &up, &ours, Some(&theirs), &mut report)? {
                    continue;
                }
                report.head = Some(ours);
                return Ok(report);
            }
            self.refuse_purged(&up, &ours, &theirs)?;
            let new = match self.merge_and_move(&up, &ours, &theirs, prov, &mut report)? {
                Some(new) => new,
                None => continue, // HEAD moved under us: a local write; merge again
            };
            if self.push(&net, &up, &new, Some(&theirs), &mut report)? {
                report.head = Some(new);
                return Ok(report);
            }
        }
        Err(SyncError::KeptMoving {
            remote: up.remote,
            branch: up.branch,
            attempts: MAX_ATTEMPTS,
        }
        .into())
    }

    /// Pushes `commit`, recording what it sends beyond `theirs`. Returns false when the
    /// remote moved (fetch and merge again).
    fn push(
        &self,
        net: &Store,
        up: &Upstream,
        commit: &str,
        theirs: Option<&str>,
        report: &mut Synced,
    ) -> Result<bool> {
        if theirs == Some(commit) {
            return Ok(true);
        }
        let sent = net.changed_between(theirs, commit)?;
        match net.push(up, commit)? {
            Pushed::Done => {
                report.pushed = true;
                report.sent = sent.into_iter().filter(|p| is_memory_path(p)).collect();
                report.head = Some(commit.to_owned());
                Ok(true)
            }
            Pushed::Moved(why) => {
                tracing::info!("the remote moved before the push ({why}); merging again");
                Ok(false)
            }
        }
    }

    /// Merges `theirs` into `ours` and moves the working tree there. Returns the new HEAD, or
    /// `None` if HEAD moved from `ours` before the lock was taken.
    fn merge_and_move(
        &self,
        up: &Upstream,
        ours: &str,
        theirs: &str,
        prov: &Provenance,
        report: &mut Synced,
    ) -> Result<Option<String>> {
        let base = self.store().merge_base(ours, theirs)?;
        let fast_forward = base.as_deref() == Some(ours);
        let mut fresh = Synced {
            remote: report.remote.clone(),
            branch: report.branch.clone(),
            attempts: report.attempts,
            ..Synced::default()
        };
        let plan = self.plan_merge(base.as_deref(), ours, theirs, &mut fresh)?;
        let new = if fast_forward && !plan.differs_from_theirs {
            theirs.to_owned()
        } else {
            let mut trailers = prov.trailers("sync", &[]);
            trailers.push(("Memdir-Remote".into(), up.remote.clone()));
            trailers.extend(super::guarded::guard_trailer(
                plan.rules.iter().map(String::as_str),
            ));
            let message = CommitMessage {
                subject: format!(
                    "sync: merge {}/{} ({} received, {} merged, {} in conflict)",
                    up.remote,
                    up.branch,
                    fresh.received.len(),
                    fresh.merged.len(),
                    fresh.conflicts.len()
                ),
                body: (!plan.log.is_empty()).then(|| plan.log.join("\n")),
                trailers,
            };
            let parents: Vec<&str> = if fast_forward {
                vec![theirs]
            } else {
                vec![ours, theirs]
            };
            let commit = self.store().write_commit(
                ours,
                &plan.changes,
                &parents,
                &message,
                prov.author.as_ref(),
            )?;
            fresh.merge_commit = Some(commit.0.clone());
            commit.0
        };
        let paths: Vec<String> = plan.changes.keys().cloned().collect();
        let lock = self.lock()?;
        if self.store().head()?.as_deref() != Some(ours) {
            return Ok(None);
        }
        self.check_unedited(ours, &paths)?;
        let intent = SyncIntent {
            old: ours.to_owned(),
            new: new.clone(),
            paths,
        };
        let intent_path = self.memdir_dir().join(SYNC_INTENT_FILE);
        super::recover::write_durably(
            &intent_path,
            &serde_json::to_vec(&intent).expect("intent serializes"),
        )?;
        crate::fault::point("sync-intent");
        self.finish_move(&lock, &intent)?;
        // Rounds accumulate: what an earlier round merged is in this HEAD already.
        report.received.extend(fresh.received);
        report.merged.extend(fresh.merged);
        report.conflicts.extend(fresh.conflicts);
        report.quarantined.extend(fresh.quarantined);
        report.kept_edits.extend(fresh.kept_edits);
        report.renamed.extend(fresh.renamed);
        report.merge_commit = fresh.merge_commit.or(report.merge_commit.take());
        Ok(Some(new))
    }

    /// Fails if the commits `theirs` brings hold a version of a memory purged in this
    /// repository's history, or carry the tombstone of a purge of a memory that this
    /// clone's own commits hold: the purge's tombstone names each version's blob (a hash of
    /// its bytes, not its text). Walks this repository's history for tombstones, and the
    /// incoming (and, after a purge there, outgoing) commits' diffs.
    fn refuse_purged(&self, up: &Upstream, ours: &str, theirs: &str) -> Result<()> {
        let incoming = self.store().incoming(ours, theirs)?;
        // A purge made there: this clone must not push back what it erased.
        if !incoming.purged.is_empty() {
            let outgoing = self.store().incoming(theirs, ours)?;
            for (blob, (path, _)) in &outgoing.blobs {
                if incoming.purged.contains(blob) {
                    return Err(SyncError::PurgedThere {
                        remote: up.remote.clone(),
                        branch: up.branch.clone(),
                        path: path.clone(),
                    }
                    .into());
                }
            }
        }
        let purged: BTreeSet<String> = self.store().purged_in_history(ours)?.into_iter().collect();
        if purged.is_empty() {
            return Ok(());
        }
        for (blob, (path, commit)) in &incoming.blobs {
            if purged.contains(blob) {
                return Err(SyncError::Purged {
                    remote: up.remote.clone(),
                    path: path.clone(),
                    commit: commit.clone(),
                }
                .into());
            }
        }
        Ok(())
    }

    /// Fails if any of `paths` differs in the working tree from commit `ours`: the merge
    /// would overwrite an uncommitted edit. Costs a hash of each path only.
    fn check_unedited(&self, ours: &str, paths: &[String]) -> Result<()> {
        let mut edited = Vec::new();
        for path in paths {
            let in_ours = self.store().blob_at(ours, path)?;
            let now = self.revision(path)?.map(|r| r.0);
            if now != in_ours {
                edited.push(path.clone());
            }
        }
        if edited.is_empty() {
            Ok(())
        } else {
            Err(SyncError::Unsynced { paths: edited }.into())
        }
    }

    /// Moves the working tree, git's index and the branch as `intent` says, catches the index
    /// up, and removes the intent. Repeating it after a crash finishes the move.
    fn finish_move(&self, lock: &WriteLock, intent: &SyncIntent) -> Result<()> {
        let left = self
            .store()
            .move_to(&intent.old, &intent.new, &intent.paths)?;
        for path in &left {
            tracing::warn!(
                "{path} was changed by someone else during the sync: left as it is, as an uncommitted edit"
            );
        }
        crate::fault::point("sync-moved");
        let path = self.memdir_dir().join(SYNC_INTENT_FILE);
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        self.catch_up(false, None, Some(lock))?;
        Ok(())
    }

    /// Finishes the move of a sync whose process died, if there is one. The caller holds the
    /// write lock.
    pub(super) fn recover_sync(&self, lock: &WriteLock) -> Result<()> {
        let path = self.memdir_dir().join(SYNC_INTENT_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(Error::io(&path, e)),
        };
        let Ok(intent) = serde_json::from_slice::<SyncIntent>(&bytes) else {
            tracing::warn!("ignoring {}: not a sync intent", path.display());
            return std::fs::remove_file(&path).map_err(|e| Error::io(&path, e));
        };
        let head = self.store().head()?;
        if head.as_deref() != Some(&intent.old) && head.as_deref() != Some(&intent.new) {
            tracing::warn!(
                "an interrupted sync meant to move {} to {}, but HEAD is at {}; leaving the working tree as it is",
                intent.old,
                intent.new,
                head.as_deref().unwrap_or("nothing")
            );
            return std::fs::remove_file(&path).map_err(|e| Error::io(&path, e));
        }
        tracing::info!("finishing an interrupted sync");
        self.finish_move(lock, &intent)
    }

    /// Returns true if a sync's move of the working tree was interrupted.
    pub(super) fn sync_interrupted(&self) -> bool {
        self.memdir_dir().join(SYNC_INTENT_FILE).exists()
    }

    /// Works out the merged content of every path either side changed since `base`.
    fn plan_merge(
        &self,
        base: Option<&str>,
        ours: &str,
        theirs: &str,
        report: &mut Synced,
    ) -> Result<MergePlan> {
        let versions = self.store().three_way(base, ours, theirs)?;
        let mut plan = MergePlan {
            sides: (ours.to_owned(), theirs.to_owned()),
            ..MergePlan::default()
        };
        // Ids each side added, to find one id added on both sides at different paths.
        let mut ours_added = BTreeMap::new();
        for v in &versions {
            if v.base.is_none()
                && v.theirs.is_none()
                && is_memory_path(&v.path)
                && let Some(o) = &v.ours
                && let Some(id) = parse::front_matter_id(&self.store().blob(o)?)
            {
                ours_added.insert(id, v.path.clone());
            }
        }
        for v in versions {
            self.plan_path(&v, &ours_added, &mut plan, report)?;
        }
        Ok(plan)
    }

    /// Decides one path (see the module's documentation for the rules).
    fn plan_path(
        &self,
        v: &PathVersions,
        ours_added: &BTreeMap<String, String>,
        plan: &mut MergePlan,
        report: &mut Synced,
    ) -> Result<()> {
        let path = v.path.as_str();
        let memory = is_memory_path(path);
        let text = |id: &Option<String>| -> Result<Option<Vec<u8>>> {
            id.as_ref()
                .map(|i| self.store().blob(i))
                .transpose()
                .map_err(Error::from)
        };
        if v.ours == v.theirs {
            return Ok(());
        }
        if v.base == v.theirs {
            // Only we changed it: ours stays, and the result differs from theirs.
            plan.differs_from_theirs = true;
            return Ok(());
        }
        let ours_text = text(&v.ours)?;
        let theirs_text = text(&v.theirs)?;
        let base_text = text(&v.base)?;
        if v.base == v.ours || v.ours.is_none() {
            // Only they changed it, or we removed what they edited (the edit wins).
            if v.base != v.ours {
                plan.differs_from_theirs = true; // our removal is undone: still a merge
                if memory {
                    report.kept_edits.push(path.to_owned());
                    plan.log.push(format!(
                        "{path}: removed here, edited on the remote; the edit is kept."
                    ));
                }
            }
            let Some(bytes) = theirs_text else {
                plan.changes.insert(path.to_owned(), None);
                if memory {
                    report.received.push(path.to_owned());
                }
                return Ok(());
            };
            let mut bytes = bytes;
            if memory {
                if v.base.is_none() && v.ours.is_none() {
                    bytes = self.rename_if_claimed(path, bytes, ours_added, plan, report)?;
                }
                bytes = self.guard_arrival(path, bytes, ours_text.or(base_text), plan, report)?;
                report.received.push(path.to_owned());
            }
            plan.changes.insert(path.to_owned(), Some(bytes));
            return Ok(());
        }
        plan.differs_from_theirs = true;
        let Some(theirs_bytes) = theirs_text else {
            // We edited what they removed: the edit wins.
            if memory {
                report.kept_edits.push(path.to_owned());
                plan.log.push(format!(
                    "{path}: edited here, removed on the remote; the edit is kept."
                ));
            }
            return Ok(());
        };
        let ours_bytes = ours_text.unwrap_or_default();
        let as_text = |b: &[u8]| String::from_utf8(b.to_vec()).ok();
        let (Some(o), Some(t)) = (as_text(&ours_bytes), as_text(&theirs_bytes)) else {
            self.keep_ours(path, vec!["not text".into()], plan, report);
            return Ok(());
        };
        let b = base_text.as_deref().and_then(as_text);
        match merge::merge_text(b.as_deref(), &o, &t) {
            Merged::Clean(text) => {
                let mut bytes = text.into_bytes();
                if memory {
                    bytes = self.guard_arrival(path, bytes, Some(ours_bytes), plan, report)?;
                    report.merged.push(path.to_owned());
                }
                if bytes != o.as_bytes() {
                    plan.changes.insert(path.to_owned(), Some(bytes));
                }
            }
            Merged::Conflict(what) if memory && v.base.is_none() => {
                // Both added a file at this path: both kept, theirs beside ours.
                let _ = what;
                let hex = merge::short_hash(&t);
                let stem = path.strip_suffix(".md").unwrap_or(path);
                let new_path = format!("{stem}-{hex}.md");
                let bytes = self.renamed_text(&new_path, &t, &hex, report, path)?;
                let bytes = self.guard_arrival(&new_path, bytes, None, plan, report)?;
                report.received.push(new_path.clone());
                plan.changes.insert(new_path, Some(bytes));
            }
            Merged::Conflict(what) if memory => {
                let id = parse::parse_memory(path, o.as_bytes(), Store::revision_of(o.as_bytes()))
                    .map(|m| m.front.id)
                    .unwrap_or_else(|_| parse::path_id(path));
                let sibling = merge::conflict_sibling(&id, path, &t, &what)?;
                plan.log.push(format!(
                    "{path}: changed on both sides in ways that contradict ({}); the remote's version is kept as {} for review.",
                    what.join(", "),
                    sibling.path
                ));
                report.conflicts.push(SyncConflict {
                    path: path.to_owned(),
                    id: Some(id.to_string()),
                    sibling: Some(sibling.id.to_string()),
                    sibling_path: Some(sibling.path.clone()),
                    what,
                });
                plan.changes
                    .insert(sibling.path, Some(sibling.text.into_bytes()));
            }
            Merged::Conflict(what) => self.keep_ours(path, what, plan, report),
        }
        Ok(())
    }

    /// A file that is not a memory, changed on both sides in ways that contradict: ours stays.
    fn keep_ours(&self, path: &str, what: Vec<String>, plan: &mut MergePlan, report: &mut Synced) {
        plan.log.push(format!(
            "{path}: changed on both sides in ways that contradict; this side's version is kept (the remote's is this commit's second parent)."
        ));
        report.conflicts.push(SyncConflict {
            path: path.to_owned(),
            what,
            ..SyncConflict::default()
        });
    }

    /// A memory they added whose id we added too (at another path): theirs gets a new id.
    fn rename_if_claimed(
        &self,
        path: &str,
        bytes: Vec<u8>,
        ours_added: &BTreeMap<String, String>,
        plan: &mut MergePlan,
        report: &mut Synced,
    ) -> Result<Vec<u8>> {
        let Some(id) = parse::front_matter_id(&bytes) else {
            return Ok(bytes);
        };
        if !ours_added.contains_key(&id) {
            return Ok(bytes);
        }
        let Ok(text) = String::from_utf8(bytes.clone()) else {
            return Ok(bytes);
        };
        plan.differs_from_theirs = true;
        let hex = merge::short_hash(&text);
        let bytes = self.renamed_text(path, &text, &hex, report, &id)?;
        plan.log.push(format!(
            "{path}: its id `{id}` was added here too (at {}); renamed.",
            ours_added[&id]
        ));
        Ok(bytes)
    }

    /// Their memory `text` at `path` with its id given the suffix `-<hex>`.
    fn renamed_text(
        &self,
        path: &str,
        text: &str,
        hex: &str,
        report: &mut Synced,
        from: &str,
    ) -> Result<Vec<u8>> {
        let memory = parse::parse_memory(path, text.as_bytes(), Revision(String::new()))?;
        let mut stem = memory.front.id.to_string();
        stem.truncate(crate::MemoryId::MAX_LEN - hex.len() - 1);
        let new_id =
            crate::MemoryId::parse(&format!("{}-{hex}", stem.trim_end_matches(['-', '.'])))?;
        let with_front = match parse::find_layout(path, text)? {
            Some(_) => text.to_owned(),
            None => format!("---\n---\n{text}"),
        };
        let edited = parse::edit(
            path,
            &with_front,
            &Edit {
                fields: vec![("id".into(), FieldValue::Text(new_id.to_string()))],
                body: None,
            },
        )?;
        report.renamed.push(Renamed {
            from: from.to_owned(),
            id: new_id.to_string(),
            path: path.to_owned(),
        });
        Ok(edited.into_bytes())
    }

    /// Passes an arriving memory through the write guard, as a local write would, judging
    /// only what is new against `old` (the version here). A flagged memory comes back with a
    /// `quarantine:` block.
    fn guard_arrival(
        &self,
        path: &str,
        bytes: Vec<u8>,
        old: Option<Vec<u8>>,
        plan: &mut MergePlan,
        report: &mut Synced,
    ) -> Result<Vec<u8>> {
        let range = (Some(plan.sides.0.as_str()), plan.sides.1.as_str());
        let Some((guarded, flags)) = self.guard_arrived(path, &bytes, old.as_deref(), range)?
        else {
            return Ok(bytes);
        };
        plan.differs_from_theirs = true;
        plan.rules.extend(flags.iter().map(|f| f.rule.clone()));
        report.quarantined.push(path.to_owned());
        plan.log.push(format!(
            "{path}: held back by the write guard on arrival ({}).",
            flags
                .iter()
                .map(|f| f.rule.as_str())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(guarded)
    }

    /// Settles a conflict sibling on approval: its version replaces the memory it is the
    /// other version of (keeping that memory's id), and the sibling goes, in one commit.
    /// Returns `None` if `memory` is not a conflict sibling.
    pub(super) fn approve_conflict(
        &self,
        lock: &WriteLock,
        memory: &Memory,
        prov: &Provenance,
    ) -> Result<Option<super::Written>> {
        let Some(of) = memory
            .front
            .extra
            .get(CONFLICT_OF_KEY)
            .and_then(|v| v.as_str())
        else {
            return Ok(None);
        };
        let original = self.find(of, Some(lock))?;
        let text = String::from_utf8(self.read(&memory.path)?.unwrap_or_default())
            .map_err(|_| Error::invalid(format!("{} is not UTF-8", memory.path)))?;
        let new_text = parse::edit(
            &original.path,
            &text,
            &Edit {
                fields: vec![
                    ("id".into(), FieldValue::Text(original.front.id.to_string())),
                    (CONFLICT_OF_KEY.into(), FieldValue::Remove),
                    (crate::memory::QUARANTINE_KEY.into(), FieldValue::Remove),
                ],
                body: None,
            },
        )?;
        let revision = Store::revision_of(new_text.as_bytes());
        let mut trailers = prov.trailers("approve", &[&original.front.id, &memory.front.id]);
        trailers.push(("Memdir-Guard".into(), merge::CONFLICT_RULE.into()));
        let message = CommitMessage {
            subject: format!(
                "approve: {} ({}) takes the other machine's version",
                original.front.title, original.front.id
            ),
            body: Some(format!(
                "The conflict is settled: the version kept as {} replaces this one.",
                memory.front.id
            )),
            trailers,
        };
        let writes = vec![
            crate::store::FileWrite {
                path: original.path.clone(),
                content: Some(new_text.into_bytes()),
            },
            crate::store::FileWrite {
                path: memory.path.clone(),
                content: None,
            },
        ];
        let commit = self
            .commit_indexed(lock, &writes, &message, prov.author.as_ref())?
            .map(|c| c.0);
        Ok(Some(super::Written {
            id: original.front.id.to_string(),
            path: original.path,
            revision: Some(revision),
            commit,
            ..super::Written::default()
        }))
    }

    /// Returns, for a repository whose branch syncs with a remote, the `git push` that would
    /// replace the remote branch with this repository's history under a lease on the commit
    /// the last fetch saw there; `None` without a remote. `forget --purge` without `--push`
    /// asks before purging (a purge rewrites the remote-tracking ref too) and prints it after.
    pub fn purge_push_command(&self) -> Result<Option<String>> {
        let store = self.store();
        let Ok(up) = store.upstream(None) else {
            return Ok(None);
        };
        let lease = match store.tracking_tip(&up)? {
            Some(old) => format!("refs/heads/{}:{old}", up.branch),
            None => format!("refs/heads/{}", up.branch),
        };
        Ok(Some(format!(
            "git push --force-with-lease={lease} {} HEAD:refs/heads/{}",
            up.remote, up.branch
        )))
    }

    /// Purges memory `id` (see [`Memdir::purge`]) and replaces `remote`'s branch (as `sync`
    /// picks it) with the purged history, under a lease: first it fetches, and refuses
    /// before purging anything when the remote holds commits this clone has not merged
    /// ([`SyncError::PurgeBehind`]); then it pushes only if the remote branch is still where
    /// the fetch saw it ([`SyncError::LeaseBroken`] otherwise: the purge is done here, run it
    /// again after a fetch). Other clones must then re-clone or reset; until they do, a sync
    /// from them is refused ([`SyncError::Purged`]).
    pub fn purge_and_push(
        &self,
        id: &str,
        remote: Option<&str>,
        prov: &Provenance,
    ) -> Result<(crate::Purged, PurgePushed)> {
        self.refuse_in_project("memdir forget --purge --push")?;
        let up = self.store().upstream(remote)?;
        let remote_tip = self.store().fetch(&up)?;
        // Each `store()` guard is dropped before the next is taken: the mutex is not
        // reentrant.
        let head = self.store().head()?;
        if let (Some(tip), Some(head)) = (&remote_tip, &head) {
            let merged = self.store().is_ancestor(tip, head)?;
            if !merged {
                return Err(SyncError::PurgeBehind { remote: up.remote }.into());
            }
        }
        let purged = self.purge(id, prov)?;
        let head = self
            .store()
            .head()?
            .expect("a purged repository has a commit: the tombstone");
        let pushed = match &remote_tip {
            Some(tip) => self.store().push_with_lease(&up, &head, tip)?,
            None => self.store().push(&up, &head)?,
        };
        if let Pushed::Moved(_) = pushed {
            return Err(SyncError::LeaseBroken {
                remote: up.remote,
                branch: up.branch,
            }
            .into());
        }
        Ok((
            purged,
            PurgePushed {
                remote: up.remote,
                branch: up.branch,
                commit: head,
                replaced: remote_tip,
            },
        ))
    }

    /// Clones the repository at `url` into `dir` (which must not exist or be empty), registers
    /// memdir's merge driver in its `.git/config`, and builds its index. An empty remote gets
    /// a new memory repository, which the first `memdir sync` pushes.
    pub fn clone_from(url: &str, dir: &Path) -> Result<Memdir> {
        if std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(SyncError::NotEmpty {
                path: dir.to_owned(),
            }
            .into());
        }
        crate::store::clone_repository(url, dir)?;
        if !dir.join(crate::config::CONFIG_FILE).exists() && Store::open(dir)?.head()?.is_none() {
            return Memdir::init(dir);
        }
        // A project's repository opens at its memory folder.
        let mem = Memdir::discover(dir)?;
        mem.refresh()?;
        Ok(mem)
    }
}
