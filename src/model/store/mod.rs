//! The store and service layer: how the model's state is laid out in
//! memory, how a station's silent endings are kept exact, and which memory
//! each event will read.
//!
//! Everything that makes a big estate fast without changing what it
//! computes lives here, behind typed methods, so that the domain files
//! read `clients.online(c)` and never a bit of a byte:
//! - [`clients`]: each client's record in two aligned cache lines with the
//!   bytes most events read first, a poll word per client that policy polls
//!   read alone, cold fields in a side array, update states side by side,
//!   all in huge-page arenas;
//! - [`assignments`], [`batches`], [`outbox`]: assignments one line each,
//!   batches in transit in reused slots, state-message queues in one arena;
//! - [`station`]: the queueing stations and their *silent endings*: a
//!   policy answer that brings nothing new ends without an event, at a
//!   place in the order reserved on the agenda; every read or change of a
//!   station takes a [`Settled`] handle, which only settling (applying the
//!   endings due before now) hands out;
//! - [`service`]: offering requests, starting and ending service, waking
//!   silent endings when a queue forms or policy is published;
//! - [`quiet`]: the polls of clients that have everything and ask an MP
//!   that answers at once, counted by arithmetic instead of simulated;
//! - [`touched`]: which deployments and updates of a client changed
//!   since its cells were last refreshed;
//! - [`hints`]: for each event, an exhaustive `match` over what its
//!   handler reads, loaded a few events ahead.

mod assignments;
mod batches;
mod clients;
mod hints;
mod outbox;
mod quiet;
mod service;
mod station;
mod touched;

pub(crate) use assignments::{AssignmentTable, Targets};
pub(crate) use batches::BatchArena;
pub(crate) use clients::{AnswerSettled, ClientTable, Database, NewClient};
pub(crate) use outbox::Outboxes;
pub(crate) use quiet::QuietPolls;
#[cfg(test)]
pub(crate) use station::StationTotals;
pub(crate) use station::{Job, Offer, Settled, Stations};
pub(crate) use touched::Touched;
