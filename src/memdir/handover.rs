//! Writes handed to a running watcher: a new process that would add, update or remove a
//! memory (`memdir add`, once per thing an agent remembers; `update`; `rm`) sends the write
//! to the watcher serving the repository (`memdir watch`, or the one behind `memdir serve`
//! and `memdir mcp`) instead of opening the repository and writing itself. The watcher has
//! the repository open, its index and guard built, and git's index read; a new process would
//! build them all again for one write.
//!
//! The result is the same as writing oneself: the watcher runs [`Memdir::remember`] (or
//! [`Memdir::update`], [`Memdir::forget`]) on its own handle, after indexing every change
//! made before the request (as when it vouches for the tree), and answers with the
//! [`Written`] the caller would have got. When it cannot give
//! exactly that, it does not write:
//! - a caller whose environment differs from the watcher's in what a write reads
//!   ([`WRITE_ENV`]: git's configuration, commit dates, fault injection) writes itself;
//! - so does a caller whose `memory.toml` is not the one the watcher read at its start;
//! - and one that would ask the model of `[llm]` for second opinions where the watcher would
//!   not, or the other way round (one of them has the key in its environment);
//! - a write that fails before writing anything (bad input, a missing memory, a busy
//!   branch) is declined, and the caller's own attempt gives the error, word for word.
//!
//! A watcher killed before it takes the request costs nothing: the caller writes itself. One
//! killed after it took the request leaves the caller not knowing whether the memory was
//! written; the caller then fails with [`WatchError::Lost`] instead of writing it a second
//! time. The transport is [`crate::watch::vouch`].

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Memdir, NewMemory, Provenance, Update, Written, judge_for};
use crate::config::Config;
use crate::guard::opinion::Judge;
use crate::watch::WatchError;
use crate::watch::vouch::{self, Handover};
use crate::{ErrorKind, Result};

/// The environment variables a write reads: a watcher writes for a caller only when the
/// caller's values of these (set or not) are its own.
pub const WRITE_ENV: [&str; 8] = [
    "HOME",
    "XDG_CONFIG_HOME",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "GIT_CONFIG_NOSYSTEM",
    "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_DATE",
    "MEMDIR_FAULT",
];

/// A write, as a caller hands it over. A field this watcher does not know (a caller of a
/// newer memdir) makes the request unreadable, so it is declined rather than written without
/// that field.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Request {
    write: Write,
    provenance: Provenance,
    /// The caller's values of [`WRITE_ENV`] (the variables it has set).
    env: BTreeMap<String, String>,
    /// Whether the caller would ask the model of `[llm]` for a second opinion (it has the
    /// key, or none is needed).
    #[serde(default)]
    second_opinion: bool,
}

/// The writes a watcher makes for a caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
enum Write {
    /// [`Memdir::remember`].
    Remember(NewMemory),
    /// [`Memdir::update`].
    Update { id: String, update: Update },
    /// [`Memdir::forget`].
    Forget { id: String, reason: Option<String> },
}

/// The watcher's answer.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Answer {
    /// Written.
    Written(Written),
    /// Not written, and nothing was: the caller writes itself. Why, for the debug log.
    Declined(String),
    /// The write failed after it may have changed something; the error, with its causes.
    Failed(String),
}

/// Returns this process's values of [`WRITE_ENV`].
fn write_env() -> BTreeMap<String, String> {
    WRITE_ENV
        .iter()
        .filter_map(|k| std::env::var(k).ok().map(|v| ((*k).to_owned(), v)))
        .collect()
}

impl Memdir {
    /// Adds a memory through the watcher serving the repository that holds `start`, if one
    /// runs and takes it, and returns what [`Memdir::remember`] returned there. `Ok(None)`
    /// when no watcher took the write, and nothing was written: then write it yourself, with
    /// [`Memdir::discover`] and [`Memdir::remember`], for the same result (and the same error,
    /// when the write is refused).
    ///
    /// Fails with [`WatchError::Lost`] when the watcher stopped after taking the request
    /// (whether it wrote is not known: `memdir log` tells), and with
    /// [`WatchError::HandedOver`] when the write failed there after it may have changed
    /// something.
    ///
    /// ```
    /// # fn main() -> memdir::Result<()> {
    /// # let dir = tempfile::tempdir().unwrap();
    /// use memdir::{Memdir, NewMemory, Provenance};
    /// Memdir::init(dir.path())?;
    /// let new = NewMemory::new("Deploys go out on Tuesdays.");
    /// let prov = Provenance::agent("doc");
    /// // No watcher runs here: the caller writes itself.
    /// let written = match Memdir::remember_handed_over(dir.path(), &new, &prov)? {
    ///     Some(written) => written,
    ///     None => Memdir::discover(dir.path())?.remember(new, &prov)?,
    /// };
    /// assert!(written.commit.is_some());
    /// # Ok(()) }
    /// ```
    pub fn remember_handed_over(
        start: &Path,
        new: &NewMemory,
        prov: &Provenance,
    ) -> Result<Option<Written>> {
        hand_over(start, Write::Remember(new.clone()), prov)
    }

    /// [`Memdir::update`] through the watcher serving the repository that holds `start`, as
    /// [`Memdir::remember_handed_over`] adds: `Ok(None)` when no watcher took it (then update
    /// it yourself; a conflict with `expect` is left to you too, so that you report it).
    pub fn update_handed_over(
        start: &Path,
        id: &str,
        update: &Update,
        prov: &Provenance,
    ) -> Result<Option<Written>> {
        let write = Write::Update {
            id: id.to_owned(),
            update: update.clone(),
        };
        hand_over(start, write, prov)
    }

    /// [`Memdir::forget`] through the watcher serving the repository that holds `start`, as
    /// [`Memdir::remember_handed_over`] adds: `Ok(None)` when no watcher took it.
    pub fn forget_handed_over(
        start: &Path,
        id: &str,
        reason: Option<&str>,
        prov: &Provenance,
    ) -> Result<Option<Written>> {
        let write = Write::Forget {
            id: id.to_owned(),
            reason: reason.map(str::to_owned),
        };
        hand_over(start, write, prov)
    }

    /// Runs a write handed over to this handle's watcher and returns the answer's line.
    pub(super) fn run_handed_over(&self, request: &str) -> String {
        let answer = match serde_json::from_str::<Request>(request) {
            Err(e) => Answer::Declined(format!("a request this watcher cannot read: {e}")),
            Ok(request) => self.answer(request),
        };
        serde_json::to_string(&answer).expect("an answer serializes")
    }

    fn answer(&self, request: Request) -> Answer {
        if request.env != write_env() {
            return Answer::Declined("the caller's environment differs from the watcher's".into());
        }
        match Config::load(&self.root) {
            Ok(config) if config == self.config => {}
            _ => return Answer::Declined("memory.toml changed since the watcher started".into()),
        }
        if request.second_opinion != self.judge().is_some_and(Judge::has_key) {
            return Answer::Declined(
                "the caller and the watcher differ in asking the model for second opinions".into(),
            );
        }
        let prov = &request.provenance;
        let done = match request.write {
            Write::Remember(new) => self.remember(new, prov),
            Write::Update { id, update } => self.update(&id, update, prov),
            Write::Forget { id, reason } => self.forget(&id, reason.as_deref(), prov),
        };
        match done {
            Ok(written) => Answer::Written(written),
            Err(e) if nothing_written(e.kind()) => Answer::Declined(e.to_string()),
            Err(e) => {
                let mut message = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(cause) = source {
                    message.push_str(&format!(": {cause}"));
                    source = cause.source();
                }
                Answer::Failed(message)
            }
        }
    }
}

/// Hands `write` to the watcher serving the repository that holds `start` (see
/// [`Memdir::remember_handed_over`]).
fn hand_over(start: &Path, write: Write, prov: &Provenance) -> Result<Option<Written>> {
    let Ok((root, memdir_dir)) = Memdir::locate(start) else {
        return Ok(None);
    };
    let socket = vouch::socket_path(&memdir_dir);
    let second_opinion = Config::load(&root)
        .ok()
        .and_then(|config| judge_for(&config))
        .is_some_and(|judge| judge.has_key());
    let request = serde_json::to_string(&Request {
        write,
        provenance: prov.clone(),
        env: write_env(),
        second_opinion,
    })
    .expect("a request serializes");
    match vouch::hand_over(&memdir_dir, &request) {
        Handover::NotTaken => Ok(None),
        Handover::Lost(source) => Err(WatchError::Lost { socket, source }.into()),
        Handover::Answered(line) => match serde_json::from_str(&line) {
            Ok(Answer::Written(written)) => {
                tracing::debug!("the watcher wrote {}", written.id);
                Ok(Some(written))
            }
            Ok(Answer::Declined(why)) => {
                tracing::debug!("the watcher declined the write ({why}): writing here");
                Ok(None)
            }
            Ok(Answer::Failed(message)) => Err(WatchError::HandedOver { socket, message }.into()),
            Err(e) => Err(WatchError::Lost {
                socket,
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
            }
            .into()),
        },
    }
}

/// True for the kinds of error a write meets before it changes anything: it validates its
/// input, and a busy branch means nothing was changed.
fn nothing_written(kind: ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::Invalid
            | ErrorKind::InvalidId
            | ErrorKind::NotFound
            | ErrorKind::DuplicateId
            | ErrorKind::Config
            | ErrorKind::Busy
            | ErrorKind::Conflict
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{MemoryId, SourceRef, Timestamp};

    /// What a caller sends is what the watcher writes: every field of a new memory and of
    /// its provenance crosses the socket unchanged.
    #[test]
    fn a_request_and_an_answer_cross_the_socket_unchanged() {
        let new = NewMemory::new("Deploys go out on Tuesdays.")
            .title("Deploys")
            .kind("fact")
            .id(MemoryId::parse("deploys-1a2b3c").unwrap())
            .created(Timestamp::parse("2026-11-25T09:30:00.123456789+01:00").unwrap())
            .session("standup")
            .extra("speakers", serde_json::json!(["Alice"]));
        let new = NewMemory {
            tags: vec!["ops".into()],
            scope: Some("team:platform".into()),
            pinned: true,
            expires: Timestamp::parse("2099-01-01"),
            supersedes: vec![MemoryId::parse("old-deploys-4d5e6f").unwrap()],
            derived_from: vec![
                SourceRef::parse("old-deploys-4d5e6f@abcd123").unwrap(),
                SourceRef::parse("session:standup#t4").unwrap(),
            ],
            ..new
        };
        let provenance = Provenance {
            session: Some("s1".into()),
            agent: Some("scout".into()),
            step: Some("4".into()),
            reference: Some("https://example.com/t/1".into()),
            author: Some(crate::store::Author {
                name: "Ada".into(),
                email: "ada@example.com".into(),
            }),
        };
        let request_line = serde_json::to_string(&Request {
            write: Write::Remember(new.clone()),
            provenance: provenance.clone(),
            env: write_env(),
            second_opinion: false,
        })
        .unwrap();
        assert!(!request_line.contains('\n'));
        let back: Request = serde_json::from_str(&request_line).unwrap();
        assert_eq!(
            (back.write, back.provenance),
            (Write::Remember(new), provenance)
        );

        let written = Written {
            id: "deploys-1a2b3c".into(),
            path: "fact/deploys.md".into(),
            revision: Some(crate::memory::Revision("95e31bc".into())),
            commit: Some("16fb393".into()),
            flags: vec![crate::guard::Flag {
                rule: "injection.override".into(),
                span: crate::guard::Span { start: 0, end: 6 },
                why: "overrides".into(),
                excerpt: "Ignore".into(),
            }],
            quarantined: true,
            similar: vec![crate::similar::Similar::new("other-1a2b3c", 0.8)],
        };
        // A caller of a newer memdir, with a field this one does not know: not read, so the
        // watcher declines and the caller writes itself.
        let mut newer: serde_json::Value = serde_json::from_str(&request_line).unwrap();
        newer["write"]["remember"]["colour"] = "blue".into();
        assert!(serde_json::from_str::<Request>(&newer.to_string()).is_err());

        let line = serde_json::to_string(&Answer::Written(written.clone())).unwrap();
        assert!(line.contains(r#""status":"quarantined""#), "{line}");
        match serde_json::from_str(&line).unwrap() {
            Answer::Written(back) => assert_eq!(back, written),
            other => panic!("{other:?}"),
        }
    }

    /// A watcher writes only what the caller would have written: when one of them would ask
    /// the model of `[llm]` for a second opinion and the other would not (only one has the
    /// key), it declines, and nothing is written.
    #[test]
    fn a_watcher_declines_a_write_it_would_judge_otherwise_than_its_caller() {
        let dir = tempfile::tempdir().unwrap();
        let mut mem = Memdir::init(dir.path()).unwrap();
        let request = |second_opinion| {
            serde_json::to_string(&Request {
                write: Write::Remember(NewMemory::new("Deploys go out on Tuesdays.")),
                provenance: Provenance::agent("test"),
                env: write_env(),
                second_opinion,
            })
            .unwrap()
        };
        let answer = |mem: &Memdir, second_opinion| {
            serde_json::from_str::<Answer>(&mem.run_handed_over(&request(second_opinion))).unwrap()
        };
        // No model here: a caller that would ask one is declined.
        assert!(mem.judge().is_none());
        assert!(matches!(answer(&mem, true), Answer::Declined(_)));
        assert!(mem.list(&crate::Filter::default()).unwrap().is_empty());
        // A watcher that would ask one declines a caller that would not.
        let llm = crate::config::LlmConfig::new(crate::config::LlmProvider::Openai, "judge");
        mem.set_judge(Some(Judge::new(&llm, None)));
        assert!(matches!(answer(&mem, false), Answer::Declined(_)));
        assert!(matches!(answer(&mem, true), Answer::Written(_)));
    }
}
