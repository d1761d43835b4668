//! The README's commands, run as written, and what the README says they
//! show, checked against what they print and write.
//!
//! Every ```sh block of README.md is run with `sh -eu` in a scratch
//! directory (with `scenarios/` linked in and `patchsim` on the PATH),
//! except the lines that build or test patchsim itself (`cargo install`,
//! `cargo test`, `cargo bench`) and the development blocks (`PATCHSIM_*`
//! variables, `git`). `cargo run --release --` is `patchsim`. Then each
//! recipe's stated conclusion is checked: the numbers the README gives
//! must be the ones the runs give, so a change of the model that changes
//! the story fails here until the README is corrected.

use std::path::Path;
use std::process::Command;

use patchsim::output::thousands;
use serde_json::Value;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md")
}

/// The README's shell blocks, each as the commands to run (continuation
/// lines joined, build and development lines left out).
fn blocks(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "```sh" {
            continue;
        }
        let mut block = Vec::new();
        for l in lines.by_ref() {
            if l.trim() == "```" {
                break;
            }
            block.push(l.to_string());
        }
        let joined = block.join("\n").replace("\\\n", " ");
        if joined.contains("PATCHSIM_") || joined.lines().any(|l| l.starts_with("git ")) {
            continue;
        }
        let commands: Vec<String> = joined
            .lines()
            .filter(|l| {
                !(l.starts_with("cargo install")
                    || l.starts_with("cargo test")
                    || l.starts_with("cargo bench"))
            })
            .map(|l| l.replacen("cargo run --release -- ", "patchsim ", 1))
            .collect();
        if !commands.is_empty() {
            out.push(commands.join("\n"));
        }
    }
    out
}

fn json(path: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
    )
    .expect("JSON")
}

/// A column of `points.csv` at the grid point whose values are `at` (in
/// the grid's column order) for `metric`.
fn column(points: &str, at: &[&str], metric: &str, name: &str) -> f64 {
    let mut lines = points.lines();
    let header: Vec<&str> = lines.next().expect("a header").split(',').collect();
    let index = |n: &str| header.iter().position(|h| *h == n).expect(n);
    let (m, c) = (index("metric"), index(name));
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|r| r[1..m] == *at && r[m] == metric)
        .unwrap_or_else(|| panic!("{metric} at {at:?} in points.csv"))[c]
        .parse()
        .expect("a number")
}

fn mean(points: &str, at: &[&str], metric: &str) -> f64 {
    column(points, at, metric, "mean")
}

#[test]
fn readme_commands_run_and_show_what_it_says() {
    let text = readme();
    assert!(text.len() <= 20 * 1024, "README.md stays under 20 KB");
    // The prose as one line, so a stated figure may wrap.
    let prose = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::os::unix::fs::symlink(root.join("scenarios"), dir.path().join("scenarios")).unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_patchsim"), bin.join("patchsim")).unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join(".local/share/bash-completion/completions")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut outputs = Vec::new();
    let blocks = blocks(&text);
    assert!(blocks.len() >= 7, "the README's recipes: {blocks:#?}");
    for block in &blocks {
        let o = Command::new("sh")
            .args(["-eu", "-c", block])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("HOME", &home)
            .output()
            .expect("sh runs");
        assert!(
            o.status.success(),
            "a README block failed ({}):\n{block}\nstderr:\n{}",
            o.status,
            String::from_utf8_lossy(&o.stderr)
        );
        outputs.push(String::from_utf8_lossy(&o.stdout).into_owned());
    }
    let printed = outputs.concat();
    let d = dir.path();

    // The first command: the embedded scenario, a short summary, a report.
    assert!(d.join("out/report.html").exists());
    assert!(outputs[0].starts_with("patchsim 0.1.0 · patch-tuesday · seed 42"));
    let lines = outputs[0].lines().count();
    assert!(lines <= 20, "a summary of about twenty lines, not {lines}");

    // --set: the values went through their types.
    let slow = std::fs::read_to_string(d.join("slow/scenario.ron")).unwrap();
    assert!(slow.contains("effect: Slow(3.0)"), "{slow}");
    let polling = std::fs::read_to_string(d.join("polling/scenario.ron")).unwrap();
    assert!(polling.contains("policy_polling_interval: \"90m\""));
    let two = json(&d.join("two-dps/summary.json"));
    let dps = two["servers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["role"] == "dp")
        .count();
    assert_eq!(dps, 2);

    // The outage: milestones move by seconds; sup01 rejects about the
    // stated number of scans, none without it; it is the bottleneck.
    let (with, without) = (
        json(&d.join("outage/summary.json")),
        json(&d.join("no-outage/summary.json")),
    );
    for key in ["hours_to_pct_true", "hours_to_pct_reported"] {
        for pct in ["pct_50", "pct_95", "pct_99"] {
            let a = with["deployments"][0][key][pct].as_f64().unwrap();
            let b = without["deployments"][0][key][pct].as_f64().unwrap();
            assert!((a - b).abs() * 3600.0 < 60.0, "{key}.{pct}: {a} vs {b}");
        }
    }
    let rejected = |s: &Value| {
        s["servers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "sup01")
            .unwrap()["rejected"]
            .as_u64()
            .unwrap()
    };
    let r = rejected(&with);
    assert_eq!(rejected(&without), 0);
    let stated = format!("about {} scans", thousands((r + 50) / 100 * 100));
    assert!(
        prose.contains(&stated),
        "README says {stated} ({r} rejected)"
    );
    assert!(printed.contains("bottleneck: sup01 (software update point): rejected"));
    assert!(printed.contains("bottleneck: A ") && printed.contains("B sup01 ("));

    // Sizing: one DP misses in every run, two meet it in every run.
    let size = json(&d.join("sizing/size.json"));
    let cheapest = &size["evaluations"][size["cheapest"].as_u64().unwrap() as usize];
    assert_eq!(cheapest["values"][0], "2");
    assert_eq!(size["evaluations"].as_array().unwrap().len(), 3);
    for e in size["evaluations"].as_array().unwrap() {
        let expected = if e["values"][0] == "1" { 0 } else { 5 };
        assert_eq!(e["met"], expected, "{e}");
    }
    assert!(prose.contains("`servers.distribution_points.count=2`"));
    assert!(d.join("sizing/size.html").exists());

    // The polling study: faster polling is not faster, because of the DP.
    let points = std::fs::read_to_string(d.join("study/points.csv")).unwrap();
    let (fast, slow) = (
        mean(&points, &["15m"], "hours_to_50_true"),
        mean(&points, &["120m"], "hours_to_50_true"),
    );
    assert!(fast > slow, "15m {fast} h vs 120m {slow} h");
    for (at, value) in [("15m", fast), ("120m", slow)] {
        let half = column(&points, &[at], "hours_to_50_true", "ci95_half_width");
        let stated = format!("{value:.2} h (± {half:.2})");
        assert!(prose.contains(&stated), "README says {stated} for {at}");
    }
    let intervals = ["15m", "30m", "60m", "120m"];
    let p95 = mean(&points, &["15m"], "hours_to_95_true");
    for at in intervals {
        let v = mean(&points, &[at], "hours_to_95_true");
        assert!(
            (v - p95).abs() < 0.05,
            "95 % at {at}: {v} h, at 15m {p95} h"
        );
    }
    assert!(prose.contains(&format!("95 % takes about {p95:.1} h at every interval")));
    let queue = mean(&points, &["15m"], "peak_queue[dp01]");
    let wait = mean(&points, &["15m"], "queue_wait_p95_s[dp01]");
    assert!(
        prose.contains(&format!(
            "about {} downloads queue",
            (queue / 10.0).round() * 10.0
        )),
        "README states the peak queue ({queue})"
    );
    assert!(
        prose.contains(&format!("(p95 wait {} s)", thousands(wait.round() as u64))),
        "README states the p95 wait ({wait})"
    );
    assert_eq!(
        mean(&points, &["120m"], "peak_queue[dp01]"),
        0.0,
        "nothing ever waits"
    );
    // The DP serves the same content whatever the polling interval.
    let served = |at: &str| mean(&points, &[at], "bytes_served[dp01]");
    assert!(served("15m") > 0.0);
    assert!(
        (served("15m") - served("120m")).abs() <= served("120m") * 0.01,
        "bytes served: {} vs {}",
        served("15m"),
        served("120m")
    );
    assert!(mean(&points, &["15m"], "hours_busy[dp01]") >= 0.0);
    assert!(d.join("study/report.html").exists());
    // The load behind it: the clients that download, and the hours their
    // bytes take through one 1 Gbps link.
    let bytes = two["totals"]["bytes_downloaded"].as_f64().unwrap();
    let clients = (bytes / 650e6 / 50.0).round() as u64 * 50;
    assert!(
        prose.contains(&format!("about {} clients need 650 MB", thousands(clients))),
        "{bytes} bytes downloaded"
    );
    let hours = bytes * 8.0 / 1e9 / 3600.0;
    assert_eq!(hours.round(), 2.0, "two hours of transfer: {hours}");
    // With a second DP polling matters again.
    let two_dps = std::fs::read_to_string(d.join("study-2dp/points.csv")).unwrap();
    let with_two = |at: &str| mean(&two_dps, &["2", at], "hours_to_95_true");
    let stated = format!(
        "95 % are compliant after {:.2} h at 15 minutes but {:.2} h at 120 minutes",
        with_two("15m"),
        with_two("120m")
    );
    assert!(prose.contains(&stated), "README says: {stated}");
    assert!(with_two("15m") < with_two("120m"));
    for at in ["15m", "30m", "60m"] {
        let saved = mean(&points, &[at], "hours_to_95_true") - with_two(at);
        assert_eq!(saved.round(), 1.0, "about an hour saved at {at}: {saved}");
    }
    let saved = mean(&points, &["120m"], "hours_to_95_true") - with_two("120m");
    assert!(
        prose.contains(&format!("and {saved:.2} h at 120 minutes")),
        "{saved}"
    );
    assert!(printed.contains("differences B − A with 95 % intervals, paired by replication"));

    // The replay (diff -r ran above) and the story's verdict, as shown.
    let verdict = text
        .lines()
        .find(|l| l.starts_with("verdict for "))
        .expect("the README shows a verdict");
    assert!(printed.contains(verdict), "explain prints: {verdict}");
}
