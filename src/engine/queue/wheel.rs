//! The agenda's structure: a ring of time buckets over integer milliseconds.
//!
//! Owns [`BucketWheel`]. Designed for patchsim's agenda: millions of pending
//! timers, most of them a few minutes to an hour ahead (policy polls,
//! reporting cycles), times in integer ms, and a clock that only moves
//! forward. Pushing is O(1) for an event within the horizon; each bucket is
//! sorted once, when the clock reaches it, so a pop costs a little more than
//! a vector pop. Knows nothing of what the events mean.
//!
//! Layout, for a bucket width `W = 2^SHIFT` ms and `N = 2^BITS` buckets:
//!
//! - the *current window* `[window_start, window_start + W)`: its events are
//!   in `sorted` (descending, next at the end), except those pushed after it
//!   was loaded, which go to the small heap `late` (so do events pushed
//!   before `window_start`, which the clock never allows but the agenda does);
//! - `buckets`: the next `N - 1` windows, unsorted, one vector each, with a
//!   two-level bitmap of the non-empty ones;
//! - `far`: a binary heap of everything beyond the horizon `N · W`, moved into
//!   its bucket when the horizon reaches it.
//!
//! Cancellation is lazy (see [`Slab`]). `peek_time` takes `&self`, so the
//! heads of `sorted`, `late` and `far` are kept live after every operation;
//! when the current window is empty, `peek_time` scans the next non-empty
//! bucket and `pop` then loads it: one pass over the bucket's slots (drops
//! cancelled entries and pulls every slot the coming pops read into cache
//! at once) and a sort of packed `u64` keys. The window therefore never runs
//! ahead of the next event, and events pushed while it is empty still land in
//! their own bucket rather than in `late`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::slab::{Entry, Slab};
use super::{AgendaQueue, TimerId};
use crate::engine::time::SimTime;

/// A bucketed timing wheel with `2^BITS` buckets of `2^SHIFT` ms each.
///
/// The defaults (1.024 s buckets, 4,096 of them: a horizon of 69.9 min) were
/// chosen with `benches/queue.rs`; any parameters give the same order.
pub struct BucketWheel<E, const SHIFT: u32 = 10, const BITS: u32 = 12> {
    slab: Slab<E>,
    /// The current window, sorted descending: the next event is last.
    sorted: Vec<Entry>,
    /// Events pushed into (or before) the current window after it was loaded.
    late: BinaryHeap<Reverse<Entry>>,
    buckets: Box<[Vec<Entry>]>,
    /// One bit per bucket: non-empty.
    occupied: Box<[u64]>,
    /// One bit per word of `occupied`: non-zero.
    summary: Box<[u64]>,
    /// Events beyond the horizon.
    far: BinaryHeap<Reverse<Entry>>,
    /// Scratch space for sorting a loaded bucket.
    keys: Vec<u64>,
    scratch: Vec<Entry>,
    /// Start of the current window; a multiple of the bucket width.
    window_start: u64,
    /// Bucket index of the current window (always empty itself).
    cursor: usize,
}

impl<E, const SHIFT: u32, const BITS: u32> BucketWheel<E, SHIFT, BITS> {
    const WIDTH: u64 = 1 << SHIFT;
    const N: usize = 1 << BITS;
    const MASK: usize = Self::N - 1;

    /// How many windows after the current one `time` falls (0: in it or before).
    #[inline]
    fn distance(&self, time: u64) -> u64 {
        time.saturating_sub(self.window_start) >> SHIFT
    }

    /// Files an entry by its time, relative to the current window.
    #[inline]
    fn place(&mut self, entry: Entry) {
        let d = self.distance(entry.time);
        if d == 0 {
            self.late.push(Reverse(entry));
        } else if d < Self::N as u64 {
            let b = (self.cursor + d as usize) & Self::MASK;
            self.buckets[b].push(entry);
            self.occupied[b >> 6] |= 1 << (b & 63);
            self.summary[b >> 12] |= 1 << ((b >> 6) & 63);
        } else {
            self.far.push(Reverse(entry));
        }
    }

    fn unmark(&mut self, b: usize) {
        let w = b >> 6;
        self.occupied[w] &= !(1 << (b & 63));
        if self.occupied[w] == 0 {
            self.summary[w >> 6] &= !(1 << (w & 63));
        }
    }

    /// The first non-empty bucket at index `start` or later (no wrapping).
    fn find_from(&self, start: usize) -> Option<usize> {
        if start >= Self::N {
            return None;
        }
        let w = start >> 6;
        let bits = self.occupied[w] & (!0u64 << (start & 63));
        if bits != 0 {
            return Some((w << 6) | bits.trailing_zeros() as usize);
        }
        let w = w + 1;
        if w >= self.occupied.len() {
            return None;
        }
        let mut s = w >> 6;
        let mut sbits = self.summary[s] & (!0u64 << (w & 63));
        loop {
            if sbits != 0 {
                let w = (s << 6) | sbits.trailing_zeros() as usize;
                return Some((w << 6) | self.occupied[w].trailing_zeros() as usize);
            }
            s += 1;
            if s >= self.summary.len() {
                return None;
            }
            sbits = self.summary[s];
        }
    }

    /// The next non-empty bucket after the cursor, in time order.
    fn next_bucket(&self) -> Option<usize> {
        self.find_from(self.cursor + 1)
            .or_else(|| self.find_from(0).filter(|&b| b < self.cursor))
    }

    fn current_is_empty(&self) -> bool {
        self.sorted.is_empty() && self.late.is_empty()
    }

    /// Drops cancelled entries from the heads of the current window.
    fn clean_current(&mut self) {
        while let Some(e) = self.sorted.last() {
            if self.slab.is_live(e) {
                break;
            }
            self.sorted.pop();
        }
        while let Some(Reverse(e)) = self.late.peek() {
            if self.slab.is_live(e) {
                break;
            }
            self.late.pop();
        }
    }

    /// Drops cancelled entries from the top of `far`.
    fn clean_far(&mut self) {
        while let Some(Reverse(e)) = self.far.peek() {
            if self.slab.is_live(e) {
                break;
            }
            self.far.pop();
        }
    }

    /// Moves the events the horizon now reaches from `far` to their buckets.
    fn migrate_far(&mut self) {
        while let Some(Reverse(e)) = self.far.peek() {
            if self.distance(e.time) >= Self::N as u64 {
                break;
            }
            let Reverse(e) = self.far.pop().expect("peeked");
            if self.slab.is_live(&e) {
                self.place(e);
            }
        }
        self.clean_far();
    }

    /// With the current window empty, moves it to the next window holding a
    /// pending event. False if nothing is pending.
    fn advance(&mut self) -> bool {
        loop {
            match self.next_bucket() {
                Some(b) => {
                    let d = b.wrapping_sub(self.cursor) & Self::MASK;
                    self.window_start += (d as u64) << SHIFT;
                    self.cursor = b;
                    self.migrate_far();
                    debug_assert!(self.sorted.is_empty() && self.late.is_empty());
                    // Swap, so the emptied bucket keeps the old window's capacity.
                    std::mem::swap(&mut self.sorted, &mut self.buckets[b]);
                    self.unmark(b);
                    // One pass over the bucket's slots, in memory order: drops
                    // cancelled entries, and its independent loads bring every
                    // slot the coming pops will read into cache at once, instead
                    // of one cache miss per pop.
                    let slab = &self.slab;
                    self.sorted.retain(|e| slab.is_live(e));
                    self.sort_current();
                }
                None => {
                    let Some(Reverse(first)) = self.far.peek() else {
                        return false;
                    };
                    let t = first.time;
                    self.window_start = t & !(Self::WIDTH - 1);
                    self.cursor = (t >> SHIFT) as usize & Self::MASK;
                    self.migrate_far();
                }
            }
            self.clean_current();
            if !self.current_is_empty() {
                return true;
            }
        }
    }

    /// Sorts the freshly loaded window, next event last. Sorts packed `u64`
    /// keys (offset in the window, position) and gathers, which is several
    /// times cheaper than sorting 24-byte entries by `(time, seq)`. Exact
    /// because a bucket holds its entries in `seq` order among equal times:
    /// entries moved in from `far` arrive in `(time, seq)` order, and all of
    /// them arrive (when the horizon first covers the bucket) before any
    /// entry is pushed into it directly, with a larger `seq`.
    fn sort_current(&mut self) {
        const POS_BITS: u32 = 40;
        let ws = self.window_start;
        self.keys.clear();
        self.keys
            .extend(self.sorted.iter().enumerate().map(|(i, e)| {
                debug_assert!(e.time >= ws && e.time - ws < Self::WIDTH);
                ((e.time - ws) << POS_BITS) | i as u64
            }));
        self.keys.sort_unstable();
        self.scratch.clear();
        let from = &self.sorted;
        self.scratch.extend(
            self.keys
                .iter()
                .rev()
                .map(|&k| from[(k & ((1 << POS_BITS) - 1)) as usize]),
        );
        std::mem::swap(&mut self.sorted, &mut self.scratch);
        debug_assert!(self.sorted.is_sorted_by(|a, b| a > b));
    }

    /// The earliest live entry of bucket `b`, found without changing anything.
    fn bucket_min(&self, b: usize) -> Option<&Entry> {
        let mut best: Option<&Entry> = None;
        for e in &self.buckets[b] {
            if best.is_none_or(|x| e < x) && self.slab.is_live(e) {
                best = Some(e);
            }
        }
        best
    }
}

impl<E, const SHIFT: u32, const BITS: u32> AgendaQueue<E> for BucketWheel<E, SHIFT, BITS> {
    fn with_capacity(n: usize) -> Self {
        const { assert!(BITS >= 6 && BITS <= 24 && SHIFT <= 24) };
        let words = Self::N >> 6;
        BucketWheel {
            slab: Slab::with_capacity(n),
            sorted: Vec::new(),
            late: BinaryHeap::new(),
            buckets: (0..Self::N).map(|_| Vec::new()).collect(),
            occupied: vec![0; words].into_boxed_slice(),
            summary: vec![0; words.div_ceil(64)].into_boxed_slice(),
            far: BinaryHeap::new(),
            keys: Vec::new(),
            scratch: Vec::new(),
            window_start: 0,
            cursor: 0,
        }
    }

    #[inline]
    fn push(&mut self, time: SimTime, event: E) -> TimerId {
        let entry = self.slab.insert(time.0, event);
        self.place(entry);
        Slab::<E>::id(&entry)
    }

    #[inline]
    fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.current_is_empty() && !self.advance() {
            return None;
        }
        // Both heads are live; take the earlier.
        let from_late = match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(Reverse(l))) => l < s,
            (None, _) => true,
            (Some(_), None) => false,
        };
        let entry = if from_late {
            self.late.pop().expect("non-empty").0
        } else {
            self.sorted.pop().expect("non-empty")
        };
        let event = self.slab.take(&entry);
        self.clean_current();
        Some((SimTime(entry.time), event))
    }

    fn peek_time(&self) -> Option<SimTime> {
        match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(Reverse(l))) => return Some(SimTime(s.min(l).time)),
            (Some(e), None) | (None, Some(Reverse(e))) => return Some(SimTime(e.time)),
            (None, None) => {}
        }
        if self.slab.len() == 0 {
            return None;
        }
        // The current window is empty: the next event is in the first bucket
        // that holds a live one (in ring order from the cursor), else in `far`.
        let mut from = self.cursor + 1;
        let mut wrapped = false;
        loop {
            match self.find_from(from) {
                Some(b) if wrapped && b >= self.cursor => break,
                Some(b) => {
                    if let Some(e) = self.bucket_min(b) {
                        return Some(SimTime(e.time));
                    }
                    from = b + 1;
                }
                None if wrapped => break,
                None => {
                    wrapped = true;
                    from = 0;
                }
            }
        }
        self.far.peek().map(|Reverse(e)| SimTime(e.time))
    }

    fn cancel(&mut self, id: TimerId) -> Option<E> {
        let event = self.slab.cancel(id)?;
        self.clean_current();
        self.clean_far();
        Some(event)
    }

    #[inline]
    fn len(&self) -> usize {
        self.slab.len()
    }
}
