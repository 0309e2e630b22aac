//! `memdir init`

use std::path::PathBuf;

use clap::Args;
use memdir::Memdir;
use serde_json::json;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Create a memory repository
///
/// Lays down the template (a commented memory.toml, MEMORY.md, a README and one folder per
/// memory type) as the first commit of a new git repository. Reuses an existing git
/// repository in DIR.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Where to create it [default: -C DIR, $MEMDIR_DIR, or the current directory]
    dir: Option<PathBuf>,
}

pub fn cmd_init(g: &Globals, args: InitArgs) -> Result<(), CliError> {
    let dir = args.dir.unwrap_or_else(|| g.start_dir());
    let mem = Memdir::init(&dir)?;
    let status = mem.status()?;
    if g.json {
        print_json(&json!({ "root": mem.root(), "commit": status.head }))?;
    } else {
        outln!("Initialized memory repository in {}", mem.root().display());
    }
    Ok(())
}
