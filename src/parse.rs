//! Memory files <-> [`Memory`] values: front-matter (gray_matter over YAML), Markdown passages
//! (pulldown-cmark), and surgical front-matter edits that leave everything else byte-for-byte.
//!
//! No I/O happens here: callers hand in the bytes of a file and get text back. Memdir never
//! re-serializes a whole front-matter block of an existing file; [`edit`] replaces only the lines
//! of the keys it changes, so comments, key order, unknown keys and body formatting survive.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use gray_matter::Matter;
use gray_matter::engine::YAML;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde_json::Value;

use crate::memory::{FrontMatter, Memory, MemoryId, Revision, Source, Timestamp};

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

/// Finds the front-matter block of `text`.
pub fn layout(path: &str, text: &str) -> Result<Layout, ParseError> {
    let mut lines = line_spans(text);
    let Some((s, e)) = lines.next() else {
        return Err(ParseError::NoFrontMatter { path: path.into() });
    };
    if text[s..e].trim_end() != "---" {
        return Err(ParseError::NoFrontMatter { path: path.into() });
    }
    let yaml_start = e;
    for (n, (s, e)) in lines.enumerate() {
        let line = text[s..e].trim_end();
        if line == "---" || line == "..." {
            return Ok(Layout {
                yaml: (yaml_start, s),
                body_start: e,
                body_line: n + 3,
            });
        }
    }
    Err(ParseError::Unclosed { path: path.into() })
}

/// Parses a memory file.
///
/// `revision` is the content hash of `bytes`, computed by the caller (see
/// `Store::revision_of`), so that this module stays free of git.
///
/// ```
/// use memdir::{parse, Revision};
/// let text = "---\nid: tea-1a2b3c\ntitle: Likes tea\ntype: preference\n---\nGreen, no sugar.\n";
/// let memory = parse::parse_memory("preference/tea.md", text.as_bytes(), Revision("0".into())).unwrap();
/// assert_eq!(memory.front.title, "Likes tea");
/// assert_eq!(memory.body, "Green, no sugar.\n");
/// assert_eq!(memory.body_line, 6);
/// ```
pub fn parse_memory(path: &str, bytes: &[u8], revision: Revision) -> Result<Memory, ParseError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ParseError::TooLarge {
            path: path.into(),
            size: bytes.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ParseError::NotText {
        path: path.into(),
        line: line_of(bytes, e.valid_up_to()),
    })?;
    if let Some(at) = text.find('\0') {
        return Err(ParseError::NotText {
            path: path.into(),
            line: line_of(bytes, at),
        });
    }
    let layout = layout(path, text)?;
    let yaml = &text[layout.yaml.0..layout.yaml.1];
    check_yaml_shape(path, yaml)?;
    let data = front_matter_value(path, text)?;
    let front = front_matter_from_value(path, yaml, data, &text[layout.body_start..])?;
    Ok(Memory {
        front,
        body: text[layout.body_start..].to_owned(),
        path: path.to_owned(),
        revision,
        body_line: layout.body_line,
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

fn front_matter_value(
    path: &str,
    text: &str,
) -> Result<serde_json::Map<String, Value>, ParseError> {
    let matter = Matter::<YAML>::new();
    let parsed = matter.parse::<Value>(text).map_err(|e| ParseError::Yaml {
        path: path.into(),
        line: 2,
        message: e.to_string(),
    })?;
    match parsed.data {
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

fn front_matter_from_value(
    path: &str,
    yaml: &str,
    mut map: serde_json::Map<String, Value>,
    body: &str,
) -> Result<FrontMatter, ParseError> {
    let field_line = |field: &str| key_line(yaml, field).map_or(2, |n| n + 2);
    let invalid = |field: &str, message: String| ParseError::InvalidField {
        path: path.into(),
        line: field_line(field),
        field: field.into(),
        message,
    };

    let id = match map.remove("id") {
        None | Some(Value::Null) => {
            return Err(ParseError::MissingField {
                path: path.into(),
                line: 2,
                field: "id",
            });
        }
        Some(v) => {
            let text = scalar_string(&v).ok_or_else(|| invalid("id", expected("a string", &v)))?;
            MemoryId::parse(&text).map_err(|e| invalid("id", e.to_string()))?
        }
    };
    let string_field =
        |map: &mut serde_json::Map<String, Value>, field: &str| match map.remove(field) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => scalar_string(&v)
                .map(Some)
                .ok_or_else(|| invalid(field, expected("a string", &v))),
        };
    let time_field = |map: &mut serde_json::Map<String, Value>,
                      field: &str|
     -> Result<Option<Timestamp>, ParseError> {
        match string_field(map, field)? {
            None => Ok(None),
            Some(s) => Timestamp::parse(&s).map(Some).ok_or_else(|| {
                invalid(field, format!("expected a time like 2026-11-25T09:30:00Z or a date like 2026-11-25, found `{s}`"))
            }),
        }
    };

    let title = string_field(&mut map, "title")?
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| derive_title(body).unwrap_or_else(|| id.to_string()));
    let kind = string_field(&mut map, "type")?.unwrap_or_else(|| "note".to_owned());
    let tags = match map.remove("tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                scalar_string(v).ok_or_else(|| invalid("tags", expected("a list of strings", v)))
            })
            .collect::<Result<_, _>>()?,
        Some(v) => vec![
            scalar_string(&v).ok_or_else(|| invalid("tags", expected("a list of strings", &v)))?,
        ],
    };
    let scope = string_field(&mut map, "scope")?;
    let created = time_field(&mut map, "created")?;
    let updated = time_field(&mut map, "updated")?;
    let expires = time_field(&mut map, "expires")?;
    let pinned = match map.remove("pinned") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => b,
        Some(v) => return Err(invalid("pinned", expected("true or false", &v))),
    };
    let source = match map.remove("source") {
        None | Some(Value::Null) => Source::default(),
        Some(Value::Object(mut s)) => {
            let mut get = |k: &str| match s.remove(k) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => scalar_string(&v).map(Some).ok_or_else(|| {
                    invalid("source", format!("`{k}`: {}", expected("a string", &v)))
                }),
            };
            Source {
                session: get("session")?,
                agent: get("agent")?,
                step: get("step")?,
                reference: get("ref")?,
            }
        }
        Some(v) => {
            return Err(invalid(
                "source",
                expected("a mapping with session, agent, step, ref", &v),
            ));
        }
    };
    let extra: BTreeMap<String, Value> = map.into_iter().collect();
    Ok(FrontMatter {
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
    })
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

/// Returns a title for a text: its first non-empty line without Markdown heading marks, cut at
/// a word boundary near 80 characters.
pub fn derive_title(text: &str) -> Option<String> {
    let line = text
        .lines()
        .map(|l| l.trim().trim_start_matches('#').trim())
        .find(|l| !l.is_empty())?;
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
    let _ = writeln!(out, "title: {}", yaml_scalar(&front.title, false));
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

fn is_key_line(line: &str, key: &str) -> bool {
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
        let e = parse("---\ntitle: no id\n---\n").unwrap_err();
        assert_eq!(e.to_string(), "note/x.md:2: missing field `id`");
        let e = parse("---\nid: x-1\ntitle: [unclosed\n---\n").unwrap_err();
        assert!(matches!(e, ParseError::Yaml { .. }), "{e}");
        let e = parse("no front matter\n").unwrap_err();
        assert!(matches!(e, ParseError::NoFrontMatter { .. }));
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
