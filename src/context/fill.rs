//! In what order the retrieved passages are offered to a context's budget.
//!
//! Search ranks passages by relevance alone; a budget makes length count too. Filled in rank
//! order, one long passage that is only fairly relevant (an assistant's 700-token answer that
//! shares a word with the prompt) takes most of a 1,000-token budget and leaves no room for the
//! three short ones below it that answer the prompt. So after the best match, which always
//! comes first, passages are offered by *relevance per token*: the relevance (search score
//! relative to the best, times the type and recency weights) raised to the third power, so
//! that only passages of nearly equal relevance give way to shorter ones, divided by the
//! passage's tokens, counting any passage as at least a tenth of the budget, so that among
//! passages that each take little of it, length does not matter. What is kept is rendered in
//! rank order, as before; only which passages fit changes.
//!
//! Measured with `cargo run --release --example locomo -- FILE --context-budget N` (context
//! recall at 500 / 1,000 / 2,000 tokens, when this was written): on the LongMemEval dev set,
//! whose assistant turns are long, 0.700 / 0.733 / 0.844 in rank order and 0.733 / 0.819 /
//! 0.886 this way; on LoCoMo, whose turns are short, 0.663 / 0.755 / 0.813 and 0.646 / 0.753 /
//! 0.813. The power was 4 until a later measurement on the same sets (after the passages of one
//! memory came to share one block) gave the dev set 0.739 / 0.836 / 0.886 with 4 and 0.739 /
//! 0.844 / 0.886 with 3, and LoCoMo 0.701 / 0.782 / 0.842 and 0.697 / 0.782 / 0.842
//! (BENCHMARKS.md has the variants tried).

use super::ContextItem;

/// How steeply relevance counts against length: relevance is raised to this power.
const RELEVANCE_POWER: i32 = 3;

/// Any passage counts as at least this share of the budget, so that short passages are ranked
/// by relevance alone.
const LENGTH_FLOOR_SHARE: f32 = 0.1;

/// Returns the indices of `candidates` (best first, each measured) in the order they are to be
/// offered to a budget of `budget` tokens: the first, then the rest by relevance per token
/// (ties in rank order). With scores 1.0, 0.8 and 0.7 and tokens 50, 700 and 60, at a budget
/// of 1,000: `[0, 2, 1]`, the short 0.7 before the long 0.8.
pub(super) fn offer_order(candidates: &[ContextItem], budget: usize) -> Vec<usize> {
    let floor = budget as f32 * LENGTH_FLOOR_SHARE;
    let density = |item: &ContextItem| {
        let relevance = item.score.unwrap_or(0.0).max(0.0);
        relevance.powi(RELEVANCE_POWER) / (item.tokens as f32).max(floor).max(1.0)
    };
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    if let Some((_, rest)) = order.split_first_mut() {
        rest.sort_by(|&a, &b| {
            density(&candidates[b])
                .total_cmp(&density(&candidates[a]))
                .then(a.cmp(&b))
        });
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::Reason;

    fn item(score: f32, tokens: usize) -> ContextItem {
        ContextItem {
            id: format!("m-{score}-{tokens}"),
            revision: "0".repeat(40),
            tokens,
            text_tokens: tokens,
            reason: Reason::Retrieved,
            score: Some(score),
            path: String::new(),
            line_start: 1,
            line_end: 1,
            title: String::new(),
            kind: None,
            date: None,
            merged: Vec::new(),
            drifted: Vec::new(),
            text: String::new(),
        }
    }

    #[test]
    fn a_long_fairly_relevant_passage_gives_way_to_short_ones_nearly_as_relevant() {
        let items = [item(1.0, 50), item(0.8, 700), item(0.7, 60), item(0.7, 80)];
        assert_eq!(offer_order(&items, 1000), vec![0, 2, 3, 1]);
    }

    #[test]
    fn a_long_passage_half_as_relevant_as_the_best_waits_for_short_ones_a_third_as_relevant() {
        // The dev set's "average GPA of my undergraduate and graduate studies": a 740-token
        // answer at 0.47 took the room of both evidence turns (0.29, 230 and 120 tokens).
        let items = [
            item(1.0, 150),
            item(0.47, 740),
            item(0.3, 100),
            item(0.29, 230),
            item(0.29, 120),
        ];
        assert_eq!(offer_order(&items, 1000), vec![0, 2, 4, 1, 3]);
    }

    #[test]
    fn the_best_match_comes_first_however_long() {
        let items = [item(1.0, 900), item(0.95, 40)];
        assert_eq!(offer_order(&items, 1000), vec![0, 1]);
    }

    #[test]
    fn passages_that_each_take_little_of_the_budget_keep_their_rank() {
        // All under a tenth of the budget: length does not matter, rank order stays.
        let items = [item(1.0, 90), item(0.9, 95), item(0.8, 20), item(0.8, 60)];
        assert_eq!(offer_order(&items, 1000), vec![0, 1, 2, 3]);
    }

    #[test]
    fn a_much_more_relevant_passage_keeps_its_place_though_longer() {
        // 0.9^3 / 300 > 0.5^3 / 100: relevance weighs more than a threefold length.
        let items = [item(1.0, 50), item(0.9, 300), item(0.5, 60)];
        assert_eq!(offer_order(&items, 1000), vec![0, 1, 2]);
    }

    #[test]
    fn unscored_candidates_keep_their_order() {
        let mut items = vec![item(0.0, 500), item(0.0, 10), item(0.0, 200)];
        for i in &mut items {
            i.score = None;
        }
        assert_eq!(offer_order(&items, 1000), vec![0, 1, 2]);
        assert!(offer_order(&[], 1000).is_empty());
    }
}
