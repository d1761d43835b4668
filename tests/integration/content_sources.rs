//! Where clients get update content (docs/model.md, "Content sources"):
//! peer cache sources of their boundary group, BranchCache and Delivery
//! Optimization peers, Microsoft Update when the DP is down, and express
//! content. Each test checks the direction and size of the effect, the
//! conservation of bytes across sources (`bytes_downloaded` is the sum of
//! the `bytes_from_*`, and the DPs served `bytes_from_dp`), and runs with
//! every law checked. Tolerances are 4.5 standard deviations of the
//! binomial count of clients drawn into a share.

use crate::common;

use common::{Scenario, checked, estate_of, within};
use patchsim::estate::Estate;
use patchsim::model::{
    Compliance, ContentBytes, ContentSource, Outcome, Request, ServerRole, Totals, TraceEvent,
};

const MB: u64 = 1_000_000;

/// `n` clients of one cohort (its `extra` fields), one update of `size`
/// (its `update` fields) released on day 1 and synced at 09:00, a
/// Required deployment of it (its `deployment` fields), and `more` at the
/// top level (faults).
fn scenario(n: u32, extra: &str, update: &str, deployment: &str, more: &str) -> Estate {
    common::small(
        "content",
        27,
        "8d",
        &format!(
            r#"sync: Sync(manual: ["2026-11-10T09:00:00Z"]),
    {more}
    cohorts: [Cohort(name: "all", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra})],
    updates: [Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z", {update})],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["all"], created: "2026-11-10T10:00:00Z", {deployment})],"#
        ),
    )
}

fn dp_served(out: &Outcome) -> u64 {
    (out.servers.iter())
        .filter(|s| s.role == ServerRole::DistributionPoint)
        .map(|s| s.bytes)
        .sum()
}

/// Bytes are conserved: every byte downloaded came from one source, and
/// the DPs served the DP's share, to the byte (more, by what they sent for
/// downloads under way at the end). The totals are the sums of the
/// cohorts' tallies and each tally adds its sources up by construction,
/// so the first checks guard that bookkeeping; the DPs' own count of
/// what they served is the independent ledger, and the tests that know
/// how much each client needed check `bytes_downloaded` against it.
fn conserved(t: &Totals, out: &Outcome) {
    assert_eq!(
        t.bytes_downloaded,
        t.bytes_from_dp
            + t.bytes_from_peer_cache
            + t.bytes_from_branch_cache
            + t.bytes_from_delivery_optimization
            + t.bytes_from_microsoft_update,
        "bytes downloaded = the sum over sources: {t:?}"
    );
    assert_eq!(
        t.dp_bytes_saved,
        t.bytes_downloaded - t.bytes_from_dp + t.bytes_saved_by_express
    );
    // Per cohort, the same bytes.
    let sum = |f: fn(&ContentBytes) -> u64| out.cohort_bytes.iter().map(f).sum::<u64>();
    assert_eq!(sum(|k| k.bytes_downloaded), t.bytes_downloaded);
    assert_eq!(sum(|k| k.bytes_from_dp), t.bytes_from_dp);
    assert_eq!(sum(|k| k.bytes_from_peer_cache), t.bytes_from_peer_cache);
    assert_eq!(
        sum(|k| k.bytes_from_branch_cache),
        t.bytes_from_branch_cache
    );
    assert_eq!(
        sum(|k| k.bytes_from_delivery_optimization),
        t.bytes_from_delivery_optimization
    );
    assert_eq!(
        sum(|k| k.bytes_from_microsoft_update),
        t.bytes_from_microsoft_update
    );
    assert_eq!(sum(|k| k.bytes_saved_by_express), t.bytes_saved_by_express);
    common::assert_dp_bytes_conserved(out);
}

fn all_installed(out: &Outcome, n: u32) {
    assert_eq!(
        out.deployments[0].final_truth[Compliance::Installed as usize],
        n,
        "every client installs"
    );
}

/// By default every byte comes from the DP.
#[test]
fn by_default_every_byte_comes_from_the_dp() {
    let out = checked(&scenario(500, "", "", "", ""));
    let t = &out.totals;
    assert_eq!(t.bytes_downloaded, 500 * 100 * MB);
    assert_eq!(t.bytes_from_dp, t.bytes_downloaded);
    assert_eq!(t.dp_bytes_saved, 0);
    assert_eq!(t.bytes_saved_by_express, 0);
    assert_eq!(t.peer_fallbacks + t.microsoft_update_fallbacks, 0);
    conserved(t, &out);
}

/// Downloads that a switch-off cancels keep the whole bytes they received
/// and ask for the rest again, the byte cut off halfway included: the DP
/// counts as served only the bytes its clients kept, so once no download
/// is under way its bytes served are the bytes from DPs, to the byte, for
/// its own downloads and for those across a WAN link alike. (It used to
/// count the bits of each cut-off byte twice: 54 bytes too many here,
/// after 111 cancelled downloads.)
#[test]
fn cancelled_downloads_leave_the_dp_bytes_equal_to_the_bytes_from_dps() {
    let (n, branch) = (200, 60);
    // 200 × 700 MB over the DP's 100 Mbps take 3.1 hours, and 60 over the
    // branch's 30 Mbps link as long: the downloads that start at 14:30 are
    // under way when the desktops switch off from 16:00 on, and the
    // bandwidth split among them sends parts of bytes.
    let estate = Scenario::new("cancelled-downloads")
        .seed(3)
        .duration("5d")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dp(r#"bandwidth: "100Mbps""#)
        .body(&format!(
            r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "30Mbps", latency: "30ms"))],
    cohorts: [
        Cohort(name: "desktops", count: {n}, power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),
               management_point: "mp", update_point: "sup", distribution_point: "dp"),
        Cohort(name: "branch", count: {branch}, location: "branch", power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),
               management_point: "mp", update_point: "sup", distribution_point: "dp"),
    ],
    updates: [Update(id: "KB1", size: "700MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["desktops", "branch"],
                             created: "2026-11-10T14:00:00Z", deadline: "2026-11-12T12:00:00Z")],"#
        ))
        .estate();
    let out = checked(&estate);
    all_installed(&out, n + branch);
    let dp = (out.servers.iter())
        .find(|s| s.role == ServerRole::DistributionPoint)
        .expect("the DP");
    let download = Request::Download as usize;
    assert_eq!(out.dp_downloads_at_end, 0, "nothing under way at the end");
    let cancelled =
        dp.total.arrived[download] - dp.total.served[download] - dp.total.rejected[download];
    assert!(cancelled >= 50, "{cancelled} downloads cancelled");
    let link = (out.servers.iter())
        .find(|s| s.role == ServerRole::WanLink)
        .expect("the branch's link");
    assert!(
        link.total.arrived[download] > u64::from(branch),
        "downloads across the link cancelled too"
    );
    let t = &out.totals;
    assert_eq!(t.bytes_from_dp, u64::from(n + branch) * 700 * MB);
    assert_eq!(dp.bytes, t.bytes_from_dp, "the DP served what clients kept");
    conserved(t, &out);
}

/// With half the clients on peer cache, those take the content from each
/// other once the first of them has it: the DP serves about half the
/// bytes it serves without.
#[test]
fn peer_cache_at_half_halves_dp_bytes() {
    let n = 4000u32;
    let base = checked(&scenario(n, "", "", "", ""));
    let out = checked(&scenario(
        n,
        r#"content_sources: ContentSources(peer_cache: 0.5, peer_link: "1Gbps"),"#,
        "",
        "",
        "",
    ));
    all_installed(&base, n);
    all_installed(&out, n);
    let t = &out.totals;
    conserved(t, &out);
    assert_eq!(t.bytes_downloaded, base.totals.bytes_downloaded);
    // Each client downloads 100 MB once: the peer transfers are the peer
    // cache clients but the few that found no source holding it yet.
    let from_peers = (t.bytes_from_peer_cache / (100 * MB)) as f64;
    assert_eq!(t.bytes_from_peer_cache % (100 * MB), 0);
    within(
        from_peers + 20.0,
        f64::from(n),
        0.5,
        "downloads from peers (+20)",
    );
    assert!(from_peers > 0.0);
    let ratio = dp_served(&out) as f64 / dp_served(&base) as f64;
    let sd = (0.25 / f64::from(n)).sqrt();
    assert!(
        (ratio - 0.5).abs() <= 4.5 * sd + 0.005,
        "DP bytes with peer cache at 50 %: {ratio} of those without"
    );
    assert_eq!(t.dp_bytes_saved, t.bytes_from_peer_cache);
}

/// BranchCache and Delivery Optimization peers serve their shares of each
/// download from the DP once a client of the cohort holds the content.
#[test]
fn branch_cache_and_delivery_optimization_serve_their_shares() {
    let n = 1000u32;
    let out = checked(&scenario(
        n,
        "content_sources: ContentSources(branch_cache: 0.2, delivery_optimization: 0.3),",
        "",
        "",
        "",
    ));
    all_installed(&out, n);
    let t = &out.totals;
    conserved(t, &out);
    let total = t.bytes_downloaded as f64;
    let bc = t.bytes_from_branch_cache as f64 / total;
    let dop = t.bytes_from_delivery_optimization as f64 / total;
    // Only the downloads that start before any client holds the content
    // take it all from the DP.
    assert!((0.19..=0.2).contains(&bc), "BranchCache share {bc}");
    assert!(
        (0.285..=0.3).contains(&dop),
        "Delivery Optimization share {dop}"
    );
    let dp = t.bytes_from_dp as f64 / total;
    assert!((0.5..=0.525).contains(&dp), "DP share {dp}");
}

/// Express clients download the express size; the rest the full size.
#[test]
fn express_clients_download_the_express_size() {
    let n = 3000u32;
    let out = checked(&scenario(
        n,
        "content_sources: ContentSources(express: 0.3),",
        r#"express_size: "20MB","#,
        "",
        "",
    ));
    all_installed(&out, n);
    let t = &out.totals;
    conserved(t, &out);
    let full = u64::from(n) * 100 * MB;
    let saved = full - t.bytes_downloaded;
    assert_eq!(saved % (80 * MB), 0, "each express client saves 80 MB");
    let express = (saved / (80 * MB)) as f64;
    within(express, f64::from(n), 0.3, "express clients");
    assert_eq!(t.bytes_saved_by_express, saved);
    assert_eq!(t.dp_bytes_saved, saved);
    assert_eq!(t.bytes_from_dp, t.bytes_downloaded);
    // An update without express content: everyone downloads it in full.
    let none = checked(&scenario(
        n,
        "content_sources: ContentSources(express: 0.3),",
        "",
        "",
        "",
    ));
    assert_eq!(none.totals.bytes_downloaded, full);
    assert_eq!(none.totals.bytes_saved_by_express, 0);
}

/// Peers switch off mid-transfer: their clients go on from the next
/// source (another peer or the DP), every byte counted once, and everyone
/// ends up with the content.
#[test]
fn clients_fall_back_when_their_peer_goes_away() {
    let n = 600u32;
    let out = checked(&scenario(
        n,
        r#"power: Intermittent(on: Exponential(mean: "3h"), off: Exponential(mean: "1h")),
           content_sources: ContentSources(peer_cache: 0.8, peer_link: "2Mbps"),"#,
        "",
        "",
        "",
    ));
    let t = &out.totals;
    assert!(t.peer_fallbacks > 0, "peers went away mid-transfer: {t:?}");
    assert!(t.bytes_from_peer_cache > 0 && t.bytes_from_dp > 0);
    assert_eq!(
        t.bytes_downloaded,
        t.bytes_from_dp + t.bytes_from_peer_cache,
        "only the DP and peers serve"
    );
    // Clients that have the content downloaded 100 MB each, in pieces.
    let installed = out.deployments[0].final_truth[Compliance::Installed as usize];
    assert!(installed > n * 9 / 10, "{installed} of {n} installed");
}

/// When the DP is down, a deployment that allows it sends its clients to
/// Microsoft Update; one that does not leaves them to retry the DP.
#[test]
fn a_dp_down_sends_clients_to_microsoft_update_if_allowed() {
    let n = 800u32;
    // Down from before the content is ready until the afternoon.
    let fault = r#"faults: [Fault(server: "dp", start: "2026-11-10T10:15:00Z", end: "2026-11-10T14:00:00Z")],"#;
    let on = checked(&scenario(
        n,
        "",
        "",
        "microsoft_update_fallback: true,",
        fault,
    ));
    let off = checked(&scenario(n, "", "", "", fault));
    all_installed(&on, n);
    all_installed(&off, n);
    let t = &on.totals;
    conserved(t, &on);
    assert_eq!(t.microsoft_update_fallbacks, u64::from(n));
    assert_eq!(t.bytes_from_microsoft_update, u64::from(n) * 100 * MB);
    assert_eq!(t.download_failures, 0);
    assert_eq!(t.bytes_from_dp, 0);
    let u = &off.totals;
    assert_eq!(u.bytes_from_microsoft_update, 0);
    assert!(u.download_failures >= u64::from(n));
    assert_eq!(u.bytes_from_dp, u.bytes_downloaded);
}

/// Every source at once, with power going on and off and a DP fault:
/// still conserved, still lawful, and the same bytes for the same seed.
#[test]
fn every_source_at_once_is_conserved_and_deterministic() {
    let estate = scenario(
        1500,
        r#"power: BusinessHours(start: "08:00", end: "17:00", jitter: "1h"),
           content_sources: ContentSources(peer_cache: 0.4, peer_link: "5Mbps", branch_cache: 0.1, delivery_optimization: 0.2, express: 0.5),"#,
        r#"express_size: "30MB","#,
        "microsoft_update_fallback: true,",
        r#"faults: [Fault(server: "dp", start: "2026-11-10T11:00:00Z", end: "2026-11-10T12:00:00Z")],"#,
    );
    let a = checked(&estate);
    let b = checked(&estate);
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.cohort_bytes, b.cohort_bytes);
    let t = &a.totals;
    for (what, v) in [
        ("dp", t.bytes_from_dp),
        ("peer cache", t.bytes_from_peer_cache),
        ("BranchCache", t.bytes_from_branch_cache),
        ("Delivery Optimization", t.bytes_from_delivery_optimization),
        ("Microsoft Update", t.bytes_from_microsoft_update),
        ("express", t.bytes_saved_by_express),
    ] {
        assert!(v > 0, "{what} served nothing: {t:?}");
    }
    assert_eq!(
        t.bytes_downloaded,
        t.bytes_from_dp
            + t.bytes_from_peer_cache
            + t.bytes_from_branch_cache
            + t.bytes_from_delivery_optimization
            + t.bytes_from_microsoft_update
    );
}

/// Out-of-range content settings are rejected with the field and its range.
#[test]
fn content_settings_are_checked() {
    let build = |extra: &str, update: &str| {
        let text = Scenario::new("bad").no_site().body(&format!(
            r#"cohorts: [Cohort(name: "all", count: 10, management_point: "mp", update_point: "sup", distribution_point: "dp", {extra})],
    updates: [Update(id: "KB1", size: "100MB", {update})],
    deployments: [],"#
        ))
        .text();
        match patchsim::scenario::parse(&text, "bad.ron") {
            Err(e) => e.to_string(),
            Ok(raw) => match patchsim::scenario::build(raw, "bad.ron") {
                Err(e) => e.to_string(),
                Ok(_) => String::new(),
            },
        }
    };
    for (extra, update, expect) in [
        (
            "content_sources: ContentSources(peer_cache: 1.5),",
            "",
            "cohorts[0] (all).content_sources.peer_cache: must be between 0 and 1, got 1.5",
        ),
        (
            "content_sources: ContentSources(express: 50),",
            "",
            "cohorts[0] (all).content_sources.express: must be between 0 and 1",
        ),
        (
            "content_sources: ContentSources(branch_cache: 0.6, delivery_optimization: 0.6),",
            "",
            "cohorts[0] (all).content_sources.delivery_optimization: branch_cache and delivery_optimization",
        ),
        (
            r#"content_sources: ContentSources(peer_link: "10bps"),"#,
            "",
            "cohorts[0] (all).content_sources.peer_link: must be at least 1kbps",
        ),
        (
            "",
            r#"express_size: "200MB","#,
            "updates[0] (KB1).express_size: must be between 1B and the update's size (100MB)",
        ),
        (
            r#"content_sources: ContentSources(cache_size: "10KB"),"#,
            "",
            "cohorts[0] (all).content_sources.cache_size: must be at least 1MB, got 10KB",
        ),
        (
            "content_sources: ContentSources(peer_cash: 0.5),",
            "",
            "unknown field `peer_cash`",
        ),
    ] {
        let message = build(extra, update);
        assert!(
            message.contains(expect),
            "{extra}{update}: expected {expect:?} in:\n{message}"
        );
    }
    assert_eq!(
        build(
            r#"content_sources: ContentSources(peer_cache: 0.5, branch_cache: 0.5, delivery_optimization: 0.5, express: 1, peer_link: "1kbps"),"#,
            r#"express_size: "100MB","#
        ),
        ""
    );
    // A link too slow is the link's problem only: `peer_link`, left out,
    // takes its value, but the user did not write it.
    assert_eq!(
        build(
            r#"link: "1bps", content_sources: ContentSources(peer_cache: 0.5),"#,
            ""
        ),
        "bad.ron: 1 problem\n  cohorts[0] (all).link: must be at least 1kbps, got 1bps"
    );
}

/// `scenarios/peer-cache.ron` shows each source against a branch that
/// has only its DP: peer cache at 50 % about halves the branch DP's bytes,
/// express and Delivery Optimization cut theirs further, and the DP
/// outage sends the third branch to Microsoft Update.
#[test]
fn the_peer_cache_scenario_shows_each_source() {
    let text = std::fs::read_to_string("scenarios/peer-cache.ron").expect("shipped");
    let estate = estate_of(&text);
    let out = checked(&estate);
    let t = &out.totals;
    conserved(t, &out);
    let dp = |name: &str| {
        (out.servers.iter())
            .find(|s| s.name == name)
            .map(|s| s.bytes)
            .expect("a DP of the scenario")
    };
    let (only, peers, express) = (
        dp("dp-branch-dp"),
        dp("dp-branch-peers"),
        dp("dp-branch-express"),
    );
    // Both branches draw their own 3,000 clients' applicability; half of
    // one branch's clients (binomial) take it from peers.
    let ratio = peers as f64 / only as f64;
    let sd = (0.25f64 / 3000.0).sqrt();
    assert!(
        (ratio - 0.5).abs() <= 4.5 * sd + 0.02,
        "the peer cache branch's DP served {ratio} of the DP-only branch's"
    );
    assert!(express < peers / 5, "express, DO and MU: {express}");
    let k = &out.cohort_bytes;
    assert_eq!(k[0].bytes_from_dp, k[0].bytes_downloaded);
    assert!(k[1].bytes_from_peer_cache > 0 && k[1].bytes_from_microsoft_update == 0);
    assert!(k[2].bytes_from_microsoft_update > 0 && k[2].bytes_saved_by_express > 0);
    assert!(k[2].bytes_from_delivery_optimization > 0);
}

/// A client cache too small for two months' content: the first month's
/// leaves when the second comes (it is more than a day old), and the
/// client downloads it again at its deadline. A big enough cache keeps it.
#[test]
fn a_small_cache_makes_clients_download_again() {
    let n = 300u32;
    let estate = |cache: &str| {
        common::small(
            "cache",
            5,
            "8d",
            &format!(
                r#"cohorts: [Cohort(name: "all", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "dp",
        content_sources: ContentSources(cache_size: "{cache}"))],
    updates: [
        Update(id: "KB1", size: "100MB", install_time: Fixed("10m")),
        Update(id: "KB2", size: "100MB", install_time: Fixed("10m")),
    ],
    deployments: [
        Deployment(name: "first", updates: ["KB1"], targets: ["all"], created: "2026-11-09T10:00:00Z", deadline: "2026-11-14T10:00:00Z"),
        Deployment(name: "second", updates: ["KB2"], targets: ["all"], created: "2026-11-11T10:00:00Z", deadline: "2026-11-11T12:00:00Z"),
    ],"#
            ),
        )
    };
    let small = checked(&estate("150MB"));
    let big = checked(&estate("1GB"));
    for out in [&small, &big] {
        for d in &out.deployments {
            assert_eq!(d.final_truth[Compliance::Installed as usize], n);
        }
        conserved(&out.totals, out);
    }
    assert_eq!(big.totals.cache_evictions, 0);
    assert_eq!(big.totals.bytes_downloaded, 2 * u64::from(n) * 100 * MB);
    // The first month's content leaves when the second comes; downloaded
    // again at its deadline, it pushes out the second's (installed by
    // then, so nothing downloads it again).
    assert_eq!(small.totals.cache_evictions, 2 * u64::from(n));
    assert_eq!(small.totals.bytes_downloaded, 3 * u64::from(n) * 100 * MB);
}

/// A peer cache source holds content, not deployments: clients that
/// downloaded and installed an Available deployment of `KB1` serve it to
/// the rest of their cohort when a Required deployment of the same update
/// comes two days later. Every download for the second deployment comes
/// from a peer, and the DP serves it nothing (where each deployment's
/// content was its own, the first of its downloads had no source but the
/// DP).
#[test]
fn peers_serve_the_same_updates_to_a_later_deployment() {
    let estate = common::small(
        "content",
        27,
        "6d",
        r#"sync: Sync(manual: ["2026-11-10T09:00:00Z"]),
    cohorts: [Cohort(name: "all", count: 40, power: AlwaysOn, management_point: "mp", update_point: "sup", distribution_point: "dp",
                     available_install_share: 0.5, available_install_delay: Fixed("1h"),
                     content_sources: ContentSources(peer_cache: 1.0))],
    updates: [Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [
        Deployment(name: "available", updates: ["KB1"], targets: ["all"], purpose: Available, created: "2026-11-10T10:00:00Z"),
        Deployment(name: "required", updates: ["KB1"], targets: ["all"], created: "2026-11-12T10:00:00Z"),
    ],"#,
    );
    let (out, records) = common::traced(&estate);
    let second =
        |pick: fn(&TraceEvent) -> bool| (records.iter()).filter(|r| pick(&r.event)).count();
    let from_dp =
        second(|e| matches!(e, TraceEvent::DownloadStart { deployment, .. } if deployment.0 == 1));
    let from_peers = second(
        |e| matches!(e, TraceEvent::ContentSource { deployment, source: ContentSource::PeerCache, .. } if deployment.0 == 1),
    );
    assert_eq!(
        from_dp, 0,
        "no download of the second deployment from the DP"
    );
    assert!(from_peers > 0, "the others download it from peers");
    let t = &out.totals;
    assert_eq!(t.bytes_from_peer_cache % (100 * MB), 0);
    conserved(t, &out);
    all_installed(&out, 40);
}
