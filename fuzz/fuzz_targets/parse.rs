//! Any bytes given to the parser: it returns a memory or an error naming the file, never
//! panics, hangs or blows up memory (aliases and deep nesting are refused before expansion).
//! Whatever parses also keeps the promises memdir builds on: an edit that changes nothing
//! returns the file byte-for-byte, and passages point at lines inside the file.

#![no_main]

use libfuzzer_sys::fuzz_target;
use memdir::Revision;
use memdir::parse::{self, Edit};

const PATH: &str = "note/fuzz.md";

fuzz_target!(|data: &[u8]| {
    let memory = match parse::parse_memory(PATH, data, Revision("0".repeat(40))) {
        Ok(m) => m,
        Err(e) => {
            // Every error a file can cause names the file.
            assert!(e.to_string().starts_with(PATH), "{e}");
            return;
        }
    };
    let text = std::str::from_utf8(data).expect("a parsed file is UTF-8");
    let same = parse::edit(PATH, text, &Edit::default()).expect("a parsed file can be edited");
    assert_eq!(same, text, "an empty edit changed the file");
    let lines = text.split('\n').count();
    for p in parse::passages(&memory.body, memory.body_line) {
        assert!(p.line_start >= memory.body_line, "{p:?}");
        assert!(p.line_start <= p.line_end && p.line_end <= lines, "{p:?}");
    }
});
