//! Time-travel benchmark: `search --at` against present search, on a store of N memories
//! with V versions each (issue 4's target: `--at` within 2x of present search at 100K
//! memories with about 10 versions each).
//!
//! ```text
//! cargo run --release --example bench_at -- --memories 100000 --versions 10 [--json]
//! ```
//!
//! 1. imports N memories of the benchmark corpus (`benches/common/corpus.rs`) with
//!    `remember_batch`, 5,000 per commit;
//! 2. rewrites every memory V-1 more times, each time replacing its body with another corpus
//!    text, as hand edits committed by `Memdir::commit_hand_edits`, a tenth of the memories
//!    per commit: N x V versions over about 10 x V commits;
//! 3. builds the index of versions (timed: a one-off cost, then incremental per commit);
//! 4. times the same 1,000 queries (after 50 warm-up ones), interleaved query by query:
//!    present search, `search_at` HEAD, and `search_at` the commit that ended the middle
//!    generation (the first half of the versions in the past, the rest in its future);
//! 5. prints medians and p99s, the ratios to present search, and the versions index's size.
//!
//! Everything runs in a temporary folder, which is removed.

use std::time::Instant;

use clap::Parser;
use memdir::{Memdir, NewMemory, SearchQuery};
use serde::Serialize;

#[path = "../benches/common/corpus.rs"]
mod corpus;

use corpus::Corpus;

/// Benchmark `search --at` against present search
#[derive(Debug, Parser)]
struct Args {
    /// Memories in the store
    #[arg(long, default_value_t = 100_000)]
    memories: usize,
    /// Versions of each memory (1 = only the first write)
    #[arg(long, default_value_t = 10)]
    versions: usize,
    /// Timed queries
    #[arg(long, default_value_t = 1_000)]
    queries: usize,
    /// Print one JSON object instead of a table
    #[arg(long)]
    json: bool,
}

#[derive(Serialize)]
struct Report {
    memories: usize,
    versions_per_memory: usize,
    commits: usize,
    build_versions_s: f64,
    versions_index_mb: f64,
    queries: usize,
    present_p50_us: f64,
    present_p99_us: f64,
    at_head_p50_us: f64,
    at_head_p99_us: f64,
    at_middle_p50_us: f64,
    at_middle_p99_us: f64,
    at_head_ratio: f64,
    at_middle_ratio: f64,
    target_ratio: f64,
    hits_present: usize,
    hits_at_head: usize,
    hits_at_middle: usize,
    /// Segments, documents and deleted documents of the present index, then of the versions.
    present_segments: (usize, u64, u64),
    versions_segments: (usize, u64, u64),
}

/// Reads a tantivy index's `meta.json`: (segments, documents, deleted documents).
fn segments(dir: &std::path::Path) -> (usize, u64, u64) {
    let meta: serde_json::Value = std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let list = meta["segments"].as_array().cloned().unwrap_or_default();
    let docs = list
        .iter()
        .map(|s| s["max_doc"].as_u64().unwrap_or(0))
        .sum();
    let deleted = list
        .iter()
        .map(|s| s["deletes"]["num_deleted_docs"].as_u64().unwrap_or(0))
        .sum();
    (list.len(), docs, deleted)
}

const CHUNK: usize = 5_000;
const WARMUP: usize = 50;

fn main() -> memdir::Result<()> {
    let args = Args::parse();
    let (n, v) = (args.memories, args.versions.max(1));
    let corpus = Corpus::new();
    let tmp = tempfile::tempdir().map_err(|e| io_err("temporary folder", e))?;
    let root = tmp.path().join("memdir");
    let prov = corpus::provenance();
    let mem = Memdir::init(&root)?;
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
        eprintln!("imported {}/{n}", paths.len());
    }
    let per_commit = n.div_ceil(10);
    let mut middle = None;
    for generation in 1..v {
        for start in (0..n).step_by(per_commit) {
            for (i, path) in paths.iter().enumerate().skip(start).take(per_commit) {
                let file = root.join(path);
                let text = std::fs::read_to_string(&file).map_err(|e| io_err(&file, e))?;
                // Keep the front-matter, replace the body with another text of the corpus.
                let end = text[4..].find("\n---\n").map(|e| e + 4 + 5).unwrap_or(0);
                let body = corpus.memory(generation * n + i).text;
                std::fs::write(&file, format!("{}\n{body}\n", &text[..end]))
                    .map_err(|e| io_err(&file, e))?;
            }
            mem.commit_hand_edits(Some(&format!("generation {generation}")), &prov)?;
        }
        if generation == v / 2 {
            middle = mem.log(1)?.first().map(|c| c.commit.clone());
        }
        eprintln!("generation {generation}/{} written", v - 1);
    }
    let commits = mem.log(usize::MAX)?.len();
    let middle = middle.unwrap_or_else(|| "HEAD".to_owned());

    let t = Instant::now();
    let point = mem.point("HEAD")?;
    let build_versions_s = t.elapsed().as_secs_f64();
    eprintln!(
        "versions index built in {build_versions_s:.1} s ({} commits)",
        point.position
    );

    let texts = corpus.queries(WARMUP + args.queries);
    let (mut present, mut at_head, mut at_middle) = (Vec::new(), Vec::new(), Vec::new());
    let (mut hits_present, mut hits_at_head, mut hits_at_middle) = (0, 0, 0);
    for (k, q) in texts.iter().enumerate() {
        let query = SearchQuery::new(q.as_str());
        let t = Instant::now();
        let a = mem.search(&query)?.len();
        let present_us = t.elapsed().as_secs_f64() * 1e6;
        let t = Instant::now();
        let b = mem.search_at(&query, "HEAD")?.1.len();
        let head_us = t.elapsed().as_secs_f64() * 1e6;
        let t = Instant::now();
        let c = mem.search_at(&query, &middle)?.1.len();
        let middle_us = t.elapsed().as_secs_f64() * 1e6;
        if k >= WARMUP {
            present.push(present_us);
            at_head.push(head_us);
            at_middle.push(middle_us);
            hits_present += a;
            hits_at_head += b;
            hits_at_middle += c;
        }
    }
    for spec in ["HEAD", middle.as_str(), "2030-01-01", "HEAD~3"] {
        let mut resolve = Vec::new();
        for _ in 0..300 {
            let t = Instant::now();
            std::hint::black_box(mem.point(spec)?);
            resolve.push(t.elapsed().as_secs_f64() * 1e6);
        }
        eprintln!(
            "resolving {spec}: p50 {:.0} µs",
            percentile(&mut resolve, 0.5)
        );
    }
    let versions_dir = root.join(".git/memdir/versions");
    let report = Report {
        memories: n,
        versions_per_memory: v,
        commits,
        build_versions_s,
        versions_index_mb: dir_bytes(&versions_dir) as f64 / 1e6,
        queries: args.queries,
        present_p50_us: percentile(&mut present, 0.5),
        present_p99_us: percentile(&mut present, 0.99),
        at_head_p50_us: percentile(&mut at_head, 0.5),
        at_head_p99_us: percentile(&mut at_head, 0.99),
        at_middle_p50_us: percentile(&mut at_middle, 0.5),
        at_middle_p99_us: percentile(&mut at_middle, 0.99),
        at_head_ratio: 0.0,
        at_middle_ratio: 0.0,
        target_ratio: 2.0,
        hits_present,
        hits_at_head,
        hits_at_middle,
        present_segments: segments(&root.join(".git/memdir/index")),
        versions_segments: segments(&versions_dir),
    };
    let report = Report {
        at_head_ratio: report.at_head_p50_us / report.present_p50_us,
        at_middle_ratio: report.at_middle_p50_us / report.present_p50_us,
        ..report
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializes")
        );
    } else {
        println!(
            "{} memories x {} versions, {} commits; versions index {:.0} MB, built in {:.1} s",
            report.memories,
            report.versions_per_memory,
            report.commits,
            report.versions_index_mb,
            report.build_versions_s
        );
        println!(
            "segments / documents / deleted: present {:?}, versions {:?}",
            report.present_segments, report.versions_segments
        );
        println!("| search | p50 µs | p99 µs | p50 ratio to present | hits |");
        println!("|---|---:|---:|---:|---:|");
        for (name, p50, p99, hits) in [
            (
                "present",
                report.present_p50_us,
                report.present_p99_us,
                report.hits_present,
            ),
            (
                "--at HEAD",
                report.at_head_p50_us,
                report.at_head_p99_us,
                report.hits_at_head,
            ),
            (
                "--at middle generation",
                report.at_middle_p50_us,
                report.at_middle_p99_us,
                report.hits_at_middle,
            ),
        ] {
            println!(
                "| {name} | {p50:.0} | {p99:.0} | {:.2}x | {hits} |",
                p50 / report.present_p50_us
            );
        }
        let worst = report.at_head_ratio.max(report.at_middle_ratio);
        println!(
            "target: --at within {:.0}x of present search: {} ({worst:.2}x)",
            report.target_ratio,
            if worst <= report.target_ratio {
                "met"
            } else {
                "MISSED"
            }
        );
    }
    Ok(())
}

fn io_err(path: impl AsRef<std::path::Path>, source: std::io::Error) -> memdir::Error {
    memdir::Error::Io {
        path: path.as_ref().to_owned(),
        source,
    }
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    values[((values.len() as f64 - 1.0) * p).round() as usize]
}

fn dir_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}
