//! `compliance.csv`: the compliance timeline, one row per sample and deployment.
//!
//! Owns the column layout. The first line is a `#` comment with the
//! provenance (read with `comment='#'` in pandas, `comment.char` in R).

use chrono::Duration;

use crate::model::{Compliance, Estate, Outcome, RequiredSub};

/// Column names, in order.
pub const COMPLIANCE_COLUMNS: &[&str] = &[
    "time_ms",
    "time_h",
    "timestamp",
    "deployment",
    "targeted",
    "with_policy",
    "true_installed",
    "true_required",
    "true_not_required",
    "true_unknown",
    "reported_installed",
    "reported_required",
    "reported_not_required",
    "reported_unknown",
    "required_not_evaluated",
    "required_detected",
    "required_downloading",
    "required_downloaded",
    "required_installing",
    "required_pending_restart",
    "required_failed",
    "true_compliant_pct",
    "reported_compliant_pct",
];

fn pct(part: u32, whole: u32) -> String {
    if whole == 0 {
        return "0.00".into();
    }
    format!("{:.2}", f64::from(part) * 100.0 / f64::from(whole))
}

/// The whole file as text.
pub fn compliance_csv(estate: &Estate, outcome: &Outcome) -> String {
    debug_assert_eq!(
        Compliance::ALL.len() + RequiredSub::ALL.len() + 12,
        COMPLIANCE_COLUMNS.len()
    );
    let mut out = format!("# {}\n", super::provenance(estate)).into_bytes();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(COMPLIANCE_COLUMNS)
            .expect("writing to memory");
        let start = estate.resolved.start.0;
        for row in &outcome.timeline {
            let dep = &outcome.deployments[row.deployment.index()];
            let spec = &estate.deployments[row.deployment.index()];
            let ms = row.time.as_ms();
            let stamp = start + Duration::milliseconds(ms as i64);
            let mut rec: Vec<String> = vec![
                ms.to_string(),
                format!("{:.3}", row.time.as_hours_f64()),
                stamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                spec.name.clone(),
                dep.targeted.to_string(),
                row.with_policy.to_string(),
            ];
            rec.extend(row.truth.iter().map(u32::to_string));
            rec.extend(row.reported.iter().map(u32::to_string));
            rec.extend(row.required_sub.iter().map(u32::to_string));
            let ok = |s: &[u32; 4]| {
                s[Compliance::Installed as usize] + s[Compliance::NotRequired as usize]
            };
            rec.push(pct(ok(&row.truth), dep.targeted));
            rec.push(pct(ok(&row.reported), dep.targeted));
            w.write_record(&rec).expect("writing to memory");
        }
        w.flush().expect("writing to memory");
    }
    String::from_utf8(out).expect("csv is utf-8")
}
