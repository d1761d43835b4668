//! The event agenda alone: push/pop throughput at several queue sizes, the
//! `priority-queue`-based [`Agenda`] against a plain `BinaryHeap` of
//! `(time, seq)` (which cannot cancel) as the floor to beat.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use patchsim::engine::{Agenda, SimTime};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Hold model: the queue holds `n` events; each step pops the earliest and
/// pushes one a random distance later (the classic agenda benchmark).
fn hold(c: &mut Criterion) {
    let mut group = c.benchmark_group("agenda_hold");
    const STEPS: u64 = 100_000;
    group.throughput(Throughput::Elements(STEPS));
    for n in [1_000usize, 100_000, 1_000_000] {
        group.bench_with_input(BenchmarkId::new("priority_queue", n), &n, |b, &n| {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut agenda = Agenda::with_capacity(n + 1);
            for i in 0..n {
                agenda.push(SimTime(rng.random_range(0..3_600_000)), i as u32);
            }
            b.iter(|| {
                for _ in 0..STEPS {
                    let (t, e) = agenda.pop().expect("non-empty");
                    agenda.push(SimTime(t.0 + rng.random_range(1..3_600_000)), e);
                }
            });
        });
        group.bench_with_input(BenchmarkId::new("binary_heap", n), &n, |b, &n| {
            let mut rng = ChaCha8Rng::seed_from_u64(1);
            let mut heap = BinaryHeap::with_capacity(n + 1);
            let mut seq = 0u64;
            for i in 0..n {
                heap.push(Reverse((rng.random_range(0..3_600_000u64), seq, i as u32)));
                seq += 1;
            }
            b.iter(|| {
                for _ in 0..STEPS {
                    let Reverse((t, _, e)) = heap.pop().expect("non-empty");
                    heap.push(Reverse((t + rng.random_range(1..3_600_000), seq, e)));
                    seq += 1;
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, hold);
criterion_main!(benches);
