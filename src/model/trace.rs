//! The event trace: one record per thing that happens to a client or at the
//! site, handed to a sink the caller provides.
//!
//! Owns [`TraceRecord`] and the filter (all clients, or a chosen few). The
//! model never formats or writes a trace; `output/trace.rs` does. With no
//! sink the cost is one branch per event.

use crate::engine::SimTime;
use crate::estate::{ClientId, DeploymentId, UpdateId};

/// One thing that happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord {
    /// When.
    pub time: SimTime,
    /// The client it happened to (`None`: the site).
    pub client: Option<ClientId>,
    /// What happened, in snake case (`scan_done`, `true_state`, ...).
    pub event: &'static str,
    /// The deployment concerned, if any.
    pub deployment: Option<DeploymentId>,
    /// The update concerned, if any.
    pub update: Option<UpdateId>,
    /// Old state, for a state change.
    pub from: Option<&'static str>,
    /// New state, for a state change.
    pub to: Option<&'static str>,
    /// State message topic type, for a message.
    pub topic: Option<u16>,
    /// State message state id, for a message.
    pub state: Option<u8>,
    /// A count or duration in ms, where the event has one.
    pub value: Option<u64>,
}

impl TraceRecord {
    /// A record with only the time, subject and event set.
    pub fn new(time: SimTime, client: Option<ClientId>, event: &'static str) -> Self {
        TraceRecord {
            time,
            client,
            event,
            deployment: None,
            update: None,
            from: None,
            to: None,
            topic: None,
            state: None,
            value: None,
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
