//! Running a study's runs on worker threads.
//!
//! Owns the parallelism: each run is single-threaded and independent, so
//! runs are handed to the workers one at a time (the calling thread, and
//! as many more threads as `jobs` asks and the memory allows: see
//! `Plan::workers`) and the results sorted by (point, replication)
//! afterwards; the output cannot depend on `jobs` or on which worker
//! finished first. Does not own what a run measures
//! (`metrics.rs`) or the files (`files.rs`).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::curves::Curves;
use super::metrics::measure;
use super::{Plan, RunRow, Shard, Study, replication_seed};
use crate::app::WORKER_STACK_BYTES;
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
    let (workers, _) = plan.workers(jobs, ids.len());
    let mut curves = Curves::default();
    let rows: Vec<RunRow> = std::thread::scope(|s| {
        // This thread is the first worker: one run at a time takes no
        // more than `run` would, and no thread's stack or arena. The others
        // get threads of their own, as many as the system lets start (each
        // takes runs until none are left, so fewer only take longer).
        // One at a time, each once its first allocation has made its
        // allocator arena (see `app::memory::THREAD_ARENA_BYTES`).
        let stack = usize::try_from(WORKER_STACK_BYTES).expect("a few MiB");
        let work = &work;
        let handles: Vec<_> = (1..workers)
            .map_while(|_| {
                let (started, wait) = std::sync::mpsc::sync_channel(1);
                let handle = (std::thread::Builder::new().stack_size(stack))
                    .spawn_scoped(s, move || {
                        drop(std::hint::black_box(Box::new(0u8)));
                        let _ = started.send(());
                        work()
                    })
                    .ok()?;
                let _ = wait.recv();
                Some(handle)
            })
            .collect();
        let mut rows = Vec::new();
        let mut add = |(r, c): (Vec<RunRow>, Curves)| {
            rows.extend(r);
            curves.add(&c);
        };
        add(work());
        for h in handles {
            add(h.join().expect("a run panicked"));
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
