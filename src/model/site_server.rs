//! The site server: publishing deployments into policy, and the site
//! database that state messages end up in.
//!
//! Owns what happens at the site: a deployment becomes visible to clients
//! when its content is on the DPs; a batch of state messages becomes the
//! reported state when it reaches the database.

use super::compliance::TOPIC_DETECTION;
use super::ids::DeploymentId;
use super::world::World;
use crate::engine::SimTime;

impl World<'_> {
    /// A deployment is in machine policy from now on (MODEL.md 2.3 step 3).
    pub(crate) fn publish(&mut self, d: DeploymentId, now: SimTime) {
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
            if m.topic == TOPIC_DETECTION {
                let slot = self.slot(c, super::ids::UpdateId(m.subject));
                self.reported[slot] = m.state;
            }
        }
        self.refresh(c, now);
    }
}
