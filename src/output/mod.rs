//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`](crate::model::Outcome) and the [`Estate`](crate::model::Estate).
//! One file per format: `csv.rs` (`compliance.csv`), `json.rs`
//! (`summary.json`), `charts.rs` (the SVG charts), `html.rs`
//! (`report.html`), `report.rs` (the printed summary). Files are written to a
//! temporary name and renamed when complete, so a failed run never leaves a
//! half-written file over a good one.

mod charts;
mod csv;
mod html;
mod json;
mod report;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use charts::{Chart, charts, slug};
pub use csv::{COMPLIANCE_COLUMNS, compliance_csv};
pub use html::{escape, report_html};
pub use json::{Summary, summary, summary_json};
pub use report::{format_duration, summary_text};

use crate::error::Error;
use crate::model::{Estate, Outcome};

/// The one-line provenance every output carries.
pub fn provenance(estate: &Estate) -> String {
    format!(
        "patchsim {} scenario={} hash={} seed={}",
        crate::VERSION,
        estate.resolved.name,
        estate.hash,
        estate.seed
    )
}

/// Writes `bytes` to `path` through a temporary file in the same directory.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let io = |source| Error::Output {
        path: path.display().to_string(),
        source,
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}.tmp"));
    let mut file = fs::File::create(&tmp).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)?;
    drop(file);
    fs::rename(&tmp, path).map_err(io)
}

/// A run's files, in memory and in the order they are written: their names
/// in the output directory and their contents. `compliance.csv`,
/// `summary.json`, `scenario.ron` (the resolved scenario), `report.html`,
/// then per deployment `compliance-<i>-<slug>.svg` and `states-<i>-<slug>.svg`.
pub fn run_files(estate: &Estate, outcome: &Outcome) -> Vec<(String, String)> {
    let summary = summary(estate, outcome);
    let charts = charts(estate, outcome);
    let scenario = scenario_ron(estate);
    let report = report_html(estate, &summary, &charts, &scenario);
    let mut files = vec![
        (
            "compliance.csv".to_string(),
            compliance_csv(estate, outcome),
        ),
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

/// Writes a run's files ([`run_files`]) into `dir` (created if missing) and
/// returns their paths.
pub fn write_run(dir: &Path, estate: &Estate, outcome: &Outcome) -> Result<Vec<PathBuf>, Error> {
    fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.display().to_string(),
        source,
    })?;
    let mut written = Vec::new();
    for (name, text) in run_files(estate, outcome) {
        let path = dir.join(name);
        write_atomic(&path, text.as_bytes())?;
        written.push(path);
    }
    Ok(written)
}

/// The resolved scenario, with the provenance as a comment: running it
/// reproduces the run.
pub fn scenario_ron(estate: &Estate) -> String {
    format!(
        "// {}\n// every default filled in: `patchsim run` on this file reproduces the run\n{}\n",
        provenance(estate),
        crate::scenario::resolved_text(&estate.resolved)
    )
}
