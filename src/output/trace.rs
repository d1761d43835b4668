//! `trace.jsonl` and `patchsim explain`: the event trace, as machine lines
//! and as one client's story in words.
//!
//! Owns the trace line format (one JSON object per line, fields with no
//! value left out) and the plain-words rendering: routine stretches
//! collapsed, each wait with the reason the run shows for it (read from the
//! outcome: the client's deadline, the DP's queue, the SUP's queue or
//! fault), and a verdict. The records come from the model's
//! [`Tracer`](crate::model::Tracer).

use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::Duration;
use serde::Serialize;

use super::html::decimal_bytes;
use crate::engine::SimTime;
use crate::error::Error;
use crate::estate::{ClientId, DeploymentId, Estate};
use crate::model::{
    ContentSource, DownloadFailure, Outcome, RestartCause, ScanCause, ScanFailure, ScanSource,
    ServerRole, TraceEvent, TraceRecord, state_message_name,
};
use crate::output::{format_duration, plural, start_text, thousands};

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

/// Why an online scan runs, in words.
fn scan_cause_text(cause: ScanCause) -> &'static str {
    match cause {
        ScanCause::Evaluation => "to evaluate its deployments",
        ScanCause::Enforcement => {
            "a Required deployment's download or install is due and its last results are not current"
        }
        ScanCause::Reevaluation => "its deployment re-evaluation schedule",
        ScanCause::Schedule => "its scan schedule",
        // Offline: its own line says so.
        ScanCause::Verification => "to verify its install or restart",
    }
}

/// The location whose WAN link the record's client downloads across.
fn link_of<'e>(estate: &'e Estate, r: &TraceRecord) -> Option<&'e str> {
    let cohort = estate.cohort_of(r.client?)?;
    (cohort.crosses.or(cohort.location)).map(|l| estate.locations[l.index()].name.as_str())
}

/// The name of the DP at place `dp` in the scenario's list.
fn dp_name(estate: &Estate, dp: u64) -> &str {
    (estate.distribution_points.get(dp as usize)).map_or("?", |d| d.name.as_str())
}

/// The words for one record of a client's story.
fn words(estate: &Estate, r: &TraceRecord) -> String {
    let named = r.event.map(
        |d| format!("'{}'", estate.deployments[d.index()].name),
        |u| estate.updates[u.index()].id.clone(),
    );
    let dep = named.deployment().map_or("", String::as_str);
    let took = |ms: u64| format_duration(ms as f64 / 3_600_000.0);
    match named {
        TraceEvent::PowerOn => "switched on".to_string(),
        TraceEvent::PowerOff => "switched off".to_string(),
        TraceEvent::PolicyRequest => "asks its management point for policy".to_string(),
        TraceEvent::PolicyFailed { retry_ms } => format!(
            "its management point turns the policy request down; it asks again in {}",
            took(retry_ms)
        ),
        TraceEvent::MpSwitch { mp } => format!(
            "after five failures in a row it moves to management point {}",
            estate
                .management_points
                .get(usize::from(mp))
                .map_or("?", |m| m.name.as_str())
        ),
        TraceEvent::PolicyReceived { .. } => format!("receives the policy of deployment {dep}"),
        TraceEvent::PolicyDisabled { .. } => format!(
            "learns from its policy that deployment {dep} is disabled (its phased deployment is suspended): it starts none of its steps"
        ),
        TraceEvent::PolicyEnabled { .. } => format!(
            "learns from its policy that deployment {dep} is enabled again (its phased deployment is resumed)"
        ),
        TraceEvent::ScanCycle => "its software update scan schedule fires".to_string(),
        TraceEvent::ReevaluationCycle => "its deployment re-evaluation schedule fires".to_string(),
        TraceEvent::ScanStart {
            source: ScanSource::UpdatePoint,
            sup,
            cause,
        } => match sup.and_then(|i| estate.update_points.get(usize::from(i))) {
            Some(sup) => format!(
                "starts a compliance scan against its software update point {}: {}",
                sup.name,
                scan_cause_text(cause)
            ),
            // Only a client whose group policy names another server.
            None => format!("starts a compliance scan against the update server its group policy names, not this site's: {}", scan_cause_text(cause)),
        },
        TraceEvent::ScanStart {
            source: ScanSource::LocalMetadata,
            ..
        } => "starts an offline compliance scan on the metadata it has, to verify its install or restart".to_string(),
        TraceEvent::ScanReused => {
            "its last scan results are current (inside the scan time to live): it evaluates from them"
                .to_string()
        }
        TraceEvent::ScanFailed { by, retry_ms } => {
            let how = match by {
                ScanFailure::ManagementPoint => "at the management point",
                ScanFailure::UpdatePoint => "at the update point",
                ScanFailure::Error => "with an error",
                ScanFailure::WanLink => "at the WAN link to the site, which is down",
                ScanFailure::OtherServer => "at the other server (a GPO conflict)",
                ScanFailure::Agent => "on its broken Windows Update agent",
            };
            match retry_ms {
                Some(ms) => format!("the scan fails {how}; it tries again in {}", took(ms)),
                None => format!(
                    "the scan fails {how}; it tries again at its next scan or re-evaluation"
                ),
            }
        }
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
                    "its distribution point cannot serve it (down, across a link that is down, or without the content yet): downloads {dep} from Microsoft Update ({mb:.1} MB)"
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
        TraceEvent::AcrossWanLink { latency_ms, .. } => format!(
            "its distribution point is across the WAN link of {}: the download of {dep} crosses it, starting {latency_ms} ms later (the link's latency) and sharing its bandwidth",
            link_of(estate, r).unwrap_or("its location")
        ),
        TraceEvent::ContentNotOnDp { retry_ms, .. } => format!(
            "the management point finds {dep} on none of its distribution points (not yet copied across the WAN link to its branch DP); it asks again in {}",
            took(retry_ms)
        ),
        TraceEvent::DpFallback { dp, .. } => format!(
            "it has looked for {dep} on its own distribution point for its location's fallback time: it downloads it from {}, in the site's default boundary group, across the WAN link",
            dp_name(estate, dp)
        ),
        TraceEvent::ContentCopied { dp, .. } => format!(
            "{dep} has crossed the WAN link to distribution point {}",
            dp_name(estate, dp)
        ),
        TraceEvent::CopyPaced { dp, bps: 0, .. } => format!(
            "the schedule of distribution point {} holds {dep} back: the site sends it when the schedule next lets it",
            dp_name(estate, dp)
        ),
        TraceEvent::CopyPaced { dp, bps, .. } => format!(
            "the site sends {dep} to distribution point {} at up to {} (its rate limit and schedule for this hour)",
            dp_name(estate, dp),
            crate::scenario::Bandwidth(bps)
        ),
        TraceEvent::DownloadFailed { by, bytes, .. } => format!(
            "its download fails with {:.1} MB of {dep} still to come: {}",
            bytes as f64 / 1e6,
            match by {
                DownloadFailure::DistributionPoint => "its DP is down",
                DownloadFailure::WanLink => "the WAN link to its DP is down",
            }
        ),
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
        TraceEvent::Superseded { ref update } => {
            format!("{update} is no longer required: an update that supersedes it took effect")
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
        TraceEvent::WsusRecycle { sup, bytes } => format!(
            "the WsusPool of {} recycles at its private memory limit (a scan would have taken it to {}): every scan in service there fails with HTTP 503",
            (estate.update_points.get(sup as usize)).map_or("?", |u| u.name.as_str()),
            decimal_bytes(bytes)
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
        TraceEvent::InstallReport => {
            "sends the state of its last install, within two minutes rather than at its \
             reporting tick"
                .to_string()
        }
        TraceEvent::BatchSent { messages } => {
            format!(
                "sends {} to its management point",
                plural(messages as usize, "state message")
            )
        }
        TraceEvent::BatchInDatabase { messages } => format!(
            "its batch of {} reaches the site database",
            plural(messages as usize, "message")
        ),
        TraceEvent::BatchLost { messages } => format!(
            "its batch of {} is lost on the way to the site database",
            plural(messages as usize, "message")
        ),
        TraceEvent::BatchReturned { messages } => format!(
            "its management point goes down while serving its batch: the {} go back to its queue",
            plural(messages as usize, "message")
        ),
        TraceEvent::ResyncRequested => {
            "the site finds a gap in its state messages and asks it to resync".to_string()
        }
        TraceEvent::Resync { messages } => format!(
            "resends its full state: {}",
            plural(messages as usize, "state message")
        ),
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
    }
}

/// A simulated instant as the client's local clock shows it.
fn stamp(estate: &Estate, t: SimTime) -> String {
    (estate.source.start + Duration::milliseconds(t.as_ms() as i64))
        .format("%a %Y-%m-%d %H:%M:%S")
        .to_string()
}

/// Events that happen again and again without news: collapsed into one
/// line per quiet stretch unless `--verbose`.
fn routine(e: &TraceEvent) -> bool {
    matches!(
        e,
        TraceEvent::PowerOn
            | TraceEvent::PowerOff
            | TraceEvent::PolicyRequest
            | TraceEvent::ScanCycle
            | TraceEvent::ReevaluationCycle
    )
}

/// One quiet stretch of routine events, said in one line.
fn quiet_words(estate: &Estate, stretch: &[&TraceRecord]) -> String {
    let count = |f: fn(&TraceEvent) -> bool| stretch.iter().filter(|r| f(&r.event)).count();
    let polls = count(|e| matches!(e, TraceEvent::PolicyRequest));
    let ons = count(|e| matches!(e, TraceEvent::PowerOn));
    let offs = count(|e| matches!(e, TraceEvent::PowerOff));
    let cycles = count(|e| matches!(e, TraceEvent::ScanCycle | TraceEvent::ReevaluationCycle));
    let mut parts = Vec::new();
    if polls > 0 {
        parts.push(format!(
            "polls for policy {polls} time{}, nothing new",
            if polls == 1 { "" } else { "s" }
        ));
    }
    let times = |n: usize| match n {
        1 => "once".to_string(),
        2 => "twice".to_string(),
        n => format!("{n} times"),
    };
    match (ons, offs) {
        (0, 0) => {}
        (0, off) => parts.push(format!("switched off {}", times(off))),
        (on, 0) => parts.push(format!("switched on {}", times(on))),
        (on, off) => parts.push(format!("switched on {} and off {}", times(on), times(off))),
    }
    if cycles > 0 {
        parts.push(format!(
            "schedules fire {} with nothing to do",
            times(cycles)
        ));
    }
    let last = stretch[stretch.len() - 1].time;
    if parts.is_empty() {
        parts.push("nothing new".to_string());
    }
    format!("until {}: {}", &stamp(estate, last)[4..], parts.join("; "))
}

/// A loop a client retries until it gets through: asking for content not
/// yet on its branch DP (deployment), downloading from a DP that is down
/// or across a WAN link that is down (deployment), or scanning against a
/// SUP that turns it down.
#[derive(Clone, Copy)]
enum Retry {
    Content(DeploymentId),
    Download(DeploymentId),
    Scan,
    Policy,
}

impl Retry {
    /// The deployment whose content the loop is after.
    fn deployment(self) -> Option<DeploymentId> {
        match self {
            Retry::Content(d) | Retry::Download(d) => Some(d),
            Retry::Scan | Retry::Policy => None,
        }
    }

    /// The failure each round of the loop ends with.
    fn failure(self, e: &TraceEvent) -> bool {
        match self {
            Retry::Content(d) => {
                matches!(*e, TraceEvent::ContentNotOnDp { deployment, .. } if deployment == d)
            }
            Retry::Download(d) => {
                matches!(*e, TraceEvent::DownloadFailed { deployment, .. } if deployment == d)
            }
            Retry::Scan => matches!(
                e,
                TraceEvent::ScanFailed {
                    retry_ms: Some(_),
                    ..
                }
            ),
            Retry::Policy => matches!(e, TraceEvent::PolicyFailed { .. }),
        }
    }

    /// What a round of the loop does besides (routine events, the
    /// messages it queues and sends, the state changes it makes).
    fn noise(self, e: &TraceEvent) -> bool {
        if routine(e)
            || matches!(
                e,
                TraceEvent::MessageQueued { .. }
                    | TraceEvent::InstallReport
                    | TraceEvent::BatchSent { .. }
                    | TraceEvent::BatchInDatabase { .. }
            )
        {
            return true;
        }
        match self {
            Retry::Content(d) => match *e {
                // The check before each try, from current results.
                TraceEvent::ScanReused => true,
                TraceEvent::ContentLocationRequest { deployment }
                | TraceEvent::TrueState { deployment, .. }
                | TraceEvent::ReportedState { deployment, .. } => deployment == d,
                _ => false,
            },
            Retry::Download(d) => match *e {
                TraceEvent::ScanReused => true,
                TraceEvent::ContentLocationRequest { deployment }
                | TraceEvent::DownloadStart { deployment, .. }
                | TraceEvent::DpFallback { deployment, .. }
                | TraceEvent::TrueState { deployment, .. }
                | TraceEvent::ReportedState { deployment, .. } => deployment == d,
                _ => false,
            },
            Retry::Scan => matches!(
                e,
                TraceEvent::ScanStart { .. } | TraceEvent::WsusRecycle { .. }
            ),
            // Its asks are routine (policy requests).
            Retry::Policy => false,
        }
    }

    /// Where the rounds that follow a first failure end, from `start`:
    /// past the last failure (and, for content, the state change back at
    /// its instant) of the stretch of records the loop makes; `start` if
    /// there is none.
    fn end(self, records: &[TraceRecord], start: usize) -> usize {
        let mut end = start;
        let mut j = start;
        while let Some(r) = records.get(j) {
            let failed = self.failure(&r.event);
            if !failed && !self.noise(&r.event) {
                break;
            }
            j += 1;
            if failed {
                end = j;
                if let Some(d) = self.deployment()
                    && records.get(j).is_some_and(|n| {
                        n.time == r.time
                            && matches!(n.event, TraceEvent::TrueState { deployment, .. } if deployment == d)
                    })
                {
                    j += 1;
                    end = j;
                }
            }
        }
        end
    }

    /// A stretch of rounds ([`Retry::end`]), said in one line.
    fn words(self, estate: &Estate, stretch: &[TraceRecord]) -> String {
        let count =
            |f: &dyn Fn(&TraceEvent) -> bool| stretch.iter().filter(|r| f(&r.event)).count();
        let times = |n: usize| match n {
            1 => "once".to_string(),
            2 => "twice".to_string(),
            n => format!("{n} times"),
        };
        let rounds = times(count(&|e| self.failure(e)));
        let what = match self {
            Retry::Content(_) => format!(
                "asks again {rounds}, and the content is on none of its distribution points each time"
            ),
            Retry::Download(_) => {
                let by = |f: DownloadFailure| {
                    count(&|e| matches!(e, TraceEvent::DownloadFailed { by, .. } if *by == f))
                };
                let parts: Vec<String> = [
                    (DownloadFailure::DistributionPoint, "its DP is down"),
                    (DownloadFailure::WanLink, "the WAN link to its DP is down"),
                ]
                .into_iter()
                .filter(|&(f, _)| by(f) > 0)
                .map(|(f, what)| format!("{what} {}", times(by(f))))
                .collect();
                format!(
                    "asks for the content again {rounds}, and each download fails: {}",
                    parts.join(", ")
                )
            }
            Retry::Scan => {
                let by = |f: ScanFailure| {
                    count(&|e| matches!(e, TraceEvent::ScanFailed { by, .. } if *by == f))
                };
                let parts: Vec<String> = [
                    (ScanFailure::UpdatePoint, "at the update point"),
                    (ScanFailure::ManagementPoint, "at the management point"),
                    (ScanFailure::Error, "with an error"),
                    (ScanFailure::WanLink, "at the WAN link, which is down"),
                ]
                .into_iter()
                .filter(|&(f, _)| by(f) > 0)
                .map(|(f, at)| {
                    let recycles = count(&|e| matches!(e, TraceEvent::WsusRecycle { .. }));
                    if f == ScanFailure::UpdatePoint && recycles > 0 {
                        // Each recycle kept in the story failed this client's scan.
                        format!(
                            "{at} {} ({} as its WsusPool recycled)",
                            times(by(f)),
                            times(recycles)
                        )
                    } else {
                        format!("{at} {}", times(by(f)))
                    }
                })
                .collect();
                format!("scans again {rounds}, and each fails: {}", parts.join(", "))
            }
            Retry::Policy => {
                format!("asks for policy again {rounds}, and its management point turns each down")
            }
        };
        let mut line = format!(
            "until {}: {what}",
            &stamp(estate, stretch[stretch.len() - 1].time)[4..]
        );
        let batches = count(&|e| matches!(e, TraceEvent::BatchSent { .. }));
        if batches > 0 {
            let noun = if batches == 1 { "batch" } else { "batches" };
            line += &format!("; sends {batches} {noun} of state messages");
        }
        // (A policy retry's own asks, and the polls that find a request
        // still out, are the rounds already told.)
        let quiet: Vec<&TraceRecord> = (stretch.iter())
            .filter(|r| routine(&r.event))
            .filter(|r| !matches!((self, &r.event), (Retry::Policy, TraceEvent::PolicyRequest)))
            .collect();
        if !quiet.is_empty() {
            let words = quiet_words(estate, &quiet);
            line += &format!(
                "; {}",
                words.split_once(": ").map_or(words.as_str(), |w| w.1)
            );
        }
        line
    }
}

/// The SUP the client's last scan before the records' end went to, as
/// its `scan_start` record names it.
fn current_sup(before: &[TraceRecord]) -> Option<crate::estate::SupId> {
    before.iter().rev().find_map(|b| match b.event {
        TraceEvent::ScanStart { sup, .. } => Some(crate::estate::SupId(sup?)),
        _ => None,
    })
}

/// The server of `role` named `name`, as an index into the outcome's
/// servers.
fn server_index(outcome: &Outcome, role: ServerRole, name: &str) -> Option<usize> {
    outcome
        .servers
        .iter()
        .position(|s| s.role == role && s.name == name)
}

/// The fault that has `server` down at `t`, if any.
fn outage(
    estate: &Estate,
    server: crate::estate::ServerRef,
    t: SimTime,
) -> Option<&crate::estate::FaultSpec> {
    (estate.faults.iter())
        .find(|f| f.slowdown.is_none() && f.start <= t && t < f.end && f.server == server)
}

/// The load row of server `i` at the first sample at or after `t`.
fn load_at(outcome: &Outcome, i: usize, t: SimTime) -> Option<&crate::model::LoadRow> {
    outcome
        .load
        .iter()
        .find(|row| row.server == i && row.time >= t)
}

/// Which sample a figure quoted for an event at `now` is from: the load
/// timeline's first sample at or after it, which may be a later hour.
fn sample_when(estate: &Estate, sample: SimTime, now: SimTime) -> String {
    let at = &stamp(estate, sample)[15..20];
    if sample == now {
        format!("at this sample ({at})")
    } else {
        format!("at the next sample ({at})")
    }
}

/// Why a client waits, where the run shows a reason: the deadline, a
/// maintenance window, the DP's queue, a busy or failed SUP.
fn reason(
    estate: &Estate,
    outcome: &Outcome,
    client: u32,
    cohort: &crate::estate::CohortSpec,
    before: &[TraceRecord],
    r: &TraceRecord,
) -> Option<String> {
    let assignment = |d: crate::estate::DeploymentId| {
        &outcome.deployments[d.index()].assignments[client as usize]
    };
    match r.event {
        TraceEvent::DownloadStart { .. }
            if cohort.crosses.is_some()
                || before.last().is_some_and(|b| {
                    b.time == r.time && matches!(b.event, TraceEvent::DpFallback { .. })
                }) =>
        {
            // Across its location's link: its DP is there, or it fell back.
            let link = &estate.locations[cohort.crosses.or(cohort.location)?.index()];
            let i = server_index(outcome, ServerRole::WanLink, &link.name)?;
            let row = load_at(outcome, i, r.time)?;
            let from = row
                .time
                .as_ms()
                .saturating_sub(estate.sample_interval.as_ms());
            let ms = row.time.as_ms() - from;
            let used =
                row.bytes as f64 * 8.0 * 1000.0 / (ms.max(1) as f64 * link.bandwidth_bps as f64);
            Some(format!(
                "{}, the WAN link of {} carries {} transfers; from {} to {} it used {:.0} % \
                 of its bandwidth",
                sample_when(estate, row.time, r.time),
                link.name,
                thousands(u64::from(row.busy)),
                &stamp(estate, SimTime(from))[15..20],
                &stamp(estate, row.time)[15..20],
                used * 100.0,
            ))
        }
        TraceEvent::DownloadStart { .. } => {
            let dp = &estate.distribution_points[cohort.dp?.index()];
            let i = server_index(outcome, ServerRole::DistributionPoint, &dp.name)?;
            let row = load_at(outcome, i, r.time)?;
            Some(format!(
                "{}, {} has {} downloads waiting for a connection and {} in progress",
                sample_when(estate, row.time, r.time),
                dp.name,
                thousands(u64::from(row.queue)),
                thousands(u64::from(row.busy)),
            ))
        }
        TraceEvent::ContentNotOnDp { deployment, .. } => {
            let dp = cohort.dp?;
            let name = &estate.distribution_points[dp.index()].name;
            let arrives = (outcome.content_copied_at.get(dp.index()))
                .and_then(|at| at[deployment.index()])
                .filter(|&at| at > r.time)
                .map_or("it never arrives".to_string(), |at| {
                    format!("it arrives {}", stamp(estate, at))
                });
            let priority = estate.deployments[deployment.index()].distribution_priority;
            Some(if estate.copy_held(dp, priority, r.time) {
                format!("the schedule of {name} holds the copy back at this hour; {arrives}")
            } else {
                let spec = &estate.distribution_points[dp.index()];
                match spec.pull_from.first() {
                    Some(source) => format!(
                        "{name} is a pull DP: it downloads the content from {} once the site's check (every 20 minutes) finds it there; {arrives}",
                        estate.distribution_points[source.index()].name
                    ),
                    None => format!(
                        "the site is sending it to {name} across the WAN link ({} copies at a time); {arrives}",
                        estate.site.copy_threads
                    ),
                }
            })
        }
        TraceEvent::PolicyFailed { .. } => {
            // Its cohort's MP, unless it moved to another.
            let mp = (before.iter().rev())
                .find_map(|b| match b.event {
                    TraceEvent::MpSwitch { mp } => Some(crate::estate::MpId(mp)),
                    _ => None,
                })
                .unwrap_or(cohort.mp);
            let name = &estate.management_points[mp.index()].name;
            if let Some(f) = outage(estate, crate::estate::ServerRef::Mp(mp), r.time) {
                return Some(format!(
                    "{name} is down (a fault) until {}",
                    stamp(estate, f.end)
                ));
            }
            let i = server_index(outcome, ServerRole::ManagementPoint, name)?;
            let row = load_at(outcome, i, r.time)?;
            Some(format!(
                "{name} has {} requests waiting (queue limit {}) and turns new ones away",
                thousands(u64::from(row.queue)),
                thousands(u64::from(estate.management_points[mp.index()].queue_limit))
            ))
        }
        TraceEvent::ScanFailed {
            by: ScanFailure::UpdatePoint,
            ..
        } if before.last().is_some_and(|b| {
            b.time == r.time && matches!(b.event, TraceEvent::WsusRecycle { .. })
        }) =>
        {
            let b = before.last()?;
            let TraceEvent::WsusRecycle { sup, bytes } = b.event else {
                return None;
            };
            let sup = estate.update_points.get(sup as usize)?;
            let limit = (sup.wsus_pool?.limit).map_or("none".to_string(), decimal_bytes);
            Some(format!(
                "the WsusPool of {} recycled at its private memory limit of {limit} (a scan would have taken it to {}), failing every scan in service with HTTP 503",
                sup.name,
                decimal_bytes(bytes)
            ))
        }
        TraceEvent::ScanFailed {
            by: ScanFailure::UpdatePoint,
            ..
        } => {
            let sup = current_sup(before)?;
            let name = &estate.update_points[sup.index()].name;
            if outage(estate, crate::estate::ServerRef::Sup(sup), r.time).is_some() {
                return Some(format!("its SUP {name} is down (a fault)"));
            }
            let spec = &estate.update_points[sup.index()];
            let i = server_index(outcome, ServerRole::UpdatePoint, name)?;
            let row = load_at(outcome, i, r.time)?;
            Some(format!(
                "SUP busy: {name} has {} scans waiting (queue limit {}) and answers 503",
                thousands(u64::from(row.queue)),
                thousands(u64::from(spec.queue_limit))
            ))
        }
        TraceEvent::TrueState {
            deployment,
            from,
            to,
            ..
        } => {
            let spec = &estate.deployments[deployment.index()];
            if from.name() == "required/pending_restart"
                && before
                    .last()
                    .is_some_and(|b| b.time == r.time && matches!(b.event, TraceEvent::PowerOn))
            {
                return Some("switched off and on again, which did the restart".to_string());
            }
            if from.name() == "required/downloading"
                && before
                    .last()
                    .is_some_and(|b| b.time == r.time && matches!(b.event, TraceEvent::PowerOff))
            {
                return Some("switched off, which cancelled the download".to_string());
            }
            match to.name() {
                "required/downloaded" if spec.purpose == crate::estate::Purpose::Required => {
                    let deadline = assignment(deployment).deadline_at();
                    // Earlier than the deployment's own deadline: another
                    // deployment's deadline brought it forward.
                    let own = outcome.deployments[deployment.index()].deadline;
                    let whose = if own.is_some_and(|own| deadline < own) {
                        "another deployment's deadline, which enforces it too"
                    } else {
                        "the deadline"
                    };
                    (deadline > r.time && deadline != SimTime::MAX).then(|| {
                        format!(
                            "waits for {whose}, {} ({} away)",
                            stamp(estate, deadline),
                            format_duration(deadline.since(r.time).as_ms() as f64 / 3.6e6)
                        )
                    })
                }
                "required/downloaded" => Some("waits for the user to install it".to_string()),
                "required/waiting_window" => Some(
                    "the deadline has passed: waits for a maintenance window long enough for the install"
                        .to_string(),
                ),
                _ => None,
            }
        }
        TraceEvent::InstallStart { deployment, .. } => {
            let spec = &estate.deployments[deployment.index()];
            if spec.purpose == crate::estate::Purpose::Available {
                return Some("the user starts it from Software Center".to_string());
            }
            let deadline = assignment(deployment).deadline_at();
            if r.time == deadline {
                Some(format!(
                    "the deadline ({}) starts it",
                    stamp(estate, deadline)
                ))
            } else if r.time > deadline
                && before
                    .iter()
                    .rev()
                    .find(|b| matches!(b.event, TraceEvent::ScanStart { .. }))
                    .is_some_and(|b| b.time == deadline)
            {
                // At its deadline the client scans first, then installs.
                Some(format!(
                    "the deadline ({}) starts it, after the scan it runs first",
                    stamp(estate, deadline)
                ))
            } else if r.time > deadline
                && let Some(enabled) = before.iter().rev().find(|b| {
                    b.event == TraceEvent::PolicyEnabled { deployment } && b.time > deadline
                })
            {
                // Held past its deadline by a suspension.
                Some(format!(
                    "past the deadline ({}), held by the suspension of its phased deployment until it learned the resume ({})",
                    stamp(estate, deadline),
                    stamp(estate, enabled.time)
                ))
            } else if r.time > deadline {
                Some(format!(
                    "past the deadline ({}){}",
                    stamp(estate, deadline),
                    if spec.honor_maintenance_windows
                        && !cohort
                            .update_windows(&estate.settings[cohort.settings.index()])
                            .is_empty()
                    {
                        ", in a maintenance window"
                    } else {
                        ""
                    }
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// The one-line verdict on each deployment that targets the client: when
/// it was compliant, true and reported, and the longest wait on the way.
fn verdicts(
    estate: &Estate,
    outcome: &Outcome,
    client: u32,
    records: &[TraceRecord],
) -> Vec<String> {
    let h = |ms: u64| format_duration(ms as f64 / 3.6e6);
    let mut out = Vec::new();
    for (d, spec) in estate.deployments.iter().enumerate() {
        let Some(a) = outcome.deployments[d].assignments.get(client as usize) else {
            continue; // one no rule's run made
        };
        if !a.is_targeted() || !outcome.shown(estate, d) {
            continue; // not its, or one no rule's run made
        }
        // A later phase of a phased deployment counts from when it began.
        let Some(created) = outcome.deployments[d].created else {
            out.push(format!(
                "verdict for '{}': the phase never began (the phase before it did not meet its criterion in time)",
                spec.name
            ));
            continue;
        };
        let mine = |f: &dyn Fn(&TraceEvent) -> bool| {
            records
                .iter()
                .find(|r| f(&r.event) && r.event.deployment().is_none_or(|x| x.index() == d))
                .map(|r| r.time)
        };
        if a.true_compliant_at == SimTime::ZERO {
            out.push(format!(
                "verdict for '{}': compliant from the start (nothing it needs was missing)",
                spec.name
            ));
            continue;
        }
        if a.true_compliant_at == SimTime::MAX {
            // A client whose scans fail for good never evaluates.
            let failing = records.iter().rev().find_map(|r| match r.event {
                TraceEvent::ScanFailed {
                    by: by @ (ScanFailure::OtherServer | ScanFailure::Agent),
                    retry_ms: None,
                } => Some(by),
                _ => None,
            });
            let last = records
                .iter()
                .rev()
                .find_map(|r| match r.event {
                    TraceEvent::TrueState { deployment, to, .. } if deployment.index() == d => {
                        Some(to.name())
                    }
                    _ => None,
                })
                .unwrap_or(match failing {
                    Some(ScanFailure::OtherServer) => "unknown",
                    _ => "not evaluated",
                });
            let why = match failing {
                _ if records.is_empty() => {
                    "; it never came online during the run (a dormant device, or one off throughout)"
                }
                Some(ScanFailure::OtherServer) => {
                    "; its scans go to the update server its group policy names (a GPO conflict), so they fail"
                }
                Some(_) => "; every scan fails on its broken Windows Update agent",
                None => "",
            };
            out.push(format!(
                "verdict for '{}': not compliant at the end of the run; its last state is {last}{why}",
                spec.name
            ));
            continue;
        }
        // The milestones of its path, in order, and the waits between them.
        let milestones: Vec<(&str, Option<SimTime>)> = vec![
            ("created", Some(created)),
            (
                "waiting for policy",
                (a.learned_at != SimTime::MAX).then_some(a.learned_at),
            ),
            (
                "scanning and waiting for content",
                mine(&|e| matches!(e, TraceEvent::DownloadStart { .. })),
            ),
            (
                "downloading",
                mine(&|e| matches!(e, TraceEvent::DownloadDone { .. })),
            ),
            (
                "waiting for the deadline",
                (spec.purpose == crate::estate::Purpose::Required
                    && a.deadline_at() != SimTime::MAX
                    && a.install_started_at != SimTime::MAX
                    && a.deadline_at() <= a.install_started_at)
                    .then_some(a.deadline_at()),
            ),
            (
                // An install before the deadline is the user's, from
                // Software Center, which no window gates.
                if spec.purpose == crate::estate::Purpose::Available
                    || a.install_started_at < a.deadline_at()
                {
                    "waiting for the user"
                } else if spec.honor_maintenance_windows
                    && estate.cohort_of(ClientId(client)).is_some_and(|c| {
                        !(c.update_windows(&estate.settings[c.settings.index()])).is_empty()
                    })
                {
                    "waiting for a maintenance window"
                } else {
                    "waiting after the deadline for the client to be on and scan"
                },
                (a.install_started_at != SimTime::MAX).then_some(a.install_started_at),
            ),
            (
                "installing",
                (a.install_started_at != SimTime::MAX)
                    .then(|| {
                        records
                            .iter()
                            .find(|r| {
                                r.time >= a.install_started_at
                                    && matches!(r.event, TraceEvent::InstallDone)
                            })
                            .map(|r| r.time)
                    })
                    .flatten(),
            ),
            ("waiting for the restart", Some(a.true_compliant_at)),
        ];
        let mut longest: Option<(&str, u64)> = None;
        // Every client of a Required deployment waits for its deadline:
        // what set this one apart is what came after.
        let mut after_deadline: Option<(SimTime, Option<(&str, u64)>)> = None;
        let mut prev = created;
        for (label, at) in milestones.into_iter().skip(1) {
            let Some(at) = at.filter(|&t| t >= prev) else {
                continue;
            };
            let wait = at.since(prev).as_ms();
            if longest.is_none_or(|(_, w)| wait > w) {
                longest = Some((label, wait));
            }
            if let Some((_, worst)) = &mut after_deadline
                && wait > 0
                && worst.is_none_or(|(_, w)| wait > w)
            {
                *worst = Some((label, wait));
            }
            if label == "waiting for the deadline" {
                after_deadline = Some((at, None));
            }
            prev = at;
        }
        let after = match after_deadline {
            Some((deadline, Some((label, wait))))
                if longest.is_some_and(|(l, _)| l == "waiting for the deadline") =>
            {
                format!(
                    "; from the deadline, compliant in {}, most of it {label} ({})",
                    h(a.true_compliant_at.since(deadline).as_ms()),
                    h(wait)
                )
            }
            _ => String::new(),
        };
        // The time it knew the deployment disabled, its phased deployment
        // suspended, before it was compliant.
        let mut held = 0;
        let mut since = None;
        for r in records.iter().take_while(|r| r.time <= a.true_compliant_at) {
            match r.event {
                TraceEvent::PolicyDisabled { deployment } if deployment.index() == d => {
                    since = Some(r.time);
                }
                TraceEvent::PolicyEnabled { deployment } if deployment.index() == d => {
                    held += since.take().map_or(0, |t| r.time.since(t).as_ms());
                }
                _ => {}
            }
        }
        let held = match held {
            0 => String::new(),
            ms => format!("; it knew its phased deployment suspended for {}", h(ms)),
        };
        let reported = if a.reported_compliant_at == SimTime::MAX {
            "not reported compliant by the end".to_string()
        } else {
            format!(
                "reported {} after creation ({} after the truth)",
                h(a.reported_compliant_at.since(created).as_ms()),
                h(a.reported_compliant_at.since(a.true_compliant_at).as_ms())
            )
        };
        out.push(format!(
            "verdict for '{}': compliant {} after creation, {reported}; the longest wait was {} ({}){after}{held}",
            spec.name,
            h(a.true_compliant_at.since(created).as_ms()),
            longest.map_or("none", |l| l.0),
            longest.map_or_else(|| "0s".to_string(), |l| h(l.1)),
        ));
    }
    out
}

/// One client's story in plain words. With `verbose`, one line per record;
/// otherwise stretches of routine events (polls that bring nothing new,
/// power switching, idle schedule cycles) are one line each, waits carry
/// their reason (the deadline, a window, the DP's queue, a busy SUP), and
/// a verdict per deployment ends it.
pub fn explain(
    estate: &Estate,
    outcome: &Outcome,
    client: u32,
    records: &[TraceRecord],
    verbose: bool,
) -> String {
    let mut out = String::new();
    let cohort = estate.cohort_of(ClientId(client));
    let _ = writeln!(
        out,
        "client {client} (cohort '{}') in {} seed {}, times local ({}):",
        cohort.map_or("?", |c| c.name.as_str()),
        estate.source.name,
        estate.seed,
        start_text(estate)
    );
    if verbose {
        for r in records {
            let _ = writeln!(out, "{}  {}", stamp(estate, r.time), words(estate, r));
        }
        return out;
    }
    let mut quiet: Vec<&TraceRecord> = Vec::new();
    let flush = |quiet: &mut Vec<&TraceRecord>, out: &mut String| {
        match quiet.len() {
            0 => {}
            1 => {
                let r = quiet[0];
                let _ = writeln!(out, "{}  {}", stamp(estate, r.time), words(estate, r));
            }
            _ => {
                let _ = writeln!(
                    out,
                    "{}  {}",
                    stamp(estate, quiet[0].time),
                    quiet_words(estate, quiet)
                );
            }
        }
        quiet.clear();
    };
    let mut k = 0;
    while k < records.len() {
        let r = &records[k];
        k += 1;
        if matches!(r.event, TraceEvent::WsusRecycle { .. }) {
            continue; // the reason of the scan failure that follows
        }
        if routine(&r.event) {
            quiet.push(r);
            continue;
        }
        flush(&mut quiet, &mut out);
        if matches!(r.event, TraceEvent::MessageQueued { .. }) {
            // The messages one moment queues, on one line.
            let mut what = vec![words(estate, r).replacen("queues a state message: ", "", 1)];
            while let Some(next) = records
                .get(k)
                .filter(|n| n.time == r.time && matches!(n.event, TraceEvent::MessageQueued { .. }))
            {
                what.push(words(estate, next).replacen("queues a state message: ", "", 1));
                k += 1;
            }
            let line = if what.len() == 1 {
                format!("queues a state message: {}", what[0])
            } else {
                format!("queues {} state messages: {}", what.len(), what.join("; "))
            };
            let _ = writeln!(out, "{}  {line}", stamp(estate, r.time));
            continue;
        }
        let mut line = words(estate, r);
        if let Some(c) = cohort
            && let Some(why) = reason(estate, outcome, client, c, &records[..k - 1], r)
        {
            line = format!("{line}: {why}");
        }
        let _ = writeln!(out, "{}  {line}", stamp(estate, r.time));
        let retry = match r.event {
            TraceEvent::ContentNotOnDp { deployment, .. } => Some(Retry::Content(deployment)),
            TraceEvent::DownloadFailed { deployment, .. } => Some(Retry::Download(deployment)),
            TraceEvent::ScanFailed {
                retry_ms: Some(_), ..
            } => Some(Retry::Scan),
            TraceEvent::PolicyFailed { .. } => Some(Retry::Policy),
            _ => None,
        };
        if let Some(retry) = retry {
            // The rounds that follow, each a retry after a wait, until
            // one gets through: one line.
            if let Some(deployment) = retry.deployment()
                && let Some(back) = records.get(k).filter(|n| {
                    n.time == r.time
                        && matches!(n.event, TraceEvent::TrueState { deployment: d, .. } if d == deployment)
                })
            {
                let _ = writeln!(out, "{}  {}", stamp(estate, back.time), words(estate, back));
                k += 1;
            }
            let end = retry.end(records, k);
            if end > k {
                let stretch = &records[k..end];
                let _ = writeln!(
                    out,
                    "{}  {}",
                    stamp(estate, stretch[0].time),
                    retry.words(estate, stretch)
                );
                k = end;
            }
        }
    }
    flush(&mut quiet, &mut out);
    for v in verdicts(estate, outcome, client, records) {
        let _ = writeln!(out, "{v}");
    }
    out
}
