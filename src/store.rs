//! Where memories live: files in a git working tree, written atomically and committed one
//! change at a time. The only module that talks to git.
//!
//! A write goes: temp file in the target folder, `fsync`, rename over the target, `fsync` the
//! folder (a batch of many files shares two `syncfs` calls instead), stage the path in git's
//! index, build the new tree from HEAD's tree plus exactly the written paths (so unrelated
//! staged changes are never swept into a memdir commit), commit.
//! Afterwards `git status` is clean for those paths. Locking is the caller's job
//! ([`crate::lock`]).

use std::path::{Path, PathBuf};

use git2::{
    FileMode, ObjectType, Oid, Repository, RepositoryInitOptions, Signature, StatusOptions,
    build::TreeUpdateBuilder,
};

use crate::memory::Revision;

mod atomic;
mod git_cli;
mod history;
mod merge;
mod purge;
mod remote;

pub(crate) use atomic::TEMP_PREFIX;
pub(crate) use atomic::atomic_write_own;
pub use atomic::{BATCH_SYNC_MIN, atomic_write};
pub use git_cli::GitObjects;
pub use history::{CommitInfo, FileChange, TagInfo, line_origins, note_of};
pub use merge::{Incoming, PURGED_BLOB_TRAILER, PathVersions};
pub use purge::{HistoryBlob, Purge, Rewritten, Touch};
pub use remote::{MERGE_ATTRIBUTE, Pushed, Upstream, clone_repository};

/// Why a git operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// libgit2 reported an error.
    #[error("git {op} failed in {}", root.display())]
    Git {
        /// What memdir was doing.
        op: &'static str,
        /// The repository.
        root: PathBuf,
        /// libgit2's error.
        #[source]
        source: git2::Error,
    },
    /// A file could not be written, renamed or removed.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// History cannot be rewritten in this repository as it is.
    #[error("cannot rewrite the history of {}: {why}", root.display())]
    NotRewritable {
        /// The repository.
        root: PathBuf,
        /// Why, and what to do.
        why: String,
    },
    /// A ref moved while memdir was rewriting history (another writer that does not take
    /// memdir's lock, such as plain git).
    #[error("{name} moved during the rewrite of {}; nothing was changed, run the purge again", root.display())]
    RefMoved {
        /// The repository.
        root: PathBuf,
        /// The ref.
        name: String,
    },
    /// The `git` command, which deletes unreachable objects after a rewrite, is not installed.
    #[error("the `git` command is not installed (or not on PATH); purging needs it to delete the old objects of {}", root.display())]
    GitMissing {
        /// The repository.
        root: PathBuf,
    },
    /// The `git` command failed.
    #[error("`{command}` failed in {}: {stderr}", root.display())]
    GitCommand {
        /// The repository.
        root: PathBuf,
        /// The command line.
        command: String,
        /// What git printed on stderr.
        stderr: String,
    },
    /// The repository's HEAD moved while memdir was committing (another writer that does not
    /// take memdir's lock, such as plain git).
    #[error("HEAD moved during the commit in {}; nothing was committed, the written files are left for `memdir commit`", root.display())]
    HeadMoved {
        /// The repository.
        root: PathBuf,
    },
    /// Another git process held the branch's lock for longer than a write waits.
    #[error("the branch of {} stayed locked by another git process (a `.lock` file under .git/refs, or .git/packed-refs.lock); nothing was committed, the written files are left for `memdir commit`. If no git command is running, delete the stale .lock file", root.display())]
    RefLocked {
        /// The repository.
        root: PathBuf,
        /// libgit2's error, which names the lock file.
        #[source]
        source: git2::Error,
    },
    /// A remote cannot be synced with as the repository is set up (no such remote, a
    /// detached HEAD).
    #[error("cannot sync {}: {why}", root.display())]
    Remote {
        /// The repository.
        root: PathBuf,
        /// Why, and what to do.
        why: String,
    },
    /// Fetching from or pushing to a remote failed (unreachable, refused, not authorized).
    #[error("`{command}` failed in {}: {stderr}", root.display())]
    Transfer {
        /// The repository.
        root: PathBuf,
        /// The command line.
        command: String,
        /// What git printed.
        stderr: String,
    },
    /// A tag of that name exists already.
    #[error(
        "a snapshot or tag named `{name}` exists already: choose another name (see `memdir snapshots`)"
    )]
    TagExists {
        /// The name.
        name: String,
    },
    /// git cannot name a tag so.
    #[error(
        "`{name}` cannot name a snapshot: use letters, digits, `-`, `_`, `.` and `/`, with no spaces, `..`, `~`, `^`, `:` or `\\`"
    )]
    BadName {
        /// The name.
        name: String,
    },
}

/// Who a commit is by.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Author {
    /// Display name.
    pub name: String,
    /// Email address.
    pub email: String,
}

/// One file to write (`Some` bytes) or delete (`None`), by path relative to the root.
#[derive(Debug, Clone)]
pub struct FileWrite {
    /// Relative path with `/` separators.
    pub path: String,
    /// New contents, or `None` to delete the file.
    pub content: Option<Vec<u8>>,
}

/// A commit message: subject, optional body, and `Key: value` trailers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitMessage {
    /// First line.
    pub subject: String,
    /// Paragraphs after the subject.
    pub body: Option<String>,
    /// Trailers, in order, parseable by `git interpret-trailers`.
    pub trailers: Vec<(String, String)>,
}

impl CommitMessage {
    /// Renders the message as git stores it.
    pub fn render(&self) -> String {
        let one_line = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut out = one_line(&self.subject);
        out.push('\n');
        if let Some(body) = self.body.as_deref().filter(|b| !b.trim().is_empty()) {
            out.push('\n');
            out.push_str(body.trim_end());
            out.push('\n');
        }
        if !self.trailers.is_empty() {
            out.push('\n');
            for (key, value) in &self.trailers {
                out.push_str(key);
                out.push_str(": ");
                out.push_str(&one_line(value));
                out.push('\n');
            }
        }
        out
    }
}

/// How long a write waits for a ref another git process holds locked (`git gc` packing
/// refs, a `git commit` moving the branch): git itself waits up to 100 ms
/// (`core.filesRefLockTimeout`); libgit2 does not wait at all.
const REF_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Runs `update` (which moves a ref) again while the ref is locked, for up to
/// [`REF_LOCK_WAIT`], backing off from 1 ms to 50 ms between tries.
fn wait_for_ref_lock<T>(
    mut update: impl FnMut() -> Result<T, git2::Error>,
) -> Result<T, git2::Error> {
    let deadline = std::time::Instant::now() + REF_LOCK_WAIT;
    let mut pause = std::time::Duration::from_millis(1);
    loop {
        match update() {
            Err(e) if e.code() == git2::ErrorCode::Locked => {
                if std::time::Instant::now() >= deadline {
                    return Err(e);
                }
                tracing::debug!("a ref is locked by another git process; trying again: {e}");
                std::thread::sleep(pause);
                pause = (pause * 2).min(std::time::Duration::from_millis(50));
            }
            done => return done,
        }
    }
}

/// The id of git's empty tree.
const EMPTY_TREE: &str = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

/// A committed change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitId(pub String);

/// A git repository holding memories: a repository of its own, or a folder of a project's
/// repository (project memory, `memdir init --project`).
///
/// Every path the store takes or returns is relative to the memory folder ([`Store::root`]);
/// the store alone translates it to the repository's path (`.memdir/fact/x.md`) and reads
/// trees from the memory folder's subtree, so the rest of memdir never knows which layout it
/// runs in. In a project, commits change only the memory folder's files, and history reads
/// see only them.
pub struct Store {
    repo: Repository,
    root: PathBuf,
    /// The memory folder's path in the repository (`.memdir`), or `None` when the memory
    /// folder is the repository's root.
    prefix: Option<String>,
    /// When this handle last started `git gc --auto` (see [`Store::pack_if_due`]).
    packed_at: Option<std::time::Instant>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("root", &self.root).finish()
    }
}

/// Reads objects the way the git CLI does: without hashing each one again on every read.
/// libgit2 verifies by default, and a folder of 17K memories is a tree object of ~700 KB that
/// every commit and every history read loads; `git fsck` still checks the whole repository.
/// (A libgit2 option for the whole process, set once.)
fn trust_object_reads() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| git2::opts::strict_hash_verification(false));
}

/// From how many entries in git's index a commit builds its tree on a second thread while
/// the index is written (see [`Store::commit_paths`]). Opening the second handle costs
/// about a millisecond; at 1,000 memories writing the index takes less.
const PARALLEL_TREE_ENTRIES: usize = 3_000;

/// Writes the tree `base` with `changes` applied (a blob and mode per path, or `None` to
/// remove it) and returns its id.
fn updated_tree(
    repo: &Repository,
    base: Oid,
    changes: &[(String, Option<(Oid, FileMode)>)],
) -> Result<Oid, git2::Error> {
    let mut updates = TreeUpdateBuilder::new();
    for (path, change) in changes {
        match change {
            Some((id, mode)) => updates.upsert(path, *id, *mode),
            None => updates.remove(path),
        };
    }
    updates.create_updated(repo, &repo.find_tree(base)?)
}

impl Store {
    /// Creates (or reuses) a git repository at `root` with branch `main`.
    pub fn init(root: &Path) -> Result<Store, StoreError> {
        trust_object_reads();
        let mut opts = RepositoryInitOptions::new();
        opts.initial_head("main").mkpath(true);
        let repo = Repository::init_opts(root, &opts).map_err(git_err("init", root))?;
        Ok(Store {
            repo,
            root: root.to_owned(),
            prefix: None,
            packed_at: None,
        })
    }

    /// Opens the repository whose working tree is `root`, or, when `root` is a folder inside
    /// a repository's working tree, that repository with `root` as its memory folder.
    pub fn open(root: &Path) -> Result<Store, StoreError> {
        trust_object_reads();
        let repo = Repository::discover(root).map_err(git_err("open", root))?;
        let prefix = match repo.workdir() {
            Some(workdir) => {
                let workdir = std::fs::canonicalize(workdir).unwrap_or_else(|_| workdir.into());
                let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.into());
                let inside = canonical.strip_prefix(&workdir).map_err(|_| {
                    git_err("open", root)(git2::Error::from_str(
                        "the folder is not inside the repository's working tree",
                    ))
                })?;
                let parts: Vec<String> = inside
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                (!parts.is_empty()).then(|| parts.join("/"))
            }
            None => {
                return Err(git_err("open", root)(git2::Error::from_str(
                    "a bare repository has no working tree to keep memories in",
                )));
            }
        };
        Ok(Store {
            repo,
            root: root.to_owned(),
            prefix,
            packed_at: None,
        })
    }

    /// Returns the memory folder: the working-tree root, or in a project the memory folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the memory folder's path in the repository (`.memdir`), or `None` when the
    /// memory folder is the repository's root.
    pub fn prefix(&self) -> Option<&str> {
        self.prefix.as_deref()
    }

    /// Returns the repository's path of a memory-folder path.
    fn git_path<'a>(&self, path: &'a str) -> std::borrow::Cow<'a, str> {
        match &self.prefix {
            Some(p) => format!("{p}/{path}").into(),
            None => path.into(),
        }
    }

    /// Returns the memory-folder path of a repository path, or `None` when it lies outside
    /// the memory folder.
    fn memory_path<'a>(&self, path: &'a str) -> Option<&'a str> {
        match &self.prefix {
            Some(p) => path.strip_prefix(p.as_str())?.strip_prefix('/'),
            None => Some(path),
        }
    }

    /// Returns where a repository path lies on disk.
    fn repo_file(&self, path: &str) -> PathBuf {
        match self.repo.workdir() {
            Some(w) if self.prefix.is_some() => w.join(path),
            _ => self.root.join(path),
        }
    }

    /// Returns the memory folder's tree in `commit`: the root tree, or in a project the
    /// memory folder's subtree (`None` when the commit has no memory folder, as a project's
    /// commits before `memdir init --project`).
    fn memory_tree<'r>(
        &'r self,
        commit: &git2::Commit<'r>,
    ) -> Result<Option<git2::Tree<'r>>, git2::Error> {
        let tree = commit.tree()?;
        let Some(prefix) = &self.prefix else {
            return Ok(Some(tree));
        };
        match tree.get_path(Path::new(prefix)) {
            Ok(e) if e.kind() == Some(ObjectType::Tree) => Ok(Some(self.repo.find_tree(e.id())?)),
            Ok(_) => Ok(None),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Returns the memory folder's tree in the commit `sha` (see [`Store::memory_tree`]).
    fn memory_tree_at(&self, sha: &str) -> Result<Option<git2::Tree<'_>>, git2::Error> {
        let commit = self.repo.find_commit(Oid::from_str(sha)?)?;
        self.memory_tree(&commit)
    }

    /// Returns the `.git` directory.
    pub fn git_dir(&self) -> &Path {
        self.repo.path()
    }

    /// Returns the revision (git blob id) of file contents.
    pub fn revision_of(bytes: &[u8]) -> Revision {
        let oid = Oid::hash_object(ObjectType::Blob, bytes).expect("hashing bytes cannot fail");
        Revision(oid.to_string())
    }

    /// Returns the revision (git blob id) of a file's contents, reading it in chunks: for
    /// files too large to hold in memory.
    pub fn revision_of_file(path: &Path) -> Result<Revision, StoreError> {
        let oid = Oid::hash_file(ObjectType::Blob, path).map_err(|e| StoreError::Write {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        })?;
        Ok(Revision(oid.to_string()))
    }

    /// Returns the commit HEAD points at, or `None` in an empty repository.
    pub fn head(&self) -> Result<Option<String>, StoreError> {
        match self.repo.head() {
            Ok(r) => Ok(r.target().map(|o| o.to_string())),
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(git_err("head", &self.root)(e)),
        }
    }

    /// Returns the signature for new commits: `explicit`, else git config, else `memdir`,
    /// dated now or, as git does, by the environment variable `date_var` (`GIT_AUTHOR_DATE` or
    /// `GIT_COMMITTER_DATE`: `@<unix seconds>`, `<unix seconds> <+zzzz>` or RFC 3339).
    fn signature(
        &self,
        explicit: Option<&Author>,
        date_var: &str,
    ) -> Result<Signature<'static>, StoreError> {
        let err = git_err("signature", &self.root);
        let (name, email) = match explicit {
            Some(a) => (a.name.clone(), a.email.clone()),
            None => match self.repo.signature() {
                Ok(s) => (
                    String::from_utf8_lossy(s.name_bytes()).into_owned(),
                    String::from_utf8_lossy(s.email_bytes()).into_owned(),
                ),
                Err(_) => {
                    tracing::debug!("no user.name/user.email in git config; committing as memdir");
                    ("memdir".to_owned(), "memdir@localhost".to_owned())
                }
            },
        };
        match std::env::var(date_var).ok().and_then(|v| env_date(&v)) {
            Some(when) => Signature::new(&name, &email, &when),
            None => Signature::now(&name, &email),
        }
        .map_err(err)
    }

    /// Writes each file atomically and records them all in one commit.
    ///
    /// Returns `None` when the files already had this content in HEAD (nothing to commit).
    pub fn commit(
        &self,
        writes: &[FileWrite],
        message: &CommitMessage,
        author: Option<&Author>,
    ) -> Result<Option<CommitId>, StoreError> {
        atomic::write_files(&self.root, writes)?;
        crate::fault::point("files-written");
        self.commit_paths(writes.iter().map(|w| w.path.as_str()), message, author)
    }

    /// Commits the working-tree state of `paths` (present files are added, missing ones
    /// removed) on top of HEAD, leaving every other path as HEAD has it.
    pub fn commit_paths<'a>(
        &self,
        paths: impl IntoIterator<Item = &'a str>,
        message: &CommitMessage,
        author: Option<&Author>,
    ) -> Result<Option<CommitId>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let mut index = self.repo.index().map_err(err("index"))?;
        // libgit2 caches the index per process: pick up what other writers staged since
        // (re-read only if the file on disk changed; writes replace it, so its inode changes).
        index.read(false).map_err(err("index read"))?;
        let parent = match self.head()? {
            Some(h) => Some(
                self.repo
                    .find_commit(Oid::from_str(&h).map_err(err("head"))?)
                    .map_err(err("head"))?,
            ),
            None => None,
        };
        // Each path as the new tree has it: its blob and mode, or `None` when removed.
        let mut changes: Vec<(String, Option<(Oid, FileMode)>)> = Vec::new();
        for path in paths {
            let in_repo = self.git_path(path);
            let path = in_repo.as_ref();
            if self.repo_file(path).symlink_metadata().is_ok() {
                index.add_path(Path::new(path)).map_err(err("add"))?;
                let entry = index.get_path(Path::new(path), 0).ok_or_else(|| {
                    err("add")(git2::Error::from_str(&format!(
                        "{path} missing from index after add"
                    )))
                })?;
                let mode = match entry.mode {
                    0o100755 => FileMode::BlobExecutable,
                    0o120000 => FileMode::Link,
                    _ => FileMode::Blob,
                };
                changes.push((path.to_owned(), Some((entry.id, mode))));
            } else {
                match index.remove_path(Path::new(path)) {
                    Ok(()) => {}
                    Err(e) if e.code() == git2::ErrorCode::NotFound => {}
                    Err(e) => return Err(err("rm")(e)),
                }
                changes.push((path.to_owned(), None));
            }
        }
        // The new tree is HEAD's (or, in a new repository, git's empty one, which libgit2
        // knows without it being stored) plus exactly these paths: whatever else a person
        // staged stays staged, out of memdir's commit.
        let base = match &parent {
            Some(p) => p.tree_id(),
            None => Oid::from_str(EMPTY_TREE).map_err(err("tree"))?,
        };
        // Writing git's index and building the new tree each take a few milliseconds in a
        // large repository (at 10,000 memories, rehashing a 10,000-entry index and a
        // 10,000-entry tree), and neither needs the other: the tree is built on a thread of
        // its own, with a handle of its own (git2's are not shared between threads), while
        // this one writes the index. The commit waits for both, so a crash leaves what it
        // left before (a dangling tree at most). In a small repository both are quick and the
        // second handle would cost more than it saves.
        let tree_id = if index.len() >= PARALLEL_TREE_ENTRIES {
            let git_dir = self.repo.path().to_owned();
            std::thread::scope(|s| {
                let tree = s.spawn(move || {
                    let repo = Repository::open(&git_dir)?;
                    updated_tree(&repo, base, &changes)
                });
                let written = index.write();
                let tree = tree.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
                written.map_err(err("index write"))?;
                tree.map_err(err("tree"))
            })?
        } else {
            index.write().map_err(err("index write"))?;
            updated_tree(&self.repo, base, &changes).map_err(err("tree"))?
        };
        crate::fault::point("staged");
        if parent.is_some() && tree_id == base {
            return Ok(None);
        }
        let tree = self.repo.find_tree(tree_id).map_err(err("tree"))?;
        let author_sig = self.signature(author, "GIT_AUTHOR_DATE")?;
        let committer = self.signature(author, "GIT_COMMITTER_DATE")?;
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        let message = message.render();
        let commit = || {
            self.repo.commit(
                Some("HEAD"),
                &author_sig,
                &committer,
                &message,
                &tree,
                &parents,
            )
        };
        match wait_for_ref_lock(commit) {
            Ok(oid) => Ok(Some(CommitId(oid.to_string()))),
            Err(e) if e.code() == git2::ErrorCode::Modified => Err(StoreError::HeadMoved {
                root: self.root.clone(),
            }),
            Err(e) if e.code() == git2::ErrorCode::Locked => Err(StoreError::RefLocked {
                root: self.root.clone(),
                source: e,
            }),
            Err(e) => Err(err("commit")(e)),
        }
    }

    /// Returns every path that differs between commit `from` and HEAD, or `None` if `from` is
    /// not in the repository any more (history was rewritten): then the caller must rebuild.
    pub fn changed_since(&self, from: Option<&str>) -> Result<Option<Vec<String>>, StoreError> {
        let err = |op| git_err(op, &self.root);
        let old_tree = match from {
            None => None,
            Some(hex) => {
                let commit = Oid::from_str(hex)
                    .ok()
                    .and_then(|o| self.repo.find_commit(o).ok());
                match commit {
                    Some(c) => self.memory_tree(&c).map_err(err("tree"))?,
                    None => return Ok(None),
                }
            }
        };
        let new_tree = match self.head()? {
            Some(h) => self.memory_tree_at(&h).map_err(err("tree"))?,
            None => None,
        };
        let diff = self
            .repo
            .diff_tree_to_tree(old_tree.as_ref(), new_tree.as_ref(), None)
            .map_err(err("diff"))?;
        let mut paths = Vec::new();
        for delta in diff.deltas() {
            for file in [delta.old_file(), delta.new_file()] {
                if let Some(p) = file.path().and_then(|p| p.to_str()) {
                    paths.push(p.to_owned());
                }
            }
        }
        paths.sort();
        paths.dedup();
        Ok(Some(paths))
    }

    /// Returns the first parent of commit `id`, if it has one.
    pub fn parent_of(&self, id: &str) -> Result<Option<String>, StoreError> {
        let err = git_err("parent", &self.root);
        let commit = self
            .repo
            .find_commit(Oid::from_str(id).map_err(&err)?)
            .map_err(&err)?;
        Ok(commit.parent_ids().next().map(|o| o.to_string()))
    }

    /// Returns, for each path, the revision (blob id) HEAD holds for it, or `None` when HEAD
    /// has no such file. Each folder's tree is read once, however many paths it holds (a
    /// folder of 100K memories is one large object: reading it per path would be quadratic).
    pub fn head_revisions(&self, paths: &[String]) -> Result<Vec<Option<Revision>>, StoreError> {
        let err = |op| git_err(op, &self.root);
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let Some(head) = self.head()? else {
            return Ok(vec![None; paths.len()]);
        };
        let Some(root) = self.memory_tree_at(&head).map_err(err("tree"))? else {
            return Ok(vec![None; paths.len()]);
        };
        let mut folders: std::collections::HashMap<String, Option<git2::Tree<'_>>> =
            std::collections::HashMap::new();
        let mut out = Vec::with_capacity(paths.len());
        for path in paths {
            let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
            if !folders.contains_key(dir) {
                let tree = if dir.is_empty() {
                    Some(root.clone())
                } else {
                    root.get_path(Path::new(dir))
                        .ok()
                        .filter(|e| e.kind() == Some(ObjectType::Tree))
                        .and_then(|e| self.repo.find_tree(e.id()).ok())
                };
                folders.insert(dir.to_owned(), tree);
            }
            let entry = folders[dir].as_ref().and_then(|t| t.get_name(name));
            out.push(
                entry
                    .filter(|e| e.kind() == Some(ObjectType::Blob))
                    .map(|e| Revision(e.id().to_string())),
            );
        }
        Ok(out)
    }

    /// Counts the memories written (`Memdir-Id` trailers) by commits with trailer
    /// `Memdir-Session: <session>` made at or after `since` (Unix seconds), walking back
    /// from HEAD until commits are older.
    pub fn session_writes_since(&self, session: &str, since: i64) -> Result<usize, StoreError> {
        let err = |op| git_err(op, &self.root);
        let Some(head) = self.head()? else {
            return Ok(0);
        };
        let mut walk = self.repo.revwalk().map_err(err("log"))?;
        walk.set_sorting(git2::Sort::TIME).map_err(err("log"))?;
        walk.push(Oid::from_str(&head).map_err(err("log"))?)
            .map_err(err("log"))?;
        let wanted = format!("Memdir-Session: {session}");
        let mut count = 0;
        for oid in walk {
            let commit = self
                .repo
                .find_commit(oid.map_err(err("log"))?)
                .map_err(err("log"))?;
            if commit.time().seconds() < since {
                break;
            }
            let message = commit.message().unwrap_or_default();
            if message.lines().any(|l| l.trim_end() == wanted) {
                count += message
                    .lines()
                    .filter(|l| l.starts_with("Memdir-Id: "))
                    .count();
            }
        }
        Ok(count)
    }

    /// Says why git is not at rest, if it is not: HEAD detached, or a merge, rebase,
    /// cherry-pick, revert or bisect in progress. memdir makes no commit of its own choosing
    /// then (see `memdir/arrivals.rs`).
    pub fn busy(&self) -> Option<String> {
        if self.repo.head_detached().unwrap_or(false) {
            return Some("HEAD is detached (not on a branch)".into());
        }
        match self.repo.state() {
            git2::RepositoryState::Clean => None,
            state => Some(format!("git has an operation in progress ({state:?})")),
        }
    }

    /// Returns true when git ignores `path` (`.gitignore`, `info/exclude`).
    pub fn is_ignored(&self, path: &str) -> bool {
        self.repo
            .is_path_ignored(self.git_path(path).as_ref())
            .unwrap_or(false)
    }

    /// Returns the paths whose working-tree state differs from HEAD: edited, new (untracked
    /// and not ignored) or deleted files.
    pub fn dirty_paths(&self) -> Result<Vec<String>, StoreError> {
        let mut opts = StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_ignored(false)
            .exclude_submodules(true);
        if let Some(prefix) = &self.prefix {
            opts.pathspec(prefix);
        }
        let statuses = self
            .repo
            .statuses(Some(&mut opts))
            .map_err(git_err("status", &self.root))?;
        let mut paths: Vec<String> = statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT)
            .filter_map(|s| {
                let path = s.path().ok()?;
                self.memory_path(path).map(str::to_owned)
            })
            .collect();
        paths.sort();
        Ok(paths)
    }
}

/// Reads a date as git's `GIT_*_DATE` variables give it: `@1700000000`, `1700000000 +0100`
/// or RFC 3339.
fn env_date(text: &str) -> Option<git2::Time> {
    let text = text.trim();
    let (secs, zone) = text.split_once(' ').unwrap_or((text, "+0000"));
    if let Ok(secs) = secs.trim_start_matches('@').parse::<i64>() {
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let digits = zone.trim_start_matches(['+', '-']);
        let minutes =
            digits.get(..2)?.parse::<i32>().ok()? * 60 + digits.get(2..4)?.parse::<i32>().ok()?;
        return Some(git2::Time::new(secs, sign * minutes));
    }
    let t = crate::memory::Timestamp::parse(text)?;
    Some(git2::Time::new(
        t.unix(),
        t.0.offset().whole_minutes() as i32,
    ))
}

fn git_err<'a>(op: &'static str, root: &'a Path) -> impl Fn(git2::Error) -> StoreError + 'a {
    move |source| StoreError::Git {
        op,
        root: root.to_owned(),
        source,
    }
}
