//! Fresh-process benchmark: what each CLI call costs when, as a coding agent does, every call
//! is a new `memdir` process, next to the git CLI and `memdir search` in the same run.
//!
//! ```text
//! cargo build --release        # the `memdir` binary measured, beside this example
//! cargo run --release --example bench_cli -- --sizes 1000,10000 [--runs 30] [--memdir PATH] [--watch]
//! ```
//!
//! `--memdir` times another build of the binary (an older commit's, to compare) on the same
//! corpus. `--watch` keeps `memdir watch` running in the memory repository through the rounds:
//! each call then asks it to vouch for the working tree instead of stat-ing every file.
//!
//! For each size N it builds, untimed, a memory repository of the first N memories of the
//! benchmark corpus (`benches/common/corpus.rs`, as `examples/bench.rs` does: imported with
//! `remember_batch`, 5,000 per call, then packed with `git gc`), and a plain git repository
//! of the same files (`git add -A`, one commit, packed). Then, after `--warmup` untimed
//! rounds, it runs `--runs` rounds; each round runs every call once, in this order, each as a
//! new process with a hermetic environment (no user or system git config), and times its
//! wall clock from spawn to exit:
//!
//! - `memdir --version`: starting and ending the process alone;
//! - `memdir -C ROOT add --title T --type TYPE -- TEXT`: memory N + k of the corpus;
//! - the git CLI writing the same file at the same path in the git repository, then
//!   `git add -- PATH` and `git commit -q -m MSG` (timed together: the reference for `add`);
//! - `memdir -C ROOT search QUERY -n 10 --json`, query k of the corpus;
//! - `memdir -C ROOT context QUERY --budget 1000`, the same query;
//! - `memdir -C ROOT hook claude-code` with `{"prompt": QUERY}` on stdin (budget 2000, its
//!   default);
//! - `memdir -C ROOT guard -- TEXT`, the text of round k's `add` (the repository's `[guard]`
//!   rules apply), and `memdir guard -- TEXT` outside any repository;
//! - `rg -i -l -F -e WORD...` in ROOT, for any word of the query (3 letters or more): the
//!   search a user would run without memdir (when ripgrep is installed);
//! - `memdir -C ROOT update ID --body TEXT`, a new body for the memory the round added, and
//!   the git CLI writing the same bytes, `git add` and `git commit` (timed together);
//! - `memdir -C ROOT rm ID`, that memory removed, and `git rm -q -- PATH` with `git commit`
//!   (timed together), so that every round ends with the corpus it started with.
//!
//! It prints, per size, the median and the 90th percentile of each call, and the ratios the
//! issue sets targets for: `add` / git CLI write+add+commit <= 0.5, `context` and `hook` /
//! `search` <= 1.5, and `guard` <= 10 ms; and, held to the bound of `add`, `update` and `rm`
//! against their git CLI counterparts. Times are medians of the rounds, like hyperfine's.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use memdir::{Memdir, NewMemory};

#[path = "../benches/common/corpus.rs"]
mod corpus;
#[path = "../benches/common/gitcli.rs"]
mod gitcli;

use gitcli::{git, hermetic, io_err, other, write_file};

use corpus::Corpus;

/// Memories per `remember_batch` call while building the repository.
const CHUNK: usize = 5_000;

/// Time the CLI's calls as fresh processes against the git CLI and `memdir search`
#[derive(Debug, Parser)]
struct Args {
    /// Corpus sizes to measure, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1000,10000")]
    sizes: Vec<usize>,
    /// Timed rounds per size (each round runs every call once)
    #[arg(long, default_value_t = 30)]
    runs: usize,
    /// Untimed rounds run first
    #[arg(long, default_value_t = 3)]
    warmup: usize,
    /// The `memdir` binary to time [default: the one beside this example, target/<profile>/]
    #[arg(long, value_name = "PATH")]
    memdir: Option<PathBuf>,
    /// Keep `memdir watch` running in the memory repository during the rounds, so that each
    /// call asks it to vouch for the tree instead of stat-ing every file
    #[arg(long)]
    watch: bool,
    /// Build the repositories in this folder and keep them (to profile a call on them
    /// afterwards) instead of in a temporary folder removed at the end
    #[arg(long, value_name = "DIR")]
    keep: Option<PathBuf>,
}

/// The calls of a round, in the order they run.
const CALLS: [&str; 13] = [
    "memdir --version",
    "memdir add",
    "git write+add+commit",
    "memdir search",
    "memdir context --budget 1000",
    "memdir hook claude-code",
    "memdir guard (in the repository)",
    "memdir guard (outside)",
    "ripgrep (the query's words)",
    "memdir update --body",
    "git write+add+commit (update)",
    "memdir rm",
    "git rm+commit",
];

fn main() -> memdir::Result<()> {
    let args = Args::parse();
    let bin = match &args.memdir {
        Some(path) => path.clone(),
        None => memdir_binary()?,
    };
    let corpus = Corpus::new();
    println!("# memdir CLI calls as fresh processes");
    println!();
    println!("- binary: {}", bin.display());
    println!("- machine: {}", machine());
    println!(
        "- {} timed rounds after {} warm-up rounds; each round runs every call once",
        args.runs, args.warmup
    );
    if args.watch {
        println!("- `memdir watch` runs in the memory repository throughout");
    }
    for &n in &args.sizes {
        let scratch = tempfile::Builder::new()
            .prefix(&format!("bench-cli-{n}-"))
            .tempdir_in(args.keep.as_deref().unwrap_or(&std::env::temp_dir()))
            .map_err(io_err("temporary folder"))?;
        let scratch = match args.keep {
            Some(_) => {
                let kept = scratch.keep();
                eprintln!("[{n}] repositories kept in {}", kept.display());
                Scratch::Kept(kept)
            }
            None => Scratch::Temporary(scratch),
        };
        let times = measure(&bin, &corpus, n, &args, scratch.path())?;
        report(n, &times);
    }
    Ok(())
}

/// Builds the two repositories of size `n` and times the rounds; returns each call's times
/// (ms), in the order of [`CALLS`].
fn measure(
    bin: &Path,
    corpus: &Corpus,
    n: usize,
    args: &Args,
    scratch: &Path,
) -> memdir::Result<Vec<Vec<f64>>> {
    // # Step 1: the memory repository, imported through the library (not timed).
    let root = scratch.join("memdir");
    let mem = Memdir::init(&root)?;
    git(&root, &["config", "gc.auto", "0"])?;
    let prov = corpus::provenance();
    let mut paths = Vec::with_capacity(n);
    for start in (0..n).step_by(CHUNK) {
        let batch: Vec<NewMemory> = (start..(start + CHUNK).min(n))
            .map(|i| corpus.memory(i))
            .collect();
        paths.extend(
            mem.remember_batch(batch, &prov)?
                .into_iter()
                .map(|w| w.path),
        );
        eprintln!("[{n}] imported {}/{n}", paths.len());
    }
    drop(mem);
    git(&root, &["gc", "-q"])?;
    git(&root, &["config", "--unset", "gc.auto"])?;

    // # Step 2: the git CLI's repository of the same files, packed.
    let git_root = scratch.join("git-cli");
    std::fs::create_dir_all(&git_root).map_err(io_err(&git_root))?;
    git(&git_root, &["init", "-q", "-b", "main"])?;
    for p in &paths {
        let bytes = std::fs::read(root.join(p)).map_err(io_err(root.join(p)))?;
        write_file(&git_root.join(p), &bytes)?;
    }
    git(&git_root, &["add", "-A"])?;
    git(
        &git_root,
        &[
            "-c",
            "maintenance.auto=false",
            "commit",
            "-q",
            "-m",
            "import",
        ],
    )?;
    git(&git_root, &["gc", "-q"])?;
    let outside = scratch.join("outside");
    std::fs::create_dir_all(&outside).map_err(io_err(&outside))?;

    // # Step 3: the rounds, with a watcher running when asked for (killed when done).
    let _watcher = match args.watch {
        true => Some(Watcher::start(bin, &root)?),
        false => None,
    };
    let queries = corpus.queries(args.warmup + args.runs);
    let root_arg = root.to_string_lossy().into_owned();
    let mut times = vec![Vec::with_capacity(args.runs); CALLS.len()];
    let have_rg = Command::new("rg").arg("--version").output().is_ok();
    for (k, query) in queries.iter().enumerate() {
        let new = corpus.memory(n + k);
        let (title, text, kind) = (new.title.unwrap_or_default(), new.text, new.kind);
        let mut round = Vec::with_capacity(CALLS.len());

        round.push(time(memdir(bin, &root, &["--version"]), None)?);

        let mut add = memdir(bin, &root, &["-C", &root_arg, "add", "--title", &title]);
        if let Some(kind) = &kind {
            add.args(["--type", kind]);
        }
        // A text may start with `- ` (a list item): `--` keeps it from reading as a flag.
        add.args(["--", &text]);
        let (took, out) = time_output(add, None)?;
        round.push(took);
        let id = String::from_utf8_lossy(&out).trim().to_owned();
        // The git CLI writes the same bytes at the same path as that commit did.
        let mut changed = Command::new("git");
        hermetic(&mut changed).current_dir(&root).args([
            "diff-tree",
            "--no-commit-id",
            "--name-only",
            "-r",
            "HEAD",
        ]);
        let out = run(changed, None)?;
        let path = String::from_utf8_lossy(&out)
            .lines()
            .find(|l| l.ends_with(".md"))
            .ok_or_else(|| other(&root, "the add commit changed no .md file".into()))?
            .to_owned();
        let bytes = std::fs::read(root.join(&path)).map_err(io_err(root.join(&path)))?;
        let t = Instant::now();
        write_file(&git_root.join(&path), &bytes)?;
        git(&git_root, &["add", "--", &path])?;
        git(&git_root, &["commit", "-q", "-m", &format!("add: {path}")])?;
        round.push(ms(t));

        let search = ["-C", &root_arg, "search", query, "-n", "10", "--json"];
        round.push(time(memdir(bin, &root, &search), None)?);
        let context = ["-C", &root_arg, "context", query, "--budget", "1000"];
        round.push(time(memdir(bin, &root, &context), None)?);
        let prompt = serde_json::json!({ "prompt": query }).to_string();
        let hook = ["-C", &root_arg, "hook", "claude-code"];
        round.push(time(memdir(bin, &root, &hook), Some(prompt.as_bytes()))?);
        // Exit status 1 is the verdict "flag", not a failure.
        round.push(time(
            memdir(bin, &root, &["-C", &root_arg, "guard", "--", &text]),
            None,
        )?);
        round.push(time(memdir(bin, &outside, &["guard", "--", &text]), None)?);
        // The search users would run without memdir: ripgrep for any of the query's words, as
        // a list of files (NaN when `rg` is not installed).
        let mut rg = Command::new("rg");
        rg.args(["--no-config", "-i", "-l", "-F"])
            .current_dir(&root);
        for word in query.split(|c: char| !c.is_alphanumeric()) {
            if word.len() >= 3 {
                rg.args(["-e", word]);
            }
        }
        rg.args(["--", "."]);
        round.push(if have_rg { time(rg, None)? } else { f64::NAN });

        // The memory just added gets a new body, then is removed, by memdir and by the git CLI.
        // `--body=...`: a text may start with `- `.
        let body = format!("--body={text}\n\nRevised in round {k}.");
        let update = ["-C", &root_arg, "update", &id, &body];
        round.push(time(memdir(bin, &root, &update), None)?);
        let bytes = std::fs::read(root.join(&path)).map_err(io_err(root.join(&path)))?;
        let t = Instant::now();
        write_file(&git_root.join(&path), &bytes)?;
        git(&git_root, &["add", "--", &path])?;
        git(
            &git_root,
            &["commit", "-q", "-m", &format!("update: {path}")],
        )?;
        round.push(ms(t));
        round.push(time(
            memdir(bin, &root, &["-C", &root_arg, "rm", &id]),
            None,
        )?);
        let t = Instant::now();
        git(&git_root, &["rm", "-q", "--", &path])?;
        git(&git_root, &["commit", "-q", "-m", &format!("rm: {path}")])?;
        round.push(ms(t));

        if k >= args.warmup {
            for (all, t) in times.iter_mut().zip(round) {
                all.push(t);
            }
        }
    }
    Ok(times)
}

/// Prints the table of one size.
fn report(n: usize, times: &[Vec<f64>]) {
    let median: Vec<f64> = times.iter().map(|t| percentile(t, 0.5)).collect();
    println!();
    println!("## {n} memories");
    println!();
    println!("| call | median ms | p90 ms |");
    println!("|---|---:|---:|");
    for (call, t) in CALLS.iter().zip(times) {
        println!(
            "| `{call}` | {:.1} | {:.1} |",
            percentile(t, 0.5),
            percentile(t, 0.9)
        );
    }
    let (add, git, search) = (median[1], median[2], median[3]);
    println!();
    println!("| target | measured | bound | met |");
    println!("|---|---:|---:|---|");
    let row = |what: &str, value: f64, bound: f64, unit: &str| {
        println!(
            "| {what} | {value:.2}{unit} | {bound}{unit} | {} |",
            if value <= bound { "yes" } else { "no" }
        );
    };
    row("add / git CLI write+add+commit", add / git, 0.5, "x");
    row(
        "context --budget 1000 / search",
        median[4] / search,
        1.5,
        "x",
    );
    row("hook claude-code / search", median[5] / search, 1.5, "x");
    row("guard (in the repository)", median[6], 10.0, " ms");
    row("guard (outside)", median[7], 10.0, " ms");
    if !median[8].is_nan() {
        row("search / ripgrep", search / median[8], 0.1, "x");
    }
    row(
        "update / git CLI write+add+commit",
        median[9] / median[10],
        0.5,
        "x",
    );
    row("rm / git CLI rm+commit", median[11] / median[12], 0.5, "x");
    let _ = std::io::stdout().flush();
}

/// Where one size's repositories are built.
enum Scratch {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl Scratch {
    fn path(&self) -> &Path {
        match self {
            Scratch::Temporary(t) => t.path(),
            Scratch::Kept(p) => p,
        }
    }
}

/// A `memdir watch --json` process, killed when dropped.
struct Watcher(std::process::Child);

impl Watcher {
    /// Starts the watcher in `root` and waits for its `ready` event (its socket answers then).
    fn start(bin: &Path, root: &Path) -> memdir::Result<Watcher> {
        use std::io::BufRead as _;
        let root_arg = root.to_string_lossy();
        let mut cmd = memdir(bin, root, &["-C", &root_arg, "watch", "--json"]);
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(io_err(bin))?;
        let stdout = child.stdout.take().expect("piped");
        let mut lines = std::io::BufReader::new(stdout).lines();
        let watcher = Watcher(child);
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("\"ready\"") => break,
                Some(Ok(_)) => continue,
                _ => return Err(other(root, "memdir watch ended before it was ready".into())),
            }
        }
        // Keep reading its events, so that it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(watcher)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Returns a command running the `memdir` binary in `dir`, hermetic.
fn memdir(bin: &Path, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    hermetic(&mut cmd)
        .args(args)
        .current_dir(dir)
        .env_remove("MEMDIR_DIR")
        .env_remove("MEMDIR_LOG");
    cmd
}

/// Runs `cmd` with `input` on stdin and returns its wall time in milliseconds.
fn time(cmd: Command, input: Option<&[u8]>) -> memdir::Result<f64> {
    Ok(time_output(cmd, input)?.0)
}

/// Runs `cmd` with `input` on stdin and returns its wall time in milliseconds and its stdout.
fn time_output(cmd: Command, input: Option<&[u8]>) -> memdir::Result<(f64, Vec<u8>)> {
    let t = Instant::now();
    let out = run(cmd, input)?;
    Ok((ms(t), out))
}

/// Runs `cmd` to the end and returns its stdout; exit status 0 or 1 (a flagged guard verdict)
/// counts as success.
fn run(mut cmd: Command, input: Option<&[u8]>) -> memdir::Result<Vec<u8>> {
    let program = PathBuf::from(cmd.get_program());
    let mut child = cmd
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(io_err(&program))?;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        stdin.write_all(bytes).map_err(io_err(&program))?;
    }
    let out = child.wait_with_output().map_err(io_err(&program))?;
    match out.status.code() {
        Some(0 | 1) => Ok(out.stdout),
        _ => Err(other(&program, format!("failed with {}", out.status))),
    }
}

/// Returns the `memdir` binary of the same build as this example (`target/<profile>/memdir`).
fn memdir_binary() -> memdir::Result<PathBuf> {
    let exe = std::env::current_exe().map_err(io_err("current executable"))?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(format!("memdir{}", std::env::consts::EXE_SUFFIX)))
        .filter(|b| b.is_file())
        .ok_or_else(|| {
            other(
                &exe,
                "no memdir binary beside examples/: build it with `cargo build --release`".into(),
            )
        })?;
    Ok(bin)
}

/// Returns the CPU model and count, for the report.
fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map_or("unknown CPU".to_owned(), |(_, v)| v.trim().to_owned());
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("{cpus} x {model}")
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Returns the `p` quantile of `values` (nearest rank).
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let i = ((p * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}
