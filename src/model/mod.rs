//! The Configuration Manager model: clients, servers and the site, as events.
//!
//! Owns everything that knows what a client, a deployment or a state message
//! is; runs on the [`engine`](crate::engine) through one entry point,
//! [`run`]; writes no files and prints nothing. One file per concept:
//! - `world.rs`: the live state's parts and the event dispatch;
//! - `client.rs` (scan, download, install, restart), `power.rs`,
//!   `management_point.rs` (policy, state messages on their way),
//!   `update_point.rs` (scans at the SUP), `distribution_point.rs`
//!   (content from the DP), `content.rs` (content sources: peers,
//!   Microsoft Update), `site_server.rs` (publishing, the state system, the site
//!   database), `sync.rs` (the catalog), `faults.rs`, `windows.rs`,
//!   `wan_link.rs` (branch locations' WAN links), `wsus_pool.rs` (an
//!   update point's application pool: its memory and recycles),
//!   `suspension.rs` (phased deployments suspended and resumed);
//! - `deployment.rs` (assignments and counts), `compliance.rs` (true and
//!   reported states, state-message ids), `servers.rs` (requests, service
//!   times, load), `recorder.rs` (trace, totals, timelines), `record.rs`
//!   (what a run leaves behind), `trace.rs` (the typed trace);
//! - `store/`: memory layout, silent service endings and hints, behind
//!   typed methods: the speed machinery, which no other file sees.

mod boundary_groups;
mod client;
mod compliance;
mod content;
mod deployment;
mod distribution_point;
mod events;
mod faults;
mod gateway;
mod management_point;
mod power;
mod record;
mod recorder;
mod rules;
mod servers;
mod site_server;
mod store;
mod suspension;
mod sync;
mod trace;
mod update_point;
mod wan_link;
mod windows;
mod world;
mod wsus_pool;

pub use client::RestartCause;
pub(crate) use compliance::StateMsg;
pub(crate) use compliance::TOPIC_DETECTION;
pub use compliance::{Cell, Compliance, RequiredSub, state_message_name};
pub use content::{ContentSource, DownloadFailure};
pub use events::Event;

pub use record::{
    Assignment, AssignmentIter, BUSY_LEVELS, BusyTime, ClientAssignments, ContentBytes,
    DeploymentRecord, LoadCounts, LoadRow, MsHistogram, Outcome, PhaseReason, PhaseRecord,
    PoolRecord, SampleRow, ServerRecord, ServerRole, SyncKind, SyncRecord, THRESHOLDS, Thresholds,
    Totals, UpdateRow,
};
pub use servers::{ListedServer, Request, listed_servers};
pub use trace::{TraceEvent, TraceRecord, TraceSink, Tracer};
pub use update_point::{ScanCause, ScanFailure, ScanSource};
pub(crate) use windows::Schedule;
pub use windows::{TooLong, too_long};
pub use world::{Progress, RunOptions, Stopped, run};

/// Stream families: one random stream per entity of each.
pub(crate) mod family {
    /// A client's behaviour (phases, durations, user choices).
    pub const CLIENT: u16 = 0;
    /// Which updates apply to a client and whether its GPO conflicts
    /// (drawn once, at the start).
    pub const APPLICABILITY: u16 = 1;
    /// The site server (content distribution, syncs).
    pub const SITE: u16 = 2;
    /// A server (management point, update point, state system).
    pub const SERVER: u16 = 3;
    /// Whether a client's state-message batches are lost on the way to the
    /// site database: one counter-based stream per client, the k-th batch
    /// its MP takes drawing at a fixed place in it, so that the draws touch
    /// nothing else of the client and need no stored position.
    pub const STATE_LOSS: u16 = 4;
}
