//! Candidate queue: `std`'s binary heap of keys with lazy cancellation.
//!
//! Owns [`LazyBinaryHeap`]. Events that may be cancelled live in a
//! generational [`Slab`], the same layout as the engine's: the heap holds
//! [`Entry`] keys (each with a copy of its event), and a cancelled event's
//! key stays in the heap until it reaches the top and is dropped there.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use patchsim::engine::agenda_bench::AgendaQueue;
use patchsim::engine::{EventKey, SimTime};

/// One queued event: when, the insertion sequence that breaks ties, the slot
/// and generation that tell whether it is still pending, and the event.
#[derive(Clone, Copy, Debug)]
struct Entry<E> {
    time: u64,
    seq: u64,
    slot: u32,
    generation: u32,
    /// Never read (the event is taken from its slot), but kept so that an
    /// entry is as large as the engine's, which the heap moves on every
    /// push and pop.
    #[allow(dead_code)]
    event: E,
}

impl<E> Entry<E> {
    /// Time, then insertion. Unique (seq is).
    #[inline]
    fn key(&self) -> (u64, u64) {
        (self.time, self.seq)
    }
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

struct Slot<E> {
    /// The generation of the current (or, when free, the next) occupant.
    generation: u32,
    event: Option<E>,
}

/// Pending events in generational slots, with a LIFO free list so that the
/// slot an event frees is the one the next push reuses while it is still in
/// cache. An id is `generation << 32 | slot`.
struct Slab<E> {
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    live: usize,
    next_seq: u64,
}

impl<E: Copy> Slab<E> {
    fn with_capacity(n: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            live: 0,
            next_seq: patchsim::engine::agenda_bench::FIRST_SEQ,
        }
    }

    #[inline]
    fn reserve_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Stores `event` under `seq`, a number handed out and not yet used.
    #[inline]
    fn insert_with_seq(&mut self, time: u64, seq: u64, event: E) -> Entry<E> {
        assert!(
            seq < self.next_seq,
            "sequence number {seq} was never reserved"
        );
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize].event = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("2^32 events pending");
                self.slots.push(Slot {
                    generation: 0,
                    event: Some(event),
                });
                slot
            }
        };
        self.live += 1;
        Entry {
            time,
            seq,
            slot,
            generation: self.slots[slot as usize].generation,
            event,
        }
    }

    #[inline]
    fn is_live(&self, entry: &Entry<E>) -> bool {
        self.slots[entry.slot as usize].generation == entry.generation
    }

    #[inline]
    fn take(&mut self, entry: &Entry<E>) -> E {
        debug_assert!(self.is_live(entry));
        self.free_slot(entry.slot)
    }

    fn cancel(&mut self, id: u64) -> Option<E> {
        let (slot, generation) = (id as u32, (id >> 32) as u32);
        let s = self.slots.get(slot as usize)?;
        if s.generation != generation || s.event.is_none() {
            return None;
        }
        Some(self.free_slot(slot))
    }

    #[inline]
    fn free_slot(&mut self, slot: u32) -> E {
        let s = &mut self.slots[slot as usize];
        let event = s.event.take().expect("live slot holds an event");
        self.live -= 1;
        // A slot whose generation would wrap is retired, not reused.
        if s.generation < u32::MAX {
            s.generation += 1;
            self.free.push(slot);
        }
        event
    }

    #[inline]
    fn id(entry: &Entry<E>) -> u64 {
        (u64::from(entry.generation) << 32) | u64::from(entry.slot)
    }
}

/// `BinaryHeap<Reverse<Entry<E>>>` plus a slab; O(log n) push and pop, O(1)
/// cancel (plus the pop of its key later).
pub struct LazyBinaryHeap<E> {
    slab: Slab<E>,
    heap: BinaryHeap<Reverse<Entry<E>>>,
}

impl<E: Copy> LazyBinaryHeap<E> {
    /// Drops cancelled keys from the top, so that the top is always live.
    fn clean_top(&mut self) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if self.slab.is_live(top) {
                break;
            }
            self.heap.pop();
        }
    }
}

impl<E: Copy> AgendaQueue<E> for LazyBinaryHeap<E> {
    type Id = u64;

    fn with_capacity(n: usize) -> Self {
        LazyBinaryHeap {
            slab: Slab::with_capacity(n),
            heap: BinaryHeap::with_capacity(n),
        }
    }

    fn push(&mut self, time: SimTime, event: E) -> u64 {
        let seq = self.slab.reserve_seq();
        self.push_reserved(time, seq, event)
    }

    fn reserve_seq(&mut self) -> u64 {
        self.slab.reserve_seq()
    }

    fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> u64 {
        let entry = self.slab.insert_with_seq(time.0, seq, event);
        self.heap.push(Reverse(entry));
        Slab::<E>::id(&entry)
    }

    fn pop_keyed(&mut self) -> Option<(EventKey, E)> {
        let Reverse(entry) = self.heap.pop()?;
        let event = self.slab.take(&entry);
        self.clean_top();
        let key = EventKey {
            time: SimTime(entry.time),
            seq: entry.seq,
        };
        Some((key, event))
    }

    fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|Reverse(e)| SimTime(e.time))
    }

    fn cancel(&mut self, id: u64) -> Option<E> {
        let event = self.slab.cancel(id)?;
        self.clean_top();
        Some(event)
    }

    fn len(&self) -> usize {
        self.slab.live
    }
}
