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
//! - `wan_hub_200`: 200 branches without a DP, 100 always-on clients each,
//!   download a 650 MB update from one 1 Gbps hub DP across their 10 Mbps
//!   WAN links, 5 days: the DP and the links are shared together, with up
//!   to 200 download groups at once.

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

/// 200 branches without a DP, each behind its own 10 Mbps link, whose
/// clients (on 100, 50 or 20 Mbps links) download from one hub DP.
fn wan_hub(branches: usize) -> patchsim::estate::Estate {
    let name = |i: usize| format!("b{i:03}");
    let locations: Vec<String> = (0..branches)
        .map(|i| {
            format!(
                r#"Location(name: "{}", wan_link: WanLink(bandwidth: "10Mbps", latency: "30ms"))"#,
                name(i)
            )
        })
        .collect();
    let cohorts: Vec<String> = (0..branches)
        .map(|i| {
            format!(
                r#"Cohort(name: "{0}", count: 100, power: AlwaysOn, link: "{1}Mbps",
                    management_point: "mp01", update_point: "sup01",
                    distribution_point: "dp-hub", location: "{0}")"#,
                name(i),
                [100, 50, 20][i % 3]
            )
        })
        .collect();
    let targets: Vec<String> = (0..branches).map(|i| format!("{:?}", name(i))).collect();
    let text = format!(
        r#"Scenario(
            name: "wan-hub", seed: 5,
            start: "2026-11-09T00:00:00+01:00", duration: "5d", sample_interval: "1h",
            sync: Sync(manual: ["2026-11-10T19:30:00+01:00"]),
            servers: Servers(
                management_points: [ManagementPoint(name: "mp01")],
                update_points: [UpdatePoint(name: "sup01")],
                distribution_points: [DistributionPoint(name: "dp-hub", bandwidth: "1Gbps", max_connections: 5000)],
            ),
            locations: [{}],
            cohorts: [{}],
            updates: [Update(id: "KB1", title: "cu", size: "650MB", release: "2026-11-10T19:00:00+01:00")],
            deployments: [Deployment(name: "d", updates: ["KB1"], targets: [{}],
                created: "2026-11-11T09:00:00+01:00", deadline: "2026-11-12T19:00:00+01:00")],
        )"#,
        locations.join(", "),
        cohorts.join(", "),
        targets.join(", ")
    );
    let raw = scenario::parse(&text, "wan-hub").expect("the hub estate parses");
    scenario::build(raw, "wan-hub").expect("valid")
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
        ("wan_hub_200", wan_hub(200)),
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
