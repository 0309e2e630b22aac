//! `memdir list`

use clap::Args;
use memdir::Filter;

use super::{CliError, Globals, print_json};
use crate::outln;

/// List memories
///
/// One line per memory: id, type and title, sorted by path.
#[derive(Debug, Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
}

/// Restricts which memories a command looks at.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// Only memories of this type
    #[arg(long = "type", value_name = "TYPE")]
    kind: Option<String>,
    /// Only memories with this tag (can be repeated: all must match)
    #[arg(long = "tag", value_name = "TAG")]
    tags: Vec<String>,
    /// Only memories with this scope, e.g. user:alice
    #[arg(long)]
    scope: Option<String>,
}

impl FilterArgs {
    pub fn filter(&self) -> Filter {
        Filter {
            kind: self.kind.clone(),
            tags: self.tags.clone(),
            scope: self.scope.clone(),
        }
    }
}

pub fn cmd_list(g: &Globals, args: ListArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let all = mem.list(&args.filter.filter())?;
    if g.json {
        return print_json(&all);
    }
    let width = all.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for s in &all {
        let pin = if s.pinned { " [pinned]" } else { "" };
        outln!("{:width$}  {:10}  {}{pin}", s.id, s.kind, s.title);
    }
    Ok(())
}
