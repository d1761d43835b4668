//! The site server: publishing deployments into policy, and the site
//! database that state messages end up in.
//!
//! Owns what happens at the site: a deployment enters machine policy when
//! its content is on the DPs and its updates are synced; a batch of state
//! messages becomes the reported state when it reaches the database.

use super::compliance::{TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_SCAN};
use super::ids::{DeploymentId, UpdateId};
use super::world::World;
use crate::engine::SimTime;

impl World<'_> {
    /// A deployment's content is on the DPs: it enters machine policy now,
    /// or as soon as the last of its updates is synced (MODEL.md 2.3).
    pub(crate) fn content_ready(&mut self, d: DeploymentId, now: SimTime) {
        let spec = &self.estate.deployments[d.index()];
        if spec.updates.iter().any(|u| self.synced_at[u.index()] > now) {
            self.awaiting_sync.push(d);
            return;
        }
        self.published.push(d);
        self.deployments[d.index()].published_at = Some(now);
    }

    /// The oldest batch in transit reaches the site database: the reported
    /// state of its client changes (MODEL.md 2.2 step 5).
    pub(crate) fn batch_in_database(&mut self, now: SimTime) {
        let batch = self.batches.pop_front().expect("a batch is in transit");
        assert_eq!(
            batch.arrives, now,
            "batches reach the database in the order sent"
        );
        let c = batch.client;
        for _ in 0..batch.messages {
            let m = self
                .in_transit
                .pop_front()
                .expect("its messages are in transit");
            self.message_latency
                .saturating_record(now.since(m.queued_at).as_ms());
            self.totals.state_messages_in_database += 1;
            match m.topic {
                TOPIC_DETECTION => self.set_reported(c, UpdateId(m.subject), m.state),
                TOPIC_SCAN => self.reported_scan[c.index()] = m.state,
                TOPIC_ENFORCEMENT => {
                    self.deployments[usize::from(m.subject)].reported_enforcement[c.index()] =
                        m.state
                }
                _ => {}
            }
        }
        self.refresh(c, now);
    }
}
