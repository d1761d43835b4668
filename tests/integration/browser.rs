//! The reports in a real browser: a run's `report.html` and a study's,
//! opened by headless Chromium, must show every chart, none of them empty,
//! and log nothing to the console.
//!
//! Each report is loaded in an iframe of a small harness page whose script
//! measures every `<svg>` (its size on the page and the longest line or
//! shape drawn in it) and writes what it found into the page, which
//! Chromium prints (`--dump-dom`); Chromium's own log gives the console.
//! The browser is `$PATCHSIM_CHROMIUM`, or `chromium`, `chromium-browser`
//! or `google-chrome` on the PATH. Without one the test says so and
//! passes, unless `PATCHSIM_REQUIRE_BROWSER` is set (`.ci/run` sets it
//! once it has installed Debian's `chromium`).

use crate::common;

use std::path::{Path, PathBuf};
use std::process::Command;

use patchsim::{model, output, study};
use serde_json::Value;

fn browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PATCHSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

const HARNESS: &str = r#"<!DOCTYPE html>
<html><head><meta charset="utf-8"></head><body>
<pre id="result">not loaded</pre>
<iframe id="page" src="REPORT" width="1300" height="900"></iframe>
<script>
const frame = document.getElementById('page');
frame.addEventListener('load', () => {
  const out = document.getElementById('result');
  try {
    const doc = frame.contentDocument;
    const charts = Array.from(doc.querySelectorAll('svg')).map((svg) => {
      const box = svg.getBoundingClientRect();
      let longest = 0;
      for (const e of svg.querySelectorAll('polyline, polygon')) {
        longest = Math.max(longest, (e.getAttribute('points') || '').trim().split(/\s+/).length);
      }
      for (const e of svg.querySelectorAll('path')) {
        longest = Math.max(longest, ((e.getAttribute('d') || '').match(/[LlHhVv]/g) || []).length + 1);
      }
      const texts = svg.querySelectorAll('text').length;
      const points = svg.querySelectorAll('circle').length;
      return { width: Math.round(box.width), height: Math.round(box.height), longest, points, texts };
    });
    out.textContent = JSON.stringify({ title: doc.title, charts });
  } catch (e) {
    out.textContent = JSON.stringify({ error: String(e) });
  }
});
</script></body></html>
"#;

/// Opens `report` (in `dir`) in the browser; what the harness measured
/// and the console lines the report logged.
fn open(browser: &Path, dir: &Path, report: &str) -> (Value, Vec<String>) {
    let harness = dir.join(format!("harness-{}.html", report.replace('/', "-")));
    std::fs::write(&harness, HARNESS.replace("REPORT", report)).expect("write harness");
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", harness.display()))
        .output()
        .expect("the browser starts");
    let dom = String::from_utf8_lossy(&out.stdout);
    let result = dom
        .split("<pre id=\"result\">")
        .nth(1)
        .and_then(|r| r.split("</pre>").next())
        .unwrap_or("")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    let measured: Value = serde_json::from_str(&result).unwrap_or_else(|e| {
        panic!(
            "{report}: the harness reported nothing readable ({e}): {result}\nstderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE") && l.contains(report))
        .map(str::to_string)
        .collect();
    (measured, console)
}

/// Every chart is there, has a size on the page and draws data (a line or
/// shape of several points, or markers); nothing was logged.
fn check(report: &str, measured: &Value, console: &[String], charts: usize) {
    assert!(measured.get("error").is_none(), "{report}: {measured}");
    assert!(console.is_empty(), "{report} logged: {console:?}");
    let found = measured["charts"].as_array().expect("charts");
    assert_eq!(
        found.len(),
        charts,
        "{report}: every chart is on the page: {measured}"
    );
    for (i, c) in found.iter().enumerate() {
        assert!(
            c["width"].as_u64().unwrap_or(0) > 200 && c["height"].as_u64().unwrap_or(0) > 100,
            "{report}: chart {i} has no size: {c}"
        );
        assert!(
            c["longest"].as_u64().unwrap_or(0) >= 4 || c["points"].as_u64().unwrap_or(0) >= 2,
            "{report}: chart {i} draws no data (no line of 4 points, no 2 markers): {c}"
        );
        assert!(
            c["texts"].as_u64().unwrap_or(0) >= 3,
            "{report}: chart {i} has no labels: {c}"
        );
    }
}

#[test]
fn reports_show_every_chart_in_a_browser() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var_os("PATCHSIM_REQUIRE_BROWSER").is_none(),
            "PATCHSIM_REQUIRE_BROWSER is set but no chromium was found"
        );
        eprintln!(
            "skipping the browser test: no chromium on the PATH (install Debian's `chromium`, \
             or set PATCHSIM_CHROMIUM)"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");

    // A run's report.
    let text = common::ron(&common::Knobs {
        always_on: 60,
        desktops: 60,
        days: 5,
        ..Default::default()
    });
    let estate = common::estate_of(&text);
    let outcome = model::run(&estate, Default::default()).expect("never stopped");
    let run_dir = dir.path().join("run");
    std::fs::create_dir(&run_dir).unwrap();
    let files = output::run_files(&estate, &outcome);
    for (name, text) in &files {
        std::fs::write(run_dir.join(name), text).unwrap();
    }
    let svgs = files.iter().filter(|(n, _)| n.ends_with(".svg")).count();
    let (measured, console) = open(&browser, dir.path(), "run/report.html");
    check("run/report.html", &measured, &console, svgs);

    // A study's report.
    let scenario = dir.path().join("s.ron");
    std::fs::write(&scenario, &text).unwrap();
    let params = vec![
        "client_settings.policy_polling_interval=30m,120m"
            .parse()
            .unwrap(),
    ];
    let plan = study::plan(&scenario, params, 2).unwrap_or_else(|e| panic!("{e}"));
    let study_dir = dir.path().join("study");
    let request = patchsim::app::SweepRequest {
        shard: None,
        jobs: 2,
        interrupt: None,
        done: &|| {},
        note: None,
        before_commit: None,
    };
    let (_, written) = patchsim::app::sweep_to_dir(&plan, &scenario, &study_dir, request)
        .unwrap_or_else(|e| panic!("{e}"));
    let svgs = written
        .iter()
        .filter(|p| p.extension().is_some_and(|x| x == "svg"))
        .count();
    assert!(svgs >= 8, "metric charts and curves: {written:?}");
    let (measured, console) = open(&browser, dir.path(), "study/report.html");
    check("study/report.html", &measured, &console, svgs);
}
