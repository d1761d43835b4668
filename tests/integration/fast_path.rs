//! The fast path gives exactly the outputs of the explicit model, which
//! simulates every client's every reporting tick and every policy poll as
//! an event of its own. The fast path skips the ticks that could send
//! nothing and the polls of clients that are off, and ends policy answers
//! that bring nothing new without an event (`World::settle`).

use crate::common;

use patchsim::estate::Estate;
use patchsim::model::{self, RunOptions};
use patchsim::output;

/// Every output file but the event count, which is what the fast path saves.
fn outputs(estate: &Estate, explicit: bool) -> (u64, Vec<(String, String)>) {
    let outcome = model::run(
        estate,
        RunOptions {
            explicit,
            ..Default::default()
        },
    )
    .expect("never stopped");
    let events = outcome.events;
    let files = output::run_files(estate, &outcome)
        .into_iter()
        .map(|(name, text)| {
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| {
                    !l.contains("\"events\"") && !l.contains(" events") && !l.contains(">events<")
                })
                .collect();
            (name, kept.join("\n"))
        })
        .collect();
    (events, files)
}

/// The test scenario with a management point that queues, rejects, slows
/// down and goes down, and polls every 15 minutes: silent policy answers
/// meet every situation that turns them back into events (a queue forming,
/// a publication while answers are in service) or settles them (an outage,
/// a slowdown, samples, power changes).
fn busy_management_point(seed: u64) -> String {
    common::ron(&common::Knobs {
        seed,
        poll: "15m",
        ..Default::default()
    })
    .replace(
        r#"management_points: [ManagementPoint(name: "mp")],"#,
        r#"management_points: [ManagementPoint(name: "mp", workers: 2, queue_limit: 40,
                                               policy_time: LogNormal(median: "1500ms", sigma: 1.0))],"#,
    )
    .replace(
        "    cohorts: [",
        r#"    faults: [
        Fault(server: "mp", start: "2026-11-10T14:20:00+01:00", end: "2026-11-10T15:05:00+01:00"),
        Fault(server: "mp", start: "2026-11-11T07:50:00+01:00", end: "2026-11-11T09:30:00+01:00", effect: Slow(3.0)),
    ],
    cohorts: ["#,
    )
}

/// A shipped scenario cut down to `days` and its cohorts to at most
/// `clients` each, so that the explicit model runs it quickly.
fn shipped(file: &str, days: u32, clients: u32) -> Estate {
    shipped_with(file, days, clients, &[])
}

/// [`shipped`] with `sets` applied first, as `--set` does.
fn shipped_with(file: &str, days: u32, clients: u32, sets: &[(&str, &str)]) -> Estate {
    let raw = patchsim::scenario::load(std::path::Path::new(file)).expect("a scenario");
    let mut raw = patchsim::scenario::apply_sets(&raw, sets).expect("valid sets");
    raw.duration = format!("{days}d").parse().expect("a duration");
    for cohort in &mut raw.cohorts {
        cohort.count = cohort.count.min(clients);
    }
    patchsim::scenario::build(raw, file).expect("valid")
}

/// The test scenario with one management point worker and slow answers:
/// a queue forms at most polls and requests are rejected.
fn saturated_management_point(seed: u64) -> String {
    common::ron(&common::Knobs {
        seed,
        days: 4,
        ..Default::default()
    })
    .replace(
        r#"management_points: [ManagementPoint(name: "mp")],"#,
        r#"management_points: [ManagementPoint(name: "mp", workers: 1, queue_limit: 25,
                                               policy_time: LogNormal(median: "4s", sigma: 0.8))],"#,
    )
}

/// The test scenario with laptops that come and go at random.
fn intermittent_laptops(seed: u64) -> String {
    common::ron(&common::Knobs {
        seed,
        days: 5,
        ..Default::default()
    })
    .replace(
        r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),"#,
        r#"power: Intermittent(on: Exponential(mean: "3h"), off: Exponential(mean: "5h")),"#,
    )
}

/// The test scenario with a management point that answers at once: the
/// polls of clients that have everything are counted, not simulated
/// (quiet), from a client's first such poll until the site publishes, the
/// client switches off or the run ends.
fn instant_management_point(k: &common::Knobs) -> String {
    common::ron(k).replace(
        r#"management_points: [ManagementPoint(name: "mp")],"#,
        r#"management_points: [ManagementPoint(name: "mp", policy_time: Fixed("0s"),
                                               location_time: Fixed("0s"), batch_time: Fixed("0s"))],"#,
    )
}

/// `--set`s that make the management point `mp` (by index) answer at once.
fn instant(mp: usize) -> Vec<(String, String)> {
    ["policy_time", "location_time", "batch_time"]
        .iter()
        .map(|field| {
            (
                format!("servers.management_points[{mp}].{field}"),
                r#"Fixed("0s")"#.to_string(),
            )
        })
        .collect()
}

/// The fast path and the explicit model give the same outputs (all but the
/// count of events) on every shape of estate the fast path has a shortcut
/// for: idle servers, a management point that queues, saturates, slows
/// down and goes down, SUP and DP outages, business hours and intermittent
/// laptops, lost state messages and resyncs, a hierarchy, servers far
/// bigger than the load.
#[test]
fn fast_and_explicit_paths_agree() {
    let mut cases: Vec<(String, Estate)> = [
        common::ron(&common::Knobs::default()),
        common::ron(&common::Knobs {
            seed: 99,
            randomize_deadline: true,
            ..Default::default()
        }),
        busy_management_point(5),
        busy_management_point(6),
        // Lost batches: the site's resync requests turn silent answers
        // back into events.
        busy_management_point(9).replace(
            r#"distribution_point: "dp")"#,
            r#"distribution_point: "dp", state_message_loss: 0.2)"#,
        ),
        // Clients that move to another MP during the outage: their poll
        // chains name the MP they started with.
        busy_management_point(14)
            .replace(
                r#"policy_time: LogNormal(median: "1500ms", sigma: 1.0))],"#,
                r#"policy_time: LogNormal(median: "1500ms", sigma: 1.0)),
                                   ManagementPoint(name: "mp2", workers: 2, queue_limit: 40)],"#,
            )
            .replace(
                r#"distribution_point: "dp")"#,
                r#"distribution_point: "dp", fallback_management_points: ["mp2"])"#,
            ),
        saturated_management_point(7),
        intermittent_laptops(8),
        // Quiet polls: desktops that switch off and on, a sync and a
        // deployment published while clients are quiet.
        instant_management_point(&common::Knobs::default()),
        // Resyncs asked of quiet clients.
        instant_management_point(&common::Knobs {
            seed: 12,
            ..Default::default()
        })
        .replace(
            r#"distribution_point: "dp")"#,
            r#"distribution_point: "dp", state_message_loss: 0.2)"#,
        ),
        // Four polls to a row, and intermittent laptops.
        instant_management_point(&common::Knobs {
            seed: 13,
            poll: "30m",
            sample: "2h",
            randomize_deadline: true,
            ..Default::default()
        })
        .replace(
            r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),"#,
            r#"power: Intermittent(on: Exponential(mean: "3h"), off: Exponential(mean: "5h")),"#,
        ),
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| (format!("test scenario {i}"), common::estate_of(text)))
    .collect();
    for (file, days, clients) in [
        ("scenarios/sup-outage.ron", 4, 300),
        ("scenarios/hierarchy.ron", 4, 150),
        ("scenarios/plain.ron", 3, 2_000),
        ("scenarios/scan-storm.ron", 3, 200),
        // Phases enter policy when they begin, in the middle of the run.
        ("scenarios/rings.ron", 14, 200),
        // Peers that switch off and restart, and downloads from peers and
        // Microsoft Update, which end at their own events.
        ("scenarios/peer-cache.ron", 4, 300),
        // Co-managed clients: scans without enforcement, answers that stay
        // empty.
        ("scenarios/co-managed.ron", 4, 300),
    ] {
        cases.push((file.to_string(), shipped(file, days, clients)));
    }
    // A WsusPool that recycles in the failover's storm: scans fail and a
    // station pauses while policy answers end silently at the MP.
    cases.push((
        "catalog-bloat.ron, a recycling WsusPool".to_string(),
        shipped_with(
            "scenarios/catalog-bloat.ron",
            4,
            600,
            &[(
                "servers.update_points[1].wsus_pool",
                r#"WsusPool(private_memory_limit: "1500MB", cache: "400MB", full_scan: "20MB", restart: "1m")"#,
            )],
        ),
    ));
    // Branch clients' scan answers across their WAN links, with the
    // downloads and copies that share them.
    cases.push((
        "branch-offices.ron, scan answers across the links".to_string(),
        shipped_with(
            "scenarios/branch-offices.ron",
            4,
            200,
            &[("servers.update_points[0].delta_scan_size", r#""5MB""#)],
        ),
    ));
    // A phased deployment suspended while the pilot installs and resumed:
    // its policy is published again twice while answers end silently.
    cases.push((
        "rings.ron, suspended and resumed".to_string(),
        shipped_with(
            "scenarios/rings.ron",
            14,
            200,
            &[(
                "deployments[0].suspensions",
                r#"[Suspension(at: "2026-11-12T12:00:00+01:00", resume: "2026-11-14T12:00:00+01:00")]"#,
            )],
        ),
    ));
    // Quiet polls while phases begin, are suspended and resumed, and in a
    // hierarchy of three primaries.
    let mut rings = instant(0);
    rings.push((
        "deployments[0].suspensions".to_string(),
        r#"[Suspension(at: "2026-11-12T12:00:00+01:00", resume: "2026-11-14T12:00:00+01:00")]"#
            .to_string(),
    ));
    let hierarchy: Vec<_> = (0..3).flat_map(instant).collect();
    for (file, days, sets) in [
        ("scenarios/rings.ron", 14, rings),
        ("scenarios/hierarchy.ron", 4, hierarchy),
    ] {
        let sets: Vec<(&str, &str)> = sets.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        cases.push((
            format!("{file}, MPs that answer at once"),
            shipped_with(file, days, 200, &sets),
        ));
    }
    for (name, estate) in &cases {
        assert_paths_agree(name, estate);
    }
}

/// The fast path gives every output of the explicit model, with fewer
/// events.
fn assert_paths_agree(name: &str, estate: &Estate) {
    let (fast_events, fast) = outputs(estate, false);
    let (explicit_events, explicit) = outputs(estate, true);
    assert!(
        fast_events < explicit_events,
        "{name}: the fast path saves events: {fast_events} vs {explicit_events}"
    );
    assert_eq!(fast.len(), explicit.len());
    for ((file, a), (_, b)) in fast.iter().zip(&explicit) {
        if a != b {
            for (x, y) in a.lines().zip(b.lines()).filter(|(x, y)| x != y).take(3) {
                eprintln!("fast:     {x}\nexplicit: {y}");
            }
        }
        assert!(
            a == b,
            "{name}: {file} differs between the fast and the explicit path"
        );
    }
}

/// The plain estate with `n` updates and as many deployments, each of
/// two neighbouring updates (so that an update's change reaches two
/// deployments), every third one Available, their deadlines a day apart,
/// and batches lost now and then (resyncs).
fn many_deployments(n: usize) -> String {
    let plain = std::fs::read_to_string("scenarios/plain.ron").expect("plain.ron");
    let head = &plain[..plain.find("    updates: [").expect("an update list")];
    let mut text = head
        .replace(r#"duration: "3d""#, r#"duration: "6d""#)
        .replace("count: 100000", "count: 300")
        .replace(
            r#"distribution_point: "dp","#,
            r#"distribution_point: "dp", state_message_loss: 0.1,"#,
        );
    text.push_str("    updates: [\n");
    for u in 0..n {
        text.push_str(&format!(
            r#"        Update(id: "KB{u}", title: "update {u}", size: "2MB", install_time: Fixed("2m"), restart_probability: 0.5),
"#
        ));
    }
    text.push_str("    ],\n    deployments: [\n");
    for d in 0..n {
        let purpose = if d % 3 == 2 {
            "purpose: Available".to_string()
        } else {
            format!(r#"deadline: "2026-11-{}T02:00:00Z""#, 11 + d % 4)
        };
        text.push_str(&format!(
            r#"        Deployment(name: "d{d}", updates: ["KB{d}", "KB{}"], targets: ["clients"],
            created: "2026-11-10T02:00:00Z", {purpose}),
"#,
            (d + 1) % n,
        ));
    }
    text.push_str("    ],\n)\n");
    text
}

/// A refresh recomputes only the deployments whose assignment or updates
/// changed; the explicit model recomputes every one. They agree on
/// estates where clients have many deployments: rules, supersedence, an
/// enterprise of Required and Available deployments, and sixteen
/// overlapping deployments.
#[test]
fn refreshes_of_what_changed_agree_with_refreshing_everything() {
    for (file, days) in [
        ("scenarios/adr.ron", 10),
        ("scenarios/supersedence.ron", 8),
        ("scenarios/enterprise.ron", 8),
    ] {
        assert_paths_agree(file, &shipped(file, days, 150));
    }
    let text = many_deployments(16);
    assert_paths_agree("sixteen deployments", &common::estate_of(&text));
}

/// On the plain estate (servers that answer at once), a client's hourly
/// polls cost no event while it has everything its site published: about
/// 18 events a client over three days instead of over 90.
#[test]
fn quiet_polls_cost_no_events() {
    let estate = shipped("scenarios/plain.ron", 3, 2_000);
    let (fast, _) = outputs(&estate, false);
    let (explicit, _) = outputs(&estate, true);
    let per_client = |events: u64| events as f64 / 2_000.0;
    assert!(
        per_client(fast) <= 20.0,
        "{} events a client",
        per_client(fast)
    );
    assert!(
        per_client(explicit) >= 72.0,
        "every hourly poll simulated: {} events a client",
        per_client(explicit)
    );
}
