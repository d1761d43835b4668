//! A catalog sync fails when the top-level SUP is down as it starts or goes
//! down while it runs (status message 6703): nothing is inserted, and
//! WSyncMgr retries `sync.retry_interval` (60 minutes) later, again and
//! again until a retry succeeds (docs/model.md, "Catalog sync").

use crate::common;

use common::{Scenario, traced};
use patchsim::engine::SimTime;
use patchsim::estate::Estate;
use patchsim::model::{SyncKind, TraceEvent, TraceRecord};

const H: u64 = 3_600_000;
const M: u64 = 60_000;

/// Patch Tuesday at a standalone site (time zero is Monday 00:00 UTC): KB1
/// is released on Tuesday at 18:00 and the administrator syncs by hand at
/// 19:30; the deployment is created at 20:00. `faults` goes into the
/// scenario as it is.
fn patch_tuesday(faults: &str, retry: &str) -> Estate {
    Scenario::new("sync-failure")
        .seed(11)
        .duration("3d")
        .sample_interval("1h")
        .sync(&format!(
            r#"manual: ["2026-11-10T19:30:00Z"], delta_duration: Fixed("5m"),
               per_new_update: "5s", poll_interval: "1m", pull_delay: "2m",
               insert_per_update: "2s" {retry}"#
        ))
        .body(&format!(
            r#"faults: [{faults}],
    cohorts: [Cohort(name: "all", count: 200, management_point: "mp", update_point: "sup",
                     distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "100MB", release: "2026-11-10T18:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-10T20:00:00Z",
                             deadline: "2026-11-11T20:00:00Z")],"#
        ))
        .estate()
}

/// Tuesday at `h:m`.
fn tuesday(h: u64, m: u64) -> SimTime {
    SimTime(24 * H + h * H + m * M)
}

/// When each client first queued a detection message (topic 500) for KB1.
fn first_reports(records: &[TraceRecord]) -> Vec<SimTime> {
    let mut first = std::collections::BTreeMap::new();
    for r in records {
        if let (Some(c), TraceEvent::MessageQueued { topic: 500, .. }) = (r.client, r.event) {
            first.entry(c).or_insert(r.time);
        }
    }
    first.into_values().collect()
}

/// The SUP is down from 19:00 to 21:00 over the 19:30 manual sync: it
/// fails at once; its retry at 20:30 fails too; the retry at 21:30 brings
/// KB1. No client reports KB1 before that retry, where without the outage
/// every client has reported it by then.
#[test]
fn a_sup_outage_over_the_sync_delays_every_first_report_until_the_retry() {
    let outage =
        r#"Fault(server: "sup", start: "2026-11-10T19:00:00Z", end: "2026-11-10T21:00:00Z")"#;
    let estate = patch_tuesday(outage, "");
    let (outcome, records) = traced(&estate);
    let retry = tuesday(21, 30);

    let first = first_reports(&records);
    assert_eq!(first.len(), 200, "every client reports KB1 in the end");
    assert!(
        first.iter().all(|&t| t > retry),
        "a first report of KB1 before the retry at {retry}: {:?}",
        first.iter().min()
    );

    let syncs: Vec<_> = outcome
        .syncs
        .iter()
        .filter(|s| s.started >= tuesday(19, 0))
        .collect();
    assert_eq!(syncs.len(), 3, "{syncs:#?}");
    for (s, at) in syncs.iter().zip([tuesday(19, 30), tuesday(20, 30)]) {
        assert_eq!(
            (s.kind, s.started, s.failed),
            (SyncKind::Delta, at, Some(at))
        );
        assert!(s.finished.is_none() && s.new_updates.is_empty(), "{s:?}");
    }
    // The retry: WSUS for 5 min 5 s, polled each minute (done at the 6th
    // poll), 2 min of sleep, 2 s to insert KB1.
    let done = retry.as_ms() + 6 * M + 2 * M + 2_000;
    assert_eq!(syncs[2].started, retry);
    assert_eq!(syncs[2].failed, None);
    assert_eq!(syncs[2].finished, Some(SimTime(done)));
    assert_eq!(outcome.synced_at[0], Some(SimTime(done)));
    assert_eq!(outcome.totals.syncs_failed, 2);
    let names: Vec<&str> = (records.iter())
        .filter(|r| r.client.is_none() && r.time >= tuesday(19, 0))
        .map(|r| r.event.name())
        .filter(|n| n.starts_with("sync_") && *n != "sync_poll")
        .collect();
    assert_eq!(
        names,
        [
            "sync_start_delta",
            "sync_failed",
            "sync_retry",
            "sync_start_delta",
            "sync_failed",
            "sync_retry",
            "sync_start_delta",
            "sync_inserted"
        ]
    );

    // The same estate without the outage: the 19:30 sync brings KB1 and
    // clients report it before the retry would even start.
    let (calm, calm_records) = traced(&patch_tuesday("", ""));
    assert_eq!(calm.totals.syncs_failed, 0);
    let calm_first = first_reports(&calm_records);
    assert_eq!(calm_first.len(), 200);
    assert!(
        calm_first.iter().any(|&t| t < retry),
        "the outage made no difference"
    );
}

/// The retry interval is a scenario setting; a SUP that goes down while
/// the sync runs (and is back before WSyncMgr's next poll) fails it too,
/// noticed at that poll.
#[test]
fn an_outage_while_the_sync_runs_fails_it_at_the_next_poll() {
    // Down for 30 s, two minutes into the 19:30 sync.
    let blip =
        r#"Fault(server: "sup", start: "2026-11-10T19:32:10Z", end: "2026-11-10T19:32:40Z")"#;
    let estate = patch_tuesday(blip, r#", retry_interval: "20m""#);
    let (outcome, _) = traced(&estate);
    let syncs: Vec<_> = (outcome.syncs.iter())
        .filter(|s| s.started >= tuesday(19, 0))
        .collect();
    assert_eq!(syncs.len(), 2, "{syncs:#?}");
    assert_eq!(syncs[0].failed, Some(tuesday(19, 33)), "the poll after");
    assert_eq!(syncs[1].started, tuesday(19, 53));
    assert!(syncs[1].finished.is_some() && syncs[1].failed.is_none());
    assert_eq!(syncs[1].new_updates.len(), 1);
}

/// The trace has a sync start for each sync that begins, at its begin:
/// a scheduled trigger while a sync runs starts none and leaves no record
/// (it used to be traced as a start), and every start matches a sync of
/// the summary.
#[test]
fn the_trace_starts_only_the_syncs_that_begin() {
    let estate = Scenario::new("sync2")
        .seed(4)
        .duration("2d")
        .no_site()
        .sync(
            r#"first_scheduled: "2026-11-09T06:00:00Z", schedule_interval: "1d",
               manual: ["2026-11-09T05:58:00Z", "2026-11-10T06:30:00Z"]"#,
        )
        .body(
            r#"cohorts: [Cohort(name: "on", count: 5, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "100MB", release: "2026-11-09T05:00:00Z")],
    deployments: [],"#,
        )
        .estate();
    let (outcome, records) = traced(&estate);
    let starts: Vec<(SyncKind, SimTime)> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::SyncStartFull => Some((SyncKind::Full, r.time)),
            TraceEvent::SyncStartDelta => Some((SyncKind::Delta, r.time)),
            _ => None,
        })
        .collect();
    let syncs: Vec<(SyncKind, SimTime)> = (outcome.syncs.iter())
        .map(|s| (s.kind, s.started))
        .collect();
    assert_eq!(starts, syncs);
    // The 06:00 full sync of the first day came while the 05:58 delta ran.
    assert_eq!(
        syncs[0],
        (SyncKind::Delta, SimTime(5 * 3_600_000 + 58 * 60_000))
    );
    assert!(
        syncs
            .iter()
            .all(|&(k, t)| !(k == SyncKind::Full && t == SimTime(6 * 3_600_000)))
    );
}
