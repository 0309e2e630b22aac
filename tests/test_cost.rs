//! What re-injecting context costs: `memdir cost` over the injection log, the pinned
//! memories' tokens recorded in each log line, and `memdir status`'s warning about them.

use memdir::context::ContextRequest;
use memdir::context::log::{Injection, read};
use memdir::cost::CostRequest;
use memdir::{Memdir, NewMemory};

use crate::common::{TestEnv, prov};

/// A log of six requests over three days, written as memdir writes it, with a line of an older
/// memdir (no pinned fields), a line torn by a crash and a blank line.
pub const LOG: &str = r#"{"time":"2026-11-01T09:00:00Z","query":"a","prompt":"p1","tokens":400,"budget":2000,"items":["MEMORY.md@aa","x-111111@bb"],"pinned":1,"pinned_tokens":100}
{"time":"2026-11-01T17:30:00Z","query":"b","prompt":"p2","tokens":600,"budget":2000,"items":["MEMORY.md@aa","x-111111@bb"],"pinned":1,"pinned_tokens":100}
{"time":"2026-11-02T08:00:00Z","query":"c","prompt":"p3","tokens":500,"budget":2000,"items":[]}

{"time":"2026-11-03T10:00:00Z","query":"d","prompt":"p4","tokens":1000,"budget":2000,"items":["MEMORY.md@aa","pin-222222@cc"],"pinned":2,"pinned_tokens":400}
{"time":"2026-11-03T11:00:00Z","query":"e","prompt":"p5","tokens":800,"budget":2000,"items":["MEMORY.md@aa","pin-222222@cc"],"pinned":2,"pinned_tokens":400}
{"time":"2026-11-03T12:00:00Z","query":"f","prompt":"p6","tokens":1200,"budget":2000,"items":["MEMORY.md@aa","pin-222222@cc"],"pinned":2,"pinned_tokens":400}
{"time":"2026-11-03T12:00:01Z","query":"g","pro"#;

/// Every figure of a log with known contents: 6 requests, 4,500 tokens; per request the
/// median is 600 (the 3rd of 6 by size) and the p95 1,200 (the 6th); the pinned memories took
/// 1,400 of the 4,000 tokens of the requests that recorded them (35%); the pinned set grew
/// from 100 tokens (1 memory) to 400 (2); at $2 a million tokens, $0.009.
#[test]
fn cost_reports_exact_figures_for_a_known_log() {
    let env = TestEnv::init();
    env.write(".git/memdir/injections.jsonl", LOG);
    let out = env
        .run(&["cost", "--json", "--price-per-mtok", "2"])
        .success();
    insta::assert_snapshot!(out, @r#"
    {
      "log": "$TEST_ENV/repo/.git/memdir/injections.jsonl",
      "requests": 6,
      "tokens_total": 4500,
      "tokens_per_request": {
        "median": 600,
        "p95": 1200
      },
      "pinned_share": 0.35,
      "pinned_tokens_total": 1400,
      "pinned_unrecorded": 1,
      "by_day": [
        {
          "day": "2026-11-01",
          "requests": 2,
          "tokens_total": 1000,
          "tokens_per_request": {
            "median": 400,
            "p95": 600
          },
          "pinned_share": 0.2,
          "pinned_tokens": 100,
          "pinned_items": 1
        },
        {
          "day": "2026-11-02",
          "requests": 1,
          "tokens_total": 500,
          "tokens_per_request": {
            "median": 500,
            "p95": 500
          },
          "pinned_share": null,
          "pinned_tokens": null,
          "pinned_items": null
        },
        {
          "day": "2026-11-03",
          "requests": 3,
          "tokens_total": 3000,
          "tokens_per_request": {
            "median": 1000,
            "p95": 1200
          },
          "pinned_share": 0.4,
          "pinned_tokens": 400,
          "pinned_items": 2
        }
      ],
      "price_per_mtok": 2.0,
      "usd": 0.009,
      "unreadable": [
        8
      ]
    }
    ------- stderr -------
    warning: 1 line of $TEST_ENV/repo/.git/memdir/injections.jsonl could not be read and is left out (line 8).
    "#);

    // The same as a table, from a date on.
    let out = env
        .run(&["cost", "--since", "2026-11-02", "--price-per-mtok", "2"])
        .success();
    insta::assert_snapshot!(out, @r"
    Requests:          4 since 2026-11-02T00:00:00Z
    Tokens injected:   3500 (per request: median 800, p95 1200)
    Pinned share:      40.0% (1 older request did not record it)
    Cost:              $0.0070 at $2 per million tokens

    day         requests     tokens    median       p95  pinned  pinned set
    2026-11-02         1        500       500       500       —  —
    2026-11-03         3       3000      1000      1200   40.0%  400 tokens, 2 memories
    ------- stderr -------
    warning: 1 line of $TEST_ENV/repo/.git/memdir/injections.jsonl could not be read and is left out (line 8).
    ");
}

/// No log yet: no requests, and how to start logging. A price that is not one is refused.
#[test]
fn cost_without_a_log_says_how_to_start_one_and_refuses_a_bad_price() {
    let env = TestEnv::init();
    insta::assert_snapshot!(env.run(&["cost"]).success(), @r"
    No injections logged.
    hint: log them with `memdir context --log` (or `memdir hook ... --log`), or set `log = true` under [context] in memory.toml.
    ");
    let json = env.run(&["cost", "--json"]).success().json();
    assert_eq!(json["requests"], 0);
    assert_eq!(
        json["tokens_per_request"],
        serde_json::json!({"median": 0, "p95": 0})
    );
    assert_eq!(json["pinned_share"], serde_json::Value::Null);
    assert_eq!(json["by_day"], serde_json::json!([]));
    let bad = env.run(&["cost", "--price-per-mtok=-1"]);
    assert_eq!(bad.status, 2, "{bad}");
    assert!(bad.stderr.contains("is not a price"), "{bad}");
    let bad = env.run(&["cost", "--since", "someday"]);
    assert_eq!(bad.status, 2, "{bad}");
    assert!(bad.stderr.contains("`someday` is not a time"), "{bad}");
}

/// A pinned memory and a memory found by search.
fn pinned_and_found() -> (TestEnv, Memdir) {
    let (env, mem) = TestEnv::init_lib();
    mem.remember(
        NewMemory::new("Answer in English, and cite every memory you use.").pinned(true),
        &prov(),
    )
    .unwrap();
    mem.remember(
        NewMemory::new("Backups run nightly at 02:00 UTC.").kind("fact"),
        &prov(),
    )
    .unwrap();
    (env, mem)
}

/// Each logged context records how many of its items are pinned and their blocks' tokens,
/// and `Memdir::cost` adds up exactly what the contexts said.
#[test]
fn each_logged_context_records_what_its_pinned_memories_took() {
    let (env, mem) = pinned_and_found();
    let request = ContextRequest {
        log: Some(true),
        ..ContextRequest::new("when do backups run", 500)
    };
    let first = mem.context(&request).unwrap();
    let second = mem
        .context(&ContextRequest {
            query: "backups".into(),
            ..request
        })
        .unwrap();
    let pinned: usize = first
        .items
        .iter()
        .filter(|i| i.reason == memdir::context::Reason::Pinned)
        .map(|i| i.tokens)
        .sum();
    assert!(pinned > 0 && first.items.len() == 2, "{first:#?}");

    let log = read(&env.path(".git/memdir")).unwrap();
    let lines: Vec<&Injection> = log.entries.iter().map(|(_, e)| e).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].pinned, Some(1));
    assert_eq!(lines[0].pinned_tokens, Some(pinned));
    assert_eq!(lines[0].tokens, first.tokens);

    let cost = mem.cost(&CostRequest::default()).unwrap();
    assert_eq!(cost.requests, 2);
    assert_eq!(cost.tokens_total, (first.tokens + second.tokens) as u64);
    assert_eq!(cost.pinned_tokens_total, 2 * pinned as u64);
    assert_eq!(
        cost.pinned_share,
        Some(2.0 * pinned as f64 / (first.tokens + second.tokens) as f64)
    );
    assert_eq!(cost.by_day.len(), 1);
    assert_eq!(cost.by_day[0].pinned_items, Some(1));
    assert!(
        mem.cost(&CostRequest {
            price_per_mtok: Some(f64::NAN),
            ..CostRequest::default()
        })
        .is_err()
    );
}

/// `memdir status` says what the pinned memories take of `[context] budget`, and warns on
/// stderr once that is more than `[context] pinned_warn_share` of it.
#[test]
fn status_warns_when_pinned_memories_take_too_much_of_the_default_budget() {
    let (env, mem) = pinned_and_found();
    let load = mem.pinned_load().unwrap();
    let (tokens, budget) = (load.tokens, load.budget);
    assert_eq!(budget, 2000);
    assert!(!load.warn && load.warning().is_none());
    let quiet = env.run(&["status"]).success();
    assert!(quiet.stderr.is_empty(), "{quiet}");
    // The pinned memory's id is random, so its token count (about 50) varies a little: the
    // share is computed from it, as status computes it.
    let share = tokens as f64 / 2000.0 * 100.0;
    assert!((1.0..4.0).contains(&share), "{share}");
    assert!(
        quiet.stdout.contains(&format!(
            "Pinned:     {tokens} tokens in every context, {share:.0}% of the default budget of 2000"
        )),
        "{quiet}"
    );

    // A budget where the pinned memory takes more than a quarter.
    env.write(
        "memory.toml",
        format!(
            "[context]\nbudget = {}\npinned_warn_share = 0.25\n",
            tokens * 3
        ),
    );
    let warned = env.run(&["status", "--json"]).success();
    let json = warned.json();
    assert_eq!(json["pinned"]["tokens"], tokens);
    assert_eq!(json["pinned"]["budget"], tokens * 3);
    assert_eq!(json["pinned"]["warn"], true);
    let file = &load.files[0];
    assert_eq!(json["pinned"]["files"][0]["path"], file.path.as_str());
    assert_eq!(
        warned.stderr,
        format!(
            "warning: the pinned memories take {tokens} tokens, 33% of the default budget of {} \
             ([context] budget), more than [context] pinned_warn_share (25%); they go into every \
             context. Largest: {} ({} tokens). Unpin some (`pinned: false`) or shorten MEMORY.md; \
             `memdir cost` shows what they cost over time.\n",
            tokens * 3,
            file.path,
            file.tokens
        )
    );
}
