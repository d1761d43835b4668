#!/usr/bin/env python3
"""A straightforward SimPy model of patchsim's plain estate (scenarios/plain.ron).

One process per client runs the lifecycle of one Required update: learn the
deployment at a policy poll, evaluate it with a compliance scan, download the
content, wait for the deadline, install, restart, scan again, and report each
step in state-message batches every 15 minutes. Beside it, each client has
its hourly policy poll, its 15-minute reporting cycle, its weekly scan
schedule and its weekly deployment re-evaluation, each a SimPy process. The
management point, software update point, distribution point and state system
are SimPy resources with the plain estate's capacities; a client's "one thing
at a time" is a priority resource of capacity one (restart before scan before
download before install, as patchsim orders them).

The figures come from scenarios/plain.ron and, where it says nothing, from the
defaults in docs/model.md. See README.md beside this file for what is left out.

    python3 benches/simpy/plain.py --clients 100000 --days 3 [--seed N]
"""

import argparse
import bisect
import math
import random
import sys
import time

import simpy

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0

# scenarios/plain.ron
CREATED = 2 * HOUR
DEADLINE = 26 * HOUR
UPDATE_BYTES = 37.5e6
INSTALL_TIME = 10 * MINUTE
RESTART_PROBABILITY = 1.0
CLIENT_LINK_BPS = 1e6
CONTENT_READY_DELAY = 30 * MINUTE
SITE_DOWNLOAD_BPS = 10e9
MP_WORKERS = 10_000
SUP_SCAN_SLOTS = 10_000
DP_BANDWIDTH_BPS = 1000e9
DP_MAX_CONNECTIONS = 100_000
STATE_SYSTEM_THREADS = 64
# Every server time of the plain estate is zero: the servers answer at once.
POLICY_TIME = LOCATION_TIME = BATCH_TIME = 0.0
DELTA_SCAN_TIME = 0.0
MP_FORWARD_DELAY = STATE_SYSTEM_DELAY = 0.0
STATE_SYSTEM_PER_BATCH = STATE_SYSTEM_PER_MESSAGE = 0.0

# docs/model.md defaults
DP_CONTENT_LINK_BPS = 1e9
POLICY_INTERVAL = 1 * HOUR
POWER_ON_POLICY_DELAY = (0.0, 5 * MINUTE)  # uniform
STATE_MESSAGE_INTERVAL = 15 * MINUTE
INSTALL_REPORT_WITHIN = 2 * MINUTE  # uniform 0..2 min after an install
EVALUATION_DELAY = (0.0, 2 * MINUTE)  # uniform
SCAN_DURATION = (2 * MINUTE, 0.5)  # log-normal (median, sigma)
SCAN_INTERVAL = 7 * DAY
SCAN_RANDOM_DELAY = 2 * HOUR
REEVALUATION_INTERVAL = 7 * DAY
SCAN_TTL = 24 * HOUR
RESTART_COUNTDOWN = 90 * MINUTE
RESTART_FINAL_COUNTDOWN = 15 * MINUTE
USER_RESTART_DELAY = (2 * HOUR, 1.0)  # log-normal (median, sigma)
RESTART_DURATION = (2 * MINUTE, 6 * MINUTE)  # uniform

# Who goes first when several things fall due on one client.
RESTART, SCAN, DOWNLOAD, INSTALL = 0, 1, 2, 3

# State messages (topic, state) the model sends; only 500/3 is read at the site.
DETECTED_INSTALLED = (500, 3)
SCAN_COMPLETED = (501, 3)
EVALUATED = (302, 2)
NON_COMPLIANT, COMPLIANT = (300, 2), (300, 1)
WAITING_FOR_CONTENT, UPDATE_DOWNLOADING = (402, 2), (402, 12)
UPDATE_INSTALLING, UPDATE_PENDING_RESTART = (402, 8), (402, 9)
DOWNLOADING, DOWNLOADED = (301, 7), (301, 8)
INSTALLING, PENDING_RESTART, SUCCEEDED = (301, 1), (301, 5), (301, 4)


class Site:
    """The servers, the deployment's content and what the site database shows."""

    def __init__(self, env, clients, rng):
        self.env = env
        self.rng = rng
        self.mp = simpy.Resource(env, MP_WORKERS)
        self.sup = simpy.Resource(env, SUP_SCAN_SLOTS)
        self.dp = simpy.Resource(env, DP_MAX_CONNECTIONS)
        self.state_system = simpy.Resource(env, STATE_SYSTEM_THREADS)
        self.published = None
        self.true_compliant_at = [math.inf] * clients
        self.reported_compliant_at = [math.inf] * clients
        self.stats = dict.fromkeys(
            ["policy_requests", "batches", "messages", "scans_online",
             "scans_offline", "scans_reused", "downloads", "installs",
             "restarts_by_user", "restarts_forced"], 0)

    def deployment(self):
        """The site server readies the content, copies it to the DP, then
        the deployment enters policy."""
        env = self.env
        yield env.timeout(CREATED)
        yield env.timeout(CONTENT_READY_DELAY)
        yield env.timeout(UPDATE_BYTES * 8 / SITE_DOWNLOAD_BPS)
        yield env.timeout(UPDATE_BYTES * 8 / DP_CONTENT_LINK_BPS)
        self.published = env.now

    def mp_request(self, service_time):
        """One request served by a management point worker."""
        with self.mp.request() as worker:
            yield worker
            yield self.env.timeout(service_time)

    def deliver(self, client, batch):
        """A batch goes from the MP to the state system, then the database."""
        env = self.env
        yield env.timeout(MP_FORWARD_DELAY + STATE_SYSTEM_DELAY)
        with self.state_system.request() as thread:
            yield thread
            yield env.timeout(STATE_SYSTEM_PER_BATCH + STATE_SYSTEM_PER_MESSAGE * len(batch))
        self.stats["messages"] += len(batch)
        for _, message in batch:
            if message == DETECTED_INSTALLED and self.reported_compliant_at[client] == math.inf:
                self.reported_compliant_at[client] = env.now


class Client:
    """One always-on client and its processes."""

    def __init__(self, env, site, cid, rng):
        self.env = env
        self.site = site
        self.cid = cid
        self.rng = rng
        self.hands = simpy.PriorityResource(env, 1)
        self.online = True
        self.outbox = []
        self.batch_at_mp = False
        self.policy = env.event()
        self.compliant = False
        poll_phase = rng.uniform(0, POLICY_INTERVAL)
        report_phase = rng.uniform(0, STATE_MESSAGE_INTERVAL)
        scan_phase = rng.uniform(0, SCAN_INTERVAL)
        reevaluation_phase = rng.uniform(0, REEVALUATION_INTERVAL)
        # Before the start it last scanned online at its previous scheduled
        # scan or re-evaluation, one interval before the first in the run.
        self.results_until = max(scan_phase - SCAN_INTERVAL,
                                 reevaluation_phase - REEVALUATION_INTERVAL) + SCAN_TTL
        env.process(self.every(poll_phase, POLICY_INTERVAL, self.poll))
        env.process(self.every(report_phase, STATE_MESSAGE_INTERVAL, self.send_batch))
        env.process(self.scan_schedule(scan_phase))
        env.process(self.reevaluation_cycle(reevaluation_phase))
        env.process(self.lifecycle())

    # -- helpers ---------------------------------------------------------

    def queue(self, *messages):
        now = self.env.now
        self.outbox.extend((now, m) for m in messages)

    def scan_duration(self):
        median, sigma = SCAN_DURATION
        return self.rng.lognormvariate(math.log(median), sigma)

    def results_current(self):
        return self.env.now < self.results_until

    def online_scan(self):
        """A scan against the SUP: its service, then the client's part."""
        env, site = self.env, self.site
        with site.sup.request() as slot:
            yield slot
            yield env.timeout(DELTA_SCAN_TIME)
        yield env.timeout(self.scan_duration())
        self.results_until = env.now + SCAN_TTL
        site.stats["scans_online"] += 1
        self.queue(SCAN_COMPLETED)

    def scan_unless_current(self):
        """A scan that is not forced reuses results inside the time to live."""
        if self.results_current():
            self.site.stats["scans_reused"] += 1
        else:
            yield from self.online_scan()

    def send_batch(self):
        """Everything queued before now goes to the MP as one batch."""
        now = self.env.now
        if not self.online or self.batch_at_mp or not self.outbox or self.outbox[0][0] >= now:
            return
        batch = [m for m in self.outbox if m[0] < now]
        self.outbox = [m for m in self.outbox if m[0] >= now]
        self.batch_at_mp = True
        yield from self.site.mp_request(BATCH_TIME)
        self.batch_at_mp = False
        self.site.stats["batches"] += 1
        self.env.process(self.site.deliver(self.cid, batch))

    def poll(self):
        if not self.online:
            return
        site = self.site
        site.stats["policy_requests"] += 1
        yield from site.mp_request(POLICY_TIME)
        if site.published is not None and not self.policy.triggered:
            self.policy.succeed()

    # -- periodic processes ----------------------------------------------

    def every(self, phase, interval, action):
        """Runs `action` at `phase`, then every `interval` after it."""
        env = self.env
        at = phase
        while True:
            yield env.timeout(at - env.now)
            yield from action()
            at += interval

    def scan_schedule(self, phase):
        env = self.env
        fires = phase
        while True:
            yield env.timeout(fires - env.now)
            yield env.timeout(self.rng.uniform(0, SCAN_RANDOM_DELAY))
            with self.hands.request(priority=SCAN) as turn:
                yield turn
                yield from self.scan_unless_current()
            fires += SCAN_INTERVAL

    def reevaluation_cycle(self, phase):
        env = self.env
        fires = phase
        while True:
            yield env.timeout(fires - env.now)
            if self.compliant:
                with self.hands.request(priority=SCAN) as turn:
                    yield turn
                    yield from self.scan_unless_current()
                    self.queue(EVALUATED, COMPLIANT)
            fires += REEVALUATION_INTERVAL

    # -- the deployment ----------------------------------------------------

    def lifecycle(self):
        env, site, rng = self.env, self.site, self.rng
        yield self.policy
        yield env.timeout(rng.uniform(*EVALUATION_DELAY))
        with self.hands.request(priority=SCAN) as turn:
            yield turn
            yield from self.scan_unless_current()
            self.queue(EVALUATED, WAITING_FOR_CONTENT, NON_COMPLIANT)

        # Required content is downloaded at once, not at the deadline.
        with self.hands.request(priority=DOWNLOAD) as turn:
            yield turn
            yield from self.scan_unless_current()
            self.queue(UPDATE_DOWNLOADING, DOWNLOADING)
            yield from site.mp_request(LOCATION_TIME)  # content location
            with site.dp.request() as connection:
                yield connection
                rate = min(CLIENT_LINK_BPS, DP_BANDWIDTH_BPS / len(site.dp.users))
                yield env.timeout(UPDATE_BYTES * 8 / rate)
            site.stats["downloads"] += 1
            self.queue(DOWNLOADED)

        if env.now < DEADLINE:
            yield env.timeout(DEADLINE - env.now)
        with self.hands.request(priority=INSTALL) as turn:
            yield turn
            enforcing_since = env.now
            yield from self.scan_unless_current()
            self.queue(UPDATE_INSTALLING, INSTALLING)
            yield env.timeout(INSTALL_TIME)
            site.stats["installs"] += 1
            self.queue(UPDATE_PENDING_RESTART, PENDING_RESTART)
        installed_at = env.now
        env.process(self.install_report())

        yield env.timeout(self.restart_time(enforcing_since, installed_at) - env.now)
        with self.hands.request(priority=RESTART) as turn:
            yield turn
            self.online = False
            yield env.timeout(rng.uniform(*RESTART_DURATION))
            self.online = True
            site.true_compliant_at[self.cid] = env.now
            env.process(self.power_on_poll())
            # The forced offline scan that verifies the install.
            yield env.timeout(self.scan_duration())
            site.stats["scans_offline"] += 1
            self.queue(DETECTED_INSTALLED, SCAN_COMPLETED, EVALUATED, SUCCEEDED, COMPLIANT)
        self.compliant = True

    def restart_time(self, enforcing_since, installed_at):
        """The restart countdown runs from the deadline (when enforcement
        began); the user restarts at the final countdown if ready by then,
        when ready during it, else the restart is forced."""
        final = enforcing_since + RESTART_COUNTDOWN - RESTART_FINAL_COUNTDOWN
        forced = enforcing_since + RESTART_COUNTDOWN
        if installed_at > final:
            final, forced = installed_at, installed_at + RESTART_FINAL_COUNTDOWN
        median, sigma = USER_RESTART_DELAY
        ready = installed_at + self.rng.lognormvariate(math.log(median), sigma)
        if ready <= forced:
            self.site.stats["restarts_by_user"] += 1
            return max(ready, final)
        self.site.stats["restarts_forced"] += 1
        return forced

    def install_report(self):
        """After an install the client sends its state within two minutes."""
        yield self.env.timeout(self.rng.uniform(0, INSTALL_REPORT_WITHIN))
        yield from self.send_batch()

    def power_on_poll(self):
        yield self.env.timeout(self.rng.uniform(*POWER_ON_POLICY_DELAY))
        yield from self.poll()


def hours_to_share(times, share):
    """Hours after creation until `share` of the clients are compliant."""
    ordered = sorted(times)
    k = math.ceil(share * len(ordered)) - 1
    t = ordered[k]
    return (t - CREATED) / HOUR if t != math.inf else None


def share_by(times, instant):
    return sum(1 for t in times if t <= instant) / len(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--days", type=float, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--curve", help="write the per-minute compliance curve to this CSV")
    args = parser.parse_args()

    wall = time.perf_counter()
    rng = random.Random(args.seed)
    env = simpy.Environment()
    site = Site(env, args.clients, rng)
    env.process(site.deployment())
    for cid in range(args.clients):
        Client(env, site, cid, rng)
    built = time.perf_counter() - wall
    env.run(until=args.days * DAY)
    # Every event gets a fresh id when scheduled; those still queued at the
    # end were never processed.
    events = next(env._eid) - len(env._queue)
    wall = time.perf_counter() - wall

    true_at, reported_at = site.true_compliant_at, site.reported_compliant_at
    print(f"plain estate in SimPy {simpy.__version__}: {args.clients} clients, "
          f"{args.days:g} days, seed {args.seed}")
    for view, times in (("true", true_at), ("reported", reported_at)):
        milestones = []
        for pct in (50, 80, 95, 99):
            h = hours_to_share(times, pct / 100)
            milestones.append(f"{pct}% {h:.4f} h" if h is not None else f"{pct}% never")
        print(f"  hours after creation to {view:8}: " + ", ".join(milestones)
              + f"; final {100 * share_by(times, args.days * DAY):.2f}%")
    after = [f"+{m}m {100 * share_by(true_at, DEADLINE + m * MINUTE):.1f}/"
             f"{100 * share_by(reported_at, DEADLINE + m * MINUTE):.1f}"
             for m in (80, 90, 95, 100, 105, 110, 120)]
    print("  compliant % true/reported, minutes after the deadline: " + ", ".join(after))
    print("  " + ", ".join(f"{k} {v}" for k, v in site.stats.items()))
    print(f"  SimPy events processed: {events} ({events / args.clients:.1f} per client)")
    print(f"  wall time: {wall:.2f} s (building the clients {built:.2f} s)")
    if args.curve:
        with open(args.curve, "w") as out:
            out.write("minute,true_pct,reported_pct\n")
            true_sorted, rep_sorted = sorted(true_at), sorted(reported_at)
            for m in range(int(args.days * DAY / MINUTE) + 1):
                t = m * MINUTE
                out.write(f"{m},{100 * bisect.bisect_right(true_sorted, t) / args.clients:.4f},"
                          f"{100 * bisect.bisect_right(rep_sorted, t) / args.clients:.4f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
