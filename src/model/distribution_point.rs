//! Distribution points: bandwidth shared fairly among active downloads.
//!
//! Owns the processor-sharing arithmetic: each active download gets a
//! max-min fair share of the DP's bandwidth, capped by its client's link;
//! at most `max_connections` downloads run at once and the rest wait in
//! order. Progress is integer millibits (1 bps for 1 ms is 1 millibit), so
//! `k` downloads of `S` bytes on `B` bps finish at exactly `k·S·8/B` when
//! the links are fast enough. One timer per DP: its next completion.
//!
//! The flows are kept two ways, with the same rates and the same results.
//! While their links add up to no more than the bandwidth, every flow runs
//! at its link and its end is known when it starts ([`Linked`]: a start, an
//! end or a cancel is O(log n), however many flows run). When the DP's
//! bandwidth binds, the integer shares hand their leftover bits per second
//! to particular flows by their place in the order, and the flows are kept
//! in segment trees by that order, one for each link speed ([`Shares`]: a
//! change is O(G log n) for G link speeds).
//!
//! Downloads from a DP across a WAN link wait in its queue and hold its
//! connections like its own, but run on their link's side (`wan_link.rs`):
//! the bandwidth they take there is `reserved`, and its own downloads
//! share the rest.

mod shares;
mod tree;

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use shares::Shares;

use super::content::DownloadFailure;
use super::events::Event;
use super::record::{
    BUSY_LEVELS, BusyClock, BusyTime, LoadCounts, LoadRow, MsHistogram, ServerRecord, ServerRole,
};
use super::servers::Request;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, TimerId};
use crate::estate::{ClientId, DpId, DpSpec};

/// One download while every link is served in full.
#[derive(Clone, Copy, Debug)]
struct LinkedFlow {
    client: ClientId,
    /// The client's link, bps: its rate.
    cap: u64,
    /// Its place in the order of the flows (see [`Linked`]).
    label: u64,
    /// When its millibits were last counted, and how many were left then.
    since: SimTime,
    left_since: u64,
    /// When it sends its last bit.
    finish: SimTime,
    /// It has sent everything and waits for the tick that takes it off.
    exhausted: bool,
}

impl LinkedFlow {
    fn new(client: ClientId, cap: u64, label: u64, now: SimTime, left: u64) -> Self {
        LinkedFlow {
            client,
            cap,
            label,
            since: now,
            left_since: left,
            finish: now + SimDuration(left.div_ceil(cap)),
            exhausted: left == 0,
        }
    }

    /// Millibits left at `t` (not before `since`).
    fn left_at(&self, t: SimTime) -> u64 {
        let sent = u128::from(self.cap) * u128::from(t.since(self.since).as_ms());
        self.left_since
            .saturating_sub(u64::try_from(sent).unwrap_or(u64::MAX))
    }
}

/// The active downloads while the links, not the DP, bind (their links add
/// up to no more than its bandwidth): every flow runs at its link, so its
/// last bit's time is known when it starts, and a start, an end or a
/// cancel costs O(log n) however many run at once. The rates, and so every
/// flow's progress, are exactly those the max-min rule gives.
///
/// Flows keep the order [`Shares`] keeps them in, as a label each: a new
/// flow goes last; flows that finish leave the others in order; a
/// cancelled flow's place goes to the last flow (as a swap-remove would).
/// Flows that finish at the same tick leave in that order.
#[derive(Default)]
struct Linked {
    slots: Vec<Option<LinkedFlow>>,
    free: Vec<u32>,
    by_label: BTreeMap<u64, u32>,
    by_finish: BTreeSet<(SimTime, u64, u32)>,
    by_client: BTreeMap<ClientId, u32>,
    next_label: u64,
    /// The links of the flows that still send, bps.
    sending: u128,
}

impl Linked {
    fn len(&self) -> usize {
        self.by_label.len()
    }

    fn insert(&mut self, flow: LinkedFlow) {
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.slots.push(None);
                (self.slots.len() - 1) as u32
            }
        };
        self.by_label.insert(flow.label, slot);
        self.by_finish.insert((flow.finish, flow.label, slot));
        self.by_client.insert(flow.client, slot);
        if !flow.exhausted {
            self.sending += u128::from(flow.cap);
        }
        self.slots[slot as usize] = Some(flow);
    }

    /// Adds a flow last, starting now.
    fn push(&mut self, client: ClientId, left: u64, cap: u64, now: SimTime) {
        let label = self.next_label;
        self.next_label += 1;
        self.insert(LinkedFlow::new(client, cap, label, now, left));
    }

    fn remove(&mut self, slot: u32) -> LinkedFlow {
        let flow = self.slots[slot as usize].take().expect("a flow");
        self.free.push(slot);
        self.by_label.remove(&flow.label);
        self.by_finish.remove(&(flow.finish, flow.label, slot));
        self.by_client.remove(&flow.client);
        if !flow.exhausted {
            self.sending -= u128::from(flow.cap);
        }
        flow
    }

    /// Sends from `last` to `now`; returns the millibits sent. A flow that
    /// sends its last bit by `now` is marked exhausted (it leaves at its
    /// tick).
    fn send(&mut self, last: SimTime, now: SimTime) -> u128 {
        let dt = now.since(last).as_ms();
        let mut sent = self.sending * u128::from(dt);
        let due: Vec<u32> = (self.by_finish.iter())
            .take_while(|&&(finish, _, _)| finish <= now)
            .map(|&(_, _, slot)| slot)
            .collect();
        for slot in due {
            let flow = self.slots[slot as usize].as_mut().expect("a flow");
            if flow.exhausted {
                continue;
            }
            // It sent only what it had left, not a full interval.
            let full = u128::from(flow.cap) * u128::from(dt);
            sent -= full - u128::from(flow.left_at(last));
            flow.exhausted = true;
            self.sending -= u128::from(flow.cap);
        }
        sent
    }

    /// Takes off the flows whose last bit is sent by `now` (their clients
    /// and links into `done`, in flow order).
    fn take_finished(&mut self, now: SimTime, done: &mut Vec<(ClientId, u64)>) {
        // Usually all at `now`, already in flow order; flows that sent
        // their last bit at different times leave in flow order too.
        let mut finished: Vec<(u64, u32)> = (self.by_finish.iter())
            .take_while(|&&(finish, _, _)| finish <= now)
            .map(|&(_, label, slot)| (label, slot))
            .collect();
        finished.sort_unstable();
        for (_, slot) in finished {
            let flow = self.remove(slot);
            done.push((flow.client, flow.cap));
        }
    }

    /// The flow that finishes first (the first in flow order among ties):
    /// when, and whose.
    fn next(&self) -> Option<(SimTime, ClientId)> {
        let &(finish, _, slot) = self.by_finish.first()?;
        Some((finish, self.slots[slot as usize].expect("a flow").client))
    }

    /// Takes client `c`'s flow off, the last flow taking its place in the
    /// order; returns the millibits it still lacked at `now`, and its link.
    fn cancel(&mut self, c: ClientId, now: SimTime) -> Option<(u64, u64)> {
        let slot = *self.by_client.get(&c)?;
        let flow = self.remove(slot);
        if let Some((&label, &last)) = self.by_label.last_key_value()
            && label > flow.label
        {
            let mut moved = self.remove(last);
            moved.label = flow.label;
            self.insert(moved);
        }
        Some((flow.left_at(now), flow.cap))
    }

    /// Every flow in order, with what it still lacks at `now`; the set is
    /// left empty.
    fn drain(&mut self, now: SimTime) -> Vec<(ClientId, u64, u64)> {
        let out = (self.by_label.values())
            .map(|&slot| {
                let f = self.slots[slot as usize].expect("a flow");
                (f.client, f.left_at(now), f.cap)
            })
            .collect();
        *self = Linked {
            next_label: self.next_label,
            ..Linked::default()
        };
        out
    }
}

/// How a DP's active downloads are kept: [`Linked`] while the links bind,
/// [`Shares`] while the DP binds (in one group while every link beats an
/// equal share, by link otherwise).
enum Active {
    Linked(Linked),
    Shares(Shares),
}

impl Active {
    /// Every flow in order, with what it still lacks at `now`, and its
    /// link; none is left.
    fn drain(&mut self, now: SimTime) -> Vec<(ClientId, u64, u64)> {
        match self {
            Active::Linked(l) => l.drain(now),
            Active::Shares(s) => s.drain(),
        }
    }
}

/// Which keeping the flows need now.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keeping {
    Linked,
    Equal,
    Shared,
}

/// A download waiting for a connection: its client (or transfer id),
/// when it arrived, the millibits it needs and its link, bps.
type Queued = (ClientId, SimTime, u64, u64);

/// The downloads waiting for a connection, first come first served. Any
/// one can leave early (its client switched off or restarts): joining,
/// leaving and being served are O(1) whatever the queue's length. One
/// that leaves stays in the queue as a gap, skipped when it reaches the
/// front.
#[derive(Default)]
struct Waiting {
    /// By place in the queue, gaps included: the place of the front entry
    /// and each entry's place in turn (places are consecutive).
    queue: VecDeque<(u64, Queued)>,
    /// Each waiting client's place (looked up, never iterated).
    place: HashMap<ClientId, u64>,
    next: u64,
}

impl Waiting {
    fn push_back(&mut self, q: Queued) {
        let old = self.place.insert(q.0, self.next);
        debug_assert!(old.is_none(), "a client waits once");
        self.queue.push_back((self.next, q));
        self.next += 1;
    }

    fn pop_front(&mut self) -> Option<Queued> {
        while let Some((place, q)) = self.queue.pop_front() {
            if self.place.get(&q.0) == Some(&place) {
                self.place.remove(&q.0);
                return Some(q);
            }
        }
        None
    }

    /// Takes client `c`'s download out of the queue, if it waits.
    fn remove(&mut self, c: ClientId) -> Option<Queued> {
        let place = self.place.remove(&c)?;
        let front = self.queue.front().expect("a waiting client is queued").0;
        Some(self.queue[(place - front) as usize].1)
    }

    fn len(&self) -> usize {
        self.place.len()
    }

    fn is_empty(&self) -> bool {
        self.place.is_empty()
    }

    /// Every waiting download, in order; the queue is left empty.
    fn drain(&mut self) -> Vec<Queued> {
        let place = std::mem::take(&mut self.place);
        (self.queue.drain(..))
            .filter(|(at, q)| place.get(&q.0) == Some(at))
            .map(|(_, q)| q)
            .collect()
    }
}

/// A distribution point's live state.
pub(crate) struct Dp {
    bandwidth: u64,
    max_connections: u32,
    active: Active,
    /// The links of the active downloads, bps, and how many have each.
    links: u128,
    caps: BTreeMap<u64, u32>,
    /// The client whose download the next tick finishes (the first, if
    /// several), for a hint; the equal keeping finds its own.
    next_done: Option<ClientId>,
    waiting: Waiting,
    last: SimTime,
    timer: Option<TimerId>,
    down: bool,
    slowdown: f64,
    interval: LoadCounts,
    total: LoadCounts,
    interval_millibits: u128,
    total_millibits: u128,
    /// Millibits taken back (see [`keep_whole_bytes`](Self::keep_whole_bytes))
    /// that were sent before the last sample: the next samples' bytes pay
    /// them off.
    owed_millibits: u128,
    wait: MsHistogram,
    /// Transfers with ids from this one up are not requests (a WAN link's
    /// copies to branch DPs): their waits are not counted.
    untimed_from: u32,
    peak_queue: u32,
    peak_busy: u32,
    /// The most waiting and active since the last sample.
    most_queue: u32,
    most_busy: u32,
    /// Its time by level of utilization, counted up to `last`.
    clock: BusyClock,
    /// The most bandwidth in use between two changes, bps.
    peak_bps: u64,
    /// Its utilization is its bandwidth's alone (a WAN link's): its
    /// connections and queue do not count.
    bandwidth_only: bool,
    /// The bandwidth, bps, given to downloads across WAN links (served by
    /// their links' pipes, `wan_link.rs`): its own flows share the rest.
    reserved: u64,
    /// The downloads across a WAN link waiting for one of its
    /// connections, each with its link (looked up, never iterated).
    remote: HashMap<ClientId, u16>,
    /// Downloads across WAN links in progress: on a DP, those holding one
    /// of its connections; on a link, those crossing it.
    remote_active: u32,
    /// Downloads across WAN links given a connection since the world last
    /// looked: client, link, millibits and the client's link, bps.
    joined: Vec<(ClientId, u16, u64, u64)>,
    /// Millibits sent that were handed on (a download group's, to its DP
    /// and link).
    handed_on: u128,
}

impl Dp {
    pub(crate) fn new(bandwidth: u64, max_connections: u32) -> Self {
        Dp {
            bandwidth,
            max_connections,
            active: Active::Linked(Linked::default()),
            links: 0,
            caps: BTreeMap::new(),
            next_done: None,
            waiting: Waiting::default(),
            last: SimTime::ZERO,
            timer: None,
            down: false,
            slowdown: 1.0,
            interval: LoadCounts::default(),
            total: LoadCounts::default(),
            interval_millibits: 0,
            total_millibits: 0,
            owed_millibits: 0,
            wait: MsHistogram::new(),
            untimed_from: u32::MAX,
            peak_queue: 0,
            peak_busy: 0,
            most_queue: 0,
            most_busy: 0,
            clock: BusyClock::default(),
            peak_bps: 0,
            bandwidth_only: false,
            reserved: 0,
            remote: HashMap::new(),
            remote_active: 0,
            joined: Vec::new(),
            handed_on: 0,
        }
    }

    /// Its utilization is its bandwidth in use alone, not its connections
    /// nor its queue (a WAN link's, which waits only while it is down).
    pub(crate) fn bandwidth_only(mut self) -> Self {
        self.bandwidth_only = true;
        self
    }

    /// This pipe's transfers with ids from `first` up are not requests:
    /// their waits stay out of its queue-wait percentiles.
    pub(crate) fn untimed_from(mut self, first: u32) -> Self {
        self.untimed_from = first;
        self
    }

    /// Its own downloads running or waiting for a connection now (not
    /// those across WAN links, which their links count).
    pub(crate) fn downloads_under_way(&self) -> u64 {
        (self.active_len() + self.waiting.len() - self.remote.len()) as u64
    }

    /// Downloads in progress: its own, and those across WAN links it
    /// serves (a DP) or carries (a link).
    fn in_service(&self) -> usize {
        self.active_len() + self.remote_active as usize
    }

    /// Downloads running now.
    fn active_len(&self) -> usize {
        match &self.active {
            Active::Linked(l) => l.len(),
            Active::Shares(s) => s.len(),
        }
    }

    /// A flow with link `cap` starts.
    fn add_link(&mut self, cap: u64) {
        self.links += u128::from(cap);
        *self.caps.entry(cap).or_insert(0) += 1;
    }

    /// A flow with link `cap` ends.
    fn remove_link(&mut self, cap: u64) {
        self.links -= u128::from(cap);
        match self.caps.get_mut(&cap) {
            Some(1) => {
                self.caps.remove(&cap);
            }
            Some(n) => *n -= 1,
            None => unreachable!("a link that was added"),
        }
    }

    /// Its bandwidth now for its own flows, bps: what downloads across
    /// WAN links leave of it.
    fn capacity(&self) -> u64 {
        self.full_capacity().saturating_sub(self.reserved)
    }

    /// Its whole bandwidth now, bps (0 while down).
    pub(super) fn full_capacity(&self) -> u64 {
        if self.down {
            return 0;
        }
        (self.bandwidth as f64 / self.slowdown) as u64
    }

    /// Sends what every flow sent since the last change.
    fn advance(&mut self, now: SimTime) {
        let dt = now.since(self.last).as_ms();
        let last = std::mem::replace(&mut self.last, now);
        if dt == 0 {
            return;
        }
        // What it had in service and waiting held since `last`.
        let slots = if self.bandwidth_only {
            0
        } else if !self.waiting.is_empty() {
            BUSY_LEVELS - 1
        } else {
            BusyTime::level(self.in_service() as u128, u128::from(self.max_connections))
        };
        let total = match &mut self.active {
            Active::Linked(l) => l.send(last, now),
            Active::Shares(s) => s.send(dt),
        };
        self.interval_millibits += total;
        self.total_millibits += total;
        // Millibits per ms are bits per second: the bandwidth in use, which
        // held since `last` (the rates change only where it is advanced).
        let bps = total / u128::from(dt) + u128::from(self.reserved);
        self.peak_bps = self.peak_bps.max(bps as u64);
        let link = BusyTime::level(bps, u128::from(self.bandwidth));
        self.clock.tick(now, slots.max(link));
    }

    /// Counts its time up to `now` (the end of the run).
    pub(crate) fn close(&mut self, now: SimTime) {
        self.advance(now);
    }

    /// [`advance`](Self::advance), then takes the flows that have sent
    /// everything off the DP (their clients into `done`, in flow order).
    fn advance_and_take(&mut self, now: SimTime, done: &mut Vec<ClientId>) {
        self.advance(now);
        let mut finished = Vec::new();
        match &mut self.active {
            Active::Linked(l) => l.take_finished(now, &mut finished),
            Active::Shares(s) => s.take_finished(&mut finished),
        }
        for (c, cap) in finished {
            self.remove_link(cap);
            done.push(c);
        }
    }

    /// Max-min fair rates: the smallest links are served in full while they
    /// are below an equal share of what is left. Returns when the next flow
    /// finishes at these rates. Keeps the flows the way their rates need
    /// (see [`Active`]), moving them when that changes.
    fn share(&mut self) -> Option<SimDuration> {
        let capacity = self.capacity();
        let now = self.last;
        let n = self.active_len() as u64;
        let keeping = if self.links <= u128::from(capacity) {
            Keeping::Linked
        } else if (self.caps.first_key_value())
            .is_some_and(|(&least, _)| least > (capacity / n.max(1)).max(1))
        {
            Keeping::Equal
        } else {
            Keeping::Shared
        };
        let current = match &self.active {
            Active::Linked(_) => Keeping::Linked,
            Active::Shares(s) if s.by_link() => Keeping::Shared,
            Active::Shares(_) => Keeping::Equal,
        };
        if keeping != current {
            let flows = self.active.drain(now);
            self.active = match keeping {
                Keeping::Linked => {
                    let mut l = Linked::default();
                    for (client, left, cap) in flows {
                        l.push(client, left, cap, now);
                    }
                    Active::Linked(l)
                }
                Keeping::Equal | Keeping::Shared => {
                    let mut s = Shares::new(keeping == Keeping::Shared);
                    for (client, left, cap) in flows {
                        s.push(client, left, cap);
                    }
                    Active::Shares(s)
                }
            };
        }
        let next = match &mut self.active {
            Active::Linked(l) => l.next().map(|(finish, c)| (finish.since(now), Some(c))),
            // The trees find its client only when a hint asks for it.
            Active::Shares(s) => s.share(capacity).map(|ends| (SimDuration(ends), None)),
        };
        self.next_done = next.and_then(|(_, c)| c);
        next.map(|(after, _)| after)
    }

    fn admit(&mut self, now: SimTime) {
        while !self.down && (self.in_service() as u32) < self.max_connections {
            let Some((client, arrived, remaining, cap)) = self.waiting.pop_front() else {
                break;
            };
            if client.0 < self.untimed_from {
                self.wait.saturating_record(now.since(arrived).as_ms());
            }
            if let Some(link) = self.remote.remove(&client) {
                // Across a WAN link: its link's pipe carries it.
                self.remote_active += 1;
                self.joined.push((client, link, remaining, cap));
                continue;
            }
            self.add_link(cap);
            match &mut self.active {
                Active::Linked(l) => l.push(client, remaining, cap, now),
                Active::Shares(s) => s.push(client, remaining, cap),
            }
        }
        let n = self.in_service() as u32;
        self.peak_busy = self.peak_busy.max(n);
        self.most_busy = self.most_busy.max(n);
        assert!(
            n <= self.max_connections,
            "law 8: more downloads than connections"
        );
    }

    /// Client `c` stops downloading: its flow (or its place in the queue)
    /// goes; returns the millibits it still lacked.
    fn cancel(&mut self, c: ClientId, now: SimTime) -> Option<u64> {
        let active = match &mut self.active {
            Active::Linked(l) => l.cancel(c, now),
            Active::Shares(s) => s.cancel(c),
        };
        if let Some((left, cap)) = active {
            self.remove_link(cap);
            return Some(left);
        }
        let waited = self.waiting.remove(c)?;
        self.remote.remove(&c);
        Some(waited.2)
    }

    /// A download of its own stopped with `left` millibits unsent: returns
    /// the bytes its client still lacks. The client keeps whole bytes only
    /// and asks for the rest again, the byte it was receiving included, so
    /// the bits of that byte sent so far are not served: they come off the
    /// DP's count, so that its bytes served stay the bytes its clients
    /// received from it (docs/outputs.md, `totals`).
    pub(super) fn keep_whole_bytes(&mut self, left: u64) -> u64 {
        let lacks = left.div_ceil(8_000);
        let unfinished = u128::from(lacks * 8_000 - left);
        self.total_millibits -= unfinished;
        // Sent in this interval, or (rarely) partly before its sample.
        let now = unfinished.min(self.interval_millibits);
        self.interval_millibits -= now;
        self.owed_millibits += unfinished - now;
        lacks
    }

    /// Every download fails: the running ones in order, then the waiting
    /// ones, each with the millibits it still lacked.
    fn fail_all(&mut self, now: SimTime) -> Vec<(ClientId, u64)> {
        let flows = self.active.drain(now);
        self.links = 0;
        self.caps.clear();
        let mut failed: Vec<(ClientId, u64)> =
            flows.into_iter().map(|(c, left, _)| (c, left)).collect();
        // Those across WAN links fail at their links (`links_fail_dp`).
        let remote = std::mem::take(&mut self.remote);
        (failed.extend(
            (self.waiting.drain().into_iter())
                .filter(|w| !remote.contains_key(&w.0))
                .map(|w| (w.0, w.2)),
        ));
        failed
    }
}

/// What a WAN link (`wan_link.rs`) asks of the sharing arithmetic: the
/// same max-min fair shares over transfers that each carry an id.
impl Dp {
    /// A transfer of `millibits` capped at `cap` bps starts now.
    pub(super) fn start(&mut self, id: ClientId, millibits: u64, cap: u64, now: SimTime) {
        self.advance(now);
        self.waiting.push_back((id, now, millibits, cap));
        self.admit(now);
        self.peak_queue = self.peak_queue.max(self.waiting.len() as u32);
        self.most_queue = self.most_queue.max(self.waiting.len() as u32);
    }

    /// Sends up to now and takes off the transfers that have sent
    /// everything (their ids into `done`, in flow order).
    pub(super) fn finish(&mut self, now: SimTime, done: &mut Vec<ClientId>) {
        self.advance_and_take(now, done);
        self.admit(now);
    }

    /// Transfer `id` stops now; returns the millibits it still lacked.
    pub(super) fn stop(&mut self, id: ClientId, now: SimTime) -> Option<u64> {
        self.advance(now);
        let left = self.cancel(id, now)?;
        self.admit(now);
        Some(left)
    }

    /// Shares the bandwidth anew; returns when the next transfer ends.
    /// (The pipe may not have been advanced to the caller's instant: the
    /// end counts from its own last update, not from the caller's now.)
    pub(super) fn reshare(&mut self) -> Option<SimTime> {
        let after = self.share()?;
        Some(self.last + after)
    }

    /// Whether it is down.
    pub(super) fn is_down(&self) -> bool {
        self.down
    }

    /// It goes down (`true`) or comes back up: while it is down nothing
    /// starts; once it is up, what waited starts.
    pub(super) fn set_down(&mut self, down: bool, now: SimTime) {
        self.advance(now);
        self.down = down;
        self.admit(now);
    }

    /// Its bandwidth is `factor` times smaller from now (1: full).
    pub(super) fn set_slowdown(&mut self, factor: f64, now: SimTime) {
        self.advance(now);
        self.slowdown = factor;
    }

    /// Counts `n` requests of `kind`: arrived, served or rejected.
    pub(super) fn count(&mut self, kind: Request, arrived: u64, served: u64, rejected: u64) {
        for counts in [&mut self.interval, &mut self.total] {
            counts.arrived[kind as usize] += arrived;
            counts.served[kind as usize] += served;
            counts.rejected[kind as usize] += rejected;
        }
    }

    /// Counts `millibits` sent for it by another pipe (downloads across a
    /// WAN link, carried by their link's pipe), in this interval.
    pub(super) fn relay(&mut self, millibits: u128) {
        self.interval_millibits += millibits;
        self.total_millibits += millibits;
    }

    /// The millibits sent since the last call (a download group's, for
    /// its DP and link).
    pub(super) fn take_sent(&mut self, now: SimTime) -> u128 {
        self.advance(now);
        let sent = self.total_millibits - self.handed_on;
        self.handed_on = self.total_millibits;
        sent
    }

    /// The links of its own active flows, bps, and how many have each.
    pub(super) fn caps(&self) -> &BTreeMap<u64, u32> {
        &self.caps
    }

    /// Whether it has active flows of its own.
    pub(super) fn has_flows(&self) -> bool {
        debug_assert_eq!(self.caps.is_empty(), self.active_len() == 0);
        !self.caps.is_empty()
    }

    /// The bandwidth given to downloads across WAN links, bps.
    pub(super) fn reserved(&self) -> u64 {
        self.reserved
    }

    /// Downloads across WAN links in progress on it.
    pub(super) fn remote_active(&self) -> u32 {
        self.remote_active
    }

    /// Gives `bps` of its bandwidth to downloads across WAN links from now.
    pub(super) fn set_reserved(&mut self, bps: u64, now: SimTime) {
        self.advance(now);
        self.reserved = bps;
    }

    /// Its bandwidth is `bps` from now (a download group's share).
    pub(super) fn set_bandwidth(&mut self, bps: u64, now: SimTime) {
        self.advance(now);
        self.bandwidth = bps;
    }

    /// A download across WAN link `link` asks for one of its connections
    /// now (once the link's latency has passed): it waits in turn with its
    /// own downloads, and once given one it is in
    /// [`take_joined`](Self::take_joined).
    pub(super) fn start_remote(
        &mut self,
        id: ClientId,
        link: u16,
        millibits: u64,
        cap: u64,
        now: SimTime,
    ) {
        self.remote.insert(id, link);
        self.start(id, millibits, cap, now);
    }

    /// The downloads across WAN links given a connection since the last
    /// call: client, link, millibits and the client's link, bps.
    pub(super) fn take_joined(&mut self) -> Vec<(ClientId, u16, u64, u64)> {
        std::mem::take(&mut self.joined)
    }

    /// A download across a WAN link starts crossing this link now.
    pub(super) fn join_remote(&mut self, now: SimTime) {
        self.advance(now);
        self.remote_active += 1;
        self.wait.saturating_record(0);
        let n = self.in_service() as u32;
        self.peak_busy = self.peak_busy.max(n);
        self.most_busy = self.most_busy.max(n);
    }

    /// A download across a WAN link ends or stops now: its connection (a
    /// DP's) goes to the next download waiting.
    pub(super) fn leave_remote(&mut self, now: SimTime) {
        self.advance(now);
        self.remote_active = (self.remote_active.checked_sub(1)).expect("a download across");
        self.admit(now);
    }

    /// Its figures over the run, as server `name` of `role`.
    pub(super) fn record_as(&self, name: &str, role: ServerRole, capacity: u32) -> ServerRecord {
        ServerRecord {
            name: name.to_string(),
            role,
            capacity,
            queue_limit: None,
            total: self.total,
            peak_queue: self.peak_queue,
            peak_busy: self.peak_busy,
            wait: self.wait.clone(),
            bytes: (self.total_millibits / 8_000) as u64,
            busy: self.clock.time.clone(),
            peak_bps: self.peak_bps,
        }
    }
}

impl Dp {
    /// The client whose download its next tick finishes, for a hint.
    #[inline]
    pub(crate) fn next_done(&self) -> Option<ClientId> {
        match &self.active {
            Active::Shares(s) => s.soonest_client(),
            Active::Linked(_) => self.next_done,
        }
    }

    /// Its load row for the interval that ends now (as server `server`):
    /// the bytes sent up to now belong to this interval.
    pub(crate) fn sample(&mut self, now: SimTime, server: usize) -> LoadRow {
        self.advance(now);
        let (queue, busy) = (self.waiting.len() as u32, self.in_service() as u32);
        LoadRow {
            time: now,
            server,
            counts: std::mem::take(&mut self.interval),
            queue,
            busy,
            most_queue: std::mem::replace(&mut self.most_queue, queue).max(queue),
            most_busy: std::mem::replace(&mut self.most_busy, busy).max(busy),
            bytes: {
                let mut sent = std::mem::take(&mut self.interval_millibits);
                let paid = sent.min(self.owed_millibits);
                self.owed_millibits -= paid;
                sent -= paid;
                (sent / 8_000) as u64
            },
            down: self.down,
        }
    }

    /// Its figures over the run.
    pub(crate) fn record(&self, spec: &DpSpec) -> ServerRecord {
        self.record_as(
            &spec.name,
            ServerRole::DistributionPoint,
            spec.max_connections,
        )
    }
}

impl World<'_> {
    /// Starts the downloads across WAN links the DP gave a connection,
    /// shares its bandwidth and its links' anew if downloads across them
    /// are in progress or were, and moves the DP's one timer.
    pub(super) fn dp_reschedule(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let d = self.servers.dp_mut(dp);
        if d.remote_active > 0 || d.reserved > 0 {
            let joined = d.take_joined();
            self.downloads_cross(dp, joined, sched);
        }
        self.dp_timer(dp, sched);
    }

    /// Re-shares the bandwidth and moves the DP's one timer.
    pub(super) fn dp_timer(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let d = self.servers.dp_mut(dp);
        // From the DP's own last update, which may be before now.
        let next = d.reshare();
        if let Some(timer) = d.timer.take() {
            sched.cancel(timer);
        }
        if let Some(at) = next {
            d.timer = Some(sched.at(at.max(sched.now()), Event::DpTick(dp)));
        }
    }

    /// A client asks its DP for `bytes`; an error if the DP, or the WAN
    /// link the download would cross, is down.
    pub(crate) fn dp_request(
        &mut self,
        c: ClientId,
        bytes: u64,
        sched: &mut Scheduler<'_, Event>,
    ) -> Result<(), DownloadFailure> {
        let now = sched.now();
        let cohort = self.cohort(c);
        let dp = self.own_dp(c);
        let d = self.servers.dp_mut(dp);
        d.count(Request::Download, 1, 0, 0);
        if d.down {
            d.count(Request::Download, 0, 0, 1);
            return Err(DownloadFailure::DistributionPoint);
        }
        if let Some(link) = cohort.crosses {
            // Across a WAN link: the link carries it (`wan_link.rs`).
            return (self.link_request(link, c, dp, bytes, sched))
                .then_some(())
                .ok_or(DownloadFailure::WanLink);
        }
        d.start(c, bytes * 8_000, cohort.link_bps, now);
        self.dp_reschedule(dp, sched);
        Ok(())
    }

    /// The DP's next completion: finished downloads end, waiting ones start.
    pub(crate) fn dp_tick(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let mut done = std::mem::take(&mut self.servers.scratch_clients);
        done.clear();
        let d = self.servers.dp_mut(dp);
        d.timer = None;
        d.advance_and_take(now, &mut done);
        d.count(Request::Download, 0, done.len() as u64, 0);
        d.admit(now);
        self.dp_reschedule(dp, sched);
        for &c in &done {
            self.download_finished(c, sched);
        }
        self.servers.scratch_clients = done;
    }

    /// The client stops downloading (switched off, restarting): returns the
    /// bytes it still lacks.
    pub(crate) fn dp_cancel(
        &mut self,
        c: ClientId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Option<u64> {
        let now = sched.now();
        if let Some(link) = self.download_link(c) {
            return self.link_cancel(link, c, sched);
        }
        let dp = self.own_dp(c);
        let d = self.servers.dp_mut(dp);
        let left = d.stop(c, now)?;
        let lacks = d.keep_whole_bytes(left);
        self.dp_reschedule(dp, sched);
        Some(lacks)
    }

    /// The DP goes down: every download on it fails; returns the clients and
    /// the bytes each still lacks.
    pub(crate) fn dp_fail_all(
        &mut self,
        dp: DpId,
        sched: &mut Scheduler<'_, Event>,
    ) -> Vec<(ClientId, u64)> {
        let now = sched.now();
        let d = self.servers.dp_mut(dp);
        d.down = true;
        d.advance(now);
        let mut failed = d.fail_all(now);
        for f in &mut failed {
            f.1 = d.keep_whole_bytes(f.1);
        }
        d.count(Request::Download, 0, 0, failed.len() as u64);
        self.dp_reschedule(dp, sched);
        // Its downloads across WAN links fail with it.
        failed.extend(self.links_fail_dp(dp, sched));
        failed
    }

    /// A slowdown starts: the DP's bandwidth shrinks by `factor` from now.
    pub(crate) fn dp_set_slowdown(
        &mut self,
        dp: DpId,
        factor: f64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        self.servers.dp_mut(dp).set_slowdown(factor, sched.now());
        self.dp_reschedule(dp, sched);
    }

    /// A fault ends: the DP is up again at full bandwidth.
    pub(crate) fn dp_restore(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        // Downloads across WAN links that asked while it was down start.
        self.servers.dp_mut(dp).set_down(false, sched.now());
        self.dp_set_slowdown(dp, 1.0, sched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Dp {
        /// The flows in their order: (client, millibits left, link, rate).
        fn snapshot(&mut self) -> Vec<(ClientId, u64, u64, u64)> {
            match &mut self.active {
                Active::Shares(s) => s.snapshot(),
                Active::Linked(l) => (l.by_label.values())
                    .map(|&slot| {
                        let f = l.slots[slot as usize].expect("a flow");
                        (f.client, f.left_at(self.last), f.cap, f.cap)
                    })
                    .collect(),
            }
        }
    }

    /// A DP of bandwidth B serving k equal downloads of size S at once
    /// finishes them all at k·S/B, through the world's own plumbing.
    #[test]
    fn dp_shares_bandwidth_fairly() {
        use crate::estate::DeploymentId;
        use crate::model::client::Action;
        use crate::model::servers::tests::{estate, sim};
        for (k, connections) in [(10u32, 500u32), (40, 500), (40, 10)] {
            let estate = estate(
                &format!(
                    r#"management_points: [ManagementPoint(name: "mp")],
                       update_points: [UpdatePoint(name: "sup")],
                       distribution_points: [DistributionPoint(name: "dp", bandwidth: "1Gbps", max_connections: {connections})],"#
                ),
                k,
            );
            let mut sim = sim(&estate, |w, sched| {
                for i in 0..k {
                    let c = ClientId(i);
                    w.clients[c].action = Action::Download(DeploymentId(0));
                    w.deployments.assignment_mut(DeploymentId(0), c).remaining = 100_000_000;
                    assert_eq!(w.dp_request(c, 100_000_000, sched), Ok(()));
                }
            });
            // k × 100 MB × 8 bits / 1 Gbps = k × 0.8 s, however many connections.
            let done = SimTime(u64::from(k) * 800);
            sim.run_until(SimTime(done.as_ms() - 1));
            let dp = sim.model().servers.dp(DpId(0));
            assert!(dp.active_len() > 0 || !dp.waiting.is_empty());
            sim.run_until(done);
            let dp = sim.model().servers.dp(DpId(0));
            assert!(
                dp.active_len() == 0 && dp.waiting.is_empty(),
                "k={k}: all done at k·S/B"
            );
            assert_eq!(dp.total.served[Request::Download as usize], u64::from(k));
            assert_eq!(dp.total_millibits, u128::from(k) * 100_000_000 * 8_000);
            assert!(dp.peak_busy <= connections);
        }
    }

    /// A download stopped in the middle of a byte: its client lacks that
    /// byte, and the DP counts as served only the bytes before it, taking
    /// the bits of that byte back from the interval they were sent in,
    /// or from the next when a sample came in between; the load rows never
    /// add up to more than the run's bytes.
    #[test]
    fn a_stopped_download_counts_only_the_whole_bytes_sent() {
        // 1,001 bps (1,001 millibits a ms) for a 10-byte download.
        let mut d = Dp::new(1_001, 10);
        d.start(ClientId(0), 80_000, 1_000_000, SimTime(0));
        d.reshare();
        // 10,010 millibits by 10 ms: one whole byte in that interval.
        assert_eq!(d.sample(SimTime(10), 0).bytes, 1);
        // 12,012 by 12 ms: a byte and half of the next.
        let left = d.stop(ClientId(0), SimTime(12)).expect("running");
        assert_eq!(left, 80_000 - 12_012);
        assert_eq!(d.keep_whole_bytes(left), 9, "it lacks 9 bytes");
        assert_eq!(d.total_millibits, 8_000, "one byte served");
        // Of the 4,012 taken back, 2,002 were sent since the sample.
        assert_eq!((d.interval_millibits, d.owed_millibits), (0, 2_010));
        // The client asks for its 9 bytes again: they all count.
        d.start(ClientId(0), 9 * 8_000, 1_000_000, SimTime(12));
        let ends = d.reshare().expect("a download");
        let mut done = Vec::new();
        d.finish(ends, &mut done);
        assert_eq!(done, [ClientId(0)]);
        assert_eq!(
            d.record_as("dp", ServerRole::DistributionPoint, 10).bytes,
            10
        );
        // 72,000 in this interval, less the 2,010 owed: the rows add up to
        // 9 bytes, the 10th's bits being spread over both intervals (each
        // row counts whole bytes).
        assert_eq!(d.sample(SimTime(100), 0).bytes, 8);
        assert_eq!(d.owed_millibits, 0);
    }

    /// The equal shares come out as handing out `left / (flows left)` in
    /// turn would give them, for bandwidths that divide evenly, unevenly,
    /// and below one bps a flow; and the next completion is the least
    /// `ceil(remaining / rate)`.
    #[test]
    fn equal_shares_and_next_completion_match_the_plain_rules() {
        for (bandwidth, n) in [
            (1_000, 10),
            (1_003, 10),
            (1_000_000_007, 500),
            (7, 10),
            (10, 10),
        ] {
            let mut d = Dp::new(bandwidth, 1_000);
            for c in 0..n {
                let bytes = 1_000 + 7_919 * u64::from(c % 13);
                d.waiting
                    .push_back((ClientId(c), SimTime(0), bytes, u64::MAX));
            }
            d.admit(SimTime(0));
            let next = d.share();
            let flows = d.snapshot();
            let mut left = bandwidth;
            for (k, f) in flows.iter().enumerate() {
                let share = (left / (u64::from(n) - k as u64)).max(1);
                assert_eq!(f.3, share, "bandwidth {bandwidth}, {n} flows, flow {k}");
                left = left.saturating_sub(share);
            }
            let least = (flows.iter())
                .map(|f| f.1.div_ceil(f.3))
                .min()
                .expect("flows");
            assert_eq!(
                next,
                Some(SimDuration(least)),
                "the shortcut's next completion"
            );
        }
    }

    /// The plain rules, one record per flow: each flow sends at its own
    /// rate, finished flows leave in order, a cancelled one's place goes to
    /// the last, and rates are handed out `left / (flows left)` each (at
    /// least 1 bps, at most the link), in flow order when every link beats
    /// an equal share, else smallest link first.
    #[derive(Default)]
    struct Reference {
        flows: Vec<(ClientId, u64, u64, u64)>,
        sent: u128,
    }

    impl Reference {
        fn advance(&mut self, dt: u64) {
            for f in &mut self.flows {
                let sent = f.3.saturating_mul(dt).min(f.1);
                f.1 -= sent;
                self.sent += u128::from(sent);
            }
        }

        fn share(&mut self, capacity: u64) -> Option<u64> {
            let (mut left, n) = (capacity, self.flows.len() as u64);
            let mut order: Vec<usize> = (0..self.flows.len()).collect();
            if n > 0 && !self.flows.iter().all(|f| f.2 > (capacity / n).max(1)) {
                order.sort_by_key(|&i| (self.flows[i].2, i));
            }
            for (k, &i) in order.iter().enumerate() {
                let rate = self.flows[i].2.min(left / (n - k as u64)).max(1);
                self.flows[i].3 = rate;
                left = left.saturating_sub(rate);
            }
            self.flows.iter().map(|f| f.1.div_ceil(f.3)).min()
        }
    }

    /// Runs `ops` (kind, ms later, millibits, link) on a DP of `bandwidth`
    /// and on the plain rules side by side, comparing after each; returns
    /// which keepings the DP used (a bit each: linked, equal, shared).
    fn check_ops(bandwidth: u64, ops: &[(u8, u64, u64, u64)]) -> Result<u8, String> {
        check_ops_at(bandwidth, 30, ops)
    }

    /// [`check_ops`] on a DP with `connections` connections.
    fn check_ops_at(
        bandwidth: u64,
        connections: u32,
        ops: &[(u8, u64, u64, u64)],
    ) -> Result<u8, String> {
        let mut d = Dp::new(bandwidth, connections);
        let mut reference = Reference::default();
        let (mut now, mut next_client, mut keepings) = (0u64, 0u32, 0u8);
        let same = |what: &str, a: String, b: String| {
            if a == b {
                Ok(())
            } else {
                Err(format!("{what}: {a} != {b}"))
            }
        };
        for &(op, dt, millibits, cap) in ops {
            now += dt;
            d.advance(SimTime(now));
            reference.advance(dt);
            match op {
                0 if d.active_len() < connections as usize => {
                    let c = ClientId(next_client);
                    next_client += 1;
                    d.waiting.push_back((c, SimTime(now), millibits, cap));
                    d.admit(SimTime(now));
                    reference.flows.push((c, millibits, cap, 0));
                }
                1 if d.active_len() > 0 => {
                    let i = (millibits as usize) % d.active_len();
                    let c = d.snapshot()[i].0;
                    let left = d.cancel(c, SimTime(now)).expect("a flow");
                    let expected = reference.flows.swap_remove(i).1;
                    same("cancelled", format!("{left}"), format!("{expected}"))?;
                }
                _ => {
                    let mut done = Vec::new();
                    d.advance_and_take(SimTime(now), &mut done);
                    let expected: Vec<ClientId> = (reference.flows.iter())
                        .filter(|f| f.1 == 0)
                        .map(|f| f.0)
                        .collect();
                    reference.flows.retain(|f| f.1 != 0);
                    same("finished", format!("{done:?}"), format!("{expected:?}"))?;
                }
            }
            let next = d.share().map(|t| t.as_ms());
            keepings |= match d.active {
                Active::Linked(_) => 1,
                Active::Shares(ref s) if s.by_link() => 4,
                Active::Shares(_) => 2,
            };
            same(
                "next",
                format!("{next:?}"),
                format!("{:?}", reference.share(bandwidth)),
            )?;
            // The hint names a client the next tick finishes.
            let flows = d.snapshot();
            let hinted = d.next_done().map(|c| {
                let f = flows.iter().find(|f| f.0 == c).expect("a flow");
                f.1.div_ceil(f.3)
            });
            same("hint", format!("{hinted:?}"), format!("{next:?}"))?;
            same(
                "sent",
                format!("{}", d.total_millibits),
                format!("{}", reference.sent),
            )?;
            same(
                "flows",
                format!("{flows:?}"),
                format!("{:?}", reference.flows),
            )?;
            let links: u128 = reference.flows.iter().map(|f| u128::from(f.2)).sum();
            same("links", format!("{}", d.links), format!("{links}"))?;
        }
        Ok(keepings)
    }

    proptest::proptest! {
        /// Arrivals, completions and cancellations in any order leave the
        /// DP's flows, its millibits sent and its next completion exactly as
        /// the plain rules do, with links above and below the equal share,
        /// and adding up to more or less than the bandwidth (so the flows
        /// move between the linked, the equal and the shared keeping).
        #[test]
        fn flows_follow_the_plain_rules(
            bandwidth in 1u64..5_000,
            ops in proptest::collection::vec((0u8..3, 0u64..40, 1u64..200_000, 1u64..400), 1..120),
        ) {
            if let Err(e) = check_ops(bandwidth, &ops) {
                return Err(proptest::test_runner::TestCaseError::fail(e));
            }
        }
    }

    /// The seeded mix the property test draws from reaches every keeping.
    #[test]
    fn every_keeping_is_checked() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut seen = 0;
        for _ in 0..300 {
            let bandwidth = rng.random_range(1..5_000);
            let ops: Vec<_> = (0..rng.random_range(1..120))
                .map(|_| {
                    (
                        rng.random_range(0..3),
                        rng.random_range(0..40),
                        rng.random_range(1..200_000),
                        rng.random_range(1..400),
                    )
                })
                .collect();
            seen |= check_ops(bandwidth, &ops).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(seen, 0b111, "linked, equal and shared all ran");
    }

    /// Thousands of flows at once, on four link speeds (so the groups are
    /// big and the trees deep, and they are repacked many times): the
    /// same flows, bits and completions as the plain rules.
    #[test]
    fn many_flows_follow_the_plain_rules() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut seen = 0;
        for bandwidth in [50_000, 300_000, 3_000_000] {
            // Starts outnumber the rest two to one until 1,500 run, then
            // arrivals, cancels and completions come evenly.
            let ops: Vec<_> = (0..4_000)
                .map(|k| {
                    let op = if k < 2_000 && rng.random_bool(0.67) {
                        0
                    } else {
                        rng.random_range(0..3)
                    };
                    let cap = [100, 250, 1_000, 5_000][rng.random_range(0..4)];
                    (
                        op,
                        rng.random_range(0..3),
                        rng.random_range(1..20_000_000),
                        cap,
                    )
                })
                .collect();
            seen |= check_ops_at(bandwidth, 5_000, &ops).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(seen & 0b110, 0b110, "the equal and the shared keeping ran");
    }

    /// The waiting queue keeps arrival order through cancels from its
    /// middle and clients that rejoin; gaps are skipped and not counted.
    #[test]
    fn waiting_downloads_leave_and_rejoin_in_order() {
        let q = |c: u32| (ClientId(c), SimTime(u64::from(c)), u64::from(c) * 10, 1);
        let mut w = Waiting::default();
        for c in 0..5 {
            w.push_back(q(c));
        }
        assert_eq!(w.remove(ClientId(2)), Some(q(2)));
        assert_eq!(w.remove(ClientId(2)), None, "gone");
        assert_eq!(w.remove(ClientId(9)), None, "never queued");
        w.push_back(q(2));
        assert_eq!(w.len(), 5);
        assert_eq!(w.pop_front(), Some(q(0)));
        assert_eq!(w.remove(ClientId(1)), Some(q(1)));
        assert_eq!(w.remove(ClientId(3)), Some(q(3)));
        assert_eq!(w.len(), 2);
        assert_eq!(w.pop_front(), Some(q(4)), "the gaps are skipped");
        w.push_back(q(7));
        let rest: Vec<u32> = w.drain().iter().map(|x| x.0.0).collect();
        assert_eq!(rest, [2, 7]);
        assert!(w.is_empty() && w.pop_front().is_none());
    }

    #[test]
    fn fair_share_with_caps() {
        let mut d = Dp::new(100, 10);
        for (c, cap) in [(0, 10), (1, 50), (2, 1000)] {
            d.waiting.push_back((ClientId(c), SimTime(0), 1_000, cap));
        }
        d.admit(SimTime(0));
        d.share();
        let rates: Vec<u64> = d.snapshot().iter().map(|f| f.3).collect();
        // 10 to the capped one, then 45 each to the others.
        assert_eq!(rates, vec![10, 45, 45]);
    }
}
