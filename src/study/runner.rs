//! Running a study's runs on worker threads.
//!
//! Owns the parallelism: each run is single-threaded and independent, so
//! runs are handed to `jobs` workers one at a time and the results sorted by
//! (point, replication) afterwards; the output cannot depend on `jobs` or
//! on which worker finished first. Does not own what a run measures
//! (`metrics.rs`) or the files (`files.rs`).

use std::sync::atomic::{AtomicUsize, Ordering};

use super::metrics::measure;
use super::{Plan, RunRow, Shard, Study, replication_seed};
use crate::{model, output, scenario};

/// Runs one run: point `point` with the seed of replication `replication`.
fn run_one(plan: &Plan, point: usize, replication: u32) -> RunRow {
    let seed = replication_seed(plan.base.seed, replication);
    let mut raw = plan.points[point].clone();
    raw.seed = seed;
    let estate = scenario::build(raw, &plan.origin)
        .expect("every point was validated before the study started, and a seed is always valid");
    let outcome = model::run(&estate, model::RunOptions::default())
        .expect("a run without a stop hook completes");
    let summary = output::summary(&estate, &outcome);
    RunRow {
        point,
        replication,
        seed,
        values: measure(&plan.columns, &summary),
    }
}

/// Runs the runs of `shard` (every run without one) on `jobs` threads and
/// returns the study; `done` is called after each run (from any thread).
pub fn run(plan: &Plan, shard: Option<Shard>, jobs: usize, done: &(dyn Fn() + Sync)) -> Study {
    let ids = plan.run_ids(shard);
    let next = AtomicUsize::new(0);
    let replications = plan.replications as usize;
    let work = || {
        let mut rows = Vec::new();
        loop {
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&id) = ids.get(k) else { break };
            rows.push(run_one(plan, id / replications, (id % replications) as u32));
            done();
        }
        rows
    };
    let workers = jobs.clamp(1, ids.len().max(1));
    let rows: Vec<RunRow> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a run panicked"))
            .collect()
    });
    Study::new(plan, shard, rows)
}
