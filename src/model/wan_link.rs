//! WAN links: the bandwidth between a branch location and the site,
//! shared by every transfer that crosses it.
//!
//! Owns [`Links`]: per location, its link's transfers (the max-min fair
//! sharing of `distribution_point.rs`'s [`Dp`], with no connection
//! limit), the transfers still waiting out the link's latency, and which
//! updates each branch DP holds or has been sent (content is kept per
//! update, so a deployment's content is on a DP once all its updates
//! are). Three kinds of transfer cross a link: a client's download from
//! a DP on the other side (its cohort's `crosses`), capped by the
//! client's link; its SUP's answer to a scan; and the site server's copy
//! of the updates of a deployment a DP in the location lacks, capped by
//! the DP's `content_link`.
//!
//! A download takes its DP as well as its link. Once the latency has
//! passed it waits for one of the DP's connections in turn with the DP's
//! own downloads; then it runs in its [`Group`], the downloads from that
//! DP across that link, a pipe of its own whose bandwidth is the group's
//! max-min fair share of the DP and the link. [`fill`] finds the shares
//! by progressive filling over every DP and link that groups take, by
//! class of flows (a link speed through one DP, or one DP and one link),
//! and each DP and link leaves its own flows what its groups do not
//! take: a change costs O(classes × (classes + resources)) plus O(log n)
//! per pipe whose share moved, whatever the number of downloads. The
//! group's bits count at its DP and link as they are sent. Nothing here
//! draws a random number, and an estate without locations has no links:
//! nothing here runs.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use super::boundary_groups::Fallbacks;
use super::distribution_point::Dp;
use super::events::Event;
use super::record::{LoadRow, ServerRecord, ServerRole};
use super::servers::Request;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, TimerId};
use crate::estate::{
    ClientId, CopyPlan, DeploymentId, DpId, Estate, LocationId, ServerRef, UpdateId,
};

/// Copies are carried under ids counted down from here; clients (at most
/// ten million) never reach them.
const COPY_IDS: u32 = u32::MAX;
/// The lowest id a copy can have.
const FIRST_COPY_ID: u32 = COPY_IDS - 999_999_999;

/// How long the site's distribution manager waits before it tries a
/// failed copy to a DP again (its "Delay before retrying" default).
const COPY_RETRY: SimDuration = SimDuration::from_ms(30 * 60_000);

/// How many times the distribution manager tries a failed copy again
/// before it gives up (its "Number of retries" default).
const COPY_TRIES: u64 = 100;

/// A copy of content to a branch DP: the updates of a deployment the DP
/// has not had nor been sent yet (`Links::carried`).
#[derive(Clone, Copy, Debug)]
struct Copy {
    /// The deployment whose distribution sent it (its package's priority).
    deployment: DeploymentId,
    dp: DpId,
    /// Sent by its site's Package Transfer Manager, so it needs one of
    /// its sending slots: a copy to a standard DP, not one a pull DP
    /// downloads itself.
    pushed: bool,
    /// For a pull DP's copy: the source DP it downloads from now.
    source: Option<DpId>,
    /// When the site server distributed the content (the sources have
    /// it from then on, once sent to them), and its size.
    distributed: SimTime,
    bytes: u64,
}

/// A transfer asked for, waiting out the link's latency.
#[derive(Clone, Copy, Debug)]
struct Pending {
    id: ClientId,
    millibits: u64,
    cap: u64,
    /// A copy that already holds one of its site's sending slots (it
    /// waited for one, which was given to it).
    slot: bool,
}

/// A primary's Package Transfer Manager: the copies to DPs in locations
/// it is sending, at most its site's `copy_threads`, and those waiting
/// for one of them to end, first come first served.
#[derive(Default)]
struct Sender {
    active: u32,
    waiting: std::collections::VecDeque<(LocationId, Pending)>,
}

/// A client's transfer across a link: a download from a DP, or its
/// SUP's answer to a scan.
#[derive(Clone, Copy, Debug)]
struct Transfer {
    /// The DP on the other side: its cohort's, or one of its site's
    /// default boundary group it fell back to (`None`: a scan's answer
    /// from its SUP).
    dp: Option<DpId>,
    millibits: u64,
    /// `Download`, or the scan's kind.
    kind: Request,
}

/// One location's WAN link.
struct Link {
    pipe: Dp,
    /// Transfers that start at their time (then in the order asked).
    pending: BTreeMap<(SimTime, u64), Pending>,
    asked: u64,
    /// Each client's download across the link: the DP it is from and the
    /// millibits it had when it was asked for (the DP counts what it sent
    /// when it ends); or the scan metadata its SUP sends it.
    transfers: BTreeMap<ClientId, Transfer>,
    timer: Option<TimerId>,
    /// Copies the link's outage or their DP's stopped, each with when it
    /// failed and what it still lacks: tried again every [`COPY_RETRY`]
    /// after it failed, the first time the link and the DP are up again.
    stalled: Vec<(SimTime, Pending)>,
}

/// The downloads across one link from one DP that hold one of its
/// connections: a pipe whose bandwidth is the share the two-resource
/// sharing gives them ([`World::reshare_across`]).
struct Group {
    pipe: Dp,
    /// Its share of the link and of the DP, bps.
    rate: u64,
}

/// Every WAN link of a run, and the content copied across them.
#[derive(Default)]
pub(crate) struct Links {
    links: Vec<Link>,
    /// Per link and DP: the downloads from the DP across the link in
    /// progress (while any are, and until the sharing has let their share
    /// go).
    groups: BTreeMap<(u16, u16), Group>,
    /// The buffers of the sharing across links.
    sharing: Sharing,
    copies: Vec<Copy>,
    deployments: usize,
    /// Per DP and deployment: its content is on the DP (read only for
    /// DPs in a location; those at the site have it once it is in policy).
    on_dp: Vec<bool>,
    /// Per DP and deployment: when the site distributed the deployment's
    /// content to the DP (DPs in a location only; `None`: never).
    wanted: Vec<Option<SimTime>>,
    /// Per DP in a location and update: since when a copy carries it there
    /// (when the site distributed it), and whether it has arrived. Content
    /// is kept per update: a copy carries only the updates its DP has not
    /// had nor been sent yet.
    claims: BTreeMap<(u16, u16), (SimTime, bool)>,
    /// Per copy: the updates it carries.
    carried: Vec<Vec<UpdateId>>,
    /// Per DP and deployment: when a copy of its content first reached
    /// the DP (DPs in a location only).
    copied_at: Vec<Option<SimTime>>,
    /// Clients looking for content, and downloads that fell back to a DP
    /// of the site's default boundary group.
    pub(super) fallbacks: Fallbacks,
    /// Per DP with a `copy_plan`: its timer for the next hour its copies'
    /// pace changes, while a copy to it is on its link.
    pace: Vec<Option<TimerId>>,
    /// Per primary: its Package Transfer Manager's sending slots.
    senders: Vec<Sender>,
}

impl Links {
    pub(crate) fn new(estate: &Estate) -> Self {
        if estate.locations.is_empty() {
            return Links::default();
        }
        let deployments = estate.deployments.len();
        Links {
            links: (estate.locations.iter())
                .map(|l| Link {
                    pipe: Dp::new(l.bandwidth_bps, u32::MAX)
                        .untimed_from(FIRST_COPY_ID)
                        .bandwidth_only(),
                    pending: BTreeMap::new(),
                    asked: 0,
                    transfers: BTreeMap::new(),
                    timer: None,
                    stalled: Vec::new(),
                })
                .collect(),
            groups: BTreeMap::new(),
            sharing: Sharing::default(),
            copies: Vec::new(),
            deployments,
            on_dp: vec![false; estate.distribution_points.len() * deployments],
            wanted: vec![None; estate.distribution_points.len() * deployments],
            claims: BTreeMap::new(),
            carried: Vec::new(),
            copied_at: vec![None; estate.distribution_points.len() * deployments],
            fallbacks: Fallbacks::new(estate),
            pace: vec![None; estate.distribution_points.len()],
            senders: (0..estate.primaries.len())
                .map(|_| Sender::default())
                .collect(),
        }
    }

    /// One load row per link for the interval that ends now, as servers
    /// `first`, `first + 1`, ...
    pub(crate) fn sample_load(&mut self, now: SimTime, first: usize, rows: &mut Vec<LoadRow>) {
        for (i, link) in self.links.iter_mut().enumerate() {
            rows.push(link.pipe.sample(now, first + i));
        }
    }

    /// Downloads from DPs across the links now, running or waiting out
    /// the latency (not scan answers nor copies).
    pub(crate) fn downloads_under_way(&self) -> u64 {
        (self.links.iter())
            .map(|l| l.transfers.values().filter(|t| t.dp.is_some()).count() as u64)
            .sum()
    }

    /// Counts every link's time up to `now` (the end of the run).
    pub(crate) fn close(&mut self, now: SimTime) {
        for link in &mut self.links {
            link.pipe.close(now);
        }
    }

    /// Each link's figures over the run, in location order.
    pub(crate) fn records(&self, estate: &Estate) -> Vec<ServerRecord> {
        (self.links.iter().zip(&estate.locations))
            .map(|(link, l)| link.pipe.record_as(&l.name, ServerRole::WanLink, 0))
            .collect()
    }

    /// Per DP, then per deployment: when a copy of the deployment's
    /// content first reached it; empty without locations.
    pub(crate) fn copied_at(&self) -> Vec<Vec<Option<SimTime>>> {
        if self.deployments == 0 {
            return Vec::new();
        }
        (self.copied_at.chunks(self.deployments))
            .map(<[Option<SimTime>]>::to_vec)
            .collect()
    }

    /// The index of DP `dp` and deployment `d` in `on_dp` and `copied_at`.
    fn cell(&self, dp: DpId, d: DeploymentId) -> usize {
        dp.index() * self.deployments + d.index()
    }

    /// Deployment `d`'s content is on DP `dp` (in a location) from `at`.
    fn content_arrived(&mut self, dp: DpId, d: DeploymentId, at: SimTime) {
        let cell = self.cell(dp, d);
        self.on_dp[cell] = true;
        self.copied_at[cell].get_or_insert(at);
    }

    /// What a transfer id carries: a client's download, or copy `k`.
    fn copy_of(id: ClientId) -> Option<usize> {
        (id.0 >= FIRST_COPY_ID).then(|| (COPY_IDS - id.0) as usize)
    }

    /// The transfer id copy `k` is carried under (the inverse of
    /// [`copy_of`](Self::copy_of)).
    fn copy_id(k: usize) -> ClientId {
        ClientId(COPY_IDS - k as u32)
    }
}

impl World<'_> {
    /// Whether deployment `d`'s content is on DP `dp`: a DP at the site
    /// has it once it is in policy; one in a location once its copy has
    /// crossed the link.
    pub(crate) fn content_on_dp(&self, dp: DpId, d: DeploymentId) -> bool {
        self.estate.distribution_points[dp.index()]
            .location
            .is_none()
            || self.links.on_dp[self.links.cell(dp, d)]
    }

    /// Deployment `d`'s updates changed (a rule refreshed its group): no
    /// DP in a location has its content until the added updates are there.
    pub(crate) fn content_changed(&mut self, d: DeploymentId) {
        if self.estate.locations.is_empty() {
            return; // every DP is at the site
        }
        let n = self.links.deployments;
        for dp in 0..self.estate.distribution_points.len() {
            self.links.on_dp[dp * n + d.index()] = false;
        }
    }

    /// Whether every update of `d` has arrived on DP `dp` (in a location).
    fn all_arrived(&self, dp: DpId, d: DeploymentId) -> bool {
        (self.updates_of(d).iter())
            .all(|u| (self.links.claims.get(&(dp.0, u.0))).is_some_and(|&(_, arrived)| arrived))
    }

    /// Copy `k` has reached its DP: its updates are there, and so is the
    /// content of every deployment distributed to the DP that has all its
    /// updates there now (one distributed later has it from then on).
    fn copy_arrived(&mut self, k: usize, now: SimTime) {
        let dp = self.links.copies[k].dp;
        for &u in &self.links.carried[k] {
            if let Some(claim) = self.links.claims.get_mut(&(dp.0, u.0)) {
                claim.1 = true;
            }
        }
        for d in 0..self.links.deployments {
            let d = DeploymentId(d as u16);
            let cell = self.links.cell(dp, d);
            let Some(wanted) = self.links.wanted[cell] else {
                continue;
            };
            if self.links.on_dp[cell] || !self.all_arrived(dp, d) {
                continue;
            }
            self.links.content_arrived(dp, d, wanted.max(now));
            if wanted <= now {
                self.recorder
                    .trace(now, None, || TraceEvent::ContentCopied {
                        deployment: d,
                        dp: u64::from(dp.0),
                    });
            }
        }
    }

    /// The site server has deployment `d`'s content at `at`: it copies it
    /// to every DP in a location that serves a cohort of `site` the
    /// deployment targets, each copy across the DP's location's link. A
    /// DP is sent only the updates it has not had nor been sent yet, as
    /// the content library keeps each file once [51] [52]: a deployment
    /// of updates already there (or on their way) needs no copy, and has
    /// its content on the DP when they are.
    pub(crate) fn start_copies(
        &mut self,
        d: DeploymentId,
        site: usize,
        at: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        let mut dps: Vec<DpId> = (spec.targets.iter())
            .map(|c| &estate.cohorts[c.index()])
            .filter(|c| c.site.index() == site)
            .filter_map(|c| c.dp)
            .filter(|dp| estate.distribution_points[dp.index()].location.is_some())
            .collect();
        dps.sort_unstable();
        dps.dedup();
        let updates = self.updates_of(d);
        for dp in dps {
            let dp_spec = &estate.distribution_points[dp.index()];
            let cell = self.links.cell(dp, d);
            self.links.wanted[cell].get_or_insert(at);
            // A copy the site sent from a later instant (only a rule's
            // run, during the run, can find one) does not count.
            let new: Vec<UpdateId> = (updates.iter().copied())
                .filter(|u| {
                    (self.links.claims.get(&(dp.0, u.0))).is_none_or(|&(since, _)| since > at)
                })
                .collect();
            let claim = |links: &mut Links, new: &[UpdateId], arrived: bool| {
                for &u in new {
                    let c = links.claims.entry((dp.0, u.0)).or_insert((at, arrived));
                    *c = (c.0.min(at), c.1 || arrived);
                }
            };
            if dp_spec.prestaged || new.is_empty() {
                claim(&mut self.links, &new, true);
                // Extracted there beforehand (the distribution is a
                // notification), or sent before: the DP holds the content
                // once every update has arrived.
                if !self.links.on_dp[cell] && self.all_arrived(dp, d) {
                    self.links.content_arrived(dp, d, at);
                }
                continue;
            }
            let bytes: u64 = (new.iter())
                .map(|u| estate.updates[u.index()].size_bytes)
                .sum();
            let (start, source) = if dp_spec.pull_from.is_empty() {
                (at, None)
            } else {
                let sources = &dp_spec.pull_from;
                match pull_next(estate, sources, bytes, at, at, PULL_CHECK) {
                    Some((start, source)) => (start, Some(source)),
                    None => continue, // no source has it before the end
                }
            };
            claim(&mut self.links, &new, false);
            let k = self.links.copies.len();
            self.links.copies.push(Copy {
                deployment: d,
                dp,
                pushed: dp_spec.pull_from.is_empty(),
                source,
                distributed: at,
                bytes,
            });
            self.links.carried.push(new);
            let link = dp_spec.location.expect("a DP in a location");
            let ready = start + estate.locations[link.index()].latency;
            self.links.links[link.index()].ask(
                ready,
                Pending {
                    id: Links::copy_id(k),
                    millibits: bytes * 8_000,
                    cap: dp_spec.content_link_bps,
                    slot: false,
                },
            );
            self.link_reschedule(link, sched);
        }
    }

    /// DP `dp` went down: each pull DP downloading from it (or about to)
    /// stops, keeps what it has, and downloads the rest from its next
    /// source that has the content and is up, after the link's latency;
    /// with none, it looks again every 30 minutes [42].
    pub(crate) fn pull_source_down(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let estate = self.estate;
        for k in 0..self.links.copies.len() {
            let copy = self.links.copies[k];
            if copy.source != Some(dp) {
                continue;
            }
            let spec = &estate.distribution_points[copy.dp.index()];
            let link = spec.location.expect("a DP in a location");
            let id = Links::copy_id(k);
            let latency = estate.locations[link.index()].latency;
            let l = &mut self.links.links[link.index()];
            let left = match l.waiting(id) {
                // Started, waiting out the round trip.
                Some(key) if key.0 <= now + latency => l.pending.remove(&key).map(|p| p.millibits),
                // Planned for a later check, which found the source up.
                Some(_) => continue,
                None => l.pipe.stop(id, now),
            };
            let Some(millibits) = left else {
                continue; // done, or stopped by its link's outage
            };
            let sources = &spec.pull_from;
            let (distributed, bytes) = (copy.distributed, copy.bytes);
            let next = pull_next(estate, sources, bytes, distributed, now, PULL_RETRY);
            self.links.copies[k].source = next.map(|(_, source)| source);
            if let Some((start, _)) = next {
                let cap = spec.content_link_bps;
                let slot = false;
                self.links.links[link.index()].ask(
                    start + latency,
                    Pending {
                        id,
                        millibits,
                        cap,
                        slot,
                    },
                );
            }
            self.link_reschedule(link, sched);
        }
    }

    /// A client asks DP `dp`, across link `link`, for `bytes`: the
    /// transfer starts after the link's latency, at the client's link or
    /// its share of the WAN link, whichever is less. False if the link is
    /// down: the request fails at once, at the link and at the DP.
    pub(crate) fn link_request(
        &mut self,
        link: LocationId,
        c: ClientId,
        dp: DpId,
        bytes: u64,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        if !self.link_send(link, c, Some(dp), bytes, Request::Download, sched) {
            self.servers.dp_mut(dp).count(Request::Download, 0, 0, 1);
            return false;
        }
        if let super::client::Action::Download(deployment) = self.clients[c].action {
            let latency = self.estate.locations[link.index()].latency;
            self.recorder
                .trace(sched.now(), Some(c), || TraceEvent::AcrossWanLink {
                    deployment,
                    latency_ms: latency.as_ms(),
                });
        }
        true
    }

    /// Client `c`'s SUP sends it `bytes` of scan metadata across its
    /// location's link `link` (the SUP is at the site): the transfer starts
    /// after the link's latency, at the client's link or its share of the
    /// WAN link. False if the link is down: the scan fails.
    pub(crate) fn scan_across_link(
        &mut self,
        link: LocationId,
        c: ClientId,
        bytes: u64,
        kind: Request,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        self.link_send(link, c, None, bytes, kind, sched)
    }

    /// Client `c` gets `bytes` across link `link` for a request of `kind`
    /// (from DP `dp`, for a download): counted at the link, the transfer
    /// starts after the link's latency, at the client's link or its share
    /// of the WAN link, whichever is less. False if the link is down: the
    /// request fails at once at the link.
    fn link_send(
        &mut self,
        link: LocationId,
        c: ClientId,
        dp: Option<DpId>,
        bytes: u64,
        kind: Request,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        let now = sched.now();
        let latency = self.estate.locations[link.index()].latency;
        let cap = self.cohort(c).link_bps;
        let l = &mut self.links.links[link.index()];
        if l.pipe.is_down() {
            l.pipe.count(kind, 1, 0, 1);
            return false;
        }
        l.pipe.count(kind, 1, 0, 0);
        let millibits = bytes * 8_000;
        l.transfers.insert(
            c,
            Transfer {
                dp,
                millibits,
                kind,
            },
        );
        let slot = false;
        l.ask(
            now + latency,
            Pending {
                id: c,
                millibits,
                cap,
                slot,
            },
        );
        self.link_reschedule(link, sched);
        true
    }

    /// The client's scan stops (switched off, restarting): its SUP's
    /// answer no longer crosses its location's link.
    pub(crate) fn scan_link_cancel(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let Some(link) = self.cohort(c).location else {
            return;
        };
        if self.link_stop(link, c, sched).is_some() {
            self.link_reschedule(link, sched);
        }
    }

    /// The WAN link client `c`'s download crosses, if any: its cohort's
    /// `crosses`, or its location's link if it fell back to a DP of the
    /// site's default boundary group.
    pub(crate) fn download_link(&self, c: ClientId) -> Option<LocationId> {
        let cohort = self.cohort(c);
        cohort.crosses.or_else(|| {
            (cohort.location).filter(|l| self.links.links[l.index()].transfers.contains_key(&c))
        })
    }

    /// The client's download across `link` stops (switched off,
    /// restarting): its DP counts what was sent; returns the bytes it
    /// still lacks.
    pub(crate) fn link_cancel(
        &mut self,
        link: LocationId,
        c: ClientId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Option<u64> {
        let (left, _) = self.link_stop(link, c, sched)?;
        self.link_reschedule(link, sched);
        Some(left.div_ceil(8_000))
    }

    /// Takes client `c`'s transfer off `link` (running, waiting for its
    /// DP's connection or waiting out the latency); returns the millibits
    /// it still lacked, and what it was. Its DP and link have counted
    /// the bits it sent as they went; the DP's next download waiting
    /// for a connection takes its connection.
    fn link_stop(
        &mut self,
        link: LocationId,
        c: ClientId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Option<(u64, Transfer)> {
        let now = sched.now();
        let links = &mut self.links;
        let l = &mut links.links[link.index()];
        let asked = l.transfers.remove(&c)?;
        if let Some(key) = l.waiting(c) {
            return Some((l.pending.remove(&key).expect("found").millibits, asked));
        }
        let Some(dp) = asked.dp else {
            return Some((l.pipe.stop(c, now).expect("a scan answer"), asked));
        };
        let group = links.groups.get_mut(&(link.0, dp.0));
        let running = group.and_then(|g| {
            let left = g.pipe.stop(c, now)?;
            Some((left, g.pipe.take_sent(now)))
        });
        let d = self.servers.dp_mut(dp);
        let left = match running {
            Some((left, sent)) => {
                // The client keeps whole bytes only and asks for the rest
                // again, the byte it was receiving included: its DP counts
                // the bytes it kept (the link, what crossed it).
                l.pipe.relay(sent);
                l.pipe.leave_remote(now);
                d.relay(sent);
                d.keep_whole_bytes(left);
                d.leave_remote(now);
                left
            }
            // Waiting for a connection, or failed with its DP.
            None => d.stop(c, now).unwrap_or(asked.millibits),
        };
        self.dp_reschedule(dp, sched);
        Some((left, asked))
    }

    /// Client `c`'s transfer across `link` fails now: it stops, and the
    /// link and its DP each count a failure; the client and, for a
    /// download, the bytes it still lacks (`None`: a scan's answer).
    fn link_fail(
        &mut self,
        link: LocationId,
        c: ClientId,
        sched: &mut Scheduler<'_, Event>,
    ) -> (ClientId, Option<u64>) {
        let (left, asked) = self.link_stop(link, c, sched).expect("asked");
        (self.links.links[link.index()].pipe).count(asked.kind, 0, 0, 1);
        match asked.dp {
            Some(dp) => {
                self.servers.dp_mut(dp).count(Request::Download, 0, 0, 1);
                (c, Some(left.div_ceil(8_000)))
            }
            None => (c, None),
        }
    }

    /// DP `dp` went down: the downloads from it across links fail, in link
    /// order, each with the bytes it still lacks.
    pub(crate) fn links_fail_dp(
        &mut self,
        dp: DpId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Vec<(ClientId, u64)> {
        let mut failed = Vec::new();
        for link in 0..self.links.links.len() {
            let clients: Vec<ClientId> = (self.links.links[link].transfers.iter())
                .filter(|(_, download)| download.dp == Some(dp))
                .map(|(&c, _)| c)
                .collect();
            if clients.is_empty() {
                continue;
            }
            let link = LocationId(link as u16);
            for c in clients {
                let (c, left) = self.link_fail(link, c, sched);
                failed.push((c, left.expect("a download from the DP")));
            }
            self.link_reschedule(link, sched);
        }
        failed
    }

    /// Link `link` goes down (a fault): the downloads and scan answers
    /// crossing it fail, in client order, each download with the bytes it
    /// still lacks (what crossed counts at its DP, which also counts the
    /// failure), each scan answer with `None`;
    /// copies to its DPs fail with what they have sent, and the site tries
    /// each again every [`COPY_RETRY`] until the link is back, sending
    /// only what is missing. Downloads asked for while it is down fail at
    /// once ([`link_request`](Self::link_request)); copies fail when their
    /// latency has passed, and are tried again the same way.
    pub(crate) fn link_fail_all(
        &mut self,
        link: LocationId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Vec<(ClientId, Option<u64>)> {
        let now = sched.now();
        self.links.links[link.index()].pipe.set_down(true, now);
        let clients: Vec<ClientId> = (self.links.links[link.index()].transfers.keys())
            .copied()
            .collect();
        let failed: Vec<(ClientId, Option<u64>)> = (clients.into_iter())
            .map(|c| self.link_fail(link, c, sched))
            .collect();
        // A copy still to start stays asked for: it fails when it would
        // start, if the link is still down (`link_tick`).
        let estate = self.estate;
        let on_link =
            |copy: &Copy| estate.distribution_points[copy.dp.index()].location == Some(link);
        self.stall_copies(link, on_link, sched);
        failed
    }

    /// Link `link` is slower by `factor` from now (1: full speed).
    pub(crate) fn link_set_slowdown(
        &mut self,
        link: LocationId,
        factor: f64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        (self.links.links[link.index()].pipe).set_slowdown(factor, now);
        self.link_reschedule(link, sched);
    }

    /// Link `link`'s fault ends: it is up at full speed, and each copy it
    /// stopped is tried again at its next retry (then after the latency),
    /// unless the distribution manager gave up on it before: its 100th
    /// retry came while the link was down.
    pub(crate) fn link_restore(&mut self, link: LocationId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let l = &mut self.links.links[link.index()];
        l.pipe.set_slowdown(1.0, now);
        l.pipe.set_down(false, now);
        self.retry_stalled(link, None, now);
        self.link_reschedule(link, sched);
    }

    /// The copies stalled on `link` (those to `dp` alone, if given) whose
    /// DP is up are tried again at their next retry, then after the
    /// link's latency, unless the distribution manager gave up on one
    /// before: its 100th retry came while it could not be sent.
    fn retry_stalled(&mut self, link: LocationId, dp: Option<DpId>, now: SimTime) {
        let latency = self.estate.locations[link.index()].latency;
        let (links, servers) = (&mut self.links, &self.servers);
        let copies = &links.copies;
        let l = &mut links.links[link.index()];
        let to = |p: &Pending| Links::copy_of(p.id).map(|k| copies[k].dp);
        let (go, stay): (Vec<_>, Vec<_>) =
            std::mem::take(&mut l.stalled)
                .into_iter()
                .partition(|(_, p)| {
                    to(p).is_none_or(|to| dp.is_none_or(|dp| dp == to) && !servers.dp(to).is_down())
                });
        l.stalled = stay;
        for (failed, p) in go {
            let retries = now
                .since(failed)
                .as_ms()
                .div_ceil(COPY_RETRY.as_ms())
                .max(1);
            if retries > COPY_TRIES {
                self.recorder.totals.copies_abandoned += 1;
                continue;
            }
            let retry = failed + SimDuration::from_ms(retries * COPY_RETRY.as_ms());
            l.ask(retry + latency, p);
        }
    }

    /// Branch DP `dp` goes down: the copies to it under way fail with what
    /// they have sent, and the site tries each again every [`COPY_RETRY`]
    /// until it is back, as for a link's outage; copies that would start
    /// while it is down fail then (`link_tick`).
    pub(crate) fn copies_fail_dp(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let Some(link) = self.estate.distribution_points[dp.index()].location else {
            return;
        };
        self.stall_copies(link, |copy| copy.dp == dp, sched);
    }

    /// The copies on link `link` that `pick` picks stop, if sending, with
    /// what they have sent, and stall until they are tried again
    /// (`retry_stalled`); pushed ones free their place at the site.
    fn stall_copies(
        &mut self,
        link: LocationId,
        pick: impl Fn(&Copy) -> bool,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let estate = self.estate;
        let links = &mut self.links;
        let l = &mut links.links[link.index()];
        let mut freed = Vec::new();
        for (k, copy) in links.copies.iter().enumerate() {
            if !pick(copy) {
                continue;
            }
            let id = Links::copy_id(k);
            if let Some(millibits) = l.pipe.stop(id, now) {
                let cap = estate.distribution_points[copy.dp.index()].content_link_bps;
                let slot = false;
                let p = Pending {
                    id,
                    millibits,
                    cap,
                    slot,
                };
                l.stalled.push((now, p));
                if copy.pushed {
                    freed.push(k);
                }
            }
        }
        self.link_reschedule(link, sched);
        for k in freed {
            self.copy_ended(k, sched);
        }
    }

    /// Branch DP `dp` is back: the copies to it stalled while it was down
    /// are tried again (if its link is up).
    pub(crate) fn copies_dp_restored(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let Some(link) = self.estate.distribution_points[dp.index()].location else {
            return;
        };
        if self.links.links[link.index()].pipe.is_down() {
            return; // the link's restore tries them
        }
        self.retry_stalled(link, Some(dp), sched.now());
        self.link_reschedule(link, sched);
    }

    /// The link's next event: transfers that have sent everything end,
    /// those whose latency has passed start.
    pub(crate) fn link_tick(&mut self, link: LocationId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let estate = self.estate;
        let servers = &self.servers;
        let links = &mut self.links;
        let l = &mut links.links[link.index()];
        l.timer = None;
        let mut done = Vec::new();
        l.pipe.finish(now, &mut done);
        // Downloads across it that have everything, by DP.
        let mut arrived = Vec::new();
        let range = (link.0, 0)..=(link.0, u16::MAX);
        for (&(_, dp), g) in links.groups.range_mut(range) {
            let mut ended = Vec::new();
            g.pipe.finish(now, &mut ended);
            let sent = g.pipe.take_sent(now);
            l.pipe.relay(sent);
            arrived.push((DpId(dp), sent, ended));
        }
        let mut paced = Vec::new();
        let mut freed = Vec::new();
        let mut to_dps = Vec::new();
        while let Some(entry) = l.pending.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let mut p = entry.remove();
            if let Some(dp) = l.transfers.get(&p.id).and_then(|t| t.dp) {
                // A download: it asks its DP for a connection.
                to_dps.push((dp, p));
                continue;
            }
            let sends = Links::copy_of(p.id).filter(|&k| links.copies[k].pushed);
            let dp_down =
                Links::copy_of(p.id).is_some_and(|k| servers.dp(links.copies[k].dp).is_down());
            if l.pipe.is_down() || dp_down {
                // Only a copy can be waiting while the link is down, or
                // its DP; one given a slot gives it back.
                if p.slot {
                    freed.extend(sends);
                }
                l.stalled.push((now, Pending { slot: false, ..p }));
                continue;
            }
            if let Some(k) = sends
                && !p.slot
            {
                // It needs one of its site's sending slots, or waits.
                let site = estate.distribution_points[links.copies[k].dp.index()].site;
                let sender = &mut links.senders[site.index()];
                if sender.active >= estate.site.copy_threads {
                    sender.waiting.push_back((link, p));
                    continue;
                }
                sender.active += 1;
                p.slot = true;
            }
            if Links::plan_of(&links.copies, estate, p.id).is_some() {
                paced.push(p);
            } else {
                l.pipe.start(p.id, p.millibits, p.cap, now);
            }
        }
        for p in paced {
            self.copy_go(link, p, now, sched);
        }
        for &(dp, sent, _) in &arrived {
            self.servers.dp_mut(dp).relay(sent);
        }
        for (dp, p) in to_dps {
            let d = self.servers.dp_mut(dp);
            d.start_remote(p.id, link.0, p.millibits, p.cap, now);
            self.dp_reschedule(dp, sched);
        }
        self.link_reschedule(link, sched);
        for k in freed {
            self.copy_ended(k, sched);
        }
        for (dp, _, ended) in arrived {
            for id in ended {
                let l = &mut self.links.links[link.index()];
                l.transfers.remove(&id).expect("asked");
                l.pipe.count(Request::Download, 0, 1, 0);
                l.pipe.leave_remote(now);
                let d = self.servers.dp_mut(dp);
                d.count(Request::Download, 0, 1, 0);
                d.leave_remote(now);
                self.dp_reschedule(dp, sched);
                self.download_finished(id, sched);
            }
            self.link_reschedule(link, sched);
        }
        for id in done {
            match Links::copy_of(id) {
                Some(k) => {
                    if self.links.copies[k].pushed {
                        self.copy_ended(k, sched);
                    }
                    self.copy_arrived(k, now);
                }
                None => {
                    let l = &mut self.links.links[link.index()];
                    let asked = l.transfers.remove(&id).expect("asked");
                    l.pipe.count(asked.kind, 0, 1, 0);
                    assert!(asked.dp.is_none(), "a download crosses in its group");
                    self.scan_answer_arrived(id, sched);
                }
            }
        }
    }

    /// Shares the link anew, and its DPs too if downloads across it are in
    /// progress or were; moves its one timer to its next event.
    fn link_reschedule(&mut self, link: LocationId, sched: &mut Scheduler<'_, Event>) {
        let l = &self.links.links[link.index()].pipe;
        if l.remote_active() > 0 || l.reserved() > 0 {
            self.reshare_across(&[link], sched);
        } else {
            self.link_timer(link, sched);
        }
    }

    /// Re-shares the link and its download groups, and moves its one
    /// timer to the next of their ends and of its transfers' starts.
    fn link_timer(&mut self, link: LocationId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let range = (link.0, 0)..=(link.0, u16::MAX);
        let mut ends = None;
        for g in self.links.groups.range_mut(range).map(|(_, g)| g) {
            if let Some(at) = g.pipe.reshare() {
                ends = Some(ends.map_or(at, |e: SimTime| e.min(at)));
            }
        }
        let l = &mut self.links.links[link.index()];
        if let Some(at) = l.pipe.reshare() {
            ends = Some(ends.map_or(at, |e: SimTime| e.min(at)));
        }
        let starts = l.pending.keys().next().map(|&(t, _)| t);
        let next = match (ends, starts) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if let Some(timer) = l.timer.take() {
            sched.cancel(timer);
        }
        if let Some(at) = next {
            l.timer = Some(sched.at(at.max(now), Event::LinkTick(link)));
        }
    }
}

impl Links {
    /// The schedule and rate limit of the DP a transfer is a copy to, if
    /// it is a copy and its DP has one.
    fn plan_of<'e>(copies: &[Copy], estate: &'e Estate, id: ClientId) -> Option<&'e CopyPlan> {
        let copy = copies[Links::copy_of(id)?];
        estate.distribution_points[copy.dp.index()]
            .copy_plan
            .as_ref()
    }
}

impl World<'_> {
    /// The start of the first hour of the local week after `now`'s (at
    /// most a week on) for which `pick` holds.
    fn next_hour_where(&self, now: SimTime, pick: impl Fn(usize) -> bool) -> Option<SimTime> {
        let (_, mut next) = self.estate.local_hour(now);
        for _ in 0..168 {
            let (hour, after) = self.estate.local_hour(next);
            if pick(hour) {
                return Some(next);
            }
            next = after;
        }
        None
    }

    /// How fast copy `k` may go in hour `hour` of the local week (0: its
    /// DP's schedule holds it back).
    fn copy_cap(&self, k: usize, hour: usize) -> u64 {
        let copy = self.links.copies[k];
        let priority = self.estate.deployments[copy.deployment.index()].distribution_priority;
        self.estate.copy_cap(copy.dp, priority, hour)
    }

    /// A copy to a DP with a schedule or rate limit may start now: it
    /// goes at the pace its DP allows in this hour, and the DP's pace
    /// timer watches for the next change; or, if the schedule holds it
    /// back, it is asked for again when the schedule next lets it go (one
    /// round trip later), never if the schedule never does.
    fn copy_go(
        &mut self,
        link: LocationId,
        p: Pending,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let k = Links::copy_of(p.id).expect("a copy");
        let cap = self.copy_cap(k, self.estate.local_hour(now).0);
        let copy = self.links.copies[k];
        let link_bps = self.estate.locations[link.index()].bandwidth_bps;
        self.recorder.trace(now, None, || TraceEvent::CopyPaced {
            deployment: copy.deployment,
            dp: u64::from(copy.dp.0),
            bps: cap.min(link_bps),
        });
        let l = &mut self.links.links[link.index()];
        if cap > 0 {
            l.pipe.start(p.id, p.millibits, cap, now);
            self.arm_pace(self.links.copies[k].dp, now, sched);
            return;
        }
        if let Some(open) = self.next_hour_where(now, |hour| self.copy_cap(k, hour) > 0) {
            let latency = self.estate.locations[link.index()].latency;
            let again = Pending { slot: false, ..p };
            self.links.links[link.index()].ask(open + latency, again);
        }
        // Held back, it sends nothing: its slot goes to the next copy.
        if p.slot {
            self.copy_ended(k, sched);
        }
    }

    /// Copy `k`, which held one of its site's sending slots, ends or
    /// stops: the slot goes to the copy waiting for one whose deployment
    /// has the highest distribution priority (the first to wait among
    /// equals), which starts now on its link.
    fn copy_ended(&mut self, k: usize, sched: &mut Scheduler<'_, Event>) {
        let estate = self.estate;
        let site = estate.distribution_points[self.links.copies[k].dp.index()].site;
        let copies = &self.links.copies;
        let sender = &mut self.links.senders[site.index()];
        sender.active = (sender.active.checked_sub(1)).expect("the copy held a slot");
        let priority = |p: &Pending| {
            let copy = copies[Links::copy_of(p.id).expect("a copy")];
            estate.deployments[copy.deployment.index()].distribution_priority
        };
        // The first of the highest priority: `max_by_key` keeps the last
        // of equals, so compare the reversed positions too.
        let next = (sender.waiting.iter().enumerate())
            .max_by_key(|(i, (_, p))| (priority(p), std::cmp::Reverse(*i)))
            .map(|(i, _)| i);
        if let Some((link, p)) = next.and_then(|i| sender.waiting.remove(i)) {
            sender.active += 1;
            let given = Pending { slot: true, ..p };
            self.links.links[link.index()].ask(sched.now(), given);
            self.link_reschedule(link, sched);
        }
    }

    /// Arms DP `dp`'s pace timer for the next hour whose schedule or rate
    /// limit differs from this one's, unless it is armed.
    fn arm_pace(&mut self, dp: DpId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        if self.links.pace[dp.index()].is_some() {
            return;
        }
        let plan = (self.estate.distribution_points[dp.index()]
            .copy_plan
            .as_ref())
        .expect("a DP with a copy plan");
        let pace = |h: usize| (plan.lowest[h], plan.percent[h % 24]);
        let now_pace = pace(self.estate.local_hour(now).0);
        if let Some(change) = self.next_hour_where(now, |h| pace(h) != now_pace) {
            self.links.pace[dp.index()] = Some(sched.at(change, Event::CopyPace(dp)));
        }
    }

    /// The hour changes the pace DP `dp`'s schedule and rate limit allow:
    /// each copy to it on its link goes on at the new pace, or stops with
    /// what it has sent and is asked for again when the schedule lets it
    /// go.
    pub(crate) fn copy_pace(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.links.pace[dp.index()] = None;
        let link =
            (self.estate.distribution_points[dp.index()].location).expect("a DP in a location");
        let mut stopped = Vec::new();
        for k in 0..self.links.copies.len() {
            if self.links.copies[k].dp != dp {
                continue;
            }
            let id = Links::copy_id(k);
            if let Some(millibits) = self.links.links[link.index()].pipe.stop(id, now) {
                // It was sending: it held a slot, if it needs one.
                stopped.push(Pending {
                    id,
                    millibits,
                    cap: 0,
                    slot: self.links.copies[k].pushed,
                });
            }
        }
        for p in stopped {
            self.copy_go(link, p, now, sched);
        }
        self.link_reschedule(link, sched);
    }
}

impl Link {
    /// A transfer asked for, to start at `at`.
    /// The key of transfer `id` if it is asked for and still waiting out
    /// the latency (its start time first).
    fn waiting(&self, id: ClientId) -> Option<(SimTime, u64)> {
        (self.pending.iter())
            .find(|(_, p)| p.id == id)
            .map(|(&key, _)| key)
    }

    fn ask(&mut self, at: SimTime, p: Pending) {
        self.pending.insert((at, self.asked), p);
        self.asked += 1;
    }
}

/// How often the site's Package Transfer Manager checks whether a pull
/// DP's content is on one of its sources, until it is.
const PULL_CHECK: SimDuration = SimDuration::from_mins(20);

/// How long a pull DP that found its content on none of its sources
/// waits before it starts looking again.
const PULL_RETRY: SimDuration = SimDuration::from_mins(30);

/// When a pull-distribution point starts downloading `bytes` of content
/// the site distributed at `at`, and from which source: at the first of
/// the checks at `from`, then every `step`, at which a source DP has the
/// content (the site server sends it to the sources as to every DP at
/// the site, over each one's `content_link`) and is up; the pull DP then
/// downloads it from the first such source in its list. The Package
/// Transfer Manager checks every 20 minutes before the first download; a
/// pull DP that lost its source looks again every 30 minutes. `None` if
/// no check before the end of the run finds one.
fn pull_next(
    estate: &Estate,
    sources: &[DpId],
    bytes: u64,
    at: SimTime,
    from: SimTime,
    step: SimDuration,
) -> Option<(SimTime, DpId)> {
    let usable = |t: SimTime| {
        sources.iter().copied().find(|&src| {
            let spec = &estate.distribution_points[src.index()];
            let sent = SimDuration(
                (u128::from(bytes) * 8_000).div_ceil(u128::from(spec.content_link_bps)) as u64,
            );
            let down = estate.faults.iter().any(|f| {
                f.server == ServerRef::Dp(src) && f.slowdown.is_none() && f.start <= t && t < f.end
            });
            at + sent <= t && !down
        })
    };
    let mut t = from;
    while t <= estate.end() {
        if let Some(source) = usable(t) {
            return Some((t, source));
        }
        t += step;
    }
    None
}

/// One class of the two-resource sharing: `count` flows with link `cap`,
/// through resource `a` (and `b`), of download group `group` if any.
struct Class {
    cap: u64,
    count: u64,
    a: usize,
    b: Option<usize>,
    group: Option<usize>,
    rate: Option<u64>,
}

/// Max-min fair rates by progressive filling: every class's rate rises
/// together; a class stops at its link, and every class through a
/// resource stops when the resource is full (whole bits per second,
/// rounded down). `capacity` is per resource; the classes' rates are
/// filled in.
///
/// Each step either stops the classes of the least link cap still rising
/// or fills the resource whose level is lowest (the lowest-numbered one
/// among equals). The classes are visited in order of cap and the
/// resources' levels kept in a heap, each pushed anew when a class on it
/// stops, so a sharing costs O(c log c) for c classes, not O(c²).
fn fill(capacity: &[u64], classes: &mut [Class], water: &mut Water) {
    water.reset(capacity, classes);
    let mut next = 0;
    loop {
        let by_cap = &water.by_cap;
        while next < by_cap.len() && classes[by_cap[next]].rate.is_some() {
            next += 1;
        }
        let Some(&first) = by_cap.get(next) else {
            return;
        };
        let least = classes[first].cap;
        let (lowest, full) = water.lowest(capacity);
        if least <= lowest {
            while let Some(&i) = (water.by_cap.get(next)).filter(|&&i| classes[i].cap == least) {
                if classes[i].rate.is_none() {
                    water.freeze(capacity, &mut classes[i], least);
                }
                next += 1;
            }
        } else {
            let on = water.on_start[full]..water.on_start[full + 1];
            for k in on {
                let i = water.on[k];
                if classes[i].rate.is_none() {
                    water.freeze(capacity, &mut classes[i], lowest);
                }
            }
        }
    }
}

/// The resources of one [`fill`], in buffers kept from one filling to
/// the next: what the stopped classes use of each, how many flows through
/// each still rise, the classes through each, and a heap of their levels
/// (stale entries are dropped when they surface).
#[derive(Default)]
struct Water {
    used: Vec<u128>,
    flows: Vec<u64>,
    /// The classes through resource `r` are `on[on_start[r]..on_start[r + 1]]`.
    on: Vec<usize>,
    on_start: Vec<usize>,
    /// The classes in order of cap.
    by_cap: Vec<usize>,
    levels: BinaryHeap<Reverse<(u64, usize)>>,
}

impl Water {
    /// Ready for `classes` over resources of `capacity`.
    fn reset(&mut self, capacity: &[u64], classes: &[Class]) {
        let n = capacity.len();
        self.used.clear();
        self.used.resize(n, 0);
        self.flows.clear();
        self.flows.resize(n, 0);
        self.on_start.clear();
        self.on_start.resize(n + 1, 0);
        for c in classes {
            for r in std::iter::once(c.a).chain(c.b) {
                self.flows[r] += c.count;
                self.on_start[r + 1] += 1;
            }
        }
        for r in 0..n {
            self.on_start[r + 1] += self.on_start[r];
        }
        self.on.clear();
        self.on.resize(self.on_start[n], 0);
        let mut at = self.on_start.clone();
        for (i, c) in classes.iter().enumerate() {
            for r in std::iter::once(c.a).chain(c.b) {
                self.on[at[r]] = i;
                at[r] += 1;
            }
        }
        self.by_cap.clear();
        self.by_cap.extend(0..classes.len());
        self.by_cap.sort_by_key(|&i| classes[i].cap);
        self.levels.clear();
        for r in 0..n {
            self.push_level(capacity, r);
        }
    }

    /// The level at which resource `r` fills if every flow still rising
    /// through it rises to it.
    fn level(&self, capacity: &[u64], r: usize) -> u64 {
        let left = u128::from(capacity[r]).saturating_sub(self.used[r]);
        (left / u128::from(self.flows[r])) as u64
    }

    fn push_level(&mut self, capacity: &[u64], r: usize) {
        if self.flows[r] > 0 {
            self.levels.push(Reverse((self.level(capacity, r), r)));
        }
    }

    /// The resource that fills first, and the level it fills at (the
    /// lowest-numbered among equals).
    fn lowest(&mut self, capacity: &[u64]) -> (u64, usize) {
        loop {
            let Reverse((l, r)) = *self.levels.peek().expect("a class is on a resource");
            if self.flows[r] > 0 && self.level(capacity, r) == l {
                return (l, r);
            }
            self.levels.pop();
        }
    }

    /// Class `c` stops rising at `rate`.
    fn freeze(&mut self, capacity: &[u64], c: &mut Class, rate: u64) {
        c.rate = Some(rate);
        for r in std::iter::once(c.a).chain(c.b) {
            self.used[r] += u128::from(c.count) * u128::from(rate);
            self.flows[r] -= c.count;
            self.push_level(capacity, r);
        }
    }
}

/// The buffers of [`World::reshare_across`], kept from one sharing to the
/// next: the resources (DPs and links) and classes of the sharing.
#[derive(Default)]
struct Sharing {
    /// Per DP and per link: its resource, or [`NO_RESOURCE`].
    dp_res: Vec<u32>,
    link_res: Vec<u32>,
    /// The DPs and links that are resources, as first named.
    dps: Vec<u16>,
    links: Vec<u16>,
    capacity: Vec<u64>,
    classes: Vec<Class>,
    /// Per group (in order): its rate.
    rates: Vec<u64>,
    /// Per resource: what the groups take of it.
    reserved: Vec<u64>,
    water: Water,
}

const NO_RESOURCE: u32 = u32::MAX;

impl Sharing {
    /// Empty, for `dps` DPs and `links` links.
    fn clear(&mut self, dps: usize, links: usize) {
        for &dp in &self.dps {
            self.dp_res[usize::from(dp)] = NO_RESOURCE;
        }
        for &l in &self.links {
            self.link_res[usize::from(l)] = NO_RESOURCE;
        }
        self.dp_res.resize(dps, NO_RESOURCE);
        self.link_res.resize(links, NO_RESOURCE);
        self.dps.clear();
        self.links.clear();
        self.capacity.clear();
        self.classes.clear();
        self.rates.clear();
        self.reserved.clear();
    }

    fn resource_of_dp(&mut self, dp: u16, capacity: impl FnOnce() -> u64) -> usize {
        let r = &mut self.dp_res[usize::from(dp)];
        if *r == NO_RESOURCE {
            *r = self.capacity.len() as u32;
            self.capacity.push(capacity());
            self.dps.push(dp);
        }
        *r as usize
    }

    fn resource_of_link(&mut self, link: u16, capacity: impl FnOnce() -> u64) -> usize {
        let r = &mut self.link_res[usize::from(link)];
        if *r == NO_RESOURCE {
            *r = self.capacity.len() as u32;
            self.capacity.push(capacity());
            self.links.push(link);
        }
        *r as usize
    }
}

impl World<'_> {
    /// DP `dp` gave downloads across WAN links (`joined`: client, link,
    /// millibits, its link) a connection each: they start on their links,
    /// and the links and DPs are shared anew.
    pub(super) fn downloads_cross(
        &mut self,
        dp: DpId,
        joined: Vec<(ClientId, u16, u64, u64)>,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let mut started = Vec::new();
        for (c, link, millibits, cap) in joined {
            let g = (self.links.groups.entry((link, dp.0))).or_insert_with(|| Group {
                pipe: Dp::new(0, u32::MAX),
                rate: 0,
            });
            g.pipe.start(c, millibits, cap, now);
            self.links.links[usize::from(link)].pipe.join_remote(now);
            started.push(LocationId(link));
        }
        started.dedup();
        self.reshare_across(&started, sched);
    }

    /// Shares every DP and link that downloads across links take (or took
    /// until now) anew, by progressive filling over both resources: each
    /// download group's share becomes its pipe's bandwidth, and its DP and
    /// link leave their own flows the rest. The pipes whose shares moved,
    /// and the links in `touched`, are re-shared and their timers moved.
    /// Its cost grows with the groups (pairs of a link and a DP with
    /// downloads across it), not with the downloads; its buffers are kept.
    fn reshare_across(&mut self, touched: &[LocationId], sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let links = &mut self.links;
        let b = &mut links.sharing;
        b.clear(self.estate.distribution_points.len(), links.links.len());
        // Resources are numbered as the groups first name them (a group's
        // DP, then its link); `fill` breaks ties by that number.
        for (&(link, dp), g) in &links.groups {
            let a = b.resource_of_dp(dp, || self.servers.dp(DpId(dp)).full_capacity());
            let l =
                b.resource_of_link(link, || links.links[usize::from(link)].pipe.full_capacity());
            let group = Some(b.rates.len());
            b.rates.push(0);
            for (&cap, &count) in g.pipe.caps() {
                let count = u64::from(count);
                let (b_, rate) = (Some(l), None);
                b.classes.push(Class {
                    cap,
                    count,
                    a,
                    b: b_,
                    group,
                    rate,
                });
            }
        }
        // Then each DP's and link's own flows, DPs first, each in order.
        b.dps.sort_unstable();
        b.links.sort_unstable();
        let own = (b
            .dps
            .iter()
            .map(|&dp| (self.servers.dp(DpId(dp)), b.dp_res[usize::from(dp)])))
        .chain((b.links.iter()).map(|&l| {
            (
                &links.links[usize::from(l)].pipe,
                b.link_res[usize::from(l)],
            )
        }));
        for (pipe, a) in own {
            for (&cap, &count) in pipe.caps() {
                let count = u64::from(count);
                let (b_, group, rate) = (None, None, None);
                b.classes.push(Class {
                    cap,
                    count,
                    a: a as usize,
                    b: b_,
                    group,
                    rate,
                });
            }
        }
        fill(&b.capacity, &mut b.classes, &mut b.water);
        for c in &b.classes {
            if let Some(g) = c.group {
                b.rates[g] += c.count * c.rate.expect("filled");
            }
        }
        b.reserved.resize(b.capacity.len(), 0);
        let mut moved_links: Vec<LocationId> = touched.to_vec();
        for ((&(link, dp), g), &rate) in links.groups.iter_mut().zip(&b.rates) {
            b.reserved[b.dp_res[usize::from(dp)] as usize] += rate;
            b.reserved[b.link_res[usize::from(link)] as usize] += rate;
            if g.rate != rate {
                g.pipe.set_bandwidth(rate, now);
                g.rate = rate;
                moved_links.push(LocationId(link));
            }
        }
        let mut moved_dps = Vec::new();
        for &dp in &b.dps {
            let d = self.servers.dp_mut(DpId(dp));
            let reserved = b.reserved[b.dp_res[usize::from(dp)] as usize];
            if d.reserved() != reserved {
                d.set_reserved(reserved, now);
                moved_dps.push(DpId(dp));
            }
        }
        for &link in &b.links {
            let l = &mut links.links[usize::from(link)].pipe;
            let reserved = b.reserved[b.link_res[usize::from(link)] as usize];
            if l.reserved() != reserved {
                l.set_reserved(reserved, now);
                moved_links.push(LocationId(link));
            }
        }
        // Groups with nothing left in them go, their share let go above,
        // once their DPs and links have counted what they sent.
        let servers = &mut self.servers;
        links.groups.retain(|&(link, dp), g| {
            if g.pipe.has_flows() || g.rate > 0 {
                return true;
            }
            let sent = g.pipe.take_sent(now);
            servers.dp_mut(DpId(dp)).relay(sent);
            links.links[usize::from(link)].pipe.relay(sent);
            false
        });
        moved_links.sort_unstable();
        moved_links.dedup();
        for dp in moved_dps {
            self.dp_timer(dp, sched);
        }
        for link in moved_links {
            self.link_timer(link, sched);
        }
    }

    /// Hands the bits the downloads across links sent up to `now` on to
    /// their DPs and links (before their load is sampled).
    pub(crate) fn settle_links(&mut self, now: SimTime) {
        let (groups, links) = (&mut self.links.groups, &mut self.links.links);
        for (&(link, dp), g) in groups.iter_mut() {
            let sent = g.pipe.take_sent(now);
            self.servers.dp_mut(DpId(dp)).relay(sent);
            links[usize::from(link)].pipe.relay(sent);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Class, Water, fill};

    fn class(cap: u64, count: u64, a: usize, b: Option<usize>) -> Class {
        let (group, rate) = (None, None);
        Class {
            cap,
            count,
            a,
            b,
            group,
            rate,
        }
    }

    /// Progressive filling over a DP (0) and a link (1): three downloads
    /// across the 30 bps link get 10 each there, and the DP's two own
    /// downloads share the 70 left of its 100; with a 45 bps DP, the five
    /// share it equally (9 each), the link having room; a download capped
    /// at its client's 4 bps keeps to it, the others share the rest.
    #[test]
    fn fill_is_max_min_over_both_resources() {
        let rates = |capacity: &[u64], mut classes: Vec<Class>| {
            fill(capacity, &mut classes, &mut Water::default());
            (classes.iter())
                .map(|c| c.rate.expect("filled"))
                .collect::<Vec<_>>()
        };
        let mix = || vec![class(1_000, 2, 0, None), class(1_000, 3, 0, Some(1))];
        assert_eq!(rates(&[100, 30], mix()), [35, 10]);
        assert_eq!(rates(&[45, 30], mix()), [9, 9]);
        let capped = vec![
            class(4, 1, 0, Some(1)),
            class(1_000, 2, 0, Some(1)),
            class(1_000, 1, 0, None),
        ];
        assert_eq!(rates(&[100, 30], capped), [4, 13, 70]);
    }

    /// Progressive filling as its definition reads, one step at a time
    /// over every class and resource (O(c²)): what [`fill`] must match.
    fn fill_by_definition(capacity: &[u64], classes: &mut [Class]) {
        let mut used = vec![0u128; capacity.len()];
        let mut flows = vec![0u64; capacity.len()];
        for c in classes.iter() {
            for r in std::iter::once(c.a).chain(c.b) {
                flows[r] += c.count;
            }
        }
        let freeze = |c: &mut Class, rate: u64, used: &mut [u128], flows: &mut [u64]| {
            c.rate = Some(rate);
            for r in std::iter::once(c.a).chain(c.b) {
                used[r] += u128::from(c.count) * u128::from(rate);
                flows[r] -= c.count;
            }
        };
        loop {
            let rising = classes.iter().filter(|c| c.rate.is_none());
            let Some(least) = rising.map(|c| c.cap).min() else {
                return;
            };
            let (level, full) = (0..capacity.len())
                .filter(|&r| flows[r] > 0)
                .map(|r| {
                    let left = u128::from(capacity[r]).saturating_sub(used[r]);
                    ((left / u128::from(flows[r])) as u64, r)
                })
                .min()
                .expect("a class is on a resource");
            for c in classes.iter_mut().filter(|c| c.rate.is_none()) {
                if least <= level {
                    if c.cap == least {
                        freeze(c, least, &mut used, &mut flows);
                    }
                } else if c.a == full || c.b == Some(full) {
                    freeze(c, level, &mut used, &mut flows);
                }
            }
        }
    }

    proptest::proptest! {
        /// On any classes over up to six resources (repeated caps, equal
        /// levels, resources too small for their flows), the heap-driven
        /// filling gives every class the rate the step-by-step definition
        /// does, and no resource carries more than its capacity; one set of
        /// buffers serves one filling after another.
        #[test]
        fn fill_matches_the_definition(
            capacity in proptest::collection::vec(0u64..3_000, 1..7),
            raw in proptest::collection::vec(
                (proptest::sample::select(vec![1u64, 7, 50, 100, 333, 1_000, 5_000]),
                 1u64..6, 0usize..6, proptest::option::of(0usize..6)),
                1..30,
            ),
        ) {
            let n = capacity.len();
            let classes = || -> Vec<Class> {
                raw.iter()
                    .map(|&(cap, count, a, b)| {
                        let b = b.map(|b| b % n).filter(|&b| b != a % n);
                        class(cap, count, a % n, b)
                    })
                    .collect()
            };
            let mut water = Water::default();
            let mut before: Vec<Class> = classes().into_iter().rev().collect();
            fill(&capacity, &mut before, &mut water);
            let mut fast = classes();
            fill(&capacity, &mut fast, &mut water);
            let mut slow = classes();
            fill_by_definition(&capacity, &mut slow);
            let rates = |cs: &[Class]| cs.iter().map(|c| c.rate).collect::<Vec<_>>();
            proptest::prop_assert_eq!(rates(&fast), rates(&slow));
            let mut load = vec![0u128; n];
            for c in &fast {
                for r in std::iter::once(c.a).chain(c.b) {
                    load[r] += u128::from(c.count) * u128::from(c.rate.expect("filled"));
                }
            }
            for r in 0..n {
                proptest::prop_assert!(load[r] <= u128::from(capacity[r]));
            }
        }
    }
}
