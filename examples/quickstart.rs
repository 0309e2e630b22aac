//! Quickstart: an agent's memory in a git repository, from nothing to a cited search hit.
//!
//! The tour itself is library code, `memdir::quickstart::tour` (src/quickstart.rs, step by
//! step), so that the binary runs it without building this crate's dev-dependencies:
//! `cargo run --profile quick -- quickstart [DIR]` is the quick way (the README's first command). This example is the same tour
//! through the library API: `cargo run --release --example quickstart [DIR]`.

use std::path::PathBuf;

fn main() -> memdir::Result<()> {
    // # Step 1: pick a folder for the repository (default: a fresh temporary one).
    let temp = tempfile::tempdir().map_err(|e| memdir::Error::Io {
        path: "tmp".into(),
        source: e,
    })?;
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().join("memory"));

    // # Step 2: take the tour (init, remember, hand edit, search, stale write, context) and
    // print what it did.
    let tour = memdir::quickstart::tour(&dir)?;
    println!("{tour}");
    Ok(())
}
