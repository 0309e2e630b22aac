//! The injection log, `.git/memdir/injections.jsonl`: one JSON line per context built with
//! logging on, saying what went into which prompt. This module owns the line's format: the
//! context builder appends through [`append`], and [`read`] gives the lines back (for
//! `memdir cost`, see [`crate::cost`]).
//!
//! Lines only ever gain fields, each optional when read, so every line an older memdir wrote
//! stays readable: a line from before `pinned_tokens` was recorded reads with `None` there.
//!
//! ```
//! use memdir::context::log::Injection;
//!
//! // A line as memdir writes it since it records the pinned memories' share.
//! let line = r#"{"time":"2026-11-20T09:30:00Z","query":"deploy","prompt":"e69de29","tokens":900,"budget":2000,"items":["MEMORY.md@1a2b","deploys-3f9c2a@4d5e"],"pinned":1,"pinned_tokens":300}"#;
//! let entry: Injection = serde_json::from_str(line).unwrap();
//! assert_eq!((entry.tokens, entry.pinned_tokens), (900, Some(300)));
//!
//! // A line of an older memdir: no pinned fields.
//! let old = r#"{"time":"2026-11-19T08:00:00Z","query":"deploy","prompt":"e69de29","tokens":700,"budget":2000,"items":[]}"#;
//! assert_eq!(serde_json::from_str::<Injection>(old).unwrap().pinned_tokens, None);
//! ```

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Context, ContextError, ContextRequest, Reason};
use crate::memory::Timestamp;
use crate::store::Store;

/// The injection log's file name, under `.git/memdir/`.
pub const LOG_FILE: &str = "injections.jsonl";

/// One line of the injection log: one context that went into a prompt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Injection {
    /// When the context was built (RFC 3339, UTC).
    pub time: String,
    /// The query it was built for.
    pub query: String,
    /// The session the prompt belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The rendered text's git blob id (`git hash-object` of the text).
    pub prompt: String,
    /// Tokens of the rendered text.
    pub tokens: usize,
    /// The budget asked for.
    pub budget: usize,
    /// Every `id@revision` that went in, in order (pinned ones first).
    #[serde(default)]
    pub items: Vec<String>,
    /// How many of `items`, from the first, are pinned (`MEMORY.md` and `pinned: true`);
    /// `None` on lines written before memdir recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned: Option<usize>,
    /// Tokens of the pinned memories' blocks, each counted alone; `None` on lines written
    /// before memdir recorded it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_tokens: Option<usize>,
    /// The agent an exploring context was built for ([`ContextRequest::explore`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explore: Option<String>,
    /// The ids of the memories it withheld (see [`Context::withheld_memories`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<String>,
}

impl Injection {
    /// Returns the line for a context built for `request`, at `time`.
    pub(crate) fn of(request: &ContextRequest, context: &Context, time: Timestamp) -> Self {
        let pinned: Vec<_> = context
            .items
            .iter()
            .filter(|i| i.reason == Reason::Pinned)
            .collect();
        Injection {
            time: time.to_string(),
            query: request.query.clone(),
            session: request.session.clone(),
            prompt: Store::revision_of(context.text.as_bytes()).0,
            tokens: context.tokens,
            budget: context.budget,
            items: context
                .items
                .iter()
                .map(|i| format!("{}@{}", i.id, i.revision))
                .collect(),
            pinned: Some(pinned.len()),
            pinned_tokens: Some(pinned.iter().map(|i| i.tokens).sum()),
            explore: request.explore.clone(),
            withheld: context
                .withheld_memories
                .iter()
                .map(|w| w.id.clone())
                .collect(),
        }
    }
}

/// Appends `entry` as one line to the log in `dir` (created if missing).
///
/// One write of one line to a file opened for appending: lines from concurrent processes
/// never interleave.
pub(crate) fn append(dir: &Path, entry: &Injection) -> Result<(), ContextError> {
    let mut line = serde_json::to_string(entry).expect("a log entry serializes");
    line.push('\n');
    let path = dir.join(LOG_FILE);
    let log = |source| ContextError::Log {
        path: path.clone(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(log)?;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(log)?;
    Ok(())
}

/// The lines of an injection log, as [`read`] found them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogLines {
    /// The log file.
    pub path: PathBuf,
    /// Each readable line with its time.
    pub entries: Vec<(Timestamp, Injection)>,
    /// The 1-based numbers of lines that are not log entries (a line torn by a crash, a hand
    /// edit), left out.
    pub unreadable: Vec<usize>,
}

/// Reads the log in `dir`; a missing log has no lines. Blank lines are skipped; lines that are
/// not entries (or whose time is not RFC 3339) are counted in [`LogLines::unreadable`].
pub fn read(dir: &Path) -> crate::Result<LogLines> {
    let path = dir.join(LOG_FILE);
    let text = match std::fs::read(&path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(crate::Error::io(&path, e)),
    };
    let mut lines = LogLines {
        path,
        ..LogLines::default()
    };
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let entry = serde_json::from_str::<Injection>(line)
            .ok()
            .and_then(|e| Timestamp::parse(&e.time).map(|t| (t, e)));
        match entry {
            Some(entry) => lines.entries.push(entry),
            None => lines.unreadable.push(n + 1),
        }
    }
    Ok(lines)
}
