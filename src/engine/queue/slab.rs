//! Where pending events live while an ordering structure holds only keys.
//!
//! Owns [`Slab`] and [`Entry`]. An event sits in a slot; a slot carries a
//! generation that changes each time the slot is freed, so a [`TimerId`] or a
//! queued [`Entry`] that names an old occupant is recognised as stale without
//! any lookup table (cancellation is lazy: a cancelled event's entry stays
//! queued and is dropped when it surfaces). Knows nothing of time order.

use std::cmp::Ordering;

use super::TimerId;

/// One queued key: when, the insertion sequence that breaks ties, and the
/// slot and generation of the event it stands for (24 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) time: u64,
    pub(crate) seq: u64,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
}

impl Entry {
    /// The order of the agenda: time, then insertion. Unique (seq is).
    #[inline]
    pub(crate) fn key(&self) -> (u64, u64) {
        (self.time, self.seq)
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
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
/// slot an event frees is the one the next push (usually made while handling
/// that event) reuses while it is still in cache.
pub(crate) struct Slab<E> {
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    live: usize,
    next_seq: u64,
}

impl<E> Slab<E> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            live: 0,
            // 0 is never handed out, so `(t, 0)` orders before every event at `t`.
            next_seq: 1,
        }
    }

    /// Stores `event` with the next sequence number and returns the entry
    /// that stands for it.
    #[inline]
    pub(crate) fn insert(&mut self, time: u64, event: E) -> Entry {
        let seq = self.reserve_seq();
        self.insert_with_seq(time, seq, event)
    }

    /// Consumes the next sequence number without storing anything.
    #[inline]
    pub(crate) fn reserve_seq(&mut self) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        seq
    }

    /// Stores `event` under `seq`, a number [`reserve_seq`](Self::reserve_seq)
    /// handed out and not yet used.
    #[inline]
    pub(crate) fn insert_with_seq(&mut self, time: u64, seq: u64, event: E) -> Entry {
        assert!(
            seq < self.next_seq,
            "sequence number {seq} was never reserved"
        );
        let slot = match self.free.pop() {
            Some(slot) => {
                let s = &mut self.slots[slot as usize];
                debug_assert!(s.event.is_none());
                s.event = Some(event);
                slot
            }
            None => {
                let slot = u32::try_from(self.slots.len()).expect("more than 2^32 pending events");
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
        }
    }

    /// The sequence number the next push or reservation will get.
    #[cfg(test)]
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether `entry` still stands for a pending event.
    #[inline]
    pub(crate) fn is_live(&self, entry: &Entry) -> bool {
        self.slots[entry.slot as usize].generation == entry.generation
    }

    /// The event of `entry`, if it is still pending.
    #[inline]
    pub(crate) fn get(&self, entry: &Entry) -> Option<&E> {
        let s = &self.slots[entry.slot as usize];
        if s.generation == entry.generation {
            s.event.as_ref()
        } else {
            None
        }
    }

    /// Starts loading `entry`'s slot into cache (see [`crate::engine::prefetch`]).
    #[inline]
    pub(crate) fn prefetch(&self, entry: &Entry) {
        if let Some(s) = self.slots.get(entry.slot as usize) {
            crate::engine::prefetch(s);
        }
    }

    /// Takes the event of a live entry out of its slot.
    #[inline]
    pub(crate) fn take(&mut self, entry: &Entry) -> E {
        debug_assert!(self.is_live(entry));
        self.free_slot(entry.slot)
    }

    /// Takes the event `id` names, if it is still pending.
    pub(crate) fn cancel(&mut self, id: TimerId) -> Option<E> {
        let raw = id.raw();
        let (slot, generation) = (raw as u32, (raw >> 32) as u32);
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
        // A slot whose generation would wrap is retired rather than reused,
        // so no id or entry, however old, can ever name a later occupant.
        if s.generation < u32::MAX {
            s.generation += 1;
            self.free.push(slot);
        }
        event
    }

    /// The id of the event `entry` stands for.
    #[inline]
    pub(crate) fn id(entry: &Entry) -> TimerId {
        TimerId::new((u64::from(entry.generation) << 32) | u64::from(entry.slot))
    }

    /// Number of pending events.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.live
    }
}
