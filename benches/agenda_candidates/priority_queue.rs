//! Candidate queue: the `priority-queue` crate, the agenda's queue before the
//! wheel.
//!
//! Owns [`PriorityQueueAgenda`]: an indexed heap whose items are found by
//! their insertion sequence, so a cancel removes the event at once.

use std::cmp::Reverse;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use priority_queue::PriorityQueue;

use patchsim::engine::agenda_bench::AgendaQueue;
use patchsim::engine::{EventKey, SimTime};

/// One pending event. Equality and hashing look at the sequence number only,
/// so the queue can find an entry by its id.
struct Item<E> {
    seq: u64,
    event: E,
}

impl<E> PartialEq for Item<E> {
    fn eq(&self, other: &Self) -> bool {
        self.seq == other.seq
    }
}
impl<E> Eq for Item<E> {}
impl<E> Hash for Item<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.seq.hash(state);
    }
}
impl<E> std::borrow::Borrow<u64> for Item<E> {
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

/// `PriorityQueue<item, Reverse<(time, seq)>>`; its ids are the insertion
/// sequence numbers.
pub struct PriorityQueueAgenda<E> {
    queue: PriorityQueue<Item<E>, Reverse<(SimTime, u64)>, BuildHasherDefault<SeqHasher>>,
    next_seq: u64,
}

impl<E> AgendaQueue<E> for PriorityQueueAgenda<E> {
    type Id = u64;

    fn with_capacity(n: usize) -> Self {
        PriorityQueueAgenda {
            queue: PriorityQueue::with_capacity_and_default_hasher(n),
            next_seq: patchsim::engine::agenda_bench::FIRST_SEQ,
        }
    }

    fn push(&mut self, time: SimTime, event: E) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.queue.push(Item { seq, event }, Reverse((time, seq)));
        seq
    }

    fn reserve_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> u64 {
        assert!(
            seq < self.next_seq,
            "sequence number {seq} was never reserved"
        );
        self.queue.push(Item { seq, event }, Reverse((time, seq)));
        seq
    }

    fn pop_keyed(&mut self) -> Option<(EventKey, E)> {
        self.queue
            .pop()
            .map(|(item, Reverse((time, seq)))| (EventKey { time, seq }, item.event))
    }

    fn peek_time(&self) -> Option<SimTime> {
        self.queue.peek().map(|(_, Reverse((time, _)))| *time)
    }

    fn cancel(&mut self, id: u64) -> Option<E> {
        self.queue.remove(&id).map(|(item, _)| item.event)
    }

    fn len(&self) -> usize {
        self.queue.len()
    }
}
