//! `memdir init`

use std::path::PathBuf;

use clap::Args;
use memdir::Memdir;
use serde_json::json;

use super::{CliError, Globals, print_json};
use crate::outln;

/// Create a memory repository, or project memory
///
/// Lays down the template (a commented memory.toml, MEMORY.md, a README and one folder per
/// memory type) as the first commit of a new git repository. Reuses an existing git
/// repository in DIR, but refuses one whose committed Markdown files (a CHANGELOG, docs)
/// would be taken for memories: use --project there, or --adopt when they are notes.
///
/// With --project, run inside a project's git repository: memory goes to a folder of that
/// repository (.memdir/ at its top, or DIR), as CLAUDE.md lives with the code it describes.
/// memdir commits only that folder's files, never touching your other staged or unstaged
/// changes; the project's own `git pull` and `git push` carry the memory, and memdir's merge
/// driver merges it. Every memdir command run anywhere in the project finds it.
///
/// Examples:
///   memdir init ~/mem                 a memory repository of its own
///   cd ~/src/api && memdir init --project
///                                     project memory in ~/src/api/.memdir/
///   memdir init --project docs/memory project memory in a folder you choose
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// Where to create it [default: -C DIR, $MEMDIR_DIR, or the current directory; with
    /// --project: .memdir at the top of the project]
    #[arg(value_name = "DIR")]
    folder: Option<PathBuf>,
    /// Keep memory in a folder of the git repository around the current directory (or -C DIR)
    #[arg(long, conflicts_with = "adopt")]
    project: bool,
    /// In an existing git repository, take its committed Markdown files as memories (a folder
    /// of hand-written notes)
    #[arg(long)]
    adopt: bool,
}

pub fn cmd_init(g: &Globals, args: InitArgs) -> Result<(), CliError> {
    let mem = if args.project {
        Memdir::init_project(&g.start_dir(), args.folder.as_deref())?
    } else if args.adopt {
        Memdir::init_adopting(&args.folder.unwrap_or_else(|| g.start_dir()), None)?
    } else {
        Memdir::init(&args.folder.unwrap_or_else(|| g.start_dir()))?
    };
    let status = mem.status()?;
    if g.json {
        print_json(&json!({
            "root": mem.root(),
            "commit": status.head,
            "project": mem.is_project(),
        }))?;
    } else if mem.is_project() {
        outln!("Initialized project memory in {}", mem.root().display());
        outln!(
            "Commit and push it with the project; `git pull` merges memories with memdir's merge driver."
        );
    } else {
        outln!("Initialized memory repository in {}", mem.root().display());
    }
    Ok(())
}
