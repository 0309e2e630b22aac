//! `memdir show`

use clap::Args;

use super::{CliError, Globals, print_json};

/// Print a memory
///
/// Prints the file as it is on disk. With --json: every front-matter field, plus `body`,
/// `path` and `revision` (the content hash `update --expect` takes). With --at, the memory as
/// it was then, from git history (`memdir log ID` lists its versions).
///
/// Examples:
///   memdir show api-port-3f2a1c
///   memdir show api-port-3f2a1c --at 2026-11-20
///   memdir show api-port-3f2a1c --at before-migration   (a snapshot)
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ShowArgs {
    /// The memory's id
    id: String,
    /// Show it as it was at this point: a commit (id, HEAD~3), a snapshot or tag, or a date
    /// (2026-11-25 is its midnight UTC; or RFC 3339): the last commit at or before it
    #[arg(long, value_name = "REV|DATE")]
    at: Option<String>,
}

pub fn cmd_show(g: &Globals, args: ShowArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    if let Some(at) = &args.at {
        let (point, memory) = mem.get_at(&args.id, at)?;
        if g.json {
            return print_json(&memory);
        }
        eprintln!(
            "{} as of commit {} ({})",
            memory.path,
            &point.commit[..12],
            point.committed
        );
        let text = mem.blob(&memory.revision)?;
        use std::io::Write as _;
        std::io::stdout().lock().write_all(&text)?;
        return Ok(());
    }
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
