//! memdir: an agent's memory as Markdown files in git, searchable with tantivy.
//!
//! Each memory is a Markdown file with YAML front-matter, in a folder named for its type.
//! Every change is one git commit whose trailers say what changed and where it came from
//! (`Memdir-Op`, `Memdir-Id`, `Memdir-Session`, `Memdir-Agent`, `Memdir-Step`), so `git log` and
//! `git blame` tell the story without memdir. A tantivy index under `.git/memdir/` finds the
//! passages that matter for a query and catches up with hand edits on its own.
//!
//! Writes are untrusted until checked: the write [`guard`] redacts secrets before anything is
//! written and quarantines text that looks like memory poisoning (instruction overrides,
//! security-weakening claims, exfiltration, dangerous commands, privilege grants) until a
//! person approves it. Search and list leave out quarantined, expired and superseded memories
//! unless asked ([`Filter`], [`Memdir::held_out`]).
//!
//! Agents and services reach the same library through two servers, each behind a default
//! cargo feature: `mcp` (the `mcp` module: memory tools and resources over the Model Context
//! Protocol) and `http` (the `http` module: a JSON API with an OpenAPI description, and
//! inspection pages for people).
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::{Memdir, NewMemory, Provenance, SearchQuery, Update};
//!
//! let mem = Memdir::init(dir.path())?;
//! let prov = Provenance { session: Some("s-1".into()), agent: Some("doc-test".into()), ..Default::default() };
//! let w = mem.remember(NewMemory::new("The staging API listens on port 8443.").kind("fact").tag("api"), &prov)?;
//!
//! let hits = mem.search(&SearchQuery::new("which port does staging use"))?;
//! assert_eq!(hits[0].id, w.id);
//! assert_eq!(hits[0].line_start, 12); // the exact line in the file
//!
//! // Compare-and-swap: an update against a stale revision is refused.
//! let stale = w.revision.clone().unwrap().0;
//! mem.update(&w.id, Update { body: Some("Port 9443 since the move.".into()), ..Default::default() }, &prov)?;
//! let err = mem.update(&w.id, Update { title: Some("x".into()), expect: Some(stale), ..Default::default() }, &prov);
//! assert!(matches!(err, Err(memdir::Error::Conflict { .. })));
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod config;
pub mod consolidate;
pub mod context;
pub mod cost;
mod error;
pub mod extract;
pub mod fault;
pub mod guard;
#[cfg(feature = "http")]
pub mod http;
pub mod index;
pub mod llm;
mod lock;
#[cfg(feature = "mcp")]
pub mod mcp;
mod memdir;
pub mod memory;
pub mod merge;
pub mod parse;
pub mod policy;
pub mod quickstart;
pub mod session;
pub mod similar;
pub mod store;
pub mod task;
pub mod template;
pub mod transcript;
pub mod watch;
pub mod when;
pub mod worktree;

pub use config::Config;
pub use error::{Error, ErrorKind, Result};
pub use guard::{Flag, Guard, Verdict};
pub use index::{Filter, HeldOut, Hit, Summary};
pub use memdir::{
    ActivityFilter, BeliefDiff, BlameLine, Change, CommitView, Committed, Consolidation,
    ConsolidationGroup, Derivation, Drifted, FieldChange, FileMerged, HeldLines, ImportOptions,
    ImportStatus, Imported, Lineage, Memdir, MemoryDiff, MemoryView, NewMemory, PROJECT_FOLDER,
    Point, Problem, Provenance, PurgePushed, Purged, Quarantined, Refresh, RefusedProposal,
    Renamed, Reverted, SearchQuery, SourceStanding, SourceState, Stamped, Status, StopReason,
    SyncConflict, SyncError, Synced, Update, Version, WRITE_ENV, WatchOptions, WatchReport, Why,
    Written, is_memory_path, merge_file,
};
pub use memory::{
    Derived, FrontMatter, Memory, MemoryId, QuarantineNote, Revision, Source, SourceRef, Timestamp,
};
pub use store::{Author, TagInfo};
