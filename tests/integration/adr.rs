//! Automatic deployment rules (docs/model.md, "Automatic deployment
//! rules"): a rule that runs after each sync deploys the updates the sync
//! brought that meet its criteria, as a new group each run, created at the
//! sync's end; a run that finds nothing makes nothing; a rule that keeps
//! one group replaces its updates, and the clients evaluate the new ones.
//! Every run is traced and keeps the laws (`traced`).

use crate::common;

use common::{FAST_DP, Scenario, build_error, estate_of, traced};
use patchsim::model::{Compliance, Outcome, TraceEvent, TraceRecord};

const CLIENTS: u32 = 1000;
/// Hour of day 1 at which the manual sync starts.
const SYNC: &str = "2026-11-10T19:30:00Z";

/// 1,000 always-on clients; October's cumulative update (no release: long
/// before the start), November's (released on day 1 at 18:00, superseding
/// October's) and a definition update released with it. A manual sync on
/// day 1 at 19:30 brings the November ones. `rules` is the rule list.
fn text(rules: &str) -> String {
    Scenario::new("adr")
        .seed(5)
        .duration("5d")
        .sync(&format!(
            r#"first_scheduled: "2026-12-31T00:00:00Z", manual: ["{SYNC}"]"#
        ))
        .dp(FAST_DP)
        .body(&format!(
            r#"cohorts: [
        Cohort(name: "clients", count: {CLIENTS}, management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [
        Update(id: "KB-OCT", size: "100MB", install_time: Fixed("10m")),
        Update(id: "KB-NOV", size: "100MB", install_time: Fixed("10m"),
               release: "2026-11-10T18:00:00Z", supersedes: ["KB-OCT"]),
        Update(id: "KB-DEF", size: "5MB", install_time: Fixed("1m"), classification: Definition,
               restart_probability: 0.0, release: "2026-11-10T18:00:00Z"),
    ],
    automatic_deployment_rules: [{rules}],"#
        ))
        .text()
}

/// A rule after each sync: security updates of the last day, deadline a
/// day after it runs.
const MONTHLY: &str = r#"AutomaticDeploymentRule(name: "monthly", classifications: [Security],
    released_within: "1d", targets: ["clients"], deadline_after: "1d")"#;

fn time_of(records: &[TraceRecord], name: &str) -> Vec<u64> {
    (records.iter())
        .filter(|r| r.event.name() == name)
        .map(|r| r.time.as_ms())
        .collect()
}

/// The number of updates of each group a rule made or changed, in order.
fn picked_counts(records: &[TraceRecord]) -> Vec<u64> {
    (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::RuleDeployed { updates, .. } => Some(updates),
            _ => None,
        })
        .collect()
}

fn installed(o: &Outcome, d: usize) -> u32 {
    o.deployments[d].final_truth[Compliance::Installed as usize]
}

#[test]
fn a_rule_deploys_what_the_sync_brought_when_it_ends() {
    let estate = estate_of(&text(MONTHLY));
    let (outcome, records) = traced(&estate);
    // The sync ends once; the rule runs then and makes its first group.
    let inserted = time_of(&records, "sync_inserted");
    assert_eq!(inserted.len(), 1, "one sync");
    let made: Vec<_> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::RuleDeployed {
                deployment,
                updates,
            } => Some((r.time.as_ms(), deployment, updates)),
            _ => None,
        })
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let (at, d, count) = made[0];
    assert_eq!(at, inserted[0], "made at the sync's end");
    assert_eq!(count, 1, "only November's: the definition is not security");
    let rec = &outcome.deployments[d.index()];
    assert_eq!(rec.created.map(|t| t.as_ms()), Some(at));
    assert_eq!(rec.available, rec.created, "available at once");
    assert_eq!(
        rec.deadline.map(|t| t.as_ms()),
        Some(at + 86_400_000),
        "deadline a day later"
    );
    let nov = estate.updates.iter().position(|u| u.id == "KB-NOV");
    assert_eq!(
        rec.picked
            .as_ref()
            .map(|p| p.iter().map(|u| u.index()).collect()),
        Some(vec![nov.expect("listed")])
    );
    // Every client installs it by the end; nobody installs October's
    // (it is not deployed) or the definition.
    assert_eq!(installed(&outcome, d.index()), CLIENTS);
    assert_eq!(outcome.totals.installs, u64::from(CLIENTS));
    assert_eq!(outcome.totals.rule_deployments, 1);
    // Only the deployment the run made is shown; the rule's others are not.
    let shown = (0..estate.deployments.len())
        .filter(|&k| outcome.shown(&estate, k))
        .count();
    assert_eq!(shown, 1);
    let summary = patchsim::output::summary(&estate, &outcome);
    assert_eq!(summary.deployments.len(), 1);
    assert_eq!(summary.deployments[0].name, "monthly #1");
    assert_eq!(
        summary.deployments[0].picked_updates,
        Some(vec!["KB-NOV".to_string()])
    );
    let text = patchsim::output::summary_text(&summary, &[]);
    assert!(
        text.contains("automatic deployment rules: 1 deployment made, 0 groups refreshed"),
        "{text}"
    );
}

/// `explain --client slowest` by a deployment the rule could make but did
/// not says so, and names the ones it made, rather than that no client
/// became compliant with it (`scenarios/adr.ron` with `--deployment
/// 'Monthly security #2'` did).
#[test]
fn the_slowest_client_of_a_deployment_never_made_is_refused() {
    // A second sync after the end: the rule could make a second group
    // then, but that sync never comes.
    let estate = estate_of(&text(MONTHLY).replace(
        &format!(r#"manual: ["{SYNC}"]"#),
        &format!(r#"manual: ["{SYNC}", "2026-12-20T19:30:00Z"]"#),
    ));
    assert_eq!(estate.deployments.len(), 2);
    let err = patchsim::app::slowest(&estate, Some("monthly #2"))
        .expect_err("never made")
        .to_string();
    assert_eq!(
        err,
        "--deployment 'monthly #2': the deployment was never created in this run (its \
         automatic deployment rule 'monthly' did not make it before the end); created were: \
         monthly #1"
    );
    let made = patchsim::app::slowest(&estate, Some("monthly #1")).expect("made");
    assert_eq!(made.compliant, u64::from(CLIENTS));
}

#[test]
fn superseded_and_old_updates_are_left_out_unless_asked_for() {
    // No date criterion, superseded allowed: October's (superseded by
    // November's, in the database) is picked too.
    let all = text(
        r#"AutomaticDeploymentRule(name: "all", classifications: [Security], superseded: true,
           targets: ["clients"])"#,
    );
    let (outcome, records) = traced(&estate_of(&all));
    let counts = picked_counts(&records);
    assert_eq!(counts, vec![2], "October's and November's");
    assert_eq!(outcome.totals.rule_deployments, 1);
    // Without `superseded`, October's stays out even with no date limit.
    let current = text(
        r#"AutomaticDeploymentRule(name: "current", classifications: [Security],
           targets: ["clients"])"#,
    );
    let (_, records) = traced(&estate_of(&current));
    let counts = picked_counts(&records);
    assert_eq!(counts, vec![1]);
}

#[test]
fn a_run_that_finds_nothing_makes_nothing() {
    // Released within the hour before the run: the sync ends more than an
    // hour after the release, so the rule finds nothing.
    let late = text(
        r#"AutomaticDeploymentRule(name: "late", classifications: [Security],
           released_within: "1h", targets: ["clients"])"#,
    );
    let estate = estate_of(&late);
    let (outcome, records) = traced(&estate);
    assert_eq!(time_of(&records, "rule_found_nothing").len(), 1);
    assert!(time_of(&records, "rule_deployed").is_empty());
    assert_eq!(outcome.totals.rule_runs_empty, 1);
    assert_eq!(outcome.totals.rule_deployments, 0);
    assert_eq!(outcome.totals.installs, 0);
    assert!((0..estate.deployments.len()).all(|k| !outcome.shown(&estate, k)));
}

/// Definitions: the first released at the start, the second on day 2,
/// superseding it; a sync every day at 02:00; a rule every 12 hours from
/// 06:00 keeps one group of them, due at once.
fn refreshed_definitions() -> String {
    text("")
        .replace(
            r#"sync: Sync(first_scheduled: "2026-12-31T00:00:00Z", manual: ["2026-11-10T19:30:00Z"]),"#,
            r#"sync: Sync(first_scheduled: "2026-11-09T02:00:00Z", schedule_interval: "1d"),"#,
        )
        .replace(
            r#"Update(id: "KB-DEF", size: "5MB", install_time: Fixed("1m"), classification: Definition,
               restart_probability: 0.0, release: "2026-11-10T18:00:00Z"),"#,
            r#"Update(id: "DEF-1", size: "5MB", install_time: Fixed("1m"), classification: Definition,
               restart_probability: 0.0, release: "2026-11-09T01:00:00Z"),
        Update(id: "DEF-2", size: "5MB", install_time: Fixed("1m"), classification: Definition,
               restart_probability: 0.0, release: "2026-11-11T01:00:00Z", supersedes: ["DEF-1"]),"#,
        )
        .replace(
            "automatic_deployment_rules: [],",
            r#"automatic_deployment_rules: [AutomaticDeploymentRule(name: "defs",
               run: Schedule(first: "2026-11-09T06:00:00Z", every: "12h"),
               classifications: [Definition], group: ExistingGroup, targets: ["clients"],
               deadline_after: "0s", honor_maintenance_windows: false)],"#,
        )
}

#[test]
fn an_existing_group_is_refreshed_and_clients_install_the_new_updates() {
    let scenario = refreshed_definitions();
    let estate = estate_of(&scenario);
    let (outcome, records) = traced(&estate);
    assert_eq!(outcome.totals.rule_deployments, 1, "one group");
    assert_eq!(
        outcome.totals.rule_refreshes, 1,
        "DEF-2 replaced DEF-1 once"
    );
    let deployed = time_of(&records, "rule_deployed");
    let day = 86_400_000;
    assert_eq!(
        deployed,
        vec![6 * 3_600_000, 2 * day + 6 * 3_600_000],
        "made on day 0 at 06:00, refreshed on day 2 at 06:00 (after DEF-2's sync)"
    );
    // Every client installs both definitions, each once, and ends
    // compliant with the group as it is at the end (DEF-2).
    let d = estate
        .deployments
        .iter()
        .position(|s| s.name == "defs")
        .expect("the rule's deployment");
    assert_eq!(outcome.totals.installs, 2 * u64::from(CLIENTS));
    assert_eq!(installed(&outcome, d), CLIENTS);
    // Each downloads each: the refreshed group's content is DEF-2, which
    // no client held (it used to install it without a download).
    let downloads: Vec<u64> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::DownloadStart { deployment, bytes } if deployment.index() == d => {
                Some(bytes)
            }
            _ => None,
        })
        .collect();
    assert_eq!(downloads.len(), 2 * CLIENTS as usize);
    assert!(downloads.iter().all(|&b| b == 5_000_000), "{downloads:?}");
    let def2 = estate.updates.iter().position(|u| u.id == "DEF-2");
    assert_eq!(
        outcome.deployments[d]
            .picked
            .as_ref()
            .map(|p| p.iter().map(|u| u.index()).collect()),
        Some(vec![def2.expect("listed")])
    );
    // Its times are those of its first run.
    assert_eq!(
        outcome.deployments[d].created.map(|t| t.as_ms()),
        Some(6 * 3_600_000)
    );
}

#[test]
fn rule_errors_name_the_field() {
    let cases = [
        (
            text(
                r#"AutomaticDeploymentRule(name: "r", classifications: [FeatureUpgrade], targets: ["clients"])"#,
            ),
            "automatic_deployment_rules[0] (r).classifications[0]: a software update group cannot hold a feature update",
        ),
        (
            text(
                r#"AutomaticDeploymentRule(name: "r", released_within: "10m", targets: ["clients"])"#,
            ),
            "automatic_deployment_rules[0] (r).released_within: must be between 1h",
        ),
        (
            text(
                r#"AutomaticDeploymentRule(name: "r", run: Schedule(first: "2026-11-09T00:00:00Z", every: "30m"), targets: ["clients"], group: ExistingGroup)"#,
            ),
            "automatic_deployment_rules[0] (r).run.every: must be between 1h",
        ),
        (
            text(
                r#"AutomaticDeploymentRule(name: "r", run: Schedule(first: "2026-11-09T00:00:00Z", every: "1h"), targets: ["clients"])"#,
            ),
            "automatic_deployment_rules[0] (r).group: a rule that makes a new group each run may run at most 60 times",
        ),
        (
            text(r#"AutomaticDeploymentRule(name: "r", targets: ["nobody"])"#),
            "automatic_deployment_rules[0] (r).targets[0]: unknown cohort 'nobody'",
        ),
        (
            text(r#"AutomaticDeploymentRule(name: "r", targets: [])"#),
            "automatic_deployment_rules[0] (r).targets: must list at least one cohort",
        ),
        (
            text(r#"AutomaticDeploymentRule(name: "r", targets: ["clients"], deadline: "1d")"#),
            "unknown field",
        ),
        // Two rules whose deployments would share a name: "D" makes "D #1",
        // the one group "D #1" keeps is named "D #1" too.
        (
            text(&format!(
                r#"{}, AutomaticDeploymentRule(name: "D #1", targets: ["clients"], group: ExistingGroup)"#,
                MONTHLY.replace(r#"name: "monthly""#, r#"name: "D""#)
            )),
            "automatic_deployment_rules[1] (D #1).name: its deployment 'D #1' would take the name of a deployment of automatic_deployment_rules[0] ('D'); rename the rule",
        ),
        // A later group of a rule that may run several times.
        (
            text(&format!(
                r#"{MONTHLY}, AutomaticDeploymentRule(name: "monthly #1", classifications: [Definition], targets: ["clients"], run: Schedule(first: "2026-11-09T00:00:00Z", every: "1d")),
                   AutomaticDeploymentRule(name: "monthly #1 #2", classifications: [Definition], targets: ["clients"], group: ExistingGroup)"#
            )),
            "automatic_deployment_rules[2] (monthly #1 #2).name: its deployment 'monthly #1 #2' would take the name of a deployment of automatic_deployment_rules[1] ('monthly #1')",
        ),
    ];
    for (scenario, want) in cases {
        let err = build_error(&scenario);
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// A study measures the deployments rules make: a column for each one a
/// rule could make, filled in the runs that made it and empty in the
/// others (a second sync that brings nothing makes none). A study of such
/// a scenario used to stop at its first run.
#[test]
fn a_study_measures_the_deployments_rules_make() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("adr.ron");
    let two_syncs = text(MONTHLY).replace(
        &format!(r#"manual: ["{SYNC}"]"#),
        &format!(r#"manual: ["{SYNC}", "2026-11-12T19:30:00Z"]"#),
    );
    std::fs::write(&file, two_syncs).expect("write scenario");
    let plan = patchsim::study::plan(&file, Vec::new(), 2).unwrap_or_else(|e| panic!("{e}"));
    let study = patchsim::study::run(&plan, None, 1, &|| {});
    let pct: Vec<(usize, &str)> = (plan.columns.iter().enumerate())
        .filter(|(_, c)| c.name.starts_with("compliant_pct_true"))
        .map(|(i, c)| (i, c.name.as_str()))
        .collect();
    assert!(pct.len() > 1, "{pct:?}");
    let made = |i: usize| study.runs.iter().filter(|r| r.values[i].is_some()).count();
    // The first sync's run makes the first group in every replication.
    let (first, name) = pct[0];
    assert_eq!(made(first), 2, "{name}");
    for &(i, name) in &pct[1..] {
        assert_eq!(made(i), 0, "{name}: the second sync brings nothing");
    }
}

/// A group refreshed while its clients are still downloading the old
/// content: each transfer under way carries on with the bytes it asked
/// for, and the client then downloads the added update. The DP serves
/// exactly the bytes the clients count as received from it.
#[test]
fn a_transfer_under_way_at_a_refresh_finishes_then_fetches_the_rest() {
    // As above, but the DP shares 200 Kbps among all 1,000 clients: the
    // first definition (5 GB in all) takes about 55 hours, so the refresh
    // on day 2 at 06:00 finds every client still downloading it.
    let scenario = refreshed_definitions()
        .replace(r#"duration: "5d""#, r#"duration: "7d""#)
        .replace(r#"bandwidth: "10Gbps""#, r#"bandwidth: "200Kbps""#);
    let estate = estate_of(&scenario);
    let (outcome, records) = traced(&estate);
    assert_eq!(outcome.totals.rule_refreshes, 1);
    let refresh = time_of(&records, "rule_deployed")[1];
    let d = (estate.deployments.iter())
        .position(|s| s.name == "defs")
        .expect("the rule's deployment");
    let under_way = (0..CLIENTS)
        .filter(|&c| {
            let mine = |name: &str| {
                (records.iter())
                    .filter(|r| r.client.is_some_and(|x| x.0 == c) && r.time.as_ms() <= refresh)
                    .filter(|r| r.event.name() == name)
                    .count()
            };
            mine("download_start") > mine("download_done")
        })
        .count();
    assert!(under_way > 900, "{under_way} downloading at the refresh");
    let dp_served: u64 = (outcome.servers.iter())
        .filter(|s| s.role == patchsim::model::ServerRole::DistributionPoint)
        .map(|s| s.bytes)
        .sum();
    assert_eq!(dp_served, outcome.totals.bytes_from_dp);
    // Each client downloads DEF-1, then DEF-2: 10 MB each.
    assert_eq!(
        outcome.totals.bytes_from_dp,
        10_000_000 * u64::from(CLIENTS)
    );
    assert_eq!(installed(&outcome, d), CLIENTS);
}

/// A rule's deployment has its deadline randomized whatever the client
/// setting: turning randomization off "only applies to manual software
/// update deployments" (Microsoft Learn, "About client settings"). The
/// always-on clients, their content downloaded long before, start their
/// installs over the two hours after the deadline, not all at it.
#[test]
fn a_rules_deadline_is_randomized_whatever_the_client_setting() {
    let estate = estate_of(&text(MONTHLY));
    let (_, records) = traced(&estate);
    let created = time_of(&records, "rule_deployed")[0];
    let deadline = created + 24 * 3_600_000;
    let mut first = std::collections::BTreeMap::new();
    for r in records.iter().filter(|r| r.event.name() == "install_start") {
        first.entry(r.client).or_insert(r.time.as_ms());
    }
    let starts: Vec<u64> = first.into_values().collect();
    assert!(starts.len() > 900, "{} installs", starts.len());
    let hour = 3_600_000;
    assert!(
        starts
            .iter()
            .all(|&t| t >= deadline && t <= deadline + 2 * hour + hour / 2),
        "every install within the two hours after the deadline (and its scan)"
    );
    let early = starts.iter().filter(|&&t| t < deadline + hour).count() as f64;
    let n = starts.len() as f64;
    // A uniform spread puts half in the first hour: within four standard
    // errors of a binomial share, and the few minutes of the scan each
    // client runs at its deadline (2 min median: under 5 % of an hour)
    // that move some into the second.
    let tolerance = 4.0 * (0.25 / n).sqrt();
    assert!(
        (early / n - 0.5).abs() < tolerance + 0.05,
        "{early} of {n} in the first hour"
    );
}

/// A SUP outage over the sync makes it fail and retry, so the rule makes
/// its deployment hours later. `diff` must show that move, and give the
/// milestones from the run's start: counted from each run's own creation
/// they would come hours sooner, a fault looking like an improvement.
#[test]
fn diff_shows_a_rule_deployment_made_later_and_its_milestones_as_instants() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("adr.ron"), text(MONTHLY)).expect("write");
    let outage = r#"faults=[Fault(server: "sup", start: "2026-11-10T19:00:00Z", end: "2026-11-10T23:00:00Z", effect: Down)]"#;
    for (out, sets) in [("base", vec![]), ("outage", vec!["--set", outage])] {
        let mut args = vec!["run", "adr.ron", "-o", out, "-q"];
        args.extend(sets);
        let o = common::patchsim(&args, dir.path());
        common::assert_ok(&o);
    }
    let o = common::patchsim(&["diff", "base", "outage"], dir.path());
    common::assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let rows: Vec<&str> = (text.lines())
        .skip_while(|l| !l.starts_with("milestones"))
        .take_while(|l| !l.starts_with("bottleneck"))
        .collect();
    let row = |label: &str| {
        (rows.iter())
            .find(|l| l.contains(label))
            .unwrap_or_else(|| panic!("a row {label} in\n{text}"))
            .split("  ")
            .filter(|c| !c.trim().is_empty())
            .last()
            .expect("cells")
            .trim()
            .to_string()
    };
    // Made hours later: the delta of its creation and deadline.
    for label in ["created (from the start)", "deadline (from the start)"] {
        let delta = row(label);
        assert!(
            delta.starts_with("+") && delta.contains('h'),
            "{label}: {delta}\n{text}"
        );
    }
    // Its milestones as instants: not hours sooner.
    for label in ["50% true (from the start)", "95% reported (from the start)"] {
        let delta = row(label);
        assert!(!delta.starts_with('−'), "{label}: {delta}\n{text}");
    }
    assert!(
        text.contains("was created at different times in A and B: its milestones are hours from the run's start"),
        "{text}"
    );
    // The same runs diffed with themselves: nothing moved, no such rows.
    let o = common::patchsim(&["diff", "base", "base"], dir.path());
    let same = String::from_utf8_lossy(&o.stdout);
    assert!(!same.contains("(from the start)"), "{same}");
}
