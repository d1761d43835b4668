//! Deployments and the clients' assignments to them: where each client
//! stands, and the counters the compliance timeline is read from.
//!
//! Owns [`Deployments`]: per deployment its live counts (true and as each
//! database reports them), when its policy was published, the first time
//! each compliance threshold was reached and the time-to-compliant
//! histograms; per client and deployment its [`LiveAssignment`]. Owns the
//! rule that keeps them right: after anything about a client changes,
//! [`World::refresh`] rolls its per-update states up into one cell per
//! deployment (`compliance.rs`'s rules) and moves the counters, so that a
//! sample costs nothing per client.

use std::ops::Deref;
use std::sync::Arc;

use super::client::SCAN_TOUCHED;
use super::compliance::{self, Cell, Counts, Phase};
use super::events::Event;
use super::record::{
    Assignment, ClientAssignments, CohortBreakdown, DeploymentRecord, MsHistogram, PhaseReason,
    PhaseRecord, THRESHOLDS, Thresholds,
};
use super::store::{AssignmentTable, Database, Targets, Touched};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{Scheduler, SimTime};
use crate::estate::{
    ClientId, CohortId, DeploymentId, Estate, PhaseStart, Purpose, SiteId, UpdateId,
};

/// One client's path through one deployment while the run goes: what
/// becomes its [`Assignment`], without the two times only the results read
/// (when the policy came, when the first install began), which are kept
/// apart.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LiveAssignment {
    pub(crate) phase: Phase,
    /// When the current phase's next step is due (evaluation, deadline, retry).
    pub(crate) due: SimTime,
    /// This client's deadline, randomization included.
    pub(crate) deadline_at: SimTime,
    /// When its user installs a Required deployment from Software Center
    /// before the deadline (`SimTime::MAX`: never).
    pub(crate) early_at: SimTime,
    /// Content bytes still to download (`u64::MAX` before the first evaluation).
    pub(crate) remaining: u64,
    /// As in [`Assignment`].
    pub(crate) true_compliant_at: SimTime,
    pub(crate) reported_compliant_at: SimTime,
    /// Its cells, cached for the counts: true, as the top-level database
    /// shows it, and (in a hierarchy) as its primary's database shows it.
    pub(crate) true_cell: Cell,
    pub(crate) reported_cell: Cell,
    pub(crate) site_cell: Cell,
    /// Last enforcement (topic 301) state in its site's database, and in
    /// the CAS's (a hierarchy only).
    pub(crate) enforcement: u8,
    pub(crate) cas_enforcement: u8,
    /// The last compliance (300) and enforcement (301) states the client
    /// queued, for a resync (kept only where batches can be lost; 0:
    /// none).
    pub(crate) sent_compliance: u8,
    pub(crate) sent_enforcement: u8,
}

impl LiveAssignment {
    pub(crate) const UNTARGETED: LiveAssignment = LiveAssignment {
        phase: Phase::Untargeted,
        due: SimTime::MAX,
        deadline_at: SimTime::MAX,
        early_at: SimTime::MAX,
        remaining: u64::MAX,
        true_compliant_at: SimTime::MAX,
        reported_compliant_at: SimTime::MAX,
        true_cell: Cell::UNKNOWN,
        reported_cell: Cell::UNKNOWN,
        site_cell: Cell::UNKNOWN,
        enforcement: 0,
        cas_enforcement: 0,
        sent_compliance: 0,
        sent_enforcement: 0,
    };

    /// Whether the deployment targets this client.
    pub(crate) fn is_targeted(&self) -> bool {
        self.phase != Phase::Untargeted
    }

    /// Whether its current phase is `phase` with its step due by `now`.
    pub(crate) fn due_in(&self, phase: Phase, now: SimTime) -> bool {
        self.phase == phase && self.due <= now
    }

    /// When its install is due once its content is in: the deadline, or
    /// its user's install before it.
    pub(crate) fn install_due(&self) -> SimTime {
        self.deadline_at.min(self.early_at)
    }

    /// Whether an install starting at `now` is its user's, before the
    /// deadline (no maintenance window gates it).
    pub(crate) fn early(&self, now: SimTime) -> bool {
        now < self.deadline_at
    }

    /// The result, with the two times kept apart:
    /// `[learned_at, install_started_at]`.
    fn with_times(&self, [learned_at, install_started_at]: [SimTime; 2]) -> Assignment {
        Assignment {
            phase: self.phase,
            deadline_at: self.deadline_at,
            learned_at,
            install_started_at,
            true_compliant_at: self.true_compliant_at,
            reported_compliant_at: self.reported_compliant_at,
        }
    }
}

/// One deployment's live counts and records.
struct DeploymentState {
    /// Per cohort, its place among the cohorts it targets
    /// ([`UNTARGETED_COHORT`]: none).
    cohort_slot: Vec<u32>,
    /// Per targeted client (in the order of its assignments), apart from
    /// its assignment (only the results read them): when it learned the
    /// deployment, when its first install began (`SimTime::MAX`: never).
    /// Empty, for a deployment a rule's run may make, until a client
    /// learns it.
    started: Vec<[SimTime; 2]>,
    /// Clients it targets.
    clients: usize,
    /// In a hierarchy: the counts per primary, as its database shows them
    /// (the top-level counts are the CAS's).
    site_counts: Vec<Counts>,
    /// When its policy was published at each primary.
    site_published_at: Vec<Option<SimTime>>,
    /// In a hierarchy: when 95 % of each primary's targeted clients were
    /// first compliant, truly and as its database showed them.
    site_95: Vec<[Option<SimTime>; 2]>,
    counts: Counts,
    targeted: u32,
    published_at: Option<SimTime>,
    thresholds: Thresholds,
    ttc_true: MsHistogram,
    ttc_reported: MsHistogram,
    /// Per cohort it targets, in cohort order: time to compliant, true
    /// and reported.
    ttc_by_cohort: Vec<(MsHistogram, MsHistogram)>,
    /// When it was created, made available, and its deadline: the
    /// scenario's, or for a later phase of a phased deployment
    /// `SimTime::MAX` until it begins.
    created: SimTime,
    available: SimTime,
    deadline: SimTime,
    /// A phase of a phased deployment: how it began, and per primary when
    /// its content is on the DPs (`None`: it targets no client there).
    phase: Option<PhaseState>,
    /// For a deployment an automatic deployment rule made: the updates its
    /// last run picked (`None`: the scenario's list).
    picked: Option<Arc<[UpdateId]>>,
}

/// A cohort the deployment does not target, in [`DeploymentState::cohort_slot`].
const UNTARGETED_COHORT: u32 = u32::MAX;

impl DeploymentState {
    /// The `started` times of the targeted client in `slot`, to change
    /// (making the column if it has none yet).
    fn started_mut(&mut self, slot: usize) -> &mut [SimTime; 2] {
        if self.started.is_empty() {
            self.started = crate::engine::arena(self.clients, [SimTime::MAX; 2]);
        }
        &mut self.started[slot]
    }
}

/// The updates a deployment deploys now: the scenario's list, or those an
/// automatic deployment rule picked. Holds no borrow of the world.
#[derive(Clone)]
pub(crate) enum Updates<'e> {
    Listed(&'e [UpdateId]),
    Picked(Arc<[UpdateId]>),
}

impl Deref for Updates<'_> {
    type Target = [UpdateId];

    #[inline]
    fn deref(&self) -> &[UpdateId] {
        match self {
            Updates::Listed(list) => list,
            Updates::Picked(list) => list,
        }
    }
}

/// A phase of a phased deployment while the run goes.
struct PhaseState {
    record: PhaseRecord,
    content_ready: Vec<Option<SimTime>>,
    /// A manual begin came before the previous phase began: it begins
    /// with it.
    manual_pending: bool,
    /// The first phase: its phased deployment is suspended now.
    suspended: bool,
}

/// Every deployment's live state and every client's assignments.
pub(crate) struct Deployments {
    states: Vec<DeploymentState>,
    assignments: AssignmentTable,
    /// Assignments changed since their client's cells were last
    /// refreshed.
    touched: Touched,
    /// For each update, the deployments that deploy it or ever did (a
    /// rule's later pick adds to it).
    by_update: Vec<Vec<DeploymentId>>,
}

impl Deployments {
    /// The deployments of `estate`, every targeted client not yet aware
    /// (the counts are made by [`World::count_initial_cells`]).
    pub(crate) fn new(estate: &Estate) -> Self {
        // A deployment a rule's run may make gets its columns when it is
        // made: until then it targets nobody.
        let later = |spec: &crate::estate::DeploymentSpec| spec.rule.is_some();
        let mut assignments = AssignmentTable::new(
            LiveAssignment::UNTARGETED,
            (estate.deployments.iter()).map(|spec| {
                let ranges = (spec.targets.iter())
                    .map(|k| estate.cohorts[k.index()].clients())
                    .map(|r| (r.start, r.end));
                (Targets::new(ranges), later(spec))
            }),
        );
        let states = (estate.deployments.iter().enumerate())
            .map(|(d, spec)| {
                let mut cohort_slot = vec![UNTARGETED_COHORT; estate.cohorts.len()];
                for c in &spec.targets {
                    cohort_slot[c.index()] = 0;
                }
                let mut targeted_cohorts = 0;
                for slot in cohort_slot.iter_mut().filter(|s| **s == 0) {
                    *slot = targeted_cohorts;
                    targeted_cohorts += 1;
                }
                let clients = assignments.targets(DeploymentId(d as u16)).len();
                // One a rule's run may make targets nobody until it is
                // made ([`Deployments::made`]).
                if spec.rule.is_none() {
                    for c in spec.clients(estate) {
                        assignments.get_mut(DeploymentId(d as u16), c).phase = Phase::Unaware;
                    }
                }
                DeploymentState {
                    started: if later(spec) {
                        Vec::new()
                    } else {
                        crate::engine::arena(clients, [SimTime::MAX; 2])
                    },
                    clients,
                    site_counts: if estate.hierarchy {
                        vec![Counts::default(); estate.primaries.len()]
                    } else {
                        Vec::new()
                    },
                    site_published_at: vec![None; estate.primaries.len()],
                    site_95: vec![[None; 2]; estate.primaries.len()],
                    counts: Counts::default(),
                    targeted: spec.targeted(estate),
                    published_at: None,
                    thresholds: Thresholds::default(),
                    ttc_true: MsHistogram::new(),
                    ttc_reported: MsHistogram::new(),
                    ttc_by_cohort: (0..targeted_cohorts)
                        .map(|_| (MsHistogram::new(), MsHistogram::new()))
                        .collect(),
                    cohort_slot,
                    created: spec.created,
                    available: spec.available,
                    deadline: spec.deadline,
                    phase: (spec.phase.is_some() || spec.next_phase.is_some()).then(|| {
                        PhaseState {
                            record: PhaseRecord {
                                number: spec.phase.as_ref().map_or(1, |p| p.number),
                                began: None,
                                previous_succeeded_at: None,
                                held: false,
                            },
                            content_ready: vec![None; estate.primaries.len()],
                            manual_pending: false,
                            suspended: false,
                        }
                    }),
                    picked: None,
                }
            })
            .collect();
        let mut by_update = vec![Vec::new(); estate.updates.len()];
        for (d, spec) in estate.deployments.iter().enumerate() {
            for u in &spec.updates {
                by_update[u.index()].push(DeploymentId(d as u16));
            }
        }
        Deployments {
            states,
            assignments,
            touched: Touched::default(),
            by_update,
        }
    }

    /// Their ids, in file order.
    pub(crate) fn ids(&self) -> impl Iterator<Item = DeploymentId> + use<> {
        (0..self.states.len() as u16).map(DeploymentId)
    }

    /// Client `c`'s assignment to `d`.
    #[inline]
    pub(crate) fn assignment(&self, d: DeploymentId, c: ClientId) -> &LiveAssignment {
        self.assignments.get(d, c)
    }

    /// Client `c`'s assignment to `d`, to change (its cells are refreshed
    /// at the client's next refresh).
    #[inline]
    pub(crate) fn assignment_mut(&mut self, d: DeploymentId, c: ClientId) -> &mut LiveAssignment {
        self.touched.note(c, d.0);
        self.assignments.get_mut(d, c)
    }

    /// Moves the deployments whose assignment of client `c` changed since
    /// its last refresh into `out`.
    #[inline]
    pub(crate) fn take_touched(&mut self, c: ClientId, out: &mut Vec<u16>) {
        self.touched.take(c, out);
    }

    /// At the end of an event: drops the notes no refresh took, calling
    /// `linger` with the client of each.
    #[inline]
    pub(crate) fn settle_touched(&mut self, linger: impl FnMut(ClientId)) {
        self.touched.settle(linger);
    }

    /// The deployments that deploy update `u`, or ever did.
    #[inline]
    pub(crate) fn deploying(&self, u: UpdateId) -> &[DeploymentId] {
        &self.by_update[u.index()]
    }

    /// Calls `change` on each of client `c`'s assignments, in deployment
    /// order; those it says it changed are refreshed at the client's next
    /// refresh.
    #[inline]
    pub(crate) fn change_assignments(
        &mut self,
        c: ClientId,
        mut change: impl FnMut(DeploymentId, &mut LiveAssignment) -> bool,
    ) {
        for (d, a) in self.assignments.of_client_mut(c) {
            if change(d, a) {
                self.touched.note(c, d.0);
            }
        }
    }

    /// The store's table, for the hints.
    pub(super) fn table(&self) -> &AssignmentTable {
        &self.assignments
    }

    /// Whether `d` targets the clients of `cohort`.
    pub(crate) fn targets(&self, d: DeploymentId, cohort: CohortId) -> bool {
        self.states[d.index()].cohort_slot[cohort.index()] != UNTARGETED_COHORT
    }

    /// Client `c` needs `bytes` more of `d`'s content (updates a rule added
    /// to its group) if it has evaluated `d`. What remains to download
    /// moves no cell, so no refresh is owed: a rule refreshes every client
    /// of its group at once, and a note each would cost each refresh a
    /// pass over all of them.
    pub(crate) fn need_more(&mut self, d: DeploymentId, c: ClientId, bytes: u64) {
        let a = self.assignments.get_mut(d, c);
        if a.remaining != u64::MAX {
            a.remaining += bytes;
        }
    }

    /// Client `c` receives `d`'s policy now, for the first time: its
    /// evaluation is due at `due`, its deadline is `deadline_at`. Its
    /// cells stay as they are (neither an unaware client nor one waiting
    /// to evaluate has evaluated anything), so no refresh is owed.
    pub(crate) fn learned(
        &mut self,
        d: DeploymentId,
        c: ClientId,
        now: SimTime,
        [due, deadline_at]: [SimTime; 2],
    ) {
        let slot = self.assignments.slot(d, c).expect("targeted");
        let dep = &mut self.states[d.index()];
        dep.started_mut(slot)[0] = now;
        dep.counts.with_policy += 1;
        let a = self.assignments.get_mut(d, c);
        debug_assert_eq!(a.phase, Phase::Unaware);
        a.phase = Phase::EvalDue;
        a.due = due;
        a.deadline_at = deadline_at;
    }

    /// Client `c` starts installing `d` now (only its first install is
    /// kept).
    pub(crate) fn install_started(&mut self, d: DeploymentId, c: ClientId, now: SimTime) {
        let slot = self.assignments.slot(d, c).expect("targeted");
        let started = &mut self.states[d.index()].started_mut(slot)[1];
        *started = (*started).min(now);
    }

    /// Whether `d`'s policy has been published at `site`.
    pub(crate) fn is_published_at(&self, d: DeploymentId, site: usize) -> bool {
        self.states[d.index()].site_published_at[site].is_some()
    }

    /// `d`'s policy is published at `site` now.
    pub(crate) fn published(&mut self, d: DeploymentId, site: SiteId, now: SimTime) {
        let dep = &mut self.states[d.index()];
        // Published again (a rule's group refreshed): the first counts.
        dep.site_published_at[site.index()].get_or_insert(now);
        dep.published_at = Some(dep.published_at.map_or(now, |t| t.min(now)));
    }

    /// An automatic deployment rule's run made `d` now, with `updates`
    /// (or, made before, replaced its updates): created now, available and
    /// due at the times given (unchanged for a replacement).
    pub(crate) fn pick(
        &mut self,
        d: DeploymentId,
        updates: Vec<UpdateId>,
        times: Option<(SimTime, SimTime, SimTime)>,
    ) {
        for u in &updates {
            if !self.by_update[u.index()].contains(&d) {
                self.by_update[u.index()].push(d);
            }
        }
        let dep = &mut self.states[d.index()];
        dep.picked = Some(updates.into());
        if let Some((created, available, deadline)) = times {
            (dep.created, dep.available, dep.deadline) = (created, available, deadline);
        }
    }

    /// A rule's run made `d`: the clients it targets are now aware of
    /// nothing yet (until then it targeted nobody).
    pub(crate) fn made(&mut self, d: DeploymentId, estate: &Estate) {
        for c in estate.deployments[d.index()].clients(estate) {
            self.assignments.get_mut(d, c).phase = Phase::Unaware;
        }
    }

    /// The updates a rule's last run picked for `d` (`None`: the
    /// scenario's list).
    pub(crate) fn picked(&self, d: DeploymentId) -> Option<&[UpdateId]> {
        self.states[d.index()].picked.as_deref()
    }

    /// When `d` was created (`SimTime::MAX`: a phase not yet begun).
    #[inline]
    pub(crate) fn created(&self, d: DeploymentId) -> SimTime {
        self.states[d.index()].created
    }

    /// When `d` is available to clients.
    #[inline]
    pub(crate) fn available(&self, d: DeploymentId) -> SimTime {
        self.states[d.index()].available
    }

    /// `d`'s deadline.
    #[inline]
    pub(crate) fn deadline(&self, d: DeploymentId) -> SimTime {
        self.states[d.index()].deadline
    }

    /// `d`'s counts: the top-level view.
    pub(crate) fn counts(&self, d: DeploymentId) -> &Counts {
        &self.states[d.index()].counts
    }

    /// `d`'s counts as `site`'s database shows them (a hierarchy only).
    pub(crate) fn site_counts(&self, d: DeploymentId, site: SiteId) -> &Counts {
        &self.states[d.index()].site_counts[site.index()]
    }

    /// Records the first time each compliance threshold is reached.
    /// Marks when 95 % of the clients `d` targets at primary `site` are
    /// first compliant, truly and in its database.
    fn check_site_threshold(&mut self, d: DeploymentId, site: usize, now: SimTime) {
        let dep = &mut self.states[d.index()];
        let counts = &dep.site_counts[site];
        let targeted: u64 = counts.truth.states.iter().map(|&n| u64::from(n)).sum();
        let need = (targeted * 95).div_ceil(100);
        for (view, states) in [&counts.truth.states, &counts.reported.states]
            .into_iter()
            .enumerate()
        {
            let at = &mut dep.site_95[site][view];
            if at.is_none() && targeted > 0 && u64::from(Counts::compliant(states)) >= need {
                *at = Some(now);
            }
        }
    }

    fn check_thresholds(&mut self, d: DeploymentId, now: SimTime) {
        let dep = &mut self.states[d.index()];
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

    /// Every deployment's record at the end of the run (each deployment's
    /// live assignments are freed once its record is made).
    pub(crate) fn into_records(self, estate: &Estate) -> Vec<DeploymentRecord> {
        let Deployments {
            states,
            mut assignments,
            ..
        } = self;
        states
            .into_iter()
            .enumerate()
            .map(|(d, mut dep)| {
                let d = DeploymentId(d as u16);
                let targeted_cohorts = (estate.cohorts.iter().enumerate())
                    .filter(|&(k, _)| dep.cohort_slot[k] != UNTARGETED_COHORT);
                let by_cohort = targeted_cohorts
                    .zip(std::mem::take(&mut dep.ttc_by_cohort))
                    .map(|((k, spec), (ttc_true, ttc_reported))| {
                        let (mut final_truth, mut final_reported) = ([0u32; 4], [0u32; 4]);
                        for c in spec.clients().map(ClientId) {
                            let a = assignments.get(d, c);
                            final_truth[a.true_cell.state as usize] += 1;
                            final_reported[a.reported_cell.state as usize] += 1;
                        }
                        CohortBreakdown {
                            cohort: CohortId(k as u16),
                            targeted: spec.count,
                            final_truth,
                            final_reported,
                            time_to_compliant_true: ttc_true,
                            time_to_compliant_reported: ttc_reported,
                        }
                    })
                    .collect();
                let began = dep.created != SimTime::MAX;
                DeploymentRecord {
                    by_cohort,
                    targeted: dep.targeted,
                    created: began.then_some(dep.created),
                    available: began.then_some(dep.available),
                    deadline: began.then_some(dep.deadline),
                    phase: dep.phase.as_ref().map(|p| p.record),
                    picked: dep.picked.as_deref().map(<[UpdateId]>::to_vec),
                    published_at: dep.published_at,
                    site_published_at: dep.site_published_at,
                    site_95: dep.site_95,
                    thresholds: dep.thresholds,
                    assignments: {
                        let (targets, lines) = assignments.take_deployment(d);
                        let items = lines.enumerate().map(|(slot, a)| {
                            let started = dep.started.get(slot).copied();
                            a.with_times(started.unwrap_or([SimTime::MAX; 2]))
                        });
                        ClientAssignments::new(estate.client_count(), targets, items.collect())
                    },
                    time_to_compliant_true: dep.ttc_true,
                    time_to_compliant_reported: dep.ttc_reported,
                    final_truth: dep.counts.truth.states,
                    final_reported: dep.counts.reported.states,
                    final_reported_unknown_scan_failed: dep.counts.reported.unknown_scan_failed,
                }
            })
            .collect()
    }
}

impl World<'_> {
    /// A client's cells for a deployment: true, reported at the top-level
    /// site, and (in a hierarchy) reported at its primary. With
    /// `truth_changed` false, the true cell is the cached one (only reports
    /// arrived), which a debug build checks.
    fn cells(
        &self,
        c: ClientId,
        d: DeploymentId,
        truth_changed: bool,
    ) -> (Cell, Cell, Option<Cell>) {
        let updates = self.updates_of(d);
        let a = self.deployments.assignment(d, c);
        let true_cell = || {
            compliance::true_cell(
                (updates.iter())
                    .filter(|&&u| !self.sync.expired(u))
                    .map(|&u| self.clients.update(c, u).truth),
                a.phase,
            )
        };
        let t = if truth_changed {
            true_cell()
        } else {
            let cached = a.true_cell;
            debug_assert_eq!(cached, true_cell(), "a true state changed unrefreshed");
            cached
        };
        let site = compliance::reported_cell(
            (updates.iter())
                .filter(|&&u| !self.sync.expired(u))
                .map(|&u| self.clients.update(c, u).reported),
            a.enforcement,
            self.clients.reported_scan(c, Database::Site),
        );
        if !self.estate.hierarchy {
            return (t, site, None);
        }
        let cas = compliance::reported_cell(
            (updates.iter())
                .filter(|&&u| !self.sync.expired(u))
                .map(|&u| self.clients.update(c, u).cas_reported),
            a.cas_enforcement,
            self.clients.reported_scan(c, Database::Cas),
        );
        (t, cas, Some(site))
    }

    /// Traces a change of client `c`'s true and reported cells of `d`,
    /// each `[from, to]`.
    #[inline]
    fn trace_cells(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        [old, new]: [Cell; 2],
        [old_reported, reported]: [Cell; 2],
        now: SimTime,
    ) {
        if old != new {
            self.recorder.trace(now, Some(c), || TraceEvent::TrueState {
                deployment: d,
                from: old,
                to: new,
            });
        }
        if old_reported != reported {
            self.recorder
                .trace(now, Some(c), || TraceEvent::ReportedState {
                    deployment: d,
                    from: old_reported,
                    to: reported,
                });
        }
    }

    /// Counts every targeted client's cells at the start, before the first
    /// event.
    pub(crate) fn count_initial_cells(&mut self) {
        for d in self.deployments.ids() {
            if self.estate.deployments[d.index()].rule.is_none() {
                self.count_cells(d, SimTime::ZERO);
            }
        }
    }

    /// Counts every client `d` targets from scratch at `now`: at the start,
    /// or when an automatic deployment rule makes it. A client compliant
    /// then counts as compliant from the start (its time to compliant is
    /// not recorded); the thresholds it meets then are met at `now`.
    pub(crate) fn count_cells(&mut self, d: DeploymentId, now: SimTime) {
        let estate = self.estate;
        {
            let dep = &mut self.deployments.states[d.index()];
            dep.counts = Counts::default();
            dep.site_counts
                .iter_mut()
                .for_each(|k| *k = Counts::default());
            dep.site_95.fill([None; 2]);
            dep.thresholds = Thresholds::default();
            dep.ttc_true.reset();
            dep.ttc_reported.reset();
            for (t, r) in &mut dep.ttc_by_cohort {
                t.reset();
                r.reset();
            }
        }
        for c in estate.deployments[d.index()].clients(estate) {
            let (t, r, site_view) = self.cells(c, d, true);
            let site = self.site_of(c);
            let a = self.deployments.assignments.get_mut(d, c);
            let (old, old_reported) = (a.true_cell, a.reported_cell);
            a.true_cell = t;
            a.reported_cell = r;
            if let Some(sv) = site_view {
                a.site_cell = sv;
            }
            a.true_compliant_at = if t.state.is_compliant() {
                SimTime::ZERO
            } else {
                SimTime::MAX
            };
            a.reported_compliant_at = if r.state.is_compliant() {
                SimTime::ZERO
            } else {
                SimTime::MAX
            };
            let dep = &mut self.deployments.states[d.index()];
            dep.counts.truth.add(t);
            dep.counts.reported.add(r);
            if let Some(sv) = site_view {
                dep.site_counts[site].truth.add(t);
                dep.site_counts[site].reported.add(sv);
            }
            if now > SimTime::ZERO {
                self.trace_cells(c, d, [old, t], [old_reported, r], now);
            }
        }
        self.deployments.check_thresholds(d, now);
        for site in 0..self.deployments.states[d.index()].site_counts.len() {
            self.deployments.check_site_threshold(d, site, now);
        }
    }

    /// Brings one client's cached deployment-level states and the counters
    /// up to date after anything about it changed. Only the deployments whose assignment, or one of whose updates'
    /// states, changed since the last refresh are recomputed (every one in
    /// an explicit run).
    pub(crate) fn refresh(&mut self, c: ClientId, now: SimTime) {
        self.refresh_cells(c, now, true, false);
    }

    /// The same after only state messages reached a database: its true
    /// states are as last refreshed, and are not read again.
    pub(crate) fn refresh_reports(&mut self, c: ClientId, now: SimTime) {
        self.refresh_cells(c, now, false, false);
    }

    /// The same for every deployment of the client: after a change that
    /// reaches every client (an update expired, a rule picked new updates).
    pub(crate) fn refresh_every(&mut self, c: ClientId, now: SimTime) {
        self.refresh_cells(c, now, true, true);
    }

    /// Client `c`'s deployments whose cells may have changed since its
    /// last refresh, in order, into `out`: those whose assignment changed,
    /// and those that deploy an update whose truth or reports changed;
    /// every deployment if its scan report changed, if changes of an
    /// earlier event went unrefreshed, or with `every`.
    fn changed_deployments(&mut self, c: ClientId, every: bool, out: &mut Vec<u16>) {
        out.clear();
        let lingering = self.clients.take_touched(c, out);
        let every = every || lingering || self.explicit || out.contains(&SCAN_TOUCHED);
        let updates = out.len();
        if !every {
            for i in 0..updates {
                let deploying = self.deployments.deploying(UpdateId(out[i]));
                out.extend(deploying.iter().map(|d| d.0));
            }
        }
        out.drain(..updates);
        self.deployments.take_touched(c, out);
        if every {
            out.clear();
            out.extend(self.deployments.ids().map(|d| d.0));
        } else {
            out.sort_unstable();
            out.dedup();
        }
    }

    fn refresh_cells(&mut self, c: ClientId, now: SimTime, truth_changed: bool, every: bool) {
        let mut changed = std::mem::take(&mut self.changed);
        self.changed_deployments(c, every, &mut changed);
        for &d in &changed {
            let d = DeploymentId(d);
            if !self.deployments.assignment(d, c).is_targeted() {
                continue;
            }
            let (cell, reported, site_view) = self.cells(c, d, truth_changed);
            let created = self.deployments.created(d);
            let cohort = self.clients.cohort(c).index();
            let mut crossed = false;
            let mut site_check = None;
            let old = self.deployments.assignment(d, c).true_cell;
            let old_reported = self.deployments.assignment(d, c).reported_cell;
            self.trace_cells(c, d, [old, cell], [old_reported, reported], now);
            let Deployments {
                states,
                assignments,
                ..
            } = &mut self.deployments;
            let dep = &mut states[d.index()];
            let a = assignments.get_mut(d, c);
            if let Some(sv) = site_view {
                let site = self.estate.cohorts[cohort].site.index();
                let counts = &mut dep.site_counts[site];
                if old != cell {
                    counts.truth.remove(old);
                    counts.truth.add(cell);
                    if cell.state.is_compliant() {
                        site_check = Some(site);
                    }
                }
                let old_site = a.site_cell;
                if old_site != sv {
                    a.site_cell = sv;
                    counts.reported.remove(old_site);
                    counts.reported.add(sv);
                    if sv.state.is_compliant() {
                        site_check = Some(site);
                    }
                }
            }
            if old != cell {
                a.true_cell = cell;
                dep.counts.truth.remove(old);
                dep.counts.truth.add(cell);
                if cell.state.is_compliant() && a.true_compliant_at == SimTime::MAX {
                    a.true_compliant_at = now;
                    dep.ttc_true.saturating_record(now.since(created).as_ms());
                    dep.ttc_by_cohort[dep.cohort_slot[cohort] as usize]
                        .0
                        .saturating_record(now.since(created).as_ms());
                    crossed = true;
                }
            }
            if old_reported != reported {
                a.reported_cell = reported;
                dep.counts.reported.remove(old_reported);
                dep.counts.reported.add(reported);
                if reported.state.is_compliant() && a.reported_compliant_at == SimTime::MAX {
                    a.reported_compliant_at = now;
                    // The clients it required (not those compliant from the start).
                    if a.true_compliant_at != SimTime::ZERO {
                        dep.ttc_reported
                            .saturating_record(now.since(created).as_ms());
                        dep.ttc_by_cohort[dep.cohort_slot[cohort] as usize]
                            .1
                            .saturating_record(now.since(created).as_ms());
                    }
                    crossed = true;
                }
            }
            if let Some(site) = site_check {
                self.deployments.check_site_threshold(d, site, now);
            }
            if crossed {
                self.deployments.check_thresholds(d, now);
                if self.estate.deployments[d.index()].next_phase.is_some() {
                    self.phase_checks.push(d);
                }
            }
        }
        self.changed = changed;
    }
}

impl Deployments {
    /// A later phase's content reaches `site`'s DPs at `t` (distributed
    /// from the phased deployment's creation, before the phase begins).
    pub(crate) fn set_phase_content_ready(&mut self, d: DeploymentId, site: usize, t: SimTime) {
        let phase = self.states[d.index()].phase.as_mut();
        phase.expect("a phase of a phased deployment").content_ready[site] = Some(t);
    }

    /// Marks the phased deployment whose first phase is `d` suspended or
    /// resumed.
    pub(crate) fn set_suspended(&mut self, d: DeploymentId, suspended: bool) {
        self.phase_mut(d).suspended = suspended;
    }

    /// Whether phase `d`'s begin came while its phased deployment was
    /// suspended, and it has not begun since.
    pub(crate) fn begin_held(&mut self, d: DeploymentId) -> bool {
        let record = &self.phase_mut(d).record;
        record.held && record.began.is_none()
    }

    fn phase_mut(&mut self, d: DeploymentId) -> &mut PhaseState {
        (self.states[d.index()].phase.as_mut()).expect("a phase of a phased deployment")
    }
}

impl<'e> World<'e> {
    /// The updates `d` deploys now.
    #[inline]
    pub(crate) fn updates_of(&self, d: DeploymentId) -> Updates<'e> {
        // The scenario's deployments (nearly always) read only their spec.
        let spec = &self.estate.deployments[d.index()];
        if spec.rule.is_none() {
            return Updates::Listed(&spec.updates);
        }
        match &self.deployments.states[d.index()].picked {
            None => Updates::Listed(&spec.updates),
            Some(list) => Updates::Picked(Arc::clone(list)),
        }
    }
}

impl World<'_> {
    /// A phase of a phased deployment begins now: the first at its
    /// creation; a later one when the previous phase met its success
    /// criterion and the wait passed, or by hand. A later phase is a
    /// deployment created now, available now, with its deadline its
    /// `deadline_after` later; its content has been on the DPs since it
    /// was distributed, so it enters policy now (or when the copy ends).
    /// A manual begin before the previous phase began waits for it.
    pub(crate) fn phase_begin(&mut self, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        let reason = match &spec.phase {
            None => PhaseReason::Created,
            Some(phase) if self.deployments.created(phase.previous) > now => {
                self.deployments.phase_mut(d).manual_pending = true;
                return;
            }
            Some(phase) => match phase.begin {
                PhaseStart::AfterSuccess(_) => PhaseReason::PreviousSucceeded,
                PhaseStart::Manual(_) => PhaseReason::Manual,
            },
        };
        if self.deployments.phase_mut(d).record.began.is_some() {
            return;
        }
        if let Some(phase) = &spec.phase
            && self.deployments.phase_mut(phase.first).suspended
        {
            // Suspended: it begins when its phased deployment is resumed.
            self.deployments.phase_mut(d).record.held = true;
            return;
        }
        let dep = &mut self.deployments.states[d.index()];
        let state = dep.phase.as_mut().expect("a phase of a phased deployment");
        state.record.began = Some((now, reason));
        if let Some(phase) = &spec.phase {
            dep.created = now;
            dep.available = now;
            dep.deadline = match spec.purpose {
                Purpose::Required => now + phase.deadline_after,
                Purpose::Available => now,
            };
            for (site, ready) in state.content_ready.iter().enumerate() {
                if let Some(ready) = *ready {
                    // In a hierarchy the phase begins at the CAS, and its
                    // deployment reaches each primary by replication.
                    let reached = now + self.estate.replication_delay(site);
                    sched.at_fixed(ready.max(reached), Event::ContentReady(d, site as u16));
                }
            }
        }
        self.recorder.trace(now, None, || TraceEvent::PhaseStarted {
            deployment: d,
            reason,
        });
        let Some(next) = spec.next_phase else {
            return;
        };
        let next_spec = estate.deployments[next.index()].phase.as_ref();
        match next_spec.expect("a later phase").begin {
            PhaseStart::AfterSuccess(_) => self.check_phase_goal(d, sched),
            PhaseStart::Manual(_) => {
                if self.deployments.phase_mut(next).manual_pending {
                    self.phase_begin(next, sched);
                }
            }
        }
    }

    /// Whether phase `d`, begun, now meets the success criterion of the
    /// phase after it: that share of its targeted clients compliant in the
    /// top-level site database (the deployment's reported success, as the
    /// console shows it). If so, the next phase begins after its wait.
    pub(crate) fn check_phase_goal(&mut self, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let estate = self.estate;
        let Some(next) = estate.deployments[d.index()].next_phase else {
            return;
        };
        let phase = estate.deployments[next.index()].phase.as_ref();
        let phase = phase.expect("a later phase");
        let PhaseStart::AfterSuccess(wait) = phase.begin else {
            return;
        };
        if self.deployments.created(d) > now
            || (self.deployments.phase_mut(next).record)
                .previous_succeeded_at
                .is_some()
        {
            return;
        }
        let dep = &self.deployments.states[d.index()];
        let compliant = Counts::compliant(&dep.counts.reported.states);
        let need = match phase.success_devices {
            Some(devices) => u64::from(devices),
            None => (u64::from(dep.targeted) * u64::from(phase.success_percent)).div_ceil(100),
        };
        if u64::from(compliant) < need {
            return;
        }
        self.deployments
            .phase_mut(next)
            .record
            .previous_succeeded_at = Some(now);
        self.recorder
            .trace(now, None, || TraceEvent::PhaseSucceeded {
                deployment: d,
                compliant: u64::from(compliant),
            });
        sched.at_fixed(now + wait, Event::PhaseBegin(next));
    }
}
