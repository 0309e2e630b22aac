//! Counting tokens the way the model will: tiktoken's encodings, embedded in the binary.
//!
//! `o200k_base` (the default) is counted by `bpe.rs` straight from an embedded sorted table,
//! with nothing to build but its regular expression; the other encodings use `tiktoken-rs`,
//! whose first use builds the encoder (a few hundred milliseconds).

use tiktoken_rs::CoreBPE;

use super::bpe::{Bpe, O200K};

/// A tiktoken encoding, loaded once per process.
#[derive(Clone, Copy)]
pub struct Tokenizer {
    encoding: Encoding,
}

#[derive(Clone, Copy)]
enum Encoding {
    /// Counted from the embedded table (`bpe.rs`).
    Embedded(&'static Bpe),
    /// Counted by `tiktoken-rs`.
    Tiktoken(&'static CoreBPE),
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tokenizer")
    }
}

impl Tokenizer {
    /// Returns the encoding named `name` (one of [`crate::config::TOKENIZERS`]), or `None`.
    ///
    /// ```
    /// let t = memdir::context::Tokenizer::named("o200k_base").unwrap();
    /// assert_eq!(t.count("Hello, world!"), 4);
    /// assert!(memdir::context::Tokenizer::named("gpt-9").is_none());
    /// ```
    pub fn named(name: &str) -> Option<Tokenizer> {
        let encoding = match name {
            "o200k_base" => Encoding::Embedded(std::sync::LazyLock::force(&O200K)),
            "cl100k_base" => Encoding::Tiktoken(tiktoken_rs::cl100k_base_singleton()),
            "p50k_base" => Encoding::Tiktoken(tiktoken_rs::p50k_base_singleton()),
            "r50k_base" => Encoding::Tiktoken(tiktoken_rs::r50k_base_singleton()),
            _ => return None,
        };
        Some(Tokenizer { encoding })
    }

    /// Returns how many tokens `text` is, special-token look-alikes counted as plain text.
    pub fn count(&self, text: &str) -> usize {
        match self.encoding {
            Encoding::Embedded(bpe) => bpe.count(text),
            Encoding::Tiktoken(bpe) => bpe.count_ordinary(text),
        }
    }
}
