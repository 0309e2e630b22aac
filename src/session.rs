//! Sessions: the short-term tier, the turns of the conversation going on.
//!
//! A session is one append-only file, `sessions/<id>.jsonl`, one JSON object per line: a turn
//! (`{"turn": 3, "role": "user", "time": ..., "text": ...}`) or the end marker
//! (`{"ended": ...}`). Appending a turn is one `O_APPEND` write under an exclusive `flock` of
//! the file (so two appenders never share a turn number) and no commit: the file is committed
//! on [`Memdir::session_end`] (`Memdir-Op: session-end`) or every `[session] commit_every`
//! turns. Until then `git status` shows it as changed, which it is.
//!
//! A session whose last turn is older than `[session] ttl_hours` has expired: it stays in the
//! repository and its history but is left out of context.
//!
//! A [`Session`] here is a live, numbered log of who said what; a
//! [`crate::transcript::Session`] is a conversation read from a file, what import and
//! extraction take. [`Session::to_transcript`] is the one conversion between them.
//!
//! ```
//! # fn main() -> memdir::Result<()> {
//! # let dir = tempfile::tempdir().unwrap();
//! use memdir::session::Role;
//! use memdir::{Memdir, Provenance};
//!
//! let mem = Memdir::init(dir.path())?;
//! mem.session_append("s-1", Role::User, "Can you book the usual room?")?;
//! mem.session_append("s-1", Role::Assistant, "Booked room 4B for 10:00.")?;
//! let s = mem.session("s-1")?;
//! assert_eq!(s.turns.len(), 2);
//! assert!(mem.session_end("s-1", &Provenance::agent("doc"))?.is_some()); // one commit
//! # Ok(()) }
//! ```

use std::io::Write as _;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::memory::Timestamp;
use crate::store::Store;
use crate::{Error, Memdir, Provenance, Result};

/// The folder of session files, at the repository root.
pub const SESSIONS_DIR: &str = "sessions";

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The person.
    User,
    /// The agent.
    Assistant,
}

impl Role {
    /// Returns the name used in files and in rendered context.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One turn of a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// 1-based number; also the turn's line in the file.
    pub turn: usize,
    /// Who said it.
    pub role: Role,
    /// When it was appended (RFC 3339).
    pub time: String,
    /// What was said.
    pub text: String,
}

/// A session as read from its file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    /// Its id.
    pub id: String,
    /// Its file, relative to the root.
    pub path: String,
    /// The content hash of the file as read (a git blob id).
    pub revision: String,
    /// Its turns, in order.
    pub turns: Vec<Turn>,
    /// When it was ended, if it was.
    pub ended: Option<String>,
}

impl Session {
    /// Returns the session as a transcript's session (what extraction and import read): each
    /// turn `t{n}`, spoken by its role, at its time.
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// # let mem = memdir::Memdir::init(dir.path())?;
    /// use memdir::session::Role;
    /// mem.session_append("s-1", Role::User, "I moved to Lisbon.")?;
    /// let t = mem.session("s-1")?.to_transcript();
    /// assert_eq!((t.turns[0].id.as_str(), t.turns[0].speaker.as_str()), ("t1", "user"));
    /// # Ok(()) }
    /// ```
    pub fn to_transcript(&self) -> crate::transcript::Session {
        crate::transcript::Session {
            id: self.id.clone(),
            turns: self
                .turns
                .iter()
                .map(|t| crate::transcript::Turn {
                    id: format!("t{}", t.turn),
                    speaker: t.role.as_str().to_owned(),
                    text: t.text.clone(),
                    time: Some(t.time.clone()),
                    caption: None,
                })
                .collect(),
            ..crate::transcript::Session::default()
        }
    }

    /// Returns true when it holds the turn `t<N>` names (as [`Session::to_transcript`] names
    /// turns).
    pub fn has_turn(&self, turn: &str) -> bool {
        turn.strip_prefix('t')
            .and_then(|n| n.parse::<usize>().ok())
            .is_some_and(|n| self.turns.iter().any(|t| t.turn == n))
    }

    /// Returns true when its last turn is older than `ttl_hours` before `now`.
    pub fn expired(&self, now: Timestamp, ttl_hours: f64) -> bool {
        let Some(last) = self.turns.last().and_then(|t| Timestamp::parse(&t.time)) else {
            return false;
        };
        (now.unix() - last.unix()) as f64 > ttl_hours * 3600.0
    }
}

/// One line of a session file.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Line {
    Turn(Turn),
    End { ended: String },
}

/// Returns the file of session `id`, or an error if the id could leave `sessions/`.
pub fn session_path(id: &str) -> Result<String> {
    log_path(SESSIONS_DIR, "session", id)
}

/// Returns `<dir>/<id>.jsonl`, the file of a `what` (a session, a task) named `id`, or an
/// error if the id could leave `dir`: 1 to 128 letters, digits, `-`, `_` or `.`, not
/// starting with `.`.
pub(crate) fn log_path(dir: &str, what: &str, id: &str) -> Result<String> {
    let ok = !id.is_empty()
        && id.len() <= 128
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if !ok {
        return Err(Error::invalid(format!(
            "`{id}` is not a usable {what} id: use 1 to 128 letters, digits, `-`, `_` or `.`, not starting with `.`"
        )));
    }
    Ok(format!("{dir}/{id}.jsonl"))
}

impl Memdir {
    /// Appends a turn to session `id` (creating it), with no commit unless `[session]
    /// commit_every` says so; returns the turn. Fails if the session was ended.
    pub fn session_append(&self, id: &str, role: Role, text: &str) -> Result<Turn> {
        let rel = session_path(id)?;
        let path = self.root().join(&rel);
        if text.trim().is_empty() {
            return Err(Error::invalid("a turn needs some text"));
        }
        let io = |e| Error::io(&path, e);
        std::fs::create_dir_all(path.parent().expect("a session path has a folder")).map_err(io)?;
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io)?;
        file.lock().map_err(io)?;
        let bytes = std::fs::read(&path).map_err(io)?;
        let session = parse_session(id, &rel, &bytes)?;
        if session.ended.is_some() {
            return Err(Error::invalid(format!(
                "session `{id}` has ended; start a new one (a new id)"
            )));
        }
        let turn = Turn {
            turn: session.turns.len() + 1,
            role,
            time: Timestamp::now().to_string(),
            text: text.to_owned(),
        };
        let mut line = serde_json::to_string(&Line::Turn(turn.clone())).expect("a turn serializes");
        line.push('\n');
        // One write of one line: a crash leaves at worst a torn last line, which reading skips.
        file.write_all(line.as_bytes()).map_err(io)?;
        drop(file);
        let every = self.config().session.commit_every;
        if every > 0 && turn.turn.is_multiple_of(every) {
            let prov = Provenance {
                session: Some(id.to_owned()),
                ..Provenance::default()
            };
            self.commit_worktree_files(
                std::slice::from_ref(&rel),
                format!("session: {id} ({} turns)", turn.turn),
                "session",
                &prov,
            )?;
        }
        Ok(turn)
    }

    /// Reads session `id`. Fails with [`Error::NotFound`] if it has no file.
    pub fn session(&self, id: &str) -> Result<Session> {
        let rel = session_path(id)?;
        let path = self.root().join(&rel);
        match std::fs::read(&path) {
            Ok(bytes) => parse_session(id, &rel, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::NotFound {
                id: format!("session {id}"),
            }),
            Err(e) => Err(Error::io(path, e)),
        }
    }

    /// Ends session `id`: appends the end marker and commits the file (`Memdir-Op:
    /// session-end`, `Memdir-Session: <id>`). Returns the commit, or `None` if it was already
    /// ended and committed.
    pub fn session_end(&self, id: &str, prov: &Provenance) -> Result<Option<String>> {
        let session = self.session(id)?;
        let path: PathBuf = self.root().join(&session.path);
        if session.ended.is_none() {
            let io = |e| Error::io(&path, e);
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(io)?;
            file.lock().map_err(io)?;
            let mut line = serde_json::to_string(&Line::End {
                ended: Timestamp::now().to_string(),
            })
            .expect("an end marker serializes");
            line.push('\n');
            file.write_all(line.as_bytes()).map_err(io)?;
        }
        let prov = Provenance {
            session: prov.session.clone().or_else(|| Some(id.to_owned())),
            ..prov.clone()
        };
        self.commit_worktree_files(
            std::slice::from_ref(&session.path),
            format!("session-end: {id} ({} turns)", session.turns.len()),
            "session-end",
            &prov,
        )
    }
}

/// Parses a session file; a torn last line (a crash mid-append) is skipped, any other bad
/// line is an error naming it.
fn parse_session(id: &str, path: &str, bytes: &[u8]) -> Result<Session> {
    let text = String::from_utf8_lossy(bytes);
    let mut session = Session {
        id: id.to_owned(),
        path: path.to_owned(),
        revision: Store::revision_of(bytes).0,
        turns: Vec::new(),
        ended: None,
    };
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line>(line) {
            Ok(Line::Turn(t)) => session.turns.push(t),
            Ok(Line::End { ended }) => session.ended = Some(ended),
            Err(_) if i + 1 == lines.len() && !text.ends_with('\n') => {}
            Err(e) => {
                return Err(Error::invalid(format!(
                    "{path}:{}: not a session turn ({e}); fix or remove the line",
                    i + 1
                )));
            }
        }
    }
    Ok(session)
}
