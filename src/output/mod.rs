//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`] and the [`Estate`] it is given; it never runs anything.
//! One file per format: `csv.rs` (`compliance.csv`, `updates.csv`,
//! `load.csv`), `json.rs` (`summary.json`), `charts.rs` (the deployment
//! charts), `load_charts.rs` (the server load charts), `html.rs`
//! (`report.html`), `report.rs` (the printed summary), `trace.rs`
//! (`trace.jsonl`, `explain`), and `dir.rs`, the output directory: its
//! guard, its lock, and the staging that puts a whole output in place with
//! one rename, so a failed command never leaves a half-written output.

mod charts;
mod csv;
mod dir;
mod html;
mod json;
mod load_charts;
mod report;
mod trace;

use std::path::PathBuf;

pub use charts::{Chart, Subject, charts, charts_with, slug};
pub use csv::{
    compliance_columns, compliance_csv, load_columns, load_csv, update_columns, updates_csv,
};
pub use dir::{Kind, Staging};
pub(crate) use html::decimal_bytes;
pub use html::report_html;
pub use json::{
    DEFAULT_BUSY_ABOVE, DeploymentSummary, ServerSummary, Summary, Thresholds, summary,
    summary_json, summary_with,
};
pub use load_charts::thousands;
pub use report::{bottlenecks, format_duration, plural, summary_text};
pub use trace::{TRACE_FILE, TraceFile, explain, trace_header, trace_line};

use crate::error::Error;
use crate::estate::Estate;
use crate::model::Outcome;

/// The one-line provenance every output carries.
pub fn provenance(estate: &Estate) -> String {
    format!(
        "patchsim {} scenario={} hash={} seed={}",
        crate::VERSION,
        estate.source.name,
        estate.hash,
        estate.seed
    )
}

/// The scenario's start as RFC 3339 text, as every output header gives it.
pub(crate) fn start_text(estate: &Estate) -> String {
    estate
        .source
        .start
        .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// A run's files, in memory and in the order they are written: their names
/// in the output directory and their contents. `compliance.csv`,
/// `updates.csv`, `load.csv`, `summary.json`, `scenario.ron` (the resolved
/// scenario), `report.html`, then per deployment `compliance-<i>-<slug>.svg`
/// and `states-<i>-<slug>.svg`, then per server `load-<i>-<slug>.svg`.
pub fn run_files(estate: &Estate, outcome: &Outcome) -> Vec<(String, String)> {
    run_files_with(estate, outcome, DEFAULT_BUSY_ABOVE)
}

/// As [`run_files`], servers counted busy at `busy_above` (a share of
/// their capacity) and above.
pub fn run_files_with(
    estate: &Estate,
    outcome: &Outcome,
    busy_above: f64,
) -> Vec<(String, String)> {
    let summary = summary_with(estate, outcome, busy_above);
    let charts = charts_with(estate, outcome, busy_above);
    let scenario = scenario_ron(estate);
    let report = report_html(estate, &summary, &charts, &scenario);
    let mut files = vec![
        (
            "compliance.csv".to_string(),
            compliance_csv(estate, outcome),
        ),
        ("updates.csv".to_string(), updates_csv(estate, outcome)),
        ("load.csv".to_string(), load_csv(estate, outcome)),
        (
            "summary.json".to_string(),
            json::summary_text_json(&summary),
        ),
        ("scenario.ron".to_string(), scenario),
        ("report.html".to_string(), report),
    ];
    files.extend(charts.into_iter().map(|c| (c.file_name, c.svg)));
    files
}

/// Writes a run's files ([`run_files`]) into a staging directory and
/// returns where they will be once it is committed.
pub fn write_run(
    staging: &mut Staging,
    estate: &Estate,
    outcome: &Outcome,
    busy_above: f64,
) -> Result<Vec<PathBuf>, Error> {
    run_files_with(estate, outcome, busy_above)
        .into_iter()
        .map(|(name, text)| staging.write(&name, text.as_bytes()))
        .collect()
}

/// The resolved scenario, with the provenance as a comment: running it
/// reproduces the run.
pub fn scenario_ron(estate: &Estate) -> String {
    format!(
        "// {}\n// every default filled in: `patchsim run` on this file reproduces the run\n{}\n",
        provenance(estate),
        estate.source.text
    )
}
