//! Service stations: a fixed number of workers in front of a FIFO queue
//! with a limit, as management points, SUPs and the state system are, and
//! the silent endings that let most policy answers end without an event.
//!
//! Owns the queueing discipline and its bookkeeping (never more in service
//! than the workers, never more waiting than the limit; work over the limit
//! is rejected, never dropped), the load counters, and [`Settled`]: the
//! handle every read or change of a station needs, which only
//! [`Stations::settle`] hands out, after applying the silent endings due
//! before now. It knows nothing of what a request means: the service layer
//! decides service times and what happens when a request is served,
//! rejected or failed.

use std::collections::VecDeque;

use crate::engine::{EventKey, SimTime, TimerId};
use crate::estate::ClientId;
use crate::model::record::{BUSY_LEVELS, BusyClock, BusyTime, LoadCounts, MsHistogram};
use crate::model::servers::Request;

/// One request at a station.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Job {
    pub(crate) client: ClientId,
    pub(crate) kind: Request,
    pub(crate) arrived: SimTime,
    /// The requester's token: a batch slot, or a scan attempt number.
    pub(crate) token: u32,
}

/// How a request in service ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ending {
    /// Not known yet: a worker has just taken the request, and the world
    /// is about to say how its service ends.
    Starting,
    /// At a scheduled event.
    Timer(TimerId),
    /// With the event that started it: a service that takes no time (its
    /// `Served` is a follow-up of that event).
    Now,
    /// Silently, at this place in the event order, without an event: the
    /// world settles it before anything could observe the difference (see
    /// `World::settle`). The key was reserved on the agenda, so the order of
    /// every other event is the same as if it had been scheduled.
    Silent(EventKey),
}

/// A request in service that ends silently: when, in which slot, and what
/// the slot holds (so that ending it need not read the slot). 24 bytes with
/// no padding left to the compiler: a copy of one with padding (an
/// `Option` of it) went through overlapping stores that the processor
/// could not forward to the load after them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub(crate) struct SilentEnd {
    pub(crate) key: EventKey,
    pub(crate) client: ClientId,
    pub(crate) slot: u16,
    pub(crate) kind: Request,
    /// Whether this is an ending at all (see [`SilentEnd::NONE`]).
    some: bool,
}

impl SilentEnd {
    /// No ending: after every event.
    const NONE: SilentEnd = SilentEnd {
        key: EventKey {
            time: SimTime(u64::MAX),
            seq: u64::MAX,
        },
        client: ClientId(u32::MAX),
        slot: u16::MAX,
        kind: Request::Policy,
        some: false,
    };
}

/// What became of an offered request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Offer {
    /// A worker took it: schedule its end with [`Station::started`].
    Start(u16),
    /// It waits in the queue.
    Queued,
    /// Rejected: the station is down or its queue is full.
    Rejected,
}

/// Workers, a queue and their counters. Laid out for the request that
/// starts on arrival and ends silently (a policy poll, most of a big
/// estate's requests): what it reads and writes comes first, in four lines
/// side by side, instead of seven spread over the record.
#[repr(C, align(64))]
struct Station {
    slots: Vec<Option<(Job, Ending)>>,
    /// The earliest silent ending of a request in service, in the record
    /// itself: a station seldom has more than one at a time.
    next_silent: SilentEnd,
    /// The later silent endings, in key order (a handful at most, and a new
    /// one is nearly always the latest: a deque, not a heap, whose every
    /// push and pop took unpredictable branches).
    silent: VecDeque<SilentEnd>,
    free: Vec<u16>,
    queue: VecDeque<Job>,
    /// Requests that started service on arrival (most of them: counted
    /// here rather than recorded one by one).
    no_wait: u64,
    workers: u32,
    /// Requests that may wait (`u32::MAX`: no limit).
    queue_limit: u32,
    peak_busy: u32,
    peak_queue: u32,
    /// The most in service and waiting since the last sample.
    most_busy: u32,
    most_queued: u32,
    slowdown: f64,
    down: bool,
    /// Counters since the last sample.
    interval: LoadCounts,
    /// Counters over the whole run up to the last sample (see
    /// [`total`](Self::total)): a request counts in `interval` only.
    total_sampled: LoadCounts,
    /// Queue wait of every request that started service after waiting, ms;
    /// see [`wait`](Self::wait).
    waited: MsHistogram,
    /// Free workers set aside while the station takes nothing into service
    /// (its process restarting): with `free` empty, arrivals wait. Last:
    /// a station seldom restarts, and a worker is only taken while it is
    /// empty.
    parked: Vec<u16>,
    /// Bytes its answers sent since the last sample, and up to it.
    bytes_interval: u64,
    bytes_sampled: u64,
    /// Its time by level of utilization, counted up to the last settling.
    clock: BusyClock,
}

impl Station {
    fn new(workers: u32, queue_limit: u32) -> Self {
        Station {
            workers,
            queue_limit,
            slots: vec![None; workers as usize],
            next_silent: SilentEnd::NONE,
            silent: VecDeque::new(),
            free: (0..workers as u16).rev().collect(),
            parked: Vec::new(),
            bytes_interval: 0,
            bytes_sampled: 0,
            clock: BusyClock::default(),
            queue: VecDeque::new(),
            down: false,
            slowdown: 1.0,
            interval: LoadCounts::default(),
            total_sampled: LoadCounts::default(),
            waited: MsHistogram::new(),
            no_wait: 0,
            peak_queue: 0,
            peak_busy: 0,
            most_busy: 0,
            most_queued: 0,
        }
    }

    /// Queue wait of every request that started service, ms.
    fn wait(&self) -> MsHistogram {
        let mut wait = self.waited.clone();
        wait.saturating_record_n(0, self.no_wait);
        wait
    }

    /// Starts loading the two lines of the record an arrival reads first
    /// (the next silent ending, the later ones, the free workers: see the
    /// layout), a prefetch hint. (The first line alone left the second to
    /// miss; the first three, with the counters, or the first four and the
    /// station's draws, cost a poll more than they saved.)
    #[inline]
    fn prefetch_for_arrival(&self) {
        crate::engine::prefetch_prefix(self, 128);
    }

    /// Starts loading the request in `slot` (a prefetch hint).
    #[inline]
    fn prefetch_slot(&self, slot: u16) {
        if let Some(entry) = self.slots.get(usize::from(slot)) {
            crate::engine::prefetch(entry);
        }
    }

    /// The client whose request is in `slot`, if any.
    #[inline]
    fn client_in(&self, slot: u16) -> Option<ClientId> {
        self.slots
            .get(usize::from(slot))?
            .as_ref()
            .map(|(job, _)| job.client)
    }

    /// Requests in service.
    fn busy(&self) -> u32 {
        self.workers - (self.free.len() + self.parked.len()) as u32
    }

    /// Requests waiting.
    fn queued(&self) -> u32 {
        self.queue.len() as u32
    }

    /// Counts the time since the last tick at the level it has held since:
    /// what is in service over its workers, full while any request waits.
    #[inline]
    fn tick(&mut self, now: SimTime) {
        let level = if self.queue.is_empty() {
            BusyTime::level(u128::from(self.busy()), u128::from(self.workers))
        } else {
            BUSY_LEVELS - 1
        };
        self.clock.tick(now, level);
    }

    fn count(&mut self, kind: Request, f: impl Fn(&mut LoadCounts) -> &mut [u64; Request::COUNT]) {
        f(&mut self.interval)[kind as usize] += 1;
    }

    /// The counters since the last sample, which start again from zero.
    fn take_interval(&mut self) -> LoadCounts {
        let interval = std::mem::take(&mut self.interval);
        self.total_sampled.add(&interval);
        interval
    }

    /// Counters over the whole run.
    fn total(&self) -> LoadCounts {
        let mut total = self.total_sampled;
        total.add(&self.interval);
        total
    }

    /// A request arrives: a free worker takes it, or it waits, or it is
    /// rejected.
    #[inline]
    fn offer(&mut self, job: Job) -> Offer {
        self.count(job.kind, |c| &mut c.arrived);
        if self.down {
            self.count(job.kind, |c| &mut c.rejected);
            return Offer::Rejected;
        }
        if let Some(slot) = self.free.pop() {
            self.reserve(slot, job, job.arrived);
            return Offer::Start(slot);
        }
        if self.queued() >= self.queue_limit {
            self.count(job.kind, |c| &mut c.rejected);
            return Offer::Rejected;
        }
        self.queue.push_back(job);
        self.peak_queue = self.peak_queue.max(self.queued());
        self.most_queued = self.most_queued.max(self.queued());
        Offer::Queued
    }

    #[inline]
    fn reserve(&mut self, slot: u16, job: Job, now: SimTime) {
        match now.since(job.arrived).as_ms() {
            0 => self.no_wait += 1,
            wait => self.waited.saturating_record(wait),
        }
        self.slots[slot as usize] = Some((job, Ending::Starting));
        // A worker was free: none is parked (see `busy`).
        debug_assert!(self.parked.is_empty());
        let busy = self.workers - self.free.len() as u32;
        self.peak_busy = self.peak_busy.max(busy);
        self.most_busy = self.most_busy.max(busy);
        assert!(busy <= self.workers, "law 8: more in service than workers");
    }

    /// Records the timer of the service that just started in `slot`.
    fn started(&mut self, slot: u16, timer: TimerId) {
        let entry = self.slots[slot as usize].as_mut().expect("slot reserved");
        entry.1 = Ending::Timer(timer);
    }

    /// Records that the service that just started in `slot` takes no time.
    fn started_now(&mut self, slot: u16) {
        let entry = self.slots[slot as usize].as_mut().expect("slot reserved");
        entry.1 = Ending::Now;
    }

    /// Records that the service of `job`, which just started in `slot`,
    /// ends silently at `key` (written, not read back: reading the slot
    /// just written waited on the write).
    #[inline]
    fn started_silent(&mut self, slot: u16, job: Job, key: EventKey) {
        debug_assert_eq!(
            self.slots[slot as usize].map(|(j, _)| j),
            Some(job),
            "slot reserved for the job"
        );
        self.slots[slot as usize] = Some((job, Ending::Silent(key)));
        let end = SilentEnd {
            key,
            client: job.client,
            slot,
            kind: job.kind,
            some: true,
        };
        let next = self.next_silent;
        if !next.some {
            self.next_silent = end;
        } else if key < next.key {
            self.silent.push_front(next);
            self.next_silent = end;
        } else if self.silent.back().is_none_or(|last| last.key < key) {
            // Usually the latest: at a hundred thousand clients the deque is
            // nearly always empty, at a million it seldom is.
            self.silent.push_back(end);
        } else {
            let at = self.silent.partition_point(|e| e.key < key);
            self.silent.insert(at, end);
        }
    }

    /// Whether any service in progress ends silently.
    fn has_silent(&self) -> bool {
        self.next_silent.some
    }

    /// The earliest silent ending ordered before `before`, removed from the
    /// silent set (its slot stays busy until
    /// [`finish_silent`](Self::finish_silent)).
    #[inline]
    fn pop_silent_before(&mut self, before: EventKey) -> Option<SilentEnd> {
        let end = self.next_silent;
        if end.some && end.key < before {
            self.next_silent = self.silent.pop_front().unwrap_or(SilentEnd::NONE);
            Some(end)
        } else {
            None
        }
    }

    /// Every silent ending, removed from the silent set, so the world can
    /// schedule each as an event at its reserved key (then [`started`]).
    /// In no particular order: the keys alone order the events.
    ///
    /// [`started`]: Self::started
    fn drain_silent(&mut self, out: &mut Vec<(EventKey, u16)>) {
        let next = std::mem::replace(&mut self.next_silent, SilentEnd::NONE);
        out.extend(next.some.then_some((next.key, next.slot)));
        out.extend(self.silent.drain(..).map(|e| (e.key, e.slot)));
    }

    /// The service that ended silently at `end` is over: frees the worker
    /// and returns who asked (what [`finish`](Self::finish) does, without
    /// reading the slot back: `end` says what was in it).
    #[inline]
    fn finish_silent(&mut self, end: SilentEnd) -> ClientId {
        debug_assert!(
            matches!(self.slots[end.slot as usize], Some((job, Ending::Silent(key)))
                if job.client == end.client && key == end.key),
            "the slot holds the request that ended"
        );
        self.slots[end.slot as usize] = None;
        self.free.push(end.slot);
        self.count(end.kind, |c| &mut c.served);
        end.client
    }

    /// The service in `slot` ends: frees the worker and returns the request.
    fn finish(&mut self, slot: u16) -> Job {
        let (job, _) = self.slots[slot as usize]
            .take()
            .expect("a request in service");
        self.free.push(slot);
        self.count(job.kind, |c| &mut c.served);
        job
    }

    /// If a worker is free and a request waits, it starts now.
    fn next_waiting(&mut self, now: SimTime) -> Option<(u16, Job)> {
        if self.down || self.free.is_empty() {
            return None;
        }
        let job = self.queue.pop_front()?;
        let slot = self.free.pop().expect("a free worker");
        self.reserve(slot, job, now);
        Some((slot, job))
    }

    /// The station goes down: every request waiting or in service fails.
    /// Returns them with the timers of those in service (to cancel; none
    /// for a silent ending, which the world settles before a fault).
    fn fail_all(&mut self, failed: &mut Vec<(Job, Option<TimerId>)>) {
        self.fail_in_service(failed);
        while let Some(job) = self.queue.pop_front() {
            self.count(job.kind, |c| &mut c.rejected);
            failed.push((job, None));
        }
    }

    /// Every request in service fails, in slot order, with its timer (as
    /// [`fail_all`](Self::fail_all)); those waiting stay.
    fn fail_in_service(&mut self, failed: &mut Vec<(Job, Option<TimerId>)>) {
        for slot in 0..self.slots.len() {
            if let Some((job, ending)) = self.slots[slot].take() {
                self.free.push(slot as u16);
                self.count(job.kind, |c| &mut c.rejected);
                let timer = match ending {
                    Ending::Timer(timer) => Some(timer),
                    Ending::Silent(_) | Ending::Starting | Ending::Now => None,
                };
                failed.push((job, timer));
            }
        }
        self.next_silent = SilentEnd::NONE;
        self.silent.clear();
        self.free.sort_unstable_by(|a, b| b.cmp(a));
    }
}

/// Proof that a station's silent endings due before the event being
/// handled have been applied, so that what it says (free workers, queue,
/// counters) is what the explicit model would say: every read or change of
/// a station takes one. Only [`Stations::settle`] (and the service layer's
/// own helpers around it) makes one; it is good for the event being handled.
#[derive(Debug)]
pub(crate) struct Settled {
    station: u16,
}

impl Settled {
    /// The station it was made for.
    pub(crate) fn station(&self) -> usize {
        usize::from(self.station)
    }
}

/// A station's state when a sample is taken.
pub(crate) struct StationSample {
    /// Counters since the last sample.
    pub(crate) counts: LoadCounts,
    /// Requests waiting.
    pub(crate) queued: u32,
    /// Requests in service.
    pub(crate) busy: u32,
    /// The most waiting at any moment since the last sample.
    pub(crate) most_queued: u32,
    /// The most in service at any moment since the last sample.
    pub(crate) most_busy: u32,
    /// Whether it is down.
    pub(crate) down: bool,
    /// Bytes its answers sent since the last sample.
    pub(crate) bytes: u64,
}

/// A station's figures over the whole run.
pub(crate) struct StationTotals {
    /// Workers.
    pub(crate) workers: u32,
    /// Counters over the run.
    pub(crate) total: LoadCounts,
    /// Most requests waiting at once.
    pub(crate) peak_queue: u32,
    /// Most requests in service at once.
    pub(crate) peak_busy: u32,
    /// Queue wait of every request that started service, ms.
    pub(crate) wait: MsHistogram,
    /// Bytes its answers sent.
    pub(crate) bytes: u64,
    /// Its time by level of utilization, up to its last settling.
    pub(crate) busy: BusyTime,
}

/// Every station of a run, by index: management points, then update
/// points, then the state systems.
pub(crate) struct Stations {
    list: Vec<Station>,
}

impl Stations {
    /// Stations of `(workers, queue limit)` each, in order.
    pub(crate) fn new(shapes: impl Iterator<Item = (u32, u32)>) -> Self {
        Stations {
            list: shapes.map(|(w, q)| Station::new(w, q)).collect(),
        }
    }

    /// How many there are.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }

    /// Ends, in order, the services of `station` that end silently before
    /// `upto` (in the agenda's order), exactly as their events would have:
    /// the worker is freed and counted, and `answered` hands the client its
    /// empty answer. Returns the handle that reads and changes the station.
    #[inline]
    pub(crate) fn settle(
        &mut self,
        station: usize,
        upto: EventKey,
        mut answered: impl FnMut(ClientId),
    ) -> Settled {
        let s = &mut self.list[station];
        while let Some(end) = s.pop_silent_before(upto) {
            s.tick(end.key.time);
            let client = s.finish_silent(end);
            debug_assert_eq!(
                s.queued(),
                0,
                "a queue forms only after the silent endings became events"
            );
            answered(client);
        }
        // Nothing changed it since it was last settled but these endings.
        s.tick(upto.time);
        Settled {
            station: station as u16,
        }
    }

    fn at(&mut self, at: &Settled) -> &mut Station {
        &mut self.list[at.station()]
    }

    /// A request arrives: a free worker takes it, or it waits, or it is
    /// rejected.
    #[inline]
    pub(crate) fn offer(&mut self, at: &Settled, job: Job) -> Offer {
        self.at(at).offer(job)
    }

    /// Requests waiting.
    #[inline]
    pub(crate) fn queued(&self, at: &Settled) -> u32 {
        self.list[at.station()].queued()
    }

    /// Records the timer of the service that just started in `slot`.
    pub(crate) fn started(&mut self, at: &Settled, slot: u16, timer: TimerId) {
        self.at(at).started(slot, timer)
    }

    /// Records that the service that just started in `slot` takes no time:
    /// it ends with the event that started it.
    pub(crate) fn started_now(&mut self, at: &Settled, slot: u16) {
        self.at(at).started_now(slot)
    }

    /// Whether `slot` holds a request in service (a service that takes no
    /// time may have failed, with its station, in the event that started
    /// it).
    pub(crate) fn in_service(&self, at: &Settled, slot: u16) -> bool {
        self.list[at.station()].slots[usize::from(slot)].is_some()
    }

    /// Records that the service of `job`, which just started in `slot`,
    /// ends silently at `key`, a place reserved on the agenda.
    #[inline]
    pub(crate) fn started_silent(&mut self, at: &Settled, slot: u16, job: Job, key: EventKey) {
        self.at(at).started_silent(slot, job, key)
    }

    /// Every silent ending, removed from the silent set, each with its
    /// reserved key and slot (for [`started`](Self::started) once it is an
    /// event).
    pub(crate) fn drain_silent(&mut self, at: &Settled, out: &mut Vec<(EventKey, u16)>) {
        let s = self.at(at);
        if s.has_silent() {
            s.drain_silent(out);
        }
    }

    /// The service in `slot` ends: frees the worker and returns the request.
    pub(crate) fn finish(&mut self, at: &Settled, slot: u16) -> Job {
        self.at(at).finish(slot)
    }

    /// If a worker is free and a request waits, it starts now.
    pub(crate) fn next_waiting(&mut self, at: &Settled, now: SimTime) -> Option<(u16, Job)> {
        self.at(at).next_waiting(now)
    }

    /// The station goes down: every request waiting or in service fails.
    /// `failed` gets them with the timers of those in service (to cancel).
    pub(crate) fn fail_all(&mut self, at: &Settled, failed: &mut Vec<(Job, Option<TimerId>)>) {
        let s = self.at(at);
        s.down = true;
        s.fail_all(failed);
    }

    /// `n` policy polls counted, not simulated (see `quiet.rs`): each
    /// arrived, a free worker took it at once, and it ended within its own
    /// event.
    pub(crate) fn count_quiet_polls(&mut self, station: usize, n: u64) {
        if n == 0 {
            return;
        }
        let s = &mut self.list[station];
        s.interval.arrived[Request::Policy as usize] += n;
        s.interval.served[Request::Policy as usize] += n;
        s.no_wait += n;
        s.peak_busy = s.peak_busy.max(1);
        s.most_busy = s.most_busy.max(1);
    }

    /// Its answer sent `bytes` to a client. (Only an answer with an event
    /// of its own sends bytes, never one that ends silently: no settling
    /// needed.)
    pub(crate) fn sent(&mut self, station: usize, bytes: u64) {
        self.list[station].bytes_interval += bytes;
    }

    /// Its process restarts: every request in service fails (`failed`
    /// gets them with their timers, to cancel), and it takes none into
    /// service until [`resume`](Self::resume); arrivals wait in its queue
    /// as far as its limit, and those waiting stay.
    pub(crate) fn restart(&mut self, at: &Settled, failed: &mut Vec<(Job, Option<TimerId>)>) {
        let s = self.at(at);
        s.fail_in_service(failed);
        let mut free = std::mem::take(&mut s.free);
        s.parked.append(&mut free);
        s.free = free;
    }

    /// Its process is back: its workers take requests again (those
    /// waiting: [`next_waiting`](Self::next_waiting)).
    pub(crate) fn resume(&mut self, at: &Settled) {
        let s = self.at(at);
        s.free.append(&mut s.parked);
        s.free.sort_unstable_by(|a, b| b.cmp(a));
    }

    /// Its service times are stretched by `factor` from now.
    pub(crate) fn set_slowdown(&mut self, at: &Settled, factor: f64) {
        self.at(at).slowdown = factor;
    }

    /// It is up again at full speed.
    pub(crate) fn restore(&mut self, at: &Settled) {
        let s = self.at(at);
        s.down = false;
        s.slowdown = 1.0;
    }

    /// The factor its service times are stretched by (a fault's slowdown;
    /// silent endings never change it).
    #[inline]
    pub(crate) fn slowdown(&self, station: usize) -> f64 {
        self.list[station].slowdown
    }

    /// The counters since the last sample (which start again from zero),
    /// the queue and the busy workers.
    pub(crate) fn sample(&mut self, at: &Settled) -> StationSample {
        let s = self.at(at);
        let bytes = std::mem::take(&mut s.bytes_interval);
        s.bytes_sampled += bytes;
        let (queued, busy) = (s.queued(), s.busy());
        // What is in service and waiting now is where the next interval
        // starts.
        let most_queued = std::mem::replace(&mut s.most_queued, queued).max(queued);
        let most_busy = std::mem::replace(&mut s.most_busy, busy).max(busy);
        StationSample {
            counts: s.take_interval(),
            queued,
            busy,
            most_queued,
            most_busy,
            down: s.down,
            bytes,
        }
    }

    /// The station's figures over the whole run.
    pub(crate) fn totals(&self, at: &Settled) -> StationTotals {
        let s = &self.list[at.station()];
        StationTotals {
            workers: s.workers,
            total: s.total(),
            peak_queue: s.peak_queue,
            peak_busy: s.peak_busy,
            wait: s.wait(),
            bytes: s.bytes_sampled + s.bytes_interval,
            busy: s.clock.time.clone(),
        }
    }

    /// The client whose request is in `slot` of `station` (for a hint: it
    /// may be read before the station is settled).
    #[inline]
    pub(crate) fn client_in(&self, station: usize, slot: u16) -> Option<ClientId> {
        self.list.get(station)?.client_in(slot)
    }

    /// Starts loading the lines of `station` that an arrival reads first.
    #[inline]
    pub(crate) fn hint_arrival(&self, station: usize) {
        if let Some(s) = self.list.get(station) {
            s.prefetch_for_arrival();
        }
    }

    /// Starts loading the request in `slot` of `station`.
    #[inline]
    pub(crate) fn hint_slot(&self, station: usize, slot: u16) {
        if let Some(s) = self.list.get(station) {
            s.prefetch_slot(slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(c: u32) -> Job {
        Job {
            client: ClientId(c),
            kind: Request::Policy,
            arrived: SimTime(0),
            token: 0,
        }
    }

    fn key(time: u64, seq: u64) -> EventKey {
        EventKey {
            time: SimTime(time),
            seq,
        }
    }

    #[test]
    fn silent_endings_leave_in_key_order_and_fail_without_timers() {
        let mut s = Station::new(3, 10);
        for (c, k) in [(0, key(50, 9)), (1, key(20, 7)), (2, key(50, 8))] {
            let Offer::Start(slot) = s.offer(job(c)) else {
                panic!("a free worker")
            };
            s.started_silent(slot, job(c), k);
        }
        assert_eq!(s.pop_silent_before(key(20, 7)), None, "strictly before");
        let end = s.pop_silent_before(key(50, 9)).expect("(20, 7) is before");
        assert_eq!((end.key, s.finish_silent(end)), (key(20, 7), ClientId(1)));
        let end = s.pop_silent_before(key(60, 0)).expect("(50, 8) next");
        assert_eq!((end.key, s.finish_silent(end)), (key(50, 8), ClientId(2)));
        assert!(s.has_silent());
        let mut failed = Vec::new();
        s.down = true;
        s.fail_all(&mut failed);
        assert_eq!(failed, vec![(job(0), None)], "no timer to cancel");
        assert!(!s.has_silent());
        assert_eq!(s.busy(), 0);
    }

    /// A restart fails the requests in service and keeps those waiting;
    /// until it resumes, arrivals wait (as far as the limit) and nothing
    /// starts.
    #[test]
    fn a_restart_fails_those_in_service_and_holds_the_rest() {
        let mut st = Stations::new([(2, 3)].into_iter());
        let at = st.settle(0, key(0, 0), |_| {});
        assert_eq!(st.offer(&at, job(0)), Offer::Start(0));
        assert_eq!(st.offer(&at, job(1)), Offer::Start(1));
        assert_eq!(st.offer(&at, job(2)), Offer::Queued);
        let mut failed = Vec::new();
        st.restart(&at, &mut failed);
        let clients: Vec<u32> = failed.iter().map(|(j, _)| j.client.0).collect();
        assert_eq!(clients, [0, 1], "in slot order");
        assert_eq!(st.next_waiting(&at, SimTime(5)), None, "restarting");
        assert_eq!(st.offer(&at, job(3)), Offer::Queued, "arrivals wait");
        assert_eq!(st.offer(&at, job(4)), Offer::Queued);
        assert_eq!(
            st.offer(&at, job(5)),
            Offer::Rejected,
            "as far as the limit"
        );
        let sample = st.sample(&at);
        assert_eq!((sample.busy, sample.queued), (0, 3));
        st.resume(&at);
        let started: Vec<(u16, u32)> = std::iter::from_fn(|| st.next_waiting(&at, SimTime(9)))
            .map(|(slot, j)| (slot, j.client.0))
            .collect();
        assert_eq!(
            started,
            [(0, 2), (1, 3)],
            "FIFO, into the lowest free slot first"
        );
        assert_eq!(st.sample(&at).queued, 1);
    }

    #[test]
    fn workers_then_queue_then_reject() {
        let mut s = Station::new(2, 3);
        assert_eq!(s.offer(job(0)), Offer::Start(0));
        assert_eq!(s.offer(job(1)), Offer::Start(1));
        for c in 2..5 {
            assert_eq!(s.offer(job(c)), Offer::Queued);
        }
        assert_eq!(
            s.offer(job(5)),
            Offer::Rejected,
            "a queue limit of 3 rejects the 6th"
        );
        assert_eq!(s.total().rejected[0], 1);
        assert_eq!(s.finish(0).client, ClientId(0));
        let (slot, next) = s.next_waiting(SimTime(10)).expect("one waits");
        assert_eq!((slot, next.client), (0, ClientId(2)), "FIFO");
        let mut failed = Vec::new();
        s.down = true;
        s.fail_all(&mut failed);
        assert_eq!(failed.len(), 4);
        assert_eq!(s.busy(), 0);
        assert_eq!(s.offer(job(9)), Offer::Rejected);
    }
}
