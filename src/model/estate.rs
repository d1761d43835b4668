//! The validated estate: everything a run needs, with typed ids and times.
//!
//! Owns [`Estate`] and its parts. Built only by
//! [`scenario::validate`](crate::scenario::validate), so every reference in
//! it resolves and every value is in range; the model trusts it.

use crate::engine::{SimDuration, SimTime};
use crate::scenario::{Dist, Scenario};

use super::ids::{CohortId, DpId, MpId, SettingsId, SupId, UpdateId};

/// A checked scenario, ready to simulate.
#[derive(Clone, Debug)]
pub struct Estate {
    /// The scenario as resolved (every default filled in); written back as
    /// `scenario.ron` and hashed.
    pub resolved: Scenario,
    /// Hex SHA-256 of the resolved scenario's RON text (first 16 digits).
    pub hash: String,
    /// Seed of the run.
    pub seed: u64,
    /// Simulated time to run.
    pub duration: SimDuration,
    /// Spacing of timeline samples.
    pub sample_interval: SimDuration,
    /// Milliseconds from local Monday 00:00 (in the start's UTC offset) to
    /// simulated time zero.
    pub week_offset: SimDuration,
    /// Site timings.
    pub site: SiteSpec,
    /// Management point names, indexed by [`MpId`].
    pub management_points: Vec<String>,
    /// Software update point names, indexed by [`SupId`].
    pub update_points: Vec<String>,
    /// Distribution point names, indexed by [`DpId`].
    pub distribution_points: Vec<String>,
    /// Client settings objects, indexed by [`SettingsId`]; 0 is the default.
    pub settings: Vec<Settings>,
    /// Cohorts, indexed by [`CohortId`]; their clients are numbered in order.
    pub cohorts: Vec<CohortSpec>,
    /// The catalog, indexed by [`UpdateId`].
    pub updates: Vec<UpdateSpec>,
    /// Deployments, indexed by [`DeploymentId`].
    pub deployments: Vec<DeploymentSpec>,
}

impl Estate {
    /// Total number of clients.
    pub fn client_count(&self) -> u32 {
        self.cohorts.iter().map(|c| c.count).sum()
    }

    /// Simulated time at which the run ends.
    pub fn end(&self) -> SimTime {
        SimTime::ZERO + self.duration
    }
}

/// Site-server timings.
#[derive(Clone, Debug)]
pub struct SiteSpec {
    /// Deployment creation → content on DPs and policy published.
    pub content_ready_delay: Dist,
    /// MP receipt → state-system inbox.
    pub mp_forward_delay: SimDuration,
    /// Inbox → site database.
    pub state_system_delay: SimDuration,
}

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
    /// Failed install → retry.
    pub reevaluation_interval: SimDuration,
    /// Install needing restart → forced restart.
    pub restart_countdown: SimDuration,
    /// Install needing restart → the user's own restart.
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
    /// Assigned software update point.
    pub sup: SupId,
    /// Assigned distribution point.
    pub dp: DpId,
    /// Its client settings.
    pub settings: SettingsId,
}

/// When a cohort's clients are on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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
}

/// One update of the catalog.
#[derive(Clone, Debug)]
pub struct UpdateSpec {
    /// Its id (a KB number).
    pub id: String,
    /// Content size in bytes.
    pub size_bytes: u64,
    /// Share of clients it applies to.
    pub applicability: f64,
    /// Install duration.
    pub install_time: Dist,
    /// Longest an install may run before it is stopped as failed.
    pub max_run_time: SimDuration,
    /// Probability an install needs a restart.
    pub restart_probability: f64,
    /// Probability an install attempt fails.
    pub failure_probability: f64,
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
    /// Creation by the administrator.
    pub created: SimTime,
    /// Available to clients.
    pub available: SimTime,
    /// Installation deadline.
    pub deadline: SimTime,
}

impl DeploymentSpec {
    /// Number of clients it targets.
    pub fn targeted(&self, estate: &Estate) -> u32 {
        self.targets
            .iter()
            .map(|c| estate.cohorts[c.index()].count)
            .sum()
    }
}
