//! The active downloads while a DP's bandwidth binds and every link beats an
//! equal share: [`EqualTree`].
//!
//! Every flow then gets `q = capacity / n` bps, and the last `r = capacity
//! mod n` flows in the order get one more: which flows those are moves with
//! every start and end. The flows are kept in a treap in their order, each
//! with what it has sent since it was last pinned down, added to a whole
//! stretch of the order at once (a lazy tag): sending to every flow, the
//! next completion and a start, an end or a cancel cost O(log n) (plus the
//! flows that finish), with exactly the millibits the arrays would give.

use crate::estate::ClientId;

const NIL: u32 = u32::MAX;

/// One flow.
#[derive(Clone, Copy, Debug)]
struct Node {
    /// Its place in the order (see `Linked`'s labels).
    label: u64,
    client: ClientId,
    cap: u64,
    /// Millibits left when `sent` was zero: left now is `total - sent`.
    total: u64,
    sent: u64,
    prio: u64,
    left: u32,
    right: u32,
    size: u32,
    /// The least millibits left in its subtree.
    min_left: u64,
    /// Millibits every flow below it has sent and not yet been told.
    tag: u64,
}

/// The flows in their order, with lazy sending (see the module).
#[derive(Default)]
pub(super) struct EqualTree {
    nodes: Vec<Node>,
    free: Vec<u32>,
    root: Option<u32>,
    next_label: u64,
    by_client: std::collections::BTreeMap<ClientId, u64>,
    /// The rates of the last share: the first `first` flows at `low` bps,
    /// the others at `high`.
    pub(super) low: u64,
    pub(super) high: u64,
    pub(super) first: usize,
}

/// A priority from a label: the treap's shape only (never a result).
fn priority(label: u64) -> u64 {
    let mut x = label.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl EqualTree {
    pub(super) fn len(&self) -> usize {
        self.size(self.root.unwrap_or(NIL)) as usize
    }

    fn size(&self, t: u32) -> u32 {
        if t == NIL {
            0
        } else {
            self.nodes[t as usize].size
        }
    }

    fn min_left(&self, t: u32) -> u64 {
        if t == NIL {
            u64::MAX
        } else {
            self.nodes[t as usize].min_left
        }
    }

    /// Tells every flow of `t`'s subtree that it sent `x` more millibits.
    fn add(&mut self, t: u32, x: u64) {
        if t != NIL && x > 0 {
            let n = &mut self.nodes[t as usize];
            n.sent += x;
            n.tag += x;
            n.min_left -= x;
        }
    }

    fn push_down(&mut self, t: u32) {
        let n = self.nodes[t as usize];
        if n.tag > 0 {
            self.add(n.left, n.tag);
            self.add(n.right, n.tag);
            self.nodes[t as usize].tag = 0;
        }
    }

    fn pull_up(&mut self, t: u32) {
        let n = self.nodes[t as usize];
        let own = n.total - n.sent;
        let size = 1 + self.size(n.left) + self.size(n.right);
        let min_left = own.min(self.min_left(n.left)).min(self.min_left(n.right));
        let n = &mut self.nodes[t as usize];
        n.size = size;
        n.min_left = min_left;
    }

    /// Splits `t` into its first `k` flows and the rest.
    fn split_at(&mut self, t: u32, k: u32) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        self.push_down(t);
        let left = self.nodes[t as usize].left;
        if self.size(left) >= k {
            let (a, b) = self.split_at(left, k);
            self.nodes[t as usize].left = b;
            self.pull_up(t);
            (a, t)
        } else {
            let right = self.nodes[t as usize].right;
            let (a, b) = self.split_at(right, k - self.size(left) - 1);
            self.nodes[t as usize].right = a;
            self.pull_up(t);
            (t, b)
        }
    }

    /// Splits `t` into the flows with labels below `label` and the rest.
    fn split_label(&mut self, t: u32, label: u64) -> (u32, u32) {
        if t == NIL {
            return (NIL, NIL);
        }
        self.push_down(t);
        if self.nodes[t as usize].label >= label {
            let left = self.nodes[t as usize].left;
            let (a, b) = self.split_label(left, label);
            self.nodes[t as usize].left = b;
            self.pull_up(t);
            (a, t)
        } else {
            let right = self.nodes[t as usize].right;
            let (a, b) = self.split_label(right, label);
            self.nodes[t as usize].right = a;
            self.pull_up(t);
            (t, b)
        }
    }

    fn merge(&mut self, a: u32, b: u32) -> u32 {
        if a == NIL {
            return b;
        }
        if b == NIL {
            return a;
        }
        if self.nodes[a as usize].prio >= self.nodes[b as usize].prio {
            self.push_down(a);
            let right = self.nodes[a as usize].right;
            let m = self.merge(right, b);
            self.nodes[a as usize].right = m;
            self.pull_up(a);
            a
        } else {
            self.push_down(b);
            let left = self.nodes[b as usize].left;
            let m = self.merge(a, left);
            self.nodes[b as usize].left = m;
            self.pull_up(b);
            b
        }
    }

    fn root(&self) -> u32 {
        self.root.unwrap_or(NIL)
    }

    fn set_root(&mut self, t: u32) {
        self.root = (t != NIL).then_some(t);
    }

    fn new_node(&mut self, label: u64, client: ClientId, cap: u64, left: u64) -> u32 {
        let node = Node {
            label,
            client,
            cap,
            total: left,
            sent: 0,
            prio: priority(label),
            left: NIL,
            right: NIL,
            size: 1,
            min_left: left,
            tag: 0,
        };
        match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        }
    }

    /// Adds a flow last in the order.
    pub(super) fn push(&mut self, client: ClientId, left: u64, cap: u64) {
        let label = self.next_label;
        self.next_label += 1;
        self.by_client.insert(client, label);
        let t = self.new_node(label, client, cap, left);
        let root = self.merge(self.root(), t);
        self.set_root(root);
    }

    /// Takes the flow labelled `label` out of the tree; returns its node.
    fn take(&mut self, label: u64) -> Node {
        let (a, b) = self.split_label(self.root(), label);
        let (mid, c) = self.split_at(b, 1);
        debug_assert_eq!(self.nodes[mid as usize].label, label);
        let root = self.merge(a, c);
        self.set_root(root);
        self.free.push(mid);
        self.nodes[mid as usize]
    }

    /// Puts `node` back under its label (its sending as it was).
    fn put(&mut self, mut node: Node) {
        node.left = NIL;
        node.right = NIL;
        node.size = 1;
        node.tag = 0;
        node.min_left = node.total - node.sent;
        node.prio = priority(node.label);
        let t = match self.free.pop() {
            Some(i) => {
                self.nodes[i as usize] = node;
                i
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        let (a, b) = self.split_label(self.root(), node.label);
        let left = self.merge(a, t);
        let root = self.merge(left, b);
        self.set_root(root);
    }

    /// Takes client `c`'s flow off, the last flow taking its place in the
    /// order; returns the millibits it still lacked, and its link.
    pub(super) fn cancel(&mut self, c: ClientId) -> Option<(u64, u64)> {
        let label = self.by_client.remove(&c)?;
        let node = self.take(label);
        let n = self.len() as u32;
        if n > 0 {
            let (a, last) = self.split_at(self.root(), n - 1);
            let root = self.merge(a, last);
            self.set_root(root);
            let last_label = self.nodes[last as usize].label;
            if last_label > label {
                let mut moved = self.take(last_label);
                moved.label = label;
                self.by_client.insert(moved.client, label);
                self.put(moved);
            }
        }
        Some((node.total - node.sent, node.cap))
    }

    /// In `t`, pins the flows with at most `x` millibits left so that they
    /// have none after sending `x` (they finish now), adding what they
    /// could not send to `short`.
    fn exhaust(&mut self, t: u32, x: u64, short: &mut u128) {
        if t == NIL || self.nodes[t as usize].min_left > x {
            return;
        }
        self.push_down(t);
        let Node { left, right, .. } = self.nodes[t as usize];
        self.exhaust(left, x, short);
        self.exhaust(right, x, short);
        let n = &mut self.nodes[t as usize];
        let own = n.total - n.sent;
        if own <= x {
            *short += u128::from(x - own);
            n.total = n.sent + x;
        }
        self.pull_up(t);
    }

    /// Sends `dt` ms at the last share's rates; returns the millibits sent.
    pub(super) fn send(&mut self, dt: u64) -> u128 {
        let n = self.len();
        let first = self.first.min(n) as u32;
        let (head, tail) = self.split_at(self.root(), first);
        let mut total = 0u128;
        for (part, rate) in [(head, self.low), (tail, self.high)] {
            let step = rate.saturating_mul(dt);
            let mut short = 0u128;
            self.exhaust(part, step, &mut short);
            total += u128::from(step) * u128::from(self.size(part)) - short;
            self.add(part, step);
        }
        let root = self.merge(head, tail);
        self.set_root(root);
        total
    }

    /// Equal shares of `capacity` (at least 1 bps), the last `capacity mod
    /// n` flows one bps more; returns when the next flow finishes, in ms,
    /// and whose.
    pub(super) fn share(&mut self, capacity: u64) -> Option<(u64, ClientId)> {
        let n = self.len();
        if n == 0 {
            return None;
        }
        let (q, r) = (capacity / n as u64, (capacity % n as u64) as usize);
        self.first = n - r;
        (self.low, self.high) = (q.max(1), q + 1);
        let (head, tail) = self.split_at(self.root(), self.first as u32);
        let soonest = |tree: &Self, part: u32, rate: u64| {
            (part != NIL).then(|| (tree.min_left(part).div_ceil(rate), tree.client_of_min(part)))
        };
        let next = [
            soonest(self, head, self.low),
            soonest(self, tail, self.high),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|&(ends, _)| ends);
        let root = self.merge(head, tail);
        self.set_root(root);
        next
    }

    /// A client whose flow has the least left in `t`, for a hint (the
    /// tags on the way down are counted, not pushed).
    fn client_of_min(&self, mut t: u32) -> ClientId {
        let target = self.min_left(t);
        // What the nodes below have not been told yet.
        let mut pending = 0u64;
        loop {
            let n = self.nodes[t as usize];
            let below = pending + n.tag;
            if n.left != NIL && self.nodes[n.left as usize].min_left - below == target {
                pending = below;
                t = n.left;
            } else if n.total - n.sent - pending == target {
                return n.client;
            } else {
                pending = below;
                t = n.right;
            }
        }
    }

    /// Takes off the flows with nothing left (their clients and links into
    /// `done`, in order).
    pub(super) fn take_finished(&mut self, done: &mut Vec<(ClientId, u64)>) {
        let mut labels = Vec::new();
        self.collect_empty(self.root(), &mut labels);
        for label in labels {
            let node = self.take(label);
            self.by_client.remove(&node.client);
            done.push((node.client, node.cap));
        }
    }

    fn collect_empty(&mut self, t: u32, out: &mut Vec<u64>) {
        if t == NIL || self.nodes[t as usize].min_left > 0 {
            return;
        }
        self.push_down(t);
        let Node { left, right, .. } = self.nodes[t as usize];
        self.collect_empty(left, out);
        let n = self.nodes[t as usize];
        if n.total == n.sent {
            out.push(n.label);
        }
        self.collect_empty(right, out);
    }

    /// Every flow in order, with what it still lacks, and its link; the
    /// tree is left empty.
    pub(super) fn drain(&mut self) -> Vec<(ClientId, u64, u64)> {
        let mut out = Vec::with_capacity(self.len());
        self.walk(self.root(), &mut out);
        *self = EqualTree {
            next_label: self.next_label,
            ..EqualTree::default()
        };
        out
    }

    fn walk(&mut self, t: u32, out: &mut Vec<(ClientId, u64, u64)>) {
        if t == NIL {
            return;
        }
        self.push_down(t);
        let Node { left, right, .. } = self.nodes[t as usize];
        self.walk(left, out);
        let n = self.nodes[t as usize];
        out.push((n.client, n.total - n.sent, n.cap));
        self.walk(right, out);
    }

    /// Every flow in order: (client, left, link, rate), for tests.
    #[cfg(test)]
    pub(super) fn snapshot(&mut self) -> Vec<(ClientId, u64, u64, u64)> {
        let mut out = Vec::new();
        self.walk(self.root(), &mut out);
        out.into_iter()
            .enumerate()
            .map(|(i, (c, left, cap))| {
                let rate = if i < self.first { self.low } else { self.high };
                (c, left, cap, rate)
            })
            .collect()
    }
}
