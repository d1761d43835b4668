//! Clients on the internet (docs/model.md, "Clients on the internet"):
//! a cohort that names a cloud management gateway holds one connection to
//! it per client online, and every management point and software update
//! point request of its clients passes through it. The CMG's capacity is
//! its instances times each one's connections. Its clients download
//! software updates from Microsoft Update, never from a distribution
//! point. Every run keeps the laws (`run_checked`).

use crate::common;

use common::{FAST_DP, Scenario, build_error, estate_of};
use patchsim::model::{Outcome, ServerRole};
use patchsim::scenario::VmSize;

/// `internet` always-on clients through the CMG (`vms` Standard
/// instances), and `office` on the intranet (none: no such cohort) with
/// `power`.
fn text(internet: u32, office: u32, power: &str, vms: u32) -> String {
    let office = if office == 0 {
        String::new()
    } else {
        format!(
            r#"Cohort(name: "office", count: {office}, management_point: "mp", update_point: "sup",
                   distribution_point: "dp"),"#
        )
    };
    Scenario::new("internet")
        .seed(3)
        .duration("3d")
        .no_site()
        .sync(r#"manual: ["2026-11-09T06:00:00Z"]"#)
        .dp(FAST_DP)
        .servers(&format!(
            r#"cloud_management_gateways: [CloudManagementGateway(name: "cmg", vm_instances: {vms})],"#
        ))
        .body(&format!(
            r#"cohorts: [
        {office}
        Cohort(name: "remote", count: {internet}, power: {power}, management_point: "mp",
               update_point: "sup", cloud_management_gateway: "cmg"),
    ],
    updates: [
        Update(id: "KB-NOV", size: "100MB", install_time: Fixed("10m"), release: "2026-11-09T05:00:00Z"),
    ],
    deployments: [
        Deployment(name: "nov", updates: ["KB-NOV"], targets: ["remote"],
                   created: "2026-11-09T08:00:00Z", deadline: "2026-11-10T02:00:00Z"),
    ],"#
        ))
        .text()
}

fn run(text: &str) -> Outcome {
    patchsim::app::run_checked(&estate_of(text)).unwrap_or_else(|v| panic!("{v}"))
}

fn server(o: &Outcome, role: ServerRole) -> usize {
    (o.servers.iter())
        .position(|s| s.role == role)
        .expect("listed")
}

#[test]
fn every_online_internet_client_holds_a_connection() {
    let o = run(&text(500, 300, "AlwaysOn", 1));
    let g = server(&o, ServerRole::CloudManagementGateway);
    let cmg = &o.servers[g];
    assert_eq!(cmg.name, "cmg");
    assert_eq!(cmg.capacity, VmSize::Standard.connections());
    assert_eq!(cmg.peak_busy, 500, "the remote clients, not the office");
    let rows: Vec<_> = o.load.iter().filter(|r| r.server == g).collect();
    assert_eq!(rows.len(), 3 * 24 + 1, "one row per sample");
    assert!(
        rows.iter().all(|r| r.busy == 500),
        "always on: always connected"
    );
}

#[test]
fn the_internet_clients_requests_pass_through_the_gateway() {
    // Only internet clients: every MP and SUP request is one of theirs.
    let o = run(&text(400, 0, "AlwaysOn", 1));
    let cmg = &o.servers[server(&o, ServerRole::CloudManagementGateway)];
    let mp = &o.servers[server(&o, ServerRole::ManagementPoint)];
    let sup = &o.servers[server(&o, ServerRole::UpdatePoint)];
    for k in 0..cmg.total.arrived.len() {
        assert_eq!(
            cmg.total.arrived[k],
            mp.total.arrived[k] + sup.total.arrived[k],
            "request kind {k}"
        );
    }
    assert!(
        cmg.total.arrived.iter().sum::<u64>() > 400 * 24,
        "hourly polls at least"
    );
    // It delays none of them: each waited 0 s there.
    assert_eq!(cmg.wait.len(), cmg.total.served.iter().sum::<u64>());
    assert_eq!(cmg.wait.value_at_quantile(1.0), 0);
    // With office clients too, the CMG carries only the remote ones'.
    let mixed = run(&text(400, 400, "AlwaysOn", 1));
    let cmg_mixed = &mixed.servers[server(&mixed, ServerRole::CloudManagementGateway)];
    let mp_mixed = &mixed.servers[server(&mixed, ServerRole::ManagementPoint)];
    let (through, all) = (
        cmg_mixed.total.arrived[0] as f64,
        mp_mixed.total.arrived[0] as f64,
    );
    // Policy requests: half the clients, half the polls (within a few
    // requests per client: the one-off requests differ).
    assert!(
        (through / all - 0.5).abs() < 0.02,
        "{through} of {all} policy requests through the CMG"
    );
}

#[test]
fn connections_follow_power_and_can_exceed_the_capacity() {
    // 50 laptops in business hours through one Lab instance (10
    // connections): over its capacity by day, no connection at night.
    let power = r#"BusinessHours(start: "08:00", end: "17:00", jitter: "30m")"#;
    let o =
        run(&text(50, 0, power, 1)
            .replace(r#"vm_instances: 1)"#, r#"vm_instances: 1, vm_size: Lab)"#));
    let g = server(&o, ServerRole::CloudManagementGateway);
    assert_eq!(o.servers[g].capacity, 10);
    assert_eq!(o.servers[g].peak_busy, 50, "all on at midday");
    let at = |hour: u64| {
        (o.load.iter())
            .find(|r| r.server == g && r.time.as_ms() == hour * 3_600_000)
            .map(|r| r.busy)
            .expect("sampled hourly")
    };
    assert_eq!(at(3), 0, "night");
    assert_eq!(at(12), 50, "midday");
    assert_eq!(at(24 + 3), 0, "the next night");
    let summary = patchsim::output::summary(&estate_of(&text(50, 0, power, 1)), &o);
    let cmg = (summary.servers.iter())
        .find(|s| s.name == "cmg")
        .expect("in the summary");
    assert!(cmg.hours_busy > 0.0, "busy ≥ 80 % during the day");
}

#[test]
fn internet_clients_download_software_updates_from_microsoft_update() {
    // 300 internet clients and 200 office clients, both targeted: every
    // byte the internet clients receive comes from Microsoft Update, and
    // the DP serves exactly the office clients' bytes.
    let both = text(300, 200, "AlwaysOn", 1)
        .replace(r#"targets: ["remote"]"#, r#"targets: ["office", "remote"]"#);
    let o = run(&both);
    let remote = o.cohort_bytes[1];
    let office = o.cohort_bytes[0];
    assert!(
        remote.bytes_downloaded > 0,
        "the internet clients downloaded"
    );
    assert_eq!(remote.bytes_from_microsoft_update, remote.bytes_downloaded);
    assert_eq!(remote.bytes_from_dp, 0);
    assert_eq!(office.bytes_from_microsoft_update, 0);
    assert_eq!(office.bytes_from_dp, office.bytes_downloaded);
    let dp = server(&o, ServerRole::DistributionPoint);
    assert_eq!(o.servers[dp].bytes, office.bytes_from_dp);
    assert_eq!(
        o.totals.microsoft_update_fallbacks, 0,
        "Microsoft Update is where they download, not a fallback"
    );
}

#[test]
fn gateway_errors_name_the_field() {
    let base = text(10, 0, "AlwaysOn", 1);
    let cases = [
        (
            text(10, 0, "AlwaysOn", 0),
            "servers.cloud_management_gateways[0] (cmg).vm_instances: must be between 1 and 16",
        ),
        (
            text(10, 0, "AlwaysOn", 17),
            "servers.cloud_management_gateways[0] (cmg).vm_instances: must be between 1 and 16",
        ),
        (
            base.replace(
                r#"cloud_management_gateway: "cmg""#,
                r#"cloud_management_gateway: "cgm""#,
            ),
            "cohorts[0] (remote).cloud_management_gateway: unknown cloud management gateway 'cgm'",
        ),
        (
            base.replace(
                r#"CloudManagementGateway(name: "cmg""#,
                r#"CloudManagementGateway(name: "mp""#,
            )
            .replace(
                r#"cloud_management_gateway: "cmg""#,
                r#"cloud_management_gateway: "mp""#,
            ),
            "servers.cloud_management_gateways[0] (mp).name: name 'mp' is used by two roles",
        ),
        (
            base.replace("vm_instances: 1)", "vm_instances: 1, vm_size: Huge)"),
            "Huge",
        ),
        (
            base.replace(
                r#"cloud_management_gateway: "cmg""#,
                r#"cloud_management_gateway: "cmg", distribution_point: "dp""#,
            ),
            "cohorts[0] (remote).distribution_point: a cohort behind a cloud management gateway downloads software updates from Microsoft Update",
        ),
        (
            base.replace(r#", cloud_management_gateway: "cmg""#, ""),
            "cohorts[0] (remote).distribution_point: needed on the intranet",
        ),
        (
            base.replace("vm_instances: 1)", "vm_instances: 1, connections: 5)"),
            "unknown field",
        ),
    ];
    for (scenario, want) in cases {
        let err = build_error(&scenario);
        assert!(err.contains(want), "want {want:?} in:\n{err}");
    }
}
