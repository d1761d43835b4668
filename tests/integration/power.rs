//! Intermittent power starts in equilibrium (docs/model.md, "Power"): at
//! time zero and every time after, a client is on with the long-run share
//! of time on, and the period under way at the start has the time left of
//! a period caught at a random moment, not a uniform part of a fresh one.
//! Tolerances are 4.5 standard deviations of the binomial count or of the
//! mean.

use crate::common;

use common::within;
use patchsim::app::Ended;
use patchsim::estate::Estate;
use patchsim::model::{TraceEvent, TraceRecord, Tracer};

const H: f64 = 3_600_000.0;

/// `n` intermittent clients with `power`, over `days`; the one deployment
/// is made after the run ends, so that nothing delays a switch-off.
fn laptops(n: u32, days: u32, power: &str) -> Estate {
    common::small(
        "power",
        29,
        &format!("{days}d"),
        &format!(
            r#"client_settings: ClientSettings(policy_polling_interval: "1d"),
    cohorts: [Cohort(name: "laptops", count: {n}, management_point: "mp", update_point: "sup",
                     distribution_point: "dp", power: {power})],
    updates: [Update(id: "KB1", size: "10MB")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["laptops"], created: "2026-12-31T00:00:00Z")],"#
        ),
    )
}

/// Each client's switches, in order: (time in ms, switched on).
fn switches(estate: &Estate, n: usize) -> Vec<Vec<(u64, bool)>> {
    let records = std::rc::Rc::new(std::cell::RefCell::new(vec![Vec::new(); n]));
    let sink = records.clone();
    let tracer = Tracer::new(
        Box::new(move |r: &TraceRecord| {
            let on = match r.event {
                TraceEvent::PowerOn => true,
                TraceEvent::PowerOff => false,
                _ => return,
            };
            let c = r.client.expect("a client's switch").0 as usize;
            sink.borrow_mut()[c].push((r.time.as_ms(), on));
        }),
        None,
    );
    match patchsim::app::simulate(estate, Some(tracer), false, None, None) {
        Ended::Completed(_) => {}
        Ended::Broken(v) => panic!("{v}"),
        Ended::Interrupted(_) => unreachable!("no interrupt flag"),
    }
    let out = records.borrow().clone();
    for (c, s) in out.iter().enumerate() {
        assert!(
            s.windows(2).all(|w| w[0].1 != w[1].1),
            "client {c} alternates"
        );
    }
    out
}

/// Whether a client with these switches is on at `t` ms: on at the start
/// if its first switch is off. A client that never switches is taken to
/// have been off all along (the runs are long enough that an on period
/// outlasting one is a one-in-a-million event, and an off period not).
fn on_at(s: &[(u64, bool)], t: u64) -> bool {
    match s.iter().rev().find(|&&(at, _)| at <= t) {
        Some(&(_, on)) => on,
        None => s.first().is_some_and(|&(_, on)| !on),
    }
}

/// Whether a client was off at the start.
fn off_at_start(s: &[(u64, bool)]) -> bool {
    s.first().is_none_or(|&(_, on)| on)
}

/// The mean time of the first switch of the clients whose first switch is
/// `on`, in hours, and how many they are.
fn first_switch(all: &[Vec<(u64, bool)>], on: bool) -> (f64, f64) {
    let times: Vec<f64> = (all.iter())
        .filter(|s| !s.is_empty() && s[0].1 == on)
        .map(|s| s[0].0 as f64 / H)
        .collect();
    let k = times.len() as f64;
    (times.iter().sum::<f64>() / k, k)
}

/// Exponential periods, on 2 h and off 6 h: a quarter of the clients are
/// on at every hour, and the first switch comes after the full mean
/// (memoryless): 6 h for a client off at the start, 2 h for one on.
#[test]
fn exponential_periods_start_in_equilibrium() {
    let n = 2000;
    let all = switches(
        &laptops(
            n,
            3,
            r#"Intermittent(on: Exponential(mean: "2h"), off: Exponential(mean: "6h"))"#,
        ),
        n as usize,
    );
    for hours in [0.0, 1.0, 2.0, 3.0, 6.0] {
        let on = all.iter().filter(|s| on_at(s, (hours * H) as u64)).count();
        within(
            on as f64,
            n as f64,
            0.25,
            &format!("clients on at {hours} h"),
        );
    }
    for (on, mean) in [(true, 6.0), (false, 2.0)] {
        // The first switch of a client off at the start is on, and the
        // time to it is exponential: its sd is its mean.
        let (got, k) = first_switch(&all, on);
        let tol = 4.5 * mean / k.sqrt();
        assert!(
            (got - mean).abs() <= tol,
            "first switch {}: after {got:.2} h on average over {k} clients, expected {mean} ± {tol:.2} h",
            if on { "on" } else { "off" }
        );
    }
}

/// Log-normal periods (on: median 5 h, σ 0.8; off: median 14 h, σ 1): the
/// share on is E[on]/(E[on] + E[off]) = 0.2298 at every hour of the first
/// day, and a client off at the start stays off past 12 h with the
/// equilibrium probability (not a uniform part of a fresh period's). A
/// week: an off period at the start outlasts two days one time in six.
#[test]
fn log_normal_periods_start_in_equilibrium() {
    let n = 2000;
    let all = switches(
        &laptops(
            n,
            7,
            r#"Intermittent(on: LogNormal(median: "5h", sigma: 0.8), off: LogNormal(median: "14h", sigma: 1.0))"#,
        ),
        n as usize,
    );
    let (on_mean, off_mean) = (5.0 * 0.32f64.exp(), 14.0 * 0.5f64.exp());
    let share = on_mean / (on_mean + off_mean);
    for hours in [0.0, 2.0, 4.0, 8.0, 12.0, 24.0] {
        let on = all.iter().filter(|s| on_at(s, (hours * H) as u64)).count();
        within(
            on as f64,
            n as f64,
            share,
            &format!("clients on at {hours} h"),
        );
    }
    // Off at the start, still off at 12 h: 1 − F_e(12 h) of the off
    // period, 0.5840 by numerical integration of the log-normal's
    // survival function (a uniform part of a fresh period: 0.2805).
    let off: Vec<_> = all.iter().filter(|s| off_at_start(s)).collect();
    let still = (off.iter())
        .filter(|s| s.first().is_none_or(|&(at, _)| at > (12.0 * H) as u64))
        .count();
    within(
        still as f64,
        off.len() as f64,
        0.5840,
        "off at the start and at 12 h",
    );
}
