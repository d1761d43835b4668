//! The event agenda: pending events in a total order.
//!
//! Owns [`Agenda`] and [`TimerId`]. Events leave in order of time, then of
//! insertion (FIFO among equal times), so simultaneous events never depend on
//! a hash order or on the heap's internals. A pending event can be cancelled
//! or moved. Built on the `priority-queue` crate; knows nothing of what the
//! events mean.

use std::cmp::Reverse;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use priority_queue::PriorityQueue;

use super::time::SimTime;

/// Names one scheduled event, so it can be cancelled or rescheduled.
///
/// It is the event's insertion sequence number: unique within a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimerId(pub u64);

/// One pending event. Equality and hashing look at the sequence number only,
/// so the queue can find an entry by its [`TimerId`].
struct Entry<E> {
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> Hash for Entry<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seq.hash(state);
    }
}
impl<E> std::borrow::Borrow<u64> for Entry<E> {
    fn borrow(&self) -> &u64 {
        &self.seq
    }
}

/// A fixed, seedless hasher for sequence numbers (Fibonacci hashing). The
/// queue's internal map never decides an order, but a fixed hasher keeps
/// even its memory layout identical between runs.
#[derive(Default)]
struct SeqHasher(u64);

impl Hasher for SeqHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
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
    queue: PriorityQueue<Entry<E>, Reverse<(SimTime, u64)>, BuildHasherDefault<SeqHasher>>,
    next_seq: u64,
}

impl<E> Default for Agenda<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Agenda<E> {
    /// An empty agenda.
    pub fn new() -> Self {
        Agenda {
            queue: PriorityQueue::with_default_hasher(),
            next_seq: 0,
        }
    }

    /// An empty agenda with room for `n` pending events before it grows.
    pub fn with_capacity(n: usize) -> Self {
        Agenda {
            queue: PriorityQueue::with_capacity_and_default_hasher(n),
            next_seq: 0,
        }
    }

    /// Schedules `event` at `time`; later than every event already at `time`.
    pub fn push(&mut self, time: SimTime, event: E) -> TimerId {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Entry { seq, event }, Reverse((time, seq)));
        TimerId(seq)
    }

    /// Removes and returns the earliest event.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        self.queue
            .pop()
            .map(|(entry, Reverse((time, _)))| (time, entry.event))
    }

    /// The time of the earliest event, if any.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|(_, Reverse((time, _)))| *time)
    }

    /// Removes a pending event; `None` if it already ran or was cancelled.
    pub fn cancel(&mut self, id: TimerId) -> Option<E> {
        self.queue.remove(&id.0).map(|(entry, _)| entry.event)
    }

    /// Moves a pending event to `time`. It then orders as if it had been
    /// inserted at the moment of the move (after events already at `time`).
    /// Returns the new id, or `None` if the event is no longer pending.
    pub fn reschedule(&mut self, id: TimerId, time: SimTime) -> Option<TimerId> {
        let event = self.cancel(id)?;
        Some(self.push(time, event))
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use std::collections::BTreeMap;

    /// The agenda against a naive `BTreeMap` shadow keyed by (time, seq),
    /// over a long seeded mix of pushes, pops, cancels and reschedules.
    #[test]
    fn agrees_with_btreemap_shadow() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut agenda = Agenda::new();
        let mut shadow: BTreeMap<(SimTime, u64), u32> = BTreeMap::new();
        let mut live: Vec<(TimerId, SimTime)> = Vec::new();
        let mut now = 0u64;
        for i in 0..200_000u32 {
            match rng.random_range(0..10) {
                0..=4 => {
                    let t = SimTime(now + rng.random_range(0..50));
                    let id = agenda.push(t, i);
                    shadow.insert((t, id.0), i);
                    live.push((id, t));
                }
                5..=6 => {
                    let got = agenda.pop();
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(got, want);
                    if let Some((t, _)) = got {
                        now = t.0;
                    }
                }
                7 if !live.is_empty() => {
                    let k = rng.random_range(0..live.len());
                    let (id, t) = live.swap_remove(k);
                    assert_eq!(agenda.cancel(id), shadow.remove(&(t, id.0)));
                }
                8 if !live.is_empty() => {
                    let k = rng.random_range(0..live.len());
                    let (id, t) = live[k];
                    let to = SimTime(now + rng.random_range(0..50));
                    match (agenda.reschedule(id, to), shadow.remove(&(t, id.0))) {
                        (Some(new_id), Some(v)) => {
                            shadow.insert((to, new_id.0), v);
                            live[k] = (new_id, to);
                        }
                        (None, None) => {
                            live.swap_remove(k);
                        }
                        other => panic!("agenda and shadow disagree: {other:?}"),
                    }
                }
                _ => assert_eq!(agenda.peek_time(), shadow.keys().next().map(|k| k.0)),
            }
            assert_eq!(agenda.len(), shadow.len());
        }
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
}
