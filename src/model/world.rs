//! The world: every piece of live state of one run, and the event dispatch.
//!
//! Owns [`World`] (arenas of clients, per-update and per-deployment state)
//! and [`run`]. The behaviours are in the files named after what they model;
//! this file wires events to them and keeps the compliance counters right.

use std::collections::VecDeque;

use rand::Rng;
use smallvec::SmallVec;

use super::client::RestartCause;
use super::compliance::{self, Cell, Compliance, Counts, Phase, Truth};
use super::distribution_point::Dp;
use super::events::Event;
use super::outbox::Outboxes;
use super::record::{CohortBreakdown, CohortTimingLog, LoadRow, ServerRecord, ServerRole};
use super::record::{
    DeploymentRecord, HistogramLog, LiveAssignment, Outcome, SampleRow, SyncKind, SyncRecord,
    THRESHOLDS, Thresholds, Totals, UpdateRow, ms_histogram,
};
use super::station::{Job, Offer, Request, ServiceDraws, Station, service_sampler};
use super::trace::{TraceEvent, TraceRecord, Tracer};
use crate::engine::{
    CounterRng, CounterSession, EventKey, Model, PeriodicId, RunStats, Scheduler, SimDuration,
    SimTime, Simulation, StreamRng, Streams, TimerId, arena, arena_with_capacity,
};
use crate::estate::ServerRef;
use crate::estate::{ClientId, DeploymentId, UpdateId};
use crate::estate::{Estate, PowerSpec, Settings};

/// Stream families: one stream per entity of each.
pub(crate) mod family {
    /// A client's behaviour (phases, durations, user choices).
    pub const CLIENT: u16 = 0;
    /// Which updates apply to a client and whether its GPO conflicts
    /// (drawn once, at the start).
    pub const APPLICABILITY: u16 = 1;
    /// The site server (content distribution, syncs).
    pub const SITE: u16 = 2;
    /// A server (management point, update point, state system).
    pub const SERVER: u16 = 3;
}

/// What a client is doing right now (at most one thing at a time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Idle,
    Scan,
    Download(DeploymentId),
    Install(DeploymentId),
    Restart,
}

/// A state message waiting on a client or in transit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StateMsg {
    /// Topic type (500 detection, 501 scan, 300 compliance, 301 enforcement,
    /// 302 evaluation, 402 update enforcement).
    pub(crate) topic: u16,
    /// State id within the topic.
    pub(crate) state: u8,
    /// The update (topics 500, 402) or deployment (topics 30x) it is about.
    pub(crate) subject: u16,
    /// When the client queued it.
    pub(crate) queued_at: SimTime,
}

/// The bits of [`World::poll`], a client's byte of what its policy polls
/// read and write (issue 7: at a million clients a poll read `Hot`'s 16
/// bytes from memory; a byte each stays in the cache).
pub(crate) mod poll {
    /// Switched on.
    pub(crate) const ONLINE: u8 = 1;
    /// A policy request is out.
    pub(crate) const PENDING: u8 = 2;
    /// Its periodic poll chain is running (it stops while the client is off).
    pub(crate) const POLLING: u8 = 4;
    /// `Hot::mp_failures` is not zero.
    pub(crate) const FAILING: u8 = 8;
    /// It has everything its site has published, so an answer to its
    /// policy request is empty (see `World::refresh_current`).
    pub(crate) const CURRENT: u8 = 16;
}

/// The bytes of a client that many of its events read besides its
/// [`poll`] byte (a policy poll reads only that byte), inside its
/// [`Client`] record, aligned to 16 so that they never straddle two cache
/// lines. They were an array of their own while the record was larger; in
/// the record's spare bytes, an event that reads both loads one line less,
/// which at a million clients is a fetch from memory (issue 7).
#[derive(Clone, Copy, Debug)]
#[repr(align(16))]
pub(crate) struct Hot {
    pub(crate) cohort: u16,
    /// How many of its site's published deployments it has learned.
    pub(crate) known_deployments: u16,
    /// Failed MP requests in a row (for the backoff; [`poll::FAILING`]
    /// says whether it is not zero).
    pub(crate) mp_failures: u8,
    /// It has the software updates policy (metadata available, SUP location).
    pub(crate) has_update_policy: bool,
    /// Its last scan state (topic 501) in the site database, and in the
    /// CAS's (a hierarchy only).
    pub(crate) reported_scan: u8,
    pub(crate) cas_reported_scan: u8,
}

/// One client's state of one update: what is true, what it last queued,
/// and what the site's and the CAS's databases hold. One small record per
/// (client, update), so a client's updates share a cache line instead of
/// spreading over four arrays (issue 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientUpdate {
    /// What is really on the client.
    pub(crate) truth: Truth,
    /// The site database's detection state (topic 500 ids).
    pub(crate) reported: u8,
    /// The detection state the client last queued: clients send detection
    /// messages only for changes.
    pub(crate) sent: u8,
    /// The CAS database's detection state (a hierarchy only; else unused).
    pub(crate) cas_reported: u8,
}

/// One client's live state, its [`Hot`] bytes included (its queue of state
/// messages is in [`Outboxes`]): two cache lines, aligned, so a record
/// never spans a third.
#[repr(align(64))]
pub(crate) struct Client {
    /// The bytes most events read first (see [`Hot`]).
    pub(crate) hot: Hot,
    /// Where it is in its random stream, in 32-bit words (issue 7: a stored
    /// generator would be 320 bytes a client; the stream itself follows
    /// from the seed and the client's index, see [`Client::rng`]).
    pub(crate) draws: u64,
    pub(crate) action_timer: Option<TimerId>,
    pub(crate) restart_timer: Option<TimerId>,
    pub(crate) action_started: SimTime,
    pub(crate) last_batch: SimTime,
    /// When the next scheduled or first scan is due (`MAX`: none).
    pub(crate) scan_due: SimTime,
    /// Since when a restart has been pending (`MAX`: none).
    pub(crate) restart_pending_since: SimTime,
    pub(crate) batches: u32,
    pub(crate) action: Action,
    /// Its domain GPO names another update server.
    pub(crate) gpo_conflict: bool,
    /// A deployment re-evaluation is due.
    pub(crate) reevaluation_due: bool,
    /// The restart notification ran out while it was busy installing.
    pub(crate) restart_waiting: bool,
    /// Why the planned restart happens.
    pub(crate) restart_cause: RestartCause,
    /// It was switched off with an install pending restart: the next
    /// power-on completes the restart.
    pub(crate) restarted_by_shutdown: bool,
    /// A power-off came while installing; it happens when the install ends.
    pub(crate) power_off_waiting: bool,
    /// Which scan attempt is current (server answers to older ones are
    /// ignored).
    pub(crate) scan_token: u32,
    /// The SUP it last scanned against (`u16::MAX`: none): a scan against
    /// any other is a full scan.
    pub(crate) scanned_sup: u16,
    /// Position in its cohort's SUP list.
    pub(crate) sup_index: u8,
    /// Failed scan tries against the current SUP in a row.
    pub(crate) sup_failures: u8,
    /// It must ask its MP where its SUP is before scanning.
    pub(crate) needs_location: bool,
    /// A batch is with its MP.
    pub(crate) batch_in_flight: bool,
    /// Its reporting cycle's offset, ms: ticks at `phase + k·interval`.
    pub(crate) report_phase: u32,
    /// A reporting tick is scheduled for it.
    pub(crate) report_armed: bool,
    /// Its policy polls: a periodic timer (made in [`World::start`]) at
    /// `poll_phase + k·interval` ms.
    pub(crate) poll_timer: Option<PeriodicId>,
    pub(crate) poll_phase: u32,
}

impl Client {
    /// Its random stream (`family::CLIENT`, its index) at its position.
    /// Draws move the position on; it is written back when the stream is
    /// dropped.
    pub(crate) fn rng(&mut self, streams: Streams, c: ClientId) -> ClientRng<'_> {
        ClientRng {
            rng: self.stream(streams, c),
            draws: &mut self.draws,
        }
    }

    /// The same stream as a value; whoever draws from it stores its
    /// `word_pos` back in `draws`.
    pub(crate) fn stream(&self, streams: Streams, c: ClientId) -> CounterRng {
        streams
            .counter(family::CLIENT, u64::from(c.0))
            .with_word_pos(self.draws)
    }
}

/// A client's random stream, borrowed from its record (see [`Client::rng`]).
pub(crate) struct ClientRng<'a> {
    rng: CounterRng,
    draws: &'a mut u64,
}

impl ClientRng<'_> {
    /// Several draws through one ChaCha block (see [`CounterRng::session`]).
    pub(crate) fn session(&mut self) -> CounterSession<'_> {
        self.rng.session()
    }
}

impl Drop for ClientRng<'_> {
    fn drop(&mut self) {
        *self.draws = self.rng.word_pos();
    }
}

impl rand::RngCore for ClientRng<'_> {
    #[inline]
    fn next_u32(&mut self) -> u32 {
        self.rng.next_u32()
    }

    #[inline]
    fn next_u64(&mut self) -> u64 {
        self.rng.next_u64()
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.rng.fill_bytes(dest)
    }
}

/// Per-deployment live state.
pub(crate) struct DeploymentState {
    pub(crate) targeted_cohort: Vec<bool>,
    pub(crate) assignments: Vec<LiveAssignment>,
    /// Per client, apart from its assignment (only the results read them):
    /// when it learned the deployment, when its first install began
    /// (`SimTime::MAX`: never).
    pub(crate) started: Vec<[SimTime; 2]>,
    /// In a hierarchy: the counts per primary, as its database shows them
    /// (the top-level counts are the CAS's).
    pub(crate) site_counts: Vec<Counts>,
    /// When its policy was published at each primary.
    pub(crate) site_published_at: Vec<Option<SimTime>>,
    pub(crate) counts: Counts,
    pub(crate) targeted: u32,
    pub(crate) published_at: Option<SimTime>,
    pub(crate) thresholds: Thresholds,
    pub(crate) ttc_true: hdrhistogram::Histogram<u64>,
    pub(crate) ttc_reported: hdrhistogram::Histogram<u64>,
    /// Per cohort: time to compliant, true and reported.
    pub(crate) ttc_by_cohort: Vec<(hdrhistogram::Histogram<u64>, hdrhistogram::Histogram<u64>)>,
}

/// Messages a batch holds without a separate allocation.
const BATCH_INLINE: usize = 3;

/// A batch of state messages on its way from a client to the database.
/// One cache line, aligned to it.
#[derive(Default)]
#[repr(align(64))]
pub(crate) struct BatchData {
    pub(crate) client: ClientId,
    /// Its messages; a batch holds two or three as a rule, kept inline so
    /// that the batch's record and its messages are one read.
    pub(crate) messages: SmallVec<[StateMsg; BATCH_INLINE]>,
    /// The state system has finished it (it commits in arrival order).
    pub(crate) done: bool,
    /// Committed to its site's database (and waiting for replication).
    pub(crate) in_database: bool,
}

/// A primary site's live state: its catalog, its policy.
pub(crate) struct SiteState {
    /// When each update's metadata reached this site's SUPs and database
    /// (`MAX`: not yet).
    pub(crate) synced_at: Vec<SimTime>,
    /// The software updates policy is published here.
    pub(crate) update_policy_published: bool,
    /// Deployments in the order their policy was published here.
    pub(crate) published: Vec<DeploymentId>,
    /// Deployments whose content is ready here but whose updates are not
    /// synced here yet.
    pub(crate) awaiting_sync: Vec<DeploymentId>,
}

/// The sync in progress.
pub(crate) struct RunningSync {
    /// Index into `syncs`.
    pub(crate) record: usize,
    /// When WSUS's download is done.
    pub(crate) wsus_done: SimTime,
}

/// The whole simulated estate while it runs.
pub struct World<'e> {
    pub(crate) estate: &'e Estate,
    pub(crate) tracer: Option<Tracer<'e>>,
    /// Simulate every reporting tick of every client, even those that send
    /// nothing (for testing the fast path against it).
    pub(crate) explicit_report_cycles: bool,
    /// Clients whose reporting tick may need scheduling after this event.
    pub(crate) report_dirty: Vec<ClientId>,
    pub(crate) clients: Vec<Client>,
    /// Their queues of state messages.
    pub(crate) outboxes: Outboxes,
    /// What a policy poll reads and writes of each client, a byte each
    /// ([`poll`]'s bits): a megabyte at a million clients, which stays in
    /// the cache where their records do not.
    pub(crate) poll: Vec<u8>,
    /// When each client's planned restart happens (valid while its
    /// `restart_timer` is set): read only when a restart is planned again,
    /// so it lives apart from the record, which it would push past two
    /// cache lines.
    pub(crate) restart_at: Vec<SimTime>,
    /// Each client's state of each update, true and reported,
    /// `[client * updates + update]` (see [`World::slot`]).
    pub(crate) updates_of: Vec<ClientUpdate>,
    /// Per-update counts over all clients, true and reported.
    pub(crate) update_truth: Vec<[u32; 4]>,
    pub(crate) update_reported: Vec<[u32; 4]>,
    pub(crate) deployments: Vec<DeploymentState>,
    /// The primary sites.
    pub(crate) sites: Vec<SiteState>,
    /// When each update's metadata reached the top-level site database
    /// (`MAX`: not yet).
    pub(crate) synced_at: Vec<SimTime>,
    pub(crate) running_sync: Option<RunningSync>,
    /// A manual sync was triggered while another ran.
    pub(crate) sync_waiting: bool,
    pub(crate) syncs: Vec<SyncRecord>,
    /// Batches between a client and the database, by slot; free slots.
    pub(crate) batch_store: Vec<BatchData>,
    pub(crate) free_batches: Vec<u32>,
    /// Batches at each site's state system, in arrival order.
    pub(crate) state_order: Vec<VecDeque<u32>>,
    /// Stations: management points, then update points, then the state
    /// system; each with its own random stream.
    pub(crate) stations: Vec<Station>,
    pub(crate) station_draws: Vec<ServiceDraws>,
    pub(crate) dps: Vec<Dp>,
    pub(crate) load: Vec<LoadRow>,
    pub(crate) scratch_jobs: Vec<(Job, Option<TimerId>)>,
    pub(crate) scratch_clients: Vec<ClientId>,
    pub(crate) scratch_keys: Vec<(EventKey, u16)>,
    pub(crate) site_rng: StreamRng,
    /// The run's streams (clients draw from theirs through [`Client::rng`]).
    pub(crate) streams: Streams,
    pub(crate) totals: Totals,
    pub(crate) timeline: Vec<SampleRow>,
    /// In a hierarchy: the timeline per primary site.
    pub(crate) site_timeline: Vec<SampleRow>,
    pub(crate) update_timeline: Vec<UpdateRow>,
    /// Every state message's latency (one histogram).
    pub(crate) message_latency: HistogramLog,
    pub(crate) min_batch_gap: Option<SimDuration>,
    pub(crate) gpo_conflicts: Vec<u32>,
    pub(crate) cohort_timings: CohortTimingLog,
}

impl<'e> World<'e> {
    /// A world at time zero: clients built, applicability and GPO conflicts
    /// drawn, nothing scheduled yet (see [`World::start`]).
    pub fn new(estate: &'e Estate) -> Self {
        let streams = Streams::new(estate.seed);
        let n_clients = estate.client_count() as usize;
        let n_updates = estate.updates.len();
        let synced_at: Vec<SimTime> = estate.initially_synced_at();

        // The per-client arenas, in huge pages where the system allows.
        let mut clients = arena_with_capacity(n_clients);
        let mut updates_of = arena_with_capacity(n_clients * n_updates);
        let mut gpo_conflicts = vec![0; estate.cohorts.len()];
        for (k, cohort) in estate.cohorts.iter().enumerate() {
            for i in 0..cohort.count {
                let id = u64::from(cohort.first_client + i);
                let mut draws = streams.stream(family::APPLICABILITY, id);
                let gpo_conflict = draws.random::<f64>() < cohort.gpo_conflict;
                gpo_conflicts[k] += u32::from(gpo_conflict);
                for u in &estate.updates {
                    let draw: f64 = draws.random();
                    let truth = if gpo_conflict {
                        Truth::Unmanaged
                    } else if draw < u.applicability {
                        Truth::Missing
                    } else {
                        Truth::NotRequired
                    };
                    updates_of.push(ClientUpdate {
                        truth,
                        reported: compliance::DETECTION_UNKNOWN,
                        sent: compliance::DETECTION_UNKNOWN,
                        cas_reported: compliance::DETECTION_UNKNOWN,
                    });
                }
                clients.push(Client {
                    hot: Hot {
                        cohort: k as u16,
                        known_deployments: 0,
                        mp_failures: 0,
                        has_update_policy: estate.sync.initially_synced,
                        reported_scan: 0,
                        cas_reported_scan: 0,
                    },
                    draws: 0,
                    action_timer: None,
                    restart_timer: None,
                    action_started: SimTime::ZERO,
                    last_batch: SimTime::ZERO,
                    scan_due: SimTime::MAX,
                    restart_pending_since: SimTime::MAX,
                    batches: 0,
                    action: Action::Idle,
                    gpo_conflict,
                    reevaluation_due: false,
                    restart_waiting: false,
                    restart_cause: RestartCause::User,
                    restarted_by_shutdown: false,
                    power_off_waiting: false,
                    scan_token: 0,
                    scanned_sup: if estate.sync.initially_synced {
                        cohort.sups[0].0
                    } else {
                        u16::MAX
                    },
                    sup_index: 0,
                    sup_failures: 0,
                    needs_location: false,
                    batch_in_flight: false,
                    report_phase: 0,
                    report_armed: false,
                    poll_timer: None,
                    poll_phase: 0,
                });
            }
        }
        // The site already holds every managed client's state for updates
        // synced before the start.
        let mut update_truth = vec![[0u32; 4]; n_updates];
        let mut update_reported = vec![[0u32; 4]; n_updates];
        for (slot, s) in updates_of.iter_mut().enumerate() {
            let u = slot % n_updates;
            if synced_at[u] == SimTime::ZERO {
                s.reported = s.truth.detection_state();
            }
            // The CAS's database starts as the primaries' (a hierarchy).
            s.cas_reported = s.reported;
            s.sent = s.reported;
            update_truth[u][s.truth.compliance() as usize] += 1;
            update_reported[u][detection_compliance(s.reported) as usize] += 1;
        }

        let mut world = World {
            estate,
            tracer: None,
            explicit_report_cycles: false,
            report_dirty: Vec::new(),
            outboxes: Outboxes::new(n_clients),
            clients,
            poll: arena(n_clients, poll::POLLING),
            restart_at: arena(n_clients, SimTime::MAX),
            updates_of,
            update_truth,
            update_reported,
            deployments: Vec::with_capacity(estate.deployments.len()),
            sites: estate
                .primaries
                .iter()
                .map(|_| SiteState {
                    synced_at: synced_at.clone(),
                    update_policy_published: estate.sync.initially_synced,
                    published: Vec::new(),
                    awaiting_sync: Vec::new(),
                })
                .collect(),
            synced_at,
            running_sync: None,
            sync_waiting: false,
            syncs: Vec::new(),
            batch_store: Vec::new(),
            free_batches: Vec::new(),
            state_order: vec![VecDeque::new(); estate.primaries.len()],
            stations: estate
                .management_points
                .iter()
                .map(|m| Station::new(m.workers, m.queue_limit))
                .chain(
                    estate
                        .update_points
                        .iter()
                        .map(|u| Station::new(u.scan_slots, u.queue_limit)),
                )
                .chain(
                    estate
                        .primaries
                        .iter()
                        .map(|p| Station::new(p.state_system_threads, u32::MAX)),
                )
                .collect(),
            station_draws: (0..estate.management_points.len()
                + estate.update_points.len()
                + estate.primaries.len())
                .map(|i| ServiceDraws::new(estate, i, streams.stream(family::SERVER, i as u64)))
                .collect(),
            dps: estate
                .distribution_points
                .iter()
                .map(|d| Dp::new(d.bandwidth_bps, d.max_connections))
                .collect(),
            load: Vec::new(),
            scratch_jobs: Vec::new(),
            scratch_clients: Vec::new(),
            scratch_keys: Vec::new(),
            site_rng: streams.stream(family::SITE, 0),
            streams,
            totals: Totals::default(),
            timeline: Vec::new(),
            site_timeline: Vec::new(),
            update_timeline: Vec::new(),
            message_latency: HistogramLog::new(1),
            min_batch_gap: None,
            gpo_conflicts,
            cohort_timings: CohortTimingLog::new(estate.cohorts.len()),
        };
        for spec in &estate.deployments {
            let mut targeted_cohort = vec![false; estate.cohorts.len()];
            for c in &spec.targets {
                targeted_cohort[c.index()] = true;
            }
            let mut dep = DeploymentState {
                assignments: arena(n_clients, LiveAssignment::UNTARGETED),
                started: arena(n_clients, [SimTime::MAX; 2]),
                site_counts: if estate.hierarchy {
                    vec![Counts::default(); estate.primaries.len()]
                } else {
                    Vec::new()
                },
                site_published_at: vec![None; estate.primaries.len()],
                counts: Counts::default(),
                targeted: spec.targeted(estate),
                published_at: None,
                thresholds: Thresholds::default(),
                ttc_true: ms_histogram(),
                ttc_reported: ms_histogram(),
                ttc_by_cohort: estate
                    .cohorts
                    .iter()
                    .map(|_| (ms_histogram(), ms_histogram()))
                    .collect(),
                targeted_cohort,
            };
            for cohort in spec.targets.iter().map(|c| &estate.cohorts[c.index()]) {
                for c in cohort.first_client..cohort.first_client + cohort.count {
                    dep.assignments[c as usize].phase = Phase::Unaware;
                }
            }
            world.deployments.push(dep);
        }
        // Initial cells and counts.
        for d in 0..world.deployments.len() {
            for c in 0..n_clients {
                if !world.deployments[d].assignments[c].is_targeted() {
                    continue;
                }
                let (t, r, site_view) =
                    world.cells(ClientId(c as u32), DeploymentId(d as u16), true);
                let site = estate.cohorts[usize::from(world.clients[c].hot.cohort)]
                    .site
                    .index();
                let dep = &mut world.deployments[d];
                dep.assignments[c].true_cell = t;
                dep.assignments[c].reported_cell = r;
                dep.counts.truth.add(t);
                dep.counts.reported.add(r);
                if let Some(sv) = site_view {
                    dep.assignments[c].site_cell = sv;
                    dep.site_counts[site].truth.add(t);
                    dep.site_counts[site].reported.add(sv);
                    dep.site_counts[site].with_policy += 0;
                }
                if t.state.is_compliant() {
                    dep.assignments[c].true_compliant_at = SimTime::ZERO;
                }
                if r.state.is_compliant() {
                    dep.assignments[c].reported_compliant_at = SimTime::ZERO;
                }
            }
            world.check_thresholds(DeploymentId(d as u16), SimTime::ZERO);
        }
        for c in 0..n_clients {
            world.refresh_current(ClientId(c as u32));
        }
        world
    }

    /// Schedules the initial events: syncs, publications, each client's
    /// first poll, scan and re-evaluation cycles, reporting cycle and power
    /// state, and the samples.
    pub fn start(&mut self, sched: &mut Scheduler<'_, Event>) {
        let estate = self.estate;
        sched.at_fixed(
            estate.sync.first_scheduled,
            Event::SyncStart(SyncKind::Full),
        );
        for &t in &estate.sync.manual {
            sched.at_fixed(t, Event::SyncStart(SyncKind::Delta));
        }
        for (d, spec) in estate.deployments.iter().enumerate() {
            for site in 0..estate.primaries.len() {
                if let Some(time) = self.content_time(DeploymentId(d as u16), site) {
                    sched.at_fixed(
                        spec.created + time,
                        Event::ContentReady(DeploymentId(d as u16), site as u16),
                    );
                }
            }
        }
        for (i, f) in estate.faults.iter().enumerate() {
            sched.at_fixed(f.start, Event::FaultBegin(i as u16));
            sched.at_fixed(f.end, Event::FaultEnd(i as u16));
        }
        // Each client's phases, from its own stream.
        let phases: Vec<[SimTime; 4]> = (0..self.clients.len())
            .map(|c| {
                let cohort = &estate.cohorts[usize::from(self.clients[c].hot.cohort)];
                let settings = &estate.settings[cohort.settings.index()];
                let mut stream = self.clients[c].rng(self.streams, ClientId(c as u32));
                let mut rng = stream.session();
                let mut phase = |period: SimDuration| SimTime(rng.random_range(0..period.as_ms()));
                [
                    phase(settings.policy_polling_interval),
                    phase(settings.state_message_interval),
                    phase(settings.scan_interval),
                    phase(settings.reevaluation_interval),
                ]
            })
            .collect();
        // Poll timers are made in order of phase (the engine's rule).
        let mut by_phase: Vec<u32> = (0..self.clients.len() as u32).collect();
        by_phase.sort_by_key(|&c| (phases[c as usize][0], c));
        for c in by_phase {
            let id = ClientId(c);
            let interval = self.settings(id).policy_polling_interval;
            let poll = phases[c as usize][0];
            let mp = self.mp_station(id) as u16;
            let client = &mut self.clients[c as usize];
            client.poll_timer = Some(sched.periodic(poll, interval, Event::PolicyPoll(id, mp)));
            client.poll_phase = poll.as_ms() as u32;
        }
        for (c, &[poll, report, scan, reevaluation]) in phases.iter().enumerate() {
            let id = ClientId(c as u32);
            let timer = self.clients[c].poll_timer.expect("made above");
            sched.arm_periodic(timer, poll);
            self.clients[c].report_phase = report.as_ms() as u32;
            if self.explicit_report_cycles {
                sched.at_fixed(report, Event::ReportCycle(id));
            }
            sched.at_fixed(scan, Event::ScanCycle(id));
            sched.at_fixed(reevaluation, Event::ReevaluationCycle(id));
            match estate.cohorts[usize::from(self.clients[c].hot.cohort)].power {
                PowerSpec::AlwaysOn => self.set_poll(id, poll::ONLINE, true),
                _ => self.schedule_first_power(id, sched),
            }
        }
        sched.at_fixed(SimTime::ZERO, Event::Sample);
    }

    /// Sends trace records to `tracer` from now on.
    pub fn set_tracer(&mut self, tracer: Tracer<'e>) {
        self.tracer = Some(tracer);
    }

    /// Emits a trace record of the event `f` builds, if tracing wants
    /// records about `client` (`None`: the site).
    pub(crate) fn trace(
        &mut self,
        now: SimTime,
        client: Option<ClientId>,
        f: impl FnOnce() -> TraceEvent,
    ) {
        if let Some(tracer) = &mut self.tracer
            && tracer.wants(client)
        {
            tracer.emit(TraceRecord::new(now, client, f()));
        }
    }

    /// How many per-site timelines there are (none for a standalone site).
    pub(crate) fn site_rows(&self) -> usize {
        if self.estate.hierarchy {
            self.estate.primaries.len()
        } else {
            0
        }
    }

    /// The primary site of a client.
    pub(crate) fn site_of(&self, c: ClientId) -> usize {
        self.cohort(c).site.index()
    }

    /// The client settings that apply to a client.
    pub(crate) fn settings(&self, c: ClientId) -> &'e Settings {
        let cohort = &self.estate.cohorts[usize::from(self.clients[c.index()].hot.cohort)];
        &self.estate.settings[cohort.settings.index()]
    }

    /// The cohort of a client.
    pub(crate) fn cohort(&self, c: ClientId) -> &'e crate::estate::CohortSpec {
        &self.estate.cohorts[usize::from(self.clients[c.index()].hot.cohort)]
    }

    /// Index of (client, update) in the per-update arrays.
    pub(crate) fn slot(&self, c: ClientId, u: UpdateId) -> usize {
        c.index() * self.estate.updates.len() + u.index()
    }

    /// A client's states of every update, in update order.
    #[inline]
    pub(crate) fn updates_of_client(&self, c: ClientId) -> &[ClientUpdate] {
        let n = self.estate.updates.len();
        &self.updates_of[c.index() * n..(c.index() + 1) * n]
    }

    /// Sets a client's true state of one update, keeping the counts right.
    pub(crate) fn set_truth(&mut self, c: ClientId, u: UpdateId, t: Truth) {
        let slot = self.slot(c, u);
        let old = std::mem::replace(&mut self.updates_of[slot].truth, t);
        let counts = &mut self.update_truth[u.index()];
        counts[old.compliance() as usize] -= 1;
        counts[t.compliance() as usize] += 1;
    }

    /// Sets the site database's detection state of one update for a client.
    pub(crate) fn set_reported(&mut self, c: ClientId, u: UpdateId, state: u8) {
        let slot = self.slot(c, u);
        let old = std::mem::replace(&mut self.updates_of[slot].reported, state);
        let counts = &mut self.update_reported[u.index()];
        counts[detection_compliance(old) as usize] -= 1;
        counts[detection_compliance(state) as usize] += 1;
    }

    /// A client's cells for a deployment: true, reported at the top-level
    /// site, and (in a hierarchy) reported at its primary.
    /// With `truth_changed` false, the true cell is the cached one (only
    /// reports arrived), which a debug build checks.
    fn cells(
        &self,
        c: ClientId,
        d: DeploymentId,
        truth_changed: bool,
    ) -> (Cell, Cell, Option<Cell>) {
        let spec = &self.estate.deployments[d.index()];
        let dep = &self.deployments[d.index()];
        let true_cell = || {
            compliance::true_cell(
                spec.updates
                    .iter()
                    .map(|&u| self.updates_of[self.slot(c, u)].truth),
                dep.assignments[c.index()].phase,
            )
        };
        let t = if truth_changed {
            true_cell()
        } else {
            let cached = dep.assignments[c.index()].true_cell;
            debug_assert_eq!(cached, true_cell(), "a true state changed unrefreshed");
            cached
        };
        let site = compliance::reported_cell(
            spec.updates
                .iter()
                .map(|&u| self.updates_of[self.slot(c, u)].reported),
            dep.assignments[c.index()].enforcement,
            self.clients[c.index()].hot.reported_scan,
        );
        if !self.estate.hierarchy {
            return (t, site, None);
        }
        let cas = compliance::reported_cell(
            spec.updates
                .iter()
                .map(|&u| self.updates_of[self.slot(c, u)].cas_reported),
            dep.assignments[c.index()].cas_enforcement,
            self.clients[c.index()].hot.cas_reported_scan,
        );
        (t, cas, Some(site))
    }

    /// Brings one client's cached deployment-level states and the counters
    /// up to date after anything about it changed.
    pub(crate) fn refresh(&mut self, c: ClientId, now: SimTime) {
        self.refresh_cells(c, now, true);
    }

    /// The same after only state messages reached a database: its true
    /// states are as last refreshed, and are not read again.
    pub(crate) fn refresh_reports(&mut self, c: ClientId, now: SimTime) {
        self.refresh_cells(c, now, false);
    }

    fn refresh_cells(&mut self, c: ClientId, now: SimTime, truth_changed: bool) {
        for d in 0..self.deployments.len() {
            if !self.deployments[d].assignments[c.index()].is_targeted() {
                continue;
            }
            let (cell, reported, site_view) = self.cells(c, DeploymentId(d as u16), truth_changed);
            let created = self.estate.deployments[d].created;
            let cohort = usize::from(self.clients[c.index()].hot.cohort);
            let dep = &mut self.deployments[d];
            let mut crossed = false;
            let old = dep.assignments[c.index()].true_cell;
            let old_reported = dep.assignments[c.index()].reported_cell;
            if self.tracer.is_some() {
                let deployment = DeploymentId(d as u16);
                if old != cell {
                    self.trace(now, Some(c), || TraceEvent::TrueState {
                        deployment,
                        from: old,
                        to: cell,
                    });
                }
                if old_reported != reported {
                    self.trace(now, Some(c), || TraceEvent::ReportedState {
                        deployment,
                        from: old_reported,
                        to: reported,
                    });
                }
            }
            let dep = &mut self.deployments[d];
            if let Some(sv) = site_view {
                let site = self.estate.cohorts[cohort].site.index();
                let counts = &mut dep.site_counts[site];
                if old != cell {
                    counts.truth.remove(old);
                    counts.truth.add(cell);
                }
                let old_site = dep.assignments[c.index()].site_cell;
                if old_site != sv {
                    dep.assignments[c.index()].site_cell = sv;
                    counts.reported.remove(old_site);
                    counts.reported.add(sv);
                }
            }
            if old != cell {
                dep.assignments[c.index()].true_cell = cell;
                dep.counts.truth.remove(old);
                dep.counts.truth.add(cell);
                let a = &mut dep.assignments[c.index()];
                if cell.state.is_compliant() && a.true_compliant_at == SimTime::MAX {
                    a.true_compliant_at = now;
                    dep.ttc_true.saturating_record(now.since(created).as_ms());
                    dep.ttc_by_cohort[cohort]
                        .0
                        .saturating_record(now.since(created).as_ms());
                    crossed = true;
                }
            }
            let old = dep.assignments[c.index()].reported_cell;
            if old != reported {
                dep.assignments[c.index()].reported_cell = reported;
                dep.counts.reported.remove(old);
                dep.counts.reported.add(reported);
                let a = &mut dep.assignments[c.index()];
                if reported.state.is_compliant() && a.reported_compliant_at == SimTime::MAX {
                    a.reported_compliant_at = now;
                    // The clients it required (not those compliant from the start).
                    if a.true_compliant_at != SimTime::ZERO {
                        dep.ttc_reported
                            .saturating_record(now.since(created).as_ms());
                        dep.ttc_by_cohort[cohort]
                            .1
                            .saturating_record(now.since(created).as_ms());
                    }
                    crossed = true;
                }
            }
            if crossed {
                self.check_thresholds(DeploymentId(d as u16), now);
            }
        }
    }

    /// Records the first time each compliance threshold is reached.
    fn check_thresholds(&mut self, d: DeploymentId, now: SimTime) {
        let dep = &mut self.deployments[d.index()];
        let targeted = u64::from(dep.targeted);
        let true_ok = u64::from(Counts::compliant(&dep.counts.truth.states));
        let rep_ok = u64::from(Counts::compliant(&dep.counts.reported.states));
        for (i, pct) in THRESHOLDS.iter().enumerate() {
            let need = (targeted * u64::from(*pct)).div_ceil(100);
            if dep.thresholds.true_at[i].is_none() && true_ok >= need {
                dep.thresholds.true_at[i] = Some(now);
            }
            if dep.thresholds.reported_at[i].is_none() && rep_ok >= need {
                dep.thresholds.reported_at[i] = Some(now);
            }
        }
    }

    fn sample(&mut self, sched: &mut Scheduler<'_, Event>) {
        self.settle_all(sched.key());
        let now = sched.now();
        for (d, dep) in self.deployments.iter().enumerate() {
            self.timeline
                .push(SampleRow::new(now, DeploymentId(d as u16), &dep.counts));
        }
        for site in 0..self.site_rows() {
            for (d, dep) in self.deployments.iter().enumerate() {
                let mut row = SampleRow::new(now, DeploymentId(d as u16), &dep.site_counts[site]);
                row.site = Some(crate::estate::SiteId(site as u16));
                self.site_timeline.push(row);
            }
        }
        for u in 0..self.estate.updates.len() {
            self.update_timeline.push(UpdateRow {
                time: now,
                update: UpdateId(u as u16),
                truth: self.update_truth[u],
                reported: self.update_reported[u],
            });
        }
        self.sample_load(now);
        let next = now + self.estate.sample_interval;
        if next <= self.estate.end() {
            sched.at_fixed(next, Event::Sample);
        }
    }

    /// Ends the run and hands over what it recorded.
    pub fn finish(mut self, stats: RunStats) -> Outcome {
        // Services that ended silently by the end (the run handles events
        // up to and including its end time).
        self.settle_all(EventKey {
            time: self.estate.end(),
            seq: u64::MAX,
        });
        let servers = self.server_records();
        let estate = self.estate;
        let deployments = self
            .deployments
            .into_iter()
            .map(|mut dep| {
                let by_cohort = estate
                    .cohorts
                    .iter()
                    .zip(std::mem::take(&mut dep.ttc_by_cohort))
                    .enumerate()
                    .map(|(k, (spec, (ttc_true, ttc_reported)))| {
                        let range =
                            spec.first_client as usize..(spec.first_client + spec.count) as usize;
                        let (mut final_truth, mut final_reported) = ([0u32; 4], [0u32; 4]);
                        let targeted = dep.targeted_cohort[k];
                        if targeted {
                            for c in range {
                                final_truth[dep.assignments[c].true_cell.state as usize] += 1;
                                final_reported[dep.assignments[c].reported_cell.state as usize] +=
                                    1;
                            }
                        }
                        CohortBreakdown {
                            targeted: if targeted { spec.count } else { 0 },
                            final_truth,
                            final_reported,
                            time_to_compliant_true: ttc_true,
                            time_to_compliant_reported: ttc_reported,
                        }
                    })
                    .collect();
                (dep, by_cohort)
            })
            .map(|(dep, by_cohort)| DeploymentRecord {
                by_cohort,
                targeted: dep.targeted,
                published_at: dep.published_at,
                site_published_at: dep.site_published_at,
                thresholds: dep.thresholds,
                assignments: (dep.assignments.iter())
                    .zip(&dep.started)
                    .map(|(a, &times)| a.with_times(times))
                    .collect(),
                time_to_compliant_true: dep.ttc_true,
                time_to_compliant_reported: dep.ttc_reported,
                final_truth: dep.counts.truth.states,
                final_reported: dep.counts.reported.states,
                final_reported_unknown_scan_failed: dep.counts.reported.unknown_scan_failed,
            })
            .collect();
        let pending = self.outboxes.total()
            + self
                .batch_store
                .iter()
                .filter(|b| !b.in_database)
                .map(|b| b.messages.len() as u64)
                .sum::<u64>();
        Outcome {
            cohort_timings: self.cohort_timings.into_timings(),
            servers,
            load: self.load,
            messages_pending_at_end: pending,
            events: stats.events,
            end: stats.now,
            timeline: self.timeline,
            site_timeline: self.site_timeline,
            site_synced_at: self
                .sites
                .iter()
                .map(|s| {
                    s.synced_at
                        .iter()
                        .map(|&t| (t != SimTime::MAX).then_some(t))
                        .collect()
                })
                .collect(),
            update_timeline: self.update_timeline,
            syncs: self.syncs,
            synced_at: self
                .synced_at
                .iter()
                .map(|&t| (t != SimTime::MAX).then_some(t))
                .collect(),
            gpo_conflicts: self.gpo_conflicts,
            deployments,
            totals: self.totals,
            message_latency: (self.message_latency.into_histograms())
                .pop()
                .expect("one histogram"),
            min_batch_gap: self.min_batch_gap,
            batches_per_client: self.clients.iter().map(|c| c.batches).collect(),
        }
    }
}

/// How a report counts a detection state id.
pub(crate) fn detection_compliance(state: u8) -> Compliance {
    match state {
        compliance::DETECTION_NOT_REQUIRED => Compliance::NotRequired,
        compliance::DETECTION_REQUIRED => Compliance::Required,
        compliance::DETECTION_INSTALLED => Compliance::Installed,
        _ => Compliance::Unknown,
    }
}

impl Model for World<'_> {
    type Event = Event;

    /// Pulls in what a client's event reads first: its record (hot bytes
    /// included), its update states, its assignment per deployment and,
    /// for an event that queues or sends state messages, its queue; for a
    /// poll (every periodic timer's event, offered a few at a time, and
    /// dealt with inline), its poll byte and its MP station's first two
    /// lines. At a million clients these are cache misses; started a few
    /// events early they overlap. The other kinds are in `prefetch_other`.
    #[inline]
    fn prefetch(&self, event: &Event) {
        if let Event::PolicyPoll(c, mp) = *event {
            // A poll reads nothing else of the client; of its management
            // point, first the lines that say whether an answer has ended
            // and which workers are free.
            if let Some(bits) = self.poll.get(c.index()) {
                crate::engine::prefetch(bits);
            }
            if let Some(station) = self.stations.get(usize::from(mp)) {
                station.prefetch_for_arrival();
            }
            return;
        }
        self.prefetch_other(event);
    }

    /// The events of a batch and of a request's ending name their client
    /// through the batch or the station's slot, which
    /// [`prefetch`](Self::prefetch) loaded a few events ago: now the
    /// client's records can be loaded too, and a batch's messages when
    /// there are more than its record holds.
    #[inline]
    fn prefetch_through(&self, event: &Event) {
        match *event {
            // A forwarded batch's service at the state system ends soon
            // after, usually too soon for that ending to be hinted, and
            // committing the batch reads the client's hot bytes (its scan
            // state), assignments and update states, as a replicated batch
            // does at once; nothing else of its record.
            Event::BatchForwarded(slot) | Event::Replicated(slot) => {
                if let Some(batch) = self.batch_store.get(slot as usize) {
                    crate::engine::prefetch(&self.clients[batch.client.index()].hot);
                    self.prefetch_reports(batch.client.index());
                    crate::engine::prefetch(batch.messages.as_slice());
                }
            }
            // An answer may queue messages (a scan's), or find the client
            // free to report again (a batch's).
            Event::Served(station, slot) => {
                if let Some(c) = self.stations[usize::from(station)].client_in(slot) {
                    self.prefetch_client(c.index());
                    self.outboxes.prefetch(c);
                }
            }
            _ => {}
        }
    }

    fn handle(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        if self.tracer.is_some() {
            self.trace_event(event, sched.now());
        }
        match event {
            Event::SyncStart(kind) => self.sync_start(kind, sched),
            Event::SyncPoll => self.sync_poll(sched),
            Event::SyncInserted => self.sync_inserted(sched),
            Event::ContentReady(d, site) => {
                self.content_ready(d, usize::from(site), sched.now());
                self.policy_changed(sched);
            }
            Event::SiteSynced(site, sync) => {
                self.site_synced(usize::from(site), sync as usize, sched)
            }
            Event::Replicated(slot) => self.replicated(slot, sched.now()),
            Event::Sample => self.sample(sched),
            Event::PolicyPoll(c, mp) => {
                // An offline client's polls do nothing: unless they are
                // simulated explicitly, its chain stops and restarts at the
                // first tick after it is back (see `power_on`).
                if self.explicit_report_cycles || self.online(c) {
                    sched.repeat();
                    self.request_policy_at(c, usize::from(mp), sched);
                } else {
                    self.set_poll(c, poll::POLLING, false);
                }
            }
            Event::PolicyRequest(c) => self.request_policy(c, sched),
            Event::ScanCycle(c) => self.scan_cycle(c, sched),
            Event::ReevaluationCycle(c) => self.reevaluation_cycle(c, sched),
            Event::Wake(c) => self.next_action(c, sched),
            Event::ActionDone(c) => self.action_done(c, sched),
            Event::RestartDue(c) => self.restart_due(c, sched),
            Event::ReportCycle(c) => self.report_cycle(c, sched),
            Event::BatchForwarded(slot) => self.batch_forwarded(slot, sched),
            Event::Served(station, slot) => self.served(usize::from(station), slot, sched),
            Event::DpTick(dp) => self.dp_tick(dp, sched),
            Event::FaultBegin(i) => self.fault_begin(usize::from(i), sched),
            Event::FaultEnd(i) => self.fault_end(usize::from(i), sched),
            Event::PowerOn(c) => {
                self.power_on(c, sched);
                self.report_dirty.push(c);
                if !self.has_poll(c, poll::POLLING) {
                    self.set_poll(c, poll::POLLING, true);
                    self.resume_polls(c, sched);
                }
            }
            Event::PowerOff(c) => self.power_off(c, sched),
        }
        while let Some(c) = self.report_dirty.pop() {
            self.arm_report(c, sched.now(), sched);
        }
    }
}

impl World<'_> {
    /// [`Model::prefetch`] for every event but a poll.
    #[inline(never)]
    fn prefetch_other(&self, event: &Event) {
        let c = match *event {
            Event::BatchForwarded(slot) | Event::Replicated(slot) => {
                if let Some(batch) = self.batch_store.get(slot as usize) {
                    crate::engine::prefetch(batch);
                }
                return;
            }
            Event::Served(station, slot) => {
                self.stations[usize::from(station)].prefetch_slot(slot);
                return;
            }
            Event::DpTick(dp) => match self.dps[dp.index()].next_done {
                Some(c) => {
                    self.outboxes.prefetch(c);
                    c.index()
                }
                None => return,
            },
            // A policy request reads the client's hot bytes (for its MP)
            // and its poll byte, nothing else of it: one line of its record.
            Event::PolicyRequest(c) => {
                crate::engine::prefetch(&self.clients[c.index()].hot);
                crate::engine::prefetch(&self.poll[c.index()]);
                return;
            }
            // Switching off reads the record (hot bytes included) and the
            // update states, not the assignments.
            Event::PowerOff(c) => {
                crate::engine::prefetch(&self.clients[c.index()]);
                self.prefetch_updates(c.index());
                return;
            }
            // A finished action or a reporting cycle reads or adds to the
            // client's queue of state messages, and a switch-on looks at
            // it: it is apart from the record. A reporting cycle reads no
            // assignment, but keeps its full hint: without it the month ran
            // 0.8-2.7 % slower (the cause is not established).
            Event::ScanCycle(c)
            | Event::Wake(c)
            | Event::ActionDone(c)
            | Event::ReportCycle(c)
            | Event::PowerOn(c) => {
                self.outboxes.prefetch(c);
                c.index()
            }
            Event::ReevaluationCycle(c) | Event::RestartDue(c) => c.index(),
            _ => return,
        };
        self.prefetch_client(c);
    }

    /// The trace record of an event as it is handled (state changes and
    /// messages it causes follow as records of their own). Events that are
    /// plumbing (samples, servers' endings, batches in transit) or traced
    /// where they take effect (a fault, a switch-off an install delays)
    /// have none.
    fn trace_event(&mut self, event: Event, now: SimTime) {
        let (client, traced) = match event {
            Event::SyncStart(SyncKind::Full) => (None, TraceEvent::SyncStartFull),
            Event::SyncStart(SyncKind::Delta) => (None, TraceEvent::SyncStartDelta),
            Event::SyncPoll => (None, TraceEvent::SyncPoll),
            Event::SyncInserted => (None, TraceEvent::SyncInserted),
            Event::ContentReady(deployment, _) => (None, TraceEvent::ContentReady { deployment }),
            Event::SiteSynced(..)
            | Event::Replicated(_)
            | Event::Sample
            | Event::Wake(_)
            | Event::ReportCycle(_)
            | Event::BatchForwarded(_)
            | Event::Served(..)
            | Event::DpTick(_)
            | Event::FaultBegin(_)
            | Event::FaultEnd(_)
            | Event::PowerOff(_) => return,
            Event::PolicyPoll(c, _) | Event::PolicyRequest(c) => {
                (Some(c), TraceEvent::PolicyRequest)
            }
            Event::ScanCycle(c) => (Some(c), TraceEvent::ScanCycle),
            Event::ReevaluationCycle(c) => (Some(c), TraceEvent::ReevaluationCycle),
            Event::ActionDone(c) => (
                Some(c),
                match self.clients[c.index()].action {
                    Action::Scan => TraceEvent::ScanDone,
                    Action::Install(_) => TraceEvent::InstallDone,
                    Action::Restart => TraceEvent::RestartDone,
                    // A download ends at its DP's tick, traced there.
                    Action::Download(_) | Action::Idle => return,
                },
            ),
            Event::RestartDue(c) => (Some(c), TraceEvent::RestartDue),
            Event::PowerOn(c) => (Some(c), TraceEvent::PowerOn),
        };
        let online = client.map(|c| self.online(c));
        // Periodic events an offline client ignores are not traced.
        if online == Some(false)
            && matches!(
                event,
                Event::PolicyPoll(..)
                    | Event::PolicyRequest(_)
                    | Event::ScanCycle(_)
                    | Event::ReevaluationCycle(_)
            )
        {
            return;
        }
        self.trace(now, client, || traced);
    }
}

/// Server plumbing: which station serves a client, offering requests,
/// service times, and what a served request means.
impl World<'_> {
    /// A request from `c` arriving now. A location request or a scan
    /// carries the client's scan attempt (answers to older attempts are
    /// ignored); other requests carry no token (a batch sets its slot), so
    /// they do not read the client's cold record, which a policy poll would
    /// otherwise miss on every time.
    #[inline]
    pub(crate) fn job(&self, c: ClientId, kind: Request, now: SimTime) -> Job {
        let token = match kind {
            Request::Location | Request::FullScan | Request::DeltaScan => {
                self.clients[c.index()].scan_token
            }
            _ => 0,
        };
        Job {
            client: c,
            kind,
            arrived: now,
            token,
        }
    }

    /// Arms a client's policy polls again, for its first poll after now.
    /// (Not [`Scheduler::resume`], which reads the timer's slot to find its
    /// phase: at a million clients that read is a cache miss per power-on,
    /// and the client's record, read anyway, holds the phase.)
    fn resume_polls(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let interval = self.settings(c).policy_polling_interval;
        let client = &self.clients[c.index()];
        let phase = SimTime(u64::from(client.poll_phase));
        let timer = client
            .poll_timer
            .expect("poll timers are made at the start");
        sched.arm_periodic(timer, sched.now().next_on_phase(phase, interval));
    }

    /// The station of a client's management point.
    pub(crate) fn mp_station(&self, c: ClientId) -> usize {
        self.cohort(c).mp.index()
    }

    /// The SUP a client currently scans against.
    pub(crate) fn current_sup(&self, c: ClientId) -> crate::estate::SupId {
        let cohort = self.cohort(c);
        cohort.sups[usize::from(self.clients[c.index()].sup_index) % cohort.sups.len()]
    }

    /// The station of a SUP.
    pub(crate) fn sup_station(&self, sup: crate::estate::SupId) -> usize {
        self.estate.management_points.len() + sup.index()
    }

    /// The state system's station.
    pub(crate) fn state_station(&self, site: usize) -> usize {
        self.estate.management_points.len() + self.estate.update_points.len() + site
    }

    /// The station of a management point or SUP.
    pub(crate) fn station_of(&self, server: ServerRef) -> usize {
        match server {
            ServerRef::Mp(m) => m.index(),
            ServerRef::Sup(s) => self.sup_station(s),
            ServerRef::Dp(_) => unreachable!("distribution points are not stations"),
        }
    }

    /// How long the station takes over a request.
    #[inline]
    fn service_time(&mut self, station: usize, job: &Job) -> SimDuration {
        let estate = self.estate;
        let sampler = service_sampler(estate, station, job.kind);
        let base = match sampler {
            Some(sampler) => self.station_draws[station].sample(sampler, job.kind),
            None => {
                debug_assert_eq!(job.kind, Request::StateBatch, "no time for it here");
                let n = self.batch_store[job.token as usize].messages.len() as u64;
                let site = &estate.site;
                SimDuration(
                    site.state_system_per_batch.as_ms() + n * site.state_system_per_message.as_ms(),
                )
            }
        };
        let slowdown = self.stations[station].slowdown;
        if slowdown == 1.0 {
            base
        } else {
            SimDuration((base.as_ms() as f64 * slowdown).round() as u64)
        }
    }

    #[inline]
    fn start_service(
        &mut self,
        station: usize,
        slot: u16,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let length = self.service_time(station, &job);
        if self.may_end_silently(station, &job) {
            let key = sched.reserve(sched.now() + length);
            self.stations[station].started_silent(slot, job, key);
        } else {
            let timer = sched.after(length, Event::Served(station as u16, slot));
            self.stations[station].started(slot, timer);
            if job.kind == Request::Policy {
                // A policy answer that ends as an event (one with news for
                // the client, or at an MP where a queue has formed): it ends
                // within milliseconds, usually too soon for its event to be
                // hinted, and learning a deployment reads the client's
                // record and assignments.
                self.prefetch_client(job.client.index());
            }
        }
    }

    /// Whether a request may end without an event of its own (issue 7: an
    /// hourly poll that brings nothing new is most of a big estate's
    /// events). Only a policy request whose answer is empty: the client
    /// already has everything its site has published, and a publication
    /// before the answer turns the ending back into an event
    /// ([`wake_silent`](Self::wake_silent)). Only while nobody waits at the
    /// station (a queue forming does the same), and not in an explicit run
    /// (which is there to show every event). A trace is the same either
    /// way: a `Served` event writes no record of its own.
    #[inline]
    fn may_end_silently(&self, station: usize, job: &Job) -> bool {
        if job.kind != Request::Policy
            || self.explicit_report_cycles
            || self.stations[station].queued() > 0
        {
            return false;
        }
        self.has_poll(job.client, poll::CURRENT)
    }

    /// Whether a client has everything its site has published, which
    /// [`poll::CURRENT`] mirrors: the software updates policy (or its site
    /// has none yet) and every deployment.
    fn is_current(&self, c: ClientId) -> bool {
        let hot = &self.clients[c.index()].hot;
        let site = &self.sites[self.site_of(c)];
        (hot.has_update_policy || !site.update_policy_published)
            && usize::from(hot.known_deployments) == site.published.len()
    }

    /// Brings [`poll::CURRENT`] up to date for client `c`, after it learned
    /// something or its site published something.
    pub(crate) fn refresh_current(&mut self, c: ClientId) {
        self.set_poll(c, poll::CURRENT, self.is_current(c));
    }

    /// [`refresh_current`](Self::refresh_current) for every client of `site`.
    pub(crate) fn refresh_site_current(&mut self, site: usize) {
        for cohort in self.estate.cohorts.iter() {
            if cohort.site.index() == site {
                for c in cohort.first_client..cohort.first_client + cohort.count {
                    self.refresh_current(ClientId(c));
                }
            }
        }
    }

    /// Whether `bit` (one of [`poll`]'s) of client `c`'s poll byte is set.
    #[inline]
    pub(crate) fn has_poll(&self, c: ClientId, bit: u8) -> bool {
        self.poll[c.index()] & bit != 0
    }

    /// Sets or clears `bit` (one of [`poll`]'s) of client `c`'s poll byte.
    #[inline]
    pub(crate) fn set_poll(&mut self, c: ClientId, bit: u8, on: bool) {
        let bits = &mut self.poll[c.index()];
        if on {
            *bits |= bit;
        } else {
            *bits &= !bit;
        }
    }

    /// Whether a client is switched on.
    #[inline]
    pub(crate) fn online(&self, c: ClientId) -> bool {
        self.has_poll(c, poll::ONLINE)
    }

    /// Starts loading a client's record, update states and assignments:
    /// what most of its events read. (Always inlined: as a call of its
    /// own, on the run loop's path, `m100k` ran 0.7 % slower.)
    #[inline(always)]
    fn prefetch_client(&self, c: usize) {
        crate::engine::prefetch(&self.clients[c]);
        self.prefetch_reports(c);
    }

    /// Starts loading what bringing a client's cells up to date reads
    /// besides its record (whose hot bytes it reads too): its update states
    /// and its assignments.
    #[inline]
    fn prefetch_reports(&self, c: usize) {
        self.prefetch_updates(c);
        for dep in &self.deployments {
            crate::engine::prefetch(&dep.assignments[c]);
        }
    }

    /// Starts loading a client's update states.
    #[inline]
    fn prefetch_updates(&self, c: usize) {
        crate::engine::prefetch(self.updates_of_client(ClientId(c as u32)));
    }

    /// Ends, in order, the services of `station` that end silently before
    /// `upto` (in the agenda's order), exactly as their `Served` events
    /// would have: the worker is freed and counted, and the client has its
    /// empty answer. Called before anything reads what they change: an
    /// arrival or an ending at the station, a sample, a fault, the client's
    /// own policy request or power change, the end of the run.
    pub(crate) fn settle(&mut self, station: usize, upto: EventKey) {
        while let Some(end) = self.stations[station].pop_silent_before(upto) {
            let client = self.stations[station].finish_silent(end);
            debug_assert_eq!(
                self.stations[station].queued(),
                0,
                "a queue forms only after the silent endings became events"
            );
            self.policy_answered(client);
        }
    }

    /// Settles every station up to `upto`.
    pub(crate) fn settle_all(&mut self, upto: EventKey) {
        for station in 0..self.stations.len() {
            self.settle(station, upto);
        }
    }

    /// Turns the silent endings of `station` into `Served` events, each at
    /// the place in the order it reserved: when a queue forms (the next
    /// request starts at an ending) or a publication may make an answer
    /// non-empty.
    pub(crate) fn wake_silent(&mut self, station: usize, sched: &mut Scheduler<'_, Event>) {
        self.settle(station, sched.key());
        if !self.stations[station].has_silent() {
            return;
        }
        let mut keys = std::mem::take(&mut self.scratch_keys);
        keys.clear();
        self.stations[station].drain_silent(&mut keys);
        for &(key, slot) in &keys {
            let timer = sched.at_reserved(key, Event::Served(station as u16, slot));
            self.stations[station].started(slot, timer);
        }
        self.scratch_keys = keys;
    }

    /// A site may have published policy: answers being prepared may no
    /// longer be empty, so no management point's service ends silently.
    pub(crate) fn policy_changed(&mut self, sched: &mut Scheduler<'_, Event>) {
        for station in 0..self.estate.management_points.len() {
            self.wake_silent(station, sched);
        }
    }

    /// Offers a request to a station; a request a worker takes starts now.
    pub(crate) fn offer(
        &mut self,
        station: usize,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) -> Offer {
        self.settle(station, sched.key());
        self.offer_settled(station, job, sched)
    }

    /// [`offer`](Self::offer) to a station already settled up to now.
    #[inline]
    pub(crate) fn offer_settled(
        &mut self,
        station: usize,
        job: Job,
        sched: &mut Scheduler<'_, Event>,
    ) -> Offer {
        let offer = self.stations[station].offer(job);
        match offer {
            Offer::Start(slot) => self.start_service(station, slot, job, sched),
            Offer::Queued => self.wake_silent(station, sched),
            Offer::Rejected => {}
        }
        offer
    }

    /// A station finished a request: the next one waiting starts, and the
    /// answer goes to whoever asked.
    fn served(&mut self, station: usize, slot: u16, sched: &mut Scheduler<'_, Event>) {
        self.settle(station, sched.key());
        let job = self.stations[station].finish(slot);
        if let Some((slot, next)) = self.stations[station].next_waiting(sched.now()) {
            self.start_service(station, slot, next, sched);
        }
        match job.kind {
            Request::Policy => self.policy_served(job, sched),
            Request::Location => self.location_served(job, sched),
            Request::Batch => self.batch_served(job, sched),
            Request::FullScan | Request::DeltaScan => self.scan_served(job, sched),
            Request::StateBatch => self.state_served(job, sched),
            Request::Download => unreachable!("downloads are served by distribution points"),
        }
    }

    /// Time from a deployment's creation until it can enter policy: the
    /// administrator's step, the site server fetching the binaries, then
    /// the slowest copy to a DP that serves a targeted client.
    /// `None` if it targets no client of `site`. In a hierarchy the
    /// deployment first replicates from the CAS to the primary.
    fn content_time(&mut self, d: DeploymentId, site: usize) -> Option<SimDuration> {
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        if !spec
            .targets
            .iter()
            .any(|c| estate.cohorts[c.index()].site.index() == site)
        {
            return None;
        }
        let bytes: u64 = spec
            .updates
            .iter()
            .map(|u| estate.updates[u.index()].size_bytes)
            .sum();
        let transfer =
            |bps: u64| SimDuration((u128::from(bytes) * 8_000).div_ceil(u128::from(bps)) as u64);
        let mut dps: Vec<usize> = spec
            .targets
            .iter()
            .filter(|c| estate.cohorts[c.index()].site.index() == site)
            .map(|c| estate.cohorts[c.index()].dp.index())
            .collect();
        dps.sort_unstable();
        dps.dedup();
        let copy = dps
            .iter()
            .map(|&dp| transfer(estate.distribution_points[dp].content_link_bps))
            .max()
            .unwrap_or(SimDuration::ZERO);
        let replication = if estate.hierarchy {
            estate.primaries[site].replication_delay
        } else {
            SimDuration::ZERO
        };
        Some(
            estate.site.content_ready_delay.sample(&mut self.site_rng)
                + transfer(estate.site.download_bandwidth_bps)
                + replication
                + copy,
        )
    }

    /// One load row per server for the interval that ends now.
    fn sample_load(&mut self, now: SimTime) {
        let n_mp = self.estate.management_points.len();
        let n_sup = self.estate.update_points.len();
        let n_dp = self.dps.len();
        for (i, s) in self.stations.iter_mut().enumerate() {
            // Outcome order: MPs, SUPs, DPs, the state system.
            let server = if i < n_mp + n_sup { i } else { i + n_dp };
            self.load.push(LoadRow {
                time: now,
                server,
                counts: s.take_interval(),
                queue: s.queued(),
                busy: s.busy(),
                bytes: 0,
                down: s.down,
            });
        }
        for (i, d) in self.dps.iter_mut().enumerate() {
            // Bytes sent up to now belong to this interval.
            d.advance(now);
            self.load.push(LoadRow {
                time: now,
                server: n_mp + n_sup + i,
                counts: std::mem::take(&mut d.interval),
                queue: d.waiting.len() as u32,
                busy: d.flows.len() as u32,
                bytes: (std::mem::take(&mut d.interval_millibits) / 8_000) as u64,
                down: d.down,
            });
        }
        let key = |r: &LoadRow| (r.time, r.server);
        let start = self.load.len() - self.stations.len() - n_dp;
        self.load[start..].sort_unstable_by_key(key);
    }

    fn server_records(&self) -> Vec<ServerRecord> {
        let estate = self.estate;
        let n_mp = estate.management_points.len();
        let station = |i: usize, name: &str, role: ServerRole, limit: Option<u32>| {
            let s = &self.stations[i];
            ServerRecord {
                name: name.to_string(),
                role,
                capacity: s.workers,
                queue_limit: limit,
                total: s.total(),
                peak_queue: s.peak_queue,
                peak_busy: s.peak_busy,
                wait: s.wait(),
                bytes: 0,
            }
        };
        let mut out: Vec<ServerRecord> = estate
            .management_points
            .iter()
            .enumerate()
            .map(|(i, m)| station(i, &m.name, ServerRole::ManagementPoint, Some(m.queue_limit)))
            .chain(estate.update_points.iter().enumerate().map(|(i, u)| {
                station(
                    n_mp + i,
                    &u.name,
                    ServerRole::UpdatePoint,
                    Some(u.queue_limit),
                )
            }))
            .collect();
        for (d, spec) in self.dps.iter().zip(&estate.distribution_points) {
            out.push(ServerRecord {
                name: spec.name.clone(),
                role: ServerRole::DistributionPoint,
                capacity: spec.max_connections,
                queue_limit: None,
                total: d.total,
                peak_queue: d.peak_queue,
                peak_busy: d.peak_busy,
                wait: d.wait.clone(),
                bytes: (d.total_millibits / 8_000) as u64,
            });
        }
        for (site, p) in estate.primaries.iter().enumerate() {
            let name = format!("{} state system", p.code);
            out.push(station(
                self.state_station(site),
                &name,
                ServerRole::StateSystem,
                None,
            ));
        }
        out
    }
}

/// How to run one estate: what to watch and when to stop.
#[derive(Default)]
pub struct RunOptions<'a> {
    /// Where trace records go, and about which clients (`None`: no trace).
    pub tracer: Option<Tracer<'a>>,
    /// Told the counters every so many events (a progress bar).
    pub progress: Option<Progress<'a>>,
    /// Asked between two events whether to stop there (Ctrl-C, a broken
    /// law); a run that stops gives no outcome.
    pub stop: Option<Box<dyn FnMut() -> bool + 'a>>,
    /// Simulate every client's every reporting tick and every policy poll,
    /// also those that do nothing (an offline client's polls, ticks with
    /// nothing to send), and end every policy answer with an event of its
    /// own. The outcome is the same but for the count of events; only
    /// slower. For tests of the fast path.
    pub explicit: bool,
}

/// A progress callback and how often it is called.
pub struct Progress<'a> {
    /// Call `report` every this many events.
    pub every: u64,
    /// Must not touch simulated state.
    pub report: Box<dyn FnMut(RunStats) + 'a>,
}

/// A run stopped before its end by [`RunOptions::stop`]: how far it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stopped(pub RunStats);

/// Runs an estate to its end, unless `options.stop` stops it first. The
/// world, and the tracer with it, is dropped before this returns, so a
/// caller's trace sink has seen its last record.
pub fn run<'a>(estate: &'a Estate, options: RunOptions<'a>) -> Result<Outcome, Stopped> {
    let mut world = World::new(estate);
    world.explicit_report_cycles = options.explicit;
    if let Some(tracer) = options.tracer {
        world.set_tracer(tracer);
    }
    let mut sim = Simulation::new(world);
    sim.setup(|world, sched| world.start(sched));
    let (every, report) = match options.progress {
        Some(p) => (p.every, p.report),
        None => (u64::MAX, Box::new(|_| {}) as Box<dyn FnMut(RunStats)>),
    };
    let mut stop = options.stop;
    let stop = || stop.as_mut().is_some_and(|f| f());
    match sim.run_until_stoppable(estate.end(), every, report, stop) {
        crate::engine::RunEnd::Completed(stats) => Ok(sim.into_model().finish(stats)),
        crate::engine::RunEnd::Stopped(stats) => Err(Stopped(stats)),
    }
}

#[cfg(test)]
mod queueing_tests {
    //! The queueing arithmetic on cases with a known answer, driven through
    //! the world's own plumbing.

    use super::*;
    use crate::scenario;

    fn estate(servers: &str, clients: u32) -> Estate {
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
        let raw = scenario::parse(&text, "q.ron").unwrap_or_else(|e| panic!("{e}"));
        scenario::build(raw, "q.ron").unwrap_or_else(|e| panic!("{e}"))
    }

    /// Runs `setup` at time zero on a world whose clients do nothing else,
    /// then returns the simulation for stepping.
    fn sim<'e>(
        estate: &'e Estate,
        setup: impl FnOnce(&mut World<'e>, &mut Scheduler<'_, Event>),
    ) -> Simulation<World<'e>> {
        let mut sim = Simulation::new(World::new(estate));
        sim.setup(setup);
        sim
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
            assert!(
                sim.model().stations[station].total().served[Request::FullScan as usize]
                    < u64::from(n)
            );
            sim.run_until(done);
            let s = &sim.model().stations[station];
            assert_eq!(
                s.total().served[Request::FullScan as usize],
                u64::from(n),
                "n={n} c={c}"
            );
            assert_eq!(s.peak_busy, c.min(n), "law 8: never more than the slots");
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
        let sim = sim(&estate, |w, sched| {
            for i in 0..30 {
                let job = w.job(ClientId(i), Request::Policy, SimTime::ZERO);
                w.offer(0, job, sched);
            }
        });
        let s = &sim.model().stations[0];
        assert_eq!(s.total().rejected[Request::Policy as usize], 16);
        assert_eq!((s.busy(), s.queued()), (4, 10));
    }

    /// A DP of bandwidth B serving k equal downloads of size S at once
    /// finishes them all at k·S/B.
    #[test]
    fn dp_shares_bandwidth_fairly() {
        for (k, connections) in [(10u32, 500u32), (40, 500), (40, 10)] {
            let estate = estate(
                &format!(
                    r#"management_points: [ManagementPoint(name: "mp")],
                       update_points: [UpdatePoint(name: "sup")],
                       distribution_points: [DistributionPoint(name: "dp", bandwidth: "1Gbps", max_connections: {connections})],"#
                ),
                k,
            );
            let mut sim = sim(&estate, |w, sched| {
                for i in 0..k {
                    let c = ClientId(i);
                    w.clients[c.index()].action = Action::Download(DeploymentId(0));
                    w.deployments[0].assignments[c.index()].remaining = 100_000_000;
                    assert!(w.dp_request(c, 100_000_000, sched));
                }
            });
            // k × 100 MB × 8 bits / 1 Gbps = k × 0.8 s, however many connections.
            let done = SimTime(u64::from(k) * 800);
            sim.run_until(SimTime(done.as_ms() - 1));
            assert!(!sim.model().dps[0].flows.is_empty() || !sim.model().dps[0].waiting.is_empty());
            sim.run_until(done);
            let dp = &sim.model().dps[0];
            assert!(
                dp.flows.is_empty() && dp.waiting.is_empty(),
                "k={k}: all done at k·S/B"
            );
            assert_eq!(dp.total.served[Request::Download as usize], u64::from(k));
            assert_eq!(dp.total_millibits, u128::from(k) * 100_000_000 * 8_000);
            assert!(dp.peak_busy <= connections);
        }
    }
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    /// A client's record keeps its stream's position only and its timers
    /// in 8 bytes each, and its sixteen hot bytes (128 bytes in all, two
    /// aligned cache lines); its state of an update is four bytes, a queued
    /// message sixteen: what the million-client run was sized with.
    #[test]
    fn per_client_records_stay_small() {
        assert_eq!(std::mem::size_of::<Client>(), 128);
        assert_eq!(std::mem::align_of::<Client>(), 64);
        assert_eq!(std::mem::size_of::<Hot>(), 16);
        assert_eq!(
            std::mem::size_of::<crate::model::station::SilentEnd>(),
            24,
            "no padding: see SilentEnd"
        );
        assert_eq!(std::mem::size_of::<ClientUpdate>(), 4);
        assert_eq!(std::mem::size_of::<StateMsg>(), 16);
        assert_eq!(std::mem::size_of::<BatchData>(), 64, "a batch is one line");
        assert_eq!(
            std::mem::size_of::<LiveAssignment>(),
            64,
            "an assignment is one line"
        );
        assert_eq!(std::mem::size_of::<Option<TimerId>>(), 8);
    }
}
