//! The management point: answers policy and location requests and takes
//! state-message batches on to the site server.
//!
//! Owns the client ↔ MP exchanges: a policy request hands a client the
//! software updates policy and the deployments published since its last
//! request; the reporting cycle sends a client's queued state messages as
//! one batch (MODEL.md 2.2 steps 4–5). A request the MP rejects (queue
//! full) or fails (down) is retried with a doubling backoff; a rejected
//! batch stays on the client, whole, for the next cycle, so no message is
//! lost or sent twice.

use rand::Rng;

use super::compliance::Phase;
use super::events::Event;
use super::station::{Job, Offer, Request};
use super::trace::TraceEvent;
use super::world::{World, poll};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::Purpose;
use crate::estate::Settings;
use crate::estate::{ClientId, DeploymentId};

impl World<'_> {
    /// The backoff after client `c`'s next MP failure in a row, which it
    /// counts ([`poll::FAILING`] then says the count is not zero).
    pub(crate) fn mp_backoff(&mut self, c: ClientId) -> SimDuration {
        let settings: &Settings = self.settings(c);
        let failures = &mut self.clients[c.index()].hot.mp_failures;
        let doubling = 1u64 << (*failures).min(20);
        *failures = failures.saturating_add(1);
        self.set_poll(c, poll::FAILING, true);
        SimDuration((settings.mp_retry.as_ms() * doubling).min(settings.mp_retry_max.as_ms()))
    }

    /// Client `c` reached its MP: its count of failures in a row starts
    /// again (read from its poll byte: the count is seldom not zero).
    pub(crate) fn mp_reached(&mut self, c: ClientId) {
        if self.has_poll(c, poll::FAILING) {
            self.set_poll(c, poll::FAILING, false);
            self.clients[c.index()].hot.mp_failures = 0;
        }
    }

    /// The client asks its MP for policy (unless a request is still out).
    pub(crate) fn request_policy(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let mp = self.mp_station(c);
        self.request_policy_at(c, mp, sched);
    }

    /// [`request_policy`](Self::request_policy) to station `mp`, the
    /// client's MP (which a poll names, so that it reads nothing of the
    /// client but its [`poll`] bits).
    pub(crate) fn request_policy_at(
        &mut self,
        c: ClientId,
        mp: usize,
        sched: &mut Scheduler<'_, Event>,
    ) {
        debug_assert_eq!(mp, self.mp_station(c));
        let now = sched.now();
        // An answer that ended silently before now is no longer pending.
        self.settle(mp, sched.key());
        if !self.online(c) || self.has_poll(c, poll::PENDING) {
            return;
        }
        self.set_poll(c, poll::PENDING, true);
        let job = self.job(c, Request::Policy, now);
        if self.offer_settled(mp, job, sched) == Offer::Rejected {
            self.policy_failed(c, sched);
        }
    }

    /// The MP could not answer: the client asks again after a backoff.
    pub(crate) fn policy_failed(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        self.set_poll(c, poll::PENDING, false);
        let delay = self.mp_backoff(c);
        self.totals.mp_rejects += 1;
        sched.after_fixed(delay, Event::PolicyRequest(c));
    }

    /// The MP answered with policy: the client learns the software updates
    /// policy and any new deployments.
    pub(crate) fn policy_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        let c = job.client;
        let now = sched.now();
        if !self.policy_answered(c) {
            return;
        }
        let site = self.site_of(c);
        let hot = &mut self.clients[c.index()].hot;
        if !hot.has_update_policy && self.sites[site].update_policy_published {
            // The site-wide software updates policy: the client learns where
            // its SUP is, and its first scan follows within a random window.
            hot.has_update_policy = true;
            self.clients[c.index()].needs_location = true;
            let window = self.settings(c).first_scan_window.as_ms();
            let client = &mut self.clients[c.index()];
            let delay = if window > 0 {
                client.rng(self.streams, c).random_range(0..=window)
            } else {
                0
            };
            client.scan_due = now + SimDuration(delay);
            sched.at_fixed(client.scan_due, Event::Wake(c));
        }
        let known = usize::from(self.clients[c.index()].hot.known_deployments);
        let published = self.sites[site].published.len();
        for i in known..published {
            let d = self.sites[site].published[i];
            self.learn(c, d, sched);
        }
        self.clients[c.index()].hot.known_deployments = published as u16;
        self.refresh_current(c);
    }

    /// The part of an answer every policy request has: the request is no
    /// longer pending and the MP is reachable again. False if the client was
    /// switched off while waiting (the answer is lost).
    pub(crate) fn policy_answered(&mut self, c: ClientId) -> bool {
        self.set_poll(c, poll::PENDING, false);
        self.mp_reached(c);
        let online = self.online(c);
        if online {
            self.totals.policy_requests += 1;
        }
        online
    }

    /// The client receives a deployment's policy: it plans the evaluation
    /// scan and draws its own deadline.
    fn learn(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let cohort = usize::from(self.clients[c.index()].hot.cohort);
        if !self.deployments[d.index()].targeted_cohort[cohort] {
            return;
        }
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let settings = self.settings(c);
        let client = &mut self.clients[c.index()];
        let delay = settings
            .evaluation_delay
            .sample(&mut client.rng(self.streams, c));
        let spread = settings.deadline_randomization.as_ms();
        let jitter = if spread > 0 {
            client.rng(self.streams, c).random_range(0..=spread)
        } else {
            0
        };
        let dep = &mut self.deployments[d.index()];
        let a = &mut dep.assignments[c.index()];
        debug_assert_eq!(a.phase, Phase::Unaware);
        dep.started[c.index()][0] = now;
        a.phase = Phase::EvalDue;
        a.due = (now + delay).max(spec.available);
        a.deadline_at = match spec.purpose {
            Purpose::Required => spec.deadline + SimDuration(jitter),
            Purpose::Available => SimTime::MAX,
        };
        dep.counts.with_policy += 1;
        sched.at_fixed(a.due, Event::Wake(c));
        self.trace(now, Some(c), || TraceEvent::PolicyReceived {
            deployment: d,
        });
    }

    /// The next reporting tick of a client strictly after `t` (its cycle is
    /// `phase + k·interval`).
    fn next_report_tick(&self, c: ClientId, t: SimTime) -> SimTime {
        let interval = self.settings(c).state_message_interval.as_ms();
        let phase = u64::from(self.clients[c.index()].report_phase);
        if t.as_ms() < phase {
            return SimTime(phase);
        }
        SimTime(phase + ((t.as_ms() - phase) / interval + 1) * interval)
    }

    /// Makes sure the client's next reporting tick is scheduled when it has
    /// something to send. Ticks at which a client could send nothing are
    /// not simulated at all (unless `explicit_report_cycles`): a tick sends
    /// iff the client is on, has no batch out and has messages queued before
    /// it, and this is called whenever one of those may have become true.
    pub(crate) fn arm_report(
        &mut self,
        c: ClientId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        if self.explicit_report_cycles {
            return;
        }
        let client = &self.clients[c.index()];
        // The queue, on a line of its own, last.
        if client.report_armed
            || client.batch_in_flight
            || !self.online(c)
            || self.outboxes.is_empty(c)
        {
            return;
        }
        let tick = self.next_report_tick(c, now);
        self.clients[c.index()].report_armed = true;
        sched.at_fixed(tick, Event::ReportCycle(c));
    }

    /// The client's reporting cycle: send everything queued before this
    /// instant as one batch, if anything is and no earlier batch is still
    /// with the MP (a message queued at the very instant of a tick waits for
    /// the next one).
    pub(crate) fn report_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        if self.explicit_report_cycles {
            let interval = self.settings(c).state_message_interval;
            sched.after_fixed(interval, Event::ReportCycle(c));
        } else {
            self.clients[c.index()].report_armed = false;
        }
        let client = &self.clients[c.index()];
        let ready = self.outboxes.get(c).partition_point(|m| m.queued_at < now);
        if !self.online(c) || ready == 0 || client.batch_in_flight {
            self.arm_report(c, now, sched);
            return;
        }
        let slot = self.new_batch(c, ready);
        let job = Job {
            token: slot,
            ..self.job(c, Request::Batch, now)
        };
        let mp = self.mp_station(c);
        if self.offer(mp, job, sched) == Offer::Rejected {
            self.batch_failed(slot);
            self.totals.mp_rejects += 1;
            self.arm_report(c, now, sched);
            return;
        }
        let client = &mut self.clients[c.index()];
        if client.batches > 0 {
            let gap = now.since(client.last_batch);
            self.min_batch_gap = Some(self.min_batch_gap.map_or(gap, |g| g.min(gap)));
        }
        client.batches += 1;
        client.last_batch = now;
        client.batch_in_flight = true;
        self.totals.batches += 1;
        let messages = self.batch_store[slot as usize].messages.len() as u64;
        self.trace(now, Some(c), || TraceEvent::BatchSent { messages });
    }

    /// Moves the first `n` messages of a client's queue into a batch slot.
    fn new_batch(&mut self, c: ClientId, n: usize) -> u32 {
        let slot = match self.free_batches.pop() {
            Some(slot) => slot,
            None => {
                self.batch_store.push(Default::default());
                (self.batch_store.len() - 1) as u32
            }
        };
        let batch = &mut self.batch_store[slot as usize];
        batch.client = c;
        batch.done = false;
        batch.in_database = false;
        self.outboxes.take_front(c, n, &mut batch.messages);
        slot
    }

    /// A batch the MP did not take goes back, whole and in order, to the
    /// front of its client's queue.
    pub(crate) fn batch_failed(&mut self, slot: u32) {
        let batch = &mut self.batch_store[slot as usize];
        let client = &mut self.clients[batch.client.index()];
        client.batch_in_flight = false;
        self.outboxes.put_back(batch.client, &batch.messages);
        batch.messages.clear();
        self.free_batches.push(slot);
        self.report_dirty.push(batch.client);
    }

    /// The MP took the batch: it goes on to the site server.
    pub(crate) fn batch_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        self.clients[job.client.index()].batch_in_flight = false;
        self.arm_report(job.client, sched.now(), sched);
        let site = &self.estate.site;
        sched.after_fixed(
            site.mp_forward_delay + site.state_system_delay,
            Event::BatchForwarded(job.token),
        );
    }
}
