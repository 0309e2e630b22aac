//! `memdir reindex`

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use super::{CliError, Globals, print_json};
use crate::outln;

/// Rebuild the search index from the files
///
/// The index under .git/memdir/ is a cache: this throws it away and reads every memory file
/// again. Never needed in normal use; memdir keeps the index caught up by itself.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ReindexArgs {}

pub fn cmd_reindex(g: &Globals, _args: ReindexArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{spinner} reading {pos}/{len} files [{bar:30}] {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    let result = mem.reindex(&mut |done, total| {
        bar.set_length(total as u64);
        bar.set_position(done as u64);
    });
    bar.finish_and_clear();
    let refresh = result?;
    if g.json {
        return print_json(&refresh);
    }
    for p in &refresh.problems {
        eprintln!("warning: {p}");
    }
    outln!(
        "Indexed {} file(s){}.",
        refresh.reindexed - refresh.problems.len(),
        if refresh.problems.is_empty() {
            String::new()
        } else {
            format!("; {} could not be read (see above)", refresh.problems.len())
        }
    );
    Ok(())
}
