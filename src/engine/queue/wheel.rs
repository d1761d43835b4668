//! The agenda's structure: a two-level ring of time buckets over integer
//! milliseconds.
//!
//! Owns [`BucketWheel`]. Designed for an agenda of millions of pending
//! timers, most of them a few minutes to an hour ahead (short periods), a
//! million more 10 to 15 hours or days ahead (long delays), times in integer
//! ms, and a clock that only moves forward. Pushing is O(1) for an event
//! within the coarse horizon (about 50 days); each near bucket is sorted
//! once, when the clock reaches it, so a pop costs a little more than a
//! vector pop. Knows nothing of what the events mean.
//!
//! Layout, for a bucket width `W = 2^SHIFT` ms, `N = 2^BITS` near buckets, a
//! coarse width `CW = N · W / 2` and `M = 2^CBITS` coarse buckets:
//!
//! - the *current window* `[window_start, window_start + W)`: its events are
//!   in `sorted` (descending, next at the end), except those pushed after it
//!   was loaded, which go to the small heap `late` (so do events pushed
//!   before `window_start`, which the clock never allows but the agenda does);
//! - `near`: one unsorted vector per later window up to the *frontier* `F`
//!   (a multiple of `CW`, with `window_start + CW < F <= window_start + N·W`),
//!   with a bitmap of the non-empty ones. A 60-minute timer always lands here
//!   with the defaults (`N · W / 2` = 69.9 min);
//! - `coarse`: one unsorted vector per `CW`-wide span from `F` to
//!   `F + M · CW`, with a bitmap. When the window gets within `N · W` of the
//!   end of the span `[F, F + CW)`, that span moves, in its vector's order,
//!   into `near` and `F` grows by `CW`;
//! - `far`: a binary heap of everything beyond `F + M · CW`; as `F` grows, the
//!   span the coarse ring newly reaches moves from `far` to its coarse bucket,
//!   in `(time, seq)` order. A long empty stretch is jumped over: the window
//!   moves to just before the first non-empty coarse bucket, restarting the
//!   coarse ring at the first event of `far` if it is empty too;
//! - `reserved`: a binary heap of the events pushed with a reserved (earlier)
//!   sequence number, which fit nowhere else (see [`push_reserved`]); `pop`
//!   looks at it only when it is non-empty.
//!
//! Order. Each bucket, at either level, holds its entries in `seq` order
//! among equal times, which is what makes the packed-key sort of
//! [`load`] exact. A bucket is filled in two ways: entries moved down
//! from the level above, then direct pushes. Moved entries arrive in `seq`
//! order among equal times: from `far` by heap pops in `(time, seq)` order,
//! from a coarse bucket in its vector's order, which has the property by the
//! same argument one level up. Direct pushes are appended in push order, and
//! `seq` grows with every push. And every moved entry comes before every
//! direct push into its span, in the vector and in `seq`: a push goes to the
//! lowest level whose frontier has passed its time, the frontier passes a
//! span in the same step that moves the span's entries down, and from then on
//! the level above never gets an entry of that span again; so the moved
//! entries were all pushed before the frontier passed, the direct ones after.
//! A push with a reserved sequence number would break that last point (its
//! `seq` is older than direct pushes made before it), hence its own heap.
//!
//! Each entry carries its event. Cancellation is lazy (see [`Slab`]): only a
//! cancellable event has a slot, and an entry without one (a fixed event,
//! [`AgendaQueue::push_fixed`]) is always live. `peek_time` takes `&self`,
//! so the heads of `sorted`, `late`, `far` and `reserved` are kept live
//! after every operation; when the current window is empty, `peek_time`
//! searches the next bucket holding a live entry and `pop` then loads it: one
//! pass over the bucket's entries (drops cancelled ones, reading the slots
//! of the cancellable ones, which pulls those slots the coming pops free
//! into cache at once) and a sort of packed `u64` keys. The window
//! therefore never runs ahead of the next event, and events pushed while it
//! is empty still land in their own bucket rather than in `late`.
//!
//! [`load`]: BucketWheel::load
//! [`push_reserved`]: AgendaQueue::push_reserved

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::slab::{Entry, Slab};
use super::{AgendaQueue, EventKey, TimerId};
use crate::engine::time::SimTime;

/// Which of `2^bits` buckets are non-empty: one bit per bucket, plus one bit
/// per word of those, so finding the next non-empty bucket reads two or
/// three words however sparse the ring is.
struct Occupancy {
    words: Box<[u64]>,
    summary: Box<[u64]>,
}

impl Occupancy {
    fn new(buckets: usize) -> Self {
        let words = buckets.div_ceil(64);
        Occupancy {
            words: vec![0; words].into_boxed_slice(),
            summary: vec![0; words.div_ceil(64)].into_boxed_slice(),
        }
    }

    #[inline]
    fn insert(&mut self, b: usize) {
        self.words[b >> 6] |= 1 << (b & 63);
        self.summary[b >> 12] |= 1 << ((b >> 6) & 63);
    }

    fn remove(&mut self, b: usize) {
        let w = b >> 6;
        self.words[w] &= !(1 << (b & 63));
        if self.words[w] == 0 {
            self.summary[w >> 6] &= !(1 << (w & 63));
        }
    }

    fn contains(&self, b: usize) -> bool {
        self.words[b >> 6] & (1 << (b & 63)) != 0
    }

    fn is_empty(&self) -> bool {
        self.summary.iter().all(|&s| s == 0)
    }

    /// The first non-empty bucket at index `start` or later (no wrapping).
    fn first_from(&self, start: usize) -> Option<usize> {
        let w = start >> 6;
        if w >= self.words.len() {
            return None;
        }
        let bits = self.words[w] & (!0u64 << (start & 63));
        if bits != 0 {
            return Some((w << 6) | bits.trailing_zeros() as usize);
        }
        let w = w + 1;
        if w >= self.words.len() {
            return None;
        }
        let mut s = w >> 6;
        let mut sbits = self.summary[s] & (!0u64 << (w & 63));
        loop {
            if sbits != 0 {
                let w = (s << 6) | sbits.trailing_zeros() as usize;
                return Some((w << 6) | self.words[w].trailing_zeros() as usize);
            }
            s += 1;
            if s >= self.summary.len() {
                return None;
            }
            sbits = self.summary[s];
        }
    }

    /// The non-empty buckets in ring order from `start` (inclusive).
    fn ring_from(&self, start: usize) -> impl Iterator<Item = usize> + '_ {
        let mut from = start;
        let mut wrapped = false;
        std::iter::from_fn(move || {
            loop {
                match self.first_from(from) {
                    Some(b) if wrapped && b >= start => return None,
                    Some(b) => {
                        from = b + 1;
                        return Some(b);
                    }
                    None if wrapped => return None,
                    None => {
                        wrapped = true;
                        from = 0;
                    }
                }
            }
        })
    }
}

/// A two-level timing wheel: `2^BITS` buckets of `2^SHIFT` ms, then
/// `2^CBITS` buckets of `2^(SHIFT + BITS - 1)` ms, then a heap.
///
/// The defaults (1.024 s near buckets, 8,192 of them; 69.9-minute coarse
/// buckets, 1,024 of them: about 50 days) were chosen with
/// `benches/queue.rs`; any parameters give the same order.
pub struct BucketWheel<E, const SHIFT: u32 = 10, const BITS: u32 = 13, const CBITS: u32 = 10> {
    slab: Slab<E>,
    /// The current window, sorted descending: the next event is last.
    sorted: Vec<Entry<E>>,
    /// Events pushed into (or before) the current window after it was loaded.
    late: BinaryHeap<Reverse<Entry<E>>>,
    near: Box<[Vec<Entry<E>>]>,
    near_occupied: Occupancy,
    /// Large emptied vectors, given to near buckets that get their first
    /// entry in the first half of the ring, so that only buckets holding
    /// many events hold much memory.
    spare: Vec<Vec<Entry<E>>>,
    coarse: Box<[Vec<Entry<E>>]>,
    coarse_occupied: Occupancy,
    /// Events beyond the coarse horizon.
    far: BinaryHeap<Reverse<Entry<E>>>,
    /// Events pushed with a reserved sequence number.
    reserved: BinaryHeap<Reverse<Entry<E>>>,
    /// Scratch space for sorting a loaded bucket: each entry's time in the
    /// window and sequence number, packed, and its index.
    keys: Vec<(u64, u32)>,
    /// Scratch space for counting what a coarse bucket brings to each near
    /// one (all zero between moves).
    fill: Box<[u32]>,
    /// Index in `sorted` from which on its entries were offered as hints
    /// since the window was loaded.
    hinted: usize,
    /// Start of the current window; a multiple of the bucket width.
    window_start: u64,
    /// Near bucket index of the current window (always empty itself).
    cursor: usize,
    /// The frontier `F`, in coarse widths: near holds the times before
    /// `frontier · CW`, coarse the next `M` coarse widths, `far` the rest.
    frontier: u64,
    #[cfg(test)]
    moves: LevelMoves,
}

/// How often each slow path ran, so tests can show they exercised it.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LevelMoves {
    /// Non-empty coarse buckets moved into the near ring.
    pub(crate) coarse_to_near: u64,
    /// Entries moved from `far` into a coarse bucket.
    pub(crate) far_to_coarse: u64,
    /// Jumps of the window to the first non-empty coarse bucket.
    pub(crate) coarse_jumps: u64,
    /// Restarts of the coarse ring at the first event of `far`.
    pub(crate) far_jumps: u64,
}

impl<E: Copy, const SHIFT: u32, const BITS: u32, const CBITS: u32>
    BucketWheel<E, SHIFT, BITS, CBITS>
{
    const WIDTH: u64 = 1 << SHIFT;
    const N: usize = 1 << BITS;
    const MASK: usize = Self::N - 1;
    /// The coarse width is `2^CSHIFT` ms: half the near ring.
    const CSHIFT: u32 = SHIFT + BITS - 1;
    const M: usize = 1 << CBITS;
    const CMASK: usize = Self::M - 1;
    /// Spare vectors kept at most; each is as large as a loaded bucket.
    const MAX_SPARE: usize = 64;
    /// A near bucket's vector up to this capacity stays with the bucket.
    const KEPT_CAPACITY: usize = 64;

    /// How many windows after the current one `time` falls (0: in it or before).
    #[inline]
    fn distance(&self, time: u64) -> u64 {
        time.saturating_sub(self.window_start) >> SHIFT
    }

    /// Files an entry by its time, relative to the current window and the
    /// frontier.
    #[inline]
    fn place(&mut self, entry: Entry<E>) {
        let d = self.distance(entry.time);
        if d == 0 {
            self.late.push(Reverse(entry));
        } else if entry.time >> Self::CSHIFT < self.frontier {
            let b = (entry.time >> SHIFT) as usize & Self::MASK;
            self.equip(b, d);
            self.near[b].push(entry);
            self.near_occupied.insert(b);
        } else {
            self.place_beyond_frontier(entry);
        }
    }

    /// Gives near bucket `b`, `d` windows ahead, a spare vector if it has
    /// none (see [`give_spare`](Self::give_spare)).
    #[inline]
    fn equip(&mut self, b: usize, d: u64) {
        if self.near[b].capacity() == 0 {
            self.give_spare(b, d);
        }
    }

    /// Gives a near bucket without a vector, `d` windows ahead, a spare one,
    /// if it is in the first half of the ring. A spare has the capacity of a
    /// large loaded bucket; the second half is filled mostly by the sparse
    /// far timers moved down from the coarse level, so there a vector that
    /// grows as needed holds a fraction of the memory.
    #[cold]
    fn give_spare(&mut self, b: usize, d: u64) {
        if d < (Self::N / 2) as u64 {
            if let Some(v) = self.spare.pop() {
                self.near[b] = v;
            }
        }
    }

    /// Files an entry at or beyond the frontier: in its coarse bucket, or in
    /// `far`.
    fn place_beyond_frontier(&mut self, entry: Entry<E>) {
        let c = entry.time >> Self::CSHIFT;
        if c < self.frontier + Self::M as u64 {
            self.put_coarse(entry);
        } else {
            self.far.push(Reverse(entry));
        }
    }

    fn put_coarse(&mut self, entry: Entry<E>) {
        let c = (entry.time >> Self::CSHIFT) as usize & Self::CMASK;
        self.coarse[c].push(entry);
        self.coarse_occupied.insert(c);
    }

    fn current_is_empty(&self) -> bool {
        self.sorted.is_empty() && self.late.is_empty()
    }

    /// The earlier of the current window's heads (both live).
    fn current_head(&self) -> Option<&Entry<E>> {
        match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(Reverse(l))) => Some(s.min(l)),
            (Some(e), None) | (None, Some(Reverse(e))) => Some(e),
            (None, None) => None,
        }
    }

    /// The entry `k` places after the current window's sorted head (0: the
    /// head), if the window holds that many. A hint only: it ignores events
    /// pushed into the window after it was loaded.
    #[inline]
    fn sorted_ahead(&self, k: usize) -> Option<&Entry<E>> {
        let len = self.sorted.len();
        if k < len {
            Some(&self.sorted[len - 1 - k])
        } else {
            None
        }
    }

    /// The event about `k` places ahead in the order, if it is at hand (in
    /// the loaded window), for a model to prefetch what it will touch.
    /// Changes nothing. It may be an event cancelled since (a hint only).
    #[inline]
    pub(crate) fn near(&self, k: usize) -> Option<&E> {
        self.sorted_ahead(k).map(|e| &e.event)
    }

    /// Offers `hint` every event of the loaded window within `k` places of
    /// its sorted head that it did not offer since the window was loaded:
    /// after a load the first `k + 1` at once, then one per pop. (Like
    /// [`near`](Self::near), it ignores events pushed into the window after
    /// it was loaded.)
    #[inline]
    pub(crate) fn hint_ahead(&mut self, k: usize, mut hint: impl FnMut(&E)) {
        let len = self.sorted.len();
        let low = len.saturating_sub(k + 1);
        let mut i = self.hinted.min(len);
        while i > low {
            i -= 1;
            hint(&self.sorted[i].event);
        }
        self.hinted = i;
    }

    /// Schedules `event` at `time` for good under `seq`, a ranked number
    /// below every pushed event's (see [`Agenda::push_ranked`]).
    ///
    /// [`Agenda::push_ranked`]: crate::engine::Agenda::push_ranked
    #[inline]
    pub(crate) fn push_ranked(&mut self, time: SimTime, seq: u64, event: E) {
        let entry = self.slab.insert_fixed_with_seq(time.0, seq, event);
        self.place(entry);
    }

    /// Removes the current window's next entry; it must not be empty.
    #[inline]
    fn pop_current(&mut self) -> Entry<E> {
        let from_late = match (self.sorted.last(), self.late.peek()) {
            (Some(s), Some(Reverse(l))) => l < s,
            (None, _) => true,
            (Some(_), None) => false,
        };
        if from_late {
            self.late.pop().expect("non-empty").0
        } else {
            self.sorted.pop().expect("non-empty")
        }
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

    /// Drops cancelled entries from the tops of `far` and `reserved`.
    fn clean_heaps(&mut self) {
        for heap in [&mut self.far, &mut self.reserved] {
            while let Some(Reverse(e)) = heap.peek() {
                if self.slab.is_live(e) {
                    break;
                }
                heap.pop();
            }
        }
    }

    /// Moves the frontier up to where the window now puts it
    /// (`(window_start >> CSHIFT) + 2`), each coarse bucket it passes into
    /// the near ring, and the span the coarse ring newly reaches from `far`.
    /// Moves at most one bucket unless the window jumped.
    fn advance_frontier(&mut self) {
        let target = (self.window_start >> Self::CSHIFT) + 2;
        while self.frontier < target {
            let c = self.frontier as usize & Self::CMASK;
            self.frontier += 1;
            if self.coarse_occupied.contains(c) {
                self.coarse_occupied.remove(c);
                // Taken, not cleared: a coarse bucket can hold a large share
                // of the agenda, and a thousand of them keeping their peak
                // capacity would hold many times the pending events' memory.
                let bucket = std::mem::take(&mut self.coarse[c]);
                #[cfg(test)]
                {
                    self.moves.coarse_to_near += 1;
                }
                // Cancelled entries move too: dropping them here would read
                // each one's slot, which loading its near bucket does anyway.
                // Each near bucket is sized once for what it receives, rather
                // than grown by doubling from empty: with millions of timers
                // moving down, doubling cost millions of reallocations over a
                // long run.
                for e in &bucket {
                    self.fill[(e.time >> SHIFT) as usize & Self::MASK] += 1;
                }
                for e in bucket {
                    debug_assert!(self.distance(e.time) > 0);
                    debug_assert!(e.time >> Self::CSHIFT < self.frontier);
                    let b = (e.time >> SHIFT) as usize & Self::MASK;
                    let n = std::mem::take(&mut self.fill[b]);
                    if n > 0 {
                        self.equip(b, self.distance(e.time));
                        self.near[b].reserve(n as usize);
                    }
                    self.place(e);
                }
            }
            self.pull_far();
        }
    }

    /// Moves the events of `far` the coarse ring now reaches into their
    /// coarse buckets, in `(time, seq)` order; leaves the top of `far` live.
    fn pull_far(&mut self) {
        let end = self.frontier + Self::M as u64;
        while let Some(&Reverse(e)) = self.far.peek() {
            let live = self.slab.is_live(&e);
            if live && e.time >> Self::CSHIFT >= end {
                break;
            }
            self.far.pop();
            if live {
                #[cfg(test)]
                {
                    self.moves.far_to_coarse += 1;
                }
                self.put_coarse(e);
            }
        }
    }

    /// With the current window and the near ring empty, moves the window to
    /// just before the first non-empty coarse bucket, so that the frontier
    /// moves that bucket (and only it) into the near ring. If the coarse ring
    /// is empty too, first restarts it at the first event of `far`. False if
    /// nothing is left.
    fn jump(&mut self) -> bool {
        debug_assert!(self.current_is_empty() && self.near_occupied.is_empty());
        if self.coarse_occupied.is_empty() {
            let Some(Reverse(first)) = self.far.peek() else {
                return false;
            };
            // Near and coarse are empty, so any frontier up to the first
            // event is consistent; the window follows below.
            debug_assert!(first.time >> Self::CSHIFT >= self.frontier + Self::M as u64);
            self.frontier = first.time >> Self::CSHIFT;
            self.pull_far();
            #[cfg(test)]
            {
                self.moves.far_jumps += 1;
            }
        }
        let start = self.frontier as usize & Self::CMASK;
        let c = self
            .coarse_occupied
            .ring_from(start)
            .next()
            .expect("coarse ring non-empty");
        let first = self.frontier + (c.wrapping_sub(start) & Self::CMASK) as u64;
        // With the window one bucket before `first · CW`, the frontier moves
        // to `first + 1`: the bucket lands in the near ring, after the window.
        self.window_start = (first << Self::CSHIFT) - Self::WIDTH;
        self.cursor = (self.window_start >> SHIFT) as usize & Self::MASK;
        self.advance_frontier();
        debug_assert_eq!(self.frontier, first + 1);
        #[cfg(test)]
        {
            self.moves.coarse_jumps += 1;
        }
        true
    }

    /// With the current window empty, moves it to the next window holding a
    /// pending event. False if nothing is pending.
    fn advance(&mut self) -> bool {
        loop {
            let Some(b) = self
                .near_occupied
                .ring_from((self.cursor + 1) & Self::MASK)
                .next()
            else {
                if !self.jump() {
                    return false;
                }
                continue;
            };
            let d = b.wrapping_sub(self.cursor) & Self::MASK;
            self.window_start += (d as u64) << SHIFT;
            self.cursor = b;
            if self.frontier < (self.window_start >> Self::CSHIFT) + 2 {
                self.advance_frontier();
            }
            self.near_occupied.remove(b);
            self.load(b);
            if !self.sorted.is_empty() {
                debug_assert_eq!(self.frontier, (self.window_start >> Self::CSHIFT) + 2);
                return true;
            }
        }
    }

    /// Makes near bucket `b`, the new current window, the sorted window
    /// (next event last) and empties it. Sorts packed `u64` keys (offset in
    /// the window, position) and gathers, which is several times cheaper
    /// than sorting 24-byte entries by `(time, seq)`. Exact because a bucket
    /// holds its entries in `seq` order among equal times (see the module's
    /// comment on order).
    fn load(&mut self, b: usize) {
        const SEQ_BITS: u32 = 54;
        debug_assert!(self.current_is_empty());
        let ws = self.window_start;
        let bucket = &mut self.near[b];
        let slab = &self.slab;
        // One tight pass over the bucket, in memory order: drops cancelled
        // entries, and its independent loads bring the slot of every
        // cancellable one, which the coming pops free, into cache at once,
        // instead of one cache miss per pop (a fixed event has no slot).
        // (Checking liveness while building the keys instead makes each
        // step longer, so fewer loads overlap, and a large agenda pops
        // slower.)
        bucket.retain(|e| slab.is_live(e));
        self.keys.clear();
        self.keys.extend(bucket.iter().enumerate().map(|(i, e)| {
            debug_assert!(e.time >= ws && e.time - ws < Self::WIDTH);
            debug_assert!(e.seq < 1 << SEQ_BITS);
            (((e.time - ws) << SEQ_BITS) | e.seq, i as u32)
        }));
        self.keys.sort_unstable();
        self.sorted
            .extend(self.keys.iter().rev().map(|&(_, i)| bucket[i as usize]));
        debug_assert!(self.sorted.is_sorted_by(|a, b| a > b));
        self.hinted = self.sorted.len();
        // A small vector stays with its bucket; a large one goes to the
        // spares, so that only buckets holding many events hold much memory.
        if bucket.capacity() <= Self::KEPT_CAPACITY {
            bucket.clear();
        } else {
            let mut v = std::mem::take(bucket);
            if self.spare.len() < Self::MAX_SPARE {
                v.clear();
                self.spare.push(v);
            }
        }
    }

    /// The earliest live entry of a bucket, found without changing anything.
    fn bucket_min<'a>(&self, bucket: &'a [Entry<E>]) -> Option<&'a Entry<E>> {
        let mut best: Option<&Entry<E>> = None;
        for e in bucket {
            if best.is_none_or(|x| e < x) && self.slab.is_live(e) {
                best = Some(e);
            }
        }
        best
    }

    /// The time of the earliest entry outside `reserved`.
    fn peek_wheel(&self) -> Option<u64> {
        if let Some(e) = self.current_head() {
            return Some(e.time);
        }
        // The current window is empty: the next event is in the first near
        // bucket that holds a live one (in ring order from the cursor), else
        // in the first such coarse bucket (in ring order from the frontier),
        // else at the top of `far`.
        let near = self
            .near_occupied
            .ring_from((self.cursor + 1) & Self::MASK)
            .find_map(|b| self.bucket_min(&self.near[b]));
        let coarse = || {
            self.coarse_occupied
                .ring_from(self.frontier as usize & Self::CMASK)
                .find_map(|c| self.bucket_min(&self.coarse[c]))
        };
        near.or_else(coarse)
            .or_else(|| self.far.peek().map(|Reverse(e)| e))
            .map(|e| e.time)
    }

    /// `pop` while `reserved` holds an event: the earlier of its top and the
    /// wheel's next event.
    #[cold]
    #[inline(never)]
    fn pop_with_reserved(&mut self) -> Option<(EventKey, E)> {
        if self.current_is_empty() {
            // Nothing left in the wheel is fine: the reserved event is next.
            self.advance();
        }
        let Reverse(r) = *self.reserved.peek().expect("called with reserved events");
        let entry = match self.current_head() {
            Some(c) if *c < r => self.pop_current(),
            _ => self.reserved.pop().expect("peeked").0,
        };
        let event = self.slab.take(&entry);
        self.clean_current();
        self.clean_heaps();
        Some((event_key(&entry), event))
    }

    /// A time no pending event is before, found without loading anything:
    /// the time of the current window's head, else the start of the next
    /// non-empty window (or of the coarse level), or the top of `reserved`
    /// if that is earlier.
    #[inline]
    pub(crate) fn lower_bound(&self) -> u64 {
        let wheel = match self.current_head() {
            Some(e) => e.time,
            None => match self
                .near_occupied
                .ring_from((self.cursor + 1) & Self::MASK)
                .next()
            {
                Some(b) => {
                    let d = b.wrapping_sub(self.cursor) & Self::MASK;
                    self.window_start + ((d as u64) << SHIFT)
                }
                None => self.frontier << Self::CSHIFT,
            },
        };
        match self.reserved.peek() {
            Some(Reverse(r)) => wheel.min(r.time),
            None => wheel,
        }
    }

    /// The key of the earliest event, loading the next window if the
    /// current one is empty (which a push before it then joins in `late`).
    #[inline]
    pub(crate) fn head_key(&mut self) -> Option<EventKey> {
        if self.current_is_empty() {
            self.advance();
        }
        let current = self.current_head().map(event_key);
        match self.reserved.peek() {
            None => current,
            Some(Reverse(r)) => Some(current.map_or(event_key(r), |c| c.min(event_key(r)))),
        }
    }

    #[cfg(test)]
    pub(crate) fn level_moves(&self) -> LevelMoves {
        self.moves
    }
}

fn event_key<E>(entry: &Entry<E>) -> EventKey {
    EventKey {
        time: SimTime(entry.time),
        seq: entry.seq,
    }
}

impl<E: Copy, const SHIFT: u32, const BITS: u32, const CBITS: u32> AgendaQueue<E>
    for BucketWheel<E, SHIFT, BITS, CBITS>
{
    type Id = TimerId;

    fn with_capacity(n: usize) -> Self {
        const {
            assert!(BITS >= 2 && BITS <= 24 && SHIFT <= 24 && CBITS >= 1 && CBITS <= 20);
        };
        BucketWheel {
            slab: Slab::with_capacity(n),
            sorted: Vec::new(),
            late: BinaryHeap::new(),
            near: (0..Self::N).map(|_| Vec::new()).collect(),
            near_occupied: Occupancy::new(Self::N),
            spare: Vec::new(),
            coarse: (0..Self::M).map(|_| Vec::new()).collect(),
            coarse_occupied: Occupancy::new(Self::M),
            far: BinaryHeap::new(),
            reserved: BinaryHeap::new(),
            keys: Vec::new(),
            fill: vec![0; Self::N].into_boxed_slice(),
            hinted: 0,
            window_start: 0,
            cursor: 0,
            // The near ring starts out covering `[0, N · W)`.
            frontier: 2,
            #[cfg(test)]
            moves: LevelMoves::default(),
        }
    }

    #[inline]
    fn push(&mut self, time: SimTime, event: E) -> TimerId {
        let entry = self.slab.insert(time.0, event);
        self.place(entry);
        Slab::<E>::id(&entry)
    }

    #[inline]
    fn push_fixed(&mut self, time: SimTime, event: E) {
        let entry = self.slab.insert_fixed(time.0, event);
        self.place(entry);
    }

    #[inline]
    fn pop_keyed(&mut self) -> Option<(EventKey, E)> {
        if !self.reserved.is_empty() {
            return self.pop_with_reserved();
        }
        if self.current_is_empty() && !self.advance() {
            return None;
        }
        // Both heads are live; take the earlier.
        let entry = self.pop_current();
        let event = self.slab.take(&entry);
        self.clean_current();
        Some((event_key(&entry), event))
    }

    #[inline]
    fn peek_time(&self) -> Option<SimTime> {
        let wheel = self.peek_wheel();
        match self.reserved.peek() {
            None => wheel.map(SimTime),
            Some(Reverse(r)) => Some(SimTime(wheel.map_or(r.time, |w| w.min(r.time)))),
        }
    }

    fn cancel(&mut self, id: TimerId) -> Option<E> {
        let event = self.slab.cancel(id)?;
        self.clean_current();
        self.clean_heaps();
        Some(event)
    }

    fn reserve_seq(&mut self) -> u64 {
        self.slab.reserve_seq()
    }

    fn push_reserved(&mut self, time: SimTime, seq: u64, event: E) -> TimerId {
        let entry = self.slab.insert_with_seq(time.0, seq, event);
        self.reserved.push(Reverse(entry));
        Slab::<E>::id(&entry)
    }

    #[inline]
    fn len(&self) -> usize {
        self.slab.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// 1 ms buckets, 16 of them; 8 ms coarse buckets, 4 of them: an event
    /// 200 ms ahead starts in `far`.
    type Tiny = BucketWheel<u32, 0, 4, 2>;

    /// Pops everything, checking the order against a shadow.
    fn drain_in_order(w: &mut Tiny, mut shadow: BTreeMap<(u64, u64), u32>) {
        while let Some((key, v)) = w.pop_keyed() {
            let ((t, seq), want) = shadow.pop_first().expect("shadow has as many");
            assert_eq!((key.time.0, key.seq, v), (t, seq, want));
        }
        assert!(shadow.is_empty());
    }

    /// A tick every millisecond pushes one more event at 200 ms: the first
    /// land in `far`, later ones in a coarse bucket (after those moved down
    /// from `far`), then in the near ring (after those moved down from the
    /// coarse bucket), the last in the current window. They leave in the
    /// order they were pushed.
    #[test]
    fn equal_times_keep_push_order_through_every_level() {
        const TICK: u32 = u32::MAX;
        let mut w = Tiny::with_capacity(0);
        let mut shadow = BTreeMap::new();
        let mut seq = crate::engine::queue::FIRST_SEQ;
        let mut push = |w: &mut Tiny, t: u64, v: u32| {
            w.push(SimTime(t), v);
            shadow.insert((t, seq), v);
            seq += 1;
        };
        push(&mut w, 0, TICK);
        let mut at_200 = Vec::new();
        let mut n = 0;
        while let Some((t, v)) = w.pop() {
            if v == TICK {
                push(&mut w, 200, n);
                n += 1;
                if t.0 < 200 {
                    push(&mut w, t.0 + 1, TICK);
                }
            } else {
                assert_eq!(t, SimTime(200));
                at_200.push(v);
            }
        }
        assert_eq!(at_200, (0..n).collect::<Vec<_>>());
        assert_eq!(n, 201);
        let m = w.level_moves();
        assert!(m.far_to_coarse > 0 && m.coarse_to_near > 0, "{m:?}");
        drain_in_order(&mut w, BTreeMap::new());
    }

    /// The hints offer every event of a window once, before it is popped:
    /// after the pop that loads a window (which takes its first event at
    /// once) the next `k + 1` together, then one per pop.
    #[test]
    fn hints_offer_each_event_once_before_its_pop() {
        let mut w = Tiny::with_capacity(0);
        let mut n = 0;
        for t in 1..300u64 {
            // 0 to 9 events a window (Tiny's windows are 1 ms).
            for _ in 0..(t * 7 % 10) {
                w.push(SimTime(t), n);
                n += 1;
            }
        }
        let mut offered = vec![0u32; n as usize];
        let mut firsts = 0;
        let mut window = None;
        while let Some((key, e)) = w.pop_keyed() {
            if window == Some(key.time) {
                assert_eq!(
                    offered[e as usize], 1,
                    "event {e} offered once before its pop"
                );
            } else {
                assert_eq!(
                    offered[e as usize], 0,
                    "a window's first event is popped at its load"
                );
                firsts += 1;
                window = Some(key.time);
            }
            w.hint_ahead(3, |&x| offered[x as usize] += 1);
        }
        assert_eq!(firsts, (1..300u64).filter(|t| t * 7 % 10 > 0).count());
        assert_eq!(offered.iter().sum::<u32>(), n - firsts as u32);
    }

    /// Events scattered over the whole range, some pushed before the window
    /// after it has jumped: the window jumps to the first coarse bucket, or
    /// restarts the coarse ring at the first event of `far`.
    #[test]
    fn jumps_over_empty_stretches_keep_the_order() {
        let mut w = Tiny::with_capacity(0);
        let mut shadow = BTreeMap::new();
        let times = [
            5,
            5,
            20,
            40,
            1_000,
            1_000,
            1_003,
            70_000,
            u64::MAX - 1,
            u64::MAX,
        ];
        for (i, &t) in times.iter().enumerate() {
            w.push(SimTime(t), i as u32);
            shadow.insert((t, crate::engine::queue::FIRST_SEQ + i as u64), i as u32);
        }
        // Pop up to the event at 1,000 ms, then push behind the window.
        for _ in 0..5 {
            let (key, v) = w.pop_keyed().expect("pending");
            let ((t, seq), want) = shadow.pop_first().expect("pending");
            assert_eq!((key.time.0, key.seq, v), (t, seq, want));
        }
        assert_eq!(w.peek_time(), Some(SimTime(1_000)));
        let seq = w.slab.next_seq();
        w.push(SimTime(990), 100);
        w.push(SimTime(1_000), 101);
        shadow.insert((990, seq), 100);
        shadow.insert((1_000, seq + 1), 101);
        assert_eq!(w.peek_time(), Some(SimTime(990)));
        drain_in_order(&mut w, shadow);
        let m = w.level_moves();
        assert!(m.far_jumps >= 2 && m.coarse_jumps > m.far_jumps, "{m:?}");
    }

    /// A reserved-sequence push overtakes events at its time pushed before
    /// it, whichever level they are in, and is found by `peek_time`.
    #[test]
    fn a_reserved_push_overtakes_later_numbers_at_its_time() {
        let mut w = Tiny::with_capacity(0);
        let early = w.reserve_seq();
        for t in [3, 30, 300] {
            w.push(SimTime(t), t as u32);
        }
        let late = w.reserve_seq();
        w.push_reserved(SimTime(300), late, 1);
        w.push_reserved(SimTime(30), early, 0);
        let order: Vec<u32> = std::iter::from_fn(|| w.pop().map(|(_, v)| v)).collect();
        assert_eq!(order, vec![3, 0, 30, 300, 1]);
        let id = w.push_reserved(SimTime(400), w.slab.next_seq() - 1, 7);
        assert_eq!(w.peek_time(), Some(SimTime(400)));
        assert_eq!(w.cancel(id), Some(7));
        assert_eq!((w.peek_time(), w.pop()), (None, None));
    }

    /// A coarse bucket moving down sizes each near bucket it fills once,
    /// for exactly what it brings (not by doubling from empty).
    #[test]
    fn moving_a_coarse_bucket_sizes_its_near_buckets_once() {
        // 1 ms near buckets, 256 of them; 128 ms coarse ones.
        let mut w = BucketWheel::<u32, 0, 8, 2>::with_capacity(0);
        w.push(SimTime(200), 0);
        w.push(SimTime(250), 0);
        for i in 0..100 {
            w.push(SimTime(300), i);
        }
        for i in 0..5 {
            w.push(SimTime(301), i);
        }
        w.push(SimTime(350), 0);
        assert_eq!(
            w.moves.coarse_to_near, 0,
            "300 and on wait in a coarse bucket"
        );
        assert_eq!(w.pop().map(|(t, _)| t), Some(SimTime(200)));
        assert_eq!(w.peek_time(), Some(SimTime(250)));
        assert_eq!(w.moves.coarse_to_near, 1);
        let capacity = |t: usize| w.near[t & 255].capacity();
        assert_eq!((capacity(300), capacity(301)), (100, 5));
        assert!(capacity(350) <= 4, "one entry: the smallest allocation");
        assert!(
            w.fill.iter().all(|&n| n == 0),
            "the counts are left at zero"
        );
        let times: Vec<u64> = std::iter::from_fn(|| w.pop())
            .map(|(t, _)| t.as_ms())
            .collect();
        assert_eq!(times.len(), 107);
        assert!(times.is_sorted());
    }

    /// A near bucket keeps a small vector, and holds a large one only while
    /// it holds events: emptied large vectors are reused, not kept by every
    /// bucket or reallocated.
    #[test]
    fn emptied_buckets_hand_their_memory_on() {
        let mut w = BucketWheel::<u32, 0, 8, 2>::with_capacity(0);
        for round in 0..20u64 {
            for i in 0..600 {
                w.push(SimTime(round * 100 + 1 + i % 3), i as u32);
            }
            w.push(SimTime(round * 100 + 50), 0);
            while w.pop().is_some() {}
        }
        let holding: Vec<usize> = w
            .near
            .iter()
            .map(Vec::capacity)
            .filter(|&c| c > 0)
            .collect();
        assert_eq!(holding.len(), 20, "only the small buckets keep a vector");
        assert!(holding.iter().all(|&c| c <= 64), "{holding:?}");
        assert_eq!(w.spare.len(), 3, "the three large vectors went round");
    }
}
