//! LoCoMo retrieval: how often does `memdir search` find the turns that answer a question?
//!
//! Run it with `cargo run --release --example locomo -- [PATH] [--json] [--k-max 10]
//! [--context-budget N]... [--misses]`. PATH is LoCoMo's `locomo10.json` (default:
//! `../shared/data/locomo/locomo10.json` beside the crate root), or a file of the same shape
//! (`../shared/data/longmemeval/lme_dev60.json`); when it is absent, the example says so and
//! exits successfully.
//!
//! LoCoMo (Maharana et al., ACL 2024) holds long conversations between two people over many
//! sessions, and questions about them, each with the ids of the turns that hold the answer
//! (its evidence). For each conversation this example imports the turns into a fresh memory
//! repository exactly as `memdir import` does (one memory per session, one list item per
//! turn), asks every question with plain [`Memdir::search`], maps each hit to the one turn on
//! its first line, and reports recall@k: the share of a question's evidence turns among the
//! first k hits, averaged over questions, overall and per category.
//!
//! Beside it, in the same run, a plain BM25 reference (`bm25` below: one document per turn,
//! `speaker: text`, lower-cased words, no stemming, k1 1.2, b 0.75), so memdir's figures and
//! the reference's always come from the same questions and the same evidence.
//!
//! With `--context-budget N` (can be repeated) it also builds, for every question, the context
//! a stateless prompt would get ([`Memdir::context`], default format, budget N) and reports
//! *context recall*: the share of a question's evidence turns whose text is in that context.
//!
//! Nothing here knows the questions' answers or ids: it only imports and searches, so the
//! figures measure search itself.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use memdir::context::ContextRequest;
use memdir::transcript::{Format, Transcript, Turn, turn_id};
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

/// Context recall sums, per budget: the share of evidence turns whose text is in the context.
#[derive(Default)]
struct ContextRecall {
    overall: Recall,
    by_category: BTreeMap<String, Recall>,
}

impl ContextRecall {
    fn json(&self, budget: usize) -> Value {
        let by_category: serde_json::Map<String, Value> = self
            .by_category
            .iter()
            .map(|(c, r)| (c.clone(), json!(round(r.mean(budget)))))
            .collect();
        json!({"overall": round(self.overall.mean(budget)), "by_category": by_category})
    }
}

fn main() -> memdir::Result<()> {
    // # Step 1: arguments.
    let args = match Args::parse() {
        Ok(a) => a,
        Err(message) => {
            eprintln!(
                "{message}\nusage: cargo run --release --example locomo -- [PATH] [--json] [--k-max 10] [--context-budget N]... [--misses]"
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
    let mut plain = Recall::default();
    let mut plain_by_category: BTreeMap<String, Recall> = BTreeMap::new();
    let mut in_context = ContextRecall::default();
    let mut context_time = Duration::ZERO;
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
        let turns_by_id: HashMap<&str, &Turn> = transcript
            .sessions
            .iter()
            .flat_map(|s| s.turns.iter().map(|t| (t.id.as_str(), t)))
            .collect();
        let reference = bm25::Index::new(
            transcript
                .sessions
                .iter()
                .flat_map(|s| s.turns.iter())
                .map(|t| (t.id.clone(), format!("{}: {}", t.speaker, t.text))),
        );

        // # Step 4: search, and map each hit to exactly one turn: the one whose list item
        // starts on the hit's first line.
        let mut files: HashMap<String, Vec<String>> = HashMap::new();
        for q in questions.get(conv).map(Vec::as_slice).unwrap_or_default() {
            repairs.unknown += q
                .evidence
                .iter()
                .filter(|e| !turns_by_id.contains_key(e.as_str()))
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
            let at_k = recall_at(&ks, &found, &q.evidence);
            overall.add(&at_k);
            by_category
                .entry(q.category.clone())
                .or_default()
                .add(&at_k);

            // # Step 5: the plain BM25 reference, on the same question.
            let ranked: Vec<Option<String>> = reference
                .top(&q.text, args.k_max)
                .into_iter()
                .map(Some)
                .collect();
            let plain_at_k = recall_at(&ks, &ranked, &q.evidence);
            if args.misses && plain_at_k[&args.k_max] > at_k[&args.k_max] {
                let show = |ids: &[Option<String>]| -> Vec<String> {
                    ids.iter()
                        .map(|i| i.clone().unwrap_or_else(|| "-".into()))
                        .collect()
                };
                eprintln!(
                    "miss [{}] {} | evidence {:?}\n  memdir {:?}\n  bm25   {:?}",
                    q.category,
                    q.text,
                    q.evidence,
                    show(&found),
                    show(&ranked)
                );
            }
            let at_k = plain_at_k;
            plain.add(&at_k);
            plain_by_category
                .entry(q.category.clone())
                .or_default()
                .add(&at_k);

            // # Step 6: the context a prompt would get, at each budget.
            let mut shares = BTreeMap::new();
            for &budget in &args.context_budgets {
                let started = Instant::now();
                let context = mem.context(&ContextRequest {
                    log: Some(false),
                    ..ContextRequest::new(&q.text, budget)
                })?;
                context_time += started.elapsed();
                let text = collapse(&context.text);
                let inside = q
                    .evidence
                    .iter()
                    .filter(|e| {
                        turns_by_id
                            .get(e.as_str())
                            .is_some_and(|t| turn_in(&text, t))
                    })
                    .count();
                shares.insert(budget, inside as f64 / q.evidence.len() as f64);
            }
            if !shares.is_empty() {
                in_context.overall.add(&shares);
                in_context
                    .by_category
                    .entry(q.category.clone())
                    .or_default()
                    .add(&shares);
            }
        }
    }

    // # Step 7: report.
    let categories_json =
        |by_category: &BTreeMap<String, Recall>| -> serde_json::Map<String, Value> {
            by_category
                .iter()
                .map(|(c, r)| (c.clone(), r.json(&ks)))
                .collect()
        };
    let overall_json = |overall: &Recall| {
        let mut o = overall.json(&ks);
        o.as_object_mut().map(|o| o.remove("questions"));
        o
    };
    if args.json {
        let context_recall: serde_json::Map<String, Value> = args
            .context_budgets
            .iter()
            .map(|&b| (b.to_string(), in_context.json(b)))
            .collect();
        let report = json!({
            "overall": overall_json(&overall),
            "by_category": categories_json(&by_category),
            "plain_bm25": {
                "overall": overall_json(&plain),
                "by_category": categories_json(&plain_by_category),
            },
            "context_recall": context_recall,
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
                "context": round(context_time.as_secs_f64()),
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
    let row = |label: &str, r: &Recall, plain: Option<&Recall>| {
        let cells: Vec<String> = ks.iter().map(|&k| format!("{:>6.3}", r.mean(k))).collect();
        let reference: Vec<String> = plain
            .map(|p| ks.iter().map(|&k| format!("{:>6.3}", p.mean(k))).collect())
            .unwrap_or_default();
        println!(
            "{label:<42} {:>9} {}   {}",
            r.questions,
            cells.join(" "),
            reference.join(" ")
        );
    };
    println!("{:<42} {:>9} memdir   (plain BM25)", "", "");
    let label = |c: &str| match CATEGORIES.iter().find(|(n, _)| *n == c) {
        Some((n, name)) => format!("{n} {name}"),
        None => format!("{c} (category)"),
    };
    for (c, r) in &by_category {
        row(&label(c), r, plain_by_category.get(c));
    }
    row("memdir search (overall)", &overall, Some(&plain));
    if !args.context_budgets.is_empty() {
        println!(
            "\nContext recall (evidence turns whose text is in the context; {:.2}s):",
            context_time.as_secs_f64()
        );
        let budgets: Vec<String> = args
            .context_budgets
            .iter()
            .map(|b| format!("{:>6}", b))
            .collect();
        println!("{:<42} {:>9} {}", "budget (tokens)", "", budgets.join(" "));
        let line = |label: &str, r: &Recall| {
            let cells: Vec<String> = args
                .context_budgets
                .iter()
                .map(|&b| format!("{:>6.3}", r.mean(b)))
                .collect();
            println!("{label:<42} {:>9} {}", r.questions, cells.join(" "));
        };
        for (c, r) in &in_context.by_category {
            line(&label(c), r);
        }
        line("overall", &in_context.overall);
    }
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

/// Returns recall@k for each k: the share of `evidence` among the turns of the first k hits.
fn recall_at(
    ks: &[usize],
    found: &[Option<String>],
    evidence: &BTreeSet<String>,
) -> BTreeMap<usize, f64> {
    ks.iter()
        .map(|&k| {
            let top: BTreeSet<&str> = found.iter().take(k).flatten().map(String::as_str).collect();
            let hit = evidence.iter().filter(|e| top.contains(e.as_str())).count();
            (k, hit as f64 / evidence.len() as f64)
        })
        .collect()
}

/// Returns `text` with every run of whitespace made one space, so a turn's text is found in a
/// context whatever the line breaks and indentation around it.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Returns whether `turn` is in the (collapsed) context text: its id marker (`[D1:3]`, which
/// every passage of an imported turn starts with) and its whole text (or caption).
fn turn_in(context: &str, turn: &Turn) -> bool {
    let said = collapse(&turn.text);
    let said = if said.is_empty() {
        collapse(turn.caption.as_deref().unwrap_or_default())
    } else {
        said
    };
    context.contains(&format!("[{}]", turn.id)) && context.contains(&said)
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The command line.
struct Args {
    path: PathBuf,
    json: bool,
    k_max: usize,
    /// Budgets to measure context recall at (`--context-budget`, can be repeated).
    context_budgets: Vec<usize>,
    /// Print, on stderr, every question where memdir finds less evidence in the first
    /// `k_max` hits than the plain BM25 reference (`--misses`).
    misses: bool,
}

impl Args {
    fn parse() -> Result<Args, String> {
        let mut args = Args {
            path: Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/locomo/locomo10.json"),
            json: false,
            k_max: 10,
            context_budgets: Vec::new(),
            misses: false,
        };
        let mut it = std::env::args().skip(1);
        while let Some(a) = it.next() {
            match a.as_str() {
                "--json" => args.json = true,
                "--misses" => args.misses = true,
                "--k-max" => {
                    args.k_max = it
                        .next()
                        .and_then(|k| k.parse().ok())
                        .filter(|&k| k > 0)
                        .ok_or("--k-max takes a number of hits, at least 1")?;
                }
                "--context-budget" => {
                    let budget = it
                        .next()
                        .and_then(|k| k.parse().ok())
                        .filter(|&k| k > 0)
                        .ok_or("--context-budget takes a number of tokens, at least 1")?;
                    if !args.context_budgets.contains(&budget) {
                        args.context_budgets.push(budget);
                    }
                }
                flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
                path => args.path = PathBuf::from(path),
            }
        }
        Ok(args)
    }
}

/// The plain BM25 reference: what a search engine with no knowledge of language finds.
mod bm25 {
    use std::collections::HashMap;

    /// Term-frequency saturation.
    const K1: f64 = 1.2;
    /// Length normalisation.
    const B: f64 = 0.75;

    /// Documents (one per turn) as bags of lower-cased words.
    pub struct Index {
        ids: Vec<String>,
        lengths: Vec<f64>,
        average: f64,
        /// Word -> (document, count) for every document holding it.
        postings: HashMap<String, Vec<(usize, u32)>>,
    }

    /// Returns the lower-cased words of `text`: runs of letters and digits, nothing stemmed
    /// or dropped.
    pub fn words(text: &str) -> impl Iterator<Item = String> + '_ {
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
    }

    impl Index {
        /// Indexes `(id, text)` documents.
        pub fn new(docs: impl Iterator<Item = (String, String)>) -> Index {
            let (mut ids, mut lengths) = (Vec::new(), Vec::new());
            let mut postings: HashMap<String, Vec<(usize, u32)>> = HashMap::new();
            for (n, (id, text)) in docs.enumerate() {
                let mut counts: HashMap<String, u32> = HashMap::new();
                let mut length = 0;
                for w in words(&text) {
                    *counts.entry(w).or_default() += 1;
                    length += 1;
                }
                for (w, c) in counts {
                    postings.entry(w).or_default().push((n, c));
                }
                ids.push(id);
                lengths.push(f64::from(length));
            }
            let average = lengths.iter().sum::<f64>() / lengths.len().max(1) as f64;
            Index {
                ids,
                lengths,
                average,
                postings,
            }
        }

        /// Returns the ids of the `k` best documents for `query`, best first (ties in
        /// document order). Each query word counts once per occurrence, as in Lucene's
        /// boolean query of term clauses; idf is Lucene's, `ln(1 + (N - df + 0.5) / (df + 0.5))`.
        pub fn top(&self, query: &str, k: usize) -> Vec<String> {
            let n = self.ids.len() as f64;
            let mut scores = vec![0.0f64; self.ids.len()];
            for w in words(query) {
                let Some(list) = self.postings.get(&w) else {
                    continue;
                };
                let df = list.len() as f64;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                for &(doc, tf) in list {
                    let tf = f64::from(tf);
                    let norm = K1 * (1.0 - B + B * self.lengths[doc] / self.average);
                    scores[doc] += idf * tf * (K1 + 1.0) / (tf + norm);
                }
            }
            let mut ranked: Vec<usize> = (0..scores.len()).filter(|&d| scores[d] > 0.0).collect();
            ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
            ranked
                .into_iter()
                .take(k)
                .map(|d| self.ids[d].clone())
                .collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::normalise_evidence;

    #[test]
    fn plain_bm25_ranks_rare_words_and_short_documents_first() {
        let index = super::bm25::Index::new(
            [
                (
                    "a",
                    "Alice: I went hiking in the Alps last summer with my sister.",
                ),
                ("b", "Bob: the the the summer"),
                ("c", "Alice: Hiking!"),
            ]
            .into_iter()
            .map(|(id, t)| (id.to_owned(), t.to_owned())),
        );
        assert_eq!(index.top("hiking", 10), ["c", "a"]);
        assert_eq!(index.top("Alps summer", 1), ["a"]);
        assert_eq!(index.top("nothing here", 10), Vec::<String>::new());
    }

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
