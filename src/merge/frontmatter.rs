//! Front-matter merged key by key.
//!
//! A front-matter block is cut into *key blocks*: a top-level `key:` line and every line under
//! it (indented lines, block-list items, comments), kept as raw text so that a key only one
//! side changed comes through byte for byte. Three versions of a key then merge as git merges
//! whole files: the same on both sides, or changed on one side only, is clean. A key both sides
//! changed differently is merged by its meaning where memdir knows one (`tags` and
//! `supersedes` as sets, `updated` the later time, `created` the earlier) and is a conflict
//! otherwise. The merged block lists keys in one canonical order ([`CANONICAL_ORDER`], then the
//! other keys by name), so two machines merging the same versions write the same bytes.

use std::collections::{BTreeMap, BTreeSet};

use yaml_rust2::{Yaml, YamlLoader};

use crate::memory::{SUPERSEDES_KEY, Timestamp};
use crate::parse::yaml_scalar;

/// The keys memdir knows, in the order [`crate::parse::render_new`] writes them; every other
/// key follows, sorted by name.
pub const CANONICAL_ORDER: &[&str] = &[
    "id", "title", "type", "tags", "scope", "created", "updated", "pinned", "expires", "source",
];

/// Keys whose value is a set of strings: both sides' additions are kept, and an item one side
/// removed from the common version stays removed.
const SET_KEYS: &[&str] = &["tags", SUPERSEDES_KEY];

/// A front-matter block cut into its parts: lines before the first key (comments), then each
/// key's raw lines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blocks {
    /// Lines before the first key, such as a leading comment.
    pub preamble: String,
    /// Each top-level key with its raw text (the key line and every line under it, each
    /// ending with `\n`).
    pub keys: BTreeMap<String, String>,
}

/// Cuts the YAML of a front-matter block (without its `---` lines) into key blocks.
///
/// ```
/// use memdir::merge::frontmatter::split;
/// let b = split("# mine\nid: a\ntags:\n  - x\n");
/// assert_eq!(b.preamble, "# mine\n");
/// assert_eq!(b.keys["tags"], "tags:\n  - x\n");
/// ```
pub fn split(yaml: &str) -> Blocks {
    let mut blocks = Blocks::default();
    let mut current: Option<(String, String)> = None;
    for line in yaml.split_inclusive('\n') {
        let line = if line.ends_with('\n') {
            line.to_owned()
        } else {
            format!("{line}\n")
        };
        match key_of(&line) {
            Some(key) => {
                if let Some((k, text)) = current.take() {
                    push(&mut blocks.keys, k, text);
                }
                current = Some((key, line));
            }
            None => match &mut current {
                Some((_, text)) => text.push_str(&line),
                None => blocks.preamble.push_str(&line),
            },
        }
    }
    if let Some((k, text)) = current {
        push(&mut blocks.keys, k, text);
    }
    blocks
}

/// A repeated key (invalid YAML, which parsing reports) keeps both texts rather than one.
fn push(keys: &mut BTreeMap<String, String>, key: String, text: String) {
    keys.entry(key)
        .and_modify(|t| t.push_str(&text))
        .or_insert(text);
}

/// Returns the key a top-level `key:` line starts, if it is one.
fn key_of(line: &str) -> Option<String> {
    let first = line.chars().next()?;
    if first.is_whitespace() || "#-?[{".contains(first) {
        return None;
    }
    let (key, _) = line.split_once(':')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty()).then(|| key.to_owned())
}

/// Joins key blocks back into YAML, keys in canonical order.
pub fn join(blocks: &Blocks) -> String {
    let mut out = blocks.preamble.clone();
    for key in CANONICAL_ORDER {
        if let Some(text) = blocks.keys.get(*key) {
            out.push_str(text);
        }
    }
    for (key, text) in &blocks.keys {
        if !CANONICAL_ORDER.contains(&key.as_str()) {
            out.push_str(text);
        }
    }
    out
}

/// Merges three versions of a front-matter block (`base` is `None` when both sides added the
/// file). Returns the merged blocks, or the keys both sides changed in ways that contradict.
pub fn merge(base: Option<&Blocks>, ours: &Blocks, theirs: &Blocks) -> Result<Blocks, Vec<String>> {
    let empty = Blocks::default();
    let base = base.unwrap_or(&empty);
    let mut out = Blocks::default();
    let mut conflicts = Vec::new();
    match pick(
        Some(&base.preamble),
        Some(&ours.preamble),
        Some(&theirs.preamble),
    ) {
        Some(Some(p)) => out.preamble = p.clone(),
        Some(None) => {}
        // Comments above the first key, changed on both sides: keep both, ours first.
        None => out.preamble = format!("{}{}", ours.preamble, theirs.preamble),
    }
    let keys: BTreeSet<&String> = base
        .keys
        .keys()
        .chain(ours.keys.keys())
        .chain(theirs.keys.keys())
        .collect();
    for key in keys {
        let (b, o, t) = (base.keys.get(key), ours.keys.get(key), theirs.keys.get(key));
        let merged = match pick(b, o, t) {
            Some(v) => v.cloned(),
            None => match merge_by_meaning(key, b, o, t) {
                Some(v) => v,
                None => {
                    conflicts.push(key.clone());
                    continue;
                }
            },
        };
        if let Some(text) = merged {
            out.keys.insert(key.clone(), text);
        }
    }
    if conflicts.is_empty() {
        Ok(out)
    } else {
        Err(conflicts)
    }
}

/// The three-way rule for opaque values: `Some(result)` when at most one side changed (or
/// both changed alike), `None` when both changed differently. `None` inside means absent.
pub(crate) fn pick<'a, T: PartialEq + ?Sized>(
    base: Option<&'a T>,
    ours: Option<&'a T>,
    theirs: Option<&'a T>,
) -> Option<Option<&'a T>> {
    if ours == theirs || base == theirs {
        Some(ours)
    } else if base == ours {
        Some(theirs)
    } else {
        None
    }
}

/// Merges a key both sides changed differently, where its meaning allows; `None` is a
/// conflict. The inner `None` removes the key.
fn merge_by_meaning(
    key: &str,
    base: Option<&String>,
    ours: Option<&String>,
    theirs: Option<&String>,
) -> Option<Option<String>> {
    if SET_KEYS.contains(&key) {
        let items = |t: Option<&String>| t.map(|t| list_items(t)).unwrap_or(Some(Vec::new()));
        let (b, o, t) = (items(base)?, items(ours)?, items(theirs)?);
        let merged = merge_sets(&b, &o, &t);
        // Flow style (`[a, b]`) unless both sides wrote a block list.
        let block = [ours, theirs]
            .iter()
            .all(|s| s.is_some_and(|s| s.lines().count() > 1));
        return Some(Some(render_list(key, &merged, block)));
    }
    if key == "updated" || key == "created" {
        let (o, t) = (ours?, theirs?);
        let (to, tt) = (scalar_time(o)?, scalar_time(t)?);
        // The later update, the earlier creation; a tie of different spellings picks the
        // greater text, so both machines agree.
        let ours_wins = match to.cmp(&tt) {
            std::cmp::Ordering::Equal => o > t,
            order => (order == std::cmp::Ordering::Greater) == (key == "updated"),
        };
        return Some(Some(if ours_wins { o.clone() } else { t.clone() }));
    }
    None
}

/// Returns the three-way merge of sets: what both sides kept from `base`, plus what either
/// added. Items of `base` come first in its order, then the additions sorted, so the result
/// does not depend on which side is "ours".
///
/// ```
/// use memdir::merge::frontmatter::merge_sets;
/// let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
/// // One side added `b`, the other removed `x` and added `a`.
/// assert_eq!(merge_sets(&s(&["x", "y"]), &s(&["x", "y", "b"]), &s(&["y", "a"])), s(&["y", "a", "b"]));
/// ```
pub fn merge_sets(base: &[String], ours: &[String], theirs: &[String]) -> Vec<String> {
    let mut out: Vec<String> = base
        .iter()
        .filter(|x| ours.contains(x) && theirs.contains(x))
        .cloned()
        .collect();
    let mut added: Vec<String> = ours
        .iter()
        .chain(theirs)
        .filter(|x| !base.contains(x))
        .cloned()
        .collect();
    added.sort();
    added.dedup();
    out.extend(added);
    out.dedup();
    out
}

/// Reads a key block whose value is a list of strings (or one string, or nothing).
fn list_items(block: &str) -> Option<Vec<String>> {
    let docs = YamlLoader::load_from_str(block).ok()?;
    let Some(Yaml::Hash(h)) = docs.first() else {
        return None;
    };
    match h.values().next()? {
        Yaml::Array(items) => items
            .iter()
            .map(|i| match i {
                Yaml::String(s) => Some(s.clone()),
                Yaml::Integer(n) => Some(n.to_string()),
                Yaml::Real(r) => Some(r.clone()),
                Yaml::Boolean(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        Yaml::String(s) => Some(vec![s.clone()]),
        Yaml::Null => Some(Vec::new()),
        _ => None,
    }
}

/// Reads a key block whose value is a time.
fn scalar_time(block: &str) -> Option<Timestamp> {
    let docs = YamlLoader::load_from_str(block).ok()?;
    let Some(Yaml::Hash(h)) = docs.first() else {
        return None;
    };
    match h.values().next()? {
        Yaml::String(s) => Timestamp::parse(s),
        _ => None,
    }
}

fn render_list(key: &str, items: &[String], block: bool) -> String {
    if block && !items.is_empty() {
        let mut out = format!("{key}:\n");
        for i in items {
            out.push_str(&format!("  - {}\n", yaml_scalar(i, false)));
        }
        out
    } else {
        let inner: Vec<String> = items.iter().map(|s| yaml_scalar(s, true)).collect();
        format!("{key}: [{}]\n", inner.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(b: &str, o: &str, t: &str) -> Result<String, Vec<String>> {
        merge(Some(&split(b)), &split(o), &split(t)).map(|x| join(&x))
    }

    #[test]
    fn keys_changed_on_one_side_come_through_verbatim() {
        let b = "id: a\ntitle: Old\ncolor: blue # mine\n";
        let o = "id: a\ntitle: New\ncolor: blue # mine\n";
        let t = "id: a\ntitle: Old\ncolor: red\n";
        assert_eq!(m(b, o, t).unwrap(), "id: a\ntitle: New\ncolor: red\n");
    }

    #[test]
    fn tags_and_supersedes_merge_as_sets() {
        let b = "id: a\ntags: [drop, keep]\n";
        let o = "id: a\ntags: [drop, keep, b]\nsupersedes: [old-1]\n";
        let t = "id: a\ntags: [keep, a]\nsupersedes:\n  - old-2\n";
        assert_eq!(
            m(b, o, t).unwrap(),
            "id: a\ntags: [keep, a, b]\nsupersedes: [old-1, old-2]\n"
        );
    }

    #[test]
    fn updated_takes_the_later_time_and_created_the_earlier() {
        let b = "id: a\ncreated: 2026-01-01\nupdated: 2026-01-02T00:00:00Z\n";
        let o = "id: a\ncreated: 2025-12-01\nupdated: 2026-03-01T00:00:00Z\n";
        let t = "id: a\ncreated: 2025-12-31\nupdated: 2026-02-01T00:00:00Z\n";
        assert_eq!(
            m(b, o, t).unwrap(),
            "id: a\ncreated: 2025-12-01\nupdated: 2026-03-01T00:00:00Z\n"
        );
        assert_eq!(m(b, t, o).unwrap(), m(b, o, t).unwrap());
    }

    #[test]
    fn a_key_changed_differently_on_both_sides_is_a_conflict() {
        let b = "id: a\ntitle: Old\n";
        assert_eq!(
            m(b, "id: a\ntitle: One\n", "id: a\ntitle: Two\n"),
            Err(vec!["title".to_owned()])
        );
    }

    #[test]
    fn unknown_keys_are_kept_and_keys_come_out_in_canonical_order() {
        let b = "title: T\nid: a\n";
        let o = "zeta: 1\ntitle: T\nid: a\n";
        let t = "title: T\nid: a\nalpha:\n  nested: true\n";
        assert_eq!(
            m(b, o, t).unwrap(),
            "id: a\ntitle: T\nalpha:\n  nested: true\nzeta: 1\n"
        );
    }

    #[test]
    fn a_key_removed_on_one_side_and_kept_on_the_other_is_removed() {
        let b = "id: a\nquarantine:\n  - rule: x\n";
        assert_eq!(m(b, "id: a\n", b).unwrap(), "id: a\n");
    }
}
