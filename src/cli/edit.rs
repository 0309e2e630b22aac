//! `memdir edit`

use std::process::Command;

use clap::Args;

use super::{CliError, Globals, ProvenanceArgs, print_json};
use crate::outln;

/// Edit a memory in $EDITOR and commit the result
///
/// Opens a copy of the file in $VISUAL or $EDITOR (default: vi). When the editor exits, the
/// copy is checked (it must parse and keep its id) and committed (`Memdir-Op: edit`). If the
/// memory changed meanwhile (exit code 3) or the edit is invalid, nothing is written and the
/// path of your edited copy is printed so no work is lost.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct EditArgs {
    /// The memory's id
    id: String,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

pub fn cmd_edit(g: &Globals, args: EditArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let memory = mem.get(&args.id)?;
    let original = std::fs::read_to_string(mem.root().join(&memory.path))?;
    let scratch_dir = mem.memdir_dir().join("edit");
    std::fs::create_dir_all(&scratch_dir)?;
    let scratch = scratch_dir.join(format!("{}.md", memory.front.id));
    std::fs::write(&scratch, &original)?;
    let editor = std::env::var("VISUAL")
        .ok()
        .filter(|e| !e.trim().is_empty())
        .or_else(|| {
            std::env::var("EDITOR")
                .ok()
                .filter(|e| !e.trim().is_empty())
        })
        .unwrap_or_else(|| "vi".to_owned());
    // Run through the shell so EDITOR may carry arguments ("code --wait").
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(&scratch)
        .status()
        .map_err(|e| {
            CliError::user(format!("cannot start the editor `{editor}`: {e}")).hint("set $EDITOR")
        })?;
    if !status.success() {
        return Err(CliError::user(format!(
            "the editor `{editor}` exited with {status}; nothing was changed"
        ))
        .hint(format!("your copy is at {}", scratch.display())));
    }
    let edited = std::fs::read_to_string(&scratch)?;
    let keep = |e: memdir::Error| {
        CliError::from(e).hint(format!("your edited copy is kept at {}", scratch.display()))
    };
    let written = mem
        .replace(
            &args.id,
            &edited,
            Some(&memory.revision.0),
            &args.provenance.provenance(),
        )
        .map_err(keep)?;
    std::fs::remove_file(&scratch)?;
    if g.json {
        return print_json(&written);
    }
    match written.commit {
        Some(_) => outln!("Edited {}.", written.id),
        None => outln!("No change to {}.", written.id),
    }
    super::write::report_flags(&written);
    Ok(())
}
