//! The values that go in and out of [`Memdir`](super::Memdir) calls: provenance, new memories,
//! updates, search requests, and the reports writes and checks return.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::index::Filter;
use crate::memory::{MemoryId, Revision, Source, Timestamp};
use crate::parse::ParseError;
use crate::store::Author;

/// Who is writing, recorded in commit trailers (and, for new memories, in `source:`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
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

    pub(super) fn trailers(&self, op: &str, ids: &[&MemoryId]) -> Vec<(String, String)> {
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

    pub(super) fn source(&self) -> Source {
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
/// use memdir::{MemoryId, NewMemory, Timestamp};
/// let m = NewMemory::new("Alice prefers dark mode.").title("Prefers dark mode").kind("preference").tag("ui");
/// assert_eq!(m.tags, ["ui"]);
///
/// // Importers can fix the id, the date, the session and extra front-matter keys.
/// let m = NewMemory::new("- [t1] **Alice:** Hi")
///     .id(MemoryId::parse("standup-2026-11-25").unwrap())
///     .created(Timestamp::parse("2026-11-25").unwrap())
///     .session("standup")
///     .extra("speakers", serde_json::json!(["Alice"]));
/// assert_eq!(m.extra["speakers"][0], "Alice");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NewMemory {
    /// Markdown body.
    pub text: String,
    /// Title, written into the file. When absent, the file has none and its title follows
    /// its text: the first heading, else the first line.
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
    /// The id to give it; when absent, a new one from the first words of the title (or the
    /// type, without a title) and six hex digits. If a memory already has this
    /// id, the write fails with [`Error::DuplicateId`](crate::Error::DuplicateId).
    pub id: Option<MemoryId>,
    /// When it was first written, such as the date of an imported conversation; `updated`
    /// starts equal to it. Now when absent.
    pub created: Option<Timestamp>,
    /// The session recorded in `source.session`, instead of the provenance's (the commit
    /// trailers keep the provenance's).
    pub session: Option<String>,
    /// Front-matter keys beyond the known ones, written after them in key order. Keys are
    /// ASCII letters, digits, `_` and `-`, and may not be a known field.
    pub extra: BTreeMap<String, serde_json::Value>,
    /// Memories this one replaces (`supersedes:`): they drop out of search and context but
    /// stay in the repository and its history. Each must exist.
    pub supersedes: Vec<MemoryId>,
    /// What this memory was derived from (`derived_from:`), so `memdir drift` can tell when
    /// a source changes. A memory named without a revision is recorded at its revision now;
    /// each memory named must exist. Sessions are recorded as given (a transcript's session
    /// may live outside the repository).
    pub derived_from: Vec<crate::memory::SourceRef>,
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
    /// Sets the id instead of generating one.
    pub fn id(mut self, id: MemoryId) -> Self {
        self.id = Some(id);
        self
    }
    /// Sets the creation time (and so the first `updated`).
    pub fn created(mut self, created: Timestamp) -> Self {
        self.created = Some(created);
        self
    }
    /// Sets the session recorded in `source.session`.
    pub fn session(mut self, session: impl Into<String>) -> Self {
        self.session = Some(session.into());
        self
    }
    /// Marks a memory this one replaces.
    pub fn supersedes(mut self, id: MemoryId) -> Self {
        self.supersedes.push(id);
        self
    }
    /// Records a source this memory was derived from.
    pub fn derived_from(mut self, source: crate::memory::SourceRef) -> Self {
        self.derived_from.push(source);
        self
    }
    /// Sets an extra front-matter key.
    pub fn extra(mut self, key: impl Into<String>, value: impl Into<serde_json::Value>) -> Self {
        self.extra.insert(key.into(), value.into());
        self
    }
}

/// How [`Memdir::import`](super::Memdir::import) files a transcript's sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Type of the session memories; `event` when absent.
    pub kind: Option<String>,
    /// Tags added to every session memory, after `transcript`.
    pub tags: Vec<String>,
    /// Scope of every session memory, such as `user:alice`.
    pub scope: Option<String>,
}

/// What [`Memdir::import`](super::Memdir::import) did with one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// The session's memory.
    pub id: String,
    /// Its path.
    pub path: String,
    /// The session id from the transcript.
    pub session: String,
    /// How many turns the session has.
    pub turns: usize,
    /// Whether the memory was written now or was there already.
    pub status: ImportStatus,
}

/// Whether an imported session was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    /// Written by this import.
    Added,
    /// Already in the repository (imported before); left as it is.
    Skipped,
}

impl std::fmt::Display for ImportStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ImportStatus::Added => "added",
            ImportStatus::Skipped => "skipped",
        })
    }
}

/// Changes to an existing memory. Fields left `None` (or empty) are not touched.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Update {
    /// New title.
    pub title: Option<String>,
    /// New body.
    pub body: Option<String>,
    /// The whole new tag list, replacing the old one (then `remove_tags` and `add_tags`
    /// apply to it).
    pub tags: Option<Vec<String>>,
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Written {
    /// The memory written.
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its revision after the write (`None` after a removal).
    pub revision: Option<Revision>,
    /// The commit, or `None` when nothing changed.
    pub commit: Option<String>,
    /// What the write guard flagged in this write (secrets were redacted before writing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<crate::guard::Flag>,
    /// Whether the memory is quarantined after the write: held out of search and context
    /// until `approve`. Serialized as `"status": "quarantined"` (else `"ok"`), so a caller
    /// reading JSON cannot mistake a held-back write for a kept one.
    #[serde(
        rename = "status",
        serialize_with = "write_status",
        deserialize_with = "read_status"
    )]
    #[cfg_attr(feature = "http", schema(value_type = String, example = "ok"))]
    pub quarantined: bool,
    /// Searchable memories the new text is a near-duplicate of (see [`crate::similar`]), most
    /// similar first: the write is kept, and `memdir consolidate` can merge them. Empty for
    /// removals, undos, quarantined writes and imports.
    pub similar: Vec<crate::similar::Similar>,
}

impl Written {
    /// Returns `"quarantined"` when the guard held the memory back, else `"ok"`.
    pub fn status(&self) -> &'static str {
        if self.quarantined {
            "quarantined"
        } else {
            "ok"
        }
    }
}

fn write_status<S: serde::Serializer>(quarantined: &bool, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(if *quarantined { "quarantined" } else { "ok" })
}

fn read_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    match String::deserialize(d)?.as_str() {
        "ok" => Ok(false),
        "quarantined" => Ok(true),
        other => Err(serde::de::Error::unknown_variant(
            other,
            &["ok", "quarantined"],
        )),
    }
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
    /// Most passages to return from any one memory (`None`: 1, the best one). More than one
    /// suits long memories such as imported transcripts, where each passage is a turn.
    pub per_memory: Option<usize>,
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

/// What [`Memdir::commit_all`](super::Memdir::commit_all) and
/// [`Memdir::stamp_ids`](super::Memdir::stamp_ids) did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Committed {
    /// The new commit; `None` when there was nothing to commit.
    pub commit: Option<String>,
    /// The files given ids of their own, before the commit.
    pub stamped: Vec<super::Stamped>,
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
    pub(super) fn from_parse(path: &str, e: &ParseError) -> Problem {
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
    /// The index had moved on since this handle opened it (a watcher indexed hand edits
    /// before vouching for the tree) and was reloaded: what this handle searched before may
    /// be stale.
    #[serde(skip)]
    pub reloaded: bool,
}

/// The state of a repository, for `memdir status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// The repository root (in project memory, the memory folder).
    pub root: PathBuf,
    /// True for project memory: a folder of a project's repository
    /// ([`crate::Memdir::init_project`]).
    pub project: bool,
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
    /// Git's objects: how many are loose, in how many packs, and whether packing is due.
    pub git_objects: crate::store::GitObjects,
    /// Memory files left out of search because they are invalid, with what is wrong
    /// (`memdir check` says the same, and more).
    pub invalid: Vec<Problem>,
    /// Whether a watcher serves the repository (`memdir watch`, `serve` or `mcp`): calls then
    /// skip their look at every memory file, and `memdir add`, `update` and `rm` hand it
    /// their writes.
    pub watcher: bool,
    /// The serving watcher's process id (`None` when none serves).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub watcher_pid: Option<u32>,
}
