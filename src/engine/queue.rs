//! The event agenda: pending events in a total order.
//!
//! Owns [`Agenda`], [`TimerId`] and the [`AgendaQueue`] contract its queue
//! meets. Events leave in order of time, then of insertion (FIFO among equal
//! times), so simultaneous events never depend on a hash order or on a
//! structure's internals. A pending event can be cancelled or moved, and an
//! event can be pushed with a sequence number reserved earlier, to take the
//! place in that order it would have had (see [`Agenda::reserve_seq`]).
//!
//! The agenda is a [`BucketWheel`], plus periodic timers in rings by period
//! ([`Agenda::periodic`]) merged with it in the same order. The wheel was
//! chosen over an indexed binary heap (the `priority-queue` crate) and
//! `std`'s binary heap because it was faster under every workload and size
//! `benches/queue.rs` tries, and by far with many pending events, where a
//! heap's pops miss the cache at every level; the benchmark keeps both heaps
//! so that the comparison can be rerun. Knows nothing of what the events
//! mean.

mod periodic;
mod slab;
mod wheel;

use std::num::NonZeroU64;

use super::time::{SimDuration, SimTime};
use periodic::Periodic;
pub use periodic::PeriodicId;
use wheel::BucketWheel;

/// The agenda's queue and the contract it meets, for `benches/queue.rs`,
/// which measures it against other structures that meet the same contract.
/// Not part of the engine's API: use [`Agenda`].
#[doc(hidden)]
pub mod bench {
    pub use super::wheel::BucketWheel;
    pub use super::{AgendaQueue, FIRST_SEQ, RANKED_SEQ};
}

/// The first sequence number a push or a reservation takes. The numbers
/// below it order events by what they are, not by when they were
/// scheduled: the periodic timers' own (see [`Agenda::periodic`]), then,
/// from [`RANKED_SEQ`], the ranked events' (see [`Agenda::push_ranked`]).
pub const FIRST_SEQ: u64 = 1 << 40;

/// The sequence number of the ranked event of rank 0.
pub const RANKED_SEQ: u64 = 1 << 39;

/// Names one scheduled event, so it can be cancelled or rescheduled.
///
/// An opaque handle, unique among the pending events: the event's slot and
/// that slot's generation, so an id whose event already ran or was cancelled
/// never names a later event. Order and equality of ids mean nothing about
/// the events' order.
///
/// Never zero inside, so an `Option<TimerId>` is 8 bytes like the id itself
/// (a model keeps one or two in each of a million records).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(NonZeroU64);

impl TimerId {
    /// The id a queue knows as `raw` (any value but `u64::MAX`, which no
    /// queue hands out: it would take 2^32 slots or 2^64 events).
    #[inline]
    pub(crate) fn new(raw: u64) -> Self {
        TimerId(NonZeroU64::new(!raw).expect("u64::MAX is not a timer id"))
    }

    /// The queue's own value for it.
    #[inline]
    pub(crate) fn raw(self) -> u64 {
        !self.0.get()
    }
}

/// The place of an event in the agenda's order: its time, then its sequence
/// number. Every push takes the next sequence number, and so does
/// [`Agenda::reserve_seq`], from [`FIRST_SEQ`]. A periodic timer's firing
/// has its timer's own number and a ranked event its rank's, both below
/// that: at an instant, the periodic firings come first (in the order the
/// timers were made), then the ranked events (by rank), then the pushed
/// ones (in the order pushed). `(t, 0)` orders before every event at `t`.
/// Orders by `(time, seq)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventKey {
    /// When the event happens.
    pub time: SimTime,
    /// Breaks ties among equal times: the earlier number leaves first.
    pub seq: u64,
}

/// What every agenda structure provides, with the agenda's exact semantics:
/// `pop` returns the earliest event by `(time, seq)`, where every push and
/// every reservation takes the next `seq` (from [`FIRST_SEQ`]), `cancel` returns the
/// event if it is still pending, `reschedule` orders the moved event as if
/// pushed at the moment of the move.
#[doc(hidden)]
pub trait AgendaQueue<E>: Sized {
    /// What names a pending event, to cancel or move it ([`TimerId`] for the
    /// agenda's own queue).
    type Id: Copy + std::fmt::Debug;
    /// Empty, with room for `n` pending events.
    fn with_capacity(n: usize) -> Self;
    /// Schedules `event` at `time`, after every event already at `time`.
    fn push(&mut self, time: SimTime, event: E) -> Self::Id;
    /// Schedules `event` at `time` like [`push`](Self::push), for an event
    /// that will never be cancelled or moved: a structure may keep it more
    /// cheaply. By default a push whose id is dropped.
    #[inline]
    fn push_fixed(&mut self, time: SimTime, event: E) {
        self.push(time, event);
    }
    /// Consumes the next sequence number without scheduling anything.
    fn reserve_seq(&mut self) -> u64;
    /// Schedules `event` at `(time, seq)`, with a `seq` from
    /// [`reserve_seq`](Self::reserve_seq) not used before.
    fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> Self::Id;
    /// Removes and returns the earliest event, with its key.
    fn pop_keyed(&mut self) -> Option<(EventKey, E)>;
    /// Removes and returns the earliest event.
    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_keyed().map(|(key, event)| (key.time, event))
    }
    /// The time of the earliest event.
    fn peek_time(&self) -> Option<SimTime>;
    /// Removes a pending event; `None` if it already ran or was cancelled.
    fn cancel(&mut self, id: Self::Id) -> Option<E>;
    /// Moves a pending event to `time` (as a cancel and a push).
    fn reschedule(&mut self, id: Self::Id, time: SimTime) -> Option<Self::Id> {
        let event = self.cancel(id)?;
        Some(self.push(time, event))
    }
    /// Number of pending events.
    fn len(&self) -> usize;
    /// Whether nothing is pending.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a popped event waited: in a periodic timer's ring or in the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A periodic timer fired.
    Periodic,
    /// The event was pushed.
    Queue,
}

/// Pending events ordered by `(time, insertion sequence)`.
///
/// ```
/// use patchsim::engine::{Agenda, SimTime};
/// let mut agenda = Agenda::new();
/// agenda.push(SimTime(20), "late");
/// let cancel_me = agenda.push(SimTime(10), "cancelled");
/// agenda.push(SimTime(10), "first");
/// agenda.push(SimTime(10), "second");
/// assert_eq!(agenda.cancel(cancel_me), Some("cancelled"));
/// assert_eq!(agenda.pop(), Some((SimTime(10), "first")));
/// assert_eq!(agenda.pop(), Some((SimTime(10), "second")));
/// assert_eq!(agenda.pop(), Some((SimTime(20), "late")));
/// assert_eq!(agenda.pop(), None);
/// ```
pub struct Agenda<E> {
    queue: BucketWheel<E>,
    periodic: Periodic<E>,
}

impl<E: Copy> Default for Agenda<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: Copy> Agenda<E> {
    /// An empty agenda.
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// An empty agenda with room for `n` pending events before it grows.
    pub fn with_capacity(n: usize) -> Self {
        Agenda {
            queue: BucketWheel::with_capacity(n),
            periodic: Periodic::new(),
        }
    }

    /// A periodic timer, not armed: it fires `event` at times congruent
    /// to `phase` modulo `period`, once each time it is armed
    /// ([`arm_periodic`](Self::arm_periodic), [`resume`](Self::resume)).
    /// A firing's place in the order does not depend on when the timer was
    /// armed: the firings of an instant come before every pushed event of
    /// that instant, in the order their timers were made (see
    /// [`EventKey`]). So a timer that is armed only when its firing can do
    /// something fires exactly where one armed at every firing would.
    /// Timers of one period must be made in order of `phase % period`.
    /// Meant for the many timers of a model that repeat on a fixed phase
    /// (one an hour for each of many entities): they wait in rings by
    /// period, outside the wheel, and cannot be cancelled.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimDuration, SimTime};
    /// let mut agenda = Agenda::new();
    /// agenda.push(SimTime(5), "pushed before the tick was armed");
    /// let tick = agenda.periodic(SimTime(5), SimDuration(10), "tick");
    /// agenda.arm_periodic(tick, SimTime(5));
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "tick")));
    /// agenda.resume(tick, SimTime(5));
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "pushed before the tick was armed")));
    /// assert_eq!(agenda.pop(), Some((SimTime(15), "tick")));
    /// assert_eq!(agenda.pop(), None, "not armed again: it stops");
    /// ```
    pub fn periodic(&mut self, phase: SimTime, period: SimDuration, event: E) -> PeriodicId {
        self.periodic.add(phase.0, period.as_ms(), event)
    }

    /// Arms periodic timer `id`, which must not be armed, for `time`, one
    /// of its firing times; the firing has the timer's own place among the
    /// events of its instant (see [`periodic`](Self::periodic)).
    pub fn arm_periodic(&mut self, id: PeriodicId, time: SimTime) {
        self.periodic.arm(id, time.0, id.rank());
    }

    /// Arms periodic timer `id`, which must not be armed, for its first
    /// firing time strictly after `now`.
    #[inline]
    pub fn resume(&mut self, id: PeriodicId, now: SimTime) {
        let time = self.periodic.next_after(id, now.0);
        self.periodic.arm(id, time, id.rank());
    }

    /// The periodic timer whose firing has place `key` in the order, if it
    /// is the last one fired.
    #[inline]
    pub fn firing(&self, key: EventKey) -> Option<PeriodicId> {
        self.periodic.firing(key)
    }

    /// Removes and returns the earliest event if its time is at or before
    /// `end`.
    #[inline]
    pub fn pop_until(&mut self, end: SimTime) -> Option<(EventKey, E)> {
        self.pop_from(end).map(|(key, event, _)| (key, event))
    }

    /// As [`pop_until`](Self::pop_until), also telling where the event
    /// waited: a periodic timer's firing leaves the queue's own order as
    /// it was, so what [`ahead`](Self::ahead) finds is what it found before.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimDuration, SimTime, Source};
    /// let mut agenda = Agenda::new();
    /// let tick = agenda.periodic(SimTime(5), SimDuration(10), "tick");
    /// agenda.arm_periodic(tick, SimTime(5));
    /// agenda.push(SimTime(7), "pushed");
    /// let (_, event, source) = agenda.pop_from(SimTime(100)).unwrap();
    /// assert_eq!((event, source), ("tick", Source::Periodic));
    /// let (_, event, source) = agenda.pop_from(SimTime(100)).unwrap();
    /// assert_eq!((event, source), ("pushed", Source::Queue));
    /// assert!(agenda.pop_from(SimTime(100)).is_none());
    /// ```
    #[inline]
    pub fn pop_from(&mut self, end: SimTime) -> Option<(EventKey, E, Source)> {
        if let Some(p) = self.periodic.head_key() {
            // Checked against a bound first: before anything in the wheel,
            // the wheel's next window stays unloaded, so events pushed
            // meanwhile still land in their own buckets.
            if p.time.0 < self.queue.lower_bound() || self.queue.head_key().is_none_or(|w| p < w) {
                return (p.time <= end).then(|| {
                    let (key, event) = self.periodic.pop();
                    (key, event, Source::Periodic)
                });
            }
        }
        match self.queue.head_key() {
            Some(w) if w.time <= end => {
                let (key, event) = self.queue.pop_keyed()?;
                Some((key, event, Source::Queue))
            }
            _ => None,
        }
    }

    /// Offers `hint` the events of armed periodic timers within `distance`
    /// positions of the next firing, each once (a prefetch hint, like
    /// [`ahead`](Self::ahead)).
    #[inline]
    pub fn hint_periodic(&mut self, distance: usize, hint: impl FnMut(&E)) {
        self.periodic.hint_ahead(distance, hint);
    }

    /// Schedules `event` at `time` for good, in the place `rank` gives it
    /// among the events of that instant: after its periodic firings, before
    /// every pushed event, before the ranked events of higher rank. So its
    /// place does not depend on when it was scheduled: a model that
    /// schedules a recurring event only when it can do something gets the
    /// order of one that schedules it every time. At most one event of a
    /// rank per instant; ranks below `2^39`.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimTime};
    /// let mut agenda = Agenda::new();
    /// agenda.push(SimTime(5), "pushed");
    /// agenda.push_ranked(SimTime(5), 7, "rank 7");
    /// agenda.push_ranked(SimTime(5), 2, "rank 2");
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "rank 2")));
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "rank 7")));
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "pushed")));
    /// ```
    #[inline]
    pub fn push_ranked(&mut self, time: SimTime, rank: u64, event: E) {
        assert!(rank < FIRST_SEQ - RANKED_SEQ, "rank {rank} is 2^39 or more");
        self.queue.push_ranked(time, RANKED_SEQ + rank, event);
    }

    /// Schedules `event` at `time`; later than every event already at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) -> TimerId {
        self.queue.push(time, event)
    }

    /// Schedules `event` at `time` like [`push`](Self::push), for an event
    /// that will never be cancelled or moved: it has no id, and the agenda
    /// keeps it without a slot of its own, so that popping it reads nothing
    /// but the queue.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimTime};
    /// let mut agenda = Agenda::new();
    /// agenda.push_fixed(SimTime(10), "fixed");
    /// let id = agenda.push(SimTime(10), "cancelled");
    /// agenda.push_fixed(SimTime(5), "first");
    /// assert_eq!(agenda.cancel(id), Some("cancelled"));
    /// assert_eq!(agenda.len(), 2);
    /// assert_eq!(agenda.pop(), Some((SimTime(5), "first")));
    /// assert_eq!(agenda.pop(), Some((SimTime(10), "fixed")));
    /// assert_eq!(agenda.pop(), None);
    /// ```
    #[inline]
    pub fn push_fixed(&mut self, time: SimTime, event: E) {
        self.queue.push_fixed(time, event)
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.pop_keyed().map(|(key, event)| (key.time, event))
    }

    /// An event about `k` places ahead, if the agenda has it at hand (a
    /// hint for prefetching: it may skip events, may be an event cancelled
    /// since, and is `None` whenever the answer would cost a search). Reads
    /// the queue only: the events are in it.
    #[inline]
    pub fn ahead(&self, k: usize) -> Option<&E> {
        self.queue.near(k)
    }

    /// Offers `hint` each event within `k` places of the queue's next one
    /// (if the agenda has it at hand, as for [`ahead`](Self::ahead)) that
    /// it has not offered before: usually one, the event `k` places ahead,
    /// and every one up to it when a new stretch of the queue comes to
    /// hand, so that the first events of each stretch are hinted too.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimTime};
    /// let mut agenda = Agenda::new();
    /// for t in [5_000, 5_001, 5_002, 5_003] {
    ///     agenda.push(SimTime(t), t);
    /// }
    /// assert_eq!(agenda.pop(), Some((SimTime(5_000), 5_000)));
    /// let mut offered = Vec::new();
    /// agenda.hint_queue(1, |&e| offered.push(e));
    /// assert_eq!(offered, [5_001, 5_002], "the stretch's first two");
    /// agenda.pop();
    /// agenda.hint_queue(1, |&e| offered.push(e));
    /// assert_eq!(offered, [5_001, 5_002, 5_003], "then one more per pop");
    /// agenda.pop();
    /// agenda.hint_queue(1, |&e| offered.push(e));
    /// assert_eq!(offered, [5_001, 5_002, 5_003], "none left to offer");
    /// ```
    #[inline]
    pub fn hint_queue(&mut self, k: usize, hint: impl FnMut(&E)) {
        self.queue.hint_ahead(k, hint);
    }

    /// Removes and returns the earliest event, with its place in the order.
    #[inline]
    pub fn pop_keyed(&mut self) -> Option<(EventKey, E)> {
        self.pop_until(SimTime(u64::MAX))
    }

    /// Consumes the next sequence number without scheduling anything: later
    /// pushes get later numbers, exactly as if an event had been pushed. The
    /// number can be given to [`push_reserved`](Self::push_reserved) later,
    /// once, or never used.
    ///
    /// ```
    /// use patchsim::engine::{Agenda, SimTime};
    /// let mut agenda = Agenda::new();
    /// let seq = agenda.reserve_seq(); // would have been "silent"
    /// agenda.push(SimTime(10), "pushed after the reservation");
    /// agenda.push_reserved(SimTime(10), seq, "silent");
    /// assert_eq!(agenda.pop(), Some((SimTime(10), "silent")));
    /// assert_eq!(agenda.pop(), Some((SimTime(10), "pushed after the reservation")));
    /// ```
    pub fn reserve_seq(&mut self) -> u64 {
        self.queue.reserve_seq()
    }

    /// Schedules `event` at `(time, seq)`, with a `seq` from
    /// [`reserve_seq`](Self::reserve_seq) not used before: it leaves in its
    /// exact place in the order, before the events at `time` whose numbers
    /// are larger even if they were pushed earlier. Like a push before the
    /// last popped time, a `(time, seq)` before the last popped event's key
    /// is allowed and leaves next. Meant for rare use: these events wait in
    /// a small heap of their own, which `pop` looks at only when non-empty.
    pub fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> TimerId {
        self.queue.push_reserved(time, seq, event)
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        match (self.queue.peek_time(), self.periodic.peek_time()) {
            (Some(w), Some(p)) => Some(w.min(p)),
            (w, p) => w.or(p),
        }
    }

    /// Removes a pending event; `None` if it already ran or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<E> {
        self.queue.cancel(id)
    }

    /// Moves a pending event to `time`. It then orders as if it had been
    /// inserted at the moment of the move (after events already at `time`).
    /// Returns the new id, or `None` if the event is no longer pending.
    pub fn reschedule(&mut self, id: TimerId, time: SimTime) -> Option<TimerId> {
        self.queue.reschedule(id, time)
    }

    /// Number of pending events (armed periodic timers included).
    #[inline]
    pub fn len(&self) -> usize {
        self.queue.len() + self.periodic.len()
    }

    /// Whether nothing is pending.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::wheel::BucketWheel;
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    /// A time offset mixing the scales every structure has a path for: the
    /// same instant, the same bucket, the next few buckets, beyond a wheel's
    /// horizon, and far beyond it.
    fn offset(rng: &mut ChaCha8Rng) -> u64 {
        match rng.random_range(0..20) {
            0..=1 => 0,
            2..=7 => rng.random_range(0..50),
            8..=13 => rng.random_range(0..20_000),
            14..=17 => rng.random_range(0..10_000_000),
            _ => rng.random_range(0..1 << 40),
        }
    }

    /// `q` against a naive `BTreeMap` shadow keyed by (time, seq), over
    /// `ops` seeded operations: pushes (a third of them for good,
    /// `push_fixed`; now and then before the last popped time, which the
    /// agenda allows), pops (checking each event's seq too),
    /// peeks, cancels and reschedules of live and stale ids, reservations of
    /// sequence numbers and pushes with them (often at the time of a pending
    /// event, so that they overtake events pushed before them), and now and
    /// then a full drain. Returns `q` for structure-specific checks.
    fn agrees_with_btreemap_shadow<Q: AgendaQueue<u32>>(seed: u64, ops: u32) -> Q {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut q = Q::with_capacity(16);
        let mut shadow: BTreeMap<(SimTime, u64), u32> = BTreeMap::new();
        // Ids handed out (some since popped or cancelled) and their shadow keys.
        let mut ids: Vec<(Q::Id, (SimTime, u64))> = Vec::new();
        // Reserved sequence numbers not used yet.
        let mut reserved: Vec<u64> = Vec::new();
        let mut seq = FIRST_SEQ;
        let mut last = (SimTime::ZERO, 0u64);
        let check_pop = |q: &mut Q, shadow: &mut BTreeMap<(SimTime, u64), u32>, i: u32| {
            let got = q.pop_keyed().map(|(k, v)| ((k.time, k.seq), v));
            assert_eq!(got, shadow.pop_first(), "pop at op {i}");
            got.map(|(k, _)| k)
        };
        for i in 0..ops {
            let now = last.0.0;
            match rng.random_range(0..100) {
                0..=44 => {
                    let t = if rng.random_range(0..200) == 0 {
                        SimTime(now.saturating_sub(rng.random_range(0..5_000)))
                    } else {
                        SimTime(now + offset(&mut rng))
                    };
                    // One push in three is for good: it has no id to cancel.
                    if rng.random_range(0..3) == 0 {
                        q.push_fixed(t, i);
                    } else {
                        let id = q.push(t, i);
                        ids.push((id, (t, seq)));
                    }
                    shadow.insert((t, seq), i);
                    seq += 1;
                }
                45..=69 => {
                    if let Some(k) = check_pop(&mut q, &mut shadow, i) {
                        last = k;
                    }
                }
                70..=79 if !ids.is_empty() => {
                    let k = rng.random_range(0..ids.len());
                    let (id, key) = ids.swap_remove(k);
                    assert_eq!(q.cancel(id), shadow.remove(&key), "cancel at op {i}");
                }
                80..=89 if !ids.is_empty() => {
                    let k = rng.random_range(0..ids.len());
                    let (id, key) = ids[k];
                    let to = SimTime(now + offset(&mut rng));
                    match (q.reschedule(id, to), shadow.remove(&key)) {
                        (Some(new_id), Some(v)) => {
                            shadow.insert((to, seq), v);
                            ids[k] = (new_id, (to, seq));
                            seq += 1;
                        }
                        (None, None) => {
                            ids.swap_remove(k);
                        }
                        other => {
                            panic!("reschedule at op {i}: structure and shadow disagree: {other:?}")
                        }
                    }
                }
                90 if rng.random_range(0..2_000) == 0 => {
                    while let Some(k) = check_pop(&mut q, &mut shadow, i) {
                        last = k;
                    }
                    assert_eq!(q.pop(), None);
                }
                91..=94 => {
                    assert_eq!(q.reserve_seq(), seq, "reserve at op {i}");
                    reserved.push(seq);
                    seq += 1;
                }
                95..=97 if !reserved.is_empty() => {
                    let r = reserved.swap_remove(rng.random_range(0..reserved.len()));
                    let pending = (!ids.is_empty())
                        .then(|| ids[rng.random_range(0..ids.len())].1)
                        .filter(|key| shadow.contains_key(key));
                    let t = match (rng.random_range(0..200), pending) {
                        // Before the last popped key: allowed, it leaves next.
                        (0, _) => SimTime(now.saturating_sub(rng.random_range(0..5_000))),
                        // At a pending event's time.
                        (1..=99, Some((t, _))) => t,
                        _ => SimTime(now + offset(&mut rng)),
                    };
                    let id = q.push_reserved(t, r, i);
                    shadow.insert((t, r), i);
                    ids.push((id, (t, r)));
                }
                _ => {}
            }
            assert_eq!(
                q.peek_time(),
                shadow.keys().next().map(|k| k.0),
                "peek after op {i}"
            );
            assert_eq!(q.len(), shadow.len());
            assert_eq!(q.is_empty(), shadow.is_empty());
        }
        q
    }

    /// The agenda through the same contract as its queue.
    impl<E: Copy> AgendaQueue<E> for Agenda<E> {
        type Id = TimerId;
        fn with_capacity(n: usize) -> Self {
            Agenda::with_capacity(n)
        }
        fn push(&mut self, time: SimTime, event: E) -> TimerId {
            Agenda::push(self, time, event)
        }
        fn push_fixed(&mut self, time: SimTime, event: E) {
            Agenda::push_fixed(self, time, event)
        }
        fn reserve_seq(&mut self) -> u64 {
            Agenda::reserve_seq(self)
        }
        fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> TimerId {
            Agenda::push_reserved(self, time, seq, event)
        }
        fn pop_keyed(&mut self) -> Option<(EventKey, E)> {
            Agenda::pop_keyed(self)
        }
        fn peek_time(&self) -> Option<SimTime> {
            Agenda::peek_time(self)
        }
        fn cancel(&mut self, id: TimerId) -> Option<E> {
            Agenda::cancel(self, id)
        }
        fn reschedule(&mut self, id: TimerId, time: SimTime) -> Option<TimerId> {
            Agenda::reschedule(self, id, time)
        }
        fn len(&self) -> usize {
            Agenda::len(self)
        }
    }

    /// A million operations against the agenda itself.
    #[test]
    fn agenda_agrees_with_btreemap_shadow() {
        agrees_with_btreemap_shadow::<Agenda<u32>>(7, 1_000_000);
    }

    /// Small wheels wrap, move coarse buckets into the near ring, pull from
    /// `far` and jump over empty stretches far more often than the default
    /// one does under the same operations; each level is shown to be used.
    #[test]
    fn small_wheels_agree_with_btreemap_shadow() {
        fn check<const SHIFT: u32, const BITS: u32, const CBITS: u32>(seed: u64) {
            let q =
                agrees_with_btreemap_shadow::<BucketWheel<u32, SHIFT, BITS, CBITS>>(seed, 300_000);
            let m = q.level_moves();
            assert!(m.coarse_to_near > 0 && m.far_to_coarse > 0, "{m:?}");
            assert!(m.far_jumps > 0 && m.coarse_jumps > m.far_jumps, "{m:?}");
        }
        check::<0, 2, 1>(8);
        check::<0, 6, 2>(9);
        check::<4, 6, 3>(10);
        check::<6, 13, 4>(13);
        check::<2, 8, 3>(14);
    }

    #[test]
    fn equal_times_leave_in_insertion_order() {
        let mut agenda = Agenda::new();
        for i in 0..1000 {
            agenda.push(SimTime(5), i);
        }
        for i in 0..1000 {
            assert_eq!(agenda.pop(), Some((SimTime(5), i)));
        }
    }

    #[test]
    fn cancel_twice_is_none() {
        let mut agenda = Agenda::new();
        let id = agenda.push(SimTime(1), ());
        assert_eq!(agenda.cancel(id), Some(()));
        assert_eq!(agenda.cancel(id), None);
        assert!(agenda.is_empty());
    }

    /// A stale id stays stale after its slot is reused by another event.
    #[test]
    fn stale_id_does_not_cancel_the_slots_next_event() {
        let mut agenda = Agenda::new();
        let old = agenda.push(SimTime(1), "old");
        assert_eq!(agenda.pop(), Some((SimTime(1), "old")));
        let new = agenda.push(SimTime(2), "new");
        assert_ne!(old, new);
        assert_eq!(agenda.cancel(old), None);
        assert_eq!(agenda.cancel(new), Some("new"));
    }

    /// Times at the very end of the range still order by insertion.
    #[test]
    fn extreme_times_keep_their_order() {
        let mut agenda = Agenda::new();
        agenda.push(SimTime::MAX, 1);
        agenda.push(SimTime(u64::MAX - 1), 0);
        agenda.push(SimTime::MAX, 2);
        agenda.push(SimTime::ZERO, -1);
        let order: Vec<i32> = std::iter::from_fn(|| agenda.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, vec![-1, 0, 1, 2]);
    }
}
