//! Catalog sync: WSUS Synchronization Manager asks the top-level SUP to
//! sync, polls it until its metadata download is done, then inserts the
//! new updates into the site database.
//!
//! Owns [`Catalog`]: the sync schedule (scheduled = full, manual = delta),
//! which updates a sync brings (those released before it started), the
//! record of every sync, failed syncs and their retries, and the site-wide
//! software updates policy that the first sync publishes. The sync law
//! rests here: an update is scannable only once its site's database has it
//! (see `site_server.rs`). A sync fails when the top-level SUP is down as
//! it starts, or goes down before it is done (WSyncMgr notices at its next
//! poll, or when it pulls the metadata): nothing is inserted and WSyncMgr
//! tries again `retry_interval` later.

use super::events::Event;
use super::record::{SyncKind, SyncRecord};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, TimerId};
use crate::estate::{ClientId, Estate, UpdateId};

/// The sync in progress.
struct RunningSync {
    /// Index into the records.
    record: usize,
    /// When WSUS's download is done.
    wsus_done: SimTime,
    /// Outages of the top-level SUP that had begun when it started.
    outages: u32,
}

/// The top-level site's catalog and its syncs.
pub(crate) struct Catalog {
    /// When each update's metadata reached the top-level site database
    /// (`MAX`: not yet).
    synced_at: Vec<SimTime>,
    running: Option<RunningSync>,
    /// A manual sync was triggered while another ran.
    waiting: bool,
    records: Vec<SyncRecord>,
    /// The top-level SUP is down (a fault).
    top_sup_down: bool,
    /// Outages of the top-level SUP that have begun: a sync during which
    /// one begins fails, even if the SUP is back by the next poll.
    top_sup_outages: u32,
    /// A failed sync's retry is scheduled, to run a sync of this kind (a
    /// full one if any sync that failed since was full), at this timer.
    retry: Option<(SyncKind, TimerId)>,
    /// Per update, whether a supersedence rule expired it: it has left
    /// its deployments.
    expired: Vec<bool>,
}

impl Catalog {
    /// The catalog at time zero.
    pub(crate) fn new(estate: &Estate) -> Self {
        Catalog {
            synced_at: estate.initially_synced_at(),
            running: None,
            waiting: false,
            records: Vec::new(),
            top_sup_down: false,
            top_sup_outages: 0,
            retry: None,
            expired: vec![false; estate.updates.len()],
        }
    }

    /// Whether update `u` was in the top-level site database at `t`.
    pub(crate) fn synced_by(&self, u: UpdateId, t: SimTime) -> bool {
        self.synced_at[u.index()] <= t
    }

    /// Whether update `u` has expired (it no longer counts in any
    /// deployment).
    #[inline]
    pub(crate) fn expired(&self, u: UpdateId) -> bool {
        self.expired[u.index()]
    }

    /// A fault takes the top-level SUP down (`true`) or ends (`false`).
    pub(crate) fn top_sup_fault(&mut self, down: bool) {
        if down && !self.top_sup_down {
            self.top_sup_outages += 1;
        }
        self.top_sup_down = down;
    }

    /// Whether the running sync has lost its SUP since it started.
    fn running_failed(&self) -> bool {
        let running = self.running.as_ref().expect("a sync is running");
        self.top_sup_outages != running.outages
    }

    /// Every sync, in start order, and when each update reached the
    /// top-level database (`None`: never).
    pub(crate) fn into_records(self) -> (Vec<SyncRecord>, Vec<Option<SimTime>>) {
        let synced_at = (self.synced_at.iter())
            .map(|&t| (t != SimTime::MAX).then_some(t))
            .collect();
        (self.records, synced_at)
    }
}

impl World<'_> {
    /// WSyncMgr starts a sync, unless one is already running: then a manual
    /// trigger waits and starts when the running sync finishes; a scheduled
    /// one is skipped (the next interval comes).
    pub(crate) fn sync_start(&mut self, kind: SyncKind, sched: &mut Scheduler<'_, Event>) {
        if kind == SyncKind::Full {
            let interval = self.estate.sync.schedule_interval;
            sched.after_fixed(interval, Event::SyncStart(SyncKind::Full));
        }
        if self.sync.running.is_some() {
            if kind == SyncKind::Delta {
                self.sync.waiting = true;
            }
            return;
        }
        self.begin_sync(kind, sched);
    }

    /// The retry of a failed sync is due: it runs, unless a sync is
    /// running now (which does its work; a success since the failure
    /// cancelled the retry).
    pub(crate) fn sync_retry(&mut self, sched: &mut Scheduler<'_, Event>) {
        let (kind, _) = self.sync.retry.take().expect("a retry is scheduled");
        if self.sync.running.is_none() {
            self.recorder
                .trace(sched.now(), None, || TraceEvent::SyncRetry);
            self.begin_sync(kind, sched);
        }
    }

    /// A sync starts: it fails at once if the top-level SUP is down.
    fn begin_sync(&mut self, kind: SyncKind, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.recorder.trace(now, None, || match kind {
            SyncKind::Full => TraceEvent::SyncStartFull,
            SyncKind::Delta => TraceEvent::SyncStartDelta,
        });
        let spec = &self.estate.sync;
        let new_updates: Vec<UpdateId> = (0..self.estate.updates.len())
            .filter(|&u| {
                self.sync.synced_at[u] == SimTime::MAX
                    && self.estate.updates[u].release.is_none_or(|r| r <= now)
            })
            .map(|u| UpdateId(u as u16))
            .collect();
        let base = match kind {
            SyncKind::Full => &spec.full_duration,
            SyncKind::Delta => &spec.delta_duration,
        };
        let download = base.sample(self.site.rng())
            + SimDuration(spec.per_new_update.as_ms() * new_updates.len() as u64);
        self.sync.records.push(SyncRecord {
            kind,
            started: now,
            finished: None,
            failed: None,
            new_updates,
        });
        self.sync.running = Some(RunningSync {
            record: self.sync.records.len() - 1,
            wsus_done: now + download,
            outages: self.sync.top_sup_outages,
        });
        if self.sync.top_sup_down {
            self.sync_failed(sched);
            return;
        }
        sched.after_fixed(spec.poll_interval, Event::SyncPoll);
    }

    /// The running sync fails (status message 6703): nothing is inserted,
    /// and WSyncMgr tries again after `retry_interval` (a manual trigger
    /// waiting for it is folded into the retry).
    fn sync_failed(&mut self, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let running = self.sync.running.take().expect("a sync is running");
        let record = &mut self.sync.records[running.record];
        record.failed = Some(now);
        record.new_updates.clear();
        let kind = record.kind;
        self.recorder.totals.syncs_failed += 1;
        self.recorder.trace(now, None, || TraceEvent::SyncFailed);
        self.sync.waiting = false;
        self.sync.retry = Some(match self.sync.retry {
            // A retry is already due: it does this sync's work too (in
            // full if either was full).
            Some((pending, timer)) => {
                let full = pending == SyncKind::Full || kind == SyncKind::Full;
                let kind = if full {
                    SyncKind::Full
                } else {
                    SyncKind::Delta
                };
                (kind, timer)
            }
            None => (
                kind,
                sched.after(self.estate.sync.retry_interval, Event::SyncRetry),
            ),
        });
    }

    /// WSyncMgr polls WSUS: once the download is done it waits, pulls the
    /// metadata and inserts each new update.
    pub(crate) fn sync_poll(&mut self, sched: &mut Scheduler<'_, Event>) {
        if self.sync.running_failed() {
            self.sync_failed(sched);
            return;
        }
        let spec = &self.estate.sync;
        let running = self.sync.running.as_ref().expect("a sync is running");
        if sched.now() < running.wsus_done {
            sched.after_fixed(spec.poll_interval, Event::SyncPoll);
            return;
        }
        let new = self.sync.records[running.record].new_updates.len() as u64;
        let insert = SimDuration(spec.insert_per_update.as_ms() * new);
        sched.after_fixed(spec.pull_delay + insert, Event::SyncInserted);
    }

    /// The new metadata is in the site database: the updates can be scanned
    /// and deployed; the first sync publishes the software updates policy.
    /// (Unless the SUP went down while WSyncMgr pulled it: then it fails.)
    pub(crate) fn sync_inserted(&mut self, sched: &mut Scheduler<'_, Event>) {
        if self.sync.running_failed() {
            self.sync_failed(sched);
            return;
        }
        let now = sched.now();
        self.recorder.trace(now, None, || TraceEvent::SyncInserted);
        // A success makes a pending retry pointless.
        if let Some((_, timer)) = self.sync.retry.take() {
            sched.cancel(timer);
        }
        let running = self.sync.running.take().expect("a sync is running");
        let record = &mut self.sync.records[running.record];
        record.finished = Some(now);
        for &u in &record.new_updates {
            self.sync.synced_at[u.index()] = now;
        }
        for i in 0..self.sync.records[running.record].new_updates.len() {
            let u = self.sync.records[running.record].new_updates[i];
            self.recorder
                .trace(now, None, || TraceEvent::UpdateSynced { update: u });
        }
        self.recorder.totals.syncs += 1;
        // Each primary's SUPs then sync from the top-level SUP (at once for
        // a standalone site, whose SUP is the top-level one).
        let sync = running.record;
        for site in 0..self.estate.primaries.len() {
            if self.estate.hierarchy {
                let delay = self.estate.primaries[site]
                    .sync_delay
                    .sample(self.site.rng());
                sched.after_fixed(delay, Event::SiteSynced(site as u16, sync as u32));
            } else {
                self.site_synced(site, sync, sched);
            }
        }
        self.expire_superseded(now);
        self.rules_after_sync(sched);
        if std::mem::take(&mut self.sync.waiting) {
            self.sync_start(SyncKind::Delta, sched);
        }
    }

    /// The WSUS cleanup after a sync applies the supersedence rule: a
    /// superseded update expires once an update superseding it is synced
    /// and was released `expire_superseded_after` ago (before the start
    /// counts as the start). An expired update leaves every deployment:
    /// each client's cells are counted again without it.
    fn expire_superseded(&mut self, now: SimTime) {
        let Some(after) = self.estate.sync.expire_superseded_after else {
            return;
        };
        let estate = self.estate;
        let mut expired = Vec::new();
        for (i, u) in estate.updates.iter().enumerate() {
            let due = u.release.unwrap_or(SimTime::ZERO) + after;
            if u.supersedes.is_empty() || self.sync.synced_at[i] > now || due > now {
                continue;
            }
            for &s in &u.supersedes {
                if !self.sync.expired[s.index()] {
                    self.sync.expired[s.index()] = true;
                    expired.push(s);
                }
            }
        }
        if expired.is_empty() {
            return;
        }
        for &s in &expired {
            self.recorder.totals.updates_expired += 1;
            self.recorder
                .trace(now, None, || TraceEvent::UpdateExpired { update: s });
        }
        // Every client targeted by a deployment of an expired update.
        let mut cohorts = vec![false; estate.cohorts.len()];
        for d in &estate.deployments {
            if d.updates.iter().any(|u| expired.contains(u)) {
                for k in &d.targets {
                    cohorts[k.index()] = true;
                }
            }
        }
        for (k, cohort) in estate.cohorts.iter().enumerate() {
            if cohorts[k] {
                for c in cohort.clients().map(ClientId) {
                    self.refresh_every(c, now);
                }
            }
        }
    }

    /// A primary's SUPs and database have the updates of sync `sync`.
    pub(crate) fn site_synced(
        &mut self,
        site: usize,
        sync: usize,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let updates = self.sync.records[sync].new_updates.clone();
        self.updates_reach_site(site, &updates, sched);
    }
}
