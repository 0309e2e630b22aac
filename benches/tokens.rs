//! Criterion: counting `o200k_base` tokens, as a context does for every candidate block.
//!
//! ```text
//! cargo bench --bench tokens
//! ```
//!
//! Two texts: the bodies of the benchmark corpus's first 1,000 memories (`common/corpus.rs`,
//! the made-up words of `examples/bench.rs` and `bench_cli`, which the vocabulary mostly
//! lacks, so most words go through byte-pair merges), and, when `../shared/data` is there,
//! the text of LoCoMo's first 2,000 turns (English, mostly whole-word tokens). Each
//! iteration counts the whole text.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use memdir::context::Tokenizer;

// Shared with the search bench and the examples; this bench reads only its memories.
#[allow(dead_code)]
#[path = "common/corpus.rs"]
mod corpus;

/// Memories whose bodies are counted.
const N: usize = 1_000;

/// LoCoMo's turns, joined by newlines, or `None` without the data.
fn locomo(turns: usize) -> Option<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/locomo/locomo10.json"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    let mut texts = Vec::new();
    for conversation in json.as_array()? {
        let sessions = conversation.get("conversation")?.as_object()?;
        for (_, session) in sessions {
            for turn in session.as_array().into_iter().flatten() {
                if let Some(text) = turn.get("text").and_then(|t| t.as_str()) {
                    texts.push(text.to_owned());
                }
            }
        }
    }
    texts.truncate(turns);
    Some(texts.join("\n"))
}

fn count(c: &mut Criterion) {
    let tokenizer = Tokenizer::named("o200k_base").expect("the default encoding");
    let corpus = corpus::Corpus::new();
    let made_up: String = (0..N)
        .map(|i| corpus.memory(i).text)
        .collect::<Vec<_>>()
        .join("\n\n");
    c.bench_function("count_corpus_1k", |b| {
        b.iter(|| tokenizer.count(black_box(&made_up)))
    });
    match locomo(2_000) {
        Some(english) => {
            c.bench_function("count_locomo_2k_turns", |b| {
                b.iter(|| tokenizer.count(black_box(&english)))
            });
        }
        None => eprintln!("../shared/data/locomo not found: count_locomo_2k_turns skipped"),
    }
}

criterion_group!(benches, count);
criterion_main!(benches);
