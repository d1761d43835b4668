//! Golden outputs: the shape of what `patchsim run` writes, pinned on a
//! small scenario so that a renamed column, a dropped summary key or a new
//! file is a visible, reviewed change.
//!
//! Pinned under `tests/golden/`: the first two lines of `compliance.csv`
//! (version and hash replaced by placeholders), every key path of
//! `summary.json`, and the names of the files in the output directory.
//! After an intended change, re-bless with
//! `PATCHSIM_BLESS=1 cargo test --test golden` and review the diff.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use patchsim::{model, output};
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
         `PATCHSIM_BLESS=1 cargo test --test golden` and commit tests/golden/",
        path.display()
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
    let run = Command::new(env!("CARGO_BIN_EXE_patchsim"))
        .args(["run", "golden.ron", "--out", "out", "--quiet", "--check"])
        .current_dir(dir.path())
        .output()
        .expect("patchsim runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let out = dir.path().join("out");
    let read = |f: &str| std::fs::read_to_string(out.join(f)).expect("written");

    let summary: Value = serde_json::from_str(&read("summary.json")).expect("summary is JSON");
    let hash = summary["scenario_hash"].as_str().expect("hash");
    let header: String = read("compliance.csv")
        .lines()
        .take(2)
        .map(|l| {
            l.replace(
                &format!("patchsim {} ", env!("CARGO_PKG_VERSION")),
                "patchsim {VERSION} ",
            )
            .replace(hash, "{HASH}")
                + "\n"
        })
        .collect();
    check_golden("compliance_header.txt", &header);

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

/// `report.html` stands alone: inline charts and style, no scripts, nothing
/// fetched; user text is escaped.
#[test]
fn report_is_self_contained() {
    let text =
        common::ron(&knobs()).replace("name: \"cu\"", "name: \"cu <b>&amp; \\\"friends\\\"</b>\"");
    let estate = common::estate_of(&text);
    let outcome = model::run(&estate);
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
    assert_eq!(svgs.len(), 2 * estate.deployments.len());
    assert_eq!(
        html.matches("<svg ").count(),
        svgs.len(),
        "every chart inline"
    );
    assert!(html.contains("cu &lt;b&gt;&amp;amp; &quot;friends&quot;&lt;/b&gt;"));
    assert!(!html.contains("<b>&amp;"), "names are escaped");
    // The resolved scenario is there, escaped.
    assert!(html.contains("<pre>// patchsim "));
    assert!(html.contains("name: &quot;test&quot;"));
    // The chart file names are safe whatever the deployment is called.
    assert!(
        svgs.iter()
            .any(|(n, _)| n == "compliance-0-cu-b-amp-friends-b.svg"),
        "{:?}",
        svgs.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
}
