//! Content location as a step of every download: the client's content
//! transfer job asks its management point which distribution points hold
//! the content, and only the answer sends it to its DP. A location request
//! the MP turns down is retried with the client's MP backoff
//! (docs/model.md, "Deployment").

use crate::common;

use std::collections::BTreeMap;

use common::{Scenario, traced};
use patchsim::engine::SimTime;
use patchsim::estate::Estate;
use patchsim::model::{Request, TraceEvent, TraceRecord};

/// 300 always-on clients and one deployment of a 200 MB update, created on
/// Monday at 10:00 and due at once; `mp` and `faults` go into the scenario
/// as they are.
fn estate(mp: &str, faults: &str) -> Estate {
    Scenario::new("content-location")
        .seed(3)
        .duration("2d")
        .sample_interval("1h")
        .mp(mp)
        .body(&format!(
            r#"faults: [{faults}],
    cohorts: [Cohort(name: "all", count: 300, management_point: "mp", update_point: "sup",
                     distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "200MB", applicability: 0.8)],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-09T10:00:00Z")],"#
        ))
        .estate()
}

fn count(records: &[TraceRecord], name: &str) -> u64 {
    records.iter().filter(|r| r.event.name() == name).count() as u64
}

/// The MP serves one content location request per download start, the DP
/// sees one download per answer, and no client reaches its DP sooner than
/// the MP's (fixed, 2 s) answer to its own request for that content.
#[test]
fn every_download_starts_at_its_location_answer() {
    let (outcome, records) = traced(&estate(r#"location_time: Fixed("2s")"#, ""));
    let starts = count(&records, "download_start");
    assert!(starts >= 200, "most of the 300 clients download: {starts}");
    let mp = &outcome.servers[0].total;
    let kind = Request::ContentLocation as usize;
    assert_eq!(
        mp.arrived[kind],
        count(&records, "content_location_request")
    );
    assert_eq!(mp.served[kind], starts, "one answer per download start");
    assert_eq!(mp.rejected[kind], 0);
    let dp = &outcome.servers[2].total;
    assert_eq!(dp.arrived[Request::Download as usize], starts);
    // The load rows add up to the same.
    let rows: u64 = (outcome.load.iter())
        .filter(|r| r.server == 0)
        .map(|r| r.counts.served[kind])
        .sum();
    assert_eq!(rows, starts);

    let mut asked: BTreeMap<u32, SimTime> = BTreeMap::new();
    for r in &records {
        let c = r.client.map(|c| c.0);
        match r.event {
            TraceEvent::ContentLocationRequest { .. } => {
                let c = c.expect("a client's");
                assert!(asked.insert(c, r.time).is_none(), "client {c} asks twice");
            }
            TraceEvent::DownloadStart { .. } => {
                let c = c.expect("a client's");
                let at = asked.remove(&c).unwrap_or_else(|| {
                    panic!("client {c} reaches its DP at {} without asking", r.time)
                });
                assert!(
                    r.time.since(at).as_ms() >= 2_000,
                    "client {c} reaches its DP at {}, {} after asking its MP",
                    r.time,
                    r.time.since(at)
                );
            }
            _ => {}
        }
    }
    assert!(asked.is_empty(), "requests never answered: {asked:?}");
}

/// With the MP down for the hour in which clients would start their
/// downloads, the location requests fail and each client asks again after
/// its MP backoff (1 min, doubling): no download starts during the outage,
/// and every client still gets its content.
#[test]
fn a_location_request_the_mp_turns_down_is_retried_with_the_mp_backoff() {
    let outage =
        r#"Fault(server: "mp", start: "2026-11-09T11:00:00Z", end: "2026-11-09T12:00:00Z")"#;
    // The policy is out at 10:30 (content ready) and clients take up to an
    // hour to poll for it: about half of them start downloading during
    // the outage.
    let (outcome, records) = traced(&estate("", outage));
    let (down, up) = (SimTime(11 * 3_600_000), SimTime(12 * 3_600_000));
    let mut failed = 0;
    for r in &records {
        match r.event {
            TraceEvent::ContentLocationFailed { retry_ms, .. } => {
                failed += 1;
                assert!(r.time >= down && r.time < up, "at {}", r.time);
                assert!(
                    [60_000, 120_000, 240_000, 480_000, 960_000, 1_800_000].contains(&retry_ms),
                    "{retry_ms} ms is not an MP backoff"
                );
            }
            TraceEvent::DownloadStart { .. } => {
                assert!(
                    !(r.time >= down && r.time < up),
                    "a download starts at {} while the MP is down",
                    r.time
                );
            }
            _ => {}
        }
    }
    assert!(failed > 0, "no location request met the outage");
    let mp = &outcome.servers[0].total;
    assert_eq!(mp.rejected[Request::ContentLocation as usize], failed);
    let started: std::collections::BTreeSet<_> = (records.iter())
        .filter(|r| r.event.name() == "download_start")
        .map(|r| r.client)
        .collect();
    let done: std::collections::BTreeSet<_> = (records.iter())
        .filter(|r| r.event.name() == "download_done")
        .map(|r| r.client)
        .collect();
    assert_eq!(started, done, "every download finishes in the end");
}
