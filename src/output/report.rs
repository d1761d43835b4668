//! The human summary printed after a run: an aligned table per deployment.
//!
//! Owns the text layout only; the numbers come from [`Summary`].

use std::fmt::Write;
use std::path::PathBuf;

use super::json::{Percentiles, Summary, Thresholds};

/// `2d 04h`, `3h 20m`, `45m`, `12s` from hours.
pub fn format_duration(hours: f64) -> String {
    let secs = (hours * 3600.0).round() as u64;
    let (d, h, m, s) = (
        secs / 86_400,
        secs % 86_400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
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

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_string(), format_duration)
}

fn thresholds(t: &Thresholds) -> [String; 4] {
    [
        cell(t.pct_50),
        cell(t.pct_80),
        cell(t.pct_95),
        cell(t.pct_99),
    ]
}

fn percentiles(p: &Percentiles, unit: impl Fn(f64) -> String) -> String {
    match (p.p50, p.p95, p.p99, p.max) {
        (Some(a), Some(b), Some(c), Some(d)) => {
            format!(
                "p50 {}  p95 {}  p99 {}  max {}",
                unit(a),
                unit(b),
                unit(c),
                unit(d)
            )
        }
        _ => "none recorded".to_string(),
    }
}

/// The printed summary; `files` are listed at the end.
pub fn summary_text(s: &Summary, files: &[PathBuf]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchsim {} · {} · seed {} · scenario hash {}",
        s.version, s.scenario, s.seed, s.scenario_hash
    );
    let _ = writeln!(
        out,
        "{} clients · {} simulated from {} · {} events",
        s.clients,
        format_duration(s.duration_h),
        s.start,
        s.events
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "time from deployment creation until the share of targeted clients is compliant:"
    );
    let header = [
        "deployment",
        "view",
        "targeted",
        "compliant",
        "50%",
        "80%",
        "95%",
        "99%",
    ];
    let mut rows: Vec<[String; 8]> = vec![header.map(String::from)];
    for d in &s.deployments {
        let [a, b, c, e] = thresholds(&d.hours_to_pct_true);
        rows.push([
            d.name.clone(),
            "true".into(),
            d.targeted.to_string(),
            format!("{:.1}%", d.compliant_pct_true),
            a,
            b,
            c,
            e,
        ]);
        let [a, b, c, e] = thresholds(&d.hours_to_pct_reported);
        rows.push([
            String::new(),
            "reported".into(),
            String::new(),
            format!("{:.1}%", d.compliant_pct_reported),
            a,
            b,
            c,
            e,
        ]);
    }
    let widths: Vec<usize> = (0..8)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for r in &rows {
        let mut line = String::new();
        for (i, v) in r.iter().enumerate() {
            let pad = widths[i] - v.chars().count();
            if i < 2 {
                let _ = write!(line, "{v}{}  ", " ".repeat(pad));
            } else {
                let _ = write!(line, "{}{v}  ", " ".repeat(pad));
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(out);
    for d in &s.deployments {
        let _ = writeln!(
            out,
            "{} ({}): client time to compliant, true: {}",
            d.name,
            d.purpose,
            percentiles(&d.client_time_to_compliant_h_true, format_duration)
        );
        if d.by_cohort.len() > 1 {
            for part in &d.by_cohort {
                let _ = writeln!(
                    out,
                    "  {}: {:.1}% true, {:.1}% reported; client time to compliant p95 {}",
                    part.cohort,
                    part.compliant_pct_true,
                    part.compliant_pct_reported,
                    part.client_time_to_compliant_h_true
                        .p95
                        .map_or("—".to_string(), format_duration)
                );
            }
        }
        let u = &d.unknown_at_end;
        if u.true_gpo_conflict + u.reported_scan_failed + u.reported_not_yet_reported > 0 {
            let _ = writeln!(
                out,
                "  unknown at the end: {} true (GPO conflict); reported {} whose scans fail, {} not yet reported",
                u.true_gpo_conflict, u.reported_scan_failed, u.reported_not_yet_reported
            );
        }
    }
    for sync in &s.syncs {
        let _ = writeln!(
            out,
            "sync ({:?}) at {}: {} new update{}, in the site database after {}",
            sync.kind,
            format_duration(sync.started_h),
            sync.new_updates.len(),
            if sync.new_updates.len() == 1 { "" } else { "s" },
            sync.finished_h
                .map_or("— (still running)".to_string(), |f| format_duration(
                    f - sync.started_h
                ))
        );
    }
    for cohort in &s.cohorts {
        let p95 = |p: &Percentiles, hours_per_unit: f64| {
            p.p95
                .map_or("—".to_string(), |v| format_duration(v * hours_per_unit))
        };
        let _ = writeln!(
            out,
            "cohort {}: p95 scan response {}, download {}, restart pending {}",
            cohort.name,
            p95(&cohort.scan_response_s, 1.0 / 3600.0),
            p95(&cohort.download_s, 1.0 / 3600.0),
            p95(&cohort.restart_delay_h, 1.0)
        );
    }
    let t = &s.totals;
    if t.mp_rejects + t.scan_rejects + t.download_failures > 0 {
        let _ = writeln!(
            out,
            "retries: {} management point rejects, {} scan rejects (503 or down), {} SUP switches, {} failed downloads",
            t.mp_rejects, t.scan_rejects, t.sup_switches, t.download_failures
        );
    }
    let mut busiest: Vec<&super::json::ServerSummary> =
        s.servers.iter().filter(|x| x.arrived > 0).collect();
    busiest.sort_by(|a, b| {
        let key = |x: &super::json::ServerSummary| {
            (x.queue_wait_s.p95.unwrap_or(0.0), x.rejected, x.peak_queue)
        };
        key(b)
            .partial_cmp(&key(a))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| a.name.cmp(&b.name))
    });
    if !busiest.is_empty() {
        let _ = writeln!(out, "bottlenecks (highest p95 queue wait):");
        for x in busiest.iter().take(3) {
            let _ = writeln!(
                out,
                "  {} ({}): queue wait {}; peak queue {}{}; peak busy {}/{}; {} rejected of {}",
                x.name,
                x.role,
                percentiles(&x.queue_wait_s, |v| format_duration(v / 3600.0)),
                x.peak_queue,
                x.queue_limit.map_or(String::new(), |l| format!("/{l}")),
                x.peak_busy,
                x.capacity,
                x.rejected,
                x.arrived
            );
        }
    }
    let _ = writeln!(
        out,
        "state message latency (client → site database): {}",
        percentiles(&s.state_message_latency_s, |v| format_duration(v / 3600.0))
    );
    if !files.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "wrote:");
        for f in files {
            let _ = writeln!(out, "  {}", f.display());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(52.0), "2d 04h");
        assert_eq!(format_duration(3.0 + 20.0 / 60.0), "3h 20m");
        assert_eq!(format_duration(0.75), "45m 00s");
        assert_eq!(format_duration(12.0 / 3600.0), "12s");
    }
}
