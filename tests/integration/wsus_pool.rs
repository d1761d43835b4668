//! An update point's WSUS application pool (docs/model.md, "The WsusPool's
//! memory and its recycles"): its private memory is its metadata cache
//! plus what each scan being answered adds; a scan that would take it past
//! its limit recycles it, which fails every scan in service with HTTP 503
//! and takes nothing into service until it is back. Without a limit it
//! changes nothing but says how much memory it needed. Every run keeps the
//! laws (`traced` checks them).

use crate::common;

use common::{Scenario, build_error, estate_of, traced};
use patchsim::engine::SimDuration;
use patchsim::estate::Estate;
use patchsim::model::{Outcome, ScanFailure, TraceEvent, TraceRecord};

const MB: u64 = 1_000_000;

/// 600 always-on clients scanning sup01, which fails on day 1 at 10:00
/// for a day: they fail over to sup02 and scan it in full (60 s each, 8
/// at once), the scan storm of a failover. `pool` is sup02's `wsus_pool`
/// field, or empty; `catalog` the `sync.catalog` field, or empty.
fn scenario(pool: &str, catalog: &str) -> Estate {
    Scenario::new("pool")
        .seed(5)
        .duration("3d")
        .sample_interval("15m")
        .sync(&format!(r#"manual: ["2026-11-10T08:30:00Z"], {catalog}"#))
        .sups(&format!(
            r#"UpdatePoint(name: "sup01"),
            UpdatePoint(name: "sup02", scan_slots: 8, queue_limit: 100000,
                        full_scan_time: Fixed("60s"), delta_scan_time: Fixed("2s"){pool})"#
        ))
        .dp(r#"bandwidth: "10Gbps", max_connections: 5000"#)
        .body(r#"faults: [Fault(server: "sup01", start: "2026-11-10T10:00:00Z", end: "2026-11-11T10:00:00Z")],
    cohorts: [Cohort(name: "all", count: 600, management_point: "mp", update_point: "sup01",
                     fallback_update_points: ["sup02"], distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "10MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-10T10:00:00Z", deadline: "2026-11-11T20:00:00Z")],"#)
        .estate()
}

/// sup02's pool for the storm: a 450 MB limit holds the 100 MB cache and
/// three 100 MB full scans, not four.
const RECYCLING: &str = r#", wsus_pool: WsusPool(private_memory_limit: "450MB", cache: "100MB",
                         full_scan: "100MB", restart: "30s")"#;

/// The recycles in a trace, with the scans each failed at its instant.
fn recycles(records: &[TraceRecord]) -> Vec<(u64, u64, usize)> {
    let mut out = Vec::new();
    for (i, r) in records.iter().enumerate() {
        if let TraceEvent::WsusRecycle { sup, bytes } = r.event {
            assert_eq!(sup, 1, "only sup02 has a pool");
            let failed = (records[i + 1..].iter())
                .take_while(|x| x.time == r.time)
                .filter(|x| {
                    matches!(
                        x.event,
                        TraceEvent::ScanFailed {
                            by: ScanFailure::UpdatePoint,
                            ..
                        }
                    )
                })
                .count();
            out.push((r.time.as_ms(), bytes, failed));
        }
    }
    out
}

/// sup02's line in `summary.json`, as JSON.
fn pool_summary(estate: &Estate, outcome: &Outcome) -> serde_json::Value {
    let summary = serde_json::to_value(patchsim::output::summary(estate, outcome)).expect("json");
    summary["wsus_pools"][0].clone()
}

/// A limit of 450 MB holds the 100 MB cache and three 100 MB full scans:
/// the fourth to start recycles the pool at 500 MB, which fails the four
/// in service with HTTP 503; the pool takes nothing for its 30 s restart,
/// then the scans waiting start, and the storm keeps recycling it.
#[test]
fn a_pool_recycles_at_its_limit_and_fails_the_scans_in_service() {
    let estate = scenario(RECYCLING, "");
    let (out, records) = traced(&estate);
    let seen = recycles(&records);
    eprintln!("{} recycles, the first at {:?}", seen.len(), seen.first());
    assert!(
        seen.len() > 10,
        "the storm recycles it again and again: {}",
        seen.len()
    );
    assert_eq!(out.totals.wsus_recycles, seen.len() as u64);
    for &(at, bytes, failed) in &seen {
        assert_eq!(bytes, 500 * MB, "at {at}: cache and four full scans");
        assert_eq!(failed, 4, "at {at}: the four scans in service fail");
    }
    // The pool takes nothing into service while it restarts, and a scan
    // takes 60 s: no two recycles are closer than its restart.
    for pair in seen.windows(2) {
        assert!(pair[1].0 - pair[0].0 >= 30_000, "{pair:?}");
    }
    let pool = pool_summary(&estate, &out);
    assert_eq!(pool["recycles"], seen.len() as u64);
    assert_eq!(pool["peak_memory_mb"], 500.0);
    assert_eq!(pool["private_memory_limit_mb"], 450.0);
    // Every client evaluates the deployment in the end, between recycles.
    let last = out.timeline.last().expect("rows");
    assert_eq!(
        last.required_sub[patchsim::model::RequiredSub::NotEvaluated as usize],
        0
    );
}

/// Without a limit the pool changes nothing: every output but its own
/// summary line is the run without a pool, and its peak is the cache
/// plus the most full scans sup02 answered at once.
#[test]
fn without_a_limit_the_pool_only_measures() {
    let plain = scenario("", "");
    let measured = scenario(
        r#", wsus_pool: WsusPool(private_memory_limit: "0B", cache: "100MB",
                         full_scan: "100MB", restart: "30s")"#,
        "",
    );
    let (a, _) = traced(&plain);
    let (b, _) = traced(&measured);
    let json = |e: &Estate, o: &Outcome| {
        let mut v = serde_json::to_value(patchsim::output::summary(e, o)).expect("json");
        let m = v.as_object_mut().expect("object");
        m.remove("scenario_hash");
        m.remove("wsus_pools");
        v
    };
    assert_eq!(json(&plain, &a), json(&measured, &b));
    assert_eq!(b.totals.wsus_recycles, 0);
    let sup02 = b.servers.iter().find(|s| s.name == "sup02").expect("sup02");
    assert_eq!(sup02.peak_busy, 8, "the storm fills every scan slot");
    let pool = pool_summary(&measured, &b);
    assert_eq!(pool["peak_memory_mb"], 900.0, "100 MB + 8 × 100 MB");
    assert!(pool["private_memory_limit_mb"].is_null());
}

/// The memory figures are for the catalog's reference size and scale
/// with it, as scan times do: the same pool holds a 4,000-update
/// catalog's storm (0.8 × the figures) and recycles in a 12,000-update
/// one's (2.4 ×), whose storm then lasts longer than without the pool.
#[test]
fn a_bigger_catalog_recycles_the_pool() {
    let pool = r#", wsus_pool: WsusPool(cache: "400MB", full_scan: "60MB", restart: "1m")"#;
    let run = |pool: &str, updates: u32| {
        let estate = scenario(pool, &format!("catalog: WsusCatalog(updates: {updates})"));
        let (out, _) = traced(&estate);
        let storm_end = (out.timeline.iter())
            .rfind(|r| r.required_sub[patchsim::model::RequiredSub::NotEvaluated as usize] > 0)
            .map(|r| r.time)
            .expect("a storm");
        (out.totals.wsus_recycles, storm_end)
    };
    // 4,000: 320 MB + 8 × 48 MB = 704 MB, within the default 1.89 GB.
    assert_eq!(run(pool, 4000).0, 0);
    // 12,000: 960 MB + 8 × 144 MB = 2.11 GB; the seventh full scan at once
    // passes the limit.
    let (recycled, with_pool) = run(pool, 12000);
    let (_, without) = run("", 12000);
    eprintln!(
        "12,000: {recycled} recycles; storm until {with_pool} with the pool, {without} without"
    );
    assert!(recycled > 0);
    assert!(
        with_pool > without + SimDuration::from_hours(1),
        "recycling makes the storm longer: {with_pool} vs {without}"
    );
}

/// Bad pool settings name their field and the range; a cache that fills
/// the limit is valid but warned about.
#[test]
fn pool_settings_are_checked() {
    let text = |pool: &str| {
        common::ron(&common::Knobs::default()).replace(
            r#"UpdatePoint(name: "sup")"#,
            &format!(r#"UpdatePoint(name: "sup", wsus_pool: {pool})"#),
        )
    };
    let cases = [
        (
            r#"WsusPool(cache: "1GB", full_scan: "10MB", restart: "0s")"#,
            "servers.update_points[0] (sup).wsus_pool.restart: must be between 1s and 1h, got 0s",
        ),
        (
            r#"WsusPool(cache: "2TB", full_scan: "10MB", restart: "1m")"#,
            "servers.update_points[0] (sup).wsus_pool.cache: must be from 0B to 1TB, got 2TB",
        ),
        (
            r#"WsusPool(full_scan: "10MB", restart: "1m")"#,
            "missing field `cache`",
        ),
        (
            r#"WsusPool(cache: "1GB", full_scan: "10MB", restart: "1m", memory: "1GB")"#,
            "unknown field `memory`",
        ),
    ];
    for (pool, expected) in cases {
        let msg = build_error(&text(pool));
        assert!(msg.contains(expected), "{pool}: {msg}");
    }
    let full = estate_of(&text(
        r#"WsusPool(cache: "2GB", full_scan: "10MB", restart: "1m")"#,
    ));
    let warnings = patchsim::app::warnings(&full);
    assert!(
        warnings.iter().any(|w| w.contains(
            "the WsusPool of update point 'sup' needs 2.00 GB for its metadata cache alone"
        )),
        "{warnings:?}"
    );
}

/// `explain` says when a client's scan failed because the pool recycled,
/// not that the SUP was busy.
#[test]
fn explain_tells_a_scan_lost_to_a_recycle() {
    let estate = scenario(RECYCLING, "");
    let (_, records) = traced(&estate);
    let at: std::collections::BTreeSet<_> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::WsusRecycle { .. }))
        .map(|r| r.time)
        .collect();
    let client = (records.iter())
        .find(|r| at.contains(&r.time) && matches!(r.event, TraceEvent::ScanFailed { .. }))
        .and_then(|r| r.client)
        .expect("a recycle fails a scan");
    let verbose = patchsim::app::explain(&estate, client.0, true).expect("explains");
    assert!(
        verbose.contains(
            "the WsusPool of sup02 recycles at its private memory limit (a scan would have taken it to 500.00 MB): every scan in service there fails with HTTP 503"
        ),
        "{verbose}"
    );
    // The story gives the recycle as the failure's reason, or counts the
    // recycles among the failures of a retry loop.
    let story = patchsim::app::explain(&estate, client.0, false).expect("explains");
    assert!(
        story.contains(
            "the scan fails at the update point; it tries again in 30m 00s: the WsusPool of sup02 recycled at its private memory limit of 450.00 MB (a scan would have taken it to 500.00 MB), failing every scan in service with HTTP 503"
        ) || story.contains("as its WsusPool recycled)"),
        "{story}"
    );
    assert!(!story.contains("SUP busy"), "{story}");
}
