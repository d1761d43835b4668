//! End to end: whole runs, reported as events/s (criterion's throughput)
//! and time per run. `patch_tuesday_10k_7d` is the shipped scenario cut to a
//! week; `patch_tuesday_100k_7d` the same estate with every cohort ten times
//! as large (and ten times the distribution point capacity), to show how the
//! cost grows with clients. Seconds per simulated day = time / 7.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use patchsim::{model, scenario};

fn estate(scale: u32) -> patchsim::estate::Estate {
    let mut raw = scenario::parse(scenario::DEFAULT_SCENARIO, scenario::DEFAULT_SCENARIO_NAME)
        .expect("embedded scenario parses");
    raw.duration = "7d".parse().expect("a duration");
    for cohort in &mut raw.cohorts {
        cohort.count *= scale;
    }
    for dp in &mut raw.servers.distribution_points {
        dp.max_connections *= scale;
        dp.bandwidth.0 *= u64::from(scale);
    }
    for mp in &mut raw.servers.management_points {
        mp.workers *= scale;
    }
    for sup in &mut raw.servers.update_points {
        sup.scan_slots *= scale;
    }
    scenario::build(raw, "patch-tuesday (scaled)").expect("valid")
}

fn runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("estate");
    group.sample_size(10);
    for (name, scale) in [("patch_tuesday_10k_7d", 1), ("patch_tuesday_100k_7d", 10)] {
        let estate = estate(scale);
        let events = model::run(&estate, Default::default())
            .expect("never stopped")
            .events;
        group.throughput(Throughput::Elements(events));
        group.bench_function(name, |b| {
            b.iter(|| model::run(&estate, Default::default()).expect("never stopped"))
        });
    }
    group.finish();
}

criterion_group!(benches, runs);
criterion_main!(benches);
