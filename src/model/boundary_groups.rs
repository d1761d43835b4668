//! Boundary-group fallback for content.
//!
//! A location is a boundary group. A client whose own DP cannot give it
//! the content (the DP is down, or the content is still crossing the WAN
//! link to it) keeps asking, every `download_retry`. Once it has looked
//! for its location's `dp_fallback` time, the DPs of its site's default
//! boundary group join its pool: it downloads from one of them, across
//! its location's link, as a client of a location without a DP does. Its
//! own DP comes first again as soon as it can serve.
//!
//! Owns [`Fallbacks`]: since when each client has been looking (empty
//! unless a scenario puts a DP in a default boundary group). A download
//! that fell back is the WAN link's, which knows its DP. Nothing here
//! draws a random number.

use std::collections::BTreeMap;

use super::events::Event;
use super::servers::Request;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, DeploymentId, DpId, Estate};

/// Who can fall back, and who is looking for content.
#[derive(Default)]
pub(crate) struct Fallbacks {
    /// The DPs in a default boundary group, in the scenario's order.
    default_dps: Vec<DpId>,
    /// Per cohort, how long its clients look before they fall back, if
    /// they can: it is in a location whose fallback is not blocked, and
    /// its site's default boundary group has a DP other than its own.
    after: Vec<Option<SimDuration>>,
    /// Since when each client has looked for content its own DP could
    /// not give.
    searching: BTreeMap<ClientId, SimTime>,
}

impl Fallbacks {
    pub(crate) fn new(estate: &Estate) -> Self {
        let dps = &estate.distribution_points;
        let default_dps: Vec<DpId> = (dps.iter().enumerate())
            .filter(|(_, d)| d.default_boundary_group)
            .map(|(i, _)| DpId(i as u16))
            .collect();
        let after = (estate.cohorts.iter())
            .map(|cohort| {
                let after = estate.locations[cohort.location?.index()].dp_fallback?;
                (default_dps.iter())
                    .any(|&dp| Some(dp) != cohort.dp && dps[dp.index()].site == cohort.site)
                    .then_some(after)
            })
            .collect();
        Fallbacks {
            default_dps,
            after,
            searching: BTreeMap::new(),
        }
    }
}

impl World<'_> {
    /// Client `c`'s own DP could not give it content now: it has been
    /// looking since now, unless it already was. Kept only for clients
    /// that can fall back.
    pub(crate) fn content_missing(&mut self, c: ClientId, now: SimTime) {
        if self.fallback_after(c).is_some() {
            self.links.fallbacks.searching.entry(c).or_insert(now);
        }
    }

    /// Client `c` found its content: it is no longer looking.
    pub(crate) fn content_found(&mut self, c: ClientId) {
        if !self.links.fallbacks.searching.is_empty() {
            self.links.fallbacks.searching.remove(&c);
        }
    }

    /// How long client `c` looks before it falls back, if it can.
    fn fallback_after(&self, c: ClientId) -> Option<SimDuration> {
        let after = &self.links.fallbacks.after;
        // Empty without locations.
        after.get(self.clients.cohort(c).index()).copied().flatten()
    }

    /// The default-group DP client `c` downloads `d` from now, if it falls
    /// back: its own DP cannot serve `d` (down, or without the content),
    /// it has looked for its location's fallback time, and a DP of its
    /// site's default boundary group is up. Among several, client `c`
    /// starts at the `c mod n`-th, so that the clients spread over them.
    pub(crate) fn fallback_dp(&self, c: ClientId, d: DeploymentId, now: SimTime) -> Option<DpId> {
        let since = *self.links.fallbacks.searching.get(&c)?;
        let after = self.fallback_after(c)?;
        let cohort = self.cohort(c);
        let own = self.own_dp(c);
        if now < since + after || (!self.servers.dp(own).is_down() && self.content_on_dp(own, d)) {
            return None;
        }
        let dps = &self.estate.distribution_points;
        let pool: Vec<DpId> = (self.links.fallbacks.default_dps.iter())
            .copied()
            .filter(|&dp| dp != own && dps[dp.index()].site == cohort.site)
            .collect();
        let start = c.index() % pool.len();
        (0..pool.len())
            .map(|k| pool[(start + k) % pool.len()])
            .find(|&dp| !self.servers.dp(dp).is_down())
    }

    /// Client `c` asks DP `dp` of its site's default boundary group (its
    /// [`fallback_dp`](Self::fallback_dp)) for the `bytes` of `d` it
    /// lacks, across its location's link; false if the link is down (the
    /// request failed at once). Its trace says so before the download
    /// starts.
    pub(crate) fn fall_back(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        dp: DpId,
        bytes: u64,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        let now = sched.now();
        let link = self
            .cohort(c)
            .location
            .expect("only a client of a location falls back");
        self.recorder
            .trace(now, Some(c), || TraceEvent::DpFallback {
                deployment: d,
                dp: u64::from(dp.0),
            });
        self.recorder
            .trace(now, Some(c), || TraceEvent::DownloadStart {
                deployment: d,
                bytes,
            });
        self.recorder.totals.dp_fallbacks += 1;
        self.servers.dp_mut(dp).count(Request::Download, 1, 0, 0);
        self.link_request(link, c, dp, bytes, sched)
    }
}
