//! Distribution points: bandwidth shared fairly among active downloads.
//!
//! Owns the processor-sharing arithmetic: each active download gets a
//! max-min fair share of the DP's bandwidth, capped by its client's link;
//! at most `max_connections` downloads run at once and the rest wait in
//! order. Progress is integer millibits (1 bps for 1 ms is 1 millibit), so
//! `k` downloads of `S` bytes on `B` bps finish at exactly `k·S·8/B` when
//! the links are fast enough. One timer per DP: its next completion.

use std::collections::VecDeque;

use hdrhistogram::Histogram;

use super::events::Event;
use super::record::{LoadCounts, LoadRow, ServerRecord, ServerRole, ms_histogram};
use super::servers::Request;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, TimerId};
use crate::estate::{ClientId, DpId, DpSpec};

/// The active downloads, one array per field, in the order they started: a
/// pass that sends reads 8 bytes a flow, and one that checks the links
/// another 8 (at 500 downloads a DP's pass stays in the nearest cache).
#[derive(Default)]
pub(crate) struct Flows {
    client: Vec<ClientId>,
    /// Millibits still to send (a deployment is at most 1 PB, 8·10^18
    /// millibits, so this fits; see the scenario's validation).
    remaining: Vec<u64>,
    /// The client's link, bps.
    cap: Vec<u64>,
    /// Each flow's rate, bps, while [`Rates::PerFlow`] holds.
    rate: Vec<u64>,
}

impl Flows {
    pub(crate) fn len(&self) -> usize {
        self.client.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.client.is_empty()
    }

    fn push(&mut self, client: ClientId, remaining: u64, cap: u64) {
        self.client.push(client);
        self.remaining.push(remaining);
        self.cap.push(cap);
    }

    /// Removes flow `i`, the last flow taking its place; returns what it had
    /// left to send.
    fn swap_remove(&mut self, i: usize) -> u64 {
        self.client.swap_remove(i);
        self.cap.swap_remove(i);
        self.remaining.swap_remove(i)
    }

    /// Empties the flows, returning each client with what it had left.
    fn drain(&mut self) -> impl Iterator<Item = (ClientId, u64)> + '_ {
        self.cap.clear();
        self.rate.clear();
        self.client.drain(..).zip(self.remaining.drain(..))
    }

    /// Takes off the flows with nothing left to send (their clients into
    /// `done`, in flow order); the others keep their order.
    fn take_finished(&mut self, done: &mut Vec<ClientId>) {
        let Some(first) = self.remaining.iter().position(|&r| r == 0) else {
            return;
        };
        let mut kept = first;
        for i in first..self.remaining.len() {
            if self.remaining[i] == 0 {
                done.push(self.client[i]);
            } else {
                self.remaining[kept] = self.remaining[i];
                self.client[kept] = self.client[i];
                self.cap[kept] = self.cap[i];
                kept += 1;
            }
        }
        self.remaining.truncate(kept);
        self.client.truncate(kept);
        self.cap.truncate(kept);
    }
}

/// The rates the last [`Dp::share`] gave the flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Rates {
    /// Every flow an equal share: those before `first` at `low`, the others
    /// at `high` (one bps more), without a rate stored per flow.
    Equal { low: u64, high: u64, first: usize },
    /// Each flow at its own rate, in [`Flows::rate`].
    PerFlow,
}

impl Rates {
    /// The rates of no flows.
    const IDLE: Rates = Rates::Equal {
        low: 0,
        high: 0,
        first: 0,
    };
}

/// Sends `rate · dt` (at most what is left) on each flow of `remaining`;
/// returns the millibits sent.
fn send_at(remaining: &mut [u64], rate: u64, dt: u64) -> u128 {
    let step = rate.saturating_mul(dt);
    if step <= u64::MAX / (remaining.len() as u64).max(1) {
        // The sum fits: one 64-bit total, which the compiler vectorises.
        let mut total = 0u64;
        for r in remaining.iter_mut() {
            let sent = step.min(*r);
            *r -= sent;
            total += sent;
        }
        return u128::from(total);
    }
    let mut total = 0u128;
    for r in remaining.iter_mut() {
        // A product that saturates is above what is left anyway.
        let sent = step.min(*r);
        *r -= sent;
        total += u128::from(sent);
    }
    total
}

/// A distribution point's live state.
pub(crate) struct Dp {
    bandwidth: u64,
    max_connections: u32,
    flows: Flows,
    rates: Rates,
    /// The client whose download the next tick finishes (the first, if
    /// several), for a hint.
    next_done: Option<ClientId>,
    waiting: VecDeque<(ClientId, SimTime, u64, u64)>,
    last: SimTime,
    timer: Option<TimerId>,
    down: bool,
    slowdown: f64,
    interval: LoadCounts,
    total: LoadCounts,
    interval_millibits: u128,
    total_millibits: u128,
    wait: Histogram<u64>,
    peak_queue: u32,
    peak_busy: u32,
    scratch: Vec<(u64, usize)>,
}

impl Dp {
    pub(crate) fn new(bandwidth: u64, max_connections: u32) -> Self {
        Dp {
            bandwidth,
            max_connections,
            flows: Flows::default(),
            next_done: None,
            rates: Rates::IDLE,
            waiting: VecDeque::new(),
            last: SimTime::ZERO,
            timer: None,
            down: false,
            slowdown: 1.0,
            interval: LoadCounts::default(),
            total: LoadCounts::default(),
            interval_millibits: 0,
            total_millibits: 0,
            wait: ms_histogram(),
            peak_queue: 0,
            peak_busy: 0,
            scratch: Vec::new(),
        }
    }

    /// The rate of flow `i`, bps, as the last [`share`](Self::share) set it.
    fn rate(&self, i: usize) -> u64 {
        match self.rates {
            Rates::Equal { low, high, first } => {
                if i < first {
                    low
                } else {
                    high
                }
            }
            Rates::PerFlow => self.flows.rate[i],
        }
    }

    /// Sends what every flow sent since the last change.
    fn advance(&mut self, now: SimTime) {
        let dt = now.since(self.last).as_ms();
        self.last = now;
        if dt == 0 {
            return;
        }
        // The flows are those the last `share` gave rates to: every change
        // to them is followed by one.
        let remaining = &mut self.flows.remaining;
        let total = match self.rates {
            Rates::Equal { low, high, first } => {
                debug_assert!(first <= remaining.len(), "rates for other flows");
                let split = first.min(remaining.len());
                let (head, tail) = remaining.split_at_mut(split);
                send_at(head, low, dt) + send_at(tail, high, dt)
            }
            Rates::PerFlow => (remaining.iter_mut().zip(&self.flows.rate))
                .map(|(r, &rate)| send_at(std::slice::from_mut(r), rate, dt))
                .sum(),
        };
        self.interval_millibits += total;
        self.total_millibits += total;
    }

    /// [`advance`](Self::advance), then takes the flows that have sent
    /// everything off the DP (their clients into `done`, in flow order).
    fn advance_and_take(&mut self, now: SimTime, done: &mut Vec<ClientId>) {
        self.advance(now);
        self.flows.take_finished(done);
    }

    /// Max-min fair rates: the smallest links are served in full while they
    /// are below an equal share of what is left. Returns when the next flow
    /// finishes at these rates.
    fn share(&mut self) -> Option<SimDuration> {
        let capacity = (self.bandwidth as f64 / self.slowdown) as u64;
        let n = self.flows.len() as u64;
        if n == 0 {
            self.rates = Rates::IDLE;
            self.next_done = None;
            return None;
        }
        // The common case: every link is faster than an equal share (which
        // is at most one bps above `equal`), so every flow gets an equal
        // share, handed out in flow order (the general rule below hands the
        // same shares out smallest link first). O(n), no sort.
        let equal = (capacity / n).max(1);
        if self.flows.cap.iter().all(|&cap| cap > equal) {
            // Handing out `left / (flows left)` in turn, at least 1 bps,
            // gives the first `n - r` flows `q = capacity / n` and the last
            // `r` flows `q + 1` (`r = capacity % n`); with q = 0 every flow
            // gets its minimum of 1. The same shares without a division per
            // flow, and without writing them down.
            let (q, r) = (capacity / n, (capacity % n) as usize);
            let first = self.flows.len() - r;
            let (low, high) = (q.max(1), q + 1);
            self.rates = Rates::Equal { low, high, first };
            // At one rate the flow with the least left finishes first (the
            // first such flow, for the hint).
            let (head, tail) = self.flows.remaining.split_at(first);
            let soonest = |part: &[u64], offset: usize, rate: u64| {
                (part.iter().enumerate())
                    .min_by_key(|&(_, &r)| r)
                    .map(|(i, r)| (r.div_ceil(rate), offset + i))
            };
            let next = [soonest(head, 0, low), soonest(tail, first, high)]
                .into_iter()
                .flatten()
                .min_by_key(|&(ends, _)| ends);
            return self.finishing(next);
        }
        self.scratch.clear();
        self.scratch
            .extend(self.flows.cap.iter().enumerate().map(|(i, &cap)| (cap, i)));
        self.scratch.sort_unstable();
        self.flows.rate.resize(self.flows.len(), 0);
        let mut left = capacity;
        for (k, &(cap, i)) in self.scratch.iter().enumerate() {
            let share = left / (n - k as u64);
            let rate = cap.min(share).max(1);
            self.flows.rate[i] = rate;
            left = left.saturating_sub(rate);
        }
        self.rates = Rates::PerFlow;
        let next = self.next_completion();
        self.finishing(next)
    }

    /// Notes whose download finishes next (`(in how long, flow)`, from
    /// [`share`](Self::share)) and returns when.
    fn finishing(&mut self, next: Option<(u64, usize)>) -> Option<SimDuration> {
        self.next_done = next.map(|(_, i)| self.flows.client[i]);
        next.map(|(ends, _)| SimDuration(ends))
    }

    fn admit(&mut self, now: SimTime) {
        while !self.down && (self.flows.len() as u32) < self.max_connections {
            let Some((client, arrived, remaining, cap)) = self.waiting.pop_front() else {
                break;
            };
            self.wait.saturating_record(now.since(arrived).as_ms());
            self.flows.push(client, remaining, cap);
        }
        self.peak_busy = self.peak_busy.max(self.flows.len() as u32);
        assert!(
            self.flows.len() as u32 <= self.max_connections,
            "law 8: more downloads than connections"
        );
    }

    /// When the next flow finishes at the current rates, and which (the
    /// first, if several).
    fn next_completion(&self) -> Option<(u64, usize)> {
        // The least `ceil(remaining / rate)`. A flow with
        // `remaining > best · rate` ends later than `best`: one
        // multiplication rules it out, and only the few flows that improve
        // on the running best pay for a division.
        let mut best: Option<(u64, usize)> = None;
        for (i, &remaining) in self.flows.remaining.iter().enumerate() {
            let rate = self.rate(i);
            if best.is_some_and(|(b, _)| u128::from(remaining) > u128::from(b) * u128::from(rate)) {
                continue;
            }
            let ends = remaining.div_ceil(rate);
            if best.is_none_or(|(b, _)| ends < b) {
                best = Some((ends, i));
            }
        }
        best
    }
}

impl Dp {
    /// The client whose download its next tick finishes, for a hint.
    #[inline]
    pub(crate) fn next_done(&self) -> Option<ClientId> {
        self.next_done
    }

    /// Its load row for the interval that ends now (as server `server`):
    /// the bytes sent up to now belong to this interval.
    pub(crate) fn sample(&mut self, now: SimTime, server: usize) -> LoadRow {
        self.advance(now);
        LoadRow {
            time: now,
            server,
            counts: std::mem::take(&mut self.interval),
            queue: self.waiting.len() as u32,
            busy: self.flows.len() as u32,
            bytes: (std::mem::take(&mut self.interval_millibits) / 8_000) as u64,
            down: self.down,
        }
    }

    /// Its figures over the run.
    pub(crate) fn record(&self, spec: &DpSpec) -> ServerRecord {
        ServerRecord {
            name: spec.name.clone(),
            role: ServerRole::DistributionPoint,
            capacity: spec.max_connections,
            queue_limit: None,
            total: self.total,
            peak_queue: self.peak_queue,
            peak_busy: self.peak_busy,
            wait: self.wait.clone(),
            bytes: (self.total_millibits / 8_000) as u64,
        }
    }
}

impl World<'_> {
    /// Re-shares the bandwidth and moves the DP's one timer.
    fn dp_reschedule(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let d = self.servers.dp_mut(dp);
        let next = d.share();
        if let Some(timer) = d.timer.take() {
            sched.cancel(timer);
        }
        if let Some(next) = next {
            d.timer = Some(sched.after(next, Event::DpTick(dp)));
        }
    }

    /// A client asks its DP for `bytes`; false if the DP is down.
    pub(crate) fn dp_request(
        &mut self,
        c: ClientId,
        bytes: u64,
        sched: &mut Scheduler<'_, Event>,
    ) -> bool {
        let now = sched.now();
        let cohort = self.cohort(c);
        let dp = cohort.dp;
        let d = self.servers.dp_mut(dp);
        d.interval.arrived[Request::Download as usize] += 1;
        d.total.arrived[Request::Download as usize] += 1;
        if d.down {
            d.interval.rejected[Request::Download as usize] += 1;
            d.total.rejected[Request::Download as usize] += 1;
            return false;
        }
        d.advance(now);
        d.waiting
            .push_back((c, now, bytes * 8_000, cohort.link_bps));
        d.admit(now);
        d.peak_queue = d.peak_queue.max(d.waiting.len() as u32);
        self.dp_reschedule(dp, sched);
        true
    }

    /// The DP's next completion: finished downloads end, waiting ones start.
    pub(crate) fn dp_tick(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let now = sched.now();
        let mut done = std::mem::take(&mut self.servers.scratch_clients);
        done.clear();
        let d = self.servers.dp_mut(dp);
        d.timer = None;
        d.advance_and_take(now, &mut done);
        d.interval.served[Request::Download as usize] += done.len() as u64;
        d.total.served[Request::Download as usize] += done.len() as u64;
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
        let dp = self.cohort(c).dp;
        let d = self.servers.dp_mut(dp);
        d.advance(now);
        let remaining = if let Some(i) = d.flows.client.iter().position(|&f| f == c) {
            d.flows.swap_remove(i)
        } else {
            let i = d.waiting.iter().position(|w| w.0 == c)?;
            d.waiting.remove(i).expect("found").2
        };
        d.admit(now);
        self.dp_reschedule(dp, sched);
        Some(remaining.div_ceil(8_000))
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
        let mut failed: Vec<(ClientId, u64)> = d
            .flows
            .drain()
            .map(|(client, remaining)| (client, remaining.div_ceil(8_000)))
            .collect();
        failed.extend(d.waiting.drain(..).map(|w| (w.0, w.2.div_ceil(8_000))));
        d.interval.rejected[Request::Download as usize] += failed.len() as u64;
        d.total.rejected[Request::Download as usize] += failed.len() as u64;
        self.dp_reschedule(dp, sched);
        failed
    }

    /// A slowdown starts: the DP's bandwidth shrinks by `factor` from now.
    pub(crate) fn dp_set_slowdown(
        &mut self,
        dp: DpId,
        factor: f64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let d = self.servers.dp_mut(dp);
        d.advance(sched.now());
        d.slowdown = factor;
        self.dp_reschedule(dp, sched);
    }

    /// A fault ends: the DP is up again at full bandwidth.
    pub(crate) fn dp_restore(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        self.servers.dp_mut(dp).down = false;
        self.dp_set_slowdown(dp, 1.0, sched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
                    assert!(w.dp_request(c, 100_000_000, sched));
                }
            });
            // k × 100 MB × 8 bits / 1 Gbps = k × 0.8 s, however many connections.
            let done = SimTime(u64::from(k) * 800);
            sim.run_until(SimTime(done.as_ms() - 1));
            let dp = sim.model().servers.dp(DpId(0));
            assert!(!dp.flows.is_empty() || !dp.waiting.is_empty());
            sim.run_until(done);
            let dp = sim.model().servers.dp(DpId(0));
            assert!(
                dp.flows.is_empty() && dp.waiting.is_empty(),
                "k={k}: all done at k·S/B"
            );
            assert_eq!(dp.total.served[Request::Download as usize], u64::from(k));
            assert_eq!(dp.total_millibits, u128::from(k) * 100_000_000 * 8_000);
            assert!(dp.peak_busy <= connections);
        }
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
            let mut left = bandwidth;
            for k in 0..d.flows.len() {
                let share = (left / (u64::from(n) - k as u64)).max(1);
                assert_eq!(
                    d.rate(k),
                    share,
                    "bandwidth {bandwidth}, {n} flows, flow {k}"
                );
                left = left.saturating_sub(share);
            }
            let least = (d.flows.remaining.iter().enumerate())
                .map(|(k, r)| r.div_ceil(d.rate(k)))
                .min()
                .expect("flows");
            assert_eq!(d.next_completion().map(|(ends, _)| ends), Some(least));
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

    proptest::proptest! {
        /// Arrivals, completions and cancellations in any order leave the
        /// DP's flows, its millibits sent and its next completion exactly as
        /// the plain rules do, with links above and below the equal share.
        #[test]
        fn flows_follow_the_plain_rules(
            bandwidth in 1u64..5_000,
            ops in proptest::collection::vec((0u8..3, 0u64..40, 1u64..200_000, 1u64..400), 1..120),
        ) {
            let mut d = Dp::new(bandwidth, 30);
            let mut reference = Reference::default();
            let (mut now, mut next_client) = (0u64, 0u32);
            for (op, dt, millibits, cap) in ops {
                now += dt;
                d.advance(SimTime(now));
                reference.advance(dt);
                match op {
                    0 if d.flows.len() < 30 => {
                        let c = ClientId(next_client);
                        next_client += 1;
                        d.waiting.push_back((c, SimTime(now), millibits, cap));
                        d.admit(SimTime(now));
                        reference.flows.push((c, millibits, cap, 0));
                    }
                    1 if !d.flows.is_empty() => {
                        let i = (millibits as usize) % d.flows.len();
                        proptest::prop_assert_eq!(d.flows.swap_remove(i), reference.flows.swap_remove(i).1);
                    }
                    _ => {
                        let mut done = Vec::new();
                        d.advance_and_take(SimTime(now), &mut done);
                        let expected: Vec<ClientId> = (reference.flows.iter())
                            .filter(|f| f.1 == 0)
                            .map(|f| f.0)
                            .collect();
                        reference.flows.retain(|f| f.1 != 0);
                        proptest::prop_assert_eq!(done, expected);
                    }
                }
                let next = d.share().map(|t| t.as_ms());
                proptest::prop_assert_eq!(next, reference.share(bandwidth));
                // The hint names a client the next tick finishes.
                let hinted = d.next_done.map(|c| {
                    let i = d.flows.client.iter().position(|&f| f == c).expect("a flow");
                    d.flows.remaining[i].div_ceil(d.rate(i))
                });
                proptest::prop_assert_eq!(hinted, next);
                proptest::prop_assert_eq!(d.total_millibits, reference.sent);
                let flows: Vec<(ClientId, u64, u64, u64)> = (0..d.flows.len())
                    .map(|i| (d.flows.client[i], d.flows.remaining[i], d.flows.cap[i], d.rate(i)))
                    .collect();
                proptest::prop_assert_eq!(flows, reference.flows.clone());
            }
        }
    }

    #[test]
    fn fair_share_with_caps() {
        let mut d = Dp::new(100, 10);
        for (c, cap) in [(0, 10), (1, 50), (2, 1000)] {
            d.waiting.push_back((ClientId(c), SimTime(0), 1_000, cap));
        }
        d.admit(SimTime(0));
        d.share();
        let rates: Vec<u64> = (0..d.flows.len()).map(|k| d.rate(k)).collect();
        // 10 to the capped one, then 45 each to the others.
        assert_eq!(rates, vec![10, 45, 45]);
    }
}
