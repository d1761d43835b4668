//! The world: one run's live state, its parts, and the event dispatch.
//!
//! Owns [`World`] and the [`Model`] impl that hands each event to the file
//! that models it. The state is in parts, each owned by the file named
//! after it: [`Clients`] (`client.rs`), [`Deployments`] (`deployment.rs`),
//! [`Servers`] (`servers.rs`), [`Site`] (`site_server.rs`), [`Catalog`]
//! (`sync.rs`), [`Content`] (`content.rs`) and the [`Recorder`]
//! (`recorder.rs`). Behaviours that span
//! parts are `impl World` blocks in the role files (`client.rs`,
//! `power.rs`, `management_point.rs`, `update_point.rs`,
//! `distribution_point.rs`, `site_server.rs`, `sync.rs`, `faults.rs`); the
//! service at stations and the hints are the store's (`store/`). This file
//! builds the parts, schedules the first events, dispatches, samples the
//! timeline and hands the outcome over.

use std::collections::VecDeque;

use rand::Rng;

use super::client::Clients;
use super::content::Content;
use super::deployment::Deployments;
use super::events::Event;
use super::family;
use super::gateway::Gateways;
use super::record::{ContentBytes, Outcome, SampleRow, SyncKind, UpdateRow};
use super::recorder::Recorder;
use super::servers::Servers;
use super::site_server::Site;
use super::store::QuietPolls;
use super::sync::Catalog;
use super::trace::{TraceEvent, Tracer};
use super::wan_link::Links;
use super::windows::Schedule;
use super::wsus_pool::WsusPools;
use crate::engine::{
    EventKey, Model, RunEnd, RunStats, Scheduler, SimDuration, SimTime, Simulation, Streams,
};
use crate::estate::DpId;
use crate::estate::{
    ClientId, CohortSpec, DeploymentId, Estate, PhaseStart, PowerSpec, Settings, SiteId,
};

/// The whole simulated estate while it runs.
pub(crate) struct World<'e> {
    pub(super) estate: &'e Estate,
    pub(super) clients: Clients,
    pub(super) deployments: Deployments,
    pub(super) servers: Servers,
    pub(super) site: Site,
    pub(super) sync: Catalog,
    pub(super) recorder: Recorder<'e>,
    /// Peers holding content, transfers from peers and Microsoft Update.
    pub(super) content: Content,
    /// Cloud management gateways: connections and requests.
    pub(super) gateways: Gateways,
    /// The locations' WAN links and the content copied across them.
    pub(super) links: Links,
    /// The update points' WSUS application pools, where simulated.
    pub(super) pools: WsusPools,
    /// Simulate every poll, reporting tick and answer as an event, even
    /// those that do nothing (for testing the fast path against it).
    pub(super) explicit: bool,
    /// Clients whose reporting tick may need scheduling after this event.
    pub(super) report_dirty: Vec<ClientId>,
    /// Per cohort: the maintenance windows its clients install software
    /// updates in, merged.
    pub(super) windows: Vec<Schedule>,
    /// Phases whose reported compliance rose during this event: does the
    /// next phase's success criterion hold now?
    pub(super) phase_checks: Vec<DeploymentId>,
    /// Room for the deployments a refresh recomputes (`deployment.rs`).
    pub(super) changed: Vec<u16>,
    /// What this event set off that takes no time (a service of zero
    /// length, a forward without delay): handled in order right after it,
    /// before any other event, without a place on the agenda.
    pub(super) follow_ups: VecDeque<Event>,
    /// The clients whose polls are counted rather than simulated.
    pub(super) quiet: QuietPolls,
    /// Quiet clients that may have lost what they had during this event
    /// (see [`World::wake_quiet`]).
    pub(super) unquiet: Vec<ClientId>,
}

impl<'e> World<'e> {
    /// A world at time zero: clients built, applicability and GPO conflicts
    /// drawn, nothing scheduled yet (see [`World::start`]).
    pub(crate) fn new(estate: &'e Estate) -> Self {
        let streams = Streams::new(estate.seed);
        let (clients, gpo_conflicts, co_managed) = Clients::new(estate, streams);
        let mut world = World {
            estate,
            clients,
            deployments: Deployments::new(estate),
            servers: Servers::new(estate, |i| streams.stream(family::SERVER, i as u64)),
            site: Site::new(estate, streams),
            sync: Catalog::new(estate),
            recorder: Recorder::new(estate.cohorts.len(), gpo_conflicts, co_managed),
            content: Content::new(estate),
            gateways: Gateways::new(estate),
            links: Links::new(estate),
            pools: WsusPools::new(estate),
            explicit: false,
            report_dirty: Vec::new(),
            phase_checks: Vec::new(),
            changed: Vec::new(),
            follow_ups: VecDeque::new(),
            quiet: QuietPolls::default(),
            unquiet: Vec::new(),
            windows: Schedule::per_cohort(estate),
        };
        let samples = estate.end().as_ms() / estate.sample_interval.as_ms().max(1) + 1;
        let deployments = estate.deployments.len();
        let site_rows = if estate.hierarchy {
            deployments * estate.primaries.len()
        } else {
            0
        };
        let servers = world.servers.count() + estate.locations.len() + estate.gateways.len();
        (world.recorder).reserve_timelines(
            usize::try_from(samples).unwrap_or(usize::MAX),
            deployments,
            site_rows,
            estate.updates.len(),
            servers,
        );
        world.count_initial_cells();
        for c in 0..world.clients.len() {
            world.refresh_current(ClientId(c as u32));
        }
        world
    }

    /// Schedules the initial events: syncs, publications, each client's
    /// first poll, scan and re-evaluation cycles, reporting cycle and power
    /// state, and the samples.
    pub(crate) fn start(&mut self, sched: &mut Scheduler<'_, Event>) {
        let estate = self.estate;
        self.plan_quiet_polls();
        sched.at_fixed(
            estate.sync.first_scheduled,
            Event::SyncStart(SyncKind::Full),
        );
        for &t in &estate.sync.manual {
            sched.at_fixed(t, Event::SyncStart(SyncKind::Delta));
        }
        // Content is kept per update, so who distributes an update first
        // matters: the waits are drawn in deployment order (the site's
        // stream), the content laid out in the order it is distributed.
        let from = |spec: &crate::estate::DeploymentSpec| {
            // A later phase's content is distributed from the phased
            // deployment's creation; it enters policy once the phase has
            // begun.
            spec.phase.as_ref().map_or(spec.created, |p| p.content_from)
        };
        let mut plans = Vec::new();
        for (d, spec) in estate.deployments.iter().enumerate() {
            let d = DeploymentId(d as u16);
            if spec.rule.is_some() {
                continue; // made, with its content, when a rule's run fills it
            }
            for site in 0..estate.primaries.len() {
                if let Some(delay) = self.content_delay(d, site) {
                    plans.push((from(spec), d, site, delay));
                }
            }
        }
        plans.sort_by_key(|&(from, d, site, _)| (from, d, site));
        let mut ready = Vec::with_capacity(plans.len());
        let mut copies = Vec::new();
        for (from, d, site, delay) in plans {
            let (have, at) = self.content_plan(d, site, from, delay);
            ready.push((d, site, at));
            copies.push((have, from, d, site));
        }
        ready.sort_by_key(|&(d, site, _)| (d, site));
        let mut ready = ready.into_iter().peekable();
        for (d, spec) in estate.deployments.iter().enumerate() {
            let d = DeploymentId(d as u16);
            if spec.rule.is_some() {
                continue;
            }
            while let Some((_, site, at)) = ready.next_if(|r| r.0 == d) {
                match &spec.phase {
                    Some(_) => (self.deployments).set_phase_content_ready(d, site, at),
                    None => sched.at_fixed(at, Event::ContentReady(d, site as u16)),
                }
            }
            match spec.phase.as_ref().map(|p| p.begin) {
                None if spec.next_phase.is_some() => {
                    sched.at_fixed(spec.created, Event::PhaseBegin(d))
                }
                Some(PhaseStart::Manual(at)) => sched.at_fixed(at, Event::PhaseBegin(d)),
                _ => {}
            }
            for &(at, resume) in &spec.suspensions {
                sched.at_fixed(at, Event::Suspend(d));
                if resume != SimTime::MAX {
                    sched.at_fixed(resume, Event::Resume(d));
                }
            }
        }
        if !estate.locations.is_empty() {
            copies.sort_unstable();
            for (have, _, d, site) in copies {
                self.start_copies(d, site, have, sched);
            }
        }
        self.schedule_rules(sched);
        for (i, f) in estate.faults.iter().enumerate() {
            sched.at_fixed(f.start, Event::FaultBegin(i as u16));
            sched.at_fixed(f.end, Event::FaultEnd(i as u16));
        }
        // Each client's phases, from its own stream.
        let phases: Vec<[SimTime; 4]> = (0..self.clients.len() as u32)
            .map(|c| {
                let settings = self.settings(ClientId(c));
                let mut stream = self.clients.rng(ClientId(c));
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
            let client = &mut self.clients[id];
            client.poll_timer = Some(sched.periodic(poll, interval, Event::PolicyPoll(id, mp)));
            client.poll_phase = poll.as_ms() as u32;
        }
        for (c, &[poll, report, scan, reevaluation]) in phases.iter().enumerate() {
            let id = ClientId(c as u32);
            let timer = self.clients[id].poll_timer.expect("made above");
            sched.arm_periodic(timer, poll);
            self.clients[id].report_phase = report.as_ms() as u32;
            if self.explicit {
                sched.at_ranked(report, u64::from(id.0), Event::ReportCycle(id));
            }
            sched.at_fixed(scan, Event::ScanCycle(id));
            sched.at_fixed(reevaluation, Event::ReevaluationCycle(id));
            self.carry_in_scan_results(id, scan, reevaluation);
            // A dormant client never comes online (drawn only where the
            // share is set, so that other scenarios keep their draws).
            let dormant = self.cohort(id).dormant;
            if dormant > 0.0 && self.clients.rng(id).random::<f64>() < dormant {
                self.recorder.totals.clients_dormant += 1;
                continue;
            }
            match self.cohort(id).power {
                PowerSpec::AlwaysOn => self.clients.set_online_at_start(id, true),
                _ => self.schedule_first_power(id, sched),
            }
        }
        // Clients on the internet online at the start are connected to
        // their CMG.
        for cohort in &estate.cohorts {
            if let Some(g) = cohort.gateway {
                for c in cohort.clients().map(ClientId) {
                    if self.clients.online(c) {
                        self.gateways.connect(g, SimTime::ZERO);
                    }
                }
            }
        }
        sched.at_fixed(SimTime::ZERO, Event::Sample);
    }

    /// The cohort of a client.
    #[inline]
    pub(crate) fn cohort(&self, c: ClientId) -> &'e CohortSpec {
        &self.estate.cohorts[self.clients.cohort(c).index()]
    }

    /// The distribution point a client downloads from. Only an intranet
    /// client asks one: a client on the internet downloads from Microsoft
    /// Update ([`World::fetch`]).
    #[inline]
    pub(crate) fn own_dp(&self, c: ClientId) -> DpId {
        self.cohort(c)
            .dp
            .expect("only a client on the intranet downloads from a distribution point")
    }

    /// The client settings that apply to a client.
    #[inline]
    pub(crate) fn settings(&self, c: ClientId) -> &'e Settings {
        &self.estate.settings[self.cohort(c).settings.index()]
    }

    /// The primary site of a client.
    #[inline]
    pub(crate) fn site_of(&self, c: ClientId) -> usize {
        self.cohort(c).site.index()
    }

    /// Takes one row of every timeline, counting every event at the
    /// sample's own time, and schedules the next sample.
    fn sample(&mut self, sched: &mut Scheduler<'_, Event>) {
        let settled = self.settle_all(sched.key());
        let now = sched.now();
        self.sample_quiet(now);
        let recorder = &mut self.recorder;
        for d in self.deployments.ids() {
            (recorder.timeline).push(SampleRow::new(now, d, self.deployments.counts(d)));
        }
        if self.estate.hierarchy {
            for site in (0..self.estate.primaries.len() as u16).map(SiteId) {
                for d in self.deployments.ids() {
                    let mut row = SampleRow::new(now, d, self.deployments.site_counts(d, site));
                    row.site = Some(site);
                    recorder.site_timeline.push(row);
                }
            }
        }
        for u in (0..self.estate.updates.len() as u16).map(crate::estate::UpdateId) {
            let (truth, reported) = self.clients.update_counts(u);
            recorder.update_timeline.push(UpdateRow {
                time: now,
                update: u,
                truth,
                reported,
            });
        }
        // Downloads across WAN links count at their DPs and links as sent.
        self.settle_links(now);
        let recorder = &mut self.recorder;
        (self.servers).sample_load(now, &settled, &mut recorder.load);
        let first_link = self.servers.count();
        (self.links).sample_load(now, first_link, &mut recorder.load);
        if self.gateways.any() {
            // After every other server, the WAN links too (Outcome::servers
            // order).
            let first = first_link + self.estate.locations.len();
            (self.gateways).sample(now, first, &mut recorder.load);
        }
        let next = now + self.estate.sample_interval;
        if next <= self.estate.end() {
            sched.at_fixed(next, Event::Sample);
        }
    }

    /// Ends the run and hands over what it recorded.
    fn finish(mut self, stats: RunStats) -> Outcome {
        // Services that ended silently by the end, and polls counted (the
        // run handles events up to and including its end time).
        let end = EventKey {
            time: self.estate.end(),
            seq: u64::MAX,
        };
        self.finish_quiet(end);
        let settled = self.settle_all(end);
        let estate = self.estate;
        self.recorder.totals.updates_never_fit = self.updates_never_fit();
        let mut bytes = ContentBytes::default();
        for cohort in &self.recorder.cohort_bytes {
            bytes += cohort;
        }
        self.recorder.totals.set_content(&bytes);
        self.settle_links(estate.end());
        self.servers.close_dps(estate.end());
        self.links.close(estate.end());
        self.gateways.close(estate.end());
        let mut servers = self.servers.records(estate, &settled);
        servers.extend(self.links.records(estate));
        let content_copied_at = self.links.copied_at();
        let wsus_pools = self.pools.records();
        servers.extend(self.gateways.records(&estate.gateways));
        let pending = self.clients.queued_messages() + self.site.batches().messages_in_transit();
        let dp_downloads_at_end =
            self.servers.downloads_under_way() + self.links.downloads_under_way();
        let batches_per_client = self.clients.batches_per_client();
        let site_synced_at = self.site.synced_at();
        let (syncs, synced_at) = self.sync.into_records();
        let deployments = self.deployments.into_records(estate);
        let recorded = self.recorder.into_parts();
        Outcome {
            cohort_timings: recorded.cohort_timings,
            cohort_bytes: recorded.cohort_bytes,
            servers,
            load: recorded.load,
            messages_pending_at_end: pending,
            dp_downloads_at_end,
            events: stats.events,
            end: stats.now,
            timeline: recorded.timeline,
            site_timeline: recorded.site_timeline,
            site_synced_at,
            update_timeline: recorded.update_timeline,
            syncs,
            synced_at,
            gpo_conflicts: recorded.gpo_conflicts,
            co_managed: recorded.co_managed,
            deployments,
            totals: recorded.totals,
            message_latency: recorded.message_latency,
            min_batch_gap: recorded.min_batch_gap,
            batches_per_client,
            content_copied_at,
            wsus_pools,
        }
    }

    /// The trace record of an event as it is handled (state changes and
    /// messages it causes follow as records of their own). Events that are
    /// plumbing (samples, servers' endings, batches in transit) or traced
    /// where they take effect (a fault, a switch-off an install delays)
    /// have none.
    fn trace_event(&mut self, event: Event, now: SimTime) {
        let (client, traced) = match event {
            // Traced where a sync begins: a trigger while one runs starts
            // none, or waits for it.
            Event::SyncStart(_) => return,
            Event::SyncPoll => (None, TraceEvent::SyncPoll),
            Event::ContentReady(deployment, _) => (None, TraceEvent::ContentReady { deployment }),
            // Traced where it takes effect: a manual begin may wait for the
            // previous phase.
            Event::PhaseBegin(_) => return,
            Event::Suspend(deployment) => (None, TraceEvent::PhaseSuspended { deployment }),
            Event::Resume(deployment) => (None, TraceEvent::PhaseResumed { deployment }),
            // Traced where clients learn it.
            Event::PolicyToggle(..) => return,
            // Traced with what it did.
            Event::RuleRun(_) => return,
            // Traced where they take effect: a sync that fails at the insert
            // is not inserted, and a retry that a running sync makes
            // pointless does not run.
            Event::SyncInserted | Event::SyncRetry => return,
            Event::SiteSynced(..)
            | Event::Replicated(_)
            | Event::Sample
            | Event::Wake(_)
            | Event::ReportCycle(_)
            | Event::BatchForwarded(_)
            // Traced where it sends a batch: one its reporting tick has
            // sent already, or that waits for the client, sends none.
            | Event::InstallReport(_)
            // Traced as the request it makes.
            | Event::ResyncDue(_)
            | Event::Served(..)
            | Event::DpTick(_)
            | Event::LinkTick(_)
            | Event::CopyPace(_)
            | Event::FaultBegin(_)
            | Event::FaultEnd(_)
            | Event::PoolRestarted(_)
            | Event::PowerOff(_) => return,
            // Traced where a request is made: a poll while one is out, or
            // during a backoff, asks nothing.
            Event::PolicyPoll(..) | Event::PolicyRequest(_) | Event::PolicyRetry(_) => return,
            Event::ScanCycle(c) => (Some(c), TraceEvent::ScanCycle),
            Event::ReevaluationCycle(c) => (Some(c), TraceEvent::ReevaluationCycle),
            Event::ActionDone(c) => match self.action_done_event(c) {
                Some(traced) => (Some(c), traced),
                None => return,
            },
            Event::RestartDue(c) => (Some(c), TraceEvent::RestartDue),
            Event::BackgroundInstallDone(c, update) => {
                (Some(c), TraceEvent::BackgroundInstallDone { update })
            }
            Event::PowerOn(c) => (Some(c), TraceEvent::PowerOn),
        };
        // Periodic events an offline client ignores are not traced.
        if let Some(c) = client
            && !self.clients.online(c)
            && matches!(event, Event::ScanCycle(_) | Event::ReevaluationCycle(_))
        {
            return;
        }
        self.recorder.trace(now, client, || traced);
    }
}

impl Model for World<'_> {
    type Event = Event;

    #[inline]
    fn hint(&self, event: &Event) {
        World::hint(self, event);
    }

    #[inline]
    fn hint_through(&self, event: &Event) {
        World::hint_through(self, event);
    }

    fn instant_done(&mut self, sched: &mut Scheduler<'_, Event>) {
        self.sample(sched);
    }

    fn handle(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        self.dispatch(event, sched);
        if !self.follow_ups.is_empty() || !self.unquiet.is_empty() {
            self.after_event(sched);
        }
        while let Some(c) = self.report_dirty.pop() {
            self.arm_report(c, sched.now(), sched);
        }
        while let Some(d) = self.phase_checks.pop() {
            self.check_phase_goal(d, sched);
        }
        let clients = &mut self.clients;
        self.deployments
            .settle_touched(|c| clients.set_lingering(c));
        self.clients.settle_touched();
        // A phase's success schedules its begin, whose publication wakes
        // quiet clients at an event of its own.
        debug_assert!(self.unquiet.is_empty() && self.follow_ups.is_empty());
    }
}

impl World<'_> {
    /// The follow-ups of the event just handled, then the quiet clients it
    /// woke.
    #[inline(never)]
    fn after_event(&mut self, sched: &mut Scheduler<'_, Event>) {
        while let Some(next) = self.follow_ups.pop_front() {
            self.dispatch(next, sched);
        }
        while let Some(c) = self.unquiet.pop() {
            self.wake_quiet(c, sched);
        }
    }

    /// Handles one event, or one of its follow-ups. (Inlined into both
    /// callers: as a call of its own it cost every event its prologue.)
    #[inline(always)]
    fn dispatch(&mut self, event: Event, sched: &mut Scheduler<'_, Event>) {
        if self.recorder.tracing() {
            self.trace_event(event, sched.now());
        }
        match event {
            Event::SyncStart(kind) => self.sync_start(kind, sched),
            Event::SyncPoll => self.sync_poll(sched),
            Event::SyncInserted => self.sync_inserted(sched),
            Event::SyncRetry => self.sync_retry(sched),
            Event::SiteSynced(site, sync) => {
                self.site_synced(usize::from(site), sync as usize, sched)
            }
            Event::ContentReady(d, site) => {
                self.content_ready(d, usize::from(site), sched.now());
                self.policy_changed(sched);
            }
            Event::PhaseBegin(d) => self.phase_begin(d, sched),
            Event::Suspend(d) => self.suspend(d, sched),
            Event::Resume(d) => self.resume(d, sched),
            Event::PolicyToggle(d, site, disabled) => {
                self.toggle_site(d, usize::from(site), disabled, sched)
            }
            Event::RuleRun(r) => self.rule_run(usize::from(r), sched),
            // The row is taken once every event at this instant is in.
            Event::Sample => sched.at_end_of_instant(),
            Event::PolicyPoll(c, mp) => self.policy_poll(c, usize::from(mp), sched),
            Event::PolicyRequest(c) => self.request_policy(c, sched),
            Event::PolicyRetry(c) => self.retry_policy(c, sched),
            Event::ScanCycle(c) => self.scan_cycle(c, sched),
            Event::ReevaluationCycle(c) => self.reevaluation_cycle(c, sched),
            Event::Wake(c) => self.next_action(c, sched),
            Event::ActionDone(c) => self.action_done(c, sched),
            Event::RestartDue(c) => self.restart_due(c, sched),
            Event::BackgroundInstallDone(c, u) => self.background_install_done(c, u, sched),
            Event::ReportCycle(c) => self.report_cycle(c, sched),
            Event::InstallReport(c) => self.install_report(c, sched),
            Event::BatchForwarded(slot) => self.batch_forwarded(slot, sched),
            Event::ResyncDue(c) => self.resync_due(c, sched),
            Event::Replicated(slot) => self.replicated(slot, sched.now()),
            Event::Served(station, slot) => self.served(usize::from(station), slot, sched),
            Event::PoolRestarted(station) => self.pool_restarted(usize::from(station), sched),
            Event::DpTick(dp) => self.dp_tick(dp, sched),
            Event::LinkTick(link) => self.link_tick(link, sched),
            Event::CopyPace(dp) => self.copy_pace(dp, sched),
            Event::FaultBegin(i) => self.fault_begin(usize::from(i), sched),
            Event::FaultEnd(i) => self.fault_end(usize::from(i), sched),
            Event::PowerOn(c) => self.power_on(c, sched),
            Event::PowerOff(c) => self.power_off(c, sched),
        }
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
    world.explicit = options.explicit;
    if let Some(tracer) = options.tracer {
        world.recorder.set_tracer(tracer);
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
        RunEnd::Completed(stats) => Ok(sim.into_model().finish(stats)),
        RunEnd::Stopped(stats) => Err(Stopped(stats)),
    }
}
