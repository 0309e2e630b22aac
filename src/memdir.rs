//! The [`Memdir`] facade: what agents and the CLI call. It wires the store (git), the index
//! (tantivy) and the config together and owns the rules that span them: ids, paths, commit
//! messages and keeping the index caught up with the files.
//!
//! Every write takes the repository's write lock ([`crate::lock`]), writes and commits through
//! the store, then brings the index up to date before returning. Reads never lock; opening a
//! repository (and [`Memdir::refresh`]) catches the index up with commits and hand edits at a
//! cost proportional to what changed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::config::{CONFIG_FILE, Config};
use crate::index::{Filter, Hit, Index, IndexState, IndexedMemory, Summary};
use crate::lock::WriteLock;
use crate::memory::{FrontMatter, Memory, MemoryId, Revision, Source, Timestamp};
use crate::parse::{self, Edit, FieldValue, ParseError};
use crate::store::{Author, CommitMessage, FileWrite, Store};
use crate::{Error, Result};

/// Who is writing, recorded in commit trailers (and, for new memories, in `source:`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Session or conversation id (`Memdir-Session`).
    pub session: Option<String>,
    /// Agent name (`Memdir-Agent`).
    pub agent: Option<String>,
    /// Step within the session (`Memdir-Step`).
    pub step: Option<String>,
    /// Outside reference, kept in `source.ref`.
    pub reference: Option<String>,
    /// Commit author; `None` uses git config.
    pub author: Option<Author>,
}

impl Provenance {
    /// Returns provenance naming only an agent.
    pub fn agent(name: impl Into<String>) -> Self {
        Provenance {
            agent: Some(name.into()),
            ..Provenance::default()
        }
    }

    fn trailers(&self, op: &str, ids: &[&MemoryId]) -> Vec<(String, String)> {
        let mut t = vec![("Memdir-Op".to_owned(), op.to_owned())];
        for id in ids {
            t.push(("Memdir-Id".into(), id.to_string()));
        }
        for (key, value) in [
            ("Memdir-Session", &self.session),
            ("Memdir-Agent", &self.agent),
            ("Memdir-Step", &self.step),
        ] {
            if let Some(v) = value {
                t.push((key.into(), v.clone()));
            }
        }
        t
    }

    fn source(&self) -> Source {
        Source {
            session: self.session.clone(),
            agent: self.agent.clone(),
            step: self.step.clone(),
            reference: self.reference.clone(),
        }
    }
}

/// A memory to add. Only the text is required.
///
/// ```
/// use memdir::NewMemory;
/// let m = NewMemory::new("Alice prefers dark mode.").title("Prefers dark mode").kind("preference").tag("ui");
/// assert_eq!(m.tags, ["ui"]);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewMemory {
    /// Markdown body.
    pub text: String,
    /// Title; derived from the text's first line when absent.
    pub title: Option<String>,
    /// Type; the configured default when absent.
    pub kind: Option<String>,
    /// Tags.
    pub tags: Vec<String>,
    /// Scope, such as `user:alice`.
    pub scope: Option<String>,
    /// Always include in context.
    pub pinned: bool,
    /// Stop believing it after this time.
    pub expires: Option<Timestamp>,
}

impl NewMemory {
    /// Returns a memory with this body.
    pub fn new(text: impl Into<String>) -> Self {
        NewMemory {
            text: text.into(),
            ..NewMemory::default()
        }
    }
    /// Sets the title.
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
    /// Sets the type.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
    /// Adds a tag.
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }
    /// Sets the scope.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
    /// Pins the memory.
    pub fn pinned(mut self, pinned: bool) -> Self {
        self.pinned = pinned;
        self
    }
}

/// Changes to an existing memory. Fields left `None` (or empty) are not touched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    /// New title.
    pub title: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// Tags to add.
    pub add_tags: Vec<String>,
    /// Tags to remove.
    pub remove_tags: Vec<String>,
    /// New scope.
    pub scope: Option<String>,
    /// Pin or unpin.
    pub pinned: Option<bool>,
    /// New expiry.
    pub expires: Option<Timestamp>,
    /// Fail with [`Error::Conflict`] unless the memory is still at this revision.
    pub expect: Option<String>,
}

/// The outcome of a write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Written {
    /// The memory written.
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its revision after the write (`None` after a removal).
    pub revision: Option<Revision>,
    /// The commit, or `None` when nothing changed.
    pub commit: Option<String>,
}

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    /// Free text.
    pub text: String,
    /// Most hits to return; the configured default when `None`.
    pub limit: Option<usize>,
    /// Restrictions.
    pub filter: Filter,
}

impl SearchQuery {
    /// Returns a query for `text` with default limit and no filter.
    pub fn new(text: impl Into<String>) -> Self {
        SearchQuery {
            text: text.into(),
            ..SearchQuery::default()
        }
    }
}

/// A problem found in a file: `path:line: message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// File, relative to the root.
    pub path: String,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path, line, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl Problem {
    fn from_parse(path: &str, e: &ParseError) -> Problem {
        let text = e.to_string();
        let line = e.line();
        let prefix = match line {
            Some(l) => format!("{path}:{l}: "),
            None => format!("{path}: "),
        };
        Problem {
            path: path.to_owned(),
            line,
            message: text.strip_prefix(&prefix).unwrap_or(&text).to_owned(),
        }
    }
}

/// What `refresh` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Refresh {
    /// Files re-read and re-indexed.
    pub reindexed: usize,
    /// Whether the whole index was rebuilt.
    pub rebuilt: bool,
    /// Files that could not be indexed.
    pub problems: Vec<Problem>,
}

/// The state of a repository, for `memdir status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The repository root.
    pub root: PathBuf,
    /// HEAD commit.
    pub head: Option<String>,
    /// The commit the index reflects.
    pub indexed_head: Option<String>,
    /// Whether the index reflects HEAD and every hand edit.
    pub index_fresh: bool,
    /// Files that differ from HEAD (uncommitted hand edits), with git-status-like letters.
    pub uncommitted: Vec<String>,
    /// Memories in the index.
    pub memories: usize,
    /// Passages in the index.
    pub passages: usize,
}

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
pub struct Memdir {
    root: PathBuf,
    config: Config,
    store: Mutex<Store>,
    index: Index,
    /// The state the index was last seen at, to skip work when nothing changed.
    state: Mutex<Option<IndexState>>,
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
        && !(name.eq_ignore_ascii_case("MEMORY.md") && !path.contains('/'))
}

impl Memdir {
    /// Creates a memory repository in `dir` (creating the folder if needed) from the template,
    /// as its first commit, and opens it. Reuses an existing git repository there.
    pub fn init(dir: &Path) -> Result<Memdir> {
        Self::init_as(dir, None)
    }

    /// Like [`Memdir::init`], with an explicit author for the first commit.
    pub fn init_as(dir: &Path, author: Option<&Author>) -> Result<Memdir> {
        if dir.join(CONFIG_FILE).exists() && dir.join(".git").exists() {
            return Err(Error::AlreadyInitialized { path: dir.to_owned() });
        }
        let store = Store::init(dir)?;
        let root = store.root().to_owned();
        let writes: Vec<FileWrite> = crate::template::FILES
            .iter()
            .filter(|(p, _)| !root.join(p).exists())
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
        drop(_lock);
        drop(store);
        Self::open(dir)
    }

    /// Opens the memory repository whose root is `dir` and catches its index up.
    pub fn open(dir: &Path) -> Result<Memdir> {
        let root = std::fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
        if !root.join(".git").exists() || !root.join(CONFIG_FILE).exists() {
            return Err(Error::NotARepository { path: root });
        }
        let config = Config::load(&root)?;
        let store = Store::open(&root)?;
        let index = Index::open(&store.git_dir().join("memdir").join("index"), config.search.boost.clone())?;
        let mem = Memdir {
            root,
            config,
            store: Mutex::new(store),
            index,
            state: Mutex::new(None),
        };
        mem.refresh()?;
        Ok(mem)
    }

    /// Finds the nearest enclosing memory repository of `start` (itself or a parent folder
    /// holding `memory.toml` and `.git`) and opens it.
    pub fn discover(start: &Path) -> Result<Memdir> {
        let start = std::fs::canonicalize(start).map_err(|e| Error::io(start, e))?;
        let root = start
            .ancestors()
            .find(|d| d.join(CONFIG_FILE).is_file() && d.join(".git").exists())
            .ok_or_else(|| Error::NotARepository { path: start.clone() })?;
        Self::open(root)
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

    fn lock(&self) -> Result<WriteLock> {
        let path = self.store().git_dir().join("memdir").join("write.lock");
        WriteLock::acquire(&path).map_err(|e| Error::io(e.path, e.source))
    }

    fn read(&self, path: &str) -> Result<Option<Vec<u8>>> {
        let full = self.root.join(path);
        match std::fs::symlink_metadata(&full) {
            Ok(meta) if meta.file_type().is_file() => {
                std::fs::read(&full).map(Some).map_err(|e| Error::io(full, e))
            }
            Ok(_) => Ok(None), // symlinks and folders are never followed or read
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(full, e)),
        }
    }

    fn parse_file(&self, path: &str, bytes: &[u8]) -> std::result::Result<Memory, Problem> {
        let memory = parse::parse_memory(path, bytes, Store::revision_of(bytes))
            .map_err(|e| Problem::from_parse(path, &e))?;
        if let Err(e) = self.config.check_type(&memory.front.kind) {
            return Err(Problem {
                path: path.to_owned(),
                line: None,
                message: format!("field `type`: {e}"),
            });
        }
        Ok(memory)
    }

    /// Brings the index up to date with HEAD and with uncommitted hand edits, re-reading only
    /// the files that changed since the index was last updated.
    pub fn refresh(&self) -> Result<Refresh> {
        self.catch_up(true, None)
    }

    /// Catches the index up. With `scan`, also looks for hand edits in the working tree (a
    /// `git status`); without, trusts the recorded hand-edit set. `committed` lists paths the
    /// caller just committed: they are no longer hand edits.
    fn catch_up(&self, scan: bool, committed: Option<&[String]>) -> Result<Refresh> {
        let stored = self.index.state();
        let head = self.store().head()?;
        let (paths, dirty_now, rebuild) = {
            let store = self.store();
            let changed = match &stored {
                None => None,
                Some(s) if s.head == head => Some(Vec::new()),
                Some(s) => store.changed_since(s.head.as_deref())?,
            };
            let old_dirty = stored.as_ref().map(|s| s.dirty.clone()).unwrap_or_default();
            let dirty_paths: Vec<String> = if scan {
                store.dirty_paths()?.into_iter().filter(|p| is_memory_path(p)).collect()
            } else {
                let done: BTreeSet<&String> = committed.unwrap_or_default().iter().collect();
                old_dirty.keys().filter(|p| !done.contains(p)).cloned().collect()
            };
            drop(store);
            let mut dirty_now = BTreeMap::new();
            for p in &dirty_paths {
                let rev = self.read(p)?.map(|b| Store::revision_of(&b).0);
                dirty_now.insert(p.clone(), rev);
            }
            match changed {
                None => (Vec::new(), dirty_now, true),
                Some(changed) => {
                    let mut paths: BTreeSet<String> =
                        changed.into_iter().filter(|p| is_memory_path(p)).collect();
                    for (p, rev) in &old_dirty {
                        if dirty_now.get(p) != Some(rev) {
                            paths.insert(p.clone());
                        }
                    }
                    for (p, rev) in &dirty_now {
                        if old_dirty.get(p) != Some(rev) {
                            paths.insert(p.clone());
                        }
                    }
                    (paths.into_iter().collect::<Vec<_>>(), dirty_now, false)
                }
            }
        };
        let new_state = IndexState {
            version: 0,
            head,
            dirty: dirty_now,
        };
        if rebuild {
            return self.rebuild(new_state, &mut |_, _| {});
        }
        if paths.is_empty() && stored.as_ref().map(|s| &s.dirty) == Some(&new_state.dirty) {
            if stored.as_ref().map(|s| &s.head) != Some(&new_state.head) {
                self.index.apply(false, &[], &[], &new_state)?;
            }
            *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(new_state);
            return Ok(Refresh::default());
        }
        let mut memories = Vec::new();
        let mut problems = Vec::new();
        for p in &paths {
            if let Some(bytes) = self.read(p)? {
                match self.parse_file(p, &bytes) {
                    Ok(m) => memories.push(m),
                    Err(problem) => problems.push(problem),
                }
            }
        }
        let docs: Vec<IndexedMemory<'_>> = memories
            .iter()
            .map(|m| IndexedMemory {
                memory: m,
                passages: parse::passages(&m.body, m.body_line),
            })
            .collect();
        self.index.apply(false, &paths, &docs, &new_state)?;
        for p in &problems {
            tracing::warn!("{p}");
        }
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(new_state);
        Ok(Refresh {
            reindexed: paths.len(),
            rebuilt: false,
            problems,
        })
    }

    /// Rebuilds the index from every file in the working tree. `progress` is called with
    /// `(done, total)` as files are read.
    pub fn reindex(&self, progress: &mut dyn FnMut(usize, usize)) -> Result<Refresh> {
        let _lock = self.lock()?;
        let head = self.store().head()?;
        let dirty = self
            .store()
            .dirty_paths()?
            .into_iter()
            .filter(|p| is_memory_path(p))
            .map(|p| {
                let rev = self.read(&p)?.map(|b| Store::revision_of(&b).0);
                Ok((p, rev))
            })
            .collect::<Result<BTreeMap<_, _>>>()?;
        self.rebuild(IndexState { version: 0, head, dirty }, progress)
    }

    fn rebuild(&self, state: IndexState, progress: &mut dyn FnMut(usize, usize)) -> Result<Refresh> {
        let files = self.memory_files()?;
        let mut memories = Vec::with_capacity(files.len());
        let mut problems = Vec::new();
        for (i, p) in files.iter().enumerate() {
            if let Some(bytes) = self.read(p)? {
                match self.parse_file(p, &bytes) {
                    Ok(m) => memories.push(m),
                    Err(problem) => problems.push(problem),
                }
            }
            if i % 256 == 0 || i + 1 == files.len() {
                progress(i + 1, files.len());
            }
        }
        let docs: Vec<IndexedMemory<'_>> = memories
            .iter()
            .map(|m| IndexedMemory {
                memory: m,
                passages: parse::passages(&m.body, m.body_line),
            })
            .collect();
        self.index.apply(true, &[], &docs, &state)?;
        *self.state.lock().unwrap_or_else(|e| e.into_inner()) = Some(state);
        Ok(Refresh {
            reindexed: files.len(),
            rebuilt: true,
            problems,
        })
    }

    /// Returns every memory file in the working tree (not following symlinks, skipping hidden
    /// folders), sorted.
    fn memory_files(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        let mut stack = vec![String::new()];
        while let Some(rel) = stack.pop() {
            let dir = if rel.is_empty() { self.root.clone() } else { self.root.join(&rel) };
            let entries = std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))?;
            for entry in entries {
                let entry = entry.map_err(|e| Error::io(&dir, e))?;
                let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                    continue;
                };
                if name.starts_with('.') {
                    continue;
                }
                let path = if rel.is_empty() { name } else { format!("{rel}/{name}") };
                let ft = entry.file_type().map_err(|e| Error::io(entry.path(), e))?;
                if ft.is_dir() {
                    stack.push(path);
                } else if (ft.is_file() || ft.is_symlink()) && is_memory_path(&path) {
                    out.push(path);
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Generates a fresh id for `slug`: the slug (cut to 40 characters) plus six hex digits.
    fn new_id(&self, slug: &str) -> Result<MemoryId> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let stem: String = slug.chars().take(40).collect::<String>().trim_end_matches('-').to_owned();
        loop {
            let seed = format!(
                "{slug}\0{}\0{}\0{}",
                time::OffsetDateTime::now_utc().unix_timestamp_nanos(),
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed)
            );
            let hex = &Store::revision_of(seed.as_bytes()).0[..6];
            let id = MemoryId::parse(&format!("{stem}-{hex}"))?;
            if self.index.find_id(id.as_str())?.is_empty() {
                return Ok(id);
            }
        }
    }

    fn prepare_new(&self, new: NewMemory, prov: &Provenance, taken: &mut BTreeSet<String>) -> Result<(Memory, Vec<u8>)> {
        let text = new.text.trim_end();
        if text.trim().is_empty() {
            return Err(Error::invalid("the memory text is empty: give the text as an argument or on stdin"));
        }
        let kind = new.kind.unwrap_or_else(|| self.config.memory.default_type.clone());
        self.config.check_type(&kind)?;
        let title = match new.title.map(|t| t.trim().to_owned()) {
            Some(t) if !t.is_empty() => t,
            _ => parse::derive_title(text).ok_or_else(|| Error::invalid("the memory has no title"))?,
        };
        for tag in &new.tags {
            if tag.trim().is_empty() || tag.contains(['\n', '\r']) {
                return Err(Error::invalid(format!("invalid tag {tag:?}: tags are non-empty single-line strings")));
            }
        }
        let slug = parse::slugify(&title);
        let id = self.new_id(&slug)?;
        let mut path = format!("{kind}/{slug}.md");
        if taken.contains(&path) || self.root.join(&path).symlink_metadata().is_ok() {
            path = format!("{kind}/{id}.md");
        }
        taken.insert(path.clone());
        let now = Timestamp::now();
        let mut tags: Vec<String> = Vec::new();
        for t in new.tags {
            let t = t.trim().to_owned();
            if !tags.contains(&t) {
                tags.push(t);
            }
        }
        let front = FrontMatter {
            id,
            title,
            kind,
            tags,
            scope: new.scope.filter(|s| !s.trim().is_empty()),
            created: Some(now),
            updated: Some(now),
            pinned: new.pinned,
            expires: new.expires,
            source: prov.source(),
            extra: BTreeMap::new(),
        };
        let content = parse::render_new(&front, &format!("{text}\n"));
        let memory = parse::parse_memory(&path, content.as_bytes(), Store::revision_of(content.as_bytes()))?;
        Ok((memory, content.into_bytes()))
    }

    /// Adds a memory as one commit (`Memdir-Op: add`) and returns where it went.
    pub fn remember(&self, new: NewMemory, prov: &Provenance) -> Result<Written> {
        let mut written = self.remember_batch(vec![new], prov)?;
        Ok(written.remove(0))
    }

    /// Adds many memories in a single commit.
    pub fn remember_batch(&self, news: Vec<NewMemory>, prov: &Provenance) -> Result<Vec<Written>> {
        if news.is_empty() {
            return Ok(Vec::new());
        }
        let _lock = self.lock()?;
        self.catch_up(false, None)?;
        let mut taken = BTreeSet::new();
        let mut prepared = Vec::with_capacity(news.len());
        for new in news {
            prepared.push(self.prepare_new(new, prov, &mut taken)?);
        }
        let ids: Vec<&MemoryId> = prepared.iter().map(|(m, _)| m.id()).collect();
        let subject = match prepared.as_slice() {
            [(m, _)] => format!("add: {} ({})", m.front.title, m.id()),
            many => format!("add: {} memories", many.len()),
        };
        let body = (prepared.len() > 1).then(|| {
            prepared
                .iter()
                .map(|(m, _)| format!("- {} ({})", m.front.title, m.path))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let message = CommitMessage {
            subject,
            body,
            trailers: prov.trailers("add", &ids),
        };
        let writes: Vec<FileWrite> = prepared
            .iter()
            .map(|(m, bytes)| FileWrite {
                path: m.path.clone(),
                content: Some(bytes.clone()),
            })
            .collect();
        let commit = self.store().commit(&writes, &message, prov.author.as_ref())?;
        let paths: Vec<String> = writes.into_iter().map(|w| w.path).collect();
        self.catch_up(false, Some(&paths))?;
        Ok(prepared
            .into_iter()
            .map(|(m, _)| Written {
                id: m.front.id.to_string(),
                path: m.path,
                revision: Some(m.revision),
                commit: commit.as_ref().map(|c| c.0.clone()),
            })
            .collect())
    }

    /// Returns the memory with this id, read from its file now.
    pub fn get(&self, id: &str) -> Result<Memory> {
        let id = MemoryId::parse(id)?;
        let mut found = self.index.find_id(id.as_str())?;
        if found.is_empty() {
            // The file may have been added or renamed by hand since the index last looked.
            self.refresh()?;
            found = self.index.find_id(id.as_str())?;
        }
        match found.len() {
            0 => Err(Error::NotFound { id: id.to_string() }),
            1 => {
                let path = &found[0].path;
                let bytes = self.read(path)?.ok_or_else(|| Error::NotFound { id: id.to_string() })?;
                let memory = parse::parse_memory(path, &bytes, Store::revision_of(&bytes))?;
                if memory.front.id != id {
                    // Edited by hand to another id since indexing.
                    self.refresh()?;
                    return self.get(id.as_str());
                }
                Ok(memory)
            }
            _ => Err(Error::DuplicateId {
                id: id.to_string(),
                paths: found.into_iter().map(|s| s.path).collect(),
            }),
        }
    }

    /// Changes fields or the body of a memory as one commit (`Memdir-Op: update`). Only the
    /// lines of changed fields are rewritten. With `update.expect`, fails with
    /// [`Error::Conflict`] if the memory changed since that revision.
    pub fn update(&self, id: &str, update: Update, prov: &Provenance) -> Result<Written> {
        let _lock = self.lock()?;
        self.catch_up(false, None)?;
        let memory = self.get(id)?;
        if let Some(expected) = &update.expect {
            if !memory.revision.matches(expected) {
                return Err(Error::Conflict {
                    id: id.to_owned(),
                    expected: expected.clone(),
                    actual: memory.revision.0.clone(),
                });
            }
        }
        let mut edit = Edit::default();
        let mut changed = Vec::new();
        if let Some(title) = update.title.as_ref().map(|t| t.trim()) {
            if title.is_empty() || title.contains('\n') {
                return Err(Error::invalid("the title must be one non-empty line"));
            }
            if title != memory.front.title {
                edit.fields.push(("title".into(), FieldValue::Text(title.to_owned())));
                changed.push("title");
            }
        }
        if !update.add_tags.is_empty() || !update.remove_tags.is_empty() {
            let mut tags: Vec<String> = memory
                .front
                .tags
                .iter()
                .filter(|t| !update.remove_tags.contains(t))
                .cloned()
                .collect();
            for t in &update.add_tags {
                let t = t.trim();
                if t.is_empty() || t.contains('\n') {
                    return Err(Error::invalid(format!("invalid tag {t:?}")));
                }
                if !tags.iter().any(|x| x == t) {
                    tags.push(t.to_owned());
                }
            }
            if tags != memory.front.tags {
                edit.fields.push(("tags".into(), FieldValue::List(tags)));
                changed.push("tags");
            }
        }
        if let Some(scope) = &update.scope {
            if Some(scope) != memory.front.scope.as_ref() {
                edit.fields.push(("scope".into(), FieldValue::Text(scope.clone())));
                changed.push("scope");
            }
        }
        if let Some(pinned) = update.pinned {
            if pinned != memory.front.pinned {
                edit.fields.push(("pinned".into(), FieldValue::Bool(pinned)));
                changed.push("pinned");
            }
        }
        if let Some(expires) = update.expires {
            if Some(expires) != memory.front.expires {
                edit.fields.push(("expires".into(), FieldValue::Text(expires.to_string())));
                changed.push("expires");
            }
        }
        if let Some(body) = &update.body {
            let old = memory.body.trim_start_matches('\n').trim_end();
            if body.trim_end() != old {
                edit.body = Some(format!("{}\n", body.trim_end()));
                changed.push("body");
            }
        }
        if changed.is_empty() {
            return Ok(Written {
                id: id.to_owned(),
                path: memory.path,
                revision: Some(memory.revision),
                commit: None,
            });
        }
        edit.fields.push(("updated".into(), FieldValue::Text(Timestamp::now().to_string())));
        let text = std::str::from_utf8(&self.read(&memory.path)?.unwrap_or_default())
            .map_err(|_| Error::invalid(format!("{} is not UTF-8", memory.path)))?
            .to_owned();
        let new_text = parse::edit(&memory.path, &text, &edit)?;
        // Never write a file memdir could not read back.
        let revision = Store::revision_of(new_text.as_bytes());
        parse::parse_memory(&memory.path, new_text.as_bytes(), revision.clone())?;
        let title = update.title.as_deref().unwrap_or(&memory.front.title).trim();
        let message = CommitMessage {
            subject: format!("update: {title} ({}): {}", memory.front.id, changed.join(", ")),
            body: None,
            trailers: prov.trailers("update", &[&memory.front.id]),
        };
        let write = FileWrite {
            path: memory.path.clone(),
            content: Some(new_text.into_bytes()),
        };
        let commit = self.store().commit(std::slice::from_ref(&write), &message, prov.author.as_ref())?;
        self.catch_up(false, Some(&[memory.path.clone()]))?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: Some(revision),
            commit: commit.map(|c| c.0),
        })
    }

    /// Replaces the whole file of a memory with `text`, as `memdir edit` does after the editor
    /// closes, as one commit (`Memdir-Op: edit`). The new text must parse, keep the same id and
    /// use a configured type; otherwise nothing is written. With `expect`, fails with
    /// [`Error::Conflict`] if the memory changed since that revision.
    pub fn replace(&self, id: &str, text: &str, expect: Option<&str>, prov: &Provenance) -> Result<Written> {
        let _lock = self.lock()?;
        self.catch_up(false, None)?;
        let memory = self.get(id)?;
        if let Some(expected) = expect {
            if !memory.revision.matches(expected) {
                return Err(Error::Conflict {
                    id: id.to_owned(),
                    expected: expected.to_owned(),
                    actual: memory.revision.0.clone(),
                });
            }
        }
        let revision = Store::revision_of(text.as_bytes());
        if revision == memory.revision {
            return Ok(Written {
                id: id.to_owned(),
                path: memory.path,
                revision: Some(revision),
                commit: None,
            });
        }
        let edited = self
            .parse_file(&memory.path, text.as_bytes())
            .map_err(|p| Error::InvalidEdits { problems: vec![p] })?;
        if edited.front.id != memory.front.id {
            return Err(Error::invalid(format!(
                "the id cannot change in an edit (was `{}`, now `{}`): ids are never reused; add a new memory instead",
                memory.front.id, edited.front.id
            )));
        }
        let message = CommitMessage {
            subject: format!("edit: {} ({})", edited.front.title, edited.front.id),
            body: None,
            trailers: prov.trailers("edit", &[&edited.front.id]),
        };
        let write = FileWrite {
            path: memory.path.clone(),
            content: Some(text.as_bytes().to_vec()),
        };
        let commit = self.store().commit(std::slice::from_ref(&write), &message, prov.author.as_ref())?;
        self.catch_up(false, Some(&[memory.path.clone()]))?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: Some(revision),
            commit: commit.map(|c| c.0),
        })
    }

    /// Removes a memory as one commit (`Memdir-Op: rm`, with `Memdir-Reason` when given). The
    /// file stays in git history.
    pub fn forget(&self, id: &str, reason: Option<&str>, prov: &Provenance) -> Result<Written> {
        let _lock = self.lock()?;
        self.catch_up(false, None)?;
        let memory = self.get(id)?;
        let mut trailers = prov.trailers("rm", &[&memory.front.id]);
        if let Some(r) = reason {
            trailers.push(("Memdir-Reason".into(), r.to_owned()));
        }
        let message = CommitMessage {
            subject: format!("rm: {} ({})", memory.front.title, memory.front.id),
            body: reason.map(str::to_owned),
            trailers,
        };
        let write = FileWrite {
            path: memory.path.clone(),
            content: None,
        };
        let commit = self.store().commit(std::slice::from_ref(&write), &message, prov.author.as_ref())?;
        self.catch_up(false, Some(&[memory.path.clone()]))?;
        Ok(Written {
            id: id.to_owned(),
            path: memory.path,
            revision: None,
            commit: commit.map(|c| c.0),
        })
    }

    /// Lists memories that pass `filter`, sorted by path.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Summary>> {
        Ok(self.index.list(filter)?)
    }

    /// Searches passages with BM25 and returns the best passage of each matching memory.
    ///
    /// Sees every write made through memdir at once. Hand edits are seen after
    /// [`Memdir::refresh`] (which `open` runs, so each CLI command sees them).
    pub fn search(&self, query: &SearchQuery) -> Result<Vec<Hit>> {
        let fresh = {
            let head = self.store().head()?;
            let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.as_ref().is_some_and(|s| s.head == head)
        };
        if !fresh {
            // Another process committed: catch up with commits (cheap) before searching.
            self.index.reload()?;
            self.catch_up(false, None)?;
        }
        let limit = query.limit.unwrap_or(self.config.search.limit);
        Ok(self.index.search(&query.text, &query.filter, limit)?)
    }

    /// Validates every memory file and `memory.toml`; returns the problems found.
    pub fn check(&self) -> Result<Vec<Problem>> {
        let mut problems = Vec::new();
        if let Err(e) = Config::load(&self.root) {
            problems.push(config_problem(&e));
        }
        let mut ids: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for path in self.memory_files()? {
            let full = self.root.join(&path);
            if full.symlink_metadata().map(|m| m.file_type().is_symlink()).unwrap_or(false) {
                problems.push(Problem {
                    path,
                    line: None,
                    message: "is a symbolic link; memdir never follows links: replace it with a regular file".into(),
                });
                continue;
            }
            let Some(bytes) = self.read(&path)? else { continue };
            match self.parse_file(&path, &bytes) {
                Ok(m) => ids.entry(m.front.id.to_string()).or_default().push(path),
                Err(p) => problems.push(p),
            }
        }
        for (id, paths) in ids.into_iter().filter(|(_, p)| p.len() > 1) {
            for path in &paths {
                problems.push(Problem {
                    path: path.clone(),
                    line: Some(2),
                    message: format!(
                        "duplicate id `{id}` (also in {}): give one of them a new id",
                        paths.iter().filter(|p| *p != path).cloned().collect::<Vec<_>>().join(", ")
                    ),
                });
            }
        }
        problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
        Ok(problems)
    }

    /// Reports index freshness, uncommitted hand edits and counts.
    pub fn status(&self) -> Result<Status> {
        let (head, uncommitted) = {
            let store = self.store();
            (store.head()?, store.dirty_paths()?)
        };
        self.index.reload()?;
        let state = self.index.state();
        let memory_dirty: BTreeMap<String, Option<String>> = uncommitted
            .iter()
            .filter(|p| is_memory_path(p))
            .map(|p| Ok((p.clone(), self.read(p)?.map(|b| Store::revision_of(&b).0))))
            .collect::<Result<_>>()?;
        let index_fresh = state.as_ref().is_some_and(|s| s.head == head && s.dirty == memory_dirty);
        let (memories, passages) = self.index.counts()?;
        Ok(Status {
            root: self.root.clone(),
            head,
            indexed_head: state.and_then(|s| s.head),
            index_fresh,
            uncommitted,
            memories,
            passages,
        })
    }

    /// Commits every uncommitted change in the working tree as one `Memdir-Op: hand-edit`
    /// commit. Refuses (changing nothing) if an edited memory file or `memory.toml` is invalid.
    /// Returns `None` when there is nothing to commit.
    pub fn commit_hand_edits(&self, message: Option<&str>, prov: &Provenance) -> Result<Option<String>> {
        let _lock = self.lock()?;
        let dirty = self.store().dirty_paths()?;
        if dirty.is_empty() {
            return Ok(None);
        }
        let mut problems = Vec::new();
        let mut ids = Vec::new();
        for path in &dirty {
            if path == CONFIG_FILE {
                if let Err(e) = Config::load(&self.root) {
                    problems.push(config_problem(&e));
                }
            } else if is_memory_path(path) {
                match self.read(path)? {
                    Some(bytes) => match self.parse_file(path, &bytes) {
                        Ok(m) => ids.push(m.front.id),
                        Err(p) => problems.push(p),
                    },
                    None => {
                        let gone = self.index.list(&Filter::default())?.into_iter().find(|s| &s.path == path);
                        if let Some(s) = gone.and_then(|s| MemoryId::parse(&s.id).ok()) {
                            ids.push(s);
                        }
                    }
                }
            }
        }
        if !problems.is_empty() {
            return Err(Error::InvalidEdits { problems });
        }
        let id_refs: Vec<&MemoryId> = ids.iter().collect();
        let subject = message.map(str::to_owned).unwrap_or_else(|| match dirty.as_slice() {
            [one] => format!("hand-edit: {one}"),
            many => format!("hand-edit: {} files", many.len()),
        });
        let body = (dirty.len() > 1 || message.is_some()).then(|| dirty.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n"));
        let commit = self.store().commit_paths(
            dirty.iter().map(String::as_str),
            &CommitMessage {
                subject,
                body,
                trailers: prov.trailers("hand-edit", &id_refs),
            },
            prov.author.as_ref(),
        )?;
        self.catch_up(true, None)?;
        Ok(commit.map(|c| c.0))
    }
}

fn config_problem(e: &crate::config::ConfigError) -> Problem {
    let line = match e {
        crate::config::ConfigError::Parse { line, .. } => Some(*line),
        _ => None,
    };
    let text = e.to_string();
    let message = text.split_once(": ").map_or(text.clone(), |(_, m)| m.to_owned());
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
        for no in ["MEMORY.md", "README.md", "fact/README.md", ".hidden/a.md", "fact/.a.md", "a.txt", "memory.toml"] {
            assert!(!is_memory_path(no), "{no}");
        }
    }
}
