//! Rewriting history without some blobs: the git half of `memdir forget --purge`.
//!
//! The caller (the facade, which knows what a memory is) names the blobs to remove, by path
//! and revision, and how commit and tag messages must change; this module does the git work:
//! - [`Store::history_blobs`] shows every `(path, blob)` pair that any commit reachable from a
//!   ref, HEAD or a reflog entry holds, plus git's index, each once (a diff of each commit
//!   against its first parent, so a tree is read only where it changed);
//! - [`Store::rewrite_without`] rewrites every commit reachable from a ref (branches, tags,
//!   remote-tracking branches, `refs/stash`, anything under `refs/`) or a detached HEAD,
//!   parents first: each tree loses the entries holding those blobs (a folder left empty goes
//!   too), each commit keeps its header (author, committer, dates, encoding) byte for byte
//!   with new `tree` and `parent` lines, and its message unless the caller changes it (the
//!   full ids of rewritten commits a message names, such as `Memdir-Reverts: <sha>`, become
//!   their new ids). A commit with nothing to change keeps its id, so history before the memory first appeared
//!   is untouched. Annotated tags are rewritten to point at the rewritten commits. Signatures
//!   (`gpgsig`, a tag's PGP block) cannot survive a rewrite and are dropped from the objects
//!   that change. Then a tombstone commit goes on top of HEAD, and every ref moves in one
//!   libgit2 transaction: all are locked first and checked against what was read, so a ref
//!   that moved meanwhile (plain git) aborts the purge before anything is changed;
//! - [`Store::collect_garbage`] expires every reflog and runs `git gc --prune=now`, which
//!   deletes every object no ref reaches: libgit2 cannot repack or prune, and git's own gc
//!   knows every kind of pack, index and cache file a repository may hold (cruft packs,
//!   bitmaps, commit-graphs, packed refs), so the `git` command must be installed
//!   ([`StoreError::GitMissing`] otherwise, checked before anything is rewritten).
//!
//! New objects are written before any ref moves, so a crash before the transaction leaves
//! history as it was (plus unreachable objects the next gc drops); a crash after it leaves
//! the new history with the old objects still on disk until the purge is run again.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use git2::{ObjectType, Oid, Repository, Sort, Tree};

use super::{Author, CommitId, CommitMessage, Store, StoreError, git_err};
use crate::memory::Revision;

/// How a commit relates to the blobs being removed, for the caller's message rewrite.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Touch {
    /// The commit added, changed or removed one of the blobs (compared with its first parent).
    pub touched: bool,
    /// It did nothing else: once they are gone it is empty (same tree as its first parent).
    pub only: bool,
}

/// What to remove from history, and how.
pub struct Purge<'a> {
    /// The blobs to remove, with every path each was found at ([`Store::history_blobs`]).
    pub blobs: &'a BTreeSet<(String, Revision)>,
    /// Returns the new message of a commit or annotated tag, or `None` to keep it as it is.
    pub message: &'a dyn Fn(&str, Touch) -> Option<String>,
    /// Working-tree files (relative paths) to delete when history is swapped.
    pub worktree: &'a [String],
    /// The tombstone commit put on top of HEAD.
    pub tombstone: &'a CommitMessage,
    /// Its author; `None` uses git config.
    pub author: Option<&'a Author>,
}

/// What [`Store::rewrite_without`] did (or, in a dry run, would do).
#[derive(Debug, Clone, Default)]
pub struct Rewritten {
    /// Commits that get a new id (the tombstone not counted).
    pub commits: usize,
    /// Refs that moved (or were deleted: a tag naming a removed blob), sorted.
    pub refs: Vec<String>,
    /// The tombstone commit (`None` in a dry run).
    pub tombstone: Option<CommitId>,
    /// The stash's entries, oldest first, pointing into the new history: `git stash list`
    /// reads them from the reflog of `refs/stash`, which [`Store::collect_garbage`] empties
    /// with every other reflog and then writes back from these.
    stash: Vec<StashEntry>,
}

/// One entry of the reflog of `refs/stash`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct StashEntry {
    commit: Oid,
    name: String,
    email: String,
    when: git2::Time,
    message: String,
}

/// A blob found in history: its path and revision, and its bytes on request.
pub struct HistoryBlob<'r> {
    repo: &'r Repository,
    oid: Oid,
    /// The path it was found at, relative to the root.
    pub path: &'r str,
}

impl HistoryBlob<'_> {
    /// Returns its revision (git blob id).
    pub fn revision(&self) -> Revision {
        Revision(self.oid.to_string())
    }

    /// Returns its bytes, or `None` when it is larger than `limit` bytes or unreadable.
    pub fn bytes(&self, limit: usize) -> Option<Vec<u8>> {
        let odb = self.repo.odb().ok()?;
        let (size, _) = odb.read_header(self.oid).ok()?;
        if size > limit {
            return None;
        }
        Some(odb.read(self.oid).ok()?.data().to_vec())
    }
}

/// A full commit id in a message.
static COMMIT_ID: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"\b[0-9a-f]{40}\b").expect("valid regex"));

/// Files git writes beside its objects that may quote a memory: the last commit or tag
/// message typed (`git commit`, `git tag -a`), an interrupted merge's message.
const MESSAGE_FILES: &[&str] = &["COMMIT_EDITMSG", "TAG_EDITMSG", "MERGE_MSG", "SQUASH_MSG"];

impl Store {
    /// Fails unless history can be rewritten here: the `git` command is installed (its gc
    /// deletes the old objects), no merge, rebase or cherry-pick is in progress, there are no
    /// linked worktrees (their HEAD and index would keep the old history) and the repository
    /// is neither shallow nor borrowing objects from another one (alternates).
    pub fn check_rewritable(&self) -> Result<(), StoreError> {
        self.git_cli(&["--version"])?;
        let refuse = |why: String| StoreError::NotRewritable {
            root: self.root.clone(),
            why,
        };
        if self.repo.state() != git2::RepositoryState::Clean {
            return Err(refuse(format!(
                "a git operation is in progress ({:?}); finish or abort it first",
                self.repo.state()
            )));
        }
        let worktrees = self
            .repo
            .worktrees()
            .map_err(git_err("worktrees", &self.root))?;
        if !worktrees.is_empty() {
            return Err(refuse(format!(
                "it has linked worktrees ({}); remove them with `git worktree remove` first",
                worktrees
                    .iter()
                    .flatten()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        if self.repo.is_shallow() {
            return Err(refuse("it is a shallow clone".into()));
        }
        if self.git_dir().join("objects/info/alternates").exists() {
            return Err(refuse(
                "it borrows objects from another repository (objects/info/alternates); run `git repack -a -d` and remove that file first".into(),
            ));
        }
        Ok(())
    }

    /// Calls `visit` once for every distinct `(path, blob)` pair held by a commit reachable
    /// from a ref, HEAD or a reflog entry, or staged in git's index.
    pub fn history_blobs(
        &self,
        visit: &mut dyn FnMut(&HistoryBlob<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let err = |op| git_err(op, &self.root);
        let repo = &self.repo;
        let mut seen: HashSet<(String, Oid)> = HashSet::new();
        let mut see = |path: &str, oid: Oid, seen: &mut HashSet<(String, Oid)>| {
            if seen.insert((path.to_owned(), oid)) {
                visit(&HistoryBlob { repo, oid, path })
            } else {
                Ok(())
            }
        };
        let mut walk = repo.revwalk().map_err(err("log"))?;
        for (_, oid) in self.ref_targets()? {
            if let Ok(commit) = repo.find_object(oid, None).and_then(|o| o.peel_to_commit()) {
                walk.push(commit.id()).map_err(err("log"))?;
            }
        }
        for oid in self.reflog_commits()? {
            // A reflog may name commits that no longer exist: skip them.
            let _ = walk.push(oid);
        }
        let mut opts = git2::DiffOptions::new();
        opts.skip_binary_check(true).ignore_submodules(true);
        for oid in walk {
            let commit = repo
                .find_commit(oid.map_err(err("log"))?)
                .map_err(err("log"))?;
            let tree = commit.tree().map_err(err("tree"))?;
            let parent = match commit.parent_ids().next() {
                Some(p) => Some(
                    repo.find_commit(p)
                        .and_then(|c| c.tree())
                        .map_err(err("tree"))?,
                ),
                None => None,
            };
            let diff = repo
                .diff_tree_to_tree(parent.as_ref(), Some(&tree), Some(&mut opts))
                .map_err(err("diff"))?;
            for delta in diff.deltas() {
                let file = delta.new_file();
                let blob = matches!(
                    file.mode(),
                    git2::FileMode::Blob | git2::FileMode::BlobExecutable
                );
                if let (true, Some(path)) = (blob, file.path().and_then(Path::to_str)) {
                    see(path, file.id(), &mut seen)?;
                }
            }
        }
        let mut index = repo.index().map_err(err("index"))?;
        index.read(false).map_err(err("index read"))?;
        for entry in index.iter() {
            if let Ok(path) = std::str::from_utf8(&entry.path) {
                see(path, entry.id, &mut seen)?;
            }
        }
        Ok(())
    }

    /// Rewrites history without `purge.blobs` (module docs). With `dry_run`, writes nothing
    /// and only counts what would change.
    pub fn rewrite_without(
        &self,
        purge: &Purge<'_>,
        dry_run: bool,
    ) -> Result<Rewritten, StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut rw = Rewriter::new(self, purge, dry_run)?;
        let targets = self.ref_targets()?;
        let mut walk = self.repo.revwalk().map_err(err("log"))?;
        walk.set_sorting(Sort::TOPOLOGICAL | Sort::REVERSE)
            .map_err(err("log"))?;
        for (_, oid) in &targets {
            if let Ok(commit) = self
                .repo
                .find_object(*oid, None)
                .and_then(|o| o.peel_to_commit())
            {
                walk.push(commit.id()).map_err(err("log"))?;
            }
        }
        let stash = self.stash_entries();
        for entry in &stash {
            let _ = walk.push(entry.commit); // one that no longer exists is dropped below
        }
        for oid in walk {
            rw.commit(oid.map_err(err("log"))?)?;
        }
        let mut moves: Vec<(String, Oid, Option<Oid>)> = Vec::new();
        for (name, old) in targets {
            let new = rw.object(old)?;
            if new != Some(old) {
                moves.push((name, old, new));
            }
        }
        let mut done = Rewritten {
            commits: rw.changed.len(),
            refs: moves.iter().map(|(n, _, _)| n.clone()).collect(),
            tombstone: None,
            stash: stash
                .into_iter()
                .filter_map(|mut e| {
                    e.commit = *rw.commits.get(&e.commit)?;
                    if let Some(m) = (purge.message)(&e.message, Touch::default()) {
                        e.message = m.trim_end().to_owned();
                    }
                    Some(e)
                })
                .collect(),
        };
        done.refs.sort();
        if dry_run {
            return Ok(done);
        }
        // The tombstone goes on HEAD: its branch, or HEAD itself when detached.
        let head_ref = match self.repo.find_reference("HEAD") {
            Ok(r) => match r.symbolic_target() {
                Ok(Some(branch)) => branch.to_owned(),
                _ => "HEAD".to_owned(),
            },
            Err(e) => return Err(err("head")(e)),
        };
        // Nothing in history held the blobs (only reflogs, git's index or the working tree
        // did, or an interrupted purge had already swapped history): no tombstone.
        if let Some(head) = self.head()?.filter(|_| !moves.is_empty()) {
            let head = Oid::from_str(&head).map_err(err("head"))?;
            let new_head = rw.commits.get(&head).copied().unwrap_or(head);
            let parent = self.repo.find_commit(new_head).map_err(err("tombstone"))?;
            let tree = parent.tree().map_err(err("tombstone"))?;
            let author = self.signature(purge.author, "GIT_AUTHOR_DATE")?;
            let committer = self.signature(purge.author, "GIT_COMMITTER_DATE")?;
            let tombstone = self
                .repo
                .commit(
                    None,
                    &author,
                    &committer,
                    &purge.tombstone.render(),
                    &tree,
                    &[&parent],
                )
                .map_err(err("tombstone"))?;
            match moves.iter_mut().find(|(n, _, _)| *n == head_ref) {
                Some(m) => m.2 = Some(tombstone),
                None => moves.push((head_ref.clone(), head, Some(tombstone))),
            }
            done.tombstone = Some(CommitId(tombstone.to_string()));
        }
        self.swap_refs(&moves, purge)?;
        Ok(done)
    }

    /// Moves every ref in `moves` (name, the target it was read at, the new one or `None`
    /// to delete it) in one transaction, and in between deletes `purge.worktree` and git's
    /// index entries for the removed blobs.
    fn swap_refs(
        &self,
        moves: &[(String, Oid, Option<Oid>)],
        purge: &Purge<'_>,
    ) -> Result<(), StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut tx = self.repo.transaction().map_err(err("lock refs"))?;
        for (name, _, _) in moves {
            tx.lock_ref(name).map_err(err("lock refs"))?;
        }
        for (name, old, _) in moves {
            let now = self
                .repo
                .find_reference(name)
                .map_err(err("lock refs"))?
                .target();
            if now != Some(*old) {
                return Err(StoreError::RefMoved {
                    root: self.root.clone(),
                    name: name.clone(),
                });
            }
        }
        let oids: HashSet<Oid> = purge
            .blobs
            .iter()
            .filter_map(|(_, r)| Oid::from_str(&r.0).ok())
            .collect();
        let mut index = self.repo.index().map_err(err("index"))?;
        index.read(false).map_err(err("index read"))?;
        let stale: Vec<(PathBuf, i32)> = index
            .iter()
            .filter(|e| {
                oids.contains(&e.id)
                    || purge
                        .worktree
                        .iter()
                        .any(|p| p.as_bytes() == e.path.as_slice())
            })
            .filter_map(|e| {
                let path = PathBuf::from(String::from_utf8(e.path).ok()?);
                Some((path, i32::from((e.flags >> 12) & 3)))
            })
            .collect();
        for (path, stage) in &stale {
            index.remove(path, *stage).map_err(err("index"))?;
        }
        for path in purge.worktree {
            let full = self.root.join(path);
            match std::fs::remove_file(&full) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Write { path: full, source }),
            }
        }
        index.write().map_err(err("index write"))?;
        crate::fault::point("purge-swap");
        // Its own signature: libgit2's default needs user.name in git config.
        let who = self.signature(purge.author, "GIT_COMMITTER_DATE")?;
        for (name, _, new) in moves {
            match new {
                Some(oid) => tx
                    .set_target(name, *oid, Some(&who), "memdir: purge")
                    .map_err(err("move ref"))?,
                None => tx.remove(name).map_err(err("move ref"))?,
            }
        }
        tx.commit().map_err(err("move refs"))
    }

    /// Removes the lock files (of refs, `packed-refs`, HEAD and git's index) modified at or
    /// after `since`: a purge killed while it held them between locking the refs and moving
    /// them left them, and git refuses to touch a locked ref. The caller holds memdir's write
    /// lock and found the marker of the dead purge, written at `since`. Returns them.
    pub fn remove_stale_ref_locks(
        &self,
        since: std::time::SystemTime,
    ) -> Result<Vec<PathBuf>, StoreError> {
        let git_dir = self.git_dir().to_owned();
        let mut candidates = vec![
            git_dir.join("HEAD.lock"),
            git_dir.join("packed-refs.lock"),
            git_dir.join("index.lock"),
        ];
        let mut folders = vec![git_dir.join("refs")];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
                let path = entry.path();
                if entry.file_type().is_ok_and(|t| t.is_dir()) {
                    folders.push(path);
                } else if path.extension().is_some_and(|e| e == "lock") {
                    candidates.push(path);
                }
            }
        }
        let mut removed = Vec::new();
        for lock in candidates {
            let fresh = std::fs::metadata(&lock)
                .and_then(|m| m.modified())
                .is_ok_and(|m| m >= since);
            if fresh {
                std::fs::remove_file(&lock).map_err(|source| StoreError::Write {
                    path: lock.clone(),
                    source,
                })?;
                removed.push(lock);
            }
        }
        Ok(removed)
    }

    /// Deletes everything only the old history held: pseudo-refs naming old commits
    /// (`ORIG_HEAD`, `FETCH_HEAD`), the message files in `.git` for which `quotes` is true,
    /// every reflog entry (the stash's are then written back from `rewritten`, pointing into
    /// the new history), and every object no ref reaches (`git gc --prune=now`). Returns how
    /// many objects were deleted.
    pub fn collect_garbage(
        &self,
        quotes: &dyn Fn(&[u8]) -> bool,
        rewritten: &Rewritten,
    ) -> Result<usize, StoreError> {
        let git_dir = self.git_dir().to_owned();
        let remove = |path: &Path| match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(StoreError::Write {
                path: path.to_owned(),
                source: e,
            }),
            _ => Ok(()),
        };
        for name in ["ORIG_HEAD", "FETCH_HEAD"] {
            remove(&git_dir.join(name))?;
        }
        for name in MESSAGE_FILES {
            let path = git_dir.join(name);
            if std::fs::read(&path).is_ok_and(|b| quotes(&b)) {
                remove(&path)?;
            }
        }
        // A conflict git's rerere recorded keeps both sides' text.
        if let Ok(entries) = std::fs::read_dir(git_dir.join("rr-cache")) {
            for dir in entries.flatten().map(|e| e.path()) {
                let quoted = std::fs::read_dir(&dir)
                    .into_iter()
                    .flatten()
                    .flatten()
                    .any(|f| std::fs::read(f.path()).is_ok_and(|b| quotes(&b)));
                if quoted {
                    std::fs::remove_dir_all(&dir)
                        .map_err(|source| StoreError::Write { path: dir, source })?;
                }
            }
        }
        let before = self.count_objects()?;
        self.git_cli(&[
            "reflog",
            "expire",
            "--expire=now",
            "--expire-unreachable=now",
            "--all",
        ])?;
        if !rewritten.stash.is_empty() {
            self.write_stash_log(&rewritten.stash)?;
        }
        self.git_cli(&[
            "-c",
            "gc.autoDetach=false",
            "-c",
            "gc.cruftPacks=false",
            "-c",
            "gc.reflogExpire=now",
            "-c",
            "gc.reflogExpireUnreachable=now",
            "-c",
            "gc.rerereResolved=now",
            "-c",
            "gc.rerereUnresolved=now",
            "gc",
            "--prune=now",
            "--quiet",
        ])?;
        Ok(before.saturating_sub(self.count_objects()?))
    }

    /// Returns the entries of the reflog of `refs/stash`, newest first (none without a stash).
    fn stash_entries(&self) -> Vec<StashEntry> {
        let Ok(log) = self.repo.reflog("refs/stash") else {
            return Vec::new();
        };
        log.iter()
            .map(|e| {
                let who = e.committer();
                StashEntry {
                    commit: e.id_new(),
                    name: String::from_utf8_lossy(who.name_bytes()).into_owned(),
                    email: String::from_utf8_lossy(who.email_bytes()).into_owned(),
                    when: who.when(),
                    message: e.message().ok().flatten().unwrap_or_default().to_owned(),
                }
            })
            .collect()
    }

    /// Replaces the reflog of `refs/stash` with `entries` (newest first, as read).
    fn write_stash_log(&self, entries: &[StashEntry]) -> Result<(), StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut log = self.repo.reflog("refs/stash").map_err(err("stash log"))?;
        while !log.is_empty() {
            log.remove(0, false).map_err(err("stash log"))?;
        }
        for e in entries.iter().rev() {
            let who = git2::Signature::new(&e.name, &e.email, &e.when).map_err(err("stash log"))?;
            log.append(e.commit, &who, Some(&e.message))
                .map_err(err("stash log"))?;
        }
        log.write().map_err(err("stash log"))
    }

    /// Returns how many objects the repository holds, loose and packed (`git count-objects`).
    fn count_objects(&self) -> Result<usize, StoreError> {
        let out = self.git_cli(&["count-objects", "-v"])?;
        Ok(out
            .lines()
            .filter_map(|l| l.split_once(": "))
            .filter(|(k, _)| matches!(*k, "count" | "in-pack"))
            .filter_map(|(_, v)| v.trim().parse::<usize>().ok())
            .sum())
    }

    /// Returns every direct ref (name, target), HEAD included when it is detached.
    fn ref_targets(&self) -> Result<Vec<(String, Oid)>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut out = Vec::new();
        for r in self.repo.references().map_err(err("refs"))? {
            let r = r.map_err(err("refs"))?;
            if let (Ok(name), Some(oid)) = (r.name(), r.target()) {
                out.push((name.to_owned(), oid));
            }
        }
        if self.repo.head_detached().unwrap_or(false)
            && let Some(oid) = self
                .repo
                .find_reference("HEAD")
                .ok()
                .and_then(|r| r.target())
        {
            out.push(("HEAD".to_owned(), oid));
        }
        Ok(out)
    }

    /// Returns every commit named by a reflog entry (of HEAD and of every ref).
    fn reflog_commits(&self) -> Result<Vec<Oid>, StoreError> {
        let mut names: Vec<String> = self.ref_targets()?.into_iter().map(|(n, _)| n).collect();
        names.push("HEAD".into());
        let mut out = Vec::new();
        for name in names {
            if let Ok(log) = self.repo.reflog(&name) {
                for entry in log.iter() {
                    out.extend(
                        [entry.id_old(), entry.id_new()]
                            .into_iter()
                            .filter(|o| !o.is_zero()),
                    );
                }
            }
        }
        Ok(out)
    }
}

/// The state of one rewrite: what each old object became.
struct Rewriter<'s, 'a> {
    store: &'s Store,
    purge: &'a Purge<'a>,
    dry_run: bool,
    /// The blobs to remove.
    oids: HashSet<Oid>,
    /// Every path they were found at.
    paths: Vec<String>,
    /// Old commit -> new commit (itself when unchanged; always itself in a dry run).
    commits: HashMap<Oid, Oid>,
    /// Commits that change.
    changed: HashSet<Oid>,
    /// Old commit -> its new tree.
    new_trees: HashMap<Oid, Oid>,
    /// Old root tree -> the removed blobs it holds, as `(path, blob)`.
    present: HashMap<Oid, Vec<(String, Oid)>>,
    /// `(folder, old tree)` -> new tree, `None` when nothing is left in it.
    trees: HashMap<(String, Oid), Option<Oid>>,
    /// Old annotated tag -> new one (`None`: its target is gone, so is the tag).
    tags: HashMap<Oid, Option<Oid>>,
    empty_tree: Oid,
}

impl<'s, 'a> Rewriter<'s, 'a> {
    fn new(store: &'s Store, purge: &'a Purge<'a>, dry_run: bool) -> Result<Self, StoreError> {
        let mut oids = HashSet::new();
        let mut paths = BTreeSet::new();
        for (path, rev) in purge.blobs {
            oids.insert(Oid::from_str(&rev.0).map_err(git_err("blob", &store.root))?);
            paths.insert(path.clone());
        }
        let empty_tree =
            Oid::hash_object(ObjectType::Tree, b"").map_err(git_err("tree", &store.root))?;
        Ok(Rewriter {
            store,
            purge,
            dry_run,
            oids,
            paths: paths.into_iter().collect(),
            commits: HashMap::new(),
            changed: HashSet::new(),
            new_trees: HashMap::new(),
            present: HashMap::new(),
            trees: HashMap::new(),
            tags: HashMap::new(),
            empty_tree,
        })
    }

    fn repo(&self) -> &'s Repository {
        &self.store.repo
    }

    fn err(&self, op: &'static str) -> impl Fn(git2::Error) -> StoreError + '_ {
        git_err(op, &self.store.root)
    }

    /// Returns the removed blobs `tree` holds, by path.
    fn present(&mut self, tree: &Tree<'_>) -> Vec<(String, Oid)> {
        if let Some(p) = self.present.get(&tree.id()) {
            return p.clone();
        }
        let found: Vec<(String, Oid)> = self
            .paths
            .iter()
            .filter_map(|p| {
                let entry = tree.get_path(Path::new(p)).ok()?;
                self.oids
                    .contains(&entry.id())
                    .then(|| (p.clone(), entry.id()))
            })
            .collect();
        self.present.insert(tree.id(), found.clone());
        found
    }

    /// Returns the new message of a commit or tag: the caller's rewrite, then the full ids of
    /// rewritten commits it names (`Memdir-Reverts: <sha>`) replaced by their new ids. `None`
    /// when it stays as it is.
    fn message(&self, message: &[u8], touch: Touch) -> Option<String> {
        let text = String::from_utf8_lossy(message);
        let rewritten = (self.purge.message)(&text, touch);
        let text = rewritten.as_deref().unwrap_or(&text);
        let mut named = false;
        let mapped = COMMIT_ID.replace_all(text, |c: &regex::Captures<'_>| {
            let old = Oid::from_str(&c[0]).ok();
            match old.filter(|o| self.changed.contains(o)) {
                Some(o) => {
                    named = true;
                    self.commits.get(&o).copied().unwrap_or(o).to_string()
                }
                None => c[0].to_owned(),
            }
        });
        // In a dry run the ids stay, but naming a changed commit still changes the message.
        (rewritten.is_some() || named).then(|| mapped.into_owned())
    }

    /// Rewrites commit `oid`; its parents were rewritten before it.
    fn commit(&mut self, oid: Oid) -> Result<(), StoreError> {
        let repo = self.repo();
        let commit = repo.find_commit(oid).map_err(self.err("commit"))?;
        let tree = commit.tree().map_err(self.err("tree"))?;
        let present = self.present(&tree);
        let first_parent = commit.parents().next();
        let parent_present = match &first_parent {
            Some(p) => self.present(&p.tree().map_err(self.err("tree"))?),
            None => Vec::new(),
        };
        let old_parents: Vec<Oid> = commit.parent_ids().collect();
        let parents: Vec<Oid> = old_parents
            .iter()
            .map(|p| self.commits.get(p).copied().unwrap_or(*p))
            .collect();
        let parents_changed = old_parents.iter().any(|p| self.changed.contains(p));
        let new_tree = if present.is_empty() || self.dry_run {
            tree.id()
        } else {
            let paths: Vec<&str> = present.iter().map(|(p, _)| p.as_str()).collect();
            self.tree("", &tree, &paths)?.unwrap_or(self.empty_tree)
        };
        let touched = present != parent_present;
        let parent_tree = match first_parent {
            Some(p) => self.new_trees.get(&p.id()).copied(),
            None => Some(self.empty_tree),
        };
        let only = touched && !self.dry_run && parent_tree == Some(new_tree);
        self.new_trees.insert(oid, new_tree);
        let odb = repo.odb().map_err(self.err("read"))?;
        let raw = odb.read(oid).map_err(self.err("read"))?;
        let (header, message) = split_object(raw.data());
        let new_message = self.message(message, Touch { touched, only });
        if present.is_empty() && !parents_changed && new_message.is_none() {
            self.commits.insert(oid, oid);
            return Ok(());
        }
        self.changed.insert(oid);
        if self.dry_run {
            self.commits.insert(oid, oid);
            return Ok(());
        }
        let mut bytes = commit_header(header, new_tree, &parents);
        bytes.push(b'\n');
        bytes.extend_from_slice(new_message.as_deref().map_or(message, str::as_bytes));
        let new = odb
            .write(ObjectType::Commit, &bytes)
            .map_err(self.err("write commit"))?;
        self.commits.insert(oid, new);
        Ok(())
    }

    /// Returns `tree` (found at `folder`) without the entries at `remove` (paths relative
    /// to the root), or `None` when nothing is left.
    fn tree(
        &mut self,
        folder: &str,
        tree: &Tree<'_>,
        remove: &[&str],
    ) -> Result<Option<Oid>, StoreError> {
        let key = (folder.to_owned(), tree.id());
        if let Some(done) = self.trees.get(&key) {
            return Ok(*done);
        }
        let repo = self.repo();
        let mut builder = repo.treebuilder(Some(tree)).map_err(self.err("tree"))?;
        let mut by_child: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for path in remove {
            let rest = path.strip_prefix(folder).unwrap_or(path);
            let (child, _) = rest.split_once('/').unwrap_or((rest, ""));
            by_child.entry(child).or_default().push(path);
        }
        for (child, paths) in by_child {
            let Some(entry) = tree.get_name(child) else {
                continue;
            };
            let sub = format!("{folder}{child}/");
            let kept = if entry.kind() == Some(ObjectType::Tree) {
                let subtree = repo.find_tree(entry.id()).map_err(self.err("tree"))?;
                self.tree(&sub, &subtree, &paths)?
            } else {
                None
            };
            match kept {
                Some(id) => {
                    builder
                        .insert(child, id, entry.filemode())
                        .map_err(self.err("tree"))?;
                }
                None => builder.remove(child).map_err(self.err("tree"))?,
            }
        }
        let out = if builder.is_empty() {
            None
        } else {
            Some(builder.write().map_err(self.err("write tree"))?)
        };
        self.trees.insert(key, out);
        Ok(out)
    }

    /// Returns what a ref to `oid` must point at now: the rewritten commit, tag or tree, or
    /// `None` when the ref must go (it names a removed blob).
    fn object(&mut self, oid: Oid) -> Result<Option<Oid>, StoreError> {
        let repo = self.repo();
        let kind = repo
            .odb()
            .and_then(|o| o.read_header(oid))
            .map_err(self.err("read"))?
            .1;
        Ok(match kind {
            // A dry run writes no commit: a changed one is told apart by a made-up id.
            ObjectType::Commit if self.dry_run && self.changed.contains(&oid) => {
                Some(Oid::ZERO_SHA1)
            }
            ObjectType::Commit => Some(self.commits.get(&oid).copied().unwrap_or(oid)),
            ObjectType::Tag => self.tag(oid)?,
            ObjectType::Blob => (!self.oids.contains(&oid)).then_some(oid),
            ObjectType::Tree if !self.dry_run => {
                let tree = repo.find_tree(oid).map_err(self.err("tree"))?;
                let present = self.present(&tree);
                let paths: Vec<&str> = present.iter().map(|(p, _)| p.as_str()).collect();
                if paths.is_empty() {
                    Some(oid)
                } else {
                    Some(self.tree("", &tree, &paths)?.unwrap_or(self.empty_tree))
                }
            }
            _ => Some(oid),
        })
    }

    /// Rewrites annotated tag `oid` to point at what its target became, with its message
    /// rewritten as the caller says; `None` when its target is gone.
    fn tag(&mut self, oid: Oid) -> Result<Option<Oid>, StoreError> {
        if let Some(done) = self.tags.get(&oid) {
            return Ok(*done);
        }
        let repo = self.repo();
        let target = repo.find_tag(oid).map_err(self.err("tag"))?.target_id();
        let new_target = self.object(target)?;
        let odb = repo.odb().map_err(self.err("read"))?;
        let raw = odb.read(oid).map_err(self.err("read"))?;
        let (header, message) = split_object(raw.data());
        let new_message = self.message(message, Touch::default());
        let out = match new_target {
            None => None,
            Some(t) if t == target && new_message.is_none() => Some(oid),
            Some(_) if self.dry_run => Some(Oid::ZERO_SHA1),
            Some(t) => {
                let mut bytes = Vec::with_capacity(raw.data().len());
                for line in header.split_inclusive(|b| *b == b'\n') {
                    if line.starts_with(b"object ") {
                        bytes.extend_from_slice(format!("object {t}\n").as_bytes());
                    } else {
                        bytes.extend_from_slice(line);
                    }
                }
                bytes.push(b'\n');
                let message = new_message.as_deref().map_or(message, str::as_bytes);
                bytes.extend_from_slice(without_signature(message));
                Some(
                    odb.write(ObjectType::Tag, &bytes)
                        .map_err(self.err("write tag"))?,
                )
            }
        };
        self.tags.insert(oid, out);
        Ok(out)
    }
}

/// Splits a commit or tag object into its header (ending with a newline) and its message.
fn split_object(data: &[u8]) -> (&[u8], &[u8]) {
    match data.windows(2).position(|w| w == b"\n\n") {
        Some(at) => (&data[..=at], &data[at + 2..]),
        None => (data, &[]),
    }
}

/// Returns a commit header with `tree` and `parents` in place of its own, and without its
/// signature (which the new content would not match); every other field is kept byte for
/// byte.
fn commit_header(header: &[u8], tree: Oid, parents: &[Oid]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len());
    let mut skipping = false;
    for line in header.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b" ") {
            if !skipping {
                out.extend_from_slice(line); // a continuation of a kept field
            }
            continue;
        }
        skipping = false;
        if line.starts_with(b"tree ") {
            out.extend_from_slice(format!("tree {tree}\n").as_bytes());
            for p in parents {
                out.extend_from_slice(format!("parent {p}\n").as_bytes());
            }
        } else if line.starts_with(b"parent ") {
        } else if line.starts_with(b"gpgsig ") || line.starts_with(b"gpgsig-sha256 ") {
            skipping = true;
        } else {
            out.extend_from_slice(line);
        }
    }
    out
}

/// Returns a tag message without its trailing PGP or SSH signature block.
fn without_signature(message: &[u8]) -> &[u8] {
    for marker in [
        &b"-----BEGIN PGP SIGNATURE-----"[..],
        b"-----BEGIN SSH SIGNATURE-----",
    ] {
        if let Some(at) = message.windows(marker.len()).position(|w| w == marker) {
            return &message[..at];
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n\
        parent 1111111111111111111111111111111111111111\n\
        author A <a@x> 1700000000 +0100\n\
        committer C <c@x> 1700000001 -0500\n\
        gpgsig -----BEGIN PGP SIGNATURE-----\n \n abc\n -----END PGP SIGNATURE-----\n\
        encoding ISO-8859-1\n";

    #[test]
    fn a_commit_header_keeps_every_field_but_tree_parents_and_signature() {
        let tree = Oid::from_str("2222222222222222222222222222222222222222").unwrap();
        let parents = [
            Oid::from_str("3333333333333333333333333333333333333333").unwrap(),
            Oid::from_str("4444444444444444444444444444444444444444").unwrap(),
        ];
        let out = commit_header(HEADER.as_bytes(), tree, &parents);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "tree 2222222222222222222222222222222222222222\n\
             parent 3333333333333333333333333333333333333333\n\
             parent 4444444444444444444444444444444444444444\n\
             author A <a@x> 1700000000 +0100\n\
             committer C <c@x> 1700000001 -0500\n\
             encoding ISO-8859-1\n"
        );
    }

    #[test]
    fn an_object_splits_at_its_first_blank_line() {
        let (h, m) = split_object(b"tree x\nauthor a\n\nsubject\n\nbody\n");
        assert_eq!(
            (h, m),
            (&b"tree x\nauthor a\n"[..], &b"subject\n\nbody\n"[..])
        );
        assert_eq!(split_object(b"tree x\n"), (&b"tree x\n"[..], &b""[..]));
    }

    #[test]
    fn a_tag_message_loses_its_signature() {
        let m = b"v1\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n";
        assert_eq!(without_signature(m), b"v1\n");
        assert_eq!(without_signature(b"v1\n"), b"v1\n");
    }
}
