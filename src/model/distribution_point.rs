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
use super::ids::{ClientId, DpId};
use super::record::{LoadCounts, ms_histogram};
use super::station::Request;
use super::world::World;
use crate::engine::{Scheduler, SimDuration, SimTime, TimerId};

/// One active download.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flow {
    pub(crate) client: ClientId,
    /// Millibits still to send (a deployment is at most 1 PB, 8·10^18
    /// millibits, so this fits; see the scenario's validation).
    pub(crate) remaining: u64,
    /// The client's link, bps.
    pub(crate) cap: u64,
    /// Current rate, bps.
    pub(crate) rate: u64,
}

/// A distribution point's live state.
pub(crate) struct Dp {
    pub(crate) bandwidth: u64,
    pub(crate) max_connections: u32,
    pub(crate) flows: Vec<Flow>,
    pub(crate) waiting: VecDeque<(ClientId, SimTime, u64, u64)>,
    last: SimTime,
    timer: Option<TimerId>,
    pub(crate) down: bool,
    pub(crate) slowdown: f64,
    pub(crate) interval: LoadCounts,
    pub(crate) total: LoadCounts,
    pub(crate) interval_millibits: u128,
    pub(crate) total_millibits: u128,
    pub(crate) wait: Histogram<u64>,
    pub(crate) peak_queue: u32,
    pub(crate) peak_busy: u32,
    scratch: Vec<(u64, usize)>,
}

impl Dp {
    pub(crate) fn new(bandwidth: u64, max_connections: u32) -> Self {
        Dp {
            bandwidth,
            max_connections,
            flows: Vec::new(),
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

    /// Sends what every flow sent since the last change.
    pub(crate) fn advance(&mut self, now: SimTime) {
        self.advance_and_take(now, None);
    }

    /// [`advance`](Self::advance), and, given `done`, takes the flows that
    /// have sent everything off the DP (their clients into `done`, in flow
    /// order): one pass over the flows instead of two.
    fn advance_and_take(&mut self, now: SimTime, done: Option<&mut Vec<ClientId>>) {
        let dt = now.since(self.last).as_ms();
        self.last = now;
        let mut total = 0u128;
        let mut send = |f: &mut Flow| {
            // A product that saturates is above what is left anyway.
            let sent = f.rate.saturating_mul(dt).min(f.remaining);
            f.remaining -= sent;
            total += u128::from(sent);
        };
        match done {
            None if dt == 0 => {}
            None => self.flows.iter_mut().for_each(send),
            Some(done) => self.flows.retain_mut(|f| {
                send(f);
                if f.remaining == 0 {
                    done.push(f.client);
                }
                f.remaining != 0
            }),
        }
        self.interval_millibits += total;
        self.total_millibits += total;
    }

    /// Max-min fair rates: the smallest links are served in full while they
    /// are below an equal share of what is left. Returns when the next flow
    /// finishes at these rates.
    fn share(&mut self) -> Option<SimDuration> {
        let capacity = (self.bandwidth as f64 / self.slowdown) as u64;
        let n = self.flows.len() as u64;
        if n == 0 {
            return None;
        }
        // The common case: every link is faster than an equal share (which
        // is at most one bps above `equal`), so every flow gets an equal
        // share, as the general rule below would give. O(n), no sort.
        let equal = (capacity / n).max(1);
        if self.flows.iter().all(|f| f.cap > equal) {
            // Handing out `left / (flows left)` in turn, at least 1 bps,
            // gives the first `n - r` flows `q = capacity / n` and the last
            // `r` flows `q + 1` (`r = capacity % n`); with q = 0 every flow
            // gets its minimum of 1. The same shares without a division per
            // flow.
            let (q, r) = (capacity / n, (capacity % n) as usize);
            let first = self.flows.len() - r;
            let (head, tail) = self.flows.split_at_mut(first);
            // At one rate the flow with the least left finishes first.
            let give = |part: &mut [Flow], rate: u64| {
                let mut least = u64::MAX;
                for f in part.iter_mut() {
                    f.rate = rate;
                    least = least.min(f.remaining);
                }
                (!part.is_empty()).then(|| least.div_ceil(rate))
            };
            let low = give(head, q.max(1));
            let high = give(tail, q + 1);
            return low.into_iter().chain(high).min().map(SimDuration);
        }
        self.scratch.clear();
        self.scratch
            .extend(self.flows.iter().enumerate().map(|(i, f)| (f.cap, i)));
        self.scratch.sort_unstable();
        let mut left = capacity;
        let n = self.scratch.len() as u64;
        for (k, &(cap, i)) in self.scratch.iter().enumerate() {
            let share = left / (n - k as u64);
            let rate = cap.min(share).max(1);
            self.flows[i].rate = rate;
            left = left.saturating_sub(rate);
        }
        self.next_completion()
    }

    fn admit(&mut self, now: SimTime) {
        while !self.down && (self.flows.len() as u32) < self.max_connections {
            let Some((client, arrived, remaining, cap)) = self.waiting.pop_front() else {
                break;
            };
            self.wait.saturating_record(now.since(arrived).as_ms());
            self.flows.push(Flow {
                client,
                remaining,
                cap,
                rate: 0,
            });
        }
        self.peak_busy = self.peak_busy.max(self.flows.len() as u32);
        assert!(
            self.flows.len() as u32 <= self.max_connections,
            "law 8: more downloads than connections"
        );
    }

    /// When the next flow finishes at the current rates.
    fn next_completion(&self) -> Option<SimDuration> {
        // The least `ceil(remaining / rate)`. A flow with
        // `remaining > best · rate` ends later than `best`: one
        // multiplication rules it out, and only the few flows that improve
        // on the running best pay for a division.
        let mut best: Option<u64> = None;
        for f in &self.flows {
            if best.is_some_and(|b| u128::from(f.remaining) > u128::from(b) * u128::from(f.rate)) {
                continue;
            }
            let ends = f.remaining.div_ceil(f.rate);
            best = Some(best.map_or(ends, |b| b.min(ends)));
        }
        best.map(SimDuration)
    }
}

impl World<'_> {
    /// Re-shares the bandwidth and moves the DP's one timer.
    fn dp_reschedule(&mut self, dp: DpId, sched: &mut Scheduler<'_, Event>) {
        let d = &mut self.dps[dp.index()];
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
        let d = &mut self.dps[dp.index()];
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
        let d = &mut self.dps[dp.index()];
        d.timer = None;
        let mut done = std::mem::take(&mut self.scratch_clients);
        done.clear();
        d.advance_and_take(now, Some(&mut done));
        d.interval.served[Request::Download as usize] += done.len() as u64;
        d.total.served[Request::Download as usize] += done.len() as u64;
        d.admit(now);
        self.dp_reschedule(dp, sched);
        for &c in &done {
            self.download_finished(c, sched);
        }
        self.scratch_clients = done;
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
        let d = &mut self.dps[dp.index()];
        d.advance(now);
        let remaining = if let Some(i) = d.flows.iter().position(|f| f.client == c) {
            let f = d.flows.swap_remove(i);
            f.remaining
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
        let d = &mut self.dps[dp.index()];
        d.advance(now);
        let mut failed: Vec<(ClientId, u64)> = d
            .flows
            .drain(..)
            .map(|f| (f.client, f.remaining.div_ceil(8_000)))
            .collect();
        failed.extend(d.waiting.drain(..).map(|w| (w.0, w.2.div_ceil(8_000))));
        d.interval.rejected[Request::Download as usize] += failed.len() as u64;
        d.total.rejected[Request::Download as usize] += failed.len() as u64;
        self.dp_reschedule(dp, sched);
        failed
    }

    /// A slowdown starts or ends: the DP's bandwidth changes from now.
    pub(crate) fn dp_set_slowdown(
        &mut self,
        dp: DpId,
        factor: f64,
        sched: &mut Scheduler<'_, Event>,
    ) {
        let d = &mut self.dps[dp.index()];
        d.advance(sched.now());
        d.slowdown = factor;
        self.dp_reschedule(dp, sched);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            for (k, f) in d.flows.iter().enumerate() {
                let share = (left / (u64::from(n) - k as u64)).max(1);
                assert_eq!(f.rate, share, "bandwidth {bandwidth}, {n} flows, flow {k}");
                left = left.saturating_sub(share);
            }
            let least = d
                .flows
                .iter()
                .map(|f| f.remaining.div_ceil(f.rate))
                .min()
                .expect("flows");
            assert_eq!(d.next_completion(), Some(SimDuration(least)));
            assert_eq!(
                next,
                Some(SimDuration(least)),
                "the shortcut's next completion"
            );
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
        let rates: Vec<u64> = d.flows.iter().map(|f| f.rate).collect();
        // 10 to the capped one, then 45 each to the others.
        assert_eq!(rates, vec![10, 45, 45]);
    }
}
