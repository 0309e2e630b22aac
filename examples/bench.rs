//! Whole-system benchmark: how memdir behaves with 1K to 100K memories, next to the git CLI,
//! SQLite FTS5 and ripgrep on the same texts.
//!
//! ```text
//! cargo build --release        # the `memdir` binary, whose searches step 8 times
//! cargo run --release --example bench -- --sizes 1000,10000 [--json]
//! ```
//!
//! For each size N, a child process of this binary (so that peak memory is per size) does:
//!
//! 1. generates N memories from a fixed seed (`benches/common/corpus.rs`, shared with the
//!    criterion benches): titles of 3-8 words, bodies of 1-4 paragraphs or list items over a
//!    vocabulary of ~3,000 pronounceable made-up words plus common English, types spread over
//!    the six default types, 0-3 tags each;
//! 2. imports them into a fresh repository with `remember_batch`, 5,000 per call;
//! 3. times 200 single `remember` calls on the full store;
//! 4. times 1,000 searches of 2-4 corpus words (after 50 warm-up searches);
//! 5. drops the `Memdir` and times `Memdir::open` (median of 5), and a `refresh` with nothing
//!    to do;
//! 6. appends a line with a unique word to one memory file with `std::fs`, times `refresh`,
//!    and checks that search finds the word (5 different files, median);
//! 7. reads the child's peak resident memory (`VmHWM` in `/proc/self/status`);
//! 8. times 200 searches as a person or a tool would run them, each in a new process,
//!    alternating (after 10 warm-up rounds) between
//!    - the real CLI, `memdir -C ROOT search QUERY -n 10 --json` (the `memdir` binary beside
//!      this example, in `target/release/`), and
//!    - ripgrep, when `rg` is on `PATH` (skipped with a message otherwise):
//!      `rg --files-with-matches --ignore-case --fixed-strings -e WORD... .` in the repository
//!      root (ripgrep skips `.git`), listing the files holding any of the query's words,
//!
//!    plus `memdir --version` for the cost of starting the process alone;
//! 9. indexes the same N + 200 memories in SQLite FTS5 (one row per memory, as memdir
//!    returns one hit per memory: path, title, tags and body, with the `porter` stemmer and
//!    memdir's field weights in `bm25()`) and times the same searches as step 4, top 10;
//! 10. runs the baseline for writes: the git CLI importing the same N files
//!     (`git add -A && git commit`), then writing the same 200 files one by one with
//!     `git add` + `git commit` each.
//!
//! ripgrep and FTS5 get the words of each query that memdir's analyzer keeps (it drops
//! English stop words), joined with OR, which is what memdir's BM25 union matches.
//!
//! It also times a few *probes*, the steps a `remember` goes through, done directly with
//! `std`, `git2` and `tantivy` on copies of the data, to say where the time of one write goes.
//!
//! The parent prints a table (or, with `--json`, one JSON object) and checks the targets set
//! for 100K memories: search p50 <= 1 ms, remember p50 <= 20 ms, open <= 100 ms, catch-up
//! after a hand edit <= 100 ms; and the issue's two comparisons: `remember` no slower than the
//! git CLI's write + add + commit, and CLI search at most half of ripgrep's time; and
//! `Memdir::context` (200 of the same queries, 1,500-token budget) against its 5 ms target.
//! Everything runs in one temporary folder, removed at the end of the run, not after each size:
//! on ext4 without a journal (as on the machine of BENCHMARKS.md), creating a file skips the
//! inodes freed in the last few seconds, so removing a size's 100,000 files right before the
//! next size's import slowed that import's first 5,000 memories about threefold, while the git
//! CLI's import, later in the same child, ran at full speed.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use clap::Parser;
use memdir::{Memdir, NewMemory, SearchQuery};
use serde::{Deserialize, Serialize};

#[path = "../benches/common/corpus.rs"]
mod corpus;
#[path = "../benches/common/gitcli.rs"]
mod gitcli;

use gitcli::{git, hermetic, io_err, other, write_file};

use corpus::Corpus;

/// Memories per `remember_batch` call during the bulk import.
const CHUNK: usize = 5_000;
/// Searches run before timing starts.
const WARMUP_QUERIES: usize = 50;
/// How many times open, no-op refresh, catch-up and the probes are repeated.
const REPEATS: usize = 5;
/// Rounds of process-per-query searches run before timing starts.
const WARMUP_SPAWNS: usize = 10;
/// Hits asked of every search (memdir's default limit).
const LIMIT: usize = 10;
/// Contexts built (after 10 warm-up ones) at each size.
const CONTEXT_QUERIES: usize = 200;
/// The issue's bound on CLI search time as a share of ripgrep's.
const CLI_VS_RIPGREP_MAX: f64 = 0.5;
/// Targets at 100K memories: (metric, limit, unit).
const TARGETS: [(&str, f64, &str); 5] = [
    ("search p50", 1_000.0, "µs"),
    ("remember p50", 20.0, "ms"),
    ("open", 100.0, "ms"),
    ("catch-up", 100.0, "ms"),
    ("context p50", 5.0, "ms"),
];

/// Benchmark memdir against the git CLI, SQLite FTS5 and ripgrep at several corpus sizes
#[derive(Debug, Parser)]
struct Args {
    /// Corpus sizes to measure, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "10000,100000")]
    sizes: Vec<usize>,
    /// Print one JSON object instead of a table
    #[arg(long)]
    json: bool,
    /// Single `remember` calls (and git CLI commits) to time at each size
    #[arg(long, default_value_t = 200)]
    singles: usize,
    /// Searches to time at each size
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    /// Searches to time at each size with a new process per query (memdir CLI, ripgrep)
    #[arg(long, default_value_t = 200)]
    spawns: usize,
    /// Print the table of a run saved with `--json` instead of measuring
    #[arg(long, value_name = "FILE", conflicts_with_all = ["json", "child"])]
    from: Option<PathBuf>,
    /// Keep each size's temporary folder (memdir repository, git CLI copy, SQLite file) instead
    /// of removing it, and print where it is (to profile or search it afterwards)
    #[arg(long)]
    keep: bool,
    /// Internal: measure one size in this process and print its report as JSON
    #[arg(long, hide = true, requires = "scratch")]
    child: Option<usize>,
    /// Internal: the folder a child works in, which the parent removes at the end of the run
    #[arg(long, hide = true, requires = "child")]
    scratch: Option<PathBuf>,
}

/// Everything measured at one size. Times are in the unit their name ends with.
#[derive(Debug, Serialize, Deserialize)]
struct SizeReport {
    n: usize,
    /// Bytes of the N memory files.
    corpus_bytes: u64,
    /// Bytes of the tantivy index after the run.
    index_bytes: u64,
    /// Passages (searchable documents) in the index, and its segments, after the run.
    passages: usize,
    segments: usize,
    import_s: f64,
    import_per_s: f64,
    remember_p50_ms: f64,
    remember_p99_ms: f64,
    search_p50_us: f64,
    search_p99_us: f64,
    /// `Memdir::context` with a 1,500-token budget (absent in runs saved before it existed).
    #[serde(default)]
    context_p50_ms: Option<f64>,
    #[serde(default)]
    context_p99_ms: Option<f64>,
    /// Mean hits per timed search (the default limit is 10).
    search_mean_hits: f64,
    open_median_ms: f64,
    open_ms: Vec<f64>,
    refresh_noop_median_ms: f64,
    catchup_median_ms: f64,
    catchup_ms: Vec<f64>,
    /// `VmHWM` of the child process after the memdir steps (before the git CLI baseline).
    peak_rss_mb: f64,
    git_bulk_s: f64,
    git_p50_ms: f64,
    git_p99_ms: f64,
    /// memdir `remember` p50 divided by git CLI write+add+commit p50.
    remember_vs_git_p50: f64,
    costs: Costs,
    probes: Probes,
    /// Search through the CLI and the search baselines (absent from runs saved before them).
    #[serde(default)]
    search: Option<SearchBaselines>,
}

/// Search through a new process per query, and the same searches in other tools.
#[derive(Debug, Serialize, Deserialize)]
struct SearchBaselines {
    /// `memdir --version`: starting and ending the process alone (ms).
    cli_start_p50_ms: f64,
    /// `memdir -C ROOT search QUERY -n 10 --json`, wall time of the process (ms).
    cli_p50_ms: f64,
    cli_p99_ms: f64,
    cli_mean_hits: f64,
    /// ripgrep over the memory files; absent when `rg` is not installed.
    ripgrep: Option<Ripgrep>,
    /// SQLite FTS5, one row per memory.
    fts5: Fts5,
}

/// ripgrep listing the files that hold any word of a query, a new process per query.
#[derive(Debug, Serialize, Deserialize)]
struct Ripgrep {
    /// First line of `rg --version`.
    version: String,
    p50_ms: f64,
    p99_ms: f64,
    /// Mean files listed per query (ripgrep does not rank or stop at 10).
    mean_files: f64,
}

/// SQLite FTS5 over the same memories, in this process, on disk in the temporary folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Fts5 {
    /// `sqlite_version()`.
    version: String,
    /// Inserting the N + singles rows in one transaction, then `optimize` (s).
    build_s: f64,
    /// Bytes of the database file.
    bytes: u64,
    p50_us: f64,
    p99_us: f64,
    mean_hits: f64,
}

/// What one call costs, averaged over a step: wall time, CPU time and bytes written.
#[derive(Debug, Serialize, Deserialize)]
struct Costs {
    /// Per memory of the bulk import.
    import: Cost,
    remember: Cost,
    search: Cost,
    refresh_noop: Cost,
    catchup: Cost,
}

#[derive(Debug, Serialize, Deserialize)]
struct Cost {
    /// Mean wall time (ms).
    wall_ms: f64,
    /// Mean CPU time, user + system, all threads of this process (ms; 10 ms ticks).
    cpu_ms: f64,
    /// Mean bytes passed to `write` calls (KiB; `wchar` in /proc/self/io).
    written_kib: f64,
}

/// Adds up wall time, CPU time and bytes written over the calls of one step.
#[derive(Debug, Default)]
struct Meter {
    calls: usize,
    wall_s: f64,
    cpu_ticks: u64,
    written: u64,
}

impl Meter {
    /// Runs `f`, which makes `calls` calls, and adds what it cost.
    fn time<T>(&mut self, calls: usize, f: impl FnOnce() -> T) -> T {
        let (ticks, written) = proc_counters();
        let t = Instant::now();
        let out = f();
        self.wall_s += t.elapsed().as_secs_f64();
        let (ticks2, written2) = proc_counters();
        self.calls += calls;
        self.cpu_ticks += ticks2.saturating_sub(ticks);
        self.written += written2.saturating_sub(written);
        out
    }

    fn cost(&self) -> Cost {
        let calls = self.calls.max(1) as f64;
        Cost {
            wall_ms: self.wall_s * 1e3 / calls,
            // Linux reports CPU time in clock ticks of 1/100 s (`getconf CLK_TCK`).
            cpu_ms: self.cpu_ticks as f64 * 10.0 / calls,
            written_kib: self.written as f64 / 1024.0 / calls,
        }
    }
}

/// Returns this process's CPU time (user + system, clock ticks) and bytes written so far.
fn proc_counters() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `(comm)`: state is field 3, utime 14 and stime 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    let wchar = io
        .lines()
        .find_map(|l| l.strip_prefix("wchar:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (tick(11) + tick(12), wchar)
}

/// Medians of the steps one `remember` goes through, timed outside memdir.
#[derive(Debug, Serialize, Deserialize)]
struct Probes {
    /// Temp file, write 1 KiB, fsync, rename, fsync the folder (memdir's atomic write).
    atomic_write_ms: f64,
    /// libgit2: read the git index of N+200 files from disk (memdir keeps it loaded).
    git_index_load_ms: f64,
    /// libgit2: stage one path in the loaded git index and write the whole index back.
    git_index_ms: f64,
    /// libgit2: HEAD tree plus one changed path -> new tree (one folder of ~N/6 entries).
    git_tree_ms: f64,
    /// libgit2: tree-to-tree diff between HEAD~1 and HEAD (how memdir finds what changed).
    git_diff_ms: f64,
    /// tantivy, on a copy of memdir's index: open a writer, commit nothing, wait, reload.
    tantivy_empty_ms: f64,
    /// The same, adding one memory (three documents) and deleting the previous one.
    tantivy_one_ms: f64,
    /// libgit2 `git status` with untracked files, on the baseline repository.
    git_status_ms: f64,
    /// tantivy top-40 of a search's terms over the text fields, no filter (µs).
    search_union_p50_us: f64,
    /// The same inside memdir's `kind = passage` must-filter (µs).
    search_filtered_p50_us: f64,
    /// Mean documents matching a search's terms.
    search_matched_docs: f64,
}

fn main() -> memdir::Result<()> {
    let args = Args::parse();
    if let Some(n) = args.child {
        let report = measure(n, &args)?;
        println!(
            "{}",
            serde_json::to_string(&report).expect("report serializes")
        );
        return Ok(());
    }
    if let Some(file) = &args.from {
        let text = std::fs::read_to_string(file).map_err(io_err(file))?;
        let saved: SavedRun = serde_json::from_str(&text)
            .map_err(|e| other(file, format!("not a saved run: {e}")))?;
        print_table(&saved.machine, &saved.sizes);
        return Ok(());
    }
    // Fail before the first size rather than after its import.
    memdir_binary()?;
    let machine = Machine::read();
    let scratch = tempfile::tempdir().map_err(io_err("temporary folder"))?;
    let mut reports = Vec::new();
    for &n in &args.sizes {
        reports.push(run_child(n, &args, scratch.path())?);
    }
    if args.keep {
        let kept = scratch.keep();
        eprintln!("kept every size's folder under {}", kept.display());
    }
    if args.json {
        let targets = reports
            .iter()
            .map(|r| (r.n.to_string(), targets(r)))
            .collect::<serde_json::Map<_, _>>();
        let out = serde_json::json!({
            "machine": machine,
            "singles": args.singles,
            "queries": args.queries,
            "spawns": args.spawns,
            "sizes": reports,
            "targets": targets,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&out).expect("JSON serializes")
        );
    } else {
        print_table(&machine, &reports);
    }
    Ok(())
}

// # Step 0: one child process per size, so that `VmHWM` is that size's own peak

fn run_child(n: usize, args: &Args, scratch: &Path) -> memdir::Result<SizeReport> {
    let exe = std::env::current_exe().map_err(io_err("current executable"))?;
    eprintln!("[{n}] starting child process");
    let out = Command::new(&exe)
        .args(["--child", &n.to_string()])
        .args(["--singles", &args.singles.to_string()])
        .args(["--queries", &args.queries.to_string()])
        .args(["--spawns", &args.spawns.to_string()])
        .args(args.keep.then_some("--keep"))
        .arg("--scratch")
        .arg(scratch)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(io_err(&exe))?;
    if !out.status.success() {
        return Err(other(
            &exe,
            format!("the child for N={n} failed with {}", out.status),
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line)
        .map_err(|e| other(&exe, format!("bad report from the child for N={n}: {e}")))
}

fn measure(n: usize, args: &Args) -> memdir::Result<SizeReport> {
    let (singles, queries, keep) = (args.singles, args.queries, args.keep);
    let memdir_bin = memdir_binary()?;
    let corpus = Corpus::new();
    // Left for the parent to remove at the end of the run (see the top of this file). clap
    // makes `--child` come with `--scratch`.
    let scratch = args.scratch.as_deref().expect("--child requires --scratch");
    let tmp = tempfile::Builder::new()
        .prefix(&format!("size-{n}-"))
        .tempdir_in(scratch)
        .map_err(io_err(scratch))?
        .keep();
    let root = tmp.join("memdir");
    let prov = corpus::provenance();

    // # Step 1 and 2: generate the corpus and import it, 5,000 memories per commit.
    // Only the `remember_batch` calls are timed, not the text generation.
    let mem = Memdir::init(&root)?;
    // No packing in the background while the import is timed (the git CLI's import below
    // runs without it too); the repository is packed once, after it.
    git(&root, &["config", "gc.auto", "0"])?;
    let mut paths: Vec<String> = Vec::with_capacity(n);
    let mut import = 0.0;
    let mut import_meter = Meter::default();
    for start in (0..n).step_by(CHUNK) {
        let batch: Vec<NewMemory> = (start..(start + CHUNK).min(n))
            .map(|i| corpus.memory(i))
            .collect();
        let t = Instant::now();
        let written = import_meter.time(batch.len(), || mem.remember_batch(batch, &prov))?;
        import += t.elapsed().as_secs_f64();
        paths.extend(written.into_iter().map(|w| w.path));
        eprintln!("[{n}] imported {}/{n} ({import:.1} s)", paths.len());
    }

    // The import left every object loose, so the first write would start `git gc --auto` in
    // the background, as git's own commit does; pack now, so that the timed writes below (and
    // the git CLI's, likewise) run on a packed repository with no packing beside them. Then
    // packing is back on, as users have it.
    git(&root, &["gc", "-q"])?;
    git(&root, &["config", "--unset", "gc.auto"])?;

    // # Step 3: single `remember` calls on the full store: memories N, N+1, ... of the corpus.
    let mut remember_ms = Vec::with_capacity(singles);
    let mut single_paths = Vec::with_capacity(singles);
    let mut remember_meter = Meter::default();
    for i in n..n + singles {
        let new = corpus.memory(i);
        let t = Instant::now();
        let written = remember_meter.time(1, || mem.remember(new, &prov))?;
        remember_ms.push(ms(t));
        single_paths.push(written.path);
    }
    eprintln!(
        "[{n}] remember p50 {:.1} ms",
        percentile(&mut remember_ms, 0.5)
    );

    // # Step 4: in-process search; 50 warm-up queries, then the timed ones.
    let texts = corpus.queries(WARMUP_QUERIES + queries);
    for q in &texts[..WARMUP_QUERIES] {
        mem.search(&SearchQuery::new(q.as_str()))?;
    }
    let mut search_us = Vec::with_capacity(queries);
    let mut hits = 0usize;
    let mut search_meter = Meter::default();
    search_meter.time(queries, || -> memdir::Result<()> {
        for q in &texts[WARMUP_QUERIES..] {
            let t = Instant::now();
            hits += mem.search(&SearchQuery::new(q.as_str()))?.len();
            search_us.push(t.elapsed().as_secs_f64() * 1e6);
        }
        Ok(())
    })?;
    eprintln!("[{n}] search p50 {:.0} µs", percentile(&mut search_us, 0.5));

    // # Step 4b: context building for the same queries, 1,500-token budget, Markdown (the
    // tokenizer is loaded by a warm-up call first).
    let mut context_ms = Vec::with_capacity(CONTEXT_QUERIES);
    for (i, q) in texts.iter().take(CONTEXT_QUERIES + 10).enumerate() {
        let request = memdir::context::ContextRequest::new(q.as_str(), 1_500);
        let t = Instant::now();
        std::hint::black_box(mem.context(&request)?);
        if i >= 10 {
            context_ms.push(ms(t));
        }
    }
    eprintln!(
        "[{n}] context p50 {:.2} ms",
        percentile(&mut context_ms, 0.5)
    );

    // # Step 5: open time. The store is clean and the index current, as after a normal exit.
    drop(mem);
    let mut open_ms = Vec::with_capacity(REPEATS);
    for _ in 0..REPEATS {
        let t = Instant::now();
        let m = Memdir::open(&root)?;
        open_ms.push(ms(t));
        drop(m);
    }
    let mem = Memdir::open(&root)?;
    let mut noop_ms = Vec::with_capacity(REPEATS);
    let mut noop_meter = Meter::default();
    for _ in 0..REPEATS {
        let t = Instant::now();
        let r = noop_meter.time(1, || mem.refresh())?;
        noop_ms.push(ms(t));
        assert_eq!(r.reindexed, 0, "nothing changed, yet refresh re-read files");
    }

    // # Step 6: catch-up after a hand edit: append a line with a word found nowhere else,
    // time `refresh`, then check that search finds the word in that file. The edits are undone
    // afterwards so the git CLI baseline sees the committed texts.
    let mut catchup_ms = Vec::with_capacity(REPEATS);
    let mut originals = Vec::new();
    let mut catchup_meter = Meter::default();
    for k in 0..REPEATS {
        let path = &paths[(k * n / REPEATS + 7) % n];
        let full = root.join(path);
        let before = std::fs::read(&full).map_err(io_err(&full))?;
        let word = format!("zqxhand{}", char::from(b'a' + k as u8));
        let mut after = before.clone();
        after.extend_from_slice(format!("\nEdited by hand: {word}.\n").as_bytes());
        std::fs::write(&full, &after).map_err(io_err(&full))?;
        let t = Instant::now();
        let r = catchup_meter.time(1, || mem.refresh())?;
        catchup_ms.push(ms(t));
        assert!(
            r.reindexed >= 1 && r.problems.is_empty(),
            "refresh missed the edit of {path}: {r:?}"
        );
        let found = mem.search(&SearchQuery::new(word.as_str()))?;
        assert_eq!(
            found.first().map(|h| h.path.as_str()),
            Some(path.as_str()),
            "search does not find {word}"
        );
        originals.push((full, before));
    }
    for (full, before) in &originals {
        std::fs::write(full, before).map_err(io_err(full))?;
    }
    mem.refresh()?;
    eprintln!(
        "[{n}] catch-up median {:.1} ms",
        percentile(&mut catchup_ms.clone(), 0.5)
    );

    // # Step 7: peak memory of this process so far (memdir only; the baseline comes next).
    let peak_rss_mb = vm_hwm_kib() as f64 / 1024.0;
    let index_dir = root.join(".git/memdir/index");
    let index_bytes = dir_bytes(&index_dir);
    let passages = mem.status()?.passages;
    let segments = std::fs::read(index_dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .and_then(|v| v["segments"].as_array().map(Vec::len))
        .unwrap_or(0);
    drop(mem);

    // # Step 8: search through a new process per query: memdir's CLI, beside ripgrep.
    let queries_kept: Vec<String> = texts.iter().map(|q| kept_words(q).join(" ")).collect();
    let search = spawned_searches(&memdir_bin, &root, &texts, &queries_kept, args.spawns)?;

    // # Step 9: SQLite FTS5 on the same texts (regenerated, not timed) and the same queries.
    let mut all_paths = paths.clone();
    all_paths.extend(single_paths.iter().cloned());
    let fts5 = fts5(&tmp, &corpus, &all_paths, &queries_kept)?;
    eprintln!(
        "[{n}] SQLite FTS5 search p50 {:.0} µs (built in {:.1} s)",
        fts5.p50_us, fts5.build_s
    );
    let search = SearchBaselines { fts5, ..search };

    // # Step 10: the git CLI baseline, with the same file contents at the same paths.
    // Reading the texts back from memdir's tree is not timed.
    let git_root = tmp.join("git-cli");
    std::fs::create_dir_all(&git_root).map_err(io_err(&git_root))?;
    git(&git_root, &["init", "-q", "-b", "main"])?;
    let files: Vec<(&String, Vec<u8>)> = paths
        .iter()
        .map(|p| {
            std::fs::read(root.join(p))
                .map(|b| (p, b))
                .map_err(io_err(root.join(p)))
        })
        .collect::<memdir::Result<_>>()?;
    let corpus_bytes = files.iter().map(|(_, b)| b.len() as u64).sum();
    let t = Instant::now();
    for (p, bytes) in &files {
        write_file(&git_root.join(p), bytes)?;
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
            &format!("import {n} memories"),
        ],
    )?;
    let git_bulk_s = t.elapsed().as_secs_f64();
    // Packed, as memdir's above, instead of by the `git gc --auto` this commit would start.
    git(&git_root, &["gc", "-q"])?;
    drop(files);
    eprintln!("[{n}] git CLI bulk import {git_bulk_s:.1} s");
    let mut git_ms = Vec::with_capacity(singles);
    for p in &single_paths {
        let bytes = std::fs::read(root.join(p)).map_err(io_err(root.join(p)))?;
        let t = Instant::now();
        write_file(&git_root.join(p), &bytes)?;
        git(&git_root, &["add", "--", p])?;
        git(&git_root, &["commit", "-q", "-m", &format!("add: {p}")])?;
        git_ms.push(ms(t));
    }

    // # Probes: the steps of one `remember`, timed directly, to say where its time goes.
    let probes = probes(&tmp, &root, &git_root, &paths, &texts[WARMUP_QUERIES..])?;

    if keep {
        eprintln!("[{n}] kept {}", tmp.join("memdir").display());
    }

    let remember_p50_ms = percentile(&mut remember_ms, 0.5);
    let git_p50_ms = percentile(&mut git_ms, 0.5);
    Ok(SizeReport {
        n,
        corpus_bytes,
        index_bytes,
        passages,
        segments,
        import_s: import,
        import_per_s: n as f64 / import,
        remember_p50_ms,
        remember_p99_ms: percentile(&mut remember_ms, 0.99),
        context_p50_ms: Some(percentile(&mut context_ms, 0.5)),
        context_p99_ms: Some(percentile(&mut context_ms, 0.99)),
        search_p50_us: percentile(&mut search_us, 0.5),
        search_p99_us: percentile(&mut search_us, 0.99),
        search_mean_hits: hits as f64 / queries.max(1) as f64,
        open_median_ms: percentile(&mut open_ms.clone(), 0.5),
        open_ms,
        refresh_noop_median_ms: percentile(&mut noop_ms, 0.5),
        catchup_median_ms: percentile(&mut catchup_ms.clone(), 0.5),
        catchup_ms,
        peak_rss_mb,
        git_bulk_s,
        git_p50_ms,
        git_p99_ms: percentile(&mut git_ms, 0.99),
        remember_vs_git_p50: remember_p50_ms / git_p50_ms,
        costs: Costs {
            import: import_meter.cost(),
            remember: remember_meter.cost(),
            search: search_meter.cost(),
            refresh_noop: noop_meter.cost(),
            catchup: catchup_meter.cost(),
        },
        probes,
        search: Some(search),
    })
}

// # Search baselines

/// Returns the `memdir` binary of the same build as this example: `target/<profile>/memdir`,
/// beside the `examples/` folder this program runs from.
fn memdir_binary() -> memdir::Result<PathBuf> {
    let exe = std::env::current_exe().map_err(io_err("current executable"))?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .ok_or_else(|| other(&exe, "not inside target/<profile>/examples/".into()))?;
    let bin = profile_dir.join(format!("memdir{}", std::env::consts::EXE_SUFFIX));
    if !bin.is_file() {
        return Err(other(
            &bin,
            "the memdir binary is missing; build it first with `cargo build --release`".into(),
        ));
    }
    // The binary is not rebuilt with the example: warn when the library is newer than it.
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(bin_time), Some(lib_time)) = (
        modified(&bin),
        modified(&profile_dir.join("libmemdir.rlib")),
    ) && lib_time > bin_time
    {
        eprintln!(
            "warning: {} is older than the memdir library; rebuild it with `cargo build --release`",
            bin.display()
        );
    }
    Ok(bin)
}

/// Returns the words of `query` that memdir's analyzer keeps (it drops English stop words),
/// as typed, for the baselines that have no stop words of their own.
fn kept_words(query: &str) -> Vec<String> {
    let mut analyzer = analyzer();
    query
        .split_whitespace()
        .filter(|w| {
            let mut stream = analyzer.token_stream(w);
            stream.advance()
        })
        .map(str::to_owned)
        .collect()
}

/// Returns the first line of `rg --version`, or `None` if ripgrep is not on `PATH`.
fn ripgrep_version() -> Option<String> {
    let out = Command::new("rg")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(text.lines().next().unwrap_or("ripgrep").to_owned())
}

/// Times `memdir search` and ripgrep, a new process per query, alternating so that both see
/// the same machine load. `texts` are the queries as typed (warm-up ones first), `kept` the
/// words of each that memdir searches for. FTS5 is filled in by the caller.
fn spawned_searches(
    memdir_bin: &Path,
    root: &Path,
    texts: &[String],
    kept: &[String],
    spawns: usize,
) -> memdir::Result<SearchBaselines> {
    let rg = ripgrep_version();
    if rg.is_none() {
        eprintln!("ripgrep (rg) is not on PATH: skipping its baseline");
    }
    let memdir_cmd = |args: &[&str]| {
        let mut cmd = Command::new(memdir_bin);
        hermetic(&mut cmd).args(args).env_remove("MEMDIR_DIR");
        cmd
    };
    let limit = LIMIT.to_string();
    let root_arg = root.to_string_lossy();
    let (mut cli_ms, mut rg_ms, mut start_ms) = (Vec::new(), Vec::new(), Vec::new());
    let (mut cli_hits, mut rg_files) = (0usize, 0usize);
    let rounds = texts.iter().zip(kept).take(WARMUP_SPAWNS + spawns);
    for (k, (text, words)) in rounds.enumerate() {
        let timed = k >= WARMUP_SPAWNS;
        let t = Instant::now();
        let out = run(memdir_cmd(&[
            "-C", &root_arg, "search", text, "-n", &limit, "--json",
        ]))?;
        let elapsed = ms(t);
        let hits: Vec<serde_json::Value> = serde_json::from_slice(&out)
            .map_err(|e| other(memdir_bin, format!("search printed no JSON list: {e}")))?;
        if timed {
            cli_ms.push(elapsed);
            cli_hits += hits.len();
        }
        let t = Instant::now();
        run(memdir_cmd(&["--version"]))?;
        if timed {
            start_ms.push(ms(t));
        }
        if rg.is_some() && !words.is_empty() {
            let mut cmd = Command::new("rg");
            cmd.current_dir(root).args([
                "--files-with-matches",
                "--ignore-case",
                "--fixed-strings",
            ]);
            for w in words.split(' ') {
                cmd.args(["-e", w]);
            }
            cmd.arg(".");
            let t = Instant::now();
            let out = run(cmd)?;
            if timed {
                rg_ms.push(ms(t));
                rg_files += out.split(|&b| b == b'\n').filter(|l| !l.is_empty()).count();
            }
        }
    }
    let timed = cli_ms.len().max(1) as f64;
    let report = SearchBaselines {
        cli_start_p50_ms: percentile(&mut start_ms, 0.5),
        cli_p50_ms: percentile(&mut cli_ms, 0.5),
        cli_p99_ms: percentile(&mut cli_ms, 0.99),
        cli_mean_hits: cli_hits as f64 / timed,
        ripgrep: rg.map(|version| Ripgrep {
            version,
            mean_files: rg_files as f64 / rg_ms.len().max(1) as f64,
            p50_ms: percentile(&mut rg_ms, 0.5),
            p99_ms: percentile(&mut rg_ms, 0.99),
        }),
        fts5: Fts5::default(),
    };
    eprintln!(
        "CLI search p50 {:.1} ms (process start {:.1} ms), ripgrep p50 {}",
        report.cli_p50_ms,
        report.cli_start_p50_ms,
        report
            .ripgrep
            .as_ref()
            .map_or("-".into(), |r| format!("{:.1} ms", r.p50_ms))
    );
    Ok(report)
}

/// Runs `cmd` to the end with no input and returns its stdout. Exit status 1 counts as
/// success: it is ripgrep's "nothing found".
fn run(mut cmd: Command) -> memdir::Result<Vec<u8>> {
    let program = PathBuf::from(cmd.get_program());
    let out = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(io_err(&program))?;
    match out.status.code() {
        Some(0 | 1) => Ok(out.stdout),
        _ => Err(other(&program, format!("failed with {}", out.status))),
    }
}

/// Indexes `paths` (memory `i` of the corpus at `paths[i]`) in SQLite FTS5, one row per
/// memory, and times `queries` (warm-up ones first) as top-10 BM25 searches.
fn fts5(
    scratch: &Path,
    corpus: &Corpus,
    paths: &[String],
    queries: &[String],
) -> memdir::Result<Fts5> {
    let file = scratch.join("fts5.sqlite");
    let sql = |e: rusqlite::Error| other(&file, format!("SQLite: {e}"));
    let mut db = rusqlite::Connection::open(&file).map_err(sql)?;
    db.execute_batch(
        "CREATE VIRTUAL TABLE memory USING fts5(
             path UNINDEXED, title, tags, body, tokenize = 'porter unicode61 remove_diacritics 2'
         );",
    )
    .map_err(sql)?;
    let memories: Vec<NewMemory> = (0..paths.len()).map(|i| corpus.memory(i)).collect();
    let t = Instant::now();
    let tx = db.transaction().map_err(sql)?;
    {
        let mut insert = tx
            .prepare("INSERT INTO memory (path, title, tags, body) VALUES (?1, ?2, ?3, ?4)")
            .map_err(sql)?;
        for (path, m) in paths.iter().zip(&memories) {
            insert
                .execute((
                    path,
                    m.title.as_deref().unwrap_or(""),
                    m.tags.join(" "),
                    &m.text,
                ))
                .map_err(sql)?;
        }
    }
    tx.commit().map_err(sql)?;
    db.execute("INSERT INTO memory (memory) VALUES ('optimize')", ())
        .map_err(sql)?;
    let build_s = t.elapsed().as_secs_f64();
    drop(memories);

    // memdir's boosts: title 2.0, tags 1.5, body 1.0 (the path column is not indexed).
    let mut search = db
        .prepare(
            "SELECT path, title FROM memory WHERE memory MATCH ?1
             ORDER BY bm25(memory, 0.0, 2.0, 1.5, 1.0) LIMIT ?2",
        )
        .map_err(sql)?;
    let (mut us, mut hits) = (Vec::new(), 0usize);
    for (k, words) in queries.iter().enumerate() {
        let t = Instant::now();
        let found = if words.is_empty() {
            0
        } else {
            let expr = words
                .split(' ')
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" OR ");
            let rows = search
                .query_map((expr, LIMIT as i64), |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
                })
                .map_err(sql)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(sql)?.len()
        };
        if k >= WARMUP_QUERIES {
            us.push(t.elapsed().as_secs_f64() * 1e6);
            hits += found;
        }
    }
    let version = db
        .query_row("SELECT sqlite_version()", (), |row| row.get(0))
        .map_err(sql)?;
    Ok(Fts5 {
        version,
        build_s,
        bytes: std::fs::metadata(&file).map_or(0, |m| m.len()),
        mean_hits: hits as f64 / us.len().max(1) as f64,
        p50_us: percentile(&mut us, 0.5),
        p99_us: percentile(&mut us, 0.99),
    })
}

// # Probes
//
// These mirror what `Store::commit_paths` and `Index::apply` do for one write, as of this
// version of memdir. They reach for git2 and tantivy directly, which an example normally
// should not: here the point is to time those steps without changing memdir.

fn probes(
    scratch: &Path,
    memdir_root: &Path,
    git_root: &Path,
    paths: &[String],
    queries: &[String],
) -> memdir::Result<Probes> {
    let git_failed = |e: git2::Error| other(git_root, format!("probe: {e}"));
    // Atomic write of a 1 KiB file, as memdir writes every memory file.
    let mut atomic = Vec::new();
    for k in 0..REPEATS * 4 {
        let target = scratch.join(format!("probe-{k}.md"));
        let t = Instant::now();
        let mut tmp = tempfile::Builder::new()
            .tempfile_in(scratch)
            .map_err(io_err(scratch))?;
        tmp.write_all(&[b'x'; 1024]).map_err(io_err(&target))?;
        tmp.as_file().sync_all().map_err(io_err(&target))?;
        tmp.persist(&target).map_err(|e| io_err(&target)(e.error))?;
        std::fs::File::open(scratch)
            .and_then(|d| d.sync_all())
            .map_err(io_err(scratch))?;
        atomic.push(ms(t));
    }

    // git index and tree work on the baseline repository, which holds the same N+200 files.
    let repo = git2::Repository::open(git_root).map_err(git_failed)?;
    let path = Path::new(&paths[paths.len() / 2]);
    let (mut load_ms, mut index_ms, mut tree_ms, mut diff_ms) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for _ in 0..REPEATS {
        let t = Instant::now();
        let mut index = repo.index().map_err(git_failed)?;
        index.read(true).map_err(git_failed)?;
        load_ms.push(ms(t));
        let t = Instant::now();
        index.add_path(path).map_err(git_failed)?;
        index.write().map_err(git_failed)?;
        index_ms.push(ms(t));
        let head = repo
            .head()
            .and_then(|h| h.peel_to_commit())
            .map_err(git_failed)?;
        let base = head.tree().map_err(git_failed)?;
        let t = Instant::now();
        let mut update = git2::build::TreeUpdateBuilder::new();
        // A different blob id forces the folder's tree to be rewritten.
        let blob = repo
            .blob(format!("probe {}", tree_ms.len()).as_bytes())
            .map_err(git_failed)?;
        update.upsert(path, blob, git2::FileMode::Blob);
        update.create_updated(&repo, &base).map_err(git_failed)?;
        tree_ms.push(ms(t));
        let parent = head.parent(0).and_then(|p| p.tree()).map_err(git_failed)?;
        let t = Instant::now();
        let diff = repo
            .diff_tree_to_tree(Some(&parent), Some(&base), None)
            .map_err(git_failed)?;
        assert!(diff.deltas().next().is_some());
        diff_ms.push(ms(t));
    }
    // `git status` as memdir's refresh asks for it: untracked files too, recursively.
    let mut status_ms = Vec::new();
    for _ in 0..REPEATS {
        let t = Instant::now();
        let mut opts = git2::StatusOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .exclude_submodules(true);
        let statuses = repo.statuses(Some(&mut opts)).map_err(git_failed)?;
        assert_eq!(statuses.len(), 0, "the baseline repository is clean");
        status_ms.push(ms(t));
    }

    // tantivy, on a copy of memdir's index: what `Index::apply` does for one new memory
    // (open a writer, delete by path, add a few documents, commit, wait for merges, reload the
    // reader), and the same with nothing to add. The copy gets memdir's analyzer chain,
    // rebuilt from tantivy's parts, under memdir's tokenizer name.
    let copy = scratch.join("index-copy");
    copy_dir(&memdir_root.join(".git/memdir/index"), &copy)?;
    let tv = |e: tantivy::TantivyError| other(&copy, format!("probe: {e}"));
    let index = tantivy::Index::open_in_dir(&copy).map_err(tv)?;
    index.tokenizers().register("memdir_en", analyzer());
    let reader = index
        .reader_builder()
        .reload_policy(tantivy::ReloadPolicy::Manual)
        .try_into()
        .map_err(tv)?;
    let schema = index.schema();
    let field = |name: &str| schema.get_field(name).map_err(tv);
    let (path_f, kind_f, title_f, body_f) = (
        field("path")?,
        field("kind")?,
        field("title")?,
        field("body")?,
    );
    let (mut empty_ms, mut one_ms) = (Vec::new(), Vec::new());
    for k in 0..REPEATS * 4 {
        let probe_path = format!("note/probe-{}.md", k / 2);
        let t = Instant::now();
        let mut writer: tantivy::IndexWriter =
            index.writer_with_num_threads(1, 15_000_000).map_err(tv)?;
        writer.delete_term(tantivy::Term::from_field_text(path_f, &probe_path));
        let add = k % 2 == 1;
        if add {
            for (kind, text) in [
                ("m", ""),
                ("p", "First passage of the probe."),
                ("p", "- a list item"),
            ] {
                let mut doc = tantivy::TantivyDocument::default();
                doc.add_text(path_f, &probe_path);
                doc.add_text(kind_f, kind);
                doc.add_text(title_f, "Probe memory title");
                doc.add_text(body_f, text);
                writer.add_document(doc).map_err(tv)?;
            }
        }
        writer.commit().map_err(tv)?;
        writer.wait_merging_threads().map_err(tv)?;
        reader.reload().map_err(tv)?;
        if add {
            one_ms.push(ms(t))
        } else {
            empty_ms.push(ms(t))
        }
    }

    // Search: the same queries as step 4, as a should-union of term queries over the four
    // text fields with memdir's boosts, top 40 (memdir asks for 4 x limit): alone, and inside
    // memdir's `kind = passage` must-filter. Documents are not fetched.
    let searcher = reader.searcher();
    let mut analyzer = analyzer();
    let text_fields = [
        (title_f, 2.0),
        (field("heading")?, 1.2),
        (body_f, 1.0),
        (field("tags")?, 1.5),
    ];
    let (mut union_us, mut filtered_us, mut matched) = (Vec::new(), Vec::new(), 0usize);
    let top = || tantivy::collector::TopDocs::with_limit(40).order_by_score();
    for q in queries.iter().take(200) {
        let mut stream = analyzer.token_stream(q);
        let mut clauses: Vec<(tantivy::query::Occur, Box<dyn tantivy::query::Query>)> = Vec::new();
        while stream.advance() {
            for (f, boost) in text_fields {
                let term = tantivy::Term::from_field_text(f, &stream.token().text);
                let tq = tantivy::query::TermQuery::new(
                    term,
                    tantivy::schema::IndexRecordOption::WithFreqs,
                );
                clauses.push((
                    tantivy::query::Occur::Should,
                    Box::new(tantivy::query::BoostQuery::new(Box::new(tq), boost)),
                ));
            }
        }
        let union = tantivy::query::BooleanQuery::new(clauses);
        let t = Instant::now();
        searcher.search(&union, &top()).map_err(tv)?;
        union_us.push(t.elapsed().as_secs_f64() * 1e6);
        let kind = tantivy::query::TermQuery::new(
            tantivy::Term::from_field_text(kind_f, "p"),
            tantivy::schema::IndexRecordOption::Basic,
        );
        let filtered = tantivy::query::BooleanQuery::new(vec![
            (
                tantivy::query::Occur::Must,
                Box::new(tantivy::query::ConstScoreQuery::new(Box::new(kind), 0.0)),
            ),
            (tantivy::query::Occur::Must, Box::new(union.clone())),
        ]);
        let t = Instant::now();
        searcher.search(&filtered, &top()).map_err(tv)?;
        filtered_us.push(t.elapsed().as_secs_f64() * 1e6);
        matched += searcher
            .search(&union, &tantivy::collector::Count)
            .map_err(tv)?;
    }
    Ok(Probes {
        atomic_write_ms: percentile(&mut atomic, 0.5),
        git_index_load_ms: percentile(&mut load_ms, 0.5),
        git_index_ms: percentile(&mut index_ms, 0.5),
        git_tree_ms: percentile(&mut tree_ms, 0.5),
        git_diff_ms: percentile(&mut diff_ms, 0.5),
        git_status_ms: percentile(&mut status_ms, 0.5),
        tantivy_empty_ms: percentile(&mut empty_ms, 0.5),
        tantivy_one_ms: percentile(&mut one_ms, 0.5),
        search_union_p50_us: percentile(&mut union_us, 0.5),
        search_filtered_p50_us: percentile(&mut filtered_us, 0.5),
        search_matched_docs: matched as f64 / union_us.len().max(1) as f64,
    })
}

/// Returns memdir's text analyzer (`memdir_en`), rebuilt from tantivy's parts.
fn analyzer() -> tantivy::tokenizer::TextAnalyzer {
    use tantivy::tokenizer::{
        AsciiFoldingFilter, Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer,
        StopWordFilter, TextAnalyzer,
    };
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .filter(StopWordFilter::new(Language::English).expect("tantivy ships English stop words"))
        .filter(Stemmer::new(Language::English))
        .build()
}

// # Helpers

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Returns the nearest-rank percentile `p` (0 < p <= 1) of `values`, sorting them.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

/// Returns this process's peak resident set size in KiB (`VmHWM`), or 0 if unknown.
fn vm_hwm_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.file_type() {
            Ok(t) if t.is_dir() => dir_bytes(&e.path()),
            _ => e.metadata().map(|m| m.len()).unwrap_or(0),
        })
        .sum()
}

fn copy_dir(from: &Path, to: &Path) -> memdir::Result<()> {
    std::fs::create_dir_all(to).map_err(io_err(to))?;
    for entry in std::fs::read_dir(from).map_err(io_err(from))? {
        let entry = entry.map_err(io_err(from))?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(io_err(entry.path()))?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else if entry.file_name() != ".tantivy-writer.lock" {
            std::fs::copy(entry.path(), &target).map_err(io_err(&target))?;
        }
    }
    Ok(())
}

// # Output

/// The parts of a `--json` run that `--from` reads back.
#[derive(Debug, Deserialize)]
struct SavedRun {
    machine: Machine,
    sizes: Vec<SizeReport>,
}

/// The machine, for the report.
#[derive(Debug, Serialize, Deserialize)]
struct Machine {
    cpus: usize,
    cpu_model: String,
    ram_gib: f64,
}

impl Machine {
    fn read() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let field = |text: &str, key: &str| {
            text.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let mem_kib: f64 = field(&meminfo, "MemTotal")
            .trim_end_matches("kB")
            .trim()
            .parse()
            .unwrap_or(0.0);
        Machine {
            cpus: std::thread::available_parallelism().map_or(1, |n| n.get()),
            cpu_model: field(&cpuinfo, "model name"),
            ram_gib: (mem_kib / 1024.0 / 1024.0 * 10.0).round() / 10.0,
        }
    }
}

/// Returns, for each target, the metric, what was measured, the limit, its unit and whether it passes.
fn targets(r: &SizeReport) -> serde_json::Value {
    let measured = [
        r.search_p50_us,
        r.remember_p50_ms,
        r.open_median_ms,
        r.catchup_median_ms,
        r.context_p50_ms.unwrap_or(f64::INFINITY),
    ];
    TARGETS
        .iter()
        .zip(measured)
        .map(|((name, limit, unit), v)| {
            serde_json::json!({ "metric": name, "measured": v, "limit": limit, "unit": unit, "pass": v <= *limit })
        })
        .collect()
}

fn print_table(machine: &Machine, reports: &[SizeReport]) {
    println!(
        "memdir benchmark: {} CPUs ({}), {} GiB RAM\n",
        machine.cpus, machine.cpu_model, machine.ram_gib
    );
    let row = |label: &str, cell: &dyn Fn(&SizeReport) -> String| {
        print!("{label:<46}");
        for r in reports {
            print!("{:>22}", cell(r));
        }
        println!();
    };
    row("memories", &|r| group(r.n));
    row("corpus files / tantivy index (MB)", &|r| {
        format!(
            "{:.0} / {:.0}",
            r.corpus_bytes as f64 / 1e6,
            r.index_bytes as f64 / 1e6
        )
    });
    row("passages / index segments", &|r| {
        format!("{} / {}", group(r.passages), r.segments)
    });
    println!("memdir");
    row("  bulk import, remember_batch of 5,000 (s)", &|r| {
        format!("{:.1}", r.import_s)
    });
    row("  bulk import (memories/s)", &|r| {
        format!("{:.0}", r.import_per_s)
    });
    row("  remember p50 / p99 (ms)", &|r| {
        format!("{:.1} / {:.1}", r.remember_p50_ms, r.remember_p99_ms)
    });
    row("  search p50 / p99 (µs)", &|r| {
        format!("{:.0} / {:.0}", r.search_p50_us, r.search_p99_us)
    });
    row("  search mean hits (limit 10)", &|r| {
        format!("{:.1}", r.search_mean_hits)
    });
    row("  open, median of 5 (ms)", &|r| {
        format!("{:.1}", r.open_median_ms)
    });
    row("  refresh with nothing changed (ms)", &|r| {
        format!("{:.1}", r.refresh_noop_median_ms)
    });
    row("  catch-up after 1 hand edit (ms)", &|r| {
        format!("{:.1}", r.catchup_median_ms)
    });
    row("  peak RSS, VmHWM of the child (MB)", &|r| {
        format!("{:.0}", r.peak_rss_mb)
    });
    println!("memdir, per call: wall / CPU (ms) / written (KiB)");
    let cost = |c: &Cost| format!("{:.1} / {:.1} / {:.0}", c.wall_ms, c.cpu_ms, c.written_kib);
    row("  bulk import, per memory", &|r| {
        let c = &r.costs.import;
        format!("{:.2} / {:.2} / {:.1}", c.wall_ms, c.cpu_ms, c.written_kib)
    });
    row("  remember", &|r| cost(&r.costs.remember));
    row("  search", &|r| {
        format!(
            "{:.2} / {:.2} / {:.0}",
            r.costs.search.wall_ms, r.costs.search.cpu_ms, r.costs.search.written_kib
        )
    });
    row("  refresh with nothing changed", &|r| {
        cost(&r.costs.refresh_noop)
    });
    row("  catch-up after 1 hand edit", &|r| cost(&r.costs.catchup));
    println!("git CLI baseline");
    row("  bulk import: write + add -A + commit (s)", &|r| {
        format!("{:.1}", r.git_bulk_s)
    });
    row("  write + add + commit p50 / p99 (ms)", &|r| {
        format!("{:.1} / {:.1}", r.git_p50_ms, r.git_p99_ms)
    });
    // Runs saved before the search baselines existed show "-" in these rows.
    fn with_search(r: &SizeReport, f: impl Fn(&SearchBaselines) -> String) -> String {
        r.search.as_ref().map_or("-".into(), f)
    }
    fn with_ripgrep(r: &SizeReport, f: impl Fn(&SearchBaselines, &Ripgrep) -> String) -> String {
        with_search(r, |s| {
            s.ripgrep.as_ref().map_or("no rg".into(), |g| f(s, g))
        })
    }
    println!("SQLite FTS5 baseline: one row per memory, in process");
    row("  build: insert N rows + optimize (s)", &|r| {
        with_search(r, |s| format!("{:.1}", s.fts5.build_s))
    });
    row("  search p50 / p99 (µs)", &|r| {
        with_search(r, |s| {
            format!("{:.0} / {:.0}", s.fts5.p50_us, s.fts5.p99_us)
        })
    });
    row("  search mean hits (limit 10)", &|r| {
        with_search(r, |s| format!("{:.1}", s.fts5.mean_hits))
    });
    println!("search, a new process per query (ms)");
    row("  memdir search -n 10 --json p50 / p99", &|r| {
        with_search(r, |s| format!("{:.1} / {:.1}", s.cli_p50_ms, s.cli_p99_ms))
    });
    row("  memdir --version p50 (process start alone)", &|r| {
        with_search(r, |s| format!("{:.1}", s.cli_start_p50_ms))
    });
    row("  rg -l -i -F -e WORD... p50 / p99", &|r| {
        with_ripgrep(r, |_, g| format!("{:.1} / {:.1}", g.p50_ms, g.p99_ms))
    });
    row("  rg files listed per query (unranked)", &|r| {
        with_ripgrep(r, |_, g| format!("{:.0}", g.mean_files))
    });
    row("context build, 1,500 tokens (ms) p50 / p99", &|r| match (
        r.context_p50_ms,
        r.context_p99_ms,
    ) {
        (Some(a), Some(b)) => format!("{a:.2} / {b:.2}"),
        _ => "-".into(),
    });
    println!("ratios");
    row("  remember p50 / git CLI p50", &|r| {
        format!("{:.2}x", r.remember_vs_git_p50)
    });
    row("  bulk import memdir / git CLI", &|r| {
        format!("{:.2}x", r.import_s / r.git_bulk_s)
    });
    row("  search p50 memdir / SQLite FTS5", &|r| {
        r.search.as_ref().map_or("-".into(), |s| {
            format!("{:.2}x", r.search_p50_us / s.fts5.p50_us)
        })
    });
    row("  CLI search p50 memdir / ripgrep", &|r| {
        with_ripgrep(r, |s, g| format!("{:.2}x", s.cli_p50_ms / g.p50_ms))
    });
    println!("probes: steps of one remember, timed outside memdir (ms)");
    row("  atomic write + fsync", &|r| {
        format!("{:.2}", r.probes.atomic_write_ms)
    });
    row("  git index: read from disk (not per write)", &|r| {
        format!("{:.2}", r.probes.git_index_load_ms)
    });
    row("  git index: stage 1 path + write", &|r| {
        format!("{:.2}", r.probes.git_index_ms)
    });
    row("  git tree: HEAD + 1 path", &|r| {
        format!("{:.2}", r.probes.git_tree_ms)
    });
    row("  git diff: HEAD~1..HEAD trees", &|r| {
        format!("{:.2}", r.probes.git_diff_ms)
    });
    row("  tantivy: writer + empty commit + reload", &|r| {
        format!("{:.2}", r.probes.tantivy_empty_ms)
    });
    row("  tantivy: writer + 1 memory commit + reload", &|r| {
        format!("{:.2}", r.probes.tantivy_one_ms)
    });
    println!("probes: refresh and search, timed outside memdir");
    row("  git status with untracked (ms)", &|r| {
        format!("{:.1}", r.probes.git_status_ms)
    });
    row("  tantivy top-40, terms only (µs)", &|r| {
        format!("{:.0}", r.probes.search_union_p50_us)
    });
    row("  tantivy top-40, in kind=passage filter (µs)", &|r| {
        format!("{:.0}", r.probes.search_filtered_p50_us)
    });
    row("  documents matching a search's terms", &|r| {
        group(r.probes.search_matched_docs as usize)
    });
    for r in reports {
        let note = if r.n == 100_000 {
            ""
        } else {
            " (targets are set for 100,000; informational)"
        };
        println!("\ntargets at N = {}{note}", group(r.n));
        let measured = [
            r.search_p50_us,
            r.remember_p50_ms,
            r.open_median_ms,
            r.catchup_median_ms,
            r.context_p50_ms.unwrap_or(f64::INFINITY),
        ];
        for ((name, limit, unit), v) in TARGETS.iter().zip(measured) {
            let verdict = if v <= *limit { "PASS" } else { "FAIL" };
            println!("  {name:<14} {v:>10.1} {unit:<3} <= {limit:<6} {unit:<3} {verdict}");
        }
    }
    println!("\ndone when (issue 7), memdir / baseline at p50");
    for r in reports {
        let at = group(r.n);
        let line = |what: String, v: f64, limit: f64, note: &str| {
            let verdict = if v <= limit { "PASS" } else { "FAIL" };
            println!("  {at:>7}: {what:<42} {v:>6.3}x  {verdict}{note}");
        };
        line(
            "remember <= git CLI write + add + commit".into(),
            r.remember_vs_git_p50,
            1.0,
            "",
        );
        if let Some((s, g)) = r
            .search
            .as_ref()
            .and_then(|s| Some((s, s.ripgrep.as_ref()?)))
        {
            let note = if r.n == 10_000 {
                ""
            } else {
                " (set for 10,000)"
            };
            line(
                format!("CLI search <= {CLI_VS_RIPGREP_MAX} x ripgrep"),
                s.cli_p50_ms / g.p50_ms,
                CLI_VS_RIPGREP_MAX,
                note,
            );
        }
    }
    println!(
        "\nPeak RSS is each child's own VmHWM (/proc/self/status), read before the baselines."
    );
    if let Some(s) = reports.iter().find_map(|r| r.search.as_ref()) {
        let rg = s
            .ripgrep
            .as_ref()
            .map_or("not installed", |g| g.version.as_str());
        println!("SQLite {} (rusqlite, bundled); {rg}.", s.fts5.version);
    }
}

/// Formats 100000 as "100,000".
fn group(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
