//! `memdir man`: manual pages, generated from the command tree.

use clap::Args;

use super::{CliError, Globals};

/// Print a manual page (roff) on stdout
///
/// Without COMMAND, the page of `memdir` itself, memdir(1): what it is, its global options and
/// every subcommand with its summary. With one, that subcommand's page, such as memdir-add(1),
/// which the first page refers to.
///
/// Examples:
///   memdir man | man -l -
///   memdir man session append | man -l -
///   memdir man > ~/.local/share/man/man1/memdir.1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ManArgs {
    /// The subcommand whose page to print (its path: `session append`)
    #[arg(value_name = "COMMAND")]
    command: Vec<String>,
}

pub fn cmd_man(_g: &Globals, args: ManArgs) -> Result<(), CliError> {
    let mut cmd = super::help::command();
    // Building sets each subcommand's display name (`memdir-add`), which names its page.
    cmd.build();
    for name in &args.command {
        cmd = cmd
            .find_subcommand(name)
            .filter(|c| !c.is_hide_set())
            .cloned()
            .ok_or_else(|| {
                CliError::user(format!(
                    "`{name}` is not a subcommand of `{}`",
                    cmd.get_bin_name().unwrap_or("memdir")
                ))
                .hint("`memdir --help` lists them")
            })?;
    }
    let mut out = Vec::new();
    clap_mangen::Man::new(cmd)
        .source(format!("memdir {}", env!("CARGO_PKG_VERSION")))
        .render(&mut out)?;
    super::write_stdout(&out)
}
