//! The tantivy index: passages with line ranges, analysis, boosts, filters, where the index
//! lives, rebuilding, and catching up with commits and hand edits made outside memdir.

use memdir::{Filter, Hit, Memdir, NewMemory, SearchQuery};

use crate::common::{TestEnv, prov};

fn search(mem: &Memdir, text: &str) -> Vec<Hit> {
    mem.search(&SearchQuery::new(text)).unwrap()
}

fn ids(hits: &[Hit]) -> Vec<&str> {
    hits.iter().map(|h| h.id.as_str()).collect()
}

/// Returns the ids in a CLI `search --json` output.
fn cli_ids(env: &TestEnv, query: &str) -> Vec<String> {
    env.search_ids(query)
}

const MEMORY_FILE: &str = "\
---
id: hand-written-1a2b3c
title: Office notes
type: note
---

The office opens at eight.
";

#[test]
fn a_hit_points_at_the_line_that_holds_the_text() {
    let (env, mem) = TestEnv::init_lib();
    let body = "\
# Servers

The build farm sits in the basement.

It has three racks.

## Access

- badge at the front desk
- ask Priya for the zeppelin key
- sign the log
  - nested: call the quartermaster

```sh
ssh farm
sudo reboot-gracefully
```

> Quote: never unplug the gondola.
";
    let w = mem
        .remember(
            NewMemory::new(body).title("Infrastructure").kind("fact"),
            &prov(),
        )
        .unwrap();
    let lines: Vec<String> = env.read(&w.path).lines().map(str::to_owned).collect();

    for (query, text) in [
        ("zeppelin", "ask Priya for the zeppelin key"),
        ("racks", "It has three racks."),
        ("basement", "The build farm sits in the basement."),
    ] {
        let hits = search(&mem, query);
        assert_eq!(hits.len(), 1, "{query}: {hits:?}");
        let hit = &hits[0];
        assert_eq!(hit.line_start, hit.line_end, "{query}: one-line passage");
        assert!(
            lines[hit.line_start - 1].contains(text),
            "{query}: line {} is {:?}",
            hit.line_start,
            lines[hit.line_start - 1]
        );
        assert!(hit.passage.contains(text), "{query}: {:?}", hit.passage);
    }
    // Passages over several lines (a nested list, a code block) span the line with the text.
    for (query, text) in [
        ("quartermaster", "call the quartermaster"),
        ("gracefully", "sudo reboot-gracefully"),
        ("gondola", "never unplug the gondola"),
    ] {
        let hit = &search(&mem, query)[0];
        let at = lines.iter().position(|l| l.contains(text)).unwrap() + 1;
        assert!(
            (hit.line_start..=hit.line_end).contains(&at),
            "{query}: line {at} not in {}..={}",
            hit.line_start,
            hit.line_end
        );
        assert!(hit.passage.contains(text), "{query}: {:?}", hit.passage);
    }
    let hit = &search(&mem, "zeppelin")[0];
    assert_eq!(hit.heading.as_deref(), Some("Access"));
}

#[test]
fn a_multi_line_passage_spans_its_lines() {
    let (env, mem) = TestEnv::init_lib();
    let body = "\
Intro line.

First line of a long paragraph
that goes on about walruses
and ends here.

Outro.
";
    let w = mem
        .remember(NewMemory::new(body).title("Zoo"), &prov())
        .unwrap();
    let lines: Vec<String> = env.read(&w.path).lines().map(str::to_owned).collect();
    let hit = &search(&mem, "walruses")[0];
    assert_eq!(hit.line_end, hit.line_start + 2);
    assert_eq!(lines[hit.line_start - 1], "First line of a long paragraph");
    assert_eq!(lines[hit.line_end - 1], "and ends here.");
}

#[test]
fn stemming_matches_other_forms_of_a_word() {
    let (_env, mem) = TestEnv::init_lib();
    let run = mem
        .remember(NewMemory::new("Alice likes to run before work."), &prov())
        .unwrap();
    let deploy = mem
        .remember(NewMemory::new("Deployments happen on Tuesdays."), &prov())
        .unwrap();
    assert_eq!(ids(&search(&mem, "running")), [run.id.as_str()]);
    assert_eq!(ids(&search(&mem, "deploying")), [deploy.id.as_str()]);
    // Stop words alone match nothing.
    assert!(search(&mem, "the").is_empty());
}

#[test]
fn a_title_match_outranks_a_body_match() {
    let (_env, mem) = TestEnv::init_lib();
    let in_body = mem
        .remember(
            NewMemory::new("Ops runs the kubernetes cluster for staging.").title("Ops duties"),
            &prov(),
        )
        .unwrap();
    let in_title = mem
        .remember(
            NewMemory::new("Ops runs the shared cluster for staging.").title("Kubernetes setup"),
            &prov(),
        )
        .unwrap();
    let hits = search(&mem, "kubernetes");
    assert_eq!(ids(&hits), [in_title.id.as_str(), in_body.id.as_str()]);
    assert!(hits[0].score > hits[1].score);
}

#[test]
fn filters_restrict_by_type_tag_and_scope() {
    let (_env, mem) = TestEnv::init_lib();
    let a = mem
        .remember(
            NewMemory::new("Coffee, black.")
                .kind("preference")
                .tag("drinks")
                .scope("user:alice"),
            &prov(),
        )
        .unwrap();
    let b = mem
        .remember(
            NewMemory::new("Coffee machine is on floor 2.")
                .kind("fact")
                .tag("office"),
            &prov(),
        )
        .unwrap();
    let c = mem
        .remember(
            NewMemory::new("Coffee with oat milk.")
                .kind("preference")
                .tag("drinks")
                .scope("user:bob"),
            &prov(),
        )
        .unwrap();
    let query = |filter: Filter| {
        let mut got: Vec<String> = mem
            .search(&SearchQuery {
                filter,
                ..SearchQuery::new("coffee")
            })
            .unwrap()
            .into_iter()
            .map(|h| h.id)
            .collect();
        got.sort();
        got
    };
    let mut prefs = vec![a.id.clone(), c.id.clone()];
    prefs.sort();
    assert_eq!(query(Filter::default()).len(), 3);
    assert_eq!(
        query(Filter {
            kind: Some("preference".into()),
            ..Filter::default()
        }),
        prefs
    );
    assert_eq!(
        query(Filter {
            tags: vec!["office".into()],
            ..Filter::default()
        }),
        [b.id.as_str()]
    );
    assert_eq!(
        query(Filter {
            scope: Some("user:alice".into()),
            ..Filter::default()
        }),
        [a.id.as_str()]
    );
    assert!(
        query(Filter {
            kind: Some("fact".into()),
            tags: vec!["drinks".into()],
            ..Filter::default()
        })
        .is_empty()
    );
    // list takes the same filters.
    let listed = mem
        .list(&Filter {
            tags: vec!["drinks".into()],
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(listed.len(), 2);
}

#[test]
fn each_memory_is_one_hit_however_many_passages_match() {
    let (_env, mem) = TestEnv::init_lib();
    let body = "Tea in the morning.\n\nTea after lunch.\n\n- green tea\n- black tea\n";
    let w = mem
        .remember(NewMemory::new(body).title("Tea habits"), &prov())
        .unwrap();
    let other = mem
        .remember(NewMemory::new("Tea is for guests."), &prov())
        .unwrap();
    let hits = search(&mem, "tea");
    let mut got = ids(&hits);
    got.sort();
    let mut want = vec![w.id.as_str(), other.id.as_str()];
    want.sort();
    assert_eq!(got, want);
    // The limit counts memories, not passages.
    let one = mem
        .search(&SearchQuery {
            limit: Some(1),
            ..SearchQuery::new("tea")
        })
        .unwrap();
    assert_eq!(one.len(), 1);
    // With per_memory, several passages of one memory come back as separate hits, best
    // first, each with its own line.
    let many = mem
        .search(&SearchQuery {
            per_memory: Some(10),
            ..SearchQuery::new("tea")
        })
        .unwrap();
    let lines: Vec<(&str, usize)> = many.iter().map(|h| (h.id.as_str(), h.line_start)).collect();
    assert!(many.len() > 2, "{lines:?}");
    let mut distinct = lines.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        distinct.len(),
        lines.len(),
        "a passage came back twice: {lines:?}"
    );
}

#[test]
fn the_index_lives_under_dot_git_and_is_never_committed() {
    let (env, mem) = TestEnv::init_lib();
    mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    let index = env.path(".git/memdir/index");
    assert!(index.join("meta.json").is_file(), "{}", index.display());
    assert_eq!(env.git_status(), "");
    let tracked = env.git(&["log", "--all", "--name-only", "--format="]);
    assert!(
        tracked
            .lines()
            .all(|p| !p.contains("memdir/index") && !p.contains("meta.json")),
        "{tracked}"
    );
}

#[test]
fn the_index_keeps_only_the_files_its_commit_uses_and_lists_them() {
    let (env, mem) = TestEnv::init_lib();
    let dir = env.path(".git/memdir/index");
    let living = || -> std::collections::BTreeSet<String> {
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("meta.json")).unwrap()).unwrap();
        meta["segments"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["segment_id"].as_str().unwrap().replace('-', ""))
            .collect()
    };
    // Single writes until one ends with tantivy merging segments, which leaves the files of
    // the merged ones to delete and to drop from its list of files.
    let mut merged = false;
    for i in 0..50 {
        let before = living().len();
        mem.remember(NewMemory::new(format!("Port {i} on staging.")), &prov())
            .unwrap();
        if living().len() < before {
            merged = true;
            break;
        }
    }
    assert!(merged, "no write merged segments");
    // Checked with the handle still open: the write itself leaves the list on disk exact.
    let living = living();
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| !name.starts_with('.'))
        .collect();
    for name in on_disk.iter().filter(|n| *n != "meta.json") {
        let segment = name.split('.').next().unwrap();
        assert!(
            living.contains(segment),
            "{name} is left over; living: {living:?}"
        );
    }
    // tantivy's list of the files it created, which it deletes from, is on disk and exact.
    let managed: std::collections::BTreeSet<String> =
        serde_json::from_slice(&std::fs::read(dir.join(".managed.json")).unwrap()).unwrap();
    assert_eq!(managed, on_disk);

    // The next writer, another process, starts from that list.
    drop(mem);
    env.run(&["add", "Port 8443 on production."]).success();
    assert_eq!(cli_ids(&env, "production").len(), 1);
}

#[test]
fn reindex_rebuilds_the_index_from_the_files() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443 on staging."), &prov())
        .unwrap();
    let mut calls = Vec::new();
    let refresh = mem
        .reindex(&mut |done, total| calls.push((done, total)))
        .unwrap();
    assert!(refresh.rebuilt);
    assert_eq!(refresh.reindexed, 1);
    assert!(refresh.problems.is_empty());
    assert_eq!(calls.last(), Some(&(1, 1)));
    assert_eq!(ids(&search(&mem, "staging")), [w.id.as_str()]);
    let status = mem.status().unwrap();
    assert!(status.index_fresh);
    assert_eq!((status.memories, status.passages), (1, 1));
    drop(mem);

    let out = env.run(&["reindex"]).success();
    assert_eq!(out.stdout, "Indexed 1 file(s).\n");
    assert_eq!(cli_ids(&env, "staging"), [w.id.as_str()]);
}

#[test]
fn a_deleted_index_is_rebuilt_on_open() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443 on staging."), &prov())
        .unwrap();
    drop(mem);
    std::fs::remove_dir_all(env.path(".git/memdir/index")).unwrap();

    let mem = env.open();
    assert_eq!(ids(&search(&mem, "staging")), [w.id.as_str()]);
    assert!(mem.status().unwrap().index_fresh);
}

#[test]
fn a_corrupt_index_is_rebuilt_on_open() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443 on staging."), &prov())
        .unwrap();
    drop(mem);
    std::fs::write(env.path(".git/memdir/index/meta.json"), "not json").unwrap();

    let mem = env.open();
    assert_eq!(ids(&search(&mem, "staging")), [w.id.as_str()]);
}

#[test]
fn a_plain_git_commit_is_picked_up() {
    let (env, mem) = TestEnv::init_lib();
    env.write("note/office.md", MEMORY_FILE);
    env.git(&["add", "note/office.md"]);
    env.git(&["commit", "-q", "-m", "office hours"]);

    // An open handle sees the new commit at its next search, a new one on open.
    assert_eq!(ids(&search(&mem, "office")), ["hand-written-1a2b3c"]);
    assert_eq!(ids(&search(&env.open(), "office")), ["hand-written-1a2b3c"]);
    assert_eq!(cli_ids(&env, "office"), ["hand-written-1a2b3c"]);
    assert_eq!(
        mem.get("hand-written-1a2b3c").unwrap().path,
        "note/office.md"
    );
}

#[test]
fn a_hand_edit_is_found_by_the_very_next_cli_search() {
    let env = TestEnv::init();
    let id = env.add("The office opens at eight.", &["--title", "Office hours"])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = env.run(&["show", &id, "--json"]).success().json()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(cli_ids(&env, "eight"), [id.as_str()]);

    let text = env.read(&path).replace("at eight.", "at nine.");
    env.write(&path, text);
    assert_eq!(cli_ids(&env, "nine"), [id.as_str()]);
    assert!(cli_ids(&env, "eight").is_empty());

    // A new file dropped in by hand, never committed, is found too.
    env.write("note/office.md", MEMORY_FILE);
    let out = env.run(&["search", "office", "--json"]).success().json();
    assert!(
        out.as_array()
            .unwrap()
            .iter()
            .any(|h| h["id"] == "hand-written-1a2b3c"),
        "{out:#}"
    );
}

#[test]
fn a_hand_edit_is_seen_by_an_open_handle_after_refresh() {
    let (env, mem) = TestEnv::init_lib();
    let mut written = Vec::new();
    for i in 0..5 {
        written.push(
            mem.remember(
                NewMemory::new(format!("Memory number {i} about llamas."))
                    .title(format!("Memory {i}")),
                &prov(),
            )
            .unwrap(),
        );
    }
    let path = &written[2].path;
    env.write(
        path,
        env.read(path).replace("about llamas.", "about alpacas."),
    );

    let refresh = mem.refresh().unwrap();
    // Catch-up reads what changed, not the corpus.
    assert_eq!(refresh.reindexed, 1);
    assert!(!refresh.rebuilt);
    assert_eq!(ids(&search(&mem, "alpacas")), [written[2].id.as_str()]);
    assert_eq!(search(&mem, "llamas").len(), 4);
    let status = mem.status().unwrap();
    assert!(status.index_fresh);
    assert_eq!(status.uncommitted, [path.as_str()]);
    // Nothing more to do the second time.
    assert_eq!(mem.refresh().unwrap().reindexed, 0);
}

#[test]
fn a_hand_deleted_memory_is_no_longer_found() {
    let env = TestEnv::init();
    let added = env.add("The office opens at eight.", &[]);
    let path = added["path"].as_str().unwrap();
    assert_eq!(cli_ids(&env, "office").len(), 1);

    std::fs::remove_file(env.path(path)).unwrap();
    assert!(cli_ids(&env, "office").is_empty());
    let out = env.run(&["list", "--json"]).success().json();
    assert_eq!(out, serde_json::json!([]));
    // Committing the deletion with git keeps it gone.
    env.git(&["commit", "-q", "-a", "-m", "drop office"]);
    assert!(cli_ids(&env, "office").is_empty());
}

#[test]
fn a_memory_deleted_by_hand_right_after_memdir_wrote_it_is_no_longer_found() {
    // No scan ran between the write and the deletion: the writer itself must have told the
    // stat cache about the file, or the deletion would go unnoticed.
    let env = TestEnv::init();
    let first = env.add("The office opens at eight.", &[]);
    let second = env.add("The office closes at six.", &[]);
    for added in [&first, &second] {
        std::fs::remove_file(env.path(added["path"].as_str().unwrap())).unwrap();
    }
    assert!(cli_ids(&env, "office").is_empty());
}

#[test]
fn a_touched_but_unchanged_file_is_not_read_again() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Walruses have tusks."), &prov())
        .unwrap();
    mem.refresh().unwrap();
    let text = env.read(&w.path);
    env.write(&w.path, text);
    let refresh = mem.refresh().unwrap();
    assert_eq!(refresh.reindexed, 0, "{refresh:?}");
    assert!(mem.status().unwrap().uncommitted.is_empty());
}

#[test]
fn git_reset_hard_moves_the_index_back_in_time() {
    let (env, mem) = TestEnv::init_lib();
    let a = mem
        .remember(NewMemory::new("Walruses live in the Arctic."), &prov())
        .unwrap();
    let b = mem
        .remember(NewMemory::new("Walruses have tusks."), &prov())
        .unwrap();
    assert_eq!(search(&mem, "walruses").len(), 2);

    env.git(&["reset", "-q", "--hard", "HEAD~1"]);
    assert_eq!(ids(&search(&mem, "walruses")), [a.id.as_str()]);
    assert_eq!(cli_ids(&env, "walruses"), [a.id.as_str()]);
    assert!(matches!(
        mem.get(&b.id),
        Err(memdir::Error::NotFound { .. })
    ));
    let mem = env.open();
    assert_eq!(ids(&search(&mem, "tusks")), Vec::<&str>::new());
}

#[test]
fn history_rewritten_away_from_the_indexed_commit_is_rebuilt() {
    let (env, mem) = TestEnv::init_lib();
    let a = mem
        .remember(NewMemory::new("Walruses live in the Arctic."), &prov())
        .unwrap();
    drop(mem);
    // Amend the commit the index recorded, then drop its reflog so it is really gone.
    env.git(&["commit", "-q", "--amend", "-m", "rewritten"]);
    env.git(&["reflog", "expire", "--expire=now", "--all"]);
    env.git(&["gc", "-q", "--prune=now"]);
    let mem = env.open();
    assert_eq!(ids(&search(&mem, "walruses")), [a.id.as_str()]);
    assert!(mem.status().unwrap().index_fresh);
}

#[test]
fn queries_with_query_syntax_characters_do_not_fail() {
    let (_env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443."),
            &prov(),
        )
        .unwrap();
    for q in [
        "\"staging",
        "staging:",
        "title:staging",
        "(staging",
        "staging AND",
        "*",
        "+-",
        "",
        "   ",
    ] {
        let hits = mem.search(&SearchQuery::new(q));
        assert!(hits.is_ok(), "{q:?}: {hits:?}");
    }
    for q in [
        "what port does staging use?",
        "API (staging)",
        "staging-api",
        "8443!",
    ] {
        assert_eq!(ids(&search(&mem, q)), [w.id.as_str()], "{q:?}");
    }
}

#[test]
fn a_colon_in_plain_words_does_not_hide_the_memory() {
    // `memdir search` takes "plain words"; text copied from a note often has a colon.
    let (_env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443."),
            &prov(),
        )
        .unwrap();
    for q in ["port: 8443", "staging: which port", "note:staging"] {
        assert_eq!(ids(&search(&mem, q)), [w.id.as_str()], "{q:?}");
    }
}

#[test]
fn a_memory_moved_by_hand_is_found_at_its_new_path() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Walruses have tusks.").kind("fact"), &prov())
        .unwrap();
    env.git(&["mv", &w.path, "note/walrus.md"]);
    assert_eq!(mem.get(&w.id).unwrap().path, "note/walrus.md");
    let hits = search(&mem, "tusks");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].path, "note/walrus.md");
    env.git(&["commit", "-q", "-m", "move"]);
    let hits = search(&env.open(), "tusks");
    assert_eq!((hits.len(), hits[0].path.as_str()), (1, "note/walrus.md"));
}

#[test]
fn list_sees_what_another_handle_committed() {
    let (env, mem) = TestEnv::init_lib();
    let other = env.open();
    assert!(other.list(&Filter::default()).unwrap().is_empty());
    let w = mem
        .remember(NewMemory::new("Walruses have tusks."), &prov())
        .unwrap();
    let listed = other.list(&Filter::default()).unwrap();
    assert_eq!(
        listed.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        [w.id.as_str()]
    );
}

#[test]
fn a_reply_is_found_through_the_question_next_to_it() {
    // Neighbouring passages (two on each side) are indexed as the passage's context, at a
    // lower weight: an answer that does not repeat the question's words is still found.
    let (_env, mem) = TestEnv::init_lib();
    let body = "- **Ann:** Have you finished the lake painting?\n\
                - **Bo:** Yes! It took me three weekends.\n\
                - **Ann:** What are you cooking tonight?\n\
                - **Bo:** Soup, probably.\n\
                - **Ann:** Nice.\n\
                - **Bo:** The weather is odd.\n";
    mem.remember(NewMemory::new(body).title("Chat"), &prov())
        .unwrap();
    let hits = mem
        .search(&SearchQuery {
            per_memory: Some(10),
            ..SearchQuery::new("lake painting")
        })
        .unwrap();
    let texts: Vec<&str> = hits.iter().map(|h| h.passage.as_str()).collect();
    assert_eq!(texts[0], "- **Ann:** Have you finished the lake painting?");
    assert!(
        texts.contains(&"- **Bo:** Yes! It took me three weekends."),
        "{texts:?}"
    );
    // Three passages away, the weather is not about the painting.
    assert!(
        !texts.contains(&"- **Bo:** The weather is odd."),
        "{texts:?}"
    );
}
