//! The cost of an event against how much is going on at once: whole runs
//! of estates built so that about N downloads run together, N scans wait
//! at a SUP, or N batches wait at a state system, for N from 10^2 to 10^5.
//! Criterion reports each run's events per second: a structure whose cost
//! grows with what is queued or running shows as a rate that falls with N.
//!
//! - `downloads_linked`: N clients download a 1 GB update over 1 Mbps links
//!   (2.2 hours each) from a DP far faster than their links put together;
//! - `downloads_shared`: the same from a DP of 0.9 Mbps a client, whose
//!   bandwidth binds once nine in ten clients download at once, at every N;
//! - `downloads_mixed`: half the clients on 200 kbps links, half on 1 Mbps,
//!   from a DP of 0.5 Mbps a client: the slow links are served in full and
//!   the fast ones share the rest (0.8 Mbps each), so the DP keeps its
//!   flows by link;
//! - `downloads_queued`: the same from a DP with one connection, so that
//!   N downloads wait for it, while the clients switch off and on (on for
//!   20–40 minutes, off for 5): each switch takes a download out of the
//!   middle of the queue, and puts it back at the end;
//! - `scans_queued`: N evaluation scans at a SUP with one scan slot busy for
//!   hours;
//! - `batches_queued`: N clients' batches at a state system with one thread
//!   taking a minute a batch.
//!
//! A group `deployments` measures the same against how many deployments
//! each client has: 1,000 clients, each targeted by D deployments of one
//! update each (D from 1 to 64), all created at the start, over two days;
//! `deployments_at_rest` the same where all but one deployment come to
//! rest at their first evaluation (their updates apply to no client), as
//! last months' deployments do.
//!
//! `cargo bench --features bench --bench concurrency`; `-- downloads` for one shape.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use patchsim::estate::Estate;
use patchsim::{model, scenario};

/// What the estate makes its clients pile up.
#[derive(Clone, Copy)]
enum Shape {
    DownloadsLinked,
    DownloadsShared,
    DownloadsMixed,
    DownloadsQueued,
    ScansQueued,
    BatchesQueued,
}

impl Shape {
    fn name(self) -> &'static str {
        match self {
            Shape::DownloadsLinked => "downloads_linked",
            Shape::DownloadsShared => "downloads_shared",
            Shape::DownloadsMixed => "downloads_mixed",
            Shape::DownloadsQueued => "downloads_queued",
            Shape::ScansQueued => "scans_queued",
            Shape::BatchesQueued => "batches_queued",
        }
    }
}

/// An estate of `n` always-on clients that learn a deployment within the
/// first hour and pile up as `shape` says.
fn estate(shape: Shape, n: u32) -> Estate {
    let dp_bandwidth = match shape {
        Shape::DownloadsShared => format!("{}kbps", 900 * u64::from(n)),
        Shape::DownloadsMixed => format!("{}kbps", 500 * u64::from(n)),
        _ => "1000Gbps".to_string(),
    };
    let (scan_slots, scan_time) = match shape {
        Shape::ScansQueued => (1, "10h"),
        _ => (10_000, "0s"),
    };
    let (connections, power) = match shape {
        Shape::DownloadsQueued => (
            1,
            r#"Intermittent(on: Uniform(min: "20m", max: "40m"), off: Fixed("5m"))"#,
        ),
        _ => (100_000, "AlwaysOn"),
    };
    let (threads, per_batch) = match shape {
        Shape::BatchesQueued => (1, "1m"),
        _ => (64, "0s"),
    };
    let cohort = |name: &str, count: u32, link: &str| {
        format!(
            r#"Cohort(name: "{name}", count: {count}, power: {power}, link: "{link}",
                      management_point: "mp", update_point: "sup", distribution_point: "dp"),"#
        )
    };
    let (cohorts, targets) = match shape {
        Shape::DownloadsMixed => (
            cohort("slow", n / 2, "200kbps") + &cohort("fast", n - n / 2, "1Mbps"),
            r#""slow", "fast""#,
        ),
        _ => (cohort("all", n, "1Mbps"), r#""all""#),
    };
    let text = format!(
        r#"Scenario(
            name: "concurrency", start: "2026-11-09T00:00:00Z", duration: "4h",
            site: Site(content_ready_delay: Fixed("0s"), mp_forward_delay: "0s", state_system_delay: "0s",
                       state_system_threads: {threads}, state_system_per_batch: "{per_batch}",
                       state_system_per_message: "0s"),
            servers: Servers(
                management_points: [ManagementPoint(name: "mp", workers: 10000, policy_time: Fixed("0s"),
                                                    location_time: Fixed("0s"), batch_time: Fixed("0s"))],
                update_points: [UpdatePoint(name: "sup", scan_slots: {scan_slots}, queue_limit: 10000000,
                                            full_scan_time: Fixed("{scan_time}"), delta_scan_time: Fixed("{scan_time}"))],
                distribution_points: [DistributionPoint(name: "dp", bandwidth: "{dp_bandwidth}", max_connections: {connections})],
            ),
            client_settings: ClientSettings(evaluation_delay: Fixed("0s"), scan_duration: Fixed("1s")),
            cohorts: [{cohorts}],
            updates: [Update(id: "KB1", size: "1GB", install_time: Fixed("10m"))],
            deployments: [Deployment(name: "d", updates: ["KB1"], targets: [{targets}],
                                     created: "2026-11-09T00:00:00Z", deadline: "2026-11-10T00:00:00Z")],
        )"#
    );
    let raw = scenario::parse(&text, "concurrency.ron").expect("parses");
    scenario::build(raw, "concurrency.ron").expect("valid")
}

fn runs(c: &mut Criterion) {
    for shape in [
        Shape::DownloadsLinked,
        Shape::DownloadsShared,
        Shape::DownloadsMixed,
        Shape::DownloadsQueued,
        Shape::ScansQueued,
        Shape::BatchesQueued,
    ] {
        let sizes = [100u32, 1_000, 10_000, 100_000];
        whole_runs(c, shape.name(), sizes.map(|n| (n, estate(shape, n))));
    }
}

/// One group of whole runs, each measured in events per second.
fn whole_runs<P: std::fmt::Display>(
    c: &mut Criterion,
    name: &str,
    estates: impl IntoIterator<Item = (P, Estate)>,
) {
    let mut group = c.benchmark_group(name);
    group.sample_size(10);
    for (parameter, estate) in estates {
        let events = model::run(&estate, Default::default())
            .expect("never stopped")
            .events;
        group.throughput(Throughput::Elements(events));
        group.bench_with_input(
            BenchmarkId::from_parameter(parameter),
            &estate,
            |b, estate| b.iter(|| model::run(estate, Default::default()).expect("never stopped")),
        );
    }
    group.finish();
}

/// 1,000 always-on clients, each targeted by `deployments` deployments of
/// one 10 MB update each, with the same deadline a day after creation.
/// With `at_rest`, the updates of all but the last apply to no client (as
/// last months' updates, installed long ago): those deployments come to
/// rest at their first evaluation.
fn many_deployments(deployments: usize, at_rest: bool) -> Estate {
    let updates: String = (0..deployments)
        .map(|u| {
            let applicability = if at_rest && u + 1 < deployments { 0.0 } else { 1.0 };
            format!(
                r#"Update(id: "KB{u}", size: "10MB", install_time: Fixed("1m"), applicability: {applicability:?}),"#
            )
        })
        .collect();
    let list: String = (0..deployments)
        .map(|d| {
            format!(
                r#"Deployment(name: "d{d}", updates: ["KB{d}"], targets: ["all"],
                              created: "2026-11-09T00:00:00Z", deadline: "2026-11-10T00:00:00Z"),"#
            )
        })
        .collect();
    let text = format!(
        r#"Scenario(
            name: "deployments", start: "2026-11-09T00:00:00Z", duration: "2d",
            site: Site(content_ready_delay: Fixed("0s"), mp_forward_delay: "0s", state_system_delay: "0s",
                       state_system_per_batch: "0s", state_system_per_message: "0s"),
            servers: Servers(
                management_points: [ManagementPoint(name: "mp", workers: 10000, policy_time: Fixed("0s"),
                                                    location_time: Fixed("0s"), batch_time: Fixed("0s"))],
                update_points: [UpdatePoint(name: "sup", scan_slots: 10000,
                                            full_scan_time: Fixed("0s"), delta_scan_time: Fixed("0s"))],
                distribution_points: [DistributionPoint(name: "dp", bandwidth: "1000Gbps", max_connections: 100000)],
            ),
            cohorts: [Cohort(name: "all", count: 1000, power: AlwaysOn, link: "1Mbps",
                             management_point: "mp", update_point: "sup", distribution_point: "dp")],
            updates: [{updates}],
            deployments: [{list}],
        )"#
    );
    let raw = scenario::parse(&text, "deployments.ron").expect("parses");
    scenario::build(raw, "deployments.ron").expect("valid")
}

fn deployments(c: &mut Criterion) {
    let counts = [1usize, 4, 16, 64];
    whole_runs(
        c,
        "deployments",
        counts.map(|d| (d, many_deployments(d, false))),
    );
    let at_rest = counts.map(|d| (d, many_deployments(d, true)));
    whole_runs(c, "deployments_at_rest", at_rest);
}

criterion_group!(benches, runs, deployments);
criterion_main!(benches);
