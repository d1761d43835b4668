//! The human summary printed after a run: about twenty lines a planner
//! reads at a glance.
//!
//! Owns the text layout only (the table through `comfy-table`); the
//! numbers come from [`Summary`], the same as `summary.json`'s. Per-cohort
//! and per-server detail is in `report.html`, not here.

use std::fmt::Write;
use std::path::PathBuf;

use comfy_table::{CellAlignment, Table};

use super::json::{Percentiles, ServerSummary, Summary};
use super::load_charts::thousands;
use crate::model::{PhaseReason, ServerRole, Totals};

/// What the scans were for: the line that says what drives the SUPs'
/// scan load.
fn scans_line(t: &Totals) -> String {
    let c = &t.scans_by_cause;
    format!(
        "scans: {} finished (evaluation {}, re-evaluation {}, schedule {}, before enforcing {}; offline after installs and restarts {}); {} answered from current results",
        thousands(t.scans),
        thousands(c.evaluation),
        thousands(c.reevaluation),
        thousands(c.schedule),
        thousands(c.enforcement),
        thousands(c.verification),
        thousands(t.scans_reused)
    )
}

/// `1 replication`, `2 replications`: `n` and `word`, with an `s` unless
/// `n` is 1.
pub fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// `2d 04h`, `3h 20m`, `45m`, `12s`, `0.4s` from hours (tenths of a second
/// under ten seconds, so that a short wait never reads as none).
pub fn format_duration(hours: f64) -> String {
    let exact = hours * 3600.0;
    // Under ten seconds, tenths: a p95 wait of 0.357 s is not "0s".
    if exact > 0.0 && exact < 9.95 {
        return if exact < 0.05 {
            "<0.1s".to_string()
        } else {
            format!("{exact:.1}s")
        };
    }
    let (d, h, m, s) = days_hours_minutes_seconds(exact.round() as u64);
    if d > 0 {
        format!("{d}d {h:02}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// Whole seconds as days, hours, minutes and seconds.
fn days_hours_minutes_seconds(secs: u64) -> (u64, u64, u64, u64) {
    (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    )
}

/// [`format_duration`], but to the second, rounded up, wherever that cuts
/// something off: `3h 39m 36s`, `2d 15h 04m 12s`, 4 h and 0.4 s
/// `4h 00m 01s`; `3d 00h` and `4h 00m` stay. For a value read against an
/// upper bound (a sizing goal's worst), which it must not seem to meet
/// when it misses it, by however little.
pub fn format_duration_exact(hours: f64) -> String {
    let exact = hours * 3600.0;
    let ms = (hours * 3_600_000.0).round() as u64;
    let secs = ms.div_ceil(1000);
    let cut = if secs >= 86_400 {
        secs % 3600
    } else {
        secs % 60
    };
    if exact < 10.0 || (secs >= 3600 && cut == 0) {
        return format_duration(hours);
    }
    if secs < 3600 {
        // Under an hour the short form shows seconds too: only round up.
        return format_duration(secs as f64 / 3600.0);
    }
    let (d, h, m, s) = days_hours_minutes_seconds(secs);
    if d > 0 {
        format!("{d}d {h:02}h {m:02}m {s:02}s")
    } else {
        format!("{h}h {m:02}m {s:02}s")
    }
}

/// A share in percent to one decimal, `99.9%`. Shown as 100.0 % only when
/// it is all and as 0.0 % only when it is none: 99.95 % (a client of 4,000
/// still missing) is `99.9%`, 0.02 % is `0.1%`.
pub(super) fn percent(pct: f64) -> String {
    let text = format!("{pct:.1}");
    if text == "100.0" && pct < 100.0 {
        "99.9%".to_string()
    } else if text == "0.0" && pct > 0.0 {
        "0.1%".to_string()
    } else {
        text + "%"
    }
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), format_duration)
}

/// `+2d 04h` after, `−3h 10m` before.
pub(super) fn signed(v: Option<f64>) -> String {
    match v {
        None => "—".to_string(),
        Some(h) if h < 0.0 => format!("−{}", format_duration(-h)),
        Some(h) => format!("+{}", format_duration(h)),
    }
}

fn percentiles(p: &Percentiles, unit: impl Fn(f64) -> String) -> String {
    match (p.p50, p.p95, p.max) {
        (Some(a), Some(b), Some(d)) => {
            format!("p50 {}, p95 {}, max {}", unit(a), unit(b), unit(d))
        }
        _ => "none recorded".to_string(),
    }
}

/// A local wall-clock instant, hours after the run's start.
fn local(s: &Summary, hours: f64) -> String {
    let Ok(start) = chrono::DateTime::parse_from_rfc3339(&s.start) else {
        return format!("hour {hours:.2}");
    };
    (start + chrono::Duration::milliseconds((hours * 3_600_000.0).round() as i64))
        .format("%a %-d %b %H:%M")
        .to_string()
}

/// How much harm a server did to the run, from its requests rejected,
/// hours busy and p95 queue wait in seconds: ranked in that order, the
/// hours and seconds to the nearest thousandth.
pub fn harm(rejected: u64, hours_busy: f64, p95_wait_s: f64) -> (u64, u64, u64) {
    (
        rejected,
        (hours_busy * 1000.0).round() as u64,
        (p95_wait_s * 1000.0).round() as u64,
    )
}

/// The servers of `servers` that did any [`harm`], the worst first (among
/// equals, the first by name): `of` gives a server's name and harm. The
/// one ranking of the printed summary and of `patchsim diff`.
pub fn worst_first<'a, T>(
    servers: impl IntoIterator<Item = &'a T>,
    of: impl Fn(&T) -> (&str, (u64, u64, u64)),
) -> Vec<&'a T> {
    let mut hurt: Vec<&T> = (servers.into_iter())
        .filter(|x| of(x).1 != (0, 0, 0))
        .collect();
    hurt.sort_by(|a, b| {
        let ((name_a, harm_a), (name_b, harm_b)) = (of(a), of(b));
        harm_b.cmp(&harm_a).then_with(|| name_a.cmp(name_b))
    });
    hurt
}

/// A server's [`harm`].
fn harm_of(x: &ServerSummary) -> (u64, u64, u64) {
    harm(x.rejected, x.hours_busy, x.queue_wait_s.p95.unwrap_or(0.0))
}

/// A p95 queue wait from which a server other than the bottleneck is
/// named too, in seconds.
const LONG_WAIT_S: f64 = 3600.0;

/// The servers that harmed the run, the worst first: any that rejected
/// requests, were busy above the threshold or made requests wait.
pub fn bottlenecks(s: &Summary) -> Vec<&ServerSummary> {
    worst_first(&s.servers, |x| (x.name.as_str(), harm_of(x)))
}

/// One line on a server's harm: rejects, time busy, p95 wait.
fn harm_words(s: &Summary, x: &ServerSummary) -> String {
    let (role, _) = super::load_charts::role_words(x.role);
    let mut parts = Vec::new();
    if x.rejected > 0 {
        parts.push(format!(
            "rejected {} of {} requests ({:.0} %)",
            thousands(x.rejected),
            thousands(x.arrived),
            x.rejected as f64 * 100.0 / x.arrived.max(1) as f64
        ));
    }
    if x.hours_busy > 0.0 {
        parts.push(format!(
            "≥ {:.0} % busy for {}",
            s.busy_threshold_pct,
            format_duration(x.hours_busy)
        ));
    }
    if let Some(w) = x.queue_wait_s.p95.filter(|&w| w > 0.0) {
        parts.push(format!("p95 queue wait {}", format_duration(w / 3600.0)));
    }
    format!("{} ({role}): {}", x.name, parts.join(", "))
}

/// The scenario's faults, the first few: which server, down or how much
/// slower, from when to when (local time; the end's date only if it
/// differs).
fn fault_line(s: &Summary, out: &mut String) {
    const SHOWN: usize = 4;
    if s.faults.is_empty() {
        return;
    }
    let mut parts: Vec<String> = (s.faults.iter().take(SHOWN))
        .map(|f| {
            let (role, _) = super::load_charts::role_words(f.role);
            let what = match f.slowdown {
                None => "down".to_string(),
                Some(k) => format!("{k}× slower"),
            };
            let (from, to) = (local(s, f.start_h), local(s, f.end_h));
            let to = match (from.rsplit_once(' '), to.rsplit_once(' ')) {
                (Some((day, _)), Some((end_day, time))) if day == end_day => time.to_string(),
                _ => to,
            };
            let past = after_the_end(s, f.start_h);
            format!("{} ({role}) {what} {from} – {to}{past}", f.server)
        })
        .collect();
    if s.faults.len() > SHOWN {
        parts.push(format!("and {} more", s.faults.len() - SHOWN));
    }
    let _ = writeln!(out, "faults: {}", parts.join("; "));
}

/// Whether an instant the scenario sets (hours from the start) lies past
/// the end of the run. An instant at the very end still happens: the run
/// handles the events at its last instant.
pub(super) fn past_the_end(s: &Summary, h: f64) -> bool {
    h > s.duration_h
}

/// What follows such an instant when it is [`past_the_end`].
pub(super) fn after_the_end(s: &Summary, h: f64) -> &'static str {
    if past_the_end(s, h) {
        " (after the end of the run)"
    } else {
        ""
    }
}

/// Locations and links a line of the printed summary names at most; an
/// estate of more shows its worst, and the rest are in `summary.json`
/// and `report.html`.
const LOCATIONS_SHOWN: usize = 6;

/// A list for one line of the printed summary: every part in the
/// scenario's order when all fit; or else the `LOCATIONS_SHOWN` with the
/// largest keys, largest first, and a note saying so (`worst`:
/// "busiest", "slowest").
fn worst_parts(mut parts: Vec<((f64, f64), String)>, worst: &str) -> (Option<String>, String) {
    let all = parts.len();
    let note = (all > LOCATIONS_SHOWN).then(|| {
        parts.sort_by(|(a, _), (b, _)| b.0.total_cmp(&a.0).then(b.1.total_cmp(&a.1)));
        parts.truncate(LOCATIONS_SHOWN);
        format!("the {LOCATIONS_SHOWN} {worst} of {all}")
    });
    let list = parts.into_iter().map(|(_, text)| text).collect::<Vec<_>>();
    (note, list.join(", "))
}

/// A note from [`worst_parts`] in parentheses, after a space.
fn in_parentheses(note: Option<String>) -> String {
    note.map_or(String::new(), |n| format!(" ({n})"))
}

/// With branch locations: each WAN link's load against the busy
/// threshold, and per deployment how long each location took to be 95 %
/// compliant as reported (the phased deployments' default success
/// criterion), the last location's time first; of many, the worst.
fn location_lines(s: &Summary, out: &mut String) {
    if s.locations.is_empty() {
        return;
    }
    // "Never" ranks as the slowest.
    let late = |h: Option<f64>| h.unwrap_or(f64::INFINITY);
    let links = (s.locations.iter())
        .filter_map(|l| l.wan_link.as_ref().map(|w| (l, w)))
        .map(|(l, w)| {
            let busy = if w.hours_busy > 0.0 {
                format_duration(w.hours_busy)
            } else {
                "never".to_string()
            };
            let text = format!(
                "{} {} Mbps {busy} (peak {:.0} %)",
                l.name, w.bandwidth_mbps, w.peak_utilization_pct
            );
            ((w.hours_busy, w.peak_utilization_pct), text)
        })
        .collect();
    let (note, links) = worst_parts(links, "busiest");
    let _ = writeln!(
        out,
        "WAN links ≥ {:.0} % busy{}: {links}",
        s.busy_threshold_pct,
        in_parentheses(note)
    );
    // A deployment not created in the run has nothing to say per
    // location (its own line says so).
    let shown = s.deployments.iter().take(MAX_DEPLOYMENTS_SHOWN);
    for d in shown.filter(|d| d.created_h.is_some_and(|h| !past_the_end(s, h))) {
        let times: Vec<(&str, Option<f64>)> = (s.locations.iter())
            .filter_map(|l| {
                let part = l.deployments.iter().find(|x| x.name == d.name)?;
                Some((l.name.as_str(), part.hours_to_pct_reported.pct_95))
            })
            .collect();
        if times.is_empty() {
            continue;
        }
        let every = times
            .iter()
            .map(|t| t.1)
            .try_fold(0.0f64, |a, t| t.map(|h| a.max(h)));
        let each = (times.iter())
            .map(|&(name, h)| {
                let text = format!("{name} {}", h.map_or("never".into(), format_duration));
                ((late(h), 0.0), text)
            })
            .collect();
        let (note, each) = worst_parts(each, "slowest");
        let _ = writeln!(
            out,
            "locations 95 % compliant (reported), {}: every location {}; {}{each}",
            d.name,
            every.map_or("never".into(), |h| format!("after {}", format_duration(h))),
            note.map_or(String::new(), |n| format!("{n}: "))
        );
        let copies: Vec<_> = (s.locations.iter())
            .filter_map(|l| {
                let part = l.deployments.iter().find(|x| x.name == d.name)?;
                let at = part.hours_to_content_on_dps?;
                let text = format!("{} {}", l.name, at.map_or("never".into(), format_duration));
                Some(((late(at), 0.0), text))
            })
            .collect();
        if !copies.is_empty() {
            let (note, copies) = worst_parts(copies, "latest");
            let _ = writeln!(
                out,
                "content on the branch DPs, {}, after creation{}: {copies}",
                d.name,
                in_parentheses(note)
            );
        }
    }
    if s.totals.content_not_on_dp > 0 {
        let _ = writeln!(
            out,
            "content not yet on a branch DP: {} location requests answered with no DP (the client asks again later, or goes to Microsoft Update where the deployment allows it)",
            thousands(s.totals.content_not_on_dp)
        );
    }
    if s.totals.dp_fallbacks > 0 {
        let _ = writeln!(
            out,
            "boundary group fallback: {} downloads from a DP of the site's default boundary group, across a WAN link",
            thousands(s.totals.dp_fallbacks)
        );
    }
}

/// At most this many deployments in the printed table; the rest are in
/// `summary.json` and `report.html`.
const MAX_DEPLOYMENTS_SHOWN: usize = 4;

/// The printed summary, about 20 lines: the run, each deployment's
/// instants and milestones (from creation and from the deadline), the
/// bottleneck and every busy server, retries, state-message latency, and
/// one line for the files written (`files`).
pub fn summary_text(s: &Summary, files: &[PathBuf]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchsim {} · {} · seed {} · {} clients · {} simulated · {} events",
        s.version,
        s.scenario,
        s.seed,
        thousands(u64::from(s.clients)),
        format_duration(s.duration_h),
        thousands(s.events)
    );
    for d in s.deployments.iter().take(MAX_DEPLOYMENTS_SHOWN) {
        // A later phase of a phased deployment that never began has none
        // of these instants.
        let when = match d.created_h {
            None => "not created by the end".to_string(),
            Some(created) if past_the_end(s, created) => {
                format!("not created by the end (due {})", local(s, created))
            }
            Some(created) => {
                let past = |t: f64| after_the_end(s, t);
                let deadline = match d.deadline_h {
                    Some(t) if d.purpose == "required" => {
                        format!(", deadline {}{}", local(s, t), past(t))
                    }
                    _ => String::new(),
                };
                let available = match d.available_h {
                    Some(t) if t != created => format!(", available {}{}", local(s, t), past(t)),
                    _ => String::new(),
                };
                format!("created {}{available}{deadline}", local(s, created))
            }
        };
        let _ = writeln!(
            out,
            "{} ({}, {} clients): {when}",
            d.name,
            d.purpose,
            thousands(u64::from(d.targeted))
        );
        // How a later phase began (the first begins at its creation,
        // and is shown when it was suspended).
        if let Some(p) = (d.phase.as_ref()).filter(|p| p.number > 1 || !p.suspensions.is_empty()) {
            let _ = writeln!(out, "  {}", phase_line(p, previous_began(s, p)));
        }
    }
    let mut table = Table::new();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header([
            "deployment",
            "view",
            "50%",
            "80%",
            "95%",
            "99%",
            "95% vs deadline",
            "at the end",
        ]);
    for d in s.deployments.iter().take(MAX_DEPLOYMENTS_SHOWN) {
        for (k, (view, th, after, end)) in [
            (
                "true",
                &d.hours_to_pct_true,
                &d.hours_after_deadline_to_pct_true,
                d.compliant_pct_true,
            ),
            (
                "reported",
                &d.hours_to_pct_reported,
                &d.hours_after_deadline_to_pct_reported,
                d.compliant_pct_reported,
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let name = if k == 0 { d.name.as_str() } else { "" };
            table.add_row([
                name.to_string(),
                view.to_string(),
                cell(th.pct_50),
                cell(th.pct_80),
                cell(th.pct_95),
                cell(th.pct_99),
                if d.purpose == "required" {
                    signed(after.pct_95)
                } else {
                    "—".to_string()
                },
                percent(end),
            ]);
        }
    }
    for i in 2..8 {
        if let Some(c) = table.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    let _ = writeln!(
        out,
        "time from creation until the share of targeted clients is compliant:"
    );
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if s.deployments.len() > MAX_DEPLOYMENTS_SHOWN {
        let _ = writeln!(
            out,
            "... and {} more deployments: see summary.json or report.html",
            s.deployments.len() - MAX_DEPLOYMENTS_SHOWN
        );
    }
    // Per deployment: a client targeted by two is counted in each.
    let unknown: Vec<(&str, [u32; 3])> = (s.deployments.iter())
        .map(|d| {
            let u = &d.unknown_at_end;
            let counts = [
                u.true_gpo_conflict,
                u.reported_scan_failed,
                u.reported_not_yet_reported,
            ];
            (d.name.as_str(), counts)
        })
        .filter(|(_, counts)| *counts != [0, 0, 0])
        .collect();
    if !unknown.is_empty() {
        // Co-managed clients are truly Unknown too (to the site).
        let why = if s.co_managed_clients > 0 {
            "GPO conflict or co-managed"
        } else {
            "GPO conflict"
        };
        let words = |[truly, failing, late]: [u32; 3]| {
            format!(
                "{} truly ({why}); reported {} whose scans fail, {} not reported yet",
                thousands(u64::from(truly)),
                thousands(u64::from(failing)),
                thousands(u64::from(late))
            )
        };
        if let [(_, counts)] = unknown[..]
            && s.deployments.len() == 1
        {
            let _ = writeln!(out, "unknown at the end: {}", words(counts));
        } else {
            let _ = writeln!(out, "unknown at the end, by deployment:");
            for (name, counts) in unknown.iter().take(MAX_DEPLOYMENTS_SHOWN) {
                let _ = writeln!(out, "  {name}: {}", words(*counts));
            }
            if unknown.len() > MAX_DEPLOYMENTS_SHOWN {
                let _ = writeln!(
                    out,
                    "  ... and {} more deployments: see summary.json",
                    unknown.len() - MAX_DEPLOYMENTS_SHOWN
                );
            }
        }
    }
    fault_line(s, &mut out);
    let hurt = bottlenecks(s);
    match hurt.first() {
        Some(worst) => {
            let _ = writeln!(out, "bottleneck: {}", harm_words(s, worst));
            // Rejects rank first; a server that never rejects (a state
            // system has no queue limit) can still hold requests for
            // hours, which the ranking would hide.
            let wait = |x: &ServerSummary| x.queue_wait_s.p95.unwrap_or(0.0);
            let longest = (hurt.iter().skip(1))
                .filter(|x| wait(x) >= LONG_WAIT_S && wait(x) > wait(worst))
                .max_by(|a, b| wait(a).total_cmp(&wait(b)));
            if let Some(x) = longest {
                let _ = writeln!(out, "longest queue wait: {}", harm_words(s, x));
            }
        }
        None => {
            let _ = writeln!(
                out,
                "bottleneck: none (no server rejected, waited or was busy ≥ {:.0} %)",
                s.busy_threshold_pct
            );
        }
    }
    let busy: Vec<String> = hurt
        .iter()
        .filter(|x| x.hours_busy > 0.0)
        .map(|x| format!("{} {}", x.name, format_duration(x.hours_busy)))
        .collect();
    if !busy.is_empty() {
        const SHOWN: usize = 6;
        let more = if busy.len() > SHOWN {
            format!(" and {} more", busy.len() - SHOWN)
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "busy ≥ {:.0} %: {}{more}",
            s.busy_threshold_pct,
            busy[..busy.len().min(SHOWN)].join(", ")
        );
    }
    location_lines(s, &mut out);
    let t = &s.totals;
    if t.installs_overran + t.updates_never_fit > 0 {
        let _ = writeln!(
            out,
            "installs: {} attempts, {} failed, {} outran their max run time (reported failed, finished in the background); {} updates never fit a maintenance window of their client",
            thousands(t.installs),
            thousands(t.install_failures),
            thousands(t.installs_overran),
            thousands(t.updates_never_fit)
        );
    }
    if t.updates_superseded + t.updates_expired > 0 {
        let _ = writeln!(
            out,
            "supersedence: {} updates no longer required on their client, superseded by an update that took effect there; {} superseded updates expired (left their deployments)",
            thousands(t.updates_superseded),
            thousands(t.updates_expired)
        );
    }
    if t.rule_deployments + t.rule_refreshes + t.rule_runs_empty > 0 {
        let _ = writeln!(
            out,
            "automatic deployment rules: {} made, {} refreshed with new updates, {} found nothing to deploy",
            counted(t.rule_deployments, "deployment", "deployments"),
            counted(t.rule_refreshes, "group", "groups"),
            counted(t.rule_runs_empty, "run", "runs")
        );
    }
    let _ = writeln!(out, "{}", scans_line(t));
    if t.mp_rejects + t.scan_rejects + t.scan_errors + t.download_failures > 0 {
        let _ = writeln!(
            out,
            "retries: {} management point rejects{}, {} scan rejects (503 or down), {} scan errors, {} SUP switches, {} failed downloads",
            thousands(t.mp_rejects),
            if t.mp_switches > 0 {
                format!(" ({} moves to another MP)", thousands(t.mp_switches))
            } else {
                String::new()
            },
            thousands(t.scan_rejects),
            thousands(t.scan_errors),
            thousands(t.sup_switches),
            thousands(t.download_failures)
        );
    }
    if t.scan_bytes > 0 {
        let bytes = super::html::decimal_bytes;
        let sups: Vec<String> = (s.servers.iter())
            .filter(|x| x.role == ServerRole::UpdatePoint && x.bytes_served > 0)
            .map(|x| format!("{} {}", x.name, bytes(x.bytes_served)))
            .collect();
        let _ = writeln!(
            out,
            "scan metadata: {} sent to clients: {}",
            bytes(t.scan_bytes),
            sups.join(", ")
        );
    }
    if t.dp_bytes_saved + t.microsoft_update_fallbacks + t.cache_evictions > 0 {
        // Content came from elsewhere than the DPs: say from where.
        let bytes = super::html::decimal_bytes;
        let mut sources = vec![format!("DP {}", bytes(t.bytes_from_dp))];
        for (name, b) in [
            ("peer cache", t.bytes_from_peer_cache),
            ("BranchCache", t.bytes_from_branch_cache),
            ("Delivery Optimization", t.bytes_from_delivery_optimization),
            ("Microsoft Update", t.bytes_from_microsoft_update),
        ] {
            if b > 0 {
                sources.push(format!("{name} {}", bytes(b)));
            }
        }
        let saved_pct = if t.bytes_from_dp + t.dp_bytes_saved > 0 {
            100.0 * t.dp_bytes_saved as f64 / (t.bytes_from_dp + t.dp_bytes_saved) as f64
        } else {
            0.0
        };
        let _ = writeln!(
            out,
            "content: {} downloaded: {}; DP bytes saved {} ({saved_pct:.1} %; express {}); {} peer fallbacks, {} Microsoft Update fallbacks, {} cache evictions",
            bytes(t.bytes_downloaded),
            sources.join(", "),
            bytes(t.dp_bytes_saved),
            bytes(t.bytes_saved_by_express),
            thousands(t.peer_fallbacks),
            thousands(t.microsoft_update_fallbacks),
            thousands(t.cache_evictions)
        );
        let dps: Vec<String> = (s.servers.iter())
            .filter(|x| x.role == ServerRole::DistributionPoint)
            .map(|x| format!("{} {}", x.name, bytes(x.bytes_served)))
            .collect();
        let _ = writeln!(out, "  served by DP: {}", dps.join(", "));
        for cohort in &s.cohorts {
            let k = &cohort.content;
            let mut from = vec![format!("DP {}", bytes(k.bytes_from_dp))];
            for (name, b) in [
                ("peer cache", k.bytes_from_peer_cache),
                ("BranchCache", k.bytes_from_branch_cache),
                ("Delivery Optimization", k.bytes_from_delivery_optimization),
                ("Microsoft Update", k.bytes_from_microsoft_update),
                ("saved by express", k.bytes_saved_by_express),
            ] {
                if b > 0 {
                    from.push(format!("{name} {}", bytes(b)));
                }
            }
            let _ = writeln!(out, "  cohort {}: {}", cohort.name, from.join(", "));
        }
    }
    if t.clients_dormant > 0 {
        let _ = writeln!(
            out,
            "dormant: {} clients never came online",
            thousands(t.clients_dormant)
        );
    }
    let failed: Vec<&super::json::SyncSummary> =
        s.syncs.iter().filter(|x| x.failed_h.is_some()).collect();
    if let Some(first) = failed.first() {
        let _ = writeln!(
            out,
            "catalog syncs: {} failed while the top-level SUP was down (the first {}), each retried",
            thousands(failed.len() as u64),
            local(s, first.started_h)
        );
    }
    if let Some(c) = &s.catalog {
        let _ = writeln!(out, "{}", catalog_line(c));
    }
    for p in &s.wsus_pools {
        let _ = writeln!(out, "{}", wsus_pool_line(p));
    }
    let _ = writeln!(
        out,
        "state messages, client → site database: {}; {} on their way at the end",
        percentiles(&s.state_message_latency_s, |v| format_duration(v / 3600.0)),
        thousands(s.state_messages_pending_at_end)
    );
    out += &written_text(files);
    out
}

/// The line naming the files a command wrote (`files`, all in one
/// directory) and its report to open; empty without files. Printed once
/// they are in place.
pub fn written_text(files: &[PathBuf]) -> String {
    let Some(first) = files.first() else {
        return String::new();
    };
    let dir = first.parent().unwrap_or(first.as_path());
    let report = files.iter().find(|f| f.ends_with("report.html"));
    format!(
        "wrote {} files to {}{}\n",
        files.len(),
        dir.display(),
        report.map_or(String::new(), |r| format!(": open {}", r.display()))
    )
}

/// The WSUS catalog scans evaluate and what it makes them cost.
fn catalog_line(c: &super::json::CatalogSummary) -> String {
    let guidance = if c.valid_updates >= 7000 {
        "; above Microsoft's guidance of fewer than 7,000 (best fewer than 5,000)"
    } else if c.valid_updates >= 5000 {
        "; within Microsoft's guidance of fewer than 7,000, above the preferred 5,000"
    } else {
        ""
    };
    format!(
        "WSUS catalog: {} valid updates of {} not declined ({} superseded{}){guidance}: a scan costs the SUP {}x its scan time (set for {})",
        thousands(u64::from(c.valid_updates)),
        thousands(u64::from(c.updates)),
        thousands((f64::from(c.updates) * c.superseded_share).round() as u64),
        if c.decline_superseded {
            ", declined by WSUS maintenance"
        } else {
            ", not declined"
        },
        c.scan_cost,
        thousands(u64::from(c.reference_updates))
    )
}

/// What an update point's WSUS application pool went through.
pub(super) fn wsus_pool_line(p: &super::json::WsusPoolSummary) -> String {
    let gb = |mb: f64| super::html::decimal_bytes((mb * 1e6).round() as u64);
    let peak = gb(p.peak_memory_mb);
    match p.private_memory_limit_mb {
        None => format!(
            "WsusPool of {}: at most {peak} of private memory (no limit)",
            p.update_point
        ),
        Some(limit) if p.recycles == 0 => format!(
            "WsusPool of {}: at most {peak} of private memory, within its limit of {}",
            p.update_point,
            gb(limit)
        ),
        Some(limit) => format!(
            "WsusPool of {}: recycled {} at its private memory limit of {} (scans would have taken it to {peak}); each recycle failed the scans in service with HTTP 503",
            p.update_point,
            counted(p.recycles, "time", "times"),
            gb(limit)
        ),
    }
}

/// Whether the phase before `p` (of the same phased deployment) began
/// within the run; `true` for a first phase.
pub(super) fn previous_began(s: &Summary, p: &super::json::PhaseSummary) -> bool {
    let previous = (s.deployments.iter())
        .filter_map(|d| d.phase.as_ref())
        .find(|q| q.phased_deployment == p.phased_deployment && q.number + 1 == p.number);
    previous.is_none_or(|q| q.started_h.is_some())
}

/// How a phase of a phased deployment began, or why it has not
/// (`previous_began`: whether the phase before it began, see
/// [`previous_began`]).
pub(super) fn phase_line(p: &super::json::PhaseSummary, previous_began: bool) -> String {
    let of = format!("phase {} of '{}'", p.number, p.phased_deployment);
    let criterion = match (p.success_devices, p.success_percent) {
        (Some(n), _) => format!(
            "{} of the previous phase compliant in the site database",
            counted(u64::from(n), "client", "clients")
        ),
        (None, Some(pct)) => format!("{pct}% of the previous phase compliant in the site database"),
        (None, None) => String::new(),
    };
    let gradual = p.gradually_over_days.map_or(String::new(), |days| {
        format!(
            "; its clients made available over {}, each with its deadline as far after",
            format_duration(days * 24.0)
        )
    });
    let line = match (p.reason, p.started_h) {
        (Some(PhaseReason::Created), Some(t)) => {
            format!("{of}: began at {} (created)", format_duration(t))
        }
        (Some(PhaseReason::PreviousSucceeded), Some(t)) if p.held_until_resume => format!(
            "{of}: began at {} when the phased deployment was resumed; the previous phase reached its criterion ({criterion}) at {}, and the wait of {} passed while it was suspended",
            format_duration(t),
            p.previous_succeeded_h
                .map_or("—".to_string(), format_duration),
            format_duration(p.wait_h.unwrap_or(0.0)),
        ),
        (Some(PhaseReason::Manual), Some(t)) if p.held_until_resume => format!(
            "{of}: began at {} when the phased deployment was resumed (begun by hand while it was suspended)",
            format_duration(t)
        ),
        (Some(PhaseReason::PreviousSucceeded), Some(t)) => format!(
            "{of}: began at {}, {} after the previous phase reached its criterion ({criterion}) at {}",
            format_duration(t),
            format_duration(p.wait_h.unwrap_or(0.0)),
            p.previous_succeeded_h
                .map_or("—".to_string(), format_duration)
        ),
        (Some(PhaseReason::Manual), Some(t)) => {
            format!("{of}: began at {} by hand", format_duration(t))
        }
        _ => match p.previous_succeeded_h {
            Some(at) => format!(
                "{of}: not begun; the previous phase reached its criterion ({criterion}) at {}, the wait had not passed",
                format_duration(at)
            ),
            None if !previous_began => format!("{of}: not begun; the previous phase never began"),
            None if p.success_percent.is_some() || p.success_devices.is_some() => format!(
                "{of}: not begun; the previous phase never reached its criterion ({criterion})"
            ),
            None => format!("{of}: not begun by the end"),
        },
    };
    let suspended = (p.suspensions.iter())
        .map(|s| match s.resumed_h {
            Some(resumed) => format!(
                "; suspended at {}, resumed at {}",
                format_duration(s.suspended_h),
                format_duration(resumed)
            ),
            None => format!(
                "; suspended at {}, never resumed",
                format_duration(s.suspended_h)
            ),
        })
        .collect::<String>();
    let line = if p.held_until_resume && p.started_h.is_none() {
        format!(
            "{of}: not begun; its begin came while the phased deployment was suspended, and it was not resumed"
        )
    } else {
        line
    };
    if p.started_h.is_some() {
        line + &gradual + &suspended
    } else {
        line
    }
}

/// `1 run`, `1,234 runs`.
pub fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_are_whole_only_when_they_are() {
        assert_eq!(percent(100.0), "100.0%");
        assert_eq!(percent(99.95), "99.9%");
        assert_eq!(percent(99.999), "99.9%");
        assert_eq!(percent(99.94), "99.9%");
        assert_eq!(percent(57.25), "57.2%");
        assert_eq!(percent(0.02), "0.1%");
        assert_eq!(percent(0.0), "0.0%");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(52.0), "2d 04h");
        assert_eq!(format_duration(3.0 + 20.0 / 60.0), "3h 20m");
        assert_eq!(format_duration(0.75), "45m 00s");
        assert_eq!(format_duration(12.0 / 3600.0), "12s");
        // A short wait never reads as none.
        assert_eq!(format_duration(0.357 / 3600.0), "0.4s");
        assert_eq!(format_duration(0.01 / 3600.0), "<0.1s");
        assert_eq!(format_duration(9.94 / 3600.0), "9.9s");
        assert_eq!(format_duration(9.96 / 3600.0), "10s");
        // The exact form adds the seconds the short one cuts off.
        assert_eq!(format_duration(3.66), "3h 39m");
        assert_eq!(format_duration_exact(3.66), "3h 39m 36s");
        assert_eq!(format_duration_exact(63.0 + 4.2 / 60.0), "2d 15h 04m 12s");
        assert_eq!(format_duration_exact(72.0), "3d 00h");
        assert_eq!(format_duration_exact(4.0), "4h 00m");
        assert_eq!(format_duration_exact(0.75), "45m 00s");
        // Up, never down: a bound missed by 0.4 s does not read as met.
        assert_eq!(format_duration_exact(4.0 + 0.4 / 3600.0), "4h 00m 01s");
        assert_eq!(format_duration_exact(72.0 + 0.3 / 3600.0), "3d 00h 00m 01s");
        assert_eq!(format_duration_exact((600.0 + 0.3) / 3600.0), "10m 01s");
        assert_eq!(format_duration_exact(12.0 / 3600.0), "12s");
        assert_eq!(format_duration(0.0), "0s");
    }
}
