//! Co-managed clients whose Windows Update policies workload is on Intune
//! (docs/model.md, "Co-managed clients"): Windows Update for Business
//! patches them, so the site's deployment never enforces on them and shows
//! them Unknown; their ConfigMgr client still polls and scans. The share is
//! drawn per client; tolerances are 4.5 standard deviations of the binomial
//! count.

use crate::common;

use common::{Scenario, checked, within};
use patchsim::estate::Estate;
use patchsim::model::{Compliance, Outcome, Request, ServerRole};

/// `n` always-on clients of one cohort with `extra` fields, one 100 MB
/// update released and synced on day 1, a Required deployment of it.
fn scenario(n: u32, extra: &str) -> Estate {
    common::small(
        "co-management",
        23,
        "6d",
        &format!(
            r#"sync: Sync(manual: ["2026-11-10T09:00:00Z"]),
    cohorts: [Cohort(name: "all", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra})],
    updates: [Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-10T10:00:00Z")],"#
        ),
    )
}

fn served(out: &Outcome, role: ServerRole, kinds: &[Request]) -> u64 {
    (out.servers.iter())
        .filter(|s| s.role == role)
        .map(|s| {
            kinds
                .iter()
                .map(|&k| s.total.served[k as usize])
                .sum::<u64>()
        })
        .sum()
}

/// A co-managed share leaves ConfigMgr patching: Unknown true and reported
/// (and not counted as a scan failure), never downloads from the DP, never
/// installs; everyone else installs. Its clients still scan against the
/// SUP and poll the MP.
#[test]
fn co_managed_clients_leave_configmgr_patching() {
    let n = 3000.0;
    let share = 0.3;
    let base = checked(&scenario(3000, ""));
    let out = checked(&scenario(3000, "co_managed: 0.3,"));
    let co = f64::from(out.co_managed[0]);
    within(co, n, share, "co-managed clients");
    assert_eq!(base.co_managed, vec![0]);

    let dep = &out.deployments[0];
    let unknown = Compliance::Unknown as usize;
    assert_eq!(f64::from(dep.final_truth[unknown]), co);
    assert_eq!(dep.final_reported[unknown], dep.final_truth[unknown]);
    assert_eq!(
        dep.final_reported_unknown_scan_failed, 0,
        "their scans succeed"
    );
    assert_eq!(
        f64::from(dep.final_reported[Compliance::Installed as usize]),
        n - co,
        "every other client installs and reports it"
    );
    assert_eq!(out.totals.installs as f64, n - co);
    assert_eq!(base.totals.installs as f64, n);

    // DP bytes fall by the co-managed share exactly: 100 MB per client
    // that ConfigMgr still patches.
    assert_eq!(out.totals.bytes_from_dp, (n - co) as u64 * 100_000_000);
    assert_eq!(base.totals.bytes_from_dp, 3000 * 100_000_000);

    // Their ConfigMgr client still scans (for other content) and polls.
    let scans = |o: &Outcome| {
        served(
            o,
            ServerRole::UpdatePoint,
            &[Request::FullScan, Request::DeltaScan],
        ) as f64
    };
    assert!(
        scans(&out) >= 0.9 * scans(&base),
        "SUP scans {} vs {} without co-management",
        scans(&out),
        scans(&base)
    );
    let polls = |o: &Outcome| served(o, ServerRole::ManagementPoint, &[Request::Policy]) as f64;
    assert!(polls(&out) >= 0.9 * polls(&base));
}

/// The share is drawn only when it is set: a cohort at 0 draws exactly as
/// before, and a share of 1 takes every client.
#[test]
fn co_managed_share_bounds() {
    let all = checked(&scenario(500, "co_managed: 1.0,"));
    assert_eq!(all.co_managed, vec![500]);
    assert_eq!(all.totals.installs, 0);
    assert_eq!(all.totals.bytes_downloaded, 0);
    let zero = checked(&scenario(500, "co_managed: 0.0,"));
    let absent = checked(&scenario(500, ""));
    assert_eq!(zero.totals.installs, absent.totals.installs);
    assert_eq!(zero.events, absent.events);
    assert_eq!(zero.totals.bytes_from_dp, absent.totals.bytes_from_dp);
}

/// A share outside 0–1 is refused with the field's place and the range;
/// a misspelt field is refused too.
#[test]
fn bad_co_managed_share_names_the_field() {
    let text = |extra: &str| {
        Scenario::new("bad")
            .duration("1d")
            .no_site()
            .body(&format!(
                r#"cohorts: [Cohort(name: "all", count: 10, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra})],
    updates: [Update(id: "KB1", size: "10MB")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-09T06:00:00Z")],"#
            ))
            .text()
    };
    let error = |extra: &str| -> String {
        let raw = match patchsim::scenario::parse(&text(extra), "bad.ron") {
            Ok(raw) => raw,
            Err(e) => return e.to_string(),
        };
        match patchsim::scenario::build(raw, "bad.ron") {
            Ok(_) => panic!("{extra} accepted"),
            Err(e) => e.to_string(),
        }
    };
    let e = error("co_managed: 40.0,");
    assert!(e.contains("cohorts[0] (all).co_managed"), "{e}");
    assert!(e.contains("0.4"), "a share, not a percentage: {e}");
    // The share as written, not a float's binary expansion.
    let e = error("co_managed: 1.1,");
    assert!(e.contains("write 0.011 for 1.1 %)"), "{e}");
    let e = error("co_manged: 0.4,");
    assert!(e.contains("co_manged"), "{e}");
}
