//! Finite servers under load and faults (the capacity law): what
//! a planner reads from `load.csv` and the server summary.

use crate::common;

use common::estate_of;
use patchsim::estate::Estate;
use patchsim::model::{self, Outcome, Request, ServerRole};

/// A scenario of `clients` always-on clients with the given servers and
/// extra top-level sections; one Required update released at 00:10, which
/// the scheduled sync at the start does not bring (pass a `sync` section
/// that does).
fn scenario(
    days: u32,
    top: &str,
    servers: &str,
    cohort_extra: &str,
    settings: &str,
    clients: u32,
) -> String {
    format!(
        r#"Scenario(
    name: "servers", seed: 3, start: "2026-11-09T00:00:00Z", duration: "{days}d", sample_interval: "15m",
    site: Site(content_ready_delay: Fixed("10m")),
    servers: Servers({servers}),
    {top}
    client_settings: ClientSettings({settings}),
    cohorts: [Cohort(name: "all", count: {clients}, management_point: "mp", update_point: "sup1",
                     distribution_point: "dp", {cohort_extra})],
    updates: [Update(id: "KB1", size: "50MB", release: "2026-11-09T00:10:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-09T02:00:00Z")],
)"#
    )
}

/// Law 8 on a run's outputs: never more in service than the capacity,
/// never more waiting than the queue limit.
fn assert_capacity(out: &Outcome) {
    // A WAN link limits bandwidth, not transfers: it has no capacity in
    // this sense (0), and its bandwidth is the sharing's to keep. A CMG's
    // clients may hold more connections than it supports: it still
    // serves them (docs/model.md, "Clients on the internet").
    let limited = |s: &&model::ServerRecord| {
        !matches!(
            s.role,
            ServerRole::WanLink | ServerRole::CloudManagementGateway
        )
    };
    for s in out.servers.iter().filter(limited) {
        assert!(
            s.peak_busy <= s.capacity,
            "{}: {} busy of {}",
            s.name,
            s.peak_busy,
            s.capacity
        );
        if let Some(limit) = s.queue_limit {
            assert!(
                s.peak_queue <= limit,
                "{}: queue {} over {limit}",
                s.name,
                s.peak_queue
            );
        }
    }
    for row in &out.load {
        let s = &out.servers[row.server];
        if limited(&s) {
            assert!(row.busy <= s.capacity, "{} at {}", s.name, row.time);
        }
        // The most of an interval is at least what its end shows.
        assert!(row.most_busy >= row.busy && row.most_queue >= row.queue);
    }
    // Each interval's most, over the run, is the run's peak (a CMG's
    // clients connect and disconnect; its peak is that of connections).
    for (i, s) in out.servers.iter().enumerate() {
        let rows = out.load.iter().filter(|r| r.server == i);
        let (busy, queue) = rows.fold((0, 0), |(b, q), r| {
            (r.most_busy.max(b), r.most_queue.max(q))
        });
        assert_eq!((busy, queue), (s.peak_busy, s.peak_queue), "{}", s.name);
    }
}

/// Every message queued is in the database, still pending, or lost with
/// a batch its cohort's `state_message_loss` lost, once: faults lose none.
fn assert_messages_conserved(out: &Outcome) {
    let t = &out.totals;
    assert_eq!(
        t.state_messages_queued,
        t.state_messages_in_database + t.state_messages_lost + out.messages_pending_at_end,
        "a state message went missing or was duplicated"
    );
}

const SERVERS: &str = r#"
    management_points: [ManagementPoint(name: "mp", workers: 4, queue_limit: 200)],
    update_points: [UpdatePoint(name: "sup1", scan_slots: 4, queue_limit: 20, full_scan_time: Fixed("2m")),
                    UpdatePoint(name: "sup2", scan_slots: 16, queue_limit: 2000, full_scan_time: Fixed("2m"))],
    distribution_points: [DistributionPoint(name: "dp")],"#;

/// An MP outage: requests fail and are retried; afterwards the backlog
/// drains; every state message reaches the database exactly once.
#[test]
fn mp_outage_loses_and_duplicates_nothing() {
    let text = scenario(
        3,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
           faults: [Fault(server: "mp", start: "2026-11-09T02:30:00Z", end: "2026-11-09T05:00:00Z")],"#,
        SERVERS,
        "",
        r#"scan_interval: "1d""#,
        800,
    );
    let out = model::run(&estate_of(&text), Default::default()).expect("never stopped");
    assert_messages_conserved(&out);
    assert_capacity(&out);
    let mp = out.servers.iter().find(|s| s.name == "mp").expect("mp");
    assert!(
        mp.total.rejected[Request::Batch as usize] > 100,
        "batches fail during the outage"
    );
    assert!(
        mp.total.rejected[Request::Policy as usize] > 100,
        "policy requests fail during the outage"
    );
    assert!(out.totals.mp_rejects > 200);
    let down: Vec<_> = out
        .load
        .iter()
        .filter(|r| out.servers[r.server].name == "mp" && r.down)
        .collect();
    assert_eq!(down.len(), 10, "down for 2.5 h of 15-minute samples");
    // After the outage the backlog drains: by the end nearly every message is in.
    assert!(out.messages_pending_at_end < 800 * 3);
    let dep = &out.deployments[0];
    assert!(
        dep.final_reported[0] >= 790,
        "reported installed after the outage: {:?}",
        dep.final_reported
    );
}

/// The scan storm of a SUP failover: a small WsusPool queue answers 503;
/// clients retry every 30 minutes and after 4 tries switch to the next SUP
/// and scan in full there.
#[test]
fn sup_503s_lead_to_failover_and_full_scans() {
    let text = scenario(
        2,
        r#"sync: Sync(initially_synced: false, first_scheduled: "2026-11-09T00:30:00Z", full_duration: Fixed("10m")),"#,
        SERVERS,
        r#"fallback_update_points: ["sup2"],"#,
        r#"first_scan_window: "10m""#,
        1000,
    );
    let out = model::run(&estate_of(&text), Default::default()).expect("never stopped");
    assert_capacity(&out);
    assert_messages_conserved(&out);
    let sup1 = out.servers.iter().find(|s| s.name == "sup1").expect("sup1");
    let sup2 = out.servers.iter().find(|s| s.name == "sup2").expect("sup2");
    assert_eq!(sup1.role, ServerRole::UpdatePoint);
    assert!(
        sup1.total.rejected[Request::FullScan as usize] > 500,
        "503s: {:?}",
        sup1.total.rejected
    );
    assert_eq!(sup1.peak_queue, 20, "the WsusPool queue fills to its limit");
    assert!(
        out.totals.sup_switches > 50,
        "switches: {}",
        out.totals.sup_switches
    );
    assert!(
        sup2.total.served[Request::FullScan as usize] >= out.totals.sup_switches - 5,
        "a switch means a full scan there"
    );
    let dep = &out.deployments[0];
    assert!(
        dep.final_truth[0] >= 990,
        "everyone gets there in the end: {:?}",
        dep.final_truth
    );
}

/// A slow DP stretches downloads; a DP outage fails them and they resume.
#[test]
fn dp_slowdown_and_outage() {
    let base = scenario(
        1,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),"#,
        SERVERS,
        r#"link: "1Gbps","#,
        "",
        400,
    );
    let faulted = scenario(
        1,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
           faults: [Fault(server: "dp", start: "2026-11-09T02:10:00Z", end: "2026-11-09T02:30:00Z", effect: Slow(4.0)),
                   Fault(server: "dp", start: "2026-11-09T02:30:00Z", end: "2026-11-09T03:00:00Z")],"#,
        SERVERS,
        r#"link: "1Gbps","#,
        "",
        400,
    );
    let a = model::run(&estate_of(&base), Default::default()).expect("never stopped");
    let b = model::run(&estate_of(&faulted), Default::default()).expect("never stopped");
    assert_capacity(&b);
    let dp = |o: &Outcome| {
        o.servers
            .iter()
            .find(|s| s.name == "dp")
            .expect("dp")
            .clone()
    };
    assert_eq!(
        dp(&a).bytes,
        dp(&b).bytes,
        "every byte is served once, fault or not"
    );
    assert!(b.totals.download_failures > 0);
    let (pa, pb) = (
        dp(&a).wait.value_at_quantile(0.95),
        dp(&b).wait.value_at_quantile(0.95),
    );
    assert!(
        pb >= pa,
        "the faults make clients wait longer: {pa} vs {pb}"
    );
}

/// A DP that goes down mid-download says so in the trace: one
/// `download_failed` (blaming the DP) a failure counted (no deployment
/// here falls back to Microsoft Update), with the bytes the client still
/// lacks, and the client asks for the content again
/// (a later `content_location_request` of the same deployment).
#[test]
fn a_failed_download_is_traced() {
    use patchsim::model::{DownloadFailure, TraceEvent};
    let faulted = scenario(
        1,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
           faults: [Fault(server: "dp", start: "2026-11-09T02:30:00Z", end: "2026-11-09T03:00:00Z")],"#,
        SERVERS,
        r#"link: "1Gbps","#,
        "",
        400,
    );
    let (out, records) = common::traced(&estate_of(&faulted));
    let failed: Vec<_> = (records.iter().enumerate())
        .filter_map(|(i, r)| match r.event {
            TraceEvent::DownloadFailed {
                deployment,
                by,
                bytes,
            } => {
                assert_eq!(by, DownloadFailure::DistributionPoint);
                Some((i, r.client, deployment, bytes))
            }
            _ => None,
        })
        .collect();
    assert!(!failed.is_empty());
    assert_eq!(failed.len() as u64, out.totals.download_failures);
    for &(i, client, deployment, bytes) in &failed {
        assert!(bytes > 0, "the client still lacks something");
        assert!(
            (records[i + 1..].iter()).any(|r| r.client == client
                && matches!(r.event, TraceEvent::ContentLocationRequest { deployment: d } if d == deployment)),
            "client {client:?} asks again"
        );
    }
}

/// Law 8 and message conservation in every shipped scenario.
#[test]
fn every_scenario_keeps_capacity_and_messages() {
    let mut files: Vec<_> = std::fs::read_dir("scenarios")
        .expect("scenarios/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "ron"))
        .collect();
    files.sort();
    for file in files {
        let mut raw = patchsim::scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        if raw.cohorts.iter().map(|c| u64::from(c.count)).sum::<u64>() > 20_000 {
            continue; // the scale scenario is covered by benchmarks
        }
        raw.duration = raw.duration.min("5d".parse().expect("a duration"));
        let estate = patchsim::scenario::build(raw, &file.display().to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        let out = model::run(&estate, Default::default()).expect("never stopped");
        assert_capacity(&out);
        assert_messages_conserved(&out);
    }
}

/// A service that takes no time (the plain estate's servers) holds its
/// worker only within the event that asked for it: when 60-odd clients
/// scan at the same millisecond (the deadline, their scan results
/// expired), a SUP with one scan slot and no queue serves them all one
/// after another, and so do an MP and a state system of one worker each.
#[test]
fn a_service_that_takes_no_time_holds_no_worker() {
    let raw = patchsim::scenario::load(std::path::Path::new("scenarios/plain.ron")).unwrap();
    let sets = [
        ("cohorts[0].count", "300"),
        ("servers.management_points[0].workers", "1"),
        ("servers.management_points[0].queue_limit", "0"),
        ("servers.update_points[0].scan_slots", "1"),
        ("servers.update_points[0].queue_limit", "0"),
        ("site.state_system_threads", "1"),
    ];
    let raw = patchsim::scenario::apply_sets(&raw, &sets).unwrap();
    let estate = patchsim::scenario::build(raw, "plain.ron").unwrap();
    let out = common::simulate(&estate);
    assert_eq!(out.totals.scan_rejects, 0);
    assert_eq!(out.totals.mp_rejects, 0);
    let deadline = estate.deployments[0].deadline;
    let sup = (out.servers.iter())
        .position(|s| s.role == ServerRole::UpdatePoint)
        .unwrap();
    let burst: u64 = (out.load.iter())
        .filter(|r| r.server == sup && r.time == deadline)
        .map(|r| r.counts.served[Request::DeltaScan as usize])
        .sum();
    assert!(burst >= 50, "{burst} scans in the hour up to the deadline");
    for s in out
        .servers
        .iter()
        .filter(|s| s.role != ServerRole::DistributionPoint)
    {
        assert_eq!(s.total.rejected.iter().sum::<u64>(), 0, "{}", s.name);
        assert_eq!(s.peak_busy, 1, "{}", s.name);
        assert_eq!(s.peak_queue, 0, "{}", s.name);
    }
}

/// A policy request the MP cannot answer is retried with the client's
/// backoff (1 min, doubling to 30 min), and the request stays out until
/// then: the hourly polls meanwhile are skipped, so one client down to
/// its MP for five hours keeps one retry chain, not one more every hour
/// (which reached four requests at once by the fifth hour).
#[test]
fn a_refused_policy_request_keeps_one_retry_chain() {
    let estate = mp_down();
    let out = model::run(&estate, Default::default()).expect("runs");
    let mp = (out.servers.iter())
        .find(|s| s.role == ServerRole::ManagementPoint)
        .expect("the MP");
    let refused = mp.total.rejected[Request::Policy as usize];
    // 1 + 2 + 4 + 8 + 16 minutes, then every 30 minutes to the end of the
    // five hours: about 13 refusals, whatever the client's phase.
    assert!((11..=14).contains(&refused), "{refused} refused");
    assert_eq!(out.totals.mp_rejects, refused);
    // The trace's requests are the MP's arrivals: the hourly polls during
    // a backoff ask nothing and are not traced as requests.
    let (traced, records) = common::traced(&estate);
    let mp = (traced.servers.iter())
        .find(|s| s.role == ServerRole::ManagementPoint)
        .expect("the MP");
    let requests = (records.iter())
        .filter(|r| r.event == patchsim::model::TraceEvent::PolicyRequest)
        .count() as u64;
    assert_eq!(requests, mp.total.arrived[Request::Policy as usize]);
}

/// Each refused policy request is in the trace, with its wait, and
/// `explain` tells the refusals and why in one stretch instead of calling
/// the polls of the outage "nothing new".
#[test]
fn explain_tells_refused_policy_requests_and_why() {
    let estate = mp_down();
    let verbose = patchsim::app::explain(&estate, 0, true).expect("explains");
    let refusals: Vec<&str> = (verbose.lines())
        .filter(|l| l.contains("turns the policy request down"))
        .collect();
    assert!((11..=14).contains(&refusals.len()), "{verbose}");
    assert!(refusals[0].contains("it asks again in 1m 00s"), "{verbose}");
    assert!(refusals[1].contains("it asks again in 2m 00s"), "{verbose}");
    let story = patchsim::app::explain(&estate, 0, false).expect("explains");
    assert!(
        story.contains("mp is down (a fault) until Mon 2026-11-09 06:00:00"),
        "{story}"
    );
    let stretch = (story.lines())
        .find(|l| l.contains("asks for policy again"))
        .unwrap_or_else(|| panic!("no stretch of refusals: {story}"));
    assert!(
        stretch.contains("its management point turns each down"),
        "{stretch}"
    );
    assert!(!stretch.contains("nothing new"), "{stretch}");
}

fn mp_down() -> Estate {
    common::Scenario::new("mpdown")
        .seed(3)
        .duration("12h")
        .no_site()
        .body(
            r#"faults: [Fault(server: "mp", start: "2026-11-09T01:00:00Z", end: "2026-11-09T06:00:00Z")],
    cohorts: [Cohort(name: "on", count: 1, management_point: "mp", update_point: "sup", distribution_point: "dp")],
    updates: [Update(id: "KB1", size: "100MB")],
    deployments: [],"#,
        )
        .estate()
}

/// A server whose requests end within milliseconds is rarely busy at a
/// sample: each interval's most in service shows its work (hierarchy.ron's
/// P01 state system handles thousands of batches, one at a time).
#[test]
fn the_most_of_each_interval_shows_short_services() {
    let raw =
        patchsim::scenario::load(std::path::Path::new("scenarios/hierarchy.ron")).expect("loads");
    let estate = patchsim::scenario::build(raw, "hierarchy.ron").unwrap_or_else(|e| panic!("{e}"));
    let out = model::run(&estate, Default::default()).expect("runs");
    let i = (out.servers.iter())
        .position(|s| s.name == "P01 state system")
        .expect("the state system");
    let rows: Vec<_> = out.load.iter().filter(|r| r.server == i).collect();
    let at_samples = rows.iter().filter(|r| r.busy > 0).count();
    let in_intervals = rows.iter().filter(|r| r.most_busy > 0).count();
    assert!(
        in_intervals > 10 * at_samples.max(1),
        "busy at {at_samples} samples, in {in_intervals} intervals"
    );
}

/// A SUP that is down: each client tries it, retries it `scan_retries`
/// (4) times 30 minutes apart, so for 2 hours, and two minutes after the
/// fourth retry fails switches to one of its cohort's other SUPs drawn at
/// random, so that the failover spreads over them (Microsoft's "Plan for
/// software updates": the client "randomly selects a software update
/// point from the list").
#[test]
fn a_failover_waits_two_hours_and_spreads_over_the_other_sups() {
    use patchsim::model::TraceEvent;
    let servers = r#"
    management_points: [ManagementPoint(name: "mp")],
    update_points: [UpdatePoint(name: "sup1"), UpdatePoint(name: "sup2"), UpdatePoint(name: "sup3")],
    distribution_points: [DistributionPoint(name: "dp")],"#;
    // sup1 syncs the catalog; the cohort scans against sup2, which is down.
    let text = scenario(
        1,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
    faults: [Fault(server: "sup2", start: "2026-11-09T00:00:00Z", end: "2026-11-09T12:00:00Z", effect: Down)],"#,
        servers,
        r#"fallback_update_points: ["sup1", "sup3"],"#,
        "",
        600,
    )
    .replace(r#"update_point: "sup1""#, r#"update_point: "sup2""#);
    let (out, trace) = common::traced(&estate_of(&text));
    let mut failures: std::collections::BTreeMap<u32, Vec<(u64, u64)>> = Default::default();
    let mut moved_to: std::collections::BTreeMap<u32, u16> = Default::default();
    for r in &trace {
        let Some(c) = r.client else { continue };
        match r.event {
            TraceEvent::ScanFailed {
                retry_ms: Some(retry),
                ..
            } => failures
                .entry(c.0)
                .or_default()
                .push((r.time.as_ms(), retry)),
            TraceEvent::ScanStart { sup: Some(s), .. } if s != 1 => {
                moved_to.entry(c.0).or_insert(s);
            }
            _ => {}
        }
    }
    assert_eq!(failures.len(), 600, "every client met the outage");
    for (c, list) in &failures {
        let retries: Vec<u64> = list.iter().map(|&(_, r)| r).collect();
        assert_eq!(
            retries,
            [1_800_000, 1_800_000, 1_800_000, 1_800_000, 120_000],
            "client {c}: four retries 30 minutes apart, then a switch 2 minutes on"
        );
        // Retries 30 minutes apart (a scan asked for meanwhile, by a new
        // deployment's policy, may come sooner than a retry).
        let at: Vec<u64> = list.iter().map(|&(t, _)| t).collect();
        assert!(
            at.windows(2)
                .all(|w| w[1] > w[0] && w[1] - w[0] <= 1_800_000),
            "client {c}: {at:?}"
        );
    }
    assert_eq!(out.totals.sup_switches, 600);
    assert_eq!(moved_to.len(), 600, "every client scanned at another SUP");
    let to_sup1 = moved_to.values().filter(|&&s| s == 0).count();
    common::within(to_sup1 as f64, 600.0, 0.5, "clients that moved to sup1");
    assert!(moved_to.values().all(|&s| s == 0 || s == 2));
}

/// A management point that is down: a client whose requests to it fail
/// five times in a row moves to one of its cohort's other MPs, drawn at
/// random (Microsoft: "When a client receives five errors in 10 minutes
/// and fails to communicate with a management point in its current
/// boundary group, it tries to contact a management point" elsewhere),
/// and gets its policy there. Without other MPs it waits out the outage.
#[test]
fn clients_move_to_another_management_point_when_theirs_is_down() {
    use patchsim::model::TraceEvent;
    let servers = r#"
    management_points: [ManagementPoint(name: "mp1"), ManagementPoint(name: "mp2"), ManagementPoint(name: "mp3")],
    update_points: [UpdatePoint(name: "sup1")],
    distribution_points: [DistributionPoint(name: "dp")],"#;
    // mp1 is down from 01:00 to 23:00; the deployment comes at 02:00.
    let text = |fallbacks: &str| {
        scenario(
            2,
            r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
    faults: [Fault(server: "mp1", start: "2026-11-09T01:00:00Z", end: "2026-11-09T23:00:00Z", effect: Down)],"#,
            servers,
            fallbacks,
            "",
            600,
        )
        .replace(r#"management_point: "mp""#, r#"management_point: "mp1""#)
    };
    let (out, trace) = common::traced(&estate_of(&text(
        r#"fallback_management_points: ["mp2", "mp3"],"#,
    )));
    let mut failed_before: std::collections::BTreeMap<u32, usize> = Default::default();
    let mut moved_to: std::collections::BTreeMap<u32, u16> = Default::default();
    for r in &trace {
        let Some(c) = r.client else { continue };
        match r.event {
            TraceEvent::PolicyFailed { .. } if !moved_to.contains_key(&c.0) => {
                *failed_before.entry(c.0).or_default() += 1;
            }
            TraceEvent::MpSwitch { mp } => {
                assert!(moved_to.insert(c.0, mp).is_none(), "one move each");
            }
            _ => {}
        }
    }
    assert_eq!(moved_to.len(), 600, "every client moved");
    assert_eq!(out.totals.mp_switches, 600);
    assert!(moved_to.values().all(|&mp| mp == 1 || mp == 2));
    let to_mp2 = moved_to.values().filter(|&&mp| mp == 1).count();
    common::within(to_mp2 as f64, 600.0, 0.5, "clients that moved to mp2");
    assert!(
        failed_before.values().all(|&n| n <= 5),
        "five failures at most (location requests count too)"
    );
    let served = |o: &patchsim::model::Outcome, name: &str| -> u64 {
        let s = o.servers.iter().find(|s| s.name == name).expect("listed");
        s.total.served.iter().sum()
    };
    assert!(served(&out, "mp2") > 600 && served(&out, "mp3") > 600);
    // With other MPs everyone is compliant long before mp1 is back;
    // without, nobody is.
    let before_back = patchsim::engine::SimTime(23 * 3_600_000);
    let installed_by = |o: &patchsim::model::Outcome| {
        (o.deployments[0].assignments.iter())
            .filter(|a| a.true_compliant_at < before_back)
            .count()
    };
    assert_eq!(installed_by(&out), 600);
    let alone = common::checked(&estate_of(&text("")));
    assert_eq!(alone.totals.mp_switches, 0);
    assert_eq!(installed_by(&alone), 0);
}

#[test]
fn fallback_management_point_errors_name_the_field() {
    let servers = r#"
    management_points: [ManagementPoint(name: "mp"), ManagementPoint(name: "mp2")],
    update_points: [UpdatePoint(name: "sup1")],
    distribution_points: [DistributionPoint(name: "dp")],"#;
    let text = |fallbacks: &str| scenario(1, "", servers, fallbacks, "", 10);
    for (fallbacks, want) in [
        (
            r#"fallback_management_points: ["mp3"],"#,
            "cohorts[0] (all).fallback_management_points[0]: unknown management point 'mp3'",
        ),
        (
            r#"fallback_management_points: ["mp2", "mp2"],"#,
            "cohorts[0] (all).fallback_management_points[1]: management point 'mp2' is listed twice; remove one",
        ),
        (
            r#"fallback_management_points: ["mp"],"#,
            "cohorts[0] (all).fallback_management_points[0]: management point 'mp' is listed twice; remove one",
        ),
    ] {
        let err = common::build_error(&text(fallbacks));
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}

/// Batches an MP was serving when it went down go back to their clients,
/// who send them again: every message sent reaches the database once.
#[test]
fn batches_with_a_failing_mp_go_back_to_their_clients() {
    use patchsim::model::TraceEvent;
    let servers = r#"
    management_points: [ManagementPoint(name: "mp", workers: 8, batch_time: Fixed("20s"))],
    update_points: [UpdatePoint(name: "sup1")],
    distribution_points: [DistributionPoint(name: "dp")],"#;
    // The MP goes down while the deployment's first messages are on
    // their way (created 02:00, polled within the hour).
    let text = scenario(
        2,
        r#"sync: Sync(manual: ["2026-11-09T00:20:00Z"]),
    faults: [Fault(server: "mp", start: "2026-11-09T02:30:00Z", end: "2026-11-09T03:00:00Z", effect: Down)],"#,
        servers,
        "",
        "",
        600,
    );
    let (out, trace) = common::traced(&estate_of(&text));
    let mut balance: std::collections::BTreeMap<u32, i64> = Default::default();
    let mut returned = 0;
    // Batches sent in the last hour may still be on their way at the end;
    // the MP is back long before, and every other batch arrives in minutes.
    let settled = patchsim::engine::SimTime::ZERO + patchsim::engine::SimDuration::from_hours(47);
    for r in trace.iter().filter(|r| r.time < settled) {
        let Some(c) = r.client else { continue };
        let entry = balance.entry(c.0).or_default();
        match r.event {
            TraceEvent::BatchSent { messages } => *entry += messages as i64,
            TraceEvent::BatchInDatabase { messages } => *entry -= messages as i64,
            TraceEvent::BatchReturned { messages } => {
                returned += 1;
                *entry -= messages as i64;
            }
            _ => {}
        }
    }
    assert!(returned > 0, "the MP was serving batches when it went down");
    assert!(out.totals.mp_rejects >= returned);
    let unbalanced: Vec<_> = balance.iter().filter(|&(_, &n)| n != 0).collect();
    assert!(
        unbalanced.is_empty(),
        "messages sent but neither in the database nor returned: {unbalanced:?}"
    );
}
