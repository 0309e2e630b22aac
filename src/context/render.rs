//! Rendering the chosen memories as text for a prompt: Markdown, XML or JSON, each memory a
//! self-contained block that carries its citation, so blocks can be counted one at a time;
//! and the note that names the pinned memories a trimmed context left out.

use serde::Serialize;

use super::{ContextFormat, ContextItem, LeftOut, Reason};

/// Returns the text that opens and closes a context, around the blocks.
pub(super) fn frame(format: ContextFormat) -> (&'static str, &'static str) {
    match format {
        ContextFormat::Markdown => (
            "<!-- memdir: memories for this prompt. Cite what you use as [id@revision]. -->\n",
            "",
        ),
        ContextFormat::Xml => ("<memories cite=\"[id@revision]\">\n", "</memories>\n"),
        ContextFormat::Json => ("{\"memories\": [\n", "\n]}\n"),
    }
}

/// Returns what goes between two blocks.
pub(super) fn separator(format: ContextFormat) -> &'static str {
    match format {
        ContextFormat::Json => ",\n",
        _ => "",
    }
}

/// Returns the whole context: the frame around the note (when not empty) and `items`' blocks.
///
/// Passages of one memory at one revision share a block, where the first of them stands: the
/// title, citation and metadata once, then each passage's text in the order of `items`, a
/// blank line between them. An imported session's turns or a procedure's steps then do not
/// repeat their heading for every passage kept.
pub(super) fn render(format: ContextFormat, note: &str, items: &[ContextItem]) -> String {
    let (open, close) = frame(format);
    let blocks: Vec<String> = (!note.is_empty())
        .then(|| note.to_owned())
        .into_iter()
        .chain(groups(items).into_iter().map(|(first, rest)| {
            if rest.is_empty() {
                return block(format, first);
            }
            let texts: Vec<&str> = std::iter::once(first)
                .chain(rest)
                .map(|i| i.text.trim())
                .collect();
            block(
                format,
                &ContextItem {
                    text: texts.join(PASSAGE_SEPARATOR),
                    ..first.clone()
                },
            )
        }))
        .collect();
    format!("{open}{}{close}", blocks.join(separator(format)))
}

/// What stands between two passages of one memory in its block.
const PASSAGE_SEPARATOR: &str = "\n\n";

/// Returns `items` grouped by citation (`id@revision`), each group where its first item is:
/// that item, then the others of its memory in their order.
fn groups(items: &[ContextItem]) -> Vec<(&ContextItem, Vec<&ContextItem>)> {
    use std::collections::hash_map::Entry;
    let mut out: Vec<(&ContextItem, Vec<&ContextItem>)> = Vec::new();
    let mut at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for item in items {
        match at.entry(item.citation()) {
            Entry::Occupied(g) => out[*g.get()].1.push(item),
            Entry::Vacant(v) => {
                v.insert(out.len());
                out.push((item, Vec::new()));
            }
        }
    }
    out
}

/// Returns what `item` adds to the block of another passage of its memory already in a
/// context: its text after the separator, as the format writes text.
pub(super) fn continuation(format: ContextFormat, item: &ContextItem) -> String {
    let text = item.text.trim();
    match format {
        ContextFormat::Markdown => format!("{PASSAGE_SEPARATOR}{text}"),
        ContextFormat::Xml => format!("{PASSAGE_SEPARATOR}{}", escape(text)),
        ContextFormat::Json => {
            let quoted = serde_json::to_string(&format!("{PASSAGE_SEPARATOR}{text}"))
                .expect("a string serializes");
            quoted[1..quoted.len() - 1].to_owned()
        }
    }
}

/// Most memories a note names one by one; the rest are counted.
const NOTE_NAMES: usize = 10;

/// Returns the block that tells the model which pinned memories were left out of a context of
/// `budget` tokens, first among the blocks; empty when none were.
pub(super) fn note(format: ContextFormat, budget: usize, left_out: &[LeftOut]) -> String {
    if left_out.is_empty() {
        return String::new();
    }
    let mut names: Vec<String> = left_out
        .iter()
        .take(NOTE_NAMES)
        .map(|l| format!("{} ({} tokens)", l.path, l.tokens))
        .collect();
    if left_out.len() > NOTE_NAMES {
        names.push(format!("and {} more", left_out.len() - NOTE_NAMES));
    }
    let sentence = format!(
        "memdir left out {} pinned {} over the budget of {budget} tokens: {}.",
        left_out.len(),
        if left_out.len() == 1 {
            "memory"
        } else {
            "memories"
        },
        names.join(", ")
    );
    match format {
        ContextFormat::Markdown => format!("\n> Warning: {sentence}\n"),
        ContextFormat::Xml => format!("<left-out>{}</left-out>\n", escape(&sentence)),
        ContextFormat::Json => serde_json::json!({ "left_out": sentence }).to_string(),
    }
}

/// Returns one memory's block.
///
/// A block spends its tokens on the memory: its text and citation always, its title only
/// when the title says something the text does not ([`informative_title`]), and of the
/// metadata only what informs ([`shown_reason`], [`shown_date`]): the reason when it is not `retrieved`, and a date
/// for events, session turns and recent memories. The path, lines, type and score stay in
/// [`ContextItem`] for the caller.
pub(super) fn block(format: ContextFormat, item: &ContextItem) -> String {
    match format {
        ContextFormat::Markdown => markdown(item),
        ContextFormat::Xml => xml(item),
        ContextFormat::Json => json(item),
    }
}

/// Returns the item's title when it tells the model something its text does not; `None` when
/// every word of the title already starts a word of the text (a title derived from the
/// first line, or one that only names the subject), or when it is empty.
///
/// ```text
/// informative_title("Deploys go out on Tuesdays", "Deploys go out on Tuesdays.") == None
/// informative_title("Team lead", "Alice leads the platform team.") == None
/// informative_title("Caroline and Melanie, 8 May 2023", "[D1:3] **Caroline:** Hi!") == Some(..)
/// ```
pub(super) fn informative_title(item: &ContextItem) -> Option<&str> {
    let title = item.title.trim();
    let text: Vec<String> = words(&item.text).collect();
    let repeats = words(title).all(|t| text.iter().any(|w| w.starts_with(&t)));
    (!title.is_empty() && !repeats).then_some(title)
}

/// Returns the lower-cased words (runs of letters and digits) of `text`.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
}

/// Returns the reason when it informs: not for `retrieved`, what every searched context holds.
pub(super) fn shown_reason(item: &ContextItem) -> Option<&'static str> {
    (item.reason != Reason::Retrieved).then(|| item.reason.as_str())
}

/// Returns the date when it informs: for an event, a session's turns or a recent memory, when
/// it happened is part of what it says; for a fact or a note it is only when the file last
/// changed.
pub(super) fn shown_date(item: &ContextItem) -> Option<&str> {
    let dated = matches!(item.reason, Reason::Session | Reason::Recent)
        || item.kind.as_deref() == Some(EVENT_TYPE);
    item.date.as_deref().filter(|_| dated)
}

/// Returns, for a memory whose sources changed since it was written, the words that say so.
pub(super) fn shown_drift(item: &ContextItem) -> Option<String> {
    (!item.drifted.is_empty()).then(|| {
        let ids: Vec<&str> = item
            .drifted
            .iter()
            .map(|s| s.split('@').next().unwrap_or(s))
            .collect();
        format!("unverified: its sources changed since: {}", ids.join(", "))
    })
}

/// The type whose date is part of what a memory says.
const EVENT_TYPE: &str = "event";

/// One line for a one-line memory whose title only repeats it (`- [id@rev] text`); otherwise
/// a `###` heading with the title (when it informs) and the citation, then the text.
fn markdown(item: &ContextItem) -> String {
    let drift = shown_drift(item);
    let about: Vec<&str> = shown_reason(item)
        .into_iter()
        .chain(shown_date(item))
        .chain(drift.as_deref())
        .collect();
    let about = if about.is_empty() {
        String::new()
    } else {
        format!(" ({})", about.join(", "))
    };
    let text = item.text.trim();
    match informative_title(item) {
        None if !text.contains('\n') => format!("- [{}]{about} {text}\n", item.citation()),
        title => format!(
            "\n### {}[{}]{about}\n{text}\n",
            title.map(|t| format!("{t} ")).unwrap_or_default(),
            item.citation(),
        ),
    }
}

fn xml(item: &ContextItem) -> String {
    let mut attrs = vec![
        ("id", item.id.as_str()),
        ("revision", item.short_revision()),
    ];
    if let Some(reason) = shown_reason(item) {
        attrs.push(("reason", reason));
    }
    if let Some(title) = informative_title(item) {
        attrs.push(("title", title));
    }
    if let Some(date) = shown_date(item) {
        attrs.push(("date", date));
    }
    let drift = shown_drift(item);
    if let Some(drift) = &drift {
        attrs.push(("note", drift));
    }
    let attrs: String = attrs
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", escape(v)))
        .collect();
    let text = item.text.trim();
    let newline = if text.contains('\n') { "\n" } else { "" };
    format!(
        "<memory{attrs}>{newline}{}{newline}</memory>\n",
        escape(text)
    )
}

fn json(item: &ContextItem) -> String {
    #[derive(Serialize)]
    struct Block<'a> {
        cite: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        title: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<String>,
        text: &'a str,
    }
    serde_json::to_string(&Block {
        cite: item.citation(),
        reason: shown_reason(item),
        title: informative_title(item),
        date: shown_date(item),
        note: shown_drift(item),
        text: item.text.trim(),
    })
    .expect("a block serializes")
}

/// Escapes text for an XML attribute or element.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    out
}
