//! `summary.json`: everything in the printed summary, machine-readable.
//!
//! Owns [`Summary`], built once from the outcome and used both for the JSON
//! file and for the printed table, so the two never disagree.

use serde::Serialize;

use crate::engine::SimTime;
use crate::estate::{CohortSpec, DeploymentSpec, Estate, PhaseStart};
use crate::model::{
    ClientAssignments, Compliance, ContentBytes, Outcome, PhaseReason, PhaseRecord, ServerRole,
    THRESHOLDS, Totals,
};
use crate::output::start_text;

/// The run summary.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Always "patchsim".
    pub tool: &'static str,
    /// Tool version.
    pub version: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Hash of the resolved scenario.
    pub scenario_hash: String,
    /// Seed.
    pub seed: u64,
    /// Wall-clock instant of simulated time zero.
    pub start: String,
    /// Simulated hours.
    pub duration_h: f64,
    /// Clients in the estate.
    pub clients: u32,
    /// Events handled.
    pub events: u64,
    /// Clients whose domain GPO names another update server: they stay
    /// Unknown, true and reported.
    pub gpo_conflict_clients: u32,
    /// Co-managed clients whose Windows Update policies workload is on
    /// Intune: Windows Update for Business patches them; the site sees
    /// their updates as Unknown (absent when there are none).
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub co_managed_clients: u32,
    /// One entry per deployment, in file order.
    pub deployments: Vec<DeploymentSummary>,
    /// One entry per update, in file order.
    pub updates: Vec<UpdateSummary>,
    /// One entry per cohort, in file order.
    pub cohorts: Vec<CohortSummary>,
    /// In a hierarchy, one entry per primary site (empty for a standalone
    /// site, whose numbers are the top-level ones).
    pub primaries: Vec<PrimarySummary>,
    /// With branch locations: the site, then each location in file order,
    /// with its WAN link and how soon its clients were compliant (absent
    /// without locations).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<LocationSummary>,
    /// The scenario's faults, in file order (absent without faults).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultSummary>,
    /// Catalog syncs, in start order.
    pub syncs: Vec<SyncSummary>,
    /// The WSUS catalog scans evaluate, when the scenario gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogSummary>,
    /// The update points' WSUS application pools, where the scenario
    /// simulates them (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub wsus_pools: Vec<WsusPoolSummary>,
    /// State message latency, queued on the client → site database, in seconds.
    pub state_message_latency_s: Percentiles,
    /// State messages queued but not in the site database at the end.
    pub state_messages_pending_at_end: u64,
    /// The utilization, in percent, at or above which a server counts as
    /// busy in `servers[].hours_busy`: the scenario's `busy_threshold_pct`
    /// (`run --busy-above` overrides it).
    pub busy_threshold_pct: f64,
    /// Every server: MPs, SUPs, DPs, then the state system.
    pub servers: Vec<ServerSummary>,
    /// Totals.
    pub totals: TotalsSummary,
}

/// The WSUS catalog and what it makes a scan cost.
#[derive(Clone, Debug, Serialize)]
pub struct CatalogSummary {
    /// Updates not declined, before maintenance.
    pub updates: u32,
    /// Share of them superseded.
    pub superseded_share: f64,
    /// WSUS maintenance declines superseded updates.
    pub decline_superseded: bool,
    /// Updates a scan evaluates: neither declined nor superseded-and-declined.
    pub valid_updates: u32,
    /// The catalog size the update points' scan times are for.
    pub reference_updates: u32,
    /// A scan's server time over the update point's scan time.
    pub scan_cost: f64,
}

/// An update point's WSUS application pool over the run.
#[derive(Clone, Debug, Serialize)]
pub struct WsusPoolSummary {
    /// The update point.
    pub update_point: String,
    /// Its private memory limit, MB (null: no limit).
    pub private_memory_limit_mb: Option<f64>,
    /// The most private memory it held, MB: its cache and the scans it
    /// answered at once, or at a recycle what the scan that caused it would
    /// have taken it to.
    pub peak_memory_mb: f64,
    /// Recycles at the limit.
    pub recycles: u64,
}

/// One deployment's results.
#[derive(Clone, Debug, Serialize)]
pub struct DeploymentSummary {
    /// Its place in the scenario's deployments (its charts' subject).
    #[serde(skip)]
    pub index: usize,
    /// Name.
    pub name: String,
    /// "required" or "available".
    pub purpose: &'static str,
    /// Clients targeted.
    pub targeted: u32,
    /// Why clients are Unknown at the end.
    pub unknown_at_end: UnknownSummary,
    /// Hours from the start to creation, availability and deadline
    /// (`None`: a phase of a phased deployment that never began).
    pub created_h: Option<f64>,
    /// Available to clients.
    pub available_h: Option<f64>,
    /// Deadline.
    pub deadline_h: Option<f64>,
    /// Its place in a phased deployment (absent: not phased).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phase: Option<PhaseSummary>,
    /// For a deployment an automatic deployment rule made: the ids of the
    /// updates its last run picked (absent: the scenario's list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picked_updates: Option<Vec<String>>,
    /// When its policy was published (content on the DPs), if it was.
    pub published_h: Option<f64>,
    /// True counts at the end.
    pub final_true: StateCounts,
    /// Reported counts at the end.
    pub final_reported: StateCounts,
    /// Compliant share at the end, percent, true.
    pub compliant_pct_true: f64,
    /// Compliant share at the end, percent, reported.
    pub compliant_pct_reported: f64,
    /// Hours from creation until 50/80/95/99 % compliant (true); null: not reached.
    pub hours_to_pct_true: Thresholds,
    /// The same, reported.
    pub hours_to_pct_reported: Thresholds,
    /// Hours from the deadline until each share is compliant (true);
    /// negative: before the deadline; null: not reached. A share reached
    /// before creation counts as reached at creation, as in
    /// `hours_to_pct_true`, so this is that figure minus (deadline −
    /// creation).
    pub hours_after_deadline_to_pct_true: Thresholds,
    /// The same, reported.
    pub hours_after_deadline_to_pct_reported: Thresholds,
    /// Per-client hours from creation to truly compliant (clients it required).
    pub client_time_to_compliant_h_true: Percentiles,
    /// Per-client hours from creation to reported compliant (the same
    /// clients: those it required).
    pub client_time_to_compliant_h_reported: Percentiles,
    /// The same, per targeted cohort.
    pub by_cohort: Vec<CohortPart>,
}

/// A deployment's place in a phased deployment, and how it began.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    /// 1 for the first phase.
    pub number: u32,
    /// The phased deployment: its first phase's name.
    pub phased_deployment: String,
    /// Hours from the start until it began (`None`: never).
    pub started_h: Option<f64>,
    /// Why it began: `created` (the first phase), `previous_succeeded`,
    /// `manual` (`None`: it never began).
    pub reason: Option<PhaseReason>,
    /// The success criterion of the previous phase, percent of its
    /// targeted clients compliant in the site database (`None`: the first
    /// phase, or a manual begin).
    pub success_percent: Option<u32>,
    /// The criterion as a number of the previous phase's targeted clients
    /// compliant, when it is one (then `success_percent` is absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_devices: Option<u32>,
    /// Days over which each client of the phase was made available, one
    /// after another ("Gradually make this software available"; absent
    /// when all at once).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gradually_over_days: Option<f64>,
    /// Hours from the start until the previous phase met it (`None`: the
    /// first phase, a manual begin, or never).
    pub previous_succeeded_h: Option<f64>,
    /// The wait after the previous phase succeeded, hours (`None`: the
    /// first phase, or a manual begin).
    pub wait_h: Option<f64>,
    /// Its begin came while the phased deployment was suspended, and it
    /// began at the resume (absent when not).
    #[serde(skip_serializing_if = "is_false")]
    pub held_until_resume: bool,
    /// The first phase: when the administrator suspended the phased
    /// deployment and resumed it (absent when never suspended).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<SuspensionSummary>,
}

/// A phased deployment suspended, and resumed or not.
#[derive(Clone, Debug, Serialize)]
pub struct SuspensionSummary {
    /// Hours from the start until it was suspended.
    pub suspended_h: f64,
    /// Hours from the start until it was resumed (`None`: never, in the
    /// run).
    pub resumed_h: Option<f64>,
}

/// One cohort's part of a deployment.
#[derive(Clone, Debug, Serialize)]
pub struct CohortPart {
    /// Cohort name.
    pub cohort: String,
    /// Clients targeted.
    pub targeted: u32,
    /// True counts at the end.
    pub final_true: StateCounts,
    /// Reported counts at the end.
    pub final_reported: StateCounts,
    /// Compliant share at the end, percent, true.
    pub compliant_pct_true: f64,
    /// Compliant share at the end, percent, reported.
    pub compliant_pct_reported: f64,
    /// Hours from creation until 50/80/95/99 % of the cohort's targeted
    /// clients had been compliant (true), from each client's first
    /// compliant instant; null: not reached.
    pub hours_to_pct_true: Thresholds,
    /// The same, reported.
    pub hours_to_pct_reported: Thresholds,
    /// Per-client hours from creation to truly compliant.
    pub client_time_to_compliant_h_true: Percentiles,
    /// Per-client hours from creation to reported compliant.
    pub client_time_to_compliant_h_reported: Percentiles,
}

/// One cohort's client timings over the run.
#[derive(Clone, Debug, Serialize)]
pub struct CohortSummary {
    /// Its name.
    pub name: String,
    /// Its clients.
    pub clients: u32,
    /// Clients with a conflicting domain GPO.
    pub gpo_conflicts: u32,
    /// Co-managed clients (absent when there are none).
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub co_managed: u32,
    /// Seconds from a scan request to the SUP's answer (queue and service).
    pub scan_response_s: Percentiles,
    /// Seconds from a download request to its last byte.
    pub download_s: Percentiles,
    /// Hours a restart was pending (install → restart or shutdown).
    pub restart_delay_h: Percentiles,
    /// Its clients' content bytes by source, as in the totals.
    #[serde(flatten)]
    pub content: ContentBytes,
}

/// One server's load over the run.
#[derive(Clone, Debug, Serialize)]
pub struct ServerSummary {
    /// Its name.
    pub name: String,
    /// Its role: `mp`, `sup`, `dp`, `state_system`, `wan_link` or `cmg`.
    pub role: ServerRole,
    /// Workers, scan slots or connections (null: a WAN link, which has no
    /// connection limit).
    pub capacity: Option<u32>,
    /// Queue limit (null: unlimited).
    pub queue_limit: Option<u32>,
    /// Most requests waiting at once.
    pub peak_queue: u32,
    /// Most requests in service at once (at most `capacity`).
    pub peak_busy: u32,
    /// Requests that arrived.
    pub arrived: u64,
    /// Requests served to the end.
    pub served: u64,
    /// Requests rejected (queue full, HTTP 503) or failed (down).
    pub rejected: u64,
    /// Seconds requests waited in its queue before service.
    pub queue_wait_s: Percentiles,
    /// Bytes served (distribution points).
    pub bytes_served: u64,
    /// Hours its utilization was at or above `busy_threshold_pct`, exact
    /// (not sampled): requests in service over capacity (any waiting counts
    /// as full) and, for a DP, bandwidth in use over its bandwidth,
    /// whichever is higher; for a WAN link, bandwidth in use over its
    /// bandwidth.
    pub hours_busy: f64,
}

/// A server (or WAN link) down or slowed for an interval.
#[derive(Clone, Debug, Serialize)]
pub struct FaultSummary {
    /// The server's name (a WAN link's is its location's).
    pub server: String,
    /// Its role, as in `servers[]`.
    pub role: ServerRole,
    /// Hours from the start to its beginning and its end.
    pub start_h: f64,
    /// Its end.
    pub end_h: f64,
    /// `None`: down; else how many times slower.
    pub slowdown: Option<f64>,
}

/// The site or a branch location: its clients, its WAN link and its part
/// of each deployment.
#[derive(Clone, Debug, Serialize)]
pub struct LocationSummary {
    /// The location's name (`(site)` for the clients at the site).
    pub name: String,
    /// Its clients.
    pub clients: u32,
    /// Its distribution points.
    pub distribution_points: Vec<String>,
    /// Its WAN link (null for the site).
    pub wan_link: Option<WanLinkSummary>,
    /// Per deployment that targets its clients, in file order.
    pub deployments: Vec<LocationDeployment>,
}

/// A WAN link over the run.
#[derive(Clone, Debug, Serialize)]
pub struct WanLinkSummary {
    /// Bandwidth, Mbps.
    pub bandwidth_mbps: f64,
    /// Round-trip latency, ms.
    pub latency_ms: u64,
    /// Bytes carried: downloads across it and content copied to its DPs.
    pub bytes_carried: u64,
    /// Highest bandwidth in use at any moment over its bandwidth, percent
    /// (exact, not sampled).
    pub peak_utilization_pct: f64,
    /// Hours at or above `busy_threshold_pct` of its bandwidth (exact).
    pub hours_busy: f64,
}

/// One deployment in one location.
#[derive(Clone, Debug, Serialize)]
pub struct LocationDeployment {
    /// Its place in the scenario's deployments.
    #[serde(skip)]
    pub index: usize,
    /// Deployment name.
    pub name: String,
    /// Its clients the deployment targets.
    pub targeted: u32,
    /// Hours from creation until each share of them was compliant (true).
    pub hours_to_pct_true: Thresholds,
    /// The same, as the site database reports it.
    pub hours_to_pct_reported: Thresholds,
    /// Hours from creation until its content had crossed the WAN link to
    /// every DP of the location its clients use (`null`: never); absent
    /// for the site and for a location whose clients use no DP of its
    /// own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hours_to_content_on_dps: Option<Option<f64>>,
}

/// A primary site under the CAS.
#[derive(Clone, Debug, Serialize)]
pub struct PrimarySummary {
    /// Its code.
    pub code: String,
    /// Clients it manages.
    pub clients: u32,
    /// Per deployment (file order), as its own database shows it.
    pub deployments: Vec<PrimaryDeployment>,
}

/// One deployment at one primary site.
#[derive(Clone, Debug, Serialize)]
pub struct PrimaryDeployment {
    /// Deployment name.
    pub name: String,
    /// Its clients the deployment targets.
    pub targeted: u32,
    /// Hours from the start until its policy was published there.
    pub published_h: Option<f64>,
    /// Compliant share at the end, percent, true.
    pub compliant_pct_true: f64,
    /// Compliant share at the end, percent, in the primary's database.
    pub compliant_pct_reported: f64,
    /// Hours from creation until 95 % of the clients the deployment
    /// targets there were truly compliant (null: not reached).
    pub hours_to_95_true: Option<f64>,
    /// Hours from creation until 95 % compliant in the primary's database
    /// (null: not reached).
    pub hours_to_95_reported: Option<f64>,
}

/// Why clients are Unknown.
#[derive(Clone, Debug, Serialize)]
pub struct UnknownSummary {
    /// Truly Unknown: a conflicting domain GPO sends the client to another
    /// update server, so this site cannot know or change its state.
    pub true_gpo_conflict: u32,
    /// Reported Unknown whose last scan report to the site was a failure.
    pub reported_scan_failed: u32,
    /// Reported Unknown that have not reported a state for every update yet.
    pub reported_not_yet_reported: u32,
}

/// One update's results over all clients.
#[derive(Clone, Debug, Serialize)]
pub struct UpdateSummary {
    /// Its id.
    pub id: String,
    /// Hours from the start to its release (null: before the start).
    pub released_h: Option<f64>,
    /// Hours from the start until its metadata was in the site database
    /// (0: before the start; null: not in this run).
    pub synced_h: Option<f64>,
    /// True counts over all clients at the end.
    pub final_true: StateCounts,
    /// Reported counts over all clients at the end.
    pub final_reported: StateCounts,
}

/// One catalog sync.
#[derive(Clone, Debug, Serialize)]
pub struct SyncSummary {
    /// "full" (scheduled) or "delta" (manual).
    pub kind: crate::model::SyncKind,
    /// Hours from the start.
    pub started_h: f64,
    /// Hours from the start until the metadata was in the database (null:
    /// it failed, or was still running at the end).
    pub finished_h: Option<f64>,
    /// Hours from the start until it failed because the top-level SUP was
    /// down (null: it did not fail).
    pub failed_h: Option<f64>,
    /// Updates it brought in.
    pub new_updates: Vec<String>,
}

/// Counts per compliance state.
#[derive(Clone, Debug, Serialize)]
pub struct StateCounts {
    /// Installed.
    pub installed: u32,
    /// Required.
    pub required: u32,
    /// Not required.
    pub not_required: u32,
    /// Unknown.
    pub unknown: u32,
}

impl From<[u32; 4]> for StateCounts {
    fn from(c: [u32; 4]) -> Self {
        StateCounts {
            installed: c[Compliance::Installed as usize],
            required: c[Compliance::Required as usize],
            not_required: c[Compliance::NotRequired as usize],
            unknown: c[Compliance::Unknown as usize],
        }
    }
}

/// Hours to each share of the targeted clients compliant, null where not
/// reached. (`pct_`: a share of clients, not a percentile.)
#[derive(Clone, Debug, Serialize)]
pub struct Thresholds {
    /// 50 % of the targeted clients.
    pub pct_50: Option<f64>,
    /// 80 %.
    pub pct_80: Option<f64>,
    /// 95 %.
    pub pct_95: Option<f64>,
    /// 99 %.
    pub pct_99: Option<f64>,
}

/// Percentiles of a histogram, in the unit named by the field holding it.
#[derive(Clone, Debug, Serialize)]
pub struct Percentiles {
    /// Values recorded.
    pub count: u64,
    /// Median.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Largest.
    pub max: Option<f64>,
}

impl Percentiles {
    /// From a histogram of milliseconds, scaled by `ms_per_unit`.
    fn of(h: &crate::model::MsHistogram, ms_per_unit: f64) -> Self {
        let at =
            |q: f64| (!h.is_empty()).then(|| round3(h.value_at_quantile(q) as f64 / ms_per_unit));
        Percentiles {
            count: h.len(),
            p50: at(0.50),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
            max: (!h.is_empty()).then(|| round3(h.max() as f64 / ms_per_unit)),
        }
    }
}

/// Totals of the run.
pub type TotalsSummary = Totals;

const MS_PER_HOUR: f64 = 3_600_000.0;

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// An instant or a milestone in hours, to the millisecond: not rounded,
/// so that `hours × 3,600,000` gives back the exact millisecond.
fn hours(t: SimTime) -> f64 {
    t.as_ms() as f64 / MS_PER_HOUR
}

/// A compliant share in percent, not rounded: `runs.csv` and the
/// statistics of a study read it, and the printed summary and report
/// round it themselves.
fn pct(part: u32, whole: u32) -> f64 {
    if whole == 0 {
        0.0
    } else {
        f64::from(part) * 100.0 / f64::from(whole)
    }
}

/// How a phase of a phased deployment began.
fn phase_summary(estate: &Estate, spec: &DeploymentSpec, p: &PhaseRecord) -> PhaseSummary {
    let mut first = spec;
    while let Some(phase) = &first.phase {
        first = &estate.deployments[phase.previous.index()];
    }
    let after = spec.phase.as_ref().and_then(|phase| match phase.begin {
        PhaseStart::AfterSuccess(wait) => Some((phase.success_percent, wait)),
        PhaseStart::Manual(_) => None,
    });
    let devices = (spec.phase.as_ref())
        .filter(|phase| matches!(phase.begin, PhaseStart::AfterSuccess(_)))
        .and_then(|phase| phase.success_devices);
    let over = spec.gradually_over.as_ms();
    PhaseSummary {
        number: p.number,
        phased_deployment: first.name.clone(),
        started_h: p.began.map(|(t, _)| hours(t)),
        reason: p.began.map(|(_, why)| why),
        success_percent: after.map(|(pct, _)| pct).filter(|_| devices.is_none()),
        success_devices: devices,
        gradually_over_days: (over > 0).then(|| round3(over as f64 / MS_PER_HOUR / 24.0)),
        previous_succeeded_h: p.previous_succeeded_at.map(hours),
        wait_h: after.map(|(_, wait)| wait.as_ms() as f64 / MS_PER_HOUR),
        held_until_resume: p.held,
        suspensions: (spec.suspensions.iter())
            .filter(|&&(at, _)| at <= estate.end())
            .map(|&(at, resume)| SuspensionSummary {
                suspended_h: hours(at),
                resumed_h: (resume <= estate.end()).then(|| hours(resume)),
            })
            .collect(),
    }
}

/// Hours each server's utilization was at or above `busy_above` (a
/// share), exact: the time the run counted at each level of it, to the
/// millisecond (not rounded, as [`hours`]).
fn busy_hours(outcome: &Outcome, busy_above: f64) -> Vec<f64> {
    (outcome.servers.iter())
        .map(|s| s.busy.at_or_above(busy_above) as f64 / MS_PER_HOUR)
        .collect()
}

/// Builds the summary of a run, servers counted busy at the estate's busy
/// threshold (`busy_threshold_pct`) and above.
pub fn summary(estate: &Estate, outcome: &Outcome) -> Summary {
    let deployments = estate
        .deployments
        .iter()
        .zip(&outcome.deployments)
        .enumerate()
        .filter(|&(d, _)| outcome.shown(estate, d))
        .map(|(index, (spec, rec))| {
            let created = rec.created.unwrap_or(SimTime::MAX);
            let since = |t: Option<SimTime>| t.map(|t| hours(SimTime(t.since(created).as_ms())));
            let th = |at: &[Option<SimTime>; 4]| Thresholds {
                pct_50: since(at[0]),
                pct_80: since(at[1]),
                pct_95: since(at[2]),
                pct_99: since(at[3]),
            };
            let after_deadline = |at: &[Option<SimTime>; 4]| {
                // A phase that never began has no deadline (and reached nothing).
                // Both clocks count a share reached before the deployment
                // existed (nothing was required) as reached at its creation,
                // so this is always the figure from creation minus
                // (deadline − creation).
                let from = |t: Option<SimTime>| {
                    t.zip(rec.deadline).map(|(t, deadline)| {
                        let t = t.max(rec.created.unwrap_or(t));
                        (t.as_ms() as f64 - deadline.as_ms() as f64) / MS_PER_HOUR
                    })
                };
                Thresholds {
                    pct_50: from(at[0]),
                    pct_80: from(at[1]),
                    pct_95: from(at[2]),
                    pct_99: from(at[3]),
                }
            };
            let ok = |s: &[u32; 4]| {
                s[Compliance::Installed as usize] + s[Compliance::NotRequired as usize]
            };
            let unknown = Compliance::Unknown as usize;
            DeploymentSummary {
                index,
                name: spec.name.clone(),
                purpose: match spec.purpose {
                    crate::estate::Purpose::Required => "required",
                    crate::estate::Purpose::Available => "available",
                },
                targeted: rec.targeted,
                unknown_at_end: UnknownSummary {
                    true_gpo_conflict: rec.final_truth[unknown],
                    reported_scan_failed: rec.final_reported_unknown_scan_failed,
                    reported_not_yet_reported: rec.final_reported[unknown]
                        - rec.final_reported_unknown_scan_failed,
                },
                created_h: rec.created.map(hours),
                available_h: rec.available.map(hours),
                deadline_h: rec.deadline.map(hours),
                phase: rec.phase.map(|p| phase_summary(estate, spec, &p)),
                picked_updates: (rec.picked.as_ref()).map(|list| {
                    (list.iter())
                        .map(|u| estate.updates[u.index()].id.clone())
                        .collect()
                }),
                published_h: rec.published_at.map(hours),
                final_true: rec.final_truth.into(),
                final_reported: rec.final_reported.into(),
                compliant_pct_true: pct(ok(&rec.final_truth), rec.targeted),
                compliant_pct_reported: pct(ok(&rec.final_reported), rec.targeted),
                hours_to_pct_true: th(&rec.thresholds.true_at),
                hours_to_pct_reported: th(&rec.thresholds.reported_at),
                hours_after_deadline_to_pct_true: after_deadline(&rec.thresholds.true_at),
                hours_after_deadline_to_pct_reported: after_deadline(&rec.thresholds.reported_at),
                client_time_to_compliant_h_true: Percentiles::of(
                    &rec.time_to_compliant_true,
                    MS_PER_HOUR,
                ),
                client_time_to_compliant_h_reported: Percentiles::of(
                    &rec.time_to_compliant_reported,
                    MS_PER_HOUR,
                ),
                by_cohort: (rec.by_cohort.iter())
                    .map(|part| {
                        let k = &estate.cohorts[part.cohort.index()];
                        let (true_at, reported_at) = compliant_instants(&rec.assignments, [k]);
                        let created = rec.created.unwrap_or(SimTime::MAX);
                        CohortPart {
                            cohort: k.name.clone(),
                            targeted: part.targeted,
                            hours_to_pct_true: first_compliant_milestones(true_at, created),
                            hours_to_pct_reported: first_compliant_milestones(reported_at, created),
                            final_true: part.final_truth.into(),
                            final_reported: part.final_reported.into(),
                            compliant_pct_true: pct(ok(&part.final_truth), part.targeted),
                            compliant_pct_reported: pct(ok(&part.final_reported), part.targeted),
                            client_time_to_compliant_h_true: Percentiles::of(
                                &part.time_to_compliant_true,
                                MS_PER_HOUR,
                            ),
                            client_time_to_compliant_h_reported: Percentiles::of(
                                &part.time_to_compliant_reported,
                                MS_PER_HOUR,
                            ),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    debug_assert_eq!(THRESHOLDS, [50, 80, 95, 99]);
    let n_updates = estate.updates.len();
    let last_rows =
        &outcome.update_timeline[outcome.update_timeline.len().saturating_sub(n_updates)..];
    let updates = estate
        .updates
        .iter()
        .enumerate()
        .map(|(u, spec)| {
            let row = last_rows.iter().find(|r| r.update.index() == u);
            UpdateSummary {
                id: spec.id.clone(),
                released_h: spec.release.map(hours),
                synced_h: outcome.synced_at[u].map(hours),
                final_true: row.map_or([0; 4], |r| r.truth).into(),
                final_reported: row.map_or([0; 4], |r| r.reported).into(),
            }
        })
        .collect();
    let syncs = outcome
        .syncs
        .iter()
        .map(|s| SyncSummary {
            kind: s.kind,
            started_h: hours(s.started),
            finished_h: s.finished.map(hours),
            failed_h: s.failed.map(hours),
            new_updates: s
                .new_updates
                .iter()
                .map(|u| estate.updates[u.index()].id.clone())
                .collect(),
        })
        .collect();
    let hours_busy = busy_hours(outcome, estate.busy_above());
    Summary {
        tool: "patchsim",
        version: crate::VERSION,
        scenario: estate.source.name.clone(),
        scenario_hash: estate.hash.clone(),
        seed: estate.seed,
        start: start_text(estate),
        duration_h: hours(SimTime::ZERO + estate.duration),
        clients: estate.client_count(),
        events: outcome.events,
        gpo_conflict_clients: outcome.gpo_conflicts.iter().sum(),
        co_managed_clients: outcome.co_managed.iter().sum(),
        deployments,
        updates,
        cohorts: estate
            .cohorts
            .iter()
            .zip(&outcome.cohort_timings)
            .zip(&outcome.gpo_conflicts)
            .zip(&outcome.cohort_bytes)
            .zip(&outcome.co_managed)
            .map(
                |((((spec, t), &gpo), &content), &co_managed)| CohortSummary {
                    name: spec.name.clone(),
                    clients: spec.count,
                    gpo_conflicts: gpo,
                    co_managed,
                    scan_response_s: Percentiles::of(&t.scan_response, 1_000.0),
                    download_s: Percentiles::of(&t.download, 1_000.0),
                    restart_delay_h: Percentiles::of(&t.restart_delay, MS_PER_HOUR),
                    content,
                },
            )
            .collect(),
        primaries: primaries(estate, outcome),
        locations: locations(estate, outcome, &hours_busy),
        faults: (estate.faults.iter())
            .map(|f| FaultSummary {
                server: estate.server_name(f.server).to_string(),
                role: ServerRole::of(f.server),
                start_h: hours(f.start),
                end_h: hours(f.end),
                slowdown: f.slowdown,
            })
            .collect(),
        syncs,
        catalog: estate.sync.catalog.as_ref().map(|c| CatalogSummary {
            updates: c.updates,
            superseded_share: c.superseded_share,
            decline_superseded: c.decline_superseded,
            valid_updates: c.valid_updates(),
            reference_updates: c.reference_updates,
            scan_cost: round3(c.scan_cost()),
        }),
        wsus_pools: (outcome.wsus_pools.iter())
            .map(|p| WsusPoolSummary {
                update_point: estate.update_points[p.sup].name.clone(),
                private_memory_limit_mb: p.limit.map(megabytes),
                peak_memory_mb: megabytes(p.peak),
                recycles: p.recycles,
            })
            .collect(),
        state_message_latency_s: Percentiles::of(&outcome.message_latency, 1_000.0),
        state_messages_pending_at_end: outcome.messages_pending_at_end,
        busy_threshold_pct: f64::from(estate.busy_threshold_pct),
        servers: outcome
            .servers
            .iter()
            .zip(hours_busy)
            .map(|(s, hours_busy)| ServerSummary {
                name: s.name.clone(),
                role: s.role,
                capacity: (s.role != ServerRole::WanLink).then_some(s.capacity),
                queue_limit: s.queue_limit,
                peak_queue: s.peak_queue,
                peak_busy: s.peak_busy,
                arrived: s.total.arrived.iter().sum(),
                served: s.total.served.iter().sum(),
                rejected: s.total.rejected.iter().sum(),
                queue_wait_s: Percentiles::of(&s.wait, 1_000.0),
                bytes_served: s.bytes,
                hours_busy,
            })
            .collect(),
        totals: outcome.totals.clone(),
    }
}

/// `summary.json` as text.
pub fn summary_json(estate: &Estate, outcome: &Outcome) -> String {
    summary_text_json(&summary(estate, outcome))
}

/// `summary.json` as text, from a summary already built.
pub(crate) fn summary_text_json(summary: &Summary) -> String {
    let mut s = serde_json::to_string_pretty(summary).expect("summary serializes");
    s.push('\n');
    s
}

/// The first compliant instants, true and reported, of the clients of
/// `cohorts` the deployment targets (`assignments`), cohort by cohort in
/// client order.
fn compliant_instants<'e>(
    assignments: &ClientAssignments,
    cohorts: impl IntoIterator<Item = &'e CohortSpec>,
) -> (Vec<SimTime>, Vec<SimTime>) {
    (cohorts.into_iter())
        .flat_map(|k| assignments.range(k.clients().start as usize..k.clients().end as usize))
        .filter(|a| a.is_targeted())
        .map(|a| (a.true_compliant_at, a.reported_compliant_at))
        .unzip()
}

/// Hours from `created` until 50/80/95/99 % of a group of targeted
/// clients had been compliant, from each client's first compliant instant
/// (`at`, one per client; `SimTime::MAX`: never); `None` where too few
/// ever were.
fn first_compliant_milestones(mut at: Vec<SimTime>, created: SimTime) -> Thresholds {
    at.sort_unstable();
    let when = |pct: u64| {
        let need = (at.len() as u64 * pct).div_ceil(100).max(1) as usize;
        let t = *at.get(need - 1)?;
        (t != SimTime::MAX).then(|| hours(SimTime(t.since(created).as_ms())))
    };
    Thresholds {
        pct_50: when(50),
        pct_80: when(80),
        pct_95: when(95),
        pct_99: when(99),
    }
}

/// Per location (the site first), from the clients' assignments and the
/// links' records; empty without locations. `hours_busy` is per server.
fn locations(estate: &Estate, outcome: &Outcome, hours_busy: &[f64]) -> Vec<LocationSummary> {
    if estate.locations.is_empty() {
        return Vec::new();
    }
    // Cohorts and link records grouped in one pass each: a
    // search per location would make a thousand locations cost a million.
    let mut cohorts_at: Vec<Vec<&crate::estate::CohortSpec>> =
        vec![Vec::new(); estate.locations.len() + 1];
    for k in &estate.cohorts {
        cohorts_at[k.location.map_or(0, |l| l.index() + 1)].push(k);
    }
    // A link's record, by role and name: other roles (the cloud management
    // gateways) may come after the links.
    let mut link_records = std::collections::BTreeMap::new();
    for (i, s) in outcome.servers.iter().enumerate() {
        if s.role == ServerRole::WanLink {
            link_records.entry(s.name.as_str()).or_insert(i);
        }
    }
    let places = std::iter::once(None).chain((0..estate.locations.len()).map(Some));
    places
        .map(|place| {
            let cohorts = &cohorts_at[place.map_or(0, |l| l + 1)];
            let wan_link = place.map(|l| {
                let spec = &estate.locations[l];
                let server = *link_records
                    .get(spec.name.as_str())
                    .expect("every location's link has its record");
                let peak = outcome.servers[server].peak_bps as f64 * 100.0
                    / spec.bandwidth_bps.max(1) as f64;
                WanLinkSummary {
                    bandwidth_mbps: round3(spec.bandwidth_bps as f64 / 1e6),
                    latency_ms: spec.latency.as_ms(),
                    bytes_carried: outcome.servers[server].bytes,
                    peak_utilization_pct: round3(peak),
                    hours_busy: hours_busy[server],
                }
            });
            let deployments = (estate.deployments.iter().zip(&outcome.deployments))
                .enumerate()
                .filter_map(|(d, (spec, rec))| {
                    // Nothing for a deployment no rule's run made.
                    let (true_at, reported_at) =
                        compliant_instants(&rec.assignments, cohorts.iter().copied());
                    if true_at.is_empty() {
                        return None;
                    }
                    let created = rec.created.unwrap_or(SimTime::MAX);
                    let th = |at| first_compliant_milestones(at, created);
                    let mut dps: Vec<usize> = (spec.targets.iter())
                        .filter_map(|c| estate.cohorts[c.index()].dp)
                        .map(|dp| dp.index())
                        .filter(|&dp| {
                            place.is_some()
                                && estate.distribution_points[dp].location.map(|l| l.index())
                                    == place
                        })
                        .collect();
                    dps.sort_unstable();
                    dps.dedup();
                    let hours_to_content_on_dps = (!dps.is_empty()).then(|| {
                        (dps.iter())
                            .map(|&dp| outcome.content_copied_at[dp][d])
                            .try_fold(created, |last, at| at.map(|t| last.max(t)))
                            .map(|t| hours(SimTime(t.since(created).as_ms())))
                    });
                    Some(LocationDeployment {
                        index: d,
                        name: spec.name.clone(),
                        targeted: true_at.len() as u32,
                        hours_to_pct_true: th(true_at),
                        hours_to_pct_reported: th(reported_at),
                        hours_to_content_on_dps,
                    })
                })
                .collect();
            LocationSummary {
                name: place.map_or("(site)".to_string(), |l| estate.locations[l].name.clone()),
                clients: cohorts.iter().map(|k| k.count).sum(),
                distribution_points: (estate.distribution_points.iter())
                    .filter(|d| d.location.map(|l| l.index()) == place)
                    .map(|d| d.name.clone())
                    .collect(),
                wan_link,
                deployments,
            }
        })
        .collect()
}

/// Per-primary results, from the per-site timeline (hierarchy only).
fn primaries(estate: &Estate, outcome: &Outcome) -> Vec<PrimarySummary> {
    if outcome.site_timeline.is_empty() {
        return Vec::new();
    }
    let ok = |s: &[u32; 4]| s[Compliance::Installed as usize] + s[Compliance::NotRequired as usize];
    estate
        .primaries
        .iter()
        .enumerate()
        .map(|(site, p)| PrimarySummary {
            code: p.code.clone(),
            clients: p.clients,
            deployments: estate
                .deployments
                .iter()
                .enumerate()
                .filter(|&(d, _)| outcome.shown(estate, d))
                .map(|(d, spec)| {
                    let rows: Vec<_> = outcome
                        .site_timeline
                        .iter()
                        .filter(|r| {
                            r.deployment.index() == d && r.site.map(|s| s.index()) == Some(site)
                        })
                        .collect();
                    let targeted: u32 = rows.first().map_or(0, |r| r.truth.iter().sum());
                    let last = rows.last();
                    let record = &outcome.deployments[d];
                    // To the millisecond, as the site first showed it.
                    let at_95 = |view: usize| {
                        record.site_95[site][view]
                            .zip(record.created)
                            .map(|(at, created)| hours(SimTime(at.since(created).as_ms())))
                    };
                    PrimaryDeployment {
                        name: spec.name.clone(),
                        targeted,
                        published_h: record.site_published_at[site].map(hours),
                        compliant_pct_true: last.map_or(0.0, |r| pct(ok(&r.truth), targeted)),
                        compliant_pct_reported: last
                            .map_or(0.0, |r| pct(ok(&r.reported), targeted)),
                        hours_to_95_true: at_95(0),
                        hours_to_95_reported: at_95(1),
                    }
                })
                .collect(),
        })
        .collect()
}

fn is_zero_u32(n: &u32) -> bool {
    *n == 0
}

/// Bytes in megabytes (10^6), to the kilobyte.
fn megabytes(bytes: u64) -> f64 {
    round3(bytes as f64 / 1e6)
}

fn is_false(b: &bool) -> bool {
    !*b
}
