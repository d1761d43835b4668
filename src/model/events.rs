//! The model's events, grouped by lifecycle: site → policy → scan → report →
//! download → install → restart, plus power and sampling.
//!
//! Owns [`Event`]. Each variant is a few bytes: the payload is an id, and the
//! state it acts on lives in the world's parts. A new event needs a line in
//! the dispatch (`world.rs`), the trace (`world.rs`'s `trace_event`) and
//! the hints (`store/hints.rs`): all three are exhaustive matches, so the
//! compiler names each place.

use super::record::SyncKind;
use crate::estate::{ClientId, DeploymentId, DpId, LocationId, UpdateId};

/// Something that happens at one instant of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    // --- sync ---
    /// WSyncMgr starts a catalog sync (scheduled: full; manual: delta).
    SyncStart(SyncKind),
    /// WSyncMgr polls WSUS to see whether its metadata download is done.
    SyncPoll,
    /// The synced metadata is in the top-level site database.
    SyncInserted,
    /// WSyncMgr retries a failed sync.
    SyncRetry,
    /// A primary's SUPs have synced from the top-level SUP: (site, sync).
    SiteSynced(u16, u32),

    // --- site ---
    /// A deployment's content is on a primary's DPs: (deployment, site); it
    /// enters that site's machine policy once its updates are synced there.
    ContentReady(DeploymentId, u16),
    /// A phase of a phased deployment begins: the first at its creation, a
    /// later one after the previous phase succeeded, or by hand.
    PhaseBegin(DeploymentId),
    /// The administrator suspends a phased deployment (its first phase).
    Suspend(DeploymentId),
    /// The administrator resumes a suspended phased deployment.
    Resume(DeploymentId),
    /// In a hierarchy, a suspension or resume reaches a primary by
    /// replication: (first phase, site, disabled).
    PolicyToggle(DeploymentId, u16, bool),
    /// An automatic deployment rule's scheduled run: (rule).
    RuleRun(u16),
    /// Take one row of the compliance timeline.
    Sample,

    // --- policy ---
    /// The client's periodic policy poll (schedules the next one), to the
    /// station of its management point: the timer carries where its
    /// requests go, so that a poll, most of a big estate's events, reads
    /// nothing of the client but its flags.
    PolicyPoll(ClientId, u16),
    /// A one-off policy request, after power-on or a restart.
    PolicyRequest(ClientId),
    /// The retry of a policy request its MP could not answer: the request
    /// stays out until then.
    PolicyRetry(ClientId),

    // --- scan ---
    /// The client's software update scan schedule fires.
    ScanCycle(ClientId),
    /// The client's deployment re-evaluation schedule fires.
    ReevaluationCycle(ClientId),

    // --- client work: scan, download, install, restart ---
    /// Work the client planned may now be due (evaluation, deadline, retry).
    Wake(ClientId),
    /// The client's current action (scan, download, install, restart) ends.
    ActionDone(ClientId),
    /// The planned restart is due (the user's, forced, in a maintenance
    /// window or the administrator's schedule).
    RestartDue(ClientId),
    /// An install the client stopped watching at its max run time finishes
    /// in the background: (client, update).
    BackgroundInstallDone(ClientId, UpdateId),

    // --- report ---
    /// The client's state message reporting cycle.
    ReportCycle(ClientId),
    /// Up to two minutes after an install (after the verification scan
    /// that follows it, when nothing waits), the client sends the
    /// install's state, before its reporting tick.
    InstallReport(ClientId),
    /// A batch the MP took reaches the state system's inbox (the payload is
    /// its slot in the batch store).
    BatchForwarded(u32),
    /// A committed batch reaches the CAS's database by replication (slot).
    Replicated(u32),
    /// The state system's resync check at which a gap in the client's
    /// messages is old enough: the site asks it to resync.
    ResyncDue(ClientId),

    // --- servers ---
    /// A station (MP, SUP, state system) finishes the request in a worker
    /// slot: (station, slot).
    Served(u16, u16),
    /// A software update point's WSUS application pool is back after a
    /// recycle: (its station).
    PoolRestarted(u16),
    /// A distribution point's next download completes.
    DpTick(DpId),
    /// A WAN link's next transfer completes or starts (after the link's
    /// latency).
    LinkTick(LocationId),
    /// The hour changes how fast, or whether, the site may send content
    /// to a DP in a location (its schedule and rate limit).
    CopyPace(DpId),
    /// Fault `i` of the scenario begins.
    FaultBegin(u16),
    /// Fault `i` ends.
    FaultEnd(u16),

    // --- power ---
    /// The client is switched on.
    PowerOn(ClientId),
    /// The client is switched off.
    PowerOff(ClientId),
}
