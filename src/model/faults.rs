//! Faults: a named server (or a location's WAN link) down or slowed for an
//! interval.
//!
//! Owns what an outage does: a management point or SUP that goes down
//! fails everything waiting or in service back to the clients, who retry
//! by their own rules; a DP that goes down fails its downloads, which keep
//! the bytes they have and resume later; a WAN link that goes down fails
//! the downloads crossing it the same way, and holds its copies of content
//! to branch DPs until it is back. A slowdown stretches service times (a
//! DP's or a link's bandwidth shrinks). When the fault ends the backlog drains. An
//! outage of the top-level SUP also fails a catalog sync (`sync.rs`).

use super::content::DownloadFailure;
use super::events::Event;
use super::servers::Request;
use super::store::Job;
use super::trace::TraceEvent;
use super::update_point::TransientScanFailure;
use super::world::World;
use crate::engine::{Scheduler, TimerId};
use crate::estate::ServerRef;

impl World<'_> {
    /// Whether `server` is the SUP the top-level site's syncs go through.
    fn is_top_sup(&self, server: ServerRef) -> bool {
        matches!(server, ServerRef::Sup(s) if Some(s) == self.estate.sync.top_update_point)
    }

    /// Fault `i` begins.
    pub(crate) fn fault_begin(&mut self, i: usize, sched: &mut Scheduler<'_, Event>) {
        let settled = self.settle_all(sched.key());
        let fault = &self.estate.faults[i];
        let now = sched.now();
        let slows = fault.slowdown.is_some();
        self.recorder.trace(now, None, || {
            let fault = i as u64;
            if slows {
                TraceEvent::FaultSlowBegin { fault }
            } else {
                TraceEvent::FaultDownBegin { fault }
            }
        });
        match (fault.server, fault.slowdown) {
            (ServerRef::Dp(dp), Some(factor)) => self.dp_set_slowdown(dp, factor, sched),
            (ServerRef::Dp(dp), None) => {
                for (c, remaining) in self.dp_fail_all(dp, sched) {
                    self.download_failed(c, remaining, DownloadFailure::DistributionPoint, sched);
                }
                if !self.estate.locations.is_empty() {
                    self.pull_source_down(dp, sched);
                    self.copies_fail_dp(dp, sched);
                }
            }
            (ServerRef::Link(link), Some(factor)) => self.link_set_slowdown(link, factor, sched),
            (ServerRef::Link(link), None) => {
                for (c, remaining) in self.link_fail_all(link, sched) {
                    match remaining {
                        Some(remaining) => {
                            self.download_failed(c, remaining, DownloadFailure::WanLink, sched)
                        }
                        None => self.scan_failed(c, TransientScanFailure::WanLink, sched),
                    }
                }
            }
            (server, Some(factor)) => {
                let at = &settled[self.servers.station_of(server)];
                self.servers.stations_mut().set_slowdown(at, factor);
            }
            (server, None) => {
                if self.is_top_sup(server) {
                    self.sync.top_sup_fault(true);
                }
                let at = &settled[self.servers.station_of(server)];
                let mut failed = std::mem::take(&mut self.servers.scratch_jobs);
                failed.clear();
                self.servers.stations_mut().fail_all(at, &mut failed);
                self.pools.cleared(at.station());
                self.requests_failed(&failed, sched);
                self.servers.scratch_jobs = failed;
            }
        }
    }

    /// Requests a station failed (it went down, or its process restarted)
    /// go back to their clients, who retry by their own rules; the timers
    /// of those that were in service are cancelled.
    pub(crate) fn requests_failed(
        &mut self,
        failed: &[(Job, Option<TimerId>)],
        sched: &mut Scheduler<'_, Event>,
    ) {
        for &(job, timer) in failed {
            if let Some(timer) = timer {
                sched.cancel(timer);
            }
            match job.kind {
                Request::Policy => self.policy_failed(job.client, sched),
                Request::Batch => {
                    let messages = self.site.batches().get(job.token).messages.len() as u64;
                    self.recorder.trace(sched.now(), Some(job.client), || {
                        TraceEvent::BatchReturned { messages }
                    });
                    self.batch_failed(job.token);
                    self.recorder.totals.mp_rejects += 1;
                }
                Request::Location if self.scan_is_current(job.client, job.token) => {
                    self.scan_failed(job.client, TransientScanFailure::ManagementPoint, sched)
                }
                Request::ContentLocation
                    if self.content_location_is_current(job.client, job.token) =>
                {
                    self.content_location_failed(job.client, sched)
                }
                Request::FullScan | Request::DeltaScan
                    if self.scan_is_current(job.client, job.token) =>
                {
                    self.scan_failed(job.client, TransientScanFailure::UpdatePoint, sched)
                }
                _ => {}
            }
        }
    }

    /// Fault `i` ends: the server is back at full speed.
    pub(crate) fn fault_end(&mut self, i: usize, sched: &mut Scheduler<'_, Event>) {
        let settled = self.settle_all(sched.key());
        let fault = &self.estate.faults[i];
        let now = sched.now();
        self.recorder
            .trace(now, None, || TraceEvent::FaultEnd { fault: i as u64 });
        match fault.server {
            ServerRef::Dp(dp) => {
                self.dp_restore(dp, sched);
                if !self.estate.locations.is_empty() {
                    self.copies_dp_restored(dp, sched);
                }
            }
            ServerRef::Link(link) => self.link_restore(link, sched),
            server => {
                if self.is_top_sup(server) {
                    self.sync.top_sup_fault(false);
                }
                let at = &settled[self.servers.station_of(server)];
                self.servers.stations_mut().restore(at);
            }
        }
    }
}
