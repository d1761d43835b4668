//! Output writers: the run's files and its printed summary.
//!
//! Owns formats only: everything written is derived from the
//! [`Outcome`] and the [`Estate`].
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
use std::sync::atomic::AtomicBool;

pub use charts::{Chart, Subject, charts, slug};
pub use csv::{
    compliance_columns, compliance_csv, load_columns, load_csv, update_columns, updates_csv,
};
pub use html::{escape, report_html};
pub use json::{DeploymentSummary, Summary, Thresholds, summary, summary_json};
pub use report::{format_duration, summary_text};
pub use trace::{explain, trace_header, trace_line};

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

/// What to trace into `trace.jsonl`: every client (`None`) or these ids.
#[derive(Clone, Debug, Default)]
pub struct TraceRequest {
    /// Client ids to trace; `None`: all of them.
    pub clients: Option<Vec<u32>>,
}

/// Runs the estate and writes its files into `dir`; with a trace request,
/// `trace.jsonl` is written as the run goes (under a temporary name until
/// the run is complete). Returns the outcome and the files written.
pub fn run_to_dir(
    estate: &Estate,
    dir: &Path,
    trace: Option<&TraceRequest>,
    progress_every: u64,
    progress: impl FnMut(crate::engine::RunStats),
) -> Result<(Outcome, Vec<PathBuf>), Error> {
    run_to_dir_with(
        estate,
        dir,
        RunRequest {
            trace,
            progress_every,
            progress: Box::new(progress),
            ..RunRequest::default()
        },
    )
}

/// How [`run_to_dir_with`] runs: trace, checks, interruption, progress.
pub struct RunRequest<'a> {
    /// Write `trace.jsonl` (all clients or a few).
    pub trace: Option<&'a TraceRequest>,
    /// Verify the laws as the run goes (`--check`); a broken law stops the
    /// run and nothing is written.
    pub check: bool,
    /// Stop the run once this reads true (Ctrl-C); nothing is written.
    pub interrupt: Option<&'a AtomicBool>,
    /// Call `progress` every this many events.
    pub progress_every: u64,
    /// Progress callback (must not touch simulated state).
    pub progress: Box<dyn FnMut(crate::engine::RunStats) + 'a>,
}

impl Default for RunRequest<'_> {
    fn default() -> Self {
        RunRequest {
            trace: None,
            check: false,
            interrupt: None,
            progress_every: u64::MAX,
            progress: Box::new(|_| {}),
        }
    }
}

/// As [`run_to_dir`], with checks and an interrupt flag. A run that is
/// interrupted or breaks a law writes nothing: its partial `trace.jsonl`
/// is removed, and so is `dir` if the run created it.
pub fn run_to_dir_with(
    estate: &Estate,
    dir: &Path,
    request: RunRequest<'_>,
) -> Result<(Outcome, Vec<PathBuf>), Error> {
    let dir_existed = dir.exists();
    let trace_path = dir.join("trace.jsonl");
    let trace_tmp = dir.join(".trace.jsonl.tmp");
    let io = |path: &Path| {
        let path = path.display().to_string();
        move |source| Error::Output { path, source }
    };
    // Removes what a run that writes nothing may have left.
    let clean_up = || {
        let _ = fs::remove_file(&trace_tmp);
        if !dir_existed {
            let _ = fs::remove_dir(dir);
        }
    };
    let failure: std::rc::Rc<std::cell::RefCell<Option<std::io::Error>>> = Default::default();
    let mut tracer = None;
    if let Some(request) = request.trace {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let file = fs::File::create(&trace_tmp).map_err(io(&trace_tmp))?;
        let mut writer = std::io::BufWriter::new(file);
        writer
            .write_all(trace_header(estate).as_bytes())
            .map_err(io(&trace_tmp))?;
        let failure = failure.clone();
        let sink = move |r: &crate::model::TraceRecord| {
            if failure.borrow().is_none()
                && let Err(e) = writer.write_all(trace_line(estate, r).as_bytes())
            {
                *failure.borrow_mut() = Some(e);
            }
        };
        tracer = Some(crate::model::Tracer::new(
            Box::new(sink),
            request.clients.clone(),
        ));
    }
    let hooks = crate::run::Hooks {
        progress_every: request.progress_every,
        progress: request.progress,
        tracer,
        check: request.check,
        interrupt: request.interrupt,
    };
    // The tracer (and its writer) is dropped with the world: flushed.
    let outcome = match crate::run::run(estate, hooks) {
        crate::run::Ended::Completed(outcome) => *outcome,
        crate::run::Ended::Interrupted(stats) => {
            clean_up();
            return Err(Error::Interrupted {
                at: stats.now,
                end: estate.end(),
            });
        }
        crate::run::Ended::Broken(violation) => {
            clean_up();
            return Err(Error::Check(violation));
        }
    };
    let mut files = Vec::new();
    if request.trace.is_some() {
        if let Some(e) = failure.borrow_mut().take() {
            clean_up();
            return Err(Error::Output {
                path: trace_tmp.display().to_string(),
                source: e,
            });
        }
        fs::rename(&trace_tmp, &trace_path).map_err(io(&trace_path))?;
        files.push(trace_path);
    }
    files.extend(write_run(dir, estate, &outcome)?);
    Ok((outcome, files))
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

/// One client's whole story in plain words (`patchsim explain`).
pub fn explain_client(estate: &Estate, client: u32) -> String {
    let records = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let sink_records = records.clone();
    let options = crate::model::RunOptions {
        tracer: Some(crate::model::Tracer::new(
            Box::new(move |r: &crate::model::TraceRecord| {
                if r.client.is_some() {
                    sink_records.borrow_mut().push(*r);
                }
            }),
            Some(vec![client]),
        )),
        ..Default::default()
    };
    let _ = crate::model::run_traced(estate, options);
    let records = records.borrow();
    explain(estate, client, &records)
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
