//! The command line: repository discovery, stdin, `--json` shapes, exit codes and help. The
//! rules behind each command are tested at the library level; this proves the wiring.

use crate::common::{TestEnv, keys, settings, words};

#[test]
fn init_creates_a_repository_and_says_where() {
    let env = TestEnv::new();
    let out = env.run_in(env.root(), &["init", "repo"]).success();
    insta::assert_snapshot!(out, @"Initialized memory repository in $TEST_ENV/repo");
    assert!(env.path("memory.toml").is_file());
    assert_eq!(env.commit_count(), 1);
    assert_eq!(env.git_status(), "");

    let again = env.run_in(env.root(), &["init", "repo"]);
    insta::assert_snapshot!(again, @r"
    ------- stderr -------
    error: repo already holds a memdir repository
    [exit status: 1]
    ");
}

#[test]
fn init_json_prints_root_and_commit() {
    let env = TestEnv::new();
    let out = env
        .run_in(env.root(), &["init", "repo", "--json"])
        .success()
        .json();
    assert_eq!(keys(&out), ["commit", "project", "root"]);
    assert_eq!(out["commit"], env.head().as_str());
    assert_eq!(out["project"], false);
}

#[test]
fn the_repository_is_found_with_dash_c() {
    let env = TestEnv::init();
    let id = env.add("The office opens at eight.", &[])["id"].clone();
    let out = env
        .run_in(env.root(), &["-C", "repo", "list", "--json"])
        .success()
        .json();
    assert_eq!(out[0]["id"], id);
    // -C works after the subcommand too.
    env.run_in(env.root(), &["list", "-C", "repo"]).success();
}

#[test]
fn the_repository_is_found_with_memdir_dir() {
    let env = TestEnv::init();
    let id = env.add("The office opens at eight.", &[])["id"].clone();
    let mut cmd = env.memdir_command(env.root());
    cmd.env("MEMDIR_DIR", env.repo()).args(["list", "--json"]);
    let out = env.run_command(cmd, None).success().json();
    assert_eq!(out[0]["id"], id);
}

#[test]
fn dash_c_wins_over_memdir_dir() {
    let env = TestEnv::init();
    let mut cmd = env.memdir_command(env.root());
    cmd.env("MEMDIR_DIR", env.root().join("nowhere"))
        .args(["-C", "repo", "status"]);
    env.run_command(cmd, None).success();
}

#[test]
fn the_repository_is_found_from_a_subdirectory() {
    let env = TestEnv::init();
    let added = env.add("The office opens at eight.", &["--type", "fact"]);
    let out = env
        .run_in(
            &env.path("fact"),
            &["show", added["id"].as_str().unwrap(), "--json"],
        )
        .success()
        .json();
    assert_eq!(out["path"], added["path"]);
    // Adding from a subdirectory writes into the repository, not the subdirectory.
    let deep = env.path("fact/deeper");
    std::fs::create_dir_all(&deep).unwrap();
    let out = env
        .run_in(&deep, &["add", "Second memory.", "--json"])
        .success()
        .json();
    assert!(env.path(out["path"].as_str().unwrap()).is_file());
}

#[test]
fn outside_any_repository_the_error_says_to_run_init() {
    let env = TestEnv::new();
    let out = env.run_in(env.root(), &["list"]);
    insta::assert_snapshot!(out, @r"
    ------- stderr -------
    error: $TEST_ENV is not inside a memdir repository (no folder holding memory.toml and .git at or above it, and no project memory folder such as .memdir/ in the git repository around it)
    hint: run `memdir init DIR` to create one (or `memdir init --project` inside a project's git repository), or point at one with -C DIR or MEMDIR_DIR
    [exit status: 1]
    ");
}

#[test]
fn a_missing_dash_c_directory_is_a_user_error() {
    let env = TestEnv::new();
    let out = env.run_in(env.root(), &["-C", "missing", "search", "x"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("missing"), "{out}");
}

#[test]
fn add_reads_the_text_from_stdin() {
    let env = TestEnv::init();
    let out = env
        .run_stdin(
            &[
                "add",
                "--title",
                "Release process",
                "--type",
                "procedure",
                "--json",
            ],
            "Deploys go through the release train.\n\nEvery Tuesday.\n",
        )
        .success()
        .json();
    assert_eq!(out["path"], "procedure/release-process.md");
    let shown = env
        .run(&["show", out["id"].as_str().unwrap(), "--json"])
        .success()
        .json();
    assert_eq!(shown["title"], "Release process");
    assert_eq!(
        shown["body"],
        "\nDeploys go through the release train.\n\nEvery Tuesday.\n"
    );
}

#[test]
fn add_with_empty_text_is_a_user_error() {
    let env = TestEnv::init();
    let out = env.run_stdin(&["add"], "  \n");
    insta::assert_snapshot!(out, @r"
    ------- stderr -------
    error: the memory text is empty: give the text as an argument or on stdin
    [exit status: 1]
    ");
    assert_eq!(env.commit_count(), 1);
}

#[test]
fn add_prints_the_id() {
    let env = TestEnv::init();
    let out = env.run(&["add", "The office opens at eight."]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @"note-[ID]");
}

#[test]
fn add_json_has_id_path_and_commit() {
    let env = TestEnv::init();
    let out = env.add(
        "Alice prefers dark mode.",
        &words(
            "--type preference --tag ui --tag editor --scope user:alice --pin \
             --expires 2030-01-01 --session s-1 --agent cli",
        ),
    );
    let _guard = settings().bind_to_scope();
    insta::assert_json_snapshot!(out, @r#"
    {
      "commit": "[HASH]",
      "id": "preference-[ID]",
      "path": "preference/preference-[ID].md",
      "revision": "[HASH]",
      "similar": [],
      "status": "ok"
    }
    "#);
    assert_eq!(out["commit"], env.head().as_str());
    assert_eq!(env.trailer("HEAD", "Memdir-Session"), ["s-1"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["cli"]);
}

#[test]
fn show_json_has_every_field_plus_body_path_and_revision() {
    let env = TestEnv::init();
    let id = env.add(
        "Alice prefers dark mode.",
        &words(
            "--type preference --tag ui --scope user:alice --pin \
             --expires 2030-01-01 --session s-1 --agent cli --step 3",
        ),
    )["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out = env.run(&["show", &id, "--json"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @r#"
    {
      "id": "preference-[ID]",
      "title": "Alice prefers dark mode",
      "type": "preference",
      "tags": [
        "ui"
      ],
      "scope": "user:alice",
      "created": "[TIME]",
      "updated": "[TIME]",
      "pinned": true,
      "expires": "[TIME]",
      "source": {
        "session": "s-1",
        "agent": "cli",
        "step": "3"
      },
      "body": "\nAlice prefers dark mode.\n",
      "path": "preference/preference-[ID].md",
      "revision": "[HASH]"
    }
    "#);
}

#[test]
fn show_json_includes_unknown_keys() {
    let env = TestEnv::init();
    env.write(
        "note/mine.md",
        "---\nid: mine-1\ntitle: Mine\nowner: ops\npriority: 3\n---\nBody.\n",
    );
    let out = env.run(&["show", "mine-1", "--json"]).success().json();
    assert_eq!(out["owner"], "ops");
    assert_eq!(out["priority"], 3);
}

#[test]
fn show_prints_the_file_as_it_is() {
    let env = TestEnv::init();
    let text = "---\nid: mine-1\ntitle: Mine\n# a comment\n---\nBody *as* written.\n";
    env.write("note/mine.md", text);
    let out = env.run(&["show", "mine-1"]).success();
    assert_eq!(out.stdout, text);
}

#[test]
fn show_of_an_unknown_id_is_a_user_error() {
    let env = TestEnv::init();
    let out = env.run(&["show", "no-such-id"]);
    insta::assert_snapshot!(out, @r"
    ------- stderr -------
    error: no memory with id `no-such-id`
    hint: `memdir list` shows every id; `memdir search TEXT` finds one
    [exit status: 1]
    ");
}

#[test]
fn search_json_has_the_documented_fields() {
    let env = TestEnv::init();
    env.add(
        "The staging API listens on port 8443.",
        &["--type", "fact", "--tag", "api", "--scope", "team:web"],
    );
    let out = env.run(&["search", "staging port", "--json"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @r#"
    [
      {
        "id": "fact-[ID]",
        "path": "fact/fact-[ID].md",
        "title": "The staging API listens on port 8443",
        "score": [SCORE],
        "passage": "The staging API listens on port 8443.",
        "snippet": "The staging API listens on port 8443.",
        "line_start": 10,
        "line": 10,
        "line_end": 10,
        "revision": "[HASH]",
        "type": "fact",
        "tags": [
          "api"
        ],
        "scope": "team:web",
        "updated": "[TIME]"
      }
    ]
    "#);
    let hit = &out.json()[0];
    for key in [
        "id", "path", "title", "score", "snippet", "line", "type", "tags",
    ] {
        assert!(hit.get(key).is_some(), "missing {key} in {hit}");
    }
    assert!(hit["score"].as_f64().unwrap() > 0.0);
}

#[test]
fn search_prints_score_id_path_line_and_passage() {
    let env = TestEnv::init();
    env.add("The staging API listens on port 8443.", &["--type", "fact"]);
    let out = env.run(&["search", "staging"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @r"
    [SCORE]  fact-[ID]  fact/fact-[ID].md:9  The staging API listens on port 8443
            The staging API listens on port 8443.
    ");
    let none = env.run(&["search", "zebra"]).success();
    insta::assert_snapshot!(none, @r"
    ------- stderr -------
    No memory matches.
    ");
}

#[test]
fn search_takes_limit_and_filters() {
    let env = TestEnv::init();
    env.add(
        "Coffee, black.",
        &words("--type preference --tag drinks --scope user:alice"),
    );
    env.add(
        "Coffee machine on floor 2.",
        &["--type", "fact", "--tag", "office"],
    );
    env.add(
        "Coffee with oat milk.",
        &words("--type preference --tag drinks --scope user:bob"),
    );
    let count = |args: &[&str]| {
        let mut all = vec!["search", "coffee", "--json"];
        all.extend_from_slice(args);
        env.run(&all).success().json().as_array().unwrap().len()
    };
    assert_eq!(count(&[]), 3);
    assert_eq!(count(&["-n", "2"]), 2);
    assert_eq!(count(&["--type", "preference"]), 2);
    assert_eq!(count(&["--tag", "office"]), 1);
    assert_eq!(count(&["--scope", "user:bob"]), 1);
    assert_eq!(count(&["--tag", "drinks", "--scope", "user:alice"]), 1);
    let out = env.run(&["search", "coffee", "-n", "0"]);
    assert_eq!(out.status, 2, "{out}");
}

#[test]
fn list_prints_and_filters() {
    let env = TestEnv::init();
    env.add(
        "Coffee, black.",
        &["--type", "preference", "--tag", "drinks", "--pin"],
    );
    env.add(
        "Coffee machine on floor 2.",
        &["--type", "fact", "--tag", "office"],
    );
    let out = env.run(&["list"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @r"
    fact-[ID]        fact        Coffee machine on floor 2
    preference-[ID]  preference  Coffee, black [pinned]
    ");
    let json = env.run(&["list", "--type", "fact", "--json"]).success();
    insta::assert_snapshot!(json, @r#"
    [
      {
        "id": "fact-[ID]",
        "path": "fact/fact-[ID].md",
        "title": "Coffee machine on floor 2",
        "type": "fact",
        "tags": [
          "office"
        ],
        "updated": "[TIME]",
        "pinned": false,
        "revision": "[HASH]",
        "created": "[TIME]"
      }
    ]
    "#);
    let tagged = env
        .run(&["list", "--tag", "drinks", "--json"])
        .success()
        .json();
    assert_eq!(tagged.as_array().unwrap().len(), 1);
}

#[test]
fn status_reports_freshness_hand_edits_and_counts() {
    let env = TestEnv::init();
    let added = env.add("The office opens at eight.", &[]);
    let out = env.run(&["status"]).success();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(out, @r"
    Repository: $TEST_ENV/repo
    HEAD:       [SHORT]
    Index:      up to date (1 memory, 1 passage, at [SHORT])
    Git objects: 23 loose, 0 packs
    Watcher:    none (`memdir watch --background` makes each call in a large repository faster)
    Pinned:     none
    Working tree clean.
    ");

    let path = added["path"].as_str().unwrap();
    env.write(path, env.read(path).replace("eight", "nine"));
    let json = env.run(&["status", "--json"]).success();
    insta::assert_snapshot!(json, @r#"
    {
      "root": "$TEST_ENV/repo",
      "project": false,
      "head": "[HASH]",
      "indexed_head": "[HASH]",
      "index_fresh": true,
      "uncommitted": [
        "note/note-[ID].md"
      ],
      "memories": 1,
      "passages": 1,
      "git_objects": {
        "loose": 23,
        "packs": 0,
        "packing_due": false
      },
      "invalid": [],
      "watcher": false,
      "pinned": {
        "tokens": 0,
        "budget": 2000,
        "share": 0.0,
        "warn_share": 0.5,
        "warn": false,
        "files": []
      }
    }
    "#);

    // Packed by git, the objects are counted in the pack.
    env.git(&["gc", "--quiet"]);
    let packed = env.run(&["status", "--json"]).success().json();
    assert_eq!(
        packed["git_objects"],
        serde_json::json!({"loose": 0, "packs": 1, "packing_due": false})
    );
}

#[test]
fn update_and_rm_report_what_they_did() {
    let env = TestEnv::init();
    let id = env.add("The office opens at eight.", &[])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let _guard = settings().bind_to_scope();
    let out = env
        .run(&["update", &id, "--add-tag", "office", "--pin", "true"])
        .success();
    insta::assert_snapshot!(out, @"Updated note-[ID] (revision [SHORT]).");
    let same = env.run(&["update", &id, "--add-tag", "office"]).success();
    insta::assert_snapshot!(same, @"No change to note-[ID].");
    let json = env
        .run(&["update", &id, "--remove-tag", "office", "--json"])
        .success();
    insta::assert_snapshot!(json, @r#"
    {
      "commit": "[HASH]",
      "id": "note-[ID]",
      "path": "note/note-[ID].md",
      "revision": "[HASH]",
      "similar": [],
      "status": "ok"
    }
    "#);
    let shown = env.run(&["show", &id, "--json"]).success().json();
    assert_eq!(shown["tags"], serde_json::json!([]));
    assert_eq!(shown["pinned"], true);

    let out = env.run(&["rm", &id, "--reason", "moved to nine"]).success();
    insta::assert_snapshot!(out, @"Removed note-[ID] (note/note-[ID].md).");
    assert_eq!(env.trailer("HEAD", "Memdir-Reason"), ["moved to nine"]);
    let gone = env.run(&["show", &id]);
    assert_eq!(gone.status, 1, "{gone}");
}

#[test]
fn update_body_reads_stdin_with_a_dash() {
    let env = TestEnv::init();
    let id = env.add("The office opens at eight.", &[])["id"]
        .as_str()
        .unwrap()
        .to_owned();
    env.run_stdin(&["update", &id, "--body", "-"], "Opens at nine now.\n")
        .success();
    let shown = env.run(&["show", &id, "--json"]).success().json();
    assert_eq!(shown["body"], "\nOpens at nine now.\n");
}

#[test]
fn bad_usage_exits_2() {
    let env = TestEnv::init();
    for args in [
        &["frobnicate"][..],
        &["add", "--no-such-flag"],
        &["show"],
        &["update", "x", "--pin", "maybe"],
        &["add", "x", "--expires", "someday"],
    ] {
        let out = env.run(args);
        assert_eq!(out.status, 2, "{args:?}: {out}");
        assert!(out.stderr.contains("error"), "{args:?}: {out}");
    }
}

/// Returns the subcommands a `--help` lists under "Commands:" (clap's own `help` left out).
fn subcommands_in(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| *l != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command's `--help`, found by walking the command tree as `memdir --help` and each
/// subcommand's `--help` list it, is recorded in a snapshot: a new subcommand fails this test
/// until its help is reviewed (`cargo insta review`), and so does any change to a help text.
#[test]
fn the_help_of_every_command_is_as_recorded() {
    let env = TestEnv::new();
    let mut paths: Vec<Vec<String>> = vec![vec![]];
    let mut i = 0;
    while i < paths.len() {
        let path = paths[i].clone();
        i += 1;
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let help = env.run_in(env.root(), &args).success();
        assert_eq!(help.stderr, "", "{args:?}");
        // A subcommand's summary is imperative with no period (memdir's own is a sentence).
        let first = help.stdout.lines().next().unwrap();
        assert!(
            path.is_empty() || !first.ends_with('.'),
            "{args:?}: first help line ends with a period: {first}"
        );
        // A heading such as "Examples:" ends its line: the examples stay one per line.
        for line in help.stdout.lines() {
            if line.starts_with("Example") {
                assert!(
                    line.ends_with(':'),
                    "{args:?}: examples run together: {line}"
                );
            }
        }
        let name = match path.is_empty() {
            true => "help".to_owned(),
            false => format!("help-{}", path.join("-")),
        };
        insta::assert_snapshot!(name, help.stdout);
        for sub in subcommands_in(&help.stdout) {
            let mut child = path.clone();
            child.push(sub);
            paths.push(child);
        }
    }
    // The walk found the whole tree, nested subcommands included.
    for expected in [
        &["add"][..],
        &["session", "append"],
        &["hook", "claude-code"],
        &["completions"],
        &["man"],
    ] {
        assert!(
            paths.iter().any(|p| p == expected),
            "{expected:?} not found in {paths:?}"
        );
    }
    env.run_in(env.root(), &["--version"]).success();
}

/// Writes `memdir completions SHELL` to a file and returns its path.
fn completion_script(env: &TestEnv, shell: &str) -> String {
    let out = env.run_in(env.root(), &["completions", shell]).success();
    assert_eq!(out.stderr, "");
    let path = env.root().join(format!("memdir.{shell}"));
    std::fs::write(&path, &out.stdout).unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn bash_completes_subcommands_and_flags_with_the_script() {
    let env = TestEnv::new();
    let script = completion_script(&env, "bash");
    env.program("bash", &["-n", &script]).success();
    // What bash does on TAB: call the registered function with the words so far.
    let complete = |words: &str| {
        let line = format!(
            r#"source '{script}'
               COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
               complete -p memdir >/dev/null || exit 9
               _memdir memdir "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
               printf '%s\n' "${{COMPREPLY[@]}}""#
        );
        env.program("bash", &["-c", &line]).success().stdout
    };
    assert_eq!(complete("memdir se"), "search\nsession\nserve\n");
    assert_eq!(complete("memdir add --exp"), "--expires\n");
    let shells = complete("memdir completions ''");
    for shell in ["bash", "elvish", "fish", "powershell", "zsh"] {
        assert!(
            shells.lines().any(|l| l == shell),
            "{shell} not in {shells}"
        );
    }
    assert_eq!(complete("memdir completions p"), "powershell\n");
}

#[test]
fn zsh_loads_the_completion_script() {
    let env = TestEnv::new();
    if !crate::common::have("zsh") {
        return;
    }
    let script = completion_script(&env, "zsh");
    env.program("zsh", &["-n", &script]).success();
    let dump = env.root().join("zcompdump");
    let line = format!(
        "autoload -Uz compinit && compinit -u -d '{}' && source '{script}' && print -r -- $_comps[memdir]",
        dump.display()
    );
    let out = env.program("zsh", &["-f", "-c", &line]).success();
    assert_eq!(out.stdout, "_memdir\n", "{out}");
}

#[test]
fn fish_completes_subcommands_and_flags_with_the_script() {
    let env = TestEnv::new();
    if !crate::common::have("fish") {
        return;
    }
    let script = completion_script(&env, "fish");
    env.program("fish", &["--no-execute", &script]).success();
    let complete = |line: &str| {
        let cmd = format!("source '{script}'; complete --do-complete '{line}'");
        let out = env.program("fish", &["--no-config", "-c", &cmd]).success();
        out.stdout
            .lines()
            .map(|l| l.split('\t').next().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(complete("memdir se"), ["search", "serve", "session"]);
    assert_eq!(complete("memdir add --exp"), ["--expires"]);
}

#[test]
fn powershell_gets_a_completer_for_memdir() {
    // No PowerShell on Debian's package lists: the script is checked for what registers it.
    let env = TestEnv::new();
    let out = env
        .run_in(env.root(), &["completions", "powershell"])
        .success();
    assert!(
        out.stdout
            .contains("Register-ArgumentCompleter -Native -CommandName 'memdir'"),
        "{out}"
    );
    let bad = env.run_in(env.root(), &["completions", "tcsh"]);
    assert_eq!(bad.status, 2, "{bad}");
}

#[test]
fn the_man_page_formats_without_warnings_and_lists_every_subcommand() {
    let env = TestEnv::new();
    let page = env.run_in(env.root(), &["man"]).success();
    assert!(
        page.stdout.starts_with(".ie"),
        "{}",
        &page.stdout[..200.min(page.stdout.len())]
    );
    if !crate::common::have("groff") {
        return;
    }
    let file = env.root().join("memdir.1");
    std::fs::write(&file, &page.stdout).unwrap();
    let out = env.program("groff", &["-man", "-Tutf8", "-ww", file.to_str().unwrap()]);
    assert_eq!(out.stderr, "", "groff warned");
    let text = out.success().stdout;
    // Drop the overstrike bold and underline groff's tty output uses.
    let text = regex::Regex::new(".\x08").unwrap().replace_all(&text, "");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    let help = env.run_in(env.root(), &["--help"]).success().stdout;
    for sub in subcommands_in(&help) {
        assert!(
            text.contains(&format!("memdir-{sub}(1)")),
            "{sub} missing:\n{text}"
        );
        // The page it refers to is there too.
        let page = env.run_in(env.root(), &["man", &sub]).success();
        std::fs::write(&file, &page.stdout).unwrap();
        let out = env.program("groff", &["-man", "-Tutf8", "-ww", file.to_str().unwrap()]);
        assert_eq!(out.stderr, "", "groff warned on memdir-{sub}(1)");
        assert!(out.success().stdout.contains(&format!("memdir-{sub}(1)")));
    }
    let out = env.run_in(env.root(), &["man", "nope"]);
    assert_eq!(out.status, 1, "{out}");
}

#[test]
fn import_reports_each_session_and_skips_them_the_second_time() {
    let env = TestEnv::init();
    std::fs::write(
        env.root().join("chat.jsonl"),
        concat!(
            r#"{"session": "mon", "role": "user", "content": "Where is staging?", "time": "2026-11-23"}"#,
            "\n",
            r#"{"session": "mon", "role": "assistant", "content": "Port 8443."}"#,
            "\n",
            r#"{"session": "tue", "role": "user", "content": "Thanks."}"#,
            "\n",
        ),
    )
    .unwrap();
    let _guard = settings().bind_to_scope();
    let out = env.run(&["import", "../chat.jsonl", "--tag", "chat", "--agent", "cli"]);
    insta::assert_snapshot!(out, @r"
    added mon-[ID]  event/user-and-assistant-23-november-2026.md  (2 turns)
    added tue-[ID]  event/user-tue.md  (1 turn)
    Imported 2 sessions (3 turns) from ../chat.jsonl.
    ");
    assert_eq!(env.trailer("HEAD", "Memdir-Op"), ["import"]);
    assert_eq!(env.trailer("HEAD", "Memdir-Agent"), ["cli"]);
    let again = env.run(&["import", "../chat.jsonl", "--json"]);
    insta::assert_snapshot!(again, @r#"
    [
      {
        "id": "mon-[ID]",
        "path": "event/user-and-assistant-23-november-2026.md",
        "session": "mon",
        "turns": 2,
        "status": "skipped"
      },
      {
        "id": "tue-[ID]",
        "path": "event/user-tue.md",
        "session": "tue",
        "turns": 1,
        "status": "skipped"
      }
    ]
    "#);
    let hits = env
        .run(&[
            "search", "staging", "--type", "event", "--tag", "chat", "--json",
        ])
        .success()
        .json();
    assert_eq!(hits[0]["snippet"], "- [t1] **user:** Where is staging?");

    // stdin, and a bad line: an error naming the line, a hint, and no commit.
    let commits = env.commit_count();
    let out = env.run_stdin(
        &["import", "-"],
        "{\"role\": \"user\", \"content\": \"hi\"}\n{\"role\": \n",
    );
    insta::assert_snapshot!(out, @r"
    ------- stderr -------
    error: stdin:2:9: invalid JSON: EOF while parsing a value; each line of a JSONL transcript is one complete JSON object
    hint: if the format was guessed wrong, name it with --format json, jsonl, locomo or lines
    [exit status: 1]
    ");
    assert_eq!(env.commit_count(), commits);
    assert_eq!(env.git_status(), "");
    let out = env.run_stdin(
        &["import", "-", "--format", "jsonl"],
        "{\"role\": \"user\", \"content\": \"hi\"}\n",
    );
    insta::assert_snapshot!(out, @r"
    added stdin-[ID]  event/user-stdin.md  (1 turn)
    Imported 1 session (1 turn) from stdin.
    ");
}

#[test]
fn add_refuses_an_expiry_already_past() {
    let env = TestEnv::init();
    let commits = env.commit_count();
    let _guard = settings().bind_to_scope();
    insta::assert_snapshot!(env.run(&["add", "Parking is closed.", "--expires", "2020-01-01"]), @r"
    ------- stderr -------
    error: --expires [TIME] is already past (it is [TIME] now): the memory would never be believed
    hint: give a later time (2030-01-01, `in 3 days`, 30d), or leave --expires out
    [exit status: 1]
    ");
    let out = env.run(&["add", "Parking is closed.", "--expires", "yesterday"]);
    assert_eq!(out.status, 1, "{out}");
    assert!(out.stderr.contains("is already past"), "{out}");
    assert_eq!(env.commit_count(), commits, "nothing was written");
}

#[test]
fn add_takes_an_expiry_relative_to_now() {
    let env = TestEnv::init();
    let day = time::Duration::days(1);
    for (when, from, to) in [
        ("in 3 days", 3 * day, 3 * day),
        ("3 days", 3 * day, 3 * day),
        ("tomorrow", day, day),
        (
            "90m",
            time::Duration::minutes(90),
            time::Duration::minutes(90),
        ),
    ] {
        let before = memdir::Timestamp::now();
        let id = env.add("Parking is closed.", &["--expires", when])["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let after = memdir::Timestamp::now();
        let shown = env.run(&["show", &id, "--json"]).success().json();
        let expires = memdir::Timestamp::parse(shown["expires"].as_str().unwrap()).unwrap();
        assert!(
            before.0 + from <= expires.0 && expires.0 <= after.0 + to,
            "{when}: {expires} not within [{before} + {from}, {after} + {to}]"
        );
    }
}

/// A program that embeds the library (`default-features = false`) compiles none of the
/// binary's crates nor the servers'.
#[test]
fn the_library_alone_depends_on_no_crate_of_the_binary_or_the_servers() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-e",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8(out.stdout).unwrap();
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"tantivy"), "{tree}");
    for binary_only in [
        "clap",
        "clap_complete",
        "clap_mangen",
        "indicatif",
        "tracing-subscriber",
        "axum",
        "rmcp",
        "maud",
        "utoipa",
    ] {
        assert!(!crates.contains(&binary_only), "{binary_only} in:\n{tree}");
    }
}
