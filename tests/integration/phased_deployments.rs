//! Phased deployments (docs/model.md, "Phased deployments"): a later
//! phase begins when the phase before it is compliant, as the site
//! database reports it, for its success percentage of its targeted
//! clients, plus the wait; or by hand at a fixed instant, never before
//! the previous phase. Its deadline counts from its begin. Every run
//! keeps the laws (`run_checked`). The times compared are exact: a phase
//! begins at the very instant its criterion is met plus the wait, so no
//! tolerance is needed.

use crate::common;

use common::{FAST_DP, Scenario, checked, estate_of};
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
    Scenario::new("phased")
        .seed(31)
        .duration("16d")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dp(FAST_DP)
        .body(&format!(
            r#"cohorts: [
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
    ],"#
        ))
        .text()
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
    let outcome = checked(&estate);
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
    // compliance.csv counts a later phase's hours from its begin, and
    // leaves them empty until then; the first phase's are negative before
    // its creation.
    let csv = patchsim::output::compliance_csv(&estate, &outcome);
    let (mut before, mut after) = (0, 0);
    for line in csv.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (t, hours, name) = (SimTime(f[0].parse().expect("ms")), f[2], f[5]);
        match name {
            "broad" if t < at => {
                assert_eq!(hours, "", "{line}");
                before += 1;
            }
            "broad" => {
                let h: f64 = hours.parse().expect("hours");
                assert!(
                    (h - t.since(at).as_ms() as f64 / HOUR as f64).abs() < 1e-3,
                    "{line}"
                );
                after += 1;
            }
            _ if t < SimTime(DAY + 10 * HOUR) => {
                assert!(hours.starts_with('-'), "{line}");
            }
            _ => {}
        }
    }
    assert!(
        before > 0 && after > 0,
        "{before} rows before, {after} after"
    );
}

#[test]
fn the_success_percentage_sets_when_the_next_phase_begins() {
    let at = |pct: u32, wait: &str| {
        let estate = scenario(&format!(
            r#"Phase(name: "broad", targets: ["broad"], success_percent: {pct}, begin: AfterSuccess("{wait}"))"#
        ));
        let outcome = checked(&estate);
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
    let outcome = checked(&estate);
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
    let outcome = checked(&estate);
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
    let outcome = checked(&estate);
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
        e.contains("deployments[0] (pilot).phases[0] (broad).success_percent")
            && e.contains("between 1 and 100, got 0"),
        "{e}"
    );
    let e = problems(r#"Phase(name: "pilot", targets: ["broad"])"#);
    assert!(
        e.contains("deployments[0] (pilot).phases[0] (pilot).name")
            && e.contains("already used by deployments[0]"),
        "{e}"
    );
    let e = problems(r#"Phase(name: "broad", targets: ["broad"], begin: AfterSuccess("400d"))"#);
    assert!(
        e.contains("deployments[0] (pilot).phases[0] (broad).begin") && e.contains("between"),
        "{e}"
    );
    let e = problems(
        r#"Phase(name: "broad", targets: ["broad"], begin: Manual("2026-11-10T09:00:00Z"))"#,
    );
    assert!(e.contains("before the phased deployment is created"), "{e}");
    let e = problems(r#"Phase(name: "broad", targets: ["brod"])"#);
    assert!(
        e.contains("phases[0] (broad).targets[0]") && e.contains("unknown cohort 'brod'"),
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
    let at_once = checked(&scenario(r#"Phase(name: "broad", targets: ["broad"])"#));
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
    let outcome = checked(&estate);
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
            "deployments[0] (pilot).phases[0] (broad).gradually_over: must be between 0s and 30d, got 31d",
        ),
        (
            r#"Phase(name: "broad", targets: ["broad"], success_devices: 401)"#,
            "deployments[0] (pilot).phases[0] (broad).success_devices: must be from 1 to 400 (the clients the phase before it targets), got 401",
        ),
        (
            r#"Phase(name: "broad", targets: ["broad"], success_devices: 0)"#,
            "deployments[0] (pilot).phases[0] (broad).success_devices: must be from 1 to 400",
        ),
    ];
    for (phase, expected) in cases {
        let msg = common::build_error(&text(phase));
        assert!(msg.contains(expected), "{phase}: {msg}");
    }
    let unphased = text("").replace("phases: []),", r#"phases: [], gradually_over: "2d"),"#);
    let msg = common::build_error(&unphased);
    assert!(
        msg.contains("deployments[0] (pilot).gradually_over: only a phased deployment makes its software available gradually"),
        "{msg}"
    );
}

/// The test scenario with the pilot's phased deployment suspended and
/// resumed as `suspensions` says (RON, the list's entries).
fn suspended(phases: &str, suspensions: &str) -> Estate {
    estate_of(&text(phases).replace(
        "phases: [",
        &format!("suspensions: [{suspensions}], phases: ["),
    ))
}

/// `day` days and `hour` hours after the start, as the scenario writes it.
fn instant(day: u64, hour: u64) -> String {
    let t = day * 24 + hour;
    format!("2026-11-{:02}T{:02}:00:00Z", 9 + t / 24, t % 24)
}

/// Suspending a phased deployment stops further devices from running it:
/// each client learns the suspension at its next policy poll and starts no
/// download or install of it until it learns the resume (the law checker
/// holds every traced client to that); what runs already finishes. The
/// pilot is suspended two hours after its content is in policy, before
/// its deadline, and resumed a day after the deadline: no pilot install
/// starts before the resume, the always-on pilot clients each learn both
/// within an hour (their polling interval), and they install promptly
/// after the resume, since their deadline has passed.
#[test]
fn a_suspension_holds_the_rollout_until_the_resume() {
    let (suspend, resume) = (SimTime(DAY + 12 * HOUR), SimTime(3 * DAY + 20 * HOUR));
    let estate = suspended(
        r#"Phase(name: "broad", targets: ["broad"])"#,
        &format!(
            r#"Suspension(at: "{}", resume: "{}")"#,
            instant(1, 12),
            instant(3, 20)
        ),
    );
    let (outcome, trace) = common::traced(&estate);
    let pilot = DeploymentId(0);
    let of = |name: &str, c: u32| {
        trace.iter().find(|r| {
            r.client.map(|k| k.0) == Some(c)
                && r.event.name() == name
                && r.event.deployment() == Some(&pilot)
        })
    };
    // The always-on pilot clients (the first 300) knew the deployment by
    // then: each learns the suspension and the resume within an hour.
    for c in 0..300 {
        let off = of("policy_disabled", c).unwrap_or_else(|| panic!("client {c} learns it"));
        assert!(off.time >= suspend && off.time < suspend + SimDuration::from_ms(HOUR));
        let on = of("policy_enabled", c).unwrap_or_else(|| panic!("client {c} learns it"));
        assert!(on.time >= resume && on.time < resume + SimDuration::from_ms(HOUR));
    }
    let trace_names: Vec<&str> = (trace.iter())
        .filter(|r| r.client.is_none())
        .map(|r| r.event.name())
        .collect();
    assert!(trace_names.contains(&"phase_suspended") && trace_names.contains(&"phase_resumed"));
    // An install before the resume is one of a client that had not
    // learned the suspension yet (here: none); the always-on clients the
    // update applies to install within two hours of the resume.
    let started: Vec<(u32, SimTime)> = (outcome.deployments[0].assignments.iter())
        .enumerate()
        .map(|(c, a)| (c as u32, a.install_started_at))
        .filter(|&(_, t)| t != SimTime::MAX)
        .collect();
    assert!(started.len() > 300, "{} installs", started.len());
    for &(c, t) in started.iter().filter(|&&(_, t)| t < resume) {
        let learned = of("policy_disabled", c);
        assert!(
            learned.is_none_or(|r| r.time > t),
            "client {c} installed at {t} after it learned the suspension"
        );
    }
    let early = started.iter().filter(|&&(_, t)| t < resume).count();
    assert_eq!(
        early, 0,
        "every pilot client learned it before its deadline"
    );
    let prompt = (outcome.deployments[0].assignments.range(0..300))
        .filter(|a| a.install_started_at != SimTime::MAX)
        .filter(|a| a.install_started_at < resume + SimDuration::from_ms(2 * HOUR))
        .count();
    let required = (outcome.deployments[0].assignments.range(0..300))
        .filter(|a| a.install_started_at != SimTime::MAX)
        .count();
    assert_eq!(
        prompt, required,
        "always-on clients install promptly after the resume"
    );
    // explain tells the hold: the client's install waits for the resume,
    // and its verdict counts the time it knew the deployment suspended.
    let c = (0..300)
        .find(|&c| outcome.deployments[0].assignments[c].install_started_at != SimTime::MAX)
        .expect("an always-on client installs");
    let story = patchsim::app::explain(&estate, c as u32, false).expect("explains");
    for words in [
        "is disabled (its phased deployment is suspended): it starts none of its steps",
        "is enabled again (its phased deployment is resumed)",
        "held by the suspension of its phased deployment until it learned the resume",
        "it knew its phased deployment suspended for 2d",
    ] {
        assert!(story.contains(words), "{words}: {story}");
    }
    // Without the suspension the same clients install at the deadline.
    let plain = checked(&scenario(r#"Phase(name: "broad", targets: ["broad"])"#));
    let before = (plain.deployments[0].assignments.iter())
        .filter(|a| a.install_started_at < resume)
        .count();
    assert!(
        before > 250,
        "{before} installs before the resume without it"
    );
}

/// A phase whose begin falls due while its phased deployment is
/// suspended begins at the resume, with its reason kept and the hold
/// shown; a phase due after the resume is not moved.
#[test]
fn a_phase_due_while_suspended_begins_at_the_resume() {
    let broad = r#"Phase(name: "broad", targets: ["broad"])"#;
    let plain = checked(&scenario(broad));
    let (due, _) = plain.deployments[1]
        .phase
        .expect("a phase")
        .began
        .expect("began");
    // Suspended from a whole hour before the broad ring was due until 10
    // hours after.
    let hour = due.as_ms() / HOUR;
    let (from, to) = (hour - 1, hour + 10);
    let estate = suspended(
        broad,
        &format!(
            r#"Suspension(at: "{}", resume: "{}")"#,
            instant(from / 24, from % 24),
            instant(to / 24, to % 24)
        ),
    );
    let outcome = checked(&estate);
    let phase = outcome.deployments[1].phase.expect("a phase");
    assert_eq!(
        phase.began,
        Some((SimTime(to * HOUR), PhaseReason::PreviousSucceeded))
    );
    assert!(phase.held);
    // The pilot's compliance chart shows the suspension as a grey band
    // whose legend gives its instants; the broad ring's starts at the
    // resume, after it.
    let files = patchsim::output::run_files(&estate, &outcome);
    let svg = |name: &str| {
        let (_, svg) =
            (files.iter().find(|(n, _)| n == name)).unwrap_or_else(|| panic!("{name} written"));
        svg.clone()
    };
    let pilot = svg("compliance-0-pilot.svg");
    assert!(pilot.contains("phased deployment suspended:") && pilot.contains("#CDCDCD"));
    assert!(!svg("compliance-1-broad.svg").contains("phased deployment suspended:"));
    assert_eq!(
        phase.previous_succeeded_at,
        plain.deployments[1]
            .phase
            .expect("a phase")
            .previous_succeeded_at,
        "the pilot's success is unchanged: it had installed before"
    );
    let summary = patchsim::output::summary(&estate, &outcome);
    let text = patchsim::output::summary_text(&summary, &[]);
    assert!(
        text.contains("when the phased deployment was resumed")
            && text.contains(&format!("suspended at {}", format_hours(from))),
        "{text}"
    );
    // Resumed before the phase was due: it begins when it would have.
    let early = suspended(
        broad,
        &format!(
            r#"Suspension(at: "{}", resume: "{}")"#,
            instant((hour - 3) / 24, (hour - 3) % 24),
            instant((hour - 2) / 24, (hour - 2) % 24)
        ),
    );
    let phase = checked(&early).deployments[1].phase.expect("a phase");
    assert_eq!(phase.began.map(|(t, _)| t), Some(due));
    assert!(!phase.held);
}

fn format_hours(h: u64) -> String {
    format!("{}d {:02}h", h / 24, h % 24)
}

/// Suspended before the deadline and never resumed: nothing of the pilot
/// installs, no later phase begins, and the printed summary says why.
#[test]
fn a_suspension_never_resumed_stops_the_rollout() {
    let estate = suspended(
        r#"Phase(name: "broad", targets: ["broad"]), Phase(name: "servers", targets: ["servers"], begin: Manual("2026-11-15T00:00:00Z"))"#,
        &format!(r#"Suspension(at: "{}")"#, instant(1, 12)),
    );
    let (outcome, _) = common::traced(&estate);
    assert!(
        (outcome.deployments[0].assignments.iter()).all(|a| a.install_started_at == SimTime::MAX)
    );
    assert_eq!(
        outcome.deployments[0].final_truth[0], 0,
        "nothing installed"
    );
    assert!(began(&outcome, 1).is_none() && began(&outcome, 2).is_none());
    let summary = patchsim::output::summary(&estate, &outcome);
    let text = patchsim::output::summary_text(&summary, &[]);
    assert!(
        text.contains("suspended at 1d 12h, never resumed"),
        "{text}"
    );
}

/// Suspensions are checked: only a phased deployment has them, each after
/// the creation and the resume before it, each resume after its
/// suspension, and only the last may last to the end.
#[test]
fn suspensions_are_checked() {
    let broad = r#"Phase(name: "broad", targets: ["broad"])"#;
    let cases = [
        (
            r#"Suspension(at: "2026-11-10T09:00:00Z")"#,
            "deployments[0] (pilot).suspensions[0].at: 2026-11-10T09:00:00Z is before the phased deployment is created",
        ),
        (
            r#"Suspension(at: "2026-11-11T09:00:00Z", resume: "2026-11-11T09:00:00Z")"#,
            "deployments[0] (pilot).suspensions[0].resume: 2026-11-11T09:00:00Z is not after the suspension",
        ),
        (
            r#"Suspension(at: "2026-11-11T09:00:00Z"), Suspension(at: "2026-11-12T09:00:00Z")"#,
            "deployments[0] (pilot).suspensions[0].resume: only the last suspension may last to the end",
        ),
        (
            r#"Suspension(at: "2026-11-11T09:00:00Z", resume: "2026-11-13T09:00:00Z"), Suspension(at: "2026-11-12T09:00:00Z")"#,
            "deployments[0] (pilot).suspensions[1].at: 2026-11-12T09:00:00Z is before the resume before it",
        ),
        (
            r#"Suspension(at: "2026-11-11T09:00:00Z", until: "2026-11-13T09:00:00Z")"#,
            "unknown field",
        ),
    ];
    for (list, expected) in cases {
        let text = text(broad).replace("phases: [", &format!("suspensions: [{list}], phases: ["));
        let msg = common::build_error(&text);
        assert!(msg.contains(expected), "{list}: {msg}");
    }
    let unphased = text("").replace(
        "phases: []),",
        r#"phases: [], suspensions: [Suspension(at: "2026-11-11T09:00:00Z")]),"#,
    );
    let msg = common::build_error(&unphased);
    assert!(
        msg.contains(
            "deployments[0] (pilot).suspensions: only a phased deployment is suspended and resumed"
        ),
        "{msg}"
    );
}

/// In a hierarchy the administrator acts at the CAS: a suspension, its
/// resume and a later phase's begin each reach a primary after that
/// primary's replication delay, as a deployment does. The pilot's
/// always-on clients are in a primary 3 hours of replication away, the
/// broad ring in one 2 hours away.
#[test]
fn in_a_hierarchy_a_suspension_and_a_phase_reach_each_primary_by_replication() {
    let text = text(r#"Phase(name: "broad", targets: ["broad"])"#)
        .replace(
            "phases: [",
            &format!(
                r#"suspensions: [Suspension(at: "{}", resume: "{}")], phases: ["#,
                instant(1, 12),
                instant(1, 20)
            ),
        )
        .replace(
            r#"site: Site(content_ready_delay: Fixed("30m")),"#,
            r#"site: Site(code: "CAS", content_ready_delay: Fixed("30m")),
    primaries: [Primary(code: "P01", replication_delay: "2h"), Primary(code: "P02", replication_delay: "3h")],"#,
        )
        .replace(
            r#"management_points: [ManagementPoint(name: "mp")],
        update_points: [UpdatePoint(name: "sup")],
        distribution_points: [DistributionPoint(name: "dp", bandwidth: "10Gbps", max_connections: 3000)],"#,
            r#"management_points: [ManagementPoint(name: "mp", site: "P01"), ManagementPoint(name: "mp2", site: "P02")],
        update_points: [UpdatePoint(name: "sup", site: "P01"), UpdatePoint(name: "sup2", site: "P02")],
        distribution_points: [DistributionPoint(name: "dp", site: "P01", bandwidth: "10Gbps", max_connections: 3000),
                              DistributionPoint(name: "dp2", site: "P02", bandwidth: "10Gbps", max_connections: 3000)],"#,
        )
        .replace(
            r#"Cohort(name: "pilot", count: 300, management_point: "mp", update_point: "sup", distribution_point: "dp"),"#,
            r#"Cohort(name: "pilot", count: 300, management_point: "mp2", update_point: "sup2", distribution_point: "dp2"),"#,
        );
    let estate = estate_of(&text);
    let (outcome, trace) = common::traced(&estate);
    let first = |name: &str, d: u16, clients: std::ops::Range<u32>| {
        (trace.iter())
            .filter(|r| r.client.is_some_and(|c| clients.contains(&c.0)))
            .filter(|r| r.event.name() == name && r.event.deployment() == Some(&DeploymentId(d)))
            .map(|r| r.time)
            .min()
            .unwrap_or_else(|| panic!("{name} of deployment {d}"))
    };
    let (suspend, resume) = (SimTime(DAY + 12 * HOUR), SimTime(DAY + 20 * HOUR));
    let hours = |h: u64| SimDuration::from_ms(h * HOUR);
    // The pilot (clients 0..300, at P02) learns each change 3 to 4 hours
    // after the administrator made it: 3 hours of replication, then its
    // next hourly poll.
    let off = first("policy_disabled", 0, 0..300);
    assert!(
        off >= suspend + hours(3) && off < suspend + hours(4),
        "{off}"
    );
    let on = first("policy_enabled", 0, 0..300);
    assert!(on >= resume + hours(3) && on < resume + hours(4), "{on}");
    // The broad ring (clients 400..2,400, at P01) learns its phase 2 to 3
    // hours after it began.
    let (began, _) = began(&outcome, 1).expect("the broad ring began");
    let learned = first("policy_received", 1, 400..2_400);
    assert!(
        learned >= began + hours(2) && learned < began + hours(3),
        "{learned} vs {began}"
    );
}

/// A client that learns its deployment's phased deployment is suspended
/// while it waits for the MP's answer to where the content is does not
/// start the download (law 7). Found by the long property test: client 87
/// powers on, scans, asks where d0's content is, and the policy answer
/// with the suspension comes 26 ms before the location answer.
#[test]
fn a_suspension_learned_while_locating_content_stops_the_download() {
    let estate = estate_of(
        r#"Scenario(
    name: "property",
    seed: 17494507463535866532,
    start: "2026-11-09T00:00:00Z",
    duration: "2d",
    sample_interval: "30m",
    sync: Sync(initially_synced: false, schedule_interval: "1d", manual: [], catalog: WsusCatalog(updates: 12000)),
    site: Site(code: "CAS"),
    primaries: [Primary(code: "P01", replication_delay: "5m"), Primary(code: "P02", replication_delay: "10m")],
    servers: Servers(management_points: [ManagementPoint(name: "mp00", site: "P01"), ManagementPoint(name: "mp10", site: "P02")], update_points: [UpdatePoint(name: "sup00", site: "P01"), UpdatePoint(name: "sup10", site: "P02"), UpdatePoint(name: "sup11", site: "P02")], distribution_points: [DistributionPoint(name: "dp00", site: "P01"), DistributionPoint(name: "dp01", site: "P01"), DistributionPoint(name: "dp10", site: "P02")]),
    faults: [Fault(server: "mp10", start: "2026-11-10T23:00:00Z", end: "2026-11-11T10:00:00Z", effect: Down)],
    client_settings: ClientSettings(policy_polling_interval: "60m", state_message_interval: "1h", scan_interval: "1d", reevaluation_interval: "12h", deadline_randomization: true, restart_countdown: "30m", updates_in_all_deployments_windows: false),
    cohorts: [
        Cohort(name: "c0", count: 7, kind: Workstation, power: AlwaysOn, link: "2Mbps", management_point: "mp10", update_point: "sup11", distribution_point: "dp10", gpo_conflict: 0.0, state_message_loss: 0.0, maintenance_windows: [], failure_probability: 0.0, available_install_share: 0.0),
        Cohort(name: "c1", count: 61, kind: Server, power: Intermittent(on: Exponential(mean: "2h"), off: Exponential(mean: "3h")), link: "1Gbps", management_point: "mp00", update_point: "sup00", distribution_point: "dp01", gpo_conflict: 0.0, state_message_loss: 0.3, maintenance_windows: [], failure_probability: 0.0, available_install_share: 0.0, content_sources: ContentSources(peer_cache: 0.5, peer_link: "10Mbps"), co_managed: 0.3),
        Cohort(name: "c2", count: 54, kind: Workstation, power: BusinessHours(start: "06:00", end: "16:00", jitter: "47m"), link: "20Mbps", management_point: "mp00", update_point: "sup00", distribution_point: "dp00", gpo_conflict: 0.5, state_message_loss: 0.0, maintenance_windows: [], failure_probability: 0.0, available_install_share: 0.0, client_settings: ClientSettings(policy_polling_interval: "15m"), content_sources: ContentSources(branch_cache: 0.3, delivery_optimization: 0.2)),
    ],
    updates: [
        Update(id: "U0", size: "1MB", classification: Security, applicability: 1.0, install_time: Fixed("11m"), restart_probability: 0.5, failure_probability: 0.0, express_size: "250KB"),
        Update(id: "U1", size: "1MB", classification: FeatureUpgrade, applicability: 1.0, install_time: Fixed("76m"), restart_probability: 0.0, failure_probability: 0.2, release: "2026-11-09T06:00:00Z"),
    ],
    deployments: [
        Deployment(name: "d0", updates: ["U0"], targets: ["c2"], purpose: Required, created: "2026-11-09T15:00:00Z", available: "2026-11-09T18:00:00Z", honor_maintenance_windows: false, suppress_restart: [], deadline: "2026-11-09T18:00:00Z", phases: [Phase(name: "d0-phase2", targets: ["c0", "c1"], success_percent: 66, begin: Manual("2026-11-09T18:00:00Z"), deadline_after: "0h")], suspensions: [Suspension(at: "2026-11-09T17:00:00Z")], microsoft_update_fallback: true),
        Deployment(name: "d1", updates: ["U1"], targets: ["c0", "c1", "c2"], purpose: Required, created: "2026-11-10T11:00:00Z", available: "2026-11-10T14:00:00Z", honor_maintenance_windows: false, suppress_restart: [], deadline: "2026-11-11T11:00:00Z"),
        Deployment(name: "d2", updates: ["U0"], targets: ["c1"], purpose: Required, created: "2026-11-10T03:00:00Z", available: "2026-11-10T03:00:00Z", honor_maintenance_windows: false, suppress_restart: [Workstation]),
    ],
)"#,
    );
    let outcome = checked(&estate);
    assert_eq!(outcome.end, estate.end());
}

/// A download under way from a peer when the client learns its phased
/// deployment suspended goes on from the DP when the peer leaves: that is
/// no new start (law 7). Found by the long property test (client 39).
#[test]
fn a_download_under_way_outlives_a_suspension_when_its_peer_leaves() {
    let estate = estate_of(
        r#"Scenario(
    name: "property",
    seed: 7095640974386908103,
    start: "2026-11-09T00:00:00Z",
    duration: "2d",
    sample_interval: "30m",
    sync: Sync(initially_synced: true, schedule_interval: "1d", manual: []),
    servers: Servers(management_points: [ManagementPoint(name: "mp00")], update_points: [UpdatePoint(name: "sup00"), UpdatePoint(name: "sup01")], distribution_points: [DistributionPoint(name: "dp00")]),
    faults: [Fault(server: "dp00", start: "2026-11-10T07:00:00Z", end: "2026-11-10T16:00:00Z", effect: Down), Fault(server: "sup00", start: "2026-11-09T21:00:00Z", end: "2026-11-10T04:00:00Z", effect: Slow(50.0))],
    client_settings: ClientSettings(policy_polling_interval: "15m", state_message_interval: "5m", scan_interval: "6h", reevaluation_interval: "12h", deadline_randomization: false, restart_countdown: "30m", updates_in_all_deployments_windows: false),
    cohorts: [
        Cohort(name: "c0", count: 82, kind: Workstation, power: Intermittent(on: Exponential(mean: "1h"), off: Exponential(mean: "4h")), link: "2Mbps", management_point: "mp00", update_point: "sup01", fallback_update_points: ["sup00"], distribution_point: "dp00", gpo_conflict: 0.0, state_message_loss: 0.0, maintenance_windows: [], failure_probability: 0.0, available_install_share: 0.0, client_settings: ClientSettings(policy_polling_interval: "15m"), content_sources: ContentSources(peer_cache: 0.3, delivery_optimization: 0.3, express: 0.5, cache_size: "300MB"), co_managed: 0.3),
        Cohort(name: "c1", count: 1, kind: Workstation, power: AlwaysOn, link: "2Mbps", management_point: "mp00", update_point: "sup00", distribution_point: "dp00", gpo_conflict: 0.0, state_message_loss: 0.0, maintenance_windows: [], failure_probability: 0.0, available_install_share: 0.0),
    ],
    updates: [
        Update(id: "U0", size: "432MB", classification: Security, applicability: 0.3, install_time: Fixed("1m"), restart_probability: 0.0, failure_probability: 0.0, release: "2026-11-09T03:00:00Z"),
    ],
    deployments: [
        Deployment(name: "d0", updates: ["U0"], targets: ["c0"], purpose: Required, created: "2026-11-10T20:00:00Z", available: "2026-11-10T20:00:00Z", honor_maintenance_windows: false, suppress_restart: []),
        Deployment(name: "d1", updates: ["U0"], targets: ["c0"], purpose: Required, created: "2026-11-10T01:00:00Z", available: "2026-11-10T02:00:00Z", honor_maintenance_windows: false, suppress_restart: [Workstation], phases: [Phase(name: "d1-phase2", targets: ["c1"], success_percent: 75, begin: Manual("2026-11-10T02:00:00Z"), deadline_after: "0h")], suspensions: [Suspension(at: "2026-11-10T02:00:00Z")], microsoft_update_fallback: true),
    ],
)"#,
    );
    let outcome = checked(&estate);
    assert!(outcome.totals.peer_fallbacks > 0);
}

/// A phased deployment created after the run ends: the summary says it
/// was never created (when it was due), its later phases that the first
/// never began, and the report marks the instants past the end.
#[test]
fn a_rollout_due_after_the_end_says_so() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = root.join("scenarios/rings.ron");
    // rings.ron run for `duration` (`None`: its own), into `out`: what it printed.
    let run = |duration: Option<&str>, out: &str| {
        let set = duration.map(|d| format!("duration={d}"));
        let mut args = vec!["run", scenario.to_str().unwrap(), "-o", out];
        if let Some(set) = &set {
            args.extend(["--set", set.as_str()]);
        }
        let o = common::patchsim(&args, dir.path());
        common::assert_ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let text = run(Some("2d"), "out");
    for expected in [
        "2026-11 CU pilot (required, 400 clients): not created by the end (due Wed 11 Nov 09:00)",
        "phase 2 of '2026-11 CU pilot': not begun; the previous phase never began",
        "phase 3 of '2026-11 CU pilot': not begun; the previous phase never began",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    let html = std::fs::read_to_string(dir.path().join("out/report.html")).unwrap();
    assert!(
        html.contains("(hour 57 since the start) (after the end of the run)"),
        "the report marks the creation past the end"
    );
    // Cut at the very instant of the creation, the run creates the pilot
    // (its last events are handled) and says so.
    let text = run(Some("57h"), "at-the-end");
    for expected in [
        "2026-11 CU pilot (required, 400 clients): created Wed 11 Nov 09:00,",
        "phase 2 of '2026-11 CU pilot': not begun; the previous phase never reached",
    ] {
        assert!(text.contains(expected), "{expected}\n{text}");
    }
    // Run for long enough, neither is said.
    let text = run(None, "whole");
    assert!(
        !text.contains("not created by the end (due") && !text.contains("never began"),
        "{text}"
    );
}
