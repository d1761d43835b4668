//! A client's work: evaluation and verification scans, downloads, installs
//! and restarts, one at a time, each ending in state messages.
//!
//! Owns the client's decisions: what to do next ([`World::next_action`]),
//! what a scan finds, whether an install fails or needs a restart, when the
//! user restarts. A client does one thing at a time; work that comes due
//! while it is busy or off waits for the next free moment.

use rand::Rng;

use super::compliance::{
    Phase, TOPIC_COMPLIANCE, TOPIC_DETECTION, TOPIC_ENFORCEMENT, TOPIC_EVALUATION, Truth,
};
use super::events::Event;
use super::ids::{ClientId, DeploymentId};
use super::world::{Action, StateMsg, World};
use crate::engine::{Scheduler, SimDuration, SimTime};

/// Topic 300 states.
const COMPLIANT: u8 = 1;
const NON_COMPLIANT: u8 = 2;
/// Topic 301 states.
const ENFORCE_INSTALLING: u8 = 1;
const ENFORCE_SUCCESS: u8 = 4;
const ENFORCE_PENDING_RESTART: u8 = 5;
const ENFORCE_FAILED: u8 = 6;
const ENFORCE_DOWNLOADED: u8 = 8;
/// Topic 302 states.
const EVALUATION_SUCCEEDED: u8 = 2;

impl World<'_> {
    /// Queues a state message on the client; it leaves at the next cycle.
    fn queue(&mut self, c: ClientId, topic: u16, state: u8, subject: u16, now: SimTime) {
        self.clients[c.index()].queue.push(StateMsg {
            topic,
            state,
            subject,
            queued_at: now,
        });
        self.totals.state_messages_queued += 1;
    }

    fn begin(
        &mut self,
        c: ClientId,
        action: Action,
        length: SimDuration,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let client = &mut self.clients[c.index()];
        debug_assert_eq!(client.action, Action::Idle);
        client.action = action;
        client.action_started = sched.now();
        client.action_timer = Some(sched.after(length, Event::ActionDone(c)));
    }

    /// If the client is on and free, starts the most urgent work that is due:
    /// a waiting restart, a scan, a download, then an install.
    pub(crate) fn next_action(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let client = &self.clients[c.index()];
        if !client.online || client.action != Action::Idle {
            return;
        }
        if client.restart_waiting {
            self.start_restart(c, sched);
            return;
        }
        let now = sched.now();
        let mut scan = false;
        for dep in &mut self.deployments {
            let a = &mut dep.assignments[c.index()];
            match a.phase {
                Phase::EvalDue | Phase::Failed if a.due <= now => {
                    a.phase = Phase::Evaluating;
                    scan = true;
                }
                Phase::VerifyDue => {
                    a.phase = Phase::Verifying;
                    scan = true;
                }
                _ => {}
            }
        }
        if scan {
            let length = self
                .settings(c)
                .scan_duration
                .sample(&mut self.clients[c.index()].rng);
            self.begin(c, Action::Scan, length, sched);
            self.refresh(c, now);
            return;
        }
        let pick = |w: &Self, want: fn(&super::record::Assignment, SimTime) -> bool| {
            (0..w.deployments.len())
                .find(|&d| want(&w.deployments[d].assignments[c.index()], now))
                .map(|d| DeploymentId(d as u16))
        };
        if let Some(d) = pick(self, |a, _| a.phase == Phase::NeedDownload) {
            self.start_download(c, d, sched);
        } else if let Some(d) = pick(self, |a, now| {
            a.phase == Phase::WaitDeadline && a.due <= now
        }) {
            self.start_install(c, d, sched);
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
            Action::Download(d) => self.download_done(c, d, now, sched),
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

    /// A scan ends: every deployment it evaluated or verified learns what
    /// the client needs (MODEL.md 2.2 step 2, 2.3 step 5).
    fn scan_done(&mut self, c: ClientId, now: SimTime, sched: &mut Scheduler<'_, Event>) {
        self.totals.scans += 1;
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
    /// and queues the detection and compliance state messages.
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
            let t = self.truth[self.slot(c, u)];
            self.queue(c, TOPIC_DETECTION, t.detection_state(), u.0, now);
            match t {
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
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        let (phase, compliant) = if missing {
            if a.remaining == u64::MAX {
                a.remaining = missing_bytes;
            }
            if a.remaining > 0 {
                (Phase::NeedDownload, false)
            } else {
                a.due = a.deadline_at;
                (Phase::WaitDeadline, false)
            }
        } else if pending {
            (Phase::PendingRestart, false)
        } else if installed {
            (Phase::Compliant, true)
        } else {
            (Phase::NotRequired, true)
        };
        a.phase = phase;
        let wake = (phase == Phase::WaitDeadline && a.due > now).then_some(a.due);
        if let Some(t) = wake {
            sched.at(t, Event::Wake(c));
        }
        if verifying && phase == Phase::Compliant {
            self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_SUCCESS, d.0, now);
        }
        let state = if compliant { COMPLIANT } else { NON_COMPLIANT };
        self.queue(c, TOPIC_COMPLIANCE, state, d.0, now);
    }

    fn start_download(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let cohort = &self.estate.cohorts[usize::from(self.clients[c.index()].cohort)];
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        a.phase = Phase::Downloading;
        let ms = (u128::from(a.remaining) * 8_000).div_ceil(u128::from(cohort.link_bps));
        self.begin(c, Action::Download(d), SimDuration(ms as u64), sched);
        self.refresh(c, sched.now());
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
            sched.at(a.due, Event::Wake(c));
        }
        self.queue(c, TOPIC_ENFORCEMENT, ENFORCE_DOWNLOADED, d.0, now);
    }

    /// Installs every missing update of the deployment, one after another;
    /// each attempt's length and outcome are drawn now.
    fn start_install(&mut self, c: ClientId, d: DeploymentId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let spec = &self.estate.deployments[d.index()];
        let mut length = SimDuration::ZERO;
        for &u in &spec.updates {
            let slot = self.slot(c, u);
            if self.truth[slot] != Truth::Missing {
                continue;
            }
            let update = &self.estate.updates[u.index()];
            let rng = &mut self.clients[c.index()].rng;
            let took = update.install_time.sample(rng);
            let fails =
                took > update.max_run_time || rng.random::<f64>() < update.failure_probability;
            length = length + took.min(update.max_run_time);
            self.truth[slot] = if fails {
                Truth::InstallingFail
            } else {
                Truth::InstallingOk
            };
            self.totals.installs += 1;
        }
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        a.phase = Phase::Installing;
        a.install_started_at = a.install_started_at.min(now);
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
            let slot = self.slot(c, u);
            self.truth[slot] = match self.truth[slot] {
                Truth::InstallingOk => {
                    let p = self.estate.updates[u.index()].restart_probability;
                    if self.clients[c.index()].rng.random::<f64>() < p {
                        restart = true;
                        Truth::PendingRestart
                    } else {
                        Truth::Installed
                    }
                }
                Truth::InstallingFail => {
                    failed = true;
                    self.totals.install_failures += 1;
                    Truth::Missing
                }
                other => other,
            };
        }
        let retry = now + self.settings(c).reevaluation_interval;
        let a = &mut self.deployments[d.index()].assignments[c.index()];
        let state = if failed {
            a.phase = Phase::Failed;
            a.due = retry;
            sched.at(retry, Event::Wake(c));
            ENFORCE_FAILED
        } else if restart {
            a.phase = Phase::PendingRestart;
            ENFORCE_PENDING_RESTART
        } else {
            a.phase = Phase::VerifyDue;
            ENFORCE_INSTALLING
        };
        if state != ENFORCE_INSTALLING {
            self.queue(c, TOPIC_ENFORCEMENT, state, d.0, now);
        }
        if restart {
            self.plan_restart(c, sched);
        }
    }

    /// Shows the restart notification: the user restarts after their own
    /// delay, or the countdown forces it, whichever comes first.
    fn plan_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        if self.clients[c.index()].restart_timer.is_some() {
            return;
        }
        let settings = self.settings(c);
        let client = &mut self.clients[c.index()];
        let user = settings.user_restart_delay.sample(&mut client.rng);
        client.restart_forced = user >= settings.restart_countdown;
        client.restart_timer =
            Some(sched.after(user.min(settings.restart_countdown), Event::RestartDue(c)));
    }

    /// The restart notification has run out: restart now, or as soon as the
    /// running install ends.
    pub(crate) fn restart_due(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let client = &mut self.clients[c.index()];
        client.restart_timer = None;
        debug_assert!(client.online, "switching off cancels the restart timer");
        if client.restart_forced {
            self.totals.restarts_forced += 1;
        } else {
            self.totals.restarts_by_user += 1;
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
            .sample(&mut self.clients[c.index()].rng);
        self.clients[c.index()].restart_waiting = false;
        self.begin(c, Action::Restart, length, sched);
    }

    /// The client is back from a restart (or a shutdown): installs pending a
    /// restart take effect and are verified by a scan; it asks for policy.
    pub(crate) fn complete_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let n = self.estate.updates.len();
        for t in &mut self.truth[c.index() * n..(c.index() + 1) * n] {
            if *t == Truth::PendingRestart {
                *t = Truth::Installed;
            }
        }
        for dep in &mut self.deployments {
            let a = &mut dep.assignments[c.index()];
            if a.phase == Phase::PendingRestart {
                a.phase = Phase::VerifyDue;
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
            .sample(&mut self.clients[c.index()].rng);
        sched.after(delay, Event::PolicyRequest(c));
    }

    /// Stops the current scan, download or restart (an install is never
    /// interrupted); a download keeps the bytes it has.
    pub(crate) fn interrupt(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let client = &mut self.clients[c.index()];
        if let Some(timer) = client.action_timer.take() {
            sched.cancel(timer);
        }
        let started = client.action_started;
        match std::mem::replace(&mut client.action, Action::Idle) {
            Action::Idle => {}
            Action::Install(_) => unreachable!("installs are never interrupted"),
            Action::Restart => client.restarted_by_shutdown = true,
            Action::Scan => {
                for dep in &mut self.deployments {
                    let a = &mut dep.assignments[c.index()];
                    match a.phase {
                        Phase::Evaluating => {
                            a.phase = Phase::EvalDue;
                            a.due = now;
                        }
                        Phase::Verifying => a.phase = Phase::VerifyDue,
                        _ => {}
                    }
                }
            }
            Action::Download(d) => {
                let bps = self.estate.cohorts[usize::from(client.cohort)].link_bps;
                let a = &mut self.deployments[d.index()].assignments[c.index()];
                let got = (u128::from(now.since(started).as_ms()) * u128::from(bps) / 8_000)
                    .min(u128::from(a.remaining)) as u64;
                a.remaining -= got;
                a.phase = Phase::NeedDownload;
                self.totals.bytes_downloaded += got;
            }
        }
        self.refresh(c, now);
    }
}
