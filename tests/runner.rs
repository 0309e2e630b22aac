//! The one integration-test binary: every `tests/test_<area>.rs` is a module of it, so the
//! crate and its dependencies link once (see jj's cli/tests/runner.rs).

mod common;

mod test_bad_input;
mod test_beliefs;
mod test_cas;
mod test_cli;
mod test_concurrency;
mod test_context;
mod test_cost;
mod test_crash;
mod test_expire;
mod test_explore;
mod test_extract;
mod test_format;
mod test_guard;
mod test_hand_edits;
mod test_handwritten;
mod test_history;
mod test_hostile;
mod test_http;
mod test_import;
mod test_index;
mod test_llm;
mod test_mcp;
mod test_pages;
mod test_project;
mod test_proptest;
mod test_purge;
mod test_session;
mod test_store;
mod test_sync;
mod test_watch;

#[test]
fn every_test_file_is_listed_in_the_runner() {
    let tests = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let runner = std::fs::read_to_string(tests.join("runner.rs")).unwrap();
    let mut forgotten = Vec::new();
    for entry in std::fs::read_dir(&tests).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(module) = name
            .strip_prefix("test_")
            .and_then(|n| n.strip_suffix(".rs"))
            && !runner.contains(&format!("\nmod test_{module};\n"))
        {
            forgotten.push(name);
        }
    }
    assert!(
        forgotten.is_empty(),
        "add `mod <name>;` to tests/runner.rs for: {forgotten:?}"
    );
}
