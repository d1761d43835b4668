//! `trace.jsonl` and `patchsim explain`: the event trace, as machine lines
//! and as one client's story in words.
//!
//! Owns the trace line format (one JSON object per line, fields with no
//! value left out) and the plain-words rendering. The records come from the
//! model's [`Tracer`](crate::model::Tracer).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Serialize;

use crate::error::Error;
use crate::estate::Estate;
use crate::model::{RestartCause, ScanFailure, TraceEvent, TraceRecord};
use crate::output::{format_duration, start_text};

/// One trace line: the record's time and client, then its event's name
/// and fields, with deployments and updates by name.
#[derive(Serialize)]
struct Line<'a> {
    t_ms: u64,
    time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    client: Option<u32>,
    #[serde(flatten)]
    event: TraceEvent<&'a str, &'a str>,
}

/// The local wall-clock time of a simulated instant, RFC 3339.
fn wall(estate: &Estate, r: &TraceRecord) -> String {
    (estate.source.start + Duration::milliseconds(r.time.as_ms() as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The first line of `trace.jsonl`: the provenance, as a JSON object.
pub fn trace_header(estate: &Estate) -> String {
    let header = serde_json::json!({
        "tool": "patchsim",
        "version": crate::VERSION,
        "scenario": estate.source.name,
        "scenario_hash": estate.hash,
        "seed": estate.seed,
        "start": start_text(estate),
    });
    format!("{header}\n")
}

/// One record as a JSON line (with its newline).
pub fn trace_line(estate: &Estate, r: &TraceRecord) -> String {
    let line = Line {
        t_ms: r.time.as_ms(),
        time: wall(estate, r),
        client: r.client.map(|c| c.0),
        event: r.event.map(
            |d| estate.deployments[d.index()].name.as_str(),
            |u| estate.updates[u.index()].id.as_str(),
        ),
    };
    let mut s = serde_json::to_string(&line).expect("a trace line serializes");
    s.push('\n');
    s
}

/// `trace.jsonl`, written line by line while a run goes: under a
/// temporary name in the output directory until [`finish`](Self::finish)
/// renames it, so a run that fails leaves no partial trace under the real
/// name. The first write error is kept and reported by `finish`.
pub struct TraceFile<'e> {
    estate: &'e Estate,
    writer: std::io::BufWriter<fs::File>,
    tmp: PathBuf,
    path: PathBuf,
    failure: Option<std::io::Error>,
}

impl<'e> TraceFile<'e> {
    /// Creates `dir` if needed and starts `dir/.trace.jsonl.tmp` with the
    /// provenance line.
    pub fn create(dir: &Path, estate: &'e Estate) -> Result<Self, Error> {
        let io = |path: &Path| {
            let path = path.display().to_string();
            move |source| Error::Output { path, source }
        };
        fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = dir.join(".trace.jsonl.tmp");
        let file = fs::File::create(&tmp).map_err(io(&tmp))?;
        let mut writer = std::io::BufWriter::new(file);
        writer
            .write_all(trace_header(estate).as_bytes())
            .map_err(io(&tmp))?;
        Ok(TraceFile {
            estate,
            writer,
            path: dir.join("trace.jsonl"),
            tmp,
            failure: None,
        })
    }

    /// Appends one record's line (after a failed write, nothing more).
    pub fn write(&mut self, r: &TraceRecord) {
        if self.failure.is_none()
            && let Err(e) = self.writer.write_all(trace_line(self.estate, r).as_bytes())
        {
            self.failure = Some(e);
        }
    }

    /// Flushes the file and gives it its real name; on any write error the
    /// temporary file is removed and the error returned.
    pub fn finish(mut self) -> Result<PathBuf, Error> {
        let flushed = match self.failure.take() {
            Some(e) => Err(e),
            None => self.writer.flush(),
        };
        if let Err(source) = flushed {
            let path = self.tmp.display().to_string();
            self.discard();
            return Err(Error::Output { path, source });
        }
        fs::rename(&self.tmp, &self.path).map_err(|source| Error::Output {
            path: self.path.display().to_string(),
            source,
        })?;
        Ok(self.path)
    }

    /// Removes the temporary file: the run is abandoned.
    pub fn discard(self) {
        let TraceFile { writer, tmp, .. } = self;
        drop(writer);
        let _ = fs::remove_file(tmp);
    }
}

/// What a state message means, in words.
fn message_words(topic: u16, state: u8) -> String {
    let name = match (topic, state) {
        (500, 0) => "detection: unknown",
        (500, 1) => "detection: not required",
        (500, 2) => "detection: required",
        (500, 3) => "detection: installed",
        (501, 3) => "scan completed",
        (501, 5) => "scan failed",
        (300, 1) => "deployment compliant",
        (300, 2) => "deployment non-compliant",
        (301, 1) => "installing",
        (301, 4) => "successfully installed",
        (301, 5) => "pending system restart",
        (301, 6) => "failed to install",
        (301, 7) => "downloading",
        (301, 8) => "downloaded",
        (301, 10) => "waiting for maintenance window",
        (302, 2) => "evaluation succeeded",
        (402, 9) => "update pending restart",
        (402, 10) => "update installed",
        (402, 11) => "update failed to install",
        _ => "",
    };
    if name.is_empty() {
        format!("topic {topic} state {state}")
    } else {
        format!("{name} ({topic}/{state})")
    }
}

/// One client's story in plain words, one line per record.
pub fn explain(estate: &Estate, client: u32, records: &[TraceRecord]) -> String {
    let mut out = String::new();
    let cohort = estate
        .cohorts
        .iter()
        .find(|c| (c.first_client..c.first_client + c.count).contains(&client))
        .map_or("?", |c| c.name.as_str());
    let _ = writeln!(
        out,
        "client {client} (cohort '{cohort}') in {} seed {}, times local ({}):",
        estate.source.name,
        estate.seed,
        start_text(estate)
    );
    for r in records {
        let named = r.event.map(
            |d| format!("'{}'", estate.deployments[d.index()].name),
            |u| estate.updates[u.index()].id.clone(),
        );
        let dep = named.deployment().map_or("", String::as_str);
        let took = |ms: u64| format_duration(ms as f64 / 3_600_000.0);
        let words = match named {
            TraceEvent::PowerOn => "switched on".to_string(),
            TraceEvent::PowerOff => "switched off".to_string(),
            TraceEvent::PolicyRequest => "asks its management point for policy".to_string(),
            TraceEvent::PolicyReceived { .. } => format!("receives the policy of deployment {dep}"),
            TraceEvent::ScanCycle => "its software update scan schedule fires".to_string(),
            TraceEvent::ReevaluationCycle => {
                "its deployment re-evaluation schedule fires".to_string()
            }
            TraceEvent::ScanStart => "starts a compliance scan".to_string(),
            TraceEvent::ScanFailed { by, retry_ms } => format!(
                "the scan fails at the {}; it tries again in {}",
                match by {
                    ScanFailure::ManagementPoint => "management point",
                    ScanFailure::UpdatePoint => "update point",
                },
                took(retry_ms)
            ),
            TraceEvent::ScanDone => "finishes the scan".to_string(),
            TraceEvent::DownloadStart { bytes, .. } => format!(
                "asks its distribution point for {dep} ({:.1} MB)",
                bytes as f64 / 1e6
            ),
            TraceEvent::DownloadDone { .. } => "finishes the download".to_string(),
            TraceEvent::InstallStart { length_ms, .. } => {
                format!("starts installing {dep} ({})", took(length_ms))
            }
            TraceEvent::InstallDone => "finishes installing".to_string(),
            TraceEvent::BackgroundInstallDone { ref update } => {
                format!("{update} finishes installing in the background")
            }
            TraceEvent::RestartPlanned { cause, in_ms } => format!(
                "will restart in {} ({})",
                took(in_ms),
                match cause {
                    RestartCause::User => "user",
                    RestartCause::Forced => "forced",
                    RestartCause::InWindow => "maintenance_window",
                    RestartCause::Scheduled => "scheduled",
                }
            ),
            TraceEvent::RestartDue => "the restart is due".to_string(),
            TraceEvent::RestartStart { length_ms } => format!("restarts ({})", took(length_ms)),
            TraceEvent::RestartDone => "is back from the restart".to_string(),
            TraceEvent::MessageQueued {
                ref update,
                topic,
                state,
                ..
            } => {
                let about = update.as_deref().unwrap_or(dep);
                let what = message_words(topic, state);
                format!("queues a state message: {what} {about}")
                    .trim_end()
                    .to_string()
            }
            TraceEvent::BatchSent { messages } => {
                format!("sends {messages} state messages to its management point")
            }
            TraceEvent::BatchInDatabase { messages } => {
                format!("its batch of {messages} messages reaches the site database")
            }
            TraceEvent::TrueState { from, to, .. } => {
                format!("truly {} → {} for {dep}", from.name(), to.name())
            }
            TraceEvent::ReportedState { from, to, .. } => format!(
                "the site now shows {} → {} for {dep}",
                from.name(),
                to.name()
            ),
            // Site events: not about one client (explain shows only its own).
            other => other.name().replace('_', " "),
        };
        let stamp = (estate.source.start + Duration::milliseconds(r.time.as_ms() as i64))
            .format("%a %Y-%m-%d %H:%M:%S");
        let _ = writeln!(out, "{stamp}  {words}");
    }
    out
}
