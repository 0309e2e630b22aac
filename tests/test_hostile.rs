//! Hostile input: huge and binary files, links leading out of the repository, YAML built to
//! explode, NUL bytes in new text. Each gets a clear error naming the file; nothing crashes,
//! nothing is written through a link, and the other memories stay as they were.

use memdir::{NewMemory, SearchQuery};

use crate::common::{TestEnv, prov};

/// Returns a repository with one good memory; returns its id.
fn repo_with_good_memory() -> (TestEnv, memdir::Memdir, String) {
    let (env, mem) = TestEnv::init_lib();
    let good = mem
        .remember(
            NewMemory::new("The staging API listens on port 8443.").kind("fact"),
            &prov(),
        )
        .unwrap();
    (env, mem, good.id)
}

/// The good memory is still there and found, through the library and the CLI.
#[track_caller]
fn assert_good_memory_intact(env: &TestEnv, good: &str) {
    let mem = env.open();
    let hits = mem.search(&SearchQuery::new("staging port")).unwrap();
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].id, good);
    let out = env.run(&["search", "staging", "--json"]).success().json();
    assert_eq!(out[0]["id"], good);
}

#[test]
fn a_60_mb_file_is_reported_by_name_and_size() {
    let (env, _mem, good) = repo_with_good_memory();
    let mut huge = b"---\nid: huge\ntitle: Huge\n---\n".to_vec();
    huge.resize(60 << 20, b'a');
    env.write("fact/huge.md", &huge);

    let out = env.run(&["check"]).code(1);
    assert_eq!(
        out.stdout,
        "fact/huge.md: file is 62914560 bytes; memory files are limited to 4194304 bytes\n"
    );
    assert_good_memory_intact(&env, &good);
    // It cannot be committed through memdir either, and stays untouched.
    let out = env.run(&["commit"]).code(1);
    assert!(out.stderr.contains("fact/huge.md"), "{out}");
    assert_eq!(env.read_bytes("fact/huge.md").len(), 60 << 20);
    assert_eq!(env.git_status(), "?? fact/huge.md\n");
}

#[test]
fn binary_files_and_yaml_bombs_are_reported_and_skipped() {
    let (env, _mem, good) = repo_with_good_memory();
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend((0..4096u32).map(|i| (i * 7919 % 251) as u8));
    env.write("fact/picture.md", &png);
    // A billion laughs: nine levels of aliases, each doubling ten times.
    let mut bomb =
        String::from("---\nid: bomb\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    bomb.push_str("---\nBody.\n");
    env.write("fact/bomb.md", &bomb);
    // Nesting a million levels deep, in flow and in block style.
    let deep_flow = format!(
        "---\nid: deep\nx: {}{}\n---\n",
        "[".repeat(1 << 20),
        "]".repeat(1 << 20)
    );
    env.write("fact/deep-flow.md", deep_flow);
    let mut deep_block = String::from("---\nid: deep-block\n");
    for depth in 0..2000 {
        deep_block.push_str(&format!("{}k{depth}:\n", " ".repeat(depth)));
    }
    deep_block.push_str("---\n");
    env.write("fact/deep-block.md", deep_block);

    let out = env.run(&["check", "--json"]).code(1);
    let problems = out.json();
    let by_path = |p: &str| {
        problems
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["path"] == p)
            .unwrap_or_else(|| panic!("no problem for {p}: {out}"))["message"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert!(by_path("fact/picture.md").contains("not UTF-8"), "{out}");
    assert!(by_path("fact/bomb.md").contains("aliases"), "{out}");
    assert!(
        by_path("fact/deep-flow.md").contains("nested more than 32 levels"),
        "{out}"
    );
    assert!(
        by_path("fact/deep-block.md").contains("nested more than 32 levels"),
        "{out}"
    );
    assert_eq!(problems.as_array().unwrap().len(), 4, "{out}");
    assert_good_memory_intact(&env, &good);
}

#[test]
fn a_linked_folder_is_never_read_or_written_through() {
    let (env, mem, good) = repo_with_good_memory();
    let outside = env.root().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(
        outside.join("secret.md"),
        "---\nid: secret\ntitle: Secret\n---\nThe launch code is swordfish.\n",
    )
    .unwrap();
    // A type folder that is a link out of the repository, and a link inside a real folder.
    std::fs::remove_dir_all(env.path("procedure")).unwrap();
    std::os::unix::fs::symlink(&outside, env.path("procedure")).unwrap();
    std::os::unix::fs::symlink(&outside, env.path("fact/elsewhere")).unwrap();
    mem.refresh().unwrap();
    assert!(
        mem.search(&SearchQuery::new("swordfish"))
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        mem.get("secret"),
        Err(memdir::Error::NotFound { .. })
    ));

    // Writing a memory of that type would go through the link: refused, nothing written.
    let head = env.head();
    let err = mem
        .remember(
            NewMemory::new("Rotate the keys.").kind("procedure"),
            &prov(),
        )
        .unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("the folder `procedure` is a symbolic link"),
        "{message}"
    );
    let out = env
        .run(&["add", "Rotate the keys.", "--type", "procedure"])
        .code(1);
    assert!(out.stderr.contains("symbolic link"), "{out}");
    assert_eq!(env.head(), head);
    let entries: Vec<_> = std::fs::read_dir(&outside).unwrap().collect();
    assert_eq!(
        entries.len(),
        1,
        "something was written outside: {entries:?}"
    );
    assert_good_memory_intact(&env, &good);
}

#[test]
fn text_that_would_make_an_unreadable_file_is_refused_before_writing() {
    let (env, mem, good) = repo_with_good_memory();
    let head = env.head();
    let err = mem
        .remember(NewMemory::new("Before\0after."), &prov())
        .unwrap_err();
    assert!(err.to_string().contains("not UTF-8"), "{err}");
    let out = env
        .run_stdin(&["add", "--title", "Nul"], "Before\0after.\n")
        .code(1);
    assert!(out.stderr.contains("not UTF-8"), "{out}");
    assert_eq!(env.head(), head);
    assert_eq!(env.git_status(), "");
    assert_good_memory_intact(&env, &good);
}
