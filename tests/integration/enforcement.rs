//! Enforcement as Configuration Manager documents it (docs/model.md,
//! "Maintenance windows", "Installs", "Restarts"): updates fit a window one
//! by one, window types and merging, an install that outruns its max run
//! time finishing in the background, restart notifications, suppressed
//! restarts waiting for a window or the administrator's schedule.

use crate::common;

use common::traced;
use patchsim::engine::{SimDuration, SimTime};
use patchsim::estate::Estate;
use patchsim::model::{Compliance, Outcome, RestartCause, TraceEvent, TraceRecord};

const H: u64 = 3_600_000;
const M: u64 = 60_000;
const DAY: u64 = 24 * H;

/// A scenario starting Monday 2026-11-09 00:00 UTC with one MP, SUP and DP,
/// one cohort and one deployment created at 06:00 (deadline: at once unless
/// `deployment` says otherwise).
fn scenario(days: u32, settings: &str, cohort: &str, updates: &str, deployment: &str) -> Estate {
    common::small(
        "enforcement",
        11,
        &format!("{days}d"),
        &format!(
            r#"client_settings: ClientSettings({settings}),
    cohorts: [Cohort(name: "c", management_point: "mp", update_point: "sup", distribution_point: "dp", {cohort})],
    updates: [{updates}],
    deployments: [Deployment(name: "d", targets: ["c"], created: "2026-11-09T06:00:00Z", {deployment})],"#
        ),
    )
}

fn installed(out: &Outcome) -> u32 {
    out.deployments[0].final_truth[Compliance::Installed as usize]
}

/// Installs started, per client: (time, length in ms).
fn install_starts(records: &[TraceRecord], clients: usize) -> Vec<Vec<(SimTime, u64)>> {
    let mut starts = vec![Vec::new(); clients];
    for r in records {
        if let (Some(c), TraceEvent::InstallStart { length_ms, .. }) = (r.client, r.event) {
            starts[c.index()].push((r.time, length_ms));
        }
    }
    starts
}

/// The acceptance case: four 60-minute updates, servers with one daily
/// 3-hour window. Each update fits on its own, so the client installs as
/// many as fit one after another (three of 50 minutes: the fourth's hour is
/// no longer left) and the last the next night. (Requiring the sum, 4 h, to
/// fit left every server waiting forever.)
#[test]
fn updates_fit_a_window_one_by_one() {
    let updates: String = (1..=4)
        .map(|i| format!(r#"Update(id: "KB{i}", size: "20MB", install_time: Fixed("50m")),"#))
        .collect();
    let estate = scenario(
        5,
        "",
        r#"count: 200, kind: Server, maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")]"#,
        &updates,
        r#"updates: ["KB1", "KB2", "KB3", "KB4"]"#,
    );
    assert!(patchsim::app::warnings(&estate).is_empty());
    let (out, records) = traced(&estate);
    assert_eq!(installed(&out), 200, "every server installs all four");
    assert_eq!(out.totals.installs, 800);
    assert_eq!(out.totals.install_failures + out.totals.installs_overran, 0);
    let done_by = SimTime(2 * DAY + 6 * H);
    assert!(
        out.deployments[0]
            .assignments
            .iter()
            .all(|a| a.true_compliant_at <= done_by),
        "within two nights"
    );
    for (c, starts) in install_starts(&records, 200).iter().enumerate() {
        // Night 1: three updates (2 h 30 min); night 2: the fourth.
        let got: Vec<(u64, u64)> = starts
            .iter()
            .map(|(t, len)| (t.as_ms() / DAY, *len))
            .collect();
        assert_eq!(got, [(1, 150 * M), (2, 50 * M)], "client {c}");
        for (t, _) in starts {
            let clock = t.as_ms() % DAY;
            assert!(
                (H..=3 * H).contains(&clock),
                "client {c} starts at {t}: no hour left in 01:00–04:00"
            );
        }
    }
    assert_eq!(out.totals.restarts_in_window, 400, "a restart each night");
}

/// An update longer than every window never installs; the others do. The
/// user learns it before the run (a warning) and after it (a total).
#[test]
fn an_update_longer_than_every_window_never_installs() {
    let estate = scenario(
        4,
        "",
        r#"count: 50, kind: Server, maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")]"#,
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("20m")),
           Update(id: "FU", size: "20MB", classification: FeatureUpgrade, max_run_time: "4h", install_time: Fixed("20m")),"#,
        r#"updates: ["FU", "KB1"]"#,
    );
    let warnings = patchsim::app::warnings(&estate);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("update 'FU' of deployment 'd' needs 4h")
            && warnings[0].contains("cohort 'c' for software updates is 3h"),
        "{}",
        warnings[0]
    );
    let (out, _) = traced(&estate);
    assert_eq!(out.totals.installs, 50, "KB1 only");
    assert_eq!(installed(&out), 0, "FU is still missing");
    assert_eq!(out.totals.updates_never_fit, 50);
    let (kb1_truth, _) = (out.update_timeline.iter())
        .rfind(|r| r.update.index() == 0)
        .map(|r| (r.truth, r.reported))
        .unwrap();
    assert_eq!(kb1_truth[Compliance::Installed as usize], 50);
}

/// Overlapping windows merge: 06:00–07:00 and 06:30–07:30 make one window
/// of 90 minutes, where an update of 80 minutes fits.
#[test]
fn overlapping_windows_merge_into_one() {
    let estate = scenario(
        3,
        "",
        r#"count: 40, kind: Server, maintenance_windows: [
            MaintenanceWindow(recurrence: Daily, start: "06:00", length: "1h"),
            MaintenanceWindow(recurrence: Daily, start: "06:30", length: "1h")]"#,
        r#"Update(id: "KB1", size: "20MB", max_run_time: "80m", install_time: Fixed("70m")),"#,
        r#"updates: ["KB1"]"#,
    );
    assert!(patchsim::app::warnings(&estate).is_empty());
    let (out, records) = traced(&estate);
    assert_eq!(installed(&out), 40);
    for starts in install_starts(&records, 40) {
        assert_eq!(starts.len(), 1);
        let clock = starts[0].0.as_ms() % DAY;
        assert!((6 * H..=6 * H + 10 * M).contains(&clock), "{}", starts[0].0);
    }
}

/// A client with both types of window installs software updates only in
/// its "Software updates" windows, unless its client settings allow the
/// "All deployments" ones too.
#[test]
fn software_update_windows_take_priority() {
    let run = |setting: bool| {
        let estate = scenario(
            3,
            &format!("updates_in_all_deployments_windows: {setting}"),
            r#"count: 100, kind: Server, maintenance_windows: [
                MaintenanceWindow(recurrence: Daily, start: "20:00", length: "3h"),
                MaintenanceWindow(recurrence: Daily, start: "02:00", length: "2h", applies_to: SoftwareUpdates)]"#,
            r#"Update(id: "KB1", size: "20MB", install_time: Fixed("10m")),"#,
            r#"updates: ["KB1"], deadline: "2026-11-09T18:00:00Z""#,
        );
        let (out, records) = traced(&estate);
        assert_eq!(installed(&out), 100);
        install_starts(&records, 100)
            .into_iter()
            .map(|s| s[0].0.as_ms() % DAY)
            .collect::<Vec<u64>>()
    };
    let only = run(false);
    assert!(
        only.iter().all(|t| (2 * H..=3 * H).contains(t)),
        "only the software-update window: {only:?}"
    );
    let both = run(true);
    assert!(
        both.iter().all(|t| (20 * H..=22 * H).contains(t)),
        "the all-deployments window comes first: {both:?}"
    );
}

/// An install that outruns its max run time: the client stops watching at
/// the max run time, reports the update failed, and is free; the install
/// finishes in the background at its drawn length, and the next scan
/// reports it installed. It is not an install failure.
#[test]
fn an_overrunning_install_finishes_in_the_background() {
    let estate = scenario(
        3,
        r#"scan_interval: "1d", restart_duration: Fixed("3m")"#,
        "count: 100",
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("90m"), restart_probability: 0.0),"#,
        r#"updates: ["KB1"]"#,
    );
    let (out, records) = traced(&estate);
    let t = &out.totals;
    assert_eq!(
        (t.installs, t.installs_overran, t.install_failures),
        (100, 100, 0)
    );
    assert_eq!(installed(&out), 100, "truly installed");
    assert_eq!(
        out.deployments[0].final_reported[Compliance::Installed as usize],
        100,
        "and reported after the next scan"
    );
    let dep = &out.deployments[0];
    for (c, a) in dep.assignments.iter().enumerate() {
        let start = a.install_started_at;
        assert_eq!(
            a.true_compliant_at,
            start + SimDuration::from_mins(90),
            "client {c}: installed at the drawn 90 minutes"
        );
        let at = |name: &str| {
            records
                .iter()
                .find(|r| r.client.map(|x| x.index()) == Some(c) && r.event.name() == name)
                .map(|r| r.time)
        };
        assert_eq!(
            at("install_done"),
            Some(start + SimDuration::from_mins(60)),
            "the client is free at the max run time"
        );
        assert_eq!(
            at("background_install_done"),
            Some(start + SimDuration::from_mins(90))
        );
        let failed = records.iter().find(|r| {
            r.client.map(|x| x.index()) == Some(c)
                && matches!(
                    r.event,
                    TraceEvent::MessageQueued {
                        topic: 402,
                        state: 11,
                        ..
                    }
                )
        });
        assert_eq!(
            failed.map(|r| r.time),
            Some(start + SimDuration::from_mins(60)),
            "402/11 at the max run time"
        );
    }
}

/// Every restart planned (after an install): why, and how long after the
/// install's end.
fn restarts(records: &[TraceRecord]) -> Vec<(RestartCause, u64)> {
    planned(records).into_iter().map(|(_, p)| p).collect()
}

/// As [`restarts`], with when each was planned.
fn planned(records: &[TraceRecord]) -> Vec<(SimTime, (RestartCause, u64))> {
    records
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::RestartPlanned { cause, in_ms } => Some((r.time, (cause, in_ms))),
            _ => None,
        })
        .collect()
}

fn restart_run(settings: &str, cohort: &str, deployment: &str) -> (Outcome, Vec<TraceRecord>) {
    traced(&scenario(
        3,
        &format!(r#"restart_duration: Fixed("3m"), {settings}"#),
        cohort,
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("10m")),"#,
        &format!(r#"updates: ["KB1"], {deployment}"#),
    ))
}

/// After a deadline install the user is notified at once, reminded every
/// 4 h while more than the final countdown remains, and shown the final
/// countdown 15 min before the forced restart at 90 min. All three count
/// from the moment the client began enforcing the deadline: here (the
/// deadline had passed when the content arrived) the start of its 10-minute
/// install. A user restarts at the first notification after they are
/// ready (counted from the install's end), or during the final countdown;
/// one not ready by 90 min is forced.
#[test]
fn users_restart_at_a_notification_or_are_forced() {
    let cases = [
        // (ready after the install, countdown, reminder)
        //   → (cause, restart after the install's start)
        ("30m", "90m", "4h", RestartCause::User, 75 * M),
        ("70m", "90m", "4h", RestartCause::User, 80 * M),
        ("80m", "90m", "4h", RestartCause::Forced, 90 * M),
        ("5h", "90m", "4h", RestartCause::Forced, 90 * M),
        ("5h", "10h", "4h", RestartCause::User, 8 * H),
        ("9h", "10h", "4h", RestartCause::User, 9 * H + 45 * M),
        ("11h", "10h", "4h", RestartCause::Forced, 10 * H),
    ];
    for (ready, countdown, reminder, cause, after) in cases {
        let (out, records) = restart_run(
            &format!(
                r#"user_restart_delay: Fixed("{ready}"), restart_countdown: "{countdown}", restart_reminder_interval: "{reminder}""#
            ),
            "count: 20",
            "",
        );
        let planned = restarts(&records);
        assert_eq!(planned.len(), 20);
        assert!(
            planned.iter().all(|&p| p == (cause, after - 10 * M)),
            "ready {ready}, countdown {countdown}: {:?}",
            planned[0]
        );
        for a in &out.deployments[0].assignments {
            assert_eq!(
                a.true_compliant_at,
                a.install_started_at + SimDuration(after) + SimDuration::from_mins(3)
            );
        }
    }
}

/// The restart countdown counts "after the deadline" ("Device restart
/// notifications"), not from the install's end: clients on and free at
/// the deadline install then, and whatever the install takes they are
/// forced 90 minutes after the deadline. An install that ends later than
/// the final countdown's start (here 80 minutes, past 75) shows the final
/// countdown at once and is forced at its end, 15 minutes on.
#[test]
fn the_restart_countdown_counts_from_the_deadline() {
    let deadline = SimTime(12 * H);
    for (install, forced) in [(10, 90), (30, 90), (80, 95)] {
        let (out, records) = traced(&scenario(
            2,
            r#"user_restart_delay: Fixed("5h"), restart_duration: Fixed("3m")"#,
            "count: 20",
            &format!(
                r#"Update(id: "KB1", size: "20MB", install_time: Fixed("{install}m"), max_run_time: "2h"),"#
            ),
            r#"updates: ["KB1"], deadline: "2026-11-09T12:00:00Z""#,
        ));
        for (c, starts) in install_starts(&records, 20).iter().enumerate() {
            assert_eq!(
                starts,
                &[(deadline, install * M)],
                "client {c} installs at the deadline"
            );
        }
        assert_eq!(out.totals.restarts_forced, 20);
        for (at, p) in planned(&records) {
            assert_eq!(at, deadline + SimDuration(install * M));
            assert_eq!(p, (RestartCause::Forced, (forced - install) * M));
        }
        for a in &out.deployments[0].assignments {
            assert_eq!(
                a.true_compliant_at,
                deadline + SimDuration::from_mins(forced + 3),
                "a {install}-minute install: forced {forced} minutes after the deadline"
            );
        }
    }
}

/// A client that is off at the deadline enforces it when it is back
/// (Microsoft says nothing of its countdown then): patchsim counts the
/// countdown from the moment the client began to enforce the deadline,
/// here as it comes on the next morning (with a scan to confirm the update
/// is still required, or at once with its install, or after a scheduled
/// scan due then), not from the deadline
/// (long past) nor from the install's end.
#[test]
fn a_client_off_at_the_deadline_counts_from_its_enforcement() {
    let (out, records) = traced(&scenario(
        3,
        r#"user_restart_delay: Fixed("5h"), restart_duration: Fixed("3m")"#,
        r#"count: 20, power: BusinessHours(start: "08:00", end: "17:00", jitter: "30m")"#,
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("10m")),"#,
        r#"updates: ["KB1"], deadline: "2026-11-10T02:00:00Z""#,
    ));
    assert_eq!(out.totals.restarts_forced, 20);
    let starts = install_starts(&records, 20);
    for (c, starts) in starts.iter().enumerate() {
        let &[(start, _)] = starts.as_slice() else {
            panic!("client {c}: one install, got {starts:?}");
        };
        let mine = |e: TraceEvent| {
            (records.iter())
                .filter(move |r| r.client == Some(patchsim::estate::ClientId(c as u32)))
                .filter(move |r| r.time > SimTime(DAY) && r.event == e)
                .map(|r| r.time)
        };
        let on = mine(TraceEvent::PowerOn)
            .next()
            .expect("on the next morning");
        assert!(on <= start && start < on + SimDuration::from_mins(10));
        // It began as it came on, or after a scheduled scan that was due
        // then: 90 minutes before the restart.
        let due: Vec<SimTime> = mine(TraceEvent::RestartDue).collect();
        let began = SimTime(due[0].as_ms() - 90 * M);
        assert!(
            due.len() == 1 && on <= began && began <= start,
            "client {c}: on at {on}, installed at {start}, restarted at {due:?}"
        );
    }
}

/// A suppressed restart is never forced. A workstation's user restarts in
/// their own time; a server restarts when its next maintenance window
/// opens, or at the administrator's scheduled restart if sooner; with
/// neither it stays pending restart.
#[test]
fn suppressed_restarts_wait_for_a_window_or_the_schedule() {
    let ready = r#"user_restart_delay: Fixed("5h")"#;
    let suppress = "suppress_restart: [Workstation, Server]";
    // Workstations: the user's own time, not a reminder.
    let (out, records) = restart_run(ready, "count: 20", suppress);
    assert_eq!(restarts(&records), vec![(RestartCause::User, 5 * H); 20]);
    assert_eq!(out.totals.restarts_forced, 0);
    assert_eq!(installed(&out), 20);

    // Servers without a window or a schedule: pending to the end.
    let (out, records) = restart_run(ready, "count: 20, kind: Server", suppress);
    assert!(restarts(&records).is_empty());
    let pending = out.deployments[0].final_truth[Compliance::Required as usize];
    assert_eq!((installed(&out), pending), (0, 20));

    // Servers whose daily window opens at 01:00 (the deployment ignores
    // windows, so the install runs at once): restart at the next 01:00.
    let window = r#"maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")]"#;
    let (out, records) = restart_run(
        ready,
        &format!("count: 20, kind: Server, {window}"),
        &format!("{suppress}, honor_maintenance_windows: false"),
    );
    assert_eq!(out.totals.restarts_in_window, 20);
    assert_eq!(planned(&records).len(), 20);
    for (at, (cause, after)) in planned(&records) {
        assert_eq!(cause, RestartCause::InWindow);
        assert_eq!(at + SimDuration(after), SimTime(DAY + H));
    }

    // And a scheduled restart every day at 22:00 comes first.
    let (out, records) = restart_run(
        ready,
        &format!(
            r#"count: 20, kind: Server, {window}, scheduled_restart: ScheduledRestart(recurrence: Daily, start: "22:00")"#
        ),
        &format!("{suppress}, honor_maintenance_windows: false"),
    );
    assert_eq!(out.totals.restarts_scheduled, 20);
    assert_eq!(planned(&records).len(), 20);
    for (at, (cause, after)) in planned(&records) {
        assert_eq!(cause, RestartCause::Scheduled);
        assert_eq!(at + SimDuration(after), SimTime(22 * H));
    }
    for a in &out.deployments[0].assignments {
        assert_eq!(a.true_compliant_at, SimTime(22 * H + 3 * M));
    }
}

/// A deployment's deadline behaviour sets the install and the restart
/// apart (Microsoft: "whether to install the software updates, and
/// whether to perform a system restart after installation" outside the
/// maintenance windows). Installing outside the windows at the deadline
/// still restarts in the next window, unless restarts may also come
/// outside them, after the countdown.
#[test]
fn a_deadline_install_outside_the_windows_restarts_in_one_by_default() {
    let ready = r#"user_restart_delay: Fixed("5h")"#;
    let window = r#"maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "01:00", length: "3h")]"#;
    let cohort = format!("count: 20, kind: Server, {window}");
    let (out, records) = restart_run(ready, &cohort, "honor_maintenance_windows: false");
    assert_eq!(out.totals.restarts_in_window, 20);
    assert_eq!(out.totals.restarts_forced, 0);
    assert_eq!(planned(&records).len(), 20);
    for (at, (cause, after)) in planned(&records) {
        assert!(
            at < SimTime(DAY),
            "installed outside the window, the first day"
        );
        assert_eq!(cause, RestartCause::InWindow);
        assert_eq!(at + SimDuration(after), SimTime(DAY + H));
    }
    let (out, records) = restart_run(
        ready,
        &cohort,
        "honor_maintenance_windows: false, restart_outside_windows: true",
    );
    assert_eq!(out.totals.restarts_in_window, 0);
    assert_eq!(planned(&records).len(), 20);
    for (at, (cause, _)) in planned(&records) {
        assert!(at < SimTime(DAY));
        assert_eq!(cause, RestartCause::Forced, "the countdown, not the window");
    }
}

/// An Available install that needs a restart: the user restarts when they
/// choose, never at a reminder and never forced.
#[test]
fn available_restarts_are_the_users_own() {
    let (out, records) = traced(&scenario(
        3,
        r#"user_restart_delay: Fixed("5h"), restart_duration: Fixed("3m")"#,
        r#"count: 200, available_install_share: 1.0, available_install_delay: Fixed("1h")"#,
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("10m")),"#,
        r#"updates: ["KB1"], purpose: Available"#,
    ));
    assert_eq!(installed(&out), 200);
    assert_eq!(restarts(&records), vec![(RestartCause::User, 5 * H); 200]);
    assert_eq!(out.totals.restarts_forced, 0);
}

/// A timeline row at `t` counts every event at a time up to `t`, those
/// handled after the row's own sample at `t` included: servers whose
/// suppressed restart comes at the administrator's 12:00 schedule and
/// takes no time become truly installed at exactly 12:00:00.000, a sample
/// time, and the 12:00 row counts them.
#[test]
fn a_row_counts_the_events_at_its_own_time() {
    let (out, records) = traced(&scenario(
        2,
        r#"restart_duration: Fixed("0s")"#,
        r#"count: 20, kind: Server, scheduled_restart: ScheduledRestart(recurrence: Daily, start: "12:00")"#,
        r#"Update(id: "KB1", size: "20MB", install_time: Fixed("20m"))"#,
        r#"updates: ["KB1"], suppress_restart: [Server]"#,
    ));
    let noon = SimTime(12 * H);
    let mut installed_at = Vec::new();
    for r in &records {
        if let TraceEvent::TrueState { to, .. } = r.event {
            if to.state() == Compliance::Installed {
                installed_at.push(r.time);
            }
        }
    }
    assert_eq!(installed_at, vec![noon; 20], "all at the scheduled restart");
    for row in &out.timeline {
        let by_then = installed_at.iter().filter(|&&t| t <= row.time).count();
        assert_eq!(
            row.truth[Compliance::Installed as usize] as usize,
            by_then,
            "row at {}",
            row.time
        );
    }
    assert!(out.timeline.iter().any(|row| row.time == noon));
}
