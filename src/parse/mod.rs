//! Memory files <-> [`Memory`] values: front-matter (YAML, found by [`layout`] and read once
//! with yaml-rust2), Markdown passages (pulldown-cmark), and surgical front-matter edits that
//! leave everything else byte-for-byte.
//!
//! No I/O happens here: callers hand in the bytes of a file and get text back. Memdir never
//! re-serializes a whole front-matter block of an existing file; [`edit`] replaces only the lines
//! of the keys it changes, so comments, key order, unknown keys and body formatting survive.
//!
//! Any Markdown file is a memory. What its front-matter leaves out follows from the file
//! itself (see [`parse_memory`]): the id from its path ([`path_id`]), the title from its
//! text ([`derive_title`]), the type from its folder.
//!
//! One question per file: this one finds and reads a file's parts; `yaml.rs` reads and checks
//! the front-matter's fields; `derive.rs` derives what a file leaves out (id, title, slug);
//! `edit.rs` writes files (new ones, minimal edits, stamps); `passages.rs` splits a body into
//! what search points at.

use crate::memory::{Memory, MemoryId, Revision};

mod derive;
mod edit;
mod passages;
mod yaml;

pub use derive::{derive_title, path_id, slugify, title_of};
pub use edit::{Edit, FieldValue, edit, is_key_line, render_new, stamp, yaml_scalar};
pub use passages::{Passage, passages};
use yaml::{front_matter_from_value, yaml_map};

/// Largest memory file memdir reads, in bytes. Larger files are reported, not parsed.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Deepest nesting of YAML collections accepted in front-matter.
pub const MAX_YAML_DEPTH: usize = 32;

/// Why a memory file (or a value destined for one) could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// The file does not start with a `---` front-matter block.
    #[error(
        "{path}:1: no front-matter: a memory file starts with a `---` line, then `id: ...`, then `---`"
    )]
    NoFrontMatter {
        /// File path, relative to the repository.
        path: String,
    },
    /// The front-matter block is never closed.
    #[error("{path}:1: front-matter is not closed: add a `---` line after the last field")]
    Unclosed {
        /// File path.
        path: String,
    },
    /// The front-matter is not valid YAML, or is too deep or uses aliases.
    #[error("{path}:{line}: invalid front-matter: {message}")]
    Yaml {
        /// File path.
        path: String,
        /// 1-based line in the file.
        line: usize,
        /// What the YAML parser said.
        message: String,
    },
    /// A required field is absent.
    #[error("{path}:{line}: missing field `{field}`")]
    MissingField {
        /// File path.
        path: String,
        /// Line of the front-matter block.
        line: usize,
        /// The field.
        field: &'static str,
    },
    /// A field has the wrong type or an unreadable value.
    #[error("{path}:{line}: field `{field}`: {message}")]
    InvalidField {
        /// File path.
        path: String,
        /// 1-based line of the field.
        line: usize,
        /// The field.
        field: String,
        /// What was expected.
        message: String,
    },
    /// The file is not UTF-8 text.
    #[error("{path}:{line}: not UTF-8 text (binary file?)")]
    NotText {
        /// File path.
        path: String,
        /// Line of the first invalid byte.
        line: usize,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path}: file is {size} bytes; memory files are limited to {limit} bytes")]
    TooLarge {
        /// File path.
        path: String,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// An id does not have the form of an id.
    #[error(
        "invalid id `{id}`: ids are lower-case letters, digits, `-`, `_` and `.`, start with a letter or digit, and are at most 96 characters"
    )]
    InvalidId {
        /// The rejected text.
        id: String,
    },
    /// A `derived_from` entry that names no memory or session.
    #[error(
        "invalid source `{entry}` ({why}): name a memory as `id@revision` (a context citation) or `id`, or a session as `session:ID` or `session:ID#tN`"
    )]
    InvalidSource {
        /// The rejected entry.
        entry: String,
        /// What is wrong with it.
        why: String,
    },
}

impl ParseError {
    /// Returns the 1-based line the error points at, if any.
    pub fn line(&self) -> Option<usize> {
        match self {
            ParseError::NoFrontMatter { .. } | ParseError::Unclosed { .. } => Some(1),
            ParseError::Yaml { line, .. }
            | ParseError::MissingField { line, .. }
            | ParseError::InvalidField { line, .. }
            | ParseError::NotText { line, .. } => Some(*line),
            ParseError::TooLarge { .. }
            | ParseError::InvalidId { .. }
            | ParseError::InvalidSource { .. } => None,
        }
    }
}

/// Where the front-matter and body of a file are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Byte range of the YAML between the delimiters (without them).
    pub yaml: (usize, usize),
    /// Byte offset where the body starts (after the closing delimiter line).
    pub body_start: usize,
    /// 1-based line of the file where the body starts.
    pub body_line: usize,
}

/// Finds the front-matter block of `text`: a first line `---`, then YAML, then a line `---`
/// or `...` (YAML's own end-of-document mark). This is the one place that decides where a
/// front-matter block is; everything that reads or edits one goes through it.
///
/// ```
/// use memdir::parse::layout;
/// let l = layout("a.md", "---\nid: a\n...\nBody\n").unwrap();
/// assert_eq!((l.yaml, l.body_start, l.body_line), ((4, 10), 14, 4));
/// assert!(layout("a.md", "# Just Markdown\n").is_err());
/// ```
pub fn layout(path: &str, text: &str) -> Result<Layout, ParseError> {
    find_layout(path, text)?.ok_or_else(|| ParseError::NoFrontMatter { path: path.into() })
}

/// Like [`layout`], but a file without a front-matter block is `Ok(None)`: plain Markdown.
pub fn find_layout(path: &str, text: &str) -> Result<Option<Layout>, ParseError> {
    let mut lines = line_spans(text);
    let Some((s, e)) = lines.next() else {
        return Ok(None);
    };
    if text[s..e].trim_end() != "---" {
        return Ok(None);
    }
    let yaml_start = e;
    for (n, (s, e)) in lines.enumerate() {
        let line = text[s..e].trim_end();
        if line == "---" || line == "..." {
            return Ok(Some(Layout {
                yaml: (yaml_start, s),
                body_start: e,
                body_line: n + 3,
            }));
        }
    }
    Err(ParseError::Unclosed { path: path.into() })
}

/// Parses a memory file: any Markdown file, with or without front-matter.
///
/// `revision` is the content hash of `bytes`, computed by the caller (see
/// `Store::revision_of`), so that this module stays free of git.
///
/// What the front-matter does not say follows from the file, and [`Memory::derived`] says
/// which fields were derived:
/// - no `id`: [`path_id`] of its path (until `memdir commit` writes it into the file);
/// - no `title`: [`derive_title`] of its current body, else the file name, so a title never
///   repeats text the memory no longer says;
/// - no `type`: the name of its top folder (`fact/x.md` is a `fact`; the repository turns a
///   folder that is not a configured type into `note`), else `note`.
///
/// ```
/// use memdir::{parse, Revision};
/// let text = "---\nid: tea-1a2b3c\ntitle: Likes tea\ntype: preference\n---\nGreen, no sugar.\n";
/// let memory = parse::parse_memory("preference/tea.md", text.as_bytes(), Revision("0".into())).unwrap();
/// assert_eq!(memory.front.title, "Likes tea");
/// assert_eq!(memory.body, "Green, no sugar.\n");
/// assert_eq!(memory.body_line, 6);
///
/// // A note written by hand, without front-matter.
/// let note = parse::parse_memory("fact/coding-style.md", b"# Coding style\n\n- tabs\n", Revision("0".into())).unwrap();
/// assert_eq!(note.front.id.as_str(), parse::path_id("fact/coding-style.md").as_str());
/// assert_eq!((note.front.title.as_str(), note.front.kind.as_str()), ("Coding style", "fact"));
/// assert!(note.derived.id && note.derived.title);
/// ```
pub fn parse_memory(path: &str, bytes: &[u8], revision: Revision) -> Result<Memory, ParseError> {
    parse_all(path, bytes, revision).map_err(|mut e| e.swap_remove(0))
}

/// Like [`parse_memory`], but reports every problem of the file, not just the first (at least
/// one when it fails), in file order.
pub fn parse_all(path: &str, bytes: &[u8], revision: Revision) -> Result<Memory, Vec<ParseError>> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(vec![ParseError::TooLarge {
            path: path.into(),
            size: bytes.len(),
            limit: MAX_FILE_BYTES,
        }]);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        vec![ParseError::NotText {
            path: path.into(),
            line: line_of(bytes, e.valid_up_to()),
        }]
    })?;
    if let Some(at) = text.find('\0') {
        return Err(vec![ParseError::NotText {
            path: path.into(),
            line: line_of(bytes, at),
        }]);
    }
    let (yaml, body_start, body_line) = match find_layout(path, text).map_err(|e| vec![e])? {
        Some(l) => (&text[l.yaml.0..l.yaml.1], l.body_start, l.body_line),
        None => ("", 0, 1),
    };
    let map = yaml_map(path, yaml).map_err(|e| vec![e])?;
    let body = &text[body_start..];
    let (front, derived) = front_matter_from_value(path, yaml, map, body)?;
    Ok(Memory {
        front,
        body: body.to_owned(),
        path: path.to_owned(),
        revision,
        body_line,
        derived,
    })
}

/// Returns the `id:` of a file's front-matter, read leniently: from the top-level `id:` line
/// alone, so a file that fails [`parse_memory`] for any other reason (a broken field, a bad
/// date, too large) still says whose it is. `None` when there is no front-matter or no id.
///
/// ```
/// use memdir::parse::front_matter_id;
/// assert_eq!(front_matter_id(b"---\nid: 'tea-1a2b3c'  # mine\ntitle: [\n---\nbody\n").as_deref(), Some("tea-1a2b3c"));
/// assert_eq!(front_matter_id(b"no front-matter\nid: x\n"), None);
/// ```
pub fn front_matter_id(bytes: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(bytes.get(..MAX_FILE_BYTES).unwrap_or(bytes));
    let layout = layout("", &text).ok()?;
    let yaml = &text[layout.yaml.0..layout.yaml.1];
    let line = yaml.lines().find(|l| is_key_line(l, "id"))?;
    let value = line["id:".len()..].trim();
    let value = match value.chars().next()? {
        q @ ('"' | '\'') => value[1..].split(q).next()?,
        _ => value.split(" #").next()?.trim(),
    };
    MemoryId::parse(value).ok().map(|id| id.to_string())
}

/// Returns the 1-based line of byte `offset` in `bytes`.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Iterates `(start, end)` byte spans of lines, each including its `\n`.
fn line_spans(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= text.len() {
            return None;
        }
        let start = pos;
        let end = text[pos..].find('\n').map_or(text.len(), |i| pos + i + 1);
        pos = end;
        Some((start, end))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::Derived;

    fn parse(text: &str) -> Result<Memory, ParseError> {
        parse_memory("note/x.md", text.as_bytes(), Revision("r".into()))
    }

    #[test]
    fn reads_every_known_field_and_keeps_unknown_ones() {
        let m = parse(
            "---\nid: x-1\ntitle: T\ntype: fact\ntags: [a, b]\nscope: user:alice\ncreated: 2026-01-02\n\
             updated: 2026-01-03T04:05:06Z\npinned: true\nexpires: 2027-01-01\n\
             source:\n  session: s1\n  agent: claude\n  step: 7\n  ref: https://x\nmood: happy\n---\nbody\n",
        )
        .unwrap();
        let f = &m.front;
        assert_eq!(
            (f.id.as_str(), f.title.as_str(), f.kind.as_str()),
            ("x-1", "T", "fact")
        );
        assert_eq!(f.tags, ["a", "b"]);
        assert_eq!(f.scope.as_deref(), Some("user:alice"));
        assert_eq!(f.created.unwrap().to_string(), "2026-01-02T00:00:00Z");
        assert!(f.pinned);
        assert_eq!(f.source.step.as_deref(), Some("7"));
        assert_eq!(f.source.reference.as_deref(), Some("https://x"));
        assert_eq!(f.extra["mood"], "happy");
    }

    #[test]
    fn errors_name_the_line_and_field() {
        let e = parse("---\nid: x-1\ntags: {a: 1}\npinned: maybe\n---\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "note/x.md:3: field `tags`: expected a list of strings, found a mapping"
        );
        let e = parse("---\nid: x-1\npinned: maybe\n---\n").unwrap_err();
        assert_eq!(
            e.to_string(),
            "note/x.md:3: field `pinned`: expected true or false, found a string"
        );
        let e = parse("---\nid: x-1\ntitle: [unclosed\n---\n").unwrap_err();
        assert!(matches!(e, ParseError::Yaml { .. }), "{e}");
        let e = parse("---\nid: x-1\n").unwrap_err();
        assert!(matches!(e, ParseError::Unclosed { .. }));
        let e = parse("---\nid: ../../etc\n---\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("note/x.md:2: field `id`: invalid id"),
            "{e}"
        );
    }

    #[test]
    fn every_problem_of_a_file_is_reported_in_line_order() {
        let text = "---\nid: x-1\npinned: maybe\ntags: {a: 1}\nexpires: soon\n---\n";
        let errors = parse_all("note/x.md", text.as_bytes(), Revision("r".into())).unwrap_err();
        let lines: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            lines,
            [
                "note/x.md:3: field `pinned`: expected true or false, found a string",
                "note/x.md:4: field `tags`: expected a list of strings, found a mapping",
                "note/x.md:5: field `expires`: expected a time like 2026-11-25T09:30:00Z or a date like 2026-11-25, found `soon`",
            ]
        );
    }

    #[test]
    fn what_a_file_leaves_out_follows_from_the_file() {
        // No front-matter at all: id from the path, title from the first heading, type
        // from the folder.
        let m = parse_memory(
            "fact/Office Hours.md",
            b"Intro.\n\n# Hours\n",
            Revision("r".into()),
        )
        .unwrap();
        assert_eq!(m.front.id, path_id("fact/Office Hours.md"));
        assert_eq!(
            (m.front.title.as_str(), m.front.kind.as_str()),
            ("Hours", "fact")
        );
        assert_eq!((m.body_line, m.body.as_str()), (1, "Intro.\n\n# Hours\n"));
        assert_eq!(
            m.derived,
            Derived {
                id: true,
                title: true,
                kind: true
            }
        );
        // Title only: the rest derived; at the root, the type is `note`.
        let m = parse_memory("top.md", b"---\ntitle: Top\n---\n", Revision("r".into())).unwrap();
        assert_eq!(
            (m.front.title.as_str(), m.front.kind.as_str()),
            ("Top", "note")
        );
        assert!(m.derived.id && !m.derived.title);
        // Nothing in the body: the file name.
        let m = parse_memory("note/empty-note.md", b"", Revision("r".into())).unwrap();
        assert_eq!(m.front.title, "empty-note");
        // A `---` rule in the body is not YAML.
        let m = parse_memory(
            "a.md",
            b"---\nid: a\n...\n---\nk: v\n",
            Revision("r".into()),
        )
        .unwrap();
        assert!(m.front.extra.is_empty());
        assert_eq!(m.body, "---\nk: v\n");
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused() {
        let bomb = "---\nid: x-1\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n---\n";
        let e = parse(bomb).unwrap_err();
        assert!(e.to_string().contains("aliases"), "{e}");
        let deep = format!(
            "---\nid: x-1\nd: {}{}\n---\n",
            "[".repeat(100),
            "]".repeat(100)
        );
        let e = parse(&deep).unwrap_err();
        assert!(e.to_string().contains("nested"), "{e}");
    }

    #[test]
    fn binary_and_non_utf8_files_are_reported() {
        let e =
            parse_memory("a.md", b"---\nid: a\n---\n\xff\xfe", Revision("r".into())).unwrap_err();
        assert_eq!(e.to_string(), "a.md:4: not UTF-8 text (binary file?)");
        let e = parse_memory("a.md", b"---\nid: a\n---\nx\0y", Revision("r".into())).unwrap_err();
        assert!(matches!(e, ParseError::NotText { line: 4, .. }));
    }
}
