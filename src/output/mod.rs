//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`](crate::model::Outcome) and the [`Estate`](crate::model::Estate).
//! Files are written to a temporary name and renamed when complete, so a
//! failed run never leaves a half-written file over a good one.

mod csv;
mod json;
mod report;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

pub use csv::{COMPLIANCE_COLUMNS, compliance_csv};
pub use json::{DeploymentSummary, Summary, Thresholds, summary, summary_json};
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

/// Writes a run's files into `dir` (created if missing) and returns their paths:
/// `compliance.csv`, `summary.json` and `scenario.ron` (the resolved scenario).
pub fn write_run(dir: &Path, estate: &Estate, outcome: &Outcome) -> Result<Vec<PathBuf>, Error> {
    fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.display().to_string(),
        source,
    })?;
    let files = [
        ("compliance.csv", compliance_csv(estate, outcome)),
        ("summary.json", summary_json(estate, outcome)),
        ("scenario.ron", scenario_ron(estate)),
    ];
    let mut written = Vec::new();
    for (name, text) in files {
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
