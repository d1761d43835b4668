//! Quiet poll chains: the hourly polls of a client that are counted, not
//! simulated.
//!
//! A poll from a client that already has everything its site published
//! brings an empty answer. At a management point whose every service takes
//! no time (and that no fault touches), such a poll cannot meet a queue
//! either: a worker takes it and is free again within the poll's own
//! event. All it leaves behind is counters: one request arrived and served
//! without waiting, one policy request answered. So once a poll finds its
//! client in that state, the client's poll timer is left unarmed, and its
//! polls from then on are counted here by arithmetic, per management point
//! and polling interval, until something could make one of them matter:
//! the site publishes, the client is switched off, or the run ends. Then
//! its timer is armed again for its next poll, at the same place in the
//! event order it would have had.
//!
//! The counts land in the same station counters, in the same timeline rows,
//! as the simulated polls would have: a row holds `members × S / I` polls
//! of the clients quiet through it (S the sample interval, a multiple of
//! the polling interval I), corrected by each client that turned quiet or
//! stopped being quiet within it.

use super::station::{Settled, Stations};
use crate::engine::{EventKey, Scheduler, SimDuration, SimTime};
use crate::estate::{ClientId, Dist, Estate, ServerRef};
use crate::model::events::Event;
use crate::model::world::World;

/// The clients of one management point and one polling interval whose
/// polls are counted.
#[derive(Clone, Debug)]
struct Group {
    station: usize,
    interval: u64,
    /// Clients quiet now.
    members: u64,
    /// Polls of this row not covered by `members × S / I`: those of
    /// clients that stopped being quiet in it (added), less those made
    /// before a client turned quiet in it (taken off).
    credit: i64,
}

/// Every quiet poll chain of a run.
#[derive(Debug, Default)]
pub(crate) struct QuietPolls {
    groups: Vec<Group>,
    /// Per station: whether any group counts its polls.
    station_quiet: Vec<bool>,
    /// Per cohort: the group of its clients, if their polls may be quiet.
    cohort_group: Vec<Option<u16>>,
    sample_interval: u64,
    /// The time of the last row taken (the row being filled starts just
    /// after it); none before the first.
    last_sample: Option<SimTime>,
}

/// Polls of a chain on `phase` every `interval` ms in the times `(from,
/// upto]`.
fn polls_in(phase: u64, interval: u64, from: SimTime, upto: SimTime) -> u64 {
    let upto_count = |t: SimTime| {
        let t = t.as_ms() as i128 - phase as i128;
        t.div_euclid(interval as i128)
    };
    (upto_count(upto) - upto_count(from)).max(0) as u64
}

impl QuietPolls {
    /// For cohorts polling the stations `cohort_station` names (`None`:
    /// never quiet) every `cohort_interval`, where `eligible(station)`
    /// says the station's every service takes no time and no fault
    /// touches it. Nothing is quiet unless `enabled`.
    pub(crate) fn new(
        enabled: bool,
        sample_interval: SimDuration,
        stations: usize,
        cohorts: impl Iterator<Item = (Option<usize>, SimDuration)>,
        eligible: impl Fn(usize) -> bool,
    ) -> Self {
        let mut groups: Vec<Group> = Vec::new();
        let s = sample_interval.as_ms();
        let cohort_group = cohorts
            .map(|(station, interval)| {
                let station = station.filter(|_| enabled)?;
                let i = interval.as_ms();
                // A row must hold a whole number of polls of every chain.
                if i == 0 || s == 0 || s % i != 0 || !eligible(station) {
                    return None;
                }
                let found = groups
                    .iter()
                    .position(|g| g.station == station && g.interval == i);
                let g = found.unwrap_or_else(|| {
                    groups.push(Group {
                        station,
                        interval: i,
                        members: 0,
                        credit: 0,
                    });
                    groups.len() - 1
                });
                Some(g as u16)
            })
            .collect();
        let mut station_quiet = vec![false; stations];
        for g in &groups {
            station_quiet[g.station] = true;
        }
        QuietPolls {
            groups,
            station_quiet,
            cohort_group,
            sample_interval: s,
            last_sample: None,
        }
    }

    /// Whether polls to `station` may be counted now (read before
    /// anything of the client).
    #[inline]
    pub(crate) fn may_quiet(&self, station: usize) -> bool {
        self.last_sample.is_some() && self.station_quiet.get(station) == Some(&true)
    }

    /// The group of a cohort's clients, if their polls may be counted.
    #[inline]
    pub(crate) fn group_of(&self, cohort: usize) -> Option<u16> {
        self.cohort_group[cohort]
    }

    /// A client of group `g` whose poll on `phase` was just simulated at
    /// `now` turns quiet: its later polls are counted.
    pub(crate) fn enter(&mut self, g: u16, phase: u64, now: SimTime) {
        let from = self.last_sample.expect("quiet only after the first row");
        let group = &mut self.groups[usize::from(g)];
        group.members += 1;
        // The row counts its polls from its start; those up to now (this
        // one included) were simulated.
        group.credit -= polls_in(phase, group.interval, from, now) as i64;
    }

    /// A quiet client of group `g` (poll timer on `phase`, ordered `rank`
    /// among the events of its instants) stops being quiet at `key`: its
    /// polls ordered before `key` were made. Returns the time of its next
    /// poll after `key`.
    pub(crate) fn leave(&mut self, g: u16, phase: u64, rank: u64, key: EventKey) -> SimTime {
        let from = self.last_sample.expect("quiet only after the first row");
        let group = &mut self.groups[usize::from(g)];
        let i = group.interval;
        group.members -= 1;
        let now = key.time;
        let on_phase = now.as_ms() % i == phase;
        let at_now_made = on_phase && rank < key.seq;
        let before = SimTime(now.as_ms().saturating_sub(1));
        let made = if now > from {
            polls_in(phase, i, from, before) + u64::from(at_now_made)
        } else {
            0
        };
        group.credit += made as i64;
        let next = now.next_on_phase(SimTime(phase), SimDuration(i));
        if on_phase && !at_now_made { now } else { next }
    }

    /// The row at `now` is taken: each group's polls since the last row go
    /// into its station's counters. Returns how many polls that is in all.
    pub(crate) fn sample(&mut self, now: SimTime, stations: &mut Stations) -> u64 {
        // The first row, at the start, follows no other: nobody is quiet
        // before it.
        let whole_row = self.last_sample.is_some();
        debug_assert!(
            (self.last_sample).is_none_or(|last| now.since(last).as_ms() == self.sample_interval)
        );
        self.last_sample = Some(now);
        let mut all = 0;
        for g in &mut self.groups {
            let full = if whole_row {
                g.members * (self.sample_interval / g.interval)
            } else {
                0
            };
            let n = full as i64 + std::mem::take(&mut g.credit);
            debug_assert!(n >= 0, "a row cannot hold fewer than no polls");
            stations.count_quiet_polls(g.station, n as u64);
            all += n as u64;
        }
        all
    }

    /// At the end of the run, once every quiet client has left: the polls
    /// since the last row go into the counters. Returns how many.
    pub(crate) fn finish(&mut self, stations: &mut Stations) -> u64 {
        let mut all = 0;
        for g in &mut self.groups {
            debug_assert_eq!(g.members, 0, "every quiet client left first");
            let n = std::mem::take(&mut g.credit);
            debug_assert!(n >= 0);
            stations.count_quiet_polls(g.station, n as u64);
            all += n as u64;
        }
        all
    }
}

/// Whether station `station` is a management point whose every service
/// takes no time and that no fault touches: a request to it is served
/// within its own event, so it never meets a queue.
fn instant_station(estate: &Estate, station: usize) -> bool {
    let Some(mp) = estate.management_points.get(station) else {
        return false;
    };
    let zero = |d: &Dist| matches!(d, Dist::Fixed(t) if *t == SimDuration::ZERO);
    let faulted = (estate.faults.iter())
        .any(|f| matches!(f.server, ServerRef::Mp(m) if m.index() == station));
    [&mp.policy_time, &mp.location_time, &mp.batch_time]
        .iter()
        .all(|s| zero(s.dist()))
        && !faulted
}

impl World<'_> {
    /// Sets up the quiet poll chains: not in an explicit run (which shows
    /// every event) nor a traced one (a trace records every poll).
    pub(crate) fn plan_quiet_polls(&mut self) {
        let estate = self.estate;
        let enabled = !self.explicit && !self.recorder.tracing();
        let cohorts = estate.cohorts.iter().map(|cohort| {
            // A cohort with other MPs may move: its polls are simulated.
            let station = (cohort.gateway.is_none() && cohort.mp_fallbacks.is_empty())
                .then(|| cohort.mp.index());
            let interval = estate.settings[cohort.settings.index()].policy_polling_interval;
            (station, interval)
        });
        self.quiet = QuietPolls::new(
            enabled,
            estate.sample_interval,
            self.servers.station_count(),
            cohorts,
            |s| instant_station(estate, s),
        );
    }

    /// Client `c`'s poll, just made to its MP (settled as `at`), may be its
    /// last simulated one for a while: it has everything its site
    /// published and its MP answers at once. Then its later polls are
    /// counted instead (its timer is not armed again) and this returns
    /// true.
    #[inline]
    pub(crate) fn poll_turns_quiet(&mut self, c: ClientId, at: &Settled, now: SimTime) -> bool {
        if !self.quiet.may_quiet(at.station())
            || !self.clients.current(c)
            || !self.clients.online(c)
            || self.clients.request_out(c, &at.answers())
        {
            return false;
        }
        let Some(g) = self.quiet.group_of(self.clients.cohort(c).index()) else {
            return false;
        };
        self.clients.set_quiet(c, true);
        let phase = u64::from(self.clients[c].poll_phase);
        self.quiet.enter(g, phase, now);
        true
    }

    /// Client `c`, if quiet, stops being so at `key`: its polls ordered
    /// before `key` are counted. Returns the time of its next poll (`None`
    /// if it was not quiet).
    fn leave_quiet(&mut self, c: ClientId, key: EventKey) -> Option<SimTime> {
        if !self.clients.quiet(c) {
            return None;
        }
        self.clients.set_quiet(c, false);
        let g = (self.quiet.group_of(self.clients.cohort(c).index())).expect("a quiet cohort");
        let client = &self.clients[c];
        let phase = u64::from(client.poll_phase);
        let rank = client
            .poll_timer
            .expect("poll timers are made at the start")
            .rank();
        Some(self.quiet.leave(g, phase, rank, key))
    }

    /// Client `c` may no longer have everything its site published (the
    /// site published, or asks it to resync): if it was quiet, its polls
    /// are simulated again from its next one.
    pub(crate) fn wake_quiet(&mut self, c: ClientId, sched: &mut Scheduler<'_, Event>) {
        if let Some(next) = self.leave_quiet(c, sched.key()) {
            let timer = self.clients[c].poll_timer.expect("made at the start");
            sched.arm_periodic(timer, next);
        }
    }

    /// Client `c` is switched off: if it was quiet, its chain stops as an
    /// offline poll stops it, and is armed again when it is back on.
    pub(crate) fn quiet_switched_off(&mut self, c: ClientId, key: EventKey) {
        if self.leave_quiet(c, key).is_some() {
            self.clients.set_polling(c, false);
        }
    }

    /// The end of the run: every quiet client's polls up to the end are
    /// counted.
    pub(crate) fn finish_quiet(&mut self, end: EventKey) {
        for c in (0..self.clients.len() as u32).map(ClientId) {
            self.leave_quiet(c, end);
        }
        let n = self.quiet.finish(self.servers.stations_mut());
        self.recorder.totals.policy_requests += n;
    }

    /// A row is taken at `now`: the quiet polls since the last one are
    /// counted.
    pub(crate) fn sample_quiet(&mut self, now: SimTime) {
        let n = self.quiet.sample(now, self.servers.stations_mut());
        self.recorder.totals.policy_requests += n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::servers::Request;

    #[test]
    fn polls_in_counts_the_half_open_range() {
        // Polls at 5, 15, 25, ...
        assert_eq!(polls_in(5, 10, SimTime(0), SimTime(5)), 1);
        assert_eq!(polls_in(5, 10, SimTime(5), SimTime(15)), 1);
        assert_eq!(polls_in(5, 10, SimTime(5), SimTime(14)), 0);
        assert_eq!(polls_in(5, 10, SimTime(0), SimTime(100)), 10);
        assert_eq!(polls_in(5, 10, SimTime(30), SimTime(30)), 0);
        assert_eq!(polls_in(0, 10, SimTime(0), SimTime(10)), 1);
    }

    /// One group polling every 10 ms, rows every 20 ms: a client turns
    /// quiet at its poll at 5, stops being quiet at 32 (before its poll at
    /// 35), and its polls at 15 and 25 land in the rows at 20 and 40.
    #[test]
    fn a_quiet_client_polls_land_in_their_rows() {
        let mut stations = Stations::new([(4, 10)].into_iter());
        let mut quiet = QuietPolls::new(
            true,
            SimDuration(20),
            1,
            [(Some(0), SimDuration(10))].into_iter(),
            |_| true,
        );
        assert_eq!(quiet.sample(SimTime(0), &mut stations), 0);
        let g = quiet.group_of(0).expect("a quiet cohort");
        quiet.enter(g, 5, SimTime(5));
        assert_eq!(
            quiet.sample(SimTime(20), &mut stations),
            1,
            "the poll at 15"
        );
        let key = EventKey {
            time: SimTime(32),
            seq: 7,
        };
        assert_eq!(quiet.leave(g, 5, 3, key), SimTime(35), "its next poll");
        assert_eq!(
            quiet.sample(SimTime(40), &mut stations),
            1,
            "the poll at 25"
        );
        // Stopping at its own poll's instant: the poll came first if its
        // rank is below the key's.
        quiet.enter(g, 5, SimTime(45));
        let at = |seq| EventKey {
            time: SimTime(55),
            seq,
        };
        assert_eq!(quiet.leave(g, 5, 3, at(7)), SimTime(65), "made at 55");
        assert_eq!(
            quiet.sample(SimTime(60), &mut stations),
            1,
            "the poll at 55"
        );
        quiet.enter(g, 5, SimTime(65));
        let before_its_poll = EventKey {
            time: SimTime(75),
            seq: 7,
        };
        assert_eq!(
            quiet.leave(g, 5, 9, before_its_poll),
            SimTime(75),
            "not made yet"
        );
        assert_eq!(quiet.sample(SimTime(80), &mut stations), 0);
        assert_eq!(quiet.finish(&mut stations), 0);
        let at = stations.settle(0, key, |_| {});
        let served = stations.totals(&at).total.served[Request::Policy as usize];
        assert_eq!(served, 3);
    }
}
