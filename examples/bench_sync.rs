//! Sync benchmark: `memdir sync` against `git pull` of the same commits, in the same run.
//!
//! ```text
//! cargo run --release --example bench_sync -- --memories 10000 --incoming 1000 --rounds 3
//! ```
//!
//! 1. a repository of N memories of the benchmark corpus (`benches/common/corpus.rs`), written
//!    with `remember_batch` 5,000 per commit, pushed to a bare repository (a path remote: git's
//!    own transfer, no network);
//! 2. two clones of it: `mem`, cloned with `memdir clone` (index built), and `git`, cloned with
//!    `git clone`, for the baseline;
//! 3. sync with nothing to do: `Memdir::sync` on `mem`, then `git pull` on `git`, each timed
//!    `--rounds` times, interleaved;
//! 4. each round, the writer adds `--incoming` new memories in one commit and pushes it; each
//!    clone first commits one memory of its own (so both must merge, not fast-forward), then
//!    receives: `Memdir::sync` (fetch, merge with guard checks of every arriving memory,
//!    working tree, index catch-up, push of the merge) against `git pull --no-rebase` (fetch,
//!    merge, working tree; no index, no push). The git clone pushes nothing, so its figure
//!    has less work in it than memdir's.
//!
//! Everything runs in a temporary folder, which is removed. Medians of the rounds.

use std::path::Path;
use std::time::Instant;

use clap::Parser;
use memdir::{Memdir, NewMemory};

// This benchmark writes the corpus and searches nothing: its queries go unused.
#[allow(dead_code)]
#[path = "../benches/common/corpus.rs"]
mod corpus;
#[path = "../benches/common/gitcli.rs"]
mod gitcli;

use corpus::Corpus;

/// Benchmark `memdir sync` against `git pull`
#[derive(Debug, Parser)]
struct Args {
    /// Memories in the repository
    #[arg(long, default_value_t = 10_000)]
    memories: usize,
    /// New memories each round receives
    #[arg(long, default_value_t = 1_000)]
    incoming: usize,
    /// Timed rounds (medians are printed)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

fn timed<T>(f: impl FnOnce() -> memdir::Result<T>) -> memdir::Result<(f64, T)> {
    let start = Instant::now();
    let out = f()?;
    Ok((start.elapsed().as_secs_f64() * 1000.0, out))
}

fn main() -> memdir::Result<()> {
    let args = Args::parse();
    let tmp = tempfile::tempdir().map_err(gitcli::io_err("tempdir"))?;
    let root = tmp.path();
    let corpus = Corpus::new();
    let prov = corpus::provenance();

    // # Step 1: the writer's repository, pushed to a bare one.
    gitcli::git(
        root,
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "hub.git",
        ],
    )?;
    let hub = root.join("hub.git");
    let hub_url = hub.to_string_lossy().into_owned();
    let writer = Memdir::init(&root.join("writer"))?;
    gitcli::git(&root.join("writer"), &["remote", "add", "origin", &hub_url])?;
    let mut next = 0;
    let mut batch = |n: usize| -> Vec<NewMemory> {
        let out = (next..next + n).map(|i| corpus.memory(i)).collect();
        next += n;
        out
    };
    let start = Instant::now();
    let mut left = args.memories;
    while left > 0 {
        let n = left.min(5_000);
        writer.remember_batch(batch(n), &prov)?;
        left -= n;
    }
    writer.sync(None, &prov)?;
    eprintln!(
        "wrote and pushed {} memories in {:.1} s",
        args.memories,
        start.elapsed().as_secs_f64()
    );

    // # Step 2: the two clones.
    let (t, mem) = timed(|| Memdir::clone_from(&hub_url, &root.join("mem")))?;
    eprintln!("memdir clone (with index): {:.0} ms", t);
    gitcli::git(root, &["clone", "--quiet", &hub_url, "git"])?;
    let git_dir = root.join("git");

    // # Step 3: nothing to do.
    let (mut idle_mem, mut idle_git) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        idle_mem.push(timed(|| mem.sync(None, &prov))?.0);
        idle_git.push(timed(|| gitcli::git(&git_dir, &["pull", "--quiet", "--no-rebase"]))?.0);
    }

    // # Step 4: receiving `incoming` new memories, both sides diverged.
    let (mut recv_mem, mut recv_git) = (Vec::new(), Vec::new());
    let mut received = 0;
    for round in 0..args.rounds {
        writer.remember_batch(batch(args.incoming), &prov)?;
        writer.sync(None, &prov)?;
        mem.remember(
            NewMemory::new(format!("Local note {round} on the memdir clone.")),
            &prov,
        )?;
        let local = git_dir.join(format!("note/local-{round}.md"));
        gitcli::write_file(
            &local,
            format!("Local note {round} on the git clone.\n").as_bytes(),
        )?;
        gitcli::git(&git_dir, &["add", "-A"])?;
        gitcli::git(&git_dir, &["commit", "--quiet", "-m", "local"])?;
        let (t, synced) = timed(|| mem.sync(None, &prov))?;
        received = synced.received.len();
        recv_mem.push(t);
        recv_git.push(timed(|| pull(&git_dir))?.0);
    }
    let (im, ig) = (median(idle_mem), median(idle_git));
    let (rm, rg) = (median(recv_mem), median(recv_git));
    println!(
        "| case ({} memories, median of {} rounds, ms) | memdir sync | git pull | ratio |",
        args.memories, args.rounds
    );
    println!("|---|---:|---:|---:|");
    println!("| nothing to do | {im:.1} | {ig:.1} | {:.2}x |", im / ig);
    println!(
        "| receiving {} new memories (merge) | {rm:.1} | {rg:.1} | {:.2}x |",
        args.incoming,
        rm / rg
    );
    eprintln!("last round received {received} memories");
    Ok(())
}

/// `git pull` that merges (the clone has a commit of its own).
fn pull(dir: &Path) -> memdir::Result<()> {
    gitcli::git(dir, &["pull", "--quiet", "--no-rebase", "--no-edit"])
}
