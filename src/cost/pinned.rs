//! What the pinned memories take of every context, now: `MEMORY.md` and the `pinned: true`
//! memories, counted as the context builder counts them, against `[context] budget`, with the
//! warning `memdir status` gives past `[context] pinned_warn_share`.
//!
//! Always-loaded memory is paid for on every request, and it only grows unless a person
//! prunes it; the warning says so before the pinned set crowds retrieval out of the budget.

use serde::Serialize;

use crate::{Memdir, Result};

/// The pinned memories measured against the default budget.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PinnedLoad {
    /// Tokens they take in every context (the context's frame included, as the budget counts).
    pub tokens: usize,
    /// `[context] budget`: the budget of a context whose caller names none.
    pub budget: usize,
    /// `tokens / budget`.
    pub share: f64,
    /// `[context] pinned_warn_share`: the share past which [`PinnedLoad::warn`] is set.
    pub warn_share: f64,
    /// The pinned memories take more than `warn_share` of the budget.
    pub warn: bool,
    /// Each pinned file, with its block's tokens, in the order contexts carry them.
    pub files: Vec<PinnedFile>,
}

/// One pinned file and what it takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PinnedFile {
    /// File, relative to the root.
    pub path: String,
    /// Tokens of its block.
    pub tokens: usize,
}

impl PinnedLoad {
    /// Returns the sentence `memdir status` prints when [`PinnedLoad::warn`] is set, else
    /// `None`.
    pub fn warning(&self) -> Option<String> {
        self.warn.then(|| {
            let mut files = self.files.clone();
            files.sort_by(|a, b| b.tokens.cmp(&a.tokens).then_with(|| a.path.cmp(&b.path)));
            let largest: Vec<String> = files
                .iter()
                .take(3)
                .map(|f| format!("{} ({} tokens)", f.path, f.tokens))
                .collect();
            format!(
                "the pinned memories take {} tokens, {:.0}% of the default budget of {} ([context] budget), more than [context] pinned_warn_share ({:.0}%); they go into every context. Largest: {}. Unpin some (`pinned: false`) or shorten MEMORY.md; `memdir cost` shows what they cost over time.",
                self.tokens,
                self.share * 100.0,
                self.budget,
                self.warn_share * 100.0,
                largest.join(", ")
            )
        })
    }
}

impl Memdir {
    /// Measures the pinned memories as they are now against `[context] budget` (see
    /// [`crate::cost`]). Never fails because they exceed the budget: that is what it reports.
    pub fn pinned_load(&self) -> Result<PinnedLoad> {
        let config = &self.config().context;
        let (tokens, files) = self.pinned_tokens()?;
        let share = tokens as f64 / config.budget.max(1) as f64;
        Ok(PinnedLoad {
            tokens,
            budget: config.budget,
            share,
            warn_share: config.pinned_warn_share,
            warn: share > config.pinned_warn_share,
            files: files
                .into_iter()
                .map(|(path, tokens)| PinnedFile { path, tokens })
                .collect(),
        })
    }
}
