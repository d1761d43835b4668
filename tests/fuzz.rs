//! Fuzzing the scenario reader: valid scenarios mutated (bytes flipped,
//! lines deleted, duplicated or swapped, tokens swapped, random numbers and
//! unit strings in fields) go through parse and validate and must never
//! panic; every error must name its place; a scenario that validates must
//! survive the round trip through `scenario.ron`, and small ones must run
//! with every law checked.
//!
//! - `corpus_replays` (CI, seconds): every file in `tests/corpus/` and
//!   `scenarios/invalid/`.
//! - `mutated_scenarios_never_panic` (CI): `PROPTEST_CASES` mutants (2,000).
//! - `long_fuzz` (not in CI): runs for `PATCHSIM_FUZZ_SECS` seconds (1800),
//!   saves each failing input, minimised, under `tests/corpus/` and one
//!   input per new kind of outcome under `PATCHSIM_FUZZ_OUT`
//!   (`target/fuzz-found`):
//!   `PATCHSIM_FUZZ_SECS=1800 cargo test --test fuzz -- --ignored --nocapture`

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use patchsim::scenario::{self, Dur};
use patchsim::{ScenarioError, engine::SimDuration};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::{Config, TestCaseError, TestError, TestRunner};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The valid scenarios the mutants start from: `scenarios/*.ron`, the
/// golden scenarios and the test template.
fn seeds() -> Vec<String> {
    let mut seeds = Vec::new();
    for dir in ["scenarios", "tests/golden/scenarios"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
            .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
            .unwrap_or_default();
        files.sort();
        for f in files
            .iter()
            .filter(|f| f.extension() == Some("ron".as_ref()))
        {
            seeds.push(std::fs::read_to_string(f).expect("read seed"));
        }
    }
    seeds.push(common::ron(&common::Knobs::default()));
    seeds
}

/// What one input led to, coarsely (the error's kind and field, not its
/// values): a new kind is an interesting input.
fn kind(text: &str, run_small: bool) -> Result<String, String> {
    let raw = match scenario::parse(text, "fuzz.ron") {
        Ok(raw) => raw,
        Err(e) => {
            check_message(&e)?;
            return Ok(match &e {
                ScenarioError::Syntax { path, message, .. } => {
                    // An unknown field's path ends in the unknown name.
                    let path = match path.rsplit_once('.') {
                        _ if !message.starts_with("unknown") => path.as_str(),
                        Some((parent, _)) => parent,
                        None => "",
                    };
                    format!("syntax {} {}", strip_indices(path), first_words(message))
                }
                _ => format!("parse {}", first_words(&e.to_string())),
            });
        }
    };
    let estate = match scenario::build(raw.clone(), "fuzz.ron") {
        Ok(estate) => estate,
        Err(e) => {
            check_message(&e)?;
            let ScenarioError::Invalid { problems, .. } = &e else {
                return Err(format!("build gave a non-validation error: {e}"));
            };
            let p = &problems[0];
            return Ok(format!(
                "invalid {} {}",
                strip_indices(&p.path),
                first_words(&p.message)
            ));
        }
    };
    // `scenario.ron` reproduces the run: the resolved text reads back to
    // the same scenario.
    let resolved = estate.source.text.clone();
    let again = scenario::parse(&resolved, "resolved.ron")
        .and_then(|r| scenario::build(r, "resolved.ron"))
        .map_err(|e| format!("the resolved scenario does not read back: {e}\n{resolved}"))?;
    if again.hash != estate.hash {
        return Err(format!(
            "the resolved scenario reads back with another hash\n{resolved}"
        ));
    }
    count(1, 0);
    let memory = patchsim::app::estimate_memory(&estate, true);
    if memory.bytes == 0 {
        return Err("a zero memory estimate".to_string());
    }
    if run_small {
        run_small_copy(raw)?;
    }
    Ok("valid".to_string())
}

thread_local! {
    /// Mutants that validated, and cut-down copies run with every law checked.
    static VALID_AND_RUN: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
}

fn count(valid: u64, run: u64) {
    VALID_AND_RUN.with(|c| {
        let (v, r) = c.get();
        c.set((v + valid, r + run));
    });
}

/// Runs a copy cut down to at most 100 clients per cohort and two days,
/// with every law checked.
fn run_small_copy(mut raw: scenario::Scenario) -> Result<(), String> {
    for c in &mut raw.cohorts {
        c.count = c.count.min(100);
    }
    raw.duration = Dur(raw.duration.0.min(SimDuration::from_days(2)));
    let Ok(estate) = scenario::build(raw, "small.ron") else {
        return Ok(()); // instants beyond the shorter run: nothing to run
    };
    if estate.client_count() > 2_000 {
        return Ok(());
    }
    count(0, 1);
    patchsim::app::run_checked(&estate)
        .map(|_| ())
        .map_err(|v| format!("{v}\n{}", estate.source.text))
}

/// Every error names its place and says something.
fn check_message(e: &ScenarioError) -> Result<(), String> {
    let text = e.to_string();
    if !text.starts_with("fuzz.ron") || text.len() < 15 {
        return Err(format!("message does not name the file: {text}"));
    }
    match e {
        ScenarioError::Syntax { line, col, .. } if *line == 0 || *col == 0 => {
            Err(format!("no line and column: {text}"))
        }
        ScenarioError::Invalid { problems, .. }
            if problems.is_empty()
                || problems
                    .iter()
                    .any(|p| p.path.is_empty() || p.message.is_empty()) =>
        {
            Err(format!("a problem without a place or a message: {text}"))
        }
        _ => Ok(()),
    }
}

fn strip_indices(path: &str) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for c in path.chars() {
        match c {
            '[' => {
                skipping = true;
                out.push_str("[]");
            }
            ']' => skipping = false,
            _ if !skipping => out.push(c),
            _ => {}
        }
    }
    out
}

/// The first two words of a message that carry no value from the input.
fn first_words(message: &str) -> String {
    message
        .split_whitespace()
        .filter(|w| w.chars().all(|c| c.is_ascii_lowercase() || c == ','))
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

/// One edit of a scenario's text; positions are fractions of what is there.
#[derive(Clone, Debug)]
enum Mutation {
    FlipByte(Index, u8),
    DeleteLine(Index),
    DuplicateLine(Index),
    SwapLines(Index, Index),
    SwapTokens(Index, Index),
    Number(Index, String),
    Text(Index, String),
    Insert(Index, String),
    DeleteRange(Index, usize),
}

const NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "0.5",
    "1.0000001",
    "65535",
    "65536",
    "4294967295",
    "4294967296",
    "10000001",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999",
    "-0.0",
    "1e308",
    "1e-320",
    "NaN",
    "inf",
    "-inf",
    "0x10",
    "1_000",
];

const TEXTS: &[&str] = &[
    "",
    " ",
    "0s",
    "0ms",
    "1ms",
    "1s",
    "59s",
    "1m",
    "24h",
    "31d",
    "366d",
    "367d",
    "999999999999999d",
    "18446744073709551615ms",
    "1.5ms",
    "0.0000000001s",
    "1h1h",
    "-1h",
    "7w",
    "0MB",
    "1B",
    "1TB",
    "1.5GiB",
    "99999999999TB",
    "0bps",
    "1bps",
    "999kbps",
    "99999999999Gbps",
    "00:00",
    "23:59",
    "24:00",
    "25:61",
    "9:5",
    "9999-12-31T23:59:59Z",
    "0000-01-01T00:00:00Z",
    "1970-01-01T00:00:00Z",
    "2026-11-09T00:00:00+14:00",
    "2026-11-09T00:00:00-23:59",
    "2026-11-09T23:59:60Z",
    "2026-11-09T00:00:00.999999999Z",
    "2026-11-10T19:00:00+01:00",
    "2026-12-31T00:00:00Z",
    "KB5046617",
    "mp01",
    "dp01",
    "desktops",
    "é",
    "\\u{0}",
    "\\\"",
    "a\\nb",
];

const INSERTS: &[&str] = &[
    ",",
    "(",
    ")",
    "[",
    "]",
    ":",
    "\"",
    "//",
    "/*",
    "Some(",
    "None",
    "0",
    "r#\"",
    "#![enable(implicit_some)]",
    "\n",
    "'",
    "\\",
];

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipByte(i, b)),
        any::<Index>().prop_map(Mutation::DeleteLine),
        any::<Index>().prop_map(Mutation::DuplicateLine),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mutation::SwapTokens(a, b)),
        (
            any::<Index>(),
            prop_oneof![
                proptest::sample::select(NUMBERS).prop_map(str::to_string),
                any::<u64>().prop_map(|n| n.to_string()),
                any::<i32>().prop_map(|n| n.to_string()),
                (0.0f64..2.0).prop_map(|f| f.to_string()),
            ]
        )
            .prop_map(|(i, n)| Mutation::Number(i, n)),
        (
            any::<Index>(),
            prop_oneof![
                proptest::sample::select(TEXTS).prop_map(str::to_string),
                (
                    1u64..100_000,
                    proptest::sample::select(
                        &["ms", "s", "m", "h", "d", "w", "MB", "GB", "Mbps", "x"][..]
                    )
                )
                    .prop_map(|(n, u)| format!("{n}{u}")),
                proptest::collection::vec(any::<char>(), 0..6)
                    .prop_map(|v| v.into_iter().collect()),
            ]
        )
            .prop_map(|(i, t)| Mutation::Text(i, t)),
        (any::<Index>(), proptest::sample::select(INSERTS))
            .prop_map(|(i, t)| Mutation::Insert(i, t.to_string())),
        (any::<Index>(), 1usize..200).prop_map(|(i, n)| Mutation::DeleteRange(i, n)),
    ]
}

/// A seed (by index) and the edits applied to it in order.
fn mutant(seeds: usize) -> impl Strategy<Value = (usize, Vec<Mutation>)> {
    (0..seeds, proptest::collection::vec(mutation(), 1..6))
}

/// Byte ranges of the tokens of `text` (quoted strings whole).
fn tokens(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
        } else if b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-' || b[i] == b'.' {
            while i < b.len()
                && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-' || b[i] == b'.')
            {
                i += 1;
            }
        } else if b[i].is_ascii_whitespace() {
            i += 1;
            continue;
        } else {
            i += 1;
            // A multi-byte character is one token.
            while i < b.len() && !text.is_char_boundary(i) {
                i += 1;
            }
        }
        out.push((start, i));
    }
    out
}

fn apply(text: &str, m: &Mutation) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    match m {
        Mutation::FlipByte(i, b) => {
            let mut bytes = text.as_bytes().to_vec();
            if !bytes.is_empty() {
                let at = i.index(bytes.len());
                bytes[at] = *b;
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        Mutation::DeleteLine(i) if !lines.is_empty() => {
            let at = i.index(lines.len());
            lines
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != at)
                .map(|(_, l)| *l)
                .collect()
        }
        Mutation::DuplicateLine(i) if !lines.is_empty() => {
            let at = i.index(lines.len());
            let mut out: Vec<&str> = lines.clone();
            out.insert(at, lines[at]);
            out.concat()
        }
        Mutation::SwapLines(a, b) if !lines.is_empty() => {
            let mut out = lines.clone();
            out.swap(a.index(lines.len()), b.index(lines.len()));
            out.concat()
        }
        Mutation::SwapTokens(a, b) => {
            let toks = tokens(text);
            if toks.len() < 2 {
                return text.to_string();
            }
            let (x, y) = (a.index(toks.len()), b.index(toks.len()));
            let (x, y) = (x.min(y), x.max(y));
            if x == y {
                return text.to_string();
            }
            let (ta, tb) = (toks[x], toks[y]);
            format!(
                "{}{}{}{}{}",
                &text[..ta.0],
                &text[tb.0..tb.1],
                &text[ta.1..tb.0],
                &text[ta.0..ta.1],
                &text[tb.1..]
            )
        }
        Mutation::Number(i, n) => {
            let nums: Vec<(usize, usize)> = tokens(text)
                .into_iter()
                .filter(|&(s, _)| {
                    let c = text.as_bytes()[s];
                    c.is_ascii_digit() || c == b'-'
                })
                .collect();
            replace_one(text, &nums, i, n)
        }
        Mutation::Text(i, t) => {
            let strings: Vec<(usize, usize)> = tokens(text)
                .into_iter()
                .filter(|&(s, e)| text.as_bytes()[s] == b'"' && e - s >= 2)
                .map(|(s, e)| (s + 1, e - 1))
                .collect();
            replace_one(text, &strings, i, t)
        }
        Mutation::Insert(i, t) => {
            let mut at = i.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            format!("{}{t}{}", &text[..at], &text[at..])
        }
        Mutation::DeleteRange(i, n) => {
            let mut at = i.index(text.len() + 1);
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + n).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            format!("{}{}", &text[..at], &text[end..])
        }
        _ => text.to_string(),
    }
}

fn replace_one(text: &str, spans: &[(usize, usize)], i: &Index, with: &str) -> String {
    if spans.is_empty() {
        return text.to_string();
    }
    let (s, e) = spans[i.index(spans.len())];
    format!("{}{with}{}", &text[..s], &text[e..])
}

fn mutate(seeds: &[String], (seed, edits): &(usize, Vec<Mutation>)) -> String {
    edits
        .iter()
        .fold(seeds[*seed].clone(), |text, m| apply(&text, m))
}

/// The files replayed in CI: the corpus and the hand-broken scenarios.
fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    for dir in ["tests/corpus", "scenarios/invalid"] {
        if let Ok(entries) = std::fs::read_dir(root().join(dir)) {
            files.extend(
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension() == Some("ron".as_ref())),
            );
        }
    }
    files.sort();
    files
}

#[test]
fn corpus_replays() {
    let files = corpus_files();
    assert!(files.len() >= 10, "the corpus is in the repository");
    for f in files {
        let bytes = std::fs::read(&f).expect("read corpus file");
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = kind(&text, true) {
            panic!("{}: {e}", f.display());
        }
    }
}

#[test]
fn mutated_scenarios_never_panic() {
    let seeds = seeds();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    // A fixed seed: CI replays the same mutants every time (the long fuzz
    // below explores new ones).
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_f022),
        ..Config::default()
    });
    let result = runner.run(&mutant(seeds.len()), |m| {
        kind(&mutate(&seeds, &m), false).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The long run: mutants until the time budget is spent. A failure is
/// minimised by proptest and saved under `tests/corpus/`; the run goes on.
#[test]
#[ignore = "long: PATCHSIM_FUZZ_SECS=1800 cargo test --test fuzz -- --ignored --nocapture"]
fn long_fuzz() {
    let budget = Duration::from_secs(
        std::env::var("PATCHSIM_FUZZ_SECS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1800),
    );
    let out_dir = std::env::var_os("PATCHSIM_FUZZ_OUT")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/fuzz-found"));
    std::fs::create_dir_all(&out_dir).expect("fuzz output directory");
    // Panics are caught and reported below; keep stderr readable.
    std::panic::set_hook(Box::new(|_| {}));
    let seeds = seeds();
    let started = Instant::now();
    let kinds = std::cell::RefCell::new(BTreeSet::new());
    let (mut tried, mut batches, mut failures) = (0u64, 0u64, 0u64);
    let tried_cell = std::cell::Cell::new(0u64);
    let mut reasons = BTreeSet::new();
    while started.elapsed() < budget {
        batches += 1;
        let mut runner = TestRunner::new(Config {
            cases: 2_000,
            failure_persistence: None,
            max_shrink_iters: 2_000,
            ..Config::default()
        });
        let result = runner.run(&mutant(seeds.len()), |m| {
            tried_cell.set(tried_cell.get() + 1);
            let text = mutate(&seeds, &m);
            // Every fourth valid mutant is also run, cut down, with --check.
            let run_small = tried_cell.get() % 4 == 0;
            let k = kind(&text, run_small).map_err(TestCaseError::fail)?;
            if kinds.borrow_mut().insert(k.clone()) {
                let n = kinds.borrow().len();
                std::fs::write(out_dir.join(format!("kind-{n:04}.ron")), &text)
                    .expect("save input");
                let mut index = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(out_dir.join("kinds.txt"))
                    .expect("kinds.txt");
                std::io::Write::write_all(&mut index, format!("kind-{n:04}.ron {k}\n").as_bytes())
                    .expect("write kinds.txt");
            }
            Ok(())
        });
        tried = tried_cell.get();
        match result {
            Ok(()) => {}
            Err(TestError::Fail(reason, m)) => {
                failures += 1;
                if !reasons.insert(reason.to_string()) {
                    println!("FAILURE {failures} (same as before): {reason}");
                    continue;
                }
                let text = mutate(&seeds, &m);
                let name = format!("fuzz-found-{failures}-{}.ron", std::process::id());
                std::fs::write(root().join("tests/corpus").join(&name), &text)
                    .expect("save failing input");
                println!("FAILURE {failures} (saved as tests/corpus/{name}): {reason}");
            }
            Err(TestError::Abort(reason)) => println!("aborted: {reason}"),
        }
        let (valid, runs) = VALID_AND_RUN.with(std::cell::Cell::get);
        println!(
            "{:>6.0}s: {tried} inputs ({valid} valid, {runs} run with --check), {batches} batches, {} kinds, {failures} failures",
            started.elapsed().as_secs_f64(),
            kinds.borrow().len()
        );
    }
    let _ = std::panic::take_hook();
    let (valid, runs) = VALID_AND_RUN.with(std::cell::Cell::get);
    println!(
        "long fuzz: {:.0} s, {tried} inputs, {valid} valid, {runs} run with --check, {} kinds of outcome, {failures} failures",
        started.elapsed().as_secs_f64(),
        kinds.borrow().len()
    );
    assert_eq!(failures, 0, "see tests/corpus/fuzz-found-*.ron");
}
