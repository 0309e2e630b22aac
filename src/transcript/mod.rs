//! Conversation transcripts: JSONL, JSON and LoCoMo files -> [`Transcript`] values, and each
//! session -> the Markdown body of one memory.
//!
//! No I/O happens here: callers hand in the text of a file and its name (for messages).
//! Writing the sessions as memories is [`Memdir::import`](crate::Memdir::import)'s job.
//!
//! A session renders as one top-level list item per turn, `- [ID] **Speaker:** text`, with
//! continuation lines indented so that each turn is exactly one passage of
//! [`parse::passages`](crate::parse::passages): a search hit's `line_start` then names one
//! turn, and [`turn_id`] reads that turn's id back from the line.
//!
//! This file holds the types, dates and rendering; `read.rs` reads the file formats.

use std::fmt;
use std::str::FromStr;

use time::OffsetDateTime;

use crate::memory::Timestamp;

mod read;

/// Why a transcript could not be read. Each message names the file, the line (JSONL) or the
/// JSON path, and what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranscriptError {
    /// The text is not valid JSON (or, in JSONL, one of its lines is not).
    #[error("{file}:{line}:{column}: invalid JSON: {message}{}", syntax_hint(*jsonl))]
    Syntax {
        /// The file, as the caller named it.
        file: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
        /// Whether the file was read as JSONL.
        jsonl: bool,
    },
    /// A value is not what a transcript holds there.
    #[error("{file}{at}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in the file.
        at: At,
        /// What is wrong and what to do.
        message: String,
    },
    /// The text looks neither like JSON nor like JSONL.
    #[error(
        "{file}: not a transcript: expected JSONL (one JSON object per line, such as {{\"speaker\": \"Alice\", \"text\": \"Hi\"}}) or JSON (an array of turns, or an object with `turns`, `sessions` or LoCoMo's `conversation`)"
    )]
    UnknownFormat {
        /// The file.
        file: String,
    },
    /// The file holds no turn with any text.
    #[error(
        "{file}: no turns found: each turn needs a speaker (`speaker`, `role`, ...) and a text (`text`, `content`, ...)"
    )]
    Empty {
        /// The file.
        file: String,
    },
}

fn syntax_hint(jsonl: bool) -> &'static str {
    if jsonl {
        "; each line of a JSONL transcript is one complete JSON object"
    } else {
        "; fix the JSON (or, for one object per line, read it as JSONL)"
    }
}

/// A place in a transcript file: a line of a JSONL file or a path into a JSON document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// 1-based line of a JSONL file, with the field when one is at fault.
    Line(usize, Option<String>),
    /// A JSON path such as `$.sessions[2].turns[0].speaker`.
    Path(String),
}

impl At {
    fn field(&self, name: &str) -> At {
        match self {
            At::Line(n, _) => At::Line(*n, Some(name.to_owned())),
            At::Path(p) => At::Path(format!("{p}.{name}")),
        }
    }

    fn index(&self, i: usize) -> At {
        match self {
            At::Line(n, f) => At::Line(*n, f.clone()),
            At::Path(p) => At::Path(format!("{p}[{i}]")),
        }
    }
}

/// Renders as it follows the file name: `:4` (field `speaker`) or `: $.turns[3]`.
impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Line(n, None) => write!(f, ":{n}"),
            At::Line(n, Some(field)) => write!(f, ":{n}: field `{field}`"),
            At::Path(p) => write!(f, ": {p}"),
        }
    }
}

/// The shape of a transcript file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Format {
    /// Decide from the text: JSON when the whole text is one JSON value (an object that is
    /// itself one turn counts as JSONL), JSONL otherwise.
    #[default]
    Auto,
    /// One JSON document: an array of turns, `{"turns": [...]}`, `{"sessions": [...]}` or
    /// LoCoMo.
    Json,
    /// One turn object per line.
    Jsonl,
    /// LoCoMo (Maharana et al., 2024): objects with `sample_id` and `conversation`.
    Locomo,
    /// Plain text, one `speaker: text` line per turn (`user: I prefer tabs`); a line with no
    /// speaker in front continues the turn before it. Never guessed by `Auto`.
    Lines,
}

impl Format {
    /// The names [`Format::from_str`] accepts.
    pub const NAMES: &'static [&'static str] = &["auto", "json", "jsonl", "locomo", "lines"];
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Format::Auto),
            "json" => Ok(Format::Json),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            "locomo" => Ok(Format::Locomo),
            "lines" | "text" => Ok(Format::Lines),
            _ => Err(format!(
                "unknown transcript format `{s}`: use one of {}",
                Format::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Auto => "auto",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
            Format::Locomo => "locomo",
            Format::Lines => "lines",
        })
    }
}

/// A conversation transcript: its sessions in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Transcript {
    /// Sessions, each with at least one turn.
    pub sessions: Vec<Session>,
}

/// One sitting of a conversation: what becomes one memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Session {
    /// Unique within the transcript, such as `conv-26/session_3` or the file stem.
    pub id: String,
    /// The conversation the session belongs to, when the file names one.
    pub conversation: Option<String>,
    /// The session's date as written in the file (or its first dated turn's time).
    pub date_text: Option<String>,
    /// `date_text` as a time, when it is RFC 3339, `YYYY-MM-DD` or LoCoMo's
    /// `1:56 pm on 8 May, 2023`.
    pub time: Option<Timestamp>,
    /// Turns in order, none empty.
    pub turns: Vec<Turn>,
}

/// One utterance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Turn {
    /// Unique within the session: from the file (`id`, `turn_id`, `dia_id`), else `t1`, `t2`...
    pub id: String,
    /// Who spoke.
    pub speaker: String,
    /// What was said (may be empty when there is a caption).
    pub text: String,
    /// The turn's time as written in the file.
    pub time: Option<String>,
    /// The caption of an image shared in the turn.
    pub caption: Option<String>,
}

impl Transcript {
    /// Parses the text of transcript file `file` (its name, for messages). Turns that name no
    /// session go in the session `default_session` (the file stem, say).
    ///
    /// ```
    /// use memdir::transcript::{Format, Transcript};
    /// let text = r#"{"role": "user", "content": "Where is the staging API?"}
    /// {"role": "assistant", "content": "On port 8443."}"#;
    /// let t = Transcript::parse("chat.jsonl", text, Format::Auto, "chat").unwrap();
    /// assert_eq!(t.sessions[0].id, "chat");
    /// assert_eq!(t.sessions[0].render_body(), "- [t1] **user:** Where is the staging API?\n- [t2] **assistant:** On port 8443.\n");
    /// ```
    pub fn parse(
        file: &str,
        text: &str,
        format: Format,
        default_session: &str,
    ) -> Result<Transcript, TranscriptError> {
        read::read(file, text, format, default_session)
    }

    /// Returns the number of turns in all sessions.
    pub fn turn_count(&self) -> usize {
        self.sessions.iter().map(|s| s.turns.len()).sum()
    }
}

/// Parses a time as RFC 3339, `YYYY-MM-DD`, LoCoMo's `1:56 pm on 8 May, 2023` or
/// LongMemEval's `2023/05/30 (Tue) 23:37` (all read as UTC). Returns `None` for anything else.
///
/// ```
/// use memdir::transcript::parse_time;
/// assert_eq!(parse_time("1:56 pm on 8 May, 2023").unwrap().to_string(), "2023-05-08T13:56:00Z");
/// assert_eq!(parse_time("2023/05/30 (Tue) 23:37").unwrap().to_string(), "2023-05-30T23:37:00Z");
/// assert_eq!(parse_time("2023/05/30").unwrap().to_string(), "2023-05-30T00:00:00Z");
/// assert!(parse_time("last Tuesday").is_none());
/// ```
pub fn parse_time(text: &str) -> Option<Timestamp> {
    Timestamp::parse(text)
        .or_else(|| locomo_time(text))
        .or_else(|| slashed_time(text))
}

/// Reads `YYYY/MM/DD`, then an optional weekday in brackets (not checked against the date)
/// and an optional 24-hour `HH:MM`.
fn slashed_time(text: &str) -> Option<Timestamp> {
    let mut parts = text.split_whitespace();
    let mut ymd = parts.next()?.split('/');
    let year: i32 = ymd.next()?.parse().ok()?;
    let month: u8 = ymd.next()?.parse().ok()?;
    let day: u8 = ymd.next()?.parse().ok()?;
    if ymd.next().is_some() {
        return None;
    }
    let date =
        time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    let mut next = parts.next();
    if next.is_some_and(|w| w.starts_with('(') && w.ends_with(')')) {
        next = parts.next();
    }
    let clock = match next {
        None => time::Time::MIDNIGHT,
        Some(hm) => {
            let (h, m) = hm.split_once(':')?;
            time::Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()?
        }
    };
    if parts.next().is_some() {
        return None;
    }
    Some(Timestamp(OffsetDateTime::new_utc(date, clock)))
}

fn locomo_time(text: &str) -> Option<Timestamp> {
    let (clock, date) = text.trim().split_once(" on ")?;
    let (hm, half) = clock.trim().split_once(' ')?;
    let (h, m) = hm.split_once(':')?;
    let (h, m): (u8, u8) = (h.parse().ok()?, m.parse().ok()?);
    if !(1..=12).contains(&h) {
        return None;
    }
    let hour = match half.trim().to_ascii_lowercase().as_str() {
        "am" => h % 12,
        "pm" => h % 12 + 12,
        _ => return None,
    };
    let date = date.replace(',', " ");
    let mut parts = date.split_whitespace();
    let day: u8 = parts.next()?.parse().ok()?;
    let month = month(parts.next()?)?;
    let year: i32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() {
        return None;
    }
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let clock = time::Time::from_hms(hour, m, 0).ok()?;
    Some(Timestamp(OffsetDateTime::new_utc(date, clock)))
}

fn month(name: &str) -> Option<time::Month> {
    use time::Month::*;
    const MONTHS: [time::Month; 12] = [
        January, February, March, April, May, June, July, August, September, October, November,
        December,
    ];
    let name = name.to_ascii_lowercase();
    MONTHS.into_iter().find(|m| {
        let full = m.to_string().to_ascii_lowercase();
        name == full || (name.len() == 3 && full.starts_with(&name))
    })
}

impl Session {
    /// Returns the speakers in order of first appearance.
    pub fn speakers(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for t in &self.turns {
            if !out.contains(&t.speaker.as_str()) {
                out.push(&t.speaker);
            }
        }
        out
    }

    /// Returns the session as Markdown: one top-level list item per turn,
    /// `- [ID] **Speaker:** text`, with ` (shared an image: CAPTION)` after the text when the
    /// turn has a caption. Continuation lines are indented by two spaces so that, whatever the
    /// text holds, each turn is exactly one passage starting on the item's line.
    pub fn render_body(&self) -> String {
        let mut out = String::new();
        for turn in &self.turns {
            turn.render(&mut out);
        }
        out
    }
}

impl Turn {
    fn render(&self, out: &mut String) {
        let text = self
            .text
            .replace("\r\n", "\n")
            .replace(['\r', '\u{2028}', '\u{2029}'], "\n")
            .replace('\0', "\u{fffd}");
        let text = text.trim_matches(|c: char| c.is_whitespace());
        let mut lines = text.lines();
        out.push_str(&format!("- [{}] **{}:**", self.id, escape(&self.speaker)));
        let first = lines.next().unwrap_or_default();
        let multi_line = text.contains('\n');
        if !first.is_empty() {
            out.push(' ');
            out.push_str(first);
        }
        for line in lines {
            out.push('\n');
            if !line.trim().is_empty() {
                out.push_str("  ");
                out.push_str(line.trim_end());
            }
        }
        if let Some(caption) = &self.caption {
            // After a multi-line text, as a paragraph of its own: the last line may close a
            // code fence, which must stay alone on its line.
            out.push_str(if multi_line { "\n\n  " } else { " " });
            out.push_str(&format!("(shared an image: {})", one_line(caption)));
        }
        out.push('\n');
    }
}

/// Collapses runs of whitespace (line breaks included) to single spaces.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes the characters that would turn a speaker's name into Markdown markup.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if "\\*_`[]<>".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Returns the turn id of a rendered turn from the first line of its item (`- [ID] ...`), such
/// as the line a search hit's `line_start` points at.
///
/// ```
/// assert_eq!(memdir::transcript::turn_id("- [D1:3] **Caroline:** Hi!"), Some("D1:3"));
/// assert_eq!(memdir::transcript::turn_id("Hi!"), None);
/// ```
pub fn turn_id(line: &str) -> Option<&str> {
    let rest = line.trim_start().strip_prefix("- [")?;
    let id = &rest[..rest.find(']')?];
    (!id.is_empty() && !id.contains(char::is_whitespace)).then_some(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::passages;

    #[test]
    fn slashed_dates_read_with_or_without_weekday_and_clock() {
        let t = |text: &str| parse_time(text).map(|t| t.to_string());
        assert_eq!(
            t("2023/05/30 (Tue) 23:37").as_deref(),
            Some("2023-05-30T23:37:00Z")
        );
        assert_eq!(
            t("2023/05/30 09:05").as_deref(),
            Some("2023-05-30T09:05:00Z")
        );
        assert_eq!(
            t("2023/05/30 (Tue)").as_deref(),
            Some("2023-05-30T00:00:00Z")
        );
        for bad in [
            "2023/13/01",
            "2023/02/30",
            "2023/05/30 (Tue) 24:00",
            "2023/05/30 (Tue) 23:37 UTC",
            "2023/05",
            "2023/05/30/1",
        ] {
            assert_eq!(t(bad), None, "{bad}");
        }
    }

    /// Every turn renders as exactly one passage whose first line gives back its id.
    fn assert_one_passage_per_turn(session: &Session) {
        let body = session.render_body();
        let found = passages(&body, 1);
        let lines: Vec<&str> = body.lines().collect();
        let ids: Vec<Option<&str>> = found
            .iter()
            .map(|p| turn_id(lines[p.line_start - 1]))
            .collect();
        let want: Vec<Option<&str>> = session.turns.iter().map(|t| Some(t.id.as_str())).collect();
        assert_eq!(ids, want, "body:\n{body}");
    }

    #[test]
    fn locomo_times_parse_and_others_do_not() {
        for (text, want) in [
            ("1:56 pm on 8 May, 2023", "2023-05-08T13:56:00Z"),
            ("12:09 am on 25 May, 2023", "2023-05-25T00:09:00Z"),
            ("12:30 pm on 1 Jan, 2024", "2024-01-01T12:30:00Z"),
            ("10:04 AM on 19 December, 2023", "2023-12-19T10:04:00Z"),
            ("2024-02-29", "2024-02-29T00:00:00Z"),
            ("2024-02-29T10:00:00+02:00", "2024-02-29T10:00:00+02:00"),
        ] {
            assert_eq!(
                parse_time(text).map(|t| t.to_string()).as_deref(),
                Some(want),
                "{text}"
            );
        }
        for bad in [
            "13:00 pm on 8 May, 2023",
            "1:56 pm on 31 February, 2023",
            "1:56 on 8 May, 2023",
            "1:56 pm on 8 Mayo, 2023",
            "yesterday",
            "",
        ] {
            assert_eq!(parse_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn each_turn_is_one_passage_whatever_its_text_holds() {
        let nasty = [
            "plain",
            "two\nlines",
            "para one\n\npara two",
            "many\n\n\n\nblank lines",
            "# a heading\ntext",
            "- a list\n- of items\n\n- loose",
            "1. numbered\n2. list",
            "> a quote\n> more",
            "```\ncode\n\n\nstill code\n",
            "```rust\nfn main() {}\n```",
            "~~~\nunclosed tilde fence",
            "text\n---\nsetext?",
            "---",
            "***\n___",
            "text\n===",
            "    indented code\n\n    more",
            "<div>\nhtml\n\n</div>",
            "<!-- unclosed comment",
            "<script>\nunclosed",
            "| a | b |\n|---|---|\n| 1 | 2 |",
            "[ref]: https://example.com\n[t1]: /x",
            "trailing spaces   \n  \n\t\nend",
            "\r\nwindows\r\nlines\r\n",
            "mac\rlines",
            "nul\0byte",
            "  - [t9] **fake:** turn",
            "- [t9] **fake:** turn at the start",
            "\n\n\nleading blank lines",
            "\u{2028}separator",
            "tab\tinside\n\ttab-indented",
        ];
        let turns: Vec<Turn> = nasty
            .iter()
            .enumerate()
            .map(|(i, text)| Turn {
                id: format!("n{i}"),
                speaker: if i % 2 == 0 {
                    "A *b* [c]".into()
                } else {
                    "Bob".into()
                },
                text: (*text).into(),
                time: None,
                caption: (i % 3 == 0).then(|| "a\nmulti-line caption".into()),
            })
            .collect();
        let session = Session {
            id: "s".into(),
            turns: turns.clone(),
            ..Session::default()
        };
        assert_one_passage_per_turn(&session);
        // And each alone, first and last in a session.
        for t in turns {
            for pair in [
                vec![t.clone()],
                vec![t.clone(), plain("after")],
                vec![plain("before"), t.clone()],
            ] {
                assert_one_passage_per_turn(&Session {
                    id: "s".into(),
                    turns: pair,
                    ..Session::default()
                });
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_one_passage(
            texts in proptest::collection::vec(
                "(```|~~~|---|===|    |- |1. |> |# |<div>|<!--|\\[t1\\]: /x|\\| a \\||[-#>`~*_=|<!\\[\\] \t\r\n0-9a-z:]){0,30}",
                1..5,
            ),
            caption in proptest::option::of("[a-z \n]{0,8}"),
        ) {
            let turns: Vec<Turn> = texts
                .iter()
                .enumerate()
                .map(|(i, text)| Turn {
                    id: format!("p{i}"),
                    speaker: "S".into(),
                    text: text.clone(),
                    caption: caption.clone(),
                    ..Turn::default()
                })
                .filter(|t| !t.text.trim().is_empty() || t.caption.as_deref().is_some_and(|c| !c.trim().is_empty()))
                .collect();
            assert_one_passage_per_turn(&Session { id: "s".into(), turns, ..Session::default() });
        }
    }

    fn plain(id: &str) -> Turn {
        Turn {
            id: id.into(),
            speaker: "P".into(),
            text: "plain words".into(),
            ..Turn::default()
        }
    }

    #[test]
    fn multi_line_text_stays_inside_its_item() {
        let s = Session {
            id: "s".into(),
            turns: vec![Turn {
                id: "t1".into(),
                speaker: "A".into(),
                text: "one\n\n```\ncode\n```".into(),
                caption: Some("a cat".into()),
                ..Turn::default()
            }],
            ..Session::default()
        };
        assert_eq!(
            s.render_body(),
            "- [t1] **A:** one\n\n  ```\n  code\n  ```\n\n  (shared an image: a cat)\n"
        );
    }

    #[test]
    fn turn_ids_read_back() {
        assert_eq!(turn_id("- [D1:3] **Caroline:** Hi"), Some("D1:3"));
        assert_eq!(turn_id("- [t12] **A:**"), Some("t12"));
        for none in [
            "",
            "Hi",
            "- no id",
            "- [] x",
            "- [a b] x",
            "* [x] y",
            "- [unclosed",
        ] {
            assert_eq!(turn_id(none), None, "{none:?}");
        }
    }
}
