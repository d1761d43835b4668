//! The discrete-event engine: time, agenda, random streams and the run loop.
//!
//! Knows nothing of what is simulated; `examples/minimal_engine.rs` drives
//! it with a toy model to prove it. The model plugs in through [`Model`].

// Prefetch instructions and `madvise`: the crate's only unsafe code, each
// use with its reason beside it.
#[allow(unsafe_code)]
mod hint;
mod queue;
mod rng;
mod sim;
mod time;

pub use hint::{arena, arena_with_capacity, prefetch, prefetch_prefix};
#[doc(hidden)]
pub use queue::bench as agenda_bench;
pub use queue::{Agenda, EventKey, PeriodicId, Source, TimerId};
pub use rng::{CounterRng, CounterSession, StreamRng, Streams};
pub use sim::{Model, RunEnd, RunStats, Scheduler, Simulation};
pub use time::{SimDuration, SimTime};
