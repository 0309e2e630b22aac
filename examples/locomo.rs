//! LoCoMo retrieval: how often does `memdir search` find the turns that answer a question?
//!
//! Run it with `cargo run --release --example locomo -- [PATH] [--json] [--k-max 10]`. PATH is
//! LoCoMo's `locomo10.json` (default: `../shared/data/locomo/locomo10.json` beside the crate
//! root); when it is absent, the example says so and exits successfully.
//!
//! LoCoMo (Maharana et al., ACL 2024) holds long conversations between two people over many
//! sessions, and questions about them, each with the ids of the turns that hold the answer
//! (its evidence). For each conversation this example imports the turns into a fresh memory
//! repository exactly as `memdir import` does (one memory per session, one list item per
//! turn), asks every question with plain [`Memdir::search`], maps each hit to the one turn on
//! its first line, and reports recall@k: the share of a question's evidence turns among the
//! first k hits, averaged over questions, overall and per category.
//!
//! Nothing here knows the questions' answers or ids: it only imports and searches, so the
//! figures measure search itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memdir::transcript::{Format, Transcript, turn_id};
use memdir::{Author, Error, ImportOptions, Memdir, Provenance, SearchQuery};
use serde_json::{Value, json};

/// LoCoMo's question categories, by number.
const CATEGORIES: [(&str, &str); 5] = [
    ("1", "multi-hop"),
    ("2", "temporal"),
    ("3", "open-domain"),
    ("4", "single-hop"),
    ("5", "adversarial"),
];

/// Published reference points (see ../shared/data/README.md): name, R@1, R@5, R@10.
const REFERENCES: [(&str, Option<f64>, f64, f64); 3] = [
    (
        "plain BM25, one document per turn",
        Some(0.255),
        0.467,
        0.544,
    ),
    ("plain BM25, session date prefixed", None, 0.492, 0.567),
    (
        "DRAGON dense retriever (paper, Table 3)",
        None,
        0.567,
        0.662,
    ),
];

/// One question: its category and the turns that answer it.
struct Question {
    text: String,
    category: String,
    evidence: BTreeSet<String>,
}

/// What became of the evidence strings while reading them.
#[derive(Default)]
struct EvidenceRepairs {
    /// Strings read after a repair ("D8:6; D9:17", "D:11:26", "D30:05").
    normalised: usize,
    /// Pieces that could not be read at all, dropped.
    dropped: usize,
    /// Readable ids that name no turn of their conversation (kept: they cannot be found).
    unknown: usize,
    /// Questions left without evidence, excluded from the averages.
    excluded: usize,
}

/// Sums of recall@k over questions.
#[derive(Default, Clone)]
struct Recall {
    questions: usize,
    sums: BTreeMap<usize, f64>,
}

impl Recall {
    fn add(&mut self, at_k: &BTreeMap<usize, f64>) {
        self.questions += 1;
        for (k, r) in at_k {
            *self.sums.entry(*k).or_default() += r;
        }
    }

    fn mean(&self, k: usize) -> f64 {
        self.sums.get(&k).copied().unwrap_or_default() / self.questions.max(1) as f64
    }

    fn json(&self, ks: &[usize]) -> Value {
        let mut out = serde_json::Map::new();
        for &k in ks {
            out.insert(format!("recall@{k}"), json!(round(self.mean(k))));
        }
        out.insert("questions".into(), json!(self.questions));
        Value::Object(out)
    }
}

fn main() -> memdir::Result<()> {
    // # Step 1: arguments.
    let args = match Args::parse() {
        Ok(a) => a,
        Err(message) => {
            eprintln!(
                "{message}\nusage: cargo run --release --example locomo -- [PATH] [--json] [--k-max 10]"
            );
            std::process::exit(2);
        }
    };
    if !args.path.is_file() {
        println!(
            "LoCoMo data not found at {}: nothing to measure. Pass the path of locomo10.json.",
            args.path.display()
        );
        return Ok(());
    }
    let mut ks: Vec<usize> = [1, 5, 10]
        .into_iter()
        .filter(|&k| k <= args.k_max)
        .collect();
    if !ks.contains(&args.k_max) {
        ks.push(args.k_max);
    }

    // # Step 2: read the file: the turns through `memdir::transcript`, as `memdir import`
    // does (it never reads `qa`), and the questions with serde_json.
    let text = std::fs::read_to_string(&args.path).map_err(|e| Error::Io {
        path: args.path.clone(),
        source: e,
    })?;
    let name = args.path.display().to_string();
    let transcript = Transcript::parse(&name, &text, Format::Locomo, "locomo")?;
    let mut conversations: Vec<(String, Transcript)> = Vec::new();
    for session in transcript.sessions {
        let conv = session.conversation.clone().unwrap_or_default();
        match conversations.iter_mut().find(|(c, _)| *c == conv) {
            Some((_, t)) => t.sessions.push(session),
            None => conversations.push((
                conv,
                Transcript {
                    sessions: vec![session],
                },
            )),
        }
    }
    let mut repairs = EvidenceRepairs::default();
    let questions = read_questions(&text, &mut repairs)?;

    // # Step 3: per conversation, a fresh repository, the import, then every question.
    let author = Author {
        name: "LoCoMo harness".into(),
        email: "locomo@example.com".into(),
    };
    let prov = Provenance {
        agent: Some("locomo-example".into()),
        author: Some(author.clone()),
        ..Provenance::default()
    };
    let mut overall = Recall::default();
    let mut by_category: BTreeMap<String, Recall> = BTreeMap::new();
    let (mut sessions, mut turns, mut hits_total, mut off_turn) = (0, 0, 0, 0);
    let (mut import_time, mut search_time) = (Duration::ZERO, Duration::ZERO);
    for (conv, transcript) in &conversations {
        let dir = tempfile::tempdir().map_err(|e| Error::Io {
            path: std::env::temp_dir(),
            source: e,
        })?;
        let mem = Memdir::init_as(dir.path(), Some(&author))?;
        let started = Instant::now();
        mem.import(transcript, &ImportOptions::default(), &prov)?;
        import_time += started.elapsed();
        sessions += transcript.sessions.len();
        turns += transcript.turn_count();
        let known: BTreeSet<&str> = transcript
            .sessions
            .iter()
            .flat_map(|s| s.turns.iter().map(|t| t.id.as_str()))
            .collect();

        // # Step 4: search, and map each hit to exactly one turn: the one whose list item
        // starts on the hit's first line.
        let mut files: HashMap<String, Vec<String>> = HashMap::new();
        for q in questions.get(conv).map(Vec::as_slice).unwrap_or_default() {
            repairs.unknown += q
                .evidence
                .iter()
                .filter(|e| !known.contains(e.as_str()))
                .count();
            let started = Instant::now();
            let hits = mem.search(&SearchQuery {
                limit: Some(args.k_max),
                per_memory: Some(usize::MAX),
                ..SearchQuery::new(&q.text)
            })?;
            search_time += started.elapsed();
            let mut found: Vec<Option<String>> = Vec::with_capacity(hits.len());
            for hit in &hits {
                if !files.contains_key(&hit.path) {
                    let path = mem.root().join(&hit.path);
                    let text = std::fs::read_to_string(&path)
                        .map_err(|e| Error::Io { path, source: e })?;
                    files.insert(hit.path.clone(), text.lines().map(str::to_owned).collect());
                }
                let line = files[&hit.path].get(hit.line_start.wrapping_sub(1));
                let turn = line.and_then(|l| turn_id(l)).map(str::to_owned);
                hits_total += 1;
                off_turn += usize::from(turn.is_none());
                found.push(turn);
            }
            let at_k: BTreeMap<usize, f64> = ks
                .iter()
                .map(|&k| {
                    let top: BTreeSet<&str> =
                        found.iter().take(k).flatten().map(String::as_str).collect();
                    let hit = q
                        .evidence
                        .iter()
                        .filter(|e| top.contains(e.as_str()))
                        .count();
                    (k, hit as f64 / q.evidence.len() as f64)
                })
                .collect();
            overall.add(&at_k);
            by_category
                .entry(q.category.clone())
                .or_default()
                .add(&at_k);
        }
    }

    // # Step 5: report.
    if args.json {
        let categories: serde_json::Map<String, Value> = by_category
            .iter()
            .map(|(c, r)| (c.clone(), r.json(&ks)))
            .collect();
        let mut overall_json = overall.json(&ks);
        overall_json.as_object_mut().map(|o| o.remove("questions"));
        let report = json!({
            "overall": overall_json,
            "by_category": categories,
            "questions": overall.questions,
            "excluded_without_evidence": repairs.excluded,
            "evidence": {
                "normalised": repairs.normalised,
                "dropped": repairs.dropped,
                "not_in_conversation": repairs.unknown,
            },
            "conversations": conversations.len(),
            "sessions": sessions,
            "turns": turns,
            "k_max": args.k_max,
            "hits": hits_total,
            "hits_not_on_a_turn": off_turn,
            "seconds": {
                "import": round(import_time.as_secs_f64()),
                "search": round(search_time.as_secs_f64()),
            },
            "reference": REFERENCES.iter().map(|(name, r1, r5, r10)| json!({
                "name": name, "recall@1": r1, "recall@5": r5, "recall@10": r10,
            })).collect::<Vec<_>>(),
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&report).expect("JSON values serialize")
        );
        return Ok(());
    }
    println!(
        "LoCoMo retrieval with memdir search: {} conversations, {sessions} sessions, {turns} turns",
        conversations.len()
    );
    println!(
        "{} questions with evidence ({} without evidence excluded); evidence strings: {} normalised, {} pieces dropped, {} ids name no turn",
        overall.questions, repairs.excluded, repairs.normalised, repairs.dropped, repairs.unknown
    );
    println!(
        "{hits_total} hits, {off_turn} of them not on a turn's line; import {:.2}s, search {:.2}s ({:.2} ms per question)\n",
        import_time.as_secs_f64(),
        search_time.as_secs_f64(),
        search_time.as_secs_f64() * 1000.0 / overall.questions.max(1) as f64
    );
    let header: Vec<String> = ks
        .iter()
        .map(|k| format!("{:>6}", format!("R@{k}")))
        .collect();
    println!("{:<42} {:>9} {}", "", "questions", header.join(" "));
    let row = |label: &str, r: &Recall| {
        let cells: Vec<String> = ks.iter().map(|&k| format!("{:>6.3}", r.mean(k))).collect();
        println!("{label:<42} {:>9} {}", r.questions, cells.join(" "));
    };
    for (number, name) in CATEGORIES {
        if let Some(r) = by_category.get(number) {
            row(&format!("{number} {name}"), r);
        }
    }
    for (c, r) in by_category
        .iter()
        .filter(|(c, _)| !CATEGORIES.iter().any(|(n, _)| n == c))
    {
        row(&format!("{c} (unknown category)"), r);
    }
    row("memdir search (overall)", &overall);
    println!("\nReference points (../shared/data/README.md):");
    for (name, r1, r5, r10) in REFERENCES {
        let r1 = r1.map_or("     -".to_owned(), |r| format!("{r:>6.3}"));
        println!("{name:<42} {:>9} {r1} {r5:>6.3} {r10:>6.3}", "");
    }
    Ok(())
}

/// Returns the questions of every conversation that have evidence, by `sample_id`.
fn read_questions(
    text: &str,
    repairs: &mut EvidenceRepairs,
) -> memdir::Result<HashMap<String, Vec<Question>>> {
    let bad = |message: &str| Error::Invalid {
        message: format!("LoCoMo file: {message}"),
    };
    let data: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let samples = match &data {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut out: HashMap<String, Vec<Question>> = HashMap::new();
    for sample in samples {
        let conv = sample["sample_id"]
            .as_str()
            .ok_or_else(|| bad("a sample has no `sample_id`"))?;
        for qa in sample["qa"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let mut evidence = BTreeSet::new();
            for raw in qa["evidence"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let raw = raw.as_str().unwrap_or_default();
                let (ids, dropped) = normalise_evidence(raw);
                repairs.dropped += dropped;
                if ids.len() != 1 || ids[0] != raw {
                    repairs.normalised += usize::from(!ids.is_empty());
                }
                evidence.extend(ids);
            }
            if evidence.is_empty() {
                repairs.excluded += 1;
                continue;
            }
            let category = match &qa["category"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => "?".into(),
            };
            out.entry(conv.to_owned()).or_default().push(Question {
                text: qa["question"].as_str().unwrap_or_default().to_owned(),
                category,
                evidence,
            });
        }
    }
    Ok(out)
}

/// Reads the turn ids in one evidence string, repairing what can be read: `D8:6; D9:17` is two
/// ids, `D:11:26` is `D11:26`, `D30:05` is `D30:5`. Returns the ids and how many pieces could
/// not be read.
fn normalise_evidence(raw: &str) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut dropped = 0;
    for piece in raw.split(|c: char| c == ';' || c == ',' || c.is_whitespace()) {
        if piece.is_empty() {
            continue;
        }
        let parsed = piece
            .strip_prefix('D')
            .map(|rest| rest.trim_start_matches(':'))
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(s, t)| Some((s.parse::<u32>().ok()?, t.parse::<u32>().ok()?)));
        match parsed {
            Some((session, turn)) => ids.push(format!("D{session}:{turn}")),
            None => dropped += 1,
        }
    }
    (ids, dropped)
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The command line.
struct Args {
    path: PathBuf,
    json: bool,
    k_max: usize,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            path: Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/locomo/locomo10.json"),
            json: false,
            k_max: 10,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--json" => args.json = true,
                "--k-max" => {
                    args.k_max = it
                        .next()
                        .and_then(|k| k.parse().ok())
                        .filter(|&k| k > 0)
                        .ok_or("--k-max takes a number of hits, at least 1")?;
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                path => args.path = PathBuf::from(path),
            }
        }
        Ok(args)
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_evidence;

    #[test]
    fn malformed_evidence_is_repaired_or_dropped() {
        let ids = |raw| normalise_evidence(raw);
        assert_eq!(ids("D1:3"), (vec!["D1:3".to_owned()], 0));
        assert_eq!(
            ids("D8:6; D9:17"),
            (vec!["D8:6".to_owned(), "D9:17".to_owned()], 0)
        );
        assert_eq!(
            ids("D9:1 D4:4"),
            (vec!["D9:1".to_owned(), "D4:4".to_owned()], 0)
        );
        assert_eq!(ids("D:11:26"), (vec!["D11:26".to_owned()], 0));
        assert_eq!(ids("D30:05"), (vec!["D30:5".to_owned()], 0));
        assert_eq!(ids("D"), (vec![], 1));
        assert_eq!(ids(""), (vec![], 0));
    }
}
