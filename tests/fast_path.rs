//! The fast path gives exactly the outputs of the explicit model, which
//! simulates every client's every reporting tick and every policy poll as
//! an event of its own. The fast path skips the ticks that could send
//! nothing and the polls of clients that are off, and ends policy answers
//! that bring nothing new without an event (`World::settle`).

mod common;

use patchsim::estate::Estate;
use patchsim::model::{self, RunOptions};
use patchsim::output;

/// Every output file but the event count, which is what the fast path saves.
fn outputs(estate: &Estate, explicit: bool) -> (u64, Vec<(String, String)>) {
    let outcome = model::run(
        estate,
        RunOptions {
            explicit,
            ..Default::default()
        },
    )
    .expect("never stopped");
    let events = outcome.events;
    let files = output::run_files(estate, &outcome)
        .into_iter()
        .map(|(name, text)| {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| {
                    !l.contains("\"events\"") && !l.contains(" events") && !l.contains(">events<")
                })
                .collect();
            (name, kept.join("\n"))
        })
        .collect();
    (events, files)
}

/// The test scenario with a management point that queues, rejects, slows
/// down and goes down, and polls every 15 minutes: silent policy answers
/// meet every situation that turns them back into events (a queue forming,
/// a publication while answers are in service) or settles them (an outage,
/// a slowdown, samples, power changes).
fn busy_management_point(seed: u64) -> String {
    common::ron(&common::Knobs {
        seed,
        poll: "15m",
        ..Default::default()
    })
    .replace(
        r#"management_points: [ManagementPoint(name: "mp")],"#,
        r#"management_points: [ManagementPoint(name: "mp", workers: 2, queue_limit: 40,
                                               policy_time: LogNormal(median: "1500ms", sigma: 1.0))],"#,
    )
    .replace(
        "    cohorts: [",
        r#"    faults: [
        Fault(server: "mp", start: "2026-11-10T14:20:00+01:00", end: "2026-11-10T15:05:00+01:00"),
        Fault(server: "mp", start: "2026-11-11T07:50:00+01:00", end: "2026-11-11T09:30:00+01:00", effect: Slow(3.0)),
    ],
    cohorts: ["#,
    )
}

#[test]
fn fast_and_explicit_paths_agree() {
    for (i, text) in [
        common::ron(&common::Knobs::default()),
        common::ron(&common::Knobs {
            seed: 99,
            randomize_deadline: true,
            ..Default::default()
        }),
        busy_management_point(5),
        busy_management_point(6),
    ]
    .iter()
    .enumerate()
    {
        let estate = common::estate_of(text);
        let (fast_events, fast) = outputs(&estate, false);
        let (explicit_events, explicit) = outputs(&estate, true);
        assert!(
            fast_events * 2 < explicit_events,
            "case {i}: the fast path saves events: {fast_events} vs {explicit_events}"
        );
        assert_eq!(fast.len(), explicit.len());
        for ((name, a), (_, b)) in fast.iter().zip(&explicit) {
            if a != b {
                for (x, y) in a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(3) {
                    eprintln!("fast:     {x}\nexplicit: {y}");
                }
            }
            assert!(
                a == b,
                "case {i}: {name} differs between the fast and the explicit path"
            );
        }
    }
}
