//! Golden outputs: what `patchsim run` writes, pinned so that any change of
//! behaviour or format is a visible, reviewed diff.
//!
//! - Golden runs: each scenario in `tests/golden/scenarios/` (at most 200
//!   clients and 3 days) has its full outputs (`output::run_files`: both
//!   CSVs, `summary.json`, `scenario.ron`, `report.html`, the charts)
//!   committed under `tests/golden/<name>/` and compared byte for byte.
//! - The shape of a CLI run: the first two lines of `compliance.csv`
//!   (version and hash replaced by placeholders), every key path of
//!   `summary.json`, and the names of the files in the output directory.
//!
//! Pinned under `tests/golden/`: the first two lines of `compliance.csv`,
//! `updates.csv` and `load.csv` (version and hash replaced by
//! placeholders), every key path of `summary.json`, the names of the files
//! in the output directory, and the shape of `trace.jsonl`: its first line
//! and, for every distinct event line, its keys in order with the values
//! masked. After an intended change, re-bless with
//! `PATCHSIM_BLESS=1 cargo test --release --test integration golden::`
//! and review the diff.

use crate::common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use patchsim::{model, output, scenario};
use serde_json::Value;

/// The small scenario the golden files come from.
fn knobs() -> common::Knobs {
    common::Knobs {
        always_on: 60,
        desktops: 60,
        days: 5,
        ..common::Knobs::default()
    }
}

fn golden_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `actual` with `tests/golden/<name>`, or rewrites the file when
/// `PATCHSIM_BLESS` is set.
fn check_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("PATCHSIM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir tests/golden");
        std::fs::write(&path, actual).expect("write golden file");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected == actual {
        return;
    }
    let (old, new): (BTreeSet<&str>, BTreeSet<&str>) =
        (expected.lines().collect(), actual.lines().collect());
    let mut diff = String::new();
    for l in old.difference(&new) {
        diff += &format!("  - {l}\n");
    }
    for l in new.difference(&old) {
        diff += &format!("  + {l}\n");
    }
    if diff.is_empty() {
        diff = "  (same lines, another order)\n".into();
    }
    panic!(
        "{} differs from the output:\n{diff}if the change is intended, re-bless with \
         `PATCHSIM_BLESS=1 cargo test --release --test integration golden::` and commit tests/golden/",
        path.display()
    );
}

fn blessing() -> bool {
    std::env::var_os("PATCHSIM_BLESS").is_some()
}

/// The first line where two texts differ, for the failure message.
fn first_difference(expected: &str, actual: &str) -> String {
    let (mut old, mut new) = (expected.lines(), actual.lines());
    for n in 1.. {
        match (old.next(), new.next()) {
            (None, None) => return "  (they differ only in line endings)".to_string(),
            (a, b) if a == b => continue,
            (a, b) => {
                let cut = |l: Option<&str>| {
                    l.map_or("(nothing)".to_string(), |l| l.chars().take(200).collect())
                };
                return format!("  line {n}:\n  - {}\n  + {}", cut(a), cut(b));
            }
        }
    }
    unreachable!()
}

/// Every golden scenario's full outputs, byte for byte.
#[test]
fn golden_runs_match_byte_for_byte() {
    let scenarios = golden_path("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&scenarios)
        .expect("tests/golden/scenarios")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    assert!(files.len() >= 3, "golden scenarios");
    let mut wrong = Vec::new();
    for file in files {
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        let raw = scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let estate =
            scenario::build(raw, &file.display().to_string()).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            estate.client_count() <= 200 && estate.duration.as_ms() <= 3 * 86_400_000,
            "{name}: golden runs stay small (200 clients, 3 days) so diffs stay reviewable"
        );
        let outcome = patchsim::app::run_checked(&estate).unwrap_or_else(|v| panic!("{name}: {v}"));
        let outputs = output::run_files(&estate, &outcome);
        let dir = golden_path(&name);
        if blessing() {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("mkdir");
            for (file, text) in &outputs {
                std::fs::write(dir.join(file), text).expect("write golden output");
            }
            continue;
        }
        let mut stored: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        stored.sort();
        let mut written: Vec<String> = outputs.iter().map(|(f, _)| f.clone()).collect();
        written.sort();
        if stored != written {
            wrong.push(format!(
                "{name}: the run writes {written:?}, tests/golden/{name}/ holds {stored:?}"
            ));
        }
        for (file, text) in &outputs {
            let expected = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
            if &expected != text {
                wrong.push(format!(
                    "tests/golden/{name}/{file} differs from the output:\n{}",
                    first_difference(&expected, text)
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{}\nif the change is intended, re-bless with `PATCHSIM_BLESS=1 cargo test --release --test integration golden::`, \
         review `git diff tests/golden/` and commit it",
        wrong.join("\n")
    );
}

/// Every key of a JSON document as a path (`a.b`, arrays as `a[].b`), sorted.
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                key_paths(child, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn run_output_matches_golden_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = dir.path().join("golden.ron");
    std::fs::write(&scenario, common::ron(&knobs())).expect("write scenario");
    let run = common::patchsim(
        &["run", "golden.ron", "--out", "out", "--quiet", "--check"],
        dir.path(),
    );
    assert!(run.status.success(), "{}", common::stderr(&run));
    let out = dir.path().join("out");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).expect("written");

    let summary: Value = serde_json::from_str(&read("summary.json")).expect("summary is JSON");
    let hash = summary["scenario_hash"].as_str().expect("hash");
    for (file, golden) in [
        ("compliance.csv", "compliance_header.txt"),
        ("updates.csv", "updates_header.txt"),
        ("load.csv", "load_header.txt"),
    ] {
        let header: String = read(file)
            .lines()
            .take(2)
            .map(|l| placeholders(l, hash) + "\n")
            .collect();
        check_golden(golden, &header);
    }

    let mut keys = BTreeSet::new();
    key_paths(&summary, "", &mut keys);
    check_golden(
        "summary_keys.txt",
        &keys.into_iter().map(|k| k + "\n").collect::<String>(),
    );

    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("out/")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    check_golden(
        "files.txt",
        &files.into_iter().map(|f| f + "\n").collect::<String>(),
    );
}

/// A provenance line with the version and hash replaced by placeholders.
fn placeholders(line: &str, hash: &str) -> String {
    line.replace(
        &format!("patchsim {} ", env!("CARGO_PKG_VERSION")),
        "patchsim {VERSION} ",
    )
    .replace(hash, "{HASH}")
}

/// A JSON value with every scalar masked by its type (numbers 0, strings
/// "", booleans false), except the `event` name: what is left is the shape.
fn mask(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, x)| {
                    let x = if k == "event" { x.clone() } else { mask(x) };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(mask).collect()),
        Value::Number(_) => Value::from(0),
        Value::String(_) => Value::from(""),
        Value::Bool(_) => Value::from(false),
        Value::Null => Value::Null,
    }
}

/// The trace line format: a tiny run of the golden scenario with a SUP
/// outage, an MP outage and a DP slowdown (so the fault events occur),
/// traced in full. Pinned: the first line's keys, and each distinct event
/// line with its keys in order and its values masked, sorted.
/// A tiny scenario with a SUP outage, an MP outage and a DP slowdown.
fn faulty_scenario() -> String {
    common::ron(&common::Knobs {
        always_on: 6,
        desktops: 6,
        days: 5,
        ..common::Knobs::default()
    })
    .replacen(
        "    client_settings: ClientSettings(",
        "    faults: [
        Fault(server: \"sup\", start: \"2026-11-10T10:40:00+01:00\", end: \"2026-11-10T12:00:00+01:00\"),
        Fault(server: \"mp\", start: \"2026-11-11T09:00:00+01:00\", end: \"2026-11-11T09:30:00+01:00\"),
        Fault(server: \"dp\", start: \"2026-11-10T11:00:00+01:00\", end: \"2026-11-10T14:00:00+01:00\", effect: Slow(4.0)),
    ],
    client_settings: ClientSettings(",
        1,
    )
}

#[test]
fn trace_lines_match_golden() {
    let text = faulty_scenario();
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("trace.ron"), text).expect("write scenario");
    let run = common::patchsim(
        &["run", "trace.ron", "--out", "out", "--quiet", "--trace"],
        dir.path(),
    );
    assert!(run.status.success(), "{}", common::stderr(&run));
    let trace = std::fs::read_to_string(dir.path().join("out/trace.jsonl")).expect("trace");
    let mut lines = trace.lines();
    let first: Value = serde_json::from_str(lines.next().expect("a first line")).expect("JSON");
    let mut shapes = BTreeSet::new();
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["event"].is_string(), "every line names its event: {line}");
        shapes.insert(mask(&v).to_string());
    }
    let mut text = format!("first line: {}\n", mask(&first));
    for shape in shapes {
        text += &shape;
        text.push('\n');
    }
    check_golden("trace_lines.txt", &text);
}

/// The load charts shade the faults of their own server only, and the
/// S-curve shows the maintenance windows of the cohorts it targets.
#[test]
fn charts_mark_faults_and_maintenance_windows() {
    let text = faulty_scenario().replacen(
        "Cohort(name: \"always-on\", ",
        "Cohort(name: \"always-on\", maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: \"01:00\", length: \"3h\")], ",
        1,
    );
    let estate = common::estate_of(&text);
    let outcome = model::run(&estate, Default::default()).expect("never stopped");
    let files = output::run_files(&estate, &outcome);
    let svg = |name: &str| {
        &files
            .iter()
            .find(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("{name} written"))
            .1
    };
    assert!(svg("load-0-mp.svg").contains("down (fault)"));
    assert!(svg("load-1-sup.svg").contains("down (fault)"));
    assert!(svg("load-2-dp.svg").contains("slowed ×4 (fault)"));
    assert!(svg("load-2-dp.svg").contains("Mbps served"));
    assert!(!svg("load-3-ps1-state-system.svg").contains("(fault)"));
    assert!(!svg("load-1-sup.svg").contains("Mbps served"), "DPs only");
    let curve = svg("compliance-0-cu.svg");
    // The legend entry, wrapped onto lines of its own.
    for line in ["maintenance window", "(always-on):", "daily 01:00, 3h"] {
        assert!(curve.contains(line), "{line}");
    }
    assert!(!svg("states-0-cu.svg").contains("maintenance window"));
}

/// `report.html` stands alone: inline charts and style, no scripts, nothing
/// fetched; user text is escaped.
#[test]
fn report_is_self_contained() {
    let text =
        common::ron(&knobs()).replace("name: \"cu\"", "name: \"cu <b>&amp; \\\"friends\\\"</b>\"");
    let estate = common::estate_of(&text);
    let outcome = model::run(&estate, Default::default()).expect("never stopped");
    let files = output::run_files(&estate, &outcome);
    let html = &files
        .iter()
        .find(|(n, _)| n == "report.html")
        .expect("report.html")
        .1;
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(!html.contains("<script"), "no scripts");
    for attr in ["src=", "href=\"http", "url(", "@import"] {
        assert!(!html.contains(attr), "no external asset ({attr})");
    }
    let svgs: Vec<&(String, String)> = files.iter().filter(|(n, _)| n.ends_with(".svg")).collect();
    assert_eq!(
        svgs.len(),
        2 * estate.deployments.len() + outcome.servers.len(),
        "two charts per deployment, one per server"
    );
    for (i, name) in ["mp", "sup", "dp", "ps1-state-system"].iter().enumerate() {
        let file = format!("load-{i}-{name}.svg");
        assert!(svgs.iter().any(|(n, _)| *n == file), "{file}");
    }
    assert_eq!(
        html.matches("<svg ").count(),
        svgs.len(),
        "every chart inline"
    );
    // minijinja escapes the slash too (&#x2f;).
    assert!(html.contains("cu &lt;b&gt;&amp;amp; &quot;friends&quot;&lt;&#x2f;b&gt;"));
    assert!(!html.contains("<b>&amp;"), "names are escaped");
    // The resolved scenario is there, escaped.
    assert!(html.contains("<pre>&#x2f;&#x2f; patchsim "));
    assert!(html.contains("name: &quot;test&quot;"));
    // The chart file names are safe whatever the deployment is called.
    assert!(
        svgs.iter()
            .any(|(n, _)| n == "compliance-0-cu-b-amp-friends-b.svg"),
        "{:?}",
        svgs.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}
