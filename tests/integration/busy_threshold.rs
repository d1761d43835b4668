//! The busy threshold is a scenario field, `busy_threshold_pct`: a file,
//! `--set` and a sweep set it; `run --busy-above` overrides it.

use std::path::Path;

use serde_json::Value;

use crate::common::{assert_ok, patchsim, stderr};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn summary(dir: &Path, out: &str) -> Value {
    let text = std::fs::read_to_string(dir.join(out).join("summary.json")).expect("summary");
    serde_json::from_str(&text).expect("json")
}

/// Every server's `hours_busy`, in the summary's order.
fn busy_hours(summary: &Value) -> Vec<f64> {
    (summary["servers"].as_array().expect("servers").iter())
        .map(|s| s["hours_busy"].as_f64().expect("hours_busy"))
        .collect()
}

/// A scenario that sets `busy_threshold_pct: 50` counts the hours the
/// flag `--busy-above 50` counts on the same scenario without it; the
/// scenario it writes keeps the field, and the flag's run writes it too.
#[test]
fn scenario_field_counts_as_the_flag_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join("scenarios/patch-tuesday.ron")).unwrap();
    let with_field = text.replacen(
        "    name: \"patch-tuesday\",",
        "    name: \"patch-tuesday\",\n    busy_threshold_pct: 50,",
        1,
    );
    assert_ne!(with_field, text, "the field is added");
    std::fs::write(dir.path().join("fifty.ron"), &with_field).unwrap();

    // The embedded default (patch-tuesday) with the flag; the file with
    // the field; the default with neither.
    assert_ok(&patchsim(
        &["run", "--busy-above", "50", "-o", "flag", "-q"],
        dir.path(),
    ));
    assert_ok(&patchsim(
        &["run", "fifty.ron", "-o", "field", "-q"],
        dir.path(),
    ));
    assert_ok(&patchsim(&["run", "-o", "default", "-q"], dir.path()));
    let (flag, field, default) = (
        summary(dir.path(), "flag"),
        summary(dir.path(), "field"),
        summary(dir.path(), "default"),
    );
    assert_eq!(field["busy_threshold_pct"], 50.0);
    assert_eq!(flag["busy_threshold_pct"], 50.0);
    assert_eq!(default["busy_threshold_pct"], 80.0);
    assert_eq!(busy_hours(&field), busy_hours(&flag));
    assert_ne!(
        busy_hours(&field),
        busy_hours(&default),
        "the threshold changes the hours"
    );
    // The flag overrides the field, so the resolved scenario records it.
    let scenario = |out: &str| std::fs::read_to_string(dir.path().join(out).join("scenario.ron"));
    assert_eq!(scenario("flag").unwrap(), scenario("field").unwrap());
    assert!(
        scenario("field")
            .unwrap()
            .contains("busy_threshold_pct: 50,")
    );
    assert!(!scenario("default").unwrap().contains("busy_threshold_pct"));

    // The flag wins over the file.
    assert_ok(&patchsim(
        &[
            "run",
            "fifty.ron",
            "--busy-above",
            "90",
            "-o",
            "ninety",
            "-q",
        ],
        dir.path(),
    ));
    assert_eq!(summary(dir.path(), "ninety")["busy_threshold_pct"], 90.0);
}

/// A threshold out of 1–100 is refused, in the file (with its line and
/// column) and through `--set`, naming the field and the range.
#[test]
fn out_of_range_threshold_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = std::fs::read_to_string(root().join("scenarios/patch-tuesday.ron")).unwrap();
    let line = text
        .lines()
        .position(|l| l == "    name: \"patch-tuesday\",")
        .expect("the name's line")
        + 2;
    let bad = text.replacen(
        "    name: \"patch-tuesday\",",
        "    name: \"patch-tuesday\",\n    busy_threshold_pct: 101,",
        1,
    );
    std::fs::write(dir.path().join("bad.ron"), bad).unwrap();
    let o = patchsim(&["validate", "bad.ron"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "bad.ron:{line}:25: busy_threshold_pct: must be between 1 and 100"
        )),
        "{err}"
    );
    assert!(err.contains("got 101"), "{err}");

    let o = patchsim(
        &["run", "--set", "busy_threshold_pct=0", "-o", "zero", "-q"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("busy_threshold_pct: must be between 1 and 100"),
        "{err}"
    );
    assert!(!dir.path().join("zero").exists(), "nothing written");
}

/// A sweep over the threshold: each point counts its own busy hours, the
/// study's `hours_busy` and `link_hours_busy` columns.
#[test]
fn sweep_over_threshold_counts_busy_hours_per_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let o = patchsim(
        &[
            "sweep",
            root()
                .join("scenarios/branch-offices.ron")
                .to_str()
                .unwrap(),
            "--set",
            "busy_threshold_pct=50,90",
            "-r",
            "2",
            "--out",
            "study",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let runs = std::fs::read_to_string(dir.path().join("study/runs.csv")).unwrap();
    let mut lines = runs.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name);
    let swept = col("busy_threshold_pct").expect("the swept column");
    let busy: Vec<usize> = (0..header.len())
        .filter(|&i| header[i].starts_with("hours_busy["))
        .collect();
    assert!(!busy.is_empty(), "{header:?}");
    // The total busy hours of each run, by its point's threshold.
    let mut by_point: Vec<(String, f64)> = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let hours: f64 = (busy.iter())
            .map(|&i| cells[i].parse::<f64>().unwrap_or(0.0))
            .sum();
        by_point.push((cells[swept].to_string(), hours));
    }
    let of = |pct: &str| -> Vec<f64> {
        (by_point.iter())
            .filter(|(p, _)| p == pct)
            .map(|&(_, h)| h)
            .collect()
    };
    let (fifty, ninety) = (of("50"), of("90"));
    assert_eq!((fifty.len(), ninety.len()), (2, 2), "{runs}");
    for (lo, hi) in fifty.iter().zip(&ninety) {
        assert!(
            lo > hi,
            "a lower threshold counts more busy hours, replication by replication: {fifty:?} vs {ninety:?}"
        );
    }
}
