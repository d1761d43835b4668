//! `compliance.csv` and `updates.csv`: the compliance timelines.
//!
//! Owns the column layouts. Columns for states and sub-states are generated
//! from [`Compliance::ALL`] and [`RequiredSub::ALL`], so a state added to
//! the model gets its column. The first line of each file is a `#` comment
//! with the provenance (read with `comment='#'` in pandas).

use chrono::Duration;

use crate::engine::SimTime;
use crate::estate::Estate;
use crate::model::{Compliance, Outcome, Request, RequiredSub};

/// Column names of `compliance.csv`, in order.
pub fn compliance_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "time_ms",
        "time_h",
        "timestamp",
        "site",
        "deployment",
        "targeted",
        "with_policy",
    ]
    .map(String::from)
    .to_vec();
    for view in ["true", "reported"] {
        cols.extend(
            Compliance::ALL
                .iter()
                .map(|s| format!("{view}_{}", s.name())),
        );
    }
    for view in ["true", "reported"] {
        cols.extend(
            RequiredSub::ALL
                .iter()
                .map(|s| format!("{view}_required_{}", s.name())),
        );
    }
    cols.extend(
        [
            "reported_unknown_scan_failed",
            "true_compliant_pct",
            "reported_compliant_pct",
        ]
        .map(String::from),
    );
    cols
}

/// Column names of `updates.csv`, in order.
pub fn update_columns() -> Vec<String> {
    let mut cols: Vec<String> = ["time_ms", "time_h", "timestamp", "update", "clients"]
        .map(String::from)
        .to_vec();
    for view in ["true", "reported"] {
        cols.extend(
            Compliance::ALL
                .iter()
                .map(|s| format!("{view}_{}", s.name())),
        );
    }
    cols.extend(["true_compliant_pct", "reported_compliant_pct"].map(String::from));
    cols
}

fn pct(part: u32, whole: u32) -> String {
    if whole == 0 {
        return "0.00".into();
    }
    format!("{:.2}", f64::from(part) * 100.0 / f64::from(whole))
}

fn compliant(s: &[u32; 4]) -> u32 {
    s[Compliance::Installed as usize] + s[Compliance::NotRequired as usize]
}

/// Writes a table: the provenance comment, the header, the rows.
fn table(estate: &Estate, header: &[String], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut out = format!("# {}\n", super::provenance(estate)).into_bytes();
    {
        let mut w = csv::Writer::from_writer(&mut out);
        w.write_record(header).expect("writing to memory");
        for rec in rows {
            debug_assert_eq!(rec.len(), header.len());
            w.write_record(&rec).expect("writing to memory");
        }
        w.flush().expect("writing to memory");
    }
    String::from_utf8(out).expect("csv is utf-8")
}

/// The time columns of a row.
fn times(estate: &Estate, t: SimTime) -> [String; 3] {
    let stamp = estate.source.start + Duration::milliseconds(t.as_ms() as i64);
    [
        t.as_ms().to_string(),
        format!("{:.3}", t.as_hours_f64()),
        stamp.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    ]
}

/// `compliance.csv`: one row per sample time per deployment (the
/// top-level view: the site's database, or the CAS's in a hierarchy), and in
/// a hierarchy one more per primary site (its clients, its database).
pub fn compliance_csv(estate: &Estate, outcome: &Outcome) -> String {
    let per_time = estate.deployments.len().max(1);
    let sites = estate.primaries.len();
    let mut ordered = Vec::with_capacity(outcome.timeline.len() + outcome.site_timeline.len());
    for (k, top) in outcome.timeline.chunks(per_time).enumerate() {
        ordered.extend(top);
        if !outcome.site_timeline.is_empty() {
            let start = k * per_time * sites;
            ordered.extend(&outcome.site_timeline[start..start + per_time * sites]);
        }
    }
    let rows = ordered.into_iter().map(|row| {
        let dep = &outcome.deployments[row.deployment.index()];
        let targeted = match row.site {
            None => dep.targeted,
            Some(site) => estate.deployments[row.deployment.index()]
                .targets
                .iter()
                .map(|c| &estate.cohorts[c.index()])
                .filter(|c| c.site == site)
                .map(|c| c.count)
                .sum(),
        };
        let mut rec: Vec<String> = times(estate, row.time).to_vec();
        rec.push(match row.site {
            None => estate.source.site_code.clone(),
            Some(site) => estate.primaries[site.index()].code.clone(),
        });
        rec.push(estate.deployments[row.deployment.index()].name.clone());
        rec.push(targeted.to_string());
        rec.push(row.with_policy.to_string());
        rec.extend(row.truth.iter().map(u32::to_string));
        rec.extend(row.reported.iter().map(u32::to_string));
        rec.extend(row.required_sub.iter().map(u32::to_string));
        rec.extend(row.reported_required_sub.iter().map(u32::to_string));
        rec.push(row.reported_unknown_scan_failed.to_string());
        rec.push(pct(compliant(&row.truth), targeted));
        rec.push(pct(compliant(&row.reported), targeted));
        rec
    });
    table(estate, &compliance_columns(), rows)
}

/// `updates.csv`: one row per sample time per update, over all clients.
pub fn updates_csv(estate: &Estate, outcome: &Outcome) -> String {
    let clients = estate.client_count();
    let rows = outcome.update_timeline.iter().map(|row| {
        let mut rec: Vec<String> = times(estate, row.time).to_vec();
        rec.push(estate.updates[row.update.index()].id.clone());
        rec.push(clients.to_string());
        rec.extend(row.truth.iter().map(u32::to_string));
        rec.extend(row.reported.iter().map(u32::to_string));
        rec.push(pct(compliant(&row.truth), clients));
        rec.push(pct(compliant(&row.reported), clients));
        rec
    });
    table(estate, &update_columns(), rows)
}

/// Column names of `load.csv`, in order.
pub fn load_columns() -> Vec<String> {
    let mut cols: Vec<String> = [
        "time_ms",
        "time_h",
        "timestamp",
        "server",
        "role",
        "capacity",
        "down",
        "queue",
        "busy",
        "bytes_served",
    ]
    .map(String::from)
    .to_vec();
    for what in ["arrived", "served", "rejected"] {
        cols.extend(Request::ALL.iter().map(|r| format!("{what}_{}", r.name())));
    }
    cols
}

/// `load.csv`: one row per sample time per server; request counts are over
/// the interval that ends at the sample, queue and busy are at the sample.
pub fn load_csv(estate: &Estate, outcome: &Outcome) -> String {
    let rows = outcome.load.iter().map(|row| {
        let server = &outcome.servers[row.server];
        let mut rec: Vec<String> = times(estate, row.time).to_vec();
        rec.push(server.name.clone());
        rec.push(server.role.name().to_string());
        rec.push(server.capacity.to_string());
        rec.push(u8::from(row.down).to_string());
        rec.push(row.queue.to_string());
        rec.push(row.busy.to_string());
        rec.push(row.bytes.to_string());
        for counts in [
            &row.counts.arrived,
            &row.counts.served,
            &row.counts.rejected,
        ] {
            rec.extend(counts.iter().map(u64::to_string));
        }
        rec
    });
    table(estate, &load_columns(), rows)
}
