//! What a run leaves behind: the timeline, per-deployment results, totals.
//!
//! Owns [`Outcome`] and its parts: typed data only; `output/` turns them into
//! files and text. Built up by the world while it runs.

use hdrhistogram::Histogram;

use super::compliance::{Counts, Phase};
use super::content::ContentSource;
use super::servers::Request;
use super::update_point::ScanCause;
use crate::engine::{SimDuration, SimTime};
use crate::estate::{CohortId, DeploymentId, SiteId, UpdateId};
use crate::model::store::Targets;

/// Compliance thresholds reported in the summary, in percent.
pub const THRESHOLDS: [u32; 4] = [50, 80, 95, 99];

/// One client's path through one deployment, as the run left it.
#[derive(Clone, Copy, Debug)]
pub struct Assignment {
    pub(crate) phase: Phase,
    /// This client's deadline, randomization included.
    pub(crate) deadline_at: SimTime,
    /// When the client received the deployment's policy (`SimTime::MAX`: never).
    pub learned_at: SimTime,
    /// When its first install began (`SimTime::MAX`: never).
    pub install_started_at: SimTime,
    /// When it became truly compliant (`SimTime::MAX`: never; zero if it
    /// was compliant from the start).
    pub true_compliant_at: SimTime,
    /// When the site database first showed it compliant.
    pub reported_compliant_at: SimTime,
}

impl Assignment {
    /// A client the deployment does not target.
    pub const UNTARGETED: Assignment = Assignment {
        phase: Phase::Untargeted,
        deadline_at: SimTime::MAX,
        learned_at: SimTime::MAX,
        install_started_at: SimTime::MAX,
        true_compliant_at: SimTime::MAX,
        reported_compliant_at: SimTime::MAX,
    };

    /// Whether the deployment targets this client.
    pub fn is_targeted(&self) -> bool {
        self.phase != Phase::Untargeted
    }

    /// This client's deadline, randomization included (`SimTime::MAX`
    /// before it received the policy).
    pub fn deadline_at(&self) -> SimTime {
        self.deadline_at
    }
}

/// One deployment's [`Assignment`] of every client, indexed by client id:
/// only those of the clients it targets are held, and the others read
/// [`Assignment::UNTARGETED`]. Empty for a deployment an automatic
/// deployment rule's run could make and no run did.
#[derive(Clone, Debug, Default)]
pub struct ClientAssignments {
    clients: u32,
    targets: Targets,
    items: Vec<Assignment>,
}

impl ClientAssignments {
    /// `clients` clients, of which those `targets` names hold `items`, in
    /// order (none: the deployment was never made).
    pub(crate) fn new(clients: u32, targets: Targets, items: Vec<Assignment>) -> Self {
        debug_assert!(items.is_empty() || items.len() == targets.len());
        ClientAssignments {
            clients,
            targets,
            items,
        }
    }

    /// Client `c`'s assignment (`None`: past the last client, or the
    /// deployment was never made).
    pub fn get(&self, c: usize) -> Option<&Assignment> {
        if self.items.is_empty() || c >= self.clients as usize {
            return None;
        }
        let slot = self.targets.slot(crate::estate::ClientId(c as u32));
        Some(slot.map_or(&Assignment::UNTARGETED, |i| &self.items[i]))
    }

    /// Every client's assignment, in client order (none if the deployment
    /// was never made).
    pub fn iter(&self) -> AssignmentIter<'_> {
        self.range(0..self.len())
    }

    /// The assignments of clients `range`, in client order (none if the
    /// deployment was never made).
    pub fn range(&self, range: std::ops::Range<usize>) -> AssignmentIter<'_> {
        AssignmentIter {
            of: self,
            next: range.start,
            end: range.end.min(self.len()),
        }
    }

    /// Number of clients (0 if the deployment was never made).
    pub fn len(&self) -> usize {
        if self.items.is_empty() {
            0
        } else {
            self.clients as usize
        }
    }

    /// Whether the deployment was never made.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The assignments of a range of clients, in client order:
/// [`ClientAssignments::range`].
#[derive(Clone, Debug)]
pub struct AssignmentIter<'a> {
    of: &'a ClientAssignments,
    next: usize,
    end: usize,
}

impl<'a> Iterator for AssignmentIter<'a> {
    type Item = &'a Assignment;

    fn next(&mut self) -> Option<&'a Assignment> {
        if self.next >= self.end {
            return None;
        }
        self.next += 1;
        self.of.get(self.next - 1)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.end.saturating_sub(self.next);
        (n, Some(n))
    }
}

impl ExactSizeIterator for AssignmentIter<'_> {}

impl<'a> IntoIterator for &'a ClientAssignments {
    type Item = &'a Assignment;
    type IntoIter = AssignmentIter<'a>;

    fn into_iter(self) -> AssignmentIter<'a> {
        self.iter()
    }
}

impl std::ops::Index<usize> for ClientAssignments {
    type Output = Assignment;

    fn index(&self, c: usize) -> &Assignment {
        self.get(c).expect("a client of a made deployment")
    }
}

/// When a share of the targeted clients was first compliant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Thresholds {
    /// True compliance: time each of [`THRESHOLDS`] was first reached.
    pub true_at: [Option<SimTime>; 4],
    /// Reported compliance (site database).
    pub reported_at: [Option<SimTime>; 4],
}

/// One row of the compliance timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SampleRow {
    /// Sample time.
    pub time: SimTime,
    /// Which deployment.
    pub deployment: DeploymentId,
    /// True counts, indexed by [`Compliance`](super::Compliance).
    pub truth: [u32; 4],
    /// Reported counts (site database).
    pub reported: [u32; 4],
    /// True Required clients by [`RequiredSub`](super::RequiredSub).
    pub required_sub: [u32; 8],
    /// Reported Required clients by the sub-state their last enforcement
    /// state message gives.
    pub reported_required_sub: [u32; 8],
    /// Reported Unknown clients whose last scan report was a failure (a
    /// conflicting GPO).
    pub reported_unknown_scan_failed: u32,
    /// Clients that have received the deployment's policy.
    pub with_policy: u32,
    /// The primary site whose clients and database the row counts (`None`:
    /// the top-level view: every client, the top-level database).
    pub site: Option<SiteId>,
}

impl SampleRow {
    pub(crate) fn new(time: SimTime, deployment: DeploymentId, c: &Counts) -> Self {
        SampleRow {
            time,
            deployment,
            truth: c.truth.states,
            reported: c.reported.states,
            required_sub: c.truth.sub,
            reported_required_sub: c.reported.sub,
            reported_unknown_scan_failed: c.reported.unknown_scan_failed,
            with_policy: c.with_policy,
            site: None,
        }
    }
}

/// One row of the per-update timeline: every client counted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateRow {
    /// Sample time.
    pub time: SimTime,
    /// Which update.
    pub update: UpdateId,
    /// True counts over all clients, indexed by [`Compliance`](super::Compliance).
    pub truth: [u32; 4],
    /// Reported counts over all clients.
    pub reported: [u32; 4],
}

/// Whether a catalog sync was scheduled (full) or manual (delta).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncKind {
    /// Scheduled: a full download.
    Full,
    /// Manual: a delta download.
    Delta,
}

/// One catalog sync.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncRecord {
    /// Full or delta.
    pub kind: SyncKind,
    /// When WSyncMgr started it.
    pub started: SimTime,
    /// When the metadata was in the site database (`None`: it failed, or
    /// was still running at the end of the run).
    pub finished: Option<SimTime>,
    /// When it failed (status message 6703) because the top-level SUP was
    /// down when it started or went down while it ran (`None`: it did not).
    pub failed: Option<SimTime>,
    /// Updates it brought into the site database (none if it failed).
    pub new_updates: Vec<UpdateId>,
}

/// Everything known about one deployment at the end of a run.
#[derive(Clone, Debug)]
pub struct DeploymentRecord {
    /// Clients targeted.
    pub targeted: u32,
    /// When it was created, made available and its deadline (`None`: a
    /// later phase of a phased deployment that never began).
    pub created: Option<SimTime>,
    /// See `created`.
    pub available: Option<SimTime>,
    /// See `created`.
    pub deadline: Option<SimTime>,
    /// Its place in a phased deployment (`None`: not phased).
    pub phase: Option<PhaseRecord>,
    /// For a deployment an automatic deployment rule made: the updates its
    /// last run picked (`None`: the scenario's list).
    pub picked: Option<Vec<UpdateId>>,
    /// When its policy was first published (content on the DPs).
    pub published_at: Option<SimTime>,
    /// When it was published at each primary site.
    pub site_published_at: Vec<Option<SimTime>>,
    /// In a hierarchy, per primary: when 95 % of the clients it targets
    /// there were first compliant, truly (`[0]`) and as the primary's
    /// database showed them (`[1]`).
    pub site_95: Vec<[Option<SimTime>; 2]>,
    /// Threshold crossings.
    pub thresholds: Thresholds,
    /// Per client (indexed by client id; untargeted clients read
    /// [`Assignment::UNTARGETED`]); empty for a deployment an automatic
    /// deployment rule's run could make and no run did.
    pub assignments: ClientAssignments,
    /// Client time to truly compliant, from creation, ms: clients it required.
    pub time_to_compliant_true: MsHistogram,
    /// Client time to reported compliant, from creation, ms (the same
    /// clients: those it required).
    pub time_to_compliant_reported: MsHistogram,
    /// Counts at the end of the run.
    pub final_truth: [u32; 4],
    /// Reported counts at the end of the run.
    pub final_reported: [u32; 4],
    /// Reported Unknown at the end whose last scan report was a failure.
    pub final_reported_unknown_scan_failed: u32,
    /// The same, per cohort it targets, in cohort order.
    pub by_cohort: Vec<CohortBreakdown>,
}

/// How a phase of a phased deployment began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhaseReason {
    /// The first phase: created by the administrator.
    Created,
    /// The previous phase met its success criterion (and the wait passed).
    PreviousSucceeded,
    /// By hand, at the instant the scenario gives.
    Manual,
}

/// One phase of a phased deployment, as the run left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhaseRecord {
    /// Its place: 1 for the first phase.
    pub number: u32,
    /// When it began and why (`None`: it never did).
    pub began: Option<(SimTime, PhaseReason)>,
    /// When the previous phase met this phase's success criterion (`None`:
    /// the first phase, a manual phase, or never).
    pub previous_succeeded_at: Option<SimTime>,
    /// Its begin came while its phased deployment was suspended, and
    /// waited for the resume.
    pub held: bool,
}

/// One cohort's part of a deployment.
#[derive(Clone, Debug)]
pub struct CohortBreakdown {
    /// The cohort.
    pub cohort: CohortId,
    /// Its clients (the deployment targets them all).
    pub targeted: u32,
    /// True counts at the end.
    pub final_truth: [u32; 4],
    /// Reported counts at the end.
    pub final_reported: [u32; 4],
    /// Client time to truly compliant, from creation, ms (clients it required).
    pub time_to_compliant_true: MsHistogram,
    /// Client time to reported compliant, from creation, ms (same clients).
    pub time_to_compliant_reported: MsHistogram,
}

/// Per-cohort timings of client work, ms.
#[derive(Clone, Debug)]
pub struct CohortTimings {
    /// Scan request → the SUP's answer (queue and service; retries not included).
    pub scan_response: MsHistogram,
    /// Download request → last byte (waiting for a connection included).
    pub download: MsHistogram,
    /// Install needing a restart → the restart (or the shutdown that did it).
    pub restart_delay: MsHistogram,
}

/// Which of a cohort's [`CohortTimings`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timing {
    /// [`CohortTimings::scan_response`].
    ScanResponse = 0,
    /// [`CohortTimings::download`].
    Download = 1,
    /// [`CohortTimings::restart_delay`].
    RestartDelay = 2,
}

/// Every cohort's [`CohortTimings`], recorded through a [`HistogramLog`]
/// (hundreds of cohorts, three histograms each).
pub(crate) struct CohortTimingLog(HistogramLog);

impl CohortTimingLog {
    pub(crate) fn new(cohorts: usize) -> Self {
        CohortTimingLog(HistogramLog::new(3 * cohorts))
    }

    /// Records `ms` (saturating) in cohort `cohort`'s histogram `timing`.
    #[inline]
    pub(crate) fn record(&mut self, cohort: usize, timing: Timing, ms: u64) {
        self.0.saturating_record(3 * cohort + timing as usize, ms);
    }

    /// Every cohort's timings, everything recorded counted.
    pub(crate) fn into_timings(self) -> Vec<CohortTimings> {
        let mut histograms = self.0.into_histograms().into_iter();
        let mut timings = Vec::with_capacity(histograms.len() / 3);
        while let (Some(scan_response), Some(download), Some(restart_delay)) =
            (histograms.next(), histograms.next(), histograms.next())
        {
            timings.push(CohortTimings {
                scan_response,
                download,
                restart_delay,
            });
        }
        timings
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Scans finished, by [`ScanCause`]: what drives a SUP's scan load.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ScansByCause {
    /// A deployment's evaluation (a new one or a new revision, or the
    /// retry of a scan deployments waited for).
    pub evaluation: u64,
    /// The deployment re-evaluation schedule.
    pub reevaluation: u64,
    /// The scan schedule.
    pub schedule: u64,
    /// Before enforcing a Required deployment (its download or install
    /// due, the results not current), when no other scan was due.
    pub enforcement: u64,
    /// After an install or a restart (offline).
    pub verification: u64,
}

impl ScansByCause {
    /// Counts one scan.
    pub(crate) fn count(&mut self, cause: ScanCause) {
        *self.of_mut(cause) += 1;
    }

    /// The scans of one cause.
    pub fn of(&self, cause: ScanCause) -> u64 {
        match cause {
            ScanCause::Evaluation => self.evaluation,
            ScanCause::Enforcement => self.enforcement,
            ScanCause::Reevaluation => self.reevaluation,
            ScanCause::Schedule => self.schedule,
            ScanCause::Verification => self.verification,
        }
    }

    fn of_mut(&mut self, cause: ScanCause) -> &mut u64 {
        match cause {
            ScanCause::Evaluation => &mut self.evaluation,
            ScanCause::Enforcement => &mut self.enforcement,
            ScanCause::Reevaluation => &mut self.reevaluation,
            ScanCause::Schedule => &mut self.schedule,
            ScanCause::Verification => &mut self.verification,
        }
    }
}

/// Counts of what happened in a run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Policy requests answered (periodic and one-off).
    pub policy_requests: u64,
    /// Compliance scans finished.
    pub scans: u64,
    /// Content bytes downloaded by clients, from every source: the sum of
    /// the `bytes_from_*` below.
    pub bytes_downloaded: u64,
    /// Of those, from distribution points.
    pub bytes_from_dp: u64,
    /// From peer cache sources (other clients of the cohort).
    pub bytes_from_peer_cache: u64,
    /// From BranchCache peers.
    pub bytes_from_branch_cache: u64,
    /// From Delivery Optimization peers.
    pub bytes_from_delivery_optimization: u64,
    /// From Microsoft Update (the deployment's fallback when the DP is down).
    pub bytes_from_microsoft_update: u64,
    /// Bytes express content saved: full size minus express size of the
    /// updates in each finished download of a client that uses express.
    pub bytes_saved_by_express: u64,
    /// Bytes the DPs did not serve thanks to the other sources and express
    /// content: `bytes_downloaded` − `bytes_from_dp` +
    /// `bytes_saved_by_express`.
    pub dp_bytes_saved: u64,
    /// Transfers from a peer cache source that stopped because the peer
    /// went off or restarted; the client went on from its next source.
    pub peer_fallbacks: u64,
    /// Downloads that went to Microsoft Update because the DP was down.
    pub microsoft_update_fallbacks: u64,
    /// Downloads from a DP of the site's default boundary group: the
    /// client's own DP could not give the content for its location's
    /// fallback time.
    #[serde(skip_serializing_if = "is_zero")]
    pub dp_fallbacks: u64,
    /// Deployments' content removed from a client's cache to keep it
    /// within its size limit.
    pub cache_evictions: u64,
    /// Install attempts of one update.
    pub installs: u64,
    /// Failed install attempts.
    pub install_failures: u64,
    /// Install attempts that outran their max run time: the client reported
    /// them failed, and they finished in the background (not counted in
    /// `install_failures`).
    pub installs_overran: u64,
    /// Updates still missing at the end on clients where they never fit a
    /// maintenance window (their max run time is longer than every window
    /// of the client), counted once per client and update.
    pub updates_never_fit: u64,
    /// Updates that stopped being required on a client because an update
    /// superseding them took effect there, counted once per client and
    /// update.
    pub updates_superseded: u64,
    /// Superseded updates the supersedence rule expired at a sync: they
    /// left their deployments.
    pub updates_expired: u64,
    /// Deployments automatic deployment rules made (one per new group).
    #[serde(skip_serializing_if = "is_zero")]
    pub rule_deployments: u64,
    /// Runs of a rule with an existing group that changed its updates.
    #[serde(skip_serializing_if = "is_zero")]
    pub rule_refreshes: u64,
    /// Runs of a rule that found no update meeting its criteria.
    #[serde(skip_serializing_if = "is_zero")]
    pub rule_runs_empty: u64,
    /// Restarts the user made before the countdown ran out.
    pub restarts_by_user: u64,
    /// Restarts forced at the end of the countdown.
    pub restarts_forced: u64,
    /// Pending restarts satisfied by a shutdown.
    pub restarts_by_shutdown: u64,
    /// Restarts in a maintenance window: right after an install in it, or
    /// a suppressed restart when the next window opens.
    pub restarts_in_window: u64,
    /// Restarts by the administrator's schedule.
    pub restarts_scheduled: u64,
    /// Scans that failed (conflicting GPO).
    pub scans_failed: u64,
    /// Scans that ran offline, on the metadata the client had (after an
    /// install or a restart); counted in `scans`.
    pub scans_offline: u64,
    /// Scans that were not forced and found the last results current
    /// (inside the scan time to live): no scan ran; not in `scans`.
    pub scans_reused: u64,
    /// Scans finished, by why they ran: they add up to `scans`.
    pub scans_by_cause: ScansByCause,
    /// Installs of Available deployments started by users.
    pub available_installs_started: u64,
    /// Installs of Required deployments users started from Software Center
    /// before the deadline.
    pub early_installs_started: u64,
    /// Required deployments enforced before their deadline because another
    /// deployment's deadline came (`enforce_deadlines_within`).
    pub deadlines_brought_forward: u64,
    /// Catalog syncs finished.
    pub syncs: u64,
    /// Catalog syncs that failed (the top-level SUP down).
    pub syncs_failed: u64,
    /// Requests a management point rejected or failed.
    pub mp_rejects: u64,
    /// Scans a SUP rejected (HTTP 503) or failed.
    pub scan_rejects: u64,
    /// Scans that failed with an error the client retries.
    pub scan_errors: u64,
    /// Clients that never came online (dormant).
    pub clients_dormant: u64,
    /// Clients that switched to their next SUP after repeated failures.
    pub sup_switches: u64,
    /// Clients that moved to another of their cohort's management points
    /// after five failures in a row (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub mp_switches: u64,
    /// Recycles of update points' WSUS application pools at their private
    /// memory limit (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub wsus_recycles: u64,
    /// Update metadata the update points' scan answers sent, bytes (absent
    /// when none: scan sizes are not given).
    #[serde(skip_serializing_if = "is_zero")]
    pub scan_bytes: u64,
    /// Downloads that failed because their DP was down.
    pub download_failures: u64,
    /// Content location requests answered with no DP because the content
    /// was still crossing the WAN link to the client's branch DP; the
    /// client asked again later (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub content_not_on_dp: u64,
    /// Copies of content to branch DPs the distribution manager gave up
    /// on after 100 retries while their link was down (absent when none).
    #[serde(skip_serializing_if = "is_zero")]
    pub copies_abandoned: u64,
    /// State messages queued by clients.
    pub state_messages_queued: u64,
    /// State messages written to the site database.
    pub state_messages_in_database: u64,
    /// Batches sent to management points.
    pub batches: u64,
    /// Of those, batches a client sent within two minutes of the scan
    /// after an install, before its reporting tick.
    pub batches_after_install: u64,
    /// Batches (of those the MPs took) lost on the way to the site
    /// database.
    pub batches_lost: u64,
    /// State messages in those batches.
    pub state_messages_lost: u64,
    /// Gaps in a client's serial numbers the site found, each a request to
    /// the client to resync.
    pub resync_requests: u64,
    /// Resyncs clients made: each queued its full state again.
    pub resyncs: u64,
}

impl Totals {
    /// Fills in the content bytes, `bytes` (the sum over the cohorts), and
    /// what they saved the DPs.
    pub(crate) fn set_content(&mut self, bytes: &ContentBytes) {
        self.bytes_downloaded = bytes.bytes_downloaded;
        self.bytes_from_dp = bytes.bytes_from_dp;
        self.bytes_from_peer_cache = bytes.bytes_from_peer_cache;
        self.bytes_from_branch_cache = bytes.bytes_from_branch_cache;
        self.bytes_from_delivery_optimization = bytes.bytes_from_delivery_optimization;
        self.bytes_from_microsoft_update = bytes.bytes_from_microsoft_update;
        self.bytes_saved_by_express = bytes.bytes_saved_by_express;
        self.dp_bytes_saved =
            self.bytes_downloaded - self.bytes_from_dp + self.bytes_saved_by_express;
    }
}

/// A cohort's content bytes by source (each counted as in [`Totals`],
/// whose byte counts are the sums of these over the cohorts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ContentBytes {
    /// Bytes its clients downloaded, from every source.
    pub bytes_downloaded: u64,
    /// From distribution points.
    pub bytes_from_dp: u64,
    /// From peer cache sources.
    pub bytes_from_peer_cache: u64,
    /// From BranchCache peers.
    pub bytes_from_branch_cache: u64,
    /// From Delivery Optimization peers.
    pub bytes_from_delivery_optimization: u64,
    /// From Microsoft Update.
    pub bytes_from_microsoft_update: u64,
    /// Saved by express content.
    pub bytes_saved_by_express: u64,
}

impl ContentBytes {
    /// Counts `bytes` downloaded from `source`.
    pub(crate) fn add(&mut self, source: ContentSource, bytes: u64) {
        self.bytes_downloaded += bytes;
        *match source {
            ContentSource::DistributionPoint => &mut self.bytes_from_dp,
            ContentSource::PeerCache => &mut self.bytes_from_peer_cache,
            ContentSource::BranchCache => &mut self.bytes_from_branch_cache,
            ContentSource::DeliveryOptimization => &mut self.bytes_from_delivery_optimization,
            ContentSource::MicrosoftUpdate => &mut self.bytes_from_microsoft_update,
        } += bytes;
    }
}

impl std::ops::AddAssign<&ContentBytes> for ContentBytes {
    fn add_assign(&mut self, other: &ContentBytes) {
        self.bytes_downloaded += other.bytes_downloaded;
        self.bytes_from_dp += other.bytes_from_dp;
        self.bytes_from_peer_cache += other.bytes_from_peer_cache;
        self.bytes_from_branch_cache += other.bytes_from_branch_cache;
        self.bytes_from_delivery_optimization += other.bytes_from_delivery_optimization;
        self.bytes_from_microsoft_update += other.bytes_from_microsoft_update;
        self.bytes_saved_by_express += other.bytes_saved_by_express;
    }
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// Events handled.
    pub events: u64,
    /// Time the run ended.
    pub end: SimTime,
    /// Timeline rows, in time order, deployments in file order within a
    /// time: the top-level view (the CAS's database in a hierarchy).
    pub timeline: Vec<SampleRow>,
    /// In a hierarchy, the rows per primary site (its clients, its
    /// database), in time order, then site, then deployment; empty otherwise.
    pub site_timeline: Vec<SampleRow>,
    /// When each update reached each primary site's SUPs (per site, per update).
    pub site_synced_at: Vec<Vec<Option<SimTime>>>,
    /// Per-update rows, in time order, updates in file order within a time.
    pub update_timeline: Vec<UpdateRow>,
    /// Catalog syncs, in start order.
    pub syncs: Vec<SyncRecord>,
    /// When each update reached the site database (`None`: never in the
    /// run; zero: before the start).
    pub synced_at: Vec<Option<SimTime>>,
    /// Clients with a conflicting domain GPO, per cohort.
    pub gpo_conflicts: Vec<u32>,
    /// Co-managed clients whose Windows Update policies workload is on
    /// Intune, per cohort.
    pub co_managed: Vec<u32>,
    /// Per deployment, in file order.
    pub deployments: Vec<DeploymentRecord>,
    /// Totals.
    pub totals: Totals,
    /// State-message latency, queued on the client → in the site database, ms.
    pub message_latency: MsHistogram,
    /// Shortest gap between two batches of one client at its reporting
    /// ticks (a batch after an install is not counted).
    pub min_batch_gap: Option<SimDuration>,
    /// Batches each client sent, indexed by client id.
    pub batches_per_client: Vec<u32>,
    /// Servers: management points, update points, distribution points, the
    /// state systems, then the locations' WAN links.
    pub servers: Vec<ServerRecord>,
    /// Load rows, in time order, servers in [`Outcome::servers`] order.
    pub load: Vec<LoadRow>,
    /// Timings of client work, per cohort (in cohort order).
    pub cohort_timings: Vec<CohortTimings>,
    /// Content bytes by source, per cohort (in cohort order).
    pub cohort_bytes: Vec<ContentBytes>,
    /// State messages queued but not yet in the site database at the end
    /// (on clients, at management points, at the state system).
    pub messages_pending_at_end: u64,
    /// Downloads from distribution points still under way at the end
    /// (running, waiting for a connection, or on a WAN link): their DPs
    /// have counted the bytes sent so far, their clients not yet.
    pub dp_downloads_at_end: u64,
    /// Per DP in a location, then per deployment: when the deployment's
    /// content first finished crossing the link to it (`None`: never).
    /// Empty without locations.
    pub content_copied_at: Vec<Vec<Option<SimTime>>>,
    /// The WSUS application pools simulated, in update point order.
    pub wsus_pools: Vec<PoolRecord>,
}

impl Outcome {
    /// Whether deployment `d` is shown in the outputs: every deployment of
    /// the scenario, but of those an automatic deployment rule could make
    /// only those a run made.
    pub fn shown(&self, estate: &crate::estate::Estate, d: usize) -> bool {
        estate.deployments[d].rule.is_none() || self.deployments[d].created.is_some()
    }

    /// Whether timeline row `row` is shown: of a deployment of the
    /// scenario, or of one a rule's run had made by the row's time (before
    /// that it targeted nobody).
    pub fn row_shown(&self, estate: &crate::estate::Estate, row: &SampleRow) -> bool {
        let d = row.deployment.index();
        estate.deployments[d].rule.is_none()
            || self.deployments[d].created.is_some_and(|t| t <= row.time)
    }
}

/// A histogram of milliseconds up to a year, to three significant digits
/// (an HdrHistogram).
///
/// A big estate holds thousands of these (three per cohort, two per
/// cohort and deployment, one per server), and many stay empty (a cohort
/// a deployment does not target, a rule's deployment never made). So one
/// takes no memory for its counters until its first record, and its
/// counters are 32-bit, about 107 KB, half the memory of 64-bit ones.
/// Before a record could take its total count past `u32::MAX`, and with
/// it any one counter, it moves to 64-bit counters: no count ever
/// saturates.
#[derive(Clone, Debug)]
pub struct MsHistogram(Counters);

#[derive(Clone, Debug)]
enum Counters {
    Empty,
    Narrow(Histogram<u32>),
    Wide(Histogram<u64>),
}

/// The largest value an [`MsHistogram`] tells apart: a year and a day.
const MS_HISTOGRAM_MAX: u64 = 366 * 86_400_000;

impl MsHistogram {
    /// An empty histogram (its counters come with its first record).
    pub fn new() -> Self {
        MsHistogram(Counters::Empty)
    }

    /// Records `value`, or the largest value it tracks if `value` is above.
    #[inline]
    pub fn saturating_record(&mut self, value: u64) {
        self.saturating_record_n(value, 1);
    }

    /// Records `value` `n` times, as [`saturating_record`](Self::saturating_record).
    #[inline]
    pub fn saturating_record_n(&mut self, value: u64, n: u64) {
        match &self.0 {
            Counters::Empty => {
                let narrow =
                    Histogram::new_with_bounds(1, MS_HISTOGRAM_MAX, 3).expect("valid bounds");
                self.0 = Counters::Narrow(narrow);
                if n > u64::from(u32::MAX) {
                    self.widen();
                }
            }
            Counters::Narrow(h) if h.len().saturating_add(n) > u64::from(u32::MAX) => self.widen(),
            _ => {}
        }
        match &mut self.0 {
            Counters::Empty => unreachable!("made above"),
            Counters::Narrow(h) => h.saturating_record_n(value, n as u32),
            Counters::Wide(h) => h.saturating_record_n(value, n),
        }
    }

    /// The same counts in 64-bit counters.
    #[cold]
    fn widen(&mut self) {
        let Counters::Narrow(narrow) = &self.0 else {
            return;
        };
        let mut wide = Histogram::<u64>::new_from(narrow);
        for v in narrow.iter_recorded() {
            // Any value of a counter's range lands in that counter.
            wide.saturating_record_n(v.value_iterated_to(), u64::from(v.count_at_value()));
        }
        self.0 = Counters::Wide(wide);
    }

    /// Forgets every record (keeping its counters' memory).
    pub fn reset(&mut self) {
        match &mut self.0 {
            Counters::Empty => {}
            Counters::Narrow(h) => h.reset(),
            Counters::Wide(h) => h.reset(),
        }
    }

    /// How many values were recorded.
    pub fn len(&self) -> u64 {
        match &self.0 {
            Counters::Empty => 0,
            Counters::Narrow(h) => h.len(),
            Counters::Wide(h) => h.len(),
        }
    }

    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value at quantile `q` (0 to 1), to the histogram's precision;
    /// 0 if nothing was recorded.
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        match &self.0 {
            Counters::Empty => 0,
            Counters::Narrow(h) => h.value_at_quantile(q),
            Counters::Wide(h) => h.value_at_quantile(q),
        }
    }

    /// The largest value recorded, to the histogram's precision; 0 if
    /// nothing was recorded.
    pub fn max(&self) -> u64 {
        match &self.0 {
            Counters::Empty => 0,
            Counters::Narrow(h) => h.max(),
            Counters::Wide(h) => h.max(),
        }
    }

    /// Each counter that holds anything: the highest value it stands for,
    /// and its count, in order of value.
    fn recorded(&self) -> Vec<(u64, u64)> {
        match &self.0 {
            Counters::Empty => Vec::new(),
            Counters::Narrow(h) => (h.iter_recorded())
                .map(|v| (v.value_iterated_to(), u64::from(v.count_at_value())))
                .collect(),
            Counters::Wide(h) => (h.iter_recorded())
                .map(|v| (v.value_iterated_to(), v.count_at_value()))
                .collect(),
        }
    }

    /// The memory one holds once it has a record, while its counters are
    /// 32-bit. Worked out once, from counters made for the purpose.
    pub(crate) fn bytes() -> u64 {
        static BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        *BYTES.get_or_init(|| {
            let h = Histogram::<u32>::new_with_bounds(1, MS_HISTOGRAM_MAX, 3).expect("bounds");
            (h.distinct_values() * std::mem::size_of::<u32>()) as u64
        })
    }
}

/// Two histograms are equal when they hold the same counts, whatever
/// their counters' width (or none yet, when empty).
impl PartialEq for MsHistogram {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.recorded() == other.recorded()
    }
}

impl Default for MsHistogram {
    fn default() -> Self {
        MsHistogram::new()
    }
}

/// [`MsHistogram`]s recorded into tens of millions of times (every state
/// message's latency, every scan's response time in its cohort's
/// histogram) while a million clients' records stream through the cache.
/// Each record would miss on a random one of the histograms' thousands of
/// counters, so records are kept in one buffer first and counted a few
/// thousand at a time, when the counters they touch stay in cache across
/// the batch. The counts are the same: they do not depend on order.
pub(crate) struct HistogramLog {
    histograms: Vec<MsHistogram>,
    /// Records not counted yet: (histogram, value).
    pending: Vec<(u32, u64)>,
}

impl HistogramLog {
    /// Records counted at a time.
    const BATCH: usize = 4_096;

    /// `n` empty histograms.
    pub(crate) fn new(n: usize) -> Self {
        HistogramLog {
            histograms: (0..n).map(|_| MsHistogram::new()).collect(),
            pending: Vec::with_capacity(Self::BATCH),
        }
    }

    /// Records `value` in histogram `i`, or the largest trackable value if
    /// it is above.
    #[inline]
    pub(crate) fn saturating_record(&mut self, i: usize, value: u64) {
        self.pending.push((i as u32, value));
        if self.pending.len() == Self::BATCH {
            self.flush();
        }
    }

    fn flush(&mut self) {
        for &(i, v) in &self.pending {
            self.histograms[i as usize].saturating_record(v);
        }
        self.pending.clear();
    }

    /// The histograms, everything recorded counted.
    pub(crate) fn into_histograms(mut self) -> Vec<MsHistogram> {
        self.flush();
        self.histograms
    }
}

/// Requests counted by kind, indexed by [`Request`](super::Request).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LoadCounts {
    /// Requests that arrived.
    pub arrived: [u64; Request::COUNT],
    /// Requests served to the end.
    pub served: [u64; Request::COUNT],
    /// Requests rejected (queue full, 503) or failed (server down).
    pub rejected: [u64; Request::COUNT],
}

impl LoadCounts {
    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &LoadCounts) {
        let pairs = [
            (&mut self.arrived, &other.arrived),
            (&mut self.served, &other.served),
            (&mut self.rejected, &other.rejected),
        ];
        for (mine, theirs) in pairs {
            for (m, t) in mine.iter_mut().zip(theirs) {
                *m += t;
            }
        }
    }
}

/// One row of the load timeline: one server over one sample interval.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadRow {
    /// End of the interval (the sample time).
    pub time: SimTime,
    /// Index into [`Outcome::servers`].
    pub server: usize,
    /// Requests in the interval.
    pub counts: LoadCounts,
    /// Waiting at the sample time.
    pub queue: u32,
    /// In service (downloads active) at the sample time.
    pub busy: u32,
    /// The most waiting at any moment of the interval, its end included.
    pub most_queue: u32,
    /// The most in service at any moment of the interval, its end
    /// included (for a CMG, clients connected).
    pub most_busy: u32,
    /// Bytes served in the interval (distribution points).
    pub bytes: u64,
    /// Whether it was down at the sample time.
    pub down: bool,
}

/// A server's role. It serialises as its short [`name`](Self::name), as
/// `summary.json`, `servers.csv` and `sizing.json` spell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub enum ServerRole {
    /// Management point.
    #[serde(rename = "mp")]
    ManagementPoint,
    /// Software update point.
    #[serde(rename = "sup")]
    UpdatePoint,
    /// Distribution point.
    #[serde(rename = "dp")]
    DistributionPoint,
    /// The site server's state system.
    #[serde(rename = "state_system")]
    StateSystem,
    /// Cloud management gateway.
    #[serde(rename = "cmg")]
    CloudManagementGateway,
    /// A branch location's WAN link (named after the location).
    #[serde(rename = "wan_link")]
    WanLink,
}

impl ServerRole {
    /// The role of the server a fault hits.
    pub fn of(server: crate::estate::ServerRef) -> Self {
        use crate::estate::ServerRef;
        match server {
            ServerRef::Mp(_) => ServerRole::ManagementPoint,
            ServerRef::Sup(_) => ServerRole::UpdatePoint,
            ServerRef::Dp(_) => ServerRole::DistributionPoint,
            ServerRef::Link(_) => ServerRole::WanLink,
        }
    }

    /// Every role.
    pub const ALL: [ServerRole; 6] = [
        ServerRole::ManagementPoint,
        ServerRole::UpdatePoint,
        ServerRole::DistributionPoint,
        ServerRole::StateSystem,
        ServerRole::CloudManagementGateway,
        ServerRole::WanLink,
    ];

    /// Short name for tables and files: `mp`, `sup`, `dp`, `state_system`,
    /// `cmg`, `wan_link`.
    pub fn name(self) -> &'static str {
        match self {
            ServerRole::ManagementPoint => "mp",
            ServerRole::UpdatePoint => "sup",
            ServerRole::DistributionPoint => "dp",
            ServerRole::StateSystem => "state_system",
            ServerRole::CloudManagementGateway => "cmg",
            ServerRole::WanLink => "wan_link",
        }
    }
}

/// A server over the whole run.
#[derive(Clone, Debug)]
pub struct ServerRecord {
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: ServerRole,
    /// Workers, scan slots or connections.
    pub capacity: u32,
    /// Queue limit (`None`: unlimited).
    pub queue_limit: Option<u32>,
    /// Requests over the run.
    pub total: LoadCounts,
    /// Most requests waiting at once.
    pub peak_queue: u32,
    /// Most requests in service at once.
    pub peak_busy: u32,
    /// Queue wait of the requests it served, ms.
    pub wait: MsHistogram,
    /// Bytes served.
    pub bytes: u64,
    /// Its time at each level of utilization over the whole run, exact.
    pub busy: BusyTime,
    /// A distribution point's or WAN link's highest bandwidth in use over
    /// any stretch of the run, bps (0 for other roles).
    pub peak_bps: u64,
}

/// The levels of utilization a server's time is counted by: whole
/// percents, 0 to 100.
pub const BUSY_LEVELS: usize = 101;

/// A server's time at each level of utilization, ms: level `p` holds the
/// time its utilization was at least `p` % and below `p + 1` % (100: full).
/// What a server has in use (workers in service, connections, bandwidth)
/// only changes at events, so the time is counted exactly between them,
/// and the time at or above any whole percent is exact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BusyTime {
    ms: Box<[u64; BUSY_LEVELS]>,
}

impl Default for BusyTime {
    fn default() -> Self {
        BusyTime {
            ms: Box::new([0; BUSY_LEVELS]),
        }
    }
}

impl BusyTime {
    /// The level of `used` out of `capacity`: its percent rounded down, at
    /// most 100 (any use of no capacity is full).
    pub fn level(used: u128, capacity: u128) -> usize {
        if capacity == 0 {
            return if used > 0 { BUSY_LEVELS - 1 } else { 0 };
        }
        (used * 100 / capacity).min(BUSY_LEVELS as u128 - 1) as usize
    }

    /// Counts `ms` at `level`.
    #[inline]
    pub fn add(&mut self, level: usize, ms: u64) {
        self.ms[level.min(BUSY_LEVELS - 1)] += ms;
    }

    /// Time at or above `share` of capacity, ms. Exact for a share that
    /// is a whole percent (as `busy_threshold_pct` is); otherwise the percent is
    /// rounded up.
    pub fn at_or_above(&self, share: f64) -> u64 {
        // A whole percent given as a share (0.07 × 100 is 7.000000000000001).
        let from = ((share * 100.0 - 1e-9).ceil().max(0.0) as usize).min(BUSY_LEVELS);
        self.ms[from..].iter().sum()
    }

    /// All the time counted, ms.
    pub fn total(&self) -> u64 {
        self.ms.iter().sum()
    }

    /// The highest level held for any time.
    pub fn peak(&self) -> usize {
        (self.ms.iter()).rposition(|&ms| ms > 0).unwrap_or(0)
    }
}

/// A server's time at each level of utilization, as the run goes: the
/// level since the last change is counted up to the next.
#[derive(Clone, Debug, Default)]
pub(crate) struct BusyClock {
    since: SimTime,
    pub(crate) time: BusyTime,
}

impl BusyClock {
    /// The server was at `level` from the last tick until `now`.
    #[inline]
    pub(crate) fn tick(&mut self, now: SimTime, level: usize) {
        let dt = now.as_ms().saturating_sub(self.since.as_ms());
        if dt > 0 {
            self.time.add(level, dt);
            self.since = now;
        }
    }
}

/// What a pool did over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolRecord {
    /// The update point's place in the scenario's list.
    pub sup: usize,
    /// Its private memory limit, bytes (`None`: no limit).
    pub limit: Option<u64>,
    /// The most private memory it held, bytes: its cache and the scans it
    /// answered at once (or, at a recycle, the memory the scan that caused
    /// it would have taken it to).
    pub peak: u64,
    /// How many times it recycled.
    pub recycles: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A role serialises as its short name, the strings the output files
    /// have always had.
    #[test]
    fn a_role_serialises_as_its_short_name() {
        let json: Vec<String> = (ServerRole::ALL.iter())
            .map(|r| serde_json::to_string(r).unwrap())
            .collect();
        assert_eq!(
            json,
            [
                "\"mp\"",
                "\"sup\"",
                "\"dp\"",
                "\"state_system\"",
                "\"cmg\"",
                "\"wan_link\""
            ]
        );
        for r in ServerRole::ALL {
            assert_eq!(
                serde_json::to_string(&r).unwrap(),
                format!("\"{}\"", r.name())
            );
        }
    }

    /// Each source's bytes land in its own field and in the total; the
    /// totals are the cohorts' sums, and the DPs saved what did not come
    /// from them plus what express content saved.
    #[test]
    fn content_bytes_add_up_over_cohorts_into_the_totals() {
        let mut a = ContentBytes::default();
        a.add(ContentSource::DistributionPoint, 100);
        a.add(ContentSource::PeerCache, 20);
        a.bytes_saved_by_express = 5;
        let mut b = ContentBytes::default();
        b.add(ContentSource::BranchCache, 3);
        b.add(ContentSource::DeliveryOptimization, 4);
        b.add(ContentSource::MicrosoftUpdate, 7);
        b.add(ContentSource::DistributionPoint, 1);
        let mut sum = ContentBytes::default();
        for k in [&a, &b] {
            sum += k;
        }
        let want = ContentBytes {
            bytes_downloaded: 135,
            bytes_from_dp: 101,
            bytes_from_peer_cache: 20,
            bytes_from_branch_cache: 3,
            bytes_from_delivery_optimization: 4,
            bytes_from_microsoft_update: 7,
            bytes_saved_by_express: 5,
        };
        assert_eq!(sum, want);
        let mut t = Totals::default();
        t.set_content(&sum);
        assert_eq!(t.bytes_downloaded, 135);
        assert_eq!(t.bytes_from_dp, 101);
        assert_eq!(t.bytes_from_peer_cache, 20);
        assert_eq!(t.bytes_from_branch_cache, 3);
        assert_eq!(t.bytes_from_delivery_optimization, 4);
        assert_eq!(t.bytes_from_microsoft_update, 7);
        assert_eq!(t.bytes_saved_by_express, 5);
        assert_eq!(t.dp_bytes_saved, 135 - 101 + 5);
    }

    /// 32-bit counters give what 64-bit ones give; a histogram moved to
    /// 64-bit counters keeps every count, and one that would pass
    /// `u32::MAX` records moves before it does, so nothing saturates.
    #[test]
    fn narrow_counters_widen_before_they_could_saturate() {
        let mut wide = Histogram::<u64>::new_with_bounds(1, MS_HISTOGRAM_MAX, 3).expect("bounds");
        let mut h = MsHistogram::new();
        for i in 0..50_000u64 {
            let v = (i * 7_919) % 40_000_000 + i % 3;
            wide.saturating_record(v);
            h.saturating_record(v);
        }
        wide.saturating_record(2 * MS_HISTOGRAM_MAX);
        h.saturating_record(2 * MS_HISTOGRAM_MAX);
        let same = |h: &MsHistogram| {
            for q in [0.0, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0] {
                assert_eq!(h.value_at_quantile(q), wide.value_at_quantile(q), "q {q}");
            }
            assert_eq!((h.len(), h.max()), (wide.len(), wide.max()));
        };
        same(&h);
        assert!(matches!(h.0, Counters::Narrow(_)));
        let narrow = h.clone();
        h.widen();
        assert_eq!(h, narrow, "equal across widths");
        assert!(matches!(h.0, Counters::Wide(_)));
        same(&h);

        // Empty, it holds no counters, and answers as an empty one does.
        let empty = MsHistogram::new();
        assert!(matches!(empty.0, Counters::Empty));
        let made = Histogram::<u32>::new_with_bounds(1, MS_HISTOGRAM_MAX, 3).expect("bounds");
        assert_eq!(empty.value_at_quantile(0.5), made.value_at_quantile(0.5));
        assert_eq!((empty.len(), empty.max()), (made.len(), made.max()));
        let mut cleared = h.clone();
        cleared.reset();
        assert_eq!(cleared, empty);

        let mut big = MsHistogram::new();
        big.saturating_record_n(1_000, u64::from(u32::MAX) - 1);
        assert!(matches!(big.0, Counters::Narrow(_)), "still fits");
        big.saturating_record_n(1_000, 5);
        assert!(matches!(big.0, Counters::Wide(_)));
        assert_eq!(big.len(), u64::from(u32::MAX) + 4);
        assert_eq!(big.value_at_quantile(0.5), 1_000);
        let mut first = MsHistogram::new();
        first.saturating_record_n(7, u64::from(u32::MAX) + 1);
        assert!(matches!(first.0, Counters::Wide(_)));
        assert_eq!(first.len(), u64::from(u32::MAX) + 1);
    }

    /// Logged or not, the same values give the same histograms: counts,
    /// extremes and total, across several flushes and a partial one, with
    /// values above the trackable range saturated alike.
    #[test]
    fn a_histogram_log_counts_what_plain_histograms_count() {
        let mut plain = [MsHistogram::new(), MsHistogram::new()];
        let mut log = HistogramLog::new(2);
        let mut x: u64 = 12345;
        for i in 0..(3 * HistogramLog::BATCH + 17) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let v = match i % 5 {
                0 => 0,
                1 => u64::MAX,
                _ => (x >> 33) % 10_000_000,
            };
            plain[i % 2].saturating_record(v);
            log.saturating_record(i % 2, v);
        }
        let logged = log.into_histograms();
        assert_eq!(logged, plain);
        assert_eq!(
            logged.iter().map(|h| h.len()).sum::<u64>(),
            (3 * HistogramLog::BATCH + 17) as u64
        );
        assert_eq!(logged[1].max(), plain[1].max());
    }

    /// The cohort timings recorded through the log are those recorded
    /// directly, each in its own cohort's histogram of its kind, across
    /// flushes.
    #[test]
    fn the_timing_log_records_each_value_where_it_belongs() {
        let mut direct: Vec<CohortTimings> = (0..3)
            .map(|_| CohortTimings {
                scan_response: MsHistogram::new(),
                download: MsHistogram::new(),
                restart_delay: MsHistogram::new(),
            })
            .collect();
        let mut log = CohortTimingLog::new(3);
        for i in 0..(2 * HistogramLog::BATCH + 5) {
            let (cohort, ms) = (i % 3, (i as u64 * 7919) % 100_000);
            let (timing, h) = match i % 4 {
                0 => (Timing::ScanResponse, &mut direct[cohort].scan_response),
                1 => (Timing::Download, &mut direct[cohort].download),
                _ => (Timing::RestartDelay, &mut direct[cohort].restart_delay),
            };
            h.saturating_record(ms);
            log.record(cohort, timing, ms);
        }
        let logged = log.into_timings();
        for (l, d) in logged.iter().zip(&direct) {
            assert_eq!(l.scan_response, d.scan_response);
            assert_eq!(l.download, d.download);
            assert_eq!(l.restart_delay, d.restart_delay);
        }
        assert!(
            direct.iter().all(|d| !d.download.is_empty()),
            "every cohort got some"
        );
    }
}
