//! The git store: the template's first commit, one commit per write, trailers that plain git
//! parses, a clean working tree, batches, authors, and staged changes left alone.

use memdir::{NewMemory, Provenance, Update};

use crate::common::{TestEnv, author, prov};

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn init_lays_down_the_template_as_the_first_commit() {
    let (env, mem) = TestEnv::init_lib();
    assert_eq!(env.commit_count(), 1);
    let files = env.git(&["ls-tree", "-r", "--name-only", "HEAD"]);
    let files: Vec<&str> = files.lines().collect();
    for expected in [".gitattributes", "memory.toml", "MEMORY.md", "README.md"] {
        assert!(
            files.contains(&expected),
            "{expected} missing from {files:?}"
        );
    }
    for kind in &mem.config().memory.types {
        // git has no empty folders: each type folder holds a README.
        assert!(
            files.contains(&format!("{kind}/README.md").as_str()),
            "{kind}/ missing from {files:?}"
        );
        assert!(env.path(kind).is_dir());
    }
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["init"]);
    assert_eq!(env.git_status(), "");
    // The attributes are real git attributes.
    let attr = env.git(&["check-attr", "eol", "--", "fact/x.md"]);
    assert_eq!(attr.trim(), "fact/x.md: eol: lf");
}

#[test]
fn init_refuses_an_existing_repository() {
    let (env, _mem) = TestEnv::init_lib();
    let err = memdir::Memdir::init_as(&env.repo(), Some(&author())).unwrap_err();
    assert!(
        matches!(err, memdir::Error::AlreadyInitialized { .. }),
        "{err:?}"
    );
    assert_eq!(env.commit_count(), 1);
}

#[test]
fn every_write_is_exactly_one_commit_touching_only_its_file() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(
            NewMemory::new("Port 8443.")
                .title("Staging port")
                .kind("fact"),
            &prov(),
        )
        .unwrap();
    assert_eq!(env.commit_count(), 2);
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(w.commit.as_deref(), Some(env.head().as_str()));
    assert_eq!(env.git_status(), "");

    let u = mem
        .update(
            &w.id,
            Update {
                body: Some("Port 9443.".into()),
                ..Update::default()
            },
            &prov(),
        )
        .unwrap();
    assert_eq!(env.commit_count(), 3);
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(u.commit.as_deref(), Some(env.head().as_str()));
    assert_eq!(env.git_status(), "");

    let r = mem.forget(&w.id, Some("moved"), &prov()).unwrap();
    assert_eq!(env.commit_count(), 4);
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(r.commit.as_deref(), Some(env.head().as_str()));
    assert!(!env.path(&w.path).exists());
    assert_eq!(env.git_status(), "");
    // The memory stays in history.
    let old = env.git(&["show", &format!("HEAD~1:{}", w.path)]);
    assert!(old.contains("Port 9443."), "{old}");
}

/// With 3,000 entries or more in git's index, a commit builds its tree on a second thread
/// while this one writes the index. What it commits and stages is what a small repository
/// gets: an add, an update and a removal each commit exactly their file, git's index matches
/// HEAD (`git status` is clean, nothing staged), and `git fsck` finds nothing.
#[test]
fn writes_among_thousands_of_files_commit_and_stage_as_in_a_small_repository() {
    let (env, mem) = TestEnv::init_lib();
    for i in 0..3_100 {
        env.write(
            &format!("attachments/{:02}/{i}.txt", i % 50),
            format!("attachment {i}\n"),
        );
    }
    env.git(&["add", "attachments"]);
    env.git(&["commit", "-q", "-m", "attachments"]);
    let files = env.git(&["ls-files"]).lines().count();
    assert!(files > 3_100, "{files}");

    let w = mem
        .remember(
            NewMemory::new("Port 8443.")
                .title("Staging port")
                .kind("fact"),
            &prov(),
        )
        .unwrap();
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(w.commit.as_deref(), Some(env.head().as_str()));
    assert_eq!(env.git_status(), "");
    assert_eq!(env.git(&["ls-files"]).lines().count(), files + 1);

    let update = Update {
        body: Some("Port 9443.".into()),
        ..Update::default()
    };
    mem.update(&w.id, update, &prov()).unwrap();
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(env.git_status(), "");
    assert!(
        env.git(&["show", &format!("HEAD:{}", w.path)])
            .contains("Port 9443.")
    );

    mem.forget(&w.id, None, &prov()).unwrap();
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    assert_eq!(env.git_status(), "");
    assert_eq!(env.git(&["ls-files"]).lines().count(), files);
    let fsck = env.git_output(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(fsck.status, 0, "git fsck:\n{fsck}");
}

#[test]
fn an_update_that_changes_nothing_makes_no_commit() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443.").title("Staging port"), &prov())
        .unwrap();
    let same = Update {
        title: Some("Staging port".into()),
        ..Update::default()
    };
    let u = mem.update(&w.id, same, &prov()).unwrap();
    assert_eq!(u.commit, None);
    assert_eq!(env.commit_count(), 2);
}

#[test]
fn trailers_parse_with_git_interpret_trailers() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443.").title("Staging port"), &prov())
        .unwrap();
    let expected = |op: &str| {
        pairs(&[
            ("Memdir-Op", op),
            ("Memdir-Id", &w.id),
            ("Memdir-Session", "s-1"),
            ("Memdir-Agent", "tester"),
            ("Memdir-Step", "7"),
        ])
    };
    assert_eq!(env.trailers("HEAD"), expected("add"));
    let subject = env.git(&["log", "-1", "--format=%s"]);
    assert_eq!(subject.trim(), format!("add: Staging port ({})", w.id));

    let update = Update {
        add_tags: vec!["net".into()],
        ..Update::default()
    };
    mem.update(&w.id, update, &prov()).unwrap();
    assert_eq!(env.trailers("HEAD"), expected("update"));
    let subject = env.git(&["log", "-1", "--format=%s"]);
    assert_eq!(
        subject.trim(),
        format!("update: Staging port ({}): tags", w.id)
    );

    mem.forget(&w.id, Some("wrong port"), &prov()).unwrap();
    let mut rm = expected("rm");
    rm.push(("Memdir-Reason".into(), "wrong port".into()));
    assert_eq!(env.trailers("HEAD"), rm);
}

#[test]
fn unknown_provenance_leaves_its_trailers_out() {
    let (env, mem) = TestEnv::init_lib();
    let p = Provenance {
        author: Some(author()),
        ..Provenance::default()
    };
    let w = mem.remember(NewMemory::new("Port 8443."), &p).unwrap();
    assert_eq!(
        env.trailers("HEAD"),
        pairs(&[("Memdir-Op", "add"), ("Memdir-Id", &w.id)])
    );
    // No `source:` block is written either.
    assert!(!env.read(&w.path).contains("source:"));
}

#[test]
fn trailer_values_stay_on_one_line() {
    let (env, mem) = TestEnv::init_lib();
    let p = Provenance {
        session: Some("line one\nMemdir-Op: forged".into()),
        ..prov()
    };
    mem.remember(NewMemory::new("Port 8443."), &p).unwrap();
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["add"]);
    assert_eq!(
        env.trailer("HEAD", "Memdir-Session"),
        ["line one Memdir-Op: forged"]
    );
}

#[test]
fn a_batch_is_one_commit_for_many_memories() {
    let (env, mem) = TestEnv::init_lib();
    let news = vec![
        NewMemory::new("Port 8443.")
            .title("Staging port")
            .kind("fact"),
        NewMemory::new("Dark mode.")
            .title("Theme")
            .kind("preference"),
        NewMemory::new("Standup at nine.")
            .title("Standup")
            .kind("event"),
    ];
    let written = mem.remember_batch(news, &prov()).unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!(env.commit_count(), 2);
    let head = env.head();
    assert!(
        written
            .iter()
            .all(|w| w.commit.as_deref() == Some(head.as_str()))
    );
    let mut changed = env.changed_files("HEAD");
    changed.sort();
    let mut paths: Vec<String> = written.iter().map(|w| w.path.clone()).collect();
    paths.sort();
    assert_eq!(changed, paths);
    let ids: Vec<String> = written.iter().map(|w| w.id.clone()).collect();
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), ids);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["add"]);
    assert_eq!(env.git_status(), "");
    // Every memory of the batch is searchable at once.
    for w in &written {
        assert_eq!(mem.get(&w.id).unwrap().path, w.path);
    }
}

#[test]
fn a_batch_with_one_invalid_memory_writes_nothing() {
    let (env, mem) = TestEnv::init_lib();
    let news = vec![
        NewMemory::new("Port 8443.")
            .title("Staging port")
            .kind("fact"),
        NewMemory::new("Bad type.").kind("no-such-type"),
    ];
    assert!(mem.remember_batch(news, &prov()).is_err());
    assert_eq!(env.commit_count(), 1);
    assert_eq!(env.git_status(), "");
}

#[test]
fn the_author_is_the_explicit_one_when_given() {
    let (env, mem) = TestEnv::init_lib();
    let p = Provenance {
        author: Some(memdir::Author {
            name: "Agent Smith".into(),
            email: "smith@agents.example".into(),
        }),
        ..Provenance::default()
    };
    mem.remember(NewMemory::new("Likes green tea."), &p)
        .unwrap();
    assert_eq!(
        env.git(&["log", "-1", "--format=%an <%ae>|%cn <%ce>"])
            .trim(),
        "Agent Smith <smith@agents.example>|Agent Smith <smith@agents.example>"
    );
}

#[test]
fn the_cli_author_comes_from_git_config_or_the_flag() {
    let env = TestEnv::init();
    env.add("Likes green tea.", &[]);
    assert_eq!(
        env.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Test User <test@example.com>"
    );
    env.add(
        "Likes black tea.",
        &["--author", "Agent Smith <smith@agents.example>"],
    );
    assert_eq!(
        env.git(&["log", "-1", "--format=%an <%ae>"]).trim(),
        "Agent Smith <smith@agents.example>"
    );
}

#[test]
fn a_write_does_not_sweep_unrelated_staged_changes_into_its_commit() {
    let (env, mem) = TestEnv::init_lib();
    env.write("scratch.txt", "work in progress\n");
    env.write("MEMORY.md", "# Overview\n\nEdited and staged by hand.\n");
    env.git(&["add", "scratch.txt", "MEMORY.md"]);

    let w = mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    assert_eq!(env.changed_files("HEAD"), [w.path.as_str()]);
    // The staged changes are still staged, untouched.
    let staged = env.git(&["diff", "--cached", "--name-only"]);
    assert_eq!(
        staged.lines().collect::<Vec<_>>(),
        ["MEMORY.md", "scratch.txt"]
    );
    assert_eq!(
        env.read("MEMORY.md"),
        "# Overview\n\nEdited and staged by hand.\n"
    );
    assert!(
        !env.git(&["show", "HEAD:MEMORY.md"])
            .contains("Edited and staged")
    );
}

#[test]
fn writes_leave_no_temp_files_behind() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(NewMemory::new("Port 8443.").kind("fact"), &prov())
        .unwrap();
    mem.update(
        &w.id,
        Update {
            body: Some("Port 9443.".into()),
            ..Update::default()
        },
        &prov(),
    )
    .unwrap();
    let leftovers: Vec<String> = std::fs::read_dir(env.path("fact"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(env.git(&["status", "--porcelain", "--ignored"]), "");
}

#[test]
fn a_write_leaves_other_hand_edits_uncommitted_and_searchable() {
    let (env, mem) = TestEnv::init_lib();
    let a = mem
        .remember(
            NewMemory::new("The office opens at eight.").title("Office hours"),
            &prov(),
        )
        .unwrap();
    env.write(&a.path, env.read(&a.path).replace("at eight.", "at nine."));

    let b = mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    assert_eq!(env.changed_files("HEAD"), [b.path.as_str()]);
    assert_eq!(env.git_status(), format!(" M {}\n", a.path));
    mem.refresh().unwrap();
    let hits = mem.search(&memdir::SearchQuery::new("nine")).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, a.id);
}

#[test]
fn init_reuses_an_existing_git_repository() {
    let env = TestEnv::new();
    std::fs::create_dir_all(env.repo()).unwrap();
    env.git(&["init", "-q", "-b", "trunk"]);
    env.write("notes.txt", "older history\n");
    env.git(&["add", "notes.txt"]);
    env.git(&["commit", "-q", "-m", "before memdir"]);

    env.run(&["init", "."]).success();
    assert_eq!(env.commit_count(), 2);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["init"]);
    assert_eq!(
        env.git(&["log", "-1", "--format=%s", "HEAD~1"]).trim(),
        "before memdir"
    );
    assert_eq!(env.git(&["branch", "--show-current"]).trim(), "trunk");
    assert_eq!(env.read("notes.txt"), "older history\n");
    assert_eq!(env.git_status(), "");
    env.add("Port 8443.", &[]);
    assert_eq!(env.commit_count(), 3);
}

#[test]
fn an_update_can_replace_the_whole_tag_list() {
    let (_env, mem) = TestEnv::init_lib();
    let w = mem
        .remember(
            NewMemory::new("Port 8443.").tag("api").tag("staging"),
            &prov(),
        )
        .unwrap();
    let tags = |u: Update| {
        mem.update(&w.id, u, &prov())
            .map(|_| mem.get(&w.id).unwrap().front.tags)
    };
    // The new list replaces the old one, in its order, without duplicates; then removals
    // and additions apply to it.
    let replaced = tags(Update {
        tags: Some(vec!["ops".into(), " infra ".into(), "ops".into()]),
        ..Update::default()
    });
    assert_eq!(replaced.unwrap(), ["ops", "infra"]);
    let both = tags(Update {
        tags: Some(vec!["a".into(), "b".into()]),
        remove_tags: vec!["a".into()],
        add_tags: vec!["c".into()],
        ..Update::default()
    });
    assert_eq!(both.unwrap(), ["b", "c"]);
    let bad = tags(Update {
        tags: Some(vec!["two\nlines".into()]),
        ..Update::default()
    });
    assert_eq!(
        bad.unwrap_err().to_string(),
        "invalid tag \"two\\nlines\": a tag is one non-empty line"
    );
    // An empty list clears the tags.
    let cleared = tags(Update {
        tags: Some(Vec::new()),
        ..Update::default()
    });
    assert_eq!(cleared.unwrap(), Vec::<String>::new());
}

/// `git count-objects -v` as numbers: `count` (loose objects), `packs`, `in-pack`.
fn object_counts(env: &TestEnv) -> std::collections::BTreeMap<String, u64> {
    env.git(&["count-objects", "-v"])
        .lines()
        .filter_map(|l| l.split_once(": "))
        .filter_map(|(k, v)| Some((k.to_owned(), v.trim().parse().ok()?)))
        .collect()
}

/// Stores two loose objects in `objects/17` (the first blobs whose ids start with 17), the
/// folder git estimates the loose objects from: over `gc.auto = 256` (more than one there),
/// under the default of 6,700. Packing is set to run in the foreground, so that it is done
/// when the write that started it returns.
fn two_loose_objects_where_git_counts(env: &TestEnv) {
    let repo = git2::Repository::open(env.repo()).unwrap();
    let mut stored = 0;
    for n in 0.. {
        let data = format!("padding {n}");
        let id = git2::Oid::hash_object(git2::ObjectType::Blob, data.as_bytes()).unwrap();
        if id.to_string().starts_with("17") {
            repo.blob(data.as_bytes()).unwrap();
            stored += 1;
            if stored == 2 {
                break;
            }
        }
    }
    env.git(&["config", "gc.autoDetach", "false"]);
}

#[test]
fn loose_objects_are_packed_once_there_are_more_than_gc_auto_allows() {
    let (env, mem) = TestEnv::init_lib();
    two_loose_objects_where_git_counts(&env);
    mem.remember(NewMemory::new("Under the default limit."), &prov())
        .unwrap();
    let under = object_counts(&env);
    assert_eq!(
        under["packs"], 0,
        "nothing is packed under gc.auto: {under:?}"
    );

    env.git(&["config", "gc.auto", "256"]);
    // `memdir status` says so before the write.
    assert!(mem.status().unwrap().git_objects.packing_due);
    let written = mem
        .remember(NewMemory::new("Past the limit."), &prov())
        .unwrap();
    let past = object_counts(&env);
    assert!(past["packs"] >= 1, "the objects are packed: {past:?}");
    assert!(
        past["count"] < under["count"],
        "fewer objects are loose: {under:?} then {past:?}"
    );
    // Nothing was lost in the move, and the write that came after it is whole.
    env.git(&["fsck", "--strict"]);
    assert_eq!(mem.get(&written.id).unwrap().body.trim(), "Past the limit.");
    assert_eq!(env.git_status(), "");
}

#[test]
fn gc_auto_zero_turns_packing_off() {
    let (env, mem) = TestEnv::init_lib();
    two_loose_objects_where_git_counts(&env);
    env.git(&["config", "gc.auto", "0"]);
    mem.remember(NewMemory::new("Never packed."), &prov())
        .unwrap();
    assert_eq!(object_counts(&env)["packs"], 0);
}

/// A tracing layer that deletes `path` when an event's message starts with `prefix`: what
/// another git process does when it lets go of a lock, at the moment memdir says it waits.
struct ReleaseOnEvent {
    path: std::path::PathBuf,
    prefix: &'static str,
    released: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for ReleaseOnEvent {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0.starts_with(self.prefix) && std::fs::remove_file(&self.path).is_ok() {
            self.released
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
}

#[test]
fn a_write_waits_while_another_git_process_holds_the_branch_locked() {
    use tracing_subscriber::layer::SubscriberExt as _;
    let (env, mem) = TestEnv::init_lib();
    // As `git gc` packing refs or a `git commit` does, for a moment.
    let lock = env.repo().join(".git/refs/heads/main.lock");
    std::fs::write(&lock, "").unwrap();
    let released = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other_git = ReleaseOnEvent {
        path: lock.clone(),
        prefix: "a ref is locked by another git process",
        released: released.clone(),
    };
    let subscriber = tracing_subscriber::registry().with(other_git);
    let written = tracing::subscriber::with_default(subscriber, || {
        mem.remember(NewMemory::new("Written once the lock was let go."), &prov())
    })
    .unwrap();
    assert!(
        released.load(std::sync::atomic::Ordering::SeqCst),
        "the write found the branch locked and waited"
    );
    assert_eq!(env.trailer("HEAD", "Memdir-Id"), vec![written.id.clone()]);
    assert_eq!(env.git_status(), "");
}

#[test]
fn a_branch_locked_for_good_fails_the_write_saying_what_to_do_and_keeps_the_file() {
    let env = TestEnv::init();
    let head = env.head();
    std::fs::write(env.repo().join(".git/refs/heads/main.lock"), "").unwrap();
    let out = env
        .run(&["add", "Kept through a stuck lock.", "--title", "Stuck"])
        .code(3);
    assert!(
        out.stderr.contains("stayed locked by another git process"),
        "{out}"
    );
    assert!(out.stderr.contains("delete the stale .lock file"), "{out}");
    assert_eq!(env.head(), head, "nothing was committed");
    // The text is on disk, uncommitted; once the lock is gone, `memdir commit` records it.
    std::fs::remove_file(env.repo().join(".git/refs/heads/main.lock")).unwrap();
    let status = env.git_status();
    assert_eq!(
        status.lines().count(),
        1,
        "one file, uncommitted:\n{status}"
    );
    let kept = &status.trim_end()[3..];
    assert!(
        env.read(kept).contains("Kept through a stuck lock."),
        "{status}"
    );
    env.run(&["commit", "-m", "after the stuck lock"]).success();
    assert_eq!(env.git_status(), "");
}
