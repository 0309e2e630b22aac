//! Exploration: a context that shares facts but withholds other agents' conclusions.
//!
//! Agents that read each other's conclusions inherit each other's framing and converge; an
//! agent sent to explore should start from the evidence, not from what its peers decided. A
//! context built with [`ContextRequest::explore`](super::ContextRequest::explore) set to an
//! agent's name leaves out every retrieved memory that another agent wrote, unless it is
//! shared. This module is the one statement of that rule ([`withholds`]); the context builder
//! applies it to its candidates and reports what it left out ([`Withheld`]).
//!
//! Who wrote a memory is its front-matter's `source.agent` (what memdir records from
//! `--agent`, `MEMDIR_AGENT`, an MCP client's name or an HTTP write's `agent`):
//! - no `source.agent` (a person's `memdir add`, a file written by hand), or one that names
//!   a person with a `user:` or `person:` prefix (`user:alice`, the convention of scopes):
//!   a person wrote it, and it stays;
//! - the exploring agent's own name: it stays (an `agent:` prefix on either side is ignored,
//!   so `agent:planner` is `planner`);
//! - any other name: another agent concluded it, and it is withheld, unless the memory says
//!   `shared: true` or its scope is listed in `[context] shared_scopes` of `memory.toml`.
//!
//! Pinned memories (`MEMORY.md`, `pinned: true`) and the session's turns always stay.
//!
//! ```
//! use memdir::context::explore::{Writer, withholds, writer};
//! use memdir::memory::Source;
//!
//! let by = |agent: &str| Source { agent: Some(agent.into()), ..Source::default() };
//! assert_eq!(writer(&Source::default()), Writer::Person);
//! assert_eq!(writer(&by("user:alice")), Writer::Person);
//! assert_eq!(writer(&by("agent:planner")), Writer::Agent("planner"));
//!
//! // Exploring as `scout`: the planner's conclusion is withheld, the scout's own stays.
//! let shared = ["team".to_owned()];
//! assert_eq!(withholds(&by("planner"), false, None, "scout", &shared), Some("planner"));
//! assert_eq!(withholds(&by("scout"), false, None, "scout", &shared), None);
//! // Marked shared, or in a shared scope: it stays.
//! assert_eq!(withholds(&by("planner"), true, None, "scout", &shared), None);
//! assert_eq!(withholds(&by("planner"), false, Some("team"), "scout", &shared), None);
//! ```

use serde::Serialize;

use crate::memory::{FrontMatter, Source};

/// The front-matter key that shares a memory with exploring agents (`shared: true`).
pub const SHARED_KEY: &str = "shared";

/// Agent names with these prefixes name a person, not an agent.
const PERSON_PREFIXES: [&str; 2] = ["user:", "person:"];

/// Who wrote a memory, as far as exploration is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Writer<'a> {
    /// A person: no agent recorded, or one named `user:...` or `person:...`.
    Person,
    /// The named agent, without an `agent:` prefix.
    Agent(&'a str),
}

/// Returns who wrote a memory with provenance `source`.
pub fn writer(source: &Source) -> Writer<'_> {
    match source.agent.as_deref().map(str::trim) {
        None | Some("") => Writer::Person,
        Some(a) if PERSON_PREFIXES.iter().any(|p| a.starts_with(p)) => Writer::Person,
        Some(a) => Writer::Agent(agent_name(a)),
    }
}

/// Returns an agent's name without an `agent:` prefix.
fn agent_name(name: &str) -> &str {
    let name = name.trim();
    name.strip_prefix("agent:").unwrap_or(name).trim()
}

/// Returns the agent whose conclusion an agent exploring as `explorer` does not see: the
/// writer of a memory with provenance `source`, when it is another agent and the memory is
/// neither `shared` nor of a scope in `shared_scopes`. `None`: the memory stays.
pub fn withholds<'a>(
    source: &'a Source,
    shared: bool,
    scope: Option<&str>,
    explorer: &str,
    shared_scopes: &[String],
) -> Option<&'a str> {
    let Writer::Agent(agent) = writer(source) else {
        return None;
    };
    let in_shared_scope = scope.is_some_and(|s| shared_scopes.iter().any(|x| x == s));
    (agent != agent_name(explorer) && !shared && !in_shared_scope).then_some(agent)
}

/// Returns true if the front-matter says `shared: true`.
pub fn is_shared(front: &FrontMatter) -> bool {
    match front.extra.get(SHARED_KEY) {
        Some(serde_json::Value::Bool(b)) => *b,
        Some(serde_json::Value::String(s)) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// A memory an exploring context left out, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "http", derive(utoipa::ToSchema))]
pub struct Withheld {
    /// Memory id.
    pub id: String,
    /// File, relative to the root.
    pub path: String,
    /// The agent that wrote it (`source.agent`).
    pub agent: String,
    /// Why, as a sentence.
    pub why: String,
}

impl Withheld {
    /// Returns the report of `front`'s memory at `path` if an agent exploring as `explorer`
    /// does not see it (see [`withholds`]).
    pub(crate) fn of(
        front: &FrontMatter,
        path: &str,
        explorer: &str,
        shared_scopes: &[String],
    ) -> Option<Withheld> {
        let agent = withholds(
            &front.source,
            is_shared(front),
            front.scope.as_deref(),
            explorer,
            shared_scopes,
        )?;
        Some(Withheld {
            id: front.id.to_string(),
            path: path.to_owned(),
            agent: agent.to_owned(),
            why: format!(
                "written by agent `{agent}`, not `{}`, and not shared (`shared: true` or a scope in [context] shared_scopes)",
                agent_name(explorer)
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by(agent: Option<&str>) -> Source {
        Source {
            agent: agent.map(str::to_owned),
            ..Source::default()
        }
    }

    #[test]
    fn people_write_without_an_agent_or_with_a_person_prefix() {
        for person in [
            None,
            Some(""),
            Some("  "),
            Some("user:alice"),
            Some("person:bob"),
        ] {
            assert_eq!(writer(&by(person)), Writer::Person, "{person:?}");
        }
        assert_eq!(writer(&by(Some("planner"))), Writer::Agent("planner"));
        assert_eq!(writer(&by(Some("agent:planner"))), Writer::Agent("planner"));
    }

    #[test]
    fn only_other_agents_unshared_conclusions_are_withheld() {
        let scopes = ["project:api".to_owned()];
        let withheld = |agent, shared, scope| {
            withholds(&by(agent), shared, scope, "agent:scout", &scopes).is_some()
        };
        assert!(withheld(Some("planner"), false, None));
        assert!(withheld(Some("planner"), false, Some("project:web")));
        assert!(!withheld(Some("planner"), true, None), "shared: true");
        assert!(
            !withheld(Some("planner"), false, Some("project:api")),
            "shared scope"
        );
        assert!(!withheld(Some("scout"), false, None), "its own");
        assert!(!withheld(None, false, None), "a person's");
        assert!(!withheld(Some("user:alice"), false, None), "a person's");
    }
}
