//! Running a study's runs on worker threads.
//!
//! Owns the parallelism: each run is single-threaded and independent, so
//! runs are handed to `jobs` workers one at a time and the results sorted by
//! (point, replication) afterwards; the output cannot depend on `jobs` or
//! on which worker finished first. Does not own what a run measures
//! (`metrics.rs`) or the files (`files.rs`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::curves::Curves;
use super::metrics::measure;
use super::{Plan, RunRow, Shard, Study, replication_seed};
use crate::error::{During, Error};
use crate::{model, output, scenario};

/// Runs one run: point `point` with the seed of replication `replication`;
/// `None` if `stop` said to stop first.
fn run_one(
    plan: &Plan,
    point: usize,
    replication: u32,
    stop: Option<&AtomicUsize>,
) -> Option<(RunRow, Curves)> {
    let seed = replication_seed(plan.base.seed, replication);
    let mut raw = plan.points[point].clone();
    raw.seed = seed;
    let estate = scenario::build(raw, &plan.origin)
        .expect("every point was validated before the study started, and a seed is always valid");
    let options = model::RunOptions {
        stop: stop.map(|flag| {
            Box::new(move || flag.load(Ordering::Relaxed) != 0) as Box<dyn FnMut() -> bool>
        }),
        ..model::RunOptions::default()
    };
    let outcome = model::run(&estate, options).ok()?;
    let summary = output::summary(&estate, &outcome);
    let curves = Curves::of_run(point, &estate, &outcome);
    Some((
        RunRow {
            point,
            replication,
            seed,
            values: measure(&plan.columns, &summary),
        },
        curves,
    ))
}

/// Runs the runs of `shard` (every run without one) on `jobs` threads and
/// returns the study; `done` is called after each run (from any thread).
pub fn run(plan: &Plan, shard: Option<Shard>, jobs: usize, done: &(dyn Fn() + Sync)) -> Study {
    run_stoppable(plan, shard, jobs, done, None).expect("nothing stops a study without a flag")
}

/// As [`run`], stopping every worker between two events once `stop` holds
/// a signal's number; then the runs done are dropped and the error says
/// how far the study got.
pub fn run_stoppable(
    plan: &Plan,
    shard: Option<Shard>,
    jobs: usize,
    done: &(dyn Fn() + Sync),
    stop: Option<&AtomicUsize>,
) -> Result<Study, Error> {
    let ids = plan.run_ids(shard);
    let next = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let stopped = AtomicBool::new(false);
    let replications = plan.replications as usize;
    let work = || {
        let mut rows = Vec::new();
        // Integer sums: the same whichever worker adds which run.
        let mut curves = Curves::default();
        loop {
            if stop.is_some_and(|f| f.load(Ordering::Relaxed) != 0) {
                stopped.store(true, Ordering::Relaxed);
                break;
            }
            let k = next.fetch_add(1, Ordering::Relaxed);
            let Some(&id) = ids.get(k) else { break };
            match run_one(plan, id / replications, (id % replications) as u32, stop) {
                Some((row, run_curves)) => {
                    rows.push(row);
                    curves.add(&run_curves);
                }
                None => {
                    stopped.store(true, Ordering::Relaxed);
                    break;
                }
            }
            finished.fetch_add(1, Ordering::Relaxed);
            done();
        }
        (rows, curves)
    };
    let workers = jobs.clamp(1, ids.len().max(1));
    let mut curves = Curves::default();
    let rows: Vec<RunRow> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers).map(|_| s.spawn(work)).collect();
        let mut rows = Vec::new();
        for h in handles {
            let (r, c) = h.join().expect("a run panicked");
            rows.extend(r);
            curves.add(&c);
        }
        rows
    });
    if stopped.load(Ordering::Relaxed) {
        return Err(Error::Interrupted {
            signal: stop.map_or(0, |f| f.load(Ordering::Relaxed) as i32),
            during: During::Study {
                done: finished.load(Ordering::Relaxed),
                runs: ids.len(),
            },
        });
    }
    let mut study = Study::new(plan, shard, rows);
    study.curves = curves;
    Ok(study)
}
