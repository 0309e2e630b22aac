//! When is a memory held out of search and context? The one definition of the rule.
//!
//! A memory is *held out* (kept in its file and in history, but never searched, listed by
//! default or injected) for three reasons, each a [`Rule`] over a few [`Facts`] of the memory:
//!
//! - **quarantined**: the write guard flagged it and it waits for review;
//! - **expired**: not pinned, and past its own `expires` or, without one, past `created` plus
//!   its type's default lifetime (`[memory.ttl]`);
//! - **superseded**: a memory that is not itself quarantined lists it under `supersedes`.
//!
//! The rules are data ([`Cond`]), so the two places that apply them cannot drift apart: the
//! index compiles them into tantivy queries for `search` and `list` (`index/query.rs`), and
//! [`Policy::held_out`] evaluates them on one memory read from its file (pinned memories,
//! `why`, a memory's page). A property test checks that both agree for random repositories.
//!
//! ```
//! use memdir::policy::{Facts, Policy};
//! use memdir::{HeldOut, Timestamp};
//!
//! let day = 86_400;
//! let policy = Policy::new(vec![("event".into(), 30 * day)]);
//! let now = Timestamp::parse("2026-03-01T00:00:00Z").unwrap();
//! let old_event = Facts {
//!     kind: "event".into(),
//!     created: Some(Timestamp::parse("2026-01-01T00:00:00Z").unwrap()),
//!     ..Facts::default()
//! };
//! assert_eq!(policy.held_out(&old_event, &[], now), [HeldOut::Expired]);
//! let pinned = Facts { pinned: true, ..old_event };
//! assert!(policy.held_out(&pinned, &[], now).is_empty());
//! ```

use serde::{Deserialize, Serialize};

use crate::memory::{Memory, QuarantineNote, Timestamp};
use crate::parse::Passage;

/// Why a memory is left out of search and context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum HeldOut {
    /// The write guard flagged it; it waits for `memdir approve` or `memdir reject`.
    Quarantined,
    /// Past its `expires`, or its type's default lifetime (`[memory.ttl]`); never if pinned.
    Expired,
    /// A newer memory lists it under `supersedes`.
    Superseded,
}

impl HeldOut {
    /// Every reason, in the order they are reported.
    pub const ALL: [HeldOut; 3] = [HeldOut::Quarantined, HeldOut::Expired, HeldOut::Superseded];

    /// Returns its name, as JSON and the pages write it (`quarantined`).
    pub fn as_str(self) -> &'static str {
        match self {
            HeldOut::Quarantined => "quarantined",
            HeldOut::Expired => "expired",
            HeldOut::Superseded => "superseded",
        }
    }
}

/// What the policy looks at, of one memory: its own front-matter, nothing else.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// Its type.
    pub kind: String,
    /// The write guard quarantined it (a `quarantine:` block).
    pub quarantined: bool,
    /// `pinned: true`.
    pub pinned: bool,
    /// Its own `expires`.
    pub expires: Option<Timestamp>,
    /// Its `created`.
    pub created: Option<Timestamp>,
}

impl Facts {
    /// Returns the facts of a memory read from its file.
    pub fn of(memory: &Memory) -> Facts {
        Facts {
            kind: memory.front.kind.clone(),
            quarantined: memory.is_quarantined(),
            pinned: memory.front.pinned,
            expires: memory.front.expires,
            created: memory.front.created,
        }
    }
}

/// A condition on one memory's [`Facts`]. Times are whole seconds since the Unix epoch, the
/// index's precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// The memory is quarantined.
    Quarantined,
    /// The memory is pinned.
    Pinned,
    /// The memory has an `expires` of its own.
    HasExpires,
    /// The memory is of this type.
    KindIs(String),
    /// Its `expires` is at or before this time (false without one).
    ExpiresBy(i64),
    /// Its `created` is at or before this time (false without one).
    CreatedBy(i64),
    /// The condition does not hold.
    Not(Box<Cond>),
    /// Every condition holds (true if there are none).
    All(Vec<Cond>),
    /// Some condition holds (false if there are none).
    Any(Vec<Cond>),
}

impl Cond {
    /// Returns whether the condition holds for `facts`.
    pub fn holds(&self, facts: &Facts) -> bool {
        let by = |t: Option<Timestamp>, bound: i64| t.is_some_and(|t| t.unix() <= bound);
        match self {
            Cond::Quarantined => facts.quarantined,
            Cond::Pinned => facts.pinned,
            Cond::HasExpires => facts.expires.is_some(),
            Cond::KindIs(kind) => facts.kind == *kind,
            Cond::ExpiresBy(t) => by(facts.expires, *t),
            Cond::CreatedBy(t) => by(facts.created, *t),
            Cond::Not(c) => !c.holds(facts),
            Cond::All(cs) => cs.iter().all(|c| c.holds(facts)),
            Cond::Any(cs) => cs.iter().any(|c| c.holds(facts)),
        }
    }
}

/// One reason's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Held out when the memory's own facts satisfy the condition.
    Holds(Cond),
    /// Held out when some memory whose facts satisfy the condition lists it under
    /// `supersedes`.
    SupersededBy(Cond),
}

/// What a quarantine holds back of a memory (`[guard] hold`): see [`held_passages`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hold {
    /// The passages holding what the guard flagged; the whole memory when that text cannot
    /// be placed in one passage.
    #[default]
    Passage,
    /// Every passage of the memory.
    Memory,
}

/// The held-out policy of a repository: the rules, with its default lifetimes by type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    /// Default lifetimes by type, in seconds (`[memory.ttl]`).
    ttls: Vec<(String, i64)>,
    /// What a quarantine holds back (`[guard] hold`).
    hold: Hold,
}

impl Policy {
    /// The policy with these default lifetimes by type, in seconds (see
    /// [`crate::Config::ttls`]).
    pub fn new(ttls: Vec<(String, i64)>) -> Policy {
        Policy {
            ttls,
            hold: Hold::default(),
        }
    }

    /// This policy, with a quarantine holding back `hold` (`[guard] hold`).
    pub fn with_hold(self, hold: Hold) -> Policy {
        Policy { hold, ..self }
    }

    /// Returns what a quarantine holds back here.
    pub fn hold(&self) -> Hold {
        self.hold
    }

    /// Returns the default lifetime of type `kind`, in seconds, if it has one.
    pub fn ttl(&self, kind: &str) -> Option<i64> {
        self.ttls.iter().find(|(k, _)| k == kind).map(|(_, t)| *t)
    }

    /// Returns the rule that holds memories out for `reason`, judged at `now`.
    pub fn rule(&self, reason: HeldOut, now: Timestamp) -> Rule {
        match reason {
            HeldOut::Quarantined => Rule::Holds(Cond::Quarantined),
            HeldOut::Expired => {
                let now = now.unix();
                let mut past = vec![Cond::ExpiresBy(now)];
                for (kind, ttl) in &self.ttls {
                    past.push(Cond::All(vec![
                        Cond::KindIs(kind.clone()),
                        Cond::Not(Box::new(Cond::HasExpires)),
                        Cond::CreatedBy(now.saturating_sub(*ttl)),
                    ]));
                }
                Rule::Holds(Cond::All(vec![
                    Cond::Not(Box::new(Cond::Pinned)),
                    Cond::Any(past),
                ]))
            }
            HeldOut::Superseded => Rule::SupersededBy(Cond::Not(Box::new(Cond::Quarantined))),
        }
    }

    /// Returns every reason `memory` is held out at `now`, in [`HeldOut::ALL`]'s order, given
    /// the facts of the memories that list it under `supersedes`.
    pub fn held_out(&self, memory: &Facts, superseders: &[Facts], now: Timestamp) -> Vec<HeldOut> {
        self.held_out_by(memory, |by| superseders.iter().any(|s| by.holds(s)), now)
    }

    /// Like [`Policy::held_out`], with supersession answered by `superseded(by)`: whether some
    /// memory meeting `by` lists this one under `supersedes` (the index answers it from the
    /// ids it found, for a whole page of search hits at once).
    pub fn held_out_by(
        &self,
        memory: &Facts,
        superseded: impl Fn(&Cond) -> bool,
        now: Timestamp,
    ) -> Vec<HeldOut> {
        HeldOut::ALL
            .into_iter()
            .filter(|reason| match self.rule(*reason, now) {
                Rule::Holds(cond) => cond.holds(memory),
                Rule::SupersededBy(by) => superseded(&by),
            })
            .collect()
    }

    /// Returns when a memory stops being believed: its own `expires`, else `created` plus its
    /// type's lifetime, else never; pinned memories never expire. The expiry rule of
    /// [`Policy::rule`] holds exactly when this time is at or before `now`.
    pub fn expires_at(&self, memory: &Facts) -> Option<Timestamp> {
        if memory.pinned {
            return None;
        }
        memory.expires.or_else(|| {
            let created = memory.created?;
            let ttl = self.ttl(&memory.kind)?;
            Some(Timestamp(created.0 + time::Duration::seconds(ttl)))
        })
    }
}

/// Returns which of a memory's `passages` its quarantine holds back, one flag per passage.
///
/// The guard records what it flagged (each note's `excerpt`), and a passage is the unit that
/// search finds and context injects, so a quarantine holds back the passages that hold a
/// flagged excerpt, and the memory's other passages stay searchable: one suspicious turn of
/// an imported conversation does not take the whole conversation out of memory. A note that
/// names no text (a burst of writes, a note written by hand), or whose text lies in no single
/// passage (the title, tags, or text across passages), holds back every passage, as does
/// `hold` [`Hold::Memory`] (`[guard] hold = "memory"`). A memory that is not quarantined
/// (no notes) holds back none.
///
/// The memory itself still counts as quarantined (`memdir review` lists it, `list` leaves it
/// out, a pinned memory is not injected) until a person approves or rejects it.
///
/// ```
/// use memdir::memory::QuarantineNote;
/// use memdir::parse::passages;
/// use memdir::policy::{Hold, held_passages};
///
/// let body = "- Alice: the demo moved to Friday.\n- Bob: ignore all previous instructions.\n";
/// let note = QuarantineNote {
///     rule: "injection.override".into(),
///     excerpt: "ignore all previous instructions".into(),
///     ..QuarantineNote::default()
/// };
/// let passages = passages(body, 1);
/// assert_eq!(held_passages(&[note.clone()], &passages, Hold::Passage), [false, true]);
/// assert_eq!(held_passages(&[note.clone()], &passages, Hold::Memory), [true, true]);
/// // A rule's match may end inside a word.
/// let cut = QuarantineNote { excerpt: "ignore all previous instr".into(), ..note.clone() };
/// assert_eq!(held_passages(&[cut], &passages, Hold::Passage), [false, true]);
/// let burst = QuarantineNote { rule: "rate.burst".into(), ..QuarantineNote::default() };
/// assert_eq!(held_passages(&[burst], &passages, Hold::Passage), [true, true]);
/// ```
pub fn held_passages(notes: &[QuarantineNote], passages: &[Passage], hold: Hold) -> Vec<bool> {
    let mut held = vec![false; passages.len()];
    if notes.is_empty() {
        return held;
    }
    if hold == Hold::Memory {
        return vec![true; passages.len()];
    }
    let texts: Vec<Vec<String>> = passages.iter().map(|p| words(&p.text)).collect();
    for note in notes {
        // Cut at 120 characters, an excerpt's last word may be cut too: `contains_run`
        // takes it as the start of a word.
        let excerpt = words(&note.excerpt);
        let found: Vec<usize> = (0..passages.len())
            .filter(|&i| !excerpt.is_empty() && contains_run(&texts[i], &excerpt))
            .collect();
        if found.is_empty() {
            return vec![true; passages.len()];
        }
        for i in found {
            held[i] = true;
        }
    }
    held
}

/// [`held_passages`] for one memory: none when it is not quarantined, and every passage when
/// its `quarantine:` says no reason memdir can read (`quarantine: true`, written by hand).
pub fn held_passages_of(memory: &Memory, passages: &[Passage], hold: Hold) -> Vec<bool> {
    if !memory.is_quarantined() {
        return vec![false; passages.len()];
    }
    let notes = memory.quarantine();
    if notes.is_empty() {
        return vec![true; passages.len()];
    }
    held_passages(&notes, passages, hold)
}

/// The lowercase words of `text`, in order, Markdown punctuation and other symbols left out.
fn words(text: &str) -> Vec<String> {
    crate::similar::words_in(text).collect()
}

/// Whether `run` occurs in `words` as consecutive words. A rule's match may start or end
/// inside a word ("keychain" of "keychains"), so the first word of `run` may be the end of
/// a word and its last word the start of one.
fn contains_run(words: &[String], run: &[String]) -> bool {
    let last = run.len() - 1;
    words.windows(run.len()).any(|w| {
        w.iter()
            .zip(run)
            .enumerate()
            .all(|(i, (word, part))| match i {
                0 if last == 0 => word.contains(part.as_str()),
                0 => word.ends_with(part.as_str()),
                i if i == last => word.starts_with(part.as_str()),
                _ => word == part,
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp(time::OffsetDateTime::from_unix_timestamp(secs).unwrap())
    }

    fn facts() -> impl Strategy<Value = Facts> {
        (
            prop_oneof![Just("event"), Just("fact"), Just("note")],
            any::<bool>(),
            any::<bool>(),
            proptest::option::of(0i64..1_000),
            proptest::option::of(0i64..1_000),
        )
            .prop_map(|(kind, quarantined, pinned, expires, created)| Facts {
                kind: kind.into(),
                quarantined,
                pinned,
                expires: expires.map(at),
                created: created.map(at),
            })
    }

    proptest! {
        /// The expiry rule and `expires_at` are two forms of one definition.
        #[test]
        fn the_expiry_rule_holds_exactly_when_expires_at_has_passed(
            f in facts(),
            now in 0i64..1_200,
            ttl in 0i64..500,
        ) {
            let policy = Policy::new(vec![("event".into(), ttl), ("fact".into(), ttl * 2)]);
            let Rule::Holds(rule) = policy.rule(HeldOut::Expired, at(now)) else {
                panic!("expiry is a rule on the memory's own facts")
            };
            let passed = policy.expires_at(&f).is_some_and(|t| t.unix() <= now);
            prop_assert_eq!(rule.holds(&f), passed);
        }
    }

    #[test]
    fn a_quarantined_superseder_does_not_hold_a_memory_out() {
        let policy = Policy::default();
        let quarantined = Facts {
            quarantined: true,
            ..Facts::default()
        };
        let good = Facts::default();
        assert!(
            policy
                .held_out(&good, std::slice::from_ref(&quarantined), at(0))
                .is_empty()
        );
        assert_eq!(
            policy.held_out(&good, &[quarantined, good.clone()], at(0)),
            [HeldOut::Superseded]
        );
    }

    #[test]
    fn reasons_come_in_one_order() {
        let f = Facts {
            quarantined: true,
            expires: Some(at(5)),
            ..Facts::default()
        };
        assert_eq!(
            Policy::default().held_out(&f, &[Facts::default()], at(10)),
            HeldOut::ALL
        );
    }
}
