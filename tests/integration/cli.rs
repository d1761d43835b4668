//! The command line as a user meets it: exit codes, messages, files written.

use crate::common;
use crate::common::{assert_ok, patchsim, stderr};

use std::path::{Path, PathBuf};

/// A copy of the small test scenario with one edit, in `dir`.
fn broken(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = common::ron(&common::Knobs {
        days: 3,
        ..Default::default()
    });
    assert!(text.contains(from), "the template contains {from:?}");
    let path = dir.join(name);
    std::fs::write(&path, text.replacen(from, to, 1)).expect("write");
    path
}

#[test]
fn syntax_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "syntax.ron", "seed: 7,", "seed: 7");
    let out = patchsim(&["validate", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("syntax.ron:4:5:"), "{err}");
    assert!(err.contains("expected a `,`"), "{err}");
}

#[test]
fn unknown_field_is_named_with_the_allowed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(
        dir.path(),
        "unknown.ron",
        "link: \"20Mbps\"",
        "bandwith: \"20Mbps\"",
    );
    let out = patchsim(&["validate", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown.ron:"), "{err}");
    assert!(
        err.contains("`bandwith`") && err.contains("`link`"),
        "{err}"
    );
}

#[test]
fn out_of_range_value_names_the_field_and_the_range() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(
        dir.path(),
        "range.ron",
        "policy_polling_interval: \"60m\"",
        "policy_polling_interval: \"1m\"",
    );
    let out = patchsim(&["validate", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("client_settings.policy_polling_interval: must be between 3m and 1d, got 1m"),
        "{err}"
    );
    // A start so late that the run's instants would need five-digit years.
    let file = broken(
        dir.path(),
        "late.ron",
        r#"start: "2026-11-09T00:00:00+01:00""#,
        r#"start: "9999-01-01T00:00:00Z""#,
    );
    let out = patchsim(&["validate", file.to_str().unwrap()], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("start: 9999-01-01T00:00:00Z is too late"),
        "{err}"
    );
}

#[test]
fn validate_reports_every_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = broken(dir.path(), "a.ron", "seed: 7,", "seed: 7");
    let b = broken(dir.path(), "b.ron", "count: 300,", "count: 0,");
    let c = broken(
        dir.path(),
        "c.ron",
        "targets: [\"always-on\",",
        "targets: [\"laptops\",",
    );
    let out = patchsim(
        &[
            "validate",
            a.to_str().unwrap(),
            b.to_str().unwrap(),
            c.to_str().unwrap(),
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("a.ron:4:5"), "{err}");
    assert!(
        err.contains("cohorts[0] (always-on).count: must be between 1 and 10000000, got 0"),
        "{err}"
    );
    assert!(
        err.contains(
            "deployments[0] (cu).targets[0]: unknown cohort 'laptops'; known: always-on, desktops"
        ),
        "{err}"
    );
}

#[test]
fn failed_run_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(
        dir.path(),
        "bad.ron",
        "size: \"400MB\"",
        "size: \"400 megs\"",
    );
    let out = patchsim(
        &["run", file.to_str().unwrap(), "--out", "results"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid size \"400 megs\""),
        "{}",
        stderr(&out)
    );
    assert!(
        !dir.path().join("results").exists(),
        "no output directory on failure"
    );
}

#[test]
fn run_writes_outputs_and_seed_overrides() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let run = |seed: &str, out: &str| {
        let o = patchsim(
            &[
                "run",
                file.to_str().unwrap(),
                "--seed",
                seed,
                "--out",
                out,
                "--check",
            ],
            dir.path(),
        );
        assert_ok(&o);
        let stdout = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(
            stdout.contains("compliant") && stdout.contains("99%"),
            "{stdout}"
        );
        let read =
            |f: &str| std::fs::read_to_string(dir.path().join(out).join(f)).expect("written");
        (
            read("compliance.csv"),
            read("summary.json"),
            read("scenario.ron"),
        )
    };
    let (csv, json, ron) = run("5", "a");
    assert!(
        csv.starts_with("time_ms,"),
        "a plain header, no comment line"
    );
    assert!(json.contains("\"seed\": 5") && json.contains("\"scenario_hash\""));
    assert!(ron.contains("seed: 5"));
    assert_eq!(
        run("5", "b"),
        (csv.clone(), json.clone(), ron.clone()),
        "same seed, same bytes"
    );
    assert_ne!(run("6", "c").0, csv, "another seed, another run");

    // The resolved scenario reproduces the run byte for byte.
    let again = patchsim(
        &["run", "a/scenario.ron", "--out", "d", "--quiet", "--check"],
        dir.path(),
    );
    assert_ok(&again);
    assert!(again.stdout.is_empty(), "--quiet prints nothing");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("d/compliance.csv")).unwrap(),
        csv
    );
}

#[test]
fn missing_file_is_bad_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = patchsim(&["validate", "nope.ron"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nope.ron: cannot read"),
        "{}",
        stderr(&out)
    );
}

/// Every file of a directory with its bytes, sorted by name.
fn contents(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.file_name(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn ctrl_c_stops_the_run_cleanly_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let Some(o) = common::signal_a_run(dir.path(), "fresh", "INT") else {
        return;
    };
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("error: interrupted by SIGINT at simulated time ")
            && stderr(&o).contains("of 30+00:00:00.000; nothing was written (no partial outputs)"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no output directory, no staging directory, no lock"
    );

    // An earlier output survives an interrupted run untouched.
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let first = patchsim(
        &["run", file.to_str().unwrap(), "--out", "kept", "--quiet"],
        dir.path(),
    );
    assert_ok(&first);
    let before = contents(&dir.path().join("kept"));
    let Some(o) = common::signal_a_run(dir.path(), "kept", "INT") else {
        return;
    };
    assert_eq!(o.status.code(), Some(130), "{}", stderr(&o));
    assert_eq!(
        before,
        contents(&dir.path().join("kept")),
        "no file changed, no partial trace left"
    );
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// `--check` passes a sound run and writes its outputs (the checker's own
/// verdicts are unit-tested in `src/check.rs`).
#[test]
fn check_flag_passes_a_sound_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 3,");
    let o = patchsim(
        &[
            "run",
            file.to_str().unwrap(),
            "--out",
            "out",
            "--check",
            "--quiet",
        ],
        dir.path(),
    );
    assert_ok(&o);
    assert!(dir.path().join("out/summary.json").exists());
}

/// A `--set` value is one value of its field: text that would close the
/// field, or hide a comma in a comment, cannot reach another field, and
/// the error names the `--set`. A text value without quotes is still read
/// as text, whatever it holds.
#[test]
fn a_set_value_stays_in_its_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let file = file.to_str().unwrap();
    let escape = r#"cohorts[0].count=5 /* " */, scheduled_restart: ScheduledRestart(recurrence: Daily, start: "10:00") /* " */"#;
    for (set, expect) in [
        (
            "cohorts[0].count=5)",
            "--set cohorts[0].count=5): '5)': not one value of the field (')' closes no bracket opened before it)",
        ),
        (escape, "(a comment is not allowed in a value)"),
        (
            "cohorts[0].count=5 6",
            "not one value of the field ('6' follows the value)",
        ),
        ("cohorts[0].count=[5", "('[' is not closed)"),
    ] {
        let o = patchsim(&["validate", file, "--set", set], dir.path());
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{set}: {}", stderr(&o));
    }
    let o = patchsim(
        &[
            "run",
            file,
            "--set",
            "deployments[0].name=Monthly security (#2) /* x */",
            "-o",
            "out",
            "-q",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let resolved = std::fs::read_to_string(dir.path().join("out/scenario.ron")).unwrap();
    assert!(resolved.contains(r#"name: "Monthly security (#2) /* x */""#));
    assert!(!resolved.contains("scheduled_restart: ScheduledRestart("));
}

/// A `--set` value too large for its field says it is out of range and
/// what the most is; a value of kilobytes is quoted cut in the message,
/// not echoed whole (for `validate` and for `sweep`'s one-value check).
#[test]
fn a_set_value_out_of_range_or_long_is_reported_briefly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let file = file.to_str().unwrap();
    let o = patchsim(
        &[
            "validate",
            file,
            "--set",
            "servers.distribution_points[0].bandwidth=18446744073709551615Gbps",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "bandwidth \"18446744073709551615Gbps\" is out of range: a bandwidth is at most \
             18446744073Gbps (2^64 - 1 bps)"
        ),
        "{}",
        stderr(&o)
    );
    assert!(
        !stderr(&o).contains("expected a bandwidth"),
        "{}",
        stderr(&o)
    );
    let long = format!(
        "servers.distribution_points[0].bandwidth=1{}",
        "0".repeat(40_000)
    );
    let o = patchsim(&["validate", file, "--set", &long], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.len() < 1_000, "{} bytes: {err}", err.len());
    assert!(
        err.contains(&format!(
            "--set servers.distribution_points[0].bandwidth=1{}…:",
            "0".repeat(59)
        )),
        "{err}"
    );
    assert!(err.contains("out of range"), "{err}");
    let count = format!("cohorts[0].count=5,{}", "x".repeat(40_000));
    let o = patchsim(
        &["sweep", file, "--set", &count, "-r", "1", "-o", "s"],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.len() < 1_000, "{} bytes: {err}", err.len());
    assert!(err.contains(&format!("{}…", "x".repeat(60))), "{err}");
}

/// `run --set` overrides any field through the scenario's own types (enum
/// payloads, lists, server counts), the resolved scenario records it, and
/// a bad value is bad input that names the `--set`.
#[test]
fn run_set_overrides_fields_through_their_types() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let file = file.to_str().unwrap();
    let fault = r#"faults=[Fault(server: "sup", start: "2026-11-10T10:00:00+01:00", end: "2026-11-10T12:00:00+01:00", effect: Slow(3.0))]"#;
    let o = patchsim(
        &[
            "run",
            file,
            "--set",
            fault,
            "--set",
            "faults[0].effect=Down",
            "--set",
            "cohorts[desktops].maintenance_windows=[MaintenanceWindow(recurrence: Weekly(Sunday))]",
            "--set",
            "servers.distribution_points.count=2",
            "--set",
            "client_settings.policy_polling_interval=1h 30m",
            "-o",
            "out",
            "-q",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let resolved = std::fs::read_to_string(dir.path().join("out/scenario.ron")).unwrap();
    for wanted in [
        "effect: Down",
        "recurrence: Weekly(Sunday)",
        "name: \"dp-2\"",
        "name: \"desktops-2\"",
        "policy_polling_interval: \"90m\"",
    ] {
        assert!(resolved.contains(wanted), "{wanted} in\n{resolved}");
    }
    // The resolved scenario replays the run without the flags.
    let again = patchsim(
        &["run", "out/scenario.ron", "-o", "again", "-q"],
        dir.path(),
    );
    assert_ok(&again);
    assert_eq!(
        std::fs::read(dir.path().join("out/compliance.csv")).unwrap(),
        std::fs::read(dir.path().join("again/compliance.csv")).unwrap()
    );

    for (set, expect) in [
        (
            "faults[0].effect=Slow(3.0)",
            "faults is empty; there is no [0]",
        ),
        (
            "client_settings.policy_polling_interval=15m,30m",
            "several values",
        ),
        ("cohorts[laptops].count=5", "known: always-on, desktops"),
        (
            "client_settings.policy_polling_interval=1m",
            "must be between 3m and 1d, got 1m",
        ),
    ] {
        let o = patchsim(&["run", file, "--set", set, "-o", "bad", "-q"], dir.path());
        assert_eq!(o.status.code(), Some(2), "{set}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{set}: {}", stderr(&o));
        assert!(!dir.path().join("bad").exists());
    }
    // validate and explain take --set too.
    let o = patchsim(
        &["validate", file, "--set", "cohorts[0].count=5"],
        dir.path(),
    );
    assert_ok(&o);
    assert!(String::from_utf8_lossy(&o.stdout).contains("(305 clients"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let o = patchsim(&["completions", shell], dir.path());
        assert_ok(&o);
        let script = String::from_utf8_lossy(&o.stdout);
        assert!(
            script.contains("patchsim") && script.contains("sweep"),
            "{shell}"
        );
    }
    let o = patchsim(&["completions", "tcsh"], dir.path());
    assert_eq!(o.status.code(), Some(2));
}

/// The printed summary fits a screen: the deadline, milestones from
/// creation and from the deadline, the bottleneck ranked by harm (a SUP
/// that rejects scans beats one that only waits), and one line for the
/// files.
#[test]
fn the_summary_reads_at_a_glance() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = patchsim(
        &[
            "run",
            root.join("scenarios/sup-outage.ron").to_str().unwrap(),
            "--set",
            "duration=4d",
            "-o",
            "out",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.len() <= 20, "{} lines:\n{text}", lines.len());
    for wanted in [
        "deadline Thu 12 Nov 18:00",
        "95% vs deadline",
        "\nfaults: sup01 (software update point) down Wed 11 Nov 10:00 – 16:00\n",
        "bottleneck: sup01 (software update point): rejected ",
        "wrote 13 files to out: open out/report.html",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    assert_eq!(text.matches("wrote").count(), 1, "one line for the files");

    // --busy-above sets the threshold of summary.json's hours_busy.
    let hours = |threshold: &str| {
        let o = patchsim(
            &[
                "run",
                root.join("scenarios/patch-tuesday.ron").to_str().unwrap(),
                "--busy-above",
                threshold,
                "-o",
                threshold,
                "-q",
            ],
            dir.path(),
        );
        assert_ok(&o);
        let json: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(threshold).join("summary.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            json["busy_threshold_pct"],
            threshold.parse::<f64>().unwrap()
        );
        json["servers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["hours_busy"].as_f64().unwrap())
            .sum::<f64>()
    };
    assert!(
        hours("20") > hours("90"),
        "a lower threshold counts more hours"
    );
}

/// `explain` tells a story: silent polls collapsed, the deadline named as
/// the reason an install waits, a verdict; `--verbose` keeps every event.
#[test]
fn explain_collapses_routine_and_gives_reasons_and_a_verdict() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        days: 5,
        ..Default::default()
    });
    std::fs::write(dir.path().join("five.ron"), text).unwrap();
    let file = "five.ron";
    let story = |client: &str, verbose: bool| {
        let mut args = vec!["explain", file, "--client", client];
        if verbose {
            args.push("--verbose");
        }
        let o = patchsim(&args, dir.path());
        assert_ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // An always-on client that the update applies to: its install waits
    // for the deadline. (The first few of the cohort; which ones the
    // update applies to is drawn.)
    let client = (0..20)
        .map(|c| c.to_string())
        .find(|c| story(c, false).contains("waits for the deadline"))
        .expect("an always-on client among the first 20 needs the update");
    let short = story(&client, false);
    let long = story(&client, true);
    assert!(short.lines().count() * 2 < long.lines().count(), "{short}");
    assert!(
        short.contains("polls for policy") && short.contains("nothing new"),
        "{short}"
    );
    assert!(
        short.contains("waits for the deadline, Thu 2026-11-12 20:00:00"),
        "{short}"
    );
    assert!(
        short
            .lines()
            .last()
            .unwrap()
            .starts_with("verdict for 'cu': "),
        "{short}"
    );
    assert!(
        short.contains(
            "the deadline (Thu 2026-11-12 20:00:00) starts it, after the scan it runs first"
        ),
        "{short}"
    );
    // Its longest wait is the deadline, which every client has: the
    // verdict also says what took the time from the deadline on.
    let verdict = short.lines().last().unwrap();
    assert!(
        verdict.contains("the longest wait was waiting for the deadline (")
            && verdict.contains("; from the deadline, compliant in ")
            && verdict.contains(", most of it "),
        "{verdict}"
    );
    assert!(long.matches("asks its management point for policy").count() > 10);
    assert!(!long.contains("verdict"));
}

/// `explain` folds a retry loop into one line: with the SUP down for six
/// hours after the deployment, the scans that fail every 30 minutes are
/// the first failure, with its reason, then one line that counts the
/// rest.
#[test]
fn explain_folds_a_retry_loop() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        days: 3,
        ..Default::default()
    });
    std::fs::write(dir.path().join("three.ron"), text).unwrap();
    let fault = r#"faults=[Fault(server: "sup", start: "2026-11-10T10:45:00+01:00", end: "2026-11-10T16:45:00+01:00")]"#;
    let story = |verbose: bool| {
        let mut args = vec!["explain", "three.ron", "--client", "0", "--set", fault];
        if verbose {
            args.push("--verbose");
        }
        let o = patchsim(&args, dir.path());
        assert_ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let (short, long) = (story(false), story(true));
    let failures = long.matches("the scan fails at the update point").count();
    assert!(failures > 3, "{long}");
    assert_eq!(
        short.matches("the scan fails at the update point").count(),
        1,
        "{short}"
    );
    assert!(short.contains("its SUP sup is down (a fault)"), "{short}");
    assert!(
        short.contains(&format!(
            "scans again {} times, and each fails: at the update point {} times",
            failures - 1,
            failures - 1
        )),
        "{short}"
    );
    assert!(short.contains("finishes the scan"), "{short}");
}

/// Messages name what the user typed and where: the file of a `--set`
/// error when several are validated, `--knob` for `size`'s knobs, a list
/// given a field with the way to name an entry, an entry of a list of
/// unnamed ones by its index, a missing directory as missing.
#[test]
fn messages_name_what_the_user_typed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let a = broken(dir.path(), "a.ron", "seed: 7,", "seed: 8,");
    let b = broken(
        dir.path(),
        "b.ron",
        r#"Cohort(name: "desktops""#,
        r#"Cohort(name: "pcs""#,
    );
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let cases: [(&[&str], &str); 6] = [
        (
            &["validate", a, b, "--set", "cohorts[desktops].count=5"],
            "b.ron: --set cohorts[desktops].count=5: cohorts has no entry named 'desktops'",
        ),
        (
            &["validate", a, "--set", "cohorts.count=3"],
            "cohorts is a list, which has no field `count`; name one of its entries: cohorts[0].count",
        ),
        (
            &[
                "size",
                a,
                "--goal",
                "no rejects",
                "--knob",
                "servers.management_points.count=1,2",
                "--knob",
                "servers.management_points.count=3",
            ],
            "--knob servers.management_points.count is given twice; list all its values in one --knob",
        ),
        (
            &["size", a, "--goal", "no rejects", "--knob", "seed=1,2"],
            "--knob seed=1: the seed cannot be swept",
        ),
        (
            &["merge", "missing", "--out", "m"],
            "missing: no such directory",
        ),
        (
            &[
                "validate",
                concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/hierarchy.ron"),
                "--set",
                "primaries[P01].replication_delay=1m",
            ],
            "primaries has no entry named 'P01': its entries have no name or id; name one by its index, [0] to [2]",
        ),
    ];
    for (args, wanted) in cases {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(wanted), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).len() < 400, "{args:?}: {}", stderr(&o));
    }
}

/// A duration that is not a whole number of sample intervals is run, with
/// a warning that the timelines stop at the last sample before the end.
#[test]
fn a_ragged_duration_is_warned_of() {
    let text = crate::common::ron(&crate::common::Knobs {
        days: 2,
        ..Default::default()
    });
    let even = crate::common::estate_of(&text);
    assert!(patchsim::app::warnings(&even).is_empty());
    let ragged =
        crate::common::estate_of(&text.replace(r#"duration: "2d""#, r#"duration: "2d30m""#));
    assert_eq!(
        patchsim::app::warnings(&ragged),
        [
            "the duration (48.5 h) is not a whole number of sample intervals (1h): compliance.csv, \
          load.csv and the charts end at 48 h, the summary's end-of-run figures at 48.5 h"
        ]
    );
}

/// The warning lines a command printed on stderr.
fn warnings(o: &std::process::Output) -> Vec<String> {
    (stderr(o).lines())
        .filter(|l| l.contains("warning"))
        .map(String::from)
        .collect()
}

/// A deployment created when the run is over is warned of: it never
/// starts, and its timelines and a study's milestones would be empty.
#[test]
fn a_deployment_after_the_end_is_warned_of() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = patchsim(
        &[
            "validate",
            "scenarios/polling-study.ron",
            "--set",
            "duration=1d",
        ],
        root,
    );
    assert_ok(&o);
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains(
            "  warning: deployment '2026-11 cumulative update' is created 33 h after the start, \
             at or after the end of the run: it never starts; create it earlier or lengthen \
             `duration`"
        ),
        "{said}"
    );
    let o = patchsim(&["validate", "scenarios/polling-study.ron"], root);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("warning"));
    // A sweep says it once, at the points where it holds (two durations
    // that cut it off, one that does not).
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = root.join("scenarios/polling-study.ron");
    let o = patchsim(
        &[
            "sweep",
            scenario.to_str().unwrap(),
            "--set",
            "duration=1d,30h,3d",
            "--set",
            "client_settings.policy_polling_interval=60m,30m",
            "-r",
            "1",
            "-o",
            "study",
        ],
        dir.path(),
    );
    assert_ok(&o);
    assert_eq!(
        warnings(&o),
        [
            "warning (at 4 of 6 points, first at duration=1d client_settings.policy_polling_interval=60m): deployment '2026-11 \
          cumulative update' is created 33 h after the start, at or after the end of the run: \
          it never starts; create it earlier or lengthen `duration`"
        ],
        "{}",
        stderr(&o)
    );
    // A sizing says it once, at the first configuration run that has it.
    let o = patchsim(
        &[
            "size",
            scenario.to_str().unwrap(),
            "--goal",
            "95% reported within 4h of creation",
            "--knob",
            "duration=1d,30h,3d",
            "-r",
            "1",
        ],
        dir.path(),
    );
    assert_ok(&o);
    assert_eq!(
        warnings(&o),
        [
            "warning (first at duration=30h): deployment '2026-11 cumulative update' is created \
             33 h after the start, at or after the end of the run: it never starts; create it \
             earlier or lengthen `duration`"
        ],
        "{}",
        stderr(&o)
    );
}

/// The line `docs/cli.md` shows for `validate` is the one it prints
/// today (the scenario's hash and memory move with the model).
#[test]
fn the_documented_validate_line_is_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = patchsim(&["validate", "scenarios/patch-tuesday.ron"], root);
    assert_ok(&out);
    let line = String::from_utf8(out.stdout).expect("UTF-8");
    let docs = std::fs::read_to_string(root.join("docs/cli.md")).expect("docs/cli.md");
    assert!(
        docs.contains(&format!("\n{line}")),
        "docs/cli.md should show `validate`'s line as it is now:\n{line}"
    );
}

/// `explain --client slowest` tells the client that became compliant
/// last (by its first installed instant, the deployment's truth), with a
/// line naming it; a deployment it does not have, or `--deployment` with
/// a client's id, is bad input.
#[test]
fn explain_finds_the_slowest_client() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = common::ron(&common::Knobs {
        days: 5,
        ..Default::default()
    });
    std::fs::write(dir.path().join("five.ron"), &text).unwrap();
    // By hand, from a traced run: each client's first installed instant.
    let (_, records) = common::traced(&common::estate_of(&text));
    let mut first = std::collections::BTreeMap::new();
    for r in &records {
        if let (Some(c), patchsim::model::TraceEvent::TrueState { to, .. }) = (r.client, r.event)
            && format!("{to:?}").contains("Installed")
        {
            first.entry(c.0).or_insert(r.time);
        }
    }
    let latest = first.values().max().expect("some client installed");
    let slowest = first
        .iter()
        .find(|(_, t)| *t == latest)
        .map(|(c, _)| *c)
        .unwrap();
    let o = patchsim(&["explain", "five.ron", "--client", "slowest"], dir.path());
    assert_ok(&o);
    let story = String::from_utf8_lossy(&o.stdout);
    let first_line = story.lines().next().unwrap();
    assert!(
        first_line.starts_with(&format!(
            "slowest of the {} clients that installed 'cu': client {slowest}, compliant ",
            first.len()
        )),
        "{first_line}"
    );
    assert!(
        story
            .lines()
            .nth(1)
            .unwrap()
            .starts_with(&format!("client {slowest} "))
    );
    for (args, expect) in [
        (
            vec!["--client", "slowest", "--deployment", "nope"],
            "--deployment 'nope': no such deployment; the scenario has: cu",
        ),
        (
            vec!["--client", "3", "--deployment", "cu"],
            "--deployment ranks the clients for --client slowest",
        ),
        (
            vec!["--client", "last"],
            "expected a client's id (a whole number from 0) or 'slowest'",
        ),
        // Too large for any scenario, told as any id out of range is.
        (
            vec!["--client", "4294967296"],
            "--client 4294967296: no such client; the scenario has clients 0 to ",
        ),
        (
            vec!["--client", "123456789012345678901234567890"],
            "--client 123456789012345678901234567890: no such client; the scenario has clients 0 to ",
        ),
    ] {
        let mut all = vec!["explain", "five.ron"];
        all.extend(args);
        let o = patchsim(&all, dir.path());
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{}", stderr(&o));
    }
}

/// A `--set` path with a mistake in a field's name says so, with the
/// fields allowed there, however the name is written: with a capital (read
/// as the start of an entry by the parser) or before a list index (a list
/// left out of the text has no entries, but an unknown field is no list);
/// in `sweep` too.
#[test]
fn a_set_path_with_an_unknown_field_lists_the_allowed_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let file = file.to_str().unwrap();
    let validate = |set: &str| patchsim(&["validate", file, "--set", set], dir.path());
    let sweep = |set: &str| {
        patchsim(
            &["sweep", file, "--set", set, "-r", "1", "-o", "s"],
            dir.path(),
        )
    };
    for (o, expect) in [
        (
            validate("cohorts[0].Count=5"),
            "--set cohorts[0].Count=5: unknown field `Count` in `Cohort` (did you mean `count`?); allowed: `name`, `count`,",
        ),
        (
            validate("Foo=5"),
            "--set Foo=5: unknown field `Foo` in `Scenario`; allowed: `name`,",
        ),
        (
            validate("cohortz[0].count=3"),
            "--set cohortz[0].count=3: unknown field `cohortz` in `Scenario` (did you mean `cohorts`?); allowed: `name`,",
        ),
        (
            validate("cohorts[0].windows[0].duration=1h"),
            "unknown field `windows` in `Cohort`; allowed: `name`,",
        ),
        (
            sweep("Cohorts[0].count=3,4"),
            "unknown field `Cohorts` in `Scenario` (did you mean `cohorts`?); allowed: `name`,",
        ),
        // A known list left out of the text is empty.
        (
            validate("faults[0].effect=Down"),
            "faults is empty; there is no [0]",
        ),
    ] {
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(expect), "want {expect:?} in:\n{err}");
        assert!(!err.contains("starts a new entry"), "{err}");
    }
    assert!(!dir.path().join("s").exists());
}

/// A long `--set` value is cut at 60 characters wherever a message quotes
/// it: in a value's own error (once its quotes are added, inside
/// `Some(...)`), and in the header of validation problems, which quote
/// the names it set cut too.
#[test]
fn a_long_set_value_is_cut_in_every_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = broken(dir.path(), "ok.ron", "seed: 7,", "seed: 7,");
    let file = file.to_str().unwrap();
    let xs = "x".repeat(500);
    let deadline = format!("deployments[0].deadline=Some(Some(\"{xs}\"))");
    let name = format!("cohorts[0].name=\"{}\"", "y".repeat(5_000));
    for set in [deadline, name] {
        let o = patchsim(&["validate", file, "--set", &set], dir.path());
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.len() < 1_000, "{} bytes: {err}", err.len());
        assert!(!err.contains(&"x".repeat(61)), "{err}");
        assert!(!err.contains(&"y".repeat(61)), "{err}");
    }
}

/// A fault that begins after a shortened run's end is warned of, and the
/// printed summary says it is past the end, not that it happened.
#[test]
fn a_fault_after_the_end_is_warned_of() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = root.join("scenarios/sup-outage.ron");
    // sup-outage.ron run for `duration` (`None`: its own) into `out`:
    // (stdout, stderr).
    let run = |duration: Option<&str>, out: &str| {
        let set = duration.map(|d| format!("duration={d}"));
        let mut args = vec!["run", scenario.to_str().unwrap(), "-o", out];
        if let Some(set) = &set {
            args.extend(["--set", set.as_str()]);
        }
        let o = patchsim(&args, dir.path());
        assert_ok(&o);
        (String::from_utf8_lossy(&o.stdout).into_owned(), stderr(&o))
    };
    let warning = "warning: the fault of 'sup01' begins 58 h after the start, at or after the \
                   end of the run: it never happens; move it earlier or lengthen `duration`";
    let (said, err) = run(Some("6h"), "short");
    assert!(err.contains(warning), "{err}");
    assert!(
        said.contains(
            "faults: sup01 (software update point) down Wed 11 Nov 10:00 – 16:00 (after the end \
             of the run)"
        ),
        "{said}"
    );
    // Cut between the creation and the deadline: the deadline is past the
    // end, and the summary says so.
    let (said, _) = run(Some("2d12h"), "cut");
    assert!(
        said.contains(
            "2026-11 cumulative update (required, 6,000 clients): created Wed 11 Nov 09:00, \
             deadline Thu 12 Nov 18:00 (after the end of the run)\n"
        ),
        "{said}"
    );
    let o = patchsim(&["validate", scenario.to_str().unwrap()], root);
    assert_ok(&o);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("warning"));
    let (said, err) = run(None, "whole");
    assert!(!err.contains("warning"), "{err}");
    assert!(
        said.contains("faults: sup01 (software update point) down Wed 11 Nov 10:00 – 16:00\n"),
        "{said}"
    );
}
