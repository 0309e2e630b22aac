//! Extraction: from a conversation to memory operations, validated and written with
//! provenance.
//!
//! An extractor proposes [`Operation`]s for a session's turns: a model through
//! [`LlmClient`] (asked for `{"operations": [...]}` JSON, shown the memories that already
//! matter so it can update instead of repeat), or, with no model, the rule-based one
//! ([`rule_based`], `rules.rs`), which only takes what is said explicitly. Then
//! [`Memdir::apply_operations`] checks every operation against the repository (an `update`
//! or `supersede` must name an existing memory; a type must be configured; a near-duplicate
//! of a memory already there, or of one added earlier in the batch, is not added: the rule is
//! [`crate::similar`]'s) and writes the valid ones: new memories in one commit, each update in
//! its own, all with `Memdir-Step: extract` and the session in the trailers and, for new
//! memories, in `source:`, with `derived_from:` naming the turns they came from (else the
//! session) and the memory a `supersede` replaces. Rejected operations are reported with the
//! reason, never written.
//!
//! [`Memdir::extract`] does both; `memdir extract` and `memdir session end --extract` call it.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::extract::{Extractor, OpKind};
//! use memdir::transcript::Turn;
//! use memdir::{Memdir, Provenance};
//!
//! let mem = Memdir::init(dir.path())?;
//! let turns = [Turn { speaker: "user".into(), text: "I prefer short answers.".into(), ..Turn::default() }];
//! let run = async { mem.extract(&turns, "s-42", Extractor::Rules, &Provenance::agent("doc")).await };
//! let report = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(run)?;
//! assert_eq!(report.extractor, "rules");
//! assert_eq!(report.applied[0].op, OpKind::Add);
//! let memory = mem.get(&report.applied[0].id)?;
//! assert_eq!(memory.front.kind, "preference");
//! assert_eq!(memory.front.source.step.as_deref(), Some("extract"));
//! assert_eq!(memory.front.source.session.as_deref(), Some("s-42"));
//! # Ok(()) }
//! ```

mod rules;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

pub use rules::rule_based;

use crate::context::{ContextError, ContextFormat, ContextRequest};
use crate::llm::{ChatRequest, LlmClient};
use crate::memory::{Memory, SourceRef};
use crate::parse::ParseError;
use crate::similar::{Words, is_near_duplicate};
use crate::transcript::Turn;
use crate::{Error, Memdir, NewMemory, Provenance, Result, Update};

/// The `Memdir-Step` (and `source.step`) of every extraction write.
pub const STEP: &str = "extract";
/// The front-matter key naming the extractor of a new memory (`rules`, or
/// `provider:model`).
pub const EXTRACTOR_KEY: &str = "extractor";
/// Tokens of existing memories shown to the model beside the conversation (pinned memories
/// always go in, past it if they must).
pub const EXISTING_BUDGET: usize = 1500;
/// Characters of the conversation searched for the existing memories to show.
const QUERY_CHARS: usize = 2000;
/// Characters of a model's answer quoted when it cannot be read.
const QUOTE_CHARS: usize = 200;

/// Why an extraction could not run.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The model's answer holds no `{"operations": [...]}` JSON.
    #[error(
        "the model's answer is not the JSON asked for ({message}); it began: {start:?}. Try again, or use a model that follows JSON instructions"
    )]
    Unparseable {
        /// What is wrong with it.
        message: String,
        /// The start of the answer.
        start: String,
    },
}

/// What an operation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    /// Add a new memory.
    Add,
    /// Rewrite the text (and add tags) of an existing memory.
    Update,
    /// Add a new memory that replaces an existing one (`supersedes: [id]`).
    Supersede,
    /// Nothing worth remembering.
    None,
}

impl OpKind {
    /// Returns the name used in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Add => "add",
            OpKind::Update => "update",
            OpKind::Supersede => "supersede",
            OpKind::None => "none",
        }
    }
}

/// One proposed change, as the model writes it:
/// `{"op": "add"|"update"|"supersede"|"none", "id": ..., "type": ..., "text": ..., "tags": [...],
/// "from": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Operation {
    /// What to do.
    pub op: OpKind,
    /// The existing memory, for `update` and `supersede` (an `@revision` suffix is ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The type of a new memory [default: the old one's for `supersede`, else the configured
    /// default type]. An `update` cannot change it.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The memory's text: the whole new text for `update`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Tags of a new memory, or tags to add in an `update`.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub tags: Vec<String>,
    /// The ids of the turns the memory comes from (`t3`, or a transcript's own `D1:3`),
    /// recorded in its `derived_from:` as `session:ID#TURN`; without them, the session.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub from: Vec<String>,
}

fn null_as_empty<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

/// What an extractor proposed: the operations that could be read, and those that could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Proposal {
    /// Well-formed operations, in the order given.
    pub operations: Vec<Operation>,
    /// Entries that are not operations, with the reason.
    pub malformed: Vec<Rejected>,
}

/// An operation that was not applied, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// The operation's `op`, as given.
    pub op: String,
    /// Its `id`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Its `text`, when it had one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Why it was not applied.
    pub reason: String,
}

impl Rejected {
    fn of(op: &Operation, reason: impl Into<String>) -> Rejected {
        Rejected {
            op: op.op.as_str().to_owned(),
            id: op.id.clone(),
            text: op.text.clone(),
            reason: reason.into(),
        }
    }
}

/// An operation that was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// What was done.
    pub op: OpKind,
    /// The memory written (the new one, for `supersede`).
    pub id: String,
    /// Its path.
    pub path: String,
    /// Its revision after the write.
    pub revision: Option<String>,
    /// The commit, or `None` when an update changed nothing.
    pub commit: Option<String>,
    /// The memory a `supersede` replaces.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
    /// The text written.
    pub text: String,
}

/// What an extraction did with one session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Extraction {
    /// The session the turns came from, recorded with every write.
    pub session: String,
    /// `rules`, or `provider:model` for a model.
    pub extractor: String,
    /// Operations written, in the order given.
    pub applied: Vec<Applied>,
    /// Operations not written, with the reason.
    pub rejected: Vec<Rejected>,
}

/// Who proposes the operations.
#[derive(Debug, Clone, Copy)]
pub enum Extractor<'a> {
    /// The rule-based extractor ([`rule_based`]): explicit statements only, no model.
    Rules,
    /// A model.
    Llm(&'a LlmClient),
}

impl Extractor<'_> {
    /// Returns `rules`, or `provider:model`.
    pub fn name(&self) -> String {
        match self {
            Extractor::Rules => "rules".into(),
            Extractor::Llm(client) => format!("{}:{}", client.provider(), client.model()),
        }
    }
}

/// Returns the system prompt that asks a model for operations, given the configured types and
/// the existing memories (rendered as a context).
pub fn system_prompt(types: &[String], existing: &str) -> String {
    format!(
        r#"You keep the long-term memory of an assistant. Read the conversation and decide what is worth remembering in later conversations: durable facts about the people and their work, preferences, procedures, decisions and notable events. Skip small talk, one-off requests and anything that only mattered in the moment. Do not repeat what the memories below already say; update or supersede them when the conversation changes them.

Answer with JSON only, in this form:
{{"operations": [{{"op": "add", "type": "preference", "text": "Alice prefers short answers.", "tags": ["style"], "from": ["t2"]}}]}}

Operations:
- "add": a new memory. "type" is one of: {types}. "text" is one to three self-contained sentences that name who they are about (never "I" or "you").
- "update": an existing memory whose content grew or changed a little. "id" is its id from the memories below; "text" is its complete new text; "tags" are tags to add.
- "supersede": a new memory that replaces an existing one that is no longer true. "id" is the old memory's id; "text" and "type" are the new memory's.
- "none": nothing worth remembering. An empty list says the same.
"from" lists the ids of the turns a memory comes from, as the conversation shows them in brackets.

Memories already stored that may be relevant:
{existing}"#,
        types = types.join(", "),
        existing = existing.trim_end(),
    )
}

/// Returns the turns as `[id] speaker: text` lines (`speaker: text` for a turn without an
/// id), the conversation a model reads; the model names the turns a memory comes from by
/// these ids (`"from"`).
pub fn render_turns(turns: &[Turn]) -> String {
    let mut out = String::new();
    for t in turns {
        if !t.id.trim().is_empty() {
            out.push_str(&format!("[{}] ", t.id.trim()));
        }
        out.push_str(&t.speaker);
        out.push_str(": ");
        out.push_str(t.text.trim());
        if let Some(c) = &t.caption {
            out.push_str(&format!(" (shared an image: {})", c.trim()));
        }
        out.push('\n');
    }
    out
}

/// Reads a model's answer: JSON `{"operations": [...]}` (or the bare list), alone, in a fenced
/// code block, or among other text; a leading `<think>...</think>` block is skipped. Entries
/// that are not operations go to [`Proposal::malformed`].
///
/// ```
/// let answer = "Here you go:\n```json\n{\"operations\": [{\"op\": \"add\", \"text\": \"Bo is 30.\"}, {\"op\": \"forget\"}]}\n```";
/// let p = memdir::extract::parse_operations(answer).unwrap();
/// assert_eq!(p.operations[0].text.as_deref(), Some("Bo is 30."));
/// assert!(p.malformed[0].reason.contains("unknown variant `forget`"));
/// ```
pub fn parse_operations(answer: &str) -> Result<Proposal, ExtractError> {
    let unparseable = |message: String| ExtractError::Unparseable {
        message,
        start: answer.trim().chars().take(QUOTE_CHARS).collect(),
    };
    let json = json_part(answer);
    let value: Value = serde_json::from_str(json).map_err(|e| unparseable(e.to_string()))?;
    let list = match &value {
        Value::Object(o) => match o.get("operations") {
            Some(Value::Array(list)) => list.as_slice(),
            Some(Value::Null) => &[],
            Some(_) => return Err(unparseable("`operations` is not a list".into())),
            None => return Err(unparseable("no `operations` list".into())),
        },
        Value::Array(list) => list.as_slice(),
        _ => return Err(unparseable("not an object".into())),
    };
    let mut proposal = Proposal::default();
    for item in list {
        match Operation::deserialize(item) {
            Ok(op) => proposal.operations.push(op),
            Err(e) => {
                let field = |k: &str| item.get(k).and_then(Value::as_str).map(str::to_owned);
                proposal.malformed.push(Rejected {
                    op: field("op").unwrap_or_else(|| "?".into()),
                    id: field("id"),
                    text: field("text"),
                    reason: format!("not an operation: {e}"),
                });
            }
        }
    }
    Ok(proposal)
}

/// Returns the part of a model's answer that should be JSON: past a leading `<think>` block,
/// inside a fenced code block, or from the first `{` or `[` to the last `}` or `]`.
pub(crate) fn json_part(answer: &str) -> &str {
    let mut text = answer.trim();
    if let Some(end) = text.find("</think>")
        && text.starts_with("<think>")
    {
        text = text[end + "</think>".len()..].trim();
    }
    if let Some(start) = text.find("```") {
        let after = text[start + 3..].trim_start_matches(|c: char| c.is_ascii_alphanumeric());
        let end = after.find("```").unwrap_or(after.len());
        return after[..end].trim();
    }
    match (text.find(['{', '[']), text.rfind(['}', ']'])) {
        (Some(a), Some(b)) if a < b => &text[a..=b],
        _ => text,
    }
}

/// Returns the id an operation names, without an `@revision` suffix.
fn named_id(op: &Operation) -> Option<&str> {
    op.id
        .as_deref()
        .map(|id| id.split('@').next().unwrap_or(id).trim())
        .filter(|id| !id.is_empty())
}

/// An operation that passed the checks, ready to write.
enum Planned {
    New {
        op: OpKind,
        memory: NewMemory,
        supersedes: Option<String>,
    },
    Update {
        id: String,
        update: Update,
    },
}

impl Memdir {
    /// Proposes operations for `turns` with `extractor`. A model is shown the turns and the
    /// memories that matter for them (within [`EXISTING_BUDGET`] tokens) and asked for JSON;
    /// the rules need neither.
    pub async fn propose(&self, turns: &[Turn], extractor: Extractor<'_>) -> Result<Proposal> {
        let llm = match extractor {
            Extractor::Rules => {
                return Ok(Proposal {
                    operations: rule_based(turns),
                    malformed: Vec::new(),
                });
            }
            Extractor::Llm(llm) => llm,
        };
        let conversation = render_turns(turns);
        let query: String = {
            let start = conversation
                .char_indices()
                .rev()
                .nth(QUERY_CHARS)
                .map_or(0, |(i, _)| i);
            conversation[start..].to_owned()
        };
        let request = |budget| ContextRequest {
            format: ContextFormat::Xml,
            log: Some(false),
            ..ContextRequest::new(query.clone(), budget)
        };
        // Pinned memories always come; when they alone fill the budget, the model still
        // sees them and the budget's worth of the rest.
        let existing = match self.context(&request(EXISTING_BUDGET)) {
            Err(Error::Context(ContextError::PinnedOverBudget { tokens, .. })) => {
                self.context(&request(tokens + EXISTING_BUDGET))?
            }
            other => other?,
        };
        let request = ChatRequest::new(
            system_prompt(&self.config().memory.types, &existing.text),
            format!("The conversation:\n\n{conversation}"),
        );
        let answer = llm.complete(&request).await?;
        let mut proposal = parse_operations(&answer.text)?;
        // Only turns of this conversation can be a memory's source.
        for op in &mut proposal.operations {
            op.from
                .retain(|f| turns.iter().any(|t| !t.id.is_empty() && t.id == f.trim()));
        }
        Ok(proposal)
    }

    /// Checks `proposal` against the repository and writes what passes, recording `session`
    /// and `Memdir-Step: extract` (over `prov`'s) and naming `extractor` in each new memory's
    /// front-matter. New memories (`add`, `supersede`) go in one commit; each `update` is one
    /// commit, made only if the memory is still at the revision that was checked. Operations
    /// that fail a check are returned in [`Extraction::rejected`], not written.
    pub fn apply_operations(
        &self,
        proposal: Proposal,
        session: &str,
        extractor: &str,
        prov: &Provenance,
    ) -> Result<Extraction> {
        let prov = Provenance {
            session: Some(session.to_owned()),
            step: Some(STEP.to_owned()),
            ..prov.clone()
        };
        let mut rejected = proposal.malformed;
        let mut planned: Vec<Planned> = Vec::new();
        // The words of each text met, with the id already holding it (`None`: added in this
        // batch).
        let mut seen: Vec<(Words, Option<String>)> = Vec::new();
        for op in &proposal.operations {
            match self.check_operation(op, session, extractor, &mut seen)? {
                Ok(Some(p)) => planned.push(p),
                Ok(None) => {}
                Err(reason) => rejected.push(Rejected::of(op, reason)),
            }
        }
        let mut news = Vec::new();
        let mut updates = Vec::new();
        for p in planned {
            match p {
                Planned::New {
                    op,
                    memory,
                    supersedes,
                } => news.push((op, memory, supersedes)),
                Planned::Update { id, update } => updates.push((id, update)),
            }
        }
        let mut applied = Vec::new();
        let texts: Vec<String> = news.iter().map(|(_, m, _)| m.text.clone()).collect();
        let (kinds, memories): (Vec<_>, Vec<_>) = news
            .into_iter()
            .map(|(op, memory, supersedes)| ((op, supersedes), memory))
            .unzip();
        let written = self.remember_batch(memories, &prov)?;
        for (((op, supersedes), w), text) in kinds.into_iter().zip(written).zip(texts) {
            applied.push(Applied {
                op,
                id: w.id,
                path: w.path,
                revision: w.revision.map(|r| r.0),
                commit: w.commit,
                supersedes,
                text,
            });
        }
        for (id, update) in updates {
            let text = update.body.clone().unwrap_or_default();
            match self.update(&id, update, &prov) {
                Ok(w) => applied.push(Applied {
                    op: OpKind::Update,
                    id: w.id,
                    path: w.path,
                    revision: w.revision.map(|r| r.0),
                    commit: w.commit,
                    supersedes: None,
                    text,
                }),
                Err(e @ (Error::Conflict { .. } | Error::NotFound { .. })) => {
                    rejected.push(Rejected {
                        op: "update".into(),
                        id: Some(id),
                        text: Some(text).filter(|t| !t.is_empty()),
                        reason: format!(
                            "{e}; it changed while extracting: run the extraction again"
                        ),
                    });
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Extraction {
            session: session.to_owned(),
            extractor: extractor.to_owned(),
            applied,
            rejected,
        })
    }

    /// Proposes operations for one session's `turns` with `extractor` and applies them (see
    /// [`Memdir::propose`] and [`Memdir::apply_operations`]). `session` is recorded with every
    /// write, with `Memdir-Step: extract`; `prov` gives the agent and author.
    #[tracing::instrument(skip_all, fields(session))]
    pub async fn extract(
        &self,
        turns: &[Turn],
        session: &str,
        extractor: Extractor<'_>,
        prov: &Provenance,
    ) -> Result<Extraction> {
        let proposal = self.propose(turns, extractor).await?;
        self.apply_operations(proposal, session, &extractor.name(), prov)
    }

    /// Extracts memories from the turns of live session `id` (see [`crate::session`]), as
    /// `memdir session end --extract` does: [`Memdir::extract`] of its turns as a transcript.
    pub async fn extract_session(
        &self,
        id: &str,
        extractor: Extractor<'_>,
        prov: &Provenance,
    ) -> Result<Extraction> {
        let session = self.session(id)?.to_transcript();
        self.extract(&session.turns, id, extractor, prov).await
    }

    /// Checks one operation. Returns `Ok(Err(reason))` when it must not be applied,
    /// `Ok(Ok(None))` for `none`.
    fn check_operation(
        &self,
        op: &Operation,
        session: &str,
        extractor: &str,
        seen: &mut Vec<(Words, Option<String>)>,
    ) -> Result<std::result::Result<Option<Planned>, String>> {
        let text = op.text.as_deref().map(str::trim).filter(|t| !t.is_empty());
        for tag in &op.tags {
            if tag.trim().is_empty() || tag.contains(['\n', '\r']) {
                return Ok(Err(format!(
                    "invalid tag {tag:?}: tags are non-empty single-line strings"
                )));
            }
        }
        // The memory an update or supersede names, if it exists.
        let existing = match op.op {
            OpKind::None => return Ok(Ok(None)),
            OpKind::Add => None,
            OpKind::Update | OpKind::Supersede => {
                let Some(id) = named_id(op) else {
                    return Ok(Err(format!(
                        "`{}` needs the `id` of an existing memory",
                        op.op.as_str()
                    )));
                };
                match self.get(id) {
                    Ok(m) => Some(m),
                    Err(Error::NotFound { .. } | Error::Parse(ParseError::InvalidId { .. })) => {
                        return Ok(Err(format!(
                            "no memory has id `{id}`, so there is nothing to {}; `memdir list` shows the ids",
                            op.op.as_str()
                        )));
                    }
                    Err(e @ Error::DuplicateId { .. }) => return Ok(Err(e.to_string())),
                    Err(e) => return Err(e),
                }
            }
        };
        if op.op == OpKind::Update {
            let memory = existing.expect("update names an existing memory");
            if let Some(kind) = &op.kind
                && *kind != memory.front.kind
            {
                return Ok(Err(format!(
                    "an update cannot change the type (`{}` to `{kind}`); supersede the memory instead",
                    memory.front.kind
                )));
            }
            if text.is_none() && op.tags.is_empty() {
                return Ok(Err("`update` needs a `text` or `tags`".into()));
            }
            return Ok(Ok(Some(Planned::Update {
                id: memory.front.id.to_string(),
                update: Update {
                    body: text.map(str::to_owned),
                    add_tags: op.tags.iter().map(|t| t.trim().to_owned()).collect(),
                    expect: Some(memory.revision.0),
                    ..Update::default()
                },
            })));
        }
        let Some(text) = text else {
            return Ok(Err(format!("`{}` needs a `text`", op.op.as_str())));
        };
        let kind = op
            .kind
            .clone()
            .or_else(|| existing.as_ref().map(|m| m.front.kind.clone()))
            .unwrap_or_else(|| self.config().memory.default_type.clone());
        if let Err(e) = self.config().check_type(&kind) {
            return Ok(Err(e.to_string()));
        }
        // Near-duplicates (the one rule of `crate::similar`) are not added twice.
        let words = Words::of(text);
        if let Some((_, holder)) = seen.iter().find(|(w, _)| is_near_duplicate(w, &words)) {
            return Ok(Err(match holder {
                Some(id) => format!("already remembered as `{id}`"),
                None => "the same text is added earlier in this extraction".into(),
            }));
        }
        if let Some(similar) = self.similar_to(text, None)?.into_iter().next() {
            let reason = format!("already remembered as `{}`", similar.id);
            seen.push((words, Some(similar.id)));
            return Ok(Err(reason));
        }
        seen.push((words, None));
        let mut memory = NewMemory::new(text)
            .kind(kind)
            .extra(EXTRACTOR_KEY, extractor);
        memory.tags = op.tags.iter().map(|t| t.trim().to_owned()).collect();
        let supersedes = existing.as_ref().map(|m| m.front.id.to_string());
        if let Some(old) = &existing {
            // `supersedes: [old]`: the old memory drops out of search and context.
            memory = memory.supersedes(old.front.id.clone());
        }
        memory.derived_from = derived_from(op, session, existing.as_ref());
        Ok(Ok(Some(Planned::New {
            op: op.op,
            memory,
            supersedes,
        })))
    }
}

/// Returns what a memory written for `op` is derived from: the memory it replaces, at the
/// revision read, and the session's turns it names (else the session).
fn derived_from(op: &Operation, session: &str, existing: Option<&Memory>) -> Vec<SourceRef> {
    let mut sources: Vec<SourceRef> = existing
        .map(|m| SourceRef::Memory {
            id: m.front.id.clone(),
            revision: Some(m.revision.short().to_owned()),
        })
        .into_iter()
        .collect();
    let turns: Vec<SourceRef> = op
        .from
        .iter()
        .filter_map(|t| SourceRef::parse(&format!("session:{session}#{}", t.trim())).ok())
        .collect();
    if turns.is_empty() {
        sources.extend(SourceRef::parse(&format!("session:{session}")).ok());
    } else {
        sources.extend(turns);
    }
    sources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_read_alone_fenced_or_among_text() {
        let ops = r#"{"operations": [{"op": "add", "type": "fact", "text": "A", "tags": null}]}"#;
        for answer in [
            ops.to_owned(),
            format!("```json\n{ops}\n```"),
            format!("```\n{ops}\n```\nDone."),
            format!("Sure! Here they are: {ops} Hope that helps."),
            format!("<think>maybe {{not this}}</think>\n{ops}"),
            r#"[{"op": "add", "type": "fact", "text": "A"}]"#.to_owned(),
        ] {
            let p = parse_operations(&answer).unwrap();
            assert_eq!(p.operations.len(), 1, "{answer}");
            assert_eq!(p.operations[0].text.as_deref(), Some("A"));
        }
        assert_eq!(
            parse_operations(r#"{"operations": []}"#).unwrap(),
            Proposal::default()
        );
    }

    #[test]
    fn unreadable_answers_say_what_is_wrong() {
        for (answer, want) in [
            (
                "I cannot help with that.",
                "the model's answer is not the JSON asked for (expected value at line 1 column 1); it began: \"I cannot help with that.\". Try again, or use a model that follows JSON instructions",
            ),
            (
                r#"{"memories": []}"#,
                "the model's answer is not the JSON asked for (no `operations` list); it began: \"{\\\"memories\\\": []}\". Try again, or use a model that follows JSON instructions",
            ),
        ] {
            assert_eq!(parse_operations(answer).unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn malformed_entries_are_kept_apart_with_the_reason() {
        let p = parse_operations(
            r#"{"operations": [{"op": "delete", "id": "x"}, {"op": "add", "text": "B", "tags": "t"}, {"op": "none"}]}"#,
        )
        .unwrap();
        assert_eq!(p.operations.len(), 1);
        assert_eq!(p.operations[0].op, OpKind::None);
        let reasons: Vec<(&str, &str)> = p
            .malformed
            .iter()
            .map(|r| (r.op.as_str(), r.reason.as_str()))
            .collect();
        assert_eq!(
            reasons,
            [
                (
                    "delete",
                    "not an operation: unknown variant `delete`, expected one of `add`, `update`, `supersede`, `none`"
                ),
                (
                    "add",
                    "not an operation: invalid type: string \"t\", expected a sequence"
                ),
            ]
        );
    }

    #[test]
    fn ids_lose_their_revision_and_texts_compare_by_words() {
        let op = Operation {
            op: OpKind::Update,
            id: Some("deploys-3f9c2a@9ab12cd".into()),
            kind: None,
            text: None,
            tags: vec![],
            from: vec![],
        };
        assert_eq!(named_id(&op), Some("deploys-3f9c2a"));
        assert!(is_near_duplicate(
            &Words::of("The user prefers *tabs*.\n"),
            &Words::of("the user prefers tabs")
        ));
    }
}
