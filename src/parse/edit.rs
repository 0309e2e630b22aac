//! Writing memory files: a new file in a fixed key order, and minimal edits of existing ones
//! that replace only the lines of the keys they set (comments, key order, unknown keys and the
//! body stay byte-for-byte), of which stamping an id is one.

use std::fmt::Write as _;

use super::{ParseError, find_layout, layout};
use crate::memory::{FrontMatter, MemoryId, Timestamp};

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
pub(super) fn key_line(yaml: &str, key: &str) -> Option<usize> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    use crate::memory::{Memory, Revision, Source};
    use crate::parse::parse_memory;

    fn parse(text: &str) -> Result<Memory, ParseError> {
        parse_memory("note/x.md", text.as_bytes(), Revision("r".into()))
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
}
