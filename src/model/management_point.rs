//! The management point: answers policy requests and takes state-message
//! batches on to the site server.
//!
//! Owns the client ↔ MP exchanges: a policy request hands a client the
//! deployments published since its last request; the reporting cycle sends
//! a client's queued state messages as one batch (MODEL.md 2.2 steps 4–5).
//! Management points answer at once in this model; the batch takes the
//! site's forwarding and state-system delays to reach the database.

use rand::Rng;

use super::compliance::Phase;
use super::events::Event;
use super::ids::{ClientId, DeploymentId};
use super::trace::TraceRecord;
use super::world::{Batch, World};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::scenario::Purpose;

impl World<'_> {
    /// The client asks its MP for policy and learns any new deployments.
    pub(crate) fn request_policy(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        if !self.clients[c.index()].online {
            return;
        }
        self.totals.policy_requests += 1;
        let now = sched.now();
        let client = &mut self.clients[c.index()];
        if !client.has_update_policy && self.update_policy_published {
            // The site-wide software updates policy: the first scan follows
            // within a random window.
            client.has_update_policy = true;
            let window = self.settings(c).first_scan_window.as_ms();
            let client = &mut self.clients[c.index()];
            let delay = if window > 0 {
                client.rng.random_range(0..=window)
            } else {
                0
            };
            client.scan_due = now + SimDuration(delay);
            sched.at(client.scan_due, Event::Wake(c));
        }
        let known = usize::from(self.clients[c.index()].known_deployments);
        for i in known..self.published.len() {
            let d = self.published[i];
            self.learn(c, d, sched);
        }
        self.clients[c.index()].known_deployments = self.published.len() as u16;
    }

    /// The client receives a deployment's policy: it plans the evaluation
    /// scan and draws its own deadline.
    fn learn(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let cohort = usize::from(self.clients[c.index()].cohort);
        if !self.deployments[d.index()].targeted_cohort[cohort] {
            return;
        }
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let settings = self.settings(c);
        let client = &mut self.clients[c.index()];
        let delay = settings.evaluation_delay.sample(&mut client.rng);
        let spread = settings.deadline_randomization.as_ms();
        let jitter = if spread > 0 {
            client.rng.random_range(0..=spread)
        } else {
            0
        };
        let dep = &mut self.deployments[d.index()];
        let a = &mut dep.assignments[c.index()];
        debug_assert_eq!(a.phase, Phase::Unaware);
        a.learned_at = now;
        a.phase = Phase::EvalDue;
        a.due = (now + delay).max(spec.available);
        a.deadline_at = match spec.purpose {
            Purpose::Required => spec.deadline + SimDuration(jitter),
            Purpose::Available => SimTime::MAX,
        };
        dep.counts.with_policy += 1;
        sched.at(a.due, Event::Wake(c));
        self.trace(Some(c), || TraceRecord {
            deployment: Some(d),
            ..TraceRecord::new(now, Some(c), "policy_received")
        });
    }

    /// The client's reporting cycle: send everything queued, if anything.
    pub(crate) fn report_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let interval = self.settings(c).state_message_interval;
        sched.after(interval, Event::ReportCycle(c));
        let client = &mut self.clients[c.index()];
        if !client.online || client.queue.is_empty() {
            return;
        }
        if client.batches > 0 {
            let gap = now.since(client.last_batch);
            self.min_batch_gap = Some(self.min_batch_gap.map_or(gap, |g| g.min(gap)));
        }
        client.batches += 1;
        client.last_batch = now;
        let messages = client.queue.len() as u32;
        self.trace(Some(c), || TraceRecord {
            value: Some(u64::from(messages)),
            ..TraceRecord::new(now, Some(c), "batch_sent")
        });
        let client = &mut self.clients[c.index()];
        self.in_transit.extend(client.queue.drain(..));
        let site = &self.estate.site;
        let arrives = now + site.mp_forward_delay + site.state_system_delay;
        self.batches.push_back(Batch {
            arrives,
            client: c,
            messages,
        });
        self.totals.batches += 1;
        sched.at(arrives, Event::BatchInDatabase);
    }
}
