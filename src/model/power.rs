//! Power and presence: when a client is on, and what switching off does.
//!
//! Owns the business-hours pattern (weekdays, local start and end, each
//! drawn daily with jitter), the intermittent pattern (alternating on and
//! off periods, for laptops) and the offline law: an offline client does
//! nothing; its queued state messages wait for it; a shutdown completes a
//! pending restart unless Fast Startup turns it into a hibernation; an
//! install in progress finishes before the client goes.

use rand::Rng;

use super::client::Action;
use super::compliance::Truth;
use super::events::Event;
use super::trace::TraceEvent;
use super::world::World;
use crate::engine::{CounterSession, Scheduler, SimDuration, SimTime};
use crate::estate::ClientId;
use crate::estate::PowerSpec;

const DAY_MS: u64 = 86_400_000;

impl World<'_> {
    fn business_hours(&self, c: ClientId) -> Option<(SimDuration, SimDuration, SimDuration)> {
        match self.cohort(c).power {
            PowerSpec::BusinessHours { start, end, jitter } => Some((start, end, jitter)),
            _ => None,
        }
    }

    /// Draws from client `c`'s stream through one session (one ChaCha
    /// block for the several draws a power change makes, instead of one
    /// each): `f` reads the world and draws from `rng` only.
    fn with_draws<T>(
        &mut self,
        c: ClientId,
        f: impl FnOnce(&Self, &mut CounterSession<'_>) -> T,
    ) -> T {
        let mut stream = self.clients.stream(c);
        let out = f(self, &mut stream.session());
        self.clients.set_stream_position(c, &stream);
        out
    }

    /// For an intermittent client: the length of its next on (or off) period.
    fn intermittent(&self, c: ClientId, on: bool, rng: &mut impl Rng) -> SimDuration {
        match &self.cohort(c).power {
            PowerSpec::Intermittent { on: on_dist, off } => {
                let d = if on {
                    on_dist.sample(rng)
                } else {
                    off.sample(rng)
                };
                d.max(SimDuration::from_secs(1))
            }
            _ => unreachable!("only intermittent clients draw periods"),
        }
    }

    /// Local day index (0 = the Monday of the start week) and the simulated
    /// time at which that day starts (may be before zero, hence i64).
    fn local_day(&self, t: SimTime) -> (u64, i64) {
        let local = self.estate.week_offset.as_ms() + t.as_ms();
        let day = local / DAY_MS;
        (
            day,
            (day * DAY_MS) as i64 - self.estate.week_offset.as_ms() as i64,
        )
    }

    /// The first power-on strictly after `after`.
    fn next_power_on(&self, c: ClientId, after: SimTime, rng: &mut impl Rng) -> SimTime {
        let Some((start, _, jitter)) = self.business_hours(c) else {
            return after + self.intermittent(c, false, rng);
        };
        let (mut day, mut day_start) = self.local_day(after);
        loop {
            if day % 7 < 5 {
                let on = jittered(day_start, start, jitter, rng);
                if on > after.as_ms() as i64 {
                    return SimTime(on as u64);
                }
            }
            day += 1;
            day_start += DAY_MS as i64;
        }
    }

    /// Decides whether a business-hours client is on at time zero and
    /// schedules its next switch.
    pub(crate) fn schedule_first_power(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let (online, event) = self.with_draws(c, |w, rng| {
            let Some((start, end, jitter)) = w.business_hours(c) else {
                // Intermittent: the run starts in the middle of the
                // alternation, as if it had gone on for ever: on with the
                // long-run share of time on, and the period under way has
                // the time left that a period caught at a random moment
                // has (not a uniform part of a fresh period: a random
                // moment falls more often in a long period).
                let PowerSpec::Intermittent { on, off } = &w.cohort(c).power else {
                    unreachable!("only business-hours and intermittent clients switch");
                };
                let share_on = on.mean_ms() / (on.mean_ms() + off.mean_ms());
                let online = rng.random::<f64>() < share_on;
                let period = if online { on } else { off };
                let left = SimTime(period.sample_residual(rng).as_ms());
                return if online {
                    (true, (left, Event::PowerOff(c)))
                } else {
                    (false, (left, Event::PowerOn(c)))
                };
            };
            let (day, day_start) = w.local_day(SimTime::ZERO);
            if day % 7 < 5 {
                let on = jittered(day_start, start, jitter, rng);
                let off = jittered(day_start, end, jitter, rng);
                if on <= 0 && off > 0 {
                    return (true, (SimTime(off as u64), Event::PowerOff(c)));
                }
                if on > 0 {
                    return (false, (SimTime(on as u64), Event::PowerOn(c)));
                }
            }
            let on = w.next_power_on(c, SimTime::ZERO, rng);
            (false, (on, Event::PowerOn(c)))
        });
        self.clients.set_online_at_start(c, online);
        sched.at_fixed(event.0, event.1);
    }

    /// The client starts: it completes a restart a shutdown began, asks for
    /// policy within a few minutes, picks up its work, and its poll chain
    /// runs again.
    pub(crate) fn power_on(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        // Whether a silent answer finds it on depends on when it switched on.
        let settled = self.settle_own_answer(c, sched.key());
        let restarted = self.clients[c].restarted_by_shutdown;
        // The switch-off time, then (unless a restart completes) the delay
        // of the first policy request.
        let (off, delay) = self.with_draws(c, |w, rng| {
            let off = match w.business_hours(c) {
                Some((_, end, jitter)) => {
                    let (_, day_start) = w.local_day(now);
                    SimTime(jittered(day_start, end, jitter, rng) as u64)
                }
                None => now + w.intermittent(c, true, rng),
            };
            let delay = (!restarted).then(|| w.settings(c).power_on_policy_delay.sample(rng));
            (off, delay)
        });
        sched.at_fixed(off, Event::PowerOff(c));
        self.clients.set_online(c, true, &settled);
        if let Some(g) = self.cohort(c).gateway {
            self.gateways.connect(g, sched.now());
        }
        self.peer_back(c);
        match delay {
            None => {
                self.recorder.totals.restarts_by_shutdown += 1;
                self.record_restart_delay(c, now);
                self.complete_restart(c, sched);
                self.refresh(c, now);
            }
            Some(delay) => {
                sched.after_fixed(delay, Event::PolicyRequest(c));
                self.resume_restart(c, sched);
            }
        }
        self.next_action(c, sched);
        self.report_dirty.push(c);
        self.resume_polls(c, sched);
    }

    /// A client back from a shutdown that kept its pending restart (Fast
    /// Startup): the planned restart happens when it was due, or at once
    /// if that time passed while the client was off. (A restart nothing
    /// plans stays pending.)
    fn resume_restart(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let client = &self.clients[c];
        let planned = self.clients.cold(c).restart_at;
        if client.restart_pending_since == SimTime::MAX
            || client.restart_timer.is_some()
            || planned == SimTime::MAX
        {
            return;
        }
        let at = planned.max(sched.now());
        self.clients[c].restart_timer = Some(sched.at(at, Event::RestartDue(c)));
    }

    /// The user shuts down; an install in progress finishes first.
    pub(crate) fn power_off(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        if matches!(self.clients[c].action, Action::Install(_)) {
            self.clients[c].power_off_waiting = true;
        } else {
            self.switch_off(c, sched);
        }
    }

    /// The client goes off now: its action stops, a pending restart counts
    /// as done at the next start, and it plans its next power-on.
    pub(crate) fn switch_off(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        self.quiet_switched_off(c, sched.key());
        let settled = self.settle_own_answer(c, sched.key());
        self.recorder.trace(now, Some(c), || TraceEvent::PowerOff);
        self.interrupt(c, sched);
        self.peer_away(c, sched);
        let pending = (self.clients.updates(c).iter()).any(|s| s.truth == Truth::PendingRestart);
        let client = &mut self.clients[c];
        client.power_off_waiting = false;
        client.restart_waiting = false;
        // The enforcement it had begun stops: it begins anew when the
        // client is back.
        self.clients.cold_mut(c).enforcing_since = SimTime::MAX;
        self.clients.set_online(c, false, &settled);
        if let Some(g) = self.cohort(c).gateway {
            self.gateways.disconnect(g, sched.now());
        }
        let client = &mut self.clients[c];
        if let Some(timer) = client.restart_timer.take() {
            sched.cancel(timer);
        }
        // With Fast Startup a shutdown hibernates the kernel: the pending
        // restart stays pending, and its countdown goes on while off.
        client.restarted_by_shutdown |= pending && !client.fast_startup;
        let on = self.with_draws(c, |w, rng| w.next_power_on(c, now, rng));
        sched.at_fixed(on, Event::PowerOn(c));
    }
}

/// A time of day on a local day, jittered by a fresh draw.
fn jittered(day_start: i64, at: SimDuration, jitter: SimDuration, rng: &mut impl Rng) -> i64 {
    let j = jitter.as_ms() as i64;
    let offset = if j > 0 { rng.random_range(-j..=j) } else { 0 };
    day_start + at.as_ms() as i64 + offset
}
