//! The scenario file as written: serde types, one per section, with defaults.
//!
//! Owns the file format. Every field's default is documented here and is the
//! Configuration Manager default where one exists (docs/model.md lists
//! them with their sources).
//! Nothing here is checked beyond its type: `validate/` turns these into a
//! typed [`Estate`](crate::estate::Estate) or a list of problems.

use serde::{Deserialize, Serialize};

use super::units::{Bandwidth, Bytes, ClockTime, Dur, Timestamp};
use crate::engine::SimDuration;

/// A whole scenario file.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Shown in outputs.
    pub name: String,
    /// Free text for the reader.
    #[serde(default)]
    pub description: String,
    /// Seed of every random stream; `--seed` overrides it. Default 1.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Wall-clock instant of simulated time zero. Its UTC offset is the
    /// estate's local time zone (business hours are read in it).
    pub start: Timestamp,
    /// How long to simulate. Default `"30d"`.
    #[serde(default = "default_duration")]
    pub duration: Dur,
    /// Spacing of the rows of the compliance timeline. Default `"1h"`.
    #[serde(default = "default_sample_interval")]
    pub sample_interval: Dur,
    /// The busy threshold, in percent of a server's capacity (its workers
    /// or bandwidth in use), 1–100: the summary names every server at or
    /// above it, with how long it stayed there; drawn on WAN links' load
    /// charts. `run --busy-above` overrides it. Default 80, which the
    /// canonical text leaves out.
    #[serde(
        default = "default_busy_threshold_pct",
        skip_serializing_if = "is_default_busy_threshold_pct"
    )]
    pub busy_threshold_pct: u32,
    /// The site server and its timings: a standalone primary site, or the
    /// central administration site when `primaries` is given.
    #[serde(default)]
    pub site: Site,
    /// Child primary sites under a central administration site (`site`).
    /// Each has its own site server, state system and database; servers
    /// name their primary with `site:`. Default none: `site` is a
    /// standalone primary.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primaries: Vec<Primary>,
    /// Named server roles clients are assigned to.
    pub servers: Servers,
    /// Branch locations (boundary groups away from the site), each joined
    /// to the site by a WAN link. Cohorts and distribution points name
    /// their location; those that name none are at the site. Default
    /// none: every client and server at the site, no link crossed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// Catalog synchronization (WSUS Synchronization Manager).
    #[serde(default)]
    pub sync: Sync,
    /// Server outages and slowdowns. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<Fault>,
    /// Client settings for every cohort that does not bring its own.
    #[serde(default)]
    pub client_settings: ClientSettings,
    /// Groups of alike clients.
    pub cohorts: Vec<Cohort>,
    /// The update catalog.
    pub updates: Vec<Update>,
    /// Software update groups: named sets of updates that deployments
    /// deploy by `group`. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub update_groups: Vec<UpdateGroup>,
    /// Automatic deployment rules: after a sync (or on a schedule) each
    /// picks the updates that meet its criteria and deploys them. Default
    /// none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub automatic_deployment_rules: Vec<AutomaticDeploymentRule>,
    /// Deployments of updates to cohorts (none is allowed when a rule
    /// makes them).
    #[serde(default)]
    pub deployments: Vec<Deployment>,
}

/// A software update group: updates that one or more deployments deploy
/// together.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateGroup {
    /// Unique name; deployments refer to it.
    pub name: String,
    /// Ids of its updates (at least one).
    pub updates: Vec<String>,
}

/// An automatic deployment rule (ADR): when it runs, it selects every
/// update in the site database that meets its criteria and deploys them as
/// a software update group to its cohorts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AutomaticDeploymentRule {
    /// Unique name; the deployments it makes are named after it.
    pub name: String,
    /// When it runs. Default `AfterSync`.
    #[serde(default)]
    pub run: RuleRun,
    /// Criterion "Update Classification": only updates of these
    /// classifications. Default `[]`: any classification.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classifications: Vec<Classification>,
    /// Criterion "Date Released or Revised": only updates released within
    /// this long before the run (1h–365d; an update with no `release` is
    /// taken as released long before the start). Default: any release
    /// date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub released_within: Option<Dur>,
    /// Criterion "Superseded": `false` (the usual "Superseded: No") leaves
    /// out an update that another update in the site database supersedes.
    /// Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub superseded: bool,
    /// A new software update group each run, or one group whose updates
    /// each run replaces. Default `NewGroup`.
    #[serde(default)]
    pub group: RuleGroup,
    /// Names of the targeted cohorts (at least one).
    pub targets: Vec<String>,
    /// `Required` or `Available`. Default `Required`.
    #[serde(default)]
    pub purpose: Purpose,
    /// Software available time after the run (0–365d). Default `"0s"`: as
    /// soon as possible.
    #[serde(default = "zero_dur")]
    pub available_after: Dur,
    /// Installation deadline after the available time (0–365d; Required
    /// only). Default `"7d"`.
    #[serde(default = "default_rule_deadline")]
    pub deadline_after: Dur,
    /// As in a deployment. Default `true`.
    #[serde(default = "yes")]
    pub honor_maintenance_windows: bool,
    /// As in a deployment. Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restart_outside_windows: bool,
    /// As in a deployment. Default `[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress_restart: Vec<ClientKind>,
    /// As in a deployment. Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub microsoft_update_fallback: bool,
    /// As in a deployment. Default `Medium`.
    #[serde(default, skip_serializing_if = "DistributionPriority::is_medium")]
    pub distribution_priority: DistributionPriority,
}

/// When an automatic deployment rule runs.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum RuleRun {
    /// "Run the rule after any software update point synchronization":
    /// at the end of every successful sync.
    #[default]
    AfterSync,
    /// "Run the rule on a schedule": at `first`, then every `every`
    /// (1h–365d).
    Schedule {
        /// The first run.
        first: Timestamp,
        /// Time between runs.
        every: Dur,
    },
}

/// What a rule's run does with its software update group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RuleGroup {
    /// "Create a new Software Update Group": each run that finds updates
    /// makes a new group and a new deployment of it.
    #[default]
    NewGroup,
    /// "Add to an existing Software Update Group": the first run that finds
    /// updates makes the group and its deployment; each later run replaces
    /// the group's updates with those it finds, and the deployment, its
    /// times unchanged, deploys them.
    ExistingGroup,
}

fn zero_dur() -> Dur {
    Dur(SimDuration::ZERO)
}
fn default_rule_deadline() -> Dur {
    Dur(SimDuration::from_days(7))
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur(SimDuration::from_days(30))
}
/// The busy threshold a scenario that names none has, in percent.
pub const DEFAULT_BUSY_THRESHOLD_PCT: u32 = 80;
fn default_busy_threshold_pct() -> u32 {
    DEFAULT_BUSY_THRESHOLD_PCT
}
fn is_default_busy_threshold_pct(pct: &u32) -> bool {
    *pct == DEFAULT_BUSY_THRESHOLD_PCT
}
fn default_sample_interval() -> Dur {
    Dur(SimDuration::from_hours(1))
}

/// The site server: where deployments are made and state messages land.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// Three-character site code. Default `"PS1"`.
    #[serde(default = "default_site_code")]
    pub code: String,
    /// From a deployment's creation until the site server starts fetching
    /// its content (the wizard, package creation). The content then takes
    /// its size over `download_bandwidth`, then over each DP's
    /// `content_link`, before the deployment enters machine policy
    /// (the deployment flow in docs/model.md). Content is kept per
    /// update: only updates no deployment brought before wait for it and
    /// are fetched and copied. Default `Fixed("30m")`.
    #[serde(default = "default_content_ready")]
    pub content_ready_delay: Dist,
    /// From a batch reaching the management point until it is in the site
    /// server's state-system inbox. Default `"5s"`.
    #[serde(default = "default_mp_forward")]
    pub mp_forward_delay: Dur,
    /// From the inbox until the state system starts on the batch (StateSys
    /// pauses 10 s after an inbox notification). Default `"10s"`.
    #[serde(default = "default_state_system")]
    pub state_system_delay: Dur,
    /// State system processing threads (1–64): its "Loader Threads".
    /// Default 4.
    #[serde(default = "default_state_threads")]
    pub state_system_threads: u32,
    /// State system time per batch, on top of its messages. Default `"20ms"`.
    #[serde(default = "default_state_per_batch")]
    pub state_system_per_batch: Dur,
    /// State system time per state message. Default `"2ms"`.
    #[serde(default = "default_state_per_message")]
    pub state_system_per_message: Dur,
    /// The site server's bandwidth to the download source (Microsoft Update)
    /// for update binaries. Default `"200Mbps"`.
    #[serde(default = "default_download_bandwidth")]
    pub download_bandwidth: Bandwidth,
    /// The Software Distribution component's "Maximum number of packages"
    /// (1–50): with `max_threads_per_package`, how many copies of content
    /// to DPs in locations a primary's Package Transfer Manager sends at
    /// once. Default 3.
    #[serde(
        default = "default_max_packages",
        skip_serializing_if = "is_default_max_packages"
    )]
    pub max_packages: u32,
    /// "Maximum threads per package" (1–999). Default 5.
    #[serde(
        default = "default_max_threads",
        skip_serializing_if = "is_default_max_threads"
    )]
    pub max_threads_per_package: u32,
    /// The state system's "Min Missing Message Age": how long a client's
    /// messages must be missing (from when a later batch shows the gap)
    /// before the site asks it to resync (0–30 days). Default `"48h"`
    /// (2,880 minutes).
    #[serde(
        default = "default_resync_age",
        skip_serializing_if = "is_default_resync_age"
    )]
    pub resync_min_missing_age: Dur,
    /// The state system's "Resync Check Interval": how often it looks for
    /// clients whose missing messages are old enough (1 minute – 1 day).
    /// Default `"60m"`.
    #[serde(
        default = "default_resync_check",
        skip_serializing_if = "is_default_resync_check"
    )]
    pub resync_check_interval: Dur,
}

fn default_resync_age() -> Dur {
    Dur(SimDuration::from_hours(48))
}
fn is_default_resync_age(d: &Dur) -> bool {
    *d == default_resync_age()
}
fn default_resync_check() -> Dur {
    Dur(SimDuration::from_mins(60))
}
fn is_default_resync_check(d: &Dur) -> bool {
    *d == default_resync_check()
}

fn default_max_packages() -> u32 {
    3
}
fn is_default_max_packages(n: &u32) -> bool {
    *n == default_max_packages()
}
fn default_max_threads() -> u32 {
    5
}
fn is_default_max_threads(n: &u32) -> bool {
    *n == default_max_threads()
}

fn default_state_threads() -> u32 {
    4
}
fn default_state_per_batch() -> Dur {
    Dur(SimDuration::from_ms(20))
}
fn default_state_per_message() -> Dur {
    Dur(SimDuration::from_ms(2))
}
fn default_download_bandwidth() -> Bandwidth {
    Bandwidth(200_000_000)
}

fn default_site_code() -> String {
    "PS1".into()
}
fn default_content_ready() -> Dist {
    Dist::Fixed(Dur(SimDuration::from_mins(30)))
}
fn default_mp_forward() -> Dur {
    Dur(SimDuration::from_secs(5))
}
fn default_state_system() -> Dur {
    Dur(SimDuration::from_secs(10))
}

impl Default for Site {
    fn default() -> Self {
        Site {
            code: default_site_code(),
            content_ready_delay: default_content_ready(),
            mp_forward_delay: default_mp_forward(),
            state_system_delay: default_state_system(),
            state_system_threads: default_state_threads(),
            state_system_per_batch: default_state_per_batch(),
            state_system_per_message: default_state_per_message(),
            download_bandwidth: default_download_bandwidth(),
            max_packages: default_max_packages(),
            max_threads_per_package: default_max_threads(),
            resync_min_missing_age: default_resync_age(),
            resync_check_interval: default_resync_check(),
        }
    }
}

/// A child primary site under the central administration site.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Primary {
    /// Three-letter site code, unique; servers refer to it.
    pub code: String,
    /// From the top-level sync's end until this primary's SUPs have synced
    /// from the top-level SUP. Default `Uniform(min: "5m", max: "15m")`.
    #[serde(default = "default_child_sync")]
    pub sync_delay: Dist,
    /// Database replication to the CAS (its reported state) and from it
    /// (deployments). Default `"5m"`.
    #[serde(default = "default_replication")]
    pub replication_delay: Dur,
    /// Its state system's threads (1–64): its "Loader Threads". Default 4.
    #[serde(default = "default_state_threads")]
    pub state_system_threads: u32,
}

fn default_child_sync() -> Dist {
    Dist::Uniform {
        min: Dur(SimDuration::from_mins(5)),
        max: Dur(SimDuration::from_mins(15)),
    }
}
fn default_replication() -> Dur {
    Dur(SimDuration::from_mins(5))
}

/// The named server roles. Names are unique across all roles.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// Management points: answer policy and location requests, take
    /// state-message batches.
    pub management_points: Vec<ManagementPoint>,
    /// Software update points (WSUS): answer scans.
    pub update_points: Vec<UpdatePoint>,
    /// Distribution points: serve update content.
    pub distribution_points: Vec<DistributionPoint>,
    /// Cloud management gateways: the way in for clients on the
    /// internet. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cloud_management_gateways: Vec<CloudManagementGateway>,
}

/// A cloud management gateway (CMG): the Azure service through which
/// clients on the internet reach the management point and the software
/// update point. It holds one connection per client online through it.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloudManagementGateway {
    /// Unique among all servers; cohorts name it.
    pub name: String,
    /// Virtual machine instances, 1–16. Default 1.
    #[serde(default = "one_instance")]
    pub vm_instances: u32,
    /// The size of each instance, which sets its simultaneous client
    /// connections: `Lab` 10, `Standard` 6,000, `Large` 10,000. Default
    /// `Standard`.
    #[serde(default)]
    pub vm_size: VmSize,
}

/// A CMG virtual machine size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum VmSize {
    /// B2s: 10 connections, for a lab.
    Lab,
    /// A2_v2: 6,000 connections.
    #[default]
    Standard,
    /// A4_v2: 10,000 connections.
    Large,
}

impl VmSize {
    /// Simultaneous client connections one instance supports.
    pub fn connections(self) -> u32 {
        match self {
            VmSize::Lab => 10,
            VmSize::Standard => 6_000,
            VmSize::Large => 10_000,
        }
    }
}

fn one_instance() -> u32 {
    1
}

/// A management point: a pool of workers in front of a request queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManagementPoint {
    /// Unique; cohorts and faults refer to it by this name.
    pub name: String,
    /// The primary site it belongs to (its code). Default: the first
    /// primary, or the standalone site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Requests served at once (1–10,000). Default 16.
    #[serde(default = "default_mp_workers")]
    pub workers: u32,
    /// Requests that may wait; beyond it a request is rejected and the
    /// client retries with a backoff (0–10,000,000). Default 5000.
    #[serde(default = "default_mp_queue")]
    pub queue_limit: u32,
    /// Service time of a policy request. Default `LogNormal(median: "100ms", sigma: 0.5)`.
    #[serde(default = "default_policy_time")]
    pub policy_time: Dist,
    /// Service time of a location request: "where is my SUP", or "which
    /// distribution points hold this content" before a download.
    /// Default `LogNormal(median: "30ms", sigma: 0.5)`.
    #[serde(default = "default_location_time")]
    pub location_time: Dist,
    /// Service time of a state-message batch. Default `LogNormal(median: "40ms", sigma: 0.5)`.
    #[serde(default = "default_batch_time")]
    pub batch_time: Dist,
}

fn default_mp_workers() -> u32 {
    16
}
fn default_mp_queue() -> u32 {
    5000
}
fn lognormal_ms(ms: u64, sigma: f64) -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_ms(ms)),
        sigma,
    }
}
fn default_policy_time() -> Dist {
    lognormal_ms(100, 0.5)
}
fn default_location_time() -> Dist {
    lognormal_ms(30, 0.5)
}
fn default_batch_time() -> Dist {
    lognormal_ms(40, 0.5)
}

/// A software update point (a WSUS server behind IIS's WsusPool).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdatePoint {
    /// Unique; cohorts and faults refer to it by this name.
    pub name: String,
    /// The primary site it belongs to (its code). Default: the first
    /// primary, or the standalone site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Scans served at once (1–10,000). Default 32.
    #[serde(default = "default_scan_slots")]
    pub scan_slots: u32,
    /// The WsusPool queue length: scans beyond it get HTTP 503
    /// (0–10,000,000). Default 1000 (2000 is the usual recommendation).
    #[serde(default = "default_wsus_queue")]
    pub queue_limit: u32,
    /// Server time of a full scan (a client's first scan against this SUP).
    /// Default `LogNormal(median: "60s", sigma: 0.5)`.
    #[serde(default = "default_full_scan")]
    pub full_scan_time: Dist,
    /// Server time of a delta scan. Default `LogNormal(median: "2s", sigma: 0.5)`.
    #[serde(default = "default_delta_scan")]
    pub delta_scan_time: Dist,
    /// Update metadata a full scan sends the client. Default `"0B"` (not
    /// counted).
    #[serde(default = "zero_bytes", skip_serializing_if = "is_zero_bytes")]
    pub full_scan_size: Bytes,
    /// Update metadata a delta scan sends the client. Default `"0B"`.
    #[serde(default = "zero_bytes", skip_serializing_if = "is_zero_bytes")]
    pub delta_scan_size: Bytes,
    /// The WSUS database (SUSDB) it uses, by a name of your choosing:
    /// update points of one site that give the same name share it, and a
    /// client that switches between them runs a delta scan, not a full
    /// one. Default: a database of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub susdb: Option<String>,
    /// Its WSUS application pool's private memory and what it holds: with
    /// it, the pool recycles when a scan would take it past its limit.
    /// Default: none (memory is not simulated and the pool never
    /// recycles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wsus_pool: Option<WsusPool>,
}

/// The IIS application pool that hosts WSUS (`WsusPool`): its private
/// memory limit, and the memory of what it holds. The memory figures are
/// those of your own server (read off its w3wp.exe private bytes) for a
/// catalog of `sync.catalog.reference_updates` valid updates; a catalog
/// scales them as it scales scan times.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsusPool {
    /// The pool recycles when its private memory would pass this
    /// (`"0B"`: no limit, Microsoft's recommendation). Default
    /// `"1843200KiB"`, IIS's default of 1,843,200 KB.
    #[serde(default = "default_private_memory_limit")]
    pub private_memory_limit: Bytes,
    /// The metadata cache, once built.
    pub cache: Bytes,
    /// What one full scan being answered adds.
    pub full_scan: Bytes,
    /// What one delta scan being answered adds. Default `"0B"`.
    #[serde(default = "zero_bytes")]
    pub delta_scan: Bytes,
    /// How long the pool takes to come back after a recycle; requests
    /// wait in its queue meanwhile.
    pub restart: Dur,
}

fn default_private_memory_limit() -> Bytes {
    Bytes(1_843_200 * 1024)
}
fn zero_bytes() -> Bytes {
    Bytes(0)
}
fn is_zero_bytes(b: &Bytes) -> bool {
    b.0 == 0
}

fn default_scan_slots() -> u32 {
    32
}
fn default_wsus_queue() -> u32 {
    1000
}
fn default_full_scan() -> Dist {
    lognormal_ms(60_000, 0.5)
}
fn default_delta_scan() -> Dist {
    lognormal_ms(2_000, 0.5)
}

/// A distribution point: bandwidth shared fairly by its downloads.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DistributionPoint {
    /// Unique; cohorts and faults refer to it by this name.
    pub name: String,
    /// The primary site it belongs to (its code). Default: the first
    /// primary, or the standalone site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// Outbound bandwidth, shared by the active downloads (each also capped
    /// by its client's link). Default `"1Gbps"`.
    #[serde(default = "default_dp_bandwidth")]
    pub bandwidth: Bandwidth,
    /// Downloads served at once (1–100,000); the rest wait. Default 500.
    #[serde(default = "default_dp_connections")]
    pub max_connections: u32,
    /// The site server's link to it, over which content is copied.
    /// Default `"1Gbps"`.
    #[serde(default = "default_dp_bandwidth")]
    pub content_link: Bandwidth,
    /// The location it is in (a name from `locations`): content copied to
    /// it from the site crosses that location's WAN link. Default: at the
    /// site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// In its site's default boundary group: clients of a location that
    /// find no content on their own DP use it after their location's
    /// `dp_fallback` time. Only for a DP at the site. Default `false`
    /// (Configuration Manager puts no DP in that group by itself).
    #[serde(default, skip_serializing_if = "is_false")]
    pub default_boundary_group: bool,
    /// How fast the site server may send content to it, for a DP in a
    /// location (the DP's "Rate limits" tab). Default `Unlimited`.
    #[serde(default, skip_serializing_if = "RateLimit::is_unlimited")]
    pub rate_limit: RateLimit,
    /// When the site server may send content to it, for a DP in a
    /// location (the DP's "Schedule" tab): the hours listed are closed, or
    /// open to higher priorities only; the others are open for all
    /// priorities. Default `[]`: always open.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copy_schedule: Vec<CopyHours>,
    /// A pull-distribution point, for a DP in a location: the DPs at the
    /// site it downloads content from, first choice first, instead of
    /// the site server sending it. Default `[]`: a standard DP.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pull_from: Vec<String>,
    /// Enabled for prestaged content, for a DP in a location, with every
    /// deployment package set to "Manually copy the content in this
    /// package to the distribution point": the administrator extracted the
    /// content there beforehand, so distributing it sends no content
    /// across the WAN link. Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub prestaged: bool,
}

/// A DP's rate limit for the content the site server sends it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum RateLimit {
    /// "Unlimited when sending to this destination".
    #[default]
    Unlimited,
    /// "Pulse mode": a block of `block` bytes (1KB–256KB), then a pause of
    /// `delay` (1s–30s) before the next.
    PulseMode {
        /// Size of each data block.
        block: Bytes,
        /// Delay between two blocks.
        delay: Dur,
    },
    /// "Limited to specified maximum transfer rates by hour": in the
    /// hours listed the site sends for that share of the time only; the
    /// other hours are unlimited.
    Hourly(Vec<HourlyLimit>),
}

impl RateLimit {
    fn is_unlimited(&self) -> bool {
        *self == RateLimit::Unlimited
    }
}

/// The hours `from`..`to` of every day (local time), sending `percent`
/// of the time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HourlyLimit {
    /// First hour (0–23).
    pub from: u32,
    /// Hour it ends (1–24, after `from`).
    pub to: u32,
    /// Share of the time the site sends, 1–100.
    pub percent: u32,
}

/// Hours of a DP's schedule that are not open for all priorities.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopyHours {
    /// The days it applies to. Default: every day.
    #[serde(default = "every_day")]
    pub days: Vec<Weekday>,
    /// First hour (0–23, local time).
    pub from: u32,
    /// Hour it ends (1–24, after `from`).
    pub to: u32,
    /// What may be sent in those hours. Default `Closed`.
    #[serde(default)]
    pub availability: Availability,
}

fn every_day() -> Vec<Weekday> {
    use Weekday::*;
    vec![
        Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday,
    ]
}

/// What the site sends a DP in some hours of its schedule.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Availability {
    /// "Allow medium and high priority".
    MediumAndHigh,
    /// "Allow high priority only".
    HighOnly,
    /// "Closed": nothing.
    #[default]
    Closed,
}

/// The distribution priority of a deployment's content (its deployment
/// package's "Distribution priority").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DistributionPriority {
    /// Low.
    Low,
    /// Medium, Configuration Manager's default.
    #[default]
    Medium,
    /// High.
    High,
}

impl DistributionPriority {
    fn is_medium(&self) -> bool {
        *self == DistributionPriority::Medium
    }
}

/// A branch location: a boundary group joined to the site by a WAN link.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Unique; cohorts and distribution points refer to it by this name.
    pub name: String,
    /// The link between the location and the site.
    pub wan_link: WanLink,
    /// How long its clients look for content on their own DP before they
    /// also use the DPs of the site's default boundary group (the implied
    /// relationship's fallback time for distribution points); `None`:
    /// never. Default `"2h"`, Configuration Manager's 120 minutes.
    #[serde(default = "default_dp_fallback")]
    pub dp_fallback: Option<Dur>,
}

fn default_dp_fallback() -> Option<Dur> {
    Some(Dur(SimDuration::from_ms(120 * 60_000)))
}

/// A WAN link: bandwidth shared by every transfer that crosses it, and a
/// latency each transfer waits before its first byte.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WanLink {
    /// Bandwidth available to Configuration Manager content, shared
    /// max-min fairly by the transfers crossing the link (1kbps–100Gbps).
    pub bandwidth: Bandwidth,
    /// Round-trip time (0–10s): a transfer across the link starts this
    /// long after it is asked for. Default `"0s"`.
    #[serde(default = "default_latency")]
    pub latency: Dur,
}

fn default_latency() -> Dur {
    Dur(SimDuration::ZERO)
}

fn default_dp_bandwidth() -> Bandwidth {
    Bandwidth(1_000_000_000)
}
fn default_dp_connections() -> u32 {
    500
}

impl ManagementPoint {
    /// A management point with every setting at its default.
    pub fn named(name: &str) -> Self {
        ManagementPoint {
            name: name.into(),
            site: None,
            workers: default_mp_workers(),
            queue_limit: default_mp_queue(),
            policy_time: default_policy_time(),
            location_time: default_location_time(),
            batch_time: default_batch_time(),
        }
    }
}

impl UpdatePoint {
    /// A software update point with every setting at its default.
    pub fn named(name: &str) -> Self {
        UpdatePoint {
            name: name.into(),
            site: None,
            scan_slots: default_scan_slots(),
            queue_limit: default_wsus_queue(),
            full_scan_time: default_full_scan(),
            delta_scan_time: default_delta_scan(),
            full_scan_size: zero_bytes(),
            delta_scan_size: zero_bytes(),
            susdb: None,
            wsus_pool: None,
        }
    }
}

impl DistributionPoint {
    /// A distribution point with every setting at its default.
    pub fn named(name: &str) -> Self {
        DistributionPoint {
            name: name.into(),
            site: None,
            bandwidth: default_dp_bandwidth(),
            max_connections: default_dp_connections(),
            content_link: default_dp_bandwidth(),
            location: None,
            default_boundary_group: false,
            rate_limit: RateLimit::Unlimited,
            copy_schedule: Vec::new(),
            pull_from: Vec::new(),
            prestaged: false,
        }
    }
}

/// A server outage or slowdown.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// The server's name (any role).
    pub server: String,
    /// When it begins.
    pub start: Timestamp,
    /// When it ends.
    pub end: Timestamp,
    /// What it does. Default `Down`.
    #[serde(default)]
    pub effect: FaultEffect,
}

/// What a fault does to its server.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum FaultEffect {
    /// Every request fails; work queued or in progress is failed back to
    /// the clients, who retry.
    #[default]
    Down,
    /// Every service time (or, for a DP, its bandwidth) is this many times
    /// slower (1–1000).
    Slow(f64),
}

/// Client settings (Configuration Manager's "Default Client Settings").
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    /// Client policy polling interval. Default `"60m"`; allowed 3m–24h.
    #[serde(default = "default_poll")]
    pub policy_polling_interval: Dur,
    /// State message reporting cycle. Default `"15m"`; allowed 1m–24h.
    #[serde(default = "default_state_message")]
    pub state_message_interval: Dur,
    /// Delay from power-on to the first policy request.
    /// Default `Uniform(min: "0s", max: "5m")`.
    #[serde(default = "default_power_on_poll")]
    pub power_on_policy_delay: Dist,
    /// Delay from receiving a deployment to its evaluation scan.
    /// Default `Uniform(min: "0s", max: "2m")`.
    #[serde(default = "default_evaluation_delay")]
    pub evaluation_delay: Dist,
    /// Duration of a (delta) compliance scan.
    /// Default `LogNormal(median: "2m", sigma: 0.5)`.
    #[serde(default = "default_scan")]
    pub scan_duration: Dist,
    /// Spread the deadline-driven install over a uniform 0–2 h after the
    /// deadline. Default `false` (Configuration Manager's default).
    #[serde(default)]
    pub deadline_randomization: bool,
    /// Software update scan schedule: every client scans this often, each at
    /// its own phase. Default `"7d"`; allowed 1h–31d.
    #[serde(default = "default_scan_interval")]
    pub scan_interval: Dur,
    /// Each scheduled scan is delayed by a uniform random 0 to this.
    /// Default `"2h"`.
    #[serde(default = "default_scan_random_delay")]
    pub scan_random_delay: Dur,
    /// A client that first receives software update policy scans within a
    /// uniform random 0 to this. Default `"2h"`.
    #[serde(default = "default_first_scan_window")]
    pub first_scan_window: Dur,
    /// How long a client's software updates metadata stays current after
    /// a scan against its SUP (the scan time to live): a scan that is not
    /// forced reuses the last results inside it. Default `"24h"` (the
    /// product's value); allowed 1m–7d.
    #[serde(default = "default_scan_ttl")]
    pub scan_ttl: Dur,
    /// Deployment re-evaluation schedule: every client re-evaluates its
    /// deployments this often, at its own phase; failed installs are retried
    /// then. Default `"7d"`; allowed 1h–31d.
    #[serde(default = "default_reevaluation")]
    pub reevaluation_interval: Dur,
    /// A request a management point rejects (or a batch it cannot take) is
    /// retried after this, doubling at each failure up to `mp_retry_max`.
    /// Default `"1m"`.
    #[serde(default = "default_mp_retry")]
    pub mp_retry: Dur,
    /// The longest backoff between management point retries. Default `"30m"`.
    #[serde(default = "default_mp_retry_max")]
    pub mp_retry_max: Dur,
    /// A scan a SUP rejects (HTTP 503) is retried after this. Default `"30m"`.
    #[serde(default = "default_sup_retry")]
    pub scan_retry_interval: Dur,
    /// Retries of a failed scan, `scan_retry_interval` apart, before the
    /// client switches to another SUP of its cohort, drawn at random
    /// (where it runs a full scan) (1–100). Default 4.
    #[serde(default = "default_sup_retries")]
    pub scan_retries: u32,
    /// A download a DP cannot serve (it is down) is retried after this.
    /// Default `"10m"`.
    #[serde(default = "default_download_retry")]
    pub download_retry: Dur,
    /// After a deadline install that needs a restart, the user is reminded
    /// this often while more than the final countdown remains.
    /// Default `"4h"`; allowed 1m–14d.
    #[serde(default = "default_reminder")]
    pub restart_reminder_interval: Dur,
    /// Forced restart this long after a deadline-driven install that needs
    /// one. Default `"90m"`; allowed 1m–14d.
    #[serde(default = "default_restart_countdown")]
    pub restart_countdown: Dur,
    /// The final countdown before the forced restart: a notification the
    /// user cannot close, shown this long before it. Default `"15m"`;
    /// allowed 1m to `restart_countdown`.
    #[serde(default = "default_final_countdown")]
    pub restart_final_countdown: Dur,
    /// How long after an install that needs a restart the user is ready to
    /// restart. After a deadline install they act at the next notification
    /// (a reminder, or the final countdown) if that comes before the forced
    /// restart. Default `LogNormal(median: "2h", sigma: 1.0)`.
    #[serde(default = "default_user_restart")]
    pub user_restart_delay: Dist,
    /// How long a restart takes until the client agent runs again.
    /// Default `Uniform(min: "2m", max: "6m")`.
    #[serde(default = "default_restart_duration")]
    pub restart_duration: Dist,
    /// "Enable installation of software updates in 'All deployments'
    /// maintenance window when 'Software update' maintenance window is
    /// available": when a client has both kinds of window, software updates
    /// also use its `AllDeployments` windows. Default `false`
    /// (Configuration Manager's default: only the `SoftwareUpdates` ones).
    #[serde(default)]
    pub updates_in_all_deployments_windows: bool,
    /// "When any software update deployment deadline is reached, install
    /// all other software update deployments with deadline coming within a
    /// specified period of time": when one Required deployment's deadline
    /// comes, the client also enforces every other Required deployment
    /// whose deadline falls within this period, as if its deadline had
    /// come. Default none (the setting is off); Configuration Manager's
    /// default period when it is turned on is `"7d"`; allowed 1h–365d.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enforce_deadlines_within: Option<Dur>,
}

fn default_poll() -> Dur {
    Dur(SimDuration::from_mins(60))
}
fn default_state_message() -> Dur {
    Dur(SimDuration::from_mins(15))
}
fn default_power_on_poll() -> Dist {
    Dist::Uniform {
        min: Dur(SimDuration::ZERO),
        max: Dur(SimDuration::from_mins(5)),
    }
}
fn default_evaluation_delay() -> Dist {
    Dist::Uniform {
        min: Dur(SimDuration::ZERO),
        max: Dur(SimDuration::from_mins(2)),
    }
}
fn default_scan() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_mins(2)),
        sigma: 0.5,
    }
}
fn default_mp_retry() -> Dur {
    Dur(SimDuration::from_mins(1))
}
fn default_mp_retry_max() -> Dur {
    Dur(SimDuration::from_mins(30))
}
fn default_sup_retry() -> Dur {
    Dur(SimDuration::from_mins(30))
}
fn default_sup_retries() -> u32 {
    4
}
fn default_download_retry() -> Dur {
    Dur(SimDuration::from_mins(10))
}
fn default_scan_interval() -> Dur {
    Dur(SimDuration::from_days(7))
}
fn default_scan_random_delay() -> Dur {
    Dur(SimDuration::from_hours(2))
}
fn default_first_scan_window() -> Dur {
    Dur(SimDuration::from_hours(2))
}
fn default_scan_ttl() -> Dur {
    Dur(SimDuration::from_hours(24))
}
fn default_reminder() -> Dur {
    Dur(SimDuration::from_hours(4))
}
fn default_reevaluation() -> Dur {
    Dur(SimDuration::from_days(7))
}
fn default_restart_countdown() -> Dur {
    Dur(SimDuration::from_mins(90))
}
fn default_final_countdown() -> Dur {
    Dur(SimDuration::from_mins(15))
}
fn default_user_restart() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_hours(2)),
        sigma: 1.0,
    }
}
fn default_restart_duration() -> Dist {
    Dist::Uniform {
        min: Dur(SimDuration::from_mins(2)),
        max: Dur(SimDuration::from_mins(6)),
    }
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            policy_polling_interval: default_poll(),
            state_message_interval: default_state_message(),
            power_on_policy_delay: default_power_on_poll(),
            evaluation_delay: default_evaluation_delay(),
            scan_duration: default_scan(),
            deadline_randomization: false,
            scan_interval: default_scan_interval(),
            scan_random_delay: default_scan_random_delay(),
            first_scan_window: default_first_scan_window(),
            scan_ttl: default_scan_ttl(),
            reevaluation_interval: default_reevaluation(),
            restart_reminder_interval: default_reminder(),
            mp_retry: default_mp_retry(),
            mp_retry_max: default_mp_retry_max(),
            scan_retry_interval: default_sup_retry(),
            scan_retries: default_sup_retries(),
            download_retry: default_download_retry(),
            restart_countdown: default_restart_countdown(),
            restart_final_countdown: default_final_countdown(),
            user_restart_delay: default_user_restart(),
            restart_duration: default_restart_duration(),
            updates_in_all_deployments_windows: false,
            enforce_deadlines_within: None,
        }
    }
}

/// A group of alike clients.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cohort {
    /// Unique; deployments target cohorts by name.
    pub name: String,
    /// Number of clients. Allowed 1–10,000,000.
    pub count: u32,
    /// When the clients are on. Default `AlwaysOn`.
    #[serde(default)]
    pub power: Power,
    /// Each client's network link to its distribution point. Default `"100Mbps"`.
    #[serde(default = "default_link")]
    pub link: Bandwidth,
    /// Name of the management point the cohort uses.
    pub management_point: String,
    /// Further MPs: after five failed requests in a row to its MP, a client
    /// switches to one of the cohort's other MPs at random, and stays there
    /// until that one fails it. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_management_points: Vec<String>,
    /// Name of the software update point the cohort scans against.
    pub update_point: String,
    /// Further SUPs: when `scan_retries` retries of a scan have failed, a
    /// client switches to one of the cohort's other SUPs at random (and
    /// runs a full scan there). Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fallback_update_points: Vec<String>,
    /// Name of the distribution point the cohort downloads from. Required
    /// on the intranet; none behind a cloud management gateway, whose
    /// clients download software updates from Microsoft Update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution_point: Option<String>,
    /// Name of the cloud management gateway the cohort's clients, on the
    /// internet, reach their management point and software update point
    /// through. Default none: on the intranet (or on a VPN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_management_gateway: Option<String>,
    /// The location its clients are in (a name from `locations`). A
    /// cohort whose distribution point is elsewhere (at the site, or its
    /// location has none) downloads across its location's WAN link.
    /// Default: at the site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// Workstation or server (restart suppression is set per kind).
    /// Default `Workstation`.
    #[serde(default)]
    pub kind: ClientKind,
    /// Share of clients whose domain GPO names another update server, 0–1:
    /// their scans never reach the site's SUP and their updates stay
    /// Unknown. Default 0.
    #[serde(default)]
    pub gpo_conflict: f64,
    /// Share of clients with Windows Fast Startup on, 0–1: their shutdown
    /// is a hibernation, which does not complete a pending restart.
    /// Default 0.
    #[serde(default)]
    pub fast_startup: f64,
    /// Share of clients that never come online during the run, 0–1: stale
    /// records of machines retired, lost or kept in a drawer, still in the
    /// targeted collections. Default 0.
    #[serde(default)]
    pub dormant: f64,
    /// Share of clients whose Windows Update agent is broken, 0–1: every
    /// scan they run reaches the SUP and then fails (501/5), so they never
    /// report or install. Default 0.
    #[serde(default)]
    pub broken_agent: f64,
    /// Share of clients, 0–1, that are co-managed with Intune and whose
    /// Windows Update policies workload is switched to Intune: they get
    /// Windows updates from Windows Update (Windows Update for Business),
    /// not from Configuration Manager. Their ConfigMgr client still polls
    /// policy and scans (for other content) and reports, but the
    /// deployments' Windows updates show Unknown to the site and are
    /// never downloaded from a DP or installed by the ConfigMgr client.
    /// Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub co_managed: f64,
    /// Probability that one scan fails with an error the client retries
    /// (a timeout, a dropped connection), 0–1: it tries again after
    /// `scan_retry_interval`, as after an HTTP 503. Default 0.
    #[serde(default)]
    pub scan_error_probability: f64,
    /// Share of these clients' state-message batches lost between the
    /// management point and the site database, 0–1. The site notices the
    /// gap in the clients' serial numbers when a later batch arrives and
    /// asks the client to resend its full state. Default 0.
    #[serde(default)]
    pub state_message_loss: f64,
    /// Recurring maintenance windows, local time. Default none: installs
    /// may run at any time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub maintenance_windows: Vec<MaintenanceWindow>,
    /// The administrator's own recurring restart of these clients (a
    /// scheduled task or a deployed restart): it completes any pending
    /// restart, suppressed or not. Default none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_restart: Option<ScheduledRestart>,
    /// Probability that an install attempt fails on these clients, on top
    /// of the update's own, 0–1. Default 0.
    #[serde(default)]
    pub failure_probability: f64,
    /// Share of users who ever install an Available update themselves, 0–1.
    /// Default 0.3.
    #[serde(default = "default_available_share")]
    pub available_install_share: f64,
    /// How long after the client evaluates an Available deployment such a
    /// user starts the install. Default `LogNormal(median: "1d", sigma: 1.0)`.
    #[serde(default = "default_available_delay")]
    pub available_install_delay: Dist,
    /// Share of users who install a Required deployment from Software
    /// Center before its deadline, 0–1. Default 0: every install waits for
    /// the deadline.
    #[serde(default)]
    pub early_install_share: f64,
    /// How long after the client evaluates a Required deployment such a
    /// user starts the install (no install starts before the content is
    /// downloaded; none is early if the deadline comes first).
    /// Default `LogNormal(median: "1d", sigma: 1.0)`.
    #[serde(default = "default_available_delay")]
    pub early_install_delay: Dist,
    /// Client settings for this cohort only (a custom client settings
    /// object). Fields it leaves out take Configuration Manager defaults,
    /// not the scenario-wide `client_settings`. Default: none, i.e. the
    /// scenario-wide settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_settings: Option<ClientSettings>,
    /// Where these clients get update content besides their distribution
    /// point: peer cache, BranchCache, Delivery Optimization, and express
    /// (delta) content. Default: none of them, every byte from the DP.
    #[serde(default, skip_serializing_if = "ContentSources::is_off")]
    pub content_sources: ContentSources,
}

/// A cohort's content sources besides its distribution point. Every share
/// defaults to 0 (off), as in Configuration Manager, where peer cache,
/// BranchCache and delta content are client settings an administrator
/// turns on.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContentSources {
    /// Share of the clients, 0–1, that get content from a peer cache
    /// source in their boundary group: another client from the same share
    /// (of any cohort of the location, else of the cohort) that holds the
    /// content and is on. Default 0.
    #[serde(default)]
    pub peer_cache: f64,
    /// Speed of a transfer from a peer cache source. Default: the cohort's
    /// `link`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_link: Option<Bandwidth>,
    /// Share of the bytes of a download from the DP, 0–1, that BranchCache
    /// peers on the client's subnet serve, once a client of the cohort
    /// that holds the content is on. Default 0.
    #[serde(default)]
    pub branch_cache: f64,
    /// Share of the bytes of a download from the DP, 0–1, that Delivery
    /// Optimization peers of the client's group serve, once a client of
    /// the group (the cohorts of the location that turn a peer technology
    /// on, else the cohort) that holds the content is on. Default 0 (with
    /// `branch_cache`, at most 1 together).
    #[serde(default)]
    pub delivery_optimization: f64,
    /// Share of the clients, 0–1, that download express (delta) content
    /// where an update has it (`express_size`): the client setting "Allow
    /// clients to download delta content when available". Default 0.
    #[serde(default)]
    pub express: f64,
    /// The client cache's maximum size (the client setting; 5120MB when
    /// an administrator configures it). A download always goes into the
    /// cache; then the least recently used content older than a day is
    /// removed until the cache fits. Default: none (no limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_size: Option<Bytes>,
}

impl ContentSources {
    /// Whether every source besides the DP is off (the default).
    pub fn is_off(&self) -> bool {
        *self == ContentSources::default()
    }
}

fn default_available_share() -> f64 {
    0.3
}
fn default_available_delay() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_days(1)),
        sigma: 1.0,
    }
}

/// Whether a client is a workstation or a server.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientKind {
    /// A desktop or laptop.
    #[default]
    Workstation,
    /// A server.
    Server,
}

/// A recurring maintenance window, in local time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindow {
    /// How often it recurs.
    pub recurrence: Recurrence,
    /// Local time it opens. Default `"01:00"`.
    #[serde(default = "default_window_start")]
    pub start: ClockTime,
    /// How long it stays open: at least 5m, less than 24h. Default `"3h"`.
    #[serde(default = "default_window_length")]
    pub length: Dur,
    /// What it is for. Default `AllDeployments` (the console's default).
    #[serde(default)]
    pub applies_to: WindowType,
}

/// What a maintenance window is for ("Apply this schedule to").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum WindowType {
    /// Every kind of deployment.
    #[default]
    AllDeployments,
    /// Software updates only. A client with windows of this type installs
    /// software updates only in them (unless
    /// `updates_in_all_deployments_windows` is on).
    SoftwareUpdates,
}

/// The administrator's recurring restart, in local time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduledRestart {
    /// How often it recurs.
    pub recurrence: Recurrence,
    /// Local time of the restart. Default `"03:00"`.
    #[serde(default = "default_restart_at")]
    pub start: ClockTime,
}

fn default_restart_at() -> ClockTime {
    ClockTime(SimDuration::from_hours(3))
}

fn default_window_start() -> ClockTime {
    ClockTime(SimDuration::from_hours(1))
}
fn default_window_length() -> Dur {
    Dur(SimDuration::from_hours(3))
}

/// How a maintenance window recurs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Recurrence {
    /// Every day.
    Daily,
    /// Once a week on this day.
    Weekly(Weekday),
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub enum Weekday {
    Monday,
    Tuesday,
    Wednesday,
    Thursday,
    Friday,
    Saturday,
    Sunday,
}

impl Weekday {
    /// Days since Monday.
    pub fn index(self) -> u64 {
        self as u64
    }
}

fn default_link() -> Bandwidth {
    Bandwidth(100_000_000)
}

/// When a cohort's clients are powered on and online.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Power {
    /// Always on and online (servers, most desktops left on).
    #[default]
    AlwaysOn,
    /// On during working hours on weekdays, off at night and at weekends.
    BusinessHours {
        /// Local time the working day starts. Default `"08:00"`.
        #[serde(default = "default_day_start")]
        start: ClockTime,
        /// Local time it ends. Default `"17:30"`.
        #[serde(default = "default_day_end")]
        end: ClockTime,
        /// Each client's power-on and power-off times vary by a uniform
        /// ±jitter, drawn daily. Default `"30m"`.
        #[serde(default = "default_jitter")]
        jitter: Dur,
    },
    /// Alternating on and off periods (laptops): each period's length is
    /// drawn afresh.
    Intermittent {
        /// Length of an on period.
        on: Dist,
        /// Length of an off period.
        off: Dist,
    },
}

fn default_day_start() -> ClockTime {
    ClockTime(SimDuration::from_hours(8))
}
fn default_day_end() -> ClockTime {
    ClockTime(SimDuration::from_mins(17 * 60 + 30))
}
fn default_jitter() -> Dur {
    Dur(SimDuration::from_mins(30))
}

/// One update in the catalog.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Update {
    /// Unique id, e.g. `"KB5046617"`; deployments refer to it.
    pub id: String,
    /// Free text. Default empty.
    #[serde(default)]
    pub title: String,
    /// Content size each client downloads.
    pub size: Bytes,
    /// When it is released upstream; a sync that starts later includes it.
    /// Default: before the start (already synced, and the site database
    /// already holds every client's state for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<Timestamp>,
    /// Its classification. Default `Security`.
    #[serde(default)]
    pub classification: Classification,
    /// Share of clients it applies to, 0–1. Default 1.
    #[serde(default = "one")]
    pub applicability: f64,
    /// Install duration. Default `LogNormal(median: "10m", sigma: 0.5)`.
    #[serde(default = "default_install")]
    pub install_time: Dist,
    /// Maximum run time: an install still running then is stopped and
    /// fails. Default `"120m"` for `FeatureUpgrade`, `"60m"` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_run_time: Option<Dur>,
    /// Probability that an install needs a restart, 0–1. Default 1.
    #[serde(default = "one")]
    pub restart_probability: f64,
    /// Probability that one install attempt fails, 0–1. Default 0.
    #[serde(default)]
    pub failure_probability: f64,
    /// Size of its express (delta) content, what a client that can use
    /// express downloads instead of `size`. Default: none (no express
    /// content).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub express_size: Option<Bytes>,
    /// Ids of the updates it supersedes, e.g. last month's cumulative
    /// update: on a client where this one has taken effect they are no
    /// longer required. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supersedes: Vec<String>,
}

fn one() -> f64 {
    1.0
}
fn default_install() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_mins(10)),
        sigma: 0.5,
    }
}

/// An update's classification.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Classification {
    /// Security update (monthly cumulative updates).
    #[default]
    Security,
    /// Critical update.
    Critical,
    /// Non-security update.
    Update,
    /// Update rollup.
    UpdateRollup,
    /// Feature update (a new Windows version): longer max run time.
    FeatureUpgrade,
    /// Definition update.
    Definition,
}

impl Classification {
    /// Configuration Manager's default max run time for it.
    pub fn default_max_run_time(self) -> SimDuration {
        match self {
            Classification::FeatureUpgrade => SimDuration::from_mins(120),
            _ => SimDuration::from_mins(60),
        }
    }
}

/// A deployment of updates to cohorts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Unique name.
    pub name: String,
    /// Ids of the updates deployed (at least one, unless `group` is
    /// given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<String>,
    /// The software update group it deploys, instead of `updates`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Names of the targeted cohorts (at least one).
    pub targets: Vec<String>,
    /// `Required` (enforced at the deadline) or `Available` (the user
    /// installs it from Software Center, or never). Default `Required`.
    #[serde(default)]
    pub purpose: Purpose,
    /// Deadline installs start only inside a maintenance window long
    /// enough for the max run time, on clients that have windows (the
    /// product's deadline behaviour "Software updates installation"
    /// unchecked). Default `true`.
    #[serde(default = "yes")]
    pub honor_maintenance_windows: bool,
    /// The restart a deadline install needs may happen outside the
    /// maintenance windows (the deadline behaviour "System restart (if
    /// necessary)" checked); otherwise, on clients that have windows, it
    /// waits for one. Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub restart_outside_windows: bool,
    /// Restarts after install are suppressed on these kinds of client: they
    /// stay pending restart until someone restarts them. Default `[]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suppress_restart: Vec<ClientKind>,
    /// When the administrator creates it; content distribution starts then.
    pub created: Timestamp,
    /// When clients may start (download begins). Default: `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Timestamp>,
    /// Installation deadline (Required only). Default: the available time
    /// (install as soon as possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
    /// A phased deployment: this deployment is its first phase, and each
    /// entry is one more phase, in order, that deploys the same updates
    /// to its own cohorts once the phase before it has succeeded (at most
    /// 10). Default `[]`: not phased.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
    /// For the first phase of a phased deployment: "Gradually make this
    /// software available over this period of time" (0–30d): each client
    /// of the phase is made available at its own instant in this period
    /// after the phase's available time, its deadline as far after.
    /// Default `"0s"`: all at once.
    #[serde(default = "zero_dur", skip_serializing_if = "is_zero_duration")]
    pub gradually_over: Dur,
    /// For a phased deployment: when the administrator suspends it and
    /// resumes it, in time order. Default `[]`: never suspended.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suspensions: Vec<Suspension>,
    /// The download setting "If software updates are not available on
    /// distribution point in current, neighbor or site boundary groups,
    /// download content from Microsoft Updates": a client whose DP is down
    /// downloads from Microsoft Update instead of retrying. Default `false`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub microsoft_update_fallback: bool,
    /// Its content's distribution priority: the hours of a DP's
    /// `copy_schedule` open to higher priorities only hold it back.
    /// Default `Medium`, the deployment package's default.
    #[serde(default, skip_serializing_if = "DistributionPriority::is_medium")]
    pub distribution_priority: DistributionPriority,
}

/// A later phase of a phased deployment: a deployment of the same updates,
/// with the same purpose and user experience, to other cohorts, created when
/// the phase before it has succeeded.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// The phase's deployment name, unique among all deployments.
    pub name: String,
    /// Names of the cohorts it targets (at least one).
    pub targets: Vec<String>,
    /// Criterion for success of the previous phase: the percent of that
    /// phase's targeted clients the site database must show compliant
    /// (1–100). Default 95.
    #[serde(default = "default_success_percent")]
    pub success_percent: u32,
    /// When the phase begins. Default `AfterSuccess("1d")`.
    #[serde(default)]
    pub begin: PhaseBegin,
    /// The deadline, relative to the phase's available time (its begin):
    /// `"0s"` is "as soon as possible" (0–365d). Default `"7d"`.
    #[serde(default = "default_phase_deadline")]
    pub deadline_after: Dur,
    /// Criterion for success of the previous phase as a number of its
    /// targeted clients the site database must show compliant, instead of
    /// `success_percent`. Default: none (the percentage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success_devices: Option<u32>,
    /// "Gradually make this software available over this period of time"
    /// (0–30d), as the first phase's `gradually_over`. Default `"0s"`.
    #[serde(default = "zero_dur", skip_serializing_if = "is_zero_duration")]
    pub gradually_over: Dur,
}

fn is_zero_duration(d: &Dur) -> bool {
    d.0 == SimDuration::ZERO
}

fn default_success_percent() -> u32 {
    95
}
fn default_phase_deadline() -> Dur {
    Dur(SimDuration::from_days(7))
}

/// The administrator suspends a phased deployment ("Suspend"), and
/// resumes it later ("Resume") or never.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Suspension {
    /// When it is suspended.
    pub at: Timestamp,
    /// When it is resumed. Default: never (suspended to the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<Timestamp>,
}

/// When a later phase begins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum PhaseBegin {
    /// Automatically, this long (0–365d) after the previous phase met the
    /// success criterion.
    AfterSuccess(Dur),
    /// By hand, at this instant, whether or not the previous phase
    /// succeeded (but never before the previous phase began).
    Manual(Timestamp),
}

impl Default for PhaseBegin {
    fn default() -> Self {
        PhaseBegin::AfterSuccess(Dur(SimDuration::from_days(1)))
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// Whether a deployment is enforced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Installed at the deadline whatever the user does.
    #[default]
    Required,
    /// Offered in Software Center; installed only if the user starts it.
    Available,
}

fn yes() -> bool {
    true
}

/// Catalog synchronization: WSUS Synchronization Manager and the top-level
/// SUP's metadata download.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sync {
    /// Whether the site has synced before the start: updates released
    /// before the start are in the site database and every client has the
    /// software updates policy. When `false`, nothing can be scanned until
    /// the first sync finishes. Default `true`.
    #[serde(default = "yes")]
    pub initially_synced: bool,
    /// Scheduled (full) syncs run this often. Default `"7d"`.
    #[serde(default = "default_sync_interval")]
    pub schedule_interval: Dur,
    /// The first scheduled sync. Default: the start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_scheduled: Option<Timestamp>,
    /// Manual (delta) syncs, e.g. on Patch Tuesday evening. Default none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manual: Vec<Timestamp>,
    /// WSUS's metadata download for a scheduled, full sync.
    /// Default `LogNormal(median: "40m", sigma: 0.3)`.
    #[serde(default = "default_full_sync")]
    pub full_duration: Dist,
    /// WSUS's metadata download for a manual, delta sync.
    /// Default `LogNormal(median: "5m", sigma: 0.3)`.
    #[serde(default = "default_delta_sync")]
    pub delta_duration: Dist,
    /// Extra download time per update new in this sync. Default `"5s"`.
    #[serde(default = "default_per_new_update")]
    pub per_new_update: Dur,
    /// WSyncMgr polls WSUS this often until the download is done.
    /// Default `"1m"`.
    #[serde(default = "default_sync_poll")]
    pub poll_interval: Dur,
    /// WSyncMgr waits this long after it sees the download done before it
    /// pulls the metadata. Default `"2m"`.
    #[serde(default = "default_pull_delay")]
    pub pull_delay: Dur,
    /// Inserting one new update's metadata into the site database.
    /// Default `"2s"`.
    #[serde(default = "default_insert")]
    pub insert_per_update: Dur,
    /// A sync that fails (the top-level SUP is down when it starts or
    /// while it runs) is retried this long after the failure, and again
    /// after each failed retry. Default `"60m"`, as WSyncMgr logs it;
    /// allowed 1m–24h.
    #[serde(default = "default_sync_retry")]
    pub retry_interval: Dur,
    /// The WSUS catalog the update points serve to scanning clients: with
    /// it, a scan's server time grows with the updates neither declined nor
    /// superseded. Default: none (each scan costs the update point's
    /// `full_scan_time` or `delta_scan_time`, whatever the catalog).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<WsusCatalog>,
    /// The supersedence rule: a superseded update expires at the first
    /// sync this long after the update superseding it was released (and
    /// synced); `Some("0s")` is "Immediately expire a superseded software
    /// update". An expired update leaves its deployments. Default `None`:
    /// superseded updates never expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_superseded_after: Option<Dur>,
}

/// The updates in the WSUS database (the products, classifications and
/// languages synced), for what a scan costs the update points.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WsusCatalog {
    /// Updates in the WSUS database that are not declined, before WSUS
    /// maintenance declines any superseded ones (1–1,000,000).
    pub updates: u32,
    /// The share of them that are superseded (0–1). Default 0.5.
    #[serde(default = "default_superseded_share")]
    pub superseded_share: f64,
    /// WSUS maintenance declines superseded updates after every sync
    /// (the software update point's "Decline expired updates in WSUS
    /// according to supersedence rules"), removing them from the catalog
    /// clients scan. Default `false`.
    #[serde(default)]
    pub decline_superseded: bool,
    /// The catalog size, in valid updates, that the update points'
    /// `full_scan_time` and `delta_scan_time` are for (1–1,000,000).
    /// Default 5000 (Microsoft's preferred upper size).
    #[serde(default = "default_reference_updates")]
    pub reference_updates: u32,
}

fn default_superseded_share() -> f64 {
    0.5
}
fn default_reference_updates() -> u32 {
    5000
}

fn default_sync_interval() -> Dur {
    Dur(SimDuration::from_days(7))
}
fn default_full_sync() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_mins(40)),
        sigma: 0.3,
    }
}
fn default_delta_sync() -> Dist {
    Dist::LogNormal {
        median: Dur(SimDuration::from_mins(5)),
        sigma: 0.3,
    }
}
fn default_per_new_update() -> Dur {
    Dur(SimDuration::from_secs(5))
}
fn default_sync_poll() -> Dur {
    Dur(SimDuration::from_mins(1))
}
fn default_pull_delay() -> Dur {
    Dur(SimDuration::from_mins(2))
}
fn default_insert() -> Dur {
    Dur(SimDuration::from_secs(2))
}
fn default_sync_retry() -> Dur {
    Dur(SimDuration::from_mins(60))
}

impl Default for Sync {
    fn default() -> Self {
        Sync {
            initially_synced: true,
            schedule_interval: default_sync_interval(),
            first_scheduled: None,
            manual: Vec::new(),
            full_duration: default_full_sync(),
            delta_duration: default_delta_sync(),
            per_new_update: default_per_new_update(),
            poll_interval: default_sync_poll(),
            pull_delay: default_pull_delay(),
            insert_per_update: default_insert(),
            retry_interval: default_sync_retry(),
            catalog: None,
            expire_superseded_after: None,
        }
    }
}

/// A random duration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub enum Dist {
    /// Always this value: `Fixed("10m")`.
    Fixed(Dur),
    /// Uniform between two values: `Uniform(min: "1m", max: "5m")`.
    Uniform {
        /// Smallest value.
        min: Dur,
        /// Largest value (at least `min`).
        max: Dur,
    },
    /// Exponential with this mean: `Exponential(mean: "20m")`.
    Exponential {
        /// Mean.
        mean: Dur,
    },
    /// Log-normal with this median and shape: `LogNormal(median: "10m", sigma: 0.5)`.
    /// The p95 is `median × e^(1.645 σ)`.
    LogNormal {
        /// Median (e^μ).
        median: Dur,
        /// Standard deviation of the logarithm, 0–4.
        sigma: f64,
    },
}

impl Dist {
    /// The same distribution in simulator units, as the estate keeps it.
    pub fn resolve(&self) -> crate::estate::Dist {
        use crate::estate::Dist as D;
        match *self {
            Dist::Fixed(v) => D::Fixed(v.0),
            Dist::Uniform { min, max } => D::Uniform {
                min: min.0,
                max: max.0,
            },
            Dist::Exponential { mean } => D::Exponential { mean: mean.0 },
            Dist::LogNormal { median, sigma } => D::LogNormal {
                median: median.0,
                sigma,
            },
        }
    }
}

impl Purpose {
    /// The estate's value.
    pub fn resolve(self) -> crate::estate::Purpose {
        match self {
            Purpose::Required => crate::estate::Purpose::Required,
            Purpose::Available => crate::estate::Purpose::Available,
        }
    }
}

impl ClientKind {
    /// The estate's value.
    pub fn resolve(self) -> crate::estate::ClientKind {
        match self {
            ClientKind::Workstation => crate::estate::ClientKind::Workstation,
            ClientKind::Server => crate::estate::ClientKind::Server,
        }
    }
}

impl Cohort {
    /// A cohort of `count` always-on workstations on the named servers, every
    /// other field at its default (for building scenarios in code).
    pub fn new(
        name: &str,
        count: u32,
        management_point: &str,
        update_point: &str,
        distribution_point: &str,
    ) -> Self {
        Cohort {
            name: name.into(),
            count,
            power: Power::default(),
            link: default_link(),
            management_point: management_point.into(),
            update_point: update_point.into(),
            fallback_management_points: Vec::new(),
            fallback_update_points: Vec::new(),
            distribution_point: Some(distribution_point.into()),
            cloud_management_gateway: None,
            location: None,
            kind: ClientKind::default(),
            gpo_conflict: 0.0,
            fast_startup: 0.0,
            dormant: 0.0,
            broken_agent: 0.0,
            co_managed: 0.0,
            scan_error_probability: 0.0,
            state_message_loss: 0.0,
            maintenance_windows: Vec::new(),
            scheduled_restart: None,
            failure_probability: 0.0,
            available_install_share: default_available_share(),
            available_install_delay: default_available_delay(),
            early_install_share: 0.0,
            early_install_delay: default_available_delay(),
            client_settings: None,
            content_sources: ContentSources::default(),
        }
    }
}

impl Update {
    /// An update of this size, released before the start, every other field
    /// at its default.
    pub fn new(id: &str, size: Bytes) -> Self {
        Update {
            id: id.into(),
            title: String::new(),
            size,
            release: None,
            classification: Classification::default(),
            applicability: one(),
            install_time: default_install(),
            max_run_time: None,
            restart_probability: one(),
            failure_probability: 0.0,
            express_size: None,
            supersedes: Vec::new(),
        }
    }
}

impl Deployment {
    /// A Required deployment of `updates` to `targets`, created at
    /// `created`, every other field at its default.
    pub fn required(name: &str, updates: &[&str], targets: &[&str], created: Timestamp) -> Self {
        Deployment {
            name: name.into(),
            updates: updates.iter().map(|s| s.to_string()).collect(),
            group: None,
            targets: targets.iter().map(|s| s.to_string()).collect(),
            purpose: Purpose::Required,
            honor_maintenance_windows: true,
            restart_outside_windows: false,
            suppress_restart: Vec::new(),
            created,
            available: None,
            deadline: None,
            phases: Vec::new(),
            gradually_over: zero_dur(),
            suspensions: Vec::new(),
            microsoft_update_fallback: false,
            distribution_priority: DistributionPriority::Medium,
        }
    }
}
