//! The long tail real estates show (docs/model.md, "The long tail"):
//! dormant devices that never come online, broken Windows Update agents,
//! scans that fail with errors the client retries. Each is a per-cohort
//! share; the tolerances are 4.5 standard deviations of the binomial count.

use crate::common;

use common::within;
use patchsim::estate::Estate;
use patchsim::model::{self, Compliance, Outcome, Request, ServerRole};

/// `n` always-on clients of one cohort with `extra` fields, one update
/// released on day 1 and synced at 09:00, a Required deployment of it.
fn scenario(n: u32, extra: &str) -> Estate {
    common::small(
        "long-tail",
        17,
        "6d",
        &format!(
            r#"sync: Sync(manual: ["2026-11-10T09:00:00Z"]),
    cohorts: [Cohort(name: "all", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra})],
    updates: [Update(id: "KB1", size: "10MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-10T10:00:00Z")],"#
        ),
    )
}

fn sup_served(out: &Outcome) -> u64 {
    (out.servers.iter())
        .filter(|s| s.role == ServerRole::UpdatePoint)
        .map(|s| {
            s.total.served[Request::FullScan as usize] + s.total.served[Request::DeltaScan as usize]
        })
        .sum()
}

/// A dormant device never comes online: it never polls, scans or installs,
/// and the site never hears of the new update from it (Unknown).
#[test]
fn dormant_devices_stay_unknown() {
    let n = 2000.0;
    let out = model::run(&scenario(2000, "dormant: 0.1,"), Default::default()).expect("runs");
    let dormant = out.totals.clients_dormant as f64;
    within(dormant, n, 0.1, "dormant clients");
    let dep = &out.deployments[0];
    assert_eq!(
        f64::from(dep.final_reported[Compliance::Unknown as usize]),
        dormant
    );
    assert_eq!(
        f64::from(dep.final_truth[Compliance::Installed as usize]),
        n - dormant
    );
    assert_eq!(out.totals.installs as f64, n - dormant);
    let none = model::run(&scenario(2000, ""), Default::default()).expect("runs");
    assert_eq!(none.totals.clients_dormant, 0);
    // explain says why a dormant client never got anywhere.
    let all = scenario(20, "dormant: 1.0,");
    let story = patchsim::app::explain(&all, 0, false).expect("explains");
    assert!(
        story.contains("it never came online during the run"),
        "{story}"
    );
}

/// A broken Windows Update agent scans (loading the SUP) and fails every
/// time: truly Required, reported Unknown with a failed scan.
#[test]
fn broken_agents_scan_and_fail() {
    let n = 2000.0;
    let out = model::run(&scenario(2000, "broken_agent: 0.05,"), Default::default()).expect("runs");
    let installed = out.deployments[0].final_truth[Compliance::Installed as usize];
    let broken = n - f64::from(installed);
    within(broken, n, 0.05, "broken agents");
    let dep = &out.deployments[0];
    assert_eq!(
        f64::from(dep.final_truth[Compliance::Required as usize]),
        broken
    );
    assert_eq!(f64::from(dep.final_reported_unknown_scan_failed), broken);
    assert!(out.totals.scans_failed as f64 >= broken);
    // Their scans reach the SUP: more served than the working clients'.
    let working = model::run(&scenario(2000, ""), Default::default()).expect("runs");
    assert!(sup_served(&out) > sup_served(&working) * 95 / 100);
}

/// A scan that fails with an error is retried after the retry interval:
/// about the set share of served scans fail, and every client still
/// installs.
#[test]
fn scan_errors_are_retried() {
    let out = model::run(
        &scenario(1000, "scan_error_probability: 0.3,"),
        Default::default(),
    )
    .expect("runs");
    let served = sup_served(&out) as f64;
    within(out.totals.scan_errors as f64, served, 0.3, "scan errors");
    assert_eq!(out.totals.installs, 1000, "retries get through");
}
