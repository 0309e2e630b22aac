//! What every page shares: the frame (head, navigation, footer), the style sheet, and small
//! pieces such as badges and dates.

use maud::{DOCTYPE, Markup, html};

use crate::memory::Timestamp;

/// The style sheet, served at `/style.css` (a file, so the pages need no inline style).
pub(super) const STYLE: &str = include_str!("style.css");

/// The sections of the navigation bar.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Memories,
    Quarantine,
    Activity,
    Diff,
    Cost,
}

/// Returns a whole page: `title` in the tab and as the heading, `body` under it.
pub(super) fn page(section: Section, title: &str, body: Markup) -> Markup {
    let link = |s: Section, href: &str, label: &str| {
        html! {
            a href=(href) aria-current=[(s == section).then_some("page")] { (label) }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · memdir" }
                link rel="stylesheet" href="/style.css";
            }
            body {
                header {
                    nav {
                        span.brand { "memdir" }
                        (link(Section::Memories, "/", "Memories"))
                        (link(Section::Quarantine, "/quarantine", "Quarantine"))
                        (link(Section::Activity, "/activity", "Activity"))
                        (link(Section::Diff, "/diff", "Diff"))
                        (link(Section::Cost, "/cost", "Cost"))
                        a href="/v1/openapi.json" { "API" }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// Returns a small label, such as a memory's type.
pub(super) fn badge(class: &str, text: &str) -> Markup {
    html! { span class={ "badge " (class) } { (text) } }
}

/// Returns a time as `YYYY-MM-DD HH:MM` (UTC), with the full time on hover.
pub(super) fn when(t: Option<&Timestamp>) -> Markup {
    match t {
        Some(t) => {
            let full = t.to_string();
            let short = full.get(..16).unwrap_or(&full).replace('T', " ");
            html! { time datetime=(full) title=(full) { (short) } }
        }
        None => html! { span.muted { "—" } },
    }
}

/// Returns the link to a memory's page.
pub(super) fn memory_href(id: &str) -> String {
    format!("/memories/{id}")
}
