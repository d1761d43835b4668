//! Catalog sync (MODEL.md 2.1): WSUS Synchronization Manager asks the
//! top-level SUP to sync, polls it until its metadata download is done,
//! then inserts the new updates into the site database.
//!
//! Owns the sync schedule (scheduled = full, manual = delta), which updates
//! a sync brings (those released before it started), and the site-wide
//! software updates policy that the first sync publishes. Law 9 rests here:
//! an update is scannable only once `synced_at` says so.

use super::events::Event;
use super::record::{SyncKind, SyncRecord};
use super::trace::TraceEvent;
use super::world::{RunningSync, World};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::UpdateId;

impl World<'_> {
    /// WSyncMgr starts a sync, unless one is already running: then a manual
    /// trigger waits and starts when the running sync finishes; a scheduled
    /// one is skipped (the next interval comes).
    pub(crate) fn sync_start(&mut self, kind: SyncKind, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let spec = &self.estate.sync;
        if kind == SyncKind::Full {
            sched.after_fixed(spec.schedule_interval, Event::SyncStart(SyncKind::Full));
        }
        if self.running_sync.is_some() {
            if kind == SyncKind::Delta {
                self.sync_waiting = true;
            }
            return;
        }
        let new_updates: Vec<UpdateId> = (0..self.estate.updates.len())
            .filter(|&u| {
                self.synced_at[u] == SimTime::MAX
                    && self.estate.updates[u].release.is_none_or(|r| r <= now)
            })
            .map(|u| UpdateId(u as u16))
            .collect();
        let base = match kind {
            SyncKind::Full => &spec.full_duration,
            SyncKind::Delta => &spec.delta_duration,
        };
        let download = base.sample(&mut self.site_rng)
            + SimDuration(spec.per_new_update.as_ms() * new_updates.len() as u64);
        self.syncs.push(SyncRecord {
            kind,
            started: now,
            finished: None,
            new_updates,
        });
        self.running_sync = Some(RunningSync {
            record: self.syncs.len() - 1,
            wsus_done: now + download,
        });
        sched.after_fixed(spec.poll_interval, Event::SyncPoll);
    }

    /// WSyncMgr polls WSUS: once the download is done it waits, pulls the
    /// metadata and inserts each new update.
    pub(crate) fn sync_poll(&mut self, sched: &mut Scheduler<'_, Event>) {
        let spec = &self.estate.sync;
        let running = self.running_sync.as_ref().expect("a sync is running");
        if sched.now() < running.wsus_done {
            sched.after_fixed(spec.poll_interval, Event::SyncPoll);
            return;
        }
        let new = self.syncs[running.record].new_updates.len() as u64;
        let insert = SimDuration(spec.insert_per_update.as_ms() * new);
        sched.after_fixed(spec.pull_delay + insert, Event::SyncInserted);
    }

    /// The new metadata is in the site database: the updates can be scanned
    /// and deployed; the first sync publishes the software updates policy.
    pub(crate) fn sync_inserted(&mut self, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let running = self.running_sync.take().expect("a sync is running");
        let record = &mut self.syncs[running.record];
        record.finished = Some(now);
        for &u in &record.new_updates {
            self.synced_at[u.index()] = now;
        }
        for i in 0..self.syncs[running.record].new_updates.len() {
            let u = self.syncs[running.record].new_updates[i];
            self.trace(now, None, || TraceEvent::UpdateSynced { update: u });
        }
        self.totals.syncs += 1;
        // Each primary's SUPs then sync from the top-level SUP (at once for
        // a standalone site, whose SUP is the top-level one).
        let sync = running.record;
        for site in 0..self.sites.len() {
            if self.estate.hierarchy {
                let delay = self.estate.primaries[site]
                    .sync_delay
                    .sample(&mut self.site_rng);
                sched.after_fixed(delay, Event::SiteSynced(site as u16, sync as u32));
            } else {
                self.site_synced(site, sync, sched);
            }
        }
        if std::mem::take(&mut self.sync_waiting) {
            self.sync_start(SyncKind::Delta, sched);
        }
    }
}

impl World<'_> {
    /// A primary's SUPs and database have the updates of sync `sync`: they
    /// can be scanned and deployed there; the first sync publishes the
    /// software updates policy there.
    pub(crate) fn site_synced(
        &mut self,
        site: usize,
        sync: usize,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let state = &mut self.sites[site];
        for &u in &self.syncs[sync].new_updates {
            state.synced_at[u.index()] = now;
        }
        state.update_policy_published = true;
        let waiting = std::mem::take(&mut state.awaiting_sync);
        for d in waiting {
            self.content_ready(d, site, now);
        }
        self.refresh_site_current(site);
        self.policy_changed(sched);
    }
}
