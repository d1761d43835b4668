//! The management point: answers policy and location requests and takes
//! state-message batches on to the site server.
//!
//! Owns the client ↔ MP exchanges: a client's policy polls (hourly, at its
//! own phase, and after each power-on or restart); a policy request hands a
//! client the software updates policy and the deployments published since
//! its last request; the reporting cycle sends a client's queued state
//! messages as one batch, and so does the client within two minutes of an
//! install. A request the MP rejects (queue full) or fails
//! (down) is retried with a doubling backoff; a rejected batch stays on the
//! client, whole, for the next cycle, so no message is lost or sent twice.

use rand::Rng;

use super::client::{Action, Clients};
use super::compliance::{
    DETECTION_UNKNOWN, Phase, TOPIC_COMPLIANCE, TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_SCAN,
};
use super::events::Event;
use super::record::Totals;
use super::servers::Request;
use super::store::{Job, Offer, Settled};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, DeploymentId, Purpose, UpdateId};

/// Failed requests in a row after which a client moves to another of its
/// cohort's management points (Microsoft: "five errors in 10 minutes").
const MP_FAILURES_BEFORE_SWITCH: u8 = 5;

/// The longest a client waits after the scan that follows an install
/// before it sends the state that scan found ("Introduction to software
/// updates": "a delay of up to two minutes").
const INSTALL_REPORT_WITHIN: SimDuration = SimDuration(120_000);

/// The part of an answer every policy request has, a silent one included:
/// the request is no longer out and the MP is reachable again. False if the
/// client was switched off while waiting (the answer is lost).
pub(crate) fn answered(clients: &mut Clients, totals: &mut Totals, c: ClientId) -> bool {
    clients.set_request_out(c, false);
    clients.clear_mp_failures(c);
    let online = clients.online(c);
    if online {
        totals.policy_requests += 1;
    }
    online
}

impl World<'_> {
    /// The backoff after client `c`'s next MP failure in a row, which it
    /// counts. At the fifth in a row, a client whose cohort has other MPs
    /// switches to one of them, drawn at random, and asks it after the
    /// first backoff.
    pub(crate) fn mp_backoff(&mut self, c: ClientId, now: SimTime) -> SimDuration {
        let settings = self.settings(c);
        let failures = self.clients.count_mp_failure(c);
        if failures + 1 >= MP_FAILURES_BEFORE_SWITCH && !self.cohort(c).mp_fallbacks.is_empty() {
            self.switch_mp(c, now);
            return settings.mp_retry;
        }
        let doubling = 1u64 << failures.min(20);
        SimDuration((settings.mp_retry.as_ms() * doubling).min(settings.mp_retry_max.as_ms()))
    }

    /// Client `c` moves to another MP of its cohort, at random, its
    /// failures in a row starting again.
    #[cold]
    #[inline(never)]
    fn switch_mp(&mut self, c: ClientId, now: SimTime) {
        let n = 1 + self.cohort(c).mp_fallbacks.len() as u8;
        let at = if self.clients.elsewhere(c) {
            self.clients.cold(c).mp_at
        } else {
            0
        };
        let step = self.clients.rng(c).random_range(1..n);
        let to = (at + step) % n;
        self.clients.cold_mut(c).mp_at = to;
        self.clients.set_elsewhere(c, to != 0);
        self.clients.clear_mp_failures(c);
        self.recorder.totals.mp_switches += 1;
        let mp = self.mp_station(c) as u16;
        self.recorder
            .trace(now, Some(c), || TraceEvent::MpSwitch { mp });
    }

    /// The station of a client's management point: its cohort's, unless
    /// that one failed it.
    #[inline]
    pub(crate) fn mp_station(&self, c: ClientId) -> usize {
        let cohort = self.cohort(c);
        if self.clients.elsewhere(c) {
            match self.clients.cold(c).mp_at {
                0 => cohort.mp.index(),
                k => cohort.mp_fallbacks[usize::from(k) - 1].index(),
            }
        } else {
            cohort.mp.index()
        }
    }

    /// The client's periodic poll to `mp`, its management point's station.
    /// An offline client's polls do nothing: unless they are simulated
    /// explicitly, its chain stops, and restarts at the first tick after
    /// it is back (see [`resume_polls`]).
    ///
    /// [`resume_polls`]: Self::resume_polls
    #[inline]
    pub(crate) fn policy_poll(&mut self, c: ClientId, mp: usize, sched: &mut Scheduler<'_, Event>) {
        // The chain names the cohort's own MP; a client that moved to
        // another asks that one.
        let mp = if self.clients.elsewhere(c) {
            self.mp_station(c)
        } else {
            mp
        };
        debug_assert_eq!(mp, self.mp_station(c));
        if self.explicit || self.clients.online(c) {
            let at = self.settle(mp, sched.key());
            if !self.poll_turns_quiet(c, &at, sched.now()) {
                sched.repeat();
            }
            self.request_policy_at(c, &at, sched);
        } else {
            self.clients.set_polling(c, false);
        }
    }

    /// Arms a client's policy polls again, for its first poll after now,
    /// if its chain stopped while it was off. (Not [`Scheduler::resume`],
    /// which reads the timer's slot to find its phase: the client's record,
    /// read anyway, holds the phase.)
    pub(crate) fn resume_polls(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        if self.clients.polling(c) {
            return;
        }
        self.clients.set_polling(c, true);
        let interval = self.settings(c).policy_polling_interval;
        let client = &self.clients[c];
        let phase = SimTime(u64::from(client.poll_phase));
        let timer = client
            .poll_timer
            .expect("poll timers are made at the start");
        sched.arm_periodic(timer, sched.now().next_on_phase(phase, interval));
    }

    /// The client asks its MP for policy (unless a request is still out).
    pub(crate) fn request_policy(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let at = self.settle(self.mp_station(c), sched.key());
        self.request_policy_at(c, &at, sched);
    }

    /// Traces a policy request sent: out of line, so that the hot path of
    /// a poll stays small when nothing is traced.
    #[cold]
    #[inline(never)]
    fn trace_policy_request(&mut self, c: ClientId, now: SimTime) {
        self.recorder
            .trace(now, Some(c), || TraceEvent::PolicyRequest);
    }

    /// [`request_policy`](Self::request_policy) to the client's MP, settled
    /// up to now (an answer that ended silently before now is no longer
    /// out).
    #[inline]
    fn request_policy_at(&mut self, c: ClientId, at: &Settled, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        if !self.clients.online(c) || self.clients.request_out(c, &at.answers()) {
            return;
        }
        self.clients.set_request_out(c, true);
        if self.recorder.tracing() {
            self.trace_policy_request(c, now);
        }
        let job = self.job(c, Request::Policy, now);
        if self.offer_settled(at, job, sched) == Offer::Rejected {
            self.policy_failed(c, sched);
        }
    }

    /// The MP could not answer: the client asks again after a backoff. The
    /// request stays out until then, so its polls meanwhile are skipped.
    pub(crate) fn policy_failed(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let delay = self.mp_backoff(c, sched.now());
        self.recorder.totals.mp_rejects += 1;
        sched.after_fixed(delay, Event::PolicyRetry(c));
        self.recorder
            .trace(sched.now(), Some(c), || TraceEvent::PolicyFailed {
                retry_ms: delay.as_ms(),
            });
    }

    /// The retry of a request the MP could not answer (lost if the client
    /// is off by then; its next poll asks afresh).
    pub(crate) fn retry_policy(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        self.clients.set_request_out(c, false);
        self.request_policy(c, sched);
    }

    /// The MP answered with policy: the client learns the software updates
    /// policy and any new deployments.
    pub(crate) fn policy_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        let c = job.client;
        let now = sched.now();
        if !answered(&mut self.clients, &mut self.recorder.totals, c) {
            return;
        }
        if self.clients.current(c) {
            // An empty answer (what a silent ending does): the client's
            // record is not read.
            return;
        }
        let site = self.cohort(c).site;
        if !self.clients.has_update_policy(c) && self.site.update_policy_published(site) {
            // The site-wide software updates policy: the client learns where
            // its SUP is, and its first scan follows within a random window.
            self.clients.grant_update_policy(c);
            self.clients[c].needs_location = true;
            let window = self.settings(c).first_scan_window.as_ms();
            let delay = if window > 0 {
                self.clients.rng(c).random_range(0..=window)
            } else {
                0
            };
            let client = &mut self.clients[c];
            client.scan_due = now + SimDuration(delay);
            sched.at_fixed(client.scan_due, Event::Wake(c));
        }
        let known = self.clients.known_deployments(c);
        let published = self.site.published(site).len();
        let was_disabled = self.disabled_known(c);
        self.clients.set_known_deployments(c, published);
        for i in known..published {
            // A deployment published again disabled or enabled is no news
            // of its own: the client reads the change below.
            if self.site.republished(site, i).is_none() {
                let d = self.site.published(site)[i];
                self.learn(c, d, sched);
            }
        }
        if self.site.toggled() {
            self.policy_toggled(c, &was_disabled, sched);
        }
        if self.site.lossy() && std::mem::take(&mut self.clients.cold_mut(c).resync_requested) {
            self.resync(c, now);
        }
        self.refresh_current(c);
    }

    /// The client receives a deployment's policy: it plans the evaluation
    /// scan and draws its own deadline.
    fn learn(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        if !self.deployments.targets(d, self.clients.cohort(c)) {
            return;
        }
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let settings = self.settings(c);
        let delay = settings.evaluation_delay.sample(&mut self.clients.rng(c));
        // The client setting that turns randomization off applies only to
        // deployments made by hand: a rule's are always randomized.
        let spread = match spec.rule {
            Some(_) => crate::estate::DEADLINE_RANDOMIZATION.as_ms(),
            None => settings.deadline_randomization.as_ms(),
        };
        let jitter = if spread > 0 {
            self.clients.rng(c).random_range(0..=spread)
        } else {
            0
        };
        let (available, deadline) = (self.deployments.available(d), self.deployments.deadline(d));
        let phase = self.deployments.assignment(d, c).phase;
        if phase != Phase::Unaware {
            // A new revision of a deployment it knows: a rule replaced its
            // group's updates. A client done with it evaluates it again;
            // one still on its way evaluates the new updates at its next
            // step.
            if matches!(
                phase,
                Phase::Compliant | Phase::NotRequired | Phase::Failed | Phase::ScanFailed
            ) {
                let a = self.deployments.assignment_mut(d, c);
                a.phase = Phase::EvalDue;
                a.due = (now + delay).max(available);
                sched.at_fixed(a.due, Event::Wake(c));
            }
            self.recorder
                .trace(now, Some(c), || TraceEvent::PolicyReceived {
                    deployment: d,
                });
            return;
        }
        // A phase made available gradually: this client's own available
        // time, and its deadline as far after the phase's (drawn only
        // then, so that other deployments keep their draws).
        let over = spec.gradually_over.as_ms();
        let offset = if over > 0 {
            SimDuration(self.clients.rng(c).random_range(0..=over))
        } else {
            SimDuration::ZERO
        };
        let due = (now + delay).max(available + offset);
        let deadline_at = match spec.purpose {
            Purpose::Required => deadline + offset + SimDuration(jitter),
            Purpose::Available => SimTime::MAX,
        };
        self.deployments.learned(d, c, now, [due, deadline_at]);
        sched.at_fixed(due, Event::Wake(c));
        self.recorder
            .trace(now, Some(c), || TraceEvent::PolicyReceived {
                deployment: d,
            });
    }

    /// Whether a served or failed content location request still belongs
    /// to the client's current download attempt.
    pub(crate) fn content_location_is_current(&self, c: ClientId, token: u32) -> bool {
        let client = &self.clients[c];
        matches!(client.action, Action::Locate(_)) && client.scan_token == token
    }

    /// The MP answered a content location request with the DPs that hold
    /// the content: the client downloads from its own.
    pub(crate) fn content_location_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        if !self.content_location_is_current(job.client, job.token) {
            return;
        }
        self.clients.clear_mp_failures(job.client);
        let c = job.client;
        if let Action::Locate(d) = self.clients[c].action
            && self.disabled_for(c).contains(&d)
        {
            // A policy answer since it asked says the deployment is
            // disabled (its phased deployment suspended): the download
            // does not start; the client takes it up once it is enabled.
            self.download_later(c, d, None, sched);
            return;
        }
        self.download_located(c, sched);
    }

    /// The MP turned a content location request down (queue full) or lost
    /// it (down): the client asks again after its MP backoff, as for any
    /// request to its MP.
    pub(crate) fn content_location_failed(
        &mut self,
        c: ClientId,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let retry = now + self.mp_backoff(c, sched.now());
        self.recorder.totals.mp_rejects += 1;
        let Action::Locate(d) = self.clients[c].action else {
            unreachable!("a failed location request belongs to a locating client");
        };
        self.recorder
            .trace(now, Some(c), || TraceEvent::ContentLocationFailed {
                deployment: d,
                retry_ms: retry.since(now).as_ms(),
            });
        self.download_later(c, d, Some(retry), sched);
    }

    /// The next reporting tick of a client strictly after `t` (its cycle is
    /// `phase + k·interval`).
    fn next_report_tick(&self, c: ClientId, t: SimTime) -> SimTime {
        let interval = self.settings(c).state_message_interval.as_ms();
        let phase = u64::from(self.clients[c].report_phase);
        if t.as_ms() < phase {
            return SimTime(phase);
        }
        SimTime(phase + ((t.as_ms() - phase) / interval + 1) * interval)
    }

    /// Makes sure the client's next reporting tick is scheduled when it has
    /// something to send. Ticks at which a client could send nothing are
    /// not simulated at all (unless the run is explicit): a tick sends iff
    /// the client is on, has no batch out and has messages queued before
    /// it, and this is called whenever one of those may have become true.
    pub(crate) fn arm_report(
        &mut self,
        c: ClientId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        if self.explicit {
            return;
        }
        let client = &self.clients[c];
        // The queue, on a line of its own, last.
        if client.report_armed
            || client.batch_in_flight
            || !self.clients.online(c)
            || self.clients.outbox_empty(c)
        {
            return;
        }
        let tick = self.next_report_tick(c, now);
        self.clients[c].report_armed = true;
        // Ranked by client: its place among the events of its instant is
        // the one a tick scheduled at every cycle would have.
        sched.at_ranked(tick, u64::from(c.0), Event::ReportCycle(c));
    }

    /// The client's reporting cycle: send everything queued before this
    /// instant as one batch, if anything is and no earlier batch is still
    /// with the MP (a message queued at the very instant of a tick waits for
    /// the next one).
    pub(crate) fn report_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        if self.explicit {
            let interval = self.settings(c).state_message_interval;
            sched.at_ranked(now + interval, u64::from(c.0), Event::ReportCycle(c));
        } else {
            self.clients[c].report_armed = false;
        }
        let ready = self.ready_to_send(c, now);
        if ready == 0 {
            self.arm_report(c, now, sched);
            return;
        }
        let last = self.clients[c].last_batch;
        if self.send_batch(c, ready, sched) {
            if last != SimTime::MAX {
                self.recorder.batch_gap(now.since(last));
            }
            self.clients[c].last_batch = now;
        }
    }

    /// After an install the client rescans, and "there might be a delay of
    /// up to two minutes before the client sends the updated state to the
    /// management point" ("Introduction to software updates"): it sends
    /// what the rescan found at an instant drawn uniformly over the next
    /// two minutes, from its own stream, unless its reporting tick has
    /// sent it by then.
    pub(crate) fn plan_install_report(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let delay = self
            .clients
            .rng(c)
            .random_range(1..=INSTALL_REPORT_WITHIN.as_ms());
        sched.after_fixed(SimDuration(delay), Event::InstallReport(c));
    }

    /// The moment [`plan_install_report`](Self::plan_install_report)
    /// drew: the client sends everything queued before it as one batch,
    /// as at a reporting tick, if it is on and no batch of its is with the
    /// MP (else the messages wait for its next tick). The batch does not
    /// move its reporting cycle.
    pub(crate) fn install_report(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let ready = self.ready_to_send(c, now);
        if ready == 0 {
            return;
        }
        self.recorder
            .trace(now, Some(c), || TraceEvent::InstallReport);
        if self.send_batch(c, ready, sched) {
            self.recorder.totals.batches_after_install += 1;
        }
    }

    /// How many of the client's queued messages a batch sent now would
    /// carry: those queued before this instant, or none while it is off or
    /// has a batch with its MP.
    fn ready_to_send(&self, c: ClientId, now: SimTime) -> usize {
        if !self.clients.online(c) || self.clients[c].batch_in_flight {
            return 0;
        }
        self.clients
            .outbox(c)
            .partition_point(|m| m.queued_at < now)
    }

    /// Sends the client's first `ready` queued messages to its MP as one
    /// batch; returns whether the MP took it (a batch it turns down goes
    /// back to the queue, for the next tick).
    fn send_batch(&mut self, c: ClientId, ready: usize, sched: &mut Scheduler<'_, Event>) -> bool {
        let now = sched.now();
        let slot = self.new_batch(c, ready);
        let job = Job {
            token: slot,
            ..self.job(c, Request::Batch, now)
        };
        if self.offer(self.mp_station(c), job, sched) == Offer::Rejected {
            self.batch_failed(slot);
            self.recorder.totals.mp_rejects += 1;
            self.arm_report(c, now, sched);
            return false;
        }
        let client = &mut self.clients[c];
        client.batches += 1;
        client.batch_in_flight = true;
        self.recorder.totals.batches += 1;
        let messages = self.site.batches().get(slot).messages.len() as u64;
        self.recorder
            .trace(now, Some(c), || TraceEvent::BatchSent { messages });
        true
    }

    /// Moves the first `n` messages of a client's queue into a new batch,
    /// numbered from the client's next serial number.
    fn new_batch(&mut self, c: ClientId, n: usize) -> u32 {
        let slot = self.site.batches_mut().open(c);
        let serial = self.clients.next_serial(c);
        self.clients
            .set_next_serial(c, serial.wrapping_add(n as u32));
        let batch = self.site.batches_mut().get_mut(slot);
        batch.serial = serial as u16;
        // Exactly `n`: growing by doubling would leave up to half of a long
        // batch empty while it is in transit.
        batch.messages.reserve_exact(n);
        self.clients
            .outboxes_mut()
            .take_front(c, n, &mut batch.messages);
        slot
    }

    /// A batch the MP did not take goes back, whole and in order, to the
    /// front of its client's queue; its messages keep their serial numbers
    /// (the client's count goes back).
    pub(crate) fn batch_failed(&mut self, slot: u32) {
        let batch = self.site.batches().get(slot);
        let c = batch.client;
        let n = batch.messages.len() as u32;
        self.clients[c].batch_in_flight = false;
        self.clients.outboxes_mut().put_back(c, &batch.messages);
        let serial = self.clients.next_serial(c);
        self.clients.set_next_serial(c, serial.wrapping_sub(n));
        self.site.batches_mut().close(slot);
        self.report_dirty.push(c);
    }

    /// The MP took the batch: it goes on to the site server, unless it is
    /// lost on the way (a share `state_message_loss` of the cohort's
    /// batches). The client has marked its messages sent either way.
    pub(crate) fn batch_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        let c = job.client;
        self.clients[c].batch_in_flight = false;
        self.arm_report(c, sched.now(), sched);
        let loss = self.cohort(c).state_message_loss;
        if loss > 0.0
            && self
                .clients
                .batch_lost(c, self.clients[c].batches - 1, loss)
        {
            let messages = self.site.batches().get(job.token).messages.len() as u64;
            self.site.batches_mut().close(job.token);
            self.recorder.totals.batches_lost += 1;
            self.recorder.totals.state_messages_lost += messages;
            self.recorder
                .trace(sched.now(), Some(c), || TraceEvent::BatchLost { messages });
            return;
        }
        let site = &self.estate.site;
        let delay = site.mp_forward_delay + site.state_system_delay;
        if delay == SimDuration::ZERO {
            self.follow_ups.push_back(Event::BatchForwarded(job.token));
        } else {
            sched.after_fixed(delay, Event::BatchForwarded(job.token));
        }
    }

    /// The client resends its full current state, as
    /// `RefreshServerComplianceState` makes it: for every update it has
    /// scanned its detection state (500), its last scan state (501), and
    /// for every deployment its last compliance (300) and enforcement
    /// (301) states. They leave with its next batch.
    fn resync(&mut self, c: ClientId, now: SimTime) {
        let before = self.recorder.totals.state_messages_queued;
        let site = self.cohort(c).site;
        for u in (0..self.estate.updates.len() as u16).map(UpdateId) {
            let sent = self.clients.update(c, u).sent;
            if sent != DETECTION_UNKNOWN && self.site.synced_by(site, u.index(), now) {
                self.queue(c, TOPIC_DETECTION, sent, u.0, now);
            }
        }
        let scan = self.clients.cold(c).scan_sent;
        if scan != 0 {
            self.queue(c, TOPIC_SCAN, scan, 0, now);
        }
        for d in self.deployments.ids() {
            let a = self.deployments.assignment(d, c);
            let (compliance, enforcement) = (a.sent_compliance, a.sent_enforcement);
            if compliance != 0 {
                self.queue(c, TOPIC_COMPLIANCE, compliance, d.0, now);
            }
            if enforcement != 0 {
                self.queue(c, TOPIC_ENFORCEMENT, enforcement, d.0, now);
            }
        }
        let messages = self.recorder.totals.state_messages_queued - before;
        self.recorder.totals.resyncs += 1;
        self.recorder
            .trace(now, Some(c), || TraceEvent::Resync { messages });
    }
}
