//! Rendering the chosen memories as text for a prompt: Markdown, XML or JSON, each memory a
//! self-contained block that carries its citation, so blocks can be counted one at a time;
//! and the note that names the pinned memories a trimmed context left out.

use serde::Serialize;

use super::{ContextFormat, ContextItem, LeftOut};

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
pub(super) fn render(format: ContextFormat, note: &str, items: &[ContextItem]) -> String {
    let (open, close) = frame(format);
    let blocks: Vec<String> = (!note.is_empty())
        .then(|| note.to_owned())
        .into_iter()
        .chain(items.iter().map(|i| block(format, i)))
        .collect();
    format!("{open}{}{close}", blocks.join(separator(format)))
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
pub(super) fn block(format: ContextFormat, item: &ContextItem) -> String {
    match format {
        ContextFormat::Markdown => markdown(item),
        ContextFormat::Xml => xml(item),
        ContextFormat::Json => json(item),
    }
}

fn markdown(item: &ContextItem) -> String {
    let mut about = vec![item.reason.as_str().to_owned()];
    if let Some(kind) = &item.kind {
        about.push(kind.clone());
    }
    if let Some(date) = &item.date {
        about.push(date.clone());
    }
    format!(
        "\n### {} [{}] ({})\n{}\n",
        item.title.trim(),
        item.citation(),
        about.join(", "),
        item.text.trim_end()
    )
}

fn xml(item: &ContextItem) -> String {
    let mut attrs = vec![
        ("id", item.id.clone()),
        ("revision", item.short_revision().to_owned()),
        ("reason", item.reason.as_str().to_owned()),
        ("path", item.path.clone()),
        ("lines", format!("{}-{}", item.line_start, item.line_end)),
        ("title", item.title.trim().to_owned()),
    ];
    if let Some(kind) = &item.kind {
        attrs.push(("type", kind.clone()));
    }
    if let Some(date) = &item.date {
        attrs.push(("date", date.clone()));
    }
    let attrs: String = attrs
        .iter()
        .map(|(k, v)| format!(" {k}=\"{}\"", escape(v)))
        .collect();
    format!(
        "<memory{attrs}>\n{}\n</memory>\n",
        escape(item.text.trim_end())
    )
}

fn json(item: &ContextItem) -> String {
    #[derive(Serialize)]
    struct Block<'a> {
        cite: String,
        reason: &'a str,
        path: &'a str,
        lines: [usize; 2],
        title: &'a str,
        #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
        kind: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        date: Option<&'a str>,
        text: &'a str,
    }
    serde_json::to_string(&Block {
        cite: item.citation(),
        reason: item.reason.as_str(),
        path: &item.path,
        lines: [item.line_start, item.line_end],
        title: item.title.trim(),
        kind: item.kind.as_deref(),
        date: item.date.as_deref(),
        text: item.text.trim_end(),
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
