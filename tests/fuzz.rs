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
//!   `PATCHSIM_FUZZ_SECS=1800 cargo test --release --test fuzz -- --ignored --nocapture`
//!
//! The paths around the scenario reader, each input checked for no panic,
//! an exit code of 0, 1 or 2 with an `error:` line for 1 and 2, and no
//! staging directory or lock left behind:
//!
//! - `command_lines_never_panic` (CI): mutated command lines (tokens
//!   replaced by odd numbers, paths and flags, dropped, doubled, swapped)
//!   of `run`, `explain`, `validate`, `sweep` and `merge`, run in process
//!   through `cli::run_with` in a scratch directory, and a share through
//!   the binary itself.
//! - `set_values_never_panic` (CI): `--set PATH=VALUES` from real paths and
//!   odd values, planned against a scenario as `sweep` does.
//! - `mutated_study_files_never_panic` (CI): a shard's `study.json` (JSON
//!   values replaced, keys dropped, lists emptied or doubled, bytes
//!   flipped) and `runs.csv` (cells replaced by NaN, inf, huge or empty
//!   values, rows dropped or doubled) read and merged.
//! - `long_fuzz_commands` (not in CI): `PATCHSIM_FUZZ_INPUTS` inputs
//!   (1,000,000) of the three kinds:
//!   `cargo test --release --test fuzz long_fuzz_commands -- --ignored --nocapture`

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
#[ignore = "long: PATCHSIM_FUZZ_SECS=1800 cargo test --release --test fuzz -- --ignored --nocapture"]
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

/// A scratch directory that is the process's working directory for the
/// in-process command lines (so relative `--out` paths land there), with a
/// small scenario, two shards of a study and a file that is not a
/// directory. Made once per test process.
struct Scratch {
    dir: PathBuf,
}

fn scratch() -> &'static Scratch {
    static SCRATCH: std::sync::OnceLock<Scratch> = std::sync::OnceLock::new();
    SCRATCH.get_or_init(|| {
        // tmpfs where there is one: fsync costs nothing there.
        let base = ["/dev/shm", "/tmp"]
            .iter()
            .map(Path::new)
            .find(|p| p.is_dir())
            .map_or_else(std::env::temp_dir, Path::to_path_buf);
        // It outlives every test of this process, so it is removed by the
        // next process instead: each is named after its process, and those
        // of processes that are gone are removed here.
        if let Ok(entries) = std::fs::read_dir(&base) {
            for e in entries.filter_map(Result::ok) {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(pid) = name.strip_prefix("patchsim-fuzz-")
                    && !Path::new("/proc").join(pid).exists()
                {
                    let _ = std::fs::remove_dir_all(e.path());
                }
            }
        }
        let dir = base.join(format!("patchsim-fuzz-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).expect("scratch directory");
        let text = common::ron(&common::Knobs {
            always_on: 5,
            desktops: 5,
            days: 2,
            ..Default::default()
        });
        std::fs::write(dir.join("s.ron"), text).expect("write scenario");
        std::fs::write(dir.join("file.txt"), "not a directory").expect("write");
        let params: Vec<patchsim::study::Param> = vec![POLL_SET.parse().expect("valid")];
        let plan = patchsim::study::plan(&dir.join("s.ron"), params, 2).expect("plan");
        for i in 1..=2 {
            let shard = Some(patchsim::study::Shard { index: i, count: 2 });
            let request = patchsim::app::SweepRequest {
                shard,
                jobs: 1,
                interrupt: None,
                done: &|| {},
                note: None,
                before_commit: None,
            };
            patchsim::app::sweep_to_dir(
                &plan,
                &dir.join("s.ron"),
                &dir.join(format!("p{i}")),
                request,
            )
            .expect("write shard");
        }
        std::env::set_current_dir(&dir).expect("cd scratch");
        Scratch { dir }
    })
}

const POLL_SET: &str = "client_settings.policy_polling_interval=30m,60m";

/// Command lines that work, as the mutants' starting points.
const COMMANDS: &[&[&str]] = &[
    &["run", "s.ron", "--out", "out", "--quiet"],
    &[
        "run",
        "s.ron",
        "--seed",
        "5",
        "--trace-clients",
        "0,3",
        "--check",
        "--out",
        "out2",
    ],
    &["run", "s.ron", "--trace", "--force", "--out", "out3"],
    &["explain", "s.ron", "--client", "3", "--seed", "2"],
    &["validate", "s.ron", "s.ron"],
    &[
        "sweep", "s.ron", "--set", POLL_SET, "-r", "2", "--out", "st", "-q",
    ],
    &[
        "sweep", "s.ron", "--set", POLL_SET, "-r", "1", "-j", "2", "--shard", "1/2", "--out", "sh",
    ],
    &["merge", "p1", "p2", "--out", "m"],
];

/// Odd tokens a mutant may put anywhere.
const TOKENS: &[&str] = &[
    "",
    "-",
    "--",
    "0",
    "-1",
    "1",
    "65536",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "1e3",
    "NaN",
    "0/0",
    "1/0",
    "2/1",
    "1/4294967295",
    "3,999999",
    ",",
    ".",
    "..",
    "/",
    "/dev/null",
    "/dev/full",
    "/dev/zero",
    "file.txt",
    "s.ron",
    "p1",
    "p2",
    "p1/study.json",
    "out",
    "out/sub",
    "m",
    "é",
    "a\nb",
    "--out",
    "--seed",
    "--set",
    "--shard",
    "--client",
    "--trace-clients",
    "--force",
    "--check",
    "--quiet",
    "--trace",
    "-r",
    "-j",
    "-q",
    "--help",
    "--version",
    "seed=1",
    "x=",
    "=1",
    "cohorts[0].count=0,1",
    "cohorts[9].count=1",
    "deployments[0].deadline=2026-11-12T23:59:60Z",
    "name=a\u{1}b",
    "run",
    "merge",
    "sweep",
];

#[derive(Clone, Debug)]
enum ArgEdit {
    Replace(Index, usize),
    Delete(Index),
    Duplicate(Index),
    Swap(Index, Index),
    Insert(Index, usize),
}

fn arg_edit() -> impl Strategy<Value = ArgEdit> {
    prop_oneof![
        3 => (any::<Index>(), 0..TOKENS.len()).prop_map(|(i, t)| ArgEdit::Replace(i, t)),
        1 => any::<Index>().prop_map(ArgEdit::Delete),
        1 => any::<Index>().prop_map(ArgEdit::Duplicate),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| ArgEdit::Swap(a, b)),
        2 => (any::<Index>(), 0..TOKENS.len()).prop_map(|(i, t)| ArgEdit::Insert(i, t)),
    ]
}

fn command_line() -> impl Strategy<Value = (usize, Vec<ArgEdit>)> {
    (
        0..COMMANDS.len(),
        proptest::collection::vec(arg_edit(), 0..4),
    )
}

fn edited(&(base, ref edits): &(usize, Vec<ArgEdit>)) -> Vec<String> {
    let mut args: Vec<String> = COMMANDS[base].iter().map(|s| s.to_string()).collect();
    for e in edits {
        let n = args.len();
        match e {
            ArgEdit::Replace(i, t) if n > 0 => args[i.index(n)] = TOKENS[*t].to_string(),
            ArgEdit::Delete(i) if n > 0 => {
                args.remove(i.index(n));
            }
            ArgEdit::Duplicate(i) if n > 0 => {
                let at = i.index(n);
                args.insert(at, args[at].clone());
            }
            ArgEdit::Swap(a, b) if n > 0 => args.swap(a.index(n), b.index(n)),
            ArgEdit::Insert(i, t) => args.insert(i.index(n + 1), TOKENS[*t].to_string()),
            _ => {}
        }
    }
    args
}

/// Whether a parsed command line would take long (the built-in month-long
/// scenario, or a study of many runs): such inputs are only parsed.
fn too_slow(cli: &patchsim::cli::Cli) -> bool {
    use patchsim::cli::Command;
    match &cli.command {
        Command::Run { scenario, .. } | Command::Explain { scenario, .. } => scenario.is_none(),
        Command::Sweep {
            set, replications, ..
        } => {
            let points: usize = set.iter().map(|p| p.values.len()).product();
            points.saturating_mul(*replications as usize) > 8
        }
        _ => false,
    }
}

/// What one command line did, checked: no panic (the runner catches it),
/// an exit code of 0, 1 or 2, an `error:` line with 1 and 2, nothing left
/// beside or inside the scratch directory's outputs.
fn command_kind(args: &[String]) -> Result<String, String> {
    let Scratch { dir } = scratch();
    let argv = std::iter::once("patchsim".to_string()).chain(args.iter().cloned());
    let cli = match <patchsim::cli::Cli as clap::Parser>::try_parse_from(argv) {
        Ok(cli) => cli,
        Err(e) => return Ok(format!("clap {:?}", e.kind())),
    };
    if too_slow(&cli) {
        return Ok("parsed only".to_string());
    }
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = patchsim::cli::run_with(cli, &mut out, &mut err);
    let err = String::from_utf8_lossy(&err).into_owned();
    let code = format!("{code:?}");
    let kind = if code.contains("ExitCode(unix_exit_status(0))") {
        "0"
    } else if code.contains("ExitCode(unix_exit_status(1))") {
        "1"
    } else if code.contains("ExitCode(unix_exit_status(2))") {
        "2"
    } else {
        return Err(format!("exit {code} for {args:?}\n{err}"));
    };
    if kind != "0" && !err.starts_with("error: ") {
        return Err(format!(
            "exit {kind} without an error line for {args:?}: {err}"
        ));
    }
    let leftovers: Vec<String> = std::fs::read_dir(dir)
        .expect("scratch")
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".patchsim-"))
        .collect();
    if !leftovers.is_empty() {
        return Err(format!("{leftovers:?} left behind by {args:?}\n{err}"));
    }
    Ok(format!(
        "exit {kind} {}",
        first_words(err.trim_start_matches("error: "))
    ))
}

/// Paths `--set` takes, and values of every kind.
const SET_PATHS: &[&str] = &[
    "client_settings.policy_polling_interval",
    "client_settings.scan_duration",
    "client_settings.scan_duration.median",
    "client_settings.deadline_randomization",
    "client_settings.scan_retries",
    "cohorts[0].count",
    "cohorts[desktops].power",
    "cohorts[desktops].power.jitter",
    "cohorts[always-on].client_settings.policy_polling_interval",
    "cohorts[9].count",
    "cohorts[nobody].count",
    "updates[KB1].failure_probability",
    "updates[0].size",
    "deployments[0].deadline",
    "deployments[cu].available",
    "servers.distribution_points[dp].bandwidth",
    "servers.management_points[0].workers",
    "site.content_ready_delay",
    "sync.manual",
    "name",
    "seed",
    "duration",
    "faults[0].end",
    "a..b",
    "cohorts[",
    "cohorts]0[",
    "[0]",
];

fn set_value() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(TEXTS).prop_map(str::to_string),
        proptest::sample::select(NUMBERS).prop_map(str::to_string),
        proptest::sample::select(
            &[
                "Fixed(\"3m\")",
                "Uniform(min: \"5m\", max: \"1m\")",
                "LogNormal(median: \"1m\", sigma: 9)",
                "Exponential(mean: \"0s\")",
                "AlwaysOn",
                "BusinessHours(start: \"18:00\", end: \"08:00\")",
                "Intermittent(on: Fixed(\"1s\"), off: Fixed(\"1s\"))",
                "true",
                "\"quoted\"",
                "(",
                "[1,2]",
            ][..]
        )
        .prop_map(str::to_string),
        proptest::collection::vec(any::<char>(), 0..5).prop_map(|v| v.into_iter().collect()),
    ]
}

fn set_argument() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(
        (
            proptest::sample::select(SET_PATHS),
            proptest::collection::vec(set_value(), 1..4),
        )
            .prop_map(|(path, values)| format!("{path}={}", values.join(","))),
        1..3,
    )
}

/// What planning a study with these `--set` arguments gave: a plan, or an
/// error that is the user's (exit code 2) and names the argument or file.
fn set_kind(sets: &[String]) -> Result<String, String> {
    let Scratch { dir } = scratch();
    let mut params = Vec::new();
    for s in sets {
        match s.parse::<patchsim::study::Param>() {
            Ok(p) => params.push(p),
            Err(e) => return Ok(format!("param {}", first_words(&e))),
        }
    }
    match patchsim::study::plan(&dir.join("s.ron"), params, 1) {
        Ok(plan) => Ok(format!("plan of {} points", plan.points.len().min(2))),
        Err(e) if e.is_bad_input() => {
            let text = e.to_string();
            if !(text.starts_with("--set ") || text.contains("s.ron") || text.contains("--set")) {
                return Err(format!("an error without its place for {sets:?}: {text}"));
            }
            Ok(format!("refused {}", first_words(&text)))
        }
        Err(e) => Err(format!("not a bad-input error for {sets:?}: {e}")),
    }
}

/// One edit of a shard's `study.json` or `runs.csv`.
#[derive(Clone, Debug)]
enum StudyEdit {
    /// Replace the n-th JSON value (in document order) by an odd one.
    JsonValue(Index, usize),
    /// Remove the n-th object key.
    JsonDrop(Index),
    /// Empty or double the n-th list.
    JsonList(Index, bool),
    /// Replace one cell of runs.csv.
    Cell(Index, Index, usize),
    /// Drop or double one line of runs.csv.
    Row(Index, bool),
    /// Overwrite one byte of either file.
    Byte(bool, Index, u8),
}

const JSON_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "2",
    "3",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "1e308",
    "0.5",
    "null",
    "true",
    "\"\"",
    "\"patchsim\"",
    "\"NaN\"",
    "[]",
    "{}",
    "[\"\"]",
    "{\"index\": 0, \"count\": 0}",
    "{\"index\": 3, \"count\": 2}",
];

const CELLS: &[&str] = &[
    "",
    "NaN",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e309",
    "1e-320",
    "18446744073709551616",
    "0x1",
    "é",
    "\"",
    " 1",
    "999999999",
];

fn study_edit() -> impl Strategy<Value = StudyEdit> {
    prop_oneof![
        4 => (any::<Index>(), 0..JSON_VALUES.len()).prop_map(|(i, v)| StudyEdit::JsonValue(i, v)),
        1 => any::<Index>().prop_map(StudyEdit::JsonDrop),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(i, e)| StudyEdit::JsonList(i, e)),
        3 => (any::<Index>(), any::<Index>(), 0..CELLS.len())
            .prop_map(|(r, c, v)| StudyEdit::Cell(r, c, v)),
        1 => (any::<Index>(), any::<bool>()).prop_map(|(i, d)| StudyEdit::Row(i, d)),
        1 => (any::<bool>(), any::<Index>(), any::<u8>()).prop_map(|(j, i, b)| StudyEdit::Byte(j, i, b)),
    ]
}

/// Every node of a JSON document, in document order, as JSON pointers.
fn pointers(v: &serde_json::Value, here: String, out: &mut Vec<String>) {
    out.push(here.clone());
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                pointers(x, format!("{here}/{k}"), out);
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                pointers(x, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn edit_study(json: &str, csv: &str, edits: &[StudyEdit]) -> (String, String) {
    let (mut json, mut csv) = (json.to_string(), csv.to_string());
    for e in edits {
        let mut doc: serde_json::Value = match serde_json::from_str(&json) {
            Ok(doc) => doc,
            Err(_) => serde_json::Value::Null,
        };
        let mut all = Vec::new();
        pointers(&doc, String::new(), &mut all);
        match e {
            StudyEdit::JsonValue(i, v) if !doc.is_null() => {
                let at = &all[i.index(all.len())];
                if let Some(slot) = doc.pointer_mut(at) {
                    *slot = serde_json::from_str(JSON_VALUES[*v]).expect("valid JSON");
                }
                json = serde_json::to_string_pretty(&doc).unwrap();
            }
            StudyEdit::JsonDrop(i) if !doc.is_null() => {
                let at = all[i.index(all.len())].clone();
                if let Some((parent, key)) = at.rsplit_once('/')
                    && let Some(serde_json::Value::Object(m)) = doc.pointer_mut(parent)
                {
                    m.remove(key);
                }
                json = serde_json::to_string_pretty(&doc).unwrap();
            }
            StudyEdit::JsonList(i, empty) if !doc.is_null() => {
                let lists: Vec<&String> = all
                    .iter()
                    .filter(|p| doc.pointer(p).is_some_and(serde_json::Value::is_array))
                    .collect();
                if !lists.is_empty() {
                    let at = lists[i.index(lists.len())].clone();
                    if let Some(serde_json::Value::Array(a)) = doc.pointer_mut(&at) {
                        if *empty {
                            a.clear();
                        } else {
                            let copy = a.clone();
                            a.extend(copy);
                        }
                    }
                }
                json = serde_json::to_string_pretty(&doc).unwrap();
            }
            StudyEdit::Cell(r, c, v) => {
                let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
                if lines.len() > 1 {
                    let row = 1 + r.index(lines.len() - 1);
                    let mut cells: Vec<String> =
                        lines[row].split(',').map(str::to_string).collect();
                    let n = cells.len();
                    cells[c.index(n)] = CELLS[*v].to_string();
                    lines[row] = cells.join(",");
                    csv = lines.join("\n") + "\n";
                }
            }
            StudyEdit::Row(i, drop) => {
                let mut lines: Vec<&str> = csv.lines().collect();
                if !lines.is_empty() {
                    let at = i.index(lines.len());
                    if *drop {
                        lines.remove(at);
                    } else {
                        lines.insert(at, lines[at]);
                    }
                }
                csv = lines.join("\n") + "\n";
            }
            StudyEdit::Byte(in_json, i, b) => {
                let text = if *in_json { &mut json } else { &mut csv };
                let mut bytes = text.as_bytes().to_vec();
                if !bytes.is_empty() {
                    let at = i.index(bytes.len());
                    bytes[at] = *b;
                }
                *text = String::from_utf8_lossy(&bytes).into_owned();
            }
            _ => {}
        }
    }
    (json, csv)
}

/// Reads and merges a shard with edited files and the other shard: a whole
/// study, or an error that is the user's (exit code 2) naming the file.
fn study_kind(edits: &[StudyEdit]) -> Result<String, String> {
    let Scratch { dir } = scratch();
    let json = std::fs::read_to_string(dir.join("p1/study.json")).expect("shard");
    let csv = std::fs::read_to_string(dir.join("p1/runs.csv")).expect("shard");
    let (json, csv) = edit_study(&json, &csv, edits);
    let edited = tempfile::tempdir_in(dir).expect("scratch shard");
    std::fs::write(edited.path().join("study.json"), &json).unwrap();
    std::fs::write(edited.path().join("runs.csv"), &csv).unwrap();
    for name in ["scenario.ron", "curves.csv"] {
        std::fs::copy(dir.join("p1").join(name), edited.path().join(name)).unwrap();
    }
    let result = patchsim::study::read(edited.path()).and_then(|part| {
        let other = patchsim::study::read(&dir.join("p2"))?;
        let dirs = [edited.path(), dir.join("p2").as_path()].map(Path::to_path_buf);
        let names: Vec<&Path> = dirs.iter().map(PathBuf::as_path).collect();
        patchsim::study::merge(vec![part, other], &names)
    });
    match result {
        Ok(whole) => Ok(format!("merged {} runs", whole.runs.len())),
        Err(e) if e.is_bad_input() => {
            let text = e.to_string();
            let named = ["study.json", "runs.csv", "scenario.ron", "shard"]
                .iter()
                .any(|f| text.contains(f))
                || text.contains(&edited.path().display().to_string());
            if !named {
                return Err(format!("an error without its file: {text}\n{json}\n{csv}"));
            }
            let message = text.rsplit(": ").next().unwrap_or(&text);
            Ok(format!("refused {}", first_words(message)))
        }
        Err(e) => Err(format!("not a bad-input error: {e}\n{json}\n{csv}")),
    }
}

fn fixed_runner(cases: u32, seed: u64) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        ..Config::default()
    })
}

fn ci_cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn command_lines_never_panic() {
    scratch();
    let result = fixed_runner(ci_cases(600), 0xc11).run(&command_line(), |m| {
        command_kind(&edited(&m)).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
    // A share through the binary itself: its own stdout and stderr.
    let Scratch { dir } = scratch();
    let result = fixed_runner(ci_cases(600) / 20, 0xb1).run(&command_line(), |m| {
        let args = edited(&m);
        let argv = std::iter::once("patchsim".to_string()).chain(args.iter().cloned());
        if <patchsim::cli::Cli as clap::Parser>::try_parse_from(argv).is_ok_and(|c| too_slow(&c))
            || args.iter().any(|a| a.contains('\0'))
        {
            return Ok(());
        }
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_patchsim"))
            .args(&args)
            .current_dir(dir)
            .output()
            .expect("patchsim runs");
        let err = String::from_utf8_lossy(&o.stderr);
        prop_assert!(
            matches!(o.status.code(), Some(0..=2)) && !err.contains("panicked"),
            "{args:?}: {:?}\n{err}",
            o.status
        );
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn set_values_never_panic() {
    let result = fixed_runner(ci_cases(1000), 0x5e7).run(&set_argument(), |sets| {
        set_kind(&sets).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn mutated_study_files_never_panic() {
    let edits = proptest::collection::vec(study_edit(), 1..4);
    let result = fixed_runner(ci_cases(600), 0x57d).run(&edits, |edits| {
        study_kind(&edits).map_err(TestCaseError::fail)?;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The long run over command lines, `--set` values and study files:
/// `PATCHSIM_FUZZ_INPUTS` inputs (1,000,000), in batches of fresh random
/// inputs, three command lines, four `--set` lists and three study edits
/// in ten. Prints the counts and the kinds of outcome.
#[test]
#[ignore = "long: cargo test --release --test fuzz long_fuzz_commands -- --ignored --nocapture"]
fn long_fuzz_commands() {
    let total: u64 = std::env::var("PATCHSIM_FUZZ_INPUTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    scratch();
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    let (mut done, mut failures) = ([0u64; 3], 0u64);
    let mut batch = 0u64;
    while done.iter().sum::<u64>() < total {
        batch += 1;
        let mut runner = TestRunner::new(Config {
            cases: 1_000,
            failure_persistence: None,
            max_shrink_iters: 500,
            ..Config::default()
        });
        let kinds_cell = std::cell::RefCell::new(&mut kinds);
        let counts = std::cell::Cell::new([0u64; 3]);
        let count = |k: usize| {
            let mut c = counts.get();
            c[k] += 1;
            counts.set(c);
        };
        let which = batch % 10;
        let result = if which < 3 {
            runner
                .run(&command_line(), |m| {
                    count(0);
                    let k = command_kind(&edited(&m)).map_err(TestCaseError::fail)?;
                    kinds_cell.borrow_mut().insert(format!("cli {k}"));
                    Ok(())
                })
                .map_err(|e| e.to_string())
        } else if which < 7 {
            runner
                .run(&set_argument(), |sets| {
                    count(1);
                    let k = set_kind(&sets).map_err(TestCaseError::fail)?;
                    kinds_cell.borrow_mut().insert(format!("set {k}"));
                    Ok(())
                })
                .map_err(|e| e.to_string())
        } else {
            runner
                .run(&proptest::collection::vec(study_edit(), 1..4), |edits| {
                    count(2);
                    let k = study_kind(&edits).map_err(TestCaseError::fail)?;
                    kinds_cell.borrow_mut().insert(format!("study {k}"));
                    Ok(())
                })
                .map_err(|e| e.to_string())
        };
        let c = counts.get();
        for k in 0..3 {
            done[k] += c[k];
        }
        if let Err(e) = result {
            failures += 1;
            println!("FAILURE {failures}: {e}");
        }
        if batch % 50 == 0 {
            println!(
                "{:>6.0}s: {} inputs ({} command lines, {} --set lists, {} study edits), {} kinds, {failures} failures",
                started.elapsed().as_secs_f64(),
                done.iter().sum::<u64>(),
                done[0],
                done[1],
                done[2],
                kinds.len()
            );
        }
    }
    let _ = std::panic::take_hook();
    println!(
        "long command fuzz: {:.0} s, {} inputs ({} command lines, {} --set lists, {} study edits), {} kinds of outcome, {failures} failures",
        started.elapsed().as_secs_f64(),
        done.iter().sum::<u64>(),
        done[0],
        done[1],
        done[2],
        kinds.len()
    );
    assert_eq!(failures, 0);
}
