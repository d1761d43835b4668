//! Studies: the grid, common random numbers, byte-identical outputs for
//! any number of workers and shards, merge's refusals, and the CLI's
//! errors before anything runs.

use crate::common;
use crate::common::{assert_ok, patchsim, stderr};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::Knobs;
use patchsim::study::{self, Param, Shard};

/// A tiny scenario (200 clients, 4 days) written into `dir`.
fn scenario(dir: &Path, name: &str, seed: u64) -> PathBuf {
    let path = dir.join(name);
    let text = common::ron(&Knobs {
        seed,
        always_on: 100,
        desktops: 100,
        days: 4,
        ..Default::default()
    });
    std::fs::write(&path, text).expect("write scenario");
    path
}

fn params(sets: &[&str]) -> Vec<Param> {
    sets.iter()
        .map(|s| s.parse().expect("valid --set"))
        .collect()
}

const POLL: &str = "client_settings.policy_polling_interval=30m,120m";

/// Runs a study (or one shard) through the library, as `patchsim sweep` does.
pub(super) fn sweep(
    file: &Path,
    sets: &[&str],
    replications: u32,
    jobs: usize,
    shard: Option<Shard>,
    out: &Path,
) {
    let plan = study::plan(file, params(sets), replications).unwrap_or_else(|e| panic!("{e}"));
    let request = patchsim::app::SweepRequest {
        shard,
        jobs,
        interrupt: None,
        done: &|| {},
        note: None,
        before_commit: None,
    };
    patchsim::app::sweep_to_dir(&plan, file, out, request).unwrap_or_else(|e| panic!("{e}"));
}

/// Writes a study made or edited in memory into `dir`, as `sweep` and
/// `merge` write theirs.
fn write_study(dir: &Path, made: &study::Study) {
    use patchsim::output::{Kind, Staging};
    let mut staging =
        Staging::begin(dir, Kind::Study, false, &[]).unwrap_or_else(|e| panic!("{e}"));
    study::write_into(&mut staging, made).unwrap_or_else(|e| panic!("{e}"));
    staging.commit(None).unwrap_or_else(|e| panic!("{e}"));
}

/// Every file of a directory, by name.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("study directory")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).expect("read"),
            )
        })
        .collect()
}

fn assert_same_study(a: &Path, b: &Path) {
    let (fa, fb) = (files(a), files(b));
    assert_eq!(
        fa.keys().collect::<Vec<_>>(),
        fb.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &fa {
        assert!(
            bytes == &fb[name],
            "{name} differs between {} and {}",
            a.display(),
            b.display()
        );
    }
}

fn shard(index: u32, count: u32) -> Option<Shard> {
    Some(Shard { index, count })
}

#[test]
fn runs_follow_the_grid_with_common_random_numbers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let out = dir.path().join("study");
    sweep(
        &file,
        &[POLL, "cohorts[desktops].count=50,80"],
        2,
        2,
        None,
        &out,
    );
    let runs = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let mut lines = runs.lines();
    assert!(lines.next().unwrap().starts_with(
        "point,client_settings.policy_polling_interval,cohorts[desktops].count,replication,seed,hours_to_50_true,"
    ));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').take(5).collect()).collect();
    let s = |r: u32| study::replication_seed(7, r).to_string();
    let expected: Vec<Vec<String>> = [
        ("0", "30m", "50"),
        ("1", "30m", "80"),
        ("2", "120m", "50"),
        ("3", "120m", "80"),
    ]
    .iter()
    .flat_map(|(p, poll, count)| {
        (0..2).map(move |r| {
            vec![
                p.to_string(),
                poll.to_string(),
                count.to_string(),
                r.to_string(),
                s(r),
            ]
        })
    })
    .collect();
    assert_eq!(
        rows, expected,
        "first --set outermost; replication r has one seed at every point"
    );

    // points.csv holds the mean of runs.csv's values.
    let points = std::fs::read_to_string(out.join("points.csv")).expect("points.csv");
    assert!(
        points.starts_with("point,client_settings.policy_polling_interval,"),
        "no comment line: {points}"
    );
    let manifest = std::fs::read_to_string(out.join("study.json")).expect("study.json");
    assert!(manifest.contains("\"replications\": 2") && manifest.contains("\"shard\": null"));

    // The MP's requests show the load of polling four times as often,
    // though no queue forms.
    let arrived = |point: &str| -> f64 {
        let row = (points.lines())
            .find(|l| l.starts_with(&format!("{point},")) && l.contains(",arrived[mp],"))
            .unwrap_or_else(|| panic!("no arrived[mp] at point {point}: {points}"));
        row.split(',')
            .nth(5)
            .expect("a mean")
            .parse()
            .expect("a number")
    };
    let (often, seldom) = (arrived("0"), arrived("2"));
    assert!(
        often > 2.5 * seldom && seldom > 0.0,
        "30m polling {often} requests, 120m {seldom}"
    );
    let svg = std::fs::read_to_string(out.join("chart-hours_to_50_true.svg")).expect("a chart");
    assert!(svg.starts_with("<!-- patchsim ") && svg.contains("<svg") && svg.contains("30m"));
}

#[test]
fn jobs_1_and_jobs_2_give_identical_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let (one, two) = (dir.path().join("j1"), dir.path().join("j2"));
    sweep(&file, &[POLL], 3, 1, None, &one);
    sweep(&file, &[POLL], 3, 2, None, &two);
    assert_same_study(&one, &two);
}

#[test]
fn three_shards_merged_give_the_unsharded_bytes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let whole = dir.path().join("whole");
    sweep(&file, &[POLL], 4, 2, None, &whole);
    let shards: Vec<PathBuf> = (1..=3)
        .map(|i| {
            let d = dir.path().join(format!("shard{i}"));
            sweep(&file, &[POLL], 4, 1, shard(i, 3), &d);
            d
        })
        .collect();
    assert!(
        !shards[0].join("points.csv").exists(),
        "a shard is a partial study"
    );
    // In any order.
    let order = [&shards[2], &shards[0], &shards[1]].map(PathBuf::clone);
    let out = dir.path().join("merged");
    patchsim::app::merge_to_dir(&order, &out, None, None).unwrap_or_else(|e| panic!("{e}"));
    assert_same_study(&whole, &out);
}

fn merge_error(dirs: &[&Path]) -> String {
    let parts = dirs
        .iter()
        .map(|d| study::read(d))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    let e = study::merge(parts, dirs).expect_err("merge refuses");
    assert!(e.is_bad_input(), "exit code 2");
    e.to_string()
}

#[test]
fn merging_shards_of_different_studies_fails_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let other = scenario(dir.path(), "other.ron", 8);
    let d = |n: &str| dir.path().join(n);
    sweep(&file, &[POLL], 2, 1, shard(1, 2), &d("a1"));
    sweep(&file, &[POLL], 2, 1, shard(2, 2), &d("a2"));
    sweep(&other, &[POLL], 2, 1, shard(2, 2), &d("seed8"));
    sweep(&file, &[POLL], 3, 1, shard(2, 2), &d("reps3"));
    sweep(
        &file,
        &["client_settings.policy_polling_interval=30m,60m"],
        2,
        1,
        shard(2, 2),
        &d("grid"),
    );
    sweep(&file, &[POLL], 2, 1, shard(2, 3), &d("of3"));

    let e = merge_error(&[&d("a1"), &d("seed8")]);
    assert!(
        e.contains("are not shards of the same study (scenario hash ")
            && e.contains("merge only the shards written by one `patchsim sweep` command"),
        "{e}"
    );
    let e = merge_error(&[&d("a1"), &d("reps3")]);
    assert!(e.contains("(replications 2 vs 3)"), "{e}");
    let e = merge_error(&[&d("a1"), &d("grid")]);
    assert!(e.contains("(grid `--set client_settings.policy_polling_interval=30m,120m` vs `--set client_settings.policy_polling_interval=30m,60m`)"), "{e}");
    let e = merge_error(&[&d("a1"), &d("of3")]);
    assert!(e.contains("(shard count 2 vs 3)"), "{e}");
    let e = merge_error(&[&d("a1")]);
    assert!(
        e.contains("shard 2/2 is missing; give the directories of all 2 shards"),
        "{e}"
    );
    let e = merge_error(&[&d("a1"), &d("a2"), &d("a1")]);
    assert!(e.contains("shard 1/2 is given twice"), "{e}");

    // A shard whose runs were lost is refused when read.
    let runs = d("a2").join("runs.csv");
    let text = std::fs::read_to_string(&runs).unwrap();
    let cut: Vec<&str> = text.lines().take(text.lines().count() - 1).collect();
    std::fs::write(&runs, cut.join("\n") + "\n").unwrap();
    let e = study::read(&d("a2"))
        .expect_err("incomplete shard")
        .to_string();
    assert!(
        e.contains(
            "lacks 1 of the 2 runs shard 2/2 of this study has (the first missing: point 1, \
             replication 1); it was edited: run the shard again"
        ),
        "{e}"
    );
}

#[test]
fn cli_rejects_bad_input_before_running_anything() {
    let dir = tempfile::tempdir().expect("tempdir");
    scenario(dir.path(), "s.ron", 7);
    let sweep = |set: &str, extra: &[&str]| {
        let mut args = vec!["sweep", "s.ron", "--set", set, "-r", "2", "--out", "out"];
        args.extend(extra);
        patchsim(&args, dir.path())
    };
    let cases: [(&str, &[&str], &str); 6] = [
        (
            "client_settings.policy_poling_interval=15m",
            &[],
            "--set client_settings.policy_poling_interval=15m: unknown field `policy_poling_interval` in `ClientSettings` (did you mean `policy_polling_interval`?); allowed:",
        ),
        (
            "client_settings.policy_polling_interval=1m,30m",
            &[],
            "s.ron with client_settings.policy_polling_interval=1m: 1 problem\n  client_settings.policy_polling_interval: must be between 3m and 1d, got 1m",
        ),
        (
            "cohorts[laptops].count=5",
            &[],
            "cohorts has no entry named 'laptops'; known: always-on, desktops",
        ),
        ("client_settings.policy_polling_interval", &[], "has no '='"),
        (POLL, &["--shard", "4/3"], "bad shard '4/3': expected I/N"),
        (
            "client_settings.policy_polling_interval=1h,60m",
            &[],
            "the grid points client_settings.policy_polling_interval=1h and client_settings.policy_polling_interval=60m are the same scenario",
        ),
    ];
    for (set, extra, message) in cases {
        let out = sweep(set, extra);
        assert_eq!(out.status.code(), Some(2), "{set}: {}", stderr(&out));
        assert!(stderr(&out).contains(message), "{set}: {}", stderr(&out));
        assert!(!dir.path().join("out").exists(), "{set}: nothing written");
    }
    let twice = sweep(
        POLL,
        &["--set", "client_settings.policy_polling_interval=15m"],
    );
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains(
            "error: --set client_settings.policy_polling_interval is given twice; list all its values in one --set"
        ),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn cli_sweeps_shards_and_merges() {
    let dir = tempfile::tempdir().expect("tempdir");
    scenario(dir.path(), "s.ron", 7);
    let run = |args: &[&str]| {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let table = run(&[
        "sweep", "s.ron", "--set", POLL, "-r", "2", "-j", "2", "--out", "whole",
    ]);
    assert!(
        table.contains("2 points × 2 replications = 4 runs") && table.contains("95% reported"),
        "{table}"
    );
    for i in 1..=2 {
        let shard = format!("{i}/2");
        let out = format!("part{i}");
        run(&[
            "sweep", "s.ron", "--set", POLL, "-r", "2", "--shard", &shard, "--out", &out, "--quiet",
        ]);
    }
    let merged = run(&["merge", "part2", "part1", "--out", "merged"]);
    assert_eq!(
        merged.replace(" merged", " whole"),
        table,
        "merge prints the same table"
    );
    assert_same_study(&dir.path().join("whole"), &dir.path().join("merged"));
    let quiet = patchsim(
        &["merge", "part1", "part2", "--out", "m2", "--quiet"],
        dir.path(),
    );
    assert!(quiet.status.success() && quiet.stdout.is_empty());

    let bad = patchsim(&["merge", "part1", "--out", "m3"], dir.path());
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("error: shard 2/2 is missing"),
        "{}",
        stderr(&bad)
    );
    let none = patchsim(&["merge", "nowhere", "--out", "m4"], dir.path());
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("nowhere: no such directory"),
        "{}",
        stderr(&none)
    );
    let wholes = patchsim(&["merge", "whole", "merged", "--out", "m5"], dir.path());
    assert_eq!(wholes.status.code(), Some(2));
    assert!(
        stderr(&wholes).contains("whole and merged are whole studies, not shards"),
        "{}",
        stderr(&wholes)
    );
}

/// Hand-edited study files: every field of `study.json` and every row of
/// `runs.csv` is checked as the command line checks its flags, so `merge`
/// neither panics, aborts nor hangs, and says which file and field.
#[test]
fn merge_checks_every_field_of_hand_edited_study_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    scenario(dir.path(), "s.ron", 7);
    for i in 1..=2 {
        let o = patchsim(
            &[
                "sweep",
                "s.ron",
                "--set",
                POLL,
                "-r",
                "2",
                "--shard",
                &format!("{i}/2"),
                "--out",
                &format!("p{i}"),
                "-q",
            ],
            dir.path(),
        );
        assert_ok(&o);
    }
    let json = std::fs::read_to_string(dir.path().join("p1/study.json")).unwrap();
    let runs = std::fs::read_to_string(dir.path().join("p1/runs.csv")).unwrap();
    let seed = study::replication_seed(7, 0).to_string();
    let json_cases: [(&str, &str, &str); 9] = [
        (
            "\"count\": 2",
            "\"count\": 0",
            "p1/study.json: shard: bad shard '1/0'",
        ),
        (
            "\"index\": 1",
            "\"index\": 0",
            "p1/study.json: shard: bad shard '0/2'",
        ),
        (
            "\"index\": 1",
            "\"index\": 3",
            "p1/study.json: shard: bad shard '3/2'",
        ),
        (
            "\"count\": 2",
            "\"count\": 4294967295",
            "p1/runs.csv:3: the run of point 1, replication 0 belongs to shard 3/4294967295, \
             not to this one (1/4294967295)",
        ),
        (
            "\"runs\": 4",
            "\"runs\": 18446744073709551615",
            "p1/study.json: runs: is 18446744073709551615; 2 points × 2 replications make 4",
        ),
        (
            "\"replications\": 2",
            "\"replications\": 0",
            "p1/study.json: replications: must be between 1 and 1000000, got 0",
        ),
        (
            "\"count\": 2",
            "\"count\": -1",
            "p1/study.json: shard.count: not a study manifest: invalid value: integer `-1`",
        ),
        (
            "\"30m\",\n        \"120m\"",
            "",
            "p1/study.json: grid[0]: 'client_settings.policy_polling_interval=' has an empty value",
        ),
        (
            "\"seed\": 7",
            "\"seed\": 8",
            "p1/study.json: seed: does not match the scenario in p1/scenario.ron",
        ),
    ];
    let values_empty = {
        let points = json.find("\"points\": [").expect("points");
        let at = points
            + json[points..]
                .find("\"values\": [")
                .expect("points have values");
        let end = at + json[at..].find(']').unwrap() + 1;
        format!("{}\"values\": []{}", &json[..at], &json[end..])
    };
    let mut edits: Vec<(String, String, &str)> = json_cases
        .iter()
        .map(|&(from, to, expect)| {
            assert!(json.contains(from), "study.json holds {from:?}");
            ("study.json".to_string(), json.replacen(from, to, 1), expect)
        })
        .collect();
    edits.push((
        "study.json".to_string(),
        values_empty,
        "p1/study.json: points[0]: does not match the grid point's scenario",
    ));
    let row_of_seed = runs
        .lines()
        .find(|l| l.contains(&seed))
        .expect("a row of replication 0");
    let mut nan = row_of_seed.rsplitn(2, ',').collect::<Vec<_>>();
    nan[0] = "NaN";
    let nan_row = format!("{},{}", nan[1], nan[0]);
    edits.push((
        "runs.csv".to_string(),
        runs.replacen(row_of_seed, &nan_row, 1),
        "p1/runs.csv:2: column ",
    ));
    edits.push((
        "runs.csv".to_string(),
        runs.replacen(row_of_seed, &row_of_seed.replacen("0,", "9,", 1), 1),
        "p1/runs.csv:2: bad point",
    ));
    // Finite but out of any run's range (a value this large made the
    // charts' axes loop forever).
    for (value, expect) in [
        (
            "1e160",
            "column events: 1e160 is not in 0 to 1000000000000000000",
        ),
        ("-1", "column events: -1 is not in 0 to"),
    ] {
        let row = format!("{},{value}", nan[1]);
        edits.push((
            "runs.csv".to_string(),
            runs.replacen(row_of_seed, &row, 1),
            expect,
        ));
    }
    // One run twice (over another).
    let run_lines: Vec<&str> = runs.lines().collect();
    edits.push((
        "runs.csv".to_string(),
        runs.replacen(run_lines[2], run_lines[1], 1),
        "p1/runs.csv:3: the run of point 0, replication 0 is given twice, on lines 2 and 3",
    ));
    // Milestones that contradict each other.
    let header: Vec<&str> = runs.lines().next().expect("header").split(',').collect();
    let column = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let cells: Vec<&str> = row_of_seed.split(',').collect();
    let (h50, h80) = (column("hours_to_50_true"), column("hours_to_80_true"));
    let reached: f64 = cells[h50].parse().expect("50 % reached in that run");
    for (at_50, at_80, expect) in [
        (
            String::new(),
            format!("{}", reached + 1.0),
            "column hours_to_50_true is empty (not reached) but hours_to_80_true was reached",
        ),
        (
            cells[h50].to_string(),
            format!("{}", reached - 1.0),
            "column hours_to_50_true (",
        ),
    ] {
        let mut edited: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        edited[h50] = at_50;
        edited[h80] = at_80;
        edits.push((
            "runs.csv".to_string(),
            runs.replacen(row_of_seed, &edited.join(","), 1),
            expect,
        ));
    }
    // A file cut short, by one byte (its last line break) to seven (into
    // the last number): the writer ends every row with a line break.
    for cut in [1, 3, 7] {
        edits.push((
            "runs.csv".to_string(),
            runs[..runs.len() - cut].to_string(),
            "the file ends inside its last row, without the line break that ends every row",
        ));
    }
    // Empty cells where every run gives a value, fractional counts, and a
    // milestone missing though the share at the end reaches it.
    let with = |edits: &[(&str, &str)]| {
        let mut edited: Vec<String> = cells.iter().map(|c| c.to_string()).collect();
        for (name, value) in edits {
            edited[column(name)] = value.to_string();
        }
        runs.replacen(row_of_seed, &edited.join(","), 1)
    };
    for (cells_edited, expect) in [
        (
            vec![("events", "")],
            "p1/runs.csv:2: column events: is empty, but every run gives it",
        ),
        (
            vec![("compliant_pct_true", "")],
            "p1/runs.csv:2: column compliant_pct_true: is empty, but every run gives it",
        ),
        (
            vec![("peak_queue[dp]", "922.5")],
            "column peak_queue[dp]: 922.5 is not a whole number",
        ),
        (
            vec![("events", "1260058.5")],
            "column events: 1260058.5 is not a whole number",
        ),
        (
            vec![("compliant_pct_true", "100"), ("hours_to_99_true", "")],
            "is empty (not reached) but compliant_pct_true is 100, which reaches it",
        ),
    ] {
        edits.push(("runs.csv".to_string(), with(&cells_edited), expect));
    }
    // study.json's list of files, other than sweep writes.
    let files_listed = "\"runs.csv\",\n    \"curves.csv\",";
    assert!(json.contains(files_listed), "{json}");
    edits.push((
        "study.json".to_string(),
        json.replacen(files_listed, "\"runs.csv\",", 1),
        "p1/study.json: files: lists [runs.csv, scenario.ron], but `sweep` writes [runs.csv, \
         curves.csv, scenario.ron] for this shard",
    ));
    // curves.csv: a row taken out (first or last), a count of runs or a
    // sum that no run gives, a sample moved.
    let curves = std::fs::read_to_string(dir.path().join("p1/curves.csv")).unwrap();
    let lines: Vec<&str> = curves.lines().collect();
    let without = |i: usize| {
        let mut kept = lines.clone();
        kept.remove(i);
        kept.join("\n") + "\n"
    };
    let with_cell = |i: usize, k: usize, value: &str| {
        let mut cells: Vec<&str> = lines[i].split(',').collect();
        cells[k] = value;
        curves.replacen(lines[i], &cells.join(","), 1)
    };
    let n: u64 = lines[2].split(',').nth(7).unwrap().parse().expect("runs");
    let targeted: u64 = lines[2]
        .split(',')
        .nth(6)
        .unwrap()
        .parse()
        .expect("targeted");
    for (text, expect) in [
        (
            without(1),
            "its sample times differ from those of the point's other curves",
        ),
        (
            without(lines.len() - 1),
            "its sample times differ from those of the point's other curves",
        ),
        (with_cell(2, 7, &(n + 1).to_string()), "but runs.csv has"),
        (
            with_cell(2, 8, &(n * targeted + 1).to_string()),
            "cannot come from",
        ),
        (with_cell(2, 3, "1"), "its sample times differ"),
        (
            with_cell(1, 3, "999999999999"),
            "the samples are out of order",
        ),
    ] {
        edits.push(("curves.csv".to_string(), text, expect));
    }
    // Consistent in itself, but not with the other shard: every curve
    // created a millisecond later.
    let shifted: String = (lines.iter().enumerate())
        .map(|(i, l)| {
            let mut cells: Vec<String> = l.split(',').map(String::from).collect();
            if i > 0 {
                cells[4] = (cells[4].parse::<u64>().expect("created_ms") + 1).to_string();
            }
            cells.join(",") + "\n"
        })
        .collect();
    edits.push((
        "curves.csv".to_string(),
        shifted,
        "p2: its curves.csv samples a point at other times, or for other clients, than the shards before it do",
    ));
    let curves_cut = format!(
        "p1/curves.csv:{}: the file ends inside its last row",
        lines.len()
    );
    edits.push((
        "curves.csv".to_string(),
        curves[..curves.len() - 2].to_string(),
        &curves_cut,
    ));
    for (file, text, expect) in edits {
        let path = dir.path().join("p1").join(&file);
        let good = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, &text).unwrap();
        let started = std::time::Instant::now();
        let o = patchsim(&["merge", "p1", "p2", "--out", "m", "-q"], dir.path());
        std::fs::write(&path, good).unwrap();
        assert!(started.elapsed().as_secs() < 30, "{expect}: it hangs");
        assert_eq!(o.status.code(), Some(2), "{expect}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{expect}: {}", stderr(&o));
        assert!(!dir.path().join("m").exists(), "{expect}: nothing written");
    }
    let o = patchsim(&["merge", "p1", "p2", "--out", "m", "-q"], dir.path());
    assert_ok(&o);
}

/// `patchsim diff` compares two studies point by point, with intervals
/// paired by replication when the seeds are shared, and two runs by
/// milestone, bottleneck, server and total; a run and a study do not
/// compare.
#[test]
fn diff_compares_two_studies_or_two_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    sweep(&file, &[POLL], 3, 2, None, &dir.path().join("a"));
    sweep(
        &file,
        &[POLL, "client_settings.state_message_interval=5m"],
        3,
        2,
        None,
        &dir.path().join("b"),
    );
    let o = patchsim(&["diff", "a", "b"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    for wanted in [
        "paired by replication",
        "hours_to_95_reported",
        "B − A (95 % CI)",
        // B holds one more setting fixed: the points still pair by the
        // swept value, and the setting is named.
        "settings held fixed (the one-valued --set and scenario.ron; those that differ)",
        "\n 30m    hours_to_50_true",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    let fixed = (text.lines())
        .find(|l| {
            l.trim_start()
                .starts_with("client_settings.state_message_interval")
        })
        .unwrap_or_else(|| panic!("the setting B fixed:\n{text}"));
    assert!(fixed.trim_end().ends_with(" 5m"), "{fixed}");
    assert!(!text.contains("paired by position"), "{text}");
    // One more replication and one more point on one side: the first
    // replications still pair, and the point only one side has is named.
    sweep(
        &file,
        &["client_settings.policy_polling_interval=30m,120m,240m"],
        4,
        2,
        None,
        &dir.path().join("c"),
    );
    let o = patchsim(&["diff", "a", "c"], dir.path());
    let text = String::from_utf8_lossy(&o.stdout);
    for wanted in [
        "paired by replication (the first 3 of each ran the same seeds)",
        "points only B has: 240m",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    // A difference over fewer pairs than replications says how many, and
    // A and B are over those pairs.
    assert!(
        text.contains("59.84 ± 0.08  59.84 ± 0.08  +0.00 ± 0.00 (2 pairs)"),
        "{text}"
    );
    // Its chart draws such a mean hollow, and says so; a chart whose
    // every mean is over all the runs does not.
    let charts: BTreeMap<String, String> = files(&dir.path().join("c"))
        .into_iter()
        .filter(|(name, _)| name.ends_with(".svg") && !name.starts_with("curves"))
        .map(|(name, bytes)| (name, String::from_utf8(bytes).expect("SVG text")))
        .collect();
    let hollow: Vec<&String> = charts
        .iter()
        .filter(|(_, svg)| svg.contains("hollow: mean of the runs"))
        .map(|(name, _)| name)
        .collect();
    assert_eq!(
        hollow,
        [
            "chart-hours_to_50_reported.svg",
            "chart-hours_to_50_true.svg"
        ],
        "the means over 3 of 4 runs"
    );
    let svg = &charts["chart-hours_to_50_true.svg"];
    // The dots (radius 4; an error bar draws its own circle, radius 6):
    // one open per point, none filled.
    let circles = |filled: bool| {
        svg.lines()
            .filter(|l| l.contains(r#"<circle"#) && l.contains(r#"r="4""#))
            .filter(|l| l.contains(r#"fill="none""#) != filled)
            .count()
    };
    assert_eq!((circles(false), circles(true)), (3, 0), "{svg}");

    let f = file.to_str().unwrap();
    for (out, poll) in [("r1", "30m"), ("r2", "120m")] {
        let set = format!("client_settings.policy_polling_interval={poll}");
        let o = patchsim(&["run", f, "--set", &set, "-o", out, "-q"], dir.path());
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let o = patchsim(&["diff", "r1", "r2"], dir.path());
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let text = String::from_utf8_lossy(&o.stdout);
    for wanted in [
        "95% reported",
        "bottleneck: A ",
        "policy_requests",
        "mp ",
        "one run each: two seeds of the same setting differ by about as much as some setting \
         changes, so a difference of one seed may be noise",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    // Every number of a server that differs, the queue wait's count and
    // percentiles too (the MP's waits: one per request, and the polls
    // differ).
    assert!(text.contains("queue_wait_s count"), "{text}");
    // What the two runs were told to do differently, as a --set path.
    let setting = (text.lines())
        .skip_while(|l| !l.starts_with("settings (scenario.ron, those that differ)"))
        .find(|l| l.contains("client_settings.policy_polling_interval"))
        .unwrap_or_else(|| panic!("the polling interval in the settings:\n{text}"));
    let words: Vec<&str> = setting.split_whitespace().collect();
    assert_eq!(
        words,
        ["client_settings.policy_polling_interval", "30m", "2h"],
        "{setting}"
    );
    // A run against itself: every section says none differ.
    let o = patchsim(&["diff", "r1", "r1"], dir.path());
    let same = String::from_utf8_lossy(&o.stdout);
    for none in [
        "settings (scenario.ron, those that differ): none",
        "servers (the numbers that differ): none",
        "totals (those that differ): none",
    ] {
        assert!(same.contains(none), "{none} in\n{same}");
    }
    // A deployment only one run has (a rule's, made in one run) is listed
    // as that run's, not dropped.
    let summary = dir.path().join("r2/summary.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&summary).expect("summary")).expect("json");
    let old = v["deployments"][0]["name"]
        .as_str()
        .expect("a name")
        .to_string();
    v["deployments"][0]["name"] = "renamed".into();
    std::fs::write(&summary, v.to_string()).expect("write summary");
    let o = patchsim(&["diff", "r1", "r2"], dir.path());
    let text = String::from_utf8_lossy(&o.stdout);
    for wanted in [format!("{old} (A only)"), "renamed (B only)".to_string()] {
        assert!(text.contains(&wanted), "{wanted} in\n{text}");
    }
    let o = patchsim(&["diff", "r1", "a"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not the same kind of output"));
    let o = patchsim(&["diff", "r1", "nothing"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    // A shard is not a study to compare: merge first.
    sweep(&file, &[POLL], 3, 2, shard(1, 2), &dir.path().join("half"));
    let o = patchsim(&["diff", "a", "half"], dir.path());
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("holds shard 1/2 of a study") && err.contains("patchsim merge"),
        "{err}"
    );
}

/// `diff` reads `points.csv` of a whole study and refuses one that is
/// missing, emptied or edited (it is what people read, and `diff`
/// recomputes its numbers from `runs.csv`), but not a study whose report
/// and charts are gone: those are views of the same numbers.
#[test]
fn diff_checks_points_csv_against_runs_csv() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    sweep(&file, &[POLL], 2, 2, None, &dir.path().join("a"));
    let copy = |name: &str| {
        let to = dir.path().join(name);
        std::fs::create_dir(&to).unwrap();
        for (file, bytes) in files(&dir.path().join("a")) {
            std::fs::write(to.join(file), bytes).unwrap();
        }
        to
    };
    let no_views = copy("no-views");
    for (name, _) in files(&no_views) {
        if name == "report.html" || name.ends_with(".svg") {
            std::fs::remove_file(no_views.join(name)).unwrap();
        }
    }
    diff_text(dir.path(), "a", "no-views");

    let points = std::fs::read_to_string(dir.path().join("a/points.csv")).unwrap();
    // Its line ends turned into CRLF, behind a byte order mark (as a
    // checkout may leave it): the same rows, accepted as the other files.
    let crlf = copy("crlf");
    let windows = format!("\u{feff}{}", points.replace('\n', "\r\n"));
    std::fs::write(crlf.join("points.csv"), windows).unwrap();
    diff_text(dir.path(), "a", "crlf");

    let third = points.lines().nth(2).expect("a third line");
    let edited = format!("{third}9");
    let cases: [(&str, Option<String>, String); 3] = [
        (
            "missing",
            None,
            "missing/points.csv: is missing (`sweep` writes it with every whole study): run \
             the sweep again"
                .to_string(),
        ),
        (
            "emptied",
            Some(String::new()),
            "emptied/points.csv: is empty, but the runs in runs.csv give points".to_string(),
        ),
        (
            "edited",
            Some(points.replacen(third, &edited, 1)),
            format!(
                "edited/points.csv:3: is `{edited}`, but the runs in runs.csv give `{third}`; \
                 it was edited, or runs.csv was: run the sweep again"
            ),
        ),
    ];
    for (name, text, expect) in cases {
        let study = copy(name);
        match text {
            Some(text) => std::fs::write(study.join("points.csv"), text).unwrap(),
            None => std::fs::remove_file(study.join("points.csv")).unwrap(),
        }
        let o = patchsim(&["diff", "a", name], dir.path());
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&expect),
            "{name}: {expect}\n{}",
            stderr(&o)
        );
    }
}

/// A `runs.csv` edited by hand is refused with what is wrong with it: a
/// run that belongs to another shard (named with its line), a run given
/// twice, a run left out; for a whole study, without talk of shards.
#[test]
fn edited_runs_csv_names_the_run_at_fault() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    sweep(&file, &[POLL], 2, 2, None, &dir.path().join("whole"));
    for i in 1..=2 {
        sweep(
            &file,
            &[POLL],
            2,
            1,
            shard(i, 2),
            &dir.path().join(format!("p{i}")),
        );
    }
    let lines = |path: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.path().join(path)).unwrap();
        text.lines().map(|l| format!("{l}\n")).collect()
    };
    // Shard 1 of 2 holds runs 0 and 2 (point 0 and point 1, replication
    // 0); shard 2 runs 1 and 3. The second row of shard 2 put in place of
    // shard 1's second row.
    let mut p1 = lines("p1/runs.csv");
    p1[2] = lines("p2/runs.csv")[2].clone();
    std::fs::write(dir.path().join("p1/runs.csv"), p1.concat()).unwrap();
    let o = patchsim(&["merge", "p1", "p2", "--out", "m"], dir.path());
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(
            "p1/runs.csv:3: the run of point 1, replication 1 belongs to shard 2/2, not to this \
             one (1/2)"
        ),
        "{}",
        stderr(&o)
    );

    let whole = lines("whole/runs.csv");
    let edits = [
        (
            "twice",
            {
                let mut w = whole.clone();
                w[2] = w[1].clone();
                w
            },
            "twice/runs.csv:3: the run of point 0, replication 0 is given twice, on lines 2 and 3",
        ),
        (
            "short",
            whole[..whole.len() - 1].to_vec(),
            "short/runs.csv: lacks 1 of the 4 runs this study has (the first missing: point 1, \
          replication 1); it was edited: run the sweep again",
        ),
    ];
    for (name, rows, expect) in edits {
        let to = dir.path().join(name);
        std::fs::create_dir(&to).unwrap();
        for (file, bytes) in files(&dir.path().join("whole")) {
            std::fs::write(to.join(file), bytes).unwrap();
        }
        std::fs::write(to.join("runs.csv"), rows.concat()).unwrap();
        let o = patchsim(&["diff", "whole", name], dir.path());
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(expect),
            "{name}: {expect}\n{}",
            stderr(&o)
        );
        assert!(!stderr(&o).contains("shard"), "{name}: {}", stderr(&o));
    }
}

/// The text `patchsim diff a b` prints (in `dir`), which must succeed.
fn diff_text(dir: &Path, a: &str, b: &str) -> String {
    let o = patchsim(&["diff", a, b], dir);
    assert_ok(&o);
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The table row of `diff` for `metric` at the point labelled `point`:
/// its cells after the metric's name.
fn diff_row(text: &str, point: &str, metric: &str) -> Vec<String> {
    let mut lines = text.lines().skip_while(|l| !l.contains(" B − A (95 % CI)"));
    let mut here = false;
    lines
        .find(|l| {
            let cells: Vec<&str> = l.split_whitespace().collect();
            // (Also with the values of fixed settings after it.)
            if l.starts_with(&format!(" {point} ")) || l.starts_with(&format!(" {point}, ")) {
                here = true;
            } else if !l.starts_with("  ") {
                here = false;
            }
            here && cells.contains(&metric)
        })
        .unwrap_or_else(|| panic!("no row {point} {metric} in\n{text}"))
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .skip_while(|c| *c != metric)
        .skip(1)
        .map(String::from)
        .collect()
}

/// `diff` of two studies pairs their runs by seed whenever both ran the
/// same ones, one replication included, and matches their points by
/// value, not by how the value is written; a setting both hold fixed at
/// different values is what they are compared on.
#[test]
fn diff_pairs_runs_by_seed_and_points_by_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let study = |sets: &[&str], replications: u32, out: &str| {
        sweep(&file, sets, replications, 2, None, &dir.path().join(out));
    };
    // One replication each: the one pair, without an interval, and a
    // word on what one seed can tell.
    study(&[POLL], 1, "one");
    study(&[POLL], 2, "two");
    let text = diff_text(dir.path(), "one", "one");
    assert!(
        text.contains("paired by replication 0 (both ran its seed): one pair, so no interval\n")
            && !text.contains("Welch"),
        "{text}"
    );
    assert!(text.contains("2 points × 1 replication\n"), "{text}");
    assert_eq!(
        diff_row(&text, "30m", "hours_to_50_true")[2],
        "+0.00",
        "{text}"
    );
    assert!(
        text.contains("so a difference of one seed may be noise"),
        "{text}"
    );
    let text = diff_text(dir.path(), "one", "two");
    assert!(
        text.contains("paired by replication 0 (both ran its seed): one pair, so no interval; B's other 1 replication is left out"),
        "{text}"
    );
    // 60m and 1h are one value, as sweep itself has it.
    study(
        &[
            "client_settings.policy_polling_interval=60m,120m",
            "duration=5d",
        ],
        2,
        "minutes",
    );
    study(
        &[
            "client_settings.policy_polling_interval=1h,2h",
            "duration=5d",
        ],
        2,
        "hours",
    );
    let text = diff_text(dir.path(), "minutes", "hours");
    assert!(
        text.contains(
            "points matched by value, spelled differently: 60m (A) is 1h (B); 120m (A) is 2h (B)"
        ) && !text.contains("points only"),
        "{text}"
    );
    assert_eq!(
        diff_row(&text, "120m", "hours_to_50_true")[2],
        "+0.00 ± 0.00",
        "{text}"
    );
    // A study that does not sweep a path has its scenario's value there
    // (60m); with no point in common, points pair by position.
    study(&[], 2, "plain");
    let text = diff_text(dir.path(), "plain", "minutes");
    for wanted in [
        "A does not sweep client_settings.policy_polling_interval: its points have its \
         scenario's value, 1h\n",
        "points only B has: 120m\n",
        "\n duration  4d  5d\n",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
    // The 60m point of B pairs with A's one point.
    assert!(
        diff_row(&text, "60m", "hours_to_50_true").len() >= 3,
        "{text}"
    );
    let text = diff_text(dir.path(), "plain", "two");
    assert!(
        text.contains("and share no point: points are paired by position"),
        "{text}"
    );
    // Two studies that differ only in a setting each holds fixed: their
    // one points pair, and the setting is named.
    study(&["duration=3d 12h"], 2, "short");
    study(&["duration=3d 13h"], 2, "longer");
    let text = diff_text(dir.path(), "short", "longer");
    assert!(!text.contains("points only"), "{text}");
    let setting = (text.lines())
        .find(|l| l.starts_with(" duration "))
        .unwrap_or_else(|| panic!("the duration among the settings:\n{text}"));
    assert_eq!(
        setting.split_whitespace().collect::<Vec<_>>(),
        ["duration", "3d", "12h", "3d", "13h"]
    );
    assert_eq!(
        diff_row(&text, "(the one point)", "hours_to_95_reported").len(),
        3,
        "{text}"
    );
}

/// Sets `values` of the run of `point` and `replication` in a study
/// read back (by column name).
fn set_values(
    s: &mut study::Study,
    point: usize,
    replication: u32,
    values: &[(&str, Option<f64>)],
) {
    let columns = s.columns();
    let run = (s.runs.iter_mut())
        .find(|r| r.point == point && r.replication == replication)
        .expect("a run");
    for (name, value) in values {
        let c = columns.iter().position(|c| c.name == *name).expect(name);
        run.values[c] = *value;
    }
}

/// `diff`'s A, B and B − A agree with each other: with more replications
/// on one side, A and B are over those that pair; a milestone reached in
/// more runs on one side is flagged, and so is one reached only there.
#[test]
fn diff_shows_a_and_b_over_the_runs_it_compares() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let sets = [POLL, "duration=5d"];
    sweep(&file, &sets, 6, 2, None, &dir.path().join("a"));
    let mut a = study::read(&dir.path().join("a")).expect("reads");
    let mut b = a.clone();
    let of = |s: &study::Study, name: &str, point: usize, r: u32| {
        let c = (s.columns().iter())
            .position(|c| c.name == name)
            .expect(name);
        (s.runs.iter())
            .find(|run| run.point == point && run.replication == r)
            .and_then(|run| run.values[c])
    };
    for r in 0..6 {
        assert!(
            of(&a, "hours_to_95_true", 0, r).is_some(),
            "every run of five days reaches 95 %: the test needs it"
        );
    }
    let unreached = [
        ("hours_to_50_true", None),
        ("hours_to_80_true", None),
        ("hours_to_95_true", None),
        ("hours_to_99_true", None),
        ("compliant_pct_true", Some(40.0)),
    ];
    for point in 0..2 {
        for r in 0..6 {
            // A: the sixth run never reaches 50 %; none reaches 95 %.
            let no_95 = [
                ("hours_to_95_true", None),
                ("hours_to_99_true", None),
                ("compliant_pct_true", Some(94.0)),
            ];
            set_values(&mut a, point, r, if r == 5 { &unreached } else { &no_95 });
            // B: an hour sooner to 50 %; 95 % in two runs only.
            let h50 = of(&b, "hours_to_50_true", point, r).expect("reached") - 1.0;
            set_values(&mut b, point, r, &[("hours_to_50_true", Some(h50))]);
            if r >= 2 {
                set_values(&mut b, point, r, &no_95);
            }
        }
    }
    write_study(&dir.path().join("a"), &a);
    write_study(&dir.path().join("b"), &b);
    let text = diff_text(dir.path(), "a", "b");
    let row = diff_row(&text, "30m", "hours_to_50_true");
    let mean = |s: &study::Study, shift: f64| {
        (0..5)
            .map(|r| of(s, "hours_to_50_true", 0, r).unwrap())
            .sum::<f64>()
            / 5.0
            + shift
    };
    // Over the five runs both reached it, and B reached it in one more.
    assert!(
        row[0].starts_with(&format!("{:.2} ± ", mean(&a, 0.0))),
        "{row:?}"
    );
    assert!(
        row[1].starts_with(&format!("{:.2} ± ", mean(&a, -1.0))),
        "{row:?}"
    );
    assert_eq!(
        row[2..],
        ["-1.00 ± 0.00 * (5 pairs)", "5 vs 6 of 6"],
        "{text}"
    );
    // Reached only by B: its own mean, and the flag.
    let row = diff_row(&text, "30m", "hours_to_95_true");
    assert_eq!(row[0], "—", "{row:?}");
    assert!(row[1].ends_with("(n=2)"), "{row:?}");
    assert_eq!(row[2..], ["—", "0 vs 2 of 6"], "{text}");
    assert!(
        text.contains("runs reached: how many of the runs compared reached the milestone"),
        "{text}"
    );

    // More replications on one side: its others are left out of A and B
    // too, however they differ.
    sweep(&file, &sets, 3, 2, None, &dir.path().join("three"));
    sweep(&file, &sets, 4, 2, None, &dir.path().join("four"));
    let mut four = study::read(&dir.path().join("four")).expect("reads");
    let h50 = of(&four, "hours_to_50_true", 0, 3).expect("reached");
    set_values(&mut four, 0, 3, &[("hours_to_50_true", Some(h50 - 30.0))]);
    write_study(&dir.path().join("four"), &four);
    let text = diff_text(dir.path(), "three", "four");
    assert!(
        text.contains("B's other 1 replication is left out"),
        "{text}"
    );
    let row = diff_row(&text, "30m", "hours_to_50_true");
    assert_eq!(row[0], row[1], "the same three runs: {text}");
    assert_eq!(row[2], "+0.00 ± 0.00", "{text}");
}

/// A deployment created or due long after the run's end (two years on)
/// is a run's own summary all the same: `diff` compares it.
#[test]
fn diff_takes_deployments_due_after_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 5);
    for (out, seed) in [("a", "5"), ("b", "6")] {
        let o = patchsim(
            &[
                "run",
                file.to_str().unwrap(),
                "--seed",
                seed,
                "--set",
                "deployments[0].deadline=\"2028-11-12T20:00:00+01:00\"",
                "-o",
                out,
                "-q",
            ],
            dir.path(),
        );
        assert_ok(&o);
    }
    let o = patchsim(&["diff", "a", "b"], dir.path());
    assert_ok(&o);
}

/// `diff` compares only summaries a run wrote: one that lacks their
/// fields (`{"tool": "patchsim"}` alone) or has a value no run gives (a
/// negative count, a share above 100, a milestone below 0 or not a
/// number, a deployment twice) is refused, naming the file and the field;
/// names read from the files are printed with their control and
/// invisible characters escaped.
#[test]
fn diff_refuses_forged_summaries_and_escapes_names() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 5);
    let o = patchsim(
        &["run", file.to_str().unwrap(), "-o", "r", "-q"],
        dir.path(),
    );
    assert_ok(&o);
    let read = || -> serde_json::Value {
        let text = std::fs::read_to_string(dir.path().join("r/summary.json")).expect("summary");
        serde_json::from_str(&text).expect("json")
    };
    let forge = |name: &str, v: &serde_json::Value| {
        let d = dir.path().join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        std::fs::write(d.join("summary.json"), v.to_string()).expect("write");
    };
    forge("bare", &serde_json::json!({"tool": "patchsim"}));
    let mut negative = read();
    negative["totals"]["installs"] = (-3).into();
    forge("negative", &negative);
    let mut server = read();
    server["servers"][0]["served"] = (-1).into();
    forge("server", &server);
    let edited = |name: &str, edit: &dyn Fn(&mut serde_json::Value)| {
        let mut v = read();
        edit(&mut v);
        forge(name, &v);
    };
    fn first(v: &mut serde_json::Value) -> &mut serde_json::Value {
        &mut v["deployments"][0]
    }
    edited("share", &|v| first(v)["compliant_pct_true"] = 150.0.into());
    edited("early", &|v| {
        first(v)["hours_to_pct_true"]["pct_50"] = (-5).into()
    });
    edited("text", &|v| {
        first(v)["hours_to_pct_true"]["pct_50"] = "abc".into()
    });
    edited("created", &|v| first(v)["created_h"] = "9".into());
    edited("cause", &|v| {
        v["totals"]["scans_by_cause"]["schedule"] = "7".into()
    });
    edited("clients", &|v| v["clients"] = (-1).into());
    edited("events", &|v| v["events"] = (-1).into());
    edited("twice", &|v| {
        let d = v["deployments"][0].clone();
        v["deployments"].as_array_mut().unwrap().push(d);
    });
    let edited_note = "; it was not written by `patchsim run`, or was edited";
    for (other, wanted) in [
        ("bare", "bare/summary.json: it has no `version` text"),
        ("negative", "`totals.installs` is -3, not a count"),
        (
            "cause",
            "`totals.scans_by_cause.schedule` is \"7\", not a count",
        ),
        ("server", "`servers[0].served` is -1, not a count"),
        (
            "share",
            "share/summary.json: `deployments[0].compliant_pct_true` is 150.0, not a share in 0 \
             to 100 (no run gives it)",
        ),
        (
            "early",
            "`deployments[0].hours_to_pct_true.pct_50` is -5, not in 0 to 8784 hours",
        ),
        (
            "text",
            "`deployments[0].hours_to_pct_true.pct_50` is \"abc\", not a number of hours",
        ),
        (
            "created",
            "`deployments[0].created_h` is \"9\", not a number of hours",
        ),
        (
            "clients",
            "clients/summary.json: `clients` is -1, not a count",
        ),
        ("events", "`events` is -1, not a count"),
        (
            "twice",
            "`deployments[1]` is named 'cu' like `deployments[0]`; a run names each once",
        ),
    ] {
        let o = patchsim(&["diff", "r", other], dir.path());
        assert_eq!(o.status.code(), Some(2), "{other}: {}", stderr(&o));
        assert!(stderr(&o).contains(wanted), "{other}: {}", stderr(&o));
        assert!(stderr(&o).contains(edited_note), "{other}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    let mut named = read();
    named["deployments"][0]["name"] = "cu\u{1b}[31m\u{202e}".into();
    named["scenario"] = "te\nst".into();
    forge("named", &named);
    let o = patchsim(&["diff", "r", "named"], dir.path());
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(r"cu\u{1b}[31m\u{202e} (B only)"), "{text}");
    assert!(text.contains(r"named: te\u{a}st seed"), "{text}");
    assert!(!text.contains(['\u{1b}', '\u{202e}']), "{text}");
}

/// `patchsim size` binary-searches a knob for the cheapest value that
/// meets a goal, evaluates fewer configurations than the grid has, gives
/// the same bytes for any number of workers, and refuses a bad goal.
#[test]
fn size_finds_the_cheapest_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Eight days, so that the desktops that install the morning after the
    // deadline are in the run.
    let file = dir.path().join("s.ron");
    let text = common::ron(&Knobs {
        always_on: 100,
        desktops: 100,
        days: 8,
        ..Default::default()
    });
    std::fs::write(&file, text).expect("write scenario");
    let f = file.to_str().unwrap();
    let size = |jobs: &str, out: &str| {
        let o = patchsim(
            &[
                "size",
                f,
                "--goal",
                "p95 download wait <= 1m",
                "--goal",
                "50% true within 4d of creation",
                "--knob",
                "servers.distribution_points[dp].max_connections=1,2,4,8,16,32,64,128",
                "-r",
                "2",
                "-j",
                jobs,
                "-o",
                out,
            ],
            dir.path(),
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = size("1", "a");
    assert!(
        text.contains("cheapest: servers.distribution_points[dp].max_connections="),
        "{text}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("a/size.json")).unwrap())
            .unwrap();
    let evaluated = json["evaluations"].as_array().unwrap();
    assert!(
        evaluated.len() <= 4,
        "a binary search over 8 values: {text}"
    );
    let cheapest = &evaluated[json["cheapest"].as_u64().unwrap() as usize];
    assert_eq!(cheapest["pass"], true);
    let level = cheapest["levels"][0].as_u64().unwrap();
    if level > 0 {
        // The value below it was run and missed, or was settled by one that did.
        assert!(evaluated.iter().any(|e| e["pass"] == false
            && e["levels"][0].as_u64().unwrap() >= level - 1
            && e["levels"][0].as_u64().unwrap() < level));
    }
    size("2", "b");
    for name in ["size.json", "size.csv", "size.html", "scenario.ron"] {
        assert_eq!(
            std::fs::read(dir.path().join("a").join(name)).unwrap(),
            std::fs::read(dir.path().join("b").join(name)).unwrap(),
            "{name}: the same bytes for any --jobs"
        );
    }
    let html = std::fs::read_to_string(dir.path().join("a/size.html")).unwrap();
    assert!(html.contains("Cheapest configuration that meets it"));
    // The table gives each configuration's worst value of each goal.
    assert!(text.contains("worst: p95 download wait <= 1m"), "{text}");

    // A goal before the deadline (58 h after creation): no DP count
    // meets it, and the output says what the dearest reached and why,
    // instead of asking for dearer values alone.
    let o = patchsim(
        &[
            "size",
            f,
            "--goal",
            "95% true within 1d of creation",
            "--knob",
            "servers.distribution_points[dp].max_connections=4,64",
            "-r",
            "1",
            "-o",
            "early",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("no configuration meets the goal"), "{text}");
    assert!(
        text.contains(
            "the dearest, servers.distribution_points[dp].max_connections=64, reached '95% \
             true within 1d 00h of creation' in 3d 00h 26m 05s at worst; the clients of a Required \
             deployment install at its deadline, and 'cu' has its deadline 2d 10h after its \
             creation"
        ),
        "{text}"
    );

    // polling-study's deadline is its creation: the deadline bounds
    // nothing there, and the output does not say it does.
    let polling = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/polling-study.ron");
    let o = patchsim(
        &[
            "size",
            polling,
            "--goal",
            "95% reported within 1h of creation",
            "--knob",
            "servers.distribution_points.count=1,2",
            "-r",
            "1",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("no configuration meets the goal"), "{text}");
    assert!(!text.contains("deadline"), "{text}");
    assert!(
        text.contains(
            "searched 1 of 2 configurations (1 run, 1 replication each; the rest follow from \
             monotonicity)"
        ),
        "{text}"
    );
    // Every configuration run: no rest to follow.
    let o = patchsim(
        &[
            "size",
            f,
            "--goal",
            "no rejects",
            "--knob",
            "servers.distribution_points[dp].max_connections=64",
            "-r",
            "2",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("searched 1 of 1 configuration (2 runs, 2 replications each)\n"),
        "{text}"
    );
    // --pass-share is above 0 and at most 1, as docs/cli.md says.
    for share in ["0", "1.5"] {
        let o = patchsim(
            &[
                "size",
                f,
                "--goal",
                "no rejects",
                "--knob",
                "servers.distribution_points[dp].max_connections=64",
                "--pass-share",
                share,
            ],
            dir.path(),
        );
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(
            stderr(&o).contains("--pass-share must be above 0 and at most 1"),
            "{}",
            stderr(&o)
        );
    }
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/cli.md"))
        .expect("docs/cli.md");
    let row = (docs.lines())
        .find(|l| l.starts_with("| `--pass-share S` |"))
        .expect("the --pass-share row");
    assert!(row.contains("above 0 and at most 1"), "{row}");

    let o = patchsim(
        &[
            "size",
            f,
            "--goal",
            "90% true within 1d of creation",
            "--knob",
            "servers.distribution_points[dp].max_connections=1,2",
        ],
        dir.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("50%, 80%, 95%, 99%"));
}

/// A goal no configuration meets, over a grid of two knobs of 40 values:
/// once the first row passes nowhere, the dearest configuration is run,
/// fails, and by monotonicity so does every other, so the search runs
/// that row's binary search and the dearest alone (a search of every row
/// ran 200 of them) and says what the dearest reached.
#[test]
fn size_stops_at_a_failing_dearest_configuration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.ron");
    let text = common::ron(&Knobs {
        always_on: 20,
        desktops: 20,
        days: 3,
        ..Default::default()
    });
    std::fs::write(&file, text).expect("write scenario");
    let values = |from: u32| {
        (from..from + 40)
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    let o = patchsim(
        &[
            "size",
            file.to_str().unwrap(),
            "--goal",
            "95% true within 1d of creation",
            "--knob",
            &format!(
                "servers.distribution_points[dp].max_connections={}",
                values(1)
            ),
            "--knob",
            &format!("servers.management_points[mp].workers={}", values(1)),
            "-r",
            "1",
            "-j",
            "1",
            "-o",
            "out",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("no configuration meets the goal"), "{text}");
    assert!(
        text.contains(
            "searched 6 of 1600 configurations (6 runs, 1 replication each; the rest follow \
             from monotonicity)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "the dearest, servers.distribution_points[dp].max_connections=40, \
             servers.management_points[mp].workers=40, reached"
        ),
        "{text}"
    );
    let csv = std::fs::read_to_string(dir.path().join("out/size.csv")).expect("size.csv");
    let rows: Vec<&str> = (csv.lines())
        .filter(|l| !l.starts_with('#'))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 6, "a row's search and the dearest:\n{csv}");
    assert!(rows[5].starts_with("5,40,40,78,1,0,false,"), "{csv}");
}

/// No metric is below zero, so neither is an interval: one that the
/// t quantile of two runs would stretch below zero is cut there in
/// points.csv, the printed table, the report and the chart, whose y axis
/// starts at zero.
#[test]
fn intervals_of_metrics_are_cut_at_zero() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let plan = study::plan(&file, params(&[POLL]), 2).unwrap_or_else(|e| panic!("{e}"));
    let column = (plan.columns.iter())
        .position(|c| c.name == "hours_to_50_true")
        .expect("a column");
    // Two runs 35.82 hours apart: mean 76.59, half-width 227.57.
    let width = plan.columns.len();
    let runs = (0..2)
        .flat_map(|point| {
            [58.68, 94.5].into_iter().enumerate().map(move |(r, h)| {
                let mut values = vec![None; width];
                values[column] = Some(h);
                study::RunRow {
                    point,
                    replication: r as u32,
                    seed: study::replication_seed(7, r as u32),
                    values,
                }
            })
        })
        .collect();
    let result = study::Study::new(&plan, None, runs);
    let out = dir.path().join("study");
    write_study(&out, &result);
    let points = std::fs::read_to_string(out.join("points.csv")).expect("points.csv");
    let row = (points.lines())
        .find(|l| l.contains(",hours_to_50_true,"))
        .expect("a row");
    assert!(
        row.ends_with(",2,76.5900,25.3286,0.0000,304.1581,227.5681"),
        "{row}"
    );
    let table = study::table_text(&result, &[]);
    assert!(table.contains("76.59 (0–304.16)"), "{table}");
    assert!(!table.contains("± 227.57"), "{table}");
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("76.59 (0–304.16)"), "{report}");
    let svg = std::fs::read_to_string(out.join("chart-hours_to_50_true.svg")).expect("chart");
    let negative: Vec<&str> = (svg.lines())
        .filter(|l| l.starts_with('-') && l[1..].starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(negative.is_empty(), "y axis below zero: {negative:?}");
    assert!(svg.contains("cut at 0"), "the legend says so");
}

/// A chart marks a point where no run reached its milestone, instead of
/// leaving it out as if it had not been run; the printed table says "1
/// replication", not "1 replications".
#[test]
fn charts_mark_the_points_no_run_reached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let plan = study::plan(&file, params(&[POLL]), 1).unwrap_or_else(|e| panic!("{e}"));
    let column = (plan.columns.iter())
        .position(|c| c.name == "hours_to_50_true")
        .expect("a column");
    let width = plan.columns.len();
    // Reached at the first point (30m), not at the second (120m).
    let runs = (0..2)
        .map(|point| {
            let mut values = vec![None; width];
            values[column] = (point == 0).then_some(60.0);
            study::RunRow {
                point,
                replication: 0,
                seed: study::replication_seed(7, 0),
                values,
            }
        })
        .collect();
    let result = study::Study::new(&plan, None, runs);
    let out = dir.path().join("study");
    write_study(&out, &result);
    let svg = std::fs::read_to_string(out.join("chart-hours_to_50_true.svg")).expect("chart");
    // (The legend wraps its lines.)
    assert!(
        svg.contains("× on the axis: no run\n") && svg.contains("reached it at that point\n"),
        "{svg}"
    );
    // The cross: two diagonal strokes of the series' colour (error bars
    // and grid lines are level or upright).
    let attr = |l: &str, name: &str| -> i64 {
        let at = l.find(&format!(" {name}=\"")).expect(name) + name.len() + 3;
        l[at..]
            .split('"')
            .next()
            .unwrap()
            .parse()
            .expect("a number")
    };
    let diagonal = (svg.lines())
        .filter(|l| l.starts_with("<line") && l.contains(r##"stroke="#1F77B4""##))
        .filter(|l| attr(l, "x1") != attr(l, "x2") && attr(l, "y1") != attr(l, "y2"))
        .count();
    assert_eq!(diagonal, 2, "{svg}");
    assert!(svg.contains("over 1 replication ·"), "{svg}");
    let table = study::table_text(&result, &[]);
    assert!(
        table.contains("2 points × 1 replication = 2 runs (common"),
        "{table}"
    );
}

/// SIGINT and SIGTERM stop `patchsim size` while it searches, as they
/// stop a sweep: exit code 128 + n, nothing written, and a message that
/// says the search was stopped (not the writing).
#[test]
fn size_stops_at_a_signal_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/polling-study.ron");
    // About a hundred runs of 1,500 clients: far longer than a signal
    // takes to arrive.
    let args = [
        "size",
        scenario,
        "--goal",
        "no rejects",
        "--knob",
        "cohorts[desktops].count=100,200,300,400,500,600,700,800,900,1000,1100",
        "-r",
        "30",
        "-q",
        "-o",
        "sizing",
    ];
    for (signal, code) in [("TERM", 143), ("INT", 130)] {
        let Some(o) = common::signal_a_command(dir.path(), &args, "sizing", signal) else {
            continue;
        };
        assert_eq!(o.status.code(), Some(code), "SIG{signal}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(&format!(
                "error: interrupted by SIG{signal} while searching, after "
            )) && err.contains("; nothing was written (no partial outputs)"),
            "{err}"
        );
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "nothing written: {left:?}");
    }
}

/// A sweep over the number of DPs measures every DP of every point, by
/// name: the added DPs have columns of their own (empty where a point
/// lacks them), and no server's column reads another's numbers.
#[test]
fn a_sweep_over_server_counts_measures_each_server_by_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let out = dir.path().join("study");
    sweep(
        &file,
        &["servers.distribution_points.count=1,3"],
        1,
        1,
        None,
        &out,
    );
    let text = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let cell = |row: usize, column: &str| {
        let i = (header.iter().position(|h| *h == column))
            .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
        rows[row][i]
    };
    let served: Vec<&str> = (header.iter().copied())
        .filter(|h| h.starts_with("bytes_served["))
        .collect();
    assert_eq!(
        served,
        [
            "bytes_served[mp]",
            "bytes_served[sup]",
            "bytes_served[dp]",
            "bytes_served[dp-2]",
            "bytes_served[dp-3]",
            "bytes_served[PS1 state system]"
        ],
        "every server of every point, by role"
    );
    // One DP: the added ones' cells are empty; three: all three served.
    assert_eq!(cell(0, "bytes_served[dp-2]"), "");
    for dp in ["dp", "dp-2", "dp-3"] {
        let bytes: u64 = (cell(1, &format!("bytes_served[{dp}]")).parse()).expect("a count");
        assert!(bytes > 0, "{dp} served nothing");
    }
    assert_eq!(cell(1, "bytes_served[PS1 state system]"), "0");
}

/// A sweep of a server count shows the busiest server of the role at
/// each point, in the printed table and the report: per run the most over
/// the servers that point has, then the mean over its runs.
#[test]
fn a_server_count_sweep_shows_the_busiest_server_of_the_role() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 7);
    let out = dir.path().join("study");
    let sets = [
        "servers.distribution_points.count=1,3",
        "servers.distribution_points[0].bandwidth=20Mbps",
    ];
    sweep(&file, &sets, 2, 1, None, &out);
    let study = study::read(&out).expect("the study reads back");
    let loads = study::role_loads(&study);
    let roles: Vec<&str> = loads.iter().map(|l| l.label).collect();
    assert_eq!(roles, ["MP", "SUP", "DP", "state system"]);
    let dp = &loads[2];
    // By hand from runs.csv: the most over the DPs each point has.
    let text = std::fs::read_to_string(out.join("runs.csv")).expect("runs.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let mut busiest = [Vec::new(), Vec::new()];
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let point: usize = cells[col("point")].parse().expect("point");
        let dps: &[&str] = if point == 0 {
            &["dp"]
        } else {
            &["dp", "dp-2", "dp-3"]
        };
        let most = (dps.iter())
            .map(|d| {
                cells[col(&format!("hours_busy[{d}]"))]
                    .parse::<f64>()
                    .expect("hours")
            })
            .fold(0.0, f64::max);
        busiest[point].push(most);
    }
    for (p, runs) in busiest.iter().enumerate() {
        let mean = runs.iter().sum::<f64>() / runs.len() as f64;
        assert_eq!(dp.hours_busy[p].n, 2);
        assert!(
            (dp.hours_busy[p].mean.expect("a mean") - mean).abs() < 1e-9,
            "point {p}"
        );
    }
    // Three DPs share what one carried alone.
    assert!(busiest[0][0] > 2.0 * busiest[1][0], "{busiest:?}");

    let printed = study::table_text(&study, &[]);
    assert!(
        printed.contains("DP h busy") && printed.contains("DP p95 wait min"),
        "{printed}"
    );
    assert!(
        !printed.contains("MP h busy"),
        "only the swept role: {printed}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains(r#"<h2 id="servers">Busiest servers</h2>"#));
    assert!(report.contains("<th>DP: hours busy</th>"));
    // A sweep of no server field prints no server columns.
    let other = dir.path().join("other");
    sweep(&file, &[POLL], 1, 1, None, &other);
    let printed = study::table_text(&study::read(&other).expect("reads"), &[]);
    assert!(!printed.contains("h busy"), "{printed}");
}

/// A point without a deployment (the grid empties the scenario's list, or
/// a rule makes none in the run's time) has runs but no curves: the study
/// `sweep` writes reads back for `diff` and `merge`, whole and in shards,
/// while a curve taken out of a point with a deployment, or added to one
/// without, is still refused.
#[test]
fn a_point_without_a_deployment_reads_back() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = scenario(dir.path(), "s.ron", 5);
    let f = file.to_str().unwrap();
    let one = r#"deployments=[],[Deployment(name: "cu", updates: ["KB1"], targets: ["always-on"], created: "2026-11-10T10:00:00+01:00", deadline: "2026-11-12T20:00:00+01:00")]"#;
    let ok = |args: &[&str]| {
        let o = patchsim(args, dir.path());
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
    };
    ok(&[
        "sweep",
        f,
        "-r",
        "2",
        "--set",
        "deployments=[]",
        "-q",
        "-o",
        "none",
    ]);
    ok(&["diff", "none", "none"]);
    ok(&["sweep", f, "-r", "2", "--set", one, "-q", "-o", "whole"]);
    ok(&["diff", "whole", "whole"]);
    for (i, out) in [(1, "s1"), (2, "s2")] {
        let shard = format!("{i}/2");
        ok(&[
            "sweep", f, "-r", "2", "--set", one, "--shard", &shard, "-q", "-o", out,
        ]);
    }
    ok(&["merge", "s2", "s1", "-q", "-o", "merged"]);
    assert_same_study(&dir.path().join("whole"), &dir.path().join("merged"));
    // A rule that makes no deployment in the run's hour.
    let adr = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/adr.ron");
    let adr = adr.to_str().unwrap();
    ok(&[
        "sweep",
        adr,
        "-r",
        "1",
        "--set",
        "duration=1h",
        "-q",
        "-o",
        "adr",
    ]);
    ok(&["diff", "adr", "adr"]);

    // Point 1's curves taken out; point 0's made up from point 1's.
    let curves = std::fs::read_to_string(dir.path().join("s1/curves.csv")).unwrap();
    let mut lines = curves.lines();
    let header = lines.next().unwrap().to_string();
    let rows: Vec<&str> = lines.collect();
    assert!(rows.iter().all(|r| r.starts_with("1,")), "{curves}");
    let moved: String = rows.iter().map(|r| format!("0{}\n", &r[1..])).collect();
    for (text, expect) in [
        (
            format!("{header}\n"),
            "s1/curves.csv: point 1 has runs but no curves; each of its 1 deployment has one per view",
        ),
        (
            format!("{header}\n{moved}{}\n", rows.join("\n")),
            "s1/curves.csv: point 0 has curves of 1 deployment, but its scenario lays out 0",
        ),
    ] {
        std::fs::write(dir.path().join("s1/curves.csv"), &text).unwrap();
        let o = patchsim(&["merge", "s1", "s2", "-q", "-o", "m"], dir.path());
        assert_eq!(o.status.code(), Some(2), "{expect}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{expect}: {}", stderr(&o));
    }
}

/// `runs.csv` holds a run's compliant share exactly, the quotient of its
/// compliant and targeted clients, not rounded to three decimals.
#[test]
fn runs_csv_holds_exact_compliant_shares() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("s.ron");
    let text = common::ron(&Knobs {
        always_on: 100,
        desktops: 200,
        days: 4,
        failure: 0.3,
        ..Default::default()
    });
    std::fs::write(&file, text).expect("write scenario");
    sweep(&file, &[], 4, 2, None, &dir.path().join("out"));
    let read = study::read(&dir.path().join("out")).expect("reads");
    let columns = &read.manifest.metrics;
    let mut thirds = 0;
    for view in ["true", "reported"] {
        let c = (columns.iter())
            .position(|m| m.column == format!("compliant_pct_{view}"))
            .expect("the column");
        for run in &read.runs {
            let share = run.values[c].expect("a share");
            let clients = (share * 3.0).round();
            assert_eq!(share, clients * 100.0 / 300.0, "{view}: {share}");
            thirds += usize::from(clients % 3.0 != 0.0);
        }
    }
    assert!(thirds > 0, "a share that three decimals cannot hold");
}

/// A study's per-server columns name the servers `summary.json` lists, in
/// its order and with its roles: management points, update points,
/// distribution points, then each primary's state system (the WAN links
/// and gateways after them have no server columns).
#[test]
fn a_study_lists_the_servers_as_the_summary_does() {
    use patchsim::model::ServerRole;
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    for file in ["hierarchy.ron", "branch-offices.ron", "internet.ron"] {
        let text = std::fs::read_to_string(root.join(file)).expect("read scenario");
        let estate = common::estate_of(&text);
        let summary = patchsim::output::summary(&estate, &common::simulate(&estate));
        let listed: Vec<(String, ServerRole)> = (summary.servers.iter())
            .filter(|s| {
                !matches!(
                    s.role,
                    ServerRole::WanLink | ServerRole::CloudManagementGateway
                )
            })
            .map(|s| (s.name.clone(), s.role))
            .collect();
        assert_eq!(study::servers(&estate), listed, "{file}");
        assert!(
            listed
                .iter()
                .any(|(n, r)| *r == ServerRole::StateSystem && n.ends_with(" state system")),
            "{file}"
        );
    }
}
