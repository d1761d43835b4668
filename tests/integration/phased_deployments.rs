//! Phased deployments (docs/model.md, "Phased deployments"): a later
//! phase begins when the phase before it is compliant, as the site
//! database reports it, for its success percentage of its targeted
//! clients, plus the wait; or by hand at a fixed instant, never before
//! the previous phase. Its deadline counts from its begin. Every run
//! keeps the laws (`run_checked`). The times compared are exact: a phase
//! begins at the very instant its criterion is met plus the wait, so no
//! tolerance is needed.

use crate::common;

use common::estate_of;
use patchsim::engine::{SimDuration, SimTime};
use patchsim::estate::{DeploymentId, Estate};
use patchsim::model::{Outcome, PhaseReason};

const HOUR: u64 = 3_600_000;
const DAY: u64 = 24 * HOUR;

/// 400 pilot clients (a quarter of them often off) and 2,000 broad ones;
/// the pilot is created on day 1 at 10:00 with its deadline on day 2 at
/// 20:00, and `phases` follow it.
fn scenario(phases: &str) -> Estate {
    estate_of(&text(phases))
}

fn text(phases: &str) -> String {
    format!(
        r#"Scenario(
    name: "phased",
    seed: 31,
    start: "2026-11-09T00:00:00Z",
    duration: "16d",
    site: Site(content_ready_delay: Fixed("30m")),
    sync: Sync(manual: ["2026-11-10T09:00:00Z"]),
    servers: Servers(
        management_points: [ManagementPoint(name: "mp")],
        update_points: [UpdatePoint(name: "sup")],
        distribution_points: [DistributionPoint(name: "dp", bandwidth: "10Gbps", max_connections: 3000)],
    ),
    cohorts: [
        Cohort(name: "pilot", count: 300, management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "pilot-laptops", count: 100, power: Intermittent(on: Exponential(mean: "8h"), off: Exponential(mean: "16h")),
               management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "broad", count: 2000, management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "servers", count: 100, kind: Server, management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [
        Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), applicability: 0.9,
               release: "2026-11-10T08:00:00Z"),
    ],
    deployments: [
        Deployment(name: "pilot", updates: ["KB1"], targets: ["pilot", "pilot-laptops"],
                   created: "2026-11-10T10:00:00Z", deadline: "2026-11-11T20:00:00Z",
                   phases: [{phases}]),
    ],
)"#
    )
}

fn run(estate: &Estate) -> Outcome {
    patchsim::app::run_checked(estate).unwrap_or_else(|v| panic!("{v}"))
}

fn began(outcome: &Outcome, d: u16) -> Option<(SimTime, PhaseReason)> {
    outcome.deployments[usize::from(d)]
        .phase
        .expect("a phase")
        .began
}

/// The reported compliant count of deployment `d` reaches `pct` % of its
/// targeted clients first at this instant (the threshold crossings the
/// summary reports, for 50, 80, 95 and 99 %).
fn reported_reached(outcome: &Outcome, d: usize, pct: u32) -> SimTime {
    let i = patchsim::model::THRESHOLDS.iter().position(|&p| p == pct);
    outcome.deployments[d].thresholds.reported_at[i.expect("a threshold")]
        .expect("reached during the run")
}

#[test]
fn the_next_phase_begins_a_wait_after_the_previous_reaches_its_percentage() {
    let estate = scenario(r#"Phase(name: "broad", targets: ["broad"])"#);
    let outcome = run(&estate);
    let pilot_95 = reported_reached(&outcome, 0, 95);
    let phase = outcome.deployments[1].phase.expect("a phase");
    assert_eq!(phase.number, 2);
    assert_eq!(phase.previous_succeeded_at, Some(pilot_95));
    // The documented defaults: 95 %, then one day.
    let (at, why) = phase.began.expect("the broad phase began");
    assert_eq!(why, PhaseReason::PreviousSucceeded);
    assert_eq!(at, pilot_95 + SimDuration::from_ms(DAY));
    // The ring visibly waits: the pilot's laptops keep it under 95 %
    // past its deadline, and the broad phase starts after that.
    let pilot_deadline = SimTime(2 * DAY + 20 * HOUR);
    assert!(
        at > pilot_deadline + SimDuration::from_ms(DAY),
        "the broad ring began at {at}, no later than a day after the pilot's deadline"
    );
    // A deployment created when it begins, available then, its deadline
    // seven days on; no client learns it before.
    let rec = &outcome.deployments[1];
    assert_eq!(rec.created, Some(at));
    assert_eq!(rec.available, Some(at));
    assert_eq!(rec.deadline, Some(at + SimDuration::from_ms(7 * DAY)));
    let published = rec.published_at.expect("published");
    assert!(
        published >= at,
        "published at {published}, before the phase began at {at}"
    );
    let learned: Vec<SimTime> = (rec.assignments.iter())
        .map(|a| a.learned_at)
        .filter(|&t| t != SimTime::MAX)
        .collect();
    assert_eq!(learned.len(), 2000, "every broad client learns it");
    assert!(learned.iter().all(|&t| t >= published));
    // The first phase began at its creation.
    assert_eq!(
        began(&outcome, 0),
        Some((SimTime(DAY + 10 * HOUR), PhaseReason::Created))
    );
}

#[test]
fn the_success_percentage_sets_when_the_next_phase_begins() {
    let at = |pct: u32, wait: &str| {
        let estate = scenario(&format!(
            r#"Phase(name: "broad", targets: ["broad"], success_percent: {pct}, begin: AfterSuccess("{wait}"))"#
        ));
        let outcome = run(&estate);
        let (t, _) = began(&outcome, 1).expect("began");
        (t, outcome)
    };
    let (at_50, outcome) = at(50, "0s");
    assert_eq!(at_50, reported_reached(&outcome, 0, 50));
    let (at_80, outcome) = at(80, "2h");
    assert_eq!(
        at_80,
        reported_reached(&outcome, 0, 80) + SimDuration::from_ms(2 * HOUR)
    );
    let (at_95, _) = at(95, "0s");
    let (at_99, outcome) = at(99, "0s");
    assert_eq!(at_99, reported_reached(&outcome, 0, 99));
    assert!(at_50 < at_95 && at_95 < at_99, "{at_50} {at_95} {at_99}");
    // Only the next phase's timing changes: the pilot's run is the same.
    assert_eq!(reported_reached(&outcome, 0, 50), at_50);
}

#[test]
fn a_phase_whose_previous_never_succeeds_never_begins() {
    // A few pilot laptops have a GPO naming another update server: they
    // stay Unknown, and 100 % is never reached.
    let text = text(r#"Phase(name: "broad", targets: ["broad"], success_percent: 100)"#);
    let estate =
        estate_of(&text.replace("count: 100, power", "count: 100, gpo_conflict: 0.2, power"));
    let outcome = run(&estate);
    assert!(outcome.gpo_conflicts.iter().sum::<u32>() > 0);
    let rec = &outcome.deployments[1];
    assert_eq!(rec.phase.expect("a phase").began, None);
    assert_eq!(rec.created, None);
    assert_eq!(rec.published_at, None);
    assert!(rec.assignments.iter().all(|a| a.learned_at == SimTime::MAX));
    let summary = patchsim::output::summary(&estate, &outcome);
    let json = serde_json::to_value(&summary.deployments[1]).expect("serialises");
    assert!(json["created_h"].is_null());
    assert!(json["phase"]["started_h"].is_null());
    assert_eq!(json["phase"]["success_percent"], 100);
}

#[test]
fn a_manual_phase_begins_at_its_instant_but_not_before_the_previous() {
    // The servers' phase by hand on day 12 at noon, after the broad one.
    let estate = scenario(
        r#"Phase(name: "broad", targets: ["broad"]),
           Phase(name: "servers", targets: ["servers"], begin: Manual("2026-11-21T12:00:00Z"), deadline_after: "0s")"#,
    );
    let outcome = run(&estate);
    let noon = SimTime(12 * DAY + 12 * HOUR);
    assert_eq!(began(&outcome, 2), Some((noon, PhaseReason::Manual)));
    assert_eq!(outcome.deployments[2].deadline, Some(noon));
    assert_eq!(
        outcome.deployments[2]
            .phase
            .expect("a phase")
            .previous_succeeded_at,
        None
    );
    // By hand before the broad phase began: it begins with it.
    let estate = scenario(
        r#"Phase(name: "broad", targets: ["broad"]),
           Phase(name: "servers", targets: ["servers"], begin: Manual("2026-11-10T12:00:00Z"))"#,
    );
    let outcome = run(&estate);
    let (broad, _) = began(&outcome, 1).expect("the broad phase began");
    assert_eq!(began(&outcome, 2), Some((broad, PhaseReason::Manual)));
}

#[test]
fn phases_are_deployments_of_the_same_updates() {
    let estate = scenario(
        r#"Phase(name: "broad", targets: ["broad"]), Phase(name: "servers", targets: ["servers"])"#,
    );
    assert_eq!(estate.deployments.len(), 3);
    assert_eq!(estate.deployments[0].next_phase, Some(DeploymentId(1)));
    assert_eq!(estate.deployments[1].next_phase, Some(DeploymentId(2)));
    let phase = estate.deployments[2].phase.as_ref().expect("a phase");
    assert_eq!((phase.number, phase.previous), (3, DeploymentId(1)));
    assert_eq!(estate.deployments[2].updates, estate.deployments[0].updates);
}

#[test]
fn bad_phases_name_their_field_and_the_range() {
    let problems = |phases: &str| {
        let text = text(phases);
        let raw = patchsim::scenario::parse(&text, "t.ron");
        match raw {
            Err(e) => e.to_string(),
            Ok(raw) => match patchsim::scenario::build(raw, "t.ron") {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {phases}"),
            },
        }
    };
    let e = problems(r#"Phase(name: "broad", targets: ["broad"], success_percent: 0)"#);
    assert!(
        e.contains("deployments[0].phases[0].success_percent")
            && e.contains("between 1 and 100, got 0"),
        "{e}"
    );
    let e = problems(r#"Phase(name: "pilot", targets: ["broad"])"#);
    assert!(
        e.contains("deployments[0].phases[0].name") && e.contains("already used by deployments[0]"),
        "{e}"
    );
    let e = problems(r#"Phase(name: "broad", targets: ["broad"], begin: AfterSuccess("400d"))"#);
    assert!(
        e.contains("deployments[0].phases[0].begin") && e.contains("between"),
        "{e}"
    );
    let e = problems(
        r#"Phase(name: "broad", targets: ["broad"], begin: Manual("2026-11-10T09:00:00Z"))"#,
    );
    assert!(e.contains("before the phased deployment is created"), "{e}");
    let e = problems(r#"Phase(name: "broad", targets: ["brod"])"#);
    assert!(
        e.contains("phases[0].targets[0]") && e.contains("unknown cohort 'brod'"),
        "{e}"
    );
    let e = problems(r#"Phase(name: "broad", targets: ["broad"], wait: "1d")"#);
    assert!(e.contains("unknown field") && e.contains("wait"), "{e}");
}

/// "Gradually make this software available over this period": each
/// client of the phase gets its own available time within the period
/// after the phase's, and its deadline as far after the phase's deadline
/// (the window between them is the same for every client). No client
/// starts its download before its own available time, and the offsets
/// spread over the whole period: their mean is half of it, within 4.5
/// standard errors of a uniform draw over it.
#[test]
fn a_phase_made_available_gradually_spreads_its_clients() {
    let estate = scenario(r#"Phase(name: "broad", targets: ["broad"], gradually_over: "3d")"#);
    let (outcome, records) = common::traced(&estate);
    let rec = &outcome.deployments[1];
    let (available, deadline) = (rec.available.expect("began"), rec.deadline.expect("begun"));
    let over = 3 * DAY;
    let offsets: Vec<u64> = (rec.assignments.iter())
        .filter(|a| a.deadline_at() != SimTime::MAX)
        .map(|a| a.deadline_at().since(deadline).as_ms())
        .collect();
    assert_eq!(offsets.len(), 2000);
    assert!(offsets.iter().all(|&o| o <= over));
    let n = offsets.len() as f64;
    let mean = offsets.iter().sum::<u64>() as f64 / n;
    let sd = over as f64 / 12f64.sqrt();
    assert!(
        (mean - over as f64 / 2.0).abs() <= 4.5 * sd / n.sqrt(),
        "mean offset {:.3} d",
        mean / DAY as f64
    );
    // Each client's first download of the phase starts at or after its own
    // available time.
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        if let patchsim::model::TraceEvent::DownloadStart { deployment, .. } = r.event
            && deployment == DeploymentId(1)
            && let Some(c) = r.client
            && seen.insert(c)
        {
            let a = &rec.assignments[c.0 as usize];
            let own = available + a.deadline_at().since(deadline);
            assert!(
                r.time >= own,
                "client {c:?} downloads at {} before {own}",
                r.time
            );
        }
    }
    assert!(
        seen.len() > 1500,
        "most broad clients download: {}",
        seen.len()
    );
    // The same phase all at once: every deadline is the phase's.
    let at_once = run(&scenario(r#"Phase(name: "broad", targets: ["broad"])"#));
    let d = at_once.deployments[1].deadline.expect("begun");
    assert!(
        (at_once.deployments[1].assignments.iter())
            .filter(|a| a.deadline_at() != SimTime::MAX)
            .all(|a| a.deadline_at() == d)
    );
}

/// The success criterion as a number of devices: the next phase's wait
/// starts at the instant the site database first shows that many of the
/// previous phase's clients compliant.
#[test]
fn a_device_count_criterion_sets_when_the_next_phase_begins() {
    let estate = scenario(
        r#"Phase(name: "broad", targets: ["broad"], success_devices: 200, begin: AfterSuccess("2h"))"#,
    );
    let outcome = run(&estate);
    let mut reported: Vec<SimTime> = (outcome.deployments[0].assignments.iter())
        .map(|a| a.reported_compliant_at)
        .filter(|&t| t != SimTime::MAX)
        .collect();
    reported.sort_unstable();
    let phase = outcome.deployments[1].phase.expect("a phase");
    assert_eq!(phase.previous_succeeded_at, Some(reported[199]));
    let (at, why) = phase.began.expect("began");
    assert_eq!(why, PhaseReason::PreviousSucceeded);
    assert_eq!(at, reported[199] + SimDuration::from_ms(2 * HOUR));
    let summary = patchsim::output::summary(&estate, &outcome);
    let text = patchsim::output::summary_text(&summary, &[]);
    assert!(
        text.contains("(200 clients of the previous phase compliant in the site database)"),
        "{text}"
    );
}

/// Bad values of either setting name the field and the allowed range.
#[test]
fn gradual_and_device_settings_are_checked() {
    let cases = [
        (
            r#"Phase(name: "broad", targets: ["broad"], gradually_over: "31d")"#,
            "deployments[0].phases[0].gradually_over: must be between 0s and 30d, got 31d",
        ),
        (
            r#"Phase(name: "broad", targets: ["broad"], success_devices: 401)"#,
            "deployments[0].phases[0].success_devices: must be from 1 to 400 (the clients the phase before it targets), got 401",
        ),
        (
            r#"Phase(name: "broad", targets: ["broad"], success_devices: 0)"#,
            "deployments[0].phases[0].success_devices: must be from 1 to 400",
        ),
    ];
    for (phase, expected) in cases {
        let msg = common::build_error(&text(phase));
        assert!(msg.contains(expected), "{phase}: {msg}");
    }
    let unphased = text("").replace("phases: []),", r#"phases: [], gradually_over: "2d"),"#);
    let msg = common::build_error(&unphased);
    assert!(
        msg.contains("deployments[0].gradually_over: only a phased deployment makes its software available gradually"),
        "{msg}"
    );
}
