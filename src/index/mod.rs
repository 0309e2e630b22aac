//! The search index: tantivy over passages of memories. The only module that talks to tantivy.
//!
//! Each memory becomes one *memory* document (its metadata, for `get` and `list`) and one
//! *passage* document per paragraph, list item, code block... (for `search`), each with its
//! line range. The index lives in `.git/memdir/index/`, is never committed and can always be
//! rebuilt from the files. Every index commit carries, as its payload, the [`IndexState`] it
//! reflects (a git commit plus the hand-edited files it includes), so the index and its
//! freshness marker change together, atomically.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EmptyQuery, Occur, Query, RangeQuery,
    TermQuery,
};
use tantivy::schema::{
    DateOptions, FAST, Field, INDEXED, IndexRecordOption, NumericOptions, STORED, STRING, Schema,
    TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::{
    AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
    StopWordFilter, TextAnalyzer,
};
use tantivy::{
    DateTime, DocAddress, Index as TantivyIndex, IndexReader, IndexWriter, ReloadPolicy,
    TantivyDocument, Term,
};

use crate::config::Boosts;
use crate::memory::{Memory, Revision, Timestamp};
use crate::parse::Passage;
use storage::{FileList, UnsyncedDirectory};

mod storage;
mod valid_at;

/// Bump when the schema or what is indexed changes: older indexes are then rebuilt.
const SCHEMA_VERSION: u32 = 8;
const TOKENIZER: &str = "memdir_en";
const KIND_MEMORY: &str = "m";
const KIND_PASSAGE: &str = "p";
/// Most segments an index of versions keeps (see [`Index::compact_versions`]).
const MAX_VERSION_SEGMENTS: usize = 12;

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
    /// The heading of the passage's section.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// First line of the passage in the file (1-based).
    pub line_start: usize,
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
}

/// Restricts `list` and `search` to memories with these properties.
///
/// Memories that are *held out* (quarantined by the write guard, expired, or superseded by a
/// newer memory) are left out unless the matching `include_*` field says otherwise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only this type.
    pub kind: Option<String>,
    /// Only memories with every one of these tags.
    pub tags: Vec<String>,
    /// Only this scope.
    pub scope: Option<String>,
    /// Also memories the write guard quarantined.
    pub include_quarantined: bool,
    /// Also memories past their `expires` (or their type's default lifetime).
    pub include_expired: bool,
    /// Also memories another memory `supersedes`.
    pub include_superseded: bool,
    /// Only the memories held out for this reason (implies including them).
    pub only: Option<HeldOut>,
    /// The time expiry is judged at; `None`: now. Tests pass a fixed time.
    pub now: Option<Timestamp>,
    /// In an index of versions (`memdir search --at`), only the versions valid at this point
    /// of history: the position of a commit on HEAD's first-parent chain, counting the root
    /// commit as 1. `None` in the index of the present.
    pub at: Option<u64>,
}

/// Why a memory is left out of search and context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HeldOut {
    /// The write guard flagged it; it waits for `memdir approve` or `memdir reject`.
    Quarantined,
    /// Past its `expires`, or its type's default lifetime (`[memory.ttl]`); never if pinned.
    Expired,
    /// A newer memory lists it under `supersedes`.
    Superseded,
}

impl Filter {
    /// Returns true if the filter restricts by type, tag or scope.
    fn restricts(&self) -> bool {
        self.kind.is_some() || !self.tags.is_empty() || self.scope.is_some() || self.at.is_some()
    }
}

/// Boolean query clauses.
type Clauses = Vec<(Occur, Box<dyn Query>)>;

struct Fields {
    kind: Field,
    id: Field,
    key: Field,
    path: Field,
    label: Field,
    title: Field,
    heading: Field,
    body: Field,
    context: Field,
    tags: Field,
    tag: Field,
    mtype: Field,
    scope: Field,
    created: Field,
    updated: Field,
    pinned: Field,
    revision: Field,
    line_start: Field,
    line_end: Field,
    quarantined: Field,
    expires: Field,
    has_expires: Field,
    supersedes: Field,
    has_supersedes: Field,
    stamped: Field,
    version: Field,
    valid_from: Field,
    valid_to: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let date = DateOptions::default().set_indexed().set_stored().set_fast();
    let num = NumericOptions::default().set_stored();
    let fields = Fields {
        kind: b.add_text_field("kind", STRING),
        id: b.add_text_field("id", STRING | STORED),
        // A hash of the id in a fast column: search groups hits by memory from it, loading
        // stored documents only for the hits it returns (a string column would decompress a
        // dictionary block per hit).
        key: b.add_u64_field("key", FAST),
        path: b.add_text_field("path", STRING | STORED),
        label: b.add_text_field("label", STORED),
        title: b.add_text_field("title", text.clone()),
        heading: b.add_text_field("heading", text.clone()),
        body: b.add_text_field("body", text.clone()),
        context: b.add_text_field(
            "context",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(TOKENIZER)
                    .set_index_option(IndexRecordOption::WithFreqs),
            ),
        ),
        tags: b.add_text_field("tags", text),
        tag: b.add_text_field("tag", STRING | STORED),
        mtype: b.add_text_field("type", STRING | STORED),
        scope: b.add_text_field("scope", STRING | STORED),
        created: b.add_date_field("created", date.clone()),
        updated: b.add_date_field("updated", date),
        pinned: b.add_u64_field("pinned", num.clone().set_indexed()),
        revision: b.add_text_field("revision", STRING | STORED),
        line_start: b.add_u64_field("line_start", num.clone()),
        line_end: b.add_u64_field("line_end", num.clone()),
        quarantined: b.add_u64_field("quarantined", num.clone().set_indexed()),
        expires: b.add_date_field(
            "expires",
            DateOptions::default().set_indexed().set_stored().set_fast(),
        ),
        has_expires: b.add_u64_field("has_expires", num.clone().set_indexed()),
        has_supersedes: b.add_u64_field("has_supersedes", num.clone().set_indexed()),
        stamped: b.add_u64_field("stamped", num.set_indexed()),
        supersedes: b.add_text_field("supersedes", STRING | STORED),
        // Only in an index of versions: which version a document belongs to, and the span of
        // history it is valid in (`valid_from <= at < valid_to`).
        version: b.add_text_field("version", STRING),
        valid_from: b.add_u64_field("valid_from", INDEXED | STORED | FAST),
        valid_to: b.add_u64_field("valid_to", INDEXED | STORED | FAST),
    };
    (b.build(), fields)
}

fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

/// One memory prepared for indexing.
pub struct IndexedMemory<'a> {
    /// The memory.
    pub memory: &'a Memory,
    /// Its passages.
    pub passages: Vec<Passage>,
    /// In an index of versions: the version's key and the span of history it is valid in
    /// (`from..to` in first-parent positions; `u64::MAX` while it is HEAD's).
    pub valid: Option<Validity>,
}

/// The span of history one version of a memory is valid in (see [`Filter::at`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validity {
    /// Names the version, so that it can be replaced when it stops being valid.
    pub key: String,
    /// The first commit (first-parent position) holding this version.
    pub from: u64,
    /// The first commit that no longer holds it; `u64::MAX` while HEAD holds it.
    pub to: u64,
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
    /// Default lifetimes by type, in seconds (`[memory.ttl]`).
    ttls: Vec<(String, i64)>,
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
            ttls: Vec::new(),
        })
    }

    /// Sets the default lifetimes by type, in seconds, that expiry uses.
    pub fn with_ttls(mut self, ttls: Vec<(String, i64)>) -> Index {
        self.ttls = ttls;
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

    /// Picks up commits made to the index by other processes.
    pub fn reload(&self) -> Result<(), IndexError> {
        self.reader.reload().map_err(self.err("reload"))
    }

    /// Replaces everything indexed for `remove_paths` with `add`, records `state`, and commits.
    /// With `clear`, drops the whole index first (a rebuild).
    pub fn apply(
        &self,
        clear: bool,
        remove_paths: &[String],
        add: &[IndexedMemory<'_>],
        state: &IndexState,
    ) -> Result<(), IndexError> {
        self.write(clear, self.fields.path, remove_paths, add, state)
    }

    /// In an index of versions: replaces the versions named `remove` (their
    /// [`Validity::key`]s) with `closed` (versions that stopped being valid) and `opened`
    /// (versions HEAD holds), records `state`, and commits. With `clear`, drops the whole index
    /// first.
    ///
    /// The two kinds go to separate segments, which are never merged across kinds and only
    /// with their neighbours in time (see [`Index::compact_versions`]): each segment then
    /// spans a short stretch of history, and an `--at` search skips the segments whose
    /// versions all lie before or after its point.
    pub fn apply_versions(
        &self,
        clear: bool,
        remove: &[String],
        closed: &[IndexedMemory<'_>],
        opened: &[IndexedMemory<'_>],
        state: &IndexState,
    ) -> Result<(), IndexError> {
        let mut writer = self.writer(true)?;
        writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        self.fill(&mut writer, clear, self.fields.version, remove, closed)?;
        self.commit_writer(&mut writer, state)?;
        self.fill(&mut writer, false, self.fields.version, &[], opened)?;
        self.commit_writer(&mut writer, state)?;
        self.compact_versions(&mut writer)?;
        self.finish(writer)
    }

    /// Ends a write: lets the merges its commits started finish (tantivy deletes the files no
    /// commit uses any more before they count as finished), writes tantivy's list of files
    /// as it now stands, and makes the result visible to this handle's searches.
    fn finish(&self, writer: IndexWriter) -> Result<(), IndexError> {
        writer.wait_merging_threads().map_err(self.err("merge"))?;
        self.file_list.flush().map_err(|source| IndexError::Io {
            dir: self.dir.clone(),
            source,
        })?;
        self.reload()
    }

    /// Keeps an index of versions at most [`MAX_VERSION_SEGMENTS`] segments by merging
    /// neighbours in time: segments of the same kind (closed versions, or versions open when
    /// written), ordered by where their span starts, the smallest adjacent pair first. A
    /// segment whose versions were mostly replaced since is rewritten without them.
    fn compact_versions(&self, writer: &mut IndexWriter) -> Result<(), IndexError> {
        loop {
            self.reload()?;
            let searcher = self.reader.searcher();
            let mut segments = Vec::new();
            let mut rewrite = None;
            for reader in searcher.segment_readers() {
                let fast = reader.fast_fields();
                let (from, to) = (
                    fast.u64("valid_from").map_err(self.err("read"))?,
                    fast.u64("valid_to").map_err(self.err("read"))?,
                );
                let open = to.min_value() == u64::MAX;
                let start = if open {
                    from.min_value()
                } else {
                    to.min_value()
                };
                segments.push((open, start, reader.num_docs(), reader.segment_id()));
                // Mostly versions replaced since: rewrite it without them (a search would
                // still walk their postings).
                if reader.num_deleted_docs() > reader.num_docs() && reader.max_doc() > 1_000 {
                    rewrite = Some(reader.segment_id());
                }
            }
            if let Some(id) = rewrite.take() {
                writer.merge(&[id]).wait().map_err(self.err("merge"))?;
                continue;
            }
            if segments.len() <= MAX_VERSION_SEGMENTS {
                return Ok(());
            }
            segments.sort_by_key(|s| (s.0, s.1));
            let pair = segments
                .windows(2)
                .filter(|w| w[0].0 == w[1].0)
                .min_by_key(|w| w[0].2 + w[1].2)
                .map(|w| [w[0].3, w[1].3]);
            let Some(pair) = pair else { return Ok(()) };
            writer.merge(&pair).wait().map_err(self.err("merge"))?;
        }
    }

    /// Starts replacing everything indexed for `remove_paths` with `add`: tantivy indexes the
    /// documents on its own thread while the caller goes on, and nothing is visible until
    /// [`Staged::commit`]. Dropping the [`Staged`] instead discards the write.
    ///
    /// This lets a writer index a memory while git commits it, and commit the index only
    /// once git's commit exists: the index may lag git, but never holds what git does not.
    pub fn stage(
        &self,
        remove_paths: &[String],
        add: &[IndexedMemory<'_>],
    ) -> Result<Staged<'_>, IndexError> {
        self.stage_in(false, self.fields.path, remove_paths, add)
    }

    fn stage_in(
        &self,
        clear: bool,
        removal_field: Field,
        remove: &[String],
        add: &[IndexedMemory<'_>],
    ) -> Result<Staged<'_>, IndexError> {
        let mut writer = self.writer(clear || add.len() > 1000)?;
        self.fill(&mut writer, clear, removal_field, remove, add)?;
        Ok(Staged {
            index: self,
            writer,
        })
    }

    fn write(
        &self,
        clear: bool,
        removal_field: Field,
        remove_paths: &[String],
        add: &[IndexedMemory<'_>],
        state: &IndexState,
    ) -> Result<(), IndexError> {
        self.stage_in(clear, removal_field, remove_paths, add)?
            .commit(state)
    }

    fn writer(&self, bulk: bool) -> Result<IndexWriter, IndexError> {
        let (threads, heap) = if bulk {
            (2, 200_000_000)
        } else {
            (1, 15_000_000)
        };
        let writer: IndexWriter = self
            .index
            .writer_with_num_threads(threads, heap)
            .map_err(self.err("open writer"))?;
        let mut policy = tantivy::indexer::LogMergePolicy::default();
        policy.set_min_layer_size(SMALL_SEGMENT_DOCS);
        policy.set_min_num_segments(MERGE_FACTOR);
        writer.set_merge_policy(Box::new(policy));
        Ok(writer)
    }

    fn fill(
        &self,
        writer: &mut IndexWriter,
        clear: bool,
        removal_field: Field,
        remove: &[String],
        add: &[IndexedMemory<'_>],
    ) -> Result<(), IndexError> {
        if clear {
            writer.delete_all_documents().map_err(self.err("clear"))?;
        }
        for key in remove {
            writer.delete_term(Term::from_field_text(removal_field, key));
        }
        for m in add {
            for doc in self.documents(m) {
                writer.add_document(doc).map_err(self.err("add"))?;
            }
        }
        Ok(())
    }

    fn commit_writer(
        &self,
        writer: &mut IndexWriter,
        state: &IndexState,
    ) -> Result<(), IndexError> {
        let mut commit = writer.prepare_commit().map_err(self.err("commit"))?;
        commit.set_payload(&payload(state));
        crate::fault::point("index-prepared");
        commit.commit().map_err(self.err("commit"))?;
        Ok(())
    }

    /// Deletes every file in the index directory that the committed index no longer uses:
    /// the segments of documents deleted or replaced, which still hold their text until then.
    /// tantivy deletes them after each commit, but skips that when it cannot, so a purge asks
    /// it again and then removes by hand whatever is left. Returns how many files went. The
    /// caller holds memdir's write lock, so no segment is being written.
    pub fn vacuum(&self) -> Result<usize, IndexError> {
        let writer: IndexWriter = self
            .index
            .writer_with_num_threads(1, 15_000_000)
            .map_err(self.err("open writer"))?;
        writer
            .garbage_collect_files()
            .wait()
            .map_err(self.err("garbage collect"))?;
        self.finish(writer)?;
        let metas = self.index.load_metas().map_err(self.err("read meta"))?;
        let mut living = metas.list_segment_files();
        living.insert(PathBuf::from("meta.json"));
        living.insert(PathBuf::from(".managed.json"));
        let io = |source| IndexError::Io {
            dir: self.dir.clone(),
            source,
        };
        let mut removed = 0;
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let entry = entry.map_err(io)?;
            let name = PathBuf::from(entry.file_name());
            let lock = name.to_string_lossy().starts_with(".tantivy-");
            if entry.file_type().map_err(io)?.is_file() && !lock && !living.contains(&name) {
                std::fs::remove_file(entry.path()).map_err(io)?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    fn documents(&self, m: &IndexedMemory<'_>) -> Vec<TantivyDocument> {
        let f = &self.fields;
        let front = &m.memory.front;
        // Only passage documents carry the searchable text fields, so a text query never
        // matches a memory document and needs no `kind` filter (which would double its cost).
        let base = |searchable: bool| {
            let mut d = TantivyDocument::default();
            d.add_text(f.id, front.id.as_str());
            d.add_u64(f.key, id_key(front.id.as_str()));
            d.add_text(f.path, &m.memory.path);
            if searchable {
                d.add_text(f.title, &front.title);
                d.add_text(f.tags, front.tags.join(" "));
            } else {
                d.add_text(f.label, &front.title);
            }
            for tag in &front.tags {
                d.add_text(f.tag, tag);
            }
            d.add_text(f.mtype, &front.kind);
            if let Some(scope) = &front.scope {
                d.add_text(f.scope, scope);
            }
            if let Some(t) = front.created {
                d.add_date(f.created, DateTime::from_timestamp_secs(t.unix()));
            }
            if let Some(t) = front.updated {
                d.add_date(f.updated, DateTime::from_timestamp_secs(t.unix()));
            }
            d.add_u64(f.pinned, front.pinned as u64);
            d.add_text(f.revision, &m.memory.revision.0);
            d.add_u64(f.quarantined, m.memory.is_quarantined() as u64);
            if let Some(t) = front.expires {
                d.add_date(f.expires, DateTime::from_timestamp_secs(t.unix()));
            }
            d.add_u64(f.has_expires, front.expires.is_some() as u64);
            if let Some(v) = &m.valid {
                d.add_text(f.version, &v.key);
                d.add_u64(f.valid_from, v.from);
                d.add_u64(f.valid_to, v.to);
            }
            if !searchable {
                let supersedes = m.memory.supersedes();
                for id in &supersedes {
                    d.add_text(f.supersedes, id);
                }
                d.add_u64(f.has_supersedes, !supersedes.is_empty() as u64);
                d.add_u64(f.stamped, m.memory.is_stamped() as u64);
            }
            d
        };
        let mut docs = Vec::with_capacity(m.passages.len() + 1);
        let mut meta = base(false);
        meta.add_text(f.kind, KIND_MEMORY);
        docs.push(meta);
        let header_only = [Passage {
            text: String::new(),
            heading: None,
            line_start: 1,
            line_end: m.memory.body_line.saturating_sub(1).max(1),
        }];
        let passages = if m.passages.is_empty() {
            &header_only[..]
        } else {
            &m.passages[..]
        };
        for (i, p) in passages.iter().enumerate() {
            let mut d = base(true);
            d.add_text(f.kind, KIND_PASSAGE);
            d.add_text(f.body, &p.text);
            for near in [i.checked_sub(2), i.checked_sub(1), Some(i + 1), Some(i + 2)]
                .into_iter()
                .flatten()
            {
                if let Some(n) = passages.get(near) {
                    d.add_text(f.context, &n.text);
                }
            }
            if let Some(h) = &p.heading {
                d.add_text(f.heading, h);
            }
            d.add_u64(f.line_start, p.line_start as u64);
            d.add_u64(f.line_end, p.line_end as u64);
            docs.push(d);
        }
        docs
    }

    fn term(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    }

    fn filtered(
        &self,
        kind: Option<&str>,
        main: Option<Box<dyn Query>>,
        filter: &Filter,
        held_out: Clauses,
    ) -> BooleanQuery {
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = held_out;
        if let Some(kind) = kind {
            clauses.push((Occur::Must, self.term(self.fields.kind, kind)));
        }
        if let Some(q) = main {
            clauses.push((Occur::Must, q));
        }
        if let Some(k) = &filter.kind {
            clauses.push((Occur::Must, self.term(self.fields.mtype, k)));
        }
        for t in &filter.tags {
            clauses.push((Occur::Must, self.term(self.fields.tag, t)));
        }
        if let Some(s) = &filter.scope {
            clauses.push((Occur::Must, self.term(self.fields.scope, s)));
        }
        if let Some(at) = filter.at {
            clauses.extend(self.valid_at(at));
        }
        BooleanQuery::new(clauses)
    }

    /// Returns the best-matching passages for `query`, at most `per_memory` of any one memory.
    pub fn search(
        &self,
        query: &str,
        filter: &Filter,
        limit: usize,
        per_memory: usize,
    ) -> Result<Vec<Hit>, IndexError> {
        let f = &self.fields;
        let mut text_query = self.text_query(query);
        let searcher = self.reader.searcher();
        let held_out = self.held_out(&searcher, filter)?;
        // `--at` wraps the text query itself, which keeps block-WAND (see `valid_at.rs`).
        if let Some(at) = filter.at {
            text_query = Box::new(valid_at::ValidAt {
                inner: text_query,
                at,
            });
        }
        let filter = &Filter {
            at: None,
            ..filter.clone()
        };
        let q: Box<dyn Query> = if !filter.restricts() && held_out.is_empty() {
            text_query
        } else {
            Box::new(self.filtered(None, Some(text_query), filter, held_out))
        };
        // Most memories have few passages, so twice the limit usually holds `limit` distinct
        // memories; a small top-k also lets block-WAND skip more. Ask again for more if not.
        let mut want = limit.saturating_mul(2).max(10);
        loop {
            let top = searcher
                .search(&q, &TopDocs::with_limit(want).order_by_score())
                .map_err(self.err("search"))?;
            let exhausted = top.len() < want;
            let mut seen: HashMap<u64, usize> = HashMap::new();
            let mut columns = HashMap::new();
            let mut hits = Vec::new();
            for (score, addr) in &top {
                let column = match columns.entry(addr.segment_ord) {
                    std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::hash_map::Entry::Vacant(e) => e.insert(
                        searcher
                            .segment_reader(addr.segment_ord)
                            .fast_fields()
                            .u64("key")
                            .map_err(self.err("read"))?,
                    ),
                };
                let taken = seen
                    .entry(column.first(addr.doc_id).unwrap_or(0))
                    .or_default();
                if *taken < per_memory {
                    *taken += 1;
                    let doc = self.doc(&searcher, *addr)?;
                    let id = first_str(&doc, f.id);
                    hits.push(self.hit(&doc, id, *score));
                    if hits.len() == limit {
                        return Ok(hits);
                    }
                }
            }
            if exhausted {
                return Ok(hits);
            }
            want *= 4;
        }
    }

    /// Returns the query for plain words: every analyzed term of `text`, in every text field
    /// with that field's boost, OR-ed together and scored with BM25. No query syntax: a `:` or
    /// a quote in the text is just punctuation.
    fn text_query(&self, text: &str) -> Box<dyn Query> {
        let f = &self.fields;
        let b = &self.boosts;
        let mut analyzer = analyzer();
        let mut stream = analyzer.token_stream(text);
        let mut terms: Vec<String> = Vec::new();
        while stream.advance() {
            let t = &stream.token().text;
            if !terms.contains(t) {
                terms.push(t.clone());
            }
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for term in &terms {
            for (field, boost) in [
                (f.title, b.title),
                (f.heading, b.heading),
                (f.body, b.body),
                (f.context, b.context),
                (f.tags, b.tags),
            ] {
                // A boost of 0 turns a field off: it could only add work, not score.
                if boost <= 0.0 {
                    continue;
                }
                let q = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                clauses.push((Occur::Should, Box::new(BoostQuery::new(Box::new(q), boost))));
            }
        }
        if clauses.is_empty() {
            return Box::new(EmptyQuery);
        }
        Box::new(BooleanQuery::new(clauses))
    }

    fn doc(
        &self,
        searcher: &tantivy::Searcher,
        addr: DocAddress,
    ) -> Result<TantivyDocument, IndexError> {
        searcher.doc(addr).map_err(self.err("read"))
    }

    fn hit(&self, doc: &TantivyDocument, id: String, score: f32) -> Hit {
        let f = &self.fields;
        let heading = first_str(doc, f.heading);
        Hit {
            id,
            path: first_str(doc, f.path),
            title: first_str(doc, f.title),
            score,
            passage: first_str(doc, f.body),
            heading: (!heading.is_empty()).then_some(heading),
            line_start: first_u64(doc, f.line_start) as usize,
            line_end: first_u64(doc, f.line_end) as usize,
            revision: Revision(first_str(doc, f.revision)),
            kind: first_str(doc, f.mtype),
            tags: all_str(doc, f.tag),
            scope: Some(first_str(doc, f.scope)).filter(|s| !s.is_empty()),
            updated: first_date(doc, f.updated).or_else(|| first_date(doc, f.created)),
        }
    }

    fn summary(&self, doc: &TantivyDocument) -> Summary {
        let f = &self.fields;
        Summary {
            id: first_str(doc, f.id),
            path: first_str(doc, f.path),
            title: first_str(doc, f.label),
            kind: first_str(doc, f.mtype),
            tags: all_str(doc, f.tag),
            scope: Some(first_str(doc, f.scope)).filter(|s| !s.is_empty()),
            updated: first_date(doc, f.updated),
            pinned: first_u64(doc, f.pinned) == 1,
            revision: Revision(first_str(doc, f.revision)),
            quarantined: first_u64(doc, f.quarantined) == 1,
            expires: first_time(doc, f.expires),
            created: first_time(doc, f.created),
        }
    }

    /// Returns the clauses that leave out held-out memories (or keep only them, with
    /// [`Filter::only`]). Each is added only when the index holds such memories at all, so a
    /// repository without any pays nothing.
    fn held_out(
        &self,
        searcher: &tantivy::Searcher,
        filter: &Filter,
    ) -> Result<Clauses, IndexError> {
        let f = &self.fields;
        let any = |field: Field, value: u64| -> Result<bool, IndexError> {
            let n = searcher
                .doc_freq(&Term::from_field_u64(field, value))
                .map_err(self.err("count"))?;
            Ok(n > 0)
        };
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let only = filter.only;
        // Asking for one reason takes those memories whatever else holds them out.
        let filter = &Filter {
            include_quarantined: filter.include_quarantined || only.is_some(),
            include_expired: filter.include_expired || only.is_some(),
            include_superseded: filter.include_superseded || only.is_some(),
            ..filter.clone()
        };
        match only {
            Some(HeldOut::Quarantined) => {
                clauses.push((Occur::Must, self.term_u64(f.quarantined, 1)));
            }
            _ if !filter.include_quarantined && any(f.quarantined, 1)? => {
                clauses.push((Occur::MustNot, self.term_u64(f.quarantined, 1)));
            }
            _ => {}
        }
        let now = filter.now.unwrap_or_else(Timestamp::now);
        let can_expire = any(f.has_expires, 1)? || !self.ttls.is_empty();
        match only {
            Some(HeldOut::Expired) => clauses.push((Occur::Must, self.expired_query(now))),
            _ if !filter.include_expired && can_expire => {
                clauses.push((Occur::MustNot, self.expired_query(now)));
            }
            _ => {}
        }
        let superseded = if only == Some(HeldOut::Superseded) || !filter.include_superseded {
            self.superseded_ids(searcher, filter.at)?
        } else {
            Vec::new()
        };
        if only == Some(HeldOut::Superseded) {
            let any_of: Vec<(Occur, Box<dyn Query>)> = superseded
                .iter()
                .map(|id| (Occur::Should, self.term(f.id, id)))
                .collect();
            let q: Box<dyn Query> = if any_of.is_empty() {
                Box::new(EmptyQuery)
            } else {
                Box::new(BooleanQuery::new(any_of))
            };
            clauses.push((Occur::Must, q));
        } else {
            for id in &superseded {
                clauses.push((Occur::MustNot, self.term(f.id, id)));
            }
        }
        Ok(clauses)
    }

    /// Returns the clauses that keep the versions valid at `at`: `valid_from <= at < valid_to`.
    fn valid_at(&self, at: u64) -> Clauses {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let f = &self.fields;
        let range = |lo, hi| -> Box<dyn Query> {
            Box::new(ConstScoreQuery::new(Box::new(RangeQuery::new(lo, hi)), 0.0))
        };
        vec![
            (
                Occur::Must,
                range(Unbounded, Included(Term::from_field_u64(f.valid_from, at))),
            ),
            (
                Occur::Must,
                range(Excluded(Term::from_field_u64(f.valid_to, at)), Unbounded),
            ),
        ]
    }

    fn term_u64(&self, field: Field, value: u64) -> Box<dyn Query> {
        Box::new(ConstScoreQuery::new(
            Box::new(TermQuery::new(
                Term::from_field_u64(field, value),
                IndexRecordOption::Basic,
            )),
            0.0,
        ))
    }

    /// Matches memories that are expired at `now`: not pinned, and past their own `expires`
    /// or, without one, past `created` plus their type's default lifetime.
    fn expired_query(&self, now: Timestamp) -> Box<dyn Query> {
        let f = &self.fields;
        let up_to = |field: Field, t: i64| -> Box<dyn Query> {
            Box::new(RangeQuery::new(
                std::ops::Bound::Unbounded,
                std::ops::Bound::Included(Term::from_field_date(
                    field,
                    DateTime::from_timestamp_secs(t),
                )),
            ))
        };
        let mut past: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Should, up_to(f.expires, now.unix()))];
        for (kind, ttl) in &self.ttls {
            past.push((
                Occur::Should,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, self.term(f.mtype, kind)),
                    (Occur::Must, self.term_u64(f.has_expires, 0)),
                    (
                        Occur::Must,
                        up_to(f.created, now.unix().saturating_sub(*ttl)),
                    ),
                ])),
            ));
        }
        Box::new(BooleanQuery::new(vec![
            (Occur::Must, self.term_u64(f.pinned, 0)),
            (Occur::Must, Box::new(BooleanQuery::new(past))),
        ]))
    }

    /// Returns the ids that memories not themselves quarantined list under `supersedes` (in an
    /// index of versions, the versions valid `at` that point). A quarantined memory could
    /// otherwise knock good ones out of search.
    pub fn superseded_ids(
        &self,
        searcher: &tantivy::Searcher,
        at: Option<u64>,
    ) -> Result<Vec<String>, IndexError> {
        let f = &self.fields;
        let mut clauses = vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term_u64(f.has_supersedes, 1)),
            (Occur::MustNot, self.term_u64(f.quarantined, 1)),
        ];
        if let Some(at) = at {
            clauses.extend(self.valid_at(at));
        }
        let q = BooleanQuery::new(clauses);
        let n = searcher.search(&q, &Count).map_err(self.err("count"))?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let top = searcher
            .search(&q, &TopDocs::with_limit(n).order_by_score())
            .map_err(self.err("list"))?;
        let mut ids = Vec::new();
        for (_, addr) in top {
            ids.extend(all_str(&self.doc(searcher, addr)?, f.supersedes));
        }
        ids.sort();
        ids.dedup();
        Ok(ids)
    }

    /// Returns the ids of the memories that list `id` under `supersedes`.
    pub fn superseded_by(&self, id: &str) -> Result<Vec<String>, IndexError> {
        let f = &self.fields;
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term(f.supersedes, id)),
        ]);
        Ok(self
            .collect_summaries(&q)?
            .into_iter()
            .map(|s| s.id)
            .collect())
    }

    /// Returns the memories indexed under `id` (more than one means a duplicate id).
    pub fn find_id(&self, id: &str) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, self.term(self.fields.id, id)),
        ]);
        self.collect_summaries(&q)
    }

    /// In an index of versions: returns every version of memory `id` with its validity span,
    /// oldest first.
    pub fn versions_of(&self, id: &str) -> Result<Vec<(Summary, u64, u64)>, IndexError> {
        let f = &self.fields;
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(f.kind, KIND_MEMORY)),
            (Occur::Must, self.term(f.id, id)),
        ]);
        let searcher = self.reader.searcher();
        let top = searcher
            .search(&q, &TopDocs::with_limit(100_000).order_by_score())
            .map_err(self.err("list"))?;
        let mut out = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc = self.doc(&searcher, addr)?;
            let from = first_u64(&doc, f.valid_from);
            let to = doc
                .get_first(f.valid_to)
                .and_then(|v| v.as_u64())
                .unwrap_or(u64::MAX);
            out.push((self.summary(&doc), from, to));
        }
        out.sort_by_key(|(s, from, _)| (*from, s.path.clone()));
        Ok(out)
    }

    /// Returns every memory marked `pinned: true`, sorted by path.
    pub fn pinned(&self) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_u64(self.fields.pinned, 1),
                        IndexRecordOption::Basic,
                    )),
                    0.0,
                )),
            ),
        ]);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Returns every memory whose file has no id of its own yet (see
    /// [`crate::Derived::id`]), sorted by path.
    pub fn unstamped(&self) -> Result<Vec<Summary>, IndexError> {
        let q = BooleanQuery::new(vec![
            (Occur::Must, self.term(self.fields.kind, KIND_MEMORY)),
            (Occur::Must, self.term_u64(self.fields.stamped, 0)),
        ]);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    /// Returns every indexed memory that passes `filter`, sorted by path.
    pub fn list(&self, filter: &Filter) -> Result<Vec<Summary>, IndexError> {
        let held_out = self.held_out(&self.reader.searcher(), filter)?;
        let q = self.filtered(Some(KIND_MEMORY), None, filter, held_out);
        let mut all = self.collect_summaries(&q)?;
        all.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(all)
    }

    fn collect_summaries(&self, q: &dyn Query) -> Result<Vec<Summary>, IndexError> {
        let searcher = self.reader.searcher();
        let n = searcher.search(q, &Count).map_err(self.err("count"))?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let top = searcher
            .search(q, &TopDocs::with_limit(n).order_by_score())
            .map_err(self.err("list"))?;
        top.iter()
            .map(|(_, addr)| Ok(self.summary(&self.doc(&searcher, *addr)?)))
            .collect()
    }

    /// Returns `(memories, passages)` in the index.
    pub fn counts(&self) -> Result<(usize, usize), IndexError> {
        let searcher = self.reader.searcher();
        let count = |kind| {
            searcher
                .search(
                    &TermQuery::new(
                        Term::from_field_text(self.fields.kind, kind),
                        IndexRecordOption::Basic,
                    ),
                    &Count,
                )
                .map_err(self.err("count"))
        };
        Ok((count(KIND_MEMORY)?, count(KIND_PASSAGE)?))
    }

    fn count_all(&self) -> Result<usize, IndexError> {
        self.reader
            .searcher()
            .search(&AllQuery, &Count)
            .map_err(self.err("count"))
    }
}

/// An index write in progress: its documents are being indexed, and none is visible until
/// [`Staged::commit`]. Dropped uncommitted, it is discarded. See [`Index::stage`].
pub struct Staged<'a> {
    index: &'a Index,
    writer: IndexWriter,
}

impl std::fmt::Debug for Staged<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Staged")
            .field("index", &self.index)
            .finish()
    }
}

impl Staged<'_> {
    /// Waits until the documents are indexed, commits them with `state`, lets any merge that
    /// commit started finish, and makes the result visible to this handle's searches.
    pub fn commit(mut self, state: &IndexState) -> Result<(), IndexError> {
        self.index.commit_writer(&mut self.writer, state)?;
        self.index.finish(self.writer)
    }

    /// Runs `work` on this thread while tantivy writes the documents' segment on another,
    /// then commits the segment with the state `work` returns, or discards it when `work`
    /// returns no state or fails. Returns `work`'s value, and the state committed if any.
    ///
    /// A writer runs its git commit as `work`: the segment is written while git commits, and
    /// committed only after.
    pub fn commit_after<T, E: From<IndexError>>(
        mut self,
        work: impl FnOnce() -> Result<(T, Option<IndexState>), E>,
    ) -> Result<(T, Option<IndexState>), E> {
        let index = self.index;
        let writer = &mut self.writer;
        let (prepared, done) = std::thread::scope(|s| {
            let prepare = s.spawn(|| writer.prepare_commit());
            let done = work();
            let prepared = prepare
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p));
            (prepared, done)
        });
        // On any return before `commit`, the segment goes with the writer, never committed.
        let (value, state) = done?;
        let mut prepared = prepared.map_err(index.err("commit"))?;
        let Some(state) = state else {
            return Ok((value, None));
        };
        prepared.set_payload(&payload(&state));
        crate::fault::point("index-prepared");
        prepared.commit().map_err(index.err("commit"))?;
        index.finish(self.writer)?;
        Ok((value, Some(state)))
    }
}

/// What a commit records: `state`, at this schema's version.
fn payload(state: &IndexState) -> String {
    let mut state = state.clone();
    state.version = SCHEMA_VERSION;
    serde_json::to_string(&state).expect("state serializes")
}

/// Segments of fewer documents than this (about 300 memories' passages) merge only among
/// themselves. tantivy's default, 10,000, put a small repository's whole index in the lowest
/// layer: one single write in eight rewrote all of it (40 ms at 1,000 memories, where a
/// write takes 9). See BENCHMARKS.md.
const SMALL_SEGMENT_DOCS: u32 = 1_000;

/// How many segments of a layer merge at once (tantivy's default is 8). Each segment costs
/// every query a term lookup per term and field, and small layers of up to 7 segments left a
/// 10,000-memory index in 6 segments instead of 3 (search p50 415 against 298 µs); merging
/// by 4 keeps the count down for the price of slightly more merging. See BENCHMARKS.md.
const MERGE_FACTOR: usize = 4;

/// Returns the grouping key of a memory id: a stable 64-bit hash (FNV-1a).
fn id_key(id: &str) -> u64 {
    use std::hash::Hasher as _;
    let mut h = fnv::FnvHasher::default();
    h.write(id.as_bytes());
    h.finish()
}

fn first_date(doc: &TantivyDocument, field: Field) -> Option<Timestamp> {
    let secs = doc.get_first(field)?.as_datetime()?.into_timestamp_secs();
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .map(Timestamp)
}

fn first_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned()
}

fn all_str(doc: &TantivyDocument, field: Field) -> Vec<String> {
    doc.get_all(field)
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

fn first_time(doc: &TantivyDocument, field: Field) -> Option<Timestamp> {
    doc.get_first(field)
        .and_then(|v| v.as_datetime())
        .and_then(|d| time::OffsetDateTime::from_unix_timestamp(d.into_timestamp_secs()).ok())
        .map(Timestamp)
}

fn first_u64(doc: &TantivyDocument, field: Field) -> u64 {
    doc.get_first(field)
        .and_then(|v| v.as_u64())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens(text: &str) -> Vec<String> {
        let mut a = analyzer();
        let mut stream = a.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn analysis_stems_folds_and_drops_stop_words() {
        assert_eq!(
            tokens("The users are Running café deployments"),
            ["user", "run", "cafe", "deploy"]
        );
    }
}
