//! Counting `o200k_base` tokens without building tiktoken's tables: the vocabulary is read
//! where it lies, in a table embedded in the binary (`o200k_base.ranks`).
//!
//! `tiktoken-rs` builds its encoder on first use: it decodes 200,000 base64 lines into a hash
//! map, then a reverse map and a sorted copy, which took 150-300 ms of every `memdir context`
//! and `memdir hook` process. Counting needs none of that: it splits the text as the
//! encoding's own regular expression does and merges each piece's bytes by rank, the same
//! algorithm as tiktoken's `byte_pair_encode` (ported below), looking ranks up in the
//! embedded table. Nothing is built but the regular expression (a few
//! milliseconds; less for an ASCII text, split with the expression's ASCII form), and the
//! counts are tiktoken's: the tests compare the table with tiktoken's vocabulary and the
//! counts on many texts.
//!
//! The expression is run without its one look-ahead (see [`Splitter`]), so `regex-automata`
//! splits it with a forward lazy DFA instead of `fancy-regex`'s backtracking machine, which
//! took about half the time of counting an English text.
//!
//! The table, generated from `tiktoken-rs` by the tests (`MEMDIR_BLESS=1 cargo test --lib
//! context::bpe` rewrites it), is an open-addressing hash table (see [`Ranks`]): the token
//! count `n` and the slot count (u32 each, little-endian); the slots (u32 each: a token's
//! hash's top ten bits, then where its record is, or all ones when empty), probed linearly
//! from a byte string's hash ([`hash`], XXH3); then the records, in rank order, each the
//! token's length (one byte), its rank (three bytes) and its bytes.

use std::sync::{LazyLock, OnceLock};

use regex_automata::meta::Regex;
use regex_automata::{Anchored, Input};

/// A token's rank in the vocabulary, as tiktoken numbers them.
type Rank = u32;

/// The sorted vocabulary of `o200k_base` (see the module documentation for its layout).
static O200K_BASE: &[u8] = include_bytes!("o200k_base.ranks");

/// `o200k_base`: its vocabulary and its pre-tokenizer, compiled on first use.
pub(super) static O200K: LazyLock<Bpe> = LazyLock::new(|| {
    Bpe::new(O200K_BASE, tiktoken_rs::O200K_BASE_PAT_STR)
        .expect("the embedded o200k_base table and pattern are valid (unit tests)")
});

/// The Unicode classes of tiktoken's pre-tokenizers and their ASCII members (a unit test
/// checks each against `regex`). Longer names first, so `\p{L}` does not cut `\p{Lu}`.
const ASCII_MEMBERS: &[(&str, &str)] = &[
    (r"\p{Lu}", "A-Z"),
    (r"\p{Ll}", "a-z"),
    (r"\p{Lt}", ""),
    (r"\p{Lm}", ""),
    (r"\p{Lo}", ""),
    (r"\p{L}", "A-Za-z"),
    (r"\p{M}", ""),
    (r"\p{N}", "0-9"),
];

/// Returns `pattern` with each Unicode class of [`ASCII_MEMBERS`] replaced by its ASCII
/// members, or `None` if it has another one (or one outside brackets with none).
///
/// Over an ASCII text a class matches a character exactly when its ASCII members do, and
/// `\s`, `\S`, negated brackets and `(?i)` do too: the form splits an ASCII text into the
/// same pieces as the pattern.
fn ascii_form(pattern: &str) -> Option<String> {
    let mut out = String::with_capacity(pattern.len());
    let mut in_brackets = false;
    let mut rest = pattern;
    'scan: while let Some(c) = rest.chars().next() {
        if c == '\\' {
            for (class, members) in ASCII_MEMBERS {
                if let Some(after) = rest.strip_prefix(class) {
                    if in_brackets {
                        out.push_str(members);
                    } else if members.is_empty() {
                        return None;
                    } else {
                        out.push('[');
                        out.push_str(members);
                        out.push(']');
                    }
                    rest = after;
                    continue 'scan;
                }
            }
            if rest[1..].starts_with(['p', 'P']) {
                return None;
            }
            // An escape is two characters: `\[` opens no brackets.
            let len = 1 + rest[1..].chars().next().map_or(0, char::len_utf8);
            out.push_str(&rest[..len]);
            rest = &rest[len..];
            continue;
        }
        match c {
            '[' => in_brackets = true,
            ']' => in_brackets = false,
            _ => {}
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

/// The end of tiktoken's pre-tokenizers: a run of white space not followed by anything
/// else (`(?!\S)`, the one look-ahead, which `regex` lacks), else any run of white space.
const LOOKAHEAD_TAIL: &str = r"|\s+(?!\S)|\s+";

/// Returns `pattern` without [`LOOKAHEAD_TAIL`]'s look-ahead (ending `|\s+` instead), or
/// `None` if it does not end so. [`Splitter::split`] gives back what the look-ahead would
/// not have taken.
fn without_lookahead(pattern: &str) -> Option<String> {
    pattern
        .strip_suffix(LOOKAHEAD_TAIL)
        .map(|head| format!(r"{head}|\s+"))
}

/// A pre-tokenizer: tiktoken's expression without its look-ahead, run anchored at the end of
/// each piece, with the look-ahead's effect restored by hand.
///
/// In tiktoken's expression, `\s+(?!\S)` takes a run of white space that ends the text, or
/// all of a longer run but its last character when something else follows (that character
/// then starts the next piece, as the space before a word does), and `\s+` takes a
/// one-character run. Every alternative before them takes something other than white space,
/// but `\s*[\r\n]+`, which ends on a line break. So a piece of white space only that does
/// not end on a line break came from the tail, and [`Splitter::split`] gives back its last
/// character when it is longer than one and not at the end of the text.
struct Splitter {
    regex: Regex,
}

impl Splitter {
    fn new(pattern: &str) -> Splitter {
        Splitter {
            regex: Regex::new(pattern).expect("tiktoken's pre-tokenizer compiles (unit tests)"),
        }
    }

    /// Calls `piece` with each piece of `text`, in order. Returns false if the expression
    /// matched nothing, or only an empty string, somewhere (neither happens: it matches
    /// every character; the caller counts the rest).
    fn split(&self, text: &str, mut piece: impl FnMut(&str)) -> bool {
        let mut at = 0;
        while at < text.len() {
            let input = Input::new(text).range(at..).anchored(Anchored::Yes);
            let Some(m) = self.regex.search(&input).filter(|m| !m.is_empty()) else {
                return false;
            };
            let mut end = m.end();
            let found = &text[at..end];
            if end < text.len()
                && found.chars().all(char::is_whitespace)
                && !found.ends_with(['\r', '\n'])
                && let Some((last, _)) = found.char_indices().next_back()
                && last > 0
            {
                end = at + last;
            }
            piece(&text[at..end]);
            at = end;
        }
        true
    }
}

/// A byte-pair encoding that counts tokens.
pub(super) struct Bpe {
    ranks: Ranks,
    /// The pre-tokenizer without its look-ahead ([`without_lookahead`]).
    pattern: String,
    /// Its [`ascii_form`], if it has one.
    ascii_pattern: Option<String>,
    /// The pre-tokenizer, compiled on first use.
    split: OnceLock<Splitter>,
    /// Its [`ascii_form`] for ASCII texts, compiled on first use.
    ascii_split: OnceLock<Splitter>,
}

impl Bpe {
    fn new(table: &'static [u8], pattern: &'static str) -> Option<Bpe> {
        let pattern = without_lookahead(pattern)?;
        Some(Bpe {
            ranks: Ranks::new(table)?,
            ascii_pattern: ascii_form(&pattern),
            pattern,
            split: OnceLock::new(),
            ascii_split: OnceLock::new(),
        })
    }

    /// Returns the pre-tokenizer to split `text` with: the pattern's ASCII form for an
    /// ASCII text (the same pieces, and a few milliseconds less to compile, which every
    /// `memdir context` process paid), else the pattern itself.
    fn split_for(&self, text: &str) -> &Splitter {
        match &self.ascii_pattern {
            Some(ascii) if text.is_ascii() => self.ascii_split.get_or_init(|| Splitter::new(ascii)),
            _ => self.split.get_or_init(|| Splitter::new(&self.pattern)),
        }
    }

    /// Returns how many tokens `text` encodes to, special-token look-alikes counted as
    /// plain text (tiktoken's `encode_ordinary(text).len()`).
    pub(super) fn count(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut at = 0;
        let whole = self.split_for(text).split(text, |piece| {
            tokens += self.count_piece(piece.as_bytes());
            at += piece.len();
        });
        // Never so (the expression matches every character), but if it were, the rest
        // would count a token per byte, which no encoding exceeds.
        if whole {
            tokens
        } else {
            tokens + text.len() - at
        }
    }

    /// Returns the tokens of one piece of the split.
    fn count_piece(&self, piece: &[u8]) -> usize {
        if piece.is_empty() {
            0
        } else if piece.len() == 1 || self.ranks.get(piece).is_some() {
            1
        } else if piece.len() < 100 {
            byte_pair_merge(&self.ranks, piece).len() - 1
        } else {
            byte_pair_merge_large(&self.ranks, piece)
        }
    }
}

/// The embedded vocabulary, searched in place: an open-addressing hash table of its tokens.
///
/// Most of a count's look-ups are of byte strings that are not tokens (the merges of a word
/// the vocabulary lacks try every pair), so a slot carries, beside where its token's record
/// is, ten bits of its hash: a look-up reads a token's bytes only when those match, and a
/// miss usually reads nothing but one or two cache lines of slots. (A binary search of the
/// sorted tokens, the table's layout before, read a token at each of its dozen steps and
/// took half the time of counting an English text.)
struct Ranks {
    table: &'static [u8],
    /// The number of slots less one (their number is a power of two).
    mask: usize,
    /// Where the records start.
    records: usize,
}

/// Where the slots start: after the token count and the slot count.
const HEADER: usize = 8;

/// A slot without a token.
const EMPTY: u32 = u32::MAX;

/// The bits of a slot that say where its record is; the rest are its hash's top bits.
const RECORD_BITS: u32 = 22;

/// Returns the hash of a byte string: where its search starts (the low bits) and what its
/// slot carries (the top bits).
fn hash(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// Returns the bits of `hash` a slot carries.
fn fingerprint(hash: u64) -> u32 {
    (hash >> (64 - (32 - RECORD_BITS))) as u32
}

impl Ranks {
    /// Returns the table, or `None` if its layout is inconsistent.
    fn new(table: &'static [u8]) -> Option<Ranks> {
        let word = |at: usize| -> Option<usize> {
            Some(u32::from_le_bytes(table.get(at..at + 4)?.try_into().ok()?) as usize)
        };
        let (n, slots) = (word(0)?, word(4)?);
        let records = HEADER + 4 * slots;
        (slots.is_power_of_two() && slots > n && table.len() >= records).then_some(Ranks {
            table,
            mask: slots - 1,
            records,
        })
    }

    /// Returns the number of tokens.
    #[cfg(test)]
    fn len(&self) -> usize {
        u32::from_le_bytes(self.table[..4].try_into().unwrap()) as usize
    }

    /// Returns the rank of the token whose bytes are `bytes`, if there is one.
    fn get(&self, bytes: &[u8]) -> Option<Rank> {
        let hash = hash(bytes);
        let fingerprint = fingerprint(hash);
        let mut i = hash as usize & self.mask;
        loop {
            let at = HEADER + 4 * i;
            let slot = u32::from_le_bytes(self.table[at..at + 4].try_into().expect("four bytes"));
            if slot == EMPTY {
                return None;
            }
            if slot >> RECORD_BITS == fingerprint {
                let (token, rank) =
                    self.record(self.records + (slot & ((1 << RECORD_BITS) - 1)) as usize);
                if token == bytes {
                    return Some(rank);
                }
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Returns the token and rank of the record at `at`: its length (one byte), its rank
    /// (three bytes, little-endian), then its bytes.
    fn record(&self, at: usize) -> (&'static [u8], Rank) {
        let table = self.table;
        let len = usize::from(table[at]);
        let rank = Rank::from_le_bytes([table[at + 1], table[at + 2], table[at + 3], 0]);
        (&table[at + 4..at + 4 + len], rank)
    }
}

// The two merges below are tiktoken's (`_byte_pair_merge` and `_byte_pair_merge_large` in
// tiktoken-rs's `vendor_tiktoken.rs`, MIT), with the hash map's look-ups replaced by
// `Ranks::get` and the large one returning only how many tokens it made.

/// Returns the boundaries `(start, rank)` of a piece of fewer than 100 bytes after merging.
fn byte_pair_merge(ranks: &Ranks, piece: &[u8]) -> Vec<(usize, Rank)> {
    let mut parts = Vec::with_capacity(piece.len() + 1);
    let mut min_rank: (Rank, usize) = (Rank::MAX, usize::MAX);
    for i in 0..piece.len() - 1 {
        let rank = ranks.get(&piece[i..i + 2]).unwrap_or(Rank::MAX);
        if rank < min_rank.0 {
            min_rank = (rank, i);
        }
        parts.push((i, rank));
    }
    parts.push((piece.len() - 1, Rank::MAX));
    parts.push((piece.len(), Rank::MAX));

    let get_rank = |parts: &Vec<(usize, Rank)>, i: usize| {
        if (i + 3) < parts.len() {
            ranks
                .get(&piece[parts[i].0..parts[i + 3].0])
                .unwrap_or(Rank::MAX)
        } else {
            Rank::MAX
        }
    };

    while min_rank.0 != Rank::MAX {
        let i = min_rank.1;
        if i > 0 {
            parts[i - 1].1 = get_rank(&parts, i - 1);
        }
        parts[i].1 = get_rank(&parts, i);
        parts.remove(i + 1);

        min_rank = (Rank::MAX, usize::MAX);
        for (i, &(_, rank)) in parts[..parts.len() - 1].iter().enumerate() {
            if rank < min_rank.0 {
                min_rank = (rank, i);
            }
        }
    }
    parts
}

/// A possible merge in [`byte_pair_merge_large`]'s heap: lowest rank first, then leftmost.
#[derive(Eq, PartialEq, Clone, Copy)]
struct Merge {
    start: usize,
    rank: Rank,
}

impl Ord for Merge {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other
            .rank
            .cmp(&self.rank)
            .then_with(|| other.start.cmp(&self.start))
    }
}

impl PartialOrd for Merge {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

struct State {
    prev: usize,
    end: usize,
    next_end: usize,
    next_rank: Rank,
}

/// Returns how many tokens a piece of 100 bytes or more merges into.
fn byte_pair_merge_large(ranks: &Ranks, piece: &[u8]) -> usize {
    let mut state = Vec::with_capacity(piece.len());
    state.push(State {
        prev: usize::MAX,
        end: 1,
        next_end: 2,
        next_rank: Rank::MAX,
    });
    let mut heap = std::collections::BinaryHeap::with_capacity(piece.len());
    for i in 0..piece.len() - 1 {
        if let Some(rank) = ranks.get(&piece[i..i + 2]) {
            heap.push(Merge { start: i, rank });
            state[i].next_rank = rank;
        }
        state.push(State {
            prev: i,
            end: i + 2,
            next_end: i + 3,
            next_rank: Rank::MAX,
        });
    }

    let potential_merge = |state: &mut Vec<State>,
                           heap: &mut std::collections::BinaryHeap<Merge>,
                           start: usize,
                           next_end_item: usize| {
        state[start].next_end = next_end_item;
        state[start].next_rank = Rank::MAX;
        if next_end_item <= piece.len()
            && let Some(rank) = ranks.get(&piece[start..next_end_item])
        {
            heap.push(Merge { start, rank });
            state[start].next_rank = rank;
        }
    };

    while let Some(left) = heap.pop() {
        if left.rank == Rank::MAX {
            break;
        }
        if left.rank != state[left.start].next_rank {
            continue;
        }
        let left_start = left.start;
        let right_start = state[left_start].end;
        let right_end = state[left_start].next_end;
        let right_next_end = state[right_start].next_end;

        state[left_start].end = right_end;
        potential_merge(&mut state, &mut heap, left_start, right_next_end);
        if right_end < state.len() {
            state[right_end].prev = left_start;
        }
        if left_start > 0 {
            let prev_start = state[left_start].prev;
            potential_merge(&mut state, &mut heap, prev_start, right_end);
        }
        state[right_start].next_rank = Rank::MAX;
    }

    let mut tokens = 0;
    let mut i = 0;
    while i < state.len() {
        tokens += 1;
        i = state[i].end;
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Returns the table for tiktoken's `o200k_base` vocabulary.
    fn generate() -> Vec<u8> {
        let bpe = tiktoken_rs::o200k_base().unwrap();
        let mut tokens: Vec<(Vec<u8>, Rank)> = Vec::new();
        // The ordinary tokens are numbered 0..n without gaps; the special ones come after.
        let mut rank: Rank = 0;
        while let Ok(bytes) = bpe.decode_bytes(&[rank]) {
            if bpe
                .special_tokens()
                .contains(String::from_utf8_lossy(&bytes).as_ref())
            {
                break;
            }
            tokens.push((bytes, rank));
            rank += 1;
        }
        // A fifth of the slots at least stay empty, so that a miss ends soon.
        let slots = (tokens.len() * 5 / 4).next_power_of_two();
        let mut table = vec![EMPTY; slots];
        let mut records = Vec::new();
        for (bytes, rank) in &tokens {
            assert!(!bytes.is_empty() && bytes.len() <= 255 && *rank < 1 << 24);
            let at = records.len() as u32;
            records.push(bytes.len() as u8);
            records.extend(&rank.to_le_bytes()[..3]);
            records.extend(bytes);
            let hash = hash(bytes);
            let mut i = hash as usize & (slots - 1);
            while table[i] != EMPTY {
                i = (i + 1) & (slots - 1);
            }
            table[i] = fingerprint(hash) << RECORD_BITS | at;
        }
        assert!(
            records.len() < (1 << RECORD_BITS) - 1,
            "records fit a slot's bits"
        );
        let mut out = Vec::new();
        out.extend((tokens.len() as u32).to_le_bytes());
        out.extend((slots as u32).to_le_bytes());
        for slot in table {
            out.extend(slot.to_le_bytes());
        }
        out.extend(records);
        out
    }

    #[test]
    fn the_embedded_table_is_tiktokens_vocabulary() {
        let expected = generate();
        if expected != O200K_BASE {
            let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/context/o200k_base.ranks");
            if std::env::var_os("MEMDIR_BLESS").is_some() {
                std::fs::write(path, &expected).unwrap();
            } else {
                panic!("{path} is out of date: run `MEMDIR_BLESS=1 cargo test --lib context::bpe`");
            }
        }
        let ranks = Ranks::new(O200K_BASE).unwrap();
        assert_eq!(ranks.len(), 199_998);
        assert_eq!(ranks.get(b"Hello"), Some(13225));
        assert_eq!(ranks.get(b"no such token, surely"), None);
        assert_eq!(ranks.get(b""), None);
        // Every token is found by its bytes, with its rank as the table lists it, and
        // every rank is there once.
        let mut at = ranks.records;
        let mut seen = vec![false; ranks.len()];
        while at < O200K_BASE.len() {
            let (token, rank) = ranks.record(at);
            assert_eq!(ranks.get(token), Some(rank), "{token:?}");
            assert!(!std::mem::replace(&mut seen[rank as usize], true));
            at += 4 + token.len();
        }
        assert!(seen.iter().all(|s| *s));
    }

    /// Asserts that `text` counts as tiktoken counts it.
    fn assert_same_count(text: &str) {
        let tiktoken = tiktoken_rs::o200k_base_singleton();
        assert_eq!(O200K.count(text), tiktoken.count_ordinary(text), "{text:?}");
    }

    #[test]
    fn counts_are_tiktokens() {
        for text in [
            "",
            "Hello, world!",
            "  leading and trailing spaces  \n\n\t",
            "<|endoftext|> is counted as plain text",
            "Zürich, 東京, القاهرة, Москва: 🙂👨‍👩‍👧 and ﷽",
            "x".repeat(150).as_str(),
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            &"🙂".repeat(40),
            "fn main() {\n    println!(\"{}\", 1 + 2);\n}\n",
            "https://example.com/a/b?c=d&e=f#g 1234567890 3.14159",
            include_str!("../../README.md"),
            include_str!("mod.rs"),
        ] {
            assert_same_count(text);
        }
    }

    #[test]
    fn the_ascii_members_of_each_class_are_regexs() {
        for (class, members) in ASCII_MEMBERS {
            let unicode = regex::Regex::new(&format!("^{class}$")).unwrap();
            let ascii = regex::Regex::new(&format!("^[{members}]$")).ok();
            for c in '\0'..='\x7f' {
                let c = c.to_string();
                assert_eq!(
                    unicode.is_match(&c),
                    ascii.as_ref().is_some_and(|a| a.is_match(&c)),
                    "{class} {c:?}"
                );
            }
        }
    }

    #[test]
    fn the_ascii_form_has_no_unicode_class() {
        let form = ascii_form(tiktoken_rs::O200K_BASE_PAT_STR).unwrap();
        assert!(!form.contains(r"\p"), "{form}");
        assert!(
            form.starts_with(r"[^\r\nA-Za-z0-9]?[A-Z]*[a-z]+(?i:'s|"),
            "{form}"
        );
        assert!(form.contains(r"|[0-9]{1,3}|"), "{form}");
        assert_eq!(ascii_form(r"\p{Greek}"), None);
    }

    proptest::proptest! {
        #[test]
        fn counts_of_ascii_texts_are_tiktokens(text in "[\t\n\r -~]{0,200}") {
            let tiktoken = tiktoken_rs::o200k_base_singleton();
            proptest::prop_assert_eq!(O200K.count(&text), tiktoken.count_ordinary(&text));
        }

        #[test]
        fn counts_of_any_text_are_tiktokens(text in "\\PC{0,200}") {
            let tiktoken = tiktoken_rs::o200k_base_singleton();
            proptest::prop_assert_eq!(O200K.count(&text), tiktoken.count_ordinary(&text));
        }

        #[test]
        fn counts_of_long_runs_are_tiktokens(
            unit in proptest::sample::select(vec!["a", "ab", "\u{e9}", "🙂", " ", "1", "-", "x\u{301}"]),
            n in 1usize..400,
        ) {
            let text = unit.repeat(n);
            let tiktoken = tiktoken_rs::o200k_base_singleton();
            proptest::prop_assert_eq!(O200K.count(&text), tiktoken.count_ordinary(&text));
        }

        /// Where the look-ahead that `Splitter` restores by hand decides: runs of white
        /// space (ASCII and not, with and without line breaks) before words, digits,
        /// punctuation and the end.
        #[test]
        fn counts_around_white_space_are_tiktokens(
            text in "[ \t\r\n\u{a0}\u{2003}\u{3000}\u{85}aZ\u{e9}1.\u{301}']{0,80}",
        ) {
            let tiktoken = tiktoken_rs::o200k_base_singleton();
            proptest::prop_assert_eq!(O200K.count(&text), tiktoken.count_ordinary(&text));
        }
    }

    #[test]
    fn the_pattern_loses_only_its_look_ahead() {
        let pattern = without_lookahead(tiktoken_rs::O200K_BASE_PAT_STR).unwrap();
        assert!(!pattern.contains("(?!"), "{pattern}");
        assert_eq!(
            pattern.len() + LOOKAHEAD_TAIL.len() - r"|\s+".len(),
            tiktoken_rs::O200K_BASE_PAT_STR.len()
        );
        assert_eq!(without_lookahead("a|b"), None);
    }
}
