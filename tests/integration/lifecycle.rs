//! The update lifecycle (docs/model.md), each piece driven from the
//! scenario file: catalog sync (law 9), scan and re-evaluation cycles, GPO
//! conflicts, power patterns (law 6), Available deployments, maintenance
//! windows (law 7), install failures and restarts, the enforcement
//! vocabulary of state messages.

use crate::common;

use common::{estate_of, traced};
use patchsim::engine::{SimDuration, SimTime};
use patchsim::estate::Estate;
use patchsim::model::{self, Compliance, RequiredSub, ScanFailure, ServerRole, TraceEvent};

const H: u64 = 3_600_000;

/// A scenario starting Monday 2026-11-09 00:00 UTC with one MP, SUP and DP.
fn scenario(
    days: u32,
    top: &str,
    settings: &str,
    cohorts: &str,
    updates: &str,
    deployments: &str,
) -> Estate {
    common::small(
        "lifecycle",
        5,
        &format!("{days}d"),
        &format!(
            r#"{top}
    client_settings: ClientSettings({settings}),
    cohorts: [{cohorts}],
    updates: [{updates}],
    deployments: [{deployments}],"#
        ),
    )
}

fn cohort(name: &str, count: u32, extra: &str) -> String {
    format!(
        r#"Cohort(name: "{name}", count: {count}, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra}),"#
    )
}

fn at(h: u64, m: u64, s: u64) -> SimTime {
    SimTime(h * H + m * 60_000 + s * 1_000)
}

/// Law 9 and the sync arithmetic: WSyncMgr polls every minute until WSUS is
/// done, waits 2 min, inserts 2 s per new update; an update released after
/// a sync starts is not in it; nothing is scanned before the first sync.
#[test]
fn catalog_sync_timing_and_law_9() {
    let estate = scenario(
        1,
        r#"sync: Sync(
            initially_synced: false,
            first_scheduled: "2026-11-09T01:00:00Z",
            manual: ["2026-11-09T02:00:00Z", "2026-11-09T03:00:00Z"],
            full_duration: Fixed("40m"), delta_duration: Fixed("5m"), per_new_update: "5s",
            poll_interval: "1m", pull_delay: "2m", insert_per_update: "2s",
        ),"#,
        r#"first_scan_window: "30m""#,
        &cohort("all", 300, ""),
        r#"Update(id: "OLD", size: "10MB"),
           Update(id: "NEW", size: "10MB", release: "2026-11-09T02:05:00Z"),"#,
        r#"Deployment(name: "new", updates: ["NEW"], targets: ["all"], created: "2026-11-09T04:00:00Z"),"#,
    );
    let (out, records) = traced(&estate);
    let syncs: Vec<_> = out
        .syncs
        .iter()
        .map(|s| (s.started, s.finished, s.new_updates.len()))
        .collect();
    assert_eq!(
        syncs,
        vec![
            (at(1, 0, 0), Some(at(1, 43, 2)), 1), // full: 40m05s → polled at 1h41m, +2m, +2s
            (at(2, 0, 0), Some(at(2, 7, 0)), 0),  // delta: NEW is released after it starts
            (at(3, 0, 0), Some(at(3, 8, 2)), 1),  // delta: 5m05s → 3h06m, +2m, +2s
        ]
    );
    assert_eq!(out.synced_at, vec![Some(at(1, 43, 2)), Some(at(3, 8, 2))]);
    let mut scans = 0;
    for r in &records {
        if matches!(r.event, TraceEvent::ScanStart { .. }) {
            assert!(
                r.time >= at(1, 43, 2),
                "scan at {} before the first sync",
                r.time
            );
            scans += 1;
        }
        if let TraceEvent::MessageQueued {
            topic: 500, update, ..
        } = r.event
        {
            let u = update.expect("detection messages name the update");
            let synced = out.synced_at[u.index()].expect("synced");
            assert!(
                r.time >= synced,
                "client {:?} reports {} at {} before its sync at {synced}",
                r.client,
                u.0,
                r.time
            );
        }
    }
    assert!(
        scans >= 300,
        "every client scans after the first sync: {scans}"
    );
    let dep = &out.deployments[0];
    assert!(dep.published_at.expect("published") >= at(4, 30, 0));
    assert!(dep.assignments.iter().all(|a| a.learned_at >= at(4, 30, 0)));
}

/// A deployment created before its update is synced waits for the sync.
#[test]
fn deployment_waits_for_its_updates_sync() {
    let estate = scenario(
        2,
        r#"sync: Sync(first_scheduled: "2026-11-09T20:00:00Z", full_duration: Fixed("1h")),"#,
        "",
        &cohort("all", 50, ""),
        r#"Update(id: "NEW", size: "10MB", release: "2026-11-09T01:00:00Z"),"#,
        r#"Deployment(name: "new", updates: ["NEW"], targets: ["all"], created: "2026-11-09T02:00:00Z"),"#,
    );
    let out = model::run(&estate, Default::default()).expect("never stopped");
    let synced = out.synced_at[0].expect("synced by the scheduled sync");
    assert!(synced > at(21, 0, 0));
    assert_eq!(out.deployments[0].published_at, Some(synced));
}

/// The scan schedule reports undeployed updates too, and a client that was
/// off when its cycle came scans soon after it is back: within one cycle
/// (plus a weekend) every business-hours client has reported.
#[test]
fn scan_cycle_reports_and_catches_up_after_power_off() {
    let estate = scenario(
        14,
        r#"sync: Sync(manual: ["2026-11-09T01:10:00Z"]),"#,
        r#"scan_interval: "7d""#,
        &cohort(
            "office",
            600,
            r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "30m"),"#,
        ),
        r#"Update(id: "KB9", size: "10MB", release: "2026-11-09T01:00:00Z", applicability: 0.5),"#,
        "",
    );
    let out = model::run(&estate, Default::default()).expect("never stopped");
    let unknown_at = |t: SimTime| {
        let row = out
            .update_timeline
            .iter()
            .find(|r| r.time == t)
            .expect("a sample");
        row.reported[Compliance::Unknown as usize]
    };
    assert_eq!(
        unknown_at(at(1, 0, 0)),
        600,
        "nothing is known before the sync"
    );
    assert!(
        unknown_at(at(3 * 24, 0, 0)) > 0,
        "a 7-day cycle has not come round for everyone by day 3"
    );
    assert_eq!(
        unknown_at(at(10 * 24, 0, 0)),
        0,
        "all clients report within one cycle and a weekend"
    );
    let scans_per_client = out.totals.scans as f64 / 600.0;
    assert!(
        (1.5..=3.0).contains(&scans_per_client),
        "two weekly cycles in 14 days: {scans_per_client}"
    );
}

/// A conflicting domain GPO keeps a client's updates Unknown, true and
/// reported; the site sees its scans fail; it never installs.
#[test]
fn gpo_conflict_clients_stay_unknown() {
    let n = 3000.0;
    let estate = scenario(
        6,
        "",
        r#"scan_interval: "1d""#,
        &cohort("all", 3000, "gpo_conflict: 0.1,"),
        r#"Update(id: "KB1", size: "10MB", install_time: Fixed("10m")),"#,
        r#"Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-09T06:00:00Z"),"#,
    );
    let out = model::run(&estate, Default::default()).expect("never stopped");
    let conflicts = f64::from(out.gpo_conflicts[0]);
    let tol = 4.5 * (n * 0.1 * 0.9f64).sqrt();
    assert!(
        (conflicts - 300.0).abs() <= tol,
        "{conflicts} conflicts, expected 300 ± {tol}"
    );
    let dep = &out.deployments[0];
    let unknown = Compliance::Unknown as usize;
    assert_eq!(f64::from(dep.final_truth[unknown]), conflicts);
    assert_eq!(dep.final_reported[unknown], dep.final_truth[unknown]);
    assert_eq!(
        f64::from(dep.final_reported_unknown_scan_failed),
        conflicts,
        "the site knows why"
    );
    assert_eq!(
        dep.final_truth[Compliance::Installed as usize] as f64,
        n - conflicts
    );
    assert_eq!(
        out.totals.installs as f64,
        n - conflicts,
        "conflicted clients never install"
    );
    assert!(out.totals.scans_failed as f64 >= conflicts);
}

/// A conflicted client's scans go to the server its GPO names: the site's
/// SUP never sees them, though the client still scans and fails (the trace
/// ends each with a failure that has no retry, not with a finished scan).
#[test]
fn gpo_conflict_clients_put_no_load_on_the_sup() {
    let estate = scenario(
        3,
        "",
        r#"scan_interval: "1d""#,
        &cohort("all", 200, "gpo_conflict: 1.0,"),
        r#"Update(id: "KB1", size: "10MB"),"#,
        r#"Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-09T06:00:00Z"),"#,
    );
    let (out, records) = traced(&estate);
    let sup_requests: u64 = out
        .servers
        .iter()
        .filter(|s| s.role == ServerRole::UpdatePoint)
        .map(|s| s.total.arrived.iter().sum::<u64>())
        .sum();
    assert_eq!(sup_requests, 0, "no scan reached the site's SUP");
    assert!(out.totals.scans >= 200, "{} scans", out.totals.scans);
    assert_eq!(out.totals.scans_failed, out.totals.scans);
    let ends = |f: &dyn Fn(&TraceEvent) -> bool| records.iter().filter(|r| f(&r.event)).count();
    let failed = ends(&|e| {
        matches!(
            e,
            TraceEvent::ScanFailed {
                by: ScanFailure::OtherServer,
                retry_ms: None
            }
        )
    });
    assert_eq!(failed as u64, out.totals.scans);
    assert_eq!(ends(&|e| matches!(e, TraceEvent::ScanDone)), 0);
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("its last state is unknown; its scans go to the update server its group policy names (a GPO conflict)"),
        "{story}"
    );
}

/// Law 6: an offline client polls, scans, downloads, installs, restarts and
/// reports nothing; its queue waits and goes out after it is back.
#[test]
fn offline_clients_do_nothing() {
    let estate = scenario(
        10,
        "",
        r#"scan_interval: "1d""#,
        &(cohort(
            "office",
            150,
            r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"), link: "10Mbps","#,
        ) + &cohort(
            "laptops",
            150,
            r#"power: Intermittent(on: Exponential(mean: "3h"), off: Exponential(mean: "6h")), link: "10Mbps","#,
        )),
        r#"Update(id: "KB1", size: "300MB", failure_probability: 0.2),"#,
        r#"Deployment(name: "cu", updates: ["KB1"], targets: ["office", "laptops"], created: "2026-11-09T06:00:00Z",
                      deadline: "2026-11-10T12:00:00Z"),"#,
    );
    let (out, records) = traced(&estate);
    let mut online: Vec<Option<bool>> = vec![None; 300];
    let mut queued_while_off = vec![false; 300];
    let (mut checked, mut flushed_after_return) = (0, 0);
    for r in &records {
        let Some(c) = r.client else { continue };
        let c = c.index();
        match r.event.name() {
            "power_on" => online[c] = Some(true),
            "power_off" => online[c] = Some(false),
            "policy_request" | "scan_start" | "download_start" | "install_start"
            | "restart_start" | "batch_sent" | "message_queued" => {
                // Before a client's first power event its state is unknown.
                if let Some(on) = online[c] {
                    assert!(
                        on,
                        "client {c} does '{}' at {} while off",
                        r.event.name(),
                        r.time
                    );
                    checked += 1;
                }
                if r.event.name() == "message_queued" && online[c] == Some(true) {
                    queued_while_off[c] = true; // queued, not yet sent
                }
                if r.event.name() == "batch_sent" {
                    queued_while_off[c] = false;
                }
            }
            _ => {}
        }
        if r.event == TraceEvent::PowerOn && queued_while_off[c] {
            flushed_after_return += 1;
        }
    }
    assert!(
        checked > 10_000,
        "the trace covers real activity: {checked}"
    );
    assert!(
        flushed_after_return > 10,
        "queues survive power-off: {flushed_after_return}"
    );
    assert!(
        out.totals.restarts_by_shutdown > 0,
        "a shutdown completes a pending restart"
    );
    let dep = &out.deployments[0];
    assert!(dep.final_truth[Compliance::Installed as usize] > 250);
}

/// An Available update is installed only by users who choose to, after
/// their delay; its restart is never forced.
#[test]
fn available_installs_follow_the_user_share() {
    let estate = scenario(
        5,
        "",
        "",
        &cohort(
            "all",
            4000,
            r#"available_install_share: 0.4, available_install_delay: Fixed("6h"),"#,
        ),
        r#"Update(id: "FU", size: "100MB", classification: FeatureUpgrade, install_time: Fixed("30m")),"#,
        r#"Deployment(name: "fu", updates: ["FU"], targets: ["all"], purpose: Available, created: "2026-11-09T06:00:00Z"),"#,
    );
    let out = model::run(&estate, Default::default()).expect("never stopped");
    let started = out.totals.available_installs_started as f64;
    let tol = 4.5 * (4000.0 * 0.4 * 0.6f64).sqrt();
    assert!(
        (started - 1600.0).abs() <= tol,
        "{started} users install, expected 1600 ± {tol}"
    );
    let dep = &out.deployments[0];
    let installs = dep
        .assignments
        .iter()
        .filter(|a| a.install_started_at != SimTime::MAX)
        .count();
    assert_eq!(installs as f64, started);
    for a in dep
        .assignments
        .iter()
        .filter(|a| a.install_started_at != SimTime::MAX)
    {
        assert!(
            a.install_started_at >= a.learned_at + SimDuration::from_hours(6),
            "the user waits 6 h"
        );
    }
    assert_eq!(out.totals.restarts_forced, 0);
    assert_eq!(
        dep.final_truth[Compliance::Installed as usize] as f64,
        started
    );
}

/// Law 7 with maintenance windows: an install starts only inside a window
/// with room for the max run time; meanwhile the client waits for the
/// window; the restart follows in the window. Without honouring windows the
/// install runs at the deadline.
#[test]
fn maintenance_windows_gate_installs() {
    let run = |honor: bool| {
        common::simulate(&scenario(
            4,
            "",
            "",
            &cohort(
                "servers",
                400,
                r#"kind: Server, maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")],"#,
            ),
            r#"Update(id: "KB1", size: "100MB", install_time: Uniform(min: "5m", max: "20m")),"#,
            &format!(
                r#"Deployment(name: "cu", updates: ["KB1"], targets: ["servers"], created: "2026-11-09T06:00:00Z",
                              deadline: "2026-11-09T12:00:00Z", honor_maintenance_windows: {honor}),"#
            ),
        ))
    };
    let out = run(true);
    let dep = &out.deployments[0];
    for a in dep
        .assignments
        .iter()
        .filter(|a| a.install_started_at != SimTime::MAX)
    {
        let hour_of_day = a.install_started_at.as_ms() % (24 * H);
        assert!(
            (H..=3 * H).contains(&hour_of_day),
            "install at {} is not in 01:00–03:00 (window 01:00–04:00, max run time 60m)",
            a.install_started_at
        );
    }
    let waiting = out
        .timeline
        .iter()
        .map(|r| r.required_sub[RequiredSub::WaitingWindow as usize])
        .max()
        .unwrap();
    assert!(waiting > 300, "clients wait for the window: {waiting}");
    let reported_waiting = out
        .timeline
        .iter()
        .map(|r| r.reported_required_sub[RequiredSub::WaitingWindow as usize])
        .max()
        .unwrap();
    assert!(
        reported_waiting > 300,
        "and the site hears of it (301/10): {reported_waiting}"
    );
    assert_eq!(out.totals.restarts_in_window, 400);
    assert_eq!(dep.final_truth[Compliance::Installed as usize], 400);

    let out = run(false);
    let dep = &out.deployments[0];
    let at_deadline = dep
        .assignments
        .iter()
        .filter(|a| a.install_started_at == at(12, 0, 0))
        .count();
    assert!(
        at_deadline > 350,
        "without windows, installs start at the deadline: {at_deadline}"
    );
}

/// Max run time: 60 min for security updates, 120 for feature updates. An
/// install over it is reported failed at the max run time but finishes in
/// the background (not an install failure); random failures are retried at
/// the next re-evaluation.
#[test]
fn max_run_time_by_classification_and_retry() {
    let run = |class: &str| {
        common::simulate(&scenario(
            3,
            "",
            r#"reevaluation_interval: "12h""#,
            &cohort("all", 100, ""),
            &format!(
                r#"Update(id: "U", size: "10MB", classification: {class}, install_time: Fixed("90m")),"#
            ),
            r#"Deployment(name: "d", updates: ["U"], targets: ["all"], created: "2026-11-09T06:00:00Z"),"#,
        ))
    };
    let security = run("Security");
    let t = &security.totals;
    assert_eq!(
        (t.installs, t.installs_overran, t.install_failures),
        (100, 100, 0),
        "each overran once, and finished in the background"
    );
    assert_eq!(
        security.deployments[0].final_truth[Compliance::Installed as usize],
        100
    );
    let feature = run("FeatureUpgrade");
    assert_eq!(feature.totals.install_failures, 0);
    assert_eq!(feature.totals.installs_overran, 0);
    assert_eq!(
        feature.deployments[0].final_truth[Compliance::Installed as usize],
        100
    );

    // Random failures heal at re-evaluation.
    let flaky = common::simulate(&scenario(
        6,
        "",
        r#"reevaluation_interval: "12h""#,
        &cohort("all", 500, ""),
        r#"Update(id: "U", size: "10MB", failure_probability: 0.5),"#,
        r#"Deployment(name: "d", updates: ["U"], targets: ["all"], created: "2026-11-09T06:00:00Z"),"#,
    ));
    assert!(flaky.totals.install_failures > 150);
    assert!(flaky.deployments[0].final_truth[Compliance::Installed as usize] >= 495);
}

/// Restarts: the 90-minute countdown forces users who would wait longer;
/// a suppressed restart on a workstation waits for the user's own time;
/// pending restart is not compliant. (Notifications, windows and schedules:
/// `tests/integration/enforcement.rs`.)
#[test]
fn restart_countdown_and_suppression() {
    let run = |suppress: &str| {
        common::simulate(&scenario(
            3,
            "",
            r#"user_restart_delay: Fixed("5h"), restart_duration: Fixed("3m")"#,
            &cohort("all", 200, ""),
            r#"Update(id: "U", size: "10MB", install_time: Fixed("10m")),"#,
            &format!(
                r#"Deployment(name: "d", updates: ["U"], targets: ["all"], created: "2026-11-09T06:00:00Z",
                              suppress_restart: [{suppress}]),"#
            ),
        ))
    };
    let forced = run("");
    assert_eq!(forced.totals.restarts_forced, 200);
    for a in &forced.deployments[0].assignments {
        // The deadline had passed: the countdown counts from the install's
        // start, when the client began enforcing it.
        assert_eq!(
            a.true_compliant_at,
            a.install_started_at + SimDuration::from_mins(90 + 3),
            "forced at 90 min, 3 min restart"
        );
    }
    let suppressed = run("Workstation");
    assert_eq!(suppressed.totals.restarts_forced, 0);
    for a in &suppressed.deployments[0].assignments {
        let done = a.install_started_at + SimDuration::from_mins(10);
        // The user restarts in their own time, 5 h after the install.
        assert_eq!(
            a.true_compliant_at,
            done + SimDuration::from_mins(5 * 60 + 3)
        );
    }
}

/// Every state message a run queues has its documented name, the scan's
/// "pending retry" (501/4) of a SUP outage among them.
#[test]
fn every_queued_state_message_has_a_name() {
    let text = std::fs::read_to_string("scenarios/sup-outage.ron").expect("reads");
    let estate = estate_of(&text);
    let (_, records) = traced(&estate);
    let mut seen = std::collections::BTreeSet::new();
    for r in &records {
        if let TraceEvent::MessageQueued { topic, state, .. } = r.event {
            seen.insert((topic, state));
        }
    }
    let unnamed: Vec<_> = (seen.iter())
        .filter(|&&(topic, state)| model::state_message_name(topic, state).is_none())
        .collect();
    assert!(unnamed.is_empty(), "unnamed: {unnamed:?}");
    assert!(seen.contains(&(501, 4)), "a retry was queued: {seen:?}");
    assert_eq!(
        model::state_message_name(501, 4),
        Some("scan pending retry")
    );
    assert_eq!(model::state_message_name(501, 7), None);
}

/// Each missing update of a Required deployment tells the site where its
/// enforcement stands (topic 402): waiting for content when evaluated,
/// downloading, installing, then installed or pending restart, in order.
#[test]
fn per_update_enforcement_messages_follow_the_install() {
    let estate = scenario(
        2,
        "",
        "",
        &cohort("all", 20, ""),
        r#"Update(id: "A", size: "10MB", restart_probability: 0.0),
           Update(id: "B", size: "10MB", restart_probability: 1.0),"#,
        r#"Deployment(name: "d", updates: ["A", "B"], targets: ["all"], created: "2026-11-09T06:00:00Z"),"#,
    );
    let (out, records) = traced(&estate);
    assert_eq!(out.totals.installs, 40, "both updates on every client");
    for c in 0..20 {
        for (u, last) in [(0u16, 10u8), (1, 9)] {
            let states: Vec<u8> = (records.iter())
                .filter(|r| r.client == Some(patchsim::estate::ClientId(c)))
                .filter_map(|r| match r.event {
                    TraceEvent::MessageQueued {
                        topic: 402,
                        update: Some(update),
                        state,
                        ..
                    } if update.0 == u => Some(state),
                    _ => None,
                })
                .collect();
            assert_eq!(states, [2, 12, 8, last], "client {c} update {u}");
        }
    }
}

/// After an install the client rescans and sends the state it found
/// within two minutes ("Introduction to software updates"), not at its
/// next reporting tick (hourly here): the verification scan's "installed"
/// when nothing waits, the install's "pending restart" when a restart
/// does. The scan after a restart, of which Microsoft says nothing of the
/// kind, reports at the tick.
#[test]
fn the_state_after_an_install_leaves_within_two_minutes() {
    let estate = scenario(
        2,
        "",
        r#"state_message_interval: "1h", user_restart_delay: Fixed("5h"), restart_duration: Fixed("3m")"#,
        &(cohort("quiet", 30, "") + &cohort("restart", 30, "")),
        r#"Update(id: "A", size: "10MB", restart_probability: 0.0),
           Update(id: "B", size: "10MB", restart_probability: 1.0),"#,
        r#"Deployment(name: "a", updates: ["A"], targets: ["quiet"], created: "2026-11-09T06:00:00Z"),
           Deployment(name: "b", updates: ["B"], targets: ["restart"], created: "2026-11-09T06:00:00Z"),"#,
    );
    let (out, records) = traced(&estate);
    let within = SimDuration::from_mins(2);
    for c in 0..60u32 {
        let mine: Vec<_> = (records.iter())
            .filter(|r| r.client == Some(patchsim::estate::ClientId(c)))
            .collect();
        let first = |after: SimTime, e: &dyn Fn(&TraceEvent) -> bool| {
            (mine.iter())
                .find(|r| r.time >= after && e(&r.event))
                .map(|r| r.time)
                .unwrap_or_else(|| panic!("client {c}: nothing after {after}"))
        };
        let done = first(SimTime::ZERO, &|e| *e == TraceEvent::InstallDone);
        // The scan that found the state: the verification scan, or (a
        // restart pending) none: the install's end.
        let found = if c < 30 {
            first(done, &|e| *e == TraceEvent::ScanDone)
        } else {
            done
        };
        let sent = first(found, &|e| matches!(e, TraceEvent::BatchSent { .. }));
        assert!(
            sent > found && sent <= found + within,
            "client {c}: state found at {found}, sent at {sent}"
        );
        if c >= 30 {
            // After the restart, the verification scan's state waits for
            // the client's tick.
            let back = first(done, &|e| *e == TraceEvent::RestartDone);
            let scanned = first(back, &|e| *e == TraceEvent::ScanDone);
            assert!(
                !(mine.iter()).any(|r| r.time > back && r.event == TraceEvent::InstallReport),
                "client {c}: no early report after its restart's scan at {scanned}"
            );
        }
    }
    assert!(out.totals.batches_after_install > 0);
    assert!(out.totals.batches_after_install <= 60);
}

/// Fast Startup turns a shutdown into a hibernation: the pending restart
/// stays pending and happens when it was planned (here the user's own
/// time, restarts being suppressed), not at the next start. The share of
/// clients with it is drawn per client.
#[test]
fn fast_startup_keeps_the_restart_pending_through_a_shutdown() {
    let n = 1000u32;
    let run = |share: f64| {
        common::simulate(&scenario(
            10,
            "",
            r#"user_restart_delay: Fixed("3d"), restart_duration: Fixed("3m")"#,
            &cohort(
                "office",
                n,
                &format!(
                    r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "30m"), fast_startup: {share:?},"#
                ),
            ),
            r#"Update(id: "U", size: "10MB", install_time: Fixed("10m")),"#,
            r#"Deployment(name: "d", updates: ["U"], targets: ["office"], created: "2026-11-09T06:00:00Z",
                          suppress_restart: [Workstation]),"#,
        ))
    };
    let none = run(0.0);
    assert_eq!(
        none.totals.restarts_by_shutdown,
        u64::from(n),
        "the evening shutdown completes every restart"
    );
    let all = run(1.0);
    assert_eq!(all.totals.restarts_by_shutdown, 0);
    assert_eq!(
        all.totals.restarts_by_user,
        u64::from(n),
        "each at the user's own time"
    );
    for a in &all.deployments[0].assignments {
        assert!(
            a.true_compliant_at >= a.install_started_at + SimDuration::from_hours(72),
            "installed only after the user's restart, three days on"
        );
    }
    let half = run(0.5);
    let by_shutdown = half.totals.restarts_by_shutdown as f64;
    let tol = 4.5 * (f64::from(n) * 0.25).sqrt();
    assert!(
        (by_shutdown - 500.0).abs() <= tol,
        "{by_shutdown} restarts by shutdown, expected 500 ± {tol}"
    );
}
