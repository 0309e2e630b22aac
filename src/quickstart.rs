//! The quickstart tour: an agent's memory in a git repository, from nothing to a cited search
//! hit, as `memdir quickstart` runs it (and `examples/quickstart.rs`).
//!
//! [`tour`] creates a memory repository, writes a few memories as an agent would, makes a hand
//! edit as a person would, searches, refuses a stale write and builds the context a stateless
//! model call would get. It returns what happened as a [`Tour`], whose `Display` is the
//! walkthrough's text; printing it, and showing `git log`, is the caller's business. It lives
//! in the library, not in an example, so that the binary runs it: building an example builds
//! every dev-dependency, which took a fresh machine ten minutes before the first output.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::context::{Context, ContextRequest};
use crate::{Hit, Memdir, NewMemory, Provenance, Result, SearchQuery, Update};

/// The queries the tour searches for.
pub const QUERIES: [&str; 3] = [
    "which port does staging use",
    "how do I tag a release",
    "editor theme",
];

/// What the tour did, step by step.
#[derive(Debug)]
pub struct Tour {
    /// The repository it created.
    pub root: PathBuf,
    /// Each query of [`QUERIES`] and its best two hits.
    pub searches: Vec<(String, Vec<Hit>)>,
    /// Why the write against a stale revision was refused.
    pub stale_write: String,
    /// The query the context was built for.
    pub context_query: String,
    /// The context built for it.
    pub context: Context,
}

/// Runs the tour in a new repository at `dir` (which must not be a repository yet).
pub fn tour(dir: &Path) -> Result<Tour> {
    // # Step 1: create the repository.
    // `init` lays down memory.toml, MEMORY.md, a README and one folder per memory type, as the
    // first commit of a new git repository.
    let mem = Memdir::init(dir)?;

    // # Step 2: an agent remembers things, with provenance.
    // Each write is one commit; session, agent and step go into its trailers.
    let agent = Provenance {
        session: Some("s-2026-11-25-a".into()),
        agent: Some("quickstart-agent".into()),
        step: Some("1".into()),
        ..Provenance::default()
    };
    let dark = mem.remember(
        NewMemory::new("Alice wants dark mode in every editor and terminal.")
            .title("Prefers dark mode")
            .kind("preference")
            .tag("ui")
            .scope("user:alice"),
        &agent,
    )?;
    mem.remember(
        NewMemory::new(
            "# Releasing\n\n1. Bump the version in Cargo.toml.\n2. Tag the commit `vX.Y.Z`.\n3. Push the tag; CI publishes the crate.\n",
        )
        .title("How to release")
        .kind("procedure")
        .tag("release"),
        &agent,
    )?;
    mem.remember(
        NewMemory::new("The staging API listens on port 8443 behind the corporate proxy.")
            .title("Staging API port")
            .kind("fact")
            .tag("api"),
        &agent,
    )?;

    // # Step 3: a person fixes a memory by hand in an editor.
    // No memdir command in between: the next search sees the new text.
    let fact = mem.search(&SearchQuery::new("staging port"))?.remove(0);
    let path = mem.root().join(&fact.path);
    let text = std::fs::read_to_string(&path).map_err(|e| crate::Error::io(&path, e))?;
    std::fs::write(
        &path,
        text.replace("port 8443 behind", "port 9443 (moved in November) behind"),
    )
    .map_err(|e| crate::Error::io(&path, e))?;
    mem.refresh()?;
    mem.commit_hand_edits(Some("Fix the staging port"), &Provenance::agent("alice"))?;

    // # Step 4: search finds passages, with the exact line in the file.
    let mut searches = Vec::new();
    for query in QUERIES {
        let hits = mem.search(&SearchQuery {
            text: query.into(),
            limit: Some(2),
            ..Default::default()
        })?;
        searches.push((query.to_owned(), hits));
    }

    // # Step 5: update with compare-and-swap: a stale revision is refused, never overwritten.
    let current = mem.get(&dark.id)?;
    mem.update(
        &dark.id,
        Update {
            add_tags: vec!["terminal".into()],
            expect: Some(current.revision.0.clone()),
            ..Default::default()
        },
        &agent,
    )?;
    let stale = mem.update(
        &dark.id,
        Update {
            title: Some("Likes light mode".into()),
            expect: Some(current.revision.0),
            ..Default::default()
        },
        &agent,
    );
    let stale_write = match stale {
        Err(e) => e.to_string(),
        Ok(_) => {
            return Err(crate::Error::Invalid {
                message: "a write against a stale revision was accepted".into(),
            });
        }
    };

    // # Step 6: what goes in front of a stateless model call: the memories that matter for
    // the task, within a token budget, each citing its file's revision.
    let context_query = "get the staging release out".to_owned();
    let context = mem.context(&ContextRequest::new(context_query.as_str(), 300))?;

    Ok(Tour {
        root: mem.root().to_owned(),
        searches,
        stale_write,
        context_query,
        context,
    })
}

impl fmt::Display for Tour {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "# Created a memory repository in {}\n",
            self.root.display()
        )?;
        for (query, hits) in &self.searches {
            writeln!(f, "$ memdir search {query:?}")?;
            for hit in hits {
                writeln!(
                    f,
                    "  {:5.2}  {}:{}  [{}@{}]",
                    hit.score,
                    hit.path,
                    hit.line_start,
                    hit.id,
                    hit.revision.short()
                )?;
                writeln!(
                    f,
                    "         {}",
                    hit.passage.lines().next().unwrap_or_default()
                )?;
            }
            writeln!(f)?;
        }
        writeln!(
            f,
            "# A write against a stale revision is refused:\n  {}\n",
            self.stale_write
        )?;
        writeln!(
            f,
            "# Context for {:?} ({} of {} tokens):\n{}",
            self.context_query, self.context.tokens, self.context.budget, self.context.text
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tour_finds_the_hand_edit_and_refuses_the_stale_write() {
        let dir = tempfile::tempdir().unwrap();
        let tour = tour(&dir.path().join("memory")).unwrap();
        let (_, hits) = &tour.searches[0];
        assert!(hits[0].passage.contains("port 9443"), "{hits:?}");
        assert!(
            tour.stale_write.contains("expected revision"),
            "{}",
            tour.stale_write
        );
        assert!(tour.context.tokens <= 300);
        let text = tour.to_string();
        assert!(
            text.starts_with("# Created a memory repository in "),
            "{text}"
        );
        assert!(text.contains("$ memdir search \"editor theme\""), "{text}");
    }
}
