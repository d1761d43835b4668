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
use super::ids::{ClientId, DeploymentId, UpdateId};
use super::record::{
    Assignment, DeploymentRecord, Outcome, SampleRow, SyncKind, SyncRecord, THRESHOLDS, Thresholds,
    Totals, UpdateRow, ms_histogram,
};
use super::trace::{TraceRecord, Tracer};
use crate::engine::{
    Model, RunStats, Scheduler, SimDuration, SimTime, Simulation, StreamRng, Streams, TimerId,
};

/// Stream families: one stream per entity of each.
pub(crate) mod family {
    /// A client's behaviour (phases, durations, user choices).
    pub const CLIENT: u16 = 0;
    /// Which updates apply to a client and whether its GPO conflicts
    /// (drawn once, at the start).
    pub const APPLICABILITY: u16 = 1;
    /// The site server (content distribution, syncs).
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

/// Why a client restarts, for the totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RestartCause {
    User,
    Forced,
    InWindow,
}

/// A state message waiting on a client or in transit.
#[derive(Clone, Copy, Debug)]
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

/// One client's live state.
pub(crate) struct Client {
    pub(crate) rng: StreamRng,
    pub(crate) queue: Vec<StateMsg>,
    pub(crate) action_timer: Option<TimerId>,
    pub(crate) restart_timer: Option<TimerId>,
    pub(crate) action_started: SimTime,
    pub(crate) last_batch: SimTime,
    /// When the next scheduled or first scan is due (`MAX`: none).
    pub(crate) scan_due: SimTime,
    /// When the planned restart happens (valid while `restart_timer` is set).
    pub(crate) restart_at: SimTime,
    pub(crate) batches: u32,
    pub(crate) cohort: u16,
    pub(crate) known_deployments: u16,
    pub(crate) action: Action,
    pub(crate) online: bool,
    /// It has the software updates policy (metadata available, SUP location).
    pub(crate) has_update_policy: bool,
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
}

/// Per-deployment live state.
pub(crate) struct DeploymentState {
    pub(crate) targeted_cohort: Vec<bool>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) true_cells: Vec<Cell>,
    pub(crate) reported_cells: Vec<Cell>,
    /// Last enforcement (topic 301) state in the site database, per client.
    pub(crate) reported_enforcement: Vec<u8>,
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
    pub(crate) clients: Vec<Client>,
    /// True per-update state, `[client * updates + update]`.
    pub(crate) truth: Vec<Truth>,
    /// Site database per-update detection state (topic 500 ids), same layout.
    pub(crate) reported: Vec<u8>,
    /// The detection state each client last queued, same layout: clients
    /// send detection messages only for changes.
    pub(crate) sent: Vec<u8>,
    /// Site database: each client's last scan state (topic 501).
    pub(crate) reported_scan: Vec<u8>,
    /// Per-update counts over all clients, true and reported.
    pub(crate) update_truth: Vec<[u32; 4]>,
    pub(crate) update_reported: Vec<[u32; 4]>,
    pub(crate) deployments: Vec<DeploymentState>,
    /// Deployments in the order their policy was published.
    pub(crate) published: Vec<DeploymentId>,
    /// Deployments whose content is ready but whose updates are not synced.
    pub(crate) awaiting_sync: Vec<DeploymentId>,
    /// When each update's metadata reached the site database (`MAX`: not yet).
    pub(crate) synced_at: Vec<SimTime>,
    /// The site-wide software updates policy is published.
    pub(crate) update_policy_published: bool,
    pub(crate) running_sync: Option<RunningSync>,
    pub(crate) syncs: Vec<SyncRecord>,
    /// Messages in transit, oldest first, and the batches they form.
    pub(crate) in_transit: VecDeque<StateMsg>,
    pub(crate) batches: VecDeque<Batch>,
    pub(crate) site_rng: StreamRng,
    pub(crate) totals: Totals,
    pub(crate) timeline: Vec<SampleRow>,
    pub(crate) update_timeline: Vec<UpdateRow>,
    pub(crate) message_latency: hdrhistogram::Histogram<u64>,
    pub(crate) min_batch_gap: Option<SimDuration>,
    pub(crate) gpo_conflicts: Vec<u32>,
}

impl<'e> World<'e> {
    /// A world at time zero: clients built, applicability and GPO conflicts
    /// drawn, nothing scheduled yet (see [`World::start`]).
    pub fn new(estate: &'e Estate) -> Self {
        let streams = Streams::new(estate.seed);
        let n_clients = estate.client_count() as usize;
        let n_updates = estate.updates.len();
        let synced_at: Vec<SimTime> = estate
            .updates
            .iter()
            .map(|u| {
                if estate.sync.initially_synced && u.release.is_none() {
                    SimTime::ZERO
                } else {
                    SimTime::MAX
                }
            })
            .collect();

        let mut clients = Vec::with_capacity(n_clients);
        let mut truth = Vec::with_capacity(n_clients * n_updates);
        let mut gpo_conflicts = vec![0; estate.cohorts.len()];
        for (k, cohort) in estate.cohorts.iter().enumerate() {
            for i in 0..cohort.count {
                let id = u64::from(cohort.first_client + i);
                let mut draws = streams.stream(family::APPLICABILITY, id);
                let gpo_conflict = draws.random::<f64>() < cohort.gpo_conflict;
                gpo_conflicts[k] += u32::from(gpo_conflict);
                for u in &estate.updates {
                    let draw: f64 = draws.random();
                    truth.push(if gpo_conflict {
                        Truth::Unmanaged
                    } else if draw < u.applicability {
                        Truth::Missing
                    } else {
                        Truth::NotRequired
                    });
                }
                clients.push(Client {
                    rng: streams.stream(family::CLIENT, id),
                    queue: Vec::new(),
                    action_timer: None,
                    restart_timer: None,
                    action_started: SimTime::ZERO,
                    last_batch: SimTime::ZERO,
                    scan_due: SimTime::MAX,
                    restart_at: SimTime::MAX,
                    batches: 0,
                    cohort: k as u16,
                    known_deployments: 0,
                    action: Action::Idle,
                    online: false,
                    has_update_policy: estate.sync.initially_synced,
                    gpo_conflict,
                    reevaluation_due: false,
                    restart_waiting: false,
                    restart_cause: RestartCause::User,
                    restarted_by_shutdown: false,
                    power_off_waiting: false,
                });
            }
        }
        // The site already holds every managed client's state for updates
        // synced before the start.
        let mut reported = vec![compliance::DETECTION_UNKNOWN; truth.len()];
        let mut update_truth = vec![[0u32; 4]; n_updates];
        let mut update_reported = vec![[0u32; 4]; n_updates];
        for (slot, t) in truth.iter().enumerate() {
            let u = slot % n_updates;
            if synced_at[u] == SimTime::ZERO {
                reported[slot] = t.detection_state();
            }
            update_truth[u][t.compliance() as usize] += 1;
            update_reported[u][detection_compliance(reported[slot]) as usize] += 1;
        }

        let mut world = World {
            estate,
            tracer: None,
            clients,
            sent: reported.clone(),
            reported,
            truth,
            reported_scan: vec![0; n_clients],
            update_truth,
            update_reported,
            deployments: Vec::with_capacity(estate.deployments.len()),
            published: Vec::new(),
            awaiting_sync: Vec::new(),
            synced_at,
            update_policy_published: estate.sync.initially_synced,
            running_sync: None,
            syncs: Vec::new(),
            in_transit: VecDeque::new(),
            batches: VecDeque::new(),
            site_rng: streams.stream(family::SITE, 0),
            totals: Totals::default(),
            timeline: Vec::new(),
            update_timeline: Vec::new(),
            message_latency: ms_histogram(),
            min_batch_gap: None,
            gpo_conflicts,
        };
        for spec in &estate.deployments {
            let mut targeted_cohort = vec![false; estate.cohorts.len()];
            for c in &spec.targets {
                targeted_cohort[c.index()] = true;
            }
            let mut dep = DeploymentState {
                assignments: vec![Assignment::UNTARGETED; n_clients],
                true_cells: vec![Cell::UNKNOWN; n_clients],
                reported_cells: vec![Cell::UNKNOWN; n_clients],
                reported_enforcement: vec![0; n_clients],
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
                let (t, r) = world.cells(ClientId(c as u32), DeploymentId(d as u16));
                let dep = &mut world.deployments[d];
                dep.true_cells[c] = t;
                dep.reported_cells[c] = r;
                dep.counts.truth.add(t);
                dep.counts.reported.add(r);
                if t.state.is_compliant() {
                    dep.assignments[c].true_compliant_at = SimTime::ZERO;
                }
                if r.state.is_compliant() {
                    dep.assignments[c].reported_compliant_at = SimTime::ZERO;
                }
            }
            world.check_thresholds(DeploymentId(d as u16), SimTime::ZERO);
        }
        world
    }

    /// Schedules the initial events: syncs, publications, each client's
    /// first poll, scan and re-evaluation cycles, reporting cycle and power
    /// state, and the samples.
    pub fn start(&mut self, sched: &mut Scheduler<'_, Event>) {
        let estate = self.estate;
        sched.at(
            estate.sync.first_scheduled,
            Event::SyncStart(SyncKind::Full),
        );
        for &t in &estate.sync.manual {
            sched.at(t, Event::SyncStart(SyncKind::Delta));
        }
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
            let rng = &mut self.clients[c].rng;
            let phase = |rng: &mut StreamRng, period: SimDuration| {
                SimTime(rng.random_range(0..period.as_ms()))
            };
            let poll = phase(rng, settings.policy_polling_interval);
            let report = phase(rng, settings.state_message_interval);
            let scan = phase(rng, settings.scan_interval);
            let reevaluation = phase(rng, settings.reevaluation_interval);
            sched.at(poll, Event::PolicyPoll(id));
            sched.at(report, Event::ReportCycle(id));
            sched.at(scan, Event::ScanCycle(id));
            sched.at(reevaluation, Event::ReevaluationCycle(id));
            match cohort.power {
                PowerSpec::AlwaysOn => self.clients[c].online = true,
                _ => self.schedule_first_power(id, sched),
            }
        }
        sched.at(SimTime::ZERO, Event::Sample);
    }

    /// Sends trace records to `tracer` from now on.
    pub fn set_tracer(&mut self, tracer: Tracer<'e>) {
        self.tracer = Some(tracer);
    }

    /// Emits a trace record built by `f`, if tracing wants it.
    pub(crate) fn trace(&mut self, client: Option<ClientId>, f: impl FnOnce() -> TraceRecord) {
        if let Some(tracer) = &mut self.tracer
            && tracer.wants(client)
        {
            tracer.emit(f());
        }
    }

    /// The client settings that apply to a client.
    pub(crate) fn settings(&self, c: ClientId) -> &'e Settings {
        let cohort = &self.estate.cohorts[usize::from(self.clients[c.index()].cohort)];
        &self.estate.settings[cohort.settings.index()]
    }

    /// The cohort of a client.
    pub(crate) fn cohort(&self, c: ClientId) -> &'e super::estate::CohortSpec {
        &self.estate.cohorts[usize::from(self.clients[c.index()].cohort)]
    }

    /// Index of (client, update) in the per-update arrays.
    pub(crate) fn slot(&self, c: ClientId, u: UpdateId) -> usize {
        c.index() * self.estate.updates.len() + u.index()
    }

    /// Sets a client's true state of one update, keeping the counts right.
    pub(crate) fn set_truth(&mut self, c: ClientId, u: UpdateId, t: Truth) {
        let slot = self.slot(c, u);
        let old = std::mem::replace(&mut self.truth[slot], t);
        let counts = &mut self.update_truth[u.index()];
        counts[old.compliance() as usize] -= 1;
        counts[t.compliance() as usize] += 1;
    }

    /// Sets the site database's detection state of one update for a client.
    pub(crate) fn set_reported(&mut self, c: ClientId, u: UpdateId, state: u8) {
        let slot = self.slot(c, u);
        let old = std::mem::replace(&mut self.reported[slot], state);
        let counts = &mut self.update_reported[u.index()];
        counts[detection_compliance(old) as usize] -= 1;
        counts[detection_compliance(state) as usize] += 1;
    }

    fn cells(&self, c: ClientId, d: DeploymentId) -> (Cell, Cell) {
        let spec = &self.estate.deployments[d.index()];
        let dep = &self.deployments[d.index()];
        let phase = dep.assignments[c.index()].phase;
        let t = compliance::true_cell(
            spec.updates.iter().map(|&u| self.truth[self.slot(c, u)]),
            phase,
        );
        let r = compliance::reported_cell(
            spec.updates.iter().map(|&u| self.reported[self.slot(c, u)]),
            dep.reported_enforcement[c.index()],
            self.reported_scan[c.index()],
        );
        (t, r)
    }

    /// Brings one client's cached deployment-level states and the counters
    /// up to date after anything about it changed.
    pub(crate) fn refresh(&mut self, c: ClientId, now: SimTime) {
        for d in 0..self.deployments.len() {
            if !self.deployments[d].assignments[c.index()].is_targeted() {
                continue;
            }
            let (cell, reported) = self.cells(c, DeploymentId(d as u16));
            let created = self.estate.deployments[d].created;
            let dep = &mut self.deployments[d];
            let mut crossed = false;
            let old = dep.true_cells[c.index()];
            let old_reported = dep.reported_cells[c.index()];
            if self.tracer.is_some() {
                let d_id = DeploymentId(d as u16);
                for (event, from, to) in [
                    ("true_state", old, cell),
                    ("reported_state", old_reported, reported),
                ] {
                    if from != to {
                        self.trace(Some(c), || TraceRecord {
                            deployment: Some(d_id),
                            from: Some(cell_name(from)),
                            to: Some(cell_name(to)),
                            ..TraceRecord::new(now, Some(c), event)
                        });
                    }
                }
            }
            let dep = &mut self.deployments[d];
            if old != cell {
                dep.true_cells[c.index()] = cell;
                dep.counts.truth.remove(old);
                dep.counts.truth.add(cell);
                let a = &mut dep.assignments[c.index()];
                if cell.state.is_compliant() && a.true_compliant_at == SimTime::MAX {
                    a.true_compliant_at = now;
                    dep.ttc_true.saturating_record(now.since(created).as_ms());
                    crossed = true;
                }
            }
            let old = dep.reported_cells[c.index()];
            if old != reported {
                dep.reported_cells[c.index()] = reported;
                dep.counts.reported.remove(old);
                dep.counts.reported.add(reported);
                let a = &mut dep.assignments[c.index()];
                if reported.state.is_compliant() && a.reported_compliant_at == SimTime::MAX {
                    a.reported_compliant_at = now;
                    dep.ttc_reported
                        .saturating_record(now.since(created).as_ms());
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
        let now = sched.now();
        for (d, dep) in self.deployments.iter().enumerate() {
            self.timeline
                .push(SampleRow::new(now, DeploymentId(d as u16), &dep.counts));
        }
        for u in 0..self.estate.updates.len() {
            self.update_timeline.push(UpdateRow {
                time: now,
                update: UpdateId(u as u16),
                truth: self.update_truth[u],
                reported: self.update_reported[u],
            });
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
                final_truth: dep.counts.truth.states,
                final_reported: dep.counts.reported.states,
                final_reported_unknown_scan_failed: dep.counts.reported.unknown_scan_failed,
            })
            .collect();
        Outcome {
            events: stats.events,
            end: stats.now,
            timeline: self.timeline,
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
            message_latency: self.message_latency,
            min_batch_gap: self.min_batch_gap,
            batches_per_client: self.clients.iter().map(|c| c.batches).collect(),
        }
    }
}

/// `required/downloading`, `installed`, `unknown/scan_failed`: a cell in a trace.
fn cell_name(cell: Cell) -> &'static str {
    use super::compliance::RequiredSub as S;
    match (cell.state, cell.sub, cell.scan_failed) {
        (Compliance::Required, S::NotEvaluated, _) => "required/not_evaluated",
        (Compliance::Required, S::Detected, _) => "required/detected",
        (Compliance::Required, S::Downloading, _) => "required/downloading",
        (Compliance::Required, S::Downloaded, _) => "required/downloaded",
        (Compliance::Required, S::WaitingWindow, _) => "required/waiting_window",
        (Compliance::Required, S::Installing, _) => "required/installing",
        (Compliance::Required, S::PendingRestart, _) => "required/pending_restart",
        (Compliance::Required, S::Failed, _) => "required/failed",
        (Compliance::Unknown, _, true) => "unknown/scan_failed",
        (state, _, _) => state.name(),
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

    fn handle(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        if self.tracer.is_some() {
            self.trace_event(event, sched.now());
        }
        match event {
            Event::SyncStart(kind) => self.sync_start(kind, sched),
            Event::SyncPoll => self.sync_poll(sched),
            Event::SyncInserted => self.sync_inserted(sched),
            Event::DeploymentPublished(d) => self.content_ready(d, sched.now()),
            Event::Sample => self.sample(sched),
            Event::PolicyPoll(c) => {
                let interval = self.settings(c).policy_polling_interval;
                sched.after(interval, Event::PolicyPoll(c));
                self.request_policy(c, sched);
            }
            Event::PolicyRequest(c) => self.request_policy(c, sched),
            Event::ScanCycle(c) => self.scan_cycle(c, sched),
            Event::ReevaluationCycle(c) => self.reevaluation_cycle(c, sched),
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

impl World<'_> {
    /// The trace record of an event as it is handled (state changes and
    /// messages it causes follow as records of their own).
    fn trace_event(&mut self, event: Event, now: SimTime) {
        let (client, name) = match event {
            Event::SyncStart(SyncKind::Full) => (None, "sync_start_full"),
            Event::SyncStart(SyncKind::Delta) => (None, "sync_start_delta"),
            Event::SyncPoll => (None, "sync_poll"),
            Event::SyncInserted => (None, "sync_inserted"),
            Event::DeploymentPublished(d) => {
                self.trace(None, || TraceRecord {
                    deployment: Some(d),
                    ..TraceRecord::new(now, None, "content_ready")
                });
                return;
            }
            Event::Sample | Event::Wake(_) | Event::ReportCycle(_) => return,
            Event::BatchInDatabase => match self.batches.front() {
                Some(b) => (Some(b.client), "batch_in_database"),
                None => return,
            },
            Event::PolicyPoll(c) | Event::PolicyRequest(c) => (Some(c), "policy_request"),
            Event::ScanCycle(c) => (Some(c), "scan_cycle"),
            Event::ReevaluationCycle(c) => (Some(c), "reevaluation_cycle"),
            Event::ActionDone(c) => (
                Some(c),
                match self.clients[c.index()].action {
                    Action::Scan => "scan_done",
                    Action::Download(_) => "download_done",
                    Action::Install(_) => "install_done",
                    Action::Restart => "restart_done",
                    Action::Idle => "idle",
                },
            ),
            Event::RestartDue(c) => (Some(c), "restart_due"),
            Event::PowerOn(c) => (Some(c), "power_on"),
            // Traced when it happens: an install in progress delays it.
            Event::PowerOff(_) => return,
        };
        let value = match event {
            Event::BatchInDatabase => self.batches.front().map(|b| u64::from(b.messages)),
            _ => None,
        };
        let online = client.map(|c| self.clients[c.index()].online);
        // Periodic events an offline client ignores are not traced.
        if online == Some(false)
            && matches!(
                event,
                Event::PolicyPoll(_)
                    | Event::PolicyRequest(_)
                    | Event::ScanCycle(_)
                    | Event::ReevaluationCycle(_)
            )
        {
            return;
        }
        self.trace(client, || TraceRecord {
            value,
            ..TraceRecord::new(now, client, name)
        });
    }
}

/// How to run: progress reporting and tracing.
pub struct RunOptions<'a> {
    /// Call `progress` every this many events.
    pub progress_every: u64,
    /// Progress callback (must not touch simulated state).
    pub progress: Box<dyn FnMut(RunStats) + 'a>,
    /// Where trace records go, if anywhere.
    pub tracer: Option<Tracer<'a>>,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            progress_every: u64::MAX,
            progress: Box::new(|_| {}),
            tracer: None,
        }
    }
}

/// Runs an estate to its end.
pub fn run(estate: &Estate) -> Outcome {
    run_traced(estate, RunOptions::default())
}

/// Runs an estate to its end, calling `progress` every `every` events.
pub fn run_with_progress(estate: &Estate, every: u64, progress: impl FnMut(RunStats)) -> Outcome {
    run_traced(
        estate,
        RunOptions {
            progress_every: every,
            progress: Box::new(progress),
            tracer: None,
        },
    )
}

/// Runs an estate to its end with the given options.
pub fn run_traced<'a>(estate: &'a Estate, options: RunOptions<'a>) -> Outcome {
    let mut world = World::new(estate);
    if let Some(tracer) = options.tracer {
        world.set_tracer(tracer);
    }
    let mut sim = Simulation::new(world);
    sim.setup(|world, sched| world.start(sched));
    let stats = sim.run_until_with(estate.end(), options.progress_every, options.progress);
    sim.into_model().finish(stats)
}
