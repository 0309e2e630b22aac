//! Writing the index: replacing a memory's documents, staging a write while git commits,
//! the index of versions' segments, and removing files no commit uses.

use std::path::PathBuf;

use tantivy::schema::Field;
use tantivy::{IndexWriter, Term};

use super::document::IndexedMemory;
use super::schema::SCHEMA_VERSION;
use super::{Index, IndexError, IndexState};

/// Most segments an index of versions keeps (see [`Index::compact_versions`]).
const MAX_VERSION_SEGMENTS: usize = 12;

impl Index {
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
    pub(super) fn finish(&self, writer: IndexWriter) -> Result<(), IndexError> {
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
    pub(super) fn compact_versions(&self, writer: &mut IndexWriter) -> Result<(), IndexError> {
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

    pub(super) fn stage_in(
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

    pub(super) fn write(
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

    pub(super) fn writer(&self, bulk: bool) -> Result<IndexWriter, IndexError> {
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

    pub(super) fn fill(
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

    pub(super) fn commit_writer(
        &self,
        writer: &mut IndexWriter,
        state: &IndexState,
    ) -> Result<(), IndexError> {
        let mut commit = writer.prepare_commit().map_err(self.err("commit"))?;
        commit.set_payload(&payload(state, self.hold()));
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
        prepared.set_payload(&payload(&state, index.hold()));
        crate::fault::point("index-prepared");
        prepared.commit().map_err(index.err("commit"))?;
        index.finish(self.writer)?;
        Ok((value, Some(state)))
    }
}

/// What a commit records: `state`, at this schema's version and the index's `hold`.
fn payload(state: &IndexState, hold: crate::policy::Hold) -> String {
    let mut state = state.clone();
    state.version = SCHEMA_VERSION;
    state.hold = hold;
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
