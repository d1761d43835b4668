//! Where a client's update content comes from: its distribution point,
//! a peer cache source of its boundary group, BranchCache and Delivery
//! Optimization peers, or Microsoft Update.
//!
//! Owns [`Content`]: which clients of each cohort hold each deployment's
//! content and are on (the peers that can serve it; deployments of the
//! same updates share their content), the transfers from a
//! peer or from Microsoft Update under way, what each client's cache holds
//! where it has a size limit, and the choice of source after the
//! management point's content location answer. The DP's own transfers
//! are `distribution_point.rs`'s; the download's place in the client's
//! work is `client.rs`'s. Nothing here draws a random number: which
//! clients use peer cache or express content is drawn once, at the start
//! (`Clients::new`), and only in cohorts that turn them on.
//!
//! A transfer from a peer or from Microsoft Update runs at a fixed rate
//! (the cohort's `peer_link`, or its `link`) and ends at an `ActionDone`,
//! as a scan or an install does. Peers' upload load is not simulated.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::events::Event;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, DeploymentId, Estate, UpdateId};

/// What failed a download from a DP, in the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DownloadFailure {
    /// The DP was down.
    DistributionPoint,
    /// The WAN link between the client's location and the DP was down.
    WanLink,
}

/// Where bytes of a download come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentSource {
    /// The client's distribution point.
    #[serde(rename = "dp")]
    DistributionPoint,
    /// A peer cache source: another client of the boundary group.
    PeerCache,
    /// BranchCache peers on the client's subnet (a share of a DP download).
    BranchCache,
    /// Delivery Optimization peers (a share of a DP download).
    DeliveryOptimization,
    /// The Windows Update cloud service.
    MicrosoftUpdate,
}

/// A transfer from a peer or from Microsoft Update under way.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    /// The serving peer (`None`: Microsoft Update).
    peer: Option<ClientId>,
    /// Bytes it carries.
    bytes: u64,
    /// Bits per second.
    bps: u64,
    started: SimTime,
}

impl Transfer {
    fn source(&self) -> ContentSource {
        if self.peer.is_some() {
            ContentSource::PeerCache
        } else {
            ContentSource::MicrosoftUpdate
        }
    }

    /// Bytes received by `now` (whole bytes, at most all of them).
    fn received(&self, now: SimTime) -> u64 {
        let ms = u128::from(now.since(self.started).as_ms());
        ((ms * u128::from(self.bps) / 8_000) as u64).min(self.bytes)
    }
}

/// The peers of each cohort and boundary group, the transfers from peers
/// and from Microsoft Update, and the limited caches. Empty, and never
/// touched, unless a cohort turns a peer technology or a cache limit on
/// or a deployment allows Microsoft Update.
///
/// A peer group is a boundary group's cohorts with peers: those of one
/// location share one, a cohort at the site (no location) has its own.
/// Peer cache sources and Delivery Optimization peers are the group's;
/// BranchCache peers (a subnet's) are the cohort's.
#[derive(Default)]
pub(crate) struct Content {
    deployments: usize,
    /// Per deployment: the first deployment of the same updates, whose
    /// cells and holders it shares (peers hold content, not
    /// deployments); a rule's deployment, whose updates change, has its
    /// own.
    class: Vec<DeploymentId>,
    /// Each cohort's row in the tables below (`u32::MAX`: a cohort
    /// without peers has none).
    rows: Vec<u32>,
    /// Each cohort's peer group (`u32::MAX`: a cohort without peers has
    /// none): its location's, else its own.
    groups: Vec<u32>,
    /// Per peer group: its cohorts, in cohort order.
    members: Vec<Vec<usize>>,
    /// Per cohort with peers and deployment: how many of the cohort's
    /// clients that hold the content are on (BranchCache needs one, and
    /// Delivery Optimization one in the cohort's peer group).
    holders_on: Vec<u32>,
    /// Per peer group and deployment: the peer cache sources that hold
    /// the content and are on, in client order.
    sources: Vec<BTreeSet<ClientId>>,
    /// What each client of a cohort with peers holds, in the order it got it.
    held: BTreeMap<ClientId, Vec<DeploymentId>>,
    /// Clients that hold content but are off or restarting.
    away: BTreeSet<ClientId>,
    /// Transfers from a peer or Microsoft Update, by receiving client.
    transfers: BTreeMap<ClientId, Transfer>,
    /// The clients each peer serves.
    serving: BTreeMap<ClientId, Vec<ClientId>>,
    /// What the cache of each client of a cohort with a cache limit holds,
    /// in the order it came.
    caches: BTreeMap<ClientId, Vec<Cached>>,
    /// Bytes a rule's refresh added to the deployment a client was
    /// downloading: its transfer carries on with the bytes it asked for,
    /// and these join what it still lacks when the transfer ends
    /// ([`World::transfer_ended`]).
    added: BTreeMap<ClientId, u64>,
}

/// A deployment's content in a client's cache.
#[derive(Clone, Copy, Debug)]
struct Cached {
    deployment: DeploymentId,
    bytes: u64,
    /// When it was last used: downloaded, installed, or served to a peer.
    used: SimTime,
}

/// Content used more recently than this is never removed from a client's
/// cache (the client setting's default, 1,440 minutes).
const CACHE_MIN_AGE: SimDuration = SimDuration::from_ms(24 * 3_600_000);

impl Content {
    pub(crate) fn new(estate: &Estate) -> Self {
        let deployments = estate.deployments.len();
        let mut peer_cohorts = 0;
        let rows = (estate.cohorts.iter())
            .map(|k| {
                if k.content.peers() {
                    peer_cohorts += 1;
                    peer_cohorts - 1
                } else {
                    u32::MAX
                }
            })
            .collect();
        let cells = peer_cohorts as usize * deployments;
        // Peer groups: one per location with cohorts with peers, one per
        // such cohort at the site, numbered in cohort order.
        let mut members: Vec<Vec<usize>> = Vec::new();
        let mut by_location = BTreeMap::new();
        let groups = (estate.cohorts.iter().enumerate())
            .map(|(i, k)| {
                if !k.content.peers() {
                    return u32::MAX;
                }
                let fresh = members.len();
                let g = match k.location {
                    Some(l) => *by_location.entry(l.index()).or_insert(fresh),
                    None => fresh,
                };
                if g == fresh {
                    members.push(Vec::new());
                }
                members[g].push(i);
                g as u32
            })
            .collect();
        let group_cells = members.len() * deployments;
        let sorted: Vec<Vec<UpdateId>> = (estate.deployments.iter())
            .map(|spec| {
                let mut list = spec.updates.clone();
                list.sort_unstable();
                list.dedup();
                list
            })
            .collect();
        let own = |d: usize| estate.deployments[d].rule.is_none();
        let class = (0..deployments)
            .map(|d| {
                let same = (0..d).find(|&e| own(d) && own(e) && sorted[e] == sorted[d]);
                DeploymentId(same.unwrap_or(d) as u16)
            })
            .collect();
        Content {
            deployments,
            class,
            rows,
            groups,
            members,
            holders_on: vec![0; cells],
            sources: vec![BTreeSet::new(); group_cells],
            ..Content::default()
        }
    }

    /// The cell of a cohort with peers and a deployment's content.
    fn cell(&self, cohort: usize, d: DeploymentId) -> usize {
        let row = self.rows[cohort];
        debug_assert_ne!(row, u32::MAX, "only cohorts with peers have cells");
        row as usize * self.deployments + self.class[d.index()].index()
    }

    /// The cell of a cohort's peer group and a deployment's content.
    fn group_cell(&self, cohort: usize, d: DeploymentId) -> usize {
        let group = self.groups[cohort];
        debug_assert_ne!(group, u32::MAX, "only cohorts with peers have groups");
        group as usize * self.deployments + self.class[d.index()].index()
    }

    /// Whether a client of the cohort's peer group holds `d`'s content
    /// and is on.
    fn group_holds(&self, cohort: usize, d: DeploymentId) -> bool {
        (self.members[self.groups[cohort] as usize].iter())
            .any(|&k| self.holders_on[self.cell(k, d)] > 0)
    }

    /// Whether `d` and `e` deploy the same content.
    fn same(&self, d: DeploymentId, e: DeploymentId) -> bool {
        self.class[d.index()] == self.class[e.index()]
    }

    /// Whether the client receives from a peer or Microsoft Update now.
    pub(crate) fn direct(&self, c: ClientId) -> bool {
        self.transfers.contains_key(&c)
    }

    /// A peer cache source of the cohort's peer group (its boundary
    /// group) that holds `d` and is on: the first after `c` in client
    /// order, else the first (so that the load spreads over the sources).
    fn source_for(&self, cohort: usize, d: DeploymentId, c: ClientId) -> Option<ClientId> {
        let set = self.sources.get(self.group_cell(cohort, d))?;
        (set.range(c..).chain(set.range(..c)))
            .find(|&&p| p != c)
            .copied()
    }
}

impl World<'_> {
    /// Whether client `c` is a peer cache client and source.
    fn peer_client(&self, c: ClientId) -> bool {
        self.clients.cold(c).peer_cache
    }

    /// Counts `bytes` of client `c`'s download as coming from `source`.
    pub(crate) fn credit(&mut self, c: ClientId, source: ContentSource, bytes: u64) {
        let cohort = self.clients.cohort(c).index();
        self.recorder.cohort_bytes[cohort].add(source, bytes);
    }

    /// The client knows where the content is (the MP answered, or its peer
    /// went away): it gets what it lacks from a peer cache source of its
    /// boundary group (its location's cohorts, else its cohort) that
    /// holds it and is on, if it is a peer cache client, else from its
    /// DP, BranchCache peers serving their share of the bytes when a
    /// client of the cohort holds the content and is on, Delivery
    /// Optimization peers theirs when a client of the boundary group does. A DP that is down sends it to Microsoft Update
    /// if the deployment allows, else to retry later. A client on the
    /// internet has no DP: what peers do not serve comes from Microsoft
    /// Update.
    pub(crate) fn fetch(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let cohort = self.clients.cohort(c).index();
        let spec = self.estate.cohorts[cohort].content;
        let remaining = self.deployments.assignment(d, c).remaining;
        if spec.peers() {
            if self.peer_client(c)
                && let Some(p) = self.content.source_for(cohort, d, c)
            {
                self.start_transfer(c, d, Some(p), remaining, spec.peer_link_bps, sched);
                return;
            }
            let cell = self.content.cell(cohort, d);
            let bc_peers = self.content.holders_on[cell] > 0;
            let do_peers = bc_peers || self.content.group_holds(cohort, d);
            if do_peers {
                let share = |s: f64, on: bool| if on { (remaining as f64 * s) as u64 } else { 0 };
                let from_bc = share(spec.branch_cache, bc_peers);
                let from_do = share(spec.delivery_optimization, true).min(remaining - from_bc);
                for (source, bytes) in [
                    (ContentSource::BranchCache, from_bc),
                    (ContentSource::DeliveryOptimization, from_do),
                ] {
                    if bytes > 0 {
                        self.recorder
                            .trace(now, Some(c), || TraceEvent::ContentSource {
                                deployment: d,
                                source,
                                bytes,
                            });
                        self.credit(c, source, bytes);
                    }
                }
                self.deployments.assignment_mut(d, c).remaining -= from_bc + from_do;
            }
        }
        let remaining = self.deployments.assignment(d, c).remaining;
        if remaining > 0 && self.cohort(c).dp.is_none() {
            // On the internet: software updates come from Microsoft Update.
            let bps = self.cohort(c).link_bps;
            self.start_transfer(c, d, None, remaining, bps, sched);
            return;
        }
        if remaining > 0 {
            if let Some(dp) = self.fallback_dp(c, d, now) {
                // Its own DP could not give it the content for its
                // location's fallback time: a DP of the site's default
                // boundary group.
                if !self.fall_back(c, d, dp, remaining, sched) {
                    self.download_failed(c, remaining, DownloadFailure::WanLink, sched);
                }
                return;
            }
            if !self.content_on_dp(self.own_dp(c), d) {
                // Still crossing the WAN link to the client's branch DP:
                // the MP's answer names no DP.
                self.content_not_on_dp(c, d, remaining, sched);
                return;
            }
        }
        self.recorder
            .trace(now, Some(c), || TraceEvent::DownloadStart {
                deployment: d,
                bytes: remaining,
            });
        if remaining == 0 {
            // Peers served it all.
            self.download_finished(c, sched);
        } else {
            match self.dp_request(c, remaining, sched) {
                Ok(()) => self.content_found(c),
                Err(by) => self.download_failed(c, remaining, by, sched),
            }
        }
    }

    /// Starts a transfer from peer `peer` (`None`: Microsoft Update).
    pub(crate) fn start_transfer(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        peer: Option<ClientId>,
        bytes: u64,
        bps: u64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let t = Transfer {
            peer,
            bytes,
            bps,
            started: now,
        };
        self.recorder
            .trace(now, Some(c), || TraceEvent::ContentSource {
                deployment: d,
                source: t.source(),
                bytes,
            });
        let ms = (u128::from(bytes) * 8_000).div_ceil(u128::from(bps));
        let length = SimDuration::from_ms(ms.min(u128::from(u64::MAX / 2)) as u64);
        self.content.transfers.insert(c, t);
        if let Some(p) = peer {
            self.content.serving.entry(p).or_default().push(c);
            self.cache_touch(p, d, now);
        }
        let client = &mut self.clients[c];
        debug_assert!(client.action_timer.is_none());
        client.action = super::client::Action::Download(d);
        client.action_timer = Some(sched.after(length, Event::ActionDone(c)));
    }

    /// Ends the client's transfer from a peer or Microsoft Update (done, or
    /// stopped): counts what it received and takes it off the deployment's
    /// remaining bytes; returns the bytes still missing (with those a
    /// rule's refresh added meanwhile).
    pub(crate) fn end_transfer(&mut self, c: ClientId, d: DeploymentId, now: SimTime) -> u64 {
        let t = (self.content.transfers.remove(&c)).expect("a direct download has a transfer");
        if let Some(p) = t.peer
            && let Some(list) = self.content.serving.get_mut(&p)
        {
            list.retain(|&x| x != c);
            if list.is_empty() {
                self.content.serving.remove(&p);
            }
        }
        let got = t.received(now);
        self.credit(c, t.source(), got);
        let a = self.deployments.assignment_mut(d, c);
        a.remaining -= got;
        self.transfer_ended(c, d);
        self.deployments.assignment(d, c).remaining
    }

    /// The client's download from its DP has ended (done, failed or
    /// stopped) with `remaining` bytes still to send: counts what it
    /// received from the DP and leaves `remaining` on the deployment;
    /// returns the bytes still missing (with those a rule's refresh added
    /// meanwhile).
    pub(crate) fn dp_received(&mut self, c: ClientId, d: DeploymentId, remaining: u64) -> u64 {
        let a = self.deployments.assignment_mut(d, c);
        let got = a.remaining - remaining;
        a.remaining = remaining;
        self.credit(c, ContentSource::DistributionPoint, got);
        remaining + self.transfer_ended(c, d)
    }

    /// The DP could not serve the client: with the deployment's fallback
    /// to Microsoft Update it downloads the rest from there, at its link.
    /// Returns false if the deployment does not allow it.
    pub(crate) fn microsoft_update_fallback(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        remaining: u64,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        if !self.estate.deployments[d.index()].microsoft_update_fallback || remaining == 0 {
            return false;
        }
        self.recorder.totals.microsoft_update_fallbacks += 1;
        let bps = self.cohort(c).link_bps;
        self.start_transfer(c, d, None, remaining, bps, sched);
        true
    }

    /// The client has all of `d`'s content: in a cohort with peers it now
    /// holds it and can serve it (until its cache, if limited, drops it).
    pub(crate) fn hold(&mut self, c: ClientId, d: DeploymentId) {
        let cohort = self.clients.cohort(c).index();
        if !self.estate.cohorts[cohort].content.peers() {
            return;
        }
        // Held as its content: the first deployment of the same updates.
        let d = self.content.class[d.index()];
        let held = self.content.held.entry(c).or_default();
        if held.contains(&d) {
            return;
        }
        held.push(d);
        if !self.content.away.contains(&c) {
            let cell = self.content.cell(cohort, d);
            self.content.holders_on[cell] += 1;
            if self.peer_client(c) {
                let group = self.content.group_cell(cohort, d);
                self.content.sources[group].insert(c);
            }
        }
    }

    /// A client that holds content goes off or starts a restart: it
    /// serves no one until it is back; the clients it was serving go on
    /// from their next source.
    pub(crate) fn peer_away(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let Some(held) = self.content.held.get(&c) else {
            return;
        };
        if !self.content.away.insert(c) {
            return;
        }
        let cohort = self.clients.cohort(c).index();
        let peer = self.peer_client(c);
        for &d in held {
            let cell = self.content.cell(cohort, d);
            self.content.holders_on[cell] -= 1;
            if peer {
                let group = self.content.group_cell(cohort, d);
                self.content.sources[group].remove(&c);
            }
        }
        let now = sched.now();
        for x in self.content.serving.remove(&c).unwrap_or_default() {
            let super::client::Action::Download(d) = self.clients[x].action else {
                unreachable!("a served client is downloading");
            };
            let t = self.content.transfers[&x];
            if t.received(now) == t.bytes {
                // The last byte came as the peer left: it ends at its
                // own `ActionDone`, due now.
                continue;
            }
            if let Some(timer) = self.clients[x].action_timer.take() {
                sched.cancel(timer);
            }
            let remaining = self.end_transfer(x, d, now);
            self.recorder.totals.peer_fallbacks += 1;
            self.recorder.trace(now, Some(x), || TraceEvent::PeerGone {
                deployment: d,
                bytes: remaining,
            });
            self.fetch(x, d, sched);
        }
    }

    /// A client that holds content is on again (or back from a restart).
    pub(crate) fn peer_back(&mut self, c: ClientId) {
        if !self.content.away.remove(&c) {
            return;
        }
        let cohort = self.clients.cohort(c).index();
        let peer = self.peer_client(c);
        let held = self
            .content
            .held
            .get(&c)
            .expect("an away client holds content");
        for &d in held {
            let cell = self.content.cell(cohort, d);
            self.content.holders_on[cell] += 1;
            if peer {
                let group = self.content.group_cell(cohort, d);
                self.content.sources[group].insert(c);
            }
        }
    }

    /// The bytes of `d`'s content the client needs: its missing updates,
    /// express where it uses express.
    fn content_bytes(&self, c: ClientId, d: DeploymentId) -> u64 {
        self.missing_bytes(c, &self.updates_of(d))
    }

    /// The bytes of `updates` the client is missing, express where it
    /// uses express.
    fn missing_bytes(&self, c: ClientId, updates: &[UpdateId]) -> u64 {
        let estate = self.estate;
        let express = self.cohort(c).content.express > 0.0 && self.clients.cold(c).express;
        (updates.iter())
            .filter(|&&u| self.missing(c, u))
            .map(|u| {
                let spec = &estate.updates[u.index()];
                match spec.express_bytes {
                    Some(b) if express => b,
                    _ => spec.size_bytes,
                }
            })
            .sum()
    }

    /// The client has downloaded `d`: where the cache has a limit, the
    /// content goes in whatever its size, then the least recently used
    /// content at least a day old leaves until the cache fits. Content a
    /// deployment still needs must be downloaded again before its install.
    pub(crate) fn cache_add(&mut self, c: ClientId, d: DeploymentId, now: SimTime) {
        let Some(limit) = self.cohort(c).content.cache_bytes else {
            return;
        };
        let bytes = self.content_bytes(c, d);
        let cache = self.content.caches.entry(c).or_default();
        cache.retain(|e| e.deployment != d);
        cache.push(Cached {
            deployment: d,
            bytes,
            used: now,
        });
        loop {
            let cache = &self.content.caches[&c];
            let total: u64 = cache.iter().map(|e| e.bytes).sum();
            if total <= limit {
                break;
            }
            // The least recently used, old enough and not being served.
            let serving = self.content.serving.get(&c);
            let victim = (cache.iter().enumerate())
                .filter(|(_, e)| e.deployment != d && e.used + CACHE_MIN_AGE <= now)
                .filter(|(_, e)| {
                    !serving.is_some_and(|list| {
                        list.iter().any(|&x| {
                            matches!(self.clients[x].action,
                                super::client::Action::Download(y) if self.content.same(y, e.deployment))
                        })
                    })
                })
                .min_by_key(|(i, e)| (e.used, *i))
                .map(|(i, _)| i);
            let Some(i) = victim else {
                break;
            };
            let e = (self.content.caches.get_mut(&c).expect("just read")).remove(i);
            self.evict(c, e);
        }
    }

    /// Content leaves client `c`'s cache: it serves it no more, and a
    /// deployment that still needs it downloads it again.
    fn evict(&mut self, c: ClientId, e: Cached) {
        let d = e.deployment;
        self.recorder.totals.cache_evictions += 1;
        self.stop_holding(c, d);
        let needed = self.content_bytes(c, d);
        let a = self.deployments.assignment_mut(d, c);
        if needed > 0 && a.remaining == 0 {
            a.remaining = needed;
        }
    }

    /// Client `c` holds `d`'s content no more: it serves it to no peer.
    fn stop_holding(&mut self, c: ClientId, d: DeploymentId) {
        let d = self.content.class[d.index()];
        if let Some(held) = self.content.held.get_mut(&c)
            && let Some(i) = held.iter().position(|&x| x == d)
        {
            held.remove(i);
            if !self.content.away.contains(&c) {
                let cohort = self.clients.cohort(c).index();
                let cell = self.content.cell(cohort, d);
                self.content.holders_on[cell] -= 1;
                let group = self.content.group_cell(cohort, d);
                self.content.sources[group].remove(&c);
            }
        }
    }

    /// A rule's run added `added` to `d`, a group it keeps: what clients
    /// hold of `d` is the old content, which no peer serves any more, and
    /// a client that has evaluated `d` needs the added updates it is
    /// missing before it installs them (a transfer under way carries on
    /// with the old content's bytes, and the client downloads the added
    /// ones after it).
    pub(crate) fn content_replaced(&mut self, d: DeploymentId, added: &[UpdateId]) {
        let estate = self.estate;
        for c in estate.deployments[d.index()].clients(estate) {
            self.stop_holding(c, d);
            let bytes = self.missing_bytes(c, added);
            if bytes == 0 {
                continue;
            }
            if self.clients[c].action == super::client::Action::Download(d) {
                *self.content.added.entry(c).or_default() += bytes;
            } else {
                self.deployments.need_more(d, c, bytes);
            }
        }
    }

    /// The client's transfer of `d`'s content has ended (done, failed or
    /// stopped), with `d`'s remaining bytes counted for it: what a rule's
    /// refresh added meanwhile joins them. Returns the bytes added.
    pub(crate) fn transfer_ended(&mut self, c: ClientId, d: DeploymentId) -> u64 {
        let Some(bytes) = self.content.added.remove(&c) else {
            return 0;
        };
        self.deployments.need_more(d, c, bytes);
        bytes
    }

    /// The client uses `d`'s content (installs it, or serves it to a peer):
    /// it becomes the most recently used in its cache.
    pub(crate) fn cache_touch(&mut self, c: ClientId, d: DeploymentId, now: SimTime) {
        let class = &self.content.class;
        if let Some(e) = (self.content.caches.get_mut(&c)).and_then(|cache| {
            (cache.iter_mut()).find(|e| class[e.deployment.index()] == class[d.index()])
        }) {
            e.used = now;
        }
    }

    /// Counts the bytes the client saved on deployment `d` by downloading
    /// express content (none unless it can use express).
    pub(crate) fn count_express_saved(&mut self, c: ClientId, d: DeploymentId) {
        if self.cohort(c).content.express == 0.0 || !self.clients.cold(c).express {
            return;
        }
        let estate = self.estate;
        let saved = (self.updates_of(d).iter())
            .filter(|&&u| self.missing(c, u))
            .map(|u| {
                let spec = &estate.updates[u.index()];
                spec.size_bytes - spec.express_bytes.unwrap_or(spec.size_bytes)
            })
            .sum::<u64>();
        let cohort = self.clients.cohort(c).index();
        self.recorder.cohort_bytes[cohort].bytes_saved_by_express += saved;
    }
}
