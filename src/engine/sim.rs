//! The run loop: pops events in order and hands them to the model.
//!
//! Owns [`Simulation`], the [`Model`] trait and the [`Scheduler`] a model
//! uses to schedule, cancel and move its own future events, to run periodic
//! timers on fixed phases, and to reserve a place in the event order for an
//! event it may never need to schedule.
//! Counts events;
//! never prints, never reads a clock. A caller may stop a run between two
//! events ([`Simulation::run_until_stoppable`]): the engine asks, it does
//! not know why (a Ctrl-C, a failed check).

use super::queue::{Agenda, EventKey, PeriodicId, Source, TimerId};
use super::time::{SimDuration, SimTime};

/// How many events ahead the run loop tells the model of an event to come
/// ([`Model::hint`]): far enough that its memory arrives in time, near
/// enough that it is still in cache when the event is handled.
const PREFETCH_DISTANCE: usize = 16;

/// A model the engine can drive: it reacts to one event at a time.
pub trait Model {
    /// The model's own event type: a small value (the agenda keeps a copy
    /// of each pending event with its key).
    type Event: Copy;

    /// Handles `event` at time `sched.now()`, scheduling follow-ups on `sched`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<'_, Self::Event>);

    /// A hint: `event` will be handled soon (a few events from now). A
    /// model may start loading the memory it will touch then (see
    /// [`prefetch`](crate::engine::prefetch)), so that the waits of several
    /// events overlap. Must not change anything. By default nothing.
    #[inline]
    fn hint(&self, event: &Self::Event) {
        let _ = event;
    }

    /// A second hint for an event already offered to [`hint`](Self::hint),
    /// about half as many events ahead: what `hint` started loading is
    /// likely in cache by now, so a model can follow it to what it names (a
    /// record to the entity it belongs to). Must not change anything. By
    /// default nothing.
    #[inline]
    fn hint_through(&self, event: &Self::Event) {
        let _ = event;
    }

    /// Every event at `sched.now()` has been handled, and the model asked
    /// for this call ([`Scheduler::at_end_of_instant`]) while handling one of
    /// them: it can now look at the state as it stands at the end of that
    /// instant (a snapshot that must count everything that happened at it,
    /// whatever order it happened in). `sched.key()` is after every event at
    /// that time. By default nothing.
    fn instant_done(&mut self, sched: &mut Scheduler<'_, Self::Event>) {
        let _ = sched;
    }
}

/// What a model may do to the future while it handles an event.
pub struct Scheduler<'a, E> {
    key: EventKey,
    agenda: &'a mut Agenda<E>,
    /// The instant the model wants [`Model::instant_done`] at.
    instant_end: &'a mut Option<SimTime>,
}

impl<E: Copy> Scheduler<'_, E> {
    /// Panics with `what` if `time` is before now.
    #[inline]
    #[track_caller]
    fn not_past(&self, time: SimTime, what: &str) {
        assert!(
            time >= self.key.time,
            "{what} in the past: {time} < {}",
            self.key.time
        );
    }

    /// The time of the event being handled.
    pub fn now(&self) -> SimTime {
        self.key.time
    }

    /// Asks for [`Model::instant_done`] once every event at the current time
    /// has been handled, those scheduled later for this same time included.
    ///
    /// ```
    /// use patchsim::engine::{Model, Scheduler, SimTime, Simulation};
    ///
    /// /// Event 0 asks for the end of its instant; event 1, at the same
    /// /// time, is scheduled after it; the end comes after both.
    /// #[derive(Default)]
    /// struct Snapshots(Vec<&'static str>);
    /// impl Model for Snapshots {
    ///     type Event = u32;
    ///     fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
    ///         self.0.push(if event == 0 { "zero" } else { "one" });
    ///         if event == 0 {
    ///             sched.at_end_of_instant();
    ///             sched.at(sched.now(), 1);
    ///         }
    ///     }
    ///     fn instant_done(&mut self, _: &mut Scheduler<'_, u32>) {
    ///         self.0.push("end");
    ///     }
    /// }
    ///
    /// let mut sim = Simulation::new(Snapshots::default());
    /// sim.schedule(SimTime(5), 0);
    /// sim.run_until(SimTime(10));
    /// assert_eq!(sim.model().0, ["zero", "one", "end"]);
    /// ```
    pub fn at_end_of_instant(&mut self) {
        *self.instant_end = Some(self.key.time);
    }

    /// The place in the event order of the event being handled: every event
    /// handled before it has a smaller key, every one after a larger key. In
    /// [`Simulation::setup`], the key of the last event handled or, if the
    /// clock has moved past it, `(now, 0)`.
    pub fn key(&self) -> EventKey {
        self.key
    }

    /// Reserves the place in the order an event scheduled now at `time`
    /// would take, without scheduling anything: later calls get later
    /// places, exactly as if the event had been scheduled. Comparing the key
    /// with [`key`](Self::key) later tells whether that event would already
    /// have been handled; [`at_reserved`](Self::at_reserved) schedules it
    /// after all, in that place.
    ///
    /// ```
    /// use patchsim::engine::{EventKey, Model, Scheduler, SimTime, Simulation};
    ///
    /// /// Event 0 starts a silent job due at 10 ms and schedules 2 at 10 ms
    /// /// and 1 at 5 ms; event 1 makes the job a real event after all.
    /// #[derive(Default)]
    /// struct Jobs {
    ///     job: Option<EventKey>,
    ///     seen: Vec<u32>,
    /// }
    /// impl Model for Jobs {
    ///     type Event = u32;
    ///     fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
    ///         self.seen.push(event);
    ///         match event {
    ///             0 => {
    ///                 self.job = Some(sched.reserve(SimTime(10)));
    ///                 sched.at(SimTime(10), 2);
    ///                 sched.at(SimTime(5), 1);
    ///             }
    ///             1 => {
    ///                 let job = self.job.take().expect("reserved by 0");
    ///                 assert!(job > sched.key(), "not due yet");
    ///                 sched.at_reserved(job, 99);
    ///             }
    ///             _ => {}
    ///         }
    ///     }
    /// }
    ///
    /// let mut sim = Simulation::new(Jobs::default());
    /// sim.schedule(SimTime::ZERO, 0);
    /// sim.run_until(SimTime(100));
    /// // The job's place was reserved before 2 was scheduled: it leaves first.
    /// assert_eq!(sim.model().seen, vec![0, 1, 99, 2]);
    /// ```
    pub fn reserve(&mut self, time: SimTime) -> EventKey {
        self.not_past(time, "place reserved");
        EventKey {
            time,
            seq: self.agenda.reserve_seq(),
        }
    }

    /// Schedules `event` in the place `key` from [`reserve`](Self::reserve)
    /// names; each reserved key at most once, and only while it is still
    /// after [`key`](Self::key) (the event would not have been handled yet).
    /// The id cancels and moves the event like any other.
    pub fn at_reserved(&mut self, key: EventKey, event: E) -> TimerId {
        assert!(
            key > self.key,
            "reserved place {key:?} is not after the event being handled {:?}",
            self.key
        );
        self.agenda.push_reserved(key.time, key.seq, event)
    }

    /// Schedules `event` at `time`, which must not be in the past.
    pub fn at(&mut self, time: SimTime, event: E) -> TimerId {
        self.not_past(time, "event scheduled");
        self.agenda.push(time, event)
    }

    /// Schedules `event` after `delay`.
    pub fn after(&mut self, delay: SimDuration, event: E) -> TimerId {
        self.agenda.push(self.key.time + delay, event)
    }

    /// Schedules `event` at `time`, which must not be in the past, for good:
    /// it will not be cancelled or moved, so it has no id, and the agenda
    /// keeps it more cheaply (see [`Agenda::push_fixed`]). It takes its
    /// place in the order exactly as [`at`](Self::at) would.
    pub fn at_fixed(&mut self, time: SimTime, event: E) {
        self.not_past(time, "event scheduled");
        self.agenda.push_fixed(time, event);
    }

    /// Schedules `event` at `time` for good, in the place `rank` gives it
    /// among the events of that instant, whenever it is scheduled (see
    /// [`Agenda::push_ranked`]); that place must not have passed.
    pub fn at_ranked(&mut self, time: SimTime, rank: u64, event: E) {
        let key = EventKey {
            time,
            seq: super::queue::RANKED_SEQ + rank,
        };
        assert!(key > self.key, "ranked event at {time} already passed");
        self.agenda.push_ranked(time, rank, event);
    }

    /// Schedules `event` after `delay`, for good (see
    /// [`at_fixed`](Self::at_fixed)).
    pub fn after_fixed(&mut self, delay: SimDuration, event: E) {
        self.agenda.push_fixed(self.key.time + delay, event);
    }

    /// A periodic timer, not armed, firing `event` at times congruent to
    /// `phase` modulo `period`; timers of one period are made in order of
    /// phase. See [`Agenda::periodic`].
    pub fn periodic(&mut self, phase: SimTime, period: SimDuration, event: E) -> PeriodicId {
        self.agenda.periodic(phase, period, event)
    }

    /// Arms periodic timer `id` (not armed) for `time`, one of its firing
    /// times, not yet passed; it orders by its timer (see [`Agenda::periodic`]).
    pub fn arm_periodic(&mut self, id: PeriodicId, time: SimTime) {
        // Its firing comes before the pushed events of its instant: armed
        // for the instant being handled, it would already have passed.
        assert!(
            EventKey {
                time,
                seq: id.rank()
            } > self.key,
            "periodic timer armed for {time}, already passed at {:?}",
            self.key
        );
        self.agenda.arm_periodic(id, time);
    }

    /// Arms periodic timer `id` (not armed) for its first firing strictly
    /// after now; it orders by its timer.
    #[inline]
    pub fn resume(&mut self, id: PeriodicId) {
        self.agenda.resume(id, self.key.time);
    }

    /// Arms the periodic timer whose firing is being handled for one period
    /// on, as [`resume`](Self::resume) would. Panics if the event being
    /// handled is not a periodic timer's firing.
    #[inline]
    pub fn repeat(&mut self) {
        let id =
            (self.agenda.firing(self.key)).expect("repeat() handles a periodic timer's firing");
        self.agenda.resume(id, self.key.time);
    }

    /// Cancels a pending event; `None` if it already ran or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<E> {
        self.agenda.cancel(id)
    }

    /// Moves a pending event to `time`; `None` if it is no longer pending.
    pub fn reschedule(&mut self, id: TimerId, time: SimTime) -> Option<TimerId> {
        assert!(time >= self.key.time, "event moved into the past");
        self.agenda.reschedule(id, time)
    }
}

/// Counters of one run loop.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RunStats {
    /// Events handled so far.
    pub events: u64,
    /// Time of the last event handled (or the stop time reached).
    pub now: SimTime,
    /// Events still pending.
    pub pending: usize,
}

/// A model, its agenda and the clock.
///
/// ```
/// use patchsim::engine::{Model, Scheduler, SimDuration, SimTime, Simulation};
///
/// /// Ticks once a second and counts the ticks.
/// struct Ticker(u32);
/// impl Model for Ticker {
///     type Event = ();
///     fn handle(&mut self, _: (), sched: &mut Scheduler<'_, ()>) {
///         self.0 += 1;
///         sched.after(SimDuration::from_secs(1), ());
///     }
/// }
///
/// let mut sim = Simulation::new(Ticker(0));
/// sim.schedule(SimTime::ZERO, ());
/// let stats = sim.run_until(SimTime(10_000));
/// assert_eq!(sim.model().0, 11); // ticks at 0, 1, ..., 10 s
/// assert_eq!(stats.events, 11);
/// ```
pub struct Simulation<M: Model> {
    model: M,
    agenda: Agenda<M::Event>,
    now: SimTime,
    /// The key of the last event handled (`(0, 0)` before the first).
    last: EventKey,
    events: u64,
    /// An instant whose end the model asked to hear of.
    instant_end: Option<SimTime>,
}

impl<M: Model> Simulation<M> {
    /// A simulation at time zero with nothing scheduled.
    pub fn new(model: M) -> Self {
        Simulation {
            model,
            agenda: Agenda::new(),
            now: SimTime::ZERO,
            last: EventKey {
                time: SimTime::ZERO,
                seq: 0,
            },
            events: 0,
            instant_end: None,
        }
    }

    /// Schedules an event from outside the model (initial events).
    pub fn schedule(&mut self, time: SimTime, event: M::Event) -> TimerId {
        assert!(time >= self.now, "event scheduled in the past");
        self.agenda.push(time, event)
    }

    /// Lets the model schedule its initial events itself.
    pub fn setup(&mut self, f: impl FnOnce(&mut M, &mut Scheduler<'_, M::Event>)) {
        let now = EventKey {
            time: self.now,
            seq: 0,
        };
        let mut sched = Scheduler {
            key: self.last.max(now),
            agenda: &mut self.agenda,
            instant_end: &mut self.instant_end,
        };
        f(&mut self.model, &mut sched);
    }

    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably (between steps only).
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Ends the simulation and returns the model.
    pub fn into_model(self) -> M {
        self.model
    }

    /// Counters so far.
    pub fn stats(&self) -> RunStats {
        RunStats {
            events: self.events,
            now: self.now,
            pending: self.agenda.len(),
        }
    }

    /// Handles the next event if it is at or before `end`; false otherwise.
    pub fn step(&mut self, end: SimTime) -> bool {
        if let Some(t) = self.instant_end
            && self.agenda.peek_time().is_none_or(|next| next > t)
        {
            self.instant_end = None;
            let mut sched = Scheduler {
                key: EventKey {
                    time: t,
                    seq: u64::MAX,
                },
                agenda: &mut self.agenda,
                instant_end: &mut self.instant_end,
            };
            self.model.instant_done(&mut sched);
        }
        match self.agenda.pop_from(end) {
            Some((key, event, source)) => {
                let model = &self.model;
                // A periodic firing leaves the queue's order as it was: its
                // events ahead were hinted at already.
                if source == Source::Queue {
                    (self.agenda).hint_queue(PREFETCH_DISTANCE, |soon| model.hint(soon));
                    if let Some(nearer) = self.agenda.ahead(PREFETCH_DISTANCE / 2) {
                        model.hint_through(nearer);
                    }
                }
                (self.agenda).hint_periodic(2 * PREFETCH_DISTANCE, |soon| model.hint(soon));
                self.now = key.time;
                self.last = key;
                self.events += 1;
                let mut sched = Scheduler {
                    key,
                    agenda: &mut self.agenda,
                    instant_end: &mut self.instant_end,
                };
                self.model.handle(event, &mut sched);
                true
            }
            None => false,
        }
    }

    /// Runs every event up to and including `end`; the clock then reads `end`.
    pub fn run_until(&mut self, end: SimTime) -> RunStats {
        self.run_until_with(end, u64::MAX, |_| {})
    }

    /// As [`run_until`](Self::run_until), calling `progress` every `every`
    /// events (for a progress bar; it must not touch simulated state).
    pub fn run_until_with(
        &mut self,
        end: SimTime,
        every: u64,
        progress: impl FnMut(RunStats),
    ) -> RunStats {
        match self.run_until_stoppable(end, every, progress, || false) {
            RunEnd::Completed(stats) | RunEnd::Stopped(stats) => stats,
        }
    }

    /// As [`run_until_with`](Self::run_until_with), asking `stop` before
    /// each event whether to stop there instead. A stopped run can be
    /// resumed by calling this again.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use patchsim::engine::{Model, RunEnd, Scheduler, SimDuration, SimTime, Simulation};
    ///
    /// struct Ticker;
    /// impl Model for Ticker {
    ///     type Event = ();
    ///     fn handle(&mut self, _: (), sched: &mut Scheduler<'_, ()>) {
    ///         sched.after(SimDuration::from_secs(1), ());
    ///     }
    /// }
    ///
    /// // Raised from elsewhere (a signal handler, another thread).
    /// let interrupted = AtomicBool::new(false);
    /// let mut sim = Simulation::new(Ticker);
    /// sim.schedule(SimTime::ZERO, ());
    /// let end = SimTime(3_600_000);
    /// let stop = || interrupted.load(Ordering::Relaxed);
    /// let progress = |s: patchsim::engine::RunStats| {
    ///     if s.events == 10 {
    ///         interrupted.store(true, Ordering::Relaxed);
    ///     }
    /// };
    /// match sim.run_until_stoppable(end, 1, progress, stop) {
    ///     RunEnd::Stopped(stats) => assert_eq!((stats.events, stats.now), (10, SimTime(9_000))),
    ///     RunEnd::Completed(_) => unreachable!("stopped after 10 events"),
    /// }
    /// ```
    pub fn run_until_stoppable(
        &mut self,
        end: SimTime,
        every: u64,
        mut progress: impl FnMut(RunStats),
        mut stop: impl FnMut() -> bool,
    ) -> RunEnd {
        let every = every.max(1);
        // The next multiple of `every` (a comparison per event, not a division).
        let mut next = (self.events / every + 1).saturating_mul(every);
        loop {
            if stop() {
                return RunEnd::Stopped(self.stats());
            }
            if !self.step(end) {
                break;
            }
            if self.events == next {
                progress(self.stats());
                next = next.saturating_add(every);
            }
        }
        self.now = self.now.max(end);
        RunEnd::Completed(self.stats())
    }
}

/// How a stoppable run loop ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    /// Every event up to the end time was handled; the clock reads the end.
    Completed(RunStats),
    /// The caller asked to stop; the clock reads the last event handled.
    Stopped(RunStats),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ticks on phases `7·i mod 100` that are *active* at a firing or not
    /// (a hash of the tick and the time, so both runs agree), and one-off
    /// events pushed a few ms after an active firing, often onto another
    /// tick's instant. With `lazy`, a tick is armed only for its next
    /// active firing; otherwise at every firing, the inactive ones doing
    /// nothing.
    struct Ticks {
        lazy: bool,
        ids: Vec<PeriodicId>,
        seen: Vec<(SimTime, u32)>,
    }

    const PERIOD: SimDuration = SimDuration(100);

    fn active(tick: u32, t: SimTime) -> bool {
        let h = ((u64::from(tick) << 32) ^ t.as_ms()).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        h >> 61 < 3
    }

    impl Model for Ticks {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
            let now = sched.now();
            match event {
                tick @ 0..1_000 => {
                    let id = self.ids[tick as usize];
                    if active(tick, now) {
                        self.seen.push((now, event));
                        let soon = (now.as_ms() + u64::from(tick)) % 3;
                        sched.after(SimDuration(soon), 1_000 + tick);
                    }
                    if self.lazy {
                        let mut next = now + PERIOD;
                        while !active(tick, next) {
                            next += PERIOD;
                        }
                        sched.arm_periodic(id, next);
                    } else {
                        sched.repeat();
                    }
                }
                _ => self.seen.push((now, event)),
            }
        }
    }

    /// A periodic timer's firing has its place whenever the timer was
    /// armed: armed only for the firings that do something, the ticks and
    /// the events they push leave in exactly the order of a run that arms
    /// every tick at every firing. The firings of an instant come first,
    /// in the order the timers were made.
    #[test]
    fn a_firing_has_its_place_whenever_its_timer_was_armed() {
        let run = |lazy: bool| {
            let mut sim = Simulation::new(Ticks {
                lazy,
                ids: Vec::new(),
                seen: Vec::new(),
            });
            // Phases 7·i mod 100: many ticks share one.
            let mut ticks: Vec<u32> = (0..300).collect();
            ticks.sort_by_key(|&i| u64::from(i) * 7 % PERIOD.as_ms());
            sim.setup(|model, sched| {
                let mut ids = vec![None; ticks.len()];
                for &i in &ticks {
                    let phase = SimTime(u64::from(i) * 7 % PERIOD.as_ms());
                    ids[i as usize] = Some(sched.periodic(phase, PERIOD, i));
                }
                model.ids = ids.into_iter().flatten().collect();
                for i in 0..300u32 {
                    let mut first = SimTime(u64::from(i) * 7 % PERIOD.as_ms());
                    while lazy && !active(i, first) {
                        first += PERIOD;
                    }
                    sched.arm_periodic(model.ids[i as usize], first);
                }
            });
            sim.run_until(SimTime(20_000));
            sim.into_model().seen
        };
        let every = run(false);
        let lazy = run(true);
        assert!(every.len() > 40_000, "{} events", every.len());
        assert!(every == lazy, "the orders differ");
        // Within an instant, ticks (in the order made) before one-offs.
        for pair in every.windows(2) {
            let ((t0, a), (t1, b)) = (pair[0], pair[1]);
            if t0 == t1 && a < 1_000 && b < 1_000 {
                let made = |i: u32| (u64::from(i) * 7 % PERIOD.as_ms(), i);
                assert!(made(a) < made(b), "{a} then {b} at {t0}");
            }
            assert!(
                t0 < t1 || !(a >= 1_000 && b < 1_000),
                "a tick after a one-off at {t0}"
            );
        }
    }

    /// Counts the hints each pushed event gets; a periodic tick (`u32::MAX`)
    /// fires every millisecond in between.
    struct Hinted {
        offered: Vec<std::cell::Cell<u32>>,
        handled: Vec<u32>,
    }

    impl Model for Hinted {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
            if event == u32::MAX {
                if sched.now() < SimTime(6_000) {
                    sched.repeat();
                }
            } else {
                self.handled.push(self.offered[event as usize].get());
            }
        }
        fn hint(&self, event: &u32) {
            if let Some(n) = self.offered.get(*event as usize) {
                n.set(n.get() + 1);
            }
        }
    }

    /// The run loop offers each pushed event to `hint` once, before it
    /// is handled (but the first of each of the queue's windows), however
    /// many periodic firings come in between.
    #[test]
    fn each_pushed_event_is_hinted_once() {
        const N: u32 = 3_000;
        let mut sim = Simulation::new(Hinted {
            offered: (0..N).map(|_| std::cell::Cell::new(0)).collect(),
            handled: Vec::new(),
        });
        sim.setup(|_, sched| {
            let tick = sched.periodic(SimTime(0), SimDuration::from_ms(1), u32::MAX);
            sched.arm_periodic(tick, SimTime(0));
            for i in 0..N {
                sched.at_fixed(SimTime(2_000 + u64::from(i)), i);
            }
        });
        sim.run_until(SimTime(10_000));
        let model = sim.into_model();
        assert_eq!(model.handled.len(), N as usize);
        assert!(
            model.offered.iter().all(|n| n.get() <= 1),
            "hinted more than once"
        );
        let before = model.handled.iter().filter(|&&n| n == 1).count();
        // 3,000 ms of events in windows of 1,024 ms: at most four firsts.
        assert!(
            before >= N as usize - 4,
            "{before} of {N} hinted before they were handled"
        );
    }

    /// Records the order it sees events in and cancels one of them.
    struct Recorder {
        seen: Vec<(SimTime, u32)>,
        victim: Option<TimerId>,
    }

    impl Model for Recorder {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
            self.seen.push((sched.now(), event));
            if event == 0 {
                sched.after(SimDuration::from_ms(5), 10);
                self.victim = Some(sched.after(SimDuration::from_ms(5), 11));
                sched.after(SimDuration::from_ms(5), 12);
            }
            if event == 10 {
                let victim = self.victim.take().expect("set by event 0");
                assert_eq!(sched.cancel(victim), Some(11));
            }
        }
    }

    #[test]
    fn runs_in_order_cancels_and_stops_at_end() {
        let mut sim = Simulation::new(Recorder {
            seen: vec![],
            victim: None,
        });
        sim.schedule(SimTime(0), 0);
        sim.schedule(SimTime(100), 99);
        let stats = sim.run_until(SimTime(50));
        assert_eq!(
            sim.model().seen,
            vec![(SimTime(0), 0), (SimTime(5), 10), (SimTime(5), 12)]
        );
        assert_eq!(stats.events, 3);
        assert_eq!(stats.now, SimTime(50));
        assert_eq!(stats.pending, 1);
    }

    #[test]
    fn a_stopped_run_resumes_where_it_stopped() {
        let mut sim = Simulation::new(Recorder {
            seen: vec![],
            victim: None,
        });
        sim.schedule(SimTime(0), 0);
        sim.schedule(SimTime(100), 99);
        let mut asked = 0;
        let end = sim.run_until_stoppable(
            SimTime(200),
            1,
            |_| {},
            || {
                asked += 1;
                asked > 2
            },
        );
        assert_eq!(
            end,
            RunEnd::Stopped(RunStats {
                events: 2,
                now: SimTime(5),
                pending: 2
            })
        );
        let RunEnd::Completed(stats) = sim.run_until_stoppable(SimTime(200), 1, |_| {}, || false)
        else {
            panic!("nothing stops it");
        };
        assert_eq!((stats.events, stats.now), (4, SimTime(200)));
        assert_eq!(sim.model().seen.last(), Some(&(SimTime(100), 99)));
    }

    /// Progress is reported after every `every`-th event, counted over the
    /// whole run, also across a stop.
    #[test]
    fn progress_comes_every_so_many_events() {
        struct Ticker;
        impl Model for Ticker {
            type Event = ();
            fn handle(&mut self, _: (), sched: &mut Scheduler<'_, ()>) {
                sched.after(SimDuration(1), ());
            }
        }
        let mut sim = Simulation::new(Ticker);
        sim.schedule(SimTime::ZERO, ());
        let mut seen = vec![];
        let mut asked = 0;
        let stop = || {
            asked += 1;
            asked > 7
        };
        let end = sim.run_until_stoppable(SimTime(1_000), 3, |s| seen.push(s.events), stop);
        assert!(matches!(end, RunEnd::Stopped(s) if s.events == 7));
        assert_eq!(seen, [3, 6]);
        sim.run_until_stoppable(SimTime(13), 3, |s| seen.push(s.events), || false);
        assert_eq!(seen, [3, 6, 9, 12], "14 events, times 0 to 13");
        let mut never = vec![];
        sim.run_until_stoppable(SimTime(100), u64::MAX, |s| never.push(s.events), || false);
        assert!(never.is_empty());
    }

    /// Reserves places, and schedules, cancels and moves events in them;
    /// records the keys it was handed.
    struct Reserver {
        seen: Vec<(EventKey, u32)>,
        places: Vec<EventKey>,
    }

    impl Model for Reserver {
        type Event = u32;
        fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
            self.seen.push((sched.key(), event));
            match event {
                1 => {
                    // Due at 20 ms, ahead of 3 (scheduled next, also at 20 ms).
                    self.places.push(sched.reserve(SimTime(20)));
                    sched.at(SimTime(20), 3);
                    sched.at(SimTime(10), 2);
                    // Never used: costs one number, nothing else.
                    sched.reserve(SimTime(20));
                    self.places.push(sched.reserve(SimTime(20)));
                }
                2 => {
                    let [job, spare] = self.places[..] else {
                        panic!("two places reserved by 1");
                    };
                    assert!(job > sched.key());
                    sched.at_reserved(job, 51);
                    let id = sched.at_reserved(spare, 50);
                    assert_eq!(sched.cancel(id), Some(50));
                    let moved = sched.reserve(SimTime(20));
                    let id = sched.at_reserved(moved, 52);
                    sched.reschedule(id, SimTime(30)).expect("pending");
                }
                _ => {}
            }
        }
    }

    #[test]
    fn reserved_places_take_their_place_and_keys_grow() {
        let mut sim = Simulation::new(Reserver {
            seen: vec![],
            places: vec![],
        });
        let mut setup_key = None;
        sim.setup(|_, sched| {
            setup_key = Some(sched.key());
            let key = sched.reserve(SimTime(0));
            sched.at_reserved(key, 1);
        });
        assert_eq!(
            setup_key,
            Some(EventKey {
                time: SimTime::ZERO,
                seq: 0
            })
        );
        sim.run_until(SimTime(100));
        let seen = &sim.model().seen;
        let events: Vec<u32> = seen.iter().map(|&(_, e)| e).collect();
        // 51 overtakes 3; 50 was cancelled; 52 was moved, so it orders as if
        // pushed at the move.
        assert_eq!(events, vec![1, 2, 51, 3, 52]);
        assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "{seen:?}");
        assert_eq!(seen[2].0, sim.model().places[0]);
        sim.setup(|_, sched| {
            assert_eq!(sched.key().time, SimTime(100));
            assert_eq!(sched.key().seq, 0);
        });
    }

    #[test]
    #[should_panic(expected = "is not after the event being handled")]
    fn a_place_already_passed_cannot_be_scheduled() {
        struct Late(Option<EventKey>);
        impl Model for Late {
            type Event = u32;
            fn handle(&mut self, event: u32, sched: &mut Scheduler<'_, u32>) {
                match event {
                    0 => {
                        self.0 = Some(sched.reserve(SimTime(5)));
                        sched.at(SimTime(5), 1);
                    }
                    _ => {
                        sched.at_reserved(self.0.expect("reserved"), 2);
                    }
                }
            }
        }
        let mut sim = Simulation::new(Late(None));
        sim.schedule(SimTime::ZERO, 0);
        sim.run_until(SimTime(10));
    }
}
