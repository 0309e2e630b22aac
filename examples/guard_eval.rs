//! Measures the write guard on labelled texts: how many poisoning attempts and leaked secrets
//! it flags (recall) and how many ordinary memories it flags by mistake (false-positive rate).
//!
//! ```sh
//! cargo run --example guard_eval                      # ../shared/data/guard-samples.jsonl
//! cargo run --example guard_eval -- FILE.jsonl -v     # another file (tests/guard-corpus.jsonl); -v lists mistakes
//! ```
//!
//! Each line of the file is `{"text": ..., "expect": "flag" | "allow"}`. When LoCoMo's
//! `../shared/data/locomo/locomo10.json` is there, it also counts how many of its ordinary
//! conversation turns the guard flags (each is an ordinary memory: every flag is a false
//! positive).

use memdir::guard::{Guard, Verdict};

fn main() -> memdir::Result<()> {
    // # Step 1: read the labelled samples.
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let path = args
        .iter()
        .find(|a| !a.starts_with('-'))
        .cloned()
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../shared/data/guard-samples.jsonl"
            )
            .to_owned()
        });
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {path}: {e}; pass the samples file as an argument");
            return Ok(());
        }
    };

    // # Step 2: check each text with the default guard, as `memdir guard` does.
    let guard = Guard::default();
    let (mut flag_total, mut flag_hit, mut allow_total, mut allow_flagged) = (0, 0, 0, 0);
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let sample: serde_json::Value =
            serde_json::from_str(line).map_err(|e| memdir::Error::Invalid {
                message: format!("{path}:{}: {e}", n + 1),
            })?;
        let text = sample["text"].as_str().unwrap_or_default();
        let expect_flag = sample["expect"] == "flag";
        let checked = guard.check(text);
        let flagged = checked.verdict == Verdict::Flag;
        let rules: Vec<&str> = checked.flags.iter().map(|f| f.rule.as_str()).collect();
        if expect_flag {
            flag_total += 1;
            flag_hit += flagged as usize;
        } else {
            allow_total += 1;
            allow_flagged += flagged as usize;
        }
        if verbose && flagged != expect_flag {
            let what = if expect_flag {
                "missed"
            } else {
                "false positive"
            };
            println!("{what}: {text:?} {rules:?}");
        }
    }

    // # Step 3: report.
    let pct = |a: usize, b: usize| {
        if b == 0 {
            0.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!("samples: {path}");
    println!(
        "recall (poisoning attempts and secrets flagged): {flag_hit}/{flag_total} = {:.1}%",
        pct(flag_hit, flag_total)
    );
    println!(
        "false-positive rate (ordinary memories flagged): {allow_flagged}/{allow_total} = {:.1}%",
        pct(allow_flagged, allow_total)
    );

    // # Step 4: ordinary conversation, if LoCoMo is at hand.
    let locomo = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/locomo/locomo10.json"
    );
    if let Ok(text) = std::fs::read_to_string(locomo) {
        let data: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| memdir::Error::Invalid {
                message: format!("{locomo}: {e}"),
            })?;
        let (mut turns, mut flagged) = (0, 0);
        for conversation in data.as_array().into_iter().flatten() {
            let sessions = conversation["conversation"]
                .as_object()
                .into_iter()
                .flatten();
            for (_, session) in sessions.filter(|(k, _)| !k.ends_with("date_time")) {
                for turn in session.as_array().into_iter().flatten() {
                    let text = turn["text"].as_str().unwrap_or_default();
                    turns += 1;
                    if guard.check(text).verdict == Verdict::Flag {
                        flagged += 1;
                        if verbose {
                            println!("false positive (LoCoMo): {text:?}");
                        }
                    }
                }
            }
        }
        println!(
            "LoCoMo conversation turns flagged: {flagged}/{turns} = {:.2}%",
            pct(flagged, turns)
        );
    }
    Ok(())
}
