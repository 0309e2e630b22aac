//! The command line: `Cli` and its subcommands, one module per verb. Each `cmd_<verb>` only
//! turns arguments into a library call and prints the result; rules live in the library.

use std::io::Write;
use std::path::PathBuf;

use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use memdir::{Author, Memdir, Provenance, Timestamp};
use serde::Serialize;

mod ask;
mod check;
mod commit;
mod completions;
mod consolidate;
mod context;
mod cost;
mod drift;
mod edit;
mod error;
mod extract;
mod forget;
mod gc;
mod guard;
mod help;
mod history;
mod hook;
mod import;
mod init;
mod input;
mod list;
mod llm_util;
mod man;
#[cfg(feature = "mcp")]
mod mcp;
mod quickstart;
mod reindex;
mod review;
mod search;
#[cfg(feature = "http")]
mod serve;
mod session;
mod show;
mod status;
mod sync;
mod task;
mod watch;
mod why;
mod write;

pub use error::CliError;

/// memdir: an agent's memory as Markdown files in git, searchable in a millisecond.
///
/// Each memory is a Markdown file with front-matter in `<type>/<slug>.md`. Every change is one
/// git commit with `Memdir-*` trailers, so `git log` and `git blame` show who wrote each
/// belief, when, from which session. Edit files by hand at any time: the next command sees it.
///
/// Start with `memdir init ~/mem`, then `memdir -C ~/mem add "..."` and `memdir -C ~/mem search ...`.
#[derive(Debug, Parser)]
#[command(name = "memdir", version, max_term_width = 100)]
pub struct Cli {
    /// Repository to use [default: the nearest enclosing memdir repository]
    #[arg(
        short = 'C',
        long = "dir",
        global = true,
        value_name = "DIR",
        env = "MEMDIR_DIR",
        hide_env_values = true
    )]
    dir: Option<PathBuf>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::InitArgs),
    Add(write::AddArgs),
    Show(show::ShowArgs),
    List(list::ListArgs),
    Update(write::UpdateArgs),
    Edit(edit::EditArgs),
    Rm(write::RmArgs),
    Forget(forget::ForgetArgs),
    Search(search::SearchArgs),
    Context(context::ContextArgs),
    Cost(cost::CostArgs),
    Ask(ask::AskArgs),
    Hook(hook::HookArgs),
    Session(session::SessionArgs),
    Task(task::TaskArgs),
    Check(check::CheckArgs),
    Status(status::StatusArgs),
    Commit(commit::CommitArgs),
    Sync(sync::SyncArgs),
    Clone(sync::CloneArgs),
    MergeFile(sync::MergeFileArgs),
    Reindex(reindex::ReindexArgs),
    Import(import::ImportArgs),
    Watch(watch::WatchArgs),
    Extract(extract::ExtractArgs),
    Guard(guard::GuardArgs),
    Review(review::ReviewArgs),
    Approve(review::ApproveArgs),
    Reject(review::RejectArgs),
    Gc(gc::GcArgs),
    Why(why::WhyArgs),
    Drift(drift::DriftArgs),
    Consolidate(consolidate::ConsolidateArgs),
    Log(history::LogArgs),
    Diff(history::DiffArgs),
    Snapshot(history::SnapshotArgs),
    Snapshots(history::SnapshotsArgs),
    Revert(history::RevertArgs),
    Restore(history::RestoreArgs),
    Quickstart(quickstart::QuickstartArgs),
    #[cfg(feature = "mcp")]
    Mcp(mcp::McpArgs),
    #[cfg(feature = "http")]
    Serve(serve::ServeArgs),
    Completions(completions::CompletionsArgs),
    Man(man::ManArgs),
}

/// Where a write came from; recorded in commit trailers (`Memdir-Session`, `Memdir-Agent`,
/// `Memdir-Step`) and, for new memories, in the `source:` front-matter.
#[derive(Debug, Clone, Default, Args)]
pub struct ProvenanceArgs {
    /// Session id to record [env: MEMDIR_SESSION]
    #[arg(long, env = "MEMDIR_SESSION", hide_env = true)]
    session: Option<String>,
    /// Agent name to record [env: MEMDIR_AGENT]
    #[arg(long, env = "MEMDIR_AGENT", hide_env = true)]
    agent: Option<String>,
    /// Step within the session to record [env: MEMDIR_STEP]
    #[arg(long, env = "MEMDIR_STEP", hide_env = true)]
    step: Option<String>,
    /// Commit author as "Name <email>" [default: git config user.name and user.email]
    #[arg(long, value_name = "NAME <EMAIL>", value_parser = parse_author)]
    author: Option<Author>,
}

impl ProvenanceArgs {
    fn provenance(&self) -> Provenance {
        Provenance {
            session: self.session.clone(),
            agent: self.agent.clone(),
            step: self.step.clone(),
            reference: None,
            author: self.author.clone(),
        }
    }
}

fn parse_author(text: &str) -> Result<Author, String> {
    let (name, rest) = text
        .split_once('<')
        .ok_or_else(|| "expected \"Name <email>\"".to_owned())?;
    let email = rest
        .strip_suffix('>')
        .ok_or_else(|| "expected \"Name <email>\"".to_owned())?;
    if name.trim().is_empty() || email.trim().is_empty() {
        return Err("expected \"Name <email>\"".into());
    }
    Ok(Author {
        name: name.trim().to_owned(),
        email: email.trim().to_owned(),
    })
}

/// Parses when something should end, as [`memdir::when::parse_deadline`] reads it: a date,
/// an RFC 3339 time, a time relative to now (`tomorrow`, `in 3 days`) or a duration from now
/// (`90m`, `30d`).
pub fn parse_when(text: &str) -> Result<Timestamp, String> {
    memdir::when::parse_deadline(text, Timestamp::now()).ok_or_else(|| {
        format!(
            "`{text}` is not a time: use {}, or a duration from now ({})",
            memdir::when::TIME_FORMS,
            memdir::when::DURATION_FORMS
        )
    })
}

/// Global options every command sees.
pub struct Globals {
    dir: Option<PathBuf>,
    pub json: bool,
}

impl Globals {
    /// Returns the directory the user pointed at: `-C` (or `$MEMDIR_DIR`, read by clap), else
    /// the current one.
    pub fn start_dir(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| PathBuf::from("."))
    }

    /// Opens the repository (catching its index up with any hand edits).
    /// Warns on stderr about files that could not be indexed (they are left out of search).
    pub fn open(&self) -> Result<Memdir, CliError> {
        let mem = Memdir::discover(&self.start_dir())?;
        report_problems(&mem);
        Ok(mem)
    }

    /// Opens the repository without reporting unindexable files (for commands that list
    /// every problem themselves).
    pub fn open_quiet(&self) -> Result<Memdir, CliError> {
        Ok(Memdir::discover(&self.start_dir())?)
    }
}

/// Prints a warning per file that could not be indexed since the last report.
pub fn report_problems(mem: &Memdir) {
    let problems = mem.take_problems();
    for p in &problems {
        eprintln!("warning: {p}");
    }
    if !problems.is_empty() {
        eprintln!(
            "hint: these files are left out of search until fixed; `memdir check` lists every problem"
        );
    }
}

/// Prints one line on stderr when invalid files are left out of what a read saw, so that a
/// search, list or context never misses a memory silently.
pub fn report_left_out(mem: &Memdir) {
    let n = mem.left_out().len();
    if n > 0 {
        eprintln!(
            "warning: {n} file{} left out of search; `memdir check` lists {}.",
            if n == 1 { " is" } else { "s are" },
            if n == 1 { "it" } else { "them" }
        );
    }
}

/// Prints `value` as pretty JSON on stdout, in one write where it fits (stdout is line
/// buffered: a write per line otherwise).
pub fn print_json<T: Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    let mut out = std::io::BufWriter::with_capacity(64 << 10, std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

/// Writes a line to stdout, treating a closed pipe as success.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)?;
    }};
}

/// Writes `bytes` to stdout in one go, treating a closed pipe as success.
pub fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Parses the command line and runs the command.
pub fn run() -> Result<(), CliError> {
    // Parsed with the tree as declared; the re-flowed one (`help::command`), whose only
    // difference is the text of the long helps, is built only to print one: re-flowing every
    // command's help took a fortieth of a `memdir context` process.
    let cli =
        match Cli::command()
            .try_get_matches()
            .and_then(|m| Cli::from_arg_matches(&m))
        {
            Ok(cli) => cli,
            Err(e) => {
                let e = match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                        help::command().try_get_matches().err().unwrap_or(e)
                    }
                    _ => e,
                };
                let _ = e.print();
                return match e.kind() {
                    clap::error::ErrorKind::DisplayHelp
                    | clap::error::ErrorKind::DisplayVersion => Ok(()),
                    _ => Err(CliError::usage("invalid command line (see above)")
                        .hint("run `memdir --help`")),
                };
            }
        };
    let g = Globals {
        dir: cli.dir,
        json: cli.json,
    };
    match cli.command {
        Command::Init(a) => init::cmd_init(&g, a),
        Command::Add(a) => write::cmd_add(&g, a),
        Command::Show(a) => show::cmd_show(&g, a),
        Command::List(a) => list::cmd_list(&g, a),
        Command::Update(a) => write::cmd_update(&g, a),
        Command::Edit(a) => edit::cmd_edit(&g, a),
        Command::Rm(a) => write::cmd_rm(&g, a),
        Command::Forget(a) => forget::cmd_forget(&g, a),
        Command::Search(a) => search::cmd_search(&g, a),
        Command::Context(a) => context::cmd_context(&g, a),
        Command::Cost(a) => cost::cmd_cost(&g, a),
        Command::Hook(a) => hook::cmd_hook(&g, a),
        Command::Session(a) => session::cmd_session(&g, a),
        Command::Task(a) => task::cmd_task(&g, a),
        Command::Check(a) => check::cmd_check(&g, a),
        Command::Status(a) => status::cmd_status(&g, a),
        Command::Commit(a) => commit::cmd_commit(&g, a),
        Command::Sync(a) => sync::cmd_sync(&g, a),
        Command::Clone(a) => sync::cmd_clone(&g, a),
        Command::MergeFile(a) => sync::cmd_merge_file(&g, a),
        Command::Reindex(a) => reindex::cmd_reindex(&g, a),
        Command::Import(a) => import::cmd_import(&g, a),
        Command::Watch(a) => watch::cmd_watch(&g, a),
        Command::Ask(a) => ask::cmd_ask(&g, a),
        Command::Extract(a) => extract::cmd_extract(&g, a),
        Command::Guard(a) => guard::cmd_guard(&g, a),
        Command::Review(a) => review::cmd_review(&g, a),
        Command::Approve(a) => review::cmd_approve(&g, a),
        Command::Reject(a) => review::cmd_reject(&g, a),
        Command::Gc(a) => gc::cmd_gc(&g, a),
        Command::Why(a) => why::cmd_why(&g, a),
        Command::Drift(a) => drift::cmd_drift(&g, a),
        Command::Consolidate(a) => consolidate::cmd_consolidate(&g, a),
        Command::Log(a) => history::cmd_log(&g, a),
        Command::Diff(a) => history::cmd_diff(&g, a),
        Command::Snapshot(a) => history::cmd_snapshot(&g, a),
        Command::Snapshots(a) => history::cmd_snapshots(&g, a),
        Command::Revert(a) => history::cmd_revert(&g, a),
        Command::Restore(a) => history::cmd_restore(&g, a),
        Command::Quickstart(a) => quickstart::cmd_quickstart(&g, a),
        #[cfg(feature = "mcp")]
        Command::Mcp(a) => mcp::cmd_mcp(&g, a),
        #[cfg(feature = "http")]
        Command::Serve(a) => serve::cmd_serve(&g, a),
        Command::Completions(a) => completions::cmd_completions(&g, a),
        Command::Man(a) => man::cmd_man(&g, a),
    }
}
