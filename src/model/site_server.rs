//! The site server: publishing deployments into policy, the state system,
//! and the site database that state messages end up in.
//!
//! Owns what happens at the site: a deployment enters machine policy when
//! its content is on the DPs and its updates are synced; forwarded batches
//! queue at the state system, which processes them at a finite rate with
//! its threads and commits them to the database in arrival order, so a
//! backlog delays the reported state but never reorders it.

use super::compliance::{TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_SCAN};
use super::events::Event;
use super::station::{Job, Offer, Request};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimTime};
use crate::estate::{DeploymentId, UpdateId};

impl World<'_> {
    /// A deployment's content is on a primary's DPs: it enters that site's
    /// machine policy now, or as soon as the last of its updates is synced
    /// there (MODEL.md 2.3).
    pub(crate) fn content_ready(&mut self, d: DeploymentId, site: usize, now: SimTime) {
        let spec = &self.estate.deployments[d.index()];
        let state = &mut self.sites[site];
        if spec
            .updates
            .iter()
            .any(|u| state.synced_at[u.index()] > now)
        {
            state.awaiting_sync.push(d);
            return;
        }
        state.published.push(d);
        self.refresh_site_current(site);
        let dep = &mut self.deployments[d.index()];
        dep.site_published_at[site] = Some(now);
        dep.published_at = Some(dep.published_at.map_or(now, |t| t.min(now)));
    }

    /// A batch reaches the state system's inbox and waits for a thread.
    pub(crate) fn batch_forwarded(&mut self, slot: u32, sched: &mut Scheduler<'_, Event>) {
        let c = self.batch_store[slot as usize].client;
        let site = self.site_of(c);
        self.state_order[site].push_back(slot);
        let job = Job {
            token: slot,
            ..self.job(c, Request::StateBatch, sched.now())
        };
        let station = self.state_station(self.site_of(c));
        let offer = self.offer(station, job, sched);
        assert_ne!(
            offer,
            Offer::Rejected,
            "the state system's inbox has no limit"
        );
    }

    /// The state system finished a batch; batches are committed to the
    /// database in the order they arrived.
    pub(crate) fn state_served(&mut self, job: Job, sched: &mut Scheduler<'_, Event>) {
        self.batch_store[job.token as usize].done = true;
        let site = self.site_of(job.client);
        while let Some(&slot) = self.state_order[site].front() {
            if !self.batch_store[slot as usize].done {
                break;
            }
            self.state_order[site].pop_front();
            self.commit(slot, sched);
        }
    }

    /// Writes a batch into the site database: the reported state of its
    /// client changes (MODEL.md 2.2 step 5).
    fn commit(&mut self, slot: u32, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let messages = std::mem::take(&mut self.batch_store[slot as usize].messages);
        let c = self.batch_store[slot as usize].client;
        self.trace(now, Some(c), || TraceEvent::BatchInDatabase {
            messages: messages.len() as u64,
        });
        for &m in &messages {
            self.message_latency
                .saturating_record(0, now.since(m.queued_at).as_ms());
            self.totals.state_messages_in_database += 1;
            match m.topic {
                TOPIC_DETECTION => self.set_reported(c, UpdateId(m.subject), m.state),
                TOPIC_SCAN => self.clients[c.index()].hot.reported_scan = m.state,
                TOPIC_ENFORCEMENT => {
                    self.deployments[usize::from(m.subject)].assignments[c.index()].enforcement =
                        m.state
                }
                _ => {}
            }
        }
        self.batch_store[slot as usize].messages = messages;
        self.batch_store[slot as usize].in_database = true;
        if self.estate.hierarchy {
            // The primary replicates it to the CAS's database.
            let delay = self.estate.primaries[self.site_of(c)].replication_delay;
            sched.after_fixed(delay, Event::Replicated(slot));
        } else {
            self.batch_store[slot as usize].messages.clear();
            self.free_batches.push(slot);
        }
        self.refresh_reports(c, now);
    }

    /// A batch reaches the CAS's database by replication.
    pub(crate) fn replicated(&mut self, slot: u32, now: SimTime) {
        let c = self.batch_store[slot as usize].client;
        let mut messages = std::mem::take(&mut self.batch_store[slot as usize].messages);
        for m in messages.drain(..) {
            match m.topic {
                TOPIC_DETECTION => {
                    let i = self.slot(c, UpdateId(m.subject));
                    self.updates_of[i].cas_reported = m.state;
                }
                TOPIC_SCAN => self.clients[c.index()].hot.cas_reported_scan = m.state,
                TOPIC_ENFORCEMENT => {
                    self.deployments[usize::from(m.subject)].assignments[c.index()]
                        .cas_enforcement = m.state
                }
                _ => {}
            }
        }
        self.batch_store[slot as usize].messages = messages;
        self.free_batches.push(slot);
        self.refresh_reports(c, now);
    }
}
