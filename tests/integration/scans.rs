//! Which scans reach the software update point (docs/model.md, "Compliance
//! scan"): the scan time to live, offline scans after installs and
//! restarts, the scan before a deadline install, and the re-evaluation.

use crate::common;

use common::traced;
use patchsim::engine::SimTime;
use patchsim::estate::{ClientId, Estate};
use patchsim::model::{
    Outcome, Request, ScanCause, ScanSource, ServerRole, TraceEvent, TraceRecord,
};

const H: u64 = 3_600_000;

/// A Monday-midnight scenario with one MP, SUP and DP and one always-on
/// cohort of `count` clients.
fn scenario(days: u32, top: &str, settings: &str, count: u32, rest: &str) -> Estate {
    common::small(
        "scans",
        11,
        &format!("{days}d"),
        &format!(
            r#"{top}
    client_settings: ClientSettings({settings}),
    cohorts: [Cohort(name: "all", count: {count}, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    {rest}"#
        ),
    )
}

/// Scan requests that reached the SUPs.
fn sup_scans(out: &Outcome) -> u64 {
    (out.servers.iter())
        .filter(|s| s.role == ServerRole::UpdatePoint)
        .map(|s| {
            s.total.arrived[Request::FullScan as usize]
                + s.total.arrived[Request::DeltaScan as usize]
        })
        .sum()
}

fn starts(records: &[TraceRecord], source: ScanSource) -> usize {
    (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ScanStart { source: s, .. } if s == source))
        .count()
}

/// The scans after an install and after a restart are forced offline
/// scans: they evaluate the metadata the client has and never reach the
/// SUP. Every offline scan follows an install or a restart.
#[test]
fn scans_after_installs_and_restarts_never_reach_the_sup() {
    let estate = scenario(
        4,
        "",
        "",
        300,
        r#"updates: [Update(id: "R", size: "10MB", install_time: Fixed("10m")),
                     Update(id: "N", size: "10MB", install_time: Fixed("10m"), restart_probability: 0.0)],
           deployments: [Deployment(name: "restart", updates: ["R"], targets: ["all"], created: "2026-11-09T06:00:00Z"),
                         Deployment(name: "no-restart", updates: ["N"], targets: ["all"], created: "2026-11-10T06:00:00Z")],"#,
    );
    let (out, records) = traced(&estate);
    assert_eq!(out.totals.installs, 600, "both updates everywhere");
    let online = starts(&records, ScanSource::UpdatePoint);
    let offline = starts(&records, ScanSource::LocalMetadata);
    assert_eq!(
        sup_scans(&out),
        online as u64,
        "only online scans reach the SUP"
    );
    assert_eq!(out.totals.scans_offline, offline as u64);
    assert_eq!(
        out.totals.scans,
        (online + offline) as u64,
        "every scan that started finished"
    );
    // One offline scan after each restart and one after each install that
    // needed none (fewer where a restart came due during the second
    // install: one scan after it verifies both).
    assert!((570..=600).contains(&offline), "{offline} offline scans");
    let mut last: Vec<Option<TraceEvent>> = vec![None; 300];
    for r in &records {
        let Some(ClientId(c)) = r.client else {
            continue;
        };
        match r.event {
            TraceEvent::InstallDone | TraceEvent::RestartDone => last[c as usize] = Some(r.event),
            TraceEvent::ScanStart {
                source: ScanSource::LocalMetadata,
                ..
            } => {
                assert!(
                    last[c as usize].take().is_some(),
                    "client {c}: an offline scan at {} follows an install or a restart",
                    r.time
                );
            }
            _ => {}
        }
    }
}

/// At the deadline the client confirms the updates are still required
/// before installing: an online scan when its last results are older than
/// the time to live (here: evaluated and downloaded three days before), so
/// every install starts within a day of an online scan. A client whose
/// results are current reuses them, and the trace and the totals say so.
#[test]
fn a_deadline_install_follows_a_scan() {
    let estate = scenario(
        5,
        "",
        "",
        200,
        r#"updates: [Update(id: "U", size: "10MB", install_time: Fixed("10m"))],
           deployments: [Deployment(name: "d", updates: ["U"], targets: ["all"],
                                    created: "2026-11-09T06:00:00Z", deadline: "2026-11-12T12:00:00Z")],"#,
    );
    let (out, records) = traced(&estate);
    assert_eq!(out.totals.installs, 200);
    let deadline = SimTime(3 * 24 * H + 12 * H);
    let mut online_at = vec![None; 200];
    let mut reused_at = vec![None; 200];
    let (mut checked, mut at_deadline, mut reused) = (0, 0, 0);
    for r in &records {
        let Some(ClientId(c)) = r.client else {
            continue;
        };
        match r.event {
            TraceEvent::ScanStart {
                source: ScanSource::UpdatePoint,
                ..
            } => online_at[c as usize] = Some(r.time),
            TraceEvent::ScanReused => reused_at[c as usize] = Some(r.time),
            TraceEvent::InstallStart { .. } => {
                assert!(r.time >= deadline, "client {c} installs at the deadline");
                let last = online_at[c as usize].expect("scanned online");
                assert!(
                    r.time.since(last) < model_hour(25),
                    "client {c}: its last online scan began at {last}, the install at {}",
                    r.time
                );
                if last >= deadline {
                    at_deadline += 1;
                } else {
                    assert_eq!(
                        reused_at[c as usize],
                        Some(r.time),
                        "client {c} reused its results for the install at {}",
                        r.time
                    );
                    reused += 1;
                }
                checked += 1;
            }
            _ => {}
        }
    }
    assert_eq!(checked, 200);
    // Most clients' scheduled scans (every 7 days) were not in the day
    // before the deadline: they scanned at it; the others reused.
    assert!(at_deadline > 150, "{at_deadline} scanned at the deadline");
    assert!(reused > 0, "{reused} reused their results");
    assert!(out.totals.scans_reused >= reused as u64);
}

/// A scan that is not forced reuses the last results inside the time to
/// live: with a 12-hour schedule and no random delay, one scheduled scan in
/// three reaches the SUP (the next two fall inside its 24 hours). With a
/// one-minute time to live every scheduled scan does.
#[test]
fn scheduled_scans_inside_the_time_to_live_reuse_the_results() {
    let run = |ttl: &str| {
        let estate = scenario(
            13,
            "",
            &format!(
                r#"scan_interval: "12h", scan_random_delay: "0s", reevaluation_interval: "31d", scan_ttl: "{ttl}""#
            ),
            200,
            r#"updates: [Update(id: "U", size: "10MB")], deployments: [],"#,
        );
        common::simulate(&estate)
    };
    let default = run("24h");
    let short = run("1m");
    // 13 days: 26 scheduled scans a client (the first at a random phase
    // in the first 12 hours), the last 12 hours' maybe not yet.
    let per_client = |n: u64| n as f64 / 200.0;
    let online = per_client(sup_scans(&default));
    let reused = per_client(default.totals.scans_reused);
    assert!(
        (8.0..=9.5).contains(&online),
        "{online} online scans a client"
    );
    assert!((16.0..=18.5).contains(&reused), "{reused} reused a client");
    let all_online = per_client(sup_scans(&short));
    assert!((25.0..=26.0).contains(&all_online), "{all_online}");
    assert_eq!(short.totals.scans_reused, 0);
}

/// Metadata fetched before new updates reached the site is not current:
/// the evaluation of a deployment of a just-synced update reuses results
/// only when they were fetched after the sync; otherwise it scans the SUP
/// even inside the time to live, and finds the update.
#[test]
fn a_sync_makes_the_cached_metadata_stale() {
    let estate = scenario(
        2,
        r#"sync: Sync(manual: ["2026-11-09T12:00:00Z"]),"#,
        r#"first_scan_window: "1h", scan_interval: "1d", scan_random_delay: "0s""#,
        100,
        r#"updates: [Update(id: "OLD", size: "10MB"),
                     Update(id: "NEW", size: "10MB", release: "2026-11-09T11:00:00Z")],
           deployments: [Deployment(name: "new", updates: ["NEW"], targets: ["all"], created: "2026-11-09T13:00:00Z")],"#,
    );
    let (out, records) = traced(&estate);
    let mut synced = None;
    let mut learned = [false; 100];
    let mut online_at = vec![None; 100];
    let (mut online, mut reused) = (0, 0);
    for r in &records {
        let Some(ClientId(c)) = r.client else {
            if let TraceEvent::UpdateSynced { .. } = r.event {
                synced = Some(r.time);
            }
            continue;
        };
        let c = c as usize;
        match r.event {
            TraceEvent::PolicyReceived { .. } => learned[c] = true,
            TraceEvent::ScanStart { source, .. } if learned[c] => {
                assert_eq!(source, ScanSource::UpdatePoint, "client {c}");
                online += 1;
                learned[c] = false;
            }
            TraceEvent::ScanStart {
                source: ScanSource::UpdatePoint,
                ..
            } => online_at[c] = Some(r.time),
            TraceEvent::ScanReused if learned[c] => {
                let synced = synced.expect("the sync came first");
                assert!(
                    online_at[c].is_some_and(|t| t >= synced),
                    "client {c} reused results from {:?}, before the sync at {synced}",
                    online_at[c]
                );
                reused += 1;
                learned[c] = false;
            }
            _ => {}
        }
    }
    assert_eq!(online + reused, 100);
    assert!(
        online > 30 && reused > 3,
        "{online} online, {reused} reused"
    );
    assert_eq!(out.deployments[0].final_truth[0], 100, "all installed");
}

/// The deployment re-evaluation scans (online outside the time to live)
/// and re-evaluates every deployment, compliant ones too: each sends its
/// evaluation (302) again.
#[test]
fn a_reevaluation_scans_and_reevaluates_every_deployment() {
    let estate = scenario(
        9,
        "",
        r#"scan_interval: "31d", reevaluation_interval: "1d""#,
        100,
        r#"updates: [Update(id: "U", size: "10MB", install_time: Fixed("10m"))],
           deployments: [Deployment(name: "d", updates: ["U"], targets: ["all"], created: "2026-11-09T00:00:00Z")],"#,
    );
    let (out, records) = traced(&estate);
    let mut cycles = vec![Vec::new(); 100];
    let mut evaluations = vec![Vec::new(); 100];
    for r in &records {
        let Some(ClientId(c)) = r.client else {
            continue;
        };
        match r.event {
            TraceEvent::ReevaluationCycle => cycles[c as usize].push(r.time),
            TraceEvent::MessageQueued { topic: 302, .. } => evaluations[c as usize].push(r.time),
            _ => {}
        }
    }
    for c in 0..100 {
        // From day 2 on the client is compliant; every cycle after that
        // evaluates the deployment again.
        let late: Vec<_> = (cycles[c].iter())
            .filter(|&&t| t >= SimTime(2 * 24 * H))
            .collect();
        assert!(late.len() >= 6, "client {c}: {} cycles", late.len());
        for &&t in &late {
            assert!(
                (evaluations[c].iter()).any(|&e| e >= t && e <= t + model_hour(1)),
                "client {c}: the re-evaluation at {t} evaluated the deployment"
            );
        }
    }
    // A daily cycle comes back just inside the previous online scan's 24
    // hours (counted from its end): every other one reaches the SUP.
    let online = sup_scans(&out) as f64 / 100.0;
    let reused = out.totals.scans_reused as f64 / 100.0;
    assert!(online >= 4.0, "{online} SUP scans a client in 9 days");
    assert!(reused >= 3.0, "{reused} reused a client in 9 days");
}

fn model_hour(h: u64) -> patchsim::engine::SimDuration {
    patchsim::engine::SimDuration::from_hours(h)
}

/// Each scan says why it ran, and the summary counts finished scans by
/// that cause: the evaluation of a new deployment, the check before a
/// deadline install (the results past their time to live), the
/// re-evaluation and scan schedules, and the offline verification after
/// an install or a restart. Here every scan finishes, so the trace's
/// starts by cause are the summary's counts, and they add up to `scans`.
#[test]
fn every_scan_says_why_it_ran() {
    let estate = scenario(
        8,
        "",
        r#"reevaluation_interval: "2d""#,
        200,
        r#"updates: [Update(id: "U", size: "10MB", install_time: Fixed("10m"))],
           deployments: [Deployment(name: "d", updates: ["U"], targets: ["all"],
                                    created: "2026-11-09T06:00:00Z", deadline: "2026-11-12T12:00:00Z")],"#,
    );
    let (out, records) = traced(&estate);
    let deadline = SimTime(3 * 24 * H + 12 * H);
    let mut started = [0u64; ScanCause::ALL.len()];
    // What each client's next scan may be for, from what happened since
    // its last scan began.
    let mut since = vec![Vec::new(); 200];
    let mut seen_policy = [false; 200];
    for r in &records {
        let Some(ClientId(c)) = r.client else {
            continue;
        };
        let seen = &mut since[c as usize];
        match r.event {
            TraceEvent::PolicyReceived { .. } => {
                seen_policy[c as usize] = true;
                seen.push(ScanCause::Evaluation)
            }
            // A re-evaluation with no deployment known re-evaluates nothing.
            TraceEvent::ReevaluationCycle if seen_policy[c as usize] => {
                seen.push(ScanCause::Reevaluation)
            }
            TraceEvent::ScanCycle => seen.push(ScanCause::Schedule),
            // Current results answered what was due: no scan runs.
            TraceEvent::ScanReused => seen.retain(|&k| k == ScanCause::Verification),
            TraceEvent::InstallDone | TraceEvent::RestartDone => seen.push(ScanCause::Verification),
            TraceEvent::ScanStart { cause, source, .. } => {
                assert_eq!(
                    source == ScanSource::UpdatePoint,
                    cause != ScanCause::Verification,
                    "client {c} at {}: only verifications are offline",
                    r.time
                );
                let first = !records.iter().any(|b| {
                    b.time < r.time
                        && b.client == r.client
                        && matches!(b.event, TraceEvent::ScanStart { .. })
                });
                // A client's first scan is its schedule's first.
                if first {
                    seen.push(ScanCause::Schedule);
                }
                // Each cause came up since the last scan (a scheduled
                // one may wait out its random delay, an evaluation its
                // own, so the order among them is not read from here).
                let explained = match cause {
                    ScanCause::Enforcement => r.time >= deadline,
                    _ => seen.contains(&cause),
                };
                assert!(
                    explained,
                    "client {c}: a scan at {} for {cause:?} after {seen:?}",
                    r.time
                );
                started[ScanCause::ALL.iter().position(|&k| k == cause).unwrap()] += 1;
                seen.clear();
            }
            _ => {}
        }
    }
    let counted = ScanCause::ALL.map(|k| out.totals.scans_by_cause.of(k));
    assert_eq!(counted, started, "the summary counts the trace's scans");
    assert_eq!(counted.iter().sum::<u64>(), out.totals.scans);
    assert_eq!(
        out.totals.scans_by_cause.verification,
        out.totals.scans_offline
    );
    let [
        evaluation,
        reevaluation,
        schedule,
        enforcement,
        verification,
    ] = counted;
    // A client whose first scheduled scan is under a day old when the
    // deployment arrives evaluates it from those results.
    assert!(
        evaluation > 0 && evaluation + out.totals.scans_reused >= 200,
        "{evaluation} evaluation scans, {} reused",
        out.totals.scans_reused
    );
    assert!(
        enforcement > 150,
        "{enforcement}: most evaluated three days before the deadline"
    );
    assert!(reevaluation > 200, "{reevaluation} re-evaluation scans");
    // Each client's first scan is its schedule's, unless the deployment's
    // evaluation fell due by then (the evaluation is the cause).
    assert!(schedule > 100, "{schedule} scheduled scans");
    assert!(verification >= 200, "{verification} offline scans");
}
