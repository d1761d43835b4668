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

use hdrhistogram::Histogram;

use super::compliance::{self, Cell, Counts, Phase};
use super::record::{
    Assignment, CohortBreakdown, DeploymentRecord, THRESHOLDS, Thresholds, ms_histogram,
};
use super::store::{AssignmentTable, Database};
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::SimTime;
use crate::estate::{ClientId, CohortId, DeploymentId, Estate, SiteId};

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
    targeted_cohort: Vec<bool>,
    /// Per client, apart from its assignment (only the results read them):
    /// when it learned the deployment, when its first install began
    /// (`SimTime::MAX`: never).
    started: Vec<[SimTime; 2]>,
    /// In a hierarchy: the counts per primary, as its database shows them
    /// (the top-level counts are the CAS's).
    site_counts: Vec<Counts>,
    /// When its policy was published at each primary.
    site_published_at: Vec<Option<SimTime>>,
    counts: Counts,
    targeted: u32,
    published_at: Option<SimTime>,
    thresholds: Thresholds,
    ttc_true: Histogram<u64>,
    ttc_reported: Histogram<u64>,
    /// Per cohort: time to compliant, true and reported.
    ttc_by_cohort: Vec<(Histogram<u64>, Histogram<u64>)>,
}

/// Every deployment's live state and every client's assignments.
pub(crate) struct Deployments {
    states: Vec<DeploymentState>,
    assignments: AssignmentTable,
}

impl Deployments {
    /// The deployments of `estate`, every targeted client not yet aware
    /// (the counts are made by [`World::count_initial_cells`]).
    pub(crate) fn new(estate: &Estate) -> Self {
        let n_clients = estate.client_count() as usize;
        let mut assignments = AssignmentTable::new(
            estate.deployments.len(),
            n_clients,
            LiveAssignment::UNTARGETED,
        );
        let states = (estate.deployments.iter().enumerate())
            .map(|(d, spec)| {
                let mut targeted_cohort = vec![false; estate.cohorts.len()];
                for c in &spec.targets {
                    targeted_cohort[c.index()] = true;
                }
                for cohort in spec.targets.iter().map(|c| &estate.cohorts[c.index()]) {
                    for c in cohort.first_client..cohort.first_client + cohort.count {
                        assignments
                            .get_mut(DeploymentId(d as u16), ClientId(c))
                            .phase = Phase::Unaware;
                    }
                }
                DeploymentState {
                    started: crate::engine::arena(n_clients, [SimTime::MAX; 2]),
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
                }
            })
            .collect();
        Deployments {
            states,
            assignments,
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

    /// Client `c`'s assignment to `d`, to change.
    #[inline]
    pub(crate) fn assignment_mut(&mut self, d: DeploymentId, c: ClientId) -> &mut LiveAssignment {
        self.assignments.get_mut(d, c)
    }

    /// Client `c`'s assignments, in deployment order, to change.
    #[inline]
    pub(crate) fn assignments_of_mut(
        &mut self,
        c: ClientId,
    ) -> impl Iterator<Item = &mut LiveAssignment> {
        self.assignments.of_client_mut(c)
    }

    /// The first deployment of client `c` whose assignment satisfies `f`.
    pub(crate) fn find(
        &self,
        c: ClientId,
        f: impl Fn(&LiveAssignment) -> bool,
    ) -> Option<DeploymentId> {
        self.ids().find(|&d| f(self.assignment(d, c)))
    }

    /// The store's table, for the hints.
    pub(super) fn table(&self) -> &AssignmentTable {
        &self.assignments
    }

    /// Whether `d` targets the clients of `cohort`.
    pub(crate) fn targets(&self, d: DeploymentId, cohort: CohortId) -> bool {
        self.states[d.index()].targeted_cohort[cohort.index()]
    }

    /// Client `c` receives `d`'s policy now.
    pub(crate) fn learned(&mut self, d: DeploymentId, c: ClientId, now: SimTime) {
        let dep = &mut self.states[d.index()];
        dep.started[c.index()][0] = now;
        dep.counts.with_policy += 1;
    }

    /// Client `c` starts installing `d` now (only its first install is
    /// kept).
    pub(crate) fn install_started(&mut self, d: DeploymentId, c: ClientId, now: SimTime) {
        let started = &mut self.states[d.index()].started[c.index()][1];
        *started = (*started).min(now);
    }

    /// `d`'s policy is published at `site` now.
    pub(crate) fn published(&mut self, d: DeploymentId, site: SiteId, now: SimTime) {
        let dep = &mut self.states[d.index()];
        dep.site_published_at[site.index()] = Some(now);
        dep.published_at = Some(dep.published_at.map_or(now, |t| t.min(now)));
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
        } = self;
        states
            .into_iter()
            .enumerate()
            .map(|(d, mut dep)| {
                let d = DeploymentId(d as u16);
                let by_cohort = estate
                    .cohorts
                    .iter()
                    .zip(std::mem::take(&mut dep.ttc_by_cohort))
                    .enumerate()
                    .map(|(k, (spec, (ttc_true, ttc_reported)))| {
                        let (mut final_truth, mut final_reported) = ([0u32; 4], [0u32; 4]);
                        let targeted = dep.targeted_cohort[k];
                        if targeted {
                            for c in spec.first_client..spec.first_client + spec.count {
                                let a = assignments.get(d, ClientId(c));
                                final_truth[a.true_cell.state as usize] += 1;
                                final_reported[a.reported_cell.state as usize] += 1;
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
                DeploymentRecord {
                    by_cohort,
                    targeted: dep.targeted,
                    published_at: dep.published_at,
                    site_published_at: dep.site_published_at,
                    thresholds: dep.thresholds,
                    assignments: (assignments.take_deployment(d))
                        .zip(&dep.started)
                        .map(|(a, &times)| a.with_times(times))
                        .collect(),
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
        let spec = &self.estate.deployments[d.index()];
        let a = self.deployments.assignment(d, c);
        let true_cell = || {
            compliance::true_cell(
                spec.updates
                    .iter()
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
            spec.updates
                .iter()
                .map(|&u| self.clients.update(c, u).reported),
            a.enforcement,
            self.clients.reported_scan(c, Database::Site),
        );
        if !self.estate.hierarchy {
            return (t, site, None);
        }
        let cas = compliance::reported_cell(
            spec.updates
                .iter()
                .map(|&u| self.clients.update(c, u).cas_reported),
            a.cas_enforcement,
            self.clients.reported_scan(c, Database::Cas),
        );
        (t, cas, Some(site))
    }

    /// Counts every targeted client's cells at the start, before the first
    /// event.
    pub(crate) fn count_initial_cells(&mut self) {
        let n_clients = self.clients.len();
        for d in self.deployments.ids() {
            for c in (0..n_clients as u32).map(ClientId) {
                if !self.deployments.assignment(d, c).is_targeted() {
                    continue;
                }
                let (t, r, site_view) = self.cells(c, d, true);
                let site = self.cohort(c).site.index();
                let a = self.deployments.assignments.get_mut(d, c);
                a.true_cell = t;
                a.reported_cell = r;
                if let Some(sv) = site_view {
                    a.site_cell = sv;
                }
                if t.state.is_compliant() {
                    a.true_compliant_at = SimTime::ZERO;
                }
                if r.state.is_compliant() {
                    a.reported_compliant_at = SimTime::ZERO;
                }
                let dep = &mut self.deployments.states[d.index()];
                dep.counts.truth.add(t);
                dep.counts.reported.add(r);
                if let Some(sv) = site_view {
                    dep.site_counts[site].truth.add(t);
                    dep.site_counts[site].reported.add(sv);
                }
            }
            self.deployments.check_thresholds(d, SimTime::ZERO);
        }
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
        for d in self.deployments.ids() {
            if !self.deployments.assignment(d, c).is_targeted() {
                continue;
            }
            let (cell, reported, site_view) = self.cells(c, d, truth_changed);
            let created = self.estate.deployments[d.index()].created;
            let cohort = self.clients.cohort(c).index();
            let mut crossed = false;
            let old = self.deployments.assignment(d, c).true_cell;
            let old_reported = self.deployments.assignment(d, c).reported_cell;
            if old != cell {
                self.recorder.trace(now, Some(c), || TraceEvent::TrueState {
                    deployment: d,
                    from: old,
                    to: cell,
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
            let Deployments {
                states,
                assignments,
            } = &mut self.deployments;
            let dep = &mut states[d.index()];
            let a = assignments.get_mut(d, c);
            if let Some(sv) = site_view {
                let site = self.estate.cohorts[cohort].site.index();
                let counts = &mut dep.site_counts[site];
                if old != cell {
                    counts.truth.remove(old);
                    counts.truth.add(cell);
                }
                let old_site = a.site_cell;
                if old_site != sv {
                    a.site_cell = sv;
                    counts.reported.remove(old_site);
                    counts.reported.add(sv);
                }
            }
            if old != cell {
                a.true_cell = cell;
                dep.counts.truth.remove(old);
                dep.counts.truth.add(cell);
                if cell.state.is_compliant() && a.true_compliant_at == SimTime::MAX {
                    a.true_compliant_at = now;
                    dep.ttc_true.saturating_record(now.since(created).as_ms());
                    dep.ttc_by_cohort[cohort]
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
                        dep.ttc_by_cohort[cohort]
                            .1
                            .saturating_record(now.since(created).as_ms());
                    }
                    crossed = true;
                }
            }
            if crossed {
                self.deployments.check_thresholds(d, now);
            }
        }
    }
}
