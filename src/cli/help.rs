//! How `--help` is laid out: the command tree that parsing, `memdir completions` and
//! `memdir man` share, with each command's long help re-flowed for the terminal.
//!
//! clap's derive joins every paragraph of a doc comment into one line, which runs example
//! commands together; `verbatim_doc_comment` keeps the lines, and [`reflow`] then joins the
//! lines of prose again (so clap wraps them to the terminal's width) while keeping each
//! indented line, examples and snippets, as written.

use clap::CommandFactory;

use super::Cli;

/// Returns the command tree of `memdir`, long helps re-flowed.
pub fn command() -> clap::Command {
    reflow_tree(Cli::command())
}

fn reflow_tree(cmd: clap::Command) -> clap::Command {
    let mut cmd = match cmd.get_long_about().map(|t| reflow(&t.to_string())) {
        Some(text) => cmd.long_about(text),
        None => cmd,
    };
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, reflow_tree);
    }
    cmd
}

/// Joins the lines of each paragraph of prose into one; an indented line, and a blank one,
/// stays a line of its own, and so the line before an indented one ends there.
fn reflow(text: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    // Whether the last line is prose that the next line of prose continues.
    let mut open = false;
    for line in text.lines() {
        let line = line.trim_end();
        if line.is_empty() || line.starts_with([' ', '\t']) {
            lines.push(line.to_owned());
            open = false;
        } else if let (true, Some(last)) = (open, lines.last_mut()) {
            last.push(' ');
            last.push_str(line);
        } else {
            lines.push(line.to_owned());
            open = true;
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::reflow;

    #[test]
    fn prose_is_joined_and_indented_lines_are_kept() {
        let text = "Show the history\n\nOne line per change, newest first:\ncommit, date.\n\n\
                    Examples:\n  memdir log -n 20\n  memdir log ID --json\nAfter them, prose\n\
                    again.";
        assert_eq!(
            reflow(text),
            "Show the history\n\nOne line per change, newest first: commit, date.\n\n\
             Examples:\n  memdir log -n 20\n  memdir log ID --json\nAfter them, prose again."
        );
    }
}
