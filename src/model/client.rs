//! A client's work: scans, downloads, installs and restarts, one at a time,
//! each ending in state messages.
//!
//! Owns the client's decisions: what to do next ([`World::next_action`]),
//! what a scan finds, when an Available update's user starts it, whether an
//! install waits for a maintenance window, fails or needs a restart, and
//! when the restart happens. A client does one thing at a time; work that
//! comes due while it is busy or off waits for the next free moment.

use rand::Rng;

use super::compliance::{
    ENFORCE_DOWNLOADED, ENFORCE_DOWNLOADING, ENFORCE_FAILED, ENFORCE_INSTALLING,
    ENFORCE_PENDING_RESTART, ENFORCE_SUCCESS, ENFORCE_WAITING_WINDOW, Phase, SCAN_COMPLETED,
    SCAN_FAILED, TOPIC_COMPLIANCE, TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_EVALUATION,
    TOPIC_SCAN, TOPIC_UPDATE_ENFORCEMENT, Truth, UPDATE_FAILED, UPDATE_INSTALLED,
    UPDATE_PENDING_RESTART,
};
use super::events::Event;
use super::record::Timing;
use super::trace::TraceEvent;
use super::windows::next_fit;
use super::world::{Action, StateMsg, World};
use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, DeploymentId, UpdateId};
use crate::estate::{ClientKind, Purpose};

/// Why a client restarts (for the totals and the trace).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartCause {
    /// The user, before any countdown ran out.
    User,
    /// The countdown ran out.
    Forced,
    /// At once, inside the maintenance window the install ran in.
    #[serde(rename = "maintenance_window")]
    InWindow,
}

/// Topic 300 states.
const COMPLIANT: u8 = 1;
const NON_COMPLIANT: u8 = 2;
/// Topic 302 states.
const EVALUATION_SUCCEEDED: u8 = 2;

impl World<'_> {
    /// Queues a state message on the client; it leaves at the next cycle.
    pub(crate) fn queue(&mut self, c: ClientId, topic: u16, state: u8, subject: u16, now: SimTime) {
        self.trace(now, Some(c), || {
            let (deployment, update) = match topic {
                TOPIC_DETECTION | TOPIC_UPDATE_ENFORCEMENT => (None, Some(UpdateId(subject))),
                TOPIC_SCAN => (None, None),
                _ => (Some(DeploymentId(subject)), None),
            };
            TraceEvent::MessageQueued {
                deployment,
                update,
                topic,
                state,
            }
        });
        self.outboxes.push(
            c,
            StateMsg {
                topic,
                state,
                subject,
                queued_at: now,
            },
        );
        self.totals.state_messages_queued += 1;
        if !self.clients[c.index()].report_armed {
            self.report_dirty.push(c);
        }
    }

    fn begin(
        &mut self,
        c: ClientId,
        action: Action,
        length: SimDuration,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        self.trace(now, Some(c), || match action {
            Action::Install(deployment) => TraceEvent::InstallStart {
                deployment,
                length_ms: length.as_ms(),
            },
            Action::Restart => TraceEvent::RestartStart {
                length_ms: length.as_ms(),
            },
            Action::Idle | Action::Scan | Action::Download(_) => {
                unreachable!("scans and downloads begin at their servers")
            }
        });
        let client = &mut self.clients[c.index()];
        debug_assert_eq!(client.action, Action::Idle);
        client.action = action;
        client.action_started = sched.now();
        client.action_timer = Some(sched.after(length, Event::ActionDone(c)));
    }

    /// The software update scan schedule fires: a scan is due after a
    /// random delay (it runs when the client is next on and free).
    pub(crate) fn scan_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let settings = self.settings(c);
        sched.after_fixed(settings.scan_interval, Event::ScanCycle(c));
        if !self.clients[c.index()].hot.has_update_policy {
            return;
        }
        let client = &mut self.clients[c.index()];
        let spread = settings.scan_random_delay.as_ms();
        let due = sched.now()
            + SimDuration(if spread > 0 {
                client.rng(self.streams, c).random_range(0..=spread)
            } else {
                0
            });
        client.scan_due = client.scan_due.min(due);
        sched.at_fixed(due, Event::Wake(c));
    }

    /// The deployment re-evaluation schedule fires: failed installs and
    /// failed scans are tried again (now, or when the client is next on).
    pub(crate) fn reevaluation_cycle(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        sched.after_fixed(
            self.settings(c).reevaluation_interval,
            Event::ReevaluationCycle(c),
        );
        self.clients[c.index()].reevaluation_due = true;
        self.next_action(c, sched);
    }

    /// If the client is on and free, starts the most urgent work that is due:
    /// a waiting restart, a scan, a download, then an install.
    pub(crate) fn next_action(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let hot = self.clients[c.index()].hot;
        let online = self.online(c);
        let client = &mut self.clients[c.index()];
        if !online || client.action != Action::Idle {
            return;
        }
        if client.restart_waiting {
            self.start_restart(c, sched);
            return;
        }
        let now = sched.now();
        let reevaluate = std::mem::take(&mut client.reevaluation_due);
        let mut scan = hot.has_update_policy && client.scan_due <= now;
        for dep in &mut self.deployments {
            let a = &mut dep.assignments[c.index()];
            match a.phase {
                Phase::Failed | Phase::ScanFailed if reevaluate => {
                    a.phase = Phase::Evaluating;
                    scan = true;
                }
                Phase::EvalDue if a.due <= now => {
                    a.phase = Phase::Evaluating;
                    scan = true;
                }
                Phase::VerifyDue if a.due <= now => {
                    a.phase = Phase::Verifying;
                    scan = true;
                }
                _ => {}
            }
        }
        if scan {
            self.clients[c.index()].scan_due = SimTime::MAX;
            self.start_scan(c, sched);
            self.refresh(c, now);
            return;
        }
        // Users who start an Available install from Software Center.
        for d in 0..self.deployments.len() {
            let a = &mut self.deployments[d].assignments[c.index()];
            if a.phase == Phase::WaitUser && a.due <= now {
                a.deadline_at = now;
                a.due = now;
                a.phase = if a.remaining > 0 {
                    Phase::NeedDownload
                } else {
                    Phase::WaitDeadline
                };
                self.totals.available_installs_started += 1;
            }
        }
        let pending = |w: &Self, d: usize, want: Phase| {
            let a = &w.deployments[d].assignments[c.index()];
            a.phase == want && a.due <= now
        };
        if let Some(d) =
            (0..self.deployments.len()).find(|&d| pending(self, d, Phase::NeedDownload))
        {
            self.start_download(c, DeploymentId(d as u16), sched);
            return;
        }
        for d in 0..self.deployments.len() {
            if !(pending(self, d, Phase::WaitDeadline) || pending(self, d, Phase::WaitWindow)) {
                continue;
            }
            let d = DeploymentId(d as u16);
            match self.window_for_install(c, d, now) {
                None => {
                    self.start_install(c, d, sched);
                    return;
                }
                Some(opens) => {
                    let a = &mut self.deployments[d.index()].assignments[c.index()];
                    let entering = a.phase == Phase::WaitDeadline;
                    a.phase = Phase::WaitWindow;
                    a.due = opens;
                    if opens != SimTime::MAX {
                        sched.at_fixed(opens, Event::Wake(c));
                    }
                    if entering {
                        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_WAITING_WINDOW, d.0, now);
                        self.refresh(c, now);
                    }
                }
            }
        }
    }

    /// Whether a deadline install must wait for a maintenance window: `None`
    /// if it may start now, else when the next window long enough for the
    /// max run times opens (`SimTime::MAX`: no window ever is).
    fn window_for_install(&self, c: ClientId, d: DeploymentId, now: SimTime) -> Option<SimTime> {
        let spec = &self.estate.deployments[d.index()];
        let cohort = self.cohort(c);
        if spec.purpose != Purpose::Required
            || !spec.honor_maintenance_windows
            || cohort.windows.is_empty()
        {
            return None;
        }
        let need = spec
            .updates
            .iter()
            .filter(|&&u| self.updates_of[self.slot(c, u)].truth == Truth::Missing)
            .fold(SimDuration::ZERO, |sum, u| {
                sum + self.estate.updates[u.index()].max_run_time
            });
        match next_fit(&cohort.windows, self.estate.week_offset, now, need) {
            Some(t) if t <= now => None,
            Some(t) => Some(t),
            None => Some(SimTime::MAX),
        }
    }

    /// The client's current action has run its course.
    pub(crate) fn action_done(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let client = &mut self.clients[c.index()];
        let action = std::mem::replace(&mut client.action, Action::Idle);
        client.action_timer = None;
        match action {
            Action::Idle => unreachable!("an idle client has no action to finish"),
            Action::Scan => self.scan_done(c, now, sched),
            Action::Download(_) => unreachable!("downloads end at their DP's tick"),
            Action::Install(d) => self.install_done(c, d, now, sched),
            Action::Restart => self.complete_restart(c, sched),
        }
        self.refresh(c, now);
        if self.clients[c.index()].power_off_waiting {
            self.switch_off(c, sched);
        } else {
            self.next_action(c, sched);
        }
    }

    /// A scan ends (MODEL.md 2.2 step 2): the client queues a detection
    /// message for every synced update whose state changed, and every
    /// deployment it evaluated or verified moves on. A client whose GPO
    /// names another server reaches the wrong WSUS: its scan fails.
    fn scan_done(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        self.totals.scans += 1;
        if self.clients[c.index()].gpo_conflict {
            self.totals.scans_failed += 1;
            self.queue(c, TOPIC_SCAN, SCAN_FAILED, 0, now);
            for dep in &mut self.deployments {
                let a = &mut dep.assignments[c.index()];
                if matches!(a.phase, Phase::Evaluating | Phase::Verifying) {
                    a.phase = Phase::ScanFailed;
                }
            }
            return;
        }
        let started = self.clients[c.index()].action_started;
        let site = self.site_of(c);
        for u in 0..self.estate.updates.len() {
            if self.sites[site].synced_at[u] > started {
                continue; // law 9: not in the site's catalog when the scan began
            }
            let slot = self.slot(c, UpdateId(u as u16));
            let state = self.updates_of[slot].truth.detection_state();
            if self.updates_of[slot].sent != state {
                self.updates_of[slot].sent = state;
                self.queue(c, TOPIC_DETECTION, state, u as u16, now);
            }
        }
        self.queue(c, TOPIC_SCAN, SCAN_COMPLETED, 0, now);
        for d in 0..self.deployments.len() {
            let phase = self.deployments[d].assignments[c.index()].phase;
            if matches!(phase, Phase::Evaluating | Phase::Verifying) {
                self.evaluate(
                    c,
                    DeploymentId(d as u16),
                    phase == Phase::Verifying,
                    now,
                    sched,
                );
            }
        }
    }

    /// Sorts one deployment into its next phase from what the scan found,
    /// and queues its evaluation and compliance state messages.
    fn evaluate(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        verifying: bool,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let spec = &self.estate.deployments[d.index()];
        let (mut missing_bytes, mut missing, mut pending, mut installed) =
            (0u64, false, false, false);
        for &u in &spec.updates {
            match self.updates_of[self.slot(c, u)].truth {
                Truth::Missing => {
                    missing = true;
                    missing_bytes += self.estate.updates[u.index()].size_bytes;
                }
                Truth::PendingRestart => pending = true,
                Truth::Installed => installed = true,
                _ => {}
            }
        }
        self.queue(c, TOPIC_EVALUATION, EVALUATION_SUCCEEDED, d.0, now);
        let cohort = self.cohort(c);
        let client = &mut self.clients[c.index()];
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        let (phase, compliant) = if missing {
            let first = a.remaining == u64::MAX;
            if first {
                a.remaining = missing_bytes;
            }
            match spec.purpose {
                Purpose::Required if a.remaining > 0 => {
                    a.due = now;
                    (Phase::NeedDownload, false)
                }
                Purpose::Required => {
                    a.due = a.deadline_at;
                    (Phase::WaitDeadline, false)
                }
                Purpose::Available => {
                    // Whether this user ever installs it is drawn once.
                    let installs = !first
                        || client.rng(self.streams, c).random::<f64>()
                            < cohort.available_install_share;
                    a.due = if installs {
                        now + cohort
                            .available_install_delay
                            .sample(&mut client.rng(self.streams, c))
                    } else {
                        SimTime::MAX
                    };
                    (Phase::WaitUser, false)
                }
            }
        } else if pending {
            (Phase::PendingRestart, false)
        } else if installed {
            (Phase::Compliant, true)
        } else {
            (Phase::NotRequired, true)
        };
        a.phase = phase;
        if matches!(phase, Phase::WaitDeadline | Phase::WaitUser)
            && a.due > now
            && a.due != SimTime::MAX
        {
            sched.at_fixed(a.due, Event::Wake(c));
        }
        if verifying && phase == Phase::Compliant {
            self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_SUCCESS, d.0, now);
        }
        let state = if compliant { COMPLIANT } else { NON_COMPLIANT };
        self.queue(c, TOPIC_COMPLIANCE, state, d.0, now);
    }

    /// Asks the client's DP for the content it lacks; it waits for a
    /// connection if the DP has none free.
    fn start_download(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let remaining = self.deployments[d.index()].assignments[c.index()].remaining;
        self.trace(now, Some(c), || TraceEvent::DownloadStart {
            deployment: d,
            bytes: remaining,
        });
        let client = &mut self.clients[c.index()];
        client.action = Action::Download(d);
        client.action_started = now;
        if !self.dp_request(c, remaining, sched) {
            self.clients[c.index()].action = Action::Idle;
            self.download_failed(c, remaining, sched);
            return;
        }
        self.deployments[d.index()].assignments[c.index()].phase = Phase::Downloading;
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_DOWNLOADING, d.0, now);
        self.refresh(c, now);
    }

    /// The DP could not serve the download (it is down): the client keeps
    /// what it has and tries again after `download_retry`.
    pub(crate) fn download_failed(
        &mut self,
        c: ClientId,
        remaining: u64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let now = sched.now();
        let retry = now + self.settings(c).download_retry;
        let client = &mut self.clients[c.index()];
        let d = match client.action {
            Action::Download(d) => {
                client.action = Action::Idle;
                d
            }
            _ => match (0..self.deployments.len())
                .find(|&d| self.deployments[d].assignments[c.index()].phase == Phase::NeedDownload)
            {
                Some(d) => DeploymentId(d as u16),
                None => unreachable!("a failed download belongs to a deployment"),
            },
        };
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        self.totals.bytes_downloaded += a.remaining - remaining;
        a.remaining = remaining;
        a.phase = Phase::NeedDownload;
        a.due = retry;
        self.totals.download_failures += 1;
        sched.at_fixed(retry, Event::Wake(c));
        self.refresh(c, now);
        self.next_action(c, sched);
    }

    /// The DP has sent the last byte of the client's download.
    pub(crate) fn download_finished(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let Action::Download(d) =
            std::mem::replace(&mut self.clients[c.index()].action, Action::Idle)
        else {
            unreachable!("a finished download belongs to a downloading client");
        };
        self.trace(now, Some(c), || TraceEvent::DownloadDone { deployment: d });
        let client = &self.clients[c.index()];
        let took = now.since(client.action_started).as_ms();
        let cohort = usize::from(self.clients[c.index()].hot.cohort);
        self.cohort_timings.record(cohort, Timing::Download, took);
        self.download_done(c, d, now, sched);
        self.refresh(c, now);
        if self.clients[c.index()].power_off_waiting {
            self.switch_off(c, sched);
        } else {
            self.next_action(c, sched);
        }
    }

    fn download_done(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        self.totals.bytes_downloaded += a.remaining;
        a.remaining = 0;
        a.phase = Phase::WaitDeadline;
        a.due = a.deadline_at;
        if a.due > now {
            sched.at_fixed(a.due, Event::Wake(c));
        }
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_DOWNLOADED, d.0, now);
    }

    /// Installs every missing update of the deployment, one after another;
    /// each attempt's length and outcome are drawn now.
    fn start_install(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let cohort_failure = self.cohort(c).failure_probability;
        let mut length = SimDuration::ZERO;
        for &u in &spec.updates {
            if self.updates_of[self.slot(c, u)].truth != Truth::Missing {
                continue;
            }
            let update = &self.estate.updates[u.index()];
            let p_fail = 1.0 - (1.0 - update.failure_probability) * (1.0 - cohort_failure);
            let (took, fails) = {
                let mut rng = self.clients[c.index()].rng(self.streams, c);
                let took = update.install_time.sample(&mut rng);
                (
                    took,
                    took > update.max_run_time || rng.random::<f64>() < p_fail,
                )
            };
            length = length + took.min(update.max_run_time);
            self.set_truth(
                c,
                u,
                if fails {
                    Truth::InstallingFail
                } else {
                    Truth::InstallingOk
                },
            );
            self.totals.installs += 1;
        }
        let dep = &mut self.deployments[d.index()];
        dep.assignments[c.index()].phase = Phase::Installing;
        let started = &mut dep.started[c.index()][1];
        *started = (*started).min(now);
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_INSTALLING, d.0, now);
        self.begin(c, Action::Install(d), length, sched);
        self.refresh(c, now);
    }

    fn install_done(
        &mut self,
        c: ClientId,
        d: DeploymentId,
        now: SimTime,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let spec = &self.estate.deployments[d.index()];
        let (mut failed, mut restart) = (false, false);
        for &u in &spec.updates {
            let (next, message) = match self.updates_of[self.slot(c, u)].truth {
                Truth::InstallingOk => {
                    let p = self.estate.updates[u.index()].restart_probability;
                    if self.clients[c.index()].rng(self.streams, c).random::<f64>() < p {
                        restart = true;
                        (Truth::PendingRestart, UPDATE_PENDING_RESTART)
                    } else {
                        (Truth::Installed, UPDATE_INSTALLED)
                    }
                }
                Truth::InstallingFail => {
                    failed = true;
                    self.totals.install_failures += 1;
                    (Truth::Missing, UPDATE_FAILED)
                }
                _ => continue,
            };
            self.set_truth(c, u, next);
            self.queue(c, TOPIC_UPDATE_ENFORCEMENT, message, u.0, now);
        }
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        let state = if failed {
            a.phase = Phase::Failed; // retried at the next re-evaluation
            Some(ENFORCE_FAILED)
        } else if restart {
            a.phase = Phase::PendingRestart;
            Some(ENFORCE_PENDING_RESTART)
        } else {
            a.phase = Phase::VerifyDue;
            a.due = now;
            None
        };
        if let Some(state) = state {
            self.queue(c, TOPIC_ENFORCEMENT, state, d.0, now);
        }
        if restart {
            self.plan_restart(c, d, sched);
        }
    }

    /// Plans the restart an install needs: at once inside the maintenance
    /// window it installed in; for a deadline install, the user's own time
    /// or the forced countdown, whichever is first; otherwise (Available, or
    /// restart suppressed) the user's time, at the next reminder. An earlier
    /// plan already made wins unless this one is sooner.
    fn plan_restart(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let cohort = self.cohort(c);
        let settings = self.settings(c);
        let suppressed = match cohort.kind {
            ClientKind::Workstation => spec.suppress_restart_workstations,
            ClientKind::Server => spec.suppress_restart_servers,
        };
        let required = spec.purpose == Purpose::Required;
        let client = &mut self.clients[c.index()];
        let (delay, cause) = if required
            && !suppressed
            && spec.honor_maintenance_windows
            && !cohort.windows.is_empty()
        {
            (SimDuration::ZERO, RestartCause::InWindow)
        } else {
            let user = settings
                .user_restart_delay
                .sample(&mut client.rng(self.streams, c));
            if required && !suppressed {
                if user < settings.restart_countdown {
                    (user, RestartCause::User)
                } else {
                    (settings.restart_countdown, RestartCause::Forced)
                }
            } else {
                let reminder = settings.restart_reminder_interval.as_ms();
                let k = user.as_ms().div_ceil(reminder).max(1);
                (SimDuration(k * reminder), RestartCause::User)
            }
        };
        let at = now + delay;
        let client = &mut self.clients[c.index()];
        client.restart_pending_since = client.restart_pending_since.min(now);
        self.trace(now, Some(c), || TraceEvent::RestartPlanned {
            cause,
            in_ms: delay.as_ms(),
        });
        let client = &mut self.clients[c.index()];
        let restart_at = &mut self.restart_at[c.index()];
        match client.restart_timer {
            Some(timer) if at < *restart_at => {
                client.restart_timer = sched.reschedule(timer, at);
                *restart_at = at;
                client.restart_cause = cause;
            }
            Some(_) => {}
            None => {
                client.restart_timer = Some(sched.at(at, Event::RestartDue(c)));
                *restart_at = at;
                client.restart_cause = cause;
            }
        }
    }

    /// The restart is due: restart now, or as soon as the running install
    /// ends.
    pub(crate) fn restart_due(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        debug_assert!(self.online(c), "switching off cancels the restart timer");
        let client = &mut self.clients[c.index()];
        client.restart_timer = None;
        match client.restart_cause {
            RestartCause::User => self.totals.restarts_by_user += 1,
            RestartCause::Forced => self.totals.restarts_forced += 1,
            RestartCause::InWindow => self.totals.restarts_in_window += 1,
        }
        match client.action {
            Action::Install(_) => client.restart_waiting = true,
            Action::Restart => {}
            Action::Idle => self.start_restart(c, sched),
            Action::Scan | Action::Download(_) => {
                self.interrupt(c, sched);
                self.start_restart(c, sched);
            }
        }
    }

    fn start_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let length = self
            .settings(c)
            .restart_duration
            .sample(&mut self.clients[c.index()].rng(self.streams, c));
        self.clients[c.index()].restart_waiting = false;
        self.record_restart_delay(c, sched.now());
        self.begin(c, Action::Restart, length, sched);
    }

    /// Records how long the client's pending restart waited.
    pub(crate) fn record_restart_delay(&mut self, c: ClientId, now: SimTime) {
        let client = &mut self.clients[c.index()];
        let since = std::mem::replace(&mut client.restart_pending_since, SimTime::MAX);
        if since != SimTime::MAX {
            let cohort = usize::from(self.clients[c.index()].hot.cohort);
            let ms = now.since(since).as_ms();
            self.cohort_timings.record(cohort, Timing::RestartDelay, ms);
        }
    }

    /// The client is back from a restart (or a shutdown): installs pending a
    /// restart take effect and are verified by a scan; it asks for policy.
    pub(crate) fn complete_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        for u in 0..self.estate.updates.len() {
            let u = UpdateId(u as u16);
            if self.updates_of[self.slot(c, u)].truth == Truth::PendingRestart {
                self.set_truth(c, u, Truth::Installed);
            }
        }
        for dep in &mut self.deployments {
            let a = &mut dep.assignments[c.index()];
            if a.phase == Phase::PendingRestart {
                a.phase = Phase::VerifyDue;
                a.due = SimTime::ZERO;
            }
        }
        let client = &mut self.clients[c.index()];
        client.restarted_by_shutdown = false;
        if let Some(timer) = client.restart_timer.take() {
            sched.cancel(timer);
        }
        let delay = self
            .settings(c)
            .power_on_policy_delay
            .sample(&mut self.clients[c.index()].rng(self.streams, c));
        sched.after_fixed(delay, Event::PolicyRequest(c));
    }

    /// Stops the current scan, download or restart (an install is never
    /// interrupted); a download keeps the bytes it has.
    pub(crate) fn interrupt(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let client = &mut self.clients[c.index()];
        if client.action == Action::Idle {
            // Nothing to stop (an idle client has no action timer), and no
            // state changes: no refresh either.
            debug_assert!(client.action_timer.is_none());
            return;
        }
        if let Some(timer) = client.action_timer.take() {
            sched.cancel(timer);
        }
        if client.action == Action::Scan {
            // A server's answer to this attempt will be ignored.
            client.scan_token = client.scan_token.wrapping_add(1);
        }
        if let Action::Download(d) = client.action {
            let remaining = self
                .dp_cancel(c, sched)
                .expect("a downloading client is at its DP");
            let a = &mut self.deployments[d.index()].assignments[c.index()];
            self.totals.bytes_downloaded += a.remaining - remaining;
            a.remaining = remaining;
            a.phase = Phase::NeedDownload;
            a.due = now;
            self.clients[c.index()].action = Action::Idle;
        }
        let client = &mut self.clients[c.index()];
        match std::mem::replace(&mut client.action, Action::Idle) {
            Action::Idle => {}
            Action::Install(_) => unreachable!("installs are never interrupted"),
            Action::Restart => client.restarted_by_shutdown = true,
            Action::Scan => self.requeue_scan(c, now),
            Action::Download(_) => unreachable!("handled above"),
        }
        self.refresh(c, now);
    }
}
