//! The model's events, grouped by lifecycle: site → policy → scan → report →
//! download → install → restart, plus power and sampling.
//!
//! Owns [`Event`]. Each variant is a few bytes: the payload is an id, and the
//! state it acts on lives in the world's arenas.

use super::ids::{ClientId, DeploymentId};

/// Something that happens at one instant of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    // --- site ---
    /// A deployment's content is on the DPs and it is in machine policy.
    DeploymentPublished(DeploymentId),
    /// Take one row of the compliance timeline.
    Sample,

    // --- policy ---
    /// The client's periodic policy poll (schedules the next one).
    PolicyPoll(ClientId),
    /// A one-off policy request, after power-on or a restart.
    PolicyRequest(ClientId),

    // --- client work: scan, download, install, restart ---
    /// Work the client planned may now be due (evaluation, deadline, retry).
    Wake(ClientId),
    /// The client's current action (scan, download, install, restart) ends.
    ActionDone(ClientId),
    /// The restart notification runs out: the user restarts or it is forced.
    RestartDue(ClientId),

    // --- report ---
    /// The client's state message reporting cycle.
    ReportCycle(ClientId),
    /// The oldest batch in transit reaches the site database.
    BatchInDatabase,

    // --- power ---
    /// The client is switched on.
    PowerOn(ClientId),
    /// The client is switched off.
    PowerOff(ClientId),
}
