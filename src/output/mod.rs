//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`] and the [`Estate`] it is given; it never runs anything.
//! One file per format: `csv.rs` (`compliance.csv`, `updates.csv`,
//! `load.csv`), `json.rs` (`summary.json`), `charts.rs` (the deployment
//! charts), `load_charts.rs` (the server load charts), `html.rs`
//! (`report.html`), `report.rs` (the printed summary), `trace.rs`
//! (`trace.jsonl`, `explain`). Files are written to a
//! temporary name and renamed when complete, so a failed run never leaves a
//! half-written file over a good one.

mod charts;
mod csv;
mod html;
mod json;
mod load_charts;
mod report;
mod trace;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use charts::{Chart, Subject, charts, slug};
pub use csv::{
    compliance_columns, compliance_csv, load_columns, load_csv, update_columns, updates_csv,
};
pub use html::{escape, report_html};
pub use json::{DeploymentSummary, Summary, Thresholds, summary, summary_json};
pub use report::{format_duration, summary_text};
pub use trace::{TraceFile, explain, trace_header, trace_line};

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
/// `updates.csv`, `load.csv`, `summary.json`, `scenario.ron` (the resolved
/// scenario), `report.html`, then per deployment `compliance-<i>-<slug>.svg`
/// and `states-<i>-<slug>.svg`, then per server `load-<i>-<slug>.svg`.
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

/// Checks that patchsim may write its outputs into `dir`: it does not
/// exist yet, is empty (patchsim's own leftover `.NAME.tmp` files aside), or
/// holds an earlier patchsim output (a `summary.json` whose `"tool"` is
/// `"patchsim"`). With `force`, any directory will do.
pub fn check_out_dir(dir: &Path, force: bool) -> Result<(), Error> {
    let refuse = |reason: String| Error::NotAnOutputDir {
        path: dir.display().to_string(),
        reason,
    };
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(_) if dir.exists() && !dir.is_dir() => {
            return Err(refuse(
                "exists and is not a directory; choose another --out directory".to_string(),
            ));
        }
        Err(source) => {
            return Err(Error::Output {
                path: dir.display().to_string(),
                source,
            });
        }
    };
    if force {
        return Ok(());
    }
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !(n.starts_with('.') && n.ends_with(".tmp")))
        .collect();
    if names.is_empty() || is_patchsim_output(dir) {
        return Ok(());
    }
    names.sort();
    let shown = names.len().min(3);
    let mut found = names[..shown].join(", ");
    if names.len() > shown {
        found += &format!(" and {} more", names.len() - shown);
    }
    Err(refuse(format!(
        "the output directory is not empty and is not a patchsim output (it holds {found}, \
         but no summary.json written by patchsim); choose another --out directory, \
         or add --force to write into it anyway"
    )))
}

/// Whether `dir` holds a `summary.json` that patchsim wrote.
fn is_patchsim_output(dir: &Path) -> bool {
    fs::read_to_string(dir.join("summary.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .is_some_and(|v| v.get("tool").and_then(|t| t.as_str()) == Some("patchsim"))
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
