//! [`LabelTree`]: flows by label, with what each still lacks, sent to a
//! whole stretch of labels at once.
//!
//! A segment tree laid out as an array (node `v`'s children are `2v` and
//! `2v + 1`) over the labels `0..width`: leaf `i` holds the millibits the
//! flow labelled `i` still lacks, or nothing. Every node knows how many
//! flows are below it and the least any of them still lacks, and sending
//! to a stretch of labels is one tag on the nodes that cover it (a lazy
//! tag), pushed down to the children when a walk passes. Every operation
//! walks a path or two from the root: O(log width) (plus the flows that
//! finish). The top of the tree, which every walk reads, stays in the
//! caches.

/// The least of a node without flows.
pub(super) const NONE: u64 = u64::MAX;

/// A node of the tree: what its flows have in common.
#[derive(Clone, Copy)]
struct Node {
    /// The least millibits a flow below still lacks (`NONE` if none).
    least: u64,
    /// Millibits every flow below has sent and its children not yet been
    /// told.
    tag: u64,
    /// Flows below.
    count: u32,
}

const EMPTY: Node = Node {
    least: NONE,
    tag: 0,
    count: 0,
};

/// The flows by label (see the module).
pub(super) struct LabelTree {
    /// The inner nodes, `1..width`.
    nodes: Vec<Node>,
    /// Node `width + i` is leaf `i`: the millibits the flow labelled `i`
    /// still lacks (`NONE` if there is none); its tag is always zero.
    leaves: Vec<u64>,
    /// Labels, a power of two.
    width: usize,
}

impl LabelTree {
    /// A tree without flows for labels `0..width` (a power of two).
    pub(super) fn new(width: usize) -> Self {
        debug_assert!(width.is_power_of_two());
        LabelTree {
            nodes: vec![EMPTY; width],
            leaves: vec![NONE; width],
            width,
        }
    }

    /// A tree for labels `0..width` holding `flows`: (label, millibits
    /// left), labels rising.
    pub(super) fn build(width: usize, flows: impl Iterator<Item = (usize, u64)>) -> Self {
        let mut tree = LabelTree::new(width);
        for (label, left) in flows {
            tree.leaves[label] = left;
        }
        for v in (1..width).rev() {
            tree.pull_up(v);
        }
        tree
    }

    pub(super) fn len(&self) -> usize {
        self.nodes[1].count as usize
    }

    /// Node `v`, an inner node or a leaf.
    fn node(&self, v: usize) -> Node {
        if v < self.width {
            self.nodes[v]
        } else {
            let least = self.leaves[v - self.width];
            Node {
                least,
                tag: 0,
                count: u32::from(least != NONE),
            }
        }
    }

    /// Tells every flow below `v` that it sent `x` more millibits.
    fn apply(&mut self, v: usize, x: u64) {
        if x == 0 {
            return;
        }
        if v >= self.width {
            let leaf = &mut self.leaves[v - self.width];
            if *leaf != NONE {
                *leaf -= x;
            }
            return;
        }
        let node = &mut self.nodes[v];
        if node.count > 0 {
            node.least -= x;
            node.tag += x;
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
        let (a, b) = (self.node(2 * v), self.node(2 * v + 1));
        let node = &mut self.nodes[v];
        node.least = a.least.min(b.least);
        node.count = a.count + b.count;
    }

    /// Brings every tag above leaf `label` down to it; returns the leaf.
    fn open_path(&mut self, label: usize) -> usize {
        let leaf = self.width + label;
        for shift in (1..=self.width.trailing_zeros()).rev() {
            self.push_down(leaf >> shift);
        }
        leaf
    }

    /// Puts `least` at `leaf` (its path opened) and mends the path.
    fn set_leaf(&mut self, leaf: usize, least: u64) {
        let mut v = leaf;
        self.leaves[v - self.width] = least;
        while v > 1 {
            v /= 2;
            self.pull_up(v);
        }
    }

    /// The flow labelled `label` (none yet) lacks `left` millibits.
    pub(super) fn insert(&mut self, label: usize, left: u64) {
        let leaf = self.open_path(label);
        debug_assert_eq!(self.node(leaf).count, 0, "one flow a label");
        self.set_leaf(leaf, left);
    }

    /// Takes the flow labelled `label` off; returns what it still lacked.
    pub(super) fn remove(&mut self, label: usize) -> u64 {
        let leaf = self.open_path(label);
        debug_assert_eq!(self.node(leaf).count, 1, "a flow to remove");
        let left = self.node(leaf).least;
        self.set_leaf(leaf, NONE);
        left
    }

    /// The label of the flow `k`-th by label (`k < len`).
    pub(super) fn kth(&self, mut k: usize) -> usize {
        let mut v = 1;
        while v < self.width {
            let left = self.node(2 * v).count as usize;
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
    pub(super) fn least_around(&mut self, mut k: usize) -> (u64, u64, usize) {
        if k >= self.len() {
            return (self.nodes[1].least, NONE, self.width);
        }
        let (mut head, mut tail, mut v) = (NONE, NONE, 1);
        while v < self.width {
            self.push_down(v);
            let left = self.node(2 * v);
            if k < left.count as usize {
                tail = tail.min(self.node(2 * v + 1).least);
                v *= 2;
            } else {
                head = head.min(left.least);
                k -= left.count as usize;
                v = 2 * v + 1;
            }
        }
        (head, tail.min(self.node(v).least), v - self.width)
    }

    /// Among the flows labelled `from..to`, pins those with at most `x`
    /// millibits left so that they have none after sending `x` (they
    /// finish now); returns the millibits they could not send.
    pub(super) fn pin(&mut self, range: (usize, usize), x: u64) -> u128 {
        let mut short = 0;
        if self.nodes[1].least <= x {
            self.exhaust(1, (0, self.width), range, x, &mut short);
        }
        short
    }

    /// Sends `x` millibits to every flow labelled `from..to` (each has at
    /// least that left: see [`pin`](Self::pin)).
    pub(super) fn send(&mut self, range: (usize, usize), x: u64) {
        if range == (0, self.width) {
            self.apply(1, x);
        } else {
            self.add(1, (0, self.width), range, x);
        }
    }

    fn add(&mut self, v: usize, span: (usize, usize), range: (usize, usize), x: u64) {
        let ((lo, hi), (from, to)) = (span, range);
        if to <= lo || hi <= from || self.node(v).count == 0 {
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

    fn exhaust(
        &mut self,
        v: usize,
        span: (usize, usize),
        range: (usize, usize),
        x: u64,
        short: &mut u128,
    ) {
        let ((lo, hi), (from, to)) = (span, range);
        let node = self.node(v);
        if to <= lo || hi <= from || node.count == 0 || node.least > x {
            return;
        }
        if v >= self.width {
            *short += u128::from(x - node.least);
            self.leaves[v - self.width] = x;
            return;
        }
        self.push_down(v);
        let mid = (lo + hi) / 2;
        self.exhaust(2 * v, (lo, mid), range, x, short);
        self.exhaust(2 * v + 1, (mid, hi), range, x, short);
        self.pull_up(v);
    }

    /// The first flow labelled `from..to` with `least` left, if any (the
    /// tags on the way down are counted, not pushed).
    pub(super) fn first_with(&self, range: (usize, usize), least: u64) -> Option<usize> {
        self.find(1, (0, self.width), range, least, 0)
    }

    fn find(
        &self,
        v: usize,
        span: (usize, usize),
        range: (usize, usize),
        least: u64,
        pending: u64,
    ) -> Option<usize> {
        let ((lo, hi), (from, to)) = (span, range);
        let node = self.node(v);
        if to <= lo || hi <= from || node.count == 0 || node.least - pending > least {
            return None;
        }
        if v >= self.width {
            return Some(v - self.width);
        }
        let (mid, pending) = ((lo + hi) / 2, pending + node.tag);
        (self.find(2 * v, (lo, mid), range, least, pending))
            .or_else(|| self.find(2 * v + 1, (mid, hi), range, least, pending))
    }

    /// Takes off the flows with nothing left; their labels into `out`,
    /// rising.
    pub(super) fn take_finished(&mut self, out: &mut Vec<usize>) {
        if self.nodes[1].least == 0 {
            self.take_empty(1, out);
        }
    }

    fn take_empty(&mut self, v: usize, out: &mut Vec<usize>) {
        if self.node(v).least > 0 {
            return;
        }
        if v >= self.width {
            out.push(v - self.width);
            self.leaves[v - self.width] = NONE;
            return;
        }
        self.push_down(v);
        self.take_empty(2 * v, out);
        self.take_empty(2 * v + 1, out);
        self.pull_up(v);
    }

    /// Every flow: (label, millibits left), labels rising.
    pub(super) fn flows(&mut self) -> Vec<(usize, u64)> {
        for v in 1..self.width {
            self.push_down(v);
        }
        (0..self.width)
            .filter(|&i| self.leaves[i] != NONE)
            .map(|i| (i, self.leaves[i]))
            .collect()
    }
}
