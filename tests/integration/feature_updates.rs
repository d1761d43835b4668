//! Feature updates (docs/model.md, "Feature updates"): several gigabytes
//! each, a 120-minute default maximum run time that watches the install
//! only, so a download that lasts hours still ends in an install, and an
//! install past the maximum run time is reported failed and finishes in
//! the background. Tolerances are 4.5 standard deviations of the binomial
//! count.

use crate::common;

use common::{Scenario, checked};
use patchsim::estate::Estate;
use patchsim::model::Compliance;

/// `n` always-on clients on `link`, a 4 GB feature upgrade with install
/// time `install`, a Required deployment of it.
fn scenario(n: u32, link: &str, install: &str) -> Estate {
    Scenario::new("feature-update")
        .seed(31)
        .duration("8d")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dp(r#"bandwidth: "100Gbps", max_connections: 100000"#)
        .body(&format!(
            r#"cohorts: [Cohort(name: "all", count: {n}, link: "{link}", management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [Update(id: "FU", size: "4GB", classification: FeatureUpgrade, install_time: {install}, release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "fu", updates: ["FU"], targets: ["all"], created: "2026-11-10T10:00:00Z", deadline: "2026-11-10T10:00:00Z")],"#
        ))
        .estate()
}

/// Over a 2 Mbps link a 4 GB download takes 4 h 27 min, more than twice
/// the 120-minute maximum run time, and every client still installs: the
/// download does not count against it.
#[test]
fn a_download_longer_than_the_max_run_time_still_installs() {
    let out = checked(&scenario(200, "2Mbps", r#"Fixed("60m")"#));
    let link_bound_s = 4e9 * 8.0 / 2e6;
    let p50 = out.cohort_timings[0].download.value_at_quantile(0.5) as f64 / 1000.0;
    assert!(
        p50 >= link_bound_s && p50 > 2.0 * 7200.0,
        "median download {p50} s, at least {link_bound_s} s"
    );
    assert_eq!(out.totals.installs, 200);
    assert_eq!(out.totals.installs_overran, 0);
    let dep = &out.deployments[0];
    assert_eq!(dep.final_truth[Compliance::Installed as usize], 200);
}

/// The default maximum run time of a feature upgrade is 120 minutes: a
/// 119-minute install is watched to its end, a 121-minute one outruns it
/// (reported failed, installed in the background); with a log-normal
/// install time the share past 120 minutes is as drawn.
#[test]
fn installs_past_120_minutes_outrun_the_max_run_time() {
    let short = checked(&scenario(300, "1Gbps", r#"Fixed("119m")"#));
    assert_eq!(short.totals.installs_overran, 0);
    let long = checked(&scenario(300, "1Gbps", r#"Fixed("121m")"#));
    assert_eq!(long.totals.installs_overran, 300);
    // Finished in the background: installed, or pending the restart it
    // needs when the run ends.
    let truth = long.deployments[0].final_truth;
    assert!(truth[Compliance::Installed as usize] >= 250, "{truth:?}");
    assert_eq!(
        truth[Compliance::Installed as usize] + truth[Compliance::Required as usize],
        300
    );

    let n: f64 = 3000.0;
    let out = checked(&scenario(
        3000,
        "1Gbps",
        r#"LogNormal(median: "80m", sigma: 0.3)"#,
    ));
    // P(80 min × e^(0.3 Z) > 120 min) = 1 − Φ(ln 1.5 / 0.3).
    let p: f64 = 0.0882;
    let tol = 4.5 * (n * p * (1.0 - p)).sqrt();
    let overran = out.totals.installs_overran as f64;
    assert!(
        (overran - n * p).abs() <= tol,
        "{overran} installs outran, expected {} ± {tol}",
        n * p
    );
}
