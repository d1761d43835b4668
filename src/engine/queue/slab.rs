//! Where pending events live while an ordering structure holds their keys.
//!
//! Owns [`Slab`] and [`Entry`]. A queued entry carries its event; an event
//! that may be cancelled also sits in a slot, and a slot carries a
//! generation that changes each time the slot is freed, so a [`TimerId`] or a
//! queued [`Entry`] that names an old occupant is recognised as stale without
//! any lookup table (cancellation is lazy: a cancelled event's entry stays
//! queued and is dropped when it surfaces). An event that cannot be
//! cancelled ([`Slab::insert_fixed`]) has no slot: popping it, or checking
//! that it is pending, reads nothing but its entry. Knows nothing of time
//! order.

use std::cmp::Ordering;

use super::TimerId;

/// The slot of an entry whose event has none (it cannot be cancelled).
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// One queued event: when, the insertion sequence that breaks ties, the
/// slot and generation that tell whether it is still pending ([`NO_SLOT`]:
/// always, until popped), and the event itself (32 bytes for an event of 8).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry<E> {
    pub(crate) time: u64,
    pub(crate) seq: u64,
    pub(crate) slot: u32,
    pub(crate) generation: u32,
    pub(crate) event: E,
}

impl<E> Entry<E> {
    /// The order of the agenda: time, then insertion. Unique (seq is).
    #[inline]
    pub(crate) fn key(&self) -> (u64, u64) {
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
/// slot an event frees is the one the next push (usually made while handling
/// that event) reuses while it is still in cache.
pub(crate) struct Slab<E> {
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    live: usize,
    next_seq: u64,
}

impl<E: Copy> Slab<E> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Slab {
            slots: Vec::with_capacity(n),
            free: Vec::new(),
            live: 0,
            // 0 is never handed out, so `(t, 0)` orders before every event at `t`.
            next_seq: super::FIRST_SEQ,
        }
    }

    /// Stores `event` with the next sequence number and returns the entry
    /// that stands for it.
    #[inline]
    pub(crate) fn insert(&mut self, time: u64, event: E) -> Entry<E> {
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
    pub(crate) fn insert_with_seq(&mut self, time: u64, seq: u64, event: E) -> Entry<E> {
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
                let slot = u32::try_from(self.slots.len())
                    .ok()
                    .filter(|&slot| slot != NO_SLOT)
                    .expect("2^32 - 1 cancellable events pending");
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

    /// An entry for `event` with the next sequence number, without a slot:
    /// it cannot be cancelled, and stays pending until it is taken.
    #[inline]
    pub(crate) fn insert_fixed(&mut self, time: u64, event: E) -> Entry<E> {
        let seq = self.reserve_seq();
        self.live += 1;
        Entry {
            time,
            seq,
            slot: NO_SLOT,
            generation: 0,
            event,
        }
    }

    /// An entry for `event` under `seq`, a number below the counter's (a
    /// ranked event's), without a slot: it cannot be cancelled.
    #[inline]
    pub(crate) fn insert_fixed_with_seq(&mut self, time: u64, seq: u64, event: E) -> Entry<E> {
        debug_assert!(
            seq < super::FIRST_SEQ,
            "a ranked number is below the counter's"
        );
        self.live += 1;
        Entry {
            time,
            seq,
            slot: NO_SLOT,
            generation: 0,
            event,
        }
    }

    /// The sequence number the next push or reservation will get.
    #[cfg(test)]
    pub(crate) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Whether `entry` still stands for a pending event.
    #[inline]
    pub(crate) fn is_live(&self, entry: &Entry<E>) -> bool {
        entry.slot == NO_SLOT || self.slots[entry.slot as usize].generation == entry.generation
    }

    /// Takes the event of a live entry (out of its slot, if it has one).
    #[inline]
    pub(crate) fn take(&mut self, entry: &Entry<E>) -> E {
        debug_assert!(self.is_live(entry));
        if entry.slot == NO_SLOT {
            self.live -= 1;
            return entry.event;
        }
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
    pub(crate) fn id(entry: &Entry<E>) -> TimerId {
        debug_assert_ne!(entry.slot, NO_SLOT, "an event without a slot has no id");
        TimerId::new((u64::from(entry.generation) << 32) | u64::from(entry.slot))
    }

    /// Number of pending events.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.live
    }
}
