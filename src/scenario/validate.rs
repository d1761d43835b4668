//! Raw scenario → checked [`Estate`], or every problem found, by field path.
//!
//! Owns the allowed ranges and the cross-references (cohort → server,
//! deployment → update and cohort). Reports all problems at once, each with
//! the field path, what was found and what is allowed.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, Timelike};
use sha2::{Digest, Sha256};

use super::schema::{
    Availability, Classification, ClientKind, ClientSettings, Cohort, Dist, DistributionPoint,
    DistributionPriority, FaultEffect, PhaseBegin, Power, Purpose, RateLimit, Recurrence,
    RuleGroup, RuleRun, Scenario, WindowType, WsusPool,
};
use super::units::{Bytes, ClockTime, Dur, Timestamp, clipped};
use crate::engine::{SimDuration, SimTime};
use crate::estate::{
    CatalogSpec, CohortId, CohortSpec, ContentSpec, CopyPlan, DeploymentId, DeploymentSpec, DpId,
    DpSpec, Estate, FaultSpec, GatewaySpec, LocationId, LocationSpec, MpId, MpSpec, NO_SUSDB,
    PhaseSpec, PhaseStart, PowerSpec, PrimarySpec, RestartScheduleSpec, RuleSpec, ServerRef,
    Settings, SettingsId, SiteId, SiteSpec, Source, SupId, SupSpec, SyncSpec, UpdateId, UpdateSpec,
    WindowKind, WindowSpec, WsusPoolSpec,
};

/// The most clients one run may hold (all cohorts together).
pub const MAX_CLIENTS: u64 = 10_000_000;
/// The most timeline rows one run may write per deployment.
pub const MAX_SAMPLES: u64 = 200_000;
/// The most bytes one deployment's updates may add up to (1 PB): a download
/// is counted in millibits in 64 bits.
pub const MAX_DEPLOYMENT_BYTES: u64 = 1_000_000_000_000_000;

/// Most deployments one automatic deployment rule that makes a new group
/// each run may make in a run (each takes a column of assignments).
pub const MAX_RULE_GROUPS: usize = 60;

/// The most servers of one role, of faults, and of queueing stations (the
/// management points, update points and primaries' state systems
/// together): the model numbers each with a 16-bit id.
pub const MAX_SERVERS: usize = u16::MAX as usize;

/// One thing wrong with a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Where: a field path such as `cohorts[1] (servers).count`.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The path as the checks name it, without entry names
    /// (`cohorts[1].count`): what [`locate`](super::locate) follows.
    pub(crate) raw_path: String,
    /// Where in the scenario's file the value (or the entry or structure
    /// that lacks it) is: line and column, from 1; `None` when not known
    /// (an embedded or overridden scenario).
    pub at: Option<(usize, usize)>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Collects problems while walking the scenario.
#[derive(Default)]
struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn fail(&mut self, path: impl Into<String>, message: impl Into<String>) {
        let path = path.into();
        self.problems.push(Problem {
            raw_path: path.clone(),
            path,
            message: message.into(),
            at: None,
        });
    }

    fn duration(&mut self, path: &str, value: SimDuration, min: SimDuration, max: SimDuration) {
        if value < min || value > max {
            self.fail(
                path,
                format!("must be between {min} and {max}, got {value}"),
            );
        }
    }

    fn probability(&mut self, path: &str, value: f64) {
        if !(0.0..=1.0).contains(&value) {
            let hint = if value > 1.0 && value <= 100.0 {
                // Ten places, trimmed: 1.1 % is 0.011, not 0.011000000000000001.
                let share = format!("{:.10}", value / 100.0);
                let share = share.trim_end_matches('0').trim_end_matches('.');
                format!(" (a share, not a percentage: write {share} for {value} %)")
            } else {
                String::new()
            };
            self.fail(path, format!("must be between 0 and 1, got {value}{hint}"));
        }
    }

    fn dist(&mut self, path: &str, dist: &Dist, max: SimDuration) {
        match dist {
            Dist::Fixed(v) => self.duration(path, v.0, SimDuration::ZERO, max),
            Dist::Uniform { min, max: hi } => {
                self.duration(&format!("{path}.min"), min.0, SimDuration::ZERO, max);
                self.duration(&format!("{path}.max"), hi.0, SimDuration::ZERO, max);
                if min > hi {
                    self.fail(path, format!("min ({min}) must not exceed max ({hi})"));
                }
            }
            Dist::Exponential { mean } => self.duration(
                &format!("{path}.mean"),
                mean.0,
                SimDuration::from_ms(1),
                max,
            ),
            Dist::LogNormal { median, sigma } => {
                self.duration(
                    &format!("{path}.median"),
                    median.0,
                    SimDuration::from_ms(1),
                    max,
                );
                if !(0.0..=4.0).contains(sigma) {
                    self.fail(
                        format!("{path}.sigma"),
                        format!("must be between 0 and 4, got {sigma}"),
                    );
                }
            }
        }
    }

    /// A name is written into every output: the first line of each CSV
    /// file, chart titles, file names of charts. A control character (a
    /// line break, a tab, an escape) would split or garble those lines, so
    /// names are printable text.
    /// Invisible characters (a zero-width space, a byte-order mark, a
    /// right-to-left override) are refused too: they would make two names
    /// look alike, or a name look like another text.
    fn name(&mut self, path: &str, name: &str) {
        // Looked for before the emptiness: U+0085 and U+2028 are white
        // space to `trim`.
        if let Some((at, c)) = name.chars().enumerate().find(|&(_, c)| unprintable(c)) {
            self.fail(
                path,
                format!(
                    "must be printable text, without control characters such as a line \
                     break or a tab; found U+{:04X} at character {}",
                    u32::from(c),
                    at + 1
                ),
            );
        } else if name.trim().is_empty() {
            self.fail(path, "must not be empty");
        } else if name.trim() != name {
            // References are compared exactly: ` mp01` is not `mp01`.
            self.fail(
                path,
                format!(
                    "\"{}\" has white space at its {}; remove it (names are compared exactly, \
                     so every reference would have to repeat it)",
                    clipped(name),
                    match (
                        name.starts_with(char::is_whitespace),
                        name.ends_with(char::is_whitespace)
                    ) {
                        (true, true) => "start and end",
                        (true, false) => "start",
                        _ => "end",
                    }
                ),
            );
        }
    }

    /// Index of unique names; repeats are problems.
    fn unique<'a>(
        &mut self,
        section: &str,
        field: &str,
        names: impl Iterator<Item = &'a str>,
    ) -> BTreeMap<&'a str, usize> {
        let mut index = BTreeMap::new();
        for (i, name) in names.enumerate() {
            self.name(&format!("{section}[{i}].{field}"), name);
            if let Some(first) = index.insert(name, i) {
                self.fail(
                    format!("{section}[{i}].{field}"),
                    format!(
                        "'{}' is already used by {section}[{first}]; names must be unique, rename one of them",
                        clipped(name)
                    ),
                );
            }
        }
        index
    }

    /// Resolves a reference by name, listing the known names when it fails.
    /// A server and the further ones a list names (`path[j]`), known by
    /// name in `known`: their indices, the first one first; an unknown
    /// name is reported and left out, a repeated one reported.
    fn fallbacks(
        &mut self,
        path: &str,
        what: &str,
        first: usize,
        names: &[String],
        known: &BTreeMap<&str, usize>,
    ) -> Vec<usize> {
        let mut list = vec![first];
        for (j, name) in names.iter().enumerate() {
            let at = format!("{path}[{j}]");
            let Some(k) = self.lookup(&at, what, name, known) else {
                continue;
            };
            if list.contains(&k) {
                self.fail(
                    at,
                    format!("{what} '{}' is already in the list", clipped(name)),
                );
            }
            list.push(k);
        }
        list
    }

    fn lookup(
        &mut self,
        path: &str,
        what: &str,
        name: &str,
        known: &BTreeMap<&str, usize>,
    ) -> Option<usize> {
        let found = known.get(name).copied();
        if found.is_none() {
            // Names quoted cut: a name of kilobytes would bury the message.
            let names: Vec<String> = known.keys().map(|k| clipped(k)).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            self.fail(
                path,
                format!(
                    "unknown {what} '{}'{}; known: {}",
                    clipped(name),
                    super::syntax::did_you_mean(name, &names).replace('`', "'"),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                ),
            );
        }
        found
    }

    fn settings(&mut self, path: &str, s: &ClientSettings) -> Settings {
        let min = SimDuration::from_mins(1);
        let day = SimDuration::from_days(1);
        self.duration(
            &format!("{path}.policy_polling_interval"),
            s.policy_polling_interval.0,
            SimDuration::from_mins(3),
            day,
        );
        self.duration(
            &format!("{path}.state_message_interval"),
            s.state_message_interval.0,
            min,
            day,
        );
        self.dist(
            &format!("{path}.power_on_policy_delay"),
            &s.power_on_policy_delay,
            day,
        );
        self.dist(
            &format!("{path}.evaluation_delay"),
            &s.evaluation_delay,
            day,
        );
        self.dist(&format!("{path}.scan_duration"), &s.scan_duration, day);
        let range = (SimDuration::from_hours(1), SimDuration::from_days(31));
        self.duration(
            &format!("{path}.scan_interval"),
            s.scan_interval.0,
            range.0,
            range.1,
        );
        self.duration(
            &format!("{path}.scan_random_delay"),
            s.scan_random_delay.0,
            SimDuration::ZERO,
            day,
        );
        self.duration(
            &format!("{path}.first_scan_window"),
            s.first_scan_window.0,
            SimDuration::ZERO,
            day,
        );
        // Since version 1906 the restart settings go up to two weeks.
        let two_weeks = SimDuration::from_days(14);
        self.duration(
            &format!("{path}.scan_ttl"),
            s.scan_ttl.0,
            SimDuration::from_mins(1),
            SimDuration::from_days(7),
        );
        self.duration(
            &format!("{path}.restart_reminder_interval"),
            s.restart_reminder_interval.0,
            SimDuration::from_mins(1),
            two_weeks,
        );
        self.duration(
            &format!("{path}.mp_retry"),
            s.mp_retry.0,
            SimDuration::from_secs(1),
            day,
        );
        self.duration(
            &format!("{path}.mp_retry_max"),
            s.mp_retry_max.0,
            s.mp_retry.0,
            day,
        );
        self.duration(
            &format!("{path}.scan_retry_interval"),
            s.scan_retry_interval.0,
            SimDuration::from_secs(1),
            day,
        );
        if !(1..=100).contains(&s.scan_retries) {
            self.fail(
                format!("{path}.scan_retries"),
                format!("must be between 1 and 100, got {}", s.scan_retries),
            );
        }
        self.duration(
            &format!("{path}.download_retry"),
            s.download_retry.0,
            SimDuration::from_secs(1),
            day,
        );
        self.duration(
            &format!("{path}.reevaluation_interval"),
            s.reevaluation_interval.0,
            SimDuration::from_hours(1),
            SimDuration::from_days(31),
        );
        self.duration(
            &format!("{path}.restart_countdown"),
            s.restart_countdown.0,
            min,
            two_weeks,
        );
        self.duration(
            &format!("{path}.restart_final_countdown"),
            s.restart_final_countdown.0,
            min,
            s.restart_countdown.0.max(min),
        );
        if let Some(within) = s.enforce_deadlines_within {
            self.duration(
                &format!("{path}.enforce_deadlines_within"),
                within.0,
                SimDuration::from_hours(1),
                SimDuration::from_days(365),
            );
        }
        self.dist(
            &format!("{path}.user_restart_delay"),
            &s.user_restart_delay,
            SimDuration::from_days(14),
        );
        self.dist(
            &format!("{path}.restart_duration"),
            &s.restart_duration,
            SimDuration::from_hours(2),
        );
        Settings {
            policy_polling_interval: s.policy_polling_interval.0,
            state_message_interval: s.state_message_interval.0,
            power_on_policy_delay: s.power_on_policy_delay.resolve(),
            evaluation_delay: s.evaluation_delay.resolve(),
            scan_duration: s.scan_duration.resolve(),
            deadline_randomization: if s.deadline_randomization {
                crate::estate::DEADLINE_RANDOMIZATION
            } else {
                SimDuration::ZERO
            },
            scan_interval: s.scan_interval.0,
            scan_random_delay: s.scan_random_delay.0,
            first_scan_window: s.first_scan_window.0,
            scan_ttl: s.scan_ttl.0,
            reevaluation_interval: s.reevaluation_interval.0,
            restart_reminder_interval: s.restart_reminder_interval.0,
            restart_final_countdown: s.restart_final_countdown.0,
            updates_in_all_deployments_windows: s.updates_in_all_deployments_windows,
            enforce_deadlines_within: s.enforce_deadlines_within.map(|d| d.0),
            mp_retry: s.mp_retry.0,
            mp_retry_max: s.mp_retry_max.0,
            scan_retry_interval: s.scan_retry_interval.0,
            scan_retries: s.scan_retries,
            download_retry: s.download_retry.0,
            restart_countdown: s.restart_countdown.0,
            user_restart_delay: s.user_restart_delay.resolve(),
            restart_duration: s.restart_duration.resolve(),
        }
    }

    /// Simulated time of a timestamp, which must not be before the start.
    /// An instant after the end is allowed: it simply never comes (so a
    /// shorter run of the same scenario stays valid).
    fn instant(
        &mut self,
        path: &str,
        t: &Timestamp,
        start: &Timestamp,
        _end: SimDuration,
    ) -> SimTime {
        let ms = t.ms_since(start);
        if ms < 0 {
            self.fail(
                path,
                format!("{t} is before the start ({start}); it must be at or after it"),
            );
            return SimTime::ZERO;
        }
        SimTime(ms as u64)
    }
}

/// Whether a catalog's numbers are in range (its problems are reported
/// where it is checked): only then is its scan cost computed.
fn ck_ok(c: &CatalogSpec) -> bool {
    c.reference_updates > 0 && (0.0..=1.0).contains(&c.superseded_share)
}

/// A recurrence and a local time of day as a period and an offset from
/// local Monday 00:00 (weekly) or midnight (daily); the time must be before
/// 24:00.
fn recurring(
    ck: &mut Checker,
    path: &str,
    recurrence: Recurrence,
    start: ClockTime,
) -> (SimDuration, SimDuration) {
    let day = SimDuration::from_days(1);
    if start.0 >= day {
        ck.fail(
            format!("{path}.start"),
            format!("must be before 24:00, got {start}"),
        );
    }
    match recurrence {
        Recurrence::Daily => (day, start.0),
        Recurrence::Weekly(d) => (
            SimDuration::from_days(7),
            SimDuration::from_ms(d.index() * day.as_ms() + start.0.as_ms()),
        ),
    }
}

/// `path` (`cohorts[16].kind`) with each entry of a list that has a
/// `name` (or an update's `id`) named after its index: `cohorts[16]
/// (servers).kind`. `tree` is the scenario as JSON; what it does not hold
/// is left as it is.
fn named_path(path: &str, tree: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut here = Some(tree);
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('[') {
            let Some((index, after)) = after.split_once(']') else {
                out.push_str(rest);
                break;
            };
            out.push_str(&rest[..index.len() + 2]);
            here = index.parse::<usize>().ok().and_then(|i| here?.get(i));
            let name = here.and_then(|v| v.get("name").or_else(|| v.get("id")));
            if let Some(name) = name.and_then(serde_json::Value::as_str)
                && !name.is_empty()
                && !name.chars().any(unprintable)
            {
                out.push_str(&format!(" ({})", clipped(name)));
            }
            rest = after;
        } else {
            let field = rest.strip_prefix('.').unwrap_or(rest);
            let end = field.find(['.', '[']).unwrap_or(field.len());
            out.push_str(&rest[..rest.len() - field.len() + end]);
            here = here.and_then(|v| v.get(&field[..end]));
            rest = &field[end..];
        }
    }
    out
}

/// The resolved scenario's canonical text: what is hashed and written back.
pub fn resolved_text(scenario: &Scenario) -> String {
    let config = ron::ser::PrettyConfig::new()
        .struct_names(true)
        .extensions(ron::extensions::Extensions::IMPLICIT_SOME)
        .indentor("    ".to_string());
    ron::ser::to_string_pretty(scenario, config).expect("a scenario always serializes")
}

/// Checks a parsed scenario and builds the estate, or lists every problem.
pub fn validate(raw: Scenario) -> Result<Estate, Vec<Problem>> {
    let mut ck = Checker::default();
    let day = SimDuration::from_days(1);

    ck.name("name", &raw.name);
    // Every instant of the run is written as RFC 3339, whose years have
    // four digits: the longest run from the start must end by 9999.
    if raw.start.0.naive_utc().year() > 9997 {
        ck.fail(
            "start",
            format!(
                "{} is too late: the run must end before the year 10000; give a start before 9998",
                raw.start
            ),
        );
    }
    ck.duration(
        "duration",
        raw.duration.0,
        SimDuration::from_mins(1),
        SimDuration::from_days(366),
    );
    ck.duration(
        "sample_interval",
        raw.sample_interval.0,
        SimDuration::from_mins(1),
        day,
    );
    if raw.sample_interval.0.as_ms() > 0
        && raw.duration.0.as_ms() / raw.sample_interval.0.as_ms() > MAX_SAMPLES
    {
        ck.fail(
            "sample_interval",
            format!(
                "gives more than {MAX_SAMPLES} samples over the duration; use a longer interval"
            ),
        );
    }
    if !(1..=100).contains(&raw.busy_threshold_pct) {
        ck.fail(
            "busy_threshold_pct",
            format!(
                "must be between 1 and 100 (a whole percent), got {}",
                raw.busy_threshold_pct
            ),
        );
    }
    let end = raw.duration.0;

    // Site.
    if raw.site.code.len() != 3 || !raw.site.code.chars().all(|c| c.is_ascii_alphanumeric()) {
        ck.fail(
            "site.code",
            format!("must be three letters or digits, got '{}'", raw.site.code),
        );
    }
    ck.dist(
        "site.content_ready_delay",
        &raw.site.content_ready_delay,
        SimDuration::from_days(7),
    );
    ck.duration(
        "site.mp_forward_delay",
        raw.site.mp_forward_delay.0,
        SimDuration::ZERO,
        day,
    );
    ck.duration(
        "site.state_system_delay",
        raw.site.state_system_delay.0,
        SimDuration::ZERO,
        day,
    );
    ck.duration(
        "site.resync_min_missing_age",
        raw.site.resync_min_missing_age.0,
        SimDuration::ZERO,
        SimDuration::from_days(30),
    );
    ck.duration(
        "site.resync_check_interval",
        raw.site.resync_check_interval.0,
        SimDuration::from_mins(1),
        day,
    );

    // Sync.
    let sy = &raw.sync;
    ck.duration(
        "sync.schedule_interval",
        sy.schedule_interval.0,
        SimDuration::from_hours(1),
        SimDuration::from_days(31),
    );
    let first_scheduled = match &sy.first_scheduled {
        Some(t) => ck.instant("sync.first_scheduled", t, &raw.start, end),
        None => SimTime::ZERO,
    };
    let mut manual = Vec::new();
    for (i, t) in sy.manual.iter().enumerate() {
        manual.push(ck.instant(&format!("sync.manual[{i}]"), t, &raw.start, end));
    }
    manual.sort();
    ck.dist("sync.full_duration", &sy.full_duration, day);
    ck.dist("sync.delta_duration", &sy.delta_duration, day);
    ck.duration(
        "sync.per_new_update",
        sy.per_new_update.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.poll_interval",
        sy.poll_interval.0,
        SimDuration::from_secs(1),
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.pull_delay",
        sy.pull_delay.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.insert_per_update",
        sy.insert_per_update.0,
        SimDuration::ZERO,
        SimDuration::from_hours(1),
    );
    ck.duration(
        "sync.retry_interval",
        sy.retry_interval.0,
        SimDuration::from_mins(1),
        SimDuration::from_hours(24),
    );
    if let Some(c) = &sy.catalog {
        for (field, v) in [
            ("updates", c.updates),
            ("reference_updates", c.reference_updates),
        ] {
            if !(1..=1_000_000).contains(&v) {
                ck.fail(
                    format!("sync.catalog.{field}"),
                    format!("must be between 1 and 1000000, got {v}"),
                );
            }
        }
        ck.probability("sync.catalog.superseded_share", c.superseded_share);
    }
    let sync = SyncSpec {
        initially_synced: sy.initially_synced,
        schedule_interval: sy.schedule_interval.0,
        first_scheduled,
        manual,
        full_duration: sy.full_duration.resolve(),
        delta_duration: sy.delta_duration.resolve(),
        per_new_update: sy.per_new_update.0,
        poll_interval: sy.poll_interval.0,
        pull_delay: sy.pull_delay.0,
        insert_per_update: sy.insert_per_update.0,
        retry_interval: sy.retry_interval.0,
        catalog: sy.catalog.as_ref().map(|c| CatalogSpec {
            updates: c.updates,
            superseded_share: c.superseded_share,
            decline_superseded: c.decline_superseded,
            reference_updates: c.reference_updates,
        }),
        expire_superseded_after: sy.expire_superseded_after.map(|d| d.0),
        // Set below, once it is known whether the site is a CAS.
        top_update_point: None,
    };
    if let Some(after) = sy.expire_superseded_after {
        ck.duration(
            "sync.expire_superseded_after",
            after.0,
            SimDuration::ZERO,
            SimDuration::from_days(3650),
        );
    }

    // Servers.
    let servers = &raw.servers;
    let mps = ck.unique(
        "servers.management_points",
        "name",
        servers.management_points.iter().map(|s| s.name.as_str()),
    );
    let sups = ck.unique(
        "servers.update_points",
        "name",
        servers.update_points.iter().map(|s| s.name.as_str()),
    );
    let dps = ck.unique(
        "servers.distribution_points",
        "name",
        servers.distribution_points.iter().map(|s| s.name.as_str()),
    );
    for (section, empty) in [
        (
            "servers.management_points",
            servers.management_points.is_empty(),
        ),
        ("servers.update_points", servers.update_points.is_empty()),
        (
            "servers.distribution_points",
            servers.distribution_points.is_empty(),
        ),
    ] {
        if empty {
            ck.fail(section, "needs at least one server");
        }
    }
    let cmgs = ck.unique(
        "servers.cloud_management_gateways",
        "name",
        servers
            .cloud_management_gateways
            .iter()
            .map(|s| s.name.as_str()),
    );
    let mut gateways = Vec::new();
    for (i, g) in servers.cloud_management_gateways.iter().enumerate() {
        let path = format!("servers.cloud_management_gateways[{i}]");
        if !(1..=16).contains(&g.vm_instances) {
            ck.fail(
                format!("{path}.vm_instances"),
                format!(
                    "must be between 1 and 16 (one CMG has at most 16 instances), got {}",
                    g.vm_instances
                ),
            );
        }
        if mps.contains_key(g.name.as_str())
            || sups.contains_key(g.name.as_str())
            || dps.contains_key(g.name.as_str())
        {
            ck.fail(
                format!("{path}.name"),
                format!(
                    "name '{}' is used by two roles; server names must be unique",
                    g.name
                ),
            );
        }
        gateways.push(GatewaySpec {
            name: g.name.clone(),
            connections: g.vm_instances.clamp(1, 16) * g.vm_size.connections(),
        });
    }
    let mut all_servers: BTreeMap<&str, ServerRef> = BTreeMap::new();
    let roles = servers
        .management_points
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), ServerRef::Mp(MpId(i as u16))))
        .chain(
            servers
                .update_points
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), ServerRef::Sup(SupId(i as u16)))),
        )
        .chain(
            servers
                .distribution_points
                .iter()
                .enumerate()
                .map(|(i, s)| (s.name.as_str(), ServerRef::Dp(DpId(i as u16)))),
        );
    for (name, r) in roles {
        if all_servers
            .insert(name, r)
            .is_some_and(|old| std::mem::discriminant(&old) != std::mem::discriminant(&r))
        {
            ck.fail(
                "servers",
                format!("name '{name}' is used by two roles; server names must be unique"),
            );
        }
    }
    let counts = |ck: &mut Checker, path: String, v: u32, min: u32, max: u32| {
        if v < min || v > max {
            ck.fail(path, format!("must be between {min} and {max}, got {v}"));
        }
    };
    // Primary sites: the standalone site, or the CAS's children.
    let hierarchy = !raw.primaries.is_empty();
    let mut primaries = Vec::new();
    if hierarchy {
        let _ = ck.unique(
            "primaries",
            "code",
            raw.primaries.iter().map(|p| p.code.as_str()),
        );
        for (i, p) in raw.primaries.iter().enumerate() {
            let path = format!("primaries[{i}]");
            if p.code.len() != 3 || !p.code.chars().all(|c| c.is_ascii_alphanumeric()) {
                ck.fail(
                    format!("{path}.code"),
                    format!("must be three letters or digits, got '{}'", p.code),
                );
            }
            if p.code == raw.site.code {
                ck.fail(
                    format!("{path}.code"),
                    format!("'{}' is the central administration site's code", p.code),
                );
            }
            ck.dist(&format!("{path}.sync_delay"), &p.sync_delay, day);
            ck.duration(
                &format!("{path}.replication_delay"),
                p.replication_delay.0,
                SimDuration::ZERO,
                day,
            );
            if !(1..=64).contains(&p.state_system_threads) {
                ck.fail(
                    format!("{path}.state_system_threads"),
                    format!("must be between 1 and 64, got {}", p.state_system_threads),
                );
            }
            primaries.push(PrimarySpec {
                code: p.code.clone(),
                sync_delay: p.sync_delay.resolve(),
                replication_delay: p.replication_delay.0,
                state_system_threads: p.state_system_threads,
                clients: 0,
            });
        }
    } else {
        primaries.push(PrimarySpec {
            code: raw.site.code.clone(),
            sync_delay: crate::estate::Dist::Fixed(SimDuration::ZERO),
            replication_delay: SimDuration::ZERO,
            state_system_threads: raw.site.state_system_threads,
            clients: 0,
        });
    }
    let site_codes: BTreeMap<&str, usize> = primaries
        .iter()
        .enumerate()
        .map(|(i, p)| (p.code.as_str(), i))
        .collect();
    let site_of = |ck: &mut Checker, path: String, site: &Option<String>| -> SiteId {
        match site {
            None => SiteId(0),
            Some(code) => SiteId(
                ck.lookup(&path, "primary site", code, &site_codes)
                    .unwrap_or(0) as u16,
            ),
        }
    };
    let mut management_points = Vec::new();
    for (i, m) in servers.management_points.iter().enumerate() {
        let path = format!("servers.management_points[{i}]");
        counts(&mut ck, format!("{path}.workers"), m.workers, 1, 10_000);
        counts(
            &mut ck,
            format!("{path}.queue_limit"),
            m.queue_limit,
            0,
            10_000_000,
        );
        for (field, d) in [
            ("policy_time", &m.policy_time),
            ("location_time", &m.location_time),
            ("batch_time", &m.batch_time),
        ] {
            ck.dist(&format!("{path}.{field}"), d, SimDuration::from_hours(1));
        }
        let site = site_of(&mut ck, format!("{path}.site"), &m.site);
        management_points.push(MpSpec {
            site,
            name: m.name.clone(),
            workers: m.workers,
            queue_limit: m.queue_limit,
            policy_time: m.policy_time.resolve().sampler(),
            location_time: m.location_time.resolve().sampler(),
            batch_time: m.batch_time.resolve().sampler(),
        });
    }
    let mut update_points: Vec<SupSpec> = Vec::new();
    // Each named SUSDB: its name, its site and the first SUP that uses it.
    let mut databases: Vec<(&str, SiteId, &str)> = Vec::new();
    for (i, u) in servers.update_points.iter().enumerate() {
        let path = format!("servers.update_points[{i}]");
        counts(
            &mut ck,
            format!("{path}.scan_slots"),
            u.scan_slots,
            1,
            10_000,
        );
        counts(
            &mut ck,
            format!("{path}.queue_limit"),
            u.queue_limit,
            0,
            10_000_000,
        );
        ck.dist(&format!("{path}.full_scan_time"), &u.full_scan_time, day);
        ck.dist(&format!("{path}.delta_scan_time"), &u.delta_scan_time, day);
        let site = site_of(&mut ck, format!("{path}.site"), &u.site);
        // A catalog scales both scan times (not applied at all without
        // one, so that such scenarios keep their exact times).
        let scan_time = |d: &Dist| match &sync.catalog {
            Some(c) if ck_ok(c) => d.resolve().scaled(c.scan_cost()).sampler(),
            _ => d.resolve().sampler(),
        };
        // A database of its own is numbered after the named ones, below.
        let susdb = match &u.susdb {
            None => NO_SUSDB,
            Some(name) => match databases.iter().position(|&(n, _, _)| n == name) {
                Some(k) => {
                    let (_, other_site, first) = databases[k];
                    if other_site != site {
                        ck.fail(
                            format!("{path}.susdb"),
                            format!(
                                "'{name}' is the WSUS database of '{first}', at another site: \
                                 only update points of one site share a database"
                            ),
                        );
                    }
                    k as u16
                }
                None => {
                    databases.push((name, site, &u.name));
                    (databases.len() - 1) as u16
                }
            },
        };
        let wsus_pool = u.wsus_pool.as_ref().map(|pool| {
            wsus_pool(
                &mut ck,
                &format!("{path}.wsus_pool"),
                pool,
                sync.catalog.as_ref().filter(|c| ck_ok(c)),
            )
        });
        for (field, size) in [
            ("full_scan_size", u.full_scan_size),
            ("delta_scan_size", u.delta_scan_size),
        ] {
            if size.0 > 10_000_000_000 {
                ck.fail(
                    format!("{path}.{field}"),
                    format!("must be from 0B to 10GB, got {size}"),
                );
            }
        }
        // A catalog scales the metadata a scan sends, as it scales the
        // server's time.
        let scan_bytes = |b: Bytes| match &sync.catalog {
            Some(c) if ck_ok(c) => (b.0 as f64 * c.scan_cost()).round() as u64,
            _ => b.0,
        };
        update_points.push(SupSpec {
            site,
            full_scan_bytes: scan_bytes(u.full_scan_size),
            delta_scan_bytes: scan_bytes(u.delta_scan_size),
            name: u.name.clone(),
            scan_slots: u.scan_slots,
            queue_limit: u.queue_limit,
            full_scan_time: scan_time(&u.full_scan_time),
            delta_scan_time: scan_time(&u.delta_scan_time),
            susdb,
            wsus_pool,
        });
    }
    let own = update_points.iter_mut().filter(|s| s.susdb == NO_SUSDB);
    for (susdb, sup) in (databases.len()..).zip(own) {
        // Past the servers' limit (refused below) the number is moot.
        sup.susdb = u16::try_from(susdb).unwrap_or(NO_SUSDB);
    }
    // Branch locations and their WAN links.
    let location_names = ck.unique(
        "locations",
        "name",
        raw.locations.iter().map(|l| l.name.as_str()),
    );
    let mut locations = Vec::new();
    for (i, l) in raw.locations.iter().enumerate() {
        let path = format!("locations[{i}].wan_link");
        let bps = l.wan_link.bandwidth.0;
        if !(1_000..=100_000_000_000).contains(&bps) {
            ck.fail(
                format!("{path}.bandwidth"),
                format!(
                    "must be between 1kbps and 100Gbps, got {}",
                    l.wan_link.bandwidth
                ),
            );
        }
        ck.duration(
            &format!("{path}.latency"),
            l.wan_link.latency.0,
            SimDuration::ZERO,
            SimDuration::from_secs(10),
        );
        if let Some(after) = l.dp_fallback {
            ck.duration(
                &format!("locations[{i}].dp_fallback"),
                after.0,
                SimDuration::ZERO,
                SimDuration::from_days(30),
            );
        }
        locations.push(LocationSpec {
            name: l.name.clone(),
            bandwidth_bps: bps,
            latency: l.wan_link.latency.0,
            dp_fallback: l.dp_fallback.map(|d| d.0),
        });
    }
    if raw.locations.len() > MAX_SERVERS {
        ck.fail(
            "locations",
            format!("too many locations; at most {MAX_SERVERS} are allowed"),
        );
    }
    let location_of = |ck: &mut Checker, path: String, name: &Option<String>| {
        name.as_ref().and_then(|n| {
            (ck.lookup(&path, "location", n, &location_names)).map(|l| LocationId(l as u16))
        })
    };
    let mut distribution_points = Vec::new();
    for (i, d) in servers.distribution_points.iter().enumerate() {
        let path = format!("servers.distribution_points[{i}]");
        counts(
            &mut ck,
            format!("{path}.max_connections"),
            d.max_connections,
            1,
            100_000,
        );
        for (field, b) in [("bandwidth", d.bandwidth), ("content_link", d.content_link)] {
            if b.0 < 1_000 {
                ck.fail(
                    format!("{path}.{field}"),
                    format!("must be at least 1kbps, got {b}"),
                );
            }
        }
        let site = site_of(&mut ck, format!("{path}.site"), &d.site);
        let location = location_of(&mut ck, format!("{path}.location"), &d.location);
        if d.default_boundary_group && location.is_some() {
            ck.fail(
                format!("{path}.default_boundary_group"),
                "only a DP at the site can be in the site's default boundary group; remove its `location` or this setting",
            );
        }
        let copy_plan = copy_plan(&mut ck, &path, d);
        if d.prestaged && location.is_none() {
            ck.fail(
                format!("{path}.prestaged"),
                "prestaged content is for a DP in a location, across whose WAN link the site would send it; a DP at the site gets content with the site's; give it a `location` or remove `prestaged`",
            );
        }
        if d.prestaged && (!d.pull_from.is_empty() || copy_plan.is_some()) {
            ck.fail(
                format!("{path}.prestaged"),
                "a DP with prestaged content is sent none, so `pull_from`, `copy_schedule` and `rate_limit` have nothing to act on; remove them or `prestaged`",
            );
        }
        if copy_plan.is_some() && location.is_none() {
            ck.fail(
                format!("{path}.location"),
                "`rate_limit` and `copy_schedule` are for a DP in a location, across whose WAN link the site sends content; give it a `location` or remove them",
            );
        }
        distribution_points.push(DpSpec {
            site,
            name: d.name.clone(),
            bandwidth_bps: d.bandwidth.0,
            max_connections: d.max_connections,
            content_link_bps: d.content_link.0,
            location,
            default_boundary_group: d.default_boundary_group,
            copy_plan,
            pull_from: Vec::new(),
            prestaged: d.prestaged,
        });
    }
    // Pull-distribution points and their sources, once every DP is known.
    for (i, d) in servers.distribution_points.iter().enumerate() {
        let path = format!("servers.distribution_points[{i}]");
        if d.pull_from.is_empty() {
            continue;
        }
        if distribution_points[i].location.is_none() {
            ck.fail(
                format!("{path}.pull_from"),
                "only a DP in a location is a pull-distribution point here: a DP at the site gets content with the site's; give it a `location` or remove `pull_from`",
            );
        }
        if !d.copy_schedule.is_empty() || d.rate_limit != RateLimit::Unlimited {
            ck.fail(
                format!("{path}.pull_from"),
                "a pull-distribution point uses no `copy_schedule` or `rate_limit` (they are the site server's, which sends it nothing); remove them or `pull_from`",
            );
        }
        let mut sources = Vec::new();
        for (j, name) in d.pull_from.iter().enumerate() {
            let at = format!("{path}.pull_from[{j}]");
            let Some(k) = ck.lookup(&at, "distribution point", name, &dps) else {
                continue;
            };
            let source = &distribution_points[k];
            if source.location.is_some() || k == i {
                ck.fail(
                    at,
                    format!(
                        "'{name}' is not a DP at the site: a source must be one, as a location's WAN link joins it to the site and to no other location"
                    ),
                );
            } else if source.site != distribution_points[i].site {
                ck.fail(at, format!("'{name}' is a DP of another site"));
            } else if sources.contains(&DpId(k as u16)) {
                ck.fail(at, format!("'{name}' is already in the list"));
            } else {
                sources.push(DpId(k as u16));
            }
        }
        distribution_points[i].pull_from = sources;
    }
    for (section, what, n) in [
        (
            "servers.management_points",
            "management points",
            servers.management_points.len(),
        ),
        (
            "servers.update_points",
            "update points",
            servers.update_points.len(),
        ),
        (
            "servers.distribution_points",
            "distribution points",
            servers.distribution_points.len(),
        ),
        ("primaries", "primary sites", raw.primaries.len()),
        ("faults", "faults", raw.faults.len()),
    ] {
        if n > MAX_SERVERS {
            ck.fail(
                section,
                format!("too many {what} ({n}); at most {MAX_SERVERS} are allowed"),
            );
        }
    }
    let stations = servers.management_points.len() + servers.update_points.len() + primaries.len();
    if stations > MAX_SERVERS {
        ck.fail(
            "servers",
            format!(
                "{} management points, {} update points and {} state system{} make {stations} \
                 queueing stations; at most {MAX_SERVERS} are allowed",
                servers.management_points.len(),
                servers.update_points.len(),
                primaries.len(),
                if primaries.len() == 1 { "" } else { "s" }
            ),
        );
    }
    let mut faults = Vec::new();
    for (i, f) in raw.faults.iter().enumerate() {
        let path = format!("faults[{i}]");
        // A location's name stands for its WAN link, as in the outputs.
        let link = (raw.locations.iter())
            .position(|l| l.name == f.server)
            .map(|l| ServerRef::Link(LocationId(l as u16)));
        let server = match (all_servers.get(f.server.as_str()), link) {
            (Some(_), Some(_)) => {
                ck.fail(
                    format!("{path}.server"),
                    format!(
                        "'{}' names both a server and a location's WAN link; rename one",
                        f.server
                    ),
                );
                continue;
            }
            (Some(&r), None) | (None, Some(r)) => r,
            (None, None) => {
                let names: Vec<String> = (all_servers.keys().map(|n| n.to_string()))
                    .chain(
                        raw.locations
                            .iter()
                            .map(|l| format!("{} (WAN link)", l.name)),
                    )
                    .collect();
                ck.fail(
                    format!("{path}.server"),
                    format!("unknown server '{}'; known: {}", f.server, names.join(", ")),
                );
                continue;
            }
        };
        let start = ck.instant(&format!("{path}.start"), &f.start, &raw.start, end);
        let stop = ck.instant(&format!("{path}.end"), &f.end, &raw.start, end);
        if stop <= start {
            ck.fail(
                format!("{path}.end"),
                format!("{} must be after start {}", f.end, f.start),
            );
        }
        let slowdown = match f.effect {
            FaultEffect::Down => None,
            FaultEffect::Slow(x) => {
                if !(1.0..=1000.0).contains(&x) {
                    ck.fail(
                        format!("{path}.effect"),
                        format!("a slowdown must be between 1 and 1000, got {x}"),
                    );
                }
                Some(x)
            }
        };
        faults.push(FaultSpec {
            server,
            start,
            end: stop,
            slowdown,
        });
    }
    for (i, a) in faults.iter().enumerate() {
        for b in &faults[..i] {
            if a.server == b.server && a.start < b.end && b.start < a.end {
                ck.fail(
                    format!("faults[{i}]"),
                    "overlaps an earlier fault on the same server; merge them",
                );
            }
        }
    }
    let st = &raw.site;
    counts(
        &mut ck,
        "site.state_system_threads".into(),
        st.state_system_threads,
        1,
        64,
    );
    ck.duration(
        "site.state_system_per_batch",
        st.state_system_per_batch.0,
        SimDuration::ZERO,
        SimDuration::from_mins(1),
    );
    ck.duration(
        "site.state_system_per_message",
        st.state_system_per_message.0,
        SimDuration::ZERO,
        SimDuration::from_mins(1),
    );
    if st.download_bandwidth.0 < 1_000 {
        ck.fail(
            "site.download_bandwidth",
            format!("must be at least 1kbps, got {}", st.download_bandwidth),
        );
    }
    counts(&mut ck, "site.max_packages".into(), st.max_packages, 1, 50);
    counts(
        &mut ck,
        "site.max_threads_per_package".into(),
        st.max_threads_per_package,
        1,
        999,
    );

    // Settings: 0 is the scenario-wide object, then one per cohort that brings its own.
    let mut settings = vec![ck.settings("client_settings", &raw.client_settings)];

    // Cohorts.
    if raw.cohorts.is_empty() {
        ck.fail("cohorts", "needs at least one cohort");
    }
    let cohort_index = ck.unique(
        "cohorts",
        "name",
        raw.cohorts.iter().map(|c| c.name.as_str()),
    );
    let mut cohorts = Vec::new();
    let mut next_client: u64 = 0;
    for (i, c) in raw.cohorts.iter().enumerate() {
        let path = format!("cohorts[{i}]");
        if c.count == 0 || u64::from(c.count) > MAX_CLIENTS {
            ck.fail(
                format!("{path}.count"),
                format!(
                    "must be between 1 and {MAX_CLIENTS}, got {}{}",
                    c.count,
                    if c.count == 0 {
                        "; remove the cohort if it has no clients"
                    } else {
                        ""
                    }
                ),
            );
        }
        if c.link.0 < 1_000 {
            ck.fail(
                format!("{path}.link"),
                format!("must be at least 1kbps, got {}", c.link),
            );
        }
        let power = match &c.power {
            Power::AlwaysOn => PowerSpec::AlwaysOn,
            Power::BusinessHours {
                start,
                end: stop,
                jitter,
            } => {
                if start >= stop {
                    ck.fail(
                        format!("{path}.power"),
                        format!("start ({start}) must be before end ({stop})"),
                    );
                } else if jitter.0.as_ms().saturating_mul(2) >= stop.0.as_ms() - start.0.as_ms() {
                    ck.fail(
                        format!("{path}.power.jitter"),
                        format!(
                            "must be less than half the working day ({start}–{stop}), got {jitter}"
                        ),
                    );
                } else if jitter.0 > start.0 || stop.0 + jitter.0 > day {
                    ck.fail(
                        format!("{path}.power.jitter"),
                        format!("must keep the day within 00:00–24:00 ({start}–{stop} ± {jitter})"),
                    );
                }
                PowerSpec::BusinessHours {
                    start: start.0,
                    end: stop.0,
                    jitter: jitter.0,
                }
            }
            Power::Intermittent { on, off } => {
                let week = SimDuration::from_days(7);
                ck.dist(&format!("{path}.power.on"), on, week);
                ck.dist(&format!("{path}.power.off"), off, week);
                if on.resolve().mean_ms() < 60_000.0 || off.resolve().mean_ms() < 60_000.0 {
                    ck.fail(
                        format!("{path}.power"),
                        "on and off periods must average at least 1m",
                    );
                }
                PowerSpec::Intermittent {
                    on: on.resolve(),
                    off: off.resolve(),
                }
            }
        };
        ck.probability(&format!("{path}.gpo_conflict"), c.gpo_conflict);
        ck.probability(&format!("{path}.fast_startup"), c.fast_startup);
        ck.probability(&format!("{path}.dormant"), c.dormant);
        ck.probability(&format!("{path}.broken_agent"), c.broken_agent);
        ck.probability(&format!("{path}.co_managed"), c.co_managed);
        ck.probability(
            &format!("{path}.scan_error_probability"),
            c.scan_error_probability,
        );
        ck.probability(&format!("{path}.state_message_loss"), c.state_message_loss);
        ck.probability(
            &format!("{path}.failure_probability"),
            c.failure_probability,
        );
        ck.probability(
            &format!("{path}.available_install_share"),
            c.available_install_share,
        );
        ck.dist(
            &format!("{path}.available_install_delay"),
            &c.available_install_delay,
            SimDuration::from_days(60),
        );
        ck.probability(
            &format!("{path}.early_install_share"),
            c.early_install_share,
        );
        ck.dist(
            &format!("{path}.early_install_delay"),
            &c.early_install_delay,
            SimDuration::from_days(60),
        );
        let mut windows = Vec::new();
        for (j, w) in c.maintenance_windows.iter().enumerate() {
            let wpath = format!("{path}.maintenance_windows[{j}]");
            if w.length.0 < SimDuration::from_mins(5) || w.length.0 >= day {
                ck.fail(
                    format!("{wpath}.length"),
                    format!(
                        "must be at least 5m and less than 24h (the maintenance window dialog's limits), got {}",
                        w.length
                    ),
                );
            }
            let (period, offset) = recurring(&mut ck, &wpath, w.recurrence, w.start);
            windows.push(WindowSpec {
                period,
                offset,
                length: w.length.0,
                kind: match w.applies_to {
                    WindowType::AllDeployments => WindowKind::AllDeployments,
                    WindowType::SoftwareUpdates => WindowKind::SoftwareUpdates,
                },
            });
        }
        let scheduled_restart = c.scheduled_restart.as_ref().map(|r| {
            let (period, offset) = recurring(
                &mut ck,
                &format!("{path}.scheduled_restart"),
                r.recurrence,
                r.start,
            );
            RestartScheduleSpec { period, offset }
        });
        let mp = ck
            .lookup(
                &format!("{path}.management_point"),
                "management point",
                &c.management_point,
                &mps,
            )
            .unwrap_or(0);
        let cohort_mps = ck.fallbacks(
            &format!("{path}.fallback_management_points"),
            "management point",
            mp,
            &c.fallback_management_points,
            &mps,
        );
        let sup = ck
            .lookup(
                &format!("{path}.update_point"),
                "update point",
                &c.update_point,
                &sups,
            )
            .unwrap_or(0);
        let cohort_sups: Vec<SupId> = ck
            .fallbacks(
                &format!("{path}.fallback_update_points"),
                "update point",
                sup,
                &c.fallback_update_points,
                &sups,
            )
            .into_iter()
            .map(|s| SupId(s as u16))
            .collect();
        let dp_path = format!("{path}.distribution_point");
        let dp = match (&c.distribution_point, &c.cloud_management_gateway) {
            (Some(name), None) => Some(
                ck.lookup(&dp_path, "distribution point", name, &dps)
                    .unwrap_or(0),
            ),
            (None, None) => {
                ck.fail(
                    dp_path,
                    "needed on the intranet: the name of the distribution point the cohort downloads from",
                );
                Some(0)
            }
            (Some(_), Some(_)) => {
                ck.fail(
                    dp_path,
                    "a cohort behind a cloud management gateway downloads software updates from Microsoft Update, never from a distribution point (\"Internet-based clients always download content from the Microsoft Update cloud service\"); remove the field",
                );
                None
            }
            (None, Some(_)) => None,
        };
        let gateway = (c.cloud_management_gateway.as_ref()).and_then(|name| {
            ck.lookup(
                &format!("{path}.cloud_management_gateway"),
                "cloud management gateway",
                name,
                &cmgs,
            )
            .map(|g| g as u16)
        });
        let location = location_of(&mut ck, format!("{path}.location"), &c.location);
        if location.is_some() && c.cloud_management_gateway.is_some() {
            ck.fail(
                format!("{path}.location"),
                "a cohort behind a cloud management gateway is on the internet, in no location; remove one of the two fields",
            );
        }
        let dp_location = dp
            .and_then(|dp| distribution_points.get(dp))
            .and_then(|d: &DpSpec| d.location);
        let crosses = match (location, dp_location) {
            (Some(a), Some(b)) if a != b => {
                ck.fail(
                    format!("{path}.location"),
                    format!(
                        "the cohort is in location '{}' but its distribution point '{}' is in location '{}'; a download crosses at most one WAN link: use a DP at the site or in '{}'",
                        raw.locations[a.index()].name,
                        c.distribution_point.as_deref().unwrap_or_default(),
                        raw.locations[b.index()].name,
                        raw.locations[a.index()].name,
                    ),
                );
                None
            }
            (a, b) if a == b => None,
            (a, b) => a.or(b),
        };
        let settings_id = match &c.client_settings {
            Some(s) => {
                settings.push(ck.settings(&format!("{path}.client_settings"), s));
                SettingsId((settings.len() - 1) as u16)
            }
            None => SettingsId(0),
        };
        cohorts.push(CohortSpec {
            name: c.name.clone(),
            count: c.count,
            first_client: next_client.min(u64::from(u32::MAX)) as u32,
            power,
            link_bps: c.link.0,
            mp: MpId(mp as u16),
            mp_fallbacks: cohort_mps[1..].iter().map(|&m| MpId(m as u16)).collect(),
            sups: cohort_sups,
            dp: dp.map(|dp| DpId(dp as u16)),
            gateway,
            location,
            crosses,
            settings: settings_id,
            site: management_points
                .get(mp)
                .map_or(SiteId(0), |m: &MpSpec| m.site),
            kind: c.kind.resolve(),
            gpo_conflict: c.gpo_conflict,
            fast_startup: c.fast_startup,
            dormant: c.dormant,
            broken_agent: c.broken_agent,
            co_managed: c.co_managed,
            scan_error_probability: c.scan_error_probability,
            state_message_loss: c.state_message_loss,
            windows,
            scheduled_restart,
            failure_probability: c.failure_probability,
            available_install_share: c.available_install_share,
            available_install_delay: c.available_install_delay.resolve(),
            early_install_share: c.early_install_share,
            early_install_delay: c.early_install_delay.resolve(),
            content: content_sources(&mut ck, &path, c),
        });
        next_client += u64::from(c.count);
    }
    // Each cohort lives in one primary site: its servers must all be there.
    for (i, c) in cohorts.iter().enumerate() {
        let site = c.site;
        let code = |s: SiteId| primaries[s.index()].code.clone();
        let mut check = |what: &str, name: &str, s: SiteId| {
            if s != site {
                ck.fail(
                    format!("cohorts[{i}]"),
                    format!(
                        "{what} '{name}' is in site {} but the cohort's management point is in {}; a cohort's servers must share a primary site",
                        code(s),
                        code(site)
                    ),
                );
            }
        };
        for sup in &c.sups {
            if let Some(u) = update_points.get(sup.index()) {
                check("update point", &u.name, u.site);
            }
        }
        for mp in &c.mp_fallbacks {
            if let Some(m) = management_points.get(mp.index()) {
                check("management point", &m.name, m.site);
            }
        }
        if let Some(d) = c.dp.and_then(|dp| distribution_points.get(dp.index())) {
            check("distribution point", &d.name, d.site);
        }
        primaries[site.index()].clients = primaries[site.index()].clients.saturating_add(c.count);
    }
    // Every simulated client is a Windows computer: a standalone primary
    // supports 175,000 devices of which at most 150,000 Windows, a child
    // primary 150,000 devices in all.
    let per_primary = 150_000;
    for (i, p) in primaries.iter().enumerate() {
        if p.clients > per_primary {
            let path = if hierarchy {
                format!("primaries[{i}]")
            } else {
                "cohorts".to_string()
            };
            ck.fail(
                path,
                format!(
                    "site {} manages {} clients; a primary site supports at most {per_primary} Windows clients{}",
                    p.code,
                    p.clients,
                    if hierarchy {
                        ""
                    } else {
                        " (a standalone site's 175,000 devices include at most 150,000 Windows): add `primaries` under a central administration site"
                    }
                ),
            );
        }
    }
    if next_client > MAX_CLIENTS {
        ck.fail(
            "cohorts",
            format!("hold {next_client} clients in all; at most {MAX_CLIENTS} are allowed"),
        );
    }
    if raw.cohorts.len() > usize::from(u16::MAX) {
        ck.fail("cohorts", "too many cohorts (at most 65535)");
    }

    // Updates.
    let update_index = ck.unique("updates", "id", raw.updates.iter().map(|u| u.id.as_str()));
    let mut updates = Vec::new();
    for (i, u) in raw.updates.iter().enumerate() {
        let path = format!("updates[{i}]");
        if u.size.0 == 0 || u.size.0 > 1_000_000_000_000 {
            ck.fail(
                format!("{path}.size"),
                format!("must be between 1B and 1TB, got {}", u.size),
            );
        }
        ck.probability(&format!("{path}.applicability"), u.applicability);
        ck.probability(
            &format!("{path}.restart_probability"),
            u.restart_probability,
        );
        ck.probability(
            &format!("{path}.failure_probability"),
            u.failure_probability,
        );
        ck.dist(&format!("{path}.install_time"), &u.install_time, day);
        let max_run_time = u
            .max_run_time
            .map_or(u.classification.default_max_run_time(), |d| d.0);
        ck.duration(
            &format!("{path}.max_run_time"),
            max_run_time,
            SimDuration::from_mins(1),
            day,
        );
        let release = u.release.as_ref().and_then(|t| {
            let ms = t.ms_since(&raw.start);
            (ms > 0).then_some(SimTime(ms as u64))
        });
        if let Some(express) = u.express_size
            && (express.0 == 0 || express.0 > u.size.0)
        {
            ck.fail(
                format!("{path}.express_size"),
                format!(
                    "must be between 1B and the update's size ({}), got {express}",
                    u.size
                ),
            );
        }
        updates.push(UpdateSpec {
            id: u.id.clone(),
            size_bytes: u.size.0,
            release,
            applicability: u.applicability,
            install_time: u.install_time.resolve(),
            max_run_time,
            restart_probability: u.restart_probability,
            failure_probability: u.failure_probability,
            express_bytes: u.express_size.map(|b| b.0),
            supersedes: Vec::new(),
        });
    }
    // Supersedence: a newer update supersedes older ones.
    for (i, u) in raw.updates.iter().enumerate() {
        let mut superseded: Vec<UpdateId> = Vec::new();
        for (j, id) in u.supersedes.iter().enumerate() {
            let path = format!("updates[{i}].supersedes[{j}]");
            let Some(k) = ck.lookup(&path, "update", id, &update_index) else {
                continue;
            };
            let s = UpdateId(k as u16);
            if k == i {
                ck.fail(path, format!("update '{id}' cannot supersede itself"));
            } else if superseded.contains(&s) {
                ck.fail(path, format!("update '{id}' is listed twice"));
            } else if updates[k].release.unwrap_or(SimTime::ZERO)
                > updates[i].release.unwrap_or(SimTime::ZERO)
            {
                ck.fail(
                    path,
                    format!(
                        "update '{id}' is released after '{}', which cannot supersede it: an update supersedes older ones",
                        u.id
                    ),
                );
            } else if raw.updates[k].supersedes.contains(&u.id) {
                ck.fail(
                    path,
                    format!("updates '{}' and '{id}' supersede each other", u.id),
                );
            } else {
                superseded.push(s);
            }
        }
        if let Some(spec) = updates.get_mut(i) {
            spec.supersedes = superseded;
        }
    }

    // Deployments.
    let deployment_index = ck.unique(
        "deployments",
        "name",
        raw.deployments.iter().map(|d| d.name.as_str()),
    );
    // A phase is a deployment of its own: its name is unique among them all.
    let mut phase_names: BTreeMap<&str, String> = BTreeMap::new();
    for (i, d) in raw.deployments.iter().enumerate() {
        for (j, phase) in d.phases.iter().enumerate() {
            let path = format!("deployments[{i}].phases[{j}].name");
            ck.name(&path, &phase.name);
            let taken = (deployment_index.get(phase.name.as_str()))
                .map(|k| format!("deployments[{k}]"))
                .or_else(|| phase_names.get(phase.name.as_str()).cloned());
            if let Some(first) = taken {
                ck.fail(
                    path.clone(),
                    format!(
                        "'{}' is already used by {first}; a phase is a deployment of its own and its name must be unique, rename one of them",
                        clipped(&phase.name)
                    ),
                );
            } else {
                phase_names.insert(&phase.name, path.trim_end_matches(".name").to_string());
            }
        }
    }
    let resolve_targets = |ck: &mut Checker, path: &str, names: &[String]| {
        let mut targets: Vec<CohortId> = Vec::new();
        for (j, name) in names.iter().enumerate() {
            let Some(c) = ck.lookup(
                &format!("{path}.targets[{j}]"),
                "cohort",
                name,
                &cohort_index,
            ) else {
                continue;
            };
            let c = CohortId(c as u16);
            if targets.contains(&c) {
                ck.fail(
                    format!("{path}.targets[{j}]"),
                    format!("cohort '{name}' is listed twice"),
                );
            }
            targets.push(c);
        }
        targets
    };
    // Software update groups: each deployment of one deploys its updates.
    let group_index = ck.unique(
        "update_groups",
        "name",
        raw.update_groups.iter().map(|g| g.name.as_str()),
    );
    let mut group_updates: Vec<Vec<UpdateId>> = Vec::new();
    for (k, g) in raw.update_groups.iter().enumerate() {
        let path = format!("update_groups[{k}]");
        if g.updates.is_empty() {
            ck.fail(format!("{path}.updates"), "must list at least one update");
        }
        let mut ups: Vec<UpdateId> = Vec::new();
        for (j, id) in g.updates.iter().enumerate() {
            let Some(u) = ck.lookup(&format!("{path}.updates[{j}]"), "update", id, &update_index)
            else {
                continue;
            };
            if raw.updates[u].classification == Classification::FeatureUpgrade {
                ck.fail(
                    format!("{path}.updates[{j}]"),
                    format!(
                        "update '{id}' is a feature update, which a software update group cannot hold; deploy it with `updates`"
                    ),
                );
            }
            let u = UpdateId(u as u16);
            if ups.contains(&u) {
                ck.fail(
                    format!("{path}.updates[{j}]"),
                    format!("update '{id}' is listed twice"),
                );
            }
            ups.push(u);
        }
        group_updates.push(ups);
    }
    let mut deployments: Vec<DeploymentSpec> = Vec::new();
    for (i, d) in raw.deployments.iter().enumerate() {
        let path = format!("deployments[{i}]");
        if d.group.is_some() {
            if !d.updates.is_empty() {
                ck.fail(
                    format!("{path}.group"),
                    "give either `updates` or `group`, not both",
                );
            }
        } else if d.updates.is_empty() {
            ck.fail(format!("{path}.updates"), "must list at least one update");
        }
        if d.targets.is_empty() {
            ck.fail(format!("{path}.targets"), "must list at least one cohort");
        }
        let mut ups: Vec<UpdateId> = Vec::new();
        if let Some(group) = &d.group {
            if let Some(k) = ck.lookup(
                &format!("{path}.group"),
                "update group",
                group,
                &group_index,
            ) {
                ups = group_updates[k].clone();
            }
        }
        for (j, id) in d.updates.iter().enumerate() {
            let Some(u) = ck.lookup(&format!("{path}.updates[{j}]"), "update", id, &update_index)
            else {
                continue;
            };
            let u = UpdateId(u as u16);
            if ups.contains(&u) {
                ck.fail(
                    format!("{path}.updates[{j}]"),
                    format!("update '{id}' is listed twice"),
                );
            }
            ups.push(u);
        }
        // A client downloads a deployment's updates as one transfer, counted
        // in millibits in 64 bits (see `model::distribution_point`).
        let total: u64 = ups
            .iter()
            .filter_map(|u| updates.get(u.index()).map(|x: &UpdateSpec| x.size_bytes))
            .sum();
        if total > MAX_DEPLOYMENT_BYTES {
            ck.fail(
                format!("{path}.updates"),
                format!("must add up to at most 1PB, got {total} bytes"),
            );
        }
        let targets = resolve_targets(&mut ck, &path, &d.targets);
        let problems_before = ck.problems.len();
        let created = ck.instant(&format!("{path}.created"), &d.created, &raw.start, end);
        let created_ok = ck.problems.len() == problems_before;
        let available = match &d.available {
            Some(t) => ck.instant(&format!("{path}.available"), t, &raw.start, end),
            None => created,
        };
        if available < created {
            ck.fail(format!("{path}.available"), "must not be before created");
        }
        let deadline = match &d.deadline {
            Some(t) => {
                let ms = t.ms_since(&raw.start);
                if ms < 0 {
                    SimTime::ZERO
                } else {
                    SimTime(ms as u64)
                }
            }
            None => available,
        };
        if deadline < available {
            ck.fail(
                format!("{path}.deadline"),
                format!(
                    "{} is before the available time {}; a deadline must be at or after it",
                    d.deadline
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default(),
                    d.available.as_ref().unwrap_or(&d.created)
                ),
            );
        }
        // Its updates, listed or its group's.
        for (j, u) in ups.iter().map(|u| u.index()).enumerate() {
            if let Some(release) = updates.get(u).and_then(|x| x.release)
                && created_ok
                && release > created
            {
                ck.fail(
                    match &d.group {
                        Some(_) => format!("{path}.group"),
                        None => format!("{path}.updates[{j}]"),
                    },
                    format!(
                        "update '{}' is released at {} after the deployment is created at {}; create the deployment after the release, or release the update earlier",
                        raw.updates[u].id,
                        raw.updates[u].release.as_ref().map(ToString::to_string).unwrap_or_default(),
                        d.created
                    ),
                );
            }
        }
        if d.purpose == Purpose::Available && d.deadline.is_some() {
            ck.fail(format!("{path}.deadline"), "an Available deployment has no deadline; remove it or make the deployment Required");
        }
        let first = DeploymentSpec {
            name: d.name.clone(),
            updates: ups,
            targets,
            created,
            available,
            deadline,
            purpose: d.purpose.resolve(),
            honor_maintenance_windows: d.honor_maintenance_windows,
            restart_outside_windows: d.restart_outside_windows,
            suppress_restart_workstations: d.suppress_restart.contains(&ClientKind::Workstation),
            suppress_restart_servers: d.suppress_restart.contains(&ClientKind::Server),
            microsoft_update_fallback: d.microsoft_update_fallback,
            distribution_priority: d.distribution_priority,
            gradually_over: gradually(&mut ck, &format!("{path}.gradually_over"), d.gradually_over),
            suspensions: suspensions(&mut ck, &path, d, created, &raw.start),
            phase: None,
            next_phase: None,
            rule: None,
        };
        if d.phases.is_empty() && d.gradually_over.0 > SimDuration::ZERO {
            ck.fail(
                format!("{path}.gradually_over"),
                "only a phased deployment makes its software available gradually; add `phases`, or remove it",
            );
        }
        if d.phases.len() > 10 {
            ck.fail(
                format!("{path}.phases"),
                format!(
                    "a phased deployment has at most 10 phases after the first, got {}",
                    d.phases.len()
                ),
            );
        }
        let mut previous = deployments.len();
        let first_id = DeploymentId(previous as u16);
        deployments.push(first.clone());
        for (j, phase) in d.phases.iter().enumerate() {
            let path = format!("{path}.phases[{j}]");
            if phase.targets.is_empty() {
                ck.fail(format!("{path}.targets"), "must list at least one cohort");
            }
            let targets = resolve_targets(&mut ck, &path, &phase.targets);
            if !(1..=100).contains(&phase.success_percent) {
                ck.fail(
                    format!("{path}.success_percent"),
                    format!(
                        "must be a whole percent between 1 and 100, got {}",
                        phase.success_percent
                    ),
                );
            }
            let year = SimDuration::from_days(365);
            let begin = match &phase.begin {
                PhaseBegin::AfterSuccess(wait) => {
                    ck.duration(&format!("{path}.begin"), wait.0, SimDuration::ZERO, year);
                    PhaseStart::AfterSuccess(wait.0)
                }
                PhaseBegin::Manual(t) => {
                    let at = ck.instant(&format!("{path}.begin"), t, &raw.start, end);
                    if at < created {
                        ck.fail(
                            format!("{path}.begin"),
                            format!(
                                "{t} is before the phased deployment is created ({}); a phase begins at or after it",
                                d.created
                            ),
                        );
                    }
                    PhaseStart::Manual(at)
                }
            };
            ck.duration(
                &format!("{path}.deadline_after"),
                phase.deadline_after.0,
                SimDuration::ZERO,
                year,
            );
            if let Some(n) = phase.success_devices {
                let clients: u32 = (deployments[previous].targets.iter())
                    .map(|k| raw.cohorts.get(k.index()).map_or(0, |c| c.count))
                    .sum();
                if !(1..=clients.max(1)).contains(&n) {
                    ck.fail(
                        format!("{path}.success_devices"),
                        format!(
                            "must be from 1 to {clients} (the clients the phase before it targets), got {n}"
                        ),
                    );
                }
            }
            let id = DeploymentId(deployments.len() as u16);
            deployments[previous].next_phase = Some(id);
            let before = DeploymentId(previous as u16);
            previous = id.index();
            deployments.push(DeploymentSpec {
                name: phase.name.clone(),
                targets,
                created: SimTime::MAX,
                available: SimTime::MAX,
                deadline: SimTime::MAX,
                phase: Some(PhaseSpec {
                    number: j as u32 + 2,
                    previous: before,
                    first: first_id,
                    content_from: created,
                    begin,
                    success_percent: phase.success_percent,
                    success_devices: phase.success_devices,
                    deadline_after: phase.deadline_after.0,
                }),
                gradually_over: gradually(
                    &mut ck,
                    &format!("{path}.gradually_over"),
                    phase.gradually_over,
                ),
                suspensions: Vec::new(),
                ..first.clone()
            });
        }
    }
    // Automatic deployment rules: each run that finds updates fills the
    // next of its deployments, declared here without updates or times.
    ck.unique(
        "automatic_deployment_rules",
        "name",
        raw.automatic_deployment_rules
            .iter()
            .map(|r| r.name.as_str()),
    );
    let mut rules: Vec<RuleSpec> = Vec::new();
    // Every name a rule may give a deployment, and the first rule to give it.
    let mut rule_names: BTreeMap<String, usize> = BTreeMap::new();
    for (i, r) in raw.automatic_deployment_rules.iter().enumerate() {
        let path = format!("automatic_deployment_rules[{i}]");
        let year = SimDuration::from_days(365);
        if r.targets.is_empty() {
            ck.fail(format!("{path}.targets"), "must list at least one cohort");
        }
        let targets = resolve_targets(&mut ck, &path, &r.targets);
        for (j, class) in r.classifications.iter().enumerate() {
            if *class == Classification::FeatureUpgrade {
                ck.fail(
                    format!("{path}.classifications[{j}]"),
                    "a software update group cannot hold a feature update; deploy it with a deployment's `updates`",
                );
            }
        }
        if let Some(within) = &r.released_within {
            ck.duration(
                &format!("{path}.released_within"),
                within.0,
                SimDuration::from_hours(1),
                year,
            );
        }
        ck.duration(
            &format!("{path}.available_after"),
            r.available_after.0,
            SimDuration::ZERO,
            year,
        );
        ck.duration(
            &format!("{path}.deadline_after"),
            r.deadline_after.0,
            SimDuration::ZERO,
            year,
        );
        // Every update it could ever pick: its classifications, never a
        // feature update.
        let candidates: Vec<UpdateId> = (raw.updates.iter().enumerate())
            .filter(|(_, u)| {
                u.classification != Classification::FeatureUpgrade
                    && (r.classifications.is_empty()
                        || r.classifications.contains(&u.classification))
            })
            .map(|(k, _)| UpdateId(k as u16))
            .collect();
        if candidates.is_empty() {
            ck.fail(
                format!("{path}.classifications"),
                "no update in the catalog has these classifications, so the rule can never deploy anything",
            );
        }
        // Its runs: at the end of each successful sync (at most one per
        // sync trigger), or on its schedule.
        // How many times `every` fits from `first` to the end.
        let fits = |first: SimTime, every: SimDuration| {
            let span = end.as_ms().saturating_sub(first.as_ms());
            span.div_ceil(every.as_ms().max(1)) as usize
        };
        let schedule = match &r.run {
            RuleRun::AfterSync => None,
            RuleRun::Schedule { first, every } => {
                let first = ck.instant(&format!("{path}.run.first"), first, &raw.start, end);
                ck.duration(
                    &format!("{path}.run.every"),
                    every.0,
                    SimDuration::from_hours(1),
                    year,
                );
                let every = every.0.max(SimDuration::from_hours(1));
                Some(
                    (0..fits(first, every) as u64)
                        .map(|k| first + SimDuration(k * every.as_ms()))
                        .collect::<Vec<_>>(),
                )
            }
        };
        let runs = match &schedule {
            Some(times) => times.len(),
            // At most one a sync trigger.
            None => {
                let interval = raw.sync.schedule_interval.0.max(SimDuration::from_mins(1));
                fits(first_scheduled, interval) + raw.sync.manual.len()
            }
        };
        let slots = match r.group {
            RuleGroup::NewGroup => runs,
            RuleGroup::ExistingGroup => runs.min(1),
        };
        if slots > MAX_RULE_GROUPS {
            ck.fail(
                format!("{path}.group"),
                format!(
                    "a rule that makes a new group each run may run at most {MAX_RULE_GROUPS} times in a run, and this one can run {runs} times; run it less often or use ExistingGroup"
                ),
            );
        }
        let mut rule = RuleSpec {
            name: r.name.clone(),
            schedule,
            released_within: r.released_within.as_ref().map(|w| w.0),
            released: candidates
                .iter()
                .map(|u| match &raw.updates[u.index()].release {
                    Some(t) => t.ms_since(&raw.start),
                    None => i64::MIN,
                })
                .collect(),
            superseded: r.superseded,
            existing_group: r.group == RuleGroup::ExistingGroup,
            available_after: r.available_after.0,
            deadline_after: match r.purpose {
                Purpose::Required => r.deadline_after.0,
                Purpose::Available => SimDuration::ZERO,
            },
            deployments: Vec::new(),
        };
        let mut collided = false;
        for k in 0..slots.min(MAX_RULE_GROUPS) {
            let name = match r.group {
                RuleGroup::NewGroup => format!("{} #{}", r.name, k + 1),
                RuleGroup::ExistingGroup => r.name.clone(),
            };
            if !collided {
                let other = if deployment_index.contains_key(name.as_str())
                    || phase_names.contains_key(name.as_str())
                {
                    Some("another deployment".to_string())
                } else {
                    // Two rules of the same name are reported once, above.
                    (rule_names.get(&name))
                        .filter(|&&j| j != i && raw.automatic_deployment_rules[j].name != r.name)
                        .map(|j| {
                            format!(
                                "a deployment of automatic_deployment_rules[{j}] ('{}')",
                                clipped(&raw.automatic_deployment_rules[*j].name)
                            )
                        })
                };
                if let Some(other) = other {
                    collided = true;
                    ck.fail(
                        format!("{path}.name"),
                        format!(
                            "its deployment '{}' would take the name of {other}; rename the rule",
                            clipped(&name)
                        ),
                    );
                }
            }
            rule_names.entry(name.clone()).or_insert(i);
            rule.deployments
                .push(DeploymentId(deployments.len() as u16));
            deployments.push(DeploymentSpec {
                name,
                updates: candidates.clone(),
                targets: targets.clone(),
                created: SimTime::MAX,
                available: SimTime::MAX,
                deadline: SimTime::MAX,
                phase: None,
                next_phase: None,
                rule: Some(rules.len() as u16),
                purpose: r.purpose.resolve(),
                honor_maintenance_windows: r.honor_maintenance_windows,
                restart_outside_windows: r.restart_outside_windows,
                suppress_restart_workstations: r
                    .suppress_restart
                    .contains(&ClientKind::Workstation),
                suppress_restart_servers: r.suppress_restart.contains(&ClientKind::Server),
                microsoft_update_fallback: r.microsoft_update_fallback,
                distribution_priority: r.distribution_priority,
                gradually_over: SimDuration::ZERO,
                suspensions: Vec::new(),
            });
        }
        rules.push(rule);
    }
    if raw.updates.len() > 4096 {
        ck.fail("updates", "too many updates (at most 4096)");
    }
    if deployments.len() > 1024 {
        ck.fail(
            "deployments",
            "too many deployments (at most 1024, counting each phase of a phased deployment)",
        );
    }

    if !ck.problems.is_empty() {
        // Name the entries of named lists (`cohorts[16] (servers).kind`).
        if let Ok(tree) = serde_json::to_value(&raw) {
            for p in &mut ck.problems {
                p.path = named_path(&p.path, &tree);
            }
        }
        return Err(ck.problems);
    }

    let text = resolved_text(&raw);
    let digest = Sha256::digest(text.as_bytes());
    let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    let local = raw.start.0.naive_local();
    let week_offset = SimDuration::from_ms(
        u64::from(local.weekday().num_days_from_monday()) * 86_400_000
            + u64::from(local.num_seconds_from_midnight()) * 1_000
            + u64::from(local.nanosecond() / 1_000_000),
    );
    let mut sync = sync;
    // A standalone site syncs through its first SUP (WSyncMgr syncs the
    // site's first SUP, the others are its replicas); a CAS's SUP is not
    // one of the scenario's servers.
    sync.top_update_point = (!hierarchy && !update_points.is_empty()).then_some(SupId(0));
    Ok(Estate {
        hash,
        seed: raw.seed,
        duration: raw.duration.0,
        sample_interval: raw.sample_interval.0,
        busy_threshold_pct: raw.busy_threshold_pct,
        week_offset,
        site: SiteSpec {
            content_ready_delay: raw.site.content_ready_delay.resolve(),
            mp_forward_delay: raw.site.mp_forward_delay.0,
            state_system_delay: raw.site.state_system_delay.0,
            state_system_threads: raw.site.state_system_threads,
            state_system_per_batch: raw.site.state_system_per_batch.0,
            state_system_per_message: raw.site.state_system_per_message.0,
            download_bandwidth_bps: raw.site.download_bandwidth.0,
            copy_threads: raw.site.max_packages * raw.site.max_threads_per_package,
            resync_min_missing_age: raw.site.resync_min_missing_age.0,
            resync_check_interval: raw.site.resync_check_interval.0,
        },
        sync,
        primaries,
        hierarchy,
        management_points,
        update_points,
        distribution_points,
        locations,
        faults,
        settings,
        cohorts,
        updates,
        deployments,
        rules,
        gateways,
        source: Source {
            description: raw.description.clone(),
            start: raw.start.0,
            site_code: raw.site.code.clone(),
            text,
            name: raw.name,
        },
    })
}

/// Checks a cohort's `content_sources` and resolves them.
fn content_sources(ck: &mut Checker, path: &str, c: &Cohort) -> ContentSpec {
    let k = &c.content_sources;
    let path = format!("{path}.content_sources");
    for (field, share) in [
        ("peer_cache", k.peer_cache),
        ("branch_cache", k.branch_cache),
        ("delivery_optimization", k.delivery_optimization),
        ("express", k.express),
    ] {
        ck.probability(&format!("{path}.{field}"), share);
    }
    if k.branch_cache + k.delivery_optimization > 1.0 {
        ck.fail(
            format!("{path}.delivery_optimization"),
            format!(
                "branch_cache and delivery_optimization are shares of the same bytes and must add up to at most 1, got {} + {}",
                k.branch_cache, k.delivery_optimization
            ),
        );
    }
    // Left out, it is the cohort's link, which is checked as `link`.
    if let Some(peer_link) = k.peer_link
        && peer_link.0 < 1_000
    {
        ck.fail(
            format!("{path}.peer_link"),
            format!("must be at least 1kbps, got {peer_link}"),
        );
    }
    let peer_link = k.peer_link.unwrap_or(c.link);
    if let Some(size) = k.cache_size
        && size.0 < 1_000_000
    {
        ck.fail(
            format!("{path}.cache_size"),
            format!("must be at least 1MB, got {size}"),
        );
    }
    ContentSpec {
        cache_bytes: k.cache_size.map(|b| b.0),
        peer_cache: k.peer_cache,
        peer_link_bps: peer_link.0,
        branch_cache: k.branch_cache,
        delivery_optimization: k.delivery_optimization,
        express: k.express,
    }
}

/// A DP's `rate_limit` and `copy_schedule`, checked, as one plan (`None`:
/// unlimited and always open).
fn copy_plan(ck: &mut Checker, path: &str, d: &DistributionPoint) -> Option<CopyPlan> {
    let open = CopyPlan {
        lowest: [Some(DistributionPriority::Low); 168],
        percent: [100; 24],
        pulse_bps: None,
    };
    let mut plan = open.clone();
    let hours = |ck: &mut Checker, path: &str, from: u32, to: u32| {
        if from > 23 || to > 24 || to <= from {
            ck.fail(
                path.to_string(),
                format!(
                    "hours must run from `from` (0–23) to a later `to` (1–24), got {from} to {to}"
                ),
            );
            return None;
        }
        Some(from as usize..to as usize)
    };
    match &d.rate_limit {
        RateLimit::Unlimited => {}
        RateLimit::PulseMode { block, delay } => {
            if !(1_000..=256_000).contains(&block.0) {
                ck.fail(
                    format!("{path}.rate_limit.block"),
                    format!("must be from 1KB to 256KB, got {block}"),
                );
            }
            let ms = delay.0.as_ms();
            if !(1_000..=30_000).contains(&ms) {
                ck.fail(
                    format!("{path}.rate_limit.delay"),
                    format!("must be from 1s to 30s, got {delay}"),
                );
            }
            plan.pulse_bps = Some((block.0 * 8 * 1_000 / ms.max(1)).max(1));
        }
        RateLimit::Hourly(limits) => {
            for (i, l) in limits.iter().enumerate() {
                let at = format!("{path}.rate_limit[{i}]");
                if !(1..=100).contains(&l.percent) {
                    ck.fail(
                        format!("{at}.percent"),
                        format!("must be from 1 to 100, got {}", l.percent),
                    );
                }
                for h in hours(ck, &at, l.from, l.to).into_iter().flatten() {
                    plan.percent[h] = plan.percent[h].min(l.percent.clamp(1, 100) as u8);
                }
            }
        }
    }
    for (i, c) in d.copy_schedule.iter().enumerate() {
        let at = format!("{path}.copy_schedule[{i}]");
        if c.days.is_empty() {
            ck.fail(format!("{at}.days"), "name at least one day");
        }
        let lowest = match c.availability {
            Availability::MediumAndHigh => Some(DistributionPriority::Medium),
            Availability::HighOnly => Some(DistributionPriority::High),
            Availability::Closed => None,
        };
        for h in hours(ck, &at, c.from, c.to).into_iter().flatten() {
            for day in &c.days {
                let cell = &mut plan.lowest[day.index() as usize * 24 + h];
                // Where two entries overlap, the stricter holds.
                *cell = match (*cell, lowest) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
        }
    }
    (plan != open).then_some(plan)
}

/// A SUP's WSUS application pool, checked, its memory scaled to the
/// catalog (as scan times are).
fn wsus_pool(
    ck: &mut Checker,
    path: &str,
    pool: &WsusPool,
    catalog: Option<&CatalogSpec>,
) -> WsusPoolSpec {
    const TB: u64 = 1_000_000_000_000;
    for (field, value) in [
        ("private_memory_limit", pool.private_memory_limit),
        ("cache", pool.cache),
        ("full_scan", pool.full_scan),
        ("delta_scan", pool.delta_scan),
    ] {
        if value.0 > TB {
            ck.fail(
                format!("{path}.{field}"),
                format!("must be from 0B to 1TB, got {value}"),
            );
        }
    }
    ck.duration(
        &format!("{path}.restart"),
        pool.restart.0,
        SimDuration::from_secs(1),
        SimDuration::from_hours(1),
    );
    let cost = catalog.map_or(1.0, |c| c.scan_cost());
    let scaled = |b: Bytes| (b.0 as f64 * cost).round() as u64;
    WsusPoolSpec {
        limit: (pool.private_memory_limit.0 > 0).then_some(pool.private_memory_limit.0),
        cache: scaled(pool.cache),
        full_scan: scaled(pool.full_scan),
        delta_scan: scaled(pool.delta_scan),
        restart: pool.restart.0,
    }
}

/// A phase's "Gradually make this software available over this period of
/// time", checked: at most 30 days, as Microsoft advises.
/// A phased deployment's suspensions: each at or after its creation, each
/// resume after its suspension, each suspension after the resume before
/// it, and only the last one left suspended to the end.
fn suspensions(
    ck: &mut Checker,
    path: &str,
    d: &super::schema::Deployment,
    created: SimTime,
    start: &Timestamp,
) -> Vec<(SimTime, SimTime)> {
    if d.suspensions.is_empty() {
        return Vec::new();
    }
    if d.phases.is_empty() {
        ck.fail(
            format!("{path}.suspensions"),
            "only a phased deployment is suspended and resumed; add `phases`, or remove it",
        );
    }
    let mut list = Vec::with_capacity(d.suspensions.len());
    let mut after = created;
    for (i, s) in d.suspensions.iter().enumerate() {
        let path = format!("{path}.suspensions[{i}]");
        let at = ck.instant(&format!("{path}.at"), &s.at, start, SimDuration::ZERO);
        if at < after {
            let what = if i == 0 {
                format!("the phased deployment is created ({})", d.created)
            } else {
                "the resume before it".to_string()
            };
            ck.fail(
                format!("{path}.at"),
                format!("{} is before {what}; a suspension comes after it", s.at),
            );
        }
        let resume = match &s.resume {
            Some(t) => {
                let resume = ck.instant(&format!("{path}.resume"), t, start, SimDuration::ZERO);
                if resume <= at {
                    ck.fail(
                        format!("{path}.resume"),
                        format!(
                            "{t} is not after the suspension ({}); a resume comes after it",
                            s.at
                        ),
                    );
                }
                resume
            }
            None if i + 1 < d.suspensions.len() => {
                ck.fail(
                    format!("{path}.resume"),
                    "only the last suspension may last to the end; give this one a resume",
                );
                SimTime::MAX
            }
            None => SimTime::MAX,
        };
        after = resume;
        list.push((at, resume));
    }
    list
}

fn gradually(ck: &mut Checker, path: &str, over: Dur) -> SimDuration {
    ck.duration(path, over.0, SimDuration::ZERO, SimDuration::from_days(30));
    over.0
}

/// A control character (`Cc`), a line or paragraph separator, or an
/// invisible format character (`Cf`: zero-width spaces and joiners, marks
/// and overrides of text direction, the byte-order mark, ...).
pub(crate) fn unprintable(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{0600}'..='\u{0605}'
                | '\u{061C}'
                | '\u{06DD}'
                | '\u{070F}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08E2}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{110BD}'
                | '\u{110CD}'
                | '\u{13430}'..='\u{1343F}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0001}'
                | '\u{E0020}'..='\u{E007F}'
        )
}

#[cfg(test)]
mod tests {
    use super::named_path;

    #[test]
    fn named_lists_give_their_entries_names() {
        let tree = serde_json::json!({
            "cohorts": [{"name": "desktops"}, {"name": "servers", "kind": "Server"}],
            "servers": {"update_points": [{"name": "sup01"}]},
            "updates": [{"id": "KB1"}],
            "deployments": [{"name": "d", "updates": ["KB1"],
                             "phases": [{"name": "pilot"}]}],
            "sync": {"manual": ["2026-11-10T19:00:00+01:00"]},
        });
        let cases = [
            ("cohorts[1].kind", "cohorts[1] (servers).kind"),
            ("cohorts[1]", "cohorts[1] (servers)"),
            (
                "servers.update_points[0].scan_slots",
                "servers.update_points[0] (sup01).scan_slots",
            ),
            ("updates[0].size", "updates[0] (KB1).size"),
            ("deployments[0].updates[0]", "deployments[0] (d).updates[0]"),
            (
                "deployments[0].phases[0].name",
                "deployments[0] (d).phases[0] (pilot).name",
            ),
            ("sync.manual[0]", "sync.manual[0]"),
            ("cohorts[7].count", "cohorts[7].count"),
            ("servers.management_points", "servers.management_points"),
            ("name", "name"),
            ("cohorts[].count", "cohorts[].count"),
        ];
        for (path, want) in cases {
            assert_eq!(named_path(path, &tree), want, "{path}");
        }
    }
}
