//! Every client's queue of state messages waiting for its next reporting
//! cycle.
//!
//! Owns [`Outboxes`]. A client's queue lives in a two-line record of its
//! own in one arena, seven messages in place: a scan queues one detection
//! message per changed update and a completion, an enforcement a few more,
//! and the reporting cycle sends them all every 15 minutes, so a queue
//! seldom holds more. Longer queues spill, whole, to a vector of their own.
//! A queue that was a vector per client took a heap allocation per client
//! (and reallocations as it grew), and at a million clients reaching it was
//! a miss in the processor's address cache as well as in its data cache:
//! the heap has small pages, the arena huge ones.

use std::collections::BTreeMap;

use crate::estate::ClientId;
use crate::model::compliance::StateMsg;

/// Messages a client's record holds in place.
const IN_PLACE: usize = 7;

/// The length of a queue that spilled.
const SPILLED: u32 = u32::MAX;

/// One client's queue: its length first, so that a short queue is one
/// cache line.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
struct Outbox {
    /// Messages in place, or [`SPILLED`].
    len: u32,
    msgs: [StateMsg; IN_PLACE],
}

const EMPTY: Outbox = Outbox {
    len: 0,
    msgs: [StateMsg {
        topic: 0,
        state: 0,
        subject: 0,
        queued_at: crate::engine::SimTime::ZERO,
    }; IN_PLACE],
};

/// The clients' queues of state messages, oldest message first.
pub(crate) struct Outboxes {
    boxes: Vec<Outbox>,
    /// The queues longer than a record holds, by client index (ordered, so
    /// nothing depends on hashing).
    spilled: BTreeMap<u32, Vec<StateMsg>>,
}

impl Outboxes {
    /// `clients` empty queues, in huge pages where the system allows.
    pub(crate) fn new(clients: usize) -> Self {
        Outboxes {
            boxes: crate::engine::arena(clients, EMPTY),
            spilled: BTreeMap::new(),
        }
    }

    /// Client `c`'s messages, oldest first.
    #[inline]
    pub(crate) fn get(&self, c: ClientId) -> &[StateMsg] {
        let b = &self.boxes[c.index()];
        if b.len == SPILLED {
            &self.spilled[&c.0]
        } else {
            &b.msgs[..b.len as usize]
        }
    }

    /// Whether client `c` has nothing queued.
    #[inline]
    pub(crate) fn is_empty(&self, c: ClientId) -> bool {
        self.boxes[c.index()].len == 0
    }

    /// Messages queued over all clients.
    pub(crate) fn total(&self) -> u64 {
        (0..self.boxes.len())
            .map(|i| self.get(ClientId(i as u32)).len() as u64)
            .sum()
    }

    /// Starts loading the line of client `c`'s queue that a short queue
    /// lives in (a prefetch hint).
    #[inline]
    pub(super) fn hint(&self, c: ClientId) {
        if let Some(b) = self.boxes.get(c.index()) {
            crate::engine::prefetch_prefix(b, 64);
        }
    }

    /// Queues `msg` last.
    #[inline]
    pub(crate) fn push(&mut self, c: ClientId, msg: StateMsg) {
        let b = &mut self.boxes[c.index()];
        let len = b.len as usize;
        if len < IN_PLACE {
            b.msgs[len] = msg;
            b.len += 1;
        } else if b.len == SPILLED {
            self.spilled
                .get_mut(&c.0)
                .expect("a spilled queue")
                .push(msg);
        } else {
            let mut v = Vec::with_capacity(2 * IN_PLACE);
            v.extend_from_slice(&b.msgs);
            v.push(msg);
            b.len = SPILLED;
            self.spilled.insert(c.0, v);
        }
    }

    /// Moves client `c`'s first `n` messages to the end of `out`.
    pub(crate) fn take_front(&mut self, c: ClientId, n: usize, out: &mut impl Extend<StateMsg>) {
        let b = &mut self.boxes[c.index()];
        if b.len == SPILLED {
            let v = self.spilled.get_mut(&c.0).expect("a spilled queue");
            out.extend(v.drain(..n));
            if v.len() <= IN_PLACE {
                b.msgs[..v.len()].copy_from_slice(v);
                b.len = v.len() as u32;
                self.spilled.remove(&c.0);
            } else if v.capacity() > 4 * v.len() {
                // A scan's thousands of messages gone, a few left: the
                // room they took is not kept while the rest wait.
                v.shrink_to(2 * v.len());
            }
        } else {
            let len = b.len as usize;
            assert!(n <= len, "taking {n} of {len} messages");
            out.extend(b.msgs[..n].iter().copied());
            b.msgs.copy_within(n..len, 0);
            b.len = (len - n) as u32;
        }
    }

    /// Puts `msgs` back, in their order, before client `c`'s queue.
    pub(crate) fn put_back(&mut self, c: ClientId, msgs: &[StateMsg]) {
        let b = &mut self.boxes[c.index()];
        let n = msgs.len();
        if b.len != SPILLED && b.len as usize + n <= IN_PLACE {
            let len = b.len as usize;
            b.msgs.copy_within(..len, n);
            b.msgs[..n].copy_from_slice(msgs);
            b.len += n as u32;
        } else if n > 0 {
            let mut v = Vec::with_capacity((2 * IN_PLACE).max(n + IN_PLACE));
            v.extend_from_slice(msgs);
            match self.spilled.remove(&c.0) {
                Some(old) => v.extend(old),
                None => v.extend_from_slice(&b.msgs[..b.len as usize]),
            }
            b.len = SPILLED;
            self.spilled.insert(c.0, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::SimTime;

    fn msg(i: u64) -> StateMsg {
        StateMsg {
            topic: 500,
            state: (i % 7) as u8,
            subject: i as u16,
            queued_at: SimTime(i),
        }
    }

    /// Every operation agrees with a plain vector per client, across the
    /// spill and back, for queues of every length up to three records.
    #[test]
    fn agrees_with_a_vector_per_client() {
        let mut boxes = Outboxes::new(3);
        let mut shadow: Vec<Vec<StateMsg>> = vec![Vec::new(); 3];
        let mut next = 0;
        let (mut longest, mut returned, mut spilled) = (0, 0, 0);
        // A deterministic mix of pushes, takes of every size and put-backs,
        // in phases that let the queues grow long and then drain.
        for step in 0u64..4_000 {
            let c = (step * 7 % 3) as usize;
            let id = ClientId(c as u32);
            let growing = (step / 400) % 2 == 0;
            let op = match step * 2_654_435_761 % 10 {
                r if growing => r / 8 * 6,
                r => r,
            };
            match op {
                0..=2 => {
                    next += 1;
                    boxes.push(id, msg(next));
                    shadow[c].push(msg(next));
                }
                3..=8 => {
                    let mut n = (step as usize * 31) % (shadow[c].len() + 1);
                    if growing {
                        n = n.min(2);
                    }
                    let mut out = Vec::new();
                    boxes.take_front(id, n, &mut out);
                    let want: Vec<_> = shadow[c].drain(..n).collect();
                    assert_eq!(out, want);
                    if step % 3 == 0 {
                        // The batch failed: its messages go back first.
                        boxes.put_back(id, &out);
                        shadow[c].splice(0..0, want);
                    }
                }
                _ => {
                    let mut out = Vec::new();
                    let n = shadow[c].len();
                    boxes.take_front(id, n, &mut out);
                    shadow[c].clear();
                }
            }
            for (k, s) in shadow.iter().enumerate() {
                let id = ClientId(k as u32);
                assert_eq!(boxes.get(id), &s[..], "step {step}, client {k}");
                assert_eq!(boxes.is_empty(id), s.is_empty());
            }
            assert_eq!(
                boxes.total(),
                shadow.iter().map(|s| s.len() as u64).sum::<u64>()
            );
            longest = longest.max(shadow.iter().map(Vec::len).max().unwrap_or(0));
            if spilled > boxes.spilled.len() {
                returned += 1;
            }
            spilled = boxes.spilled.len();
        }
        assert!(longest > 2 * IN_PLACE, "queues spilled (longest {longest})");
        assert!(returned > 10, "and came back in place ({returned} times)");
    }

    /// A queue spills past seven messages and comes back in place once it
    /// is short again.
    #[test]
    fn spills_and_returns() {
        let mut boxes = Outboxes::new(1);
        let c = ClientId(0);
        for i in 0..10 {
            boxes.push(c, msg(i));
        }
        assert_eq!(boxes.spilled.len(), 1);
        assert_eq!(boxes.get(c).len(), 10);
        let mut out = Vec::new();
        boxes.take_front(c, 2, &mut out);
        assert_eq!(boxes.spilled.len(), 1, "eight do not fit");
        boxes.take_front(c, 1, &mut out);
        assert!(boxes.spilled.is_empty(), "seven fit again");
        assert_eq!(boxes.get(c), &(3..10).map(msg).collect::<Vec<_>>()[..]);
        boxes.put_back(c, &out);
        assert_eq!(boxes.get(c), &(0..10).map(msg).collect::<Vec<_>>()[..]);
        assert_eq!(std::mem::size_of::<Outbox>(), 128, "two lines");
    }
}
