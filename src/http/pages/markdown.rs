//! Memory bodies as HTML. Memories are untrusted (an agent wrote them, maybe from a poisoned
//! web page), so raw HTML in them is shown as text, never passed through, and links and
//! images keep only `http`, `https` and `mailto` URLs (or relative ones): no `javascript:`.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, html};

/// Returns `markdown` rendered as HTML that is safe to put in a page.
pub(super) fn render(markdown: &str) -> maud::PreEscaped<String> {
    let options = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_FOOTNOTES;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Raw HTML becomes text: the writer escapes it.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: safe(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    maud::PreEscaped(out)
}

/// Returns `url` if its scheme is safe to follow, else `#`.
fn safe(url: CowStr<'_>) -> CowStr<'_> {
    if is_safe_url(&url) { url } else { "#".into() }
}

/// Returns true for relative URLs and `http`, `https` and `mailto` ones. Browsers ignore
/// whitespace and control characters in a scheme (`java\tscript:`), so they are dropped
/// before comparing.
fn is_safe_url(url: &str) -> bool {
    let end = url.find([':', '/', '?', '#']);
    match end {
        Some(i) if url[i..].starts_with(':') => {
            let scheme: String = url[..i]
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
                .collect::<String>()
                .to_ascii_lowercase();
            matches!(scheme.as_str(), "http" | "https" | "mailto")
        }
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render("Hi <script>alert(1)</script>\n\n<div onclick=\"x()\">block</div>\n").0;
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{html}"
        );
    }

    #[test]
    fn only_safe_urls_are_linked() {
        for bad in [
            "[x](javascript:alert(1))",
            "[x](JavaScript:alert(1))",
            "[x](java\tscript:alert(1))",
            "[x](<java script:alert(1)>)",
            "[x](data:text/html,hi)",
            "[x](vbscript:x)",
            "![x](javascript:alert(1))",
        ] {
            let html = render(bad).0;
            // Either no link at all (the text stays text) or one that goes nowhere.
            for attr in ["href=\"", "src=\""] {
                for value in html.split(attr).skip(1) {
                    assert!(value.starts_with("#\""), "{bad}: {html}");
                }
            }
        }
        for good in [
            "[x](https://example.com/a?b=c)",
            "[x](mailto:a@example.com)",
            "[x](/memories/a-1)",
            "[x](#top)",
            "[x](notes/a:b)",
        ] {
            let html = render(good).0;
            assert!(!html.contains("href=\"#\""), "{good}: {html}");
        }
    }

    #[test]
    fn markdown_still_renders() {
        let html = render("# Title\n\n- **bold** item\n\n| a | b |\n|---|---|\n| 1 | 2 |\n").0;
        assert!(html.contains("<h1>Title</h1>"), "{html}");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<table>"), "{html}");
    }
}
