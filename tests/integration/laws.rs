//! The model's laws (docs/model.md), checked on the outputs of whole runs.

use crate::common;

use common::{Knobs, run};
use patchsim::engine::{SimDuration, SimTime};
use patchsim::model::Compliance;

/// Law 2: at every sample, for every deployment, the four states add up to
/// the targeted clients, true and reported; the Required sub-states add up
/// to the Required count.
#[test]
fn conservation() {
    for seed in [1, 2, 3] {
        let (_, out) = run(&Knobs {
            seed,
            ..Knobs::default()
        });
        assert!(!out.timeline.is_empty());
        for row in &out.timeline {
            let targeted = out.deployments[row.deployment.index()].targeted;
            assert_eq!(
                row.truth.iter().sum::<u32>(),
                targeted,
                "true, t={}",
                row.time
            );
            assert_eq!(
                row.reported.iter().sum::<u32>(),
                targeted,
                "reported, t={}",
                row.time
            );
            assert_eq!(
                row.required_sub.iter().sum::<u32>(),
                row.truth[Compliance::Required as usize],
                "sub-states, t={}",
                row.time
            );
        }
    }
}

/// Law 3: nothing is reported before it is true, and a report reaches the
/// site no earlier than the MP and state-system delays after it was true.
#[test]
fn causality() {
    let (estate, out) = run(&Knobs::default());
    let transit = estate.site.mp_forward_delay + estate.site.state_system_delay;
    let mut reported = 0;
    for dep in &out.deployments {
        for (c, a) in dep.assignments.iter().enumerate() {
            if a.reported_compliant_at == SimTime::MAX {
                continue;
            }
            reported += 1;
            // Zero: the site knew before the start (an update synced earlier).
            let before_start =
                a.reported_compliant_at == SimTime::ZERO && a.true_compliant_at == SimTime::ZERO;
            assert!(
                before_start
                    || (a.true_compliant_at != SimTime::MAX
                        && a.reported_compliant_at >= a.true_compliant_at + transit),
                "client {c}: reported compliant at {} but truly compliant at {}",
                a.reported_compliant_at,
                a.true_compliant_at
            );
        }
    }
    assert!(
        reported > 500,
        "the run must report most clients, got {reported}"
    );
    for row in &out.timeline {
        for s in [Compliance::Installed, Compliance::NotRequired] {
            assert!(
                row.reported[s as usize] <= row.truth[s as usize],
                "{s:?} at {}",
                row.time
            );
        }
    }
}

/// Law 4: always-on clients with a uniform polling phase learn of a
/// deployment at a uniform rate: share (t − t0)/T over one interval, all by
/// t0 + T. The tolerance is four binomial standard errors.
#[test]
fn polling_is_uniform() {
    let k = Knobs {
        always_on: 10_000,
        desktops: 0,
        days: 2,
        sample: "5m",
        ..Knobs::default()
    };
    let (estate, out) = run(&k);
    let dep = &out.deployments[0];
    let t0 = dep.published_at.expect("published");
    let period = SimDuration::from_mins(60);
    let n = 10_000f64;
    let mut checked = 0;
    for row in out
        .timeline
        .iter()
        .filter(|r| r.time >= t0 && r.time <= t0 + period)
    {
        // Only the always-on cohort: the one-client desktop cohort is off at night.
        let expected = (row.time - t0).as_ms() as f64 / period.as_ms() as f64;
        let share = f64::from(row.with_policy.min(10_000)) / n;
        let tol = 4.0 * (expected * (1.0 - expected) / n).sqrt() + 1.0 / n;
        assert!(
            (share - expected).abs() <= tol,
            "at {}: {share} of clients have the policy, expected {expected} ± {tol}",
            row.time
        );
        checked += 1;
    }
    assert!(checked >= 12, "samples in the first interval: {checked}");
    let after = out
        .timeline
        .iter()
        .find(|r| r.time >= t0 + period)
        .expect("a later sample");
    assert!(
        after.with_policy >= 10_000,
        "all always-on clients have it by t0 + T"
    );
    assert_eq!(estate.deployments[0].targeted(&estate), 10_001);
}

/// Law 5: a client sends at most one batch per reporting cycle (besides
/// one within two minutes of each install) and never an empty one. (The
/// run checks it batch by batch; here the shortest gap between two
/// batches at reporting ticks, and the count.)
#[test]
fn batching() {
    let (estate, out) = run(&Knobs::default());
    let interval = estate.settings[0].state_message_interval;
    let gap = out.min_batch_gap.expect("clients sent several batches");
    assert!(gap >= interval, "two batches {gap} apart");
    let cycles = estate.duration.as_ms() / interval.as_ms() + 1;
    let installs = out.totals.installs;
    for (c, &b) in out.batches_per_client.iter().enumerate() {
        assert!(
            u64::from(b) <= cycles + installs,
            "client {c} sent {b} batches in {cycles} cycles"
        );
    }
    assert!(out.totals.batches_after_install > 0);
    let t = &out.totals;
    assert!(t.batches > 0 && t.batches <= t.state_messages_queued);
    assert_eq!(t.state_messages_in_database, out.message_latency.len());
}

/// Law 7: an install starts no earlier than the client's deadline (with its
/// randomization), unless the deadline had passed when the client learned of
/// the deployment.
#[test]
fn deadlines() {
    for randomize_deadline in [false, true] {
        let (estate, out) = run(&Knobs {
            randomize_deadline,
            ..Knobs::default()
        });
        let deadline = estate.deployments[0].deadline;
        let mut installs = 0;
        let mut spread = false;
        for (c, a) in out.deployments[0].assignments.iter().enumerate() {
            if a.install_started_at == SimTime::MAX {
                continue;
            }
            installs += 1;
            let floor = if a.learned_at > a.deadline_at() {
                a.learned_at
            } else {
                a.deadline_at()
            };
            assert!(
                a.install_started_at >= floor,
                "client {c}: install at {}, deadline {}",
                a.install_started_at,
                a.deadline_at()
            );
            assert!(a.deadline_at() >= deadline);
            assert!(a.deadline_at() <= deadline + SimDuration::from_hours(2));
            spread |= a.deadline_at() > deadline;
        }
        assert!(installs > 400, "most clients install: {installs}");
        assert_eq!(
            spread, randomize_deadline,
            "randomization spreads deadlines only when on"
        );
    }
}
