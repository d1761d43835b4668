//! Per-draw cost of an entity's random stream: the stored ChaCha8 generator
//! (`StreamRng`, 320 bytes) against the 24-byte `CounterRng`, which
//! computes one ChaCha8 block per draw. Throughput is draws per second.
//!
//! - `rng_one_stream`: one generator, in cache, drawn from in a loop: the
//!   stored generator's best case (a 4-block refill every 32 `u64`s), the
//!   counter's cost of one block per draw, and a session of four draws;
//! - `rng_entities`: 10^6 entity records `{ state, rng }`, each step draws
//!   from a record picked at random, as a model with a million clients does
//!   (stored: 328 MB of records; counter: 32 MB);
//! - `rng_seek`: what a counter-based stream costs when built on `rand_chacha`
//!   itself (`seed_from_u64`, `set_stream`, `set_word_pos`, one draw), the
//!   design `CounterRng` avoids.
//!
//! `cargo bench --features bench --bench rng`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchsim::engine::{CounterRng, StreamRng, Streams};
use rand::{Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, LogNormal};

const DRAWS: u64 = 100_000;
const ENTITIES: usize = 1_000_000;

fn configure<'c>(
    c: &'c mut Criterion,
    name: &str,
) -> criterion::BenchmarkGroup<'c, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(DRAWS));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    group
}

fn one_stream(c: &mut Criterion) {
    let streams = Streams::new(42);
    let mut group = configure(c, "rng_one_stream");
    let lognormal = LogNormal::new(7.0, 0.5).expect("valid");
    // Every draw goes through `black_box(&mut rng)`, as a draw from a stream
    // kept in an entity's record does: nothing is hoisted out of the loop.
    let mut stored = streams.stream(1, 7);
    group.bench_function("stored_chacha8/next_u64", |b| {
        b.iter(|| (0..DRAWS).fold(0u64, |acc, _| acc ^ black_box(&mut stored).next_u64()))
    });
    let mut counter = streams.counter(1, 7);
    group.bench_function("counter/next_u64", |b| {
        b.iter(|| (0..DRAWS).fold(0u64, |acc, _| acc ^ black_box(&mut counter).next_u64()))
    });
    group.bench_function("counter_session_of_4/next_u64", |b| {
        b.iter(|| {
            (0..DRAWS / 4).fold(0u64, |acc, _| {
                let mut rng = black_box(&mut counter).session();
                acc ^ rng.next_u64() ^ rng.next_u64() ^ rng.next_u64() ^ rng.next_u64()
            })
        })
    });
    group.bench_function("stored_chacha8/lognormal", |b| {
        b.iter(|| (0..DRAWS).fold(0.0, |acc, _| acc + lognormal.sample(black_box(&mut stored))))
    });
    group.bench_function("counter/lognormal", |b| {
        b.iter(|| {
            (0..DRAWS).fold(0.0, |acc, _| {
                acc + lognormal.sample(black_box(&mut counter))
            })
        })
    });
    group.finish();
}

/// Entity order: a fixed pseudo-random walk over all entities.
fn picks() -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    (0..DRAWS)
        .map(|_| rng.random_range(0..ENTITIES as u32))
        .collect()
}

/// An entity's record: some state and its stream.
struct Record<R> {
    state: u64,
    rng: R,
}

fn entities(c: &mut Criterion) {
    let streams = Streams::new(42);
    let picks = picks();
    let mut group = configure(c, "rng_entities");
    let mut stored: Vec<Record<StreamRng>> = (0..ENTITIES as u64)
        .map(|i| Record {
            state: i,
            rng: streams.stream(1, i),
        })
        .collect();
    group.bench_function("stored_chacha8/next_u64", |b| {
        b.iter(|| {
            for &i in &picks {
                let r = &mut stored[i as usize];
                r.state ^= r.rng.next_u64();
            }
        })
    });
    drop(stored);
    let mut counters: Vec<Record<CounterRng>> = (0..ENTITIES as u64)
        .map(|i| Record {
            state: i,
            rng: streams.counter(1, i),
        })
        .collect();
    group.bench_function("counter/next_u64", |b| {
        b.iter(|| {
            for &i in &picks {
                let r = &mut counters[i as usize];
                r.state ^= r.rng.next_u64();
            }
        })
    });
    group.finish();
}

fn seek(c: &mut Criterion) {
    let picks = picks();
    let mut group = configure(c, "rng_seek");
    group.bench_function("rand_chacha_seek/next_u64", |b| {
        b.iter(|| {
            picks.iter().fold(0u64, |acc, &i| {
                let mut rng = ChaCha8Rng::seed_from_u64(42);
                rng.set_stream((1 << 48) | u64::from(i));
                rng.set_word_pos(u128::from(i % 64));
                acc ^ rng.next_u64()
            })
        })
    });
    group.bench_function("counter_new/next_u64", |b| {
        b.iter(|| {
            picks.iter().fold(0u64, |acc, &i| {
                let mut rng = CounterRng::new(42, 1, u64::from(i)).with_word_pos(u64::from(i % 64));
                acc ^ black_box(&mut rng).next_u64()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, one_stream, entities, seek);
criterion_main!(benches);
