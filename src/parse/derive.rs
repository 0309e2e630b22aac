//! What a file leaves out, derived from the file: its id from its path, its title from its
//! text, and the slugs files are named by.

use pulldown_cmark::{Event, Parser, Tag, TagEnd};

use crate::memory::MemoryId;

/// Returns the id a memory file without an `id:` has: its path without `.md`, as a slug
/// (lower-case ASCII letters and digits, `-` between words, at most 80 characters), then `-`
/// and six hex digits of a hash of the exact path. Readable, and unique in a repository
/// because paths are.
///
/// ```
/// use memdir::parse::path_id;
/// let id = path_id("fact/Coding Style.md");
/// assert!(id.as_str().starts_with("fact-coding-style-"), "{id}");
/// assert_eq!(id.as_str().len(), "fact-coding-style-".len() + 6);
/// assert_ne!(path_id("fact/coding-style.md"), id);
/// ```
pub fn path_id(path: &str) -> MemoryId {
    use std::hash::Hasher as _;
    let stem = path.strip_suffix(".md").unwrap_or(path);
    let slug = slug::slugify(stem.replace('/', " "));
    let mut slug: String = slug.chars().take(80).collect();
    while slug.ends_with('-') {
        slug.pop();
    }
    if slug.is_empty() {
        slug.push_str("memory");
    }
    let mut hasher = fnv::FnvHasher::default();
    hasher.write(path.as_bytes());
    let hex = format!("{:016x}", hasher.finish());
    MemoryId::parse(&format!("{slug}-{}", &hex[..6])).expect("a slug and hex digits form an id")
}

/// Returns the title of a memory that does not set one: the first heading of its body, else
/// its first line ([`derive_title`]), else its file name without `.md`.
pub fn title_of(body: &str, path: &str) -> String {
    derive_title(body).unwrap_or_else(|| {
        let name = path.rsplit('/').next().unwrap_or(path);
        name.strip_suffix(".md").unwrap_or(name).to_owned()
    })
}

/// Returns a title for a text: its first heading, else its first non-empty line without
/// Markdown heading marks, cut at a word boundary near 80 characters.
///
/// ```
/// use memdir::parse::derive_title;
/// assert_eq!(derive_title("Intro.\n\n## Coding style\n- tabs\n").as_deref(), Some("Coding style"));
/// assert_eq!(derive_title("The user lives in Lisbon.").as_deref(), Some("The user lives in Lisbon"));
/// ```
pub fn derive_title(text: &str) -> Option<String> {
    let line = first_heading(text).or_else(|| {
        text.lines()
            .map(|l| l.trim().trim_start_matches('#').trim())
            .find(|l| !l.is_empty())
            .map(str::to_owned)
    })?;
    let line = line.as_str();
    if line.chars().count() <= 80 {
        return Some(line.trim_end_matches('.').to_owned()).filter(|l| !l.is_empty());
    }
    let cut: String = line.chars().take(80).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 20 => cut[..i].to_owned(),
        _ => cut,
    };
    Some(cut.trim_end_matches([',', ';', ':', '.', ' ']).to_owned())
}

/// Returns the text of the first heading of a Markdown text (ATX or setext), if any.
fn first_heading(text: &str) -> Option<String> {
    // Cheap test first: most memories have no heading, and need no Markdown parse.
    if !text.contains('#') && !text.contains("\n=") && !text.contains("\n-") {
        return None;
    }
    let mut heading: Option<String> = None;
    for event in Parser::new(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let h = heading.take().unwrap_or_default();
                let h = h.split_whitespace().collect::<Vec<_>>().join(" ");
                if !h.is_empty() {
                    return Some(h);
                }
            }
            _ => {}
        }
    }
    None
}

/// Returns a file-name-safe slug of `title` (lower-case ASCII, `-` between words, at most 48
/// characters), or `memory` when nothing is left.
pub fn slugify(title: &str) -> String {
    let slug = slug::slugify(title);
    let mut cut: String = slug.chars().take(48).collect();
    while cut.ends_with('-') {
        cut.pop();
    }
    if cut.is_empty() {
        "memory".to_owned()
    } else {
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_and_titles_are_readable() {
        assert_eq!(slugify("Prefers Dark Mode!"), "prefers-dark-mode");
        assert_eq!(slugify("¿Qué?"), "que");
        assert_eq!(slugify("!!!"), "memory");
        assert_eq!(
            derive_title("\n# Heading here\nrest").as_deref(),
            Some("Heading here")
        );
    }
}
