//! Supersedence (docs/model.md, "Supersedence"): once an update that
//! supersedes another takes effect on a client (installed, restarted if
//! it needed it), the superseded one, if the client still misses it, is
//! no longer required there. Last month's cumulative update then turns
//! Not required for the clients that install this month's first, true
//! and, after their next scan reaches the database, reported; they never
//! install it. Without `supersedes` nothing changes. An expired update
//! (`sync.expire_superseded_after`) leaves its deployments. A software
//! update group deployed twice is its updates listed twice. Every run
//! keeps the laws (`run_checked`).

use crate::common;

use common::{FAST_DP, Scenario, build_error, checked, estate_of};
use patchsim::model::{Compliance, TraceEvent};

const CLIENTS: u32 = 2000;
/// Share of the clients still missing last month's update.
const P_OLD: f64 = 0.4;
/// Share this month's update applies to.
const P_NEW: f64 = 0.9;

/// 2,000 always-on clients; last month's update ("KB-OCT") still missing
/// on 40 % of them, deployed with a late deadline (day 6); this month's
/// ("KB-NOV", released on day 1 and synced) deployed with its deadline on
/// day 3. `supersedes` is KB-NOV's list.
fn text(supersedes: &str) -> String {
    text_expiring(supersedes, "")
}

/// The same, with `sync.expire_superseded_after` set to `after` (`""`:
/// left out).
fn text_expiring(supersedes: &str, after: &str) -> String {
    let expire = if after.is_empty() {
        String::new()
    } else {
        format!(r#", expire_superseded_after: Some("{after}")"#)
    };
    Scenario::new("supersedence")
        .seed(11)
        .duration("8d")
        .sync(&format!(r#"manual: ["2026-11-10T19:30:00Z"]{expire}"#))
        .dp(FAST_DP)
        .body(&format!(
            r#"cohorts: [
        Cohort(name: "clients", count: {CLIENTS}, management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [
        Update(id: "KB-OCT", size: "100MB", install_time: Fixed("10m"), applicability: {P_OLD}),
        Update(id: "KB-NOV", size: "100MB", install_time: Fixed("10m"), applicability: {P_NEW},
               release: "2026-11-10T18:00:00Z", supersedes: [{supersedes}]),
    ],
    deployments: [
        Deployment(name: "oct", updates: ["KB-OCT"], targets: ["clients"],
                   created: "2026-11-09T01:00:00Z", deadline: "2026-11-15T02:00:00Z"),
        Deployment(name: "nov", updates: ["KB-NOV"], targets: ["clients"],
                   created: "2026-11-11T08:00:00Z", deadline: "2026-11-12T02:00:00Z"),
    ],"#
        ))
        .text()
}

fn count(row: [u32; 4], state: Compliance) -> f64 {
    f64::from(row[state as usize])
}

#[test]
fn a_superseding_update_makes_the_old_one_not_required() {
    let plain = checked(&estate_of(&text("")));
    let superseded = checked(&estate_of(&text(r#""KB-OCT""#)));

    // Without supersedence every client missing KB-OCT installs it at its
    // deadline, and nothing is superseded.
    assert_eq!(plain.totals.updates_superseded, 0);
    let n = f64::from(CLIENTS);
    let (old, old_sup) = (&plain.deployments[0], &superseded.deployments[0]);
    let sd = (n * P_OLD * (1.0 - P_OLD)).sqrt();
    assert!(
        (count(old.final_truth, Compliance::Installed) - n * P_OLD).abs() < 4.0 * sd,
        "{:?}",
        old.final_truth
    );

    // With it, the clients that miss both (40 % × 90 % of them) install
    // KB-NOV at its deadline on day 3, before KB-OCT's on day 6: KB-OCT is
    // then not required for them, and they never install it. The applicability
    // draws are the same in both runs, so the counts move exactly.
    let expected = n * P_OLD * P_NEW;
    let sd = (n * P_OLD * P_NEW * (1.0 - P_OLD * P_NEW)).sqrt();
    let moved = superseded.totals.updates_superseded as f64;
    assert!(
        (moved - expected).abs() < 4.0 * sd,
        "{moved} superseded, expected about {expected} ± {sd}"
    );
    assert_eq!(
        count(old_sup.final_truth, Compliance::Installed),
        count(old.final_truth, Compliance::Installed) - moved,
        "the superseded clients never install KB-OCT"
    );
    assert_eq!(
        count(old_sup.final_truth, Compliance::NotRequired),
        count(old.final_truth, Compliance::NotRequired) + moved,
    );
    // The database shows it too, by the end (every client always on).
    assert_eq!(old_sup.final_reported, old_sup.final_truth);
    assert_eq!(
        plain.totals.installs - superseded.totals.installs,
        superseded.totals.updates_superseded,
        "one install fewer per superseded update"
    );
    // This month's deployment is untouched.
    assert_eq!(
        plain.deployments[1].final_truth,
        superseded.deployments[1].final_truth
    );
}

#[test]
fn supersedence_errors_name_the_field() {
    let older = text("").replace(
        "applicability: 0.4)",
        r#"applicability: 0.4, supersedes: ["KB-NOV"])"#,
    );
    let cases = [
        (
            text(r#""KB-X""#),
            "updates[1] (KB-NOV).supersedes[0]: unknown update 'KB-X'",
        ),
        (
            text(r#""KB-NOV""#),
            "updates[1] (KB-NOV).supersedes[0]: update 'KB-NOV' cannot supersede itself",
        ),
        (
            text(r#""KB-OCT", "KB-OCT""#),
            "updates[1] (KB-NOV).supersedes[1]: update 'KB-OCT' is listed twice; remove one",
        ),
        (
            older,
            "updates[0] (KB-OCT).supersedes[0]: update 'KB-NOV' is released after 'KB-OCT'",
        ),
        (
            text(r#""KB-OCT""#).replace("supersedes:", "supersedez:"),
            "unknown field",
        ),
    ];
    for (scenario, want) in cases {
        let err = build_error(&scenario);
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// With the supersedence rule "immediately expire", KB-OCT expires at the
/// sync that brings KB-NOV (day 1, before KB-OCT's deadline): it leaves
/// the October deployment, which then requires nothing of anyone (Not
/// required for every client, true and reported at once), and no client
/// installs it. A wait longer than the run expires nothing: the run is
/// the same as without the rule.
#[test]
fn an_expired_update_leaves_its_deployments() {
    let kept = checked(&estate_of(&text(r#""KB-OCT""#)));
    let expired = checked(&estate_of(&text_expiring(r#""KB-OCT""#, "0s")));
    assert_eq!(expired.totals.updates_expired, 1);
    let oct = &expired.deployments[0];
    assert_eq!(
        count(oct.final_truth, Compliance::NotRequired),
        f64::from(CLIENTS)
    );
    assert_eq!(oct.final_reported, oct.final_truth);
    // Nothing of KB-OCT is installed: only KB-NOV's installs remain, the
    // clients it applies to (about 90 %).
    let n = f64::from(CLIENTS);
    let sd = (n * P_NEW * (1.0 - P_NEW)).sqrt();
    let installs = expired.totals.installs as f64;
    assert!(
        (installs - n * P_NEW).abs() < 4.0 * sd,
        "{installs} installs"
    );
    assert_eq!(
        expired.totals.installs,
        u64::from(kept.deployments[1].final_truth[Compliance::Installed as usize]),
    );
    assert_eq!(
        expired.deployments[1].final_truth,
        kept.deployments[1].final_truth
    );

    let later = checked(&estate_of(&text_expiring(r#""KB-OCT""#, "30d")));
    assert_eq!(later.totals.updates_expired, 0);
    assert_eq!(later.totals.installs, kept.totals.installs);
    assert_eq!(
        later.deployments[0].final_truth,
        kept.deployments[0].final_truth
    );
    assert_eq!(
        later.deployments[0].final_reported,
        kept.deployments[0].final_reported
    );
}

#[test]
fn an_expiry_wait_out_of_range_is_named() {
    let text = text_expiring(r#""KB-OCT""#, "4000d");
    let raw = patchsim::scenario::parse(&text, "test.ron").expect("parses");
    let err = patchsim::scenario::build(raw, "test.ron").expect_err("out of range");
    assert!(
        err.to_string().contains("sync.expire_superseded_after"),
        "{err}"
    );
}

/// A software update group deployed by two deployments (the same
/// collection with two deadlines here) runs exactly as two deployments
/// that list its updates.
#[test]
fn an_update_group_deployed_twice_is_its_updates() {
    let second = r#"        Deployment(name: "nov-late", updates: ["KB-NOV"], targets: ["clients"],
                   created: "2026-11-11T08:00:00Z", deadline: "2026-11-14T02:00:00Z"),
    ],"#;
    let listed = text(r#""KB-OCT""#).replacen("    ],\n)", &format!("{second}\n)"), 1);
    assert!(listed.contains("nov-late"), "{listed}");
    let grouped = listed
        .replace(r#"updates: ["KB-NOV"]"#, r#"group: "2026-11""#)
        .replace(
            "    deployments: [",
            "    update_groups: [UpdateGroup(name: \"2026-11\", updates: [\"KB-NOV\"])],\n    deployments: [",
        );
    assert_eq!(grouped.matches(r#"group: "2026-11""#).count(), 2);
    let (a, b) = (checked(&estate_of(&listed)), checked(&estate_of(&grouped)));
    assert_eq!(a.events, b.events);
    assert_eq!(a.totals.installs, b.totals.installs);
    for (x, y) in a.deployments.iter().zip(&b.deployments) {
        assert_eq!(x.final_truth, y.final_truth);
        assert_eq!(x.final_reported, y.final_reported);
    }

    // Errors name the field.
    for (bad, want) in [
        (
            grouped.replace(r#"group: "2026-11""#, r#"group: "2026-12""#),
            "deployments[1] (nov).group: unknown update group '2026-12'",
        ),
        (
            grouped.replacen(
                r#"group: "2026-11""#,
                r#"group: "2026-11", updates: ["KB-NOV"]"#,
                1,
            ),
            "deployments[1] (nov).group: give either `updates` or `group`, not both",
        ),
        (
            grouped.replace(r#"updates: ["KB-NOV"])"#, "updates: [])"),
            "update_groups[0] (2026-11).updates: must list at least one update",
        ),
        (
            grouped.replace(
                r#"release: "2026-11-10T18:00:00Z","#,
                r#"release: "2026-11-10T18:00:00Z", classification: FeatureUpgrade,"#,
            ),
            "update_groups[0] (2026-11).updates[0]: update 'KB-NOV' is a feature update",
        ),
        (
            // A group's updates are held to the release date as listed ones.
            grouped.replace(
                r#"release: "2026-11-10T18:00:00Z","#,
                r#"release: "2026-11-13T18:00:00Z","#,
            ),
            ").group: update 'KB-NOV' is released at 2026-11-13T18:00:00Z after the deployment is created",
        ),
    ] {
        let err = patchsim::scenario::parse(&bad, "test.ron")
            .map_err(|e| e.to_string())
            .and_then(|raw| patchsim::scenario::build(raw, "test.ron").map_err(|e| e.to_string()))
            .map(|_| ())
            .expect_err(want);
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// An expiry removes an update from its deployments in the site
/// database: a client that has every other update of a deployment is
/// compliant in both views at that instant, with no state message on the
/// way, and the causality check allows it. (Deployment d1's U0 expires at
/// the sync of day 3, before d1 is even created; clients that do not
/// need U2 then count as compliant for d1 at once.)
#[test]
fn an_expiry_makes_clients_compliant_in_both_views_at_once() {
    let estate = crate::common::estate_of(
        r#"Scenario(
    name: "expiry",
    seed: 12896317093976966782,
    start: "2026-11-09T00:00:00Z",
    duration: "3d",
    sample_interval: "30m",
    sync: Sync(initially_synced: false, schedule_interval: "1d", expire_superseded_after: Some("46h")),
    servers: Servers(management_points: [ManagementPoint(name: "mp")], update_points: [UpdatePoint(name: "sup")], distribution_points: [DistributionPoint(name: "dp")]),
    client_settings: ClientSettings(policy_polling_interval: "15m", state_message_interval: "5m", scan_interval: "6h", reevaluation_interval: "12h"),
    cohorts: [Cohort(name: "c0", count: 41, power: AlwaysOn, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [
        Update(id: "U0", size: "1MB", applicability: 0.9, install_time: Fixed("1m"), restart_probability: 0.0),
        Update(id: "U1", size: "1MB", applicability: 0.3, install_time: Fixed("1m"), restart_probability: 0.0, supersedes: ["U0"]),
        Update(id: "U2", size: "1MB", applicability: 0.3, install_time: Fixed("1m"), restart_probability: 0.0),
    ],
    deployments: [
        Deployment(name: "d0", updates: ["U2"], targets: ["c0"], created: "2026-11-09T00:00:00Z"),
        Deployment(name: "d1", updates: ["U0", "U2"], targets: ["c0"], created: "2026-11-11T18:00:00Z"),
    ],
)"#,
    );
    let (out, records) = crate::common::traced(&estate);
    assert_eq!(out.totals.updates_expired, 1);
    let expired = (records.iter())
        .find(|r| matches!(r.event, patchsim::model::TraceEvent::UpdateExpired { .. }))
        .expect("U0 expires")
        .time;
    let at_once = (records.iter())
        .filter(|r| {
            r.time == expired
                && matches!(
                    r.event,
                    patchsim::model::TraceEvent::ReportedState { deployment, to, .. }
                        if deployment.0 == 1 && to.state() == patchsim::model::Compliance::Installed
                )
        })
        .count();
    assert!(
        at_once > 0,
        "some clients are compliant for d1 at the expiry"
    );
}

/// A client truly compliant with a deployment before one of its updates
/// expires may have reported its other updates installed long before
/// the whole deployment was: once the expiry leaves only those, its
/// report of the deployment installed follows from messages already in
/// or on their way, sooner than the state-system delay after the
/// deployment's own truth. Here NET installs without a restart, a scan
/// for the feature update's policy reports it, and OCT (restart pending)
/// expires at the sync; the report of 'old' arrives with that scan's
/// batch, a day later. The checker allows it, for every seed.
#[test]
fn an_expiry_after_the_truth_lets_earlier_reports_count() {
    let text = |seed: u64| {
        format!(
            r#"Scenario(
    name: "expiry-after-truth",
    seed: {seed},
    start: "2026-11-09T00:00:00+01:00",
    duration: "14d",
    site: Site(state_system_delay: "1d"),
    servers: Servers(
        management_points: [ManagementPoint(name: "mp1")],
        update_points: [UpdatePoint(name: "sup1")],
        distribution_points: [DistributionPoint(name: "dp1")],
    ),
    sync: Sync(manual: ["2026-11-10T19:30:00+01:00"], expire_superseded_after: Some("0s")),
    cohorts: [
        Cohort(name: "a", count: 60, power: BusinessHours(), available_install_share: 1.0,
               early_install_share: 0.5, gpo_conflict: 0.05, management_point: "mp1",
               update_point: "sup1", distribution_point: "dp1"),
    ],
    updates: [
        Update(id: "OCT", size: "600MB", release: "2026-10-14T19:00:00+02:00", applicability: 0.5),
        Update(id: "NOV", size: "650MB", release: "2026-11-10T19:00:00+01:00", supersedes: ["OCT"]),
        Update(id: "NET", size: "80MB", restart_probability: 0.3),
        Update(id: "FU", size: "3GB", classification: FeatureUpgrade,
               install_time: LogNormal(median: "100m", sigma: 0.3)),
    ],
    deployments: [
        Deployment(name: "old", updates: ["OCT", "NET"], targets: ["a"],
                   created: "2026-11-09T09:00:00+01:00", deadline: "2026-11-16T09:00:00+01:00"),
        Deployment(name: "pilot", updates: ["NOV"], targets: ["a"],
                   created: "2026-11-11T09:00:00+01:00", deadline: "2026-11-12T19:00:00+01:00"),
        Deployment(name: "fu", updates: ["FU"], targets: ["a"], purpose: Available,
                   created: "2026-11-10T10:00:00+01:00"),
    ],
)"#
        )
    };
    let day = 86_400_000;
    // Seed 1: client 24's report of 'old' comes 22 h 47 min after its
    // truth, from a batch sent before that truth.
    let (_, records) = crate::common::traced(&estate_of(&text(1)));
    let mut truly = std::collections::BTreeMap::new();
    let mut sooner = 0;
    for r in &records {
        match r.event {
            TraceEvent::TrueState { deployment, to, .. }
                if deployment.0 == 0 && to.state() == Compliance::Installed =>
            {
                truly.entry(r.client).or_insert(r.time);
            }
            TraceEvent::ReportedState { deployment, to, .. }
                if deployment.0 == 0
                    && to.state() == Compliance::Installed
                    && truly
                        .get(&r.client)
                        .is_some_and(|t| r.time.since(*t).as_ms() < day) =>
            {
                sooner += 1;
            }
            _ => {}
        }
    }
    assert!(sooner > 0, "no report of 'old' sooner than the delay");
    for seed in 4..=8 {
        checked(&estate_of(&text(seed)));
    }
}

/// A deployment whose update was superseded on the client after it was
/// evaluated installs nothing at its deadline: the evaluation there, from
/// results inside the time to live, finds it done. (It used to start an
/// install of nothing and queue an "installing" message.)
#[test]
fn a_superseded_deployment_installs_nothing_at_its_deadline() {
    let estate = Scenario::new("supersede")
        .seed(5)
        .duration("5d")
        .no_site()
        .sync(r#"manual: ["2026-11-10T12:00:00Z"]"#)
        .body(
            r#"cohorts: [Cohort(name: "c", count: 100, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [
        Update(id: "OCT", size: "100MB"),
        Update(id: "NOV", size: "100MB", release: "2026-11-10T10:00:00Z", supersedes: ["OCT"]),
    ],
    deployments: [
        Deployment(name: "oct", updates: ["OCT"], targets: ["c"], created: "2026-11-09T09:00:00Z", deadline: "2026-11-12T09:00:00Z"),
        Deployment(name: "nov", updates: ["NOV"], targets: ["c"], created: "2026-11-10T14:00:00Z", deadline: "2026-11-11T09:00:00Z"),
    ],"#,
        )
        .estate();
    let (out, records) = common::traced(&estate);
    let oct_installs = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::InstallStart { deployment, .. } if deployment.index() == 0))
        .count();
    assert_eq!(oct_installs, 0, "nothing of oct is left to install");
    assert_eq!(out.totals.updates_superseded, 100);
    assert_eq!(
        count(out.deployments[0].final_truth, Compliance::NotRequired),
        100.0
    );
}
