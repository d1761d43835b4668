//! An estate with an automatic deployment rule under what looks past one
//! run's deployments: a server count that splits the cohorts keeps every
//! client targeted by the rule; a sizing's goal, a sweep's tables, files
//! and charts count only the deployments a run made; `validate` and the
//! warnings speak of the rule once, not of every deployment it could make.

use crate::common;

use common::{Scenario, assert_ok, estate_of, patchsim, simulate};
use patchsim::scenario::{self, apply_sets};

/// 200 + 100 always-on clients. A deployment of October's update to `a`,
/// with a later phase to `b`. A rule runs every day at midnight, five
/// times in the run, and deploys November's update, released on day 1 at
/// 18:00 and synced at 19:30, to both cohorts: its run on day 2 makes
/// one deployment, the other four find nothing. `b_extra` is appended to
/// cohort `b`.
fn text(b_extra: &str) -> String {
    Scenario::new("rules")
        .seed(3)
        .duration("5d")
        .sync(r#"first_scheduled: "2026-12-31T00:00:00Z", manual: ["2026-11-10T19:30:00Z"]"#)
        .body(&format!(
            r#"cohorts: [
        Cohort(name: "a", count: 200, management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "b", count: 100, management_point: "mp", update_point: "sup", distribution_point: "dp"{b_extra}),
    ],
    updates: [
        Update(id: "KB-OCT", size: "100MB", install_time: Fixed("10m")),
        Update(id: "KB-NOV", size: "100MB", install_time: Fixed("10m"), max_run_time: "2h",
               release: "2026-11-10T18:00:00Z", supersedes: ["KB-OCT"]),
    ],
    deployments: [
        Deployment(name: "oct", updates: ["KB-OCT"], targets: ["a"], created: "2026-11-09T01:00:00Z",
                   phases: [Phase(name: "oct-2", targets: ["b"], begin: AfterSuccess("0s"), deadline_after: "0s")]),
    ],
    automatic_deployment_rules: [
        AutomaticDeploymentRule(name: "monthly", run: Schedule(first: "2026-11-09T00:00:00Z", every: "1d"),
            released_within: "1d", targets: ["a", "b"], deadline_after: "1d"),
    ],"#
        ))
        .text()
}

/// The rule's deployment the run made, by index.
fn made(estate: &patchsim::estate::Estate, out: &patchsim::model::Outcome) -> Vec<usize> {
    (0..estate.deployments.len())
        .filter(|&d| estate.deployments[d].rule.is_some() && out.deployments[d].created.is_some())
        .collect()
}

/// Splitting the cohorts over two DPs (or SUPs, or MPs) keeps every
/// client targeted: the deployment's, its phase's and the rule's targets
/// name both parts of each cohort, and the rule's deployment reaches all
/// 300 clients, half of them through the second server.
#[test]
fn a_server_count_keeps_every_client_a_rule_targets() {
    let raw = scenario::parse(&text(""), "rules.ron").unwrap();
    for role in ["distribution_points", "update_points", "management_points"] {
        let path = format!("servers.{role}.count");
        let split = apply_sets(&raw, &[(path.as_str(), "2")]).unwrap();
        let both = |t: &[String]| t.to_vec();
        assert_eq!(both(&split.deployments[0].targets), ["a", "a-2"], "{role}");
        assert_eq!(
            both(&split.deployments[0].phases[0].targets),
            ["b", "b-2"],
            "{role}"
        );
        assert_eq!(
            both(&split.automatic_deployment_rules[0].targets),
            ["a", "a-2", "b", "b-2"],
            "{role}"
        );
        let estate = scenario::build(split, "rules.ron").unwrap();
        let out = simulate(&estate);
        let rule = made(&estate, &out);
        assert_eq!(rule.len(), 1, "{role}: one deployment made");
        assert_eq!(out.deployments[rule[0]].targeted, 300, "{role}");
    }
    // The second DP serves its half.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.ron"), text("")).unwrap();
    let o = patchsim(
        &[
            "run",
            "rules.ron",
            "-q",
            "--set",
            "servers.distribution_points.count=2",
            "--out",
            "out",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("out/summary.json")).unwrap(),
    )
    .unwrap();
    let served = |name: &str| {
        (summary["servers"].as_array().unwrap().iter())
            .find(|s| s["name"] == name)
            .and_then(|s| s["bytes_served"].as_u64())
            .unwrap()
    };
    // 150 clients of each DP need November's 100 MB.
    assert!(served("dp-2") >= 150 * 100_000_000, "{}", served("dp-2"));
    assert!(served("dp") >= 150 * 100_000_000, "{}", served("dp"));
}

/// A compliance goal holds the deployments a run made to it and leaves
/// out those the rule could have made and did not: the rule's one
/// deployment reaches 95 % within a few days, so the goal is met (it was
/// "never", for the four deployments no run made).
#[test]
fn a_sizing_goal_leaves_out_the_deployments_no_run_made() {
    let estate = estate_of(&text(""));
    let out = simulate(&estate);
    assert_eq!(made(&estate, &out).len(), 1);
    assert_eq!(estate.rules[0].deployments.len(), 5);
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("rules.ron"), text("")).unwrap();
    let o = patchsim(
        &[
            "size",
            "rules.ron",
            "--goal",
            "95% true within 3d of creation",
            "--knob",
            "client_settings.policy_polling_interval=60m,30m",
            "-r",
            "1",
            "-o",
            "size",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("cheapest: client_settings.policy_polling_interval=60m"),
        "{text}"
    );
    assert!(!text.contains("never"), "{text}");
    let json = std::fs::read_to_string(dir.path().join("size/size.json")).unwrap();
    assert!(!json.contains("null"), "{json}");
}

/// `validate` counts the deployments the file lays out (two: a phase is
/// one) and says what the rule may add; the warning that an update never
/// fits a cohort's maintenance windows is said once for the rule, not once
/// for each of the five deployments it could make; a sweep's table,
/// `points.csv`, charts and page leave out the four deployments no run
/// made (`runs.csv` keeps their empty columns).
#[test]
fn the_deployments_a_rule_never_made_are_not_shown() {
    let dir = tempfile::tempdir().unwrap();
    let window = r#", maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "1h")]"#;
    std::fs::write(dir.path().join("windows.ron"), text(window)).unwrap();
    std::fs::write(dir.path().join("rules.ron"), text("")).unwrap();
    let o = patchsim(&["validate", "windows.ron"], dir.path());
    assert_ok(&o);
    let said = String::from_utf8_lossy(&o.stdout);
    let first = said.lines().next().unwrap();
    assert!(
        first.contains(
            "(300 clients, 2 deployments and 1 automatic deployment rule that may make up to 5 more, hash"
        ),
        "{said}"
    );
    let warned: Vec<&str> = said.lines().filter(|l| l.contains("warning:")).collect();
    assert_eq!(
        warned,
        [
            "  warning: update 'KB-NOV' of the deployments of automatic deployment rule 'monthly' \
          needs 2h (its max run time) but the longest maintenance window of cohort 'b' for \
          software updates is 1h: it never installs there"
        ],
        "{said}"
    );
    let o = patchsim(
        &[
            "sweep",
            "rules.ron",
            "--set",
            "client_settings.policy_polling_interval=60m,30m",
            "-r",
            "2",
            "-o",
            "study",
        ],
        dir.path(),
    );
    assert_ok(&o);
    let table = String::from_utf8_lossy(&o.stdout);
    assert!(table.contains("50% true [oct-2]"), "{table}");
    assert!(table.contains("50% true [monthly #1]"), "{table}");
    for phantom in ["monthly #2", "monthly #3", "monthly #4", "monthly #5"] {
        assert!(!table.contains(phantom), "{phantom}: {table}");
        let points = std::fs::read_to_string(dir.path().join("study/points.csv")).unwrap();
        assert!(!points.contains(phantom), "{phantom}: {points}");
        let page = std::fs::read_to_string(dir.path().join("study/report.html")).unwrap();
        assert!(!page.contains(phantom), "{phantom}");
        let runs = std::fs::read_to_string(dir.path().join("study/runs.csv")).unwrap();
        assert!(runs.contains(phantom), "runs.csv keeps every column");
    }
    // Curves of the three deployments made: `oct`, `oct-2`, `monthly #1`.
    let mut curves: Vec<String> = (std::fs::read_dir(dir.path().join("study")).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("curves-") && n.ends_with(".svg"))
        .collect();
    curves.sort();
    assert_eq!(
        curves,
        [
            "curves-0-reported.svg",
            "curves-0-true.svg",
            "curves-1-reported.svg",
            "curves-1-true.svg",
            "curves-2-reported.svg",
            "curves-2-true.svg"
        ]
    );
    let title = std::fs::read_to_string(dir.path().join("study/curves-2-true.svg")).unwrap();
    assert!(
        title.contains("monthly #1: true compliant share"),
        "{title}"
    );
}
