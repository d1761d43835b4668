//! The cost of writing a run's outputs against the number of servers: an
//! estate of 2,000 always-on clients over a week sampled hourly, with N
//! distribution points (one cohort on the first; the others idle but each
//! with its load rows, its chart and its section of the report), for N
//! from 100 to 3,000. Criterion reports servers per second: writing that
//! grows with servers × samples keeps the rate flat; a search per server
//! over every server's rows makes it fall as N grows.
//!
//! - `run_files`: every file of a run, in memory (`output::run_files`);
//! - `load_csv`: `load.csv` alone.
//!
//! `cargo bench --features bench --bench outputs`; `-- load_csv` for one.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use patchsim::estate::Estate;
use patchsim::model::Outcome;
use patchsim::{model, output, scenario};

/// The estate with `dps` distribution points, and its run.
fn run(dps: usize) -> (Estate, Outcome) {
    let servers: Vec<String> = (0..dps)
        .map(|i| format!(r#"DistributionPoint(name: "dp{i}", bandwidth: "1Gbps")"#))
        .collect();
    let text = format!(
        r#"Scenario(
            name: "outputs", seed: 3, start: "2026-11-09T00:00:00Z", duration: "7d",
            servers: Servers(management_points: [ManagementPoint(name: "mp")],
                             update_points: [UpdatePoint(name: "sup")],
                             distribution_points: [{}]),
            cohorts: [Cohort(name: "c", count: 2000, power: AlwaysOn, management_point: "mp",
                             update_point: "sup", distribution_point: "dp0")],
            updates: [Update(id: "KB1", size: "100MB")],
            deployments: [Deployment(name: "d", updates: ["KB1"], targets: ["c"],
                                     created: "2026-11-09T02:00:00Z", deadline: "2026-11-10T02:00:00Z")],
        )"#,
        servers.join(", ")
    );
    let raw = scenario::parse(&text, "outputs.ron").expect("parses");
    let estate = scenario::build(raw, "outputs.ron").expect("valid");
    let outcome = model::run(&estate, Default::default()).expect("never stopped");
    (estate, outcome)
}

fn outputs(c: &mut Criterion) {
    let mut group = c.benchmark_group("outputs");
    group.sample_size(10);
    for dps in [100, 300, 1000, 3000] {
        let (estate, outcome) = run(dps);
        group.throughput(Throughput::Elements(outcome.servers.len() as u64));
        group.bench_with_input(BenchmarkId::new("run_files", dps), &dps, |b, _| {
            b.iter(|| output::run_files(&estate, &outcome))
        });
        group.bench_with_input(BenchmarkId::new("load_csv", dps), &dps, |b, _| {
            b.iter(|| output::load_csv(&estate, &outcome))
        });
    }
    group.finish();
}

criterion_group!(benches, outputs);
criterion_main!(benches);
