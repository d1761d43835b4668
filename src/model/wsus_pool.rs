//! WSUS application pools: the private memory of a software update point's
//! pool, and its recycle.
//!
//! Owns [`WsusPools`]: for each update point whose scenario gives a
//! `wsus_pool`, the scans it is answering, the most private memory it
//! held and its recycles. WSUS answers scans from a metadata cache that is
//! expensive in memory; IIS recycles the pool when its private memory
//! passes the limit, the cache is lost, and in a scan storm the pool
//! recycles again and again while clients get HTTP 503. Here the pool
//! holds its cache plus what each scan being answered adds; a scan that
//! would take it past its limit recycles it: every scan being answered
//! fails with HTTP 503 (the clients retry by their own rules), and the
//! station takes nothing into service until the pool is back `restart`
//! later, while arrivals wait in its queue.

use super::events::Event;
use super::record::PoolRecord;
use super::servers::Request;
use super::store::Settled;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::Scheduler;
use crate::estate::{Estate, WsusPoolSpec};

/// One update point's pool while the run goes.
struct Pool {
    spec: WsusPoolSpec,
    /// Its place in the scenario's list of update points.
    sup: u16,
    /// Full and delta scans being answered.
    full: u32,
    delta: u32,
    /// The most private memory it held (or a scan would have taken it to).
    peak: u64,
    recycles: u64,
}

/// The update points' pools, by station.
pub(crate) struct WsusPools {
    by_station: Vec<Option<Pool>>,
}

impl WsusPools {
    /// A pool for each update point that gives one.
    pub(crate) fn new(estate: &Estate) -> Self {
        let first = estate.management_points.len();
        let mut by_station: Vec<Option<Pool>> = Vec::new();
        for (i, sup) in estate.update_points.iter().enumerate() {
            if let Some(spec) = sup.wsus_pool {
                by_station.resize_with(first + i + 1, || None);
                by_station[first + i] = Some(Pool {
                    spec,
                    sup: i as u16,
                    full: 0,
                    delta: 0,
                    peak: 0,
                    recycles: 0,
                });
            }
        }
        WsusPools { by_station }
    }

    fn at(&mut self, station: usize) -> Option<&mut Pool> {
        self.by_station.get_mut(station)?.as_mut()
    }

    /// Whether any update point's pool is simulated.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        !self.by_station.is_empty()
    }

    /// A scan being answered at `station` ended (answered or failed).
    pub(crate) fn scan_ended(&mut self, station: usize, kind: Request) {
        if let Some(pool) = self.at(station) {
            match kind {
                Request::FullScan => pool.full -= 1,
                Request::DeltaScan => pool.delta -= 1,
                _ => {}
            }
        }
    }

    /// Every request at `station` failed (it went down).
    pub(crate) fn cleared(&mut self, station: usize) {
        if let Some(pool) = self.at(station) {
            pool.full = 0;
            pool.delta = 0;
        }
    }

    /// What each pool did, in update point order.
    pub(crate) fn records(&self) -> Vec<PoolRecord> {
        (self.by_station.iter().flatten())
            .map(|pool| PoolRecord {
                sup: usize::from(pool.sup),
                limit: pool.spec.limit,
                peak: pool.peak,
                recycles: pool.recycles,
            })
            .collect()
    }
}

impl World<'_> {
    /// A scan of `kind` started service at `at`'s station: its memory
    /// joins the pool's, which recycles if that passes its limit.
    pub(crate) fn pool_scan_started(
        &mut self,
        at: &Settled,
        kind: Request,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let Some(pool) = self.pools.at(at.station()) else {
            return;
        };
        match kind {
            Request::FullScan => pool.full += 1,
            Request::DeltaScan => pool.delta += 1,
            _ => return,
        }
        let memory = pool.spec.memory(pool.full, pool.delta);
        pool.peak = pool.peak.max(memory);
        if pool.spec.limit.is_none_or(|limit| memory <= limit) {
            return;
        }
        pool.recycles += 1;
        pool.full = 0;
        pool.delta = 0;
        let (sup, restart) = (u64::from(pool.sup), pool.spec.restart);
        self.recorder.totals.wsus_recycles += 1;
        let now = sched.now();
        self.recorder
            .trace(now, None, || TraceEvent::WsusRecycle { sup, bytes: memory });
        let mut failed = std::mem::take(&mut self.servers.scratch_jobs);
        failed.clear();
        self.servers.stations_mut().restart(at, &mut failed);
        self.requests_failed(&failed, sched);
        self.servers.scratch_jobs = failed;
        sched.after_fixed(restart, Event::PoolRestarted(at.station() as u16));
    }

    /// A pool is back after a recycle: the scans waiting start.
    pub(crate) fn pool_restarted(&mut self, station: usize, sched: &mut Scheduler<'_, Event>) {
        let at = self.settle(station, sched.key());
        self.servers.stations_mut().resume(&at);
        self.start_waiting(&at, sched);
    }
}
