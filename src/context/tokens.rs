//! Counting tokens the way the model will: tiktoken's encodings, embedded in the binary.

use tiktoken_rs::CoreBPE;

/// A tiktoken encoding, loaded once per process (the first use takes a few hundred
/// milliseconds; every later count is a few microseconds per passage).
#[derive(Clone, Copy)]
pub struct Tokenizer {
    bpe: &'static CoreBPE,
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
        let bpe = match name {
            "o200k_base" => tiktoken_rs::o200k_base_singleton(),
            "cl100k_base" => tiktoken_rs::cl100k_base_singleton(),
            "p50k_base" => tiktoken_rs::p50k_base_singleton(),
            "r50k_base" => tiktoken_rs::r50k_base_singleton(),
            _ => return None,
        };
        Some(Tokenizer { bpe })
    }

    /// Returns how many tokens `text` is, special-token look-alikes counted as plain text.
    pub fn count(&self, text: &str) -> usize {
        self.bpe.count_ordinary(text)
    }
}
