//! Scan cost from the WSUS catalog (docs/model.md, "Scan cost and the
//! WSUS catalog"): with `sync.catalog`, each scan costs the update point
//! its scan time times the valid updates over the reference size, valid
//! being not declined (and, with WSUS maintenance declining them, not
//! superseded). A catalog at the reference size changes nothing; a bigger
//! one makes the scan storm of a SUP failover longer, by the extra server
//! work it adds. Every run keeps the laws (`run_checked`).

use crate::common;

use common::{Scenario, checked};
use patchsim::engine::SimTime;
use patchsim::estate::Estate;
use patchsim::model::{Outcome, Request, RequiredSub};

const HOUR: u64 = 3_600_000;
const CLIENTS: u32 = 2000;
const SLOTS: u32 = 8;
/// The full scan's median and σ on sup02.
const FULL_MEDIAN_S: f64 = 60.0;
const SIGMA: f64 = 0.5;

/// `CLIENTS` always-on clients scanning sup01, which fails on day 1 at
/// 10:00 (as their deployment goes out) for two days; they fail over to
/// sup02 after four retries and scan it in full. sup02's queue has no
/// practical limit, so the storm is its service alone. `catalog` is the
/// `sync.catalog` field, or empty.
fn scenario(catalog: &str) -> Estate {
    sharing(catalog, "")
}

/// [`scenario`] with `fields` (such as `, susdb: "p01"`) among the fields
/// of both update points.
fn sharing(catalog: &str, fields: &str) -> Estate {
    Scenario::new("catalog")
        .seed(19)
        .duration("4d")
        .sample_interval("5m")
        .sync(&format!(r#"manual: ["2026-11-10T08:30:00Z"], {catalog}"#))
        .sups(&format!(
            r#"UpdatePoint(name: "sup01"{fields}),
            UpdatePoint(name: "sup02"{fields}, scan_slots: {SLOTS}, queue_limit: 1000000,
                        full_scan_time: LogNormal(median: "{FULL_MEDIAN_S}s", sigma: {SIGMA}))"#
        ))
        .dp(r#"bandwidth: "10Gbps", max_connections: 5000"#)
        .body(&format!(
            r#"faults: [Fault(server: "sup01", start: "2026-11-10T10:00:00Z", end: "2026-11-12T10:00:00Z")],
    cohorts: [Cohort(name: "all", count: {CLIENTS}, management_point: "mp", update_point: "sup01",
                     fallback_update_points: ["sup02"], distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "10MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"],
                             created: "2026-11-10T10:00:00Z", deadline: "2026-11-12T20:00:00Z")],"#
        ))
        .estate()
}

/// The storm on sup02: from its first scan to the sample at which
/// the last client has evaluated the deployment, and the full scans it
/// served meanwhile.
fn storm(outcome: &Outcome) -> (SimTime, SimTime, u64) {
    let sup02 = outcome.servers.iter().position(|s| s.name == "sup02");
    let sup02 = sup02.expect("sup02");
    let rows = outcome.load.iter().filter(|r| r.server == sup02);
    let first = rows
        .clone()
        .find(|r| {
            let arrived = &r.counts.arrived;
            arrived[Request::FullScan as usize] + arrived[Request::DeltaScan as usize] > 0
        })
        .expect("clients fail over to sup02")
        .time;
    let evaluated = (outcome.timeline.iter())
        .filter(|r| r.time > first)
        .find(|r| r.required_sub[RequiredSub::NotEvaluated as usize] == 0)
        .expect("every client evaluates the deployment")
        .time;
    let full_scans = rows
        .filter(|r| r.time <= evaluated)
        .map(|r| r.counts.served[Request::FullScan as usize])
        .sum();
    (first, evaluated, full_scans)
}

fn hours(a: SimTime, b: SimTime) -> f64 {
    b.since(a).as_ms() as f64 / HOUR as f64
}

#[test]
fn a_catalog_at_its_reference_size_changes_nothing() {
    let plain = scenario("");
    let at_reference = scenario("catalog: WsusCatalog(updates: 5000)");
    let declined = scenario(
        "catalog: WsusCatalog(updates: 10000, superseded_share: 0.5, decline_superseded: true)",
    );
    let a = patchsim::output::summary(&plain, &checked(&plain));
    for estate in [&at_reference, &declined] {
        let b = patchsim::output::summary(estate, &checked(estate));
        let mut a = serde_json::to_value(&a).expect("serialises");
        let mut b = serde_json::to_value(&b).expect("serialises");
        for v in [&mut a, &mut b] {
            let m = v.as_object_mut().expect("an object");
            m.remove("scenario_hash");
            m.remove("catalog");
        }
        assert_eq!(a, b, "valid updates 5,000: scans cost what the SUP says");
    }
}

#[test]
fn a_bigger_catalog_makes_the_scan_storm_longer() {
    let cases = [
        ("4,000", "catalog: WsusCatalog(updates: 4000)", 0.8),
        (
            "12,000, superseded declined",
            "catalog: WsusCatalog(updates: 12000, superseded_share: 0.5, decline_superseded: true)",
            1.2,
        ),
        ("12,000", "catalog: WsusCatalog(updates: 12000)", 2.4),
    ];
    let storms: Vec<(SimTime, SimTime, u64)> = cases
        .iter()
        .map(|(_, catalog, _)| storm(&checked(&scenario(catalog))))
        .collect();
    for ((what, _, _), (first, end, scans)) in cases.iter().zip(&storms) {
        eprintln!(
            "{what}: storm {:.2} h, {scans} full scans",
            hours(*first, *end)
        );
    }
    // Direction: the longer, the bigger the valid catalog.
    let length = |i: usize| hours(storms[i].0, storms[i].1);
    assert!(length(0) < length(1) && length(1) < length(2));
    // Size: the clients arrive at sup02 alike in every run (nothing is
    // served before they do), and sup02 serves all of them full scans with
    // every slot busy; so the storm grows by the extra server work:
    // full scans × (scan cost difference) × the mean full scan (median ×
    // e^(σ²/2)) ÷ slots. The mean of n log-normal draws is within
    // 4.5 × √(e^(σ²) − 1) / √n of its expectation (relative); the end is
    // read at a sample, 5 minutes apart.
    let mean_h = FULL_MEDIAN_S * (SIGMA * SIGMA / 2.0).exp() / 3600.0;
    for (i, j) in [(0, 2), (0, 1), (1, 2)] {
        let n = storms[i].2.min(storms[j].2) as f64;
        assert!(n >= f64::from(CLIENTS) * 0.9, "most clients fail over: {n}");
        let extra = (cases[j].2 - cases[i].2) * n * mean_h / f64::from(SLOTS);
        let rel = 4.5 * ((SIGMA * SIGMA).exp() - 1.0).sqrt() / n.sqrt();
        // Each run's server work errs by `rel` of itself; the end of each
        // storm by up to one sample.
        let work = (cases[j].2 + cases[i].2) * n * mean_h / f64::from(SLOTS);
        let tolerance = work * rel + 2.0 * 5.0 / 60.0;
        let grew = length(j) - length(i);
        assert!(
            (grew - extra).abs() <= tolerance,
            "{} → {}: the storm grew {grew:.2} h, expected {extra:.2} ± {tolerance:.2} h",
            cases[i].0,
            cases[j].0
        );
    }
}

#[test]
fn bad_catalogs_name_their_field_and_the_range() {
    let problems = |catalog: &str| {
        let text = Scenario::new("t").no_site().sync(catalog).body(
            r#"cohorts: [Cohort(name: "all", count: 1, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "1MB")], deployments: [],"#,
        ).text();
        match patchsim::scenario::parse(&text, "t.ron") {
            Err(e) => e.to_string(),
            Ok(raw) => match patchsim::scenario::build(raw, "t.ron") {
                Err(e) => e.to_string(),
                Ok(_) => panic!("accepted: {catalog}"),
            },
        }
    };
    let e = problems("catalog: WsusCatalog(updates: 0)");
    assert!(
        e.contains("sync.catalog.updates: must be between 1 and 1000000, got 0"),
        "{e}"
    );
    let e = problems("catalog: WsusCatalog(updates: 9000, superseded_share: 40)");
    assert!(
        e.contains("sync.catalog.superseded_share: must be between 0 and 1, got 40"),
        "{e}"
    );
    let e = problems("catalog: WsusCatalog(updates: 9000, reference_updates: 0)");
    assert!(e.contains("sync.catalog.reference_updates"), "{e}");
    let e = problems("catalog: WsusCatalog(updates: 9000, declined: true)");
    assert!(e.contains("unknown field") && e.contains("declined"), "{e}");
    let e = problems("catalog: WsusCatalog(superseded_share: 0.5)");
    assert!(e.contains("updates"), "{e}");
}

#[test]
fn maintenance_removes_the_superseded_share() {
    let estate = scenario(
        "catalog: WsusCatalog(updates: 12000, superseded_share: 0.6, decline_superseded: true)",
    );
    let c = estate.sync.catalog.as_ref().expect("a catalog");
    assert_eq!(c.valid_updates(), 4800);
    assert!((c.scan_cost() - 0.96).abs() < 1e-12);
    let warnings = patchsim::app::warnings(&estate);
    assert!(warnings.is_empty(), "{warnings:?}");
    let estate = scenario("catalog: WsusCatalog(updates: 12000, superseded_share: 0.6)");
    let warnings = patchsim::app::warnings(&estate);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("12,000 valid updates") && w.contains("fewer than 7,000")),
        "{warnings:?}"
    );
}

/// Update points that share one WSUS database (`susdb`) spare a client
/// that switches between them the full scan: it runs a delta scan on the
/// other, which knows what it last scanned. The same failover then brings
/// sup02 no full scan at all, and the storm ends sooner.
#[test]
fn a_shared_susdb_spares_a_switching_client_the_full_scan() {
    let catalog = "catalog: WsusCatalog(updates: 12000)";
    let own = checked(&scenario(catalog));
    let shared = checked(&sharing(catalog, r#", susdb: "p01""#));
    let sup02 = |out: &Outcome| {
        let s = out
            .servers
            .iter()
            .find(|s| s.name == "sup02")
            .expect("sup02");
        (
            s.total.served[Request::FullScan as usize],
            s.total.served[Request::DeltaScan as usize],
        )
    };
    let (own_full, _) = sup02(&own);
    let (shared_full, shared_delta) = sup02(&shared);
    let most = u64::from(CLIENTS) * 9 / 10;
    assert!(own.totals.sup_switches >= most && shared.totals.sup_switches >= most);
    assert!(
        own_full >= most,
        "own databases: full scans on sup02: {own_full}"
    );
    assert_eq!(
        shared_full, 0,
        "one database: no client scans sup02 in full"
    );
    assert!(shared_delta >= most, "delta scans instead: {shared_delta}");
    let ((a0, a1, _), (b0, b1, _)) = (storm(&own), storm(&shared));
    assert!(
        hours(b0, b1) < hours(a0, a1) / 2.0,
        "the storm: {:.2} h shared, {:.2} h not",
        hours(b0, b1),
        hours(a0, a1)
    );
}

/// Only update points of one site share a WSUS database.
#[test]
fn a_susdb_is_shared_within_one_site() {
    let mut raw =
        patchsim::scenario::load(std::path::Path::new("scenarios/hierarchy.ron")).expect("loads");
    for sup in &mut raw.servers.update_points[..2] {
        sup.susdb = Some("susdb".into());
    }
    let err = patchsim::scenario::build(raw, "hierarchy.ron").expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains(
            "servers.update_points[1] (sup-us).susdb: 'susdb' is the WSUS database of 'sup-eu', at \
             another site: only update points of one site share a database"
        ),
        "{msg}"
    );
}

/// A scan's answer sends the client update metadata: `full_scan_size`
/// for a full scan, `delta_scan_size` for a delta scan, scaled with the
/// catalog as scan times are. Each update point's bytes served are
/// exactly its answers' sizes, its load rows add up to them, and the
/// totals to the sum; a shared SUSDB turns the failover's full scans into
/// delta scans and sends a fraction of the bytes.
#[test]
fn scan_answers_send_their_metadata() {
    let catalog = "catalog: WsusCatalog(updates: 12000)";
    let sizes = r#", full_scan_size: "50MB", delta_scan_size: "1MB""#;
    let own = checked(&sharing(catalog, sizes));
    let shared = checked(&sharing(catalog, &format!(r#"{sizes}, susdb: "p01""#)));
    // 12,000 valid updates over the reference 5,000: 2.4 times the sizes.
    let (full, delta) = (120_000_000u64, 2_400_000u64);
    for out in [&own, &shared] {
        let mut sum = 0;
        for (i, s) in out.servers.iter().enumerate() {
            let expected = match s.role {
                patchsim::model::ServerRole::UpdatePoint => {
                    s.total.served[Request::FullScan as usize] * full
                        + s.total.served[Request::DeltaScan as usize] * delta
                }
                patchsim::model::ServerRole::DistributionPoint => continue,
                _ => 0,
            };
            assert_eq!(s.bytes, expected, "{}", s.name);
            let rows: u64 = (out.load.iter().filter(|r| r.server == i))
                .map(|r| r.bytes)
                .sum();
            assert_eq!(rows, s.bytes, "{}: load rows", s.name);
            sum += s.bytes;
        }
        assert_eq!(out.totals.scan_bytes, sum);
    }
    assert!(
        shared.totals.scan_bytes * 4 < own.totals.scan_bytes,
        "a shared SUSDB: {} bytes against {}",
        shared.totals.scan_bytes,
        own.totals.scan_bytes
    );
    // Without sizes nothing is counted.
    assert_eq!(checked(&scenario(catalog)).totals.scan_bytes, 0);
    let text = common::ron(&common::Knobs::default()).replace(
        r#"UpdatePoint(name: "sup")"#,
        r#"UpdatePoint(name: "sup", full_scan_size: "20GB")"#,
    );
    let msg = common::build_error(&text);
    assert!(
        msg.contains(
            "servers.update_points[0] (sup).full_scan_size: must be from 0B to 10GB, got 20GB"
        ),
        "{msg}"
    );
}

/// `explain` names the SUP a scan failed at: the one the client scanned
/// against then (its `scan_start` record names it), the first of its
/// cohort's list until it switched. With a scan retry interval of two
/// minutes, a retry and a switch look alike in time; the record still
/// tells them apart.
#[test]
fn explain_names_the_sup_a_scan_failed_at() {
    let estate = scenario("");
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("the scan fails at the update point; it tries again in 30m 00s: its SUP sup01 is down (a fault)"),
        "{story}"
    );
    assert!(
        story.contains("starts a compliance scan against its software update point sup02"),
        "{story}"
    );
    assert!(!story.contains("sup01, sup02"), "{story}");
    let mut raw = patchsim::scenario::parse(&text_of(&estate), "t.ron").expect("parses");
    raw.client_settings.scan_retry_interval = "2m".parse().expect("a duration");
    let estate = patchsim::scenario::build(raw, "t.ron").expect("valid");
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("the scan fails at the update point; it tries again in 2m 00s: its SUP sup01 is down (a fault)"),
        "{story}"
    );
    assert!(
        story.contains("starts a compliance scan against its software update point sup02"),
        "{story}"
    );
}

/// The scenario text an estate was built from.
fn text_of(estate: &Estate) -> String {
    estate.source.text.clone()
}
