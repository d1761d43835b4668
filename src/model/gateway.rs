//! Cloud management gateways: the way in for clients on the internet.
//!
//! Owns [`Gateways`]: per CMG the clients connected through it (one
//! connection per client online in a cohort that uses it), their peak, and
//! the management point and software update point requests that passed
//! through it. A CMG under more connections than it supports still
//! handles requests (Microsoft documents a possible delay, without a
//! figure): patchsim counts the load against the capacity and delays
//! nothing.

use super::record::{
    BusyClock, BusyTime, LoadCounts, LoadRow, MsHistogram, ServerRecord, ServerRole,
};
use super::servers::Request;
use crate::engine::SimTime;
use crate::estate::{Estate, GatewaySpec};

/// One CMG while the run goes.
struct Gateway {
    capacity: u32,
    connected: u32,
    peak: u32,
    /// The most connected since the last sample.
    most: u32,
    /// Requests since the last sample.
    interval: LoadCounts,
    /// Requests up to the last sample.
    total_sampled: LoadCounts,
    /// Its time by level of utilization (connected over capacity).
    clock: BusyClock,
}

impl Gateway {
    /// Counts the time up to `now` at the clients connected since the
    /// last change.
    fn tick(&mut self, now: SimTime) {
        let level = BusyTime::level(u128::from(self.connected), u128::from(self.capacity));
        self.clock.tick(now, level);
    }
}

/// Every CMG of a run.
pub(crate) struct Gateways {
    list: Vec<Gateway>,
}

impl Gateways {
    /// The estate's CMGs, nobody connected yet.
    pub(crate) fn new(estate: &Estate) -> Self {
        Gateways {
            list: (estate.gateways.iter())
                .map(|g| Gateway {
                    capacity: g.connections,
                    connected: 0,
                    peak: 0,
                    most: 0,
                    interval: LoadCounts::default(),
                    total_sampled: LoadCounts::default(),
                    clock: BusyClock::default(),
                })
                .collect(),
        }
    }

    /// Whether the run has any (else nothing here is ever called).
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.list.is_empty()
    }

    /// A client of CMG `g` comes online at `now`: it connects.
    pub(crate) fn connect(&mut self, g: u16, now: SimTime) {
        let g = &mut self.list[usize::from(g)];
        g.tick(now);
        g.connected += 1;
        g.peak = g.peak.max(g.connected);
        g.most = g.most.max(g.connected);
    }

    /// A client of CMG `g` goes off at `now`: its connection closes.
    pub(crate) fn disconnect(&mut self, g: u16, now: SimTime) {
        let g = &mut self.list[usize::from(g)];
        g.tick(now);
        g.connected -= 1;
    }

    /// A request of `kind` passes through CMG `g` to a management point
    /// or a software update point.
    pub(crate) fn request(&mut self, g: u16, kind: Request) {
        let g = &mut self.list[usize::from(g)];
        g.interval.arrived[kind as usize] += 1;
        g.interval.served[kind as usize] += 1;
    }

    /// One load row per CMG for the interval that ends now, the first
    /// numbered `first`: the requests that passed, and the clients
    /// connected now.
    pub(crate) fn sample(&mut self, now: SimTime, first: usize, rows: &mut Vec<LoadRow>) {
        for (i, g) in self.list.iter_mut().enumerate() {
            let counts = std::mem::take(&mut g.interval);
            g.total_sampled.add(&counts);
            rows.push(LoadRow {
                time: now,
                server: first + i,
                counts,
                queue: 0,
                busy: g.connected,
                most_queue: 0,
                most_busy: std::mem::replace(&mut g.most, g.connected).max(g.connected),
                bytes: 0,
                down: false,
            });
        }
    }

    /// Counts every CMG's time up to `now` (the end of the run).
    pub(crate) fn close(&mut self, now: SimTime) {
        for g in &mut self.list {
            g.tick(now);
        }
    }

    /// Every CMG's figures over the run.
    pub(crate) fn records<'a>(
        &'a self,
        specs: &'a [GatewaySpec],
    ) -> impl Iterator<Item = ServerRecord> + 'a {
        self.list.iter().zip(specs).map(|(g, spec)| {
            let mut total = g.total_sampled;
            total.add(&g.interval);
            // It delays nothing: every request it passed waited 0 s.
            let mut wait = MsHistogram::new();
            wait.saturating_record_n(0, total.served.iter().sum());
            ServerRecord {
                name: spec.name.clone(),
                role: ServerRole::CloudManagementGateway,
                capacity: g.capacity,
                queue_limit: None,
                total,
                peak_queue: 0,
                peak_busy: g.peak,
                wait,
                bytes: 0,
                busy: g.clock.time.clone(),
                peak_bps: 0,
            }
        })
    }
}
