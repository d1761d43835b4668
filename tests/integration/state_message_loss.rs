//! Lost state messages and the resync that recovers them (docs/model.md,
//! "State messages"): a share of a cohort's batches is lost after the
//! management point took them; the site notices the gap in the client's
//! serial numbers only when a later batch arrives, asks the client to
//! resync once the messages have been missing for 48 hours (at its hourly
//! resync check), the request reaches the client with its next policy
//! answer, and the client resends its full state with its next batch. Until then the reported view lags the truth;
//! with no later batch, a lost message stays lost.

use crate::common;

use std::collections::BTreeMap;

use common::traced;
use patchsim::estate::Estate;
use patchsim::model::{self, Compliance, Request, RunOptions, TraceEvent, TraceRecord};

/// `count` always-on clients scanning daily, with `loss` of their batches
/// lost; KB1 (synced before the start) is deployed on Monday 10:00 with a
/// deadline that evening, so that every install and restart is over by
/// Tuesday and the rest of the week is quiet but for the daily scans.
fn estate(count: u32, loss: f64, seed: u64) -> Estate {
    common::small(
        "state-message-loss",
        seed,
        "8d",
        &format!(
            r#"client_settings: ClientSettings(scan_interval: "1d"),
    cohorts: [Cohort(name: "all", count: {count}, management_point: "mp", update_point: "sup",
                     distribution_point: "dp", state_message_loss: {loss})],
    updates: [Update(id: "KB1", size: "50MB", applicability: 0.9)],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-09T10:00:00Z",
                             deadline: "2026-11-09T18:00:00Z")],"#
        ),
    )
}

/// Each client's records, in order.
fn by_client(records: &[TraceRecord]) -> BTreeMap<u32, Vec<TraceRecord>> {
    let mut out: BTreeMap<u32, Vec<TraceRecord>> = BTreeMap::new();
    for r in records {
        if let Some(c) = r.client {
            out.entry(c.0).or_default().push(*r);
        }
    }
    out
}

/// The share of the batches the MP took that are lost is the cohort's
/// `state_message_loss`, within four standard errors of a binomial share
/// over that many batches; and every queued message is in the database,
/// lost, or still on its way at the end.
#[test]
fn the_cohort_loses_its_share_of_batches() {
    let p = 0.2;
    let outcome = model::run(&estate(400, p, 1), RunOptions::default()).expect("ran");
    let taken = outcome.servers[0].total.served[Request::Batch as usize];
    let t = &outcome.totals;
    let share = t.batches_lost as f64 / taken as f64;
    let tolerance = 4.0 * (p * (1.0 - p) / taken as f64).sqrt();
    assert!(taken > 4_000, "{taken} batches");
    assert!(
        (share - p).abs() < tolerance,
        "{} of {taken} batches lost: {share:.4}, not {p} ± {tolerance:.4}",
        t.batches_lost
    );
    assert_eq!(
        t.state_messages_queued,
        t.state_messages_in_database + t.state_messages_lost + outcome.messages_pending_at_end
    );
}

/// With an MP that forwards after an hour, a client sends several batches
/// before the first reaches the database, and a batch lost at its MP is
/// the last one sent, not the oldest one on its way: the law checker
/// pairs each arrival with its own batch and finds every law kept.
#[test]
fn a_batch_lost_while_earlier_ones_are_on_their_way() {
    let estate = common::Scenario::new("loss-in-transit")
        .seed(1)
        .duration("3d")
        .site(r#"content_ready_delay: Fixed("30m"), mp_forward_delay: "1h""#)
        .body(
            r#"client_settings: ClientSettings(scan_interval: "1d"),
    cohorts: [Cohort(name: "all", count: 40, management_point: "mp", update_point: "sup",
                     distribution_point: "dp", state_message_loss: 0.5)],
    updates: [Update(id: "KB1", size: "50MB", applicability: 0.9)],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-09T10:00:00Z",
                             deadline: "2026-11-09T18:00:00Z")],"#,
        )
        .estate();
    let (_, records) = traced(&estate);
    let mut on_their_way: BTreeMap<u32, u32> = BTreeMap::new();
    let mut lost_behind_others = 0;
    for r in &records {
        let Some(c) = r.client else { continue };
        let n = on_their_way.entry(c.0).or_default();
        match r.event {
            TraceEvent::BatchSent { .. } => *n += 1,
            TraceEvent::BatchInDatabase { .. } => *n -= 1,
            TraceEvent::BatchLost { .. } => {
                *n -= 1;
                if *n > 0 {
                    lost_behind_others += 1;
                }
            }
            _ => {}
        }
    }
    assert!(
        lost_behind_others > 0,
        "no batch was lost while an earlier one was on its way"
    );
    if let Err(v) = patchsim::app::run_checked(&estate) {
        panic!("{v}");
    }
}

/// The site sees a gap when a batch arrives after a lost one, and asks
/// for the resync at its first resync check (hourly from the start) once
/// the messages have been missing for the minimum age, 48 hours; a gap
/// seen while one waits, or while a resync is asked, adds nothing. The
/// client resyncs at a later policy answer, and its resync leaves in its
/// next batch. A client whose last batch was lost is never asked: nothing
/// tells the site.
#[test]
fn a_gap_is_noticed_only_when_a_later_batch_arrives() {
    use patchsim::engine::SimTime;
    let estate = estate(300, 0.3, 2);
    if let Err(v) = patchsim::app::run_checked(&estate) {
        panic!("{v}");
    }
    let (outcome, records) = traced(&estate);
    let t = &outcome.totals;
    assert!(t.batches_lost > 100 && t.resync_requests > 50 && t.resyncs > 50);
    let hour = 3_600_000;
    let check = |seen: SimTime| SimTime((seen.as_ms() + 48 * hour).div_ceil(hour) * hour);
    let mut never_noticed = 0;
    for (c, recs) in by_client(&records) {
        let (mut lost, mut waiting, mut asked, mut last_batch) = (false, None, false, "");
        for r in &recs {
            match r.event {
                TraceEvent::BatchLost { .. } => {
                    lost = true;
                    last_batch = "lost";
                }
                TraceEvent::BatchInDatabase { .. } => {
                    if lost && waiting.is_none() && !asked {
                        waiting = Some(check(r.time));
                    }
                    lost = false;
                    last_batch = "in database";
                }
                TraceEvent::ResyncRequested => {
                    assert_eq!(
                        Some(r.time),
                        waiting,
                        "client {c}: a resync asked at {} but the gap's check is {waiting:?}",
                        r.time
                    );
                    waiting = None;
                    asked = true;
                }
                TraceEvent::Resync { messages } => {
                    assert!(asked, "client {c} resyncs at {} unasked", r.time);
                    assert!(messages > 0);
                    asked = false;
                }
                _ => {}
            }
        }
        if last_batch == "lost" && waiting.is_none() && !asked {
            never_noticed += 1;
        }
    }
    assert!(never_noticed > 0, "some client's last batch is lost");
}

/// A client whose lost batches were all made good by a resync that reached
/// the database shows at the end what it truly is; some clients were
/// reported installed only through a resync (the lag); and clients whose
/// latest loss is not made good may stay wrong: the share that stays
/// wrong is no more than the share of those.
#[test]
fn the_reported_view_catches_up_when_the_resync_lands() {
    let (outcome, records) = traced(&estate(300, 0.3, 3));
    let d = &outcome.deployments[0];
    let mut through_resync = 0;
    let mut stale_at_end = 0;
    for (c, recs) in by_client(&records) {
        // Stale: a batch was lost and no resync since has reached the
        // database. `carrying`: the batch out carries a resync.
        let (mut stale, mut resync_queued, mut carrying) = (false, false, false);
        let (mut truly, mut reported) = (Compliance::Unknown, Compliance::Unknown);
        let mut resynced = false;
        for r in &recs {
            match r.event {
                TraceEvent::Resync { .. } => resync_queued = true,
                TraceEvent::BatchSent { .. } => {
                    carrying = std::mem::take(&mut resync_queued);
                }
                TraceEvent::BatchLost { .. } => {
                    stale = true;
                    carrying = false;
                }
                TraceEvent::BatchInDatabase { .. } => {
                    if carrying {
                        stale = false;
                        resynced = true;
                    }
                    carrying = false;
                }
                TraceEvent::TrueState { to, .. } => truly = to.state(),
                TraceEvent::ReportedState { to, .. } => {
                    reported = to.state();
                    if resynced && to.state() == Compliance::Installed {
                        through_resync += 1;
                    }
                    resynced = false;
                }
                _ => {}
            }
        }
        if stale {
            stale_at_end += 1;
        } else {
            assert_eq!(
                reported, truly,
                "client {c}: every loss made good, yet reported {reported:?}, truly {truly:?}"
            );
        }
    }
    assert!(
        through_resync > 0,
        "no client was reported installed by a resync"
    );
    let wrong = (0..4)
        .map(|s| d.final_truth[s].abs_diff(d.final_reported[s]))
        .sum::<u32>()
        / 2;
    assert!(
        wrong <= stale_at_end,
        "{wrong} clients reported wrong at the end, {stale_at_end} with a loss not made good"
    );
}

/// With every batch lost, nothing reaches the database after the start:
/// no batch arrives to show a gap, no resync is asked, and the site still
/// shows KB1 required on clients that have long installed it.
#[test]
fn with_no_later_batch_a_lost_message_stays_lost() {
    let (outcome, records) = traced(&estate(100, 1.0, 4));
    let t = &outcome.totals;
    assert_eq!(t.state_messages_in_database, 0);
    assert_eq!(t.batches_lost, t.batches);
    assert_eq!((t.resync_requests, t.resyncs), (0, 0));
    assert!(!records.iter().any(|r| r.event.name() == "reported_state"));
    let d = &outcome.deployments[0];
    let installed = Compliance::Installed as usize;
    assert!(d.final_truth[installed] > 80, "{:?}", d.final_truth);
    assert_eq!(d.final_reported[installed], 0, "{:?}", d.final_reported);
}
