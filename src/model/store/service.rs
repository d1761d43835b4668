//! Service at the stations: requests offered, started, ended with or
//! without an event of their own, and handed to the role that answers.
//!
//! Owns the one fast path that changes how a run is simulated but not what
//! it computes: a policy request whose answer can only be empty (the
//! client already has everything its site published) ends *silently*, at
//! a place in the event order reserved when it started, with no event.
//! What its ending changes (a free worker, the counters, the client's
//! request no longer out) is applied by [`World::settle`] before anything
//! could see the difference: every station operation takes the
//! [`Settled`] handle that settling returns, and switching a client on or
//! off takes an [`AnswerSettled`] for its own answer. A queue forming or a
//! publication turns the silent endings back into events
//! ([`World::wake_silent`]); an explicit run never ends silently.

use super::clients::AnswerSettled;
use super::station::{Job, Offer, Settled};
use crate::engine::{EventKey, Scheduler, SimDuration, SimTime};
use crate::estate::ClientId;
use crate::model::events::Event;
use crate::model::management_point::answered;
use crate::model::servers::{Request, service_sampler};
use crate::model::world::World;

impl Settled {
    /// Every client's answer at this station is settled too.
    pub(crate) fn answers(&self) -> AnswerSettled {
        AnswerSettled { _private: () }
    }
}

impl World<'_> {
    /// Ends, in order, the services of `station` that end silently before
    /// `upto` (in the agenda's order), exactly as their `Served` events
    /// would have; returns the station's handle.
    #[inline]
    pub(crate) fn settle(&mut self, station: usize, upto: EventKey) -> Settled {
        let World {
            servers,
            clients,
            recorder,
            ..
        } = self;
        servers.stations_mut().settle(station, upto, |c| {
            answered(clients, &mut recorder.totals, c);
        })
    }

    /// Settles every station up to `upto`; their handles, in station order.
    pub(crate) fn settle_all(&mut self, upto: EventKey) -> Vec<Settled> {
        (0..self.servers.station_count())
            .map(|s| self.settle(s, upto))
            .collect()
    }

    /// Before client `c` is switched on or off: if it has a policy request
    /// out, settles its MP, so that an answer that ended silently before
    /// now finds it as it was. Without a request out no silent answer is
    /// its, and whether it is on changes nothing another client's answer
    /// reads: nothing to settle.
    pub(crate) fn settle_own_answer(&mut self, c: ClientId, upto: EventKey) -> AnswerSettled {
        if self.clients.store().0.request_maybe_out(c) {
            return self.settle(self.mp_station(c), upto).answers();
        }
        AnswerSettled { _private: () }
    }

    /// A request from `c` arriving now. A location request or a scan
    /// carries the client's scan attempt (answers to older attempts are
    /// ignored); other requests carry no token (a batch sets its slot), so
    /// they do not read the client's record, which a policy poll would
    /// otherwise load every time.
    #[inline]
    pub(crate) fn job(&self, c: ClientId, kind: Request, now: SimTime) -> Job {
        let token = match kind {
            Request::Location
            | Request::ContentLocation
            | Request::FullScan
            | Request::DeltaScan => self.clients[c].scan_token,
            _ => 0,
        };
        Job {
            client: c,
            kind,
            arrived: now,
            token,
        }
    }

    /// Offers a request to a station; a request a worker takes starts now.
    pub(crate) fn offer(
        &mut self,
        station: usize,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) -> Offer {
        let at = self.settle(station, sched.key());
        self.offer_settled(&at, job, sched)
    }

    /// [`offer`](Self::offer) to a station already settled up to now.
    #[inline]
    pub(crate) fn offer_settled(
        &mut self,
        at: &Settled,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) -> Offer {
        if self.gateways.any() && job.kind != Request::StateBatch {
            self.through_gateway(job);
        }
        let offer = self.servers.stations_mut().offer(at, job);
        match offer {
            Offer::Start(slot) => self.start_service(at, slot, job, sched),
            Offer::Queued => self.wake_silent(at.station(), sched),
            Offer::Rejected => {}
        }
        offer
    }

    /// A client's request to a management point or a software update
    /// point: one from the internet passes through its CMG.
    #[cold]
    fn through_gateway(&mut self, job: Job) {
        if let Some(g) = self.cohort(job.client).gateway {
            self.gateways.request(g, job.kind);
        }
    }

    /// How long the station takes over a request.
    #[inline]
    fn service_time(&mut self, station: usize, job: &Job) -> SimDuration {
        let estate = self.estate;
        let base = match service_sampler(estate, station, job.kind) {
            Some(sampler) => self.servers.draw(station, sampler, job.kind),
            None => {
                debug_assert_eq!(job.kind, Request::StateBatch, "no time for it here");
                let n = self.site.batches().get(job.token).messages.len() as u64;
                let site = &estate.site;
                SimDuration(
                    site.state_system_per_batch.as_ms() + n * site.state_system_per_message.as_ms(),
                )
            }
        };
        let slowdown = self.servers.stations().slowdown(station);
        if slowdown == 1.0 {
            base
        } else {
            SimDuration((base.as_ms() as f64 * slowdown).round() as u64)
        }
    }

    #[inline]
    fn start_service(
        &mut self,
        at: &Settled,
        slot: u16,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let station = at.station();
        let length = self.service_time(station, &job);
        if length == SimDuration::ZERO {
            // It ends with this event, explicit run or not.
            self.servers.stations_mut().started_now(at, slot);
            (self.follow_ups).push_back(Event::Served(station as u16, slot));
        } else if self.may_end_silently(at, &job) {
            let key = sched.reserve(sched.now() + length);
            self.servers
                .stations_mut()
                .started_silent(at, slot, job, key);
        } else {
            let timer = sched.after(length, Event::Served(station as u16, slot));
            self.servers.stations_mut().started(at, slot, timer);
            if job.kind == Request::Policy {
                self.hint_policy_answer(job.client);
            } else if self.pools.any() {
                self.pool_scan_started(at, job.kind, sched);
            }
        }
    }

    /// While a worker is free, the next request waiting starts.
    pub(crate) fn start_waiting(&mut self, at: &Settled, sched: &mut Scheduler<'_, Event>) {
        while let Some((slot, job)) = self.servers.stations_mut().next_waiting(at, sched.now()) {
            self.start_service(at, slot, job, sched);
        }
    }

    /// Whether a request may end without an event of its own (an hourly
    /// poll that brings nothing new is most of a big estate's events). Only
    /// a policy request whose answer is empty: the client already has
    /// everything its site has published, and a publication before the
    /// answer turns the ending back into an event
    /// ([`wake_silent`](Self::wake_silent)). Only while nobody waits at the
    /// station (a queue forming does the same), and not in an explicit run
    /// (which is there to show every event). A trace is the same either
    /// way: a `Served` event writes no record of its own.
    #[inline]
    fn may_end_silently(&self, at: &Settled, job: &Job) -> bool {
        if job.kind != Request::Policy || self.explicit || self.servers.stations().queued(at) > 0 {
            return false;
        }
        self.clients.current(job.client)
    }

    /// A station finished a request: the next one waiting starts, and the
    /// answer goes to whoever asked.
    pub(crate) fn served(&mut self, station: usize, slot: u16, sched: &mut Scheduler<'_, Event>) {
        let at = self.settle(station, sched.key());
        if !self.servers.stations().in_service(&at, slot) {
            return;
        }
        let job = self.servers.stations_mut().finish(&at, slot);
        if self.pools.any() {
            self.pools.scan_ended(station, job.kind);
        }
        if let Some((slot, next)) = self.servers.stations_mut().next_waiting(&at, sched.now()) {
            self.start_service(&at, slot, next, sched);
        }
        match job.kind {
            Request::Policy => self.policy_served(job, sched),
            Request::Location => self.location_served(job, sched),
            Request::ContentLocation => self.content_location_served(job, sched),
            Request::Batch => self.batch_served(job, sched),
            Request::FullScan | Request::DeltaScan => self.scan_served(job, sched),
            Request::StateBatch => self.state_served(job, sched),
            Request::Download => unreachable!("downloads are served by distribution points"),
        }
    }

    /// Turns the silent endings of `station` into `Served` events, each at
    /// the place in the order it reserved: when a queue forms (the next
    /// request starts at an ending) or a publication may make an answer
    /// non-empty.
    pub(crate) fn wake_silent(&mut self, station: usize, sched: &mut Scheduler<'_, Event>) {
        let at = self.settle(station, sched.key());
        let mut keys = std::mem::take(&mut self.servers.scratch_keys);
        keys.clear();
        self.servers.stations_mut().drain_silent(&at, &mut keys);
        for &(key, slot) in &keys {
            let timer = sched.at_reserved(key, Event::Served(station as u16, slot));
            self.servers.stations_mut().started(&at, slot, timer);
        }
        self.servers.scratch_keys = keys;
    }

    /// A site may have published policy: answers being prepared may no
    /// longer be empty, so no management point's service ends silently.
    pub(crate) fn policy_changed(&mut self, sched: &mut Scheduler<'_, Event>) {
        for station in self.servers.management_points() {
            self.wake_silent(station, sched);
        }
    }
}
