//! The table printed after a study: per point, the mean and 95 % CI
//! half-width of the metrics marked for it in `metrics.rs`.
//!
//! Owns the text layout only (the table through `comfy-table`); the
//! numbers are the study's estimates, the same that `points.csv` holds.

use std::fmt::Write;
use std::path::PathBuf;

use comfy_table::{CellAlignment, Table};

use super::{Estimate, Study};
use crate::output::plural;

/// A table's cell: mean ± 95 % half-width (`mean (0–high)` for an
/// interval cut at 0), `(n=k)` when only k of the replications have a
/// value, `—` when none has.
pub(super) fn cell(e: &Estimate, replications: u32) -> String {
    let mut s = e.text();
    if e.n > 0 && e.n < replications as usize {
        let _ = write!(s, " (n={})", e.n);
    }
    s
}

/// What the tables show of a swept location: its link's peak and busy
/// hours, and its hours to 95 % (true).
const SWEPT_LOCATION: [(&str, &str); 3] = [
    ("link_peak_utilization_pct", "link peak %"),
    ("link_hours_busy", "link h busy"),
    ("location_hours_to_95_true", "95% true"),
];

/// The locations the grid sweeps a field of (`locations[york]....` or
/// `locations[1]....`), by name.
fn swept_locations(study: &Study) -> Vec<String> {
    let columns = study.columns();
    // The base scenario's locations come first among the links, in order.
    let links: Vec<&str> = (columns.iter())
        .filter(|c| c.metric().name == SWEPT_LOCATION[0].0)
        .filter_map(|c| c.location.as_deref())
        .collect();
    let mut out: Vec<String> = Vec::new();
    for p in &study.manifest.grid {
        let Some(rest) = p.path.strip_prefix("locations[") else {
            continue;
        };
        let Some(end) = rest.find("].") else {
            continue;
        };
        let key = &rest[..end];
        let name = match key.parse::<usize>() {
            Ok(i) => links.get(i).map(|n| n.to_string()),
            Err(_) => links.contains(&key).then(|| key.to_string()),
        };
        if let Some(name) = name.filter(|n| !out.contains(n)) {
            out.push(name);
        }
    }
    out
}

/// The columns the points table shows, with their headers: the metrics
/// marked for it in `metrics.rs`, then each swept location's link and
/// hours to 95 %.
pub(super) fn shown_columns(study: &Study) -> Vec<(usize, String)> {
    let columns = study.columns();
    // Not the deployments no run of the study made.
    let made = study.shown();
    let bracket = |name: &str| {
        name.find('[')
            .map_or(String::new(), |i| format!(" {}", &name[i..]))
    };
    let mut shown: Vec<(usize, String)> = (columns.iter().enumerate())
        .filter(|&(c, _)| made[c])
        .filter_map(|(c, col)| {
            let label = col.metric().table?;
            Some((c, format!("{label}{}", bracket(&col.name))))
        })
        .collect();
    for location in swept_locations(study) {
        for (metric, label) in SWEPT_LOCATION {
            shown.extend(
                (columns.iter().enumerate())
                    .filter(|&(c, col)| {
                        made[c]
                            && col.metric().name == metric
                            && col.location.as_ref() == Some(&location)
                    })
                    .map(|(c, col)| (c, format!("{label}{}", bracket(&col.name)))),
            );
        }
    }
    shown
}

/// The printed table of a whole study; `files` are listed at the end.
pub fn table_text(study: &Study, files: &[PathBuf]) -> String {
    let m = &study.manifest;
    let estimates = study.estimates();
    let (shown, labels): (Vec<usize>, Vec<String>) = shown_columns(study).into_iter().unzip();
    let mut header: Vec<String> = m.grid.iter().map(|p| p.path.clone()).collect();
    if header.is_empty() {
        header.push("point".into());
    }
    let params = header.len();
    header.extend(labels);
    // A sweep of a role's servers shows its busiest one's load.
    let swept = super::busiest::swept_roles(study);
    let loads: Vec<_> = (super::busiest::role_loads(study).into_iter())
        .filter(|l| swept.contains(&l.role))
        .collect();
    for l in &loads {
        header.push(format!("{} h busy", l.label));
        header.push(format!("{} p95 wait min", l.label));
    }
    let mut rows = vec![header];
    for (p, point) in m.points.iter().enumerate() {
        let mut row: Vec<String> = if point.values.is_empty() {
            vec!["(scenario as given)".into()]
        } else {
            point.values.clone()
        };
        row.extend(
            shown
                .iter()
                .map(|&c| cell(&estimates[p][c], m.replications)),
        );
        row.extend(
            (loads.iter())
                .flat_map(|l| [&l.hours_busy[p], &l.wait_p95_min[p]])
                .map(|e| cell(e, m.replications)),
        );
        rows.push(row);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "patchsim {} · {} · seed {} · scenario hash {}",
        m.version, m.scenario, m.seed, m.scenario_hash
    );
    let _ = writeln!(
        out,
        "{} × {} = {} (common random numbers: replication r has the same seed at every point)",
        plural(m.points.len(), "point"),
        plural(m.replications as usize, "replication"),
        plural(m.runs, "run")
    );
    let _ = writeln!(
        out,
        "hours from deployment creation to compliant, mean ± 95 % CI half-width (Student's t),\n\
         or mean (0–high) where the interval is cut at 0; (n=k): the mean of only the k runs\n\
         that reached it, which reads sooner than the truth; —: no run did{}\n",
        match loads.iter().map(|l| l.label).collect::<Vec<_>>().join(", ") {
            roles if roles.is_empty() => String::new(),
            roles => format!(
                "\n{roles}: the run's busiest server's hours at or above the busy threshold, \
                 and the longest p95 queue wait among them, in minutes"
            ),
        }
    );
    let mut table = Table::new();
    let mut rows = rows.into_iter();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header(rows.next().expect("the header"));
    for row in rows {
        table.add_row(row);
    }
    for k in params..shown.len() + 2 * loads.len() + params {
        if let Some(c) = table.column_mut(k) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if !files.is_empty() {
        let _ = writeln!(out);
        out += &crate::output::written_text(files);
    }
    out
}

/// What is printed after running one shard, before its files are in
/// place: which shard, how many runs.
pub fn shard_text(study: &Study) -> String {
    let m = &study.manifest;
    let shard = m.shard.expect("a shard");
    format!(
        "patchsim {} · {} · scenario hash {} · shard {shard}: {} of {} runs\n",
        m.version,
        m.scenario,
        m.scenario_hash,
        study.runs.len(),
        m.runs
    )
}

/// What is printed once a shard's `files` are in place: each of them,
/// and what to do when every shard is done.
pub fn shard_written_text(study: &Study, files: &[PathBuf]) -> String {
    let shard = study.manifest.shard.expect("a shard");
    let mut out = String::new();
    for f in files {
        let _ = writeln!(out, "wrote {}", f.display());
    }
    let _ = writeln!(
        out,
        "when all {} shards are done: patchsim merge DIR... --out DIR",
        shard.count
    );
    out
}
