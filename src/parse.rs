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

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use crate::memory::{Derived, FrontMatter, Memory, MemoryId, Revision, Source, Timestamp};

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
            ParseError::TooLarge { .. } | ParseError::InvalidId { .. } => None,
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

/// Returns the id a memory file without an `id:` has: its path without `.md`, as a slug
/// (lower-case ASCII letters and digits, `-` between words, at most 80 characters), then `-`
/// and six hex digits of a hash of the exact path. Readable, and unique in a repository
/// because paths are.
///
/// ```
/// use memdir::parse::path_id;
/// let id = path_id("fact/Coding Style.md");
/// assert!(id.as_str().starts_with("fact-coding-style-"), "{id}");
/// assert_eq!(id.as_str().len(), "fact-coding-style-".len() + 6);
/// assert_ne!(path_id("fact/coding-style.md"), id);
/// ```
pub fn path_id(path: &str) -> MemoryId {
    use std::hash::Hasher as _;
    let stem = path.strip_suffix(".md").unwrap_or(path);
    let slug = slug::slugify(stem.replace('/', " "));
    let mut slug: String = slug.chars().take(80).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("memory");
    }
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(path.as_bytes());
    let hex = format!("{:016x}", hasher.finish());
    MemoryId::parse(&format!("{slug}-{}", &hex[..6])).expect("a slug and hex digits form an id")
}

/// Returns the title of a memory that does not set one: the first heading of its body, else
/// its first line ([`derive_title`]), else its file name without `.md`.
pub fn title_of(body: &str, path: &str) -> String {
    derive_title(body).unwrap_or_else(|| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.strip_suffix(".md").unwrap_or(name).to_owned()
    })
}

/// Returns `text` with `id` written into its front-matter (replacing the `id:` of a copy) and
/// `created` added when it has none: a minimal edit that leaves every other byte as it was,
/// adding a front-matter block to a file without one.
///
/// ```
/// use memdir::{MemoryId, Timestamp};
/// use memdir::parse::stamp;
/// let id = MemoryId::parse("note-style-1a2b3c").unwrap();
/// let t = Timestamp::parse("2026-12-03").unwrap();
/// assert_eq!(
///     stamp("note/style.md", "# Style\n", &id, t).unwrap(),
///     "---\nid: note-style-1a2b3c\ncreated: 2026-12-03T00:00:00Z\n---\n# Style\n"
/// );
/// assert_eq!(
///     stamp("note/style.md", "---\ntitle: Style # mine\n---\nTabs.\n", &id, t).unwrap(),
///     "---\nid: note-style-1a2b3c\ntitle: Style # mine\ncreated: 2026-12-03T00:00:00Z\n---\nTabs.\n"
/// );
/// ```
pub fn stamp(
    path: &str,
    text: &str,
    id: &MemoryId,
    created: Timestamp,
) -> Result<String, ParseError> {
    let Some(layout) = find_layout(path, text)? else {
        return Ok(format!("---\nid: {id}\ncreated: {created}\n---\n{text}"));
    };
    let yaml = &text[layout.yaml.0..layout.yaml.1];
    let has = |key: &str| yaml.lines().any(|l| is_key_line(l, key));
    let mut fields = Vec::new();
    let has_id = has("id");
    if has_id {
        fields.push(("id".to_owned(), FieldValue::Text(id.to_string())));
    }
    if !has("created") {
        fields.push(("created".to_owned(), FieldValue::Text(created.to_string())));
    }
    let mut out = edit(path, text, &Edit { fields, body: None })?;
    if !has_id {
        // The id goes first, where people look for it.
        out.insert_str(layout.yaml.0, &format!("id: {id}\n"));
    }
    Ok(out)
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

/// Scans the YAML as events to report syntax errors with their line, and to refuse aliases and
/// deep nesting before anything is expanded (alias bombs).
fn check_yaml_shape(path: &str, yaml: &str) -> Result<(), ParseError> {
    use yaml_rust2::parser::{Event as Y, Parser as YParser};
    let err = |line: usize, message: String| ParseError::Yaml {
        path: path.into(),
        line: line + 1, // the opening `---` is line 1 of the file
        message,
    };
    let mut parser = YParser::new_from_str(yaml);
    let mut depth = 0usize;
    loop {
        match parser.next_token() {
            Ok((Y::StreamEnd, _)) => return Ok(()),
            Ok((Y::Alias(_), mark)) => {
                return Err(err(
                    mark.line(),
                    "YAML aliases (`*name`) are not allowed in memory front-matter".into(),
                ));
            }
            Ok((Y::SequenceStart(..) | Y::MappingStart(..), mark)) => {
                depth += 1;
                if depth > MAX_YAML_DEPTH {
                    return Err(err(
                        mark.line(),
                        format!("nested more than {MAX_YAML_DEPTH} levels deep"),
                    ));
                }
            }
            Ok((Y::SequenceEnd | Y::MappingEnd, _)) => depth = depth.saturating_sub(1),
            Ok(_) => {}
            // The scanner's own guard against deep flow nesting (`[[[[...`).
            Err(e) if e.info() == "recursion limit exceeded" => {
                return Err(err(
                    e.marker().line(),
                    format!("nested more than {MAX_YAML_DEPTH} levels deep"),
                ));
            }
            Err(e) => return Err(err(e.marker().line(), e.info().to_owned())),
        }
    }
}

/// Reads the YAML of a front-matter block (already checked by [`check_yaml_shape`]) as a
/// mapping. Scalars keep YAML's types (integers, floats, booleans, null); keys that are not
/// strings are read as their text.
fn yaml_map(path: &str, yaml: &str) -> Result<serde_json::Map<String, Value>, ParseError> {
    use yaml_rust2::{Yaml, YamlLoader};
    fn to_json(y: &Yaml) -> Value {
        match y {
            Yaml::Real(r) => r
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Null, Value::Number),
            Yaml::Integer(i) => Value::from(*i),
            Yaml::String(s) => Value::String(s.clone()),
            Yaml::Boolean(b) => Value::Bool(*b),
            Yaml::Array(items) => Value::Array(items.iter().map(to_json).collect()),
            Yaml::Hash(h) => Value::Object(
                h.iter()
                    .filter_map(|(k, v)| Some((key_text(k)?, to_json(v))))
                    .collect(),
            ),
            _ => Value::Null,
        }
    }
    fn key_text(k: &Yaml) -> Option<String> {
        match k {
            Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
            Yaml::Boolean(b) => Some(b.to_string()),
            Yaml::Integer(i) => Some(i.to_string()),
            Yaml::Null => Some("null".into()),
            _ => None,
        }
    }
    check_yaml_shape(path, yaml)?;
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| ParseError::Yaml {
        path: path.into(),
        line: e.marker().line() + 1,
        message: e.info().to_owned(),
    })?;
    match docs.first().map(to_json) {
        Some(Value::Object(map)) => Ok(map),
        None | Some(Value::Null) => Ok(serde_json::Map::new()),
        Some(other) => Err(ParseError::Yaml {
            path: path.into(),
            line: 2,
            message: format!(
                "front-matter must be a mapping of `key: value` lines, found {}",
                kind_of(&other)
            ),
        }),
    }
}

/// Reads the known fields out of `map`, deriving what it leaves out (see [`parse_memory`]).
/// Every invalid field is reported, in the order of its line.
fn front_matter_from_value(
    path: &str,
    yaml: &str,
    mut map: serde_json::Map<String, Value>,
    body: &str,
) -> Result<(FrontMatter, Derived), Vec<ParseError>> {
    let field_line = |field: &str| key_line(yaml, field).map_or(2, |n| n + 2);
    let invalid = |field: &str, message: String| ParseError::InvalidField {
        path: path.into(),
        line: field_line(field),
        field: field.into(),
        message,
    };
    let mut problems: Vec<ParseError> = Vec::new();
    let mut derived = Derived::default();

    let id = match map.remove("id") {
        None | Some(Value::Null) => {
            derived.id = true;
            Some(path_id(path))
        }
        Some(v) => match scalar_string(&v) {
            None => {
                problems.push(invalid("id", expected("a string", &v)));
                None
            }
            Some(text) => MemoryId::parse(&text)
                .map_err(|e| problems.push(invalid("id", e.to_string())))
                .ok(),
        },
    };
    let string_field =
        |map: &mut serde_json::Map<String, Value>, field: &str, problems: &mut Vec<ParseError>| {
            match map.remove(field) {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let s = scalar_string(&v);
                    if s.is_none() {
                        problems.push(invalid(field, expected("a string", &v)));
                    }
                    s
                }
            }
        };
    let time_field = |map: &mut serde_json::Map<String, Value>,
                      field: &str,
                      problems: &mut Vec<ParseError>|
     -> Option<Timestamp> {
        let s = string_field(map, field, problems)?;
        let t = Timestamp::parse(&s);
        if t.is_none() {
            problems.push(invalid(
                field,
                format!("expected a time like 2026-11-25T09:30:00Z or a date like 2026-11-25, found `{s}`"),
            ));
        }
        t
    };

    let title = match string_field(&mut map, "title", &mut problems) {
        Some(t) if !t.trim().is_empty() => t,
        _ => {
            derived.title = true;
            title_of(body, path)
        }
    };
    let kind = string_field(&mut map, "type", &mut problems).unwrap_or_else(|| {
        derived.kind = true;
        match path.split_once('/') {
            Some((folder, _)) => folder.to_owned(),
            None => "note".to_owned(),
        }
    });
    let tags = match map.remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let tags: Option<Vec<String>> = items.iter().map(scalar_string).collect();
            if tags.is_none() {
                let bad = items.iter().find(|v| scalar_string(v).is_none());
                let found = bad.map_or("nothing", kind_of);
                problems.push(invalid(
                    "tags",
                    format!("expected a list of strings, found {found}"),
                ));
            }
            tags.unwrap_or_default()
        }
        Some(v) => match scalar_string(&v) {
            Some(t) => vec![t],
            None => {
                problems.push(invalid("tags", expected("a list of strings", &v)));
                Vec::new()
            }
        },
    };
    let scope = string_field(&mut map, "scope", &mut problems);
    let created = time_field(&mut map, "created", &mut problems);
    let updated = time_field(&mut map, "updated", &mut problems);
    let expires = time_field(&mut map, "expires", &mut problems);
    let pinned = match map.remove("pinned") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(v) => {
            problems.push(invalid("pinned", expected("true or false", &v)));
            false
        }
    };
    let source = match map.remove("source") {
        None | Some(Value::Null) => Source::default(),
        Some(Value::Object(mut s)) => {
            let mut get = |k: &str| match s.remove(k) {
                None | Some(Value::Null) => None,
                Some(v) => {
                    let text = scalar_string(&v);
                    if text.is_none() {
                        problems.push(invalid(
                            "source",
                            format!("`{k}`: {}", expected("a string", &v)),
                        ));
                    }
                    text
                }
            };
            Source {
                session: get("session"),
                agent: get("agent"),
                step: get("step"),
                reference: get("ref"),
            }
        }
        Some(v) => {
            problems.push(invalid(
                "source",
                expected("a mapping with session, agent, step, ref", &v),
            ));
            Source::default()
        }
    };
    let extra: BTreeMap<String, Value> = map.into_iter().collect();
    match id {
        Some(id) if problems.is_empty() => Ok((
            FrontMatter {
                id,
                title,
                kind,
                tags,
                scope,
                created,
                updated,
                pinned,
                expires,
                source,
                extra,
            },
            derived,
        )),
        _ => {
            problems.sort_by_key(|p| p.line());
            Err(problems)
        }
    }
}

fn expected(what: &str, found: &Value) -> String {
    format!("expected {what}, found {}", kind_of(found))
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Returns a title for a text: its first heading, else its first non-empty line without
/// Markdown heading marks, cut at a word boundary near 80 characters.
///
/// ```
/// use memdir::parse::derive_title;
/// assert_eq!(derive_title("Intro.\n\n## Coding style\n- tabs\n").as_deref(), Some("Coding style"));
/// assert_eq!(derive_title("The user lives in Lisbon.").as_deref(), Some("The user lives in Lisbon"));
/// ```
pub fn derive_title(text: &str) -> Option<String> {
    let line = first_heading(text).or_else(|| {
        text.lines()
            .map(|l| l.trim().trim_start_matches('#').trim())
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    })?;
    let line = line.as_str();
    if line.chars().count() <= 80 {
        return Some(line.trim_end_matches('.').to_owned()).filter(|l| !l.is_empty());
    }
    let cut: String = line.chars().take(80).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 20 => cut[..i].to_owned(),
        _ => cut,
    };
    Some(cut.trim_end_matches([',', ';', ':', '.', ' ']).to_owned())
}

/// Returns the text of the first heading of a Markdown text (ATX or setext), if any.
fn first_heading(text: &str) -> Option<String> {
    // Cheap test first: most memories have no heading, and need no Markdown parse.
    if !text.contains('#') && !text.contains("\n=") && !text.contains("\n-") {
        return None;
    }
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap_or_default();
                let h = h.split_whitespace().collect::<Vec<_>>().join(" ");
                if !h.is_empty() {
                    return Some(h);
                }
            }
            _ => {}
        }
    }
    None
}

/// Returns a file-name-safe slug of `title` (lower-case ASCII, `-` between words, at most 48
/// characters), or `memory` when nothing is left.
pub fn slugify(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut: String = slug.chars().take(48).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    if cut.is_empty() {
        "memory".to_owned()
    } else {
        cut
    }
}

/// Renders a new memory file. Field order is fixed; empty optional fields are left out.
pub fn render_new(front: &FrontMatter, body: &str) -> String {
    let mut out = String::from("---\n");
    let _ = writeln!(out, "id: {}", front.id);
    // An empty title is left out: the title then follows the body (see [`parse_memory`]).
    if !front.title.is_empty() {
        let _ = writeln!(out, "title: {}", yaml_scalar(&front.title, false));
    }
    let _ = writeln!(out, "type: {}", yaml_scalar(&front.kind, false));
    let _ = writeln!(out, "tags: {}", flow_list(&front.tags));
    if let Some(scope) = &front.scope {
        let _ = writeln!(out, "scope: {}", yaml_scalar(scope, false));
    }
    for (key, value) in [("created", front.created), ("updated", front.updated)] {
        if let Some(t) = value {
            let _ = writeln!(out, "{key}: {t}");
        }
    }
    if front.pinned {
        out.push_str("pinned: true\n");
    }
    if let Some(t) = front.expires {
        let _ = writeln!(out, "expires: {t}");
    }
    if !front.source.is_empty() {
        out.push_str("source:\n");
        let s = &front.source;
        for (key, value) in [
            ("session", &s.session),
            ("agent", &s.agent),
            ("step", &s.step),
            ("ref", &s.reference),
        ] {
            if let Some(v) = value {
                let _ = writeln!(out, "  {key}: {}", yaml_scalar(v, false));
            }
        }
    }
    for (key, value) in &front.extra {
        // serde_json output is valid YAML flow syntax.
        let _ = writeln!(out, "{key}: {value}");
    }
    out.push_str("---\n");
    if !body.is_empty() {
        out.push('\n');
        out.push_str(body);
        if !body.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

/// A new value for one top-level front-matter key.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    /// A string scalar.
    Text(String),
    /// A list of strings.
    List(Vec<String>),
    /// A boolean.
    Bool(bool),
    /// A value written as indented YAML lines under the key (each line ends with `\n`),
    /// such as a list of maps.
    Block(String),
    /// Remove the key.
    Remove,
}

/// Changes to apply to an existing memory file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Edit {
    /// Top-level keys to set or remove, in order.
    pub fields: Vec<(String, FieldValue)>,
    /// A new body, replacing everything after the front-matter.
    pub body: Option<String>,
}

/// Applies `edit` to the file `text`, changing only the lines of the keys it sets and the body
/// if given. Comments, key order, unknown keys and formatting elsewhere stay byte-for-byte.
///
/// ```
/// use memdir::parse::{edit, Edit, FieldValue};
/// let text = "---\n# mine\nid: a-1\ntitle: Old\ncolor: blue\n---\nBody\n";
/// let e = Edit { fields: vec![("title".into(), FieldValue::Text("New".into()))], body: None };
/// assert_eq!(edit("a.md", text, &e).unwrap(), "---\n# mine\nid: a-1\ntitle: New\ncolor: blue\n---\nBody\n");
/// ```
pub fn edit(path: &str, text: &str, edit: &Edit) -> Result<String, ParseError> {
    let layout = layout(path, text)?;
    let mut yaml: Vec<String> = text[layout.yaml.0..layout.yaml.1]
        .split_inclusive('\n')
        .map(str::to_owned)
        .collect();
    for (key, value) in &edit.fields {
        set_key(&mut yaml, key, value);
    }
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str(&text[..layout.yaml.0]);
    for line in &yaml {
        out.push_str(line);
    }
    out.push_str(&text[layout.yaml.1..layout.body_start]);
    match &edit.body {
        None => out.push_str(&text[layout.body_start..]),
        Some(body) => {
            // Keep the blank line (or not) that separated front-matter and body.
            let old = &text[layout.body_start..];
            if old.starts_with('\n') || (old.is_empty() && !body.is_empty()) {
                out.push('\n');
            }
            out.push_str(body);
            if !body.is_empty() && !body.ends_with('\n') {
                out.push('\n');
            }
        }
    }
    Ok(out)
}

/// Returns the 0-based line index of top-level `key:` in `yaml`.
fn key_line(yaml: &str, key: &str) -> Option<usize> {
    yaml.lines().position(|l| is_key_line(l, key))
}

/// Returns true if `line` is the line of top-level `key:` in a YAML mapping.
pub fn is_key_line(line: &str, key: &str) -> bool {
    line.strip_prefix(key).is_some_and(|rest| {
        rest.starts_with(':') && (rest.len() == 1 || rest[1..].starts_with([' ', '\t', '\n', '\r']))
    })
}

/// Returns the end (exclusive) of the block of lines that belong to the key at `start`.
fn block_end(lines: &[String], start: usize) -> usize {
    let mut end = start + 1;
    let mut i = start + 1;
    while i < lines.len() {
        let l = lines[i].trim_end_matches(['\n', '\r']);
        if l.starts_with([' ', '\t']) || l.starts_with("- ") || l == "-" {
            i += 1;
            end = i;
        } else if l.trim().is_empty() {
            i += 1; // a blank line belongs to the block only if the block goes on after it
        } else {
            break;
        }
    }
    end
}

fn set_key(lines: &mut Vec<String>, key: &str, value: &FieldValue) {
    let found = lines.iter().position(|l| is_key_line(l, key));
    let Some(start) = found else {
        if let Some(rendered) = render_key(key, value, None) {
            if lines.last().is_some_and(|l| !l.ends_with('\n')) {
                lines.last_mut().expect("checked").push('\n');
            }
            lines.push(rendered);
        }
        return;
    };
    let end = block_end(lines, start);
    // Keep the list style of the existing value: block (`- a` lines) or flow (`[a, b]`).
    let block_indent = lines[start + 1..end].iter().find_map(|l| {
        let trimmed = l.trim_start_matches([' ', '\t']);
        trimmed
            .starts_with('-')
            .then(|| l[..l.len() - trimmed.len()].to_owned())
    });
    match render_key(key, value, block_indent.as_deref()) {
        Some(rendered) => {
            lines.splice(start..end, [rendered]);
        }
        None => {
            lines.drain(start..end);
        }
    }
}

fn render_key(key: &str, value: &FieldValue, block_indent: Option<&str>) -> Option<String> {
    Some(match value {
        FieldValue::Remove => return None,
        FieldValue::Text(s) => format!("{key}: {}\n", yaml_scalar(s, false)),
        FieldValue::Bool(b) => format!("{key}: {b}\n"),
        FieldValue::Block(lines) => format!("{key}:\n{lines}"),
        FieldValue::List(items) => match block_indent {
            Some(indent) if !items.is_empty() => {
                let mut out = format!("{key}:\n");
                for item in items {
                    let _ = writeln!(out, "{indent}- {}", yaml_scalar(item, false));
                }
                out
            }
            _ => format!("{key}: {}\n", flow_list(items)),
        },
    })
}

fn flow_list(items: &[String]) -> String {
    let inner: Vec<String> = items.iter().map(|s| yaml_scalar(s, true)).collect();
    format!("[{}]", inner.join(", "))
}

/// Returns `s` as a YAML scalar: plain when that reads back as the same string, else
/// double-quoted (JSON string syntax is valid YAML).
pub fn yaml_scalar(s: &str, in_flow: bool) -> String {
    let looks_plain = !s.is_empty()
        && s.trim() == s
        && !s.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@`".contains(c))
        && !s.ends_with(':')
        && !s.contains(": ")
        && !s.contains(" #")
        && !s.chars().any(|c| c.is_control())
        && !(in_flow && s.contains([',', '[', ']', '{', '}']));
    // Ask the YAML parser itself: a plain scalar must read back as this very string, not as a
    // number (`0x1F`, `.inf`), a boolean (`true`) or null (`~`).
    let reads_back = || {
        let doc = format!("k: {s}");
        matches!(
            yaml_rust2::YamlLoader::load_from_str(&doc).as_deref(),
            Ok([yaml_rust2::Yaml::Hash(h)]) if h.len() == 1
                && h.values().next() == Some(&yaml_rust2::Yaml::String(s.to_owned()))
        )
    };
    // YAML 1.1 readers (PyYAML, many editors) also take these for booleans, numbers or dates.
    let yaml11_special = matches!(
        s.to_ascii_lowercase().as_str(),
        "yes" | "no" | "on" | "off" | "y" | "n"
    ) || (s.starts_with(|c: char| c.is_ascii_digit() || c == '.' || c == '+')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._:-+".contains(c))
        && !s
            .chars()
            .any(|c| c.is_ascii_alphabetic() && !"eExXoObBT".contains(c)));
    if looks_plain && !yaml11_special && reads_back() {
        s.to_owned()
    } else {
        serde_json::to_string(s).expect("strings always serialize")
    }
}

/// A unit of the body that search can point at: a paragraph, a list item, a code block, a
/// quote, a table or a lone heading, with the heading of the section it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The Markdown source of the passage, trimmed.
    pub text: String,
    /// The heading of the enclosing section, if any.
    pub heading: Option<String>,
    /// First line, 1-based, in file coordinates.
    pub line_start: usize,
    /// Last line, inclusive.
    pub line_end: usize,
}

/// Splits a memory body into passages. `body_line` is the file line where the body starts.
///
/// ```
/// let body = "# Editor\n\nUses vim.\n\n- dark theme\n- 4-space tabs\n";
/// let passages = memdir::parse::passages(body, 10);
/// assert_eq!(passages.len(), 3);
/// assert_eq!(passages[1].text, "- dark theme");
/// assert_eq!((passages[1].line_start, passages[1].heading.as_deref()), (14, Some("Editor")));
/// ```
pub fn passages(body: &str, body_line: usize) -> Vec<Passage> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_at = |offset: usize| starts.partition_point(|&s| s <= offset) - 1 + body_line;
    let mut out = Vec::new();
    let mut heading: Option<String> = None;
    let mut pending_heading: Option<Passage> = None;
    let mut depth = 0usize;
    let mut in_list = 0usize;
    let mut heading_text: Option<String> = None;
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let push = |out: &mut Vec<Passage>, range: std::ops::Range<usize>, heading: &Option<String>| {
        let raw = &body[range.clone()];
        let text = raw.trim();
        if text.is_empty() {
            return;
        }
        let lead = raw.len() - raw.trim_start().len();
        let end = range.start + lead + text.len();
        out.push(Passage {
            text: text.to_owned(),
            heading: heading.clone(),
            line_start: line_at(range.start + lead),
            line_end: line_at(end.saturating_sub(1).max(range.start + lead)),
        });
    };
    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let top = depth == 0;
                let list_item = matches!(tag, Tag::Item) && depth == 1 && in_list == 1;
                if matches!(tag, Tag::List(_)) {
                    in_list += 1;
                }
                if matches!(tag, Tag::Heading { .. }) && top {
                    heading_text = Some(String::new());
                } else if (top && !matches!(tag, Tag::List(_))) || list_item {
                    pending_heading = None;
                    push(&mut out, range, &heading);
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if matches!(end, TagEnd::List(_)) {
                    in_list = in_list.saturating_sub(1);
                }
                if matches!(end, TagEnd::Heading(_)) && depth == 0 {
                    if let Some(p) = pending_heading.take() {
                        out.push(p);
                    }
                    let text = heading_text.take().unwrap_or_default();
                    let text = text.trim().to_owned();
                    let mut single = Vec::new();
                    push(&mut single, range, &heading);
                    pending_heading = single.pop();
                    heading = (!text.is_empty()).then_some(text);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading_text.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Rule | Event::Html(_) if depth == 0 => push(&mut out, range, &heading),
            _ => {}
        }
    }
    if let Some(p) = pending_heading {
        out.push(p);
    }
    out.retain(|p| p.text != "---" && p.text != "***");
    out
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

    #[test]
    fn edit_touches_only_the_changed_keys() {
        let text = "---\n# who wrote this\nid: x-1\ntitle: Old  title\ntags:\n  - a\n  - b\nzeta: {keep: me}\n---\n\n*Body*  stays\n";
        let e = Edit {
            fields: vec![
                ("title".into(), FieldValue::Text("New: title".into())),
                (
                    "tags".into(),
                    FieldValue::List(vec!["a".into(), "c".into()]),
                ),
                (
                    "updated".into(),
                    FieldValue::Text("2026-11-25T00:00:00Z".into()),
                ),
            ],
            body: None,
        };
        let out = edit("x.md", text, &e).unwrap();
        assert_eq!(
            out,
            "---\n# who wrote this\nid: x-1\ntitle: \"New: title\"\ntags:\n  - a\n  - c\nzeta: {keep: me}\nupdated: 2026-11-25T00:00:00Z\n---\n\n*Body*  stays\n"
        );
        let reparsed = parse(&out).unwrap();
        assert_eq!(reparsed.front.title, "New: title");
        assert_eq!(reparsed.front.tags, ["a", "c"]);
    }

    #[test]
    fn edit_replaces_the_body_and_keeps_the_separator() {
        let text = "---\nid: x-1\n---\n\nold\n";
        let e = Edit {
            fields: vec![],
            body: Some("new".into()),
        };
        assert_eq!(
            edit("x.md", text, &e).unwrap(),
            "---\nid: x-1\n---\n\nnew\n"
        );
    }

    #[test]
    fn rendered_files_parse_back_to_the_same_fields() {
        let front = FrontMatter {
            id: MemoryId::parse("odd-1").unwrap(),
            title: "yes: [odd] # title".into(),
            kind: "fact".into(),
            tags: vec!["a,b".into(), "true".into(), "2026".into()],
            scope: Some("user:alice".into()),
            created: Timestamp::parse("2026-11-25"),
            updated: None,
            pinned: true,
            expires: None,
            source: Source {
                session: Some("s 1".into()),
                step: Some("3".into()),
                ..Source::default()
            },
            extra: BTreeMap::new(),
        };
        let text = render_new(&front, "hello");
        let m = parse(&text).unwrap();
        assert_eq!(m.front, front);
        assert_eq!(m.body, "\nhello\n");
    }

    #[test]
    fn passages_carry_line_ranges_and_section_headings() {
        let body =
            "intro line\n\n## Tools\n\n- vim\n  - nested\n- git\n\n```\ncode\n```\n\n## Empty\n";
        let p = passages(body, 5);
        let summary: Vec<_> = p
            .iter()
            .map(|p| {
                (
                    p.text.as_str(),
                    p.heading.as_deref(),
                    p.line_start,
                    p.line_end,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("intro line", None, 5, 5),
                ("- vim\n  - nested", Some("Tools"), 9, 10),
                ("- git", Some("Tools"), 11, 11),
                ("```\ncode\n```", Some("Tools"), 13, 15),
                ("## Empty", Some("Tools"), 17, 17),
            ]
        );
    }

    #[test]
    fn a_copy_gets_its_id_replaced_and_keeps_everything_else() {
        let id = MemoryId::parse("note-b-000000").unwrap();
        let t = Timestamp::parse("2026-12-03").unwrap();
        let text = "---\nid: a-1\ncreated: 2026-01-01\ntitle: A\n---\nBody\n";
        assert_eq!(
            stamp("note/b.md", text, &id, t).unwrap(),
            "---\nid: note-b-000000\ncreated: 2026-01-01\ntitle: A\n---\nBody\n"
        );
        // A file closed with YAML's `...` keeps its closing line.
        let text = "---\ntitle: A\n...\nBody\n";
        assert_eq!(
            stamp("note/b.md", text, &id, t).unwrap(),
            "---\nid: note-b-000000\ntitle: A\ncreated: 2026-12-03T00:00:00Z\n...\nBody\n"
        );
    }

    #[test]
    fn slugs_and_titles_are_readable() {
        assert_eq!(slugify("Prefers Dark Mode!"), "prefers-dark-mode");
        assert_eq!(slugify("¿Qué?"), "que");
        assert_eq!(slugify("!!!"), "memory");
        assert_eq!(
            derive_title("\n# Heading here\nrest").as_deref(),
            Some("Heading here")
        );
    }
}
