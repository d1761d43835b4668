//! The active downloads while a DP's bandwidth binds and every link beats an
//! equal share: [`EqualTree`].
//!
//! Every flow then gets `q = capacity / n` bps, and the last `r = capacity
//! mod n` flows in the order get one more: which flows those are moves with
//! every start and end. A flow's *label* is its place in the order: labels
//! are handed out as flows start, a flow that finishes leaves its label
//! unused, and a cancelled flow's label goes to the last flow (as a
//! swap-remove would). Flow `i` is leaf `i` of a segment tree laid out as
//! an array (node `v`'s children are `2v` and `2v + 1`). Every node knows
//! how many flows it holds and the least millibits any of them still
//! lacks, and sending to a whole stretch of the order is one tag on the
//! nodes that cover it (a lazy tag). Sending, the next completion, a
//! start, an end or a cancel walk a path or two from the root: O(log n)
//! (plus the flows that finish), with exactly the millibits sending to one
//! flow at a time would give.
//!
//! The leaves fill from the left, and finished flows leave gaps. When the
//! last leaf is taken, the flows are packed to the left of a tree with
//! leaves for at least half as many again (amortised O(1) a start). Every
//! walk reads the top of the tree, which stays in the caches, and a
//! start's leaf is next to the one before.

use std::collections::HashMap;

use crate::estate::ClientId;

/// The least of a node without flows.
const NONE: u64 = u64::MAX;

/// A node of the tree: what its flows have in common.
#[derive(Clone, Copy)]
struct Node {
    /// The least millibits a flow below still lacks (`NONE` if none).
    least: u64,
    /// Millibits every flow below has sent and its children not yet been
    /// told (always zero on a leaf).
    tag: u64,
    /// Flows below.
    count: u32,
}

const EMPTY: Node = Node {
    least: NONE,
    tag: 0,
    count: 0,
};

/// The flows in their order, with lazy sending (see the module).
#[derive(Default)]
pub(super) struct EqualTree {
    /// Nodes `1..2 * width`; leaf `i` (label `i`) is node `width + i`.
    nodes: Vec<Node>,
    /// By label: the flow's client and link, bps.
    clients: Vec<ClientId>,
    caps: Vec<u64>,
    /// Leaves, a power of two (0 before the first flow).
    width: usize,
    /// The next label: every flow's label is below it.
    next: usize,
    /// Each flow's label (looked up, never iterated).
    labels: HashMap<ClientId, u32>,
    /// The rates of the last share: the first `first` flows at `low` bps,
    /// the others at `high`.
    low: u64,
    high: u64,
    first: usize,
    /// The label of the first flow at `high` (`width` if none), while no
    /// flow has come or gone since the share.
    boundary: Option<usize>,
    /// The least left at the last share and the labels it is among.
    soonest: Option<(u64, (usize, usize))>,
}

impl EqualTree {
    pub(super) fn len(&self) -> usize {
        self.nodes.get(1).map_or(0, |n| n.count as usize)
    }

    /// Tells every flow below `v` that it sent `x` more millibits.
    fn apply(&mut self, v: usize, x: u64) {
        let node = &mut self.nodes[v];
        if node.count > 0 && x > 0 {
            node.least -= x;
            if v < self.width {
                node.tag += x;
            }
        }
    }

    fn push_down(&mut self, v: usize) {
        let tag = std::mem::take(&mut self.nodes[v].tag);
        if tag > 0 {
            self.apply(2 * v, tag);
            self.apply(2 * v + 1, tag);
        }
    }

    fn pull_up(&mut self, v: usize) {
        let (a, b) = (self.nodes[2 * v], self.nodes[2 * v + 1]);
        let node = &mut self.nodes[v];
        node.least = a.least.min(b.least);
        node.count = a.count + b.count;
    }

    /// Brings every tag above leaf `i` down to it.
    fn open_path(&mut self, i: usize) {
        let leaf = self.width + i;
        for shift in (1..=self.width.trailing_zeros()).rev() {
            self.push_down(leaf >> shift);
        }
    }

    /// Puts `node` at leaf `i` (its path opened), and mends the path.
    fn set_leaf(&mut self, i: usize, node: Node) {
        self.boundary = None;
        let mut v = self.width + i;
        self.nodes[v] = node;
        while v > 1 {
            v /= 2;
            self.pull_up(v);
        }
    }

    /// The label of the flow `k`-th in the order (`k < len`).
    fn kth(&self, mut k: u32) -> usize {
        let mut v = 1;
        while v < self.width {
            let left = self.nodes[2 * v].count;
            if k < left {
                v *= 2;
            } else {
                k -= left;
                v = 2 * v + 1;
            }
        }
        v - self.width
    }

    /// The least left among the first `k` flows and among the others
    /// (`NONE` for none), and the label of the `k`-th (`width` if none).
    fn least_around(&mut self, mut k: u32) -> (u64, u64, usize) {
        if k as usize >= self.len() {
            return (self.nodes[1].least, NONE, self.width);
        }
        let (mut head, mut tail, mut v) = (NONE, NONE, 1);
        while v < self.width {
            self.push_down(v);
            let left = self.nodes[2 * v];
            if k < left.count {
                tail = tail.min(self.nodes[2 * v + 1].least);
                v *= 2;
            } else {
                head = head.min(left.least);
                k -= left.count;
                v = 2 * v + 1;
            }
        }
        (head, tail.min(self.nodes[v].least), v - self.width)
    }

    /// Sends `x` millibits to every flow labelled `from..to`.
    fn add(&mut self, v: usize, span: (usize, usize), range: (usize, usize), x: u64) {
        let ((lo, hi), (from, to)) = (span, range);
        if to <= lo || hi <= from || self.nodes[v].count == 0 {
            return;
        }
        if from <= lo && hi <= to {
            self.apply(v, x);
            return;
        }
        self.push_down(v);
        let mid = (lo + hi) / 2;
        self.add(2 * v, (lo, mid), range, x);
        self.add(2 * v + 1, (mid, hi), range, x);
        self.pull_up(v);
    }

    /// Among the flows labelled `from..to`, pins those with at most `x`
    /// millibits left so that they have none after sending `x` (they
    /// finish now), adding what they could not send to `short`.
    fn exhaust(
        &mut self,
        v: usize,
        span: (usize, usize),
        range: (usize, usize),
        x: u64,
        short: &mut u128,
    ) {
        let ((lo, hi), (from, to)) = (span, range);
        let node = self.nodes[v];
        if to <= lo || hi <= from || node.count == 0 || node.least > x {
            return;
        }
        if v >= self.width {
            *short += u128::from(x - self.nodes[v].least);
            self.nodes[v].least = x;
            return;
        }
        self.push_down(v);
        let mid = (lo + hi) / 2;
        self.exhaust(2 * v, (lo, mid), range, x, short);
        self.exhaust(2 * v + 1, (mid, hi), range, x, short);
        self.pull_up(v);
    }

    /// The first flow labelled `from..to` with `least` left, `pending`
    /// being what `v`'s ancestors have not told it yet.
    fn first_with(
        &self,
        v: usize,
        span: (usize, usize),
        range: (usize, usize),
        least: u64,
        pending: u64,
    ) -> Option<usize> {
        let ((lo, hi), (from, to)) = (span, range);
        let node = self.nodes[v];
        if to <= lo || hi <= from || node.count == 0 || node.least - pending > least {
            return None;
        }
        if v >= self.width {
            return Some(v - self.width);
        }
        let (mid, pending) = ((lo + hi) / 2, pending + node.tag);
        (self.first_with(2 * v, (lo, mid), range, least, pending))
            .or_else(|| self.first_with(2 * v + 1, (mid, hi), range, least, pending))
    }

    /// Every flow in order, with what it still lacks, and its link.
    fn flows(&mut self) -> Vec<(ClientId, u64, u64)> {
        for v in 1..self.width {
            self.push_down(v);
        }
        (0..self.next)
            .filter(|&i| self.nodes[self.width + i].count > 0)
            .map(|i| {
                (
                    self.clients[i],
                    self.nodes[self.width + i].least,
                    self.caps[i],
                )
            })
            .collect()
    }

    /// Lays `flows` out at labels `0..` of a tree with room for at least
    /// half as many again.
    fn rebuild(&mut self, flows: &[(ClientId, u64, u64)]) {
        let width = (flows.len() + flows.len() / 2 + 2)
            .next_power_of_two()
            .max(4);
        self.width = width;
        self.nodes = vec![EMPTY; 2 * width];
        self.clients = vec![ClientId(0); width];
        self.caps = vec![0; width];
        self.labels.clear();
        self.boundary = None;
        for (i, &(client, left, cap)) in flows.iter().enumerate() {
            self.nodes[width + i] = Node {
                least: left,
                tag: 0,
                count: 1,
            };
            self.clients[i] = client;
            self.caps[i] = cap;
            self.labels.insert(client, i as u32);
        }
        for v in (1..width).rev() {
            self.pull_up(v);
        }
        self.next = flows.len();
    }

    /// Adds a flow last in the order.
    pub(super) fn push(&mut self, client: ClientId, left: u64, cap: u64) {
        if self.next == self.width {
            let flows = self.flows();
            self.rebuild(&flows);
        }
        let i = self.next;
        self.next += 1;
        self.open_path(i);
        let node = Node {
            least: left,
            tag: 0,
            count: 1,
        };
        self.set_leaf(i, node);
        self.clients[i] = client;
        self.caps[i] = cap;
        self.labels.insert(client, i as u32);
    }

    /// Takes client `c`'s flow off, the last flow taking its place in the
    /// order; returns the millibits it still lacked, and its link.
    pub(super) fn cancel(&mut self, c: ClientId) -> Option<(u64, u64)> {
        let i = self.labels.remove(&c)? as usize;
        self.open_path(i);
        let taken = (self.nodes[self.width + i].least, self.caps[i]);
        let last = self.kth(self.nodes[1].count - 1);
        if last == i {
            self.set_leaf(i, EMPTY);
        } else {
            self.open_path(last);
            let moved = self.nodes[self.width + last];
            self.set_leaf(last, EMPTY);
            self.set_leaf(i, moved);
            (self.clients[i], self.caps[i]) = (self.clients[last], self.caps[last]);
            self.labels.insert(self.clients[i], i as u32);
        }
        Some(taken)
    }

    /// Sends `dt` ms at the last share's rates; returns the millibits sent.
    pub(super) fn send(&mut self, dt: u64) -> u128 {
        let n = self.len();
        if n == 0 {
            return 0;
        }
        let first = self.first.min(n);
        let boundary = match self.boundary {
            Some(label) => label,
            None if first < n => self.kth(first as u32),
            None => self.width,
        };
        let span = (0, self.width);
        let (low, high) = (self.low.saturating_mul(dt), self.high.saturating_mul(dt));
        let mut short = 0u128;
        self.exhaust(1, span, (0, boundary), low, &mut short);
        self.exhaust(1, span, (boundary, self.width), high, &mut short);
        // Every flow sends `low`, the flows from the boundary on the rest.
        self.apply(1, low);
        self.add(1, span, (boundary, self.width), high - low);
        u128::from(low) * first as u128 + u128::from(high) * (n - first) as u128 - short
    }

    /// Equal shares of `capacity` (at least 1 bps), the last `capacity mod
    /// n` flows one bps more; returns when the next flow finishes, in ms,
    /// and whose.
    pub(super) fn share(&mut self, capacity: u64) -> Option<u64> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let (q, r) = (capacity / n as u64, (capacity % n as u64) as usize);
        self.first = n - r;
        (self.low, self.high) = (q.max(1), q + 1);
        let (head, tail, boundary) = self.least_around(self.first as u32);
        self.boundary = Some(boundary);
        let (ends, least, range) = [
            (head != NONE).then(|| (head.div_ceil(self.low), head, (0, boundary))),
            (tail != NONE).then(|| (tail.div_ceil(self.high), tail, (boundary, self.width))),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|&(ends, ..)| ends)?;
        self.soonest = Some((least, range));
        Some(ends)
    }

    /// A client whose flow the last share found finishing first, for a
    /// hint (the tags on the way down are counted, not pushed).
    pub(super) fn soonest_client(&self) -> Option<ClientId> {
        let (least, range) = self.soonest?;
        let label = self.first_with(1, (0, self.width), range, least, 0)?;
        Some(self.clients[label])
    }

    /// Takes off the flows with nothing left (their clients and links into
    /// `done`, in order).
    pub(super) fn take_finished(&mut self, done: &mut Vec<(ClientId, u64)>) {
        if self.len() > 0 {
            self.take_empty(1, done);
        }
    }

    fn take_empty(&mut self, v: usize, done: &mut Vec<(ClientId, u64)>) {
        if self.nodes[v].least > 0 {
            return;
        }
        if v >= self.width {
            let i = v - self.width;
            self.labels.remove(&self.clients[i]);
            done.push((self.clients[i], self.caps[i]));
            self.nodes[v] = EMPTY;
            self.boundary = None;
            return;
        }
        self.push_down(v);
        self.take_empty(2 * v, done);
        self.take_empty(2 * v + 1, done);
        self.pull_up(v);
    }

    /// Every flow in order, with what it still lacks, and its link; the
    /// tree is left empty.
    pub(super) fn drain(&mut self) -> Vec<(ClientId, u64, u64)> {
        let out = self.flows();
        *self = EqualTree::default();
        out
    }

    /// Every flow in order: (client, left, link, rate), for tests.
    #[cfg(test)]
    pub(super) fn snapshot(&mut self) -> Vec<(ClientId, u64, u64, u64)> {
        let first = self.first;
        let (low, high) = (self.low, self.high);
        (self.flows().into_iter().enumerate())
            .map(|(i, (c, left, cap))| (c, left, cap, if i < first { low } else { high }))
            .collect()
    }
}
