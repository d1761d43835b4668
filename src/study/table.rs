//! The table printed after a study: per point, the mean and 95 % CI
//! half-width of the metrics marked for it in `metrics.rs`.
//!
//! Owns the text layout only (the table through `comfy-table`); the
//! numbers are the study's estimates, the same that `points.csv` holds.

use std::fmt::Write;
use std::path::PathBuf;

use comfy_table::{CellAlignment, Table};

use super::{Estimate, Study};

fn cell(e: &Estimate, replications: u32) -> String {
    let mut s = match (e.mean, e.half_width) {
        (None, _) => "—".to_string(),
        (Some(m), Some(h)) => format!("{m:.2} ± {h:.2}"),
        (Some(m), None) => format!("{m:.2}"),
    };
    if e.n > 0 && e.n < replications as usize {
        let _ = write!(s, " (n={})", e.n);
    }
    s
}

/// The printed table of a whole study; `files` are listed at the end.
pub fn table_text(study: &Study, files: &[PathBuf]) -> String {
    let m = &study.manifest;
    let estimates = study.estimates();
    let columns = study.columns();
    let shown: Vec<usize> = (0..columns.len())
        .filter(|&c| columns[c].metric().table.is_some())
        .collect();
    let mut header: Vec<String> = m.grid.iter().map(|p| p.path.clone()).collect();
    if header.is_empty() {
        header.push("point".into());
    }
    let params = header.len();
    header.extend(shown.iter().map(|&c| {
        let col = &columns[c];
        let label = col.metric().table.expect("filtered").to_string();
        match col.name.find('[') {
            Some(i) => format!("{label} {}", &col.name[i..]),
            None => label,
        }
    }));
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
        "{} point{} × {} replications = {} runs (common random numbers: replication r has the same seed at every point)",
        m.points.len(),
        if m.points.len() == 1 { "" } else { "s" },
        m.replications,
        m.runs
    );
    let _ = writeln!(
        out,
        "hours from deployment creation to compliant, mean ± 95 % CI half-width (Student's t);\n\
         (n=k): only k runs reached it; —: none did\n"
    );
    let mut table = Table::new();
    let mut rows = rows.into_iter();
    table
        .load_preset(comfy_table::presets::NOTHING)
        .set_header(rows.next().expect("the header"));
    for row in rows {
        table.add_row(row);
    }
    for k in params..shown.len() + params {
        if let Some(c) = table.column_mut(k) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    if let Some(first) = files.first() {
        let dir = first.parent().unwrap_or(first.as_path());
        let report = files.iter().find(|f| f.ends_with("report.html"));
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "wrote {} files to {}{}",
            files.len(),
            dir.display(),
            report.map_or(String::new(), |r| format!(": open {}", r.display()))
        );
    }
    out
}

/// What is printed after running one shard.
pub fn shard_text(study: &Study, files: &[PathBuf]) -> String {
    let m = &study.manifest;
    let shard = m.shard.expect("a shard");
    let mut out = format!(
        "patchsim {} · {} · scenario hash {} · shard {shard}: {} of {} runs\n",
        m.version,
        m.scenario,
        m.scenario_hash,
        study.runs.len(),
        m.runs
    );
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
