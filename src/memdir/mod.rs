//! The [`Memdir`] facade: what agents and the CLI call. It wires the store (git), the index
//! (tantivy) and the config together and owns the rules that span them: ids, paths, commit
//! messages and keeping the index caught up with the files.
//!
//! Every write takes the repository's write lock ([`crate::lock`]), writes and commits through
//! the store, then brings the index up to date before returning (`write.rs`). Reads never lock;
//! opening a repository (and [`Memdir::refresh`]) catches the index up with commits and hand
//! edits at a cost proportional to what changed (`sync.rs`).

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::config::{CONFIG_FILE, Config};
use crate::index::{Filter, Hit, Index, Summary};
use crate::lock::WriteLock;
use crate::memory::{Memory, MemoryId, Revision, Timestamp};
use crate::parse::{self, ParseError};
use crate::store::{Author, CommitMessage, FileWrite, Store};
use crate::{Error, Result};

mod arrivals;
mod consolidate;
mod drift;
mod expire;
mod guarded;
mod handover;
mod handwritten;
mod history;
mod import;
mod merge_file;
mod project;
mod purge;
mod recover;
mod remote;
mod seen;
mod similar;
mod sync;
mod timeline;
mod types;
mod undo;
mod watch;
mod write;

pub use consolidate::{Consolidation, ConsolidationGroup, RefusedProposal};
pub use drift::{Derivation, Drifted, SourceStanding, SourceState};
pub use expire::{MemoryView, Why};
pub use guarded::{HeldLines, Quarantined};
pub use handover::WRITE_ENV;
pub use handwritten::{ATTRIBUTES_FILE, OVERVIEW_FILE, Stamped};
pub use history::{
    ActivityFilter, BeliefDiff, BlameLine, Change, CommitView, FieldChange, Lineage, MemoryDiff,
};
pub use merge_file::{FileMerged, merge_file};
pub use project::PROJECT_FOLDER;
pub use purge::Purged;
pub use remote::{PurgePushed, Renamed, SyncConflict, SyncError, Synced};
pub use timeline::{Point, Version};
pub use types::{
    Committed, ImportOptions, ImportStatus, Imported, NewMemory, Problem, Provenance, Refresh,
    SearchQuery, Status, Update, Written,
};
pub use undo::Reverted;
pub use watch::{StopReason, WatchOptions, WatchReport};

/// A memory repository: Markdown files in git, with a search index.
///
/// `Memdir` is `Send + Sync`; every method takes `&self`, so one value can serve many
/// threads (writes are serialized by the repository's write lock).
///
/// ```
/// # fn main() -> memdir::Result<()> {
/// # let dir = tempfile::tempdir().unwrap();
/// use memdir::{Memdir, NewMemory, Provenance, SearchQuery};
/// let mem = Memdir::init(dir.path())?;
/// let written = mem.remember(
///     NewMemory::new("Alice prefers dark mode in every editor.").kind("preference"),
///     &Provenance::agent("quickstart"),
/// )?;
/// let hits = mem.search(&SearchQuery::new("dark editor"))?;
/// assert_eq!(hits[0].id, written.id);
/// # Ok(()) }
/// ```
///
/// Each piece of its state has one owner that keeps its invariants: the repository and git's
/// housekeeping ([`Store`], behind a mutex, as libgit2's handle is not `Sync`), the index
/// ([`Index`], which is), what this handle has seen of the index (`seen.rs`), the timeline
/// of `--at` (`timeline.rs`), and on disk the journal of intents and purges (`recover.rs`).
///
/// Lock order: the write lock (a file lock across processes) first, then the store's mutex,
/// then the owners' own, each held only for the call that needs it (`seen.rs` and
/// `timeline.rs` say more). None is taken inside a job of rayon's pool, which only does leaf
/// work (`stat`s, hashes): a worker that waits inside a job can run another job meanwhile,
/// and if that one waited for a lock the first holds, it would wait on itself.
pub struct Memdir {
    root: PathBuf,
    config: Config,
    guard: crate::guard::Guard,
    /// The model asked for a second opinion on flagged and borderline writes
    /// (`guarded.rs`), when `[llm]` is set and `[guard] second_opinion` is on.
    judge: Option<crate::guard::opinion::Judge>,
    store: Mutex<Store>,
    index: Index,
    /// What this handle has seen of the index (`seen.rs`).
    seen: seen::Seen,
    /// The versions index behind `--at`, and its chain (`timeline.rs`).
    timeline: timeline::Timeline,
}

impl std::fmt::Debug for Memdir {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memdir").field("root", &self.root).finish()
    }
}

/// Returns true if `path` (relative, `/`-separated) is a memory file: a `.md` file outside
/// hidden folders that is not a README or the `MEMORY.md` overview.
pub fn is_memory_path(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    path.ends_with(".md")
        && !path.split('/').any(|c| c.starts_with('.') || c.is_empty())
        && !name.eq_ignore_ascii_case("README.md")
        // MEMORY.md at the root is the always-loaded overview, not a searchable memory.
        && (path.contains('/') || !name.eq_ignore_ascii_case(OVERVIEW_FILE))
}

/// Returns the model a repository's writes ask for a second opinion: the one of `[llm]`, with
/// its key from this process's environment, unless the guard or `[guard] second_opinion` is off.
fn judge_for(config: &Config) -> Option<crate::guard::opinion::Judge> {
    config
        .llm
        .as_ref()
        .filter(|_| config.guard.enabled && config.guard.second_opinion)
        .map(crate::guard::opinion::Judge::from_env)
}

impl Memdir {
    /// Creates a memory repository in `dir` (creating the folder if needed) from the template,
    /// as its first commit, and opens it. Reuses an existing git repository there.
    pub fn init(dir: &Path) -> Result<Memdir> {
        Self::init_as(dir, None)
    }

    /// Like [`Memdir::init`], with an explicit author for the first commit.
    ///
    /// Refuses ([`Error::InsideProject`]) the top of a git repository whose committed files
    /// memdir would take for memories (a project's CHANGELOG and docs):
    /// [`Memdir::init_project`] keeps memory in a folder of it instead, and
    /// [`Memdir::init_adopting`] takes those files as memories when they are notes.
    pub fn init_as(dir: &Path, author: Option<&Author>) -> Result<Memdir> {
        project::refuse_over_project(dir)?;
        Self::init_adopting(dir, author)
    }

    /// Like [`Memdir::init_as`], also in a git repository whose committed Markdown files are
    /// then memories (a folder of hand-written notes made into memory).
    pub fn init_adopting(dir: &Path, author: Option<&Author>) -> Result<Memdir> {
        if dir.join(CONFIG_FILE).exists() && dir.join(".git").exists() {
            return Err(Error::AlreadyInitialized {
                path: dir.to_owned(),
            });
        }
        drop(Store::init(dir)?);
        Self::lay_template(dir, author)?;
        Self::open(dir)
    }

    /// Writes the template's files that `folder` (a repository's root or a project's memory
    /// folder) does not have yet, as one commit of those files alone.
    fn lay_template(folder: &Path, author: Option<&Author>) -> Result<()> {
        let store = Store::open(folder)?;
        let writes: Vec<FileWrite> = crate::template::FILES
            .iter()
            .filter(|(p, _)| !folder.join(p).exists())
            .map(|(p, text)| FileWrite {
                path: (*p).to_owned(),
                content: Some(text.as_bytes().to_vec()),
            })
            .collect();
        let message = CommitMessage {
            subject: "init: memdir repository".into(),
            body: Some("Laid down by `memdir init` from the memory template.".into()),
            trailers: vec![("Memdir-Op".into(), "init".into())],
        };
        let lock_path = store.git_dir().join("memdir").join("write.lock");
        let _lock = WriteLock::acquire(&lock_path).map_err(|e| Error::io(e.path, e.source))?;
        store.commit(&writes, &message, author)?;
        Ok(())
    }

    /// Opens the memory repository whose root is `dir` and catches its index up with the
    /// commits made since it was last used. Hand edits are looked for by the first read
    /// ([`Memdir::search`], [`Memdir::list`], [`Memdir::get`], [`Memdir::status`]).
    pub fn open(dir: &Path) -> Result<Memdir> {
        let root = std::fs::canonicalize(dir).map_err(|_| Error::NotARepository {
            path: dir.to_owned(),
        })?;
        if !root.join(CONFIG_FILE).exists() {
            return Err(Error::NotARepository { path: root });
        }
        let config = Config::load(&root)?;
        // A repository of its own, or a folder of a project's working tree (`project.rs`).
        let store = Store::open(&root).map_err(|_| Error::NotARepository { path: root.clone() })?;
        let index = Index::open(
            &store.git_dir().join("memdir").join("index"),
            config.search.boost.clone(),
        )?
        .with_policy(config.policy());
        let guard = crate::guard::Guard::new(&config.guard).map_err(|e| {
            crate::config::ConfigError::Invalid {
                path: root.join(CONFIG_FILE),
                field: e.field,
                message: e.message,
            }
        })?;
        let judge = judge_for(&config);
        let mem = Memdir {
            root,
            config,
            guard,
            judge,
            store: Mutex::new(store),
            index,
            seen: seen::Seen::default(),
            timeline: timeline::Timeline::default(),
        };
        mem.recover_at_open()?;
        // So plain `git pull` merges memories too (a repository made before memdir had a
        // merge driver gets one here). Never fatal: a read-only repository still opens.
        if let Err(e) = mem.store().register_merge_driver() {
            tracing::debug!("cannot register the merge driver: {e}");
        }
        // Commits only: the working tree is scanned by the first read, so a command that only
        // writes never pays a `stat` of every file.
        mem.catch_up(false, None, None)?;
        Ok(mem)
    }

    /// Finds the memory for `start` and opens it: the nearest enclosing memory repository
    /// (itself or a parent folder holding `memory.toml` and `.git`), or the project memory
    /// of the git repository around it (`project.rs` says how it is found).
    pub fn discover(start: &Path) -> Result<Memdir> {
        Self::open(&Self::root_for(start)?)
    }

    /// Returns how many memories the index holds (quarantined ones included).
    pub fn memory_count(&self) -> Result<usize> {
        Ok(self.index.counts()?.0)
    }

    /// Returns the root and the memdir folder (`.git/memdir`, where the index, the locks and
    /// a watcher's socket live) of the memory [`Memdir::discover`] opens for `start`, without
    /// opening it (git's folder is found by libgit2's discovery, as the store finds it).
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// memdir::Memdir::init(dir.path())?;
    /// let (root, memdir_dir) = memdir::Memdir::locate(dir.path())?;
    /// assert!(memdir_dir.ends_with(".git/memdir"));
    /// assert_eq!(root, std::fs::canonicalize(dir.path()).unwrap());
    /// # Ok(()) }
    /// ```
    pub fn locate(start: &Path) -> Result<(PathBuf, PathBuf)> {
        let root = Self::root_for(start)?;
        let git_dir = git2::Repository::discover_path(&root, std::iter::empty::<&str>())
            .map_err(|_| Error::NotARepository { path: root.clone() })?;
        Ok((root, git_dir.join("memdir")))
    }

    /// Returns the root of the memory [`Memdir::discover`] opens for `start`.
    pub(super) fn root_for(start: &Path) -> Result<PathBuf> {
        let start = std::fs::canonicalize(start).map_err(|_| Error::NotARepository {
            path: start.to_owned(),
        })?;
        project::find_root(&start).ok_or(Error::NotARepository { path: start })
    }

    /// Returns, and forgets, the files that catching the index up (at open, on refresh, after
    /// a write) could not index since the last call: broken files a person should fix. They
    /// stay out of search; the other memories are unaffected. [`Memdir::check`] lists every
    /// problem at any time.
    pub fn take_problems(&self) -> Vec<Problem> {
        self.seen.take_problems()
    }

    /// Returns the repository root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns the configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts packing git's loose objects if due ([`Store::pack_if_due`]), takes the write
    /// lock (waiting for another writer to finish), then recovers the write of a process that
    /// died holding it, if any (`recover.rs`).
    fn lock(&self) -> Result<WriteLock> {
        self.store().pack_if_due();
        let lock = WriteLock::acquire(&self.memdir_dir().join("write.lock"))
            .map_err(|e| Error::io(e.path, e.source))?;
        self.recover(&lock)?;
        Ok(lock)
    }

    /// Returns the write lock if no other writer holds it.
    fn try_lock(&self) -> Result<Option<WriteLock>> {
        WriteLock::try_acquire(&self.memdir_dir().join("write.lock"))
            .map_err(|e| Error::io(e.path, e.source))
    }

    /// Returns `.git/memdir`, where the index, the lock and the caches live (in project
    /// memory too: under the project's `.git`).
    pub fn memdir_dir(&self) -> PathBuf {
        self.store().git_dir().join("memdir")
    }

    /// Returns the bytes of the file at `path` (relative), or `None` when there is no regular
    /// file there (absent, a folder, a symbolic link, or behind a linked folder). A file over
    /// [`parse::MAX_FILE_BYTES`] is cut one byte past the limit: enough to refuse it.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.root.join(path);
        if self.linked_folder(path).is_some() {
            return Ok(None); // a folder on the way is a link: it may lead anywhere
        }
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_file() => {
                // One byte past the limit is enough for the parser to refuse a larger file,
                // so a 60 MB (or 60 GB) file never sits in memory.
                let limit = parse::MAX_FILE_BYTES as u64 + 1;
                let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
                std::fs::File::open(&full)
                    .and_then(|f| f.take(limit).read_to_end(&mut bytes))
                    .map_err(|e| Error::io(&full, e))?;
                Ok(Some(bytes))
            }
            Ok(_) => Ok(None), // symlinks and folders are never followed or read
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(full, e)),
        }
    }

    /// Returns the revision of the file at `path` now (`None` when [`Memdir::read`] finds no
    /// file), hashing a file over the size limit in chunks rather than in memory.
    fn revision(&self, path: &str) -> Result<Option<Revision>> {
        match self.read(path)? {
            Some(bytes) if bytes.len() > parse::MAX_FILE_BYTES => {
                Ok(Some(Store::revision_of_file(&self.root.join(path))?))
            }
            Some(bytes) => Ok(Some(Store::revision_of(&bytes))),
            None => Ok(None),
        }
    }

    /// Parses bytes from [`Memdir::read`]; a file cut at the size limit is reported with its
    /// real size.
    fn parse_read(&self, path: &str, bytes: &[u8]) -> std::result::Result<Memory, ParseError> {
        let mut memory = parse::parse_memory(path, bytes, Store::revision_of(bytes))
            .map_err(|e| self.real_size(e))?;
        self.settle_kind(&mut memory);
        Ok(memory)
    }

    /// Gives a file cut at the size limit by [`Memdir::read`] its real size in the error.
    fn real_size(&self, e: ParseError) -> ParseError {
        match e {
            ParseError::TooLarge { path, size, limit } if size == limit + 1 => {
                let real = std::fs::symlink_metadata(self.root.join(&path))
                    .map_or(size, |m| (m.len() as usize).max(size));
                ParseError::TooLarge {
                    path,
                    size: real,
                    limit,
                }
            }
            e => e,
        }
    }

    /// Returns the first folder on the way to `path` (relative) that is a symbolic link, if
    /// any: memdir never reads or writes through one, as it may lead out of the repository.
    fn linked_folder(&self, path: &str) -> Option<String> {
        let mut folder = self.root.clone();
        let parts: Vec<&str> = path.split('/').collect();
        for (i, part) in parts[..parts.len().saturating_sub(1)].iter().enumerate() {
            folder.push(part);
            match std::fs::symlink_metadata(&folder) {
                Ok(meta) if meta.file_type().is_symlink() => return Some(parts[..=i].join("/")),
                Ok(_) => {}
                Err(_) => return None, // absent: created as a real folder when written
            }
        }
        None
    }

    /// Parses a memory file as [`Memdir::parse_file_all`] does, reporting its first problem.
    fn parse_file(&self, path: &str, bytes: &[u8]) -> std::result::Result<Memory, Problem> {
        self.parse_file_all(path, bytes)
            .map_err(|mut problems| problems.swap_remove(0))
    }

    /// Returns the memory with this id, read from its file now.
    pub fn get(&self, id: &str) -> Result<Memory> {
        self.find(id, None)
    }

    /// Returns a memory and the whole text of its file as it is now (front-matter and body,
    /// as a person sees it in an editor).
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mem = memdir::Memdir::init(dir.path())?;
    /// let w = mem.remember(memdir::NewMemory::new("Deploys run at noon."), &memdir::Provenance::agent("doc"))?;
    /// let (memory, text) = mem.get_text(&w.id)?;
    /// assert!(text.starts_with("---\n") && text.ends_with("Deploys run at noon.\n"));
    /// assert_eq!(memory.revision, memdir::store::Store::revision_of(text.as_bytes()));
    /// # Ok(()) }
    /// ```
    pub fn get_text(&self, id: &str) -> Result<(Memory, String)> {
        let memory = self.get(id)?;
        let bytes = self
            .read(&memory.path)?
            .ok_or_else(|| Error::NotFound { id: id.to_owned() })?;
        let memory = self.parse_read(&memory.path, &bytes)?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(format!("{} is not UTF-8 text", memory.path)))?;
        Ok((memory, text))
    }

    /// Finds a memory by id through the index and reads its file. If the index does not know
    /// the id, or the file no longer carries it (edited by hand since), catches up once and
    /// looks again. `lock` is the write lock when the caller holds it.
    pub(super) fn find(&self, id: &str, lock: Option<&WriteLock>) -> Result<Memory> {
        let id = MemoryId::parse(id)?;
        self.look_once(lock)?;
        let mut caught_up = false;
        loop {
            let found = self.index.find_id(id.as_str())?;
            let memory = match found.as_slice() {
                [] => None,
                [one] => match self.read(&one.path)? {
                    Some(bytes) => {
                        let mut m = self.parse_read(&one.path, &bytes)?;
                        if m.front.id != id && id == parse::path_id(&one.path) {
                            // A copy of another memory's file, indexed under its path's id
                            // (see `settle_ids`) until a commit writes that id into it.
                            m.front.id = id.clone();
                            m.derived.id = true;
                        }
                        (m.front.id == id).then_some(m)
                    }
                    None => None,
                },
                _ => {
                    return Err(Error::DuplicateId {
                        id: id.to_string(),
                        paths: found.into_iter().map(|s| s.path).collect(),
                    });
                }
            };
            match memory {
                Some(m) => return Ok(m),
                None if caught_up => return Err(Error::NotFound { id: id.to_string() }),
                None => {
                    // Another handle or process may have indexed it since this handle's
                    // reader last looked: a long-lived handle (a server) must see it.
                    self.index.reload()?;
                    self.catch_up(true, None, lock)?;
                    caught_up = true;
                }
            }
        }
    }

    /// Lists memories that pass `filter`, sorted by path.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Summary>> {
        self.look_once(None)?;
        self.catch_up_with_commits()?;
        Ok(self.index.list(filter)?)
    }

    /// Returns every memory marked `pinned: true` and not held out (quarantined or
    /// superseded), read from its file now, sorted by path: what every prompt should carry
    /// (with `MEMORY.md`).
    pub fn pinned(&self) -> Result<Vec<Memory>> {
        self.look_once(None)?;
        self.catch_up_with_commits()?;
        let mut out = Vec::new();
        for s in self.index.pinned()? {
            if let Some(bytes) = self.read(&s.path)? {
                let mut m = self.parse_read(&s.path, &bytes)?;
                if m.front.id.as_str() != s.id && s.id == parse::path_id(&s.path).as_str() {
                    m.front.id = parse::path_id(&s.path);
                    m.derived.id = true;
                }
                // Pinned is no pass: a quarantined or superseded memory stays out (pinned
                // ones never expire: the policy says so).
                if m.front.pinned && !self.is_held_out(&m, Timestamp::now())? {
                    out.push(m);
                }
            }
        }
        Ok(out)
    }

    /// Looks for hand edits if this handle has not yet (a `stat` of every memory file); the
    /// caller passes the write lock when it holds it.
    /// Returns whether the look changed what the index holds.
    fn look_once(&self, lock: Option<&WriteLock>) -> Result<bool> {
        if self.seen.looked() {
            return Ok(false);
        }
        let done = self.catch_up(true, None, lock)?;
        self.seen.mark_looked();
        Ok(done.reindexed > 0 || done.rebuilt || done.reloaded)
    }

    /// Catches up with commits other handles or processes made since this handle last looked
    /// (cheap: a HEAD comparison when nothing happened). Hand edits wait for
    /// [`Memdir::refresh`]. Returns whether the index may have changed.
    fn catch_up_with_commits(&self) -> Result<bool> {
        let fresh = {
            let head = self.store().head()?;
            self.seen.is_at(&head)
        };
        if !fresh {
            self.index.reload()?;
            self.catch_up(false, None, None)?;
        }
        Ok(!fresh)
    }

    /// Searches passages with BM25 and returns the best passage of each matching memory (or
    /// the best [`SearchQuery::per_memory`] passages).
    ///
    /// Sees every write made through memdir at once. Hand edits are seen by the first read of
    /// a handle and after [`Memdir::refresh`] (so each CLI command sees them).
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let limit = query.limit.unwrap_or(self.config.search.limit);
        let per_memory = query.per_memory.unwrap_or(1).max(1);
        let search = || {
            self.index
                .search(&query.text, &query.filter, limit, per_memory)
        };
        if !self.seen.looked() {
            // The first read looks for hand edits, a `stat` of every file; meanwhile the
            // index is searched as it is, and that answer stands if the look changed nothing
            // (as it almost never does). The look takes locks, so it runs on this thread and
            // the search on one of its own, never as a job in rayon's pool: a rayon worker
            // waiting inside a job that holds one of those locks could pick it up and wait
            // on itself (see `Memdir`'s fields).
            let (changed, early) = std::thread::scope(|s| {
                let early = s.spawn(search);
                let changed = self.look_once(None);
                (changed, early.join())
            });
            let early = early.unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            let changed = changed?;
            let moved = self.catch_up_with_commits()?;
            if !changed && !moved {
                return Ok(early?);
            }
        } else {
            self.catch_up_with_commits()?;
        }
        Ok(search()?)
    }

    /// Validates every memory file, `memory.toml` and `MEMORY.md`; returns every problem found
    /// (all of each file's, not only its first), sorted by path and line. `memdir commit`
    /// refuses exactly these problems in the files it commits.
    ///
    /// Files without an id, and copies of a memory file (which carry another file's id), are
    /// not problems: they have ids derived from their paths, which `memdir commit` writes
    /// into them (see [`Memdir::stamp_ids`]).
    pub fn check(&self) -> Result<Vec<Problem>> {
        let mut problems = Vec::new();
        if let Err(e) = Config::load(&self.root) {
            problems.push(config_problem(&e));
        }
        problems.extend(self.check_overview()?);
        for path in self.memory_files()? {
            if let Err(found) = self.check_file(&path)? {
                problems.extend(found);
            }
        }
        problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        Ok(problems)
    }

    /// Reports index freshness, uncommitted hand edits and counts.
    pub fn status(&self) -> Result<Status> {
        self.look_once(None)?;
        let (head, uncommitted, git_objects) = {
            let store = self.store();
            (store.head()?, store.dirty_paths()?, store.object_counts())
        };
        self.index.reload()?;
        let state = self.index.state();
        let memory_dirty: BTreeMap<String, Option<String>> = uncommitted
            .iter()
            .filter(|p| is_memory_path(p))
            .map(|p| Ok((p.clone(), self.revision(p)?.map(|r| r.0))))
            .collect::<Result<_>>()?;
        let index_fresh = state
            .as_ref()
            .is_some_and(|s| s.head == head && s.dirty == memory_dirty);
        let (memories, passages) = self.index.counts()?;
        let invalid = state
            .as_ref()
            .map(|s| {
                s.invalid
                    .iter()
                    .map(|(path, (line, message))| Problem {
                        path: path.clone(),
                        line: *line,
                        message: message.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let watcher = crate::watch::vouch::serving(&self.memdir_dir());
        Ok(Status {
            invalid,
            root: self.root.clone(),
            project: self.is_project(),
            head,
            indexed_head: state.and_then(|s| s.head),
            index_fresh,
            uncommitted,
            memories,
            passages,
            git_objects,
            watcher,
            watcher_pid: watcher
                .then(|| crate::watch::vouch::recorded_pid(&self.memdir_dir()))
                .flatten(),
        })
    }
}

fn config_problem(e: &crate::config::ConfigError) -> Problem {
    let line = match e {
        crate::config::ConfigError::Parse { line, .. } => Some(*line),
        _ => None,
    };
    let text = e.to_string();
    let message = text
        .split_once(": ")
        .map_or(text.clone(), |(_, m)| m.to_owned());
    Problem {
        path: CONFIG_FILE.into(),
        line,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::is_memory_path;

    #[test]
    fn which_files_are_memories() {
        for yes in ["fact/a.md", "note/deep/b.md", "top.md"] {
            assert!(is_memory_path(yes), "{yes}");
        }
        for no in [
            "MEMORY.md",
            "README.md",
            "fact/README.md",
            ".hidden/a.md",
            "fact/.a.md",
            "a.txt",
            "memory.toml",
        ] {
            assert!(!is_memory_path(no), "{no}");
        }
    }
}
