//! The scenario file as written: serde types, one per section, with defaults.
//!
//! Owns the file format. Every field's default is documented here and is the
//! Configuration Manager default from MODEL.md section 3 where one exists.
//! Nothing here is checked beyond its type: `validate.rs` turns these into a
//! typed [`Estate`](crate::model::Estate) or a list of problems.

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
    /// The site server and its timings.
    #[serde(default)]
    pub site: Site,
    /// Named server roles clients are assigned to.
    pub servers: Servers,
    /// Client settings for every cohort that does not bring its own.
    #[serde(default)]
    pub client_settings: ClientSettings,
    /// Groups of alike clients.
    pub cohorts: Vec<Cohort>,
    /// The update catalog.
    pub updates: Vec<Update>,
    /// Deployments of updates to cohorts.
    pub deployments: Vec<Deployment>,
}

fn default_seed() -> u64 {
    1
}
fn default_duration() -> Dur {
    Dur(SimDuration::from_days(30))
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
    /// From a deployment's creation until its content is on the distribution
    /// points and it is in machine policy (MODEL.md 2.3 steps 1–3).
    /// Default `Fixed("30m")`.
    #[serde(default = "default_content_ready")]
    pub content_ready_delay: Dist,
    /// From a batch reaching the management point until it is in the site
    /// server's state-system inbox. Default `"5s"`.
    #[serde(default = "default_mp_forward")]
    pub mp_forward_delay: Dur,
    /// From the inbox until the batch is in the site database (StateSys
    /// pauses 10 s after an inbox notification). Default `"10s"`.
    #[serde(default = "default_state_system")]
    pub state_system_delay: Dur,
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
        }
    }
}

/// The named server roles.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Servers {
    /// Management points: answer policy, take state-message batches.
    pub management_points: Vec<Server>,
    /// Software update points (WSUS): answer scans.
    pub update_points: Vec<Server>,
    /// Distribution points: serve update content.
    pub distribution_points: Vec<Server>,
}

/// One server of a role.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Server {
    /// Unique within its role; cohorts refer to it by this name.
    pub name: String,
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
    /// Deployment re-evaluation schedule: a failed install is retried this
    /// long after it failed. Default `"7d"`.
    #[serde(default = "default_reevaluation")]
    pub reevaluation_interval: Dur,
    /// Forced restart this long after a deadline-driven install that needs
    /// one. Default `"90m"`.
    #[serde(default = "default_restart_countdown")]
    pub restart_countdown: Dur,
    /// How long after the restart notification the user restarts on their
    /// own, if before the countdown ends. Default `LogNormal(median: "2h", sigma: 1.0)`.
    #[serde(default = "default_user_restart")]
    pub user_restart_delay: Dist,
    /// How long a restart takes until the client agent runs again.
    /// Default `Uniform(min: "2m", max: "6m")`.
    #[serde(default = "default_restart_duration")]
    pub restart_duration: Dist,
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
fn default_reevaluation() -> Dur {
    Dur(SimDuration::from_days(7))
}
fn default_restart_countdown() -> Dur {
    Dur(SimDuration::from_mins(90))
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
            reevaluation_interval: default_reevaluation(),
            restart_countdown: default_restart_countdown(),
            user_restart_delay: default_user_restart(),
            restart_duration: default_restart_duration(),
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
    /// Name of the software update point the cohort scans against.
    pub update_point: String,
    /// Name of the distribution point the cohort downloads from.
    pub distribution_point: String,
    /// Client settings for this cohort only (a custom client settings
    /// object). Fields it leaves out take Configuration Manager defaults,
    /// not the scenario-wide `client_settings`. Default: none, i.e. the
    /// scenario-wide settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_settings: Option<ClientSettings>,
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
    /// Share of clients it applies to, 0–1. Default 1.
    #[serde(default = "one")]
    pub applicability: f64,
    /// Install duration. Default `LogNormal(median: "10m", sigma: 0.5)`.
    #[serde(default = "default_install")]
    pub install_time: Dist,
    /// Maximum run time: an install still running then is stopped and
    /// fails. Default `"60m"` (quality updates).
    #[serde(default = "default_max_run")]
    pub max_run_time: Dur,
    /// Probability that an install needs a restart, 0–1. Default 1.
    #[serde(default = "one")]
    pub restart_probability: f64,
    /// Probability that one install attempt fails, 0–1. Default 0.
    #[serde(default)]
    pub failure_probability: f64,
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
fn default_max_run() -> Dur {
    Dur(SimDuration::from_mins(60))
}

/// A deployment of updates to cohorts.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Deployment {
    /// Unique name.
    pub name: String,
    /// Ids of the updates deployed (at least one).
    pub updates: Vec<String>,
    /// Names of the targeted cohorts (at least one).
    pub targets: Vec<String>,
    /// What the client must do. Only `Required` so far.
    #[serde(default)]
    pub purpose: Purpose,
    /// When the administrator creates it; content distribution starts then.
    pub created: Timestamp,
    /// When clients may start (download begins). Default: `created`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available: Option<Timestamp>,
    /// Installation deadline. Default: the available time (install as soon
    /// as possible).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Timestamp>,
}

/// Whether a deployment is enforced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purpose {
    /// Installed at the deadline whatever the user does.
    #[default]
    Required,
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
