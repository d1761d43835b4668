//! Studies of locations and WAN links: the per-link and per-location
//! columns of a sweep, the swept location in the printed table, the same
//! bytes for any number of workers and shards, and `size` goals on a
//! location or a link.

use crate::common::patchsim;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::study::sweep;
use patchsim::study::{self, Shard};

/// 220 always-on clients over four days: 100 at the site, 60 in york
/// behind a 10 Mbps link with a DP of their own, 60 in hull downloading
/// across an 8 Mbps link from the site's DP; a 200 MB update whose
/// deadline comes two hours after the deployment, so that every client
/// downloads at once.
fn branches(dir: &Path, deployments: &str) -> PathBuf {
    let path = dir.join("branches.ron");
    let text = crate::common::Scenario::new("branches")
        .seed(5)
        .start("2026-11-09T00:00:00+01:00")
        .duration("4d")
        .sample_interval("1h")
        .sync(r#"manual: ["2026-11-10T09:00:00+01:00"]"#)
        .dps(
            r#"
            DistributionPoint(name: "dp"),
            DistributionPoint(name: "dp-york", location: "york"),
        "#,
        )
        .body(&format!(
            r#"locations: [
        Location(name: "york", wan_link: WanLink(bandwidth: "10Mbps", latency: "20ms")),
        Location(name: "hull", wan_link: WanLink(bandwidth: "8Mbps", latency: "30ms")),
    ],
    cohorts: [
        Cohort(name: "office", count: 100, management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "york", count: 60, location: "york", management_point: "mp", update_point: "sup", distribution_point: "dp-york"),
        Cohort(name: "hull", count: 60, location: "hull", management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [
        Update(id: "KB1", size: "200MB", applicability: 0.9, release: "2026-11-10T08:00:00+01:00"),
    ],
    deployments: [{deployments}],"#
        ))
        .text();
    std::fs::write(&path, text).expect("write scenario");
    path
}

const ONE: &str = r#"
        Deployment(name: "cu", updates: ["KB1"], targets: ["office", "york", "hull"],
                   created: "2026-11-10T10:00:00+01:00", deadline: "2026-11-10T12:00:00+01:00"),"#;

const HULL: &str = "locations[hull].wan_link.bandwidth=2Mbps,32Mbps";

/// `runs.csv` as rows of named cells.
fn runs(dir: &Path) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
    let text = std::fs::read_to_string(dir.join("runs.csv")).expect("runs.csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let rows = (reader.records())
        .map(|r| {
            let r = r.expect("row");
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

fn number(row: &BTreeMap<String, String>, column: &str) -> f64 {
    let cell = row
        .get(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    cell.parse()
        .unwrap_or_else(|_| panic!("{column}: '{cell}' is not a number"))
}

/// The mean of a column over a point's runs.
fn mean(rows: &[BTreeMap<String, String>], point: &str, column: &str) -> f64 {
    let at: Vec<f64> = (rows.iter())
        .filter(|r| r["point"] == point)
        .map(|r| number(r, column))
        .collect();
    at.iter().sum::<f64>() / at.len() as f64
}

/// A sweep over a branch link's bandwidth measures every link and every
/// location by name, and a slower link is busier and holds its location
/// back.
#[test]
fn a_link_bandwidth_sweep_measures_links_and_locations() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = branches(dir.path(), ONE);
    let out = dir.path().join("study");
    sweep(&file, &[HULL], 2, 2, None, &out);
    let (header, rows) = runs(&out);
    for column in [
        "link_peak_utilization_pct[york]",
        "link_peak_utilization_pct[hull]",
        "link_hours_busy[hull]",
        "link_bytes_carried[hull]",
        "location_hours_to_95_true[(site)]",
        "location_hours_to_95_true[york]",
        "location_hours_to_99_reported[hull]",
        "location_hours_to_content_on_dps[york]",
        "slowest_location_hours_to_95_true",
        "slowest_location_hours_to_50_reported",
    ] {
        assert!(
            header.iter().any(|h| h == column),
            "no {column} in {header:?}"
        );
    }
    // The site has no link, and its DPs need no content across one.
    assert!(!header.iter().any(|h| h == "link_hours_busy[(site)]"));
    assert!(
        !header
            .iter()
            .any(|h| h == "location_hours_to_content_on_dps[(site)]")
    );
    // Point 0 is 2 Mbps, point 1 32 Mbps: the same downloads take 16
    // times as long on the slow link.
    let busy = |p| mean(&rows, p, "link_hours_busy[hull]");
    assert!(
        busy("0") > 8.0 * busy("1"),
        "{} vs {}",
        busy("0"),
        busy("1")
    );
    let hull = |p| mean(&rows, p, "location_hours_to_95_true[hull]");
    assert!(
        hull("0") > hull("1") + 5.0,
        "{} vs {}",
        hull("0"),
        hull("1")
    );
    for r in &rows {
        assert!(number(r, "link_bytes_carried[hull]") > 0.0);
        assert!(number(r, "link_peak_utilization_pct[hull]") <= 100.0);
        // Hull has no DP of its own: nothing to copy there.
        assert_eq!(r["location_hours_to_content_on_dps[hull]"], "");
        assert!(number(r, "location_hours_to_content_on_dps[york]") > 0.0);
        // The slowest location is the slowest of them, site included.
        let slowest = number(r, "slowest_location_hours_to_95_true");
        let each: Vec<f64> = ["(site)", "york", "hull"]
            .map(|l| number(r, &format!("location_hours_to_95_true[{l}]")))
            .to_vec();
        assert_eq!(slowest, each.iter().copied().fold(0.0, f64::max), "{r:?}");
    }
    // York's link does not change with hull's.
    let york = |p| mean(&rows, p, "link_bytes_carried[york]");
    assert_eq!(york("0"), york("1"));

    // Read back as merge reads it, and printed: the swept location's link
    // and its hours to 95 %, and the slowest location's.
    let study = study::read(&out).unwrap_or_else(|e| panic!("{e}"));
    let printed = study::table_text(&study, &[]);
    for label in [
        "slowest location 95% true",
        "link peak % [hull]",
        "link h busy [hull]",
        "95% true [hull]",
    ] {
        assert!(printed.contains(label), "no '{label}' in\n{printed}");
    }
    assert!(
        !printed.contains("[york]"),
        "only the swept location: {printed}"
    );
    let report = std::fs::read_to_string(out.join("report.html")).expect("report.html");
    assert!(report.contains("link h busy [hull]"));
    assert!(
        out.join("chart-slowest_location_hours_to_95_true.svg")
            .exists()
    );
}

/// Location studies are the same bytes for any number of workers, and
/// their shards merge into the whole.
#[test]
fn location_sweeps_are_the_same_bytes_for_any_jobs_and_shards() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = branches(dir.path(), ONE);
    let d = |name: &str| dir.path().join(name);
    sweep(&file, &[HULL], 3, 1, None, &d("one"));
    sweep(&file, &[HULL], 3, 2, None, &d("two"));
    for i in 1..=2 {
        sweep(
            &file,
            &[HULL],
            3,
            1,
            Some(Shard { index: i, count: 2 }),
            &d(&format!("s{i}")),
        );
    }
    let order = [d("s2"), d("s1")];
    patchsim::app::merge_to_dir(&order, &d("merged"), None, None).unwrap_or_else(|e| panic!("{e}"));
    let files = |p: &Path| -> BTreeMap<String, Vec<u8>> {
        (std::fs::read_dir(p).expect("dir"))
            .map(|e| {
                let e = e.expect("entry");
                (
                    e.file_name().to_string_lossy().into_owned(),
                    std::fs::read(e.path()).expect("read"),
                )
            })
            .collect()
    };
    let one = files(&d("one"));
    assert!(one.contains_key("runs.csv"));
    for other in ["two", "merged"] {
        let theirs = files(&d(other));
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>()
        );
        for (name, bytes) in &one {
            assert!(*bytes == theirs[name], "{name} differs in {other}");
        }
    }
}

/// With several deployments a location's columns name the deployment
/// too, and the slowest location's columns are per deployment; without
/// locations a study has none of them.
#[test]
fn location_columns_name_each_deployment_when_there_are_several() {
    let dir = tempfile::tempdir().expect("tempdir");
    let two = format!(
        "{ONE}{}",
        r#"
        Deployment(name: "later", updates: ["KB1"], targets: ["york"],
                   created: "2026-11-11T10:00:00+01:00", deadline: "2026-11-11T12:00:00+01:00"),"#
    );
    let file = branches(dir.path(), &two);
    let plan = study::plan(&file, Vec::new(), 1).unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = plan.columns.iter().map(|c| c.name.as_str()).collect();
    for column in [
        "link_hours_busy[york]",
        "location_hours_to_95_true[york][cu]",
        "location_hours_to_95_true[york][later]",
        "location_hours_to_95_true[(site)][later]",
        "slowest_location_hours_to_95_true[cu]",
        "slowest_location_hours_to_95_true[later]",
    ] {
        assert!(names.contains(&column), "no {column} in {names:?}");
    }
    // 'later' targets york alone: its other locations' cells are empty,
    // and its slowest location is york.
    let out = dir.path().join("study");
    sweep(&file, &[], 1, 1, None, &out);
    let (_, rows) = runs(&out);
    let r = &rows[0];
    assert_eq!(r["location_hours_to_95_true[hull][later]"], "");
    assert_eq!(
        r["slowest_location_hours_to_95_true[later]"],
        r["location_hours_to_95_true[york][later]"]
    );
    study::read(&out).unwrap_or_else(|e| panic!("{e}"));

    let plain = dir.path().join("plain.ron");
    std::fs::write(&plain, crate::common::ron(&Default::default())).expect("write");
    let plan = study::plan(&plain, Vec::new(), 1).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        !plan
            .columns
            .iter()
            .any(|c| c.name.contains("location") || c.name.starts_with("link_")),
        "no location columns without locations"
    );
}

fn size(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["size", "branches.ron"];
    all.extend(args);
    let o = patchsim(&all, dir);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// `size` turns a link's bandwidth until a location, or every location,
/// is compliant in time and the link is busy no longer than asked.
#[test]
fn size_finds_the_smallest_link_for_a_location_goal() {
    let dir = tempfile::tempdir().expect("tempdir");
    branches(dir.path(), ONE);
    let knob = "locations[hull].wan_link.bandwidth=1Mbps,2Mbps,4Mbps,8Mbps,16Mbps,32Mbps";
    // Hull at 95 % within 6 hours needs 8 Mbps (4 Mbps: 8 hours).
    let (code, text, err) = size(
        dir.path(),
        &[
            "--goal",
            "95% true within 6h of creation at hull",
            "--knob",
            knob,
            "-r",
            "2",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("cheapest: locations[hull].wan_link.bandwidth=8Mbps"),
        "{text}"
    );
    // Every location likewise; with the link busy at most 2 hours too,
    // 16 Mbps (8 Mbps: 3 hours).
    let (code, text, err) = size(
        dir.path(),
        &[
            "--goal",
            "95% true within 6h of creation at every location",
            "--goal",
            "link busy <= 2h at hull",
            "--knob",
            knob,
            "-r",
            "2",
            "-o",
            "sized",
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        text.contains("cheapest: locations[hull].wan_link.bandwidth=16Mbps"),
        "{text}"
    );
    assert!(
        text.contains("worst: link busy <= 2h 00m at hull"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("sized/size.json")).expect("size.json"),
    )
    .expect("json");
    assert_eq!(json["goals"][0]["compliant"]["at"], "every_location");
    assert_eq!(json["goals"][1]["link_busy"]["location"], "hull");
    // A location the scenario does not have is refused before any run.
    let (code, _, err) = size(
        dir.path(),
        &[
            "--goal",
            "95% true within 6h of creation at hul",
            "--knob",
            knob,
        ],
    );
    assert_eq!(code, Some(2));
    assert!(
        err.contains("no location named 'hul'; known: (site), york, hull"),
        "{err}"
    );
}
