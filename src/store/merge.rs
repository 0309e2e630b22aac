//! The git half of merging two histories: which paths two commits changed since their common
//! ancestor, the merged commit, and moving the working tree, git's index and the branch to it.
//!
//! What a path's content becomes is decided by the caller (`memdir/remote.rs`, with
//! [`crate::merge`]); this module only reads and writes git. Moving to the merged commit is
//! done so that it can be repeated after a crash ([`Store::move_to`]): files that still hold
//! the old commit's content are rewritten, files that already hold the new content are left,
//! files changed by someone else are left alone and reported.

use std::collections::BTreeMap;
use std::path::Path;

use git2::{FileMode, IndexEntry, IndexTime, Oid, build::TreeUpdateBuilder};

use super::{CommitId, CommitMessage, Store, StoreError, git_err};

/// One path that differs between the common ancestor and either side, with its blob id on
/// each side (`None`: no file there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathVersions {
    /// Relative path with `/` separators.
    pub path: String,
    /// The blob in the common ancestor.
    pub base: Option<String>,
    /// The blob on our side.
    pub ours: Option<String>,
    /// The blob on their side.
    pub theirs: Option<String>,
}

impl Store {
    /// Returns the best common ancestor of two commits, or `None` for unrelated histories.
    pub fn merge_base(&self, a: &str, b: &str) -> Result<Option<String>, StoreError> {
        let (a, b) = (
            oid(&self.root, "merge base", a)?,
            oid(&self.root, "merge base", b)?,
        );
        match self.repo.merge_base(a, b) {
            Ok(id) => Ok(Some(id.to_string())),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(git_err("merge base", &self.root)(e)),
        }
    }

    /// Returns every path whose file differs between `base` (`None`: the empty tree) and
    /// `ours` or `theirs`, with the three blob ids. Costs what the two diffs cost: folders
    /// neither side changed are skipped by tree id.
    pub fn three_way(
        &self,
        base: Option<&str>,
        ours: &str,
        theirs: &str,
    ) -> Result<Vec<PathVersions>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let tree_of = |c: &str| -> Result<git2::Tree<'_>, StoreError> {
            self.repo
                .find_commit(oid(&self.root, "merge", c)?)
                .and_then(|c| c.tree())
                .map_err(err("tree"))
        };
        let base_tree = base.map(tree_of).transpose()?;
        let (ours_tree, theirs_tree) = (tree_of(ours)?, tree_of(theirs)?);
        let mut paths = std::collections::BTreeSet::new();
        for side in [&ours_tree, &theirs_tree] {
            let diff = self
                .repo
                .diff_tree_to_tree(base_tree.as_ref(), Some(side), None)
                .map_err(err("diff"))?;
            for delta in diff.deltas() {
                for file in [delta.old_file(), delta.new_file()] {
                    if let Some(p) = file.path().and_then(|p| p.to_str()) {
                        paths.insert(p.to_owned());
                    }
                }
            }
        }
        let blob = |tree: Option<&git2::Tree<'_>>, path: &str| {
            tree.and_then(|t| t.get_path(Path::new(path)).ok())
                .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
                .map(|e| e.id().to_string())
        };
        Ok(paths
            .into_iter()
            .map(|path| PathVersions {
                base: blob(base_tree.as_ref(), &path),
                ours: blob(Some(&ours_tree), &path),
                theirs: blob(Some(&theirs_tree), &path),
                path,
            })
            .collect())
    }

    /// Returns true if commit `a` is `b` or an ancestor of it.
    pub fn is_ancestor(&self, a: &str, b: &str) -> Result<bool, StoreError> {
        let (a, b) = (
            oid(&self.root, "ancestry", a)?,
            oid(&self.root, "ancestry", b)?,
        );
        if a == b {
            return Ok(true);
        }
        self.repo
            .graph_descendant_of(b, a)
            .map_err(git_err("ancestry", &self.root))
    }

    /// Writes a commit whose tree is `start`'s tree with `changes` applied (`None` removes a
    /// path) and whose parents are `parents`, without moving any ref. Returns its id.
    pub fn write_commit(
        &self,
        start: &str,
        changes: &BTreeMap<String, Option<Vec<u8>>>,
        parents: &[&str],
        message: &CommitMessage,
        author: Option<&super::Author>,
    ) -> Result<CommitId, StoreError> {
        let err = |op| git_err(op, &self.root);
        let base = self
            .repo
            .find_commit(oid(&self.root, "merge", start)?)
            .and_then(|c| c.tree())
            .map_err(err("tree"))?;
        let mut updates = TreeUpdateBuilder::new();
        for (path, content) in changes {
            match content {
                Some(bytes) => {
                    let id = self.repo.blob(bytes).map_err(err("blob"))?;
                    updates.upsert(path.as_str(), id, FileMode::Blob);
                }
                None => {
                    updates.remove(path.as_str());
                }
            }
        }
        let tree_id = updates
            .create_updated(&self.repo, &base)
            .map_err(err("tree"))?;
        let tree = self.repo.find_tree(tree_id).map_err(err("tree"))?;
        let parents = parents
            .iter()
            .map(|p| {
                self.repo
                    .find_commit(oid(&self.root, "merge", p)?)
                    .map_err(err("commit"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let committer = self.signature(author, "GIT_COMMITTER_DATE")?;
        let author = self.signature(author, "GIT_AUTHOR_DATE")?;
        let id = self
            .repo
            .commit(
                None,
                &author,
                &committer,
                &message.render(),
                &tree,
                &parents,
            )
            .map_err(err("commit"))?;
        Ok(CommitId(id.to_string()))
    }

    /// Moves the working tree, git's index and the current branch from commit `old` to commit
    /// `new`, for `paths` (the paths the two differ in). Returns the paths left alone because
    /// their file held neither version (someone changed it meanwhile; it stays a hand edit
    /// against `new`).
    ///
    /// Safe to repeat after a crash at any point: a file already holding `new`'s content is
    /// kept, and the branch moves only from `old` (compare-and-swap), so a branch already at
    /// `new` stays.
    pub fn move_to(
        &self,
        old: &str,
        new: &str,
        paths: &[String],
    ) -> Result<Vec<String>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let tree_of = |c: &str| -> Result<git2::Tree<'_>, StoreError> {
            self.repo
                .find_commit(oid(&self.root, "checkout", c)?)
                .and_then(|c| c.tree())
                .map_err(err("tree"))
        };
        let (old_tree, new_tree) = (tree_of(old)?, tree_of(new)?);
        let blob = |tree: &git2::Tree<'_>, path: &str| {
            tree.get_path(Path::new(path))
                .ok()
                .filter(|e| e.kind() == Some(git2::ObjectType::Blob))
                .map(|e| e.id())
        };
        let mut writes = Vec::new();
        let mut left = Vec::new();
        let mut settled = Vec::new();
        for path in paths {
            let (was, will) = (blob(&old_tree, path), blob(&new_tree, path));
            let full = self.root.join(path);
            let now = match std::fs::symlink_metadata(&full) {
                Ok(m) if m.is_file() => {
                    Some(Oid::from_str(&Store::revision_of_file(&full)?.0).map_err(err("hash"))?)
                }
                Ok(_) => {
                    left.push(path.clone());
                    continue;
                }
                Err(_) => None,
            };
            if now == will {
                settled.push((path.clone(), will));
            } else if now == was {
                let content = match will {
                    Some(id) => Some(
                        self.repo
                            .find_blob(id)
                            .map_err(err("read blob"))?
                            .content()
                            .to_vec(),
                    ),
                    None => None,
                };
                writes.push(super::FileWrite {
                    path: path.clone(),
                    content,
                });
                settled.push((path.clone(), will));
            } else {
                left.push(path.clone());
            }
        }
        super::atomic::write_files(&self.root, &writes)?;
        crate::fault::point("sync-files-written");
        let mut index = self.repo.index().map_err(err("index"))?;
        index.read(false).map_err(err("index read"))?;
        for (path, will) in &settled {
            match will {
                Some(_) => index.add_path(Path::new(path)).map_err(err("add"))?,
                None => match index.remove_path(Path::new(path)) {
                    Ok(()) => {}
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {}
                    Err(e) => return Err(err("rm")(e)),
                },
            }
        }
        for path in &left {
            // The file is someone's edit: the index takes the new commit's version, so the
            // edit shows as unstaged against it, as after `git merge`.
            match blob(&new_tree, path) {
                Some(id) => index.add(&index_entry(path, id)).map_err(err("add"))?,
                None => {
                    let _ = index.remove_path(Path::new(path));
                }
            }
        }
        index.write().map_err(err("index write"))?;
        crate::fault::point("sync-staged");
        let head = self.repo.head().map_err(err("head"))?;
        let branch = head.name().unwrap_or("HEAD").to_owned();
        let (old_id, new_id) = (
            oid(&self.root, "checkout", old)?,
            oid(&self.root, "checkout", new)?,
        );
        if head.target() != Some(new_id) {
            let update = || {
                self.repo
                    .reference_matching(&branch, new_id, true, old_id, "memdir sync: merge")
            };
            match super::wait_for_ref_lock(update) {
                Ok(_) => {}
                Err(e) if e.code() == git2::ErrorCode::Modified => {
                    return Err(StoreError::HeadMoved {
                        root: self.root.clone(),
                    });
                }
                Err(e) if e.code() == git2::ErrorCode::Locked => {
                    return Err(StoreError::RefLocked {
                        root: self.root.clone(),
                        source: e,
                    });
                }
                Err(e) => return Err(err("move branch")(e)),
            }
        }
        Ok(left)
    }

    /// Returns every path whose file differs between commit `from` (`None`: the empty tree)
    /// and commit `to`.
    pub fn changed_between(&self, from: Option<&str>, to: &str) -> Result<Vec<String>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let tree_of = |c: &str| -> Result<git2::Tree<'_>, StoreError> {
            self.repo
                .find_commit(oid(&self.root, "diff", c)?)
                .and_then(|c| c.tree())
                .map_err(err("tree"))
        };
        let old = from.map(tree_of).transpose()?;
        let new = tree_of(to)?;
        let diff = self
            .repo
            .diff_tree_to_tree(old.as_ref(), Some(&new), None)
            .map_err(err("diff"))?;
        let mut paths: Vec<String> = diff
            .deltas()
            .flat_map(|d| [d.old_file().path(), d.new_file().path()])
            .flatten()
            .filter_map(|p| p.to_str().map(str::to_owned))
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// Returns the commit a ref points at, if it exists.
    pub fn ref_target(&self, name: &str) -> Option<String> {
        self.repo.refname_to_id(name).ok().map(|o| o.to_string())
    }
}

/// An index entry with no stat data (git hashes the file on the next `status`).
fn index_entry(path: &str, id: Oid) -> IndexEntry {
    let zero = IndexTime::new(0, 0);
    IndexEntry {
        ctime: zero,
        mtime: zero,
        dev: 0,
        ino: 0,
        mode: 0o100644,
        uid: 0,
        gid: 0,
        file_size: 0,
        id,
        flags: (path.len().min(0xfff)) as u16,
        flags_extended: 0,
        path: path.as_bytes().to_vec(),
    }
}

fn oid(root: &Path, op: &'static str, hex: &str) -> Result<Oid, StoreError> {
    Oid::from_str(hex).map_err(git_err(op, root))
}

/// The trailer of a purge's tombstone commit naming one blob the purge removed (a hash of a
/// version's bytes, not its text), so that a sync can recognise the memory coming back.
pub const PURGED_BLOB_TRAILER: &str = "Memdir-Purged-Blob";

impl Store {
    /// Returns every blob that commits reachable from `theirs` but not from `ours` add, each
    /// with the path and commit it is at (a diff of each such commit against its first
    /// parent), plus the blobs named by purge tombstones among those commits.
    pub fn incoming(&self, ours: &str, theirs: &str) -> Result<Incoming, StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut walk = self.repo.revwalk().map_err(err("walk"))?;
        walk.push(oid(&self.root, "walk", theirs)?)
            .map_err(err("walk"))?;
        walk.hide(oid(&self.root, "walk", ours)?)
            .map_err(err("walk"))?;
        let mut out = Incoming::default();
        for id in walk {
            let commit = self
                .repo
                .find_commit(id.map_err(err("walk"))?)
                .map_err(err("walk"))?;
            let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
            out.purged.extend(purged_blobs_in(&message));
            let tree = commit.tree().map_err(err("tree"))?;
            let parent = commit.parent(0).ok().and_then(|p| p.tree().ok());
            let diff = self
                .repo
                .diff_tree_to_tree(parent.as_ref(), Some(&tree), None)
                .map_err(err("diff"))?;
            for d in diff.deltas() {
                let file = d.new_file();
                if file.exists()
                    && let Some(path) = file.path().and_then(|p| p.to_str())
                {
                    out.blobs
                        .entry(file.id().to_string())
                        .or_insert_with(|| (path.to_owned(), commit.id().to_string()));
                }
            }
        }
        Ok(out)
    }

    /// Returns the blobs named by every purge tombstone in the history of `head`: one walk of
    /// history (for a repository whose list of purged blobs is not kept yet).
    pub fn purged_in_history(&self, head: &str) -> Result<Vec<String>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut walk = self.repo.revwalk().map_err(err("walk"))?;
        walk.push(oid(&self.root, "walk", head)?)
            .map_err(err("walk"))?;
        let mut out = Vec::new();
        for id in walk {
            let commit = self
                .repo
                .find_commit(id.map_err(err("walk"))?)
                .map_err(err("walk"))?;
            let message = String::from_utf8_lossy(commit.message_bytes());
            out.extend(purged_blobs_in(&message));
        }
        Ok(out)
    }
}

/// What a remote's commits bring ([`Store::incoming`]).
#[derive(Debug, Clone, Default)]
pub struct Incoming {
    /// Each blob added, with the first path and commit found holding it.
    pub blobs: BTreeMap<String, (String, String)>,
    /// Blobs named by purge tombstones among the commits.
    pub purged: Vec<String>,
}

/// The blob ids of a tombstone's `Memdir-Purged-Blob` trailers.
fn purged_blobs_in(message: &str) -> Vec<String> {
    if !message.contains(PURGED_BLOB_TRAILER) {
        return Vec::new();
    }
    let prefix = format!("{PURGED_BLOB_TRAILER}: ");
    message
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|b| b.trim().to_owned())
        .filter(|b| b.len() == 40 && b.bytes().all(|c| c.is_ascii_hexdigit()))
        .collect()
}
