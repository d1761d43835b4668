//! `compliance.csv`, `updates.csv` and `load.csv`: the timelines, as tidy
//! long tables that a plain `read_csv` loads.
//!
//! Owns the column layouts. One row per observation: a count of clients
//! in one state (`compliance.csv`, `updates.csv`), or one measure of one
//! server (`load.csv`). States, sub-states and request kinds are rows, not
//! columns, generated from [`Compliance::ALL`], [`RequiredSub::ALL`] and
//! [`Request::ALL`], so a state or request kind added to the model gets its
//! rows without an edit here. No comment line: the provenance is in
//! `summary.json`, beside the files.

use std::io::{self, Write};

use chrono::Duration;

use crate::engine::SimTime;
use crate::estate::Estate;
use crate::model::{Compliance, Outcome, Request, RequiredSub};

/// The two views of a client's state.
const VIEWS: [&str; 2] = ["true", "reported"];

/// Column names of `compliance.csv`, in order.
pub fn compliance_columns() -> Vec<String> {
    [
        "time_ms",
        "time_h",
        "hours_since_created",
        "timestamp",
        "site",
        "deployment",
        "targeted",
        "with_policy",
        "view",
        "state",
        "substate",
        "clients",
    ]
    .map(String::from)
    .to_vec()
}

/// Column names of `updates.csv`, in order.
pub fn update_columns() -> Vec<String> {
    [
        "time_ms",
        "time_h",
        "timestamp",
        "update",
        "view",
        "state",
        "clients",
    ]
    .map(String::from)
    .to_vec()
}

/// Column names of `load.csv`, in order.
pub fn load_columns() -> Vec<String> {
    [
        "time_ms",
        "time_h",
        "timestamp",
        "server",
        "role",
        "kind",
        "measure",
        "value",
    ]
    .map(String::from)
    .to_vec()
}

/// Writes a table, the header then the rows, to `out` as it goes: a
/// table can be far bigger than the timeline it is read from, so it is
/// never held whole in memory.
fn table(
    out: &mut dyn Write,
    header: &[String],
    rows: impl Iterator<Item = Vec<String>>,
) -> io::Result<()> {
    let io = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    };
    let mut w = csv::Writer::from_writer(out);
    w.write_record(header).map_err(io)?;
    for rec in rows {
        debug_assert_eq!(rec.len(), header.len());
        w.write_record(&rec).map_err(io)?;
    }
    w.flush()
}

/// A table written into memory, as text.
fn in_memory(write: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> String {
    let mut out = Vec::new();
    write(&mut out).expect("writing to memory");
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

/// Hours from `from` to `t`, negative before it.
fn hours_between(from: SimTime, t: SimTime) -> String {
    format!(
        "{:.3}",
        (t.as_ms() as f64 - from.as_ms() as f64) / 3_600_000.0
    )
}

/// The `(state, substate, clients)` rows of one view of a sample: every
/// state, Required by its sub-states, and reported Unknown split into
/// clients whose last scan failed and clients not reported yet. The
/// clients of a view add up to the targeted clients.
fn state_rows(
    counts: &[u32],
    subs: &[u32],
    unknown_scan_failed: Option<u32>,
) -> Vec<(&'static str, &'static str, u32)> {
    let mut rows = Vec::new();
    for &state in &Compliance::ALL {
        let n = counts[state as usize];
        match state {
            Compliance::Required => rows.extend(
                RequiredSub::ALL
                    .iter()
                    .map(|&sub| (state.name(), sub.name(), subs[sub as usize])),
            ),
            Compliance::Unknown if unknown_scan_failed.is_some() => {
                let failed = unknown_scan_failed.unwrap_or(0);
                rows.push((state.name(), "scan_failed", failed));
                rows.push((state.name(), "not_reported", n - failed));
            }
            _ => rows.push((state.name(), "", n)),
        }
    }
    rows
}

/// `compliance.csv`: per sample time, view of the site (the top-level
/// database, and in a hierarchy each primary's), deployment, true and
/// reported view and state, the clients in it.
pub fn compliance_csv(estate: &Estate, outcome: &Outcome) -> String {
    in_memory(|out| write_compliance_csv(out, estate, outcome))
}

/// [`compliance_csv`], written to `out` row by row.
pub fn write_compliance_csv(
    out: &mut dyn Write,
    estate: &Estate,
    outcome: &Outcome,
) -> io::Result<()> {
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
    let rows = (ordered.into_iter())
        .filter(|row| outcome.row_shown(estate, row))
        .flat_map(|row| {
            let spec = &estate.deployments[row.deployment.index()];
            let dep = &outcome.deployments[row.deployment.index()];
            let targeted = match row.site {
                None => dep.targeted,
                Some(site) => spec
                    .targets
                    .iter()
                    .map(|c| &estate.cohorts[c.index()])
                    .filter(|c| c.site == site)
                    .map(|c| c.count)
                    .sum(),
            };
            let [ms, h, stamp] = times(estate, row.time);
            let fixed = [
                ms,
                h,
                // A later phase of a phased deployment, before it began
                // (or if it never did): empty.
                match dep.created {
                    Some(c) if spec.phase.is_none() || c <= row.time => hours_between(c, row.time),
                    _ => String::new(),
                },
                stamp,
                match row.site {
                    None => estate.source.site_code.clone(),
                    Some(site) => estate.primaries[site.index()].code.clone(),
                },
                spec.name.clone(),
                targeted.to_string(),
                row.with_policy.to_string(),
            ];
            let views = [
                (VIEWS[0], state_rows(&row.truth, &row.required_sub, None)),
                (
                    VIEWS[1],
                    state_rows(
                        &row.reported,
                        &row.reported_required_sub,
                        Some(row.reported_unknown_scan_failed),
                    ),
                ),
            ];
            views
                .into_iter()
                .flat_map(|(view, states)| {
                    states.into_iter().map(move |(state, sub, n)| {
                        [view, state, sub]
                            .map(String::from)
                            .into_iter()
                            .chain([n.to_string()])
                            .collect::<Vec<_>>()
                    })
                })
                .map(move |tail| fixed.iter().cloned().chain(tail).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        });
    table(out, &compliance_columns(), rows)
}

/// `updates.csv`: per sample time, update, view and state, the clients in
/// it, over all clients.
pub fn updates_csv(estate: &Estate, outcome: &Outcome) -> String {
    in_memory(|out| write_updates_csv(out, estate, outcome))
}

/// [`updates_csv`], written to `out` row by row.
pub fn write_updates_csv(
    out: &mut dyn Write,
    estate: &Estate,
    outcome: &Outcome,
) -> io::Result<()> {
    let rows = outcome.update_timeline.iter().flat_map(|row| {
        let [ms, h, stamp] = times(estate, row.time);
        let id = estate.updates[row.update.index()].id.clone();
        let views = [(VIEWS[0], &row.truth), (VIEWS[1], &row.reported)];
        views
            .into_iter()
            .flat_map(|(view, counts)| {
                Compliance::ALL
                    .iter()
                    .map(move |&s| (view, s.name(), counts[s as usize]))
            })
            .map(|(view, state, n)| {
                vec![
                    ms.clone(),
                    h.clone(),
                    stamp.clone(),
                    id.clone(),
                    view.to_string(),
                    state.to_string(),
                    n.to_string(),
                ]
            })
            .collect::<Vec<_>>()
    });
    table(out, &update_columns(), rows)
}

/// `load.csv`: per sample time and server, each measure: `down` (1 while a
/// fault has it down), `queue` and `busy` at the sample, `most_queue` and
/// `most_busy` at any moment of the interval, `bytes_served` in
/// the interval (servers that serve bytes), and per request kind the
/// server handles (one that arrived at it during the run) `arrived`,
/// `served` and `rejected` in the interval.
pub fn load_csv(estate: &Estate, outcome: &Outcome) -> String {
    in_memory(|out| write_load_csv(out, estate, outcome))
}

/// [`load_csv`], written to `out` row by row.
pub fn write_load_csv(out: &mut dyn Write, estate: &Estate, outcome: &Outcome) -> io::Result<()> {
    let rows = outcome.load.iter().flat_map(|row| {
        let server = &outcome.servers[row.server];
        let [ms, h, stamp] = times(estate, row.time);
        let mut measures: Vec<(&str, &str, u64)> = vec![
            ("", "down", u64::from(row.down)),
            ("", "queue", u64::from(row.queue)),
            ("", "busy", u64::from(row.busy)),
            ("", "most_queue", u64::from(row.most_queue)),
            ("", "most_busy", u64::from(row.most_busy)),
        ];
        if server.bytes > 0 {
            measures.push(("", "bytes_served", row.bytes));
        }
        for (k, kind) in Request::ALL.iter().enumerate() {
            if server.total.arrived[k] == 0 {
                continue;
            }
            measures.push((kind.name(), "arrived", row.counts.arrived[k]));
            measures.push((kind.name(), "served", row.counts.served[k]));
            measures.push((kind.name(), "rejected", row.counts.rejected[k]));
        }
        measures
            .into_iter()
            .map(|(kind, measure, value)| {
                vec![
                    ms.clone(),
                    h.clone(),
                    stamp.clone(),
                    server.name.clone(),
                    server.role.name().to_string(),
                    kind.to_string(),
                    measure.to_string(),
                    value.to_string(),
                ]
            })
            .collect::<Vec<_>>()
    });
    table(out, &load_columns(), rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_views_rows_add_up_to_its_counts() {
        let counts = [5, 7, 2, 4];
        let subs = [1, 1, 1, 1, 1, 1, 0, 1];
        for failed in [None, Some(3)] {
            let rows = state_rows(&counts, &subs, failed);
            assert_eq!(rows.iter().map(|r| r.2).sum::<u32>(), 18);
            let unknown: u32 = rows.iter().filter(|r| r.0 == "unknown").map(|r| r.2).sum();
            assert_eq!(unknown, 4);
        }
        let rows = state_rows(&counts, &subs, Some(3));
        assert!(rows.contains(&("unknown", "scan_failed", 3)));
        assert!(rows.contains(&("required", "pending_restart", 0)));
    }
}
