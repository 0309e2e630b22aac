//! Selective injection: the few memories that matter for a prompt, within a token budget, each
//! with a citation back to its file and revision.
//!
//! [`Memdir::context`] puts the pinned memories first (`MEMORY.md`, then every memory marked
//! `pinned: true`), always, and fails if they alone exceed the budget, naming the files and by
//! how much: silently cutting what a person pinned would be worse. [`Memdir::context_trimmed`]
//! is for callers that must not leave an agent with nothing (an agent's hook): it keeps the
//! pinned memories that fit, in that order, and says in the text and in
//! [`Context::left_out`] which ones it left out. With a session, its last
//! turns verbatim and a summary of older ones come next, within half of what is left (see
//! [`crate::session`]). The rest of the budget goes to memories found by searching for the
//! query (up to a third of the `[context] candidates` from any one memory), ranked by search
//! score times a type weight and a recency factor (both from `[context]` in `memory.toml`),
//! with near-duplicate passages folded into one. They fill the budget best match first, then
//! by relevance per token, so that a long passage only fairly relevant does not crowd out the
//! short ones that answer (see `fill.rs`); what is kept is rendered in rank order, the
//! passages of one memory in one block where the first of them stands (its title and citation
//! once; a further passage costs only its text). With an empty
//! query (a session starting, no prompt yet) it goes to the most recently changed memories. Tokens are counted with a real tokenizer and the rendered total never
//! exceeds the budget. The same tree and request always give the same bytes: recency is
//! measured against the newest memory found, not the clock.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::context::{ContextFormat, ContextRequest, Reason};
//! use memdir::{Memdir, NewMemory, Provenance};
//!
//! let mem = Memdir::init(dir.path())?;
//! let w = mem.remember(NewMemory::new("Deploys go out on Tuesdays.").kind("fact"), &Provenance::agent("doc"))?;
//! let ctx = mem.context(&ContextRequest::new("when do we deploy", 2000))?;
//! assert!(ctx.tokens <= 2000);
//! let found = ctx.items.iter().find(|i| i.reason == Reason::Retrieved).unwrap();
//! assert_eq!(found.id, w.id);
//! assert!(ctx.text.contains(&format!("[{}@{}]", w.id, &w.revision.unwrap().0[..7])));
//! # Ok(()) }
//! ```

mod bpe;
mod cite;
pub mod explore;
mod fill;
pub mod log;
mod render;
mod tokens;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde::Serialize;

pub use cite::{Cited, Overview, resolve};
pub use explore::Withheld;
/// The injection log, under `.git/memdir/`.
pub use log::LOG_FILE;
pub use tokens::Tokenizer;

use crate::index::Filter;
use crate::memory::Timestamp;
use crate::similar::{Words, is_near_duplicate};
use crate::store::Store;
use crate::{Memdir, Result, SearchQuery};

/// The always-loaded overview a person edits, at the repository root.
pub use crate::memdir::OVERVIEW_FILE;

/// Why a context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The pinned memories alone do not fit the budget.
    #[error(
        "the pinned memories need {tokens} tokens, {} more than the budget of {budget}: {}; raise the budget or unpin some (`pinned: false`, or shorten MEMORY.md)",
        tokens - budget,
        files.iter().map(|(f, t)| format!("{f} ({t} tokens)")).collect::<Vec<_>>().join(", ")
    )]
    PinnedOverBudget {
        /// Tokens the pinned memories need, with the context's frame.
        tokens: usize,
        /// The budget asked for.
        budget: usize,
        /// Each pinned file and its tokens.
        files: Vec<(String, usize)>,
    },
    /// `[context] tokenizer` names no known encoding.
    #[error("unknown tokenizer `{name}`: use one of {}", crate::config::TOKENIZERS.join(", "))]
    UnknownTokenizer {
        /// The name in `[context] tokenizer`.
        name: String,
    },
    /// The injection log could not be appended to.
    #[error("cannot append to the injection log {}", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// How the context is rendered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ContextFormat {
    /// One line per one-line memory whose title only repeats it (`- [id@revision] text`),
    /// else a `###` heading with the title (when it says more than the text) and the citation,
    /// then the text.
    #[default]
    Markdown,
    /// `<memory id=... revision=...>` elements in a `<memories>` root.
    Xml,
    /// `{"memories": [...]}`, one object per memory: `cite` (`id@revision`) and `text`, plus
    /// `reason`, `title` and `date` when they inform.
    Json,
}

/// What to build a context for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContextRequest {
    /// The task or question the prompt is about; searched for. Empty (or blank) when there is
    /// no prompt yet: the most recently changed memories come instead of search results.
    pub query: String,
    /// The most tokens the rendered context may take.
    pub budget: usize,
    /// Only memories of this scope (pinned ones are always included).
    pub scope: Option<String>,
    /// How to render.
    pub format: ContextFormat,
    /// Append to the injection log; `None` follows `[context] log`.
    pub log: Option<bool>,
    /// The session the prompt belongs to, recorded in the injection log.
    pub session: Option<String>,
    /// A task whose state (goal, steps done, what is next, artifacts) goes first, within
    /// half of what the pinned memories leave (see [`crate::task`]).
    pub task: Option<String>,
    /// Explore as this agent: leave out the retrieved memories other agents wrote, unless
    /// shared (see [`explore`]). `None` (the default) leaves nothing out.
    pub explore: Option<String>,
}

impl ContextRequest {
    /// Returns a Markdown request for `query` within `budget` tokens.
    pub fn new(query: impl Into<String>, budget: usize) -> Self {
        ContextRequest {
            query: query.into(),
            budget,
            scope: None,
            format: ContextFormat::default(),
            log: None,
            session: None,
            task: None,
            explore: None,
        }
    }
}

/// Why a memory is in the context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// `MEMORY.md` or `pinned: true`: always there.
    Pinned,
    /// Found by searching for the query.
    Retrieved,
    /// Among the most recently changed memories (a context with no query).
    Recent,
    /// A turn of the current session.
    Session,
    /// The state of the task the prompt is part of.
    Task,
}

impl Reason {
    /// Returns the name used in the rendered text and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Pinned => "pinned",
            Reason::Retrieved => "retrieved",
            Reason::Recent => "recent",
            Reason::Session => "session",
            Reason::Task => "task",
        }
    }
}

/// One memory (or passage of one) in the context.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct ContextItem {
    /// Memory id (`MEMORY.md` for the overview).
    pub id: String,
    /// The content hash of the file as injected (a git blob id: `git cat-file -p` shows it).
    pub revision: String,
    /// Tokens of this memory's block, rendered alone (passages of one memory share a block,
    /// where each further passage adds only its text).
    pub tokens: usize,
    /// Tokens of the memory's own text ([`ContextItem::text`]) alone: `text_tokens / tokens`
    /// is how much of the block is memory rather than citation and metadata.
    pub text_tokens: usize,
    /// Why it is here.
    pub reason: Reason,
    /// Final ranking score (search score, normalised, times type and recency weights);
    /// `None` for pinned memories.
    pub score: Option<f32>,
    /// File, relative to the root.
    pub path: String,
    /// First line of the injected text in the file.
    pub line_start: usize,
    /// Last line of the injected text in the file.
    pub line_end: usize,
    /// Title.
    pub title: String,
    /// Type, for memories.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Last change date (`YYYY-MM-DD`), when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    /// Near-duplicates folded into this one, as `id@revision`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merged: Vec<String>,
    /// For a memory derived from others (`derived_from:`), the sources that changed, were
    /// superseded or were removed since it was written (see [`Memdir::drift`]): the rendered
    /// block says so, so a drifted summary is never presented as current.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub drifted: Vec<String>,
    /// The injected text.
    pub text: String,
}

impl ContextItem {
    /// Returns the short revision used in citations (seven hex digits, as git abbreviates).
    pub fn short_revision(&self) -> &str {
        &self.revision[..self.revision.len().min(7)]
    }

    /// Returns the citation, `id@revision`, as rendered in brackets.
    pub fn citation(&self) -> String {
        format!("{}@{}", self.id, self.short_revision())
    }
}

/// A built context.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Context {
    /// Tokens of [`Context::text`].
    pub tokens: usize,
    /// The budget asked for.
    pub budget: usize,
    /// What went in, in order.
    pub items: Vec<ContextItem>,
    /// The rendered context, to put in the prompt.
    pub text: String,
    /// Pinned memories left out because they do not fit the budget, in priority order; only
    /// [`Memdir::context_trimmed`] leaves any out, and its `text` then says so too.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<LeftOut>,
    /// With [`ContextRequest::explore`]: how many memories were withheld as other agents'
    /// conclusions (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub withheld: Option<usize>,
    /// The memories counted in [`Context::withheld`], each with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub withheld_memories: Vec<Withheld>,
}

/// A pinned memory that [`Memdir::context_trimmed`] left out: its block does not fit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct LeftOut {
    /// Memory id (`MEMORY.md` for the overview).
    pub id: String,
    /// File, relative to the root.
    pub path: String,
    /// Tokens its block needs.
    pub tokens: usize,
}

impl LeftOut {
    fn of(item: &ContextItem) -> Self {
        LeftOut {
            id: item.id.clone(),
            path: item.path.clone(),
            tokens: item.tokens,
        }
    }
}

impl Memdir {
    /// Builds the context for `request`: pinned memories, then the best-ranked retrieved ones
    /// that fit, rendered with citations. Fails if the pinned memories alone exceed the budget.
    pub fn context(&self, request: &ContextRequest) -> Result<Context> {
        self.build_context(request, false)
    }

    /// Builds the context like [`Memdir::context`], but when the pinned memories alone
    /// exceed the budget, keeps those that fit in priority order (`MEMORY.md`, then pinned
    /// memories by path), skipping each that does not, instead of failing. The text opens
    /// with a note naming what was left out, and [`Context::left_out`] lists it; the rest of
    /// the budget, if any, is filled as usual. The text still never exceeds the budget.
    pub fn context_trimmed(&self, request: &ContextRequest) -> Result<Context> {
        self.build_context(request, true)
    }

    fn build_context(&self, request: &ContextRequest, trim: bool) -> Result<Context> {
        let config = &self.config().context;
        if request
            .explore
            .as_deref()
            .is_some_and(|a| a.trim().is_empty())
        {
            return Err(crate::Error::invalid(
                "explore: name the agent that explores (its own memories stay in)",
            ));
        }
        let tokenizer =
            Tokenizer::named(&config.tokenizer).ok_or_else(|| ContextError::UnknownTokenizer {
                name: config.tokenizer.clone(),
            })?;
        let format = request.format;
        let (open, close) = render::frame(format);
        let frame = tokenizer.count(open) + tokenizer.count(close);
        let sep = tokenizer.count(render::separator(format));

        let now = Timestamp::now();
        let mut drift = DriftMarks::default();
        let mut items = self.pinned_items()?;
        drift.mark(self, &mut items, now)?;
        for item in &mut items {
            measure(item, format, &tokenizer);
        }
        // Every pinned memory stays out of retrieval, also one left out for its size.
        let pinned_ids: Vec<String> = items.iter().map(|i| i.id.clone()).collect();
        let mut used = frame + items.iter().map(|i| i.tokens).sum::<usize>() + sep * items.len();
        let mut left_out = Vec::new();
        let mut note = String::new();
        if used > request.budget {
            if !trim {
                return Err(ContextError::PinnedOverBudget {
                    tokens: used,
                    budget: request.budget,
                    files: items.iter().map(|i| (i.path.clone(), i.tokens)).collect(),
                }
                .into());
            }
            (items, left_out, note) =
                fit_pinned(format, items, request.budget, frame, sep, &tokenizer);
            used = frame
                + tokenizer.count(&note)
                + sep
                + items.iter().map(|i| i.tokens).sum::<usize>()
                + sep * items.len();
        }
        let skip: BTreeSet<String> = pinned_ids.iter().cloned().collect();
        let mut pinned = items.len();
        if let Some(id) = &request.task {
            // The task's state comes first, within half of what the pinned memories left;
            // like them, it is never dropped for a retrieved memory.
            let share = request.budget.saturating_sub(used) / 2;
            if let Some(mut item) = self.task_item(id, format, share, &tokenizer)? {
                measure(&mut item, format, &tokenizer);
                used += sep + item.tokens;
                items.insert(0, item);
                pinned += 1;
            }
        }
        if let Some(id) = &request.session {
            // The session may take up to half of what the pinned memories left.
            let share = request.budget.saturating_sub(used) / 2;
            for mut item in self.session_items(id, &request.query, format, share, &tokenizer)? {
                measure(&mut item, format, &tokenizer);
                used += sep + item.tokens;
                items.push(item);
            }
        }
        // Retrieved memories go after the pinned ones and the session's.
        let mut candidates = self.retrieved_items(request, &skip)?;
        let withheld = match &request.explore {
            Some(explorer) => Some(self.withhold(&mut candidates, explorer)?),
            None => None,
        };
        drift.mark(self, &mut candidates, now)?;
        for item in &mut candidates {
            measure(item, format, &tokenizer);
        }
        // Offered best first, then by relevance per token (`fill`); kept in rank order. A
        // passage of a memory already in the context costs only its text (`render::render`
        // writes the passages of one memory in one block).
        let mut kept = vec![false; candidates.len()];
        let mut kept_words: Vec<(usize, Words)> = Vec::new();
        let mut cited: BTreeSet<String> = items.iter().map(ContextItem::citation).collect();
        for i in fill::offer_order(&candidates, request.budget) {
            let words = Words::of(&candidates[i].text);
            let citation = candidates[i].citation();
            if let Some(&(first, _)) = kept_words
                .iter()
                .find(|(_, w)| is_near_duplicate(w, &words))
            {
                candidates[first].merged.push(citation);
                continue;
            }
            let cost = if cited.contains(&citation) {
                tokenizer.count(&render::continuation(format, &candidates[i]))
            } else {
                sep + candidates[i].tokens
            };
            if used + cost <= request.budget {
                used += cost;
                kept_words.push((i, words));
                kept[i] = true;
                cited.insert(citation);
            }
        }
        items.extend(
            candidates
                .into_iter()
                .zip(kept)
                .filter_map(|(c, k)| k.then_some(c)),
        );

        // Counting blocks one by one can differ from counting the whole by a token at a
        // boundary: drop blocks from the end (retrieved, then session) until the whole fits.
        let mut text = render::render(format, &note, &items);
        let mut tokens = tokenizer.count(&text);
        while tokens > request.budget && items.len() > pinned {
            items.pop();
            text = render::render(format, &note, &items);
            tokens = tokenizer.count(&text);
        }
        if tokens > request.budget && !trim {
            return Err(ContextError::PinnedOverBudget {
                tokens,
                budget: request.budget,
                files: items.iter().map(|i| (i.path.clone(), i.tokens)).collect(),
            }
            .into());
        }
        // Trimming: the last pinned memories kept go too, and at worst the note itself.
        while tokens > request.budget && pinned > 0 {
            if let Some(item) = items.pop() {
                left_out.push(LeftOut::of(&item));
            }
            pinned -= 1;
            left_out.sort_by_key(|l| pinned_ids.iter().position(|id| *id == l.id));
            note = render::note(format, request.budget, &left_out);
            text = render::render(format, &note, &items);
            tokens = tokenizer.count(&text);
        }
        if tokens > request.budget {
            text = String::new();
            tokens = 0;
        }
        for item in &mut items {
            item.text_tokens = tokenizer.count(item.text.trim());
        }
        let context = Context {
            tokens,
            budget: request.budget,
            items,
            text,
            left_out,
            withheld: withheld.as_ref().map(Vec::len),
            withheld_memories: withheld.unwrap_or_default(),
        };
        if request.log.unwrap_or(config.log) {
            self.log_injection(request, &context)?;
        }
        Ok(context)
    }

    /// Removes from `candidates` the memories an agent exploring as `explorer` does not see
    /// (see [`explore`]), and returns them, one report per memory, by path.
    fn withhold(&self, candidates: &mut Vec<ContextItem>, explorer: &str) -> Result<Vec<Withheld>> {
        let shared_scopes = &self.config().context.shared_scopes;
        let mut decided: BTreeMap<String, Option<Withheld>> = BTreeMap::new();
        for item in candidates.iter() {
            if decided.contains_key(&item.id) {
                continue;
            }
            let verdict = match self.get(&item.id) {
                Ok(m) => Withheld::of(&m.front, &m.path, explorer, shared_scopes),
                // Removed since search found it: nothing to judge it by.
                Err(crate::Error::NotFound { .. }) => None,
                Err(e) => return Err(e),
            };
            decided.insert(item.id.clone(), verdict);
        }
        candidates.retain(|i| decided.get(&i.id).is_none_or(Option::is_none));
        let mut withheld: Vec<Withheld> = decided.into_values().flatten().collect();
        withheld.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(withheld)
    }

    /// Returns the tokens the pinned memories take in every context, as the budget counts
    /// them (the context's frame, each block and its separator, in Markdown), and each pinned
    /// file with its block's tokens.
    pub(crate) fn pinned_tokens(&self) -> Result<(usize, Vec<(String, usize)>)> {
        let config = &self.config().context;
        let tokenizer =
            Tokenizer::named(&config.tokenizer).ok_or_else(|| ContextError::UnknownTokenizer {
                name: config.tokenizer.clone(),
            })?;
        let format = ContextFormat::Markdown;
        let (open, close) = render::frame(format);
        let frame = tokenizer.count(open) + tokenizer.count(close);
        let sep = tokenizer.count(render::separator(format));
        let mut items = self.pinned_items()?;
        for item in &mut items {
            measure(item, format, &tokenizer);
        }
        // No pinned memory: nothing to pay for but the frame, which any context has.
        let total = if items.is_empty() {
            0
        } else {
            frame + items.iter().map(|i| i.tokens + sep).sum::<usize>()
        };
        Ok((
            total,
            items.into_iter().map(|i| (i.path, i.tokens)).collect(),
        ))
    }

    /// Returns `MEMORY.md` (when it has content) and the pinned memories, in that order.
    fn pinned_items(&self) -> Result<Vec<ContextItem>> {
        let mut items = Vec::new();
        let overview = self.root().join(OVERVIEW_FILE);
        match std::fs::read(&overview) {
            Ok(bytes) => {
                let whole = String::from_utf8_lossy(&bytes);
                let text = without_comments(&whole);
                // Only headings and comments (as the template lays it down): nothing to say.
                let says_something = text
                    .lines()
                    .any(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'));
                if says_something {
                    items.push(ContextItem {
                        id: OVERVIEW_FILE.into(),
                        revision: Store::revision_of(&bytes).0,
                        tokens: 0,
                        text_tokens: 0,
                        reason: Reason::Pinned,
                        score: None,
                        path: OVERVIEW_FILE.into(),
                        line_start: 1,
                        line_end: whole.lines().count().max(1),
                        title: text
                            .lines()
                            .find_map(|l| l.strip_prefix("# "))
                            .map_or(OVERVIEW_FILE.into(), |h| h.trim().to_owned()),
                        kind: None,
                        date: None,
                        merged: Vec::new(),
                        drifted: Vec::new(),
                        text,
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(crate::Error::io(&overview, e)),
        }
        for m in self.pinned()? {
            items.push(whole_memory(&m, Reason::Pinned, m.body.clone()));
        }
        Ok(items)
    }

    /// Returns the block of task `id`'s state that fits in `share` tokens, its oldest steps
    /// left out first; none when the task does not exist, has expired, or not even its goal
    /// fits.
    fn task_item(
        &self,
        id: &str,
        format: ContextFormat,
        share: usize,
        tokenizer: &Tokenizer,
    ) -> Result<Option<ContextItem>> {
        let task = match self.task(id) {
            Ok(t) => t,
            Err(crate::Error::NotFound { .. }) => return Ok(None),
            Err(e) => return Err(e),
        };
        if task.expired {
            return Ok(None);
        }
        for keep in (0..=task.steps.len()).rev() {
            let item = ContextItem {
                id: format!("task:{id}"),
                revision: task.revision.clone(),
                tokens: 0,
                text_tokens: 0,
                reason: Reason::Task,
                score: None,
                path: task.path.clone(),
                line_start: 1,
                line_end: task.steps.len() + 1 + usize::from(task.ended.is_some()),
                title: format!("Task {id}: {}", task.goal),
                kind: None,
                date: None,
                merged: Vec::new(),
                drifted: Vec::new(),
                text: task.render(keep),
            };
            if tokenizer.count(&render::block(format, &item)) <= share {
                return Ok(Some(item));
            }
        }
        Ok(None)
    }

    /// Returns the blocks of session `id` that fit in `share` tokens: a summary of older
    /// turns (their first sentence each, those sharing most words with the query first) and
    /// the last `[session] recent_turns` turns verbatim, the recent ones served first. None
    /// when the session does not exist or has expired.
    fn session_items(
        &self,
        id: &str,
        query: &str,
        format: ContextFormat,
        share: usize,
        tokenizer: &Tokenizer,
    ) -> Result<Vec<ContextItem>> {
        let config = &self.config().session;
        let session = match self.session(id) {
            Ok(s) => s,
            Err(crate::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        if session.turns.is_empty() || session.expired(Timestamp::now(), config.ttl_hours) {
            return Ok(Vec::new());
        }
        let block = |title: String, turns: &[&crate::session::Turn], text: String| ContextItem {
            id: format!("session:{id}"),
            revision: session.revision.clone(),
            tokens: 0,
            text_tokens: 0,
            reason: Reason::Session,
            score: None,
            path: session.path.clone(),
            line_start: turns.first().map_or(1, |t| t.turn),
            line_end: turns.last().map_or(1, |t| t.turn),
            title,
            kind: None,
            date: turns.last().map(|t| t.time.chars().take(10).collect()),
            merged: Vec::new(),
            drifted: Vec::new(),
            text,
        };
        let line = |t: &crate::session::Turn, text: &str| format!("{}: {}", t.role.as_str(), text);
        let cost = |item: &ContextItem| tokenizer.count(&render::block(format, item));

        let split = session.turns.len().saturating_sub(config.recent_turns);
        let recent = &session.turns[split..];
        // The newest turns that fit, oldest of them first.
        let mut kept: Vec<&crate::session::Turn> = Vec::new();
        let mut recent_item = None;
        for t in recent.iter().rev() {
            kept.insert(0, t);
            let text = kept
                .iter()
                .map(|t| line(t, &t.text))
                .collect::<Vec<_>>()
                .join("\n");
            let item = block(
                format!("Session {id}: last {} turns", kept.len()),
                &kept,
                text,
            );
            if cost(&item) > share {
                kept.remove(0);
                break;
            }
            recent_item = Some(item);
        }
        let left = share - recent_item.as_ref().map_or(0, cost);
        // Older turns, and recent ones that did not fit, as one line each.
        let rest = &session.turns[..split + recent.len() - kept.len()];
        let query_words = Words::of(query);
        let mut ranked: Vec<&crate::session::Turn> = rest.iter().collect();
        ranked.sort_by_key(|t| {
            let shared = Words::of(&t.text).shared(&query_words);
            (std::cmp::Reverse(shared), std::cmp::Reverse(t.turn))
        });
        let mut chosen: Vec<&crate::session::Turn> = Vec::new();
        let mut summary_item = None;
        // At most 50 lines: a summary, not a transcript (and the cost stays bounded).
        for t in ranked.into_iter().take(50) {
            let mut trial = chosen.clone();
            trial.push(t);
            trial.sort_by_key(|t| t.turn);
            let text = trial
                .iter()
                .map(|t| format!("- {}", line(t, &first_sentence(&t.text))))
                .collect::<Vec<_>>()
                .join("\n");
            let title = format!(
                "Session {id}: {} of {} earlier turns, in brief",
                trial.len(),
                rest.len()
            );
            let item = block(title, &trial, text);
            if cost(&item) <= left {
                chosen = trial;
                summary_item = Some(item);
            }
        }
        Ok(summary_item.into_iter().chain(recent_item).collect())
    }

    /// Returns the search candidates for the request, best first by final score; with no
    /// query, the most recently changed memories.
    fn retrieved_items(
        &self,
        request: &ContextRequest,
        skip: &BTreeSet<String>,
    ) -> Result<Vec<ContextItem>> {
        if request.query.trim().is_empty() {
            return self.recent_items(request, skip);
        }
        let config = &self.config().context;
        let hits = self.search(&SearchQuery {
            text: request.query.clone(),
            limit: Some(config.candidates),
            filter: Filter {
                scope: request.scope.clone(),
                ..Filter::default()
            },
            // Several passages of one memory may matter (turns of one imported session): a
            // memory may fill up to a third of the candidates, so one long memory cannot
            // crowd out all others.
            per_memory: Some(config.candidates.div_ceil(3)),
        })?;
        let hits: Vec<_> = hits.into_iter().filter(|h| !skip.contains(&h.id)).collect();
        let best = hits.iter().map(|h| h.score).fold(0.0f32, f32::max);
        let newest = hits
            .iter()
            .filter_map(|h| h.updated)
            .map(|t| t.unix())
            .max();
        let half_life = f64::from(config.recency_half_life_days) * 86_400.0;
        let w = f64::from(config.recency_weight);
        let mut items: Vec<ContextItem> = hits
            .into_iter()
            .map(|h| {
                let relevance = if best > 0.0 { h.score / best } else { 0.0 };
                let type_weight = config.type_weight.get(&h.kind).copied().unwrap_or(1.0);
                // Age against the newest memory found, so the same tree ranks the same way
                // whenever it is asked; an undated memory counts one half-life old.
                let age = match (newest, h.updated) {
                    (Some(n), Some(t)) => (n - t.unix()).max(0) as f64,
                    _ => half_life,
                };
                let recency = 0.5f64.powf(age / half_life);
                let score = f64::from(relevance * type_weight) * (1.0 - w + w * recency);
                let passage = match &h.heading {
                    Some(heading) => format!("{heading}: {}", h.passage),
                    None => h.passage.clone(),
                };
                ContextItem {
                    id: h.id,
                    revision: h.revision.0,
                    tokens: 0,
                    text_tokens: 0,
                    reason: Reason::Retrieved,
                    score: Some(score as f32),
                    path: h.path,
                    line_start: h.line_start,
                    line_end: h.line_end,
                    title: h.title,
                    kind: Some(h.kind),
                    date: h.updated.map(day),
                    merged: Vec::new(),
                    drifted: Vec::new(),
                    text: passage,
                }
            })
            .collect();
        items.sort_by(|a, b| {
            b.score
                .unwrap_or(0.0)
                .total_cmp(&a.score.unwrap_or(0.0))
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.line_start.cmp(&b.line_start))
        });
        Ok(items)
    }

    /// Returns the `[context] candidates` most recently changed memories (by `updated`, else
    /// `created`; undated ones last), newest first, whole: what an agent starting a session
    /// should see when there is no prompt to search for. Held-out memories stay out, as in
    /// search.
    fn recent_items(
        &self,
        request: &ContextRequest,
        skip: &BTreeSet<String>,
    ) -> Result<Vec<ContextItem>> {
        let mut found = self.list(&Filter {
            scope: request.scope.clone(),
            ..Filter::default()
        })?;
        found.retain(|s| !skip.contains(&s.id));
        found.sort_by(|a, b| {
            b.updated
                .or(b.created)
                .cmp(&a.updated.or(a.created))
                .then_with(|| a.id.cmp(&b.id))
        });
        found.truncate(self.config().context.candidates);
        let mut items = Vec::with_capacity(found.len());
        for s in found {
            let m = match self.get(&s.id) {
                Ok(m) => m,
                // Removed since the list was read: nothing to show.
                Err(crate::Error::NotFound { .. }) => continue,
                Err(e) => return Err(e),
            };
            items.push(whole_memory(&m, Reason::Recent, m.body.trim().to_owned()));
        }
        Ok(items)
    }

    /// Appends one line to `.git/memdir/injections.jsonl`: when, for which query and session,
    /// the prompt text's hash (a git blob id), every `id@revision` that went in, and what the
    /// pinned ones took (see [`log::Injection`]).
    fn log_injection(&self, request: &ContextRequest, context: &Context) -> Result<()> {
        let entry = log::Injection::of(request, context, Timestamp::now());
        log::append(&self.memdir_dir(), &entry)?;
        Ok(())
    }
}

/// Keeps the pinned blocks that fit `budget` in priority order (each that does not fit is
/// skipped, so a later, smaller one may still come), with room for the note that names the
/// ones left out. Returns the kept items, the left out ones and the note.
fn fit_pinned(
    format: ContextFormat,
    all: Vec<ContextItem>,
    budget: usize,
    frame: usize,
    sep: usize,
    tokenizer: &Tokenizer,
) -> (Vec<ContextItem>, Vec<LeftOut>, String) {
    // The note grows with what it names and what it names grows with the room it takes:
    // reserve what the last note needed until a note fits its reservation. The reservation
    // grows on every round, so this ends (at the latest when it reaches the budget).
    let mut reserve = 0;
    loop {
        let mut used = frame + reserve;
        let (mut kept, mut out) = (Vec::new(), Vec::new());
        for item in &all {
            if used + sep + item.tokens <= budget {
                used += sep + item.tokens;
                kept.push(item.clone());
            } else {
                out.push(LeftOut::of(item));
            }
        }
        let note = render::note(format, budget, &out);
        let cost = tokenizer.count(&note) + sep;
        if cost <= reserve || reserve >= budget {
            return (kept, out, note);
        }
        reserve = cost;
    }
}

/// Counts the tokens of `item`'s block, what the budget spends on it. (Its text's tokens
/// alone, [`ContextItem::text_tokens`], are counted only for the items a context keeps.)
fn measure(item: &mut ContextItem, format: ContextFormat, tokenizer: &Tokenizer) {
    item.tokens = tokenizer.count(&render::block(format, item));
}

/// Returns the `YYYY-MM-DD` of a time.
fn day(t: Timestamp) -> String {
    t.to_string().chars().take(10).collect()
}

/// Returns `text` without its HTML comments (`<!-- ... -->`): notes for people, and a place
/// where text aimed at the model should never hide. Blank lines they leave are collapsed.
fn without_comments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        out.push_str(&rest[..start]);
        rest = match rest[start..].find("-->") {
            Some(end) => &rest[start + end + 3..],
            None => "",
        };
    }
    out.push_str(rest);
    let mut collapsed = String::with_capacity(out.len());
    let mut blank = 0;
    for line in out.trim().lines() {
        blank = if line.trim().is_empty() { blank + 1 } else { 0 };
        if blank < 2 {
            collapsed.push_str(line.trim_end());
            collapsed.push('\n');
        }
    }
    collapsed
}

/// Returns the first sentence of `text`, cut to 25 words: an extractive summary of a turn.
fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let end = flat
        .char_indices()
        .find(|&(i, c)| matches!(c, '.' | '!' | '?') && flat[i + c.len_utf8()..].starts_with(' '))
        .map_or(flat.len(), |(i, c)| i + c.len_utf8());
    let words: Vec<&str> = flat[..end].split(' ').collect();
    if words.len() > 25 {
        format!("{}…", words[..25].join(" "))
    } else {
        flat[..end].to_owned()
    }
}

/// The drifted sources of each memory met while building one context, read once per memory.
#[derive(Default)]
struct DriftMarks(std::collections::BTreeMap<String, Vec<String>>);

impl DriftMarks {
    /// Sets `drifted` on each of `items` that is a memory with sources no longer current at
    /// `now`. Which of them record sources at all is asked of the index once for all, and
    /// only their files are read (most memories record none).
    fn mark(&mut self, mem: &Memdir, items: &mut [ContextItem], now: Timestamp) -> Result<()> {
        let is_memory = |id: &str| {
            id != OVERVIEW_FILE && !id.starts_with("session:") && !id.starts_with("task:")
        };
        let new: Vec<&str> = items
            .iter()
            .map(|i| i.id.as_str())
            .filter(|id| is_memory(id) && !self.0.contains_key(*id))
            .collect::<BTreeSet<&str>>()
            .into_iter()
            .collect();
        let recording = mem.recording_sources(&new)?;
        for id in new {
            let drifted = if !recording.contains(id) {
                Vec::new()
            } else {
                match mem.get(id) {
                    Ok(m) => mem.drifted_sources(&m, now)?,
                    Err(crate::Error::NotFound { .. }) => Vec::new(),
                    Err(e) => return Err(e),
                }
            };
            self.0.insert(id.to_owned(), drifted);
        }
        for item in items.iter_mut().filter(|i| is_memory(&i.id)) {
            item.drifted.clone_from(&self.0[&item.id]);
        }
        Ok(())
    }
}

/// Returns a context item that carries a whole memory (not one passage of it), as `reason`
/// brings it, with `text` as its body.
fn whole_memory(m: &crate::Memory, reason: Reason, text: String) -> ContextItem {
    let lines = m.body.lines().count();
    ContextItem {
        id: m.front.id.to_string(),
        revision: m.revision.0.clone(),
        tokens: 0,
        text_tokens: 0,
        reason,
        score: None,
        path: m.path.clone(),
        line_start: m.body_line,
        line_end: m.body_line + lines.saturating_sub(1),
        title: m.front.title.clone(),
        kind: Some(m.front.kind.clone()),
        date: m.front.updated.or(m.front.created).map(day),
        merged: Vec::new(),
        drifted: Vec::new(),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_are_left_out_of_the_overview() {
        let text = "# Team\n\n<!-- for people\nonly -->\n\nWe ship on Fridays.\n<!-- unclosed";
        assert_eq!(without_comments(text), "# Team\n\nWe ship on Fridays.\n");
    }
}
