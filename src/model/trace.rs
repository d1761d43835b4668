//! The event trace: one record per thing that happens to a client or at the
//! site, handed to a sink the caller provides.
//!
//! Owns [`TraceRecord`], the typed [`TraceEvent`] it carries and the filter
//! (all clients, or a chosen few). The model never formats or writes a
//! trace: `output/trace.rs` serialises the events (their snake-case names
//! are the `event` field of `trace.jsonl`), and the law checker reads them.
//! With no sink the cost is one branch per event.

use serde::Serialize;

use super::client::RestartCause;
use super::compliance::Cell;
use super::content::{ContentSource, DownloadFailure};
use super::record::PhaseReason;
use super::update_point::{ScanCause, ScanFailure, ScanSource};
use crate::engine::SimTime;
use crate::estate::{ClientId, DeploymentId, UpdateId};

/// One thing that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// When.
    pub time: SimTime,
    /// The client it happened to (`None`: the site).
    pub client: Option<ClientId>,
    /// What happened.
    pub event: TraceEvent,
}

impl TraceRecord {
    /// A record of `event` at `time`, about `client` (`None`: the site).
    pub fn new(time: SimTime, client: Option<ClientId>, event: TraceEvent) -> Self {
        TraceRecord {
            time,
            client,
            event,
        }
    }
}

/// What happened, with what it concerns. `D` and `U` name a deployment and
/// an update: ids in the model, names in `trace.jsonl` (see
/// [`TraceEvent::map`]). Serialised with its snake-case name as `event`
/// and its fields under the trace's column names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent<D = DeploymentId, U = UpdateId> {
    // --- the site ---
    /// WSyncMgr starts a scheduled (full) catalog sync.
    SyncStartFull,
    /// WSyncMgr starts a manual (delta) catalog sync.
    SyncStartDelta,
    /// WSyncMgr polls WSUS for the end of its download.
    SyncPoll,
    /// The synced metadata is in the top-level site database.
    SyncInserted,
    /// The sync failed (status message 6703): the top-level SUP was down
    /// when it started or went down while it ran; nothing was inserted.
    SyncFailed,
    /// WSyncMgr retries a failed sync.
    SyncRetry,
    /// An update's metadata reached the top-level site database.
    UpdateSynced {
        /// The update.
        update: U,
    },
    /// The supersedence rule expired a superseded update at the WSUS
    /// cleanup after a sync: it leaves every deployment.
    UpdateExpired {
        /// The update.
        update: U,
    },
    /// A deployment's content is on a primary's DPs.
    ContentReady {
        /// The deployment.
        deployment: D,
    },
    /// A deployment's content has crossed a WAN link to a distribution
    /// point in a branch location: the DP can serve it.
    ContentCopied {
        /// The deployment.
        deployment: D,
        /// The distribution point's place in the scenario's list.
        #[serde(rename = "value")]
        dp: u64,
    },
    /// The site sends a deployment's content to a DP in a branch location
    /// at the pace the DP's rate limit allows this hour, or (at 0) its
    /// schedule holds the content back until it lets it go.
    CopyPaced {
        /// The deployment.
        deployment: D,
        /// The distribution point's place in the scenario's list.
        #[serde(rename = "value")]
        dp: u64,
        /// The most the copy may use, bits per second (0: held back).
        bps: u64,
    },
    /// A phase of a phased deployment begins: its deployment is created.
    PhaseStarted {
        /// The phase's deployment.
        deployment: D,
        /// Why: the first phase's creation, the previous phase's success,
        /// or by hand.
        #[serde(rename = "to")]
        reason: PhaseReason,
    },
    /// A phase of a phased deployment met the success criterion of the
    /// phase after it (which begins after its wait).
    PhaseSucceeded {
        /// The phase that succeeded.
        deployment: D,
        /// Its targeted clients compliant in the site database.
        #[serde(rename = "value")]
        compliant: u64,
    },
    /// The administrator suspends a phased deployment: its begun phases'
    /// policy is disabled, and no phase begins until it is resumed.
    PhaseSuspended {
        /// The phased deployment (its first phase).
        deployment: D,
    },
    /// The administrator resumes a suspended phased deployment.
    PhaseResumed {
        /// The phased deployment (its first phase).
        deployment: D,
    },
    /// An automatic deployment rule's run made a deployment (a new group),
    /// or changed the updates of the one it keeps (an existing group).
    RuleDeployed {
        /// The deployment.
        deployment: D,
        /// How many updates it now deploys.
        #[serde(rename = "value")]
        updates: u64,
    },
    /// An automatic deployment rule ran and found no update that meets its
    /// criteria: it made nothing.
    RuleFoundNothing {
        /// The rule's place in the scenario's list.
        #[serde(rename = "value")]
        rule: u64,
    },
    /// A fault takes a server down.
    FaultDownBegin {
        /// The fault's place in the scenario's list.
        #[serde(rename = "value")]
        fault: u64,
    },
    /// A software update point's WSUS application pool recycles: a scan
    /// would have taken its private memory past its limit.
    WsusRecycle {
        /// The update point's place in the scenario's list.
        #[serde(rename = "value")]
        sup: u64,
        /// The private memory the scan would have taken it to.
        bytes: u64,
    },
    /// A fault slows a server down.
    FaultSlowBegin {
        /// The fault's place in the scenario's list.
        #[serde(rename = "value")]
        fault: u64,
    },
    /// A fault ends.
    FaultEnd {
        /// The fault's place in the scenario's list.
        #[serde(rename = "value")]
        fault: u64,
    },

    // --- a client: power and policy ---
    /// It is switched on.
    PowerOn,
    /// It is switched off (after an install in progress, if any).
    PowerOff,
    /// It asks its management point for policy.
    PolicyRequest,
    /// Its management point turned the policy request down (down, or its
    /// queue full): it asks again after a backoff.
    PolicyFailed {
        /// How long until it asks again, ms.
        #[serde(rename = "value")]
        retry_ms: u64,
    },
    /// Its management point failed it five times in a row: it moves to
    /// another of its cohort's.
    MpSwitch {
        /// The management point it uses from now: its place in the
        /// scenario's `management_points`.
        #[serde(rename = "value")]
        mp: u16,
    },
    /// It learns a deployment from its policy.
    PolicyReceived {
        /// The deployment.
        deployment: D,
    },
    /// It learns from its policy that a deployment is disabled (its phased
    /// deployment suspended): it starts none of its steps.
    PolicyDisabled {
        /// The deployment.
        deployment: D,
    },
    /// It learns from its policy that a disabled deployment is enabled
    /// again (resumed).
    PolicyEnabled {
        /// The deployment.
        deployment: D,
    },

    // --- a client: scans ---
    /// Its software update scan schedule fires.
    ScanCycle,
    /// Its deployment re-evaluation schedule fires.
    ReevaluationCycle,
    /// It starts a compliance scan.
    ScanStart {
        /// Where the scan's metadata comes from.
        #[serde(rename = "to")]
        source: ScanSource,
        /// The update point it scans against: its place in the scenario's
        /// `update_points` (none: an offline scan, or a client whose GPO
        /// sends it to another WSUS server).
        #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
        sup: Option<u16>,
        /// Why it runs.
        cause: ScanCause,
    },
    /// A scan that is not forced found the last results current: it
    /// evaluates from them and no scan runs.
    ScanReused,
    /// The scan attempt failed; it tries again later, or (a GPO conflict,
    /// a broken agent) at its next scheduled scan or re-evaluation.
    ScanFailed {
        /// Which server turned it down.
        #[serde(rename = "to")]
        by: ScanFailure,
        /// How long until it tries again, ms (none: no retry).
        #[serde(rename = "value", skip_serializing_if = "Option::is_none")]
        retry_ms: Option<u64>,
    },
    /// It finishes a scan.
    ScanDone,

    // --- a client: state messages ---
    /// It queues a state message; the update (topics 500, 402) or the
    /// deployment (topics 30x) it is about, if any.
    MessageQueued {
        /// The deployment it is about.
        #[serde(skip_serializing_if = "Option::is_none")]
        deployment: Option<D>,
        /// The update it is about.
        #[serde(skip_serializing_if = "Option::is_none")]
        update: Option<U>,
        /// Topic type.
        topic: u16,
        /// State id.
        state: u8,
    },
    /// Within two minutes of an install (of the verification scan after
    /// it, when nothing waits), before its reporting tick, it sends the
    /// install's state: a `BatchSent` follows, unless its MP turns the
    /// batch down.
    InstallReport,
    /// It sends its queued messages to its management point as one batch.
    BatchSent {
        /// Messages in the batch.
        #[serde(rename = "value")]
        messages: u64,
    },
    /// Its batch is committed to its site's database.
    BatchInDatabase {
        /// Messages in the batch.
        #[serde(rename = "value")]
        messages: u64,
    },
    /// Its batch, taken by the management point, is lost on the way to the
    /// site database.
    BatchLost {
        /// Messages in the batch.
        #[serde(rename = "value")]
        messages: u64,
    },
    /// Its batch, taken by the management point, comes back to it unsent:
    /// the MP went down while serving it. Its messages go back to the
    /// front of its queue for the next reporting cycle.
    BatchReturned {
        /// Messages in the batch.
        #[serde(rename = "value")]
        messages: u64,
    },
    /// Its site finds a gap in its serial numbers and asks it to resync
    /// (the request comes with its next policy answer).
    ResyncRequested,
    /// It queues its full state again (a resync), to go with its next
    /// batch.
    Resync {
        /// Messages queued.
        #[serde(rename = "value")]
        messages: u64,
    },

    // --- a client: content, install, restart ---
    /// It starts downloading a deployment's content: it asks its management
    /// point which distribution points hold it.
    ContentLocationRequest {
        /// The deployment.
        deployment: D,
    },
    /// The management point turned the content location request down; it
    /// asks again later.
    ContentLocationFailed {
        /// The deployment.
        deployment: D,
        /// How long until it asks again, ms.
        #[serde(rename = "value")]
        retry_ms: u64,
    },
    /// It asks its distribution point for a deployment's content (after the
    /// management point's answer).
    DownloadStart {
        /// The deployment.
        deployment: D,
        /// Bytes it still lacks.
        #[serde(rename = "value")]
        bytes: u64,
    },
    /// It has all of a deployment's content.
    DownloadDone {
        /// The deployment.
        deployment: D,
    },
    /// Bytes of a deployment's content come from a source other than its
    /// DP: a peer cache source or Microsoft Update (the whole transfer,
    /// which ends at `download_done`), or BranchCache or Delivery
    /// Optimization peers (their share of a download from the DP, at its
    /// start).
    ContentSource {
        /// The deployment.
        deployment: D,
        /// Where the bytes come from.
        #[serde(rename = "to")]
        source: ContentSource,
        /// Bytes it serves.
        #[serde(rename = "value")]
        bytes: u64,
    },
    /// Its distribution point is across its location's WAN link: the
    /// download crosses the link, starting after the link's latency.
    AcrossWanLink {
        /// The deployment.
        deployment: D,
        /// The link's latency, ms.
        #[serde(rename = "value")]
        latency_ms: u64,
    },
    /// The client has looked for content on its own distribution point for
    /// its location's fallback time: it downloads from a DP of its site's
    /// default boundary group, across its location's WAN link.
    DpFallback {
        /// The deployment.
        deployment: D,
        /// The distribution point's place in the scenario's list.
        #[serde(rename = "value")]
        dp: u64,
    },
    /// The management point found the content on no distribution point of
    /// the client's: it is still crossing the WAN link to its branch DP.
    /// The client asks again later.
    ContentNotOnDp {
        /// The deployment.
        deployment: D,
        /// How long until it asks again, ms.
        #[serde(rename = "value")]
        retry_ms: u64,
    },
    /// Its download failed: its DP, or the WAN link to it, was down when
    /// the download was asked for or went down while it ran. It keeps what
    /// it has and downloads the rest from Microsoft Update where the
    /// deployment allows, else tries again after `download_retry`.
    DownloadFailed {
        /// The deployment.
        deployment: D,
        /// What was down.
        #[serde(rename = "to")]
        by: DownloadFailure,
        /// Bytes it still lacks.
        #[serde(rename = "value")]
        bytes: u64,
    },
    /// The peer cache source serving it went off or restarted: it goes on
    /// from its next source.
    PeerGone {
        /// The deployment.
        deployment: D,
        /// Bytes it still lacks.
        #[serde(rename = "value")]
        bytes: u64,
    },
    /// Its user starts installing a deployment from Software Center: an
    /// Available one, or a Required one before its deadline.
    UserInstall {
        /// The deployment.
        deployment: D,
    },
    /// Another deployment's deadline came and the client enforces this
    /// one with it (`enforce_deadlines_within`): its deadline is now.
    DeadlineBroughtForward {
        /// The deployment enforced early.
        deployment: D,
        /// The deployment whose deadline came.
        #[serde(rename = "to")]
        by: D,
    },
    /// An update it was missing is no longer required: an update that
    /// supersedes it has taken effect.
    Superseded {
        /// The superseded update.
        update: U,
    },
    /// It starts installing a deployment's missing updates.
    InstallStart {
        /// The deployment.
        deployment: D,
        /// How long the installs take, ms.
        #[serde(rename = "value")]
        length_ms: u64,
    },
    /// The install ends.
    InstallDone,
    /// An update the client stopped watching at its max run time (and
    /// reported failed) finishes installing in the background.
    BackgroundInstallDone {
        /// The update.
        update: U,
    },
    /// An install needs a restart: when, and why then.
    RestartPlanned {
        /// Who or what restarts it.
        #[serde(rename = "to")]
        cause: RestartCause,
        /// How long from now, ms.
        #[serde(rename = "value")]
        in_ms: u64,
    },
    /// The planned restart is due.
    RestartDue,
    /// It restarts.
    RestartStart {
        /// How long the restart takes, ms.
        #[serde(rename = "value")]
        length_ms: u64,
    },
    /// It is back from the restart.
    RestartDone,

    // --- a client: compliance ---
    /// Its true state of a deployment changes.
    TrueState {
        /// The deployment.
        deployment: D,
        /// The old state.
        from: Cell,
        /// The new state.
        to: Cell,
    },
    /// Its site database's state of a deployment changes.
    ReportedState {
        /// The deployment.
        deployment: D,
        /// The old state.
        from: Cell,
        /// The new state.
        to: Cell,
    },
}

impl<D, U> TraceEvent<D, U> {
    /// The same event with its deployment and update named by `d` and `u`
    /// (ids to names, for `trace.jsonl`).
    pub fn map<D2, U2>(self, d: impl Fn(D) -> D2, u: impl Fn(U) -> U2) -> TraceEvent<D2, U2> {
        use TraceEvent as E;
        match self {
            E::SyncStartFull => E::SyncStartFull,
            E::SyncStartDelta => E::SyncStartDelta,
            E::SyncPoll => E::SyncPoll,
            E::SyncInserted => E::SyncInserted,
            E::SyncFailed => E::SyncFailed,
            E::SyncRetry => E::SyncRetry,
            E::UpdateSynced { update } => E::UpdateSynced { update: u(update) },
            E::ContentReady { deployment } => E::ContentReady {
                deployment: d(deployment),
            },
            E::PhaseStarted { deployment, reason } => E::PhaseStarted {
                deployment: d(deployment),
                reason,
            },
            E::PhaseSucceeded {
                deployment,
                compliant,
            } => E::PhaseSucceeded {
                deployment: d(deployment),
                compliant,
            },
            E::RuleDeployed {
                deployment,
                updates,
            } => E::RuleDeployed {
                deployment: d(deployment),
                updates,
            },
            E::RuleFoundNothing { rule } => E::RuleFoundNothing { rule },
            E::FaultDownBegin { fault } => E::FaultDownBegin { fault },
            E::WsusRecycle { sup, bytes } => E::WsusRecycle { sup, bytes },
            E::FaultSlowBegin { fault } => E::FaultSlowBegin { fault },
            E::FaultEnd { fault } => E::FaultEnd { fault },
            E::PowerOn => E::PowerOn,
            E::PowerOff => E::PowerOff,
            E::PolicyRequest => E::PolicyRequest,
            E::PolicyFailed { retry_ms } => E::PolicyFailed { retry_ms },
            E::MpSwitch { mp } => E::MpSwitch { mp },
            E::PolicyReceived { deployment } => E::PolicyReceived {
                deployment: d(deployment),
            },
            E::PolicyDisabled { deployment } => E::PolicyDisabled {
                deployment: d(deployment),
            },
            E::PolicyEnabled { deployment } => E::PolicyEnabled {
                deployment: d(deployment),
            },
            E::PhaseSuspended { deployment } => E::PhaseSuspended {
                deployment: d(deployment),
            },
            E::PhaseResumed { deployment } => E::PhaseResumed {
                deployment: d(deployment),
            },
            E::ScanCycle => E::ScanCycle,
            E::ReevaluationCycle => E::ReevaluationCycle,
            E::ScanStart { source, sup, cause } => E::ScanStart { source, sup, cause },
            E::ScanReused => E::ScanReused,
            E::ScanFailed { by, retry_ms } => E::ScanFailed { by, retry_ms },
            E::ScanDone => E::ScanDone,
            E::MessageQueued {
                deployment,
                update,
                topic,
                state,
            } => E::MessageQueued {
                deployment: deployment.map(d),
                update: update.map(u),
                topic,
                state,
            },
            E::InstallReport => E::InstallReport,
            E::BatchSent { messages } => E::BatchSent { messages },
            E::BatchInDatabase { messages } => E::BatchInDatabase { messages },
            E::BatchLost { messages } => E::BatchLost { messages },
            E::BatchReturned { messages } => E::BatchReturned { messages },
            E::ResyncRequested => E::ResyncRequested,
            E::Resync { messages } => E::Resync { messages },
            E::ContentLocationRequest { deployment } => E::ContentLocationRequest {
                deployment: d(deployment),
            },
            E::ContentLocationFailed {
                deployment,
                retry_ms,
            } => E::ContentLocationFailed {
                deployment: d(deployment),
                retry_ms,
            },
            E::DownloadStart { deployment, bytes } => E::DownloadStart {
                deployment: d(deployment),
                bytes,
            },
            E::DownloadDone { deployment } => E::DownloadDone {
                deployment: d(deployment),
            },
            E::ContentSource {
                deployment,
                source,
                bytes,
            } => E::ContentSource {
                deployment: d(deployment),
                source,
                bytes,
            },
            E::ContentCopied { deployment, dp } => E::ContentCopied {
                deployment: d(deployment),
                dp,
            },
            E::CopyPaced {
                deployment,
                dp,
                bps,
            } => E::CopyPaced {
                deployment: d(deployment),
                dp,
                bps,
            },
            E::AcrossWanLink {
                deployment,
                latency_ms,
            } => E::AcrossWanLink {
                deployment: d(deployment),
                latency_ms,
            },
            E::DpFallback { deployment, dp } => E::DpFallback {
                deployment: d(deployment),
                dp,
            },
            E::ContentNotOnDp {
                deployment,
                retry_ms,
            } => E::ContentNotOnDp {
                deployment: d(deployment),
                retry_ms,
            },
            E::DownloadFailed {
                deployment,
                by,
                bytes,
            } => E::DownloadFailed {
                deployment: d(deployment),
                by,
                bytes,
            },
            E::PeerGone { deployment, bytes } => E::PeerGone {
                deployment: d(deployment),
                bytes,
            },
            E::InstallStart {
                deployment,
                length_ms,
            } => E::InstallStart {
                deployment: d(deployment),
                length_ms,
            },
            E::UserInstall { deployment } => E::UserInstall {
                deployment: d(deployment),
            },
            E::DeadlineBroughtForward { deployment, by } => E::DeadlineBroughtForward {
                deployment: d(deployment),
                by: d(by),
            },
            E::InstallDone => E::InstallDone,
            E::BackgroundInstallDone { update } => E::BackgroundInstallDone { update: u(update) },
            E::Superseded { update } => E::Superseded { update: u(update) },
            E::UpdateExpired { update } => E::UpdateExpired { update: u(update) },
            E::RestartPlanned { cause, in_ms } => E::RestartPlanned { cause, in_ms },
            E::RestartDue => E::RestartDue,
            E::RestartStart { length_ms } => E::RestartStart { length_ms },
            E::RestartDone => E::RestartDone,
            E::TrueState {
                deployment,
                from,
                to,
            } => E::TrueState {
                deployment: d(deployment),
                from,
                to,
            },
            E::ReportedState {
                deployment,
                from,
                to,
            } => E::ReportedState {
                deployment: d(deployment),
                from,
                to,
            },
        }
    }

    /// The deployment it concerns, if any.
    pub fn deployment(&self) -> Option<&D> {
        use TraceEvent as E;
        match self {
            E::ContentReady { deployment }
            | E::PhaseStarted { deployment, .. }
            | E::PhaseSucceeded { deployment, .. }
            | E::RuleDeployed { deployment, .. }
            | E::PolicyReceived { deployment }
            | E::PolicyDisabled { deployment }
            | E::PolicyEnabled { deployment }
            | E::PhaseSuspended { deployment }
            | E::PhaseResumed { deployment }
            | E::ContentLocationRequest { deployment }
            | E::ContentLocationFailed { deployment, .. }
            | E::DownloadStart { deployment, .. }
            | E::DownloadDone { deployment }
            | E::ContentSource { deployment, .. }
            | E::DownloadFailed { deployment, .. }
            | E::PeerGone { deployment, .. }
            | E::ContentCopied { deployment, .. }
            | E::CopyPaced { deployment, .. }
            | E::AcrossWanLink { deployment, .. }
            | E::DpFallback { deployment, .. }
            | E::ContentNotOnDp { deployment, .. }
            | E::InstallStart { deployment, .. }
            | E::DeadlineBroughtForward { deployment, .. }
            | E::UserInstall { deployment }
            | E::TrueState { deployment, .. }
            | E::ReportedState { deployment, .. } => Some(deployment),
            E::MessageQueued { deployment, .. } => deployment.as_ref(),
            _ => None,
        }
    }
}

impl<D, U> TraceEvent<D, U> {
    /// Its name in `trace.jsonl`'s `event` field (`scan_start`, ...).
    pub fn name(&self) -> &'static str {
        use TraceEvent as E;
        match self {
            E::SyncStartFull => "sync_start_full",
            E::SyncStartDelta => "sync_start_delta",
            E::SyncPoll => "sync_poll",
            E::SyncInserted => "sync_inserted",
            E::SyncFailed => "sync_failed",
            E::SyncRetry => "sync_retry",
            E::UpdateSynced { .. } => "update_synced",
            E::ContentReady { .. } => "content_ready",
            E::PhaseStarted { .. } => "phase_started",
            E::PhaseSucceeded { .. } => "phase_succeeded",
            E::RuleDeployed { .. } => "rule_deployed",
            E::RuleFoundNothing { .. } => "rule_found_nothing",
            E::FaultDownBegin { .. } => "fault_down_begin",
            E::WsusRecycle { .. } => "wsus_recycle",
            E::FaultSlowBegin { .. } => "fault_slow_begin",
            E::FaultEnd { .. } => "fault_end",
            E::PowerOn => "power_on",
            E::PowerOff => "power_off",
            E::PolicyRequest => "policy_request",
            E::PolicyFailed { .. } => "policy_failed",
            E::MpSwitch { .. } => "mp_switch",
            E::PolicyReceived { .. } => "policy_received",
            E::PolicyDisabled { .. } => "policy_disabled",
            E::PolicyEnabled { .. } => "policy_enabled",
            E::PhaseSuspended { .. } => "phase_suspended",
            E::PhaseResumed { .. } => "phase_resumed",
            E::ScanCycle => "scan_cycle",
            E::ReevaluationCycle => "reevaluation_cycle",
            E::ScanStart { .. } => "scan_start",
            E::ScanReused => "scan_reused",
            E::ScanFailed { .. } => "scan_failed",
            E::ScanDone => "scan_done",
            E::MessageQueued { .. } => "message_queued",
            E::InstallReport => "install_report",
            E::BatchSent { .. } => "batch_sent",
            E::BatchInDatabase { .. } => "batch_in_database",
            E::BatchLost { .. } => "batch_lost",
            E::BatchReturned { .. } => "batch_returned",
            E::ResyncRequested => "resync_requested",
            E::Resync { .. } => "resync",
            E::ContentLocationRequest { .. } => "content_location_request",
            E::ContentLocationFailed { .. } => "content_location_failed",
            E::DownloadStart { .. } => "download_start",
            E::DownloadDone { .. } => "download_done",
            E::ContentSource { .. } => "content_source",
            E::DownloadFailed { .. } => "download_failed",
            E::PeerGone { .. } => "peer_gone",
            E::ContentCopied { .. } => "content_copied",
            E::CopyPaced { .. } => "copy_paced",
            E::AcrossWanLink { .. } => "across_wan_link",
            E::DpFallback { .. } => "dp_fallback",
            E::ContentNotOnDp { .. } => "content_not_on_dp",
            E::InstallStart { .. } => "install_start",
            E::UserInstall { .. } => "user_install",
            E::DeadlineBroughtForward { .. } => "deadline_brought_forward",
            E::InstallDone => "install_done",
            E::BackgroundInstallDone { .. } => "background_install_done",
            E::Superseded { .. } => "superseded",
            E::UpdateExpired { .. } => "update_expired",
            E::RestartPlanned { .. } => "restart_planned",
            E::RestartDue => "restart_due",
            E::RestartStart { .. } => "restart_start",
            E::RestartDone => "restart_done",
            E::TrueState { .. } => "true_state",
            E::ReportedState { .. } => "reported_state",
        }
    }
}

/// Receives trace records in time order.
pub type TraceSink<'a> = Box<dyn FnMut(&TraceRecord) + 'a>;

/// Where trace records go, and which clients are traced.
pub struct Tracer<'a> {
    sink: TraceSink<'a>,
    /// Sorted client ids to trace; `None`: every client.
    clients: Option<Vec<u32>>,
}

impl<'a> Tracer<'a> {
    /// Traces the given clients (`None`: all) and the site into `sink`.
    pub fn new(sink: TraceSink<'a>, clients: Option<Vec<u32>>) -> Self {
        let clients = clients.map(|mut c| {
            c.sort_unstable();
            c.dedup();
            c
        });
        Tracer { sink, clients }
    }

    /// Whether records about this client are wanted.
    pub fn wants(&self, client: Option<ClientId>) -> bool {
        match (client, &self.clients) {
            (_, None) | (None, _) => true,
            (Some(c), Some(list)) => list.binary_search(&c.0).is_ok(),
        }
    }

    /// Hands a record to the sink if its client is wanted.
    pub fn emit(&mut self, record: TraceRecord) {
        if self.wants(record.client) {
            (self.sink)(&record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::compliance::Cell;

    /// Every event serialises with its name as `event` and its fields
    /// under the trace's column names.
    #[test]
    fn names_are_the_serialised_tags() {
        let cell = Cell::UNKNOWN;
        let all: Vec<TraceEvent<&str, &str>> = vec![
            TraceEvent::SyncStartFull,
            TraceEvent::SyncStartDelta,
            TraceEvent::SyncPoll,
            TraceEvent::SyncInserted,
            TraceEvent::SyncFailed,
            TraceEvent::SyncRetry,
            TraceEvent::UpdateSynced { update: "KB1" },
            TraceEvent::ContentReady { deployment: "cu" },
            TraceEvent::FaultDownBegin { fault: 0 },
            TraceEvent::FaultSlowBegin { fault: 1 },
            TraceEvent::FaultEnd { fault: 1 },
            TraceEvent::PowerOn,
            TraceEvent::PowerOff,
            TraceEvent::PolicyRequest,
            TraceEvent::PolicyFailed { retry_ms: 60_000 },
            TraceEvent::MpSwitch { mp: 1 },
            TraceEvent::PolicyReceived { deployment: "cu" },
            TraceEvent::ScanCycle,
            TraceEvent::ReevaluationCycle,
            TraceEvent::ScanStart {
                source: ScanSource::UpdatePoint,
                sup: Some(1),
                cause: ScanCause::Schedule,
            },
            TraceEvent::ScanReused,
            TraceEvent::ScanFailed {
                by: ScanFailure::UpdatePoint,
                retry_ms: Some(5),
            },
            TraceEvent::ScanDone,
            TraceEvent::MessageQueued {
                deployment: None,
                update: Some("KB1"),
                topic: 500,
                state: 2,
            },
            TraceEvent::InstallReport,
            TraceEvent::BatchSent { messages: 3 },
            TraceEvent::BatchInDatabase { messages: 3 },
            TraceEvent::BatchLost { messages: 3 },
            TraceEvent::BatchReturned { messages: 3 },
            TraceEvent::ResyncRequested,
            TraceEvent::Resync { messages: 4 },
            TraceEvent::ContentLocationRequest { deployment: "cu" },
            TraceEvent::ContentLocationFailed {
                deployment: "cu",
                retry_ms: 60_000,
            },
            TraceEvent::DownloadStart {
                deployment: "cu",
                bytes: 7,
            },
            TraceEvent::DownloadDone { deployment: "cu" },
            TraceEvent::ContentSource {
                deployment: "cu",
                source: ContentSource::PeerCache,
                bytes: 7,
            },
            TraceEvent::DownloadFailed {
                deployment: "cu",
                by: DownloadFailure::WanLink,
                bytes: 7,
            },
            TraceEvent::PeerGone {
                deployment: "cu",
                bytes: 7,
            },
            TraceEvent::ContentCopied {
                deployment: "cu",
                dp: 1,
            },
            TraceEvent::CopyPaced {
                deployment: "cu",
                dp: 1,
                bps: 500_000,
            },
            TraceEvent::AcrossWanLink {
                deployment: "cu",
                latency_ms: 40,
            },
            TraceEvent::DpFallback {
                deployment: "cu",
                dp: 0,
            },
            TraceEvent::ContentNotOnDp {
                deployment: "cu",
                retry_ms: 600_000,
            },
            TraceEvent::InstallStart {
                deployment: "cu",
                length_ms: 9,
            },
            TraceEvent::InstallDone,
            TraceEvent::UserInstall { deployment: "cu" },
            TraceEvent::DeadlineBroughtForward {
                deployment: "cu",
                by: "other",
            },
            TraceEvent::BackgroundInstallDone { update: "KB1" },
            TraceEvent::Superseded { update: "KB1" },
            TraceEvent::UpdateExpired { update: "KB1" },
            TraceEvent::RestartPlanned {
                cause: RestartCause::InWindow,
                in_ms: 0,
            },
            TraceEvent::RestartDue,
            TraceEvent::RestartStart { length_ms: 4 },
            TraceEvent::RestartDone,
            TraceEvent::TrueState {
                deployment: "cu",
                from: cell,
                to: cell,
            },
            TraceEvent::ReportedState {
                deployment: "cu",
                from: cell,
                to: cell,
            },
            TraceEvent::PhaseStarted {
                deployment: "ring 2",
                reason: PhaseReason::PreviousSucceeded,
            },
            TraceEvent::PhaseSucceeded {
                deployment: "ring 1",
                compliant: 950,
            },
            TraceEvent::RuleDeployed {
                deployment: "adr #1",
                updates: 3,
            },
            TraceEvent::RuleFoundNothing { rule: 0 },
            TraceEvent::WsusRecycle {
                sup: 1,
                bytes: 2_000_000_000,
            },
            TraceEvent::PhaseSuspended {
                deployment: "ring 1",
            },
            TraceEvent::PhaseResumed {
                deployment: "ring 1",
            },
            TraceEvent::PolicyDisabled {
                deployment: "ring 1",
            },
            TraceEvent::PolicyEnabled {
                deployment: "ring 1",
            },
        ];
        let source = (all.iter().find(|e| e.name() == "content_source"))
            .map(|e| serde_json::to_string(e).expect("serialises"))
            .expect("listed");
        assert_eq!(
            source,
            r#"{"event":"content_source","deployment":"cu","to":"peer_cache","value":7}"#
        );
        for e in &all {
            let v = serde_json::to_value(e).expect("serialises");
            assert_eq!(v["event"], e.name(), "{e:?}");
        }
        let names: std::collections::BTreeSet<_> = all.iter().map(|e| e.name()).collect();
        assert_eq!(names.len(), all.len(), "one of each");
        let by_name = |name: &str| {
            (all.iter().find(|e| e.name() == name))
                .map(|e| serde_json::to_string(e).expect("serialises"))
                .expect("listed")
        };
        assert_eq!(
            by_name("scan_failed"),
            r#"{"event":"scan_failed","to":"update_point","value":5}"#
        );
        assert_eq!(
            by_name("policy_failed"),
            r#"{"event":"policy_failed","value":60000}"#
        );
        let started = (all.iter().find(|e| e.name() == "phase_started"))
            .map(|e| serde_json::to_string(e).expect("serialises"))
            .expect("listed");
        assert_eq!(
            started,
            r#"{"event":"phase_started","deployment":"ring 2","to":"previous_succeeded"}"#
        );
        let deployed = (all.iter().find(|e| e.name() == "rule_deployed"))
            .map(|e| serde_json::to_string(e).expect("serialises"))
            .expect("listed");
        assert_eq!(
            deployed,
            r#"{"event":"rule_deployed","deployment":"adr #1","value":3}"#
        );
        let planned = (all.iter().find(|e| e.name() == "restart_planned"))
            .map(|e| serde_json::to_string(e).expect("serialises"))
            .expect("listed");
        assert_eq!(
            planned,
            r#"{"event":"restart_planned","to":"maintenance_window","value":0}"#
        );
    }
}
