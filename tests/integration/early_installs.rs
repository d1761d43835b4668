//! Installs before the deadline (docs/model.md, "Installs before the
//! deadline"): users who install a Required deployment from Software
//! Center, which no maintenance window gates and whose restart waits for
//! the deadline; and the client setting that enforces every Required
//! deployment whose deadline falls within a period when one deadline comes.
//! The tolerances are 4.5 standard deviations of the binomial count.

use crate::common;

use common::{Scenario, checked, within};
use patchsim::engine::{SimDuration, SimTime};
use patchsim::estate::Estate;
use patchsim::model::{Compliance, Outcome};

const HOUR: u64 = 3_600_000;

/// `n` always-on workstations with cohort fields `cohort` and client
/// settings `settings`, one update synced on day 2 at 09:00 and a Required
/// deployment of it created at 10:00 with its deadline two days later.
fn scenario(n: u32, cohort: &str, settings: &str) -> Estate {
    Scenario::new("early")
        .seed(23)
        .duration("6d")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .body(&format!(
            r#"client_settings: ClientSettings(user_restart_delay: Fixed("10d"), {settings}),
    cohorts: [Cohort(name: "all", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "dp", {cohort})],
    updates: [
        Update(id: "KB1", size: "10MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
        Update(id: "KB2", size: "10MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
    ],
    deployments: [
        Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-10T10:00:00Z", deadline: "2026-11-12T10:00:00Z"),
        Deployment(name: "later", updates: ["KB2"], targets: ["all"], created: "2026-11-10T10:00:00Z", deadline: "2026-11-14T10:00:00Z"),
    ],"#
        ))
        .estate()
}

/// 2026-11-12T10:00Z, the first deployment's deadline.
fn deadline() -> SimTime {
    SimTime(3 * 24 * HOUR + 10 * HOUR)
}

/// 2026-11-14T10:00Z, the second deployment's deadline.
fn later_deadline() -> SimTime {
    SimTime(5 * 24 * HOUR + 10 * HOUR)
}

fn installs_before(out: &Outcome, d: usize, t: SimTime) -> usize {
    (out.deployments[d].assignments.iter())
        .filter(|a| a.install_started_at < t)
        .count()
}

/// A share of users install before the deadline; the rest wait for it.
/// Nobody installs early when the share is zero (the default).
#[test]
fn a_share_of_users_install_before_the_deadline() {
    let n = 2000.0;
    let cohort = r#"early_install_share: 0.3, early_install_delay: Fixed("6h"),"#;
    let out = checked(&scenario(2000, cohort, ""));
    // Each user decides once per deployment: two deployments.
    within(
        out.totals.early_installs_started as f64,
        2.0 * n,
        0.3,
        "early installs",
    );
    let early = installs_before(&out, 0, deadline()) as f64;
    within(early, n, 0.3, "installs of cu before its deadline");
    let none = checked(&scenario(2000, "", ""));
    assert_eq!(none.totals.early_installs_started, 0);
    assert_eq!(installs_before(&none, 0, deadline()), 0);
}

/// An early install's restart waits for the deadline: a user who is not
/// ready is forced at the end of the countdown that starts at the deadline
/// (90 minutes by default), never before; so the client becomes compliant
/// then, not at its install.
#[test]
fn an_early_install_restarts_at_the_deadline_at_the_earliest() {
    let cohort = r#"early_install_share: 1.0, early_install_delay: Fixed("1h"),"#;
    let out = checked(&scenario(500, cohort, ""));
    let cu = &out.deployments[0];
    let forced = deadline() + patchsim::engine::SimDuration::from_mins(90);
    for a in &cu.assignments {
        assert!(a.install_started_at < deadline(), "{a:?}");
        assert!(a.true_compliant_at >= forced, "{a:?}");
    }
    assert_eq!(cu.final_truth[Compliance::Installed as usize], 500);
    assert!(out.totals.restarts_forced >= 500);
}

/// Maintenance windows gate installs at the deadline, not a user's own
/// install from Software Center: with a window that never opens before the
/// end, early users still install; the others wait.
#[test]
fn early_installs_ignore_maintenance_windows() {
    let window = r#"maintenance_windows: [MaintenanceWindow(start: "03:00", length: "1h", recurrence: Weekly(Sunday))],"#;
    let cohort = format!(r#"early_install_share: 0.5, early_install_delay: Fixed("2h"), {window}"#);
    let out = checked(&scenario(2000, &cohort, ""));
    let installed = out.deployments[0].assignments.iter();
    let started = installed
        .filter(|a| a.install_started_at != SimTime::MAX)
        .count();
    within(started as f64, 2000.0, 0.5, "installs with no window open");
    assert_eq!(started, installs_before(&out, 0, deadline()));
}

/// Where maintenance windows apply, an early install's restart still
/// waits for the deadline: the window that opens before it does not take
/// it; the first window from the deadline does (a daily window at 03:00:
/// the morning after the deadline).
#[test]
fn an_early_install_restarts_in_the_first_window_from_the_deadline() {
    let window = r#"maintenance_windows: [MaintenanceWindow(start: "03:00", length: "1h", recurrence: Daily)],"#;
    let cohort = format!(r#"early_install_share: 1.0, early_install_delay: Fixed("1h"), {window}"#);
    let out = checked(&scenario(300, &cohort, ""));
    let window_after = SimTime(4 * 24 * HOUR + 3 * HOUR);
    for a in &out.deployments[0].assignments {
        assert!(a.install_started_at < deadline(), "{a:?}");
        assert!(a.true_compliant_at >= window_after, "{a:?}");
        assert!(
            a.true_compliant_at < window_after + SimDuration::from_hours(1),
            "{a:?}"
        );
    }
    assert_eq!(out.totals.restarts_forced, 0);
}

/// `explain` names an early install's wait as the user's (not one after
/// the deadline), and a deadline another deployment's brings forward as
/// that one's.
#[test]
fn explain_tells_early_installs_and_deadlines_brought_forward() {
    let cohort = r#"early_install_share: 1.0, early_install_delay: Fixed("40h"),"#;
    let estate = scenario(20, cohort, "");
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("verdict for 'cu': compliant")
            && story.contains("the longest wait was waiting for the user (1d"),
        "{story}"
    );
    assert!(!story.contains("after the deadline"), "{story}");
    let estate = scenario(20, "", r#"enforce_deadlines_within: Some("7d")"#);
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("for 'later': waits for another deployment's deadline, which enforces it too, Thu 2026-11-12 10:00:00"),
        "{story}"
    );
}

/// With `enforce_deadlines_within`, the first deadline brings the second
/// deployment's (two days later) forward: both install at the first.
/// Without it, or with a period shorter than the gap, the second waits.
#[test]
fn one_deadline_brings_the_others_within_the_period_forward() {
    let on = checked(&scenario(
        1000,
        "",
        r#"enforce_deadlines_within: Some("7d")"#,
    ));
    assert_eq!(on.totals.deadlines_brought_forward, 1000);
    assert_eq!(installs_before(&on, 1, later_deadline()), 1000);
    for a in &on.deployments[1].assignments {
        assert!(a.install_started_at >= deadline(), "{a:?}");
        assert!(a.install_started_at < deadline() + patchsim::engine::SimDuration::from_hours(2));
    }
    for settings in ["", r#"enforce_deadlines_within: Some("1d")"#] {
        let off = checked(&scenario(1000, "", settings));
        assert_eq!(off.totals.deadlines_brought_forward, 0, "{settings}");
        assert_eq!(installs_before(&off, 1, later_deadline()), 0, "{settings}");
        assert_eq!(installs_before(&off, 0, deadline()), 0, "{settings}");
    }
}
