//! `memdir watch`, and the same watch behind the servers (`memdir serve`, `memdir mcp`).

use std::io::Write as _;
use std::ops::ControlFlow;
use std::time::Duration;

use clap::Args;
use memdir::watch::Timing;
use memdir::{StopReason, WatchOptions, WatchReport};

use super::{CliError, Globals, ProvenanceArgs};

/// Keep the search index up to date with hand edits as they are saved
///
/// Watches the repository and refreshes the index shortly after each save, so every search
/// sees the edit. With --commit, also commits hand edits as `Memdir-Op: hand-edit` once no
/// file changed for the quiet period. Invalid files are reported (and never committed); the
/// watch goes on until interrupted (Ctrl-C) or stopped. With --json, prints one JSON object per line:
/// `{"event": "ready" | "indexed" | "committed" | "commit-refused" | "failed" | "stopped", ...}`.
///
/// While it runs, every other memdir call in the repository asks it whether anything changed
/// instead of checking each memory file (.git/memdir/watch.sock), which makes each call in a
/// large repository faster (search at 100,000 memories: about 0.3 s -> 12 ms), and `memdir
/// add`, `update` and `rm` hand it their writes, which it makes with the repository, index
/// and guard it has open (the same file, commit and output as their own writes). Stopping or killing it at any
/// moment is safe: the next call checks the files, and writes, itself.
///
/// With --background, it runs detached from the terminal and the command returns as soon as it
/// serves; it stops by itself after --idle (30m by default) without a call, so a coding
/// agent's session-start hook can run `memdir watch --background` every time.
///
/// --stop asks the watcher serving the repository (in the background or in a terminal) to
/// stop: it indexes and, with --commit, commits what waits, runs the writes it took, and
/// stops; the command returns once it no longer serves (`{"stopped": true|false, "pid": N}`
/// with --json). The watcher inside `memdir mcp` or `memdir serve` refuses (exit code 1):
/// stop that process instead.
///
/// Examples:
///   memdir watch --commit --quiet 5s
///   memdir watch --background            # serve this session's calls, stop 30m after the last
///   memdir watch --background --idle 8h --json
///   memdir watch --stop
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct WatchArgs {
    /// Commit hand edits after a quiet period
    #[arg(long)]
    commit: bool,
    /// How long no file must change before committing, e.g. 500ms, 2s, 1m [default: 2s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, requires = "commit")]
    quiet: Option<Duration>,
    /// Stop after no other memdir call for DURATION, e.g. 30m, 8h [default with --background: 30m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    idle: Option<Duration>,
    /// Run detached in the background and return once it serves (or one already does); prints
    /// its pid (`{"pid": N, "started": true|false, "idle_secs": S}` with --json)
    #[arg(long)]
    background: bool,
    /// Stop the watcher that serves this repository, and return once it has stopped
    #[arg(long, conflicts_with_all = ["commit", "quiet", "idle", "background"])]
    stop: bool,
    /// Run as the process `--background` starts: print the ready line alone, stop at once when
    /// another watcher serves
    #[arg(long, hide = true)]
    background_child: bool,
    #[command(flatten)]
    provenance: ProvenanceArgs,
}

/// How long a watcher started with `--background` waits for a call before it stops.
pub const BACKGROUND_IDLE: Duration = Duration::from_secs(30 * 60);

pub fn cmd_watch(g: &Globals, args: WatchArgs) -> Result<(), CliError> {
    if args.stop {
        return stop(g);
    }
    if args.background {
        return background::start(g, &args, args.idle.unwrap_or(BACKGROUND_IDLE));
    }
    let mem = g.open_quiet()?;
    let mut timing = Timing::default();
    if let Some(quiet) = args.quiet {
        timing.quiet = quiet;
    }
    let options = WatchOptions {
        commit: args.commit,
        timing,
        provenance: args.provenance.provenance(),
        idle: args.idle,
        serve_only: args.background_child,
        stop_on_request: true,
    };
    let mut out_err = None;
    let child = args.background_child;
    mem.watch(&options, &mut |report| {
        // The process `--background` started tells it once that it serves, and says nothing
        // after: no one reads its output any more.
        if child {
            if report == WatchReport::Ready {
                let _ = print(true, &report, None);
            }
            return ControlFlow::Continue(());
        }
        match print(g.json, &report, args.idle.as_ref()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(e) => {
                out_err = Some(e);
                ControlFlow::Break(())
            }
        }
    })?;
    match out_err {
        Some(e) => Err(e.into()),
        None => Ok(()),
    }
}

/// `memdir watch --stop`.
fn stop(g: &Globals) -> Result<(), CliError> {
    use memdir::watch::vouch::{self, Stop};
    let (_, memdir_dir) = memdir::Memdir::locate(&g.start_dir())?;
    let pid = |p: Option<u32>| p.map_or_else(String::new, |p| format!(" (pid {p})"));
    match vouch::stop(&memdir_dir) {
        Stop::NotServing => {
            if g.json {
                return super::print_json(&serde_json::json!({"stopped": false, "pid": null}));
            }
            crate::outln!("No watcher serves this repository.");
            Ok(())
        }
        Stop::Stopped(p) => {
            if g.json {
                return super::print_json(&serde_json::json!({"stopped": true, "pid": p}));
            }
            crate::outln!("Stopped the watcher{}.", pid(p));
            Ok(())
        }
        Stop::Refused(p) => Err(CliError::user(format!(
            "the watcher serving this repository{} is part of `memdir mcp` or `memdir serve`, which need it: stop that process instead",
            pid(p)
        ))),
        Stop::NoAnswer(p) => Err(CliError::user(format!(
            "the watcher serving this repository{} did not stop: it may be busy or suspended; `kill` it (stopping it at any moment is safe)",
            pid(p)
        ))),
    }
}

/// Prints one report: a JSON line, or sentences (problems on stderr as warnings).
fn print(json: bool, report: &WatchReport, idle: Option<&Duration>) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        let line = serde_json::to_string(report).map_err(std::io::Error::other)?;
        writeln!(out, "{line}")?;
        return out.flush();
    }
    match report {
        WatchReport::Ready => writeln!(out, "Watching for changes (Ctrl-C stops).")?,
        WatchReport::Indexed { paths, problems } => {
            if !paths.is_empty() {
                writeln!(out, "Indexed {}.", paths.join(", "))?;
            }
            for p in problems {
                eprintln!("warning: {p}");
            }
        }
        WatchReport::Committed { commit } => {
            writeln!(out, "Committed hand edits as {}.", &commit[..7])?
        }
        WatchReport::CommitRefused { problems } => {
            eprintln!("warning: hand edits not committed; fix these files first:");
            for p in problems {
                eprintln!("warning: {p}");
            }
        }
        WatchReport::Failed { message } => eprintln!("error: {message}"),
        WatchReport::Stopped { reason } => match (reason, idle) {
            (StopReason::Idle, Some(idle)) => {
                writeln!(out, "Stopped: no memdir call for {}.", humantime(*idle))?
            }
            (StopReason::Idle, None) => writeln!(out, "Stopped: no memdir call.")?,
            (StopReason::Requested, _) => {
                writeln!(out, "Stopped: asked to by `memdir watch --stop`.")?
            }
        },
    }
    out.flush()
}

/// Parses `500ms`, `2s`, `1m`, as [`memdir::when::parse_duration`] reads them.
fn parse_duration(text: &str) -> Result<Duration, String> {
    memdir::when::parse_duration(text).ok_or_else(|| {
        format!(
            "invalid duration `{text}`: use {}",
            memdir::when::DURATION_FORMS
        )
    })
}

/// Says `d` as `30m`, `8h`, `90s`.
fn humantime(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s if s > 0 => format!("{s}s"),
        _ => format!("{}ms", d.as_millis()),
    }
}

/// `memdir watch --background`: a watcher started as a detached process of its own.
pub mod background {
    use std::io::{BufRead as _, BufReader};
    use std::path::Path;
    use std::process::{Child, Command, Stdio};
    use std::time::Duration;

    use memdir::watch::vouch;
    use serde_json::json;

    use super::{WatchArgs, humantime};
    use crate::cli::{CliError, Globals, print_json};
    use crate::outln;

    /// Starts a watcher for the repository of `g` in the background, stopping after `idle`
    /// without a call, and returns once it (or one already running) serves.
    pub fn start(g: &Globals, args: &WatchArgs, idle: Duration) -> Result<(), CliError> {
        let (root, memdir_dir) = memdir::Memdir::locate(&g.start_dir())?;
        if let Some(pid) = vouch::serving_pid(&memdir_dir) {
            return report(g, pid, false, idle);
        }
        let mut child = spawn(&root, idle, &passed_on(args), Stdio::piped())?;
        let pid = child.id();
        let stdout = child.stdout.take().expect("piped");
        let ready = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .any(|line| line.contains("\"ready\""));
        if ready {
            // Left to run; init reaps it when it stops.
            drop(child);
            return report(g, pid, true, idle);
        }
        // It stopped before serving: another watcher took the repository (started meanwhile,
        // and about to answer), or it failed (then `memdir watch` in the foreground says why).
        let _ = child.wait();
        for _ in 0..500 {
            if let Some(pid) = vouch::serving_pid(&memdir_dir) {
                return report(g, pid, false, idle);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Err(CliError::user(
            "the background watcher stopped before it served; run `memdir watch` to see why",
        ))
    }

    /// Starts the process of a background watcher for `root` that stops after `idle` without
    /// a call, with `more` arguments of `memdir watch`, its output to `stdout`: it prints one
    /// line when it serves, and stops at once if another watcher serves.
    pub fn spawn(
        root: &Path,
        idle: Duration,
        more: &[String],
        stdout: Stdio,
    ) -> std::io::Result<Child> {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.arg("-C")
            .arg(root)
            .args(["watch", "--background-child", "--idle"])
            .arg(format!("{}ms", idle.as_millis()))
            .args(more);
        cmd.stdin(Stdio::null())
            .stdout(stdout)
            .stderr(Stdio::null());
        // Its own process group: a Ctrl-C meant for the terminal's job does not reach it.
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        cmd.spawn()
    }

    /// The arguments of `args` that the background process takes over.
    fn passed_on(args: &WatchArgs) -> Vec<String> {
        let mut more = Vec::new();
        if args.commit {
            more.push("--commit".to_owned());
        }
        if let Some(quiet) = args.quiet {
            more.extend(["--quiet".to_owned(), format!("{}ms", quiet.as_millis())]);
        }
        let p = args.provenance.provenance();
        for (flag, value) in [
            ("--session", p.session),
            ("--agent", p.agent),
            ("--step", p.step),
        ] {
            if let Some(v) = value {
                more.extend([flag.to_owned(), v]);
            }
        }
        if let Some(a) = p.author {
            more.extend(["--author".to_owned(), format!("{} <{}>", a.name, a.email)]);
        }
        more
    }

    /// Starts a background watcher for the repository at `root` unless one serves, without
    /// waiting for it: what `memdir hook` does at a session's start in a large repository.
    /// Returns its pid (`None`: one serves already).
    pub fn start_without_waiting(
        root: &Path,
        memdir_dir: &Path,
        idle: Duration,
    ) -> std::io::Result<Option<u32>> {
        if vouch::serving(memdir_dir) {
            return Ok(None);
        }
        // Dropped, not waited for: it runs on, and init reaps it when it stops.
        Ok(Some(spawn(root, idle, &[], Stdio::null())?.id()))
    }

    /// Says that a watcher serves, `pid`, and whether this command `started` it.
    fn report(g: &Globals, pid: u32, started: bool, idle: Duration) -> Result<(), CliError> {
        if g.json {
            return print_json(&json!({
                "started": started,
                "pid": pid,
                "idle_secs": idle.as_secs(),
            }));
        }
        if started {
            outln!(
                "A watcher serves this repository in the background (pid {pid}); it stops after {} without a memdir call.",
                humantime(idle)
            );
        } else {
            outln!("A watcher already serves this repository (pid {pid}).");
        }
        Ok(())
    }
}
