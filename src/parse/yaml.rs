//! Reading front-matter: YAML scanned as events first (syntax errors with their line; aliases
//! and deep nesting refused before anything expands), then read once with yaml-rust2 and
//! checked field by field, each error naming file, line and field.

use std::collections::BTreeMap;

use serde_json::Value;

use super::derive::{path_id, title_of};
use super::edit::key_line;
use super::{MAX_YAML_DEPTH, ParseError};
use crate::memory::{Derived, FrontMatter, MemoryId, Source, Timestamp};

/// Scans the YAML as events to report syntax errors with their line, and to refuse aliases and
/// deep nesting before anything is expanded (alias bombs).
pub(super) fn check_yaml_shape(path: &str, yaml: &str) -> Result<(), ParseError> {
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
pub(super) fn yaml_map(
    path: &str,
    yaml: &str,
) -> Result<serde_json::Map<String, Value>, ParseError> {
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
pub(super) fn front_matter_from_value(
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
