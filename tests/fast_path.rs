//! The fast path (reporting ticks that could send nothing are not
//! simulated) gives exactly the outputs of the explicit model, which
//! simulates every client's every tick.

mod common;

use patchsim::model::{self, Estate, RunOptions};
use patchsim::output;

/// Every output file but the event count, which is what the fast path saves.
fn outputs(estate: &Estate, explicit: bool) -> (u64, Vec<(String, String)>) {
    let outcome = model::run_traced(
        estate,
        RunOptions {
            explicit_report_cycles: explicit,
            ..Default::default()
        },
    );
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

#[test]
fn fast_and_explicit_paths_agree() {
    for (i, text) in [
        common::ron(&common::Knobs::default()),
        common::ron(&common::Knobs {
            seed: 99,
            randomize_deadline: true,
            ..Default::default()
        }),
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
