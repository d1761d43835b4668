//! The event agenda alone, every candidate structure under three workloads
//! at 10^3 to 10^7 pending events. Throughput is events popped per second
//! (each step peeks and pops one event, as `Simulation::step` does, and
//! schedules its successor).
//!
//! - `hold`: the classic hold model; the successor is a uniform 1 ms to 1 h
//!   later.
//! - `cancel`: hold, plus every fourth step schedules an extra event 1 to 2 h
//!   ahead and cancels the one it scheduled n/4 steps earlier, so one push
//!   in five is later cancelled.
//! - `periodic`: n/2 clients, each with a policy poll every hour and a state
//!   message cycle every 15 minutes at its own phase (a million-client estate
//!   at n = 2·10^6); each event re-arms itself.
//! - `far`: n/2 clients, each with a policy poll every hour and a power
//!   timer re-armed 10 to 15 h ahead (power on/off), so half the pending
//!   events sit far beyond an hour.
//!
//! Candidates: `priority_queue` (the crate, the agenda's queue before the
//! wheel), `binary_heap` (`std::collections::BinaryHeap` with lazy
//! cancellation), both in `benches/agenda_candidates/`, and `wheel` (the
//! two-level bucketed timing wheel the agenda uses). Each candidate is first
//! checked against the wheel, operation by operation. For
//! `periodic`, also `agenda_rings`: the `Agenda` itself with every timer a
//! periodic timer (`Agenda::periodic`), re-armed as it fires, as the model's
//! policy polls are. The group `agenda_wheel_params` compares bucket widths
//! and counts.
//!
//! `cargo bench --features bench --bench queue`; one workload: `cargo bench --features bench --bench queue -- periodic`.

mod agenda_candidates;

use std::collections::VecDeque;
use std::hint::black_box;
use std::time::{Duration, Instant};

use agenda_candidates::{LazyBinaryHeap, PriorityQueueAgenda, check_against_wheel};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group};
use patchsim::engine::agenda_bench::{AgendaQueue, BucketWheel};
use patchsim::engine::{Agenda, SimDuration, SimTime};

/// Steps per timed iteration.
const STEPS: u64 = 100_000;
const HOUR_MS: u64 = 3_600_000;
const SIZES: [usize; 5] = [1_000, 10_000, 100_000, 1_000_000, 10_000_000];

/// SplitMix64: a few instructions per draw, so the loop measures the agenda.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `lo..hi` (the tiny modulo bias does not matter here).
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// The next event, taken as the engine's run loop takes it: peek, then pop.
#[inline(always)]
fn next<Q: AgendaQueue<u32>>(q: &mut Q) -> (SimTime, u32) {
    black_box(q.peek_time()).expect("non-empty");
    q.pop().expect("non-empty")
}

/// A workload: sets a queue up with `n` pending events, then runs steps.
trait Workload {
    const NAME: &'static str;
    /// What the workload keeps beside a queue `Q` (which may be ids of `Q`).
    type State<Q: AgendaQueue<u32>>;
    fn new<Q: AgendaQueue<u32>>(n: usize) -> (Self::State<Q>, Q);
    fn steps<Q: AgendaQueue<u32>>(state: &mut Self::State<Q>, q: &mut Q, steps: u64);
}

struct Hold {
    rng: Mix,
}

impl Workload for Hold {
    const NAME: &'static str = "agenda_hold";
    type State<Q: AgendaQueue<u32>> = Hold;
    fn new<Q: AgendaQueue<u32>>(n: usize) -> (Hold, Q) {
        let mut rng = Mix(1);
        let mut q = Q::with_capacity(n + 1);
        for i in 0..n {
            q.push(SimTime(rng.range(0, HOUR_MS)), i as u32);
        }
        (Hold { rng }, q)
    }
    fn steps<Q: AgendaQueue<u32>>(state: &mut Hold, q: &mut Q, steps: u64) {
        for _ in 0..steps {
            let (t, e) = next(q);
            q.push(SimTime(t.0 + state.rng.range(1, HOUR_MS)), e);
        }
    }
}

struct Cancel<Id> {
    rng: Mix,
    step: u64,
    lag: usize,
    victims: VecDeque<Id>,
}

impl Workload for Cancel<()> {
    const NAME: &'static str = "agenda_cancel";
    type State<Q: AgendaQueue<u32>> = Cancel<Q::Id>;
    fn new<Q: AgendaQueue<u32>>(n: usize) -> (Cancel<Q::Id>, Q) {
        let (hold, q) = Hold::new::<Q>(n);
        let lag = (n / 16).max(4);
        let w = Cancel {
            rng: hold.rng,
            step: 0,
            lag,
            victims: VecDeque::with_capacity(lag + 1),
        };
        (w, q)
    }
    fn steps<Q: AgendaQueue<u32>>(state: &mut Cancel<Q::Id>, q: &mut Q, steps: u64) {
        for _ in 0..steps {
            let (t, e) = next(q);
            q.push(SimTime(t.0 + state.rng.range(1, HOUR_MS)), e);
            state.step += 1;
            if state.step % 4 == 0 {
                let at = SimTime(t.0 + state.rng.range(HOUR_MS, 2 * HOUR_MS));
                state.victims.push_back(q.push(at, u32::MAX));
                if state.victims.len() > state.lag {
                    let id = state.victims.pop_front().expect("non-empty");
                    black_box(q.cancel(id));
                }
            }
        }
    }
}

struct Periodic;

impl Periodic {
    const PERIOD_MS: [u64; 2] = [HOUR_MS, 15 * 60_000];

    /// Each timer's first time (its phase) and event: n/2 clients, a poll
    /// and a state message cycle each.
    fn timers(n: usize) -> Vec<(u64, u32)> {
        let mut rng = Mix(2);
        let mut timers = Vec::with_capacity(n);
        for client in 0..(n / 2) as u32 {
            for kind in 0..2u32 {
                let phase = rng.range(0, Self::PERIOD_MS[kind as usize]);
                timers.push((phase, client << 1 | kind));
            }
        }
        timers
    }
}

impl Workload for Periodic {
    const NAME: &'static str = "agenda_periodic";
    type State<Q: AgendaQueue<u32>> = Periodic;
    fn new<Q: AgendaQueue<u32>>(n: usize) -> (Periodic, Q) {
        let mut q = Q::with_capacity(n + 1);
        for (phase, e) in Self::timers(n) {
            q.push(SimTime(phase), e);
        }
        (Periodic, q)
    }
    fn steps<Q: AgendaQueue<u32>>(_: &mut Periodic, q: &mut Q, steps: u64) {
        for _ in 0..steps {
            let (t, e) = next(q);
            q.push(SimTime(t.0 + Self::PERIOD_MS[(e & 1) as usize]), e);
        }
    }
}

/// `periodic` on the agenda's periodic timers: its rings by period, each
/// firing re-armed one period on (the wheel stays empty).
fn periodic_rings(n: usize) -> Runner {
    let mut agenda = Agenda::with_capacity(0);
    let timers = Periodic::timers(n);
    let mut by_phase = timers.clone();
    by_phase.sort_unstable();
    let mut ids = vec![None; timers.len()];
    for &(phase, e) in &by_phase {
        let period = SimDuration(Periodic::PERIOD_MS[(e & 1) as usize]);
        ids[e as usize] = Some(agenda.periodic(SimTime(phase), period, e));
    }
    for &(phase, e) in &timers {
        agenda.arm_periodic(ids[e as usize].expect("made"), SimTime(phase));
    }
    Box::new(move |steps| {
        for _ in 0..steps {
            black_box(agenda.peek_time()).expect("non-empty");
            let (key, e) = agenda.pop_keyed().expect("non-empty");
            let id = agenda.firing(key).expect("a periodic firing");
            agenda.resume(id, key.time);
            black_box(e);
        }
    })
}

struct FarTimers {
    rng: Mix,
}

impl FarTimers {
    const POWER_MS: (u64, u64) = (10 * HOUR_MS, 15 * HOUR_MS);
}

impl Workload for FarTimers {
    const NAME: &'static str = "agenda_far";
    type State<Q: AgendaQueue<u32>> = FarTimers;
    fn new<Q: AgendaQueue<u32>>(n: usize) -> (FarTimers, Q) {
        let mut rng = Mix(3);
        let mut q = Q::with_capacity(n + 1);
        for client in 0..(n / 2) as u32 {
            q.push(SimTime(rng.range(0, HOUR_MS)), client << 1);
            q.push(SimTime(rng.range(0, Self::POWER_MS.1)), client << 1 | 1);
        }
        (FarTimers { rng }, q)
    }
    fn steps<Q: AgendaQueue<u32>>(state: &mut FarTimers, q: &mut Q, steps: u64) {
        for _ in 0..steps {
            let (t, e) = next(q);
            let delay = if e & 1 == 0 {
                HOUR_MS
            } else {
                state.rng.range(Self::POWER_MS.0, Self::POWER_MS.1)
            };
            q.push(SimTime(t.0 + delay), e);
        }
    }
}

/// Runs `steps` steps of one case's workload on its queue.
type Runner = Box<dyn FnMut(u64)>;

/// One benchmark: a group (workload), a structure, a size.
struct Case {
    group: &'static str,
    name: String,
    n: usize,
    make: fn(usize) -> Runner,
}

impl Case {
    fn new<W: Workload + 'static, Q: AgendaQueue<u32> + 'static>(
        group: &'static str,
        name: &str,
        n: usize,
    ) -> Case {
        fn make<W: Workload + 'static, Q: AgendaQueue<u32> + 'static>(n: usize) -> Runner {
            let (mut w, mut q) = W::new::<Q>(n);
            Box::new(move |steps| W::steps(&mut w, &mut q, steps))
        }
        Case {
            group,
            name: name.to_string(),
            n,
            make: make::<W, Q>,
        }
    }

    fn id(&self) -> String {
        format!("{}/{}/{}", self.group, self.name, self.n)
    }
}

fn cases() -> Vec<Case> {
    fn workload<W: Workload + 'static>(cases: &mut Vec<Case>) {
        for n in SIZES {
            cases.push(Case::new::<W, PriorityQueueAgenda<u32>>(
                W::NAME,
                "priority_queue",
                n,
            ));
            cases.push(Case::new::<W, LazyBinaryHeap<u32>>(
                W::NAME,
                "binary_heap",
                n,
            ));
            cases.push(Case::new::<W, BucketWheel<u32>>(W::NAME, "wheel", n));
        }
    }
    let mut cases = Vec::new();
    workload::<Hold>(&mut cases);
    workload::<Cancel<()>>(&mut cases);
    workload::<Periodic>(&mut cases);
    for n in SIZES {
        cases.push(Case {
            group: Periodic::NAME,
            name: "agenda_rings".to_string(),
            n,
            make: periodic_rings,
        });
    }
    workload::<FarTimers>(&mut cases);
    // Bucket width 2^SHIFT ms, 2^BITS near buckets and 2^CBITS coarse
    // buckets, at a million pending events.
    macro_rules! params {
        ($($shift:literal, $bits:literal, $cbits:literal);*) => {$(
            for (w, q) in [
                ("hold", Case::new::<Hold, BucketWheel<u32, $shift, $bits, $cbits>> as fn(&'static str, &str, usize) -> Case),
                ("cancel", Case::new::<Cancel<()>, BucketWheel<u32, $shift, $bits, $cbits>>),
                ("periodic", Case::new::<Periodic, BucketWheel<u32, $shift, $bits, $cbits>>),
                ("far", Case::new::<FarTimers, BucketWheel<u32, $shift, $bits, $cbits>>),
            ] {
                let name = format!("{w}/w2^{}ms_x2^{}_c2^{}", $shift, $bits, $cbits);
                cases.push(q("agenda_wheel_params", &name, 1_000_000));
            }
        )*};
    }
    params!(9, 13, 10; 9, 14, 10; 10, 12, 10; 10, 13, 10; 10, 13, 8; 10, 14, 10; 11, 12, 10; 11, 11, 10);
    cases
}

fn criterion_benches(c: &mut Criterion) {
    let cases = cases();
    let mut groups: Vec<&'static str> = cases.iter().map(|c| c.group).collect();
    groups.dedup();
    for g in groups {
        let mut group = c.benchmark_group(g);
        group.throughput(Throughput::Elements(STEPS));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for case in cases.iter().filter(|c| c.group == g) {
            group.bench_with_input(BenchmarkId::new(&case.name, case.n), &case.n, |b, &n| {
                let mut run = (case.make)(n);
                b.iter(|| run(STEPS));
            });
        }
        group.finish();
    }
}

/// Best and median of `batches` timed batches of [`STEPS`] steps, after
/// `warmup` untimed steps, in million events per second. On a shared
/// machine the best batch is the least disturbed one.
fn best_of(case: &Case, warmup: u64, batches: usize) -> (f64, f64) {
    let mut run = (case.make)(case.n);
    run(warmup);
    let mut rates: Vec<f64> = (0..batches)
        .map(|_| {
            let start = Instant::now();
            run(STEPS);
            STEPS as f64 / start.elapsed().as_secs_f64() / 1e6
        })
        .collect();
    rates.sort_by(f64::total_cmp);
    (rates[batches - 1], rates[batches / 2])
}

#[inline(never)]
fn measured(run: &mut Runner, steps: u64) {
    run(steps);
}

/// `cargo bench --features bench --bench queue` runs criterion. Two other modes, for a machine
/// too noisy for means:
///
/// - `AGENDA_TABLE=<filter>`: every case whose id contains the filter, best
///   and median of 15 batches, as a Markdown table. The batches follow one
///   untimed batch, or `AGENDA_WARMUP=<n>` steps: a case starts with every
///   timer at most an hour (`far`: 15 h) ahead, and the 1–2 h timers of
///   `cancel` and the 10–15 h ones of `far` only come due (with the
///   cancelled ones to drop) after that much simulated time, which at 10^7
///   pending events takes tens of millions of steps;
/// - `AGENDA_ONE=<id> AGENDA_STEPS=<n>`: builds one case and runs `n` steps in
///   `measured`, for `valgrind --tool=callgrind --toggle-collect='*measured*'`.
fn main() {
    check_against_wheel::<PriorityQueueAgenda<u32>>("priority_queue", 1, 300_000);
    check_against_wheel::<LazyBinaryHeap<u32>>("binary_heap", 2, 300_000);
    if let Ok(filter) = std::env::var("AGENDA_TABLE") {
        let warmup =
            std::env::var("AGENDA_WARMUP").map_or(STEPS, |s| s.parse().expect("AGENDA_WARMUP"));
        println!("| case | best Mevents/s | median Mevents/s |\n| --- | ---: | ---: |");
        for case in cases().iter().filter(|c| c.id().contains(&filter)) {
            let (best, median) = best_of(case, warmup, 15);
            println!("| {} | {best:.2} | {median:.2} |", case.id());
        }
        return;
    }
    if let Ok(id) = std::env::var("AGENDA_ONE") {
        let steps =
            std::env::var("AGENDA_STEPS").map_or(1_000_000, |s| s.parse().expect("AGENDA_STEPS"));
        let case = cases()
            .into_iter()
            .find(|c| c.id() == id)
            .expect("no such case");
        let mut run = (case.make)(case.n);
        run(steps / 10);
        measured(&mut run, steps);
        return;
    }
    criterion_group!(benches, criterion_benches);
    benches();
    Criterion::default().configure_from_args().final_summary();
}
