//! The search index: tantivy over passages of memories. The only module that talks to tantivy.
//!
//! Each memory becomes one *memory* document (its metadata, for `get` and `list`) and one
//! *passage* document per paragraph, list item, code block... (for `search`), each with its
//! line range. The index lives in `.git/memdir/index/`, is never committed and can always be
//! rebuilt from the files. Every index commit carries, as its payload, the [`IndexState`] it
//! reflects (a git commit plus the hand-edited files it includes), so the index and its
//! freshness marker change together, atomically.

//!
//! One question per file: `schema` (what is indexed, and how text is analyzed), `document`
//! (a memory as documents, and back), `write` (replacing, staging, compacting, vacuuming),
//! `query` (plain words, filters, and the held-out policy as clauses), `read` (search and
//! lists), `storage` (where the files live), `valid_at` (the `--at` filter).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::{Index as TantivyIndex, IndexReader, ReloadPolicy};

use crate::config::Boosts;
use crate::memory::{Revision, Timestamp};
use crate::policy::{Hold, Policy};
use schema::{Fields, SCHEMA_VERSION, TOKENIZER, analyzer, schema};
use storage::{FileList, UnsyncedDirectory};

pub use crate::policy::HeldOut;
pub use document::{IndexedMemory, Validity};
pub use query::Filter;
pub use write::Staged;

mod document;
mod query;
mod read;
mod schema;
mod storage;
mod valid_at;
mod write;

/// Why the index could not be used.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// tantivy reported an error.
    #[error("search index {op} failed in {}; `memdir reindex` rebuilds it", dir.display())]
    Tantivy {
        /// What memdir was doing.
        op: &'static str,
        /// The index directory.
        dir: PathBuf,
        /// tantivy's error.
        #[source]
        source: tantivy::TantivyError,
    },
    /// The index directory could not be created or removed.
    #[error("cannot use index directory {}", dir.display())]
    Io {
        /// The index directory.
        dir: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// What the index reflects: a git commit plus hand-edited files, each with the revision indexed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexState {
    /// Schema version of the index.
    pub version: u32,
    /// The commit whose tree was indexed (`None` for an empty repository).
    pub head: Option<String>,
    /// Working-tree paths that differed from `head` when indexed, with the revision of the
    /// content indexed (`None` when the file was deleted).
    pub dirty: BTreeMap<String, Option<String>>,
    /// Memory files left out of the index because they are invalid, with what is wrong:
    /// `(line, message)` by path. `memdir status` lists them; reads say how many there are.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub invalid: BTreeMap<String, (Option<usize>, String)>,
    /// What a quarantine held back when the index was written (`[guard] hold`): an index
    /// written under another setting is rebuilt.
    #[serde(default, skip_serializing_if = "is_passage")]
    pub hold: Hold,
}

fn is_passage(hold: &Hold) -> bool {
    *hold == Hold::Passage
}

/// A memory's metadata as the index has it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Summary {
    /// Id.
    pub id: String,
    /// Path relative to the root.
    pub path: String,
    /// Title.
    pub title: String,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Last change time from front-matter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Always in context.
    pub pinned: bool,
    /// Content hash of the file.
    pub revision: Revision,
    /// Held out for review by the write guard.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub quarantined: bool,
    /// When it stops being believed, from its own `expires` (not the type's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// When it was written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
}

/// A search result: the best passage of one memory.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Hit {
    /// Memory id.
    pub id: String,
    /// Path relative to the root.
    pub path: String,
    /// Memory title.
    pub title: String,
    /// BM25 score of the passage.
    pub score: f32,
    /// The passage's Markdown text.
    pub passage: String,
    /// The passage cut to about 300 characters (at a character boundary, then `…`): what a
    /// list of results shows.
    pub snippet: String,
    /// The heading of the passage's section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// First line of the passage in the file (1-based).
    pub line_start: usize,
    /// The same as `line_start` (the CLI's name for it since its first release).
    pub line: usize,
    /// Last line of the passage in the file.
    pub line_end: usize,
    /// Content hash of the file.
    pub revision: Revision,
    /// Type.
    #[serde(rename = "type")]
    pub kind: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Last change time from front-matter (else its creation time).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Why search would leave this memory out (only a search that asks for held-out memories,
    /// such as `--include-quarantined`, returns any; empty and not serialized otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub held_out: Vec<HeldOut>,
    /// The first of `held_out` (`quarantined`, `expired` or `superseded`), absent for a
    /// memory search uses: what a list of results marks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<HeldOut>,
}

/// Returns `passage` cut to about 300 characters at a character boundary, with `…`.
///
/// ```
/// let long = "word ".repeat(100);
/// let cut = memdir::index::snippet(&long);
/// assert!(cut.len() <= 304 && cut.ends_with('…'));
/// assert_eq!(memdir::index::snippet("short"), "short");
/// ```
pub fn snippet(passage: &str) -> String {
    const MAX: usize = 300;
    if passage.len() <= MAX {
        return passage.to_owned();
    }
    let mut end = MAX;
    while !passage.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", passage[..end].trim_end())
}

/// The tantivy index of a repository.
pub struct Index {
    dir: PathBuf,
    index: TantivyIndex,
    /// tantivy's list of its files, held back until a commit or a write's end.
    file_list: FileList,
    reader: IndexReader,
    fields: Fields,
    boosts: Boosts,
    /// The held-out policy, compiled into the clauses of `search` and `list`.
    policy: Policy,
}

impl std::fmt::Debug for Index {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Index").field("dir", &self.dir).finish()
    }
}

impl Index {
    /// Opens the index in `dir`, creating it if absent. An index with another schema version,
    /// or one that cannot be opened, is deleted and created empty (its state is then `None`,
    /// which tells the caller to rebuild).
    pub fn open(dir: &Path, boosts: Boosts) -> Result<Index, IndexError> {
        match Self::try_open(dir, boosts.clone()) {
            Ok(index) if index.state().map(|s| s.version) == Some(SCHEMA_VERSION) => Ok(index),
            Ok(index) if index.state().is_none() && index.count_all()? == 0 => Ok(index),
            other => {
                if let Err(e) = &other {
                    tracing::warn!(dir = %dir.display(), error = %e, "search index unreadable; rebuilding");
                }
                drop(other);
                std::fs::remove_dir_all(dir).map_err(|source| IndexError::Io {
                    dir: dir.to_owned(),
                    source,
                })?;
                Self::try_open(dir, boosts)
            }
        }
    }

    fn try_open(dir: &Path, boosts: Boosts) -> Result<Index, IndexError> {
        let err = |op| {
            move |source| IndexError::Tantivy {
                op,
                dir: dir.to_owned(),
                source,
            }
        };
        std::fs::create_dir_all(dir).map_err(|source| IndexError::Io {
            dir: dir.to_owned(),
            source,
        })?;
        let (schema, fields) = schema();
        let storage = UnsyncedDirectory::open(dir).map_err(err("open"))?;
        let file_list = storage.file_list();
        let index = TantivyIndex::open_or_create(storage, schema).map_err(err("open"))?;
        index.tokenizers().register(TOKENIZER, analyzer());
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(err("open reader"))?;
        Ok(Index {
            dir: dir.to_owned(),
            index,
            file_list,
            reader,
            fields,
            boosts,
            policy: Policy::default(),
        })
    }

    /// Sets the held-out policy that `search` and `list` apply (by default, no type has a
    /// default lifetime).
    pub fn with_policy(mut self, policy: Policy) -> Index {
        self.policy = policy;
        self
    }

    fn err(&self, op: &'static str) -> impl Fn(tantivy::TantivyError) -> IndexError + '_ {
        move |source| IndexError::Tantivy {
            op,
            dir: self.dir.clone(),
            source,
        }
    }

    /// Returns what the index reflects, or `None` if it was never filled (or is unreadable).
    pub fn state(&self) -> Option<IndexState> {
        let metas = self.index.load_metas().ok()?;
        serde_json::from_str(metas.payload.as_deref()?).ok()
    }

    /// Returns what a quarantine holds back in the documents this index writes.
    pub fn hold(&self) -> Hold {
        self.policy.hold()
    }

    /// Picks up commits made to the index by other processes.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(self.err("reload"))
    }

    /// Like [`Index::reload`]; returns true when the index had moved on (another process
    /// committed to it since this reader last looked).
    pub fn reload_moved(&self) -> Result<bool, IndexError> {
        let before = self.reader.searcher().generation().segments().clone();
        self.reload()?;
        Ok(*self.reader.searcher().generation().segments() != before)
    }
}
