//! The world: every piece of live state of one run, and the event dispatch.
//!
//! Owns [`World`] (arenas of clients, per-update and per-deployment state)
//! and [`run`]. The behaviours are in the files named after what they model;
//! this file wires events to them and keeps the compliance counters right.

use std::collections::VecDeque;

use rand::Rng;

use super::compliance::{self, Cell, Compliance, Counts, Phase, Truth};
use super::estate::{Estate, PowerSpec, Settings};
use super::events::Event;
use super::ids::{ClientId, DeploymentId};
use super::record::{
    Assignment, DeploymentRecord, Outcome, SampleRow, THRESHOLDS, Thresholds, Totals, ms_histogram,
};
use crate::engine::{
    Model, RunStats, Scheduler, SimDuration, SimTime, Simulation, StreamRng, Streams, TimerId,
};

/// Stream families: one stream per entity of each.
pub(crate) mod family {
    /// A client's behaviour (phases, durations, user choices).
    pub const CLIENT: u16 = 0;
    /// Which updates apply to a client (drawn once, at the start).
    pub const APPLICABILITY: u16 = 1;
    /// The site server.
    pub const SITE: u16 = 2;
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
#[derive(Clone, Copy, Debug)]
pub(crate) struct StateMsg {
    /// Topic type (500 detection, 300 compliance, 301 enforcement, 302 evaluation).
    pub(crate) topic: u16,
    /// State id within the topic.
    pub(crate) state: u8,
    /// The update (topic 500) or deployment (topics 30x) it is about.
    pub(crate) subject: u16,
    /// When the client queued it.
    pub(crate) queued_at: SimTime,
}

/// One client's live state.
pub(crate) struct Client {
    pub(crate) rng: StreamRng,
    pub(crate) queue: Vec<StateMsg>,
    pub(crate) action_timer: Option<TimerId>,
    pub(crate) restart_timer: Option<TimerId>,
    pub(crate) action_started: SimTime,
    pub(crate) last_batch: SimTime,
    pub(crate) batches: u32,
    pub(crate) cohort: u16,
    pub(crate) known_deployments: u16,
    pub(crate) action: Action,
    pub(crate) online: bool,
    /// The restart notification ran out while it was busy installing.
    pub(crate) restart_waiting: bool,
    /// The planned restart is the countdown's, not the user's.
    pub(crate) restart_forced: bool,
    /// It was switched off with an install pending restart: the next
    /// power-on completes the restart.
    pub(crate) restarted_by_shutdown: bool,
    /// A power-off came while installing; it happens when the install ends.
    pub(crate) power_off_waiting: bool,
}

/// Per-deployment live state.
pub(crate) struct DeploymentState {
    pub(crate) targeted_cohort: Vec<bool>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) true_cells: Vec<Cell>,
    pub(crate) reported_cells: Vec<Compliance>,
    pub(crate) counts: Counts,
    pub(crate) targeted: u32,
    pub(crate) published_at: Option<SimTime>,
    pub(crate) thresholds: Thresholds,
    pub(crate) ttc_true: hdrhistogram::Histogram<u64>,
    pub(crate) ttc_reported: hdrhistogram::Histogram<u64>,
}

/// A batch on its way from a client to the site database.
pub(crate) struct Batch {
    pub(crate) arrives: SimTime,
    pub(crate) client: ClientId,
    pub(crate) messages: u32,
}

/// The whole simulated estate while it runs.
pub struct World<'e> {
    pub(crate) estate: &'e Estate,
    pub(crate) clients: Vec<Client>,
    /// True per-update state, `[client * updates + update]`.
    pub(crate) truth: Vec<Truth>,
    /// Site database per-update detection state (topic 500 ids), same layout.
    pub(crate) reported: Vec<u8>,
    pub(crate) deployments: Vec<DeploymentState>,
    /// Deployments in the order their policy was published.
    pub(crate) published: Vec<DeploymentId>,
    /// Messages in transit, oldest first, and the batches they form.
    pub(crate) in_transit: VecDeque<StateMsg>,
    pub(crate) batches: VecDeque<Batch>,
    pub(crate) site_rng: StreamRng,
    pub(crate) totals: Totals,
    pub(crate) timeline: Vec<SampleRow>,
    pub(crate) message_latency: hdrhistogram::Histogram<u64>,
    pub(crate) min_batch_gap: Option<SimDuration>,
}

impl<'e> World<'e> {
    /// A world at time zero: clients built, applicability drawn, nothing
    /// scheduled yet (see [`World::start`]).
    pub fn new(estate: &'e Estate) -> Self {
        let streams = Streams::new(estate.seed);
        let n_clients = estate.client_count() as usize;
        let n_updates = estate.updates.len();

        let mut clients = Vec::with_capacity(n_clients);
        let mut truth = Vec::with_capacity(n_clients * n_updates);
        for (k, cohort) in estate.cohorts.iter().enumerate() {
            for i in 0..cohort.count {
                let id = u64::from(cohort.first_client + i);
                clients.push(Client {
                    rng: streams.stream(family::CLIENT, id),
                    queue: Vec::new(),
                    action_timer: None,
                    restart_timer: None,
                    action_started: SimTime::ZERO,
                    last_batch: SimTime::ZERO,
                    batches: 0,
                    cohort: k as u16,
                    known_deployments: 0,
                    action: Action::Idle,
                    online: false,
                    restart_waiting: false,
                    restart_forced: false,
                    restarted_by_shutdown: false,
                    power_off_waiting: false,
                });
                let mut applicability = streams.stream(family::APPLICABILITY, id);
                for u in &estate.updates {
                    let draw: f64 = applicability.random();
                    truth.push(if draw < u.applicability {
                        Truth::Missing
                    } else {
                        Truth::NotRequired
                    });
                }
            }
        }

        let mut world = World {
            estate,
            clients,
            reported: vec![compliance::DETECTION_UNKNOWN; truth.len()],
            truth,
            deployments: Vec::with_capacity(estate.deployments.len()),
            published: Vec::new(),
            in_transit: VecDeque::new(),
            batches: VecDeque::new(),
            site_rng: streams.stream(family::SITE, 0),
            totals: Totals::default(),
            timeline: Vec::new(),
            message_latency: ms_histogram(),
            min_batch_gap: None,
        };
        for spec in &estate.deployments {
            let mut targeted_cohort = vec![false; estate.cohorts.len()];
            for c in &spec.targets {
                targeted_cohort[c.index()] = true;
            }
            let blank = Cell {
                state: Compliance::Unknown,
                sub: compliance::RequiredSub::NotEvaluated,
            };
            let mut dep = DeploymentState {
                assignments: vec![Assignment::UNTARGETED; n_clients],
                true_cells: vec![blank; n_clients],
                reported_cells: vec![Compliance::Unknown; n_clients],
                counts: Counts::default(),
                targeted: spec.targeted(estate),
                published_at: None,
                thresholds: Thresholds::default(),
                ttc_true: ms_histogram(),
                ttc_reported: ms_histogram(),
                targeted_cohort,
            };
            for cohort in spec.targets.iter().map(|c| &estate.cohorts[c.index()]) {
                for c in cohort.first_client..cohort.first_client + cohort.count {
                    let a = &mut dep.assignments[c as usize];
                    a.phase = Phase::Unaware;
                    dep.counts.reported[Compliance::Unknown as usize] += 1;
                }
            }
            world.deployments.push(dep);
        }
        // Initial true cells and counts.
        for d in 0..world.deployments.len() {
            for c in 0..n_clients {
                if world.deployments[d].assignments[c].is_targeted() {
                    let cell = world.compute_true_cell(ClientId(c as u32), DeploymentId(d as u16));
                    let dep = &mut world.deployments[d];
                    dep.true_cells[c] = cell;
                    dep.counts.truth[cell.state as usize] += 1;
                    if cell.state == Compliance::Required {
                        dep.counts.sub[cell.sub as usize] += 1;
                    }
                    if cell.state.is_compliant() {
                        dep.assignments[c].true_compliant_at = SimTime::ZERO;
                    }
                }
            }
            world.check_thresholds(DeploymentId(d as u16), SimTime::ZERO);
        }
        world
    }

    /// Schedules the initial events: publications, each client's first poll,
    /// reporting cycle and power state, and the samples.
    pub fn start(&mut self, sched: &mut Scheduler<'_, Event>) {
        let estate = self.estate;
        for (d, spec) in estate.deployments.iter().enumerate() {
            let delay = estate.site.content_ready_delay.sample(&mut self.site_rng);
            sched.at(
                spec.created + delay,
                Event::DeploymentPublished(DeploymentId(d as u16)),
            );
        }
        for c in 0..self.clients.len() {
            let id = ClientId(c as u32);
            let cohort = &estate.cohorts[usize::from(self.clients[c].cohort)];
            let settings = &estate.settings[cohort.settings.index()];
            let client = &mut self.clients[c];
            let poll_phase = client
                .rng
                .random_range(0..settings.policy_polling_interval.as_ms());
            let report_phase = client
                .rng
                .random_range(0..settings.state_message_interval.as_ms());
            sched.at(SimTime(poll_phase), Event::PolicyPoll(id));
            sched.at(SimTime(report_phase), Event::ReportCycle(id));
            match cohort.power {
                PowerSpec::AlwaysOn => self.clients[c].online = true,
                PowerSpec::BusinessHours { .. } => self.schedule_first_power(id, sched),
            }
        }
        sched.at(SimTime::ZERO, Event::Sample);
    }

    /// The client settings that apply to a client.
    pub(crate) fn settings(&self, c: ClientId) -> &'e Settings {
        let cohort = &self.estate.cohorts[usize::from(self.clients[c.index()].cohort)];
        &self.estate.settings[cohort.settings.index()]
    }

    /// Index of (client, update) in the per-update arrays.
    pub(crate) fn slot(&self, c: ClientId, u: super::ids::UpdateId) -> usize {
        c.index() * self.estate.updates.len() + u.index()
    }

    fn compute_true_cell(&self, c: ClientId, d: DeploymentId) -> Cell {
        let spec = &self.estate.deployments[d.index()];
        let phase = self.deployments[d.index()].assignments[c.index()].phase;
        compliance::true_cell(
            spec.updates.iter().map(|&u| self.truth[self.slot(c, u)]),
            phase,
        )
    }

    /// Brings one client's cached deployment-level states and the counters
    /// up to date after anything about it changed.
    pub(crate) fn refresh(&mut self, c: ClientId, now: SimTime) {
        for d in 0..self.deployments.len() {
            if !self.deployments[d].assignments[c.index()].is_targeted() {
                continue;
            }
            let d_id = DeploymentId(d as u16);
            let cell = self.compute_true_cell(c, d_id);
            let spec = &self.estate.deployments[d];
            let reported = compliance::reported_state(
                spec.updates.iter().map(|&u| self.reported[self.slot(c, u)]),
            );
            let dep = &mut self.deployments[d];
            let mut crossed = false;
            let old = dep.true_cells[c.index()];
            if old != cell {
                dep.true_cells[c.index()] = cell;
                dep.counts.truth[old.state as usize] -= 1;
                dep.counts.truth[cell.state as usize] += 1;
                if old.state == Compliance::Required {
                    dep.counts.sub[old.sub as usize] -= 1;
                }
                if cell.state == Compliance::Required {
                    dep.counts.sub[cell.sub as usize] += 1;
                }
                let a = &mut dep.assignments[c.index()];
                if cell.state.is_compliant() && a.true_compliant_at == SimTime::MAX {
                    a.true_compliant_at = now;
                    dep.ttc_true
                        .saturating_record(now.since(spec.created).as_ms());
                    crossed = true;
                }
            }
            let old = dep.reported_cells[c.index()];
            if old != reported {
                dep.reported_cells[c.index()] = reported;
                dep.counts.reported[old as usize] -= 1;
                dep.counts.reported[reported as usize] += 1;
                let a = &mut dep.assignments[c.index()];
                if reported.is_compliant() && a.reported_compliant_at == SimTime::MAX {
                    a.reported_compliant_at = now;
                    dep.ttc_reported
                        .saturating_record(now.since(spec.created).as_ms());
                    crossed = true;
                }
            }
            if crossed {
                self.check_thresholds(d_id, now);
            }
        }
    }

    /// Records the first time each compliance threshold is reached.
    fn check_thresholds(&mut self, d: DeploymentId, now: SimTime) {
        let dep = &mut self.deployments[d.index()];
        let targeted = u64::from(dep.targeted);
        let true_ok = u64::from(Counts::compliant(&dep.counts.truth));
        let rep_ok = u64::from(Counts::compliant(&dep.counts.reported));
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
        let now = sched.now();
        for (d, dep) in self.deployments.iter().enumerate() {
            self.timeline
                .push(SampleRow::new(now, DeploymentId(d as u16), &dep.counts));
        }
        let next = now + self.estate.sample_interval;
        if next <= self.estate.end() {
            sched.at(next, Event::Sample);
        }
    }

    /// Ends the run and hands over what it recorded.
    pub fn finish(self, stats: RunStats) -> Outcome {
        let deployments = self
            .deployments
            .into_iter()
            .map(|dep| DeploymentRecord {
                targeted: dep.targeted,
                published_at: dep.published_at,
                thresholds: dep.thresholds,
                assignments: dep.assignments,
                time_to_compliant_true: dep.ttc_true,
                time_to_compliant_reported: dep.ttc_reported,
                final_truth: dep.counts.truth,
                final_reported: dep.counts.reported,
            })
            .collect();
        Outcome {
            events: stats.events,
            end: stats.now,
            timeline: self.timeline,
            deployments,
            totals: self.totals,
            message_latency: self.message_latency,
            min_batch_gap: self.min_batch_gap,
            batches_per_client: self.clients.iter().map(|c| c.batches).collect(),
        }
    }
}

impl Model for World<'_> {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        match event {
            Event::DeploymentPublished(d) => self.publish(d, sched.now()),
            Event::Sample => self.sample(sched),
            Event::PolicyPoll(c) => {
                let interval = self.settings(c).policy_polling_interval;
                sched.after(interval, Event::PolicyPoll(c));
                self.request_policy(c, sched);
            }
            Event::PolicyRequest(c) => self.request_policy(c, sched),
            Event::Wake(c) => self.next_action(c, sched),
            Event::ActionDone(c) => self.action_done(c, sched),
            Event::RestartDue(c) => self.restart_due(c, sched),
            Event::ReportCycle(c) => self.report_cycle(c, sched),
            Event::BatchInDatabase => self.batch_in_database(sched.now()),
            Event::PowerOn(c) => self.power_on(c, sched),
            Event::PowerOff(c) => self.power_off(c, sched),
        }
    }
}

/// Runs an estate to its end.
pub fn run(estate: &Estate) -> Outcome {
    run_with_progress(estate, u64::MAX, |_| {})
}

/// Runs an estate to its end, calling `progress` every `every` events.
pub fn run_with_progress(estate: &Estate, every: u64, progress: impl FnMut(RunStats)) -> Outcome {
    let mut sim = Simulation::new(World::new(estate));
    sim.setup(|world, sched| world.start(sched));
    let stats = sim.run_until_with(estate.end(), every, progress);
    sim.into_model().finish(stats)
}
