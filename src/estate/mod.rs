//! The estate: a scenario resolved into plain, typed data that a run needs.
//!
//! Owns [`Estate`] and its parts, the typed ids ([`ids`]) that index them,
//! and the random durations they are described with ([`Dist`]). It is the
//! hand-over point of the one-way flow: the scenario module builds it from a
//! validated file (so every reference in it resolves and every value is in
//! range), the model runs it, the writers label their outputs with it. It
//! knows neither how a scenario file is spelled nor how a run keeps its
//! state.

mod dist;
pub mod ids;

use chrono::{DateTime, FixedOffset};

pub use crate::scenario::DistributionPriority;

pub use dist::{Dist, Normals, Sampler};
pub use ids::{
    ClientId, CohortId, DeploymentId, DpId, LocationId, MpId, SettingsId, SiteId, SupId, UpdateId,
};

use crate::engine::{SimDuration, SimTime};

/// Whether a deployment is enforced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// Installed at the deadline whatever the user does.
    Required,
    /// Offered in Software Center; installed only if the user starts it.
    Available,
}

/// Whether a client is a workstation or a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKind {
    /// A desktop or laptop.
    Workstation,
    /// A server.
    Server,
}

/// Where an estate came from: what every output is labelled with.
#[derive(Clone, Debug)]
pub struct Source {
    /// The scenario's name.
    pub name: String,
    /// Its description (may be empty).
    pub description: String,
    /// Simulated time zero on the scenario's clock, with its UTC offset.
    pub start: DateTime<FixedOffset>,
    /// The top-level site's code.
    pub site_code: String,
    /// The scenario as run, defaults written out, as text: running it
    /// again reproduces the run.
    pub text: String,
}

/// A checked scenario, ready to simulate.
#[derive(Clone, Debug)]
pub struct Estate {
    /// Where it came from.
    pub source: Source,
    /// Hex SHA-256 of the resolved scenario's text (first 16 digits).
    pub hash: String,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    /// Spacing of timeline samples.
    pub sample_interval: SimDuration,
    /// The busy threshold, in whole percent of a server's capacity (1–100):
    /// the outputs count a server busy while its utilization is at or
    /// above it.
    pub busy_threshold_pct: u32,
    /// Milliseconds from local Monday 00:00 (in the start's UTC offset) to
    /// simulated time zero.
    pub week_offset: SimDuration,
    /// Site timings (the top-level site's).
    pub site: SiteSpec,
    /// The primary sites, indexed by [`SiteId`]: one (the standalone site)
    /// unless the top-level site is a central administration site.
    pub primaries: Vec<PrimarySpec>,
    /// Whether the top-level site is a CAS over `primaries`.
    pub hierarchy: bool,
    /// Catalog sync.
    pub sync: SyncSpec,
    /// Management points, indexed by [`MpId`].
    pub management_points: Vec<MpSpec>,
    /// Software update points, indexed by [`SupId`].
    pub update_points: Vec<SupSpec>,
    /// Distribution points, indexed by [`DpId`].
    pub distribution_points: Vec<DpSpec>,
    /// Cloud management gateways, in file order.
    pub gateways: Vec<GatewaySpec>,
    /// Branch locations and their WAN links, indexed by [`LocationId`]
    /// (none: everything at the site).
    pub locations: Vec<LocationSpec>,
    /// Outages and slowdowns, in file order.
    pub faults: Vec<FaultSpec>,
    /// Client settings objects, indexed by [`SettingsId`]; 0 is the default.
    pub settings: Vec<Settings>,
    /// Cohorts, indexed by [`CohortId`]; their clients are numbered in order.
    pub cohorts: Vec<CohortSpec>,
    /// The catalog, indexed by [`UpdateId`].
    pub updates: Vec<UpdateSpec>,
    /// Deployments, indexed by [`DeploymentId`](ids::DeploymentId).
    pub deployments: Vec<DeploymentSpec>,
    /// Automatic deployment rules, in file order.
    pub rules: Vec<RuleSpec>,
}

impl Estate {
    /// The name of the server a fault hits, as the scenario names it (a
    /// WAN link by its location's name).
    pub fn server_name(&self, server: ServerRef) -> &str {
        match server {
            ServerRef::Mp(m) => &self.management_points[m.index()].name,
            ServerRef::Sup(s) => &self.update_points[s.index()].name,
            ServerRef::Dp(d) => &self.distribution_points[d.index()].name,
            ServerRef::Link(l) => &self.locations[l.index()].name,
        }
    }

    /// How long what the administrator does at the CAS (a deployment, a
    /// phase's begin, a suspension) takes to reach primary `site`: none at
    /// a standalone site.
    pub fn replication_delay(&self, site: usize) -> SimDuration {
        if self.hierarchy {
            self.primaries[site].replication_delay
        } else {
            SimDuration::ZERO
        }
    }

    /// The busy threshold as a share of capacity (0.8 for 80 %).
    pub fn busy_above(&self) -> f64 {
        f64::from(self.busy_threshold_pct) / 100.0
    }

    /// Total number of clients.
    pub fn client_count(&self) -> u32 {
        self.cohorts.iter().map(|c| c.count).sum()
    }

    /// The cohort client `c` belongs to (`None`: not a client of the
    /// estate). A binary search: the cohorts hold consecutive ids in file
    /// order.
    pub fn cohort_of(&self, c: ClientId) -> Option<&CohortSpec> {
        let k = (self.cohorts).partition_point(|k| k.clients().end <= c.0);
        (self.cohorts.get(k)).filter(|k| k.clients().contains(&c.0))
    }

    /// The hour of the local week (0: Monday 00:00–01:00) that `t` falls
    /// in, and when the next hour begins.
    pub fn local_hour(&self, t: SimTime) -> (usize, SimTime) {
        const HOUR_MS: u64 = 3_600_000;
        let local = self.week_offset.as_ms() + t.as_ms();
        let hour = (local % (168 * HOUR_MS)) / HOUR_MS;
        (
            hour as usize,
            t + SimDuration::from_ms(HOUR_MS - local % HOUR_MS),
        )
    }

    /// How fast a copy of content of `priority` to DP `dp` may go in hour
    /// `hour` of the local week, bits per second: the DP's `content_link`,
    /// capped by its schedule and rate limit (0: the schedule holds it
    /// back).
    pub fn copy_cap(&self, dp: DpId, priority: DistributionPriority, hour: usize) -> u64 {
        let spec = &self.distribution_points[dp.index()];
        let link = spec
            .location
            .map_or(u64::MAX, |l| self.locations[l.index()].bandwidth_bps);
        (spec.copy_plan.as_ref()).map_or(spec.content_link_bps, |plan| {
            plan.cap(priority, hour, spec.content_link_bps, link)
        })
    }

    /// Whether DP `dp`'s schedule holds back, at `t`, a copy of content of
    /// `priority`.
    pub fn copy_held(&self, dp: DpId, priority: DistributionPriority, t: SimTime) -> bool {
        self.copy_cap(dp, priority, self.local_hour(t).0) == 0
    }

    /// When each update's metadata is in the site database at the start:
    /// zero if the site synced before and it was released before, else
    /// `SimTime::MAX` (a sync during the run brings it).
    pub fn initially_synced_at(&self) -> Vec<SimTime> {
        let before = |u: &UpdateSpec| self.sync.initially_synced && u.release.is_none();
        self.updates
            .iter()
            .map(|u| {
                if before(u) {
                    SimTime::ZERO
                } else {
                    SimTime::MAX
                }
            })
            .collect()
    }

    /// Simulated time at which the run ends.
    pub fn end(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }
}

/// How far after a deployment's deadline a client may draw its own, with
/// deadline randomization: "a random amount of time up to two hours".
pub const DEADLINE_RANDOMIZATION: SimDuration = SimDuration::from_hours(2);

/// Site-server timings.
#[derive(Clone, Debug)]
pub struct SiteSpec {
    /// Deployment creation → content on DPs and policy published.
    pub content_ready_delay: Dist,
    /// MP receipt → state-system inbox.
    pub mp_forward_delay: SimDuration,
    /// Inbox → state system starts on it.
    pub state_system_delay: SimDuration,
    /// State system threads.
    pub state_system_threads: u32,
    /// State system time per batch.
    pub state_system_per_batch: SimDuration,
    /// State system time per message.
    pub state_system_per_message: SimDuration,
    /// Site server → download source, bits per second.
    pub download_bandwidth_bps: u64,
    /// Copies to DPs in locations a primary's Package Transfer Manager
    /// sends at once: its maximum packages times threads per package.
    pub copy_threads: u32,
    /// How long a gap in a client's messages must be seen before its site
    /// asks it to resync.
    pub resync_min_missing_age: SimDuration,
    /// How often the state system looks for gaps old enough.
    pub resync_check_interval: SimDuration,
}

/// A primary site.
#[derive(Clone, Debug)]
pub struct PrimarySpec {
    /// Its code.
    pub code: String,
    /// Top-level sync end → its SUPs synced.
    pub sync_delay: Dist,
    /// Replication to and from the CAS.
    pub replication_delay: SimDuration,
    /// State system threads.
    pub state_system_threads: u32,
    /// Clients it manages.
    pub clients: u32,
}

/// A management point.
#[derive(Clone, Debug)]
pub struct MpSpec {
    /// Its name.
    pub name: String,
    /// Its primary site.
    pub site: SiteId,
    /// Requests served at once.
    pub workers: u32,
    /// Requests that may wait.
    pub queue_limit: u32,
    /// Policy request service time.
    pub policy_time: Sampler,
    /// Location request service time (SUP and content locations).
    pub location_time: Sampler,
    /// State-message batch service time.
    pub batch_time: Sampler,
}

/// A software update point.
#[derive(Clone, Debug)]
pub struct SupSpec {
    /// Its name.
    pub name: String,
    /// Its primary site.
    pub site: SiteId,
    /// Scans served at once.
    pub scan_slots: u32,
    /// WsusPool queue length.
    pub queue_limit: u32,
    /// Full scan service time.
    pub full_scan_time: Sampler,
    /// Delta scan service time.
    pub delta_scan_time: Sampler,
    /// Metadata bytes a full scan sends, and a delta scan (scaled to the
    /// catalog).
    pub full_scan_bytes: u64,
    pub delta_scan_bytes: u64,
    /// Its WSUS database: update points with the same one share it (a
    /// client switching between them keeps its delta scans).
    pub susdb: u16,
    /// Its WSUS application pool's memory, when simulated.
    pub wsus_pool: Option<WsusPoolSpec>,
}

/// A SUP's WSUS application pool: its private memory limit and the memory
/// of what it holds, in bytes, scaled to the catalog.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WsusPoolSpec {
    /// It recycles when a scan would take it past this (`None`: no limit).
    pub limit: Option<u64>,
    /// The metadata cache.
    pub cache: u64,
    /// One full scan being answered.
    pub full_scan: u64,
    /// One delta scan being answered.
    pub delta_scan: u64,
    /// From a recycle until it serves again.
    pub restart: SimDuration,
}

impl WsusPoolSpec {
    /// Its private memory with `full` full and `delta` delta scans being
    /// answered.
    pub fn memory(&self, full: u32, delta: u32) -> u64 {
        self.cache + u64::from(full) * self.full_scan + u64::from(delta) * self.delta_scan
    }

    /// Whether its cache alone fills its limit: every scan recycles it.
    pub fn cache_fills_limit(&self) -> bool {
        self.limit.is_some_and(|limit| self.cache >= limit)
    }
}

/// A cloud management gateway.
#[derive(Clone, Debug)]
pub struct GatewaySpec {
    /// Its name.
    pub name: String,
    /// Simultaneous client connections it supports: its instances times
    /// each one's.
    pub connections: u32,
}

/// A distribution point.
#[derive(Clone, Debug)]
pub struct DpSpec {
    /// Its name.
    pub name: String,
    /// Its primary site.
    pub site: SiteId,
    /// Outbound bandwidth, bits per second.
    pub bandwidth_bps: u64,
    /// Downloads served at once.
    pub max_connections: u32,
    /// Site server → DP link, bits per second.
    pub content_link_bps: u64,
    /// The branch location it is in (`None`: at the site); content copied
    /// to it crosses that location's WAN link.
    pub location: Option<LocationId>,
    /// In its site's default boundary group: clients of a location fall
    /// back to it after their location's `dp_fallback`.
    pub default_boundary_group: bool,
    /// When and how fast the site server may send it content (`None`:
    /// always, unlimited). Only for a DP in a location.
    pub copy_plan: Option<CopyPlan>,
    /// A pull-distribution point's source DPs, first choice first (empty:
    /// the site server sends it content).
    pub pull_from: Vec<DpId>,
    /// Its content was prestaged: distributing it crosses no WAN link.
    pub prestaged: bool,
}

/// A DP's schedule and rate limit for the content the site server sends
/// it across its location's WAN link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopyPlan {
    /// Per hour of the local week from Monday 00:00: the lowest priority
    /// that may be sent (`None`: nothing may).
    pub lowest: [Option<DistributionPriority>; 168],
    /// Per hour of the local day: the share of the time the site sends,
    /// percent.
    pub percent: [u8; 24],
    /// Pulse mode's rate: a block per delay, bits per second.
    pub pulse_bps: Option<u64>,
}

impl CopyPlan {
    /// How fast a copy of content of `priority` may go in hour `hour` of
    /// the local week, bits per second, given the DP's `content_link` and
    /// its WAN link's bandwidth: 0 if the schedule holds it back. A share
    /// of the time is modelled as that share of what the copy could use.
    pub fn cap(
        &self,
        priority: DistributionPriority,
        hour: usize,
        content_link_bps: u64,
        link_bps: u64,
    ) -> u64 {
        if self.lowest[hour].is_none_or(|lowest| priority < lowest) {
            return 0;
        }
        let cap = self
            .pulse_bps
            .map_or(content_link_bps, |p| p.min(content_link_bps));
        match u64::from(self.percent[hour % 24]) {
            100 => cap,
            share => (cap.min(link_bps) * share / 100).max(1),
        }
    }
}

/// A branch location and the WAN link that joins it to the site.
#[derive(Clone, Debug)]
pub struct LocationSpec {
    /// Its name.
    pub name: String,
    /// The link's bandwidth, bits per second.
    pub bandwidth_bps: u64,
    /// The link's round-trip time: a transfer across it starts this long
    /// after it is asked for.
    pub latency: SimDuration,
    /// How long its clients look for content on their own DP before they
    /// also use the DPs of their site's default boundary group (`None`:
    /// never).
    pub dp_fallback: Option<SimDuration>,
}

/// Which server a fault hits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServerRef {
    /// A management point.
    Mp(MpId),
    /// A software update point.
    Sup(SupId),
    /// A distribution point.
    Dp(DpId),
    /// A location's WAN link (named as its location).
    Link(LocationId),
}

/// An outage or slowdown.
#[derive(Clone, Debug, PartialEq)]
pub struct FaultSpec {
    /// The server.
    pub server: ServerRef,
    /// Begins.
    pub start: SimTime,
    /// Ends.
    pub end: SimTime,
    /// Down (`None`) or slower by this factor.
    pub slowdown: Option<f64>,
}

/// Catalog sync, in simulator units.
#[derive(Clone, Debug)]
pub struct SyncSpec {
    /// Whether the site synced before the start.
    pub initially_synced: bool,
    /// Spacing of scheduled (full) syncs.
    pub schedule_interval: SimDuration,
    /// The first scheduled sync.
    pub first_scheduled: SimTime,
    /// Manual (delta) syncs, sorted.
    pub manual: Vec<SimTime>,
    /// WSUS download, full sync.
    pub full_duration: Dist,
    /// WSUS download, delta sync.
    pub delta_duration: Dist,
    /// Extra download time per new update.
    pub per_new_update: SimDuration,
    /// WSyncMgr's polling interval.
    pub poll_interval: SimDuration,
    /// WSyncMgr's wait before pulling the metadata.
    pub pull_delay: SimDuration,
    /// Insert time per new update.
    pub insert_per_update: SimDuration,
    /// A failed sync → its retry.
    pub retry_interval: SimDuration,
    /// The WSUS catalog the update points serve, when the scenario gives
    /// one (their scan times are then scaled by its scan cost).
    pub catalog: Option<CatalogSpec>,
    /// A superseded update expires at the first sync this long after the
    /// update superseding it was released (`None`: never).
    pub expire_superseded_after: Option<SimDuration>,
    /// The SUP the top-level site's syncs go through (the site's first
    /// SUP), whose outage fails them; `None` when it is not one of the
    /// scenario's servers (a hierarchy's CAS).
    pub top_update_point: Option<SupId>,
}

/// The WSUS catalog that scanning clients evaluate.
#[derive(Clone, Debug, PartialEq)]
pub struct CatalogSpec {
    /// Updates not declined, before maintenance.
    pub updates: u32,
    /// Share of them superseded.
    pub superseded_share: f64,
    /// WSUS maintenance declines the superseded ones.
    pub decline_superseded: bool,
    /// The catalog size the update points' scan times are for.
    pub reference_updates: u32,
}

impl CatalogSpec {
    /// The updates a scan evaluates: neither declined nor (when
    /// maintenance declines them) superseded.
    pub fn valid_updates(&self) -> u32 {
        if self.decline_superseded {
            (f64::from(self.updates) * (1.0 - self.superseded_share)).round() as u32
        } else {
            self.updates
        }
    }

    /// What a scan costs the update point against what its scan times
    /// say: the valid updates over the reference size. A full scan sends
    /// the metadata of every valid update, and a delta scan still has the
    /// server evaluate the client's updates against all of them.
    pub fn scan_cost(&self) -> f64 {
        f64::from(self.valid_updates()) / f64::from(self.reference_updates)
    }
}

/// No WSUS database: a client that has not scanned against any SUP.
pub const NO_SUSDB: u16 = u16::MAX;

/// One client settings object, in simulator units.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Policy polling interval.
    pub policy_polling_interval: SimDuration,
    /// State message reporting cycle.
    pub state_message_interval: SimDuration,
    /// Power-on (and restart) → first policy request.
    pub power_on_policy_delay: Dist,
    /// Deployment received → evaluation scan.
    pub evaluation_delay: Dist,
    /// Compliance scan duration.
    pub scan_duration: Dist,
    /// Window of deadline randomization (zero when off).
    pub deadline_randomization: SimDuration,
    /// Software update scan schedule.
    pub scan_interval: SimDuration,
    /// Random delay of each scheduled scan, up to this.
    pub scan_random_delay: SimDuration,
    /// First scan after receiving software update policy, within this.
    pub first_scan_window: SimDuration,
    /// Scan time to live: results of a scan against the SUP stay current
    /// this long.
    pub scan_ttl: SimDuration,
    /// Deployment re-evaluation schedule (failed installs are retried then).
    pub reevaluation_interval: SimDuration,
    /// After a deadline install that needs a restart: the user is reminded
    /// this often while more than the final countdown remains.
    pub restart_reminder_interval: SimDuration,
    /// The final countdown before the forced restart (the notification the
    /// user cannot close).
    pub restart_final_countdown: SimDuration,
    /// Software updates may also install in "All deployments" windows when
    /// the client has "Software updates" windows.
    pub updates_in_all_deployments_windows: bool,
    /// When a Required deployment's deadline comes, also enforce the
    /// client's other Required deployments whose deadline falls within this
    /// (`None`: off).
    pub enforce_deadlines_within: Option<SimDuration>,
    /// First backoff after a management point rejects a request.
    pub mp_retry: SimDuration,
    /// Longest backoff.
    pub mp_retry_max: SimDuration,
    /// Retry after a SUP rejects a scan.
    pub scan_retry_interval: SimDuration,
    /// Failed tries before switching SUP.
    pub scan_retries: u32,
    /// Retry after a DP cannot serve a download.
    pub download_retry: SimDuration,
    /// Deadline install needing a restart → forced restart.
    pub restart_countdown: SimDuration,
    /// Install needing a restart → when the user is ready to restart (they
    /// act at the next notification, or at once when not notified).
    pub user_restart_delay: Dist,
    /// Length of a restart.
    pub restart_duration: Dist,
}

/// A cohort of alike clients.
#[derive(Clone, Debug)]
pub struct CohortSpec {
    /// Its name.
    pub name: String,
    /// Number of clients.
    pub count: u32,
    /// Id of its first client; the rest follow.
    pub first_client: u32,
    /// Power pattern.
    pub power: PowerSpec,
    /// Client link, bits per second.
    pub link_bps: u64,
    /// Assigned management point.
    pub mp: MpId,
    /// The cohort's other management points, which a client switches to
    /// at random when its own fails it.
    pub mp_fallbacks: Vec<MpId>,
    /// Software update points in the order clients try them (the assigned
    /// one first, then the fallbacks).
    pub sups: Vec<SupId>,
    /// Assigned distribution point (`None`: on the internet, behind a
    /// cloud management gateway, downloading from Microsoft Update).
    pub dp: Option<DpId>,
    /// The cloud management gateway its clients reach the site through
    /// (`None`: the intranet).
    pub gateway: Option<u16>,
    /// The branch location its clients are in (`None`: at the site).
    pub location: Option<LocationId>,
    /// The WAN link its downloads from its DP cross: its location's when
    /// the DP is elsewhere (`None`: the DP is where the clients are).
    pub crosses: Option<LocationId>,
    /// Its client settings.
    pub settings: SettingsId,
    /// The primary site that manages it (its servers').
    pub site: SiteId,
    /// Workstations or servers.
    pub kind: ClientKind,
    /// Share of clients with a conflicting domain GPO.
    pub gpo_conflict: f64,
    /// Share of clients whose shutdown (Fast Startup) keeps a pending
    /// restart pending.
    pub fast_startup: f64,
    /// Share of clients that never come online.
    pub dormant: f64,
    /// Share of clients whose Windows Update agent fails every scan.
    pub broken_agent: f64,
    /// Share of clients co-managed with the Windows Update policies
    /// workload on Intune: Windows Update for Business patches them, the
    /// site sees their updates as Unknown.
    pub co_managed: f64,
    /// Probability that a scan fails with an error the client retries.
    pub scan_error_probability: f64,
    /// Share of its clients' state-message batches lost on the way to the
    /// site database.
    pub state_message_loss: f64,
    /// Maintenance windows (empty: none).
    pub windows: Vec<WindowSpec>,
    /// The administrator's recurring restart of these clients, if any.
    pub scheduled_restart: Option<RestartScheduleSpec>,
    /// Extra install failure probability.
    pub failure_probability: f64,
    /// Share of users who ever install an Available update.
    pub available_install_share: f64,
    /// Evaluation → such a user's install.
    pub available_install_delay: Dist,
    /// Share of users who install a Required deployment before its
    /// deadline.
    pub early_install_share: f64,
    /// Evaluation → such a user's install.
    pub early_install_delay: Dist,
    /// Where its clients get content besides their DP.
    pub content: ContentSpec,
}

/// A cohort's content sources besides its DP (all off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ContentSpec {
    /// Share of clients that get content from peer cache sources (each
    /// other, among that share).
    pub peer_cache: f64,
    /// Speed of a transfer from a peer cache source, bits per second.
    pub peer_link_bps: u64,
    /// Share of a DP download's bytes BranchCache peers serve.
    pub branch_cache: f64,
    /// Share of a DP download's bytes Delivery Optimization peers serve.
    pub delivery_optimization: f64,
    /// Share of clients that download express content.
    pub express: f64,
    /// The client cache's maximum size in bytes (`None`: no limit).
    pub cache_bytes: Option<u64>,
}

impl ContentSpec {
    /// Whether any client of the cohort can get content from a peer (and
    /// so whether the cohort's holders of content are tracked).
    pub fn peers(&self) -> bool {
        self.peer_cache > 0.0 || self.branch_cache > 0.0 || self.delivery_optimization > 0.0
    }
}

/// What a maintenance window is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WindowKind {
    /// Every kind of deployment (the console's default).
    AllDeployments,
    /// Software updates only.
    SoftwareUpdates,
}

impl CohortSpec {
    /// Its clients' ids (the numbers of their `ClientId`s), first to last.
    pub fn clients(&self) -> std::ops::Range<u32> {
        self.first_client..self.first_client + self.count
    }

    /// The windows its clients install software updates in, with client
    /// settings `settings`: its `SoftwareUpdates` windows if it has any
    /// (and then its `AllDeployments` ones only if the settings allow
    /// them), else all its windows.
    pub fn update_windows(&self, settings: &Settings) -> Vec<WindowSpec> {
        let typed = (self.windows.iter()).any(|w| w.kind == WindowKind::SoftwareUpdates);
        (self.windows.iter())
            .filter(|w| {
                !typed
                    || w.kind == WindowKind::SoftwareUpdates
                    || settings.updates_in_all_deployments_windows
            })
            .copied()
            .collect()
    }
}

/// A recurring maintenance window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowSpec {
    /// One day or one week.
    pub period: SimDuration,
    /// Opening, from local Monday 00:00 (weekly) or midnight (daily).
    pub offset: SimDuration,
    /// How long it is open.
    pub length: SimDuration,
    /// What it is for.
    pub kind: WindowKind,
}

/// A recurring instant: the administrator's scheduled restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartScheduleSpec {
    /// One day or one week.
    pub period: SimDuration,
    /// When, from local Monday 00:00 (weekly) or midnight (daily).
    pub offset: SimDuration,
}

/// When a cohort's clients are on.
#[derive(Clone, Debug, PartialEq)]
pub enum PowerSpec {
    /// Always on.
    AlwaysOn,
    /// Weekdays between `start` and `end` local time, each ± `jitter`.
    BusinessHours {
        /// Local time of day the day starts.
        start: SimDuration,
        /// Local time of day it ends.
        end: SimDuration,
        /// Uniform jitter either side.
        jitter: SimDuration,
    },
    /// Alternating on and off periods.
    Intermittent {
        /// On period.
        on: Dist,
        /// Off period.
        off: Dist,
    },
}

/// One update of the catalog.
#[derive(Clone, Debug)]
pub struct UpdateSpec {
    /// Its id (a KB number).
    pub id: String,
    /// Content size in bytes.
    pub size_bytes: u64,
    /// Release upstream, if within the run (`None`: before the start).
    pub release: Option<SimTime>,
    /// Share of clients it applies to.
    pub applicability: f64,
    /// Install duration.
    pub install_time: Dist,
    /// Longest the client monitors an install: past it, the client reports
    /// the install failed (it goes on in the background).
    pub max_run_time: SimDuration,
    /// Probability an install needs a restart.
    pub restart_probability: f64,
    /// Probability an install attempt fails.
    pub failure_probability: f64,
    /// Size of its express content in bytes (`None`: it has none).
    pub express_bytes: Option<u64>,
    /// The updates it supersedes: once it takes effect on a client, those
    /// still missing there are no longer required.
    pub supersedes: Vec<UpdateId>,
}

/// One deployment.
#[derive(Clone, Debug)]
pub struct DeploymentSpec {
    /// Its name.
    pub name: String,
    /// Updates deployed, in file order.
    pub updates: Vec<UpdateId>,
    /// Cohorts targeted, in file order, without repeats.
    pub targets: Vec<CohortId>,
    /// Creation by the administrator (a later phase of a phased
    /// deployment: `SimTime::MAX`, as its available time and deadline;
    /// they are known when it begins, see [`DeploymentSpec::phase`]).
    pub created: SimTime,
    /// Available to clients.
    pub available: SimTime,
    /// Installation deadline (Required).
    pub deadline: SimTime,
    /// For a later phase of a phased deployment: when it begins and what
    /// its deadline is (`None`: an ordinary deployment, or a first phase).
    pub phase: Option<PhaseSpec>,
    /// The phase after this one, if it is a phase of a phased deployment
    /// with one more.
    pub next_phase: Option<DeploymentId>,
    /// For a deployment an automatic deployment rule makes: the rule's
    /// index in [`Estate::rules`]. Its `updates` are every update the rule
    /// could pick; a run picks among them, and sets its times.
    pub rule: Option<u16>,
    /// Required or Available.
    pub purpose: Purpose,
    /// Deadline installs wait for maintenance windows.
    pub honor_maintenance_windows: bool,
    /// Deadline restarts may happen outside maintenance windows.
    pub restart_outside_windows: bool,
    /// Restarts suppressed on workstations.
    pub suppress_restart_workstations: bool,
    /// Restarts suppressed on servers.
    pub suppress_restart_servers: bool,
    /// A client whose DP is down downloads from Microsoft Update.
    pub microsoft_update_fallback: bool,
    /// Its content's distribution priority, for DPs' schedules.
    pub distribution_priority: DistributionPriority,
    /// A phase of a phased deployment made available gradually: each
    /// client's available time (and its deadline with it) comes up to this
    /// long after the phase's (zero: all at once).
    pub gradually_over: SimDuration,
    /// For the first phase of a phased deployment: when the administrator
    /// suspends the phased deployment and resumes it (`SimTime::MAX`:
    /// never), in time order and apart.
    pub suspensions: Vec<(SimTime, SimTime)>,
}

/// An automatic deployment rule: when it runs, it picks the updates in the
/// site database that meet its criteria and deploys them.
#[derive(Clone, Debug)]
pub struct RuleSpec {
    /// Its name.
    pub name: String,
    /// Its run times; `None`: at the end of every successful sync.
    pub schedule: Option<Vec<SimTime>>,
    /// Only updates released at most this long before the run.
    pub released_within: Option<SimDuration>,
    /// Per update it could pick (its deployments' `updates`), its release
    /// in ms since the start: negative before the start, `i64::MIN` for an
    /// update the scenario gives no release (long before the start).
    pub released: Vec<i64>,
    /// Whether it picks an update that another update in the site database
    /// supersedes.
    pub superseded: bool,
    /// Whether it keeps one group and deployment, whose updates each run
    /// replaces, instead of a new one each run.
    pub existing_group: bool,
    /// Available time after the run.
    pub available_after: SimDuration,
    /// Deadline after the available time (Required).
    pub deadline_after: SimDuration,
    /// The deployments its runs fill, in order (one for an existing group).
    pub deployments: Vec<DeploymentId>,
}

/// A later phase of a phased deployment: a deployment created when the
/// phase before it has succeeded, or by hand.
#[derive(Clone, Debug)]
pub struct PhaseSpec {
    /// Its place in the phased deployment: 2 for the first of the later
    /// phases.
    pub number: u32,
    /// The phase before it.
    pub previous: DeploymentId,
    /// The first phase: the phased deployment that is suspended and
    /// resumed.
    pub first: DeploymentId,
    /// The first phase's creation: content distribution for every phase
    /// starts then.
    pub content_from: SimTime,
    /// What makes it begin.
    pub begin: PhaseStart,
    /// Share of the previous phase's targeted clients, in percent, whose
    /// reported state must be compliant for that phase to succeed.
    pub success_percent: u32,
    /// Or their number, which then replaces the percentage.
    pub success_devices: Option<u32>,
    /// Its deadline after its available time (its begin).
    pub deadline_after: SimDuration,
}

/// What makes a later phase begin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhaseStart {
    /// This long after the previous phase met its success criterion.
    AfterSuccess(SimDuration),
    /// By hand at this instant (or when the previous phase begins, if
    /// later).
    Manual(SimTime),
}

impl DeploymentSpec {
    /// The clients it targets, cohort by cohort in its `targets` order.
    pub fn clients<'a>(&'a self, estate: &'a Estate) -> impl Iterator<Item = ClientId> + 'a {
        (self.targets.iter())
            .map(|k| &estate.cohorts[k.index()])
            .flat_map(|k| k.clients().map(ClientId))
    }

    /// Number of clients it targets.
    pub fn targeted(&self, estate: &Estate) -> u32 {
        self.targets
            .iter()
            .map(|c| estate.cohorts[c.index()].count)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cohorts' client ranges tile the clients in file order, and
    /// `cohort_of` finds each client's cohort (the one whose range holds
    /// it), none past the last client.
    #[test]
    fn cohort_of_finds_the_cohort_whose_range_holds_the_client() {
        let cohort = |name: &str, count: u32| {
            format!(
                r#"Cohort(name: "{name}", count: {count}, management_point: "mp", update_point: "sup", distribution_point: "dp")"#
            )
        };
        let cohorts = [("a", 3), ("b", 1), ("c", 5), ("d", 2)];
        let text = format!(
            r#"Scenario(
            name: "ranges", start: "2026-11-09T00:00:00Z", duration: "1d",
            servers: Servers(management_points: [ManagementPoint(name: "mp")], update_points: [UpdatePoint(name: "sup")],
                             distribution_points: [DistributionPoint(name: "dp")]),
            cohorts: [{}],
            updates: [Update(id: "KB1", size: "10MB")],
            deployments: [],
        )"#,
            (cohorts.iter().map(|&(n, k)| cohort(n, k)))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let raw = crate::scenario::parse(&text, "ranges.ron").expect("parses");
        let estate = crate::scenario::build(raw, "ranges.ron").expect("builds");
        let mut next = 0;
        for (k, &(name, count)) in estate.cohorts.iter().zip(&cohorts) {
            assert_eq!(k.name, name);
            assert_eq!(k.clients(), next..next + count);
            next = k.clients().end;
        }
        assert_eq!(next, estate.client_count());
        for c in 0..next {
            let linear = (estate.cohorts.iter()).find(|k| k.clients().contains(&c));
            let found = estate.cohort_of(ClientId(c));
            assert_eq!(
                found.map(|k| &k.name),
                linear.map(|k| &k.name),
                "client {c}"
            );
            assert!(found.is_some(), "client {c}");
        }
        assert!(estate.cohort_of(ClientId(next)).is_none());
        assert!(estate.cohort_of(ClientId(u32::MAX)).is_none());
    }
}
