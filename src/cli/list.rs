//! `memdir list`

use clap::Args;
use memdir::{Filter, HeldOut, Timestamp};

use super::{CliError, Globals, print_json, report_left_out};
use crate::outln;

/// List memories
///
/// One line per memory: id, type and title, sorted by path. Memories held out of search
/// (quarantined, expired, superseded) are left out unless asked for.
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Only the memories that have expired (`memdir gc` removes them)
    #[arg(long)]
    expired: bool,
    /// List what existed at this point: a commit, a snapshot or tag, or a date (the last
    /// commit at or before it)
    #[arg(long, value_name = "REV|DATE")]
    at: Option<String>,
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
    /// Also memories the write guard quarantined (see `memdir review`)
    #[arg(long)]
    include_quarantined: bool,
    /// Also memories past their expiry
    #[arg(long)]
    include_expired: bool,
    /// Also memories that a newer memory supersedes
    #[arg(long)]
    include_superseded: bool,
}

impl FilterArgs {
    pub fn filter(&self) -> Filter {
        Filter {
            kind: self.kind.clone(),
            tags: self.tags.clone(),
            scope: self.scope.clone(),
            include_quarantined: self.include_quarantined,
            include_expired: self.include_expired,
            include_superseded: self.include_superseded,
            ..Filter::default()
        }
    }
}

pub fn cmd_list(g: &Globals, args: ListArgs) -> Result<(), CliError> {
    let mem = g.open()?;
    let mut filter = args.filter.filter();
    if args.expired {
        filter.only = Some(HeldOut::Expired);
        filter.now = Some(Timestamp::now());
    }
    let all = match &args.at {
        Some(at) => {
            let (point, all) = mem.list_at(&filter, at)?;
            if !g.json {
                eprintln!("as of commit {} ({})", &point.commit[..12], point.committed);
            }
            all
        }
        None => {
            let all = mem.list(&filter)?;
            report_left_out(&mem);
            all
        }
    };
    if g.json {
        return print_json(&all);
    }
    let width = all.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for s in &all {
        let pin = if s.pinned { " [pinned]" } else { "" };
        let held = if s.quarantined { " [quarantined]" } else { "" };
        // Its own expiry, else `created` plus its type's lifetime.
        let ttl = mem.config().ttl(&s.kind);
        let expiry = s.expires.or_else(|| {
            let created = s.created?;
            Some(Timestamp(created.0 + time::Duration::seconds(ttl?)))
        });
        let expires = match (args.expired, expiry) {
            (true, Some(t)) => format!(" [expired {t}]"),
            _ => String::new(),
        };
        outln!(
            "{:width$}  {:10}  {}{pin}{held}{expires}",
            s.id,
            s.kind,
            s.title
        );
    }
    Ok(())
}
