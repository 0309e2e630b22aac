//! Quickstart: an agent's memory in a git repository, from nothing to a cited search hit.
//!
//! Run it with `cargo run --release --example quickstart [DIR]`. It creates a memory repository
//! in DIR (default: a fresh temporary folder), writes a few memories as an agent would, makes a
//! hand edit as a person would, searches, and shows what git recorded. No server, no API key.

use std::path::PathBuf;

use memdir::{Memdir, NewMemory, Provenance, SearchQuery, Update};

fn main() -> memdir::Result<()> {
    // # Step 1: create the repository.
    // `init` lays down memory.toml, MEMORY.md, a README and one folder per memory type, as the
    // first commit of a new git repository.
    let temp = tempfile::tempdir().map_err(|e| memdir::Error::Io {
        path: "tmp".into(),
        source: e,
    })?;
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().join("memory"));
    let mem = Memdir::init(&dir)?;
    println!(
        "# Created a memory repository in {}\n",
        mem.root().display()
    );

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
    let text = std::fs::read_to_string(&path).map_err(|e| memdir::Error::Io {
        path: path.clone(),
        source: e,
    })?;
    std::fs::write(
        &path,
        text.replace("port 8443 behind", "port 9443 (moved in November) behind"),
    )
    .map_err(|e| memdir::Error::Io {
        path: path.clone(),
        source: e,
    })?;
    mem.refresh()?;
    mem.commit_hand_edits(Some("Fix the staging port"), &Provenance::agent("alice"))?;

    // # Step 4: search finds passages, with the exact line in the file.
    for query in [
        "which port does staging use",
        "how do I tag a release",
        "editor theme",
    ] {
        println!("$ memdir search {query:?}");
        for hit in mem.search(&SearchQuery {
            text: query.into(),
            limit: Some(2),
            ..Default::default()
        })? {
            println!(
                "  {:5.2}  {}:{}  [{}@{}]",
                hit.score,
                hit.path,
                hit.line_start,
                hit.id,
                hit.revision.short()
            );
            println!(
                "         {}",
                hit.passage.lines().next().unwrap_or_default()
            );
        }
        println!();
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
    println!(
        "# A write against a stale revision is refused:\n  {}\n",
        stale.unwrap_err()
    );

    // # Step 6: what goes in front of a stateless model call: the memories that matter for
    // the task, within a token budget, each citing its file's revision.
    let ctx = mem.context(&memdir::context::ContextRequest::new(
        "get the staging release out",
        300,
    ))?;
    println!(
        "# Context for \"get the staging release out\" ({} of {} tokens):\n{}",
        ctx.tokens, ctx.budget, ctx.text
    );

    // # Step 7: git tells the story, no memdir needed.
    println!(
        "# git log --format='%h %s' (run it in {}):",
        mem.root().display()
    );
    let log = std::process::Command::new("git")
        .args([
            "log",
            "--format=%h %s%n%(trailers:key=Memdir-Op,key=Memdir-Agent,separator=%x2C )",
        ])
        .current_dir(mem.root())
        .output();
    match log {
        Ok(out) => print!("{}", String::from_utf8_lossy(&out.stdout)),
        Err(_) => println!("  (git is not installed; the history is there all the same)"),
    }
    Ok(())
}
