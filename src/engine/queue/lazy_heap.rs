//! Candidate agenda: `std`'s binary heap of keys with lazy cancellation.
//!
//! Owns [`LazyBinaryHeap`]. Events live in a generational [`Slab`]; the heap
//! holds [`Entry`] keys (each with a copy of its event). A cancelled event's key stays in the heap
//! and is dropped when it reaches the top. Kept as the benchmark's `std`
//! baseline (benches/queue.rs) and checked by the same shadow test as the
//! agenda.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::slab::{Entry, Slab};
use super::{AgendaQueue, EventKey, TimerId};
use crate::engine::time::SimTime;

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
    fn with_capacity(n: usize) -> Self {
        LazyBinaryHeap {
            slab: Slab::with_capacity(n),
            heap: BinaryHeap::with_capacity(n),
        }
    }

    fn push(&mut self, time: SimTime, event: E) -> TimerId {
        let entry = self.slab.insert(time.0, event);
        self.heap.push(Reverse(entry));
        Slab::<E>::id(&entry)
    }

    fn reserve_seq(&mut self) -> u64 {
        self.slab.reserve_seq()
    }

    fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> TimerId {
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

    fn cancel(&mut self, id: TimerId) -> Option<E> {
        let event = self.slab.cancel(id)?;
        self.clean_top();
        Some(event)
    }

    fn len(&self) -> usize {
        self.slab.len()
    }
}
