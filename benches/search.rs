//! Criterion: in-process `Memdir::search` on the benchmark corpus of 1,000 memories.
//!
//! ```text
//! cargo bench --bench search
//! ```
//!
//! The corpus and the queries are those of `examples/bench.rs` (`common/corpus.rs`, same
//! seed), imported with one `remember_batch` into a temporary repository before timing. Each
//! iteration runs the next of 200 queries, so the figure is a mean over a query mix, with
//! memdir's default limit of 10 hits.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memdir::{Memdir, SearchQuery};

#[path = "common/corpus.rs"]
mod corpus;

/// Memories in the corpus.
const N: usize = 1_000;

fn search(c: &mut Criterion) {
    let corpus = corpus::Corpus::new();
    let dir = tempfile::tempdir().expect("a temporary folder");
    let mem = Memdir::init(dir.path()).expect("init");
    let prov = corpus::provenance();
    mem.remember_batch((0..N).map(|i| corpus.memory(i)).collect(), &prov)
        .expect("import");
    let queries: Vec<SearchQuery> = corpus
        .queries(200)
        .into_iter()
        .map(SearchQuery::new)
        .collect();
    let mut next = queries.iter().cycle();
    c.bench_function("search_1k", |b| {
        b.iter(|| {
            let query = next.next().expect("cycle never ends");
            mem.search(black_box(query)).expect("search")
        })
    });
}

criterion_group!(benches, search);
criterion_main!(benches);
