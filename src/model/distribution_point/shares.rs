//! The active downloads while a DP's bandwidth binds: [`Shares`].
//!
//! Max-min fair shares in integer bits per second: the smallest links are
//! served in full while they are below an equal share of what is left,
//! and the rest share what is left equally, `q = left / m` each and one
//! bps more for the last `left mod m` of them. Which flows those are
//! depends on their order, and moves with every start and end.
//!
//! A flow's *label* is its place in the order: labels are handed out as
//! flows start, a flow that finishes leaves its label unused, and a
//! cancelled flow's label goes to the last flow (as a swap-remove would).
//! The flows are kept in groups, each a [`LabelTree`] over the labels:
//!
//! - while every link beats an equal share, one group: the flows get `q`,
//!   the last `capacity mod n` by label `q + 1`;
//! - otherwise one group per link speed, smallest first. Whole groups are
//!   served at their link (a flow whose link is below the share leaves
//!   the next one at least as much), then the others share what is left
//!   in order of link, then label: every group gets one rate, but the one
//!   where `q + 1` begins, which the rate splits by label.
//!
//! So a start, an end, a cancel, sending and the next completion cost
//! O(G log n) for G link speeds at the DP: a few, however many flows run.
//! The labels run out as flows start; then the flows are packed to the
//! left of trees with room for at least half as many again (amortised O(1)
//! a start).

use std::collections::{BTreeMap, HashMap};

use super::tree::{LabelTree, NONE};
use crate::estate::ClientId;

/// One group of flows and the rates the last share gave it: the first
/// `first` of them by label at `low` bps, the others at `high`.
struct Group {
    tree: LabelTree,
    low: u64,
    high: u64,
    first: usize,
    /// The label of the first flow at `high` (`width` if none), while no
    /// flow of the group has come or gone since the share.
    boundary: Option<usize>,
}

impl Group {
    fn new(tree: LabelTree) -> Self {
        Group {
            tree,
            low: 0,
            high: 0,
            first: 0,
            boundary: None,
        }
    }
}

/// The flows while the DP binds (see the module).
pub(super) struct Shares {
    /// Whether flows are grouped by link (some links below the share) or
    /// all in one group (every link above it).
    by_link: bool,
    /// By link (or all under 0), smallest first; never an empty group.
    groups: BTreeMap<u64, Group>,
    /// By label: the flow's client and link, bps.
    clients: Vec<ClientId>,
    caps: Vec<u64>,
    /// Labels, a power of two (0 before the first flow).
    width: usize,
    /// The next label: every flow's label is below it.
    next: usize,
    /// Each flow's label (looked up, never iterated).
    labels: HashMap<ClientId, u32>,
    /// The least left at the last share, the group and labels it is among.
    soonest: Option<(u64, u64, (usize, usize))>,
}

impl Shares {
    /// No flows; `by_link` groups them by link.
    pub(super) fn new(by_link: bool) -> Self {
        Shares {
            by_link,
            groups: BTreeMap::new(),
            clients: Vec::new(),
            caps: Vec::new(),
            width: 0,
            next: 0,
            labels: HashMap::new(),
            soonest: None,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.groups.values().map(|g| g.tree.len()).sum()
    }

    /// Whether the flows are grouped by link.
    pub(super) fn by_link(&self) -> bool {
        self.by_link
    }

    fn key(&self, cap: u64) -> u64 {
        if self.by_link { cap } else { 0 }
    }

    /// Lays the flows out at labels `0..` of trees with room for at least
    /// half as many again.
    fn repack(&mut self) {
        let flows = self.flows();
        // The old trees go before the new ones are made.
        self.groups.clear();
        let width = (flows.len() + flows.len() / 2 + 2)
            .next_power_of_two()
            .max(4);
        let mut by_group: BTreeMap<u64, Vec<(usize, u64)>> = BTreeMap::new();
        self.clients = vec![ClientId(0); width];
        self.caps = vec![0; width];
        self.labels.clear();
        for (label, &(client, left, cap)) in flows.iter().enumerate() {
            by_group
                .entry(self.key(cap))
                .or_default()
                .push((label, left));
            self.clients[label] = client;
            self.caps[label] = cap;
            self.labels.insert(client, label as u32);
        }
        self.groups = (by_group.into_iter())
            .map(|(key, flows)| (key, Group::new(LabelTree::build(width, flows.into_iter()))))
            .collect();
        self.width = width;
        self.next = flows.len();
    }

    /// Adds a flow last in the order.
    pub(super) fn push(&mut self, client: ClientId, left: u64, cap: u64) {
        if self.next == self.width {
            self.repack();
        }
        self.next += 1;
        self.put(self.next - 1, client, left, cap);
    }

    /// Puts client `client`'s flow (`left` millibits, link `cap`) at the
    /// free label `label`.
    fn put(&mut self, label: usize, client: ClientId, left: u64, cap: u64) {
        let width = self.width;
        let group =
            (self.groups.entry(self.key(cap))).or_insert_with(|| Group::new(LabelTree::new(width)));
        group.tree.insert(label, left);
        group.boundary = None;
        self.clients[label] = client;
        self.caps[label] = cap;
        self.labels.insert(client, label as u32);
    }

    /// Takes the flow labelled `label` off its group; returns what it
    /// still lacked.
    fn take(&mut self, label: usize) -> u64 {
        let key = self.key(self.caps[label]);
        let group = self.groups.get_mut(&key).expect("a flow's group");
        let left = group.tree.remove(label);
        group.boundary = None;
        if group.tree.len() == 0 {
            self.groups.remove(&key);
        }
        left
    }

    /// Takes client `c`'s flow off, the last flow taking its place in the
    /// order; returns the millibits it still lacked, and its link.
    pub(super) fn cancel(&mut self, c: ClientId) -> Option<(u64, u64)> {
        let label = self.labels.remove(&c)? as usize;
        let taken = (self.take(label), self.caps[label]);
        let last = (self.groups.values())
            .map(|g| g.tree.kth(g.tree.len() - 1))
            .max();
        if let Some(last) = last.filter(|&last| last > label) {
            let left = self.take(last);
            self.put(label, self.clients[last], left, self.caps[last]);
        }
        Some(taken)
    }

    /// Sends `dt` ms at the last share's rates; returns the millibits sent.
    pub(super) fn send(&mut self, dt: u64) -> u128 {
        let width = self.width;
        let mut total = 0;
        for group in self.groups.values_mut() {
            let n = group.tree.len();
            let first = group.first.min(n);
            let boundary = match group.boundary {
                Some(label) => label,
                None if first < n => group.tree.kth(first),
                None => width,
            };
            let (low, high) = (group.low.saturating_mul(dt), group.high.saturating_mul(dt));
            let mut short = 0;
            if first > 0 {
                short += group.tree.pin((0, boundary), low);
            }
            if first < n {
                short += group.tree.pin((boundary, width), high);
            }
            // Every flow sends `low`, those from the boundary on the rest.
            group.tree.send((0, width), low);
            if first < n {
                group.tree.send((boundary, width), high - low);
            }
            total +=
                u128::from(low) * first as u128 + u128::from(high) * (n - first) as u128 - short;
        }
        total
    }

    /// Max-min fair shares of `capacity` (at least 1 bps a flow, see the
    /// module); returns when the next flow finishes, in ms.
    pub(super) fn share(&mut self, capacity: u64) -> Option<u64> {
        let n = self.len();
        if n == 0 {
            self.soonest = None;
            return None;
        }
        let (mut left, mut m) = (capacity, n as u64);
        // The groups served at their link, then the first group that
        // shares.
        let mut sharing = None;
        for (&key, group) in self.groups.iter_mut() {
            let n = group.tree.len();
            if self.by_link && key <= left / m {
                (group.low, group.high, group.first) = (key, key, n);
                left -= key * n as u64;
                m -= n as u64;
            } else {
                sharing = Some(key);
                break;
            }
        }
        if let Some(from) = sharing {
            // What is left, in order of link and then label: the first
            // `m - r` flows at `q`, the others at `q + 1`.
            let (q, r) = (left / m, left % m);
            let mut before = m - r;
            for group in self.groups.range_mut(from..).map(|(_, g)| g) {
                let n = group.tree.len();
                (group.low, group.high) = (q.max(1), q + 1);
                group.first = n.min(before as usize);
                before -= group.first as u64;
            }
        }
        let width = self.width;
        let mut best: Option<(u64, u64, u64, (usize, usize))> = None;
        for (&key, group) in self.groups.iter_mut() {
            let (head, tail, boundary) = group.tree.least_around(group.first);
            group.boundary = Some(boundary);
            for (least, rate, range) in [
                (head, group.low, (0, boundary)),
                (tail, group.high, (boundary, width)),
            ] {
                if least == NONE {
                    continue;
                }
                let ends = least.div_ceil(rate);
                if best.is_none_or(|(b, ..)| ends < b) {
                    best = Some((ends, key, least, range));
                }
            }
        }
        self.soonest = best.map(|(_, key, least, range)| (key, least, range));
        best.map(|(ends, ..)| ends)
    }

    /// A client whose flow the last share found finishing first, for a
    /// hint.
    pub(super) fn soonest_client(&self) -> Option<ClientId> {
        let (key, least, range) = self.soonest?;
        let label = self.groups.get(&key)?.tree.first_with(range, least)?;
        Some(self.clients[label])
    }

    /// Takes off the flows with nothing left (their clients and links into
    /// `done`, in order).
    pub(super) fn take_finished(&mut self, done: &mut Vec<(ClientId, u64)>) {
        let mut labels = Vec::new();
        for group in self.groups.values_mut() {
            let before = labels.len();
            group.tree.take_finished(&mut labels);
            if labels.len() > before {
                group.boundary = None;
            }
        }
        if labels.is_empty() {
            return;
        }
        self.groups.retain(|_, g| g.tree.len() > 0);
        labels.sort_unstable();
        for label in labels {
            self.labels.remove(&self.clients[label]);
            done.push((self.clients[label], self.caps[label]));
        }
    }

    /// Every flow in order: (client, millibits left, link).
    fn flows(&mut self) -> Vec<(ClientId, u64, u64)> {
        let mut all: Vec<(usize, u64)> = (self.groups.values_mut())
            .flat_map(|g| g.tree.flows())
            .collect();
        all.sort_unstable();
        (all.into_iter())
            .map(|(label, left)| (self.clients[label], left, self.caps[label]))
            .collect()
    }

    /// Every flow in order, with what it still lacks, and its link; no
    /// flow is left.
    pub(super) fn drain(&mut self) -> Vec<(ClientId, u64, u64)> {
        let out = self.flows();
        *self = Shares::new(self.by_link);
        out
    }

    /// Every flow in order: (client, left, link, rate), for tests.
    #[cfg(test)]
    pub(super) fn snapshot(&mut self) -> Vec<(ClientId, u64, u64, u64)> {
        let mut all: Vec<(usize, u64, u64)> = Vec::new();
        for group in self.groups.values_mut() {
            let (first, low, high) = (group.first, group.low, group.high);
            let flows = group.tree.flows();
            all.extend(
                (flows.into_iter().enumerate())
                    .map(|(i, (label, left))| (label, left, if i < first { low } else { high })),
            );
        }
        all.sort_unstable();
        (all.into_iter())
            .map(|(label, left, rate)| (self.clients[label], left, self.caps[label], rate))
            .collect()
    }
}
