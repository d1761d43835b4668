//! End to end: whole runs of the shipped scenario, reported as events/s
//! (criterion's throughput) and time per run (30 simulated days).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchsim::{cli, model};

fn patch_tuesday(c: &mut Criterion) {
    let estate = cli::load_estate(None, None).expect("embedded scenario is valid");
    let events = model::run(&estate).events;
    let mut group = c.benchmark_group("estate");
    group.sample_size(10);
    group.throughput(Throughput::Elements(events));
    group.bench_function("patch_tuesday_10k_30d", |b| b.iter(|| model::run(&estate)));
    group.finish();
}

criterion_group!(benches, patch_tuesday);
criterion_main!(benches);
