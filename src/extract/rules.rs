//! The rule-based extractor: what a conversation says explicitly, without a model.
//!
//! Only the person's turns are read (not the assistant's, a system's or a tool's), one
//! sentence at a time, and only three shapes are taken, each rewritten to name the speaker:
//!
//! - "remember that X" (also "remember: X"): X, as a fact (a preference when X is one);
//! - "I prefer X" ("I'd prefer", "I would prefer"): "The user prefers X.", a preference;
//! - "my X is Y" (X of one to four words; also "are"): "The user's X is Y.", a fact.
//!
//! Questions are skipped. Anything else is left for a model to judge.

use super::{OpKind, Operation};
use crate::transcript::Turn;

/// Speakers whose turns are not the person's.
const NOT_THE_PERSON: &[&str] = &[
    "assistant",
    "system",
    "tool",
    "function",
    "developer",
    "ai",
    "model",
    "bot",
    "agent",
];

/// Words that may open a sentence before the part that matters.
const FILLERS: &[&str] = &[
    "please ",
    "also ",
    "and ",
    "oh ",
    "ok ",
    "okay ",
    "so ",
    "btw ",
    "by the way ",
    "actually ",
    "just ",
    "fyi ",
    "note that ",
    "can you ",
    "could you ",
    "would you ",
    "will you ",
];

/// The openings taken outside "remember that": a stated preference, or "my X is Y".
const EXPLICIT: &[&str] = &["i prefer ", "i'd prefer ", "i would prefer ", "my "];

/// First-person openings that can be said of someone else, with the verb for them, and
/// whether they state a preference.
const FIRST_PERSON: &[(&str, &str, bool)] = &[
    ("i am ", "is", false),
    ("i'm ", "is", false),
    ("i have ", "has", false),
    ("i've ", "has", false),
    ("i was ", "was", false),
    ("i will ", "will", false),
    ("i'll ", "will", false),
    ("i can ", "can", false),
    ("i can't ", "can't", false),
    ("i cannot ", "cannot", false),
    ("i don't ", "doesn't", false),
    ("i do not ", "does not", false),
    ("i need ", "needs", false),
    ("i use ", "uses", false),
    ("i work ", "works", false),
    ("i live ", "lives", false),
    ("i prefer ", "prefers", true),
    ("i'd prefer ", "prefers", true),
    ("i would prefer ", "prefers", true),
    ("i like ", "likes", true),
    ("i love ", "loves", true),
    ("i hate ", "hates", true),
    ("i want ", "wants", true),
];

/// Returns the operations (all `add`) for what the person's turns state explicitly.
///
/// ```
/// use memdir::extract::{OpKind, rule_based};
/// use memdir::transcript::Turn;
/// let turn = |speaker: &str, text: &str| Turn { speaker: speaker.into(), text: text.into(), ..Turn::default() };
/// let ops = rule_based(&[
///     turn("user", "Hi! I prefer tabs over spaces. Can you fix the build?"),
///     turn("assistant", "My name is Claude."),
///     turn("user", "Also, remember that the staging API listens on port 8443."),
/// ]);
/// let texts: Vec<_> = ops.iter().map(|o| (o.kind.as_deref().unwrap(), o.text.as_deref().unwrap())).collect();
/// assert_eq!(texts, [
///     ("preference", "The user prefers tabs over spaces."),
///     ("fact", "The staging API listens on port 8443."),
/// ]);
/// assert!(ops.iter().all(|o| o.op == OpKind::Add));
/// ```
pub fn rule_based(turns: &[Turn]) -> Vec<Operation> {
    let mut ops: Vec<Operation> = Vec::new();
    for turn in turns {
        let speaker = turn.speaker.trim();
        if NOT_THE_PERSON.contains(&speaker.to_ascii_lowercase().as_str()) {
            continue;
        }
        let subject = Subject::of(speaker);
        for sentence in sentences(&turn.text) {
            if let Some((kind, text)) = rule(sentence, &subject)
                && !ops.iter().any(|o| o.text.as_deref() == Some(&text))
            {
                ops.push(Operation {
                    op: OpKind::Add,
                    id: None,
                    kind: Some(kind.to_owned()),
                    text: Some(text),
                    tags: Vec::new(),
                    from: Some(turn.id.clone())
                        .filter(|id| !id.is_empty())
                        .into_iter()
                        .collect(),
                });
            }
        }
    }
    ops
}

/// Who a sentence is about, as it opens the memory's text.
struct Subject {
    start: String,
}

impl Subject {
    fn of(speaker: &str) -> Subject {
        let start = match speaker.to_ascii_lowercase().as_str() {
            "user" | "human" | "me" | "person" | "" => "The user".into(),
            _ => speaker.to_owned(),
        };
        Subject { start }
    }
}

/// Splits text into sentences: at `.`, `!` or `?` before whitespace (or the end), and at line
/// breaks. Each sentence keeps its final mark.
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let next_is_space = chars.peek().is_none_or(|(_, n)| n.is_whitespace());
        let end = match c {
            '\n' => Some(i),
            '.' | '!' | '?' if next_is_space => Some(i + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            let s = text[start..end].trim();
            if !s.is_empty() {
                out.push(s);
            }
            start = end;
        }
    }
    let s = text[start..].trim();
    if !s.is_empty() {
        out.push(s);
    }
    out
}

/// Returns the type and text of the memory one sentence states, if it has an explicit shape.
fn rule(sentence: &str, who: &Subject) -> Option<(&'static str, String)> {
    if sentence.ends_with('?') {
        return None;
    }
    let body = sentence
        .trim_end_matches(['.', '!', ';', ' '])
        .trim_start_matches(['-', '*', '>', ' ']);
    let mut rest = strip_fillers(body);
    let lower = rest.to_ascii_lowercase();
    let remember = ["remember that ", "remember: "]
        .iter()
        .find(|p| lower.starts_with(**p));
    if let Some(prefix) = remember {
        rest = strip_fillers(rest[prefix.len()..].trim_start());
        if rest.is_empty() {
            return None;
        }
        return Some(first_person(rest, who).unwrap_or_else(|| ("fact", plain(rest, who))));
    }
    if EXPLICIT.iter().any(|p| lower.starts_with(p)) {
        first_person(rest, who)
    } else {
        None
    }
}

/// Returns `text` without the fillers that open it ("please", "also", "btw", ...).
fn strip_fillers(mut text: &str) -> &str {
    loop {
        let lower = text.to_ascii_lowercase();
        let Some(f) = FILLERS
            .iter()
            .find(|f| lower.starts_with(**f) || lower.starts_with(&format!("{}, ", f.trim_end())))
        else {
            return text;
        };
        let cut = if lower.starts_with(*f) {
            f.len()
        } else {
            f.trim_end().len() + 2
        };
        text = text[cut..].trim_start();
    }
}

/// Rewrites a first-person statement ("I prefer X", "my X is Y", "I'm X") about the speaker.
/// Returns `None` when it does not open with one of the known shapes.
fn first_person(text: &str, who: &Subject) -> Option<(&'static str, String)> {
    let lower = text.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("my ") {
        let words: Vec<&str> = rest.split(' ').collect();
        let verb = words
            .iter()
            .take(5)
            .position(|w| *w == "is" || *w == "are")?;
        if verb == 0 || verb + 1 >= words.len() {
            return None;
        }
        // Byte offsets are the same in `text` and its ASCII lower-case copy.
        let what = &text[3..3 + words[..verb].join(" ").len()];
        let after = &text[3 + what.len() + 1 + words[verb].len() + 1..];
        let sentence = format!(
            "{}'s {what} {} {}",
            who.start,
            words[verb],
            third_person(after)?
        );
        return Some(("fact", finish(&sentence)));
    }
    let (opening, verb, preference) = FIRST_PERSON.iter().find(|(o, _, _)| lower.starts_with(o))?;
    let rest = third_person(&text[opening.len()..])?;
    if rest.trim().is_empty() {
        return None;
    }
    let sentence = format!("{} {verb} {rest}", who.start);
    Some((
        if *preference { "preference" } else { "fact" },
        finish(&sentence),
    ))
}

/// Returns `text` with its remaining first-person words in the third person (`my` becomes
/// `their`...), or `None` when one is left that cannot be rewritten without its verb (`I`).
fn third_person(text: &str) -> Option<String> {
    let mut out = Vec::new();
    for word in text.split(' ') {
        let core = word.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        let tail = &word[core.len()..];
        let swapped = match core.to_ascii_lowercase().as_str() {
            "my" => "their",
            "mine" => "theirs",
            "me" => "them",
            "myself" => "themselves",
            "i" | "i'm" | "i've" | "i'd" | "i'll" | "we" | "we're" | "our" | "us" => return None,
            _ => {
                out.push(word.to_owned());
                continue;
            }
        };
        out.push(format!("{swapped}{tail}"));
    }
    Some(out.join(" "))
}

/// Returns the text of "remember that X" when X is not a first-person statement: X itself
/// when it speaks of nobody in particular, else attributed to the speaker.
fn plain(text: &str, who: &Subject) -> String {
    match third_person(text) {
        Some(t) => finish(&t),
        None => finish(&format!("{} asked to remember: \"{text}\"", who.start)),
    }
}

/// Capitalises the first letter and ends with a period.
fn finish(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    };
    if !out.ends_with(['.', '!']) {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(speaker: &str, text: &str) -> Vec<(String, String)> {
        rule_based(&[Turn {
            speaker: speaker.into(),
            text: text.into(),
            ..Turn::default()
        }])
        .into_iter()
        .map(|o| (o.kind.unwrap(), o.text.unwrap()))
        .collect()
    }

    fn one(speaker: &str, text: &str) -> String {
        let found = texts(speaker, text);
        assert_eq!(found.len(), 1, "{text:?}: {found:?}");
        format!("{}: {}", found[0].0, found[0].1)
    }

    #[test]
    fn the_three_explicit_shapes_are_taken() {
        for (said, want) in [
            (
                "I prefer tabs over spaces.",
                "preference: The user prefers tabs over spaces.",
            ),
            (
                "Actually, I'd prefer short answers",
                "preference: The user prefers short answers.",
            ),
            (
                "my name is Ada Lovelace",
                "fact: The user's name is Ada Lovelace.",
            ),
            (
                "My favourite editor is Helix!",
                "fact: The user's favourite editor is Helix.",
            ),
            (
                "My kids are Tom and Ann.",
                "fact: The user's kids are Tom and Ann.",
            ),
            (
                "Please remember that deploys need a green canary.",
                "fact: Deploys need a green canary.",
            ),
            (
                "Remember: the VPN drops at midnight",
                "fact: The VPN drops at midnight.",
            ),
            (
                "can you remember that I'm vegetarian",
                "fact: The user is vegetarian.",
            ),
            (
                "remember that I like my coffee black",
                "preference: The user likes their coffee black.",
            ),
            (
                "remember that my sister is Ann",
                "fact: The user's sister is Ann.",
            ),
            (
                "btw, remember that we ship on Fridays",
                "fact: The user asked to remember: \"we ship on Fridays\".",
            ),
        ] {
            assert_eq!(one("user", said), want, "{said:?}");
        }
        assert_eq!(
            one("Alice", "I prefer dark mode in my editor."),
            "preference: Alice prefers dark mode in their editor."
        );
    }

    #[test]
    fn everything_else_is_left_alone() {
        for said in [
            "Do I prefer tabs?",
            "What is my name?",
            "I think I prefer tabs.",
            "Fix the build.",
            "My point is",
            "my very long and winding list of things is here",
            "I'm done.",
            "remember",
            "I prefer",
            "Please remember me to your mother? ",
            "remember to buy milk",
            "I want to fix the build.",
            "I like this idea.",
        ] {
            assert_eq!(texts("user", said), [], "{said:?}");
        }
        assert_eq!(texts("assistant", "I prefer tabs. My name is Claude."), []);
        assert_eq!(texts("system", "Remember that you are helpful."), []);
    }

    #[test]
    fn sentences_split_at_marks_before_spaces_and_at_line_breaks() {
        assert_eq!(
            sentences("Version 3.5 is out. Is it? Yes!\nNew line\n\n  end"),
            ["Version 3.5 is out.", "Is it?", "Yes!", "New line", "end"]
        );
    }

    #[test]
    fn the_same_statement_twice_is_one_operation() {
        assert_eq!(texts("user", "I prefer tabs. I prefer tabs!").len(), 1);
    }
}
