//! `memdir show`

use clap::Args;

use super::{CliError, Globals, print_json};

/// Print a memory
///
/// Prints the file as it is on disk. With --json: every front-matter field, plus `body`,
/// `path` and `revision` (the content hash `update --expect` takes).
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The memory's id
    id: String,
}

pub fn cmd_show(g: &Globals, args: ShowArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let memory = mem.get(&args.id)?;
    if g.json {
        print_json(&memory)?;
    } else {
        use std::io::Write as _;
        let text = std::fs::read(mem.root().join(&memory.path))?;
        std::io::stdout().lock().write_all(&text)?;
    }
    Ok(())
}
