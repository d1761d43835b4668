//! The Configuration Manager model: clients, servers and the site, as events.
//!
//! Owns everything that knows what a client, a deployment or a state message
//! is. Driven by the engine through [`World`]; writes no files and prints
//! nothing. One file per concept: `client.rs` (scan, download, install,
//! restart), `power.rs`, `management_point.rs` (policy and state messages in
//! transit), `site_server.rs` (publishing, the site database), `compliance.rs`
//! (true and reported state, counted), `record.rs` (what a run leaves behind).

mod client;
mod compliance;
mod distribution_point;
mod events;
mod faults;
mod management_point;
mod outbox;
mod power;
mod record;
mod site_server;
mod station;
mod sync;
mod trace;
mod update_point;
mod windows;
mod world;

pub use client::RestartCause;
pub(crate) use compliance::TOPIC_DETECTION;
pub use compliance::{Cell, Compliance, RequiredSub};
pub use events::Event;
pub(crate) use record::ms_histogram_bytes;
pub use record::{
    Assignment, DeploymentRecord, LoadCounts, LoadRow, Outcome, SampleRow, ServerRecord,
    ServerRole, SyncKind, SyncRecord, THRESHOLDS, Thresholds, Totals, UpdateRow,
};
pub use station::Request;
pub use trace::{TraceEvent, TraceRecord, TraceSink, Tracer};
pub use update_point::ScanFailure;
pub use world::{Progress, RunOptions, Stopped, World, run};
