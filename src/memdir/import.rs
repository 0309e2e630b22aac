//! Importing conversation transcripts: one memory per session, all in one commit
//! (`Memdir-Op: import`). Reading the transcript file is [`crate::transcript`]'s job; this
//! file decides what each session's memory looks like and which sessions are already there.

use super::{ImportOptions, ImportStatus, Imported, Memdir, NewMemory, Provenance};
use crate::Result;
use crate::memory::MemoryId;
use crate::parse;
use crate::store::Store;
use crate::transcript::{Session, Transcript};

/// The type of session memories when [`ImportOptions::kind`] is not set.
const DEFAULT_IMPORT_TYPE: &str = "event";
/// The tag every session memory carries.
const TRANSCRIPT_TAG: &str = "transcript";

impl Memdir {
    /// Imports a conversation transcript: one memory per session, written as one commit
    /// (`Memdir-Op: import`, one `Memdir-Id` per memory), and returns what happened to each
    /// session, in transcript order.
    ///
    /// Each session memory holds the session's turns as a list (one passage per turn, see
    /// [`Session::render_body`]); its type is `event` unless `options` say otherwise, its
    /// tags start with `transcript`, its title names the speakers and the date (or, for an
    /// undated session, the session id), `created` is
    /// the session's time when known, `source.session` is the session id, and the extra keys
    /// `conversation`, `speakers` and `date` keep what the transcript said.
    ///
    /// Ids are derived from the conversation and session ids, so importing the same
    /// transcript again writes nothing: those sessions come back as
    /// [`ImportStatus::Skipped`]. If any session cannot be written, nothing is.
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use memdir::transcript::{Format, Transcript};
    /// use memdir::{ImportOptions, ImportStatus, Memdir, Provenance};
    /// let mem = Memdir::init(dir.path())?;
    /// let text = r#"{"speaker": "Alice", "text": "The demo moved to Friday.", "date": "2026-11-25"}"#;
    /// let transcript = Transcript::parse("standup.jsonl", text, Format::Auto, "standup")?;
    /// let prov = Provenance::agent("importer");
    /// let first = mem.import(&transcript, &ImportOptions::default(), &prov)?;
    /// assert_eq!(first[0].status, ImportStatus::Added);
    /// assert_eq!(mem.get(&first[0].id)?.front.title, "Alice, 25 November 2026");
    /// let again = mem.import(&transcript, &ImportOptions::default(), &prov)?;
    /// assert_eq!((again[0].status, &again[0].id), (ImportStatus::Skipped, &first[0].id));
    /// # Ok(()) }
    /// ```
    pub fn import(
        &self,
        transcript: &Transcript,
        options: &ImportOptions,
        prov: &Provenance,
    ) -> Result<Vec<Imported>> {
        let lock = self.lock()?;
        self.catch_up(false, None, Some(&lock))?;
        let mut report = Vec::with_capacity(transcript.sessions.len());
        let mut news = Vec::new();
        for session in &transcript.sessions {
            let id = session_id(session)?;
            let existing = self.index.find_id(id.as_str())?;
            let status = match existing.first() {
                Some(_) => ImportStatus::Skipped,
                None => {
                    news.push(session_memory(session, id.clone(), options));
                    ImportStatus::Added
                }
            };
            report.push(Imported {
                id: id.to_string(),
                path: existing
                    .into_iter()
                    .next()
                    .map(|s| s.path)
                    .unwrap_or_default(),
                session: session.id.clone(),
                turns: session.turns.len(),
                status,
            });
        }
        let written = self.write_new(&lock, news, prov, "import")?;
        let added = report
            .iter_mut()
            .filter(|r| r.status == ImportStatus::Added);
        for (r, w) in added.zip(written) {
            r.path = w.path;
        }
        Ok(report)
    }
}

/// Returns the memory id of a session: the slug of its id plus six hex digits of a hash of
/// the conversation and session ids, the same on every import.
fn session_id(session: &Session) -> Result<MemoryId> {
    let key = format!(
        "{}\0{}",
        session.conversation.as_deref().unwrap_or_default(),
        session.id
    );
    let hash = Store::revision_of(key.as_bytes());
    Ok(MemoryId::parse(&format!(
        "{}-{}",
        parse::slugify(&session.id),
        &hash.0[..6]
    ))?)
}

/// Returns the memory a session becomes.
fn session_memory(session: &Session, id: MemoryId, options: &ImportOptions) -> NewMemory {
    let speakers = session.speakers();
    let date = match session.time {
        Some(t) => {
            t.0.format(time::macros::format_description!(
                "[day padding:none] [month repr:long] [year]"
            ))
            .ok()
        }
        None => session.date_text.clone(),
    };
    // Undated sessions are told apart by their id.
    let title = match date {
        Some(date) => format!("{}, {date}", join_names(&speakers)),
        None => format!("{} ({})", join_names(&speakers), session.id),
    };
    let mut new = NewMemory::new(session.render_body())
        .id(id)
        .title(title)
        .kind(options.kind.as_deref().unwrap_or(DEFAULT_IMPORT_TYPE))
        .tag(TRANSCRIPT_TAG)
        .session(session.id.clone())
        .extra("speakers", speakers);
    new.tags.extend(options.tags.iter().cloned());
    new.scope = options.scope.clone();
    new.created = session.time;
    if let Some(c) = &session.conversation {
        new = new.extra("conversation", c.as_str());
    }
    if let Some(d) = &session.date_text {
        new = new.extra("date", d.as_str());
    }
    new
}

/// Returns `A`, `A and B`, `A, B and C`.
fn join_names(names: &[&str]) -> String {
    match names {
        [] => "Conversation".to_owned(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Turn;

    fn session(conversation: Option<&str>, id: &str) -> Session {
        Session {
            id: id.into(),
            conversation: conversation.map(str::to_owned),
            turns: vec![Turn {
                id: "t1".into(),
                speaker: "A".into(),
                text: "x".into(),
                ..Turn::default()
            }],
            ..Session::default()
        }
    }

    #[test]
    fn session_ids_are_stable_and_tell_conversations_apart() {
        let a = session_id(&session(Some("conv-26"), "conv-26/session_1")).unwrap();
        assert!(a.as_str().starts_with("conv-26-session-1-"), "{a}");
        assert_eq!(
            a,
            session_id(&session(Some("conv-26"), "conv-26/session_1")).unwrap()
        );
        assert_ne!(
            a,
            session_id(&session(Some("conv-27"), "conv-26/session_1")).unwrap()
        );
        assert_ne!(
            session_id(&session(None, "chat")).unwrap(),
            session_id(&session(Some(""), "chat/x")).unwrap()
        );
        let odd = session_id(&session(None, "Ünïcode / ??? ")).unwrap();
        assert!(MemoryId::parse(odd.as_str()).is_ok());
        let long = session_id(&session(None, &"x".repeat(500))).unwrap();
        assert!(long.as_str().len() <= MemoryId::MAX_LEN);
    }

    #[test]
    fn titles_name_speakers_and_date() {
        assert_eq!(join_names(&[]), "Conversation");
        assert_eq!(join_names(&["A"]), "A");
        assert_eq!(join_names(&["A", "B"]), "A and B");
        assert_eq!(join_names(&["A", "B", "C"]), "A, B and C");
        let mut s = session(Some("c"), "c/s1");
        s.turns.push(Turn {
            id: "t2".into(),
            speaker: "B".into(),
            text: "y".into(),
            ..Turn::default()
        });
        s.date_text = Some("1:56 pm on 8 May, 2023".into());
        s.time = crate::transcript::parse_time("1:56 pm on 8 May, 2023");
        let new = session_memory(&s, session_id(&s).unwrap(), &ImportOptions::default());
        assert_eq!(new.title.as_deref(), Some("A and B, 8 May 2023"));
        assert_eq!(new.kind.as_deref(), Some("event"));
        assert_eq!(new.tags, ["transcript"]);
        assert_eq!(new.session.as_deref(), Some("c/s1"));
        assert_eq!(new.created, s.time);
        assert_eq!(
            serde_json::to_value(&new.extra).unwrap(),
            serde_json::json!({"conversation": "c", "date": "1:56 pm on 8 May, 2023", "speakers": ["A", "B"]})
        );
        s.time = None;
        s.date_text = Some("the day after".into());
        let new = session_memory(&s, session_id(&s).unwrap(), &ImportOptions::default());
        assert_eq!(new.title.as_deref(), Some("A and B, the day after"));
        assert_eq!(new.created, None);
        s.date_text = None;
        let new = session_memory(&s, session_id(&s).unwrap(), &ImportOptions::default());
        assert_eq!(new.title.as_deref(), Some("A and B (c/s1)"));
    }
}
