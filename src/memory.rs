//! Plain data: what a memory is, its id, its front-matter and its revision.
//!
//! Nothing here does I/O. Parsing and rendering live in [`crate::parse`]; reading and writing
//! files live in [`crate::store`].

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::parse::ParseError;

/// A memory's stable, readable id: a slug plus a short suffix, such as `prefers-dark-mode-3f9c2a`.
///
/// Ids are lower-case ASCII letters, digits and `-`, `_` or `.`, start with a letter or digit and are at most
/// 96 characters long, so an id can never name a path outside the repository.
///
/// ```
/// use memdir::MemoryId;
/// assert!(MemoryId::parse("prefers-dark-mode-3f9c2a").is_ok());
/// assert!(MemoryId::parse("../etc/passwd").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(try_from = "String", into = "String")]
pub struct MemoryId(String);

impl MemoryId {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 96;

    /// Returns the id if `text` is a valid id.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let valid = !text.is_empty()
            && text.len() <= Self::MAX_LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
            && text.as_bytes()[0].is_ascii_alphanumeric()
            && !text.contains("..");
        if valid {
            Ok(MemoryId(text.to_owned()))
        } else {
            Err(ParseError::InvalidId {
                id: text.to_owned(),
            })
        }
    }

    /// Returns the id as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for MemoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for MemoryId {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        MemoryId::parse(&value)
    }
}

impl From<MemoryId> for String {
    fn from(id: MemoryId) -> String {
        id.0
    }
}

/// The content hash of a memory file: the git blob id of its bytes, in hex.
///
/// Any change to a file, committed or not, changes its revision, so a revision read earlier
/// tells whether the file changed since (compare-and-swap). `git log --find-object=<revision>`
/// finds the commits that wrote it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(transparent)]
pub struct Revision(pub String);

impl Revision {
    /// Returns the first seven hex digits, as git abbreviates.
    pub fn short(&self) -> &str {
        &self.0[..self.0.len().min(7)]
    }

    /// Returns true if `expected` (a full revision or a prefix of at least four hex digits)
    /// names this revision.
    pub fn matches(&self, expected: &str) -> bool {
        let expected = expected.trim().to_ascii_lowercase();
        expected.len() >= 4 && self.0.starts_with(&expected)
    }
}

impl fmt::Display for Revision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time, written in front-matter as RFC 3339 (`2026-11-25T09:30:00Z`) or as a date
/// (`2026-11-25`, read as midnight UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    /// Returns the current time, truncated to whole seconds.
    pub fn now() -> Self {
        let now = OffsetDateTime::now_utc();
        Timestamp(now.replace_nanosecond(0).unwrap_or(now))
    }

    /// Parses RFC 3339 or `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
            return Some(Timestamp(t));
        }
        let date = time::Date::parse(
            text,
            time::macros::format_description!("[year]-[month]-[day]"),
        );
        date.ok().map(|d| Timestamp(d.midnight().assume_utc()))
    }

    /// Returns seconds since the Unix epoch.
    pub fn unix(&self) -> i64 {
        self.0.unix_timestamp()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.format(&Rfc3339) {
            Ok(s) => f.write_str(&s),
            Err(_) => write!(f, "{}", self.0.unix_timestamp()),
        }
    }
}

/// A timestamp is an RFC 3339 string in JSON (the HTTP API's OpenAPI description says so).
#[cfg(feature = "http")]
impl utoipa::PartialSchema for Timestamp {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
            .into()
    }
}

#[cfg(feature = "http")]
impl utoipa::ToSchema for Timestamp {}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("not an RFC 3339 time or a date: {text:?}"))
        })
    }
}

/// Where a belief came from: which session, agent and step wrote it, and an optional reference
/// (a URL, a ticket, a file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Source {
    /// The conversation or run that produced the memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The agent (or person) that wrote it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// The step of the session, such as a tool-call number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// A reference to outside evidence.
    #[serde(rename = "ref", skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl Source {
    /// Returns true when no field is set.
    pub fn is_empty(&self) -> bool {
        self.session.is_none()
            && self.agent.is_none()
            && self.step.is_none()
            && self.reference.is_none()
    }
}

/// The front-matter fields memdir understands, plus every other key, kept as it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct FrontMatter {
    /// Stable id.
    pub id: MemoryId,
    /// One-line summary.
    pub title: String,
    /// One of the configured types (`fact`, `preference`, `event`, `procedure`, `note`,
    /// `summary` by default).
    #[serde(rename = "type")]
    pub kind: String,
    /// Free-form labels.
    pub tags: Vec<String>,
    /// Whose memory this is, such as `user:alice` or `agent:support`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// When the memory was first written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// When the memory last changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<Timestamp>,
    /// Always include in context.
    pub pinned: bool,
    /// After this time the memory is no longer believed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires: Option<Timestamp>,
    /// Provenance.
    #[serde(skip_serializing_if = "Source::is_empty")]
    pub source: Source,
    /// Keys memdir does not know, as parsed (they stay verbatim in the file).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A memory as read from its file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Memory {
    /// The parsed front-matter.
    #[serde(flatten)]
    pub front: FrontMatter,
    /// The Markdown body, exactly as in the file.
    pub body: String,
    /// Path relative to the repository root, with `/` separators.
    pub path: String,
    /// Content hash of the file.
    pub revision: Revision,
    /// 1-based line of the file where the body starts.
    #[serde(skip)]
    pub body_line: usize,
    /// Which fields the file leaves out and were derived (see [`crate::parse::parse_memory`]).
    #[serde(skip)]
    pub derived: Derived,
}

/// Which front-matter fields of a memory were derived rather than read from its file.
///
/// A derived id follows the file's path until memdir writes it into the file (`memdir
/// commit`, `memdir check --fix`, or any memdir write to the file): then it survives renames.
/// A derived title follows the body, so it never repeats text the memory no longer says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Derived {
    /// The file has no usable `id:` of its own (none, or a copy of another file's id): the
    /// id is [`crate::parse::path_id`] of its path.
    pub id: bool,
    /// The file has no `title:`: the title is derived from the body, else the file name.
    pub title: bool,
    /// The file has no `type:`: the type is its folder's, else `note`.
    pub kind: bool,
}

/// The front-matter key under which the write guard records why a memory is quarantined.
pub const QUARANTINE_KEY: &str = "quarantine";
/// The front-matter key listing the ids a memory replaces.
pub const SUPERSEDES_KEY: &str = "supersedes";
/// The front-matter key listing what a memory was derived from (see [`SourceRef`]).
pub const DERIVED_FROM_KEY: &str = "derived_from";

/// One thing a memory was derived from, as its `derived_from:` list records it: another
/// memory at the revision that was read (`id@revision`, the form of a context citation), or
/// a session, or one turn of it (`session:ID`, `session:ID#tN`).
///
/// ```
/// use memdir::memory::SourceRef;
/// let r = SourceRef::parse("deploy-days-3f9c2a@9ab12cd").unwrap();
/// assert!(matches!(&r, SourceRef::Memory { id, revision: Some(rev) } if id.as_str() == "deploy-days-3f9c2a" && rev == "9ab12cd"));
/// assert_eq!(SourceRef::parse("session:s-1#t4").unwrap().to_string(), "session:s-1#t4");
/// assert!(SourceRef::parse("deploy-days@xyz").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SourceRef {
    /// A memory, at the revision read (a git blob id or a prefix of 4+ hex digits); without
    /// one, only its removal can be told.
    Memory {
        /// The memory's id.
        id: MemoryId,
        /// The revision that was read.
        revision: Option<String>,
    },
    /// A session, or one of its turns.
    Session {
        /// The session's id.
        id: String,
        /// The turn's id, when one turn is meant: `t4` for the fourth turn of a session of
        /// `sessions/`, a transcript's own id (`D1:3`) for an imported one.
        turn: Option<String>,
    },
}

impl SourceRef {
    /// Reads `id@revision`, `id`, `session:ID` or `session:ID#tN`.
    pub fn parse(text: &str) -> Result<SourceRef, ParseError> {
        let text = text.trim();
        let invalid = |why: &str| ParseError::InvalidSource {
            entry: text.to_owned(),
            why: why.to_owned(),
        };
        if let Some(session) = text.strip_prefix("session:") {
            let (id, turn) = match session.split_once('#') {
                Some((id, turn)) if !turn.is_empty() && !turn.contains(char::is_whitespace) => {
                    (id, Some(turn.to_owned()))
                }
                Some(_) => return Err(invalid("a turn is named after `#`, as `#t4`")),
                None => (session, None),
            };
            if crate::session::session_path(id).is_err() {
                return Err(invalid("not a usable session id"));
            }
            return Ok(SourceRef::Session {
                id: id.to_owned(),
                turn,
            });
        }
        let (id, revision) = match text.split_once('@') {
            Some((id, rev)) => (id, Some(rev.to_ascii_lowercase())),
            None => (text, None),
        };
        if let Some(rev) = &revision
            && (rev.len() < 4 || rev.len() > 40 || !rev.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            return Err(invalid("a revision is 4 to 40 hex digits"));
        }
        let id = MemoryId::parse(id).map_err(|_| invalid("not a memory id"))?;
        Ok(SourceRef::Memory { id, revision })
    }
}

impl TryFrom<String> for SourceRef {
    type Error = ParseError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        SourceRef::parse(&value)
    }
}

impl From<SourceRef> for String {
    fn from(source: SourceRef) -> String {
        source.to_string()
    }
}

impl fmt::Display for SourceRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceRef::Memory { id, revision: None } => write!(f, "{id}"),
            SourceRef::Memory {
                id,
                revision: Some(rev),
            } => write!(f, "{id}@{rev}"),
            SourceRef::Session { id, turn: None } => write!(f, "session:{id}"),
            SourceRef::Session { id, turn: Some(t) } => write!(f, "session:{id}#{t}"),
        }
    }
}

/// One reason a memory is quarantined, as recorded in its `quarantine:` front-matter block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct QuarantineNote {
    /// The guard rule that matched, such as `injection.override`.
    pub rule: String,
    /// Why that is a risk.
    #[serde(default)]
    pub why: String,
    /// The matched text (secrets redacted).
    #[serde(default)]
    pub excerpt: String,
}

impl Memory {
    /// Returns the id.
    pub fn id(&self) -> &MemoryId {
        &self.front.id
    }

    /// Returns true if the file carries its own id (see [`Derived::id`]).
    pub fn is_stamped(&self) -> bool {
        !self.derived.id
    }

    /// Returns true if the write guard quarantined this memory (a `quarantine:` key that is
    /// not empty, `false` or null): it stays out of search and context until approved.
    pub fn is_quarantined(&self) -> bool {
        match self.front.extra.get(QUARANTINE_KEY) {
            None | Some(serde_json::Value::Null) | Some(serde_json::Value::Bool(false)) => false,
            Some(serde_json::Value::Array(a)) => !a.is_empty(),
            Some(serde_json::Value::String(s)) => !s.trim().is_empty(),
            Some(_) => true,
        }
    }

    /// Returns the reasons recorded in the `quarantine:` block (a list of `rule`, `why`,
    /// `excerpt` maps; a bare rule id or a list of them is read too).
    pub fn quarantine(&self) -> Vec<QuarantineNote> {
        let note = |v: &serde_json::Value| match v {
            serde_json::Value::String(rule) => Some(QuarantineNote {
                rule: rule.clone(),
                ..QuarantineNote::default()
            }),
            other => serde_json::from_value(other.clone()).ok(),
        };
        match self.front.extra.get(QUARANTINE_KEY) {
            Some(serde_json::Value::Array(items)) => items.iter().filter_map(note).collect(),
            Some(v) if self.is_quarantined() => note(v).into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Returns what this memory was derived from (its `derived_from:` list, or a single
    /// entry), leaving out entries that are not a [`SourceRef`] (`memdir check` names them).
    pub fn derived_from(&self) -> Vec<SourceRef> {
        self.derived_from_entries()
            .iter()
            .filter_map(|e| SourceRef::parse(e).ok())
            .collect()
    }

    /// Returns the entries of the `derived_from:` list as written.
    pub fn derived_from_entries(&self) -> Vec<String> {
        match self.front.extra.get(DERIVED_FROM_KEY) {
            Some(serde_json::Value::String(s)) => vec![s.clone()],
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Returns the ids this memory replaces (its `supersedes:` list, or a single id).
    pub fn supersedes(&self) -> Vec<String> {
        match self.front.extra.get(SUPERSEDES_KEY) {
            Some(serde_json::Value::String(id)) => vec![id.clone()],
            Some(serde_json::Value::Array(ids)) => ids
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The built-in memory types; `memory.toml` may replace the list.
pub const DEFAULT_TYPES: &[&str] = &[
    "fact",
    "preference",
    "event",
    "procedure",
    "note",
    "summary",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_cannot_escape_the_repository() {
        for bad in [
            "", "../x", "a/b", "A-upper", "-lead", "a..b", "x y", "a\0b", ".hidden",
        ] {
            assert!(MemoryId::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        for good in ["a", "prefers-dark-mode-3f9c2a", "v1.2_x"] {
            assert!(MemoryId::parse(good).is_ok(), "{good:?} should be accepted");
        }
        assert!(MemoryId::parse(&"a".repeat(97)).is_err());
    }

    #[test]
    fn timestamps_accept_dates_and_rfc3339() {
        assert_eq!(
            Timestamp::parse("2026-11-25").unwrap().to_string(),
            "2026-11-25T00:00:00Z"
        );
        assert_eq!(
            Timestamp::parse("2026-11-25T09:30:00+01:00")
                .unwrap()
                .unix(),
            Timestamp::parse("2026-11-25T08:30:00Z").unwrap().unix()
        );
        assert!(Timestamp::parse("next tuesday").is_none());
    }

    #[test]
    fn revisions_match_prefixes_of_four_or_more_digits() {
        let rev = Revision("3f9c2a1b".into());
        assert!(rev.matches("3f9c2a1"));
        assert!(rev.matches("3F9C"));
        assert!(!rev.matches("3f9"));
        assert!(!rev.matches("3f9d"));
    }
}
