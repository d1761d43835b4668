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
use crate::model::{
    ContentSource, RestartCause, ScanFailure, ScanSource, TraceEvent, TraceRecord,
    state_message_name,
};
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

/// The trace's file name.
pub const TRACE_FILE: &str = "trace.jsonl";

/// `trace.jsonl`, written line by line while a run goes, into the run's
/// staging directory (see [`Staging`](super::Staging)): a run that fails
/// takes it away with the rest. The first write error is kept and reported
/// by [`finish`](Self::finish), which also flushes and syncs: no error is
/// left for a drop to swallow.
pub struct TraceFile<'e> {
    estate: &'e Estate,
    writer: std::io::BufWriter<fs::File>,
    path: PathBuf,
    failure: Option<std::io::Error>,
}

impl<'e> TraceFile<'e> {
    /// Starts `dir/trace.jsonl` (a new file) with the provenance line;
    /// errors name the file as `shown` (where it will be).
    pub fn create(dir: &Path, shown: &Path, estate: &'e Estate) -> Result<Self, Error> {
        let path = shown.to_path_buf();
        let io = |source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(dir.join(TRACE_FILE))
            .map_err(io)?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 16, file);
        writer
            .write_all(trace_header(estate).as_bytes())
            .map_err(io)?;
        Ok(TraceFile {
            estate,
            writer,
            path,
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

    /// Flushes and syncs the file; the first write, flush or sync error.
    pub fn finish(self) -> Result<(), Error> {
        let TraceFile {
            writer,
            path,
            failure,
            ..
        } = self;
        let io = |source| Error::Output {
            path: path.display().to_string(),
            source,
        };
        if let Some(e) = failure {
            return Err(io(e));
        }
        let file = writer.into_inner().map_err(|e| io(e.into_error()))?;
        file.sync_all().map_err(io)
    }
}

/// What a state message means, in words.
fn message_words(topic: u16, state: u8) -> String {
    match state_message_name(topic, state) {
        Some(name) => format!("{name} ({topic}/{state})"),
        None => format!("topic {topic} state {state}"),
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
            TraceEvent::ScanStart {
                source: ScanSource::UpdatePoint,
            } => "starts a compliance scan against its software update point".to_string(),
            TraceEvent::ScanStart {
                source: ScanSource::LocalMetadata,
            } => "starts an offline compliance scan on the metadata it has".to_string(),
            TraceEvent::ScanReused => {
                "its last scan results are current (inside the scan time to live): it evaluates from them"
                    .to_string()
            }
            TraceEvent::ScanFailed { by, retry_ms } => format!(
                "the scan fails {}; it tries again in {}",
                match by {
                    ScanFailure::ManagementPoint => "at the management point",
                    ScanFailure::UpdatePoint => "at the update point",
                    ScanFailure::Error => "with an error",
                },
                took(retry_ms)
            ),
            TraceEvent::ScanDone => "finishes the scan".to_string(),
            TraceEvent::ContentLocationRequest { .. } => {
                format!("starts downloading {dep}: asks its management point where the content is")
            }
            TraceEvent::ContentLocationFailed { retry_ms, .. } => format!(
                "the management point does not answer where {dep} is; it asks again in {}",
                took(retry_ms)
            ),
            TraceEvent::DownloadStart { bytes, .. } => format!(
                "asks its distribution point for {dep} ({:.1} MB)",
                bytes as f64 / 1e6
            ),
            TraceEvent::DownloadDone { .. } => "finishes the download".to_string(),
            TraceEvent::ContentSource { source, bytes, .. } => {
                let mb = bytes as f64 / 1e6;
                match source {
                    ContentSource::PeerCache => {
                        format!("downloads {dep} from a peer cache source ({mb:.1} MB)")
                    }
                    ContentSource::MicrosoftUpdate => format!(
                        "its distribution point is down: downloads {dep} from Microsoft Update ({mb:.1} MB)"
                    ),
                    ContentSource::BranchCache => {
                        format!("gets {mb:.1} MB of {dep} from BranchCache peers")
                    }
                    ContentSource::DeliveryOptimization => {
                        format!("gets {mb:.1} MB of {dep} from Delivery Optimization peers")
                    }
                    ContentSource::DistributionPoint => {
                        format!("goes back to its distribution point for {dep} ({mb:.1} MB)")
                    }
                }
            }
            TraceEvent::PeerGone { bytes, .. } => format!(
                "its peer cache source went away with {:.1} MB of {dep} still to come",
                bytes as f64 / 1e6
            ),
            TraceEvent::InstallStart { length_ms, .. } => {
                format!("starts installing {dep} ({})", took(length_ms))
            }
            TraceEvent::UserInstall { .. } => {
                format!("its user starts installing {dep} from Software Center")
            }
            TraceEvent::DeadlineBroughtForward { ref by, .. } => format!(
                "the deadline of {by} came: it enforces {dep} with it (its deadline falls within the period set)"
            ),
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
            TraceEvent::BatchLost { messages } => {
                format!("its batch of {messages} messages is lost on the way to the site database")
            }
            TraceEvent::ResyncRequested => {
                "the site finds a gap in its state messages and asks it to resync".to_string()
            }
            TraceEvent::Resync { messages } => {
                format!("resends its full state: {messages} state messages")
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
