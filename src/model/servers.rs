//! The servers: which station serves which role, what a request asks for,
//! how long a station takes over it, and the load they carry.
//!
//! Owns [`Servers`]: the service stations (management points, then update
//! points, then each primary's state system; their queueing is the store's
//! `Stations`), the distribution points (`distribution_point.rs`'s
//! [`Dp`]), and each station's random stream of service times
//! ([`ServiceDraws`]). Samples their load for the timeline and sums them up
//! at the end. What a served request means for the client is in the role
//! files: `management_point.rs`, `update_point.rs`, `site_server.rs`.

use super::distribution_point::Dp;
use super::record::{LoadRow, ServerRecord, ServerRole};
use super::store::{Job, Settled, Stations};
use crate::engine::{EventKey, SimDuration, SimTime, StreamRng, TimerId};
use crate::estate::{ClientId, DpId, Estate, Normals, Sampler, ServerRef, SupId};

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Request {
    /// Client policy (management point).
    Policy = 0,
    /// "Where is my SUP" (management point).
    Location = 1,
    /// "Which distribution points have this content" (management point),
    /// before each download.
    ContentLocation = 2,
    /// A batch of state messages (management point).
    Batch = 3,
    /// A full scan (software update point).
    FullScan = 4,
    /// A delta scan (software update point).
    DeltaScan = 5,
    /// A batch for the site's state system.
    StateBatch = 6,
    /// A content download (distribution point).
    Download = 7,
}

impl Request {
    /// How many kinds there are.
    pub const COUNT: usize = 8;

    /// All of them, in column order.
    pub const ALL: [Request; Request::COUNT] = [
        Request::Policy,
        Request::Location,
        Request::ContentLocation,
        Request::Batch,
        Request::FullScan,
        Request::DeltaScan,
        Request::StateBatch,
        Request::Download,
    ];

    /// Column name.
    pub fn name(self) -> &'static str {
        match self {
            Request::Policy => "policy",
            Request::Location => "location",
            Request::ContentLocation => "content_location",
            Request::Batch => "state_batch",
            Request::FullScan => "full_scan",
            Request::DeltaScan => "delta_scan",
            Request::StateBatch => "state_processing",
            Request::Download => "download",
        }
    }
}

/// A station's random stream, which draws its service times and nothing
/// else; with the standard normals drawn ahead from it when each of its
/// service times is a log-normal or a fixed value (see [`Normals`]: the same
/// draws, made a block at a time).
pub(crate) struct ServiceDraws {
    rng: StreamRng,
    normals: Option<Normals>,
    /// The kind of request most drawn for (a management point's policy
    /// request, an update point's delta scan), whose draws the normals
    /// work out ahead.
    favourite: Request,
}

/// A server of an estate that clients queue at, as a run's records and
/// `summary.json`'s `servers` name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListedServer {
    /// Its name (a state system's is `{code} state system`).
    pub name: String,
    /// Its role.
    pub role: ServerRole,
    /// Its place among the estate's servers of its role (a state system's:
    /// its site's).
    pub index: usize,
}

/// An estate's servers in the order of
/// [`Outcome::servers`](super::Outcome::servers) and `summary.json`'s
/// `servers`: management points, update points, distribution points, then
/// each site's state system. The WAN links and cloud management gateways
/// the run records after them are not in it.
pub fn listed_servers(estate: &Estate) -> Vec<ListedServer> {
    let mut list = Vec::new();
    let mut add = |role: ServerRole, names: &mut dyn Iterator<Item = String>| {
        list.extend(
            names
                .enumerate()
                .map(|(index, name)| ListedServer { name, role, index }),
        );
    };
    let (mps, sups) = (&estate.management_points, &estate.update_points);
    add(
        ServerRole::ManagementPoint,
        &mut mps.iter().map(|m| m.name.clone()),
    );
    add(
        ServerRole::UpdatePoint,
        &mut sups.iter().map(|u| u.name.clone()),
    );
    let dps = &estate.distribution_points;
    add(
        ServerRole::DistributionPoint,
        &mut dps.iter().map(|d| d.name.clone()),
    );
    let primaries = estate.primaries.iter();
    add(
        ServerRole::StateSystem,
        &mut primaries.map(|p| format!("{} state system", p.code)),
    );
    list
}

/// The service-time distribution of requests of `kind` at station
/// `station` (management points, then update points, then the state
/// systems); `None` for a kind the station does not draw for (a state
/// system's time follows from the batch, a DP is no station).
pub(crate) fn service_sampler(estate: &Estate, station: usize, kind: Request) -> Option<&Sampler> {
    let n_mp = estate.management_points.len();
    match (estate.management_points.get(station), kind) {
        (Some(m), Request::Policy) => Some(&m.policy_time),
        // Both location requests go to the MP's location service.
        (Some(m), Request::Location | Request::ContentLocation) => Some(&m.location_time),
        (Some(m), Request::Batch) => Some(&m.batch_time),
        (Some(_), _) => None,
        (None, Request::FullScan | Request::DeltaScan) => {
            let u = estate.update_points.get(station - n_mp)?;
            Some(if kind == Request::FullScan {
                &u.full_scan_time
            } else {
                &u.delta_scan_time
            })
        }
        (None, _) => None,
    }
}

impl ServiceDraws {
    /// The draws of station `station`.
    pub(crate) fn new(estate: &Estate, station: usize, rng: StreamRng) -> Self {
        let drawn = |kind| service_sampler(estate, station, kind);
        let normals_only = Request::ALL
            .iter()
            .filter_map(|&kind| drawn(kind))
            .all(Sampler::takes_normals_only);
        // Its most frequent kind: an MP's policy request, a SUP's delta scan.
        let favourite = if drawn(Request::Policy).is_some() {
            Request::Policy
        } else {
            Request::DeltaScan
        };
        ServiceDraws {
            rng,
            normals: normals_only.then(|| Normals::new(drawn(favourite))),
            favourite,
        }
    }

    /// One service time from `sampler`, the station's own for requests of
    /// `kind`.
    #[inline]
    pub(crate) fn sample(&mut self, sampler: &Sampler, kind: Request) -> SimDuration {
        let rng = &mut self.rng;
        match &mut self.normals {
            Some(normals) => {
                let ahead = (kind == self.favourite)
                    .then(|| normals.next_favourite(rng))
                    .flatten();
                ahead.unwrap_or_else(|| sampler.sample_with(|| normals.next(rng)))
            }
            None => sampler.sample(rng),
        }
    }
}

/// Every server of a run.
pub(crate) struct Servers {
    stations: Stations,
    draws: Vec<ServiceDraws>,
    dps: Vec<Dp>,
    n_mp: usize,
    n_sup: usize,
    /// Scratch space, kept to save allocations: requests failed by an
    /// outage, downloads finished at a tick, silent endings woken.
    pub(crate) scratch_jobs: Vec<(Job, Option<TimerId>)>,
    pub(crate) scratch_clients: Vec<ClientId>,
    pub(crate) scratch_keys: Vec<(EventKey, u16)>,
}

impl Servers {
    /// The estate's servers, each station with its own stream of service
    /// times (`streams(i)` is station `i`'s).
    pub(crate) fn new(estate: &Estate, mut streams: impl FnMut(usize) -> StreamRng) -> Self {
        let shapes = (estate.management_points.iter())
            .map(|m| (m.workers, m.queue_limit))
            .chain((estate.update_points.iter()).map(|u| (u.scan_slots, u.queue_limit)))
            .chain((estate.primaries.iter()).map(|p| (p.state_system_threads, u32::MAX)));
        let stations = Stations::new(shapes);
        let draws = (0..stations.len())
            .map(|i| ServiceDraws::new(estate, i, streams(i)))
            .collect();
        Servers {
            stations,
            draws,
            dps: estate
                .distribution_points
                .iter()
                .map(|d| Dp::new(d.bandwidth_bps, d.max_connections))
                .collect(),
            n_mp: estate.management_points.len(),
            n_sup: estate.update_points.len(),
            scratch_jobs: Vec::new(),
            scratch_clients: Vec::new(),
            scratch_keys: Vec::new(),
        }
    }

    /// The stations (whose every read or change takes a [`Settled`]).
    #[inline]
    pub(crate) fn stations(&self) -> &Stations {
        &self.stations
    }

    /// The stations, to change.
    #[inline]
    pub(crate) fn stations_mut(&mut self) -> &mut Stations {
        &mut self.stations
    }

    /// How many stations there are.
    pub(crate) fn station_count(&self) -> usize {
        self.stations.len()
    }

    /// How many servers there are: the stations and the DPs.
    pub(crate) fn count(&self) -> usize {
        self.stations.len() + self.dps.len()
    }

    /// The management points' stations.
    pub(crate) fn management_points(&self) -> std::ops::Range<usize> {
        0..self.n_mp
    }

    /// The station of a SUP.
    pub(crate) fn sup_station(&self, sup: SupId) -> usize {
        self.n_mp + sup.index()
    }

    /// The state system's station of primary `site`.
    pub(crate) fn state_station(&self, site: usize) -> usize {
        self.n_mp + self.n_sup + site
    }

    /// The station of a management point or SUP.
    pub(crate) fn station_of(&self, server: ServerRef) -> usize {
        match server {
            ServerRef::Mp(m) => m.index(),
            ServerRef::Sup(s) => self.sup_station(s),
            ServerRef::Dp(_) | ServerRef::Link(_) => {
                unreachable!("distribution points and WAN links are not stations")
            }
        }
    }

    /// A service time from station `station`'s stream for a request of
    /// `kind` (one it draws for).
    #[inline]
    pub(crate) fn draw(&mut self, station: usize, sampler: &Sampler, kind: Request) -> SimDuration {
        self.draws[station].sample(sampler, kind)
    }

    /// Distribution point `dp`.
    #[inline]
    pub(crate) fn dp(&self, dp: DpId) -> &Dp {
        &self.dps[dp.index()]
    }

    /// Distribution point `dp`, to change.
    #[inline]
    pub(crate) fn dp_mut(&mut self, dp: DpId) -> &mut Dp {
        &mut self.dps[dp.index()]
    }

    /// Downloads the DPs are serving or that wait for one of their
    /// connections (not those across WAN links).
    pub(crate) fn downloads_under_way(&self) -> u64 {
        self.dps.iter().map(Dp::downloads_under_way).sum()
    }

    /// One load row per server for the interval that ends now, in
    /// [`Outcome::servers`](super::Outcome::servers) order; `settled[i]`
    /// is station `i`'s handle.
    pub(crate) fn sample_load(
        &mut self,
        now: SimTime,
        settled: &[Settled],
        rows: &mut Vec<LoadRow>,
    ) {
        let start = rows.len();
        let n_dp = self.dps.len();
        for at in settled {
            let i = at.station();
            // Outcome order: MPs, SUPs, DPs, the state systems.
            let server = if i < self.n_mp + self.n_sup {
                i
            } else {
                i + n_dp
            };
            let s = self.stations.sample(at);
            rows.push(LoadRow {
                time: now,
                server,
                counts: s.counts,
                queue: s.queued,
                busy: s.busy,
                most_queue: s.most_queued,
                most_busy: s.most_busy,
                bytes: s.bytes,
                down: s.down,
            });
        }
        for (i, d) in self.dps.iter_mut().enumerate() {
            rows.push(d.sample(now, self.n_mp + self.n_sup + i));
        }
        rows[start..].sort_unstable_by_key(|r| (r.time, r.server));
    }

    /// Counts every DP's time up to `now` (the end of the run).
    pub(crate) fn close_dps(&mut self, now: SimTime) {
        for d in &mut self.dps {
            d.close(now);
        }
    }

    /// Every server's figures over the run, in
    /// [`Outcome::servers`](super::Outcome::servers) order.
    pub(crate) fn records(&self, estate: &Estate, settled: &[Settled]) -> Vec<ServerRecord> {
        let station = |i: usize, name: &str, role: ServerRole, limit: Option<u32>| {
            let s = self.stations.totals(&settled[i]);
            ServerRecord {
                name: name.to_string(),
                role,
                capacity: s.workers,
                queue_limit: limit,
                total: s.total,
                peak_queue: s.peak_queue,
                peak_busy: s.peak_busy,
                wait: s.wait,
                bytes: s.bytes,
                busy: s.busy,
                peak_bps: 0,
            }
        };
        (listed_servers(estate).into_iter())
            .map(|s| match s.role {
                ServerRole::ManagementPoint => {
                    let limit = estate.management_points[s.index].queue_limit;
                    station(s.index, &s.name, s.role, Some(limit))
                }
                ServerRole::UpdatePoint => {
                    let limit = estate.update_points[s.index].queue_limit;
                    station(self.n_mp + s.index, &s.name, s.role, Some(limit))
                }
                ServerRole::DistributionPoint => {
                    self.dps[s.index].record(&estate.distribution_points[s.index])
                }
                ServerRole::StateSystem => {
                    station(self.state_station(s.index), &s.name, s.role, None)
                }
                ServerRole::CloudManagementGateway | ServerRole::WanLink => {
                    unreachable!("listed_servers lists no {}", s.role.name())
                }
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! The queueing arithmetic on cases with a known answer, driven through
    //! the world's own plumbing.

    use super::*;
    use crate::engine::{Scheduler, Simulation};
    use crate::model::events::Event;
    use crate::model::store::Offer;
    use crate::model::world::World;

    /// An estate of `clients` always-on clients on the given servers.
    pub(crate) fn estate(servers: &str, clients: u32) -> Estate {
        let text = format!(
            r#"Scenario(
                name: "q", start: "2026-11-09T00:00:00Z", duration: "2d",
                servers: Servers({servers}),
                cohorts: [Cohort(name: "all", count: {clients}, link: "1Gbps", management_point: "mp",
                                 update_point: "sup", distribution_point: "dp")],
                updates: [Update(id: "U", size: "100MB")],
                deployments: [Deployment(name: "d", updates: ["U"], targets: ["all"], created: "2026-11-10T00:00:00Z")],
            )"#
        );
        let raw = crate::scenario::parse(&text, "q.ron").unwrap_or_else(|e| panic!("{e}"));
        crate::scenario::build(raw, "q.ron").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `setup` at time zero on a world whose clients do nothing else,
    /// then returns the simulation for stepping.
    pub(crate) fn sim<'e>(
        estate: &'e Estate,
        setup: impl FnOnce(&mut World<'e>, &mut Scheduler<'_, Event>),
    ) -> Simulation<World<'e>> {
        let mut sim = Simulation::new(World::new(estate));
        sim.setup(setup);
        sim
    }

    /// Station `station`'s figures over the run so far, settled up to now.
    fn totals(
        sim: &mut Simulation<World<'_>>,
        station: usize,
    ) -> super::super::store::StationTotals {
        let upto = EventKey {
            time: sim.now(),
            seq: u64::MAX,
        };
        let world = sim.model_mut();
        let at = world.settle(station, upto);
        world.servers.stations().totals(&at)
    }

    /// N scans of fixed length d arriving together at c slots all finish at
    /// ceil(N/c)·d, and not a millisecond earlier.
    #[test]
    fn scans_at_slots_finish_at_ceil_n_over_c_times_d() {
        for (n, c) in [(100u32, 8u32), (64, 8), (7, 10)] {
            let estate = estate(
                &format!(
                    r#"management_points: [ManagementPoint(name: "mp")],
                       update_points: [UpdatePoint(name: "sup", scan_slots: {c}, queue_limit: 1000, full_scan_time: Fixed("90s"))],
                       distribution_points: [DistributionPoint(name: "dp")],"#
                ),
                n,
            );
            let station = estate.management_points.len();
            let mut sim = sim(&estate, |w, sched| {
                for i in 0..n {
                    let job = w.job(ClientId(i), Request::FullScan, SimTime::ZERO);
                    assert_ne!(w.offer(station, job, sched), Offer::Rejected);
                }
            });
            let done = SimTime(u64::from(n.div_ceil(c)) * 90_000);
            sim.run_until(SimTime(done.as_ms() - 1));
            let served =
                |t: &super::super::store::StationTotals| t.total.served[Request::FullScan as usize];
            assert!(served(&totals(&mut sim, station)) < u64::from(n));
            sim.run_until(done);
            let s = totals(&mut sim, station);
            assert_eq!(served(&s), u64::from(n), "n={n} c={c}");
            assert_eq!(s.peak_busy, c.min(n), "never more than the slots");
        }
    }

    /// A queue limit of q behind c workers rejects exactly the arrivals
    /// beyond c + q.
    #[test]
    fn queue_limit_rejects_exactly_the_excess() {
        let estate = estate(
            r#"management_points: [ManagementPoint(name: "mp", workers: 4, queue_limit: 10)],
               update_points: [UpdatePoint(name: "sup")],
               distribution_points: [DistributionPoint(name: "dp")],"#,
            30,
        );
        let mut sim = sim(&estate, |w, sched| {
            for i in 0..30 {
                let job = w.job(ClientId(i), Request::Policy, SimTime::ZERO);
                w.offer(0, job, sched);
            }
        });
        let s = totals(&mut sim, 0);
        assert_eq!(s.total.rejected[Request::Policy as usize], 16);
        assert_eq!((s.peak_busy, s.peak_queue), (4, 10));
    }
}
