//! `--check`: the model's laws (docs/model.md, "Laws every run obeys"),
//! verified while a run goes.
//!
//! Owns [`LawChecker`], an independent oracle fed every trace record in time
//! order. It keeps just enough per client to catch the first record that
//! breaks law 3 (causality), 5 (batching), 6 (offline), 7 (deadlines) or 9
//! (sync), and at the end checks the outcome's timelines and the DPs' bytes
//! for law 2 (conservation) and law 3 (nothing reported ahead of the
//! truth). It reads records and the outcome and never changes the run. Law
//! 1 (determinism) needs two runs and law 4 (polling) is statistical: the
//! tests check those.
//! Law 8 (capacity) is asserted where it is kept, at every station and DP.

use std::collections::VecDeque;
use std::fmt;

use crate::engine::{SimDuration, SimTime};
use crate::estate::{ClientId, DeploymentId, Estate, PowerSpec, Purpose, UpdateId};
use crate::model::{
    Compliance, Outcome, Schedule, ServerRole, TOPIC_DETECTION, TraceEvent, TraceRecord,
};

/// A law of the model that the checker verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Law {
    /// 2: the states add up to the targeted clients, true and reported.
    Conservation,
    /// 3: nothing is reported before it is true, nor before its batch
    /// could reach the site.
    Causality,
    /// 5: at most one batch per reporting cycle (besides one within two
    /// minutes of each install), never an empty one.
    Batching,
    /// 6: an offline client does nothing.
    Offline,
    /// 7: Required installs wait for the deadline and for a maintenance
    /// window when windows are honoured, unless their user starts them or
    /// another deadline brought them forward.
    Deadlines,
    /// 9: no client reports an update before a sync brought it.
    Sync,
}

impl Law {
    /// Its number in the model's list of laws.
    pub fn number(self) -> u8 {
        match self {
            Law::Conservation => 2,
            Law::Causality => 3,
            Law::Batching => 5,
            Law::Offline => 6,
            Law::Deadlines => 7,
            Law::Sync => 9,
        }
    }

    /// Its name in the model's list of laws, lower case.
    pub fn name(self) -> &'static str {
        match self {
            Law::Conservation => "conservation",
            Law::Causality => "causality",
            Law::Batching => "batching",
            Law::Offline => "offline",
            Law::Deadlines => "deadlines",
            Law::Sync => "sync",
        }
    }
}

/// The first broken law: where, when, what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// Which law.
    pub law: Law,
    /// Simulated time of the offending record or sample.
    pub time: SimTime,
    /// The same instant on the scenario's clock, RFC 3339.
    pub wall: String,
    /// The client concerned (`None`: the site or a whole sample).
    pub client: Option<ClientId>,
    /// The trace event (`scan_start`, ...) or `sample` for a timeline row.
    pub event: &'static str,
    /// What was seen and what the law demands.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "law {} ({}) broken at {} ({})",
            self.law.number(),
            self.law.name(),
            self.time,
            self.wall
        )?;
        if let Some(c) = self.client {
            write!(f, ", client {}", c.0)?;
        }
        write!(f, ", event {}: {}", self.event, self.message)
    }
}

/// Per-client power state as the trace shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Power {
    /// Before the client's first power event (its start state is drawn).
    Unknown,
    On,
    Off(SimTime),
}

/// Verifies the laws on a stream of trace records (every client) and, at
/// the end, on the outcome. Keeps the first violation only.
pub struct LawChecker<'e> {
    estate: &'e Estate,
    /// MP forwarding plus state-system time: the least a batch takes.
    transit: SimDuration,
    cohort_of: Vec<u16>,
    power: Vec<Power>,
    last_batch: Vec<SimTime>,
    in_flight: Vec<VecDeque<SimTime>>,
    /// When each (client, deployment) first became truly installed.
    true_installed_at: Vec<SimTime>,
    /// Per (client, deployment), why a Required install may come before
    /// the deadline: [`BEFORE_DEADLINE_NO`], [`BEFORE_DEADLINE_USER`] (its
    /// user starts the next install, which no window gates) or
    /// [`BEFORE_DEADLINE_FORWARD`] (another deadline brought it forward).
    before_deadline: Vec<u8>,
    synced_at: Vec<SimTime>,
    first_sync_done: bool,
    /// When the site last changed deployments' updates itself: the
    /// supersedence rule expired updates (they left their deployments), or
    /// an automatic deployment rule made or changed a group. Either may
    /// make a client truly compliant at that instant with updates it had
    /// before (and reported, or is reporting), with no message.
    site_changed_at: SimTime,
    /// Per deployment: the shortest max run time among its updates (the
    /// least room a window must have for a non-empty install to start).
    min_run_time: Vec<SimDuration>,
    /// Per cohort: the maintenance windows software updates install in.
    windows: Vec<Schedule>,
    /// Per deployment: its available time and deadline (a later phase of
    /// a phased deployment: `SimTime::MAX` until the trace shows it begin).
    available: Vec<SimTime>,
    deadline: Vec<SimTime>,
    /// (client, deployment) pairs whose client knows the deployment
    /// disabled (its phased deployment suspended).
    disabled: std::collections::BTreeSet<(u32, u16)>,
    /// (client, deployment) whose peer just went away: the download that
    /// follows at once goes on from the next source, no new step.
    peer_gone: Option<(u32, u16, SimTime)>,
    /// (client, instant) of the install report just traced: the batch that
    /// follows at once leaves outside the client's reporting cycle.
    install_report: Option<(u32, SimTime)>,
    records: u64,
    first: Option<Violation>,
}

/// Bytes a checker keeps per client and per (client, deployment), for the
/// memory estimate.
pub const BYTES_PER_CLIENT: u64 = 64;
/// See [`BYTES_PER_CLIENT`].
pub const BYTES_PER_CLIENT_DEPLOYMENT: u64 = 9;

const BEFORE_DEADLINE_NO: u8 = 0;
const BEFORE_DEADLINE_USER: u8 = 1;
const BEFORE_DEADLINE_FORWARD: u8 = 2;

impl<'e> LawChecker<'e> {
    /// A checker for a run of `estate`, before its first event.
    pub fn new(estate: &'e Estate) -> Self {
        let n = estate.client_count() as usize;
        let mut cohort_of = Vec::with_capacity(n);
        let mut power = Vec::with_capacity(n);
        for (k, c) in estate.cohorts.iter().enumerate() {
            let start = match c.power {
                PowerSpec::AlwaysOn => Power::On,
                _ => Power::Unknown,
            };
            for _ in 0..c.count {
                cohort_of.push(k as u16);
                power.push(start);
            }
        }
        let synced_at = estate.initially_synced_at();
        let min_run_time = estate
            .deployments
            .iter()
            .map(|d| {
                d.updates
                    .iter()
                    .map(|u| estate.updates[u.index()].max_run_time)
                    .min()
                    .unwrap_or(SimDuration::ZERO)
            })
            .collect();
        LawChecker {
            estate,
            transit: estate.site.mp_forward_delay + estate.site.state_system_delay,
            cohort_of,
            power,
            last_batch: vec![SimTime::MAX; n],
            in_flight: vec![VecDeque::new(); n],
            true_installed_at: vec![SimTime::MAX; n * estate.deployments.len()],
            before_deadline: vec![BEFORE_DEADLINE_NO; n * estate.deployments.len()],
            synced_at,
            first_sync_done: estate.sync.initially_synced,
            site_changed_at: SimTime::MAX,
            min_run_time,
            windows: Schedule::per_cohort(estate),
            available: estate.deployments.iter().map(|d| d.available).collect(),
            deadline: estate.deployments.iter().map(|d| d.deadline).collect(),
            disabled: std::collections::BTreeSet::new(),
            peer_gone: None,
            install_report: None,
            records: 0,
            first: None,
        }
    }

    /// The first violation seen, if any.
    pub fn violation(&self) -> Option<&Violation> {
        self.first.as_ref()
    }

    /// Takes the first violation seen, if any.
    pub fn into_violation(self) -> Option<Violation> {
        self.first
    }

    /// Records checked so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    fn fail(
        &mut self,
        law: Law,
        time: SimTime,
        client: Option<ClientId>,
        event: &'static str,
        message: String,
    ) {
        if self.first.is_some() {
            return;
        }
        let wall = (self.estate.source.start + chrono::Duration::milliseconds(time.as_ms() as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        self.first = Some(Violation {
            law,
            time,
            wall,
            client,
            event,
            message,
        });
    }

    fn deployment_name(&self, d: DeploymentId) -> &'e str {
        &self.estate.deployments[d.index()].name
    }

    fn update_name(&self, u: UpdateId) -> &'e str {
        &self.estate.updates[u.index()].id
    }

    /// Checks one record; records must come in time order, every client's.
    pub fn record(&mut self, r: &TraceRecord) {
        if self.first.is_some() {
            return;
        }
        self.records += 1;
        match r.client {
            None => self.site_record(r),
            Some(c) if c.index() < self.power.len() => self.client_record(c, r),
            Some(c) => self.fail(
                Law::Conservation,
                r.time,
                Some(c),
                r.event.name(),
                format!(
                    "no such client: the estate has {} clients",
                    self.power.len()
                ),
            ),
        }
    }

    fn site_record(&mut self, r: &TraceRecord) {
        match r.event {
            TraceEvent::UpdateSynced { update: u } => {
                if self.synced_at[u.index()] != SimTime::MAX {
                    let name = self.update_name(u);
                    self.fail(
                        Law::Sync,
                        r.time,
                        None,
                        r.event.name(),
                        format!(
                            "update '{name}' synced again (it was in the database at {})",
                            self.synced_at[u.index()]
                        ),
                    );
                }
                self.synced_at[u.index()] = r.time;
            }
            TraceEvent::SyncInserted => self.first_sync_done = true,
            TraceEvent::UpdateExpired { update: u } => {
                self.site_changed_at = r.time;
                let estate = self.estate;
                for (d, spec) in estate.deployments.iter().enumerate() {
                    if spec.updates.contains(&u) {
                        self.deployment_changed(DeploymentId(d as u16));
                    }
                }
            }
            TraceEvent::RuleDeployed { deployment: d, .. } => {
                self.site_changed_at = r.time;
                self.deployment_changed(d);
                if self.available[d.index()] != SimTime::MAX {
                    return; // a refresh: the group keeps its times
                }
                let spec = &self.estate.deployments[d.index()];
                let rule = &self.estate.rules[usize::from(spec.rule.expect("a rule's"))];
                let available = r.time + rule.available_after;
                self.available[d.index()] = available;
                self.deadline[d.index()] = match spec.purpose {
                    Purpose::Required => available + rule.deadline_after,
                    Purpose::Available => available,
                };
            }
            TraceEvent::PhaseStarted { deployment: d, .. } => {
                let spec = &self.estate.deployments[d.index()];
                if let Some(phase) = &spec.phase {
                    self.available[d.index()] = r.time;
                    self.deadline[d.index()] = match spec.purpose {
                        Purpose::Required => r.time + phase.deadline_after,
                        Purpose::Available => r.time,
                    };
                }
            }
            _ => {}
        }
    }

    /// The site changed deployment `d`'s updates itself (an expiry, a
    /// rule's run). A client truly installed before may have had the
    /// updates `d` now lists for longer than `d` as a whole, and the
    /// messages that say so may be in or on their way: its report of `d`
    /// installed can come at once (those batches are checked on their own).
    fn deployment_changed(&mut self, d: DeploymentId) {
        let deployments = self.estate.deployments.len();
        for slot in (d.index()..self.true_installed_at.len()).step_by(deployments) {
            if self.true_installed_at[slot] != SimTime::MAX {
                self.true_installed_at[slot] = SimTime::ZERO;
            }
        }
    }

    fn client_record(&mut self, c: ClientId, r: &TraceRecord) {
        let i = c.index();
        let now = r.time;
        let event = r.event.name();
        match r.event {
            TraceEvent::PowerOn | TraceEvent::PowerOff => {
                let estate = self.estate;
                let cohort = &estate.cohorts[usize::from(self.cohort_of[i])];
                let on = r.event == TraceEvent::PowerOn;
                let problem = match (&cohort.power, self.power[i]) {
                    (PowerSpec::AlwaysOn, _) => {
                        Some(format!("cohort '{}' is always on", cohort.name))
                    }
                    (_, Power::On) if on => Some("switched on while on".to_string()),
                    (_, Power::Off(since)) if !on => {
                        Some(format!("switched off while off (since {since})"))
                    }
                    _ => None,
                };
                if let Some(p) = problem {
                    self.fail(Law::Offline, now, Some(c), event, p);
                }
                self.power[i] = if on { Power::On } else { Power::Off(now) };
                return;
            }
            TraceEvent::PolicyRequest
            | TraceEvent::ScanStart { .. }
            | TraceEvent::ScanReused
            | TraceEvent::ContentLocationRequest { .. }
            | TraceEvent::DownloadStart { .. }
            | TraceEvent::ContentSource { .. }
            | TraceEvent::InstallStart { .. }
            | TraceEvent::RestartStart { .. }
            | TraceEvent::InstallReport
            | TraceEvent::BatchSent { .. }
            | TraceEvent::MessageQueued { .. } => {
                if let Power::Off(since) = self.power[i] {
                    self.fail(
                        Law::Offline,
                        now,
                        Some(c),
                        event,
                        format!("the client is switched off (since {since}); an offline client does nothing"),
                    );
                    return;
                }
            }
            _ => {}
        }
        match r.event {
            TraceEvent::InstallReport => self.install_report = Some((c.0, now)),
            TraceEvent::BatchSent { messages } => self.batch_sent(c, now, messages),
            TraceEvent::BatchInDatabase { .. } => self.batch_in_database(c, now),
            // A lost batch never reaches the database. It is lost as its
            // MP takes it, and a client sends no batch while one is with
            // its MP: the lost batch is the last one sent, and those sent
            // before it are still on their way.
            // A returned batch was with its MP when the MP went down: it
            // too is the last one sent.
            TraceEvent::BatchLost { .. } | TraceEvent::BatchReturned { .. } => {
                self.in_flight[i].pop_back();
            }
            TraceEvent::TrueState { deployment, to, .. } if to.state() == Compliance::Installed => {
                let slot = i * self.estate.deployments.len() + deployment.index();
                // Installed the instant the site changed the deployment's
                // updates (an expiry, a rule's run): the client had the
                // updates it now deploys already, and their reports may
                // be on their way (their batches are checked on their own).
                let at = if now == self.site_changed_at {
                    SimTime::ZERO
                } else {
                    now
                };
                self.true_installed_at[slot] = self.true_installed_at[slot].min(at);
            }
            TraceEvent::ReportedState { deployment, to, .. }
                if to.state() == Compliance::Installed =>
            {
                self.reported_installed(c, now, deployment);
            }
            TraceEvent::UserInstall { deployment } => {
                let slot = i * self.estate.deployments.len() + deployment.index();
                if self.before_deadline[slot] == BEFORE_DEADLINE_NO {
                    self.before_deadline[slot] = BEFORE_DEADLINE_USER;
                }
            }
            TraceEvent::PolicyDisabled { deployment } => {
                self.disabled.insert((c.0, deployment.0));
            }
            TraceEvent::PolicyEnabled { deployment } => {
                self.disabled.remove(&(c.0, deployment.0));
            }
            TraceEvent::PeerGone { deployment, .. } => {
                self.peer_gone = Some((c.0, deployment.0, now));
            }
            TraceEvent::DownloadStart { deployment, .. }
                if self.disabled.contains(&(c.0, deployment.0))
                    && self.peer_gone.take() != Some((c.0, deployment.0, now)) =>
            {
                self.fail_disabled(c, now, event, deployment);
            }
            TraceEvent::DeadlineBroughtForward { deployment, .. } => {
                let slot = i * self.estate.deployments.len() + deployment.index();
                self.before_deadline[slot] = BEFORE_DEADLINE_FORWARD;
            }
            TraceEvent::InstallStart {
                deployment,
                length_ms,
            } => self.install_start(c, now, deployment, length_ms),
            TraceEvent::ScanStart { .. } if !self.first_sync_done => self.fail(
                Law::Sync,
                now,
                Some(c),
                event,
                "scan before the site's first sync has finished".to_string(),
            ),
            TraceEvent::MessageQueued {
                topic: TOPIC_DETECTION,
                update,
                state,
                ..
            } => {
                let Some(u) = update else {
                    self.fail(
                        Law::Sync,
                        now,
                        Some(c),
                        event,
                        "a detection message (topic 500) names no update".to_string(),
                    );
                    return;
                };
                let synced = self.synced_at[u.index()];
                if now < synced {
                    let name = self.update_name(u);
                    let when = if synced == SimTime::MAX {
                        "it is not in the site database".to_string()
                    } else {
                        format!("it reaches the site database only at {synced}")
                    };
                    self.fail(
                        Law::Sync,
                        now,
                        Some(c),
                        event,
                        format!("detection message (500/{state}) for update '{name}', but {when}"),
                    );
                }
            }
            _ => {}
        }
    }

    fn batch_sent(&mut self, c: ClientId, now: SimTime, messages: u64) {
        let i = c.index();
        let event = "batch_sent";
        if messages == 0 {
            self.fail(
                Law::Batching,
                now,
                Some(c),
                event,
                "an empty batch: a client sends nothing when its queue is empty".to_string(),
            );
            return;
        }
        if self.install_report.take() == Some((c.0, now)) {
            // Sent after an install, outside its reporting cycle.
            self.in_flight[i].push_back(now);
            return;
        }
        let estate = self.estate;
        let cohort = &estate.cohorts[usize::from(self.cohort_of[i])];
        let interval = estate.settings[cohort.settings.index()].state_message_interval;
        let last = self.last_batch[i];
        if last != SimTime::MAX && now.since(last) < interval {
            self.fail(
                Law::Batching,
                now,
                Some(c),
                event,
                format!(
                    "second batch {} after the one at {last}; the reporting cycle is {interval}",
                    now.since(last)
                ),
            );
            return;
        }
        self.last_batch[i] = now;
        self.in_flight[i].push_back(now);
    }

    fn batch_in_database(&mut self, c: ClientId, now: SimTime) {
        let event = "batch_in_database";
        match self.in_flight[c.index()].pop_front() {
            None => self.fail(
                Law::Causality,
                now,
                Some(c),
                event,
                "a batch reaches the site database that the client never sent".to_string(),
            ),
            Some(sent) if now < sent + self.transit => {
                let transit = self.transit;
                self.fail(
                    Law::Causality,
                    now,
                    Some(c),
                    event,
                    format!(
                        "batch sent at {sent} reaches the database after {}, less than the MP and state-system time {transit}",
                        now.since(sent)
                    ),
                );
            }
            Some(_) => {}
        }
    }

    fn reported_installed(&mut self, c: ClientId, now: SimTime, d: DeploymentId) {
        let event = "reported_state";
        let slot = c.index() * self.estate.deployments.len() + d.index();
        let truly = self.true_installed_at[slot];
        let name = self.deployment_name(d);
        if truly == SimTime::MAX {
            self.fail(
                Law::Causality,
                now,
                Some(c),
                event,
                format!("reported installed for deployment '{name}' but never truly installed"),
            );
        } else if now < truly + self.transit {
            let transit = self.transit;
            self.fail(
                Law::Causality,
                now,
                Some(c),
                event,
                format!(
                    "reported installed for deployment '{name}' at {now}, truly installed at {truly}: sooner than the MP and state-system time {transit}"
                ),
            );
        }
    }

    /// A download or install of a deployment its client knows disabled.
    fn fail_disabled(&mut self, c: ClientId, now: SimTime, event: &'static str, d: DeploymentId) {
        let name = &self.estate.deployments[d.index()].name;
        self.fail(
            Law::Deadlines,
            now,
            Some(c),
            event,
            format!(
                "deployment '{name}' started while the client knows its phased deployment suspended"
            ),
        );
    }

    fn install_start(&mut self, c: ClientId, now: SimTime, d: DeploymentId, length_ms: u64) {
        let event = "install_start";
        if self.disabled.contains(&(c.0, d.0)) {
            self.fail_disabled(c, now, event, d);
            return;
        }
        let estate = self.estate;
        let spec = &estate.deployments[d.index()];
        let name = &spec.name;
        let (available, deadline) = (self.available[d.index()], self.deadline[d.index()]);
        if now < available {
            self.fail(
                Law::Deadlines,
                now,
                Some(c),
                event,
                format!("install of deployment '{name}' before its available time {available}"),
            );
            return;
        }
        if spec.purpose != Purpose::Required {
            return;
        }
        let slot = c.index() * estate.deployments.len() + d.index();
        let before = self.before_deadline[slot];
        if before == BEFORE_DEADLINE_USER {
            // Its user's install from Software Center: no deadline, no
            // window; the next install is the deadline's again.
            self.before_deadline[slot] = BEFORE_DEADLINE_NO;
            return;
        }
        if now < deadline && before != BEFORE_DEADLINE_FORWARD {
            self.fail(
                Law::Deadlines,
                now,
                Some(c),
                event,
                format!("Required install of deployment '{name}' before its deadline {deadline}"),
            );
            return;
        }
        let k = usize::from(self.cohort_of[c.index()]);
        let (cohort, windows) = (&estate.cohorts[k], &self.windows[k]);
        // An install with nothing left to do (its updates came by another
        // deployment) waits for no window.
        if !spec.honor_maintenance_windows || windows.is_empty() || length_ms == 0 {
            return;
        }
        // At least one update is missing and its max run time must fit in
        // what is left of the open window (the windows software updates
        // use, merged); the first to install is the shortest.
        let need = self.min_run_time[d.index()];
        if windows.left(now).is_none_or(|left| left < need) {
            let cohort_name = &cohort.name;
            self.fail(
                Law::Deadlines,
                now,
                Some(c),
                event,
                format!(
                    "install of deployment '{name}' outside a maintenance window of cohort '{cohort_name}' with {need} left (the deployment honours windows)"
                ),
            );
        }
    }

    /// Checks the outcome at the end of the run: law 2 on every timeline
    /// row and on the DPs' bytes, law 3 on the counts, and that the trace
    /// saw the syncs the outcome records.
    pub fn finish(&mut self, outcome: &Outcome) {
        for row in &outcome.timeline {
            if self.first.is_some() {
                return;
            }
            if !outcome.row_shown(self.estate, row) {
                continue; // a rule's deployment not yet made: it targets nobody
            }
            let name = self.deployment_name(row.deployment);
            let targeted = outcome.deployments[row.deployment.index()].targeted;
            let required = Compliance::Required as usize;
            let sums = [
                ("true states", row.truth.iter().sum::<u32>(), targeted),
                ("reported states", row.reported.iter().sum(), targeted),
                (
                    "true Required sub-states",
                    row.required_sub.iter().sum(),
                    row.truth[required],
                ),
                (
                    "reported Required sub-states",
                    row.reported_required_sub.iter().sum(),
                    row.reported[required],
                ),
            ];
            for (what, sum, want) in sums {
                if sum != want {
                    self.fail(
                        Law::Conservation,
                        row.time,
                        None,
                        "sample",
                        format!("deployment '{name}': {what} add up to {sum}, not {want}"),
                    );
                }
            }
            let unknown = row.reported[Compliance::Unknown as usize];
            if row.reported_unknown_scan_failed > unknown || row.with_policy > targeted {
                self.fail(
                    Law::Conservation,
                    row.time,
                    None,
                    "sample",
                    format!(
                        "deployment '{name}': {} reported unknown with a failed scan of {unknown} unknown, {} with policy of {targeted} targeted",
                        row.reported_unknown_scan_failed, row.with_policy
                    ),
                );
            }
            for s in [Compliance::Installed, Compliance::NotRequired] {
                let (rep, tru) = (row.reported[s as usize], row.truth[s as usize]);
                if rep > tru {
                    self.fail(
                        Law::Causality,
                        row.time,
                        None,
                        "sample",
                        format!(
                            "deployment '{name}': {rep} clients reported {} but only {tru} truly are",
                            s.name()
                        ),
                    );
                }
            }
        }
        let clients = self.estate.client_count();
        for row in &outcome.update_timeline {
            let name = self.update_name(row.update);
            for (what, counts) in [("true", row.truth), ("reported", row.reported)] {
                let sum: u32 = counts.iter().sum();
                if sum != clients {
                    self.fail(
                        Law::Conservation,
                        row.time,
                        None,
                        "sample",
                        format!("update '{name}': {what} states add up to {sum}, not the {clients} clients"),
                    );
                }
            }
        }
        for (u, synced) in outcome.synced_at.iter().enumerate() {
            let seen = self.synced_at[u];
            if *synced != (seen != SimTime::MAX).then_some(seen) {
                let name = self.update_name(UpdateId(u as u16));
                self.fail(
                    Law::Sync,
                    outcome.end,
                    None,
                    "update_synced",
                    format!(
                        "update '{name}': the outcome says synced at {}, the trace at {}",
                        synced.map_or("never".to_string(), |t| t.to_string()),
                        if seen == SimTime::MAX {
                            "never".to_string()
                        } else {
                            seen.to_string()
                        }
                    ),
                );
            }
        }
        self.dp_bytes_conserved(outcome);
    }

    /// Law 2 for content: the bytes the DPs served are the bytes clients
    /// received from them, once no download from a DP is under way (until
    /// then the DPs have counted bytes their clients have not: never
    /// fewer).
    fn dp_bytes_conserved(&mut self, outcome: &Outcome) {
        let served: u64 = (outcome.servers.iter())
            .filter(|s| s.role == ServerRole::DistributionPoint)
            .map(|s| s.bytes)
            .sum();
        let received = outcome.totals.bytes_from_dp;
        let under_way = outcome.dp_downloads_at_end;
        if served == received || (under_way > 0 && served > received) {
            return;
        }
        self.fail(
            Law::Conservation,
            outcome.end,
            None,
            "end",
            format!(
                "the distribution points served {served} bytes, clients received {received} from them ({under_way} downloads under way)"
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::estate::{ClientId, DeploymentId, UpdateId};
    use crate::model::{ScanCause, ScanSource};

    /// Monday 2026-11-09 00:00 UTC; client 0 always on, client 1 office
    /// hours with a nightly window; KB1 released at 01:00 and synced by a
    /// manual sync; a Required deployment created at 02:00, deadline 10:00.
    fn estate() -> Estate {
        let text = r#"Scenario(
            name: "check", start: "2026-11-09T00:00:00Z", duration: "2d",
            sync: Sync(manual: ["2026-11-09T01:30:00Z"]),
            servers: Servers(management_points: [ManagementPoint(name: "mp")], update_points: [UpdatePoint(name: "sup")],
                             distribution_points: [DistributionPoint(name: "dp")]),
            cohorts: [
                Cohort(name: "on", count: 1, management_point: "mp", update_point: "sup", distribution_point: "dp"),
                Cohort(name: "office", count: 1, power: BusinessHours(), management_point: "mp",
                       update_point: "sup", distribution_point: "dp",
                       maintenance_windows: [MaintenanceWindow(recurrence: Daily, start: "20:00", length: "2h")]),
            ],
            updates: [Update(id: "KB1", size: "10MB", release: "2026-11-09T01:00:00Z")],
            deployments: [Deployment(name: "cu", updates: ["KB1"], targets: ["on", "office"],
                                     created: "2026-11-09T02:00:00Z", deadline: "2026-11-09T10:00:00Z")],
        )"#;
        let raw = crate::scenario::parse(text, "check.ron").expect("parses");
        crate::scenario::build(raw, "check.ron").expect("valid")
    }

    const H: u64 = 3_600_000;

    fn rec(h: f64, client: u32, event: TraceEvent) -> TraceRecord {
        TraceRecord::new(
            SimTime((h * H as f64) as u64),
            Some(ClientId(client)),
            event,
        )
    }

    fn detection(h: f64) -> TraceRecord {
        rec(
            h,
            0,
            TraceEvent::MessageQueued {
                deployment: None,
                update: Some(UpdateId(0)),
                topic: TOPIC_DETECTION,
                state: 2,
            },
        )
    }

    fn batch(h: f64, messages: u64) -> TraceRecord {
        rec(h, 0, TraceEvent::BatchSent { messages })
    }

    fn install(h: f64, c: u32) -> TraceRecord {
        rec(
            h,
            c,
            TraceEvent::InstallStart {
                deployment: DeploymentId(0),
                length_ms: 60_000,
            },
        )
    }

    const INSTALLED: crate::model::Cell = crate::model::Cell {
        state: Compliance::Installed,
        sub: crate::model::RequiredSub::NotEvaluated,
        scan_failed: false,
    };

    /// Feeds the records and returns the law of the first violation.
    fn first_broken(records: &[TraceRecord]) -> Option<(Law, String)> {
        let estate = estate();
        let mut checker = LawChecker::new(&estate);
        for r in records {
            checker.record(r);
        }
        checker.into_violation().map(|v| (v.law, v.to_string()))
    }

    #[test]
    fn a_clean_stream_passes() {
        let synced = TraceRecord::new(
            SimTime(2 * H),
            None,
            TraceEvent::UpdateSynced {
                update: UpdateId(0),
            },
        );
        let records = [
            rec(1.0, 0, TraceEvent::PolicyRequest),
            synced,
            detection(3.0),
            batch(3.1, 1),
            rec(3.2, 0, TraceEvent::BatchInDatabase { messages: 1 }),
            install(10.0, 0),
            install(20.5, 1),
        ];
        assert_eq!(first_broken(&records), None);
    }

    #[test]
    fn law_6_an_offline_client_does_nothing() {
        let (law, text) = first_broken(&[
            rec(1.0, 1, TraceEvent::PowerOff),
            rec(
                2.0,
                1,
                TraceEvent::ScanStart {
                    source: ScanSource::UpdatePoint,
                    sup: Some(0),
                    cause: ScanCause::Schedule,
                },
            ),
        ])
        .unwrap();
        assert_eq!(law, Law::Offline);
        assert!(
            text.starts_with("law 6 (offline) broken at 0+02:00:00.000 (2026-11-09T02:00:00.000Z), client 1, event scan_start: the client is switched off (since 0+01:00:00.000)"),
            "{text}"
        );
        let (law, text) = first_broken(&[rec(1.0, 0, TraceEvent::PowerOff)]).unwrap();
        assert_eq!(law, Law::Offline);
        assert!(text.contains("cohort 'on' is always on"), "{text}");
    }

    #[test]
    fn law_5_one_batch_per_cycle_never_empty() {
        let (law, text) = first_broken(&[batch(1.0, 0)]).unwrap();
        assert_eq!(law, Law::Batching);
        assert!(text.contains("an empty batch"), "{text}");
        let (law, text) = first_broken(&[batch(1.0, 3), batch(1.1, 2)]).unwrap();
        assert_eq!(law, Law::Batching);
        assert!(text.contains("the reporting cycle is 15m"), "{text}");
        assert_eq!(first_broken(&[batch(1.0, 3), batch(1.25, 2)]), None);
        // A batch right after an install report leaves outside the cycle,
        // and the next tick's batch is measured from the tick before.
        let report = |h| rec(h, 0, TraceEvent::InstallReport);
        let (one, two, three) = (batch(1.0, 3), batch(1.1, 2), batch(1.25, 1));
        assert_eq!(first_broken(&[one, report(1.1), two, three]), None);
        let (law, _) = first_broken(&[batch(1.0, 3), report(1.1), batch(1.2, 2)]).unwrap();
        assert_eq!(law, Law::Batching);
    }

    #[test]
    fn law_3_nothing_reported_before_it_is_true() {
        let in_database = |h| rec(h, 0, TraceEvent::BatchInDatabase { messages: 1 });
        let (law, text) = first_broken(&[in_database(1.0)]).unwrap();
        assert_eq!(law, Law::Causality);
        assert!(text.contains("never sent"), "{text}");
        let (law, text) = first_broken(&[batch(1.0, 1), in_database(1.001)]).unwrap();
        assert_eq!(law, Law::Causality);
        assert!(
            text.contains("less than the MP and state-system time 15s"),
            "{text}"
        );
        let reported = rec(
            5.0,
            0,
            TraceEvent::ReportedState {
                deployment: DeploymentId(0),
                from: crate::model::Cell::UNKNOWN,
                to: INSTALLED,
            },
        );
        let (law, text) = first_broken(&[reported]).unwrap();
        assert_eq!(law, Law::Causality);
        assert!(text.contains("never truly installed"), "{text}");
        let truly = rec(
            5.0,
            0,
            TraceEvent::TrueState {
                deployment: DeploymentId(0),
                from: crate::model::Cell::UNKNOWN,
                to: INSTALLED,
            },
        );
        assert_eq!(
            first_broken(&[truly, reported]).unwrap().0,
            Law::Causality,
            "the report needs the transit time"
        );
        let later = TraceRecord {
            time: SimTime(5 * H + 15_000),
            ..reported
        };
        assert_eq!(first_broken(&[truly, later]), None);
        // A rule's run that makes or changes a group at this instant: the
        // site database already knows the client has its updates.
        let rule = TraceRecord::new(
            SimTime(5 * H),
            None,
            TraceEvent::RuleDeployed {
                deployment: DeploymentId(0),
                updates: 1,
            },
        );
        assert_eq!(first_broken(&[rule, truly, reported]), None);
    }

    /// A client truly installed before an expiry: the expiry leaves the
    /// deployment with updates the client may have reported installed
    /// well before the whole deployment was, so the report may follow at
    /// once (here 7.2 s after the truth, less than the 15 s transit).
    #[test]
    fn law_3_an_expiry_after_the_truth() {
        let truly = rec(
            5.0,
            0,
            TraceEvent::TrueState {
                deployment: DeploymentId(0),
                from: crate::model::Cell::UNKNOWN,
                to: INSTALLED,
            },
        );
        let expired = TraceRecord::new(
            SimTime(5 * H + 3_600),
            None,
            TraceEvent::UpdateExpired {
                update: UpdateId(0),
            },
        );
        let reported = rec(
            5.002,
            0,
            TraceEvent::ReportedState {
                deployment: DeploymentId(0),
                from: crate::model::Cell::UNKNOWN,
                to: INSTALLED,
            },
        );
        assert_eq!(first_broken(&[truly, expired, reported]), None);
        // Without the expiry, the report needs the transit time.
        assert_eq!(first_broken(&[truly, reported]).unwrap().0, Law::Causality);
        // A client not truly installed at the expiry gains nothing.
        let other = TraceRecord {
            client: Some(ClientId(1)),
            ..reported
        };
        assert_eq!(
            first_broken(&[truly, expired, other]).unwrap().0,
            Law::Causality
        );
    }

    /// A batch lost while earlier ones are still on their way: the lost
    /// one is the last sent, and the next to arrive is the earliest sent.
    #[test]
    fn law_3_a_lost_batch_is_the_last_one_sent() {
        let lost = rec(1.5, 0, TraceEvent::BatchLost { messages: 1 });
        // The 1.0 batch arrives 1.5 h + 3.6 s: 30 minutes after it was
        // sent, only 3.6 s after the lost one.
        let in_database = rec(1.501, 0, TraceEvent::BatchInDatabase { messages: 1 });
        let records = [batch(1.0, 1), batch(1.5, 1), lost, in_database];
        assert_eq!(first_broken(&records), None);
        // Nothing else is on its way: a second arrival was never sent.
        let again = rec(2.0, 0, TraceEvent::BatchInDatabase { messages: 1 });
        let (law, text) = first_broken(&[batch(1.0, 1), batch(1.5, 1), lost, in_database, again])
            .expect("broken");
        assert_eq!(law, Law::Causality);
        assert!(text.contains("never sent"), "{text}");
    }

    /// A batch its MP returned when it went down is no longer on its
    /// way: the next arrival belongs to the batch sent after it.
    #[test]
    fn law_3_a_returned_batch_is_not_on_its_way() {
        let returned = rec(1.1, 0, TraceEvent::BatchReturned { messages: 1 });
        // Sent again at 1.5 h, in the database 3.6 s later: sooner than
        // the MP and state-system time allow.
        let early = rec(1.501, 0, TraceEvent::BatchInDatabase { messages: 1 });
        let (law, text) =
            first_broken(&[batch(1.0, 1), returned, batch(1.5, 1), early]).expect("broken");
        assert_eq!(law, Law::Causality);
        assert!(text.contains("batch sent at"), "{text}");
        let (law, text) = first_broken(&[batch(1.0, 1), returned, early]).expect("broken");
        assert_eq!(law, Law::Causality);
        assert!(text.contains("never sent"), "{text}");
    }

    #[test]
    fn law_7_deadlines_and_windows() {
        let (law, text) = first_broken(&[install(9.0, 0)]).unwrap();
        assert_eq!(law, Law::Deadlines);
        assert!(
            text.contains("before its deadline 0+10:00:00.000"),
            "{text}"
        );
        // Window 20:00–22:00 with a 60-minute max run time: 21:00 is the last start.
        assert_eq!(first_broken(&[install(21.0, 1)]), None);
        let (law, text) = first_broken(&[install(21.5, 1)]).unwrap();
        assert_eq!(law, Law::Deadlines);
        assert!(
            text.contains("outside a maintenance window of cohort 'office'"),
            "{text}"
        );
    }

    #[test]
    fn law_9_no_report_before_the_sync() {
        let (law, text) = first_broken(&[detection(1.5)]).unwrap();
        assert_eq!(law, Law::Sync);
        assert!(
            text.contains(
                "detection message (500/2) for update 'KB1', but it is not in the site database"
            ),
            "{text}"
        );
    }

    #[test]
    fn law_2_conservation_on_the_timeline() {
        let estate = estate();
        let records = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = records.clone();
        let options = crate::model::RunOptions {
            tracer: Some(crate::model::Tracer::new(
                Box::new(move |r: &TraceRecord| sink.borrow_mut().push(*r)),
                None,
            )),
            ..Default::default()
        };
        let mut outcome = crate::model::run(&estate, options).expect("never stopped");
        let replay = |outcome: &Outcome| {
            let mut checker = LawChecker::new(&estate);
            for r in records.borrow().iter() {
                checker.record(r);
            }
            checker.finish(outcome);
            checker
        };
        assert_eq!(replay(&outcome).violation(), None);
        outcome.timeline[3].truth[0] += 1;
        let checker = replay(&outcome);
        let v = checker.into_violation().expect("broken");
        assert_eq!(v.law, Law::Conservation);
        assert_eq!(v.time, SimTime(3 * H));
        assert!(
            v.message
                .contains("deployment 'cu': true states add up to 3, not 2"),
            "{v}"
        );
    }

    #[test]
    fn law_2_the_dps_served_what_clients_received_from_them() {
        let estate = estate();
        let mut outcome = crate::model::run(&estate, Default::default()).expect("never stopped");
        let broken = |outcome: &Outcome| {
            let mut checker = LawChecker::new(&estate);
            checker.dp_bytes_conserved(outcome);
            checker.into_violation()
        };
        assert_eq!(outcome.dp_downloads_at_end, 0);
        assert_eq!(outcome.totals.bytes_from_dp, 2 * 10_000_000);
        assert_eq!(broken(&outcome), None);
        let dp = (outcome.servers.iter())
            .position(|s| s.role == ServerRole::DistributionPoint)
            .expect("a DP");
        // A byte served that no client received: broken, unless a download
        // is under way (its DP counts what it sent so far, its client not).
        outcome.servers[dp].bytes += 1;
        let v = broken(&outcome).expect("broken");
        assert_eq!(v.law, Law::Conservation);
        assert_eq!(v.time, outcome.end);
        assert!(
            v.message.contains(
                "the distribution points served 20000001 bytes, clients received 20000000 from them (0 downloads under way)"
            ),
            "{v}"
        );
        outcome.dp_downloads_at_end = 1;
        assert_eq!(broken(&outcome), None);
        // A byte received that no DP served: broken, whatever is under way.
        outcome.servers[dp].bytes -= 2;
        assert!(broken(&outcome).is_some());
    }

    #[test]
    fn whole_runs_keep_every_law() {
        let estate = estate();
        let outcome = crate::app::run_checked(&estate).unwrap_or_else(|v| panic!("{v}"));
        assert_eq!(outcome.deployments[0].targeted, 2);
    }
}
