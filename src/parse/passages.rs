//! A body split into what search points at: paragraphs, top-level list items, code blocks,
//! quotes and tables, each with its line range and section heading (pulldown-cmark).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A unit of the body that search can point at: a paragraph, a list item, a code block, a
/// quote, a table or a lone heading, with the heading of the section it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    /// The Markdown source of the passage, trimmed.
    pub text: String,
    /// The heading of the enclosing section, if any.
    pub heading: Option<String>,
    /// First line, 1-based, in file coordinates.
    pub line_start: usize,
    /// Last line, inclusive.
    pub line_end: usize,
}

/// Splits a memory body into passages. `body_line` is the file line where the body starts.
///
/// ```
/// let body = "# Editor\n\nUses vim.\n\n- dark theme\n- 4-space tabs\n";
/// let passages = memdir::parse::passages(body, 10);
/// assert_eq!(passages.len(), 3);
/// assert_eq!(passages[1].text, "- dark theme");
/// assert_eq!((passages[1].line_start, passages[1].heading.as_deref()), (14, Some("Editor")));
/// ```
pub fn passages(body: &str, body_line: usize) -> Vec<Passage> {
    let starts: Vec<usize> = std::iter::once(0)
        .chain(body.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_at = |offset: usize| starts.partition_point(|&s| s <= offset) - 1 + body_line;
    let mut out = Vec::new();
    let mut heading: Option<String> = None;
    let mut pending_heading: Option<Passage> = None;
    let mut depth = 0usize;
    let mut in_list = 0usize;
    let mut heading_text: Option<String> = None;
    let opts = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let push = |out: &mut Vec<Passage>, range: std::ops::Range<usize>, heading: &Option<String>| {
        let raw = &body[range.clone()];
        let text = raw.trim();
        if text.is_empty() {
            return;
        }
        let lead = raw.len() - raw.trim_start().len();
        let end = range.start + lead + text.len();
        out.push(Passage {
            text: text.to_owned(),
            heading: heading.clone(),
            line_start: line_at(range.start + lead),
            line_end: line_at(end.saturating_sub(1).max(range.start + lead)),
        });
    };
    for (event, range) in Parser::new_ext(body, opts).into_offset_iter() {
        match event {
            Event::Start(tag) => {
                let top = depth == 0;
                let list_item = matches!(tag, Tag::Item) && depth == 1 && in_list == 1;
                if matches!(tag, Tag::List(_)) {
                    in_list += 1;
                }
                if matches!(tag, Tag::Heading { .. }) && top {
                    heading_text = Some(String::new());
                } else if (top && !matches!(tag, Tag::List(_))) || list_item {
                    pending_heading = None;
                    push(&mut out, range, &heading);
                }
                depth += 1;
            }
            Event::End(end) => {
                depth = depth.saturating_sub(1);
                if matches!(end, TagEnd::List(_)) {
                    in_list = in_list.saturating_sub(1);
                }
                if matches!(end, TagEnd::Heading(_)) && depth == 0 {
                    if let Some(p) = pending_heading.take() {
                        out.push(p);
                    }
                    let text = heading_text.take().unwrap_or_default();
                    let text = text.trim().to_owned();
                    let mut single = Vec::new();
                    push(&mut single, range, &heading);
                    pending_heading = single.pop();
                    heading = (!text.is_empty()).then_some(text);
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading_text.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Rule | Event::Html(_) if depth == 0 => push(&mut out, range, &heading),
            _ => {}
        }
    }
    if let Some(p) = pending_heading {
        out.push(p);
    }
    out.retain(|p| p.text != "---" && p.text != "***");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passages_carry_line_ranges_and_section_headings() {
        let body =
            "intro line\n\n## Tools\n\n- vim\n  - nested\n- git\n\n```\ncode\n```\n\n## Empty\n";
        let p = passages(body, 5);
        let summary: Vec<_> = p
            .iter()
            .map(|p| {
                (
                    p.text.as_str(),
                    p.heading.as_deref(),
                    p.line_start,
                    p.line_end,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("intro line", None, 5, 5),
                ("- vim\n  - nested", Some("Tools"), 9, 10),
                ("- git", Some("Tools"), 11, 11),
                ("```\ncode\n```", Some("Tools"), 13, 15),
                ("## Empty", Some("Tools"), 17, 17),
            ]
        );
    }
}
