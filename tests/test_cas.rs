//! Compare-and-swap: `update --expect REV` only writes if the memory is still at REV.

use memdir::{NewMemory, Update};

use crate::common::{TestEnv, prov};

/// Adds a memory with the CLI and returns its id and revision (from `show --json`).
fn add(env: &TestEnv) -> (String, String) {
    let id = env.add("The staging API listens on port 8443.", &[])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (id.clone(), revision(env, &id))
}

fn revision(env: &TestEnv, id: &str) -> String {
    env.run(&["show", id, "--json"]).success().json()["revision"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn update_with_the_current_revision_succeeds() {
    let env = TestEnv::init();
    let (id, rev) = add(&env);
    assert_eq!(rev.len(), 40);
    let out = env
        .run(&[
            "update",
            &id,
            "--add-tag",
            "api",
            "--expect",
            &rev,
            "--json",
        ])
        .success()
        .json();
    let new_rev = revision(&env, &id);
    assert_eq!(out["revision"], new_rev.as_str());
    assert_ne!(new_rev, rev);
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["update"]);
}

#[test]
fn update_with_a_seven_digit_prefix_succeeds() {
    let env = TestEnv::init();
    let (id, rev) = add(&env);
    let out = env
        .run(&[
            "update",
            &id,
            "--title",
            "Staging port",
            "--expect",
            &rev[..7],
        ])
        .success();
    let new_rev = revision(&env, &id);
    assert_eq!(
        out.stdout,
        format!("Updated {id} (revision {}).\n", &new_rev[..7])
    );
}

#[test]
fn update_with_a_stale_revision_exits_3_and_names_both_revisions() {
    let env = TestEnv::init();
    let (id, stale) = add(&env);
    env.run(&["update", &id, "--body", "Port 9443 since the move."])
        .success();
    let current = revision(&env, &id);
    let head = env.head();

    let out = env
        .run(&[
            "update",
            &id,
            "--title",
            "Staging port",
            "--expect",
            &stale[..7],
        ])
        .code(3);
    assert!(out.stderr.contains(&stale[..7]), "{out}");
    assert!(out.stderr.contains(&current), "{out}");
    assert!(out.stderr.contains(&format!("memdir show {id}")), "{out}");
    assert_eq!(out.stdout, "");
    assert_eq!(env.head(), head);
    assert_eq!(revision(&env, &id), current);
}

#[test]
fn a_hand_edit_makes_an_earlier_revision_stale() {
    let env = TestEnv::init();
    let (id, rev) = add(&env);
    let path = env.run(&["show", &id, "--json"]).success().json()["path"]
        .as_str()
        .unwrap()
        .to_owned();
    env.write(&path, env.read(&path).replace("port 8443.", "port 9443."));
    env.run(&["update", &id, "--add-tag", "x", "--expect", &rev])
        .code(3);
    assert!(env.read(&path).contains("9443"));
    assert!(!env.read(&path).contains("x]"));
}

#[test]
fn the_library_returns_conflict_and_writes_nothing() {
    let (env, mem) = TestEnv::init_lib();
    let w = mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    let stale = w.revision.clone().unwrap().0;
    let u = mem
        .update(
            &w.id,
            Update {
                body: Some("Port 9443.".into()),
                expect: Some(stale.clone()),
                ..Update::default()
            },
            &prov(),
        )
        .unwrap();
    let current = u.revision.unwrap().0;
    let text = env.read(&w.path);
    let commits = env.commit_count();

    let err = mem
        .update(
            &w.id,
            Update {
                title: Some("New title".into()),
                expect: Some(stale.clone()),
                ..Update::default()
            },
            &prov(),
        )
        .unwrap_err();
    match err {
        memdir::Error::Conflict {
            id,
            expected,
            actual,
        } => {
            assert_eq!(id, w.id);
            assert_eq!(expected, stale);
            assert_eq!(actual, current);
        }
        other => panic!("expected Conflict, got {other:?}"),
    }
    let err = mem
        .replace(&w.id, &text.replace("9443", "1"), Some(&stale), &prov())
        .unwrap_err();
    assert!(matches!(err, memdir::Error::Conflict { .. }), "{err:?}");
    assert_eq!(env.read(&w.path), text);
    assert_eq!(env.commit_count(), commits);
}

#[test]
fn an_expect_too_short_to_name_a_revision_is_refused() {
    let (_env, mem) = TestEnv::init_lib();
    let w = mem.remember(NewMemory::new("Port 8443."), &prov()).unwrap();
    let rev = w.revision.unwrap().0;
    let err = mem
        .update(
            &w.id,
            Update {
                title: Some("x".into()),
                expect: Some(rev[..3].to_owned()),
                ..Update::default()
            },
            &prov(),
        )
        .unwrap_err();
    assert!(matches!(err, memdir::Error::Conflict { .. }), "{err:?}");
}
