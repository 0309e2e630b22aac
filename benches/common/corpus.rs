//! The benchmark corpus: memories and queries generated from a fixed seed, shared by
//! `examples/bench.rs` and the criterion benches (each includes this file as `mod corpus`).
//!
//! Titles are 3-8 words, bodies 1-4 paragraphs or list items, over a vocabulary of ~3,000
//! pronounceable made-up words (drawn with a Zipf-like skew) plus common English; types are
//! spread over the six default types, with 0-3 tags each. The same index always gives the
//! same memory, and the same seed the same queries, so runs on different commits compare.

use std::collections::HashSet;

use memdir::{Author, NewMemory, Provenance};

/// The seed of every random choice: the same seed gives the same corpus and queries.
pub const SEED: u64 = 0x6d65_6d64_6972_2026;

/// SplitMix64: a tiny, good-enough PRNG with no dependencies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Returns a float in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Returns an integer in `lo..=hi`.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.unit() * (hi - lo + 1) as f64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.range(0, items.len() - 1)]
    }
}

const ONSETS: [&str; 29] = [
    "b", "br", "c", "ch", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "l", "m", "n", "p", "pl",
    "qu", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "z",
];
const VOWELS: [&str; 9] = ["a", "e", "i", "o", "u", "ai", "ea", "ou", "io"];
const CODAS: [&str; 10] = ["", "n", "r", "l", "s", "m", "nd", "st", "x", "k"];
const TYPES: [&str; 6] = [
    "fact",
    "preference",
    "event",
    "procedure",
    "note",
    "summary",
];
const ENGLISH: &[&str] = &[
    "the",
    "a",
    "an",
    "of",
    "to",
    "in",
    "and",
    "is",
    "it",
    "for",
    "on",
    "with",
    "at",
    "by",
    "from",
    "that",
    "this",
    "be",
    "as",
    "are",
    "was",
    "or",
    "not",
    "we",
    "they",
    "after",
    "before",
    "when",
    "always",
    "never",
    "every",
    "user",
    "team",
    "server",
    "client",
    "deploy",
    "build",
    "test",
    "release",
    "port",
    "database",
    "config",
    "meeting",
    "review",
    "morning",
    "weekly",
    "prefers",
    "likes",
    "uses",
    "runs",
    "needs",
    "fixed",
    "broke",
    "moved",
    "project",
    "branch",
    "issue",
    "ticket",
    "backup",
    "cache",
    "queue",
    "worker",
    "schedule",
    "deadline",
    "budget",
    "invoice",
    "customer",
    "report",
    "dashboard",
    "alert",
    "latency",
    "memory",
    "disk",
    "network",
    "token",
    "password",
    "editor",
    "theme",
    "dark",
    "light",
    "coffee",
    "lunch",
    "office",
    "remote",
    "friday",
    "monday",
    "staging",
    "production",
    "migration",
    "rollback",
    "script",
    "notes",
    "summary",
    "decided",
    "agreed",
    "asked",
    "should",
    "must",
    "because",
    "until",
    "during",
];
const TAGS: [&str; 24] = [
    "api", "ui", "infra", "billing", "alice", "bob", "carol", "ops", "security", "docs", "ci",
    "mobile", "web", "data", "oncall", "hiring", "travel", "health", "finance", "home", "work",
    "urgent", "idea", "later",
];

/// The word lists and the rules that turn an index into a memory.
pub struct Corpus {
    /// Made-up words, drawn with a Zipf-like skew (low indexes are common).
    words: Vec<String>,
}

impl Corpus {
    pub fn new() -> Corpus {
        let mut rng = Rng::new(SEED);
        let mut seen = HashSet::new();
        let mut words = Vec::with_capacity(3_000);
        while words.len() < 3_000 {
            let syllables = rng.range(2, 3);
            let word: String = (0..syllables)
                .map(|_| {
                    format!(
                        "{}{}{}",
                        rng.pick(&ONSETS),
                        rng.pick(&VOWELS),
                        rng.pick(&CODAS)
                    )
                })
                .collect();
            if seen.insert(word.clone()) {
                words.push(word);
            }
        }
        Corpus { words }
    }

    /// Returns a made-up word; word k is drawn with probability about 1/k (log-uniform index).
    fn made_up<'a>(&'a self, rng: &mut Rng) -> &'a str {
        let k = (self.words.len() as f64).powf(rng.unit()) as usize - 1;
        &self.words[k.min(self.words.len() - 1)]
    }

    fn word<'a>(&'a self, rng: &mut Rng) -> &'a str {
        if rng.unit() < 0.35 {
            rng.pick(ENGLISH)
        } else {
            self.made_up(rng)
        }
    }

    fn sentence(&self, rng: &mut Rng) -> String {
        let mut s = (0..rng.range(5, 14))
            .map(|_| self.word(rng))
            .collect::<Vec<_>>()
            .join(" ");
        if rng.unit() < 0.15 {
            s.push_str(&format!(" {}", rng.range(2, 65_535)));
        }
        capitalize(&s) + "."
    }

    /// Returns memory number `i` of the corpus: the same `i` always gives the same memory.
    pub fn memory(&self, i: usize) -> NewMemory {
        let mut rng = Rng::new(SEED ^ (i as u64).wrapping_mul(0xa076_1d64_78bd_642f));
        let title = capitalize(
            &(0..rng.range(3, 8))
                .map(|_| self.word(&mut rng))
                .collect::<Vec<_>>()
                .join(" "),
        );
        let blocks: Vec<String> = (0..rng.range(1, 4))
            .map(|_| {
                if rng.unit() < 0.6 {
                    (0..rng.range(1, 3))
                        .map(|_| self.sentence(&mut rng))
                        .collect::<Vec<_>>()
                        .join(" ")
                } else {
                    format!("- {}", self.sentence(&mut rng))
                }
            })
            .collect();
        let mut m = NewMemory::new(blocks.join("\n\n"))
            .title(title)
            .kind(rng.pick(&TYPES));
        for _ in 0..rng.range(0, 3) {
            let tag = rng.pick(&TAGS);
            if !m.tags.iter().any(|t| t == tag) {
                m = m.tag(tag);
            }
        }
        m
    }

    /// Returns `count` searches, the same ones on every run: see [`Corpus::query`].
    pub fn queries(&self, count: usize) -> Vec<String> {
        let mut rng = Rng::new(SEED ^ 0x5ea2c4);
        (0..count).map(|_| self.query(&mut rng)).collect()
    }

    /// Returns a search of 2-4 corpus words, mostly made-up ones.
    fn query(&self, rng: &mut Rng) -> String {
        (0..rng.range(2, 4))
            .map(|_| {
                if rng.unit() < 0.2 {
                    rng.pick(ENGLISH)
                } else {
                    self.made_up(rng)
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The provenance every benchmark writes with: agent `bench`, author `Bench`.
pub fn provenance() -> Provenance {
    Provenance {
        agent: Some("bench".into()),
        author: Some(Author {
            name: "Bench".into(),
            email: "bench@example.com".into(),
        }),
        ..Provenance::default()
    }
}
