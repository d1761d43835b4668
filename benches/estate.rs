//! End to end: whole runs, reported as events/s (criterion's throughput)
//! and time per run, on estates of different shapes.
//!
//! - `patch_tuesday_10k_7d` is the shipped scenario cut to a week;
//!   `patch_tuesday_100k_7d` the same estate with every cohort ten times as
//!   large (and ten times the servers' capacity), to show how the cost grows
//!   with clients. Seconds per simulated day = time / 7.
//! - `plain_10k` and `plain_100k`: `scenarios/plain.ron` (always-on clients,
//!   one Required update, servers bigger than the load, 3 days) at a tenth
//!   and at full size; the links bind the downloads.
//! - `dp_bound_10k`: the plain estate at a tenth with a 100 Mbps DP, whose
//!   bandwidth binds: every download shares it.

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

/// `scenarios/plain.ron` with `clients` clients and a DP of `dp_bandwidth`
/// bps.
fn plain(clients: u32, dp_bandwidth: u64) -> patchsim::estate::Estate {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/plain.ron");
    let mut raw = scenario::load(&path).expect("plain.ron parses");
    raw.cohorts[0].count = clients;
    raw.servers.distribution_points[0].bandwidth.0 = dp_bandwidth;
    scenario::build(raw, "plain (scaled)").expect("valid")
}

fn runs(c: &mut Criterion) {
    let mut group = c.benchmark_group("estate");
    group.sample_size(10);
    let estates = [
        ("patch_tuesday_10k_7d", estate(1)),
        ("patch_tuesday_100k_7d", estate(10)),
        ("plain_10k", plain(10_000, 1_000_000_000_000)),
        ("plain_100k", plain(100_000, 1_000_000_000_000)),
        ("dp_bound_10k", plain(10_000, 100_000_000)),
    ];
    for (name, estate) in estates {
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
