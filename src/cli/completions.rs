//! `memdir completions`: the shell completion script, generated from the command tree.

use clap::Args;
use clap_complete::Shell;

use super::{CliError, Globals};

/// Print the shell completion script for SHELL
///
/// Generated from memdir's own command tree, so it knows every subcommand and flag of this
/// version. Load it from your shell's startup file, or install it where the shell looks:
///
///   bash        echo 'source <(memdir completions bash)' >> ~/.bashrc
///   zsh         memdir completions zsh > "${fpath[1]}/_memdir"
///   fish        memdir completions fish > ~/.config/fish/completions/memdir.fish
///   powershell  memdir completions powershell >> $PROFILE
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: Shell,
}

pub fn cmd_completions(_g: &Globals, args: CompletionsArgs) -> Result<(), CliError> {
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut super::help::command(), "memdir", &mut out);
    super::write_stdout(&out)
}
