//! Reading transcript files: JSONL, JSON (turns, sessions) and LoCoMo, with the field
//! aliases of common chat exports, into [`Transcript`] values. Errors name the line (JSONL) or
//! the JSON path.

use serde_json::{Map, Value};

use super::{At, Format, Session, Transcript, TranscriptError, Turn, one_line, parse_time};

const SPEAKER: &[&str] = &["speaker", "role", "author", "name", "from"];
const TEXT: &[&str] = &["text", "content", "message", "body"];
const TIME: &[&str] = &["time", "timestamp", "date", "created_at"];
const ID: &[&str] = &["id", "turn_id", "dia_id"];
const SESSION: &[&str] = &["session", "session_id", "conversation_id", "thread"];
const CAPTION: &[&str] = &["caption", "blip_caption", "image_caption"];
/// Keys of a session's (or a whole file's) date.
const SESSION_DATE: &[&str] = &["date", "date_time", "time", "timestamp", "created_at"];

/// Reads the text of `file` in `format`; see [`Transcript::parse`].
pub(super) fn read(
    file: &str,
    text: &str,
    format: Format,
    default_session: &str,
) -> Result<Transcript, TranscriptError> {
    let reader = Reader { file };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let transcript = match format {
        Format::Jsonl => reader.jsonl(text, default_session)?,
        Format::Lines => reader.lines(text, default_session)?,
        Format::Json | Format::Locomo => {
            let value = reader.json_value(text)?;
            reader.json(&value, format, default_session)?
        }
        Format::Auto => match text.trim_start().chars().next() {
            Some('[') => reader.json(&reader.json_value(text)?, Format::Json, default_session)?,
            Some('{') => match serde_json::from_str::<Value>(text) {
                Ok(v) if is_document(&v) => reader.json(&v, Format::Json, default_session)?,
                Ok(_) => reader.jsonl(text, default_session)?,
                // A first line that is a whole object means one object per line.
                Err(e) => match text.lines().find(|l| !l.trim().is_empty()) {
                    Some(first) if serde_json::from_str::<Map<String, Value>>(first).is_ok() => {
                        reader.jsonl(text, default_session)?
                    }
                    _ => return Err(reader.syntax(&e, false)),
                },
            },
            _ => {
                return Err(TranscriptError::UnknownFormat {
                    file: file.to_owned(),
                });
            }
        },
    };
    if transcript.sessions.is_empty() {
        return Err(TranscriptError::Empty {
            file: file.to_owned(),
        });
    }
    Ok(transcript)
}

/// Returns true if `v` is a JSON transcript document rather than a single turn.
fn is_document(v: &Value) -> bool {
    match v {
        Value::Array(_) => true,
        Value::Object(o) => o.contains_key("turns") || o.contains_key("sessions") || is_locomo(v),
        _ => false,
    }
}

/// Splits `speaker: text`: a speaker is one to three words of letters, digits, `_`, `-`, `.`
/// or `'`, starting with a letter, and the colon ends the line or is followed by a space (so a
/// URL's `https:` is no speaker).
fn speaker_line(line: &str) -> Option<(&str, &str)> {
    let (speaker, rest) = line.split_once(':')?;
    let speaker = speaker.trim();
    let plain = speaker.starts_with(|c: char| c.is_alphabetic())
        && speaker.len() <= 40
        && speaker.split_whitespace().count() <= 3
        && speaker
            .chars()
            .all(|c| c.is_alphanumeric() || " _-.'".contains(c));
    let spaced = rest.is_empty() || rest.starts_with(char::is_whitespace);
    (plain && spaced).then_some((speaker, rest))
}

fn is_locomo(v: &Value) -> bool {
    match v {
        Value::Object(o) => o.contains_key("sample_id") && o.contains_key("conversation"),
        Value::Array(items) => items.first().is_some_and(is_locomo),
        _ => false,
    }
}

/// A turn as read, before it has its final id and session.
struct RawTurn {
    session: Option<String>,
    id: Option<String>,
    turn: Turn,
}

/// Reads one file, naming it in errors.
struct Reader<'a> {
    file: &'a str,
}

impl Reader<'_> {
    fn invalid(&self, at: &At, message: impl Into<String>) -> TranscriptError {
        TranscriptError::Invalid {
            file: self.file.to_owned(),
            at: at.clone(),
            message: message.into(),
        }
    }

    fn syntax(&self, e: &serde_json::Error, jsonl: bool) -> TranscriptError {
        let text = e.to_string();
        let suffix = format!(" at line {} column {}", e.line(), e.column());
        TranscriptError::Syntax {
            file: self.file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: text.strip_suffix(&suffix).unwrap_or(&text).to_owned(),
            jsonl,
        }
    }

    fn json_value(&self, text: &str) -> Result<Value, TranscriptError> {
        serde_json::from_str(text).map_err(|e| self.syntax(&e, false))
    }

    fn jsonl(&self, text: &str, default_session: &str) -> Result<Transcript, TranscriptError> {
        let mut raw = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = At::Line(i + 1, None);
            let value: Value = serde_json::from_str(line).map_err(|e| {
                let mut err = self.syntax(&e, true);
                if let TranscriptError::Syntax { line, .. } = &mut err {
                    *line = i + 1;
                }
                err
            })?;
            if let Some(t) = self.turn(&value, &at)? {
                raw.push(t);
            }
        }
        Ok(self.group(raw, default_session, None, None))
    }

    /// `speaker: text` lines; a line without a speaker continues the turn before it.
    fn lines(&self, text: &str, default_session: &str) -> Result<Transcript, TranscriptError> {
        let mut raw: Vec<RawTurn> = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if let Some((speaker, said)) = speaker_line(line) {
                raw.push(RawTurn {
                    session: None,
                    id: None,
                    turn: Turn {
                        speaker: speaker.to_owned(),
                        text: said.trim().to_owned(),
                        ..Turn::default()
                    },
                });
            } else if let Some(last) = raw.last_mut() {
                last.turn.text.push('\n');
                last.turn.text.push_str(line.trim_end());
            } else if !line.trim().is_empty() {
                return Err(self.invalid(
                    &At::Line(i + 1, None),
                    "expected `speaker: text`, such as `user: I prefer tabs` (a line without a speaker continues the turn before it, so the first one needs a speaker)",
                ));
            }
        }
        for r in &mut raw {
            r.turn.text = r.turn.text.trim().to_owned();
        }
        raw.retain(|r| !r.turn.text.is_empty());
        Ok(self.group(raw, default_session, None, None))
    }

    fn json(
        &self,
        value: &Value,
        format: Format,
        default_session: &str,
    ) -> Result<Transcript, TranscriptError> {
        let root = At::Path("$".into());
        if format == Format::Locomo || is_locomo(value) {
            return self.locomo(value, &root);
        }
        match value {
            Value::Array(items) => {
                let raw = self.turns(items, &root)?;
                Ok(self.group(raw, default_session, None, None))
            }
            Value::Object(o) if o.contains_key("sessions") => self.sessions(o, &root, default_session),
            Value::Object(o) if o.contains_key("turns") => {
                let id = self.string(o, &["id"], &root)?;
                let date = self.string(o, SESSION_DATE, &root)?;
                let items = self.array(o, "turns", &root)?;
                let raw = self.turns(items, &root.field("turns"))?;
                let default = id.as_deref().unwrap_or(default_session);
                Ok(self.group(raw, default, None, date))
            }
            _ => Err(self.invalid(
                &root,
                "expected an array of turns, or an object with `turns`, `sessions` or LoCoMo's `sample_id` and `conversation`",
            )),
        }
    }

    fn turns(&self, items: &[Value], at: &At) -> Result<Vec<RawTurn>, TranscriptError> {
        let mut raw = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if let Some(t) = self.turn(item, &at.index(i))? {
                raw.push(t);
            }
        }
        Ok(raw)
    }

    /// `{"sessions": [{"id"?, "date"?, "turns": [...]}], "id"?}`.
    fn sessions(
        &self,
        o: &Map<String, Value>,
        at: &At,
        default_session: &str,
    ) -> Result<Transcript, TranscriptError> {
        let conversation = self.string(o, &["id"], at)?;
        let stem = conversation.as_deref().unwrap_or(default_session);
        let list_at = at.field("sessions");
        let mut out = Transcript::default();
        for (i, s) in self.array(o, "sessions", at)?.iter().enumerate() {
            let s_at = list_at.index(i);
            let Value::Object(s) = s else {
                return Err(self.invalid(&s_at, "expected a session object with `turns`"));
            };
            let id = self
                .string(s, &["id"], &s_at)?
                .unwrap_or_else(|| format!("{stem}/session_{}", i + 1));
            let date = self.string(s, SESSION_DATE, &s_at)?;
            let raw = self.turns(self.array(s, "turns", &s_at)?, &s_at.field("turns"))?;
            let raw = raw
                .into_iter()
                .map(|r| RawTurn { session: None, ..r })
                .collect();
            let one = self.group(raw, &id, conversation.clone(), date);
            self.extend(&mut out, one, &s_at)?;
        }
        Ok(out)
    }

    /// LoCoMo: an object (or an array of objects) with `sample_id` and `conversation` holding
    /// `speaker_a`, `speaker_b`, `session_N_date_time` and `session_N`. Only the turns are read:
    /// `qa`, `observation` and the summaries are left alone.
    fn locomo(&self, value: &Value, at: &At) -> Result<Transcript, TranscriptError> {
        let samples: Vec<(At, &Value)> = match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| (at.index(i), v))
                .collect(),
            other => vec![(at.clone(), other)],
        };
        let mut out = Transcript::default();
        for (s_at, sample) in samples {
            let Value::Object(sample) = sample else {
                return Err(self.invalid(
                    &s_at,
                    "expected a LoCoMo sample object with `sample_id` and `conversation`",
                ));
            };
            let conv = self.string(sample, &["sample_id"], &s_at)?.ok_or_else(|| {
                self.invalid(
                    &s_at,
                    "missing `sample_id`: a LoCoMo sample names its conversation",
                )
            })?;
            let c_at = s_at.field("conversation");
            let conversation = match sample.get("conversation") {
                Some(Value::Object(c)) => c,
                _ => {
                    return Err(self.invalid(
                        &c_at,
                        "expected an object with `session_1`, `session_1_date_time`, ...",
                    ));
                }
            };
            let mut numbers: Vec<u64> = conversation
                .keys()
                .filter_map(|k| k.strip_prefix("session_")?.parse().ok())
                .collect();
            numbers.sort_unstable();
            for n in numbers {
                let key = format!("session_{n}");
                let t_at = c_at.field(&key);
                let items = match &conversation[&key] {
                    Value::Array(items) => items,
                    Value::Null => continue,
                    _ => return Err(self.invalid(&t_at, "expected a list of turns")),
                };
                let date = self.string(conversation, &[&format!("{key}_date_time")], &c_at)?;
                let raw = self.turns(items, &t_at)?;
                let raw = raw
                    .into_iter()
                    .map(|r| RawTurn { session: None, ..r })
                    .collect();
                let id = format!("{conv}/{key}");
                let one = self.group(raw, &id, Some(conv.clone()), date);
                self.extend(&mut out, one, &t_at)?;
            }
        }
        Ok(out)
    }

    /// Appends `more`'s sessions to `out`, refusing a session id seen before.
    fn extend(
        &self,
        out: &mut Transcript,
        more: Transcript,
        at: &At,
    ) -> Result<(), TranscriptError> {
        for s in more.sessions {
            if out.sessions.iter().any(|o| o.id == s.id) {
                return Err(self.invalid(
                    at,
                    format!(
                        "session `{}` appears twice: give each session its own `id`",
                        s.id
                    ),
                ));
            }
            out.sessions.push(s);
        }
        Ok(())
    }

    /// Groups turns into sessions by their session field, in order of first appearance;
    /// turns without one go in `default`. Gives turns without an id `t1`, `t2`...
    fn group(
        &self,
        raw: Vec<RawTurn>,
        default: &str,
        conversation: Option<String>,
        date: Option<String>,
    ) -> Transcript {
        let mut sessions: Vec<Session> = Vec::new();
        for r in raw {
            let name = r.session.unwrap_or_else(|| default.to_owned());
            let index = match sessions.iter().position(|s| s.id == name) {
                Some(i) => i,
                None => {
                    sessions.push(Session {
                        id: name,
                        conversation: conversation.clone(),
                        ..Session::default()
                    });
                    sessions.len() - 1
                }
            };
            let session = &mut sessions[index];
            let mut turn = r.turn;
            turn.id =
                r.id.unwrap_or_else(|| format!("t{}", session.turns.len() + 1));
            session.turns.push(turn);
        }
        for s in &mut sessions {
            s.date_text = date
                .clone()
                .or_else(|| s.turns.iter().find_map(|t| t.time.clone()));
            s.time = s.date_text.as_deref().and_then(parse_time);
        }
        Transcript { sessions }
    }

    /// Reads one turn object; `None` when it has neither text nor caption.
    fn turn(&self, value: &Value, at: &At) -> Result<Option<RawTurn>, TranscriptError> {
        let Value::Object(o) = value else {
            return Err(self.invalid(
                at,
                "expected a turn object such as {\"speaker\": \"Alice\", \"text\": \"Hi\"}",
            ));
        };
        let text = self.content(o, at)?.unwrap_or_default();
        let caption = self
            .string(o, CAPTION, at)?
            .map(|c| one_line(&c))
            .filter(|c| !c.is_empty());
        if text.trim().is_empty() && caption.is_none() {
            return Ok(None);
        }
        let speaker = self.speaker(o, at)?.ok_or_else(|| {
            self.invalid(
                at,
                format!(
                    "the turn has no speaker: add one of the fields {}",
                    list(SPEAKER)
                ),
            )
        })?;
        let id = match self.string(o, ID, at)? {
            Some(id) => {
                let id = id.trim().to_owned();
                let bad = id.is_empty()
                    || id
                        .chars()
                        .any(|c| c.is_whitespace() || c.is_control() || "[]".contains(c));
                if bad {
                    let key = ID.iter().find(|k| o.contains_key(**k)).unwrap_or(&"id");
                    return Err(self.invalid(
                        &at.field(key),
                        format!("turn id {id:?} cannot be used: a turn id is one word without spaces or brackets"),
                    ));
                }
                Some(id)
            }
            None => None,
        };
        let session = self
            .string(o, SESSION, at)?
            .map(|s| one_line(&s))
            .filter(|s| !s.is_empty());
        Ok(Some(RawTurn {
            session,
            id,
            turn: Turn {
                id: String::new(),
                speaker,
                text,
                time: self.string(o, TIME, at)?,
                caption,
            },
        }))
    }

    /// The first of `keys` present and not null, as a string (numbers are written out).
    fn string(
        &self,
        o: &Map<String, Value>,
        keys: &[&str],
        at: &At,
    ) -> Result<Option<String>, TranscriptError> {
        let Some((key, v)) = first(o, keys) else {
            return Ok(None);
        };
        match v {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            other => Err(self.invalid(
                &at.field(key),
                format!("expected a string, found {}", kind_of(other)),
            )),
        }
    }

    fn speaker(&self, o: &Map<String, Value>, at: &At) -> Result<Option<String>, TranscriptError> {
        let Some((key, v)) = first(o, SPEAKER) else {
            return Ok(None);
        };
        // OpenAI exports write the author as {"role": "user", "name": ...}.
        let text = match v {
            Value::String(s) => Some(s.clone()),
            Value::Object(a) => self.string(a, &["name", "role"], &at.field(key))?,
            _ => None,
        };
        match text.map(|s| one_line(&s)) {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            _ => Err(self.invalid(
                &at.field(key),
                format!("expected the speaker's name, found {}", kind_of(v)),
            )),
        }
    }

    /// The text: a string, or an array of parts (strings or `{"type": "text", "text": ...}`)
    /// whose texts are joined with line breaks.
    fn content(&self, o: &Map<String, Value>, at: &At) -> Result<Option<String>, TranscriptError> {
        let Some((key, v)) = first(o, TEXT) else {
            return Ok(None);
        };
        let at = at.field(key);
        match v {
            Value::String(s) => Ok(Some(s.clone())),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Array(parts) => {
                let mut texts = Vec::new();
                for (i, part) in parts.iter().enumerate() {
                    match part {
                        Value::String(s) => texts.push(s.clone()),
                        Value::Object(p) => {
                            let is_text = p.get("type").is_none_or(|t| t == "text");
                            if is_text && let Some(t) = self.string(p, &["text"], &at.index(i))? {
                                texts.push(t);
                            }
                        }
                        Value::Null => {}
                        other => {
                            return Err(self.invalid(
                                &at.index(i),
                                format!("expected a text part, found {}", kind_of(other)),
                            ));
                        }
                    }
                }
                Ok(Some(texts.join("\n")))
            }
            other => Err(self.invalid(
                &at,
                format!(
                    "expected a string or a list of {{\"type\": \"text\", \"text\": ...}} parts, found {}",
                    kind_of(other)
                ),
            )),
        }
    }

    fn array<'v>(
        &self,
        o: &'v Map<String, Value>,
        key: &str,
        at: &At,
    ) -> Result<&'v [Value], TranscriptError> {
        match o.get(key) {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.invalid(
                &at.field(key),
                format!("expected a list, found {}", kind_of(other)),
            )),
            None => Err(self.invalid(at, format!("missing `{key}`: add the list of {key}"))),
        }
    }
}

fn first<'v, 'k>(o: &'v Map<String, Value>, keys: &[&'k str]) -> Option<(&'k str, &'v Value)> {
    keys.iter()
        .find_map(|k| o.get(*k).filter(|v| !v.is_null()).map(|v| (*k, v)))
}

fn list(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "nothing",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use crate::transcript::{Format, Transcript, TranscriptError};

    fn parse(text: &str) -> Result<Transcript, TranscriptError> {
        Transcript::parse("chat.jsonl", text, Format::Auto, "chat")
    }

    fn err(text: &str, format: Format) -> String {
        Transcript::parse("in.json", text, format, "in")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn jsonl_turns_group_into_sessions_in_order_of_first_appearance() {
        let t = parse(concat!(
            r#"{"speaker": "Alice", "text": "Hi", "session": "b", "time": "2024-03-01"}"#,
            "\n\n",
            r#"{"speaker": "Bob", "text": "No session", "id": "x9"}"#,
            "\n",
            r#"{"speaker": "Bob", "text": "Hello", "session": "b"}"#,
            "\n",
        ))
        .unwrap();
        let ids: Vec<&str> = t.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["b", "chat"]);
        let b = &t.sessions[0];
        assert_eq!(b.turns.len(), 2);
        assert_eq!(
            (b.turns[0].id.as_str(), b.turns[1].id.as_str()),
            ("t1", "t2")
        );
        assert_eq!(b.date_text.as_deref(), Some("2024-03-01"));
        assert_eq!(b.time.unwrap().to_string(), "2024-03-01T00:00:00Z");
        assert_eq!(t.sessions[1].turns[0].id, "x9");
        assert_eq!(t.sessions[1].time, None);
        assert_eq!(t.turn_count(), 3);
    }

    #[test]
    fn every_alias_is_read() {
        let t = parse(concat!(
            r#"{"role": "user", "content": "a", "timestamp": "2024-01-02T03:04:05Z", "turn_id": "u1", "session_id": "s", "image_caption": "a cat"}"#,
            "\n",
            r#"{"author": "Ann", "message": "b", "date": "2024-01-03", "dia_id": "D1:2", "conversation_id": "s", "blip_caption": "a dog"}"#,
            "\n",
            r#"{"name": "Nat", "body": "c", "created_at": 1700000000, "id": 7, "thread": "s", "caption": "x"}"#,
            "\n",
            r#"{"from": "Fay", "text": "d", "session": "s"}"#,
        ))
        .unwrap();
        assert_eq!(t.sessions.len(), 1);
        let turns = &t.sessions[0].turns;
        let got: Vec<_> = turns
            .iter()
            .map(|t| {
                (
                    t.id.as_str(),
                    t.speaker.as_str(),
                    t.text.as_str(),
                    t.time.as_deref(),
                    t.caption.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "u1",
                    "user",
                    "a",
                    Some("2024-01-02T03:04:05Z"),
                    Some("a cat")
                ),
                ("D1:2", "Ann", "b", Some("2024-01-03"), Some("a dog")),
                ("7", "Nat", "c", Some("1700000000"), Some("x")),
                ("t4", "Fay", "d", None, None),
            ]
        );
        assert_eq!(
            t.sessions[0].date_text.as_deref(),
            Some("2024-01-02T03:04:05Z")
        );
    }

    #[test]
    fn openai_content_parts_are_joined_and_author_objects_read() {
        let t = parse(
            r#"{"author": {"role": "assistant"}, "content": [{"type": "text", "text": "one"}, {"type": "image_url", "image_url": "x"}, {"type": "text", "text": "two"}]}"#,
        )
        .unwrap();
        let turn = &t.sessions[0].turns[0];
        assert_eq!(
            (turn.speaker.as_str(), turn.text.as_str()),
            ("assistant", "one\ntwo")
        );
    }

    #[test]
    fn empty_turns_are_skipped_and_do_not_use_up_ids() {
        let t = parse(concat!(
            r#"{"role": "user", "content": "  "}"#,
            "\n",
            r#"{"role": "tool"}"#,
            "\n",
            r#"{"role": "user", "content": "", "caption": "a chart"}"#,
            "\n",
            r#"{"role": "user", "content": "real"}"#,
        ))
        .unwrap();
        let turns = &t.sessions[0].turns;
        assert_eq!(turns.len(), 2);
        assert_eq!((turns[0].id.as_str(), turns[1].id.as_str()), ("t1", "t2"));
        assert_eq!(
            t.sessions[0].render_body(),
            "- [t1] **user:** (shared an image: a chart)\n- [t2] **user:** real\n"
        );
        assert_eq!(
            parse(r#"{"role": "user", "content": ""}"#)
                .unwrap_err()
                .to_string(),
            "chat.jsonl: no turns found: each turn needs a speaker (`speaker`, `role`, ...) and a text (`text`, `content`, ...)"
        );
    }

    #[test]
    fn json_array_of_turns_and_turns_object() {
        let array = Transcript::parse(
            "a.json",
            r#"[{"speaker": "A", "text": "x"}, {"speaker": "B", "text": "y", "session": "other"}]"#,
            Format::Auto,
            "a",
        )
        .unwrap();
        let ids: Vec<&str> = array.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["a", "other"]);

        let object = Transcript::parse(
            "a.json",
            r#"{"id": "standup", "date": "2024-05-06", "turns": [{"speaker": "A", "text": "x", "time": "2020-01-01"}]}"#,
            Format::Json,
            "a",
        )
        .unwrap();
        let s = &object.sessions[0];
        assert_eq!(s.id, "standup");
        assert_eq!(s.date_text.as_deref(), Some("2024-05-06"));
        assert_eq!(s.conversation, None);
    }

    #[test]
    fn json_sessions_object() {
        let t = Transcript::parse(
            "c.json",
            r#"{"id": "conv-1", "sessions": [
                {"id": "morning", "date": "1:05 am on 2 Jan, 2024", "turns": [{"speaker": "A", "text": "x"}]},
                {"turns": [{"speaker": "B", "text": "y", "time": "next week"}]},
                {"turns": []}
            ]}"#,
            Format::Auto,
            "c",
        )
        .unwrap();
        assert_eq!(t.sessions.len(), 2, "a session without turns is left out");
        let (a, b) = (&t.sessions[0], &t.sessions[1]);
        assert_eq!(
            (a.id.as_str(), b.id.as_str()),
            ("morning", "conv-1/session_2")
        );
        assert_eq!(a.conversation.as_deref(), Some("conv-1"));
        assert_eq!(a.time.unwrap().to_string(), "2024-01-02T01:05:00Z");
        assert_eq!(b.date_text.as_deref(), Some("next week"));
        assert_eq!(b.time, None, "unreadable dates are kept as text only");
    }

    const LOCOMO: &str = r#"[{
        "sample_id": "conv-26",
        "qa": [{"question": "Q?", "answer": "A", "evidence": ["D1:1"], "category": 1}],
        "observation": {"session_1_observation": {"Caroline": [["obs", "D1:1"]]}},
        "session_summary": {"session_1_summary": "summary"},
        "event_summary": {"events_session_1": {"Caroline": ["event"]}},
        "conversation": {
            "speaker_a": "Caroline",
            "speaker_b": "Melanie",
            "session_10_date_time": "8:56 pm on 20 July, 2023",
            "session_10": [{"speaker": "Melanie", "dia_id": "D10:1", "text": "Later."}],
            "session_2_date_time": "12:09 am on 25 May, 2023",
            "session_2": [{"speaker": "Caroline", "dia_id": "D2:1", "text": "Hey!", "blip_caption": "a photo of a dog", "img_url": ["x"], "query": "dog"}],
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Caroline", "dia_id": "D1:1", "text": "Hey Mel!"},
                {"speaker": "Melanie", "dia_id": "D1:2", "text": "Hi Caroline."}
            ]
        }
    }]"#;

    #[test]
    fn locomo_sessions_in_numeric_order_with_dates_and_only_the_turns() {
        let t = Transcript::parse("locomo10.json", LOCOMO, Format::Auto, "x").unwrap();
        let ids: Vec<&str> = t.sessions.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "conv-26/session_1",
                "conv-26/session_2",
                "conv-26/session_10"
            ]
        );
        let s1 = &t.sessions[0];
        assert_eq!(s1.conversation.as_deref(), Some("conv-26"));
        assert_eq!(s1.date_text.as_deref(), Some("1:56 pm on 8 May, 2023"));
        assert_eq!(s1.time.unwrap().to_string(), "2023-05-08T13:56:00Z");
        assert_eq!(
            t.sessions[1].time.unwrap().to_string(),
            "2023-05-25T00:09:00Z"
        );
        assert_eq!(s1.speakers(), ["Caroline", "Melanie"]);
        assert_eq!(
            s1.render_body(),
            "- [D1:1] **Caroline:** Hey Mel!\n- [D1:2] **Melanie:** Hi Caroline.\n"
        );
        assert_eq!(
            t.sessions[1].render_body(),
            "- [D2:1] **Caroline:** Hey! (shared an image: a photo of a dog)\n"
        );
        let all = format!("{t:?}");
        for never in ["Q?", "obs", "summary", "event"] {
            assert!(!all.contains(never), "{never} was imported");
        }
        // The same object on its own, and with the format forced.
        let one = LOCOMO.trim().trim_start_matches('[').trim_end_matches(']');
        assert_eq!(
            Transcript::parse("l.json", one, Format::Locomo, "x").unwrap(),
            t
        );
    }

    #[test]
    fn the_format_can_be_forced() {
        // One object on one line: auto reads it as a one-turn JSONL file.
        let line = r#"{"speaker": "A", "text": "x"}"#;
        assert_eq!(parse(line).unwrap().turn_count(), 1);
        assert_eq!(
            Transcript::parse("a", line, Format::Jsonl, "a")
                .unwrap()
                .turn_count(),
            1
        );
        assert_eq!(
            err(line, Format::Json),
            "in.json: $: expected an array of turns, or an object with `turns`, `sessions` or LoCoMo's `sample_id` and `conversation`"
        );
        assert_eq!(
            err(r#"[{"speaker": "A", "text": "x"}]"#, Format::Locomo),
            "in.json: $[0]: missing `sample_id`: a LoCoMo sample names its conversation"
        );
        assert_eq!("JSONL".parse::<Format>(), Ok(Format::Jsonl));
        assert!(
            "yaml"
                .parse::<Format>()
                .unwrap_err()
                .contains("auto, json, jsonl, locomo, lines")
        );
    }

    #[test]
    fn speaker_lines_are_turns_and_other_lines_continue_them() {
        let text = "user: Remember that deploys need a green canary.\n\
                    See https://ci.example.com for the canary.\n\
                    \n\
                    assistant: Noted.\n\
                    Dr. Ann Lee: I prefer tabs.\n\
                    user:\n  indented reply\n";
        let t = Transcript::parse("chat.txt", text, Format::Lines, "chat").unwrap();
        let turns: Vec<(&str, &str, &str)> = t.sessions[0]
            .turns
            .iter()
            .map(|t| (t.id.as_str(), t.speaker.as_str(), t.text.as_str()))
            .collect();
        assert_eq!(
            turns,
            [
                (
                    "t1",
                    "user",
                    "Remember that deploys need a green canary.\nSee https://ci.example.com for the canary."
                ),
                ("t2", "assistant", "Noted."),
                ("t3", "Dr. Ann Lee", "I prefer tabs."),
                ("t4", "user", "indented reply"),
            ]
        );
        assert_eq!(
            err("\nno speaker here\nuser: hi", Format::Lines),
            "in.json:2: expected `speaker: text`, such as `user: I prefer tabs` (a line without a speaker continues the turn before it, so the first one needs a speaker)"
        );
        assert_eq!(
            err("user:\n\n", Format::Lines),
            "in.json: no turns found: each turn needs a speaker (`speaker`, `role`, ...) and a text (`text`, `content`, ...)"
        );
    }

    #[test]
    fn malformed_jsonl_names_the_line() {
        let text = "{\"speaker\": \"A\", \"text\": \"x\"}\n{\"speaker\": \"B\", \"text\": \n";
        assert_eq!(
            err(text, Format::Auto),
            "in.json:2:25: invalid JSON: EOF while parsing a value; each line of a JSONL transcript is one complete JSON object"
        );
        let text = "{\"speaker\": \"A\", \"text\": \"x\"}\n[1]\n";
        assert_eq!(
            err(text, Format::Jsonl),
            "in.json:2: expected a turn object such as {\"speaker\": \"Alice\", \"text\": \"Hi\"}"
        );
        let text = "{\"speaker\": \"A\", \"text\": \"x\"}\n\n{\"text\": \"who?\"}\n";
        assert_eq!(
            err(text, Format::Auto),
            "in.json:3: the turn has no speaker: add one of the fields `speaker`, `role`, `author`, `name`, `from`"
        );
        let text = "{\"speaker\": \"A\", \"text\": {\"a\": 1}}";
        assert_eq!(
            err(text, Format::Jsonl),
            "in.json:1: field `text`: expected a string or a list of {\"type\": \"text\", \"text\": ...} parts, found an object"
        );
        let text = "{\"speaker\": \"A\", \"text\": \"x\", \"dia_id\": \"D 1\"}";
        assert_eq!(
            err(text, Format::Jsonl),
            "in.json:1: field `dia_id`: turn id \"D 1\" cannot be used: a turn id is one word without spaces or brackets"
        );
    }

    #[test]
    fn malformed_json_names_the_path() {
        assert_eq!(
            err(
                "[{\"speaker\": \"A\",\n \"text\": \"x\"},\n oops]",
                Format::Auto
            ),
            "in.json:3:2: invalid JSON: expected value; fix the JSON (or, for one object per line, read it as JSONL)"
        );
        assert_eq!(
            err(
                r#"{"sessions": [{"turns": [{"speaker": "A", "text": "x"}, {"speaker": 3, "text": "y"}]}]}"#,
                Format::Auto
            ),
            "in.json: $.sessions[0].turns[1].speaker: expected the speaker's name, found a number"
        );
        assert_eq!(
            err(r#"{"sessions": [{"id": "a"}]}"#, Format::Auto),
            "in.json: $.sessions[0]: missing `turns`: add the list of turns"
        );
        assert_eq!(
            err(r#"{"sessions": {"id": "a"}}"#, Format::Auto),
            "in.json: $.sessions: expected a list, found an object"
        );
        assert_eq!(
            err(
                r#"{"sessions": [{"id": "a", "turns": [{"speaker": "A", "text": "x"}]}, {"id": "a", "turns": [{"speaker": "A", "text": "y"}]}]}"#,
                Format::Auto
            ),
            "in.json: $.sessions[1]: session `a` appears twice: give each session its own `id`"
        );
        assert_eq!(
            err(
                r#"[{"sample_id": "c", "conversation": {"session_1": {"x": 1}}}]"#,
                Format::Auto
            ),
            "in.json: $[0].conversation.session_1: expected a list of turns"
        );
        assert_eq!(
            err(
                r#"{"turns": [{"speaker": "A", "text": "x", "time": [1]}]}"#,
                Format::Auto
            ),
            "in.json: $.turns[0].time: expected a string, found a list"
        );
        assert_eq!(
            err("speaker: A\ntext: x\n", Format::Auto),
            "in.json: not a transcript: expected JSONL (one JSON object per line, such as {\"speaker\": \"Alice\", \"text\": \"Hi\"}) or JSON (an array of turns, or an object with `turns`, `sessions` or LoCoMo's `conversation`)"
        );
        assert!(err("", Format::Auto).contains("not a transcript"));
        assert!(err("", Format::Jsonl).contains("no turns found"));
    }
}
