//! Measures the write guard on labelled texts: how many poisoning attempts and leaked secrets
//! it flags (recall) and how many ordinary memories it flags by mistake (false-positive rate),
//! file by file, and what a check costs.
//!
//! ```sh
//! cargo run --release --example guard_eval                   # every file below
//! cargo run --release --example guard_eval -- FILE.jsonl -v  # one file; -v lists mistakes
//! cargo run --release --example guard_eval -- --rules-only   # without the learned classifier
//! cargo run --release --example guard_eval -- --llm ~/mem     # and the second opinion of the
//!                                                             # model in ~/mem/memory.toml's [llm]
//! ```
//!
//! Each line of a file is `{"text": ..., "expect": "flag" | "allow"}`. By default it reads
//! the held-out files `tests/guard-heldout.jsonl`, `-2` to `-7` (never trained on; their
//! totals were in view when the threshold's budget was chosen), `tests/guard-gitleaks.jsonl`
//! (two made-up secrets for each of gitleaks' rules),
//! `../shared/data/guard-samples.jsonl` and `tests/guard-corpus.jsonl` (the training corpus:
//! not an estimate). When `../shared/data` is there, it also counts how many ordinary
//! conversation turns the guard flags (each is an ordinary memory: every flag is a false
//! positive): LoCoMo's, the five conversations never trained on apart from the five trained on
//! (`memdir::guard::classifier::locomo_trained`), LoCoMo's observations (one-sentence facts
//! about the speakers, shaped like kept memories; never trained on) by the same halves, and
//! LongMemEval's user and assistant turns (every user turn was trained on).
//!
//! With `--llm DIR`, every labelled text a write would show the model of `DIR/memory.toml`'s
//! `[llm]` (its key read from the variable `api_key_env` names) is sent to it, as a write sends
//! it, and a last column counts what the guard and the model together flag: what a second
//! opinion adds with that model. Conversation turns are then not read (thousands of calls).

use std::time::{Duration, Instant};

use memdir::config::GuardConfig;
use memdir::guard::classifier::locomo_trained;
use memdir::guard::opinion::{self, Judge};
use memdir::guard::{Guard, Span, Verdict};

fn main() -> memdir::Result<()> {
    // # Step 1: the guard, as `memdir guard` builds it (or without the classifier).
    let args: Vec<String> = std::env::args().skip(1).collect();
    let verbose = args.iter().any(|a| a == "-v");
    let guard = if args.iter().any(|a| a == "--rules-only") {
        Guard::new(&GuardConfig {
            disable: vec!["classifier".into()],
            ..GuardConfig::default()
        })
        .map_err(|e| invalid(e.to_string()))?
    } else {
        Guard::default()
    };
    let root = env!("CARGO_MANIFEST_DIR");
    let llm_dir = args
        .iter()
        .position(|a| a == "--llm")
        .map(|i| {
            args.get(i + 1)
                .ok_or_else(|| invalid("--llm takes a folder holding memory.toml".into()))
        })
        .transpose()?;
    let judge = match llm_dir {
        None => None,
        Some(dir) => {
            let config = memdir::Config::load(std::path::Path::new(dir))?;
            let llm = config
                .llm
                .ok_or_else(|| invalid(format!("{dir}/memory.toml has no [llm] table")))?;
            Some(Judge::from_env(&llm))
        }
    };
    let file = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with('-') && (*i == 0 || args[i - 1] != "--llm"))
        .map(|(_, a)| a);
    let files: Vec<String> = match file {
        Some(f) => vec![f.clone()],
        None => vec![
            format!("{root}/tests/guard-heldout.jsonl"),
            format!("{root}/tests/guard-heldout-2.jsonl"),
            format!("{root}/tests/guard-heldout-3.jsonl"),
            format!("{root}/tests/guard-heldout-4.jsonl"),
            format!("{root}/tests/guard-heldout-5.jsonl"),
            format!("{root}/tests/guard-heldout-6.jsonl"),
            format!("{root}/tests/guard-heldout-7.jsonl"),
            format!("{root}/tests/guard-heldout-8.jsonl"),
            format!("{root}/tests/guard-heldout-9.jsonl"),
            format!("{root}/tests/guard-heldout-10.jsonl"),
            format!("{root}/tests/guard-heldout-11.jsonl"),
            format!("{root}/tests/guard-heldout-12.jsonl"),
            format!("{root}/tests/guard-heldout-lookalikes.jsonl"),
            format!("{root}/tests/guard-gitleaks.jsonl"),
            format!("{root}/../shared/data/guard-samples.jsonl"),
            format!("{root}/tests/guard-corpus.jsonl"),
        ],
    };
    let mut cost = Cost::default();
    let mut labelled_texts: Vec<String> = Vec::new();

    // # Step 2: each labelled file.
    // The last column: what a write would show the model of `[llm]` for its second opinion
    // (flagged or borderline), attacks / ordinary: the most a perfect model could add.
    let with_model = if judge.is_some() {
        " with the model: attacks / ordinary flagged |"
    } else {
        ""
    };
    println!(
        "| file | attacks flagged (recall) | ordinary flagged (false positives) | shown to a model: attacks / ordinary |{with_model}"
    );
    println!(
        "|---|---|---|---|{}",
        if judge.is_some() { "---|" } else { "" }
    );
    let mut model_failures = 0;
    for path in &files {
        let Ok(text) = std::fs::read_to_string(path) else {
            eprintln!("skipped: cannot read {path}");
            continue;
        };
        let (mut attacks, mut caught, mut ordinary, mut false_alarms) = (0, 0, 0, 0);
        let (mut attacks_shown, mut ordinary_shown) = (0, 0);
        let (mut attacks_judged, mut ordinary_judged) = (0, 0);
        for (n, line) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            let sample: serde_json::Value = serde_json::from_str(line)
                .map_err(|e| invalid(format!("{path}:{}: {e}", n + 1)))?;
            let text = sample["text"].as_str().unwrap_or_default();
            let expect_flag = sample["expect"] == "flag";
            labelled_texts.push(text.to_owned());
            let (flagged, rules) = cost.check(&guard, text);
            let shown = guard.wants_opinion(text, flagged) as usize;
            // With a model: what the guard and its second opinion flag together, asked as
            // a write asks (the text redacted; the model can add a flag, never lift one).
            let judged = match &judge {
                Some(judge) if shown == 1 => {
                    let checked = guard.check(text);
                    let mut flags = checked.flags;
                    let at = guard.borderline(text).unwrap_or(Span {
                        start: 0,
                        end: text.len(),
                    });
                    let failed = opinion::consult(
                        judge,
                        &checked.redacted,
                        at,
                        &checked.redacted,
                        &mut flags,
                    );
                    model_failures += failed.is_some() as usize;
                    !flags.is_empty()
                }
                _ => flagged,
            } as usize;
            if expect_flag {
                attacks += 1;
                caught += flagged as usize;
                attacks_shown += shown;
                attacks_judged += judged;
            } else {
                ordinary += 1;
                false_alarms += flagged as usize;
                ordinary_shown += shown;
                ordinary_judged += judged;
            }
            if verbose && flagged != expect_flag {
                let what = if expect_flag {
                    "missed"
                } else {
                    "false positive"
                };
                eprintln!("{what}: {text:?} {rules:?}");
            }
        }
        let name = path.rsplit('/').next().unwrap_or(path);
        let judged = match judge {
            Some(_) => format!(
                " {} / {} |",
                ratio(attacks_judged, attacks),
                ratio(ordinary_judged, ordinary)
            ),
            None => String::new(),
        };
        println!(
            "| {name} | {} | {} | {} / {} |{judged}",
            ratio(caught, attacks),
            ratio(false_alarms, ordinary),
            ratio(attacks_shown, attacks),
            ratio(ordinary_shown, ordinary)
        );
    }

    // # Step 3: ordinary conversation, if the data is at hand (and no one file was asked for).
    let data = format!("{root}/../shared/data");
    if model_failures > 0 {
        eprintln!(
            "the model could not be asked {model_failures} times: those texts count as the guard alone judged them"
        );
    }
    let conversations = if file.is_some() || judge.is_some() {
        Vec::new()
    } else {
        let never: fn(usize) -> bool = |n| !locomo_trained(n);
        let trained: fn(usize) -> bool = locomo_trained;
        let all: fn(usize) -> bool = |_| true;
        let locomo = "locomo/locomo10.json";
        let lme = "longmemeval/lme_dev60.json";
        vec![
            (
                "LoCoMo turns, the five conversations never trained on",
                locomo,
                Ordinary::Turns(None),
                never,
            ),
            (
                "LoCoMo turns, the five conversations trained on",
                locomo,
                Ordinary::Turns(None),
                trained,
            ),
            (
                "LoCoMo observations (memories of the conversations), never trained on",
                locomo,
                Ordinary::Observations,
                never,
            ),
            (
                "LoCoMo observations of the conversations trained on",
                locomo,
                Ordinary::Observations,
                trained,
            ),
            (
                "LongMemEval user turns",
                lme,
                Ordinary::Turns(Some("user")),
                all,
            ),
            (
                "LongMemEval assistant turns",
                lme,
                Ordinary::Turns(Some("assistant")),
                all,
            ),
        ]
    };
    for (name, rel, ordinary, conversations) in conversations {
        let path = format!("{data}/{rel}");
        let Ok(json) = std::fs::read_to_string(&path) else {
            continue;
        };
        let data: serde_json::Value =
            serde_json::from_str(&json).map_err(|e| invalid(format!("{path}: {e}")))?;
        let (mut texts, mut flagged, mut shown) = (0, 0, 0);
        for (n, conversation) in data.as_array().into_iter().flatten().enumerate() {
            if !conversations(n) {
                continue;
            }
            for text in ordinary.texts(conversation) {
                texts += 1;
                let (flag, rules) = cost.check(&guard, text);
                shown += guard.wants_opinion(text, flag) as usize;
                if flag {
                    flagged += 1;
                    if verbose {
                        eprintln!("false positive ({name}) [{}]: {text:?}", rules.join(", "));
                    }
                }
            }
        }
        println!(
            "| {name} (ordinary only) | - | {} | - / {} |",
            ratio(flagged, texts),
            ratio(shown, texts)
        );
    }

    // # Step 4: what a check costs, in this process (the first check pays for the model's
    // and the patterns' first use).
    println!(
        "\n{} checks: mean {:.1} µs, slowest {:.1} µs, first {:.1} µs",
        cost.n,
        cost.total.as_secs_f64() * 1e6 / cost.n.max(1) as f64,
        cost.slowest.as_secs_f64() * 1e6,
        cost.first.as_secs_f64() * 1e6,
    );
    // The classifier alone on the labelled texts (a memory's usual length), its first use
    // (loading the vocabulary and the model) apart.
    if let Some(model) = memdir::guard::classifier::model() {
        let start = Instant::now();
        model.best_segment("The first use loads the vocabulary.");
        let first = start.elapsed();
        let start = Instant::now();
        for t in &labelled_texts {
            model.best_segment(t);
        }
        println!(
            "the classifier alone: first use {:.1} µs, then mean {:.1} µs over {} labelled texts",
            first.as_secs_f64() * 1e6,
            start.elapsed().as_secs_f64() * 1e6 / labelled_texts.len().max(1) as f64,
            labelled_texts.len()
        );
    }
    Ok(())
}

/// Ordinary texts of a LoCoMo-shaped conversation.
#[derive(Clone, Copy)]
enum Ordinary {
    /// Its turns, of one speaker or of both.
    Turns(Option<&'static str>),
    /// LoCoMo's `observation`s: one-sentence facts about the speakers written from the
    /// conversation ("Caroline attended an LGBTQ support group recently..."), shaped like the
    /// memories an agent keeps.
    Observations,
}

impl Ordinary {
    fn texts(self, conversation: &serde_json::Value) -> Vec<&str> {
        let objects = |key: &str| -> Vec<&serde_json::Value> {
            conversation[key]
                .as_object()
                .into_iter()
                .flatten()
                .filter(|(k, _)| !k.ends_with("date_time"))
                .map(|(_, v)| v)
                .collect()
        };
        match self {
            Ordinary::Turns(speaker) => objects("conversation")
                .into_iter()
                .flat_map(|session| session.as_array().into_iter().flatten())
                .filter(|turn| speaker.is_none_or(|s| turn["speaker"] == s))
                .map(|turn| turn["text"].as_str().unwrap_or_default())
                .collect(),
            // `{"session_1_observation": {"Caroline": [["text", "D1:3"], ...], ...}, ...}`
            Ordinary::Observations => objects("observation")
                .into_iter()
                .flat_map(|by_speaker| by_speaker.as_object().into_iter().flatten())
                .flat_map(|(_, items)| items.as_array().into_iter().flatten())
                .filter_map(|item| item[0].as_str())
                .collect(),
        }
    }
}

/// The time spent checking.
#[derive(Default)]
struct Cost {
    n: usize,
    total: Duration,
    slowest: Duration,
    first: Duration,
}

impl Cost {
    /// Returns whether the guard flags `text`, and the rules, timing the check.
    fn check(&mut self, guard: &Guard, text: &str) -> (bool, Vec<String>) {
        let start = Instant::now();
        let checked = guard.check(text);
        let took = start.elapsed();
        if self.n == 0 {
            self.first = took;
        }
        self.n += 1;
        self.total += took;
        self.slowest = self.slowest.max(took);
        let rules = checked.flags.into_iter().map(|f| f.rule).collect();
        (checked.verdict == Verdict::Flag, rules)
    }
}

fn ratio(a: usize, b: usize) -> String {
    let pct = if b == 0 {
        0.0
    } else {
        100.0 * a as f64 / b as f64
    };
    format!("{a}/{b} = {pct:.1}%")
}

fn invalid(message: String) -> memdir::Error {
    memdir::Error::Invalid { message }
}
