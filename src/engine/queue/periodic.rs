//! Timers that fire again and again, each on its own phase of a fixed
//! period, kept out of the wheel.
//!
//! Owns [`Periodic`] and [`PeriodicId`]. A periodic timer fires at
//! `phase + k · period` for the `k` it is armed for; after each firing it is
//! disarmed until armed again (usually by the handler of that firing, for
//! one period later). Timers of one period share a *ring*: their slots in
//! order of phase (the order they must be made in), and a cursor that walks
//! the ring round after round, so that finding the next firing is a forward
//! walk over a sequential array, and re-arming a timer as it fires writes
//! the slot just read. A million hourly timers cost the engine a few bytes
//! of sequential reading each per round, instead of a push into a wheel
//! bucket and a pop out of it.
//!
//! Order. A firing has a key `(time, seq)` like any event, `seq` the timer's
//! own rank (ring, then position), below every pushed event's, so the
//! firings of an instant come before its other events whenever their timers
//! were armed. Within a
//! ring, time grows with the cursor's position, round after round; timers
//! with equal phases sit side by side and leave in `seq` order. Invariant:
//! every armed timer's firing is at or after the cursor's `(round,
//! position)` (an arm before the cursor moves the cursor back to it), and
//! `head` is the armed timer with the smallest key.
//!
//! Knows nothing of what the events mean.

use std::num::NonZeroU64;

use super::EventKey;
use crate::engine::time::{SimDuration, SimTime};

/// Names one periodic timer (its ring and its place in it). Never zero, so
/// an `Option<PeriodicId>` takes 8 bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeriodicId(NonZeroU64);

impl PeriodicId {
    fn new(ring: usize, pos: usize) -> Self {
        let packed = ((ring as u64) << 32) | pos as u64;
        PeriodicId(NonZeroU64::new(packed + 1).expect("below 2^64 - 1"))
    }

    /// The timer's place among the firings of an instant: its sequence
    /// number, below [`RANKED_SEQ`](super::RANKED_SEQ), larger for a timer
    /// made later in its ring or in a later ring.
    #[inline]
    pub(crate) fn rank(self) -> u64 {
        self.0.get()
    }

    fn ring(self) -> usize {
        ((self.0.get() - 1) >> 32) as usize
    }

    fn pos(self) -> usize {
        (self.0.get() - 1) as u32 as usize
    }
}

/// A timer's firing: its time and sequence number. Disarmed, `seq` is 0
/// (numbers start at 1) and `time` is its last firing time, or its phase if
/// it never fired: either way on its phase.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    time: u64,
    seq: u64,
}

impl Slot {
    fn armed(&self) -> bool {
        self.seq != 0
    }
}

/// The timers of one period.
struct Ring<E> {
    period: u64,
    /// By position, in order of phase: the firing,
    slots: Vec<Slot>,
    /// the event,
    event: Vec<E>,
    /// and whether the phase equals the previous position's (one bit each).
    tie: Vec<u64>,
    /// Which positions are armed (one bit each), so that finding the next
    /// firing skips a run of disarmed timers a word at a time: a ring of
    /// timers armed only now and then is mostly disarmed.
    armed_bits: Vec<u64>,
    /// Start of the round the cursor is in (a multiple of `period`).
    round: u64,
    /// Position of the cursor within its round.
    cursor: usize,
    /// Timers armed.
    armed: usize,
    /// Position of the armed timer with the smallest key.
    head: Option<usize>,
    /// Position (in the cursor's round) up to which the events of due
    /// timers were offered for prefetching.
    hinted: usize,
    hinted_round: u64,
}

impl<E> Ring<E> {
    fn new(period: u64) -> Self {
        Ring {
            period,
            slots: Vec::new(),
            event: Vec::new(),
            tie: Vec::new(),
            armed_bits: Vec::new(),
            round: 0,
            cursor: 0,
            armed: 0,
            head: None,
            hinted: 0,
            hinted_round: 0,
        }
    }

    fn key(&self, pos: usize) -> EventKey {
        let s = self.slots[pos];
        EventKey {
            time: SimTime(s.time),
            seq: s.seq,
        }
    }

    /// Moves the cursor to the first timer due in order and sets `head` to
    /// the one among those at the same time with the smallest `seq`.
    #[inline]
    fn find_head(&mut self) {
        self.head = None;
        if self.armed == 0 {
            return;
        }
        let end = self.round + self.period;
        match self.next_armed_due(self.cursor, end) {
            Some(p) => self.cursor = p,
            None => self.find_head_in_later_rounds(),
        }
        let first = self.cursor;
        let time = self.slots[first].time;
        debug_assert!(time >= self.round, "armed before the cursor");
        let mut best = first;
        let mut p = first + 1;
        while p < self.slots.len() && self.ties_previous(p) {
            let s = self.slots[p];
            if s.armed() && s.time == time && s.seq < self.slots[best].seq {
                best = p;
            }
            p += 1;
        }
        self.head = Some(best);
    }

    /// [`find_head`](Self::find_head) past the end of the cursor's round:
    /// the next round from its start, else (every armed timer is rounds
    /// ahead) the earliest armed timer's round.
    #[cold]
    fn find_head_in_later_rounds(&mut self) {
        self.round += self.period;
        let end = self.round + self.period;
        if let Some(p) = self.next_armed_due(0, end) {
            self.cursor = p;
            return;
        }
        let earliest = (self.slots.iter())
            .filter(|s| s.armed())
            .map(|s| s.time)
            .min()
            .expect("armed");
        self.round = earliest - earliest % self.period;
        let end = self.round + self.period;
        self.cursor = self
            .next_armed_due(0, end)
            .expect("the earliest is due in its round");
    }

    /// The first armed position at or after `from` whose firing is before
    /// `end`.
    #[inline]
    fn next_armed_due(&self, from: usize, end: u64) -> Option<usize> {
        let mut p = from;
        loop {
            p = self.next_armed(p)?;
            if self.slots[p].time < end {
                return Some(p);
            }
            p += 1;
        }
    }

    /// The first armed position at or after `from`.
    #[inline]
    fn next_armed(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut bits = self.armed_bits.get(w)? & (!0u64 << (from % 64));
        loop {
            if bits != 0 {
                return Some(w * 64 + bits.trailing_zeros() as usize);
            }
            w += 1;
            bits = *self.armed_bits.get(w)?;
        }
    }

    /// Whether the timer at `pos` has the same phase as the one before it.
    #[inline]
    fn ties_previous(&self, pos: usize) -> bool {
        self.tie[pos / 64] & (1 << (pos % 64)) != 0
    }

    /// Arms the timer at `pos`, which must be disarmed, for `time`, one of
    /// its firing times, under `seq`. Writes the slot without reading it
    /// (in release builds), so that arming a timer out of cache does not
    /// wait for it.
    #[inline]
    fn arm(&mut self, pos: usize, time: u64, seq: u64) {
        assert!(!self.slots[pos].armed(), "periodic timer armed twice");
        debug_assert_eq!(
            time % self.period,
            self.slots[pos].time % self.period,
            "armed off its phase"
        );
        self.slots[pos] = Slot { time, seq };
        self.armed_bits[pos / 64] |= 1 << (pos % 64);
        self.armed += 1;
        // Keep the cursor at or before every armed firing: move it back if
        // this one is in an earlier round, or earlier in the cursor's round.
        // (A later round, the usual case, needs no division.)
        let before_cursor = if time >= self.round + self.period {
            false
        } else if time >= self.round {
            pos < self.cursor
        } else {
            true
        };
        if before_cursor {
            self.round = time - time % self.period;
            self.cursor = pos;
        }
        let earlier =
            (self.head).is_none_or(|h| (time, seq) < (self.slots[h].time, self.slots[h].seq));
        if earlier {
            self.head = Some(pos);
        }
    }

    /// The first firing time of the timer at `pos` strictly after `now`.
    #[inline]
    fn next_after(&self, pos: usize, now: u64) -> u64 {
        // Armed or not, a slot's time is on its phase.
        let on_phase = SimTime(self.slots[pos].time);
        SimTime(now)
            .next_on_phase(on_phase, SimDuration(self.period))
            .0
    }

    /// Fires the head: disarms it and finds the next. Returns its key and
    /// position.
    #[inline]
    fn pop(&mut self) -> (EventKey, usize) {
        let h = self.head.expect("a ring with an armed timer has a head");
        let key = self.key(h);
        self.slots[h].seq = 0;
        self.armed_bits[h / 64] &= !(1 << (h % 64));
        self.armed -= 1;
        self.find_head();
        (key, h)
    }

    /// Offers `hint` the event of every armed timer up to `distance`
    /// positions past the cursor not offered before. (Offering the disarmed
    /// ones too, to spare the branch, would have a model prefetch a record
    /// for nothing at each disarmed position, which is most positions when
    /// few timers are armed: with millions of timers the prefetches that
    /// matter then wait for room.)
    #[inline]
    fn hint_ahead(&mut self, distance: usize, mut hint: impl FnMut(&E)) {
        if self.hinted_round != self.round || self.hinted < self.cursor {
            self.hinted_round = self.round;
            self.hinted = self.cursor;
        }
        let end = (self.cursor + distance).min(self.slots.len());
        // The arrays themselves, further ahead: the walk is sequential, but
        // slow next to the random reads around it.
        if let (Some(e), Some(s)) = (self.event.get(end + 64), self.slots.get(end + 64)) {
            crate::engine::prefetch(e);
            crate::engine::prefetch(s);
        }
        while let Some(p) = self.next_armed(self.hinted).filter(|&p| p < end) {
            hint(&self.event[p]);
            self.hinted = p + 1;
        }
        self.hinted = self.hinted.max(end);
    }
}

/// Periodic timers, in rings by period.
pub(crate) struct Periodic<E> {
    rings: Vec<Ring<E>>,
    /// The ring holding the earliest firing, if any.
    best: Option<usize>,
    armed: usize,
    /// The timer that fired last and its key.
    last: Option<(PeriodicId, EventKey)>,
}

impl<E: Copy> Periodic<E> {
    pub(crate) fn new() -> Self {
        Periodic {
            rings: Vec::new(),
            best: None,
            armed: 0,
            last: None,
        }
    }

    /// Timers armed.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.armed
    }

    /// A new timer firing `event` every `period` ms at times congruent to
    /// `phase`; disarmed. Timers of one period must be made in order of
    /// `phase % period`.
    pub(crate) fn add(&mut self, phase: u64, period: u64, event: E) -> PeriodicId {
        assert!(period > 0, "a periodic timer needs a period");
        let ring = match self.rings.iter().position(|r| r.period == period) {
            Some(r) => r,
            None => {
                assert!(
                    self.rings.len() < 128,
                    "periodic timers of at most 128 periods"
                );
                self.rings.push(Ring::new(period));
                self.rings.len() - 1
            }
        };
        let r = &mut self.rings[ring];
        let phase = phase % period;
        let previous = r.slots.last().map(|s| s.time % period);
        assert!(
            previous.is_none_or(|last| last <= phase),
            "periodic timers of one period are made in order of phase"
        );
        assert!(
            r.slots.len() < u32::MAX as usize,
            "too many periodic timers"
        );
        let pos = r.slots.len();
        r.slots.push(Slot {
            time: phase,
            seq: 0,
        });
        r.event.push(event);
        if pos % 64 == 0 {
            r.tie.push(0);
            r.armed_bits.push(0);
        }
        if previous == Some(phase) {
            r.tie[pos / 64] |= 1 << (pos % 64);
        }
        // A new slot at the end is after the cursor in its round: the
        // invariant holds, and it is disarmed.
        PeriodicId::new(ring, pos)
    }

    /// The first firing time of timer `id` strictly after `now`.
    #[inline]
    pub(crate) fn next_after(&self, id: PeriodicId, now: u64) -> u64 {
        self.rings[id.ring()].next_after(id.pos(), now)
    }

    /// Whether timer `id` fires at `time` (its phase).
    #[cfg(test)]
    pub(crate) fn fires_at(&self, id: PeriodicId, time: u64) -> bool {
        let r = &self.rings[id.ring()];
        time % r.period == r.slots[id.pos()].time % r.period
    }

    /// Arms timer `id` (which must be disarmed: checked in debug builds
    /// only) for `time`, one of its firing times, under `seq`.
    #[inline]
    pub(crate) fn arm(&mut self, id: PeriodicId, time: u64, seq: u64) {
        let (ring, pos) = (id.ring(), id.pos());
        self.rings[ring].arm(pos, time, seq);
        self.armed += 1;
        let r = &self.rings[ring];
        if r.head == Some(pos) && self.best.is_none_or(|b| r.key(pos) < self.head_of(b)) {
            self.best = Some(ring);
        }
    }

    /// The timer whose firing has key `key`, if it was the last one fired
    /// (so that the handler of a firing can re-arm it without naming it).
    #[inline]
    pub(crate) fn firing(&self, key: EventKey) -> Option<PeriodicId> {
        self.last.filter(|&(_, k)| k == key).map(|(id, _)| id)
    }

    fn head_of(&self, ring: usize) -> EventKey {
        let r = &self.rings[ring];
        r.key(r.head.expect("best ring has a head"))
    }

    /// The key of the earliest firing.
    #[inline]
    pub(crate) fn head_key(&self) -> Option<EventKey> {
        self.best.map(|b| self.head_of(b))
    }

    /// The time of the earliest firing.
    pub(crate) fn peek_time(&self) -> Option<SimTime> {
        self.head_key().map(|k| k.time)
    }

    /// Fires the earliest timer (there must be one, see
    /// [`head_key`](Self::head_key)): disarms it and returns its key and event.
    #[inline]
    pub(crate) fn pop(&mut self) -> (EventKey, E) {
        let b = self.best.expect("a periodic timer is armed");
        let (key, pos) = self.rings[b].pop();
        self.last = Some((PeriodicId::new(b, pos), key));
        self.armed -= 1;
        if self.rings.len() > 1 || self.rings[b].head.is_none() {
            self.best = (self.rings.iter().enumerate())
                .filter_map(|(i, r)| r.head.map(|h| (r.key(h), i)))
                .min()
                .map(|(_, i)| i);
        }
        (key, self.rings[b].event[pos])
    }

    /// Offers `hint` the events of the timers in the earliest ring up to
    /// `distance` positions ahead, each once (a prefetch hint).
    #[inline]
    pub(crate) fn hint_ahead(&mut self, distance: usize, hint: impl FnMut(&E)) {
        if let Some(b) = self.best {
            self.rings[b].hint_ahead(distance, hint);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    /// Timers of three periods (many sharing a phase) against a `BTreeMap`
    /// shadow: each firing re-arms most timers one period on, some stay
    /// disarmed for a while and are armed again at a later firing time
    /// (sometimes rounds ahead), under fresh sequence numbers.
    #[test]
    fn fires_in_key_order_like_a_shadow() {
        for seed in 0..20 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut p = Periodic::new();
            let mut shadow: BTreeMap<(u64, u64), usize> = BTreeMap::new();
            let mut seq = 1u64;
            let periods = [10u64, 37, 1_000];
            // Few distinct phases, so that many timers share one; made in
            // order of phase per period.
            let mut timers: Vec<(u64, u64)> = (0..200)
                .map(|_| {
                    let period = periods[rng.random_range(0..3)];
                    (
                        period,
                        rng.random_range(0..period.min(8)) * (period / 8).max(1),
                    )
                })
                .collect();
            timers.sort_by_key(|&(_, phase)| phase);
            let ids: Vec<PeriodicId> = (timers.iter().enumerate())
                .map(|(i, &(period, phase))| p.add(phase, period, i))
                .collect();
            for (i, &id) in ids.iter().enumerate() {
                if rng.random_bool(0.8) {
                    let first = p.next_after(id, rng.random_range(0..50));
                    p.arm(id, first, seq);
                    shadow.insert((first, seq), i);
                    seq += 1;
                }
            }
            let mut parked: Vec<usize> = Vec::new();
            for step in 0..5_000 {
                let want = shadow.pop_first();
                let got = p.head_key().map(|k| (k.time.0, k.seq));
                assert_eq!(got, want.map(|(k, _)| k), "seed {seed} step {step}");
                let Some(((now, _), i)) = want else { break };
                let (key, event) = p.pop();
                assert_eq!((key.time.0, event), (now, i));
                assert_eq!(p.firing(key), Some(ids[i]));
                let mut hinted = 0;
                p.hint_ahead(16, |_| hinted += 1);
                assert!(hinted <= 16);
                if rng.random_range(0..10) == 0 {
                    parked.push(i);
                } else {
                    let t = p.next_after(ids[i], now);
                    assert_eq!(t, now + timers[i].0, "one period on");
                    p.arm(ids[i], t, seq);
                    shadow.insert((t, seq), i);
                    seq += 1;
                }
                if !parked.is_empty() && rng.random_range(0..4) == 0 {
                    let i = parked.swap_remove(rng.random_range(0..parked.len()));
                    let from = now + rng.random_range(0..3_000);
                    let t = p.next_after(ids[i], from);
                    assert!(t > from && t - from <= timers[i].0 && p.fires_at(ids[i], t));
                    p.arm(ids[i], t, seq);
                    shadow.insert((t, seq), i);
                    seq += 1;
                }
                assert_eq!(p.len(), shadow.len());
            }
        }
    }

    #[test]
    fn next_after_is_strictly_later_and_on_phase() {
        let mut p = Periodic::new();
        let id = p.add(25, 100, ());
        assert_eq!(p.next_after(id, 0), 25);
        assert_eq!(p.next_after(id, 25), 125);
        assert_eq!(p.next_after(id, 124), 125);
        p.arm(id, 325, 1);
        assert_eq!(p.pop().0.time, SimTime(325));
        // From a later last firing, back to an earlier time.
        assert_eq!(p.next_after(id, 30), 125);
        assert_eq!(p.next_after(id, 24), 25);
        assert!(p.fires_at(id, 325) && !p.fires_at(id, 326));
    }

    #[test]
    #[should_panic(expected = "armed twice")]
    fn arming_an_armed_timer_panics() {
        let mut p = Periodic::new();
        let id = p.add(0, 10, ());
        p.arm(id, 10, 1);
        p.arm(id, 20, 2);
    }

    #[test]
    #[should_panic(expected = "in order of phase")]
    fn timers_are_made_in_order_of_phase() {
        let mut p = Periodic::new();
        p.add(5, 10, ());
        p.add(3, 10, ());
    }
}
