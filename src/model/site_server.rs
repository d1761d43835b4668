//! The site server: publishing deployments into policy, the state system,
//! and the site database that state messages end up in.
//!
//! Owns [`Site`]: each primary site's catalog and policy, the batches in
//! transit and the order they reached each state system, the site
//! server's random stream, and when the site server and its DPs have
//! each update's content (kept per update: a deployment of updates
//! another one brought fetches and copies nothing). A deployment enters
//! machine policy when its content is on the DPs and its updates are
//! synced; forwarded batches queue at the state system, which processes
//! them at a finite rate with its threads and commits them to the
//! database in arrival order, so a backlog delays the reported state but
//! never reorders it. Each client numbers its messages; a committed batch
//! that starts past the serial number the site expects shows a lost
//! batch, and the site asks the client to resync. The catalog sync
//! itself is `sync.rs`'s.

use std::collections::{BTreeMap, VecDeque};

use super::compliance::{TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_SCAN};
use super::events::Event;
use super::family;
use super::servers::Request;
use super::store::{BatchArena, Database, Job, Offer};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, StreamRng, Streams};
use crate::estate::{ClientId, DeploymentId, DpId, Estate, SiteId, UpdateId};

/// A primary site's live state: its catalog, its policy.
struct Primary {
    /// When each update's metadata reached this site's SUPs and database
    /// (`MAX`: not yet).
    synced_at: Vec<SimTime>,
    /// When the last update reached this site's SUPs (zero: before the
    /// start): metadata a client fetched before then is out of date.
    catalog_changed: SimTime,
    /// The software updates policy is published here.
    update_policy_published: bool,
    /// Deployments in the order their policy was published here.
    published: Vec<DeploymentId>,
    /// Deployments whose content is ready here but whose updates are not
    /// synced here yet.
    awaiting_sync: Vec<DeploymentId>,
    /// Deployments of suspended phased deployments disabled, and enabled
    /// again, in time order.
    toggles: Vec<Toggle>,
}

/// A deployment's policy disabled (its phased deployment suspended) or
/// enabled again (resumed) at a primary. A client knows it once it has
/// learned more than `at` entries of the primary's published policy.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Toggle {
    /// Its place in the primary's published policy.
    pub(crate) at: usize,
    pub(crate) deployment: DeploymentId,
    pub(crate) disabled: bool,
    /// The deployment was already published here, and is published again
    /// at `at` with the change; otherwise its clients learn the change
    /// with the deployment.
    pub(crate) republished: bool,
}

/// The site: its primaries, the batches in transit, its random stream.
pub(crate) struct Site {
    primaries: Vec<Primary>,
    batches: BatchArena,
    /// Batches at each primary's state system, in arrival order.
    state_order: Vec<VecDeque<u32>>,
    rng: StreamRng,
    /// Some cohort loses state-message batches: only then can a site find
    /// a gap in a client's serial numbers and ask it to resync.
    lossy: bool,
    /// Some deployment's policy was disabled (a phased deployment
    /// suspended).
    toggled: bool,
    /// Per primary and update: since when a deployment distributed it, and
    /// when the site server has its content (empty until one does).
    fetched: BTreeMap<(u16, u16), (SimTime, SimTime)>,
    /// Per DP at the site and update: since when a deployment distributed
    /// it there, and when its copy reaches the DP.
    on_dp: BTreeMap<(u16, u16), (SimTime, SimTime)>,
}

impl Site {
    /// The estate's site at time zero.
    pub(crate) fn new(estate: &Estate, streams: Streams) -> Self {
        let synced_at = estate.initially_synced_at();
        Site {
            primaries: estate
                .primaries
                .iter()
                .map(|_| Primary {
                    synced_at: synced_at.clone(),
                    catalog_changed: SimTime::ZERO,
                    update_policy_published: estate.sync.initially_synced,
                    published: Vec::new(),
                    awaiting_sync: Vec::new(),
                    toggles: Vec::new(),
                })
                .collect(),
            batches: BatchArena::default(),
            state_order: vec![VecDeque::new(); estate.primaries.len()],
            rng: streams.stream(family::SITE, 0),
            lossy: estate.cohorts.iter().any(|c| c.state_message_loss > 0.0),
            toggled: false,
            fetched: BTreeMap::new(),
            on_dp: BTreeMap::new(),
        }
    }

    /// Whether any state-message batch can be lost (and so any client be
    /// asked to resync).
    #[inline]
    pub(crate) fn lossy(&self) -> bool {
        self.lossy
    }

    /// The site server's random stream (content distribution, syncs).
    pub(crate) fn rng(&mut self) -> &mut StreamRng {
        &mut self.rng
    }

    /// Whether update `u` has reached `site`'s SUPs and database by `t`.
    #[inline]
    pub(crate) fn synced_by(&self, site: SiteId, u: usize, t: SimTime) -> bool {
        self.primaries[site.index()].synced_at[u] <= t
    }

    /// Whether `site`'s SUPs have had new updates since `t`: metadata a
    /// client fetched at `t` is no longer current.
    #[inline]
    pub(crate) fn catalog_changed_since(&self, site: SiteId, t: SimTime) -> bool {
        self.primaries[site.index()].catalog_changed > t
    }

    /// When each update reached each primary's SUPs (`None`: never).
    pub(crate) fn synced_at(&self) -> Vec<Vec<Option<SimTime>>> {
        (self.primaries.iter())
            .map(|p| {
                (p.synced_at.iter())
                    .map(|&t| (t != SimTime::MAX).then_some(t))
                    .collect()
            })
            .collect()
    }

    /// A deployment's policy is disabled or enabled at `site` now: if it
    /// was published there, it is published again with the change.
    pub(crate) fn toggle(&mut self, site: usize, d: DeploymentId, disabled: bool, published: bool) {
        let primary = &mut self.primaries[site];
        primary.toggles.push(Toggle {
            at: primary.published.len(),
            deployment: d,
            disabled,
            republished: published,
        });
        if published {
            primary.published.push(d);
        }
        self.toggled = true;
    }

    /// Whether some deployment's policy was ever disabled.
    #[inline]
    pub(crate) fn toggled(&self) -> bool {
        self.toggled
    }

    /// The disabling and enabling of deployments at `site`, in time order
    /// (empty while no phased deployment was ever suspended).
    #[inline]
    pub(crate) fn toggles(&self, site: SiteId) -> &[Toggle] {
        if !self.toggled {
            return &[];
        }
        &self.primaries[site.index()].toggles
    }

    /// Whether entry `i` of `site`'s published policy is a deployment
    /// published again as disabled (`Some(true)`) or enabled (`Some(false)`).
    #[inline]
    pub(crate) fn republished(&self, site: SiteId, i: usize) -> Option<bool> {
        let toggles = self.toggles(site);
        let at = toggles.partition_point(|t| t.at < i);
        (toggles[at..].iter())
            .take_while(|t| t.at == i)
            .find(|t| t.republished)
            .map(|t| t.disabled)
    }

    /// Whether `site` has published the software updates policy.
    #[inline]
    pub(crate) fn update_policy_published(&self, site: SiteId) -> bool {
        self.primaries[site.index()].update_policy_published
    }

    /// The deployments published at `site`, in order.
    #[inline]
    pub(crate) fn published(&self, site: SiteId) -> &[DeploymentId] {
        &self.primaries[site.index()].published
    }

    /// The batches in transit.
    pub(crate) fn batches(&self) -> &BatchArena {
        &self.batches
    }

    /// The batches in transit, to change.
    pub(crate) fn batches_mut(&mut self) -> &mut BatchArena {
        &mut self.batches
    }
}

impl World<'_> {
    /// The site server's wait before it starts on deployment `d`'s
    /// content at `site` (`content_ready_delay`, drawn now); `None` if `d`
    /// targets no client of `site`. Drawn for every deployment, whatever
    /// content it shares with others, so the site's stream stays the same.
    pub(crate) fn content_delay(&mut self, d: DeploymentId, site: usize) -> Option<SimDuration> {
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        if !spec
            .targets
            .iter()
            .any(|c| estate.cohorts[c.index()].site.index() == site)
        {
            return None;
        }
        Some(estate.site.content_ready_delay.sample(self.site.rng()))
    }

    /// When deployment `d`, distributed at `site` from `from`, has its
    /// content: first at the site server (the administrator's step and
    /// the fetch from the download source, `delay` and the download, then
    /// in a hierarchy the replication from the CAS), then on every DP at
    /// the site that serves a targeted client (the slowest copy decides).
    /// Content is kept per update, as the content library keeps each file
    /// once [51] [52]: only the updates new to the site are fetched (and
    /// only they wait for `delay`), and a DP is sent only the updates it
    /// lacks; an update another deployment already brought, or is still
    /// bringing, is ready when it is. Returns when the site server has all
    /// of `d`'s content (the copies to DPs in branch locations start then,
    /// `wan_link.rs`) and when it can enter policy.
    pub(crate) fn content_plan(
        &mut self,
        d: DeploymentId,
        site: usize,
        from: SimTime,
        delay: SimDuration,
    ) -> (SimTime, SimTime) {
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        let updates = self.updates_of(d);
        let size = |u: &UpdateId| estate.updates[u.index()].size_bytes;
        let transfer = |bytes: u64, bps: u64| {
            SimDuration((u128::from(bytes) * 8_000).div_ceil(u128::from(bps)) as u64)
        };
        // What another deployment distributed from a later instant (only
        // a rule's run, during the run, can find one) is not there yet.
        let held = |map: &BTreeMap<(u16, u16), (SimTime, SimTime)>, at: u16, u: UpdateId| {
            map.get(&(at, u.0))
                .filter(|(since, _)| *since <= from)
                .map(|&(_, t)| t)
        };
        let key = site as u16;
        let new: Vec<UpdateId> = (updates.iter().copied())
            .filter(|&u| held(&self.site.fetched, key, u).is_none())
            .collect();
        if !new.is_empty() {
            let bytes = new.iter().map(size).sum();
            let at = from
                + delay
                + transfer(bytes, estate.site.download_bandwidth_bps)
                + estate.replication_delay(site);
            for &u in &new {
                let e = self.site.fetched.entry((key, u.0)).or_insert((from, at));
                *e = (e.0.min(from), e.1.min(at));
            }
        }
        let fetched = |u: UpdateId| held(&self.site.fetched, key, u).expect("fetched");
        // In a hierarchy the deployment itself reaches the primary by
        // replication, even when its content is there already.
        let have = (updates.iter().copied())
            .map(fetched)
            .fold(from + estate.replication_delay(site), SimTime::max);
        let mut dps: Vec<DpId> = spec
            .targets
            .iter()
            .filter(|c| estate.cohorts[c.index()].site.index() == site)
            .filter_map(|c| estate.cohorts[c.index()].dp)
            .filter(|&dp| estate.distribution_points[dp.index()].location.is_none())
            .collect();
        dps.sort_unstable();
        dps.dedup();
        let mut ready = have;
        for dp in dps {
            let new: Vec<UpdateId> = (updates.iter().copied())
                .filter(|&u| held(&self.site.on_dp, dp.0, u).is_none())
                .collect();
            if !new.is_empty() {
                // Sent once the site server has them all.
                let start = new.iter().map(|&u| fetched(u)).fold(from, SimTime::max);
                let bytes = new.iter().map(size).sum();
                let at = start
                    + transfer(
                        bytes,
                        estate.distribution_points[dp.index()].content_link_bps,
                    );
                for &u in &new {
                    let e = self.site.on_dp.entry((dp.0, u.0)).or_insert((from, at));
                    *e = (e.0.min(from), e.1.min(at));
                }
            }
            for &u in updates.iter() {
                ready = ready.max(held(&self.site.on_dp, dp.0, u).expect("sent"));
            }
        }
        (have, ready)
    }

    /// A deployment's content is on a primary's DPs: it enters that site's
    /// machine policy now, or as soon as the last of its updates is synced
    /// there.
    pub(crate) fn content_ready(&mut self, d: DeploymentId, site: usize, now: SimTime) {
        let updates = self.updates_of(d);
        let primary = &mut self.site.primaries[site];
        if updates.iter().any(|u| primary.synced_at[u.index()] > now) {
            primary.awaiting_sync.push(d);
            return;
        }
        primary.published.push(d);
        self.refresh_site_current(site);
        self.deployments.published(d, SiteId(site as u16), now);
    }

    /// A primary's SUPs and database have `updates`: they can be scanned
    /// and deployed there; the first sync publishes the software updates
    /// policy there, and deployments waiting for these updates enter
    /// policy.
    pub(crate) fn updates_reach_site(
        &mut self,
        site: usize,
        updates: &[UpdateId],
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let primary = &mut self.site.primaries[site];
        for &u in updates {
            primary.synced_at[u.index()] = now;
        }
        if !updates.is_empty() {
            primary.catalog_changed = now;
        }
        primary.update_policy_published = true;
        let waiting = std::mem::take(&mut primary.awaiting_sync);
        for d in waiting {
            self.content_ready(d, site, now);
        }
        self.refresh_site_current(site);
        self.policy_changed(sched);
    }

    /// A batch reaches the state system's inbox and waits for a thread.
    pub(crate) fn batch_forwarded(&mut self, slot: u32, sched: &mut Scheduler<'_, Event>) {
        let c = self.site.batches.get(slot).client;
        let site = self.site_of(c);
        self.site.state_order[site].push_back(slot);
        let job = Job {
            token: slot,
            ..self.job(c, Request::StateBatch, sched.now())
        };
        let station = self.servers.state_station(site);
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
        self.site.batches.get_mut(job.token).done = true;
        let site = self.site_of(job.client);
        while let Some(&slot) = self.site.state_order[site].front() {
            if !self.site.batches.get(slot).done {
                break;
            }
            self.site.state_order[site].pop_front();
            self.commit(slot, sched);
        }
    }

    /// Writes a batch into its site's database: the reported state of its
    /// client changes. A batch whose first serial number is past the one
    /// the site expects shows that a batch before it was lost: the site
    /// asks the client to resync.
    fn commit(&mut self, slot: u32, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let messages = std::mem::take(&mut self.site.batches.get_mut(slot).messages);
        let c = self.site.batches.get(slot).client;
        let expected = self.clients.expected_serial(c);
        let skipped = self
            .site
            .batches
            .get(slot)
            .serial
            .wrapping_sub(expected as u16);
        let first = expected.wrapping_add(u32::from(skipped));
        (self.clients).set_expected_serial(c, first.wrapping_add(messages.len() as u32));
        self.recorder
            .trace(now, Some(c), || TraceEvent::BatchInDatabase {
                messages: messages.len() as u64,
            });
        if skipped > 0 {
            debug_assert!(self.site.lossy(), "only a lost batch leaves a gap");
            self.gap_seen(c, now, sched);
        }
        for &m in &messages {
            self.recorder.message_in_database(now.since(m.queued_at));
            match m.topic {
                TOPIC_DETECTION => self.clients.set_reported(c, UpdateId(m.subject), m.state),
                TOPIC_SCAN => self.clients.set_reported_scan(c, Database::Site, m.state),
                TOPIC_ENFORCEMENT => {
                    self.deployments
                        .assignment_mut(DeploymentId(m.subject), c)
                        .enforcement = m.state
                }
                _ => {}
            }
        }
        let batch = self.site.batches.get_mut(slot);
        batch.messages = messages;
        batch.in_database = true;
        if self.estate.hierarchy {
            // The primary replicates it to the CAS's database.
            let delay = self.estate.primaries[self.site_of(c)].replication_delay;
            sched.after_fixed(delay, Event::Replicated(slot));
        } else {
            self.site.batches.close(slot);
        }
        self.refresh_reports(c, now);
    }

    /// A batch shows that messages of client `c` are missing: once they
    /// have been missing for the state system's minimum age, its next
    /// resync check asks the client to resync (checks run every resync
    /// check interval from the start). A gap seen while one is already
    /// waiting, or a resync already asked, adds nothing: the resync sends
    /// the client's whole state.
    fn gap_seen(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        let cold = self.clients.cold_mut(c);
        if cold.resync_requested || cold.gap_waiting {
            return;
        }
        cold.gap_waiting = true;
        let site = &self.estate.site;
        let old_enough = (now + site.resync_min_missing_age).as_ms();
        let every = site.resync_check_interval.as_ms();
        let check = SimTime(old_enough.div_ceil(every) * every);
        sched.at_fixed(check, Event::ResyncDue(c));
    }

    /// The resync check finds client `c`'s missing messages old enough.
    pub(crate) fn resync_due(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        self.clients.cold_mut(c).gap_waiting = false;
        self.request_resync(c, sched.now(), sched);
    }

    /// The site has missed messages of client `c`: it asks the client to
    /// resend its full state. The request reaches the client with its next
    /// policy answer, which is then no longer empty (one being prepared
    /// now ends as an event).
    fn request_resync(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        let cold = self.clients.cold_mut(c);
        if cold.resync_requested {
            return;
        }
        cold.resync_requested = true;
        self.recorder.totals.resync_requests += 1;
        self.recorder
            .trace(now, Some(c), || TraceEvent::ResyncRequested);
        self.clients.set_current(c, false);
        self.wake_silent(self.mp_station(c), sched);
        self.wake_quiet(c, sched);
    }

    /// A batch reaches the CAS's database by replication.
    pub(crate) fn replicated(&mut self, slot: u32, now: SimTime) {
        let c: ClientId = self.site.batches.get(slot).client;
        let mut messages = std::mem::take(&mut self.site.batches.get_mut(slot).messages);
        for m in messages.drain(..) {
            match m.topic {
                TOPIC_DETECTION => self
                    .clients
                    .set_cas_reported(c, UpdateId(m.subject), m.state),
                TOPIC_SCAN => self.clients.set_reported_scan(c, Database::Cas, m.state),
                TOPIC_ENFORCEMENT => {
                    self.deployments
                        .assignment_mut(DeploymentId(m.subject), c)
                        .cas_enforcement = m.state
                }
                _ => {}
            }
        }
        self.site.batches.get_mut(slot).messages = messages;
        self.site.batches.close(slot);
        self.refresh_reports(c, now);
    }

    /// Whether client `c` has everything its site has published (the
    /// software updates policy, if its site has it, and every deployment)
    /// and its site asks no resync of it: then an answer to its policy
    /// request is empty.
    pub(crate) fn is_current(&self, c: ClientId) -> bool {
        let site = self.cohort(c).site;
        (self.clients.has_update_policy(c) || !self.site.update_policy_published(site))
            && self.clients.known_deployments(c) == self.site.published(site).len()
            && !(self.site.lossy() && self.clients.cold(c).resync_requested)
    }

    /// Brings client `c`'s "up to date" flag right, after it learned
    /// something or its site published something.
    pub(crate) fn refresh_current(&mut self, c: ClientId) {
        let current = self.is_current(c);
        self.clients.set_current(c, current);
        if !current && self.clients.quiet(c) {
            self.unquiet.push(c);
        }
    }

    /// [`refresh_current`](Self::refresh_current) for every client of
    /// `site`.
    pub(crate) fn refresh_site_current(&mut self, site: usize) {
        for cohort in self.estate.cohorts.iter() {
            if cohort.site.index() == site {
                for c in cohort.clients().map(ClientId) {
                    self.refresh_current(c);
                }
            }
        }
    }
}
