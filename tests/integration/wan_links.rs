//! Branch locations joined to the site by WAN links (docs/model.md,
//! "Locations and WAN links"): downloads from a DP across a link and
//! copies of content to a branch DP share the link's bandwidth and wait
//! out its latency. Each test checks the direction and the size of the
//! effect against the arithmetic of the link (bytes × 8 ÷ bandwidth), the
//! conservation of bytes (every byte a client got from a DP is one the DP
//! served, and every byte that crossed a link is one a branch client got
//! or a copy carried), and runs with every law checked.

use crate::common;

use common::{Scenario, estate_of, traced};
use patchsim::engine::SimTime;
use patchsim::estate::Estate;
use patchsim::model::{DownloadFailure, Outcome, ScanFailure, ServerRole, TraceEvent, TraceRecord};

const MB: u64 = 1_000_000;
/// The deployment's creation, 10:00 on day 1, in ms.
const CREATED_MS: u64 = 34 * 3_600_000;

/// A site cohort of 100 always-on clients on DP `hub`, and a cohort of
/// `n` always-on clients in location `branch`, whose WAN link is `link`
/// with `latency`; they use the branch's own DP `branch-dp` if
/// `branch_dp`, else `hub` across the link. One update of 100 MB, a
/// Required deployment of it created at 10:00 on day 1. `more` goes at the
/// top level (faults).
fn scenario(n: u32, link: &str, latency: &str, branch_dp: bool, more: &str) -> Estate {
    estate_of(&text(n, link, latency, branch_dp, more))
}

/// The text of [`scenario`].
fn text(n: u32, link: &str, latency: &str, branch_dp: bool, more: &str) -> String {
    let (dps, dp) = if branch_dp {
        (
            r#"DistributionPoint(name: "branch-dp", location: "branch"),"#,
            "branch-dp",
        )
    } else {
        ("", "hub")
    };
    Scenario::new("wan")
        .seed(27)
        .duration("6d")
        .sample_interval("15m")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dps(&format!(r#"DistributionPoint(name: "hub"), {dps}"#))
        .body(&format!(
            r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "{link}", latency: "{latency}"))],
    {more}
    cohorts: [
        Cohort(name: "site", count: 100, management_point: "mp", update_point: "sup", distribution_point: "hub"),
        Cohort(name: "branch", count: {n}, management_point: "mp", update_point: "sup", distribution_point: "{dp}", location: "branch"),
    ],
    updates: [Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["site", "branch"], created: "2026-11-10T10:00:00Z")],"#
        ))
        .text()
}

/// The server record of the branch's link.
fn link(out: &Outcome) -> &patchsim::model::ServerRecord {
    (out.servers.iter())
        .find(|s| s.role == ServerRole::WanLink)
        .expect("the branch's link")
}

/// Bytes are conserved: what clients got from DPs is what the DPs served,
/// to the byte (more, by what they sent for downloads under way at the
/// end), and each cohort's bytes add up to the totals.
fn conserved(out: &Outcome) {
    let t = &out.totals;
    common::assert_dp_bytes_conserved(out);
    assert_eq!(t.bytes_downloaded, t.bytes_from_dp);
    let cohorts: u64 = out.cohort_bytes.iter().map(|k| k.bytes_downloaded).sum();
    assert_eq!(cohorts, t.bytes_downloaded);
}

/// The time of the first record of the branch's clients that `pick`s.
fn times(records: &[TraceRecord], first_branch: u32, pick: fn(&TraceEvent) -> bool) -> Vec<u64> {
    (records.iter())
        .filter(|r| r.client.is_some_and(|c| c.0 >= first_branch) && pick(&r.event))
        .map(|r| r.time.as_ms())
        .collect()
}

/// A location without a DP downloads from the site's DP across its link:
/// every byte of its clients crosses the link and none of the site's
/// clients', the site's DP serves both, and the link's bandwidth sets the
/// pace: 200 × 100 MB over 20 Mbps takes at least 8,000 s from the first
/// request to the last byte, and at most that plus the hour over which the
/// clients' policy polls spread the requests.
#[test]
fn a_branch_without_a_dp_downloads_across_its_link() {
    let n = 200u64;
    let (out, records) = traced(&scenario(n as u32, "20Mbps", "0s", false, ""));
    let branch = &out.cohort_bytes[1];
    assert_eq!(branch.bytes_downloaded, n * 100 * MB, "every branch client");
    assert_eq!(
        link(&out).bytes,
        branch.bytes_downloaded,
        "all across the link"
    );
    let hub = &out.servers[2];
    assert_eq!(hub.name, "hub");
    assert_eq!(hub.bytes, out.totals.bytes_from_dp, "the hub served both");
    conserved(&out);
    let starts = times(&records, 100, |e| {
        matches!(e, TraceEvent::AcrossWanLink { .. })
    });
    let done = times(&records, 100, |e| {
        matches!(e, TraceEvent::DownloadDone { .. })
    });
    assert_eq!((starts.len(), done.len()), (n as usize, n as usize));
    let span = done.iter().max().expect("done") - starts.iter().min().expect("started");
    let floor = n * 100 * MB * 8 * 1_000 / 20_000_000;
    assert!(
        (floor..=floor + 3_600_000 + 600_000).contains(&span),
        "{span} ms from the first request to the last byte, the link needs {floor}"
    );
    // The site's clients never cross it.
    assert!(
        times(&records, 0, |e| matches!(
            e,
            TraceEvent::AcrossWanLink { .. }
        ))
        .len()
            == n as usize
    );
    // Never more than the link's bandwidth in an interval.
    let server = out
        .servers
        .iter()
        .position(|s| s.role == ServerRole::WanLink);
    for row in out.load.iter().filter(|r| Some(r.server) == server) {
        assert!(row.bytes * 8 <= 20_000_000 * 900, "{row:?}");
    }
}

/// A slower link holds the branch back: at 20 Mbps the branch is 95 %
/// compliant about two hours later than at 1 Gbps (where each client's
/// own 100 Mbps link binds and the link carries the same bytes).
#[test]
fn a_slow_link_delays_the_branch() {
    let p95 = |link: &str| {
        let estate = scenario(200, link, "0s", false, "");
        let out = patchsim::app::run_checked(&estate).unwrap_or_else(|v| panic!("{v}"));
        let s = patchsim::output::summary(&estate, &out);
        assert_eq!(s.locations.len(), 2, "the site and the branch");
        let content = s.locations[1].deployments[0].hours_to_content_on_dps;
        assert_eq!(content, None, "no DP of its own");
        let site = s.locations[0].deployments[0].hours_to_pct_true.pct_95;
        let branch = s.locations[1].deployments[0].hours_to_pct_true.pct_95;
        (site.expect("site at 95 %"), branch.expect("branch at 95 %"))
    };
    let (site_fast, fast) = p95("1Gbps");
    let (site_slow, slow) = p95("20Mbps");
    // The site's clients barely notice the branch's link (they share the
    // management point's queue with the branch's clients, whose requests
    // come at other times).
    assert!(
        (site_fast - site_slow).abs() < 0.05,
        "{site_fast} vs {site_slow}"
    );
    // 95 % of the 8,000 s the link needs, less the spread of the requests.
    let lag = slow - fast;
    assert!(
        (1.1..=2.3).contains(&lag),
        "the slow link delays 95 % by {lag:.2} h (fast {fast:.2} h, slow {slow:.2} h)"
    );
}

/// Content copied to a branch DP crosses the link: it is there the link's
/// latency plus size × 8 ÷ bandwidth after the site server has it, to the
/// millisecond. Clients that ask before are told it is on none of their
/// DPs and ask again; none downloads before it is there; the link carries
/// the one copy and none of the clients' downloads.
#[test]
fn content_reaches_a_branch_dp_across_the_link() {
    let estate = scenario(200, "2Mbps", "40ms", true, "");
    let (out, records) = traced(&estate);
    let copied: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    // Created, 30 min, 100 MB at the site's 200 Mbps, then the latency and
    // 100 MB at 2 Mbps.
    let at_site = CREATED_MS + 1_800_000 + 4_000;
    assert_eq!(copied, vec![at_site + 40 + 400_000]);
    let ready: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentReady { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    assert_eq!(ready, vec![at_site + 800], "the hub's copy, at 1 Gbps");
    let starts = times(&records, 100, |e| {
        matches!(e, TraceEvent::DownloadStart { .. })
    });
    assert!(
        starts.iter().all(|&t| t >= copied[0]),
        "no download before the copy"
    );
    let early = times(&records, 100, |e| {
        matches!(e, TraceEvent::ContentNotOnDp { .. })
    });
    assert!(!early.is_empty() && early.iter().all(|&t| t < copied[0]));
    assert_eq!(out.totals.content_not_on_dp, early.len() as u64);
    assert_eq!(link(&out).bytes, 100 * MB, "the copy and nothing else");
    // The copy is no request: the link counts neither it nor its wait.
    assert_eq!(link(&out).total.arrived.iter().sum::<u64>(), 0);
    assert_eq!(link(&out).wait.len(), 0, "no request waited at the link");
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, 200 * 100 * MB);
    conserved(&out);
    // The summary gives the hours from creation until the branch DP had
    // it; the site has no such figure.
    assert_eq!(out.content_copied_at[1], vec![Some(SimTime(copied[0]))]);
    let s = patchsim::output::summary(&estate, &out);
    let on_dps = |l: usize| s.locations[l].deployments[0].hours_to_content_on_dps;
    assert_eq!(on_dps(0), None);
    let hours = (copied[0] - CREATED_MS) as f64 / 3_600_000.0;
    assert!(
        on_dps(1)
            .flatten()
            .is_some_and(|h| (h - hours).abs() < 1e-9)
    );
}

/// A transfer across the link starts the link's latency after it is
/// asked for: one client alone on a 1 Gbps link, its own 100 Mbps binding,
/// takes 8 s for 100 MB, and 2 s more with a 2 s round trip.
#[test]
fn latency_delays_each_transfer() {
    let took = |latency: &str| {
        let (_, records) = traced(&scenario(1, "1Gbps", latency, false, ""));
        let start = times(&records, 100, |e| {
            matches!(e, TraceEvent::DownloadStart { .. })
        });
        let done = times(&records, 100, |e| {
            matches!(e, TraceEvent::DownloadDone { .. })
        });
        assert_eq!((start.len(), done.len()), (1, 1));
        done[0] - start[0]
    };
    assert_eq!(took("0s"), 8_000);
    assert_eq!(took("2s"), 10_000);
}

/// The site's DP going down fails the downloads across the link too: the
/// clients keep what they got and retry; bytes are conserved across the
/// DP, the link and the clients.
#[test]
fn a_dp_outage_fails_downloads_across_the_link() {
    let fault = r#"faults: [Fault(server: "hub", start: "2026-11-10T11:00:00Z", end: "2026-11-10T11:30:00Z", effect: Down)],"#;
    let (out, records) = traced(&scenario(200, "20Mbps", "0s", false, fault));
    assert!(out.totals.download_failures > 0, "{:?}", out.totals);
    let starts = times(&records, 100, |e| {
        matches!(e, TraceEvent::DownloadStart { .. })
    });
    assert!(
        starts.len() > 200,
        "branch downloads failed with the DP and were retried"
    );
    let branch = &out.cohort_bytes[1];
    assert_eq!(branch.bytes_downloaded, 200 * 100 * MB);
    // What crossed is what the branch got, to a byte per interrupted
    // transfer.
    assert!(
        link(&out).bytes.abs_diff(branch.bytes_downloaded) <= 400,
        "{} crossed, {} received",
        link(&out).bytes,
        branch.bytes_downloaded
    );
    conserved(&out);
}

/// Declaring a location that no cohort or DP uses changes nothing but
/// adds its idle link: the same draws, the same events, the same results.
#[test]
fn an_unused_location_changes_nothing() {
    let unused = text(50, "10Mbps", "20ms", false, "").replace(r#", location: "branch")"#, ")");
    let start = unused.find("    locations:").expect("a location");
    let end = start + unused[start..].find('\n').expect("one line") + 1;
    let without = format!("{}{}", &unused[..start], &unused[end..]);
    let (unused, without) = (estate_of(&unused), estate_of(&without));
    assert_eq!((unused.locations.len(), without.locations.len()), (1, 0));
    let (a, b) = (common::simulate(&without), common::simulate(&unused));
    assert_eq!(a.events, b.events);
    assert_eq!(a.totals, b.totals);
    assert_eq!(a.timeline, b.timeline);
    assert_eq!(b.servers.len(), a.servers.len() + 1);
    for (x, y) in a.servers.iter().zip(&b.servers) {
        assert_eq!((&x.name, x.bytes, x.total), (&y.name, y.bytes, y.total));
    }
    assert_eq!(link(&b).bytes, 0);
}

/// A cloud management gateway no client uses changes no location's
/// figures: each WAN link's bytes, peak and busy hours in the summary are
/// its own, whatever other servers the run has (its record is found by
/// role and name, not by place in the list of servers).
#[test]
fn an_unused_gateway_leaves_the_locations_as_they_are() {
    let without = text(50, "2Mbps", "20ms", false, "");
    let with = without.replace(
        r#"distribution_points: [DistributionPoint(name: "hub"), ],"#,
        r#"distribution_points: [DistributionPoint(name: "hub"), ],
        cloud_management_gateways: [CloudManagementGateway(name: "cmg")],"#,
    );
    assert_ne!(with, without);
    let (a, b) = (estate_of(&without), estate_of(&with));
    let (x, y) = (common::simulate(&a), common::simulate(&b));
    let (x, y) = (
        patchsim::output::summary(&a, &x),
        patchsim::output::summary(&b, &y),
    );
    let locations = |s: &patchsim::output::Summary| {
        serde_json::to_string_pretty(&s.locations).expect("serializes")
    };
    assert_eq!(locations(&x), locations(&y));
    let link = x.locations[1].wan_link.as_ref().expect("the branch's link");
    assert!(link.bytes_carried > 0 && link.peak_utilization_pct > 0.0);
}

/// A download crosses at most one link: a cohort in one location whose DP
/// is in another is refused, with the fix.
#[test]
fn a_cohort_cannot_cross_two_links() {
    let text = text(10, "10Mbps", "0s", true, "")
        .replace(
            r#"distribution_point: "branch-dp", location: "branch")"#,
            r#"distribution_point: "branch-dp", location: "york")"#,
        )
        .replace(
            "    locations: [",
            r#"    locations: [Location(name: "york", wan_link: WanLink(bandwidth: "10Mbps")), "#,
        );
    let raw = patchsim::scenario::parse(&text, "t.ron").expect("parses");
    let err = patchsim::scenario::build(raw, "t.ron").expect_err("refused");
    let msg = err.to_string();
    assert!(
        msg.contains("cohorts[1] (branch).location: the cohort is in location 'york' but its distribution point 'branch-dp' is in location 'branch'; a download crosses at most one WAN link"),
        "{msg}"
    );
}

/// The branch's WAN link going down (a fault on the location's name)
/// fails the downloads crossing it, which keep what they got and retry,
/// and refuses the ones asked for while it is down; the link and the hub
/// each count every failure, and bytes are conserved. Once it is back the
/// branch finishes.
#[test]
fn a_link_outage_fails_the_downloads_across_it() {
    // 200 × 100 MB over 20 Mbps needs 8,000 s from about 10:30: down from
    // 11:00 to 12:00, mid-way.
    let fault = r#"faults: [Fault(server: "branch", start: "2026-11-10T11:00:00Z", end: "2026-11-10T12:00:00Z")],"#;
    let estate = scenario(200, "20Mbps", "0s", false, fault);
    let (out, records) = traced(&estate);
    let summary = patchsim::output::summary(&estate, &out);
    let f = &summary.faults[0];
    assert_eq!(
        (f.server.as_str(), f.role, f.slowdown),
        ("branch", ServerRole::WanLink, None)
    );
    assert_eq!((f.start_h, f.end_h), (35.0, 36.0), "hours from the start");
    let text = patchsim::output::summary_text(&summary, &[]);
    assert!(
        text.contains("\nfaults: branch (WAN link) down Tue 10 Nov 11:00 – 12:00\n"),
        "{text}"
    );
    let (down, up) = (CREATED_MS + 3_600_000, CREATED_MS + 7_200_000);
    let failed = out.totals.download_failures;
    assert!(failed > 0, "{:?}", out.totals);
    let link = link(&out);
    let hub = &out.servers[2];
    assert_eq!(hub.name, "hub");
    let download = patchsim::model::Request::Download as usize;
    assert_eq!(
        link.total.rejected[download], failed,
        "the link counts each"
    );
    assert_eq!(hub.total.rejected[download], failed, "and so does the hub");
    // Nothing crosses while it is down: every branch download ends
    // before the outage or after it, and none starts during it.
    let done = times(&records, 100, |e| {
        matches!(e, TraceEvent::DownloadDone { .. })
    });
    assert_eq!(done.len(), 200, "every branch client gets it");
    assert!(done.iter().all(|&t| t <= down || t > up), "{done:?}");
    let across = times(&records, 100, |e| {
        matches!(e, TraceEvent::AcrossWanLink { .. })
    });
    assert!(across.iter().all(|&t| t < down || t >= up));
    assert!(across.len() > 200, "failed downloads were asked for again");
    // The trace blames the link, once a counted failure: the hub was up.
    let blamed: Vec<_> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::DownloadFailed { by, .. } => Some(by),
            _ => None,
        })
        .collect();
    assert_eq!(blamed.len() as u64, failed);
    assert!(blamed.iter().all(|&by| by == DownloadFailure::WanLink));
    // explain tells the first failure, then the rounds until the link is
    // back as one line.
    let (client, first) = (records.iter())
        .find_map(|r| match r.event {
            TraceEvent::DownloadFailed { .. } => Some((r.client.expect("a client"), r.time)),
            _ => None,
        })
        .expect("a failure");
    let rounds = (records.iter())
        .filter(|r| r.client == Some(client) && r.time > first)
        .filter(|r| matches!(r.event, TraceEvent::DownloadFailed { .. }))
        .count();
    let story = patchsim::app::explain(&estate, client.0, false).expect("explains");
    assert_eq!(
        story.matches("its download fails with").count(),
        1,
        "{story}"
    );
    assert!(
        story.contains("still to come: the WAN link to its DP is down"),
        "{story}"
    );
    assert!(rounds >= 2, "an hour down, a retry every 10 minutes");
    assert!(
        story.contains(&format!(
            "asks for the content again {rounds} times, and each download fails: \
             the WAN link to its DP is down {rounds} times"
        )),
        "{story}"
    );
    // The site's clients do not notice: the hub itself stayed up.
    let site_done = (records.iter())
        .filter(|r| r.client.is_some_and(|c| c.0 < 100))
        .filter(|r| matches!(r.event, TraceEvent::DownloadDone { .. }))
        .count();
    assert_eq!(site_done, 100);
    let branch = &out.cohort_bytes[1];
    assert_eq!(branch.bytes_downloaded, 200 * 100 * MB);
    assert!(
        link.bytes.abs_diff(branch.bytes_downloaded) <= 2 * failed + 200,
        "{} crossed, {} received",
        link.bytes,
        branch.bytes_downloaded
    );
    conserved(&out);
}

/// When the copy to the branch DP of [`scenario`] (20 branch clients, a
/// 2 Mbps link of 40 ms) with `more` landed, ms (none if it never did),
/// and how many copies the site gave up.
fn copies(more: &str) -> (Vec<u64>, u64) {
    let (out, records) = traced(&scenario(20, "2Mbps", "40ms", true, more));
    let at: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    (at, out.totals.copies_abandoned)
}

/// A copy of content to a branch DP fails when the link goes down; the
/// site tries it again every 30 minutes after that, and the first try
/// with the link up sends what was missing (after one more latency). A
/// slowdown of the link stretches the copy by its factor for as long as
/// it lasts.
#[test]
fn a_link_fault_holds_the_copy_to_the_branch_dp() {
    let copied = |more: &str| {
        let (at, _) = copies(more);
        assert_eq!(at.len(), 1);
        at[0]
    };
    // Without a fault the copy starts at 10:30:04.040 and takes 400 s.
    let clear = copied("");
    assert_eq!(clear, CREATED_MS + 1_800_000 + 4_000 + 40 + 400_000);
    // Down 10:32 to 11:02: tried again at 11:02, as the link is back.
    let down = r#"faults: [Fault(server: "branch", start: "2026-11-10T10:32:00Z", end: "2026-11-10T11:02:00Z")],"#;
    assert_eq!(
        copied(down),
        clear + 1_800_000 + 40,
        "30 min and a latency later"
    );
    // Down until 11:12: the try at 11:02 fails, the one at 11:32 sends.
    let longer = down.replace("11:02", "11:12");
    assert_eq!(copied(&longer), clear + 3_600_000 + 40, "an hour later");
    // Down from before the copy until 10:45: its first try fails when its
    // latency has passed, at 10:30:04.040; the next, at 11:00:04.040,
    // sends it all.
    let before = down.replace("10:32", "10:00").replace("11:02", "10:45");
    assert_eq!(copied(&before), clear + 1_800_000 + 40);
    // Slower by 4 from 10:32 (116 s in, 284 s to go at full speed) to
    // 10:42: 600 s send 150 s' worth; then 134 s at full speed.
    let slow = r#"faults: [Fault(server: "branch", start: "2026-11-10T10:32:00Z", end: "2026-11-10T10:42:00Z", effect: Slow(4.0))],"#;
    assert_eq!(copied(slow), clear + 600_000 - 150_000);
    // The distribution manager tries 100 times, 30 minutes apart: down for
    // 50 h, the 100th try sends it; a minute longer, it has given up.
    let fifty = down.replace("2026-11-10T11:02", "2026-11-12T12:32");
    assert_eq!(copied(&fifty), clear + 50 * 3_600_000 + 40);
    let (out, records) = traced(&scenario(
        20,
        "2Mbps",
        "40ms",
        true,
        &down.replace("2026-11-10T11:02", "2026-11-12T12:33"),
    ));
    assert!(
        !(records.iter()).any(|r| matches!(r.event, TraceEvent::ContentCopied { .. })),
        "the copy was given up"
    );
    assert_eq!(out.totals.copies_abandoned, 1);
    assert!(out.totals.content_not_on_dp > 0, "the branch keeps asking");
}

/// A branch DP that is down takes no copy, as its link's outage would
/// not let one through: the copy fails and goes on at the first retry
/// after the DP is back. (It used to land on the down DP.)
#[test]
fn a_down_branch_dp_holds_its_copy() {
    let (clear, _) = copies("");
    assert_eq!(clear.len(), 1);
    // Down 10:32 to 11:02: the copy under way fails, and the try at 11:02
    // sends it all, as after the link's outage.
    let down = r#"faults: [Fault(server: "branch-dp", start: "2026-11-10T10:32:00Z", end: "2026-11-10T11:02:00Z")],"#;
    assert_eq!(copies(down), (vec![clear[0] + 1_800_000 + 40], 0));
    // Down from before the copy until 10:45: its first try, at
    // 10:30:04.040, fails; the next sends it.
    let before = down.replace("10:32", "10:00").replace("11:02", "10:45");
    assert_eq!(copies(&before), (vec![clear[0] + 1_800_000 + 40], 0));
    // Down past the 100th retry: the distribution manager gave up.
    let fifty = down.replace("2026-11-10T11:02", "2026-11-12T12:33");
    assert_eq!(copies(&fifty), (vec![], 1));
}

/// A fault names a link by its location; an unknown name lists the links
/// too, and a name shared by a server and a location is refused.
#[test]
fn a_fault_names_a_link_by_its_location() {
    let e = common::build_error(&text(
        10,
        "10Mbps",
        "0s",
        false,
        r#"faults: [Fault(server: "brnch", start: "2026-11-10T11:00:00Z", end: "2026-11-10T12:00:00Z")],"#,
    ));
    assert!(
        e.contains(
            "faults[0].server: unknown server 'brnch' (did you mean 'branch'?); \
             known: branch (WAN link), hub, mp, sup"
        ),
        "{e}"
    );
    let both = text(
        10,
        "10Mbps",
        "0s",
        false,
        r#"faults: [Fault(server: "hub", start: "2026-11-10T11:00:00Z", end: "2026-11-10T12:00:00Z")],"#,
    )
    .replace(r#"Location(name: "branch""#, r#"Location(name: "hub""#)
    .replace(r#"location: "branch")"#, r#"location: "hub")"#);
    let e = common::build_error(&both);
    assert!(
        e.contains("'hub' names both a server and a location's WAN link; rename one"),
        "{e}"
    );
}

/// An unknown name in a fault gets the message every unknown name gets:
/// long names cut, each known one listed once (two locations of one name,
/// itself a problem, are one link), the closest suggested.
#[test]
fn an_unknown_fault_target_reads_as_every_unknown_name() {
    let fault = |server: &str| {
        format!(
            r#"faults: [Fault(server: "{server}", start: "2026-11-10T11:00:00Z", end: "2026-11-10T12:00:00Z")],"#
        )
    };
    let twice = text(10, "10Mbps", "0s", false, &fault("brnch")).replace(
        "locations: [Location(",
        r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "1Mbps")), Location("#,
    );
    let e = common::build_error(&twice);
    assert!(
        e.contains("locations[1] (branch).name: 'branch' is already used by locations[0]"),
        "{e}"
    );
    // The whole line: the link listed once, nothing after it.
    assert!(
        e.lines().any(|l| l.trim()
            == "faults[0].server: unknown server 'brnch' (did you mean 'branch'?); \
                known: branch (WAN link), hub, mp, sup"),
        "{e}"
    );
    let long = "b".repeat(100);
    let e = common::build_error(
        &text(10, "10Mbps", "0s", false, &fault(&"c".repeat(100)))
            .replace(
                r#"Location(name: "branch""#,
                &format!(r#"Location(name: "{long}""#),
            )
            .replace(r#"location: "branch")"#, &format!(r#"location: "{long}")"#)),
    );
    let cut = |c: &str| format!("{}…", c.repeat(60));
    assert!(
        e.contains(&format!(
            "faults[0].server: unknown server '{}'; known: {} (WAN link), hub, mp, sup",
            cut("c"),
            cut("b")
        )),
        "{e}"
    );
}

/// [`text`] with a branch DP that is down for the whole run and the hub
/// in the site's default boundary group; `fallback` is the location's
/// `dp_fallback` (`None`: left at its default).
fn branch_dp_down(n: u32, fallback: Option<&str>) -> String {
    let fault = r#"faults: [Fault(server: "branch-dp", start: "2026-11-09T00:00:00Z", end: "2026-11-15T00:00:00Z")],"#;
    let text = text(n, "100Mbps", "0s", true, fault).replace(
        r#"DistributionPoint(name: "hub")"#,
        r#"DistributionPoint(name: "hub", default_boundary_group: true)"#,
    );
    match fallback {
        Some(f) => text.replace(
            r#"latency: "0s"))"#,
            &format!(r#"latency: "0s"), dp_fallback: {f})"#),
        ),
        None => text,
    }
}

/// A branch whose DP is down falls back to the DP of the site's default
/// boundary group once each client has looked for the content for the
/// location's fallback time (120 minutes by default): every branch client
/// gets the update from the hub, across the link, no sooner than two
/// hours after its own DP first failed it and no later than the next
/// retry after that (`download_retry`, 10 minutes, and the management
/// point's answer to the location request). Bytes are conserved across
/// the hub, the link and the clients.
#[test]
fn a_branch_falls_back_to_the_default_boundary_group() {
    let n = 50u64;
    let (out, records) = traced(&estate_of(&branch_dp_down(n as u32, None)));
    let branch = &out.cohort_bytes[1];
    assert_eq!(branch.bytes_downloaded, n * 100 * MB, "every branch client");
    assert!(
        link(&out).bytes >= branch.bytes_downloaded,
        "across the link"
    );
    assert_eq!(out.totals.dp_fallbacks, n, "{:?}", out.totals);
    let hub = &out.servers[2];
    assert_eq!(hub.name, "hub");
    assert_eq!(hub.bytes, out.totals.bytes_from_dp, "the hub served all");
    conserved(&out);
    for c in 100..100 + n as u32 {
        let of = |pick: fn(&TraceEvent) -> bool| {
            (records.iter())
                .filter(|r| r.client.is_some_and(|x| x.0 == c) && pick(&r.event))
                .map(|r| r.time.as_ms())
                .min()
                .expect("the client's record")
        };
        let first_try = of(|e| {
            matches!(
                e,
                TraceEvent::DownloadStart { .. } | TraceEvent::ContentNotOnDp { .. }
            )
        });
        let fell_back = of(|e| matches!(e, TraceEvent::DpFallback { dp: 0, .. }));
        // The fallback is said before the download it starts.
        let mine: Vec<&TraceRecord> = (records.iter())
            .filter(|r| r.client.is_some_and(|x| x.0 == c) && r.time.as_ms() == fell_back)
            .collect();
        let k = (mine.iter())
            .position(|r| matches!(r.event, TraceEvent::DpFallback { .. }))
            .expect("the fallback");
        assert!(
            matches!(mine[k + 1].event, TraceEvent::DownloadStart { .. }),
            "{mine:?}"
        );
        let waited = fell_back - first_try;
        assert!(
            (7_200_000..=7_200_000 + 660_000).contains(&waited),
            "client {c} fell back {waited} ms after its first try"
        );
    }
}

/// Fallback is the location's to allow: `dp_fallback: None` ("never
/// fallback") keeps the branch waiting for its own DP, as does a default
/// boundary group with no DP in it; a shorter fallback time falls back
/// sooner.
#[test]
fn fallback_can_be_blocked_or_shortened() {
    for text in [
        branch_dp_down(20, Some("None")),
        branch_dp_down(20, None).replace(", default_boundary_group: true", ""),
    ] {
        let out = common::simulate(&estate_of(&text));
        assert_eq!(out.totals.dp_fallbacks, 0);
        assert_eq!(
            out.cohort_bytes[1].bytes_downloaded, 0,
            "nothing to the branch"
        );
        // Its DP down, the branch keeps asking: the content never
        // reaches the DP, so each ask is answered with no DP.
        assert!(out.totals.content_not_on_dp > 20 * 100, "{:?}", out.totals);
    }
    let fell_back_after = |fallback: Option<&str>| {
        let (_, records) = traced(&estate_of(&branch_dp_down(20, fallback)));
        let first = |pick: fn(&TraceEvent) -> bool| {
            (records.iter())
                .filter(|r| r.client.is_some_and(|c| c.0 >= 100) && pick(&r.event))
                .map(|r| r.time.as_ms())
                .min()
                .expect("a branch record")
        };
        // From its first ask (its DP, down, never got the content).
        first(|e| matches!(e, TraceEvent::DpFallback { .. }))
            - first(|e| matches!(e, TraceEvent::ContentLocationRequest { .. }))
    };
    let short = fell_back_after(Some(r#"Some("20m")"#));
    assert!(
        (1_200_000..=1_200_000 + 660_000).contains(&short),
        "{short}"
    );
    assert!(fell_back_after(None) >= 7_200_000);
}

/// Only a DP at the site can be in its default boundary group, and a
/// fallback time is at most 30 days.
#[test]
fn fallback_settings_are_checked() {
    let e = common::build_error(&branch_dp_down(10, None).replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        r#"DistributionPoint(name: "branch-dp", location: "branch", default_boundary_group: true)"#,
    ));
    assert!(
        e.contains("servers.distribution_points[1] (branch-dp).default_boundary_group: only a DP at the site can be in the site's default boundary group"),
        "{e}"
    );
    let e = common::build_error(&branch_dp_down(10, Some(r#"Some("31d")"#)));
    assert!(
        e.contains("locations[0] (branch).dp_fallback: must be between 0s and 30d, got 31d"),
        "{e}"
    );
}

/// [`branch_dp_down`] with the branch DP back at `back` and the hub down
/// 12:36–12:40, on a WAN link of `link`.
fn fallback_faults(n: u32, link: &str, back: &str) -> String {
    branch_dp_down(n, None).replace("100Mbps", link).replace(
        r#"end: "2026-11-15T00:00:00Z")],"#,
        &format!(
            r#"end: "{back}"), Fault(server: "hub", start: "2026-11-10T12:36:00Z", end: "2026-11-10T12:40:00Z")],"#
        ),
    )
}

/// A download that fell back fails with its DP: the hub going down fails
/// the branch's downloads from it, which the hub counts, and the clients,
/// still looking, fall back again at their next try. Once the branch's
/// own DP is back and the site's copy has reached it (at the copy's
/// first retry after), it comes first again: no client falls back after
/// that, and the clients still looking get the update from it. Bytes are
/// conserved across the two DPs, the link and the clients.
#[test]
fn a_fallback_fails_with_its_dp_and_ends_with_the_own_dp() {
    let n = 50u64;
    let failed = |s: &patchsim::model::ServerRecord| s.total.rejected[7];
    // The first clients fall back from about 12:34, two hours after their
    // first tries; 100 MB over the 1 Mbps link takes each of them more
    // than 13 minutes, so the hub's outage at 12:36 stops them.
    let (out, _) = traced(&estate_of(&fallback_faults(
        n as u32,
        "1Mbps",
        "2026-11-15T00:00:00Z",
    )));
    let hub = &out.servers[2];
    assert_eq!(hub.name, "hub");
    assert!(failed(hub) > 0, "downloads failed with the hub");
    assert!(
        out.totals.dp_fallbacks > n,
        "fell back again: {:?}",
        out.totals
    );
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, n * 100 * MB);
    conserved(&out);
    // The branch DP back at 12:45, the copy to it at its retry at 13:00,
    // while the clients' two hours of looking end, about 12:34 to 13:30:
    // the first fall back, the others download from it.
    let (out, records) = traced(&estate_of(&fallback_faults(
        n as u32,
        "10Mbps",
        "2026-11-10T12:45:00Z",
    )));
    let (hub, branch_dp) = (&out.servers[2], &out.servers[3]);
    assert_eq!(branch_dp.name, "branch-dp");
    assert!(
        out.totals.dp_fallbacks > 0 && hub.bytes > 0,
        "some fell back"
    );
    let from_hub = hub.bytes - 100 * 100 * MB; // less the site's 100 clients
    assert!(
        branch_dp.bytes > 0 && from_hub > 0,
        "some waited for their own DP: {} from it, {from_hub} from the hub",
        branch_dp.bytes
    );
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, n * 100 * MB);
    conserved(&out);
    let copied: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    assert_eq!(copied.len(), 1);
    let back = copied[0];
    assert!(
        (CREATED_MS + 180 * 60_000..CREATED_MS + 240 * 60_000).contains(&back),
        "copied from the retry at 13:00, sharing the link: {back}"
    );
    let fell_back = times(&records, 100, |e| {
        matches!(e, TraceEvent::DpFallback { .. })
    });
    assert!(
        fell_back.iter().all(|&t| t < back),
        "fell back after the copy: {fell_back:?}"
    );
}

/// A branch without a DP uses the hub across its link; with the hub down
/// it falls back to another DP of the default boundary group, across the
/// same link, while the site's own clients, in no location, wait.
#[test]
fn a_branch_without_a_dp_falls_back_to_another_site_dp() {
    let n = 30u64;
    let fault = r#"faults: [Fault(server: "hub", start: "2026-11-09T00:00:00Z", end: "2026-11-15T00:00:00Z")],"#;
    let text = text(n as u32, "100Mbps", "0s", false, fault).replace(
        r#"DistributionPoint(name: "hub"), "#,
        r#"DistributionPoint(name: "hub"), DistributionPoint(name: "hub2", default_boundary_group: true),"#,
    );
    let out = traced(&estate_of(&text)).0;
    assert_eq!(out.totals.dp_fallbacks, n, "{:?}", out.totals);
    assert_eq!(out.cohort_bytes[0].bytes_downloaded, 0, "the site waits");
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, n * 100 * MB);
    let hub2 = &out.servers[3];
    assert_eq!((hub2.name.as_str(), hub2.bytes), ("hub2", n * 100 * MB));
    assert_eq!(link(&out).bytes, n * 100 * MB, "across the branch's link");
    conserved(&out);
}

/// When the copy of [`scenario`]'s content (100 MB, asked for at
/// 10:30:04 on Tuesday 10 November across a link of `link` with a 40 ms
/// round trip) reaches the branch DP, whose settings get `dp` added, with
/// the deployment's settings getting `deployment` added.
fn copied_with(link: &str, dp: &str, deployment: &str) -> u64 {
    let text = text_with_dp(link, dp).replace(
        r#"created: "2026-11-10T10:00:00Z")"#,
        &format!(r#"created: "2026-11-10T10:00:00Z"{deployment})"#),
    );
    let (_, records) = traced(&estate_of(&text));
    let at: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    assert_eq!(at.len(), 1, "{dp}");
    at[0]
}

/// A DP's schedule holds the copy back in its closed hours (local time,
/// here UTC): a copy asked for while it is closed starts one round trip
/// after it opens; one under way when it closes stops with what it has
/// sent and sends the rest from the opening. Hours on other days, or open
/// to the deployment's priority, change nothing.
#[test]
fn a_dp_schedule_holds_the_copy_back() {
    const HOUR: u64 = 3_600_000;
    let asked = CREATED_MS + 1_800_000 + 4_000 + 40;
    let clear = copied_with("2Mbps", "", "");
    assert_eq!(clear, asked + 400_000);
    let closed = |days: &str, from: u32, to: u32, availability: &str| {
        format!(
            r#", copy_schedule: [CopyHours(days: [{days}], from: {from}, to: {to}{availability})]"#
        )
    };
    // Closed 10–11 on Tuesday: the copy starts at 11:00 and a round trip.
    let tuesday = closed("Tuesday", 10, 11, "");
    assert_eq!(copied_with("2Mbps", &tuesday, ""), 35 * HOUR + 40 + 400_000);
    assert_eq!(
        copied_with("2Mbps", &closed("Monday", 10, 11, ""), ""),
        clear
    );
    // At 200 kbps the copy takes 4,000 s: closed 11–12, it has sent until
    // 11:00 and sends the rest from 12:00 and a round trip.
    let slow = copied_with("200kbps", "", "");
    assert_eq!(slow, asked + 4_000_000);
    let sent_by_eleven = 35 * HOUR - asked;
    assert_eq!(
        copied_with("200kbps", &closed("Tuesday", 11, 12, ""), ""),
        36 * HOUR + 40 + (4_000_000 - sent_by_eleven)
    );
    // Hours open to higher priorities hold a Medium deployment back, not a
    // High one; hours open to Medium let it through.
    let high_only = closed("Tuesday", 10, 11, ", availability: HighOnly");
    assert_eq!(
        copied_with("2Mbps", &high_only, ""),
        35 * HOUR + 40 + 400_000
    );
    let high = ", distribution_priority: High";
    assert_eq!(copied_with("2Mbps", &high_only, high), clear);
    let medium = closed("Tuesday", 10, 11, ", availability: MediumAndHigh");
    assert_eq!(copied_with("2Mbps", &medium, ""), clear);
    let low = ", distribution_priority: Low";
    assert_eq!(copied_with("2Mbps", &medium, low), 35 * HOUR + 40 + 400_000);
    // The trace tells each pace: the link's 200 kbps at the start, held
    // back at 11:00, 200 kbps again at 12:00 and a round trip.
    let paused = text(20, "200kbps", "40ms", true, "").replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        &format!(
            r#"DistributionPoint(name: "branch-dp", location: "branch"{})"#,
            closed("Tuesday", 11, 12, "")
        ),
    );
    let (_, records) = traced(&estate_of(&paused));
    let paced: Vec<(u64, u64)> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::CopyPaced { dp: 1, bps, .. } => Some((r.time.as_ms(), bps)),
            _ => None,
        })
        .collect();
    assert_eq!(
        paced,
        vec![(asked, 200_000), (35 * HOUR, 0), (36 * HOUR + 40, 200_000)]
    );
    // Every hour closed: the copy never arrives, and no branch client
    // downloads.
    let never = closed("", 0, 24, "").replace("days: [], ", "");
    let text = text(20, "2Mbps", "40ms", true, "").replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        &format!(r#"DistributionPoint(name: "branch-dp", location: "branch"{never})"#),
    );
    let estate = estate_of(&text);
    let (out, records) = traced(&estate);
    assert!(
        !(records.iter()).any(|r| matches!(r.event, TraceEvent::ContentCopied { .. })),
        "never copied"
    );
    let s = patchsim::output::summary(&estate, &out);
    assert_eq!(
        s.locations[1].deployments[0].hours_to_content_on_dps,
        Some(None)
    );
    // The run warns of it before it starts; a High deployment gets
    // through hours closed to Medium, and is not warned of.
    let warned = "the copy_schedule of distribution point 'branch-dp' is closed every hour to content of Medium priority: the content of deployment 'cu' never reaches it";
    assert_eq!(patchsim::app::warnings(&estate), vec![warned.to_string()]);
    let high_only = text.replace(
        "from: 0, to: 24)",
        "from: 0, to: 24, availability: HighOnly)",
    );
    assert_ne!(high_only, text);
    let high = estate_of(&high_only.replace(
        r#"created: "2026-11-10T10:00:00Z")"#,
        r#"created: "2026-11-10T10:00:00Z", distribution_priority: High)"#,
    ));
    assert!(patchsim::app::warnings(&high).is_empty());
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, 0);
    assert_eq!(link(&out).bytes, 0);
}

/// A rate limit slows the copy: by the hour, to that share of what the
/// copy could use (25 % of a 2 Mbps link: 1,600 s instead of 400 s, and
/// back to full speed when the limited hours end); in pulse mode, to a
/// block per delay (64 KB a second: 512,000 bps).
#[test]
fn a_rate_limit_slows_the_copy() {
    const HOUR: u64 = 3_600_000;
    let asked = CREATED_MS + 1_800_000 + 4_000 + 40;
    let hourly = |from: u32, to: u32, percent: u32| {
        format!(
            r#", rate_limit: Hourly([HourlyLimit(from: {from}, to: {to}, percent: {percent})])"#
        )
    };
    assert_eq!(
        copied_with("2Mbps", &hourly(10, 11, 25), ""),
        asked + 1_600_000
    );
    assert_eq!(
        copied_with("2Mbps", &hourly(11, 12, 25), ""),
        asked + 400_000
    );
    // At 200 kbps, 25 % until 11:00, then full speed for what is left.
    let quarter = 35 * HOUR - asked;
    let at = copied_with("200kbps", &hourly(10, 11, 25), "");
    assert_eq!(at, 35 * HOUR + (4_000_000 - quarter / 4));
    let pulse = r#", rate_limit: PulseMode(block: "64KB", delay: "1s")"#;
    let at = copied_with("2Mbps", pulse, "");
    assert_eq!(at, asked + 800_000_000_000 / 512_000);
}

/// A schedule or rate limit is for a DP in a location; its hours, share,
/// block and delay are checked, each error naming the field.
#[test]
fn copy_settings_are_checked() {
    let with = |dp: &str, rest: &str| {
        text(20, "2Mbps", "40ms", true, "").replace(
            r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
            &format!(r#"DistributionPoint(name: "branch-dp"{dp}){rest}"#),
        )
    };
    let cases = [
        (
            with(r#", rate_limit: PulseMode(block: "64KB", delay: "1s")"#, ""),
            "servers.distribution_points[1] (branch-dp).location: `rate_limit` and `copy_schedule` are for a DP in a location",
        ),
        (
            with(
                r#", location: "branch", rate_limit: Hourly([HourlyLimit(from: 18, to: 8, percent: 50)])"#,
                "",
            ),
            "servers.distribution_points[1] (branch-dp).rate_limit[0]: hours must run from `from` (0–23) to a later `to` (1–24), got 18 to 8",
        ),
        (
            with(
                r#", location: "branch", rate_limit: Hourly([HourlyLimit(from: 8, to: 18, percent: 0)])"#,
                "",
            ),
            "servers.distribution_points[1] (branch-dp).rate_limit[0].percent: must be from 1 to 100, got 0",
        ),
        (
            with(
                r#", location: "branch", rate_limit: PulseMode(block: "300KB", delay: "1s")"#,
                "",
            ),
            "servers.distribution_points[1] (branch-dp).rate_limit.block: must be from 1KB to 256KB, got 300KB",
        ),
        (
            with(
                r#", location: "branch", copy_schedule: [CopyHours(days: [], from: 8, to: 25)]"#,
                "",
            ),
            "servers.distribution_points[1] (branch-dp).copy_schedule[0].days: name at least one day",
        ),
    ];
    for (text, message) in cases {
        let e = common::build_error(&text);
        assert!(e.contains(message), "{e}\nwanted: {message}");
    }
}

/// `explain` tells a branch client's wait for content its DP's schedule
/// holds back: why, when the copy arrives, and the asks every
/// `download_retry` until then as one line.
#[test]
fn explain_tells_a_wait_for_a_held_copy() {
    let text = text(20, "2Mbps", "40ms", true, "").replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        r#"DistributionPoint(name: "branch-dp", location: "branch", copy_schedule: [CopyHours(days: [Tuesday], from: 10, to: 12)])"#,
    );
    let estate = estate_of(&text);
    let (_, records) = traced(&estate);
    let client = 100;
    let asks = (records.iter())
        .filter(|r| {
            r.client.map(|c| c.0) == Some(client)
                && matches!(r.event, TraceEvent::ContentNotOnDp { .. })
        })
        .count();
    assert!(asks > 3, "the client asks every 10 min from 10:3x to 12:06");
    let story = patchsim::app::explain(&estate, client, false).expect("explains");
    // 12:00, a round trip, then 400 s at 2 Mbps.
    assert!(
        story.contains(
            "the schedule of branch-dp holds the copy back at this hour; it arrives Tue 2026-11-10 12:06:40"
        ),
        "{story}"
    );
    assert!(
        story.contains(&format!(
            "asks again {} times, and the content is on none of its distribution points each time",
            asks - 1
        )),
        "{story}"
    );
    assert_eq!(
        story
            .matches("on none of its distribution points (")
            .count(),
        1
    );
    assert!(story.contains("finishes the download"), "{story}");
}

/// `diff` of two runs with locations compares each location's time to
/// 95 % and to its content on its own DPs, and counts a total one run
/// leaves out (it did not happen there) as 0.
#[test]
fn diff_compares_locations_and_totals_one_side_lacks() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("down.ron"), branch_dp_down(30, None)).unwrap();
    let run = |out: &str, set: &str| {
        let mut args = vec!["run", "down.ron", "-o", out, "-q"];
        if !set.is_empty() {
            args.extend(["--set", set]);
        }
        let o = common::patchsim(&args, dir.path());
        common::assert_ok(&o);
    };
    run("never", "locations[0].dp_fallback=None");
    run("after", "");
    let o = common::patchsim(&["diff", "never", "after"], dir.path());
    common::assert_ok(&o);
    let text = String::from_utf8_lossy(&o.stdout);
    let line = |start: &str| {
        let from = text.find("\nlocations (").unwrap_or(0);
        (text[from..].lines())
            .find(|l| l.split_whitespace().next() == Some(start))
            .unwrap_or_else(|| panic!("a line starting {start:?} in\n{text}"))
            .split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert!(
        text.contains("locations (from each deployment's creation)"),
        "{text}"
    );
    assert_eq!(line("branch")[..2], ["branch", "cu"]);
    assert!(text.contains("content on its DPs"), "{text}");
    let fallbacks = line("dp_fallbacks");
    assert_eq!(
        fallbacks[1], "0",
        "absent from the run without fallback: {text}"
    );
    assert_eq!(fallbacks[2], "30");
}

/// A pull-distribution point downloads its content from a source DP at
/// the site instead of the site server sending it: at the first of the
/// Package Transfer Manager's checks (when the content is distributed,
/// then every 20 minutes) at which a source has it and is up, across the
/// location's link as a copy, and with no schedule or rate limit.
#[test]
fn a_pull_dp_downloads_from_its_source() {
    const MIN: u64 = 60_000;
    // The site server has the content at 10:30:04; the copy asks one round
    // trip later, and takes 400 s at 2 Mbps.
    let asked = CREATED_MS + 1_800_000 + 4_000 + 40;
    let pull = r#", pull_from: ["hub"]"#;
    // The hub has it 0.8 s after 10:30:04 (100 MB at 1 Gbps): the check
    // then misses it, the one 20 minutes later finds it.
    assert_eq!(copied_with("2Mbps", pull, ""), asked + 20 * MIN + 400_000);
    // The hub down until 11:00: the checks at 10:30:04 and 10:50:04 find no
    // source up; the one at 11:10:04 does.
    let faulted = text(
        20,
        "2Mbps",
        "40ms",
        true,
        r#"faults: [Fault(server: "hub", start: "2026-11-10T10:00:00Z", end: "2026-11-10T11:00:00Z")],"#,
    )
    .replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        &format!(r#"DistributionPoint(name: "branch-dp", location: "branch"{pull})"#),
    );
    let (out, records) = traced(&estate_of(&faulted));
    let copied: Vec<u64> = (records.iter())
        .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
        .map(|r| r.time.as_ms())
        .collect();
    assert_eq!(copied, vec![asked + 40 * MIN + 400_000]);
    conserved(&out);
    // `explain` says why a branch client finds no content yet.
    let story = patchsim::app::explain(&estate_of(&text_with_dp("2Mbps", pull)), 100, false)
        .expect("explains");
    assert!(
        story.contains("branch-dp is a pull DP: it downloads the content from hub once the site's check (every 20 minutes) finds it there; it arrives Tue 2026-11-10 10:56:44"),
        "{story}"
    );
    // A pull DP's settings are checked.
    for (dp, expected) in [
        (
            r#", pull_from: ["hub"], rate_limit: PulseMode(block: "64KB", delay: "1s")"#,
            "servers.distribution_points[1] (branch-dp).pull_from: a pull-distribution point uses no `copy_schedule` or `rate_limit`",
        ),
        (
            r#", pull_from: ["branch-dp"]"#,
            "servers.distribution_points[1] (branch-dp).pull_from[0]: 'branch-dp' is not a DP at the site",
        ),
        (
            r#", pull_from: ["hub", "hub"]"#,
            "servers.distribution_points[1] (branch-dp).pull_from[1]: distribution point 'hub' is listed twice; remove one",
        ),
        (
            r#", pull_from: ["nowhere"]"#,
            "servers.distribution_points[1] (branch-dp).pull_from[0]",
        ),
    ] {
        let msg = common::build_error(&text_with_dp("2Mbps", dp));
        assert!(msg.contains(expected), "{dp}: {msg}");
    }
    let at_site = text(20, "2Mbps", "40ms", true, "").replace(
        r#"DistributionPoint(name: "hub")"#,
        r#"DistributionPoint(name: "hub", pull_from: ["branch-dp"])"#,
    );
    let msg = common::build_error(&at_site);
    assert!(
        msg.contains("servers.distribution_points[0] (hub).pull_from: only a DP in a location is a pull-distribution point here"),
        "{msg}"
    );
}

/// [`text`] of 20 branch clients behind a link of `link` with a 40 ms
/// round trip, with `dp` added to the branch DP's settings.
fn text_with_dp(link: &str, dp: &str) -> String {
    text(20, link, "40ms", true, "").replace(
        r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
        &format!(r#"DistributionPoint(name: "branch-dp", location: "branch"{dp})"#),
    )
}

/// Three branch DPs (b1, b2, b3, places 1–3) behind one 2 Mbps link with
/// a 40 ms round trip, a cohort on each, and the hub at the site; `site`
/// goes into the site's settings, `b1` into b1's, `more` at the top level
/// (faults) and `deployments` replaces the one deployment of 100 MB to
/// all of them created at 10:00 on day 1. When each deployment's content
/// reached each branch DP: (deployment, DP, ms), sorted.
fn three_branches(site: &str, b1: &str, more: &str, deployments: &str) -> Vec<(u16, u64, u64)> {
    let deployments = if deployments.is_empty() {
        r#"Deployment(name: "cu", updates: ["KB1"], targets: ["site", "c1", "c2", "c3"], created: "2026-11-10T10:00:00Z")"#
    } else {
        deployments
    };
    let text = Scenario::new("threads")
        .seed(3)
        .duration("3d")
        .site(&format!(r#"content_ready_delay: Fixed("30m"){site}"#))
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dps(&format!(
            r#"
            DistributionPoint(name: "hub"),
            DistributionPoint(name: "b1", location: "branch"{b1}),
            DistributionPoint(name: "b2", location: "branch"),
            DistributionPoint(name: "b3", location: "branch"),
        "#
        ))
        .body(&format!(
            r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "2Mbps", latency: "40ms"))],
    {more}
    cohorts: [
        Cohort(name: "site", count: 10, management_point: "mp", update_point: "sup", distribution_point: "hub"),
        Cohort(name: "c1", count: 5, management_point: "mp", update_point: "sup", distribution_point: "b1", location: "branch"),
        Cohort(name: "c2", count: 5, management_point: "mp", update_point: "sup", distribution_point: "b2", location: "branch"),
        Cohort(name: "c3", count: 5, management_point: "mp", update_point: "sup", distribution_point: "b3", location: "branch"),
    ],
    updates: [
        Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
        Update(id: "KB2", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
    ],
    deployments: [{deployments}],"#
        ))
        .text();
    let (_, records) = traced(&estate_of(&text));
    let mut at: Vec<(u16, u64, u64)> = (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::ContentCopied { deployment, dp } => {
                Some((deployment.0, dp, r.time.as_ms()))
            }
            _ => None,
        })
        .collect();
    at.sort_unstable();
    at
}

/// The site's Package Transfer Manager sends at most `max_packages` ×
/// `max_threads_per_package` copies at once (3 × 5 by default); the rest
/// wait, first come first served, and each starts the moment a copy ends.
/// Three branch DPs behind one 2 Mbps link, 100 MB each: with two slots
/// the first two share the link (800 s) and the third then has it alone
/// (400 s more); with the default fifteen, all three share it and end
/// together at 1,200 s.
#[test]
fn the_site_sends_a_limited_number_of_copies_at_once() {
    // `site` goes into the site's settings, `b1` into branch DP b1's, and
    // `more` at the top level (faults).
    let copied = |site: &str, b1: &str, more: &str| -> Vec<(u64, u64)> {
        (three_branches(site, b1, more, "").into_iter())
            .map(|(_, dp, at)| (dp, at))
            .collect()
    };
    let two = ", max_packages: 1, max_threads_per_package: 2";
    let asked = CREATED_MS + 1_800_000 + 4_000 + 40;
    assert_eq!(
        copied(two, "", ""),
        vec![
            (1, asked + 800_000),
            (2, asked + 800_000),
            (3, asked + 1_200_000)
        ]
    );
    // Three ways, each third of the link's bits rounds: within 1 ms.
    let all = copied("", "", "");
    assert_eq!(all.len(), 3);
    for (i, &(dp, at)) in all.iter().enumerate() {
        assert_eq!(dp, i as u64 + 1);
        assert!(at.abs_diff(asked + 1_200_000) <= 1, "{all:?}");
    }
    // b1's schedule holds its copy back until 11:00: it gives its slot to
    // b3's at once, and at 11:00 and a round trip, the others done, it has
    // the link to itself.
    let held = copied(
        two,
        r#", copy_schedule: [CopyHours(days: [Tuesday], from: 10, to: 11)]"#,
        "",
    );
    assert_eq!(held[1], (2, asked + 800_000));
    assert_eq!(held[2], (3, asked + 800_000));
    assert_eq!(held[0], (1, 35 * 3_600_000 + 40 + 400_000));
    // The link down from 10:45 to 11:05 as well: b1's copy, due at 11:00
    // and a round trip, fails and is tried again 30 minutes later; every
    // copy arrives.
    let down = r#"faults: [Fault(server: "branch", start: "2026-11-10T10:45:00Z", end: "2026-11-10T11:05:00Z")],"#;
    let tangled = copied(
        two,
        r#", copy_schedule: [CopyHours(days: [Tuesday], from: 10, to: 11)]"#,
        down,
    );
    assert_eq!(
        tangled,
        vec![
            (1, 35 * 3_600_000 + 40 + 1_800_000 + 40 + 400_000),
            (2, asked + 800_000),
            (3, asked + 800_000)
        ]
    );
    // The link down from 10:35 to 10:40, while b1's and b2's copies run
    // and b3's waits: the two stopped give their slots back, b3's is
    // given one and fails at once; all three are tried again 30 minutes
    // after 10:35 (and a round trip), b1's and b2's with what they lack
    // (504.04 s' worth each at 1 Mbps), and b3's when one of them ends.
    let cut = copied(
        two,
        "",
        r#"faults: [Fault(server: "branch", start: "2026-11-10T10:35:00Z", end: "2026-11-10T10:40:00Z")],"#,
    );
    let retried = CREATED_MS + 35 * 60_000 + 1_800_000 + 40;
    let expected = [
        retried + 504_040,
        retried + 504_040,
        retried + 504_040 + 400_000,
    ];
    assert_eq!(cut.len(), 3, "{cut:?}");
    for (&(_, at), want) in cut.iter().zip(expected) {
        assert!(at.abs_diff(want) <= 2, "{cut:?} vs {expected:?}");
    }
    let msg = common::build_error(&text(20, "2Mbps", "40ms", true, "").replace(
        r#"site: Site(content_ready_delay: Fixed("30m")),"#,
        r#"site: Site(content_ready_delay: Fixed("30m"), max_packages: 51),"#,
    ));
    assert!(
        msg.contains("site.max_packages: must be between 1 and 50, got 51"),
        "{msg}"
    );
}

/// `scenarios/many-branches.ron`: 60 branch DPs get their copies 15 at a
/// time by default (four waves), all at once with 100 threads per
/// package.
#[test]
fn many_branches_get_their_copies_in_waves() {
    let waves = |sets: &[(&str, &str)]| {
        let raw = patchsim::scenario::load(std::path::Path::new("scenarios/many-branches.ron"))
            .expect("loads");
        let raw = patchsim::scenario::apply_sets(&raw, sets).expect("sets");
        let estate = patchsim::scenario::build(raw, "many-branches.ron").expect("valid");
        let out = patchsim::app::run_checked(&estate).unwrap_or_else(|v| panic!("{v}"));
        let mut at: Vec<SimTime> = (out.content_copied_at.iter())
            .filter_map(|per_deployment| per_deployment[0])
            .collect();
        assert_eq!(at.len(), 60, "every branch DP gets the content");
        at.sort_unstable();
        let mut sizes: Vec<usize> = Vec::new();
        for (i, t) in at.iter().enumerate() {
            if i == 0 || at[i - 1] != *t {
                sizes.push(0);
            }
            *sizes.last_mut().expect("a wave") += 1;
        }
        sizes
    };
    assert_eq!(waves(&[]), vec![15, 15, 15, 15]);
    assert_eq!(waves(&[("site.max_threads_per_package", "100")]), vec![60]);
}

/// The copies waiting for a sending slot go in their deployments'
/// distribution priority, High first, and in the order they waited among
/// equals. One slot: the first copy of a Medium deployment runs from
/// 10:30:04 to 10:36:44; a High one created five minutes later, asked at
/// 10:35:04, goes next, before the Medium one's two others.
#[test]
fn waiting_copies_go_by_distribution_priority() {
    let one = ", max_packages: 1, max_threads_per_package: 1";
    let deployments = |b: &str| {
        format!(
            r#"Deployment(name: "medium", updates: ["KB1"], targets: ["site", "c1", "c2", "c3"], created: "2026-11-10T10:00:00Z"),
               Deployment(name: "second", updates: ["KB2"], targets: ["site", "c1"], created: "2026-11-10T10:05:00Z"{b})"#
        )
    };
    let start = CREATED_MS + 1_800_000 + 4_000 + 40;
    let copy = 400_000;
    // High: medium→b1, second→b1, medium→b2, medium→b3.
    let high = three_branches(one, "", "", &deployments(", distribution_priority: High"));
    assert_eq!(
        high,
        vec![
            (0, 1, start + copy),
            (0, 2, start + 3 * copy),
            (0, 3, start + 4 * copy),
            (1, 1, start + 2 * copy)
        ]
    );
    // Medium too: in the order they waited.
    let equal = three_branches(one, "", "", &deployments(""));
    assert_eq!(
        equal,
        vec![
            (0, 1, start + copy),
            (0, 2, start + 2 * copy),
            (0, 3, start + 3 * copy),
            (1, 1, start + 4 * copy)
        ]
    );
}

/// [`text`] with a branch DP (so that no download crosses the link) and
/// every scan answer `size` big.
fn scans_of(size: &str, link: &str, more: &str) -> Estate {
    estate_of(&text(20, link, "0s", true, more).replace(
        r#"UpdatePoint(name: "sup")"#,
        &format!(
            r#"UpdatePoint(name: "sup", full_scan_size: "{size}", delta_scan_size: "{size}")"#
        ),
    ))
}

/// Per branch client, the online scans from start to done, in ms.
fn online_scans(records: &[TraceRecord], first_branch: u32) -> Vec<(u32, u64, u64)> {
    let mut started = std::collections::BTreeMap::new();
    let mut scans = Vec::new();
    for r in records {
        let Some(c) = r.client.filter(|c| c.0 >= first_branch) else {
            continue;
        };
        match r.event {
            TraceEvent::ScanStart { source, .. } => {
                started.insert(
                    c.0,
                    (source == patchsim::model::ScanSource::UpdatePoint, r.time),
                );
            }
            TraceEvent::ScanDone => {
                if let Some((true, at)) = started.remove(&c.0) {
                    scans.push((c.0, at.as_ms(), r.time.as_ms()));
                }
            }
            _ => {}
        }
    }
    scans
}

/// A branch client's scan answer comes from the SUP at the site across
/// its location's link: every byte of it crosses the link (exactly: the
/// link carries the copy to the branch DP plus 50 MB per online scan of
/// a branch client, and nothing of the site's clients), and each such
/// scan lasts at least the 200 s that 50 MB take over a 2 Mbps link. A
/// link outage fails the answers on their way, and the clients scan
/// again.
#[test]
fn scan_answers_cross_the_branch_link() {
    let (without, _) = traced(&scans_of("0B", "2Mbps", ""));
    let (with, records) = traced(&scans_of("50MB", "2Mbps", ""));
    let scans = online_scans(&records, 100);
    assert!(scans.len() >= 20, "{} online scans", scans.len());
    assert_eq!(
        link(&with).bytes - link(&without).bytes,
        scans.len() as u64 * 50 * MB,
        "every answer crosses the link"
    );
    for &(c, start, done) in &scans {
        assert!(done - start >= 200_000, "client {c}: {} ms", done - start);
    }
    let site = online_scans(&records, 0).len() - scans.len();
    assert_eq!(
        with.totals.scan_bytes,
        (scans.len() + site) as u64 * 50 * MB,
        "the site's clients' answers are counted but cross nothing"
    );
    // Down while the first answers are on their way: they fail then.
    let first = scans.iter().map(|s| s.1).min().expect("a scan");
    let at = |ms: u64| {
        let s = ms / 1000;
        format!(
            "2026-11-{:02}T{:02}:{:02}:{:02}Z",
            9 + s / 86_400,
            s / 3600 % 24,
            s / 60 % 60,
            s % 60
        )
    };
    let fault = format!(
        r#"faults: [Fault(server: "branch", start: "{}", end: "{}")],"#,
        at(first + 100_000),
        at(first + 3_700_000)
    );
    let (out, records) = traced(&scans_of("50MB", "2Mbps", &fault));
    let failed = (records.iter())
        .filter(|r| r.client.is_some_and(|c| c.0 >= 100))
        .filter(|r| matches!(r.event, TraceEvent::ScanFailed { .. }))
        .filter(|r| r.time.as_ms() == (first + 100_000) / 1000 * 1000)
        .count();
    assert!(failed >= 1, "an answer on its way fails with the link");
    // The link failed them, not the SUP (which stayed up): the trace says
    // so, and they count as errors (a dropped connection), not as the
    // SUP's rejects.
    let by_link = (records.iter())
        .filter(|r| {
            matches!(
                r.event,
                TraceEvent::ScanFailed {
                    by: ScanFailure::WanLink,
                    ..
                }
            )
        })
        .count();
    assert!(by_link >= failed);
    assert!(!(records.iter()).any(|r| matches!(
        r.event,
        TraceEvent::ScanFailed {
            by: ScanFailure::UpdatePoint,
            ..
        }
    )));
    assert_eq!(out.totals.scan_rejects, 0);
    assert_eq!(out.totals.scan_errors, by_link as u64);
    assert_eq!(
        online_scans(&records, 100)
            .iter()
            .map(|s| s.0)
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        20,
        "every branch client scans in the end"
    );
}

/// A pull DP whose source goes down while it downloads keeps what it has
/// and downloads the rest from its next source that has the content and
/// is up, one round trip later; with none, it looks again every 30
/// minutes ("waits for 30 minutes, and then starts the process again").
/// The copy starts at 10:50:04.040 (the second check) and takes 400 s at
/// 2 Mbps; hub goes down at 10:51:44, 99.96 s in, for an hour.
#[test]
fn a_pull_dp_turns_to_its_next_source_when_one_fails() {
    let fault = r#"faults: [Fault(server: "hub", start: "2026-11-10T10:51:44Z", end: "2026-11-10T11:51:44Z")],"#;
    let copied = |sources: &str| {
        let text = text(20, "2Mbps", "40ms", true, fault)
            .replace(
                r#"DistributionPoint(name: "hub"), "#,
                r#"DistributionPoint(name: "hub"), DistributionPoint(name: "hub2"), "#,
            )
            .replace(
                r#"DistributionPoint(name: "branch-dp", location: "branch")"#,
                &format!(
                    r#"DistributionPoint(name: "branch-dp", location: "branch", pull_from: [{sources}])"#
                ),
            );
        let (_, records) = traced(&estate_of(&text));
        let copied: Vec<u64> = (records.iter())
            .filter(|r| matches!(r.event, TraceEvent::ContentCopied { .. }))
            .map(|r| r.time.as_ms())
            .collect();
        copied
    };
    // 99.96 s of 400 s were sent; the rest takes 300.04 s.
    let down = 34 * 3_600_000 + 51 * 60_000 + 44_000;
    let rest = 300_040;
    // hub2 has the content and is up: at once, after the round trip.
    assert_eq!(copied(r#""hub", "hub2""#), vec![down + 40 + rest]);
    // hub alone: the looks at 10:51:44 and 11:21:44 find it down, the one
    // at 11:51:44 finds it back.
    assert_eq!(copied(r#""hub""#), vec![down + 3_600_000 + 40 + rest]);
}

/// A branch DP enabled for prestaged content, its content extracted there
/// beforehand, gets none across its link: the distribution only tells it,
/// so it holds the content from the moment the site distributes it (when
/// the site's own copy starts), nothing crosses the link, and no client is
/// told the content is on no DP of its own.
#[test]
fn a_prestaged_dp_takes_no_copy_across_the_link() {
    let sent = scenario(200, "2Mbps", "40ms", true, "");
    let prestaged =
        estate_of(&text_with_dp("2Mbps", ", prestaged: true").replace("count: 20,", "count: 200,"));
    let (out, records) = traced(&prestaged);
    let (base, _) = traced(&sent);
    // Created, 30 min at the site, 100 MB at the site's 200 Mbps: then
    // distributed, and on the branch DP at once.
    let at_site = CREATED_MS + 1_800_000 + 4_000;
    assert_eq!(out.content_copied_at[1], vec![Some(SimTime(at_site))]);
    assert!(
        !records
            .iter()
            .any(|r| matches!(r.event, TraceEvent::ContentCopied { .. })),
        "no copy crossed the link"
    );
    assert_eq!(link(&out).bytes, 0, "nothing crossed the link");
    assert_eq!(link(&base).bytes, 100 * MB, "sent: the copy");
    assert_eq!(out.totals.content_not_on_dp, 0);
    assert!(base.totals.content_not_on_dp > 0);
    assert_eq!(out.cohort_bytes[1].bytes_downloaded, 200 * 100 * MB);
    conserved(&out);
    // The branch's clients start downloading sooner.
    let first = |records: &[TraceRecord]| {
        times(records, 100, |e| {
            matches!(e, TraceEvent::DownloadStart { .. })
        })
        .into_iter()
        .min()
        .expect("downloads")
    };
    let (_, base_records) = traced(&sent);
    assert!(first(&records) < first(&base_records));
}

/// `prestaged` is for a DP in a location, and excludes the settings of a
/// copy it is never sent.
#[test]
fn prestaged_settings_are_checked() {
    let at_site = common::build_error(&text(20, "2Mbps", "40ms", false, "").replace(
        r#"DistributionPoint(name: "hub")"#,
        r#"DistributionPoint(name: "hub", prestaged: true)"#,
    ));
    assert!(
        at_site.contains(
            "servers.distribution_points[0] (hub).prestaged: prestaged content is for a DP in a location"
        ),
        "{at_site}"
    );
    for extra in [
        r#", prestaged: true, pull_from: ["hub"]"#,
        r#", prestaged: true, rate_limit: PulseMode(block: "64KB", delay: "1s")"#,
    ] {
        let e = common::build_error(&text_with_dp("2Mbps", extra));
        assert!(
            e.contains(
                "servers.distribution_points[1] (branch-dp).prestaged: a DP with prestaged content is sent none"
            ),
            "{extra}: {e}"
        );
    }
}

/// The words of an SVG chart, its `<text>` elements joined by spaces (a
/// legend entry may be wrapped over several).
fn chart_words(svg: &str) -> String {
    (svg.split("<text").skip(1))
        .filter_map(|t| t.split_once('>').and_then(|(_, r)| r.split_once("</text>")))
        .map(|(words, _)| words.trim())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A link's load chart zoomed to its few busy hours still counts, in its
/// legend, the intervals of the whole run at or above the threshold.
#[test]
fn a_zoomed_link_chart_counts_every_interval_of_the_run() {
    let estate = scenario(200, "20Mbps", "0s", false, "");
    let out = common::simulate(&estate);
    let i = (out.servers.iter())
        .position(|s| s.role == ServerRole::WanLink)
        .expect("the link");
    let chart = (patchsim::output::charts(&estate, &out).into_iter())
        .find(|c| c.file_name == format!("load-{i}-branch.svg"))
        .expect("the link's chart");
    let words = chart_words(&chart.svg);
    assert!(words.contains("zoomed to where the load is"), "{words}");
    let rows: Vec<_> = out.load.iter().filter(|r| r.server == i).collect();
    let ms = estate.sample_interval.as_ms();
    let bps = 20_000_000.0;
    let busy = (rows.iter())
        .filter(|r| r.bytes as f64 * 8.0 * 1000.0 / (ms as f64 * bps) >= 0.8)
        .count();
    assert!(busy > 0, "the link is busy a while");
    let said = format!(
        "{busy} of {} intervals at or above the threshold",
        rows.len()
    );
    assert!(words.contains(&said), "{said}: {words}");
}

/// report.html writes each location's times to compliant as the printed
/// summary writes durations, the hours in the cell's tooltip.
#[test]
fn the_report_writes_location_times_as_durations() {
    let estate = scenario(40, "20Mbps", "0s", false, "");
    let out = common::simulate(&estate);
    let s = patchsim::output::summary(&estate, &out);
    let html = patchsim::output::report_html(&estate, &s, &[], "");
    let part = &s.locations[1].deployments[0];
    let (r, t) = (
        part.hours_to_pct_reported.pct_95.expect("reported 95 %"),
        part.hours_to_pct_true.pct_95.expect("true 95 %"),
    );
    let words = patchsim::output::format_duration;
    let cell = format!(
        "<td class=\"num\" title=\"{r} h ({t} h)\">{} ({})</td>",
        words(r),
        words(t)
    );
    assert!(html.contains(&cell), "{cell}");
}

/// docs/outputs.md's paragraph on a WAN link's rows of `load.csv` names
/// every measure a link has there.
#[test]
fn the_docs_list_every_measure_of_a_link() {
    let estate = scenario(20, "20Mbps", "0s", false, "");
    let out = common::simulate(&estate);
    let csv = patchsim::output::load_csv(&estate, &out);
    let header: Vec<&str> = csv.lines().next().expect("a header").split(',').collect();
    let at = |name: &str| header.iter().position(|&c| c == name).expect(name);
    let (role, measure) = (at("role"), at("measure"));
    let measures: std::collections::BTreeSet<String> = (csv.lines().skip(1))
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| f[role] == "wan_link")
        .map(|f| f[measure].to_string())
        .collect();
    assert!(measures.contains("down"), "{measures:?}");
    let docs = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/outputs.md"),
    )
    .expect("docs/outputs.md");
    let paragraph = (docs.split("\n\n"))
        .find(|p| p.starts_with("A WAN link's rows:"))
        .expect("the WAN link paragraph");
    for m in &measures {
        assert!(paragraph.contains(&format!("`{m}`")), "`{m}` missing");
    }
}

/// A WAN link has no connection limit: `summary.json` gives its
/// `capacity` as null, not as a limit of 0 (the report says "no limit").
#[test]
fn a_link_has_no_capacity_in_the_summary() {
    let estate = scenario(20, "20Mbps", "0s", false, "");
    let out = common::simulate(&estate);
    let summary = patchsim::output::summary(&estate, &out);
    for s in &summary.servers {
        if s.role == ServerRole::WanLink {
            assert_eq!(s.capacity, None, "{}", s.name);
        } else {
            assert!(s.capacity.is_some_and(|n| n > 0), "{}", s.name);
        }
    }
    let json = patchsim::output::summary_json(&estate, &out);
    assert!(
        json.contains("\"role\": \"wan_link\",\n      \"capacity\": null"),
        "{json}"
    );
}

/// The deployment's creation a day after [`CREATED_MS`], 10:00 on day 2.
const SECOND_MS: u64 = CREATED_MS + 24 * 3_600_000;

/// Two rings behind one 2 Mbps link, both on the branch's own DP: a
/// pilot of 5 clients and 100 users, with 100 MB of `KB1` (and `KB2`,
/// 50 MB, where a deployment lists it). `deployments` are the
/// scenario's.
fn rings(deployments: &str) -> Estate {
    Scenario::new("rings")
        .seed(3)
        .duration("4d")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dps(r#"DistributionPoint(name: "hub"), DistributionPoint(name: "branch-dp", location: "branch")"#)
        .body(&format!(
            r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "2Mbps", latency: "40ms"))],
    cohorts: [
        Cohort(name: "site", count: 10, management_point: "mp", update_point: "sup", distribution_point: "hub"),
        Cohort(name: "pilot", count: 5, management_point: "mp", update_point: "sup", distribution_point: "branch-dp", location: "branch"),
        Cohort(name: "users", count: 100, management_point: "mp", update_point: "sup", distribution_point: "branch-dp", location: "branch"),
    ],
    updates: [
        Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
        Update(id: "KB2", size: "50MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z"),
    ],
    deployments: [{deployments}],"#
        ))
        .estate()
}

/// The first of the users (after 10 site and 5 pilot clients).
const FIRST_USER: u32 = 15;

/// The times of the copies that reached a DP, by deployment.
fn copied(records: &[TraceRecord]) -> Vec<(u16, u64)> {
    (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::ContentCopied { deployment, .. } => Some((deployment.0, r.time.as_ms())),
            _ => None,
        })
        .collect()
}

/// When each deployment entered the site's policy.
fn ready(records: &[TraceRecord]) -> Vec<(u16, u64)> {
    (records.iter())
        .filter_map(|r| match r.event {
            TraceEvent::ContentReady { deployment } => Some((deployment.0, r.time.as_ms())),
            _ => None,
        })
        .collect()
}

/// The same update deployed twice, to a pilot and a day later to the
/// users of the same branch DP: content lives on a DP per update, not per
/// deployment, so the second deployment needs no copy. The link carries
/// 100 MB once, not twice; the second deployment's content is on the DP
/// (and in policy) at its creation, not 30 min, the fetch and the 400 s
/// copy later; and no user is told the content is not on its DP.
#[test]
fn a_second_deployment_of_the_same_update_takes_no_copy() {
    let estate = rings(
        r#"Deployment(name: "pilot", updates: ["KB1"], targets: ["pilot"], created: "2026-11-10T10:00:00Z"),
           Deployment(name: "broad", updates: ["KB1"], targets: ["users"], created: "2026-11-11T10:00:00Z")"#,
    );
    let (out, records) = traced(&estate);
    let at_site = CREATED_MS + 1_800_000 + 4_000;
    let arrived = at_site + 40 + 400_000;
    assert_eq!(
        copied(&records),
        vec![(0, arrived)],
        "one copy, the pilot's"
    );
    assert_eq!(link(&out).bytes, 100 * MB, "the link carries it once");
    assert_eq!(ready(&records), vec![(0, at_site), (1, SECOND_MS)]);
    assert_eq!(
        out.content_copied_at[1],
        vec![Some(SimTime(arrived)), Some(SimTime(SECOND_MS))]
    );
    let not_on_dp = times(&records, FIRST_USER, |e| {
        matches!(e, TraceEvent::ContentNotOnDp { .. })
    });
    assert_eq!(
        not_on_dp,
        Vec::<u64>::new(),
        "the users find it on their DP"
    );
    let starts = times(&records, FIRST_USER, |e| {
        matches!(e, TraceEvent::DownloadStart { .. })
    });
    assert_eq!(starts.len(), 100);
    assert!(starts.iter().all(|&t| t >= SECOND_MS));
    assert_eq!(out.cohort_bytes[2].bytes_downloaded, 100 * 100 * MB);
    conserved(&out);
}

/// A deployment that adds an update to one already on the DP copies the
/// new update's bytes only: 50 MB (200 s at 2 Mbps) after the site
/// fetched it (30 min and 2 s at 200 Mbps), and the link carries 150 MB
/// in all, not 250.
#[test]
fn a_deployment_copies_only_the_updates_its_dp_lacks() {
    let estate = rings(
        r#"Deployment(name: "pilot", updates: ["KB1"], targets: ["pilot"], created: "2026-11-10T10:00:00Z"),
           Deployment(name: "broad", updates: ["KB1", "KB2"], targets: ["users"], created: "2026-11-11T10:00:00Z")"#,
    );
    let (out, records) = traced(&estate);
    let at_site = CREATED_MS + 1_800_000 + 4_000;
    let second_at_site = SECOND_MS + 1_800_000 + 2_000;
    assert_eq!(
        copied(&records),
        vec![
            (0, at_site + 40 + 400_000),
            (1, second_at_site + 40 + 200_000)
        ]
    );
    assert_eq!(ready(&records), vec![(0, at_site), (1, second_at_site)]);
    assert_eq!(link(&out).bytes, 150 * MB);
    conserved(&out);
}

/// A phased deployment's phases deploy the same updates, distributed
/// from the first phase's creation: one copy crosses the link, not one
/// per phase, so the pilot's content arrives after its own 400 s copy
/// (not 800 s, sharing the link with the next phase's), and the next
/// phase's users find the content on their DP when it begins.
#[test]
fn phases_share_one_copy() {
    let estate = rings(
        r#"Deployment(name: "pilot", updates: ["KB1"], targets: ["pilot"], created: "2026-11-10T10:00:00Z",
               phases: [Phase(name: "broad", targets: ["users"], begin: Manual("2026-11-11T10:00:00Z"))])"#,
    );
    let (out, records) = traced(&estate);
    let arrived = CREATED_MS + 1_800_000 + 4_000 + 40 + 400_000;
    assert_eq!(copied(&records), vec![(0, arrived), (1, arrived)]);
    assert_eq!(link(&out).bytes, 100 * MB, "one copy for both phases");
    let not_on_dp = times(&records, FIRST_USER, |e| {
        matches!(e, TraceEvent::ContentNotOnDp { .. })
    });
    assert_eq!(not_on_dp, Vec::<u64>::new());
    conserved(&out);
}

/// At the site too, content is kept per update: a second deployment of
/// an update the site server fetched and copied to its DP the day before
/// enters policy at its creation, not after the site's 30 min, the fetch
/// (4 s at 200 Mbps) and the copy to the DP (0.8 s at 1 Gbps).
#[test]
fn a_second_deployment_of_fetched_updates_enters_policy_at_once() {
    let estate = rings(
        r#"Deployment(name: "first", updates: ["KB1"], targets: ["site"], created: "2026-11-10T10:00:00Z"),
           Deployment(name: "second", updates: ["KB1"], targets: ["site"], created: "2026-11-11T10:00:00Z")"#,
    );
    let (out, records) = traced(&estate);
    let first = CREATED_MS + 1_800_000 + 4_000 + 800;
    assert_eq!(ready(&records), vec![(0, first), (1, SECOND_MS)]);
    assert_eq!(link(&out).bytes, 0, "no branch DP is targeted");
    conserved(&out);
}

/// A branch without a DP behind a 10 Mbps link: a pilot cohort of 5
/// always-on peer cache clients with a Required deployment of one 100 MB
/// update at 10:00 on day 1, and 60 business-hours users, whose
/// `content_sources` are `users`, with one of the same update two days
/// later.
fn pilot_and_users(users: &str) -> Outcome {
    let estate = Scenario::new("peerpilot")
        .seed(3)
        .duration("8d")
        .sample_interval("15m")
        .sync(r#"manual: ["2026-11-10T09:00:00Z"]"#)
        .dps(r#"DistributionPoint(name: "hub")"#)
        .body(&format!(
            r#"locations: [Location(name: "branch", wan_link: WanLink(bandwidth: "10Mbps", latency: "100ms"))],
    cohorts: [
        Cohort(name: "pilot", count: 5, power: AlwaysOn, management_point: "mp", update_point: "sup", distribution_point: "hub",
               location: "branch", content_sources: ContentSources(peer_cache: 1.0)),
        Cohort(name: "users", count: 60, power: BusinessHours(start: "08:00", end: "17:30", jitter: "45m"),
               management_point: "mp", update_point: "sup", distribution_point: "hub",
               location: "branch", content_sources: ContentSources({users})),
    ],
    updates: [Update(id: "KB1", size: "100MB", install_time: Fixed("10m"), release: "2026-11-10T08:00:00Z")],
    deployments: [
        Deployment(name: "pilot", updates: ["KB1"], targets: ["pilot"], created: "2026-11-10T10:00:00Z", deadline: "2026-11-10T10:00:00Z"),
        Deployment(name: "broad", updates: ["KB1"], targets: ["users"], created: "2026-11-12T10:00:00Z", deadline: "2026-11-14T10:00:00Z"),
    ],"#
        ))
        .estate();
    common::checked(&estate)
}

/// Bytes by source add up, per cohort and in all, and the DP served the
/// DP's.
fn sources_conserved(out: &Outcome) {
    let t = &out.totals;
    common::assert_dp_bytes_conserved(out);
    let cohorts: u64 = out.cohort_bytes.iter().map(|k| k.bytes_downloaded).sum();
    assert_eq!(cohorts, t.bytes_downloaded);
    assert_eq!(
        t.bytes_downloaded,
        t.bytes_from_dp + t.bytes_from_peer_cache + t.bytes_from_delivery_optimization
    );
}

/// Peer cache sources serve their boundary group, and a location is one:
/// a pilot cohort of 5 always-on peer cache clients in the branch gets
/// the update two days before the 60 users of another cohort of the same
/// branch, and every user downloads it from a pilot client (or a user
/// that got it from one), none from the site's DP across the link. The
/// link carries the pilot's downloads from the DP and nothing else (the
/// first pilot client's 100 MB, and those of any other that found no
/// source yet); where peer cache stopped at the cohort, the users' first
/// download had no source but the DP.
#[test]
fn a_pilot_cohort_seeds_peer_cache_for_its_location() {
    let out = pilot_and_users("peer_cache: 1.0");
    let (pilot, users) = (&out.cohort_bytes[0], &out.cohort_bytes[1]);
    assert_eq!(
        pilot.bytes_downloaded,
        5 * 100 * MB,
        "the pilot seeds the branch"
    );
    // The first pilot client's download crosses the link; the others may
    // find it as a source.
    assert!((100 * MB..=5 * 100 * MB).contains(&pilot.bytes_from_dp));
    assert_eq!(users.bytes_downloaded, 60 * 100 * MB, "every user");
    assert_eq!(
        (users.bytes_from_peer_cache, users.bytes_from_dp),
        (60 * 100 * MB, 0),
        "the users' bytes all come from peers of their location"
    );
    assert_eq!(
        link(&out).bytes,
        pilot.bytes_from_dp,
        "only the pilot's DP bytes cross the link"
    );
    assert_eq!(out.totals.bytes_from_dp, pilot.bytes_from_dp);
    sources_conserved(&out);
}

/// The Delivery Optimization group is the boundary group too: users with
/// `delivery_optimization: 0.5` get half of every download from peers
/// once the pilot of their location holds the content, their very first
/// download included (where the group stopped at the cohort, it came all
/// from the DP), and the link carries the other half.
#[test]
fn a_pilot_cohort_seeds_delivery_optimization_for_its_location() {
    let out = pilot_and_users("delivery_optimization: 0.5");
    let (pilot, users) = (&out.cohort_bytes[0], &out.cohort_bytes[1]);
    assert_eq!(users.bytes_downloaded, 60 * 100 * MB, "every user");
    assert_eq!(
        (users.bytes_from_delivery_optimization, users.bytes_from_dp),
        (60 * 50 * MB, 60 * 50 * MB),
        "half of each user's download from peers of the location"
    );
    assert_eq!(link(&out).bytes, pilot.bytes_from_dp + 60 * 50 * MB);
    sources_conserved(&out);
}

/// The time a link is busy is the time its bandwidth in use was at or
/// above the threshold, to the millisecond, whatever the sample interval:
/// the one 700 MB copy to the branch DP fills the 2 Mbps link for
/// 700 MB × 8 ÷ 2 Mbps = 2,800 s (46m 40s) and nothing else crosses it.
/// Averaged over hour-long samples it never reached 80 %; over 5-minute
/// ones, 45 minutes did.
#[test]
fn a_link_is_busy_for_exactly_the_time_it_is_full() {
    for interval in ["1h", "5m"] {
        let text = text(20, "2Mbps", "40ms", true, "")
            .replace(
                r#"sample_interval: "15m""#,
                &format!(r#"sample_interval: "{interval}""#),
            )
            .replace(r#"size: "100MB""#, r#"size: "700MB""#);
        let estate = estate_of(&text);
        let out = common::checked(&estate);
        assert_eq!(link(&out).bytes, 700 * MB, "the copy and nothing else");
        assert_eq!(link(&out).busy.at_or_above(0.8), 2_800_000, "{interval}");
        assert_eq!(link(&out).busy.at_or_above(1.0), 2_800_000, "{interval}");
        assert_eq!(link(&out).busy.total(), 6 * 24 * 3_600_000, "{interval}");
        let s = patchsim::output::summary(&estate, &out);
        let w = s.locations[1].wan_link.as_ref().expect("the branch's link");
        assert_eq!(
            (w.hours_busy * 3_600_000.0).round(),
            2_800_000.0,
            "{interval}"
        );
        assert_eq!(w.peak_utilization_pct, 100.0, "{interval}");
        let report = patchsim::output::summary_text(&s, &[]);
        assert!(
            report.contains("WAN links ≥ 80 % busy: branch 2 Mbps 46m 40s (peak 100 %)"),
            "{interval}: {report}"
        );
    }
}

/// Transfers across a link end when max-min fair sharing of the link says,
/// however long its latency: a replay that starts each download one round
/// trip after it is asked for and splits the link equally among those
/// sending (the clients' own links never bind here) finds every end to
/// within a few milliseconds of integer rounding. A transfer that was to
/// end while another waited out its round trip once ended only when the
/// other began, seconds late.
#[test]
fn transfers_end_when_fair_sharing_says_whatever_the_latency() {
    const LINK_BPS: f64 = 20e6;
    for latency in ["500ms", "10s"] {
        let latency_ms: u64 = if latency == "10s" { 10_000 } else { 500 };
        let (out, records) = traced(&scenario(60, "20Mbps", latency, false, ""));
        conserved(&out);
        // (begins sending, bits, client), and each client's end.
        let mut asks: Vec<(f64, f64, u32)> = Vec::new();
        let mut ends = std::collections::BTreeMap::new();
        for r in &records {
            let Some(c) = r.client.filter(|c| c.0 >= 100) else {
                continue;
            };
            match r.event {
                TraceEvent::DownloadStart { bytes, .. } => asks.push((
                    (r.time.as_ms() + latency_ms) as f64 / 1e3,
                    bytes as f64 * 8.0,
                    c.0,
                )),
                TraceEvent::DownloadDone { .. } => {
                    ends.insert(c.0, r.time.as_ms() as f64 / 1e3);
                }
                _ => {}
            }
        }
        assert_eq!(asks.len(), 60, "one download each, none failed");
        asks.sort_by(|a, b| a.0.total_cmp(&b.0));
        // The replay: equal shares between starts and ends.
        let (mut now, mut next, mut sending) = (0.0, 0, Vec::<(f64, u32)>::new());
        let mut replayed = std::collections::BTreeMap::new();
        while next < asks.len() || !sending.is_empty() {
            let rate = LINK_BPS / sending.len().max(1) as f64;
            let first_end = (sending.iter())
                .map(|&(left, _)| now + left / rate)
                .fold(f64::INFINITY, f64::min);
            let start = asks.get(next).map_or(f64::INFINITY, |a| a.0);
            let to = first_end.min(start);
            for f in &mut sending {
                f.0 -= rate * (to - now);
            }
            now = to;
            sending.retain(|&(left, c)| {
                let done = left <= 1e-6 * rate;
                if done {
                    replayed.insert(c, now);
                }
                !done
            });
            while asks.get(next).is_some_and(|a| a.0 <= now) {
                sending.push((asks[next].1, asks[next].2));
                next += 1;
            }
        }
        let mut late = Vec::new();
        for (c, end) in &ends {
            let want = replayed[c];
            if (end - want).abs() > 0.01 {
                late.push((c, want, end));
            }
        }
        assert!(
            late.is_empty(),
            "latency {latency}: (client, replay s, patchsim s) {late:?}"
        );
    }
}

/// `explain` quotes the load timeline at a download's start: the link's
/// transfers and the DP's queue are those of a sample, which may be the
/// next one, after the event. The story names which sample the figure is
/// for, and the interval the bandwidth share covers, so that a line at
/// 10:07 does not read as if the link carried that many at 10:07.
#[test]
fn explain_says_which_sample_a_load_figure_is_for() {
    let stories = |dp_in_branch: bool| {
        let estate = scenario(50, "20Mbps", "0s", dp_in_branch, "");
        let (site, branch) = (0, 100);
        [site, branch].map(|c| patchsim::app::explain(&estate, c, false).expect("explains"))
    };
    let [site, branch] = stories(false);
    let line = (branch.lines())
        .find(|l| l.contains("the WAN link of branch carries"))
        .unwrap_or_else(|| panic!("a download across the link in\n{branch}"));
    assert!(
        line.contains(": at the next sample (") || line.contains(": at this sample ("),
        "{line}"
    );
    assert!(!line.contains("transfers at "), "{line}");
    assert!(
        line.contains(" it used ") && line.contains("% of its bandwidth"),
        "{line}"
    );
    let line = (site.lines())
        .find(|l| l.contains("downloads waiting for a connection"))
        .unwrap_or_else(|| panic!("a download from the hub in\n{site}"));
    assert!(
        line.contains(": at the next sample (") || line.contains(": at this sample ("),
        "{line}"
    );
    assert!(!line.contains(" in progress at "), "{line}");
}

/// [`text`] with the hub's `bandwidth` and `max_connections` given.
fn with_hub(n: u32, link: &str, hub: &str, connections: u32) -> Estate {
    let text = text(n, link, "0s", false, "").replace(
        r#"DistributionPoint(name: "hub")"#,
        &format!(
            r#"DistributionPoint(name: "hub", bandwidth: "{hub}", max_connections: {connections})"#
        ),
    );
    estate_of(&text)
}

/// A DP slower than the WAN link its branch downloads cross binds them:
/// a download across a link takes a share of its DP's bandwidth as its
/// bytes go, so no 15-minute row of the 20 Mbps hub carries more than
/// 20 Mbps × 900 s, though the branch's link is 100 Mbps; the branch's
/// 200 × 100 MB and the site's 100 × 100 MB all come from the hub, so
/// they take at least 300 × 100 MB × 8 ÷ 20 Mbps = 12,000 s from the
/// first request to the last byte.
#[test]
fn a_slow_dp_binds_the_downloads_across_a_link() {
    let (out, records) = traced(&with_hub(200, "100Mbps", "20Mbps", 500));
    let hub = out.servers.iter().position(|s| s.name == "hub");
    let rows: Vec<_> = (out.load.iter())
        .filter(|r| Some(r.server) == hub)
        .collect();
    assert!(rows.iter().any(|r| r.bytes > 0));
    for row in rows {
        assert!(row.bytes * 8 <= 20_000_000 * 900, "{row:?}");
    }
    let branch = out
        .servers
        .iter()
        .position(|s| s.role == ServerRole::WanLink);
    for row in out.load.iter().filter(|r| Some(r.server) == branch) {
        assert!(
            row.bytes * 8 <= 20_000_000 * 900,
            "a fifth of the link: {row:?}"
        );
    }
    let hub = &out.servers[hub.expect("the hub")];
    assert!(hub.peak_bps <= 20_000_000, "{} bps", hub.peak_bps);
    assert_eq!(hub.bytes, 300 * 100 * MB, "the hub served both cohorts");
    conserved(&out);
    let requests = times(&records, 0, |e| {
        matches!(e, TraceEvent::DownloadStart { .. })
    });
    let done = times(&records, 0, |e| {
        matches!(e, TraceEvent::DownloadDone { .. })
    });
    assert_eq!((requests.len(), done.len()), (300, 300));
    let span = done.iter().max().expect("done") - requests.iter().min().expect("asked");
    let floor = 300 * 100 * MB * 8 * 1_000 / 20_000_000;
    assert!(span >= floor, "{span} ms, the hub needs {floor}");
    assert!(span <= floor + 3_600_000 + 600_000, "{span} ms");
}

/// A download across a link takes one of its DP's connections: with 10
/// on a 20 Mbps hub, the hub never has more than 10 downloads in
/// progress, its own and the branch's together, so the branch's link
/// never carries more than 10; the others wait for one in turn. (The
/// branch's 10 Mbps link makes its downloads pile up: without the
/// connection they once carried 195 at a time.)
#[test]
fn a_download_across_a_link_holds_a_connection_of_its_dp() {
    let out = common::checked(&with_hub(200, "10Mbps", "20Mbps", 10));
    let hub = out.servers.iter().position(|s| s.name == "hub");
    let record = &out.servers[hub.expect("the hub")];
    assert_eq!(record.peak_busy, 10);
    assert!(record.peak_queue > 0, "downloads waited for a connection");
    assert_eq!(record.bytes, 300 * 100 * MB);
    for row in out.load.iter().filter(|r| Some(r.server) == hub) {
        assert!(row.busy <= 10 && row.most_busy <= 10, "{row:?}");
    }
    assert!(link(&out).peak_busy <= 10, "the branch's share of them");
    conserved(&out);
}

/// The printed summary gives each location's 95 % and each branch DP's
/// copy for a deployment the run made, and nothing per location for one
/// it did not (a shortened run; its own line says it was not created).
#[test]
fn the_summary_gives_locations_only_for_deployments_made() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let scenario = root.join("scenarios/branch-offices.ron");
    let run = |set: &[&str], out: &str| {
        let mut args = vec!["run", scenario.to_str().unwrap(), "-o", out];
        args.extend_from_slice(set);
        let o = common::patchsim(&args, dir.path());
        common::assert_ok(&o);
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let whole = run(&[], "whole");
    assert!(
        whole.contains(
            "content on the branch DPs, 2026-11 patch tuesday, after creation: leeds 32m 26s, york 1h 19m\n"
        ),
        "{whole}"
    );
    assert!(
        whole.contains(
            "locations 95 % compliant (reported), 2026-11 patch tuesday: every location after"
        ),
        "{whole}"
    );
    // Of 60 branches, the worst few, and every line short enough to read.
    let many = root.join("scenarios/many-branches.ron");
    let o = common::patchsim(&["run", many.to_str().unwrap(), "-o", "many"], dir.path());
    common::assert_ok(&o);
    let many = String::from_utf8_lossy(&o.stdout);
    for expected in [
        "WAN links ≥ 80 % busy (the 6 busiest of 60): branch-01 5 Mbps 17m 20s (peak 100 %), ",
        "every location after 1d 07h; the 6 slowest of 61: ",
        "content on the branch DPs, 2026-11 patch tuesday, after creation (the 6 latest of 60): \
         branch-46 1h 39m, ",
    ] {
        assert!(many.contains(expected), "{expected}\n{many}");
    }
    assert!(many.lines().all(|l| l.chars().count() <= 300), "{many}");
    // The slowest six are those of summary.json, slowest first ("never"
    // the slowest of all), ties in the scenario's order.
    let summary: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("many/summary.json")).unwrap(),
    )
    .unwrap();
    let mut times: Vec<(String, Option<f64>)> = (summary["locations"].as_array().unwrap())
        .iter()
        .map(|l| {
            let h = l["deployments"][0]["hours_to_pct_reported"]["pct_95"].as_f64();
            (l["name"].as_str().unwrap().to_string(), h)
        })
        .collect();
    assert!(
        times.iter().any(|t| t.1 != times[0].1),
        "distinct times to rank"
    );
    times.sort_by(|a, b| {
        let late = |h: Option<f64>| h.unwrap_or(f64::INFINITY);
        late(b.1).total_cmp(&late(a.1))
    });
    let slowest: Vec<String> = (times.iter().take(6))
        .map(|(name, h)| format!("{name} {}", patchsim::output::format_duration(h.unwrap())))
        .collect();
    assert!(
        many.contains(&format!("the 6 slowest of 61: {}\n", slowest.join(", "))),
        "{slowest:?}\n{many}"
    );
    let short = run(&["--set", "duration=1d"], "short");
    assert!(
        short.contains("2026-11 patch tuesday (required, 5,100 clients): not created by the end"),
        "{short}"
    );
    assert!(
        !short.contains("content on the branch DPs") && !short.contains("locations 95 %"),
        "{short}"
    );
}
