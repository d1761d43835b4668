//! The structures the agenda's queue was measured against, and a check that
//! each of them meets the same contract.
//!
//! Owns [`LazyBinaryHeap`] and [`PriorityQueueAgenda`]. Neither is part of
//! the engine: the engine exports only its queue ([`BucketWheel`]) and the
//! [`AgendaQueue`] contract, and these live here so that `benches/queue.rs`
//! can compare them with it. [`check_against_wheel`] runs before every
//! benchmark, so that no figure is ever taken of a structure that orders
//! events differently.

mod lazy_heap;
mod priority_queue;

pub use lazy_heap::LazyBinaryHeap;
pub use priority_queue::PriorityQueueAgenda;

use patchsim::engine::agenda_bench::{AgendaQueue, BucketWheel};
use patchsim::engine::{SimTime, TimerId};

/// SplitMix64, for the check's operations.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Runs `ops` seeded operations on `Q` and on the engine's wheel side by
/// side, and panics at the first answer that differs: pushes (some for
/// good, some before the last popped time, some with a reserved sequence
/// number), pops with their keys, peeks, cancels and reschedules of live
/// and stale ids, and lengths. The wheel is held to a naive `BTreeMap` model
/// by the engine's own tests; here it is the model.
pub fn check_against_wheel<Q: AgendaQueue<u32>>(name: &str, seed: u64, ops: u32) {
    let mut rng = Mix(seed);
    let mut q = Q::with_capacity(16);
    let mut w = BucketWheel::<u32>::with_capacity(16);
    // Ids in both structures, some since popped or cancelled.
    let mut ids: Vec<(Q::Id, TimerId)> = Vec::new();
    let mut reserved: Vec<u64> = Vec::new();
    let mut now = 0u64;
    // The time of the last push, for reserved pushes that overtake it.
    let mut last_push = SimTime(0);
    for i in 0..ops {
        let offset = match rng.below(20) {
            0..=1 => 0,
            2..=7 => rng.below(50),
            8..=13 => rng.below(20_000),
            14..=17 => rng.below(10_000_000),
            _ => rng.below(1 << 40),
        };
        let at = if rng.below(200) == 0 {
            SimTime(now.saturating_sub(rng.below(5_000)))
        } else {
            SimTime(now + offset)
        };
        match rng.below(100) {
            0..=14 => {
                q.push_fixed(at, i);
                w.push_fixed(at, i);
                last_push = at;
            }
            15..=44 => {
                ids.push((q.push(at, i), w.push(at, i)));
                last_push = at;
            }
            45..=69 => {
                let got = q.pop_keyed();
                assert_eq!(got, w.pop_keyed(), "{name}: pop at op {i}");
                if let Some((key, _)) = got {
                    now = key.time.0;
                }
            }
            70..=79 if !ids.is_empty() => {
                let (a, b) = ids.swap_remove(rng.below(ids.len() as u64) as usize);
                assert_eq!(q.cancel(a), w.cancel(b), "{name}: cancel at op {i}");
            }
            80..=89 if !ids.is_empty() => {
                let k = rng.below(ids.len() as u64) as usize;
                let (a, b) = ids[k];
                match (q.reschedule(a, at), w.reschedule(b, at)) {
                    (Some(a), Some(b)) => ids[k] = (a, b),
                    (None, None) => {
                        ids.swap_remove(k);
                    }
                    other => panic!("{name}: reschedule at op {i}: {other:?}"),
                }
            }
            90..=94 => {
                let seq = q.reserve_seq();
                assert_eq!(seq, w.reserve_seq(), "{name}: reserve at op {i}");
                reserved.push(seq);
            }
            95..=97 if !reserved.is_empty() => {
                let seq = reserved.swap_remove(rng.below(reserved.len() as u64) as usize);
                let at = if rng.below(2) == 0 { last_push } else { at };
                ids.push((q.push_reserved(at, seq, i), w.push_reserved(at, seq, i)));
            }
            _ => {}
        }
        assert_eq!(q.peek_time(), w.peek_time(), "{name}: peek after op {i}");
        assert_eq!(q.len(), w.len(), "{name}: len after op {i}");
    }
    while let Some(got) = q.pop_keyed() {
        assert_eq!(Some(got), w.pop_keyed(), "{name}: drain");
    }
    assert!(w.is_empty(), "{name}: drain");
}
