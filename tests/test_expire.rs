//! Expiry (`expires`, `[memory.ttl]`, pinned), `gc`, and supersession. "Now" is passed in,
//! so nothing depends on the clock.

use memdir::policy::Facts;
use memdir::{Filter, HeldOut, Memdir, MemoryId, NewMemory, SearchQuery, Timestamp};

use crate::common::{TestEnv, author, prov};

fn at(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap()
}

fn ids_at(mem: &Memdir, text: &str, now: Timestamp) -> Vec<String> {
    let q = SearchQuery {
        filter: Filter {
            now: Some(now),
            ..Filter::default()
        },
        ..SearchQuery::new(text)
    };
    let mut ids: Vec<String> = mem.search(&q).unwrap().into_iter().map(|h| h.id).collect();
    ids.sort();
    ids
}

/// A repository whose events live 180 days and sessions 24 hours.
fn with_ttls() -> (TestEnv, Memdir) {
    let env = TestEnv::new();
    Memdir::init_as(&env.repo(), Some(&author())).unwrap();
    let config = env.read("memory.toml").replace(
        "[memory.ttl]\n",
        "[memory.ttl]\nevent = \"180d\"\nfact = \"24h\"\n",
    );
    env.write("memory.toml", config);
    env.git(&["commit", "-qam", "ttl"]);
    let mem = env.open();
    (env, mem)
}

#[test]
fn a_memory_drops_out_of_search_the_moment_it_expires() {
    let (_env, mem) = TestEnv::init_lib();
    let mut new = NewMemory::new("The office wifi is down this week.");
    new.expires = Some(at("2026-06-01T12:00:00Z"));
    let w = mem.remember(new, &prov()).unwrap();
    assert_eq!(
        ids_at(&mem, "office wifi", at("2026-06-01T11:59:59Z")),
        vec![w.id.clone()]
    );
    assert!(ids_at(&mem, "office wifi", at("2026-06-01T12:00:00Z")).is_empty());
    // Still in the repository, and listed as expired.
    assert!(mem.get(&w.id).is_ok());
    let expired = mem.expired(at("2026-06-02")).unwrap();
    assert_eq!(expired[0].id, w.id);
    assert!(mem.expired(at("2026-05-01")).unwrap().is_empty());
}

#[test]
fn types_expire_by_their_default_lifetime_and_pinned_memories_never() {
    let (_env, mem) = with_ttls();
    let created = at("2026-01-01T00:00:00Z");
    let add = |text: &str, kind: &str, pinned: bool| {
        mem.remember(
            NewMemory::new(text)
                .kind(kind)
                .created(created)
                .pinned(pinned),
            &prov(),
        )
        .unwrap()
        .id
    };
    let event = add("Team offsite in Lisbon.", "event", false);
    let fact = add("Lisbon build server is slow today.", "fact", false);
    let pinned = add("Lisbon office address is on the wiki.", "fact", true);
    let pref = add("Alice likes Lisbon.", "preference", false);
    let mut own = NewMemory::new("Lisbon trip is booked.")
        .kind("event")
        .created(created);
    own.expires = Some(at("2030-01-01"));
    let own = mem.remember(own, &prov()).unwrap().id;

    let mut all = vec![
        event.clone(),
        fact.clone(),
        pinned.clone(),
        pref.clone(),
        own.clone(),
    ];
    all.sort();
    assert_eq!(ids_at(&mem, "lisbon", at("2026-01-01T23:00:00Z")), all);
    // A day on, the fact is gone; half a year on, the event too. Its own expiry wins over
    // the type's; pinned memories and types without a lifetime stay.
    let mut day = vec![event.clone(), pinned.clone(), pref.clone(), own.clone()];
    day.sort();
    assert_eq!(ids_at(&mem, "lisbon", at("2026-01-02T00:00:00Z")), day);
    let mut later = vec![pinned.clone(), pref.clone(), own.clone()];
    later.sort();
    assert_eq!(ids_at(&mem, "lisbon", at("2026-07-01")), later);
    let m = mem.get(&fact).unwrap();
    let expires = mem.config().policy().expires_at(&Facts::of(&m));
    assert!(expires.is_some_and(|t| t <= at("2026-01-02")));
    assert_eq!(
        mem.held_out(&m, at("2026-01-02")).unwrap(),
        [HeldOut::Expired]
    );
}

#[test]
fn gc_removes_expired_memories_in_one_commit_recoverable_from_history() {
    let (env, mem) = with_ttls();
    let created = at("2026-01-01T00:00:00Z");
    let old = mem
        .remember(
            NewMemory::new("Old event.").kind("event").created(created),
            &prov(),
        )
        .unwrap();
    let old_fact = mem
        .remember(
            NewMemory::new("Old fact.").kind("fact").created(created),
            &prov(),
        )
        .unwrap();
    let keep = mem
        .remember(
            NewMemory::new("Kept note.").kind("note").created(created),
            &prov(),
        )
        .unwrap();
    let commits = env.commit_count();
    let removed = mem.gc(at("2027-01-01"), &prov()).unwrap();
    let mut removed: Vec<String> = removed.into_iter().map(|w| w.id).collect();
    removed.sort();
    let mut want = vec![old.id.clone(), old_fact.id.clone()];
    want.sort();
    assert_eq!(removed, want);
    assert_eq!(env.commit_count(), commits + 1);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["expire"]);
    let mut ids = env.trailer("HEAD", "Memdir-Id");
    ids.sort();
    assert_eq!(ids, want);
    assert!(!env.path(&old.path).exists());
    assert!(env.path(&keep.path).exists());
    assert!(
        env.git(&["show", &format!("HEAD^:{}", old.path)])
            .contains("Old event.")
    );
    assert_eq!(env.git_status(), "");
    // Nothing left to collect.
    assert!(mem.gc(at("2027-01-01"), &prov()).unwrap().is_empty());
}

#[test]
fn a_superseded_memory_drops_out_but_stays_and_why_shows_the_link() {
    let (env, mem) = TestEnv::init_lib();
    let old = mem
        .remember(NewMemory::new("Deploys go out on Tuesdays."), &prov())
        .unwrap();
    let new = mem
        .remember(
            NewMemory::new("Deploys go out on Thursdays since March.")
                .supersedes(MemoryId::parse(&old.id).unwrap()),
            &prov(),
        )
        .unwrap();
    assert!(
        env.read(&new.path)
            .contains(&format!("supersedes: [\"{}\"]", old.id))
    );
    let now = Timestamp::now();
    assert_eq!(ids_at(&mem, "deploys", now), vec![new.id.clone()]);
    assert!(mem.get(&old.id).is_ok());
    assert!(env.path(&old.path).exists());
    let asked = SearchQuery {
        filter: Filter {
            include_superseded: true,
            ..Filter::default()
        },
        ..SearchQuery::new("deploys")
    };
    assert_eq!(mem.search(&asked).unwrap().len(), 2);
    let why = mem.why(&old.id, now).unwrap();
    assert_eq!(why.held_out, [HeldOut::Superseded]);
    assert_eq!(why.superseded_by, vec![new.id.clone()]);
    assert_eq!(
        mem.why(&new.id, now).unwrap().supersedes,
        vec![old.id.clone()]
    );
    // An unknown id cannot be superseded.
    let err = mem
        .remember(
            NewMemory::new("x").supersedes(MemoryId::parse("no-such-id").unwrap()),
            &prov(),
        )
        .unwrap_err();
    assert!(matches!(err, memdir::Error::NotFound { .. }), "{err:?}");
}

#[test]
fn a_quarantined_memory_cannot_knock_another_out() {
    let (_env, mem) = TestEnv::init_lib();
    let good = mem
        .remember(
            NewMemory::new("Refunds need a manager's approval."),
            &prov(),
        )
        .unwrap();
    let bad = mem
        .remember(
            NewMemory::new("Refunds can be issued without approval from now on.")
                .supersedes(MemoryId::parse(&good.id).unwrap()),
            &prov(),
        )
        .unwrap();
    assert!(bad.quarantined);
    assert_eq!(
        ids_at(&mem, "refunds", Timestamp::now()),
        vec![good.id.clone()]
    );
    mem.approve(&bad.id, &prov()).unwrap();
    assert_eq!(ids_at(&mem, "refunds", Timestamp::now()), [bad.id]);
}

#[test]
fn the_cli_lists_expired_collects_them_and_explains() {
    let env = TestEnv::init();
    // `add` refuses a time already past (see test_cli); `update` retires a memory with one.
    let old = env.add("Parking closed.", &[])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.run(&["update", &old, "--expires", "2020-01-01"])
        .success();
    let new = env.add("Parking open again.", &["--supersedes", &old])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let listed = env.run(&["list", "--expired", "--json"]).success().json();
    assert_eq!(listed[0]["id"], old.as_str());
    let why = env.run(&["why", &old, "--json"]).success().json();
    assert_eq!(
        why["held_out"],
        serde_json::json!(["expired", "superseded"])
    );
    assert_eq!(why["superseded_by"], serde_json::json!([new]));
    env.run(&["gc"]).success();
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["expire"]);
    assert_eq!(
        env.run(&["list", "--expired", "--json"]).success().json(),
        serde_json::json!([])
    );
}

/// One memory of a random repository, as the property below writes it by hand.
#[derive(Debug, Clone)]
struct Spec {
    kind: &'static str,
    quarantined: bool,
    pinned: bool,
    /// Days after 2026-01-01.
    created: Option<u32>,
    expires: Option<u32>,
    /// Indexes of other memories of the repository it supersedes.
    supersedes: Vec<usize>,
}

fn spec() -> impl proptest::strategy::Strategy<Value = Spec> {
    use proptest::prelude::*;
    (
        prop::sample::select(vec!["event", "fact", "note"]),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.2),
        prop::option::of(0u32..200),
        prop::option::weighted(0.3, 0u32..200),
        prop::collection::vec(0usize..8, 0..2),
    )
        .prop_map(
            |(kind, quarantined, pinned, created, expires, supersedes)| Spec {
                kind,
                quarantined,
                pinned,
                created,
                expires,
                supersedes,
            },
        )
}

fn day(n: u32) -> String {
    (time::macros::date!(2026 - 01 - 01) + time::Duration::days(n.into())).to_string()
}

fn file_of(i: usize, s: &Spec, n: usize) -> String {
    let mut front = format!("id: m{i}\ntype: {}\n", s.kind);
    if let Some(d) = s.created {
        front += &format!("created: {}\n", day(d));
    }
    if let Some(d) = s.expires {
        front += &format!("expires: {}\n", day(d));
    }
    if s.pinned {
        front += "pinned: true\n";
    }
    let targets: Vec<String> = s
        .supersedes
        .iter()
        .filter(|t| **t % n != i)
        .map(|t| format!("m{}", t % n))
        .collect();
    if !targets.is_empty() {
        front += &format!("supersedes: [{}]\n", targets.join(", "));
    }
    if s.quarantined {
        front += "quarantine:\n  - rule: test.rule\n    why: random\n";
    }
    format!("---\n{front}---\nMemory number {i} about the garden.\n")
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 24,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(15),
        ..proptest::test_runner::Config::default()
    })]
    /// The held-out policy is one rule applied two ways: compiled into the index's queries
    /// (`list`, `search`) and evaluated on one memory (`held_out`, used for pinned memories,
    /// `why` and a memory's page). For random repositories, at random times, both agree.
    #[test]
    fn list_leaves_out_exactly_what_the_policy_holds_out(
        specs in proptest::collection::vec(spec(), 1..8),
        now in 0u32..260,
    ) {
        let env = TestEnv::new();
        Memdir::init_as(&env.repo(), Some(&author())).unwrap();
        let config = env.read("memory.toml").replace(
            "[memory.ttl]\n",
            "[memory.ttl]\nevent = \"30d\"\nfact = \"90d\"\n",
        );
        env.write("memory.toml", config);
        for (i, s) in specs.iter().enumerate() {
            env.write(&format!("note/m{i}.md"), file_of(i, s, specs.len()));
        }
        env.git(&["add", "-A"]);
        env.git(&["commit", "-qm", "random memories"]);
        let mem = env.open();
        let now = at(&day(now));
        let everything = Filter {
            include_quarantined: true,
            include_expired: true,
            include_superseded: true,
            now: Some(now),
            ..Filter::default()
        };
        let all = mem.list(&everything).unwrap();
        proptest::prop_assert_eq!(all.len(), specs.len());
        let mut reasons = std::collections::BTreeMap::new();
        for s in &all {
            let held = mem.held_out(&mem.get(&s.id).unwrap(), now).unwrap();
            reasons.insert(s.id.clone(), held);
        }
        let ids = |filter: &Filter| -> Vec<String> {
            mem.list(filter).unwrap().into_iter().map(|s| s.id).collect()
        };
        let expect = |keep: &dyn Fn(&[HeldOut]) -> bool| -> Vec<String> {
            let mut ids: Vec<String> = all
                .iter()
                .filter(|s| keep(&reasons[&s.id]))
                .map(|s| s.id.clone())
                .collect();
            ids.sort_by_key(|id| all.iter().position(|s| &s.id == id));
            ids
        };
        let by_default = Filter { now: Some(now), ..Filter::default() };
        proptest::prop_assert_eq!(ids(&by_default), expect(&|r| r.is_empty()));
        for reason in HeldOut::ALL {
            let only = Filter { only: Some(reason), now: Some(now), ..Filter::default() };
            proptest::prop_assert_eq!(ids(&only), expect(&|r| r.contains(&reason)), "only {:?}", reason);
        }
    }
}
